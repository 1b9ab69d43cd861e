package revision_test

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fleetdeploy/fleetdeploy/revision"
	"github.com/fleetdeploy/fleetdeploy/revision/revisiontest"
)

var fuzzTypes = []revision.BundleType{revision.BundleZip, revision.BundleTar, revision.BundleTgz, revision.BundleYAML, revision.BundleJSON}

func fuzzKind(typ revision.BundleType) uint8 {
	for i, t := range fuzzTypes {
		if t == typ {
			return uint8(i)
		}
	}
	return 0
}

// FuzzUnpack feeds arbitrary bytes to Unpack as every bundle type. Whatever
// happens, nothing may appear outside dst (no working directory left
// behind either), a failure leaves no dst, and a success holds only files,
// directories and symlinks that stay inside dst, without special mode
// bits. ReadAppSpec must agree with a successful Unpack.
func FuzzUnpack(f *testing.F) {
	type E = revisiontest.Entry
	seeds := []struct {
		typ     revision.BundleType
		entries []E
	}{
		{revision.BundleZip, roundTripEntries},
		{revision.BundleTar, roundTripEntries},
		{revision.BundleTgz, roundTripEntries},
		{revision.BundleTgz, []E{{Name: "app/appspec.yml", Body: "a"}, {Name: "app/x", Mode: fs.ModeSymlink, Link: "appspec.yml"}, {Name: "README", Body: "r"}}},
		{revision.BundleZip, []E{{Name: "../x", Body: "pwned"}}},
		{revision.BundleZip, []E{{Name: `..\x`, Body: "pwned"}, {Name: "C:/x"}}},
		{revision.BundleTar, []E{{Name: "/abs", Body: "pwned"}}},
		{revision.BundleTar, []E{{Name: "l", Mode: fs.ModeSymlink, Link: "../.."}, {Name: "l/x", Body: "pwned"}}},
		{revision.BundleTar, []E{{Name: "a", Mode: fs.ModeSymlink, Link: "."}, {Name: "b", Mode: fs.ModeSymlink, Link: "a/.."}}},
		{revision.BundleTar, []E{{Name: "d/", Mode: fs.ModeDir}, {Name: "u", Mode: fs.ModeSymlink, Link: "d"}, {Name: "d/e", Mode: fs.ModeSymlink, Link: "../u/../.."}}},
		{revision.BundleTar, []E{{Name: "f", Body: "x"}, {Name: "h", HardLink: true, Link: "f"}, {Name: "h2", HardLink: true, Link: "../f"}}},
		{revision.BundleTgz, []E{{Name: "p", Mode: fs.ModeNamedPipe}, {Name: "c", Mode: fs.ModeDevice | fs.ModeCharDevice}}},
		{revision.BundleZip, []E{{Name: "a", Body: "1"}, {Name: "a", Body: "2"}}},
		{revision.BundleYAML, []E{{Name: "appspec.yaml", Body: "version: 0.0\n"}}},
		{revision.BundleJSON, []E{{Name: "appspec.json", Body: `{"version": 0.0}`}}},
	}
	for _, s := range seeds {
		data := build(f, s.typ, s.entries...)
		f.Add(fuzzKind(s.typ), data)
		if len(data) > 16 {
			f.Add(fuzzKind(s.typ), data[:len(data)/2]) // truncated
		}
	}
	f.Add(fuzzKind(revision.BundleZip), zipBomb(f, 2, 100))

	limits := revision.ExtractLimits{MaxBytes: 1 << 20, MaxFiles: 200, MaxFileBytes: 1 << 20}
	withLimits := func(o *revision.UnpackOptions) { o.Limits = limits }
	f.Fuzz(func(t *testing.T, kind uint8, data []byte) {
		typ := fuzzTypes[int(kind)%len(fuzzTypes)]
		s := newSandbox(t)
		res, err := revision.Unpack(t.Context(), streamBundle(typ, data), s.dst, withLimits)
		s.checkOutside(t)
		if err != nil {
			var xe *revision.ExtractError
			if !errors.As(err, &xe) {
				t.Fatalf("Unpack error is not an *ExtractError: %v", err)
			}
			if _, statErr := os.Lstat(s.dst); !errors.Is(statErr, fs.ErrNotExist) {
				t.Fatalf("dst exists after Unpack failed with %v", err)
			}
			return
		}
		checkContained(t, s.dst)

		name, content, rerr := revision.ReadAppSpec(t.Context(), streamBundle(typ, data), withLimits)
		switch {
		case res.AppSpec == "":
			if !errors.Is(rerr, revision.ErrAppSpecNotFound) {
				t.Fatalf("Unpack found no AppSpec, ReadAppSpec = %q, %v", name, rerr)
			}
		case rerr != nil:
			t.Fatalf("Unpack found %s, ReadAppSpec failed: %v", res.AppSpec, rerr)
		default:
			onDisk, err := os.ReadFile(filepath.Join(s.dst, filepath.FromSlash(res.AppSpec)))
			if err != nil || !bytes.Equal(onDisk, content) || filepath.Base(name) != filepath.Base(res.AppSpec) {
				t.Fatalf("ReadAppSpec = %q (%d bytes), Unpack wrote %s (%d bytes, %v)", name, len(content), res.AppSpec, len(onDisk), err)
			}
		}
	})
}

// checkContained walks an unpacked tree: only files, directories and
// symlinks, no setuid/setgid/sticky bits, every symlink leading inside dir.
func checkContained(t *testing.T, dir string) {
	t.Helper()
	realDir, err := filepath.EvalSymlinks(dir)
	if err != nil {
		t.Fatal(err)
	}
	inside := func(p string) bool {
		return p == realDir || strings.HasPrefix(p, realDir+string(filepath.Separator))
	}
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		mode := fi.Mode()
		if mode&(fs.ModeSetuid|fs.ModeSetgid|fs.ModeSticky) != 0 {
			t.Errorf("%s has mode %v", p, mode)
		}
		switch mode.Type() {
		case 0, fs.ModeDir:
		case fs.ModeSymlink:
			target, _ := os.Readlink(p)
			if filepath.IsAbs(target) {
				t.Errorf("symlink %s -> %s is absolute", p, target)
			}
			lexical := filepath.Join(filepath.Dir(p), target)
			if rel, err := filepath.Rel(dir, lexical); err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
				t.Errorf("symlink %s -> %s leads outside %s", p, target, dir)
			}
			if resolved, err := filepath.EvalSymlinks(p); err == nil && !inside(resolved) {
				t.Errorf("symlink %s resolves to %s, outside %s", p, resolved, dir)
			}
		default:
			t.Errorf("%s has mode %v", p, mode)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

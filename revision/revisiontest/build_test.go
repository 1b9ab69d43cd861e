package revisiontest_test

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"io"
	"io/fs"
	"testing"

	"github.com/fleetdeploy/fleetdeploy/revision"
	"github.com/fleetdeploy/fleetdeploy/revision/revisiontest"
)

// TestBuildDeterministic: the same files build the same bytes, so identity
// (eTag, SHA-256) is stable across test runs.
func TestBuildDeterministic(t *testing.T) {
	files := map[string]string{"b": "2", "a": "1", "c/d": "3"}
	for name, fn := range map[string]func(map[string]string) ([]byte, error){"zip": revisiontest.Zip, "tar": revisiontest.Tar, "tgz": revisiontest.Tgz} {
		x, err1 := fn(files)
		y, err2 := fn(files)
		if err1 != nil || err2 != nil || !bytes.Equal(x, y) {
			t.Errorf("%s: two builds differ (%v, %v)", name, err1, err2)
		}
	}
}

// TestBuildTar: entries are written with the kinds, names and modes given,
// hostile names included (read back with archive/tar, not with package
// revision).
func TestBuildTar(t *testing.T) {
	data, err := revisiontest.Build(revision.BundleTar,
		revisiontest.Entry{Name: "../escape", Body: "x"},
		revisiontest.Entry{Name: "bin/run", Body: "#!", Mode: 0o755},
		revisiontest.Entry{Name: "link", Mode: fs.ModeSymlink, Link: "/etc"},
		revisiontest.Entry{Name: "hard", HardLink: true, Link: "bin/run"},
		revisiontest.Entry{Name: "dir", Mode: fs.ModeDir},
		revisiontest.Entry{Name: "fifo", Mode: fs.ModeNamedPipe},
	)
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		name string
		typ  byte
		mode int64
		link string
	}{
		{"../escape", tar.TypeReg, 0o644, ""}, {"bin/run", tar.TypeReg, 0o755, ""}, {"link", tar.TypeSymlink, 0o777, "/etc"},
		{"hard", tar.TypeLink, 0o644, "bin/run"}, {"dir", tar.TypeDir, 0o755, ""}, {"fifo", tar.TypeFifo, 0o644, ""},
	}
	tr := tar.NewReader(bytes.NewReader(data))
	for i, w := range want {
		hdr, err := tr.Next()
		if err != nil {
			t.Fatalf("entry %d: %v", i, err)
		}
		if hdr.Name != w.name || hdr.Typeflag != w.typ || hdr.Mode != w.mode || hdr.Linkname != w.link {
			t.Errorf("entry %d = %q type %q mode %o link %q; want %+v", i, hdr.Name, hdr.Typeflag, hdr.Mode, hdr.Linkname, w)
		}
	}
	if _, err := tr.Next(); err != io.EOF {
		t.Errorf("after the entries: %v, want io.EOF", err)
	}
}

// TestBuildZip: symlinks are stored as zip symlinks (the target as data).
func TestBuildZip(t *testing.T) {
	data, err := revisiontest.Build(revision.BundleZip,
		revisiontest.Entry{Name: `..\x`, Body: "x"},
		revisiontest.Entry{Name: "l", Mode: fs.ModeSymlink, Link: "target"},
		revisiontest.Entry{Name: "d", Mode: fs.ModeDir},
	)
	if err != nil {
		t.Fatal(err)
	}
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	if len(zr.File) != 3 || zr.File[0].Name != `..\x` || zr.File[1].Mode()&fs.ModeSymlink == 0 || zr.File[2].Name != "d/" {
		t.Fatalf("zip members: %v", zr.File)
	}
	rc, _ := zr.File[1].Open()
	target, _ := io.ReadAll(rc)
	if string(target) != "target" {
		t.Errorf("symlink target = %q", target)
	}
}

func TestBuildErrors(t *testing.T) {
	for name, tc := range map[string]struct {
		typ     revision.BundleType
		entries []revisiontest.Entry
	}{
		"zip hard link":        {revision.BundleZip, []revisiontest.Entry{{Name: "h", HardLink: true, Link: "f"}}},
		"YAML with two files":  {revision.BundleYAML, []revisiontest.Entry{{Name: "a"}, {Name: "b"}}},
		"JSON with a symlink":  {revision.BundleJSON, []revisiontest.Entry{{Name: "a", Mode: fs.ModeSymlink}}},
		"Dir in memory":        {revision.BundleDir, nil},
		"tar name with NUL":    {revision.BundleTar, []revisiontest.Entry{{Name: "a\x00b"}}},
		"tar socket":           {revision.BundleTar, []revisiontest.Entry{{Name: "s", Mode: fs.ModeSocket}}},
		"unknown bundle type":  {"rar", nil},
		"tgz with a bad entry": {revision.BundleTgz, []revisiontest.Entry{{Name: "s", Mode: fs.ModeSocket}}},
	} {
		if _, err := revisiontest.Build(tc.typ, tc.entries...); err == nil {
			t.Errorf("%s: Build succeeded", name)
		}
	}
}

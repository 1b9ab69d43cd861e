package revision_test

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fleetdeploy/fleetdeploy/revision"
	"github.com/fleetdeploy/fleetdeploy/revision/revisiontest"
)

func newLocal(t *testing.T, opts ...func(*revision.LocalOptions)) *revision.LocalSource {
	t.Helper()
	src, err := revision.NewLocalSource(opts...)
	if err != nil {
		t.Fatal(err)
	}
	return src
}

// writeTree writes files (slash path -> content) below dir.
func writeTree(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for p, c := range files {
		full := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

var localOtherTypes = []revision.LocationType{revision.LocationS3, revision.LocationGitHub, revision.LocationAppSpecContent}

func TestLocalSourceConformance(t *testing.T) {
	var n atomic.Int64
	archive := func(typ revision.BundleType, ext string) func(t *testing.T) (revision.Source, revisiontest.Fixture) {
		return func(t *testing.T) (revision.Source, revisiontest.Fixture) {
			dir := t.TempDir()
			return newLocal(t), revisiontest.Fixture{
				Put: func(t *testing.T, files map[string]string) revision.Location {
					p := filepath.Join(dir, fmt.Sprintf("bundle-%d%s", n.Add(1), ext))
					if err := os.WriteFile(p, build(t, typ, revisiontest.Files(files)...), 0o644); err != nil {
						t.Fatal(err)
					}
					return local(p, "", "")
				},
				Missing:     func(t *testing.T) revision.Location { return local(filepath.Join(dir, "missing.zip"), "", "") },
				Unsupported: localOtherTypes,
			}
		}
	}
	t.Run("zip", func(t *testing.T) { revisiontest.TestSource(t, archive(revision.BundleZip, ".zip")) })
	t.Run("tar.gz", func(t *testing.T) { revisiontest.TestSource(t, archive(revision.BundleTgz, ".tar.gz")) })
	t.Run("Dir", func(t *testing.T) {
		revisiontest.TestSource(t, func(t *testing.T) (revision.Source, revisiontest.Fixture) {
			dir := t.TempDir()
			return newLocal(t), revisiontest.Fixture{
				Put: func(t *testing.T, files map[string]string) revision.Location {
					p := filepath.Join(dir, fmt.Sprintf("rev-%d", n.Add(1)))
					writeTree(t, p, files)
					return local(p, "", "")
				},
				Missing: func(t *testing.T) revision.Location {
					return local(filepath.Join(dir, "missing"), revision.BundleDir, "")
				},
				Unsupported: localOtherTypes,
			}
		})
	})
	t.Run("Root", func(t *testing.T) {
		revisiontest.TestSource(t, func(t *testing.T) (revision.Source, revisiontest.Fixture) {
			root := t.TempDir()
			return newLocal(t, func(o *revision.LocalOptions) { o.Root = root }), revisiontest.Fixture{
				Put: func(t *testing.T, files map[string]string) revision.Location {
					name := fmt.Sprintf("releases/r%d.tar", n.Add(1))
					os.MkdirAll(filepath.Join(root, "releases"), 0o755)
					if err := os.WriteFile(filepath.Join(root, name), build(t, revision.BundleTar, revisiontest.Files(files)...), 0o644); err != nil {
						t.Fatal(err)
					}
					return local(name, "", "")
				},
				Missing:     func(t *testing.T) revision.Location { return local("releases/none.tar", "", "") },
				Unsupported: localOtherTypes,
			}
		})
	})
}

func TestContentSourceConformance(t *testing.T) {
	revisiontest.TestSource(t, func(t *testing.T) (revision.Source, revisiontest.Fixture) {
		return revision.ContentSource{}, revisiontest.Fixture{
			Put: func(t *testing.T, files map[string]string) revision.Location {
				return content(files["appspec.yaml"], "")
			},
			AppSpecOnly: true,
			Unsupported: []revision.LocationType{revision.LocationS3, revision.LocationGitHub, revision.LocationLocal},
		}
	})
}

// TestLocalSourceTypes: the bundle type comes from bundleType, else from
// the path (a directory is Dir, a file by its extension).
func TestLocalSourceTypes(t *testing.T) {
	dir := t.TempDir()
	zipData := build(t, revision.BundleZip, revisiontest.Entry{Name: "appspec.yml", Body: "v"})
	for name, data := range map[string][]byte{
		"a.zip": zipData, "a.bin": zipData, "appspec.yml": []byte("v"), "appspec.json": []byte("{}"),
	} {
		os.WriteFile(filepath.Join(dir, name), data, 0o644)
	}
	os.Mkdir(filepath.Join(dir, "tree"), 0o755)
	src := newLocal(t)
	for _, tc := range []struct {
		path    string
		bt      revision.BundleType
		want    revision.BundleType
		wantErr error
	}{
		{path: "a.zip", want: revision.BundleZip},
		{path: "a.bin", bt: revision.BundleZip, want: revision.BundleZip},
		{path: "appspec.yml", want: revision.BundleYAML},
		{path: "appspec.json", want: revision.BundleJSON},
		{path: "tree", want: revision.BundleDir},
		{path: "tree", bt: revision.BundleDir, want: revision.BundleDir},
		{path: "a.bin", wantErr: revision.ErrInvalidLocation},
		{path: "tree", bt: revision.BundleZip, wantErr: revision.ErrInvalidLocation},
		{path: "a.zip", bt: revision.BundleDir, wantErr: revision.ErrInvalidLocation},
		{path: "nothing.zip", wantErr: revision.ErrRevisionNotFound},
	} {
		b, err := src.Open(t.Context(), local(filepath.Join(dir, tc.path), tc.bt, ""))
		if tc.wantErr != nil {
			if !errors.Is(err, tc.wantErr) {
				t.Errorf("Open(%s, %q): err = %v, want %v", tc.path, tc.bt, err, tc.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("Open(%s, %q): %v", tc.path, tc.bt, err)
			continue
		}
		if b.Type != tc.want || b.Location.Local.BundleType != tc.want {
			t.Errorf("Open(%s, %q): type %q (resolved %q), want %q", tc.path, tc.bt, b.Type, b.Location.Local.BundleType, tc.want)
		}
		b.Close()
	}
}

// TestLocalSourceSHA256: a file's identity hash is the SHA-256 of its
// bytes (see "Identity" in the package documentation); a pinned hash that
// differs is refused.
func TestLocalSourceSHA256(t *testing.T) {
	data := build(t, revision.BundleTgz, revisiontest.Entry{Name: "appspec.yml", Body: "version: 0.0\n"})
	p := filepath.Join(t.TempDir(), "app.tgz")
	os.WriteFile(p, data, 0o644)
	sum := sha256.Sum256(data)
	want := hex.EncodeToString(sum[:])
	src := newLocal(t)

	b, err := src.Open(t.Context(), local(p, "", ""))
	if err != nil {
		t.Fatal(err)
	}
	if b.Location.Local.SHA256 != want {
		t.Errorf("resolved sha256 = %s, want %s", b.Location.Local.SHA256, want)
	}
	// The body is rewound after hashing: the whole bundle is still there.
	if got, _ := io.ReadAll(b.Body); len(got) != len(data) {
		t.Errorf("body after Open holds %d bytes, want %d", len(got), len(data))
	}
	b.Close()

	b, err = src.Open(t.Context(), local(p, "", strings.ToUpper(want)))
	if err != nil {
		t.Errorf("Open pinned to its own hash: %v", err)
	}
	b.Close()
	if _, err := src.Open(t.Context(), local(p, "", sha("something else"))); !errors.Is(err, revision.ErrChecksumMismatch) {
		t.Errorf("Open pinned to another hash: err = %v, want ErrChecksumMismatch", err)
	}
}

// TestLocalSourceDirHash: a directory's hash covers paths, modes, contents
// and symlink targets, and nothing else (not times, not where it lives).
func TestLocalSourceDirHash(t *testing.T) {
	files := map[string]string{"appspec.yml": "version: 0.0\n", "web/index.html": "hi\n", "scripts/start.sh": "#!/bin/sh\n"}
	src := newLocal(t)
	hash := func(dir string) string {
		t.Helper()
		b, err := src.Open(t.Context(), local(dir, "", ""))
		if err != nil {
			t.Fatal(err)
		}
		b.Close()
		return b.Location.Local.SHA256
	}
	base := t.TempDir()
	mk := func(name string) string {
		dir := filepath.Join(base, name)
		writeTree(t, dir, files)
		os.Symlink("index.html", filepath.Join(dir, "web", "current"))
		return dir
	}
	ref := hash(mk("ref"))

	same := mk("same")
	old := time.Date(2001, 1, 1, 0, 0, 0, 0, time.UTC)
	os.Chtimes(filepath.Join(same, "appspec.yml"), old, old)
	if got := hash(same); got != ref {
		t.Errorf("same tree elsewhere, other times: hash %s, want %s", got, ref)
	}
	for name, change := range map[string]func(dir string){
		"content":      func(d string) { os.WriteFile(filepath.Join(d, "web", "index.html"), []byte("ho\n"), 0o644) },
		"mode":         func(d string) { os.Chmod(filepath.Join(d, "scripts", "start.sh"), 0o755) },
		"empty dir":    func(d string) { os.Mkdir(filepath.Join(d, "logs"), 0o755) },
		"renamed file": func(d string) { os.Rename(filepath.Join(d, "web", "index.html"), filepath.Join(d, "web", "main.html")) },
		"symlink target": func(d string) {
			os.Remove(filepath.Join(d, "web", "current"))
			os.Symlink("main.html", filepath.Join(d, "web", "current"))
		},
	} {
		d := mk("changed-" + strings.ReplaceAll(name, " ", "-"))
		change(d)
		if got := hash(d); got == ref {
			t.Errorf("changing the %s left the hash unchanged", name)
		}
	}
}

// TestLocalSourceRoot: with Root, paths stay inside it.
func TestLocalSourceRoot(t *testing.T) {
	base := t.TempDir()
	root := filepath.Join(base, "root")
	writeTree(t, root, map[string]string{"app/appspec.yml": "v"})
	writeTree(t, base, map[string]string{"secret/appspec.yml": "s"})
	os.Symlink("../secret", filepath.Join(root, "escape"))
	src := newLocal(t, func(o *revision.LocalOptions) { o.Root = root })

	b, err := src.Open(t.Context(), local("app", "", ""))
	if err != nil {
		t.Fatalf("Open inside the root: %v", err)
	}
	b.Close()
	for _, p := range []string{"../secret", filepath.Join(base, "secret")} {
		if _, err := src.Open(t.Context(), local(p, "", "")); !errors.Is(err, revision.ErrInvalidLocation) {
			t.Errorf("Open(%q): err = %v, want ErrInvalidLocation", p, err)
		}
	}
	if b, err := src.Open(t.Context(), local("escape", "", "")); err == nil {
		b.Close()
		t.Errorf("Open through a symlink out of the root succeeded")
	}
	if _, err := revision.NewLocalSource(func(o *revision.LocalOptions) { o.Root = filepath.Join(base, "none") }); err == nil {
		t.Errorf("NewLocalSource with a missing root succeeded")
	}
}

// TestLocalSourceDirBundleUnpack: a Dir bundle with a symlink out of the
// bundle can be opened (the source only hashes it) but not unpacked.
func TestLocalSourceDirBundleUnpack(t *testing.T) {
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{"appspec.yml": "v"})
	os.Symlink("/etc/passwd", filepath.Join(dir, "passwd"))
	b, err := newLocal(t).Open(t.Context(), local(dir, "", ""))
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	s := newSandbox(t)
	_, err = revision.Unpack(t.Context(), b, s.dst)
	checkRefused(t, err, revision.ErrUnsafePath, "passwd", "is absolute")
	s.checkOutside(t)
}

// TestContentSource: inline AppSpec content (API Reference, AppSpecContent),
// JSON told by its first non-space byte.
func TestContentSource(t *testing.T) {
	for _, tc := range []struct {
		content string
		want    revision.BundleType
		file    string
	}{
		{"version: 0.0\nResources: []\n", revision.BundleYAML, "appspec.yaml"},
		{"  \n\t{\"version\": 0.0}", revision.BundleJSON, "appspec.json"},
		{"\ufeff{\"version\": 0.0}", revision.BundleJSON, "appspec.json"},
		{"# {comment}\nversion: 0.0\n", revision.BundleYAML, "appspec.yaml"},
	} {
		b, err := revision.ContentSource{}.Open(t.Context(), content(tc.content, ""))
		if err != nil {
			t.Fatalf("Open(%q): %v", tc.content, err)
		}
		if b.Type != tc.want || b.Location.AppSpecContent.SHA256 != sha(tc.content) || len(b.Env) != 0 {
			t.Errorf("Open(%q) = type %s, sha256 %s, env %v; want %s, %s, none", tc.content, b.Type, b.Location.AppSpecContent.SHA256, b.Env, tc.want, sha(tc.content))
		}
		s := newSandbox(t)
		res, err := revision.Unpack(t.Context(), b, s.dst)
		if err != nil || res.AppSpec != tc.file || readFiles(t, s.dst)[tc.file] != tc.content {
			t.Errorf("Unpack(%q) = %+v, %v; want %s holding the content", tc.content, res, err, tc.file)
		}
	}
	if _, err := (revision.ContentSource{}).Open(t.Context(), content("version: 0.0\n", sha("x"))); !errors.Is(err, revision.ErrInvalidLocation) {
		t.Errorf("Open with a wrong sha256: err = %v, want ErrInvalidLocation", err)
	}
}

// TestLocalSourceMissingMessage: the error for a missing bundle names the
// package once and says what is missing.
func TestLocalSourceMissingMessage(t *testing.T) {
	path := filepath.Join(t.TempDir(), "nothing.zip")
	_, err := newLocal(t).Open(t.Context(), local(path, "", ""))
	if !errors.Is(err, revision.ErrRevisionNotFound) || !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("Open of a missing bundle: %v; want ErrRevisionNotFound and fs.ErrNotExist", err)
	}
	want := fmt.Sprintf("revision: local bundle %q: revision not found: ", path)
	if msg := err.Error(); !strings.HasPrefix(msg, want) || strings.Count(msg, "revision: ") != 1 {
		t.Errorf("message %q; want it to start %q and name the package once", msg, want)
	}
}

// TestSourceMessagesNameThePackageOnce: a checksum mismatch and an
// unsupported location type read as one message of package revision.
func TestSourceMessagesNameThePackageOnce(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "appspec.yml")
	if err := os.WriteFile(path, []byte("v"), 0o644); err != nil {
		t.Fatal(err)
	}
	src := newLocal(t)
	_, err := src.Open(t.Context(), local(path, "", sha("other")))
	if !errors.Is(err, revision.ErrChecksumMismatch) || strings.Count(err.Error(), "revision: ") != 1 ||
		!strings.HasSuffix(err.Error(), ": bundle does not match the checksum its location pins") {
		t.Errorf("checksum mismatch: %v; want ErrChecksumMismatch, package named once", err)
	}
	_, err = src.Open(t.Context(), content("version: 0.0", ""))
	if !errors.Is(err, revision.ErrUnsupportedLocation) || strings.Count(err.Error(), "revision: ") != 1 ||
		!strings.HasSuffix(err.Error(), "(it serves Local): unsupported revision location type") {
		t.Errorf("unsupported type: %v; want ErrUnsupportedLocation, package named once", err)
	}
}

package revision_test

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/flate"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/fleetdeploy/fleetdeploy/revision"
	"github.com/fleetdeploy/fleetdeploy/revision/revisiontest"
)

// build makes a bundle in memory or fails the test.
func build(t testing.TB, typ revision.BundleType, entries ...revisiontest.Entry) []byte {
	t.Helper()
	data, err := revisiontest.Build(typ, entries...)
	if err != nil {
		t.Fatalf("building a %s bundle: %v", typ, err)
	}
	return data
}

// streamBundle wraps data as a plain stream, so a zip must be spooled.
func streamBundle(typ revision.BundleType, data []byte) *revision.Bundle {
	return &revision.Bundle{Type: typ, Body: io.NopCloser(bytes.NewReader(data))}
}

// readerAtBody keeps io.ReaderAt and Size, so a zip is read in place.
type readerAtBody struct{ *bytes.Reader }

func (readerAtBody) Close() error { return nil }

func inPlaceBundle(typ revision.BundleType, data []byte) *revision.Bundle {
	return &revision.Bundle{Type: typ, Body: readerAtBody{bytes.NewReader(data)}}
}

// sandbox is a temporary tree with dst three levels down, so that escapes
// of up to three ".." land where the test can see them.
type sandbox struct{ root, dst string }

func newSandbox(t *testing.T) sandbox {
	t.Helper()
	root := t.TempDir()
	base := filepath.Join(root, "a", "b", "c")
	if err := os.MkdirAll(base, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "canary"), []byte("canary"), 0o644); err != nil {
		t.Fatal(err)
	}
	return sandbox{root: root, dst: filepath.Join(base, "dst")}
}

// checkOutside fails unless the sandbox outside dst is exactly as created.
func (s sandbox) checkOutside(t *testing.T) {
	t.Helper()
	var got []string
	err := filepath.WalkDir(s.root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p == s.dst {
			return filepath.SkipDir
		}
		if p != s.root {
			rel, _ := filepath.Rel(s.root, p)
			got = append(got, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"a", "a/b", "a/b/c", "canary"}
	if !slices.Equal(got, want) {
		t.Errorf("outside the destination the sandbox holds %q, want %q", got, want)
	}
	if data, err := os.ReadFile(filepath.Join(s.root, "canary")); err != nil || string(data) != "canary" {
		t.Errorf("canary file changed: %q, %v", data, err)
	}
}

// readFiles returns every regular file (content), symlink ("-> target") and
// directory ("dir") below dir, by slash path.
func readFiles(t *testing.T, dir string) map[string]string {
	t.Helper()
	got := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == dir {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		rel = filepath.ToSlash(rel)
		switch {
		case d.Type()&fs.ModeSymlink != 0:
			target, err := os.Readlink(p)
			got[rel] = "-> " + target
			return err
		case d.IsDir():
			got[rel] = "dir"
		default:
			data, err := os.ReadFile(p)
			got[rel] = string(data)
			return err
		}
		return nil
	})
	if err != nil {
		t.Fatalf("reading %s: %v", dir, err)
	}
	return got
}

func perm(t *testing.T, p string) fs.FileMode {
	t.Helper()
	fi, err := os.Lstat(p)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Mode().Perm()
}

// roundTripEntries is a bundle with every kind of member a real bundle has.
var roundTripEntries = []revisiontest.Entry{
	{Name: "appspec.yml", Body: "version: 0.0\nos: linux\n"},
	{Name: "scripts/", Mode: fs.ModeDir | 0o755},
	{Name: "scripts/start.sh", Body: "#!/bin/sh\necho start\n", Mode: 0o755},
	{Name: "web/index.html", Body: "<h1>hello</h1>\n"},
	{Name: "web/current", Mode: fs.ModeSymlink, Link: "index.html"},
	{Name: "web/up", Mode: fs.ModeSymlink, Link: "../scripts"},
	{Name: "config/secret.conf", Body: "token=1\n", Mode: 0o600},
	{Name: "shared.txt", Body: "shared\n", Mode: 0o666},
	{Name: "empty/", Mode: fs.ModeDir | 0o700},
}

var roundTripWant = map[string]string{
	"appspec.yml":        "version: 0.0\nos: linux\n",
	"scripts":            "dir",
	"scripts/start.sh":   "#!/bin/sh\necho start\n",
	"web":                "dir",
	"web/index.html":     "<h1>hello</h1>\n",
	"web/current":        "-> index.html",
	"web/up":             "-> ../scripts",
	"config":             "dir",
	"config/secret.conf": "token=1\n",
	"shared.txt":         "shared\n",
	"empty":              "dir",
}

func checkRoundTrip(t *testing.T, dst string, want map[string]string) {
	t.Helper()
	got := readFiles(t, dst)
	for _, k := range slices.Sorted(mapsKeys(want)) {
		if got[k] != want[k] {
			t.Errorf("%s = %q, want %q", k, got[k], want[k])
		}
	}
	for _, k := range slices.Sorted(mapsKeys(got)) {
		if _, ok := want[k]; !ok {
			t.Errorf("unexpected %s = %q", k, got[k])
		}
	}
	// Permission bits are kept without group/other write (umask 022).
	for p, m := range map[string]fs.FileMode{
		"scripts/start.sh": 0o755, "web/index.html": 0o644, "config/secret.conf": 0o600,
		"shared.txt": 0o644, "empty": 0o700, "scripts": 0o755,
	} {
		if _, ok := want[p]; ok {
			if got := perm(t, filepath.Join(dst, p)); got != m {
				t.Errorf("mode of %s = %v, want %v", p, got, m)
			}
		}
	}
}

func mapsKeys(m map[string]string) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// TestUnpackRoundTrip: every bundle type (API Reference, S3Location
// bundleType) unpacks to its files.
func TestUnpackRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		name   string
		bundle func(t *testing.T) *revision.Bundle
	}{
		{"zip in place", func(t *testing.T) *revision.Bundle {
			return inPlaceBundle(revision.BundleZip, build(t, revision.BundleZip, roundTripEntries...))
		}},
		{"zip stream", func(t *testing.T) *revision.Bundle {
			return streamBundle(revision.BundleZip, build(t, revision.BundleZip, roundTripEntries...))
		}},
		{"tar", func(t *testing.T) *revision.Bundle {
			return streamBundle(revision.BundleTar, build(t, revision.BundleTar, roundTripEntries...))
		}},
		{"tgz", func(t *testing.T) *revision.Bundle {
			return streamBundle(revision.BundleTgz, build(t, revision.BundleTgz, roundTripEntries...))
		}},
		{"Dir", func(t *testing.T) *revision.Bundle {
			src := filepath.Join(t.TempDir(), "src")
			if _, err := revision.Unpack(t.Context(), streamBundle(revision.BundleTar, build(t, revision.BundleTar, roundTripEntries...)), src); err != nil {
				t.Fatal(err)
			}
			return &revision.Bundle{Type: revision.BundleDir, Dir: src}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newSandbox(t)
			res, err := revision.Unpack(t.Context(), tc.bundle(t), s.dst)
			if err != nil {
				t.Fatalf("Unpack: %v", err)
			}
			checkRoundTrip(t, s.dst, roundTripWant)
			// 23+21+15+8+7 bytes of regular files.
			if res.AppSpec != "appspec.yml" || res.StrippedDir != "" || res.Bytes != 74 {
				t.Errorf("result = %+v, want AppSpec appspec.yml, nothing stripped, 74 bytes", res)
			}
			if got := perm(t, s.dst); got != 0o755 {
				t.Errorf("mode of dst = %v, want 0755", got)
			}
			s.checkOutside(t)
		})
	}
}

// TestUnpackBareAppSpec: YAML and JSON bundles (Lambda, ECS)
// are written as appspec.yaml and appspec.json.
func TestUnpackBareAppSpec(t *testing.T) {
	for _, tc := range []struct {
		typ     revision.BundleType
		content string
		file    string
	}{
		{revision.BundleYAML, "version: 0.0\nResources: []\n", "appspec.yaml"},
		{revision.BundleJSON, `{"version": 0.0, "Resources": []}`, "appspec.json"},
	} {
		s := newSandbox(t)
		res, err := revision.Unpack(t.Context(), streamBundle(tc.typ, []byte(tc.content)), s.dst)
		if err != nil {
			t.Fatalf("Unpack(%s): %v", tc.typ, err)
		}
		if got := readFiles(t, s.dst); len(got) != 1 || got[tc.file] != tc.content {
			t.Errorf("Unpack(%s) wrote %q, want only %s", tc.typ, got, tc.file)
		}
		if res.AppSpec != tc.file {
			t.Errorf("Unpack(%s).AppSpec = %q, want %q", tc.typ, res.AppSpec, tc.file)
		}
	}
}

// TestUnpackHardLink: a tar hard link to an earlier file is recreated.
func TestUnpackHardLink(t *testing.T) {
	s := newSandbox(t)
	data := build(t, revision.BundleTar,
		revisiontest.Entry{Name: "lib/a.so", Body: "ELF"},
		revisiontest.Entry{Name: "lib/b.so", HardLink: true, Link: "lib/a.so"})
	if _, err := revision.Unpack(t.Context(), streamBundle(revision.BundleTar, data), s.dst); err != nil {
		t.Fatal(err)
	}
	a, _ := os.Stat(filepath.Join(s.dst, "lib/a.so"))
	b, err := os.Stat(filepath.Join(s.dst, "lib/b.so"))
	if err != nil || !os.SameFile(a, b) {
		t.Errorf("lib/b.so is not a hard link to lib/a.so (%v)", err)
	}
}

// TestUnpackStripsSpecialBits: setuid, setgid and sticky bits are dropped.
func TestUnpackStripsSpecialBits(t *testing.T) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	tw.WriteHeader(&tar.Header{Name: "suid", Mode: 0o4777, Size: 1, Typeflag: tar.TypeReg})
	tw.Write([]byte("x"))
	tw.WriteHeader(&tar.Header{Name: "dir/", Mode: 0o3777, Typeflag: tar.TypeDir})
	tw.Close()
	s := newSandbox(t)
	if _, err := revision.Unpack(t.Context(), streamBundle(revision.BundleTar, buf.Bytes()), s.dst); err != nil {
		t.Fatal(err)
	}
	for p, want := range map[string]fs.FileMode{"suid": 0o755, "dir": fs.ModeDir | 0o755} {
		fi, err := os.Lstat(filepath.Join(s.dst, p))
		if err != nil || fi.Mode() != want {
			t.Errorf("mode of %s = %v (%v), want %v", p, fi.Mode(), err, want)
		}
	}
}

// TestUnpackSingleTopDir: the CodeDeploy agent's nested-AppSpec rule
// (command_executor.rb).
func TestUnpackSingleTopDir(t *testing.T) {
	for _, tc := range []struct {
		name      string
		entries   []revisiontest.Entry
		stripped  string
		discarded []string
		appspec   string
		want      []string // paths expected in dst
	}{
		{
			name: "one top directory holding the AppSpec is stripped",
			entries: []revisiontest.Entry{
				{Name: "app/appspec.yml", Body: "a"}, {Name: "app/scripts/start.sh", Body: "s"},
			},
			stripped: "app", appspec: "appspec.yml",
			want: []string{"appspec.yml", "scripts", "scripts/start.sh"},
		},
		{
			name: "other root entries are discarded, as the agent does (macOS zip)",
			entries: []revisiontest.Entry{
				{Name: "app/appspec.yaml", Body: "a"}, {Name: "__MACOSX/app/._appspec.yaml", Body: "m"}, {Name: "README.md", Body: "r"},
			},
			stripped: "app", discarded: []string{"README.md", "__MACOSX"}, appspec: "appspec.yaml",
			want: []string{"appspec.yaml"},
		},
		{
			name: "an AppSpec at the root wins",
			entries: []revisiontest.Entry{
				{Name: "appspec.yml", Body: "root"}, {Name: "app/appspec.yml", Body: "nested"},
			},
			appspec: "appspec.yml",
			want:    []string{"app", "app/appspec.yml", "appspec.yml"},
		},
		{
			name: "two nested AppSpec files: nothing stripped",
			entries: []revisiontest.Entry{
				{Name: "a/appspec.yml", Body: "a"}, {Name: "b/appspec.yml", Body: "b"},
			},
			want: []string{"a", "a/appspec.yml", "b", "b/appspec.yml"},
		},
		{
			name: "two AppSpec files in the one directory: nothing stripped",
			entries: []revisiontest.Entry{
				{Name: "app/appspec.yml", Body: "a"}, {Name: "app/appspec.yaml", Body: "b"},
			},
			want: []string{"app", "app/appspec.yaml", "app/appspec.yml"},
		},
		{
			name:    "hidden directories are not looked in",
			entries: []revisiontest.Entry{{Name: ".git/appspec.yml", Body: "a"}},
			want:    []string{".git", ".git/appspec.yml"},
		},
		{
			name:    "only one level is looked in",
			entries: []revisiontest.Entry{{Name: "app/sub/appspec.yml", Body: "a"}},
			want:    []string{"app", "app/sub", "app/sub/appspec.yml"},
		},
		{
			name: "JSON AppSpec counts (Lambda, ECS)",
			entries: []revisiontest.Entry{
				{Name: "fn/appspec.json", Body: "{}"},
			},
			stripped: "fn", appspec: "appspec.json",
			want: []string{"appspec.json"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, typ := range []revision.BundleType{revision.BundleZip, revision.BundleTgz} {
				s := newSandbox(t)
				res, err := revision.Unpack(t.Context(), streamBundle(typ, build(t, typ, tc.entries...)), s.dst)
				if err != nil {
					t.Fatalf("%s: Unpack: %v", typ, err)
				}
				if res.StrippedDir != tc.stripped || !slices.Equal(res.Discarded, tc.discarded) || res.AppSpec != tc.appspec {
					t.Errorf("%s: result = %+v, want StrippedDir %q, Discarded %q, AppSpec %q", typ, res, tc.stripped, tc.discarded, tc.appspec)
				}
				got := slices.Sorted(mapsKeys(readFiles(t, s.dst)))
				if !slices.Equal(got, tc.want) {
					t.Errorf("%s: dst holds %q, want %q", typ, got, tc.want)
				}
				s.checkOutside(t)
			}
		})
	}
}

// TestUnpackGitHubTarball: a tarball as GitHub serves it (pax global
// header with the commit, one top directory) unpacks with the top stripped.
func TestUnpackGitHubTarball(t *testing.T) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	tw.WriteHeader(&tar.Header{Typeflag: tar.TypeXGlobalHeader, Name: "pax_global_header", PAXRecords: map[string]string{"comment": "0123456789abcdef0123456789abcdef01234567"}})
	tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: "acme-web-0123456/", Mode: 0o775})
	tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: "acme-web-0123456/appspec.yml", Mode: 0o664, Size: 4})
	tw.Write([]byte("v: 0"))
	tw.Close()
	s := newSandbox(t)
	res, err := revision.Unpack(t.Context(), streamBundle(revision.BundleTar, buf.Bytes()), s.dst)
	if err != nil {
		t.Fatal(err)
	}
	if got := readFiles(t, s.dst); len(got) != 1 || got["appspec.yml"] != "v: 0" || res.StrippedDir != "acme-web-0123456" {
		t.Errorf("dst = %q, result %+v; want appspec.yml from the stripped top directory", got, res)
	}
}

// zerosDeflate returns a raw deflate stream of n MiB of zeros without
// ever holding them: one flushed, self-contained chunk of 1 MiB of zeros
// repeated, then an empty final block.
func zerosDeflate(t testing.TB, mib int) []byte {
	var chunk bytes.Buffer
	fw, _ := flate.NewWriter(&chunk, flate.BestCompression)
	fw.Write(make([]byte, 1<<20))
	fw.Flush()
	var final bytes.Buffer
	fw2, _ := flate.NewWriter(&final, flate.BestCompression)
	fw2.Close()
	return append(bytes.Repeat(chunk.Bytes(), mib), final.Bytes()...)
}

// zipBomb is a zip with one entry of mib MiB of zeros whose header
// declares declared bytes.
func zipBomb(t testing.TB, mib int, declared uint64) []byte {
	t.Helper()
	raw := zerosDeflate(t, mib)
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, err := zw.CreateRaw(&zip.FileHeader{Name: "bomb.bin", Method: zip.Deflate, CompressedSize64: uint64(len(raw)), UncompressedSize64: declared})
	if err != nil {
		t.Fatal(err)
	}
	w.Write(raw)
	zw.Close()
	return buf.Bytes()
}

// floodTar is a tar of n entries, all the same directory header, served
// block by block from one 512-byte header so that memory stays small and
// only counting can stop it.
func floodTar(t testing.TB, n int) io.ReadCloser {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: "d/", Mode: 0o755}); err != nil {
		t.Fatal(err)
	}
	tw.Flush()
	return &repeatReader{block: buf.Bytes(), n: n, end: make([]byte, 1024)}
}

type repeatReader struct {
	block []byte
	n     int    // blocks left
	off   int    // offset in the current block
	end   []byte // what follows the last block
}

func (r *repeatReader) Read(p []byte) (int, error) {
	if r.n == 0 {
		if len(r.end) == 0 {
			return 0, io.EOF
		}
		n := copy(p, r.end)
		r.end = r.end[n:]
		return n, nil
	}
	n := copy(p, r.block[r.off:])
	if r.off += n; r.off == len(r.block) {
		r.off, r.n = 0, r.n-1
	}
	return n, nil
}

func (r *repeatReader) Close() error { return nil }

// TestUnpackHostile: bundles that try to escape or exhaust the host are
// refused with the sentinel of the rule, nothing is written outside dst,
// and dst is not created.
func TestUnpackHostile(t *testing.T) {
	type E = revisiontest.Entry
	tgz := func(es ...E) func(t *testing.T, s sandbox) (revision.BundleType, []byte) {
		return func(t *testing.T, s sandbox) (revision.BundleType, []byte) {
			return revision.BundleTgz, build(t, revision.BundleTgz, es...)
		}
	}
	zipOf := func(es ...E) func(t *testing.T, s sandbox) (revision.BundleType, []byte) {
		return func(t *testing.T, s sandbox) (revision.BundleType, []byte) {
			return revision.BundleZip, build(t, revision.BundleZip, es...)
		}
	}
	truncate := func(typ revision.BundleType, cut func(n int) int) func(t *testing.T, s sandbox) (revision.BundleType, []byte) {
		return func(t *testing.T, s sandbox) (revision.BundleType, []byte) {
			data := build(t, typ, revisiontest.Files(map[string]string{"appspec.yml": "version: 0.0\n", "big.txt": strings.Repeat("abcdefgh", 4096)})...)
			return typ, data[:cut(len(data))]
		}
	}
	small := revision.ExtractLimits{MaxBytes: 1 << 10, MaxFiles: 10, MaxFileBytes: 1 << 10}
	for _, tc := range []struct {
		name   string
		bundle func(t *testing.T, s sandbox) (revision.BundleType, []byte)
		limits revision.ExtractLimits
		want   error
		entry  string // the ExtractError's Entry, when the error names one
		reason string // a piece of the message
		// zipContent: the damage is inside a zip member that ReadAppSpec
		// does not decompress (the bundle has no AppSpec).
		zipContent bool
	}{
		// Paths (ErrUnsafePath).
		{name: "zip slip", bundle: zipOf(E{Name: "appspec.yml"}, E{Name: "../x", Body: "pwned"}),
			want: revision.ErrUnsafePath, entry: "../x", reason: "path escapes the destination"},
		{name: "deep slip", bundle: tgz(E{Name: "a/../../../x", Body: "pwned"}),
			want: revision.ErrUnsafePath, entry: "a/../../../x", reason: "path escapes the destination"},
		{name: "backslash slip", bundle: zipOf(E{Name: `..\..\x`, Body: "pwned"}),
			want: revision.ErrUnsafePath, entry: `..\..\x`, reason: "path escapes the destination"},
		{name: "inner dot-dot", bundle: tgz(E{Name: "a/../x", Body: "pwned"}),
			want: revision.ErrUnsafePath, entry: "a/../x", reason: `".." element`},
		{name: "absolute path", bundle: func(t *testing.T, s sandbox) (revision.BundleType, []byte) {
			return revision.BundleTar, build(t, revision.BundleTar, E{Name: filepath.ToSlash(filepath.Join(s.root, "abs")), Body: "pwned"})
		}, want: revision.ErrUnsafePath, reason: "path is absolute"},
		{name: "drive letter", bundle: zipOf(E{Name: `C:\Windows\x`, Body: "pwned"}),
			want: revision.ErrUnsafePath, entry: `C:\Windows\x`, reason: "drive letter"},
		{name: "UNC path", bundle: zipOf(E{Name: `\\server\share\x`, Body: "pwned"}),
			want: revision.ErrUnsafePath, reason: "path is absolute"},
		{name: "NUL in name", bundle: zipOf(E{Name: "a\x00b", Body: "x"}),
			want: revision.ErrUnsafePath, reason: "NUL"},
		{name: "empty name", bundle: zipOf(E{Name: "", Body: "x"}),
			want: revision.ErrUnsafePath, reason: "empty name"},
		// Symlinks.
		{name: "symlink outside then a file through it", bundle: tgz(E{Name: "out", Mode: fs.ModeSymlink, Link: "../../.."}, E{Name: "out/x", Body: "pwned"}),
			want: revision.ErrUnsafePath, entry: "out", reason: "points outside the destination"},
		{name: "symlink to an absolute path", bundle: tgz(E{Name: "etc", Mode: fs.ModeSymlink, Link: "/etc"}, E{Name: "etc/passwd", Body: "pwned"}),
			want: revision.ErrUnsafePath, entry: "etc", reason: "is absolute"},
		{name: "zip symlink to an absolute path", bundle: zipOf(E{Name: "etc", Mode: fs.ModeSymlink, Link: "/etc"}),
			want: revision.ErrUnsafePath, entry: "etc", reason: "is absolute"},
		{name: "file through an inside symlink", bundle: tgz(E{Name: "real/", Mode: fs.ModeDir}, E{Name: "lnk", Mode: fs.ModeSymlink, Link: "real"}, E{Name: "lnk/x", Body: "x"}),
			want: revision.ErrUnsafePath, entry: "lnk/x", reason: `goes through the symlink "lnk"`},
		{name: "symlink chain resolving outside", bundle: tgz(E{Name: "a", Mode: fs.ModeSymlink, Link: "."}, E{Name: "b", Mode: fs.ModeSymlink, Link: "a/.."}),
			want: revision.ErrUnsafePath, entry: "b", reason: "resolves outside the destination"},
		{name: "symlink chain through a directory link", bundle: tgz(E{Name: "d/e/", Mode: fs.ModeDir}, E{Name: "up", Mode: fs.ModeSymlink, Link: "d/e"}, E{Name: "d/esc", Mode: fs.ModeSymlink, Link: "../up/../../.."}),
			want: revision.ErrUnsafePath, entry: "d/esc", reason: "outside the destination"},
		{name: "symlink loop", bundle: tgz(E{Name: "a", Mode: fs.ModeSymlink, Link: "b"}, E{Name: "b", Mode: fs.ModeSymlink, Link: "a"}),
			want: revision.ErrUnsafePath, reason: "loops"},
		{name: "symlink escaping once its top directory is stripped", bundle: tgz(E{Name: "app/appspec.yml", Body: "a"}, E{Name: "app/link", Mode: fs.ModeSymlink, Link: "../app/appspec.yml"}),
			want: revision.ErrUnsafePath, entry: "app/link", reason: "resolves outside the destination"},
		{name: "symlink with a backslash target", bundle: tgz(E{Name: "l", Mode: fs.ModeSymlink, Link: `..\..\x`}),
			want: revision.ErrUnsafePath, entry: "l", reason: "backslash"},
		// Hard links.
		{name: "hard link outside", bundle: tgz(E{Name: "h", HardLink: true, Link: "../../etc/passwd"}),
			want: revision.ErrUnsafePath, entry: "h", reason: "hard link target"},
		{name: "hard link to an absolute path", bundle: tgz(E{Name: "h", HardLink: true, Link: "/etc/passwd"}),
			want: revision.ErrUnsafePath, entry: "h", reason: "path is absolute"},
		{name: "hard link to a directory", bundle: tgz(E{Name: "d/", Mode: fs.ModeDir}, E{Name: "h", HardLink: true, Link: "d"}),
			want: revision.ErrUnsafePath, entry: "h", reason: "not a regular file earlier in the bundle"},
		{name: "hard link to a later file", bundle: tgz(E{Name: "h", HardLink: true, Link: "f"}, E{Name: "f", Body: "x"}),
			want: revision.ErrUnsafePath, entry: "h", reason: "not a regular file earlier in the bundle"},
		// Special files.
		{name: "character device", bundle: tgz(E{Name: "null", Mode: fs.ModeDevice | fs.ModeCharDevice}),
			want: revision.ErrUnsafePath, entry: "null", reason: "device"},
		{name: "block device", bundle: tgz(E{Name: "sda", Mode: fs.ModeDevice}),
			want: revision.ErrUnsafePath, entry: "sda", reason: "device"},
		{name: "FIFO", bundle: tgz(E{Name: "pipe", Mode: fs.ModeNamedPipe}),
			want: revision.ErrUnsafePath, entry: "pipe", reason: "FIFO"},
		{name: "zip FIFO", bundle: zipOf(E{Name: "pipe", Mode: fs.ModeNamedPipe}),
			want: revision.ErrUnsafePath, entry: "pipe", reason: "FIFO"},
		// Duplicates.
		{name: "duplicate file", bundle: zipOf(E{Name: "a.txt", Body: "1"}, E{Name: "a.txt", Body: "2"}),
			want: revision.ErrUnsafePath, entry: "a.txt", reason: "duplicate entry"},
		{name: "duplicate after cleaning", bundle: tgz(E{Name: "a.txt", Body: "1"}, E{Name: "./a.txt", Body: "2"}),
			want: revision.ErrUnsafePath, entry: "./a.txt", reason: "duplicate entry"},
		{name: "symlink replaced by a file", bundle: tgz(E{Name: "a", Mode: fs.ModeSymlink, Link: "b"}, E{Name: "a", Body: "x"}),
			want: revision.ErrUnsafePath, entry: "a", reason: "duplicate entry"},
		{name: "file then directory", bundle: tgz(E{Name: "a", Body: "x"}, E{Name: "a/", Mode: fs.ModeDir}),
			want: revision.ErrUnsafePath, entry: "a/", reason: "duplicate entry"},
		{name: "path through a file", bundle: tgz(E{Name: "a", Body: "x"}, E{Name: "a/b", Body: "y"}),
			want: revision.ErrUnsafePath, entry: "a/b", reason: "not a directory"},
		// Bombs and floods (ErrLimitExceeded).
		{name: "zip bomb, 2 GiB of zeros, default limits", bundle: func(t *testing.T, s sandbox) (revision.BundleType, []byte) {
			return revision.BundleZip, zipBomb(t, 2048, 2<<30)
		}, want: revision.ErrLimitExceeded, entry: "bomb.bin", reason: "MaxFileBytes"},
		{name: "zip bomb whose header lies", bundle: func(t *testing.T, s sandbox) (revision.BundleType, []byte) {
			return revision.BundleZip, zipBomb(t, 64, 100)
		}, want: revision.ErrCorruptBundle, entry: "bomb.bin", zipContent: true},
		{name: "zip bomb over a small limit", bundle: func(t *testing.T, s sandbox) (revision.BundleType, []byte) {
			return revision.BundleZip, zipBomb(t, 4, 4<<20)
		}, limits: small, want: revision.ErrLimitExceeded, entry: "bomb.bin"},
		{name: "files over MaxBytes, counted as read", bundle: tgz(E{Name: "a", Body: strings.Repeat("a", 600)}, E{Name: "b", Body: strings.Repeat("b", 600)}),
			limits: small, want: revision.ErrLimitExceeded, entry: "b", reason: "MaxBytes"},
		{name: "one file over MaxFileBytes", bundle: tgz(E{Name: "a", Body: strings.Repeat("a", 2000)}),
			limits: revision.ExtractLimits{MaxFileBytes: 1000}, want: revision.ErrLimitExceeded, entry: "a", reason: "MaxFileBytes"},
		{name: "more entries than MaxFiles", bundle: tgz(func() []E {
			var es []E
			for i := range 11 {
				es = append(es, E{Name: fmt.Sprintf("f%02d", i), Body: "x"})
			}
			return es
		}()...), limits: small, want: revision.ErrLimitExceeded, entry: "f10", reason: "more than 10 entries"},
		{name: "zip central directory with more entries than MaxFiles", bundle: func(t *testing.T, s sandbox) (revision.BundleType, []byte) {
			var buf bytes.Buffer
			zw := zip.NewWriter(&buf)
			for i := range 1001 {
				zw.CreateHeader(&zip.FileHeader{Name: fmt.Sprintf("f%06d", i), Method: zip.Store})
			}
			zw.Close()
			return revision.BundleZip, buf.Bytes()
		}, limits: revision.ExtractLimits{MaxFiles: 1000}, want: revision.ErrLimitExceeded, reason: "1001 entries, more than 1000"},
		// Damage (ErrCorruptBundle).
		{name: "truncated tgz", bundle: truncate(revision.BundleTgz, func(n int) int { return n / 2 }), want: revision.ErrCorruptBundle},
		{name: "tgz without its gzip trailer", bundle: truncate(revision.BundleTgz, func(n int) int { return n - 4 }), want: revision.ErrCorruptBundle},
		{name: "truncated tar", bundle: truncate(revision.BundleTar, func(n int) int { return n / 2 }), want: revision.ErrCorruptBundle},
		{name: "tar cut between entries", bundle: truncate(revision.BundleTar, func(n int) int { return n - 1024 }),
			want: revision.ErrCorruptBundle, reason: "end-of-archive marker"},
		{name: "truncated zip", bundle: truncate(revision.BundleZip, func(n int) int { return n - 10 }), want: revision.ErrCorruptBundle, reason: "not a zip archive"},
		{name: "damaged zip data", bundle: func(t *testing.T, s sandbox) (revision.BundleType, []byte) {
			data := build(t, revision.BundleZip, E{Name: "f.txt", Body: strings.Repeat("hello, world ", 100)})
			zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
			if err != nil {
				t.Fatal(err)
			}
			off, _ := zr.File[0].DataOffset()
			data[off+2] ^= 0xff // inside the compressed data of the only entry
			return revision.BundleZip, data
		}, want: revision.ErrCorruptBundle, entry: "f.txt", zipContent: true},
		{name: "not gzip", bundle: func(t *testing.T, s sandbox) (revision.BundleType, []byte) {
			return revision.BundleTgz, []byte("plain text")
		}, want: revision.ErrCorruptBundle, reason: "not a gzip stream"},
		{name: "empty tar", bundle: func(t *testing.T, s sandbox) (revision.BundleType, []byte) {
			return revision.BundleTar, nil
		}, want: revision.ErrCorruptBundle},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newSandbox(t)
			typ, data := tc.bundle(t, s)
			_, err := revision.Unpack(t.Context(), streamBundle(typ, data), s.dst, func(o *revision.UnpackOptions) { o.Limits = tc.limits })
			checkRefused(t, err, tc.want, tc.entry, tc.reason)
			if _, statErr := os.Lstat(s.dst); !errors.Is(statErr, fs.ErrNotExist) {
				t.Errorf("dst exists after a failed Unpack (%v)", statErr)
			}
			s.checkOutside(t)

			// ReadAppSpec refuses the same bundles.
			_, _, err = revision.ReadAppSpec(t.Context(), streamBundle(typ, data), func(o *revision.UnpackOptions) {
				o.Limits, o.TempDir = tc.limits, t.TempDir()
			})
			want := tc.want
			if tc.zipContent {
				want = revision.ErrAppSpecNotFound
			}
			if !errors.Is(err, want) {
				t.Errorf("ReadAppSpec: err = %v, want %v", err, want)
			}
		})
	}
}

func checkRefused(t *testing.T, err, want error, entry, reason string) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("err = %v, want %v", err, want)
	}
	var xe *revision.ExtractError
	if !errors.As(err, &xe) {
		t.Fatalf("err = %v (%T), want an *ExtractError", err, err)
	}
	if entry != "" && xe.Entry != entry {
		t.Errorf("ExtractError.Entry = %q, want %q (err: %v)", xe.Entry, entry, err)
	}
	if !strings.HasPrefix(err.Error(), "revision: bundle") || !strings.Contains(err.Error(), reason) {
		t.Errorf("message %q does not start with \"revision: bundle\" and name the rule %q", err, reason)
	}
}

// TestUnpackErrorMessage: errors name the entry and the rule.
func TestUnpackErrorMessage(t *testing.T) {
	data := build(t, revision.BundleZip, revisiontest.Entry{Name: "../../etc/passwd", Body: "x"})
	_, err := revision.Unpack(t.Context(), streamBundle(revision.BundleZip, data), filepath.Join(t.TempDir(), "dst"))
	const want = `revision: bundle entry "../../etc/passwd": path escapes the destination`
	if err == nil || err.Error() != want {
		t.Errorf("err = %v, want %s", err, want)
	}
}

// TestUnpackDefaultMaxFiles: a stream of more entries than the default
// MaxFiles is stopped by counting, even when every entry is harmless.
func TestUnpackDefaultMaxFiles(t *testing.T) {
	s := newSandbox(t)
	body := floodTar(t, revision.DefaultMaxFiles+1)
	_, err := revision.Unpack(t.Context(), &revision.Bundle{Type: revision.BundleTar, Body: body}, s.dst)
	checkRefused(t, err, revision.ErrLimitExceeded, "d/", "more than 100000 entries")
	s.checkOutside(t)
}

// TestUnpackDestination: dst must not exist, or be an empty directory; a
// failure leaves an existing dst as it was.
func TestUnpackDestination(t *testing.T) {
	good := build(t, revision.BundleZip, revisiontest.Entry{Name: "appspec.yml", Body: "v"})
	bad := build(t, revision.BundleZip, revisiontest.Entry{Name: "appspec.yml", Body: "v"}, revisiontest.Entry{Name: "../x"})

	t.Run("empty directory is replaced", func(t *testing.T) {
		dst := t.TempDir()
		if _, err := revision.Unpack(t.Context(), streamBundle(revision.BundleZip, good), dst); err != nil {
			t.Fatal(err)
		}
		if got := readFiles(t, dst); got["appspec.yml"] != "v" {
			t.Errorf("dst = %q", got)
		}
	})
	t.Run("empty directory survives a failure", func(t *testing.T) {
		dst := t.TempDir()
		if _, err := revision.Unpack(t.Context(), streamBundle(revision.BundleZip, bad), dst); !errors.Is(err, revision.ErrUnsafePath) {
			t.Fatalf("err = %v", err)
		}
		if fi, err := os.Stat(dst); err != nil || !fi.IsDir() || len(readFiles(t, dst)) != 0 {
			t.Errorf("dst changed: %v %v", fi, err)
		}
	})
	t.Run("non-empty directory is refused", func(t *testing.T) {
		dst := t.TempDir()
		os.WriteFile(filepath.Join(dst, "keep"), []byte("k"), 0o644)
		if _, err := revision.Unpack(t.Context(), streamBundle(revision.BundleZip, good), dst); !errors.Is(err, fs.ErrExist) {
			t.Fatalf("err = %v, want fs.ErrExist", err)
		}
		if got := readFiles(t, dst); len(got) != 1 || got["keep"] != "k" {
			t.Errorf("dst changed: %q", got)
		}
	})
	t.Run("file is refused", func(t *testing.T) {
		dst := filepath.Join(t.TempDir(), "f")
		os.WriteFile(dst, []byte("k"), 0o644)
		if _, err := revision.Unpack(t.Context(), streamBundle(revision.BundleZip, good), dst); !errors.Is(err, fs.ErrExist) {
			t.Fatalf("err = %v, want fs.ErrExist", err)
		}
	})
	t.Run("missing parent", func(t *testing.T) {
		dst := filepath.Join(t.TempDir(), "no", "dst")
		if _, err := revision.Unpack(t.Context(), streamBundle(revision.BundleZip, good), dst); !errors.Is(err, fs.ErrNotExist) {
			t.Fatalf("err = %v, want fs.ErrNotExist", err)
		}
	})
	t.Run("trailing separator", func(t *testing.T) {
		dst := filepath.Join(t.TempDir(), "dst") + string(filepath.Separator)
		if _, err := revision.Unpack(t.Context(), streamBundle(revision.BundleZip, good), dst); err != nil {
			t.Fatal(err)
		}
		if got := readFiles(t, dst); got["appspec.yml"] != "v" {
			t.Errorf("dst = %q", got)
		}
	})
	t.Run("inside the Dir bundle it copies", func(t *testing.T) {
		src := t.TempDir()
		writeTree(t, src, map[string]string{"appspec.yml": "v"})
		if _, err := revision.Unpack(t.Context(), &revision.Bundle{Type: revision.BundleDir, Dir: src}, filepath.Join(src, "copy")); err == nil {
			t.Fatal("Unpack into its own Dir bundle succeeded")
		}
		if got := readFiles(t, src); len(got) != 1 {
			t.Errorf("bundle directory changed: %q", got)
		}
	})
	t.Run("nil bundle", func(t *testing.T) {
		s := newSandbox(t)
		if _, err := revision.Unpack(t.Context(), nil, s.dst); err == nil {
			t.Fatal("Unpack(nil) succeeded")
		}
		s.checkOutside(t)
	})
	t.Run("Body and Dir mismatch", func(t *testing.T) {
		s := newSandbox(t)
		if _, err := revision.Unpack(t.Context(), &revision.Bundle{Type: revision.BundleDir, Body: io.NopCloser(strings.NewReader(""))}, s.dst); err == nil {
			t.Fatal("Unpack of a Dir bundle with a Body succeeded")
		}
		s.checkOutside(t)
	})
}

// cancelAfter cancels ctx once n bytes have been read through it.
type cancelAfter struct {
	r      io.Reader
	n      int
	cancel context.CancelFunc
}

func (c *cancelAfter) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n -= n
	if c.n <= 0 {
		c.cancel()
	}
	return n, err
}

func (c *cancelAfter) Close() error { return nil }

// TestUnpackCancelled: a done context stops Unpack and leaves nothing.
func TestUnpackCancelled(t *testing.T) {
	files := map[string]string{}
	for i := range 50 {
		files[fmt.Sprintf("dir/f%02d", i)] = strings.Repeat("x", 1000)
	}
	data := build(t, revision.BundleTar, revisiontest.Files(files)...)

	s := newSandbox(t)
	ctx, cancel := context.WithCancel(t.Context())
	body := &cancelAfter{r: bytes.NewReader(data), n: len(data) / 2, cancel: cancel}
	_, err := revision.Unpack(ctx, &revision.Bundle{Type: revision.BundleTar, Body: body}, s.dst)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if _, err := os.Lstat(s.dst); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("dst exists after a cancelled Unpack")
	}
	s.checkOutside(t)

	if _, err := revision.Unpack(ctx, streamBundle(revision.BundleTar, data), s.dst); !errors.Is(err, context.Canceled) {
		t.Errorf("Unpack with a done context: err = %v, want context.Canceled", err)
	}
}

// TestReadAppSpec: the agent's AppSpec lookup without unpacking.
func TestReadAppSpec(t *testing.T) {
	type E = revisiontest.Entry
	for _, tc := range []struct {
		name     string
		typ      revision.BundleType
		data     []byte
		wantName string
		want     string
		wantErr  error
	}{
		{name: "bare YAML", typ: revision.BundleYAML, data: []byte("version: 0.0\n"), wantName: "appspec.yaml", want: "version: 0.0\n"},
		{name: "bare JSON", typ: revision.BundleJSON, data: []byte(`{"version":0.0}`), wantName: "appspec.json", want: `{"version":0.0}`},
		{name: "zip root", typ: revision.BundleZip, data: build(t, revision.BundleZip, E{Name: "web/x", Body: "x"}, E{Name: "appspec.yml", Body: "yml"}),
			wantName: "appspec.yml", want: "yml"},
		{name: "appspec.yaml before appspec.yml", typ: revision.BundleTgz, data: build(t, revision.BundleTgz, E{Name: "appspec.yml", Body: "yml"}, E{Name: "appspec.yaml", Body: "yaml"}),
			wantName: "appspec.yaml", want: "yaml"},
		{name: "appspec.yml before appspec.json", typ: revision.BundleZip, data: build(t, revision.BundleZip, E{Name: "appspec.json", Body: "json"}, E{Name: "appspec.yml", Body: "yml"}),
			wantName: "appspec.yml", want: "yml"},
		{name: "single top directory", typ: revision.BundleTgz, data: build(t, revision.BundleTgz, E{Name: "app/appspec.yml", Body: "nested"}, E{Name: "README", Body: "r"}),
			wantName: "app/appspec.yml", want: "nested"},
		{name: "none", typ: revision.BundleZip, data: build(t, revision.BundleZip, E{Name: "index.html", Body: "x"}),
			wantErr: revision.ErrAppSpecNotFound},
		{name: "two nested", typ: revision.BundleZip, data: build(t, revision.BundleZip, E{Name: "a/appspec.yml"}, E{Name: "b/appspec.yml"}),
			wantErr: revision.ErrAppSpecNotFound},
		{name: "symlink is not an AppSpec", typ: revision.BundleTgz, data: build(t, revision.BundleTgz, E{Name: "real.yml", Body: "x"}, E{Name: "appspec.yml", Mode: fs.ModeSymlink, Link: "real.yml"}),
			wantErr: revision.ErrAppSpecNotFound},
		{name: "larger than MaxAppSpecSize", typ: revision.BundleYAML, data: bytes.Repeat([]byte("#"), revision.MaxAppSpecSize+1),
			wantErr: revision.ErrLimitExceeded},
	} {
		t.Run(tc.name, func(t *testing.T) {
			name, content, err := revision.ReadAppSpec(t.Context(), streamBundle(tc.typ, tc.data))
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("err = %v, want %v", err, tc.wantErr)
				}
				return
			}
			if err != nil || name != tc.wantName || string(content) != tc.want {
				t.Errorf("ReadAppSpec = %q, %q, %v; want %q, %q", name, content, err, tc.wantName, tc.want)
			}
		})
	}
}

// TestReadAppSpecDir: a Dir bundle is read in place, unchanged.
func TestReadAppSpecDir(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "proj", "scripts"), 0o755)
	os.WriteFile(filepath.Join(dir, "proj", "appspec.yml"), []byte("version: 0.0\n"), 0o644)
	b := &revision.Bundle{Type: revision.BundleDir, Dir: dir}
	name, content, err := revision.ReadAppSpec(t.Context(), b)
	if err != nil || name != "proj/appspec.yml" || string(content) != "version: 0.0\n" {
		t.Errorf("ReadAppSpec = %q, %q, %v", name, content, err)
	}
}

// ExampleReadAppSpec reads the AppSpec of a Lambda bundle without
// unpacking it.
func ExampleReadAppSpec() {
	data, _ := revisiontest.Zip(map[string]string{
		"appspec.yaml": "version: 0.0\nResources: []\n",
	})
	b := &revision.Bundle{Type: revision.BundleZip, Body: io.NopCloser(bytes.NewReader(data))}
	name, content, err := revision.ReadAppSpec(context.Background(), b)
	fmt.Println(name, err)
	fmt.Print(string(content))
	// Output:
	// appspec.yaml <nil>
	// version: 0.0
	// Resources: []
}

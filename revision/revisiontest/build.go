package revisiontest

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"fmt"
	"io/fs"
	"slices"
	"strings"
	"time"

	"github.com/fleetdeploy/fleetdeploy/revision"
)

// Entry is one member of a bundle built by Build. Names are written exactly
// as given, so tests can build hostile archives ("../x", "/etc/x", `..\x`,
// duplicates).
type Entry struct {
	// Name is the member's name in the archive.
	Name string
	// Body is a regular file's content.
	Body string
	// Mode's type bits pick the kind of member: none for a regular file,
	// fs.ModeDir, fs.ModeSymlink (target in Link), fs.ModeNamedPipe, or
	// fs.ModeDevice (plus fs.ModeCharDevice for a character device). Zero
	// permission bits mean 0644 for files, 0755 for directories and 0777
	// for symlinks.
	Mode fs.FileMode
	// Link is a symlink's target or, with HardLink, the name of the earlier
	// member a hard link points to.
	Link string
	// HardLink makes the member a hard link to Link (tar and tgz only).
	HardLink bool
}

// buildTime is the modification time of every member, so that the same
// entries always build the same bytes (and the same S3 eTag).
func buildTime() time.Time { return time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC) }

// Files returns regular-file entries for files (path -> content), sorted
// by path.
func Files(files map[string]string) []Entry {
	es := make([]Entry, 0, len(files))
	for name, body := range files {
		es = append(es, Entry{Name: name, Body: body})
	}
	slices.SortFunc(es, func(a, b Entry) int { return strings.Compare(a.Name, b.Name) })
	return es
}

// Zip builds a zip bundle holding files (path -> content).
func Zip(files map[string]string) ([]byte, error) { return Build(revision.BundleZip, Files(files)...) }

// Tar builds a tar bundle holding files (path -> content).
func Tar(files map[string]string) ([]byte, error) { return Build(revision.BundleTar, Files(files)...) }

// Tgz builds a gzip-compressed tar bundle holding files (path -> content).
func Tgz(files map[string]string) ([]byte, error) { return Build(revision.BundleTgz, Files(files)...) }

// Build builds a bundle of type typ from entries, in order. For zip, tar and
// tgz it writes an archive; for YAML and JSON, entries must be a single
// regular file, whose Body is the bundle. Dir bundles live on disk, not in
// memory: Build fails for them. Hard links exist only in tar and tgz.
func Build(typ revision.BundleType, entries ...Entry) ([]byte, error) {
	switch typ {
	case revision.BundleZip:
		return buildZip(entries)
	case revision.BundleTar:
		return buildTar(entries)
	case revision.BundleTgz:
		t, err := buildTar(entries)
		if err != nil {
			return nil, err
		}
		var buf bytes.Buffer
		zw := gzip.NewWriter(&buf)
		zw.Write(t)
		if err := zw.Close(); err != nil {
			return nil, fmt.Errorf("revisiontest: gzip: %w", err)
		}
		return buf.Bytes(), nil
	case revision.BundleYAML, revision.BundleJSON:
		if len(entries) != 1 || entries[0].Mode.Type() != 0 || entries[0].HardLink {
			return nil, fmt.Errorf("revisiontest: a %s bundle is exactly one regular file, not %d entries", typ, len(entries))
		}
		return []byte(entries[0].Body), nil
	}
	return nil, fmt.Errorf("revisiontest: cannot build a %q bundle in memory", typ)
}

func (e Entry) perm() fs.FileMode {
	if p := e.Mode.Perm(); p != 0 {
		return p
	}
	switch e.Mode.Type() {
	case fs.ModeDir:
		return 0o755
	case fs.ModeSymlink:
		return 0o777
	}
	return 0o644
}

func buildZip(entries []Entry) ([]byte, error) {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, e := range entries {
		if e.HardLink {
			return nil, fmt.Errorf("revisiontest: entry %q: zip archives have no hard links", e.Name)
		}
		fh := &zip.FileHeader{Name: e.Name, Method: zip.Deflate, Modified: buildTime()}
		body := e.Body
		switch e.Mode.Type() {
		case fs.ModeDir:
			fh.Method = zip.Store
			if !strings.HasSuffix(fh.Name, "/") {
				fh.Name += "/"
			}
		case fs.ModeSymlink:
			body = e.Link
		}
		fh.SetMode(e.Mode.Type() | e.perm())
		w, err := zw.CreateHeader(fh)
		if err != nil {
			return nil, fmt.Errorf("revisiontest: entry %q: %w", e.Name, err)
		}
		if _, err := w.Write([]byte(body)); err != nil {
			return nil, fmt.Errorf("revisiontest: entry %q: %w", e.Name, err)
		}
	}
	if err := zw.Close(); err != nil {
		return nil, fmt.Errorf("revisiontest: zip: %w", err)
	}
	return buf.Bytes(), nil
}

func buildTar(entries []Entry) ([]byte, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		hdr := &tar.Header{Name: e.Name, Mode: int64(e.perm()), ModTime: buildTime()}
		switch t := e.Mode.Type(); {
		case e.HardLink:
			hdr.Typeflag, hdr.Linkname = tar.TypeLink, e.Link
		case t == 0:
			hdr.Typeflag, hdr.Size = tar.TypeReg, int64(len(e.Body))
		case t == fs.ModeDir:
			hdr.Typeflag = tar.TypeDir
		case t == fs.ModeSymlink:
			hdr.Typeflag, hdr.Linkname = tar.TypeSymlink, e.Link
		case t == fs.ModeNamedPipe:
			hdr.Typeflag = tar.TypeFifo
		case t&fs.ModeCharDevice != 0:
			hdr.Typeflag, hdr.Devmajor, hdr.Devminor = tar.TypeChar, 1, 3
		case t&fs.ModeDevice != 0:
			hdr.Typeflag, hdr.Devmajor, hdr.Devminor = tar.TypeBlock, 8, 0
		default:
			return nil, fmt.Errorf("revisiontest: entry %q: cannot write mode %v to a tar", e.Name, t)
		}
		if err := tw.WriteHeader(hdr); err != nil {
			return nil, fmt.Errorf("revisiontest: entry %q: %w", e.Name, err)
		}
		if hdr.Typeflag == tar.TypeReg {
			if _, err := tw.Write([]byte(e.Body)); err != nil {
				return nil, fmt.Errorf("revisiontest: entry %q: %w", e.Name, err)
			}
		}
	}
	if err := tw.Close(); err != nil {
		return nil, fmt.Errorf("revisiontest: tar: %w", err)
	}
	return buf.Bytes(), nil
}

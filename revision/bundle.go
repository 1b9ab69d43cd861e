package revision

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"strings"
)

// Bundle is an opened revision: its content, as a stream or a directory,
// and the resolved location it came from. A Source returns it; the caller
// must Close it.
//
// Exactly one of Body and Dir is set: Dir when Type is BundleDir, Body
// otherwise. A Body can be consumed once (by Unpack, ReadAppSpec or the
// caller); a Dir bundle can be read any number of times.
type Bundle struct {
	// Type is the bundle's format.
	Type BundleType

	// Location is the resolved location: the location that was opened, with
	// what the Source learned filled in (an S3 object's version and eTag, a
	// local bundle's SHA-256 and type, inline content's SHA-256). Its Key is
	// the revision's identity (see "Identity" in the package documentation);
	// opening Location again names the same revision.
	Location Location

	// Env holds the bundle environment variables that the CodeDeploy agent
	// (command_executor.rb in aws/aws-codedeploy-agent) adds to every hook's
	// environment: BUNDLE_BUCKET, BUNDLE_KEY, BUNDLE_VERSION (only when
	// versioned) and BUNDLE_ETAG for S3, BUNDLE_COMMIT for GitHub; none for
	// other types. See BundleEnv.
	Env map[string]string

	// Body is the bundle's bytes (archive or bare AppSpec). Nil for Dir.
	// If it also implements io.ReaderAt and has a Size() int64 or
	// Stat() (fs.FileInfo, error) method (as *os.File and *bytes.Reader
	// do), a zip bundle is read in place instead of being spooled to a
	// temporary file.
	Body io.ReadCloser

	// Dir is the directory holding an unpacked bundle. Empty unless Type
	// is BundleDir.
	Dir string

	closed bool
}

// Close releases the bundle's Body. It is safe to call more than once and
// on a nil *Bundle; only the first call closes.
func (b *Bundle) Close() error {
	if b == nil || b.closed {
		return nil
	}
	b.closed = true
	if b.Body != nil {
		return b.Body.Close()
	}
	return nil
}

// BundleEnv returns the bundle environment variables the CodeDeploy agent
// gives hooks (command_executor.rb in aws/aws-codedeploy-agent) for a
// resolved location: BUNDLE_BUCKET, BUNDLE_KEY, BUNDLE_VERSION (only when
// Version is set) and BUNDLE_ETAG (only when ETag is set, quotes stripped)
// for S3; BUNDLE_COMMIT for GitHub; an empty map for other types. Sources
// use it to fill Bundle.Env.
func BundleEnv(loc Location) map[string]string {
	env := map[string]string{}
	switch {
	case loc.Type == LocationS3 && loc.S3 != nil:
		env["BUNDLE_BUCKET"] = loc.S3.Bucket
		env["BUNDLE_KEY"] = loc.S3.Key
		if loc.S3.Version != "" {
			env["BUNDLE_VERSION"] = loc.S3.Version
		}
		if etag := strings.Trim(loc.S3.ETag, `"`); etag != "" {
			env["BUNDLE_ETAG"] = etag
		}
	case loc.Type == LocationGitHub && loc.GitHub != nil:
		env["BUNDLE_COMMIT"] = loc.GitHub.CommitID
	}
	return env
}

// BundleTypeFromName returns the bundle type a file name's extension
// implies, ignoring case: .zip, .tar, .tgz and .tar.gz, .yaml and .yml,
// .json. It reports false for any other name (directories have no
// extension: a Source that finds a directory uses BundleDir).
func BundleTypeFromName(name string) (BundleType, bool) {
	n := strings.ToLower(name)
	for _, s := range []struct {
		ext string
		typ BundleType
	}{
		{".tar.gz", BundleTgz}, {".tgz", BundleTgz}, {".tar", BundleTar}, {".zip", BundleZip},
		{".yaml", BundleYAML}, {".yml", BundleYAML}, {".json", BundleJSON},
	} {
		if strings.HasSuffix(n, s.ext) && len(n) > len(s.ext) {
			return s.typ, true
		}
	}
	return "", false
}

// appSpecFormat tells a bare AppSpec's format: JSON when its first
// non-space byte (after an optional UTF-8 byte-order mark) is "{", YAML
// otherwise.
func appSpecFormat(content []byte) BundleType {
	c := bytes.TrimLeft(bytes.TrimPrefix(content, []byte("\ufeff")), " \t\r\n")
	if len(c) > 0 && c[0] == '{' {
		return BundleJSON
	}
	return BundleYAML
}

// The bundle readers below turn every BundleType into one stream of entries
// with cleaned names, so that the rules about names, entry types and sizes
// live in one place. Unpack writes the entries; ReadAppSpec and the local
// directory hash only look at them.

type entryKind uint8

const (
	kindFile entryKind = iota + 1
	kindDir
	kindSymlink
	kindHardlink
)

// entry is one member of a bundle.
type entry struct {
	name string      // as the bundle spells it, for messages
	rel  string      // cleaned slash-separated relative path; "." is the root
	kind entryKind   //
	perm fs.FileMode // permission bits as stored
	link string      // symlink target as stored, or cleaned hard-link target
	body io.Reader   // content of a kindFile entry; reads count against the limits
}

// bundleReader reads a bundle's entries under its limits.
type bundleReader struct {
	ctx     context.Context
	lim     ExtractLimits
	tempDir string // where a zip read from a plain stream is spooled
	entries int    // entries seen so far
	bytes   int64  // file bytes read so far
	last    string // name of the last entry, for messages about what follows it
}

// maxLinkTarget bounds the length of a symlink target (Linux PATH_MAX).
const maxLinkTarget = 4096

// walk calls fn for every entry of b, in the bundle's order.
func (r *bundleReader) walk(b *Bundle, fn func(*entry) error) error {
	if b == nil {
		return errors.New("revision: bundle is nil")
	}
	if (b.Type == BundleDir) != (b.Body == nil) || (b.Type == BundleDir) != (b.Dir != "") {
		return fmt.Errorf("revision: bundle of type %q must have exactly its Dir (for Dir) or its Body (otherwise) set", b.Type)
	}
	switch b.Type {
	case BundleZip:
		return r.walkZip(b.Body, fn)
	case BundleTar:
		return r.walkTar(b.Body, fn)
	case BundleTgz:
		return r.walkTgz(b.Body, fn)
	case BundleYAML:
		return r.walkSingle("appspec.yaml", b.Body, fn)
	case BundleJSON:
		return r.walkSingle("appspec.json", b.Body, fn)
	case BundleDir:
		return r.walkDir(b.Dir, fn)
	}
	return fmt.Errorf("revision: bundle type %q is not one of zip, tar, tgz, YAML, JSON, Dir", b.Type)
}

// next counts one more entry and checks it against MaxFiles.
func (r *bundleReader) next(name string) error {
	if err := r.ctx.Err(); err != nil {
		return err
	}
	r.entries++
	r.last = name
	if r.entries > r.lim.MaxFiles {
		return &ExtractError{Entry: name, Reason: fmt.Sprintf("bundle has more than %d entries (ExtractLimits.MaxFiles)", r.lim.MaxFiles), Err: ErrLimitExceeded}
	}
	return nil
}

// checkDeclared fails early when a declared size is over the limits.
func (r *bundleReader) checkDeclared(name string, size int64) error {
	if size > r.lim.MaxFileBytes {
		return r.fileTooBig(name, uint64(size))
	}
	if size > r.lim.MaxBytes-r.bytes {
		return r.totalError(name)
	}
	return nil
}

func (r *bundleReader) fileTooBig(name string, size uint64) error {
	return &ExtractError{Entry: name, Reason: fmt.Sprintf("entry is %d bytes, more than %d (ExtractLimits.MaxFileBytes)", size, r.lim.MaxFileBytes), Err: ErrLimitExceeded}
}

func (r *bundleReader) totalError(name string) error {
	return &ExtractError{Entry: name, Reason: fmt.Sprintf("bundle holds more than %d bytes (ExtractLimits.MaxBytes)", r.lim.MaxBytes), Err: ErrLimitExceeded}
}

// emit cleans e.name and hands e to fn.
func (r *bundleReader) emit(e *entry, fn func(*entry) error) error {
	rel, reason := cleanEntryName(e.name)
	if reason != "" {
		return &ExtractError{Entry: e.name, Reason: reason, Err: ErrUnsafePath}
	}
	e.rel = rel
	if len(rel) > r.lim.MaxPathLength {
		return &ExtractError{Entry: shortName(e.name), Reason: fmt.Sprintf("path is %d bytes long, more than %d (ExtractLimits.MaxPathLength)", len(rel), r.lim.MaxPathLength), Err: ErrLimitExceeded}
	}
	if depth := strings.Count(rel, "/") + 1; depth > r.lim.MaxDepth {
		return &ExtractError{Entry: shortName(e.name), Reason: fmt.Sprintf("path is %d elements deep, more than %d (ExtractLimits.MaxDepth)", depth, r.lim.MaxDepth), Err: ErrLimitExceeded}
	}
	if e.kind == kindHardlink {
		target, reason := cleanEntryName(e.link)
		if reason != "" {
			return &ExtractError{Entry: e.name, Reason: fmt.Sprintf("hard link target %q: %s", e.link, reason), Err: ErrUnsafePath}
		}
		e.link = target
	}
	return fn(e)
}

// shortName returns an entry name for a message: names longer than 200
// bytes are cut, keeping their start and end.
func shortName(name string) string {
	if len(name) <= 200 {
		return name
	}
	return name[:100] + "..." + name[len(name)-97:]
}

// body wraps an entry's content so that every byte read counts against
// the limits and the context is checked on every read. Read errors from
// src become *ExtractError values: ErrCorruptBundle for archives, the
// underlying error for directories.
func (r *bundleReader) body(name string, src io.Reader, archive bool) *countingReader {
	return &countingReader{r: r, src: src, name: name, archive: archive}
}

type countingReader struct {
	r       *bundleReader
	src     io.Reader
	name    string
	archive bool
	n       int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	if err := c.r.ctx.Err(); err != nil {
		return 0, err
	}
	n, err := c.src.Read(p)
	c.n += int64(n)
	c.r.bytes += int64(n)
	switch {
	case c.n > c.r.lim.MaxFileBytes:
		return n, &ExtractError{Entry: c.name, Reason: fmt.Sprintf("entry holds more than %d bytes (ExtractLimits.MaxFileBytes)", c.r.lim.MaxFileBytes), Err: ErrLimitExceeded}
	case c.r.bytes > c.r.lim.MaxBytes:
		return n, c.r.totalError(c.name)
	case err == nil || err == io.EOF:
		return n, err
	case c.archive:
		return n, &ExtractError{Entry: c.name, Reason: "cannot read the entry's content: " + err.Error(), Err: ErrCorruptBundle}
	default:
		return n, &ExtractError{Entry: c.name, Reason: "cannot read: " + err.Error(), Err: err}
	}
}

// cleanEntryName turns an entry name into a clean relative slash path, or
// says which rule it breaks. Backslashes count as separators (zip files
// written on Windows use them); "." and empty elements are dropped, so
// "./a//b" is "a/b" and "./" is the root ".".
func cleanEntryName(name string) (rel, reason string) {
	switch {
	case name == "":
		return "", "entry has an empty name"
	case strings.ContainsRune(name, 0):
		return "", "name contains a NUL byte"
	}
	n := strings.ReplaceAll(name, `\`, "/")
	switch {
	case strings.HasPrefix(n, "/"):
		return "", "path is absolute"
	case hasDriveLetter(n):
		return "", "path starts with a Windows drive letter"
	}
	parts := make([]string, 0, strings.Count(n, "/")+1)
	dotdot := false
	for p := range strings.SplitSeq(n, "/") {
		switch p {
		case "", ".":
			continue
		case "..":
			dotdot = true
		}
		parts = append(parts, p)
	}
	if len(parts) == 0 {
		return ".", ""
	}
	rel = strings.Join(parts, "/")
	if dotdot {
		if c := path.Clean(rel); c == ".." || strings.HasPrefix(c, "../") {
			return "", "path escapes the destination"
		}
		return "", `path has a ".." element`
	}
	return rel, ""
}

// walkSingle reads a bare AppSpec as one file entry.
func (r *bundleReader) walkSingle(name string, body io.Reader, fn func(*entry) error) error {
	if err := r.next(name); err != nil {
		return err
	}
	return r.emit(&entry{name: name, kind: kindFile, perm: 0o644, body: r.body(name, body, true)}, fn)
}

// walkTgz reads a gzip-compressed tar, then checks the gzip trailer.
func (r *bundleReader) walkTgz(body io.Reader, fn func(*entry) error) error {
	gz, err := gzip.NewReader(body)
	if err != nil {
		if ctxErr := r.ctx.Err(); ctxErr != nil {
			return ctxErr
		}
		return &ExtractError{Reason: "not a gzip stream: " + err.Error(), Err: ErrCorruptBundle}
	}
	defer gz.Close()
	if err := r.walkTar(gz, fn); err != nil {
		return err
	}
	// Read what follows the tar's end marker (GNU tar pads to 10 KiB
	// records) so that gzip verifies its checksum and length trailer.
	const maxTrailer = 1 << 20
	n, err := io.Copy(io.Discard, io.LimitReader(gz, maxTrailer+1))
	switch {
	case err != nil:
		return &ExtractError{Reason: fmt.Sprintf("gzip stream is damaged after entry %q: %v", r.last, err), Err: ErrCorruptBundle}
	case n > maxTrailer:
		return &ExtractError{Reason: "more than 1 MiB of data follows the end of the tar archive", Err: ErrCorruptBundle}
	}
	return nil
}

// tarStream tracks how much of a tar stream was read and keeps the last
// block read, so that a tar cut at a block boundary, which archive/tar
// reports as a clean end, is caught: a real end reads a zero block.
type tarStream struct {
	src  io.Reader
	n    int64     // bytes read
	tail [512]byte // the last 512 bytes read
}

func (t *tarStream) Read(p []byte) (int, error) {
	n, err := t.src.Read(p)
	t.n += int64(n)
	if b := p[:n]; len(b) >= len(t.tail) {
		copy(t.tail[:], b[len(b)-len(t.tail):])
	} else {
		copy(t.tail[:], t.tail[len(b):])
		copy(t.tail[len(t.tail)-len(b):], b)
	}
	return n, err
}

func (r *bundleReader) walkTar(body io.Reader, fn func(*entry) error) error {
	ts := &tarStream{src: body}
	tr := tar.NewReader(ts)
	for {
		if err := r.ctx.Err(); err != nil {
			return err
		}
		mark := ts.n
		hdr, err := tr.Next()
		if err == io.EOF {
			// A tar ends with zero blocks; archive/tar also accepts a
			// stream that simply stops between entries.
			if ts.n-mark < 512 || ts.tail != [512]byte{} {
				return &ExtractError{Reason: fmt.Sprintf("tar archive ends without its end-of-archive marker after entry %q (truncated?)", r.last), Err: ErrCorruptBundle}
			}
			return nil
		}
		if err != nil && !errors.Is(err, tar.ErrInsecurePath) {
			if ctxErr := r.ctx.Err(); ctxErr != nil {
				return ctxErr
			}
			if r.entries == 0 {
				return &ExtractError{Reason: "not a tar archive: " + err.Error(), Err: ErrCorruptBundle}
			}
			return &ExtractError{Reason: fmt.Sprintf("cannot read the tar header after entry %q: %v", r.last, err), Err: ErrCorruptBundle}
		}
		if err := r.next(hdr.Name); err != nil {
			return err
		}
		e := &entry{name: hdr.Name, perm: fs.FileMode(hdr.Mode).Perm(), link: hdr.Linkname}
		var cr *countingReader
		switch hdr.Typeflag {
		case tar.TypeReg:
			if err := r.checkDeclared(hdr.Name, hdr.Size); err != nil {
				return err
			}
			e.kind = kindFile
			cr = r.body(hdr.Name, tr, true)
			e.body = cr
		case tar.TypeDir:
			e.kind = kindDir
		case tar.TypeSymlink:
			e.kind = kindSymlink
		case tar.TypeLink:
			e.kind = kindHardlink
		case tar.TypeXGlobalHeader:
			// A pax global header (git archive writes one holding the
			// commit ID) describes the archive, not a file.
			continue
		case tar.TypeChar, tar.TypeBlock:
			return &ExtractError{Entry: hdr.Name, Reason: "device entries are not allowed", Err: ErrUnsafePath}
		case tar.TypeFifo:
			return &ExtractError{Entry: hdr.Name, Reason: "FIFO entries are not allowed", Err: ErrUnsafePath}
		default:
			return &ExtractError{Entry: hdr.Name, Reason: fmt.Sprintf("tar entry type %q is not allowed (only files, directories, symlinks and hard links)", hdr.Typeflag), Err: ErrUnsafePath}
		}
		if err := r.emit(e, fn); err != nil {
			return err
		}
		if cr != nil {
			// Count what the consumer skipped: archive/tar would otherwise
			// decompress it unseen.
			if _, err := io.Copy(io.Discard, cr); err != nil {
				return err
			}
		}
	}
}

// sizedReaderAt is what zip.NewReader needs.
type sizedReaderAt interface {
	io.ReaderAt
	Size() int64
}

type statReaderAt interface {
	io.ReaderAt
	Stat() (fs.FileInfo, error)
}

// zipInput returns body as an io.ReaderAt with its size, spooling it to a
// temporary file when it is a plain stream. The spool is bounded: a zip
// within the limits cannot be much larger than MaxBytes plus its headers.
func (r *bundleReader) zipInput(body io.Reader) (io.ReaderAt, int64, func(), error) {
	switch b := body.(type) {
	case sizedReaderAt:
		return b, b.Size(), func() {}, nil
	case statReaderAt:
		if fi, err := b.Stat(); err == nil && fi.Mode().IsRegular() {
			return b, fi.Size(), func() {}, nil
		}
	}
	limit := r.lim.MaxBytes + r.lim.MaxBytes/64 + int64(r.lim.MaxFiles)*1024 + 1<<20
	f, err := os.CreateTemp(r.tempDir, ".bundle-*.zip")
	if err != nil {
		return nil, 0, nil, fmt.Errorf("revision: spool zip bundle: %w", err)
	}
	cleanup := func() {
		f.Close()
		os.Remove(f.Name())
	}
	n, err := io.Copy(f, io.LimitReader(ctxReader{r.ctx, body}, limit+1))
	switch {
	case err != nil:
		cleanup()
		if ctxErr := r.ctx.Err(); ctxErr != nil {
			return nil, 0, nil, ctxErr
		}
		return nil, 0, nil, fmt.Errorf("revision: spool zip bundle: %w", err)
	case n > limit:
		cleanup()
		return nil, 0, nil, &ExtractError{Reason: fmt.Sprintf("zip archive is larger than %d bytes, more than its ExtractLimits allow", limit), Err: ErrLimitExceeded}
	}
	return f, n, cleanup, nil
}

// ctxReader stops reading once ctx is done.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

func (r *bundleReader) walkZip(body io.Reader, fn func(*entry) error) error {
	ra, size, cleanup, err := r.zipInput(body)
	if err != nil {
		return err
	}
	defer cleanup()
	zr, err := zip.NewReader(ra, size)
	if err != nil && !errors.Is(err, zip.ErrInsecurePath) {
		return &ExtractError{Reason: "not a zip archive: " + err.Error(), Err: ErrCorruptBundle}
	}
	// The central directory is known up front: refuse an archive that
	// says it is too big before writing anything. The counts are checked
	// again as entries are read, so a header that lies gains nothing.
	if len(zr.File) > r.lim.MaxFiles {
		return &ExtractError{Reason: fmt.Sprintf("bundle has %d entries, more than %d (ExtractLimits.MaxFiles)", len(zr.File), r.lim.MaxFiles), Err: ErrLimitExceeded}
	}
	var declared uint64
	for _, f := range zr.File {
		if f.UncompressedSize64 > uint64(r.lim.MaxFileBytes) {
			return r.fileTooBig(f.Name, f.UncompressedSize64)
		}
		declared += f.UncompressedSize64
		if declared > uint64(r.lim.MaxBytes) {
			return r.totalError(f.Name)
		}
	}
	for _, f := range zr.File {
		if err := r.next(f.Name); err != nil {
			return err
		}
		mode := f.Mode()
		e := &entry{name: f.Name, perm: mode.Perm()}
		switch {
		case strings.HasSuffix(f.Name, "/") || mode.IsDir():
			e.kind = kindDir
			if err := r.emit(e, fn); err != nil {
				return err
			}
		case mode&fs.ModeSymlink != 0:
			target, err := r.readZipMember(f, maxLinkTarget)
			if err != nil {
				return err
			}
			e.kind, e.link = kindSymlink, string(target)
			if err := r.emit(e, fn); err != nil {
				return err
			}
		case mode.IsRegular():
			rc, err := f.Open()
			if err != nil {
				return &ExtractError{Entry: f.Name, Reason: "cannot open the entry: " + err.Error(), Err: ErrCorruptBundle}
			}
			e.kind, e.body = kindFile, r.body(f.Name, rc, true)
			err = r.emit(e, fn)
			rc.Close()
			if err != nil {
				return err
			}
		case mode&fs.ModeNamedPipe != 0:
			return &ExtractError{Entry: f.Name, Reason: "FIFO entries are not allowed", Err: ErrUnsafePath}
		case mode&fs.ModeDevice != 0:
			return &ExtractError{Entry: f.Name, Reason: "device entries are not allowed", Err: ErrUnsafePath}
		default:
			return &ExtractError{Entry: f.Name, Reason: fmt.Sprintf("entry of mode %v is not allowed (only files, directories and symlinks)", mode.Type()), Err: ErrUnsafePath}
		}
	}
	return nil
}

// readZipMember reads a small member (a symlink's target) whole.
func (r *bundleReader) readZipMember(f *zip.File, max int) ([]byte, error) {
	rc, err := f.Open()
	if err != nil {
		return nil, &ExtractError{Entry: f.Name, Reason: "cannot open the entry: " + err.Error(), Err: ErrCorruptBundle}
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, int64(max)+1))
	if err != nil {
		return nil, &ExtractError{Entry: f.Name, Reason: "cannot read the entry's content: " + err.Error(), Err: ErrCorruptBundle}
	}
	if len(b) > max {
		return nil, &ExtractError{Entry: f.Name, Reason: fmt.Sprintf("symlink target is longer than %d bytes", max), Err: ErrUnsafePath}
	}
	return b, nil
}

// walkDir reads a directory tree in lexical order without following
// symlinks; files are opened only when their content is read.
func (r *bundleReader) walkDir(dir string, fn func(*entry) error) error {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return fmt.Errorf("revision: bundle directory: %w", err)
	}
	defer root.Close()
	return fs.WalkDir(root.FS(), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if ctxErr := r.ctx.Err(); ctxErr != nil {
				return ctxErr
			}
			return &ExtractError{Entry: p, Reason: "cannot read: " + err.Error(), Err: err}
		}
		if p == "." {
			return nil
		}
		if err := r.next(p); err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return &ExtractError{Entry: p, Reason: "cannot read: " + err.Error(), Err: err}
		}
		e := &entry{name: p, perm: info.Mode().Perm()}
		switch t := d.Type(); {
		case t.IsDir():
			e.kind = kindDir
			return r.emit(e, fn)
		case t&fs.ModeSymlink != 0:
			target, err := root.Readlink(p)
			if err != nil {
				return &ExtractError{Entry: p, Reason: "cannot read the symlink: " + err.Error(), Err: err}
			}
			e.kind, e.link = kindSymlink, target
			return r.emit(e, fn)
		case t.IsRegular():
			if err := r.checkDeclared(p, info.Size()); err != nil {
				return err
			}
			lf := &lazyFile{root: root, name: p}
			defer lf.close()
			e.kind, e.body = kindFile, r.body(p, lf, false)
			return r.emit(e, fn)
		case t&fs.ModeNamedPipe != 0:
			return &ExtractError{Entry: p, Reason: "FIFOs are not allowed in a bundle", Err: ErrUnsafePath}
		case t&fs.ModeDevice != 0:
			return &ExtractError{Entry: p, Reason: "devices are not allowed in a bundle", Err: ErrUnsafePath}
		default:
			return &ExtractError{Entry: p, Reason: fmt.Sprintf("file of mode %v is not allowed in a bundle", t), Err: ErrUnsafePath}
		}
	})
}

// lazyFile opens a file of a directory bundle on first read, so that
// walking a directory only to look at its names opens nothing.
type lazyFile struct {
	root *os.Root
	name string
	f    *os.File
}

func (l *lazyFile) Read(p []byte) (int, error) {
	if l.f == nil {
		f, err := l.root.Open(l.name)
		if err != nil {
			return 0, err
		}
		if fi, err := f.Stat(); err != nil || !fi.Mode().IsRegular() {
			f.Close()
			return 0, fmt.Errorf("%s is no longer a regular file", l.name)
		}
		l.f = f
	}
	return l.f.Read(p)
}

func (l *lazyFile) close() {
	if l.f != nil {
		l.f.Close()
	}
}

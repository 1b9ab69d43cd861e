package revision

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"strings"

	"github.com/fleetdeploy/fleetdeploy/internal/errmsg"
)

// LocalOptions are the optional settings of NewLocalSource.
type LocalOptions struct {
	// Root, when set, is the directory that Local paths are resolved in:
	// a path is relative to Root and may not leave it, through ".." or
	// through symlinks; absolute paths are refused. Empty means paths are
	// used as given (relative ones against the working directory).
	Root string
}

// LocalSource serves LocationLocal: a bundle archive or an unpacked
// directory on this machine. Use NewLocalSource.
//
// The bundle type is LocalLocation.BundleType when set; otherwise a
// directory is BundleDir and a file's type comes from its name (see
// BundleTypeFromName). Open computes the bundle's SHA-256 and fills it into
// the resolved location, where it is part of the revision's identity (see
// "Identity" in the package documentation): for a file, the SHA-256 of its
// bytes; for a directory, a SHA-256 over its entries in lexical path order —
// each directory's path and permission bits, each symlink's path and target,
// each regular file's path, permission bits and the SHA-256 of its content
// (format "fleetdeploy-dir-sha256-v1", stable across releases; owners and
// times do not count). When the location already carries a sha256 that
// differs, Open fails with ErrChecksumMismatch.
//
// The hash is computed when the bundle is opened; the source does not lock
// the files, so a bundle changed between Open and Unpack is not detected.
type LocalSource struct {
	root string
}

// NewLocalSource returns a LocalSource. It fails when Root is set but is
// not a directory.
func NewLocalSource(opts ...func(*LocalOptions)) (*LocalSource, error) {
	var o LocalOptions
	for _, opt := range opts {
		opt(&o)
	}
	s := &LocalSource{}
	if o.Root != "" {
		abs, err := filepath.Abs(o.Root)
		if err != nil {
			return nil, fmt.Errorf("revision: local source root: %w", err)
		}
		fi, err := os.Stat(abs)
		if err != nil {
			return nil, fmt.Errorf("revision: local source root: %w", err)
		}
		if !fi.IsDir() {
			return nil, fmt.Errorf("revision: local source root %q is not a directory", o.Root)
		}
		s.root = abs
	}
	return s, nil
}

// Open opens a Local location; see Source for the contract. A path that
// does not exist fails with ErrRevisionNotFound, a bundle type that
// contradicts the path (or cannot be told from its name) with
// ErrInvalidLocation.
func (s *LocalSource) Open(ctx context.Context, loc Location) (*Bundle, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if loc.Type != LocationLocal {
		return nil, unsupportedType("LocalSource", loc.Type, LocationLocal)
	}
	if err := loc.Validate(); err != nil {
		return nil, err
	}
	lo := loc.Local
	invalid := func(field, rule string, args ...any) error {
		return locationErr(loc, []LocationProblem{{Field: field, Rule: fmt.Sprintf(rule, args...)}})
	}
	full, fi, err := s.stat(lo.Path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, errmsg.Errorf("revision: local bundle %q: %w: %w", lo.Path, ErrRevisionNotFound, err)
		}
		if s.root != "" && !filepath.IsLocal(lo.Path) {
			return nil, invalid("localLocation.path", "%q is not a local path inside the source's root", lo.Path)
		}
		return nil, errmsg.Errorf("revision: local bundle %q: %w", lo.Path, err)
	}
	typ := lo.BundleType
	var b *Bundle
	switch {
	case fi.IsDir():
		if typ != "" && typ != BundleDir {
			return nil, invalid("localLocation.bundleType", "%s, but %q is a directory", typ, lo.Path)
		}
		typ = BundleDir
		abs, err := filepath.Abs(full)
		if err != nil {
			return nil, errmsg.Errorf("revision: local bundle %q: %w", lo.Path, err)
		}
		b = &Bundle{Type: BundleDir, Dir: abs}
	case fi.Mode().IsRegular():
		if typ == "" {
			var ok bool
			if typ, ok = BundleTypeFromName(lo.Path); !ok {
				return nil, invalid("localLocation.bundleType", "not set, and %q does not end in .zip, .tar, .tgz, .tar.gz, .yaml, .yml or .json", lo.Path)
			}
		}
		if typ == BundleDir {
			return nil, invalid("localLocation.bundleType", "Dir, but %q is a file", lo.Path)
		}
		f, err := s.open(lo.Path)
		if err != nil {
			return nil, errmsg.Errorf("revision: local bundle %q: %w", lo.Path, err)
		}
		b = &Bundle{Type: typ, Body: f}
	default:
		return nil, invalid("localLocation.path", "%q is neither a regular file nor a directory", lo.Path)
	}
	sum, err := localSHA256(ctx, b)
	if err != nil {
		b.Close()
		return nil, errmsg.Errorf("revision: local bundle %q: hashing: %w", lo.Path, err)
	}
	if lo.SHA256 != "" && !strings.EqualFold(lo.SHA256, sum) {
		b.Close()
		return nil, errmsg.Errorf("revision: local bundle %q has SHA-256 %s, not %s: %w", lo.Path, sum, lo.SHA256, ErrChecksumMismatch)
	}
	b.Location = Location{Type: LocationLocal, Local: &LocalLocation{Path: lo.Path, BundleType: typ, SHA256: sum}}
	b.Env = BundleEnv(b.Location)
	return b, nil
}

// stat returns the full path of p and its FileInfo, following symlinks
// (inside Root when one is set).
func (s *LocalSource) stat(p string) (string, fs.FileInfo, error) {
	if s.root == "" {
		fi, err := os.Stat(p)
		return p, fi, err
	}
	if !filepath.IsLocal(p) {
		return "", nil, fmt.Errorf("path is not local to the source's root")
	}
	r, err := os.OpenRoot(s.root)
	if err != nil {
		return "", nil, err
	}
	defer r.Close()
	fi, err := r.Stat(p)
	return filepath.Join(s.root, p), fi, err
}

func (s *LocalSource) open(p string) (*os.File, error) {
	if s.root == "" {
		return os.Open(p)
	}
	r, err := os.OpenRoot(s.root)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	return r.Open(p)
}

// localSHA256 hashes an archive file (then rewinds it) or a directory.
func localSHA256(ctx context.Context, b *Bundle) (string, error) {
	if b.Type == BundleDir {
		return hashDir(ctx, b.Dir)
	}
	f := b.Body.(*os.File)
	h := sha256.New()
	if _, err := io.Copy(h, ctxReader{ctx, f}); err != nil {
		return "", err
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// hashDir computes the directory hash described on LocalSource.
func hashDir(ctx context.Context, dir string) (string, error) {
	r := &bundleReader{ctx: ctx, lim: ExtractLimits{MaxBytes: math.MaxInt64, MaxFiles: math.MaxInt, MaxFileBytes: math.MaxInt64, MaxDepth: math.MaxInt, MaxPathLength: math.MaxInt}}
	h := sha256.New()
	io.WriteString(h, "fleetdeploy-dir-sha256-v1\x00")
	err := r.walk(&Bundle{Type: BundleDir, Dir: dir}, func(e *entry) error {
		switch e.kind {
		case kindDir:
			fmt.Fprintf(h, "d\x00%o\x00%s\x00", e.perm, e.rel)
		case kindSymlink:
			fmt.Fprintf(h, "l\x00%s\x00%s\x00", e.rel, e.link)
		case kindFile:
			fh := sha256.New()
			if _, err := io.Copy(fh, e.body); err != nil {
				return err
			}
			fmt.Fprintf(h, "f\x00%o\x00%s\x00%x\x00", e.perm, e.rel, fh.Sum(nil))
		}
		return nil
	})
	if err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// ContentSource serves LocationAppSpecContent: the bundle is the inline
// AppSpec itself, a bare YAML or JSON bundle (JSON when the first
// non-space byte is "{"). The resolved location carries the content's
// SHA-256. The zero value is ready to use.
//
// Inline content always exists, so ContentSource never returns
// ErrRevisionNotFound; a sha256 that does not match the content fails
// validation (ErrInvalidLocation).
type ContentSource struct{}

// Open opens an AppSpecContent location; see Source for the contract.
func (ContentSource) Open(ctx context.Context, loc Location) (*Bundle, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if loc.Type != LocationAppSpecContent {
		return nil, unsupportedType("ContentSource", loc.Type, LocationAppSpecContent)
	}
	if err := loc.Validate(); err != nil {
		return nil, err
	}
	content := loc.AppSpecContent.Content
	sum := sha256.Sum256([]byte(content))
	resolved := Location{Type: LocationAppSpecContent, AppSpecContent: &AppSpecContent{Content: content, SHA256: hex.EncodeToString(sum[:])}}
	return &Bundle{
		Type:     appSpecFormat([]byte(content)),
		Location: resolved,
		Env:      BundleEnv(resolved),
		Body:     io.NopCloser(strings.NewReader(content)),
	}, nil
}

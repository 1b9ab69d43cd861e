package revisiontest

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"sync"

	"github.com/fleetdeploy/fleetdeploy/internal/errmsg"
	"github.com/fleetdeploy/fleetdeploy/revision"
)

// MemSource is an in-memory revision.Source for S3, GitHub and Local
// locations, with failure injection. Use NewMemSource; it is safe for
// concurrent use. (Inline AppSpecContent needs no storage: route it to a
// revision.ContentSource with a revision.Mux.)
//
// It models its stores just enough for identity and environment tests:
//
//   - S3: objects are keyed by bucket and key. Put with a Version stores
//     that version; Put without one replaces the unversioned object. Open
//     without a Version returns the latest Put; with a Version, that
//     version or ErrRevisionNotFound. The eTag is the hex MD5 of the bytes
//     (as S3 computes it for a single-part upload); an eTag in the opened
//     location that differs fails with ErrChecksumMismatch. Bundles have
//     the location's bundleType.
//   - GitHub: one tgz per repository and commit (commit matched ignoring
//     case).
//   - Local: one bundle per path; its SHA-256 is that of the bytes, and a
//     sha256 in the opened location that differs fails with
//     ErrChecksumMismatch. Dir bundles live on disk: use
//     revision.LocalSource.
type MemSource struct {
	mu      sync.Mutex
	objects map[string][]memObject // by object key, versions in Put order
	errs    map[string]error
	holds   map[string]chan struct{}
	opens   map[string]int
}

type memObject struct {
	version string
	typ     revision.BundleType // for Local, the type the Put location implied
	data    []byte
}

// NewMemSource returns an empty MemSource.
func NewMemSource() *MemSource {
	return &MemSource{
		objects: map[string][]memObject{},
		errs:    map[string]error{},
		holds:   map[string]chan struct{}{},
		opens:   map[string]int{},
	}
}

var _ revision.Source = (*MemSource)(nil)

// objectKey names the stored object a location refers to, without the
// version or checksum that select or pin its content.
func objectKey(loc revision.Location) (string, bool) {
	switch {
	case loc.Type == revision.LocationS3 && loc.S3 != nil:
		return "s3:" + loc.S3.Bucket + "/" + loc.S3.Key, true
	case loc.Type == revision.LocationGitHub && loc.GitHub != nil:
		return "github:" + loc.GitHub.Repository + "@" + strings.ToLower(loc.GitHub.CommitID), true
	case loc.Type == revision.LocationLocal && loc.Local != nil:
		return "local:" + loc.Local.Path, true
	}
	return "", false
}

func served(t revision.LocationType) bool {
	return t == revision.LocationS3 || t == revision.LocationGitHub || t == revision.LocationLocal
}

// Put stores data as the bundle at loc and returns the resolved location
// that names it (S3 with its eTag, and version when loc has one; Local
// with its SHA-256 and bundle type). Checksums in loc are ignored. It
// fails for an invalid location, a type MemSource does not serve, or a
// Local location whose bundle type is Dir or cannot be told from the path.
func (m *MemSource) Put(loc revision.Location, data []byte) (revision.Location, error) {
	if !served(loc.Type) {
		return revision.Location{}, errmsg.Errorf("revisiontest: MemSource stores S3, GitHub and Local revisions, not %q: %w", loc.Type, revision.ErrUnsupportedLocation)
	}
	loc = unpinned(loc)
	if err := loc.Validate(); err != nil {
		return revision.Location{}, err
	}
	typ, err := bundleType(loc)
	if err != nil {
		return revision.Location{}, err
	}
	key, _ := objectKey(loc)
	obj := memObject{typ: typ, data: bytes.Clone(data)}
	if loc.Type == revision.LocationS3 {
		obj.version = loc.S3.Version
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	versions := m.objects[key]
	versions = withoutVersion(versions, obj.version)
	m.objects[key] = append(versions, obj)
	return resolve(loc, obj), nil
}

// withoutVersion returns vs without the object of that version.
func withoutVersion(vs []memObject, version string) []memObject {
	out := vs[:0:0]
	for _, v := range vs {
		if v.version != version {
			out = append(out, v)
		}
	}
	return out
}

// PutFiles builds a bundle holding files (path -> content) and stores it at
// loc (see Put). The bundle has the type loc implies: S3's bundleType,
// Local's bundleType or path extension, and for GitHub a tgz whose files sit
// under one top directory named like GitHub's ("account-repo-commit/"),
// which Unpack strips (see revision.Unpack). For a YAML or JSON bundle,
// files must hold exactly one file.
func (m *MemSource) PutFiles(loc revision.Location, files map[string]string) (revision.Location, error) {
	if !served(loc.Type) {
		return m.Put(loc, nil)
	}
	if err := unpinned(loc).Validate(); err != nil {
		return revision.Location{}, err
	}
	typ, err := bundleType(loc)
	if err != nil {
		return revision.Location{}, err
	}
	entries := Files(files)
	if loc.Type == revision.LocationGitHub {
		top := strings.ReplaceAll(loc.GitHub.Repository, "/", "-") + "-" + strings.ToLower(loc.GitHub.CommitID)[:7] + "/"
		for i := range entries {
			entries[i].Name = top + entries[i].Name
		}
	}
	data, err := Build(typ, entries...)
	if err != nil {
		return revision.Location{}, err
	}
	return m.Put(loc, data)
}

// unpinned drops the checksums a location may carry, which Put ignores.
func unpinned(loc revision.Location) revision.Location {
	switch {
	case loc.Type == revision.LocationS3 && loc.S3 != nil:
		s := *loc.S3
		s.ETag = ""
		loc.S3 = &s
	case loc.Type == revision.LocationLocal && loc.Local != nil:
		l := *loc.Local
		l.SHA256 = ""
		loc.Local = &l
	}
	return loc
}

// bundleType is the type of the bundle a (valid) location names.
func bundleType(loc revision.Location) (revision.BundleType, error) {
	switch loc.Type {
	case revision.LocationS3:
		return loc.S3.BundleType, nil
	case revision.LocationGitHub:
		return revision.BundleTgz, nil
	}
	typ := loc.Local.BundleType
	if typ == "" {
		var ok bool
		if typ, ok = revision.BundleTypeFromName(loc.Local.Path); !ok {
			return "", errmsg.Errorf("revisiontest: local path %q: set a bundle type or use a bundle extension: %w", loc.Local.Path, revision.ErrInvalidLocation)
		}
	}
	if typ == revision.BundleDir {
		return "", errmsg.Errorf("revisiontest: MemSource holds no Dir bundles (use revision.LocalSource): %w", revision.ErrUnsupportedLocation)
	}
	return typ, nil
}

// resolve returns loc with what the stored object fixes filled in.
func resolve(loc revision.Location, obj memObject) revision.Location {
	switch loc.Type {
	case revision.LocationS3:
		s := *loc.S3
		sum := md5.Sum(obj.data)
		s.Version, s.ETag = obj.version, hex.EncodeToString(sum[:])
		loc.S3 = &s
	case revision.LocationGitHub:
		g := *loc.GitHub
		loc.GitHub = &g
	case revision.LocationLocal:
		l := *loc.Local
		sum := sha256.Sum256(obj.data)
		l.BundleType, l.SHA256 = obj.typ, hex.EncodeToString(sum[:])
		loc.Local = &l
	}
	return loc
}

// SetError makes every later Open of the object loc names (whatever its
// version or checksum) fail with err, until SetError(loc, nil).
func (m *MemSource) SetError(loc revision.Location, err error) {
	key, _ := objectKey(loc)
	m.mu.Lock()
	defer m.mu.Unlock()
	if err == nil {
		delete(m.errs, key)
		return
	}
	m.errs[key] = err
}

// Hold makes every later Open of the object loc names block until release
// is called or the Open's ctx is done (then Open returns the ctx's
// error): latency without a clock. release is idempotent.
func (m *MemSource) Hold(loc revision.Location) (release func()) {
	key, _ := objectKey(loc)
	ch := make(chan struct{})
	m.mu.Lock()
	m.holds[key] = ch
	m.mu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			m.mu.Lock()
			if m.holds[key] == ch {
				delete(m.holds, key)
			}
			m.mu.Unlock()
			close(ch)
		})
	}
}

// Opens returns how many times Open was called for the object loc names,
// successfully or not (calls refused before validation excepted).
func (m *MemSource) Opens(loc revision.Location) int {
	key, _ := objectKey(loc)
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.opens[key]
}

// Open opens a stored revision; see revision.Source for the contract. An
// error set with SetError is returned after any Hold is released.
func (m *MemSource) Open(ctx context.Context, loc revision.Location) (*revision.Bundle, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if !served(loc.Type) {
		return nil, errmsg.Errorf("revisiontest: MemSource does not serve location type %q (it serves S3, GitHub, Local): %w", loc.Type, revision.ErrUnsupportedLocation)
	}
	if err := loc.Validate(); err != nil {
		return nil, err
	}
	key, _ := objectKey(loc)
	m.mu.Lock()
	m.opens[key]++
	hold := m.holds[key]
	m.mu.Unlock()
	if hold != nil {
		select {
		case <-hold:
		case <-ctx.Done():
			return nil, fmt.Errorf("revisiontest: open %s: %w", loc, ctx.Err())
		}
	}
	m.mu.Lock()
	injected := m.errs[key]
	versions := m.objects[key]
	m.mu.Unlock()
	if injected != nil {
		return nil, injected
	}
	obj, ok := pick(loc, versions)
	if !ok {
		return nil, errmsg.Errorf("revisiontest: %s: %w", loc, revision.ErrRevisionNotFound)
	}
	resolved := resolve(loc, obj)
	typ := obj.typ
	switch loc.Type {
	case revision.LocationS3:
		if want := strings.Trim(loc.S3.ETag, `"`); want != "" && !strings.EqualFold(want, resolved.S3.ETag) {
			return nil, errmsg.Errorf("revisiontest: %s has eTag %s, not %s: %w", loc, resolved.S3.ETag, want, revision.ErrChecksumMismatch)
		}
		typ = loc.S3.BundleType
	case revision.LocationLocal:
		if want := loc.Local.SHA256; want != "" && !strings.EqualFold(want, resolved.Local.SHA256) {
			return nil, errmsg.Errorf("revisiontest: %s has SHA-256 %s, not %s: %w", loc, resolved.Local.SHA256, want, revision.ErrChecksumMismatch)
		}
		if loc.Local.BundleType != "" {
			typ = loc.Local.BundleType
			resolved.Local.BundleType = typ
		}
	}
	return &revision.Bundle{
		Type:     typ,
		Location: resolved,
		Env:      revision.BundleEnv(resolved),
		Body:     memBody{bytes.NewReader(obj.data)},
	}, nil
}

// pick selects the stored object loc names: an S3 version, or the latest.
func pick(loc revision.Location, versions []memObject) (memObject, bool) {
	if len(versions) == 0 {
		return memObject{}, false
	}
	if loc.Type == revision.LocationS3 && loc.S3.Version != "" {
		for _, v := range versions {
			if v.version == loc.S3.Version {
				return v, true
			}
		}
		return memObject{}, false
	}
	return versions[len(versions)-1], true
}

// memBody is a bundle body that can be read in place (io.ReaderAt and
// Size), as a zip must be.
type memBody struct{ *bytes.Reader }

func (memBody) Close() error { return nil }

package revision

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/hashicorp/go-multierror"

	"github.com/fleetdeploy/fleetdeploy/internal/errmsg"
)

// LocationType says where a revision is stored. The values are spelled as
// CodeDeploy spells RevisionLocation.revisionType, plus Local for a bundle or
// directory on this machine (a fleetdeploy extension, used by on-premises
// fleets and tests).
type LocationType string

// The location types.
const (
	LocationS3             LocationType = "S3"
	LocationGitHub         LocationType = "GitHub"
	LocationAppSpecContent LocationType = "AppSpecContent"
	LocationLocal          LocationType = "Local"
)

// Values returns every valid LocationType.
func (LocationType) Values() []LocationType {
	return []LocationType{LocationS3, LocationGitHub, LocationAppSpecContent, LocationLocal}
}

// BundleType is the format of a revision bundle, spelled as CodeDeploy spells
// S3Location.bundleType. YAML and JSON are bare AppSpec files (Lambda and
// ECS); Dir is a fleetdeploy extension for an unpacked directory on disk.
type BundleType string

// The bundle types.
const (
	BundleZip  BundleType = "zip"
	BundleTar  BundleType = "tar"
	BundleTgz  BundleType = "tgz"
	BundleYAML BundleType = "YAML"
	BundleJSON BundleType = "JSON"
	BundleDir  BundleType = "Dir"
)

// Values returns every valid BundleType.
func (BundleType) Values() []BundleType {
	return []BundleType{BundleZip, BundleTar, BundleTgz, BundleYAML, BundleJSON, BundleDir}
}

// S3Location names a bundle in an S3 bucket.
type S3Location struct {
	Bucket     string     `json:"bucket"`
	Key        string     `json:"key"`
	BundleType BundleType `json:"bundleType"`
	// Version is the object version; empty means the latest version.
	Version string `json:"version,omitempty"`
	// ETag, when set, is verified against the fetched object (quotes are
	// ignored); a mismatch fails the fetch.
	ETag string `json:"eTag,omitempty"`
}

// GitHubLocation names a commit of a GitHub repository.
type GitHubLocation struct {
	// Repository is "account/repo".
	Repository string `json:"repository"`
	// CommitID is the full SHA-1 of the commit.
	CommitID string `json:"commitId"`
}

// AppSpecContent is an AppSpec given inline (Lambda and ECS).
type AppSpecContent struct {
	// Content is the AppSpec, YAML or JSON.
	Content string `json:"content"`
	// SHA256 is the hex SHA-256 of Content. When empty it is computed.
	SHA256 string `json:"sha256,omitempty"`
}

// LocalLocation names a bundle archive or an unpacked directory on this
// machine.
type LocalLocation struct {
	// Path is the archive file or directory.
	Path string `json:"path"`
	// BundleType is the archive format; empty means detect it (a directory is
	// BundleDir, an archive by its name).
	BundleType BundleType `json:"bundleType,omitempty"`
	// SHA256 is the hex SHA-256 of the bundle's content, part of the
	// revision's identity. Sources fill it in when they resolve the location.
	SHA256 string `json:"sha256,omitempty"`
}

// Location is where a revision lives: exactly one of the pointer fields,
// matching Type, is set.
type Location struct {
	Type           LocationType    `json:"revisionType"`
	S3             *S3Location     `json:"s3Location,omitempty"`
	GitHub         *GitHubLocation `json:"gitHubLocation,omitempty"`
	AppSpecContent *AppSpecContent `json:"appSpecContent,omitempty"`
	Local          *LocalLocation  `json:"localLocation,omitempty"`
}

// Key returns the revision's identity as a stable string (see "Identity" in
// the package documentation): two locations name the same revision iff their
// keys are equal.
//
//   - S3: bucket + key + version (when set) + eTag (when set, quotes stripped)
//   - GitHub: repository + commit
//   - AppSpecContent: the SHA-256 of the content
//   - Local: path + SHA-256 of the bundle
//
// Key does not validate; call Validate first for untrusted input.
func (l Location) Key() string {
	var buf [keyRoom]byte
	return string(l.appendKey(buf[:0]))
}

// keyRoom is the room on the stack for a key: longer ones are built on the
// heap.
const keyRoom = 256

// appendKey appends l's Key to dst: the one place the key is spelled, for
// Key and for Equal, which compares keys without making strings.
func (l Location) appendKey(dst []byte) []byte {
	switch l.Type {
	case LocationS3:
		if l.S3 == nil {
			break
		}
		dst = append(append(append(append(dst, "s3:"...), l.S3.Bucket...), '/'), l.S3.Key...)
		dst = append(append(dst, "?version="...), l.S3.Version...)
		return append(append(dst, "&etag="...), strings.Trim(l.S3.ETag, `"`)...)
	case LocationGitHub:
		if l.GitHub == nil {
			break
		}
		dst = append(append(append(dst, "github:"...), l.GitHub.Repository...), '@')
		return appendLower(dst, l.GitHub.CommitID)
	case LocationAppSpecContent:
		if l.AppSpecContent == nil {
			break
		}
		return appendLower(append(dst, "appspec:sha256:"...), l.AppSpecContent.contentSHA256())
	case LocationLocal:
		if l.Local == nil {
			break
		}
		dst = append(append(dst, "local:"...), l.Local.Path...)
		return appendLower(append(dst, "#sha256:"...), l.Local.SHA256)
	}
	return append(append(dst, "invalid:"...), l.Type...)
}

// appendLower appends strings.ToLower(s) to dst, without a string of its
// own when s is ASCII (hex digests and commit IDs are).
func appendLower(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return append(dst, strings.ToLower(s)...)
		}
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		dst = append(dst, c)
	}
	return dst
}

// Clone returns a deep copy of l: changing the copy (through its pointer
// fields) never changes l.
func (l Location) Clone() Location {
	l.S3 = clonePtr(l.S3)
	l.GitHub = clonePtr(l.GitHub)
	l.AppSpecContent = clonePtr(l.AppSpecContent)
	l.Local = clonePtr(l.Local)
	return l
}

// clonePtr copies the struct p points to; the structs of a Location hold no
// references.
func clonePtr[T any](p *T) *T {
	if p == nil {
		return nil
	}
	v := *p
	return &v
}

// Equal reports whether l and o name the same revision (see Key). It
// allocates nothing for keys of up to 256 bytes: instance records are
// compared with the group's revision one by one, a whole fleet at a time.
func (l Location) Equal(o Location) bool {
	var a, b [keyRoom]byte
	return bytes.Equal(l.appendKey(a[:0]), o.appendKey(b[:0]))
}

// String returns a short human-readable form of the location.
func (l Location) String() string {
	switch {
	case l.Type == LocationS3 && l.S3 != nil:
		s := fmt.Sprintf("s3://%s/%s", l.S3.Bucket, l.S3.Key)
		if l.S3.Version != "" {
			s += "?versionId=" + l.S3.Version
		}
		return s
	case l.Type == LocationGitHub && l.GitHub != nil:
		return fmt.Sprintf("github.com/%s@%s", l.GitHub.Repository, l.GitHub.CommitID)
	case l.Type == LocationAppSpecContent && l.AppSpecContent != nil:
		sum := l.AppSpecContent.contentSHA256()
		if len(sum) > 12 {
			sum = sum[:12]
		}
		return "appspec-content:" + sum
	case l.Type == LocationLocal && l.Local != nil:
		return "local:" + l.Local.Path
	}
	return l.Key()
}

// contentSHA256 returns SHA256 when set, else the hex SHA-256 of Content.
func (a *AppSpecContent) contentSHA256() string {
	if a.SHA256 != "" {
		return a.SHA256
	}
	sum := sha256.Sum256([]byte(a.Content))
	return hex.EncodeToString(sum[:])
}

// LocationProblem is one rule a Location breaks.
type LocationProblem struct {
	// Field is the offending field as CodeDeploy's RevisionLocation spells
	// it, e.g. "s3Location.bucket" ("localLocation" for the Local extension).
	Field string
	// Rule says what the field must be.
	Rule string
}

// String reads "field: rule".
func (p LocationProblem) String() string { return p.Field + ": " + p.Rule }

// Error reads "field: rule"; the list holding the problem names the
// location.
func (p *LocationProblem) Error() string { return p.String() }

// Unwrap returns ErrInvalidLocation.
func (p *LocationProblem) Unwrap() error { return ErrInvalidLocation }

// locationErr returns ps as the error of an invalid location (see
// Validate), or nil when ps is empty.
func locationErr(l Location, ps []LocationProblem) error {
	list := errmsg.NewList(fmt.Sprintf("%s %q", ErrInvalidLocation, l.String()), "problems")
	for i := range ps {
		list = multierror.Append(list, &ps[i])
	}
	return list.ErrorOrNil()
}

// Validate reports every rule l breaks, as a *multierror.Error with one
// *LocationProblem per broken rule, matching ErrInvalidLocation (nil when
// l is valid):
//
//   - revisionType is S3, GitHub, AppSpecContent or Local, and exactly the
//     pointer field of that type is set (s3Location, gitHubLocation,
//     appSpecContent, localLocation);
//   - S3: bucket and key are non-empty, the bucket has no "/", bundleType is
//     zip, tar, tgz, YAML or JSON (Dir is for local bundles only);
//   - GitHub: repository is "account/repo" (letters, digits, "-", "_", "."
//     on each side of exactly one "/"), commitId is a full 40-digit hex
//     SHA-1;
//   - AppSpecContent: content is not blank; sha256, when given, is 64 hex
//     digits equal (ignoring case) to the SHA-256 of content;
//   - Local: path is non-empty without NUL bytes; bundleType, when given, is
//     a valid BundleType; sha256, when given, is 64 hex digits.
//
// Validate checks form only: whether the revision exists is for a Source
// to find out.
func (l Location) Validate() error {
	var ps []LocationProblem
	add := func(field, rule string, args ...any) {
		ps = append(ps, LocationProblem{Field: field, Rule: fmt.Sprintf(rule, args...)})
	}
	if !slices.Contains(l.Type.Values(), l.Type) {
		add("revisionType", "%q is not one of %s", l.Type, joinLocationTypes(l.Type.Values()))
	}
	fields := []struct {
		name string
		typ  LocationType
		set  bool
	}{
		{"s3Location", LocationS3, l.S3 != nil},
		{"gitHubLocation", LocationGitHub, l.GitHub != nil},
		{"appSpecContent", LocationAppSpecContent, l.AppSpecContent != nil},
		{"localLocation", LocationLocal, l.Local != nil},
	}
	for _, f := range fields {
		switch {
		case f.typ == l.Type && !f.set:
			add(f.name, "required when revisionType is %s", l.Type)
		case f.typ != l.Type && f.set:
			add(f.name, "must be empty when revisionType is %q", l.Type)
		}
	}
	if l.Type == LocationS3 && l.S3 != nil {
		s := l.S3
		if s.Bucket == "" {
			add("s3Location.bucket", "must not be empty")
		} else if strings.Contains(s.Bucket, "/") {
			add("s3Location.bucket", "%q must not contain \"/\"", s.Bucket)
		}
		if s.Key == "" {
			add("s3Location.key", "must not be empty")
		}
		if s.BundleType == BundleDir || !slices.Contains(s.BundleType.Values(), s.BundleType) {
			add("s3Location.bundleType", "%q is not one of zip, tar, tgz, YAML, JSON", s.BundleType)
		}
	}
	if l.Type == LocationGitHub && l.GitHub != nil {
		g := l.GitHub
		if !validGitHubRepository(g.Repository) {
			add("gitHubLocation.repository", "%q is not of the form account/repo", g.Repository)
		}
		if len(g.CommitID) != 40 || !isHexDigits(g.CommitID) {
			add("gitHubLocation.commitId", "%q is not a full 40-digit hex commit SHA-1", g.CommitID)
		}
	}
	if l.Type == LocationAppSpecContent && l.AppSpecContent != nil {
		a := l.AppSpecContent
		if strings.TrimSpace(a.Content) == "" {
			add("appSpecContent.content", "must not be blank")
		}
		if a.SHA256 != "" {
			sum := sha256.Sum256([]byte(a.Content))
			switch {
			case len(a.SHA256) != 64 || !isHexDigits(a.SHA256):
				add("appSpecContent.sha256", "%q is not 64 hex digits", a.SHA256)
			case !strings.EqualFold(a.SHA256, hex.EncodeToString(sum[:])):
				add("appSpecContent.sha256", "%s does not match the content's SHA-256 %x", a.SHA256, sum)
			}
		}
	}
	if l.Type == LocationLocal && l.Local != nil {
		lo := l.Local
		switch {
		case lo.Path == "":
			add("localLocation.path", "must not be empty")
		case strings.ContainsRune(lo.Path, 0):
			add("localLocation.path", "must not contain a NUL byte")
		}
		if lo.BundleType != "" && !slices.Contains(lo.BundleType.Values(), lo.BundleType) {
			add("localLocation.bundleType", "%q is not one of zip, tar, tgz, YAML, JSON, Dir", lo.BundleType)
		}
		if lo.SHA256 != "" && (len(lo.SHA256) != 64 || !isHexDigits(lo.SHA256)) {
			add("localLocation.sha256", "%q is not 64 hex digits", lo.SHA256)
		}
	}
	return locationErr(l, ps)
}

func joinLocationTypes(ts []LocationType) string {
	s := make([]string, len(ts))
	for i, t := range ts {
		s[i] = string(t)
	}
	return strings.Join(s, ", ")
}

// validGitHubRepository reports whether r is "account/repo".
func validGitHubRepository(r string) bool {
	account, repo, ok := strings.Cut(r, "/")
	if !ok || account == "" || repo == "" || strings.Contains(repo, "/") {
		return false
	}
	for _, c := range r {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9',
			c == '-', c == '_', c == '.', c == '/':
		default:
			return false
		}
	}
	return true
}

// isHexDigits reports whether s is non-empty and all hex digits.
func isHexDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}

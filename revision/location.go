package revision

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
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

// Key returns the revision's identity as a stable string (spec §11.12): two
// locations name the same revision iff their keys are equal.
//
//   - S3: bucket + key + version (when set) + eTag (when set, quotes stripped)
//   - GitHub: repository + commit
//   - AppSpecContent: the SHA-256 of the content
//   - Local: path + SHA-256 of the bundle
//
// Key does not validate; call Validate first for untrusted input.
func (l Location) Key() string {
	switch l.Type {
	case LocationS3:
		if l.S3 == nil {
			break
		}
		return "s3:" + l.S3.Bucket + "/" + l.S3.Key + "?version=" + l.S3.Version + "&etag=" + strings.Trim(l.S3.ETag, `"`)
	case LocationGitHub:
		if l.GitHub == nil {
			break
		}
		return "github:" + l.GitHub.Repository + "@" + strings.ToLower(l.GitHub.CommitID)
	case LocationAppSpecContent:
		if l.AppSpecContent == nil {
			break
		}
		return "appspec:sha256:" + strings.ToLower(l.AppSpecContent.contentSHA256())
	case LocationLocal:
		if l.Local == nil {
			break
		}
		return "local:" + l.Local.Path + "#sha256:" + strings.ToLower(l.Local.SHA256)
	}
	return "invalid:" + string(l.Type)
}

// Equal reports whether l and o name the same revision (see Key).
func (l Location) Equal(o Location) bool { return l.Key() == o.Key() }

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

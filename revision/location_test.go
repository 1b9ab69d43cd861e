package revision_test

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/hashicorp/go-multierror"

	"github.com/fleetdeploy/fleetdeploy/revision"
)

const commit = "0123456789abcdef0123456789abcdef01234567"

func s3(bucket, key string, bt revision.BundleType) revision.Location {
	return revision.Location{Type: revision.LocationS3, S3: &revision.S3Location{Bucket: bucket, Key: key, BundleType: bt}}
}

func s3v(version, etag string) revision.Location {
	l := s3("releases", "web/app.zip", revision.BundleZip)
	l.S3.Version, l.S3.ETag = version, etag
	return l
}

func gh(repo, commit string) revision.Location {
	return revision.Location{Type: revision.LocationGitHub, GitHub: &revision.GitHubLocation{Repository: repo, CommitID: commit}}
}

func content(c, sum string) revision.Location {
	return revision.Location{Type: revision.LocationAppSpecContent, AppSpecContent: &revision.AppSpecContent{Content: c, SHA256: sum}}
}

func local(path string, bt revision.BundleType, sum string) revision.Location {
	return revision.Location{Type: revision.LocationLocal, Local: &revision.LocalLocation{Path: path, BundleType: bt, SHA256: sum}}
}

func sha(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// TestLocationValidate: the rules of the API Reference's RevisionLocation
// (and S3Location, GitHubLocation, AppSpecContent), each
// reported with its field.
func TestLocationValidate(t *testing.T) {
	both := s3("b", "k", revision.BundleZip)
	both.GitHub = &revision.GitHubLocation{Repository: "a/b", CommitID: commit}
	for _, tc := range []struct {
		name   string
		loc    revision.Location
		fields []string // the fields of the problems, in order; nil = valid
	}{
		{"valid S3", s3("releases", "web/app.zip", revision.BundleZip), nil},
		{"valid S3 YAML (Lambda)", s3("releases", "fn/appspec.yaml", revision.BundleYAML), nil},
		{"valid S3 with version and quoted eTag", s3v("v1", `"abc"`), nil},
		{"valid GitHub", gh("acme/web-app.v2", commit), nil},
		{"valid GitHub upper-case commit", gh("acme/web", strings.ToUpper(commit)), nil},
		{"valid content", content("version: 0.0\n", ""), nil},
		{"valid content with its sha256", content("version: 0.0\n", strings.ToUpper(sha("version: 0.0\n"))), nil},
		{"valid local", local("bundles/app.zip", "", ""), nil},
		{"valid local Dir with sha256", local("/srv/app", revision.BundleDir, sha("x")), nil},

		{"empty location", revision.Location{}, []string{"revisionType"}},
		{"unknown type", revision.Location{Type: "String"}, []string{"revisionType"}},
		{"type without its field", revision.Location{Type: revision.LocationS3}, []string{"s3Location"}},
		{"two fields", both, []string{"gitHubLocation"}},
		{"field of another type", revision.Location{Type: revision.LocationLocal, S3: &revision.S3Location{}}, []string{"s3Location", "localLocation"}},
		{"S3 empty", s3("", "", ""), []string{"s3Location.bucket", "s3Location.key", "s3Location.bundleType"}},
		{"S3 bucket with a slash", s3("a/b", "k", revision.BundleTgz), []string{"s3Location.bucket"}},
		{"S3 Dir bundle", s3("b", "k", revision.BundleDir), []string{"s3Location.bundleType"}},
		{"S3 unknown bundle type", s3("b", "k", "rar"), []string{"s3Location.bundleType"}},
		{"GitHub empty", gh("", ""), []string{"gitHubLocation.repository", "gitHubLocation.commitId"}},
		{"GitHub repo without account", gh("web", commit), []string{"gitHubLocation.repository"}},
		{"GitHub repo with two slashes", gh("a/b/c", commit), []string{"gitHubLocation.repository"}},
		{"GitHub repo with a space", gh("a b/c", commit), []string{"gitHubLocation.repository"}},
		{"GitHub short commit", gh("a/b", commit[:7]), []string{"gitHubLocation.commitId"}},
		{"GitHub non-hex commit", gh("a/b", "g"+commit[1:]), []string{"gitHubLocation.commitId"}},
		{"content blank", content(" \n\t", ""), []string{"appSpecContent.content"}},
		{"content sha256 mismatch", content("version: 0.0\n", sha("other")), []string{"appSpecContent.sha256"}},
		{"content sha256 not hex", content("version: 0.0\n", "xyz"), []string{"appSpecContent.sha256"}},
		{"local empty path", local("", "", ""), []string{"localLocation.path"}},
		{"local NUL in path", local("a\x00b", "", ""), []string{"localLocation.path"}},
		{"local unknown bundle type", local("a", "rar", ""), []string{"localLocation.bundleType"}},
		{"local bad sha256", local("a", "", "abc"), []string{"localLocation.sha256"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.loc.Validate()
			if tc.fields == nil {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			if !errors.Is(err, revision.ErrInvalidLocation) {
				t.Fatalf("Validate() = %v, want an error matching ErrInvalidLocation", err)
			}
			var list *multierror.Error
			if !errors.As(err, &list) {
				t.Fatalf("Validate() = %T, want a *multierror.Error", err)
			}
			var got []string
			for _, e := range list.Errors {
				p, ok := e.(*revision.LocationProblem)
				if !ok {
					t.Fatalf("element %T %v is not a *LocationProblem", e, e)
				}
				got = append(got, p.Field)
				if !strings.Contains(err.Error(), p.Field+": "+p.Rule) {
					t.Errorf("message %q lacks problem %q", err, p)
				}
			}
			if !slices.Equal(got, tc.fields) {
				t.Errorf("problem fields = %q, want %q (%v)", got, tc.fields, err)
			}
			if !strings.HasPrefix(err.Error(), "revision: ") {
				t.Errorf("message %q lacks the package prefix", err)
			}
		})
	}
}

// TestLocationKey: revision identity (see "Identity" in the package
// documentation).
func TestLocationKey(t *testing.T) {
	for _, tc := range []struct {
		name string
		a, b revision.Location
		same bool
	}{
		{"S3 same object", s3v("", ""), s3v("", ""), true},
		{"S3 version set vs not", s3v("v1", ""), s3v("", ""), false},
		{"S3 different versions", s3v("v1", ""), s3v("v2", ""), false},
		{"S3 eTag set vs not", s3v("", "abc"), s3v("", ""), false},
		{"S3 quoted eTag equals unquoted", s3v("", `"abc"`), s3v("", "abc"), true},
		{"S3 different eTags", s3v("", "abc"), s3v("", "abd"), false},
		{"S3 version and eTag", s3v("v1", "abc"), s3v("v1", `"abc"`), true},
		{"S3 bucket counts", s3("one", "app.zip", revision.BundleZip), s3("two", "app.zip", revision.BundleZip), false},
		{"S3 key counts", s3("one", "a.zip", revision.BundleZip), s3("one", "b.zip", revision.BundleZip), false},
		{"S3 bundle type does not count", s3("one", "app", revision.BundleZip), s3("one", "app", revision.BundleTgz), true},
		{"GitHub same commit", gh("acme/web", commit), gh("acme/web", commit), true},
		{"GitHub commit case ignored", gh("acme/web", commit), gh("acme/web", strings.ToUpper(commit)), true},
		{"GitHub different commits", gh("acme/web", commit), gh("acme/web", strings.Repeat("a", 40)), false},
		{"GitHub repository counts", gh("acme/web", commit), gh("acme/api", commit), false},
		{"content same text", content("version: 0.0\n", ""), content("version: 0.0\n", ""), true},
		{"content sha256 given or computed", content("version: 0.0\n", sha("version: 0.0\n")), content("version: 0.0\n", ""), true},
		{"content different text", content("version: 0.0\n", ""), content("version: 0.0\n# changed\n", ""), false},
		{"local same path and hash", local("app.zip", "", sha("x")), local("app.zip", revision.BundleZip, sha("x")), true},
		{"local hash case ignored", local("app.zip", "", sha("x")), local("app.zip", "", strings.ToUpper(sha("x"))), true},
		{"local different hash", local("app.zip", "", sha("x")), local("app.zip", "", sha("y")), false},
		{"local different path", local("a.zip", "", sha("x")), local("b.zip", "", sha("x")), false},
		{"different types", s3v("", ""), gh("acme/web", commit), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.a.Equal(tc.b); got != tc.same {
				t.Errorf("Equal = %v, want %v (keys %q, %q)", got, tc.same, tc.a.Key(), tc.b.Key())
			}
			if got := tc.a.Key() == tc.b.Key(); got != tc.same {
				t.Errorf("Key equality = %v, want %v", got, tc.same)
			}
		})
	}
}

// TestLocationTypeValues: the enum is spelled as CodeDeploy spells it.
func TestLocationTypeValues(t *testing.T) {
	if got := revision.LocationType("").Values(); !slices.Equal(got, []revision.LocationType{"S3", "GitHub", "AppSpecContent", "Local"}) {
		t.Errorf("LocationType.Values() = %q", got)
	}
	if got := revision.BundleType("").Values(); !slices.Equal(got, []revision.BundleType{"zip", "tar", "tgz", "YAML", "JSON", "Dir"}) {
		t.Errorf("BundleType.Values() = %q", got)
	}
}

// ExampleLocation_Validate shows every problem of a location reported at
// once, each naming its field.
func ExampleLocation_Validate() {
	loc := revision.Location{
		Type: revision.LocationGitHub,
		GitHub: &revision.GitHubLocation{
			Repository: "web",
			CommitID:   "4f1c2a",
		},
	}
	err := loc.Validate()
	fmt.Println(err)
	fmt.Println(errors.Is(err, revision.ErrInvalidLocation))
	// Output:
	// revision: invalid revision location "github.com/web@4f1c2a": 2 problems:
	//   gitHubLocation.repository: "web" is not of the form account/repo
	//   gitHubLocation.commitId: "4f1c2a" is not a full 40-digit hex commit SHA-1
	// true
}

// Clone copies every pointer field, so the copy can be changed freely.
func TestLocationClone(t *testing.T) {
	locs := []revision.Location{
		{Type: revision.LocationS3, S3: &revision.S3Location{Bucket: "b", Key: "k.zip", BundleType: revision.BundleZip, Version: "v1"}},
		{Type: revision.LocationGitHub, GitHub: &revision.GitHubLocation{Repository: "acme/web", CommitID: commit}},
		{Type: revision.LocationAppSpecContent, AppSpecContent: &revision.AppSpecContent{Content: "version: 0.0"}},
		{Type: revision.LocationLocal, Local: &revision.LocalLocation{Path: "/tmp/b.zip", SHA256: "ab"}},
		{},
	}
	for _, l := range locs {
		key := l.Key()
		c := l.Clone()
		if !c.Equal(l) || c.Key() != key {
			t.Errorf("%s: clone %s is not equal", l, c)
		}
		switch {
		case c.S3 != nil:
			c.S3.Bucket = "other"
		case c.GitHub != nil:
			c.GitHub.CommitID = strings.Repeat("f", 40)
		case c.AppSpecContent != nil:
			c.AppSpecContent.Content = "changed"
		case c.Local != nil:
			c.Local.SHA256 = "cd"
		}
		if l.Key() != key {
			t.Errorf("changing the clone changed the original: %s", l.Key())
		}
	}
}

// BenchmarkLocationEqual compares an instance record's revision with the
// group's, as a deployment does for every target of the fleet; it reports
// allocations (none expected for keys of up to 256 bytes).
func BenchmarkLocationEqual(b *testing.B) {
	a := s3v("3HL4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY+MTRCxf3vjVBH40Nr8X8gdRQBpUMLUo", `"9b2cf535f27731c974343645a3985328"`)
	c := s3v("3HL4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY+MTRCxf3vjVBH40Nr8X8gdRQBpUMLUo", "9b2cf535f27731c974343645a3985328")
	b.ReportAllocs()
	for b.Loop() {
		if !a.Equal(c) {
			b.Fatal("not equal")
		}
	}
}

package revisiontest_test

import (
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"runtime"
	"testing"

	"github.com/fleetdeploy/fleetdeploy/revision"
	"github.com/fleetdeploy/fleetdeploy/revision/revisiontest"
)

const commit = "0123456789abcdef0123456789abcdef01234567"

func s3loc(key string, bt revision.BundleType) revision.Location {
	return revision.Location{Type: revision.LocationS3, S3: &revision.S3Location{Bucket: "releases", Key: key, BundleType: bt}}
}

func TestMemSourceConformance(t *testing.T) {
	for _, tc := range []struct {
		name    string
		locate  func(n int) revision.Location
		missing revision.Location
		other   []revision.LocationType
	}{
		{"S3 zip", func(n int) revision.Location { return s3loc(fmt.Sprintf("app-%d.zip", n), revision.BundleZip) },
			s3loc("none.zip", revision.BundleZip), nil},
		{"S3 tar", func(n int) revision.Location { return s3loc(fmt.Sprintf("app-%d.tar", n), revision.BundleTar) },
			s3loc("none.tar", revision.BundleTar), nil},
		{"GitHub", func(n int) revision.Location {
			c := fmt.Sprintf("%040x", n)
			return revision.Location{Type: revision.LocationGitHub, GitHub: &revision.GitHubLocation{Repository: "acme/web", CommitID: c}}
		}, revision.Location{Type: revision.LocationGitHub, GitHub: &revision.GitHubLocation{Repository: "acme/web", CommitID: commit}}, nil},
		{"Local tgz", func(n int) revision.Location {
			return revision.Location{Type: revision.LocationLocal, Local: &revision.LocalLocation{Path: fmt.Sprintf("bundles/%d.tar.gz", n)}}
		}, revision.Location{Type: revision.LocationLocal, Local: &revision.LocalLocation{Path: "none.zip"}}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			revisiontest.TestSource(t, func(t *testing.T) (revision.Source, revisiontest.Fixture) {
				src := revisiontest.NewMemSource()
				n := 0
				return src, revisiontest.Fixture{
					Put: func(t *testing.T, files map[string]string) revision.Location {
						n++
						loc, err := src.PutFiles(tc.locate(n), files)
						if err != nil {
							t.Fatal(err)
						}
						return loc
					},
					Missing:     func(t *testing.T) revision.Location { return tc.missing },
					Unsupported: []revision.LocationType{revision.LocationAppSpecContent},
				}
			})
		})
	}
}

func open(t *testing.T, src revision.Source, loc revision.Location) (*revision.Bundle, error) {
	t.Helper()
	b, err := src.Open(t.Context(), loc)
	if err == nil {
		t.Cleanup(func() { b.Close() })
	}
	return b, err
}

// TestMemSourceS3Versions: without a version the latest object is opened;
// a version selects one; the eTag is S3's single-part eTag (the MD5).
func TestMemSourceS3Versions(t *testing.T) {
	src := revisiontest.NewMemSource()
	base := s3loc("app.zip", revision.BundleZip)
	v1 := s3loc("app.zip", revision.BundleZip)
	v1.S3.Version = "v1"
	v2 := s3loc("app.zip", revision.BundleZip)
	v2.S3.Version = "v2"
	d1, _ := revisiontest.Zip(map[string]string{"appspec.yml": "one"})
	d2, _ := revisiontest.Zip(map[string]string{"appspec.yml": "two"})
	r1, err := src.Put(v1, d1)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := src.Put(v2, d2); err != nil {
		t.Fatal(err)
	}
	sum := md5.Sum(d1)
	if r1.S3.Version != "v1" || r1.S3.ETag != hex.EncodeToString(sum[:]) {
		t.Errorf("Put resolved %+v, want version v1 and eTag %x", r1.S3, sum)
	}
	for _, tc := range []struct {
		loc  revision.Location
		want string
	}{{base, "two"}, {v1, "one"}, {v2, "two"}} {
		b, err := open(t, src, tc.loc)
		if err != nil {
			t.Fatal(err)
		}
		_, content, _ := revision.ReadAppSpec(t.Context(), b)
		if string(content) != tc.want {
			t.Errorf("Open(%s) read %q, want %q", tc.loc, content, tc.want)
		}
	}
	v3 := s3loc("app.zip", revision.BundleZip)
	v3.S3.Version = "v3"
	if _, err := open(t, src, v3); !errors.Is(err, revision.ErrRevisionNotFound) {
		t.Errorf("Open of a missing version: err = %v, want ErrRevisionNotFound", err)
	}
	pinned := *r1.S3
	pinned.ETag = `"` + pinned.ETag + `"`
	if _, err := open(t, src, revision.Location{Type: revision.LocationS3, S3: &pinned}); err != nil {
		t.Errorf("Open pinned to its quoted eTag: %v", err)
	}
	pinned.ETag = "0000"
	if _, err := open(t, src, revision.Location{Type: revision.LocationS3, S3: &pinned}); !errors.Is(err, revision.ErrChecksumMismatch) {
		t.Errorf("Open pinned to another eTag: err = %v, want ErrChecksumMismatch", err)
	}
}

// TestMemSourceUnversioned: an unversioned Put replaces the object, and the
// environment has no BUNDLE_VERSION, as the CodeDeploy agent sets none.
func TestMemSourceUnversioned(t *testing.T) {
	src := revisiontest.NewMemSource()
	loc := s3loc("app.tgz", revision.BundleTgz)
	first, _ := src.PutFiles(loc, map[string]string{"appspec.yml": "one"})
	second, _ := src.PutFiles(loc, map[string]string{"appspec.yml": "two"})
	if first.Equal(second) {
		t.Errorf("two different bundles at one key have the same identity %s", first.Key())
	}
	b, err := open(t, src, loc)
	if err != nil {
		t.Fatal(err)
	}
	if !b.Location.Equal(second) {
		t.Errorf("Open resolved %s, want the second Put %s", b.Location.Key(), second.Key())
	}
	if _, ok := b.Env["BUNDLE_VERSION"]; ok || b.Env["BUNDLE_ETAG"] != second.S3.ETag {
		t.Errorf("Env = %v, want no BUNDLE_VERSION and BUNDLE_ETAG %s", b.Env, second.S3.ETag)
	}
	if _, err := open(t, src, first); !errors.Is(err, revision.ErrChecksumMismatch) {
		t.Errorf("Open of the replaced object by its eTag: err = %v, want ErrChecksumMismatch", err)
	}
}

// TestMemSourceLocal: a local bundle's identity hash is the SHA-256 of its
// bytes; a different pinned hash is refused.
func TestMemSourceLocal(t *testing.T) {
	src := revisiontest.NewMemSource()
	data, _ := revisiontest.Tar(map[string]string{"appspec.yml": "v"})
	loc := revision.Location{Type: revision.LocationLocal, Local: &revision.LocalLocation{Path: "app.tar"}}
	r, err := src.Put(loc, data)
	sum := sha256.Sum256(data)
	if err != nil || r.Local.SHA256 != hex.EncodeToString(sum[:]) || r.Local.BundleType != revision.BundleTar {
		t.Fatalf("Put = %+v, %v; want sha256 %x, type tar", r.Local, err, sum)
	}
	bad := revision.Location{Type: revision.LocationLocal, Local: &revision.LocalLocation{Path: "app.tar", SHA256: fmt.Sprintf("%064x", 1)}}
	if _, err := open(t, src, bad); !errors.Is(err, revision.ErrChecksumMismatch) {
		t.Errorf("Open pinned to another hash: err = %v, want ErrChecksumMismatch", err)
	}
	for _, l := range []revision.Location{
		{Type: revision.LocationLocal, Local: &revision.LocalLocation{Path: "dir", BundleType: revision.BundleDir}},
		{Type: revision.LocationLocal, Local: &revision.LocalLocation{Path: "noext"}},
		{Type: revision.LocationAppSpecContent, AppSpecContent: &revision.AppSpecContent{Content: "v"}},
	} {
		if _, err := src.Put(l, data); err == nil {
			t.Errorf("Put(%s) succeeded", l)
		}
	}
}

// TestMemSourceGitHub: GitHub bundles are tgz tarballs with one top
// directory, as GitHub serves them; the commit is in BUNDLE_COMMIT.
func TestMemSourceGitHub(t *testing.T) {
	src := revisiontest.NewMemSource()
	loc := revision.Location{Type: revision.LocationGitHub, GitHub: &revision.GitHubLocation{Repository: "acme/web", CommitID: commit}}
	if _, err := src.PutFiles(loc, map[string]string{"appspec.yml": "v"}); err != nil {
		t.Fatal(err)
	}
	b, err := open(t, src, loc)
	if err != nil {
		t.Fatal(err)
	}
	name, _, err := revision.ReadAppSpec(t.Context(), b)
	if b.Type != revision.BundleTgz || name != "acme-web-0123456/appspec.yml" || err != nil || b.Env["BUNDLE_COMMIT"] != commit {
		t.Errorf("GitHub bundle: type %s, AppSpec %q (%v), env %v", b.Type, name, err, b.Env)
	}
}

// TestMemSourceSetError: injected errors are returned until cleared, for
// every location naming the object.
func TestMemSourceSetError(t *testing.T) {
	src := revisiontest.NewMemSource()
	loc, _ := src.PutFiles(s3loc("app.zip", revision.BundleZip), map[string]string{"appspec.yml": "v"})
	boom := errors.New("throttled")
	src.SetError(s3loc("app.zip", revision.BundleZip), boom)
	for _, l := range []revision.Location{loc, s3loc("app.zip", revision.BundleZip)} {
		if _, err := open(t, src, l); !errors.Is(err, boom) {
			t.Errorf("Open(%s) = %v, want the injected error", l, err)
		}
	}
	src.SetError(loc, nil)
	if _, err := open(t, src, loc); err != nil {
		t.Errorf("Open after clearing the error: %v", err)
	}
	if got := src.Opens(loc); got != 3 {
		t.Errorf("Opens = %d, want 3", got)
	}
}

// TestMemSourceHold: a held Open waits for release or for its context.
func TestMemSourceHold(t *testing.T) {
	src := revisiontest.NewMemSource()
	loc, _ := src.PutFiles(s3loc("app.zip", revision.BundleZip), map[string]string{"appspec.yml": "v"})
	release := src.Hold(loc)

	type result struct {
		b   *revision.Bundle
		err error
	}
	start := func(ctx context.Context) <-chan result {
		ch := make(chan result, 1)
		before := src.Opens(loc)
		go func() {
			b, err := src.Open(ctx, loc)
			ch <- result{b, err}
		}()
		for src.Opens(loc) == before { // until the Open is counted, i.e. waiting
			runtime.Gosched()
		}
		return ch
	}

	ctx, cancel := context.WithCancel(t.Context())
	cancelled := start(ctx)
	cancel()
	if r := <-cancelled; !errors.Is(r.err, context.Canceled) {
		t.Errorf("held Open after cancel: err = %v, want context.Canceled", r.err)
	}

	held := start(t.Context())
	select {
	case r := <-held:
		t.Fatalf("held Open returned before release: %v", r.err)
	default:
	}
	release()
	release() // idempotent
	r := <-held
	if r.err != nil {
		t.Fatalf("released Open: %v", r.err)
	}
	if _, err := io.ReadAll(r.b.Body); err != nil {
		t.Error(err)
	}
	r.b.Close()
}

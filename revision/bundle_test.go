package revision_test

import (
	"errors"
	"maps"
	"strings"
	"testing"

	"github.com/fleetdeploy/fleetdeploy/revision"
)

// TestBundleEnv: the bundle environment variables the CodeDeploy agent sets
// (command_executor.rb in aws/aws-codedeploy-agent).
func TestBundleEnv(t *testing.T) {
	for _, tc := range []struct {
		name string
		loc  revision.Location
		want map[string]string
	}{
		{"S3 versioned", s3v("3HL4kqtJlcpXroDTDmJ", `"9b2cf535f27731c974343645a3985328"`), map[string]string{
			"BUNDLE_BUCKET": "releases", "BUNDLE_KEY": "web/app.zip",
			"BUNDLE_VERSION": "3HL4kqtJlcpXroDTDmJ", "BUNDLE_ETAG": "9b2cf535f27731c974343645a3985328",
		}},
		{"S3 unversioned: no BUNDLE_VERSION", s3v("", "abc"), map[string]string{
			"BUNDLE_BUCKET": "releases", "BUNDLE_KEY": "web/app.zip", "BUNDLE_ETAG": "abc",
		}},
		{"S3 unresolved: no BUNDLE_ETAG", s3v("", ""), map[string]string{
			"BUNDLE_BUCKET": "releases", "BUNDLE_KEY": "web/app.zip",
		}},
		{"GitHub", gh("acme/web", commit), map[string]string{"BUNDLE_COMMIT": commit}},
		{"content", content("version: 0.0\n", ""), map[string]string{}},
		{"local", local("app.zip", "", ""), map[string]string{}},
		{"invalid", revision.Location{Type: revision.LocationS3}, map[string]string{}},
	} {
		if got := revision.BundleEnv(tc.loc); !maps.Equal(got, tc.want) {
			t.Errorf("%s: BundleEnv = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestBundleTypeFromName(t *testing.T) {
	for name, want := range map[string]revision.BundleType{
		"app.zip": revision.BundleZip, "APP.ZIP": revision.BundleZip, "app.tar": revision.BundleTar,
		"app.tgz": revision.BundleTgz, "app.tar.gz": revision.BundleTgz, "dir/appspec.yaml": revision.BundleYAML,
		"appspec.yml": revision.BundleYAML, "appspec.json": revision.BundleJSON,
		"app.gz": "", "app": "", ".zip": "", "app.zip.bak": "",
	} {
		got, ok := revision.BundleTypeFromName(name)
		if got != want || ok != (want != "") {
			t.Errorf("BundleTypeFromName(%q) = %q, %v; want %q", name, got, ok, want)
		}
	}
}

type closeCounter struct {
	strings.Reader
	closes int
}

func (c *closeCounter) Close() error {
	c.closes++
	if c.closes > 1 {
		return errors.New("closed twice")
	}
	return nil
}

func TestBundleClose(t *testing.T) {
	body := &closeCounter{}
	b := &revision.Bundle{Type: revision.BundleZip, Body: body}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if err := b.Close(); err != nil || body.closes != 1 {
		t.Errorf("second Close = %v, body closed %d times; want nil, once", err, body.closes)
	}
	var nilBundle *revision.Bundle
	if err := nilBundle.Close(); err != nil {
		t.Errorf("nil Bundle Close = %v", err)
	}
	if err := (&revision.Bundle{Type: revision.BundleDir, Dir: t.TempDir()}).Close(); err != nil {
		t.Errorf("Dir Bundle Close = %v", err)
	}
}

package s3revision_test

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"

	"github.com/fleetdeploy/fleetdeploy/revision"
	"github.com/fleetdeploy/fleetdeploy/revision/revisiontest"
	"github.com/fleetdeploy/fleetdeploy/revision/s3revision"
)

var appFiles = map[string]string{
	"appspec.yml":      "version: 0.0\nos: linux\n",
	"scripts/start.sh": "#!/bin/sh\necho start\n",
	"web/index.html":   "<h1>hello</h1>\n",
}

func newSource(t *testing.T, api s3revision.API, opts ...func(*s3revision.Options)) *s3revision.Source {
	t.Helper()
	src, err := s3revision.New(api, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return src
}

// unpack unpacks b into a new directory and returns its files.
func unpack(t *testing.T, b *revision.Bundle) map[string]string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), "bundle")
	if _, err := revision.Unpack(t.Context(), b, dst); err != nil {
		t.Fatalf("Unpack: %v", err)
	}
	got := map[string]string{}
	err := filepath.WalkDir(dst, func(p string, d os.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		data, err := os.ReadFile(p)
		rel, _ := filepath.Rel(dst, p)
		got[filepath.ToSlash(rel)] = string(data)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func sameFiles(t *testing.T, got, want map[string]string) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("unpacked %d files %v, want %d", len(got), got, len(want))
	}
	for p, w := range want {
		if got[p] != w {
			t.Errorf("unpacked %s = %q, want %q", p, got[p], w)
		}
	}
}

func TestConformance(t *testing.T) {
	revisiontest.TestSource(t, func(t *testing.T) (revision.Source, revisiontest.Fixture) {
		fake := newFakeS3(t, nil, nil)
		createBucket(t, fake.client, "conformance")
		n := 0
		return newSource(t, fake.client), revisiontest.Fixture{
			Put: func(t *testing.T, files map[string]string) revision.Location {
				n++
				data, err := revisiontest.Zip(files)
				if err != nil {
					t.Fatal(err)
				}
				key := fmt.Sprintf("app-%d.zip", n)
				put(t, fake.client, "conformance", key, data)
				return s3loc("conformance", key, revision.BundleZip)
			},
			Missing: func(t *testing.T) revision.Location { return s3loc("conformance", "missing.zip", revision.BundleZip) },
			Unsupported: []revision.LocationType{
				revision.LocationGitHub, revision.LocationAppSpecContent, revision.LocationLocal,
			},
		}
	})
}

// Every archive type opens as the location's bundle type and unpacks; the
// resolved location carries the object's eTag, and Env the bundle's
// variables.
func TestOpenBundleTypes(t *testing.T) {
	fake := newFakeS3(t, nil, nil)
	createBucket(t, fake.client, "releases")
	src := newSource(t, fake.client)
	for _, typ := range []revision.BundleType{revision.BundleZip, revision.BundleTar, revision.BundleTgz} {
		t.Run(string(typ), func(t *testing.T) {
			data, err := revisiontest.Build(typ, revisiontest.Files(appFiles)...)
			if err != nil {
				t.Fatal(err)
			}
			key := "web/app." + string(typ)
			put(t, fake.client, "releases", key, data)
			sum := md5.Sum(data)
			etag := hex.EncodeToString(sum[:])

			b, err := src.Open(t.Context(), s3loc("releases", key, typ))
			if err != nil {
				t.Fatal(err)
			}
			defer b.Close()
			if b.Type != typ {
				t.Errorf("bundle type %q, want %q", b.Type, typ)
			}
			if got := b.Location.S3; got.ETag != etag || got.Bucket != "releases" || got.Key != key || got.Version != "" {
				t.Errorf("resolved location %+v; want bucket releases, key %s, eTag %s, no version", got, key, etag)
			}
			want := map[string]string{"BUNDLE_BUCKET": "releases", "BUNDLE_KEY": key, "BUNDLE_ETAG": etag}
			if fmt.Sprint(b.Env) != fmt.Sprint(want) {
				t.Errorf("Env = %v, want %v", b.Env, want)
			}
			sameFiles(t, unpack(t, b), appFiles)
		})
	}
}

// A pinned eTag that matches (quoted or not, any case) opens; one that does
// not fails with ErrChecksumMismatch before a byte of the body is read.
func TestETag(t *testing.T) {
	fake := newFakeS3(t, nil, nil)
	createBucket(t, fake.client, "releases")
	data, _ := revisiontest.Zip(appFiles)
	put(t, fake.client, "releases", "app.zip", data)
	sum := md5.Sum(data)
	etag := hex.EncodeToString(sum[:])
	api := &countingAPI{api: fake.client}
	src := newSource(t, api)

	for _, pinned := range []string{etag, `"` + etag + `"`, strings.ToUpper(etag)} {
		loc := s3loc("releases", "app.zip", revision.BundleZip)
		loc.S3.ETag = pinned
		b, err := src.Open(t.Context(), loc)
		if err != nil {
			t.Fatalf("Open with the object's eTag %s: %v", pinned, err)
		}
		sameFiles(t, unpack(t, b), appFiles)
		b.Close()
	}

	api.bodyBytes.Store(0)
	loc := s3loc("releases", "app.zip", revision.BundleZip)
	loc.S3.ETag = "0123456789abcdef0123456789abcdef"
	b, err := src.Open(t.Context(), loc)
	if !errors.Is(err, revision.ErrChecksumMismatch) {
		b.Close()
		t.Fatalf("Open with another eTag: err = %v, want ErrChecksumMismatch", err)
	}
	for _, want := range []string{etag, "0123456789abcdef0123456789abcdef", "s3://releases/app.zip"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %s", err, want)
		}
	}
	if n := api.bodyBytes.Load(); n != 0 {
		t.Errorf("a mismatched bundle had %d body bytes read; want none", n)
	}
	if api.closed.Load() == 0 {
		t.Error("the body of the refused object was not closed")
	}
}

// Versions: a pinned version reads that version; no version reads the
// latest and resolves to its version ID; an unknown version is missing.
func TestVersions(t *testing.T) {
	fake := newFakeS3(t, nil, nil)
	createBucket(t, fake.client, "versioned")
	if _, err := fake.client.PutBucketVersioning(t.Context(), &s3.PutBucketVersioningInput{
		Bucket:                  aws.String("versioned"),
		VersioningConfiguration: &types.VersioningConfiguration{Status: types.BucketVersioningStatusEnabled},
	}); err != nil {
		t.Fatal(err)
	}
	v1files := map[string]string{"appspec.yml": "version: 0.0\nos: linux\n", "v": "1"}
	v2files := map[string]string{"appspec.yml": "version: 0.0\nos: linux\n", "v": "2"}
	d1, _ := revisiontest.Tgz(v1files)
	d2, _ := revisiontest.Tgz(v2files)
	v1 := put(t, fake.client, "versioned", "app.tgz", d1)
	v2 := put(t, fake.client, "versioned", "app.tgz", d2)
	if v1 == "" || v2 == "" || v1 == v2 {
		t.Fatalf("versions %q and %q; want two version IDs", v1, v2)
	}
	src := newSource(t, fake.client)
	checkVersions(t, src, "versioned", v1, v2, v1files, v2files)
}

// checkVersions checks the version rules on a bucket holding two versions
// of app.tgz.
func checkVersions(t *testing.T, src *s3revision.Source, bucket, v1, v2 string, v1files, v2files map[string]string) {
	t.Helper()
	loc := s3loc(bucket, "app.tgz", revision.BundleTgz)
	b, err := src.Open(t.Context(), loc)
	if err != nil {
		t.Fatal(err)
	}
	if b.Location.S3.Version != v2 || b.Env["BUNDLE_VERSION"] != v2 {
		t.Errorf("latest resolved to version %q (env %q), want %q", b.Location.S3.Version, b.Env["BUNDLE_VERSION"], v2)
	}
	sameFiles(t, unpack(t, b), v2files)
	b.Close()

	loc.S3.Version = v1
	b, err = src.Open(t.Context(), loc)
	if err != nil {
		t.Fatalf("Open version %s: %v", v1, err)
	}
	if b.Location.S3.Version != v1 {
		t.Errorf("version %s resolved to %q", v1, b.Location.S3.Version)
	}
	sameFiles(t, unpack(t, b), v1files)
	b.Close()

	d2, _ := revisiontest.Tgz(v2files)
	sum := md5.Sum(d2)
	loc.S3.ETag = hex.EncodeToString(sum[:])
	if b, err := src.Open(t.Context(), loc); !errors.Is(err, revision.ErrChecksumMismatch) {
		b.Close()
		t.Errorf("version %s pinned with version %s's eTag: err = %v, want ErrChecksumMismatch", v1, v2, err)
	}
}

// Missing bucket, key and version are ErrRevisionNotFound, with the S3
// error reachable.
func TestMissing(t *testing.T) {
	fake := newFakeS3(t, nil, nil)
	createBucket(t, fake.client, "releases")
	if _, err := fake.client.PutBucketVersioning(t.Context(), &s3.PutBucketVersioningInput{
		Bucket:                  aws.String("releases"),
		VersioningConfiguration: &types.VersioningConfiguration{Status: types.BucketVersioningStatusEnabled},
	}); err != nil {
		t.Fatal(err)
	}
	data, _ := revisiontest.Zip(appFiles)
	put(t, fake.client, "releases", "app.zip", data)
	src := newSource(t, fake.client)
	noVersion := s3loc("releases", "app.zip", revision.BundleZip)
	noVersion.S3.Version = "3HL4kqtJlcpXroDTDmjVBH40Nrjfkd"
	for _, c := range []struct {
		name string
		loc  revision.Location
		code string
		says string
	}{
		{"key", s3loc("releases", "nope.zip", revision.BundleZip), "NoSuchKey", `has no key "nope.zip"`},
		{"bucket", s3loc("no-such-bucket", "app.zip", revision.BundleZip), "NoSuchBucket", `no bucket "no-such-bucket"`},
		{"version", noVersion, "NoSuchVersion", `no version "3HL4kqtJlcpXroDTDmjVBH40Nrjfkd"`},
	} {
		t.Run(c.name, func(t *testing.T) {
			b, err := src.Open(t.Context(), c.loc)
			if !errors.Is(err, revision.ErrRevisionNotFound) {
				b.Close()
				t.Fatalf("err = %v, want ErrRevisionNotFound", err)
			}
			var ae smithy.APIError
			if !errors.As(err, &ae) || ae.ErrorCode() != c.code {
				t.Errorf("errors.As smithy.APIError: %v; want code %s", ae, c.code)
			}
			if !strings.Contains(err.Error(), c.says) {
				t.Errorf("error %q does not say %q", err, c.says)
			}
		})
	}
}

// An object over MaxBytes is refused from its Content-Length, before any
// of its body is read; one at the limit opens.
func TestTooLarge(t *testing.T) {
	fake := newFakeS3(t, nil, nil)
	createBucket(t, fake.client, "releases")
	data, _ := revisiontest.Tar(appFiles)
	put(t, fake.client, "releases", "app.tar", data)
	api := &countingAPI{api: fake.client}

	small := newSource(t, api, func(o *s3revision.Options) { o.MaxBytes = int64(len(data)) - 1 })
	b, err := small.Open(t.Context(), s3loc("releases", "app.tar", revision.BundleTar))
	if !errors.Is(err, revision.ErrLimitExceeded) {
		b.Close()
		t.Fatalf("Open of a %d-byte object with MaxBytes %d: err = %v, want ErrLimitExceeded", len(data), len(data)-1, err)
	}
	if !strings.Contains(err.Error(), fmt.Sprint(len(data))) || !strings.Contains(err.Error(), "Options.MaxBytes") {
		t.Errorf("error %q names neither the size nor the option", err)
	}
	if n := api.bodyBytes.Load(); n != 0 {
		t.Errorf("the refused object had %d body bytes read; want none", n)
	}
	if api.closed.Load() != 1 {
		t.Errorf("the refused object's body was closed %d times; want once", api.closed.Load())
	}

	exact := newSource(t, api, func(o *s3revision.Options) { o.MaxBytes = int64(len(data)) })
	b, err = exact.Open(t.Context(), s3loc("releases", "app.tar", revision.BundleTar))
	if err != nil {
		t.Fatalf("Open of an object exactly MaxBytes long: %v", err)
	}
	sameFiles(t, unpack(t, b), appFiles)
	b.Close()
}

// denyKey answers requests for one object as S3 does when a policy denies
// them: 403 with an AccessDenied error document (no body for HEAD).
func denyKey(path string) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path != path {
				next.ServeHTTP(w, r)
				return
			}
			w.Header().Set("Content-Type", "application/xml")
			w.WriteHeader(http.StatusForbidden)
			if r.Method != http.MethodHead {
				fmt.Fprint(w, `<?xml version="1.0" encoding="UTF-8"?>`+
					`<Error><Code>AccessDenied</Code><Message>Access Denied</Message><RequestId>4442587FB7D0A2F9</RequestId></Error>`)
			}
		})
	}
}

func TestAccessDenied(t *testing.T) {
	fake := newFakeS3(t, nil, denyKey("/secret/app.zip"))
	createBucket(t, fake.client, "secret")
	src := newSource(t, fake.client)
	loc := s3loc("secret", "app.zip", revision.BundleZip)
	b, err := src.Open(t.Context(), loc)
	if !errors.Is(err, s3revision.ErrAccessDenied) {
		b.Close()
		t.Fatalf("err = %v, want ErrAccessDenied", err)
	}
	if errors.Is(err, revision.ErrRevisionNotFound) {
		t.Errorf("access denied also reads as not found: %v", err)
	}
	for _, want := range []string{`key "app.zip"`, `bucket "secret"`, "s3:GetObject", "arn:aws:s3:::secret/app.zip"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %s", err, want)
		}
	}
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "AccessDenied" {
		t.Errorf("errors.As smithy.APIError: %v; want code AccessDenied", ae)
	}
}

// Cancelling Open's context while the body streams stops the download:
// Unpack fails with context.Canceled and leaves nothing behind.
func TestCancelMidStream(t *testing.T) {
	fake := newFakeS3(t, nil, nil)
	createBucket(t, fake.client, "releases")
	big := strings.Repeat("0123456789abcdef", 1<<18) // 4 MiB, stored as tar
	data, _ := revisiontest.Tar(map[string]string{"appspec.yml": "version: 0.0\nos: linux\n", "big.bin": big})
	put(t, fake.client, "releases", "big.tar", data)

	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	api := &countingAPI{api: fake.client}
	api.onRead = func(total int64) {
		if total >= 1<<20 {
			cancel()
		}
	}
	src := newSource(t, api)
	b, err := src.Open(ctx, s3loc("releases", "big.tar", revision.BundleTar))
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	dst := filepath.Join(t.TempDir(), "bundle")
	_, err = revision.Unpack(ctx, b, dst)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Unpack after cancelling mid-stream: err = %v, want context.Canceled", err)
	}
	if n := api.bodyBytes.Load(); n >= int64(len(data)) {
		t.Errorf("read %d of %d bytes: the download went on after the cancel", n, len(data))
	}
	if _, err := os.Stat(dst); !os.IsNotExist(err) {
		t.Errorf("after the cancelled unpack, %s: %v; want it absent", dst, err)
	}
	// The body itself reports the cancel, whoever reads it.
	if _, err := b.Body.Read(make([]byte, 10)); !errors.Is(err, context.Canceled) {
		t.Errorf("Body.Read after the cancel: %v, want context.Canceled", err)
	}
}

func TestNew(t *testing.T) {
	if _, err := s3revision.New(nil); err == nil {
		t.Error("New(nil) succeeded")
	}
	if _, err := s3revision.New(newClient("http://127.0.0.1:1"), func(o *s3revision.Options) { o.MaxBytes = -1 }); err == nil || !strings.Contains(err.Error(), "MaxBytes") {
		t.Errorf("New with MaxBytes -1: %v; want an error naming MaxBytes", err)
	}
}

package s3revision_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"github.com/fleetdeploy/fleetdeploy/internal/motoserver"
	"github.com/fleetdeploy/fleetdeploy/revision"
)

func TestMain(m *testing.M) { motoserver.Main(m) }

// fakeS3 is gofakes3 on an in-memory backend, behind an optional handler
// wrapper, with an SDK client configured for it.
type fakeS3 struct {
	client  *s3.Client
	backend *s3mem.Backend
	url     string
}

// newFakeS3 starts gofakes3 on backend (s3mem.New() when nil), in front
// of which wrap (when not nil) may answer requests itself.
func newFakeS3(t testing.TB, backend gofakes3.Backend, wrap func(http.Handler) http.Handler) *fakeS3 {
	t.Helper()
	mem, _ := backend.(*s3mem.Backend)
	if backend == nil {
		mem = s3mem.New()
		backend = mem
	}
	var h http.Handler = gofakes3.New(backend).Server()
	if wrap != nil {
		h = wrap(h)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return &fakeS3{client: newClient(srv.URL), backend: mem, url: srv.URL}
}

// newClient returns an S3 client for a fake at url: static credentials,
// path-style addressing, checksums only when required (gofakes3 does not
// speak the SDK's default checksum trailers), one attempt.
func newClient(url string) *s3.Client {
	cfg := aws.Config{
		Region:                     "us-east-1",
		Credentials:                credentials.NewStaticCredentialsProvider("AKIDTEST", "secret", ""),
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenRequired,
		ResponseChecksumValidation: aws.ResponseChecksumValidationWhenRequired,
		RetryMaxAttempts:           1,
	}
	return s3.NewFromConfig(cfg, func(o *s3.Options) {
		o.BaseEndpoint = aws.String(url)
		o.UsePathStyle = true
	})
}

func createBucket(t *testing.T, c *s3.Client, bucket string) {
	t.Helper()
	if _, err := c.CreateBucket(t.Context(), &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		t.Fatalf("CreateBucket %s: %v", bucket, err)
	}
}

// put uploads data and returns the object's version ID (empty when the
// bucket is not versioned).
func put(t *testing.T, c *s3.Client, bucket, key string, data []byte) string {
	t.Helper()
	out, err := c.PutObject(t.Context(), &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: bytes.NewReader(data)})
	if err != nil {
		t.Fatalf("PutObject s3://%s/%s: %v", bucket, key, err)
	}
	return aws.ToString(out.VersionId)
}

func s3loc(bucket, key string, typ revision.BundleType) revision.Location {
	return revision.Location{Type: revision.LocationS3, S3: &revision.S3Location{Bucket: bucket, Key: key, BundleType: typ}}
}

// countingAPI counts GetObject calls and the body bytes read through them.
type countingAPI struct {
	api       *s3.Client
	calls     atomic.Int64
	bodyBytes atomic.Int64
	closed    atomic.Int64
	// onRead, when set, is called after every body read with the total
	// read so far.
	onRead func(total int64)
}

func (c *countingAPI) GetObject(ctx context.Context, in *s3.GetObjectInput, optFns ...func(*s3.Options)) (*s3.GetObjectOutput, error) {
	c.calls.Add(1)
	out, err := c.api.GetObject(ctx, in, optFns...)
	if err == nil {
		out.Body = &countingBody{rc: out.Body, c: c}
	}
	return out, err
}

type countingBody struct {
	rc io.ReadCloser
	c  *countingAPI
}

func (b *countingBody) Read(p []byte) (int, error) {
	n, err := b.rc.Read(p)
	total := b.c.bodyBytes.Add(int64(n))
	if b.c.onRead != nil {
		b.c.onRead(total)
	}
	return n, err
}

func (b *countingBody) Close() error {
	b.c.closed.Add(1)
	return b.rc.Close()
}

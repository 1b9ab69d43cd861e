package s3revision_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"github.com/fleetdeploy/fleetdeploy/revision"
	"github.com/fleetdeploy/fleetdeploy/revision/revisiontest"
	"github.com/fleetdeploy/fleetdeploy/revision/s3revision"
)

// Open a zip bundle stored in S3 (here gofakes3, in process) and unpack it.
func Example() {
	ctx := context.Background()
	srv := httptest.NewServer(gofakes3.New(s3mem.New()).Server())
	defer srv.Close()
	client := s3.NewFromConfig(aws.Config{
		Region:                     "us-east-1",
		Credentials:                credentials.NewStaticCredentialsProvider("AKID", "secret", ""),
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenRequired,
		ResponseChecksumValidation: aws.ResponseChecksumValidationWhenRequired,
	}, func(o *s3.Options) {
		o.BaseEndpoint = aws.String(srv.URL)
		o.UsePathStyle = true
	})
	bundle, _ := revisiontest.Zip(map[string]string{
		"appspec.yml":    "version: 0.0\nos: linux\n",
		"web/index.html": "<h1>hello</h1>\n",
	})
	client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("releases")})
	client.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("releases"), Key: aws.String("web.zip"), Body: bytes.NewReader(bundle)})

	src, err := s3revision.New(client)
	if err != nil {
		fmt.Println(err)
		return
	}
	b, err := src.Open(ctx, revision.Location{
		Type: revision.LocationS3,
		S3:   &revision.S3Location{Bucket: "releases", Key: "web.zip", BundleType: revision.BundleZip},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer b.Close()
	tmp, _ := os.MkdirTemp("", "s3revision-example-")
	defer os.RemoveAll(tmp)
	res, err := revision.Unpack(ctx, b, filepath.Join(tmp, "bundle"))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("appspec:", res.AppSpec, "files:", res.Bytes, "bytes")
	fmt.Println("BUNDLE_KEY:", b.Env["BUNDLE_KEY"], "eTag set:", b.Location.S3.ETag != "")

	_, err = src.Open(ctx, revision.Location{
		Type: revision.LocationS3,
		S3:   &revision.S3Location{Bucket: "releases", Key: "gone.zip", BundleType: revision.BundleZip},
	})
	fmt.Println("missing:", errors.Is(err, revision.ErrRevisionNotFound))
	// Output:
	// appspec: appspec.yml files: 38 bytes
	// BUNDLE_KEY: web.zip eTag set: true
	// missing: true
}

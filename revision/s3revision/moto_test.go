package s3revision_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"

	"github.com/fleetdeploy/fleetdeploy/internal/motoserver"
	"github.com/fleetdeploy/fleetdeploy/revision"
	"github.com/fleetdeploy/fleetdeploy/revision/revisiontest"
)

// Against moto's S3 with versioning: the version IDs S3 hands out pin
// versions, the latest resolves to its ID, and a version or key that does
// not exist is missing.
func TestMotoVersions(t *testing.T) {
	client := s3.NewFromConfig(motoserver.Config(t), func(o *s3.Options) { o.UsePathStyle = true })
	bucket := strings.ToLower(motoserver.Name(t, "rev"))
	createBucket(t, client, bucket)
	if _, err := client.PutBucketVersioning(t.Context(), &s3.PutBucketVersioningInput{
		Bucket:                  aws.String(bucket),
		VersioningConfiguration: &types.VersioningConfiguration{Status: types.BucketVersioningStatusEnabled},
	}); err != nil {
		t.Fatal(err)
	}
	v1files := map[string]string{"appspec.yml": "version: 0.0\nos: linux\n", "v": "1"}
	v2files := map[string]string{"appspec.yml": "version: 0.0\nos: linux\n", "v": "2"}
	d1, _ := revisiontest.Tgz(v1files)
	d2, _ := revisiontest.Tgz(v2files)
	v1 := put(t, client, bucket, "app.tgz", d1)
	v2 := put(t, client, bucket, "app.tgz", d2)
	if v1 == "" || v2 == "" || v1 == v2 {
		t.Fatalf("moto gave versions %q and %q; want two version IDs", v1, v2)
	}
	src := newSource(t, client)
	checkVersions(t, src, bucket, v1, v2, v1files, v2files)

	// A version ID of the right shape that names nothing.
	gone := s3loc(bucket, "app.tgz", revision.BundleTgz)
	gone.S3.Version = strings.Repeat("0", len(v1)-1) + "1"
	missingKey := s3loc(bucket, "none.tgz", revision.BundleTgz)
	for _, loc := range []revision.Location{gone, missingKey} {
		b, err := src.Open(t.Context(), loc)
		if !errors.Is(err, revision.ErrRevisionNotFound) {
			b.Close()
			t.Errorf("Open(%s): err = %v, want ErrRevisionNotFound", loc, err)
			continue
		}
		var ae smithy.APIError
		if !errors.As(err, &ae) {
			t.Errorf("Open(%s): %v does not hold a smithy.APIError", loc, err)
		} else {
			t.Logf("Open(%s): moto answered %s", loc, ae.ErrorCode())
		}
	}
}

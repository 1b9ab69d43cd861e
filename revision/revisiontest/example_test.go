package revisiontest_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/fleetdeploy/fleetdeploy/revision"
	"github.com/fleetdeploy/fleetdeploy/revision/revisiontest"
)

// ExampleMemSource stores a revision, opens it, then makes it fail the way
// an unreachable bucket would.
func ExampleMemSource() {
	ctx := context.Background()
	src := revisiontest.NewMemSource()
	loc := revision.Location{
		Type: revision.LocationS3,
		S3:   &revision.S3Location{Bucket: "releases", Key: "fn/appspec.yaml", BundleType: revision.BundleYAML},
	}
	if _, err := src.PutFiles(loc, map[string]string{"appspec.yaml": "version: 0.0\nResources: []\n"}); err != nil {
		fmt.Println(err)
		return
	}

	b, err := src.Open(ctx, loc)
	if err != nil {
		fmt.Println(err)
		return
	}
	name, content, err := revision.ReadAppSpec(ctx, b)
	b.Close()
	fmt.Printf("%s %q %v\n", name, content, err)

	unreachable := errors.New("connection refused")
	src.SetError(loc, unreachable)
	_, err = src.Open(ctx, loc)
	fmt.Println(errors.Is(err, unreachable), src.Opens(loc))

	_, err = src.Open(ctx, revision.Location{Type: revision.LocationS3, S3: &revision.S3Location{Bucket: "releases", Key: "other.zip", BundleType: revision.BundleZip}})
	fmt.Println(errors.Is(err, revision.ErrRevisionNotFound))
	// Output:
	// appspec.yaml "version: 0.0\nResources: []\n" <nil>
	// true 2
	// true
}

package revision_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/fleetdeploy/fleetdeploy/revision"
	"github.com/fleetdeploy/fleetdeploy/revision/revisiontest"
)

// Example opens an S3 revision the way an on-host agent does — through a
// Mux — and unpacks it into a deployment archive. The in-memory source
// stands in for S3; the bundle is a zip made on a Mac, whose files sit in
// one top directory beside __MACOSX, so Unpack strips that directory, as
// the CodeDeploy agent does.
func Example() {
	ctx := context.Background()
	s3src := revisiontest.NewMemSource()
	loc, err := s3src.PutFiles(revision.Location{
		Type: revision.LocationS3,
		S3: &revision.S3Location{
			Bucket:     "releases",
			Key:        "web/app.zip",
			BundleType: revision.BundleZip,
			Version:    "v7",
		},
	}, map[string]string{
		"app/appspec.yml":            "version: 0.0\nos: linux\n",
		"app/scripts/start.sh":       "#!/bin/sh\n",
		"__MACOSX/app/._appspec.yml": "resource fork",
	})
	if err != nil {
		fmt.Println(err)
		return
	}

	src := revision.Mux{
		revision.LocationS3:             s3src,
		revision.LocationAppSpecContent: revision.ContentSource{},
	}
	b, err := src.Open(ctx, loc)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer b.Close()

	work, _ := os.MkdirTemp("", "agent")
	defer os.RemoveAll(work)
	res, err := revision.Unpack(ctx, b, filepath.Join(work, "deployment-archive"))
	if err != nil {
		fmt.Println(err)
		return
	}
	resolved := b.Location.S3
	fmt.Println("resolved version:", resolved.Version, "eTag known:", resolved.ETag != "")
	for _, k := range []string{"BUNDLE_BUCKET", "BUNDLE_KEY", "BUNDLE_VERSION"} {
		fmt.Printf("%s=%s\n", k, b.Env[k])
	}
	fmt.Println("BUNDLE_ETAG is the eTag:", b.Env["BUNDLE_ETAG"] == resolved.ETag)
	fmt.Println("appspec:", res.AppSpec, "stripped:", res.StrippedDir, "discarded:", res.Discarded)
	data, _ := os.ReadFile(filepath.Join(work, "deployment-archive", "appspec.yml"))
	fmt.Print(string(data))

	// Output:
	// resolved version: v7 eTag known: true
	// BUNDLE_BUCKET=releases
	// BUNDLE_KEY=web/app.zip
	// BUNDLE_VERSION=v7
	// BUNDLE_ETAG is the eTag: true
	// appspec: appspec.yml stripped: app discarded: [__MACOSX]
	// version: 0.0
	// os: linux
}

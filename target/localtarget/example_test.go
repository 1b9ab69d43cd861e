//go:build unix

package localtarget_test

import (
	"context"
	"fmt"
	"log"
	"os"

	"github.com/fleetdeploy/fleetdeploy/config"
	"github.com/fleetdeploy/fleetdeploy/revision"
	"github.com/fleetdeploy/fleetdeploy/revision/revisiontest"
	"github.com/fleetdeploy/fleetdeploy/target"
	"github.com/fleetdeploy/fleetdeploy/target/localtarget"
)

// Example deploys a revision to a fleet of two local instances, running the
// in-place lifecycle events on each as the executor would.
func Example() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "fleet-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	// A revision: a web page, and a hook that checks it was installed.
	bundle, err := revisiontest.Build(revision.BundleZip,
		revisiontest.Entry{Name: "appspec.yml", Body: `version: 0.0
os: linux
files:
  - source: site
    destination: /var/www
hooks:
  ValidateService:
    - location: check.sh
      timeout: 30
`},
		revisiontest.Entry{Name: "site/index.html", Body: "hello"},
		revisiontest.Entry{Name: "check.sh", Mode: 0o755, Body: `#!/bin/sh
echo "$FLEETDEPLOY_INSTANCE_ID serves $(cat "$FLEETDEPLOY_INSTANCE_ROOT/var/www/index.html")"
`},
	)
	if err != nil {
		log.Fatal(err)
	}
	src := revisiontest.NewMemSource()
	loc, err := src.Put(revision.Location{Type: revision.LocationS3, S3: &revision.S3Location{
		Bucket: "releases", Key: "site.zip", BundleType: revision.BundleZip}}, bundle)
	if err != nil {
		log.Fatal(err)
	}

	fleet, err := localtarget.New(dir, src)
	if err != nil {
		log.Fatal(err)
	}
	for _, id := range []string{"web-1", "web-2"} {
		if _, err := fleet.Add(ctx, target.Target{ID: id, OnPremises: true, Tags: map[string]string{"app": "site"}}); err != nil {
			log.Fatal(err)
		}
	}
	targets, err := fleet.ListTargets(ctx, target.Selector{
		OnPremisesInstanceTagFilters: []target.TagFilter{{Key: "app", Type: target.KeyOnly}}})
	if err != nil {
		log.Fatal(err)
	}

	d := target.DeploymentInfo{ApplicationName: "site", DeploymentGroupName: "prod", DeploymentGroupID: "dg-1",
		DeploymentID: "d-1", Revision: loc, Creator: target.CreatorUser, DeploymentType: target.InPlace}
	events, err := target.Sequence{Platform: config.Server, Kind: target.KindInPlace}.Events()
	if err != nil {
		log.Fatal(err)
	}
	for _, t := range targets {
		for _, e := range events {
			res, err := fleet.RunEvent(ctx, target.EventRequest{Target: t, Event: e, Deployment: d})
			if err != nil {
				log.Fatal(err)
			}
			if res.Status != target.EventSucceeded {
				fmt.Println(t.ID, e, res.Status, res.ErrorCode, res.Message)
				break
			}
			if e == target.ValidateService {
				fmt.Print(res.LogTail)
			}
		}
	}
	// Output:
	// web-1 serves hello
	// web-2 serves hello
}

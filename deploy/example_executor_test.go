package deploy_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"time"

	"github.com/fleetdeploy/fleetdeploy/config"
	"github.com/fleetdeploy/fleetdeploy/deploy"
	"github.com/fleetdeploy/fleetdeploy/deploy/deploytest"
	"github.com/fleetdeploy/fleetdeploy/revision"
	"github.com/fleetdeploy/fleetdeploy/target"
	"github.com/fleetdeploy/fleetdeploy/target/targettest"
)

// exampleGroup stores application "shop" and its group "prod" (six
// instances tagged env=prod, HalfAtATime, rolled back on failure).
func exampleGroup(ctx context.Context, store deploy.Store) {
	if err := store.CreateApplication(ctx, &deploy.Application{Name: "shop", ComputePlatform: config.Server}); err != nil {
		log.Fatal(err)
	}
	g := deploy.Group{
		ApplicationName:      "shop",
		Name:                 "prod",
		DeploymentConfigName: "CodeDeployDefault.HalfAtATime",
		Selector:             target.Selector{EC2TagFilters: []target.TagFilter{{Key: "env", Value: "prod", Type: target.KeyAndValue}}},
		AutoRollbackConfiguration: deploy.AutoRollbackConfiguration{Enabled: true,
			Events: []deploy.AutoRollbackEvent{deploy.AutoRollbackDeploymentFailure}},
	}
	if err := store.CreateGroup(ctx, &g); err != nil {
		log.Fatal(err)
	}
}

func exampleFleet() *targettest.Fleet {
	fleet := targettest.NewFleet()
	for i := 1; i <= 6; i++ {
		fleet.Add(target.Target{ID: fmt.Sprintf("i-%d", i), Tags: map[string]string{"env": "prod"}})
	}
	return fleet
}

func s3rev(key string) revision.Location {
	return revision.Location{Type: revision.LocationS3,
		S3: &revision.S3Location{Bucket: "releases", Key: key, BundleType: revision.BundleZip}}
}

// Deploy two revisions to a fleet: the first succeeds; the second fails
// its ValidateService everywhere, so the group rolls back to the first
// with a new deployment, which Run runs too. The fleet is the targettest
// fake and time is a fake clock, so this runs in an instant.
func ExampleExecutor() {
	ctx := context.Background()
	store := deploy.NewMemoryStore()
	exampleGroup(ctx, store)
	fleet := exampleFleet()
	ids := []string{"d-EXAMPLE01", "d-EXAMPLE02", "d-EXAMPLE03"}
	x, err := deploy.New(store, fleet.Platform(), func(o *deploy.Options) {
		o.Clock = deploytest.NewFakeClock(time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC))
		o.NewID = func() string { id := ids[0]; ids = ids[1:]; return id }
	})
	if err != nil {
		log.Fatal(err)
	}
	deployRevision := func(key string) *deploy.Deployment {
		d, err := x.CreateDeployment(ctx, deploy.DeploymentInput{ApplicationName: "shop", GroupName: "prod", Revision: s3rev(key)})
		if err != nil {
			log.Fatal(err)
		}
		d, err = x.Run(ctx, d.ID)
		if err != nil {
			log.Fatal(err)
		}
		return d
	}

	d := deployRevision("shop-1.0.zip")
	fmt.Println(d.ID, d.Status, d.Overview.Succeeded, "targets")

	// Every ValidateService of the next deployment fails.
	fleet.OnCall(func(_ context.Context, c targettest.Call) error {
		if c.DeploymentID == "d-EXAMPLE02" && c.Event == target.ValidateService {
			return errors.New("health check failed")
		}
		return nil
	})
	d = deployRevision("shop-1.1.zip")
	fmt.Println(d.ID, d.Status, d.ErrorInformation.Code)
	fmt.Println(d.ErrorInformation.Message)
	fmt.Println("rolled back by", d.RollbackInfo.RollbackDeploymentID)

	rb, err := store.GetDeployment(ctx, d.RollbackInfo.RollbackDeploymentID)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(rb.ID, rb.Creator, rb.Status, "revision", rb.Revision.String())
	g, _ := store.GetGroup(ctx, "shop", "prod")
	fmt.Println("group revision", g.TargetRevision.String())
	// Output:
	// d-EXAMPLE01 Succeeded 6 targets
	// d-EXAMPLE02 Failed HEALTH_CONSTRAINTS
	// all 3 targets that ran failed the same way: ValidateService failed (UnknownError): health check failed; 3 targets still to deploy, but only 3 healthy targets are not in flight and 3 must stay healthy, so none may go offline; 0 succeeded, 3 failed so far (FLEET_PERCENT 50 of 6 targets is 3 healthy required; 3 may be offline at once)
	// rolled back by d-EXAMPLE03
	// d-EXAMPLE03 codeDeployRollback Succeeded revision s3://releases/shop-1.0.zip
	// group revision s3://releases/shop-1.0.zip
}

// Drive a deployment one decision at a time with Step, as a scheduler or
// workflow engine would: all state is in the store between calls. Six
// targets at HalfAtATime go three at a time; the second round ends the
// deployment.
func ExampleExecutor_Step() {
	ctx := context.Background()
	store := deploy.NewMemoryStore()
	exampleGroup(ctx, store)
	fleet := exampleFleet()
	x, err := deploy.New(store, fleet.Platform(), func(o *deploy.Options) {
		o.Clock = deploytest.NewFakeClock(time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC))
	})
	if err != nil {
		log.Fatal(err)
	}
	d, err := x.CreateDeployment(ctx, deploy.DeploymentInput{ApplicationName: "shop", GroupName: "prod", Revision: s3rev("shop-1.0.zip")})
	if err != nil {
		log.Fatal(err)
	}
	for round := 1; ; round++ {
		res, err := x.Step(ctx, d.ID)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("round %d: %d targets, %s\n", round, res.Started, res.Deployment.Status)
		if res.Done {
			break
		}
	}
	// Output:
	// round 1: 3 targets, InProgress
	// round 2: 3 targets, Succeeded
}

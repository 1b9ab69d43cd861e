package deploy_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"time"

	"github.com/fleetdeploy/fleetdeploy/config"
	"github.com/fleetdeploy/fleetdeploy/deploy"
	"github.com/fleetdeploy/fleetdeploy/revision"
	"github.com/fleetdeploy/fleetdeploy/target"
)

// A group gets one active deployment at a time: the second create is
// refused with an error naming the first, and a final status frees the
// group again.
func Example() {
	ctx := context.Background()
	store := deploy.NewMemoryStore()
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

	app := deploy.Application{Name: "shop", ComputePlatform: config.Server, CreateTime: now}
	if err := store.CreateApplication(ctx, &app); err != nil {
		log.Fatal(err)
	}
	group := deploy.Group{
		ApplicationName:      "shop",
		Name:                 "prod",
		DeploymentConfigName: "CodeDeployDefault.HalfAtATime",
		Selector:             target.Selector{EC2TagFilters: []target.TagFilter{{Key: "env", Value: "prod", Type: target.KeyAndValue}}},
	}
	if err := group.Validate(); err != nil {
		log.Fatal(err)
	}
	if err := store.CreateGroup(ctx, &group); err != nil {
		log.Fatal(err)
	}
	cfg, err := group.ResolveConfig()
	if err != nil {
		log.Fatal(err)
	}

	newDeployment := func(id, key string) *deploy.Deployment {
		return &deploy.Deployment{
			ID: id, ApplicationName: "shop", GroupName: "prod", GroupID: group.ID,
			Revision: revision.Location{Type: revision.LocationS3,
				S3: &revision.S3Location{Bucket: "releases", Key: key, BundleType: revision.BundleZip}},
			ConfigName: cfg.Name, Config: cfg, DeploymentStyle: group.Style(),
			Creator: target.CreatorUser, Status: deploy.StatusCreated, CreateTime: now,
		}
	}
	first := newDeployment("d-4R7TQ8WX1", "shop-1.4.0.zip")
	if err := store.CreateDeployment(ctx, first); err != nil {
		log.Fatal(err)
	}
	fmt.Println("created", first.ID, "version", first.Version)

	err = store.CreateDeployment(ctx, newDeployment("d-9KZ2M5PQ3", "shop-1.4.1.zip"))
	fmt.Println(err)
	var active *deploy.ActiveDeploymentError
	if errors.As(err, &active) {
		fmt.Println("active:", active.DeploymentID)
	}

	first.Status = deploy.StatusSucceeded
	first.CompleteTime = now.Add(20 * time.Minute)
	if err := store.UpdateDeployment(ctx, first); err != nil {
		log.Fatal(err)
	}
	fmt.Println("after success:", store.CreateDeployment(ctx, newDeployment("d-9KZ2M5PQ3", "shop-1.4.1.zip")))
	// Output:
	// created d-4R7TQ8WX1 version 1
	// deploy: The Deployment Group 'prod' already has an active Deployment 'd-4R7TQ8WX1'
	// active: d-4R7TQ8WX1
	// after success: <nil>
}

// Validate reports every problem at once, naming each field as
// CodeDeploy's API does.
func ExampleGroup_Validate() {
	g := deploy.Group{
		ApplicationName: "shop",
		Name:            "prod",
		DeploymentStyle: deploy.DeploymentStyle{DeploymentType: target.BlueGreen, DeploymentOption: deploy.WithTrafficControl},
		AlarmConfiguration: deploy.AlarmConfiguration{Enabled: true,
			Alarms: []deploy.Alarm{{Name: "p99-latency"}, {Name: "p99-latency"}}},
		AutoRollbackConfiguration: deploy.AutoRollbackConfiguration{Enabled: true},
	}
	fmt.Println(g.Validate())
	// Output:
	// deploy: invalid deployment group shop/prod: 4 problems:
	//   loadBalancerInfo: is required for a Server BLUE_GREEN group (MISSING_ELB_INFORMATION): name a Classic Load Balancer or a target group
	//   blueGreenDeploymentConfiguration: is required for Server BLUE_GREEN groups (MISSING_BLUE_GREEN_DEPLOYMENT_CONFIGURATION)
	//   alarmConfiguration.alarms[1].name: repeats "p99-latency" (also alarmConfiguration.alarms[0].name)
	//   autoRollbackConfiguration.events: must list at least one event when autoRollbackConfiguration.enabled is true (InvalidAutoRollbackConfig)
}

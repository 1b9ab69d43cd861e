package deploy_test

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/fleetdeploy/fleetdeploy/config"
	"github.com/fleetdeploy/fleetdeploy/deploy"
	"github.com/fleetdeploy/fleetdeploy/deploy/deploytest"
	"github.com/fleetdeploy/fleetdeploy/target"
	"github.com/fleetdeploy/fleetdeploy/target/targettest"
)

// scalingExample stores application "shop" and its group "prod" (instances
// tagged env=prod behind target group web, with the termination hook) and
// returns an executor over fleet and events with deployment IDs
// d-SCALING01, d-SCALING02, ...
func scalingExample(ctx context.Context, store deploy.Store, fleet *targettest.Fleet, events target.ScalingEvents) *deploy.Executor {
	if err := store.CreateApplication(ctx, &deploy.Application{Name: "shop", ComputePlatform: config.Server}); err != nil {
		log.Fatal(err)
	}
	g := deploy.Group{
		ApplicationName:        "shop",
		Name:                   "prod",
		DeploymentConfigName:   "CodeDeployDefault.OneAtATime",
		Selector:               target.Selector{EC2TagFilters: []target.TagFilter{{Key: "env", Value: "prod", Type: target.KeyAndValue}}},
		DeploymentStyle:        deploy.DeploymentStyle{DeploymentOption: deploy.WithTrafficControl},
		LoadBalancerInfo:       target.LoadBalancerInfo{TargetGroupInfoList: []target.NameInfo{{Name: "web"}}},
		TerminationHookEnabled: true,
	}
	if err := store.CreateGroup(ctx, &g); err != nil {
		log.Fatal(err)
	}
	platform := fleet.Platform()
	platform.ScalingEvents = events
	n := 0
	x, err := deploy.New(store, platform, func(o *deploy.Options) {
		o.Clock = deploytest.NewFakeClock(time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC))
		o.NewID = func() string { n++; return fmt.Sprintf("d-SCALING%02d", n) }
	})
	if err != nil {
		log.Fatal(err)
	}
	return x
}

// Serve a group's Auto Scaling lifecycle events: an instance launched after
// the group deployed shop-1.0.zip gets a launch deployment of it and is
// let into service (CONTINUE); a terminating instance runs the termination
// events, in order, before it goes (always CONTINUE). The Auto Scaling
// group is the targettest fake, which the ec2target adapter replaces in
// production.
func ExampleExecutor_ServeScalingEvents() {
	ctx := context.Background()
	store := deploy.NewMemoryStore()
	fleet := targettest.NewFleet(
		target.Target{ID: "i-1", Tags: map[string]string{"env": "prod"}},
		target.Target{ID: "i-2", Tags: map[string]string{"env": "prod"}})
	events := targettest.NewScalingEvents()
	x := scalingExample(ctx, store, fleet, events)
	d, err := x.CreateDeployment(ctx, deploy.DeploymentInput{ApplicationName: "shop", GroupName: "prod", Revision: s3rev("shop-1.0.zip")})
	if err != nil {
		log.Fatal(err)
	}
	if d, err = x.Run(ctx, d.ID); err != nil {
		log.Fatal(err)
	}
	fmt.Println(d.ID, d.Status)

	serving, stop := context.WithCancel(ctx)
	served := make(chan error, 1)
	go func() { served <- x.ServeScalingEvents(serving) }()

	i3 := target.Target{ID: "i-3", Tags: map[string]string{"env": "prod"}}
	fleet.Add(i3)
	answer, err := events.Await(ctx, events.Launch("shop", "prod", i3))
	if err != nil {
		log.Fatal(err)
	}
	installed, _ := fleet.Installed("i-3")
	fmt.Println("launch of i-3:", answer, "- runs", installed.S3.Key)
	fmt.Println(" ", fleet.Events("i-3"))

	before := len(fleet.Events("i-1"))
	answer, err = events.Await(ctx, events.Terminate("shop", "prod", target.Target{ID: "i-1"}))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("termination of i-1:", answer)
	fmt.Println(" ", fleet.Events("i-1")[before:])

	stop()
	fmt.Println("served until:", <-served)
	// Output:
	// d-SCALING01 Succeeded
	// launch of i-3: CONTINUE - runs shop-1.0.zip
	//   [ApplicationStop DownloadBundle BeforeInstall Install AfterInstall ApplicationStart ValidateService BeforeAllowTraffic AllowTraffic AfterAllowTraffic]
	// termination of i-1: CONTINUE
	//   [BeforeBlockTraffic BlockTraffic AfterBlockTraffic ApplicationStop]
	// served until: context canceled
}

// Handle single lifecycle events: a launch into a group that has no
// successful deployment yet is let through with nothing deployed, as
// CodeDeploy does; a launch whose deployment fails is abandoned, so that
// Auto Scaling replaces the instance.
func ExampleExecutor_HandleScalingEvent() {
	ctx := context.Background()
	store := deploy.NewMemoryStore()
	fleet := targettest.NewFleet(target.Target{ID: "i-1", Tags: map[string]string{"env": "prod"}})
	events := targettest.NewScalingEvents()
	x := scalingExample(ctx, store, fleet, events)

	i2 := target.Target{ID: "i-2", Tags: map[string]string{"env": "prod"}}
	fleet.Add(i2)
	out, err := x.HandleScalingEvent(ctx, events.Launch("shop", "prod", i2))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(out.Result, out.Deployment == nil, "-", out.Reason)

	d, err := x.CreateDeployment(ctx, deploy.DeploymentInput{ApplicationName: "shop", GroupName: "prod", Revision: s3rev("shop-1.0.zip")})
	if err != nil {
		log.Fatal(err)
	}
	if _, err = x.Run(ctx, d.ID); err != nil {
		log.Fatal(err)
	}
	i3 := target.Target{ID: "i-3", Tags: map[string]string{"env": "prod"}}
	fleet.Add(i3)
	fleet.Script("i-3", target.ValidateService, targettest.Fail(target.CodeScriptFailed, "health check returned 503"))
	out, err = x.HandleScalingEvent(ctx, events.Launch("shop", "prod", i3))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(out.Result, out.Deployment.ID, out.Deployment.Creator, out.Deployment.Status)
	fmt.Println(out.Deployment.ErrorInformation.Message)
	// Output:
	// CONTINUE true - deployment group shop/prod has no successful deployment yet: nothing to install on i-2
	// ABANDON d-SCALING02 autoscaling Failed
	// instance i-3 failed lifecycle event ValidateService: health check returned 503
}

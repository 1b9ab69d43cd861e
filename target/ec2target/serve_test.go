package ec2target_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/fleetdeploy/fleetdeploy/config"
	"github.com/fleetdeploy/fleetdeploy/deploy"
	"github.com/fleetdeploy/fleetdeploy/deploy/deploytest"
	"github.com/fleetdeploy/fleetdeploy/revision"
	"github.com/fleetdeploy/fleetdeploy/target"
	"github.com/fleetdeploy/fleetdeploy/target/ec2target"
	"github.com/fleetdeploy/fleetdeploy/target/targettest"
)

// End to end: an instance launches into an Auto Scaling group of a
// deployment group that has a revision; the executor, serving the
// lifecycle notifications through ScalingEvents, runs the launch
// deployment on it with the Installer and answers CONTINUE — or ABANDON
// when the deployment fails — with the action's token; the notification is
// gone from the queue.
func TestServeScalingEventsOnAutoScaling(t *testing.T) {
	for _, tc := range []struct {
		name   string
		fail   bool
		result target.ScalingResult
		status deploy.DeploymentStatus
	}{
		{"succeeds", false, target.ScalingContinue, deploy.StatusSucceeded},
		{"fails", true, target.ScalingAbandon, deploy.StatusFailed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newHookWorld(t, 2, false)
			old, launched := w.instances[0], w.instances[1]
			store := deploy.NewMemoryStore()
			fleet := targettest.NewFleet(target.Target{ID: old, Tags: map[string]string{"env": "prod"}, AutoScalingGroup: w.group})
			platform := fleet.Platform()
			platform.ScalingEvents = w.events
			x, err := deploy.New(store, platform, func(o *deploy.Options) {
				o.Clock = deploytest.NewFakeClock(time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC))
			})
			if err != nil {
				t.Fatal(err)
			}
			if err := store.CreateApplication(w.ctx, &deploy.Application{Name: "shop", ComputePlatform: config.Server}); err != nil {
				t.Fatal(err)
			}
			g := deploy.Group{ApplicationName: "shop", Name: "prod", DeploymentConfigName: "CodeDeployDefault.OneAtATime",
				Selector: target.Selector{AutoScalingGroups: []string{w.group}}}
			if err := store.CreateGroup(w.ctx, &g); err != nil {
				t.Fatal(err)
			}
			d, err := x.CreateDeployment(w.ctx, deploy.DeploymentInput{ApplicationName: "shop", GroupName: "prod",
				Revision: revision.Location{Type: revision.LocationS3, S3: &revision.S3Location{Bucket: "releases", Key: "v1.zip", BundleType: revision.BundleZip}}})
			if err != nil {
				t.Fatal(err)
			}
			if d, err = x.Run(w.ctx, d.ID); err != nil || d.Status != deploy.StatusSucceeded {
				t.Fatalf("v1: %v, %v", d, err)
			}

			fleet.Add(target.Target{ID: launched, Tags: map[string]string{"env": "prod"}, AutoScalingGroup: w.group})
			if tc.fail {
				fleet.Script(launched, target.AfterInstall, targettest.Fail(target.CodeScriptFailed, "exit 1"))
			}
			token := w.act(target.InstanceLaunching, launched)
			ctx, cancel := context.WithCancel(w.ctx)
			defer cancel()
			served := make(chan error, 1)
			go func() { served <- x.ServeScalingEvents(ctx) }()
			select {
			case got := <-w.lifecycle.answer:
				want := lifecycleCall{Op: "complete", Token: token, Hook: ec2target.HookName("shop", "prod", target.InstanceLaunching),
					Group: w.group, Result: string(tc.result)}
				if got != want {
					t.Errorf("answer %+v; want %+v", got, want)
				}
			case err := <-served:
				t.Fatalf("ServeScalingEvents ended before answering: %v", err)
			case <-time.After(guard):
				t.Fatal("no answer")
			}
			cancel()
			if err := <-served; !errors.Is(err, context.Canceled) {
				t.Errorf("ServeScalingEvents: %v", err)
			}

			ds, err := store.ListDeployments(w.ctx, "shop", "prod")
			if err != nil {
				t.Fatal(err)
			}
			i := slices.IndexFunc(ds, func(d deploy.Deployment) bool { return d.Creator == target.CreatorAutoscaling })
			if len(ds) != 2 || i < 0 || ds[i].Status != tc.status || ds[i].Revision.S3.Key != "v1.zip" {
				t.Fatalf("deployments %+v; want v1's and a launch deployment of v1 that %s", ds, tc.status)
			}
			if evs := fleet.Events(launched); !slices.Contains(evs, target.AfterInstall) || slices.Contains(evs, target.ApplicationStart) == tc.fail {
				t.Errorf("events on %s: %v", launched, evs)
			}
			if n := w.queued(); n != 0 {
				t.Errorf("queue holds %d messages after the answer", n)
			}
		})
	}
}

package plansvg_test

import (
	"testing"
	"time"

	"github.com/fleetdeploy/fleetdeploy/deploy"
	"github.com/fleetdeploy/fleetdeploy/deploy/deploytest"
	"github.com/fleetdeploy/fleetdeploy/revision"
	"github.com/fleetdeploy/fleetdeploy/target"
	"github.com/fleetdeploy/fleetdeploy/target/targettest"
)

// A run of the real executor draws as a preview does: the failed
// deployment of a simulation (web-2 fails on v2) and its rollback, each
// lane matching the schedule the executor followed. (The healthy line is
// drawn from the steps' Healthy and Minimum counts, which are the
// Timeline's to fill.)
func TestSimulatedTimeline(t *testing.T) {
	rev := func(name string) revision.Location {
		return revision.Location{Type: revision.LocationS3, S3: &revision.S3Location{Bucket: "releases", Key: name + ".zip", BundleType: revision.BundleZip}}
	}
	var fleet []deploytest.SimTarget
	for _, id := range []string{"web-1", "web-2", "web-3", "web-4"} {
		fleet = append(fleet, deploytest.SimTarget{Target: target.Target{ID: id}, Duration: 5 * time.Minute})
	}
	tl, err := deploytest.Simulate(t, deploytest.Scenario{
		Group: deploy.Group{DeploymentConfigName: "CodeDeployDefault.OneAtATime", AutoRollbackConfiguration: deploy.AutoRollbackConfiguration{
			Enabled: true, Events: []deploy.AutoRollbackEvent{deploy.AutoRollbackDeploymentFailure}}},
		Fleet:     fleet,
		Revisions: []revision.Location{rev("v1"), rev("v2")},
		Scripts:   []deploytest.Script{{Target: "web-2", Event: target.AfterInstall, Outcome: targettest.Fail(target.CodeScriptFailed, "smoke test").OnRevision(rev("v2"))}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(tl.Deployments) != 3 {
		t.Fatalf("%d deployments, want v1, v2 and its rollback", len(tl.Deployments))
	}
	for _, d := range tl.Deployments[1:] {
		in, s := tl.Schedule(d.ID)
		p := read(t, render(t, in, s))
		checkLanes(t, in, s, p)
		if d.Creator == target.CreatorRollback {
			continue
		}
		if len(p.fails["web-2"]) != 1 {
			t.Errorf("deployment %s: failure marks %v, want one on web-2", d.ID, p.fails)
		}
	}
}

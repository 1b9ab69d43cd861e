package deploy_test

import (
	"fmt"
	"testing"

	"github.com/fleetdeploy/fleetdeploy/deploy"
	"github.com/fleetdeploy/fleetdeploy/health"
	"github.com/fleetdeploy/fleetdeploy/target"
	"github.com/fleetdeploy/fleetdeploy/target/targettest"
)

// A fleet large enough that the runner's passes over it (loading the
// targets, the planner's input, the instance records at the end) are split
// among goroutines: every target keeps its own initial health, result and
// health after the deployment (User Guide, "CodeDeploy instance health"), in
// whichever chunk it is.
func TestLargeFleetRunsInChunks(t *testing.T) {
	const n = 33_000
	e := newEnv(t, n, "CodeDeployDefault.AllAtOnce", nil)
	states := map[string]string{}
	failing := map[string]bool{}
	for i := range n {
		id := fmt.Sprintf("i-%03d", i)
		switch {
		case i%997 == 5:
			states[id] = "Unhealthy"
		case i%991 == 3:
			states[id] = "Healthy/Old"
		}
		if i%4999 == 11 {
			failing[id] = true
			e.fleet.Script(id, target.AfterInstall, targettest.Fail(target.CodeScriptFailed, "scripts/configure.sh exited 1"))
		}
	}
	e.seed(states)
	d := e.deploy("v1")
	if d.Status != deploy.StatusSucceeded {
		t.Fatalf("status %s (%+v); want Succeeded: AllAtOnce succeeds when any target does", d.Status, d.ErrorInformation)
	}
	if d.Overview.Succeeded != int64(n-len(failing)) || d.Overview.Failed != int64(len(failing)) {
		t.Errorf("overview %+v; want %d succeeded, %d failed", d.Overview, n-len(failing), len(failing))
	}
	targets := e.targets(d.ID)
	after := e.health()
	if len(targets) != n || len(after) != n {
		t.Fatalf("%d target records, %d instance records; want %d of each", len(targets), len(after), n)
	}
	for id, tg := range targets {
		wantInst, wantRev := health.Healthy, health.Current
		switch states[id] {
		case "Unhealthy":
			wantInst = health.Unhealthy
		case "Healthy/Old":
			wantRev = health.Old
		}
		if tg.InitialInstanceHealth != wantInst || tg.InitialRevisionHealth != wantRev {
			t.Errorf("%s: initial health %s/%s; want %s/%s", id, tg.InitialInstanceHealth, tg.InitialRevisionHealth, wantInst, wantRev)
		}
		h := after[id]
		switch {
		case failing[id] && (tg.Status != target.TargetFailed || h.Instance != health.Unhealthy):
			t.Errorf("%s failed AfterInstall: status %s, instance health %s after; want Failed, Unhealthy", id, tg.Status, h.Instance)
		case !failing[id] && (tg.Status != target.TargetSucceeded || h != health.Target{ID: id, Instance: health.Healthy, Revision: health.Current}):
			t.Errorf("%s: status %s, health %s/%s after; want Succeeded, Healthy/Current", id, tg.Status, h.Instance, h.Revision)
		}
	}
}

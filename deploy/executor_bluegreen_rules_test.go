package deploy_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fleetdeploy/fleetdeploy/deploy"
	"github.com/fleetdeploy/fleetdeploy/deploy/plan"
	"github.com/fleetdeploy/fleetdeploy/target"
	"github.com/fleetdeploy/fleetdeploy/target/targettest"
)

// keepAlive makes a bgEnv group keep its originals.
func keepAlive(g *deploy.Group) {
	g.BlueGreenDeploymentConfiguration.TerminateBlueInstancesOnDeploymentSuccess.Action = deploy.InstanceActionKeepAlive
}

// withConfigName sets a deployment's configuration.
func withConfigName(name string) func(*deploy.DeploymentInput) {
	return func(in *deploy.DeploymentInput) { in.ConfigName = name }
}

// failNth makes the n-th calls (1-based, in the order they start) of event
// on replacement targets fail; it returns how many such calls there were.
func failNth(fleet *targettest.Fleet, event target.LifecycleEvent, n ...int) func() int {
	var mu sync.Mutex
	count := 0
	fleet.OnCall(func(_ context.Context, c targettest.Call) error {
		if c.Event != event || !strings.Contains(c.Target, "-green-") {
			return nil
		}
		mu.Lock()
		count++
		k := count
		mu.Unlock()
		if slices.Contains(n, k) {
			return fmt.Errorf("scripted failure of %s call %d on %s", event, k, c.Target)
		}
		return nil
	})
	return func() int {
		mu.Lock()
		defer mu.Unlock()
		return count
	}
}

// The rerouting rules of the User Guide's "Working with deployment
// configurations in CodeDeploy" (AllAtOnce, HalfAtATime and OneAtATime in a
// blue/green deployment), with 4 replacements and the configuration's batches:
// AllAtOnce succeeds if at least one replacement is rerouted; HalfAtATime iff
// at least half are; OneAtATime fails at the first failed reroute, except on
// the last replacement.
func TestBlueGreenReroutingRules(t *testing.T) {
	tests := []struct {
		name string
		cfg  string
		fail []int // AllowTraffic calls on replacements that fail, 1-based
		want deploy.DeploymentStatus
	}{
		{"deployment configurations: AllAtOnce, 3 of 4 reroutes fail", "CodeDeployDefault.AllAtOnce", []int{1, 2, 3}, deploy.StatusSucceeded},
		{"deployment configurations: AllAtOnce, every reroute fails", "CodeDeployDefault.AllAtOnce", []int{1, 2, 3, 4}, deploy.StatusFailed},
		{"deployment configurations: HalfAtATime, 2 of 4 fail", "CodeDeployDefault.HalfAtATime", []int{1, 2}, deploy.StatusSucceeded},
		{"deployment configurations: HalfAtATime, 3 of 4 fail", "CodeDeployDefault.HalfAtATime", []int{1, 2, 3}, deploy.StatusFailed},
		{"deployment configurations: OneAtATime, the first fails", "CodeDeployDefault.OneAtATime", []int{1}, deploy.StatusFailed},
		{"deployment configurations: OneAtATime, the third fails", "CodeDeployDefault.OneAtATime", []int{3}, deploy.StatusFailed},
		{"deployment configurations: OneAtATime, only the last fails", "CodeDeployDefault.OneAtATime", []int{4}, deploy.StatusSucceeded},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e, _ := bgEnv(t, deploy.ActionContinueDeployment, keepAlive)
			calls := failNth(e.fleet, target.AllowTraffic, tc.fail...)
			d := e.create("v1", withConfigName(tc.cfg))
			got, err := e.exec.Run(e.ctx, d.ID)
			if err != nil || got.Status != tc.want {
				t.Fatalf("Run = %s %+v, %v; want %s", got.Status, got.ErrorInformation, err, tc.want)
			}
			if got.Status == deploy.StatusFailed && got.ErrorInformation.Message == "" {
				t.Error("a failed deployment must say why")
			}
			if tc.cfg == "CodeDeployDefault.OneAtATime" && tc.want == deploy.StatusFailed && calls() != tc.fail[0] {
				t.Errorf("%d reroutes tried; OneAtATime stops at the first failure (%d)", calls(), tc.fail[0])
			}
			rerouted := 0
			for id, tg := range e.targets(d.ID) {
				if tg.Label == target.LabelGreen && e.fleet.InService(id) {
					rerouted++
				}
			}
			if tc.want == deploy.StatusSucceeded && rerouted != 4-len(tc.fail) {
				t.Errorf("%d replacements in service; want %d", rerouted, 4-len(tc.fail))
			}
		})
	}
}

// User Guide, "CodeDeploy instance health": one original that fails to
// deregister fails the deployment, although every replacement was rerouted.
func TestBlueGreenOriginalFailsToDeregister(t *testing.T) {
	e, prov := bgEnv(t, deploy.ActionContinueDeployment, nil)
	e.fleet.Script("i-002", target.BlockTraffic, targettest.Fail(target.CodeUnknownError, "deregistration timed out"))
	d := e.create("v1")
	got, err := e.exec.Run(e.ctx, d.ID)
	if err != nil || got.Status != deploy.StatusFailed {
		t.Fatalf("Run = %s %+v, %v; want Failed", got.Status, got.ErrorInformation, err)
	}
	if tg := e.targets(d.ID)["i-002"]; tg.Status != target.TargetFailed {
		t.Errorf("original i-002: %s; want Failed", tg.Status)
	}
	if len(prov.Terminated()) != 0 {
		t.Errorf("terminated %v after a failed deployment", prov.Terminated())
	}
}

// API Reference, BlueGreenDeploymentConfiguration: deploymentReadyOption
// CONTINUE_DEPLOYMENT, KEEP_ALIVE: traffic is
// rerouted as soon as the replacements are installed (never Ready, no time
// passes), and the originals are deregistered but kept.
func TestBlueGreenContinueAndKeepAlive(t *testing.T) {
	e, prov := bgEnv(t, deploy.ActionContinueDeployment, keepAlive)
	d := e.create("v1")
	got, err := e.exec.Run(e.ctx, d.ID)
	if err != nil || got.Status != deploy.StatusSucceeded {
		t.Fatalf("Run = %s %+v, %v", got.Status, got.ErrorInformation, err)
	}
	if took := got.CompleteTime.Sub(got.StartTime); took != 0 {
		t.Errorf("took %s of virtual time; nothing waits", took)
	}
	if sts := e.rec.Statuses(d.ID); slices.Contains(sts, deploy.StatusReady) || slices.Contains(sts, deploy.StatusBaking) {
		t.Errorf("statuses %v; CONTINUE_DEPLOYMENT and KEEP_ALIVE never wait", sts)
	}
	if len(prov.Terminated()) != 0 {
		t.Errorf("terminated %v; KEEP_ALIVE keeps the originals", prov.Terminated())
	}
	for id, tg := range e.targets(d.ID) {
		if want := tg.Label == target.LabelGreen; e.fleet.InService(id) != want {
			t.Errorf("%s %s: in service %v", tg.Label, id, !want)
		}
		if tg.Label == target.LabelBlue && !slices.ContainsFunc(e.fleet.Targets(), func(x target.Target) bool { return x.ID == id }) {
			t.Errorf("original %s is gone; KEEP_ALIVE keeps it", id)
		}
	}
}

// API Reference, BlueGreenDeploymentConfiguration: with TERMINATE the
// originals are terminated only once terminationWaitTimeInMinutes (30) has
// passed after the reroute, while the deployment is Baking (the status of
// that wait is fleetdeploy's decision).
func TestBlueGreenTerminatesAfterTheWait(t *testing.T) {
	e, prov := bgEnv(t, deploy.ActionContinueDeployment, nil)
	d := e.create("v1")
	var bakeStart time.Time
	for range 1000 {
		res, err := e.exec.Step(e.ctx, d.ID)
		if err != nil {
			t.Fatal(err)
		}
		if res.Done {
			if res.Deployment.Status != deploy.StatusSucceeded {
				t.Fatalf("status %s %+v", res.Deployment.Status, res.Deployment.ErrorInformation)
			}
			break
		}
		if res.Deployment.Status == deploy.StatusBaking && bakeStart.IsZero() {
			bakeStart = e.clk.Now()
		}
		if n := len(prov.Terminated()); n > 0 && e.clk.Now().Sub(bakeStart) < 30*time.Minute {
			t.Fatalf("%d originals terminated %s into the 30-minute termination wait", n, e.clk.Now().Sub(bakeStart))
		}
		if !res.WaitUntil.IsZero() {
			e.clk.Set(res.WaitUntil)
		}
	}
	if bakeStart.IsZero() {
		t.Fatal("never Baking")
	}
	if waited := e.clk.Now().Sub(bakeStart); waited != 30*time.Minute {
		t.Errorf("terminated after %s; want the 30-minute wait", waited)
	}
	if got := prov.Terminated(); !slices.Equal(got, []string{"i-000", "i-001", "i-002", "i-003"}) {
		t.Errorf("terminated %v; want the originals", got)
	}
}

// User Guide, "CodeDeploy instance health": the minimum healthy hosts rule
// applies to the replacement fleet: with OneAtATime the first replacement that
// fails to install fails the deployment before any other replacement is tried,
// and nothing is rerouted.
func TestBlueGreenMinimumHealthyOnReplacements(t *testing.T) {
	e, _ := bgEnv(t, deploy.ActionContinueDeployment, keepAlive)
	failNth(e.fleet, target.ValidateService, 1)
	d := e.create("v1", withConfigName("CodeDeployDefault.OneAtATime"))
	got, err := e.exec.Run(e.ctx, d.ID)
	if err != nil || got.Status != deploy.StatusFailed || got.ErrorInformation.Code != plan.HealthConstraints {
		t.Fatalf("Run = %s %+v, %v; want Failed HEALTH_CONSTRAINTS", got.Status, got.ErrorInformation, err)
	}
	attempted := 0
	for _, tg := range e.targets(d.ID) {
		if tg.Label == target.LabelGreen && tg.Status != target.TargetSkipped && tg.Status != target.TargetPending {
			attempted++
		}
	}
	if attempted != 1 {
		t.Errorf("%d replacements attempted; OneAtATime stops at the first failure", attempted)
	}
	for _, c := range e.fleet.Calls() {
		if c.Event == target.AllowTraffic || c.Event == target.BlockTraffic {
			t.Errorf("%s ran %s; the install failed", c.Target, c.Event)
		}
	}
	if w := e.fleet.MaxInFlight(d.ID); w > 1 {
		t.Errorf("%d replacements in flight at once; OneAtATime allows 1", w)
	}
}

// User Guide, "AppSpec 'hooks' section" and "Redeploy and roll back a
// deployment with CodeDeploy": a blue/green deployment that fails before any
// traffic was rerouted is rolled back: the originals, which never stopped
// serving, are allowed traffic again and stay in service; the replacements are
// blocked and never serve.
func TestBlueGreenRollbackBeforeRerouting(t *testing.T) {
	e, _ := bgEnv(t, deploy.ActionContinueDeployment, func(g *deploy.Group) {
		keepAlive(g)
		autoRollback(deploy.AutoRollbackDeploymentFailure)(g)
	})
	e.seed(nil)
	failNth(e.fleet, target.ValidateService, 1, 2, 3, 4)
	d := e.create("v1")
	got, err := e.exec.Run(e.ctx, d.ID)
	if err != nil || got.Status != deploy.StatusFailed {
		t.Fatalf("Run = %s %+v, %v", got.Status, got.ErrorInformation, err)
	}
	for _, c := range e.fleet.Calls() {
		if c.DeploymentID == d.ID && (c.Event == target.AllowTraffic || c.Event == target.BlockTraffic) {
			t.Fatalf("%s ran %s before the rollback; nothing should be rerouted", c.Target, c.Event)
		}
	}
	rb := e.get(got.RollbackInfo.RollbackDeploymentID)
	if rb.Status != deploy.StatusSucceeded {
		t.Fatalf("rollback %s %+v", rb.Status, rb.ErrorInformation)
	}
	for id, tg := range e.targets(rb.ID) {
		var evs []target.LifecycleEvent
		for _, c := range e.fleet.Calls() {
			if c.DeploymentID == rb.ID && c.Target == id {
				evs = append(evs, c.Event)
			}
		}
		want := "[BeforeAllowTraffic AllowTraffic AfterAllowTraffic]"
		if tg.Label == target.LabelGreen {
			want = "[BeforeBlockTraffic BlockTraffic AfterBlockTraffic]"
		}
		if fmt.Sprint(evs) != want {
			t.Errorf("rollback %s %s: %v; want %s", tg.Label, id, evs, want)
		}
		if inService := e.fleet.InService(id); inService != (tg.Label == target.LabelBlue) {
			t.Errorf("%s %s: in service %v after the rollback", tg.Label, id, inService)
		}
	}
	if got := e.groupRevision(); got != rev("v0").Key() {
		t.Errorf("group revision %s; want v0", got)
	}
}

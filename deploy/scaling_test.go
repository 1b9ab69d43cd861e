package deploy_test

import (
	"context"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/fleetdeploy/fleetdeploy/deploy"
	"github.com/fleetdeploy/fleetdeploy/deploy/clock"
	"github.com/fleetdeploy/fleetdeploy/health"
	"github.com/fleetdeploy/fleetdeploy/target"
	"github.com/fleetdeploy/fleetdeploy/target/targettest"
)

// scalingEnv is an env whose platform has a ScalingEvents role.
func scalingEnv(t *testing.T, n int, change func(*deploy.Group), opts ...func(*deploy.Options)) (*env, *targettest.ScalingEvents) {
	t.Helper()
	e := newEnv(t, n, "CodeDeployDefault.OneAtATime", change, opts...)
	sc := targettest.NewScalingEvents()
	e.platform = e.fleet.Platform()
	e.platform.ScalingEvents = sc
	e.exec = e.newExecutor(e.store)
	return e, sc
}

var newInstance = target.Target{ID: "i-new", Tags: map[string]string{"env": "prod"}, Zone: "a"}

// eventsOn returns the events the fleet ran on id, in call order.
func eventsOn(f *targettest.Fleet, id string) []target.LifecycleEvent {
	var out []target.LifecycleEvent
	for _, c := range f.Calls() {
		if c.Target == id {
			out = append(out, c.Event)
		}
	}
	return out
}

// handle runs HandleScalingEvent and checks that the answer the platform
// received is the outcome's.
func handle(t *testing.T, e *env, sc *targettest.ScalingEvents, ev target.ScalingEvent) deploy.ScalingOutcome {
	t.Helper()
	out, err := e.exec.HandleScalingEvent(e.ctx, ev)
	if err != nil {
		t.Fatal(err)
	}
	if got, ok := sc.Answer(ev); !ok || got != out.Result {
		t.Fatalf("answer %q (given: %v); outcome %+v", got, ok, out)
	}
	return out
}

// User Guide, "Integrating CodeDeploy with Amazon EC2 Auto Scaling": a
// launch into a group with no successful deployment answers CONTINUE and
// deploys nothing.
func TestScalingLaunchWithoutRevision(t *testing.T) {
	e, sc := scalingEnv(t, 2, nil)
	e.fleet.Add(newInstance)
	out := handle(t, e, sc, sc.Launch("shop", "prod", newInstance))
	if out.Result != target.ScalingContinue || out.Deployment != nil {
		t.Fatalf("outcome %+v", out)
	}
	if calls := e.fleet.Calls(); len(calls) != 0 {
		t.Errorf("calls %v", calls)
	}
	if ds, err := e.store.ListDeployments(e.ctx, "shop", "prod"); err != nil || len(ds) != 0 {
		t.Errorf("deployments %v, %v", ds, err)
	}
}

// A launch installs the group's last successful revision with the full
// in-place sequence plus the allow-traffic events (creator autoscaling)
// and answers CONTINUE; the instance becomes healthy and current.
func TestScalingLaunchInstallsTargetRevision(t *testing.T) {
	e, sc := scalingEnv(t, 2, func(g *deploy.Group) {
		g.DeploymentStyle = deploy.DeploymentStyle{DeploymentOption: deploy.WithTrafficControl}
		g.LoadBalancerInfo = target.LoadBalancerInfo{TargetGroupInfoList: []target.NameInfo{{Name: "web"}}}
	})
	if d := e.deploy("v1"); d.Status != deploy.StatusSucceeded {
		t.Fatalf("v1 %s", d.Status)
	}
	e.fleet.Add(newInstance)
	out := handle(t, e, sc, sc.Launch("shop", "prod", newInstance))
	if out.Result != target.ScalingContinue || out.Deployment == nil {
		t.Fatalf("outcome %+v", out)
	}
	d := e.get(out.Deployment.ID)
	if d.Creator != target.CreatorAutoscaling || d.Status != deploy.StatusSucceeded || d.Revision.Key() != rev("v1").Key() {
		t.Errorf("launch deployment %+v", d)
	}
	want := []target.LifecycleEvent{target.ApplicationStop, target.DownloadBundle, target.BeforeInstall, target.Install,
		target.AfterInstall, target.ApplicationStart, target.ValidateService, target.BeforeAllowTraffic, target.AllowTraffic, target.AfterAllowTraffic}
	if got := eventsOn(e.fleet, "i-new"); !slices.Equal(got, want) {
		t.Errorf("events %v; want %v", got, want)
	}
	if tg := e.targets(d.ID)["i-new"]; tg.Status != target.TargetSucceeded || len(tg.LifecycleEvents) != len(want) {
		t.Errorf("target %+v", tg)
	}
	rec, err := e.store.GetInstance(e.ctx, e.group.ID, "i-new")
	if err != nil || rec.InstanceHealth != health.Healthy || rec.Revision == nil || rec.Revision.Key() != rev("v1").Key() {
		t.Errorf("instance record %+v, %v", rec, err)
	}
	if !e.fleet.InService("i-new") {
		t.Error("i-new takes no traffic")
	}
}

// A failing launch deployment answers ABANDON and records the instance
// unhealthy.
func TestScalingLaunchFailureAbandons(t *testing.T) {
	e, sc := scalingEnv(t, 2, nil)
	e.deploy("v1")
	e.fleet.Add(newInstance)
	e.fleet.Script("i-new", target.AfterInstall, targettest.Fail(target.CodeScriptFailed, "exit 1"))
	out := handle(t, e, sc, sc.Launch("shop", "prod", newInstance))
	if out.Result != target.ScalingAbandon || out.Deployment == nil {
		t.Fatalf("outcome %+v", out)
	}
	d := e.get(out.Deployment.ID)
	if d.Status != deploy.StatusFailed || d.ErrorInformation.Message == "" {
		t.Errorf("launch deployment %+v", d)
	}
	evs := e.targets(d.ID)["i-new"].LifecycleEvents
	if evs[4].Status != target.EventFailed || evs[5].Status != target.EventSkipped || evs[6].Status != target.EventSkipped {
		t.Errorf("events %+v", evs)
	}
	if rec, err := e.store.GetInstance(e.ctx, e.group.ID, "i-new"); err != nil || rec.InstanceHealth != health.Unhealthy || rec.Revision != nil {
		t.Errorf("instance record %+v, %v", rec, err)
	}
	if got := eventsOn(e.fleet, "i-new"); slices.Contains(got, target.ApplicationStart) {
		t.Errorf("events after the failure ran: %v", got)
	}
}

// An instance launched during a deployment gets the previous revision;
// with UPDATE the follow-on deployment (creator CodeDeployAutoUpdate)
// brings it to the new one, with IGNORE it keeps the previous one.
func TestScalingLaunchDuringDeployment(t *testing.T) {
	for _, strategy := range []deploy.OutdatedInstancesStrategy{deploy.OutdatedInstancesUpdate, deploy.OutdatedInstancesIgnore} {
		t.Run(string(strategy), func(t *testing.T) {
			e, sc := scalingEnv(t, 3, func(g *deploy.Group) { g.OutdatedInstancesStrategy = strategy })
			e.deploy("v1")
			var launch deploy.ScalingOutcome
			launched := false
			e.fleet.OnCall(func(ctx context.Context, c targettest.Call) error {
				if launched || c.Target != "i-001" || c.Revision.Key() != rev("v2").Key() {
					return nil
				}
				launched = true
				e.fleet.Add(newInstance)
				// The launch runs while v2 holds the group's active slot.
				out, err := e.exec.HandleScalingEvent(ctx, sc.Launch("shop", "prod", newInstance))
				if err != nil {
					t.Error(err)
				}
				launch = out
				return nil
			})
			d := e.deploy("v2")
			if d.Status != deploy.StatusSucceeded || !launched {
				t.Fatalf("v2 %s, launched %v", d.Status, launched)
			}
			if launch.Result != target.ScalingContinue || launch.Deployment == nil || launch.Deployment.Revision.Key() != rev("v1").Key() {
				t.Fatalf("launch %+v", launch)
			}
			installed, _ := e.fleet.Installed("i-new")
			ids := d.RelatedDeployments.AutoUpdateOutdatedInstancesDeploymentIDs
			if strategy == deploy.OutdatedInstancesIgnore {
				if len(ids) != 0 || installed.Key() != rev("v1").Key() {
					t.Errorf("IGNORE: follow-ons %v, i-new runs %v", ids, installed)
				}
				return
			}
			if len(ids) != 1 {
				t.Fatalf("related %+v", d.RelatedDeployments)
			}
			au := e.get(ids[0])
			if au.Creator != target.CreatorAutoUpdate || au.Status != deploy.StatusSucceeded || au.Revision.Key() != rev("v2").Key() {
				t.Errorf("follow-on %+v", au)
			}
			if installed.Key() != rev("v2").Key() {
				t.Errorf("i-new runs %v", installed)
			}
			if tgs := e.targets(au.ID); len(tgs) != 1 || tgs["i-new"].Status != target.TargetSucceeded {
				t.Errorf("follow-on targets %v; want only the outdated i-new, succeeded", slices.Collect(maps.Keys(tgs)))
			}
			if rec, err := e.store.GetInstance(e.ctx, e.group.ID, "i-new"); err != nil || rec.Revision == nil || rec.Revision.Key() != rev("v2").Key() {
				t.Errorf("instance record of i-new %+v, %v; want revision v2", rec, err)
			}
		})
	}
}

// User Guide, "Integrating CodeDeploy with Amazon EC2 Auto Scaling": with
// the termination hook and no load balancer, a termination deployment runs
// ApplicationStop alone, for the revision the instance runs; in a group
// that never deployed, nothing runs. Both answer CONTINUE.
func TestScalingTerminationWithoutLoadBalancer(t *testing.T) {
	e, sc := scalingEnv(t, 2, func(g *deploy.Group) { g.TerminationHookEnabled = true })
	e.deploy("v1")
	before := len(e.fleet.Calls())
	out := handle(t, e, sc, sc.Terminate("shop", "prod", fleetTargets(2)[1]))
	calls := e.fleet.Calls()[before:]
	if out.Result != target.ScalingContinue || out.Deployment == nil || len(calls) != 1 ||
		calls[0].Target != "i-001" || calls[0].Event != target.ApplicationStop || calls[0].Revision.Key() != rev("v1").Key() {
		t.Fatalf("outcome %+v, calls %+v; want ApplicationStop of v1 on i-001", out, calls)
	}
	if d := e.get(out.Deployment.ID); d.Creator != target.CreatorAutoscalingTermination || d.Status != deploy.StatusSucceeded {
		t.Errorf("termination deployment %s by %s", d.Status, d.Creator)
	}
	fresh, fsc := scalingEnv(t, 2, func(g *deploy.Group) { g.TerminationHookEnabled = true })
	out = handle(t, fresh, fsc, fsc.Terminate("shop", "prod", fleetTargets(2)[0]))
	if out.Result != target.ScalingContinue || out.Deployment != nil || len(fresh.fleet.Calls()) != 0 {
		t.Errorf("a group that never deployed: outcome %+v, calls %v", out, fresh.fleet.Calls())
	}
}

// User Guide, "Integrating CodeDeploy with Amazon EC2 Auto Scaling": with
// the termination hook, scale-in runs BeforeBlockTraffic, BlockTraffic,
// AfterBlockTraffic and ApplicationStop, and the answer is CONTINUE even
// when an event fails; without the hook nothing runs.
func TestScalingTermination(t *testing.T) {
	for _, enabled := range []bool{true, false} {
		e, sc := scalingEnv(t, 2, func(g *deploy.Group) {
			g.TerminationHookEnabled = enabled
			g.DeploymentStyle = deploy.DeploymentStyle{DeploymentOption: deploy.WithTrafficControl}
			g.LoadBalancerInfo = target.LoadBalancerInfo{TargetGroupInfoList: []target.NameInfo{{Name: "web"}}}
		})
		e.deploy("v1")
		before := len(e.fleet.Calls())
		e.fleet.Script("i-000", target.ApplicationStop, targettest.Fail(target.CodeScriptFailed, "exit 3"))
		out := handle(t, e, sc, sc.Terminate("shop", "prod", fleetTargets(2)[0]))
		if out.Result != target.ScalingContinue {
			t.Errorf("enabled=%v: outcome %+v", enabled, out)
		}
		var got []target.LifecycleEvent
		for _, c := range e.fleet.Calls()[before:] {
			got = append(got, c.Event)
		}
		if !enabled {
			if len(got) != 0 || out.Deployment != nil {
				t.Errorf("without the hook: events %v, deployment %+v", got, out.Deployment)
			}
			continue
		}
		want := []target.LifecycleEvent{target.BeforeBlockTraffic, target.BlockTraffic, target.AfterBlockTraffic, target.ApplicationStop}
		if !slices.Equal(got, want) {
			t.Errorf("events %v; want %v", got, want)
		}
		d := e.get(out.Deployment.ID)
		if d.Creator != target.CreatorAutoscalingTermination || d.Status != deploy.StatusFailed || d.Revision.Key() != rev("v1").Key() {
			t.Errorf("termination deployment %+v", d)
		}
		if e.fleet.InService("i-000") {
			t.Error("i-000 still takes traffic")
		}
	}
}

// While a launch deployment works, a heartbeat goes out every
// Options.ScalingHeartbeat on the executor's clock, and none after the
// answer.
func TestScalingHeartbeats(t *testing.T) {
	e, sc := scalingEnv(t, 1, nil)
	e.deploy("v1")
	e.fleet.Add(newInstance)
	e.fleet.OnCall(func(ctx context.Context, c targettest.Call) error {
		if c.Target == "i-new" && c.Event == target.Install {
			return clock.Sleep(ctx, e.clk, 12*time.Minute) // a slow install
		}
		return nil
	})
	ev := sc.Launch("shop", "prod", newInstance)
	done := make(chan error, 1)
	handled, finished := context.WithCancel(e.ctx)
	defer finished()
	go func() {
		_, err := e.exec.HandleScalingEvent(e.ctx, ev)
		done <- err
		finished()
	}()
	// Pending: the heartbeat timer, the install's time limit (an hour) and
	// the install's sleep. Fire the heartbeats at 5
	// and 10 minutes, then the install's end at 12.
	for i := 0; i < 3 && e.clk.BlockUntil(handled, 3) == nil; i++ {
		e.clk.AdvanceToNext()
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if got, _ := sc.Answer(ev); got != target.ScalingContinue {
		t.Errorf("answer %q", got)
	}
	if n := sc.Heartbeats(ev); n != 2 {
		t.Errorf("%d heartbeats in 12 minutes; want 2 (every 5 minutes)", n)
	}
	if n := e.clk.Waiters(); n != 0 {
		t.Errorf("%d timers left after the answer", n)
	}
}

// Invalid events are refused without an answer; ServeScalingEvents feeds
// the role's events to HandleScalingEvent until its context ends.
func TestServeScalingEvents(t *testing.T) {
	e, sc := scalingEnv(t, 2, nil)
	if _, err := e.exec.HandleScalingEvent(e.ctx, target.ScalingEvent{ID: "x", Transition: "autoscaling:EC2_INSTANCE_REBOOTING"}); err == nil {
		t.Error("an invalid event was accepted")
	}
	e.deploy("v1")
	e.fleet.Add(newInstance)
	ctx, cancel := context.WithCancel(e.ctx)
	served := make(chan error, 1)
	go func() { served <- e.exec.ServeScalingEvents(ctx) }()
	launch := sc.Launch("shop", "prod", newInstance)
	term := sc.Terminate("shop", "prod", fleetTargets(2)[1])
	for _, ev := range []target.ScalingEvent{launch, term} {
		if got, err := sc.Await(e.ctx, ev); err != nil || got != target.ScalingContinue {
			t.Errorf("%s answered %q, %v", ev.ID, got, err)
		}
	}
	cancel()
	if err := <-served; err != context.Canceled {
		t.Errorf("ServeScalingEvents returned %v", err)
	}
	if got, _ := e.fleet.Installed("i-new"); got.Key() != rev("v1").Key() {
		t.Errorf("i-new runs %v", got)
	}
	noRole, err := deploy.New(e.store, e.fleet.Platform())
	if err != nil {
		t.Fatal(err)
	}
	if err := noRole.ServeScalingEvents(e.ctx); err == nil {
		t.Error("ServeScalingEvents without the role returned nil")
	}
}

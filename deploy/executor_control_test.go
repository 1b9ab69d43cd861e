package deploy_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/fleetdeploy/fleetdeploy/config"
	"github.com/fleetdeploy/fleetdeploy/deploy"
	"github.com/fleetdeploy/fleetdeploy/deploy/deploytest"
	"github.com/fleetdeploy/fleetdeploy/deploy/plan"
	"github.com/fleetdeploy/fleetdeploy/health"
	"github.com/fleetdeploy/fleetdeploy/revision"
	"github.com/fleetdeploy/fleetdeploy/target"
	"github.com/fleetdeploy/fleetdeploy/target/targettest"
)

// User Guide, "CodeDeploy quotas" (one deployment at a time per deployment
// group): 64 goroutines create deployments for one
// group at once; exactly one succeeds and the others are told which
// deployment is active.
func TestCreateDeploymentOneActive(t *testing.T) {
	e := newEnv(t, 5, "", nil)
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		created []string
		errs    []error
	)
	for i := range 64 {
		wg.Go(func() {
			d, err := e.exec.CreateDeployment(e.ctx, deploy.DeploymentInput{ApplicationName: "shop", GroupName: "prod",
				Revision: rev(fmt.Sprintf("v%d", i))})
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, err)
				return
			}
			created = append(created, d.ID)
		})
	}
	wg.Wait()
	if len(created) != 1 || len(errs) != 63 {
		t.Fatalf("%d created, %d refused; want 1 and 63", len(created), len(errs))
	}
	for _, err := range errs {
		var active *deploy.ActiveDeploymentError
		if !errors.As(err, &active) || active.DeploymentID != created[0] || !errors.Is(err, deploy.ErrActiveDeployment) {
			t.Errorf("refused with %v; want ErrActiveDeployment naming %s", err, created[0])
		}
	}
	ds, err := e.store.ListDeployments(e.ctx, "shop", "prod")
	if err != nil || len(ds) != 1 {
		t.Errorf("the store holds %d deployments (%v); a refused create must leave nothing", len(ds), err)
	}
}

// CreateDeployment checks its input, the group, the configuration and the
// platform's roles before it writes anything.
func TestCreateDeploymentErrors(t *testing.T) {
	e := newEnv(t, 3, "", nil)
	lb := newEnv(t, 3, "", func(g *deploy.Group) {
		g.DeploymentStyle = deploy.DeploymentStyle{DeploymentOption: deploy.WithTrafficControl}
		g.LoadBalancerInfo = target.LoadBalancerInfo{TargetGroupInfoList: []target.NameInfo{{Name: "web"}}}
	})
	alarms := newEnv(t, 3, "", func(g *deploy.Group) {
		g.AlarmConfiguration = deploy.AlarmConfiguration{Enabled: true, Alarms: []deploy.Alarm{{Name: "5xx"}}}
	})
	onlyInstaller, err := deploy.New(lb.store, target.Platform{Lister: lb.fleet, Installer: lb.fleet})
	if err != nil {
		t.Fatal(err)
	}
	bad := deploy.DeploymentInput{ApplicationName: "shop", GroupName: "prod", Revision: revision.Location{Type: revision.LocationS3},
		FileExistsBehavior: "KEEP", Creator: "robot"}
	tests := []struct {
		name string
		x    *deploy.Executor
		in   deploy.DeploymentInput
		want error
		msg  string
	}{
		{"invalid input", e.exec, bad, deploy.ErrInvalidInput, "fileExistsBehavior"},
		{"invalid revision", e.exec, bad, revision.ErrInvalidLocation, "revision.s3Location"},
		{"unknown group", e.exec, deploy.DeploymentInput{ApplicationName: "shop", GroupName: "nope", Revision: rev("v1")}, deploy.ErrNotFound, "nope"},
		{"unknown configuration", e.exec, deploy.DeploymentInput{ApplicationName: "shop", GroupName: "prod", Revision: rev("v1"), ConfigName: "Fast"}, config.ErrUnknownConfig, "Fast"},
		{"a load balancer needs a TrafficController", onlyInstaller, deploy.DeploymentInput{ApplicationName: "shop", GroupName: "prod", Revision: rev("v1")}, target.ErrMissingRole, "TrafficController"},
		{"alarms need an AlarmSource", alarms.exec, deploy.DeploymentInput{ApplicationName: "shop", GroupName: "prod", Revision: rev("v1")}, deploy.ErrInvalidInput, "AlarmSource"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tc.x.CreateDeployment(context.Background(), tc.in)
			if !errors.Is(err, tc.want) || !contains(err, tc.msg) {
				t.Errorf("err = %v; want %v mentioning %q", err, tc.want, tc.msg)
			}
		})
	}
	if ds, _ := e.store.ListDeployments(e.ctx, "shop", "prod"); len(ds) != 0 {
		t.Errorf("failed creates stored %d deployments", len(ds))
	}
	if _, err := deploy.New(nil, target.Platform{}, func(o *deploy.Options) { o.Concurrency = -1 }); !errors.Is(err, deploy.ErrInvalidInput) ||
		!contains(err, "store") || !contains(err, "platform") || !contains(err, "Concurrency") {
		t.Errorf("New with bad arguments: %v", err)
	}
}

func contains(err error, s string) bool {
	return err != nil && (s == "" || stringsContains(err.Error(), s))
}

// User Guide, "CodeDeploy instance health": each target's health when the
// deployment is created comes from the group's instance records; a target
// never deployed to is Unhealthy with revision Unknown.
func TestCreateDeploymentInitialHealth(t *testing.T) {
	e := newEnv(t, 4, "", nil)
	e.seed(map[string]string{"i-001": "Healthy/Old", "i-002": "Unhealthy"})
	e.fleet.Add(target.Target{ID: "i-new", Tags: map[string]string{"env": "prod"}})
	d := e.create("v1")
	want := map[string]health.Target{
		"i-000": {ID: "i-000", Instance: health.Healthy, Revision: health.Current},
		"i-001": {ID: "i-001", Instance: health.Healthy, Revision: health.Old},
		"i-002": {ID: "i-002", Instance: health.Unhealthy, Revision: health.Current},
		"i-003": {ID: "i-003", Instance: health.Healthy, Revision: health.Current},
		"i-new": {ID: "i-new", Instance: health.Unhealthy, Revision: health.Unknown},
	}
	got := e.targets(d.ID)
	if len(got) != len(want) {
		t.Fatalf("%d targets; want %d", len(got), len(want))
	}
	for id, w := range want {
		tg := got[id]
		if h := tg.Health(); h != w || tg.Status != target.TargetPending {
			t.Errorf("%s: %+v %s; want %+v Pending", id, h, tg.Status, w)
		}
	}
	if d.Status != deploy.StatusCreated || d.PreviousRevision == nil || d.PreviousRevision.Key() != rev("v0").Key() ||
		d.Overview.Pending != 5 || d.Creator != target.CreatorUser {
		t.Errorf("deployment %+v", d)
	}
}

// User Guide, "CodeDeploy instance health": targets start in health order —
// Unhealthy, then revision Unknown, Old, Current — by ID within a class
// (fleetdeploy's decision).
func TestHealthOrder(t *testing.T) {
	e := newEnv(t, 8, "CodeDeployDefault.OneAtATime", nil)
	e.seed(map[string]string{"i-005": "Unhealthy", "i-002": "Unhealthy", "i-007": "Healthy/Unknown",
		"i-000": "Healthy/Old", "i-006": "Healthy/Old"})
	d := e.deploy("v1")
	var order []string
	for _, c := range e.fleet.Calls() {
		if c.Event == target.ApplicationStop {
			order = append(order, c.Target)
		}
	}
	want := []string{"i-002", "i-005", "i-007", "i-000", "i-006", "i-001", "i-003", "i-004"}
	if fmt.Sprint(order) != fmt.Sprint(want) || d.Status != deploy.StatusSucceeded {
		t.Errorf("order %v (%s); want %v", order, d.Status, want)
	}
}

// API Reference, CreateDeployment: with ignoreApplicationStopFailures a
// failed ApplicationStop does not fail the target; without it, it does.
func TestIgnoreApplicationStopFailures(t *testing.T) {
	for _, ignore := range []bool{false, true} {
		t.Run(fmt.Sprint(ignore), func(t *testing.T) {
			e := newEnv(t, 2, "CodeDeployDefault.AllAtOnce", nil)
			e.fleet.Script("i-000", target.ApplicationStop, targettest.Fail(target.CodeScriptFailed, "stop.sh exited 1"))
			d := e.deploy("v1", func(in *deploy.DeploymentInput) { in.IgnoreApplicationStopFailures = &ignore })
			tg := e.targets(d.ID)["i-000"]
			stop := tg.Event(target.ApplicationStop)
			if stop == nil || stop.Status != target.EventFailed || stop.Diagnostics == nil || stop.Diagnostics.ErrorCode != target.CodeScriptFailed ||
				stop.Diagnostics.Message != "stop.sh exited 1" {
				t.Fatalf("ApplicationStop recorded as %+v", stop)
			}
			want, next := target.TargetFailed, target.EventSkipped
			if ignore {
				want, next = target.TargetSucceeded, target.EventSucceeded
			}
			if tg.Status != want || tg.Event(target.DownloadBundle).Status != next {
				t.Errorf("target %s, DownloadBundle %s; want %s, %s", tg.Status, tg.Event(target.DownloadBundle).Status, want, next)
			}
		})
	}
}

// User Guide, "AppSpec 'hooks' section": with a load balancer and traffic
// control, each target leaves the load balancer first and joins it again
// after ValidateService (fleetdeploy's decision); BlockTraffic and
// AllowTraffic go to the TrafficController.
func TestLoadBalancerEvents(t *testing.T) {
	e := newEnv(t, 2, "CodeDeployDefault.OneAtATime", func(g *deploy.Group) {
		g.DeploymentStyle = deploy.DeploymentStyle{DeploymentOption: deploy.WithTrafficControl}
		g.LoadBalancerInfo = target.LoadBalancerInfo{TargetGroupInfoList: []target.NameInfo{{Name: "web"}}}
	})
	d := e.deploy("v1")
	want := "[BeforeBlockTraffic BlockTraffic AfterBlockTraffic ApplicationStop DownloadBundle BeforeInstall Install AfterInstall ApplicationStart ValidateService BeforeAllowTraffic AllowTraffic AfterAllowTraffic]"
	if got := fmt.Sprint(e.fleet.Events("i-000")); got != want || d.Status != deploy.StatusSucceeded {
		t.Errorf("events %s (%s); want %s", got, d.Status, want)
	}
	if !e.fleet.InService("i-000") || !e.fleet.InService("i-001") {
		t.Error("targets left out of service after a successful deployment")
	}
	if v := e.fleet.Violations(); len(v) > 0 {
		t.Errorf("violations: %v", v)
	}
	// A load balancer that fails to take a target back fails the target.
	e.fleet.Script("i-001", target.AllowTraffic, targettest.Fail(target.CodeUnknownError, "target group unhealthy"))
	d = e.deploy("v2")
	if tg := e.targets(d.ID)["i-001"]; tg.Status != target.TargetFailed || tg.Event(target.AllowTraffic).Status != target.EventFailed {
		t.Errorf("i-001: %s, AllowTraffic %+v", tg.Status, tg.Event(target.AllowTraffic))
	}
}

// User Guide, "Stop a deployment with CodeDeploy": after Stop no lifecycle
// event starts; the running one finishes (Stop says Pending meanwhile); the
// deployment ends Stopped with MANUAL_STOP and the failure rules of
// "CodeDeploy instance health": attempted targets by their outcome, the
// others keep their health, the group's revision unchanged.
func TestStopLetsRunningEventsFinish(t *testing.T) {
	e := newEnv(t, 3, "CodeDeployDefault.OneAtATime", nil)
	e.seed(nil)
	gate := targettest.NewGate()
	started := make(chan struct{}, 1)
	e.fleet.OnCall(func(ctx context.Context, c targettest.Call) error {
		if c.Target == "i-001" && c.Event == target.BeforeInstall {
			started <- struct{}{}
			return gate.Wait(ctx)
		}
		return nil
	})
	d := e.create("v1")
	done := make(chan result, 1)
	go func() { got, err := e.exec.Run(e.ctx, d.ID); done <- result{got, err} }()
	<-started
	st, err := e.exec.Stop(e.ctx, d.ID, deploy.StopOptions{})
	if err != nil || st != deploy.StopPending {
		t.Fatalf("Stop = %s, %v; want Pending", st, err)
	}
	gate.Open() // the running event finishes; Stop took effect when it returned

	res := <-done
	if res.err != nil {
		t.Fatal(res.err)
	}
	got := res.d
	if got.Status != deploy.StatusStopped || got.ErrorInformation.Code != plan.ManualStop {
		t.Fatalf("status %s %s; want Stopped MANUAL_STOP", got.Status, got.ErrorInformation.Code)
	}
	tgs := e.targets(d.ID)
	if tg := tgs["i-001"]; tg.Status != target.TargetFailed || tg.Event(target.BeforeInstall).Status != target.EventSucceeded ||
		tg.Event(target.Install).Status != target.EventSkipped {
		t.Errorf("i-001: %s, BeforeInstall %s, Install %s; the running event finishes, no new one starts",
			tg.Status, tg.Event(target.BeforeInstall).Status, tg.Event(target.Install).Status)
	}
	for _, c := range e.fleet.Calls() {
		if c.Target == "i-001" && c.Event == target.Install || c.Target == "i-002" {
			t.Errorf("%s ran %s after the stop", c.Target, c.Event)
		}
	}
	if tgs["i-000"].Status != target.TargetSucceeded || tgs["i-002"].Status != target.TargetSkipped {
		t.Errorf("i-000 %s, i-002 %s; want Succeeded, Skipped", tgs["i-000"].Status, tgs["i-002"].Status)
	}
	checkHealthAfter(t, e, got, "v0", "v1")
	if st, err := e.exec.Stop(e.ctx, d.ID, deploy.StopOptions{}); st != deploy.StopSucceeded || err != nil {
		t.Errorf("Stop after the stop = %s, %v; want Succeeded", st, err)
	}
	if got := e.rec.Triggers(d.ID); len(got) > 0 {
		t.Errorf("notifications without triggers: %v", got)
	}
}

// With AbortRunningEvents (fleetdeploy's decision) the running event is
// cancelled and recorded Failed.
func TestStopAbortsRunningEvents(t *testing.T) {
	e := newEnv(t, 3, "CodeDeployDefault.AllAtOnce", nil)
	gate := targettest.NewGate()
	started := make(chan struct{}, 3)
	e.fleet.OnCall(func(ctx context.Context, c targettest.Call) error {
		if c.Event == target.AfterInstall {
			started <- struct{}{}
			return gate.Wait(ctx)
		}
		return nil
	})
	d := e.create("v1")
	done := make(chan result, 1)
	go func() { got, err := e.exec.Run(e.ctx, d.ID); done <- result{got, err} }()
	for range 3 {
		<-started
	}
	if st, err := e.exec.Stop(e.ctx, d.ID, deploy.StopOptions{AbortRunningEvents: true}); err != nil || st != deploy.StopPending {
		t.Fatalf("Stop = %s, %v", st, err)
	}
	res := <-done
	if res.err != nil || res.d.Status != deploy.StatusStopped {
		t.Fatalf("Run = %v, %v; want Stopped", res.d.Status, res.err)
	}
	for id, tg := range e.targets(d.ID) {
		ev := tg.Event(target.AfterInstall)
		if tg.Status != target.TargetFailed || ev.Status != target.EventFailed || ev.Diagnostics == nil ||
			!stringsContains(ev.Diagnostics.Message, "AbortRunningEvents") || tg.Event(target.ApplicationStart).Status != target.EventSkipped {
			t.Errorf("%s: %s, AfterInstall %+v", id, tg.Status, ev)
		}
	}
	gate.Open()
}

// A deployment stopped before it ran ends Stopped at once; the group is
// free again.
func TestStopCreated(t *testing.T) {
	e := newEnv(t, 2, "", nil)
	d := e.create("v1")
	st, err := e.exec.Stop(e.ctx, d.ID, deploy.StopOptions{})
	if err != nil || st != deploy.StopSucceeded {
		t.Fatalf("Stop = %s, %v; want Succeeded", st, err)
	}
	if got := e.get(d.ID); got.Status != deploy.StatusStopped || len(e.fleet.Calls()) != 0 {
		t.Errorf("status %s after %d calls", got.Status, len(e.fleet.Calls()))
	}
	e.deploy("v2")
	if _, err := e.exec.Stop(e.ctx, d.ID, deploy.StopOptions{}); err != nil {
		t.Errorf("Stop of the stopped deployment: %v", err)
	}
	ds, _ := e.store.ListDeployments(e.ctx, "shop", "prod", deploy.StatusSucceeded)
	if _, err := e.exec.Stop(e.ctx, ds[0].ID, deploy.StopOptions{}); !errors.Is(err, deploy.ErrDeploymentCompleted) {
		t.Errorf("Stop of a succeeded deployment: %v; want ErrDeploymentCompleted", err)
	}
	if _, err := e.exec.Run(e.ctx, ds[0].ID); !errors.Is(err, deploy.ErrAlreadyStarted) {
		t.Errorf("Run of a finished deployment: %v; want ErrAlreadyStarted", err)
	}
}

// A stop requested through another executor sharing the store reaches the
// running one at its next poll.
func TestStopFromAnotherExecutor(t *testing.T) {
	e := newEnv(t, 2, "CodeDeployDefault.OneAtATime", nil, func(o *deploy.Options) { o.PollInterval = 30e9 })
	gate := targettest.NewGate()
	started := make(chan struct{}, 1)
	e.fleet.OnCall(func(ctx context.Context, c targettest.Call) error {
		if c.Target == "i-000" && c.Event == target.Install {
			started <- struct{}{}
			return gate.Wait(ctx)
		}
		return nil
	})
	d := e.create("v1")
	done := make(chan result, 1)
	go func() { got, err := e.exec.Run(e.ctx, d.ID); done <- result{got, err} }()
	<-started
	other := e.newExecutor(e.store)
	if st, err := other.Stop(e.ctx, d.ID, deploy.StopOptions{}); err != nil || st != deploy.StopPending {
		t.Fatalf("Stop = %s, %v", st, err)
	}
	// Two timers: the runner's poll, and the watchdog of the event time
	// limits (the Install call on i-000 is bounded).
	if err := e.clk.BlockUntil(e.ctx, 2); err != nil {
		t.Fatal(err)
	}
	e.clk.Advance(30e9)                                // the runner's poll reads the request...
	if err := e.clk.BlockUntil(e.ctx, 2); err != nil { // ...and it waits again
		t.Fatal(err)
	}
	gate.Open()
	res := <-done
	if res.err != nil || res.d.Status != deploy.StatusStopped {
		t.Fatalf("Run = %v, %v; want Stopped", res.d.Status, res.err)
	}
	for _, c := range e.fleet.Calls() {
		if c.Target == "i-001" {
			t.Errorf("i-001 ran %s after the stop", c.Event)
		}
	}
}

// Options.Concurrency caps the lifecycle work running at once, below the
// minimum healthy hosts window: with every call held, exactly 3 run, and
// no more ever do once they are let go.
func TestConcurrencyCap(t *testing.T) {
	// advanceWhile with one waiter moves the fake clock whenever any timer
	// is pending — the runner's poll always is — without waiting for the
	// workers, so the default time limits (an hour per event, twelve per
	// deployment) could cut the run short. They are off.
	e := newEnv(t, 20, "CodeDeployDefault.AllAtOnce", nil, deploy.NoTimeLimits, func(o *deploy.Options) { o.Concurrency = 3 })
	gate := targettest.NewGate()
	e.fleet.OnCall(func(ctx context.Context, _ targettest.Call) error { return gate.Wait(ctx) })
	d := e.create("v1")
	done := make(chan result, 1)
	go func() { got, err := e.exec.Run(e.ctx, d.ID); done <- result{got, err} }()
	wctx, cancel := context.WithTimeout(e.ctx, 10*time.Second)
	defer cancel()
	if err := e.fleet.WaitRunning(wctx, 3); err != nil {
		t.Fatalf("3 calls never ran at once under a cap of 3: %v", err)
	}
	gate.Open()
	res := advanceWhile(e.ctx, e.clk, 1, func() result { return <-done })
	if res.err != nil || res.d.Status != deploy.StatusSucceeded {
		t.Fatalf("Run = %v, %v", res.d, res.err)
	}
	if got := e.fleet.MaxConcurrent(); got != 3 {
		t.Errorf("%d calls at once; the cap is 3", got)
	}
}

// Options.RecordInterval: an event transition is written when it happens
// unless the target's record was written less than the interval ago; a
// target's start and end are always written.
func TestRecordInterval(t *testing.T) {
	for _, tc := range []struct {
		name   string
		delay  time.Duration
		writes int // target writes per target
	}{
		{"instant events: start and end", 0, 2},
		{"events of two seconds: every event", 2 * time.Second, 8},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, 1, "", nil, func(o *deploy.Options) { o.PollInterval = 1000 * time.Hour })
			e.fleet.OnCall(targettest.Delay(func(d time.Duration) <-chan time.Time { return e.clk.NewTimer(d).C() },
				func(targettest.Call) time.Duration { return tc.delay }))
			d := e.create("v1")
			var updates int
			counter := deploytest.NewFaultStore(e.mem, deploytest.FaultOptions{Fail: func(w deploytest.Write) bool {
				if w.Op == deploytest.OpUpdateTarget {
					updates++
				}
				return false
			}})
			e.exec = e.newExecutor(counter)
			// Time moves when three timers are pending: the executor's
			// poll, the watchdog of the event time limits, and an event's
			// delay. Instant events need no time at all.
			run := func() result { got, err := e.exec.Run(e.ctx, d.ID); return result{got, err} }
			res := run
			if tc.delay > 0 {
				res = func() result { return advanceWhile(e.ctx, e.clk, 3, run) }
			}
			got := res()
			if got.err != nil || got.d.Status != deploy.StatusSucceeded {
				t.Fatalf("Run = %v, %v", got.d, got.err)
			}
			if updates != tc.writes {
				t.Errorf("%d target writes; want %d", updates, tc.writes)
			}
			tg := e.targets(d.ID)["i-000"]
			for _, ev := range tg.LifecycleEvents {
				if ev.Status != target.EventSucceeded || ev.EndTime.Sub(ev.StartTime) != tc.delay {
					t.Errorf("%s: %s from %s to %s", ev.Name, ev.Status, ev.StartTime, ev.EndTime)
				}
			}
		})
	}
}

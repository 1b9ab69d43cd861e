package deploy_test

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fleetdeploy/fleetdeploy/config"
	"github.com/fleetdeploy/fleetdeploy/deploy"
	"github.com/fleetdeploy/fleetdeploy/deploy/clock"
	"github.com/fleetdeploy/fleetdeploy/deploy/plan"
	"github.com/fleetdeploy/fleetdeploy/target"
	"github.com/fleetdeploy/fleetdeploy/target/targettest"
)

// stuckInstaller never returns from event stuck (it ignores its context
// until the test ends); every other event goes to the fleet.
type stuckInstaller struct {
	fleet   *targettest.Fleet
	stuck   target.LifecycleEvent
	release chan struct{}
	entered chan struct{}
}

func (s *stuckInstaller) RunEvent(ctx context.Context, req target.EventRequest) (target.EventResult, error) {
	if req.Event == s.stuck {
		close(s.entered)
		<-s.release
		return target.EventResult{Status: target.EventSucceeded}, nil
	}
	return s.fleet.RunEvent(ctx, req)
}

// stuckTraffic never returns from AllowTraffic.
type stuckTraffic struct {
	fleet   *targettest.Fleet
	release chan struct{}
	entered chan struct{}
}

func (s *stuckTraffic) BlockTraffic(ctx context.Context, req target.TrafficRequest) error {
	return s.fleet.BlockTraffic(ctx, req)
}

func (s *stuckTraffic) AllowTraffic(ctx context.Context, req target.TrafficRequest) error {
	close(s.entered)
	<-s.release
	return nil
}

// runAfter runs deployment id and, once the stuck call was entered, jumps
// the fake clock from deadline to deadline until the run ends (at most 3
// hours of virtual time).
func runAfter(t *testing.T, e *env, id string, entered <-chan struct{}) result {
	t.Helper()
	done := make(chan result, 1)
	go func() { d, err := e.exec.Run(e.ctx, id); done <- result{d, err} }()
	select {
	case <-entered:
	case res := <-done:
		return res
	}
	start := e.clk.Now()
	for {
		select {
		case res := <-done:
			return res
		default:
		}
		ctx, cancel := context.WithTimeout(e.ctx, 50*time.Millisecond)
		_ = e.clk.BlockUntil(ctx, 2)
		cancel()
		if e.clk.Now().Sub(start) > 3*time.Hour {
			t.Fatal("the run did not end within 3h of virtual time")
		}
		e.clk.AdvanceToNext()
	}
}

// An Installer that never returns fails its target at Options.EventTimeout
// on the executor's clock, with the agent's ScriptTimedOut: CodeDeploy's
// hour when the options say nothing.
func TestEventTimeoutInstallerNeverReturns(t *testing.T) {
	for _, tc := range []struct {
		name  string
		opt   func(*deploy.Options)
		limit time.Duration
	}{
		{"default", func(*deploy.Options) {}, time.Hour},
		{"set", func(o *deploy.Options) { o.EventTimeout = 10 * time.Minute }, 10 * time.Minute},
	} {
		t.Run(tc.name, func(t *testing.T) { testEventTimeout(t, tc.opt, tc.limit) })
	}
}

func testEventTimeout(t *testing.T, opt func(*deploy.Options), limit time.Duration) {
	release, entered := make(chan struct{}), make(chan struct{})
	t.Cleanup(func() { close(release) })
	e := newEnv(t, 1, "CodeDeployDefault.AllAtOnce", nil, opt)
	e.platform = e.fleet.Platform()
	e.platform.Installer = &stuckInstaller{fleet: e.fleet, stuck: target.AfterInstall, release: release, entered: entered}
	e.exec = e.newExecutor(e.mem)
	d := e.create("v1")
	res := runAfter(t, e, d.ID, entered)
	if res.err != nil || res.d.Status != deploy.StatusFailed {
		t.Fatalf("Run = %v, %v; want Failed", res.d.Status, res.err)
	}
	tg := e.targets(d.ID)["i-000"]
	for _, ev := range tg.LifecycleEvents {
		if ev.Name != target.AfterInstall {
			continue
		}
		if ev.Status != target.EventFailed || ev.Diagnostics == nil || ev.Diagnostics.ErrorCode != target.CodeScriptTimedOut {
			t.Fatalf("AfterInstall = %+v; want Failed with ScriptTimedOut; all: %+v", ev, tg.LifecycleEvents)
		}
		if got := ev.EndTime.Sub(ev.StartTime); got != limit {
			t.Errorf("AfterInstall took %s; want the limit, %s", got, limit)
		}
		return
	}
	t.Fatalf("no AfterInstall event in %+v", tg.LifecycleEvents)
}

// An ApplicationStop that never returns fails at its limit, and with
// ignoreApplicationStopFailures the target goes on with its other events
// and succeeds: the run goes on without the stuck call.
func TestEventTimeoutIgnoredApplicationStop(t *testing.T) {
	release, entered := make(chan struct{}), make(chan struct{})
	t.Cleanup(func() { close(release) })
	e := newEnv(t, 1, "CodeDeployDefault.AllAtOnce", nil, func(o *deploy.Options) { o.EventTimeout = 10 * time.Minute })
	e.platform = e.fleet.Platform()
	e.platform.Installer = &stuckInstaller{fleet: e.fleet, stuck: target.ApplicationStop, release: release, entered: entered}
	e.exec = e.newExecutor(e.mem)
	d := e.create("v1", func(in *deploy.DeploymentInput) { ignore := true; in.IgnoreApplicationStopFailures = &ignore })
	// The clock moves once, to ApplicationStop's limit, and never while
	// the later events run (runAfter's jumps could reach their limits
	// while their calls are in flight).
	done := make(chan result, 1)
	go func() { got, err := e.exec.Run(e.ctx, d.ID); done <- result{got, err} }()
	<-entered
	wctx, cancel := context.WithTimeout(e.ctx, 10*time.Second)
	defer cancel()
	if err := e.clk.BlockUntil(wctx, 2); err != nil { // the runner's poll and the limit's watchdog
		t.Fatal(err)
	}
	e.clk.Advance(10 * time.Minute)
	var res result
	select {
	case res = <-done:
	case <-wctx.Done():
		t.Fatal("the run did not end after ApplicationStop reached its limit")
	}
	if res.err != nil || res.d.Status != deploy.StatusSucceeded {
		t.Fatalf("Run = %v, %v; want Succeeded", res.d.Status, res.err)
	}
	tg := e.targets(d.ID)["i-000"]
	for _, ev := range tg.LifecycleEvents {
		switch {
		case ev.Name == target.ApplicationStop:
			if ev.Status != target.EventFailed || ev.Diagnostics == nil || ev.Diagnostics.ErrorCode != target.CodeScriptTimedOut ||
				ev.EndTime.Sub(ev.StartTime) != 10*time.Minute {
				t.Errorf("ApplicationStop = %+v; want Failed with ScriptTimedOut after 10m", ev)
			}
		case ev.Status != target.EventSucceeded:
			t.Errorf("%s = %s; want Succeeded after the ignored ApplicationStop failure", ev.Name, ev.Status)
		}
	}
	if n := e.calls("i-000", target.Install); n != 1 {
		t.Errorf("%d Install calls; want 1", n)
	}
}

// A TrafficController whose AllowTraffic never returns fails the event at
// Options.TrafficTimeout: an hour when the options say nothing.
func TestTrafficTimeoutControllerNeverReturns(t *testing.T) {
	for _, tc := range []struct {
		name  string
		opt   func(*deploy.Options)
		limit time.Duration
	}{
		{"default", func(*deploy.Options) {}, time.Hour},
		{"set", func(o *deploy.Options) { o.TrafficTimeout = 5 * time.Minute }, 5 * time.Minute},
	} {
		t.Run(tc.name, func(t *testing.T) { testTrafficTimeout(t, tc.opt, tc.limit) })
	}
}

func testTrafficTimeout(t *testing.T, opt func(*deploy.Options), limit time.Duration) {
	release, entered := make(chan struct{}), make(chan struct{})
	t.Cleanup(func() { close(release) })
	e := newEnv(t, 1, "CodeDeployDefault.AllAtOnce", func(g *deploy.Group) {
		g.DeploymentStyle = deploy.DeploymentStyle{DeploymentType: target.InPlace, DeploymentOption: deploy.WithTrafficControl}
		g.LoadBalancerInfo = target.LoadBalancerInfo{TargetGroupInfoList: []target.NameInfo{{Name: "web"}}}
	}, opt)
	e.platform = e.fleet.Platform()
	e.platform.TrafficController = &stuckTraffic{fleet: e.fleet, release: release, entered: entered}
	e.exec = e.newExecutor(e.mem)
	d := e.create("v1")
	res := runAfter(t, e, d.ID, entered)
	if res.err != nil || res.d.Status != deploy.StatusFailed {
		t.Fatalf("Run = %v, %v; want Failed", res.d.Status, res.err)
	}
	for _, ev := range e.targets(d.ID)["i-000"].LifecycleEvents {
		if ev.Name == target.AllowTraffic {
			if ev.Status != target.EventFailed || ev.Diagnostics == nil || !strings.Contains(ev.Diagnostics.Message, "TrafficTimeout") {
				t.Fatalf("AllowTraffic = %+v; want Failed naming TrafficTimeout", ev)
			}
			if got := ev.EndTime.Sub(ev.StartTime); got != limit {
				t.Errorf("AllowTraffic took %s; want %s", got, limit)
			}
			return
		}
	}
	t.Fatal("no AllowTraffic event")
}

// sleepingInstaller makes every event of deployment slow take d on the fake
// clock (returning early, failed, when its context is cancelled); the
// events of other deployments are the fleet's. It returns the sleeps, which
// runSettled moves the clock for.
func sleepingInstaller(e *env, slow *string, d time.Duration) *sleeps {
	s := &sleeps{woke: make(chan struct{}, 1)}
	e.fleet.OnCall(func(ctx context.Context, c targettest.Call) error {
		if c.DeploymentID != *slow {
			return nil
		}
		defer s.begin(ctx)()
		return clock.Sleep(ctx, e.clk, d)
	})
	return s
}

// sleeps are the events of a sleepingInstaller under way, by their
// contexts.
type sleeps struct {
	mu   sync.Mutex
	ctxs []context.Context
	woke chan struct{} // signalled when an event starts
}

// begin records that an event with ctx started sleeping, and returns the
// function that records its end.
func (s *sleeps) begin(ctx context.Context) (end func()) {
	s.mu.Lock()
	s.ctxs = append(s.ctxs, ctx)
	s.mu.Unlock()
	select {
	case s.woke <- struct{}{}:
	default:
	}
	return func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		if i := slices.Index(s.ctxs, ctx); i >= 0 {
			s.ctxs = slices.Delete(s.ctxs, i, i+1)
		}
	}
}

// live reports whether an event sleeps whose context is not done: one that
// time must pass for, rather than one cut off and on its way back.
func (s *sleeps) live() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.ContainsFunc(s.ctxs, func(ctx context.Context) bool { return ctx.Err() == nil })
}

// runSettled runs deployment id (Run, or Resume when resume is set) and
// moves the fake clock to its next deadline whenever the run waits on
// three timers — the run's own wait, the watchdog of the event time
// limits, and the event's sleep — while one of sleeping's events is under
// way with its context live. An event cut off (at the maximum run time)
// takes no virtual time to return, however long the goroutines take to
// see it; the rollback that follows runs instant events, which need none.
// It fails the test after limit of virtual time.
func runSettled(t *testing.T, e *env, x *deploy.Executor, id string, resume bool, limit time.Duration, sleeping *sleeps) result {
	t.Helper()
	start := e.clk.Now()
	gate := clockGate{wake: sleeping.woke, open: func() bool {
		if !sleeping.live() {
			return false
		}
		if e.clk.Now().Sub(start) > limit {
			t.Fatalf("the run did not end within %s of virtual time", limit)
		}
		return true
	}}
	return advanceGated(e.ctx, e.clk, 3, gate, func() result {
		run := x.Run
		if resume {
			run = x.Resume
		}
		d, err := run(e.ctx, id)
		return result{d, err}
	})
}

// An in-place deployment still running at its maximum run time ends Failed
// with TIMEOUT — at the limit, counted from its start — and rolls back when
// its group rolls back on DEPLOYMENT_FAILURE; the event running then is cut
// off.
func TestMaxRunTimeInPlaceEndsTimeoutAndRollsBack(t *testing.T) {
	e := newEnv(t, 3, "CodeDeployDefault.OneAtATime", autoRollback(deploy.AutoRollbackDeploymentFailure),
		func(o *deploy.Options) { o.MaxRunTime.InPlace = 2 * time.Hour })
	if first := e.deploy("v1"); first.Status != deploy.StatusSucceeded {
		t.Fatalf("v1: %s", first.Status)
	}
	// Every v2 event takes 25 minutes (within its hour): 3 targets one at a
	// time need almost 9 hours; at 2 hours, i-000 runs its fifth. The
	// rollback's events are instant.
	var v2 string
	sleeping := sleepingInstaller(e, &v2, 25*time.Minute)
	d := e.create("v2")
	v2 = d.ID
	res := runSettled(t, e, e.exec, d.ID, false, 10*time.Hour, sleeping)
	if res.err != nil {
		t.Fatal(res.err)
	}
	checkTimedOut(t, e, e.get(d.ID), 2*time.Hour)
	var cut bool
	for _, ev := range e.targets(d.ID)["i-000"].LifecycleEvents {
		if ev.Status == target.EventFailed && ev.Diagnostics != nil && strings.Contains(ev.Diagnostics.Message, "maximum run time") {
			cut = true
		}
	}
	if !cut {
		t.Errorf("no event of i-000 cut off by the maximum run time: %+v", e.targets(d.ID)["i-000"].LifecycleEvents)
	}
}

// checkTimedOut checks that deployment d ended Failed with TIMEOUT exactly
// limit after its start, and that its rollback succeeded.
func checkTimedOut(t *testing.T, e *env, d *deploy.Deployment, limit time.Duration) {
	t.Helper()
	if d.Status != deploy.StatusFailed || d.ErrorInformation.Code != plan.Timeout {
		t.Fatalf("%s: %s %+v; want Failed TIMEOUT", d.ID, d.Status, d.ErrorInformation)
	}
	if took := d.CompleteTime.Sub(d.StartTime); took != limit {
		t.Errorf("%s ran %s; want its limit, %s", d.ID, took, limit)
	}
	rb := d.RollbackInfo.RollbackDeploymentID
	if rb == "" {
		t.Fatalf("%s: no rollback: %+v", d.ID, d.RollbackInfo)
	}
	if got := e.get(rb); got.Status != deploy.StatusSucceeded {
		t.Errorf("rollback %s: %s %+v; want Succeeded", rb, got.Status, got.ErrorInformation)
	}
}

// The maximum run time counts from the deployment's stored start: an
// executor that takes a deployment over after a crash ends it at its start
// plus the limit, not at its own start plus the limit.
func TestMaxRunTimeSurvivesTakeover(t *testing.T) {
	e := newEnv(t, 3, "CodeDeployDefault.OneAtATime", autoRollback(deploy.AutoRollbackDeploymentFailure),
		func(o *deploy.Options) { o.MaxRunTime.InPlace = 2 * time.Hour })
	if first := e.deploy("v1"); first.Status != deploy.StatusSucceeded {
		t.Fatalf("v1: %s", first.Status)
	}
	var v2 string
	sleeping := sleepingInstaller(e, &v2, 20*time.Minute)
	d := e.create("v2")
	v2 = d.ID
	// The first executor runs it for an hour and a half, then its process
	// dies (its context is cancelled; the lease stays until it expires).
	ctx, crash := context.WithCancel(e.ctx)
	done := make(chan error, 1)
	go func() { _, err := e.exec.Run(ctx, d.ID); done <- err }()
	start := e.clk.Now()
	for e.clk.Now().Sub(start) < 90*time.Minute {
		if err := e.clk.BlockUntil(e.ctx, 3); err != nil {
			t.Fatal(err)
		}
		e.clk.AdvanceToNext()
	}
	crash()
	if err := <-done; err == nil {
		t.Fatal("the crashed run returned no error")
	}
	if got := e.get(d.ID); got.Status != deploy.StatusInProgress {
		t.Fatalf("after the crash: %s; want InProgress", got.Status)
	}
	other := e.restarted()
	res := runSettled(t, e, other, d.ID, true, 10*time.Hour, sleeping)
	if res.err != nil {
		t.Fatal(res.err)
	}
	checkTimedOut(t, e, e.get(d.ID), 2*time.Hour)
}

// Blue/green, Lambda and ECS deployments end with TIMEOUT at their own
// maximum run time — waits count, as in CodeDeploy's figures, which are
// built from them — and roll back; with Step as with Run.
func TestMaxRunTimePerKind(t *testing.T) {
	const limit = 20 * time.Minute
	for _, step := range []bool{false, true} {
		// drive runs deployment id to its end, and its rollback: with Step,
		// moving the clock to each WaitUntil; with Run, moving it to the
		// limit once the deployment waits (waiting reports it does), and
		// not at all after (its rollback does not wait).
		drive := func(t *testing.T, e *env, id string, limit time.Duration, waiting func(deploy.Event) bool) *deploy.Deployment {
			t.Helper()
			if step {
				d := stepToEnd(t, e, id)
				if rb := d.RollbackInfo.RollbackDeploymentID; rb != "" {
					stepToEnd(t, e, rb)
				}
				return e.get(id)
			}
			start := e.clk.Now()
			done := make(chan result, 1)
			go func() { got, err := e.exec.Run(e.ctx, id); done <- result{got, err} }()
			if err := e.rec.Wait(e.ctx, func(evs []deploy.Event, _ []deploy.Notification) bool {
				return slices.ContainsFunc(evs, func(ev deploy.Event) bool { return ev.DeploymentID == id && waiting(ev) })
			}); err != nil {
				t.Fatal(err)
			}
			e.clk.Set(start.Add(limit))
			if res := <-done; res.err != nil {
				t.Fatal(res.err)
			}
			return e.get(id)
		}
		allowing := func(ev deploy.Event) bool {
			return ev.LifecycleEvent == target.AllowTraffic && ev.LifecycleEventStatus == target.EventInProgress
		}
		mode := map[bool]string{false: "run", true: "step"}[step]
		t.Run("blue-green/"+mode, func(t *testing.T) {
			// The replacements wait an hour for ContinueDeployment
			// (STOP_DEPLOYMENT): the limit comes first.
			e, _ := bgEnv(t, deploy.ActionStopDeployment, autoRollback(deploy.AutoRollbackDeploymentFailure))
			e.opts = append(e.opts, func(o *deploy.Options) { o.MaxRunTime.BlueGreen = limit })
			e.exec = e.newExecutor(e.store)
			e.seed(nil)
			ready := func(ev deploy.Event) bool {
				return ev.Kind == deploy.EventDeploymentStatus && ev.Status == deploy.StatusReady
			}
			checkTimedOut(t, e, drive(t, e, e.create("v1").ID, limit, ready), limit)
		})
		t.Run("lambda/"+mode, func(t *testing.T) {
			// A canary whose rest comes 30 minutes after its 10%.
			e, shifter, _, _ := serviceEnv(t, config.Lambda, "CodeDeployDefault.LambdaCanary10Percent30Minutes",
				autoRollback(deploy.AutoRollbackDeploymentFailure), func(o *deploy.Options) { o.MaxRunTime.Lambda = limit })
			route := target.TrafficRoute{ResourceID: "checkout:live"}
			shifter.SetRoute(route, target.TrafficSplit{Original: "1"})
			first, err := e.exec.CreateDeployment(e.ctx, deploy.DeploymentInput{ApplicationName: "shop", GroupName: "prod",
				Revision: lambdaSpecFrom("1", "2"), ConfigName: "CodeDeployDefault.LambdaAllAtOnce"})
			if err != nil {
				t.Fatal(err)
			}
			if got, err := e.exec.Run(e.ctx, first.ID); err != nil || got.Status != deploy.StatusSucceeded {
				t.Fatalf("1→2: %v, %v", got.Status, err)
			}
			d, err := e.exec.CreateDeployment(e.ctx, deploy.DeploymentInput{ApplicationName: "shop", GroupName: "prod", Revision: lambdaSpecFrom("2", "3")})
			if err != nil {
				t.Fatal(err)
			}
			checkTimedOut(t, e, drive(t, e, d.ID, limit, allowing), limit)
			if split, _ := shifter.CurrentTraffic(e.ctx, route); split != (target.TrafficSplit{Original: "2"}) {
				t.Errorf("traffic after the rollback %+v; want all on 2", split)
			}
		})
		t.Run("ecs/"+mode, func(t *testing.T) {
			e, shifter, _, _ := serviceEnv(t, config.ECS, "CodeDeployDefault.ECSCanary10Percent15Minutes",
				ecsServiceGroup(true, autoRollback(deploy.AutoRollbackDeploymentFailure)), func(o *deploy.Options) { o.MaxRunTime.ECS = 10 * time.Minute })
			setECSRoutes(shifter)
			deployFirstECS(t, e)
			d, err := e.exec.CreateDeployment(e.ctx, deploy.DeploymentInput{ApplicationName: "shop", GroupName: "prod", Revision: ecsLocation()})
			if err != nil {
				t.Fatal(err)
			}
			checkTimedOut(t, e, drive(t, e, d.ID, 10*time.Minute, allowing), 10*time.Minute)
		})
	}
}

// Zero Options get CodeDeploy's limits; NoTimeLimits turns every one off;
// a later option may set one again.
func TestTimeLimitDefaults(t *testing.T) {
	e := newEnv(t, 1, "CodeDeployDefault.AllAtOnce", nil)
	release, entered := make(chan struct{}), make(chan struct{})
	t.Cleanup(func() { close(release) })
	// Without limits, an Installer that never returns holds its target
	// for ever: after CodeDeploy's maximum run time for in-place
	// deployments, and more, it is still running.
	e.opts = append(e.opts, deploy.NoTimeLimits)
	e.platform = e.fleet.Platform()
	e.platform.Installer = &stuckInstaller{fleet: e.fleet, stuck: target.Install, release: release, entered: entered}
	e.exec = e.newExecutor(e.mem)
	d := e.create("v1")
	done := make(chan result, 1)
	go func() { got, err := e.exec.Run(e.ctx, d.ID); done <- result{got, err} }()
	<-entered
	if err := e.clk.BlockUntil(e.ctx, 1); err != nil { // the run's wait
		t.Fatal(err)
	}
	e.clk.Advance(deploy.DefaultMaxRunTimeInPlace + time.Hour)
	if err := e.clk.BlockUntil(e.ctx, 1); err != nil { // it waits again
		t.Fatal(err)
	}
	if got := e.get(d.ID); got.Status != deploy.StatusInProgress {
		t.Fatalf("without limits, after %s: %s; want InProgress", deploy.DefaultMaxRunTimeInPlace+time.Hour, got.Status)
	}
	if _, err := e.exec.Stop(e.ctx, d.ID, deploy.StopOptions{}); err != nil {
		t.Fatal(err)
	}
	close(release)
	release = make(chan struct{}) // for the cleanup
	if res := <-done; res.err != nil || res.d.Status != deploy.StatusStopped {
		t.Fatalf("Run = %v, %v; want Stopped", res.d.Status, res.err)
	}
}

// The events of a scaling deployment are bounded too: an Installer that
// never returns from a launched instance's Install fails it at
// Options.EventTimeout (CodeDeploy's hour by default), with ScriptTimedOut,
// and the launch is abandoned.
func TestScalingEventTimeout(t *testing.T) {
	e, sc := scalingEnv(t, 1, nil)
	e.deploy("v1")
	e.fleet.Add(newInstance)
	release, entered := make(chan struct{}), make(chan struct{})
	t.Cleanup(func() { close(release) })
	e.platform.Installer = &stuckInstaller{fleet: e.fleet, stuck: target.Install, release: release, entered: entered}
	e.exec = e.newExecutor(e.mem)
	ev := sc.Launch("shop", "prod", newInstance)
	done := make(chan deploy.ScalingOutcome, 1)
	go func() {
		out, err := e.exec.HandleScalingEvent(e.ctx, ev)
		if err != nil {
			t.Error(err)
		}
		done <- out
	}()
	<-entered
	// Pending: the heartbeat timer and the install's limit.
	if err := e.clk.BlockUntil(e.ctx, 2); err != nil {
		t.Fatal(err)
	}
	e.clk.Advance(deploy.DefaultEventTimeout)
	out := <-done
	if out.Result != target.ScalingAbandon || out.Deployment == nil {
		t.Fatalf("outcome %+v; want the launch abandoned", out)
	}
	for _, rec := range e.targets(out.Deployment.ID)["i-new"].LifecycleEvents {
		if rec.Name != target.Install {
			continue
		}
		if rec.Status != target.EventFailed || rec.Diagnostics == nil || rec.Diagnostics.ErrorCode != target.CodeScriptTimedOut {
			t.Fatalf("Install = %+v; want Failed with ScriptTimedOut", rec)
		}
		if got := rec.EndTime.Sub(rec.StartTime); got != deploy.DefaultEventTimeout {
			t.Errorf("Install took %s; want %s", got, deploy.DefaultEventTimeout)
		}
		return
	}
	t.Fatal("no Install event")
}

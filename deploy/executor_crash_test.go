package deploy_test

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
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

// finalState is what must not depend on whether a deployment crashed.
// Target IDs that name the deployment (a blue/green replacement's) name
// it "<deployment>", so that a deployment created again under another ID
// compares equal.
type finalState struct {
	status   deploy.DeploymentStatus
	code     deploy.ErrorCode
	targets  map[string]string // target → status and event statuses
	revision string
	health   map[string]health.Target
	overview deploy.DeploymentOverview
	// groups are the Auto Scaling groups the deployment group selects.
	groups string
}

func (e *env) finalState(id string) finalState {
	e.t.Helper()
	d := e.get(id)
	anon := func(tid string) string { return strings.ReplaceAll(tid, id, "<deployment>") }
	s := finalState{status: d.Status, code: d.ErrorInformation.Code, targets: map[string]string{},
		revision: e.groupRevision(), health: map[string]health.Target{}, overview: d.Overview}
	g, err := e.store.GetGroup(e.ctx, "shop", "prod")
	if err != nil {
		e.t.Fatal(err)
	}
	s.groups = anon(fmt.Sprint(g.Selector.AutoScalingGroups))
	for tid, h := range e.health() {
		h.ID = anon(h.ID)
		s.health[anon(tid)] = h
	}
	for tid, tg := range e.targets(id) {
		v := string(tg.Status)
		for _, ev := range tg.LifecycleEvents {
			v += fmt.Sprintf(" %s:%s", ev.Name, ev.Status)
		}
		s.targets[anon(tid)] = v
	}
	return s
}

func (s finalState) diff(o finalState) []string {
	var out []string
	if s.status != o.status || s.code != o.code {
		out = append(out, fmt.Sprintf("status %s %s vs %s %s", s.status, s.code, o.status, o.code))
	}
	if s.revision != o.revision {
		out = append(out, fmt.Sprintf("group revision %s vs %s", s.revision, o.revision))
	}
	if s.groups != o.groups {
		out = append(out, fmt.Sprintf("Auto Scaling groups %s vs %s", s.groups, o.groups))
	}
	if s.overview != o.overview {
		out = append(out, fmt.Sprintf("overview %+v vs %+v", s.overview, o.overview))
	}
	for _, id := range slices.Sorted(maps.Keys(s.targets)) {
		if s.targets[id] != o.targets[id] {
			out = append(out, fmt.Sprintf("target %s: %s vs %s", id, s.targets[id], o.targets[id]))
		}
	}
	if !maps.Equal(s.health, o.health) {
		out = append(out, fmt.Sprintf("health %v vs %v", s.health, o.health))
	}
	return out
}

// crashEnv is a 50-target group with mixed health (every class of
// "CodeDeploy instance health"), HalfAtATime, and two targets whose
// ValidateService fails.
func crashEnv(t *testing.T, recordInterval time.Duration) *env {
	e := newEnv(t, 50, "CodeDeployDefault.HalfAtATime", nil, func(o *deploy.Options) {
		o.NewID = func() string { return "d-CRASHTEST" }
		o.RecordInterval = recordInterval
	})
	states := map[string]string{}
	for i := range 50 {
		switch i % 5 {
		case 1:
			states[fmt.Sprintf("i-%03d", i)] = "Unhealthy"
		case 2:
			states[fmt.Sprintf("i-%03d", i)] = "Healthy/Old"
		}
	}
	e.seed(states)
	e.fleet.Script("i-007", target.ValidateService, targettest.Fail(target.CodeScriptFailed, "health check failed"))
	e.fleet.Script("i-031", target.AfterInstall, targettest.Fail(target.CodeScriptFailed, "bad config"))
	return e
}

// A crash after any store write, then Resume by a new executor on the same
// store, ends exactly as a run without a crash does; no lifecycle event
// whose outcome was stored before the crash is performed again; in place,
// the minimum healthy hosts bound holds across the crash; traffic never
// gets more weight than the schedule allows at the time; and every
// replacement the Provisioner made ends serving or terminated.
//
// The in-place deployment runs twice: with the default RecordInterval (on
// the fake clock, which no event moves, a target's start and end are
// written) and with every lifecycle event transition written.
func TestCrashAfterEveryWrite(t *testing.T) {
	for _, c := range []struct {
		name  string
		world func(t *testing.T) *crashWorld
	}{
		{"in-place", func(t *testing.T) *crashWorld { return inPlaceCrashWorld(t, 0) }},
		{"in-place/every-transition", func(t *testing.T) *crashWorld { return inPlaceCrashWorld(t, -1) }},
		{"blue-green", blueGreenCrashWorld},
		{"lambda-canary", lambdaCrashWorld},
		{"ecs-linear", ecsCrashWorld},
	} {
		t.Run(c.name, func(t *testing.T) { testCrashAfterEveryWrite(t, c.world) })
	}
}

// restarted returns the executor of a new process on the env's store,
// once the lease of the process that crashed has expired.
func (e *env) restarted() *deploy.Executor {
	e.t.Helper()
	var o deploy.Options
	for _, opt := range e.opts {
		opt(&o)
	}
	e.clk.Advance(cmp.Or(o.LeaseTTL, deploy.DefaultLeaseTTL))
	return e.newExecutor(e.mem)
}

// crashWorld is a fresh environment for one run of TestCrashAfterEveryWrite:
// the env (whose executors name their deployments d-CRASHTEST), the
// deployment to create, and the fakes that show what the platform did.
type crashWorld struct {
	*env
	in deploy.DeploymentInput
	// window is the most targets that may be offline at once; 0 for no
	// check.
	window int
	// Lambda and ECS: the function or service target, its production
	// route, the schedule its traffic follows, and every production shift.
	service  string
	route    target.TrafficRoute
	schedule []scheduledShift
	shifts   *shiftLog
	shifter  *targettest.Shifter
	hooks    *targettest.Hooks
	prov     *targettest.Provisioner // blue/green and ECS
}

// crashID names the deployments of a crashWorld.
func crashID(o *deploy.Options) { o.NewID = func() string { return "d-CRASHTEST" } }

// inPlaceCrashWorld is crashEnv's in-place deployment; HalfAtATime of 50
// lets 25 targets be offline at once.
func inPlaceCrashWorld(t *testing.T, recordInterval time.Duration) *crashWorld {
	return &crashWorld{env: crashEnv(t, recordInterval), window: 25,
		in: deploy.DeploymentInput{ApplicationName: "shop", GroupName: "prod", Revision: rev("v1")}}
}

// blueGreenCrashWorld is bgEnv's Server blue/green deployment, which
// copies the Auto Scaling group (COPY_AUTO_SCALING_GROUP), here with
// HalfAtATime. No wait: rerouting starts once the replacements are ready,
// and the originals are terminated (TERMINATE) at once.
func blueGreenCrashWorld(t *testing.T) *crashWorld {
	e, prov := bgEnv(t, deploy.ActionContinueDeployment, func(g *deploy.Group) {
		g.DeploymentConfigName = "CodeDeployDefault.HalfAtATime"
		g.BlueGreenDeploymentConfiguration.TerminateBlueInstancesOnDeploymentSuccess.TerminationWaitTimeInMinutes = 0
	})
	e.opts = append(e.opts, crashID)
	e.exec = e.newExecutor(e.mem)
	return &crashWorld{env: e, prov: prov, in: deploy.DeploymentInput{ApplicationName: "shop", GroupName: "prod", Revision: rev("v1")}}
}

// lambdaCrashWorld is a Lambda deployment of version 2 with a canary: 10%,
// then the rest five minutes later, with a hook before and after.
func lambdaCrashWorld(t *testing.T) *crashWorld {
	w := serviceCrashWorld(t, config.Lambda, "CodeDeployDefault.LambdaCanary10Percent5Minutes", nil)
	w.service, w.route = "checkout:live", target.TrafficRoute{ResourceID: "checkout:live"}
	w.shifter.SetRoute(w.route, target.TrafficSplit{Original: "1"})
	w.in.Revision = lambdaSpec("2")
	return w
}

// ecsCrashWorld is an ECS deployment with all five hooks, a test listener,
// 10% more traffic every minute, and TERMINATE: the original task set is
// removed at once.
func ecsCrashWorld(t *testing.T) *crashWorld {
	w := serviceCrashWorld(t, config.ECS, "CodeDeployDefault.ECSLinear10PercentEvery1Minutes", ecsServiceGroup(true))
	w.service, w.route = "prod/web", target.TrafficRoute{ResourceID: "prod/web"}
	setECSRoutes(w.shifter)
	w.in.Revision = ecsAllHooksLocation()
	return w
}

// serviceCrashWorld is serviceEnv's deployment group with configuration
// cfg, whose production shifts are logged. Each production shift takes the
// schedule's interval of virtual time, so that the next one is due when it
// returns: the executor never waits on the clock (its poll never comes),
// and every run makes the same writes.
func serviceCrashWorld(t *testing.T, platform config.ComputePlatform, cfg string, group func(*deploy.Group)) *crashWorld {
	e, shifter, hooks, prov := serviceEnv(t, platform, cfg, group, crashID, func(o *deploy.Options) {
		// Neither polls nor lease renewals come during the run (ten minutes
		// of virtual time at most): every run makes the same writes. The
		// lease is no longer than an hour, because the executor that takes
		// over after a crash waits it out, and the run's maximum (50 hours
		// for Lambda) counts from the deployment's start.
		o.PollInterval, o.LeaseTTL = 24*time.Hour, time.Hour
	})
	c, ok := config.Predefined(cfg)
	if !ok {
		t.Fatalf("no configuration %s", cfg)
	}
	w := &crashWorld{env: e, shifter: shifter, hooks: hooks, schedule: wantSchedule(c.TrafficRouting), shifts: &shiftLog{},
		in: deploy.DeploymentInput{ApplicationName: "shop", GroupName: "prod"}}
	if platform == config.ECS {
		w.prov = prov
	}
	interval := w.schedule[1].at - w.schedule[0].at
	shifter.OnShift(func(_ context.Context, req target.ShiftRequest) error {
		if !req.Route.Test {
			w.shifts.add(req.Deployment.DeploymentID, req.Split.Weight, e.clk.Now())
			e.clk.Advance(interval)
		}
		return nil
	})
	return w
}

// shiftLog records production traffic shifts with their virtual times.
type shiftLog struct {
	mu     sync.Mutex
	shifts []loggedShift
}

type loggedShift struct {
	deployment string
	weight     int
	at         time.Time
}

func (l *shiftLog) add(deployment string, weight int, at time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.shifts = append(l.shifts, loggedShift{deployment, weight, at})
}

// of returns deployment id's shifts, in order.
func (l *shiftLog) of(id string) []loggedShift {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []loggedShift
	for _, s := range l.shifts {
		if s.deployment == id {
			out = append(out, s)
		}
	}
	return out
}

// targetEvent names one lifecycle event of one target.
type targetEvent struct {
	target string
	event  target.LifecycleEvent
}

// performed counts what the platform was asked to do for deployment id, by
// target and lifecycle event: Server events through the fleet, hooks
// through the invoker, AllowTestTraffic and AllowTraffic through the
// shifter (one per shift).
func (w *crashWorld) performed(id string) map[targetEvent]int {
	n := map[targetEvent]int{}
	for _, c := range w.fleet.Calls() {
		if c.DeploymentID == id {
			n[targetEvent{c.Target, c.Event}]++
		}
	}
	if w.hooks != nil {
		for _, h := range w.hooks.Invocations() {
			if h.Deployment.DeploymentID == id {
				n[targetEvent{w.service, h.Event}]++
			}
		}
		for _, s := range w.shifter.Shifts() {
			if s.Deployment.DeploymentID == id {
				ev := target.AllowTraffic
				if s.Route.Test {
					ev = target.AllowTestTraffic
				}
				n[targetEvent{s.Route.ResourceID, ev}]++
			}
		}
	}
	return n
}

// storedOutcomes returns the lifecycle events of deployment id whose
// outcome is stored (Succeeded, Failed or Skipped).
func (w *crashWorld) storedOutcomes(id string) map[targetEvent]bool {
	out := map[targetEvent]bool{}
	if _, err := w.mem.GetDeployment(w.ctx, id); err != nil {
		return out
	}
	for tid, tg := range w.targets(id) {
		for _, ev := range tg.LifecycleEvents {
			switch ev.Status {
			case target.EventSucceeded, target.EventFailed, target.EventSkipped:
				out[targetEvent{tid, ev.Name}] = true
			}
		}
	}
	return out
}

// checkTraffic checks deployment id's production shifts against the
// schedule: each gives the replacement at most the weight the schedule
// allows at its time (counted from the first shift), and they make the
// schedule's weights in order, one at most repeated (the shift in flight at
// a crash). run names the run in errors.
func (w *crashWorld) checkTraffic(t *testing.T, run, id string) {
	t.Helper()
	if w.shifts == nil {
		return
	}
	shifts := w.shifts.of(id)
	var got, want []int
	for _, s := range shifts {
		if allowed := weightAt(w.schedule, s.at.Sub(shifts[0].at)); s.weight > allowed {
			t.Errorf("%s: %d%% of traffic %s after the first shift; the schedule allows %d%%", run, s.weight, s.at.Sub(shifts[0].at), allowed)
		}
		if n := len(got); n == 0 || got[n-1] != s.weight {
			got = append(got, s.weight)
		}
	}
	for _, s := range w.schedule {
		want = append(want, s.weight)
	}
	if !slices.Equal(got, want) {
		t.Errorf("%s: traffic went %v; the schedule is %v", run, got, want)
	}
}

// leftBehind returns the replacements the Provisioner made that neither
// serve (an instance in service, a task set with all production traffic)
// nor were terminated.
func (w *crashWorld) leftBehind() []string {
	if w.prov == nil {
		return nil
	}
	terminated := w.prov.Terminated()
	var out []string
	for _, r := range w.prov.Provisioned() {
		serving := w.fleet.InService(r.ID) // a Server instance
		if w.shifter != nil {              // an ECS task set
			split, err := w.shifter.CurrentTraffic(w.ctx, w.route)
			serving = err == nil && liveTarget(split) == r.ID
		}
		if !serving && !slices.Contains(terminated, r.ID) {
			out = append(out, r.ID)
		}
	}
	return out
}

// liveTarget returns the version or task set a split sends all traffic to.
func liveTarget(s target.TrafficSplit) string {
	switch s.Weight {
	case 0:
		return s.Original
	case 100:
		return s.Replacement
	}
	return ""
}

// testCrashAfterEveryWrite runs the deployment of world once without a crash,
// then, for each of its writes, in a fresh world, crashes after that write
// and resumes in a new executor.
func testCrashAfterEveryWrite(t *testing.T, world func(t *testing.T) *crashWorld) {
	clean := world(t)
	fs := deploytest.NewFaultStore(clean.mem, deploytest.FaultOptions{})
	clean.exec = clean.newExecutor(fs)
	d, err := clean.exec.CreateDeployment(clean.ctx, clean.in)
	if err == nil {
		d, err = clean.exec.Run(clean.ctx, d.ID)
	}
	if err != nil || d.Status != deploy.StatusSucceeded {
		t.Fatalf("the clean run ended %v, %v", d, err)
	}
	want := clean.finalState(d.ID)
	writes := fs.Writes()
	clean.checkTraffic(t, "the clean run", d.ID)
	if left := clean.leftBehind(); len(left) > 0 {
		t.Fatalf("the clean run left %v behind", left)
	}
	t.Logf("clean run: %d writes, max in flight %d", writes, clean.fleet.MaxInFlight(d.ID))
	for k := range writes {
		w := world(t)
		w.exec = w.newExecutor(deploytest.CrashAfter(w.mem, k))
		created, err := w.exec.CreateDeployment(w.ctx, w.in)
		if err == nil {
			_, err = w.exec.Run(w.ctx, created.ID)
		}
		if !errors.Is(err, deploytest.ErrCrashed) {
			t.Fatalf("k=%d: the run returned %v; want the crash", k, err)
		}
		id := "d-CRASHTEST"
		stored, before := w.storedOutcomes(id), w.performed(id)

		w.exec = w.restarted()
		switch _, err := w.mem.GetDeployment(w.ctx, id); {
		case errors.Is(err, deploy.ErrNotFound): // crashed creating it: nothing was stored
			got, err := w.exec.CreateDeployment(w.ctx, w.in)
			if err != nil {
				t.Fatalf("k=%d: creating again: %v", k, err)
			}
			if _, err := w.exec.Run(w.ctx, got.ID); err != nil {
				t.Fatalf("k=%d: run: %v", k, err)
			}
		case err != nil:
			t.Fatal(err)
		default:
			got, err := w.exec.Resume(w.ctx, id)
			if err != nil {
				t.Fatalf("k=%d: resume: %v", k, err)
			}
			if got.Status == deploy.StatusFailed && len(w.targets(id)) == 0 {
				// Crashed between the deployment record and its targets:
				// Resume fails it and frees the group; deploy again.
				if got.ErrorInformation.Code != "INTERNAL_ERROR" {
					t.Fatalf("k=%d: a half-created deployment ended %s", k, got.ErrorInformation.Code)
				}
				w.exec = w.newExecutorWithID("d-CRASHTEST2")
				id = "d-CRASHTEST2"
				if _, err := w.exec.CreateDeployment(w.ctx, w.in); err != nil {
					t.Fatalf("k=%d: creating again: %v", k, err)
				}
				if _, err := w.exec.Run(w.ctx, id); err != nil {
					t.Fatalf("k=%d: run: %v", k, err)
				}
			}
		}
		if diff := want.diff(w.finalState(id)); len(diff) > 0 {
			t.Errorf("k=%d: the resumed run differs from the clean one:\n%v", k, diff)
		}
		for te, n := range w.performed("d-CRASHTEST") {
			if stored[te] && n > before[te] {
				t.Errorf("k=%d: %s of %s was stored done before the crash but was performed again", k, te.event, te.target)
			}
		}
		if w.window > 0 {
			if got := w.fleet.MaxInFlight(id); got > w.window {
				t.Errorf("k=%d: %d targets offline at once across the crash; the bound is %d", k, got, w.window)
			}
		}
		if v := w.fleet.Violations(); len(v) > 0 {
			t.Errorf("k=%d: role contract violations: %v", k, v)
		}
		w.checkTraffic(t, fmt.Sprintf("k=%d", k), id)
		if left := w.leftBehind(); len(left) > 0 {
			t.Errorf("k=%d: replacements left behind, neither serving nor terminated: %v", k, left)
		}
	}
}

// A store write that fails makes Run return an error naming what failed;
// the stored state stays consistent (the deployment in progress, holding
// its group) and Resume finishes it as if nothing had happened.
func TestWriteFailures(t *testing.T) {
	clean := crashEnv(t, 0)
	d := clean.deploy("v1")
	want := clean.finalState(d.ID)
	tests := []struct {
		name string
		fail func(deploytest.Write) bool
		msg  string // in the error
	}{
		{"starting the deployment", deploytest.OnOp(deploytest.OpUpdateDeployment), "starting it"},
		{"a target's first write", deploytest.OnOp(deploytest.OpUpdateTarget), "saving target i-"},
		{"a target's last write", func(w deploytest.Write) bool {
			t, ok := w.Record.(*deploy.DeploymentTarget)
			return ok && t.Status == target.TargetSucceeded && t.TargetID == "i-020"
		}, "saving target i-020"},
		{"the instance records", deploytest.OnOp(deploytest.OpPutInstances), "saving 50 instance records"},
		{"the group", deploytest.OnOp(deploytest.OpUpdateGroup), "saving its deployment group"},
		{"the final status", func(w deploytest.Write) bool {
			d, ok := w.Record.(*deploy.Deployment)
			return ok && d.Status.Final()
		}, "saving its final status"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := crashEnv(t, 0)
			once := false
			fs := deploytest.NewFaultStore(e.mem, deploytest.FaultOptions{Fail: func(w deploytest.Write) bool {
				if !once && tc.fail(w) && w.Op != deploytest.OpCreateDeployment && w.Op != deploytest.OpPutTargets {
					once = true
					return true
				}
				return false
			}})
			e.exec = e.newExecutor(fs)
			created := e.create("v1")
			_, err := e.exec.Run(e.ctx, created.ID)
			if !errors.Is(err, deploytest.ErrInjected) {
				t.Fatalf("Run returned %v; want the injected failure", err)
			}
			if !strings.Contains(err.Error(), "deploy: deployment d-CRASHTEST: "+tc.msg) {
				t.Errorf("error %q does not say %q", err, tc.msg)
			}
			stored := e.get(created.ID)
			if stored.Status.Final() {
				t.Errorf("after the failed write the deployment is %s; it must stay unfinished", stored.Status)
			}
			_, err = e.newExecutorWithID("d-OTHER").CreateDeployment(e.ctx, deploy.DeploymentInput{ApplicationName: "shop", GroupName: "prod", Revision: rev("v2")})
			var active *deploy.ActiveDeploymentError
			if !errors.As(err, &active) || active.DeploymentID != created.ID {
				t.Errorf("a second deployment: %v; the interrupted one must still hold the group", err)
			}
			for id, tg := range e.targets(created.ID) {
				if tg.Status == target.TargetInProgress && len(tg.LifecycleEvents) == 0 {
					t.Errorf("%s is InProgress without lifecycle events", id)
				}
			}
			if _, err := e.exec.Resume(e.ctx, created.ID); err != nil {
				t.Fatalf("Resume: %v", err)
			}
			if diff := want.diff(e.finalState(created.ID)); len(diff) > 0 {
				t.Errorf("the resumed run differs from the clean one:\n%v", diff)
			}
		})
	}
}

// Cancelling Run's context kills the run: Run returns the context's error,
// the deployment stays in progress (targets cut off stay InProgress, with
// nothing recorded about the interrupted event), and Resume finishes it
// as if nothing had happened. While Run runs, a second Run or Resume of the
// same deployment in the same executor is refused.
func TestCancelAndResume(t *testing.T) {
	clean := crashEnv(t, 0)
	want := clean.finalState(clean.deploy("v1").ID)

	e := crashEnv(t, 0)
	started := make(chan struct{})
	var once sync.Once
	e.fleet.OnCall(func(ctx context.Context, c targettest.Call) error {
		if c.Event == target.Install {
			once.Do(func() { close(started) })
			<-ctx.Done() // held until the run is cancelled
			return ctx.Err()
		}
		return nil
	})
	d := e.create("v1")
	ctx, cancel := context.WithCancel(e.ctx)
	done := make(chan error, 1)
	go func() { _, err := e.exec.Run(ctx, d.ID); done <- err }()
	<-started
	if _, err := e.exec.Resume(e.ctx, d.ID); !errors.Is(err, deploy.ErrAlreadyRunning) {
		t.Errorf("Resume while running: %v; want ErrAlreadyRunning", err)
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "Resume continues it") {
		t.Fatalf("Run = %v; want the cancellation", err)
	}
	stored := e.get(d.ID)
	if stored.Status != deploy.StatusInProgress {
		t.Fatalf("status %s after the cancellation", stored.Status)
	}
	inProgress := 0
	for _, tg := range e.targets(d.ID) {
		if tg.Status == target.TargetInProgress {
			inProgress++
			if ev := tg.Event(target.Install); ev.Status != target.EventPending && ev.Status != target.EventInProgress {
				t.Errorf("%s: the interrupted Install is recorded %s", tg.TargetID, ev.Status)
			}
		}
	}
	if inProgress == 0 {
		t.Error("no target was in progress at the cancellation")
	}
	e.fleet.OnCall(nil)
	if _, err := e.newExecutor(e.mem).Resume(e.ctx, d.ID); err != nil {
		t.Fatal(err)
	}
	if diff := want.diff(e.finalState(d.ID)); len(diff) > 0 {
		t.Errorf("the resumed run differs from the clean one:\n%v", diff)
	}
}

// crashAfterFirst returns a FaultStore over e's store that crashes at the
// first write after the one stored matches, and a function that reports
// whether that write came.
func crashAfterFirst(e *env, stored func(deploytest.Write) bool) (*deploytest.FaultStore, func() bool) {
	var seen atomic.Bool
	fs := deploytest.NewFaultStore(e.mem, deploytest.FaultOptions{Crash: true, Fail: func(w deploytest.Write) bool {
		if seen.Load() {
			return true
		}
		seen.Store(stored(w))
		return false
	}})
	return fs, seen.Load
}

// A Server blue/green deployment stores its replacement fleet (Green
// targets) once the Provisioner made it, before the deployment is written
// again. Killed right after that write, it is still Created and holds more
// targets than CreateDeployment stored: Resume must take the stored
// replacements as the fleet it provisioned and go on with them — the same
// replacements, asked of no one again — rather than fail the deployment and
// leave them running. It ends as an uninterrupted run does: the
// replacements serve and the originals are terminated (TERMINATE).
func TestResumeWithStoredReplacements(t *testing.T) {
	e, prov := bgEnv(t, deploy.ActionContinueDeployment, func(g *deploy.Group) {
		g.BlueGreenDeploymentConfiguration.TerminateBlueInstancesOnDeploymentSuccess.TerminationWaitTimeInMinutes = 0
	})
	originals := e.fleet.Targets()
	fs, crashed := crashAfterFirst(e, func(w deploytest.Write) bool {
		ts, ok := w.Record.([]deploy.DeploymentTarget)
		return ok && len(ts) > 0 && ts[0].Label == target.LabelGreen
	})
	e.exec = e.newExecutor(fs)
	d := e.create("v1")
	if _, err := e.exec.Run(e.ctx, d.ID); !crashed() || !errors.Is(err, deploytest.ErrCrashed) {
		t.Fatalf("Run = %v; want a crash right after the replacements were stored", err)
	}
	made := prov.Provisioned()
	calls := 0
	prov.OnProvision(func(context.Context, target.ProvisionRequest) error { calls++; return nil })

	got, err := e.restarted().Resume(e.ctx, d.ID)
	if err != nil || got.Status != deploy.StatusSucceeded {
		t.Fatalf("Resume = %s %+v, %v; want Succeeded", got.Status, got.ErrorInformation, err)
	}
	if calls != 0 || len(prov.Provisioned()) != len(made) {
		t.Errorf("Resume provisioned again (%d calls, %d replacements); the stored ones are the fleet", calls, len(prov.Provisioned()))
	}
	var green []string
	for id, tg := range e.targets(d.ID) {
		if tg.Label == target.LabelGreen {
			green = append(green, id)
			if tg.Status != target.TargetSucceeded || !e.fleet.InService(id) {
				t.Errorf("replacement %s: %s, in service %v; want Succeeded and serving", id, tg.Status, e.fleet.InService(id))
			}
		}
	}
	slices.Sort(green)
	if want := targetIDs(made); !slices.Equal(green, want) {
		t.Errorf("the deployment's replacements are %v; the Provisioner made %v", green, want)
	}
	if got, want := prov.Terminated(), targetIDs(originals); !slices.Equal(got, want) {
		t.Errorf("terminated %v; want the originals %v", got, want)
	}
}

// targetIDs returns the IDs of ts, sorted.
func targetIDs(ts []target.Target) []string {
	ids := make([]string, len(ts))
	for i, t := range ts {
		ids[i] = t.ID
	}
	slices.Sort(ids)
	return ids
}

// A Lambda or ECS hook whose result is stored is never invoked again: a
// crash between the write of a hook's outcome on the function or service
// target and the deployment's next write, then Resume, invokes every hook
// at most once — and the deployment ends as the stored outcome says: it
// goes on after a hook that succeeded, and fails with
// HOOK_EXECUTION_FAILURE after one that failed. (Only a hook in flight at
// the crash, its outcome not stored, may be invoked again.)
func TestResumeNeverRepeatsAStoredHook(t *testing.T) {
	tests := []struct {
		platform config.ComputePlatform
		cfg      string
		group    func(*deploy.Group)
		rev      revision.Location
		hooks    []target.LifecycleEvent // in the order they run
	}{
		{config.Lambda, "CodeDeployDefault.LambdaAllAtOnce", nil, lambdaSpec("2"),
			[]target.LifecycleEvent{target.BeforeAllowTraffic, target.AfterAllowTraffic}},
		{config.ECS, "CodeDeployDefault.ECSAllAtOnce", ecsServiceGroup(true), ecsAllHooksLocation(),
			[]target.LifecycleEvent{target.BeforeInstall, target.AfterInstall, target.AfterAllowTestTraffic, target.BeforeAllowTraffic, target.AfterAllowTraffic}},
	}
	for _, tc := range tests {
		for k, hook := range tc.hooks {
			for _, outcome := range []target.LifecycleEventStatus{target.EventSucceeded, target.EventFailed} {
				t.Run(fmt.Sprintf("%s/%s/%s", tc.platform, hook, outcome), func(t *testing.T) {
					e, shifter, hooks, _ := serviceEnv(t, tc.platform, tc.cfg, tc.group)
					setECSRoutes(shifter)
					shifter.SetRoute(target.TrafficRoute{ResourceID: "checkout:live"}, target.TrafficSplit{Original: "1"})
					if outcome == target.EventFailed {
						hooks.Script("", hook, targettest.Fail(target.CodeScriptFailed, "validation failed"))
					}
					fs, crashed := crashAfterFirst(e, func(w deploytest.Write) bool {
						tg, ok := w.Record.(*deploy.DeploymentTarget)
						return ok && tg.Event(hook) != nil && tg.Event(hook).Status == outcome
					})
					e.exec = e.newExecutor(fs)
					d, err := e.exec.CreateDeployment(e.ctx, deploy.DeploymentInput{ApplicationName: "shop", GroupName: "prod", Revision: tc.rev})
					if err != nil {
						t.Fatal(err)
					}
					if _, err := e.exec.Run(e.ctx, d.ID); !crashed() || !errors.Is(err, deploytest.ErrCrashed) {
						t.Fatalf("Run = %v; want a crash right after %s's outcome was stored", err, hook)
					}
					got, err := e.restarted().Resume(e.ctx, d.ID)
					want, code := deploy.StatusSucceeded, deploy.ErrorCode("")
					if outcome == target.EventFailed {
						want, code = deploy.StatusFailed, plan.HookExecutionFailure
					}
					if err != nil || got.Status != want || got.ErrorInformation.Code != code {
						t.Fatalf("Resume = %s %+v, %v; want %s %s", got.Status, got.ErrorInformation, err, want, code)
					}
					invoked := map[target.LifecycleEvent]int{}
					for _, req := range hooks.Invocations() {
						invoked[req.Event]++
					}
					for j, ev := range tc.hooks {
						n := 1
						if outcome == target.EventFailed && j > k {
							n = 0 // after the failed hook
						}
						if invoked[ev] != n {
							t.Errorf("hook %s invoked %d times; want %d", ev, invoked[ev], n)
						}
					}
				})
			}
		}
	}
}

// With every transition written, a Server target killed in the middle of
// its events goes on, when resumed, from the event that was in flight: the
// events whose outcome its record holds are not run again, the one in
// flight is run again, and the target ends as without the crash.
func TestResumeGoesOnFromTheEventInFlight(t *testing.T) {
	e := newEnv(t, 1, "CodeDeployDefault.OneAtATime", nil, func(o *deploy.Options) { o.RecordInterval = -1 })
	fs, crashed := crashAfterFirst(e, func(w deploytest.Write) bool {
		tg, ok := w.Record.(*deploy.DeploymentTarget)
		return ok && tg.Event(target.Install).Status == target.EventSucceeded // AfterInstall starts
	})
	e.exec = e.newExecutor(fs)
	d := e.create("v1")
	if _, err := e.exec.Run(e.ctx, d.ID); !crashed() || !errors.Is(err, deploytest.ErrCrashed) {
		t.Fatalf("Run = %v; want a crash right after Install's outcome was stored", err)
	}
	got, err := e.restarted().Resume(e.ctx, d.ID)
	if err != nil || got.Status != deploy.StatusSucceeded {
		t.Fatalf("Resume = %s %+v, %v; want Succeeded", got.Status, got.ErrorInformation, err)
	}
	want := []target.LifecycleEvent{target.ApplicationStop, target.DownloadBundle, target.BeforeInstall, target.Install,
		target.AfterInstall, // in flight at the crash
		target.AfterInstall, target.ApplicationStart, target.ValidateService}
	if got := e.fleet.Events("i-000"); !slices.Equal(got, want) {
		t.Errorf("events run %v; want %v", got, want)
	}
	for _, ev := range e.targets(d.ID)["i-000"].LifecycleEvents {
		if ev.Status != target.EventSucceeded {
			t.Errorf("%s: %s; want Succeeded", ev.Name, ev.Status)
		}
	}
}

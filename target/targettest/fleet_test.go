package targettest_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/fleetdeploy/fleetdeploy/config"
	"github.com/fleetdeploy/fleetdeploy/revision"
	"github.com/fleetdeploy/fleetdeploy/target"
	"github.com/fleetdeploy/fleetdeploy/target/targettest"
)

var dep = target.DeploymentInfo{
	ApplicationName: "app", DeploymentGroupName: "web", DeploymentGroupID: "g-1", DeploymentID: "d-1",
	Revision:       revision.Location{Type: revision.LocationS3, S3: &revision.S3Location{Bucket: "b", Key: "app.zip", BundleType: revision.BundleZip}},
	Creator:        target.CreatorUser,
	DeploymentType: target.InPlace,
}

func req(id string, e target.LifecycleEvent) target.EventRequest {
	return target.EventRequest{Target: target.Target{ID: id}, Event: e, Deployment: dep}
}

func threeTargets() *targettest.Fleet {
	return targettest.NewFleet(
		target.Target{ID: "i-1", Zone: "a", Tags: map[string]string{"Env": "Prod"}},
		target.Target{ID: "i-2", Zone: "b", Tags: map[string]string{"Env": "Prod"}, AutoScalingGroup: "asg"},
		target.Target{ID: "i-3", Zone: "a", Tags: map[string]string{"Env": "Dev"}},
	)
}

func ids(ts []target.Target) []string {
	var out []string
	for _, t := range ts {
		out = append(out, t.ID)
	}
	return out
}

func TestFleetListTargets(t *testing.T) {
	ctx := context.Background()
	f := threeTargets()
	prod := target.Selector{EC2TagFilters: []target.TagFilter{{Key: "Env", Value: "Prod", Type: target.KeyAndValue}}}
	got, err := f.ListTargets(ctx, prod)
	if err != nil || !slices.Equal(ids(got), []string{"i-1", "i-2"}) {
		t.Fatalf("ListTargets = %v, %v", ids(got), err)
	}
	// The caller owns what it gets.
	got[0].Tags["Env"] = "changed"
	if again, _ := f.ListTargets(ctx, prod); len(again) != 2 {
		t.Errorf("mutating a listed target changed the fleet: %v", ids(again))
	}
	// Targets appear and disappear while a deployment runs.
	f.Add(target.Target{ID: "i-0", Tags: map[string]string{"Env": "Prod"}})
	f.Remove("i-2")
	if got, _ := f.ListTargets(ctx, prod); !slices.Equal(ids(got), []string{"i-0", "i-1"}) {
		t.Errorf("after Add/Remove: %v", ids(got))
	}
	// Unreachable targets are still listed.
	f.SetReachable("i-1", false)
	if got, _ := f.ListTargets(ctx, prod); len(got) != 2 {
		t.Errorf("unreachable target not listed: %v", ids(got))
	}
	// Empty selector: nothing.
	if got, err := f.ListTargets(ctx, target.Selector{}); len(got) != 0 || err != nil {
		t.Errorf("empty selector: %v, %v", ids(got), err)
	}
	boom := errors.New("ec2 throttled")
	f.SetListError(boom)
	if _, err := f.ListTargets(ctx, prod); !errors.Is(err, boom) {
		t.Errorf("SetListError: %v", err)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := f.ListTargets(cctx, prod); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled ctx: %v", err)
	}
	if n := f.ListCalls(); n != 6 {
		t.Errorf("ListCalls = %d, want 6", n)
	}
}

func TestFleetScriptedOutcomes(t *testing.T) {
	ctx := context.Background()
	f := threeTargets()
	infra := errors.New("agent socket closed")
	f.Script("", target.ValidateService, targettest.Fail(target.CodeScriptFailed, "any target"))
	f.Script("i-1", "", targettest.Fail(target.CodeScriptMissing, "i-1 any event"))
	f.Script("i-1", target.AfterInstall, targettest.Fail(target.CodeScriptTimedOut, "i-1 AfterInstall").Once())
	f.Script("i-3", target.Install, targettest.Error(infra))

	tests := []struct {
		id    string
		event target.LifecycleEvent
		want  target.LifecycleErrorCode // "" for an error
	}{
		{"i-1", target.AfterInstall, target.CodeScriptTimedOut}, // most specific, once
		{"i-1", target.AfterInstall, target.CodeScriptMissing},  // used up: target rule
		{"i-1", target.ValidateService, target.CodeScriptMissing},
		{"i-2", target.ValidateService, target.CodeScriptFailed}, // event rule
		{"i-2", target.Install, target.CodeSuccess},              // unscripted
		{"i-3", target.Install, ""},
	}
	for _, tt := range tests {
		res, err := f.RunEvent(ctx, req(tt.id, tt.event))
		if tt.want == "" {
			if !errors.Is(err, infra) {
				t.Errorf("%s %s: err = %v, want %v", tt.id, tt.event, err, infra)
			}
			continue
		}
		if err != nil || res.ErrorCode != tt.want {
			t.Errorf("%s %s = %+v, %v; want code %s", tt.id, tt.event, res, err, tt.want)
		}
		if wantStatus := map[bool]target.LifecycleEventStatus{true: target.EventSucceeded, false: target.EventFailed}[tt.want == target.CodeSuccess]; res.Status != wantStatus {
			t.Errorf("%s %s: status %s, want %s", tt.id, tt.event, res.Status, wantStatus)
		}
		if err := res.Validate(); err != nil {
			t.Errorf("%s %s: result invalid: %v", tt.id, tt.event, err)
		}
	}
	if v := f.Violations(); len(v) != 0 {
		t.Errorf("violations: %v", v)
	}
}

func TestFleetTrafficAndInstall(t *testing.T) {
	ctx := context.Background()
	f := threeTargets()
	tr := target.TrafficRequest{Target: target.Target{ID: "i-1"}, Deployment: dep}
	if !f.InService("i-1") {
		t.Fatal("added targets start in service")
	}
	if err := f.BlockTraffic(ctx, tr); err != nil || f.InService("i-1") {
		t.Fatalf("BlockTraffic: %v, in service %v", err, f.InService("i-1"))
	}
	if _, ok := f.Installed("i-1"); ok {
		t.Error("nothing installed yet")
	}
	if _, err := f.RunEvent(ctx, req("i-1", target.Install)); err != nil {
		t.Fatal(err)
	}
	if rev, ok := f.Installed("i-1"); !ok || !rev.Equal(dep.Revision) {
		t.Errorf("Installed = %v, %v", rev, ok)
	}
	f.Script("i-1", target.AllowTraffic, targettest.Fail(target.CodeUnknownError, "unhealthy in target group").Once())
	if err := f.AllowTraffic(ctx, tr); err == nil || f.InService("i-1") {
		t.Errorf("failed AllowTraffic: %v, in service %v", err, f.InService("i-1"))
	}
	if err := f.AllowTraffic(ctx, tr); err != nil || !f.InService("i-1") {
		t.Errorf("AllowTraffic: %v, in service %v", err, f.InService("i-1"))
	}
	// A failed Install does not change the installed revision.
	f.Script("i-2", target.Install, targettest.Fail(target.CodeUnknownError, "disk full"))
	_, _ = f.RunEvent(ctx, req("i-2", target.Install))
	if _, ok := f.Installed("i-2"); ok {
		t.Error("failed Install recorded a revision")
	}
	want := []target.LifecycleEvent{target.BlockTraffic, target.Install, target.AllowTraffic, target.AllowTraffic}
	if got := f.Events("i-1"); !slices.Equal(got, want) {
		t.Errorf("Events(i-1) = %v, want %v", got, want)
	}
}

func TestFleetMisuse(t *testing.T) {
	ctx := context.Background()
	f := threeTargets()
	// BlockTraffic is the service's (TrafficController), not the agent's
	// (User Guide, "AppSpec 'hooks' section").
	if _, err := f.RunEvent(ctx, req("i-1", target.BlockTraffic)); !errors.Is(err, targettest.ErrMisuse) {
		t.Errorf("RunEvent(BlockTraffic) = %v, want ErrMisuse", err)
	}
	if _, err := f.RunEvent(ctx, req("i-1", target.AllowTestTraffic)); !errors.Is(err, targettest.ErrMisuse) {
		t.Errorf("RunEvent(AllowTestTraffic) = %v, want ErrMisuse", err)
	}
	if _, err := f.RunEvent(ctx, target.EventRequest{Event: target.Install}); !errors.Is(err, targettest.ErrMisuse) {
		t.Errorf("RunEvent without target = %v, want ErrMisuse", err)
	}
	if n := len(f.Violations()); n != 3 {
		t.Errorf("Violations = %v, want 3", f.Violations())
	}
}

func TestFleetConcurrentCallsOnOneTarget(t *testing.T) {
	ctx := context.Background()
	f := threeTargets()
	gate := targettest.NewGate()
	f.OnCall(func(ctx context.Context, c targettest.Call) error { return gate.Wait(ctx) })
	var wg sync.WaitGroup
	for _, e := range []target.LifecycleEvent{target.BeforeInstall, target.AfterInstall} {
		wg.Go(func() { _, _ = f.RunEvent(ctx, req("i-1", e)) })
	}
	if err := f.WaitRunning(ctx, 2); err != nil {
		t.Fatal(err)
	}
	gate.Open()
	wg.Wait()
	if v := f.Violations(); len(v) != 1 {
		t.Errorf("Violations = %v, want one (two calls on i-1 at once)", v)
	}
}

func TestFleetHealthFlipMidEvent(t *testing.T) {
	ctx := context.Background()
	f := threeTargets()
	gate := targettest.NewGate()
	f.OnCall(func(ctx context.Context, c targettest.Call) error { return gate.Wait(ctx) })
	errc := make(chan error, 1)
	go func() {
		_, err := f.RunEvent(ctx, req("i-2", target.ApplicationStart))
		errc <- err
	}()
	if err := f.WaitRunning(ctx, 1); err != nil {
		t.Fatal(err)
	}
	f.SetReachable("i-2", false) // instance stopped while the event runs
	gate.Open()
	if err := <-errc; !errors.Is(err, target.ErrTargetUnavailable) {
		t.Errorf("event on a target that stopped mid-event: %v, want ErrTargetUnavailable", err)
	}
	if _, err := f.RunEvent(ctx, req("i-2", target.ValidateService)); !errors.Is(err, target.ErrTargetUnavailable) {
		t.Errorf("event on a stopped target: %v", err)
	}
	if err := f.BlockTraffic(ctx, target.TrafficRequest{Target: target.Target{ID: "i-2"}}); !errors.Is(err, target.ErrTargetUnavailable) {
		t.Errorf("BlockTraffic on a stopped target: %v", err)
	}
	f.SetReachable("i-2", true)
	if _, err := f.RunEvent(ctx, req("i-2", target.ValidateService)); err != nil {
		t.Errorf("after the target came back: %v", err)
	}
	f.Remove("i-3")
	if _, err := f.RunEvent(ctx, req("i-3", target.Install)); !errors.Is(err, target.ErrTargetUnavailable) {
		t.Errorf("event on a terminated target: %v", err)
	}
}

func TestFleetCancelWhileBlocked(t *testing.T) {
	f := threeTargets()
	gate := targettest.NewGate() // never opened
	f.OnCall(func(ctx context.Context, c targettest.Call) error { return gate.Wait(ctx) })
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		_, err := f.RunEvent(ctx, req("i-1", target.Install))
		errc <- err
	}()
	if err := f.WaitRunning(context.Background(), 1); err != nil {
		t.Fatal(err)
	}
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Errorf("RunEvent after cancel = %v, want context.Canceled", err)
	}
	calls := f.Calls()
	if len(calls) != 1 || !calls[0].Done || !errors.Is(calls[0].Err, context.Canceled) {
		t.Errorf("Calls = %+v", calls)
	}
	if f.Running() != 0 {
		t.Errorf("Running = %d after the call returned", f.Running())
	}
	// Waiting with a done context returns its error.
	if err := f.WaitCalls(ctx, 5); !errors.Is(err, context.Canceled) {
		t.Errorf("WaitCalls with a cancelled context = %v", err)
	}
}

// runSequence runs the in-place events (target.Sequence) on one target
// through the fleet's roles, as an executor would.
func runSequence(ctx context.Context, f *targettest.Fleet, id, deploymentID string) error {
	events, err := target.Sequence{Platform: config.Server, Kind: target.KindInPlace, LoadBalancer: true}.Events()
	if err != nil {
		return err
	}
	d := dep
	d.DeploymentID = deploymentID
	for _, e := range events {
		switch e.Role(config.Server) {
		case target.RoleTrafficController:
			tr := target.TrafficRequest{Target: target.Target{ID: id}, Deployment: d}
			if e == target.BlockTraffic {
				err = f.BlockTraffic(ctx, tr)
			} else {
				err = f.AllowTraffic(ctx, tr)
			}
		default:
			_, err = f.RunEvent(ctx, target.EventRequest{Target: target.Target{ID: id}, Event: e, Deployment: d})
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func TestFleetMaxInFlight(t *testing.T) {
	ctx := context.Background()
	t.Run("one at a time", func(t *testing.T) {
		f := threeTargets()
		for _, id := range []string{"i-1", "i-2", "i-3"} {
			if err := runSequence(ctx, f, id, "d-1"); err != nil {
				t.Fatal(err)
			}
		}
		if got := f.MaxInFlight("d-1"); got != 1 {
			t.Errorf("MaxInFlight = %d, want 1", got)
		}
		if got := f.MaxConcurrent(); got != 1 {
			t.Errorf("MaxConcurrent = %d, want 1", got)
		}
	})
	t.Run("interleaved sequential calls count as in flight", func(t *testing.T) {
		f := threeTargets()
		// i-1 and i-2 are both between their first and last event: both
		// are offline, although no two calls overlap.
		for _, e := range []target.LifecycleEvent{target.ApplicationStop, target.DownloadBundle} {
			for _, id := range []string{"i-1", "i-2"} {
				if _, err := f.RunEvent(ctx, req(id, e)); err != nil {
					t.Fatal(err)
				}
			}
		}
		if got := f.MaxInFlight(""); got != 2 {
			t.Errorf("MaxInFlight = %d, want 2", got)
		}
		if got := f.MaxConcurrent(); got != 1 {
			t.Errorf("MaxConcurrent = %d, want 1", got)
		}
	})
	t.Run("deployments are counted apart", func(t *testing.T) {
		f := threeTargets()
		_ = runSequence(ctx, f, "i-1", "d-1")
		_ = runSequence(ctx, f, "i-2", "d-2")
		_ = runSequence(ctx, f, "i-1", "d-2")
		if got := f.MaxInFlight("d-2"); got != 1 {
			t.Errorf("MaxInFlight(d-2) = %d, want 1", got)
		}
	})
	t.Run("parallel targets under -race", func(t *testing.T) {
		const n = 16
		f := targettest.NewFleet()
		for i := range n {
			f.Add(target.Target{ID: fmt.Sprintf("i-%02d", i)})
		}
		gate := targettest.NewGate()
		f.OnCall(func(ctx context.Context, c targettest.Call) error {
			if c.Event == target.BeforeBlockTraffic {
				return gate.Wait(ctx) // hold every target in its first event
			}
			return nil
		})
		var wg sync.WaitGroup
		errs := make(chan error, n)
		for _, tg := range f.Targets() {
			wg.Go(func() { errs <- runSequence(ctx, f, tg.ID, "d-1") })
		}
		if err := f.WaitRunning(ctx, n); err != nil {
			t.Fatal(err)
		}
		if got := f.MaxInFlight("d-1"); got != n {
			t.Errorf("MaxInFlight while all are held = %d, want %d", got, n)
		}
		gate.Open()
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Error(err)
			}
		}
		if got := f.MaxConcurrent(); got != n {
			t.Errorf("MaxConcurrent = %d, want %d", got, n)
		}
		if got, want := len(f.Calls()), n*13; got != want {
			t.Errorf("%d calls, want %d", got, want)
		}
		if v := f.Violations(); len(v) != 0 {
			t.Errorf("violations: %v", v)
		}
		for _, tg := range f.Targets() {
			if !f.InService(tg.ID) {
				t.Errorf("%s out of service after AllowTraffic", tg.ID)
			}
		}
	})
}

// fakeClock is the smallest clock a test needs to drive Delay: After
// registers a timer, BlockUntil waits for timers to be registered, Advance
// fires the due ones.
type fakeClock struct {
	mu     sync.Mutex
	cond   *sync.Cond
	now    time.Duration
	timers []fakeTimer
}

func newFakeClock() *fakeClock {
	c := &fakeClock{}
	c.cond = sync.NewCond(&c.mu)
	return c
}

func (c *fakeClock) BlockUntil(n int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for len(c.timers) < n {
		c.cond.Wait()
	}
}

type fakeTimer struct {
	at time.Duration
	ch chan time.Time
}

func (c *fakeClock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	ch := make(chan time.Time, 1)
	c.timers = append(c.timers, fakeTimer{c.now + d, ch})
	c.cond.Broadcast()
	return ch
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now += d
	c.timers = slices.DeleteFunc(c.timers, func(t fakeTimer) bool {
		if t.at <= c.now {
			t.ch <- time.Unix(0, 0).Add(c.now)
			return true
		}
		return false
	})
}

func TestDelayOnFakeClock(t *testing.T) {
	ctx := context.Background()
	f := threeTargets()
	clock := newFakeClock()
	latency := map[string]time.Duration{"i-1": time.Minute, "i-2": 3 * time.Minute, "i-3": 0}
	f.OnCall(targettest.Delay(clock.After, func(c targettest.Call) time.Duration { return latency[c.Target] }))

	done := make(chan string, 3)
	for _, id := range []string{"i-1", "i-2", "i-3"} {
		go func() {
			if _, err := f.RunEvent(ctx, req(id, target.Install)); err != nil {
				t.Error(err)
			}
			done <- id
		}()
	}
	if got := <-done; got != "i-3" { // zero latency needs no clock
		t.Fatalf("first done = %s, want i-3", got)
	}
	clock.BlockUntil(2) // i-1 and i-2 are waiting on the clock
	clock.Advance(time.Minute)
	if got := <-done; got != "i-1" {
		t.Fatalf("after 1m: %s done, want i-1", got)
	}
	if f.Running() != 1 {
		t.Fatalf("i-2 finished before its latency elapsed")
	}
	clock.Advance(2 * time.Minute)
	if got := <-done; got != "i-2" {
		t.Fatalf("after 3m: %s done, want i-2", got)
	}
}

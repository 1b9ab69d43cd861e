package deploy_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fleetdeploy/fleetdeploy/deploy"
	"github.com/fleetdeploy/fleetdeploy/deploy/clock"
	"github.com/fleetdeploy/fleetdeploy/deploy/deploytest"
	"github.com/fleetdeploy/fleetdeploy/target"
	"github.com/fleetdeploy/fleetdeploy/target/targettest"
)

// eventCounts returns how many times each (target, lifecycle event) of
// deployment id was run by the fleet's Installer.
func eventCounts(calls []targettest.Call, id string) map[string]int {
	n := map[string]int{}
	for _, c := range calls {
		if c.DeploymentID == id && c.Role == target.RoleInstaller {
			n[c.Target+" "+string(c.Event)]++
		}
	}
	return n
}

// TestTwoExecutorsRaceOneDeployment starts x1.Run and x2.Resume of one
// deployment together, 500 times, with the winner's first lifecycle event
// held until the loser has returned, so that the two always overlap.
// Exactly one drives it: every lifecycle event runs once, never two on
// one target at once, and the loser gets ErrLeaseHeld (or, when the winner
// had already started it, Run's ErrAlreadyStarted).
func TestTwoExecutorsRaceOneDeployment(t *testing.T) {
	rounds := 500
	if testing.Short() {
		rounds = 50
	}
	held := 0
	for round := range rounds {
		e := newEnv(t, 6, "CodeDeployDefault.HalfAtATime", nil)
		x1, x2 := e.exec, e.newExecutor(e.mem)
		d := e.create("v1")
		loserDone := make(chan struct{})
		var once sync.Once
		e.fleet.OnCall(func(ctx context.Context, c targettest.Call) error {
			// Held until the loser returned — or, should both run, until
			// more targets are in flight than one executor's window.
			held, cancel := context.WithCancel(ctx)
			defer cancel()
			go func() {
				select {
				case <-loserDone:
				case <-held.Done():
				}
				cancel()
			}()
			_ = e.fleet.WaitRunning(held, 4) // HalfAtATime of 6: 3 in flight per executor
			return nil
		})
		errs := make([]error, 2)
		var wg sync.WaitGroup
		start := make(chan struct{})
		for k, run := range []func() error{
			func() error { _, err := x1.Run(e.ctx, d.ID); return err },
			func() error { _, err := x2.Resume(e.ctx, d.ID); return err },
		} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				errs[k] = run()
				if errs[k] != nil {
					once.Do(func() { close(loserDone) })
				}
			}()
		}
		close(start)
		wg.Wait()
		once.Do(func() { close(loserDone) })

		var won int
		for k, err := range errs {
			switch {
			case err == nil:
				won++
			case errors.Is(err, deploy.ErrLeaseHeld):
				held++
				var lh *deploy.LeaseHeldError
				if !errors.As(err, &lh) || lh.Lease.Owner == "" || lh.Lease.DeploymentID != d.ID {
					t.Fatalf("round %d: executor %d: %v does not name the holder", round, k+1, err)
				}
			case errors.Is(err, deploy.ErrAlreadyStarted) && k == 0:
			default:
				t.Fatalf("round %d: executor %d: %v", round, k+1, err)
			}
		}
		if won != 1 {
			t.Fatalf("round %d: %d executors ran the deployment (errors %v); want exactly 1", round, won, errs)
		}
		if got := e.get(d.ID); got.Status != deploy.StatusSucceeded {
			t.Fatalf("round %d: the deployment ended %s", round, got.Status)
		}
		for ev, n := range eventCounts(e.fleet.Calls(), d.ID) {
			if n != 1 {
				t.Fatalf("round %d: %s ran %d times", round, ev, n)
			}
		}
		if v := e.fleet.Violations(); len(v) > 0 {
			t.Fatalf("round %d: %v", round, v)
		}
	}
	if held == 0 {
		t.Errorf("no loser ever got ErrLeaseHeld in %d rounds", rounds)
	}
}

// stallingStore holds RenewLease calls until released: an executor whose
// connection to the store stalls (a GC pause, a partition).
type stallingStore struct {
	deploy.Store
	stalled chan struct{} // closed at the first RenewLease
	release chan struct{}
	once    sync.Once
}

func (s *stallingStore) RenewLease(ctx context.Context, l deploy.Lease, now time.Time, ttl time.Duration) (deploy.Lease, error) {
	s.once.Do(func() { close(s.stalled) })
	<-s.release
	return s.Store.RenewLease(ctx, l, now, ttl)
}

// gatedInstaller holds every lifecycle event until released, then reports
// it Succeeded without running it, and counts the events it was asked to
// start.
type gatedInstaller struct {
	started  atomic.Int32
	starting chan struct{} // one send per event started
	release  chan struct{}
}

func (g *gatedInstaller) RunEvent(ctx context.Context, req target.EventRequest) (target.EventResult, error) {
	g.started.Add(1)
	select {
	case g.starting <- struct{}{}:
	default:
	}
	select {
	case <-g.release:
	case <-ctx.Done():
		return target.EventResult{}, ctx.Err()
	}
	return target.EventResult{Status: target.EventSucceeded}, nil
}

// TestStaleOwnerLosesTheLease: executor A stalls (its lease renewal hangs)
// while two of its lifecycle events run; its lease expires; B takes the
// deployment over and finishes it. When A wakes up, its next write fails
// with ErrLeaseLost naming B, it starts no lifecycle event after the
// takeover, and the deployment stays as B left it.
func TestStaleOwnerLosesTheLease(t *testing.T) {
	e := newEnv(t, 4, "CodeDeployDefault.HalfAtATime", nil)
	d := e.create("v1")
	st := &stallingStore{Store: e.mem, stalled: make(chan struct{}), release: make(chan struct{})}
	gate := &gatedInstaller{starting: make(chan struct{}, 16), release: make(chan struct{})}
	platform := e.fleet.Platform()
	platform.Installer = gate
	a, err := deploy.New(st, platform, func(o *deploy.Options) { o.Clock = e.clk; o.ExecutorID = "a" })
	if err != nil {
		t.Fatal(err)
	}
	aDone := make(chan error, 1)
	go func() { _, err := a.Run(e.ctx, d.ID); aDone <- err }()
	for range 2 { // HalfAtATime of 4: two in flight
		select {
		case <-gate.starting:
		case err := <-aDone:
			t.Fatalf("A returned early: %v", err)
		}
	}
	e.clk.Advance(deploy.DefaultLeaseTTL + time.Second) // A's loop tries to renew, and stalls
	<-st.stalled
	startedBefore := gate.started.Load()

	b, err := deploy.New(e.mem, e.fleet.Platform(), func(o *deploy.Options) { o.Clock = e.clk; o.ExecutorID = "b" })
	if err != nil {
		t.Fatal(err)
	}
	got, err := b.Resume(e.ctx, d.ID)
	if err != nil {
		t.Fatalf("B.Resume: %v", err)
	}
	if got.Status != deploy.StatusSucceeded {
		t.Fatalf("B ended the deployment %s", got.Status)
	}
	after := e.targets(d.ID)

	close(gate.release) // A's events return; its workers write their ends
	close(st.release)   // A's renewal goes through
	err = <-aDone
	var lost *deploy.LeaseLostError
	if !errors.Is(err, deploy.ErrLeaseLost) || !errors.As(err, &lost) {
		t.Fatalf("A.Run = %v; want ErrLeaseLost", err)
	}
	if lost.Current.Owner != "b" || lost.Lease.Owner != "a" {
		t.Errorf("A's error names lease %v lost to %v; want a's lost to b's", lost.Lease, lost.Current)
	}
	if n := gate.started.Load(); n != startedBefore {
		t.Errorf("A started %d lifecycle events after its lease expired", n-startedBefore)
	}
	for id, tg := range e.targets(d.ID) {
		if tg.Version != after[id].Version || tg.Status != after[id].Status {
			t.Errorf("target %s changed after B finished: %s v%d → %s v%d", id, after[id].Status, after[id].Version, tg.Status, tg.Version)
		}
	}
	if got := e.get(d.ID); got.Status != deploy.StatusSucceeded {
		t.Errorf("the deployment is %s after A woke up", got.Status)
	}
}

// TestResumeWhileLeasedReturnsErrLeaseHeld: Resume of a deployment that
// another executor runs returns ErrLeaseHeld at once, naming the owner and
// the expiry, and runs nothing.
func TestResumeWhileLeasedReturnsErrLeaseHeld(t *testing.T) {
	e := newEnv(t, 2, "CodeDeployDefault.OneAtATime", nil, func(o *deploy.Options) { o.ExecutorID = "first" })
	d := e.create("v1")
	release := make(chan struct{})
	entered := make(chan struct{}, 1)
	var calls atomic.Int32
	e.fleet.OnCall(func(ctx context.Context, c targettest.Call) error {
		if calls.Add(1) == 1 {
			entered <- struct{}{}
		}
		select {
		case <-release:
		case <-ctx.Done():
		}
		return nil
	})
	done := make(chan result, 1)
	go func() { got, err := e.exec.Run(e.ctx, d.ID); done <- result{got, err} }()
	// The first event is inside the hook (the fleet counts a call running
	// a moment before it calls the hook, so WaitRunning is not enough).
	select {
	case <-entered:
	case <-e.ctx.Done():
		t.Fatal(e.ctx.Err())
	}
	other, err := deploy.New(e.mem, e.fleet.Platform(), func(o *deploy.Options) { o.Clock = e.clk; o.ExecutorID = "second" })
	if err != nil {
		t.Fatal(err)
	}
	_, err = other.Resume(e.ctx, d.ID)
	var held *deploy.LeaseHeldError
	if !errors.As(err, &held) || !errors.Is(err, deploy.ErrLeaseHeld) {
		t.Fatalf("Resume = %v; want a *LeaseHeldError", err)
	}
	if held.Lease.Owner != "first" || !held.Lease.Expires.Equal(e.clk.Now().Add(deploy.DefaultLeaseTTL)) {
		t.Errorf("the error names %v; want executor first until now+%s", held.Lease, deploy.DefaultLeaseTTL)
	}
	if n := calls.Load(); n != 1 {
		t.Errorf("%d lifecycle events started; want only the first executor's one", n)
	}
	close(release)
	if res := <-done; res.err != nil || res.d.Status != deploy.StatusSucceeded {
		t.Fatalf("Run = %v, %v", res.d.Status, res.err)
	}
	// Once the run ended its lease is released: anyone may take it.
	l, err := e.mem.GetLease(e.ctx, d.ID)
	if err != nil || l.Live(e.clk.Now()) {
		t.Errorf("after Run the lease is %v (%v); want it released", l, err)
	}
}

// expirySpy records whether ExpiredLeases found any.
type expirySpy struct {
	deploy.Store
	found atomic.Bool
}

func (s *expirySpy) ExpiredLeases(ctx context.Context, now time.Time, limit int) ([]deploy.Lease, error) {
	ls, err := s.Store.ExpiredLeases(ctx, now, limit)
	if len(ls) > 0 {
		s.found.Store(true)
	}
	return ls, err
}

// TestSupervisorTakesOverAfterACrash: executor A dies in the middle of a
// deployment; B's supervisor resumes it once A's lease has expired — not
// before — within LeaseTTL plus its interval, and it ends Succeeded.
func TestSupervisorTakesOverAfterACrash(t *testing.T) {
	e := newEnv(t, 10, "CodeDeployDefault.OneAtATime", nil)
	crashing := deploytest.CrashAfter(e.mem, 8)
	e.exec = e.newExecutor(crashing)
	d := e.create("v1")
	if _, err := e.exec.Run(e.ctx, d.ID); !errors.Is(err, deploytest.ErrCrashed) {
		t.Fatalf("Run = %v; want the crash", err)
	}
	lease, err := e.mem.GetLease(e.ctx, d.ID)
	if err != nil || !lease.Live(e.clk.Now()) {
		t.Fatalf("the crashed executor's lease is %v (%v); want it live", lease, err)
	}
	crashedAt := e.clk.Now()

	spy := &expirySpy{Store: e.mem}
	b := e.newExecutor(spy)
	const interval = 5 * time.Second
	type resumed struct {
		at  time.Time
		d   *deploy.Deployment
		err error
	}
	got := make(chan resumed, 1)
	ctx, cancel := context.WithCancel(e.ctx)
	supervised := make(chan error, 1)
	go func() {
		supervised <- b.Supervise(ctx, func(o *deploy.SuperviseOptions) {
			o.Interval = interval
			o.Resumed = func(id string, d *deploy.Deployment, err error) { got <- resumed{e.clk.Now(), d, err} }
		})
	}()
	for {
		if err := e.clk.BlockUntil(e.ctx, 1); err != nil { // the supervisor sleeps
			t.Fatal(err)
		}
		if spy.found.Load() {
			break // it found the lease expired and is resuming the deployment
		}
		if e.clk.Now().Sub(crashedAt) > deploy.DefaultLeaseTTL+2*interval {
			t.Fatalf("not taken over %s after the crash", e.clk.Now().Sub(crashedAt))
		}
		e.clk.AdvanceToNext()
	}
	foundAt := e.clk.Now()
	res := <-got
	cancel()
	if err := <-supervised; !errors.Is(err, context.Canceled) {
		t.Errorf("Supervise = %v; want context.Canceled", err)
	}
	if res.err != nil || res.d.Status != deploy.StatusSucceeded {
		t.Fatalf("the supervisor's Resume = %v, %v", res.d, res.err)
	}
	if foundAt.Before(lease.Expires) || foundAt.After(lease.Expires.Add(interval)) {
		t.Errorf("taken over at %s; want between the lease's expiry %s and one interval later", foundAt, lease.Expires)
	}
	if l, _ := e.mem.GetLease(e.ctx, d.ID); l.Token != lease.Token+1 || l.Owner != b.ExecutorID() {
		t.Errorf("the lease after the takeover is %v; want token %d of %s", l, lease.Token+1, b.ExecutorID())
	}
}

// TestLeaseRenewalIsPerDeploymentNotPerTarget: a deployment whose
// lifecycle events take a virtual minute each renews its lease once per
// LeaseTTL/3 of its duration, not per target or per write. (One target
// at a time, so that the fake clock moves only when both the event and
// the loop wait on it.)
func TestLeaseRenewalIsPerDeploymentNotPerTarget(t *testing.T) {
	e := newEnv(t, 6, "CodeDeployDefault.OneAtATime", nil)
	var mu sync.Mutex
	ops := map[deploytest.Op]int{}
	fs := deploytest.NewFaultStore(e.mem, deploytest.FaultOptions{Fail: func(w deploytest.Write) bool {
		mu.Lock()
		ops[w.Op]++
		mu.Unlock()
		return false
	}})
	e.exec = e.newExecutor(fs)
	e.fleet.OnCall(func(ctx context.Context, c targettest.Call) error { return clock.Sleep(ctx, e.clk, time.Minute) })
	d := e.create("v1")
	start := e.clk.Now()
	// Time moves when three timers are pending: the runner's wait (its poll
	// and lease renewal), the watchdog of the event time limits, and the
	// event's sleep.
	res := advanceWhile(e.ctx, e.clk, 3, func() result { got, err := e.exec.Run(e.ctx, d.ID); return result{got, err} })
	if res.err != nil || res.d.Status != deploy.StatusSucceeded {
		t.Fatalf("Run = %v, %v", res.d, res.err)
	}
	took := e.clk.Now().Sub(start)
	period := deploy.DefaultLeaseTTL / 3
	want := int(took / period)
	mu.Lock()
	defer mu.Unlock()
	if n := ops[deploytest.OpRenewLease]; n < want-1 || n > want+1 {
		t.Errorf("%d lease renewals in %s; want about %d (one per %s)", n, took, want, period)
	}
	if ops[deploytest.OpAcquireLease] != 1 || ops[deploytest.OpReleaseLease] != 1 {
		t.Errorf("acquired %d and released %d times; want once each", ops[deploytest.OpAcquireLease], ops[deploytest.OpReleaseLease])
	}
	t.Logf("%s of deployment: %d renewals, %s", took, ops[deploytest.OpRenewLease], fmt.Sprint(ops))
}

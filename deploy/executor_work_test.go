package deploy_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/fleetdeploy/fleetdeploy/config"
	"github.com/fleetdeploy/fleetdeploy/deploy"
	"github.com/fleetdeploy/fleetdeploy/target"
	"github.com/fleetdeploy/fleetdeploy/target/targettest"
)

// Every target the planner hands out gets a worker at once, also when the
// work is handed out by a worker's report rather than by the loop: with a
// window of 20, the first lifecycle event of each wave of 20 targets waits
// until all 20 are running it, which deadlocks unless 20 run at once.
func TestEveryTargetInTheWindowRunsAtOnce(t *testing.T) {
	runWaves(t, 60, 20)
}

// The same with a window of 1,000: the queue is then long enough for
// workers to take runs of items (see runner.claimRunLocked), and the items
// a worker holds while it blocks must be started by others.
func TestItemsHeldInRunsRunAtOnce(t *testing.T) {
	runWaves(t, 2000, 1000)
}

// runWaves runs n targets in waves of window, the first lifecycle event of
// each wave waiting until the whole wave is running it, and checks that
// window targets were in flight at most.
func runWaves(t *testing.T, n, window int) {
	t.Helper()
	waves := make([]chan struct{}, n/window)
	for i := range waves {
		waves[i] = make(chan struct{})
	}
	e, d := runHeld(t, n, window, fmt.Sprintf("waves of %d must run at once", window), func(k int) chan struct{} {
		wave := waves[(k-1)/window]
		if k%window == 0 {
			close(wave)
		}
		return wave
	})
	if w := e.fleet.MaxInFlight(d.ID); w != window {
		t.Errorf("%d targets in flight at most; want the window, %d", w, window)
	}
}

// A worker that finishes a target while the queue is long leaves its
// completion for a later report (see runner.leave); the report still
// comes when every worker then blocks. With a window of 200, the first 40
// targets to start end at once and every later one blocks until 240 have
// started: the last 40 of them can start only once the planner has heard
// of the first 40, whoever reports them.
func TestLeftCompletionsAreReportedWhenEveryWorkerBlocks(t *testing.T) {
	const n, window, instant = 600, 200, 40
	release := make(chan struct{})
	runHeld(t, n, window, fmt.Sprintf("%d before any blocked one ends", instant+window), func(k int) chan struct{} {
		if k == instant+window {
			close(release)
		}
		if k <= instant {
			return nil
		}
		return release
	})
}

// runHeld runs an in-place deployment of n targets, at most window of
// them in flight, whose first lifecycle event is held: the k-th target to
// reach it (from 1) waits until the channel hold(k) returns is closed (nil:
// it goes on at once). hold is called in the order the targets arrive, one
// call at a time, and may close channels. A run that does not succeed —
// or hangs: it is given a minute — fails the test, saying how many
// targets reached the event and what was expected (want); so does one
// in which not every target succeeded. It returns the env and the
// deployment.
func runHeld(t *testing.T, n, window int, want string, hold func(k int) chan struct{}) (*env, *deploy.Deployment) {
	t.Helper()
	cfg := config.Config{Name: fmt.Sprintf("Window%d", window), ComputePlatform: config.Server,
		MinimumHealthyHosts: &config.MinimumHealthyHosts{Type: config.HostCount, Value: n - window}}
	e := newEnv(t, n, cfg.Name, nil, func(o *deploy.Options) { o.Configs = []config.Config{cfg} })
	events, err := target.Sequence{Platform: config.Server, Kind: target.KindInPlace}.Events()
	if err != nil {
		t.Fatal(err)
	}
	var (
		mu      sync.Mutex
		arrived int
	)
	e.fleet.OnCall(func(ctx context.Context, c targettest.Call) error {
		if c.Event != events[0] {
			return nil
		}
		mu.Lock()
		arrived++
		wait := hold(arrived)
		mu.Unlock()
		if wait == nil {
			return nil
		}
		select {
		case <-wait:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	})
	d := e.create("v1")
	// A guard against a hang, not a timing assertion: a run whose held
	// targets are never released never ends.
	ctx, cancel := context.WithTimeout(e.ctx, time.Minute)
	defer cancel()
	got, err := e.exec.Run(ctx, d.ID)
	if err != nil || got.Status != deploy.StatusSucceeded {
		mu.Lock()
		defer mu.Unlock()
		t.Fatalf("Run = %v, %v; %d targets reached the first event (%s)", got.Status, err, arrived, want)
	}
	if got.Overview.Succeeded != int64(n) {
		t.Errorf("%d targets succeeded; want %d", got.Overview.Succeeded, n)
	}
	return e, got
}

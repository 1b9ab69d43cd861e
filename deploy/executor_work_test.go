package deploy_test

import (
	"context"
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
	const n, window = 60, 20
	cfg := config.Config{Name: "Window20", ComputePlatform: config.Server,
		MinimumHealthyHosts: &config.MinimumHealthyHosts{Type: config.HostCount, Value: n - window}}
	e := newEnv(t, n, cfg.Name, nil, func(o *deploy.Options) { o.Configs = []config.Config{cfg} })
	events, err := target.Sequence{Platform: config.Server, Kind: target.KindInPlace}.Events()
	if err != nil {
		t.Fatal(err)
	}
	var (
		mu      sync.Mutex
		arrived int
		waves   = make([]chan struct{}, n/window)
	)
	for i := range waves {
		waves[i] = make(chan struct{})
	}
	e.fleet.OnCall(func(ctx context.Context, c targettest.Call) error {
		if c.Event != events[0] {
			return nil
		}
		mu.Lock()
		arrived++
		wave := waves[(arrived-1)/window]
		if arrived%window == 0 {
			close(wave)
		}
		mu.Unlock()
		select {
		case <-wave:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	})
	d := e.create("v1")
	// A guard against a hang, not a timing assertion: a run that cannot
	// fill its window never ends.
	ctx, cancel := context.WithTimeout(e.ctx, time.Minute)
	defer cancel()
	got, err := e.exec.Run(ctx, d.ID)
	if err != nil || got.Status != deploy.StatusSucceeded {
		mu.Lock()
		defer mu.Unlock()
		t.Fatalf("Run = %v, %v; %d targets reached the first event (waves of %d must run at once)", got.Status, err, arrived, window)
	}
	if w := e.fleet.MaxInFlight(d.ID); w != window {
		t.Errorf("%d targets in flight at most; want the window, %d", w, window)
	}
	if got.Overview.Succeeded != n {
		t.Errorf("%d targets succeeded; want %d", got.Overview.Succeeded, n)
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
	cfg := config.Config{Name: "Window200", ComputePlatform: config.Server,
		MinimumHealthyHosts: &config.MinimumHealthyHosts{Type: config.HostCount, Value: n - window}}
	e := newEnv(t, n, cfg.Name, nil, func(o *deploy.Options) { o.Configs = []config.Config{cfg} })
	events, err := target.Sequence{Platform: config.Server, Kind: target.KindInPlace}.Events()
	if err != nil {
		t.Fatal(err)
	}
	var (
		mu      sync.Mutex
		arrived int
		release = make(chan struct{})
	)
	e.fleet.OnCall(func(ctx context.Context, c targettest.Call) error {
		if c.Event != events[0] {
			return nil
		}
		mu.Lock()
		arrived++
		k := arrived
		if k == instant+window {
			close(release)
		}
		mu.Unlock()
		if k <= instant {
			return nil
		}
		select {
		case <-release:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	})
	d := e.create("v1")
	// A guard against a hang, not a timing assertion.
	ctx, cancel := context.WithTimeout(e.ctx, time.Minute)
	defer cancel()
	got, err := e.exec.Run(ctx, d.ID)
	if err != nil || got.Status != deploy.StatusSucceeded {
		mu.Lock()
		defer mu.Unlock()
		t.Fatalf("Run = %v, %v; %d targets started; want %d before any blocked one ends", got.Status, err, arrived, instant+window)
	}
	if got.Overview.Succeeded != n {
		t.Errorf("%d targets succeeded; want %d", got.Overview.Succeeded, n)
	}
}

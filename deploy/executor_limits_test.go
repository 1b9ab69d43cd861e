package deploy_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/fleetdeploy/fleetdeploy/deploy"
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

// runBounded runs deployment id, jumping the fake clock from deadline to
// deadline, and fails the test once more than limit of virtual time has
// passed without the run ending.
func runBounded(t *testing.T, e *env, id string, limit time.Duration) result {
	t.Helper()
	start := e.clk.Now()
	done := make(chan result, 1)
	go func() { d, err := e.exec.Run(e.ctx, id); done <- result{d, err} }()
	for {
		select {
		case res := <-done:
			return res
		default:
		}
		ctx, cancel := context.WithTimeout(e.ctx, 50*time.Millisecond)
		_ = e.clk.BlockUntil(ctx, 1)
		cancel()
		if e.clk.Now().Sub(start) > limit {
			t.Fatalf("the run did not end within %s of virtual time", limit)
		}
		e.clk.AdvanceToNext()
	}
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
// on the executor's clock, with the agent's ScriptTimedOut.
func TestEventTimeoutInstallerNeverReturns(t *testing.T) {
	release, entered := make(chan struct{}), make(chan struct{})
	t.Cleanup(func() { close(release) })
	e := newEnv(t, 1, "CodeDeployDefault.AllAtOnce", nil, func(o *deploy.Options) { o.EventTimeout = 10 * time.Minute })
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
		if got := ev.EndTime.Sub(ev.StartTime); got != 10*time.Minute {
			t.Errorf("AfterInstall took %s; want the limit, 10m", got)
		}
		return
	}
	t.Fatalf("no AfterInstall event in %+v", tg.LifecycleEvents)
}

// A TrafficController whose AllowTraffic never returns fails the event at
// Options.TrafficTimeout.
func TestTrafficTimeoutControllerNeverReturns(t *testing.T) {
	release, entered := make(chan struct{}), make(chan struct{})
	t.Cleanup(func() { close(release) })
	e := newEnv(t, 1, "CodeDeployDefault.AllAtOnce", func(g *deploy.Group) {
		g.DeploymentStyle = deploy.DeploymentStyle{DeploymentType: target.InPlace, DeploymentOption: deploy.WithTrafficControl}
		g.LoadBalancerInfo = target.LoadBalancerInfo{TargetGroupInfoList: []target.NameInfo{{Name: "web"}}}
	}, func(o *deploy.Options) { o.TrafficTimeout = 5 * time.Minute })
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
			if got := ev.EndTime.Sub(ev.StartTime); got != 5*time.Minute {
				t.Errorf("AllowTraffic took %s; want 5m", got)
			}
			return
		}
	}
	t.Fatal("no AllowTraffic event")
}

// A deployment still running at its maximum run time ends Failed with
// TIMEOUT, and rolls back when the group rolls back on DEPLOYMENT_FAILURE.
func TestMaxRunTimeEndsTimeoutAndRollsBack(t *testing.T) {
	e := newEnv(t, 3, "CodeDeployDefault.OneAtATime", autoRollback(deploy.AutoRollbackDeploymentFailure),
		func(o *deploy.Options) { o.MaxRunTime.InPlace = 2 * time.Hour })
	first := e.deploy("v1")
	if first.Status != deploy.StatusSucceeded {
		t.Fatalf("v1: %s", first.Status)
	}
	// Every v2 event takes 20 minutes: 3 targets one at a time need far
	// more than two hours. The rollback's events are instant.
	var v2 string
	e.fleet.OnCall(targettest.Delay(func(d time.Duration) <-chan time.Time { return e.clk.NewTimer(d).C() },
		func(c targettest.Call) time.Duration {
			if c.DeploymentID != v2 {
				return 0
			}
			return 20 * time.Minute
		}))
	d := e.create("v2")
	v2 = d.ID
	res := runBounded(t, e, d.ID, 10*time.Hour)
	if res.err != nil {
		t.Fatal(res.err)
	}
	got := res.d
	if got.Status != deploy.StatusFailed || got.ErrorInformation.Code != plan.Timeout {
		t.Fatalf("v2: %s %s; want Failed TIMEOUT", got.Status, got.ErrorInformation.Code)
	}
	if took := got.CompleteTime.Sub(got.StartTime); took < 2*time.Hour {
		t.Errorf("v2 ran %s; it must not end before its limit, 2h", took)
	}
	if got.RollbackInfo.RollbackDeploymentID == "" {
		t.Fatalf("no rollback: %+v", got.RollbackInfo)
	}
}

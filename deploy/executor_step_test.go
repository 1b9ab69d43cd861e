package deploy_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/fleetdeploy/fleetdeploy/config"
	"github.com/fleetdeploy/fleetdeploy/deploy"
	"github.com/fleetdeploy/fleetdeploy/deploy/plan"
	"github.com/fleetdeploy/fleetdeploy/target"
	"github.com/fleetdeploy/fleetdeploy/target/targettest"
)

// Step drives a deployment one decision at a time, with all state in the
// store: each call may come from a new executor. It runs the targets a
// decision hands out to completion, reports waits with WaitUntil, and
// finishes the deployment like Run.
func TestStepDrivesADeployment(t *testing.T) {
	zonal := config.Config{Name: "Zonal", ComputePlatform: config.Server,
		MinimumHealthyHosts: &config.MinimumHealthyHosts{Type: config.FleetPercent, Value: 50},
		ZonalConfig:         &config.ZonalConfig{MonitorDurationInSeconds: ptr(int64(600))}}
	e := newEnv(t, 6, "Zonal", nil, withConfigs(zonal))
	e.seed(nil)
	d := e.create("v1")
	var (
		rounds   int
		statuses []deploy.DeploymentStatus
		waited   time.Duration
	)
	for {
		x := e.newExecutor(e.store) // a fresh process every round
		res, err := x.Step(e.ctx, d.ID)
		if err != nil {
			t.Fatal(err)
		}
		rounds++
		statuses = append(statuses, res.Deployment.Status)
		if e.fleet.Running() != 0 {
			t.Fatal("work still runs after Step returned")
		}
		if res.Done {
			break
		}
		if !res.WaitUntil.IsZero() {
			waited += res.WaitUntil.Sub(e.clk.Now())
			e.clk.Set(res.WaitUntil)
		}
		if rounds > 50 {
			t.Fatal("no end after 50 rounds")
		}
	}
	got := e.get(d.ID)
	if got.Status != deploy.StatusSucceeded || !slices.Contains(statuses, deploy.StatusBaking) || waited != 20*time.Minute {
		t.Errorf("status %s after %d rounds %v, waited %s; want Succeeded with two 10-minute bakes", got.Status, rounds, statuses, waited)
	}
	if w := e.fleet.MaxInFlight(d.ID); w > 2 {
		t.Errorf("%d in flight; one zone of 2 at a time", w)
	}
	checkHealthAfter(t, e, got, "v0", "v1")
	if res, err := e.exec.Step(e.ctx, d.ID); err != nil || !res.Done {
		t.Errorf("Step of a finished deployment = %+v, %v", res, err)
	}
}

// Fleetdeploy's decision (zones) and API Reference, AlarmConfiguration: during
// a zonal monitor wait the deployment is Baking and its alarms are still
// polled; an alarm in ALARM stops it with ALARM_ACTIVE and, with
// DEPLOYMENT_STOP_ON_ALARM, rolls it back.
func TestAlarmStopsDeployment(t *testing.T) {
	zonal := config.Config{Name: "Zonal", ComputePlatform: config.Server,
		MinimumHealthyHosts: &config.MinimumHealthyHosts{Type: config.HostCount, Value: 0},
		ZonalConfig:         &config.ZonalConfig{MonitorDurationInSeconds: ptr(int64(3600))}}
	alarms := &fakeAlarms{states: map[string]target.AlarmState{"5xx": target.AlarmOK, "latency": target.AlarmOK}}
	e := newEnv(t, 6, "Zonal", func(g *deploy.Group) {
		g.AlarmConfiguration = deploy.AlarmConfiguration{Enabled: true, Alarms: []deploy.Alarm{{Name: "5xx"}, {Name: "latency"}}}
		g.AutoRollbackConfiguration = deploy.AutoRollbackConfiguration{Enabled: true, Events: []deploy.AutoRollbackEvent{deploy.AutoRollbackDeploymentStopOnAlarm}}
		// advanceWhile with one waiter runs virtual time ahead of the
		// workers: the time limits are off (see advanceWhile).
	}, withConfigs(zonal), deploy.NoTimeLimits, func(o *deploy.Options) {
		o.AlarmSource = alarms
		o.PollInterval = time.Minute
	})
	e.seed(nil)
	d := e.create("v1")
	done := make(chan result, 1)
	go func() { got, err := e.exec.Run(e.ctx, d.ID); done <- result{got, err} }()
	// Wait for the first monitor wait, then raise the alarm.
	if err := e.rec.Wait(e.ctx, func(evs []deploy.Event, _ []deploy.Notification) bool {
		return slices.ContainsFunc(evs, func(ev deploy.Event) bool { return ev.Status == deploy.StatusBaking })
	}); err != nil {
		t.Fatal(err)
	}
	alarms.set("latency", target.AlarmAlarm)
	res := advanceWhile(e.ctx, e.clk, 1, func() result { return <-done })
	if res.err != nil {
		t.Fatal(res.err)
	}
	got := e.get(d.ID)
	if got.Status != deploy.StatusStopped || got.ErrorInformation.Code != plan.AlarmActive ||
		got.StopRequest == nil || got.StopRequest.Alarm != "latency" {
		t.Fatalf("status %s %+v, stop request %+v", got.Status, got.ErrorInformation, got.StopRequest)
	}
	if waited := got.CompleteTime.Sub(got.StartTime); waited > 2*time.Minute {
		t.Errorf("the alarm was noticed after %s; polling is every minute", waited)
	}
	// No earlier revision: no rollback, and it says so.
	if got.RollbackInfo.RollbackMessage == "" {
		t.Errorf("rollback info %+v", got.RollbackInfo)
	}
}

type fakeAlarms struct {
	mu     chanMutex
	states map[string]target.AlarmState
	err    error
}

type chanMutex struct{ ch chan struct{} }

func (m *chanMutex) lock() {
	if m.ch == nil {
		m.ch = make(chan struct{}, 1)
	}
	m.ch <- struct{}{}
}
func (m *chanMutex) unlock() { <-m.ch }

func (a *fakeAlarms) set(name string, s target.AlarmState) {
	a.mu.lock()
	defer a.mu.unlock()
	a.states[name] = s
}

func (a *fakeAlarms) AlarmStates(_ context.Context, names []string) ([]target.AlarmState, error) {
	a.mu.lock()
	defer a.mu.unlock()
	if a.err != nil {
		return nil, a.err
	}
	out := make([]target.AlarmState, len(names))
	for i, n := range names {
		s, ok := a.states[n]
		if !ok {
			return nil, fmt.Errorf("alarm %s: %w", n, target.ErrNotFound)
		}
		out[i] = s
	}
	return out, nil
}

// API Reference, AlarmConfiguration, ignorePollAlarmFailure: alarms that
// cannot be read stop the deployment, unless the group ignores poll
// failures.
func TestAlarmPollFailure(t *testing.T) {
	for _, ignore := range []bool{false, true} {
		t.Run(fmt.Sprint(ignore), func(t *testing.T) {
			alarms := &fakeAlarms{err: errors.New("CloudWatch unreachable")}
			e := newEnv(t, 2, "CodeDeployDefault.OneAtATime", func(g *deploy.Group) {
				g.AlarmConfiguration = deploy.AlarmConfiguration{Enabled: true, IgnorePollAlarmFailure: ignore, Alarms: []deploy.Alarm{{Name: "5xx"}}}
				// advanceWhile with one waiter moves the fake clock
				// whenever any timer is pending (the poll always is)
				// without waiting for the workers, so virtual time runs
				// ahead of them: the default time limits would cut the
				// run short. They are off.
			}, deploy.NoTimeLimits, func(o *deploy.Options) { o.AlarmSource = alarms })
			e.fleet.OnCall(targettest.Delay(func(d time.Duration) <-chan time.Time { return e.clk.NewTimer(d).C() },
				func(targettest.Call) time.Duration { return time.Minute }))
			d := e.create("v1")
			res := advanceWhile(e.ctx, e.clk, 1, func() result { got, err := e.exec.Run(e.ctx, d.ID); return result{got, err} })
			if res.err != nil {
				t.Fatal(res.err)
			}
			want := deploy.StatusStopped
			if ignore {
				want = deploy.StatusSucceeded
			}
			if res.d.Status != want {
				t.Errorf("status %s %+v; want %s", res.d.Status, res.d.ErrorInformation, want)
			}
		})
	}
}

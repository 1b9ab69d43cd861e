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

// scheduledShift is one traffic shift of a schedule: the replacement's
// weight once it is made, and when, counted from the first shift.
type scheduledShift struct {
	weight int
	at     time.Duration
}

// String returns e.g. "10%@5m0s".
func (s scheduledShift) String() string { return fmt.Sprintf("%d%%@%s", s.weight, s.at) }

// wantSchedule is the traffic schedule of the User Guide's "Working with
// deployment configurations in CodeDeploy" (with the linear schedule's last
// step as fleetdeploy's decision, see package config), computed here by the
// rules themselves: all at once is 100 at 0; a canary p every i is p at 0 and
// 100 at i; a linear p every i is p, 2p, 3p, … at 0, i, 2i, …, capped at 100,
// the shift to 100 being its own step one interval after the last one below
// 100.
func wantSchedule(r *config.TrafficRouting) []scheduledShift {
	minutes := func(n int) time.Duration { return time.Duration(n) * time.Minute }
	switch r.Type {
	case config.TimeBasedCanary:
		c := r.TimeBasedCanary
		return []scheduledShift{{c.CanaryPercentage, 0}, {100, minutes(c.CanaryInterval)}}
	case config.TimeBasedLinear:
		l := r.TimeBasedLinear
		var out []scheduledShift
		for k := 1; ; k++ {
			w := min(k*l.LinearPercentage, 100)
			out = append(out, scheduledShift{w, minutes((k - 1) * l.LinearInterval)})
			if w == 100 {
				return out
			}
		}
	}
	return []scheduledShift{{100, 0}}
}

// weightAt returns the most traffic schedule allows on the replacement at
// offset from its first shift.
func weightAt(schedule []scheduledShift, offset time.Duration) int {
	w := 0
	for _, s := range schedule {
		if s.at <= offset {
			w = max(w, s.weight)
		}
	}
	return w
}

// "Working with deployment configurations in CodeDeploy": every predefined
// Lambda and ECS configuration, a custom canary and a custom linear whose
// step does not divide 100, run through the executor on the fake clock: the
// production shifts have the schedule's weights at its virtual times, and
// nothing else moves traffic.
func TestTrafficSchedules(t *testing.T) {
	cfgs := []config.Config{
		{Name: "Custom.LambdaCanary25Percent7Minutes", ComputePlatform: config.Lambda, TrafficRouting: &config.TrafficRouting{
			Type: config.TimeBasedCanary, TimeBasedCanary: &config.Canary{CanaryPercentage: 25, CanaryInterval: 7}}},
		{Name: "Custom.LambdaLinear30PercentEvery10Minutes", ComputePlatform: config.Lambda, TrafficRouting: &config.TrafficRouting{
			Type: config.TimeBasedLinear, TimeBasedLinear: &config.Linear{LinearPercentage: 30, LinearInterval: 10}}},
		{Name: "Custom.ECSLinear30PercentEvery10Minutes", ComputePlatform: config.ECS, TrafficRouting: &config.TrafficRouting{
			Type: config.TimeBasedLinear, TimeBasedLinear: &config.Linear{LinearPercentage: 30, LinearInterval: 10}}},
	}
	custom := len(cfgs)
	for _, c := range config.PredefinedConfigs() {
		if c.ComputePlatform == config.Lambda || c.ComputePlatform == config.ECS {
			cfgs = append(cfgs, c)
		}
	}
	if len(cfgs) != custom+14 {
		t.Fatalf("%d predefined Lambda and ECS configurations; the User Guide lists 14", len(cfgs)-custom)
	}
	for i, cfg := range cfgs {
		t.Run(cfg.Name, func(t *testing.T) {
			var opts []func(*deploy.Options)
			groupCfg := cfg.Name
			if i < custom {
				// The group names a predefined configuration; the
				// deployment overrides it with the custom one.
				opts = append(opts, withConfigs(cfg))
				groupCfg = "CodeDeployDefault." + string(cfg.ComputePlatform) + "AllAtOnce"
			}
			var (
				e       *env
				shifter *targettest.Shifter
				route   target.TrafficRoute
				loc     = lambdaSpec("2")
			)
			if cfg.ComputePlatform == config.Lambda {
				e, shifter, _, _ = serviceEnv(t, config.Lambda, groupCfg, nil, opts...)
				route = target.TrafficRoute{ResourceID: "checkout:live"}
			} else {
				e, shifter, _, _ = serviceEnv(t, config.ECS, groupCfg, ecsServiceGroup(false), opts...)
				route = target.TrafficRoute{ResourceID: "prod/web"}
				shifter.SetRoute(target.TrafficRoute{ResourceID: "prod/web", Test: true}, target.TrafficSplit{Original: "ts-old"})
				loc = ecsLocation()
			}
			shifter.SetRoute(route, target.TrafficSplit{Original: "1"})
			var (
				mu    sync.Mutex
				start time.Time
				got   []string
			)
			shifter.OnShift(func(_ context.Context, req target.ShiftRequest) error {
				if req.Route.Test {
					return nil
				}
				mu.Lock()
				defer mu.Unlock()
				if start.IsZero() {
					start = e.clk.Now()
				}
				got = append(got, fmt.Sprintf("%d%%@%s", req.Split.Weight, e.clk.Now().Sub(start)))
				return nil
			})
			d, err := e.exec.CreateDeployment(e.ctx, deploy.DeploymentInput{ApplicationName: "shop", GroupName: "prod", Revision: loc, ConfigName: cfg.Name})
			if err != nil {
				t.Fatal(err)
			}
			if end := stepToEnd(t, e, d.ID); end.Status != deploy.StatusSucceeded {
				t.Fatalf("status %s %+v", end.Status, end.ErrorInformation)
			}
			mu.Lock()
			defer mu.Unlock()
			if want := wantSchedule(cfg.TrafficRouting); fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("shifts %v; want %v", got, want)
			}
		})
	}
}

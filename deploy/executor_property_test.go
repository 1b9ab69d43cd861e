package deploy_test

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/fleetdeploy/fleetdeploy/config"
	"github.com/fleetdeploy/fleetdeploy/deploy"
	"github.com/fleetdeploy/fleetdeploy/health"
	"github.com/fleetdeploy/fleetdeploy/target"
	"github.com/fleetdeploy/fleetdeploy/target/targettest"
)

// genConfig draws a Server configuration for n targets: predefined,
// HOST_COUNT or FLEET_PERCENT, sometimes zonal.
func genConfig(t *rapid.T, n int) (config.Config, bool) {
	var c config.Config
	predefined := true
	switch rapid.IntRange(0, 4).Draw(t, "configKind") {
	case 0:
		c, _ = config.Predefined("CodeDeployDefault.AllAtOnce")
	case 1:
		c, _ = config.Predefined("CodeDeployDefault.HalfAtATime")
	case 2:
		c, _ = config.Predefined("CodeDeployDefault.OneAtATime")
	case 3:
		c, predefined = hostCount(rapid.IntRange(0, n).Draw(t, "hostCount")), false
	default:
		c, predefined = fleetPercent(rapid.IntRange(0, 99).Draw(t, "fleetPercent")), false
	}
	if !predefined && rapid.Bool().Draw(t, "zonal") {
		z := &config.ZonalConfig{MonitorDurationInSeconds: ptr(int64(rapid.IntRange(0, 3).Draw(t, "monitor") * 60))}
		if rapid.Bool().Draw(t, "perZone") {
			z.MinimumHealthyHostsPerZone = &config.MinimumHealthyHosts{Type: config.FleetPercent, Value: rapid.IntRange(0, 90).Draw(t, "perZonePercent")}
		}
		c.ZonalConfig = z
		c.Name += "Zonal"
	}
	return c, predefined
}

var classes = []string{"Unhealthy", "Healthy/Unknown", "Healthy/Old", ""}

// Four invariants over random fleets, health, configurations,
// latencies and failure schedules, against the real executor with the fake
// fleet and the fake clock:
//
//  1. healthy targets never drop below the minimum (per zone too), unless
//     the fleet starts below it, and never more than W are offline;
//  2. with one target at a time (Options.Concurrency 1) targets start in
//     health order, zone by zone;
//  3. Succeeded only if the success rule holds; otherwise a reason;
//  4. health afterwards follows the User Guide's "CodeDeploy instance health".
func TestInvariantsProperty(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		n := rapid.IntRange(1, 16).Draw(rt, "n")
		cfg, predefined := genConfig(rt, n)
		serial := rapid.Bool().Draw(rt, "serial")
		lb := rapid.Bool().Draw(rt, "loadBalancer")
		opts := []func(*deploy.Options){func(o *deploy.Options) {
			o.PollInterval = 1000 * time.Hour
			if serial {
				o.Concurrency = 1
			}
		}}
		if !predefined {
			opts = append(opts, withConfigs(cfg))
		}
		e := newEnv(rt, n, cfg.Name, func(g *deploy.Group) {
			if lb {
				g.DeploymentStyle = deploy.DeploymentStyle{DeploymentOption: deploy.WithTrafficControl}
				g.LoadBalancerInfo = target.LoadBalancerInfo{ELBInfoList: []target.NameInfo{{Name: "clb"}}}
			}
			// advanceWhile with one waiter runs virtual time ahead of the
			// workers: the time limits are off (see advanceWhile).
		}, append(opts, deploy.NoTimeLimits)...)
		states := map[string]string{}
		for _, tg := range e.fleet.Targets() {
			states[tg.ID] = rapid.SampledFrom(classes).Draw(rt, "class "+tg.ID)
			switch rapid.IntRange(0, 5).Draw(rt, "outcome "+tg.ID) {
			case 0:
				ev := rapid.SampledFrom([]target.LifecycleEvent{target.ApplicationStop, target.Install, target.ValidateService}).Draw(rt, "failing event")
				e.fleet.Script(tg.ID, ev, targettest.Fail(target.CodeScriptFailed, "scripted failure"))
			case 1:
				e.fleet.Script(tg.ID, target.AfterInstall, targettest.Error(fmt.Errorf("agent gone: %w", target.ErrTargetUnavailable)))
			}
		}
		e.seed(states)
		delays := map[string]time.Duration{}
		for _, tg := range e.fleet.Targets() {
			delays[tg.ID] = time.Duration(rapid.IntRange(0, 3).Draw(rt, "delay "+tg.ID)) * time.Second
		}
		e.fleet.OnCall(targettest.Delay(func(d time.Duration) <-chan time.Time { return e.clk.NewTimer(d).C() },
			func(c targettest.Call) time.Duration { return delays[c.Target] }))
		d := e.create("v1")
		res := advanceWhile(e.ctx, e.clk, 1, func() result { got, err := e.exec.Run(e.ctx, d.ID); return result{got, err} })
		if res.err != nil {
			rt.Fatalf("Run: %v", res.err)
		}
		got := res.d
		tgs := e.targets(d.ID)
		m, err := health.ForConfig(cfg, n)
		if err != nil {
			rt.Fatal(err)
		}

		// Invariant 1: the healthy count over the observed transitions.
		healthy := map[string]bool{}
		zoneOf := map[string]string{}
		start, zoneStart := 0, map[string]int{}
		for id, tg := range tgs {
			zoneOf[id] = tg.Target.Zone
			if tg.InitialInstanceHealth == health.Healthy {
				healthy[id] = true
				start++
				zoneStart[tg.Target.Zone]++
			}
		}
		count, zoneCount := start, copyMap(zoneStart)
		bound := min(m.Required, start)
		var zoneBound map[string]int
		if cfg.ZonalConfig != nil {
			zoneBound = map[string]int{}
			zn := map[string]int{}
			for _, tg := range tgs {
				zn[tg.Target.Zone]++
			}
			for z, k := range zn {
				mz, _ := health.PerZone(*cfg.ZonalConfig, k)
				zoneBound[z] = min(mz, zoneStart[z])
			}
		}
		order := []string{}
		for _, ev := range e.rec.Events() {
			if ev.Kind != deploy.EventTargetStatus || ev.DeploymentID != d.ID {
				continue
			}
			was, now := healthy[ev.TargetID], healthy[ev.TargetID]
			switch ev.TargetStatus {
			case target.TargetInProgress:
				order = append(order, ev.TargetID)
				now = false
			case target.TargetSucceeded:
				now = true
			case target.TargetFailed:
				now = false
			}
			if was != now {
				delta := 1
				if was {
					delta = -1
				}
				count += delta
				zoneCount[zoneOf[ev.TargetID]] += delta
				healthy[ev.TargetID] = now
			}
			if count < bound {
				rt.Fatalf("invariant 1: %d healthy after %s → %s; the minimum is %d (%d healthy at the start)", count, ev.TargetID, ev.TargetStatus, m.Required, start)
			}
			if z := zoneOf[ev.TargetID]; zoneBound != nil && zoneCount[z] < zoneBound[z] {
				rt.Fatalf("invariant 1: zone %s has %d healthy; its minimum is %d", z, zoneCount[z], zoneBound[z])
			}
		}
		if w := e.fleet.MaxInFlight(d.ID); w > max(m.Window, 1) {
			rt.Fatalf("invariant 1: %d targets in flight; the window is %d", w, m.Window)
		}

		// Invariant 2: health order (zone by zone when zonal).
		if serial && cfg.ZonalConfig == nil {
			cmp := func(a, b string) int {
				ta, tb := tgs[a], tgs[b]
				return health.Compare(ta.Health(), tb.Health())
			}
			if !slices.IsSortedFunc(order, cmp) {
				rt.Fatalf("invariant 2: targets started in the order %v", order)
			}
		}

		// Invariant 3: the success rule.
		var tally health.Tally
		var overview deploy.DeploymentOverview
		for _, tg := range tgs {
			overview.Add(tg.Status, 1)
			switch tg.Status {
			case target.TargetSucceeded:
				tally.Succeeded++
			case target.TargetFailed:
				tally.Failed++
			default:
				tally.NotAttempted++
			}
		}
		if got.Overview != overview {
			rt.Fatalf("the deployment's overview %+v; its targets' statuses count %+v", got.Overview, overview)
		}
		if got.Status == deploy.StatusSucceeded {
			if tally.Succeeded < m.SuccessesNeeded() || m.OneAtATime() && (tally.NotAttempted > 0 || tally.Failed > 1) {
				rt.Fatalf("invariant 3: Succeeded with %+v (%s)", tally, m.Explain())
			}
		} else if got.Status != deploy.StatusFailed || got.ErrorInformation.Code == "" || got.ErrorInformation.Message == "" {
			rt.Fatalf("invariant 3: ended %s %+v", got.Status, got.ErrorInformation)
		}

		// Invariant 4: health afterwards.
		checkHealthAfter(rt, e, got, "v0", "v1")
		if v := e.fleet.Violations(); len(v) > 0 {
			rt.Fatalf("role contract violations: %v", v)
		}
	})
}

func copyMap[K comparable, V any](m map[K]V) map[K]V {
	out := make(map[K]V, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

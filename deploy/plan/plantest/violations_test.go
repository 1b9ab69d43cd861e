package plantest_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/fleetdeploy/fleetdeploy/config"
	"github.com/fleetdeploy/fleetdeploy/deploy/plan"
	"github.com/fleetdeploy/fleetdeploy/deploy/plan/plantest"
	"github.com/fleetdeploy/fleetdeploy/health"
	"github.com/fleetdeploy/fleetdeploy/target"
)

// st is a Deploy step at the given second.
func st(at plan.Seconds, start, ok, failed []string) plan.ScheduleStep {
	return plan.ScheduleStep{At: at, Phase: plan.PhaseDeploy, Status: plan.InProgress,
		Start: orEmpty(start), Succeeded: orEmpty(ok), Failed: orEmpty(failed)}
}

func zst(at plan.Seconds, zone string, start, ok, failed []string) plan.ScheduleStep {
	s := st(at, start, ok, failed)
	s.Zone = zone
	return s
}

func orEmpty(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func h(ids ...string) []string { return ids }

func sched(status plan.DeploymentStatus, steps ...plan.ScheduleStep) plan.Schedule {
	return plan.Schedule{Status: status, Steps: steps}
}

func server(c config.Config, ts []plan.Target) plan.Input {
	return plan.Input{Config: c, Type: target.InPlace, Targets: ts}
}

func predef(name string) config.Config {
	c, _ := config.Predefined(name)
	return c
}

func hostCount(v int) config.Config {
	return config.Config{Name: fmt.Sprintf("HostCount%d", v), MinimumHealthyHosts: &config.MinimumHealthyHosts{Type: config.HostCount, Value: v}}
}

// expect checks that vs are exactly the violations want (rule, step and
// targets; targets nil means any), in any order, and that each message is
// a sentence naming its rule when printed.
func expect(t *testing.T, vs []plantest.Violation, want ...plantest.Violation) {
	t.Helper()
	key := func(v plantest.Violation) string { return fmt.Sprintf("%s@%d", v.Rule, v.Step) }
	var got, exp []string
	for _, v := range vs {
		got = append(got, key(v))
		if !strings.Contains(v.Error(), string(v.Rule)) || v.Message == "" {
			t.Errorf("%q does not name its rule or says nothing", v.Error())
		}
	}
	for _, w := range want {
		exp = append(exp, key(w))
	}
	slices.Sort(got)
	slices.Sort(exp)
	if !slices.Equal(got, exp) {
		t.Fatalf("violations %v, want %v:\n%v", got, exp, vs)
	}
	for _, w := range want {
		if w.Targets == nil {
			continue
		}
		if !slices.ContainsFunc(vs, func(v plantest.Violation) bool { return key(v) == key(w) && slices.Equal(v.Targets, w.Targets) }) {
			t.Errorf("no %s names targets %v:\n%v", key(w), w.Targets, vs)
		}
	}
}

// previewClean checks that Preview's own schedule for in has no
// violation, so the bad schedules below differ from a good one only in
// what the test broke.
func previewClean(t *testing.T, in plan.Input, fail ...string) {
	t.Helper()
	s, err := plan.Preview(plan.PreviewInput{Input: in, Fail: fail})
	if err != nil {
		t.Fatal(err)
	}
	expect(t, plantest.Violations(in, s))
}

func TestMinimumHealthy(t *testing.T) {
	// HOST_COUNT 2 of 4: M = 2, W = 2. host-1 already failed, so 3 are
	// healthy and only one may go offline at a time.
	ts := plantest.Hosts(4)
	ts[0].Status, ts[0].Instance = target.TargetFailed, health.Unhealthy
	in := server(hostCount(2), ts)
	previewClean(t, in)
	good := sched(plan.Succeeded,
		st(0, h("host-2"), nil, nil), st(60, h("host-3"), h("host-2"), nil), st(120, h("host-4"), h("host-3"), nil), st(180, nil, h("host-4"), nil))
	expect(t, plantest.Violations(in, good))
	bad := sched(plan.Succeeded,
		st(0, h("host-2"), nil, nil), st(60, h("host-3", "host-4"), h("host-2"), nil), st(120, nil, h("host-3", "host-4"), nil))
	expect(t, plantest.Violations(in, bad), plantest.Violation{Step: 1, Rule: plantest.RuleMinimumHealthy, Targets: h("host-3", "host-4")})
}

func TestZoneMinimumHealthy(t *testing.T) {
	// HOST_COUNT 0 for the fleet (W = 4), but each zone keeps one healthy.
	c := hostCount(0)
	c.ZonalConfig = &config.ZonalConfig{MinimumHealthyHostsPerZone: &config.MinimumHealthyHosts{Type: config.HostCount, Value: 1}}
	in := server(c, plantest.Hosts(4, "az-a", "az-b")) // az-a: host-1, host-3
	previewClean(t, in)
	bad := sched(plan.Succeeded,
		zst(0, "az-a", h("host-1", "host-3"), nil, nil), zst(60, "az-a", nil, h("host-1", "host-3"), nil),
		zst(60, "az-b", h("host-2"), nil, nil), zst(120, "az-b", h("host-4"), h("host-2"), nil), zst(180, "az-b", nil, h("host-4"), nil))
	expect(t, plantest.Violations(in, bad), plantest.Violation{Step: 0, Rule: plantest.RuleZoneMinimumHealthy, Targets: h("host-1", "host-3")})
}

func TestMaxInFlight(t *testing.T) {
	// Three Unhealthy hosts under HOST_COUNT 2: W = 1, and Unhealthy
	// targets do not count against M, so only W limits them.
	in := server(hostCount(2), plantest.Unhealthy(plantest.Hosts(3), "host-1", "host-2", "host-3"))
	previewClean(t, in)
	bad := sched(plan.Succeeded,
		st(0, h("host-1"), nil, nil), st(60, h("host-2", "host-3"), h("host-1"), nil), st(120, nil, h("host-2", "host-3"), nil))
	expect(t, plantest.Violations(in, bad), plantest.Violation{Step: 1, Rule: plantest.RuleMaxInFlight, Targets: h("host-2", "host-3")})
}

func TestHealthOrder(t *testing.T) {
	// AllAtOnce: the Unhealthy host-3 must still come first in the order.
	in := server(predef("CodeDeployDefault.AllAtOnce"), plantest.Unhealthy(plantest.Hosts(3), "host-3"))
	previewClean(t, in)
	bad := sched(plan.Succeeded, st(0, h("host-1", "host-2", "host-3"), nil, nil), st(60, nil, h("host-1", "host-2", "host-3"), nil))
	expect(t, plantest.Violations(in, bad), plantest.Violation{Step: 0, Rule: plantest.RuleHealthOrder, Targets: h("host-2", "host-3")})

	// Revision Unknown goes before Old: host-2 passed over for host-3.
	ts := plantest.Hosts(3)
	ts[1].Revision = health.Unknown
	in = server(hostCount(1), ts) // M 1, W 2
	previewClean(t, in)
	bad = sched(plan.Succeeded, st(0, h("host-1", "host-3"), nil, nil), st(60, nil, h("host-1", "host-3"), nil))
	expect(t, plantest.Violations(in, bad),
		plantest.Violation{Step: 0, Rule: plantest.RuleHealthOrder, Targets: h("host-2", "host-3")})
}

func TestZonesOneAtATime(t *testing.T) {
	c := hostCount(0)
	c.ZonalConfig = &config.ZonalConfig{}
	in := server(c, plantest.Hosts(2, "az-a", "az-b"))
	previewClean(t, in)
	// Both zones at once.
	bad := sched(plan.Succeeded, zst(0, "az-a", h("host-1", "host-2"), nil, nil), zst(60, "az-a", nil, h("host-1", "host-2"), nil))
	expect(t, plantest.Violations(in, bad), plantest.Violation{Step: 0, Rule: plantest.RuleZonesOneAtATime, Targets: h("host-2")})
	// az-b (no Unhealthy target) before az-a (one): out of order.
	in.Targets = plantest.Unhealthy(plantest.Hosts(2, "az-a", "az-b"), "host-1")
	previewClean(t, in)
	bad = sched(plan.Succeeded, zst(0, "az-b", h("host-2"), nil, nil), zst(60, "az-b", nil, h("host-2"), nil),
		zst(60, "az-a", h("host-1"), nil, nil), zst(120, "az-a", nil, h("host-1"), nil))
	expect(t, plantest.Violations(in, bad), plantest.Violation{Step: 2, Rule: plantest.RuleZonesOneAtATime, Targets: h("host-2", "host-1")})
}

func TestZoneBake(t *testing.T) {
	// Monitor 600s after the first zone, 300s after the others; none
	// after the last.
	c := hostCount(0)
	c.ZonalConfig = &config.ZonalConfig{FirstZoneMonitorDurationInSeconds: new(int64(600)), MonitorDurationInSeconds: new(int64(300))}
	in := server(c, plantest.Hosts(3, "az-a", "az-b", "az-c"))
	previewClean(t, in)
	good := sched(plan.Succeeded, zst(0, "az-a", h("host-1"), nil, nil), zst(60, "az-a", nil, h("host-1"), nil),
		zst(660, "az-b", h("host-2"), nil, nil), zst(720, "az-b", nil, h("host-2"), nil),
		zst(1020, "az-c", h("host-3"), nil, nil), zst(1080, "az-c", nil, h("host-3"), nil))
	expect(t, plantest.Violations(in, good))
	bad := sched(plan.Succeeded, zst(0, "az-a", h("host-1"), nil, nil), zst(60, "az-a", nil, h("host-1"), nil),
		zst(660, "az-b", h("host-2"), nil, nil), zst(720, "az-b", nil, h("host-2"), nil),
		zst(1000, "az-c", h("host-3"), nil, nil), zst(1060, "az-c", nil, h("host-3"), nil))
	expect(t, plantest.Violations(in, bad), plantest.Violation{Step: 4, Rule: plantest.RuleZoneBake, Targets: h("host-3")})
}

func TestSuccessRule(t *testing.T) {
	// HalfAtATime of 4: M = 2, W = 2. The second pair fails, leaving 2
	// successes: Succeeded.
	in := server(predef("CodeDeployDefault.HalfAtATime"), plantest.Hosts(4))
	previewClean(t, in, "host-3", "host-4")
	run := []plan.ScheduleStep{st(0, h("host-1", "host-2"), nil, nil), st(60, h("host-3", "host-4"), h("host-1", "host-2"), nil), st(120, nil, nil, h("host-3", "host-4"))}
	expect(t, plantest.Violations(in, sched(plan.Succeeded, run...)))
	expect(t, plantest.Violations(in, sched(plan.Failed, run...)), plantest.Violation{Step: -1, Rule: plantest.RuleSuccess})
	// host-2 fails at 60s: 3 healthy, so only host-3 may go; it fails
	// too, and host-4 may not go (2 healthy, 2 required): 1 success < 2,
	// Failed. Reported Succeeded, it breaks the rule, and leaves too few
	// healthy targets.
	previewClean(t, in, "host-2", "host-3")
	run = []plan.ScheduleStep{st(0, h("host-1", "host-2"), nil, nil), st(60, h("host-3"), h("host-1"), h("host-2")), st(120, nil, nil, h("host-3"))}
	expect(t, plantest.Violations(in, sched(plan.Failed, run...)))
	expect(t, plantest.Violations(in, sched(plan.Succeeded, run...)),
		plantest.Violation{Step: -1, Rule: plantest.RuleSuccess, Targets: h("host-2", "host-3")},
		plantest.Violation{Step: -1, Rule: plantest.RuleHealthAfter, Targets: h("host-2", "host-3", "host-4")})
}

func TestSuccessRuleOneAtATimeLastTarget(t *testing.T) {
	in := server(predef("CodeDeployDefault.OneAtATime"), plantest.Hosts(3))
	previewClean(t, in, "host-3")
	previewClean(t, in, "host-2")
	// Only the last target failed: the deployment succeeds.
	last := []plan.ScheduleStep{st(0, h("host-1"), nil, nil), st(60, h("host-2"), h("host-1"), nil), st(120, h("host-3"), h("host-2"), nil), st(180, nil, nil, h("host-3"))}
	expect(t, plantest.Violations(in, sched(plan.Succeeded, last...)))
	expect(t, plantest.Violations(in, sched(plan.Failed, last...)), plantest.Violation{Step: -1, Rule: plantest.RuleSuccess})
	// The middle one failed and the deployment went on: it may not
	// succeed, and host-3 went offline leaving 1 healthy where OneAtATime
	// keeps N−1 = 2 (the planner stops at such a failure instead).
	mid := []plan.ScheduleStep{st(0, h("host-1"), nil, nil), st(60, h("host-2"), h("host-1"), nil), st(120, h("host-3"), nil, h("host-2")), st(180, nil, h("host-3"), nil)}
	expect(t, plantest.Violations(in, sched(plan.Succeeded, mid...)),
		plantest.Violation{Step: 2, Rule: plantest.RuleMinimumHealthy, Targets: h("host-3")},
		plantest.Violation{Step: -1, Rule: plantest.RuleSuccess, Targets: h("host-2")})
}

func TestHealthAfter(t *testing.T) {
	// HOST_COUNT 0: one success is enough, and one healthy target is left.
	in := server(hostCount(0), plantest.Hosts(2))
	previewClean(t, in, "host-1")
	run := []plan.ScheduleStep{st(0, h("host-1", "host-2"), nil, nil), st(60, nil, h("host-2"), h("host-1"))}
	expect(t, plantest.Violations(in, sched(plan.Succeeded, run...)))
	// Both fail, yet Succeeded: no healthy target is left.
	run[1] = st(60, nil, nil, h("host-1", "host-2"))
	expect(t, plantest.Violations(in, sched(plan.Succeeded, run...)),
		plantest.Violation{Step: -1, Rule: plantest.RuleSuccess},
		plantest.Violation{Step: -1, Rule: plantest.RuleHealthAfter, Targets: h("host-1", "host-2")})
}

func TestTraffic(t *testing.T) {
	c := predef("CodeDeployDefault.LambdaCanary10Percent5Minutes") // 10% at 0, 100% at 300s
	in := plan.Input{Config: c, Type: target.BlueGreen}
	good, err := plan.Preview(plan.PreviewInput{Input: in})
	if err != nil {
		t.Fatal(err)
	}
	expect(t, plantest.Violations(in, good))
	shift := func(s *plan.Schedule, w int, at plan.Seconds) {
		for i := range s.Steps {
			if s.Steps[i].Event == plan.PhaseAllowTraffic && s.Steps[i].TrafficWeight == w {
				s.Steps[i].At = at
				return
			}
		}
		t.Fatalf("no %d%% shift in %+v", w, s.Steps)
	}
	steps := func() plan.Schedule { s := good; s.Steps = slices.Clone(good.Steps); return s }
	// 100% after 60s: ahead of the schedule.
	early := steps()
	shift(&early, 100, 60)
	i := slices.IndexFunc(early.Steps, func(s plan.ScheduleStep) bool { return s.TrafficWeight == 100 })
	expect(t, plantest.Violations(in, early), plantest.Violation{Step: i, Rule: plantest.RuleTraffic})
	// Back from 100% to 10%.
	back := steps()
	back.Steps = append(back.Steps, plan.ScheduleStep{At: 400, Phase: plan.PhaseAllowTraffic, Event: plan.PhaseAllowTraffic, TrafficWeight: 10, Status: plan.InProgress})
	expect(t, plantest.Violations(in, back), plantest.Violation{Step: len(back.Steps) - 1, Rule: plantest.RuleTraffic})
	// Succeeded at 10%.
	short := steps()
	short.Steps = slices.DeleteFunc(short.Steps, func(s plan.ScheduleStep) bool { return s.TrafficWeight == 100 })
	expect(t, plantest.Violations(in, short), plantest.Violation{Step: -1, Rule: plantest.RuleTraffic})
}

func TestWellFormed(t *testing.T) {
	in := server(predef("CodeDeployDefault.AllAtOnce"), plantest.Hosts(2))
	bad := sched(plan.Succeeded, st(0, h("host-1", "host-9"), nil, nil), st(60, h("host-1"), h("host-1", "host-2"), nil), st(120, nil, h("host-1"), nil))
	expect(t, plantest.Violations(in, bad),
		plantest.Violation{Step: 0, Rule: plantest.RuleWellFormed, Targets: h("host-9")},
		plantest.Violation{Step: 1, Rule: plantest.RuleWellFormed, Targets: h("host-2")},
		plantest.Violation{Step: 1, Rule: plantest.RuleWellFormed, Targets: h("host-1")},
		// The second start of host-1 was refused, so it was not in flight.
		plantest.Violation{Step: 2, Rule: plantest.RuleWellFormed, Targets: h("host-1")})
	// An invalid input is one violation, and nothing else is checked.
	in.Targets[0].Instance = "Sick"
	expect(t, plantest.Violations(in, bad), plantest.Violation{Step: -1, Rule: plantest.RuleWellFormed})
}

func TestViolationError(t *testing.T) {
	v := plantest.Violation{Step: 3, At: 120, Rule: plantest.RuleMinimumHealthy, Targets: h("i-4", "i-5"), Message: "took 2 offline"}
	if got, want := v.Error(), "step 3 (at 120s): minimum-healthy [i-4 i-5]: took 2 offline"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	v = plantest.Violation{Step: -1, Rule: plantest.RuleSuccess, Message: "m"}
	if got, want := v.String(), "schedule: success-rule: m"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

package plan

import (
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/fleetdeploy/fleetdeploy/config"
	"github.com/fleetdeploy/fleetdeploy/health"
	"github.com/fleetdeploy/fleetdeploy/target"
)

func mustNew(t *testing.T, in Input) *Planner {
	t.Helper()
	p, err := New(in)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func idsOf(in Input, idx []int) []string {
	var out []string
	for _, i := range idx {
		out = append(out, in.Targets[i].ID)
	}
	return out
}

func finishAll(t *testing.T, p *Planner, idx []int, ok bool) {
	t.Helper()
	for _, i := range idx {
		if err := p.Finished(i, ok); err != nil {
			t.Fatal(err)
		}
	}
}

func withHealth(ts []Target, id string, i health.InstanceHealth, r health.RevisionHealth) {
	for k := range ts {
		if ts[k].ID == id {
			ts[k].Instance, ts[k].Revision = i, r
		}
	}
}

// fleetdeploy's decision: order inside a health class is by target ID, and
// the output never depends on the input order.
func TestDecision_OrderByClassThenID(t *testing.T) {
	ts := fleet(8)
	withHealth(ts, "t08", health.Unhealthy, health.Current)
	withHealth(ts, "t05", health.Unhealthy, health.Old)
	withHealth(ts, "t07", health.Healthy, health.Unknown)
	withHealth(ts, "t02", health.Healthy, health.Old)
	withHealth(ts, "t06", health.Healthy, health.Old)
	want := ids(5, 8, 7, 2, 6, 1, 3, 4)
	base := preview(t, inPlace(hostCount(0), ts))
	rng := rand.New(rand.NewPCG(1, 2))
	for range 20 {
		shuffled := slices.Clone(ts)
		rng.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
		in := inPlace(hostCount(7), shuffled)
		if got := starts(preview(t, in)); !slices.Equal(got, want) {
			t.Fatalf("start order %v, want %v", got, want)
		}
		if s := preview(t, inPlace(hostCount(0), shuffled)); !reflect.DeepEqual(s, base) {
			t.Fatalf("schedule depends on input order")
		}
	}
}

// fleetdeploy's decision: unhealthy targets go first, limited only by W; a
// group that starts below the minimum repairs them and then proceeds
// (User Guide, "CodeDeploy instance health").
func TestDecision_UnhealthyFirstOnlyWindowLimits(t *testing.T) {
	ts := fleet(10)
	for _, id := range ids(1, 2, 3, 4, 5) {
		withHealth(ts, id, health.Unhealthy, health.Unknown)
	}
	s := preview(t, inPlace(hostCount(8), ts))
	want := [][]string{ids(1, 2), ids(3, 4), ids(5, 6), ids(7, 8), ids(9, 10)}
	if got := batches(s); !reflect.DeepEqual(got, want) {
		t.Errorf("batches %v, want %v", got, want)
	}
	expectResult(t, s, Succeeded, "", 10, 0, 0)
	if s.LowestHealthy != 5 || s.InitialHealthy != 5 {
		t.Errorf("lowest %d initial %d: starting below the minimum must not reduce it further", s.LowestHealthy, s.InitialHealthy)
	}
}

// fleetdeploy's decision: a healthy target goes offline only while (healthy
// not in flight)−1 ≥ M; the window shrinks after a failure.
func TestDecision_HealthyOfflineRule(t *testing.T) {
	in := inPlace(hostCount(8), fleet(10))
	p := mustNew(t, in)
	d := p.Next(epoch)
	if got := idsOf(in, d.Start); !slices.Equal(got, ids(1, 2)) {
		t.Fatalf("start %v", got)
	}
	if d2 := p.Next(epoch); len(d2.Start) != 0 || d2.Done {
		t.Fatalf("a second Next must not hand out more work: %+v", d2)
	}
	finishAll(t, p, d.Start[:1], false) // t01 fails while t02 is in flight
	if d := p.Next(epoch); len(d.Start) != 0 || d.Done || d.Status != InProgress {
		t.Fatalf("with t02 in flight the deployment waits: %+v", d)
	}
	if err := p.Finished(1, true); err != nil {
		t.Fatal(err)
	}
	d = p.Next(epoch)
	if got := idsOf(in, d.Start); !slices.Equal(got, ids(3)) {
		t.Fatalf("after one failure only one may be offline: start %v", got)
	}
	finishAll(t, p, d.Start, false)
	d = p.Next(epoch)
	if !d.Done || d.Status != Failed || d.ErrorCode != HealthConstraints {
		t.Fatalf("healthy = minimum with work left: %+v", d)
	}
	for _, frag := range []string{"7 targets still to deploy", "only 8 healthy", "8 must stay healthy", "HOST_COUNT 8 of 10 targets"} {
		if !strings.Contains(d.Explanation, frag) {
			t.Errorf("explanation %q lacks %q", d.Explanation, frag)
		}
	}
}

// fleetdeploy's decision: HEALTH_CONSTRAINTS_INVALID at once, touching
// nothing, when M ≥ N (not OneAtATime) or healthy ≤ M at the start with no
// Unhealthy target to repair.
func TestDecision_HealthConstraintsInvalid(t *testing.T) {
	ts := fleet(10)
	for _, id := range ids(1, 2, 3) {
		withHealth(ts, id, health.Unhealthy, health.Unknown)
	}
	t.Run("healthy ≤ M, unhealthy targets to repair: starts", func(t *testing.T) {
		s := preview(t, inPlace(hostCount(8), ts))
		expectResult(t, s, Succeeded, "", 10, 0, 0)
	})
	t.Run("healthy ≤ M, no unhealthy target to repair", func(t *testing.T) {
		skipped := slices.Clone(ts)
		for i := range 3 {
			skipped[i].Status = target.TargetSkipped
		}
		s := preview(t, inPlace(hostCount(8), skipped))
		expectResult(t, s, Failed, HealthConstraintsInvalid, 0, 0, 10)
		if !strings.Contains(s.Explanation, "only 7 targets are healthy") {
			t.Errorf("explanation: %s", s.Explanation)
		}
	})
	t.Run("M ≥ N", func(t *testing.T) {
		s := preview(t, inPlace(hostCount(11), fleet(10)))
		expectResult(t, s, Failed, HealthConstraintsInvalid, 0, 0, 10)
	})
	t.Run("repairs fail: HEALTH_CONSTRAINTS, not INVALID", func(t *testing.T) {
		s := preview(t, inPlace(hostCount(8), ts), ids(1, 2, 3)...)
		expectResult(t, s, Failed, HealthConstraints, 0, 3, 7)
	})
}

func TestNoInstances(t *testing.T) {
	s := preview(t, inPlace(hostCount(0), nil))
	expectResult(t, s, Failed, NoInstances, 0, 0, 0)
	bg := blueGreen(2)[2:] // originals only
	s, err := Preview(PreviewInput{Input: Input{Config: hostCount(0), Type: target.BlueGreen, Targets: bg}})
	if err != nil || s.Status != Failed || s.ErrorCode != NoInstances {
		t.Errorf("blue/green without Green targets: %v %s %s", err, s.Status, s.ErrorCode)
	}
}

// fleetdeploy's decision (package config): AllAtOnce = HOST_COUNT 0,
// HalfAtATime = FLEET_PERCENT 50, OneAtATime = MOST_CONCURRENCY 1.
func TestDecision_PredefinedTypes(t *testing.T) {
	for _, tc := range []struct {
		name string
		rule config.MinimumHealthyHosts
		w    int
	}{
		{"CodeDeployDefault.AllAtOnce", config.MinimumHealthyHosts{Type: config.HostCount, Value: 0}, 12},
		{"CodeDeployDefault.HalfAtATime", config.MinimumHealthyHosts{Type: config.FleetPercent, Value: 50}, 6},
		{"CodeDeployDefault.OneAtATime", config.MinimumHealthyHosts{Type: config.MostConcurrency, Value: 1}, 1},
	} {
		p := mustNew(t, inPlace(predef(t, tc.name), fleet(12)))
		if p.Minimum().Rule != tc.rule || p.Minimum().Window != tc.w {
			t.Errorf("%s: %v W %d, want %v W %d", tc.name, p.Minimum().Rule, p.Minimum().Window, tc.rule, tc.w)
		}
	}
}

func zonalConfig(mhh config.MinimumHealthyHosts, perZone *config.MinimumHealthyHosts, first, monitor *int64) config.Config {
	return config.Config{Name: "Zonal", MinimumHealthyHosts: &mhh,
		ZonalConfig: &config.ZonalConfig{FirstZoneMonitorDurationInSeconds: first, MonitorDurationInSeconds: monitor, MinimumHealthyHostsPerZone: perZone}}
}

// fleetdeploy's decision: zones holding Unhealthy targets first, then by
// name; or as the caller orders them.
func TestDecision_ZoneOrder(t *testing.T) {
	ts := zonalFleet(map[string]int{"a": 2, "b": 2, "c": 2, "d": 2})
	withHealth(ts, "c-001", health.Unhealthy, health.Current)
	c := zonalConfig(config.MinimumHealthyHosts{Type: config.HostCount, Value: 0}, nil, nil, nil)
	p := mustNew(t, inPlace(c, ts))
	if got := p.Zones(); !slices.Equal(got, []string{"c", "a", "b", "d"}) {
		t.Errorf("zones %v, want c (unhealthy) then a, b, d", got)
	}
	s := preview(t, inPlace(c, ts))
	want := []string{"c-001", "c-000", "a-000", "a-001", "b-000", "b-001", "d-000", "d-001"}
	if got := starts(s); !slices.Equal(got, want) {
		t.Errorf("starts %v, want %v (unhealthy first inside the zone)", got, want)
	}
	in := inPlace(c, ts)
	in.ZoneOrder = []string{"d", "nowhere", "b"}
	if got := mustNew(t, in).Zones(); !slices.Equal(got, []string{"d", "b", "c", "a"}) {
		t.Errorf("explicit order: zones %v, want d, b, then c, a", got)
	}
}

// fleetdeploy's decision: inside the active zone a healthy target goes
// offline only if the fleet keeps M and the zone keeps its own minimum.
func TestDecision_PerZoneMinimum(t *testing.T) {
	ts := zonalFleet(map[string]int{"a": 4, "b": 6})
	c := zonalConfig(config.MinimumHealthyHosts{Type: config.HostCount, Value: 0},
		&config.MinimumHealthyHosts{Type: config.FleetPercent, Value: 50}, nil, nil)
	s := preview(t, inPlace(c, ts))
	// Zone a: ⌈50% of 4⌉ = 2 must stay, so 2 at a time; zone b: 3 of 6.
	want := [][]string{{"a-000", "a-001"}, {"a-002", "a-003"}, {"b-000", "b-001", "b-002"}, {"b-003", "b-004", "b-005"}}
	if got := batches(s); !reflect.DeepEqual(got, want) {
		t.Errorf("batches %v, want %v", got, want)
	}
	if s.Zones[0].MinimumHealthy != 2 || s.Zones[1].MinimumHealthy != 3 {
		t.Errorf("zones %+v", s.Zones)
	}
	// The fleet minimum applies too: HOST_COUNT 8 of 10 leaves room for 2.
	c = zonalConfig(config.MinimumHealthyHosts{Type: config.HostCount, Value: 8},
		&config.MinimumHealthyHosts{Type: config.FleetPercent, Value: 0}, nil, nil)
	for _, b := range batches(preview(t, inPlace(c, ts))) {
		if len(b) > 2 {
			t.Errorf("batch %v exceeds the fleet allowance of 2", b)
		}
	}
}

// fleetdeploy's decision: if neither allowance lets a target of the zone
// start and nothing is in flight, the deployment fails with
// HEALTH_CONSTRAINTS.
func TestDecision_ZoneBlockedFails(t *testing.T) {
	ts := zonalFleet(map[string]int{"a": 4, "b": 60})
	c := zonalConfig(config.MinimumHealthyHosts{Type: config.HostCount, Value: 0},
		&config.MinimumHealthyHosts{Type: config.HostCount, Value: 5}, nil, nil)
	s := preview(t, inPlace(c, ts))
	expectResult(t, s, Failed, HealthConstraints, 0, 0, 64)
	if !strings.Contains(s.Explanation, `zone "a"`) {
		t.Errorf("explanation should name the zone: %s", s.Explanation)
	}
}

// fleetdeploy's decision: after a zone, wait FirstZoneMonitorDuration (first
// zone) or MonitorDuration with status Baking; the wait is recorded in
// Progress.
func TestDecision_MonitorWaitIsBaking(t *testing.T) {
	ts := zonalFleet(map[string]int{"a": 1, "b": 1, "c": 1})
	c := zonalConfig(config.MinimumHealthyHosts{Type: config.HostCount, Value: 0}, nil, seconds64(600), seconds64(1800))
	in := inPlace(c, ts)
	p := mustNew(t, in)
	d := p.Next(epoch)
	if d.Zone != "a" || len(d.Start) != 1 {
		t.Fatalf("%+v", d)
	}
	finishAll(t, p, d.Start, true)
	now := epoch.Add(time.Minute)
	d = p.Next(now)
	if d.Status != Baking || d.Zone != "a" || !d.WaitUntil.Equal(now.Add(600*time.Second)) || len(d.Start) != 0 {
		t.Fatalf("after the first zone: %+v", d)
	}
	if d.Progress.BakeZone != "a" || !d.Progress.BakeUntil.Equal(d.WaitUntil) {
		t.Errorf("progress %+v must record the bake", d.Progress)
	}
	// Resuming from the stored state keeps the same deadline.
	in.Targets[0].Status = target.TargetSucceeded
	in.Progress = d.Progress
	if r, err := Decide(in, now.Add(time.Second)); err != nil || r.Status != Baking || !r.WaitUntil.Equal(d.WaitUntil) {
		t.Errorf("resumed during the bake: %+v %v", r, err)
	}
	if d2 := p.Next(now.Add(599 * time.Second)); d2.Status != Baking {
		t.Errorf("before the deadline: %+v", d2)
	}
	d = p.Next(d.WaitUntil)
	if d.Zone != "b" || len(d.Start) != 1 || d.Status != InProgress {
		t.Fatalf("at the deadline zone b starts: %+v", d)
	}
	finishAll(t, p, d.Start, true)
	now = d.WaitUntil.Add(time.Minute)
	if d = p.Next(now); d.Status != Baking || !d.WaitUntil.Equal(now.Add(1800*time.Second)) {
		t.Fatalf("after a later zone: MonitorDuration: %+v", d)
	}
	if err := p.Stop(AlarmActive, "CPU alarm"); err != nil {
		t.Fatal(err)
	}
	if d = p.Next(now); !d.Done || d.Status != Stopped || d.ErrorCode != AlarmActive {
		t.Errorf("an alarm during the bake stops at once: %+v", d)
	}
}

// Rollbacks are not zonal (User Guide, "Create a deployment configuration
// with CodeDeploy"); zonal configuration is ignored by blue/green
// deployments (fleetdeploy's decision).
func TestDecision_RollbackIsNotZonal(t *testing.T) {
	ts := zonalFleet(map[string]int{"a": 2, "b": 2})
	withHealth(ts, "b-001", health.Unhealthy, health.Old)
	c := zonalConfig(config.MinimumHealthyHosts{Type: config.HostCount, Value: 3}, nil, seconds64(3600), nil)
	in := inPlace(c, ts)
	in.Rollback = true
	p := mustNew(t, in)
	if p.Zones() != nil {
		t.Errorf("rollback zones %v", p.Zones())
	}
	s := preview(t, in)
	if got := starts(s); !slices.Equal(got, []string{"b-001", "a-000", "a-001", "b-000"}) {
		t.Errorf("rollback order %v, want health then ID across zones", got)
	}
	if s.DurationSeconds != 4*60 || len(s.Zones) != 0 {
		t.Errorf("rollback must not bake: %vs, zones %v", s.DurationSeconds, s.Zones)
	}
	ts[0].Zone = ""
	if _, err := New(in); err != nil {
		t.Errorf("rollback without zones: %v", err)
	}
}

// fleetdeploy's decision: the statuses the planner reports.
func TestDecision_Statuses(t *testing.T) {
	if got := (DeploymentStatus("")).Values(); !slices.Equal(got, []DeploymentStatus{"Created", "Queued", "InProgress", "Baking", "Succeeded", "Failed", "Stopped", "Ready"}) {
		t.Errorf("Values %v", got)
	}
	c := predef(t, "CodeDeployDefault.AllAtOnce")
	in := Input{Config: c, Type: target.BlueGreen, Targets: blueGreen(2),
		BlueGreen: BlueGreen{ReadyAction: StopDeployment, ReadyWait: time.Hour, TerminationAction: Terminate, TerminationWait: 10 * time.Minute}}
	p := mustNew(t, in)
	seen := []DeploymentStatus{}
	now := epoch
	for range 50 {
		d := p.Next(now)
		if len(seen) == 0 || seen[len(seen)-1] != d.Status {
			seen = append(seen, d.Status)
		}
		if d.Done {
			break
		}
		finishAll(t, p, d.Start, true)
		if d.Step != nil {
			if err := p.StepFinished(StepResult{Succeeded: true}); err != nil {
				t.Fatal(err)
			}
		}
		switch d.Status {
		case Ready:
			if !d.WaitUntil.Equal(now.Add(time.Hour)) {
				t.Errorf("ready deadline %v", d.WaitUntil)
			}
			if err := p.Continue(TerminationWait); !errors.Is(err, ErrNotWaiting) {
				t.Errorf("Continue(TERMINATION_WAIT) while Ready: %v", err)
			}
			if err := p.Continue(ReadyWait); err != nil {
				t.Fatal(err)
			}
		case Baking:
			now = d.WaitUntil
		}
	}
	want := []DeploymentStatus{InProgress, Ready, InProgress, Baking, InProgress, Succeeded}
	if !slices.Equal(seen, want) {
		t.Errorf("statuses %v, want %v", seen, want)
	}
}

func TestReadyWaitRunsOutStops(t *testing.T) {
	in := Input{Config: hostCount(0), Type: target.BlueGreen, Targets: blueGreen(1),
		BlueGreen: BlueGreen{ReadyAction: StopDeployment, ReadyWait: 30 * time.Minute}}
	s, err := Preview(PreviewInput{Input: in, ContinueAfter: -1})
	if err != nil {
		t.Fatal(err)
	}
	if s.Status != Stopped || s.ErrorCode != Timeout || s.DurationSeconds != 60+1800 {
		t.Errorf("%s %s at %v: %s", s.Status, s.ErrorCode, s.DurationSeconds, s.Explanation)
	}
}

func TestTerminationWaitContinueEndsEarly(t *testing.T) {
	in := Input{Config: hostCount(0), Type: target.BlueGreen, Targets: blueGreen(1),
		BlueGreen: BlueGreen{TerminationAction: Terminate, TerminationWait: time.Hour}}
	p := mustNew(t, in)
	for {
		d := p.Next(epoch)
		if d.Phase == PhaseTerminationWait {
			if d.Status != Baking {
				t.Fatalf("%+v", d)
			}
			break
		}
		finishAll(t, p, d.Start, true)
	}
	if err := p.Continue(TerminationWait); err != nil {
		t.Fatal(err)
	}
	d := p.Next(epoch)
	if d.Step == nil || d.Step.Phase != PhaseTerminateOriginals {
		t.Fatalf("after Continue(TERMINATION_WAIT): %+v", d)
	}
}

func TestBlueGreenRollback(t *testing.T) {
	ts := blueGreen(2)
	for i := range ts {
		ts[i].Reroute = ""
	}
	in := Input{Config: predef(t, "CodeDeployDefault.OneAtATime"), Type: target.BlueGreen, Targets: ts, Rollback: true}
	if got := Phases(in); !slices.Equal(got, []Phase{PhaseAllowOriginals, PhaseBlockReplacements}) {
		t.Fatalf("phases %v", got)
	}
	s := preview(t, in)
	if got := batches(s); !reflect.DeepEqual(got, [][]string{{"b01", "b02"}, {"g01", "g02"}}) {
		t.Errorf("batches %v, want originals back first, all at once", got)
	}
	if s.Status != Succeeded {
		t.Errorf("%s: %s", s.Status, s.Explanation)
	}
}

// fleetdeploy's decision (package config): linear p% every I minutes: p, 2p,
// … capped at 100, the shift to 100 one interval after the last one below;
// canary p then 100 after I.
func TestDecision_TrafficSchedule(t *testing.T) {
	linear := config.Config{Name: "Linear30Every10", ComputePlatform: config.Lambda, TrafficRouting: &config.TrafficRouting{
		Type: config.TimeBasedLinear, TimeBasedLinear: &config.Linear{LinearPercentage: 30, LinearInterval: 10}}}
	p := mustNew(t, Input{Config: linear, Type: target.BlueGreen})
	var got []string
	now := epoch
	for range 100 {
		d := p.Next(now)
		if d.Done {
			if d.Status != Succeeded {
				t.Fatalf("%+v", d)
			}
			break
		}
		switch {
		case d.Step != nil:
			got = append(got, fmt.Sprintf("%s %d%%@%s", d.Step.Phase, d.Step.Weight, now.Sub(epoch)))
			if err := p.StepFinished(StepResult{Succeeded: true}); err != nil {
				t.Fatal(err)
			}
		case !d.WaitUntil.IsZero():
			now = d.WaitUntil
		default:
			t.Fatalf("stuck: %+v", d)
		}
	}
	want := []string{"BeforeAllowTraffic 0%@0s", "AllowTraffic 30%@0s", "AllowTraffic 60%@10m0s",
		"AllowTraffic 90%@20m0s", "AllowTraffic 100%@30m0s", "AfterAllowTraffic 0%@30m0s"}
	if !slices.Equal(got, want) {
		t.Errorf("steps %v, want %v", got, want)
	}
}

func TestECSPhasesAndStepFailure(t *testing.T) {
	c := predef(t, "CodeDeployDefault.ECSCanary10Percent5Minutes")
	in := Input{Config: c, Type: target.BlueGreen, BlueGreen: BlueGreen{TerminationAction: Terminate, TerminationWait: 5 * time.Minute}}
	want := []Phase{PhaseBeforeInstall, PhaseInstall, PhaseAfterInstall, PhaseAllowTestTraffic, PhaseAfterAllowTestTraffic,
		PhaseBeforeAllowTraffic, PhaseAllowTraffic, PhaseAfterAllowTraffic, PhaseTerminationWait, PhaseTerminateOriginals}
	if got := Phases(in); !slices.Equal(got, want) {
		t.Errorf("ECS phases %v, want %v", got, want)
	}
	s, err := Preview(PreviewInput{Input: in, StepDuration: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if s.Status != Succeeded || s.DurationSeconds != 6*10+300+10+300+10 { // six steps, the canary interval, AfterAllowTraffic, the wait, the termination
		t.Errorf("%s after %v", s.Status, s.DurationSeconds)
	}
	for _, tc := range []struct {
		ph   Phase
		code ErrorCode
	}{{PhaseInstall, ECSUpdateError}, {PhaseAfterAllowTestTraffic, HookExecutionFailure}, {PhaseAllowTraffic, ECSUpdateError}} {
		s, err := Preview(PreviewInput{Input: in, FailSteps: []Phase{tc.ph}})
		if err != nil || s.Status != Failed || s.ErrorCode != tc.code || !strings.Contains(s.Explanation, string(tc.ph)) {
			t.Errorf("%s fails: %v %s %s %q", tc.ph, err, s.Status, s.ErrorCode, s.Explanation)
		}
	}
	lambda := predef(t, "CodeDeployDefault.LambdaAllAtOnce")
	s, _ = Preview(PreviewInput{Input: Input{Config: lambda, Type: target.BlueGreen}, FailSteps: []Phase{PhaseAllowTraffic}})
	if s.ErrorCode != InternalError {
		t.Errorf("Lambda shift failure code %s", s.ErrorCode)
	}
}

// StopDeployment (API Reference) and fleetdeploy's decision: after Stop
// nothing new starts; work in flight finishes and is reported; then
// Stopped.
func TestDecision_Stop(t *testing.T) {
	in := inPlace(hostCount(0), fleet(4))
	p := mustNew(t, in)
	d := p.Next(epoch)
	if len(d.Start) != 4 {
		t.Fatal(d)
	}
	finishAll(t, p, d.Start[:1], true)
	if err := p.Stop("", "operator"); err != nil {
		t.Fatal(err)
	}
	if err := p.Stop(AlarmActive, ""); err != nil {
		t.Fatal(err)
	}
	d2 := p.Next(epoch)
	if d2.Done || len(d2.Start) != 0 || !strings.Contains(d2.Explanation, "waiting for 3") {
		t.Fatalf("while stopping: %+v", d2)
	}
	finishAll(t, p, d.Start[1:3], true)
	finishAll(t, p, d.Start[3:], false)
	d = p.Next(epoch)
	if !d.Done || d.Status != Stopped || d.ErrorCode != ManualStop || !strings.Contains(d.Explanation, "3 succeeded, 1 failed") {
		t.Fatalf("after draining: %+v", d)
	}
	if err := p.Stop("", ""); !errors.Is(err, ErrDone) {
		t.Errorf("Stop after done: %v", err)
	}
	if err := p.Finished(0, true); !errors.Is(err, ErrDone) {
		t.Errorf("Finished after done: %v", err)
	}
	if d3 := p.Next(epoch); !reflect.DeepEqual(d3, d) {
		t.Errorf("Next after done must repeat the final decision")
	}
}

func TestReportErrors(t *testing.T) {
	in := inPlace(hostCount(9), fleet(10))
	p := mustNew(t, in)
	d := p.Next(epoch)
	for _, i := range []int{-1, 10, 5} {
		if err := p.Finished(i, true); !errors.Is(err, ErrNotInFlight) {
			t.Errorf("Finished(%d): %v", i, err)
		}
	}
	finishAll(t, p, d.Start, true)
	if err := p.Finished(d.Start[0], true); !errors.Is(err, ErrNotInFlight) {
		t.Errorf("reporting twice: %v", err)
	}
	if err := p.StepFinished(StepResult{Succeeded: true}); !errors.Is(err, ErrNoStep) {
		t.Errorf("StepFinished without a step: %v", err)
	}
	if err := p.Continue(ReadyWait); !errors.Is(err, ErrNotWaiting) {
		t.Errorf("Continue in place: %v", err)
	}
	if err := p.Stop("NOPE", ""); !errors.Is(err, ErrInvalidInput) {
		t.Errorf("Stop with a bad code: %v", err)
	}
}

func TestDecideIsNewPlusNext(t *testing.T) {
	in := inPlace(predef(t, "CodeDeployDefault.HalfAtATime"), fleet(9))
	d, err := Decide(in, epoch)
	if err != nil {
		t.Fatal(err)
	}
	if got := idsOf(in, d.Start); !slices.Equal(got, ids(1, 2, 3, 4)) || d.Status != InProgress {
		t.Errorf("Decide: %v %s", got, d.Status)
	}
	if want := mustNew(t, in).Next(epoch); !reflect.DeepEqual(d, want) {
		t.Errorf("Decide %+v != New+Next %+v", d, want)
	}
}

// A deployment resumed from its stored state continues exactly as if it
// had not stopped: no target re-run, the offline bound kept.
func TestResumeFromSnapshot(t *testing.T) {
	in := inPlace(hostCount(7), fleet(10))
	p := mustNew(t, in)
	d := p.Next(epoch) // t01..t03
	finishAll(t, p, d.Start[:2], true)
	d = p.Next(epoch) // t04, t05
	snap := in
	snap.Targets = slices.Clone(in.Targets)
	for i := range snap.Targets {
		switch {
		case i < 2:
			snap.Targets[i].Status = target.TargetSucceeded
		case i < 5:
			snap.Targets[i].Status = target.TargetInProgress
		}
	}
	snap.Progress = d.Progress
	q := mustNew(t, snap)
	if d := q.Next(epoch); len(d.Start) != 0 || d.Done {
		t.Fatalf("resumed with 3 in flight (W=3): %+v", d)
	}
	finishAll(t, q, []int{2}, true)
	if d := q.Next(epoch); !slices.Equal(idsOf(in, d.Start), ids(6)) {
		t.Errorf("resumed: start %v, want t06", idsOf(in, d.Start))
	}
}

func TestInputErrors(t *testing.T) {
	base := func() Input { return inPlace(hostCount(0), fleet(3)) }
	tests := []struct {
		name  string
		edit  func(*Input)
		field string
	}{
		{"invalid config", func(in *Input) { in.Config = fleetPercent(100) }, "Config.minimumHealthyHosts.value"},
		{"unknown type", func(in *Input) { in.Type = "ROLLING" }, "Type"},
		{"Lambda in place", func(in *Input) {
			in.Config, _ = config.Predefined("CodeDeployDefault.LambdaAllAtOnce")
		}, "Type"},
		{"Lambda with targets", func(in *Input) {
			in.Config, _ = config.Predefined("CodeDeployDefault.LambdaAllAtOnce")
			in.Type = target.BlueGreen
		}, "Targets"},
		{"empty ID", func(in *Input) { in.Targets[1].ID = "" }, "Targets[1].ID"},
		{"duplicate ID", func(in *Input) { in.Targets[2].ID = "t01" }, "Targets[2].ID"},
		{"duplicate ID across classes", func(in *Input) {
			in.Targets[2].ID = "t01"
			in.Targets[2].Instance = health.Unhealthy
		}, "Targets[2].ID"},
		{"unknown instance health", func(in *Input) { in.Targets[0].Instance = "Sick" }, "Targets[0].Instance"},
		{"unknown revision health", func(in *Input) { in.Targets[0].Revision = "Stale" }, "Targets[0].Revision"},
		{"unknown status", func(in *Input) { in.Targets[0].Status = "Ready" }, "Targets[0].Status"},
		{"label in place", func(in *Input) { in.Targets[0].Label = target.LabelBlue }, "Targets[0].Label"},
		{"reroute in place", func(in *Input) { in.Targets[0].Reroute = target.TargetPending }, "Targets[0].Reroute"},
		{"missing label", func(in *Input) {
			in.Type = target.BlueGreen
			in.Targets = blueGreen(1)
			in.Targets[1].Label = ""
		}, "Targets[1].Label"},
		{"green with an unknown reroute", func(in *Input) {
			in.Type = target.BlueGreen
			in.Targets = blueGreen(1)
			in.Targets[0].Reroute = "Moving"
		}, "Targets[0].Reroute"},
		{"in flight outside its phase", func(in *Input) {
			in.Type = target.BlueGreen
			in.Targets = blueGreen(1)
			in.Targets[1].Status = target.TargetInProgress
		}, "Targets[1].Status"},
		{"zone required", func(in *Input) {
			in.Config = zonalConfig(config.MinimumHealthyHosts{Type: config.HostCount}, nil, nil, nil)
		}, "Targets[0].Zone"},
		{"zone listed twice", func(in *Input) { in.ZoneOrder = []string{"a", "b", "a"} }, "ZoneOrder[2]"},
		{"unknown phase", func(in *Input) { in.Progress.Phase = PhaseAllowTraffic }, "Progress.Phase"},
		{"bad stop code", func(in *Input) { in.Progress.StopCode = "STOP" }, "Progress.StopCode"},
		{"bad ready action", func(in *Input) { in.BlueGreen.ReadyAction = "WAIT" }, "BlueGreen.ReadyAction"},
		{"bad termination action", func(in *Input) { in.BlueGreen.TerminationAction = "KILL" }, "BlueGreen.TerminationAction"},
		{"negative wait", func(in *Input) { in.BlueGreen.ReadyWait = -time.Second }, "BlueGreen.ReadyWait"},
		{"STOP_DEPLOYMENT without a wait", func(in *Input) { in.BlueGreen.ReadyAction = StopDeployment }, "BlueGreen.ReadyWait"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := base()
			tt.edit(&in)
			_, err := New(in)
			var ie *InputError
			if !errors.As(err, &ie) || !errors.Is(err, ErrInvalidInput) || ie.Field != tt.field || !strings.HasPrefix(err.Error(), "plan: ") {
				t.Fatalf("New: %v, want an *InputError for %s", err, tt.field)
			}
			if _, err := Preview(PreviewInput{Input: in}); !errors.As(err, &ie) || ie.Field != tt.field {
				t.Fatalf("Preview: %v, want an *InputError for %s", err, tt.field)
			}
		})
	}
	if _, err := Preview(PreviewInput{Input: base(), Fail: []string{"t09"}}); !errors.Is(err, ErrInvalidInput) {
		t.Errorf("Preview with an unknown ID: %v", err)
	}
}

// The CLI at examples/preview relies on these JSON names.
func TestScheduleJSONFieldNames(t *testing.T) {
	s := preview(t, inPlace(hostCount(0), fleet(1)))
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"minimumHealthy", "maxInFlight", "explanation", "steps", "status", "errorCode", "succeeded",
		"failed", "notAttempted", "peakInFlight", "lowestHealthy", "durationSeconds"} {
		if _, ok := m[k]; !ok {
			t.Errorf("Schedule JSON lacks %q: %s", k, b)
		}
	}
	step := m["steps"].([]any)[0].(map[string]any)
	for _, k := range []string{"at", "start", "succeeded", "failed"} {
		if _, ok := step[k]; !ok {
			t.Errorf("step JSON lacks %q: %v", k, step)
		}
	}
}

func TestEnumValues(t *testing.T) {
	for _, ph := range (Phase("")).Values() {
		if ph.Kind() == "" {
			t.Errorf("phase %s has no kind", ph)
		}
	}
	if Phase("Nope").Kind() != "" {
		t.Error("unknown phase has a kind")
	}
	for _, c := range (ErrorCode("")).Values() {
		if !c.valid() || strings.ToUpper(string(c)) != string(c) {
			t.Errorf("error code %q", c)
		}
	}
	if len((ErrorCode("")).Values()) != 34 {
		t.Errorf("%d error codes, want the 34 of the API Reference's ErrorInformation", len((ErrorCode("")).Values()))
	}
	if !Succeeded.Final() || InProgress.Final() {
		t.Error("Final")
	}
}

func TestEnumValuesSpelling(t *testing.T) {
	if got := (WaitType("")).Values(); !slices.Equal(got, []WaitType{"READY_WAIT", "TERMINATION_WAIT"}) {
		t.Errorf("WaitType %v", got)
	}
	if got := (ReadyAction("")).Values(); !slices.Equal(got, []ReadyAction{"CONTINUE_DEPLOYMENT", "STOP_DEPLOYMENT"}) {
		t.Errorf("ReadyAction %v", got)
	}
	if got := (TerminationAction("")).Values(); !slices.Equal(got, []TerminationAction{"TERMINATE", "KEEP_ALIVE"}) {
		t.Errorf("TerminationAction %v", got)
	}
	if got := (PhaseKind("")).Values(); len(got) != 4 {
		t.Errorf("PhaseKind %v", got)
	}
}

func TestOrderAndPhasesAccessors(t *testing.T) {
	ts := fleet(3)
	withHealth(ts, "t03", health.Unhealthy, health.Current)
	in := inPlace(hostCount(0), ts)
	p := mustNew(t, in)
	if got := idsOf(in, p.Order()); !slices.Equal(got, ids(3, 1, 2)) {
		t.Errorf("Order %v", got)
	}
	if got := p.Phases(); !slices.Equal(got, []Phase{PhaseDeploy}) {
		t.Errorf("Phases %v", got)
	}
	if _, err := Decide(inPlace(hostCount(-1), ts), epoch); !errors.Is(err, ErrInvalidInput) {
		t.Errorf("Decide with a bad config: %v", err)
	}
}

// A stop while a step is in flight waits for its report (fleetdeploy's
// decision).
func TestStopWaitsForStep(t *testing.T) {
	p := mustNew(t, Input{Config: predef(t, "CodeDeployDefault.LambdaAllAtOnce"), Type: target.BlueGreen})
	d := p.Next(epoch)
	if d.Step == nil || d.Step.Phase != PhaseBeforeAllowTraffic {
		t.Fatalf("%+v", d)
	}
	if err := p.Stop(ManualStop, ""); err != nil {
		t.Fatal(err)
	}
	if d := p.Next(epoch); d.Done || d.Step != nil {
		t.Fatalf("stopping with a hook running: %+v", d)
	}
	if err := p.StepFinished(StepResult{Succeeded: true}); err != nil {
		t.Fatal(err)
	}
	if d := p.Next(epoch); !d.Done || d.Status != Stopped || d.Phase != PhaseBeforeAllowTraffic {
		t.Fatalf("after the hook: %+v", d)
	}
}

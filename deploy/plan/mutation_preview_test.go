package plan

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/fleetdeploy/fleetdeploy/config"
	"github.com/fleetdeploy/fleetdeploy/target"
)

// Preview of a partly done deployment (PreviewInput: "targets already
// InProgress are assumed to finish Duration after Start"): they are in
// flight from the first moment, are not counted healthy, keep the window
// full, and finish in the order they were scheduled.
func TestPreview_FromTargetsInFlight(t *testing.T) {
	ts := withStatus(fleet(4), target.TargetInProgress, "t01", "t02")
	s, err := Preview(PreviewInput{Input: inPlace(hostCount(2), ts), Durations: map[string]time.Duration{"t01": 30 * time.Second, "t02": 30 * time.Second}})
	if err != nil {
		t.Fatal(err)
	}
	// t01 and t02, in flight when the preview began, count as succeeded
	// once they finish, as the explanation's tally says.
	if s.Status != Succeeded {
		t.Errorf("%s %s: %s", s.Status, s.ErrorCode, s.Explanation)
	}
	expectResult(t, s, Succeeded, "", 4, 0, 0)
	if s.InitialHealthy != 2 || s.LowestHealthy != 2 || s.PeakInFlight != 2 {
		t.Errorf("initial healthy %d, lowest %d, peak in flight %d; want 2, 2, 2", s.InitialHealthy, s.LowestHealthy, s.PeakInFlight)
	}
	if len(s.Steps) < 2 || len(s.Steps[0].Start) != 0 {
		t.Fatalf("steps %+v", s.Steps)
	}
	// t01 and t02 finish at 30s, in schedule order; t03 and t04 start then.
	at30 := s.Steps[1]
	if at30.At != 30 || !slices.Equal(at30.Succeeded, ids(1, 2)) || !slices.Equal(at30.Start, ids(3, 4)) {
		t.Errorf("at 30s: %+v, want t01, t02 succeeded and t03, t04 started", at30)
	}
	if s.DurationSeconds != 90 {
		t.Errorf("duration %vs, want 90", s.DurationSeconds)
	}
}

// Preview of a deployment stored with its step handed out
// (Progress.StepIssued): the step finishes StepDuration after Start and the
// deployment goes on from there.
func TestPreview_FromStepInFlight(t *testing.T) {
	c := predef(t, "CodeDeployDefault.LambdaAllAtOnce")
	in := Input{Config: c, Type: target.BlueGreen, Progress: Progress{Phase: PhaseBeforeAllowTraffic, StepIssued: true}}
	s, err := Preview(PreviewInput{Input: in, StepDuration: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if s.Status != Succeeded || s.DurationSeconds != 20 {
		t.Errorf("%s after %vs, want Succeeded after 20s (the hook in flight, then AfterAllowTraffic)", s.Status, s.DurationSeconds)
	}
	if len(s.Phases) == 0 || s.Phases[0].Phase != PhaseBeforeAllowTraffic || s.Phases[0].End != 10 {
		t.Errorf("phases %+v, want BeforeAllowTraffic to end at 10s", s.Phases)
	}
	s, err = Preview(PreviewInput{Input: in, StepDuration: 10 * time.Second, FailSteps: []Phase{PhaseBeforeAllowTraffic}})
	if err != nil || s.Status != Failed || s.ErrorCode != HookExecutionFailure || s.DurationSeconds != 10 {
		t.Errorf("the hook in flight fails: %v %s %s after %vs", err, s.Status, s.ErrorCode, s.DurationSeconds)
	}
}

// PreviewInput.Durations: a target's duration must not be negative; the
// error names the target's entry.
func TestPreview_NegativeTargetDuration(t *testing.T) {
	_, err := Preview(PreviewInput{Input: inPlace(hostCount(0), fleet(2)), Durations: map[string]time.Duration{"t02": -time.Second}})
	var ie *InputError
	if !errors.As(err, &ie) || ie.Field != "Durations[t02]" || !strings.Contains(err.Error(), "negative") {
		t.Errorf("negative duration: %v, want an *InputError for Durations[t02]", err)
	}
}

// A zonal schedule from the rules alone (User Guide, "Create a deployment
// configuration with CodeDeploy"; API Reference, ZonalConfig): one zone at
// a time; inside a zone healthy targets go offline only while the zone
// keeps MinimumHealthyHostsPerZone; FirstZoneMonitorDuration after the first
// zone, nothing after the last. Zones a and b of 2 targets, HOST_COUNT 2
// (W = 2), 1 per zone, 60s per target, 600s monitor:
//
//	0s a-000 · 60s a-001 · 120s zone a done, Baking until 720s ·
//	720s b-000 · 780s b-001 · 840s Succeeded.
func TestPreview_ZonalScheduleFromTheRules(t *testing.T) {
	c := zonalConfig(config.MinimumHealthyHosts{Type: config.HostCount, Value: 2},
		&config.MinimumHealthyHosts{Type: config.HostCount, Value: 1}, seconds64(600), seconds64(1800))
	s := preview(t, inPlace(c, zonalFleet(map[string]int{"a": 2, "b": 2})))
	expectResult(t, s, Succeeded, "", 4, 0, 0)
	expectMW(t, s, 2, 2)
	if s.InitialHealthy != 4 || s.LowestHealthy != 3 || s.PeakInFlight != 1 || s.DurationSeconds != 840 {
		t.Errorf("initial %d lowest %d peak %d duration %v; want 4 3 1 840", s.InitialHealthy, s.LowestHealthy, s.PeakInFlight, s.DurationSeconds)
	}
	want := []ZoneWindow{
		{Zone: "a", Targets: 2, MinimumHealthy: 1, LowestHealthy: 1, Start: 0, End: 120, BakeUntil: 720},
		{Zone: "b", Targets: 2, MinimumHealthy: 1, LowestHealthy: 1, Start: 720, End: 840},
	}
	if !reflect.DeepEqual(s.Zones, want) {
		t.Errorf("zones %+v, want %+v", s.Zones, want)
	}
	if want := []PhaseWindow{{Phase: PhaseDeploy, Start: 0, End: 840}}; !reflect.DeepEqual(s.Phases, want) {
		t.Errorf("phases %+v, want %+v", s.Phases, want)
	}
	// One step per moment, with the status the deployment has after it.
	var got []string
	for _, st := range s.Steps {
		got = append(got, fmt.Sprintf("%v %s %s start%v ok%v", st.At, st.Zone, st.Status, st.Start, st.Succeeded))
	}
	wantSteps := []string{
		"0 a InProgress start[a-000] ok[]",
		"60 a InProgress start[a-001] ok[a-000]",
		"120 a Baking start[] ok[a-001]",
		"720 b InProgress start[b-000] ok[]",
		"780 b InProgress start[b-001] ok[b-000]",
		"840 b Succeeded start[] ok[b-001]",
	}
	if !slices.Equal(got, wantSteps) {
		t.Errorf("steps\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(wantSteps, "\n"))
	}
}

// PreviewInput: Durations set per target (0 is a target that finishes at
// once) and Fail apply together; FailSteps names Step or Traffic phases
// only.
func TestPreview_DurationsAndFailTogether(t *testing.T) {
	s, err := Preview(PreviewInput{Input: inPlace(hostCount(0), fleet(2)),
		Durations: map[string]time.Duration{"t01": 0}, Fail: []string{"t02"}})
	if err != nil {
		t.Fatal(err)
	}
	expectResult(t, s, Succeeded, "", 1, 1, 0)
	if s.DurationSeconds != 60 || len(s.Steps) < 2 || !slices.Equal(s.Steps[0].Succeeded, ids(1)) || !slices.Equal(s.Steps[1].Failed, ids(2)) {
		t.Errorf("t01 done at 0s, t02 failed at 60s: %+v (%vs)", s.Steps, s.DurationSeconds)
	}
	if _, err := Preview(PreviewInput{Input: inPlace(hostCount(0), fleet(2)), FailSteps: []Phase{PhaseDeploy}}); !errors.Is(err, ErrInvalidInput) {
		t.Errorf("FailSteps with a Targets phase: %v", err)
	}
}

// PreviewInput.FailSteps: "AllowTraffic makes the first traffic shift
// fail" — at once, with the shift to the canary weight named.
func TestPreview_FailedTrafficIsTheFirstShift(t *testing.T) {
	c := predef(t, "CodeDeployDefault.LambdaCanary10Percent5Minutes")
	s, err := Preview(PreviewInput{Input: Input{Config: c, Type: target.BlueGreen}, FailSteps: []Phase{PhaseAllowTraffic}})
	if err != nil {
		t.Fatal(err)
	}
	if s.Status != Failed || s.DurationSeconds != 0 || !strings.Contains(s.Explanation, "shift 1 to 10%") {
		t.Errorf("%s after %vs: %q, want Failed at 0s on the 10%% shift", s.Status, s.DurationSeconds, s.Explanation)
	}
	var weights []int
	for _, st := range s.Steps {
		if st.Event == PhaseAllowTraffic {
			weights = append(weights, st.TrafficWeight)
		}
	}
	if !slices.Equal(weights, []int{10}) {
		t.Errorf("shifts started %v, want [10]", weights)
	}
}

// ZoneWindow: "Start is the first start in the zone, End its last finish;
// both are -1 when nothing in the zone ran". HOST_COUNT 1 of 2: once a-000
// failed, no healthy target may go offline, so zone b never runs.
func TestPreview_ZoneThatNeverRan(t *testing.T) {
	c := zonalConfig(config.MinimumHealthyHosts{Type: config.HostCount, Value: 1}, nil, nil, nil)
	s := preview(t, inPlace(c, zonalFleet(map[string]int{"a": 1, "b": 1})), "a-000")
	if s.Status != Failed || len(s.Zones) != 2 || s.Zones[1].Start != -1 || s.Zones[1].End != -1 || s.Zones[0].End != 60 {
		t.Errorf("%s zones %+v, want zone b at -1/-1", s.Status, s.Zones)
	}
}

// A zonal preview of a deployment resumed with a target in flight
// (PreviewInput: "targets already InProgress are assumed to finish
// Duration after Start"). The zone's counts include it from the first
// moment: inside zone a (2 targets, MinimumHealthyHostsPerZone 1) a-000 in
// flight leaves 1 healthy, so a-001 may go offline only once a-000 is
// back, 30s in (User Guide, "Create a deployment configuration with
// CodeDeploy": a zone keeps its own minimum).
func TestPreview_ZonalFromTargetInFlight(t *testing.T) {
	ts := withStatus(zonalFleet(map[string]int{"a": 2, "b": 2}), target.TargetInProgress, "a-000")
	c := zonalConfig(config.MinimumHealthyHosts{Type: config.HostCount, Value: 2},
		&config.MinimumHealthyHosts{Type: config.HostCount, Value: 1}, nil, nil)
	s, err := Preview(PreviewInput{Input: inPlace(c, ts), Durations: map[string]time.Duration{"a-000": 30 * time.Second}})
	if err != nil {
		t.Fatal(err)
	}
	expectResult(t, s, Succeeded, "", 4, 0, 0)
	if len(s.Steps) < 2 {
		t.Fatalf("steps %+v", s.Steps)
	}
	zoneA := func(st ScheduleStep) ZoneCount {
		for _, z := range st.Zones {
			if z.Zone == "a" {
				return z
			}
		}
		t.Fatalf("step at %vs lists no counts for zone a: %+v", st.At, st)
		return ZoneCount{}
	}
	first, second := s.Steps[0], s.Steps[1]
	if got := zoneA(first); first.At != 0 || len(first.Start) != 0 || got != (ZoneCount{Zone: "a", InFlight: 1, Healthy: 1, Minimum: 1}) {
		t.Errorf("at 0s: started %v, zone a %+v; want nothing started and a-000 in flight, 1 healthy", first.Start, got)
	}
	if got := zoneA(second); second.At != 30 || !slices.Equal(second.Succeeded, []string{"a-000"}) || !slices.Equal(second.Start, []string{"a-001"}) ||
		got != (ZoneCount{Zone: "a", InFlight: 1, Healthy: 1, Minimum: 1}) {
		t.Errorf("at %vs: succeeded %v, started %v, zone a %+v; want at 30s a-000 back and a-001 in flight", second.At, second.Succeeded, second.Start, got)
	}
}

// PreviewInput.Durations: 0 is a valid duration (a target that finishes at
// once); only negative ones are refused. With another entry naming no
// target, the problems list that entry alone, not the 0.
func TestPreview_ZeroTargetDurationIsNoProblem(t *testing.T) {
	_, err := Preview(PreviewInput{Input: inPlace(hostCount(0), fleet(2)), Durations: map[string]time.Duration{"t01": 0, "t09": time.Second}})
	if got := problemFields(t, err); !slices.Equal(got, []string{"Durations"}) {
		t.Errorf("problems %q, want only Durations (t09 is not a target)\n%v", got, err)
	}
}

// PreviewInput.ContinueAfter: with STOP_DEPLOYMENT, rerouting waits for
// ContinueDeployment (API Reference, DeploymentReadyOption: "Do not register
// new instances with a load balancer unless traffic rerouting is started
// using ContinueDeployment"). Continue is assumed ContinueAfter after the
// replacement is Ready: 0 at once, 10 minutes 10 minutes later; either way
// before the 30-minute ready wait runs out, so the deployment succeeds.
func TestPreview_ContinueAfterStartsRerouting(t *testing.T) {
	in := Input{Config: hostCount(0), Type: target.BlueGreen, Targets: blueGreen(1),
		BlueGreen: BlueGreen{ReadyAction: StopDeployment, ReadyWait: 30 * time.Minute}}
	rerouteAt := func(s Schedule) Seconds {
		for _, ph := range s.Phases {
			if ph.Phase == PhaseReroute {
				return ph.Start
			}
		}
		return -1
	}
	for _, c := range []struct {
		name          string
		durations     map[string]time.Duration
		continueAfter time.Duration
		want          Seconds // when rerouting starts
	}{
		{"at once", nil, 0, 60},                                            // install 60s, Continue at once
		{"ten minutes later", nil, 10 * time.Minute, 60 + 600},             // install 60s, Continue 600s later
		{"ready from the start", map[string]time.Duration{"g01": 0}, 0, 0}, // install takes no time: Ready and continued at 0s
	} {
		s, err := Preview(PreviewInput{Input: in, Durations: c.durations, ContinueAfter: c.continueAfter})
		if err != nil {
			t.Fatal(err)
		}
		if s.Status != Succeeded || rerouteAt(s) != c.want {
			t.Errorf("%s: %s %s, Reroute from %vs (%+v); want Succeeded, Reroute from %vs", c.name, s.Status, s.ErrorCode, rerouteAt(s), s.Phases, c.want)
		}
	}
}

// A failing AfterAllowTraffic hook fails a Lambda deployment after its
// traffic has moved (User Guide, "AppSpec 'hooks' section" for Lambda:
// AfterAllowTraffic runs once all traffic is on the new version, and a
// failed hook fails the deployment, with HOOK_EXECUTION_FAILURE).
// PreviewInput.FailSteps names it; it fails although the traffic shift
// before it succeeded.
func TestPreview_FailedHookAfterTheShifts(t *testing.T) {
	c := predef(t, "CodeDeployDefault.LambdaAllAtOnce")
	s, err := Preview(PreviewInput{Input: Input{Config: c, Type: target.BlueGreen}, StepDuration: 10 * time.Second, FailSteps: []Phase{PhaseAfterAllowTraffic}})
	if err != nil {
		t.Fatal(err)
	}
	if s.Status != Failed || s.ErrorCode != HookExecutionFailure || s.DurationSeconds != 20 {
		t.Errorf("%s %s after %vs: %s; want Failed HOOK_EXECUTION_FAILURE after 20s (BeforeAllowTraffic, the shift, AfterAllowTraffic)", s.Status, s.ErrorCode, s.DurationSeconds, s.Explanation)
	}
}

// PreviewInput.FailSteps: a listed step phase fails; only AllowTraffic is
// limited to its first shift. A Lambda deployment resumed in
// AfterAllowTraffic with its hook in flight, its Progress still counting
// the shift done (Progress.Shifts is not cleared by whoever stored it), has
// that hook fail.
func TestPreview_FailedHookResumedWithShiftsCounted(t *testing.T) {
	c := predef(t, "CodeDeployDefault.LambdaAllAtOnce")
	in := Input{Config: c, Type: target.BlueGreen, Progress: Progress{Phase: PhaseAfterAllowTraffic, StepIssued: true, Shifts: 1}}
	s, err := Preview(PreviewInput{Input: in, StepDuration: 10 * time.Second, FailSteps: []Phase{PhaseAfterAllowTraffic}})
	if err != nil {
		t.Fatal(err)
	}
	if s.Status != Failed || s.ErrorCode != HookExecutionFailure || s.DurationSeconds != 10 {
		t.Errorf("%s %s after %vs: %s; want Failed HOOK_EXECUTION_FAILURE after 10s", s.Status, s.ErrorCode, s.DurationSeconds, s.Explanation)
	}
}

package plan

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/fleetdeploy/fleetdeploy/config"
	"github.com/fleetdeploy/fleetdeploy/target"
)

// Traffic shifts follow config.TrafficRouting.Steps (package
// documentation, "Lambda and ECS"); the explanation counts them from 1 while
// a shift is in flight, and a failed shift is named by its number and
// weight in the failure's message.
func TestTraffic_ExplanationsCountShiftsFromOne(t *testing.T) {
	c := predef(t, "CodeDeployDefault.LambdaCanary10Percent5Minutes") // 10% now, 100% after 5 minutes
	p := mustNew(t, Input{Config: c, Type: target.BlueGreen, Progress: Progress{Phase: PhaseAllowTraffic}})
	d := p.Next(epoch)
	if d.Step == nil || d.Step.Weight != 10 || !strings.Contains(d.Explanation, "(shift 1 of 2)") {
		t.Fatalf("first shift: %+v", d)
	}
	if d = p.Next(epoch); d.Step != nil || !strings.Contains(d.Explanation, "shifting traffic to 10% (shift 1 of 2)") {
		t.Errorf("first shift still in flight: %+v", d)
	}
	if err := p.StepFinished(StepResult{Succeeded: true}); err != nil {
		t.Fatal(err)
	}
	d = p.Next(epoch.Add(time.Minute))
	if d.Step != nil || !d.WaitUntil.Equal(epoch.Add(5*time.Minute)) || !strings.HasPrefix(d.Explanation, "10% of traffic on the replacement; next shift to 100%") {
		t.Errorf("between the shifts: %+v", d)
	}
	d = p.Next(epoch.Add(5 * time.Minute))
	if d.Step == nil || d.Step.Weight != 100 || !strings.Contains(d.Explanation, "(shift 2 of 2)") {
		t.Fatalf("second shift: %+v", d)
	}
	if err := p.StepFinished(StepResult{Succeeded: false, Message: "listener gone"}); err != nil {
		t.Fatal(err)
	}
	d = p.Next(epoch.Add(5 * time.Minute))
	if want := "AllowTraffic (shift 2 to 100%) failed: listener gone"; d.Status != Failed || d.Explanation != want {
		t.Errorf("failed shift: %s %q, want %q", d.Status, d.Explanation, want)
	}
}

// A failed step fails the deployment with its phase named; the message,
// when there is one, follows it (StepResult.Message).
func TestStepFailure_MessageOnlyWhenGiven(t *testing.T) {
	c := predef(t, "CodeDeployDefault.LambdaAllAtOnce")
	for _, tc := range []struct{ msg, want string }{
		{"", "BeforeAllowTraffic failed"},
		{"exit 3", "BeforeAllowTraffic failed: exit 3"},
	} {
		p := mustNew(t, Input{Config: c, Type: target.BlueGreen})
		p.Next(epoch)
		if err := p.StepFinished(StepResult{Message: tc.msg}); err != nil {
			t.Fatal(err)
		}
		if d := p.Next(epoch); d.ErrorCode != HookExecutionFailure || d.Explanation != tc.want {
			t.Errorf("message %q: %s %q, want %q", tc.msg, d.ErrorCode, d.Explanation, tc.want)
		}
	}
}

// ContinueDeployment (API Reference) takes the wait type to end: READY_WAIT
// only during the ready wait, TERMINATION_WAIT only during the termination
// wait; anything else is ErrNotWaiting and changes nothing.
func TestContinue_OnlyTheWaitNamed(t *testing.T) {
	in := Input{Config: predef(t, "CodeDeployDefault.AllAtOnce"), Type: target.BlueGreen, Targets: blueGreen(1),
		BlueGreen: BlueGreen{ReadyAction: StopDeployment, ReadyWait: time.Hour, TerminationAction: Terminate, TerminationWait: time.Hour}}
	p := mustNew(t, in)
	if err := p.Continue(TerminationWait); !errors.Is(err, ErrNotWaiting) {
		t.Errorf("Continue(TERMINATION_WAIT) while installing: %v", err)
	}
	finishAll(t, p, p.Next(epoch).Start, true)
	if d := p.Next(epoch); d.Status != Ready {
		t.Fatalf("after install: %+v", d)
	}
	if err := p.Continue(TerminationWait); !errors.Is(err, ErrNotWaiting) {
		t.Errorf("Continue(TERMINATION_WAIT) in the ready wait: %v", err)
	}
	if d := p.Next(epoch); d.Status != Ready {
		t.Errorf("a refused Continue must not end the ready wait: %+v", d)
	}
	if err := p.Continue(ReadyWait); err != nil {
		t.Fatal(err)
	}
	for range 2 { // reroute, then block the originals
		finishAll(t, p, p.Next(epoch).Start, true)
	}
	if d := p.Next(epoch); d.Phase != PhaseTerminationWait {
		t.Fatalf("after blocking the originals: %+v", d)
	}
	if err := p.Continue(ReadyWait); !errors.Is(err, ErrNotWaiting) {
		t.Errorf("Continue(READY_WAIT) in the termination wait: %v", err)
	}
}

// A Green target's reroute (its AllowTraffic events) runs only in the
// Reroute phase: stored InProgress there it is in flight and is waited for;
// stored InProgress in any other phase the state is inconsistent.
func TestReroute_InProgressOnlyInReroute(t *testing.T) {
	ts := greenInstalled(2, target.TargetInProgress, target.TargetPending)
	in := Input{Config: predef(t, "CodeDeployDefault.OneAtATime"), Type: target.BlueGreen, Targets: ts, Progress: Progress{Phase: PhaseReroute}}
	p := mustNew(t, in)
	if d := p.Next(epoch); d.Done || len(d.Start) != 0 {
		t.Fatalf("g01 rerouting (one at a time): %+v, want a wait", d)
	}
	finishAll(t, p, []int{0}, true)
	if d := p.Next(epoch); len(d.Start) != 1 || d.Start[0] != 1 {
		t.Errorf("after g01: %+v, want g02", d)
	}
	in.Progress.Phase = PhaseBlockOriginals
	if _, err := New(in); !errors.Is(err, ErrInvalidInput) || !strings.Contains(err.Error(), "Targets[0].Reroute") {
		t.Errorf("reroute InProgress while blocking the originals: %v", err)
	}
}

// Zonal deployments (package documentation, "Zonal deployments"): when no
// target may start, the explanation names the minimum that holds it back —
// the zone's own when the fleet could spare a target, the fleet's otherwise.
func TestZonal_BlockedExplanationNamesTheMinimum(t *testing.T) {
	perZone := &config.MinimumHealthyHosts{Type: config.HostCount, Value: 1}
	for _, tc := range []struct {
		name   string
		fleetM int
		want   string
	}{
		// 4 targets, a-000 failed: 3 healthy; the fleet could spare one more
		// (3−1 ≥ 2) but zone a must keep 1 of its 2.
		{"zone minimum", 2, `zone "a": 1 targets still to deploy`},
		// The fleet must keep 3 of 4: after a-000 failed none may go.
		{"fleet minimum", 3, "3 targets still to deploy, but only 3 healthy targets are not in flight and 3 must stay healthy"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := zonalConfig(config.MinimumHealthyHosts{Type: config.HostCount, Value: tc.fleetM}, perZone, nil, nil)
			s := preview(t, inPlace(c, zonalFleet(map[string]int{"a": 2, "b": 2})), "a-000")
			if s.Status != Failed || s.ErrorCode != HealthConstraints || !strings.Contains(s.Explanation, tc.want) {
				t.Errorf("%s %s %q, want %q", s.Status, s.ErrorCode, s.Explanation, tc.want)
			}
		})
	}
}

// StopDeployment (API Reference): the stop's reason is the error code; a
// message given with it follows the code in the explanation, and nothing
// follows it when there is none.
func TestStop_ExplanationCarriesTheMessage(t *testing.T) {
	for _, tc := range []struct{ msg, want string }{
		{"", "stopped (MANUAL_STOP) in phase Deploy"},
		{"operator", "stopped (MANUAL_STOP: operator) in phase Deploy"},
	} {
		p := mustNew(t, inPlace(hostCount(0), fleet(1)))
		if err := p.Stop(ManualStop, tc.msg); err != nil {
			t.Fatal(err)
		}
		if d := p.Next(epoch); d.Status != Stopped || !strings.HasPrefix(d.Explanation, tc.want) {
			t.Errorf("message %q: %s %q, want %q", tc.msg, d.Status, d.Explanation, tc.want)
		}
	}
}

// Blue/green HalfAtATime: at least half the replacement targets (rounded
// up) must take traffic ("Working with deployment configurations in
// CodeDeploy"). Once too few are left to get there, rerouting stops and the
// explanation gives the count.
func TestReroute_ImpossibleExplained(t *testing.T) {
	s := bgPreview(t, predef(t, "CodeDeployDefault.HalfAtATime"), 4, PreviewInput{FailReroute: []string{"g01", "g02", "g03"}})
	want := "rerouting can no longer reach 2 targets: 0 took traffic, 3 failed, 1 left"
	if s.Status != Failed || s.ErrorCode != HealthConstraints || !strings.Contains(s.Explanation, want) {
		t.Errorf("%s %s %q, want %q", s.Status, s.ErrorCode, s.Explanation, want)
	}
}

// The first traffic shift is due when AllowTraffic begins (package
// documentation, "Lambda and ECS": shift k is due TrafficStep.At after the
// phase began; the first At is 0). A deployment resumed with a PhaseStarted
// later than now (the caller's clock went back) waits for it with none of
// the traffic on the replacement yet, rather than shifting early.
func TestTraffic_FirstShiftWaitsForThePhaseStart(t *testing.T) {
	c := predef(t, "CodeDeployDefault.LambdaLinear10PercentEvery1Minute")
	started := epoch.Add(time.Minute)
	p := mustNew(t, Input{Config: c, Type: target.BlueGreen, Progress: Progress{Phase: PhaseAllowTraffic, PhaseStarted: started}})
	d := p.Next(epoch)
	if d.Done || d.Step != nil || !d.WaitUntil.Equal(started) || !strings.HasPrefix(d.Explanation, "0% of traffic on the replacement; next shift to 10%") {
		t.Errorf("before the phase start: %+v, want a wait until %s with 0%% on the replacement", d, started)
	}
	if d = p.Next(started); d.Step == nil || d.Step.Index != 0 || d.Step.Weight != 10 {
		t.Errorf("at the phase start: %+v, want shift 1 to 10%%", d)
	}
}

package plan

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

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
	// Schedule.Succeeded is not checked: it counts t01 and t02, which
	// succeeded, as not attempted (sim.count ignores targets that were in
	// flight at the start).
	if s.Status != Succeeded {
		t.Errorf("%s %s: %s", s.Status, s.ErrorCode, s.Explanation)
	}
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

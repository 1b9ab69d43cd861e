package plan

import (
	"slices"
	"strings"
	"testing"

	"github.com/fleetdeploy/fleetdeploy/health"
	"github.com/fleetdeploy/fleetdeploy/target"
)

// "CodeDeploy instance health": a deployment that cannot keep the minimum
// from the start fails at once with HEALTH_CONSTRAINTS_INVALID. With exactly
// M targets healthy and no Unhealthy target to repair, taking any one
// offline breaks the minimum, so that is the case too (package
// documentation: "at most M targets are healthy") — not HEALTH_CONSTRAINTS,
// which is for a deployment that started and got stuck.
func TestHealthConstraintsInvalid_HealthyEqualsMinimum(t *testing.T) {
	ts := fleet(4)
	withHealth(ts, "t01", health.Unhealthy, health.Unknown)
	ts[0].Status = target.TargetSkipped // 3 healthy, nothing to repair
	s := preview(t, inPlace(hostCount(3), ts))
	expectResult(t, s, Failed, HealthConstraintsInvalid, 0, 0, 4)
	if len(starts(s)) != 0 {
		t.Errorf("started %v; nothing may be touched", starts(s))
	}
}

// NO_INSTANCES (API Reference, ErrorInformation): the explanation names the
// fleet that is empty — the replacement fleet of a blue/green deployment.
func TestNoInstances_ExplanationNamesTheFleet(t *testing.T) {
	bg := blueGreen(2)[2:] // originals only
	d, err := Decide(Input{Config: hostCount(0), Type: target.BlueGreen, Targets: bg}, epoch)
	if err != nil {
		t.Fatal(err)
	}
	if d.ErrorCode != NoInstances || !strings.Contains(d.Explanation, "no replacement (Green) targets") {
		t.Errorf("blue/green without Green targets: %s %q", d.ErrorCode, d.Explanation)
	}
	d, err = Decide(inPlace(hostCount(0), nil), epoch)
	if err != nil {
		t.Fatal(err)
	}
	if d.ErrorCode != NoInstances || strings.Contains(d.Explanation, "Green") {
		t.Errorf("in-place without targets: %s %q", d.ErrorCode, d.Explanation)
	}
}

// At most one deployment per deployment group is active at a time (User
// Guide, "CodeDeploy quotas"): Created, InProgress, Baking and Ready hold
// the slot; Queued waits for it; Succeeded, Failed and Stopped are final and
// released it. Every status of DeploymentInfo is valid; nothing else is.
func TestDeploymentStatus_ActiveFinalValid(t *testing.T) {
	var active, final []DeploymentStatus
	for _, s := range DeploymentStatus("").Values() {
		if !s.Valid() {
			t.Errorf("%s is not Valid", s)
		}
		if s.IsActive() {
			active = append(active, s)
		}
		if s.Final() {
			final = append(final, s)
		}
	}
	if want := []DeploymentStatus{Created, InProgress, Baking, Ready}; !slices.Equal(active, want) {
		t.Errorf("active %v, want %v", active, want)
	}
	if want := []DeploymentStatus{Succeeded, Failed, Stopped}; !slices.Equal(final, want) {
		t.Errorf("final %v, want %v", final, want)
	}
	for _, s := range []DeploymentStatus{"", "Pending", "inprogress", "Skipped"} {
		if s.Valid() || s.IsActive() || s.Final() {
			t.Errorf("%q: Valid %v IsActive %v Final %v, want all false", s, s.Valid(), s.IsActive(), s.Final())
		}
	}
}

// A Lambda deployment stored after its last traffic shift (every shift of
// the schedule done) resumes with the AfterAllowTraffic hook (User Guide,
// "AppSpec 'hooks' section": AfterAllowTraffic runs after traffic has
// shifted); one shift more than the schedule has is an error.
func TestResume_AllShiftsDone(t *testing.T) {
	c := predef(t, "CodeDeployDefault.LambdaCanary10Percent5Minutes")
	n := len(c.TrafficRouting.Steps())
	in := Input{Config: c, Type: target.BlueGreen, Progress: Progress{Phase: PhaseAllowTraffic, PhaseStarted: epoch, Shifts: n}}
	d, err := Decide(in, epoch)
	if err != nil {
		t.Fatalf("resuming with all %d shifts done: %v", n, err)
	}
	if d.Step == nil || d.Step.Phase != PhaseAfterAllowTraffic {
		t.Errorf("after all shifts: %+v, want the AfterAllowTraffic hook", d)
	}
	in.Progress.Shifts = n + 1
	if _, err := New(in); err == nil || !strings.Contains(err.Error(), "Progress.Shifts") {
		t.Errorf("Shifts %d of %d: %v, want an error naming Progress.Shifts", n+1, n, err)
	}
}

// "CodeDeploy instance health": the deployment succeeds when at least
// max(M, 1) targets got the revision. The final explanation gives the
// tally against that rule.
func TestSuccessRule_ExplanationTalliesTargets(t *testing.T) {
	s := preview(t, inPlace(predef(t, "CodeDeployDefault.HalfAtATime"), fleet(4)), "t04")
	if want := "3 of 4 targets succeeded, 1 failed; at least 2 must succeed"; s.Status != Succeeded || !strings.Contains(s.Explanation, want) {
		t.Errorf("%s %q, want %q", s.Status, s.Explanation, want)
	}
	s = preview(t, inPlace(predef(t, "CodeDeployDefault.AllAtOnce"), fleet(3)), ids(1, 2, 3)...)
	if want := "0 of 3 targets succeeded, 3 failed; at least 1 must succeed"; s.Status != Failed || !strings.Contains(s.Explanation, want) {
		t.Errorf("%s %q, want %q", s.Status, s.Explanation, want)
	}
}

// OneAtATime fails "as soon as a target other than the last fails" (User
// Guide, "Working with deployment configurations in CodeDeploy"); the
// explanation says so.
func TestOneAtATime_ExplanationNamesTheRule(t *testing.T) {
	s := preview(t, inPlace(predef(t, "CodeDeployDefault.OneAtATime"), fleet(3)), "t01")
	expectResult(t, s, Failed, HealthConstraints, 0, 1, 2)
	if want := "every target but the last must succeed"; !strings.Contains(s.Explanation, want) {
		t.Errorf("%q, want %q", s.Explanation, want)
	}
}

// A blue/green rollback allows traffic back to the originals, then blocks
// the replacements (User Guide, "Redeploy and roll back a deployment with
// CodeDeploy"): a Green target's Status may be InProgress only in
// BlockReplacements, a Blue one's only in AllowOriginals.
func TestRollbackStatus_InProgressOnlyInItsPhase(t *testing.T) {
	c := predef(t, "CodeDeployDefault.AllAtOnce")
	for _, tc := range []struct {
		phase   Phase
		label   target.TargetLabel
		wantErr bool
	}{
		{PhaseAllowOriginals, target.LabelBlue, false},
		{PhaseAllowOriginals, target.LabelGreen, true},
		{PhaseBlockReplacements, target.LabelGreen, false},
		{PhaseBlockReplacements, target.LabelBlue, true},
	} {
		ts := blueGreen(1)
		for i := range ts {
			ts[i].Reroute = ""
			if ts[i].Label == tc.label {
				ts[i].Status = target.TargetInProgress
			}
		}
		_, err := New(Input{Config: c, Type: target.BlueGreen, Targets: ts, Rollback: true, Progress: Progress{Phase: tc.phase}})
		if (err != nil) != tc.wantErr {
			t.Errorf("%s target InProgress in %s: err = %v, want error %v", tc.label, tc.phase, err, tc.wantErr)
		}
	}
}

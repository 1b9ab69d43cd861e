package plan

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/fleetdeploy/fleetdeploy/config"
	"github.com/fleetdeploy/fleetdeploy/target"
)

// These tests pin what a planner rebuilt from stored state decides (package
// documentation, "Resuming after a crash"): it must decide as the planner
// that wrote the state would have.

// withStatus returns ts with the listed targets' Status set to s.
func withStatus(ts []Target, s target.TargetStatus, idList ...string) []Target {
	for i := range ts {
		if slices.Contains(idList, ts[i].ID) {
			ts[i].Status = s
		}
	}
	return ts
}

// indexOf returns the index of the target with the given ID.
func indexOf(t *testing.T, ts []Target, id string) int {
	t.Helper()
	i := slices.IndexFunc(ts, func(tg Target) bool { return tg.ID == id })
	if i < 0 {
		t.Fatalf("no target %q", id)
	}
	return i
}

// HEALTH_CONSTRAINTS_INVALID is decided before anything is deployed ("CodeDeploy
// instance health": the deployment fails at once when the minimum cannot be
// kept). A resumed deployment with a target already deployed and one in flight
// is past that point: at this moment only 3 targets are healthy and not in
// flight, as many as must stay healthy, yet it must wait for the target in
// flight, not fail.
func TestResume_InFlightIsNotAFreshStart(t *testing.T) {
	ts := fleet(4)
	withStatus(ts, target.TargetSucceeded, "t01")
	withStatus(ts, target.TargetInProgress, "t02")
	p := mustNew(t, inPlace(hostCount(3), ts))
	d := p.Next(epoch)
	if d.Done || len(d.Start) != 0 || d.Status != InProgress {
		t.Fatalf("resumed with t02 in flight: %+v, want a wait for t02", d)
	}
	finishAll(t, p, []int{1}, true)
	if d = p.Next(epoch); !slices.Equal(idsOf(Input{Targets: ts}, d.Start), ids(3)) {
		t.Errorf("after t02 succeeded: start %v, want t03", idsOf(Input{Targets: ts}, d.Start))
	}
}

// Zones are deployed one at a time and the monitor wait starts once the
// zone's last target finished (User Guide, "Create a deployment
// configuration with CodeDeploy"). A zone resumed with a target still in
// flight is not finished: no bake, no next zone, until it is reported.
func TestResume_ZoneWithTargetInFlightIsNotDone(t *testing.T) {
	ts := zonalFleet(map[string]int{"a": 2, "b": 2})
	withStatus(ts, target.TargetSucceeded, "a-000")
	withStatus(ts, target.TargetInProgress, "a-001")
	c := zonalConfig(config.MinimumHealthyHosts{Type: config.HostCount, Value: 0}, nil, seconds64(600), nil)
	p := mustNew(t, inPlace(c, ts))
	d := p.Next(epoch)
	if d.Done || d.Status != InProgress || d.Zone != "a" || len(d.Start) != 0 || !d.WaitUntil.IsZero() {
		t.Fatalf("zone a with a-001 in flight: %+v, want InProgress in zone a, nothing started", d)
	}
	finishAll(t, p, []int{indexOf(t, ts, "a-001")}, true)
	if d = p.Next(epoch); d.Status != Baking || d.Zone != "a" {
		t.Errorf("zone a done: %+v, want its monitor wait", d)
	}
}

// OneAtATime: "if deployment to the last instance fails, the overall
// deployment still succeeds" (User Guide, "Working with deployment
// configurations in CodeDeploy"). Resumed after that last failure, the
// deployment succeeds; resumed after an earlier failure it fails.
func TestResume_OneAtATimeLastTargetFailed(t *testing.T) {
	oaat := predef(t, "CodeDeployDefault.OneAtATime")
	ts := withStatus(fleet(3), target.TargetSucceeded, "t01", "t02")
	withStatus(ts, target.TargetFailed, "t03")
	d, err := Decide(inPlace(oaat, ts), epoch)
	if err != nil {
		t.Fatal(err)
	}
	if !d.Done || d.Status != Succeeded {
		t.Errorf("only the last target failed: %s %s: %s, want Succeeded", d.Status, d.ErrorCode, d.Explanation)
	}

	ts = withStatus(fleet(3), target.TargetSucceeded, "t01")
	withStatus(ts, target.TargetFailed, "t02")
	d, err = Decide(inPlace(oaat, ts), epoch)
	if err != nil {
		t.Fatal(err)
	}
	if !d.Done || d.Status != Failed || d.ErrorCode != HealthConstraints || len(d.Start) != 0 {
		t.Errorf("t02 failed with t03 left: %+v, want Failed HEALTH_CONSTRAINTS without starting t03", d)
	}
}

// greenInstalled returns a blue/green fleet of n Green targets, all
// installed, resumed in the Reroute phase with the given reroute statuses.
func greenInstalled(n int, reroute ...target.TargetStatus) []Target {
	ts := blueGreen(n)
	for i := range n {
		ts[i].Status = target.TargetSucceeded
		ts[i].Reroute = reroute[i]
	}
	return ts
}

// Blue/green OneAtATime: traffic is rerouted one replacement at a time; the
// deployment fails at the first rerouting failure, except that a failure on
// the last instance still succeeds (User Guide, "Working with deployment
// configurations in CodeDeploy").
func TestResume_OneAtATimeReroute(t *testing.T) {
	oaat := predef(t, "CodeDeployDefault.OneAtATime")
	bg := func(ts []Target) Input {
		return Input{Config: oaat, Type: target.BlueGreen, Targets: ts, Progress: Progress{Phase: PhaseReroute}}
	}
	in := bg(greenInstalled(3, target.TargetSucceeded, target.TargetSucceeded, target.TargetFailed))
	d, err := Decide(in, epoch)
	if err != nil {
		t.Fatal(err)
	}
	if d.Done || d.Phase != PhaseBlockOriginals || !slices.Equal(idsOf(in, d.Start), []string{"b01", "b02", "b03"}) {
		t.Errorf("only the last reroute failed: %+v, want the originals blocked next", d)
	}

	in = bg(greenInstalled(3, target.TargetFailed, target.TargetPending, target.TargetPending))
	d, err = Decide(in, epoch)
	if err != nil {
		t.Fatal(err)
	}
	if !d.Done || d.Status != Failed || d.ErrorCode != HealthConstraints || len(d.Start) != 0 {
		t.Errorf("the first reroute failed: %+v, want Failed HEALTH_CONSTRAINTS, nothing more rerouted", d)
	}
}

// Where fleetdeploy decides (package documentation, "Decisions where AWS is
// silent"): install failures count towards OneAtATime's "one failure, on the
// last target" rule. The last Green install failing is that one failure, so
// rerouting to the others then succeeds; a second failure, on the last
// reroute, fails the deployment.
func TestOneAtATimeBlueGreen_InstallFailureCountsOnce(t *testing.T) {
	oaat := predef(t, "CodeDeployDefault.OneAtATime")
	s := bgPreview(t, oaat, 3, PreviewInput{Fail: []string{"g03"}})
	if s.Status != Succeeded {
		t.Errorf("last install failed, every reroute succeeded: %s %s: %s, want Succeeded", s.Status, s.ErrorCode, s.Explanation)
	}
	s = bgPreview(t, oaat, 3, PreviewInput{Fail: []string{"g03"}, FailReroute: []string{"g02"}})
	if s.Status != Failed || s.ErrorCode != HealthConstraints {
		t.Errorf("last install and last reroute failed: %s %s: %s, want Failed HEALTH_CONSTRAINTS", s.Status, s.ErrorCode, s.Explanation)
	}
}

// A stop explains where the deployment got to (Decision.Explanation "says
// in words what is going on", with the counts): targets never started are
// "not attempted"; a Green target whose install failed is neither rerouted
// nor left to reroute.
func TestStop_ExplanationCountsTargets(t *testing.T) {
	in := inPlace(hostCount(3), fleet(5)) // W = 2
	p := mustNew(t, in)
	d := p.Next(epoch)
	if len(d.Start) != 2 {
		t.Fatalf("HOST_COUNT 3 of 5: %+v, want 2 started", d)
	}
	finishAll(t, p, d.Start[:1], true)
	finishAll(t, p, d.Start[1:], false)
	if err := p.Stop(ManualStop, ""); err != nil {
		t.Fatal(err)
	}
	d = p.Next(epoch)
	if want := "1 succeeded, 1 failed, 3 not attempted"; d.Status != Stopped || !strings.Contains(d.Explanation, want) {
		t.Errorf("stopped: %s %q, want %q", d.Status, d.Explanation, want)
	}

	bg := Input{Config: predef(t, "CodeDeployDefault.HalfAtATime"), Type: target.BlueGreen, Targets: blueGreen(4)}
	p = mustNew(t, bg)
	for range 2 { // install: g01, g02 then g03, g04 (g04 fails)
		d = p.Next(epoch)
		for _, i := range d.Start {
			if err := p.Finished(i, bg.Targets[i].ID != "g04"); err != nil {
				t.Fatal(err)
			}
		}
	}
	d = p.Next(epoch)
	if d.Phase != PhaseReroute || len(d.Start) != 2 {
		t.Fatalf("reroute: %+v, want 2 of the 3 installed targets", d)
	}
	if err := p.Stop(AlarmActive, "alarm"); err != nil {
		t.Fatal(err)
	}
	finishAll(t, p, d.Start, true)
	d = p.Next(epoch)
	if want := "2 succeeded, 0 failed, 1 not attempted"; d.Status != Stopped || !strings.Contains(d.Explanation, want) {
		t.Errorf("stopped while rerouting: %s %q, want %q", d.Status, d.Explanation, want)
	}
}

// The explanation names what a Targets phase does to the originals:
// blocking their traffic in a deployment, allowing it back in a rollback
// (User Guide, "AppSpec 'hooks' section": BlockTraffic, AllowTraffic).
func TestExplanation_OriginalsBlockedOrAllowedBack(t *testing.T) {
	ts := blueGreen(1)
	ts[0].Reroute = ""
	d, err := Decide(Input{Config: predef(t, "CodeDeployDefault.AllAtOnce"), Type: target.BlueGreen, Targets: ts, Rollback: true}, epoch)
	if err != nil {
		t.Fatal(err)
	}
	if d.Phase != PhaseAllowOriginals || !strings.Contains(d.Explanation, "allowing traffic back") {
		t.Errorf("rollback: %s %q", d.Phase, d.Explanation)
	}
	in := Input{Config: predef(t, "CodeDeployDefault.AllAtOnce"), Type: target.BlueGreen, Targets: greenInstalled(1, target.TargetSucceeded),
		Progress: Progress{Phase: PhaseBlockOriginals}}
	if d, err = Decide(in, epoch); err != nil {
		t.Fatal(err)
	}
	if d.Phase != PhaseBlockOriginals || !strings.Contains(d.Explanation, "blocking traffic on") {
		t.Errorf("deployment: %s %q", d.Phase, d.Explanation)
	}
}

// Progress.BakeZone and BakeUntil record a zonal monitor wait so that a
// resumed deployment keeps it (package documentation, "Zonal
// deployments"). A configuration without monitor durations (API
// Reference, ZonalConfig: both optional) has no wait, so none is recorded.
func TestZonal_NoMonitorWaitRecordsNone(t *testing.T) {
	ts := zonalFleet(map[string]int{"a": 1, "b": 1})
	p := mustNew(t, inPlace(zonalConfig(config.MinimumHealthyHosts{Type: config.HostCount, Value: 0}, nil, nil, nil), ts))
	finishAll(t, p, p.Next(epoch).Start, true)
	d := p.Next(epoch.Add(time.Minute))
	if d.Zone != "b" || len(d.Start) != 1 || d.Status != InProgress {
		t.Fatalf("after zone a: %+v, want zone b started at once", d)
	}
	if d.Progress.BakeZone != "" || !d.Progress.BakeUntil.IsZero() {
		t.Errorf("progress %+v records a monitor wait that was never there", d.Progress)
	}
}

// Blue/green OneAtATime resumed in Reroute after two Green installs failed:
// only one failure, on the last target, is allowed (User Guide, "Working
// with deployment configurations in CodeDeploy"; install failures count, see
// TestOneAtATimeBlueGreen_InstallFailureCountsOnce), so the deployment has
// already failed and no traffic is rerouted to the installed ones.
func TestResume_OneAtATimeRerouteAfterTwoInstallFailures(t *testing.T) {
	ts := greenInstalled(4, "", "", "", "")
	ts[0].Status, ts[1].Status = target.TargetFailed, target.TargetFailed
	in := Input{Config: predef(t, "CodeDeployDefault.OneAtATime"), Type: target.BlueGreen, Targets: ts, Progress: Progress{Phase: PhaseReroute}}
	d, err := Decide(in, epoch)
	if err != nil {
		t.Fatal(err)
	}
	if !d.Done || d.Status != Failed || d.ErrorCode != HealthConstraints || len(d.Start) != 0 {
		t.Errorf("two installs failed: %+v, want Failed HEALTH_CONSTRAINTS with nothing rerouted", d)
	}
}

// Blue/green rerouting fails once fewer replacement targets than the minimum
// healthy hosts can still take traffic (User Guide, "CodeDeploy instance
// health": the minimum applies to the replacement fleet). HOST_COUNT 2 of 4:
// g01 and g04 failed, g02 and g03 in flight. When g02 fails only g03 is
// left, 1 < 2: the deployment is failing, waits for g03, and the
// explanation says what was left when rerouting could no longer succeed.
func TestReroute_AbortExplanationCountsTargetsLeft(t *testing.T) {
	ts := greenInstalled(4, target.TargetFailed, target.TargetInProgress, target.TargetInProgress, target.TargetFailed)
	p := mustNew(t, Input{Config: hostCount(2), Type: target.BlueGreen, Targets: ts, Progress: Progress{Phase: PhaseReroute}})
	if d := p.Next(epoch); d.Done || len(d.Start) != 0 {
		t.Fatalf("2 in flight, window 2: %+v, want nothing new started", d)
	}
	if err := p.Finished(1, false); err != nil {
		t.Fatal(err)
	}
	if d := p.Next(epoch); d.Done || d.Explanation != "failing: waiting for 1 in flight to finish" {
		t.Errorf("g02 failed: %+v, want failing while g03 is in flight", d)
	}
	if err := p.Finished(2, true); err != nil {
		t.Fatal(err)
	}
	d := p.Next(epoch)
	if !d.Done || d.Status != Failed || d.ErrorCode != HealthConstraints || !strings.Contains(d.Explanation, "can no longer reach 2 targets: 0 took traffic, 3 failed, 1 left") {
		t.Errorf("%s %s: %q, want Failed HEALTH_CONSTRAINTS naming 0 rerouted, 3 failed, 1 left", d.Status, d.ErrorCode, d.Explanation)
	}
}

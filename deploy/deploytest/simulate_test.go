package deploytest_test

import (
	"fmt"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/fleetdeploy/fleetdeploy/config"
	"github.com/fleetdeploy/fleetdeploy/deploy"
	"github.com/fleetdeploy/fleetdeploy/deploy/deploytest"
	"github.com/fleetdeploy/fleetdeploy/deploy/plan"
	"github.com/fleetdeploy/fleetdeploy/revision"
	"github.com/fleetdeploy/fleetdeploy/target"
	"github.com/fleetdeploy/fleetdeploy/target/targettest"
)

func simRev(name string) revision.Location {
	return revision.Location{Type: revision.LocationS3, S3: &revision.S3Location{Bucket: "releases", Key: name + ".zip", BundleType: revision.BundleZip}}
}

func seconds(n int64) *int64 { return &n }

// zonalScenario: 6 targets in zones a, b, c (two each), a zonal
// configuration that deploys one zone at a time and bakes each for an hour,
// alarms with automatic rollback; v1 is deployed, then v2. Events take a
// minute each.
func zonalScenario() deploytest.Scenario {
	cfg := config.Config{Name: "Zonal.OneZoneAtATime", MinimumHealthyHosts: &config.MinimumHealthyHosts{Type: config.HostCount, Value: 4},
		ZonalConfig: &config.ZonalConfig{MonitorDurationInSeconds: seconds(3600), FirstZoneMonitorDurationInSeconds: seconds(3600),
			MinimumHealthyHostsPerZone: &config.MinimumHealthyHosts{Type: config.HostCount, Value: 0}}}
	s := deploytest.Scenario{
		Group: deploy.Group{DeploymentConfigName: cfg.Name,
			AutoRollbackConfiguration: deploy.AutoRollbackConfiguration{Enabled: true,
				Events: []deploy.AutoRollbackEvent{deploy.AutoRollbackDeploymentFailure, deploy.AutoRollbackDeploymentStopOnAlarm}},
			AlarmConfiguration: deploy.AlarmConfiguration{Enabled: true, Alarms: []deploy.Alarm{{Name: "5xx"}}}},
		Configs:   []config.Config{cfg},
		Revisions: []revision.Location{simRev("v1"), simRev("v2")},
	}
	for i := range 6 {
		s.Fleet = append(s.Fleet, deploytest.SimTarget{Target: target.Target{ID: fmt.Sprintf("i-%d", i), Zone: "zone-" + string(rune('a'+i/2))},
			Duration: time.Minute})
	}
	return s
}

// An alarm goes off at 3h, during v2's bake of its first zone (v2 starts
// at 2h21m, its first zone's events end at 2h28m and bake until 3h28m).
// CodeDeploy's rules: the alarm is polled and the deployment stopped
// (Stopped, ALARM_ACTIVE); no other zone starts (i-2…i-5 never run); a
// rollback deployment, created by codeDeployRollback, redeploys the last
// successful revision (v1), linked both ways; it does not poll the alarm
// that is still in ALARM, and succeeds.
func TestSimulateAlarmDuringZonalBake(t *testing.T) {
	s := zonalScenario()
	s.AlarmChanges = []deploytest.AlarmChange{{At: 3 * time.Hour, Name: "5xx", State: target.AlarmAlarm}}
	tl, err := deploytest.Simulate(t, s)
	if err != nil {
		t.Fatal(err)
	}
	if len(tl.Deployments) != 3 {
		t.Fatalf("%d deployments; want v1, v2 and v2's rollback: %+v", len(tl.Deployments), tl.Deployments)
	}
	v1, v2, rb := tl.Deployments[0], tl.Deployments[1], tl.Deployments[2]
	if v1.Status != deploy.StatusSucceeded || v1.Ended != 2*time.Hour+21*time.Minute {
		t.Errorf("v1: %s at %s; want Succeeded at 2h21m (3 zones of 7 one-minute events, two hour-long bakes)", v1.Status, v1.Ended)
	}
	if v2.Status != deploy.StatusStopped || v2.ErrorInformation.Code != deploy.ErrorCode("ALARM_ACTIVE") || v2.Ended != 3*time.Hour {
		t.Errorf("v2: %s %+v at %s; want Stopped with ALARM_ACTIVE at 3h", v2.Status, v2.ErrorInformation, v2.Ended)
	}
	for _, tg := range v2.Targets {
		want := target.TargetSkipped
		if tg.Target.Zone == "zone-a" {
			want = target.TargetSucceeded
		}
		if tg.Status != want {
			t.Errorf("v2 target %s (%s) ended %s; want %s", tg.TargetID, tg.Target.Zone, tg.Status, want)
		}
	}
	if rb.Creator != target.CreatorRollback || rb.Revision.Key() != simRev("v1").Key() || rb.RollbackOf != v2.ID || v2.RollbackDeploymentID != rb.ID {
		t.Errorf("rollback %+v; want codeDeployRollback of v1 linked to %s", rb, v2.ID)
	}
	if rb.Status != deploy.StatusSucceeded || rb.Started != 3*time.Hour || len(rb.Targets) != 6 {
		t.Errorf("rollback: %s from %s with %d targets; want Succeeded, from 3h, on all 6", rb.Status, rb.Started, len(rb.Targets))
	}
	// The alarm change comes first at 3h, then v2's stop, then the rollback.
	var order []string
	for _, tr := range tl.Transitions {
		if tr.At == 3*time.Hour && (tr.Kind == deploytest.KindAlarmChanged || tr.Kind == deploy.EventDeploymentStatus) {
			order = append(order, string(tr.Kind)+" "+tr.DeploymentID+" "+string(tr.Status))
		}
	}
	want := []string{"AlarmChanged  ", "DeploymentStatus " + v2.ID + " Stopped", "DeploymentStatus " + rb.ID + " Created", "DeploymentStatus " + rb.ID + " InProgress"}
	if !slices.Equal(order, want) {
		t.Errorf("at 3h: %q; want %q", order, want)
	}
	// Minimum healthy hosts (4 of 6) held in every deployment.
	for _, sm := range tl.Samples {
		if sm.DeploymentID == v2.ID && sm.Healthy < 4 {
			t.Errorf("%s at %s: %d healthy; the minimum is 4", sm.DeploymentID, sm.At, sm.Healthy)
		}
	}
	// Every target status of v2 and of its rollback, written from the
	// rules: v2 takes zone-a (window N−M = 2) at 2h21m, its seven
	// one-minute events end at 2h28m, then it bakes; the stop at 3h skips
	// the zones not started. The rollback is not zonal (User Guide,
	// "Create a deployment configuration": zonal configurations do not
	// apply to rollbacks): two at a time, the targets left on v2 (Old
	// against v1) first, seven minutes a batch, done at 3h21m.
	h := func(hours, minutes int) time.Duration {
		return time.Duration(hours)*time.Hour + time.Duration(minutes)*time.Minute
	}
	type ts struct {
		at     time.Duration
		dep    string
		target string
		status target.TargetStatus
	}
	wantTS := []ts{
		{h(2, 21), v2.ID, "i-0", target.TargetInProgress}, {h(2, 21), v2.ID, "i-1", target.TargetInProgress},
		{h(2, 28), v2.ID, "i-0", target.TargetSucceeded}, {h(2, 28), v2.ID, "i-1", target.TargetSucceeded},
		{h(3, 0), v2.ID, "i-2", target.TargetSkipped}, {h(3, 0), v2.ID, "i-3", target.TargetSkipped},
		{h(3, 0), v2.ID, "i-4", target.TargetSkipped}, {h(3, 0), v2.ID, "i-5", target.TargetSkipped},
		{h(3, 0), rb.ID, "i-0", target.TargetInProgress}, {h(3, 0), rb.ID, "i-1", target.TargetInProgress},
		{h(3, 7), rb.ID, "i-0", target.TargetSucceeded}, {h(3, 7), rb.ID, "i-1", target.TargetSucceeded},
		{h(3, 7), rb.ID, "i-2", target.TargetInProgress}, {h(3, 7), rb.ID, "i-3", target.TargetInProgress},
		{h(3, 14), rb.ID, "i-2", target.TargetSucceeded}, {h(3, 14), rb.ID, "i-3", target.TargetSucceeded},
		{h(3, 14), rb.ID, "i-4", target.TargetInProgress}, {h(3, 14), rb.ID, "i-5", target.TargetInProgress},
		{h(3, 21), rb.ID, "i-4", target.TargetSucceeded}, {h(3, 21), rb.ID, "i-5", target.TargetSucceeded},
	}
	var gotTS []ts
	for _, tr := range tl.Transitions {
		if tr.Kind == deploy.EventTargetStatus && tr.DeploymentID != v1.ID && tr.TargetStatus != target.TargetPending {
			gotTS = append(gotTS, ts{tr.At, tr.DeploymentID, tr.TargetID, tr.TargetStatus})
		}
	}
	if !slices.Equal(gotTS, wantTS) {
		t.Errorf("target statuses of v2 and its rollback:\n got %v\nwant %v", gotTS, wantTS)
	}
	if rb.Ended != h(3, 21) {
		t.Errorf("rollback ended at %s; want 3h21m", rb.Ended)
	}
	for id, vs := range tl.Violations {
		for _, v := range vs {
			t.Errorf("%s broke a rule: %v", id, v)
		}
	}
	in, sched := tl.Schedule(v2.ID)
	if len(in.Targets) != 6 || sched.Status != "Stopped" || len(sched.Zones) != 1 || sched.Zones[0].Zone != "zone-a" || sched.Succeeded != 2 || sched.NotAttempted != 4 {
		t.Errorf("Schedule(v2) = %d targets, %+v", len(in.Targets), sched)
	}
}

// The same scenario gives an equal timeline, run after run: here one with
// concurrent targets of equal durations, a failure, a stop and an alarm at
// instants where calls end and polls fall.
func TestSimulateDeterministic(t *testing.T) {
	s := deploytest.Scenario{
		Group: deploy.Group{DeploymentConfigName: "CodeDeployDefault.HalfAtATime",
			AutoRollbackConfiguration: deploy.AutoRollbackConfiguration{Enabled: true,
				Events: []deploy.AutoRollbackEvent{deploy.AutoRollbackDeploymentFailure, deploy.AutoRollbackDeploymentStopOnAlarm}},
			AlarmConfiguration: deploy.AlarmConfiguration{Enabled: true, Alarms: []deploy.Alarm{{Name: "latency"}}}},
		Revisions:    []revision.Location{simRev("v1"), simRev("v2"), simRev("v3")},
		Scripts:      []deploytest.Script{{Target: "i-3", Event: target.Install, Outcome: targettest.Fail(target.CodeScriptFailed, "disk full").OnRevision(simRev("v2"))}},
		Stops:        []deploytest.StopAt{{At: 40 * time.Minute}},
		AlarmChanges: []deploytest.AlarmChange{{At: 20 * time.Minute, Name: "latency", State: target.AlarmAlarm}},
		PollInterval: time.Minute,
	}
	for i := range 8 {
		s.Fleet = append(s.Fleet, deploytest.SimTarget{Target: target.Target{ID: fmt.Sprintf("i-%d", i), Zone: "z"}, Duration: time.Minute})
	}
	first, err := deploytest.Simulate(t, s)
	if err != nil {
		t.Fatal(err)
	}
	if len(first.Deployments) < 4 {
		t.Fatalf("%d deployments; want v1, v2 and its rollback, v3: %+v", len(first.Deployments), first.Deployments)
	}
	for i := range 19 {
		tl, err := deploytest.Simulate(t, s)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(tl, first) {
			for j := range min(len(tl.Transitions), len(first.Transitions)) {
				if tl.Transitions[j] != first.Transitions[j] {
					t.Fatalf("run %d differs from the first at transition %d: %+v, was %+v", i+2, j, tl.Transitions[j], first.Transitions[j])
				}
			}
			t.Fatalf("run %d differs from the first", i+2)
		}
	}
}

// TestSimulateExample shows Simulate's use (a runnable Example cannot call
// it: it needs the test's *testing.T): a OneAtATime deployment of 4
// targets of 5 minutes each, one failing on v2 only; the deployment fails,
// the automatic rollback to v1 succeeds, and both keep every rule.
func TestSimulateExample(t *testing.T) {
	var fleet []deploytest.SimTarget
	for _, id := range []string{"web-1", "web-2", "web-3", "web-4"} {
		fleet = append(fleet, deploytest.SimTarget{Target: target.Target{ID: id}, Duration: 5 * time.Minute})
	}
	tl, err := deploytest.Simulate(t, deploytest.Scenario{
		Group: deploy.Group{DeploymentConfigName: "CodeDeployDefault.OneAtATime", AutoRollbackConfiguration: deploy.AutoRollbackConfiguration{
			Enabled: true, Events: []deploy.AutoRollbackEvent{deploy.AutoRollbackDeploymentFailure}}},
		Fleet:     fleet,
		Revisions: []revision.Location{simRev("v1"), simRev("v2")},
		Scripts:   []deploytest.Script{{Target: "web-2", Event: target.AfterInstall, Outcome: targettest.Fail(target.CodeScriptFailed, "smoke test").OnRevision(simRev("v2"))}},
	})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, d := range tl.Deployments {
		got = append(got, fmt.Sprintf("%s %s %s→%s", d.Creator, d.Status, d.Started, d.Ended))
	}
	// v1: 4 targets one at a time, 7 events of 5 minutes: 2h20m. v2:
	// web-1 (35m), then web-2 fails at its fifth event (25m): Failed at
	// 3h20m. The rollback redeploys v1 to every target, web-2 (failed,
	// so Unhealthy) first: 2h20m more.
	want := []string{"user Succeeded 0s→2h20m0s", "user Failed 2h20m0s→3h20m0s", "codeDeployRollback Succeeded 3h20m0s→5h40m0s"}
	if !slices.Equal(got, want) {
		t.Errorf("deployments:\n got %q\nwant %q", got, want)
	}
	if len(tl.Violations) != 0 {
		t.Errorf("violations: %v", tl.Violations)
	}
}

// BenchmarkSimulateDayOfBakes: a zonal deployment over 3 zones with
// 12-hour bakes and the alarm polled every 10 s — a day of virtual time.
// It reports virtual seconds per wall second (the goal: a day well under a
// second of wall time, about 86,400 virtual-s/s or more).
func BenchmarkSimulateDayOfBakes(b *testing.B) {
	s := zonalScenario()
	s.Revisions = s.Revisions[:1]
	s.PollInterval = 10 * time.Second
	s.Configs[0].ZonalConfig.MonitorDurationInSeconds = seconds(12 * 3600)
	s.Configs[0].ZonalConfig.FirstZoneMonitorDurationInSeconds = seconds(12 * 3600)
	var virtual time.Duration
	for b.Loop() {
		tl := inTest(b, func(t *testing.T) (*deploytest.Timeline, error) { return deploytest.Simulate(t, s) })
		if tl.End < 24*time.Hour {
			b.Fatalf("the scenario ended after %s; want a day", tl.End)
		}
		virtual += tl.End
	}
	b.ReportMetric(virtual.Seconds()/b.Elapsed().Seconds(), "virtual-s/s")
}

// inTest runs f in a test, for a benchmark: Simulate needs a *testing.T.
func inTest(b *testing.B, f func(t *testing.T) (*deploytest.Timeline, error)) *deploytest.Timeline {
	b.Helper()
	var (
		tl  *deploytest.Timeline
		err error
	)
	all := func(string, string) (bool, error) { return true, nil }
	if !testing.RunTests(all, []testing.InternalTest{{Name: b.Name(), F: func(t *testing.T) { tl, err = f(t) }}}) || err != nil {
		b.Fatalf("simulation failed: %v", err)
	}
	return tl
}

// The schedule of a simulated run carries the per-step counts a planner's
// schedule carries. v2 finds six healthy targets (v1 succeeded on all) in
// three zones of two, at least 4 healthy (HOST_COUNT 4), one zone at a
// time: each zone's two targets go
// offline together (6 − 4 = 2 may), so every step that starts a zone has
// 2 in flight and 4 healthy, and the zone itself 2 in flight and none
// healthy; the lowest healthy count is 4 and the peak in flight 2.
func TestSimulateScheduleCounts(t *testing.T) {
	tl, err := deploytest.Simulate(t, zonalScenario())
	if err != nil {
		t.Fatal(err)
	}
	if len(tl.Deployments) != 2 {
		t.Fatalf("%d deployments; want v1 and v2", len(tl.Deployments))
	}
	_, s := tl.Schedule(tl.Deployments[1].ID)
	if s.LowestHealthy != 4 || s.PeakInFlight != 2 || len(s.Steps) == 0 {
		t.Fatalf("lowest healthy %d, peak in flight %d, %d steps; want 4, 2 and some", s.LowestHealthy, s.PeakInFlight, len(s.Steps))
	}
	if got := s.Steps[0].Zones; len(got) != 3 {
		t.Errorf("first step lists zones %v; want all three", got)
	}
	lowest, peak := 6, 0
	for i, st := range s.Steps {
		if st.Minimum != 4 {
			t.Errorf("step %d: minimum %d; want 4", i, st.Minimum)
		}
		lowest, peak = min(lowest, st.Healthy), max(peak, st.InFlight)
		if len(st.Start) == 2 {
			if st.InFlight != 2 || st.Healthy != 4 {
				t.Errorf("step %d starts %v: %d in flight, %d healthy; want 2 and 4", i, st.Start, st.InFlight, st.Healthy)
			}
			k := slices.IndexFunc(st.Zones, func(c plan.ZoneCount) bool { return c.Zone == st.Zone })
			if k < 0 || st.Zones[k].InFlight != 2 || st.Zones[k].Healthy != 0 {
				t.Errorf("step %d zone counts %v; want %s with 2 in flight, 0 healthy", i, st.Zones, st.Zone)
			}
		}
	}
	if lowest != s.LowestHealthy || peak != s.PeakInFlight {
		t.Errorf("steps' lowest healthy %d and peak in flight %d; the schedule says %d and %d", lowest, peak, s.LowestHealthy, s.PeakInFlight)
	}
}

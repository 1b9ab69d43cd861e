package deploytest_test

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/fleetdeploy/fleetdeploy/config"
	"github.com/fleetdeploy/fleetdeploy/deploy"
	"github.com/fleetdeploy/fleetdeploy/deploy/deploytest"
	"github.com/fleetdeploy/fleetdeploy/revision"
	"github.com/fleetdeploy/fleetdeploy/target"
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
	in, sched := tl.Schedule(v2.ID)
	if len(in.Targets) != 6 || sched.Status != "Stopped" || len(sched.Zones) != 1 || sched.Zones[0].Zone != "zone-a" || sched.Succeeded != 2 || sched.NotAttempted != 4 {
		t.Errorf("Schedule(v2) = %d targets, %+v", len(in.Targets), sched)
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

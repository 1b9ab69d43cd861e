package plan

import (
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/fleetdeploy/fleetdeploy/config"
	"github.com/fleetdeploy/fleetdeploy/health"
	"github.com/fleetdeploy/fleetdeploy/target"
)

// The documented examples that concern configurations and planning, each
// asserting what its page states. A test's name starts with its source:
//
//   - InstanceHealth: User Guide, "CodeDeploy instance health"
//   - DeploymentConfigurations: User Guide, "Working with deployment
//     configurations in CodeDeploy"
//   - CreateConfig: User Guide, "Create a deployment configuration with
//     CodeDeploy"
//   - Quotas: User Guide, "CodeDeploy quotas"
//   - MinimumHealthyHosts, ZonalConfig: the API Reference pages of those
//     names
//   - Derived: not stated by AWS; follows from those rules and the
//     decisions in "Where fleetdeploy decides" (package fleetdeploy).

func TestInstanceHealth_N10FleetPercent85(t *testing.T) {
	// M=9 (ceil 8.5), B=1; one failed instance ⇒ overall Failed (90%→80%).
	in := inPlace(fleetPercent(85), fleet(10))
	s := preview(t, in)
	expectMW(t, s, 9, 1)
	expectResult(t, s, Succeeded, "", 10, 0, 0)
	if s.PeakInFlight != 1 {
		t.Errorf("peak in flight %d, want 1", s.PeakInFlight)
	}
	s = preview(t, in, ids(3)...)
	expectResult(t, s, Failed, HealthConstraints, 2, 1, 7)
}

func TestInstanceHealth_N10HostCount9OneAtATime(t *testing.T) {
	s := preview(t, inPlace(hostCount(9), fleet(10)))
	expectMW(t, s, 9, 1)
	if got := batches(s); len(got) != 10 {
		t.Errorf("batches %v, want 10 batches of one", got)
	}
	if s.PeakInFlight != 1 {
		t.Errorf("peak %d, want 1", s.PeakInFlight)
	}
}

func TestInstanceHealth_N10HostCount0AllAtOnce(t *testing.T) {
	s := preview(t, inPlace(hostCount(0), fleet(10)))
	expectMW(t, s, 0, 10)
	if got := batches(s); len(got) != 1 || len(got[0]) != 10 {
		t.Errorf("batches %v, want one batch of 10", got)
	}
	expectResult(t, s, Succeeded, "", 10, 0, 0)
}

func TestInstanceHealth_N10FleetPercent95ImmediateFailure(t *testing.T) {
	s := preview(t, inPlace(fleetPercent(95), fleet(10)))
	expectMW(t, s, 10, 0)
	expectResult(t, s, Failed, HealthConstraintsInvalid, 0, 0, 10)
	if got := starts(s); len(got) != 0 {
		t.Errorf("started %v, want nothing deployed", got)
	}
}

func TestInstanceHealth_N10HostCount9EarlyFailure(t *testing.T) {
	for k := 1; k < 10; k++ {
		t.Run(fmt.Sprintf("instance %d fails", k), func(t *testing.T) {
			s := preview(t, inPlace(hostCount(9), fleet(10)), ids(k)...)
			// Immediate overall failure: healthy = minimum, nothing more starts.
			expectResult(t, s, Failed, HealthConstraints, k-1, 1, 10-k)
			if want := Seconds(60 * k); s.DurationSeconds != want {
				t.Errorf("failed at %vs, want %vs (at once)", s.DurationSeconds, want)
			}
		})
	}
}

func TestInstanceHealth_N10HostCount9LastFails(t *testing.T) {
	s := preview(t, inPlace(hostCount(9), fleet(10)), ids(10)...)
	expectResult(t, s, Succeeded, "", 9, 1, 0)
}

func TestInstanceHealth_N10HostCount9AllSucceed(t *testing.T) {
	ts := fleet(10)
	s := preview(t, inPlace(hostCount(9), ts))
	expectResult(t, s, Succeeded, "", 10, 0, 0)
	healthy := 0
	for _, tg := range ts {
		after, err := health.Update(tg.Health(), health.OutcomeSucceeded, health.Ending{Succeeded: true})
		if err != nil {
			t.Fatal(err)
		}
		if after.Instance == health.Healthy {
			healthy++
		}
	}
	if healthy != 10 {
		t.Errorf("%d healthy afterwards, want 10", healthy)
	}
}

func TestInstanceHealth_N10HostCount8(t *testing.T) {
	in := inPlace(hostCount(8), fleet(10))
	s := preview(t, in)
	expectMW(t, s, 8, 2)
	if s.PeakInFlight != 2 {
		t.Errorf("peak %d, want B=2", s.PeakInFlight)
	}
	t.Run("two failures fail at once", func(t *testing.T) {
		s := preview(t, in, ids(3, 6)...)
		expectResult(t, s, Failed, HealthConstraints, 4, 2, 4)
	})
	t.Run("two failures in the first batch", func(t *testing.T) {
		s := preview(t, in, ids(1, 2)...)
		expectResult(t, s, Failed, HealthConstraints, 0, 2, 8)
	})
	t.Run("second failure on the last instance succeeds", func(t *testing.T) {
		s := preview(t, in, ids(3, 10)...)
		expectResult(t, s, Succeeded, "", 8, 2, 0)
	})
}

func TestInstanceHealth_N10HostCount0(t *testing.T) {
	in := inPlace(hostCount(0), fleet(10))
	expectMW(t, preview(t, in), 0, 10)
	s := preview(t, in, ids(1, 2, 3, 4, 5, 6, 7, 8, 9)...)
	expectResult(t, s, Succeeded, "", 1, 9, 0)
	s = preview(t, in, ids(1, 2, 3, 4, 5, 6, 7, 8, 9, 10)...)
	expectResult(t, s, Failed, HealthConstraints, 0, 10, 0)
}

// succeededIffAtLeast checks over every failure subset of an all-healthy
// fleet of n that the deployment succeeds iff at least k targets succeed.
func succeededIffAtLeast(t *testing.T, c config.Config, n, m, w, k int) {
	t.Helper()
	expectMW(t, preview(t, inPlace(c, fleet(n))), m, w)
	subsets(n, func(fail []string) {
		s := preview(t, inPlace(c, fleet(n)), fail...)
		if (s.Status == Succeeded) != (s.Succeeded >= k) {
			t.Fatalf("fail %v: %s with %d succeeded; want Succeeded iff ≥ %d\n%s", fail, s.Status, s.Succeeded, k, s.Explanation)
		}
		if s.Status != Succeeded && s.ErrorCode != HealthConstraints {
			t.Fatalf("fail %v: error code %q, want HEALTH_CONSTRAINTS", fail, s.ErrorCode)
		}
		if s.PeakInFlight > w {
			t.Fatalf("fail %v: peak %d > B=%d", fail, s.PeakInFlight, w)
		}
	})
}

func TestMinimumHealthyHosts_N9HostCount6(t *testing.T) {
	succeededIffAtLeast(t, hostCount(6), 9, 6, 3, 6)
}

func TestMinimumHealthyHosts_N9FleetPercent40(t *testing.T) {
	succeededIffAtLeast(t, fleetPercent(40), 9, 4, 5, 4)
}

func TestDeploymentConfigurations_N9AllAtOnce(t *testing.T) {
	c := predef(t, "CodeDeployDefault.AllAtOnce")
	succeededIffAtLeast(t, c, 9, 0, 9, 1)
	s := preview(t, inPlace(c, fleet(9)), ids(1, 2, 3, 4, 5, 6, 7, 8, 9)...)
	expectResult(t, s, Failed, HealthConstraints, 0, 9, 0)
}

func TestDeploymentConfigurations_N9HalfAtATime(t *testing.T) {
	succeededIffAtLeast(t, predef(t, "CodeDeployDefault.HalfAtATime"), 9, 5, 4, 5)
}

func TestDeploymentConfigurations_N9OneAtATime(t *testing.T) {
	c := predef(t, "CodeDeployDefault.OneAtATime")
	expectMW(t, preview(t, inPlace(c, fleet(9))), 8, 1)
	subsets(9, func(fail []string) {
		s := preview(t, inPlace(c, fleet(9)), fail...)
		want := len(fail) == 0 || slices.Equal(fail, ids(9))
		if (s.Status == Succeeded) != want {
			t.Fatalf("fail %v: %s, want Succeeded %v\n%s", fail, s.Status, want, s.Explanation)
		}
		if len(fail) > 0 && fail[0] != "t09" {
			// Fails as soon as an instance other than the last fails.
			if s.Failed != 1 {
				t.Fatalf("fail %v: %d failed, want to stop at the first failure", fail, s.Failed)
			}
		}
	})
}

func TestDeploymentConfigurations_N1OneAtATime(t *testing.T) {
	c := predef(t, "CodeDeployDefault.OneAtATime")
	s := preview(t, inPlace(c, fleet(1)))
	expectMW(t, s, 0, 1)
	expectResult(t, s, Succeeded, "", 1, 0, 0)
	s = preview(t, inPlace(c, fleet(1)), "t01")
	expectResult(t, s, Failed, HealthConstraints, 0, 1, 0)
}

func TestDeploymentConfigurations_TwoAutoScalingGroupsHalfAtATime(t *testing.T) {
	var ts []Target
	for _, asg := range []string{"asg1", "asg2"} {
		for i := range 10 {
			ts = append(ts, Target{ID: fmt.Sprintf("%s-%02d", asg, i), Instance: health.Healthy, Revision: health.Current, Status: target.TargetPending})
		}
	}
	s := preview(t, inPlace(predef(t, "CodeDeployDefault.HalfAtATime"), ts))
	expectMW(t, s, 10, 10)
	first := batches(s)[0]
	if len(first) != 10 {
		t.Fatalf("first batch %v, want B=10 across both groups", first)
	}
	for _, id := range first {
		if id[:4] != "asg1" {
			t.Errorf("first batch %v: all 10 may come from ASG1", first)
		}
	}
	expectResult(t, s, Succeeded, "", 20, 0, 0)
}

func TestMinimumHealthyHosts_OneAtATimeIsMostConcurrency1(t *testing.T) {
	p, err := New(inPlace(predef(t, "CodeDeployDefault.OneAtATime"), fleet(5)))
	if err != nil {
		t.Fatal(err)
	}
	if r := p.Minimum().Rule; r.Type != config.MostConcurrency || r.Value != 1 {
		t.Errorf("rule %v, want MOST_CONCURRENCY 1", r)
	}
	if p.Minimum().Window != 1 {
		t.Errorf("W %d, want 1", p.Minimum().Window)
	}
}

// blueGreen returns n Green and n Blue targets (g01…, b01…); Green targets
// are new instances: Unhealthy, revision Unknown.
func blueGreen(n int) []Target {
	var ts []Target
	for i := range n {
		ts = append(ts, Target{ID: fmt.Sprintf("g%02d", i+1), Instance: health.Unhealthy, Revision: health.Unknown,
			Label: target.LabelGreen, Status: target.TargetPending, Reroute: target.TargetPending})
	}
	for i := range n {
		ts = append(ts, Target{ID: fmt.Sprintf("b%02d", i+1), Instance: health.Healthy, Revision: health.Current,
			Label: target.LabelBlue, Status: target.TargetPending})
	}
	return ts
}

func bgPreview(t *testing.T, c config.Config, n int, pi PreviewInput) Schedule {
	t.Helper()
	pi.Input.Config, pi.Input.Type, pi.Input.Targets = c, target.BlueGreen, blueGreen(n)
	s, err := Preview(pi)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestDeploymentConfigurations_BlueGreenAllAtOnceReroute(t *testing.T) {
	c := predef(t, "CodeDeployDefault.AllAtOnce")
	s := bgPreview(t, c, 4, PreviewInput{FailReroute: []string{"g01", "g02", "g03"}})
	if s.Status != Succeeded {
		t.Errorf("3 of 4 reroutes failed: %s, want Succeeded (≥1 rerouted)\n%s", s.Status, s.Explanation)
	}
	var reroute []string
	for _, st := range s.Steps {
		if st.Phase == PhaseReroute {
			reroute = append(reroute, st.Start...)
		}
	}
	if len(reroute) != 4 {
		t.Errorf("rerouted %v, want all 4 at once", reroute)
	}
	s = bgPreview(t, c, 4, PreviewInput{FailReroute: []string{"g01", "g02", "g03", "g04"}})
	if s.Status != Failed || s.ErrorCode != HealthConstraints {
		t.Errorf("all reroutes failed: %s %s, want Failed", s.Status, s.ErrorCode)
	}
}

func TestDeploymentConfigurations_BlueGreenHalfAtATimeReroute(t *testing.T) {
	c := predef(t, "CodeDeployDefault.HalfAtATime")
	for _, tc := range []struct {
		fail []string
		want DeploymentStatus
	}{
		{nil, Succeeded},
		{[]string{"g01", "g02"}, Succeeded}, // 2 of 4 = half
		{[]string{"g01", "g02", "g03"}, Failed},
		{[]string{"g04"}, Succeeded},
	} {
		s := bgPreview(t, c, 4, PreviewInput{FailReroute: tc.fail})
		if s.Status != tc.want {
			t.Errorf("fail %v: %s, want %s\n%s", tc.fail, s.Status, tc.want, s.Explanation)
		}
		for _, st := range s.Steps {
			if st.Phase == PhaseReroute && len(st.Start) > 2 {
				t.Errorf("fail %v: rerouted %v at once, want up to half (2)", tc.fail, st.Start)
			}
		}
	}
}

func TestDeploymentConfigurations_BlueGreenOneAtATimeReroute(t *testing.T) {
	c := predef(t, "CodeDeployDefault.OneAtATime")
	s := bgPreview(t, c, 4, PreviewInput{FailReroute: []string{"g01"}})
	if s.Status != Failed {
		t.Errorf("first reroute failed: %s, want Failed", s.Status)
	}
	s = bgPreview(t, c, 4, PreviewInput{FailReroute: []string{"g04"}})
	if s.Status != Succeeded {
		t.Errorf("last reroute failed: %s, want Succeeded\n%s", s.Status, s.Explanation)
	}
	s = bgPreview(t, c, 4, PreviewInput{FailReroute: []string{"g02"}})
	if s.Status != Failed || s.Failed != 1 {
		t.Errorf("second reroute failed: %s with %d failed, want Failed at once", s.Status, s.Failed)
	}
}

func TestInstanceHealth_BlueGreenOriginalFailsToDeregister(t *testing.T) {
	s := bgPreview(t, predef(t, "CodeDeployDefault.AllAtOnce"), 3, PreviewInput{Fail: []string{"b02"}})
	if s.Status != Failed || s.ErrorCode != HealthConstraints {
		t.Errorf("%s %s, want Failed\n%s", s.Status, s.ErrorCode, s.Explanation)
	}
}

func TestCreateConfig_ThreeQuartersHealthy(t *testing.T) {
	c := config.Config{Name: "ThreeQuartersHealthy", MinimumHealthyHosts: &config.MinimumHealthyHosts{Type: config.FleetPercent, Value: 75}}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	expectMW(t, preview(t, inPlace(c, fleet(4))), 3, 1)
}

func seconds64(v int64) *int64 { return &v }

// zonalFleet returns per-zone targets named <zone>-NN.
func zonalFleet(perZone map[string]int) []Target {
	var ts []Target
	zones := make([]string, 0, len(perZone))
	for z := range perZone {
		zones = append(zones, z)
	}
	slices.Sort(zones)
	for _, z := range zones {
		for i := range perZone[z] {
			ts = append(ts, Target{ID: fmt.Sprintf("%s-%03d", z, i), Zone: z, Instance: health.Healthy, Revision: health.Current, Status: target.TargetPending})
		}
	}
	return ts
}

func TestCreateConfig_300Total50PerAZ(t *testing.T) {
	c := config.Config{Name: "300Total50PerAZ", MinimumHealthyHosts: &config.MinimumHealthyHosts{Type: config.HostCount, Value: 300},
		ZonalConfig: &config.ZonalConfig{MonitorDurationInSeconds: seconds64(3600),
			MinimumHealthyHostsPerZone: &config.MinimumHealthyHosts{Type: config.HostCount, Value: 50}}}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	s := preview(t, inPlace(c, zonalFleet(map[string]int{"az-a": 120, "az-b": 120, "az-c": 120})))
	expectMW(t, s, 300, 60)
	expectResult(t, s, Succeeded, "", 360, 0, 0)
	// 60 at a time (fleet headroom 60 < zone headroom 70), two batches per
	// zone, one hour of monitoring after each of the first two zones.
	if want := Seconds(3*120 + 2*3600); s.DurationSeconds != want {
		t.Errorf("duration %v, want %v", s.DurationSeconds, want)
	}
	for _, z := range s.Zones {
		if z.MinimumHealthy != 50 || z.LowestHealthy < 50 {
			t.Errorf("zone %+v: per-zone minimum 50 broken", z)
		}
	}
	if s.LowestHealthy < 300 {
		t.Errorf("lowest healthy %d < 300", s.LowestHealthy)
	}
}

func TestCreateConfig_Canary25Percent45Minutes(t *testing.T) {
	for _, platform := range []config.ComputePlatform{config.Lambda, config.ECS} {
		c := config.Config{Name: "Canary25Percent45Minutes", ComputePlatform: platform, TrafficRouting: &config.TrafficRouting{
			Type: config.TimeBasedCanary, TimeBasedCanary: &config.Canary{CanaryPercentage: 25, CanaryInterval: 45}}}
		if err := c.Validate(); err != nil {
			t.Fatal(err)
		}
		s, err := Preview(PreviewInput{Input: Input{Config: c, Type: target.BlueGreen}})
		if err != nil {
			t.Fatal(err)
		}
		var shifts []string
		for _, st := range s.Steps {
			if st.TrafficWeight > 0 {
				shifts = append(shifts, fmt.Sprintf("%d%%@%vs", st.TrafficWeight, st.At))
			}
		}
		if want := []string{"25%@0s", "100%@2700s"}; !slices.Equal(shifts, want) {
			t.Errorf("%s shifts %v, want %v", platform, shifts, want)
		}
		if s.Status != Succeeded || s.DurationSeconds != 2700 {
			t.Errorf("%s: %s after %vs", platform, s.Status, s.DurationSeconds)
		}
	}
}

func TestZonalConfig_PerZoneMinimumOmittedIsZeroPercent(t *testing.T) {
	c := hostCount(0)
	c.ZonalConfig = &config.ZonalConfig{}
	s := preview(t, inPlace(c, zonalFleet(map[string]int{"a": 5, "b": 3})))
	if got := batches(s); len(got) != 2 || len(got[0]) != 5 || len(got[1]) != 3 {
		t.Errorf("batches %v, want each zone all at once (per-zone FLEET_PERCENT 0)", got)
	}
	for _, z := range s.Zones {
		if z.MinimumHealthy != 0 {
			t.Errorf("zone %s minimum %d, want 0", z.Zone, z.MinimumHealthy)
		}
	}
}

func TestZonalConfig_FirstZoneUsesMonitorDuration(t *testing.T) {
	c := hostCount(0)
	c.ZonalConfig = &config.ZonalConfig{MonitorDurationInSeconds: seconds64(1800)}
	s := preview(t, inPlace(c, zonalFleet(map[string]int{"a": 2, "b": 2, "c": 2})))
	if len(s.Zones) != 3 || s.Zones[0].BakeUntil != 60+1800 || s.Zones[1].Start != 60+1800 {
		t.Errorf("zones %+v: the first zone must also wait 1800 s", s.Zones)
	}
	if s.DurationSeconds != 3*60+2*1800 {
		t.Errorf("duration %v", s.DurationSeconds)
	}
}

func TestQuotas_FleetPercent100IsInvalid(t *testing.T) {
	_, err := New(inPlace(fleetPercent(100), fleet(3)))
	if !errors.Is(err, ErrInvalidInput) || !errors.Is(err, config.ErrInvalidConfig) {
		t.Errorf("New with FLEET_PERCENT 100: %v, want ErrInvalidInput wrapping config.ErrInvalidConfig", err)
	}
}

func TestQuotas_ZeroMinimumIsAllAtOnce(t *testing.T) {
	for _, c := range []config.Config{hostCount(0), fleetPercent(0)} {
		s := preview(t, inPlace(c, fleet(6)))
		expectMW(t, s, 0, 6)
		if got := batches(s); len(got) != 1 || len(got[0]) != 6 {
			t.Errorf("%s: batches %v, want all at once", c.MinimumHealthyHosts, got)
		}
	}
}

func TestInstanceHealth_FailureOnInstance3HealthAfterwards(t *testing.T) {
	ts := fleet(10)
	s := preview(t, inPlace(fleetPercent(85), ts), "t03")
	expectResult(t, s, Failed, HealthConstraints, 2, 1, 7)
	outcome := map[string]health.Outcome{}
	for _, st := range s.Steps {
		for _, id := range st.Succeeded {
			outcome[id] = health.OutcomeSucceeded
		}
		for _, id := range st.Failed {
			outcome[id] = health.OutcomeFailed
		}
	}
	for _, tg := range ts {
		o, ok := outcome[tg.ID]
		if !ok {
			o = health.OutcomeSkipped
		}
		after, err := health.Update(tg.Health(), o, health.Ending{})
		if err != nil {
			t.Fatal(err)
		}
		want := tg.Health() // untouched targets keep their health
		switch o {
		case health.OutcomeSucceeded:
			want.Instance, want.Revision = health.Healthy, health.Old
		case health.OutcomeFailed:
			want.Instance, want.Revision = health.Unhealthy, health.Unknown
		}
		if after != want {
			t.Errorf("%s (%s): %+v, want %+v", tg.ID, o, after, want)
		}
	}
}

func TestDerived_N9HostCount9ImmediateFailure(t *testing.T) {
	s := preview(t, inPlace(hostCount(9), fleet(9)))
	expectMW(t, s, 9, 0)
	expectResult(t, s, Failed, HealthConstraintsInvalid, 0, 0, 9)
}

func TestDerived_N1HalfAtATimeImmediateFailure(t *testing.T) {
	s := preview(t, inPlace(predef(t, "CodeDeployDefault.HalfAtATime"), fleet(1)))
	expectMW(t, s, 1, 0)
	expectResult(t, s, Failed, HealthConstraintsInvalid, 0, 0, 1)
}

func TestDerived_N4HalfAtATime(t *testing.T) {
	s := preview(t, inPlace(predef(t, "CodeDeployDefault.HalfAtATime"), fleet(4)))
	expectMW(t, s, 2, 2)
	if got := batches(s); len(got) != 2 || len(got[0]) != 2 {
		t.Errorf("batches %v, want two of two", got)
	}
}

func TestDerived_N3FleetPercent50(t *testing.T) {
	s := preview(t, inPlace(fleetPercent(50), fleet(3)))
	expectMW(t, s, 2, 1)
	if s.PeakInFlight != 1 || s.DurationSeconds != Seconds(3*time.Minute/time.Second) {
		t.Errorf("peak %d duration %v, want one at a time", s.PeakInFlight, s.DurationSeconds)
	}
}

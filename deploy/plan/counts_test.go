package plan

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"pgregory.net/rapid"

	"github.com/fleetdeploy/fleetdeploy/config"
	"github.com/fleetdeploy/fleetdeploy/health"
	"github.com/fleetdeploy/fleetdeploy/target"
)

// countsOf renders each step as "at:inFlight/healthy/minimum" followed by
// " zone=inFlight/healthy/minimum" for each zone it lists.
func countsOf(s Schedule) []string {
	out := make([]string, len(s.Steps))
	for i, st := range s.Steps {
		var b strings.Builder
		fmt.Fprintf(&b, "%v:%d/%d/%d", st.At, st.InFlight, st.Healthy, st.Minimum)
		for _, z := range st.Zones {
			fmt.Fprintf(&b, " %s=%d/%d/%d", z.Zone, z.InFlight, z.Healthy, z.Minimum)
		}
		out[i] = b.String()
	}
	return out
}

func expectCounts(t *testing.T, s Schedule, want []string) {
	t.Helper()
	if got := countsOf(s); !slices.Equal(got, want) {
		t.Errorf("per-step counts\n got %q\nwant %q", got, want)
	}
}

// HalfAtATime over 9 healthy targets: M = ceil(50% of 9) = 5, so at most
// 9 − 5 = 4 may be offline. Every target takes 60 s.
func TestStepCountsHalfAtATime(t *testing.T) {
	s := preview(t, inPlace(predef(t, "CodeDeployDefault.HalfAtATime"), fleet(9)))
	expectCounts(t, s, []string{
		"0:4/5/5",   // four start; five stay healthy
		"60:4/5/5",  // they succeed (9 healthy), the next four start
		"120:1/8/5", // they succeed, the last one starts
		"180:0/9/5", // it succeeds
	})
}

// With t01 failing, its batch comes back with three healthy targets
// only: 5 + 3 = 8 healthy allows 8 − 5 = 3 more offline.
func TestStepCountsHalfAtATimeWithFailure(t *testing.T) {
	s := preview(t, inPlace(predef(t, "CodeDeployDefault.HalfAtATime"), fleet(9)), "t01")
	expectCounts(t, s, []string{
		"0:4/5/5",
		"60:3/5/5",  // t01 fails, t02–t04 succeed: 8 healthy; t05–t07 start
		"120:2/6/5", // they succeed: 8 healthy; t08, t09 start
		"180:0/8/5",
	})
	expectResult(t, s, Succeeded, "", 8, 1, 0)
}

// OneAtATime over 3 targets: M = N − 1 = 2, one target at a time.
func TestStepCountsOneAtATime(t *testing.T) {
	s := preview(t, inPlace(predef(t, "CodeDeployDefault.OneAtATime"), fleet(3)))
	expectCounts(t, s, []string{"0:1/2/2", "60:1/2/2", "120:1/2/2", "180:0/3/2"})
}

// Zonal: two zones of two targets; fleet M = 2 allows two offline, but
// each zone must keep ceil(50% of 2) = 1, so one goes at a time. az-a
// goes first (no Unhealthy targets anywhere, so by name), then a
// 600-second bake, then az-b.
func TestStepCountsZonal(t *testing.T) {
	c := config.Config{Name: "Zonal", MinimumHealthyHosts: &config.MinimumHealthyHosts{Type: config.HostCount, Value: 2},
		ZonalConfig: &config.ZonalConfig{MonitorDurationInSeconds: seconds64(600),
			MinimumHealthyHostsPerZone: &config.MinimumHealthyHosts{Type: config.FleetPercent, Value: 50}}}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	s := preview(t, inPlace(c, zonalFleet(map[string]int{"az-a": 2, "az-b": 2})))
	expectCounts(t, s, []string{
		"0:1/3/2 az-a=1/1/1 az-b=0/2/1", // the first step lists every zone
		"60:1/3/2 az-a=1/1/1",
		"120:0/4/2 az-a=0/2/1", // az-a done; the bake begins
		"720:1/3/2 az-b=1/1/1",
		"780:1/3/2 az-b=1/1/1",
		"840:0/4/2 az-b=0/2/1",
	})
}

// A blue/green deployment counts the Green fleet only: the Blue targets
// blocking traffic all at once are not in InFlight.
func TestStepCountsBlueGreenCountsGreen(t *testing.T) {
	var ts []Target
	for i := range 4 {
		ts = append(ts, Target{ID: fmt.Sprintf("g%d", i), Label: target.LabelGreen, Instance: health.Unhealthy,
			Revision: health.Unknown, Status: target.TargetPending, Reroute: target.TargetPending})
	}
	for i := range 3 {
		ts = append(ts, Target{ID: fmt.Sprintf("b%d", i), Label: target.LabelBlue, Instance: health.Healthy,
			Revision: health.Current, Status: target.TargetPending})
	}
	s := preview(t, Input{Config: predef(t, "CodeDeployDefault.AllAtOnce"), Type: target.BlueGreen, Targets: ts})
	// AllAtOnce over 4 Green targets: M = 0, W = 4. The new Green targets
	// are Unhealthy until installed; installed ones count as healthy.
	for _, st := range s.Steps {
		if st.Phase == PhaseBlockOriginals && st.InFlight != 0 {
			t.Errorf("step at %v blocking the originals has %d in flight; the Blue targets are not counted", st.At, st.InFlight)
		}
		if st.Minimum != 0 {
			t.Errorf("step at %v minimum %d, want M = 0", st.At, st.Minimum)
		}
	}
	if first := s.Steps[0]; first.Phase != PhaseInstallReplacement || first.InFlight != 4 || first.Healthy != 0 {
		t.Errorf("first step %+v, want the four Green installs in flight and none healthy", first)
	}
	if last := s.Steps[len(s.Steps)-1]; last.Healthy != 4 || last.InFlight != 0 {
		t.Errorf("last step %+v, want four healthy Green targets and nothing in flight", last)
	}
}

// The per-step counts agree with the schedule's summary and with a count
// rebuilt from the steps' start and finish lists, over random fleets.
func TestPropertyStepCounts(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		var s scenario
		switch rapid.IntRange(0, 2).Draw(t, "kind") {
		case 0:
			s = genScenario(t, 40)
		case 1:
			s = genBlueGreen(t)
		default:
			s = genTraffic(t)
		}
		sc := s.preview(t)
		if len(sc.Steps) == 0 {
			t.Fatal("no steps")
		}
		peak, lowest := 0, sc.Steps[0].Healthy
		for _, st := range sc.Steps {
			peak, lowest = max(peak, st.InFlight), min(lowest, st.Healthy)
			if st.Minimum != sc.MinimumHealthy {
				t.Fatalf("step at %v: minimum %d, want M %d", st.At, st.Minimum, sc.MinimumHealthy)
			}
		}
		if peak != sc.PeakInFlight || lowest != sc.LowestHealthy {
			t.Fatalf("steps peak %d lowest %d; schedule PeakInFlight %d LowestHealthy %d", peak, lowest, sc.PeakInFlight, sc.LowestHealthy)
		}
		if s.in.Type == target.InPlace {
			checkInPlaceCounts(t, s.in, sc)
		}
	})
}

// checkInPlaceCounts rebuilds each step's fleet and zone counts from the
// targets' starting health and the steps' Start, Succeeded and Failed
// lists: a target is offline from its start to its finish, and healthy
// afterwards iff it succeeded.
func checkInPlaceCounts(t *rapid.T, in Input, sc Schedule) {
	type state struct {
		healthy, flying bool
		zone            string
	}
	byID := map[string]*state{}
	zoneMin := map[string]int{}
	for _, z := range sc.Zones {
		zoneMin[z.Zone] = z.MinimumHealthy
	}
	for _, tg := range in.Targets {
		byID[tg.ID] = &state{healthy: tg.Instance == health.Healthy, zone: tg.Zone}
	}
	zoneLowest := map[string]int{}
	for i, st := range sc.Steps {
		touched := map[string]bool{}
		for _, id := range st.Succeeded {
			byID[id].flying, byID[id].healthy = false, true
			touched[byID[id].zone] = true
		}
		for _, id := range st.Failed {
			byID[id].flying, byID[id].healthy = false, false
			touched[byID[id].zone] = true
		}
		for _, id := range st.Start {
			byID[id].flying = true
			touched[byID[id].zone] = true
		}
		flying, healthy := 0, 0
		zf, zh := map[string]int{}, map[string]int{}
		for _, x := range byID {
			if x.flying {
				flying++
				zf[x.zone]++
			} else if x.healthy {
				healthy++
				zh[x.zone]++
			}
		}
		if st.InFlight != flying || st.Healthy != healthy {
			t.Fatalf("step %d at %v: %d in flight %d healthy; the lists give %d and %d", i, st.At, st.InFlight, st.Healthy, flying, healthy)
		}
		if sc.Zones == nil {
			if st.Zones != nil {
				t.Fatalf("step %d lists zones %v in a deployment that is not zonal", i, st.Zones)
			}
			continue
		}
		var want []ZoneCount
		for _, z := range sc.Zones {
			if i == 0 || touched[z.Zone] {
				want = append(want, ZoneCount{Zone: z.Zone, InFlight: zf[z.Zone], Healthy: zh[z.Zone], Minimum: zoneMin[z.Zone]})
			}
		}
		got := slices.Clone(st.Zones)
		slices.SortFunc(got, func(a, b ZoneCount) int { return strings.Compare(a.Zone, b.Zone) })
		slices.SortFunc(want, func(a, b ZoneCount) int { return strings.Compare(a.Zone, b.Zone) })
		if !slices.Equal(got, want) {
			t.Fatalf("step %d at %v: zones %+v, want %+v", i, st.At, st.Zones, want)
		}
		for _, z := range st.Zones {
			if l, ok := zoneLowest[z.Zone]; !ok || z.Healthy < l {
				zoneLowest[z.Zone] = z.Healthy
			}
		}
	}
	for _, z := range sc.Zones {
		if zoneLowest[z.Zone] != z.LowestHealthy {
			t.Fatalf("zone %s: lowest listed healthy %d, ZoneWindow.LowestHealthy %d", z.Zone, zoneLowest[z.Zone], z.LowestHealthy)
		}
	}
}

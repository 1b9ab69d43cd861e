package plan

import (
	"container/heap"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/fleetdeploy/fleetdeploy/config"
	"github.com/fleetdeploy/fleetdeploy/health"
	"github.com/fleetdeploy/fleetdeploy/target"
)

// scenario is a random in-place deployment with assumed outcomes.
type scenario struct {
	in          Input
	durations   map[string]time.Duration
	fail        []string
	failReroute []string
	failSteps   []Phase
}

func (s scenario) preview(t *rapid.T) Schedule {
	sc, err := Preview(PreviewInput{Input: s.in, Durations: s.durations, Fail: s.fail, FailReroute: s.failReroute,
		FailSteps: s.failSteps, StepDuration: 10 * time.Second})
	if err != nil {
		t.Fatalf("Preview: %v", err)
	}
	return sc
}

func genConfig(t *rapid.T, n int) config.Config {
	var c config.Config
	switch rapid.IntRange(0, 4).Draw(t, "configKind") {
	case 0:
		c, _ = config.Predefined("CodeDeployDefault.AllAtOnce")
	case 1:
		c, _ = config.Predefined("CodeDeployDefault.HalfAtATime")
	case 2:
		c, _ = config.Predefined("CodeDeployDefault.OneAtATime")
	case 3:
		c = hostCount(rapid.IntRange(0, n+1).Draw(t, "hostCount"))
	default:
		c = fleetPercent(rapid.IntRange(0, 99).Draw(t, "fleetPercent"))
	}
	if !c.IsOneAtATime() && !strings.HasPrefix(c.Name, config.PredefinedPrefix) && rapid.Bool().Draw(t, "zonal") {
		z := &config.ZonalConfig{}
		if rapid.Bool().Draw(t, "hasMonitor") {
			z.MonitorDurationInSeconds = seconds64(int64(rapid.IntRange(0, 4).Draw(t, "monitor") * 150))
		}
		if rapid.Bool().Draw(t, "hasFirst") {
			z.FirstZoneMonitorDurationInSeconds = seconds64(int64(rapid.IntRange(0, 4).Draw(t, "first") * 100))
		}
		switch rapid.IntRange(0, 2).Draw(t, "perZoneKind") {
		case 1:
			z.MinimumHealthyHostsPerZone = &config.MinimumHealthyHosts{Type: config.HostCount, Value: rapid.IntRange(0, 6).Draw(t, "perZoneHostCount")}
		case 2:
			z.MinimumHealthyHostsPerZone = &config.MinimumHealthyHosts{Type: config.FleetPercent, Value: rapid.IntRange(0, 99).Draw(t, "perZonePercent")}
		}
		c.ZonalConfig = z
	}
	return c
}

func genScenario(t *rapid.T, maxN int) scenario {
	n := rapid.IntRange(1, maxN).Draw(t, "n")
	idset := rapid.SliceOfNDistinct(rapid.StringMatching(`[a-z][0-9a-z]{0,3}`), n, n, rapid.ID[string]).Draw(t, "ids")
	unhealthyPct := rapid.IntRange(0, 100).Draw(t, "unhealthyPct")
	failPct := rapid.IntRange(0, 100).Draw(t, "failPct")
	zones := []string{"az-a", "az-b", "az-c", "az-d"}[:rapid.IntRange(1, 4).Draw(t, "zones")]
	timed := rapid.Bool().Draw(t, "timed")
	s := scenario{durations: map[string]time.Duration{}}
	ts := make([]Target, n)
	for i := range ts {
		inst := health.Healthy
		if rapid.IntRange(0, 99).Draw(t, "u") < unhealthyPct {
			inst = health.Unhealthy
		}
		ts[i] = Target{ID: idset[i], Zone: rapid.SampledFrom(zones).Draw(t, "zone"), Instance: inst,
			Revision: rapid.SampledFrom(health.Current.Values()).Draw(t, "rev"), Status: target.TargetPending}
		if rapid.IntRange(0, 99).Draw(t, "f") < failPct {
			s.fail = append(s.fail, ts[i].ID)
		}
		if timed {
			s.durations[ts[i].ID] = time.Duration(rapid.IntRange(1, 6).Draw(t, "dur")) * 10 * time.Second
		}
	}
	s.in = inPlace(genConfig(t, n), ts)
	s.in.Rollback = rapid.IntRange(0, 9).Draw(t, "rollback") == 0
	return s
}

// classOf returns a target's health class.
func classOf(tg Target) health.Class { return health.ClassOf(tg.Instance, tg.Revision) }

func TestPropertyPreviewInvariants(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		s := genScenario(t, 60)
		sc := s.preview(t)
		byID := map[string]Target{}
		for _, tg := range s.in.Targets {
			byID[tg.ID] = tg
		}
		n := len(s.in.Targets)
		m, err := health.ForConfig(s.in.Config, n)
		if err != nil {
			t.Fatal(err)
		}
		if sc.MinimumHealthy != m.Required || sc.MaxInFlight != m.Window {
			t.Fatalf("M %d W %d, want %d %d", sc.MinimumHealthy, sc.MaxInFlight, m.Required, m.Window)
		}
		// Counts add up, and every target starts at most once.
		if sc.Succeeded+sc.Failed+sc.NotAttempted != n {
			t.Fatalf("counts %d+%d+%d != %d", sc.Succeeded, sc.Failed, sc.NotAttempted, n)
		}
		started := starts(sc)
		if len(started) != len(slicesCompactSorted(started)) {
			t.Fatalf("a target started twice: %v", started)
		}
		// peakInFlight ≤ maxInFlight.
		if sc.PeakInFlight > sc.MaxInFlight {
			t.Fatalf("peak %d > W %d", sc.PeakInFlight, sc.MaxInFlight)
		}
		// Invariant 1: healthy-not-in-flight never below M, except that a
		// group starting below M is not reduced further ("CodeDeploy
		// instance health"); per zone too.
		if sc.LowestHealthy < min(sc.MinimumHealthy, sc.InitialHealthy) {
			t.Fatalf("lowest healthy %d < min(M %d, initial %d)", sc.LowestHealthy, sc.MinimumHealthy, sc.InitialHealthy)
		}
		for _, z := range sc.Zones {
			initial := 0
			for _, tg := range s.in.Targets {
				if tg.Zone == z.Zone && tg.Instance == health.Healthy {
					initial++
				}
			}
			if z.LowestHealthy < min(z.MinimumHealthy, initial) {
				t.Fatalf("zone %s: lowest %d < min(Mz %d, initial %d)", z.Zone, z.LowestHealthy, z.MinimumHealthy, initial)
			}
		}
		// Invariant 2: starts follow the health classes (then IDs) within
		// the active zone, and zones do not interleave.
		zoneRank := map[string]int{}
		for k, z := range sc.Zones {
			zoneRank[z.Zone] = k
		}
		for k := 1; k < len(started); k++ {
			a, b := byID[started[k-1]], byID[started[k]]
			ka := []int{zoneRank[a.Zone], int(classOf(a))}
			kb := []int{zoneRank[b.Zone], int(classOf(b))}
			if c := slices.Compare(ka, kb); c > 0 || c == 0 && a.ID > b.ID {
				t.Fatalf("start order: %s (%v) before %s (%v)", a.ID, ka, b.ID, kb)
			}
		}
		// Invariant 3: Succeeded iff the success rule holds.
		want := sc.Succeeded >= max(m.Required, 1)
		if m.OneAtATime() {
			lastFailed := len(started) > 0 && slices.Contains(s.fail, started[len(started)-1])
			want = sc.Succeeded >= 1 && sc.NotAttempted == 0 && (sc.Failed == 0 || sc.Failed == 1 && lastFailed)
		}
		// Succeeded only if the rule holds; when every target was attempted,
		// exactly then. Without zones a blocked deployment (work left that
		// may not start) never meets the rule, so it is "iff" outright; a
		// zone's own minimum can block a deployment that already has
		// enough successes, which then fails (see "Zonal deployments" in
		// the package documentation).
		zonal := s.in.Config.ZonalConfig != nil && !s.in.Rollback
		switch {
		case sc.Status == Succeeded && !want,
			!zonal && (sc.Status == Succeeded) != want,
			want && sc.NotAttempted == 0 && sc.Status != Succeeded:
			t.Fatalf("status %s, success rule says %v (%d/%d/%d)\n%s", sc.Status, want, sc.Succeeded, sc.Failed, sc.NotAttempted, sc.Explanation)
		}
		if sc.Status == Failed && sc.ErrorCode != HealthConstraints && sc.ErrorCode != HealthConstraintsInvalid {
			t.Fatalf("failed with %s", sc.ErrorCode)
		}
		if sc.ErrorCode == HealthConstraintsInvalid && len(started) > 0 {
			t.Fatalf("HEALTH_CONSTRAINTS_INVALID after starting %v", started)
		}
		// Determinism: same input, same output; input order does not matter.
		if again := s.preview(t); !reflect.DeepEqual(again, sc) {
			t.Fatal("Preview is not deterministic")
		}
		rev := s
		rev.in.Targets = slices.Clone(s.in.Targets)
		slices.Reverse(rev.in.Targets)
		if other := rev.preview(t); !reflect.DeepEqual(other, sc) {
			t.Fatal("Preview depends on the order of Input.Targets")
		}
	})
}

func slicesCompactSorted(s []string) []string {
	c := slices.Clone(s)
	slices.Sort(c)
	return slices.Compact(c)
}

// drive runs a planner over assumed outcomes like Preview does, but through
// the public API only, and optionally "crashes" before some decisions:
// the planner is rebuilt from the stored state (statuses + Progress). It
// returns a log of what happened and the final decision. Ready waits are
// continued at once.
func drive(t *rapid.T, s scenario, crash func(step int) bool) ([]string, Decision) {
	in := s.in
	in.Targets = slices.Clone(s.in.Targets)
	failed, failedReroute := map[string]bool{}, map[string]bool{}
	for _, id := range s.fail {
		failed[id] = true
	}
	for _, id := range s.failReroute {
		failedReroute[id] = true
	}
	p, err := New(in)
	if err != nil {
		t.Fatal(err)
	}
	var q events
	var now time.Duration
	var log []string
	var phase Phase
	status := func(i int) *target.TargetStatus {
		if phase == PhaseReroute {
			return &in.Targets[i].Reroute
		}
		return &in.Targets[i].Status
	}
	for step := 0; ; step++ {
		if crash(step) {
			snap := in
			snap.Progress = p.Progress()
			if p, err = New(snap); err != nil {
				t.Fatalf("resume: %v", err)
			}
		}
		d := p.Next(epoch.Add(now))
		phase = d.Phase
		log = append(log, fmt.Sprintf("%v %s %s", now, d.Phase, d.Status))
		for _, i := range d.Start {
			*status(i) = target.TargetInProgress
			dur := DefaultDuration
			if v, ok := s.durations[in.Targets[i].ID]; ok {
				dur = v
			}
			heap.Push(&q, event{at: now + dur, seq: step*100000 + i, idx: i})
			log = append(log, fmt.Sprintf("%v start %s", now, in.Targets[i].ID))
		}
		if d.Step != nil {
			heap.Push(&q, event{at: now + 10*time.Second, seq: step*100000 - 1, idx: -1, step: d.Step.Phase})
			log = append(log, fmt.Sprintf("%v step %s %d", now, d.Step.Phase, d.Step.Weight))
		}
		if d.Done {
			return log, d
		}
		if d.Status == Ready {
			if err := p.Continue(ReadyWait); err != nil {
				t.Fatal(err)
			}
			continue
		}
		next := time.Duration(-1)
		if len(q) > 0 {
			next = q[0].at
		}
		if !d.WaitUntil.IsZero() && (next < 0 || d.WaitUntil.Sub(epoch) < next) {
			next = d.WaitUntil.Sub(epoch)
		}
		if next < 0 {
			t.Fatalf("stalled: %+v", d)
		}
		now = next
		for len(q) > 0 && q[0].at == now {
			e := heap.Pop(&q).(event)
			if e.idx < 0 {
				ok := !slices.Contains(s.failSteps, e.step)
				if err := p.StepFinished(StepResult{Succeeded: ok}); err != nil {
					t.Fatal(err)
				}
				log = append(log, fmt.Sprintf("%v step done %s %v", now, e.step, ok))
				continue
			}
			id := in.Targets[e.idx].ID
			ok := !failed[id]
			if phase == PhaseReroute {
				ok = !failedReroute[id]
			}
			*status(e.idx) = target.TargetSucceeded
			if !ok {
				*status(e.idx) = target.TargetFailed
			}
			if err := p.Finished(e.idx, ok); err != nil {
				t.Fatal(err)
			}
			log = append(log, fmt.Sprintf("%v done %s %v", now, id, ok))
		}
	}
}

// Crash at any point + resume = the same run as no crash, as far as the
// planner is concerned (see "Resuming after a crash" in the package
// documentation).
func TestPropertyResumeAnywhere(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		var s scenario
		switch rapid.IntRange(0, 2).Draw(t, "kind") {
		case 0:
			s = genScenario(t, 30)
		case 1:
			s = genBlueGreen(t)
		default:
			s = genTraffic(t)
		}
		wantLog, want := drive(t, s, func(int) bool { return false })
		crashes := rapid.SliceOf(rapid.IntRange(0, 40)).Draw(t, "crashes")
		gotLog, got := drive(t, s, func(step int) bool { return slices.Contains(crashes, step) })
		if !slices.Equal(gotLog, wantLog) {
			t.Fatalf("log with crashes at %v:\n%s\nwithout:\n%s", crashes, strings.Join(gotLog, "\n"), strings.Join(wantLog, "\n"))
		}
		if got.Status != want.Status || got.ErrorCode != want.ErrorCode {
			t.Fatalf("final %s %s, want %s %s", got.Status, got.ErrorCode, want.Status, want.ErrorCode)
		}
	})
}

func genBlueGreen(t *rapid.T) scenario {
	green := rapid.IntRange(0, 20).Draw(t, "green")
	blue := rapid.IntRange(0, 20).Draw(t, "blue")
	rollback := rapid.IntRange(0, 4).Draw(t, "rollback") == 0
	failPct := rapid.IntRange(0, 100).Draw(t, "failPct")
	reroutePct := rapid.IntRange(0, 100).Draw(t, "reroutePct")
	s := scenario{durations: map[string]time.Duration{}}
	var ts []Target
	for i := range green + blue {
		tg := Target{Instance: health.Unhealthy, Revision: health.Unknown, Status: target.TargetPending}
		if i < green {
			tg.ID, tg.Label = fmt.Sprintf("g%02d", i), target.LabelGreen
			if !rollback {
				tg.Reroute = target.TargetPending
			}
			if rapid.IntRange(0, 3).Draw(t, "greenHealthy") == 0 {
				tg.Instance, tg.Revision = health.Healthy, rapid.SampledFrom(health.Current.Values()).Draw(t, "rev")
			}
			if rapid.IntRange(0, 99).Draw(t, "fr") < reroutePct {
				s.failReroute = append(s.failReroute, tg.ID)
			}
		} else {
			tg.ID, tg.Label, tg.Instance, tg.Revision = fmt.Sprintf("b%02d", i), target.LabelBlue, health.Healthy, health.Current
		}
		if rapid.IntRange(0, 99).Draw(t, "f") < failPct/4 {
			s.fail = append(s.fail, tg.ID)
		}
		s.durations[tg.ID] = time.Duration(rapid.IntRange(1, 6).Draw(t, "dur")) * 10 * time.Second
		ts = append(ts, tg)
	}
	c := genConfig(t, green)
	c.ZonalConfig = nil
	s.in = Input{Config: c, Type: target.BlueGreen, Targets: ts, Rollback: rollback, BlueGreen: genBlueGreenOptions(t)}
	if rapid.Bool().Draw(t, "failTerminate") {
		s.failSteps = []Phase{PhaseTerminateOriginals}
	}
	return s
}

func genBlueGreenOptions(t *rapid.T) BlueGreen {
	var bg BlueGreen
	if rapid.Bool().Draw(t, "stopDeployment") {
		bg.ReadyAction, bg.ReadyWait = StopDeployment, time.Duration(rapid.IntRange(1, 3).Draw(t, "readyWait"))*time.Minute
	}
	if rapid.Bool().Draw(t, "terminate") {
		bg.TerminationAction, bg.TerminationWait = Terminate, time.Duration(rapid.IntRange(0, 3).Draw(t, "terminationWait"))*time.Minute
	}
	return bg
}

func genTraffic(t *rapid.T) scenario {
	platform := rapid.SampledFrom([]config.ComputePlatform{config.Lambda, config.ECS}).Draw(t, "platform")
	var c config.Config
	for _, p := range config.PredefinedConfigs() {
		if p.Platform() == platform && rapid.IntRange(0, 3).Draw(t, "pick") == 0 {
			c = p
		}
	}
	if c.Name == "" {
		c = config.Config{Name: "Linear", ComputePlatform: platform, TrafficRouting: &config.TrafficRouting{Type: config.TimeBasedLinear,
			TimeBasedLinear: &config.Linear{LinearPercentage: rapid.IntRange(5, 99).Draw(t, "pct"), LinearInterval: rapid.IntRange(1, 20).Draw(t, "interval")}}}
	}
	s := scenario{in: Input{Config: c, Type: target.BlueGreen}}
	if platform == config.ECS {
		s.in.BlueGreen = genBlueGreenOptions(t)
	}
	phases := Phases(s.in)
	if rapid.Bool().Draw(t, "failStep") {
		ph := rapid.SampledFrom(phases).Draw(t, "failingPhase")
		if k := ph.Kind(); k == KindStep || k == KindTraffic {
			s.failSteps = []Phase{ph}
		}
	}
	return s
}

// Blue/green, Lambda and ECS previews keep their rules too.
func TestPropertyBlueGreenAndTraffic(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		s := genBlueGreen(t)
		sc := s.preview(t)
		if again := s.preview(t); !reflect.DeepEqual(again, sc) {
			t.Fatal("Preview is not deterministic")
		}
		if sc.PeakInFlight > max(sc.MaxInFlight, 1) && !s.in.Rollback {
			t.Fatalf("peak %d > W %d", sc.PeakInFlight, sc.MaxInFlight)
		}
		if sc.LowestHealthy < min(sc.MinimumHealthy, sc.InitialHealthy) {
			t.Fatalf("lowest %d < min(M %d, initial %d)", sc.LowestHealthy, sc.MinimumHealthy, sc.InitialHealthy)
		}
		served, blueFailed := 0, 0
		for _, st := range sc.Steps {
			if st.Phase == PhaseReroute {
				served += len(st.Succeeded)
			}
			if st.Phase == PhaseBlockOriginals || st.Phase == PhaseAllowOriginals || st.Phase == PhaseBlockReplacements {
				blueFailed += len(st.Failed)
			}
		}
		if sc.Status == Succeeded {
			green := 0
			for _, tg := range s.in.Targets {
				if tg.Label == target.LabelGreen {
					green++
				}
			}
			m, _ := health.ForConfig(s.in.Config, green)
			if !s.in.Rollback && served < m.SuccessesNeeded() && !m.OneAtATime() || blueFailed > 0 {
				t.Fatalf("Succeeded with %d serving (need %d) and %d traffic-block failures\n%s", served, m.SuccessesNeeded(), blueFailed, sc.Explanation)
			}
		}
		ts := genTraffic(t)
		tsc := ts.preview(t)
		if (tsc.Status == Succeeded) != (len(ts.failSteps) == 0) {
			t.Fatalf("%s with failing steps %v: %s", tsc.Status, ts.failSteps, tsc.Explanation)
		}
	})
}

package plantest

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/fleetdeploy/fleetdeploy/config"
	"github.com/fleetdeploy/fleetdeploy/deploy/plan"
	"github.com/fleetdeploy/fleetdeploy/health"
	"github.com/fleetdeploy/fleetdeploy/target"
)

// Rule names one of CodeDeploy's deployment rules a schedule must keep.
type Rule string

// The rules Violations checks. Each comes from the User Guide's "CodeDeploy
// instance health" and "Working with deployment configurations in
// CodeDeploy" or from a decision package plan's documentation records.
const (
	// RuleMinimumHealthy: a step takes a healthy target offline and leaves
	// fewer than the minimum M healthy targets not in flight (over the
	// Green fleet for blue/green). A fleet that starts below M may deploy
	// its Unhealthy targets, but no healthy one.
	RuleMinimumHealthy Rule = "minimum-healthy"
	// RuleZoneMinimumHealthy: the same inside a zone of a zonal deployment,
	// against the zone's own minimum (per-zone FLEET_PERCENT of the zone's
	// targets, rounded up, or HOST_COUNT; 0 when the configuration sets
	// none).
	RuleZoneMinimumHealthy Rule = "zone-minimum-healthy"
	// RuleMaxInFlight: more than W = N−M targets in flight at once (one for
	// OneAtATime).
	RuleMaxInFlight Rule = "max-in-flight"
	// RuleHealthOrder: a target started before one that goes earlier in
	// the health order — Unhealthy, then revision Unknown, Old, Current; by
	// ID within a class — or one was passed over while later ones started.
	RuleHealthOrder Rule = "health-order"
	// RuleZonesOneAtATime: in a zonal deployment, a target started while a
	// target of another zone was in flight, or zones went out of order
	// (Input.ZoneOrder first, then zones holding Unhealthy targets, then by
	// name).
	RuleZonesOneAtATime Rule = "zones-one-at-a-time"
	// RuleZoneBake: a zone started before the monitor wait after the zone
	// before it ran out (FirstZoneMonitorDuration after the first zone,
	// MonitorDuration after each later one; none after the last).
	RuleZoneBake Rule = "zone-bake"
	// RuleSuccess: the final status disagrees with the success rule: at
	// least max(M, 1) targets succeeded; for OneAtATime every target
	// attempted and no failure, or one on the last target.
	RuleSuccess Rule = "success-rule"
	// RuleHealthAfter: a deployment reported Succeeded leaves fewer than
	// max(M, 1) healthy targets once health is updated after it (every
	// target that did not succeed becomes Unhealthy).
	RuleHealthAfter Rule = "health-after"
	// RuleTraffic: a Lambda or ECS traffic shift moved more traffic than
	// the configuration's schedule allows at that moment, moved it
	// backwards, or a deployment succeeded without reaching 100%.
	RuleTraffic Rule = "traffic-schedule"
	// RuleWellFormed: the input is not valid, or the schedule names a
	// target that is not in the input, starts one twice, finishes one not
	// in flight, or counts outcomes differently from its own steps.
	RuleWellFormed Rule = "well-formed"
)

// String returns the rule's name.
func (r Rule) String() string { return string(r) }

// Violation is one broken rule in a schedule.
type Violation struct {
	// Step is the index in Schedule.Steps of the step that broke the rule;
	// -1 for a rule about the whole schedule (the final status, the input).
	Step int
	// At is the step's time from the start (0 when Step is -1).
	At plan.Seconds
	// Rule is the rule broken.
	Rule Rule
	// Targets are the targets involved, e.g. those a step took offline.
	Targets []string
	// Message says what happened and what the rule requires, with numbers.
	Message string
}

// Error returns "step 3 (at 120s): minimum-healthy [i-04 i-05]: …", or
// "schedule: success-rule: …" for a whole-schedule violation.
func (v Violation) Error() string {
	var b strings.Builder
	if v.Step < 0 {
		b.WriteString("schedule: ")
	} else {
		fmt.Fprintf(&b, "step %d (at %vs): ", v.Step, v.At)
	}
	b.WriteString(string(v.Rule))
	if len(v.Targets) > 0 {
		fmt.Fprintf(&b, " %v", v.Targets)
	}
	b.WriteString(": ")
	b.WriteString(v.Message)
	return b.String()
}

// String returns Error.
func (v Violation) String() string { return v.Error() }

// Check reports every violation of Violations(in, s) with t.Errorf, one
// per violation.
func Check(t testing.TB, in plan.Input, s plan.Schedule) {
	t.Helper()
	for _, v := range Violations(in, s) {
		t.Errorf("%v", v)
	}
}

// key is a target's place in the order: zone rank, health class, ID.
type key struct {
	zone  int
	class health.Class
	id    string
}

func (a key) compare(b key) int {
	if c := cmp.Compare(a.zone, b.zone); c != 0 {
		return c
	}
	if c := cmp.Compare(a.class, b.class); c != 0 {
		return c
	}
	return strings.Compare(a.id, b.id)
}

// checker replays a schedule over its input.
type checker struct {
	in  plan.Input
	s   plan.Schedule
	out []Violation

	index   map[string]int
	keys    []key
	counted []bool // in the fleet the minimum counts (all, or Green)
	healthy []bool
	flying  []bool
	final   []target.TargetStatus // outcome of the health phase
	started []bool                // in the current phase

	zonal     bool
	zones     []string // deployment order
	zoneOf    []int
	zoneMin   []int
	zoneH     []int
	zoneFly   []int          // targets in flight per zone
	zoneFirst []int          // step of the first start per zone, -1 if none
	zoneStart []plan.Seconds // time of the first start per zone
	zoneEnd   []plan.Seconds // time of the last finish per zone, -1 if none
	h, inAir  int
	m         health.Minimum
	// failStep is the step of the last failure in a health phase, -1 if
	// none; lastEvent the last step that started or finished a target in
	// one.
	failStep, lastEvent int
	fresh               bool
}

func (c *checker) add(step int, rule Rule, targets []string, format string, args ...any) {
	v := Violation{Step: step, Rule: rule, Targets: targets, Message: fmt.Sprintf(format, args...)}
	if step >= 0 {
		v.At = c.s.Steps[step].At
	}
	c.out = append(c.out, v)
}

// Violations returns every way schedule s breaks CodeDeploy's rules for a
// deployment described by in (see the Rule constants), in step order, the
// whole-schedule ones last; nil when there is none. It replays the steps
// itself and trusts none of the schedule's summary numbers, so it can
// check a schedule from plan.Preview or one rebuilt from a recorded run.
//
// Within a step, the targets that finish and were in flight before it are
// applied first, then the starts; a target that starts and finishes within
// one step (zero duration) is not counted in flight. Zone bakes are checked
// only for a fresh deployment (every target Pending, zero Progress). The
// success rule and the health after the deployment are checked for Server
// deployments; for blue/green, a Succeeded deployment needs every traffic
// block to have succeeded and at least max(M, 1) Green targets to have
// taken traffic. An invalid input gives one RuleWellFormed violation.
func Violations(in plan.Input, s plan.Schedule) []Violation {
	c := &checker{in: in, s: s, failStep: -1, lastEvent: -1}
	if in.Type == "" {
		c.in.Type = target.InPlace
	}
	if _, err := plan.New(c.in); err != nil {
		c.add(-1, RuleWellFormed, nil, "the input is not valid, so nothing was checked: %v", err)
		return c.out
	}
	if in.Config.Platform() != config.Server {
		c.traffic()
		return c.out
	}
	if !c.setup() {
		return c.out
	}
	c.replay()
	c.ending()
	return c.out
}

func status(t plan.Target) target.TargetStatus {
	if t.Status == "" {
		return target.TargetPending
	}
	return t.Status
}

func (c *checker) setup() bool {
	in := &c.in
	n := len(in.Targets)
	bg := in.Type == target.BlueGreen
	fleet := 0
	c.index = make(map[string]int, n)
	c.keys = make([]key, n)
	c.counted = make([]bool, n)
	c.healthy = make([]bool, n)
	c.flying = make([]bool, n)
	c.final = make([]target.TargetStatus, n)
	c.started = make([]bool, n)
	c.fresh = in.Progress == (plan.Progress{})
	c.zonal = !bg && !in.Rollback && in.Config.ZonalConfig != nil
	if c.zonal {
		c.zoneOrder()
	}
	for i, t := range in.Targets {
		c.index[t.ID] = i
		c.keys[i] = key{class: health.ClassOf(t.Instance, t.Revision), id: t.ID}
		if c.zonal {
			c.keys[i].zone = c.zoneOf[i]
		}
		c.counted[i] = !bg || t.Label == target.LabelGreen
		if c.counted[i] {
			fleet++
		}
		st := status(t)
		c.final[i] = st
		c.healthy[i] = t.Instance == health.Healthy
		switch st {
		case target.TargetSucceeded:
			c.healthy[i] = true
		case target.TargetFailed:
			c.healthy[i] = false
		case target.TargetInProgress:
			c.flying[i] = true
			if c.counted[i] {
				c.inAir++
			}
			if c.zonal {
				c.zoneFly[c.zoneOf[i]]++
			}
		}
		if st != target.TargetPending {
			c.fresh = false
		}
		if c.counted[i] && c.healthy[i] && !c.flying[i] {
			c.h++
			if c.zonal {
				c.zoneH[c.zoneOf[i]]++
			}
		}
	}
	m, err := health.ForConfig(in.Config, fleet)
	if err != nil {
		c.add(-1, RuleWellFormed, nil, "the configuration's minimum does not resolve: %v", err)
		return false
	}
	c.m = m
	return true
}

// zoneOrder computes the zone order of package plan's documentation:
// Input.ZoneOrder first, then zones holding Unhealthy targets, then by
// name.
func (c *checker) zoneOrder() {
	ts := c.in.Targets
	unhealthy := map[string]bool{}
	count := map[string]int{}
	for _, t := range ts {
		count[t.Zone]++
		unhealthy[t.Zone] = unhealthy[t.Zone] || t.Instance == health.Unhealthy
	}
	rank := map[string]int{}
	for _, z := range c.in.ZoneOrder {
		if _, ok := count[z]; ok {
			if _, dup := rank[z]; !dup {
				rank[z] = len(c.zones)
				c.zones = append(c.zones, z)
			}
		}
	}
	var rest []string
	for z := range count {
		if _, ok := rank[z]; !ok {
			rest = append(rest, z)
		}
	}
	slices.SortFunc(rest, func(a, b string) int {
		if unhealthy[a] != unhealthy[b] {
			if unhealthy[a] {
				return -1
			}
			return 1
		}
		return strings.Compare(a, b)
	})
	for _, z := range rest {
		rank[z] = len(c.zones)
		c.zones = append(c.zones, z)
	}
	k := len(c.zones)
	c.zoneOf = make([]int, len(ts))
	c.zoneMin, c.zoneH, c.zoneFirst, c.zoneFly = make([]int, k), make([]int, k), make([]int, k), make([]int, k)
	c.zoneStart, c.zoneEnd = make([]plan.Seconds, k), make([]plan.Seconds, k)
	for i, t := range ts {
		c.zoneOf[i] = rank[t.Zone]
	}
	for z := range c.zones {
		c.zoneMin[z], _ = health.PerZone(*c.in.Config.ZonalConfig, count[c.zones[z]]) // validated by plan.New
		c.zoneFirst[z], c.zoneEnd[z] = -1, -1
	}
}

// healthPhase reports whether targets going offline in ph lower the
// healthy count.
func healthPhase(ph plan.Phase) bool {
	return ph == plan.PhaseDeploy || ph == plan.PhaseInstallReplacement
}

// windowed reports whether at most W targets may be in flight in ph.
func windowed(ph plan.Phase) bool {
	return healthPhase(ph) || ph == plan.PhaseReroute
}

func (c *checker) replay() {
	var phase plan.Phase
	var last key // last target started in the current health phase
	var lastID string
	haveLast := false
	var prefixMax []key // per step: the greatest key started so far
	var prefixStep []int
	for si, st := range c.s.Steps {
		if st.Phase != phase {
			phase = st.Phase
			haveLast = false
			clear(c.started)
		}
		hp := healthPhase(phase)
		// Finishes of targets in flight before this step.
		startedHere := map[string]bool{}
		for _, id := range st.Start {
			startedHere[id] = true
		}
		finish := func(id string, ok bool, late bool) {
			i, known := c.index[id]
			if !known {
				c.add(si, RuleWellFormed, []string{id}, "%q finished but is not a target of the input", id)
				return
			}
			if startedHere[id] != late {
				return
			}
			if !c.flying[i] {
				c.add(si, RuleWellFormed, []string{id}, "%q finished in phase %s but was not in flight", id, phase)
				return
			}
			c.flying[i] = false
			if c.counted[i] {
				c.inAir--
			}
			if c.zonal && hp {
				c.zoneEnd[c.zoneOf[i]] = st.At
				c.zoneFly[c.zoneOf[i]]--
			}
			if hp {
				c.lastEvent = si
				c.final[i] = target.TargetFailed
				if !ok {
					c.failStep = si
				}
				if ok {
					c.final[i] = target.TargetSucceeded
				}
			} else if !ok && phase == plan.PhaseReroute {
				c.final[i] = target.TargetFailed
			}
			if !hp || !c.counted[i] {
				return
			}
			c.healthy[i] = ok
			if ok {
				c.h++
				if c.zonal {
					c.zoneH[c.zoneOf[i]]++
				}
			}
		}
		finishAll := func(late bool) {
			for _, id := range st.Succeeded {
				finish(id, true, late)
			}
			for _, id := range st.Failed {
				finish(id, false, late)
			}
		}
		finishAll(false)
		// Starts.
		var offline []string
		zoneOffline := map[int][]string{}
		var stepMax key
		haveStepMax := false
		for _, id := range st.Start {
			i, known := c.index[id]
			if !known {
				c.add(si, RuleWellFormed, []string{id}, "%q started but is not a target of the input", id)
				continue
			}
			if c.flying[i] || c.started[i] {
				c.add(si, RuleWellFormed, []string{id}, "%q started twice in phase %s", id, phase)
				continue
			}
			if c.zonal && hp {
				z := c.zoneOf[i]
				for y, f := range c.zoneFly {
					if f > 0 && y != z {
						c.add(si, RuleZonesOneAtATime, []string{id},
							"%q of zone %q started while %d targets of zone %q were in flight; zones go one at a time", id, c.zones[z], f, c.zones[y])
						break
					}
				}
				c.zoneFly[z]++
				if c.zoneFirst[z] < 0 {
					c.zoneFirst[z], c.zoneStart[z] = si, st.At
				}
			}
			if hp {
				c.lastEvent = si
			}
			c.started[i] = true
			c.flying[i] = true
			if c.counted[i] {
				c.inAir++
			}
			if hp {
				k := c.keys[i]
				if haveLast && k.compare(last) < 0 {
					if c.zonal && k.zone != last.zone {
						c.add(si, RuleZonesOneAtATime, []string{lastID, id}, "%q of zone %q started after %q of zone %q, which comes later in the zone order %v",
							id, c.zones[k.zone], lastID, c.zones[last.zone], c.zones)
					} else {
						c.add(si, RuleHealthOrder, []string{lastID, id}, "%q (%s) started after %q (%s); the order is Unhealthy, then revision Unknown, Old, Current, by ID within a class",
							id, k.class, lastID, last.class)
					}
				}
				if !haveLast || k.compare(last) > 0 {
					last, lastID, haveLast = k, id, true
				}
				if !haveStepMax || k.compare(stepMax) > 0 {
					stepMax, haveStepMax = k, true
				}
			}
			if hp && c.counted[i] && c.healthy[i] {
				c.h--
				offline = append(offline, id)
				if c.zonal {
					z := c.zoneOf[i]
					c.zoneH[z]--
					zoneOffline[z] = append(zoneOffline[z], id)
				}
			}
		}
		finishAll(true)
		if hp && haveStepMax {
			if n := len(prefixMax); n > 0 && prefixMax[n-1].compare(stepMax) > 0 {
				stepMax = prefixMax[n-1]
			}
			prefixMax, prefixStep = append(prefixMax, stepMax), append(prefixStep, si)
		}
		// Checks at the end of the step.
		if len(offline) > 0 && c.h < c.m.Required {
			c.add(si, RuleMinimumHealthy, offline, "took %d healthy targets offline, leaving %d healthy and not in flight; at least %d must stay healthy (%s)",
				len(offline), c.h, c.m.Required, c.m)
		}
		for z := range c.zones {
			if ids := zoneOffline[z]; len(ids) > 0 && c.zoneH[z] < c.zoneMin[z] {
				c.add(si, RuleZoneMinimumHealthy, ids, "zone %q: took %d healthy targets offline, leaving %d healthy and not in flight; the zone must keep %d (%s per zone)",
					c.zones[z], len(ids), c.zoneH[z], c.zoneMin[z], c.in.Config.ZonalConfig.PerZoneMinimum())
			}
		}
		if windowed(phase) && len(st.Start) > 0 && c.inAir > c.m.Window {
			c.add(si, RuleMaxInFlight, st.Start, "%d targets in flight; at most %d may be (%s)", c.inAir, c.m.Window, c.m)
		}
	}
	c.passedOver(prefixMax, prefixStep)
	c.bakes()
}

// passedOver reports Pending targets never started although a target
// later in the order started.
func (c *checker) passedOver(prefixMax []key, prefixStep []int) {
	if len(prefixMax) == 0 {
		return
	}
	for i, t := range c.in.Targets {
		if !c.counted[i] || status(t) != target.TargetPending || c.final[i] != target.TargetPending || c.flying[i] {
			continue
		}
		k := c.keys[i]
		j, _ := slices.BinarySearchFunc(prefixMax, k, func(e, k key) int {
			if e.compare(k) > 0 {
				return 1
			}
			return -1
		})
		if j == len(prefixMax) {
			continue
		}
		si := prefixStep[j]
		if c.zonal && prefixMax[j].zone != k.zone {
			c.add(si, RuleZonesOneAtATime, []string{t.ID, prefixMax[j].id}, "%q of zone %q was never started, but zone %q, which comes after it in the zone order %v, started",
				t.ID, c.zones[k.zone], c.zones[prefixMax[j].zone], c.zones)
			continue
		}
		c.add(si, RuleHealthOrder, []string{t.ID, prefixMax[j].id}, "%q (%s) was never started, but %q (%s), which comes after it in the health order, started",
			t.ID, k.class, prefixMax[j].id, prefixMax[j].class)
	}
}

// bakes checks the monitor wait between zones of a fresh zonal deployment.
func (c *checker) bakes() {
	if !c.zonal || !c.fresh {
		return
	}
	zc := c.in.Config.ZonalConfig
	ready := plan.Seconds(0)
	for z := range c.zones {
		bake := zc.MonitorDuration()
		if z == 1 {
			bake = zc.FirstZoneMonitorDuration()
		}
		// Without a wait, a zone starting too early breaks
		// RuleZonesOneAtATime, reported by the replay.
		if z > 0 && bake > 0 && c.zoneFirst[z] >= 0 && c.zoneStart[z] < ready {
			var ids []string
			for _, id := range c.s.Steps[c.zoneFirst[z]].Start {
				if i, ok := c.index[id]; ok && c.zoneOf[i] == z {
					ids = append(ids, id)
				}
			}
			c.add(c.zoneFirst[z], RuleZoneBake, ids, "zone %q started at %vs, before %vs: zone %q was done at %vs and must be monitored for %s first",
				c.zones[z], c.zoneStart[z], ready, c.zones[z-1], ready-plan.Seconds(bake.Seconds()), bake)
		}
		done := max(ready, c.zoneEnd[z])
		after := zc.MonitorDuration()
		if z == 0 {
			after = zc.FirstZoneMonitorDuration()
		}
		ready = done + plan.Seconds(after.Seconds())
	}
}

// ending checks the final status against the success rule and the health
// after the deployment.
func (c *checker) ending() {
	s := c.s
	var succeeded, failed, pending []string
	for i, t := range c.in.Targets {
		if !c.counted[i] {
			continue
		}
		switch c.final[i] {
		case target.TargetSucceeded:
			succeeded = append(succeeded, t.ID)
		case target.TargetFailed:
			failed = append(failed, t.ID)
		case target.TargetPending:
			pending = append(pending, t.ID)
		}
	}
	if c.in.Type == target.BlueGreen {
		c.blueGreenEnding()
		return
	}
	n := len(c.in.Targets)
	tally := health.Tally{Succeeded: len(succeeded), Failed: len(failed), NotAttempted: n - len(succeeded) - len(failed)}
	// The OneAtATime exception: the one failure was the last thing to
	// happen, with nothing left to deploy.
	tally.LastFailed = tally.Failed == 1 && len(pending) == 0 && c.inAir == 0 &&
		(c.failStep < 0 || c.failStep == c.lastEvent && len(s.Steps[c.failStep].Start) == 0)
	rule := c.m.Succeeded(tally)
	switch {
	case s.Status == plan.Succeeded && !rule:
		c.add(-1, RuleSuccess, failed, "the deployment Succeeded, but %s (%s)", c.m.ExplainResult(tally), c.m)
	case s.Status == plan.Failed && rule && (!c.zonal || len(pending) == 0):
		c.add(-1, RuleSuccess, nil, "the deployment Failed (%s), but %s, which meets the rule (%s)", s.ErrorCode, c.m.ExplainResult(tally), c.m)
	}
	if s.Succeeded+s.Failed+s.NotAttempted > 0 && (s.Succeeded != tally.Succeeded || s.Failed != tally.Failed || s.NotAttempted != tally.NotAttempted) {
		c.add(-1, RuleWellFormed, nil, "the schedule counts %d succeeded, %d failed, %d not attempted; its steps give %d, %d, %d",
			s.Succeeded, s.Failed, s.NotAttempted, tally.Succeeded, tally.Failed, tally.NotAttempted)
	}
	if s.Status != plan.Succeeded {
		return
	}
	var unhealthy []string
	healthy := 0
	for i, t := range c.in.Targets {
		o := health.OutcomeSkipped
		switch c.final[i] {
		case target.TargetSucceeded:
			o = health.OutcomeSucceeded
		case target.TargetFailed:
			o = health.OutcomeFailed
		}
		after, err := health.Update(t.Health(), o, health.Ending{Succeeded: true})
		if err == nil && after.Instance == health.Healthy {
			healthy++
		} else {
			unhealthy = append(unhealthy, t.ID)
		}
	}
	if need := c.m.SuccessesNeeded(); healthy < need {
		c.add(-1, RuleHealthAfter, unhealthy, "the deployment Succeeded, leaving %d healthy targets once health is updated; at least %d are needed (%s)", healthy, need, c.m)
	}
}

// blueGreenEnding checks a Succeeded blue/green deployment: every traffic
// block succeeded and enough Green targets took traffic.
func (c *checker) blueGreenEnding() {
	if c.s.Status != plan.Succeeded {
		return
	}
	took := map[string]bool{}
	for _, st := range c.s.Steps {
		if st.Phase == plan.PhaseReroute {
			for _, id := range st.Succeeded {
				took[id] = true
			}
		}
	}
	rerouted := 0
	for i, t := range c.in.Targets {
		if t.Label == target.LabelGreen && !c.in.Rollback && c.final[i] != target.TargetFailed && (t.Reroute == target.TargetSucceeded || took[t.ID]) {
			rerouted++
		}
	}
	for si, st := range c.s.Steps {
		switch st.Phase {
		case plan.PhaseBlockOriginals, plan.PhaseAllowOriginals, plan.PhaseBlockReplacements:
			if len(st.Failed) > 0 {
				c.add(si, RuleSuccess, st.Failed, "the deployment Succeeded, but %s failed for these targets; every one must succeed", st.Phase)
			}
		}
	}
	if !c.in.Rollback {
		if need := c.m.SuccessesNeeded(); rerouted < need {
			c.add(-1, RuleSuccess, nil, "the deployment Succeeded, but only %d Green targets took traffic; at least %d must (%s)", rerouted, need, c.m)
		}
	}
}

// traffic checks a Lambda or ECS schedule's shifts against the
// configuration's schedule.
func (c *checker) traffic() {
	tr := c.in.Config.TrafficRouting
	if tr == nil {
		return
	}
	sched := tr.Steps()
	var phaseStart plan.Seconds
	for _, p := range c.s.Phases {
		if p.Phase == plan.PhaseAllowTraffic {
			phaseStart = p.Start
		}
	}
	k := c.in.Progress.Shifts
	prev := 0
	if k > 0 && k <= len(sched) {
		prev = sched[k-1].Weight
	}
	failed := false
	for si, st := range c.s.Steps {
		if st.EventFailed != "" {
			failed = true
		}
		if st.Event != plan.PhaseAllowTraffic {
			continue
		}
		w, elapsed := st.TrafficWeight, (st.At - phaseStart).Duration()
		allowed := 0
		for _, x := range sched {
			if x.At <= elapsed+time.Millisecond {
				allowed = max(allowed, x.Weight)
			}
		}
		switch {
		case w > allowed:
			c.add(si, RuleTraffic, nil, "shifted to %d%% %s into AllowTraffic; the schedule allows %d%% by then (%s)", w, elapsed, allowed, describe(sched))
		case w < prev:
			c.add(si, RuleTraffic, nil, "shifted to %d%% after %d%%; traffic never moves backwards", w, prev)
		}
		prev = max(prev, w)
		k++
	}
	if c.s.Status == plan.Succeeded && prev != 100 {
		c.add(-1, RuleTraffic, nil, "the deployment Succeeded with %d%% of traffic on the replacement; it must reach 100%% (%s)", prev, describe(sched))
	}
	if c.s.Status == plan.Succeeded && failed {
		c.add(-1, RuleSuccess, nil, "the deployment Succeeded, but a step failed")
	}
}

func describe(sched []config.TrafficStep) string {
	parts := make([]string, len(sched))
	for i, x := range sched {
		parts[i] = fmt.Sprintf("%d%% at %s", x.Weight, x.At)
	}
	return "schedule: " + strings.Join(parts, ", ")
}

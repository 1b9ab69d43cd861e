package plan

import (
	"container/heap"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/fleetdeploy/fleetdeploy/health"
	"github.com/fleetdeploy/fleetdeploy/target"
)

// DefaultDuration is how long Preview assumes a target takes when
// PreviewInput gives no duration for it.
const DefaultDuration = 60 * time.Second

// PreviewInput is a deployment's state plus assumed outcomes: how long each
// target takes and which targets and steps fail.
type PreviewInput struct {
	// Input is the deployment to preview, fresh or partly done (targets
	// already InProgress are assumed to finish Duration after Start).
	Input
	// Start is the virtual time the preview begins at; only the absolute
	// times in Decision explanations depend on it. Zero means the Unix
	// epoch.
	Start time.Time
	// Duration is how long a target's work takes; 0 means DefaultDuration.
	Duration time.Duration
	// Durations overrides Duration per target ID.
	Durations map[string]time.Duration
	// Fail lists target IDs whose work fails: the in-place deployment, a
	// Green target's install, a Blue target's traffic block (or, in a
	// rollback, each target's only action).
	Fail []string
	// FailReroute lists Green target IDs that fail to take traffic.
	FailReroute []string
	// FailSteps lists Step phases that fail; AllowTraffic makes the first
	// traffic shift fail.
	FailSteps []Phase
	// StepDuration is how long each hook, reserved event or termination
	// step takes (default 0). Traffic shifts take no time.
	StepDuration time.Duration
	// ContinueAfter is when, after the deployment becomes Ready, Continue
	// (READY_WAIT) is assumed to come: 0 means at once; a negative value
	// means never, so the ready wait runs out and the deployment stops.
	// Termination waits always run their full time.
	ContinueAfter time.Duration
}

// Seconds is a duration in seconds, as a JSON number.
type Seconds float64

// Duration returns s as a time.Duration.
func (s Seconds) Duration() time.Duration { return time.Duration(float64(s) * float64(time.Second)) }

func seconds(d time.Duration) Seconds { return Seconds(d.Seconds()) }

// Schedule is the full plan of a deployment run forward in virtual time.
type Schedule struct {
	// MinimumHealthy is M (over the Green fleet for blue/green; 0 for
	// Lambda and ECS).
	MinimumHealthy int `json:"minimumHealthy"`
	// MaxInFlight is W, the most targets in flight at once.
	MaxInFlight int `json:"maxInFlight"`
	// Explanation is the final decision's explanation, with the arithmetic.
	Explanation string `json:"explanation"`
	// Arithmetic is the minimum healthy arithmetic (or the traffic
	// schedule) in words.
	Arithmetic string `json:"arithmetic"`
	// Steps are the moments something happened, in time order.
	Steps []ScheduleStep `json:"steps"`
	// Status is the final status; ErrorCode its reason when not Succeeded.
	Status    DeploymentStatus `json:"status"`
	ErrorCode ErrorCode        `json:"errorCode"`
	// Succeeded, Failed and NotAttempted count targets. A blue/green
	// target counts as succeeded once all its actions succeeded, failed if
	// one failed, not attempted otherwise.
	Succeeded    int `json:"succeeded"`
	Failed       int `json:"failed"`
	NotAttempted int `json:"notAttempted"`
	// PeakInFlight is the most targets in flight at any moment (of the
	// Green fleet for blue/green, whose Blue targets are all blocked at
	// once).
	PeakInFlight int `json:"peakInFlight"`
	// InitialHealthy is the number of healthy targets at the start (in the
	// Green fleet for blue/green).
	InitialHealthy int `json:"initialHealthy"`
	// LowestHealthy is the lowest number, at any moment, of targets that
	// are healthy and not being deployed to (in the Green fleet for
	// blue/green).
	LowestHealthy int `json:"lowestHealthy"`
	// DurationSeconds is the time from Start to the end of the deployment.
	DurationSeconds Seconds `json:"durationSeconds"`
	// Zones are the zones of a zonal deployment, in deployment order.
	Zones []ZoneWindow `json:"zones,omitempty"`
	// Phases are the phases entered, in order.
	Phases []PhaseWindow `json:"phases"`
}

// ScheduleStep is one moment of a Schedule.
type ScheduleStep struct {
	// At is the time from Start.
	At Seconds `json:"at"`
	// Start, Succeeded and Failed are target IDs started, succeeded and
	// failed at this moment (never nil).
	Start     []string `json:"start"`
	Succeeded []string `json:"succeeded"`
	Failed    []string `json:"failed"`
	// Phase, Zone and Status are the deployment's phase, zone and status.
	Phase  Phase            `json:"phase"`
	Zone   string           `json:"zone,omitempty"`
	Status DeploymentStatus `json:"status"`
	// Event is the step (hook, reserved event, shift, termination) started
	// at this moment; EventFailed is set when the step failed.
	Event       Phase `json:"event,omitempty"`
	EventFailed Phase `json:"eventFailed,omitempty"`
	// TrafficWeight is the replacement's share of traffic a shift started
	// at this moment moves to.
	TrafficWeight int `json:"trafficWeight,omitempty"`
	// InFlight is the number of targets in flight after this moment: those
	// started and not yet finished, in any phase (of the Green fleet for
	// blue/green, whose Blue targets are all blocked at once; 0 for Lambda
	// and ECS). Schedule.PeakInFlight is the largest InFlight of the steps.
	InFlight int `json:"inFlight"`
	// Healthy is the number of targets that are healthy and not being
	// deployed to after this moment (of the Green fleet for blue/green), as
	// Schedule.LowestHealthy counts them: a target leaves the count when
	// its in-place deployment or Green install starts and comes back if it
	// succeeds. Schedule.LowestHealthy is the smallest Healthy of the
	// steps.
	Healthy int `json:"healthy"`
	// Minimum is the minimum in force: the fleet's M, Schedule.MinimumHealthy,
	// which Healthy must not go below once it is reached (a fleet that
	// starts below M never goes lower).
	Minimum int `json:"minimum"`
	// Zones are the per-zone counts of a zonal deployment (nil otherwise).
	// The first step lists every zone, in deployment order; each later step
	// lists only the zones whose targets started or finished at this
	// moment (at most one, zones being deployed one at a time), so a zone
	// not listed keeps the counts it was last listed with. This keeps a
	// million-target schedule small.
	Zones []ZoneCount `json:"zones,omitempty"`
}

// ZoneCount is one zone's counts after a moment of a zonal Schedule.
type ZoneCount struct {
	// Zone is the zone's name.
	Zone string `json:"zone"`
	// InFlight is the number of the zone's targets in flight.
	InFlight int `json:"inFlight"`
	// Healthy is the number of the zone's targets that are healthy and not
	// being deployed to.
	Healthy int `json:"healthy"`
	// Minimum is the zone's own minimum (ZoneWindow.MinimumHealthy; see
	// "Zonal deployments" in the package documentation).
	Minimum int `json:"minimum"`
}

// ZoneWindow is one zone of a zonal Schedule.
type ZoneWindow struct {
	// Zone is the zone's name.
	Zone string `json:"zone"`
	// Targets is the number of targets in the zone.
	Targets int `json:"targets"`
	// MinimumHealthy is the zone's own minimum (see "Zonal deployments" in
	// the package documentation).
	MinimumHealthy int `json:"minimumHealthy"`
	// LowestHealthy is the lowest number, at any moment, of the zone's
	// targets that are healthy and not being deployed to.
	LowestHealthy int `json:"lowestHealthy"`
	// Start is the first start in the zone, End its last finish; both are
	// -1 when nothing in the zone ran.
	Start Seconds `json:"start"`
	End   Seconds `json:"end"`
	// BakeUntil is the end of the monitor wait after the zone (0 if none).
	BakeUntil Seconds `json:"bakeUntil,omitempty"`
}

// PhaseWindow is one phase of a Schedule.
type PhaseWindow struct {
	// Phase is the phase entered.
	Phase Phase `json:"phase"`
	// Start and End are when it began and ended, from PreviewInput.Start.
	Start Seconds `json:"start"`
	End   Seconds `json:"end"`
}

// Preview runs the planner forward in virtual time over assumed outcomes
// and returns the whole schedule, touching nothing. Every target succeeds
// after its duration unless listed in Fail; every step succeeds unless
// listed in FailSteps. Empty fields of the Input take their defaults, as
// with New. For invalid input it returns every problem at once (see
// InputError), including IDs in Fail, FailReroute or Durations that are not
// targets.
func Preview(in PreviewInput) (Schedule, error) {
	var ps problems
	in.Type = in.deploymentType()
	p := newPlanner(&ps, in.Input)
	sim := newSim(&ps, p, in)
	if err := ps.err(); err != nil {
		return Schedule{}, err
	}
	return sim.run()
}

type event struct {
	at   time.Duration
	seq  int
	idx  int // target index; -1 for a step
	step Phase
}

type events []event

func (e events) Len() int { return len(e) }
func (e events) Less(i, j int) bool {
	return e[i].at < e[j].at || e[i].at == e[j].at && e[i].seq < e[j].seq
}
func (e events) Swap(i, j int) { e[i], e[j] = e[j], e[i] }
func (e *events) Push(x any)   { *e = append(*e, x.(event)) }
func (e *events) Pop() any {
	old := *e
	x := old[len(old)-1]
	*e = old[:len(old)-1]
	return x
}

// sim is Preview's own bookkeeping: it does not trust the planner's
// counters, so the schedule it reports is an independent check.
type sim struct {
	p   *Planner
	in  PreviewInput
	ts  []Target
	dur []time.Duration
	// outcome per target: fail is the first action's, failReroute the
	// reroute's.
	fail, failReroute []bool
	failStep          map[Phase]bool

	start   time.Time
	healthy []bool // health now, per target
	flying  []bool // in flight now
	counted []bool // in the fleet LowestHealthy counts (all, or Green)
	zoneOf  []int
	zones   []ZoneWindow
	zoneH   []int // per zone: healthy and not in flight
	zoneF   []int // per zone: in flight
	hNow    int
	inAir   int

	sched    Schedule
	lastStat DeploymentStatus
	result   []int8 // per target: 0 untouched or in flight, 1 Green installed (its reroute to come), 2 done ok, -1 failed
}

// newSim adds the problems of in's preview fields to ps; it returns nil when
// p is nil or there are problems.
func newSim(ps *problems, p *Planner, in PreviewInput) *sim {
	s := &sim{p: p, in: in, ts: in.Targets, start: in.Start, failStep: map[Phase]bool{}}
	if s.start.IsZero() {
		s.start = time.Unix(0, 0).UTC()
	}
	n := len(in.Targets)
	if in.Duration < 0 {
		ps.add(nil, "Duration", "must not be negative; got %s", in.Duration)
	}
	def := in.Duration
	if def == 0 {
		def = DefaultDuration
	}
	if in.StepDuration < 0 {
		ps.add(nil, "StepDuration", "must not be negative; got %s", in.StepDuration)
	}
	s.dur = make([]time.Duration, n)
	for i := range s.dur {
		s.dur[i] = def
	}
	s.fail, s.failReroute = make([]bool, n), make([]bool, n)
	if len(in.Durations)+len(in.Fail)+len(in.FailReroute) > 0 {
		index := make(map[string]int, n)
		for i, t := range in.Targets {
			index[t.ID] = i
		}
		lookup := func(field, id string) (int, bool) {
			i, ok := index[id]
			if !ok {
				ps.add(nil, field, "%q is not the ID of a target", id)
			}
			return i, ok
		}
		bad := false
		for id, d := range in.Durations {
			i, ok := index[id]
			if ok && d >= 0 {
				s.dur[i] = d
			} else {
				bad = true
			}
		}
		if bad {
			// The problems in ID order, so that they come in a stable order.
			for _, id := range slices.Sorted(maps.Keys(in.Durations)) {
				if d := in.Durations[id]; d < 0 {
					ps.add(nil, "Durations["+id+"]", "must not be negative; got %s", d)
				}
				lookup("Durations", id)
			}
		}
		for k, id := range in.Fail {
			if i, ok := lookup(fmt.Sprintf("Fail[%d]", k), id); ok {
				s.fail[i] = true
			}
		}
		for k, id := range in.FailReroute {
			field := fmt.Sprintf("FailReroute[%d]", k)
			i, ok := lookup(field, id)
			if !ok {
				continue
			}
			if in.Targets[i].Label != target.LabelGreen {
				ps.add(nil, field, "%q is not a Green target", id)
			}
			s.failReroute[i] = true
		}
	}
	for k, ph := range in.FailSteps {
		if kind := ph.Kind(); kind != KindStep && kind != KindTraffic {
			ps.add(nil, fmt.Sprintf("FailSteps[%d]", k), "%q is not a step phase", ph)
		}
		s.failStep[ph] = true
	}
	if p == nil || len(ps.ps) > 0 {
		return nil
	}
	s.healthy, s.flying, s.counted = make([]bool, n), make([]bool, n), make([]bool, n)
	s.result = make([]int8, n)
	bg := in.Type == target.BlueGreen
	for i, t := range in.Targets {
		s.healthy[i] = t.instance() == health.Healthy
		switch t.Status {
		case target.TargetSucceeded:
			s.healthy[i] = true
		case target.TargetFailed:
			s.healthy[i] = false
		}
		s.counted[i] = !bg || t.Label == target.LabelGreen
	}
	if p.zonal {
		zoneIndex := map[string]int{}
		for k, z := range p.zoneNames {
			zoneIndex[z] = k
			s.zones = append(s.zones, ZoneWindow{Zone: z, Start: -1, End: -1})
		}
		s.zoneOf = make([]int, n)
		s.zoneH = make([]int, len(s.zones))
		s.zoneF = make([]int, len(s.zones))
		for i, t := range in.Targets {
			k := zoneIndex[t.Zone]
			s.zoneOf[i] = k
			s.zones[k].Targets++
			if s.healthy[i] && t.Status != target.TargetInProgress {
				s.zoneH[k]++
			}

		}
		for k := range s.zones {
			s.zones[k].MinimumHealthy, _ = health.PerZone(p.perZone, s.zones[k].Targets)
			s.zones[k].LowestHealthy = s.zoneH[k]
		}
	}
	return s
}

func (s *sim) healthPhase(ph Phase) bool { return ph == PhaseDeploy || ph == PhaseInstallReplacement }

func (s *sim) run() (Schedule, error) {
	p, sc := s.p, &s.sched
	sc.MinimumHealthy, sc.MaxInFlight, sc.Arithmetic = p.min.Required, p.min.Window, p.arith
	for i := range s.ts {
		if s.counted[i] && s.healthy[i] && s.ts[i].Status != target.TargetInProgress {
			s.hNow++
		}
	}
	sc.InitialHealthy, sc.LowestHealthy = s.hNow, s.hNow
	var q events
	seq := 0 // order of pushing, to break ties between events at one time
	push := func(e event) {
		e.seq = seq
		seq++
		heap.Push(&q, e)
	}
	ph := p.phases[p.pi]
	// Work already in flight in the state previewed from.
	if ph.Kind() == KindTargets {
		for i := range s.ts {
			if p.run.st[i]&statusMask == sInProgress {
				s.flying[i] = true
				if s.counted[i] {
					s.inAir++
				}
				if s.zoneOf != nil {
					s.zoneF[s.zoneOf[i]]++
				}
				push(event{at: s.dur[i], idx: i})
			}
		}
	}
	if p.prog.StepIssued {
		push(event{at: s.stepDur(ph), idx: -1, step: ph})
	}
	var now time.Duration
	continueAt := time.Duration(-1)
	var lastPhase Phase
	for {
		d := p.Next(s.start.Add(now))
		if d.Phase != lastPhase {
			if n := len(sc.Phases); n > 0 {
				sc.Phases[n-1].End = seconds(now)
			}
			sc.Phases = append(sc.Phases, PhaseWindow{Phase: d.Phase, Start: seconds(now), End: seconds(now)})
			lastPhase = d.Phase
		}
		if len(d.Start) > 0 || d.Step != nil || d.Status != s.lastStat {
			m := s.moment(now, d.Phase, d.Zone)
			m.Status = d.Status
			s.lastStat = d.Status
			for _, i := range d.Start {
				m.Start = append(m.Start, s.ts[i].ID)
				s.flying[i] = true
				if s.counted[i] {
					s.inAir++
				}
				if s.healthPhase(d.Phase) && s.counted[i] && s.healthy[i] {
					s.hNow--
					if s.zoneOf != nil {
						s.zoneH[s.zoneOf[i]]--
					}
				}
				if s.zoneOf != nil {
					s.zoneF[s.zoneOf[i]]++
					if z := &s.zones[s.zoneOf[i]]; z.Start < 0 {
						z.Start = seconds(now)
					}
					s.stampZone(m, s.zoneOf[i])
				}
				push(event{at: now + s.dur[i], idx: i})
			}
			s.stamp(m)
			if d.Step != nil {
				m.Event = d.Step.Phase
				if d.Step.Phase == PhaseAllowTraffic {
					m.TrafficWeight = d.Step.Weight
				}
				push(event{at: now + s.stepDur(d.Step.Phase), idx: -1, step: d.Step.Phase})
			}
			if d.Status == Baking && d.Zone != "" && s.zoneOf != nil {
				for k := range s.zones {
					if s.zones[k].Zone == d.Zone {
						s.zones[k].BakeUntil = seconds(d.WaitUntil.Sub(s.start))
					}
				}
			}
		}
		sc.PeakInFlight = max(sc.PeakInFlight, s.inAir)
		sc.LowestHealthy = min(sc.LowestHealthy, s.hNow)
		for k := range s.zones {
			s.zones[k].LowestHealthy = min(s.zones[k].LowestHealthy, s.zoneH[k])
		}
		if d.Done {
			sc.Status, sc.ErrorCode, sc.Explanation = d.Status, d.ErrorCode, d.Explanation
			sc.DurationSeconds = seconds(now)
			sc.Phases[len(sc.Phases)-1].End = seconds(now)
			break
		}
		if d.Status == Ready && continueAt < 0 && s.in.ContinueAfter >= 0 {
			continueAt = now + s.in.ContinueAfter
		}
		// The next moment: the earliest of the next event, the end of the
		// wait and the assumed Continue.
		next, ok := time.Duration(0), false
		earliest := func(t time.Duration) {
			if ok {
				t = min(t, next)
			}
			next, ok = t, true
		}
		if len(q) > 0 {
			earliest(q[0].at)
		}
		if !d.WaitUntil.IsZero() {
			earliest(d.WaitUntil.Sub(s.start))
		}
		if continueAt >= 0 {
			earliest(continueAt)
		}
		if !ok || next < now {
			return Schedule{}, fmt.Errorf("plan: preview stalled at %s in phase %s: %s", now, d.Phase, d.Explanation)
		}
		now = next
		for len(q) > 0 && q[0].at == now {
			e := heap.Pop(&q).(event)
			if e.idx < 0 {
				ok := !(s.failStep[e.step] && (e.step != PhaseAllowTraffic || p.prog.Shifts == 0))
				if !ok {
					s.moment(now, lastPhase, "").EventFailed = e.step
				}
				if err := p.StepFinished(StepResult{Succeeded: ok, Message: "failed in preview"}); err != nil {
					return Schedule{}, err
				}
				continue
			}
			if err := s.finish(now, lastPhase, e.idx); err != nil {
				return Schedule{}, err
			}
		}
		if continueAt == now {
			continueAt = -2 // continued once
			if err := p.Continue(ReadyWait); err != nil {
				return Schedule{}, err
			}
		}
	}
	s.count()
	sc.Zones = s.zones
	return *sc, nil
}

func (s *sim) stepDur(ph Phase) time.Duration {
	if ph == PhaseAllowTraffic {
		return 0
	}
	return s.in.StepDuration
}

// finish reports target i's assumed outcome for the current phase.
func (s *sim) finish(now time.Duration, ph Phase, i int) error {
	ok := !s.fail[i]
	if ph == PhaseReroute {
		ok = !s.failReroute[i]
	}
	zone := ""
	if s.zoneOf != nil {
		zone = s.zones[s.zoneOf[i]].Zone
		s.zones[s.zoneOf[i]].End = seconds(now)
	}
	m := s.moment(now, ph, zone)
	s.flying[i] = false
	if s.counted[i] {
		s.inAir--
	}
	if s.zoneOf != nil {
		s.zoneF[s.zoneOf[i]]--
	}
	if ok {
		m.Succeeded = append(m.Succeeded, s.ts[i].ID)
		if s.result[i] >= 0 { // started here, or in flight when the preview began
			s.result[i] = 2
		}
	} else {
		m.Failed = append(m.Failed, s.ts[i].ID)
		s.result[i] = -1
	}
	if s.healthPhase(ph) && s.counted[i] {
		if ok {
			s.hNow++
			if s.zoneOf != nil {
				s.zoneH[s.zoneOf[i]]++
			}
		}
		s.healthy[i] = ok
	}
	// A Green target's install success is only half its work.
	if ph == PhaseInstallReplacement && ok {
		s.result[i] = 1
	}
	s.stamp(m)
	if s.zoneOf != nil {
		s.stampZone(m, s.zoneOf[i])
	}
	return s.p.Finished(i, ok)
}

// moment returns the step for (now, ph, zone), appending one if the last
// step is another moment.
func (s *sim) moment(now time.Duration, ph Phase, zone string) *ScheduleStep {
	st := s.sched.Steps
	if n := len(st); n > 0 && st[n-1].At == seconds(now) && st[n-1].Phase == ph && st[n-1].Zone == zone {
		return &st[n-1]
	}
	s.sched.Steps = append(st, ScheduleStep{At: seconds(now), Phase: ph, Zone: zone, Status: s.lastStat,
		Start: []string{}, Succeeded: []string{}, Failed: []string{}})
	m := &s.sched.Steps[len(s.sched.Steps)-1]
	s.stamp(m)
	if len(st) == 0 && s.zoneOf != nil {
		m.Zones = make([]ZoneCount, len(s.zones))
		for k := range s.zones {
			m.Zones[k] = s.zoneCount(k)
		}
	}
	return m
}

// stamp records the fleet's counts now in m.
func (s *sim) stamp(m *ScheduleStep) {
	m.InFlight, m.Healthy, m.Minimum = s.inAir, s.hNow, s.sched.MinimumHealthy
}

// zoneCount returns zone k's counts now.
func (s *sim) zoneCount(k int) ZoneCount {
	return ZoneCount{Zone: s.zones[k].Zone, InFlight: s.zoneF[k], Healthy: s.zoneH[k], Minimum: s.zones[k].MinimumHealthy}
}

// stampZone records zone k's counts now in m, replacing those m already
// lists for it.
func (s *sim) stampZone(m *ScheduleStep, k int) {
	c := s.zoneCount(k)
	for j := range m.Zones {
		if m.Zones[j].Zone == c.Zone {
			m.Zones[j] = c
			return
		}
	}
	m.Zones = append(m.Zones, c)
}

// count fills the per-target counts of the schedule.
func (s *sim) count() {
	sc := &s.sched
	for i, t := range s.ts {
		switch {
		case t.Status == target.TargetFailed || t.Reroute == target.TargetFailed || s.result[i] < 0:
			sc.Failed++
		case s.result[i] == 2 || s.result[i] == 0 && t.Status == target.TargetSucceeded && (t.Label != target.LabelGreen || t.Reroute == target.TargetSucceeded):
			sc.Succeeded++
		default:
			sc.NotAttempted++
		}
	}
}

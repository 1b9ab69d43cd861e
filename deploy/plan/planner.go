package plan

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/fleetdeploy/fleetdeploy/config"
	"github.com/fleetdeploy/fleetdeploy/health"
	"github.com/fleetdeploy/fleetdeploy/internal/errmsg"
	"github.com/fleetdeploy/fleetdeploy/target"
)

// Decision says what to do next. It is a value: acting on it is the
// caller's job.
type Decision struct {
	// Status is the deployment status to show: InProgress, Baking or Ready
	// while running; Succeeded, Failed or Stopped when Done.
	Status DeploymentStatus `json:"status"`
	// Phase is the current phase (the last one when Done).
	Phase Phase `json:"phase"`
	// Zone is the active zone of a zonal deployment (during a monitor wait:
	// the zone being monitored); empty otherwise.
	Zone string `json:"zone,omitempty"`
	// Start lists the targets to start now, as indices into Input.Targets,
	// in health order. What starting means depends on Phase (see the Phase
	// constants). The planner counts them as in flight from now on; report
	// each with Finished. The slice is reused by the next call of Next:
	// copy it to keep it.
	Start []int `json:"start,omitempty"`
	// Step is the step to perform now (a hook, a reserved event, a traffic
	// shift, the termination of the originals); nil if none. Report it
	// with StepFinished.
	Step *Step `json:"step,omitempty"`
	// WaitUntil, when not zero, is when to call Next again if nothing else
	// happens first: the end of a monitor, ready or termination wait, or the
	// next traffic shift. When zero, call Next again after the next report,
	// Continue or Stop.
	WaitUntil time.Time `json:"waitUntil,omitzero"`
	// Done is true when the deployment is finished; Status is then final.
	Done bool `json:"done,omitempty"`
	// ErrorCode is CodeDeploy's reason for a Failed or Stopped deployment.
	ErrorCode ErrorCode `json:"errorCode,omitempty"`
	// Explanation says in words what is going on and why, with the
	// arithmetic ("HOST_COUNT 9 of 10 targets: 9 healthy required; 1 may be
	// offline at once").
	Explanation string `json:"explanation"`
	// Progress is the deployment-level state to store; pass it back as
	// Input.Progress to resume.
	Progress Progress `json:"progress"`
}

// Step is a single action the caller performs for the whole deployment.
type Step struct {
	// Phase is the phase the step belongs to; for hooks and reserved events
	// it is the lifecycle event's name.
	Phase Phase `json:"phase"`
	// Index is the number of the traffic shift in the schedule, from 0
	// (AllowTraffic only).
	Index int `json:"index,omitempty"`
	// Weight is the percentage of traffic the replacement receives once the
	// shift is done (AllowTraffic only).
	Weight int `json:"weight,omitempty"`
}

// StepResult reports a Step.
type StepResult struct {
	// Succeeded says whether the step worked.
	Succeeded bool
	// ErrorCode is the reason a step failed; empty means
	// HOOK_EXECUTION_FAILURE for hooks, ECS_UPDATE_ERROR for ECS's reserved
	// events and traffic shifts, INTERNAL_ERROR otherwise.
	ErrorCode ErrorCode
	// Message says what went wrong, for the explanation.
	Message string
}

// Planner plans one deployment. Build it with New from the deployment's
// state, call Next to learn what to do, and report what happened with
// Finished, StepFinished, Continue and Stop. A Planner is not safe for
// concurrent use. See the package documentation for the caller's duties.
type Planner struct {
	platform config.ComputePlatform
	cfg      config.Config
	bg       BlueGreen
	phases   []Phase
	pi       int
	prog     Progress

	// Server state, per target index.
	st     []uint8 // status (low bits) | healthyBit
	rr     []uint8 // Green reroute status (blue/green only)
	order  []int32 // schedule order; blue/green: Green first, then Blue
	greenN int     // blue/green: number of Green targets (prefix of order)

	min        health.Minimum
	zonal      bool
	perZone    config.ZonalConfig
	zoneNames  []string // by rank
	zoneBounds []int32  // zone k is order[zoneBounds[k]:zoneBounds[k+1]]
	zoneOf     []int32  // target index → zone rank (zonal only)

	run run

	shifts []config.TrafficStep

	arith string   // the minimum healthy arithmetic in words
	expl  string   // explanation of the running phase
	notes []string // what finished phases achieved, for the final explanation
	buf   []int
	done  bool
	final Decision
}

// runKind is the rule a Targets phase follows.
type runKind uint8

const (
	// ruleHealth: the minimum healthy hosts rule (per zone too; see the
	// package documentation): Deploy, InstallReplacement.
	ruleHealth runKind = iota
	// ruleReroute: W at a time, no health rule, stop when success became
	// impossible: Reroute.
	ruleReroute
	// ruleAll: all at once, any failure fails: BlockOriginals,
	// AllowOriginals, BlockReplacements.
	ruleAll
)

// run is the state of the current Targets phase.
type run struct {
	kind  runKind
	st    []uint8 // the status array this phase updates (Planner.st or .rr)
	order []int32 // the phase's targets in schedule order
	zones []zoneState
	zi    int // active zone
	cur   int // next candidate position in order

	n, w, m, need int
	oneAtATime    bool
	zonal         bool

	pending, inFlight, succeeded, failed int
	h                                    int // healthy targets not in flight
	extraFailed                          int // Reroute: Green targets whose install failed

	unhealthyPending bool // an unhealthy target waits to be deployed (repaired)
	fresh            bool // nothing attempted yet
	abort            bool // no more starts; fail once nothing is in flight
	// lastFailed: nothing else is left to do (pending and in flight are 0);
	// read only together with a count of failures, it says the latest
	// failure was on the last target.
	lastFailed bool
	abortWhy   string
}

type zoneState struct {
	name      string
	lo, hi    int
	n, mz, hz int
	pending   int
	inFlight  int
	attempted bool
}

type verdict uint8

const (
	running verdict = iota
	passed
	failed
	stopped
)

// New builds a planner from a deployment's state: a fresh deployment (every
// target Pending, zero Progress) or one being resumed from the caller's
// store. Empty fields take their defaults (see Input and Target). It
// validates in and returns every problem at once (see InputError; the
// error matches ErrInvalidInput): unknown enum values, duplicate target
// IDs, an invalid configuration, inconsistent progress.
//
// New sorts the targets once (O(n log n)); everything after that costs O(1)
// amortized per target transition. It does not keep in.Targets.
func New(in Input) (*Planner, error) {
	var ps problems
	p := newPlanner(&ps, in)
	if err := ps.err(); err != nil {
		return nil, err
	}
	return p, nil
}

// newPlanner is New, adding the problems of in to ps; it returns nil when
// there are any.
func newPlanner(ps *problems, in Input) *Planner {
	in.Type = in.deploymentType()
	cfgOK := validateHead(ps, in)
	p := &Planner{
		platform: in.Config.Platform(),
		cfg:      in.Config,
		bg:       in.BlueGreen,
		phases:   Phases(in),
		prog:     in.Progress,
	}
	if p.prog.Phase == "" {
		p.prog.Phase = p.phases[0]
	}
	p.pi = slices.Index(p.phases, p.prog.Phase)
	if p.pi < 0 {
		ps.add(nil, "Progress.Phase", "must be one of this deployment's phases %v; got %q", p.phases, p.prog.Phase)
	}
	if p.platform == config.Server {
		p.buildServer(ps, in, cfgOK)
	}
	if len(ps.ps) > 0 {
		return nil
	}
	switch p.platform {
	case config.Lambda, config.ECS:
		p.shifts = in.Config.TrafficRouting.Steps()
		var parts []string
		for _, s := range p.shifts {
			parts = append(parts, fmt.Sprintf("%d%% at %s", s.Weight, s.At))
		}
		p.arith = fmt.Sprintf("%s %s: traffic shifts %s", in.Config.Name, in.Config.TrafficRouting.Type, strings.Join(parts, ", "))
	}
	p.enterPhase()
	return p
}

// Decide is New followed by Next(now): the decision for a deployment's
// state, for callers that do not keep the planner.
func Decide(in Input, now time.Time) (Decision, error) {
	p, err := New(in)
	if err != nil {
		return Decision{}, err
	}
	return p.Next(now), nil
}

// buildServer adds the targets' problems to ps and, if there are none,
// computes the schedule order; cfgOK says whether the configuration is
// valid, without which M cannot be computed. Checks that depend on a valid
// Type or Progress.Phase are skipped when those are not.
func (p *Planner) buildServer(ps *problems, in Input, cfgOK bool) {
	n := len(in.Targets)
	typeOK := in.Type == target.InPlace || in.Type == target.BlueGreen
	phaseOK := p.pi >= 0
	inPlace := in.Type == target.InPlace
	p.zonal = inPlace && !in.Rollback && in.Config.ZonalConfig != nil
	if p.zonal {
		p.perZone = *in.Config.ZonalConfig
	}
	phase := p.prog.Phase
	p.st = make([]uint8, n)
	if !inPlace && !in.Rollback {
		p.rr = make([]uint8, n)
	}
	keys := make([]int32, n) // class, +4 for Blue targets; zonal: zone·4+class
	for i := range in.Targets {
		t := &in.Targets[i]
		field := func(name string) string { return fmt.Sprintf("Targets[%d].%s", i, name) }
		if t.ID == "" {
			ps.add(nil, field("ID"), "is required")
		}
		inst, rev := t.instance(), t.revision()
		class := health.ClassOf(inst, rev)
		if !inst.Valid() {
			ps.add(nil, field("Instance"), "must be Healthy or Unhealthy, or empty for the default; got %q", t.Instance)
		}
		if !rev.Valid() {
			ps.add(nil, field("Revision"), "must be Current, Old or Unknown, or empty for the default; got %q", t.Revision)
		}
		s := parseStatus(t.Status)
		if s == invalidCode {
			ps.add(nil, field("Status"), statusRule, t.Status)
		}
		key := int32(class)
		green := false
		switch {
		case !typeOK:
		case inPlace:
			if t.Label != "" {
				ps.add(nil, field("Label"), "must be empty in an IN_PLACE deployment; got %q", t.Label)
			}
		case t.Label == target.LabelGreen:
			green = true
		case t.Label == target.LabelBlue:
			key += 4
		default:
			ps.add(nil, field("Label"), "must be Blue or Green in a BLUE_GREEN deployment; got %q", t.Label)
		}
		if s == sInProgress && typeOK && phaseOK && !statusInFlightIn(phase, inPlace, green, in.Rollback) {
			ps.add(nil, field("Status"), "is InProgress, but the deployment is in phase %s, where this target's status does not change", phase)
		}
		if green && p.rr != nil {
			r := parseStatus(t.Reroute)
			if r == invalidCode {
				ps.add(nil, field("Reroute"), statusRule, t.Reroute)
			}
			if r == sInProgress && phaseOK && phase != PhaseReroute {
				ps.add(nil, field("Reroute"), "is InProgress, but the deployment is in phase %s", phase)
			}
			p.rr[i] = r
		} else if t.Reroute != "" && typeOK {
			ps.add(nil, field("Reroute"), "is for the Green targets of a blue/green deployment (not a rollback); got %q", t.Reroute)
		}
		if p.zonal && t.Zone == "" {
			ps.add(nil, field("Zone"), "is required: configuration %q is zonal", in.Config.Name)
		}
		if class != health.ClassUnhealthy {
			s |= healthyBit
		}
		if green {
			p.greenN++
		}
		p.st[i] = s
		keys[i] = key
	}
	ids := sortIDs(in.Targets)
	for k := 1; k < n; k++ {
		a, b := min(ids[k-1].i, ids[k].i), max(ids[k-1].i, ids[k].i)
		if ids[k].prefix == ids[k-1].prefix && in.Targets[a].ID == in.Targets[b].ID && in.Targets[a].ID != "" {
			ps.add(nil, fmt.Sprintf("Targets[%d].ID", b), "%q is also Targets[%d].ID; target IDs must be unique", in.Targets[b].ID, a)
		}
	}
	if len(ps.ps) > 0 || !cfgOK {
		return
	}
	buckets := 8
	if p.zonal {
		buckets = p.zoneKeys(in, keys)
	}
	// Counting sort by key, stable over the ID order.
	starts := make([]int32, buckets+1)
	for _, k := range keys {
		starts[k+1]++
	}
	for b := 1; b <= buckets; b++ {
		starts[b] += starts[b-1]
	}
	if p.zonal {
		p.zoneBounds = make([]int32, len(p.zoneNames)+1)
		for z := range p.zoneBounds {
			p.zoneBounds[z] = starts[4*z]
		}
	}
	p.order = make([]int32, n)
	for _, e := range ids {
		k := keys[e.i]
		p.order[starts[k]] = e.i
		starts[k]++
	}
	fleet := n
	if !inPlace {
		fleet = p.greenN
	}
	m, err := health.ForConfig(in.Config, fleet)
	if err != nil {
		ps.add(err, "Config.MinimumHealthyHosts", "must resolve to a count of targets: %s", errmsg.Trim(err.Error()))
		return
	}
	p.min = m
	p.arith = m.Explain()
	if p.zonal {
		z := in.Config.ZonalConfig
		p.arith += fmt.Sprintf("; zonal: one zone at a time, each keeping %s of its own targets healthy (rounded up); monitor %s after the first zone, %s after each later one",
			p.perZone.PerZoneMinimum(), z.FirstZoneMonitorDuration(), z.MonitorDuration())
	}
}

// statusInFlightIn reports whether a target's Status may be InProgress in
// phase.
func statusInFlightIn(phase Phase, inPlace, green, rollback bool) bool {
	switch {
	case inPlace:
		return phase == PhaseDeploy
	case rollback && green:
		return phase == PhaseBlockReplacements
	case rollback:
		return phase == PhaseAllowOriginals
	case green:
		return phase == PhaseInstallReplacement
	}
	return phase == PhaseBlockOriginals
}

// zoneKeys orders the zones (see "Zonal deployments" in the package
// documentation) and turns keys into zone·4+class.
// It returns the number of buckets.
func (p *Planner) zoneKeys(in Input, keys []int32) int {
	index := make(map[string]int32)
	var names []string
	var unhealthy []bool
	zoneOf := make([]int32, len(in.Targets))
	for i := range in.Targets {
		z := in.Targets[i].Zone
		k, ok := index[z]
		if !ok {
			k = int32(len(names))
			index[z] = k
			names = append(names, z)
			unhealthy = append(unhealthy, false)
		}
		zoneOf[i] = k
		if keys[i] == int32(health.ClassUnhealthy) {
			unhealthy[k] = true
		}
	}
	rank := make([]int32, len(names))
	for i := range rank {
		rank[i] = -1
	}
	var ordered []int32
	for _, z := range in.ZoneOrder {
		if k, ok := index[z]; ok {
			rank[k] = int32(len(ordered))
			ordered = append(ordered, k)
		}
	}
	var rest []int32
	for k := range names {
		if rank[k] < 0 {
			rest = append(rest, int32(k))
		}
	}
	slices.SortFunc(rest, func(a, b int32) int {
		if unhealthy[a] != unhealthy[b] {
			if unhealthy[a] {
				return -1
			}
			return 1
		}
		return strings.Compare(names[a], names[b])
	})
	for _, k := range rest {
		rank[k] = int32(len(ordered))
		ordered = append(ordered, k)
	}
	p.zoneNames = make([]string, len(names))
	for r, k := range ordered {
		p.zoneNames[r] = names[k]
	}
	for i := range zoneOf {
		zoneOf[i] = rank[zoneOf[i]]
		keys[i] += 4 * zoneOf[i]
	}
	p.zoneOf = zoneOf
	return 4 * len(names)
}

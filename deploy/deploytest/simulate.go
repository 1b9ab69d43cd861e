package deploytest

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/fleetdeploy/fleetdeploy/config"
	"github.com/fleetdeploy/fleetdeploy/deploy"
	"github.com/fleetdeploy/fleetdeploy/deploy/plan/plantest"
	"github.com/fleetdeploy/fleetdeploy/health"
	"github.com/fleetdeploy/fleetdeploy/revision"
	"github.com/fleetdeploy/fleetdeploy/target"
	"github.com/fleetdeploy/fleetdeploy/target/targettest"
)

// Scenario is what Simulate runs: a deployment group over a scripted fleet,
// the revisions deployed to it one after another, and what happens at
// virtual times (alarm changes, stop requests).
type Scenario struct {
	// Group is the deployment group (Server compute platform). Its
	// ApplicationName and Name default to "app" and "group"; an empty
	// Selector selects every target of Fleet (each is given the tag
	// "fleetdeploy:simulate" for it); DeploymentConfigName,
	// DeploymentStyle, AutoRollbackConfiguration and AlarmConfiguration
	// are used as given.
	Group deploy.Group
	// Configs are the custom deployment configurations Group may name.
	Configs []config.Config
	// Fleet is the group's targets.
	Fleet []SimTarget
	// GroupRevision, when set, is the group's target revision before the
	// first deployment: what the targets' revision health is judged
	// against (SimTarget.Running).
	GroupRevision *revision.Location
	// Revisions are deployed in order, each once the one before (with its
	// rollback) has ended. At least one is required.
	Revisions []revision.Location
	// Scripts script the outcomes of lifecycle events (see
	// targettest.Fleet.Script); scope them with Outcome.OnRevision or
	// Outcome.InDeployment so that a rollback does not meet them.
	Scripts []Script
	// Alarms are the alarms' states at the start; an alarm the group names
	// and this leaves out starts OK.
	Alarms map[string]target.AlarmState
	// AlarmChanges set alarm states at virtual times.
	AlarmChanges []AlarmChange
	// Stops request stops at virtual times.
	Stops []StopAt
	// PollInterval is the executor's Options.PollInterval (how often it
	// polls alarms); deploy.DefaultPollInterval when 0.
	PollInterval time.Duration
	// Start is the virtual time the simulation starts at; 2026-01-01
	// 00:00 UTC when zero.
	Start time.Time
	// Limit bounds the virtual time a simulation may take; 30 days when
	// 0. A simulation that reaches it fails.
	Limit time.Duration
}

// SimTarget is one target of a Scenario's fleet.
type SimTarget struct {
	target.Target
	// Unhealthy makes the target's instance health Unhealthy before the
	// first deployment.
	Unhealthy bool
	// Running, when set, is the revision the target runs before the first
	// deployment (its revision health is then Current or Old against
	// Scenario.GroupRevision); nil leaves it Unknown.
	Running *revision.Location
	// Duration is how long each of its lifecycle events (and traffic
	// calls) takes in virtual time; EventDurations overrides it per event.
	// The executor keeps CodeDeploy's time limits (see "Time limits" in
	// package deploy): an event that takes an hour or more fails then
	// with ScriptTimedOut, and a deployment that runs past its maximum
	// run time ends with TIMEOUT.
	Duration       time.Duration
	EventDurations map[target.LifecycleEvent]time.Duration
}

// Script is one scripted outcome: of Event on Target ("" for either
// matches any).
type Script struct {
	Target  string
	Event   target.LifecycleEvent
	Outcome targettest.Outcome
}

// AlarmChange sets alarm Name to State at virtual time At (from
// Scenario.Start). A poll due at At sees the new state.
type AlarmChange struct {
	At    time.Duration
	Name  string
	State target.AlarmState
}

// StopAt stops the deployment running at virtual time At (from
// Scenario.Start), before anything else the executor does at At. A stop
// when no deployment runs does nothing (and is recorded as such).
type StopAt struct {
	At      time.Duration
	Options deploy.StopOptions
}

// simTag is the tag that selects every target when the scenario's group
// has no selector.
const simTag = "fleetdeploy:simulate"

// Kinds of Transition besides deploy's event kinds.
const (
	// KindAlarmChanged: Scenario.AlarmChanges set an alarm (Transition.Alarm,
	// Transition.AlarmState).
	KindAlarmChanged deploy.EventKind = "AlarmChanged"
	// KindStopRequested: Scenario.Stops asked a deployment to stop
	// (Transition.DeploymentID; empty when none was running).
	KindStopRequested deploy.EventKind = "StopRequested"
)

// Transition is one thing that happened in a simulation, at virtual time
// At from the scenario's start.
type Transition struct {
	At           time.Duration
	Kind         deploy.EventKind
	DeploymentID string
	// Status and ErrorCode: a deployment's new status (EventDeploymentStatus).
	Status    deploy.DeploymentStatus
	ErrorCode deploy.ErrorCode `json:",omitempty"`
	// TargetID and TargetStatus: a target's new status (EventTargetStatus);
	// with LifecycleEvent and EventStatus, a lifecycle event's
	// (EventLifecycle).
	TargetID       string
	TargetStatus   target.TargetStatus
	LifecycleEvent target.LifecycleEvent
	EventStatus    target.LifecycleEventStatus
	// Alarm and AlarmState: KindAlarmChanged.
	Alarm      string
	AlarmState target.AlarmState
}

// Sample is a deployment's in-flight and healthy target counts from At
// until the next Sample of the same deployment.
type Sample struct {
	At           time.Duration
	DeploymentID string
	InFlight     int
	Healthy      int
}

// SimDeployment is one deployment a simulation created: the scenario's and
// the rollbacks the executor created.
type SimDeployment struct {
	ID       string
	Revision revision.Location
	Creator  target.DeploymentCreator
	// RollbackOf names the deployment a rollback rolls back;
	// RollbackDeploymentID the rollback of this one.
	RollbackOf           string
	RollbackDeploymentID string
	Status               deploy.DeploymentStatus
	ErrorInformation     deploy.ErrorInformation
	// Started and Ended are virtual times from the scenario's start.
	Started, Ended time.Duration
	// Config is the deployment's configuration; Targets its targets as
	// recorded at the end.
	Config  config.Config
	Type    target.DeploymentType
	Targets []deploy.DeploymentTarget
}

// Timeline is what Simulate returns: every transition with its virtual
// time, the in-flight and healthy counts over time, and the deployments
// created. The same scenario always gives an equal Timeline.
//
// Transitions at the same virtual time are ordered by deployment (in order
// of creation); within a deployment, its status changes that are not final
// come first, then targets' transitions by target ID (each target's in the
// order they happened), then a final status. Concurrent goroutines of the
// executor report transitions of one instant in any order: this order
// makes the timeline reproducible.
type Timeline struct {
	Start       time.Time
	Transitions []Transition
	Samples     []Sample
	Deployments []SimDeployment
	// End is when the last deployment ended.
	End time.Duration
	// Violations are the planner's rules each deployment broke, as
	// plantest.Violations finds them in Schedule(id): keyed by deployment
	// ID, only deployments with a violation are present (nil when the run
	// kept every rule).
	Violations map[string][]plantest.Violation
}

// Deployment returns the deployment with ID id, and whether there is one.
func (tl *Timeline) Deployment(id string) (SimDeployment, bool) {
	for _, d := range tl.Deployments {
		if d.ID == id {
			return d, true
		}
	}
	return SimDeployment{}, false
}

// ErrSimulation is wrapped by Simulate's errors about the scenario's run:
// a scenario that cannot be set up, an executor error, a run past
// Scenario.Limit.
var ErrSimulation = errors.New("deploytest: simulation failed")

// Simulate runs scenario s through the real deploy.Executor (deploy.New
// over a deploy.MemoryStore) on virtual time, and returns its Timeline.
//
// The fleet is a targettest.Fleet whose calls take their SimTarget's
// durations in virtual time, with s.Scripts' outcomes; alarms are a
// targettest.Alarms. Each of s.Revisions is created and run to the end
// with Executor.Run, which runs the automatic rollback that follows it,
// if any. Deployment IDs are "d-SIM00001", "d-SIM00002", … in order of
// creation, rollbacks included.
//
// The simulation runs in a testing/synctest bubble (synctest.Test on t):
// virtual time moves only when every goroutine of the executor is
// blocked, and then jumps to the next timer, so a day of bakes takes
// milliseconds. What wakes at one virtual instant runs in a fixed order —
// scripted actions first (in scenario order), then the ends of fleet calls
// (by target ID and event), then the executor's timers — one at a time,
// each running until everything is blocked again: the same scenario gives
// an equal Timeline every time.
//
// Simulate must be called from a test (synctest.Test needs its
// *testing.T; a benchmark runs it in a test, see the package doc), never
// inside another synctest bubble (synctest.Test panics then). Errors are
// returned, not reported on t.
func Simulate(t *testing.T, s Scenario) (*Timeline, error) {
	var (
		tl  *Timeline
		err error
	)
	synctest.Test(t, func(t *testing.T) { tl, err = simulate(t.Context(), s) })
	return tl, err
}

// simulate is Simulate inside the bubble.
func simulate(ctx context.Context, s Scenario) (*Timeline, error) {
	if len(s.Revisions) == 0 {
		return nil, fmt.Errorf("%w: Scenario.Revisions is empty; name at least one revision to deploy", ErrSimulation)
	}
	if len(s.Fleet) == 0 {
		return nil, fmt.Errorf("%w: Scenario.Fleet is empty; add the group's targets", ErrSimulation)
	}
	start := s.Start
	if start.IsZero() {
		start = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	bubbleStart := time.Now()
	limit := cmp.Or(s.Limit, 30*24*time.Hour)
	seq := newSequencer()
	clk := &seqClock{s: seq, offset: start.Sub(bubbleStart)}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	selectAll := s.Group.Selector.IsZero()
	durations := map[string]SimTarget{}
	targets := make([]target.Target, len(s.Fleet))
	for i, t := range s.Fleet {
		targets[i] = t.Target
		if selectAll {
			targets[i].Tags = maps.Clone(t.Tags)
			if targets[i].Tags == nil {
				targets[i].Tags = map[string]string{}
			}
			targets[i].Tags[simTag] = "true"
		}
		durations[t.ID] = t
	}
	fleet := targettest.NewFleet(targets...)
	for _, sc := range s.Scripts {
		fleet.Script(sc.Target, sc.Event, sc.Outcome)
	}
	// A call takes its duration, then waits for the sequencer to let it
	// end, even when the duration is 0: calls that end together end one
	// at a time.
	fleet.OnCall(func(ctx context.Context, c targettest.Call) error {
		st := durations[c.Target]
		d := st.Duration
		if ed, ok := st.EventDurations[c.Event]; ok {
			d = ed
		}
		w := seq.newWake(wakeCall, c.Target+"\x00"+string(c.Event), d)
		if d > 0 {
			tm := time.NewTimer(d)
			select {
			case <-tm.C:
			case <-ctx.Done():
				tm.Stop()
				return ctx.Err()
			}
		}
		if seq.arrive(w) {
			select {
			case <-w.release:
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		return nil
	})
	alarms := targettest.NewAlarms()
	for _, a := range s.Group.AlarmConfiguration.Alarms {
		alarms.Set(a.Name, target.AlarmOK)
	}
	for name, st := range s.Alarms {
		alarms.Set(name, st)
	}

	mem := deploy.NewMemoryStore()
	g := s.Group
	g.ApplicationName = cmp.Or(g.ApplicationName, "app")
	g.Name = cmp.Or(g.Name, "group")
	if selectAll {
		g.Selector = target.Selector{EC2TagFilters: []target.TagFilter{{Key: simTag, Value: "true", Type: target.KeyAndValue}}}
	}
	if err := mem.CreateApplication(ctx, &deploy.Application{Name: g.ApplicationName, ComputePlatform: config.Server}); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrSimulation, err)
	}
	if err := g.Validate(s.Configs...); err != nil {
		return nil, fmt.Errorf("%w: Scenario.Group: %w", ErrSimulation, err)
	}
	if err := mem.CreateGroup(ctx, &g); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrSimulation, err)
	}
	if err := seed(ctx, mem, &g, s); err != nil {
		return nil, err
	}

	obs := &simObserver{}
	var ids []string // appended to by the goroutine running the executor only
	exec, err := deploy.New(mem, fleet.Platform(), func(o *deploy.Options) {
		o.Clock = clk
		o.Observer = obs
		o.AlarmSource = alarms
		o.Configs = s.Configs
		o.PollInterval = s.PollInterval
		o.ExecutorID = "simulate"
		o.LeaseTTL = 3 * limit // one executor: no renewal wakes it
		o.NewID = func() string {
			id := fmt.Sprintf("d-SIM%05d", len(ids)+1)
			ids = append(ids, id)
			return id
		}
	})
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrSimulation, err)
	}

	// Scripted actions, in time and then scenario order; those due at the
	// start happen before the first deployment is created. Only this
	// goroutine runs them.
	var (
		extra   []Transition
		actErr  error
		actions []*wake
		pending []*time.Timer
	)
	add := func(at time.Duration, act func(at time.Duration)) {
		at = max(at, 0)
		w := seq.newWake(wakeScript, "", at)
		w.dur = 0 // then by creation: scenario order
		w.action = func() { act(at) }
		actions = append(actions, w)
	}
	for _, a := range s.AlarmChanges {
		add(a.At, func(at time.Duration) {
			alarms.Set(a.Name, a.State)
			extra = append(extra, Transition{At: at, Kind: KindAlarmChanged, Alarm: a.Name, AlarmState: a.State})
		})
	}
	for _, st := range s.Stops {
		add(st.At, func(at time.Duration) {
			id := obs.active()
			if id != "" {
				if _, err := exec.Stop(ctx, id, st.Options); err != nil && !errors.Is(err, deploy.ErrDeploymentCompleted) && actErr == nil {
					actErr = fmt.Errorf("%w: stopping %s at %s: %w", ErrSimulation, id, at, err)
					cancel()
				}
			}
			extra = append(extra, Transition{At: at, Kind: KindStopRequested, DeploymentID: id})
		})
	}
	slices.SortStableFunc(actions, func(a, b *wake) int { return a.compare(b) })
	for _, w := range actions {
		if !w.at.After(bubbleStart) {
			w.action()
			continue
		}
		pending = append(pending, time.AfterFunc(w.at.Sub(bubbleStart), func() {
			if seq.arrive(w) {
				<-w.release
			}
		}))
	}

	// The deployments run on their own goroutine; this one releases what
	// wakes, one at a time, and lets time move when nothing is left.
	done := make(chan struct{})
	var runErr error
	go func() {
		defer close(done)
		for _, rev := range s.Revisions {
			d, err := exec.CreateDeployment(ctx, deploy.DeploymentInput{ApplicationName: g.ApplicationName, GroupName: g.Name, Revision: rev})
			if err != nil {
				runErr = err
				return
			}
			if _, err := exec.Run(ctx, d.ID); err != nil {
				runErr = err
				return
			}
		}
	}()
	deadline := time.NewTimer(limit)
	overran := false
loop:
	for {
		synctest.Wait()
		if w := seq.pop(); w != nil {
			if w.action != nil {
				w.action()
			}
			close(w.release)
			continue
		}
		select {
		case <-done:
			break loop
		case <-seq.signal:
		case <-deadline.C:
			overran = true
			cancel()
			seq.close()
			<-done
			break loop
		}
	}
	seq.close()
	deadline.Stop()
	for _, p := range pending {
		p.Stop()
	}
	switch {
	case actErr != nil:
		return nil, actErr
	case overran:
		return nil, fmt.Errorf("%w: the deployments had not ended after %s of virtual time (Scenario.Limit)", ErrSimulation, limit)
	case runErr != nil:
		return nil, fmt.Errorf("%w: %w", ErrSimulation, runErr)
	}
	return buildTimeline(context.WithoutCancel(ctx), mem, start, ids, obs.events(), extra)
}

// seed gives the group its revision and the targets their instance
// records, when the scenario sets them.
func seed(ctx context.Context, mem *deploy.MemoryStore, g *deploy.Group, s Scenario) error {
	if s.GroupRevision != nil {
		r := *s.GroupRevision
		g.TargetRevision = &r
		if err := mem.UpdateGroup(ctx, g); err != nil {
			return fmt.Errorf("%w: %w", ErrSimulation, err)
		}
	}
	var recs []deploy.InstanceRecord
	for _, t := range s.Fleet {
		if !t.Unhealthy && t.Running == nil {
			continue
		}
		r := deploy.InstanceRecord{GroupID: g.ID, TargetID: t.ID, InstanceHealth: health.Healthy, Revision: t.Running}
		if t.Unhealthy {
			r.InstanceHealth = health.Unhealthy
		}
		recs = append(recs, r)
	}
	if len(recs) == 0 {
		return nil
	}
	if err := mem.PutInstances(ctx, recs); err != nil {
		return fmt.Errorf("%w: %w", ErrSimulation, err)
	}
	return nil
}

// simObserver records the executor's events.
type simObserver struct {
	mu     sync.Mutex
	evs    []deploy.Event
	status map[string]deploy.DeploymentStatus
	order  []string
}

func (o *simObserver) Observe(e deploy.Event) {
	if e.Diagnostics != nil {
		d := *e.Diagnostics
		e.Diagnostics = &d
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	o.evs = append(o.evs, e)
	if e.Kind == deploy.EventDeploymentStatus {
		if o.status == nil {
			o.status = map[string]deploy.DeploymentStatus{}
		}
		if _, ok := o.status[e.DeploymentID]; !ok {
			o.order = append(o.order, e.DeploymentID)
		}
		o.status[e.DeploymentID] = e.Status
	}
}

func (o *simObserver) events() []deploy.Event {
	o.mu.Lock()
	defer o.mu.Unlock()
	return slices.Clone(o.evs)
}

// active returns the deployment running now: the latest started that has
// not ended.
func (o *simObserver) active() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	for i := len(o.order) - 1; i >= 0; i-- {
		if id := o.order[i]; !o.status[id].Final() {
			return id
		}
	}
	return ""
}

package deploytest

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/fleetdeploy/fleetdeploy/config"
	"github.com/fleetdeploy/fleetdeploy/deploy"
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
// Time is a FakeClock that moves only when every goroutine of the executor
// is blocked — on a timer, on a call's latency, or on another goroutine —
// and then jumps to the next deadline or scripted action: a day of bakes
// takes milliseconds, and the same scenario gives the same timeline. (The
// simulation tells blocked goroutines from running ones by their stacks,
// so simulations running in parallel in one process wait for each other's
// executors to settle: parallel runs stay correct, and slow each other
// down.) Scripted actions due at T happen before the executor's timers due
// at T.
func Simulate(ctx context.Context, s Scenario) (*Timeline, error) {
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
	limit := cmp.Or(s.Limit, 30*24*time.Hour)
	clk := &simClock{fake: NewFakeClock(start)}
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
	fleet.OnCall(func(ctx context.Context, c targettest.Call) error {
		st := durations[c.Target]
		d := st.Duration
		if ed, ok := st.EventDurations[c.Event]; ok {
			d = ed
		}
		if d <= 0 {
			return nil
		}
		tm := clk.NewTimer(d)
		defer tm.Stop()
		select {
		case <-tm.C():
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
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
	var (
		idMu sync.Mutex
		ids  []string
	)
	exec, err := deploy.New(mem, fleet.Platform(), func(o *deploy.Options) {
		o.Clock = clk
		o.Observer = obs
		o.AlarmSource = alarms
		o.Configs = s.Configs
		o.PollInterval = s.PollInterval
		o.ExecutorID = "simulate"
		o.LeaseTTL = 3 * limit // one executor: no renewal wakes it
		o.NewID = func() string {
			idMu.Lock()
			defer idMu.Unlock()
			id := fmt.Sprintf("d-SIM%05d", len(ids)+1)
			ids = append(ids, id)
			return id
		}
	})
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrSimulation, err)
	}

	// The deployments run on their own goroutine; this one moves time.
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

	type action struct {
		at    time.Duration
		alarm *AlarmChange
		stop  *StopAt
	}
	var actions []action
	for i := range s.AlarmChanges {
		actions = append(actions, action{at: s.AlarmChanges[i].At, alarm: &s.AlarmChanges[i]})
	}
	for i := range s.Stops {
		actions = append(actions, action{at: s.Stops[i].At, stop: &s.Stops[i]})
	}
	slices.SortStableFunc(actions, func(a, b action) int { return cmp.Compare(a.at, b.at) })

	buf := make([]byte, 64<<10)
	var extra []Transition
	for {
		if !settle(ctx, done, &buf) {
			break
		}
		next, ok := clk.next()
		if len(actions) > 0 && (!ok || !start.Add(actions[0].at).After(next)) {
			a := actions[0]
			actions = actions[1:]
			clk.fake.Set(start.Add(a.at))
			at := clk.Now().Sub(start)
			switch {
			case a.alarm != nil:
				alarms.Set(a.alarm.Name, a.alarm.State)
				extra = append(extra, Transition{At: at, Kind: KindAlarmChanged, Alarm: a.alarm.Name, AlarmState: a.alarm.State})
			case a.stop != nil:
				id := obs.active()
				if id != "" {
					if _, err := exec.Stop(ctx, id, a.stop.Options); err != nil && !errors.Is(err, deploy.ErrDeploymentCompleted) {
						cancel()
						<-done
						return nil, fmt.Errorf("%w: stopping %s at %s: %w", ErrSimulation, id, at, err)
					}
				}
				extra = append(extra, Transition{At: at, Kind: KindStopRequested, DeploymentID: id})
			}
			continue
		}
		if !ok {
			cancel()
			<-done
			return nil, fmt.Errorf("%w: at %s the executor waits for nothing the simulation can move (no timer pending)", ErrSimulation, clk.Now().Sub(start))
		}
		if next.Sub(start) > limit {
			cancel()
			<-done
			return nil, fmt.Errorf("%w: the deployments had not ended after %s of virtual time (Scenario.Limit)", ErrSimulation, limit)
		}
		clk.fire(next)
	}
	if runErr != nil {
		return nil, fmt.Errorf("%w: %w", ErrSimulation, runErr)
	}
	idMu.Lock()
	created := slices.Clone(ids)
	idMu.Unlock()
	return buildTimeline(ctx, mem, start, created, obs.events(), extra)
}

// settle waits until the executor's goroutines are all blocked (true) or
// the run is done (false).
func settle(ctx context.Context, done <-chan struct{}, buf *[]byte) bool {
	for {
		for range 4 {
			select {
			case <-done:
				return false
			default:
			}
			yield()
		}
		if ctx.Err() != nil {
			<-done
			return false
		}
		if !busy(buf) {
			select {
			case <-done:
				return false
			default:
				return true
			}
		}
	}
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

package deploy

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/fleetdeploy/fleetdeploy/config"
	"github.com/fleetdeploy/fleetdeploy/deploy/clock"
	"github.com/fleetdeploy/fleetdeploy/internal/errmsg"
	"github.com/fleetdeploy/fleetdeploy/revision"
	"github.com/fleetdeploy/fleetdeploy/target"
)

// Errors of the Executor. Errors about a deployment are *DeploymentError
// values naming it, wrapping one of these or the error of a collaborator
// (a Store, a Lister, ...).
var (
	// ErrInvalidInput: CreateDeployment was given input it cannot use (a
	// missing name, an invalid revision location, an unknown
	// fileExistsBehavior). The message names the field and the rule.
	ErrInvalidInput = errors.New("deploy: invalid deployment input")

	// ErrAlreadyRunning: the deployment is being run by this Executor
	// already (Run, Resume or Step in another goroutine).
	ErrAlreadyRunning = errors.New("deploy: deployment is already running in this executor")

	// ErrAlreadyStarted: Run was called for a deployment that is no longer
	// Created. Use Resume to continue a deployment that was started before
	// (by a process that crashed, for instance).
	ErrAlreadyStarted = errors.New("deploy: deployment has already started")

	// ErrNotWaiting: Continue named a wait the deployment is not in.
	ErrNotWaiting = errors.New("deploy: deployment is not in that wait")

	// ErrQueued: Run or Resume was called for a Queued deployment. It
	// starts when the deployment before it ends, run by the executor that
	// ends that one, or by Supervise; Stop ends it without running it.
	ErrQueued = errors.New("deploy: deployment is queued behind another deployment of its group")

	// ErrMissingSource: a Lambda or ECS deployment needs Options.Source to
	// read its AppSpec.
	ErrMissingSource = errors.New("deploy: no revision source: Lambda and ECS deployments read their AppSpec through Options.Source")
)

// DeploymentError is the error of an Executor method about one deployment:
// "deploy: deployment d-4R7TQ8WX1: saving target i-3: <cause>". It wraps
// the cause (a Store error, ctx's error, ...), so errors.Is finds sentinels
// such as ErrConflict or context.Canceled through it.
type DeploymentError struct {
	// DeploymentID names the deployment.
	DeploymentID string
	// Op says what the executor was doing: "saving target i-3",
	// "listing the group's targets", "finishing".
	Op string
	// Err is the cause.
	Err error
}

// Error returns "deploy: deployment <id>: <op>: <err>".
func (e *DeploymentError) Error() string {
	s := "deploy: deployment " + e.DeploymentID
	if e.Op != "" {
		s += ": " + e.Op
	}
	// A store's error about this deployment names it already.
	cause := strings.TrimPrefix(trimPrefix(e.Err.Error()), "deployment "+e.DeploymentID+": ")
	return s + ": " + cause
}

// Unwrap returns Err.
func (e *DeploymentError) Unwrap() error { return e.Err }

// trimPrefix returns an error message without its leading package name,
// for a message that adds its own.
func trimPrefix(s string) string { return errmsg.Trim(s) }

// Defaults of Options.
const (
	// DefaultPollInterval is how often a running deployment looks for stop
	// and continue requests made by other processes, and polls its alarms.
	DefaultPollInterval = 10 * time.Second
	// DefaultHookTimeout is how long a Lambda or ECS hook may take to
	// report its status before it counts as failed (User Guide, "AppSpec
	// 'hooks' section").
	DefaultHookTimeout = time.Hour
	// DefaultRecordInterval is the default of Options.RecordInterval.
	DefaultRecordInterval = time.Second
	// DefaultLeaseTTL is the default of Options.LeaseTTL.
	DefaultLeaseTTL = 30 * time.Second
)

// Options are the optional settings of an Executor. New fills in the
// defaults.
type Options struct {
	// Clock tells the time and makes timers; clock.System() when nil. All
	// waiting — waits between phases, hook and event deadlines, polling —
	// goes through it, so a fake clock runs a deployment in virtual time.
	Clock clock.Clock
	// Logger receives the executor's logs; a logger that discards
	// everything when nil. Deployment status changes are logged at Info,
	// target transitions at Debug.
	Logger *slog.Logger
	// Observer receives every transition (see Observer); nil for none.
	Observer Observer
	// Notifiers receive the trigger notifications of the groups'
	// TriggerConfigurations (see Notifier).
	Notifiers []Notifier
	// AlarmSource reads the alarms of the groups' alarm configurations. A
	// group with alarms enabled needs one; CreateDeployment refuses such a
	// deployment without it.
	AlarmSource target.AlarmSource
	// Source opens revisions. Lambda and ECS deployments read their
	// AppSpec through it (the function, its versions and hook functions;
	// the ECS service). Server deployments do not need it (the Installer
	// fetches the bundle); when it is set, Run reads a Server revision's
	// AppSpec through it once before any target starts, and a revision
	// that is missing or cannot be used fails the deployment at once with
	// REVISION_MISSING or INVALID_REVISION and a message naming the
	// revision, instead of failing on every target.
	Source revision.Source
	// Configs are the custom deployment configurations a group or a
	// deployment may name, besides the predefined ones.
	Configs []config.Config
	// Concurrency caps the lifecycle work running at once for one
	// deployment, on top of the minimum healthy hosts window; 0 means no
	// cap beyond that window. It must not be negative.
	Concurrency int
	// NewID returns the ID of each new deployment; nil lets the Store
	// assign one (see NewDeploymentID).
	NewID func() string
	// PollInterval is how often a running deployment reads its record for
	// stop and continue requests made through another Executor (requests
	// made through this one are seen at once) and polls its alarms;
	// DefaultPollInterval when 0.
	PollInterval time.Duration
	// HookTimeout bounds a Lambda or ECS hook; DefaultHookTimeout when 0.
	HookTimeout time.Duration
	// RecordInterval is the shortest time between two writes of one
	// target's record while its lifecycle events run: every transition of
	// an event is written when it happens, unless the record was written
	// less than RecordInterval ago, in which case it goes with the next
	// write. A target's start (its record InProgress, before anything
	// runs) and its end are always written at once. Events that take
	// seconds are thus recorded one by one, while a fleet of instant events
	// costs two writes per target. DefaultRecordInterval when 0; a negative
	// value writes every transition. Crash safety does not depend on it,
	// only what a crash makes run again: a target found InProgress on
	// Resume goes on from the first event its record does not show ended,
	// so events whose end was waiting for the next write run again.
	RecordInterval time.Duration
	// EventTimeout bounds a Server lifecycle event performed by the
	// Installer, on the executor's clock, whatever the Installer does:
	// when Source is set, an event whose scripts the revision's AppSpec
	// names gets the sum of their timeouts (an hour each where the AppSpec
	// gives none, as the agent runs them), at most EventTimeout; any other
	// event (DownloadBundle, Install, the events that run the scripts of
	// the revision installed before, every event without Source) gets
	// EventTimeout. At the limit the Installer's context is cancelled and
	// the event fails with ScriptTimedOut without waiting for the
	// Installer to return. DefaultEventTimeout (CodeDeploy's hour) when
	// 0; a negative value sets no bound: the executor waits as long as the
	// Installer takes (NoTimeLimits turns off every limit).
	EventTimeout time.Duration
	// TrafficTimeout bounds a Server AllowTraffic or BlockTraffic event
	// performed by the TrafficController, on the executor's clock: at the
	// limit its context is cancelled and the event fails (UnknownError,
	// with a message naming the limit). DefaultTrafficTimeout when 0; a
	// negative value sets no bound.
	TrafficTimeout time.Duration
	// MaxRunTime bounds each kind of deployment's run, counted from its
	// stored start (see RunTimeLimits): each field left 0 gets
	// CodeDeploy's limit for its kind (DefaultMaxRunTimeInPlace, ...), a
	// negative one sets none.
	MaxRunTime RunTimeLimits
	// ExecutorID names this executor as the owner of the deployment leases
	// it takes (see Lease); a random ID when empty. Each process sharing a
	// store needs its own: an executor that takes a lease whose owner has
	// its ID takes it over at once, as a restarted process with a stable
	// ID (a pod name, a host name) should.
	ExecutorID string
	// LeaseTTL is how long a deployment's lease lasts unless renewed; the
	// executor renews it every LeaseTTL/3 while it runs the deployment.
	// After a crash, another executor can take the deployment over once
	// the lease has expired: Resume after at most LeaseTTL, or Supervise
	// after at most LeaseTTL plus its poll interval. DefaultLeaseTTL when
	// 0.
	LeaseTTL time.Duration
	// Queue is what CreateDeployment does with a deployment whose group is
	// busy with another one: QueueNone (the zero value) refuses it, as
	// CodeDeploy does; QueueFIFO and QueueSupersede store it Queued, to
	// start when the active one ends. Whatever its policy, an executor that
	// ends a deployment starts the next queued one of its group; executors
	// sharing a store should agree on the policy, which also decides which
	// queued deployment starts next (see QueuePolicy).
	Queue QueuePolicy
	// ScalingHeartbeat is how often HandleScalingEvent tells the platform
	// that a launch or termination deployment is still working (see
	// target.ScalingEvents.Heartbeat); DefaultScalingHeartbeat when 0 or
	// negative.
	ScalingHeartbeat time.Duration
}

// Executor runs deployments: it creates them, runs them through the
// planner against a Platform, records every transition in a Store, and
// finishes them (health, group revision, rollback). See the package
// documentation. An Executor is safe for concurrent use; several Executors,
// in one process or in many, may share a Store.
type Executor struct {
	store    Store
	platform target.Platform
	opts     Options
	clk      clock.Clock
	log      *slog.Logger

	mu      sync.Mutex
	running map[string]*runner // deployment ID → its runner in this executor

	hooks hookWaiters // hook executions waiting for a report
}

// New returns an Executor that keeps its state in store and deploys through
// platform's roles. Which roles a deployment needs depends on its group
// (see target.Platform.Validate); CreateDeployment checks them. opts set
// the optional settings (see Options).
//
// It returns an error wrapping ErrInvalidInput for a nil store, a platform
// without any role, or invalid options (a negative Concurrency,
// PollInterval or HookTimeout; an invalid custom
// configuration).
func New(store Store, platform target.Platform, opts ...func(*Options)) (*Executor, error) {
	var o Options
	for _, opt := range opts {
		opt(&o)
	}
	var ps config.Problems
	if store == nil {
		ps.Add(nil, "store", "is required")
	}
	if !slices.ContainsFunc(target.Role("").Values(), platform.Has) {
		ps.Add(nil, "platform", "has no role; set at least a Lister and an Installer (Server) or a TrafficShifter and a HookInvoker (Lambda)")
	}
	if o.Concurrency < 0 {
		ps.Add(nil, "Options.Concurrency", "must not be negative; got %d", o.Concurrency)
	}
	if o.PollInterval < 0 {
		ps.Add(nil, "Options.PollInterval", "must not be negative; got %s", o.PollInterval)
	}
	if o.HookTimeout < 0 {
		ps.Add(nil, "Options.HookTimeout", "must not be negative; got %s", o.HookTimeout)
	}
	if o.LeaseTTL < 0 {
		ps.Add(nil, "Options.LeaseTTL", "must not be negative; got %s", o.LeaseTTL)
	}
	if o.Queue != QueueNone && !oneOf(o.Queue, o.Queue.Values()) {
		ps.Add(nil, "Options.Queue", "must be one of %q; got %q", o.Queue.Values(), o.Queue)
	}
	for i, c := range o.Configs {
		// The configuration's problems, each under its place in Options.
		if err := c.Validate(); err != nil {
			addProblems(ps.Add, fmt.Sprintf("Options.Configs[%d].", i), err)
		}
	}
	if err := ps.Err(ErrInvalidInput, "executor settings"); err != nil {
		return nil, err
	}
	if o.Clock == nil {
		o.Clock = clock.System()
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.PollInterval == 0 {
		o.PollInterval = DefaultPollInterval
	}
	if o.HookTimeout == 0 {
		o.HookTimeout = DefaultHookTimeout
	}
	if o.RecordInterval == 0 {
		o.RecordInterval = DefaultRecordInterval
	}
	if o.LeaseTTL == 0 {
		o.LeaseTTL = DefaultLeaseTTL
	}
	o.EventTimeout = orDefault(o.EventTimeout, DefaultEventTimeout)
	o.TrafficTimeout = orDefault(o.TrafficTimeout, DefaultTrafficTimeout)
	o.MaxRunTime = o.MaxRunTime.withDefaults()
	if o.ExecutorID == "" {
		o.ExecutorID = newExecutorID()
	}
	o.Notifiers = append([]Notifier(nil), o.Notifiers...)
	cfgs := make([]config.Config, len(o.Configs))
	for i, c := range o.Configs {
		cfgs[i] = c.Clone()
	}
	o.Configs = cfgs
	return &Executor{
		store:    store,
		platform: platform,
		opts:     o,
		clk:      o.Clock,
		log:      o.Logger,
		running:  map[string]*runner{},
	}, nil
}

// Store returns the executor's store.
func (e *Executor) Store() Store { return e.store }

// claim registers a run of deployment id in this executor. It returns
// ErrAlreadyRunning when another run has it. The runner is attached once
// loaded (attach); until then requests made through this executor reach
// it through the store.
func (e *Executor) claim(id string) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if _, ok := e.running[id]; ok {
		return ErrAlreadyRunning
	}
	e.running[id] = nil
	return nil
}

// attach makes r the runner of its deployment's claimed run.
func (e *Executor) attach(r *runner) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.running[r.id] = r
}

// release forgets the run of deployment id.
func (e *Executor) release(id string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	delete(e.running, id)
}

// poke wakes the runner of deployment id in this executor, if any, so that
// it reads a request just stored.
func (e *Executor) poke(id string) {
	e.mu.Lock()
	r := e.running[id]
	e.mu.Unlock()
	if r != nil {
		r.requestSync()
	}
}

// pokeStop tells the runner of deployment id in this executor, if any,
// that a stop was stored: from now on its workers start no lifecycle
// event, and with abort the running ones are cancelled. The planner learns
// of the stop when the runner reads the request.
func (e *Executor) pokeStop(id string, abort bool) {
	e.mu.Lock()
	r := e.running[id]
	e.mu.Unlock()
	if r != nil {
		r.stopping.Store(true)
		if abort {
			r.abort()
		}
		r.requestSync()
	}
}

// instancesOf returns the instance records in s of n targets of group,
// target k having ID id(k), in that order; a target without a record has
// the zero record there (TargetID empty). The records may share their
// Revision with each other: read them, never change what they point to.
// A store that implements InstanceBatchGetter is asked for these records
// only; any other for all of the group's (GetInstances).
func instancesOf(ctx context.Context, s InstanceStore, groupID string, n int, id func(k int) string) ([]InstanceRecord, error) {
	if b, ok := s.(InstanceBatchGetter); ok {
		ids := make([]string, n)
		for k := range ids {
			ids[k] = id(k)
		}
		recs, err := b.GetInstancesByID(ctx, groupID, ids)
		if err != nil {
			return nil, err
		}
		if len(recs) != n {
			return nil, fmt.Errorf("deploy: deployment group %s: GetInstancesByID returned %d records for %d target IDs; it must return one per ID", groupID, len(recs), n)
		}
		for k := range recs {
			if recs[k].TargetID != "" && (recs[k].TargetID != ids[k] || recs[k].GroupID != groupID) {
				return nil, fmt.Errorf("deploy: deployment group %s: GetInstancesByID returned the record of %s/%s for target %s; element i must be the record of targetIDs[i]",
					groupID, recs[k].GroupID, recs[k].TargetID, ids[k])
			}
		}
		return recs, nil
	}
	recs := make([]InstanceRecord, n)
	all, err := s.GetInstances(ctx, groupID)
	if err != nil {
		return nil, err
	}
	if len(all) == 0 {
		return recs, nil
	}
	byID := make(map[string]*InstanceRecord, len(all))
	for i := range all {
		byID[all[i].TargetID] = &all[i]
	}
	for k := range recs {
		if r := byID[id(k)]; r != nil {
			recs[k] = *r
		}
	}
	return recs, nil
}

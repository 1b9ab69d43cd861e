package deploy

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"reflect"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fleetdeploy/fleetdeploy/config"
	"github.com/fleetdeploy/fleetdeploy/deploy/clock"
	"github.com/fleetdeploy/fleetdeploy/deploy/plan"
	"github.com/fleetdeploy/fleetdeploy/internal/errmsg"
	"github.com/fleetdeploy/fleetdeploy/target"
)

// Run runs a Created deployment to the end: it starts it, runs its phases
// through the planner and the platform, records every transition in the
// store, and finishes it (health and the group's revision, as the User
// Guide's "CodeDeploy instance health" says). Then it
// runs what follows from the outcome, each to the end as well: the
// automatic rollback (a new deployment, linked both ways through
// RollbackInfo) and the auto-update deployment for targets that joined the
// group meanwhile (linked through RelatedDeployments). It returns the
// deployment as finally stored: RollbackInfo.RollbackDeploymentID and
// RelatedDeployments name the follow-ups; read them with GetDeployment.
// Last, when the group has queued deployments (Options.Queue), it starts
// and runs them, one after the other, as long as the group is free (an
// error doing so is returned after the deployment).
//
// A deployment that fails or is stopped is not an error: Run returns it
// with its final status and ErrorInformation. The error is for trouble that
// keeps Run from going on: the store (a failed write is returned as a
// *DeploymentError naming what failed: "deploy: deployment d-…: saving
// target i-3: …"), ctx, or an inconsistent stored state. The deployment
// then stays as stored — in progress and resumable with Resume; targets
// recorded InProgress go on from the first lifecycle event whose end is not
// recorded.
//
// Run returns ErrAlreadyStarted for a deployment that is not Created: one
// in progress (continue it with Resume) or one that has ended (the error
// then matches ErrDeploymentCompleted too). It returns ErrAlreadyRunning
// when this Executor runs the deployment in another goroutine, and
// ErrNotFound for an unknown ID, and ErrQueued for a Queued one. No
// goroutine it starts outlives it.
func (e *Executor) Run(ctx context.Context, id string) (*Deployment, error) {
	d, err := e.store.GetDeployment(ctx, id)
	if err != nil {
		return nil, &DeploymentError{DeploymentID: id, Op: "reading it", Err: err}
	}
	if d.Status.Final() {
		return d, &DeploymentError{DeploymentID: id, Err: endedError{d.Status}}
	}
	if d.Status == StatusQueued {
		return d, &DeploymentError{DeploymentID: id, Err: ErrQueued}
	}
	if d.Status != StatusCreated {
		return d, &DeploymentError{DeploymentID: id, Err: fmt.Errorf("%w (status %s); Resume continues a deployment", ErrAlreadyStarted, d.Status)}
	}
	return e.drive(ctx, d, true)
}

// endedError is Run's error for a deployment that has ended.
type endedError struct{ status DeploymentStatus }

func (e endedError) Error() string {
	return fmt.Sprintf("has ended with status %s; Run starts only a Created deployment (to deploy its revision again, create a new deployment)", e.status)
}

// Unwrap returns ErrAlreadyStarted and ErrDeploymentCompleted.
func (e endedError) Unwrap() []error { return []error{ErrAlreadyStarted, ErrDeploymentCompleted} }

// Resume continues a deployment from the state in the store, after a crash
// or a failed Run, and runs it to the end as Run does. Everything is
// reloaded: the deployment and its phase progress, and every target.
// Targets stored InProgress go on from the first lifecycle event whose end
// is not stored (the planner counts them as in flight, so the minimum
// healthy hosts bound holds across the crash); targets stored Succeeded or
// Failed are never run again. No lifecycle event whose outcome is stored
// is performed again: the package documentation (# Crash safety) lists
// what may be. A deployment that was deciding its end finishes with
// the outcome it had decided. For a deployment already final, Resume only
// completes what should follow it (a rollback or an auto-update deployment
// the crash kept from starting) and returns it.
//
// Resume returns a *LeaseHeldError (ErrLeaseHeld) at once, running
// nothing, while another executor holds the deployment's lease; once that
// lease has expired — its executor crashed or was cut off — Resume takes
// the deployment over.
//
// A Created deployment whose targets were never stored (CreateDeployment
// failed half way) is marked Failed with INTERNAL_ERROR. A Created Server
// blue/green deployment that stored its replacement fleet goes on with it.
func (e *Executor) Resume(ctx context.Context, id string) (*Deployment, error) {
	d, err := e.store.GetDeployment(ctx, id)
	if err != nil {
		return nil, &DeploymentError{DeploymentID: id, Op: "reading it", Err: err}
	}
	return e.drive(ctx, d, false)
}

// drive runs d to the end under its lease, then its follow-ups. With
// created, d must still be Created once the lease is held (Run).
func (e *Executor) drive(ctx context.Context, d *Deployment, created bool) (*Deployment, error) {
	if d.Status == StatusQueued {
		return d, &DeploymentError{DeploymentID: d.ID, Err: ErrQueued}
	}
	if !d.Status.Final() {
		fresh, l, err := e.start(ctx, d.ID)
		if err != nil {
			return d, err
		}
		d = fresh
		if d.Status == StatusQueued {
			e.finish(ctx, l)
			return d, &DeploymentError{DeploymentID: d.ID, Err: ErrQueued}
		}
		if created && d.Status != StatusCreated {
			e.finish(ctx, l)
			return d, &DeploymentError{DeploymentID: d.ID, Err: fmt.Errorf("%w (status %s) by another executor; Resume continues a deployment", ErrAlreadyStarted, d.Status)}
		}
		if !d.Status.Final() {
			d, err = e.runLeased(ctx, d, l)
			if err != nil {
				return d, err
			}
		} else {
			e.finish(ctx, l)
		}
	}
	d, err := e.followUps(ctx, d)
	if err != nil {
		return d, err
	}
	if err := e.drainQueue(ctx, d.ApplicationName, d.GroupName); err != nil {
		return d, errmsg.Errorf("deploy: deployment %s ended; starting the next queued deployment of group %s/%s: %w", d.ID, d.ApplicationName, d.GroupName, err)
	}
	return d, nil
}

// runLeased loads d and runs it to its end under lease l, which it
// releases.
func (e *Executor) runLeased(ctx context.Context, d *Deployment, l Lease) (*Deployment, error) {
	defer e.finish(ctx, l)
	r, err := e.load(ctx, d, l)
	if err != nil {
		return d, err
	}
	return r.run(ctx)
}

// errAbort is the cancellation cause of running lifecycle events when a
// stop asks to abort them; such events are recorded Failed. Any other
// cause (the caller's ctx, a store failure) leaves them unrecorded, to be
// run again on Resume.
var errAbort = errors.New("deploy: lifecycle event aborted by a stop request (AbortRunningEvents)")

// errStopRun is the cause used when the run ends for a reason of its own
// (a store failure, the caller's ctx).
var errStopRun = errors.New("deploy: the run ended")

// completion is a finished piece of work, to be reported to the planner.
// The target's new status is its record's (r.targets[i].Status): the
// worker is done with the record when it leaves the completion.
type completion struct {
	i  int32 // target index; -1 for a step
	ok bool
	// interrupted: the work stopped because the run is ending and nothing
	// was recorded.
	interrupted bool
	err         error            // a store failure: the run must end
	at          time.Time        // when it finished, when known
	res         *plan.StepResult // a step's result
}

// runner runs one deployment in this process. Its fields are owned by the
// loop goroutine, except where noted; workers own the DeploymentTarget
// they were handed until they report it.
type runner struct {
	e     *Executor
	id    string
	d     *Deployment // as last read or written
	group *Group
	info  target.DeploymentInfo
	p     *plan.Planner

	// store is what the runner writes through: the executor's store,
	// fenced by the runner's lease; storeAt is the same store when it
	// implements TargetUpdaterAt (asserted once, not at every write).
	store   Store
	storeAt TargetUpdaterAt
	// lease is the runner's lease, as last taken or renewed, under
	// leaseMu; leaseExp is its expiry (UnixNano), read by workers without
	// the lock (checkLease).
	leaseMu  sync.Mutex
	lease    Lease
	leaseExp atomic.Int64

	targets []DeploymentTarget // planner index → record (Server)
	svc     *DeploymentTarget  // the function or service (Lambda, ECS)
	svcData *serviceData       // what Lambda and ECS steps need
	seqs    sequences
	// evLimits are the time limits of the Installer events whose scripts
	// the revision's AppSpec names (Executor.eventLimits); nil without
	// Options.Source.
	evLimits map[target.LifecycleEvent]time.Duration
	// deadline is when the run must end (Options.MaxRunTime); zero for
	// none.
	deadline time.Time
	// watch enforces the time limits of the workers' event calls
	// (limits.go).
	watch *limitWatch

	observer Observer
	debug    bool // the logger takes Debug records
	watched  bool // observer or debug: target transitions are reported
	triggers map[TriggerEventType][]TriggerConfig
	alarms   AlarmConfiguration

	runCtx     context.Context
	workCtx    context.Context
	cancelWork context.CancelCauseFunc
	wg         sync.WaitGroup // the workers (see work)
	resumed    []int          // targets stored InProgress when loaded
	resumeStep bool           // a step was in flight when loaded
	stepMode   bool           // Step: workers only report, the loop decides
	started    int            // targets decide started (loop only)

	// The fields that workers write all the time come in two blocks,
	// apart from the rest and from each other (cacheLinePad), so that
	// reading the runner's settings costs no cache misses on other cores.
	_ cacheLinePad

	// pmu guards the planner and the fields below it. Workers report to
	// the planner themselves and, while nothing needs the loop, ask it for
	// the next targets (see executor_work.go).
	pmu          sync.Mutex
	overview     DeploymentOverview
	status       DeploymentStatus // last status stored
	saved        plan.Progress    // last planner progress stored
	inflight     int              // work handed out and not yet reported
	pendingStart []item           // work a worker's decision handed out, for the loop to store first
	handedOut    []item           // reportLocked's buffer for the targets it hands out
	needLoop     bool             // something only the loop may do
	fatal        error            // the error that ends the run

	_ cacheLinePad

	// qmu guards the queue of work and the completions not yet reported
	// (see executor_work.go). Lock order: pmu, then qmu.
	qmu         sync.Mutex
	queue       itemQueue      // work handed out, not yet taken
	workers     int            // worker goroutines
	takers      int            // workers that will take from the queue before they stop
	starting    bool           // a worker was started and has not taken an item yet
	done        []completion   // finished work, not yet reported to the planner
	undelivered atomic.Int32   // len(done), read without qmu
	spare       []completion   // done's other buffer
	holders     []*workerState // workers that hold a run (executor_runs.go)
	// stashed: a run may keep completions not yet reported (set by the
	// worker that keeps the first, cleared by the report that collects
	// them).
	stashed atomic.Bool

	// Read by every worker for every item, and written only when a
	// report starts or ends: kept off the lines the workers write.
	_          cacheLinePad
	delivering atomic.Bool // a worker is reporting completions
	halted     atomic.Bool // fatal is set: workers take no more work
	_          cacheLinePad

	wake     chan struct{}
	poked    atomic.Bool // a request was stored: read the deployment
	stopping atomic.Bool // a stop was seen: workers start no new event

	timer   clock.Timer
	timerAt time.Time

	stopSeen       bool
	readyContinued bool
	termContinued  bool
	pollAt         time.Time
}

// load reads a deployment's state and builds its runner (and planner),
// which runs it under lease l.
func (e *Executor) load(ctx context.Context, d *Deployment, l Lease) (*runner, error) {
	r := &runner{e: e, id: d.ID, d: d, wake: make(chan struct{}, 1), observer: e.opts.Observer, debug: e.debug()}
	r.holdLease(l)
	r.watched = r.observer != nil || r.debug
	g, err := e.store.GetGroup(ctx, d.ApplicationName, d.GroupName)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return nil, &DeploymentError{DeploymentID: d.ID, Op: "reading its deployment group", Err: err}
	}
	if g != nil && g.ID != d.GroupID {
		g = nil // the group was deleted and created again: it is another group
	}
	r.group = g
	r.info = d.TargetInfo()
	if d.Creator != target.CreatorRollback {
		// A rollback does not poll alarms: the alarm that triggered it
		// reads ALARM until the rollback has moved traffic back.
		r.alarms = d.alarmConfiguration(g)
	}
	if len(e.opts.Notifiers) > 0 && g != nil {
		r.triggers = triggerIndex(g)
	}
	o := d.Overview
	expected := int(max(o.Pending+o.InProgress+o.Succeeded+o.Failed+o.Skipped+o.Ready, 0))
	if r.targets, err = loadTargets(ctx, r.store, d.ID, expected); err != nil {
		return nil, &DeploymentError{DeploymentID: d.ID, Op: "reading its targets", Err: err}
	}
	r.status = d.Status
	r.saved = d.Progress.Plan
	r.stopSeen = d.Progress.Plan.StopCode != ""
	r.stopping.Store(r.stopSeen)
	for i := range r.targets {
		r.overview.Add(r.targets[i].Status, 1)
	}
	if d.ComputePlatform != config.Server && len(r.targets) == 1 {
		r.svc = &r.targets[0]
		r.targets = nil
	}
	seqs, err := newSequences(d)
	if err != nil {
		return nil, &DeploymentError{DeploymentID: d.ID, Op: "choosing its lifecycle events", Err: err}
	}
	r.seqs = seqs
	return r, nil
}

// loadTargets returns the deployment's targets in the store's order, in
// the runner's form: a target's list of events none of which has started
// is nil (the runner makes it when it starts the target), and neighbours
// with equal tags share one map, which spares the collector a map per
// target. expected is how many there should be (the deployment's
// overview): they are asked for in one page, which a store that allows it
// returns, and which is then the runner's slice as it is rather than a
// copy of many pages. Records may share their maps and lists (see
// Store.ListTargets): the runner never changes a target's tags, and
// changes a list it loaded only on a copy (runRecord).
func loadTargets(ctx context.Context, s Store, id string, expected int) ([]DeploymentTarget, error) {
	var ts []DeploymentTarget
	for page, err := range targetPages(ctx, s, id, max(expected, 1)) {
		if err != nil {
			return nil, err
		}
		if ts == nil {
			ts = slices.Grow(page, max(expected-len(page), 0))
		} else {
			ts = append(ts, page...)
		}
	}
	forChunks(len(ts), func(lo, hi int) {
		var last []LifecycleEventRecord // the last list found not started
		for i := lo; i < hi; i++ {
			t := &ts[i]
			switch evs := t.LifecycleEvents; {
			case len(evs) > 0 && len(last) == len(evs) && &last[0] == &evs[0]:
				t.LifecycleEvents = nil // a list the records share
			case notStarted(evs):
				last, t.LifecycleEvents = evs, nil
			}
			if i > lo && len(t.Target.Tags) > 0 {
				if prev := ts[i-1].Target.Tags; !sameMap(prev, t.Target.Tags) && maps.Equal(prev, t.Target.Tags) {
					t.Target.Tags = prev
				}
			}
		}
	})
	return ts, nil
}

// sameMap reports whether a and b are the same map (not only equal ones).
func sameMap(a, b map[string]string) bool {
	return reflect.ValueOf(a).UnsafePointer() == reflect.ValueOf(b).UnsafePointer()
}

// planInput returns the planner's input for the stored state.
func (r *runner) planInput() plan.Input {
	d := r.d
	in := plan.Input{
		Config:   r.planConfig(),
		Type:     d.DeploymentStyle.DeploymentType,
		Rollback: d.Creator == target.CreatorRollback,
		Progress: d.Progress.Plan,
	}
	if bg := d.BlueGreenDeploymentConfiguration; bg != nil {
		if o := bg.DeploymentReadyOption; o != nil {
			in.BlueGreen.ReadyAction = o.ActionOnTimeout
			in.BlueGreen.ReadyWait = time.Duration(o.WaitTimeInMinutes) * time.Minute
		}
		if o := bg.TerminateBlueInstancesOnDeploymentSuccess; o != nil {
			in.BlueGreen.TerminationAction = o.Action
			in.BlueGreen.TerminationWait = time.Duration(o.TerminationWaitTimeInMinutes) * time.Minute
		}
	}
	if in.BlueGreen.ReadyAction == plan.StopDeployment && in.BlueGreen.ReadyWait == 0 {
		// A zero wait time with STOP_DEPLOYMENT: CodeDeploy stops the
		// deployment as soon as it is ready; the planner needs a positive
		// wait, and the smallest one does the same.
		in.BlueGreen.ReadyWait = time.Nanosecond
	}
	phase := d.Progress.Plan.Phase
	in.Targets = make([]plan.Target, len(r.targets))
	forChunks(len(r.targets), func(lo, hi int) {
		for i := lo; i < hi; i++ {
			t := &r.targets[i]
			pt := plan.Target{ID: t.TargetID, Zone: t.Target.Zone, Instance: t.InitialInstanceHealth,
				Revision: t.InitialRevisionHealth, Label: t.Label}
			pt.Status, pt.Reroute = planStatus(t, phase, in.Rollback)
			in.Targets[i] = pt
		}
	})
	return in
}

// planConfig returns the configuration the planner follows: the
// deployment's, except that a Lambda or ECS rollback shifts all traffic
// at once (see "Rollbacks" in the package documentation) whatever schedule
// its configuration — the rolled-back deployment's — names.
func (r *runner) planConfig() config.Config {
	c := r.d.Config
	if r.d.Creator == target.CreatorRollback && c.TrafficRouting != nil {
		// The platform's predefined all-at-once configuration (the planner
		// rejects a predefined name with another rule).
		if all, ok := config.Predefined("CodeDeployDefault." + string(c.Platform()) + "AllAtOnce"); ok {
			return all
		}
	}
	return c
}

// planStatus maps a stored target status to the planner's Status and Reroute
// (User Guide, "AppSpec 'hooks' section"). A Green target of a blue/green
// deployment goes Pending → InProgress (install) → Ready → InProgress
// (reroute) → Succeeded; the phase tells the two InProgress apart, and the
// events tell a failed install from a failed reroute.
func planStatus(t *DeploymentTarget, phase plan.Phase, rollback bool) (status, reroute target.TargetStatus) {
	if t.Label != target.LabelGreen || rollback {
		if t.Status == target.TargetReady {
			return target.TargetSucceeded, ""
		}
		return t.Status, ""
	}
	switch t.Status {
	case target.TargetReady:
		return target.TargetSucceeded, target.TargetPending
	case target.TargetInProgress:
		if phase == plan.PhaseReroute {
			return target.TargetSucceeded, target.TargetInProgress
		}
		return target.TargetInProgress, target.TargetPending
	case target.TargetSucceeded:
		return target.TargetSucceeded, target.TargetSucceeded
	case target.TargetFailed:
		if e := t.Event(target.BeforeAllowTraffic); e != nil && e.Status != target.EventPending && e.Status != target.EventSkipped {
			return target.TargetSucceeded, target.TargetFailed
		}
		return target.TargetFailed, target.TargetPending
	}
	return t.Status, target.TargetPending
}

// run runs the loaded deployment to its end and finishes it.
func (r *runner) run(ctx context.Context) (*Deployment, error) {
	r.prepare(ctx)
	defer r.stopWork()
	r.e.attach(r)
	if done, err := r.begin(ctx); done || err != nil {
		return r.d, err
	}
	r.restart()
	// Read the alarms once before anything starts: an alarm already in
	// ALARM, or alarms that cannot be read, stop the deployment before it
	// changes anything, whatever the timing of the first periodic poll.
	if err := r.pollAlarms(ctx); err != nil {
		return r.d, r.end(err)
	}
	for {
		if r.pastDeadline() {
			return r.d, r.timeOut(ctx)
		}
		dec, err := r.decide(ctx, true)
		if err != nil {
			return r.d, r.end(err)
		}
		if dec.Done {
			r.awaitIdle() // nothing is in flight when the planner is done
			return r.d, r.finish(ctx, r.withCommonCause(ctx, dec))
		}
		until := dec.WaitUntil
		if !r.deadline.IsZero() && (until.IsZero() || r.deadline.Before(until)) {
			until = r.deadline
		}
		if err := r.wait(ctx, until, false); err != nil {
			return r.d, r.end(err)
		}
	}
}

// withCommonCause adds to the explanation of a deployment that failed its
// health constraints the cause its targets failed with, when every target
// that ran failed, each in the same lifecycle event with the same message
// (a bundle that cannot be downloaded, a script missing from it): the
// cause is then the deployment's, not only each target's. And when every
// failed target failed for the same reason that has a CodeDeploy error
// code of its own (Diagnostics.DeploymentErrorCode: AGENT_ISSUE for agents
// that cannot be reached, ELB_INVALID_INSTANCE, THROTTLED, …), the
// deployment fails with that code instead of HEALTH_CONSTRAINTS, and its
// explanation says so first. The runner does not keep the targets'
// events, so it reads the failed targets from the store, page by page, up
// to the first that settles both questions; when they cannot be read, the
// explanation and code stay as they are.
func (r *runner) withCommonCause(ctx context.Context, dec plan.Decision) plan.Decision {
	if dec.Status != StatusFailed || dec.ErrorCode != plan.HealthConstraints || r.svc != nil {
		return dec
	}
	n, allFailed := 0, true
	for i := range r.targets { // nothing is in flight: the statuses are final
		switch r.targets[i].Status {
		case target.TargetPending, target.TargetSkipped:
		case target.TargetFailed:
			n++
		default:
			allFailed = false
		}
	}
	if n == 0 {
		return dec
	}
	cause, sameCause := "", allFailed
	codes := commonCode{first: true}
pages:
	for page, err := range targetPages(ctx, r.store, r.id, 0) {
		if err != nil {
			r.e.log.Warn("cannot read the failed targets for their common cause", "deployment", r.id, "error", err.Error())
			return dec
		}
		for i := range page {
			if page[i].Status != target.TargetFailed {
				continue
			}
			codes.add(targetCode(&page[i]))
			if sameCause {
				c := failureCause(&page[i])
				if c == "" || (cause != "" && c != cause) {
					sameCause = false
				}
				cause = c
			}
			if !sameCause && !codes.same {
				break pages
			}
		}
	}
	if sameCause && cause != "" {
		what := fmt.Sprintf("all %d targets that ran failed the same way", n)
		if n == 1 {
			what = "the one target that ran failed"
		}
		dec.Explanation = fmt.Sprintf("%s: %s; %s", what, cause, dec.Explanation)
	}
	if codes.same {
		dec.ErrorCode = codes.code
		dec.Explanation = codes.explain(n) + "; " + dec.Explanation
	}
	return dec
}

// failureCause returns "<event> failed (<code>): <message>" for the failed
// lifecycle event of t, or "" when it has none with a message.
func failureCause(t *DeploymentTarget) string {
	for _, ev := range t.LifecycleEvents {
		if ev.Status != target.EventFailed || ev.Diagnostics == nil || ev.Diagnostics.Message == "" {
			continue
		}
		dg := ev.Diagnostics
		s := string(ev.Name) + " failed"
		if dg.ErrorCode != "" {
			s += " (" + string(dg.ErrorCode) + ")"
		}
		return s + ": " + dg.Message
	}
	return ""
}

// begin prepares a run: it fails a half-created deployment, finishes one
// whose end was decided, builds the planner and starts the work context.
// done reports that the deployment is final.
func (r *runner) begin(ctx context.Context) (done bool, err error) {
	d := r.d
	if d.Status == StatusCreated && d.Progress.Ending == nil {
		want, stored := d.Overview.Pending, r.createdTargets()
		if int64(stored) != want && !(r.svc != nil && want == 1) {
			cause := fmt.Errorf("CreateDeployment stored %d of its %d targets", stored, want)
			if err := r.e.failCreated(ctx, r.store, d, cause); err != nil {
				return true, err
			}
			return true, nil
		}
	}
	if end := d.Progress.Ending; end != nil {
		return true, r.finishEnding(ctx, *end)
	}
	if d.Status == StatusCreated && d.ComputePlatform == config.Server && r.e.opts.Source != nil {
		spec, why, code, err := r.checkRevision(ctx)
		if err != nil {
			return true, err
		}
		if why != "" {
			return true, r.finishDecided(ctx, Ending{Status: StatusFailed, Time: r.e.clk.Now(), Explanation: why,
				ErrorInformation: ErrorInformation{Code: code, Message: why}}, d.Progress.Plan)
		}
		r.evLimits = r.e.eventLimits(spec)
	} else if d.ComputePlatform == config.Server && r.e.opts.Source != nil {
		// Resumed: the AppSpec again, for its scripts' timeouts; without it
		// every event gets Options.EventTimeout.
		spec, err := r.e.readAppSpec(ctx, d.Revision, d.ComputePlatform)
		if err != nil {
			r.e.log.Warn("cannot read the AppSpec for its script timeouts; every lifecycle event gets Options.EventTimeout",
				"deployment", r.id, "error", err.Error())
		}
		r.evLimits = r.e.eventLimits(spec)
	}
	r.deadline = r.e.runDeadline(d)
	switch {
	case d.ComputePlatform != config.Server:
		why, code, err := r.loadService(ctx)
		if err != nil {
			return true, err
		}
		if why != "" {
			return true, r.finishDecided(ctx, Ending{Status: StatusFailed, Time: r.e.clk.Now(), Explanation: why,
				ErrorInformation: ErrorInformation{Code: code, Message: why}}, d.Progress.Plan)
		}
	case r.provisionsGreen():
		why, code, err := r.provisionGreen(ctx)
		if err != nil {
			return true, err
		}
		if why != "" {
			return true, r.finishDecided(ctx, Ending{Status: StatusFailed, Time: r.e.clk.Now(), Explanation: why,
				ErrorInformation: ErrorInformation{Code: code, Message: why}}, d.Progress.Plan)
		}
	}
	p, err := plan.New(r.planInput())
	if err != nil {
		return true, &DeploymentError{DeploymentID: r.id, Op: "planning from the stored state", Err: err}
	}
	r.p = p
	for i := range r.targets {
		if r.targets[i].Status == target.TargetInProgress {
			r.resumed = append(r.resumed, i)
		}
	}
	r.resumeStep = d.Progress.Plan.StepIssued
	// The planner keeps at most its window of targets in flight (and a
	// step): the queue never holds more, nor do the completions waiting to
	// be reported — which, while a report of many is under way, can be
	// nearly the whole window (BenchmarkExecutor, window 50,000: grown as
	// needed, their two buffers took ~15 MB of allocations per run, and a
	// garbage collection at the end of most runs).
	inFlight := min(p.Minimum().Window, len(r.targets)) + 1
	r.queue.reserve(inFlight)
	r.done, r.spare = make([]completion, 0, inFlight), make([]completion, 0, inFlight)
	if d.Status == StatusCreated {
		now := r.e.clk.Now()
		if err := r.save(ctx, func(d *Deployment) {
			d.Status = StatusInProgress
			d.StartTime = now
		}); err != nil {
			return true, r.storeErr("starting it", err)
		}
		r.status = StatusInProgress
		r.deploymentChanged(now, "")
		r.notify(Notification{Event: TriggerDeploymentStart, Time: now, Status: StatusInProgress})
	}
	return false, nil
}

// prepare sets up the run's contexts and work group; it comes before the
// runner is registered, so that Stop may cancel the work at any time.
func (r *runner) prepare(ctx context.Context) {
	r.runCtx = ctx
	r.workCtx, r.cancelWork = context.WithCancelCause(ctx)
	r.watch = newLimitWatch(r.e.clk, r.takeOver)
}

// restart starts again the work that was in flight when the deployment was
// stored: targets stored InProgress (from the first event whose end is not
// stored, or, after a stop, recorded as interrupted) and an issued step.
func (r *runner) restart() {
	phase := r.p.Progress().Phase
	stopped := r.p.Progress().StopCode != ""
	items := make([]item, 0, len(r.resumed)+1)
	for _, i := range r.resumed {
		items = append(items, item{i: int32(i), phase: phase, stopped: stopped})
	}
	r.resumed = nil
	if r.resumeStep {
		r.resumeStep = false
		items = append(items, stepItem(phase, r.resumedStep()))
	}
	r.pmu.Lock()
	n := r.enqueueLocked(items)
	r.pmu.Unlock()
	r.spawn(n)
}

// decide asks the planner what to do, stores the decision's progress and
// status when they changed, and starts the work it hands out — and the
// work workers' decisions handed out meanwhile — when act is true. Work is
// started only once the progress of the decision that handed it out is
// stored (the planner's first duty).
func (r *runner) decide(ctx context.Context, act bool) (plan.Decision, error) {
	if r.poked.Swap(false) {
		if err := r.sync(ctx); err != nil {
			return plan.Decision{}, err
		}
	}
	r.pmu.Lock()
	if err := r.applyRequests(); err != nil {
		r.pmu.Unlock()
		return plan.Decision{}, err
	}
	now := r.e.clk.Now()
	dec := r.p.Next(now)
	items := slices.Grow(r.pendingStart, len(dec.Start)+1)
	r.pendingStart = nil
	for _, i := range dec.Start {
		items = append(items, item{i: int32(i), phase: dec.Phase})
	}
	if dec.Step != nil {
		items = append(items, stepItem(dec.Phase, *dec.Step))
	}
	r.needLoop = false
	saved, status := r.saved, r.status
	r.pmu.Unlock()
	dec.Start = nil // reused by the planner; the items hold the work
	if dec.Done {
		return dec, nil
	}
	if !act && len(items) > 0 {
		return dec, nil // a peek: the work is forgotten with the planner
	}
	if dec.Progress != saved || dec.Status != status {
		if err := r.save(ctx, func(d *Deployment) {
			d.Progress.Plan = dec.Progress
			d.Status = dec.Status
		}); err != nil {
			return dec, r.storeErr("saving its progress", err)
		}
	}
	r.pmu.Lock()
	r.saved, r.status = dec.Progress, dec.Status
	n := r.enqueueLocked(items)
	r.pmu.Unlock()
	r.spawn(n)
	for _, it := range items {
		if it.i >= 0 {
			r.started++
		}
	}
	if dec.Status != status {
		r.deploymentChanged(now, dec.Explanation)
	}
	if saved.Phase == plan.PhaseInstallReplacement && dec.Progress.Phase != saved.Phase {
		r.notify(Notification{Event: TriggerDeploymentReady, Time: now, Status: dec.Status})
	}
	return dec, nil
}

// applyRequests passes stop and continue requests stored with the
// deployment on to the planner. r.pmu is held.
func (r *runner) applyRequests() error {
	d := r.d
	if s := d.StopRequest; s != nil && !r.stopSeen {
		r.stopSeen = true
		r.stopping.Store(true)
		code, msg := plan.ManualStop, s.Message
		if s.Alarm != "" {
			code = plan.AlarmActive
		}
		if msg == "" {
			msg = "stopped on request"
		}
		if err := r.p.Stop(code, msg); err != nil && !errors.Is(err, plan.ErrDone) {
			return &DeploymentError{DeploymentID: r.id, Op: "stopping", Err: err}
		}
		r.e.log.Info("deployment stopping", "deployment", r.id, "code", string(code), "abort", s.AbortRunningEvents)
	}
	if s := d.StopRequest; s != nil && s.AbortRunningEvents {
		r.abort()
	}
	phase := r.p.Progress().Phase
	if d.Progress.ReadyWaitContinued && !r.readyContinued && phase == plan.PhaseReadyWait {
		r.readyContinued = true
		_ = r.p.Continue(plan.ReadyWait) // the phase was just checked
	}
	if d.Progress.TerminationWaitContinued && !r.termContinued && phase == plan.PhaseTerminationWait {
		r.termContinued = true
		_ = r.p.Continue(plan.TerminationWait)
	}
	return nil
}

// wait blocks until there is something to do: a worker needs the loop (a
// decision to store, a step reported, nothing left in flight), a request
// was stored, the decision's deadline passed, or it is time to poll. With
// idle it returns only once nothing is in flight. It returns the error
// that must end the run.
func (r *runner) wait(ctx context.Context, until time.Time, idle bool) error {
	for {
		r.pmu.Lock()
		fatal, need, inflight := r.fatal, r.needLoop, r.inflight
		r.pmu.Unlock()
		switch {
		case fatal != nil:
			return fatal
		case idle && inflight == 0, !idle && need:
			return nil
		}
		fired := r.armTimer(until)
		select {
		case <-r.wake:
			switch {
			case !idle && r.poked.Load():
				return nil // decide reads the request
			case r.poked.Swap(false):
				if err := r.sync(ctx); err != nil {
					return err
				}
				r.pmu.Lock()
				err := r.applyRequests()
				r.pmu.Unlock()
				if err != nil {
					return err
				}
			}
		case now := <-fired:
			r.timer = nil
			if !now.Before(r.renewAt()) {
				if err := r.renewLease(ctx, now); err != nil {
					return err
				}
			}
			if !now.Before(r.pollAt) {
				if err := r.poll(ctx); err != nil {
					return err
				}
			}
			if !idle {
				return nil
			}
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// armTimer makes sure a timer fires at the earliest of until (when set),
// the next poll and the lease's renewal, and returns its channel. The timer is kept across waits
// while its deadline stays the same, so the loop does not make a timer per
// report.
func (r *runner) armTimer(until time.Time) <-chan time.Time {
	if r.pollAt.IsZero() {
		r.pollAt = r.e.clk.Now().Add(r.e.opts.PollInterval)
	}
	at := r.pollAt
	if !until.IsZero() && until.Before(at) {
		at = until
	}
	if renew := r.renewAt(); renew.Before(at) {
		at = renew
	}
	if r.timer != nil && at.Equal(r.timerAt) {
		return r.timer.C()
	}
	r.stopTimer()
	r.timer, r.timerAt = r.e.clk.NewTimer(at.Sub(r.e.clk.Now())), at
	return r.timer.C()
}

// stopTimer stops the loop's timer, if any.
func (r *runner) stopTimer() {
	if r.timer != nil {
		r.timer.Stop()
		r.timer = nil
	}
}

// wakeLoop wakes the loop. It never blocks.
func (r *runner) wakeLoop() {
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// requestSync asks the loop to read the deployment for a request.
func (r *runner) requestSync() {
	r.poked.Store(true)
	r.wakeLoop()
}

// awaitIdle waits for every worker to return.
func (r *runner) awaitIdle() {
	r.wg.Wait()
}

// stopWork cancels the work still running and waits for it.
func (r *runner) stopWork() {
	r.stopTimer()
	if r.cancelWork != nil {
		r.cancelWork(errStopRun)
	}
	r.awaitIdle()
	if r.watch != nil {
		r.watch.stop()
		r.watch = nil
	}
}

// end stops the run for err and returns it as the run's error.
func (r *runner) end(err error) error {
	r.stopWork()
	var de *DeploymentError
	if errors.As(err, &de) {
		return err
	}
	if r.runCtx.Err() != nil && errors.Is(err, r.runCtx.Err()) {
		return &DeploymentError{DeploymentID: r.id, Op: "interrupted; Resume continues it", Err: err}
	}
	return &DeploymentError{DeploymentID: r.id, Err: err}
}

// storeErr wraps a store error of the run.
func (r *runner) storeErr(op string, err error) error {
	return &DeploymentError{DeploymentID: r.id, Op: op, Err: err}
}

// sync reads the deployment for requests stored by Stop or Continue.
func (r *runner) sync(ctx context.Context) error {
	fresh, err := r.e.store.GetDeployment(ctx, r.id)
	if err != nil {
		return r.storeErr("reading it for stop and continue requests", err)
	}
	if fresh.Version != r.d.Version {
		if fresh.Status.Final() {
			return r.storeErr("", fmt.Errorf("%w: it was finished (%s) by another executor", ErrConflict, fresh.Status))
		}
		r.adopt(fresh)
	}
	return nil
}

// abort cancels the running lifecycle events for a stop with
// AbortRunningEvents. It may be called from any goroutine.
func (r *runner) abort() {
	if r.cancelWork != nil {
		r.cancelWork(errAbort)
	}
}

// adopt takes the requests (and hook executions, which the run's workers
// and hook functions' reports store) and version of a newer stored copy, keeping
// the runner's own state, so that the next write succeeds. A stop request
// stops the workers from starting new events at once.
func (r *runner) adopt(fresh *Deployment) {
	if fresh.StopRequest != nil {
		r.stopping.Store(true)
	}
	r.d.StopRequest = fresh.StopRequest
	r.d.HookExecutions = fresh.HookExecutions
	r.d.Progress.ReadyWaitContinued = fresh.Progress.ReadyWaitContinued
	r.d.Progress.TerminationWaitContinued = fresh.Progress.TerminationWaitContinued
	r.d.Version = fresh.Version
}

// save changes the stored deployment with change, a compare-and-swap that
// picks up requests stored meanwhile and retries on ErrConflict. The
// overview counters go with every write.
func (r *runner) save(ctx context.Context, change func(d *Deployment)) error {
	for attempt := 0; ; attempt++ {
		change(r.d)
		r.pmu.Lock()
		r.d.Overview = r.overview
		r.pmu.Unlock()
		err := r.store.UpdateDeployment(ctx, r.d)
		if err == nil || !errors.Is(err, ErrConflict) || attempt == maxConflicts {
			return err
		}
		fresh, gerr := r.e.store.GetDeployment(ctx, r.id)
		if gerr != nil {
			return gerr
		}
		if fresh.Status.Final() && !r.d.Status.Final() {
			return fmt.Errorf("%w: it was finished (%s) by another executor", ErrConflict, fresh.Status)
		}
		r.adopt(fresh)
	}
}

// maxConflicts bounds the compare-and-swap retries of one write.
const maxConflicts = 64

// poll runs the periodic checks: requests stored by other processes, the
// alarms, and the overview counters.
func (r *runner) poll(ctx context.Context) error {
	r.pollAt = time.Time{}
	if err := r.sync(ctx); err != nil {
		return err
	}
	if err := r.pollAlarms(ctx); err != nil {
		return err
	}
	r.pmu.Lock()
	changed := r.d.Overview != r.overview
	r.pmu.Unlock()
	if changed {
		if err := r.save(ctx, func(*Deployment) {}); err != nil {
			return r.storeErr("saving its overview", err)
		}
	}
	return nil
}

// deploymentChanged reports a new deployment status to the observer and
// the log.
func (r *runner) deploymentChanged(now time.Time, explanation string) {
	r.e.log.Info("deployment status", "deployment", r.id, "status", string(r.status), "explanation", explanation)
	r.e.observe(Event{Kind: EventDeploymentStatus, Time: now, DeploymentID: r.id, ApplicationName: r.d.ApplicationName,
		GroupName: r.d.GroupName, Status: r.status, ErrorInformation: r.d.ErrorInformation, Explanation: explanation})
}

// observe passes e to the observer, if any.
func (e *Executor) observe(ev Event) {
	if e.opts.Observer != nil {
		e.opts.Observer.Observe(ev)
	}
}

// notify sends n to every notifier, once per trigger of the group that
// asks for n.Event.
func (r *runner) notify(n Notification) {
	if len(r.triggers[n.Event]) == 0 {
		return
	}
	n.ApplicationName, n.GroupName, n.GroupID, n.DeploymentID = r.d.ApplicationName, r.d.GroupName, r.d.GroupID, r.id
	if n.TargetID == "" {
		// A deployment event: it comes from the loop, which alone writes
		// r.d, and never with r.pmu held.
		n.CreateTime, n.CompleteTime, n.RollbackInfo = r.d.CreateTime, r.d.CompleteTime, r.d.RollbackInfo
		r.pmu.Lock()
		n.Overview = r.overview
		r.pmu.Unlock()
	}
	r.e.notifyTriggers(r.runCtx, r.triggers, n)
}

// notifyTarget sends the instance event ev of target record t, with a copy
// of its lifecycle events, when a trigger asks for ev.
func (r *runner) notifyTarget(ev TriggerEventType, t *DeploymentTarget, now time.Time) {
	if len(r.triggers[ev]) == 0 {
		return
	}
	r.notify(Notification{Event: ev, Time: now, TargetID: t.TargetID, TargetStatus: t.Status,
		LifecycleEvents: slices.Clone(t.LifecycleEvents)})
}

// debug reports whether debug logging is on, so that hot paths build no
// attributes for a logger that drops them.
func (e *Executor) debug() bool { return e.log.Enabled(context.Background(), slog.LevelDebug) }

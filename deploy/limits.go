package deploy

import (
	"context"
	"errors"
	"fmt"
	"math"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fleetdeploy/fleetdeploy/config"
	"github.com/fleetdeploy/fleetdeploy/deploy/clock"
	"github.com/fleetdeploy/fleetdeploy/deploy/plan"
	"github.com/fleetdeploy/fleetdeploy/revision"
	"github.com/fleetdeploy/fleetdeploy/target"
)

// Defaults of the time limits in Options. The figures are CodeDeploy's
// (User Guide, "CodeDeploy quotas"), except DefaultMaxRunTimeECS, for
// which that page gives none.
const (
	// DefaultEventTimeout bounds a Server lifecycle event performed by the
	// Installer: one hour, CodeDeploy's "maximum number of seconds until
	// an individual deployment lifecycle event fails if not completed"
	// (3600).
	DefaultEventTimeout = time.Hour
	// DefaultTrafficTimeout bounds a Server AllowTraffic or BlockTraffic
	// event performed by the TrafficController: one hour, the same
	// per-event limit.
	DefaultTrafficTimeout = time.Hour
	// DefaultMaxRunTimeInPlace is the longest an EC2/On-Premises in-place
	// deployment runs: 12 hours, the limit of the predefined deployment
	// configurations and of custom ones created since June 2023 (custom
	// configurations created before then had 8 hours).
	DefaultMaxRunTimeInPlace = 12 * time.Hour
	// DefaultMaxRunTimeBlueGreen is the longest an EC2/On-Premises
	// blue/green deployment runs: 109 hours (48 for each of the two waits,
	// ready and termination, plus an hour for each lifecycle event).
	DefaultMaxRunTimeBlueGreen = 109 * time.Hour
	// DefaultMaxRunTimeLambda is the longest an AWS Lambda deployment
	// runs: 50 hours (48 between the first and the last traffic shift,
	// plus an hour for each of the two hooks).
	DefaultMaxRunTimeLambda = 50 * time.Hour
	// DefaultMaxRunTimeECS is the longest an Amazon ECS deployment runs.
	// The quotas page states no run-time limit for ECS; fleetdeploy builds
	// one as the blue/green figure is built: 120 hours (the longest wait
	// before rerouting an ECS deployment's traffic) plus 48 (the longest
	// termination wait) plus an hour for each of the five hook events:
	// 173 hours.
	DefaultMaxRunTimeECS = 173 * time.Hour
)

// RunTimeLimits are the longest deployments of each kind may run, from
// their start (Deployment.StartTime, as stored: an executor that resumes or
// takes over a deployment counts from there, not from when it took it) until
// they end; a deployment still running at its limit ends Failed with TIMEOUT
// (and rolls back when its group rolls back on DEPLOYMENT_FAILURE). A field
// left 0 gets CodeDeploy's limit for its kind (DefaultMaxRunTimeInPlace,
// ...); a negative one sets no limit for its kind (NoTimeLimits sets every
// one negative).
type RunTimeLimits struct {
	// InPlace bounds EC2/On-Premises in-place deployments;
	// DefaultMaxRunTimeInPlace when 0, none when negative.
	InPlace time.Duration
	// BlueGreen bounds EC2/On-Premises blue/green deployments;
	// DefaultMaxRunTimeBlueGreen when 0, none when negative.
	BlueGreen time.Duration
	// Lambda bounds AWS Lambda deployments; DefaultMaxRunTimeLambda when
	// 0, none when negative.
	Lambda time.Duration
	// ECS bounds Amazon ECS deployments; DefaultMaxRunTimeECS when 0, none
	// when negative.
	ECS time.Duration
}

// withDefaults returns l with every field left 0 set to CodeDeploy's limit
// for its kind.
func (l RunTimeLimits) withDefaults() RunTimeLimits {
	l.InPlace = orDefault(l.InPlace, DefaultMaxRunTimeInPlace)
	l.BlueGreen = orDefault(l.BlueGreen, DefaultMaxRunTimeBlueGreen)
	l.Lambda = orDefault(l.Lambda, DefaultMaxRunTimeLambda)
	l.ECS = orDefault(l.ECS, DefaultMaxRunTimeECS)
	return l
}

// orDefault returns def when d is 0, else d (a negative d, no limit, stays).
func orDefault(d, def time.Duration) time.Duration {
	if d == 0 {
		return def
	}
	return d
}

// CodeDeployLimits is an option for New that sets every time limit of
// Options to CodeDeploy's: EventTimeout and TrafficTimeout an hour, and
// MaxRunTime the run-time limits of each kind of deployment (see the
// Default* constants and the package documentation, "Time limits"). Those
// are also what limits left 0 get; the option undoes an earlier option
// that changed them (NoTimeLimits, say).
func CodeDeployLimits(o *Options) {
	o.EventTimeout = DefaultEventTimeout
	o.TrafficTimeout = DefaultTrafficTimeout
	o.MaxRunTime = RunTimeLimits{InPlace: DefaultMaxRunTimeInPlace, BlueGreen: DefaultMaxRunTimeBlueGreen,
		Lambda: DefaultMaxRunTimeLambda, ECS: DefaultMaxRunTimeECS}
}

// NoTimeLimits is an option for New that turns off every time limit of
// Options: EventTimeout, TrafficTimeout and each field of MaxRunTime are
// set negative, so the executor waits for the Installer and the
// TrafficController as long as they take and lets deployments run for
// ever. A later option may set some limits again (a positive value). It
// does not touch HookTimeout, the bound of Lambda and ECS hooks.
func NoTimeLimits(o *Options) {
	o.EventTimeout = -1
	o.TrafficTimeout = -1
	o.MaxRunTime = RunTimeLimits{InPlace: -1, BlueGreen: -1, Lambda: -1, ECS: -1}
}

// of returns the limit of deployment d (0 or negative: none).
func (l RunTimeLimits) of(d *Deployment) time.Duration {
	switch {
	case d.ComputePlatform == config.Lambda:
		return l.Lambda
	case d.ComputePlatform == config.ECS:
		return l.ECS
	case d.DeploymentStyle.DeploymentType == target.BlueGreen:
		return l.BlueGreen
	}
	return l.InPlace
}

// errRunTimeout is the cancellation cause of the running lifecycle events
// of a deployment that reached its maximum run time. It wraps errAbort:
// the events it cuts off are recorded failed, as with AbortRunningEvents.
var errRunTimeout = fmt.Errorf("deploy: the deployment reached its maximum run time: %w", errAbort)

// errEventTimeout is the cancellation cause of an event call that reached
// its time limit.
var errEventTimeout = errors.New("deploy: the lifecycle event reached its time limit")

// runDeadline returns when the run of d must end (zero: never): its start
// (its creation when it has not started yet) plus its kind's limit.
func (e *Executor) runDeadline(d *Deployment) time.Time {
	limit := e.opts.MaxRunTime.of(d)
	if limit <= 0 {
		return time.Time{}
	}
	start := d.StartTime
	if start.IsZero() {
		start = d.CreateTime
	}
	if start.IsZero() {
		start = e.clk.Now()
	}
	return start.Add(limit)
}

// pastDeadline reports whether the run has reached its maximum run time.
func (r *runner) pastDeadline() bool {
	return !r.deadline.IsZero() && !r.e.clk.Now().Before(r.deadline)
}

// timeOut ends a run that reached its maximum run time: no lifecycle event
// starts any more, the running ones are cancelled (and recorded failed),
// and once nothing is in flight the deployment ends Failed with TIMEOUT.
func (r *runner) timeOut(ctx context.Context) error {
	limit := r.e.opts.MaxRunTime.of(r.d)
	r.stopping.Store(true)
	if r.cancelWork != nil {
		r.cancelWork(errRunTimeout)
	}
	if err := r.wait(ctx, time.Time{}, true); err != nil {
		return r.end(err)
	}
	why := fmt.Sprintf("the deployment ran for its maximum run time of %s (Options.MaxRunTime) without ending", limit)
	r.e.log.Info("deployment timed out", "deployment", r.id, "limit", limit.String())
	r.pmu.Lock()
	progress := r.p.Progress()
	r.pmu.Unlock()
	return r.finishDecided(ctx, Ending{Status: StatusFailed, Time: r.e.clk.Now(), Explanation: why,
		ErrorInformation: ErrorInformation{Code: plan.Timeout, Message: why}}, progress)
}

// eventLimits returns the time limits of a Server deployment's Installer
// events whose scripts spec names: the sum of the scripts' timeouts (each
// DefaultScriptTimeout when the AppSpec gives none, as the agent runs
// them), at most Options.EventTimeout. Without an AppSpec it returns nil
// (every event gets EventTimeout), and with EventTimeout turned off
// (negative) too: events are not bounded. Events whose scripts come from
// the revision installed before (ApplicationStop, BeforeBlockTraffic,
// AfterBlockTraffic), and events without scripts, are not in the map: they
// get Options.EventTimeout.
func (e *Executor) eventLimits(spec *revision.AppSpec) map[target.LifecycleEvent]time.Duration {
	if spec == nil || e.opts.EventTimeout <= 0 {
		return nil
	}
	m := map[target.LifecycleEvent]time.Duration{}
	for _, ev := range target.LifecycleEvent("").Values() {
		switch ev {
		case target.ApplicationStop, target.BeforeBlockTraffic, target.AfterBlockTraffic:
			continue
		}
		scripts := spec.ScriptsFor(string(ev))
		if len(scripts) == 0 {
			continue
		}
		var sum time.Duration
		for _, s := range scripts {
			t := s.Timeout
			if t <= 0 {
				t = revision.DefaultScriptTimeout
			}
			sum += t
		}
		m[ev] = min(sum, e.opts.EventTimeout)
	}
	return m
}

// eventLimit returns the time limit of Server event ev performed by role
// (0: none).
func (r *runner) eventLimit(role target.Role, ev target.LifecycleEvent) time.Duration {
	if role == target.RoleTrafficController {
		return r.e.opts.TrafficTimeout
	}
	if l, ok := r.evLimits[ev]; ok {
		return l
	}
	return r.e.opts.EventTimeout
}

// The time limit of a worker's event calls is enforced without a goroutine
// or a timer per call: the worker makes the call itself, and a run's
// limitWatch — one goroutine and at most one timer on the executor's clock
// for every worker — watches the deadlines of the calls in flight. A call
// that returns in time costs two atomic writes. When a call reaches its
// limit, the watchdog cancels the call's context and hands the worker's
// work to a new goroutine (takeOver), which records the event as timed out
// and goes on with the target and the worker's next items; the worker's
// own goroutine, still in the call, ends when the call returns, touching
// nothing (callBounded). So a call that ignores its context fails its
// target at the limit all the same, and the run never waits for it.

// limitWatch is a run's watchdog of its workers' bounded calls.
type limitWatch struct {
	clk clock.Clock
	// expire is called, on a goroutine of its own, with the slot whose
	// call reached its limit, once the slot is out of the watch.
	expire func(*limitSlot)
	// next is the earliest deadline (UnixNano) the watchdog waits for:
	// math.MaxInt64 when none, 0 while it scans the slots (and before it
	// starts). A worker whose call's deadline is earlier pokes it.
	next    atomic.Int64
	poke    chan struct{} // capacity 1
	quit    chan struct{} // closed by stop
	stopped chan struct{} // closed when the goroutine has stopped its timer and returned
	start   sync.Once
	started atomic.Bool

	mu    sync.Mutex
	slots map[*limitSlot]struct{}
}

// limitSlot is a worker's entry in the watchdog: the deadline of its call
// in flight, and the context its calls get.
type limitSlot struct {
	// deadline is the UnixNano limit of the call in flight; 0 for none, -1
	// once the watchdog found it passed: the slot is then out of the
	// watch for good, and the worker's work went to another goroutine.
	deadline atomic.Int64
	w        *workerState // the worker's state, for takeOver
	ctx      context.Context
	cancel   context.CancelCauseFunc
}

// newLimitWatch returns a watchdog on clk that hands every slot whose call
// reached its limit to expire; its goroutine starts with its first slot.
func newLimitWatch(clk clock.Clock, expire func(*limitSlot)) *limitWatch {
	return &limitWatch{clk: clk, expire: expire, poke: make(chan struct{}, 1), quit: make(chan struct{}),
		stopped: make(chan struct{}), slots: map[*limitSlot]struct{}{}}
}

// add registers a new slot for worker w, whose calls get a context of
// ctx's that the watchdog cancels at a call's limit (and starts the
// watchdog with the first slot).
func (lw *limitWatch) add(ctx context.Context, w *workerState) *limitSlot {
	s := &limitSlot{w: w}
	s.ctx, s.cancel = context.WithCancelCause(ctx)
	lw.mu.Lock()
	lw.slots[s] = struct{}{}
	lw.mu.Unlock()
	lw.start.Do(func() {
		lw.started.Store(true)
		go lw.run()
	})
	return s
}

// remove forgets slot s, whose worker ends.
func (lw *limitWatch) remove(s *limitSlot) {
	lw.mu.Lock()
	delete(lw.slots, s)
	lw.mu.Unlock()
	s.cancel(nil)
}

// stop ends the watchdog's goroutine and waits until it has: a run that
// returned leaves no timer on the clock.
func (lw *limitWatch) stop() {
	close(lw.quit)
	if lw.started.Load() {
		<-lw.stopped
	}
}

// arm sets the deadline of the call slot s is about to make, and wakes the
// watchdog when it waits for a later one (or scans).
func (lw *limitWatch) arm(s *limitSlot, deadline int64) {
	s.deadline.Store(deadline)
	if n := lw.next.Load(); n == 0 || deadline < n {
		select {
		case lw.poke <- struct{}{}:
		default:
		}
	}
}

// disarm clears the deadline of slot s once its call returned. It reports
// false when the watchdog found the deadline passed first: the worker's
// work is another goroutine's now.
func (s *limitSlot) disarm(deadline int64) bool {
	return s.deadline.CompareAndSwap(deadline, 0)
}

// run is the watchdog: it hands every slot whose deadline has passed to
// expire and sleeps on the clock until the earliest deadline left, or a
// poke.
func (lw *limitWatch) run() {
	defer close(lw.stopped)
	var passed []*limitSlot
	for {
		lw.next.Store(0)
		now := lw.clk.Now().UnixNano()
		earliest := int64(math.MaxInt64)
		lw.mu.Lock()
		for s := range lw.slots {
			dl := s.deadline.Load()
			switch {
			case dl <= 0:
			case dl <= now:
				if s.deadline.CompareAndSwap(dl, -1) {
					delete(lw.slots, s)
					passed = append(passed, s)
				}
			default:
				earliest = min(earliest, dl)
			}
		}
		lw.mu.Unlock()
		lw.next.Store(earliest)
		for _, s := range passed {
			s.cancel(errEventTimeout)
			go lw.expire(s)
		}
		clear(passed)
		passed = passed[:0]
		var t clock.Timer
		var fired <-chan time.Time
		if earliest != math.MaxInt64 {
			t = lw.clk.NewTimer(time.Duration(earliest - now))
			fired = t.C()
		}
		select {
		case <-fired:
		case <-lw.poke:
		case <-lw.quit:
			if t != nil {
				t.Stop()
			}
			return
		}
		if t != nil {
			t.Stop()
		}
	}
}

// eventAt is where a worker is in its target's events while it makes a
// call: what takeOver needs to go on from there.
type eventAt struct {
	i       int32      // the target
	phase   plan.Phase // the phase it runs
	k       int        // the event
	start   int64      // when it started (its record's StartTime), UnixNano
	written time.Time  // when its record was last written
	limit   time.Duration
}

// callResult is what a call returned.
type callResult struct {
	res target.EventResult
	err error
}

// callBounded makes the call of event req.Event on role — the Installer's
// RunEvent, whose result it stores in *res, or the TrafficController's
// BlockTraffic or AllowTraffic — in the worker's goroutine, with a context
// of the run's work context that is cancelled once limit has passed since
// the event's start on the executor's clock (0: no limit). When the limit
// passes before the call returns, the watchdog hands the worker's work to
// another goroutine (takeOver), and this goroutine ends when the call
// returns (runtime.Goexit: the runner's WaitGroup does not count it out,
// the goroutine that took its work does), its result dropped. A call that
// returns after the work context is done (a stop with AbortRunningEvents,
// the maximum run time, the end of the run) returns its cause: a call that
// honours its context has ended when the run does, and the run waits for
// one that does not at most until its limit.
func (r *runner) callBounded(w *workerState, limit time.Duration, role target.Role, req *target.EventRequest, res *target.EventResult) error {
	ctx := r.workCtx
	var s *limitSlot
	var deadline int64
	if limit > 0 {
		if s = w.slot; s == nil {
			s = r.watch.add(r.workCtx, w)
			w.slot = s
		}
		w.at.limit = limit
		// The limit counts from the event's start, the last reading of the
		// clock, rather than from a reading of its own (one per event).
		deadline = w.at.start + int64(limit)
		r.watch.arm(s, deadline)
		ctx = s.ctx
	}
	var err error
	switch {
	case role != target.RoleTrafficController:
		*res, err = r.e.platform.Installer.RunEvent(ctx, *req)
	case req.Event == target.BlockTraffic:
		err = r.e.platform.TrafficController.BlockTraffic(ctx, target.TrafficRequest{Target: req.Target, Deployment: req.Deployment})
	default:
		err = r.e.platform.TrafficController.AllowTraffic(ctx, target.TrafficRequest{Target: req.Target, Deployment: req.Deployment})
	}
	if s != nil && !s.disarm(deadline) {
		runtime.Goexit()
	}
	if r.workCtx.Err() != nil {
		return context.Cause(r.workCtx)
	}
	return err
}

// takeOver goes on with the work of the worker whose call reached its
// limit (slot s, out of the watch, its context cancelled): it records the
// event as timed out — or, when the run's work was cancelled meanwhile, as
// cut off — goes on with the target's next events (a failure ApplicationStop
// ignores), and then with the worker's next items, in the worker's place.
func (r *runner) takeOver(s *limitSlot) {
	w := s.w
	w.slot = nil // the next bounded call gets a slot, and a context, of its own
	at := w.at
	seq, _, _ := r.seqs.forPhase(at.phase)
	var res target.EventResult
	var err error
	if cause := context.Cause(r.workCtx); cause != nil {
		err = cause
	} else {
		res = timedOut(seq.roles[at.k], seq.events[at.k], at.limit)
	}
	now, c, done := r.eventEnded(w, res, err, r.e.clk.Now())
	if !done {
		c = r.runEvents(at.i, w, at.phase, at.k+1, now)
	}
	it, ok, another := r.handOver(w, r.putBack(at.i, w, c))
	r.work(w, it, ok, another)
}

// timedOut is the result of event ev performed by role that did not end
// within its limit.
func timedOut(role target.Role, ev target.LifecycleEvent, limit time.Duration) target.EventResult {
	if role == target.RoleTrafficController {
		return target.EventResult{Status: target.EventFailed, ErrorCode: target.CodeUnknownError,
			Message: fmt.Sprintf("%s did not end within %s (Options.TrafficTimeout); the TrafficController's context was cancelled", ev, limit)}
	}
	return target.EventResult{Status: target.EventFailed, ErrorCode: target.CodeScriptTimedOut,
		Message: fmt.Sprintf("%s did not end within its time limit of %s (its scripts' timeouts, at most Options.EventTimeout); the Installer's context was cancelled", ev, limit)}
}

// scalingEventBounded is scalingEvent bounded as a run bounds its events:
// an Installer event by Options.EventTimeout (the AppSpec is not read for a
// scaling event), AllowTraffic and BlockTraffic by Options.TrafficTimeout.
// At the limit the call's context is cancelled and the event fails at once
// (ScriptTimedOut from the Installer), whether or not the call returns.
// Scaling events come one instance at a time, so the call gets a goroutine
// and a timer of its own.
func (e *Executor) scalingEventBounded(ctx context.Context, role target.Role, req *target.EventRequest) (target.EventResult, error) {
	limit, code, what := e.opts.EventTimeout, target.CodeScriptTimedOut, "Options.EventTimeout; the Installer's"
	if role == target.RoleTrafficController {
		limit, code, what = e.opts.TrafficTimeout, target.CodeUnknownError, "Options.TrafficTimeout; the TrafficController's"
	}
	if limit <= 0 {
		return e.scalingEvent(ctx, role, req)
	}
	cctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	timer := e.clk.NewTimer(limit)
	defer timer.Stop()
	done := make(chan callResult, 1)
	call := *req // the call may outlive this function
	go func() {
		res, err := e.scalingEvent(cctx, role, &call)
		done <- callResult{res, err}
	}()
	select {
	case out := <-done:
		return out.res, out.err
	case <-ctx.Done():
		// As in a run: the call has until its limit to return.
		select {
		case <-done:
		case <-timer.C():
		}
		return target.EventResult{}, context.Cause(ctx)
	case <-timer.C():
		cancel(errEventTimeout)
		return target.EventResult{Status: target.EventFailed, ErrorCode: code,
			Message: fmt.Sprintf("%s did not end within %s (%s context was cancelled)", req.Event, limit, what)}, nil
	}
}

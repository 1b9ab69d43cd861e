package deploy

import (
	"context"
	"errors"
	"fmt"
	"math"
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
// or a timer per call: each worker makes its bounded calls through an
// eventCaller, a goroutine of its own that it hands each call to and that
// lives as long as the worker, and a run's limitWatch — one goroutine and
// at most one timer on the executor's clock for every worker — tells a
// worker when its call's limit has passed. A call that returns in time
// costs two goroutine switches and no allocation. A worker whose call
// reached its limit (or whose work was cancelled: a stop with
// AbortRunningEvents, the maximum run time) cancels the call's context and
// leaves its caller goroutine to the call — it ends once the call returns
// — and starts another for its next call.

// limitWatch is a run's watchdog of its workers' bounded calls.
type limitWatch struct {
	clk clock.Clock
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
// in flight.
type limitSlot struct {
	// deadline is the UnixNano limit of the call in flight; 0 for none, -1
	// once the watchdog found it passed (and sent on expired).
	deadline atomic.Int64
	expired  chan struct{} // capacity 1
}

// newLimitWatch returns a watchdog on clk; its goroutine starts with its
// first slot.
func newLimitWatch(clk clock.Clock) *limitWatch {
	return &limitWatch{clk: clk, poke: make(chan struct{}, 1), quit: make(chan struct{}), stopped: make(chan struct{}),
		slots: map[*limitSlot]struct{}{}}
}

// add registers a new slot (and starts the watchdog with the first).
func (w *limitWatch) add() *limitSlot {
	s := &limitSlot{expired: make(chan struct{}, 1)}
	w.mu.Lock()
	w.slots[s] = struct{}{}
	w.mu.Unlock()
	w.start.Do(func() {
		w.started.Store(true)
		go w.run()
	})
	return s
}

// remove forgets slot s.
func (w *limitWatch) remove(s *limitSlot) {
	w.mu.Lock()
	delete(w.slots, s)
	w.mu.Unlock()
}

// stop ends the watchdog's goroutine and waits until it has: a run that
// returned leaves no timer on the clock.
func (w *limitWatch) stop() {
	close(w.quit)
	if w.started.Load() {
		<-w.stopped
	}
}

// arm sets the deadline of the call slot s is about to make, and wakes the
// watchdog when it waits for a later one (or scans).
func (w *limitWatch) arm(s *limitSlot, deadline int64) {
	s.deadline.Store(deadline)
	if n := w.next.Load(); n == 0 || deadline < n {
		select {
		case w.poke <- struct{}{}:
		default:
		}
	}
}

// disarm clears the deadline of slot s once its call returned; when the
// watchdog found it passed meanwhile, it drains its signal (the call's own
// result stands).
func (s *limitSlot) disarm(deadline int64) {
	if !s.deadline.CompareAndSwap(deadline, 0) {
		<-s.expired
		s.deadline.Store(0)
	}
}

// run is the watchdog: it signals every slot whose deadline has passed and
// sleeps on the clock until the earliest deadline left, or a poke.
func (w *limitWatch) run() {
	defer close(w.stopped)
	for {
		w.next.Store(0)
		now := w.clk.Now().UnixNano()
		earliest := int64(math.MaxInt64)
		w.mu.Lock()
		for s := range w.slots {
			dl := s.deadline.Load()
			switch {
			case dl <= 0:
			case dl <= now:
				// The worker drains each signal before its next call, so
				// the send never blocks.
				if s.deadline.CompareAndSwap(dl, -1) {
					s.expired <- struct{}{}
				}
			default:
				earliest = min(earliest, dl)
			}
		}
		w.mu.Unlock()
		w.next.Store(earliest)
		var t clock.Timer
		var fired <-chan time.Time
		if earliest != math.MaxInt64 {
			t = w.clk.NewTimer(time.Duration(earliest - now))
			fired = t.C()
		}
		select {
		case <-fired:
		case <-w.poke:
		case <-w.quit:
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

// eventCaller is a worker's caller goroutine (see limitWatch): nil until
// the worker's first bounded call, and again once a call was left to it.
type eventCaller struct {
	c *callerGoroutine
}

// callerGoroutine is one caller goroutine and what it shares with its
// worker.
type callerGoroutine struct {
	ctx    context.Context // the context of its calls, until cancelled
	cancel context.CancelCauseFunc
	slot   *limitSlot
	// role and req are the call to make, set by the worker before it
	// sends on calls.
	role    target.Role
	req     target.EventRequest
	calls   chan struct{}
	results chan callResult // capacity 1: a call left to it never blocks it
}

// callResult is what a call returned.
type callResult struct {
	res target.EventResult
	err error
}

// stop ends the caller goroutine (the worker ends).
func (c *eventCaller) stop(w *limitWatch) {
	if g := c.c; g != nil {
		c.c = nil
		g.leave(w, nil)
	}
}

// leave ends g once its call (if any) returns, cancelling its context with
// cause.
func (g *callerGoroutine) leave(w *limitWatch, cause error) {
	g.cancel(cause)
	close(g.calls)
	w.remove(g.slot)
}

// serve makes g's calls until its worker leaves it.
func (r *runner) serve(g *callerGoroutine) {
	for range g.calls {
		res, err := r.callRole(g.ctx, g.role, &g.req)
		g.results <- callResult{res, err}
	}
}

// callRole makes the call of Server event req.Event on role.
func (r *runner) callRole(ctx context.Context, role target.Role, req *target.EventRequest) (target.EventResult, error) {
	if role == target.RoleTrafficController {
		tr := target.TrafficRequest{Target: req.Target, Deployment: req.Deployment}
		if req.Event == target.BlockTraffic {
			return target.EventResult{}, r.e.platform.TrafficController.BlockTraffic(ctx, tr)
		}
		return target.EventResult{}, r.e.platform.TrafficController.AllowTraffic(ctx, tr)
	}
	return r.e.platform.Installer.RunEvent(ctx, *req)
}

// callBounded makes the call of event req.Event on role (callRole) and
// returns at limit on the executor's clock whether or not the call has
// returned by then (timedOut), with the call's context cancelled: a call
// that ignores its context goes on in its caller goroutine until it
// returns, and its result is dropped. When ctx is done first (a stop with
// AbortRunningEvents, the deployment's maximum run time, the end of the
// run), it cancels the call's context and returns ctx's cause once the
// call has returned or reached its limit, whichever comes first: a call
// that honours its context has ended when the run does, and the executor
// never waits for one past its limit.
// Without a limit and without a maximum run time it makes the call in the
// worker's goroutine. c is the worker's caller.
func (r *runner) callBounded(ctx context.Context, c *eventCaller, limit time.Duration, role target.Role, req *target.EventRequest) (res target.EventResult, err error, timedOut bool) {
	if limit <= 0 && r.deadline.IsZero() {
		res, err = r.callRole(ctx, role, req)
		return res, err, false
	}
	g := c.c
	if g == nil {
		g = &callerGoroutine{calls: make(chan struct{}), results: make(chan callResult, 1), slot: r.watch.add()}
		g.ctx, g.cancel = context.WithCancelCause(ctx)
		c.c = g
		go r.serve(g)
	}
	var deadline int64
	if limit > 0 {
		deadline = r.e.clk.Now().Add(limit).UnixNano()
		r.watch.arm(g.slot, deadline)
	}
	g.role, g.req = role, *req
	g.calls <- struct{}{}
	select {
	case out := <-g.results:
		if deadline != 0 {
			g.slot.disarm(deadline)
		}
		return out.res, out.err, false
	case <-g.slot.expired:
		c.c = nil
		g.leave(r.watch, errEventTimeout)
		return target.EventResult{}, nil, true
	case <-ctx.Done():
		// Cut off: the call's context is cancelled too, and the call has
		// until its limit to return, so that a call that honours its
		// context has ended when the run does (the next run, or the
		// rollback, may call on the same target).
		cause := context.Cause(ctx)
		g.cancel(cause)
		select {
		case <-g.results:
			if deadline != 0 {
				g.slot.disarm(deadline)
			}
		case <-g.slot.expired:
		}
		c.c = nil
		g.leave(r.watch, cause)
		return target.EventResult{}, cause, false
	}
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

package deploy

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/fleetdeploy/fleetdeploy/config"
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
// their start until they end; a deployment still running at its limit ends
// Failed with TIMEOUT (and rolls back when its group rolls back on
// DEPLOYMENT_FAILURE). A field left 0 sets no limit for its kind;
// CodeDeployLimits sets CodeDeploy's (DefaultMaxRunTimeInPlace, ...).
type RunTimeLimits struct {
	// InPlace bounds EC2/On-Premises in-place deployments.
	InPlace time.Duration
	// BlueGreen bounds EC2/On-Premises blue/green deployments.
	BlueGreen time.Duration
	// Lambda bounds AWS Lambda deployments.
	Lambda time.Duration
	// ECS bounds Amazon ECS deployments.
	ECS time.Duration
}

// validate adds a problem for every negative field.
func (l RunTimeLimits) validate(add func(err error, field, format string, args ...any)) {
	for _, f := range []struct {
		name string
		d    time.Duration
	}{{"InPlace", l.InPlace}, {"BlueGreen", l.BlueGreen}, {"Lambda", l.Lambda}, {"ECS", l.ECS}} {
		if f.d < 0 {
			add(nil, "Options.MaxRunTime."+f.name, "must not be negative (0 sets no limit); got %s", f.d)
		}
	}
}

// CodeDeployLimits is an option for New that sets every time limit of
// Options to CodeDeploy's: EventTimeout and TrafficTimeout an hour, and
// MaxRunTime the run-time limits of each kind of deployment (see the
// Default* constants and the package documentation, "Time limits").
func CodeDeployLimits(o *Options) {
	o.EventTimeout = DefaultEventTimeout
	o.TrafficTimeout = DefaultTrafficTimeout
	o.MaxRunTime = RunTimeLimits{InPlace: DefaultMaxRunTimeInPlace, BlueGreen: DefaultMaxRunTimeBlueGreen,
		Lambda: DefaultMaxRunTimeLambda, ECS: DefaultMaxRunTimeECS}
}

// of returns the limit of deployment d (0: none).
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
// them), at most Options.EventTimeout. Without an EventTimeout (or an
// AppSpec) it returns nil: events are not bounded. Events whose scripts come from the
// revision installed before (ApplicationStop, BeforeBlockTraffic,
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

// bounded reports whether an event with time limit limit (0: none) must be
// made through callBounded: it has a limit, or the deployment has a
// maximum run time.
func (r *runner) bounded(limit time.Duration) bool {
	return limit > 0 || !r.deadline.IsZero()
}

// callBounded makes call with a context that is cancelled once limit has
// passed on the executor's clock, and returns at the limit whether or not
// call has returned by then (timedOut): a call that ignores its context
// goes on in its own goroutine until it returns, and its result is
// dropped. When ctx is done first (a stop with AbortRunningEvents, the
// deployment's maximum run time), it returns ctx's cause at once, so that
// the executor never waits for a call past those. Without a limit and
// without a maximum run time it makes the call in the caller's goroutine.
func (r *runner) callBounded(ctx context.Context, limit time.Duration, call func(context.Context) (target.EventResult, error)) (res target.EventResult, err error, timedOut bool) {
	if !r.bounded(limit) {
		res, err = call(ctx)
		return res, err, false
	}
	cctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	type result struct {
		res target.EventResult
		err error
	}
	done := make(chan result, 1)
	var fired <-chan time.Time // nil without a limit: the deployment's deadline only (ctx)
	if limit > 0 {
		timer := r.e.clk.NewTimer(limit)
		defer timer.Stop()
		fired = timer.C()
	}
	go func() {
		res, err := call(cctx)
		done <- result{res, err}
	}()
	select {
	case out := <-done:
		return out.res, out.err, false
	case <-fired:
		cancel(errEventTimeout)
		return target.EventResult{}, nil, true
	case <-ctx.Done():
		return target.EventResult{}, context.Cause(ctx), false
	}
}

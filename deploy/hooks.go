package deploy

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/fleetdeploy/fleetdeploy/config"
	"github.com/fleetdeploy/fleetdeploy/target"
)

// Errors of PutLifecycleEventHookExecutionStatus, each standing for the
// CodeDeploy exception named with it (API Reference,
// "PutLifecycleEventHookExecutionStatus", Errors). An unknown deployment
// is ErrNotFound (DeploymentDoesNotExistException).
var (
	// ErrDeploymentIDRequired: no deployment ID was given
	// (DeploymentIdRequiredException).
	ErrDeploymentIDRequired = errors.New("deploy: a deployment ID is required")

	// ErrHookExecutionNotFound: the deployment has no hook execution with
	// that ID — the ID is empty, misspelt, or of a hook that has not
	// started (InvalidLifecycleEventHookExecutionIdException).
	ErrHookExecutionNotFound = errors.New("deploy: no such lifecycle event hook execution")

	// ErrInvalidHookStatus: the status reported is neither Succeeded nor
	// Failed (InvalidLifecycleEventHookExecutionStatusException).
	ErrInvalidHookStatus = errors.New("deploy: invalid lifecycle event hook execution status; report Succeeded or Failed")

	// ErrLifecycleEventAlreadyCompleted: the hook execution has its status
	// already — it was reported before, or the hook ended without a report
	// (it timed out, the deployment stopped) — and a second report is
	// refused (LifecycleEventAlreadyCompletedException).
	ErrLifecycleEventAlreadyCompleted = errors.New("deploy: lifecycle event already completed")

	// ErrUnsupportedDeploymentType: the action does not apply to the
	// deployment's compute platform: hook functions report back only in
	// Lambda and ECS deployments
	// (UnsupportedActionForDeploymentTypeException).
	ErrUnsupportedDeploymentType = errors.New("deploy: action not supported for the deployment's compute platform")
)

// HookExecution is one execution of a Lambda or ECS hook function, kept
// with its deployment (Deployment.HookExecutions) so that its status
// report reaches the executor running the deployment wherever that is, and
// survives a crash of it.
//
// The executor adds it, InProgress, before it invokes the function. It
// then ends in one of two ways, whichever is stored first (each a
// compare-and-swap on the deployment): the function reports Succeeded or
// Failed through PutLifecycleEventHookExecutionStatus (Reported is set),
// or the executor records the hook's end without a report — the
// HookInvoker returned its own result, the hook timed out, the deployment
// was stopped with AbortRunningEvents. A stored report is the hook's
// outcome: it wins over a timeout that ends at the same moment.
type HookExecution struct {
	// ID is the LifecycleEventHookExecutionId the function was given.
	ID string `json:"lifecycleEventHookExecutionId"`
	// Event is the lifecycle event the hook runs for.
	Event target.LifecycleEvent `json:"lifecycleEventName"`
	// FunctionName is the hook function the AppSpec names for Event.
	FunctionName string `json:"functionName,omitempty"`
	// Status is InProgress until the execution ends, then Succeeded or
	// Failed.
	Status target.LifecycleEventStatus `json:"status"`
	// Reported says Status is the function's own report.
	Reported bool `json:"reported,omitempty"`
	// StartTime is when the executor started the execution; EndTime when
	// it ended (the report's time, on the clock of the Executor that took
	// it).
	StartTime time.Time `json:"startTime,omitzero"`
	EndTime   time.Time `json:"endTime,omitzero"`
}

// hookExecution returns the deployment's execution id, or nil.
func (d *Deployment) hookExecution(id string) *HookExecution {
	for i := range d.HookExecutions {
		if d.HookExecutions[i].ID == id {
			return &d.HookExecutions[i]
		}
	}
	return nil
}

// PutLifecycleEventHookExecutionStatus records the status a Lambda or ECS
// hook function reports for its execution (CodeDeploy's
// PutLifecycleEventHookExecutionStatus): status is target.EventSucceeded
// or target.EventFailed. The hook's lifecycle event ends with it.
//
// Like Stop and Continue it is a request stored with the deployment, which
// any Executor sharing the store may take — the one running the deployment
// or another, an API front end such as package codedeployapi's handler:
// the waiting hook sees it at once when the deployment runs in this
// Executor, within Options.PollInterval otherwise, and after Resume when
// no executor runs the deployment now. It takes no lease.
//
// Errors are *DeploymentError values wrapping ErrDeploymentIDRequired,
// ErrInvalidHookStatus, ErrNotFound (no such deployment),
// ErrUnsupportedDeploymentType (a Server deployment),
// ErrHookExecutionNotFound, ErrLifecycleEventAlreadyCompleted (a second
// report, or one after the hook ended), or a store error.
func (e *Executor) PutLifecycleEventHookExecutionStatus(ctx context.Context, deploymentID, hookExecutionID string, status target.LifecycleEventStatus) error {
	fail := func(err error) error {
		return &DeploymentError{DeploymentID: deploymentID, Op: fmt.Sprintf("reporting status %q for hook execution %q", status, hookExecutionID), Err: err}
	}
	switch {
	case deploymentID == "":
		return fail(fmt.Errorf("%w: deploymentId is empty", ErrDeploymentIDRequired))
	case hookExecutionID == "":
		return fail(fmt.Errorf("%w: lifecycleEventHookExecutionId is empty; pass the one the hook function was invoked with", ErrHookExecutionNotFound))
	case status != target.EventSucceeded && status != target.EventFailed:
		return fail(fmt.Errorf("%w: got %q", ErrInvalidHookStatus, status))
	}
	for attempt := 0; ; attempt++ {
		d, err := e.store.GetDeployment(ctx, deploymentID)
		if err != nil {
			return fail(err)
		}
		if d.ComputePlatform != config.Lambda && d.ComputePlatform != config.ECS {
			return fail(fmt.Errorf("%w: deployment %s is a %s deployment; only Lambda and ECS hook functions report their status",
				ErrUnsupportedDeploymentType, deploymentID, orServer(d.ComputePlatform)))
		}
		x := d.hookExecution(hookExecutionID)
		switch {
		case x == nil:
			return fail(fmt.Errorf("%w: deployment %s has no hook execution %q (it has %d); pass the lifecycleEventHookExecutionId the hook function was invoked with",
				ErrHookExecutionNotFound, deploymentID, hookExecutionID, len(d.HookExecutions)))
		case x.Reported:
			return fail(fmt.Errorf("%w: hook %s of deployment %s reported %s already", ErrLifecycleEventAlreadyCompleted, x.Event, deploymentID, x.Status))
		case x.Status != target.EventInProgress:
			return fail(fmt.Errorf("%w: hook %s of deployment %s ended %s without a report", ErrLifecycleEventAlreadyCompleted, x.Event, deploymentID, x.Status))
		case d.Status.Final():
			return fail(fmt.Errorf("%w: deployment %s is %s", ErrLifecycleEventAlreadyCompleted, deploymentID, d.Status))
		}
		x.Status, x.Reported, x.EndTime = status, true, e.clk.Now()
		err = e.store.UpdateDeployment(ctx, d)
		if errors.Is(err, ErrConflict) && attempt < maxConflicts {
			continue
		}
		if err != nil {
			return fail(err)
		}
		e.log.Info("hook status reported", "deployment", deploymentID, "event", string(x.Event), "execution", hookExecutionID, "status", string(status))
		e.hooks.wake(deploymentID, hookExecutionID)
		return nil
	}
}

// orServer names an empty compute platform as the Server platform it
// stands for.
func orServer(p config.ComputePlatform) config.ComputePlatform {
	if p == "" {
		return config.Server
	}
	return p
}

// hookWaiters wakes the hook executions waiting in this Executor for a
// report taken by it. Its zero value is ready to use.
type hookWaiters struct {
	mu sync.Mutex
	// waiting holds, by deployment and execution ID, one channel per
	// waiting Await, closed by wake.
	waiting map[[2]string]map[chan struct{}]struct{}
}

// add returns a channel closed at the next wake of the execution; done
// forgets it.
func (w *hookWaiters) add(deploymentID, id string) (ch chan struct{}, done func()) {
	key := [2]string{deploymentID, id}
	ch = make(chan struct{})
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.waiting == nil {
		w.waiting = map[[2]string]map[chan struct{}]struct{}{}
	}
	if w.waiting[key] == nil {
		w.waiting[key] = map[chan struct{}]struct{}{}
	}
	w.waiting[key][ch] = struct{}{}
	return ch, func() {
		w.mu.Lock()
		defer w.mu.Unlock()
		if set := w.waiting[key]; set != nil {
			delete(set, ch)
			if len(set) == 0 {
				delete(w.waiting, key)
			}
		}
	}
}

// wake closes the channels of the execution's waiters.
func (w *hookWaiters) wake(deploymentID, id string) {
	key := [2]string{deploymentID, id}
	w.mu.Lock()
	defer w.mu.Unlock()
	for ch := range w.waiting[key] {
		close(ch)
	}
	delete(w.waiting, key)
}

// storedReports is the HookReports the executor gives a HookInvoker: the
// execution's record in the store, read at once, again when a report is
// taken by this Executor, and every Options.PollInterval for reports
// taken elsewhere.
type storedReports struct {
	e                *Executor
	deploymentID, id string
}

var _ target.HookReports = (*storedReports)(nil)

// Await implements target.HookReports. It returns an error wrapping
// ErrLifecycleEventAlreadyCompleted when the execution ended without a
// report, ErrHookExecutionNotFound when it is not stored, and a store
// error when the deployment cannot be read (ErrNotFound: it was deleted);
// other store errors are logged and the read is tried again at the next
// poll.
func (s *storedReports) Await(ctx context.Context) (target.LifecycleEventStatus, error) {
	for {
		ch, done := s.e.hooks.add(s.deploymentID, s.id)
		st, ended, err := s.read(ctx)
		if ended || err != nil {
			done()
			return st, err
		}
		timer := s.e.clk.NewTimer(s.e.opts.PollInterval)
		select {
		case <-ch:
		case <-timer.C():
		case <-ctx.Done():
		}
		timer.Stop()
		done()
	}
}

// read reads the execution's status once: ended is true with its reported
// status or an error that ends the wait.
func (s *storedReports) read(ctx context.Context) (st target.LifecycleEventStatus, ended bool, err error) {
	if err := ctx.Err(); err != nil {
		return "", true, err
	}
	d, err := s.e.store.GetDeployment(ctx, s.deploymentID)
	switch {
	case err != nil && ctx.Err() != nil:
		return "", true, ctx.Err()
	case errors.Is(err, ErrNotFound):
		return "", true, &DeploymentError{DeploymentID: s.deploymentID, Op: "waiting for the report of hook execution " + s.id, Err: err}
	case err != nil:
		s.e.log.Warn("cannot read a hook's report; trying again at the next poll", "deployment", s.deploymentID, "execution", s.id, "error", err.Error())
		return "", false, nil
	}
	x := d.hookExecution(s.id)
	switch {
	case x == nil:
		return "", true, &DeploymentError{DeploymentID: s.deploymentID, Op: "waiting for a hook's report",
			Err: fmt.Errorf("%w: %q is not stored", ErrHookExecutionNotFound, s.id)}
	case x.Reported:
		return x.Status, true, nil
	case x.Status != target.EventInProgress:
		return "", true, &DeploymentError{DeploymentID: s.deploymentID, Op: "waiting for a hook's report",
			Err: fmt.Errorf("%w: hook execution %s ended %s without a report", ErrLifecycleEventAlreadyCompleted, s.id, x.Status)}
	}
	return "", false, nil
}

// hookExecutionID returns the LifecycleEventHookExecutionId of the
// deployment's hook for event ev: unique per deployment and event, the
// same after a crash.
func (r *runner) hookExecutionID(ev target.LifecycleEvent) string { return r.id + "-" + string(ev) }

// openHook stores the execution of hook function fn for event ev
// InProgress, before the function is invoked. When the execution is stored
// ended already — reported, or ended by an executor that crashed before it
// stored the event's end — it returns that end (done true) and the hook is
// not invoked again. A stored InProgress execution (invoked before a
// crash) is invoked again.
func (r *runner) openHook(ctx context.Context, ev target.LifecycleEvent, fn string) (res target.EventResult, done bool, err error) {
	id := r.hookExecutionID(ev)
	for attempt := 0; ; attempt++ {
		d, err := r.e.store.GetDeployment(ctx, r.id)
		if err != nil {
			return res, false, err
		}
		if x := d.hookExecution(id); x != nil {
			if x.Status == target.EventInProgress {
				return res, false, nil
			}
			return endedHook(x), true, nil
		}
		d.HookExecutions = append(d.HookExecutions, HookExecution{ID: id, Event: ev, FunctionName: fn,
			Status: target.EventInProgress, StartTime: r.e.clk.Now()})
		err = r.store.UpdateDeployment(ctx, d)
		if errors.Is(err, ErrConflict) && attempt < maxConflicts {
			continue
		}
		return res, false, err
	}
}

// closeHook stores the end of the hook execution for event ev with res,
// the HookInvoker's result, unless a report is stored already: then the
// report is the outcome, returned instead of res.
func (r *runner) closeHook(ctx context.Context, ev target.LifecycleEvent, res target.EventResult) (target.EventResult, error) {
	id := r.hookExecutionID(ev)
	for attempt := 0; ; attempt++ {
		d, err := r.e.store.GetDeployment(ctx, r.id)
		if err != nil {
			return res, err
		}
		x := d.hookExecution(id)
		switch {
		case x == nil:
			return res, fmt.Errorf("%w: hook execution %s is no longer stored", ErrHookExecutionNotFound, id)
		case x.Reported:
			if x.Status == res.Status {
				return res, nil // the HookInvoker returned the report, with its message
			}
			return endedHook(x), nil
		case x.Status != target.EventInProgress:
			return res, nil // ended by an earlier run
		}
		x.Status, x.EndTime = res.Status, r.e.clk.Now()
		err = r.store.UpdateDeployment(ctx, d)
		if errors.Is(err, ErrConflict) && attempt < maxConflicts {
			continue
		}
		return res, err
	}
}

// endedHook is the result of a hook execution that ended.
func endedHook(x *HookExecution) target.EventResult {
	res := target.EventResult{Status: x.Status}
	switch {
	case x.Reported && x.Status == target.EventFailed:
		res.ErrorCode = target.CodeScriptFailed
		res.Message = fmt.Sprintf("hook function %s reported Failed", x.FunctionName)
	case x.Reported:
		res.Message = fmt.Sprintf("hook function %s reported Succeeded", x.FunctionName)
	case x.Status == target.EventFailed:
		res.ErrorCode = target.CodeUnknownError
		res.Message = fmt.Sprintf("hook function %s ended without a report", x.FunctionName)
	}
	return res
}

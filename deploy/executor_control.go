package deploy

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/fleetdeploy/fleetdeploy/deploy/plan"
	"github.com/fleetdeploy/fleetdeploy/target"
)

// StopOptions are the options of Stop (CodeDeploy's StopDeployment).
type StopOptions struct {
	// AutoRollback asks for a rollback once the deployment is stopped
	// (autoRollbackEnabled). Nil means the deployment's automatic rollback
	// configuration decides (DEPLOYMENT_STOP_ON_REQUEST).
	AutoRollback *bool
	// AbortRunningEvents cancels the lifecycle events running now, which are
	// recorded Failed (hook processes are killed by the Installer when its
	// ctx is cancelled). Without it they finish first.
	AbortRunningEvents bool
}

// Stop asks a deployment to stop (CodeDeploy's StopDeployment; User Guide,
// "Stop a deployment with CodeDeploy"): no lifecycle event,
// step or traffic shift starts after it; events already running finish, or
// are cancelled and recorded Failed with AbortRunningEvents; then the
// deployment is Stopped (MANUAL_STOP), attempted targets get health by
// their own result, untouched ones keep theirs, the group's revision is
// unchanged ("CodeDeploy instance health"), and, if asked, a rollback
// follows. That running events may finish, or be aborted on request, is
// fleetdeploy's decision (see package fleetdeploy, "Where fleetdeploy
// decides"): AWS does not say whether a stop kills running scripts.
//
// The request is stored with the deployment, so it reaches the executor
// running it wherever that is: at once when it runs in this Executor,
// within Options.PollInterval otherwise. Stop returns StopPending while
// the deployment is not yet Stopped, and StopSucceeded once it is — call it
// again, or read the deployment, to learn when. A deployment that is
// Created and not running anywhere is stopped before Stop returns, with
// StopSucceeded; so is a Queued one, which then never runs. A second Stop keeps the first one's rollback choice and
// can only add AbortRunningEvents.
//
// It returns ErrDeploymentCompleted for a deployment that finished
// otherwise (Succeeded, Failed, or Stopped without a request), and
// ErrNotFound for an unknown ID.
func (e *Executor) Stop(ctx context.Context, id string, o StopOptions) (StopStatus, error) {
	for attempt := 0; ; attempt++ {
		d, err := e.store.GetDeployment(ctx, id)
		if err != nil {
			return "", &DeploymentError{DeploymentID: id, Op: "stopping", Err: err}
		}
		if d.Status.Final() {
			if d.Status == StatusStopped && d.StopRequest != nil {
				return StopSucceeded, nil
			}
			return "", &DeploymentError{DeploymentID: id, Op: "stopping",
				Err: fmt.Errorf("%w: it is %s", ErrDeploymentCompleted, d.Status)}
		}
		if d.Status == StatusQueued {
			err := e.stopQueued(ctx, d)
			if errors.Is(err, ErrConflict) && attempt < maxConflicts {
				continue
			}
			if err != nil {
				return "", &DeploymentError{DeploymentID: id, Op: "stopping it while queued", Err: err}
			}
			return StopSucceeded, nil
		}
		if d.StopRequest != nil && (d.StopRequest.AbortRunningEvents || !o.AbortRunningEvents) {
			e.pokeStop(id, d.StopRequest.AbortRunningEvents)
			return StopPending, nil
		}
		if d.StopRequest == nil {
			rollback := false
			if o.AutoRollback != nil {
				rollback = *o.AutoRollback
			} else {
				g, err := e.store.GetGroup(ctx, d.ApplicationName, d.GroupName)
				if err != nil && !errors.Is(err, ErrNotFound) {
					return "", &DeploymentError{DeploymentID: id, Op: "stopping: reading its group", Err: err}
				}
				if g != nil && g.ID != d.GroupID {
					g = nil
				}
				rollback = d.autoRollback(g).RollsBackOn(AutoRollbackDeploymentStopOnRequest)
			}
			d.StopRequest = &StopRequest{Requested: e.clk.Now(), AutoRollback: rollback, Message: "stopped on request"}
		}
		d.StopRequest.AbortRunningEvents = d.StopRequest.AbortRunningEvents || o.AbortRunningEvents
		err = e.store.UpdateDeployment(ctx, d)
		if errors.Is(err, ErrConflict) && attempt < maxConflicts {
			continue
		}
		if err != nil {
			return "", &DeploymentError{DeploymentID: id, Op: "storing the stop request", Err: err}
		}
		e.log.Info("stop requested", "deployment", id, "autoRollback", d.StopRequest.AutoRollback, "abort", d.StopRequest.AbortRunningEvents)
		if d.Status == StatusCreated {
			return e.stopCreated(ctx, d)
		}
		e.pokeStop(id, d.StopRequest.AbortRunningEvents)
		return StopPending, nil
	}
}

// stopCreated stops a deployment that has not started: it runs it, and the
// run stops at once.
func (e *Executor) stopCreated(ctx context.Context, d *Deployment) (StopStatus, error) {
	got, l, err := e.start(ctx, d.ID)
	if err == nil {
		if got.Status == StatusCreated {
			got, err = e.runLeased(ctx, got, l)
		} else {
			e.finish(ctx, l) // started meanwhile, by another executor
		}
	}
	switch {
	case errors.Is(err, ErrAlreadyRunning), errors.Is(err, ErrConflict), errors.Is(err, ErrLeaseHeld), errors.Is(err, ErrAlreadyStarted):
		e.poke(d.ID) // someone else runs it; they will see the request
		return StopPending, nil
	case err != nil:
		return "", err
	case got.Status == StatusStopped:
		return StopSucceeded, nil
	}
	return StopPending, nil
}

// Continue ends a wait (CodeDeploy's ContinueDeployment, API Reference):
// READY_WAIT starts rerouting traffic to a blue/green replacement that is
// Ready; TERMINATION_WAIT ends the wait before the originals are
// terminated. Like Stop, it stores the request with the deployment, for
// the executor running it wherever that is.
//
// It returns ErrNotWaiting (matching plan.ErrNotWaiting) when the
// deployment is not in that wait, ErrInvalidInput for an unknown wait
// type, and ErrNotFound for an unknown ID.
func (e *Executor) Continue(ctx context.Context, id string, w DeploymentWaitType) error {
	if w != ReadyWait && w != TerminationWait {
		return &DeploymentError{DeploymentID: id, Op: "continuing",
			Err: fmt.Errorf("%w: deploymentWaitType must be one of %v; got %q", ErrInvalidInput, w.Values(), w)}
	}
	for attempt := 0; ; attempt++ {
		d, err := e.store.GetDeployment(ctx, id)
		if err != nil {
			return &DeploymentError{DeploymentID: id, Op: "continuing", Err: err}
		}
		phase := d.Progress.Plan.Phase
		switch {
		case w == ReadyWait && d.Status == StatusReady && phase == plan.PhaseReadyWait:
			if d.Progress.ReadyWaitContinued {
				return nil
			}
			d.Progress.ReadyWaitContinued = true
		case w == TerminationWait && !d.Status.Final() && phase == plan.PhaseTerminationWait:
			if d.Progress.TerminationWaitContinued {
				return nil
			}
			d.Progress.TerminationWaitContinued = true
		default:
			return &DeploymentError{DeploymentID: id, Op: "continuing",
				Err: fmt.Errorf("%w (%w): status %s, phase %q; %s", ErrNotWaiting, plan.ErrNotWaiting, d.Status, phase, w)}
		}
		err = e.store.UpdateDeployment(ctx, d)
		if errors.Is(err, ErrConflict) && attempt < maxConflicts {
			continue
		}
		if err != nil {
			return &DeploymentError{DeploymentID: id, Op: "storing the continue request", Err: err}
		}
		e.log.Info("continue requested", "deployment", id, "wait", string(w))
		e.poke(id)
		return nil
	}
}

// pollsAlarms reports whether the deployment has alarms to poll (never a
// rollback: see load).
func (r *runner) pollsAlarms() bool {
	return r.alarms.Enabled && len(r.alarms.Alarms) > 0 && r.e.opts.AlarmSource != nil
}

// pollAlarms reads the deployment's alarms (API Reference,
// AlarmConfiguration): one in ALARM stops the deployment with ALARM_ACTIVE;
// alarms that cannot be read stop it too unless ignorePollAlarmFailure is
// set.
func (r *runner) pollAlarms(ctx context.Context) error {
	a := r.alarms
	src := r.e.opts.AlarmSource
	if !r.pollsAlarms() || r.d.StopRequest != nil {
		return nil
	}
	names := make([]string, len(a.Alarms))
	for i, al := range a.Alarms {
		names[i] = al.Name
	}
	states, err := src.AlarmStates(ctx, names)
	if err == nil && len(states) != len(names) {
		err = fmt.Errorf("the AlarmSource returned %d states for %d alarms", len(states), len(names))
	}
	var req *StopRequest
	switch {
	case err != nil && ctx.Err() != nil:
		return ctx.Err()
	case err != nil && a.IgnorePollAlarmFailure:
		r.e.log.Warn("cannot read alarms; ignored (ignorePollAlarmFailure)", "deployment", r.id, "error", err.Error())
		return nil
	case err != nil:
		req = &StopRequest{Alarm: strings.Join(names, ","), Message: "the alarms' states could not be read (ignorePollAlarmFailure is false): " + err.Error()}
	default:
		for i, s := range states {
			if s == target.AlarmAlarm {
				req = &StopRequest{Alarm: names[i], Message: fmt.Sprintf("alarm %q is in state ALARM", names[i])}
				break
			}
		}
	}
	if req == nil {
		return nil
	}
	req.Requested = r.e.clk.Now()
	req.AutoRollback = r.d.autoRollback(r.group).RollsBackOn(AutoRollbackDeploymentStopOnAlarm)
	if err := r.save(ctx, func(d *Deployment) {
		if d.StopRequest == nil {
			d.StopRequest = req
		}
	}); err != nil {
		return r.storeErr("storing the alarm's stop request", err)
	}
	r.e.log.Warn("deployment stopped by an alarm", "deployment", r.id, "alarm", req.Alarm, "message", req.Message)
	return nil
}

// StepResult is what Step did.
type StepResult struct {
	// Deployment is the deployment as stored after the step.
	Deployment *Deployment
	// Started is the number of targets the step ran (including targets
	// found in progress and run again).
	Started int
	// Step is the deployment-wide step performed (a hook, a traffic shift,
	// the removal of the originals), nil if none.
	Step *plan.Step
	// WaitUntil, when not zero, is when to call Step again if nothing else
	// happens first (Continue, Stop). When zero and Done is false, call
	// Step again at once.
	WaitUntil time.Time
	// Done is true once the deployment is final. Its rollback or
	// auto-update deployment, if any, has been created (not run): Step or
	// Run it by the ID in Deployment.RollbackInfo or RelatedDeployments.
	Done bool
}

// Step performs one round of a deployment, for callers that drive their
// own loop (a scheduler, a workflow engine, a test): it loads the state
// from the store, passes on stop and continue requests, asks the planner
// for one decision, runs the work it hands out (and any work found in
// progress) to completion, records everything, and returns. Nothing runs
// after Step returns; all state is in the store, so successive calls may
// come from different processes.
//
// A round runs targets in lock step: the next decision (and so the next
// targets) waits for the next call, whereas Run starts a target as soon as
// another finishes. Step never waits for time to pass: when the planner
// waits (a monitor, ready or termination wait, the next traffic shift)
// Step returns at once with WaitUntil set. Each round reads the
// deployment's alarms first; with alarms to poll, WaitUntil is at most
// Options.PollInterval away, so that an alarm is noticed during a wait; and
// it is never past the deployment's maximum run time (Options.MaxRunTime):
// the first round at or past it ends the deployment with TIMEOUT, as Run
// does. When the deployment ends, Step finishes it as Run does and creates
// its rollback or auto-update deployment without running it.
func (e *Executor) Step(ctx context.Context, id string) (StepResult, error) {
	d, err := e.store.GetDeployment(ctx, id)
	if err != nil {
		return StepResult{}, &DeploymentError{DeploymentID: id, Op: "reading it", Err: err}
	}
	if !d.Status.Final() {
		fresh, l, err := e.start(ctx, id)
		if err != nil {
			return StepResult{Deployment: d}, err
		}
		d = fresh
		if !d.Status.Final() {
			return e.stepLeased(ctx, d, l)
		}
		e.finish(ctx, l)
	}
	d, err = e.createFollowUps(ctx, d)
	return StepResult{Deployment: d, Done: true}, err
}

// stepLeased performs one round of Step on d under lease l, which it
// releases.
func (e *Executor) stepLeased(ctx context.Context, d *Deployment, l Lease) (StepResult, error) {
	r, err := e.load(ctx, d, l)
	if err != nil {
		e.finish(ctx, l)
		return StepResult{Deployment: d}, err
	}
	res, err := r.step(ctx)
	e.finish(ctx, l)
	if err != nil || !res.Done {
		return res, err
	}
	res.Deployment, err = e.createFollowUps(ctx, res.Deployment)
	return res, err
}

// step is one round of Step.
func (r *runner) step(ctx context.Context) (StepResult, error) {
	r.stepMode = true
	r.prepare(ctx)
	defer r.stopWork()
	r.e.attach(r)
	if done, err := r.begin(ctx); done || err != nil {
		return StepResult{Deployment: r.d, Done: err == nil}, err
	}
	res := StepResult{Started: len(r.resumed)}
	r.restart()
	// Each round reads the alarms: Step never waits, so the poll of Run's
	// loop would never come.
	if err := r.pollAlarms(ctx); err != nil {
		return StepResult{Deployment: r.d}, r.end(err)
	}
	if r.pastDeadline() {
		if err := r.timeOut(ctx); err != nil {
			return StepResult{Deployment: r.d}, err
		}
		return StepResult{Deployment: r.d.clonePtr(), Done: true}, nil
	}
	dec, err := r.decide(ctx, true)
	if err != nil {
		return StepResult{Deployment: r.d}, r.end(err)
	}
	res.Started += r.started
	if dec.Step != nil {
		s := *dec.Step
		res.Step = &s
	}
	if !dec.Done {
		if err := r.wait(ctx, time.Time{}, true); err != nil {
			return StepResult{Deployment: r.d}, r.end(err)
		}
		// The reports changed the planner's state (a step done, a traffic
		// shift counted): store it, for the next round starts from it.
		if pr := r.p.Progress(); pr != r.saved {
			if err := r.save(ctx, func(d *Deployment) { d.Progress.Plan = pr }); err != nil {
				return StepResult{Deployment: r.d}, r.end(r.storeErr("saving its progress", err))
			}
			r.saved = pr
		}
		if dec, err = r.decide(ctx, false); err != nil {
			return StepResult{Deployment: r.d}, r.end(err)
		}
		res.WaitUntil = dec.WaitUntil
		if next := r.e.clk.Now().Add(r.e.opts.PollInterval); r.pollsAlarms() && next.Before(res.WaitUntil) {
			res.WaitUntil = next // the alarms are read during waits too
		}
		if !res.WaitUntil.IsZero() && !r.deadline.IsZero() && r.deadline.Before(res.WaitUntil) {
			res.WaitUntil = r.deadline // the round that ends it at its maximum run time
		}
	}
	if dec.Done {
		if err := r.finish(ctx, dec); err != nil {
			return StepResult{Deployment: r.d}, err
		}
		res.Done, res.WaitUntil = true, time.Time{}
	}
	res.Deployment = r.d.clonePtr()
	return res, nil
}

// clonePtr returns a deep copy of d.
func (d *Deployment) clonePtr() *Deployment {
	c := d.Clone()
	return &c
}

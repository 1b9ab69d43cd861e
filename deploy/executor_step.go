package deploy

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/fleetdeploy/fleetdeploy/config"
	"github.com/fleetdeploy/fleetdeploy/deploy/plan"
	"github.com/fleetdeploy/fleetdeploy/health"
	"github.com/fleetdeploy/fleetdeploy/internal/errmsg"
	"github.com/fleetdeploy/fleetdeploy/revision"
	"github.com/fleetdeploy/fleetdeploy/target"
)

// serviceData is what the steps of a Lambda or ECS deployment work with:
// the AppSpec's resource and hook functions, the traffic routes, and the
// two versions traffic moves between.
type serviceData struct {
	spec  *revision.AppSpec
	route target.TrafficRoute
	// test is the ECS test listener's route; nil without one.
	test *target.TrafficRoute
	// original and replacement are the versions traffic moves between:
	// Lambda function versions, ECS task set IDs (the replacement is known
	// once Install ran).
	original, replacement string
	// originalTarget is the ECS service's original task set, which
	// TerminateOriginals removes.
	originalTarget target.Target
}

// readAppSpec opens d's revision through the Source and parses its AppSpec
// for d's platform.
func (e *Executor) readAppSpec(ctx context.Context, loc revision.Location, p config.ComputePlatform) (*revision.AppSpec, error) {
	if e.opts.Source == nil {
		return nil, ErrMissingSource
	}
	b, err := e.opts.Source.Open(ctx, loc)
	if err != nil {
		return nil, err
	}
	defer b.Close()
	name, content, err := revision.ReadAppSpec(ctx, b)
	if err != nil {
		return nil, err
	}
	return revision.ParseAppSpecFile(name, content, p)
}

// serviceTarget returns the one target of a Lambda or ECS deployment: the
// function alias ("name:alias", from the AppSpec) or the ECS service
// ("cluster/service", from the group).
func (e *Executor) serviceTarget(ctx context.Context, g *Group, d *Deployment) (target.Target, error) {
	spec, err := e.readAppSpec(ctx, d.Revision, d.ComputePlatform)
	if err != nil {
		return target.Target{}, errmsg.Errorf("deploy: CreateDeployment: reading the AppSpec of revision %s: %w", d.Revision, err)
	}
	if d.ComputePlatform == config.Lambda {
		return target.Target{ID: spec.Lambda.Name + ":" + spec.Lambda.Alias}, nil
	}
	s := g.ECSServices[0]
	return target.Target{ID: s.ClusterName + "/" + s.ServiceName}, nil
}

// loadService prepares a Lambda or ECS deployment's steps: it reads the
// AppSpec and finds the versions traffic moves between. A revision that is
// gone or invalid, or a service that does not exist, is the deployment's
// failure (why and code set; API Reference, ErrorInformation:
// REVISION_MISSING, INVALID_REVISION, INVALID_LAMBDA_CONFIGURATION,
// INVALID_ECS_SERVICE); err is trouble to try again (the Source or
// TrafficShifter could not be reached, ctx).
func (r *runner) loadService(ctx context.Context) (why string, code ErrorCode, err error) {
	if r.svc == nil {
		return "", "", &DeploymentError{DeploymentID: r.id, Err: fmt.Errorf("%w: a %s deployment needs its one target", ErrInvalidInput, r.d.ComputePlatform)}
	}
	spec, err := r.e.readAppSpec(ctx, r.d.Revision, r.d.ComputePlatform)
	if err != nil {
		return r.revisionFailure(ctx, err)
	}
	sd := &serviceData{spec: spec, route: target.TrafficRoute{ResourceID: r.svc.TargetID}}
	for _, p := range r.d.LoadBalancerInfo.TargetGroupPairInfoList {
		if len(p.TestTrafficRoute.ListenerArns) > 0 && spec.Lambda == nil {
			sd.test = &target.TrafficRoute{ResourceID: r.svc.TargetID, Test: true}
		}
	}
	if spec.Lambda != nil {
		if id := spec.Lambda.Name + ":" + spec.Lambda.Alias; id != r.svc.TargetID {
			return fmt.Sprintf("the AppSpec now names function alias %s; the deployment was created for %s", id, r.svc.TargetID), plan.InvalidLambdaConfiguration, nil
		}
	}
	if r.isServiceRollback() {
		return r.loadRollbackService(ctx, sd)
	}
	if spec.Lambda != nil {
		sd.original, sd.replacement = spec.Lambda.CurrentVersion, spec.Lambda.TargetVersion
		if r.d.Progress.Original == "" {
			// Recorded for a rollback, which moves traffic back to it.
			if err := r.save(ctx, func(d *Deployment) { d.Progress.Original = sd.original }); err != nil {
				return "", "", r.storeErr("saving the original version", err)
			}
		}
		r.svcData = sd
		return "", "", nil
	}
	sd.original = r.d.Progress.Original
	if sd.original == "" {
		split, err := r.e.platform.TrafficShifter.CurrentTraffic(ctx, sd.route)
		switch {
		case err == nil:
		case ctx.Err() != nil:
			return "", "", ctx.Err()
		case errors.Is(err, target.ErrNotFound):
			return "ECS service " + sd.route.ResourceID + " has no traffic route: " + err.Error(), plan.InvalidECSService, nil
		default:
			return "", "", &DeploymentError{DeploymentID: r.id, Op: "reading the traffic of " + sd.route.ResourceID, Err: err}
		}
		live := liveVersion(split)
		if err := r.save(ctx, func(d *Deployment) { d.Progress.Original = live }); err != nil {
			return "", "", r.storeErr("saving the original task set", err)
		}
		sd.original = live
	}
	sd.originalTarget = target.Target{ID: sd.original}
	r.svcData = sd
	if r.stepDone(plan.PhaseInstall) {
		// Install ran before a crash: the Provisioner returns the task set
		// it made then.
		ts, err := r.provisionTaskSet(ctx)
		if err != nil {
			return "", "", &DeploymentError{DeploymentID: r.id, Op: "finding the replacement task set", Err: err}
		}
		sd.replacement = ts.ID
	}
	return "", "", nil
}

// liveVersion returns the version a split sends most traffic to: its
// Replacement once that has all of it (a shifter may report a finished
// shift as it was asked for), else its Original.
func liveVersion(split target.TrafficSplit) string {
	if split.Replacement != "" && split.Weight == 100 {
		return split.Replacement
	}
	return split.Original
}

// checkRevision reads the AppSpec of a Server deployment's revision through
// Options.Source before any target starts, so that a revision that is gone
// or cannot be used fails the deployment with REVISION_MISSING or
// INVALID_REVISION and a message naming it, rather than failing on every
// target. It returns the AppSpec read; why and code are set for a revision
// that cannot be used; err is trouble to try again (the Source could not
// be reached, ctx).
func (r *runner) checkRevision(ctx context.Context) (spec *revision.AppSpec, why string, code ErrorCode, err error) {
	spec, err = r.e.readAppSpec(ctx, r.d.Revision, r.d.ComputePlatform)
	if err != nil {
		why, code, err = r.revisionFailure(ctx, err)
		return nil, why, code, err
	}
	return spec, "", "", nil
}

// revisionFailure sorts an error reading the deployment's revision (err,
// not nil): a revision that is gone or cannot be used is the deployment's
// failure (why and code set: REVISION_MISSING, INVALID_REVISION);
// anything else is returned as retry, trouble to try again.
func (r *runner) revisionFailure(ctx context.Context, err error) (why string, code ErrorCode, retry error) {
	loc := r.d.Revision.String()
	switch {
	case ctx.Err() != nil:
		return "", "", ctx.Err()
	case errors.Is(err, revision.ErrRevisionNotFound):
		return "revision " + loc + " is missing: " + errmsg.Trim(err.Error()), plan.RevisionMissing, nil
	case errors.Is(err, revision.ErrInvalidLocation), errors.Is(err, revision.ErrUnsupportedLocation), errors.Is(err, ErrMissingSource),
		errors.Is(err, revision.ErrChecksumMismatch), errors.Is(err, revision.ErrAppSpecNotFound), errors.Is(err, revision.ErrInvalidAppSpec),
		errors.Is(err, revision.ErrCorruptBundle), errors.Is(err, revision.ErrLimitExceeded), errors.Is(err, revision.ErrUnsafePath):
		return "revision " + loc + " cannot be used: " + errmsg.Trim(err.Error()), plan.InvalidRevision, nil
	}
	return "", "", &DeploymentError{DeploymentID: r.id, Op: "reading the AppSpec of revision " + loc, Err: err}
}

// isServiceRollback reports whether the deployment is the automatic
// rollback of a Lambda or ECS deployment.
func (r *runner) isServiceRollback() bool {
	return r.d.Creator == target.CreatorRollback && r.d.RollbackInfo.RollbackTriggeringDeploymentID != ""
}

// loadRollbackService prepares the steps of a Lambda or ECS rollback (see
// "Rollbacks" in the package documentation): traffic moves back, at once, to
// the version or task set that was live before the rolled-back deployment
// (its Progress.Original), away from whatever else the route serves now (its
// replacement). No task set is made: the rollback's Install names the
// original task set, and its TerminateOriginals removes the rolled-back
// deployment's replacement. What traffic moves away from is stored in the
// rollback's Progress.Original.
func (r *runner) loadRollbackService(ctx context.Context, sd *serviceData) (why string, code ErrorCode, err error) {
	prev, err := r.e.store.GetDeployment(ctx, r.d.RollbackInfo.RollbackTriggeringDeploymentID)
	if err != nil {
		if ctx.Err() != nil {
			return "", "", ctx.Err()
		}
		return "", "", &DeploymentError{DeploymentID: r.id, Op: "reading the rolled-back deployment " + r.d.RollbackInfo.RollbackTriggeringDeploymentID, Err: err}
	}
	back := prev.Progress.Original
	if back == "" && sd.spec.Lambda != nil {
		back = sd.spec.Lambda.TargetVersion // what the last successful deployment made live
	}
	from := r.d.Progress.Original
	if from == "" {
		split, err := r.e.platform.TrafficShifter.CurrentTraffic(ctx, sd.route)
		switch {
		case err == nil:
		case ctx.Err() != nil:
			return "", "", ctx.Err()
		case errors.Is(err, target.ErrNotFound):
			return sd.route.ResourceID + " has no traffic route: " + err.Error(), rollbackLoadCode(sd), nil
		default:
			return "", "", &DeploymentError{DeploymentID: r.id, Op: "reading the traffic of " + sd.route.ResourceID, Err: err}
		}
		if back == "" {
			back = split.Original
		}
		switch {
		case split.Replacement != "" && split.Replacement != back:
			from = split.Replacement
		case split.Original != back:
			from = split.Original
		default:
			from = back // everything is on back already
		}
		if err := r.save(ctx, func(d *Deployment) { d.Progress.Original = from }); err != nil {
			return "", "", r.storeErr("saving what the rollback moves traffic away from", err)
		}
	}
	if back == "" {
		return "the rolled-back deployment recorded no version to return to", rollbackLoadCode(sd), nil
	}
	sd.original, sd.replacement = from, back
	sd.originalTarget = target.Target{ID: from}
	r.svcData = sd
	return "", "", nil
}

// rollbackLoadCode is the error code of a Lambda or ECS rollback that
// cannot find its traffic route.
func rollbackLoadCode(sd *serviceData) ErrorCode {
	if sd.spec.Lambda != nil {
		return plan.InvalidLambdaConfiguration
	}
	return plan.InvalidECSService
}

// stepDone reports whether the service's lifecycle event for phase
// succeeded already.
func (r *runner) stepDone(phase plan.Phase) bool {
	ev := r.svc.Event(target.LifecycleEvent(phase))
	return ev != nil && ev.Status == target.EventSucceeded
}

// provisionTaskSet makes (or finds again) the ECS replacement task set.
func (r *runner) provisionTaskSet(ctx context.Context) (target.Target, error) {
	ts, err := r.e.platform.Provisioner.ProvisionReplacements(ctx, target.ProvisionRequest{
		Deployment: r.info, Originals: []target.Target{r.svcData.originalTarget}})
	if err != nil {
		return target.Target{}, err
	}
	if len(ts) != 1 {
		return target.Target{}, fmt.Errorf("the Provisioner returned %d task sets; want 1", len(ts))
	}
	return ts[0], nil
}

// resumedStep returns the step that was in flight when the deployment was
// stored.
func (r *runner) resumedStep() plan.Step {
	pr := r.p.Progress()
	s := plan.Step{Phase: pr.Phase}
	if tr := r.planConfig().TrafficRouting; pr.Phase == plan.PhaseAllowTraffic && tr != nil {
		steps := tr.Steps()
		if pr.Shifts < len(steps) {
			s.Index, s.Weight = pr.Shifts, steps[pr.Shifts].Weight
		}
	}
	return s
}

// stepFinished is the completion of a step with result res.
func stepFinished(res plan.StepResult) completion { return completion{i: -1, res: &res} }

// runStep performs one step and records it: a Lambda or ECS hook or
// reserved event on the service's target (its lifecycle event InProgress,
// then its result), a traffic shift, or the removal of the originals.
//
// A step handed out again on Resume whose event's outcome is stored — the
// process died after the write that recorded it and before the deployment's
// progress was stored — is not performed again: its stored outcome is
// reported. Only an event stored InProgress (in flight at the crash, or
// AllowTraffic between two shifts of its schedule) is performed again.
func (r *runner) runStep(s plan.Step) completion {
	ctx := r.workCtx
	if s.Phase == plan.PhaseTerminateOriginals {
		return r.terminateOriginals(ctx)
	}
	if r.svc == nil {
		return stepFinished(plan.StepResult{ErrorCode: plan.InternalError, Message: "no service target to run " + string(s.Phase) + " on"})
	}
	ev := target.LifecycleEvent(s.Phase)
	now := r.e.clk.Now()
	t := r.svc
	if rec := t.Event(ev); rec != nil && (rec.Status == target.EventSucceeded || rec.Status == target.EventFailed) {
		res := target.EventResult{Status: rec.Status}
		if rec.Diagnostics != nil {
			res.Message = rec.Diagnostics.Message
		}
		return r.stepOutcome(ev, res)
	}
	if r.stopping.Load() {
		// Handed out just before a stop, or cut off by a crash after one:
		// it does not start (see Executor.Stop).
		return stepFinished(plan.StepResult{Message: "not run: the deployment was stopped"})
	}
	if len(t.LifecycleEvents) == 0 {
		events, err := target.Sequence{Platform: r.d.ComputePlatform, Kind: target.KindTrafficShift}.Events()
		if err != nil {
			return completion{i: -1, err: r.storeErr("choosing its lifecycle events", err)}
		}
		for _, name := range events {
			t.LifecycleEvents = append(t.LifecycleEvents, LifecycleEventRecord{Name: name, Status: target.EventPending})
		}
	}
	k := slices.IndexFunc(t.LifecycleEvents, func(e LifecycleEventRecord) bool { return e.Name == ev })
	if k < 0 {
		return stepFinished(plan.StepResult{ErrorCode: plan.InternalError, Message: fmt.Sprintf("event %s is not one of target %s's", ev, t.TargetID)})
	}
	if t.LifecycleEvents[k].Status != target.EventInProgress || t.Status != target.TargetInProgress {
		t.Status = target.TargetInProgress
		t.LifecycleEvents[k].Status, t.LifecycleEvents[k].StartTime = target.EventInProgress, now
		t.LastUpdated = now
		if err := r.store.UpdateTarget(r.runCtx, t); err != nil {
			return completion{i: -1, err: r.storeErr("saving target "+t.TargetID, err)}
		}
		r.eventChanged(t, k, now)
	}
	if err := r.checkLease(r.e.clk.Now()); err != nil {
		return completion{i: -1, err: err}
	}
	res, code, c, ok := r.performRecorded(ctx, s)
	if !ok {
		return c
	}
	now = r.e.clk.Now()
	rec := &t.LifecycleEvents[k]
	rec.EndTime = now
	rec.Status = target.EventSucceeded
	if res.Status == target.EventFailed {
		rec.Status = target.EventFailed
	}
	if res.Message != "" || res.Status == target.EventFailed {
		rec.Diagnostics = diagnostics(res)
	}
	if s.Phase == plan.PhaseAllowTraffic && rec.Status == target.EventSucceeded && s.Weight < 100 {
		rec.Status = target.EventInProgress // more shifts to come
	}
	t.LastUpdated = now
	if err := r.store.UpdateTarget(r.runCtx, t); err != nil {
		return completion{i: -1, err: r.storeErr("saving target "+t.TargetID, err)}
	}
	r.eventChanged(t, k, now)
	out := r.stepOutcome(ev, res)
	if code != "" && out.res != nil && !out.res.Succeeded {
		out.res.ErrorCode = code // the role said why, in CodeDeploy's terms
	}
	return out
}

// roleErrorCode returns the CodeDeploy error code a role's error carries
// (a *target.CodeError whose Code is one of CodeDeploy's, such as the
// INVALID_LAMBDA_CONFIGURATION of a TrafficShifter that found the alias
// serving other versions), "" if none.
func roleErrorCode(err error) ErrorCode {
	var ce *target.CodeError
	if errors.As(err, &ce) && slices.Contains(ErrorCode("").Values(), ErrorCode(ce.Code)) {
		return ErrorCode(ce.Code)
	}
	return ""
}

// performRecorded performs step s and returns its result, with the
// CodeDeploy error code a role's error carried (roleErrorCode); when ok is
// false the step ends with completion c instead (interrupted, or a store
// error).
// A hook with a function has its execution stored around the invocation
// (openHook, closeHook), so that the function's status report is taken by
// any executor, survives a crash, and is the hook's outcome; a hook whose
// execution is stored ended already is not invoked again.
func (r *runner) performRecorded(ctx context.Context, s plan.Step) (res target.EventResult, code ErrorCode, c completion, ok bool) {
	ev := target.LifecycleEvent(s.Phase)
	fn := r.hookFunction(ev)
	if fn != "" {
		ended, done, err := r.openHook(r.runCtx, ev, fn)
		if err != nil {
			return res, "", completion{i: -1, err: r.storeErr("storing hook execution "+r.hookExecutionID(ev), err)}, false
		}
		if done {
			return ended, "", c, true
		}
	}
	res, err := retryThrottled(ctx, r.e.clk, func() (target.EventResult, error) { return r.performStep(ctx, s) })
	if err != nil {
		if cause := context.Cause(ctx); cause != nil && !errors.Is(cause, errAbort) {
			return res, "", completion{i: -1, interrupted: true}, false
		}
		res = errorResult(err, context.Cause(ctx))
		code = roleErrorCode(err)
	}
	if fn != "" {
		if res, err = r.closeHook(r.runCtx, ev, res); err != nil {
			return res, "", completion{i: -1, err: r.storeErr("storing the end of hook execution "+r.hookExecutionID(ev), err)}, false
		}
	}
	return res, code, c, true
}

// hookFunction returns the hook function the AppSpec names for event ev
// when the HookInvoker performs ev, else "".
func (r *runner) hookFunction(ev target.LifecycleEvent) string {
	if r.svcData == nil || r.svcData.spec == nil || ev.Role(r.d.ComputePlatform) != target.RoleHookInvoker {
		return ""
	}
	return r.svcData.spec.HookFunctions[string(ev)]
}

// stepOutcome is the completion of a step whose event ev ended with res.
func (r *runner) stepOutcome(ev target.LifecycleEvent, res target.EventResult) completion {
	out := plan.StepResult{Succeeded: res.Status != target.EventFailed, Message: res.Message}
	if !out.Succeeded && r.d.ComputePlatform == config.ECS && ev.Reserved(config.ECS) {
		out.ErrorCode = plan.ECSUpdateError
	}
	return stepFinished(out)
}

// performStep does a Lambda or ECS step's work.
func (r *runner) performStep(ctx context.Context, s plan.Step) (target.EventResult, error) {
	sd := r.svcData
	ev := target.LifecycleEvent(s.Phase)
	p := r.d.ComputePlatform
	switch ev.Role(p) {
	case target.RoleHookInvoker:
		fn := sd.spec.HookFunctions[string(ev)]
		if fn == "" {
			return target.EventResult{Status: target.EventSucceeded}, nil // no hook: nothing to validate
		}
		return r.invokeHook(ctx, ev, fn)
	case target.RoleProvisioner: // ECS Install
		if r.isServiceRollback() {
			return target.EventResult{Status: target.EventSucceeded, Message: "rolling back to the original task set " + sd.replacement}, nil
		}
		ts, err := r.provisionTaskSet(ctx)
		if err != nil {
			return target.EventResult{}, err
		}
		sd.replacement = ts.ID
		return target.EventResult{Status: target.EventSucceeded, Message: "replacement task set " + ts.ID}, nil
	case target.RoleTrafficShifter:
		route, weight := sd.route, s.Weight
		if ev == target.AllowTestTraffic {
			if sd.test == nil {
				return target.EventResult{Status: target.EventSucceeded, Message: "no test listener"}, nil
			}
			route, weight = *sd.test, 100
		}
		if sd.original == sd.replacement {
			return target.EventResult{Status: target.EventSucceeded, Message: "all traffic is on " + sd.replacement + " already"}, nil
		}
		err := r.e.platform.TrafficShifter.ShiftTraffic(ctx, target.ShiftRequest{Deployment: r.info, Route: route,
			Split: target.TrafficSplit{Original: sd.original, Replacement: sd.replacement, Weight: weight}})
		if err != nil {
			return target.EventResult{}, err
		}
		return target.EventResult{Status: target.EventSucceeded}, nil
	}
	return target.EventResult{Status: target.EventFailed, ErrorCode: target.CodeUnknownError,
		Message: fmt.Sprintf("no role performs %s on %s", ev, p)}, nil
}

// invokeHook runs a Lambda or ECS hook function and waits for the status
// it reports, at most Options.HookTimeout on the executor's clock (User
// Guide, "AppSpec 'hooks' section": no report within an hour fails the
// hook). The HookInvoker waits for the function's
// PutLifecycleEventHookExecutionStatus report on HookRequest.Reports.
func (r *runner) invokeHook(ctx context.Context, ev target.LifecycleEvent, fn string) (target.EventResult, error) {
	hctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	timer := r.e.clk.NewTimer(r.e.opts.HookTimeout)
	expired := errors.New("deploy: hook deadline passed")
	returned := make(chan struct{})
	var watch sync.WaitGroup
	watch.Go(func() {
		select {
		case <-timer.C():
			cancel(expired)
		case <-returned:
			timer.Stop()
		}
	})
	id := r.hookExecutionID(ev)
	res, err := r.e.platform.HookInvoker.InvokeHook(hctx, target.HookRequest{Deployment: r.info, Event: ev,
		FunctionName: fn, ExecutionID: id, Reports: &storedReports{e: r.e, deploymentID: r.id, id: id}})
	close(returned)
	watch.Wait() // the watcher does not outlive the hook
	if errors.Is(context.Cause(hctx), expired) && ctx.Err() == nil {
		return target.EventResult{Status: target.EventFailed, ErrorCode: target.CodeScriptTimedOut,
			Message: fmt.Sprintf("hook function %s reported no status within %s", fn, r.e.opts.HookTimeout)}, nil
	}
	if err != nil {
		return res, err
	}
	if res.Status != target.EventSucceeded && res.Status != target.EventFailed {
		return target.EventResult{Status: target.EventFailed, ErrorCode: target.CodeUnknownError,
			Message: fmt.Sprintf("hook function %s reported status %q; only Succeeded and Failed are accepted", fn, res.Status)}, nil
	}
	return res, nil
}

// terminateOriginals removes the original targets of a successful
// blue/green deployment with TERMINATE: the Blue instances (Server) or the
// original task set (ECS).
func (r *runner) terminateOriginals(ctx context.Context) completion {
	var originals []target.Target
	if r.svcData != nil {
		if r.svcData.original == r.svcData.replacement {
			return stepFinished(plan.StepResult{Succeeded: true}) // a rollback with nothing to remove
		}
		originals = []target.Target{r.svcData.originalTarget}
	} else {
		for i := range r.targets {
			if r.targets[i].Label == target.LabelBlue {
				originals = append(originals, r.targets[i].Target)
			}
		}
	}
	if err := r.checkLease(r.e.clk.Now()); err != nil {
		return completion{i: -1, err: err}
	}
	if err := r.e.platform.Provisioner.TerminateTargets(ctx, originals); err != nil {
		if cause := context.Cause(ctx); cause != nil && !errors.Is(cause, errAbort) {
			return completion{i: -1, interrupted: true}
		}
		return stepFinished(plan.StepResult{Message: "terminating the originals: " + err.Error()})
	}
	return stepFinished(plan.StepResult{Succeeded: true})
}

// provisionsGreen reports whether the deployment makes its replacement
// fleet: a Server blue/green deployment, not its rollback (whose targets
// CreateDeployment stored, replacements included).
func (r *runner) provisionsGreen() bool {
	d := r.d
	return d.ComputePlatform == config.Server && d.DeploymentStyle.DeploymentType == target.BlueGreen &&
		d.Creator != target.CreatorRollback
}

// createdTargets returns the number of the deployment's targets that
// CreateDeployment stored: all of them, except the replacements that
// provisionGreen stored after them. A process that died right after that
// write left the deployment Created with its replacements stored; they are
// the fleet it provisioned, and the run goes on with them.
func (r *runner) createdTargets() int {
	if r.provisionsGreen() {
		if i := slices.IndexFunc(r.targets, func(t DeploymentTarget) bool { return t.Label == target.LabelGreen }); i >= 0 {
			return i // stored in one write, after the originals
		}
	}
	return len(r.targets)
}

// provisionGreen makes the replacement fleet of a Server blue/green
// deployment and stores it, before the planner is built: the Green targets
// are part of its input. The Provisioner returns the same fleet when asked
// again after a crash, and the targets are stored all or none. It returns
// the reason when no replacement fleet could be made, with the error code
// the deployment fails with: the Provisioner's (a *target.CodeError with
// one of CodeDeploy's codes, such as AUTO_SCALING_CONFIGURATION), else
// INTERNAL_ERROR.
func (r *runner) provisionGreen(ctx context.Context) (string, ErrorCode, error) {
	var blue []target.Target
	for i := range r.targets {
		if r.targets[i].Label == target.LabelGreen {
			return "", "", nil // provisioned before
		}
		blue = append(blue, r.targets[i].Target)
	}
	action := target.DiscoverExisting
	if bg := r.d.BlueGreenDeploymentConfiguration; bg != nil && bg.GreenFleetProvisioningOption != nil {
		action = bg.GreenFleetProvisioningOption.Action // validated: one of the two
	}
	if err := r.checkLease(r.e.clk.Now()); err != nil {
		return "", "", err
	}
	green, err := retryThrottled(ctx, r.e.clk, func() ([]target.Target, error) {
		return r.e.platform.Provisioner.ProvisionReplacements(ctx, target.ProvisionRequest{
			Deployment: r.info, Action: action, Originals: blue, Replacements: r.d.TargetInstances})
	})
	if err != nil {
		if ctx.Err() != nil {
			return "", "", ctx.Err()
		}
		code := plan.InternalError
		var ce *target.CodeError
		if errors.As(err, &ce) && slices.Contains(code.Values(), ErrorCode(ce.Code)) {
			code = ErrorCode(ce.Code)
		}
		return "the replacement fleet could not be provisioned: " + err.Error(), code, nil
	}
	recs := make([]DeploymentTarget, 0, len(green))
	for _, t := range green {
		if t.ID == "" || slices.ContainsFunc(r.targets, func(x DeploymentTarget) bool { return x.TargetID == t.ID }) {
			return fmt.Sprintf("the Provisioner returned replacement %q, which is empty or already in the deployment", t.ID), plan.InternalError, nil
		}
		rec := NewInstanceRecord(r.d.GroupID, t.ID)
		if cur, err := r.e.store.GetInstance(ctx, r.d.GroupID, t.ID); err == nil {
			rec = *cur
		} else if !errors.Is(err, ErrNotFound) {
			return "", "", r.storeErr("reading the instance record of replacement "+t.ID, err)
		}
		h := rec.Health(r.d.PreviousRevision)
		if !h.Instance.Valid() {
			h.Instance = health.Unhealthy
		}
		recs = append(recs, DeploymentTarget{TargetID: t.ID, Target: cloneTarget(t), Label: target.LabelGreen,
			InitialInstanceHealth: h.Instance, InitialRevisionHealth: h.Revision, Status: target.TargetPending})
	}
	if len(recs) > 0 {
		r.seqs.withEventsListed(recs)
		if err := r.store.PutTargets(ctx, r.id, recs); err != nil {
			return "", "", r.storeErr(fmt.Sprintf("storing its %d replacement targets", len(recs)), err)
		}
	}
	for i := range recs {
		recs[i].LifecycleEvents = nil // the runner's form of a list not started (notStarted)
	}
	r.targets = append(r.targets, recs...)
	r.overview.Add(target.TargetPending, int64(len(recs)))
	return "", "", nil
}

// blueGreenRollbackTargets returns the targets of the rollback of a Server
// blue/green deployment: its originals (Blue), to take traffic again, and
// its replacements (Green), to give it up (User Guide, "AppSpec 'hooks'
// section"). Their health is their health when the rolled-back deployment
// began.
func (e *Executor) blueGreenRollbackTargets(ctx context.Context, of *Deployment) ([]DeploymentTarget, error) {
	var out []DeploymentTarget
	for t, err := range AllTargets(ctx, e.store, of.ID) {
		if err != nil {
			return nil, &DeploymentError{DeploymentID: of.ID, Op: "reading its targets for the rollback", Err: err}
		}
		if t.Label == target.LabelGreen && t.Status == target.TargetPending {
			continue // never touched
		}
		out = append(out, DeploymentTarget{TargetID: t.TargetID, Target: t.Target, Label: t.Label,
			InitialInstanceHealth: t.InitialInstanceHealth, InitialRevisionHealth: t.InitialRevisionHealth,
			Status: target.TargetPending})
	}
	return out, nil
}

package deploy

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/fleetdeploy/fleetdeploy/config"
	"github.com/fleetdeploy/fleetdeploy/deploy/clock"
	"github.com/fleetdeploy/fleetdeploy/deploy/plan"
	"github.com/fleetdeploy/fleetdeploy/health"
	"github.com/fleetdeploy/fleetdeploy/internal/errmsg"
	"github.com/fleetdeploy/fleetdeploy/target"
)

// DefaultScalingHeartbeat is how often a launch or termination deployment
// sends a heartbeat by default: every five minutes, as CodeDeploy does
// (User Guide, "Integrating CodeDeploy with Amazon EC2 Auto Scaling").
const DefaultScalingHeartbeat = 5 * time.Minute

// ScalingOutcome is what HandleScalingEvent did with a scaling event.
type ScalingOutcome struct {
	// Result is the answer given to the platform.
	Result target.ScalingResult
	// Deployment is the launch or termination deployment that ran, as
	// stored; nil when none ran (see Reason).
	Deployment *Deployment
	// Reason says in words why the answer is what it is.
	Reason string
}

// HandleScalingEvent runs the launch or termination deployment of ev and
// answers it through the platform's target.ScalingEvents role (when the
// platform has one), sending a heartbeat every Options.ScalingHeartbeat on
// the executor's clock while it works. It follows the User Guide's
// "Integrating CodeDeploy with Amazon EC2 Auto Scaling":
//
//   - A launching instance gets a launch deployment (creator autoscaling)
//     of the group's target revision — the revision of its last successful
//     deployment — through the lifecycle events of
//     target.KindAutoScalingLaunch: the full in-place sequence, and the
//     allow-traffic events when the group has traffic control and a load
//     balancer. Success answers CONTINUE; a failed event answers ABANDON,
//     so the platform replaces the instance. A group with no successful
//     deployment yet answers CONTINUE and deploys nothing, as CodeDeploy
//     does.
//   - A terminating instance of a group with TerminationHookEnabled gets a
//     termination deployment (creator autoscalingTermination) through the
//     events of target.KindAutoScalingTermination (with a load balancer,
//     BeforeBlockTraffic, BlockTraffic, AfterBlockTraffic, then
//     ApplicationStop); without the hook nothing runs. The answer is always
//     CONTINUE, whether the deployment succeeded or failed.
//
// A launch or termination deployment does not take the group's active slot:
// it runs beside a deployment the group may be running, as CodeDeploy runs
// them. An instance launched during a deployment thus gets the previous
// revision; when that deployment succeeds, a group whose
// OutdatedInstancesStrategy is UPDATE gets a follow-on deployment
// (creator CodeDeployAutoUpdate) that brings it to the new revision, and
// with IGNORE it keeps the previous one. A failed event fails the launch
// or termination deployment with HEALTH_CONSTRAINTS, or with the code its
// role's error stands for, as in any deployment (package doc, "Error
// codes"): AGENT_ISSUE for an agent that cannot be reached, THROTTLED when
// the platform still throttles the call after the retries, a
// *target.CodeError's own code. The deployment is stored once it has ended (final status, its one target and its events); a launch
// deployment that succeeded records the instance healthy with its new
// revision, one that failed records it unhealthy. A crash in the middle
// stores nothing and answers nothing: the platform's hook times out and
// applies its default result.
//
// Events for an unknown group, or a group whose platform is not Server,
// are answered CONTINUE with nothing run. An error is returned for an
// invalid event (wrapping ErrInvalidInput; it is not answered), when ctx
// is done before the deployment ended (not answered), when the group or
// records cannot be read or written (answered: ABANDON for a launch,
// CONTINUE for a termination), and when the answer could not be
// delivered; the outcome says what was decided in each case.
func (e *Executor) HandleScalingEvent(ctx context.Context, ev target.ScalingEvent) (ScalingOutcome, error) {
	if err := validScalingEvent(ev); err != nil {
		return ScalingOutcome{}, err
	}
	stop := e.heartbeats(ctx, ev)
	out, err := e.scalingDeployment(ctx, ev)
	stop()
	if err != nil && ctx.Err() != nil {
		return out, err
	}
	if err != nil {
		out.Result = target.ScalingContinue
		if ev.Transition == target.InstanceLaunching {
			out.Result = target.ScalingAbandon
		}
		out.Reason = err.Error()
	}
	if se := e.platform.ScalingEvents; se != nil {
		if cerr := se.Complete(ctx, ev, out.Result); cerr != nil {
			cerr = errmsg.Errorf("deploy: answering %s for lifecycle action %s of instance %s: %w", out.Result, ev.ID, ev.Target.ID, cerr)
			if err == nil {
				return out, cerr
			}
			return out, errors.Join(err, cerr)
		}
	}
	e.log.Info("scaling event answered", "action", ev.ID, "transition", string(ev.Transition), "target", ev.Target.ID,
		"result", string(out.Result), "reason", out.Reason)
	return out, err
}

// ServeScalingEvents takes events from the platform's target.ScalingEvents
// role and handles each with HandleScalingEvent, up to
// Options.Concurrency at once (events of different instances run in
// parallel), until ctx is done; then it waits for the events in hand and
// returns ctx's error. Failures of single events are logged, not returned;
// an error of NextScalingEvent other than ctx's ends the loop with it. It
// returns an error wrapping ErrInvalidInput when the platform has no
// ScalingEvents role.
func (e *Executor) ServeScalingEvents(ctx context.Context) error {
	se := e.platform.ScalingEvents
	if se == nil {
		return fmt.Errorf("deploy: ServeScalingEvents: the platform has no ScalingEvents role; set target.Platform.ScalingEvents: %w", ErrInvalidInput)
	}
	limit := e.opts.Concurrency
	if limit <= 0 {
		limit = 64
	}
	sem := make(chan struct{}, limit)
	var wg sync.WaitGroup
	defer wg.Wait()
	for {
		ev, err := se.NextScalingEvent(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return errmsg.Errorf("deploy: ServeScalingEvents: taking the next scaling event: %w", err)
		}
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			return ctx.Err()
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			if _, err := e.HandleScalingEvent(ctx, ev); err != nil {
				e.log.Warn("scaling event", "action", ev.ID, "target", ev.Target.ID, "error", err.Error())
			}
		}()
	}
}

// validScalingEvent checks the fields HandleScalingEvent needs.
func validScalingEvent(ev target.ScalingEvent) error {
	var ps config.Problems
	if ev.ID == "" {
		ps.Add(nil, "id", "is required: the lifecycle action to answer")
	}
	if !slices.Contains(ev.Transition.Values(), ev.Transition) {
		ps.Add(nil, "transition", "must be one of %v; got %q", ev.Transition.Values(), ev.Transition)
	}
	if ev.Target.ID == "" {
		ps.Add(nil, "target.id", "is required: the instance launching or terminating")
	}
	if ev.ApplicationName == "" || ev.DeploymentGroupName == "" {
		ps.Add(nil, "deploymentGroupName", "the application and deployment group names are required")
	}
	return ps.Err(ErrInvalidInput, "scaling event")
}

// heartbeats sends a heartbeat for ev every Options.ScalingHeartbeat until
// the returned function is called (which waits for the sender to stop).
func (e *Executor) heartbeats(ctx context.Context, ev target.ScalingEvent) (stop func()) {
	se := e.platform.ScalingEvents
	if se == nil {
		return func() {}
	}
	every := e.opts.ScalingHeartbeat
	if every <= 0 {
		every = DefaultScalingHeartbeat
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			t := e.clk.NewTimer(every)
			select {
			case <-t.C():
				if err := se.Heartbeat(ctx, ev); err != nil {
					e.log.Warn("scaling event heartbeat", "action", ev.ID, "target", ev.Target.ID, "error", err.Error())
				}
			case <-done:
				t.Stop()
				return
			case <-ctx.Done():
				t.Stop()
				return
			}
		}
	})
	return func() { close(done); wg.Wait() }
}

// scalingDeployment decides and runs the deployment of ev (see
// HandleScalingEvent).
func (e *Executor) scalingDeployment(ctx context.Context, ev target.ScalingEvent) (ScalingOutcome, error) {
	launch := ev.Transition == target.InstanceLaunching
	cont := func(why string) (ScalingOutcome, error) {
		return ScalingOutcome{Result: target.ScalingContinue, Reason: why}, nil
	}
	g, err := e.store.GetGroup(ctx, ev.ApplicationName, ev.DeploymentGroupName)
	switch {
	case errors.Is(err, ErrNotFound):
		return cont(fmt.Sprintf("deployment group %s/%s does not exist: nothing to deploy", ev.ApplicationName, ev.DeploymentGroupName))
	case err != nil:
		return ScalingOutcome{}, errmsg.Errorf("deploy: reading deployment group %s/%s for instance %s: %w", ev.ApplicationName, ev.DeploymentGroupName, ev.Target.ID, err)
	case g.Platform() != config.Server:
		return cont(fmt.Sprintf("deployment group %s/%s is a %s group: only Server groups deploy to instances that scale", g.ApplicationName, g.Name, g.Platform()))
	}
	kind, creator := target.KindAutoScalingLaunch, target.CreatorAutoscaling
	rev := g.TargetRevision
	if launch {
		if rev == nil {
			return cont(fmt.Sprintf("deployment group %s/%s has no successful deployment yet: nothing to install on %s", g.ApplicationName, g.Name, ev.Target.ID))
		}
	} else {
		if !g.TerminationHookEnabled {
			return cont(fmt.Sprintf("deployment group %s/%s has no termination hook (terminationHookEnabled is false): no termination deployment", g.ApplicationName, g.Name))
		}
		kind, creator = target.KindAutoScalingTermination, target.CreatorAutoscalingTermination
		rec, err := e.store.GetInstance(ctx, g.ID, ev.Target.ID)
		switch {
		case err == nil && rec.Revision != nil:
			rev = rec.Revision
		case err != nil && !errors.Is(err, ErrNotFound):
			return ScalingOutcome{}, errmsg.Errorf("deploy: reading the record of instance %s in deployment group %s/%s: %w", ev.Target.ID, g.ApplicationName, g.Name, err)
		}
		if rev == nil {
			return cont(fmt.Sprintf("deployment group %s/%s never deployed to %s: no termination events to run", g.ApplicationName, g.Name, ev.Target.ID))
		}
	}
	cfg, err := g.ResolveConfig(e.opts.Configs...)
	if err != nil {
		return ScalingOutcome{}, errmsg.Errorf("deploy: deployment group %s/%s: %w", g.ApplicationName, g.Name, err)
	}
	style := g.Style()
	lb := lbEvents(config.Server, style, g.LoadBalancerInfo)
	if err := e.platform.Validate(config.Server, style.DeploymentType, lb); err != nil {
		return ScalingOutcome{}, errmsg.Errorf("deploy: deployment group %s/%s: %w", g.ApplicationName, g.Name, err)
	}
	events, err := target.Sequence{Platform: config.Server, Kind: kind, LoadBalancer: lb}.Events()
	if err != nil {
		return ScalingOutcome{}, errmsg.Errorf("deploy: deployment group %s/%s: %w", g.ApplicationName, g.Name, err)
	}
	now := e.clk.Now()
	d := &Deployment{
		ID:                            e.newID(),
		ApplicationName:               g.ApplicationName,
		GroupName:                     g.Name,
		GroupID:                       g.ID,
		ComputePlatform:               config.Server,
		Revision:                      rev.Clone(),
		PreviousRevision:              cloneLocationPtr(g.TargetRevision),
		ConfigName:                    cfg.Name,
		Config:                        cfg,
		DeploymentStyle:               style,
		LoadBalancerInfo:              g.LoadBalancerInfo.Clone(),
		FileExistsBehavior:            g.FileExistsBehavior,
		IgnoreApplicationStopFailures: g.IgnoreApplicationStopFailures,
		Creator:                       creator,
		Description:                   fmt.Sprintf("%s deployment of instance %s (lifecycle action %s)", map[bool]string{true: "Launch", false: "Termination"}[launch], ev.Target.ID, ev.ID),
		Status:                        StatusInProgress,
		CreateTime:                    now,
		StartTime:                     now,
	}
	e.observe(Event{Kind: EventDeploymentStatus, Time: now, DeploymentID: d.ID, ApplicationName: d.ApplicationName, GroupName: d.GroupName, Status: StatusInProgress})
	t := DeploymentTarget{DeploymentID: d.ID, TargetID: ev.Target.ID, Target: ev.Target, Status: target.TargetInProgress,
		InitialInstanceHealth: health.Unhealthy, InitialRevisionHealth: health.Unknown}
	failedAt, code, err := e.runScalingEvents(ctx, d, &t, events)
	if err != nil {
		return ScalingOutcome{}, err
	}
	end := e.clk.Now()
	d.CompleteTime, t.LastUpdated = end, end
	out := ScalingOutcome{Result: target.ScalingContinue}
	if failedAt < 0 {
		d.Status, t.Status = StatusSucceeded, target.TargetSucceeded
		d.Overview.Add(target.TargetSucceeded, 1)
		out.Reason = fmt.Sprintf("%s of revision %s on %s succeeded", d.Description, d.Revision.String(), ev.Target.ID)
	} else {
		d.Status, t.Status = StatusFailed, target.TargetFailed
		d.Overview.Add(target.TargetFailed, 1)
		msg := ""
		if dg := t.LifecycleEvents[failedAt].Diagnostics; dg != nil && dg.Message != "" {
			msg = ": " + dg.Message
		}
		if code == "" {
			code = plan.HealthConstraints
		}
		d.ErrorInformation = ErrorInformation{Code: code,
			Message: fmt.Sprintf("instance %s failed lifecycle event %s%s", ev.Target.ID, t.LifecycleEvents[failedAt].Name, msg)}
		out.Reason = d.Description + " failed: " + d.ErrorInformation.Message
		if launch {
			out.Result = target.ScalingAbandon
			out.Reason += "; the launch is abandoned, so the platform replaces the instance"
		} else {
			out.Reason += "; the termination goes on"
		}
	}
	if err := e.store.CreateDeployment(ctx, d); err != nil {
		return ScalingOutcome{}, errmsg.Errorf("deploy: storing %s: %w", d.Description, err)
	}
	if err := e.store.PutTargets(ctx, d.ID, []DeploymentTarget{t}); err != nil {
		return ScalingOutcome{}, &DeploymentError{DeploymentID: d.ID, Op: "storing its target " + t.TargetID, Err: err}
	}
	if launch {
		rec := NewInstanceRecord(g.ID, ev.Target.ID)
		if old, err := e.store.GetInstance(ctx, g.ID, ev.Target.ID); err == nil {
			rec = *old
		}
		if failedAt < 0 {
			rec.InstanceHealth, rec.Revision = health.Healthy, cloneLocationPtr(rev)
		} else {
			rec.InstanceHealth = health.Unhealthy
		}
		if err := e.store.PutInstances(ctx, []InstanceRecord{rec}); err != nil {
			return ScalingOutcome{}, &DeploymentError{DeploymentID: d.ID, Op: "recording instance " + t.TargetID, Err: err}
		}
	}
	e.observe(Event{Kind: EventDeploymentStatus, Time: end, DeploymentID: d.ID, ApplicationName: d.ApplicationName,
		GroupName: d.GroupName, Status: d.Status, ErrorInformation: d.ErrorInformation})
	out.Deployment = d
	return out, nil
}

// runScalingEvents runs events on t, in order, stopping at the first that
// fails (unless the deployment ignores its failure; see
// target.DeploymentInfo.IgnoresFailureOf) and skipping the rest. A role's
// call the platform throttles is retried as in any deployment
// (retryThrottled), and a role's error that stands for one of CodeDeploy's
// codes (eventFailure: AGENT_ISSUE for an unreachable agent, a
// *target.CodeError's code) is recorded as the event's
// Diagnostics.DeploymentErrorCode. It returns the index of the failed
// event, -1 when none failed, the failed event's deployment error code
// ("" if none), and an error only when ctx is done.
func (e *Executor) runScalingEvents(ctx context.Context, d *Deployment, t *DeploymentTarget, events []target.LifecycleEvent) (int, ErrorCode, error) {
	info := d.TargetInfo()
	t.LifecycleEvents = make([]LifecycleEventRecord, len(events))
	for k, ev := range events {
		t.LifecycleEvents[k] = LifecycleEventRecord{Name: ev, Status: target.EventPending}
	}
	req := target.EventRequest{Target: t.Target, Deployment: info}
	for k, ev := range events {
		rec := &t.LifecycleEvents[k]
		rec.Status, rec.StartTime = target.EventInProgress, e.clk.Now()
		e.observe(Event{Kind: EventLifecycle, Time: rec.StartTime, DeploymentID: d.ID, ApplicationName: d.ApplicationName,
			GroupName: d.GroupName, TargetID: t.TargetID, LifecycleEvent: ev, LifecycleEventStatus: target.EventInProgress})
		req.Event = ev
		role := ev.Role(config.Server)
		res, err := retryThrottled(ctx, e.clk, func() (target.EventResult, error) { return e.scalingEventBounded(ctx, role, &req) })
		var code ErrorCode
		if err != nil {
			if ctx.Err() != nil {
				return 0, "", errmsg.Errorf("deploy: %s of instance %s: event %s: %w", d.Creator, t.TargetID, ev, ctx.Err())
			}
			res, code = eventFailure(role, err, nil)
		}
		rec.Status, rec.EndTime = res.Status, clock.Later(e.clk, rec.StartTime)
		if res.Message != "" || res.LogTail != "" || res.Status == target.EventFailed {
			rec.Diagnostics = diagnostics(res)
			rec.Diagnostics.DeploymentErrorCode = code
		}
		e.observe(Event{Kind: EventLifecycle, Time: rec.EndTime, DeploymentID: d.ID, ApplicationName: d.ApplicationName,
			GroupName: d.GroupName, TargetID: t.TargetID, LifecycleEvent: ev, LifecycleEventStatus: rec.Status, Diagnostics: rec.Diagnostics})
		if res.Status == target.EventFailed && !info.IgnoresFailureOf(ev) {
			for j := k + 1; j < len(events); j++ {
				t.LifecycleEvents[j].Status = target.EventSkipped
			}
			return k, code, nil
		}
	}
	return -1, "", nil
}

// scalingEvent runs one Server lifecycle event through role: the
// Installer, or the TrafficController for BlockTraffic and AllowTraffic.
// An error is returned when the event could not be run (the role's error,
// which runScalingEvents turns into a failed event).
func (e *Executor) scalingEvent(ctx context.Context, role target.Role, req *target.EventRequest) (target.EventResult, error) {
	switch role {
	case target.RoleInstaller:
		res, err := e.platform.Installer.RunEvent(ctx, *req)
		if err != nil {
			return res, err
		}
		if !slices.Contains([]target.LifecycleEventStatus{target.EventSucceeded, target.EventFailed, target.EventSkipped}, res.Status) {
			return target.EventResult{Status: target.EventFailed, ErrorCode: target.CodeUnknownError,
				Message: fmt.Sprintf("the Installer returned status %q; want Succeeded, Failed or Skipped", res.Status)}, nil
		}
		return res, nil
	case target.RoleTrafficController:
		tr := target.TrafficRequest{Target: req.Target, Deployment: req.Deployment}
		var err error
		if req.Event == target.BlockTraffic {
			err = e.platform.TrafficController.BlockTraffic(ctx, tr)
		} else {
			err = e.platform.TrafficController.AllowTraffic(ctx, tr)
		}
		if err != nil {
			return target.EventResult{}, err
		}
		return target.EventResult{Status: target.EventSucceeded}, nil
	}
	return target.EventResult{Status: target.EventFailed, ErrorCode: target.CodeUnknownError,
		Message: fmt.Sprintf("no role performs event %s on Server targets", req.Event)}, nil
}

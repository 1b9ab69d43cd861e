package deploy

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"

	"golang.org/x/sync/errgroup"

	"github.com/fleetdeploy/fleetdeploy/config"
	"github.com/fleetdeploy/fleetdeploy/deploy/plan"
	"github.com/fleetdeploy/fleetdeploy/health"
	"github.com/fleetdeploy/fleetdeploy/target"
)

// instanceBatch is the most instance records written in one PutInstances
// call when a deployment finishes. Each batch is all or none; applying the
// health rules again after a crash gives the same records, so batches are
// safe to repeat, and safe to write in any order: instanceWriters of them
// are written at once. A fleet of up to instanceBatch targets is written
// in one call, which the store may spread over cores or connections as it
// sees fit (MemoryStore and dynamostore do): batches of 1,000 written by
// four goroutines took BenchmarkExecutor's 100,000 records twice as long
// on a MemoryStore, whose batches each take its lock in turn.
const (
	instanceBatch   = 100_000
	instanceWriters = 4
)

// finish ends the deployment with the planner's final decision. It first
// stores the decision (Progress.Ending) with what must follow it — the
// rollback or auto-update deployment to create, under IDs chosen now — and
// then finishes as finishEnding says.
func (r *runner) finish(ctx context.Context, dec plan.Decision) error {
	end := Ending{Status: dec.Status, Explanation: dec.Explanation, Time: r.e.clk.Now()}
	if dec.Status != StatusSucceeded {
		end.ErrorInformation = ErrorInformation{Code: dec.ErrorCode, Message: dec.Explanation}
	}
	return r.finishDecided(ctx, end, dec.Progress)
}

// finishDecided stores end and finishes the deployment with it.
func (r *runner) finishDecided(ctx context.Context, end Ending, progress plan.Progress) error {
	rollbackID, rollbackMsg := r.rollbackPlan(end)
	autoUpdateID := ""
	if end.Status == StatusSucceeded && r.wantsAutoUpdate() {
		outdated, err := r.e.outdatedTargets(ctx, r.d, r.group, r.targets)
		if err != nil {
			r.e.log.Warn("cannot look for outdated instances", "deployment", r.id, "error", err.Error())
		} else if len(outdated) > 0 {
			autoUpdateID = r.e.newID()
		}
	}
	if err := r.save(ctx, func(d *Deployment) {
		d.Progress.Plan = progress
		d.Progress.Ending = &end
		if rollbackID != "" {
			d.RollbackInfo.RollbackDeploymentID = rollbackID
		}
		if rollbackMsg != "" {
			d.RollbackInfo.RollbackMessage = rollbackMsg
		}
		if autoUpdateID != "" {
			d.RelatedDeployments.AutoUpdateOutdatedInstancesDeploymentIDs = append(d.RelatedDeployments.AutoUpdateOutdatedInstancesDeploymentIDs, autoUpdateID)
		}
	}); err != nil {
		return r.storeErr("saving its outcome", err)
	}
	return r.finishEnding(ctx, end)
}

// finishEnding finishes a deployment whose end is decided, in an order that
// a crash at any point can resume (every step is repeatable): targets never
// started become Skipped; the instance records get the health rules of the
// User Guide's "CodeDeploy instance health"; the group gets its new target
// revision (on success) and its last deployments; and only then does the
// deployment become final, which frees the group's active slot.
func (r *runner) finishEnding(ctx context.Context, end Ending) error {
	// The final counts: a Server deployment's are kept at every transition
	// of its targets (nothing is in flight now), so the targets are read
	// again only when some never started.
	r.pmu.Lock()
	o := r.overview
	r.pmu.Unlock()
	for i := 0; i < len(r.targets) && o.Pending > 0; i++ {
		t := &r.targets[i]
		if t.Status == target.TargetPending {
			// Never started: its events were not run either.
			t.Status, t.LastUpdated = target.TargetSkipped, end.Time
			t.LifecycleEvents = r.seqs.of(t.Label).records(target.EventSkipped)
			if err := r.store.UpdateTarget(ctx, t); err != nil {
				return r.storeErr("saving target "+t.TargetID, err)
			}
			o.Move(target.TargetPending, target.TargetSkipped)
			r.targetChanged(t, end.Time)
		}
	}
	if s := r.svc; s != nil {
		if !isFinalTarget(s.Status) {
			s.Status, s.LastUpdated = serviceStatus(end.Status), end.Time
			if err := r.store.UpdateTarget(ctx, s); err != nil {
				return r.storeErr("saving target "+s.TargetID, err)
			}
			r.targetChanged(s, end.Time)
		}
		o = DeploymentOverview{} // steps change its status, not the counts
		o.Add(s.Status, 1)
	}
	if err := r.terminateRolledBackReplacements(ctx, end); err != nil {
		return err
	}
	r.pmu.Lock()
	r.overview = o
	r.pmu.Unlock()
	if err := r.updateInstances(ctx, end); err != nil {
		return err
	}
	if err := r.updateGroup(ctx, end); err != nil {
		return err
	}
	if err := r.save(ctx, func(d *Deployment) {
		d.Status = end.Status
		d.ErrorInformation = end.ErrorInformation
		d.CompleteTime = end.Time
	}); err != nil {
		return r.storeErr("saving its final status", err)
	}
	r.status = end.Status
	r.deploymentChanged(end.Time, end.Explanation)
	n := Notification{Time: end.Time, Status: end.Status, ErrorInformation: end.ErrorInformation}
	switch end.Status {
	case StatusSucceeded:
		n.Event = TriggerDeploymentSuccess
	case StatusFailed:
		n.Event = TriggerDeploymentFailure
	default:
		n.Event = TriggerDeploymentStop
	}
	r.notify(n)
	return nil
}

// terminateRolledBackReplacements removes the replacement fleet of a
// Server blue/green deployment once its rollback has succeeded (traffic is
// back on the originals and blocked on the replacements), when
// the executor made that fleet (COPY_AUTO_SCALING_GROUP): instances the
// group discovered (DISCOVER_EXISTING) are the caller's and are left, out
// of service. It is repeatable (the Provisioner ignores targets already
// gone); a termination that fails is logged and does not change the
// rollback's outcome.
func (r *runner) terminateRolledBackReplacements(ctx context.Context, end Ending) error {
	bg := r.d.BlueGreenDeploymentConfiguration
	if end.Status != StatusSucceeded || r.d.Creator != target.CreatorRollback || r.svc != nil ||
		r.d.DeploymentStyle.DeploymentType != target.BlueGreen || r.e.platform.Provisioner == nil ||
		bg == nil || bg.GreenFleetProvisioningOption == nil || bg.GreenFleetProvisioningOption.Action != GreenFleetCopyAutoScalingGroup {
		return nil
	}
	var green []target.Target
	for i := range r.targets {
		if r.targets[i].Label == target.LabelGreen {
			green = append(green, r.targets[i].Target)
		}
	}
	if len(green) == 0 {
		return nil
	}
	if err := r.e.platform.Provisioner.TerminateTargets(ctx, green); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		r.e.log.Warn("cannot terminate the replacements after the rollback", "deployment", r.id, "targets", len(green), "error", err.Error())
	}
	return nil
}

// isFinalTarget reports whether a target status no longer changes.
func isFinalTarget(s target.TargetStatus) bool {
	return s == target.TargetSucceeded || s == target.TargetFailed || s == target.TargetSkipped
}

// serviceStatus is the final status of a Lambda or ECS deployment's target.
func serviceStatus(s DeploymentStatus) target.TargetStatus {
	switch s {
	case StatusSucceeded:
		return target.TargetSucceeded
	case StatusFailed:
		return target.TargetFailed
	}
	return target.TargetSkipped
}

// servingTargets returns the targets the group's instance records follow
// after the deployment: every target of an in-place deployment, the
// replacements of a blue/green one, the originals of a blue/green rollback,
// the function or service of Lambda and ECS. They are ts, or, when only
// some of ts serve, those of ts at the indexes in some.
func (r *runner) servingTargets() (ts []DeploymentTarget, some []int32) {
	if r.svc != nil {
		return []DeploymentTarget{*r.svc}, nil
	}
	if r.d.DeploymentStyle.DeploymentType != target.BlueGreen {
		return r.targets, nil // in place: every target
	}
	want := target.LabelGreen
	if r.d.Creator == target.CreatorRollback {
		want = target.LabelBlue
	}
	some = make([]int32, 0, len(r.targets))
	for i := range r.targets {
		if r.targets[i].Label == want {
			some = append(some, int32(i))
		}
	}
	return r.targets, some
}

// outcome is what happened to a target, for the health rules: a Green
// target installed but never given traffic counts as a success (it runs
// the revision).
func outcome(s target.TargetStatus) health.Outcome {
	switch s {
	case target.TargetSucceeded, target.TargetReady:
		return health.OutcomeSucceeded
	case target.TargetFailed:
		return health.OutcomeFailed
	}
	return health.OutcomeSkipped
}

// updateInstances applies the health rules of "CodeDeploy instance health"
// to the group's instance records (InstanceRecord.AfterDeployment).
func (r *runner) updateInstances(ctx context.Context, end Ending) error {
	ts, some := r.servingTargets()
	n := len(ts)
	if some != nil {
		n = len(some)
	}
	serving := func(k int) *DeploymentTarget {
		if some != nil {
			return &ts[some[k]]
		}
		return &ts[k]
	}
	if n == 0 {
		return nil
	}
	records, err := instancesOf(ctx, r.store, r.d.GroupID, n, func(k int) string { return serving(k).TargetID })
	if err != nil {
		return r.storeErr("reading the group's instance records", err)
	}
	succeeded := end.Status == StatusSucceeded
	deployed := r.d.Revision.Clone() // shared by the records that run it
	var (
		mu     sync.Mutex
		failed = n // the first target whose rules failed
		ferr   error
	)
	forChunks(n, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			t := serving(i)
			rec := records[i] // the current record, replaced by the new one
			if rec.TargetID == "" {
				rec = NewInstanceRecord(r.d.GroupID, t.TargetID)
			}
			var err error
			if records[i], err = rec.afterDeployment(outcome(t.Status), r.d.Revision, succeeded, r.d.PreviousRevision, &deployed); err != nil {
				mu.Lock()
				if i < failed {
					failed, ferr = i, err
				}
				mu.Unlock()
				return
			}
		}
	})
	if ferr != nil {
		return r.storeErr("updating the health of target "+serving(failed).TargetID, ferr)
	}
	if len(records) <= instanceBatch {
		if err := r.store.PutInstances(ctx, records); err != nil {
			return r.storeErr(fmt.Sprintf("saving %d instance records", len(records)), err)
		}
		return nil
	}
	// The first error is returned; the batches written meanwhile stay
	// written, as those before a failed one always did.
	var g errgroup.Group
	g.SetLimit(instanceWriters)
	for batch := range slices.Chunk(records, instanceBatch) {
		g.Go(func() error {
			if err := r.store.PutInstances(ctx, batch); err != nil {
				return r.storeErr(fmt.Sprintf("saving %d instance records", len(batch)), err)
			}
			return nil
		})
	}
	return g.Wait()
}

// updateGroup records the deployment on its group: the new target revision
// on success ("CodeDeploy instance health") — and, after a blue/green
// deployment that copied an Auto Scaling group, that copy in place of the
// original (selectCopiedGroups) —, the last successful and last attempted
// deployments. A group deleted or created again since is left alone. The
// update is the same whenever it is made again, so a run resumed after a
// crash makes it again safely.
func (r *runner) updateGroup(ctx context.Context, end Ending) error {
	summary := LastDeploymentInfo{DeploymentID: r.id, Status: end.Status, EndTime: end.Time, CreateTime: r.d.CreateTime}
	for attempt := 0; ; attempt++ {
		g, err := r.e.store.GetGroup(ctx, r.d.ApplicationName, r.d.GroupName)
		if errors.Is(err, ErrNotFound) || err == nil && g.ID != r.d.GroupID {
			r.e.log.Warn("the deployment group is gone; not updating it", "deployment", r.id, "group", r.d.GroupName)
			return nil
		}
		if err != nil {
			return r.storeErr("reading its deployment group", err)
		}
		if end.Status == StatusSucceeded {
			rev := r.d.Revision.Clone()
			g.TargetRevision = &rev
			s := summary
			g.LastSuccessfulDeployment = &s
			r.selectCopiedGroups(g)
		}
		a := summary
		g.LastAttemptedDeployment = &a
		err = r.store.UpdateGroup(ctx, g)
		if err == nil {
			r.group = g
			return nil
		}
		if !errors.Is(err, ErrConflict) || attempt == maxConflicts {
			return r.storeErr("saving its deployment group", err)
		}
	}
}

// selectCopiedGroups makes g select the replacement fleet of a successful
// Server blue/green deployment that copied its Auto Scaling group
// (COPY_AUTO_SCALING_GROUP), as CodeDeploy does: in g's Auto Scaling
// groups, the originals' groups are replaced by the replacements' (those
// the Provisioner put them in, else Deployment.CopiedAutoScalingGroupName),
// so that the next deployment finds the new fleet, not the originals,
// which are terminated or, with KEEP_ALIVE, leave the deployment group.
// Done again, it changes nothing.
func (r *runner) selectCopiedGroups(g *Group) {
	d, bg := r.d, r.d.BlueGreenDeploymentConfiguration
	if d.ComputePlatform != config.Server || d.DeploymentStyle.DeploymentType != target.BlueGreen || d.Creator == target.CreatorRollback ||
		bg == nil || bg.GreenFleetProvisioningOption == nil || bg.GreenFleetProvisioningOption.Action != GreenFleetCopyAutoScalingGroup {
		return
	}
	var blue, green []string
	for i := range r.targets {
		t := &r.targets[i]
		switch name := t.Target.AutoScalingGroup; {
		case name == "":
		case t.Label == target.LabelBlue && !slices.Contains(blue, name):
			blue = append(blue, name)
		case t.Label == target.LabelGreen && !slices.Contains(green, name):
			green = append(green, name)
		}
	}
	if len(green) == 0 {
		green = []string{r.info.CopiedAutoScalingGroupName()}
	}
	out := make([]string, 0, len(g.Selector.AutoScalingGroups)+len(green))
	for _, name := range g.Selector.AutoScalingGroups {
		switch {
		case slices.Contains(blue, name) && !slices.Contains(green, name):
			for _, n := range green {
				if !slices.Contains(out, n) {
					out = append(out, n) // in the original's place
				}
			}
		case !slices.Contains(out, name):
			out = append(out, name)
		}
	}
	for _, n := range green {
		if !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	if !slices.Equal(out, g.Selector.AutoScalingGroups) {
		r.e.log.Info("the deployment group now selects the replacement Auto Scaling group", "deployment", r.id,
			"group", g.Name, "autoScalingGroups", out, "was", g.Selector.AutoScalingGroups)
		g.Selector.AutoScalingGroups = out
	}
}

// rollbackPlan decides whether the ending deployment is rolled back
// automatically (User Guide, "Redeploy and roll back a deployment with
// CodeDeploy"): on DEPLOYMENT_FAILURE, on a stop by an alarm with
// DEPLOYMENT_STOP_ON_ALARM, on a stop on request that asked for it. It
// returns the rollback's ID, or a message saying why there is none when one
// was wanted (fleetdeploy's decision). A rollback is never rolled back.
func (r *runner) rollbackPlan(end Ending) (id, message string) {
	d := r.d
	if d.Creator == target.CreatorRollback {
		return "", ""
	}
	cfg := d.autoRollback(r.group)
	want := false
	switch {
	case end.Status == StatusFailed:
		want = cfg.RollsBackOn(AutoRollbackDeploymentFailure)
	case end.Status == StatusStopped && d.StopRequest != nil && d.StopRequest.Alarm != "":
		want = cfg.RollsBackOn(AutoRollbackDeploymentStopOnAlarm)
	case end.Status == StatusStopped && d.StopRequest != nil:
		want = d.StopRequest.AutoRollback
	}
	if !want {
		return "", ""
	}
	if d.PreviousRevision == nil {
		what := "failed"
		if end.Status == StatusStopped {
			what = "was stopped"
		}
		return "", fmt.Sprintf("No rollback: the deployment %s and should have been rolled back, but deployment group %s has no earlier successful revision to roll back to.",
			what, d.GroupName)
	}
	id = r.e.newID()
	return id, fmt.Sprintf("Rolled back by deployment %s, which redeploys the last successful revision %s.", id, d.PreviousRevision)
}

// autoRollback returns the deployment's automatic rollback configuration:
// its override, else its group's (g may be nil).
func (d *Deployment) autoRollback(g *Group) AutoRollbackConfiguration {
	switch {
	case d.AutoRollbackConfiguration != nil:
		return *d.AutoRollbackConfiguration
	case g != nil:
		return g.AutoRollbackConfiguration
	}
	return AutoRollbackConfiguration{}
}

// alarmConfiguration returns the deployment's alarms: its override, else
// its group's (g may be nil).
func (d *Deployment) alarmConfiguration(g *Group) AlarmConfiguration {
	switch {
	case d.OverrideAlarmConfiguration != nil:
		return *d.OverrideAlarmConfiguration
	case g != nil:
		return g.AlarmConfiguration
	}
	return AlarmConfiguration{}
}

// wantsAutoUpdate reports whether targets that joined the group during the
// deployment get a follow-on deployment (API Reference,
// CreateDeploymentGroup, outdatedInstancesStrategy UPDATE): Server in-place
// deployments of a group that updates them, not rollbacks.
func (r *runner) wantsAutoUpdate() bool {
	d := r.d
	return r.group != nil && r.group.UpdatesOutdatedInstances() && d.ComputePlatform == config.Server &&
		d.DeploymentStyle.DeploymentType == target.InPlace && d.Creator != target.CreatorRollback
}

// newID returns the ID of a deployment the executor creates itself.
func (e *Executor) newID() string {
	if e.opts.NewID != nil {
		return e.opts.NewID()
	}
	return NewDeploymentID()
}

// outdatedTargets returns the group's targets that are not part of d and do
// not run d's revision: instances launched while d ran (API Reference,
// CreateDeploymentGroup, outdatedInstancesStrategy). members
// are d's targets; nil reads them from the store.
func (e *Executor) outdatedTargets(ctx context.Context, d *Deployment, g *Group, members []DeploymentTarget) ([]string, error) {
	if g == nil || e.platform.Lister == nil {
		return nil, nil
	}
	listed, err := e.platform.Lister.ListTargets(ctx, g.Selector)
	if err != nil {
		return nil, err
	}
	if sameTargets(listed, members) {
		return nil, nil // the fleet did not change: the usual case, without a set of 100k IDs
	}
	in := make(map[string]bool, len(members))
	for i := range members {
		in[members[i].TargetID] = true
	}
	if members == nil {
		for t, err := range AllTargets(ctx, e.store, d.ID) {
			if err != nil {
				return nil, err
			}
			in[t.TargetID] = true
		}
	}
	var out []string
	for _, t := range listed {
		if in[t.ID] {
			continue
		}
		rec, err := e.store.GetInstance(ctx, g.ID, t.ID)
		switch {
		case errors.Is(err, ErrNotFound):
		case err != nil:
			return nil, err
		case rec.Revision != nil && rec.Revision.Equal(d.Revision):
			continue
		}
		out = append(out, t.ID)
	}
	return out, nil
}

// sameTargets reports whether listed names exactly members, in order.
func sameTargets(listed []target.Target, members []DeploymentTarget) bool {
	if len(listed) != len(members) || members == nil {
		return false
	}
	for i := range listed {
		if listed[i].ID != members[i].TargetID {
			return false
		}
	}
	return true
}

package deploy

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/fleetdeploy/fleetdeploy/config"
	"github.com/fleetdeploy/fleetdeploy/revision"
	"github.com/fleetdeploy/fleetdeploy/target"
)

// errNoFollowUp: a follow-up deployment has nothing to do.
var errNoFollowUp = errors.New("deploy: nothing to follow up")

// permanent reports whether a follow-up deployment failed to be created
// for a reason that trying again will not change.
func permanent(err error) bool {
	for _, s := range []error{errNoFollowUp, ErrActiveDeployment, ErrInvalidInput, ErrInvalidGroup, ErrNotFound,
		revision.ErrInvalidLocation, config.ErrUnknownConfig, config.ErrInvalidConfig, target.ErrMissingRole, target.ErrUnsupported} {
		if errors.Is(err, s) {
			return true
		}
	}
	return false
}

// AutoUpdateConfigName is the deployment configuration of the follow-on
// deployments that bring targets launched during a deployment up to date
// (API Reference, CreateDeploymentGroup, outdatedInstancesStrategy UPDATE):
// one at a time, which suits any number of new targets (the group's own
// configuration may require more healthy targets than a handful of new ones
// can provide).
const AutoUpdateConfigName = "CodeDeployDefault.OneAtATime"

// followUps creates what must follow a final deployment — its rollback, its
// auto-update deployment — and runs each to the end. It returns d as
// stored afterwards.
func (e *Executor) followUps(ctx context.Context, d *Deployment) (*Deployment, error) {
	d, err := e.createFollowUps(ctx, d)
	if err != nil {
		return d, err
	}
	for _, id := range e.pendingFollowUps(d) {
		next, err := e.store.GetDeployment(ctx, id)
		if errors.Is(err, ErrNotFound) {
			continue // it could not be created; d says why
		}
		if err != nil {
			return d, &DeploymentError{DeploymentID: d.ID, Op: "reading its follow-up deployment " + id, Err: err}
		}
		if _, err := e.drive(ctx, next, false); err != nil {
			return d, err
		}
	}
	fresh, err := e.store.GetDeployment(ctx, d.ID)
	if err != nil {
		return d, &DeploymentError{DeploymentID: d.ID, Op: "reading it", Err: err}
	}
	return fresh, nil
}

// pendingFollowUps returns the IDs of d's rollback and latest auto-update
// deployment, those it names.
func (e *Executor) pendingFollowUps(d *Deployment) []string {
	var ids []string
	if id := d.RollbackInfo.RollbackDeploymentID; id != "" {
		ids = append(ids, id)
	}
	if ids2 := d.RelatedDeployments.AutoUpdateOutdatedInstancesDeploymentIDs; len(ids2) > 0 {
		ids = append(ids, ids2[len(ids2)-1])
	}
	return ids
}

// createFollowUps creates the rollback and auto-update deployments a final
// deployment names but that do not exist yet (the IDs are chosen and stored
// before d becomes final, so a crash never creates one twice). One that
// cannot be created — the group is busy with another deployment, the
// earlier revision is no longer valid — is taken off d, with the reason in
// RollbackInfo.RollbackMessage for a rollback.
func (e *Executor) createFollowUps(ctx context.Context, d *Deployment) (*Deployment, error) {
	if id := d.RollbackInfo.RollbackDeploymentID; id != "" {
		var err error
		if d, err = e.ensureFollowUp(ctx, d, id, e.createRollback); err != nil {
			return d, err
		}
	}
	if ids := d.RelatedDeployments.AutoUpdateOutdatedInstancesDeploymentIDs; len(ids) > 0 {
		var err error
		if d, err = e.ensureFollowUp(ctx, d, ids[len(ids)-1], e.createAutoUpdate); err != nil {
			return d, err
		}
	}
	return d, nil
}

// ensureFollowUp creates follow-up id of d with create unless it exists.
// create returns the reason it created nothing as its error when the
// problem is not the store's (and sets d's fields accordingly).
func (e *Executor) ensureFollowUp(ctx context.Context, d *Deployment, id string,
	create func(context.Context, *Deployment, string) (*Deployment, error)) (*Deployment, error) {
	_, err := e.store.GetDeployment(ctx, id)
	if err == nil {
		return d, nil
	}
	if !errors.Is(err, ErrNotFound) {
		return d, &DeploymentError{DeploymentID: d.ID, Op: "reading its follow-up deployment " + id, Err: err}
	}
	_, cerr := create(ctx, d, id)
	if cerr == nil {
		return d, nil
	}
	if ctx.Err() != nil || !permanent(cerr) {
		return d, cerr // the store's trouble, or the Lister's: Resume tries again
	}
	// Record why no follow-up was created, and forget its ID.
	for attempt := 0; ; attempt++ {
		if id == d.RollbackInfo.RollbackDeploymentID {
			d.RollbackInfo.RollbackDeploymentID = ""
			d.RollbackInfo.RollbackMessage = "The automatic rollback could not start: " + trimPrefix(cerr.Error())
		} else {
			d.RelatedDeployments.AutoUpdateOutdatedInstancesDeploymentIDs = slices.DeleteFunc(
				d.RelatedDeployments.AutoUpdateOutdatedInstancesDeploymentIDs, func(s string) bool { return s == id })
		}
		err := e.store.UpdateDeployment(ctx, d)
		if err == nil {
			e.log.Warn("follow-up deployment not created", "deployment", d.ID, "followUp", id, "error", cerr.Error())
			return d, nil
		}
		if !errors.Is(err, ErrConflict) || attempt == maxConflicts {
			return d, &DeploymentError{DeploymentID: d.ID, Op: "recording that follow-up " + id + " was not created", Err: err}
		}
		if d, err = e.store.GetDeployment(ctx, d.ID); err != nil {
			return d, &DeploymentError{DeploymentID: d.ID, Op: "reading it", Err: err}
		}
	}
}

// createRollback creates the rollback of d (User Guide, "Redeploy and roll
// back a deployment with CodeDeploy"; see "Rollbacks" in the package
// documentation): a new deployment, with creator codeDeployRollback and ID
// id, of the group's last successful revision (the one d replaced), with the
// file-exists behavior of the deployment that installed it
// (rollbackFileExists), and d's other settings and configuration (rollbacks are not zonal: the planner ignores a
// zonal configuration for them; a Lambda or ECS rollback keeps the
// configuration's name but shifts all at once, see runner.planConfig). It is
// linked both ways: d's RollbackInfo names it (stored before d became
// final), and its RollbackInfo names d.
func (e *Executor) createRollback(ctx context.Context, d *Deployment, id string) (*Deployment, error) {
	if d.PreviousRevision == nil {
		return nil, fmt.Errorf("%w: the deployment group has no earlier successful revision", errNoFollowUp)
	}
	ignore := d.IgnoreApplicationStopFailures
	in := DeploymentInput{
		ApplicationName:               d.ApplicationName,
		GroupName:                     d.GroupName,
		Revision:                      d.PreviousRevision.Clone(),
		Description:                   "Rollback of deployment " + d.ID,
		IgnoreApplicationStopFailures: &ignore,
		OverrideAlarmConfiguration:    d.OverrideAlarmConfiguration,
		Creator:                       target.CreatorRollback,
	}
	fileExists, err := e.rollbackFileExists(ctx, d)
	if err != nil {
		return nil, err
	}
	rb, err := e.create(ctx, in, createSpec{id: id, rollbackOf: d, configName: d.ConfigName, fileExists: &fileExists})
	if err != nil {
		return nil, err
	}
	if t := e.triggersOf(ctx, d); len(t) > 0 {
		e.notifyTriggers(ctx, t, Notification{Event: TriggerDeploymentRollback, Time: e.clk.Now(), Status: d.Status,
			ApplicationName: d.ApplicationName, GroupName: d.GroupName, GroupID: d.GroupID, DeploymentID: d.ID, RollbackInfo: d.RollbackInfo,
			CreateTime: d.CreateTime, CompleteTime: d.CompleteTime, Overview: d.Overview})
	}
	e.log.Info("rollback created", "deployment", d.ID, "rollback", rb.ID, "revision", rb.Revision.String())
	return rb, nil
}

// rollbackFileExists returns the FileExistsBehavior a rollback of d
// installs with: that of the group's last successful deployment, the one
// that installed the revision the rollback brings back, rather than d's
// (which may be the very setting that made d fail, e.g. DISALLOW on files
// the earlier revision left behind). When the group names no last
// successful deployment, or its record is gone (deleted, or imported
// without it), it is d's, as the only one known.
func (e *Executor) rollbackFileExists(ctx context.Context, d *Deployment) (revision.FileExistsBehavior, error) {
	g, err := e.store.GetGroup(ctx, d.ApplicationName, d.GroupName)
	if err != nil {
		return "", &DeploymentError{DeploymentID: d.ID, Op: "reading its group for the rollback's file-exists behavior", Err: err}
	}
	last := g.LastSuccessfulDeployment
	if last == nil || last.DeploymentID == "" || last.DeploymentID == d.ID {
		return d.FileExistsBehavior, nil
	}
	prev, err := e.store.GetDeployment(ctx, last.DeploymentID)
	switch {
	case errors.Is(err, ErrNotFound):
		return d.FileExistsBehavior, nil
	case err != nil:
		return "", &DeploymentError{DeploymentID: d.ID, Op: "reading the group's last successful deployment " + last.DeploymentID, Err: err}
	}
	return prev.FileExistsBehavior, nil
}

// createAutoUpdate creates the auto-update deployment of d (API Reference,
// CreateDeploymentGroup, outdatedInstancesStrategy): the
// same revision, creator CodeDeployAutoUpdate, to the group's targets that
// joined while d ran and do not run it, linked through RelatedDeployments.
// With no such targets left it creates nothing.
func (e *Executor) createAutoUpdate(ctx context.Context, d *Deployment, id string) (*Deployment, error) {
	g, err := e.store.GetGroup(ctx, d.ApplicationName, d.GroupName)
	if err != nil {
		return nil, &DeploymentError{DeploymentID: d.ID, Op: "reading its group", Err: err}
	}
	outdated, err := e.outdatedTargets(ctx, d, g, nil)
	if err != nil {
		return nil, &DeploymentError{DeploymentID: d.ID, Op: "looking for outdated instances", Err: err}
	}
	if len(outdated) == 0 {
		return nil, fmt.Errorf("%w: no outdated instances left", errNoFollowUp)
	}
	root := d.RelatedDeployments.AutoUpdateOutdatedInstancesRootDeploymentID
	if root == "" {
		root = d.ID
	}
	ignore := d.IgnoreApplicationStopFailures
	in := DeploymentInput{
		ApplicationName:               d.ApplicationName,
		GroupName:                     d.GroupName,
		Revision:                      d.Revision.Clone(),
		Description:                   fmt.Sprintf("Update of %d outdated instances after deployment %s", len(outdated), d.ID),
		FileExistsBehavior:            d.FileExistsBehavior,
		IgnoreApplicationStopFailures: &ignore,
		AutoRollbackConfiguration:     d.AutoRollbackConfiguration,
		OverrideAlarmConfiguration:    d.OverrideAlarmConfiguration,
		Creator:                       target.CreatorAutoUpdate,
	}
	au, err := e.create(ctx, in, createSpec{id: id, only: outdated, configName: AutoUpdateConfigName,
		related: RelatedDeployments{AutoUpdateOutdatedInstancesRootDeploymentID: root}})
	if err != nil {
		return nil, err
	}
	e.log.Info("auto-update deployment created", "deployment", d.ID, "autoUpdate", au.ID, "targets", len(outdated))
	return au, nil
}

// triggersOf returns the trigger index of d's group, nil without notifiers
// or triggers.
func (e *Executor) triggersOf(ctx context.Context, d *Deployment) map[TriggerEventType][]TriggerConfig {
	if len(e.opts.Notifiers) == 0 {
		return nil
	}
	g, err := e.store.GetGroup(ctx, d.ApplicationName, d.GroupName)
	if err != nil || g.ID != d.GroupID {
		return nil
	}
	return triggerIndex(g)
}

// triggerIndex maps each trigger event type to the group's triggers that
// ask for it.
func triggerIndex(g *Group) map[TriggerEventType][]TriggerConfig {
	if len(g.TriggerConfigurations) == 0 {
		return nil
	}
	m := map[TriggerEventType][]TriggerConfig{}
	for _, t := range g.TriggerConfigurations {
		for _, ev := range t.TriggerEvents {
			m[ev] = append(m[ev], t)
		}
	}
	return m
}

// notifyTriggers sends n to every notifier once per trigger in triggers
// that asks for n.Event. A notifier's error is logged and reported to the
// observer (EventNotificationFailed); it does not change the deployment.
func (e *Executor) notifyTriggers(ctx context.Context, triggers map[TriggerEventType][]TriggerConfig, n Notification) {
	for _, t := range triggers[n.Event] {
		n.TriggerName, n.TriggerTargetArn = t.TriggerName, t.TriggerTargetArn
		for _, nf := range e.opts.Notifiers {
			if err := nf.Notify(ctx, n); err != nil {
				e.log.Warn("notification failed", "deployment", n.DeploymentID, "trigger", t.TriggerName, "event", string(n.Event), "error", err.Error())
				e.observe(Event{Kind: EventNotificationFailed, Time: e.clk.Now(), DeploymentID: n.DeploymentID,
					ApplicationName: n.ApplicationName, GroupName: n.GroupName, TargetID: n.TargetID,
					TriggerName: t.TriggerName, TriggerEvent: n.Event, Err: err})
			}
		}
	}
}

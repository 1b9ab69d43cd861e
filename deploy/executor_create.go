package deploy

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/hashicorp/go-multierror"

	"github.com/fleetdeploy/fleetdeploy/config"
	"github.com/fleetdeploy/fleetdeploy/deploy/plan"
	"github.com/fleetdeploy/fleetdeploy/health"
	"github.com/fleetdeploy/fleetdeploy/internal/errmsg"
	"github.com/fleetdeploy/fleetdeploy/revision"
	"github.com/fleetdeploy/fleetdeploy/target"
)

// MaxDescription is the most characters a deployment's description may
// have.
const MaxDescription = 256

// DeploymentInput is what CreateDeployment needs: CodeDeploy's
// CreateDeployment parameters. Only ApplicationName, GroupName and Revision
// are required; the other fields override the group's settings.
type DeploymentInput struct {
	ApplicationName string
	GroupName       string
	// Revision is the revision to deploy; it must pass
	// revision.Location.Validate. A manual rollback or redeploy is a
	// deployment of an earlier revision.
	Revision revision.Location
	// ConfigName overrides the group's deployment configuration.
	ConfigName string
	// Description is free text, at most MaxDescription characters.
	Description string
	// FileExistsBehavior overrides the group's; empty means the group's,
	// and when that is empty too the AppSpec's, else DISALLOW (fleetdeploy's
	// decision; see package fleetdeploy, "Where fleetdeploy decides").
	// Server only.
	FileExistsBehavior revision.FileExistsBehavior
	// IgnoreApplicationStopFailures overrides the group's default when not
	// nil (API Reference, CreateDeployment). Server only.
	IgnoreApplicationStopFailures *bool
	// AutoRollbackConfiguration overrides the group's when not nil.
	AutoRollbackConfiguration *AutoRollbackConfiguration
	// OverrideAlarmConfiguration replaces the group's alarms when not nil.
	OverrideAlarmConfiguration *AlarmConfiguration
	// UpdateOutdatedInstancesOnly deploys only to targets whose installed
	// revision is not Revision; the others are left out of the deployment.
	// Server only.
	UpdateOutdatedInstancesOnly bool
	// TargetInstances selects the existing instances that become the
	// replacement fleet of a Server blue/green deployment whose group
	// provisions with DISCOVER_EXISTING.
	TargetInstances target.Selector
	// Creator says who starts the deployment; empty means user.
	Creator target.DeploymentCreator
}

// createSpec is what the executor itself adds to a deployment it creates:
// a rollback, an auto-update deployment.
type createSpec struct {
	// id, when set, is the new deployment's ID (decided and recorded
	// before the deployment is created, so a crash cannot create it twice).
	id string
	// only restricts the targets to these IDs (auto-update deployments).
	only []string
	// rollbackOf is the deployment a rollback rolls back.
	rollbackOf *Deployment
	// related is the RelatedDeployments of an auto-update deployment.
	related RelatedDeployments
	// configName overrides everything else.
	configName string
	// fileExists, when set, is the deployment's FileExistsBehavior as it
	// is, empty included (a rollback's: the last successful deployment's).
	fileExists *revision.FileExistsBehavior
	// queue: the deployment may be queued (Options.Queue).
	queue bool
}

// CreateDeployment creates a deployment of in.Revision to a deployment group
// (CodeDeploy's CreateDeployment) and returns it, status Created. It checks
// the group (Group.Validate), the configuration, the revision location and
// that the platform has the roles the deployment needs; lists the group's
// targets through the Lister (Server), or reads the AppSpec through
// Options.Source (Lambda, ECS); and records each target with its health from
// the group's instance records (a target never deployed to is Unhealthy with
// revision health Unknown: User Guide, "CodeDeploy instance health") and, on
// Server, with the lifecycle events it will run, every one Pending. Run the
// deployment with Run.
//
// The deployment takes the group's active slot: when another deployment of
// the group is active, CreateDeployment returns an *ActiveDeploymentError
// naming it and creates nothing ("CodeDeploy quotas": one deployment at a
// time per deployment group). With Options.Queue set it queues instead:
// the deployment is stored Queued when the group is busy or other
// deployments queue before it, and is returned Queued; it starts (Created,
// then run) when the ones before it have ended, run by the executor that
// ends the last of them, or by Supervise. A deployment returned Created is
// the caller's to Run, as without a queue (should another executor's
// queue start it first, Run returns ErrAlreadyStarted or ErrLeaseHeld).
// With QueueSupersede, the older queued deployments of the group end
// Stopped, naming the new one. A queueing error after the deployment was
// stored returns it with the error; it stays queued. Errors: ErrInvalidInput (and
// the packages' validation sentinels: ErrInvalidGroup,
// revision.ErrInvalidLocation, config.ErrUnknownConfig, target.ErrMissingRole)
// for input it cannot use; ErrNotFound for an unknown application or group;
// the Lister's, Source's or Store's error otherwise.
//
// A failed call leaves no active deployment behind: if the targets cannot
// be stored after the deployment record was created, the deployment is
// marked Failed (INTERNAL_ERROR) and the error returned. Should that write
// fail too, the deployment stays Created without targets; Resume then fails
// it the same way.
func (e *Executor) CreateDeployment(ctx context.Context, in DeploymentInput) (*Deployment, error) {
	return e.create(ctx, in, createSpec{queue: e.opts.Queue != QueueNone})
}

func (e *Executor) create(ctx context.Context, in DeploymentInput, spec createSpec) (*Deployment, error) {
	if err := validateInput(in); err != nil {
		return nil, err
	}
	group, err := e.store.GetGroup(ctx, in.ApplicationName, in.GroupName)
	if err != nil {
		return nil, e.groupNotFound(ctx, in, err)
	}
	if err := group.Validate(e.opts.Configs...); err != nil {
		return nil, errmsg.Errorf("deploy: CreateDeployment: %w", err)
	}
	cfgGroup := *group
	switch {
	case spec.configName != "":
		cfgGroup.DeploymentConfigName = spec.configName
	case in.ConfigName != "":
		cfgGroup.DeploymentConfigName = in.ConfigName
	}
	cfg, err := cfgGroup.ResolveConfig(e.opts.Configs...)
	if err != nil {
		return nil, errmsg.Errorf("deploy: CreateDeployment: %w", err)
	}
	platform := group.Platform()
	style := group.Style()
	if err := e.platform.Validate(platform, style.DeploymentType, lbEvents(platform, style, group.LoadBalancerInfo)); err != nil {
		return nil, errmsg.Errorf("deploy: CreateDeployment: deployment group %s/%s: %w", group.ApplicationName, group.Name, err)
	}
	if err := e.checkPlatformInput(platform, in); err != nil {
		return nil, err
	}
	alarms := group.AlarmConfiguration
	if in.OverrideAlarmConfiguration != nil {
		alarms = *in.OverrideAlarmConfiguration
		var ps config.Problems
		validateAlarms(&ps, alarms)
		for i := range ps {
			ps[i].Field = "override" + strings.ToUpper(ps[i].Field[:1]) + ps[i].Field[1:]
		}
		if err := ps.Err(ErrInvalidInput, "deployment input"); err != nil {
			return nil, err
		}
	}
	if alarms.Enabled && e.opts.AlarmSource == nil {
		var ps config.Problems
		ps.Add(nil, "alarmConfiguration", "alarms are enabled, but the executor has no Options.AlarmSource to read them; set Options.AlarmSource, or disable the alarms")
		return nil, ps.Err(ErrInvalidInput, "deployment input")
	}
	if a := in.AutoRollbackConfiguration; a != nil {
		var ps config.Problems
		validateAutoRollback(&ps, *a)
		if err := ps.Err(ErrInvalidInput, "deployment input"); err != nil {
			return nil, err
		}
	}

	now := e.clk.Now()
	d := &Deployment{
		ID:                               spec.id,
		ApplicationName:                  group.ApplicationName,
		GroupName:                        group.Name,
		GroupID:                          group.ID,
		ComputePlatform:                  platform,
		Revision:                         in.Revision.Clone(),
		PreviousRevision:                 cloneLocationPtr(group.TargetRevision),
		ConfigName:                       cfg.Name,
		Config:                           cfg,
		DeploymentStyle:                  style,
		LoadBalancerInfo:                 group.LoadBalancerInfo.Clone(),
		BlueGreenDeploymentConfiguration: cloneBlueGreen(group.BlueGreenDeploymentConfiguration),
		FileExistsBehavior:               group.FileExistsBehavior,
		IgnoreApplicationStopFailures:    group.IgnoreApplicationStopFailures,
		UpdateOutdatedInstancesOnly:      in.UpdateOutdatedInstancesOnly,
		TargetInstances:                  in.TargetInstances.Clone(),
		Creator:                          in.Creator,
		Description:                      in.Description,
		Status:                           StatusCreated,
		RelatedDeployments:               spec.related,
		CreateTime:                       now,
	}
	if d.ID == "" && e.opts.NewID != nil {
		d.ID = e.opts.NewID()
	}
	if d.Creator == "" {
		d.Creator = target.CreatorUser
	}
	if in.FileExistsBehavior != "" {
		d.FileExistsBehavior = in.FileExistsBehavior
	}
	if spec.fileExists != nil {
		d.FileExistsBehavior = *spec.fileExists
	}
	if in.IgnoreApplicationStopFailures != nil {
		d.IgnoreApplicationStopFailures = *in.IgnoreApplicationStopFailures
	}
	if in.AutoRollbackConfiguration != nil {
		a := cloneAutoRollback(*in.AutoRollbackConfiguration)
		d.AutoRollbackConfiguration = &a
	}
	if in.OverrideAlarmConfiguration != nil {
		a := cloneAlarms(*in.OverrideAlarmConfiguration)
		d.OverrideAlarmConfiguration = &a
	}
	if spec.rollbackOf != nil {
		d.RollbackInfo.RollbackTriggeringDeploymentID = spec.rollbackOf.ID
	}

	targets, err := e.resolveTargets(ctx, group, d, spec)
	if err != nil {
		return nil, err
	}
	d.Overview.Add(target.TargetPending, int64(len(targets)))
	if platform == config.Server {
		seqs, err := newSequences(d)
		if err != nil {
			return nil, errmsg.Errorf("deploy: CreateDeployment: choosing the lifecycle events of deployment group %s/%s: %w", group.ApplicationName, group.Name, err)
		}
		seqs.withEventsListed(targets)
	}
	create := e.store.CreateDeployment
	if spec.queue {
		create = e.createQueued
	}
	if err := create(ctx, d); err != nil {
		return nil, errmsg.Errorf("deploy: CreateDeployment: %w", err)
	}
	if len(targets) > 0 {
		if err := e.store.PutTargets(ctx, d.ID, targets); err != nil {
			err = &DeploymentError{DeploymentID: d.ID, Op: fmt.Sprintf("storing its %d targets", len(targets)), Err: err}
			if ferr := e.failCreated(ctx, e.store, d, err); ferr != nil {
				return nil, multierror.Append(errmsg.NewList("deploy: CreateDeployment", "failures"), err, ferr).ErrorOrNil()
			}
			return nil, err
		}
	}
	e.log.Info("deployment created", "deployment", d.ID, "application", d.ApplicationName, "group", d.GroupName,
		"revision", d.Revision.String(), "config", d.ConfigName, "targets", len(targets), "creator", string(d.Creator),
		"status", string(d.Status))
	e.observe(Event{Kind: EventDeploymentStatus, Time: now, DeploymentID: d.ID, ApplicationName: d.ApplicationName,
		GroupName: d.GroupName, Status: d.Status})
	if d.Status == StatusQueued {
		if err := e.afterQueued(ctx, d); err != nil {
			return d, &DeploymentError{DeploymentID: d.ID, Op: "queueing it", Err: err}
		}
	}
	return d, nil
}

// groupNotFound returns CreateDeployment's error for the group of in that
// could not be read (err): when the group is not found, it names the
// application instead if that is what is missing.
func (e *Executor) groupNotFound(ctx context.Context, in DeploymentInput, err error) error {
	if !errors.Is(err, ErrNotFound) {
		return errmsg.Errorf("deploy: CreateDeployment: %w", err)
	}
	if _, aerr := e.store.GetApplication(ctx, in.ApplicationName); errors.Is(aerr, ErrNotFound) {
		return errmsg.Errorf("deploy: CreateDeployment: %w; create the application and its deployment group first (CreateApplication, CreateGroup)", aerr)
	}
	return errmsg.Errorf("deploy: CreateDeployment: %w; create it first (CreateGroup)", err)
}

// validateInput checks what CreateDeployment can check without the store.
func validateInput(in DeploymentInput) error {
	var ps config.Problems
	if in.ApplicationName == "" {
		ps.Add(nil, "applicationName", "is required")
	}
	if in.GroupName == "" {
		ps.Add(nil, "deploymentGroupName", "is required")
	}
	if err := in.Revision.Validate(); err != nil {
		addProblems(ps.Add, "revision.", err)
	}
	if n := utf8.RuneCountInString(in.Description); n > MaxDescription {
		ps.Add(nil, "description", "must be at most %d characters; got %d", MaxDescription, n)
	}
	if f := in.FileExistsBehavior; f != "" && !oneOf(f, f.Values()) {
		ps.Add(nil, "fileExistsBehavior", "must be one of %v, or empty for the group's; got %q", f.Values(), f)
	}
	if c := in.Creator; c != "" && !oneOf(c, c.Values()) {
		ps.Add(nil, "creator", "must be one of %v; got %q", c.Values(), c)
	}
	return ps.Err(ErrInvalidInput, "deployment input")
}

// checkPlatformInput checks the settings that only some platforms take.
func (e *Executor) checkPlatformInput(p config.ComputePlatform, in DeploymentInput) error {
	var ps config.Problems
	if p != config.Server {
		if in.FileExistsBehavior != "" {
			ps.Add(nil, "fileExistsBehavior", "is for Server deployments only")
		}
		if in.IgnoreApplicationStopFailures != nil && *in.IgnoreApplicationStopFailures {
			ps.Add(nil, "ignoreApplicationStopFailures", "must be false for %s (InvalidIgnoreApplicationStopFailuresValue)", p)
		}
		if in.UpdateOutdatedInstancesOnly {
			ps.Add(nil, "updateOutdatedInstancesOnly", "must be false for %s", p)
		}
		if e.opts.Source == nil {
			ps.Add(ErrMissingSource, "revision", "a %s deployment reads its AppSpec through Options.Source, which is nil", p)
		}
	}
	return ps.Err(ErrInvalidInput, "deployment input")
}

// lbEvents reports whether a deployment's targets run the traffic events:
// blue/green Server deployments always, in-place ones with traffic control
// and a load balancer (User Guide, "AppSpec 'hooks' section").
func lbEvents(p config.ComputePlatform, style DeploymentStyle, lb target.LoadBalancerInfo) bool {
	if p != config.Server {
		return false
	}
	if style.DeploymentType == target.BlueGreen {
		return true
	}
	return style.DeploymentOption == WithTrafficControl && !lb.IsZero()
}

// resolveTargets returns the records of a new deployment's targets.
func (e *Executor) resolveTargets(ctx context.Context, group *Group, d *Deployment, spec createSpec) ([]DeploymentTarget, error) {
	switch {
	case spec.rollbackOf != nil && d.ComputePlatform == config.Server && d.DeploymentStyle.DeploymentType == target.BlueGreen:
		return e.blueGreenRollbackTargets(ctx, spec.rollbackOf)
	case d.ComputePlatform != config.Server:
		t, err := e.serviceTarget(ctx, group, d)
		if err != nil {
			return nil, err
		}
		return e.withHealth(ctx, group, []target.Target{t}, d, "")
	}
	listed, err := e.platform.Lister.ListTargets(ctx, group.Selector)
	if err != nil {
		return nil, errmsg.Errorf("deploy: CreateDeployment: listing the targets of deployment group %s/%s: %w", group.ApplicationName, group.Name, err)
	}
	if spec.only != nil {
		listed = slices.DeleteFunc(listed, func(t target.Target) bool { return !slices.Contains(spec.only, t.ID) })
	}
	label := target.TargetLabel("")
	if d.DeploymentStyle.DeploymentType == target.BlueGreen {
		label = target.LabelBlue
	}
	return e.withHealth(ctx, group, listed, d, label)
}

// withHealth makes the records of targets, with each target's health from
// the group's instance records (User Guide, "CodeDeploy instance health"); a
// target its Lister reports Unavailable (a stopped instance) starts
// unhealthy. With d.UpdateOutdatedInstancesOnly, targets that run d.Revision
// are left out.
func (e *Executor) withHealth(ctx context.Context, group *Group, ts []target.Target, d *Deployment, label target.TargetLabel) ([]DeploymentTarget, error) {
	records, err := instancesOf(ctx, e.store, group.ID, len(ts), func(i int) string { return ts[i].ID })
	if err != nil {
		return nil, errmsg.Errorf("deploy: CreateDeployment: reading the instance records of deployment group %s/%s: %w", group.ApplicationName, group.Name, err)
	}
	seen := make(map[string]bool, len(ts))
	out := make([]DeploymentTarget, 0, len(ts))
	for i, t := range ts {
		if t.ID == "" || seen[t.ID] {
			return nil, errmsg.Errorf("deploy: CreateDeployment: the Lister returned target ID %q twice or empty; IDs must be unique and not empty", t.ID)
		}
		seen[t.ID] = true
		rec := NewInstanceRecord(group.ID, t.ID)
		if records[i].TargetID != "" {
			rec = records[i]
		}
		if d.UpdateOutdatedInstancesOnly && rec.Revision != nil && rec.Revision.Equal(d.Revision) {
			continue
		}
		h := rec.Health(group.TargetRevision)
		if !h.Instance.Valid() || t.Unavailable {
			// A stopped instance counts like a failed one ("CodeDeploy
			// instance health").
			h.Instance = health.Unhealthy
		}
		out = append(out, DeploymentTarget{
			TargetID:              t.ID,
			Target:                cloneTarget(t),
			Label:                 label,
			InitialInstanceHealth: h.Instance,
			InitialRevisionHealth: h.Revision,
			Status:                target.TargetPending,
		})
	}
	return out, nil
}

// failCreated marks a deployment whose targets could not be stored Failed,
// so that it does not hold the group's active slot. It writes through
// store: the executor's own, or a runner's fenced one.
func (e *Executor) failCreated(ctx context.Context, store Store, d *Deployment, cause error) error {
	now := e.clk.Now()
	d.Status = StatusFailed
	d.ErrorInformation = ErrorInformation{Code: plan.InternalError, Message: "the deployment could not be created: " + trimPrefix(cause.Error())}
	d.CompleteTime = now
	d.Overview = DeploymentOverview{}
	if err := store.UpdateDeployment(ctx, d); err != nil {
		return &DeploymentError{DeploymentID: d.ID, Op: "marking it Failed after its targets could not be stored", Err: err}
	}
	e.observe(Event{Kind: EventDeploymentStatus, Time: now, DeploymentID: d.ID, ApplicationName: d.ApplicationName,
		GroupName: d.GroupName, Status: StatusFailed, ErrorInformation: d.ErrorInformation})
	return nil
}

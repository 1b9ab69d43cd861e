package deploy

import (
	"time"

	"github.com/fleetdeploy/fleetdeploy/config"
	"github.com/fleetdeploy/fleetdeploy/deploy/plan"
	"github.com/fleetdeploy/fleetdeploy/revision"
	"github.com/fleetdeploy/fleetdeploy/target"
)

// Deployment is one deployment of a revision to a deployment group: what
// was asked for, the settings it runs with (snapshots taken when it was
// created, so later changes to the group or to a custom configuration do not
// affect it), its status and the phase state an executor needs to resume it
// after a crash. Per-target state is not here but in DeploymentTarget
// records, so that a target's transition is one small write.
type Deployment struct {
	// ID identifies the deployment ("d-" and 9 characters in CodeDeploy);
	// CreateDeployment assigns one when it is empty.
	ID              string `json:"deploymentId"`
	ApplicationName string `json:"applicationName"`
	GroupName       string `json:"deploymentGroupName"`
	// GroupID is the group's ID when the deployment was created.
	GroupID         string                 `json:"deploymentGroupId"`
	ComputePlatform config.ComputePlatform `json:"computePlatform,omitempty"`
	// Revision is the revision being deployed.
	Revision revision.Location `json:"revision"`
	// PreviousRevision is the group's TargetRevision when the deployment
	// was created: the revision a rollback would return to. Nil if the group
	// had none.
	PreviousRevision *revision.Location `json:"previousRevision,omitempty"`
	// ConfigName is the name of the deployment configuration.
	ConfigName string `json:"deploymentConfigName"`
	// Config is the resolved configuration, a snapshot.
	Config config.Config `json:"deploymentConfig"`
	// DeploymentStyle is the group's style with defaults filled in (see
	// Group.Style).
	DeploymentStyle DeploymentStyle `json:"deploymentStyle"`
	// LoadBalancerInfo is the group's, a snapshot.
	LoadBalancerInfo target.LoadBalancerInfo `json:"loadBalancerInfo,omitzero"`
	// BlueGreenDeploymentConfiguration is the group's, a snapshot (nil for
	// in-place and Lambda deployments).
	BlueGreenDeploymentConfiguration *BlueGreenDeploymentConfiguration `json:"blueGreenDeploymentConfiguration,omitempty"`
	// AutoRollbackConfiguration overrides the group's when not nil.
	AutoRollbackConfiguration *AutoRollbackConfiguration `json:"autoRollbackConfiguration,omitempty"`
	// OverrideAlarmConfiguration replaces the group's alarms when not nil.
	OverrideAlarmConfiguration *AlarmConfiguration `json:"overrideAlarmConfiguration,omitempty"`
	// FileExistsBehavior: empty means the AppSpec's, else DISALLOW
	// (fleetdeploy's decision; see package fleetdeploy, "Where fleetdeploy
	// decides").
	FileExistsBehavior revision.FileExistsBehavior `json:"fileExistsBehavior,omitempty"`
	// IgnoreApplicationStopFailures: failures of ApplicationStop,
	// BeforeBlockTraffic and AfterBlockTraffic do not fail a target.
	IgnoreApplicationStopFailures bool `json:"ignoreApplicationStopFailures,omitempty"`
	// UpdateOutdatedInstancesOnly: deploy only to targets not running the
	// group's target revision (Server only).
	UpdateOutdatedInstancesOnly bool `json:"updateOutdatedInstancesOnly,omitempty"`
	// TargetInstances selects the existing instances that become the
	// replacement fleet of a Server blue/green deployment with
	// DISCOVER_EXISTING (CreateDeployment's targetInstances); zero
	// otherwise.
	TargetInstances target.Selector `json:"targetInstances,omitzero"`
	// Creator says who started the deployment.
	Creator target.DeploymentCreator `json:"creator"`
	// Description is free text (at most 256 characters).
	Description string `json:"description,omitempty"`

	// Status is the deployment's status. A store keeps at most one
	// deployment per group whose status IsActive.
	Status DeploymentStatus `json:"status"`
	// ErrorInformation says why the deployment failed or stopped; the zero
	// value means no error.
	ErrorInformation ErrorInformation `json:"errorInformation,omitzero"`
	// RollbackInfo links a rollback and the deployment it rolls back.
	RollbackInfo RollbackInfo `json:"rollbackInfo,omitzero"`
	// RelatedDeployments links auto-update deployments (API Reference,
	// DeploymentInfo relatedDeployments; CreateDeploymentGroup
	// outdatedInstancesStrategy).
	RelatedDeployments RelatedDeployments `json:"relatedDeployments,omitzero"`
	// StopRequest is set when a stop was asked for (on request or by an
	// alarm); nil otherwise. It is persisted so that any process can stop a
	// deployment another process runs.
	StopRequest *StopRequest `json:"stopRequest,omitempty"`
	// HookExecutions are the executions of the Lambda or ECS deployment's
	// hook functions, each with the status its function reported through
	// PutLifecycleEventHookExecutionStatus; nil for Server deployments.
	// Kept here, like StopRequest, so that any process can take a report
	// for a deployment another process runs.
	HookExecutions []HookExecution `json:"hookExecutions,omitempty"`
	// Overview counts the targets by status. The DeploymentTarget records
	// are the source of truth; an executor refreshes these counters when it
	// writes the deployment and recomputes them on resume.
	Overview DeploymentOverview `json:"deploymentOverview"`
	// Progress is the phase state of a running deployment.
	Progress Progress `json:"progress,omitzero"`

	CreateTime   time.Time `json:"createTime,omitzero"`
	StartTime    time.Time `json:"startTime,omitzero"`
	CompleteTime time.Time `json:"completeTime,omitzero"`

	// Version is set by the store: 1 when created, one more on every
	// update. UpdateDeployment succeeds only with the stored Version.
	Version int64 `json:"version"`
}

// ErrorInformation is CodeDeploy's ErrorInformation.
type ErrorInformation struct {
	Code    ErrorCode `json:"code,omitempty"`
	Message string    `json:"message,omitempty"`
}

// RollbackInfo is CodeDeploy's RollbackInfo. On a deployment that was rolled
// back, RollbackDeploymentID names the rollback; on a rollback,
// RollbackTriggeringDeploymentID names the deployment it rolls back.
// RollbackMessage explains, in words, also why no rollback happened (for
// example because no earlier revision succeeded: fleetdeploy's decision,
// see "Rollbacks" in the package documentation).
type RollbackInfo struct {
	RollbackDeploymentID           string `json:"rollbackDeploymentId,omitempty"`
	RollbackTriggeringDeploymentID string `json:"rollbackTriggeringDeploymentId,omitempty"`
	RollbackMessage                string `json:"rollbackMessage,omitempty"`
}

// RelatedDeployments is CodeDeploy's RelatedDeployments: the chain of
// deployments started for instances launched during a deployment.
type RelatedDeployments struct {
	AutoUpdateOutdatedInstancesRootDeploymentID string   `json:"autoUpdateOutdatedInstancesRootDeploymentId,omitempty"`
	AutoUpdateOutdatedInstancesDeploymentIDs    []string `json:"autoUpdateOutdatedInstancesDeploymentIds,omitempty"`
}

// StopRequest records a request to stop a deployment (API Reference,
// StopDeployment; see Executor.Stop).
type StopRequest struct {
	// Requested is when the stop was asked for.
	Requested time.Time `json:"requested"`
	// AutoRollback asks for a rollback after the stop (StopDeployment's
	// autoRollbackEnabled; the caller resolves its default from the
	// deployment's auto-rollback configuration).
	AutoRollback bool `json:"autoRollback,omitempty"`
	// AbortRunningEvents cancels lifecycle events already running, which
	// are then recorded as failed; otherwise they may finish and the stop
	// is Pending until they do.
	AbortRunningEvents bool `json:"abortRunningEvents,omitempty"`
	// Alarm names the alarm that stopped the deployment; empty for a stop
	// on request.
	Alarm string `json:"alarm,omitempty"`
	// Message says why, in words.
	Message string `json:"message,omitempty"`
}

// DeploymentOverview is CodeDeploy's DeploymentOverview: how many targets
// of the deployment are in each status.
type DeploymentOverview struct {
	Pending    int64 `json:"Pending"`
	InProgress int64 `json:"InProgress"`
	Succeeded  int64 `json:"Succeeded"`
	Failed     int64 `json:"Failed"`
	Skipped    int64 `json:"Skipped"`
	Ready      int64 `json:"Ready"`
}

// Add adds n to the counter of status s. Statuses without a counter
// (Unknown) are ignored.
func (o *DeploymentOverview) Add(s target.TargetStatus, n int64) {
	switch s {
	case target.TargetPending:
		o.Pending += n
	case target.TargetInProgress:
		o.InProgress += n
	case target.TargetSucceeded:
		o.Succeeded += n
	case target.TargetFailed:
		o.Failed += n
	case target.TargetSkipped:
		o.Skipped += n
	case target.TargetReady:
		o.Ready += n
	}
}

// Move records one target moving from status from to status to.
func (o *DeploymentOverview) Move(from, to target.TargetStatus) {
	o.Add(from, -1)
	o.Add(to, 1)
}

// Progress is the state of a deployment that is not per target: what an
// executor must persist to resume after a crash without repeating or
// skipping a phase, and the requests other callers leave for it. It is
// O(1) in the size of the fleet.
type Progress struct {
	// Plan is the planner's deployment-level state (plan.Decision.Progress):
	// the phase and when it began, the step handed out, the traffic shifts
	// done, a zonal monitor wait, a stop or failure recorded. The executor
	// stores it before it acts on a decision and passes it back to the
	// planner when it resumes.
	Plan plan.Progress `json:"plan,omitzero"`
	// ReadyWaitContinued records ContinueDeployment(READY_WAIT) (see
	// Executor.Continue); the running executor passes it on to the planner.
	ReadyWaitContinued bool `json:"readyWaitContinued,omitempty"`
	// TerminationWaitContinued records
	// ContinueDeployment(TERMINATION_WAIT).
	TerminationWaitContinued bool `json:"terminationWaitContinued,omitempty"`
	// Original is the version a Lambda or ECS deployment moves traffic
	// away from (the function version, the original task set), recorded
	// before anything moves, so that a resumed deployment still knows which
	// task set to remove once the route sends everything to the
	// replacement, and its rollback knows what to move traffic back to. In
	// a rollback it is what traffic moves away from: the rolled-back
	// deployment's replacement.
	Original string `json:"original,omitempty"`
	// Ending is the planner's final decision, stored while the executor
	// finishes the deployment (marks untouched targets Skipped, updates
	// instance health and the group) and before the status becomes final.
	// A deployment resumed with an Ending is finished, not planned again.
	Ending *Ending `json:"ending,omitempty"`
}

// Ending is how a deployment ends, decided before it is finished (see
// Progress.Ending).
type Ending struct {
	// Status is Succeeded, Failed or Stopped.
	Status DeploymentStatus `json:"status"`
	// ErrorInformation says why it failed or stopped.
	ErrorInformation ErrorInformation `json:"errorInformation,omitzero"`
	// Explanation is the planner's account of the outcome, with the
	// arithmetic.
	Explanation string `json:"explanation,omitempty"`
	// Time becomes the deployment's CompleteTime.
	Time time.Time `json:"time"`
}

// TargetInfo returns what a target needs to know about d (see
// target.DeploymentInfo).
func (d *Deployment) TargetInfo() target.DeploymentInfo {
	return target.DeploymentInfo{
		ApplicationName:               d.ApplicationName,
		DeploymentGroupName:           d.GroupName,
		DeploymentGroupID:             d.GroupID,
		DeploymentID:                  d.ID,
		Revision:                      d.Revision.Clone(),
		Creator:                       d.Creator,
		DeploymentType:                d.DeploymentStyle.DeploymentType,
		FileExistsBehavior:            d.FileExistsBehavior,
		IgnoreApplicationStopFailures: d.IgnoreApplicationStopFailures,
		LoadBalancer:                  d.LoadBalancerInfo.Clone(),
	}
}

// Summary returns d as its group's LastDeploymentInfo: ID, status, create
// time and, for a final status, CompleteTime as the end time.
func (d *Deployment) Summary() LastDeploymentInfo {
	l := LastDeploymentInfo{DeploymentID: d.ID, Status: d.Status, CreateTime: d.CreateTime}
	if d.Status.Final() {
		l.EndTime = d.CompleteTime
	}
	return l
}

package deploy

import "github.com/fleetdeploy/fleetdeploy/target"

import "github.com/fleetdeploy/fleetdeploy/deploy/plan"

// The enums the planner shares with the model are package plan's, so that
// each value has one definition: deploy names them for convenience.

// DeploymentStatus is the status of a deployment, spelled as CodeDeploy
// spells it (API Reference, DeploymentInfo; what Baking and Queued mean is
// fleetdeploy's decision): plan.DeploymentStatus. The zero value is
// unset and invalid. Succeeded, Failed and Stopped are final
// (DeploymentStatus.Final); Created, InProgress, Baking and Ready hold the
// group's active slot (DeploymentStatus.IsActive).
type DeploymentStatus = plan.DeploymentStatus

// The deployment statuses.
const (
	// StatusCreated: the deployment exists and holds its group's active
	// slot, but no work has started.
	StatusCreated = plan.Created
	// StatusQueued: the deployment waits behind another active deployment
	// of the same group (only when the caller opts into queueing). A queued
	// deployment does not hold the group's active slot.
	StatusQueued = plan.Queued
	// StatusInProgress: the deployment is working.
	StatusInProgress = plan.InProgress
	// StatusBaking: a zonal monitor wait or a blue/green termination wait.
	StatusBaking = plan.Baking
	// StatusReady: a blue/green deployment whose replacement is installed,
	// waiting for ContinueDeployment before traffic is rerouted.
	StatusReady = plan.Ready
	// StatusSucceeded is final.
	StatusSucceeded = plan.Succeeded
	// StatusFailed is final.
	StatusFailed = plan.Failed
	// StatusStopped is final: stopped on request, by an alarm or because
	// a blue/green ready wait expired.
	StatusStopped = plan.Stopped
)

// ErrorCode says why a deployment failed or stopped, spelled as CodeDeploy
// spells ErrorInformation.code (API Reference, ErrorInformation):
// plan.ErrorCode. The codes are package plan's constants
// (plan.HealthConstraints, plan.ManualStop, …). "Error codes" in the
// package documentation says which ones fleetdeploy produces, when, and
// which it never produces and why.
type ErrorCode = plan.ErrorCode

// DeploymentOption says whether a deployment routes traffic through a load
// balancer, spelled as CodeDeploy spells deploymentStyle.deploymentOption.
type DeploymentOption string

// The deployment options.
const (
	// WithTrafficControl: targets are deregistered from the load balancer
	// before they are updated and registered again afterwards (in-place),
	// or traffic is rerouted to the replacement (blue/green).
	WithTrafficControl DeploymentOption = "WITH_TRAFFIC_CONTROL"
	// WithoutTrafficControl: the load balancer, if any, is left alone.
	WithoutTrafficControl DeploymentOption = "WITHOUT_TRAFFIC_CONTROL"
)

// Values returns every valid DeploymentOption.
func (DeploymentOption) Values() []DeploymentOption {
	return []DeploymentOption{WithTrafficControl, WithoutTrafficControl}
}

// InstanceAction is what happens to the original (blue) targets after a
// successful blue/green deployment, spelled as CodeDeploy spells
// terminateBlueInstancesOnDeploymentSuccess.action: plan.TerminationAction.
type InstanceAction = plan.TerminationAction

// The instance actions.
const (
	// InstanceActionTerminate terminates the originals after the
	// termination wait (for ECS: deletes the original task set).
	InstanceActionTerminate = plan.Terminate
	// InstanceActionKeepAlive deregisters the originals but keeps them
	// running.
	InstanceActionKeepAlive = plan.KeepAlive
)

// DeploymentReadyAction is when a blue/green deployment reroutes traffic
// to its replacement, spelled as CodeDeploy spells
// deploymentReadyOption.actionOnTimeout: plan.ReadyAction.
type DeploymentReadyAction = plan.ReadyAction

// The deployment ready actions.
const (
	// ActionContinueDeployment reroutes traffic as soon as the replacement is
	// installed.
	ActionContinueDeployment = plan.ContinueDeployment
	// ActionStopDeployment waits for ContinueDeployment; if it does not come
	// within waitTimeInMinutes the deployment is Stopped.
	ActionStopDeployment = plan.StopDeployment
)

// GreenFleetProvisioningAction says where a blue/green deployment gets its
// replacement fleet (greenFleetProvisioningOption.action). It is
// target.ProvisionAction: the Provisioner role owns the values.
type GreenFleetProvisioningAction = target.ProvisionAction

// The green fleet provisioning actions, as target spells them.
const (
	// GreenFleetDiscoverExisting uses instances that already exist.
	GreenFleetDiscoverExisting = target.DiscoverExisting
	// GreenFleetCopyAutoScalingGroup copies the group's Auto Scaling group
	// (named "CodeDeploy_<deploymentGroupName>_<deploymentId>").
	GreenFleetCopyAutoScalingGroup = target.CopyAutoScalingGroup
)

// AutoRollbackEvent is an event that triggers an automatic rollback,
// spelled as CodeDeploy spells autoRollbackConfiguration.events.
type AutoRollbackEvent string

// The automatic rollback events.
const (
	// AutoRollbackDeploymentFailure: the deployment failed.
	AutoRollbackDeploymentFailure AutoRollbackEvent = "DEPLOYMENT_FAILURE"
	// AutoRollbackDeploymentStopOnAlarm: an alarm stopped the deployment.
	AutoRollbackDeploymentStopOnAlarm AutoRollbackEvent = "DEPLOYMENT_STOP_ON_ALARM"
	// AutoRollbackDeploymentStopOnRequest: the deployment was stopped on
	// request.
	AutoRollbackDeploymentStopOnRequest AutoRollbackEvent = "DEPLOYMENT_STOP_ON_REQUEST"
)

// Values returns every valid AutoRollbackEvent.
func (AutoRollbackEvent) Values() []AutoRollbackEvent {
	return []AutoRollbackEvent{AutoRollbackDeploymentFailure, AutoRollbackDeploymentStopOnAlarm, AutoRollbackDeploymentStopOnRequest}
}

// TriggerEventType is an event a trigger notifies about, spelled as
// CodeDeploy spells triggerEvents (API Reference, TriggerConfig).
type TriggerEventType string

// The trigger event types.
const (
	TriggerDeploymentStart    TriggerEventType = "DeploymentStart"
	TriggerDeploymentSuccess  TriggerEventType = "DeploymentSuccess"
	TriggerDeploymentFailure  TriggerEventType = "DeploymentFailure"
	TriggerDeploymentStop     TriggerEventType = "DeploymentStop"
	TriggerDeploymentRollback TriggerEventType = "DeploymentRollback"
	// TriggerDeploymentReady: a blue/green replacement is ready for
	// traffic.
	TriggerDeploymentReady TriggerEventType = "DeploymentReady"
	TriggerInstanceStart   TriggerEventType = "InstanceStart"
	TriggerInstanceSuccess TriggerEventType = "InstanceSuccess"
	TriggerInstanceFailure TriggerEventType = "InstanceFailure"
	// TriggerInstanceReady: a blue/green replacement target is ready for
	// traffic.
	TriggerInstanceReady TriggerEventType = "InstanceReady"
)

// Values returns every valid TriggerEventType.
func (TriggerEventType) Values() []TriggerEventType {
	return []TriggerEventType{TriggerDeploymentStart, TriggerDeploymentSuccess, TriggerDeploymentFailure,
		TriggerDeploymentStop, TriggerDeploymentRollback, TriggerDeploymentReady, TriggerInstanceStart,
		TriggerInstanceSuccess, TriggerInstanceFailure, TriggerInstanceReady}
}

// OutdatedInstancesStrategy says what happens to instances launched while a
// deployment runs, which receive the previous revision, spelled as
// CodeDeploy spells outdatedInstancesStrategy (API Reference,
// CreateDeploymentGroup; User Guide, "Integrating CodeDeploy with Amazon EC2
// Auto Scaling").
type OutdatedInstancesStrategy string

// The outdated instances strategies.
const (
	// OutdatedInstancesUpdate starts a follow-on deployment (creator
	// CodeDeployAutoUpdate) for them. The default.
	OutdatedInstancesUpdate OutdatedInstancesStrategy = "UPDATE"
	// OutdatedInstancesIgnore leaves them on the previous revision.
	OutdatedInstancesIgnore OutdatedInstancesStrategy = "IGNORE"
)

// Values returns every valid OutdatedInstancesStrategy.
func (OutdatedInstancesStrategy) Values() []OutdatedInstancesStrategy {
	return []OutdatedInstancesStrategy{OutdatedInstancesUpdate, OutdatedInstancesIgnore}
}

// DeploymentWaitType names the wait a ContinueDeployment call ends,
// spelled as CodeDeploy spells it (API Reference, ContinueDeployment):
// plan.WaitType.
type DeploymentWaitType = plan.WaitType

// The deployment wait types.
const (
	// ReadyWait: the blue/green replacement is ready; continuing starts
	// rerouting traffic.
	ReadyWait = plan.ReadyWait
	// TerminationWait: traffic has moved; continuing ends the wait before
	// the originals are terminated.
	TerminationWait = plan.TerminationWait
)

// StopStatus is the answer to a stop request, spelled as CodeDeploy spells
// it (API Reference, StopDeployment).
type StopStatus string

// The stop statuses.
const (
	// StopPending: lifecycle events that were running when the stop was
	// requested have not finished yet.
	StopPending StopStatus = "Pending"
	// StopSucceeded: the deployment is stopped.
	StopSucceeded StopStatus = "Succeeded"
)

// Values returns every valid StopStatus.
func (StopStatus) Values() []StopStatus { return []StopStatus{StopPending, StopSucceeded} }

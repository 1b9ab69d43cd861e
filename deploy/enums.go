package deploy

// DeploymentStatus is the status of a deployment, spelled as CodeDeploy
// spells it (spec §6.1, §11.4). The zero value is unset and invalid.
type DeploymentStatus string

// The deployment statuses.
const (
	// StatusCreated: the deployment exists and holds its group's active
	// slot, but no work has started.
	StatusCreated DeploymentStatus = "Created"
	// StatusQueued: the deployment waits behind another active deployment
	// of the same group (only when the caller opts into queueing). A queued
	// deployment does not hold the group's active slot.
	StatusQueued DeploymentStatus = "Queued"
	// StatusInProgress: the deployment is working.
	StatusInProgress DeploymentStatus = "InProgress"
	// StatusBaking: a zonal monitor wait or a blue/green termination wait.
	StatusBaking DeploymentStatus = "Baking"
	// StatusReady: a blue/green deployment whose replacement is installed,
	// waiting for ContinueDeployment before traffic is rerouted.
	StatusReady DeploymentStatus = "Ready"
	// StatusSucceeded is final.
	StatusSucceeded DeploymentStatus = "Succeeded"
	// StatusFailed is final.
	StatusFailed DeploymentStatus = "Failed"
	// StatusStopped is final: stopped on request, by an alarm or because
	// a blue/green ready wait expired.
	StatusStopped DeploymentStatus = "Stopped"
)

// Values returns every valid DeploymentStatus.
func (DeploymentStatus) Values() []DeploymentStatus {
	return []DeploymentStatus{StatusCreated, StatusQueued, StatusInProgress, StatusBaking, StatusReady,
		StatusSucceeded, StatusFailed, StatusStopped}
}

// Valid reports whether s is one of Values.
func (s DeploymentStatus) Valid() bool { return s.IsFinal() || s == StatusQueued || s.IsActive() }

// IsFinal reports whether s is Succeeded, Failed or Stopped: the deployment
// is over and its status never changes again.
func (s DeploymentStatus) IsFinal() bool {
	return s == StatusSucceeded || s == StatusFailed || s == StatusStopped
}

// IsActive reports whether a deployment with status s holds its group's
// active slot: Created, InProgress, Baking or Ready. At most one deployment
// per group is active at any time (spec §6.2); a Queued deployment is
// waiting for the slot and a final one has released it.
func (s DeploymentStatus) IsActive() bool {
	return s == StatusCreated || s == StatusInProgress || s == StatusBaking || s == StatusReady
}

// ErrorCode says why a deployment failed or stopped, spelled as CodeDeploy
// spells ErrorInformation.code (spec §6.1).
type ErrorCode string

// The error codes.
const (
	ErrorCodeAgentIssue                              ErrorCode = "AGENT_ISSUE"
	ErrorCodeAlarmActive                             ErrorCode = "ALARM_ACTIVE"
	ErrorCodeApplicationMissing                      ErrorCode = "APPLICATION_MISSING"
	ErrorCodeAutoscalingValidationError              ErrorCode = "AUTOSCALING_VALIDATION_ERROR"
	ErrorCodeAutoScalingConfiguration                ErrorCode = "AUTO_SCALING_CONFIGURATION"
	ErrorCodeAutoScalingIAMRolePermissions           ErrorCode = "AUTO_SCALING_IAM_ROLE_PERMISSIONS"
	ErrorCodeCodeDeployResourceCannotBeFound         ErrorCode = "CODEDEPLOY_RESOURCE_CANNOT_BE_FOUND"
	ErrorCodeCustomerApplicationUnhealthy            ErrorCode = "CUSTOMER_APPLICATION_UNHEALTHY"
	ErrorCodeDeploymentGroupMissing                  ErrorCode = "DEPLOYMENT_GROUP_MISSING"
	ErrorCodeECSUpdateError                          ErrorCode = "ECS_UPDATE_ERROR"
	ErrorCodeElasticLoadBalancingInvalid             ErrorCode = "ELASTIC_LOAD_BALANCING_INVALID"
	ErrorCodeELBInvalidInstance                      ErrorCode = "ELB_INVALID_INSTANCE"
	ErrorCodeHealthConstraints                       ErrorCode = "HEALTH_CONSTRAINTS"
	ErrorCodeHealthConstraintsInvalid                ErrorCode = "HEALTH_CONSTRAINTS_INVALID"
	ErrorCodeHookExecutionFailure                    ErrorCode = "HOOK_EXECUTION_FAILURE"
	ErrorCodeIAMRoleMissing                          ErrorCode = "IAM_ROLE_MISSING"
	ErrorCodeIAMRolePermissions                      ErrorCode = "IAM_ROLE_PERMISSIONS"
	ErrorCodeInternalError                           ErrorCode = "INTERNAL_ERROR"
	ErrorCodeInvalidECSService                       ErrorCode = "INVALID_ECS_SERVICE"
	ErrorCodeInvalidLambdaConfiguration              ErrorCode = "INVALID_LAMBDA_CONFIGURATION"
	ErrorCodeInvalidLambdaFunction                   ErrorCode = "INVALID_LAMBDA_FUNCTION"
	ErrorCodeInvalidRevision                         ErrorCode = "INVALID_REVISION"
	ErrorCodeManualStop                              ErrorCode = "MANUAL_STOP"
	ErrorCodeMissingBlueGreenDeploymentConfiguration ErrorCode = "MISSING_BLUE_GREEN_DEPLOYMENT_CONFIGURATION"
	ErrorCodeMissingELBInformation                   ErrorCode = "MISSING_ELB_INFORMATION"
	ErrorCodeMissingGitHubToken                      ErrorCode = "MISSING_GITHUB_TOKEN"
	ErrorCodeNoEC2Subscription                       ErrorCode = "NO_EC2_SUBSCRIPTION"
	ErrorCodeNoInstances                             ErrorCode = "NO_INSTANCES"
	ErrorCodeOverMaxInstances                        ErrorCode = "OVER_MAX_INSTANCES"
	ErrorCodeResourceLimitExceeded                   ErrorCode = "RESOURCE_LIMIT_EXCEEDED"
	ErrorCodeRevisionMissing                         ErrorCode = "REVISION_MISSING"
	ErrorCodeThrottled                               ErrorCode = "THROTTLED"
	ErrorCodeTimeout                                 ErrorCode = "TIMEOUT"
	ErrorCodeCloudFormationStackFailure              ErrorCode = "CLOUDFORMATION_STACK_FAILURE"
)

// Values returns every valid ErrorCode, in the order of spec §6.1.
func (ErrorCode) Values() []ErrorCode {
	return []ErrorCode{ErrorCodeAgentIssue, ErrorCodeAlarmActive, ErrorCodeApplicationMissing,
		ErrorCodeAutoscalingValidationError, ErrorCodeAutoScalingConfiguration, ErrorCodeAutoScalingIAMRolePermissions,
		ErrorCodeCodeDeployResourceCannotBeFound, ErrorCodeCustomerApplicationUnhealthy, ErrorCodeDeploymentGroupMissing,
		ErrorCodeECSUpdateError, ErrorCodeElasticLoadBalancingInvalid, ErrorCodeELBInvalidInstance,
		ErrorCodeHealthConstraints, ErrorCodeHealthConstraintsInvalid, ErrorCodeHookExecutionFailure,
		ErrorCodeIAMRoleMissing, ErrorCodeIAMRolePermissions, ErrorCodeInternalError, ErrorCodeInvalidECSService,
		ErrorCodeInvalidLambdaConfiguration, ErrorCodeInvalidLambdaFunction, ErrorCodeInvalidRevision,
		ErrorCodeManualStop, ErrorCodeMissingBlueGreenDeploymentConfiguration, ErrorCodeMissingELBInformation,
		ErrorCodeMissingGitHubToken, ErrorCodeNoEC2Subscription, ErrorCodeNoInstances, ErrorCodeOverMaxInstances,
		ErrorCodeResourceLimitExceeded, ErrorCodeRevisionMissing, ErrorCodeThrottled, ErrorCodeTimeout,
		ErrorCodeCloudFormationStackFailure}
}

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
// terminateBlueInstancesOnDeploymentSuccess.action.
type InstanceAction string

// The instance actions.
const (
	// InstanceActionTerminate terminates the originals after the
	// termination wait (for ECS: deletes the original task set).
	InstanceActionTerminate InstanceAction = "TERMINATE"
	// InstanceActionKeepAlive deregisters the originals but keeps them
	// running.
	InstanceActionKeepAlive InstanceAction = "KEEP_ALIVE"
)

// Values returns every valid InstanceAction.
func (InstanceAction) Values() []InstanceAction {
	return []InstanceAction{InstanceActionTerminate, InstanceActionKeepAlive}
}

// DeploymentReadyAction is when a blue/green deployment reroutes traffic
// to its replacement, spelled as CodeDeploy spells
// deploymentReadyOption.actionOnTimeout.
type DeploymentReadyAction string

// The deployment ready actions.
const (
	// ActionContinueDeployment reroutes traffic as soon as the replacement is
	// installed.
	ActionContinueDeployment DeploymentReadyAction = "CONTINUE_DEPLOYMENT"
	// ActionStopDeployment waits for ContinueDeployment; if it does not come
	// within waitTimeInMinutes the deployment is Stopped.
	ActionStopDeployment DeploymentReadyAction = "STOP_DEPLOYMENT"
)

// Values returns every valid DeploymentReadyAction.
func (DeploymentReadyAction) Values() []DeploymentReadyAction {
	return []DeploymentReadyAction{ActionContinueDeployment, ActionStopDeployment}
}

// GreenFleetProvisioningAction is how an EC2 blue/green deployment finds
// its replacement fleet, spelled as CodeDeploy spells
// greenFleetProvisioningOption.action.
type GreenFleetProvisioningAction string

// The green fleet provisioning actions.
const (
	// GreenFleetDiscoverExisting uses instances that already exist.
	GreenFleetDiscoverExisting GreenFleetProvisioningAction = "DISCOVER_EXISTING"
	// GreenFleetCopyAutoScalingGroup copies the group's Auto Scaling group (named
	// "CodeDeploy_<deploymentGroupName>_<deploymentId>").
	GreenFleetCopyAutoScalingGroup GreenFleetProvisioningAction = "COPY_AUTO_SCALING_GROUP"
)

// Values returns every valid GreenFleetProvisioningAction.
func (GreenFleetProvisioningAction) Values() []GreenFleetProvisioningAction {
	return []GreenFleetProvisioningAction{GreenFleetDiscoverExisting, GreenFleetCopyAutoScalingGroup}
}

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
// CodeDeploy spells triggerEvents (spec §5).
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
// CodeDeploy spells outdatedInstancesStrategy (spec §5, §8).
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
// spelled as CodeDeploy spells it (spec §6.4).
type DeploymentWaitType string

// The deployment wait types.
const (
	// ReadyWait: the blue/green replacement is ready; continuing starts
	// rerouting traffic.
	ReadyWait DeploymentWaitType = "READY_WAIT"
	// TerminationWait: traffic has moved; continuing ends the wait before
	// the originals are terminated.
	TerminationWait DeploymentWaitType = "TERMINATION_WAIT"
)

// Values returns every valid DeploymentWaitType.
func (DeploymentWaitType) Values() []DeploymentWaitType {
	return []DeploymentWaitType{ReadyWait, TerminationWait}
}

// StopStatus is the answer to a stop request, spelled as CodeDeploy spells
// it (spec §6.4, §11.14).
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

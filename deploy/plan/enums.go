package plan

// DeploymentStatus is the status of a deployment, spelled as CodeDeploy
// spells it (API Reference, DeploymentInfo). What Baking and Queued mean is
// fleetdeploy's decision, as their comments say: AWS lists them without
// describing them.
type DeploymentStatus string

// The deployment statuses. The planner reports InProgress, Baking, Ready
// and the three final ones; Created and Queued belong to the executor.
const (
	// Created: the deployment exists and has not started.
	Created DeploymentStatus = "Created"
	// Queued: waiting behind another active deployment of the same group.
	Queued DeploymentStatus = "Queued"
	// InProgress: targets, steps or traffic shifts are being worked on.
	InProgress DeploymentStatus = "InProgress"
	// Baking: a zonal monitor wait between two zones, or a blue/green
	// termination wait.
	Baking DeploymentStatus = "Baking"
	// Succeeded is final.
	Succeeded DeploymentStatus = "Succeeded"
	// Failed is final.
	Failed DeploymentStatus = "Failed"
	// Stopped is final: a stop request, an alarm, or a ready wait that ran
	// out (STOP_DEPLOYMENT).
	Stopped DeploymentStatus = "Stopped"
	// Ready: a blue/green replacement is installed and waits for
	// Continue(READY_WAIT).
	Ready DeploymentStatus = "Ready"
)

// Values returns every valid DeploymentStatus.
func (DeploymentStatus) Values() []DeploymentStatus {
	return []DeploymentStatus{Created, Queued, InProgress, Baking, Succeeded, Failed, Stopped, Ready}
}

// Final reports whether s is Succeeded, Failed or Stopped: the deployment
// is over and its status never changes again.
func (s DeploymentStatus) Final() bool { return s == Succeeded || s == Failed || s == Stopped }

// IsActive reports whether a deployment with status s holds its group's
// active slot: Created, InProgress, Baking or Ready. At most one deployment
// per group is active at any time (User Guide, "CodeDeploy quotas"); a
// Queued deployment is waiting for the slot and a final one has released it.
func (s DeploymentStatus) IsActive() bool {
	return s == Created || s == InProgress || s == Baking || s == Ready
}

// Valid reports whether s is one of Values.
func (s DeploymentStatus) Valid() bool { return s.Final() || s == Queued || s.IsActive() }

// ErrorCode is the reason a deployment failed or stopped, spelled as
// CodeDeploy spells ErrorInformation.code (API Reference, ErrorInformation).
type ErrorCode string

// The error codes. The planner itself produces HealthConstraints,
// HealthConstraintsInvalid, NoInstances, Timeout and whatever code a caller
// passes to Stop or StepFinished; the others are for the executor.
const (
	AgentIssue                       ErrorCode = "AGENT_ISSUE"
	AlarmActive                      ErrorCode = "ALARM_ACTIVE"
	ApplicationMissing               ErrorCode = "APPLICATION_MISSING"
	AutoscalingValidationError       ErrorCode = "AUTOSCALING_VALIDATION_ERROR"
	AutoScalingConfiguration         ErrorCode = "AUTO_SCALING_CONFIGURATION"
	AutoScalingIAMRolePermissions    ErrorCode = "AUTO_SCALING_IAM_ROLE_PERMISSIONS"
	CodeDeployResourceCannotBeFound  ErrorCode = "CODEDEPLOY_RESOURCE_CANNOT_BE_FOUND"
	CustomerApplicationUnhealthy     ErrorCode = "CUSTOMER_APPLICATION_UNHEALTHY"
	DeploymentGroupMissing           ErrorCode = "DEPLOYMENT_GROUP_MISSING"
	ECSUpdateError                   ErrorCode = "ECS_UPDATE_ERROR"
	ElasticLoadBalancingInvalid      ErrorCode = "ELASTIC_LOAD_BALANCING_INVALID"
	ELBInvalidInstance               ErrorCode = "ELB_INVALID_INSTANCE"
	HealthConstraints                ErrorCode = "HEALTH_CONSTRAINTS"
	HealthConstraintsInvalid         ErrorCode = "HEALTH_CONSTRAINTS_INVALID"
	HookExecutionFailure             ErrorCode = "HOOK_EXECUTION_FAILURE"
	IAMRoleMissing                   ErrorCode = "IAM_ROLE_MISSING"
	IAMRolePermissions               ErrorCode = "IAM_ROLE_PERMISSIONS"
	InternalError                    ErrorCode = "INTERNAL_ERROR"
	InvalidECSService                ErrorCode = "INVALID_ECS_SERVICE"
	InvalidLambdaConfiguration       ErrorCode = "INVALID_LAMBDA_CONFIGURATION"
	InvalidLambdaFunction            ErrorCode = "INVALID_LAMBDA_FUNCTION"
	InvalidRevision                  ErrorCode = "INVALID_REVISION"
	ManualStop                       ErrorCode = "MANUAL_STOP"
	MissingBlueGreenDeploymentConfig ErrorCode = "MISSING_BLUE_GREEN_DEPLOYMENT_CONFIGURATION"
	MissingELBInformation            ErrorCode = "MISSING_ELB_INFORMATION"
	MissingGitHubToken               ErrorCode = "MISSING_GITHUB_TOKEN"
	NoEC2Subscription                ErrorCode = "NO_EC2_SUBSCRIPTION"
	NoInstances                      ErrorCode = "NO_INSTANCES"
	OverMaxInstances                 ErrorCode = "OVER_MAX_INSTANCES"
	ResourceLimitExceeded            ErrorCode = "RESOURCE_LIMIT_EXCEEDED"
	RevisionMissing                  ErrorCode = "REVISION_MISSING"
	Throttled                        ErrorCode = "THROTTLED"
	Timeout                          ErrorCode = "TIMEOUT"
	CloudFormationStackFailure       ErrorCode = "CLOUDFORMATION_STACK_FAILURE"
)

// Values returns every valid ErrorCode.
func (ErrorCode) Values() []ErrorCode {
	return []ErrorCode{AgentIssue, AlarmActive, ApplicationMissing, AutoscalingValidationError,
		AutoScalingConfiguration, AutoScalingIAMRolePermissions, CodeDeployResourceCannotBeFound,
		CustomerApplicationUnhealthy, DeploymentGroupMissing, ECSUpdateError, ElasticLoadBalancingInvalid,
		ELBInvalidInstance, HealthConstraints, HealthConstraintsInvalid, HookExecutionFailure, IAMRoleMissing,
		IAMRolePermissions, InternalError, InvalidECSService, InvalidLambdaConfiguration, InvalidLambdaFunction,
		InvalidRevision, ManualStop, MissingBlueGreenDeploymentConfig, MissingELBInformation,
		MissingGitHubToken, NoEC2Subscription, NoInstances, OverMaxInstances, ResourceLimitExceeded,
		RevisionMissing, Throttled, Timeout, CloudFormationStackFailure}
}

func (c ErrorCode) valid() bool {
	for _, v := range c.Values() {
		if c == v {
			return true
		}
	}
	return false
}

// WaitType names a wait a caller can end with Continue, spelled as
// CodeDeploy spells DeploymentWaitType.
type WaitType string

// The wait types.
const (
	// ReadyWait: a blue/green replacement is installed and waits to receive
	// traffic (status Ready).
	ReadyWait WaitType = "READY_WAIT"
	// TerminationWait: traffic has moved and the originals wait to be
	// terminated (status Baking).
	TerminationWait WaitType = "TERMINATION_WAIT"
)

// Values returns every valid WaitType.
func (WaitType) Values() []WaitType { return []WaitType{ReadyWait, TerminationWait} }

// ReadyAction is what a blue/green deployment does once its replacement is
// installed, spelled as CodeDeploy spells
// DeploymentReadyOption.actionOnTimeout.
type ReadyAction string

// The ready actions.
const (
	// ContinueDeployment moves traffic as soon as the replacement is
	// installed.
	ContinueDeployment ReadyAction = "CONTINUE_DEPLOYMENT"
	// StopDeployment waits (status Ready) for Continue(READY_WAIT); when
	// BlueGreen.ReadyWait passes first, the deployment is Stopped.
	StopDeployment ReadyAction = "STOP_DEPLOYMENT"
)

// Values returns every valid ReadyAction.
func (ReadyAction) Values() []ReadyAction { return []ReadyAction{ContinueDeployment, StopDeployment} }

// TerminationAction is what happens to the originals of a successful
// blue/green deployment, spelled as CodeDeploy spells
// BlueInstanceTerminationOption.action.
type TerminationAction string

// The termination actions.
const (
	// Terminate removes the originals after BlueGreen.TerminationWait.
	Terminate TerminationAction = "TERMINATE"
	// KeepAlive leaves the originals running (out of the load balancer).
	KeepAlive TerminationAction = "KEEP_ALIVE"
)

// Values returns every valid TerminationAction.
func (TerminationAction) Values() []TerminationAction {
	return []TerminationAction{Terminate, KeepAlive}
}

// PhaseKind says what a Phase asks of the caller.
type PhaseKind string

// The phase kinds.
const (
	// KindTargets: start the targets in Decision.Start and report each with
	// Finished.
	KindTargets PhaseKind = "Targets"
	// KindStep: perform the one Decision.Step and report it with
	// StepFinished.
	KindStep PhaseKind = "Step"
	// KindTraffic: perform each traffic shift handed out in Decision.Step
	// (at the times of the configuration's schedule) and report it with
	// StepFinished.
	KindTraffic PhaseKind = "Traffic"
	// KindWait: nothing to do until Decision.WaitUntil or a Continue.
	KindWait PhaseKind = "Wait"
)

// Values returns every valid PhaseKind.
func (PhaseKind) Values() []PhaseKind {
	return []PhaseKind{KindTargets, KindStep, KindTraffic, KindWait}
}

// Phase is one stage of a deployment. A deployment is a fixed list of phases
// that depends on the platform and the deployment type (see Phases); each
// phase is of one PhaseKind. Lambda and ECS phases are named after the
// lifecycle events they are (User Guide, "AppSpec 'hooks' section"); the
// Server phases after what happens to the targets.
type Phase string

// The phases.
const (
	// PhaseDeploy (Server in-place, Targets): every target runs the in-place
	// lifecycle events ("AppSpec 'hooks' section"), in health order, under the
	// minimum healthy hosts rule, zone by zone when the configuration is zonal.
	PhaseDeploy Phase = "Deploy"
	// PhaseInstallReplacement (Server blue/green, Targets): the Green
	// targets run the install events, under the minimum healthy hosts rule
	// applied to the Green fleet ("CodeDeploy instance health").
	PhaseInstallReplacement Phase = "InstallReplacement"
	// PhaseReadyWait (blue/green with STOP_DEPLOYMENT, Wait): status Ready
	// until Continue(READY_WAIT), or Stopped when BlueGreen.ReadyWait
	// passes.
	PhaseReadyWait Phase = "ReadyWait"
	// PhaseReroute (Server blue/green, Targets): each installed Green target
	// runs the allow-traffic events (BeforeAllowTraffic, AllowTraffic,
	// AfterAllowTraffic), in batches per the configuration.
	PhaseReroute Phase = "Reroute"
	// PhaseBlockOriginals (Server blue/green, Targets): every Blue target
	// runs the block-traffic events, all at once; one failure fails the
	// deployment ("CodeDeploy instance health").
	PhaseBlockOriginals Phase = "BlockOriginals"
	// PhaseAllowOriginals (Server blue/green rollback, Targets): every Blue
	// target runs the allow-traffic events, all at once.
	PhaseAllowOriginals Phase = "AllowOriginals"
	// PhaseBlockReplacements (Server blue/green rollback, Targets): every
	// Green target runs the block-traffic events, all at once.
	PhaseBlockReplacements Phase = "BlockReplacements"
	// PhaseTerminationWait (blue/green with TERMINATE, Wait): status Baking
	// until BlueGreen.TerminationWait passes or Continue(TERMINATION_WAIT).
	PhaseTerminationWait Phase = "TerminationWait"
	// PhaseTerminateOriginals (blue/green with TERMINATE, Step): remove the
	// original instances (Server) or the original task set (ECS).
	PhaseTerminateOriginals Phase = "TerminateOriginals"

	// PhaseBeforeInstall (ECS, Step): the BeforeInstall hook.
	PhaseBeforeInstall Phase = "BeforeInstall"
	// PhaseInstall (ECS, Step): create the replacement task set.
	PhaseInstall Phase = "Install"
	// PhaseAfterInstall (ECS, Step): the AfterInstall hook.
	PhaseAfterInstall Phase = "AfterInstall"
	// PhaseAllowTestTraffic (ECS, Step): route the test listener to the
	// replacement.
	PhaseAllowTestTraffic Phase = "AllowTestTraffic"
	// PhaseAfterAllowTestTraffic (ECS, Step): the AfterAllowTestTraffic hook.
	PhaseAfterAllowTestTraffic Phase = "AfterAllowTestTraffic"
	// PhaseBeforeAllowTraffic (Lambda, ECS; Step): the BeforeAllowTraffic
	// hook.
	PhaseBeforeAllowTraffic Phase = "BeforeAllowTraffic"
	// PhaseAllowTraffic (Lambda, ECS; Traffic): the traffic shifts of the
	// configuration's schedule (config.TrafficRouting.Steps).
	PhaseAllowTraffic Phase = "AllowTraffic"
	// PhaseAfterAllowTraffic (Lambda, ECS; Step): the AfterAllowTraffic hook.
	PhaseAfterAllowTraffic Phase = "AfterAllowTraffic"
)

// Values returns every valid Phase.
func (Phase) Values() []Phase {
	return []Phase{PhaseDeploy, PhaseInstallReplacement, PhaseReadyWait, PhaseReroute, PhaseBlockOriginals,
		PhaseAllowOriginals, PhaseBlockReplacements, PhaseTerminationWait, PhaseTerminateOriginals,
		PhaseBeforeInstall, PhaseInstall, PhaseAfterInstall, PhaseAllowTestTraffic, PhaseAfterAllowTestTraffic,
		PhaseBeforeAllowTraffic, PhaseAllowTraffic, PhaseAfterAllowTraffic}
}

// Kind returns what p asks of the caller; "" for an invalid phase.
func (p Phase) Kind() PhaseKind {
	switch p {
	case PhaseDeploy, PhaseInstallReplacement, PhaseReroute, PhaseBlockOriginals, PhaseAllowOriginals, PhaseBlockReplacements:
		return KindTargets
	case PhaseReadyWait, PhaseTerminationWait:
		return KindWait
	case PhaseAllowTraffic:
		return KindTraffic
	case PhaseTerminateOriginals, PhaseBeforeInstall, PhaseInstall, PhaseAfterInstall, PhaseAllowTestTraffic,
		PhaseAfterAllowTestTraffic, PhaseBeforeAllowTraffic, PhaseAfterAllowTraffic:
		return KindStep
	}
	return ""
}

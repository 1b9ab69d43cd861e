package target

import "context"

// ScalingTransition says what is happening to an instance of a fleet that
// scales, spelled as EC2 Auto Scaling spells a lifecycle hook's
// LifecycleTransition.
type ScalingTransition string

// The scaling transitions.
const (
	// InstanceLaunching: the instance is joining the fleet (scale-out, or a
	// replacement) and waits for an answer before it takes traffic
	// (Auto Scaling's Pending:Wait).
	InstanceLaunching ScalingTransition = "autoscaling:EC2_INSTANCE_LAUNCHING"
	// InstanceTerminating: the instance is leaving the fleet (scale-in) and
	// waits for an answer before it is terminated (Terminating:Wait).
	InstanceTerminating ScalingTransition = "autoscaling:EC2_INSTANCE_TERMINATING"
)

// Values returns every valid ScalingTransition.
func (ScalingTransition) Values() []ScalingTransition {
	return []ScalingTransition{InstanceLaunching, InstanceTerminating}
}

// ScalingResult is the answer to a ScalingEvent, spelled as EC2 Auto
// Scaling spells CompleteLifecycleAction's LifecycleActionResult.
type ScalingResult string

// The scaling results.
const (
	// ScalingContinue lets the transition proceed: the launched instance
	// goes into service, the terminating one is terminated.
	ScalingContinue ScalingResult = "CONTINUE"
	// ScalingAbandon stops a launch: the platform terminates the instance
	// (and Auto Scaling launches another to meet its desired capacity).
	// For a termination it means the same as ScalingContinue.
	ScalingAbandon ScalingResult = "ABANDON"
)

// Values returns every valid ScalingResult.
func (ScalingResult) Values() []ScalingResult {
	return []ScalingResult{ScalingContinue, ScalingAbandon}
}

// ScalingEvent is the platform's notice that an instance is launching into,
// or terminating out of, a deployment group's fleet: one lifecycle action
// of a lifecycle hook CodeDeploy (here the implementation of ScalingEvents)
// installed on the fleet (User Guide, "Integrating CodeDeploy with Amazon
// EC2 Auto Scaling").
type ScalingEvent struct {
	// ID identifies this lifecycle action (Auto Scaling's
	// LifecycleActionToken); Heartbeat and Complete name the action by it.
	// Never empty.
	ID         string            `json:"id"`
	Transition ScalingTransition `json:"transition"`
	// Target is the instance, with its Auto Scaling group when it has one.
	Target Target `json:"target"`
	// ApplicationName and DeploymentGroupName name the deployment group
	// whose hook this event comes from.
	ApplicationName     string `json:"applicationName"`
	DeploymentGroupName string `json:"deploymentGroupName"`
}

// ScalingEvents is the platform's side of launch and termination
// deployments: it delivers the events of instances launching into and
// terminating out of deployment groups' fleets, and takes the executor's
// heartbeats and answers. For EC2 Auto Scaling these are the lifecycle
// hooks CodeDeploy installs on a group's Auto Scaling groups; an in-house
// platform may send its "host joined/leaving" events through it.
type ScalingEvents interface {
	// NextScalingEvent waits for the next event and returns it. Each event
	// is returned once to one caller; an event not completed (the caller
	// crashed) may be returned again once the platform gives up waiting
	// on it, which is the platform's business. An error means no event
	// was taken: ctx's error when it is done, or infrastructure trouble.
	NextScalingEvent(ctx context.Context) (ScalingEvent, error)
	// Heartbeat tells the platform that work on ev goes on, so that the
	// instance keeps waiting (Auto Scaling's RecordLifecycleActionHeartbeat;
	// its hook times out without one). The caller sends one every few
	// minutes while it works. An event already completed or timed out
	// returns an error wrapping ErrNotFound.
	Heartbeat(ctx context.Context, ev ScalingEvent) error
	// Complete answers ev (Auto Scaling's CompleteLifecycleAction):
	// ScalingContinue or ScalingAbandon. An event already completed or
	// timed out returns an error wrapping ErrNotFound; another error means
	// the answer may not have arrived and Complete may be called again.
	Complete(ctx context.Context, ev ScalingEvent, result ScalingResult) error
}

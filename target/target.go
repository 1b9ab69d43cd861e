package target

import (
	"github.com/fleetdeploy/fleetdeploy/revision"
)

// Target is one thing a deployment runs on: an EC2 instance, an on-premises
// instance, a Lambda function alias or an ECS service. It is pure data; a
// Lister produces it and the other roles receive it.
type Target struct {
	// ID identifies the target within its platform: an instance ID, an
	// on-premises instance name, "function:alias", "cluster/service". It is
	// never empty, and unique among the targets of one Lister.
	ID string `json:"id"`
	// Tags are the target's tags, matched by Selector. May be nil.
	Tags map[string]string `json:"tags,omitempty"`
	// Zone is the Availability Zone (or any failure domain) the target is
	// in; zonal deployments go one zone at a time. May be empty.
	Zone string `json:"zone,omitempty"`
	// AutoScalingGroup is the Auto Scaling group the instance belongs to,
	// empty if none. Only EC2 targets belong to Auto Scaling groups.
	AutoScalingGroup string `json:"autoScalingGroup,omitempty"`
	// OnPremises is true for an on-premises instance: it is matched by the
	// on-premises tag filters and never by EC2 tags or Auto Scaling groups.
	OnPremises bool `json:"onPremises,omitempty"`
	// Unavailable is true for a target that its Lister lists but that
	// cannot take a deployment now: a stopped (or stopping) EC2 instance,
	// which CodeDeploy still targets. The executor records it unhealthy
	// when the deployment is created, so that it counts like a failed
	// target in the minimum healthy hosts arithmetic, as CodeDeploy counts
	// a stopped instance; its events then fail with ErrTargetUnavailable
	// unless it was started meanwhile.
	Unavailable bool `json:"unavailable,omitempty"`
}

// DeploymentType is how a deployment replaces the running revision,
// spelled as CodeDeploy spells deploymentStyle.deploymentType.
type DeploymentType string

// The deployment types.
const (
	// InPlace stops the application on each target, installs the new
	// revision there and starts it again.
	InPlace DeploymentType = "IN_PLACE"
	// BlueGreen installs on a replacement fleet (EC2), a new function
	// version (Lambda) or task set (ECS), then moves traffic to it. Lambda
	// and ECS deployments are always BlueGreen.
	BlueGreen DeploymentType = "BLUE_GREEN"
)

// Values returns every valid DeploymentType.
func (DeploymentType) Values() []DeploymentType { return []DeploymentType{InPlace, BlueGreen} }

// DeploymentCreator says who or what started a deployment, spelled as
// CodeDeploy spells it.
type DeploymentCreator string

// The deployment creators.
const (
	CreatorUser                   DeploymentCreator = "user"
	CreatorAutoscaling            DeploymentCreator = "autoscaling"
	CreatorRollback               DeploymentCreator = "codeDeployRollback"
	CreatorCodeDeploy             DeploymentCreator = "CodeDeploy"
	CreatorAutoUpdate             DeploymentCreator = "CodeDeployAutoUpdate"
	CreatorCloudFormation         DeploymentCreator = "CloudFormation"
	CreatorCloudFormationRollback DeploymentCreator = "CloudFormationRollback"
	CreatorAutoscalingTermination DeploymentCreator = "autoscalingTermination"
)

// Values returns every valid DeploymentCreator.
func (DeploymentCreator) Values() []DeploymentCreator {
	return []DeploymentCreator{CreatorUser, CreatorAutoscaling, CreatorRollback, CreatorCodeDeploy,
		CreatorAutoUpdate, CreatorCloudFormation, CreatorCloudFormationRollback, CreatorAutoscalingTermination}
}

// TargetLabel tells the two fleets of a blue/green deployment apart, spelled
// as CodeDeploy spells it.
type TargetLabel string

// The target labels.
const (
	// LabelBlue marks an original target.
	LabelBlue TargetLabel = "Blue"
	// LabelGreen marks a replacement target.
	LabelGreen TargetLabel = "Green"
)

// Values returns every valid TargetLabel.
func (TargetLabel) Values() []TargetLabel { return []TargetLabel{LabelBlue, LabelGreen} }

// TargetStatus is the status of one target within a deployment, spelled as
// CodeDeploy spells it.
type TargetStatus string

// The target statuses.
const (
	TargetPending    TargetStatus = "Pending"
	TargetInProgress TargetStatus = "InProgress"
	TargetSucceeded  TargetStatus = "Succeeded"
	TargetFailed     TargetStatus = "Failed"
	TargetSkipped    TargetStatus = "Skipped"
	TargetUnknown    TargetStatus = "Unknown"
	// TargetReady is a blue/green replacement target that is installed and
	// waiting for traffic.
	TargetReady TargetStatus = "Ready"
)

// Values returns every valid TargetStatus.
func (TargetStatus) Values() []TargetStatus {
	return []TargetStatus{TargetPending, TargetInProgress, TargetSucceeded, TargetFailed, TargetSkipped, TargetUnknown, TargetReady}
}

// DeploymentInfo is what a target needs to know about the deployment it
// takes part in. It is pure data, copied into every request.
type DeploymentInfo struct {
	ApplicationName     string `json:"applicationName"`
	DeploymentGroupName string `json:"deploymentGroupName"`
	// DeploymentGroupID keys the on-host state (last successful install,
	// cleanup files): a group recreated under the same name gets a new ID.
	DeploymentGroupID string            `json:"deploymentGroupId"`
	DeploymentID      string            `json:"deploymentId"`
	Revision          revision.Location `json:"revision"`
	Creator           DeploymentCreator `json:"creator"`
	DeploymentType    DeploymentType    `json:"deploymentType"`
	// FileExistsBehavior is the deployment's fileExistsBehavior; empty
	// means the AppSpec's file_exists_behavior, else DISALLOW (fleetdeploy's
	// decision: AWS does not say which wins; see "Where fleetdeploy decides"
	// in package fleetdeploy).
	FileExistsBehavior revision.FileExistsBehavior `json:"fileExistsBehavior,omitempty"`
	// IgnoreApplicationStopFailures: see IgnoresFailureOf.
	IgnoreApplicationStopFailures bool `json:"ignoreApplicationStopFailures,omitempty"`
	// LoadBalancer is the deployment group's load balancer configuration;
	// the zero value means the group has none.
	LoadBalancer LoadBalancerInfo `json:"loadBalancerInfo,omitzero"`
}

// BlueGreenRollback reports whether d is the rollback of a blue/green
// deployment (creator codeDeployRollback, type BLUE_GREEN), which takes some
// scripts from other revisions (see ScriptSource).
func (d DeploymentInfo) BlueGreenRollback() bool {
	return d.Creator == CreatorRollback && d.DeploymentType == BlueGreen
}

// CopiedAutoScalingGroupName is the name CodeDeploy gives the Auto Scaling
// group it copies for a blue/green replacement fleet
// (COPY_AUTO_SCALING_GROUP): "CodeDeploy_<deploymentGroupName>_<deploymentId>".
func (d DeploymentInfo) CopiedAutoScalingGroupName() string {
	return "CodeDeploy_" + d.DeploymentGroupName + "_" + d.DeploymentID
}

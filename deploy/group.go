package deploy

import (
	"slices"
	"time"

	"github.com/fleetdeploy/fleetdeploy/config"
	"github.com/fleetdeploy/fleetdeploy/internal/errmsg"
	"github.com/fleetdeploy/fleetdeploy/revision"
	"github.com/fleetdeploy/fleetdeploy/target"
)

// Application is a CodeDeploy application: a name and the compute platform
// of all its deployment groups. Its JSON form is CodeDeploy's
// ApplicationInfo (see Group.MarshalJSON), plus fleetdeploy's version.
type Application struct {
	// Name is 1–100 characters, unique in the store.
	Name string `json:"applicationName"`
	// ComputePlatform is the platform of every group of the application.
	ComputePlatform config.ComputePlatform `json:"computePlatform"`
	// CreateTime is when the application was created.
	CreateTime time.Time `json:"createTime,omitzero"`
	// Version is set by the store: 1 when created. See Store.
	Version int64 `json:"version"`
}

// Group is a deployment group: which targets a deployment goes to, with
// which configuration, and what happens on failure, stop and success
// (API Reference, CreateDeploymentGroup). Field and JSON names are
// CodeDeploy's: the JSON form is DeploymentGroupInfo, so
// `aws deploy get-deployment-group` output decodes into a Group (see
// Group.MarshalJSON for the details).
//
// A Group is plain data; [Group.Validate] reports every rule it breaks. The
// store keeps it under (ApplicationName, Name); ID is assigned when it is
// created and never changes.
type Group struct {
	// ApplicationName is the application the group belongs to (1–100
	// characters).
	ApplicationName string `json:"applicationName"`
	// Name is the group's name (1–100 characters), unique in its
	// application.
	Name string `json:"deploymentGroupName"`
	// ID is the group's unique identity, assigned by CreateGroup when
	// empty. A group recreated under the same name gets a new ID; hosts key
	// their on-disk state (last successful install, cleanup files) by it.
	ID string `json:"deploymentGroupId"`
	// ComputePlatform is the platform of the group's application. Empty
	// means Server, as in package config.
	ComputePlatform config.ComputePlatform `json:"computePlatform,omitempty"`
	// DeploymentConfigName is the default configuration of the group's
	// deployments. Empty means the platform's default (see ConfigName).
	DeploymentConfigName string `json:"deploymentConfigName,omitempty"`
	// Selector says which targets belong to the group (Server only). In
	// JSON its members are the group's own, with CodeDeploy's names
	// (ec2TagFilters, ec2TagSet, onPremisesInstanceTagFilters,
	// onPremisesTagSet, autoScalingGroups); see Group.MarshalJSON.
	Selector target.Selector `json:"-"`
	// TerminationHookEnabled makes Auto Scaling scale-in run a termination
	// deployment (User Guide, "Integrating CodeDeploy with Amazon EC2 Auto
	// Scaling"). Server only.
	TerminationHookEnabled bool `json:"terminationHookEnabled,omitempty"`
	// ECSServices is the group's ECS service (ECS only; exactly one).
	ECSServices []ECSService `json:"ecsServices,omitempty"`
	// DeploymentStyle is in-place or blue/green, with or without traffic
	// control. The zero value means the platform's default (see Style).
	DeploymentStyle DeploymentStyle `json:"deploymentStyle,omitzero"`
	// LoadBalancerInfo names the group's load balancers; the zero value
	// means none.
	LoadBalancerInfo target.LoadBalancerInfo `json:"loadBalancerInfo,omitzero"`
	// BlueGreenDeploymentConfiguration is required for Server and ECS
	// blue/green groups and not allowed otherwise.
	BlueGreenDeploymentConfiguration *BlueGreenDeploymentConfiguration `json:"blueGreenDeploymentConfiguration,omitempty"`
	// AutoRollbackConfiguration says when a failed or stopped deployment
	// is rolled back automatically.
	AutoRollbackConfiguration AutoRollbackConfiguration `json:"autoRollbackConfiguration,omitzero"`
	// AlarmConfiguration names the alarms that stop a deployment.
	AlarmConfiguration AlarmConfiguration `json:"alarmConfiguration,omitzero"`
	// TriggerConfigurations are the group's notifications (at most 10).
	TriggerConfigurations []TriggerConfig `json:"triggerConfigurations,omitempty"`
	// OutdatedInstancesStrategy: empty means UPDATE (see
	// UpdatesOutdatedInstances).
	OutdatedInstancesStrategy OutdatedInstancesStrategy `json:"outdatedInstancesStrategy,omitempty"`
	// IgnoreApplicationStopFailures is the default of the group's
	// deployments (CodeDeploy sets it per deployment only; here a group may
	// carry a default, a fleetdeploy member of the group's JSON). Must be
	// false for Lambda and ECS, which have no ApplicationStop or
	// block-traffic events.
	IgnoreApplicationStopFailures bool `json:"ignoreApplicationStopFailures,omitempty"`
	// FileExistsBehavior is the default of the group's deployments (a
	// fleetdeploy extension and member of the group's JSON, Server only;
	// CodeDeploy takes it per deployment): empty means the AppSpec's, else
	// DISALLOW (fleetdeploy's decision; see package fleetdeploy, "Where
	// fleetdeploy decides").
	FileExistsBehavior revision.FileExistsBehavior `json:"fileExistsBehavior,omitempty"`

	// TargetRevision is the revision of the group's last successful
	// deployment: targets running it have revision health Current. Nil
	// before the first success.
	TargetRevision *revision.Location `json:"targetRevision,omitempty"`
	// LastSuccessfulDeployment describes the group's last successful
	// deployment, nil if none.
	LastSuccessfulDeployment *LastDeploymentInfo `json:"lastSuccessfulDeployment,omitempty"`
	// LastAttemptedDeployment describes the group's most recent deployment,
	// nil if none.
	LastAttemptedDeployment *LastDeploymentInfo `json:"lastAttemptedDeployment,omitempty"`

	// Version is set by the store: 1 when created, one more on every
	// update. UpdateGroup succeeds only with the stored Version.
	Version int64 `json:"version"`
}

// ECSService names an ECS service, CodeDeploy's ECSService.
type ECSService struct {
	ServiceName string `json:"serviceName"`
	ClusterName string `json:"clusterName"`
}

// DeploymentStyle is CodeDeploy's DeploymentStyle.
type DeploymentStyle struct {
	DeploymentType   target.DeploymentType `json:"deploymentType,omitempty"`
	DeploymentOption DeploymentOption      `json:"deploymentOption,omitempty"`
}

// BlueGreenDeploymentConfiguration is CodeDeploy's
// BlueGreenDeploymentConfiguration (API Reference). A nil option means
// CodeDeploy's default for it.
type BlueGreenDeploymentConfiguration struct {
	// TerminateBlueInstancesOnDeploymentSuccess: nil means TERMINATE with
	// no wait. Server and ECS.
	TerminateBlueInstancesOnDeploymentSuccess *BlueInstanceTerminationOption `json:"terminateBlueInstancesOnDeploymentSuccess,omitempty"`
	// DeploymentReadyOption: nil means CONTINUE_DEPLOYMENT. Server and ECS.
	DeploymentReadyOption *DeploymentReadyOption `json:"deploymentReadyOption,omitempty"`
	// GreenFleetProvisioningOption: nil means DISCOVER_EXISTING. Server
	// only.
	GreenFleetProvisioningOption *GreenFleetProvisioningOption `json:"greenFleetProvisioningOption,omitempty"`
}

// BlueInstanceTerminationOption is what happens to the original targets
// after a successful blue/green deployment.
type BlueInstanceTerminationOption struct {
	Action InstanceAction `json:"action"`
	// TerminationWaitTimeInMinutes is the wait before the originals are
	// terminated (ECS: before the original task set is deleted), 0–2880.
	TerminationWaitTimeInMinutes int `json:"terminationWaitTimeInMinutes"`
}

// DeploymentReadyOption is when traffic moves to a blue/green replacement.
type DeploymentReadyOption struct {
	ActionOnTimeout DeploymentReadyAction `json:"actionOnTimeout"`
	// WaitTimeInMinutes is how long a STOP_DEPLOYMENT deployment waits for
	// ContinueDeployment before it is Stopped.
	WaitTimeInMinutes int `json:"waitTimeInMinutes"`
}

// GreenFleetProvisioningOption is how an EC2 blue/green deployment finds
// its replacement fleet.
type GreenFleetProvisioningOption struct {
	Action GreenFleetProvisioningAction `json:"action"`
}

// AutoRollbackConfiguration is CodeDeploy's AutoRollbackConfiguration.
type AutoRollbackConfiguration struct {
	Enabled bool                `json:"enabled"`
	Events  []AutoRollbackEvent `json:"events,omitempty"`
}

// RollsBackOn reports whether a rolls back automatically on event e: it is
// enabled and lists e.
func (a AutoRollbackConfiguration) RollsBackOn(e AutoRollbackEvent) bool {
	return a.Enabled && slices.Contains(a.Events, e)
}

// AlarmConfiguration is CodeDeploy's AlarmConfiguration: alarms that stop
// a deployment when they fire.
type AlarmConfiguration struct {
	Enabled bool `json:"enabled"`
	// IgnorePollAlarmFailure: when false (the default), a deployment stops
	// if an alarm's state cannot be read.
	IgnorePollAlarmFailure bool    `json:"ignorePollAlarmFailure,omitempty"`
	Alarms                 []Alarm `json:"alarms,omitempty"`
}

// Alarm names an alarm (at most 255 characters, unique in its list).
type Alarm struct {
	Name string `json:"name"`
}

// TriggerConfig is CodeDeploy's TriggerConfig: a notification sent to
// TriggerTargetArn for each of TriggerEvents.
type TriggerConfig struct {
	TriggerName string `json:"triggerName"`
	// TriggerTargetArn names where notifications go. CodeDeploy takes an
	// SNS topic ARN; here it is any string the caller's Notifier
	// understands.
	TriggerTargetArn string             `json:"triggerTargetArn"`
	TriggerEvents    []TriggerEventType `json:"triggerEvents"`
}

// LastDeploymentInfo is CodeDeploy's LastDeploymentInfo: a summary of one
// deployment kept on its group.
type LastDeploymentInfo struct {
	DeploymentID string           `json:"deploymentId"`
	Status       DeploymentStatus `json:"status"`
	EndTime      time.Time        `json:"endTime,omitzero"`
	CreateTime   time.Time        `json:"createTime,omitzero"`
}

// Platform returns the group's compute platform, Server when unset.
func (g Group) Platform() config.ComputePlatform {
	if g.ComputePlatform == "" {
		return config.Server
	}
	return g.ComputePlatform
}

// ConfigName returns the name of the group's deployment configuration:
// DeploymentConfigName, or when it is empty the platform's default —
// CodeDeployDefault.OneAtATime for Server, CodeDeployDefault.LambdaAllAtOnce
// for Lambda, CodeDeployDefault.ECSAllAtOnce for ECS.
func (g Group) ConfigName() string {
	if g.DeploymentConfigName != "" {
		return g.DeploymentConfigName
	}
	switch g.Platform() {
	case config.Lambda:
		return "CodeDeployDefault.LambdaAllAtOnce"
	case config.ECS:
		return "CodeDeployDefault.ECSAllAtOnce"
	}
	return config.DefaultName
}

// Style returns the group's deployment style with CodeDeploy's defaults
// filled in: Server groups default to IN_PLACE and WITHOUT_TRAFFIC_CONTROL;
// Lambda and ECS deployments are always BLUE_GREEN WITH_TRAFFIC_CONTROL.
func (g Group) Style() DeploymentStyle {
	s := g.DeploymentStyle
	if g.Platform() != config.Server {
		if s.DeploymentType == "" {
			s.DeploymentType = target.BlueGreen
		}
		if s.DeploymentOption == "" {
			s.DeploymentOption = WithTrafficControl
		}
		return s
	}
	if s.DeploymentType == "" {
		s.DeploymentType = target.InPlace
	}
	if s.DeploymentOption == "" {
		s.DeploymentOption = WithoutTrafficControl
	}
	return s
}

// UpdatesOutdatedInstances reports whether instances launched during a
// deployment get a follow-on deployment: OutdatedInstancesStrategy is
// UPDATE or empty.
func (g Group) UpdatesOutdatedInstances() bool {
	return g.OutdatedInstancesStrategy != OutdatedInstancesIgnore
}

// ResolveConfig returns the group's deployment configuration: ConfigName
// looked up among the predefined configurations and custom. It returns an
// error wrapping config.ErrUnknownConfig for an unknown name, and a
// *multierror.Error of *Problem values matching ErrInvalidGroup when the configuration is
// invalid or does not fit the group (another compute platform; a zonal
// configuration for a blue/green group). The executor snapshots the result
// into Deployment.Config.
func (g Group) ResolveConfig(custom ...config.Config) (config.Config, error) {
	c, err := config.Lookup(g.ConfigName(), custom...)
	if err != nil {
		return config.Config{}, errmsg.Errorf("deploy: %s: deploymentConfigName: %w", g.subject(), err)
	}
	var ps config.Problems
	g.checkConfig(&ps, c, g.Style())
	if err := ps.Err(ErrInvalidGroup, g.subject()); err != nil {
		return config.Config{}, err
	}
	return c, nil
}

// subject names the group in errors: application/name.
func (g Group) subject() string {
	return "deployment group " + g.ApplicationName + "/" + g.Name
}

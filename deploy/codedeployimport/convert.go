package codedeployimport

import (
	"fmt"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/codedeploy/types"

	"github.com/fleetdeploy/fleetdeploy/config"
	"github.com/fleetdeploy/fleetdeploy/deploy"
	"github.com/fleetdeploy/fleetdeploy/revision"
	"github.com/fleetdeploy/fleetdeploy/target"
)

// FromApplicationInfo converts one CodeDeploy application. It returns nil
// and an issue when the application cannot be imported (a compute
// platform fleetdeploy lacks), and issues for the settings that do not
// map.
func FromApplicationInfo(info types.ApplicationInfo) (*deploy.Application, []Issue) {
	name := aws.ToString(info.ApplicationName)
	var issues []Issue
	p := config.ComputePlatform(info.ComputePlatform)
	if p != "" && !oneOf(p, p.Values()) {
		return nil, []Issue{{Application: name, Field: "computePlatform",
			Reason: fmt.Sprintf("%q is not a fleetdeploy compute platform (%v); the application and its deployment groups are not imported", p, p.Values())}}
	}
	if info.LinkedToGitHub || aws.ToString(info.GitHubAccountName) != "" {
		issues = append(issues, Issue{Application: name, Field: "gitHubAccountName",
			Reason: fmt.Sprintf("the GitHub connection %q is CodeDeploy's; fleetdeploy reads GitHub revisions with the credentials the caller gives its revision source", aws.ToString(info.GitHubAccountName))})
	}
	app := &deploy.Application{Name: name, ComputePlatform: p}
	if app.ComputePlatform == "" {
		app.ComputePlatform = config.Server
	}
	if info.CreateTime != nil {
		app.CreateTime = info.CreateTime.UTC()
	}
	return app, issues
}

// FromDeploymentGroupInfo converts one CodeDeploy deployment group, with
// issues for the settings that do not map. It does not validate the group
// (Importer.Import does, see deploy.Group.Validate).
func FromDeploymentGroupInfo(info types.DeploymentGroupInfo) (deploy.Group, []Issue) {
	g := deploy.Group{
		ApplicationName:           aws.ToString(info.ApplicationName),
		Name:                      aws.ToString(info.DeploymentGroupName),
		ID:                        aws.ToString(info.DeploymentGroupId),
		ComputePlatform:           config.ComputePlatform(info.ComputePlatform),
		DeploymentConfigName:      aws.ToString(info.DeploymentConfigName),
		TerminationHookEnabled:    info.TerminationHookEnabled,
		OutdatedInstancesStrategy: deploy.OutdatedInstancesStrategy(info.OutdatedInstancesStrategy),
	}
	c := converter{app: g.ApplicationName, group: g.Name}
	if p := g.ComputePlatform; p != "" && !oneOf(p, p.Values()) {
		c.issue("computePlatform", "%q is not a fleetdeploy compute platform (%v)", p, p.Values())
	}
	if r := aws.ToString(info.ServiceRoleArn); r != "" {
		c.issue("serviceRoleArn", "%s is not used: fleetdeploy acts through the AWS clients the caller gives its adapters, with their credentials", r)
	}
	g.Selector = c.selector(info)
	for _, s := range info.EcsServices {
		g.ECSServices = append(g.ECSServices, deploy.ECSService{ServiceName: aws.ToString(s.ServiceName), ClusterName: aws.ToString(s.ClusterName)})
	}
	if s := info.DeploymentStyle; s != nil {
		g.DeploymentStyle = deploy.DeploymentStyle{DeploymentType: target.DeploymentType(s.DeploymentType), DeploymentOption: deploy.DeploymentOption(s.DeploymentOption)}
	}
	g.LoadBalancerInfo = loadBalancerInfo(info.LoadBalancerInfo)
	g.BlueGreenDeploymentConfiguration = blueGreen(info.BlueGreenDeploymentConfiguration)
	if a := info.AutoRollbackConfiguration; a != nil {
		g.AutoRollbackConfiguration.Enabled = a.Enabled
		for _, e := range a.Events {
			g.AutoRollbackConfiguration.Events = append(g.AutoRollbackConfiguration.Events, deploy.AutoRollbackEvent(e))
		}
	}
	if a := info.AlarmConfiguration; a != nil {
		g.AlarmConfiguration = deploy.AlarmConfiguration{Enabled: a.Enabled, IgnorePollAlarmFailure: a.IgnorePollAlarmFailure}
		for _, al := range a.Alarms {
			g.AlarmConfiguration.Alarms = append(g.AlarmConfiguration.Alarms, deploy.Alarm{Name: aws.ToString(al.Name)})
		}
	}
	for _, t := range info.TriggerConfigurations {
		tc := deploy.TriggerConfig{TriggerName: aws.ToString(t.TriggerName), TriggerTargetArn: aws.ToString(t.TriggerTargetArn)}
		for _, e := range t.TriggerEvents {
			tc.TriggerEvents = append(tc.TriggerEvents, deploy.TriggerEventType(e))
		}
		g.TriggerConfigurations = append(g.TriggerConfigurations, tc)
	}
	g.TargetRevision = c.revision(info.TargetRevision)
	g.LastSuccessfulDeployment = lastDeployment(info.LastSuccessfulDeployment)
	g.LastAttemptedDeployment = lastDeployment(info.LastAttemptedDeployment)
	return g, c.issues
}

// FromDeploymentConfigInfo converts one custom CodeDeploy deployment
// configuration. It returns nil and an issue when the configuration cannot
// be imported (a compute platform fleetdeploy lacks). It does not validate
// the configuration (Importer.Import does, see config.Config.Validate).
func FromDeploymentConfigInfo(info types.DeploymentConfigInfo) (*config.Config, []Issue) {
	c := &config.Config{Name: aws.ToString(info.DeploymentConfigName), ComputePlatform: config.ComputePlatform(info.ComputePlatform)}
	if p := c.ComputePlatform; p != "" && !oneOf(p, p.Values()) {
		return nil, []Issue{{Config: c.Name, Field: "computePlatform",
			Reason: fmt.Sprintf("%q is not a fleetdeploy compute platform (%v); the configuration is not imported", p, p.Values())}}
	}
	if m := info.MinimumHealthyHosts; m != nil && m.Type != "" {
		c.MinimumHealthyHosts = &config.MinimumHealthyHosts{Type: config.MinimumHealthyHostsType(m.Type), Value: int(m.Value)}
	}
	if z := info.ZonalConfig; z != nil {
		zc := &config.ZonalConfig{
			FirstZoneMonitorDurationInSeconds: cloneInt64(z.FirstZoneMonitorDurationInSeconds),
			MonitorDurationInSeconds:          cloneInt64(z.MonitorDurationInSeconds),
		}
		if m := z.MinimumHealthyHostsPerZone; m != nil && m.Type != "" {
			zc.MinimumHealthyHostsPerZone = &config.MinimumHealthyHosts{Type: config.MinimumHealthyHostsType(m.Type), Value: int(m.Value)}
		}
		if *zc != (config.ZonalConfig{}) {
			c.ZonalConfig = zc
		}
	}
	if t := info.TrafficRoutingConfig; t != nil && t.Type != "" {
		tr := &config.TrafficRouting{Type: config.TrafficRoutingType(t.Type)}
		if v := t.TimeBasedCanary; v != nil {
			tr.TimeBasedCanary = &config.Canary{CanaryPercentage: int(v.CanaryPercentage), CanaryInterval: int(v.CanaryInterval)}
		}
		if v := t.TimeBasedLinear; v != nil {
			tr.TimeBasedLinear = &config.Linear{LinearPercentage: int(v.LinearPercentage), LinearInterval: int(v.LinearInterval)}
		}
		c.TrafficRouting = tr
	}
	return c, nil
}

// converter collects the issues of one group.
type converter struct {
	app, group string
	issues     []Issue
}

func (c *converter) issue(field, format string, args ...any) {
	c.issues = append(c.issues, Issue{Application: c.app, Group: c.group, Field: field, Reason: fmt.Sprintf(format, args...)})
}

func (c *converter) selector(info types.DeploymentGroupInfo) target.Selector {
	var s target.Selector
	for _, f := range info.Ec2TagFilters {
		s.EC2TagFilters = append(s.EC2TagFilters, target.TagFilter{Key: aws.ToString(f.Key), Value: aws.ToString(f.Value), Type: target.TagFilterType(f.Type)})
	}
	if ts := info.Ec2TagSet; ts != nil {
		for _, grp := range ts.Ec2TagSetList {
			var fs []target.TagFilter
			for _, f := range grp {
				fs = append(fs, target.TagFilter{Key: aws.ToString(f.Key), Value: aws.ToString(f.Value), Type: target.TagFilterType(f.Type)})
			}
			s.EC2TagSet.List = append(s.EC2TagSet.List, fs)
		}
	}
	s.OnPremisesInstanceTagFilters = tagFilters(info.OnPremisesInstanceTagFilters)
	if ts := info.OnPremisesTagSet; ts != nil {
		for _, grp := range ts.OnPremisesTagSetList {
			s.OnPremisesTagSet.List = append(s.OnPremisesTagSet.List, tagFilters(grp))
		}
	}
	for i, a := range info.AutoScalingGroups {
		name := aws.ToString(a.Name)
		s.AutoScalingGroups = append(s.AutoScalingGroups, name)
		const why = "CodeDeploy created this lifecycle hook on Auto Scaling group %s and answers it; fleetdeploy does not use or remove it (CodeDeploy removes it when the group no longer names the Auto Scaling group)"
		if h := aws.ToString(a.Hook); h != "" {
			c.issue(fmt.Sprintf("autoScalingGroups[%d].hook", i), "%s: "+why, h, name)
		}
		if h := aws.ToString(a.TerminationHook); h != "" {
			c.issue(fmt.Sprintf("autoScalingGroups[%d].terminationHook", i), "%s: "+why, h, name)
		}
	}
	return s
}

func tagFilters(in []types.TagFilter) []target.TagFilter {
	var out []target.TagFilter
	for _, f := range in {
		out = append(out, target.TagFilter{Key: aws.ToString(f.Key), Value: aws.ToString(f.Value), Type: target.TagFilterType(f.Type)})
	}
	return out
}

func loadBalancerInfo(in *types.LoadBalancerInfo) target.LoadBalancerInfo {
	var lb target.LoadBalancerInfo
	if in == nil {
		return lb
	}
	for _, e := range in.ElbInfoList {
		lb.ELBInfoList = append(lb.ELBInfoList, target.NameInfo{Name: aws.ToString(e.Name)})
	}
	for _, e := range in.TargetGroupInfoList {
		lb.TargetGroupInfoList = append(lb.TargetGroupInfoList, target.NameInfo{Name: aws.ToString(e.Name)})
	}
	for _, p := range in.TargetGroupPairInfoList {
		var pair target.TargetGroupPairInfo
		for _, tg := range p.TargetGroups {
			pair.TargetGroups = append(pair.TargetGroups, target.NameInfo{Name: aws.ToString(tg.Name)})
		}
		if r := p.ProdTrafficRoute; r != nil {
			pair.ProdTrafficRoute.ListenerArns = append([]string(nil), r.ListenerArns...)
		}
		if r := p.TestTrafficRoute; r != nil {
			pair.TestTrafficRoute.ListenerArns = append([]string(nil), r.ListenerArns...)
		}
		lb.TargetGroupPairInfoList = append(lb.TargetGroupPairInfoList, pair)
	}
	return lb
}

func blueGreen(in *types.BlueGreenDeploymentConfiguration) *deploy.BlueGreenDeploymentConfiguration {
	if in == nil || (in.DeploymentReadyOption == nil && in.GreenFleetProvisioningOption == nil && in.TerminateBlueInstancesOnDeploymentSuccess == nil) {
		return nil
	}
	bg := &deploy.BlueGreenDeploymentConfiguration{}
	if t := in.TerminateBlueInstancesOnDeploymentSuccess; t != nil {
		bg.TerminateBlueInstancesOnDeploymentSuccess = &deploy.BlueInstanceTerminationOption{Action: deploy.InstanceAction(t.Action), TerminationWaitTimeInMinutes: int(t.TerminationWaitTimeInMinutes)}
	}
	if r := in.DeploymentReadyOption; r != nil {
		bg.DeploymentReadyOption = &deploy.DeploymentReadyOption{ActionOnTimeout: deploy.DeploymentReadyAction(r.ActionOnTimeout), WaitTimeInMinutes: int(r.WaitTimeInMinutes)}
	}
	if f := in.GreenFleetProvisioningOption; f != nil {
		bg.GreenFleetProvisioningOption = &deploy.GreenFleetProvisioningOption{Action: deploy.GreenFleetProvisioningAction(f.Action)}
	}
	return bg
}

// revision converts the group's target revision. A location with no type
// (what some peers return for "none") is none.
func (c *converter) revision(in *types.RevisionLocation) *revision.Location {
	if in == nil || in.RevisionType == "" {
		return nil
	}
	switch in.RevisionType {
	case types.RevisionLocationTypeS3:
		if s := in.S3Location; s != nil {
			return &revision.Location{Type: revision.LocationS3, S3: &revision.S3Location{
				Bucket: aws.ToString(s.Bucket), Key: aws.ToString(s.Key), BundleType: revision.BundleType(s.BundleType),
				Version: aws.ToString(s.Version), ETag: aws.ToString(s.ETag)}}
		}
	case types.RevisionLocationTypeGitHub:
		if gh := in.GitHubLocation; gh != nil {
			return &revision.Location{Type: revision.LocationGitHub, GitHub: &revision.GitHubLocation{
				Repository: aws.ToString(gh.Repository), CommitID: aws.ToString(gh.CommitId)}}
		}
	case types.RevisionLocationTypeAppSpecContent:
		if a := in.AppSpecContent; a != nil {
			return &revision.Location{Type: revision.LocationAppSpecContent, AppSpecContent: &revision.AppSpecContent{
				Content: aws.ToString(a.Content), SHA256: aws.ToString(a.Sha256)}}
		}
	case types.RevisionLocationTypeString:
		// The deprecated String location is AppSpecContent's predecessor,
		// with the same fields. Groups whose last revision used it still
		// return it, so it is read although deprecated.
		//lint:ignore SA1019 reading what CodeDeploy returns for older groups
		if a := in.String_; a != nil {
			return &revision.Location{Type: revision.LocationAppSpecContent, AppSpecContent: &revision.AppSpecContent{
				Content: aws.ToString(a.Content), SHA256: aws.ToString(a.Sha256)}}
		}
	default:
		c.issue("targetRevision.revisionType", "%q is not a revision location fleetdeploy reads (S3, GitHub, AppSpecContent, String); the group starts with no target revision, so every target's revision health is Unknown until its first deployment", in.RevisionType)
		return nil
	}
	c.issue("targetRevision", "revisionType %s without its location; the group starts with no target revision", in.RevisionType)
	return nil
}

func lastDeployment(in *types.LastDeploymentInfo) *deploy.LastDeploymentInfo {
	if in == nil || aws.ToString(in.DeploymentId) == "" {
		return nil
	}
	l := &deploy.LastDeploymentInfo{DeploymentID: aws.ToString(in.DeploymentId), Status: deploy.DeploymentStatus(in.Status)}
	if in.CreateTime != nil {
		l.CreateTime = in.CreateTime.UTC()
	}
	if in.EndTime != nil {
		l.EndTime = in.EndTime.UTC()
	}
	return l
}

func cloneInt64(p *int64) *int64 {
	if p == nil {
		return nil
	}
	v := *p
	return &v
}

func oneOf[T comparable](v T, values []T) bool { return slices.Contains(values, v) }

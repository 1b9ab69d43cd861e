package deploy_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/hashicorp/go-multierror"

	"github.com/fleetdeploy/fleetdeploy/config"
	"github.com/fleetdeploy/fleetdeploy/deploy"
	"github.com/fleetdeploy/fleetdeploy/revision"
	"github.com/fleetdeploy/fleetdeploy/target"
)

// problemsOf returns the problems a validation error lists, as a caller
// reads them: the *Problem elements of its *multierror.Error.
func problemsOf(err error) []*deploy.Problem {
	var list *multierror.Error
	if !errors.As(err, &list) {
		return nil
	}
	var ps []*deploy.Problem
	for _, e := range list.Errors {
		if p, ok := e.(*deploy.Problem); ok {
			ps = append(ps, p)
		}
	}
	return ps
}

func serverInPlace() deploy.Group {
	return deploy.Group{
		ApplicationName: "shop", Name: "prod",
		Selector: target.Selector{EC2TagFilters: []target.TagFilter{{Key: "env", Value: "prod", Type: target.KeyAndValue}}},
	}
}

func serverBlueGreen() deploy.Group {
	g := serverInPlace()
	g.DeploymentStyle = deploy.DeploymentStyle{DeploymentType: target.BlueGreen, DeploymentOption: deploy.WithTrafficControl}
	g.LoadBalancerInfo = target.LoadBalancerInfo{TargetGroupInfoList: []target.NameInfo{{Name: "web-tg"}}}
	g.BlueGreenDeploymentConfiguration = &deploy.BlueGreenDeploymentConfiguration{
		TerminateBlueInstancesOnDeploymentSuccess: &deploy.BlueInstanceTerminationOption{Action: deploy.InstanceActionTerminate, TerminationWaitTimeInMinutes: 60},
		DeploymentReadyOption:                     &deploy.DeploymentReadyOption{ActionOnTimeout: deploy.ActionStopDeployment, WaitTimeInMinutes: 30},
		GreenFleetProvisioningOption:              &deploy.GreenFleetProvisioningOption{Action: deploy.GreenFleetDiscoverExisting},
	}
	return g
}

func lambdaGroup() deploy.Group {
	return deploy.Group{ApplicationName: "fn", Name: "live", ComputePlatform: config.Lambda,
		DeploymentConfigName: "CodeDeployDefault.LambdaCanary10Percent5Minutes"}
}

func ecsGroup() deploy.Group {
	return deploy.Group{
		ApplicationName: "svc", Name: "prod", ComputePlatform: config.ECS,
		ECSServices: []deploy.ECSService{{ServiceName: "web", ClusterName: "main"}},
		LoadBalancerInfo: target.LoadBalancerInfo{TargetGroupPairInfoList: []target.TargetGroupPairInfo{{
			TargetGroups:     []target.NameInfo{{Name: "blue"}, {Name: "green"}},
			ProdTrafficRoute: target.TrafficRouteInfo{ListenerArns: []string{"listener/prod"}},
		}}},
		BlueGreenDeploymentConfiguration: &deploy.BlueGreenDeploymentConfiguration{
			TerminateBlueInstancesOnDeploymentSuccess: &deploy.BlueInstanceTerminationOption{Action: deploy.InstanceActionTerminate, TerminationWaitTimeInMinutes: 5},
		},
	}
}

func alarms(n int) []deploy.Alarm {
	out := make([]deploy.Alarm, n)
	for i := range out {
		out[i].Name = fmt.Sprintf("alarm-%d", i)
	}
	return out
}

func triggers(n int) []deploy.TriggerConfig {
	out := make([]deploy.TriggerConfig, n)
	for i := range out {
		out[i] = deploy.TriggerConfig{TriggerName: fmt.Sprintf("t%d", i), TriggerTargetArn: "topic",
			TriggerEvents: []deploy.TriggerEventType{deploy.TriggerDeploymentFailure}}
	}
	return out
}

func TestGroupValidate(t *testing.T) {
	zonal := config.Config{Name: "Zonal", ComputePlatform: config.Server,
		MinimumHealthyHosts: &config.MinimumHealthyHosts{Type: config.FleetPercent, Value: 50},
		ZonalConfig:         &config.ZonalConfig{}}
	brokenCustom := config.Config{Name: "Broken", MinimumHealthyHosts: &config.MinimumHealthyHosts{Type: config.FleetPercent, Value: 100}}
	tests := []struct {
		name   string
		group  func() deploy.Group
		custom []config.Config
		// fields are the problem fields expected, in order; none means valid.
		fields []string
		// is, when set, must match the error.
		is error
	}{
		{"Server in-place with a tag filter is valid", serverInPlace, nil, nil, nil},
		{"Server blue/green with LB and configuration is valid", serverBlueGreen, nil, nil, nil},
		{"Lambda is valid", lambdaGroup, nil, nil, nil},
		{"ECS is valid", ecsGroup, nil, nil, nil},
		{"names are required", func() deploy.Group { g := serverInPlace(); g.ApplicationName, g.Name = "", ""; return g },
			nil, []string{"applicationName", "deploymentGroupName"}, nil},
		{"names are at most 100 characters", func() deploy.Group {
			g := serverInPlace()
			g.ApplicationName, g.Name = strings.Repeat("a", 100), strings.Repeat("é", 101)
			return g
		}, nil, []string{"deploymentGroupName"}, nil},
		{"computePlatform must be known", func() deploy.Group { g := serverInPlace(); g.ComputePlatform = "Mainframe"; return g },
			nil, []string{"computePlatform"}, nil},
		{"unknown configuration", func() deploy.Group { g := serverInPlace(); g.DeploymentConfigName = "Nope"; return g },
			nil, []string{"deploymentConfigName"}, config.ErrUnknownConfig},
		{"custom configuration resolves", func() deploy.Group { g := serverInPlace(); g.DeploymentConfigName = "Zonal"; return g },
			[]config.Config{zonal}, nil, nil},
		{"invalid custom configuration", func() deploy.Group { g := serverInPlace(); g.DeploymentConfigName = "Broken"; return g },
			[]config.Config{brokenCustom}, []string{"deploymentConfigName"}, config.ErrInvalidConfig},
		{"a Lambda configuration on a Server group", func() deploy.Group {
			g := serverInPlace()
			g.DeploymentConfigName = "CodeDeployDefault.LambdaAllAtOnce"
			return g
		}, nil, []string{"deploymentConfigName"}, nil},
		{"zonal configuration on a blue/green group", func() deploy.Group {
			g := serverBlueGreen()
			g.DeploymentConfigName = "Zonal"
			return g
		}, []config.Config{zonal}, []string{"deploymentConfigName"}, nil},
		{"ec2TagFilters and ec2TagSet together", func() deploy.Group {
			g := serverInPlace()
			g.Selector.EC2TagSet.List = [][]target.TagFilter{{{Key: "a", Type: target.KeyOnly}}}
			return g
		}, nil, []string{"ec2TagFilters"}, target.ErrInvalidEC2TagCombination},
		{"Lambda selects no instances", func() deploy.Group { g := lambdaGroup(); g.Selector.AutoScalingGroups = []string{"asg"}; return g },
			nil, []string{"ec2TagFilters"}, nil},
		{"terminationHookEnabled is for Server", func() deploy.Group { g := ecsGroup(); g.TerminationHookEnabled = true; return g },
			nil, []string{"terminationHookEnabled"}, nil},
		{"terminationHookEnabled is not for Lambda", func() deploy.Group { g := lambdaGroup(); g.TerminationHookEnabled = true; return g },
			nil, []string{"terminationHookEnabled"}, nil},
		{"terminationHookEnabled on a Server group", func() deploy.Group { g := serverInPlace(); g.TerminationHookEnabled = true; return g },
			nil, nil, nil},
		{"ten alarms are allowed", func() deploy.Group {
			g := serverInPlace()
			g.AlarmConfiguration = deploy.AlarmConfiguration{Enabled: true, Alarms: alarms(10)}
			return g
		}, nil, nil, nil},
		{"at most 10 alarms", func() deploy.Group {
			g := serverInPlace()
			g.AlarmConfiguration = deploy.AlarmConfiguration{Enabled: true, Alarms: alarms(11)}
			return g
		}, nil, []string{"alarmConfiguration.alarms"}, nil},
		{"alarm names non-empty, ≤255, unique", func() deploy.Group {
			g := serverInPlace()
			g.AlarmConfiguration.Alarms = []deploy.Alarm{{Name: ""}, {Name: strings.Repeat("x", 256)}, {Name: "a"}, {Name: "a"}, {Name: strings.Repeat("y", 255)}}
			return g
		}, nil, []string{"alarmConfiguration.alarms[0].name", "alarmConfiguration.alarms[1].name", "alarmConfiguration.alarms[3].name"}, nil},
		{"alarms enabled with an empty list", func() deploy.Group {
			g := serverInPlace()
			g.AlarmConfiguration.Enabled = true
			return g
		}, nil, []string{"alarmConfiguration.alarms"}, nil},
		{"auto-rollback enabled with no events", func() deploy.Group {
			g := serverInPlace()
			g.AutoRollbackConfiguration.Enabled = true
			return g
		}, nil, []string{"autoRollbackConfiguration.events"}, nil},
		{"auto-rollback with an unknown or repeated event", func() deploy.Group {
			g := serverInPlace()
			g.AutoRollbackConfiguration = deploy.AutoRollbackConfiguration{Events: []deploy.AutoRollbackEvent{
				deploy.AutoRollbackDeploymentFailure, "DEPLOYMENT_SUCCESS", deploy.AutoRollbackDeploymentFailure}}
			return g
		}, nil, []string{"autoRollbackConfiguration.events[1]", "autoRollbackConfiguration.events[2]"}, nil},
		{"ten triggers are allowed", func() deploy.Group { g := serverInPlace(); g.TriggerConfigurations = triggers(10); return g },
			nil, nil, nil},
		{"at most 10 triggers", func() deploy.Group { g := serverInPlace(); g.TriggerConfigurations = triggers(11); return g },
			nil, []string{"triggerConfigurations"}, nil},
		{"trigger fields", func() deploy.Group {
			g := serverInPlace()
			g.TriggerConfigurations = []deploy.TriggerConfig{
				{TriggerName: "ops", TriggerTargetArn: "topic", TriggerEvents: []deploy.TriggerEventType{"DeploymentExplode"}},
				{TriggerName: "ops"},
			}
			return g
		}, nil, []string{"triggerConfigurations[0].triggerEvents[0]", "triggerConfigurations[1].triggerName",
			"triggerConfigurations[1].triggerTargetArn", "triggerConfigurations[1].triggerEvents"}, nil},
		{"Server blue/green needs a load balancer and its configuration", func() deploy.Group {
			g := serverBlueGreen()
			g.LoadBalancerInfo, g.BlueGreenDeploymentConfiguration = target.LoadBalancerInfo{}, nil
			return g
		}, nil, []string{"loadBalancerInfo", "blueGreenDeploymentConfiguration"}, nil},
		{"Server blue/green routes traffic", func() deploy.Group {
			g := serverBlueGreen()
			g.DeploymentStyle.DeploymentOption = deploy.WithoutTrafficControl
			return g
		}, nil, []string{"deploymentStyle.deploymentOption"}, nil},
		{"in-place with traffic control needs a load balancer", func() deploy.Group {
			g := serverInPlace()
			g.DeploymentStyle.DeploymentOption = deploy.WithTrafficControl
			return g
		}, nil, []string{"loadBalancerInfo"}, nil},
		{"unknown deployment style values", func() deploy.Group {
			g := serverInPlace()
			g.DeploymentStyle = deploy.DeploymentStyle{DeploymentType: "CANARY", DeploymentOption: "MAYBE"}
			return g
		}, nil, []string{"deploymentStyle.deploymentType", "deploymentStyle.deploymentOption"}, nil},
		{"blue/green configuration on an in-place group", func() deploy.Group {
			g := serverInPlace()
			g.BlueGreenDeploymentConfiguration = &deploy.BlueGreenDeploymentConfiguration{}
			return g
		}, nil, []string{"blueGreenDeploymentConfiguration"}, nil},
		{"termination wait of 2880 minutes is allowed", func() deploy.Group {
			g := serverBlueGreen()
			g.BlueGreenDeploymentConfiguration.TerminateBlueInstancesOnDeploymentSuccess.TerminationWaitTimeInMinutes = 2880
			return g
		}, nil, nil, nil},
		{"termination wait at most 2880 minutes", func() deploy.Group {
			g := serverBlueGreen()
			g.BlueGreenDeploymentConfiguration.TerminateBlueInstancesOnDeploymentSuccess.TerminationWaitTimeInMinutes = 2881
			return g
		}, nil, []string{"blueGreenDeploymentConfiguration.terminateBlueInstancesOnDeploymentSuccess.terminationWaitTimeInMinutes"}, nil},
		{"Server ready wait at most 48 h", func() deploy.Group {
			g := serverBlueGreen()
			g.BlueGreenDeploymentConfiguration.DeploymentReadyOption.WaitTimeInMinutes = 2881
			return g
		}, nil, []string{"blueGreenDeploymentConfiguration.deploymentReadyOption.waitTimeInMinutes"}, nil},
		{"ECS ready wait up to 120 h", func() deploy.Group {
			g := ecsGroup()
			g.BlueGreenDeploymentConfiguration.DeploymentReadyOption = &deploy.DeploymentReadyOption{ActionOnTimeout: deploy.ActionStopDeployment, WaitTimeInMinutes: 7200}
			return g
		}, nil, nil, nil},
		{"ECS ready wait at most 120 h", func() deploy.Group {
			g := ecsGroup()
			g.BlueGreenDeploymentConfiguration.DeploymentReadyOption = &deploy.DeploymentReadyOption{ActionOnTimeout: deploy.ActionStopDeployment, WaitTimeInMinutes: 7201}
			return g
		}, nil, []string{"blueGreenDeploymentConfiguration.deploymentReadyOption.waitTimeInMinutes"}, nil},
		{"blue/green actions must be known", func() deploy.Group {
			g := serverBlueGreen()
			bg := g.BlueGreenDeploymentConfiguration
			bg.TerminateBlueInstancesOnDeploymentSuccess.Action = ""
			bg.DeploymentReadyOption.ActionOnTimeout = "WAIT"
			bg.GreenFleetProvisioningOption.Action = "BUILD"
			return g
		}, nil, []string{"blueGreenDeploymentConfiguration.terminateBlueInstancesOnDeploymentSuccess.action",
			"blueGreenDeploymentConfiguration.deploymentReadyOption.actionOnTimeout",
			"blueGreenDeploymentConfiguration.greenFleetProvisioningOption.action"}, nil},
		{"COPY_AUTO_SCALING_GROUP needs an Auto Scaling group", func() deploy.Group {
			g := serverBlueGreen()
			g.BlueGreenDeploymentConfiguration.GreenFleetProvisioningOption.Action = deploy.GreenFleetCopyAutoScalingGroup
			return g
		}, nil, []string{"blueGreenDeploymentConfiguration.greenFleetProvisioningOption.action"}, nil},
		{"COPY_AUTO_SCALING_GROUP with an Auto Scaling group", func() deploy.Group {
			g := serverBlueGreen()
			g.Selector.AutoScalingGroups = []string{"web-asg"}
			g.BlueGreenDeploymentConfiguration.GreenFleetProvisioningOption.Action = deploy.GreenFleetCopyAutoScalingGroup
			return g
		}, nil, nil, nil},
		{"green fleet provisioning is for Server", func() deploy.Group {
			g := ecsGroup()
			g.BlueGreenDeploymentConfiguration.GreenFleetProvisioningOption = &deploy.GreenFleetProvisioningOption{Action: deploy.GreenFleetDiscoverExisting}
			return g
		}, nil, []string{"blueGreenDeploymentConfiguration.greenFleetProvisioningOption"}, nil},
		{"Lambda has no load balancer or blue/green configuration", func() deploy.Group {
			g := lambdaGroup()
			g.LoadBalancerInfo = target.LoadBalancerInfo{TargetGroupInfoList: []target.NameInfo{{Name: "tg"}}}
			g.BlueGreenDeploymentConfiguration = &deploy.BlueGreenDeploymentConfiguration{}
			return g
		}, nil, []string{"loadBalancerInfo", "blueGreenDeploymentConfiguration"}, nil},
		{"Lambda deployments are blue/green", func() deploy.Group {
			g := lambdaGroup()
			g.DeploymentStyle.DeploymentType = target.InPlace
			return g
		}, nil, []string{"deploymentStyle.deploymentType"}, nil},
		{"ECS needs exactly one service and a target group pair", func() deploy.Group {
			g := ecsGroup()
			g.ECSServices = append(g.ECSServices, deploy.ECSService{})
			g.LoadBalancerInfo = target.LoadBalancerInfo{ELBInfoList: []target.NameInfo{{Name: "clb"}}}
			return g
		}, nil, []string{"ecsServices", "ecsServices[1].serviceName", "ecsServices[1].clusterName",
			"loadBalancerInfo", "loadBalancerInfo.targetGroupPairInfoList"}, nil},
		{"ECS blue/green configuration is required", func() deploy.Group {
			g := ecsGroup()
			g.BlueGreenDeploymentConfiguration = nil
			return g
		}, nil, []string{"blueGreenDeploymentConfiguration"}, nil},
		{"load balancer rules of package target apply", func() deploy.Group {
			g := ecsGroup()
			g.LoadBalancerInfo.TargetGroupPairInfoList[0].TargetGroups = g.LoadBalancerInfo.TargetGroupPairInfoList[0].TargetGroups[:1]
			return g
		}, nil, []string{"loadBalancerInfo.targetGroupPairInfoList[0].targetGroups"}, target.ErrInvalidLoadBalancerInfo},
		{"ignoreApplicationStopFailures on Lambda", func() deploy.Group { g := lambdaGroup(); g.IgnoreApplicationStopFailures = true; return g },
			nil, []string{"ignoreApplicationStopFailures"}, nil},
		{"ignoreApplicationStopFailures on ECS", func() deploy.Group { g := ecsGroup(); g.IgnoreApplicationStopFailures = true; return g },
			nil, []string{"ignoreApplicationStopFailures"}, nil},
		{"ignoreApplicationStopFailures on Server", func() deploy.Group { g := serverInPlace(); g.IgnoreApplicationStopFailures = true; return g },
			nil, nil, nil},
		{"outdatedInstancesStrategy must be known", func() deploy.Group { g := serverInPlace(); g.OutdatedInstancesStrategy = "REPLACE"; return g },
			nil, []string{"outdatedInstancesStrategy"}, nil},
		{"fileExistsBehavior must be known", func() deploy.Group { g := serverInPlace(); g.FileExistsBehavior = "MERGE"; return g },
			nil, []string{"fileExistsBehavior"}, nil},
		{"fileExistsBehavior is for Server", func() deploy.Group {
			g := lambdaGroup()
			g.FileExistsBehavior = revision.FileExistsOverwrite
			return g
		}, nil, []string{"fileExistsBehavior"}, nil},
		{"targetRevision must be a valid location", func() deploy.Group {
			g := serverInPlace()
			g.TargetRevision = &revision.Location{Type: revision.LocationS3, S3: &revision.S3Location{BundleType: revision.BundleZip}}
			return g
		}, nil, []string{"targetRevision.s3Location.bucket", "targetRevision.s3Location.key"}, revision.ErrInvalidLocation},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.group().Validate(tc.custom...)
			if len(tc.fields) == 0 {
				if err != nil {
					t.Fatalf("Validate = %v; want valid", err)
				}
				return
			}
			var list *multierror.Error
			if !errors.As(err, &list) || !errors.Is(err, deploy.ErrInvalidGroup) {
				t.Fatalf("Validate = %v; want a *multierror.Error matching ErrInvalidGroup", err)
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Errorf("Validate = %v; want it to match %v", err, tc.is)
			}
			var got []string
			for _, e := range list.Errors {
				p, ok := e.(*deploy.Problem)
				if !ok || !errors.Is(e, deploy.ErrInvalidGroup) {
					t.Fatalf("element %T %v is not a *Problem matching ErrInvalidGroup", e, e)
				}
				got = append(got, p.Field)
				if p.Rule == "" {
					t.Errorf("problem %s has no rule", p.Field)
				}
			}
			if strings.Join(got, " ") != strings.Join(tc.fields, " ") {
				t.Errorf("problem fields = %q; want %q\n%v", got, tc.fields, err)
			}
		})
	}
}

func TestGroupDefaults(t *testing.T) {
	tests := []struct {
		name   string
		group  deploy.Group
		config string
		style  deploy.DeploymentStyle
	}{
		{"Server defaults to OneAtATime, in-place without traffic control", serverInPlace(), "CodeDeployDefault.OneAtATime",
			deploy.DeploymentStyle{DeploymentType: target.InPlace, DeploymentOption: deploy.WithoutTrafficControl}},
		{"Lambda defaults to LambdaAllAtOnce, blue/green", deploy.Group{ComputePlatform: config.Lambda}, "CodeDeployDefault.LambdaAllAtOnce",
			deploy.DeploymentStyle{DeploymentType: target.BlueGreen, DeploymentOption: deploy.WithTrafficControl}},
		{"ECS defaults to ECSAllAtOnce, blue/green", deploy.Group{ComputePlatform: config.ECS}, "CodeDeployDefault.ECSAllAtOnce",
			deploy.DeploymentStyle{DeploymentType: target.BlueGreen, DeploymentOption: deploy.WithTrafficControl}},
		{"a named configuration wins", deploy.Group{DeploymentConfigName: "CodeDeployDefault.HalfAtATime",
			DeploymentStyle: deploy.DeploymentStyle{DeploymentType: target.BlueGreen}}, "CodeDeployDefault.HalfAtATime",
			deploy.DeploymentStyle{DeploymentType: target.BlueGreen, DeploymentOption: deploy.WithoutTrafficControl}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.group.ConfigName(); got != tc.config {
				t.Errorf("ConfigName = %q; want %q", got, tc.config)
			}
			if got := tc.group.Style(); got != tc.style {
				t.Errorf("Style = %+v; want %+v", got, tc.style)
			}
			c, err := tc.group.ResolveConfig()
			if err != nil || c.Name != tc.config {
				t.Errorf("ResolveConfig = %v, %v; want %s", c.Name, err, tc.config)
			}
		})
	}
	if g := (deploy.Group{}); g.Platform() != config.Server || !g.UpdatesOutdatedInstances() {
		t.Error("an empty group must be Server and default to outdatedInstancesStrategy UPDATE")
	}
	if g := (deploy.Group{OutdatedInstancesStrategy: deploy.OutdatedInstancesIgnore}); g.UpdatesOutdatedInstances() {
		t.Error("IGNORE must not update outdated instances")
	}
}

func TestResolveConfigErrors(t *testing.T) {
	g := serverInPlace()
	g.DeploymentConfigName = "Missing"
	if _, err := g.ResolveConfig(); !errors.Is(err, config.ErrUnknownConfig) || !strings.HasPrefix(err.Error(), "deploy: ") {
		t.Errorf("ResolveConfig of an unknown name = %v; want a deploy error wrapping config.ErrUnknownConfig", err)
	}
	g.DeploymentConfigName = "CodeDeployDefault.ECSAllAtOnce"
	if _, err := g.ResolveConfig(); !errors.Is(err, deploy.ErrInvalidGroup) {
		t.Errorf("ResolveConfig of an ECS configuration for a Server group = %v; want ErrInvalidGroup", err)
	}
	custom := config.Config{Name: "Mine", MinimumHealthyHosts: &config.MinimumHealthyHosts{Type: config.HostCount, Value: 2}}
	g.DeploymentConfigName = "Mine"
	c, err := g.ResolveConfig(custom)
	if err != nil {
		t.Fatal(err)
	}
	c.MinimumHealthyHosts.Value = 99
	if custom.MinimumHealthyHosts.Value != 2 {
		t.Error("the resolved configuration shares memory with the custom one")
	}
}

// API Reference, CreateDeploymentGroup, terminationHookEnabled: the
// termination hook is installed into the Auto Scaling groups of EC2/On-
// premises deployment groups; on a Lambda or ECS group it is refused, and
// the error names the field and says to unset it.
func TestTerminationHookOnlyForServer(t *testing.T) {
	for _, g := range []deploy.Group{lambdaGroup(), ecsGroup()} {
		g.TerminationHookEnabled = true
		err := g.Validate()
		if err == nil || !errors.Is(err, deploy.ErrInvalidGroup) ||
			!strings.Contains(err.Error(), "terminationHookEnabled") || !strings.Contains(err.Error(), "unset it for this "+string(g.Platform())+" group") {
			t.Errorf("%s group with the termination hook: Validate = %v", g.Platform(), err)
		}
	}
}

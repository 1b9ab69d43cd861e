package codedeployimport_test

import (
	"reflect"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/codedeploy"
	"github.com/aws/aws-sdk-go-v2/service/codedeploy/types"

	"github.com/fleetdeploy/fleetdeploy/config"
	"github.com/fleetdeploy/fleetdeploy/deploy"
	"github.com/fleetdeploy/fleetdeploy/deploy/codedeployimport"
	"github.com/fleetdeploy/fleetdeploy/internal/motoserver"
	"github.com/fleetdeploy/fleetdeploy/target"
)

func TestMain(m *testing.M) { motoserver.Main(m) }

// TestImportFromMoto creates applications and groups in moto with the
// SDK's CreateApplication and CreateDeploymentGroup, and imports them.
// moto does not keep alarmConfiguration, so the groups here have none.
func TestImportFromMoto(t *testing.T) {
	ctx := t.Context()
	moto := codedeploy.NewFromConfig(motoserver.Config(t))
	server, ecsApp := motoserver.Name(t, "srv"), motoserver.Name(t, "ecs")
	for app, p := range map[string]types.ComputePlatform{server: types.ComputePlatformServer, ecsApp: types.ComputePlatformEcs} {
		if _, err := moto.CreateApplication(ctx, &codedeploy.CreateApplicationInput{ApplicationName: aws.String(app), ComputePlatform: p}); err != nil {
			t.Fatalf("CreateApplication %s: %v", app, err)
		}
	}
	role := aws.String("arn:aws:iam::123456789012:role/CodeDeployRole")
	web, err := moto.CreateDeploymentGroup(ctx, &codedeploy.CreateDeploymentGroupInput{
		ApplicationName:      aws.String(server),
		DeploymentGroupName:  aws.String("Web"),
		ServiceRoleArn:       role,
		DeploymentConfigName: aws.String("ThreeQuartersHealthy"),
		Ec2TagFilters:        []types.EC2TagFilter{{Key: aws.String("Env"), Value: aws.String("Prod"), Type: types.EC2TagFilterTypeKeyAndValue}},
		OnPremisesTagSet: &types.OnPremisesTagSet{OnPremisesTagSetList: [][]types.TagFilter{
			{{Key: aws.String("Rack"), Type: types.TagFilterTypeKeyOnly}},
			{{Value: aws.String("east"), Type: types.TagFilterTypeValueOnly}},
		}},
		AutoScalingGroups:         []string{"web-asg"},
		TerminationHookEnabled:    aws.Bool(true),
		DeploymentStyle:           &types.DeploymentStyle{DeploymentType: types.DeploymentTypeInPlace, DeploymentOption: types.DeploymentOptionWithTrafficControl},
		LoadBalancerInfo:          &types.LoadBalancerInfo{TargetGroupInfoList: []types.TargetGroupInfo{{Name: aws.String("web-tg")}}},
		AutoRollbackConfiguration: &types.AutoRollbackConfiguration{Enabled: true, Events: []types.AutoRollbackEvent{types.AutoRollbackEventDeploymentFailure}},
		TriggerConfigurations: []types.TriggerConfig{{TriggerName: aws.String("ops"), TriggerTargetArn: aws.String("arn:aws:sns:us-east-1:123456789012:ops"),
			TriggerEvents: []types.TriggerEventType{types.TriggerEventTypeDeploymentFailure}}},
		OutdatedInstancesStrategy: types.OutdatedInstancesStrategyIgnore,
	})
	if err != nil {
		t.Fatalf("CreateDeploymentGroup Web: %v", err)
	}
	blue, err := moto.CreateDeploymentGroup(ctx, &codedeploy.CreateDeploymentGroupInput{
		ApplicationName:     aws.String(server),
		DeploymentGroupName: aws.String("Blue"),
		ServiceRoleArn:      role,
		Ec2TagSet: &types.EC2TagSet{Ec2TagSetList: [][]types.EC2TagFilter{
			{{Key: aws.String("Env"), Value: aws.String("Prod"), Type: types.EC2TagFilterTypeKeyAndValue}},
		}},
		DeploymentStyle:  &types.DeploymentStyle{DeploymentType: types.DeploymentTypeBlueGreen, DeploymentOption: types.DeploymentOptionWithTrafficControl},
		LoadBalancerInfo: &types.LoadBalancerInfo{ElbInfoList: []types.ELBInfo{{Name: aws.String("classic")}}},
		BlueGreenDeploymentConfiguration: &types.BlueGreenDeploymentConfiguration{
			TerminateBlueInstancesOnDeploymentSuccess: &types.BlueInstanceTerminationOption{Action: types.InstanceActionKeepAlive},
			DeploymentReadyOption:                     &types.DeploymentReadyOption{ActionOnTimeout: types.DeploymentReadyActionStopDeployment, WaitTimeInMinutes: 15},
			GreenFleetProvisioningOption:              &types.GreenFleetProvisioningOption{Action: types.GreenFleetProvisioningActionDiscoverExisting},
		},
	})
	if err != nil {
		t.Fatalf("CreateDeploymentGroup Blue: %v", err)
	}
	api, err := moto.CreateDeploymentGroup(ctx, &codedeploy.CreateDeploymentGroupInput{
		ApplicationName:      aws.String(ecsApp),
		DeploymentGroupName:  aws.String("Api"),
		ServiceRoleArn:       role,
		DeploymentConfigName: aws.String("CodeDeployDefault.ECSCanary10Percent5Minutes"),
		DeploymentStyle:      &types.DeploymentStyle{DeploymentType: types.DeploymentTypeBlueGreen, DeploymentOption: types.DeploymentOptionWithTrafficControl},
		EcsServices:          []types.ECSService{{ClusterName: aws.String("prod"), ServiceName: aws.String("api")}},
		LoadBalancerInfo: &types.LoadBalancerInfo{TargetGroupPairInfoList: []types.TargetGroupPairInfo{{
			TargetGroups:     []types.TargetGroupInfo{{Name: aws.String("blue")}, {Name: aws.String("green")}},
			ProdTrafficRoute: &types.TrafficRoute{ListenerArns: []string{"arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/api/1/prod"}},
		}}},
		BlueGreenDeploymentConfiguration: &types.BlueGreenDeploymentConfiguration{
			TerminateBlueInstancesOnDeploymentSuccess: &types.BlueInstanceTerminationOption{Action: types.InstanceActionTerminate, TerminationWaitTimeInMinutes: 10},
			DeploymentReadyOption:                     &types.DeploymentReadyOption{ActionOnTimeout: types.DeploymentReadyActionContinueDeployment},
		},
	})
	if err != nil {
		t.Fatalf("CreateDeploymentGroup Api: %v", err)
	}

	// moto has no deployment configurations: the peer serves them and
	// forwards everything else to moto.
	p, client := newPeer(t, motoserver.Endpoint(t))
	p.config(threeQuarters)
	p.config("CodeDeployDefault.OneAtATime")
	im, err := codedeployimport.New(client, func(o *codedeployimport.Options) { o.Applications = []string{ecsApp, server} })
	if err != nil {
		t.Fatal(err)
	}
	res, err := im.Import(ctx)
	if err != nil {
		t.Fatalf("Import: %v", err)
	}

	want := []deploy.Group{
		{
			ApplicationName: ecsApp, Name: "Api", ID: aws.ToString(api.DeploymentGroupId), ComputePlatform: config.ECS,
			DeploymentConfigName: "CodeDeployDefault.ECSCanary10Percent5Minutes",
			ECSServices:          []deploy.ECSService{{ServiceName: "api", ClusterName: "prod"}},
			DeploymentStyle:      deploy.DeploymentStyle{DeploymentType: target.BlueGreen, DeploymentOption: deploy.WithTrafficControl},
			LoadBalancerInfo: target.LoadBalancerInfo{TargetGroupPairInfoList: []target.TargetGroupPairInfo{{
				TargetGroups:     []target.NameInfo{{Name: "blue"}, {Name: "green"}},
				ProdTrafficRoute: target.TrafficRouteInfo{ListenerArns: []string{"arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/api/1/prod"}},
			}}},
			BlueGreenDeploymentConfiguration: &deploy.BlueGreenDeploymentConfiguration{
				TerminateBlueInstancesOnDeploymentSuccess: &deploy.BlueInstanceTerminationOption{Action: deploy.InstanceActionTerminate, TerminationWaitTimeInMinutes: 10},
				DeploymentReadyOption:                     &deploy.DeploymentReadyOption{ActionOnTimeout: deploy.ActionContinueDeployment},
			},
		},
		{
			ApplicationName: server, Name: "Blue", ID: aws.ToString(blue.DeploymentGroupId), ComputePlatform: config.Server,
			DeploymentConfigName: "CodeDeployDefault.OneAtATime", // moto fills in CodeDeploy's default
			Selector: target.Selector{EC2TagSet: target.EC2TagSet{List: [][]target.TagFilter{
				{{Key: "Env", Value: "Prod", Type: target.KeyAndValue}},
			}}},
			DeploymentStyle:  deploy.DeploymentStyle{DeploymentType: target.BlueGreen, DeploymentOption: deploy.WithTrafficControl},
			LoadBalancerInfo: target.LoadBalancerInfo{ELBInfoList: []target.NameInfo{{Name: "classic"}}},
			BlueGreenDeploymentConfiguration: &deploy.BlueGreenDeploymentConfiguration{
				TerminateBlueInstancesOnDeploymentSuccess: &deploy.BlueInstanceTerminationOption{Action: deploy.InstanceActionKeepAlive},
				DeploymentReadyOption:                     &deploy.DeploymentReadyOption{ActionOnTimeout: deploy.ActionStopDeployment, WaitTimeInMinutes: 15},
				GreenFleetProvisioningOption:              &deploy.GreenFleetProvisioningOption{Action: deploy.GreenFleetDiscoverExisting},
			},
		},
		{
			ApplicationName: server, Name: "Web", ID: aws.ToString(web.DeploymentGroupId), ComputePlatform: config.Server,
			DeploymentConfigName: "ThreeQuartersHealthy",
			Selector: target.Selector{
				EC2TagFilters: []target.TagFilter{{Key: "Env", Value: "Prod", Type: target.KeyAndValue}},
				OnPremisesTagSet: target.OnPremisesTagSet{List: [][]target.TagFilter{
					{{Key: "Rack", Type: target.KeyOnly}},
					{{Value: "east", Type: target.ValueOnly}},
				}},
				AutoScalingGroups: []string{"web-asg"},
			},
			TerminationHookEnabled:    true,
			DeploymentStyle:           deploy.DeploymentStyle{DeploymentType: target.InPlace, DeploymentOption: deploy.WithTrafficControl},
			LoadBalancerInfo:          target.LoadBalancerInfo{TargetGroupInfoList: []target.NameInfo{{Name: "web-tg"}}},
			AutoRollbackConfiguration: deploy.AutoRollbackConfiguration{Enabled: true, Events: []deploy.AutoRollbackEvent{deploy.AutoRollbackDeploymentFailure}},
			TriggerConfigurations: []deploy.TriggerConfig{{TriggerName: "ops", TriggerTargetArn: "arn:aws:sns:us-east-1:123456789012:ops",
				TriggerEvents: []deploy.TriggerEventType{deploy.TriggerDeploymentFailure}}},
			OutdatedInstancesStrategy: deploy.OutdatedInstancesIgnore,
		},
	}
	if len(res.Groups) != len(want) {
		t.Fatalf("imported %d groups; want %d: %+v", len(res.Groups), len(want), res.Groups)
	}
	for i := range want {
		if !reflect.DeepEqual(res.Groups[i], want[i]) {
			t.Errorf("group %s =\n%+v\nwant\n%+v", want[i].Name, res.Groups[i], want[i])
		}
	}
	if len(res.Applications) != 2 || res.Applications[0].Name != ecsApp || res.Applications[0].ComputePlatform != config.ECS ||
		res.Applications[1].Name != server || res.Applications[1].ComputePlatform != config.Server || res.Applications[1].CreateTime.IsZero() {
		t.Errorf("applications = %+v", res.Applications)
	}
	if len(res.Configs) != 1 || res.Configs[0].Name != "ThreeQuartersHealthy" {
		t.Errorf("configs = %+v", res.Configs)
	}
	// Only the service roles do not map: every group is valid.
	for _, i := range res.Report.Issues {
		if i.Field != "serviceRoleArn" {
			t.Errorf("unexpected issue: %s", i)
		}
	}
	if n := len(res.Report.Issues); n != 3 {
		t.Errorf("report has %d issues; want the 3 service roles:\n%s", n, res.Report)
	}

	// Into a store, twice: the second run changes nothing.
	store := deploy.NewMemoryStore()
	sum, err := codedeployimport.Write(ctx, store, res)
	if err != nil || sum != (codedeployimport.WriteSummary{ApplicationsCreated: 2, GroupsCreated: 3}) {
		t.Fatalf("Write = %+v, %v", sum, err)
	}
	sum, err = codedeployimport.Write(ctx, store, res)
	if err != nil || sum != (codedeployimport.WriteSummary{ApplicationsUnchanged: 2, GroupsUnchanged: 3}) {
		t.Errorf("second Write = %+v, %v; want everything unchanged", sum, err)
	}
	g, err := store.GetGroup(ctx, server, "Web")
	if err != nil || g.ID != want[2].ID || g.Version != 1 {
		t.Errorf("stored Web = %+v, %v; want CodeDeploy's ID at version 1", g, err)
	}
}

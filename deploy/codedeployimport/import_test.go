package codedeployimport_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/codedeploy"
	"github.com/aws/smithy-go"

	"github.com/fleetdeploy/fleetdeploy/config"
	"github.com/fleetdeploy/fleetdeploy/deploy"
	"github.com/fleetdeploy/fleetdeploy/deploy/codedeployimport"
	"github.com/fleetdeploy/fleetdeploy/revision"
	"github.com/fleetdeploy/fleetdeploy/target"
)

// The documents are shaped like the API Reference's response syntax
// (GetDeploymentGroup, GetDeploymentConfig, GetApplication), with epoch
// seconds and AutoScalingGroup objects as CodeDeploy returns them.
const (
	shopApp = `{"applicationId": "a1b2c3d4-5678-90ab-cdef-11111EXAMPLE", "applicationName": "Shop",
		"computePlatform": "Server", "createTime": 1407878168.078, "linkedToGitHub": true, "gitHubAccountName": "shop-org"}`
	apiApp  = `{"applicationId": "b1", "applicationName": "Api", "computePlatform": "ECS", "createTime": 1500000000}`
	fnApp   = `{"applicationId": "c1", "applicationName": "Fn", "computePlatform": "Lambda", "createTime": 1500000001.5}`
	kubeApp = `{"applicationId": "d1", "applicationName": "Kube", "computePlatform": "Kubernetes", "createTime": 1500000002}`

	webGroup = `{
	  "alarmConfiguration": {"alarms": [{"name": "HighLatency"}], "enabled": true, "ignorePollAlarmFailure": false},
	  "applicationName": "Shop",
	  "autoRollbackConfiguration": {"enabled": true, "events": ["DEPLOYMENT_FAILURE", "DEPLOYMENT_STOP_ON_ALARM"]},
	  "autoScalingGroups": [{"hook": "CodeDeploy-managed-automatic-launch-deployment-hook-Web-5d2a", "name": "web-asg", "terminationHook": "CodeDeploy-managed-termination-hook-Web-5d2a"}],
	  "computePlatform": "Server",
	  "deploymentConfigName": "ZonalTwoAtATime",
	  "deploymentGroupId": "b2c3d4e5-6789-01ab-cdef-22222EXAMPLE",
	  "deploymentGroupName": "Web",
	  "deploymentStyle": {"deploymentOption": "WITH_TRAFFIC_CONTROL", "deploymentType": "IN_PLACE"},
	  "ec2TagSet": {"ec2TagSetList": [[{"Key": "Env", "Type": "KEY_AND_VALUE", "Value": "Prod"}], [{"Key": "Role", "Type": "KEY_ONLY"}]]},
	  "lastSuccessfulDeployment": {"createTime": 1411000000, "deploymentId": "d-AAAAAAAA1", "endTime": 1411000100.25, "status": "Succeeded"},
	  "loadBalancerInfo": {"targetGroupInfoList": [{"name": "web-tg"}]},
	  "outdatedInstancesStrategy": "IGNORE",
	  "serviceRoleArn": "arn:aws:iam::123456789012:role/CodeDeployRole",
	  "targetRevision": {"revisionType": "S3", "s3Location": {"bucket": "artifacts", "bundleType": "zip", "eTag": "abc", "key": "web.zip", "version": "v7"}},
	  "terminationHookEnabled": true,
	  "triggerConfigurations": [{"triggerEvents": ["DeploymentFailure", "InstanceFailure"], "triggerName": "ops", "triggerTargetArn": "arn:aws:sns:us-east-1:123456789012:ops"}]
	}`
	blueGroup = `{
	  "applicationName": "Shop",
	  "autoScalingGroups": [{"name": "blue-asg"}],
	  "blueGreenDeploymentConfiguration": {
	    "deploymentReadyOption": {"actionOnTimeout": "STOP_DEPLOYMENT", "waitTimeInMinutes": 30},
	    "greenFleetProvisioningOption": {"action": "COPY_AUTO_SCALING_GROUP"},
	    "terminateBlueInstancesOnDeploymentSuccess": {"action": "TERMINATE", "terminationWaitTimeInMinutes": 60}
	  },
	  "computePlatform": "Server",
	  "deploymentConfigName": "ThreeQuartersHealthy",
	  "deploymentGroupId": "e5f6a7b8-0000-4000-8000-44444EXAMPLE",
	  "deploymentGroupName": "Blue",
	  "deploymentStyle": {"deploymentOption": "WITH_TRAFFIC_CONTROL", "deploymentType": "BLUE_GREEN"},
	  "loadBalancerInfo": {"elbInfoList": [{"name": "classic-lb"}]},
	  "onPremisesInstanceTagFilters": [{"Type": "VALUE_ONLY", "Value": "rack-7"}],
	  "targetRevision": {"revisionType": "GitHub", "gitHubLocation": {"commitId": "0123456789abcdef0123456789abcdef01234567", "repository": "shop/web"}}
	}`
	ecsGroup = `{
	  "applicationName": "Api",
	  "blueGreenDeploymentConfiguration": {
	    "deploymentReadyOption": {"actionOnTimeout": "CONTINUE_DEPLOYMENT", "waitTimeInMinutes": 0},
	    "terminateBlueInstancesOnDeploymentSuccess": {"action": "TERMINATE", "terminationWaitTimeInMinutes": 5}
	  },
	  "computePlatform": "ECS",
	  "deploymentConfigName": "Linear20Every2",
	  "deploymentGroupId": "c3d4e5f6-7890-12ab-cdef-33333EXAMPLE",
	  "deploymentGroupName": "ApiDG",
	  "deploymentStyle": {"deploymentOption": "WITH_TRAFFIC_CONTROL", "deploymentType": "BLUE_GREEN"},
	  "ecsServices": [{"clusterName": "prod", "serviceName": "api"}],
	  "loadBalancerInfo": {"targetGroupPairInfoList": [{
	    "prodTrafficRoute": {"listenerArns": ["arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/api/1/prod"]},
	    "targetGroups": [{"name": "api-blue"}, {"name": "api-green"}],
	    "testTrafficRoute": {"listenerArns": ["arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/api/1/test"]}
	  }]},
	  "serviceRoleArn": "arn:aws:iam::123456789012:role/EcsCodeDeploy"
	}`
	fnGroup = `{
	  "applicationName": "Fn",
	  "computePlatform": "Lambda",
	  "deploymentConfigName": "Canary25Percent7Minutes",
	  "deploymentGroupId": "f6a7b8c9-0000-4000-8000-55555EXAMPLE",
	  "deploymentGroupName": "FnDG",
	  "deploymentStyle": {"deploymentOption": "WITH_TRAFFIC_CONTROL", "deploymentType": "BLUE_GREEN"},
	  "targetRevision": {"revisionType": "String", "string": {"content": "version: 0.0", "sha256": "61e3942b5adadc9bea4d6feffc38d6567dff72bd20136aca04f5f20755ede10a"}}
	}`
	kubeGroup = `{"applicationName": "Kube", "computePlatform": "Kubernetes", "deploymentGroupName": "K", "deploymentGroupId": "k1"}`

	threeQuarters = `{"deploymentConfigId": "a1b2c3d4-5678-90ab-cdef-11111EXAMPLE", "minimumHealthyHosts": {"type": "FLEET_PERCENT", "value": 75},
		"createTime": 1411081164.379, "deploymentConfigName": "ThreeQuartersHealthy", "computePlatform": "Server"}`
	zonalTwo = `{"computePlatform": "Server", "deploymentConfigName": "ZonalTwoAtATime", "minimumHealthyHosts": {"type": "HOST_COUNT", "value": 2},
		"zonalConfig": {"firstZoneMonitorDurationInSeconds": 900, "minimumHealthyHostsPerZone": {"type": "FLEET_PERCENT", "value": 50}, "monitorDurationInSeconds": 300}}`
	canary25 = `{"computePlatform": "Lambda", "deploymentConfigName": "Canary25Percent7Minutes",
		"trafficRoutingConfig": {"timeBasedCanary": {"canaryInterval": 7, "canaryPercentage": 25}, "type": "TimeBasedCanary"}}`
	linear20 = `{"computePlatform": "ECS", "deploymentConfigName": "Linear20Every2",
		"trafficRoutingConfig": {"timeBasedLinear": {"linearInterval": 2, "linearPercentage": 20}, "type": "TimeBasedLinear"}}`
	kubeConfig = `{"computePlatform": "Kubernetes", "deploymentConfigName": "KubeAllAtOnce", "trafficRoutingConfig": {"type": "AllAtOnce"}}`
	badConfig  = `{"computePlatform": "Server", "deploymentConfigName": "TooHealthy", "minimumHealthyHosts": {"type": "FLEET_PERCENT", "value": 100}}`
)

func i64(v int64) *int64 { return &v }

// wantGroups are the hand-written fleetdeploy values of the documents.
var wantGroups = []deploy.Group{
	{
		ApplicationName: "Api", Name: "ApiDG", ID: "c3d4e5f6-7890-12ab-cdef-33333EXAMPLE", ComputePlatform: config.ECS,
		DeploymentConfigName: "Linear20Every2",
		ECSServices:          []deploy.ECSService{{ServiceName: "api", ClusterName: "prod"}},
		DeploymentStyle:      deploy.DeploymentStyle{DeploymentType: target.BlueGreen, DeploymentOption: deploy.WithTrafficControl},
		LoadBalancerInfo: target.LoadBalancerInfo{TargetGroupPairInfoList: []target.TargetGroupPairInfo{{
			TargetGroups:     []target.NameInfo{{Name: "api-blue"}, {Name: "api-green"}},
			ProdTrafficRoute: target.TrafficRouteInfo{ListenerArns: []string{"arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/api/1/prod"}},
			TestTrafficRoute: target.TrafficRouteInfo{ListenerArns: []string{"arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/api/1/test"}},
		}}},
		BlueGreenDeploymentConfiguration: &deploy.BlueGreenDeploymentConfiguration{
			TerminateBlueInstancesOnDeploymentSuccess: &deploy.BlueInstanceTerminationOption{Action: deploy.InstanceActionTerminate, TerminationWaitTimeInMinutes: 5},
			DeploymentReadyOption:                     &deploy.DeploymentReadyOption{ActionOnTimeout: deploy.ActionContinueDeployment},
		},
	},
	{
		ApplicationName: "Fn", Name: "FnDG", ID: "f6a7b8c9-0000-4000-8000-55555EXAMPLE", ComputePlatform: config.Lambda,
		DeploymentConfigName: "Canary25Percent7Minutes",
		DeploymentStyle:      deploy.DeploymentStyle{DeploymentType: target.BlueGreen, DeploymentOption: deploy.WithTrafficControl},
		TargetRevision: &revision.Location{Type: revision.LocationAppSpecContent,
			AppSpecContent: &revision.AppSpecContent{Content: "version: 0.0", SHA256: "61e3942b5adadc9bea4d6feffc38d6567dff72bd20136aca04f5f20755ede10a"}},
	},
	{
		ApplicationName: "Shop", Name: "Blue", ID: "e5f6a7b8-0000-4000-8000-44444EXAMPLE", ComputePlatform: config.Server,
		DeploymentConfigName: "ThreeQuartersHealthy",
		Selector: target.Selector{
			OnPremisesInstanceTagFilters: []target.TagFilter{{Value: "rack-7", Type: target.ValueOnly}},
			AutoScalingGroups:            []string{"blue-asg"},
		},
		DeploymentStyle:  deploy.DeploymentStyle{DeploymentType: target.BlueGreen, DeploymentOption: deploy.WithTrafficControl},
		LoadBalancerInfo: target.LoadBalancerInfo{ELBInfoList: []target.NameInfo{{Name: "classic-lb"}}},
		BlueGreenDeploymentConfiguration: &deploy.BlueGreenDeploymentConfiguration{
			TerminateBlueInstancesOnDeploymentSuccess: &deploy.BlueInstanceTerminationOption{Action: deploy.InstanceActionTerminate, TerminationWaitTimeInMinutes: 60},
			DeploymentReadyOption:                     &deploy.DeploymentReadyOption{ActionOnTimeout: deploy.ActionStopDeployment, WaitTimeInMinutes: 30},
			GreenFleetProvisioningOption:              &deploy.GreenFleetProvisioningOption{Action: deploy.GreenFleetCopyAutoScalingGroup},
		},
		TargetRevision: &revision.Location{Type: revision.LocationGitHub,
			GitHub: &revision.GitHubLocation{Repository: "shop/web", CommitID: "0123456789abcdef0123456789abcdef01234567"}},
	},
	{
		ApplicationName: "Shop", Name: "Web", ID: "b2c3d4e5-6789-01ab-cdef-22222EXAMPLE", ComputePlatform: config.Server,
		DeploymentConfigName: "ZonalTwoAtATime",
		Selector: target.Selector{
			EC2TagSet: target.EC2TagSet{List: [][]target.TagFilter{
				{{Key: "Env", Value: "Prod", Type: target.KeyAndValue}},
				{{Key: "Role", Type: target.KeyOnly}},
			}},
			AutoScalingGroups: []string{"web-asg"},
		},
		TerminationHookEnabled: true,
		DeploymentStyle:        deploy.DeploymentStyle{DeploymentType: target.InPlace, DeploymentOption: deploy.WithTrafficControl},
		LoadBalancerInfo:       target.LoadBalancerInfo{TargetGroupInfoList: []target.NameInfo{{Name: "web-tg"}}},
		AutoRollbackConfiguration: deploy.AutoRollbackConfiguration{Enabled: true,
			Events: []deploy.AutoRollbackEvent{deploy.AutoRollbackDeploymentFailure, deploy.AutoRollbackDeploymentStopOnAlarm}},
		AlarmConfiguration: deploy.AlarmConfiguration{Enabled: true, Alarms: []deploy.Alarm{{Name: "HighLatency"}}},
		TriggerConfigurations: []deploy.TriggerConfig{{TriggerName: "ops", TriggerTargetArn: "arn:aws:sns:us-east-1:123456789012:ops",
			TriggerEvents: []deploy.TriggerEventType{deploy.TriggerDeploymentFailure, deploy.TriggerInstanceFailure}}},
		OutdatedInstancesStrategy: deploy.OutdatedInstancesIgnore,
		TargetRevision: &revision.Location{Type: revision.LocationS3, S3: &revision.S3Location{
			Bucket: "artifacts", Key: "web.zip", BundleType: revision.BundleZip, Version: "v7", ETag: "abc"}},
		LastSuccessfulDeployment: &deploy.LastDeploymentInfo{DeploymentID: "d-AAAAAAAA1", Status: deploy.StatusSucceeded,
			CreateTime: time.Unix(1411000000, 0).UTC(), EndTime: time.UnixMilli(1411000100250).UTC()},
	},
}

var wantConfigs = []config.Config{
	{Name: "Canary25Percent7Minutes", ComputePlatform: config.Lambda,
		TrafficRouting: &config.TrafficRouting{Type: config.TimeBasedCanary, TimeBasedCanary: &config.Canary{CanaryPercentage: 25, CanaryInterval: 7}}},
	{Name: "Linear20Every2", ComputePlatform: config.ECS,
		TrafficRouting: &config.TrafficRouting{Type: config.TimeBasedLinear, TimeBasedLinear: &config.Linear{LinearPercentage: 20, LinearInterval: 2}}},
	{Name: "ThreeQuartersHealthy", ComputePlatform: config.Server, MinimumHealthyHosts: &config.MinimumHealthyHosts{Type: config.FleetPercent, Value: 75}},
	{Name: "TooHealthy", ComputePlatform: config.Server, MinimumHealthyHosts: &config.MinimumHealthyHosts{Type: config.FleetPercent, Value: 100}},
	{Name: "ZonalTwoAtATime", ComputePlatform: config.Server, MinimumHealthyHosts: &config.MinimumHealthyHosts{Type: config.HostCount, Value: 2},
		ZonalConfig: &config.ZonalConfig{FirstZoneMonitorDurationInSeconds: i64(900), MonitorDurationInSeconds: i64(300),
			MinimumHealthyHostsPerZone: &config.MinimumHealthyHosts{Type: config.FleetPercent, Value: 50}}},
}

var wantApplications = []deploy.Application{
	{Name: "Api", ComputePlatform: config.ECS, CreateTime: time.Unix(1500000000, 0).UTC()},
	{Name: "Fn", ComputePlatform: config.Lambda, CreateTime: time.UnixMilli(1500000001500).UTC()},
	{Name: "Shop", ComputePlatform: config.Server, CreateTime: time.UnixMilli(1407878168078).UTC()},
}

// fullPeer returns a peer holding every document above, listing two
// entries a page.
func fullPeer(t *testing.T) (*peer, *codedeployimport.Importer) {
	p, client := newPeer(t, "")
	p.pageSize = 2
	for _, a := range []string{shopApp, apiApp, fnApp, kubeApp} {
		p.app(a)
	}
	for _, g := range []string{webGroup, blueGroup, ecsGroup, fnGroup, kubeGroup} {
		p.group(g)
	}
	for _, c := range []string{"CodeDeployDefault.OneAtATime", threeQuarters, zonalTwo, "CodeDeployDefault.LambdaAllAtOnce",
		canary25, linear20, kubeConfig, badConfig, "CodeDeployDefault.EC2SomethingNew"} {
		p.config(c)
	}
	im, err := codedeployimport.New(client)
	if err != nil {
		t.Fatal(err)
	}
	return p, im
}

func TestImportMapsEveryRecord(t *testing.T) {
	p, im := fullPeer(t)
	res, err := im.Import(t.Context())
	if err != nil {
		t.Fatalf("Import: %v", err)
	}
	if !reflect.DeepEqual(res.Applications, wantApplications) {
		t.Errorf("Applications =\n%+v\nwant\n%+v", res.Applications, wantApplications)
	}
	if len(res.Groups) != len(wantGroups) {
		t.Fatalf("got %d groups, want %d: %+v", len(res.Groups), len(wantGroups), res.Groups)
	}
	for i := range wantGroups {
		if !reflect.DeepEqual(res.Groups[i], wantGroups[i]) {
			t.Errorf("group %d =\n%+v\nwant\n%+v", i, res.Groups[i], wantGroups[i])
		}
	}
	if !reflect.DeepEqual(res.Configs, wantConfigs) {
		t.Errorf("Configs =\n%+v\nwant\n%+v", res.Configs, wantConfigs)
	}
	// Every page was read (two entries a page) and predefined configurations
	// were not asked for.
	if n := len(p.callsOf("ListApplications")); n != 2 {
		t.Errorf("ListApplications calls = %d; want 2 pages of 2", n)
	}
	if n := len(p.callsOf("ListDeploymentConfigs")); n != 5 {
		t.Errorf("ListDeploymentConfigs calls = %d; want 5 pages of 2", n)
	}
	for _, c := range p.callsOf("GetDeploymentConfig") {
		if strings.HasPrefix(c["deploymentConfigName"], "CodeDeployDefault.") {
			t.Errorf("GetDeploymentConfig asked for predefined %s", c["deploymentConfigName"])
		}
	}
}

func TestImportReportsWhatDoesNotMap(t *testing.T) {
	_, im := fullPeer(t)
	res, err := im.Import(t.Context())
	if err != nil {
		t.Fatalf("Import: %v", err)
	}
	hook := "CodeDeploy created this lifecycle hook on Auto Scaling group web-asg and answers it; fleetdeploy does not use or remove it (CodeDeploy removes it when the group no longer names the Auto Scaling group)"
	want := []string{
		`deployment configuration CodeDeployDefault.EC2SomethingNew: deploymentConfigName: a predefined CodeDeploy configuration fleetdeploy does not have; groups that use it will not validate`,
		`deployment configuration KubeAllAtOnce: computePlatform: "Kubernetes" is not a fleetdeploy compute platform ([Server Lambda ECS]); the configuration is not imported`,
		`deployment configuration TooHealthy: minimumHealthyHosts.value: fleetdeploy's validation: FLEET_PERCENT must be 0 or more and less than 100; got 100`,
		`application Shop: gitHubAccountName: the GitHub connection "shop-org" is CodeDeploy's; fleetdeploy reads GitHub revisions with the credentials the caller gives its revision source`,
		`deployment group Shop/Web: serviceRoleArn: arn:aws:iam::123456789012:role/CodeDeployRole is not used: fleetdeploy acts through the AWS clients the caller gives its adapters, with their credentials`,
		`deployment group Shop/Web: autoScalingGroups[0].hook: CodeDeploy-managed-automatic-launch-deployment-hook-Web-5d2a: ` + hook,
		`deployment group Shop/Web: autoScalingGroups[0].terminationHook: CodeDeploy-managed-termination-hook-Web-5d2a: ` + hook,
		`deployment group Api/ApiDG: serviceRoleArn: arn:aws:iam::123456789012:role/EcsCodeDeploy is not used: fleetdeploy acts through the AWS clients the caller gives its adapters, with their credentials`,
		`application Kube: computePlatform: "Kubernetes" is not a fleetdeploy compute platform ([Server Lambda ECS]); the application and its deployment groups are not imported`,
	}
	var got []string
	for _, i := range res.Report.Issues {
		got = append(got, i.String())
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("report:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if is := res.Report.For("Shop", "Web", ""); len(is) != 3 {
		t.Errorf("Report.For(Shop, Web) = %v; want its 3 issues", is)
	}
}

func TestImportValidatesGroupsAgainstImportedConfigs(t *testing.T) {
	p, client := newPeer(t, "")
	p.app(shopApp)
	// A zonal configuration for a blue/green group, and a configuration
	// that does not exist: both reported, the groups still imported.
	p.group(strings.Replace(blueGroup, `"ThreeQuartersHealthy"`, `"ZonalTwoAtATime"`, 1))
	p.group(strings.Replace(webGroup, `"ZonalTwoAtATime"`, `"Nowhere"`, 1))
	p.config(zonalTwo)
	im, _ := codedeployimport.New(client)
	res, err := im.Import(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Groups) != 2 {
		t.Fatalf("groups = %d; want 2", len(res.Groups))
	}
	var blue, web []string
	for _, i := range res.Report.For("Shop", "Blue", "") {
		blue = append(blue, i.Field+": "+i.Reason)
	}
	for _, i := range res.Report.For("Shop", "Web", "") {
		web = append(web, i.Field+": "+i.Reason)
	}
	if !slices.ContainsFunc(blue, func(s string) bool {
		return strings.Contains(s, "deploymentConfigName") && strings.Contains(s, "zonal")
	}) {
		t.Errorf("Blue issues %q; want the zonal configuration reported", blue)
	}
	if !slices.ContainsFunc(web, func(s string) bool {
		return strings.Contains(s, "deploymentConfigName") && strings.Contains(s, "Nowhere")
	}) {
		t.Errorf("Web issues %q; want the unknown configuration reported", web)
	}
}

func TestImportBatchesAndPages(t *testing.T) {
	p, client := newPeer(t, "")
	p.pageSize = 40
	p.app(shopApp)
	const n = 230
	var want []string
	for i := range n {
		name := fmt.Sprintf("G%03d", i)
		want = append(want, name)
		p.group(fmt.Sprintf(`{"applicationName": "Shop", "deploymentGroupName": %q, "deploymentGroupId": "id-%03d", "computePlatform": "Server",
			"ec2TagFilters": [{"Key": "Group", "Type": "KEY_AND_VALUE", "Value": %q}]}`, name, i, name))
	}
	im, _ := codedeployimport.New(client, func(o *codedeployimport.Options) {
		o.Applications = []string{"Shop"}
		o.SkipConfigs = true
	})
	res, err := im.Import(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, g := range res.Groups {
		got = append(got, g.Name)
		if g.Selector.EC2TagFilters[0].Value != g.Name {
			t.Errorf("group %s has the selector of %s", g.Name, g.Selector.EC2TagFilters[0].Value)
		}
	}
	if !slices.Equal(got, want) {
		t.Errorf("imported %d groups %v...; want %d", len(got), got[:min(5, len(got))], n)
	}
	if c := len(p.callsOf("ListDeploymentGroups")); c != 6 {
		t.Errorf("ListDeploymentGroups calls = %d; want 6 pages of 40", c)
	}
	var sizes []string
	for _, c := range p.callsOf("BatchGetDeploymentGroups") {
		sizes = append(sizes, c["deploymentGroupNames"])
	}
	if !slices.Equal(sizes, []string{"100", "100", "30"}) {
		t.Errorf("BatchGetDeploymentGroups sizes = %v; want [100 100 30]", sizes)
	}
	if c := len(p.callsOf("ListApplications")) + len(p.callsOf("ListDeploymentConfigs")); c != 0 {
		t.Errorf("%d list calls for applications and configurations; want none with Options.Applications and SkipConfigs", c)
	}
}

func TestImportReportsRecordsThatVanish(t *testing.T) {
	p, client := newPeer(t, "")
	p.app(shopApp)
	p.group(webGroup)
	p.mu.Lock()
	p.groups["Shop"] = append(p.groups["Shop"], "Gone") // listed, but BatchGet finds none
	p.mu.Unlock()
	im, _ := codedeployimport.New(client, func(o *codedeployimport.Options) {
		o.Applications = []string{"Shop", "Missing"}
		o.SkipConfigs = true
	})
	res, err := im.Import(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Groups) != 1 || len(res.Applications) != 1 {
		t.Fatalf("imported %d applications, %d groups; want 1, 1", len(res.Applications), len(res.Groups))
	}
	report := res.Report.String()
	for _, want := range []string{
		"application Missing: applicationName: BatchGetApplications did not return it",
		"application Shop: deploymentGroupNames: BatchGetDeploymentGroups reported: Deployment groups not found: Gone",
		"deployment group Shop/Gone: deploymentGroupName: BatchGetDeploymentGroups did not return it",
	} {
		if !strings.Contains(report, want) {
			t.Errorf("report\n%s\nlacks %q", report, want)
		}
	}
}

func TestImportErrorsKeepTheAPIError(t *testing.T) {
	for _, op := range []string{"ListApplications", "BatchGetApplications", "ListDeploymentGroups", "BatchGetDeploymentGroups", "ListDeploymentConfigs", "GetDeploymentConfig"} {
		t.Run(op, func(t *testing.T) {
			p, im := fullPeer(t)
			p.fail[op] = "AccessDeniedException"
			res, err := im.Import(t.Context())
			var ae smithy.APIError
			if !errors.As(err, &ae) || ae.ErrorCode() != "AccessDeniedException" || !strings.Contains(err.Error(), "codedeployimport: "+op) {
				t.Errorf("Import = %v, %v; want an error naming %s that keeps the API error", res, err, op)
			}
		})
	}
}

func TestImportStopsOnCancel(t *testing.T) {
	_, im := fullPeer(t)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := im.Import(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Import(canceled) = %v; want context.Canceled", err)
	}
}

func TestNewRejectsBadOptions(t *testing.T) {
	if _, err := codedeployimport.New(nil); err == nil || !strings.Contains(err.Error(), "client is nil") {
		t.Errorf("New(nil) = %v", err)
	}
	_, client := newPeer(t, "")
	if _, err := codedeployimport.New(client, func(o *codedeployimport.Options) { o.Applications = []string{"A", ""} }); err == nil ||
		!strings.Contains(err.Error(), "Applications[1]") {
		t.Errorf("New(empty application name) = %v", err)
	}
}

func TestNextTokenEndsOnRepeatOrEmpty(t *testing.T) {
	// A peer that answers every page with the same token must not loop the
	// importer forever (moto answers ListDeploymentGroups with "").
	p, client := newPeer(t, "")
	p.app(shopApp)
	p.group(webGroup)
	stuck := &stuckLister{Client: client}
	im, _ := codedeployimport.New(stuck, func(o *codedeployimport.Options) { o.SkipConfigs = true })
	res, err := im.Import(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if stuck.calls != 2 || len(res.Applications) != 1 {
		t.Errorf("ListApplications calls = %d, applications = %d; want 2 (the second repeats the token), 1", stuck.calls, len(res.Applications))
	}
}

// stuckLister answers ListApplications with the same next token on every
// page, the first page naming Shop.
type stuckLister struct {
	*codedeploy.Client
	calls int
}

func (s *stuckLister) ListApplications(context.Context, *codedeploy.ListApplicationsInput, ...func(*codedeploy.Options)) (*codedeploy.ListApplicationsOutput, error) {
	s.calls++
	out := &codedeploy.ListApplicationsOutput{NextToken: aws.String("same")}
	if s.calls == 1 {
		out.Applications = []string{"Shop"}
	}
	return out, nil
}

package deploy

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/fleetdeploy/fleetdeploy/config"
	"github.com/fleetdeploy/fleetdeploy/revision"
	"github.com/fleetdeploy/fleetdeploy/target"
)

// The documents below are written after the API Reference's
// GetDeploymentGroup / GetApplication response syntax and the AWS CLI
// reference's examples, not from fleetdeploy's own output.

// wordPressGroup is the AWS CLI example of get-deployment-group: Auto
// Scaling groups as names, a service role fleetdeploy does not keep.
const wordPressGroup = `{
    "applicationName": "WordPress_App",
    "autoScalingGroups": [
        "CodeDeployDemo-ASG"
    ],
    "deploymentConfigName": "CodeDeployDefault.OneAtATime",
    "ec2TagFilters": [
        {
            "Type": "KEY_AND_VALUE",
            "Value": "CodeDeployDemo",
            "Key": "Name"
        }
    ],
    "deploymentGroupId": "a1b2c3d4-5678-90ab-cdef-11111EXAMPLE",
    "serviceRoleArn": "arn:aws:iam::123456789012:role/CodeDeployDemoRole",
    "deploymentGroupName": "WordPress_DG"
}`

// blueGreenGroup has every member of DeploymentGroupInfo a Server group
// can carry, as the API returns them: AutoScalingGroup objects, epoch
// seconds.
const blueGreenGroup = `{
  "alarmConfiguration": {"alarms": [{"name": "HighLatency"}, {"name": "5xx"}], "enabled": true, "ignorePollAlarmFailure": true},
  "applicationName": "Shop",
  "autoRollbackConfiguration": {"enabled": true, "events": ["DEPLOYMENT_FAILURE", "DEPLOYMENT_STOP_ON_ALARM"]},
  "autoScalingGroups": [
    {"hook": "CodeDeploy-managed-automatic-launch-deployment-hook-Web-1", "name": "web-asg", "terminationHook": "CodeDeploy-managed-termination-hook-Web-1"}
  ],
  "blueGreenDeploymentConfiguration": {
    "deploymentReadyOption": {"actionOnTimeout": "STOP_DEPLOYMENT", "waitTimeInMinutes": 30},
    "greenFleetProvisioningOption": {"action": "COPY_AUTO_SCALING_GROUP"},
    "terminateBlueInstancesOnDeploymentSuccess": {"action": "TERMINATE", "terminationWaitTimeInMinutes": 60}
  },
  "computePlatform": "Server",
  "deploymentConfigName": "CodeDeployDefault.HalfAtATime",
  "deploymentGroupId": "b2c3d4e5-6789-01ab-cdef-22222EXAMPLE",
  "deploymentGroupName": "Web",
  "deploymentStyle": {"deploymentOption": "WITH_TRAFFIC_CONTROL", "deploymentType": "BLUE_GREEN"},
  "ec2TagSet": {"ec2TagSetList": [[{"Key": "Env", "Type": "KEY_AND_VALUE", "Value": "Prod"}], [{"Key": "Role", "Type": "KEY_ONLY"}]]},
  "onPremisesTagSet": {"onPremisesTagSetList": [[{"Type": "VALUE_ONLY", "Value": "rack-7"}]]},
  "lastAttemptedDeployment": {"createTime": 1411081164.379, "deploymentId": "d-AAAAAAAA2", "endTime": 1411081264.5, "status": "Failed"},
  "lastSuccessfulDeployment": {"createTime": 1411000000, "deploymentId": "d-AAAAAAAA1", "endTime": 1411000100.25, "status": "Succeeded"},
  "loadBalancerInfo": {"targetGroupInfoList": [{"name": "web-tg"}]},
  "outdatedInstancesStrategy": "IGNORE",
  "serviceRoleArn": "arn:aws:iam::123456789012:role/CodeDeployRole",
  "targetRevision": {"revisionType": "S3", "s3Location": {"bucket": "artifacts", "bundleType": "zip", "eTag": "abc", "key": "web.zip", "version": "v7"}},
  "terminationHookEnabled": true,
  "triggerConfigurations": [{"triggerEvents": ["DeploymentFailure", "InstanceFailure"], "triggerName": "ops", "triggerTargetArn": "arn:aws:sns:us-east-1:123456789012:ops"}]
}`

// ecsGroup is an ECS DeploymentGroupInfo with a target group pair.
const ecsGroup = `{
  "applicationName": "Api",
  "computePlatform": "ECS",
  "deploymentConfigName": "CodeDeployDefault.ECSLinear10PercentEvery1Minutes",
  "deploymentGroupId": "c3d4e5f6-7890-12ab-cdef-33333EXAMPLE",
  "deploymentGroupName": "ApiDG",
  "deploymentStyle": {"deploymentOption": "WITH_TRAFFIC_CONTROL", "deploymentType": "BLUE_GREEN"},
  "blueGreenDeploymentConfiguration": {
    "deploymentReadyOption": {"actionOnTimeout": "CONTINUE_DEPLOYMENT", "waitTimeInMinutes": 0},
    "terminateBlueInstancesOnDeploymentSuccess": {"action": "TERMINATE", "terminationWaitTimeInMinutes": 5}
  },
  "ecsServices": [{"clusterName": "prod", "serviceName": "api"}],
  "loadBalancerInfo": {"targetGroupPairInfoList": [{
    "prodTrafficRoute": {"listenerArns": ["arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/api/1/prod"]},
    "targetGroups": [{"name": "api-blue"}, {"name": "api-green"}],
    "testTrafficRoute": {"listenerArns": ["arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/api/1/test"]}
  }]}
}`

func TestGroupDecodesCodeDeployJSON(t *testing.T) {
	tests := []struct {
		name string
		doc  string
		want Group
	}{
		{"get-deployment-group CLI example", wordPressGroup, Group{
			ApplicationName:      "WordPress_App",
			Name:                 "WordPress_DG",
			ID:                   "a1b2c3d4-5678-90ab-cdef-11111EXAMPLE",
			DeploymentConfigName: "CodeDeployDefault.OneAtATime",
			Selector: target.Selector{
				EC2TagFilters:     []target.TagFilter{{Key: "Name", Value: "CodeDeployDemo", Type: target.KeyAndValue}},
				AutoScalingGroups: []string{"CodeDeployDemo-ASG"},
			},
		}},
		{"blue/green Server DeploymentGroupInfo", blueGreenGroup, Group{
			ApplicationName:      "Shop",
			Name:                 "Web",
			ID:                   "b2c3d4e5-6789-01ab-cdef-22222EXAMPLE",
			ComputePlatform:      config.Server,
			DeploymentConfigName: "CodeDeployDefault.HalfAtATime",
			Selector: target.Selector{
				EC2TagSet: target.EC2TagSet{List: [][]target.TagFilter{
					{{Key: "Env", Value: "Prod", Type: target.KeyAndValue}},
					{{Key: "Role", Type: target.KeyOnly}},
				}},
				OnPremisesTagSet:  target.OnPremisesTagSet{List: [][]target.TagFilter{{{Value: "rack-7", Type: target.ValueOnly}}}},
				AutoScalingGroups: []string{"web-asg"},
			},
			TerminationHookEnabled: true,
			DeploymentStyle:        DeploymentStyle{DeploymentType: target.BlueGreen, DeploymentOption: WithTrafficControl},
			LoadBalancerInfo:       target.LoadBalancerInfo{TargetGroupInfoList: []target.NameInfo{{Name: "web-tg"}}},
			BlueGreenDeploymentConfiguration: &BlueGreenDeploymentConfiguration{
				TerminateBlueInstancesOnDeploymentSuccess: &BlueInstanceTerminationOption{Action: InstanceActionTerminate, TerminationWaitTimeInMinutes: 60},
				DeploymentReadyOption:                     &DeploymentReadyOption{ActionOnTimeout: ActionStopDeployment, WaitTimeInMinutes: 30},
				GreenFleetProvisioningOption:              &GreenFleetProvisioningOption{Action: GreenFleetCopyAutoScalingGroup},
			},
			AutoRollbackConfiguration: AutoRollbackConfiguration{Enabled: true, Events: []AutoRollbackEvent{AutoRollbackDeploymentFailure, AutoRollbackDeploymentStopOnAlarm}},
			AlarmConfiguration:        AlarmConfiguration{Enabled: true, IgnorePollAlarmFailure: true, Alarms: []Alarm{{Name: "HighLatency"}, {Name: "5xx"}}},
			TriggerConfigurations: []TriggerConfig{{TriggerName: "ops", TriggerTargetArn: "arn:aws:sns:us-east-1:123456789012:ops",
				TriggerEvents: []TriggerEventType{TriggerDeploymentFailure, TriggerInstanceFailure}}},
			OutdatedInstancesStrategy: OutdatedInstancesIgnore,
			TargetRevision: &revision.Location{Type: revision.LocationS3, S3: &revision.S3Location{
				Bucket: "artifacts", Key: "web.zip", BundleType: revision.BundleZip, Version: "v7", ETag: "abc"}},
			LastSuccessfulDeployment: &LastDeploymentInfo{DeploymentID: "d-AAAAAAAA1", Status: StatusSucceeded,
				CreateTime: time.Unix(1411000000, 0).UTC(), EndTime: time.UnixMilli(1411000100250).UTC()},
			LastAttemptedDeployment: &LastDeploymentInfo{DeploymentID: "d-AAAAAAAA2", Status: StatusFailed,
				CreateTime: time.UnixMilli(1411081164379).UTC(), EndTime: time.UnixMilli(1411081264500).UTC()},
		}},
		{"ECS DeploymentGroupInfo", ecsGroup, Group{
			ApplicationName:      "Api",
			Name:                 "ApiDG",
			ID:                   "c3d4e5f6-7890-12ab-cdef-33333EXAMPLE",
			ComputePlatform:      config.ECS,
			DeploymentConfigName: "CodeDeployDefault.ECSLinear10PercentEvery1Minutes",
			ECSServices:          []ECSService{{ServiceName: "api", ClusterName: "prod"}},
			DeploymentStyle:      DeploymentStyle{DeploymentType: target.BlueGreen, DeploymentOption: WithTrafficControl},
			LoadBalancerInfo: target.LoadBalancerInfo{TargetGroupPairInfoList: []target.TargetGroupPairInfo{{
				TargetGroups:     []target.NameInfo{{Name: "api-blue"}, {Name: "api-green"}},
				ProdTrafficRoute: target.TrafficRouteInfo{ListenerArns: []string{"arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/api/1/prod"}},
				TestTrafficRoute: target.TrafficRouteInfo{ListenerArns: []string{"arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/api/1/test"}},
			}}},
			BlueGreenDeploymentConfiguration: &BlueGreenDeploymentConfiguration{
				TerminateBlueInstancesOnDeploymentSuccess: &BlueInstanceTerminationOption{Action: InstanceActionTerminate, TerminationWaitTimeInMinutes: 5},
				DeploymentReadyOption:                     &DeploymentReadyOption{ActionOnTimeout: ActionContinueDeployment},
			},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got Group
			if err := json.Unmarshal([]byte(tt.doc), &got); err != nil {
				t.Fatalf("Unmarshal: %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("decoded\n%+v\nwant\n%+v", got, tt.want)
			}
			// And back: what fleetdeploy writes decodes to the same group.
			b, err := json.Marshal(got)
			if err != nil {
				t.Fatalf("Marshal: %v", err)
			}
			var back Group
			if err := json.Unmarshal(b, &back); err != nil {
				t.Fatalf("Unmarshal(Marshal): %v", err)
			}
			if !reflect.DeepEqual(back, tt.want) {
				t.Errorf("round trip through %s\n%+v\nwant\n%+v", b, back, tt.want)
			}
		})
	}
}

func TestGroupJSONIsFlat(t *testing.T) {
	g := Group{ApplicationName: "A", Name: "G", ID: "id", Selector: target.Selector{
		EC2TagFilters:     []target.TagFilter{{Key: "Env", Value: "Prod", Type: target.KeyAndValue}},
		AutoScalingGroups: []string{"asg-1"},
	}, IgnoreApplicationStopFailures: true, Version: 3}
	b, err := json.Marshal(g)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"applicationName", "deploymentGroupName", "deploymentGroupId", "ec2TagFilters", "autoScalingGroups", "ignoreApplicationStopFailures", "version"} {
		if _, ok := m[k]; !ok {
			t.Errorf("%s has no top-level %q", b, k)
		}
	}
	if _, ok := m["selector"]; ok {
		t.Errorf("%s still nests the selector", b)
	}
	// CreateDeploymentGroup's input shape: Auto Scaling groups by name.
	if asg, _ := m["autoScalingGroups"].([]any); len(asg) != 1 || asg[0] != "asg-1" {
		t.Errorf("autoScalingGroups = %#v; want [\"asg-1\"]", m["autoScalingGroups"])
	}
}

func TestGroupDecodesStoredNestedSelector(t *testing.T) {
	// The form groups were stored in before the selector was flattened.
	const old = `{"applicationName":"A","deploymentGroupName":"G","deploymentGroupId":"gid",
		"selector":{"ec2TagFilters":[{"Key":"Env","Value":"Prod","Type":"KEY_AND_VALUE"}],"autoScalingGroups":["asg-1"]},
		"lastSuccessfulDeployment":{"deploymentId":"d-1","status":"Succeeded","endTime":"2024-05-01T10:00:00Z"},"version":4}`
	var got Group
	if err := json.Unmarshal([]byte(old), &got); err != nil {
		t.Fatal(err)
	}
	want := Group{ApplicationName: "A", Name: "G", ID: "gid", Version: 4,
		Selector: target.Selector{
			EC2TagFilters:     []target.TagFilter{{Key: "Env", Value: "Prod", Type: target.KeyAndValue}},
			AutoScalingGroups: []string{"asg-1"},
		},
		LastSuccessfulDeployment: &LastDeploymentInfo{DeploymentID: "d-1", Status: StatusSucceeded,
			EndTime: time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)},
	}
	if !reflect.DeepEqual(got.Selector, want.Selector) || got.Version != 4 || got.ID != "gid" ||
		!got.LastSuccessfulDeployment.EndTime.Equal(want.LastSuccessfulDeployment.EndTime) {
		t.Errorf("decoded %+v\nwant %+v", got, want)
	}
}

func TestGroupJSONErrors(t *testing.T) {
	for _, doc := range []string{
		`{"autoScalingGroups": [7]}`,
		`{"autoScalingGroups": "asg"}`,
		`{"lastSuccessfulDeployment": {"createTime": "yesterday"}}`,
		`{"lastSuccessfulDeployment": {"createTime": true}}`,
		`{"lastSuccessfulDeployment": {"endTime": 1e300}}`,
		`{"ec2TagFilters": {}}`,
	} {
		var g Group
		if err := json.Unmarshal([]byte(doc), &g); err == nil {
			t.Errorf("Unmarshal(%s) = nil error, decoded %+v", doc, g)
		}
	}
}

func TestApplicationDecodesCodeDeployJSON(t *testing.T) {
	// The AWS CLI example of get-application's "application".
	const doc = `{"applicationName": "WordPress_App", "applicationId": "a1b2c3d4-5678-90ab-cdef-11111EXAMPLE",
		"createTime": 1407878168.078, "linkedToGitHub": false, "computePlatform": "Server"}`
	var got Application
	if err := json.Unmarshal([]byte(doc), &got); err != nil {
		t.Fatal(err)
	}
	want := Application{Name: "WordPress_App", ComputePlatform: config.Server, CreateTime: time.UnixMilli(1407878168078).UTC()}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("decoded %+v; want %+v", got, want)
	}
	b, err := json.Marshal(got)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"createTime":"2014-08-12T21:16:08.078Z"`) {
		t.Errorf("Marshal = %s; want createTime in RFC 3339", b)
	}
	var back Application
	if err := json.Unmarshal(b, &back); err != nil || !back.CreateTime.Equal(want.CreateTime) || back.Name != want.Name {
		t.Errorf("round trip = %+v, %v; want %+v", back, err, want)
	}
}

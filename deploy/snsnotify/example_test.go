package snsnotify_test

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/fleetdeploy/fleetdeploy/deploy"
	"github.com/fleetdeploy/fleetdeploy/deploy/snsnotify"
	"github.com/fleetdeploy/fleetdeploy/target"
)

// printer is a PublishAPI that prints what it would publish; in production
// it is sns.NewFromConfig(cfg).
type printer struct{}

func (printer) Publish(_ context.Context, in *sns.PublishInput, _ ...func(*sns.Options)) (*sns.PublishOutput, error) {
	fmt.Println(aws.ToString(in.TopicArn))
	fmt.Println(aws.ToString(in.Subject))
	fmt.Println(aws.ToString(in.Message))
	return &sns.PublishOutput{MessageId: aws.String("1")}, nil
}

// The executor hands the notifier one notification per trigger; the
// notifier publishes CodeDeploy's message for it. Here, an instance that
// succeeded and the deployment that failed.
func Example() {
	n, err := snsnotify.New(printer{})
	if err != nil {
		log.Fatal(err)
	}
	created := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	ctx := context.Background()
	topic := "arn:aws:sns:us-east-1:111122223333:deployments"

	_ = n.Notify(ctx, deploy.Notification{
		TriggerName: "instances", TriggerTargetArn: topic, Event: deploy.TriggerInstanceSuccess,
		Time: created.Add(2 * time.Second), ApplicationName: "shop", GroupName: "prod", DeploymentID: "d-4R7TQ8WX1",
		TargetID: "i-0abc", TargetStatus: target.TargetSucceeded,
		LifecycleEvents: []deploy.LifecycleEventRecord{
			{Name: target.ApplicationStop, Status: target.EventSucceeded, StartTime: created, EndTime: created.Add(125 * time.Millisecond)},
			{Name: target.DownloadBundle, Status: target.EventSucceeded, StartTime: created.Add(time.Second), EndTime: created.Add(1500 * time.Millisecond)},
		},
	})
	fmt.Println()
	_ = n.Notify(ctx, deploy.Notification{
		TriggerName: "failures", TriggerTargetArn: topic, Event: deploy.TriggerDeploymentFailure,
		Time: created.Add(10 * time.Minute), ApplicationName: "shop", GroupName: "prod", DeploymentID: "d-4R7TQ8WX1",
		Status: deploy.StatusFailed, CreateTime: created, CompleteTime: created.Add(10 * time.Minute),
		Overview:         deploy.DeploymentOverview{Failed: 1, Skipped: 4, Succeeded: 1},
		ErrorInformation: deploy.ErrorInformation{Code: "HEALTH_CONSTRAINTS", Message: "too many failed instances"},
	})
	// Output:
	// arn:aws:sns:us-east-1:111122223333:deployments
	// SUCCEEDED: AWS CodeDeploy d-4R7TQ8WX1 in us-east-1 to shop
	// {"region":"us-east-1","accountId":"111122223333","eventTriggerName":"instances","deploymentId":"d-4R7TQ8WX1","instanceId":"arn:aws:ec2:us-east-1:111122223333:instance/i-0abc","lastUpdatedAt":"1772355602.000","instanceStatus":"Succeeded","lifecycleEvents":[{"LifecycleEvent":"ApplicationStop","LifecycleEventStatus":"Succeeded","StartTime":"1772355600.000","EndTime":"1772355600.125"},{"LifecycleEvent":"DownloadBundle","LifecycleEventStatus":"Succeeded","StartTime":"1772355601.000","EndTime":"1772355601.500"}]}
	//
	// arn:aws:sns:us-east-1:111122223333:deployments
	// FAILED: AWS CodeDeploy d-4R7TQ8WX1 in us-east-1 to shop
	// {"region":"us-east-1","accountId":"111122223333","eventTriggerName":"failures","applicationName":"shop","deploymentId":"d-4R7TQ8WX1","deploymentGroupName":"prod","createTime":"1772355600.000","completeTime":"1772356200.000","deploymentOverview":{"Failed":"1","InProgress":"0","Pending":"0","Skipped":"4","Succeeded":"1"},"status":"Failed","errorInformation":{"ErrorCode":"HEALTH_CONSTRAINTS","ErrorMessage":"too many failed instances"}}
}

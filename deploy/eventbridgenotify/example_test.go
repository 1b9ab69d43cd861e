package eventbridgenotify_test

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"

	"github.com/fleetdeploy/fleetdeploy/deploy"
	"github.com/fleetdeploy/fleetdeploy/deploy/eventbridgenotify"
	"github.com/fleetdeploy/fleetdeploy/target"
)

// printer is a PutEventsAPI that prints the events it would put; in
// production it is eventbridge.NewFromConfig(cfg).
type printer struct{}

func (printer) PutEvents(_ context.Context, in *eventbridge.PutEventsInput, _ ...func(*eventbridge.Options)) (*eventbridge.PutEventsOutput, error) {
	out := &eventbridge.PutEventsOutput{}
	for _, e := range in.Entries {
		fmt.Println(aws.ToString(e.EventBusName), aws.ToString(e.Source), aws.ToString(e.DetailType))
		fmt.Println(" ", aws.ToString(e.Detail))
		fmt.Println(" ", e.Resources)
		out.Entries = append(out.Entries, ebtypes.PutEventsResultEntry{EventId: aws.String("1")})
	}
	return out, nil
}

// The executor hands the notifier one notification per trigger; the
// notifier puts CodeDeploy's event for it. Here, an instance that
// succeeded and the deployment that succeeded.
func Example() {
	n, err := eventbridgenotify.New(printer{}, func(o *eventbridgenotify.Options) {
		o.EventBusName = "deployments"
		o.Region, o.AccountID = "us-east-1", "111122223333"
	})
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	base := deploy.Notification{TriggerName: "to-eventbridge", Time: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC),
		ApplicationName: "shop", GroupName: "prod", GroupID: "9fd2fbef-2157-40d8-91e7-6845af69e2d2", DeploymentID: "d-4R7TQ8WX1"}

	instance := base
	instance.Event, instance.TargetID, instance.TargetStatus = deploy.TriggerInstanceSuccess, "i-0abc", target.TargetSucceeded
	_ = n.Notify(ctx, instance)
	done := base
	done.Event, done.Status = deploy.TriggerDeploymentSuccess, deploy.StatusSucceeded
	_ = n.Notify(ctx, done)
	// Output:
	// deployments fleetdeploy CodeDeploy Instance State-change Notification
	//   {"instanceGroupId":"9fd2fbef-2157-40d8-91e7-6845af69e2d2","region":"us-east-1","application":"shop","deploymentId":"d-4R7TQ8WX1","state":"SUCCESS","deploymentGroup":"prod","instanceId":"i-0abc"}
	//   [arn:aws:codedeploy:us-east-1:111122223333:application:shop arn:aws:codedeploy:us-east-1:111122223333:deploymentgroup:shop/prod arn:aws:ec2:us-east-1:111122223333:instance/i-0abc]
	// deployments fleetdeploy CodeDeploy Deployment State-change Notification
	//   {"instanceGroupId":"9fd2fbef-2157-40d8-91e7-6845af69e2d2","region":"us-east-1","application":"shop","deploymentId":"d-4R7TQ8WX1","state":"SUCCESS","deploymentGroup":"prod"}
	//   [arn:aws:codedeploy:us-east-1:111122223333:application:shop arn:aws:codedeploy:us-east-1:111122223333:deploymentgroup:shop/prod]
}

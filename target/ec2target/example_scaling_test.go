package ec2target_test

import (
	"context"
	"fmt"
	"log/slog"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	astypes "github.com/aws/aws-sdk-go-v2/service/autoscaling/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/fleetdeploy/fleetdeploy/deploy"
	"github.com/fleetdeploy/fleetdeploy/internal/motoserver"
	"github.com/fleetdeploy/fleetdeploy/target"
	"github.com/fleetdeploy/fleetdeploy/target/ec2target"
)

// The deployment group shop/prod has the Auto Scaling group web and
// termination deployments: its hooks go on web, notifying a queue. Here
// the clients talk to moto; with an AWS account, use
// config.LoadDefaultConfig instead, and a role Auto Scaling may assume to
// send to the queue.
func ExampleInstallHooks() {
	url, err := motoserver.Start()
	if err != nil {
		fmt.Println(err)
		return
	}
	cfg := motoserver.ConfigFor(url)
	ctx := context.Background()
	ec2c, asc, sqsc := ec2.NewFromConfig(cfg), autoscaling.NewFromConfig(cfg), sqs.NewFromConfig(cfg)
	web := fmt.Sprintf("web-%p", &url) // unique on a shared server
	lt, err := ec2c.CreateLaunchTemplate(ctx, &ec2.CreateLaunchTemplateInput{LaunchTemplateName: aws.String(web),
		LaunchTemplateData: &ec2types.RequestLaunchTemplateData{ImageId: aws.String(image)}})
	if err != nil {
		panic(err)
	}
	if _, err := asc.CreateAutoScalingGroup(ctx, &autoscaling.CreateAutoScalingGroupInput{AutoScalingGroupName: aws.String(web),
		MinSize: aws.Int32(0), MaxSize: aws.Int32(4), AvailabilityZones: []string{"us-east-1a"},
		LaunchTemplate: &astypes.LaunchTemplateSpecification{LaunchTemplateId: lt.LaunchTemplate.LaunchTemplateId}}); err != nil {
		panic(err)
	}
	q, err := sqsc.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(web)})
	if err != nil {
		panic(err)
	}
	attrs, err := sqsc.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: q.QueueUrl,
		AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn}})
	if err != nil {
		panic(err)
	}
	queueARN := attrs.Attributes[string(sqstypes.QueueAttributeNameQueueArn)]

	err = ec2target.InstallHooks(ctx, asc, ec2target.HookSpec{ApplicationName: "shop", DeploymentGroupName: "prod",
		AutoScalingGroups: []string{web}, TerminationHookEnabled: true,
		QueueARN: queueARN, RoleARN: "arn:aws:iam::123456789012:role/autoscaling-notifies-sqs"})
	if err != nil {
		panic(err)
	}
	hooks, err := asc.DescribeLifecycleHooks(ctx, &autoscaling.DescribeLifecycleHooksInput{AutoScalingGroupName: aws.String(web)})
	if err != nil {
		panic(err)
	}
	var lines []string
	for _, h := range hooks.LifecycleHooks {
		lines = append(lines, fmt.Sprintf("%s: default %s after %d s", aws.ToString(h.LifecycleTransition), aws.ToString(h.DefaultResult), aws.ToInt32(h.HeartbeatTimeout)))
	}
	slices.Sort(lines)
	for _, l := range lines {
		fmt.Println(l)
	}
	// Output:
	// autoscaling:EC2_INSTANCE_LAUNCHING: default ABANDON after 600 s
	// autoscaling:EC2_INSTANCE_TERMINATING: default CONTINUE after 600 s
}

// The wiring of launch and termination deployments: the executor serves
// the lifecycle notifications of the hooks' queue until ctx ends, running
// a launch deployment on each instance that joins and answering its
// lifecycle action. (No output: moto sends no lifecycle notifications.)
func ExampleScalingEvents() {
	var (
		ctx      context.Context
		cfg      aws.Config      // config.LoadDefaultConfig(ctx)
		store    deploy.Store    // shared by the executors
		platform target.Platform // Lister, Installer, TrafficController...
		queueURL string          // the queue HookSpec.QueueARN names
		logger   *slog.Logger
	)
	events, err := ec2target.NewScalingEvents(autoscaling.NewFromConfig(cfg), sqs.NewFromConfig(cfg), ec2.NewFromConfig(cfg), queueURL,
		func(o *ec2target.Options) { o.Logger = logger })
	if err != nil {
		panic(err)
	}
	platform.ScalingEvents = events
	x, err := deploy.New(store, platform)
	if err != nil {
		panic(err)
	}
	if err := x.ServeScalingEvents(ctx); err != nil && ctx.Err() == nil {
		logger.Error("serving scaling events", "error", err)
	}
}

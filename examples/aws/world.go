package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	astypes "github.com/aws/aws-sdk-go-v2/service/autoscaling/types"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancing"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	v2types "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/fleetdeploy/fleetdeploy/internal/motoserver"
	"github.com/fleetdeploy/fleetdeploy/revision"
)

// The story's sizes.
const (
	webInstances = 6 // EC2 instances of the in-place group
	asgInstances = 3 // instances of the blue/green group's Auto Scaling group
)

// zones are the Availability Zones of the subnets, one subnet each.
var zones = [...]string{"us-east-1a", "us-east-1b", "us-east-1c"}

// image is an AMI moto knows.
const image = "ami-12c6146b"

// clients are the SDK clients of every service the story uses, all
// talking to moto.
type clients struct {
	ec2   *ec2.Client
	asg   *autoscaling.Client
	elbv2 *elbv2.Client
	elb   *elb.Client
	s3    *s3.Client
	cw    *cloudwatch.Client
	sns   *sns.Client
	sqs   *sqs.Client
}

// newClients returns the clients of the moto server at url.
func newClients(url string) clients {
	cfg := motoserver.ConfigFor(url)
	return clients{
		ec2:   ec2.NewFromConfig(cfg),
		asg:   autoscaling.NewFromConfig(cfg),
		elbv2: elbv2.NewFromConfig(cfg),
		elb:   elb.NewFromConfig(cfg),
		// moto answers on one host: path-style addressing.
		s3:  s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true }),
		cw:  cloudwatch.NewFromConfig(cfg),
		sns: sns.NewFromConfig(cfg),
		sqs: sqs.NewFromConfig(cfg),
	}
}

// world is what the story creates in moto. Every name carries a random
// suffix, so that runs against one long-lived server (-endpoint) do not
// meet.
type world struct {
	suffix   string
	appTag   string   // the value of the web instances' "app" tag
	webIDs   []string // the web instances, in launch order
	zoneOf   map[string]string
	subnets  []string
	webTG    string // target group names
	bgTG     string
	webTGArn string
	bgTGArn  string
	asg      string // the blue/green group's Auto Scaling group
	bucket   string
	key      string
	revs     map[string]revision.Location // by version: v1, v2
	alarm    string
	topicArn string
	queueURL string
}

// build creates the world in moto and reports each step through say.
func build(ctx context.Context, c clients, say func(format string, args ...any)) (*world, error) {
	suffix := strings.ToLower(rand.Text()[:8])
	w := &world{suffix: suffix, appTag: "shop-" + suffix, zoneOf: map[string]string{}, revs: map[string]revision.Location{},
		webTG: "shop-web-" + suffix, bgTG: "shop-bg-" + suffix, asg: "shop-asg-" + suffix,
		bucket: "shop-releases-" + suffix, key: "shop/web.tgz", alarm: "shop-5xx-" + suffix}
	for _, step := range []func(context.Context, clients, func(string, ...any)) error{
		w.network, w.instances, w.loadBalancer, w.autoScaling, w.releases, w.alarmAndTopic,
	} {
		if err := step(ctx, c, say); err != nil {
			return nil, err
		}
	}
	return w, nil
}

// network creates a VPC with one subnet per zone.
func (w *world) network(ctx context.Context, c clients, say func(string, ...any)) error {
	vpc, err := c.ec2.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String("10.0.0.0/16")})
	if err != nil {
		return fmt.Errorf("creating the VPC: %w", err)
	}
	for i, z := range zones {
		sub, err := c.ec2.CreateSubnet(ctx, &ec2.CreateSubnetInput{VpcId: vpc.Vpc.VpcId,
			CidrBlock: aws.String(fmt.Sprintf("10.0.%d.0/24", i+1)), AvailabilityZone: aws.String(z)})
		if err != nil {
			return fmt.Errorf("creating a subnet in %s: %w", z, err)
		}
		w.subnets = append(w.subnets, aws.ToString(sub.Subnet.SubnetId))
	}
	say("ec2: VPC %s with subnets in %s", aws.ToString(vpc.Vpc.VpcId), strings.Join(zones[:], ", "))
	return nil
}

// instances launches the web instances, tagged app=<appTag>, round robin
// over the subnets.
func (w *world) instances(ctx context.Context, c clients, say func(string, ...any)) error {
	for i := range webInstances {
		out, err := c.ec2.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: aws.String(image), MinCount: aws.Int32(1), MaxCount: aws.Int32(1),
			InstanceType: ec2types.InstanceTypeT3Micro, SubnetId: aws.String(w.subnets[i%len(w.subnets)]),
			TagSpecifications: []ec2types.TagSpecification{{ResourceType: ec2types.ResourceTypeInstance, Tags: []ec2types.Tag{
				{Key: aws.String("app"), Value: aws.String(w.appTag)},
				{Key: aws.String("Name"), Value: aws.String(fmt.Sprintf("web-%d", i+1))}}}}})
		if err != nil {
			return fmt.Errorf("launching web instance %d: %w", i+1, err)
		}
		id := aws.ToString(out.Instances[0].InstanceId)
		w.webIDs = append(w.webIDs, id)
		w.zoneOf[id] = zones[i%len(zones)]
	}
	say("ec2: %d instances tagged app=%s: %s", len(w.webIDs), w.appTag, strings.Join(w.webIDs, " "))
	return nil
}

// loadBalancer creates an Application Load Balancer with two target
// groups, one per deployment group, and registers the web instances with
// theirs, as they serve today.
func (w *world) loadBalancer(ctx context.Context, c clients, say func(string, ...any)) error {
	lb, err := c.elbv2.CreateLoadBalancer(ctx, &elbv2.CreateLoadBalancerInput{Name: aws.String("shop-" + w.suffix), Subnets: w.subnets})
	if err != nil {
		return fmt.Errorf("creating the load balancer: %w", err)
	}
	lbArn, vpc := lb.LoadBalancers[0].LoadBalancerArn, lb.LoadBalancers[0].VpcId
	for _, tg := range []struct {
		name string
		port int32
		arn  *string
	}{{w.webTG, 80, &w.webTGArn}, {w.bgTG, 8080, &w.bgTGArn}} {
		out, err := c.elbv2.CreateTargetGroup(ctx, &elbv2.CreateTargetGroupInput{Name: aws.String(tg.name), Protocol: v2types.ProtocolEnumHttp,
			Port: aws.Int32(tg.port), VpcId: vpc, TargetType: v2types.TargetTypeEnumInstance})
		if err != nil {
			return fmt.Errorf("creating target group %s: %w", tg.name, err)
		}
		*tg.arn = aws.ToString(out.TargetGroups[0].TargetGroupArn)
		if _, err := c.elbv2.CreateListener(ctx, &elbv2.CreateListenerInput{LoadBalancerArn: lbArn, Protocol: v2types.ProtocolEnumHttp,
			Port: aws.Int32(tg.port), DefaultActions: []v2types.Action{{Type: v2types.ActionTypeEnumForward, TargetGroupArn: aws.String(*tg.arn)}}}); err != nil {
			return fmt.Errorf("creating the listener of target group %s: %w", tg.name, err)
		}
	}
	var targets []v2types.TargetDescription
	for _, id := range w.webIDs {
		targets = append(targets, v2types.TargetDescription{Id: aws.String(id)})
	}
	if _, err := c.elbv2.RegisterTargets(ctx, &elbv2.RegisterTargetsInput{TargetGroupArn: aws.String(w.webTGArn), Targets: targets}); err != nil {
		return fmt.Errorf("registering the web instances with %s: %w", w.webTG, err)
	}
	say("elbv2: load balancer shop-%s; target group %s (port 80) with the %d web instances, %s (port 8080) for the Auto Scaling group",
		w.suffix, w.webTG, len(w.webIDs), w.bgTG)
	return nil
}

// autoScaling creates a launch template and the Auto Scaling group of the
// blue/green deployment group, attached to its target group.
func (w *world) autoScaling(ctx context.Context, c clients, say func(string, ...any)) error {
	lt, err := c.ec2.CreateLaunchTemplate(ctx, &ec2.CreateLaunchTemplateInput{LaunchTemplateName: aws.String("shop-" + w.suffix),
		LaunchTemplateData: &ec2types.RequestLaunchTemplateData{ImageId: aws.String(image), InstanceType: ec2types.InstanceTypeT3Micro}})
	if err != nil {
		return fmt.Errorf("creating the launch template: %w", err)
	}
	if _, err := c.asg.CreateAutoScalingGroup(ctx, &autoscaling.CreateAutoScalingGroupInput{
		AutoScalingGroupName: aws.String(w.asg),
		LaunchTemplate:       &astypes.LaunchTemplateSpecification{LaunchTemplateId: lt.LaunchTemplate.LaunchTemplateId, Version: aws.String("$Latest")},
		MinSize:              aws.Int32(asgInstances), MaxSize: aws.Int32(2 * asgInstances), DesiredCapacity: aws.Int32(asgInstances),
		VPCZoneIdentifier: aws.String(strings.Join(w.subnets, ",")),
		TargetGroupARNs:   []string{w.bgTGArn},
		Tags: []astypes.Tag{{Key: aws.String("app"), Value: aws.String(w.appTag + "-bg"), PropagateAtLaunch: aws.Bool(true),
			ResourceId: aws.String(w.asg), ResourceType: aws.String("auto-scaling-group")}},
	}); err != nil {
		return fmt.Errorf("creating Auto Scaling group %s: %w", w.asg, err)
	}
	ids, err := groupInstances(ctx, c, w.asg)
	if err != nil {
		return err
	}
	say("autoscaling: group %s from launch template shop-%s, %d instances (%s), attached to %s",
		w.asg, w.suffix, len(ids), strings.Join(ids, " "), w.bgTG)
	return nil
}

// groupInstances returns the InService instances of Auto Scaling group
// name; none when the group does not exist.
func groupInstances(ctx context.Context, c clients, name string) ([]string, error) {
	out, err := c.asg.DescribeAutoScalingGroups(ctx, &autoscaling.DescribeAutoScalingGroupsInput{AutoScalingGroupNames: []string{name}})
	if err != nil {
		return nil, fmt.Errorf("describing Auto Scaling group %s: %w", name, err)
	}
	var ids []string
	for _, g := range out.AutoScalingGroups {
		for _, in := range g.Instances {
			if in.LifecycleState == astypes.LifecycleStateInService {
				ids = append(ids, aws.ToString(in.InstanceId))
			}
		}
	}
	return sorted(ids), nil
}

// releases creates the versioned bucket and uploads v1 and v2 of the
// bundle under one key: each upload is a version of its own, which the
// revision's location pins.
func (w *world) releases(ctx context.Context, c clients, say func(string, ...any)) error {
	if _, err := c.s3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(w.bucket)}); err != nil {
		return fmt.Errorf("creating bucket %s: %w", w.bucket, err)
	}
	if _, err := c.s3.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: aws.String(w.bucket),
		VersioningConfiguration: &s3types.VersioningConfiguration{Status: s3types.BucketVersioningStatusEnabled}}); err != nil {
		return fmt.Errorf("enabling versioning on bucket %s: %w", w.bucket, err)
	}
	for _, v := range versions {
		data, err := bundle(v)
		if err != nil {
			return err
		}
		out, err := c.s3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(w.bucket), Key: aws.String(w.key), Body: bytes.NewReader(data)})
		if err != nil {
			return fmt.Errorf("uploading %s to s3://%s/%s: %w", v, w.bucket, w.key, err)
		}
		w.revs[v] = revision.Location{Type: revision.LocationS3, S3: &revision.S3Location{Bucket: w.bucket, Key: w.key,
			BundleType: revision.BundleTgz, Version: aws.ToString(out.VersionId), ETag: strings.Trim(aws.ToString(out.ETag), `"`)}}
		say("s3: %s uploaded to s3://%s/%s, version %s (%d bytes)", v, w.bucket, w.key, aws.ToString(out.VersionId), len(data))
	}
	return nil
}

// alarmAndTopic creates the CloudWatch alarm of the in-place group, and the
// SNS topic of both groups' triggers with an SQS queue subscribed to it,
// from which the story reads the notifications back.
func (w *world) alarmAndTopic(ctx context.Context, c clients, say func(string, ...any)) error {
	if _, err := c.cw.PutMetricAlarm(ctx, &cloudwatch.PutMetricAlarmInput{
		AlarmName: aws.String(w.alarm), Namespace: aws.String("AWS/ApplicationELB"), MetricName: aws.String("HTTPCode_Target_5XX_Count"),
		Statistic: cwtypes.StatisticSum, Period: aws.Int32(60), EvaluationPeriods: aws.Int32(1), Threshold: aws.Float64(10),
		ComparisonOperator: cwtypes.ComparisonOperatorGreaterThanThreshold,
	}); err != nil {
		return fmt.Errorf("creating alarm %s: %w", w.alarm, err)
	}
	topic, err := c.sns.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("shop-deployments-" + w.suffix)})
	if err != nil {
		return fmt.Errorf("creating the SNS topic: %w", err)
	}
	w.topicArn = aws.ToString(topic.TopicArn)
	q, err := c.sqs.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("shop-deployments-" + w.suffix)})
	if err != nil {
		return fmt.Errorf("creating the SQS queue: %w", err)
	}
	w.queueURL = aws.ToString(q.QueueUrl)
	attrs, err := c.sqs.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: q.QueueUrl,
		AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn}})
	if err != nil {
		return fmt.Errorf("reading the SQS queue's ARN: %w", err)
	}
	queueArn := attrs.Attributes[string(sqstypes.QueueAttributeNameQueueArn)]
	if _, err := c.sns.Subscribe(ctx, &sns.SubscribeInput{TopicArn: topic.TopicArn, Protocol: aws.String("sqs"), Endpoint: aws.String(queueArn)}); err != nil {
		return fmt.Errorf("subscribing the SQS queue to the SNS topic: %w", err)
	}
	say("cloudwatch: alarm %s (OK); sns: topic %s, with SQS queue %s subscribed", w.alarm, w.topicArn, queueArn)
	return nil
}

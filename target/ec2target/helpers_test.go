package ec2target_test

import (
	"context"
	"slices"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	astypes "github.com/aws/aws-sdk-go-v2/service/autoscaling/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/fleetdeploy/fleetdeploy/internal/motoserver"
	"github.com/fleetdeploy/fleetdeploy/target"
)

func TestMain(m *testing.M) { motoserver.Main(m) }

// image is an AMI moto knows.
const image = "ami-12c6146b"

// env holds the clients of one test.
type env struct {
	t   *testing.T
	ctx context.Context
	ec2 *ec2.Client
	asg *autoscaling.Client
}

func newEnv(t *testing.T) *env {
	t.Helper()
	cfg := motoserver.Config(t)
	return &env{t: t, ctx: t.Context(), ec2: ec2.NewFromConfig(cfg), asg: autoscaling.NewFromConfig(cfg)}
}

// run launches n instances in one reservation in zone (empty: any), with
// tags, and returns their IDs.
func (e *env) run(n int32, zone string, tags map[string]string) []string {
	e.t.Helper()
	in := &ec2.RunInstancesInput{ImageId: aws.String(image), MinCount: aws.Int32(n), MaxCount: aws.Int32(n)}
	if zone != "" {
		in.Placement = &ec2types.Placement{AvailabilityZone: aws.String(zone)}
	}
	if len(tags) > 0 {
		spec := ec2types.TagSpecification{ResourceType: ec2types.ResourceTypeInstance}
		for k, v := range tags {
			spec.Tags = append(spec.Tags, ec2types.Tag{Key: aws.String(k), Value: aws.String(v)})
		}
		in.TagSpecifications = []ec2types.TagSpecification{spec}
	}
	out, err := e.ec2.RunInstances(e.ctx, in)
	if err != nil {
		e.t.Fatalf("RunInstances: %v", err)
	}
	var ids []string
	for _, i := range out.Instances {
		ids = append(ids, aws.ToString(i.InstanceId))
	}
	return ids
}

// launchTemplate creates a launch template and returns its name and ID.
func (e *env) launchTemplate() (name, id string) {
	e.t.Helper()
	name = motoserver.Name(e.t, "lt")
	out, err := e.ec2.CreateLaunchTemplate(e.ctx, &ec2.CreateLaunchTemplateInput{LaunchTemplateName: aws.String(name),
		LaunchTemplateData: &ec2types.RequestLaunchTemplateData{ImageId: aws.String(image), InstanceType: ec2types.InstanceTypeT2Micro}})
	if err != nil {
		e.t.Fatalf("CreateLaunchTemplate: %v", err)
	}
	return name, aws.ToString(out.LaunchTemplate.LaunchTemplateId)
}

// group creates an Auto Scaling group of desired instances from launch
// template lt with tags propagated to its instances, and returns its
// name and instance IDs.
func (e *env) group(lt string, desired int32, tags map[string]string) (string, []string) {
	e.t.Helper()
	name := motoserver.Name(e.t, "asg")
	in := &autoscaling.CreateAutoScalingGroupInput{AutoScalingGroupName: aws.String(name),
		MinSize: aws.Int32(1), MaxSize: aws.Int32(10), DesiredCapacity: aws.Int32(desired),
		LaunchTemplate:    &astypes.LaunchTemplateSpecification{LaunchTemplateName: aws.String(lt), Version: aws.String("$Latest")},
		AvailabilityZones: []string{"us-east-1a", "us-east-1b"}, HealthCheckGracePeriod: aws.Int32(42)}
	for k, v := range tags {
		in.Tags = append(in.Tags, astypes.Tag{Key: aws.String(k), Value: aws.String(v), PropagateAtLaunch: aws.Bool(true),
			ResourceId: aws.String(name), ResourceType: aws.String("auto-scaling-group")})
	}
	if _, err := e.asg.CreateAutoScalingGroup(e.ctx, in); err != nil {
		e.t.Fatalf("CreateAutoScalingGroup: %v", err)
	}
	g := e.describeGroup(name)
	if g == nil {
		e.t.Fatalf("group %s not created", name)
	}
	var ids []string
	for _, i := range g.Instances {
		ids = append(ids, aws.ToString(i.InstanceId))
	}
	slices.Sort(ids)
	return name, ids
}

// describeGroup returns Auto Scaling group name, nil if it does not exist.
func (e *env) describeGroup(name string) *astypes.AutoScalingGroup {
	e.t.Helper()
	out, err := e.asg.DescribeAutoScalingGroups(e.ctx, &autoscaling.DescribeAutoScalingGroupsInput{AutoScalingGroupNames: []string{name}})
	if err != nil {
		e.t.Fatalf("DescribeAutoScalingGroups: %v", err)
	}
	if len(out.AutoScalingGroups) == 0 {
		return nil
	}
	return &out.AutoScalingGroups[0]
}

// states returns the state of each instance of ids.
func (e *env) states(ids ...string) map[string]ec2types.InstanceStateName {
	e.t.Helper()
	out, err := e.ec2.DescribeInstances(e.ctx, &ec2.DescribeInstancesInput{InstanceIds: ids})
	if err != nil {
		e.t.Fatalf("DescribeInstances: %v", err)
	}
	m := map[string]ec2types.InstanceStateName{}
	for _, r := range out.Reservations {
		for _, i := range r.Instances {
			m[aws.ToString(i.InstanceId)] = i.State.Name
		}
	}
	return m
}

// ids returns the IDs of ts.
func ids(ts []target.Target) []string {
	out := make([]string, len(ts))
	for i, t := range ts {
		out[i] = t.ID
	}
	return out
}

// sorted returns a sorted copy of ss.
func sorted(ss ...[]string) []string {
	var out []string
	for _, s := range ss {
		out = append(out, s...)
	}
	slices.Sort(out)
	return out
}

// countingEC2 counts DescribeInstances calls and can fail TerminateInstances
// for some IDs.
type countingEC2 struct {
	*ec2.Client
	describes atomic.Int32
	mu        sync.Mutex
	failIDs   map[string]error
}

func (c *countingEC2) DescribeInstances(ctx context.Context, in *ec2.DescribeInstancesInput, optFns ...func(*ec2.Options)) (*ec2.DescribeInstancesOutput, error) {
	c.describes.Add(1)
	return c.Client.DescribeInstances(ctx, in, optFns...)
}

func (c *countingEC2) TerminateInstances(ctx context.Context, in *ec2.TerminateInstancesInput, optFns ...func(*ec2.Options)) (*ec2.TerminateInstancesOutput, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, id := range in.InstanceIds {
		if err, ok := c.failIDs[id]; ok {
			return nil, err
		}
	}
	return c.Client.TerminateInstances(ctx, in, optFns...)
}

// pendingASG reports the instances of one group Pending for the first
// pending polls of it, and counts the calls.
type pendingASG struct {
	*autoscaling.Client
	group   string
	pending int32 // polls still to report Pending; < 0: forever
	polls   atomic.Int32
	creates atomic.Int32
}

func (c *pendingASG) DescribeAutoScalingGroups(ctx context.Context, in *autoscaling.DescribeAutoScalingGroupsInput, optFns ...func(*autoscaling.Options)) (*autoscaling.DescribeAutoScalingGroupsOutput, error) {
	out, err := c.Client.DescribeAutoScalingGroups(ctx, in, optFns...)
	if err != nil || len(in.AutoScalingGroupNames) != 1 || in.AutoScalingGroupNames[0] != c.group {
		return out, err
	}
	n := c.polls.Add(1)
	if c.pending < 0 || n <= c.pending {
		for i := range out.AutoScalingGroups {
			for j := range out.AutoScalingGroups[i].Instances {
				out.AutoScalingGroups[i].Instances[j].LifecycleState = astypes.LifecycleStatePending
			}
		}
	}
	return out, err
}

func (c *pendingASG) CreateAutoScalingGroup(ctx context.Context, in *autoscaling.CreateAutoScalingGroupInput, optFns ...func(*autoscaling.Options)) (*autoscaling.CreateAutoScalingGroupOutput, error) {
	c.creates.Add(1)
	return c.Client.CreateAutoScalingGroup(ctx, in, optFns...)
}

// contextCancelled returns a cancelled context.
func contextCancelled(e *env) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(e.ctx)
	cancel()
	return ctx, cancel
}

func ctxErr(ctx context.Context) error { return ctx.Err() }

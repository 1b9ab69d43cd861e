package main

import (
	"context"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	v2types "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"github.com/fleetdeploy/fleetdeploy/deploy/clock"
	"github.com/fleetdeploy/fleetdeploy/target/ec2target"
	"github.com/fleetdeploy/fleetdeploy/target/elbtarget"
)

// call is one call an adapter made to moto that changed something, as a
// recorder saw it succeed.
type call struct {
	at   time.Time // on the story's clock, when the call returned
	op   string    // "deregister", "register", "create group", "delete group", "terminate"
	on   string    // the target group or Auto Scaling group, or "" for EC2
	what []string  // the instances; for "create group", the group's name
}

// journal keeps the calls the recorders saw, in order. It is safe for
// concurrent use.
type journal struct {
	clk   clock.Clock
	say   func(format string, args ...any)
	mu    sync.Mutex
	calls []call
}

// add records c at the clock's time and prints line.
func (j *journal) add(c call, format string, args ...any) {
	j.mu.Lock()
	c.at = j.clk.Now()
	j.calls = append(j.calls, c)
	j.mu.Unlock()
	j.say(format, args...)
}

// since returns the calls recorded from index i on.
func (j *journal) since(i int) []call {
	j.mu.Lock()
	defer j.mu.Unlock()
	return append([]call(nil), j.calls[i:]...)
}

// len returns the number of calls recorded.
func (j *journal) len() int {
	j.mu.Lock()
	defer j.mu.Unlock()
	return len(j.calls)
}

// elbRecorder is the ELBv2 client the TrafficController uses: the real one,
// with every registration and deregistration recorded, so that the story
// can show and check what the load balancer saw.
type elbRecorder struct {
	*elbv2.Client
	j     *journal
	names map[string]string // target group ARN -> name
}

var _ elbtarget.TargetGroupsAPI = (*elbRecorder)(nil)

// DeregisterTargets deregisters, and records what it did.
func (r *elbRecorder) DeregisterTargets(ctx context.Context, in *elbv2.DeregisterTargetsInput, optFns ...func(*elbv2.Options)) (*elbv2.DeregisterTargetsOutput, error) {
	out, err := r.Client.DeregisterTargets(ctx, in, optFns...)
	if err == nil {
		ids := targetIDs(in.Targets)
		tg := r.names[aws.ToString(in.TargetGroupArn)]
		r.j.add(call{op: "deregister", on: tg, what: ids}, "    elbv2: %s deregistered from %s", strings.Join(ids, " "), tg)
	}
	return out, err
}

// RegisterTargets registers, and records what it did.
func (r *elbRecorder) RegisterTargets(ctx context.Context, in *elbv2.RegisterTargetsInput, optFns ...func(*elbv2.Options)) (*elbv2.RegisterTargetsOutput, error) {
	out, err := r.Client.RegisterTargets(ctx, in, optFns...)
	if err == nil {
		ids := targetIDs(in.Targets)
		tg := r.names[aws.ToString(in.TargetGroupArn)]
		r.j.add(call{op: "register", on: tg, what: ids}, "    elbv2: %s registered with %s", strings.Join(ids, " "), tg)
	}
	return out, err
}

// asgRecorder is the Auto Scaling client of the Provisioner, with the
// groups it creates and deletes recorded.
type asgRecorder struct {
	*autoscaling.Client
	j *journal
}

var _ ec2target.AutoScalingClient = (*asgRecorder)(nil)

// CreateAutoScalingGroup creates the group, and records it.
func (r *asgRecorder) CreateAutoScalingGroup(ctx context.Context, in *autoscaling.CreateAutoScalingGroupInput, optFns ...func(*autoscaling.Options)) (*autoscaling.CreateAutoScalingGroupOutput, error) {
	out, err := r.Client.CreateAutoScalingGroup(ctx, in, optFns...)
	if err == nil {
		name := aws.ToString(in.AutoScalingGroupName)
		r.j.add(call{op: "create group", on: name}, "    autoscaling: created group %s, %d instances, from the same launch template",
			name, aws.ToInt32(in.DesiredCapacity))
	}
	return out, err
}

// DeleteAutoScalingGroup deletes the group, and records it.
func (r *asgRecorder) DeleteAutoScalingGroup(ctx context.Context, in *autoscaling.DeleteAutoScalingGroupInput, optFns ...func(*autoscaling.Options)) (*autoscaling.DeleteAutoScalingGroupOutput, error) {
	out, err := r.Client.DeleteAutoScalingGroup(ctx, in, optFns...)
	if err == nil {
		name := aws.ToString(in.AutoScalingGroupName)
		r.j.add(call{op: "delete group", on: name}, "    autoscaling: deleted group %s with its instances", name)
	}
	return out, err
}

// ec2Recorder is the EC2 client of the Provisioner, with the instances it
// terminates recorded.
type ec2Recorder struct {
	*ec2.Client
	j *journal
}

var _ ec2target.EC2Client = (*ec2Recorder)(nil)

// TerminateInstances terminates, and records it.
func (r *ec2Recorder) TerminateInstances(ctx context.Context, in *ec2.TerminateInstancesInput, optFns ...func(*ec2.Options)) (*ec2.TerminateInstancesOutput, error) {
	out, err := r.Client.TerminateInstances(ctx, in, optFns...)
	if err == nil {
		r.j.add(call{op: "terminate", what: in.InstanceIds}, "    ec2: terminated %s", strings.Join(in.InstanceIds, " "))
	}
	return out, err
}

// targetIDs returns the instance IDs of ts.
func targetIDs(ts []v2types.TargetDescription) []string {
	ids := make([]string, 0, len(ts))
	for _, t := range ts {
		ids = append(ids, aws.ToString(t.Id))
	}
	return ids
}

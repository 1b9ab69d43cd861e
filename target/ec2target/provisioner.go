package ec2target

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	astypes "github.com/aws/aws-sdk-go-v2/service/autoscaling/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"

	"github.com/fleetdeploy/fleetdeploy/deploy/clock"
	"github.com/fleetdeploy/fleetdeploy/target"
)

// EC2Client holds the EC2 operations a Provisioner calls; a *ec2.Client
// fits.
type EC2Client interface {
	ec2.DescribeInstancesAPIClient
	TerminateInstances(ctx context.Context, params *ec2.TerminateInstancesInput, optFns ...func(*ec2.Options)) (*ec2.TerminateInstancesOutput, error)
}

// AutoScalingClient holds the Auto Scaling operations a Provisioner calls;
// a *autoscaling.Client fits.
type AutoScalingClient interface {
	autoscaling.DescribeAutoScalingGroupsAPIClient
	CreateAutoScalingGroup(ctx context.Context, params *autoscaling.CreateAutoScalingGroupInput, optFns ...func(*autoscaling.Options)) (*autoscaling.CreateAutoScalingGroupOutput, error)
	DeleteAutoScalingGroup(ctx context.Context, params *autoscaling.DeleteAutoScalingGroupInput, optFns ...func(*autoscaling.Options)) (*autoscaling.DeleteAutoScalingGroupOutput, error)
	TerminateInstanceInAutoScalingGroup(ctx context.Context, params *autoscaling.TerminateInstanceInAutoScalingGroupInput, optFns ...func(*autoscaling.Options)) (*autoscaling.TerminateInstanceInAutoScalingGroupOutput, error)
}

// Provisioner makes and removes the replacement fleet of an EC2 blue/green
// deployment: a target.Provisioner. It is safe for concurrent use.
type Provisioner struct {
	ec2    EC2Client
	asg    AutoScalingClient
	lister *Lister
	opts   Options
	log    *slog.Logger
	clk    clock.Clock
}

var _ target.Provisioner = (*Provisioner)(nil)

// NewProvisioner returns a Provisioner that works through ec2c and asc,
// with the options optFns set. It fails when a client is nil or an option
// is out of range.
func NewProvisioner(ec2c EC2Client, asc AutoScalingClient, optFns ...func(*Options)) (*Provisioner, error) {
	if ec2c == nil || asc == nil {
		return nil, errors.New("ec2target: NewProvisioner needs an EC2 and an Auto Scaling client; got nil")
	}
	o, err := resolve(Options{}, optFns)
	if err != nil {
		return nil, err
	}
	l := &Lister{ec2: ec2c, asg: asc, opts: o, log: o.Logger}
	return &Provisioner{ec2: ec2c, asg: asc, lister: l, opts: o, log: o.Logger, clk: o.Clock}, nil
}

// ProvisionReplacements returns the replacement fleet of req:
//
//   - target.DiscoverExisting: the instances req.Replacements selects (as
//     Lister.ListTargets lists them), less the originals; none is an error
//     with code NO_INSTANCES.
//   - target.CopyAutoScalingGroup: a copy of the originals' Auto Scaling
//     group, named req.Deployment.CopiedAutoScalingGroupName(), as
//     CodeDeploy names it (CodeDeploy_<group>_<deploymentID>), with the
//     original's launch template (or launch configuration, or mixed
//     instances policy), subnets (VPCZoneIdentifier) or Availability
//     Zones, health check, cooldown, termination policies and tags, and
//     as many instances as the original has healthy InService ones (its
//     minimum and maximum widened to hold them, if needed). Its load
//     balancers and target groups are not copied: the TrafficController
//     registers the replacements at AllowTraffic. The call waits, on the
//     Options.Clock, polling every Options.PollInterval for at most
//     Options.ReadyTimeout, until that many of its instances are InService
//     and healthy, and returns them.
//
// The originals' Auto Scaling group is the one group their targets name
// (target.Target.AutoScalingGroup); none, or more than one, is an error.
// Asked again for the same deployment (after a crash of the caller), it
// finds the group it created and waits for it again instead of making
// another. When the replacement group was created but its instances did
// not come into service, it is deleted (with its instances) before the
// error is returned; when ctx ends the wait, it is kept for the next call.
//
// Failures are *target.CodeError values with CodeDeploy's Auto Scaling
// error codes (see the Code constants), wrapping the SDK's error (its
// smithy.APIError reachable with errors.As); ctx's error is returned as
// is.
func (p *Provisioner) ProvisionReplacements(ctx context.Context, req target.ProvisionRequest) ([]target.Target, error) {
	switch req.Action {
	case target.DiscoverExisting:
		return p.discover(ctx, req)
	case target.CopyAutoScalingGroup:
		return p.copyGroup(ctx, req)
	}
	return nil, fmt.Errorf("ec2target: provision action must be one of %v for EC2; got %q: %w",
		req.Action.Values(), req.Action, target.ErrUnsupported)
}

func (p *Provisioner) discover(ctx context.Context, req target.ProvisionRequest) ([]target.Target, error) {
	found, err := p.lister.ListTargets(ctx, req.Replacements)
	if err != nil {
		return nil, err
	}
	found = slices.DeleteFunc(found, func(t target.Target) bool {
		return slices.ContainsFunc(req.Originals, func(o target.Target) bool { return o.ID == t.ID })
	})
	if len(found) == 0 {
		return nil, &target.CodeError{Code: CodeNoInstances, Err: fmt.Errorf(
			"ec2target: deployment %s: no EC2 instance other than the originals matches the deployment's target instances; tag the replacement instances or name their Auto Scaling group",
			req.Deployment.DeploymentID)}
	}
	return found, nil
}

// codeErr returns err as a *target.CodeError with the code of its Auto
// Scaling failure; ctx's error is returned as is.
func codeErr(ctx context.Context, err error, format string, args ...any) error {
	if ctx.Err() != nil && errors.Is(err, ctx.Err()) {
		return err
	}
	return &target.CodeError{Code: autoScalingCode(err), Err: fmt.Errorf("ec2target: "+format+": %w", append(args, err)...)}
}

func (p *Provisioner) copyGroup(ctx context.Context, req target.ProvisionRequest) ([]target.Target, error) {
	name := req.Deployment.CopiedAutoScalingGroupName()
	var origins []string
	for _, o := range req.Originals {
		if o.AutoScalingGroup != "" && !slices.Contains(origins, o.AutoScalingGroup) {
			origins = append(origins, o.AutoScalingGroup)
		}
	}
	if len(origins) != 1 {
		return nil, &target.CodeError{Code: CodeAutoScalingConfiguration, Err: fmt.Errorf(
			"ec2target: deployment %s: COPY_AUTO_SCALING_GROUP copies the one Auto Scaling group of the original instances; they are in %d (%v): name exactly one Auto Scaling group in the deployment group",
			req.Deployment.DeploymentID, len(origins), origins)}
	}
	origin := origins[0]
	groups, err := describeGroups(ctx, p.asg, []string{name, origin})
	if err != nil {
		return nil, codeErr(ctx, err, "deployment %s: describing Auto Scaling groups %s and %s", req.Deployment.DeploymentID, origin, name)
	}
	var orig, made *astypes.AutoScalingGroup
	for i := range groups {
		switch aws.ToString(groups[i].AutoScalingGroupName) {
		case name:
			made = &groups[i]
		case origin:
			orig = &groups[i]
		}
	}
	want := int32(0)
	if made == nil {
		if orig == nil {
			return nil, &target.CodeError{Code: CodeAutoScalingConfiguration, Err: fmt.Errorf(
				"ec2target: deployment %s: the original Auto Scaling group %s does not exist", req.Deployment.DeploymentID, origin)}
		}
		in, err := copyInput(orig, name)
		if err != nil {
			return nil, err
		}
		want = aws.ToInt32(in.DesiredCapacity)
		p.log.InfoContext(ctx, "ec2target: creating the replacement Auto Scaling group", "group", name, "from", origin, "instances", want)
		if _, err := p.asg.CreateAutoScalingGroup(ctx, in); err != nil && apiCode(err) != "AlreadyExists" {
			p.log.WarnContext(ctx, "ec2target: CreateAutoScalingGroup failed", "group", name, "error", err.Error())
			return nil, codeErr(ctx, err, "creating Auto Scaling group %s as a copy of %s", name, origin)
		}
	} else {
		want = aws.ToInt32(made.DesiredCapacity)
		p.log.InfoContext(ctx, "ec2target: the replacement Auto Scaling group exists; waiting for it", "group", name, "instances", want)
	}
	ids, err := p.waitInService(ctx, name, want)
	if err != nil {
		if ctx.Err() == nil {
			p.deleteGroup(context.WithoutCancel(ctx), name)
		}
		return nil, err
	}
	var out []target.Target
	if err := p.lister.describeIDs(ctx, ids, func(t target.Target) {
		t.AutoScalingGroup = name
		out = append(out, t)
	}); err != nil {
		return nil, codeErr(ctx, err, "describing the instances of replacement Auto Scaling group %s", name)
	}
	slices.SortFunc(out, func(a, b target.Target) int { return cmpString(a.ID, b.ID) })
	return out, nil
}

// copyInput returns the CreateAutoScalingGroup input that copies orig as
// name.
func copyInput(orig *astypes.AutoScalingGroup, name string) (*autoscaling.CreateAutoScalingGroupInput, error) {
	healthy := int32(0)
	for _, in := range orig.Instances {
		if in.LifecycleState == astypes.LifecycleStateInService && strings.EqualFold(aws.ToString(in.HealthStatus), "Healthy") {
			healthy++
		}
	}
	origin := aws.ToString(orig.AutoScalingGroupName)
	if healthy == 0 {
		return nil, &target.CodeError{Code: CodeAutoScalingConfiguration, Err: fmt.Errorf(
			"ec2target: Auto Scaling group %s has no healthy InService instance, and CodeDeploy copies as many as it has", origin)}
	}
	in := &autoscaling.CreateAutoScalingGroupInput{
		AutoScalingGroupName:             aws.String(name),
		MinSize:                          aws.Int32(min(aws.ToInt32(orig.MinSize), healthy)),
		MaxSize:                          aws.Int32(max(aws.ToInt32(orig.MaxSize), healthy)),
		DesiredCapacity:                  aws.Int32(healthy),
		LaunchConfigurationName:          orig.LaunchConfigurationName,
		LaunchTemplate:                   orig.LaunchTemplate,
		MixedInstancesPolicy:             orig.MixedInstancesPolicy,
		VPCZoneIdentifier:                orig.VPCZoneIdentifier,
		HealthCheckType:                  orig.HealthCheckType,
		HealthCheckGracePeriod:           orig.HealthCheckGracePeriod,
		DefaultCooldown:                  orig.DefaultCooldown,
		DefaultInstanceWarmup:            orig.DefaultInstanceWarmup,
		TerminationPolicies:              orig.TerminationPolicies,
		PlacementGroup:                   orig.PlacementGroup,
		NewInstancesProtectedFromScaleIn: orig.NewInstancesProtectedFromScaleIn,
		CapacityRebalance:                orig.CapacityRebalance,
		MaxInstanceLifetime:              orig.MaxInstanceLifetime,
	}
	if lt := orig.LaunchTemplate; lt != nil && aws.ToString(lt.LaunchTemplateId) != "" {
		// Auto Scaling takes the template's ID or its name, not both.
		in.LaunchTemplate = &astypes.LaunchTemplateSpecification{LaunchTemplateId: lt.LaunchTemplateId, Version: lt.Version}
	}
	if aws.ToString(orig.VPCZoneIdentifier) == "" {
		in.AvailabilityZones = orig.AvailabilityZones
	}
	for _, t := range orig.Tags {
		if strings.HasPrefix(aws.ToString(t.Key), "aws:") {
			continue // reserved; Auto Scaling sets its own
		}
		in.Tags = append(in.Tags, astypes.Tag{Key: t.Key, Value: t.Value, PropagateAtLaunch: t.PropagateAtLaunch,
			ResourceId: aws.String(name), ResourceType: aws.String("auto-scaling-group")})
	}
	return in, nil
}

// waitInService waits until want instances of group name are InService and
// healthy, and returns their IDs.
func (p *Provisioner) waitInService(ctx context.Context, name string, want int32) ([]string, error) {
	deadline := p.clk.Now().Add(p.opts.ReadyTimeout)
	for polls := 1; ; polls++ {
		groups, err := describeGroups(ctx, p.asg, []string{name})
		if err != nil {
			return nil, codeErr(ctx, err, "describing replacement Auto Scaling group %s", name)
		}
		if len(groups) == 0 {
			return nil, &target.CodeError{Code: CodeAutoScalingConfiguration, Err: fmt.Errorf(
				"ec2target: replacement Auto Scaling group %s is gone (deleted while its instances were awaited)", name)}
		}
		var ready []string
		for _, in := range groups[0].Instances {
			if in.LifecycleState == astypes.LifecycleStateInService && strings.EqualFold(aws.ToString(in.HealthStatus), "Healthy") {
				ready = append(ready, aws.ToString(in.InstanceId))
			}
		}
		if int32(len(ready)) >= want {
			slices.Sort(ready)
			p.log.InfoContext(ctx, "ec2target: the replacement instances are InService", "group", name, "instances", len(ready), "polls", polls)
			return ready, nil
		}
		now := p.clk.Now()
		if !now.Before(deadline) {
			return nil, &target.CodeError{Code: CodeAutoScalingConfiguration, Err: fmt.Errorf(
				"ec2target: replacement Auto Scaling group %s has %d of its %d instances InService and healthy after %s; look at its scaling activities",
				name, len(ready), want, p.opts.ReadyTimeout)}
		}
		p.log.DebugContext(ctx, "ec2target: waiting for the replacement instances", "group", name, "ready", len(ready), "want", want)
		if err := clock.Sleep(ctx, p.clk, min(p.opts.PollInterval, deadline.Sub(now))); err != nil {
			return nil, err
		}
	}
}

// deleteGroup deletes the Auto Scaling group name with its instances,
// logging a failure.
func (p *Provisioner) deleteGroup(ctx context.Context, name string) {
	if _, err := p.asg.DeleteAutoScalingGroup(ctx, &autoscaling.DeleteAutoScalingGroupInput{
		AutoScalingGroupName: aws.String(name), ForceDelete: aws.Bool(true)}); err != nil {
		p.log.WarnContext(ctx, "ec2target: cannot delete the replacement Auto Scaling group that did not come into service", "group", name, "error", err.Error())
		return
	}
	p.log.InfoContext(ctx, "ec2target: deleted the replacement Auto Scaling group that did not come into service", "group", name)
}

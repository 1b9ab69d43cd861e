package ec2target

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/hashicorp/go-multierror"

	"github.com/fleetdeploy/fleetdeploy/internal/errmsg"
	"github.com/fleetdeploy/fleetdeploy/target"
)

// terminateBatch is the most instance IDs terminated in one call.
const terminateBatch = 500

// TerminateTargets terminates the instances targets name: the originals
// after a successful blue/green deployment with TERMINATE, or the
// replacements after its rollback. Instances already gone are not an
// error.
//
// Instances in an Auto Scaling group (target.Target.AutoScalingGroup) are
// not terminated behind the group's back, which would launch others in
// their place. When targets hold every instance the group has, the group
// is deleted with them (DeleteAutoScalingGroup with ForceDelete): the
// original group of a COPY_AUTO_SCALING_GROUP deployment goes, as
// CodeDeploy removes it, once the deployment group names the copy. When
// the group keeps other instances, each target is terminated through it
// (TerminateInstanceInAutoScalingGroup, decrementing its desired
// capacity). Other instances are terminated with TerminateInstances.
//
// Every target is tried even when some fail; the error, when some may
// remain, lists every failure in one *multierror.Error, each naming the
// instance or group and keeping the SDK's smithy.APIError reachable with
// errors.As.
func (p *Provisioner) TerminateTargets(ctx context.Context, targets []target.Target) error {
	errs := errmsg.NewList(fmt.Sprintf("ec2target: TerminateTargets (%d targets)", len(targets)), "failures")
	byGroup := map[string][]string{}
	var groupOrder, plain []string
	for _, t := range targets {
		if t.AutoScalingGroup == "" {
			plain = append(plain, t.ID)
			continue
		}
		if _, ok := byGroup[t.AutoScalingGroup]; !ok {
			groupOrder = append(groupOrder, t.AutoScalingGroup)
		}
		byGroup[t.AutoScalingGroup] = append(byGroup[t.AutoScalingGroup], t.ID)
	}
	if len(groupOrder) > 0 {
		groups, err := describeGroups(ctx, p.asg, groupOrder)
		if err != nil {
			// Without the groups, no instance of theirs is terminated:
			// the groups would launch others.
			for _, g := range groupOrder {
				errs = multierror.Append(errs, fmt.Errorf("ec2target: terminating the %d instances of Auto Scaling group %s: %w", len(byGroup[g]), g, err))
			}
			groupOrder = nil
		}
		exists := map[string][]string{} // group -> its current members
		for _, g := range groups {
			var ids []string
			for _, in := range g.Instances {
				if member(in.LifecycleState) {
					ids = append(ids, aws.ToString(in.InstanceId))
				}
			}
			exists[aws.ToString(g.AutoScalingGroupName)] = ids
		}
		for _, g := range groupOrder {
			ids := byGroup[g]
			members, ok := exists[g]
			switch {
			case !ok:
				plain = append(plain, ids...) // the group is gone; its instances may not be
			case !slices.ContainsFunc(members, func(id string) bool { return !slices.Contains(ids, id) }):
				if err := p.deleteWith(ctx, g, ids); err != nil {
					errs = multierror.Append(errs, err)
				}
			default:
				for _, id := range ids {
					if !slices.Contains(members, id) {
						plain = append(plain, id)
						continue
					}
					if err := p.terminateInGroup(ctx, g, id); err != nil {
						errs = multierror.Append(errs, err)
					}
				}
			}
		}
	}
	for batch := range slices.Chunk(plain, terminateBatch) {
		if err := p.terminate(ctx, batch); err != nil {
			errs = multierror.Append(errs, err)
		}
	}
	return errs.ErrorOrNil()
}

// deleteWith deletes Auto Scaling group g, which holds only ids, and
// terminates them.
func (p *Provisioner) deleteWith(ctx context.Context, g string, ids []string) error {
	_, err := p.asg.DeleteAutoScalingGroup(ctx, &autoscaling.DeleteAutoScalingGroupInput{
		AutoScalingGroupName: aws.String(g), ForceDelete: aws.Bool(true)})
	if err != nil && !isGroupGone(err) {
		p.log.WarnContext(ctx, "ec2target: DeleteAutoScalingGroup failed", "group", g, "error", err.Error())
		return fmt.Errorf("ec2target: deleting Auto Scaling group %s with its %d instances: %w", g, len(ids), err)
	}
	p.log.InfoContext(ctx, "ec2target: deleted Auto Scaling group with its instances", "group", g, "instances", len(ids))
	// A forced delete terminates the instances; terminating them here as
	// well makes it so at once, whatever the group's deletion takes.
	return p.terminate(ctx, ids)
}

// isGroupGone reports whether err says an Auto Scaling group no longer
// exists, or is being deleted already.
func isGroupGone(err error) bool {
	msg := strings.ToLower(err.Error())
	return apiCode(err) == "ValidationError" && (strings.Contains(msg, "not found") || strings.Contains(msg, "does not exist")) ||
		strings.Contains(msg, "pending delete")
}

// terminateInGroup terminates instance id of Auto Scaling group g,
// lowering the group's desired capacity.
func (p *Provisioner) terminateInGroup(ctx context.Context, g, id string) error {
	_, err := p.asg.TerminateInstanceInAutoScalingGroup(ctx, &autoscaling.TerminateInstanceInAutoScalingGroupInput{
		InstanceId: aws.String(id), ShouldDecrementDesiredCapacity: aws.Bool(true)})
	if err == nil {
		return nil
	}
	if apiCode(err) == "ValidationError" {
		// No longer in the group: terminate it directly.
		return p.terminate(ctx, []string{id})
	}
	p.log.WarnContext(ctx, "ec2target: TerminateInstanceInAutoScalingGroup failed", "group", g, "instance", id, "error", err.Error())
	return fmt.Errorf("ec2target: terminating instance %s of Auto Scaling group %s: %w", id, g, err)
}

// terminate terminates ids; IDs EC2 does not know are skipped.
func (p *Provisioner) terminate(ctx context.Context, ids []string) error {
	if len(ids) == 0 {
		return nil
	}
	_, err := p.ec2.TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: ids})
	switch {
	case err == nil:
		return nil
	case len(ids) > 1 && ctx.Err() == nil:
		// Some are gone, or some may not be terminated: one at a time, so
		// that the others go and each failure names its instance.
		errs := errmsg.NewList(fmt.Sprintf("ec2target: terminating %d instances one at a time", len(ids)), "failures")
		for _, id := range ids {
			if err := p.terminate(ctx, []string{id}); err != nil {
				errs = multierror.Append(errs, err)
			}
		}
		return errs.ErrorOrNil()
	case isNotFound(err):
		return nil
	}
	p.log.WarnContext(ctx, "ec2target: TerminateInstances failed", "instances", len(ids), "first", ids[0], "error", err.Error())
	if len(ids) == 1 {
		return fmt.Errorf("ec2target: terminating instance %s: %w", ids[0], err)
	}
	return fmt.Errorf("ec2target: terminating %d instances (%s ... %s): %w", len(ids), ids[0], ids[len(ids)-1], err)
}

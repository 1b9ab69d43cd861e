package elbtarget

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
)

// deregistrationDelayKey names the target group attribute that says how
// long draining lasts.
const deregistrationDelayKey = "deregistration_delay.timeout_seconds"

// defaultDeregistrationDelay is the attribute's default, used when the
// target group does not report it.
const defaultDeregistrationDelay = 300 * time.Second

// targetGroup is what the Controller needs of a target group.
type targetGroup struct {
	arn  string
	port *int32
}

// describeTargetGroup looks the target group up by name and checks that it
// takes instance targets.
func (c *Controller) describeTargetGroup(ctx context.Context, name string) (targetGroup, error) {
	out, err := c.v2.DescribeTargetGroups(ctx, &elbv2.DescribeTargetGroupsInput{Names: []string{name}})
	if err != nil {
		return targetGroup{}, err
	}
	for _, tg := range out.TargetGroups {
		if aws.ToString(tg.TargetGroupName) != name {
			continue
		}
		if tg.TargetType != "" && tg.TargetType != types.TargetTypeEnumInstance {
			return targetGroup{}, fmt.Errorf("its target type is %q; CodeDeploy's EC2/On-Premises deployments need target type %q: %w",
				tg.TargetType, types.TargetTypeEnumInstance, ErrTargetType)
		}
		return targetGroup{arn: aws.ToString(tg.TargetGroupArn), port: tg.Port}, nil
	}
	return targetGroup{}, fmt.Errorf("DescribeTargetGroups returned no target group of that name: %w", errMissing)
}

// registrations returns the target group's registrations of instance id,
// on any port, with their state ("draining" while it drains). A target that
// is not registered has none.
func (c *Controller) registrations(ctx context.Context, tg targetGroup, id string) ([]types.TargetHealthDescription, error) {
	out, err := c.v2.DescribeTargetHealth(ctx, &elbv2.DescribeTargetHealthInput{TargetGroupArn: aws.String(tg.arn)})
	if err != nil {
		return nil, err
	}
	var regs []types.TargetHealthDescription
	for _, d := range out.TargetHealthDescriptions {
		if d.Target == nil || aws.ToString(d.Target.Id) != id {
			continue
		}
		if d.TargetHealth != nil && d.TargetHealth.Reason == types.TargetHealthReasonEnumNotRegistered {
			continue
		}
		regs = append(regs, d)
	}
	return regs, nil
}

// deregistrationDelay returns the target group's draining time.
func (c *Controller) deregistrationDelay(ctx context.Context, tg targetGroup) (time.Duration, error) {
	out, err := c.v2.DescribeTargetGroupAttributes(ctx, &elbv2.DescribeTargetGroupAttributesInput{TargetGroupArn: aws.String(tg.arn)})
	if err != nil {
		return 0, err
	}
	for _, a := range out.Attributes {
		if aws.ToString(a.Key) != deregistrationDelayKey {
			continue
		}
		s, err := strconv.Atoi(aws.ToString(a.Value))
		if err != nil || s < 0 {
			return 0, fmt.Errorf("attribute %s is %q, not a number of seconds", deregistrationDelayKey, aws.ToString(a.Value))
		}
		return time.Duration(s) * time.Second, nil
	}
	return defaultDeregistrationDelay, nil
}

// blockTargetGroup deregisters instance id from the target group name and
// waits until it has drained.
func (c *Controller) blockTargetGroup(ctx context.Context, id, name string) error {
	tg, err := c.describeTargetGroup(ctx, name)
	if err != nil {
		return err
	}
	regs, err := c.registrations(ctx, tg, id)
	if err != nil {
		return err
	}
	if len(regs) == 0 {
		c.opt.Logger.DebugContext(ctx, "instance not registered with the target group; nothing to block", "instance", id, "targetGroup", name)
		return nil
	}
	delay, err := c.deregistrationDelay(ctx, tg)
	if err != nil {
		return err
	}
	targets := make([]types.TargetDescription, 0, len(regs))
	for _, r := range regs {
		targets = append(targets, *r.Target)
	}
	c.opt.Logger.DebugContext(ctx, "deregistering", "instance", id, "targetGroup", name, "registrations", len(targets))
	if _, err := c.v2.DeregisterTargets(ctx, &elbv2.DeregisterTargetsInput{TargetGroupArn: aws.String(tg.arn), Targets: targets}); err != nil {
		return err
	}
	start := c.opt.Clock.Now()
	err = c.poll(ctx, delay+c.opt.DrainSlack, "draining", func(ctx context.Context) (bool, string, error) {
		regs, err := c.registrations(ctx, tg, id)
		if err != nil || len(regs) == 0 {
			return err == nil, "", err
		}
		return false, "registered (" + stateOf(regs[0].TargetHealth) + ")", nil
	})
	if err != nil {
		return err
	}
	c.opt.Logger.InfoContext(ctx, "instance deregistered from the target group", "instance", id, "targetGroup", name,
		"drained", c.opt.Clock.Now().Sub(start))
	return nil
}

// allowTargetGroup registers instance id with the target group name on its
// port and waits until it is healthy.
func (c *Controller) allowTargetGroup(ctx context.Context, id, name string) error {
	tg, err := c.describeTargetGroup(ctx, name)
	if err != nil {
		return err
	}
	td := types.TargetDescription{Id: aws.String(id), Port: tg.port}
	c.opt.Logger.DebugContext(ctx, "registering", "instance", id, "targetGroup", name, "port", aws.ToInt32(tg.port))
	if _, err := c.v2.RegisterTargets(ctx, &elbv2.RegisterTargetsInput{TargetGroupArn: aws.String(tg.arn), Targets: []types.TargetDescription{td}}); err != nil {
		return err
	}
	start := c.opt.Clock.Now()
	err = c.poll(ctx, c.opt.HealthyTimeout, "waiting to be healthy", func(ctx context.Context) (bool, string, error) {
		out, err := c.v2.DescribeTargetHealth(ctx, &elbv2.DescribeTargetHealthInput{TargetGroupArn: aws.String(tg.arn), Targets: []types.TargetDescription{td}})
		if err != nil {
			return false, "", err
		}
		state := "not reported"
		for _, d := range out.TargetHealthDescriptions {
			if d.Target == nil || aws.ToString(d.Target.Id) != id || d.TargetHealth == nil {
				continue
			}
			h := d.TargetHealth
			switch {
			case h.State == types.TargetHealthStateEnumHealthy, h.State == types.TargetHealthStateEnumUnavailable:
				return true, "", nil
			case h.Reason == types.TargetHealthReasonEnumInvalidState:
				// A stopped or terminated instance never becomes healthy.
				return false, "", fmt.Errorf("the target group reports %s: %w", stateOf(h), errRefused)
			}
			state = stateOf(h)
		}
		return false, state, nil
	})
	if err != nil {
		return err
	}
	c.opt.Logger.InfoContext(ctx, "instance healthy in the target group", "instance", id, "targetGroup", name,
		"waited", c.opt.Clock.Now().Sub(start))
	return nil
}

// stateOf spells a target's health for messages: state, reason and
// description.
func stateOf(h *types.TargetHealth) string {
	if h == nil {
		return "in no reported state"
	}
	s := string(h.State)
	if h.Reason != "" {
		s += " " + string(h.Reason)
	}
	if d := aws.ToString(h.Description); d != "" {
		s += ": " + d
	}
	return s
}

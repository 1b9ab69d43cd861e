package elbtarget

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancing"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancing/types"
	"github.com/aws/smithy-go"
)

// inService is the Classic Load Balancer's state of an instance that gets
// traffic, draining included ("InService: Instance deregistration currently
// in progress").
const inService = "InService"

// classicRegistered reports whether instance id is registered with the
// Classic Load Balancer name.
func (c *Controller) classicRegistered(ctx context.Context, id, name string) (bool, error) {
	out, err := c.classic.DescribeLoadBalancers(ctx, &elb.DescribeLoadBalancersInput{LoadBalancerNames: []string{name}})
	if err != nil {
		return false, err
	}
	for _, d := range out.LoadBalancerDescriptions {
		if aws.ToString(d.LoadBalancerName) != name {
			continue
		}
		return slices.ContainsFunc(d.Instances, func(i types.Instance) bool { return aws.ToString(i.InstanceId) == id }), nil
	}
	return false, fmt.Errorf("DescribeLoadBalancers returned no load balancer of that name: %w", errMissing)
}

// drainingTimeout returns how long the Classic Load Balancer name drains
// connections: its connection-draining timeout, or 0 when draining is off.
func (c *Controller) drainingTimeout(ctx context.Context, name string) (time.Duration, error) {
	out, err := c.classic.DescribeLoadBalancerAttributes(ctx, &elb.DescribeLoadBalancerAttributesInput{LoadBalancerName: aws.String(name)})
	if err != nil {
		return 0, err
	}
	if a := out.LoadBalancerAttributes; a != nil && a.ConnectionDraining != nil && a.ConnectionDraining.Enabled {
		return time.Duration(aws.ToInt32(a.ConnectionDraining.Timeout)) * time.Second, nil
	}
	return 0, nil
}

// classicState returns the Classic Load Balancer's state of instance id:
// "InService", "OutOfService", "Unknown", with its description.
func (c *Controller) classicState(ctx context.Context, id, name string) (state, desc string, err error) {
	out, err := c.classic.DescribeInstanceHealth(ctx, &elb.DescribeInstanceHealthInput{
		LoadBalancerName: aws.String(name), Instances: []types.Instance{{InstanceId: aws.String(id)}}})
	if err != nil {
		return "", "", err
	}
	for _, s := range out.InstanceStates {
		if aws.ToString(s.InstanceId) == id {
			return aws.ToString(s.State), aws.ToString(s.Description), nil
		}
	}
	return "", "", nil
}

// blockClassic deregisters instance id from the Classic Load Balancer name
// and waits until it is no longer in service there.
func (c *Controller) blockClassic(ctx context.Context, id, name string) error {
	registered, err := c.classicRegistered(ctx, id, name)
	if err != nil {
		return err
	}
	if !registered {
		c.opt.Logger.DebugContext(ctx, "instance not registered with the load balancer; nothing to block", "instance", id, "loadBalancer", name)
		return nil
	}
	timeout, err := c.drainingTimeout(ctx, name)
	if err != nil {
		return err
	}
	c.opt.Logger.DebugContext(ctx, "deregistering", "instance", id, "loadBalancer", name)
	if _, err := c.classic.DeregisterInstancesFromLoadBalancer(ctx, &elb.DeregisterInstancesFromLoadBalancerInput{
		LoadBalancerName: aws.String(name), Instances: []types.Instance{{InstanceId: aws.String(id)}}}); err != nil {
		return err
	}
	start := c.opt.Clock.Now()
	err = c.poll(ctx, timeout+c.opt.DrainSlack, "draining", func(ctx context.Context) (bool, string, error) {
		state, desc, err := c.classicState(ctx, id, name)
		var api smithy.APIError
		if errors.As(err, &api) && api.ErrorCode() == "InvalidInstance" {
			// The load balancer no longer knows the instance at all.
			return true, "", nil
		}
		if err != nil {
			return false, "", err
		}
		return state != inService, state + " (" + desc + ")", nil
	})
	if err != nil {
		return err
	}
	c.opt.Logger.InfoContext(ctx, "instance deregistered from the load balancer", "instance", id, "loadBalancer", name,
		"drained", c.opt.Clock.Now().Sub(start))
	return nil
}

// allowClassic registers instance id with the Classic Load Balancer name
// and waits until it is in service.
func (c *Controller) allowClassic(ctx context.Context, id, name string) error {
	// Look the load balancer up first: a missing one is then reported as
	// the service reports it to DescribeLoadBalancers, whatever the
	// register call would say.
	registered, err := c.classicRegistered(ctx, id, name)
	if err != nil {
		return err
	}
	if !registered {
		c.opt.Logger.DebugContext(ctx, "registering", "instance", id, "loadBalancer", name)
		if _, err := c.classic.RegisterInstancesWithLoadBalancer(ctx, &elb.RegisterInstancesWithLoadBalancerInput{
			LoadBalancerName: aws.String(name), Instances: []types.Instance{{InstanceId: aws.String(id)}}}); err != nil {
			return err
		}
	}
	start := c.opt.Clock.Now()
	err = c.poll(ctx, c.opt.HealthyTimeout, "waiting to be in service", func(ctx context.Context) (bool, string, error) {
		state, desc, err := c.classicState(ctx, id, name)
		if err != nil {
			return false, "", err
		}
		if state == "" {
			return false, "not reported", nil
		}
		return state == inService, state + " (" + desc + ")", nil
	})
	if err != nil {
		return err
	}
	c.opt.Logger.InfoContext(ctx, "instance in service in the load balancer", "instance", id, "loadBalancer", name,
		"waited", c.opt.Clock.Now().Sub(start))
	return nil
}

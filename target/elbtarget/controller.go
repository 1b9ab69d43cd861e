package elbtarget

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancing"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/fleetdeploy/fleetdeploy/deploy/clock"
	"github.com/fleetdeploy/fleetdeploy/internal/errmsg"
	"github.com/fleetdeploy/fleetdeploy/target"
	"github.com/hashicorp/go-multierror"
)

// TargetGroupsAPI is the part of the ELBv2 client
// (*elasticloadbalancingv2.Client) the Controller calls.
type TargetGroupsAPI interface {
	DescribeTargetGroups(ctx context.Context, in *elbv2.DescribeTargetGroupsInput, optFns ...func(*elbv2.Options)) (*elbv2.DescribeTargetGroupsOutput, error)
	DescribeTargetGroupAttributes(ctx context.Context, in *elbv2.DescribeTargetGroupAttributesInput, optFns ...func(*elbv2.Options)) (*elbv2.DescribeTargetGroupAttributesOutput, error)
	DescribeTargetHealth(ctx context.Context, in *elbv2.DescribeTargetHealthInput, optFns ...func(*elbv2.Options)) (*elbv2.DescribeTargetHealthOutput, error)
	RegisterTargets(ctx context.Context, in *elbv2.RegisterTargetsInput, optFns ...func(*elbv2.Options)) (*elbv2.RegisterTargetsOutput, error)
	DeregisterTargets(ctx context.Context, in *elbv2.DeregisterTargetsInput, optFns ...func(*elbv2.Options)) (*elbv2.DeregisterTargetsOutput, error)
}

// ClassicAPI is the part of the Classic Load Balancer client
// (*elasticloadbalancing.Client) the Controller calls.
type ClassicAPI interface {
	DescribeLoadBalancers(ctx context.Context, in *elb.DescribeLoadBalancersInput, optFns ...func(*elb.Options)) (*elb.DescribeLoadBalancersOutput, error)
	DescribeLoadBalancerAttributes(ctx context.Context, in *elb.DescribeLoadBalancerAttributesInput, optFns ...func(*elb.Options)) (*elb.DescribeLoadBalancerAttributesOutput, error)
	DescribeInstanceHealth(ctx context.Context, in *elb.DescribeInstanceHealthInput, optFns ...func(*elb.Options)) (*elb.DescribeInstanceHealthOutput, error)
	RegisterInstancesWithLoadBalancer(ctx context.Context, in *elb.RegisterInstancesWithLoadBalancerInput, optFns ...func(*elb.Options)) (*elb.RegisterInstancesWithLoadBalancerOutput, error)
	DeregisterInstancesFromLoadBalancer(ctx context.Context, in *elb.DeregisterInstancesFromLoadBalancerInput, optFns ...func(*elb.Options)) (*elb.DeregisterInstancesFromLoadBalancerOutput, error)
}

var (
	_ TargetGroupsAPI          = (*elbv2.Client)(nil)
	_ ClassicAPI               = (*elb.Client)(nil)
	_ target.TrafficController = (*Controller)(nil)
)

// Defaults of Options.
const (
	// DefaultPollInterval is how often a wait asks the load balancer
	// again, as the SDK's own ELB waiters do.
	DefaultPollInterval = 15 * time.Second
	// DefaultHealthyTimeout bounds AllowTraffic's wait for a healthy
	// target: CodeDeploy waits up to an hour for the load balancer to
	// report a registered instance healthy.
	DefaultHealthyTimeout = time.Hour
	// DefaultDrainSlack is added to a target group's deregistration delay
	// (or a Classic Load Balancer's connection-draining timeout) to bound
	// BlockTraffic's wait: the load balancer ends draining at the delay,
	// and the slack covers the polls around it.
	DefaultDrainSlack = time.Minute
	// DefaultConcurrency is how many load balancers and target groups one
	// call works on at once: all that a deployment group may name.
	DefaultConcurrency = 2 * target.MaxLoadBalancers
)

// Options are the optional settings of a Controller. The zero value of
// every field means its default.
type Options struct {
	// Clock is what the waits poll on. Default clock.System().
	Clock clock.Clock
	// Logger receives what the Controller does (Debug) and the end of
	// each wait (Info). Default: discarded.
	Logger *slog.Logger
	// PollInterval is the time between two health polls. Default
	// DefaultPollInterval; must not be negative.
	PollInterval time.Duration
	// HealthyTimeout bounds AllowTraffic's wait for the target to be
	// healthy, on Clock. Default DefaultHealthyTimeout; must not be
	// negative.
	HealthyTimeout time.Duration
	// DrainSlack is added to the deregistration delay to bound
	// BlockTraffic's wait for draining to end. Default DefaultDrainSlack;
	// must not be negative.
	DrainSlack time.Duration
	// Concurrency is how many target groups and load balancers one call
	// works on at once. Default DefaultConcurrency; must not be negative.
	Concurrency int
}

// Controller is a target.TrafficController over Elastic Load Balancing:
// the target groups (ALB, NLB) and Classic Load Balancers a deployment
// group's load balancer info names. It is safe for concurrent use.
type Controller struct {
	v2      TargetGroupsAPI
	classic ClassicAPI
	opt     Options
}

// New returns a Controller that acts on target groups through v2 and on
// Classic Load Balancers through classic. Either may be nil when the
// deployment groups name no load balancer of that kind (a request that
// does fails with ErrNoClient); both nil is an error wrapping
// ErrInvalidOptions, as is an Options field out of range.
func New(v2 TargetGroupsAPI, classic ClassicAPI, opts ...func(*Options)) (*Controller, error) {
	if v2 == nil && classic == nil {
		return nil, fmt.Errorf("elbtarget: New: both clients are nil; pass an *elasticloadbalancingv2.Client, an *elasticloadbalancing.Client or both: %w", ErrInvalidOptions)
	}
	var o Options
	for _, f := range opts {
		if f != nil {
			f(&o)
		}
	}
	for _, d := range []struct {
		name string
		v    *time.Duration
		def  time.Duration
	}{{"PollInterval", &o.PollInterval, DefaultPollInterval}, {"HealthyTimeout", &o.HealthyTimeout, DefaultHealthyTimeout}, {"DrainSlack", &o.DrainSlack, DefaultDrainSlack}} {
		switch {
		case *d.v < 0:
			return nil, fmt.Errorf("elbtarget: New: Options.%s must not be negative; got %v: %w", d.name, *d.v, ErrInvalidOptions)
		case *d.v == 0:
			*d.v = d.def
		}
	}
	switch {
	case o.Concurrency < 0:
		return nil, fmt.Errorf("elbtarget: New: Options.Concurrency must not be negative; got %d: %w", o.Concurrency, ErrInvalidOptions)
	case o.Concurrency == 0:
		o.Concurrency = DefaultConcurrency
	}
	if o.Clock == nil {
		o.Clock = clock.System()
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return &Controller{v2: v2, classic: classic, opt: o}, nil
}

// The operations, as Error.Op spells them.
const (
	opBlock = "BlockTraffic"
	opAllow = "AllowTraffic"
)

// BlockTraffic deregisters the instance req.Target.ID from every target
// group and Classic Load Balancer of req.Deployment.LoadBalancer, all at
// once, and returns when each has finished draining it: the target group
// no longer lists it (DescribeTargetHealth), the Classic Load Balancer no
// longer reports it InService (DescribeInstanceHealth). The wait is bounded
// by the target group's deregistration_delay.timeout_seconds attribute (the
// Classic Load Balancer's connection-draining timeout, or nothing when
// draining is off) plus Options.DrainSlack, on Options.Clock.
//
// An instance that is not registered with a target group or load balancer
// is skipped there: like CodeDeploy, BlockTraffic succeeds for an instance
// that receives no traffic from it. A request that names no target group or
// Classic Load Balancer does nothing.
//
// Errors: a request without a target ID (wrapping target.ErrInvalidRequest);
// otherwise one *Error per target group or load balancer that failed,
// listed in one *multierror.Error, after every one has been tried.
func (c *Controller) BlockTraffic(ctx context.Context, req target.TrafficRequest) error {
	return c.each(ctx, opBlock, req)
}

// AllowTraffic registers the instance req.Target.ID with every target group
// (on the target group's port) and Classic Load Balancer of
// req.Deployment.LoadBalancer, all at once, and returns when each reports
// it healthy (target state "healthy", or "unavailable" when the target
// group's health checks are disabled; Classic state "InService"). Each wait
// is bounded by Options.HealthyTimeout on Options.Clock, and by ctx. An
// instance already registered and healthy is not an error.
//
// Errors are as for BlockTraffic. A target group whose target type is not
// "instance" fails with ErrTargetType (ELASTIC_LOAD_BALANCING_INVALID);
// an instance the load balancer refuses (stopped, terminated, in another
// VPC) with ELB_INVALID_INSTANCE, wrapping target.ErrTargetUnavailable.
func (c *Controller) AllowTraffic(ctx context.Context, req target.TrafficRequest) error {
	return c.each(ctx, opAllow, req)
}

// job is the work of one call on one target group or load balancer.
type job struct {
	kind Kind
	name string
}

// each runs op on every target group and Classic Load Balancer of req,
// Options.Concurrency at a time, and lists their errors (one *Error each)
// in the order of req's lists.
func (c *Controller) each(ctx context.Context, op string, req target.TrafficRequest) error {
	id := req.Target.ID
	if id == "" {
		return fmt.Errorf("elbtarget: %s: the request's target has no ID: %w", op, target.ErrInvalidRequest)
	}
	var jobs []job
	seen := map[job]bool{}
	add := func(kind Kind, list []target.NameInfo) {
		for _, n := range list {
			j := job{kind, n.Name}
			if !seen[j] {
				seen[j] = true
				jobs = append(jobs, j)
			}
		}
	}
	lb := req.Deployment.LoadBalancer
	add(KindTargetGroup, lb.TargetGroupInfoList)
	add(KindClassic, lb.ELBInfoList)
	// Every job runs, Options.Concurrency at a time; a failure does not
	// stop the others.
	var g multierror.Group
	sem := make(chan struct{}, c.opt.Concurrency)
	for _, j := range jobs {
		sem <- struct{}{}
		g.Go(func() error {
			defer func() { <-sem }()
			if err := c.one(ctx, op, id, j); err != nil {
				return fail(op, id, j.kind, j.name, err)
			}
			return nil
		})
	}
	failed := g.Wait()
	if failed == nil {
		return nil
	}
	// In the order of req's lists, not of their ending.
	order := make(map[job]int, len(jobs))
	for i, j := range jobs {
		order[j] = i
	}
	slices.SortStableFunc(failed.Errors, func(a, b error) int {
		return cmp.Compare(order[jobOf(a)], order[jobOf(b)])
	})
	failed.ErrorFormat = errmsg.ListFormat(fmt.Sprintf("elbtarget: %s %s", op, id), "failures")
	return failed.ErrorOrNil()
}

// jobOf returns the job an error of each names.
func jobOf(err error) job {
	var e *Error
	if errors.As(err, &e) {
		return job{e.Kind, e.Name}
	}
	return job{}
}

// one runs op for instance id on one target group or load balancer.
func (c *Controller) one(ctx context.Context, op, id string, j job) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	switch j.kind {
	case KindTargetGroup:
		if c.v2 == nil {
			return ErrNoClient
		}
		if op == opBlock {
			return c.blockTargetGroup(ctx, id, j.name)
		}
		return c.allowTargetGroup(ctx, id, j.name)
	default:
		if c.classic == nil {
			return ErrNoClient
		}
		if op == opBlock {
			return c.blockClassic(ctx, id, j.name)
		}
		return c.allowClassic(ctx, id, j.name)
	}
}

// poll calls check until it reports done, once at once and then every
// Options.PollInterval on Options.Clock, until bound has passed. It returns
// check's error, ctx's error, or an error wrapping ErrTimeout that quotes
// the last state check reported.
func (c *Controller) poll(ctx context.Context, bound time.Duration, what string, check func(ctx context.Context) (done bool, state string, err error)) error {
	clk := c.opt.Clock
	start := clk.Now()
	deadline := start.Add(bound)
	for polls := 1; ; polls++ {
		done, state, err := check(ctx)
		if err != nil {
			return err
		}
		if done {
			return nil
		}
		now := clock.Later(clk, start)
		left := deadline.Sub(now)
		if left <= 0 {
			return fmt.Errorf("%s: still %s after %v (%d polls; the bound is %v): %w", what, state, now.Sub(start), polls, bound, ErrTimeout)
		}
		if err := clock.Sleep(ctx, clk, min(left, c.opt.PollInterval)); err != nil {
			return fmt.Errorf("%s: still %s when the wait ended: %w", what, state, err)
		}
	}
}

package ecstarget

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/ecs"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"

	"github.com/fleetdeploy/fleetdeploy/deploy/clock"
	"github.com/fleetdeploy/fleetdeploy/target"
)

// ECSClient holds the Amazon ECS operations the package calls; a
// *ecs.Client fits, and so does a wrapper around one.
type ECSClient interface {
	DescribeServices(ctx context.Context, params *ecs.DescribeServicesInput, optFns ...func(*ecs.Options)) (*ecs.DescribeServicesOutput, error)
	DescribeTaskSets(ctx context.Context, params *ecs.DescribeTaskSetsInput, optFns ...func(*ecs.Options)) (*ecs.DescribeTaskSetsOutput, error)
	CreateTaskSet(ctx context.Context, params *ecs.CreateTaskSetInput, optFns ...func(*ecs.Options)) (*ecs.CreateTaskSetOutput, error)
	DeleteTaskSet(ctx context.Context, params *ecs.DeleteTaskSetInput, optFns ...func(*ecs.Options)) (*ecs.DeleteTaskSetOutput, error)
	UpdateServicePrimaryTaskSet(ctx context.Context, params *ecs.UpdateServicePrimaryTaskSetInput, optFns ...func(*ecs.Options)) (*ecs.UpdateServicePrimaryTaskSetOutput, error)
}

// ELBClient holds the Elastic Load Balancing (v2) operations the package
// calls; a *elasticloadbalancingv2.Client fits.
type ELBClient interface {
	DescribeListeners(ctx context.Context, params *elbv2.DescribeListenersInput, optFns ...func(*elbv2.Options)) (*elbv2.DescribeListenersOutput, error)
	DescribeTargetGroups(ctx context.Context, params *elbv2.DescribeTargetGroupsInput, optFns ...func(*elbv2.Options)) (*elbv2.DescribeTargetGroupsOutput, error)
	ModifyListener(ctx context.Context, params *elbv2.ModifyListenerInput, optFns ...func(*elbv2.Options)) (*elbv2.ModifyListenerOutput, error)
}

// Routes returns the target group pair of an ECS service, named
// "cluster/service" as the executor names an ECS deployment's target: the
// deployment group's LoadBalancerInfo.TargetGroupPairInfoList[0]. A
// TrafficShifter needs it for CurrentTraffic, whose request names only the
// service; a service it does not know is an error wrapping
// target.ErrNotFound.
type Routes func(ctx context.Context, service string) (target.TargetGroupPairInfo, error)

// StaticRoutes returns Routes that answer from pairs, keyed by
// "cluster/service". The map is copied.
func StaticRoutes(pairs map[string]target.TargetGroupPairInfo) Routes {
	m := make(map[string]target.TargetGroupPairInfo, len(pairs))
	for k, p := range pairs {
		m[k] = target.LoadBalancerInfo{TargetGroupPairInfoList: []target.TargetGroupPairInfo{p}}.Clone().TargetGroupPairInfoList[0]
	}
	return func(ctx context.Context, service string) (target.TargetGroupPairInfo, error) {
		if err := ctx.Err(); err != nil {
			return target.TargetGroupPairInfo{}, err
		}
		p, ok := m[service]
		if !ok {
			return target.TargetGroupPairInfo{}, fmt.Errorf("ecstarget: no target group pair is known for ECS service %s; add it to the map given to StaticRoutes: %w",
				service, target.ErrNotFound)
		}
		return target.LoadBalancerInfo{TargetGroupPairInfoList: []target.TargetGroupPairInfo{p}}.Clone().TargetGroupPairInfoList[0], nil
	}
}

// Defaults of Options.
const (
	// DefaultPollInterval is how often the Provisioner describes a new
	// task set while it waits for it to be steady.
	DefaultPollInterval = 15 * time.Second
	// DefaultSteadyTimeout bounds the wait for a replacement task set to
	// reach stabilityStatus STEADY_STATE (fleetdeploy's choice: an hour,
	// the bound CodeDeploy gives its own waits on a deployment's steps).
	DefaultSteadyTimeout = time.Hour
)

// Options are the optional settings of a Provisioner or a TrafficShifter.
// The zero value of each field means its default.
type Options struct {
	// Logger receives the package's logs (task sets made and deleted,
	// listener changes, the wait for a steady task set); nil discards them.
	Logger *slog.Logger
	// Clock is what the Provisioner waits on; nil is clock.System().
	Clock clock.Clock
	// PollInterval is how often the Provisioner describes a replacement
	// task set while it waits for it to be steady; 0 is
	// DefaultPollInterval.
	PollInterval time.Duration
	// SteadyTimeout bounds the Provisioner's wait for a replacement task
	// set to reach STEADY_STATE; 0 is DefaultSteadyTimeout.
	SteadyTimeout time.Duration
}

// resolve applies optFns to o, fills the defaults and checks the result.
func resolve(o Options, optFns []func(*Options)) (Options, error) {
	for _, fn := range optFns {
		if fn != nil {
			fn(&o)
		}
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Clock == nil {
		o.Clock = clock.System()
	}
	if o.PollInterval == 0 {
		o.PollInterval = DefaultPollInterval
	}
	if o.SteadyTimeout == 0 {
		o.SteadyTimeout = DefaultSteadyTimeout
	}
	switch {
	case o.PollInterval < 0:
		return o, fmt.Errorf("ecstarget: Options.PollInterval must not be negative; got %s", o.PollInterval)
	case o.SteadyTimeout < 0:
		return o, fmt.Errorf("ecstarget: Options.SteadyTimeout must not be negative; got %s", o.SteadyTimeout)
	}
	return o, nil
}

// Package elbtarget is a [target.TrafficController] over Elastic Load
// Balancing: it performs the reserved BlockTraffic and AllowTraffic events of
// EC2/On-Premises deployments, as CodeDeploy does for a deployment group
// with a load balancer ("Integrating CodeDeploy with Elastic Load Balancing"
// in the CodeDeploy User Guide).
//
// A [Controller] acts on the load balancers the request's deployment group
// names in its load balancer info: every target group of
// targetGroupInfoList (Application and Network Load Balancers, through an
// [elasticloadbalancingv2.Client]) and every Classic Load Balancer of
// elbInfoList (through an [elasticloadbalancing.Client]). ECS target group
// pairs are not its business.
//
//	ctl, err := elbtarget.New(elasticloadbalancingv2.NewFromConfig(cfg),
//		elasticloadbalancing.NewFromConfig(cfg),
//		func(o *elbtarget.Options) { o.Logger = logger })
//	platform.TrafficController = ctl
//
// # Blocking and allowing
//
// BlockTraffic deregisters the instance and waits until the load balancer
// has drained it: a target group drains for up to its
// deregistration_delay.timeout_seconds attribute (DescribeTargetHealth
// reports the target "draining" meanwhile), a Classic Load Balancer for up
// to its connection-draining timeout (DescribeInstanceHealth reports
// "InService" meanwhile). The wait is bounded by that time plus
// [Options.DrainSlack]. An instance that is not registered is skipped, as
// CodeDeploy skips it: it gets no traffic to block.
//
// AllowTraffic registers the instance (on the target group's port) and
// waits until the load balancer reports it healthy, for up to
// [Options.HealthyTimeout] — an hour by default, the time CodeDeploy gives
// an instance to pass its load balancer's health checks.
//
// Every target group and load balancer of the request is worked on at once
// (up to [Options.Concurrency]) and every one is tried: the error of a call
// lists each failure as an [*Error], in one *multierror.Error.
//
// # Waiting
//
// All waiting is polling on [Options.Clock] every [Options.PollInterval],
// and ends early when ctx does. Tests drive the waits with a fake clock.
//
// # Errors
//
// Each [*Error] names the operation, the instance and the target group or
// load balancer, and carries the CodeDeploy error code of the failure
// ([Error.Code]): ELASTIC_LOAD_BALANCING_INVALID for a target group or load
// balancer that is missing (also wrapping [target.ErrNotFound]), has the
// wrong target type, or refuses a call; ELB_INVALID_INSTANCE for an instance
// it refuses (also wrapping [target.ErrTargetUnavailable]); TIMEOUT when a
// wait passes its bound ([ErrTimeout]) or ctx's deadline passes; THROTTLED
// and IAM_ROLE_PERMISSIONS for throttling and access denied. The SDK's error
// stays reachable: errors.As(err, new(smithy.APIError)).
//
// The executor turns any TrafficController error into a failed event; the
// code is for callers and observers that want CodeDeploy's reason.
package elbtarget

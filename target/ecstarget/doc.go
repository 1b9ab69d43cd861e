// Package ecstarget runs fleetdeploy's ECS blue/green deployments on
// Amazon ECS and Elastic Load Balancing through aws-sdk-go-v2: a
// [Provisioner] that makes the replacement task set (the reserved Install
// event) and deletes the original one afterwards, and a [TrafficShifter]
// that moves the production and test listeners between the two task sets
// (AllowTestTraffic, each shift of AllowTraffic, and the shift back of a
// rollback).
//
// # Which services
//
// Only services whose deployment controller is EXTERNAL: Amazon ECS then
// leaves task sets and their traffic to the caller, which is what
// fleetdeploy does. A service with the CODE_DEPLOY deployment controller
// is reserved for AWS CodeDeploy itself (ECS's task set operations,
// CreateTaskSet and the others, are for EXTERNAL services), and one with
// the ECS controller does rolling updates of its own; both are refused with INVALID_ECS_SERVICE. To move a
// service from CodeDeploy, create it again with deploymentController
// EXTERNAL, make its first task set (CreateTaskSet, then
// UpdateServicePrimaryTaskSet) in the target group the production
// listener forwards to, and give the deployment group the same
// loadBalancerInfo.targetGroupPairInfoList it had.
//
// # Wiring
//
//	cfg, err := config.LoadDefaultConfig(ctx)
//	ecsc, elbc := ecs.NewFromConfig(cfg), elasticloadbalancingv2.NewFromConfig(cfg)
//	routes := ecstarget.StaticRoutes(map[string]target.TargetGroupPairInfo{
//		"my-cluster/my-service": group.LoadBalancerInfo.TargetGroupPairInfoList[0],
//	})
//	prov, err := ecstarget.NewProvisioner(ecsc, elbc, source, func(o *ecstarget.Options) { o.Logger = logger })
//	shift, err := ecstarget.NewTrafficShifter(ecsc, elbc, routes, func(o *ecstarget.Options) { o.Logger = logger })
//	platform := target.Platform{Provisioner: prov, TrafficShifter: shift, HookInvoker: hooks}
//
// source is the revision.Source the executor reads revisions with (the
// Provisioner reads the AppSpec's task definition, container name and
// port from it). [Routes] gives the target group pair of a service named
// "cluster/service": [TrafficShifter.CurrentTraffic] is asked about a route
// alone, without the deployment group, so the shifter must be told where a
// service's listeners are; a function reading the application's own group
// store fits as well as [StaticRoutes].
//
// Both take narrow client interfaces ([ECSClient], [ELBClient]) holding
// only the operations they call — a *ecs.Client and a
// *elasticloadbalancingv2.Client fit, and so does a wrapper around them —,
// optional settings in [Options] set by functional options, wait only on
// Options.Clock, and log through Options.Logger. Errors of the SDK are
// wrapped with %w, so its smithy.APIError stays reachable with errors.As.
//
// # Task sets and target groups
//
// A deployment group of an ECS service names a target group pair, a
// production listener and optionally a test listener. The replacement task
// set registers with the group of the pair the production listener does
// not forward to, so that successive deployments alternate between the
// two groups as CodeDeploy's do ("What happens during an Amazon ECS
// deployment" in the CodeDeploy User Guide). It runs the AppSpec's task
// definition with the original task set's scale, launch type and network
// settings (the AppSpec's PlatformVersion, NetworkConfiguration and
// CapacityProviderStrategy override them), carries the deployment ID as
// its externalId — which is how a call repeated after a crash finds it —,
// and is waited on until its stabilityStatus is STEADY_STATE, within
// Options.SteadyTimeout. Targets are task sets, named by their ARN, which
// also names their cluster and service.
//
// # Traffic
//
// A shift rewrites the listener's forward action with both target groups
// weighted: the original's 100−w and the replacement's w (ModifyListener
// with a ForwardConfig). AllowTestTraffic sends the test listener's
// traffic all to the replacement. The last production shift (w = 100) also
// makes the replacement the service's primary task set
// (UpdateServicePrimaryTaskSet); the executor deletes the original task set
// with [Provisioner.TerminateTargets] once the deployment's termination
// wait is over.
//
// # Errors
//
// Failures carry CodeDeploy's error codes in a *target.CodeError:
// INVALID_ECS_SERVICE ([CodeInvalidECSService]) for a service, cluster,
// task set, target group or listener that is missing or not set up for a
// deployment — not EXTERNAL, no target group pair, a listener that
// forwards to neither group of the pair or to another group —, and
// ECS_UPDATE_ERROR ([CodeECSUpdateError]) for a change ECS or Elastic Load
// Balancing refused and a task set that did not become steady; a call the
// services throttled beyond the SDK's retries carries THROTTLED
// ([CodeThrottled]), which the executor retries. Each message names the
// resource and what to change.
package ecstarget

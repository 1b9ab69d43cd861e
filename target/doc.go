// Package target describes what a deployment runs on and the interfaces a
// compute platform implements so that fleetdeploy can deploy to it.
//
// It holds pure data and rules — targets, selectors, lifecycle event
// sequences, CodeDeploy's status enums — and the small role interfaces the
// executor (package deploy) calls. It imports only the standard library and
// fleetdeploy's config and revision packages. Implementations live in
// subpackages: target/ec2target (EC2 instances and Auto Scaling groups),
// target/elbtarget (Classic Load Balancers and ELBv2 target groups) and
// target/cloudwatchalarm (an AlarmSource over CloudWatch alarms) talk to
// AWS through the AWS SDK; target/localtarget (instances that are
// directories on this machine) and target/localtraffic (a local HTTP proxy
// and an alarm source over it) need no AWS account; package targettest has
// in-memory fakes.
//
// # Targets
//
// A [Target] is an EC2 instance, an on-premises instance, a Lambda function
// alias or an ECS service: an ID plus what deployments select and schedule
// by — tags, Availability Zone, Auto Scaling group, and whether it is
// on-premises. Every request a role receives carries the target and a
// [DeploymentInfo]: application, deployment group (name and ID), deployment
// ID, revision, creator, [DeploymentType], file-exists behaviour,
// ignoreApplicationStopFailures and the group's [LoadBalancerInfo].
//
// The enums [TargetStatus], [LifecycleEventStatus], [LifecycleErrorCode],
// [TargetLabel], [DeploymentType] and [DeploymentCreator] are spelled as
// CodeDeploy spells them, each with a Values method; their zero value is
// unset and invalid.
//
// # Selecting targets
//
// A [Selector] is the target part of a deployment group (API Reference,
// CreateDeploymentGroup; User Guide, "Tagging instances for deployment
// groups in CodeDeploy"), with CodeDeploy's JSON field names:
//
//   - ec2TagFilters: an EC2 instance matches if it matches any filter;
//   - ec2TagSet: it must match at least one filter in every group (up to
//     three groups) — AND across groups, OR within one;
//   - onPremisesInstanceTagFilters and onPremisesTagSet: the same, for
//     on-premises instances;
//   - autoScalingGroups: every instance of these groups matches.
//
// A [TagFilter] compares the key only (KEY_ONLY), the value only
// (VALUE_ONLY: any tag with that value) or both (KEY_AND_VALUE), exactly and
// case-sensitively. EC2 tags and Auto Scaling groups never select
// on-premises instances, and on-premises tags never select EC2 instances. A
// group with both EC2 tags and Auto Scaling groups selects the union, as
// CodeDeploy does. A zero Selector selects nothing.
//
// [Selector.Matches] is pure; [Selector.Validate] reports every broken rule
// at once — filters and a tag set together (InvalidEC2TagCombination), more
// than three tag groups, more than ten tags in a group, more than ten Auto
// Scaling groups, a filter missing its key or value, a key over 128 or a
// value over 256 characters — as a *multierror.Error with one [*Problem]
// per broken rule, that errors.Is matches against [ErrInvalidSelector] and
// each rule's sentinel.
//
// # Lifecycle events
//
// The [LifecycleEvent] constants name every event of the User Guide's
// "AppSpec 'hooks' section", for every platform. What an event is depends on
// the platform: [LifecycleEvent.Exists], [LifecycleEvent.Scriptable] (users
// may hook it), [LifecycleEvent.Reserved] (CodeDeploy does it) and
// [LifecycleEvent.Role] (which role performs it); [ScriptableEvents] lists a
// platform's hookable events.
//
// A [Sequence] — platform, [SequenceKind], load balancer or not — gives the
// events a target runs, in order: in-place with or without a load balancer,
// the four blue/green situations (original and replacement, deployment and
// rollback), Auto Scaling launch and termination, Lambda and ECS. The
// pseudo-events Start and End are not listed. Two orders are fleetdeploy
// decisions (AWS shows them only in diagrams): in-place with a load balancer
// allows traffic after ValidateService, and a termination deployment runs
// BeforeBlockTraffic, BlockTraffic, AfterBlockTraffic, ApplicationStop.
//
// Two rules the on-host agent applies are here too, so the executor and the
// agent agree: [DeploymentInfo.ScriptSource] says whose scripts an event runs
// (ApplicationStop and the block-traffic hooks run the last successful
// install's; a blue/green rollback differs), and
// [DeploymentInfo.IgnoresFailureOf] says whether ignoreApplicationStopFailures
// covers a failed event (ApplicationStop, BeforeBlockTraffic,
// AfterBlockTraffic).
//
// # Roles
//
// A platform is a [Platform]: a struct of small interfaces, nil where the
// platform lacks a role.
//
//   - [Lister] lists the targets a Selector matches (Server).
//   - [Installer] runs a lifecycle event on a target — the agent's work
//     (Server hooks, DownloadBundle, Install).
//   - [TrafficController] deregisters and registers a target with its load
//     balancers (Server BlockTraffic, AllowTraffic).
//   - [TrafficShifter] sets the split between two versions of a Lambda alias
//     or ECS service (AllowTraffic, AllowTestTraffic, each canary or linear
//     step) and reads it back.
//   - [Provisioner] makes and removes the blue/green replacement side: a
//     replacement fleet, or an ECS task set (ECS Install).
//   - [HookInvoker] runs a Lambda or ECS validation hook and returns
//     Succeeded or Failed (API Reference,
//     PutLifecycleEventHookExecutionStatus).
//
// [Platform.Validate] names every role a deployment would need and the
// platform lacks. Every role method takes a context first and pure data; a
// failed hook is a result ([EventResult] with Status Failed), while a
// returned error means the work could not be done at all. Errors wrapping
// [ErrTargetUnavailable] mean the target is gone or unreachable: the
// executor fails that target and carries on.
//
// # Writing a platform
//
// Implement the roles your platform needs, each as its own small type, and
// assemble them:
//
//	p := target.Platform{Lister: myFleet, Installer: myAgent, TrafficController: myELB}
//	if err := p.Validate(config.Server, target.InPlace, true); err != nil {
//		return err // names each missing role
//	}
//
// Check each implementation at compile time (var _ target.Installer =
// (*MyAgent)(nil)), honour the context (return its error promptly and stop
// any work started), report hook failures as results, and wrap
// [ErrTargetUnavailable] and [ErrNotFound] where the method contracts say.
// An Installer must be safe for concurrent calls on different targets; the
// executor never runs two events of one target at once. Package targettest
// has a scriptable in-memory fleet to test an executor against, and shows
// each contract in running code.
package target

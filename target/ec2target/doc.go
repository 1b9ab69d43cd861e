// Package ec2target runs fleetdeploy's Server deployments on Amazon EC2 and
// EC2 Auto Scaling through aws-sdk-go-v2: a [Lister] that finds a
// deployment group's instances as CodeDeploy does, and a [Provisioner]
// that makes, finds and removes the replacement fleet of a blue/green
// deployment, and [ScalingEvents] with [InstallHooks] that bring the
// instances Auto Scaling launches and terminates to package deploy's launch
// and termination deployments. Running the lifecycle scripts on the
// instances stays the Installer's (the caller's agent, or
// target/localtarget).
//
//	cfg, err := config.LoadDefaultConfig(ctx)
//	ec2c, asc := ec2.NewFromConfig(cfg), autoscaling.NewFromConfig(cfg)
//	lister, err := ec2target.NewLister(ec2c, asc)
//	prov, err := ec2target.NewProvisioner(ec2c, asc, func(o *ec2target.Options) { o.Logger = logger })
//	platform := target.Platform{Lister: lister, Provisioner: prov, Installer: agent, TrafficController: elb}
//
// Both take narrow client interfaces holding only the operations they call
// (a *ec2.Client and a *autoscaling.Client fit, and so does a wrapper
// around them), optional settings in [Options] set by functional options,
// wait only on Options.Clock, and log through Options.Logger. Errors of
// the SDK are wrapped with %w, so its smithy.APIError stays reachable with
// errors.As, and name the instance or group concerned.
//
// # Listing
//
// [Lister.ListTargets] resolves a target.Selector: the instances matching
// any EC2 tag filter (KEY_ONLY, VALUE_ONLY, KEY_AND_VALUE), those matching
// the EC2 tag set (a filter of every tag group), and the instances of the
// named Auto Scaling groups — the union, each instance once. It lists the
// states CodeDeploy targets: pending, running, and also stopping and
// stopped instances, which CodeDeploy still deploys to and counts like
// failed ones, marked target.Target.Unavailable (the executor records them
// unhealthy); shutting-down and terminated instances are left out. Zone is
// the Availability Zone. DescribeInstances is read to its last page.
//
// On-premises tag filters and tag sets are ignored, not an error: those
// instances are registered with CodeDeploy rather than EC2, and CodeDeploy
// lets a deployment group combine both kinds, so a caller with on-premises
// instances lists them with another Lister and joins the lists.
//
// # Blue/green
//
// [Provisioner.ProvisionReplacements] with COPY_AUTO_SCALING_GROUP copies
// the originals' Auto Scaling group into CodeDeploy_<group>_<deploymentID>
// — the name CodeDeploy gives it ("How CodeDeploy names Amazon EC2 Auto
// Scaling groups" in the CodeDeploy User Guide) — with the original's
// launch template or configuration, subnets, sizes and tags, and as many
// instances as the original has healthy ones, as the User Guide describes;
// it waits, bounded by Options.ReadyTimeout, until they are InService.
// Its failures are *target.CodeError values carrying CodeDeploy's error
// codes (AUTO_SCALING_IAM_ROLE_PERMISSIONS, AUTOSCALING_VALIDATION_ERROR,
// AUTO_SCALING_CONFIGURATION, THROTTLED), which become the deployment's
// ErrorInformation.code. With DISCOVER_EXISTING it returns the instances
// the deployment's target instances select.
//
// [Provisioner.TerminateTargets] terminates originals after a successful
// deployment (and replacements after its rollback). An Auto Scaling group
// none of whose instances remain is deleted with them: the original group
// of a COPY_AUTO_SCALING_GROUP deployment is removed once its instances
// go, and the deployment group names the copy from then on (package
// deploy makes that change when the deployment succeeds). Instances of a
// group that keeps others are terminated through the group, lowering its
// desired capacity, so that it does not launch new ones in their place.
//
// # Launch and termination deployments
//
// As CodeDeploy does for a deployment group with Auto Scaling groups (User
// Guide, "Integrating CodeDeploy with Amazon EC2 Auto Scaling"),
// [InstallHooks] puts lifecycle hooks on the group's Auto Scaling groups: a
// launch hook (default result ABANDON) and, with termination deployments
// enabled, a termination hook (default result CONTINUE), each named
// [HookName] and notifying an SQS queue with the deployment group in its
// NotificationMetadata ([HookMetadata]). It is idempotent; [RemoveHooks]
// takes the hooks away.
//
// [ScalingEvents] is the target.ScalingEvents that package deploy's
// Executor.ServeScalingEvents reads: NextScalingEvent long-polls the queue
// and turns each lifecycle notification into a target.ScalingEvent (the
// action token as ID, the instance described as the Lister lists it);
// Heartbeat is RecordLifecycleActionHeartbeat, Complete is
// CompleteLifecycleAction. A notification is deleted only once its action
// is completed, so a process that crashes in the middle leaves it to
// another after the queue's visibility timeout; test notifications
// (autoscaling:TEST_NOTIFICATION), unreadable ones (logged at Warn) and
// those of actions that are over are deleted unanswered. Notifications sent
// through an SNS topic to the queue are unwrapped.
//
//	err := ec2target.InstallHooks(ctx, asc, ec2target.HookSpec{ApplicationName: "shop", DeploymentGroupName: "prod",
//		AutoScalingGroups: []string{"web"}, TerminationHookEnabled: true, QueueARN: queueARN, RoleARN: roleARN})
//	events, err := ec2target.NewScalingEvents(asc, sqs.NewFromConfig(cfg), ec2c, queueURL)
//	platform.ScalingEvents = events
//	err = executor.ServeScalingEvents(ctx)
//
// # Testing
//
// The package's tests run against moto (a protocol peer of EC2, Auto
// Scaling and SQS) and wrap the real client where moto cannot produce a
// state (instances Pending for a while) or lacks an operation: moto keeps
// lifecycle hooks (without their notification target or metadata) but
// sends no lifecycle notifications and has neither
// RecordLifecycleActionHeartbeat nor CompleteLifecycleAction, so the tests
// put the notifications into moto's queue in Auto Scaling's format and
// answer lifecycle actions with a wrapper that checks the hook through
// moto. The SDK's serialization always runs.
package ec2target

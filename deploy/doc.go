// Package deploy is fleetdeploy's deployment engine: the model of
// applications, deployment groups, deployments and per-target progress,
// spelled as AWS CodeDeploy spells it; the Store interfaces that keep it;
// and the [Executor], which runs deployments against a [target.Platform]
// with CodeDeploy's semantics: the health model of the User Guide's
// "CodeDeploy instance health", the deployment group settings of the API
// Reference's CreateDeploymentGroup, and CodeDeploy's statuses, error
// codes, rollbacks and stops. Where AWS is silent the package follows
// fleetdeploy's recorded decisions (package fleetdeploy, "Where fleetdeploy
// decides"; the sections below name the ones that concern it).
//
// # The executor
//
// [New] builds an Executor from a Store and a target.Platform (the roles
// that list targets, run lifecycle events, move traffic, provision
// replacements and invoke hooks), with optional settings in [Options]: the
// clock, a logger, an [Observer], [Notifier]s, an alarm source, a revision
// source for Lambda and ECS AppSpecs, custom configurations, a concurrency
// cap. Then:
//
//	d, err := x.CreateDeployment(ctx, deploy.DeploymentInput{
//		ApplicationName: "shop", GroupName: "prod", Revision: rev})
//	d, err = x.Run(ctx, d.ID) // to the end; d.Status is final
//
// [Executor.CreateDeployment] validates the group, the configuration and the
// revision, lists the group's targets through the Lister and records each
// with its health from the group's instance records (see "Model" below). It
// takes the group's active slot or fails with an [*ActiveDeploymentError].
//
// [Executor.Run] asks the planner (package plan) what to do, and does it:
// each target the planner starts is recorded InProgress, then runs the
// lifecycle events of its situation (target.Sequence: in-place, with or
// without a load balancer; blue/green replacement or original; a rollback)
// through the Installer and the TrafficController; each event's status,
// times and diagnostics are recorded in the target's record
// (Options.RecordInterval says when writes are combined). Targets run
// concurrently on worker goroutines — bounded by the planner's window and
// Options.Concurrency — and a target that fails is data for the planner, not
// an error. Deployment-wide steps — Lambda and ECS hooks through the
// HookInvoker (with the one-hour deadline of the User Guide's "AppSpec
// 'hooks' section" on the executor's clock), traffic shifts through the
// TrafficShifter, the ECS replacement task set and the removal of blue/green
// originals through the Provisioner — are recorded on the one target that
// stands for the function or service. Waits (a zonal monitor, a blue/green
// ready or termination wait, the next traffic shift) use the injected clock;
// alarms are polled throughout (Options.AlarmSource, every
// Options.PollInterval).
//
// When the planner is done, the deployment is finished: targets
// never started become Skipped; the group's instance records get each
// target's new health ([InstanceRecord.AfterDeployment]); on success the
// group's target revision becomes the deployed one; the group's last
// successful and last attempted deployments are updated; and only then is
// the deployment's status final. A deployment that fails or is stopped is
// not an error of Run: it returns the deployment with its status and
// ErrorInformation (CodeDeploy's error codes, with the planner's
// explanation in words). An error means trouble that kept Run from going
// on — a store write that failed is a [*DeploymentError] naming what was
// being written — and leaves the deployment resumable.
//
// [Executor.Stop] stops a deployment (User Guide, "Stop a deployment with
// CodeDeploy"): no lifecycle event starts after it; running ones finish, or
// are cancelled and recorded Failed with StopOptions.AbortRunningEvents
// (fleetdeploy's decision: AWS does not say whether a stop kills running
// scripts). [Executor.Continue] ends a blue/green ready or termination wait.
// Both store their request with the deployment, so they work from any
// goroutine or any process sharing the store: an Executor running the
// deployment sees a request made through it at once, and one made elsewhere
// at its next poll.
//
// # Crash safety
//
// All progress lives in the store, written before it is acted on: the
// planner's deployment-level progress before any work of a decision
// starts, a target's InProgress before its first event. [Executor.Resume]
// — in a new process, after a crash, or after Run returned an error —
// reloads the deployment, its progress and every target, and continues
// from there.
//
// A lifecycle event whose outcome is stored is never performed again,
// whoever resumes the deployment; only an event whose outcome the crash
// kept from the store may be. Exactly these are performed again:
//
//   - Server: of a target stored InProgress, the events of its phase from
//     the first one its record does not show ended (Succeeded, Failed or
//     Skipped). With every transition written (Options.RecordInterval < 0)
//     that is the event in flight at the crash; when writes are combined,
//     it is the first event whose end was waiting for the next write. The
//     planner counts such targets as in flight, so the minimum healthy
//     hosts bound holds across the crash. Targets stored Succeeded or
//     Failed never run again, and a replacement stored Ready is not
//     installed again.
//   - Lambda and ECS: the step the stored progress names as issued, when
//     its lifecycle event is stored InProgress on the function or service
//     target: a hook or reserved event in flight at the crash (a hook
//     invoked again gets the same execution ID), or AllowTraffic between
//     two shifts, whose current shift is made again — to the weight it was
//     moving traffic to, never a later one. An event stored Succeeded or
//     Failed is not performed: its stored outcome is what the planner gets.
//   - The removal of a blue/green deployment's originals, which no target
//     records: when the crash came before the progress stored its end, the
//     originals are removed again (the Provisioner takes targets already
//     gone).
//
// A Server blue/green deployment stores its replacement fleet as soon as
// the Provisioner has made it, before it starts; resumed, even while still
// Created, it goes on with the stored replacements. When the crash came
// before they were stored — or, on ECS, after Install stored the
// replacement task set as made — the Provisioner is asked again and returns
// the replacements it made (its contract): no second fleet or task set is
// made, and none is left behind.
//
// The end is decided and stored (Progress.Ending) before the group and the
// instance records are updated, and every finishing write can be repeated,
// so a crash while finishing ends the same way. Follow-up deployments get
// their IDs before the deployment becomes final, so a crash never creates
// one twice. deploytest.CrashAfter crashes a run after any write to test
// this; the package's tests do it for every write of a deployment.
//
// A write that fails leaves the stored state as it was. One store write
// per target transition — never a rewrite of the fleet — keeps a
// million-target deployment cheap; the overview counters are kept in
// memory, stored with the deployment when it is written anyway and at
// each poll, and recomputed from the targets on Resume.
//
// # Queued deployments
//
// CodeDeploy refuses a deployment while its group has an active one
// (CreateDeployment returns an *ActiveDeploymentError naming it), and so
// does the Executor by default. With Options.Queue it queues instead
// (fleetdeploy's decision; CodeDeploy has no such option): QueueFIFO
// stores the deployment Queued, to start when the deployments before it
// have ended, oldest first; QueueSupersede also ends the older queued
// deployments Stopped, naming the newer one, so a late build never
// overwrites a newer one. The executor that ends a deployment — Run,
// Resume, or Supervise's takeover — starts the next queued one under that
// deployment's lease (its previous revision and its targets' starting
// health are brought up to date then, from what the deployments before it
// left) and runs it; should every executor be down at that moment,
// Supervise starts the queue once LeaseTTL has passed. Stop ends a
// queued deployment at once; Run and Resume refuse one (ErrQueued).
//
// # Rollbacks
//
// A deployment that fails with DEPLOYMENT_FAILURE in its (or its group's)
// automatic rollback configuration, that an alarm stops with
// DEPLOYMENT_STOP_ON_ALARM, or that is stopped with rollback asked for, is
// rolled back (User Guide, "Redeploy and roll back a deployment with
// CodeDeploy"): Run creates a new deployment — creator codeDeployRollback —
// of the group's last successful revision, with the file-exists behavior of
// the group's last successful deployment (the one that installed that
// revision, not the failed one), links the two through RollbackInfo, and
// runs it to the end too. A rollback of an in-place
// deployment runs the in-place events again; of a blue/green one, allows
// traffic back on the originals and blocks it on the replacements, then —
// once it succeeded, and when the executor made the replacement fleet
// (COPY_AUTO_SCALING_GROUP) — terminates the replacements through the
// Provisioner (discovered instances, DISCOVER_EXISTING, are the caller's and
// stay, out of service); rollbacks are never zonal and never rolled back.
//
// A rollback of a Lambda or ECS deployment moves all traffic straight back,
// at once — it carries the rolled-back deployment's configuration name, as
// CodeDeploy's rollbacks do, but not its canary or linear schedule — to the
// function version or task set that was live before the rolled-back
// deployment — recorded in its Progress.Original — away from what the route
// serves now (read through TrafficShifter.CurrentTraffic). It does not
// replay the rolled-back revision's canary from the CurrentVersion its
// AppSpec names, which would send most traffic to an even older version for
// a whole interval. That is how CodeDeploy rolls back an ECS deployment — it
// reroutes traffic from the replacement task set back to the original
// ("Redeploy and roll back a deployment with CodeDeploy") — and fleetdeploy
// decides the same for Lambda. An ECS rollback makes no task set: its
// Install names the original task set, and with TERMINATE its
// TerminateOriginals removes the failed replacement task set.
//
// Rollback deployments do not poll alarms: the alarm that stopped the
// rolled-back deployment still reads ALARM until the rollback has moved
// traffic back, and must not stop the rollback too. When the group has no
// earlier successful revision, no rollback is created and
// RollbackInfo.RollbackMessage says so (fleetdeploy's decision: AWS does not
// say what happens then). A manual rollback or
// redeploy is CreateDeployment with any earlier revision.
//
// # Launch and termination deployments
//
// Instances that Auto Scaling launches or terminates get deployments of
// their own (User Guide, "Integrating CodeDeploy with Amazon EC2 Auto
// Scaling"). The platform's target.ScalingEvents role delivers the
// lifecycle actions (for EC2, from Auto Scaling's lifecycle hooks); either
// [Executor.ServeScalingEvents] takes them in a loop, or the caller hands
// each to [Executor.HandleScalingEvent]. Each gets a heartbeat every
// Options.ScalingHeartbeat (5 minutes, as CodeDeploy) and an answer:
//
//   - A launch deployment (creator autoscaling) installs the group's
//     target revision — its last successful deployment's — with the full
//     in-place sequence, and the allow-traffic events behind a load
//     balancer. It answers CONTINUE when it succeeds and ABANDON when an
//     event fails, so Auto Scaling replaces the instance. A group with no
//     successful deployment yet answers CONTINUE and deploys nothing.
//   - A termination deployment (creator autoscalingTermination) runs only
//     when Group.TerminationHookEnabled is set (Validate refuses it on a
//     Lambda or ECS group): BeforeBlockTraffic, BlockTraffic and
//     AfterBlockTraffic behind a load balancer, then ApplicationStop, for
//     the revision the instance runs. The events are those the User
//     Guide's "AppSpec 'hooks' section" lists as available to termination
//     deployments; their order is fleetdeploy's decision, as AWS shows it
//     only in a diagram. It always answers CONTINUE, even when an event
//     failed. Without the hook nothing runs.
//
// A failed event fails a launch or termination deployment with
// HEALTH_CONSTRAINTS, or with the code its role's error stands for as in
// any deployment (AGENT_ISSUE, THROTTLED after the retries, a
// *target.CodeError's code; see "Error codes").
//
// These deployments run beside a deployment of the group, not in its
// active slot, so an instance launched while one runs gets the previous
// revision and is outdated (API Reference, CreateDeploymentGroup,
// outdatedInstancesStrategy): with outdatedInstancesStrategy UPDATE, a
// successful in-place deployment is followed by one of the same revision
// to the outdated instances only (creator CodeDeployAutoUpdate,
// configuration [AutoUpdateConfigName], linked through
// RelatedDeployments), which Run runs too; IGNORE leaves them on the
// previous revision.
//
// # Time limits
//
// The executor bounds what it waits for on its own clock, whatever its
// collaborators do. By default the bounds are CodeDeploy's (User Guide,
// "CodeDeploy quotas"); each is an Options field whose zero value gets
// CodeDeploy's figure and whose negative value turns the bound off, and
// the option NoTimeLimits turns them all off (a later option may set some
// again):
//
//   - Options.EventTimeout (DefaultEventTimeout, CodeDeploy's 3600 s per
//     lifecycle event): a Server event performed by the Installer. With
//     Options.Source the executor reads the revision's AppSpec, and an
//     event whose scripts it names gets the sum of their timeouts (an hour
//     each where none is given, as the agent runs them), at most
//     EventTimeout. At the limit the Installer's context is cancelled and
//     the event fails with ScriptTimedOut at once, even if the Installer
//     never returns. Events of scaling deployments (HandleScalingEvent) get
//     EventTimeout.
//   - Options.TrafficTimeout (DefaultTrafficTimeout, an hour): AllowTraffic
//     and BlockTraffic through the TrafficController; the event fails
//     (UnknownError) at the limit with its context cancelled.
//   - Options.MaxRunTime: in-place 12 h (CodeDeploy's 8 h for custom
//     configurations created before June 2023 is not modelled), EC2
//     blue/green 109 h, Lambda 50 h, ECS 173 h (fleetdeploy's figure; the
//     quotas page gives none). It counts from the deployment's stored start,
//     so an executor that resumes or takes it over ends it when the first
//     would have, and every wait counts — bakes, the blue/green ready and
//     termination waits, waits for ContinueDeployment — as CodeDeploy's
//     figures are built from those waits. A deployment still running then
//     (under Run or Step) ends Failed with TIMEOUT: no event starts any
//     more, running ones are cut off and recorded failed, and it rolls back
//     when its group rolls back on DEPLOYMENT_FAILURE.
//
// A call cut off — by a stop with AbortRunningEvents, the maximum run time,
// or the end of the run — has its context cancelled, and the executor waits
// for it until it returns or reaches its own limit, whichever comes first:
// a collaborator that honours its context never sees two calls on one
// target at once, and one that ignores it delays the end by at most its
// event's limit. The bounds cost no allocation per event: a run has one
// watchdog goroutine with at most one timer on the clock, and each worker
// one goroutine it hands its calls to. On a fake clock that a test moves
// to the next timer whenever some timer is pending, the watchdog's timer is
// one of them.
//
// Lambda and ECS hooks have their own bound, Options.HookTimeout.
//
// # Error codes
//
// A deployment that fails or is stopped carries one of CodeDeploy's error
// codes in ErrorInformation.Code (API Reference, ErrorInformation) and
// what happened, in words, in ErrorInformation.Message. fleetdeploy
// produces:
//
//   - HEALTH_CONSTRAINTS and HEALTH_CONSTRAINTS_INVALID, NO_INSTANCES: the
//     planner (package plan), from the targets' outcomes and the minimum
//     healthy hosts.
//   - AGENT_ISSUE: every failed target's Installer could not reach it (an
//     error wrapping target.ErrTargetUnavailable). Such a target fails at
//     once, its event recorded Failed with UnknownError and
//     Diagnostics.DeploymentErrorCode AGENT_ISSUE, instead of waiting out
//     its scripts' timeouts as a dead CodeDeploy agent makes CodeDeploy
//     wait; a failed script is a failed event, never AGENT_ISSUE.
//   - ELB_INVALID_INSTANCE, ELASTIC_LOAD_BALANCING_INVALID,
//     IAM_ROLE_PERMISSIONS, TIMEOUT and any other code a role's
//     *target.CodeError carries (elbtarget's errors are one to errors.As):
//     every failed target's TrafficController call failed with it. A
//     TrafficController error that only wraps target.ErrTargetUnavailable
//     is ELB_INVALID_INSTANCE. Failed targets with different codes, or a
//     failed script among them, leave HEALTH_CONSTRAINTS.
//   - THROTTLED: a role's call throttled by its platform (a
//     *target.CodeError with code THROTTLED; ec2target, elbtarget,
//     lambdatarget and ecstarget map the services' throttling errors so)
//     is retried 4 times, 1, 2, 4 and 8 s apart on the executor's clock,
//     and fails with THROTTLED when still throttled — a Server event's
//     target, or a Lambda or ECS step, or the provisioning of a
//     replacement fleet.
//   - AUTO_SCALING_CONFIGURATION, AUTO_SCALING_IAM_ROLE_PERMISSIONS,
//     INVALID_LAMBDA_CONFIGURATION, INVALID_LAMBDA_FUNCTION,
//     INVALID_ECS_SERVICE, ECS_UPDATE_ERROR: a Provisioner's or
//     TrafficShifter's *target.CodeError (ec2target, lambdatarget,
//     ecstarget); ECS_UPDATE_ERROR also for a failed reserved ECS event.
//   - HOOK_EXECUTION_FAILURE: a Lambda or ECS hook reported Failed or did
//     not report within Options.HookTimeout.
//   - REVISION_MISSING, INVALID_REVISION: the revision read through
//     Options.Source.
//   - ALARM_ACTIVE, MANUAL_STOP: an alarm or Executor.Stop stopped it;
//     TIMEOUT also for a blue/green ready wait that expired.
//   - INTERNAL_ERROR: anything else (a role's error without a code, a
//     deployment that could not be created in full).
//
// It never produces, by design — unless a role of the caller's reports one
// in a *target.CodeError:
//
//   - OVER_MAX_INSTANCES and RESOURCE_LIMIT_EXCEEDED: fleetdeploy has no
//     limit on the targets of a deployment or on deployments (CodeDeploy
//     caps a deployment at 500 instances by default).
//   - APPLICATION_MISSING, DEPLOYMENT_GROUP_MISSING,
//     MISSING_BLUE_GREEN_DEPLOYMENT_CONFIGURATION, MISSING_ELB_INFORMATION,
//     AUTOSCALING_VALIDATION_ERROR: CreateDeployment rejects such input
//     with an error (ErrNotFound, ErrInvalidGroup) before any deployment
//     exists, and a running deployment keeps the copy of its group's
//     settings it was created with.
//   - IAM_ROLE_MISSING, NO_EC2_SUBSCRIPTION, MISSING_GITHUB_TOKEN,
//     CLOUDFORMATION_STACK_FAILURE, CODEDEPLOY_RESOURCE_CANNOT_BE_FOUND:
//     they are about CodeDeploy's own service — its service role, an
//     account's EC2 subscription, its GitHub connection, its
//     CloudFormation hooks, its resources — which fleetdeploy, a library
//     in the caller's process with the caller's credentials, does not have.
//   - CUSTOMER_APPLICATION_UNHEALTHY: fleetdeploy's blue/green and ECS
//     deployments report an unhealthy replacement as the failed targets or
//     the failed hook that its roles report, with those codes.
//
// # Events
//
// An [Observer] sees every transition synchronously: each deployment
// status, each target status, each lifecycle event (its start, its end
// with diagnostics). [Notifier]s get CodeDeploy's trigger notifications
// (DeploymentStart, DeploymentSuccess, DeploymentFailure, DeploymentStop,
// DeploymentRollback, DeploymentReady, InstanceStart, InstanceSuccess,
// InstanceFailure, InstanceReady) for the event types the group's
// TriggerConfigurations list, once per trigger; a notification a Notifier
// fails to deliver is logged and reaches the Observer as
// EventNotificationFailed, and the deployment goes on (packages snsnotify
// and eventbridgenotify deliver them to Amazon SNS and EventBridge). Logs go to
// Options.Logger: deployment changes at Info, target transitions at Debug.
// deploytest.Recorder is an Observer and a Notifier that records
// everything, for tests.
//
// # Lambda and ECS hooks: how hook functions report back
//
// A Lambda or ECS deployment's hooks (the AppSpec's Hooks section:
// BeforeAllowTraffic, AfterAllowTraffic, and for ECS BeforeInstall,
// AfterInstall, AfterAllowTestTraffic) are functions that validate the
// deployment and do not return their verdict: as with CodeDeploy (User
// Guide, "AppSpec 'hooks' section"), each is invoked with the deployment
// ID and a LifecycleEventHookExecutionId, and calls
// PutLifecycleEventHookExecutionStatus with Succeeded or Failed. Here that
// call is [Executor.PutLifecycleEventHookExecutionStatus], and package
// codedeployapi serves it over CodeDeploy's own wire protocol, so that an
// unmodified hook function whose CodeDeploy client's endpoint points at
// the handler works as it does with CodeDeploy.
//
// The executor stores each execution with its deployment
// (Deployment.HookExecutions) before it invokes the function, and hands
// the HookInvoker a target.HookReports (HookRequest.Reports) that waits
// for the report: at once when it is taken by the same Executor, at the
// next Options.PollInterval when another Executor sharing the store (an
// API front end) takes it. The report is stored like a stop request — any
// executor may take it, without the deployment's lease, and the lease
// holder's writes keep it (they are compare-and-swap, and a conflict
// re-reads the requests) — so a report that arrives while no executor runs
// the deployment is the hook's outcome once it is resumed, and the hook is
// not invoked again. A hook without a report within Options.HookTimeout
// (an hour, as in CodeDeploy) fails with ScriptTimedOut; a report after
// that, or a second report, is refused with
// [ErrLifecycleEventAlreadyCompleted]. A report is the hook's outcome even
// when it is stored at the instant the hour runs out.
//
// # Driving your own loop
//
// [Executor.Step] performs one round: it loads the deployment from the
// store, passes on requests, asks the planner for one decision, runs the
// work it hands out to completion, records everything, and returns what
// it did and when to call again (StepResult.WaitUntil). Nothing runs
// between calls, so a scheduler, a workflow engine or a test can drive a
// deployment from any process, one call at a time, with time entirely in
// its hands. Step finishes the deployment like Run, and creates its
// rollback or auto-update deployment without running it.
//
// # Model
//
// An [Application] has deployment groups. A [Group] says which targets a
// deployment goes to (a target.Selector), with which deployment
// configuration (by name, resolved with [Group.ResolveConfig]), in which
// style (in-place or blue/green, with or without traffic control), and what
// happens on failure (automatic rollback), when alarms fire, and whom to
// notify. [Group.Validate] reports every rule of CodeDeploy's
// CreateDeploymentGroup a group breaks, in one *multierror.Error of
// [*Problem] values, each naming the field as CodeDeploy's API does
// ("alarmConfiguration.alarms[2].name").
//
// A [Deployment] deploys one revision to one group. It carries snapshots
// of what it runs with — the resolved configuration, the deployment style,
// the load balancers, the blue/green settings — so that a later change to
// the group or to a custom configuration does not change a deployment in
// flight. Its status is a [DeploymentStatus]; Succeeded, Failed and
// Stopped are final ([DeploymentStatus.Final]). Why it failed is an
// [ErrorCode]; a stop request ([StopRequest]) and the phase state of a
// zonal, traffic-shifting or blue/green deployment ([Progress]) are
// persisted with it so any process can stop it and any process can resume
// it.
//
// Each target of a deployment has its own [DeploymentTarget] record: its
// snapshot, its health when the deployment was created, its status and its
// lifecycle events. A target's transition is therefore one small write,
// however large the fleet.
//
// Across deployments, a group remembers each target's health in an
// [InstanceRecord]: its instance health and the revision last installed on
// it. Revision health (Current, Old, Unknown; User Guide, "CodeDeploy
// instance health") is derived from that revision and the group's target
// revision ([InstanceRecord.RevisionHealth]), and
// [InstanceRecord.AfterDeployment] applies that page's rules when a
// deployment ends.
//
// # Stores
//
// A [Store] is five small interfaces: [ApplicationStore], [GroupStore],
// [DeploymentStore], [TargetStore] and [InstanceStore]. [NewMemoryStore]
// returns an in-memory Store for tests, examples and single-process use;
// package deploy/dynamostore is a Store over Amazon DynamoDB, which
// executors in many processes can share.
//
// Every record has a Version the store maintains: 1 when created, one more
// on each update. Create methods set it (and assign IDs left empty) in the
// value passed; update methods write only if the value carries the stored
// Version — a compare-and-swap — and otherwise return [ErrConflict],
// leaving the stored record as it was. The usual loop is: get, change,
// update; on ErrConflict, get again.
//
// Errors wrap one of the sentinels ([ErrNotFound], [ErrConflict],
// [ErrAlreadyExists], [ErrActiveDeployment], [ErrDeploymentCompleted],
// [ErrInvalidArgument]), usually inside a [RecordError] that names the
// record: "deploy: deployment d-4R7TQ8WX1: not found". Test with errors.Is.
//
// A group has at most one active deployment ([DeploymentStatus.IsActive]:
// Created, InProgress, Baking, Ready). [DeploymentStore.CreateDeployment]
// refuses a second one with an [*ActiveDeploymentError] that names the
// first, as CodeDeploy does ("The Deployment Group 'prod' already has an
// active Deployment 'd-4R7TQ8WX1'"); moving a deployment to a final status
// frees the group in the same write.
//
// # Writing a store
//
// A Store for a database implements the six interfaces and runs the
// conformance suite of package deploytest in its tests. The suite asks
// for a fresh, empty storage per check and opens handles on it — a new
// client each, as another process would — to check that the rules hold
// between processes, not only within one:
//
//	func TestStore(t *testing.T) {
//		deploytest.TestStore(t, func(t *testing.T) deploytest.Opener {
//			table := mystore.NewTable(t, ...) // fresh, empty tables for this check
//			return func() deploy.Store {
//				return mystore.Open(table) // a new handle on them per call
//			}
//		})
//	}
//
// The contract, method by method, is in the interfaces' documentation. In
// short:
//
//   - Each method changes nothing when it returns an error, and returns
//     ctx's error (wrapped) without doing anything when ctx is done.
//   - Records are copied in and out: no caller may reach stored state
//     through a pointer, slice or map. Empty slices and maps may come back
//     nil. Times must come back as the same instant (to the nanosecond);
//     their location and monotonic reading need not survive.
//   - Updates are compare-and-swap on Version.
//   - The one-active-deployment rule must hold across processes: a
//     conditional write (a unique index on the group's active slot, a
//     DynamoDB condition expression, a transaction) — never a read
//     followed by a write.
//   - UpdateTarget writes one record; ListTargets pages in the order the
//     targets were put. PutTargets and PutInstances are all or none.
//   - A lease is kept with its deployment, and each lease change is one
//     conditional write on the token it replaces. Every write of a
//     fenced view checks the lease in the same atomic operation as the
//     write (a transaction with a condition on the lease, for DynamoDB):
//     a read of the lease followed by the write lets a takeover in between.
//     Lease times are the callers'; the store never reads a clock.
//
// Wrap a Store with deploytest.FaultStore to inject write failures and
// crashes into the code that uses it.
//
// # Optional store interfaces
//
// The Executor needs nothing of a store but [Store]. A store may also
// implement optional interfaces that give it a faster way to do what it
// otherwise does through the Store methods; the Executor finds them by type
// assertion, on the store it writes through — for a run, the view
// [LeaseStore.Fenced] returns, which must implement whatever the store
// implements, fenced the same way:
//
//   - [TargetUpdaterAt]: UpdateTarget with the record's position in
//     ListTargets order, a hint that spares looking the target up.
//   - [InstanceBatchGetter]: the instance records of the deployment's
//     targets only, rather than all of the group's (GetInstances).
//
// Their methods' results, errors and fencing are those of the Store methods
// they stand for, and deploytest.TestStore checks that for every store
// that implements them. [MemoryStore] implements both. A type that
// embeds a store inherits its optional methods: one that changes a Store
// method (counting or failing writes) must change the optional counterpart
// too, or hide it, or the Executor bypasses the change.
//
// # Several executors: leases
//
// Several executors, in one process or in many, may share one Store, and
// exactly one of them drives a deployment at any moment. [Executor.Run],
// [Executor.Resume] and [Executor.Step] first take the deployment's
// [Lease] in the store — its owner is the executor's ID
// (Options.ExecutorID), its expiry on the executor's clock
// (Options.LeaseTTL, 30 s by default), and its fencing token grows on every
// takeover — and read the deployment afresh under it. While it runs, the
// executor renews the lease every LeaseTTL/3 (one store write per
// deployment, whatever the number of targets), and checks before every
// lifecycle event that the lease is valid, renewing it first if it has
// expired. Every write it makes for the deployment goes through the store
// fenced by the lease ([LeaseStore].Fenced): an executor that was paused,
// partitioned or slow and wakes up after another one took the deployment
// over gets a [*LeaseLostError] ([ErrLeaseLost], naming the new owner) on
// its next write, and stops without starting another event. When a run
// ends, for whatever reason, the lease is released.
//
// Resume of a deployment whose lease another executor holds returns a
// [*LeaseHeldError] ([ErrLeaseHeld]) at once, without running anything;
// once the lease has expired, any executor may take the deployment over
// and continue from the stored state. [Executor.Supervise] does that
// without a human: every executor process of a fleet runs it, and it
// resumes the deployments whose lease expired — a crashed executor's work
// is taken over within LeaseTTL plus the supervise interval (40 s with the
// defaults). Stop and Continue are requests stored with the deployment:
// they work from any executor, whichever one drives it.
//
// Each process needs its own ExecutorID. A process restarted with the ID
// it had (a pod or host name) takes its deployments back at once; one with
// a new ID waits for their leases to expire.
//
// Fencing makes stored state safe; it cannot recall work already handed to
// a platform. A lifecycle event that a cut-off executor started before its
// lease expired may still be running when the new owner runs that target
// again, so Installers should end their work when the executor process
// ends (the local agent's hooks die with it).
//
// # Concurrency
//
// Stores are safe for concurrent use. Nothing in the model is shared
// between copies, so records may be handed between goroutines freely.
package deploy

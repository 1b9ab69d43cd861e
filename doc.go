// Package fleetdeploy is AWS CodeDeploy's deployment engine as plain Go
// packages: the same deployment configurations, the same health model and
// scheduling order, the same lifecycle events, rollbacks and success rules,
// running against your own stores, clocks, fleets and clouds. No AWS account
// is needed to use it or to test with it.
//
// This package holds only documentation; the library is its subpackages.
//
// # The packages
//
//	config       deployment configurations: predefined and custom, minimum
//	             healthy hosts, zonal configuration, traffic routing
//	health       instance and revision health, scheduling order, minimum-
//	             healthy arithmetic, success rules (pure)
//	deploy/plan  the pure planner: a deployment's state in, what to do next
//	             out; Preview runs a whole rollout in virtual time
//	deploy/plan/scenario
//	             preview scenarios as JSON documents (test fixtures):
//	             decode, check every rule at once, turn into a PreviewInput
//	deploy/plan/plansvg
//	             a schedule drawn as an SVG timeline: lanes by zone and
//	             wave, bakes, failures, healthy count, traffic
//	deploy       the executor, the deployment model and the Store interfaces,
//	             with an in-memory store
//	deploy/clock the injectable clock; a fake one for tests and simulations
//	revision     where revisions live, AppSpec files, bundles and sources
//	target       targets, deployment-group selectors, lifecycle events, and
//	             the role interfaces a compute platform implements
//	target/localtarget
//	             an on-host agent: a fleet of instances that are directories
//	             on this machine, with real hook processes
//	target/localtraffic
//	             a weighted local HTTP proxy (traffic shifting, block/allow)
//	             and an alarm source over its 5xx rate
//
// The adapters to cloud services; the AWS ones are the only packages that
// link the AWS SDK:
//
//	target/ec2target        EC2 instances and Auto Scaling groups, and their
//	                        lifecycle hooks (launch and termination deployments)
//	target/elbtarget        Classic Load Balancers and ELBv2 target groups
//	target/ecstarget        ECS task sets and listener traffic (EXTERNAL services)
//	target/cloudwatchalarm  an alarm source over CloudWatch alarms
//	target/lambdatarget     Lambda alias traffic shifting and hook functions
//	revision/s3revision     a revision Source for Amazon S3
//	revision/githubrevision a revision Source for GitHub commits
//	deploy/dynamostore      a shared Store over Amazon DynamoDB
//	deploy/snsnotify        trigger notifications to Amazon SNS
//	deploy/eventbridgenotify
//	                        trigger notifications to Amazon EventBridge
//	deploy/codedeployimport applications, deployment groups and custom
//	                        configurations imported from AWS CodeDeploy
//
// And one package serves CodeDeploy's own API, without the SDK:
//
//	deploy/codedeployapi    an http.Handler speaking CodeDeploy's JSON 1.1
//	                        protocol (PutLifecycleEventHookExecutionStatus),
//	                        through which Lambda and ECS hook functions
//	                        report back
//
// The programs under examples/ show it working: quickstart (a deployment to
// a local fleet, with a failure and an automatic rollback), preview (a JSON
// scenario in, the rollout's schedule out), canary (traffic shifting
// through the local proxy, an alarm, a rollback), ha (executor processes
// sharing a DynamoDB table, one killed half-way), aws (the Server
// platform's AWS adapters at work against moto, with no AWS account) and
// lambda (a Lambda canary on moto whose hook functions report back through
// deploy/codedeployapi with the AWS SDK's CodeDeploy client).
//
// Test kits ship beside the packages they serve: deploy/deploytest,
// revision/revisiontest and target/targettest give in-memory sources,
// scriptable fleets, fault-injecting stores, event recorders, conformance
// suites for your own implementations and a one-call simulation of the
// executor on virtual time; deploy/plan/plantest checks a schedule (or a
// simulated run) against CodeDeploy's rollout rules and generates fleets
// and configurations for property tests.
//
// # The caller's duties
//
// The library decides; you wire. You provide the compute platform (the
// roles of package target that your fleet supports), the revision sources,
// and — with the executor — the store that keeps deployment state and the
// clock it waits on. Pure parts (config, health, deploy/plan) never do I/O,
// read the clock or start goroutines, so a rollout policy can be unit-tested
// in milliseconds.
//
// # Errors
//
// Every package reports several failures at once the same way: a
// *multierror.Error (github.com/hashicorp/go-multierror) listing each one.
// Validation lists one typed problem per broken rule — a *config.Problem
// (Field, Rule, Kind, Err; target and deploy validate with it too), a
// *revision.AppSpecProblem (File, Line, Field, Rule) or a
// *revision.LocationProblem — and fan-out work lists every failure that
// matters (targets terminated, load balancers deregistered from, alarms
// polled, batches written). errors.Is matches the sentinels of every
// element, errors.As finds the first element of a type, and the Errors
// field holds them all:
//
//	var list *multierror.Error
//	if errors.As(err, &list) {
//		for _, e := range list.Errors { ... }
//	}
//
// Each list prints one way: a heading, then one indented line per element
// naming its field, rule and value (a single element shares the heading's
// line):
//
//	deploy: invalid deployment group shop/prod: 2 problems:
//	  loadBalancerInfo: is required for a Server BLUE_GREEN group (MISSING_ELB_INFORMATION): name a Classic Load Balancer or a target group
//	  alarmConfiguration.alarms[1].name: repeats "p99-latency" (also alarmConfiguration.alarms[0].name)
//
// # Sources
//
// Behaviour that comes from CodeDeploy is cited in each package's
// documentation by the title of the page that describes it: a page of the
// AWS CodeDeploy User Guide ("CodeDeploy instance health", "AppSpec 'hooks'
// section", ...) or of the CodeDeploy API Reference (MinimumHealthyHosts,
// CreateDeploymentGroup, ...), both at docs.aws.amazon.com/codedeploy.
// Where the CodeDeploy agent's behaviour matters, its source file in
// github.com/aws/aws-codedeploy-agent is named.
//
// # Where fleetdeploy decides
//
// Where CodeDeploy's documentation is silent or ambiguous, fleetdeploy
// decides, and each decision is a documented, tested behaviour. Each
// package's documentation names the ones that concern it; in short:
//
//   - Scheduling (health, deploy/plan): targets start in health order —
//     Unhealthy, then revision Unknown, Old, Current — and by ID inside a
//     class. At most N − M targets are in flight; a Healthy target goes
//     offline only while the healthy targets not in flight stay above M.
//     OneAtATime is one at a time, and only the last target may fail. A
//     deployment fails at once, touching nothing, with
//     HEALTH_CONSTRAINTS_INVALID when M ≥ N or too few targets are healthy
//     to start, and with HEALTH_CONSTRAINTS as soon as the work left may
//     not start and nothing in flight could change that.
//   - Zones (deploy/plan): one zone at a time, zones holding Unhealthy
//     targets first, then by name; a monitor wait (status Baking) after each
//     zone but the last. In the active zone a target goes offline only
//     while the fleet keeps M and the zone keeps its own minimum
//     (FLEET_PERCENT of the zone's own targets, rounded up). Rollbacks are
//     not zonal, as in CodeDeploy.
//   - Statuses (deploy/plan): Baking marks a zonal monitor wait or a
//     blue/green termination wait; Queued, a deployment waiting behind
//     another active deployment of its group.
//   - Configurations (config): AllAtOnce is HOST_COUNT 0 and HalfAtATime
//     FLEET_PERCENT 50 (the User Guide gives only "0" and "50%");
//     OneAtATime is MOST_CONCURRENCY 1, a type no custom configuration may
//     use.
//   - Traffic (config): linear schedules add the step every interval and
//     end with their own shift to 100% (30% every 10 minutes: 30, 60, 90,
//     100 at 0, 10, 20, 30 minutes).
//   - Lifecycle events (target): with a load balancer, an in-place
//     deployment's allow-traffic events come after ValidateService, and an
//     Auto Scaling termination runs BeforeBlockTraffic, BlockTraffic,
//     AfterBlockTraffic, then ApplicationStop (AWS shows both orders only
//     in diagrams).
//   - AppSpec files (revision): a Server AppSpec that the CodeDeploy agent
//     accepts is accepted and means what it means to the agent, except where
//     the AppSpec reference is explicit and the agent's reading would
//     surprise. Where the two disagree — keys the agent ignores, runas with
//     os: windows, the string "0.0" as version (which the agent refuses), an
//     event's script timeouts adding up to more than an hour (scripts left at
//     the default do not count, or the User Guide's own example would warn)
//     — the file is accepted with a warning (AppSpec.Warnings;
//     ParseOptions.Strict makes every warning an error). Lambda and ECS keys
//     match without regard to case, and there an unknown key is an error; an
//     ECS resource may carry a CapacityProviderStrategy.
//   - Revision identity (revision): S3 is bucket, key, version and ETag
//     (the last two when set); GitHub is repository and commit; inline
//     content is its SHA-256; a local bundle is its path and SHA-256. Two
//     revisions are the same iff their identities are equal.
//   - Files (target/localtarget): a deployment's fileExistsBehavior wins
//     over the AppSpec's, which wins over DISALLOW.
//   - Stopping (deploy): nothing new starts after a stop; running events
//     finish unless the caller aborts them, which kills their processes.
//   - Rollbacks (deploy): a new deployment of the last successful revision;
//     none when there is no such revision (the failed deployment says so).
//     A Lambda or ECS rollback moves all traffic back to what was live at
//     once, and rollbacks do not poll the alarms that triggered them.
package fleetdeploy

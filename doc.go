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
//	target/ec2target        EC2 instances and Auto Scaling groups
//	target/elbtarget        Classic Load Balancers and ELBv2 target groups
//	target/cloudwatchalarm  an alarm source over CloudWatch alarms
//	revision/s3revision     a revision Source for Amazon S3
//	revision/githubrevision a revision Source for GitHub commits
//	deploy/dynamostore      a shared Store over Amazon DynamoDB
//	deploy/snsnotify        trigger notifications to Amazon SNS
//	deploy/eventbridgenotify
//	                        trigger notifications to Amazon EventBridge
//
// The programs under examples/ show it working: quickstart (a deployment to
// a local fleet, with a failure and an automatic rollback), preview (a JSON
// scenario in, the rollout's schedule out) and canary (traffic shifting
// through the local proxy, an alarm, a rollback).
//
// Test kits ship beside the packages they serve: deploy/deploytest,
// revision/revisiontest and target/targettest give in-memory sources,
// scriptable fleets, fault-injecting stores, event recorders and
// conformance suites for your own implementations.
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
// # Where fleetdeploy decides
//
// Where CodeDeploy's documentation is silent, fleetdeploy follows the
// decisions recorded in its specification (spec §11), and a few of its own.
// Each package's documentation names the ones that concern it; in short:
//
//   - Scheduling (health, deploy/plan): targets start in health order —
//     Unhealthy, then revision Unknown, Old, Current — and by ID inside a
//     class. At most N − M targets are in flight; a Healthy target goes
//     offline only while the healthy targets not in flight stay above M.
//     OneAtATime is one at a time, and only the last target may fail.
//   - Zones (deploy/plan): one zone at a time, zones holding Unhealthy
//     targets first, then by name; a monitor wait (status Baking) after each
//     zone but the last. Rollbacks are not zonal.
//   - Traffic (config): linear schedules add the step every interval and
//     end with their own shift to 100% (30% every 10 minutes: 30, 60, 90,
//     100 at 0, 10, 20, 30 minutes).
//   - AppSpec files (revision): version is 0.0 or "0.0"; Lambda and ECS keys
//     match without regard to case; unknown keys are errors. The timeouts an
//     event's scripts state must add up to at most an hour; scripts left at
//     the default do not count (or the User Guide's own example would fail).
//   - Files (target/localtarget): a deployment's fileExistsBehavior wins
//     over the AppSpec's, which wins over DISALLOW.
//   - Stopping (deploy): nothing new starts after a stop; running events
//     finish unless the caller aborts them, which kills their processes.
//   - Rollbacks (deploy): a new deployment of the last successful revision;
//     none when there is no such revision (the failed deployment says so).
//     A Lambda or ECS rollback moves all traffic back to what was live at
//     once, and rollbacks do not poll the alarms that triggered them.
package fleetdeploy

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
//	revision     where revisions live, AppSpec files, bundles and sources
//	target       targets, deployment-group selectors, lifecycle events, and
//	             the role interfaces a compute platform implements
//	target/localtarget
//	             an on-host agent: a fleet of instances that are directories
//	             on this machine, with real hook processes
//
// Test kits ship beside the packages they serve: revision/revisiontest and
// target/targettest give in-memory sources, scriptable fleets and
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
// decisions recorded in its specification (spec §11): zones are deployed one
// at a time with unhealthy zones first; targets inside a health class go in
// ID order; at most N − M targets are ever in flight; linear traffic
// schedules end with their own shift to 100%. Each package's documentation
// names the decisions that concern it.
package fleetdeploy

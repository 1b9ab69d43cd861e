// Package health holds CodeDeploy's rules about target health: the two
// health values every Server target carries, the order targets are deployed
// in, the minimum healthy hosts arithmetic, the rule that says whether a
// finished deployment succeeded, and how health changes afterwards.
//
// It is pure: no I/O, no clock, no state. It imports only package config and
// the standard library. The planner (package deploy/plan) is built on it;
// anything that wants to show or check the arithmetic (a CLI, a test kit)
// can use it directly.
//
// # Health values
//
// Every Server target has an [InstanceHealth] ([Healthy] or [Unhealthy]:
// did the last deployment to it succeed?) and a [RevisionHealth] ([Current],
// [Old] or [Unknown]: how does its installed revision relate to the
// deployment group's?). Both are spelled as CodeDeploy spells them; the zero
// value is unset and invalid.
//
// # Scheduling order
//
// Targets are deployed to in the order the CodeDeploy User Guide gives in
// "CodeDeploy instance health": Unhealthy first, then revision Unknown, Old,
// Current. [ClassOf] gives a target's [Class]; [Compare] orders two targets
// by class and then by ID, ascending. The order by ID is fleetdeploy's
// decision, since AWS promises no order inside a class (see "Where
// fleetdeploy decides" in package fleetdeploy); sorting with Compare is
// therefore deterministic.
//
// # Minimum healthy hosts
//
// [NewMinimum] and [ForConfig] resolve a configuration's
// MinimumHealthyHosts against a fleet of N targets into a [Minimum] (the
// API Reference's MinimumHealthyHosts and CreateDeploymentConfig; the
// User Guide's "CodeDeploy instance health"):
//
//   - M (Required): HOST_COUNT's value, or FLEET_PERCENT of N rounded up
//     (integer arithmetic: ⌈N·v/100⌉);
//   - W (Window): how many targets may be in flight at once, N−M; N for a
//     minimum of 0; 1 for CodeDeployDefault.OneAtATime (MOST_CONCURRENCY 1,
//     for which M is taken to be N−1, so that W = N−M still holds).
//
// When M ≥ N (and the policy is not OneAtATime) the deployment cannot start
// ([Minimum.Feasible] is false). [Minimum.Explain] says all this in words:
// "FLEET_PERCENT 40 of 9 targets rounds up to 4 healthy required; 5 may be
// offline at once". [Required] converts a rule for any count, which is also
// how a zonal configuration's per-zone minimum is computed from the number
// of targets in the zone.
//
// W = N−M generalizes the documented examples (MinimumHealthyHosts: 9
// targets with HOST_COUNT 6 go three at a time; "CodeDeploy instance
// health": 10 with a minimum of 9 go one at a time), and a per-zone minimum
// counts the zone's own targets because AWS does not say: both are
// fleetdeploy's decisions, recorded in "Where fleetdeploy decides".
//
// # Success
//
// [Minimum.Succeeded] applies the success rule of "CodeDeploy instance
// health" and, for OneAtATime, of "Working with deployment configurations
// in CodeDeploy" (both in the User Guide) to a [Tally] of a finished
// deployment: at least max(M, 1) targets succeeded; for OneAtATime, no
// failure or exactly one failure on the last target, and at least one
// success.
//
// # After a deployment
//
// [Update] returns a target's health after a deployment, as "CodeDeploy
// instance health" describes: on success every target's health follows its
// own outcome; on failure or stop only attempted targets change.
package health

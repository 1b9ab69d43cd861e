// Package plan is fleetdeploy's deployment planner: a pure, synchronous
// core that takes a deployment's state and says what to do next. It
// implements AWS CodeDeploy's rules for every compute platform (Server,
// Lambda, ECS) and both deployment types (in-place, blue/green), including
// zonal configurations.
//
// The planner does no I/O. It has no context, clock, goroutines or logging:
// time comes in as an argument and results come in as reports. The caller
// (package deploy's executor, a test, a CLI) runs lifecycle events, shifts
// traffic, stores state and sleeps; the planner only decides. Same input,
// same output, always — nothing depends on map iteration order or on the
// order of Input.Targets.
//
// # The loop
//
// Build a [Planner] with [New] from an [Input] (the configuration, the
// targets with their health and status, and the stored [Progress]), then
// loop:
//
//	p, err := plan.New(in)
//	for {
//		d := p.Next(clock.Now())
//		store(d.Progress)                 // and mark d.Start InProgress
//		if d.Done {
//			break                         // d.Status, d.ErrorCode, d.Explanation
//		}
//		for _, i := range d.Start { go run(in.Targets[i]) } // later: p.Finished(i, ok)
//		if d.Step != nil { go perform(*d.Step) }            // later: p.StepFinished(res)
//		wait for a report, a Continue, a Stop, or d.WaitUntil
//	}
//
// [Decide] is New followed by Next, for callers that do not keep a planner.
//
// # Input
//
// The zero values of [Input] and [Target] are the usual case, so a test or
// a preview names only the exceptions: an empty Type is IN_PLACE for Server
// (BLUE_GREEN for Lambda and ECS, their only type); an empty Status or
// Reroute is Pending; an empty Instance and Revision health are Healthy and
// Current for in-place and Blue targets (a fleet between deployments) and
// Unhealthy and Unknown for Green targets (new instances that never
// received a revision). New, Decide and Preview check the whole input and
// report every problem at once, as a *multierror.Error of [InputError]
// values (each a *config.Problem naming the field and the rule).
//
// # The caller's duties
//
//  1. Store the state: per-target status (in Input.Targets) and
//     Decision.Progress. Store Decision.Progress and mark the targets in
//     Decision.Start InProgress before acting on a decision, so that a
//     resumed deployment never exceeds the offline bound.
//  2. Start exactly the targets in Decision.Start, in the given order, and
//     perform Decision.Step. Next commits its decision: a second call does
//     not hand the same work out again.
//  3. Report every target started with [Planner.Finished] and every step
//     with [Planner.StepFinished]. A failed target or step is a result, not
//     an error: report it as not succeeded.
//  4. Call Next again after each report, after [Planner.Continue] or
//     [Planner.Stop], and at Decision.WaitUntil when it is set. Pass the
//     current time; the planner compares it with deadlines it recorded.
//  5. Poll alarms (also while Baking) and turn an active alarm into
//     Stop(ALARM_ACTIVE, …). Call Continue when the user continues a ready
//     or termination wait.
//  6. Decision.Start is reused by the next call of Next; copy it to keep it.
//  7. A Planner is not safe for concurrent use: serialize calls.
//
// # Phases
//
// A deployment is a fixed list of phases ([Phases]); each is of one
// [PhaseKind]. Targets phases hand out targets in Decision.Start; Step
// phases hand out one Decision.Step; the Traffic phase (AllowTraffic) hands
// out the shifts of the configuration's schedule; Wait phases hand out
// nothing until their deadline or a Continue.
//
//   - Server IN_PLACE: Deploy.
//   - Server BLUE_GREEN: InstallReplacement, [ReadyWait], Reroute,
//     BlockOriginals, [TerminationWait, TerminateOriginals]; a blue/green
//     rollback is AllowOriginals, BlockReplacements.
//   - Lambda: BeforeAllowTraffic, AllowTraffic, AfterAllowTraffic.
//   - ECS: BeforeInstall, Install, AfterInstall, AllowTestTraffic,
//     AfterAllowTestTraffic, [ReadyWait], BeforeAllowTraffic, AllowTraffic,
//     AfterAllowTraffic, [TerminationWait, TerminateOriginals].
//
// # Server in-place: the minimum healthy hosts rule
//
// For N targets the configuration gives M, the number that must stay
// healthy, and W = N−M, the most in flight at once (package health does the
// arithmetic; OneAtATime is W = 1, M = N−1). Targets go in the health order
// of the User Guide's "CodeDeploy instance health": Unhealthy, then revision
// Unknown, Old, Current; by ID inside a class. The order inside a class and
// the rule below are fleetdeploy's decisions, made to agree with every
// example of the User Guide and the API Reference (see "Where fleetdeploy
// decides" in package fleetdeploy). The planner starts the next target in
// that order while fewer than W are in flight and, for a target with Healthy
// instance health, only while (healthy targets not in flight) − 1 ≥ M.
// Unhealthy targets do not lower the healthy count, so only W limits them. A
// target that succeeds counts as healthy, one that fails as unhealthy.
//
// The deployment fails at once with HEALTH_CONSTRAINTS_INVALID, touching
// nothing, when M ≥ N (not for OneAtATime) or when at most M targets are
// healthy and no Unhealthy target is waiting to be repaired. It fails with
// HEALTH_CONSTRAINTS when targets remain that may not start and nothing is
// in flight that could change that (targets in flight are always allowed
// to finish first), and, for OneAtATime, as soon as a target other than
// the last fails. When every target is done it succeeds iff at least
// max(M, 1) succeeded (OneAtATime: no failure, or one on the last target).
// An empty fleet fails with NO_INSTANCES.
//
// # Zonal deployments
//
// With a zonal configuration (and not a rollback) zones are deployed one at
// a time (User Guide, "Create a deployment configuration with CodeDeploy").
// The order of the zones and how the two minimums combine are fleetdeploy's
// decisions, since AWS does not give them: zones holding Unhealthy targets
// first, then by name, unless Input.ZoneOrder says otherwise. Inside the
// active zone a healthy target may also go offline only while the zone keeps
// its own minimum (FLEET_PERCENT of the zone's targets, rounded up; default
// 0). A zone that cannot make progress fails the deployment with
// HEALTH_CONSTRAINTS. After a zone, the planner waits
// FirstZoneMonitorDuration (first zone) or MonitorDuration (later zones)
// with status Baking; the wait is recorded in Progress (BakeZone, BakeUntil)
// so that a resumed deployment keeps it.
//
// # Blue/green (Server)
//
// The Green (replacement) targets are installed under the rule above,
// applied to the Green fleet only ("CodeDeploy instance health"). With
// ReadyAction STOP_DEPLOYMENT the deployment then waits with status Ready
// for Continue(READY_WAIT); if BlueGreen.ReadyWait passes first it is
// Stopped (TIMEOUT). Traffic is then rerouted to the installed Green targets
// W at a time: AllAtOnce succeeds if one took traffic, HalfAtATime needs
// half (rounded up), OneAtATime fails at the first failure except on the
// last target ("Working with deployment configurations in CodeDeploy"). Then
// every Blue target blocks traffic, all at once; one failure fails the
// deployment ("CodeDeploy instance health"). With TerminationAction
// TERMINATE the deployment waits BlueGreen.TerminationWait with status
// Baking (or until Continue(TERMINATION_WAIT)) and hands out the
// TerminateOriginals step.
//
// # Lambda and ECS
//
// Hooks and reserved events are Step phases named after their lifecycle
// events (User Guide, "AppSpec 'hooks' section"). AllowTraffic follows
// config.TrafficRouting.Steps (whose linear schedule is fleetdeploy's
// decision; see package config): shift k is handed out at PhaseStarted +
// Steps()[k].At, with WaitUntil set in between. A failed step fails the
// deployment with the code the caller reports (default
// HOOK_EXECUTION_FAILURE for hooks, ECS_UPDATE_ERROR for ECS's reserved
// events).
//
// # Stopping
//
// After [Planner.Stop] nothing new starts; targets and steps in flight
// finish and are reported, then the deployment is Stopped with the code
// given (MANUAL_STOP, ALARM_ACTIVE, …), as CodeDeploy's StopDeployment
// does (API Reference); that running work finishes rather than being cut
// off is fleetdeploy's decision (package deploy can abort it). A stop
// during a wait takes effect at once.
//
// # Resuming after a crash
//
// Build a new planner from the stored state. Targets stored InProgress are
// counted as in flight: the caller either reports them (if their work
// finished) or runs them again and reports them. A step stored as issued
// (Progress.StepIssued) is waited for the same way. Input.Targets keeps each
// target's health as it was at the start of the deployment; the planner
// derives the current health from the status.
//
// # Preview
//
// [Preview] runs the planner forward in virtual time over assumed outcomes
// (durations, failing targets and steps) and returns the whole [Schedule]:
// every moment's starts and finishes, zones and monitor windows, phases,
// traffic shifts, the final status and error code, and the numbers that
// show the rules were kept (PeakInFlight ≤ MaxInFlight, LowestHealthy ≥
// MinimumHealthy). Each [ScheduleStep] also carries the counts after its
// moment: targets in flight, targets healthy and not in flight, and the
// minimum in force (over the Green fleet for blue/green), and in a zonal
// deployment the same per zone with the zone's own minimum (the first
// step lists every zone, later steps the zones that moved). PeakInFlight
// and LowestHealthy are the largest and smallest of the steps' counts.
// Its JSON field names are those of the examples/preview CLI.
//
// # Cost
//
// New validates and orders the fleet in O(n log n): one sort of compact
// (ID, index) records, then a stable counting pass by zone and health
// class. After that the planner keeps one byte of state per target and
// moves a cursor through the order, so each Next, Finished and phase change
// costs O(1) amortized per target transition; no decision rescans or
// re-sorts the fleet, and the hot path allocates nothing. Planning a whole
// rollout of a million targets costs about as much as sorting them.
//
// # Decisions where AWS is silent
//
// Besides the decisions above and those recorded in package fleetdeploy
// ("Where fleetdeploy decides"), the planner decides:
//
//   - OneAtATime is M = N−1, W = 1; the success rule then needs every target
//     attempted, at most one failure, and it must be the last.
//   - A deployment that can no longer succeed is reported Failed only once
//     the targets in flight have finished and been reported.
//   - Skipped targets are never started; they count in N and keep their
//     health. Targets outside the deployment must be left out of Input.
//   - Reroute success is counted over the whole Green fleet (at least
//     max(M, 1) Green targets must take traffic); install failures count
//     as failures towards the OneAtATime "one failure, on the last target"
//     rule.
//   - Blocking (or allowing) traffic on one fleet is all at once; any
//     failure fails the deployment with HEALTH_CONSTRAINTS.
//   - An empty ReadyAction is CONTINUE_DEPLOYMENT; an empty
//     TerminationAction is KEEP_ALIVE. ECS's ready wait comes after
//     AfterAllowTestTraffic. A ready wait that runs out stops the deployment
//     with TIMEOUT.
//   - Zonal configuration is ignored by blue/green deployments and
//     rollbacks; zones listed in ZoneOrder without targets are ignored.
//   - The defaults of empty Input fields above (type, status, health).
package plan

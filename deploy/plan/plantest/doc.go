// Package plantest is the test kit of package plan: invariant checkers that
// say whether a deployment schedule keeps CodeDeploy's rules, and
// generators of fleets, configurations and failure sets for property tests
// of rollout policies.
//
// # Checking a schedule
//
// [Violations] replays a [plan.Schedule] — from plan.Preview, or rebuilt
// from a recorded executor run — over its [plan.Input] and returns every
// broken rule, each naming the step, the targets and the [Rule]: healthy
// targets never below the minimum (for the fleet and, in a zonal
// deployment, per zone), at most W in flight, the health order, zones one
// at a time with their monitor waits, the success rule (with
// OneAtATime's last-target exception), the health left after the
// deployment, and for Lambda and ECS traffic never ahead of the
// configuration's schedule and never backwards. The rules are CodeDeploy's
// (User Guide, "CodeDeploy instance health" and "Working with deployment
// configurations in CodeDeploy") and, where AWS is silent, the decisions
// package plan documents. [Check] reports them to a test:
//
//	func TestHalfAtATime(t *testing.T) {
//		in := plan.Input{Config: half, Type: target.InPlace, Targets: plantest.Hosts(40, "az-a", "az-b")}
//		s, err := plan.Preview(plan.PreviewInput{Input: in, Fail: []string{"host-07"}})
//		if err != nil {
//			t.Fatal(err)
//		}
//		plantest.Check(t, in, s)
//	}
//
// The checkers recompute everything from the input and the steps and trust
// none of the schedule's summary numbers, so they check the planner rather
// than repeat it.
//
// # Generating inputs
//
// [Fleets], [Configs], [Failures] and [PreviewInputs] are generators for
// pgregory.net/rapid; [RandomFleet], [RandomConfig], [RandomFailures] and
// [RandomPreviewInput] draw the same shapes from a math/rand/v2 source. A
// property over random deployments is a few lines:
//
//	rapid.Check(t, func(t *rapid.T) {
//		pi := plantest.PreviewInputs(plantest.Options{}).Draw(t, "input")
//		s, err := plan.Preview(pi)
//		if err != nil {
//			t.Fatal(err)
//		}
//		for _, v := range plantest.Violations(pi.Input, s) {
//			t.Error(v)
//		}
//	})
//
// [Hosts] and [Unhealthy] build a fleet by hand.
//
// # Dependencies
//
// Unlike package plan, which links only the standard library, plantest
// imports pgregory.net/rapid for its generators: a program that imports
// plantest links rapid. It is a test kit, meant for _test.go files, where
// that costs nothing in the program users ship.
package plantest

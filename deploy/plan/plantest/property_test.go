package plantest_test

import (
	"math/rand/v2"
	"testing"

	"pgregory.net/rapid"

	"github.com/fleetdeploy/fleetdeploy/deploy/plan"
	"github.com/fleetdeploy/fleetdeploy/deploy/plan/plantest"
)

// The planner keeps every rule over random fleets, configurations and
// failures, in-place, blue/green, Lambda and ECS.
func TestPropertyPreviewHasNoViolations(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		pi := plantest.PreviewInputs(plantest.Options{MaxTargets: 30, MaxZones: 4, BlueGreen: true, Traffic: true}).Draw(t, "input")
		s, err := plan.Preview(pi)
		if err != nil {
			t.Fatalf("Preview: %v", err)
		}
		for _, v := range plantest.Violations(pi.Input, s) {
			t.Errorf("%v", v)
		}
	})
}

// The math/rand generators draw the same shapes, reproducibly.
func TestRandomPreviewInputHasNoViolations(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for range 300 {
		pi := plantest.RandomPreviewInput(r, plantest.Options{MaxTargets: 50, BlueGreen: true, Traffic: true})
		s, err := plan.Preview(pi)
		if err != nil {
			t.Fatalf("Preview: %v", err)
		}
		plantest.Check(t, pi.Input, s)
	}
}

package health_test

import (
	"fmt"
	"slices"

	"github.com/fleetdeploy/fleetdeploy/config"
	"github.com/fleetdeploy/fleetdeploy/health"
)

func Example() {
	// Resolve a custom configuration against a fleet of 9 targets.
	c := config.Config{
		Name:                "FortyPercentHealthy",
		MinimumHealthyHosts: &config.MinimumHealthyHosts{Type: config.FleetPercent, Value: 40},
	}
	m, err := health.ForConfig(c, 9)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(m.Explain())

	// Targets are deployed to unhealthy first, then by revision health,
	// ties broken by ID.
	fleet := []health.Target{
		{ID: "i-3", Instance: health.Healthy, Revision: health.Current},
		{ID: "i-2", Instance: health.Healthy, Revision: health.Old},
		{ID: "i-9", Instance: health.Unhealthy, Revision: health.Current},
		{ID: "i-1", Instance: health.Healthy, Revision: health.Old},
	}
	slices.SortFunc(fleet, health.Compare)
	for _, t := range fleet {
		fmt.Println(t.ID, t.Class())
	}

	// Was a deployment where 4 succeeded and 5 failed a success?
	tally := health.Tally{Succeeded: 4, Failed: 5}
	fmt.Println(m.Succeeded(tally), "-", m.ExplainResult(tally))
	// Output:
	// FLEET_PERCENT 40 of 9 targets rounds up to 4 healthy required; 5 may be offline at once
	// i-9 Unhealthy
	// i-1 Healthy/Old
	// i-2 Healthy/Old
	// i-3 Healthy/Current
	// true - 4 of 9 targets succeeded, 5 failed; at least 4 must succeed
}

func ExampleUpdate() {
	before := health.Target{ID: "i-1", Instance: health.Healthy, Revision: health.Current}
	// The deployment failed before reaching i-1: it keeps its health.
	after, _ := health.Update(before, health.OutcomeSkipped, health.Ending{})
	fmt.Println(after.Instance, after.Revision)
	// The deployment succeeded without i-1: the group's revision moved on.
	after, _ = health.Update(before, health.OutcomeSkipped, health.Ending{Succeeded: true})
	fmt.Println(after.Instance, after.Revision)
	// Output:
	// Healthy Current
	// Unhealthy Unknown
}

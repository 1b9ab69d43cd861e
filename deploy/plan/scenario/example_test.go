package scenario_test

import (
	"fmt"
	"strings"

	"github.com/fleetdeploy/fleetdeploy/deploy/plan"
	"github.com/fleetdeploy/fleetdeploy/deploy/plan/scenario"
)

// A scenario kept as a test fixture: decode it, turn it into the planner's
// input and preview the rollout.
func Example() {
	doc := `{
	  "config": "CodeDeployDefault.HalfAtATime",
	  "targets": [
	    {"id": "i-1", "instanceHealth": "Healthy", "revisionHealth": "Old"},
	    {"id": "i-2", "instanceHealth": "Unhealthy", "revisionHealth": "Old"},
	    {"id": "i-3", "instanceHealth": "Healthy", "revisionHealth": "Old"},
	    {"id": "i-4", "instanceHealth": "Healthy", "revisionHealth": "Old"}
	  ],
	  "failures": ["i-4"]
	}`
	s, err := scenario.Decode(strings.NewReader(doc))
	if err != nil {
		fmt.Println(err)
		return
	}
	in, err := s.PreviewInput()
	if err != nil {
		fmt.Println(err)
		return
	}
	sched, err := plan.Preview(in)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("first:", sched.Steps[0].Start)
	fmt.Println(sched.Status, "lowest healthy", sched.LowestHealthy, "of minimum", sched.MinimumHealthy)
	// Output:
	// first: [i-2 i-1]
	// Succeeded lowest healthy 2 of minimum 2
}

// Every problem of a document at once.
func ExampleDecode_problems() {
	_, err := scenario.Decode(strings.NewReader(`{"config": {"deploymentConfigName": "Fast", "minimumHealthyHosts": {"type": "FLEET_PERCENT", "value": 100}}, "targets": [{"id": "i-1", "instanceHealth": "healthy"}], "failure": ["i-1"]}`))
	fmt.Println(err)
	// Output:
	// scenario: invalid scenario: 4 problems:
	//   scenario: unknown field "failure"; known fields: config, deploymentType, durations, failReroute, failSteps, failures, rollback, targets, zoneOrder
	//   config.minimumHealthyHosts.value: FLEET_PERCENT must be 0 or more and less than 100; got 100
	//   targets[0].instanceHealth: must be Healthy or Unhealthy; got "healthy"
	//   targets[0].revisionHealth: is required: Current, Old or Unknown
}

package main

import (
	"fmt"
	"os"
	"strings"
)

// Preview a HalfAtATime rollout over four targets as a table: M = 2 must
// stay healthy, W = 2 may be offline at once (package health). The
// Unhealthy i-2 goes first and does not count against the two; i-4 fails,
// yet three successes are enough.
func Example_run() {
	scenario := `{
	  "config": "CodeDeployDefault.HalfAtATime",
	  "targets": [
	    {"id": "i-1", "instanceHealth": "Healthy", "revisionHealth": "Current"},
	    {"id": "i-2", "instanceHealth": "Unhealthy", "revisionHealth": "Old"},
	    {"id": "i-3", "instanceHealth": "Healthy", "revisionHealth": "Old"},
	    {"id": "i-4", "instanceHealth": "Healthy", "revisionHealth": "Old"}
	  ],
	  "failures": ["i-4"]
	}`
	code := run([]string{"-text"}, strings.NewReader(scenario), os.Stdout, os.Stderr)
	fmt.Println("exit", code)
	// Output:
	// configuration: CodeDeployDefault.HalfAtATime (Server, IN_PLACE, 4 targets)
	// rule:          FLEET_PERCENT 50 of 4 targets is 2 healthy required; 2 may be offline at once
	//
	// TIME  PHASE   STATUS      HEALTHY  IN FLIGHT  STARTED  SUCCEEDED  FAILED
	// 0s    Deploy  InProgress  2        2          i-2 i-3  -          -
	// 1m0s  Deploy  InProgress  2        2          i-4 i-1  i-2 i-3    -
	// 2m0s  Deploy  Succeeded   3        0          -        i-1        i-4
	//
	// result: Succeeded after 2m0s: Deploy: 3 of 4 targets succeeded, 1 failed; at least 2 must succeed (FLEET_PERCENT 50 of 4 targets is 2 healthy required; 2 may be offline at once)
	// targets: 3 succeeded, 1 failed, 0 not attempted; peak in flight 2 (at most 2); lowest healthy 2 (minimum 2)
	// exit 0
}

// A bad scenario: every problem is reported, one line each, and the exit
// code is 2.
func Example_run_problems() {
	scenario := `{
	  "config": {"deploymentConfigName": "Careful", "minimumHealthyHosts": {"type": "FLEET_PERCENT", "value": 100}},
	  "targets": [
	    {"id": "i-1", "instanceHealth": "Healthy", "revisionHealth": "Old"},
	    {"id": "i-1", "instanceHealth": "OK", "revisionHealth": "Old", "size": "large"}
	  ],
	  "failures": ["i-7"]
	}`
	code := run(nil, strings.NewReader(scenario), os.Stdout, os.Stdout)
	fmt.Println("exit", code)
	// Output:
	// preview: targets[1]: unknown field "size"; known fields: id, instanceHealth, label, revisionHealth, zone
	// preview: config.minimumHealthyHosts.value: FLEET_PERCENT must be 0 or more and less than 100; got 100
	// preview: targets[1].id: "i-1" is also targets[0].id; target IDs must be unique
	// preview: targets[1].instanceHealth: must be Healthy or Unhealthy; got "OK"
	// preview: failures[0]: "i-7" is not the id of a target
	// exit 2
}

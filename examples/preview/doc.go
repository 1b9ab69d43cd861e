// Preview shows how a deployment would roll out before it runs: which
// targets fleetdeploy would take offline at each moment, how many stay
// healthy, where zonal monitor waits and traffic shifts fall, and whether
// the deployment would succeed. It reads a scenario — a configuration, a
// fleet and the outcomes to assume — and prints the schedule of
// [plan.Preview]. Nothing is deployed: it is the pure planner run forward in
// virtual time.
//
// # Usage
//
//	go run ./examples/preview [-text] [-svg out.svg] [scenario.json | -]
//
// The scenario is read from the file named, or from stdin when no file or
// "-" is given. The preview is printed on stdout as a table for people
// (-text) when stdout is a terminal, as JSON otherwise; -text and
// -text=false choose. With -svg, the rollout is also drawn as an SVG
// timeline into the file named (package deploy/plan/plansvg: a lane per
// target by zone and wave, bakes shaded, failures marked, the healthy count
// against the minimum, traffic shifts). Try the samples in testdata:
//
//	go run ./examples/preview examples/preview/testdata/halfatatime.json
//	go run ./examples/preview -svg zonal.svg examples/preview/testdata/zonal.json
//	go run ./examples/preview -text=false examples/preview/testdata/lambda-canary.json
//
// halfatatime.json is nine targets of mixed health under
// CodeDeployDefault.HalfAtATime with one failure; zonal.json three zones
// under a custom zonal configuration with monitor waits; lambda-canary.json
// a Lambda canary's traffic shifts.
//
// # The scenario
//
// The scenario format is package deploy/plan/scenario's (read its
// documentation for every field), so the same documents serve as test
// fixtures:
//
//	{
//	  "config": "CodeDeployDefault.HalfAtATime",
//	  "targets": [
//	    {"id": "i-1", "zone": "us-east-1a", "instanceHealth": "Healthy", "revisionHealth": "Old"}
//	  ],
//	  "failures": ["i-3"],
//	  "durations": {"i-2": 30}
//	}
//
// # The output
//
// The JSON object has the fields of [plan.Schedule], in this order:
// minimumHealthy (M) and maxInFlight (W) from the minimum healthy hosts
// arithmetic; explanation, the final decision in words; arithmetic; steps,
// one per moment anything starts or finishes ({"at": seconds from the
// start, "start", "succeeded", "failed": target IDs, "phase", "zone",
// "status", for steps "event" and "trafficWeight", then the counts after
// the moment: "inFlight", "healthy", "minimum", and for a zonal deployment
// "zones", each zone's counts, listed when they change}); status (Succeeded
// or Failed) and errorCode ("", HEALTH_CONSTRAINTS,
// HEALTH_CONSTRAINTS_INVALID, NO_INSTANCES, …); the counts succeeded,
// failed and notAttempted; peakInFlight, initialHealthy and lowestHealthy
// (the fewest targets, at any moment, that were Healthy and not being
// deployed to); durationSeconds; and zones and phases with their time
// windows. Lists are indented one element a line.
//
// The -text table has one row per step with the healthy count and the
// number of targets in flight after it (for a zonal deployment also the
// step's zone, its healthy count and its own minimum), then the zones and
// the result.
//
// # Exit codes and problems
//
//   - 0: the preview was printed, whatever the previewed deployment's
//     status (a preview that fails is still a successful preview).
//   - 1: the scenario file could not be read or the output (or the
//     picture) not written.
//   - 2: bad command line or bad scenario.
//
// For a bad scenario every problem found is printed on stderr, one line
// each, starting "preview: " and naming the field and the rule: malformed
// JSON (with file:line:column), unknown fields and values of the wrong JSON
// type (with the path, e.g. targets[3].instanceHealth), an unknown
// configuration name (with the names that exist), every rule a custom
// configuration breaks (FLEET_PERCENT 100, …), duplicate target IDs,
// unknown health values, IDs in failures or durations that are not
// targets, negative durations.
package main

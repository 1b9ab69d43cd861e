// Package scenario reads and checks deployment scenarios: a configuration,
// a fleet and the outcomes to assume, as a JSON document, turned into the
// [plan.PreviewInput] that [plan.Preview] runs forward in virtual time. It
// is the format of the examples/preview program, as a library, so that
// scenarios can be kept as test fixtures:
//
//	f, err := os.Open("testdata/zonal.json")
//	...
//	s, err := scenario.Decode(f) // every problem at once
//	...
//	in, err := s.PreviewInput()
//	sched, err := plan.Preview(in)
//
// # The document
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
// Fields:
//
//   - config: a configuration name, predefined (User Guide, "Working with
//     deployment configurations in CodeDeploy"), or
//     "" / absent for CodeDeployDefault.OneAtATime, as CodeDeploy defaults;
//     or a custom configuration object with CodeDeploy's field names (the
//     deploymentConfigInfo of `aws deploy get-deployment-config`):
//     deploymentConfigName, computePlatform, minimumHealthyHosts {type,
//     value}, zonalConfig {monitorDurationInSeconds,
//     firstZoneMonitorDurationInSeconds, minimumHealthyHostsPerZone},
//     trafficRoutingConfig {type, timeBasedCanary, timeBasedLinear}.
//   - targets: the Server targets: id (unique), zone (required when the
//     configuration is zonal), instanceHealth (Healthy, Unhealthy),
//     revisionHealth (Current, Old, Unknown), and for BLUE_GREEN label
//     (Blue for an original, Green for a replacement). Lambda and ECS
//     scenarios have no targets: their preview is the hooks and traffic
//     shifts.
//   - failures: IDs of the targets whose work fails (the in-place
//     deployment; for blue/green, a Green target's install or a Blue
//     target's traffic block). Every other target succeeds.
//   - durations: seconds each target's work takes, by ID; 60 when not
//     listed. At most a year each; targets and zone monitor waits together
//     at most 100 years, which keeps virtual time well inside
//     time.Duration.
//   - deploymentType: IN_PLACE (the default for Server) or BLUE_GREEN
//     (always, and the default, for Lambda and ECS).
//   - rollback: true previews a rollback deployment (never zonal).
//   - zoneOrder: zones to deploy first, in this order.
//   - failReroute: Green targets that fail to take traffic (BLUE_GREEN).
//   - failSteps: steps that fail, e.g. "BeforeAllowTraffic" or
//     "AllowTraffic" (its first shift).
//
// # Problems
//
// [Decode] and [Scenario.Validate] report every problem they find at once,
// as a *multierror.Error (github.com/hashicorp/go-multierror) of
// *config.Problem values of kind [ErrInvalidScenario], each naming the
// field by its JSON path (targets[3].instanceHealth, durations["i-2"],
// config.minimumHealthyHosts.value) and the rule: unknown fields (with a
// "did you mean" for a case slip) and values of the wrong JSON type, an
// unknown configuration name (with the names that exist), every rule a
// custom configuration breaks, duplicate target IDs, unknown health values,
// IDs in failures or durations that are not targets, negative durations.
// Problems with the document's JSON itself (malformed, empty, not an
// object, data after it) match [ErrSyntax]; their Field is the
// "line:column" (both from 1, columns in bytes) where the problem is, or
// "scenario" for the whole document. Unknown fields match [ErrUnknownField]; they do
// not stop the rest of the document from being read and checked.
package scenario

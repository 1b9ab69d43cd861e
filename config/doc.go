// Package config holds CodeDeploy deployment configurations: the predefined
// ones, custom ones, and the rules that make one valid.
//
// A deployment configuration says how fast a deployment may go and when it
// counts as a success. For the Server platform (EC2 and on-premises hosts)
// that is a minimum number of healthy hosts, optionally applied one
// Availability Zone at a time; for Lambda and ECS it is a traffic routing
// schedule. Names, fields and enum values are spelled as CodeDeploy spells
// them, so persisted configurations stay readable and portable.
//
// config is a leaf package: it imports only the standard library, and the
// arithmetic that turns a configuration into counts lives in package health.
//
// # Predefined configurations
//
// [Predefined], [Lookup] and [PredefinedConfigs] return copies of the
// configurations CodeDeploy ships: CodeDeployDefault.AllAtOnce (HOST_COUNT
// 0), CodeDeployDefault.HalfAtATime (FLEET_PERCENT 50),
// CodeDeployDefault.OneAtATime (MOST_CONCURRENCY 1, the default; see
// [Config.IsOneAtATime]), and the Lambda and ECS canary, linear and
// all-at-once configurations. Because each call returns a fresh copy, no
// caller can change a predefined configuration for another.
//
// # Custom configurations
//
// A custom configuration is a [Config] value. [Config.Validate] reports every
// rule it breaks at once — a *multierror.Error with one [*Problem] each —
// each naming the field as CodeDeploy's API does:
//
//	c := config.Config{
//		Name:                "ThreeQuartersHealthy",
//		MinimumHealthyHosts: &config.MinimumHealthyHosts{Type: config.FleetPercent, Value: 75},
//	}
//	if err := c.Validate(); err != nil { ... }
//
// # Zonal configurations
//
// A custom Server configuration may carry a [ZonalConfig]: hosts are
// deployed one Availability Zone at a time, with a monitor (bake) duration
// after each zone and a per-zone minimum that defaults to FLEET_PERCENT 0.
//
// # Traffic routing
//
// Lambda and ECS configurations carry a [TrafficRouting]. [TrafficRouting.Steps]
// turns it into the schedule of shifts: canary p% then 100% after the
// interval; linear p, 2p, … every interval, with the shift to 100% as its
// own step one interval after the last step below 100% (30% every 10
// minutes: 30, 60, 90, 100 at 0, 10, 20, 30 minutes).
//
// # Sources and decisions
//
// The predefined configurations and what they do come from the CodeDeploy
// User Guide's "Working with deployment configurations in CodeDeploy"; the
// rules of [Config.Validate] from the API Reference (CreateDeploymentConfig,
// MinimumHealthyHosts, ZonalConfig, TrafficRoutingConfig) and the User
// Guide's "CodeDeploy quotas" and "Create a deployment configuration with
// CodeDeploy". Where AWS leaves a point open, fleetdeploy decides (see also
// "Where fleetdeploy decides" in package fleetdeploy):
//
//   - Predefined types: the User Guide gives AllAtOnce and HalfAtATime only
//     as "0" and "50%"; fleetdeploy makes them HOST_COUNT 0 and
//     FLEET_PERCENT 50. OneAtATime is MOST_CONCURRENCY 1, as
//     GetDeploymentConfig reports it; that type is output only and a custom
//     configuration may not use it.
//   - Linear schedules: AWS does not say how a step that does not divide 100
//     ends, nor when the last shift happens; fleetdeploy caps the last step
//     at 100% and makes it its own step one interval later, as above.
package config

package config

import (
	"encoding/json"
	"fmt"
	"time"
)

// ComputePlatform is the kind of compute a deployment targets, spelled as
// CodeDeploy spells it.
type ComputePlatform string

// The compute platforms.
const (
	// Server is EC2 or on-premises instances.
	Server ComputePlatform = "Server"
	// Lambda is an AWS Lambda function alias (or a local equivalent).
	Lambda ComputePlatform = "Lambda"
	// ECS is an Amazon ECS service (or a local equivalent).
	ECS ComputePlatform = "ECS"
)

// Values returns every valid ComputePlatform.
func (ComputePlatform) Values() []ComputePlatform { return []ComputePlatform{Server, Lambda, ECS} }

// MinimumHealthyHostsType is how a MinimumHealthyHosts value is read.
type MinimumHealthyHostsType string

// The minimum healthy hosts types.
const (
	// HostCount is an absolute number of instances.
	HostCount MinimumHealthyHostsType = "HOST_COUNT"
	// FleetPercent is a percentage of the instances in the deployment,
	// converted to a count at the start of the deployment by rounding up.
	FleetPercent MinimumHealthyHostsType = "FLEET_PERCENT"
	// MostConcurrency is what CodeDeploy reports for
	// CodeDeployDefault.OneAtATime (value 1): one instance at a time, and the
	// last instance may fail. It is output only: custom configurations may
	// not use it (API Reference, MinimumHealthyHosts).
	MostConcurrency MinimumHealthyHostsType = "MOST_CONCURRENCY"
)

// Values returns every valid MinimumHealthyHostsType.
func (MinimumHealthyHostsType) Values() []MinimumHealthyHostsType {
	return []MinimumHealthyHostsType{HostCount, FleetPercent, MostConcurrency}
}

// MinimumHealthyHosts is the number of instances that must stay healthy
// while a Server deployment runs, and the number that must succeed for it to
// succeed. The arithmetic that turns it into a count lives in package health.
type MinimumHealthyHosts struct {
	Type  MinimumHealthyHostsType `json:"type"`
	Value int                     `json:"value"`
}

// String returns the value as CodeDeploy's console shows it: "HOST_COUNT 3",
// "FLEET_PERCENT 40".
func (m MinimumHealthyHosts) String() string { return fmt.Sprintf("%s %d", m.Type, m.Value) }

// ZonalConfig makes a Server deployment proceed one Availability Zone at a
// time, with an optional bake time after each zone and a per-zone minimum
// (API Reference, ZonalConfig; User Guide, "Create a deployment
// configuration with CodeDeploy"). Only custom Server configurations may
// carry it. How zones are ordered and how the per-zone minimum limits a
// deployment are fleetdeploy's decisions, described in package deploy/plan.
type ZonalConfig struct {
	// FirstZoneMonitorDurationInSeconds is the wait after the first zone
	// completes. Nil means MonitorDurationInSeconds is used.
	FirstZoneMonitorDurationInSeconds *int64 `json:"firstZoneMonitorDurationInSeconds,omitempty"`
	// MonitorDurationInSeconds is the wait after each later zone completes.
	// Nil means the next zone starts at once.
	MonitorDurationInSeconds *int64 `json:"monitorDurationInSeconds,omitempty"`
	// MinimumHealthyHostsPerZone is the number of instances that must stay
	// healthy in each zone. Nil means FLEET_PERCENT 0.
	MinimumHealthyHostsPerZone *MinimumHealthyHosts `json:"minimumHealthyHostsPerZone,omitempty"`
}

// MonitorDuration returns the wait after a zone other than the first.
func (z ZonalConfig) MonitorDuration() time.Duration {
	if z.MonitorDurationInSeconds == nil {
		return 0
	}
	return time.Duration(*z.MonitorDurationInSeconds) * time.Second
}

// FirstZoneMonitorDuration returns the wait after the first zone: the first
// zone's own duration if set, else MonitorDuration (API Reference,
// ZonalConfig).
func (z ZonalConfig) FirstZoneMonitorDuration() time.Duration {
	if z.FirstZoneMonitorDurationInSeconds == nil {
		return z.MonitorDuration()
	}
	return time.Duration(*z.FirstZoneMonitorDurationInSeconds) * time.Second
}

// PerZoneMinimum returns MinimumHealthyHostsPerZone, or FLEET_PERCENT 0 when
// it is not set (API Reference, ZonalConfig).
func (z ZonalConfig) PerZoneMinimum() MinimumHealthyHosts {
	if z.MinimumHealthyHostsPerZone == nil {
		return MinimumHealthyHosts{Type: FleetPercent, Value: 0}
	}
	return *z.MinimumHealthyHostsPerZone
}

// TrafficRoutingType is how a Lambda or ECS deployment shifts traffic.
type TrafficRoutingType string

// The traffic routing types.
const (
	// TimeBasedCanary shifts a percentage first, then the rest after an
	// interval.
	TimeBasedCanary TrafficRoutingType = "TimeBasedCanary"
	// TimeBasedLinear shifts equal increments at equal intervals.
	TimeBasedLinear TrafficRoutingType = "TimeBasedLinear"
	// AllAtOnce shifts all traffic at once.
	AllAtOnce TrafficRoutingType = "AllAtOnce"
)

// Values returns every valid TrafficRoutingType.
func (TrafficRoutingType) Values() []TrafficRoutingType {
	return []TrafficRoutingType{TimeBasedCanary, TimeBasedLinear, AllAtOnce}
}

// Canary is the TimeBasedCanary parameters.
type Canary struct {
	// CanaryPercentage is the percentage shifted in the first increment.
	CanaryPercentage int `json:"canaryPercentage"`
	// CanaryInterval is the number of minutes between the first and the
	// second (final) shift.
	CanaryInterval int `json:"canaryInterval"`
}

// Linear is the TimeBasedLinear parameters.
type Linear struct {
	// LinearPercentage is the percentage added at each increment.
	LinearPercentage int `json:"linearPercentage"`
	// LinearInterval is the number of minutes between increments.
	LinearInterval int `json:"linearInterval"`
}

// TrafficRouting says how traffic moves from the original to the
// replacement version of a Lambda function or ECS service. Exactly the
// parameter struct matching Type is set (none for AllAtOnce).
type TrafficRouting struct {
	Type            TrafficRoutingType `json:"type"`
	TimeBasedCanary *Canary            `json:"timeBasedCanary,omitempty"`
	TimeBasedLinear *Linear            `json:"timeBasedLinear,omitempty"`
}

// Config is a deployment configuration: a name plus either a minimum
// healthy hosts rule (Server, optionally zonal) or a traffic routing rule
// (Lambda, ECS).
//
// Config values are plain data; Validate reports what is wrong with one.
// Predefined configurations come from Predefined and Lookup, each call
// returning a fresh copy.
//
// The JSON form is CodeDeploy's DeploymentConfigInfo (API Reference): the
// deploymentConfigInfo of `aws deploy get-deployment-config` and the input
// of CreateDeploymentConfig decode into a Config directly. Its output-only
// fields deploymentConfigId and createTime are not kept. Documents written
// before the name's key became deploymentConfigName, with "name", still
// decode.
type Config struct {
	// Name is the configuration's name (1–100 characters of letters,
	// digits and . _ + = , @ -). Custom names must not begin with
	// "CodeDeployDefault.".
	Name string `json:"deploymentConfigName"`
	// ComputePlatform is the platform the configuration is for. Empty means
	// Server, as in CodeDeploy's CreateDeploymentConfig.
	ComputePlatform ComputePlatform `json:"computePlatform,omitempty"`
	// MinimumHealthyHosts is required for Server and not allowed otherwise.
	MinimumHealthyHosts *MinimumHealthyHosts `json:"minimumHealthyHosts,omitempty"`
	// ZonalConfig is optional, Server only.
	ZonalConfig *ZonalConfig `json:"zonalConfig,omitempty"`
	// TrafficRouting is required for Lambda and ECS and not allowed for
	// Server.
	TrafficRouting *TrafficRouting `json:"trafficRoutingConfig,omitempty"`
}

// configFields is Config without its methods, for UnmarshalJSON.
type configFields Config

// UnmarshalJSON decodes CodeDeploy's DeploymentConfigInfo, and the earlier
// form of Config's JSON that named the configuration with "name" (read
// only when deploymentConfigName is absent).
func (c *Config) UnmarshalJSON(b []byte) error {
	w := struct {
		*configFields
		LegacyName *string `json:"name"`
	}{configFields: (*configFields)(c)}
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	if c.Name == "" && w.LegacyName != nil {
		c.Name = *w.LegacyName
	}
	return nil
}

// Platform returns the configuration's compute platform, Server when unset.
func (c Config) Platform() ComputePlatform {
	if c.ComputePlatform == "" {
		return Server
	}
	return c.ComputePlatform
}

// IsOneAtATime reports whether c uses the one-at-a-time policy of
// CodeDeployDefault.OneAtATime (MOST_CONCURRENCY 1): concurrency one, and a
// failure of the last instance alone does not fail the deployment.
func (c Config) IsOneAtATime() bool {
	return c.MinimumHealthyHosts != nil && c.MinimumHealthyHosts.Type == MostConcurrency
}

// Clone returns a deep copy of c: changing the copy never changes c. Lookup
// and Predefined return clones, so that callers can never change a
// predefined configuration through a shared pointer.
func (c Config) Clone() Config {
	if c.MinimumHealthyHosts != nil {
		m := *c.MinimumHealthyHosts
		c.MinimumHealthyHosts = &m
	}
	if c.ZonalConfig != nil {
		z := *c.ZonalConfig
		z.FirstZoneMonitorDurationInSeconds = cloneInt64(z.FirstZoneMonitorDurationInSeconds)
		z.MonitorDurationInSeconds = cloneInt64(z.MonitorDurationInSeconds)
		if z.MinimumHealthyHostsPerZone != nil {
			m := *z.MinimumHealthyHostsPerZone
			z.MinimumHealthyHostsPerZone = &m
		}
		c.ZonalConfig = &z
	}
	if c.TrafficRouting != nil {
		t := *c.TrafficRouting
		if t.TimeBasedCanary != nil {
			v := *t.TimeBasedCanary
			t.TimeBasedCanary = &v
		}
		if t.TimeBasedLinear != nil {
			v := *t.TimeBasedLinear
			t.TimeBasedLinear = &v
		}
		c.TrafficRouting = &t
	}
	return c
}

func cloneInt64(p *int64) *int64 {
	if p == nil {
		return nil
	}
	v := *p
	return &v
}

package config

import (
	"errors"
	"fmt"
	"strings"
)

// ErrInvalidConfig is matched (with errors.Is) by every error Validate
// returns.
var ErrInvalidConfig = errors.New("config: invalid deployment configuration")

// Limits of the User Guide's "CodeDeploy quotas".
const (
	maxNameLength = 100
	// MaxLambdaShiftMinutes is the longest time CodeDeploy allows between the
	// first and the last traffic shift of a Lambda deployment.
	MaxLambdaShiftMinutes = 2880
)

// Validate reports every rule c breaks, as a *multierror.Error of
// *Problem values matching ErrInvalidConfig (nil when c is valid). The
// rules are CodeDeploy's CreateDeploymentConfig rules (API Reference,
// CreateDeploymentConfig; User Guide, "CodeDeploy quotas"):
//
//   - name: 1–100 characters of letters, digits and . _ + = , @ -; only the
//     predefined configurations may begin with "CodeDeployDefault."
//   - computePlatform: Server, Lambda or ECS (empty means Server)
//   - Server: minimumHealthyHosts required, type HOST_COUNT or FLEET_PERCENT
//     (MOST_CONCURRENCY is reserved for CodeDeployDefault.OneAtATime), value
//     ≥ 0, FLEET_PERCENT < 100; no trafficRoutingConfig
//   - zonalConfig: Server only; durations ≥ 0; per-zone minimum as above
//   - Lambda, ECS: trafficRoutingConfig required with exactly the parameters
//     of its type; percentages 1–99; intervals ≥ 1 minute; a Lambda schedule
//     ends within 2880 minutes; no minimumHealthyHosts or zonalConfig
//
// Validate does not know which deployment group will use c; group-level rules
// (an ECS service behind a Network Load Balancer takes only ECSAllAtOnce)
// are checked where the group is.
func (c Config) Validate() error {
	var ps Problems
	if p, ok := Predefined(c.Name); ok && equal(p, c) {
		return nil
	}
	validateName(&ps, c.Name)
	switch c.Platform() {
	case Server:
		validateServer(&ps, c)
	case Lambda, ECS:
		validateTrafficConfig(&ps, c)
	default:
		ps.Add(nil, "computePlatform", "must be one of Server, Lambda, ECS; got %q", c.ComputePlatform)
	}
	return ps.Err(ErrInvalidConfig, fmt.Sprintf("deployment configuration %q", c.Name))
}

func validateName(ps *Problems, name string) {
	switch n := len(name); {
	case n == 0:
		ps.Add(nil, "deploymentConfigName", "is required")
		return
	case n > maxNameLength:
		ps.Add(nil, "deploymentConfigName", "must be at most %d characters; it has %d", maxNameLength, n)
	}
	if i := strings.IndexFunc(name, func(r rune) bool { return !nameRune(r) }); i >= 0 {
		ps.Add(nil, "deploymentConfigName", "may contain only letters, digits and . _ + = , @ -; %q at byte %d is not allowed", name[i:i+1], i)
	}
	if strings.HasPrefix(name, PredefinedPrefix) {
		ps.Add(nil, "deploymentConfigName", "must not begin with %q, which is reserved for predefined configurations (a custom configuration cannot replace or alter one)", PredefinedPrefix)
	}
}

func nameRune(r rune) bool {
	return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("._+=,@-", r)
}

func validateServer(ps *Problems, c Config) {
	if c.TrafficRouting != nil {
		ps.Add(nil, "trafficRoutingConfig", "is for Lambda and ECS configurations only; a Server configuration uses minimumHealthyHosts")
	}
	if c.MinimumHealthyHosts == nil {
		ps.Add(nil, "minimumHealthyHosts", "is required for a Server configuration")
	} else {
		validateMinimum(ps, "minimumHealthyHosts", *c.MinimumHealthyHosts)
	}
	if z := c.ZonalConfig; z != nil {
		for _, d := range []struct {
			field string
			v     *int64
		}{
			{"zonalConfig.firstZoneMonitorDurationInSeconds", z.FirstZoneMonitorDurationInSeconds},
			{"zonalConfig.monitorDurationInSeconds", z.MonitorDurationInSeconds},
		} {
			if d.v != nil && *d.v < 0 {
				ps.Add(nil, d.field, "must be 0 or more seconds; got %d", *d.v)
			}
		}
		if z.MinimumHealthyHostsPerZone != nil {
			validateMinimum(ps, "zonalConfig.minimumHealthyHostsPerZone", *z.MinimumHealthyHostsPerZone)
		}
	}
}

func validateMinimum(ps *Problems, field string, m MinimumHealthyHosts) {
	switch m.Type {
	case HostCount:
		if m.Value < 0 {
			ps.Add(nil, field+".value", "HOST_COUNT must be 0 or a positive number of instances; got %d", m.Value)
		}
	case FleetPercent:
		if m.Value < 0 || m.Value >= 100 {
			ps.Add(nil, field+".value", "FLEET_PERCENT must be 0 or more and less than 100; got %d", m.Value)
		}
	case MostConcurrency:
		ps.Add(nil, field+".type", "MOST_CONCURRENCY is reserved for CodeDeployDefault.OneAtATime; use HOST_COUNT or FLEET_PERCENT")
	case "":
		ps.Add(nil, field+".type", "is required: HOST_COUNT or FLEET_PERCENT")
	default:
		ps.Add(nil, field+".type", "must be HOST_COUNT or FLEET_PERCENT; got %q", m.Type)
	}
}

func validateTrafficConfig(ps *Problems, c Config) {
	if c.MinimumHealthyHosts != nil {
		ps.Add(nil, "minimumHealthyHosts", "is for Server configurations only; a %s configuration uses trafficRoutingConfig", c.ComputePlatform)
	}
	if c.ZonalConfig != nil {
		ps.Add(nil, "zonalConfig", "is for Server (EC2 in-place) configurations only")
	}
	if c.TrafficRouting == nil {
		ps.Add(nil, "trafficRoutingConfig", "is required for a %s configuration", c.ComputePlatform)
		return
	}
	c.TrafficRouting.validate(ps, c.ComputePlatform)
}

func (t TrafficRouting) validate(ps *Problems, p ComputePlatform) {
	const field = "trafficRoutingConfig"
	if t.Type != TimeBasedCanary && t.TimeBasedCanary != nil {
		ps.Add(nil, field+".timeBasedCanary", "is allowed only with type TimeBasedCanary (type is %q)", t.Type)
	}
	if t.Type != TimeBasedLinear && t.TimeBasedLinear != nil {
		ps.Add(nil, field+".timeBasedLinear", "is allowed only with type TimeBasedLinear (type is %q)", t.Type)
	}
	switch t.Type {
	case AllAtOnce:
	case TimeBasedCanary:
		if t.TimeBasedCanary == nil {
			ps.Add(nil, field+".timeBasedCanary", "is required with type TimeBasedCanary")
			return
		}
		validateStep(ps, field+".timeBasedCanary.canaryPercentage", field+".timeBasedCanary.canaryInterval",
			t.TimeBasedCanary.CanaryPercentage, t.TimeBasedCanary.CanaryInterval)
	case TimeBasedLinear:
		if t.TimeBasedLinear == nil {
			ps.Add(nil, field+".timeBasedLinear", "is required with type TimeBasedLinear")
			return
		}
		validateStep(ps, field+".timeBasedLinear.linearPercentage", field+".timeBasedLinear.linearInterval",
			t.TimeBasedLinear.LinearPercentage, t.TimeBasedLinear.LinearInterval)
	case "":
		ps.Add(nil, field+".type", "is required: TimeBasedCanary, TimeBasedLinear or AllAtOnce")
		return
	default:
		ps.Add(nil, field+".type", "must be TimeBasedCanary, TimeBasedLinear or AllAtOnce; got %q", t.Type)
		return
	}
	if p == Lambda {
		steps := t.Steps()
		if last := steps[len(steps)-1].At.Minutes(); last > MaxLambdaShiftMinutes {
			ps.Add(nil, field, "a Lambda deployment must finish shifting within %d minutes of the first shift; this schedule takes %.0f", MaxLambdaShiftMinutes, last)
		}
	}
}

func validateStep(ps *Problems, pctField, intervalField string, pct, interval int) {
	if pct < 1 || pct > 99 {
		ps.Add(nil, pctField, "must be a percentage from 1 to 99; got %d", pct)
	}
	if interval < 1 {
		ps.Add(nil, intervalField, "must be at least 1 minute; got %d", interval)
	}
}

// equal reports whether a and b describe the same configuration.
func equal(a, b Config) bool {
	eqMin := func(x, y *MinimumHealthyHosts) bool { return x == nil && y == nil || x != nil && y != nil && *x == *y }
	eq64 := func(x, y *int64) bool { return x == nil && y == nil || x != nil && y != nil && *x == *y }
	if a.Name != b.Name || a.Platform() != b.Platform() || !eqMin(a.MinimumHealthyHosts, b.MinimumHealthyHosts) {
		return false
	}
	switch za, zb := a.ZonalConfig, b.ZonalConfig; {
	case za == nil && zb == nil:
	case za == nil || zb == nil:
		return false
	case !eq64(za.FirstZoneMonitorDurationInSeconds, zb.FirstZoneMonitorDurationInSeconds),
		!eq64(za.MonitorDurationInSeconds, zb.MonitorDurationInSeconds),
		!eqMin(za.MinimumHealthyHostsPerZone, zb.MinimumHealthyHostsPerZone):
		return false
	}
	switch ta, tb := a.TrafficRouting, b.TrafficRouting; {
	case ta == nil && tb == nil:
		return true
	case ta == nil || tb == nil || ta.Type != tb.Type:
		return false
	default:
		eqC := ta.TimeBasedCanary == nil && tb.TimeBasedCanary == nil ||
			ta.TimeBasedCanary != nil && tb.TimeBasedCanary != nil && *ta.TimeBasedCanary == *tb.TimeBasedCanary
		eqL := ta.TimeBasedLinear == nil && tb.TimeBasedLinear == nil ||
			ta.TimeBasedLinear != nil && tb.TimeBasedLinear != nil && *ta.TimeBasedLinear == *tb.TimeBasedLinear
		return eqC && eqL
	}
}

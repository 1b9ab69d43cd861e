package health

import (
	"fmt"
	"strings"

	"github.com/fleetdeploy/fleetdeploy/config"
)

// Minimum is a minimum healthy hosts rule resolved against a fleet of N
// targets: the number of healthy targets the deployment must keep
// (Required, M) and the number it may have in flight at once (Window, W).
// The package documentation gives the sources and fleetdeploy's decisions.
//
// The arithmetic is integer-only:
//
//   - HOST_COUNT v: M = v.
//   - FLEET_PERCENT v: M = ⌈N·v/100⌉ (fractions of a target round up).
//   - MOST_CONCURRENCY 1 (CodeDeployDefault.OneAtATime): one target at a
//     time, so M = N−1 and W = 1. The general rule W = N−M then holds too.
//   - W = N−M when M < N (so W = N for a minimum of 0); W = 0 when M ≥ N,
//     in which case the deployment cannot start (Feasible is false).
type Minimum struct {
	// Rule is the rule as configured.
	Rule config.MinimumHealthyHosts `json:"rule"`
	// Targets is N, the number of targets in the deployment (for blue/green:
	// in the replacement fleet).
	Targets int `json:"targets"`
	// Required is M, the number of targets that must stay healthy, and (at
	// least 1) the number that must succeed.
	Required int `json:"required"`
	// Window is W, the largest number of targets in flight at once.
	Window int `json:"window"`
}

// NewMinimum resolves rule against n targets. It returns an error wrapping
// ErrInvalid when n is negative or the rule is not one CodeDeploy accepts:
// HOST_COUNT ≥ 0, FLEET_PERCENT 0–99, or MOST_CONCURRENCY 1.
func NewMinimum(rule config.MinimumHealthyHosts, n int) (Minimum, error) {
	if n < 0 {
		return Minimum{}, fmt.Errorf("%w: number of targets must not be negative; got %d", ErrInvalid, n)
	}
	m := Minimum{Rule: rule, Targets: n}
	switch rule.Type {
	case config.MostConcurrency:
		if rule.Value != 1 {
			return Minimum{}, fmt.Errorf("%w: minimumHealthyHosts: MOST_CONCURRENCY must have value 1; got %d", ErrInvalid, rule.Value)
		}
		m.Required = max(n-1, 0)
		m.Window = min(n, 1)
		return m, nil
	case config.HostCount, config.FleetPercent:
		r, err := Required(rule, n)
		if err != nil {
			return Minimum{}, err
		}
		m.Required = r
		m.Window = max(n-r, 0)
		return m, nil
	}
	return Minimum{}, fmt.Errorf("%w: minimumHealthyHosts.type must be HOST_COUNT, FLEET_PERCENT or MOST_CONCURRENCY; got %q", ErrInvalid, rule.Type)
}

// ForConfig resolves c's MinimumHealthyHosts against n targets. It returns
// an error wrapping ErrInvalid when c has no MinimumHealthyHosts (a Lambda
// or ECS configuration) or NewMinimum does.
func ForConfig(c config.Config, n int) (Minimum, error) {
	if c.MinimumHealthyHosts == nil {
		return Minimum{}, fmt.Errorf("%w: configuration %q: minimumHealthyHosts is required to count healthy targets (it is a %s configuration)", ErrInvalid, c.Name, c.Platform())
	}
	return NewMinimum(*c.MinimumHealthyHosts, n)
}

// Required converts a HOST_COUNT or FLEET_PERCENT rule into a number of
// targets out of n: HOST_COUNT is the value itself; FLEET_PERCENT is
// ⌈n·value/100⌉, computed with integers only. It is also the per-zone
// minimum of a zonal configuration, with n the number of targets in the zone
// (a fleetdeploy decision; see the package documentation). MOST_CONCURRENCY
// and out-of-range values return an error wrapping ErrInvalid.
func Required(rule config.MinimumHealthyHosts, n int) (int, error) {
	if n < 0 {
		return 0, fmt.Errorf("%w: number of targets must not be negative; got %d", ErrInvalid, n)
	}
	switch rule.Type {
	case config.HostCount:
		if rule.Value < 0 {
			return 0, fmt.Errorf("%w: HOST_COUNT must be 0 or more; got %d", ErrInvalid, rule.Value)
		}
		return rule.Value, nil
	case config.FleetPercent:
		if rule.Value < 0 || rule.Value >= 100 {
			return 0, fmt.Errorf("%w: FLEET_PERCENT must be 0 or more and less than 100; got %d", ErrInvalid, rule.Value)
		}
		// ⌈n·v/100⌉ without overflow: n = 100q + r.
		q, r := n/100, n%100
		return q*rule.Value + (r*rule.Value+99)/100, nil
	}
	return 0, fmt.Errorf("%w: a count of targets needs type HOST_COUNT or FLEET_PERCENT; got %q", ErrInvalid, rule.Type)
}

// PerZone is the per-zone minimum of a zonal configuration for a zone of
// zoneTargets targets: Required of z.PerZoneMinimum() — FLEET_PERCENT of
// the zone's own targets rounded up, or the HOST_COUNT as given;
// FLEET_PERCENT 0 when the configuration sets none (API Reference,
// ZonalConfig).
func PerZone(z config.ZonalConfig, zoneTargets int) (int, error) {
	return Required(z.PerZoneMinimum(), zoneTargets)
}

// OneAtATime reports whether m is the one-at-a-time policy of
// CodeDeployDefault.OneAtATime (MOST_CONCURRENCY 1).
func (m Minimum) OneAtATime() bool { return m.Rule.Type == config.MostConcurrency }

// Feasible reports whether a deployment under m can start at all: there is
// at least one target and, except for OneAtATime, the minimum is below the
// number of targets ("CodeDeploy instance health": a minimum not below the
// fleet fails the deployment at once). An infeasible deployment fails with
// HEALTH_CONSTRAINTS_INVALID without touching a target.
func (m Minimum) Feasible() bool { return m.Targets > 0 && m.Window >= 1 }

// SuccessesNeeded is the fewest successful targets a deployment under m can
// succeed with: max(M, 1). (For OneAtATime it is N−1 and the one target not
// succeeded must be the last, see Succeeded.)
func (m Minimum) SuccessesNeeded() int { return max(m.Required, 1) }

// Explain describes the arithmetic in words, e.g. "FLEET_PERCENT 40 of 9
// targets rounds up to 4 healthy required; 5 may be offline at once".
func (m Minimum) Explain() string {
	var b strings.Builder
	n, r := m.Targets, m.Required
	switch m.Rule.Type {
	case config.MostConcurrency:
		// OneAtATime is a policy, not a count: its Required (N − 1) is
		// bookkeeping that users should not read as a health floor.
		fmt.Fprintf(&b, "MOST_CONCURRENCY 1 (one at a time) of %s", targets(n))
	case config.FleetPercent:
		if (n*m.Rule.Value)%100 != 0 {
			fmt.Fprintf(&b, "FLEET_PERCENT %d of %s rounds up to %d healthy required", m.Rule.Value, targets(n), r)
		} else {
			fmt.Fprintf(&b, "FLEET_PERCENT %d of %s is %d healthy required", m.Rule.Value, targets(n), r)
		}
	default:
		fmt.Fprintf(&b, "%s of %s: %d healthy required", m.Rule, targets(n), r)
	}
	switch {
	case n == 0:
		b.WriteString("; there is nothing to deploy to")
	case !m.Feasible():
		fmt.Fprintf(&b, ", which is not fewer than the %s, so the deployment cannot start", targets(n))
	default:
		fmt.Fprintf(&b, "; %d may be offline at once", m.Window)
		switch {
		case m.OneAtATime() && n == 1:
			b.WriteString("; the target must succeed")
		case m.OneAtATime():
			b.WriteString("; every target but the last must succeed")
		case r == 0:
			b.WriteString("; at least 1 must succeed")
		}
	}
	return b.String()
}

// String returns Explain.
func (m Minimum) String() string { return m.Explain() }

func targets(n int) string {
	if n == 1 {
		return "1 target"
	}
	return fmt.Sprintf("%d targets", n)
}

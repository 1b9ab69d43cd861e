package plantest

import (
	"fmt"
	"math/rand/v2"
	"time"

	"pgregory.net/rapid"

	"github.com/fleetdeploy/fleetdeploy/config"
	"github.com/fleetdeploy/fleetdeploy/deploy/plan"
	"github.com/fleetdeploy/fleetdeploy/health"
	"github.com/fleetdeploy/fleetdeploy/target"
)

// Options shapes what the generators draw. The zero value draws in-place
// Server deployments of 1 to 40 targets in up to 3 zones.
type Options struct {
	// MinTargets and MaxTargets bound the fleet size; 0 means 1 and 40.
	MinTargets, MaxTargets int
	// MaxZones is the most zones a fleet spreads over (named az-a, az-b,
	// …); 0 means 3.
	MaxZones int
	// BlueGreen also draws Server blue/green deployments (half the targets
	// Blue, half Green).
	BlueGreen bool
	// Traffic also draws Lambda and ECS deployments, with the predefined
	// and custom canary, linear and all-at-once schedules.
	Traffic bool
}

func (o Options) bounds() (lo, hi, zones int) {
	lo, hi, zones = max(o.MinTargets, 1), o.MaxTargets, o.MaxZones
	if hi == 0 {
		hi = 40
	}
	hi = max(hi, lo)
	if zones <= 0 {
		zones = 3
	}
	return lo, hi, min(zones, 26)
}

// drawer is what both rapid and math/rand give the generators.
type drawer interface {
	// intn returns an integer in [lo, hi].
	intn(label string, lo, hi int) int
}

type rapidDrawer struct{ t *rapid.T }

func (d rapidDrawer) intn(label string, lo, hi int) int {
	return rapid.IntRange(lo, hi).Draw(d.t, label)
}

type randDrawer struct{ r *rand.Rand }

func (d randDrawer) intn(_ string, lo, hi int) int { return lo + d.r.IntN(hi-lo+1) }

func percent(d drawer, label string, p int) bool { return d.intn(label, 0, 99) < p }

// fleet draws a fleet of in-place targets, every one Pending.
func fleet(d drawer, o Options) []plan.Target {
	lo, hi, maxZones := o.bounds()
	n := d.intn("targets", lo, hi)
	zones := d.intn("zones", 1, maxZones)
	unhealthy := d.intn("unhealthyPercent", 0, 100)
	revisions := health.Current.Values()
	ts := make([]plan.Target, n)
	for i := range ts {
		inst := health.Healthy
		if percent(d, "unhealthy", unhealthy) {
			inst = health.Unhealthy
		}
		ts[i] = plan.Target{
			ID:       fmt.Sprintf("i-%d", i+1), // i-10 sorts before i-2: IDs order by string
			Zone:     fmt.Sprintf("az-%c", 'a'+d.intn("zone", 0, zones-1)),
			Instance: inst,
			Revision: revisions[d.intn("revision", 0, len(revisions)-1)],
			Status:   target.TargetPending,
		}
	}
	// The input order must not matter: shuffle it.
	for i := n - 1; i > 0; i-- {
		j := d.intn("shuffle", 0, i)
		ts[i], ts[j] = ts[j], ts[i]
	}
	return ts
}

// serverConfig draws a Server configuration for fleets of up to n targets:
// the predefined ones, HOST_COUNT 0…n+1, FLEET_PERCENT 0…99, and zonal
// variants of the custom ones.
func serverConfig(d drawer, n int) config.Config {
	var c config.Config
	switch d.intn("configKind", 0, 4) {
	case 0:
		c, _ = config.Predefined("CodeDeployDefault.AllAtOnce")
	case 1:
		c, _ = config.Predefined("CodeDeployDefault.HalfAtATime")
	case 2:
		c, _ = config.Predefined("CodeDeployDefault.OneAtATime")
	case 3:
		c = custom(config.HostCount, d.intn("hostCount", 0, n+1))
	default:
		c = custom(config.FleetPercent, d.intn("fleetPercent", 0, 99))
	}
	if c.ComputePlatform == "" && d.intn("zonal", 0, 1) == 1 {
		z := &config.ZonalConfig{}
		if d.intn("hasMonitor", 0, 1) == 1 {
			z.MonitorDurationInSeconds = new(int64(d.intn("monitor", 0, 4) * 150))
		}
		if d.intn("hasFirstMonitor", 0, 1) == 1 {
			z.FirstZoneMonitorDurationInSeconds = new(int64(d.intn("firstMonitor", 0, 4) * 100))
		}
		switch d.intn("perZoneKind", 0, 2) {
		case 1:
			z.MinimumHealthyHostsPerZone = &config.MinimumHealthyHosts{Type: config.HostCount, Value: d.intn("perZoneHostCount", 0, 6)}
		case 2:
			z.MinimumHealthyHostsPerZone = &config.MinimumHealthyHosts{Type: config.FleetPercent, Value: d.intn("perZonePercent", 0, 99)}
		}
		c.ZonalConfig = z
	}
	return c
}

func custom(t config.MinimumHealthyHostsType, v int) config.Config {
	// Custom configurations leave ComputePlatform empty (Server), as
	// CreateDeploymentConfig does; serverConfig relies on it to tell them
	// from the predefined ones, which set it.
	return config.Config{Name: fmt.Sprintf("Custom.%s.%d", t, v), MinimumHealthyHosts: &config.MinimumHealthyHosts{Type: t, Value: v}}
}

// trafficConfig draws a Lambda or ECS configuration.
func trafficConfig(d drawer) config.Config {
	platform := []config.ComputePlatform{config.Lambda, config.ECS}[d.intn("platform", 0, 1)]
	tr := &config.TrafficRouting{Type: config.AllAtOnce}
	switch d.intn("routing", 0, 2) {
	case 1:
		tr = &config.TrafficRouting{Type: config.TimeBasedCanary, TimeBasedCanary: &config.Canary{
			CanaryPercentage: d.intn("canaryPercent", 1, 99), CanaryInterval: d.intn("canaryMinutes", 1, 30)}}
	case 2:
		tr = &config.TrafficRouting{Type: config.TimeBasedLinear, TimeBasedLinear: &config.Linear{
			LinearPercentage: d.intn("linearPercent", 1, 99), LinearInterval: d.intn("linearMinutes", 1, 10)}}
	}
	return config.Config{Name: fmt.Sprintf("Custom.%s.%s", platform, tr.Type), ComputePlatform: platform, TrafficRouting: tr}
}

// failures draws a subset of ts's IDs.
func failures(d drawer, ts []plan.Target) []string {
	p := d.intn("failPercent", 0, 100)
	var out []string
	for _, t := range ts {
		if percent(d, "fail", p) {
			out = append(out, t.ID)
		}
	}
	return out
}

// previewInput draws a whole preview input: the deployment and its assumed
// outcomes. Every target takes 10 to 60 seconds (never zero, so that each
// step of the schedule is one moment; see Violations).
func previewInput(d drawer, o Options) plan.PreviewInput {
	kinds := 1
	if o.BlueGreen {
		kinds++
	}
	if o.Traffic {
		kinds++
	}
	kind := d.intn("kind", 0, kinds-1)
	if kind == 1 && !o.BlueGreen {
		kind = 2
	}
	pi := plan.PreviewInput{StepDuration: time.Duration(d.intn("stepSeconds", 0, 30)) * time.Second}
	if kind == 2 {
		pi.Input = plan.Input{Config: trafficConfig(d), Type: target.BlueGreen}
		if percent(d, "failStep", 20) {
			steps := []plan.Phase{plan.PhaseBeforeAllowTraffic, plan.PhaseAllowTraffic, plan.PhaseAfterAllowTraffic}
			pi.FailSteps = []plan.Phase{steps[d.intn("failedStep", 0, len(steps)-1)]}
		}
		return pi
	}
	ts := fleet(d, o)
	pi.Input = plan.Input{Config: serverConfig(d, len(ts)), Type: target.InPlace, Targets: ts}
	pi.Fail = failures(d, ts)
	pi.Durations = make(map[string]time.Duration, len(ts))
	for _, t := range ts {
		pi.Durations[t.ID] = time.Duration(d.intn("duration", 1, 6)) * 10 * time.Second
	}
	switch {
	case kind == 1:
		pi.Type = target.BlueGreen
		pi.Config.ZonalConfig = nil
		for i := range pi.Targets {
			pi.Targets[i].Label = target.LabelBlue
			if d.intn("green", 0, 1) == 1 {
				pi.Targets[i].Label = target.LabelGreen
				pi.Targets[i].Reroute = target.TargetPending
				if percent(d, "failReroute", 10) {
					pi.FailReroute = append(pi.FailReroute, pi.Targets[i].ID)
				}
			}
		}
		if d.intn("terminate", 0, 1) == 1 {
			pi.BlueGreen = plan.BlueGreen{TerminationAction: plan.Terminate, TerminationWait: time.Duration(d.intn("terminationMinutes", 0, 60)) * time.Minute}
		}
	case percent(d, "rollback", 10):
		pi.Rollback = true
	}
	return pi
}

// Fleets returns a rapid generator of in-place fleets: MinTargets to
// MaxTargets Pending targets with IDs i-1, i-2, … in shuffled order, spread
// over up to MaxZones zones, with a drawn share of Unhealthy targets and
// drawn revision health.
func Fleets(o Options) *rapid.Generator[[]plan.Target] {
	return rapid.Custom(func(t *rapid.T) []plan.Target { return fleet(rapidDrawer{t}, o) })
}

// Configs returns a rapid generator of Server deployment configurations
// for fleets of up to o.MaxTargets targets: the three predefined ones,
// custom HOST_COUNT and FLEET_PERCENT ones, and zonal variants of the
// custom ones with drawn monitor durations and per-zone minimums. Some are
// infeasible for some fleets, as in real life (a plan then fails with
// HEALTH_CONSTRAINTS_INVALID).
func Configs(o Options) *rapid.Generator[config.Config] {
	_, hi, _ := o.bounds()
	return rapid.Custom(func(t *rapid.T) config.Config { return serverConfig(rapidDrawer{t}, hi) })
}

// Failures returns a rapid generator of failure sets over ts: subsets of
// its IDs, from none to all, for PreviewInput.Fail.
func Failures(ts []plan.Target) *rapid.Generator[[]string] {
	return rapid.Custom(func(t *rapid.T) []string { return failures(rapidDrawer{t}, ts) })
}

// PreviewInputs returns a rapid generator of whole preview inputs: a fleet,
// a configuration, failures and per-target durations of 10 to 60 seconds;
// one in ten is a rollback. With o.BlueGreen and o.Traffic it also draws
// blue/green Server deployments and Lambda and ECS ones.
func PreviewInputs(o Options) *rapid.Generator[plan.PreviewInput] {
	return rapid.Custom(func(t *rapid.T) plan.PreviewInput { return previewInput(rapidDrawer{t}, o) })
}

// RandomFleet is Fleets drawn from r.
func RandomFleet(r *rand.Rand, o Options) []plan.Target { return fleet(randDrawer{r}, o) }

// RandomConfig is Configs drawn from r.
func RandomConfig(r *rand.Rand, o Options) config.Config {
	_, hi, _ := o.bounds()
	return serverConfig(randDrawer{r}, hi)
}

// RandomFailures is Failures drawn from r.
func RandomFailures(r *rand.Rand, ts []plan.Target) []string { return failures(randDrawer{r}, ts) }

// RandomPreviewInput is PreviewInputs drawn from r: the same input for the
// same seed.
func RandomPreviewInput(r *rand.Rand, o Options) plan.PreviewInput {
	return previewInput(randDrawer{r}, o)
}

// Hosts returns n Pending in-place targets host-1 … host-n (zero-padded to
// the width of n, so that IDs sort by number: host-01 … host-40), Healthy
// with revision health Old (a fleet about to get a new revision), spread
// over zones in turn: host-01 in zones[0], host-02 in zones[1], and so on.
// Without zones the targets have none.
func Hosts(n int, zones ...string) []plan.Target {
	width := len(fmt.Sprint(n))
	ts := make([]plan.Target, max(n, 0))
	for i := range ts {
		ts[i] = plan.Target{ID: fmt.Sprintf("host-%0*d", width, i+1), Instance: health.Healthy, Revision: health.Old, Status: target.TargetPending}
		if len(zones) > 0 {
			ts[i].Zone = zones[i%len(zones)]
		}
	}
	return ts
}

// Unhealthy marks the targets of ts with the given IDs Unhealthy and
// returns ts. IDs not in ts are ignored.
func Unhealthy(ts []plan.Target, ids ...string) []plan.Target {
	for i := range ts {
		for _, id := range ids {
			if ts[i].ID == id {
				ts[i].Instance = health.Unhealthy
			}
		}
	}
	return ts
}

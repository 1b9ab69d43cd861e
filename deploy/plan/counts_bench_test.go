package plan_test

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"testing"
	"time"

	"github.com/fleetdeploy/fleetdeploy/config"
	"github.com/fleetdeploy/fleetdeploy/deploy/plan"
	"github.com/fleetdeploy/fleetdeploy/target"
)

// BenchmarkPreviewMemoryZonal is BenchmarkPreviewMemory's worst case for
// the per-step counts: 1,000,000 targets over three zones of a zonal
// configuration, each target with its own duration (1 ms to 600 s), so
// that nearly every finish is a step of its own and carries zone counts.
// The metrics are BenchmarkPreviewMemory's; the goal is the same ≤ 1 KiB
// resident per target.
func BenchmarkPreviewMemoryZonal(b *testing.B) {
	const n = 1_000_000
	c := config.Config{Name: "HalfPerZone", MinimumHealthyHosts: &config.MinimumHealthyHosts{Type: config.FleetPercent, Value: 50},
		ZonalConfig: &config.ZonalConfig{MinimumHealthyHostsPerZone: &config.MinimumHealthyHosts{Type: config.FleetPercent, Value: 50}}}
	if err := c.Validate(); err != nil {
		b.Fatal(err)
	}
	var fleet []plan.Target
	durations := make(map[string]time.Duration, n)
	input, _ := heapUse(func() {
		fleet = memFleet(n)
		rng := rand.New(rand.NewPCG(n, 5))
		for i := range fleet {
			fleet[i].Zone = fmt.Sprintf("az-%c", 'a'+i%3)
			durations[fleet[i].ID] = time.Duration(1+rng.IntN(600_000)) * time.Millisecond
		}
	})
	in := plan.PreviewInput{Input: plan.Input{Config: c, Type: target.InPlace, Targets: fleet}, Durations: durations}
	var retained, allocated int64
	steps := 0
	for range b.N {
		var s plan.Schedule
		r, a := heapUse(func() {
			var err error
			s, err = plan.Preview(in)
			if err != nil {
				b.Fatal(err)
			}
		})
		if s.Status != plan.Succeeded || s.Succeeded != n {
			b.Fatalf("preview ended %s, %d succeeded: %s", s.Status, s.Succeeded, s.Explanation)
		}
		steps = len(s.Steps)
		runtime.KeepAlive(s)
		retained, allocated = retained+r, allocated+a
	}
	b.ReportMetric(float64(retained)/float64(b.N)/n, "B/target-retained")
	b.ReportMetric(float64(allocated)/float64(b.N)/n, "B/target-allocated")
	b.ReportMetric(float64(input)/n, "B/target-input")
	b.ReportMetric(float64(steps), "steps")
}

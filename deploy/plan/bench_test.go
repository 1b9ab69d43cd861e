package plan

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/fleetdeploy/fleetdeploy/config"
	"github.com/fleetdeploy/fleetdeploy/health"
	"github.com/fleetdeploy/fleetdeploy/target"
)

// benchFleet returns n targets with random EC2-style IDs and a random health
// mix: 10% Unhealthy, the rest spread over the revision classes.
func benchFleet(n int, seed uint64) []Target {
	rng := rand.New(rand.NewPCG(seed, 1))
	ts := make([]Target, n)
	revs := []health.RevisionHealth{health.Current, health.Old, health.Unknown}
	for i := range ts {
		inst := health.Healthy
		if rng.IntN(10) == 0 {
			inst = health.Unhealthy
		}
		ts[i] = Target{
			ID:       fmt.Sprintf("i-%017x", rng.Uint64()>>4),
			Instance: inst,
			Revision: revs[rng.IntN(3)],
			Status:   target.TargetPending,
		}
	}
	return ts
}

// rollout builds a planner from the whole fleet and drives it to Done,
// reporting started targets as succeeded in FIFO order.
func rollout(b *testing.B, in Input) Decision {
	p, err := New(in)
	if err != nil {
		b.Fatal(err)
	}
	now := time.Unix(0, 0)
	queue := make([]int, 0, len(in.Targets))
	head := 0
	for {
		d := p.Next(now)
		if d.Done {
			return d
		}
		queue = append(queue, d.Start...)
		if head == len(queue) {
			b.Fatalf("stalled: %+v", d)
		}
		if err := p.Finished(queue[head], true); err != nil {
			b.Fatal(err)
		}
		head++
	}
}

// BenchmarkRolloutPlan plans whole HalfAtATime rollouts. The 1M case also
// times slices.SortFunc over the same records with the health-order
// comparator and reports planTime/sortTime as x-sort (goal ≤ 1.5), and the
// same ratio against sorting compact health.Target records as
// x-sort-compact.
func BenchmarkRolloutPlan(b *testing.B) {
	half, _ := config.Predefined("CodeDeployDefault.HalfAtATime")
	for _, n := range []int{1_000, 10_000, 100_000, 1_000_000} {
		name := fmt.Sprintf("%dk", n/1000)
		if n >= 1_000_000 {
			name = fmt.Sprintf("%dM", n/1_000_000)
		}
		b.Run(name, func(b *testing.B) {
			fleet := benchFleet(n, uint64(n))
			in := Input{Config: half, Type: target.InPlace, Targets: fleet}
			var planTime, sortTime, compactTime time.Duration
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				start := time.Now()
				d := rollout(b, in)
				planTime += time.Since(start)
				if d.Status != Succeeded {
					b.Fatalf("rollout ended %s: %s", d.Status, d.Explanation)
				}
				if n >= 1_000_000 {
					b.StopTimer()
					recs := slices.Clone(fleet)
					start := time.Now()
					slices.SortFunc(recs, func(a, b Target) int { return health.Compare(a.Health(), b.Health()) })
					sortTime += time.Since(start)
					// A stricter baseline: the same order over compact
					// (ID, health) records.
					compact := make([]health.Target, len(fleet))
					for i, t := range fleet {
						compact[i] = t.Health()
					}
					start = time.Now()
					slices.SortFunc(compact, health.Compare)
					compactTime += time.Since(start)
					b.StartTimer()
				}
			}
			if sortTime > 0 {
				b.ReportMetric(float64(planTime)/float64(sortTime), "x-sort")
				b.ReportMetric(float64(sortTime.Nanoseconds())/float64(b.N), "sort-ns/op")
				b.ReportMetric(float64(planTime)/float64(compactTime), "x-sort-compact")
			}
		})
	}
}

package plan_test

import (
	"cmp"
	"container/heap"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/fleetdeploy/fleetdeploy/config"
	"github.com/fleetdeploy/fleetdeploy/deploy/plan"
	"github.com/fleetdeploy/fleetdeploy/health"
	"github.com/fleetdeploy/fleetdeploy/target"
)

// This file measures the planner's two performance goals: schedule quality
// (a makespan within 1% of the lower bound) and memory (at most 1 KiB
// resident per target). Schedule quality compares Preview's makespan with
// the lower bound of identical-machine scheduling (P||Cmax): with every
// target Healthy, the minimum healthy hosts rule (package health) reduces
// to W = N−M targets in flight, so no schedule that keeps the bound can
// finish before LB = max(longest duration, sum of durations / W).

// qualityFleet returns n Healthy, Old-revision, Pending targets with IDs
// i-00000000, i-00000001, …, so the planner's start order (health class,
// then ID) is the index order.
func qualityFleet(n int) []plan.Target {
	ts := make([]plan.Target, n)
	for i := range ts {
		ts[i] = plan.Target{ID: fmt.Sprintf("i-%08d", i), Instance: health.Healthy, Revision: health.Old,
			Status: target.TargetPending}
	}
	return ts
}

// windowConfig is a custom HOST_COUNT configuration that, over n Healthy
// targets, leaves exactly w in flight at once (W = N−M).
func windowConfig(n, w int) config.Config {
	return config.Config{Name: fmt.Sprintf("Window%d", w), ComputePlatform: config.Server,
		MinimumHealthyHosts: &config.MinimumHealthyHosts{Type: config.HostCount, Value: n - w}}
}

// durationDist draws one target's duration from a seeded generator, in
// whole milliseconds so that virtual time is exact.
type durationDist struct {
	name string
	draw func(rng *rand.Rand) time.Duration
}

var qualityDists = []durationDist{
	{"uniform30-300s", func(rng *rand.Rand) time.Duration {
		return time.Duration(30_000+rng.IntN(270_001)) * time.Millisecond
	}},
	// Lognormal with a 60 s median and σ = 1: mean ≈ 99 s, a few targets
	// of the thousand take over 20 minutes.
	{"lognormal-median60s-sigma1", func(rng *rand.Rand) time.Duration {
		ms := math.Round(60_000 * math.Exp(rng.NormFloat64()))
		return time.Duration(max(ms, 1)) * time.Millisecond
	}},
}

// drawDurations gives every target of ts a duration from dist.
func drawDurations(ts []plan.Target, dist durationDist, seed uint64) (map[string]time.Duration, []time.Duration) {
	rng := rand.New(rand.NewPCG(seed, 7))
	byID := make(map[string]time.Duration, len(ts))
	all := make([]time.Duration, len(ts))
	for i, t := range ts {
		d := dist.draw(rng)
		byID[t.ID] = d
		all[i] = d
	}
	return byID, all
}

// lowerBound is the P||Cmax lower bound over w identical machines:
// max(longest job, total work / w), in seconds.
func lowerBound(ds []time.Duration, w int) float64 {
	var sum, longest time.Duration
	for _, d := range ds {
		sum += d
		longest = max(longest, d)
	}
	return max(longest.Seconds(), sum.Seconds()/float64(w))
}

// grahamBound is the makespan no work-conserving list schedule on w
// machines exceeds, whatever its order: sum/w + (1 − 1/w)·longest, in
// seconds (Graham 1966).
func grahamBound(ds []time.Duration, w int) float64 {
	var sum, longest time.Duration
	for _, d := range ds {
		sum += d
		longest = max(longest, d)
	}
	return sum.Seconds()/float64(w) + (1-1/float64(w))*longest.Seconds()
}

// machines is a min-heap of machine finish times.
type machines []time.Duration

func (m machines) Len() int           { return len(m) }
func (m machines) Less(i, j int) bool { return m[i] < m[j] }
func (m machines) Swap(i, j int)      { m[i], m[j] = m[j], m[i] }
func (m *machines) Push(x any)        { *m = append(*m, x.(time.Duration)) }
func (m *machines) Pop() any {
	old := *m
	x := old[len(old)-1]
	*m = old[:len(old)-1]
	return x
}

// lptMakespan is the makespan, in seconds, of LPT (longest processing time
// first) list scheduling of ds on w identical machines: a reference
// schedule within 4/3 − 1/(3w) of optimal, usually much closer.
func lptMakespan(ds []time.Duration, w int) float64 {
	jobs := slices.Clone(ds)
	slices.SortFunc(jobs, func(a, b time.Duration) int { return cmp.Compare(b, a) })
	m := make(machines, min(w, len(jobs)))
	heap.Init(&m)
	var end time.Duration
	for _, d := range jobs {
		f := m[0] + d
		m[0] = f
		heap.Fix(&m, 0)
		end = max(end, f)
	}
	return end.Seconds()
}

// previewMakespan previews an in-place deployment of ts under c with the
// given durations and checks it succeeded with w in flight at most.
func previewMakespan(tb testing.TB, c config.Config, ts []plan.Target, durs map[string]time.Duration, w int) plan.Schedule {
	tb.Helper()
	s, err := plan.Preview(plan.PreviewInput{Input: plan.Input{Config: c, Type: target.InPlace, Targets: ts},
		Durations: durs})
	if err != nil {
		tb.Fatal(err)
	}
	if s.Status != plan.Succeeded {
		tb.Fatalf("preview ended %s %s: %s", s.Status, s.ErrorCode, s.Explanation)
	}
	if s.MaxInFlight != w || s.PeakInFlight > w {
		tb.Fatalf("MaxInFlight %d, PeakInFlight %d; want window %d", s.MaxInFlight, s.PeakInFlight, w)
	}
	return s
}

// TestScheduleQuality checks that Preview keeps the window of the minimum
// healthy hosts rule full in cases where that alone makes the schedule
// provably near-optimal.
func TestScheduleQuality(t *testing.T) {
	const n, w = 10_000, 100
	ts := qualityFleet(n)
	c := windowConfig(n, w)

	// Equal durations: n/w full rounds, exactly the lower bound.
	t.Run("equal durations fill every round", func(t *testing.T) {
		durs := make(map[string]time.Duration, n)
		all := make([]time.Duration, n)
		for i, tg := range ts {
			durs[tg.ID], all[i] = 60*time.Second, 60*time.Second
		}
		s := previewMakespan(t, c, ts, durs, w)
		if lb := lowerBound(all, w); float64(s.DurationSeconds) != lb || lb != n/w*60 {
			t.Errorf("makespan %vs, lower bound %vs; want both %ds", s.DurationSeconds, lb, n/w*60)
		}
		if s.PeakInFlight != w {
			t.Errorf("PeakInFlight %d; want the full window %d", s.PeakInFlight, w)
		}
	})

	// Random durations: a schedule that starts the next target whenever one of
	// the w slots frees is within Graham's bound. With 10 slots (1,000 targets
	// each) that bound is under 0.2% above the lower bound, so 1% is provable.
	t.Run("uniform 30-300s within Graham's bound and 1%", func(t *testing.T) {
		const w = 10
		durs, all := drawDurations(ts, qualityDists[0], 42)
		s := previewMakespan(t, windowConfig(n, w), ts, durs, w)
		got, lb, graham := float64(s.DurationSeconds), lowerBound(all, w), grahamBound(all, w)
		if got > graham+1e-9 {
			t.Errorf("makespan %.3fs exceeds Graham's list-scheduling bound %.3fs: the window was not kept full", got, graham)
		}
		if got/lb > 1.01 {
			t.Errorf("makespan %.3fs is %.4f× the lower bound %.3fs; want ≤ 1.01", got, got/lb, lb)
		}
	})
}

// BenchmarkScheduleQuality previews in-place rollouts of all-Healthy fleets
// with random per-target durations and reports the makespan as a multiple of
// the P||Cmax lower bound (x-lowerbound; the goal is ≤ 1.01) and of LPT's
// makespan (x-lpt), plus LPT over the lower bound (lpt-x-lowerbound) to show
// how tight the bound is.
func BenchmarkScheduleQuality(b *testing.B) {
	half, _ := config.Predefined("CodeDeployDefault.HalfAtATime")
	for _, n := range []int{1_000, 10_000, 100_000} {
		cfgs := []struct {
			name string
			c    config.Config
			w    int
		}{
			{"HalfAtATime", half, n / 2},
			{"HostCountW10", windowConfig(n, 10), 10},
		}
		for _, cf := range cfgs {
			for di, dist := range qualityDists {
				b.Run(fmt.Sprintf("%dk/%s/%s", n/1000, cf.name, dist.name), func(b *testing.B) {
					ts := qualityFleet(n)
					durs, all := drawDurations(ts, dist, uint64(n)*10+uint64(di))
					lb, lpt := lowerBound(all, cf.w), lptMakespan(all, cf.w)
					var makespan float64
					b.ResetTimer()
					for range b.N {
						s := previewMakespan(b, cf.c, ts, durs, cf.w)
						makespan = float64(s.DurationSeconds)
					}
					b.ReportMetric(makespan/lb, "x-lowerbound")
					b.ReportMetric(makespan/lpt, "x-lpt")
					b.ReportMetric(lpt/lb, "lpt-x-lowerbound")
					b.ReportMetric(float64(n)/float64(cf.w), "targets/slot")
				})
			}
		}
	}
}

// memFleet returns n Pending targets, 10% Unhealthy, the rest Healthy over
// the revision classes, with random EC2-style IDs.
func memFleet(n int) []plan.Target {
	rng := rand.New(rand.NewPCG(uint64(n), 3))
	revs := []health.RevisionHealth{health.Current, health.Old, health.Unknown}
	ts := make([]plan.Target, n)
	for i := range ts {
		inst := health.Healthy
		if rng.IntN(10) == 0 {
			inst = health.Unhealthy
		}
		ts[i] = plan.Target{ID: fmt.Sprintf("i-%017x", rng.Uint64()>>4), Instance: inst,
			Revision: revs[rng.IntN(3)], Status: target.TargetPending}
	}
	return ts
}

// heapUse runs f after a full GC and returns the live heap it left behind
// (with f's result kept alive by f's caller) and the bytes it allocated.
func heapUse(f func()) (retained, allocated int64) {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.GC()
	runtime.ReadMemStats(&after)
	return int64(after.HeapAlloc) - int64(before.HeapAlloc), int64(after.TotalAlloc - before.TotalAlloc)
}

// driveRollout builds a planner over in and drives it to Done, reporting
// started targets as succeeded in FIFO order; it returns the planner.
func driveRollout(b *testing.B, in plan.Input) *plan.Planner {
	p, err := plan.New(in)
	if err != nil {
		b.Fatal(err)
	}
	now := time.Unix(0, 0)
	queue := make([]int, 0, len(in.Targets))
	head := 0
	for {
		d := p.Next(now)
		if d.Done {
			if d.Status != plan.Succeeded {
				b.Fatalf("rollout ended %s: %s", d.Status, d.Explanation)
			}
			return p
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

// BenchmarkPreviewMemory measures heap per target of a 1,000,000-target
// HalfAtATime rollout (10% Unhealthy, default durations) against the goal
// of ≤ 1 KiB resident per target. B/target-retained is the live heap
// left after a GC with the result kept alive; B/target-allocated is all
// bytes allocated on the way, an upper bound on the peak. The fleet itself
// (Input.Targets, reported as B/target-input) is built beforehand and is
// not counted in either.
func BenchmarkPreviewMemory(b *testing.B) {
	const n = 1_000_000
	half, _ := config.Predefined("CodeDeployDefault.HalfAtATime")
	var fleet []plan.Target
	input, _ := heapUse(func() { fleet = memFleet(n) })
	in := plan.Input{Config: half, Type: target.InPlace, Targets: fleet}

	b.Run("Preview", func(b *testing.B) {
		var retained, allocated int64
		for range b.N {
			var s plan.Schedule
			r, a := heapUse(func() {
				var err error
				s, err = plan.Preview(plan.PreviewInput{Input: in})
				if err != nil {
					b.Fatal(err)
				}
			})
			if s.Status != plan.Succeeded || s.Succeeded != n {
				b.Fatalf("preview ended %s, %d succeeded: %s", s.Status, s.Succeeded, s.Explanation)
			}
			runtime.KeepAlive(s)
			retained, allocated = retained+r, allocated+a
		}
		b.ReportMetric(float64(retained)/float64(b.N)/n, "B/target-retained")
		b.ReportMetric(float64(allocated)/float64(b.N)/n, "B/target-allocated")
		b.ReportMetric(float64(input)/n, "B/target-input")
	})

	b.Run("Planner", func(b *testing.B) {
		var retained, allocated int64
		for range b.N {
			var p *plan.Planner
			r, a := heapUse(func() { p = driveRollout(b, in) })
			runtime.KeepAlive(p)
			retained, allocated = retained+r, allocated+a
		}
		b.ReportMetric(float64(retained)/float64(b.N)/n, "B/target-retained")
		b.ReportMetric(float64(allocated)/float64(b.N)/n, "B/target-allocated")
		b.ReportMetric(float64(input)/n, "B/target-input")
	})
}

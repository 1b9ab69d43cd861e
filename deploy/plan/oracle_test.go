package plan

import (
	"fmt"
	"math"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/fleetdeploy/fleetdeploy/config"
	"github.com/fleetdeploy/fleetdeploy/health"
)

// The oracle: a naive, obviously-correct simulator of an in-place
// deployment, written straight from the rules in the package documentation
// ("Server in-place" and "Zonal deployments"). It re-sorts and recounts the
// whole fleet before every single start (O(n²) and worse), shares no code
// with the planner, and its schedule must be identical to Preview's.

type naiveTarget struct {
	id, zone  string
	unhealthy bool
	revision  health.RevisionHealth
	status    string // Pending, InProgress, Succeeded, Failed
	finishAt  time.Duration
	fails     bool
	dur       time.Duration
}

// moment is what happened at one time: starts in order, finishes as sets.
type moment struct {
	Start     []string
	Succeeded []string
	Failed    []string
}

type naiveResult struct {
	Moments                         map[time.Duration]*moment
	Status                          DeploymentStatus
	Code                            ErrorCode
	Succeeded, Failed, NotAttempted int
	Peak, Lowest                    int
	End                             time.Duration
}

func naiveClass(t *naiveTarget) int {
	switch {
	case t.unhealthy:
		return 0
	case t.revision == health.Unknown:
		return 1
	case t.revision == health.Old:
		return 2
	}
	return 3
}

func naiveCount(n int, rule config.MinimumHealthyHosts) int {
	if rule.Type == config.HostCount {
		return rule.Value
	}
	return int(math.Ceil(float64(n) * float64(rule.Value) / 100))
}

func naiveSimulate(s scenario) naiveResult {
	c := s.in.Config
	var ts []*naiveTarget
	for _, tg := range s.in.Targets {
		nt := &naiveTarget{id: tg.ID, zone: tg.Zone, unhealthy: tg.Instance == health.Unhealthy, revision: tg.Revision,
			status: "Pending", dur: 60 * time.Second, fails: slices.Contains(s.fail, tg.ID)}
		if d, ok := s.durations[tg.ID]; ok {
			nt.dur = d
		}
		ts = append(ts, nt)
	}
	n := len(ts)
	one := c.IsOneAtATime()
	var m, w int
	if one {
		m, w = n-1, 1
	} else {
		m = naiveCount(n, *c.MinimumHealthyHosts)
		w = max(n-m, 0)
	}
	zonal := c.ZonalConfig != nil && !s.in.Rollback
	res := naiveResult{Moments: map[time.Duration]*moment{}}
	at := func(now time.Duration) *moment {
		if res.Moments[now] == nil {
			res.Moments[now] = &moment{Start: []string{}, Succeeded: []string{}, Failed: []string{}}
		}
		return res.Moments[now]
	}
	healthyNow := func(t *naiveTarget) bool {
		return t.status == "Succeeded" || t.status == "Pending" && !t.unhealthy
	}
	count := func(f func(*naiveTarget) bool) int {
		k := 0
		for _, t := range ts {
			if f(t) {
				k++
			}
		}
		return k
	}
	zoneOrder := func() []string {
		var zs []string
		for _, t := range ts {
			if !slices.Contains(zs, t.zone) {
				zs = append(zs, t.zone)
			}
		}
		hasUnhealthy := func(z string) bool {
			return count(func(t *naiveTarget) bool { return t.zone == z && t.unhealthy }) > 0
		}
		sort.Slice(zs, func(i, j int) bool {
			if hasUnhealthy(zs[i]) != hasUnhealthy(zs[j]) {
				return hasUnhealthy(zs[i])
			}
			return zs[i] < zs[j]
		})
		return zs
	}
	sorted := func() []*naiveTarget {
		zs := zoneOrder()
		out := slices.Clone(ts)
		sort.Slice(out, func(i, j int) bool {
			a, b := out[i], out[j]
			if zonal && a.zone != b.zone {
				return slices.Index(zs, a.zone) < slices.Index(zs, b.zone)
			}
			if naiveClass(a) != naiveClass(b) {
				return naiveClass(a) < naiveClass(b)
			}
			return a.id < b.id
		})
		return out
	}
	finish := func(now time.Duration, st DeploymentStatus, code ErrorCode) naiveResult {
		res.Status, res.Code, res.End = st, code, now
		res.Succeeded = count(func(t *naiveTarget) bool { return t.status == "Succeeded" })
		res.Failed = count(func(t *naiveTarget) bool { return t.status == "Failed" })
		res.NotAttempted = n - res.Succeeded - res.Failed
		return res
	}
	res.Lowest = count(healthyNow)
	if n == 0 {
		return finish(0, Failed, NoInstances)
	}
	if !one && m >= n || count(healthyNow) <= m && count(func(t *naiveTarget) bool { return t.unhealthy }) == 0 {
		return finish(0, Failed, HealthConstraintsInvalid)
	}
	var now time.Duration
	zi := 0
	bakeUntil := time.Duration(-1)
	oneFailed := false
	for {
		// Finishes due now.
		for _, t := range sorted() {
			if t.status == "InProgress" && t.finishAt == now {
				if t.fails {
					t.status = "Failed"
					at(now).Failed = append(at(now).Failed, t.id)
					if one && count(func(t *naiveTarget) bool { return t.status == "Pending" }) > 0 {
						oneFailed = true
					}
				} else {
					t.status = "Succeeded"
					at(now).Succeeded = append(at(now).Succeeded, t.id)
				}
			}
		}
		inFlight := func() int { return count(func(t *naiveTarget) bool { return t.status == "InProgress" }) }
		if oneFailed {
			return finish(now, Failed, HealthConstraints)
		}
		// The active zone, with the monitor wait after each zone.
		zs := zoneOrder()
		active := func(t *naiveTarget) bool { return !zonal || t.zone == zs[zi] }
		waiting := false
		for zonal && zi < len(zs)-1 && count(func(t *naiveTarget) bool {
			return active(t) && (t.status == "Pending" || t.status == "InProgress")
		}) == 0 {
			bake := c.ZonalConfig.MonitorDuration()
			if zi == 0 {
				bake = c.ZonalConfig.FirstZoneMonitorDuration()
			}
			if bake > 0 && bakeUntil < 0 {
				bakeUntil = now + bake
			}
			if bake > 0 && now < bakeUntil {
				waiting = true
				break
			}
			zi++
			bakeUntil = -1
		}
		// Starts: strictly in order, recounting everything each time.
		if !waiting {
			for _, t := range sorted() {
				if t.status != "Pending" || !active(t) {
					continue
				}
				if inFlight() >= w {
					break
				}
				if healthyNow(t) {
					if count(healthyNow)-1 < m {
						break
					}
					if zonal {
						zn := count(func(x *naiveTarget) bool { return x.zone == t.zone })
						mz := naiveCount(zn, c.ZonalConfig.PerZoneMinimum())
						if count(func(x *naiveTarget) bool { return x.zone == t.zone && healthyNow(x) })-1 < mz {
							break
						}
					}
				}
				t.status, t.finishAt = "InProgress", now+t.dur
				at(now).Start = append(at(now).Start, t.id)
			}
			res.Peak = max(res.Peak, inFlight())
			res.Lowest = min(res.Lowest, count(healthyNow))
			if inFlight() == 0 {
				if count(func(t *naiveTarget) bool { return t.status == "Pending" && active(t) }) > 0 {
					return finish(now, Failed, HealthConstraints)
				}
				succ := count(func(t *naiveTarget) bool { return t.status == "Succeeded" })
				fail := count(func(t *naiveTarget) bool { return t.status == "Failed" })
				ok := succ >= max(m, 1)
				if one {
					ok = succ >= 1 && succ+fail == n && fail <= 1
				}
				if ok {
					return finish(now, Succeeded, "")
				}
				return finish(now, Failed, HealthConstraints)
			}
		}
		// The next moment.
		next := time.Duration(-1)
		for _, t := range ts {
			if t.status == "InProgress" && (next < 0 || t.finishAt < next) {
				next = t.finishAt
			}
		}
		if waiting && (next < 0 || bakeUntil < next) {
			next = bakeUntil
		}
		now = next
	}
}

// moments flattens a Schedule the way the oracle records it.
func moments(s Schedule) map[time.Duration]*moment {
	out := map[time.Duration]*moment{}
	for _, st := range s.Steps {
		if len(st.Start)+len(st.Succeeded)+len(st.Failed) == 0 {
			continue
		}
		at := st.At.Duration()
		m := out[at]
		if m == nil {
			m = &moment{Start: []string{}, Succeeded: []string{}, Failed: []string{}}
			out[at] = m
		}
		m.Start = append(m.Start, st.Start...)
		m.Succeeded = append(m.Succeeded, st.Succeeded...)
		m.Failed = append(m.Failed, st.Failed...)
	}
	return out
}

func sortedMoments(ms map[time.Duration]*moment) string {
	var keys []time.Duration
	for k := range ms {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var b strings.Builder
	for _, k := range keys {
		m := ms[k]
		s, f := slices.Clone(m.Succeeded), slices.Clone(m.Failed)
		slices.Sort(s)
		slices.Sort(f)
		fmt.Fprintf(&b, "%v: start %v ok %v fail %v\n", k, m.Start, s, f)
	}
	return b.String()
}

func TestOracleNaiveSimulatorMatchesPreview(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		s := genScenario(t, 25)
		got := s.preview(t)
		want := naiveSimulate(s)
		if g, w := sortedMoments(moments(got)), sortedMoments(want.Moments); g != w {
			t.Fatalf("schedules differ\npreview:\n%s\noracle:\n%s", g, w)
		}
		gotRes := []any{got.Status, got.ErrorCode, got.Succeeded, got.Failed, got.NotAttempted, got.PeakInFlight, got.LowestHealthy, got.DurationSeconds.Duration()}
		wantRes := []any{want.Status, want.Code, want.Succeeded, want.Failed, want.NotAttempted, want.Peak, want.Lowest, want.End}
		if !reflect.DeepEqual(gotRes, wantRes) {
			t.Fatalf("result %v, oracle %v\n%s", gotRes, wantRes, got.Explanation)
		}
	})
}

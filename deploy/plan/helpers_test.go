package plan

import (
	"fmt"
	"testing"
	"time"

	"github.com/fleetdeploy/fleetdeploy/config"
	"github.com/fleetdeploy/fleetdeploy/health"
	"github.com/fleetdeploy/fleetdeploy/target"
)

var epoch = time.Unix(0, 0).UTC()

// fleet returns n Healthy/Current Pending targets t01, t02, ….
func fleet(n int) []Target {
	ts := make([]Target, n)
	for i := range ts {
		ts[i] = Target{ID: fmt.Sprintf("t%02d", i+1), Instance: health.Healthy, Revision: health.Current, Status: target.TargetPending}
	}
	return ts
}

// ids returns t01…tNN for the given numbers.
func ids(nums ...int) []string {
	out := make([]string, len(nums))
	for i, n := range nums {
		out[i] = fmt.Sprintf("t%02d", n)
	}
	return out
}

func predef(t testing.TB, name string) config.Config {
	t.Helper()
	c, ok := config.Predefined(name)
	if !ok {
		t.Fatalf("no predefined config %q", name)
	}
	return c
}

func custom(typ config.MinimumHealthyHostsType, v int) config.Config {
	return config.Config{Name: fmt.Sprintf("Custom%s%d", typ, v), ComputePlatform: config.Server,
		MinimumHealthyHosts: &config.MinimumHealthyHosts{Type: typ, Value: v}}
}

func hostCount(v int) config.Config    { return custom(config.HostCount, v) }
func fleetPercent(v int) config.Config { return custom(config.FleetPercent, v) }

func inPlace(c config.Config, ts []Target) Input {
	return Input{Config: c, Type: target.InPlace, Targets: ts}
}

func preview(t testing.TB, in Input, fail ...string) Schedule {
	t.Helper()
	s, err := Preview(PreviewInput{Input: in, Fail: fail})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// starts returns the IDs started, in order, across the schedule.
func starts(s Schedule) []string {
	var out []string
	for _, st := range s.Steps {
		out = append(out, st.Start...)
	}
	return out
}

// batches returns the start lists of the steps that started something.
func batches(s Schedule) [][]string {
	var out [][]string
	for _, st := range s.Steps {
		if len(st.Start) > 0 {
			out = append(out, st.Start)
		}
	}
	return out
}

func expectMW(t testing.TB, s Schedule, m, w int) {
	t.Helper()
	if s.MinimumHealthy != m || s.MaxInFlight != w {
		t.Errorf("M %d W %d, want M %d W %d (%s)", s.MinimumHealthy, s.MaxInFlight, m, w, s.Arithmetic)
	}
}

func expectResult(t testing.TB, s Schedule, status DeploymentStatus, code ErrorCode, succeeded, failed, notAttempted int) {
	t.Helper()
	if s.Status != status || s.ErrorCode != code || s.Succeeded != succeeded || s.Failed != failed || s.NotAttempted != notAttempted {
		t.Errorf("got %s %q %d/%d/%d (succeeded/failed/not attempted), want %s %q %d/%d/%d\n%s",
			s.Status, s.ErrorCode, s.Succeeded, s.Failed, s.NotAttempted, status, code, succeeded, failed, notAttempted, s.Explanation)
	}
}

// subsets calls f with every subset of t01…tNN.
func subsets(n int, f func(fail []string)) {
	for mask := 0; mask < 1<<n; mask++ {
		var fail []string
		for i := range n {
			if mask&(1<<i) != 0 {
				fail = append(fail, fmt.Sprintf("t%02d", i+1))
			}
		}
		f(fail)
	}
}

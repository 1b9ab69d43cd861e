package plantest_test

import (
	"testing"

	"github.com/fleetdeploy/fleetdeploy/config"
	"github.com/fleetdeploy/fleetdeploy/deploy/plan"
	"github.com/fleetdeploy/fleetdeploy/deploy/plan/plantest"
	"github.com/fleetdeploy/fleetdeploy/target"
)

// BenchmarkViolations100k checks a zonal HalfAtATime schedule of 100,000
// targets in 3 zones: the replay is linear in targets and steps.
func BenchmarkViolations100k(b *testing.B) {
	c, _ := config.Predefined("CodeDeployDefault.HalfAtATime")
	c.ComputePlatform, c.Name = "", "ZonalHalf"
	c.ZonalConfig = &config.ZonalConfig{MonitorDurationInSeconds: new(int64(600))}
	in := plan.Input{Config: c, Type: target.InPlace, Targets: plantest.Hosts(100_000, "az-a", "az-b", "az-c")}
	s, err := plan.Preview(plan.PreviewInput{Input: in, Fail: []string{"host-000007"}})
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if vs := plantest.Violations(in, s); len(vs) > 0 {
			b.Fatal(vs[0])
		}
	}
}

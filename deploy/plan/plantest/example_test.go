package plantest_test

import (
	"fmt"

	"github.com/fleetdeploy/fleetdeploy/config"
	"github.com/fleetdeploy/fleetdeploy/deploy/plan"
	"github.com/fleetdeploy/fleetdeploy/deploy/plan/plantest"
	"github.com/fleetdeploy/fleetdeploy/target"
)

// 40 hosts in 3 zones, 3 of them Unhealthy: who goes first, what is the
// most ever offline, and what if host 7 fails — under HalfAtATime, then a
// custom 75% zonal configuration. Every schedule is checked against every
// rule ("[]": no violation).
//
// Derivation by hand (each target takes plan.DefaultDuration, 60s). Hosts
// go to az-a, az-b, az-c in turn: az-a holds 01,04,…,40 (14), az-b
// 02,05,…,38 (13), az-c 03,06,…,39 (13); host-05 (az-b), host-12 and
// host-30 (az-c) are Unhealthy, so 37 are healthy.
//
// HalfAtATime: M = ⌈40·50%⌉ = 20, W = 20. Unhealthy first (05, 12, 30);
// healthy ones may go while 37 − k ≥ 20, so 17 by ID join them: 20 in
// flight, 20 healthy left, 20 offline at most. At 60s all 20 are back (40
// healthy), the other 20 go; done at 120s. If host-07 fails, 39 are
// healthy at 60s, so only 19 may go; host-40 waits for them: done at 180s,
// 39 succeeded ≥ 20, Succeeded.
//
// Zonal 75% (monitor 300s, no per-zone minimum): M = 30, W = 10. Zones
// holding Unhealthy targets go first, by name: az-b, az-c, then az-a.
// az-b: host-05 plus 7 healthy (37 − 7 = 30) at 0s, its other 5 at 60s,
// done at 120s; bake to 420s. az-c: 12, 30 and 8 healthy (38 − 8 = 30),
// then 3; done at 540s; bake to 840s. az-a: 10 (40 − 10 = 30), then 4;
// done at 960s, no bake after the last zone. At most 10 offline (30
// healthy). host-07 is in az-a: it fails at 900s, 39 are healthy, the last
// 4 still go (35 ≥ 30): done at 960s, Succeeded.
func Example() {
	zonal := config.Config{Name: "Zonal75", MinimumHealthyHosts: &config.MinimumHealthyHosts{Type: config.FleetPercent, Value: 75},
		ZonalConfig: &config.ZonalConfig{MonitorDurationInSeconds: new(int64(300))}}
	half, _ := config.Predefined("CodeDeployDefault.HalfAtATime")
	for _, c := range []config.Config{half, zonal} {
		for _, fail := range [][]string{nil, {"host-07"}} {
			in := plan.Input{Config: c, Type: target.InPlace, Targets: plantest.Unhealthy(plantest.Hosts(40, "az-a", "az-b", "az-c"), "host-05", "host-12", "host-30")}
			s, err := plan.Preview(plan.PreviewInput{Input: in, Fail: fail})
			if err != nil {
				fmt.Println(err)
				return
			}
			fmt.Printf("%s fail %v: first %v…; at most %d offline (%d in flight, %d healthy, M %d); %s at %vs %v\n",
				c.Name, fail, s.Steps[0].Start[:4], len(in.Targets)-s.LowestHealthy, s.PeakInFlight, s.LowestHealthy, s.MinimumHealthy, s.Status, s.DurationSeconds, plantest.Violations(in, s))
		}
	}
	// Output:
	// CodeDeployDefault.HalfAtATime fail []: first [host-05 host-12 host-30 host-01]…; at most 20 offline (20 in flight, 20 healthy, M 20); Succeeded at 120s []
	// CodeDeployDefault.HalfAtATime fail [host-07]: first [host-05 host-12 host-30 host-01]…; at most 20 offline (20 in flight, 20 healthy, M 20); Succeeded at 180s []
	// Zonal75 fail []: first [host-05 host-02 host-08 host-11]…; at most 10 offline (10 in flight, 30 healthy, M 30); Succeeded at 960s []
	// Zonal75 fail [host-07]: first [host-05 host-02 host-08 host-11]…; at most 10 offline (10 in flight, 30 healthy, M 30); Succeeded at 960s []
}

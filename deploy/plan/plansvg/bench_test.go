package plansvg_test

import (
	"io"
	"testing"

	"github.com/fleetdeploy/fleetdeploy/deploy/plan/plansvg"
)

// BenchmarkRender draws the zonal rollout of 2,000 targets (summary
// lanes).
func BenchmarkRender(b *testing.B) {
	in, s := preview(b, `{"config": {"deploymentConfigName": "Z", "minimumHealthyHosts": {"type": "FLEET_PERCENT", "value": 90},
	  "zonalConfig": {"monitorDurationInSeconds": 600, "minimumHealthyHostsPerZone": {"type": "FLEET_PERCENT", "value": 80}}},
	  "targets": `+fleet(2000, 3)+`, "failures": ["i-9"]}`)
	b.ReportAllocs()
	for b.Loop() {
		if err := plansvg.Render(io.Discard, in, s); err != nil {
			b.Fatal(err)
		}
	}
}

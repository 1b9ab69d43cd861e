package localtraffic_test

import (
	"testing"

	"github.com/fleetdeploy/fleetdeploy/target/localtraffic"
)

func TestStatsArithmetic(t *testing.T) {
	prev := localtraffic.Stats{Route: live, Total: localtraffic.Counts{Requests: 10, Errors: 1},
		Backends: map[string]localtraffic.Counts{"v1": {Requests: 8, Errors: 1}, "v2": {Requests: 1}}}
	now := localtraffic.Stats{Route: live, Total: localtraffic.Counts{Requests: 110, Errors: 11},
		Backends: map[string]localtraffic.Counts{"v1": {Requests: 28, Errors: 1}, "v2": {Requests: 71, Errors: 10}, "v3": {}}}
	d := now.Sub(prev)
	if d.Total != (localtraffic.Counts{Requests: 100, Errors: 10}) {
		t.Errorf("Sub total = %+v", d.Total)
	}
	if len(d.Backends) != 2 || d.Backends["v1"] != (localtraffic.Counts{Requests: 20}) || d.Backends["v2"] != (localtraffic.Counts{Requests: 70, Errors: 10}) {
		t.Errorf("Sub backends = %+v; want v1 20, v2 70 with 10 errors, v3 (no change) left out", d.Backends)
	}
	if got := d.Unavailable(); got != 10 {
		t.Errorf("Unavailable = %d; want 10 (100 requests, 90 sent to a backend)", got)
	}
	if got := d.Share("v2"); got != 0.7 {
		t.Errorf("Share(v2) = %v; want 0.7", got)
	}
	if got := d.Backends["v2"].ErrorRate(); got != 1.0/7 {
		t.Errorf("ErrorRate = %v; want 1/7", got)
	}
	var zero localtraffic.Stats
	if zero.Share("v1") != 0 || (localtraffic.Counts{}).ErrorRate() != 0 || zero.Unavailable() != 0 {
		t.Error("no requests: shares and rates must be 0")
	}
}

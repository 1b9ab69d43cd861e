package deploy_test

import (
	"testing"

	"github.com/fleetdeploy/fleetdeploy/deploy"
	"github.com/fleetdeploy/fleetdeploy/health"
	"github.com/fleetdeploy/fleetdeploy/target"
)

// §2.4, §2.5: a deployment that reaches every target succeeds; the group's
// revision becomes the deployed one and every target is Healthy/Current.
func TestRunInPlaceSucceeds(t *testing.T) {
	e := newEnv(t, 10, "CodeDeployDefault.HalfAtATime", nil)
	d := e.deploy("v1")
	if d.Status != deploy.StatusSucceeded {
		t.Fatalf("status %s (%+v); want Succeeded", d.Status, d.ErrorInformation)
	}
	if got := e.groupRevision(); got != rev("v1").Key() {
		t.Errorf("group revision %q; want v1", got)
	}
	for id, h := range e.health() {
		if h.Instance != health.Healthy || h.Revision != health.Current {
			t.Errorf("%s: %s/%s; want Healthy/Current", id, h.Instance, h.Revision)
		}
	}
	for id, tg := range e.targets(d.ID) {
		if tg.Status != target.TargetSucceeded || len(tg.LifecycleEvents) != 7 {
			t.Errorf("%s: %s with %d events", id, tg.Status, len(tg.LifecycleEvents))
		}
	}
	if d.Overview.Succeeded != 10 {
		t.Errorf("overview %+v", d.Overview)
	}
	if v := e.fleet.Violations(); len(v) > 0 {
		t.Errorf("violations: %v", v)
	}
	t.Logf("statuses %v, max in flight %d", e.rec.Statuses(d.ID), e.fleet.MaxInFlight(d.ID))
}

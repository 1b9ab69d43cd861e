package deploy_test

import (
	"slices"
	"testing"

	"github.com/fleetdeploy/fleetdeploy/config"
	"github.com/fleetdeploy/fleetdeploy/deploy"
	"github.com/fleetdeploy/fleetdeploy/health"
	"github.com/fleetdeploy/fleetdeploy/target"
	"github.com/fleetdeploy/fleetdeploy/target/targettest"
)

// User Guide, "CodeDeploy instance health": a deployment that reaches every
// target succeeds; the group's revision becomes the deployed one and every
// target is Healthy/Current.
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

// API Reference, InstanceTarget lifecycleEvents: a target's record lists
// its lifecycle events from the moment the
// deployment is created, every one Pending, as CodeDeploy lists an
// instance's events before it starts them; a target the deployment never
// reached ends Skipped with every event Skipped.
func TestTargetsListTheirEventsFromTheStart(t *testing.T) {
	e := newEnv(t, 6, "CodeDeployDefault.OneAtATime", nil)
	e.seed(map[string]string{"i-000": "healthy-old", "i-001": "healthy-old", "i-002": "healthy-old",
		"i-003": "healthy-old", "i-004": "healthy-old", "i-005": "healthy-old"})
	want, err := target.Sequence{Platform: config.Server, Kind: target.KindInPlace}.Events()
	if err != nil {
		t.Fatal(err)
	}
	names := func(evs []deploy.LifecycleEventRecord) []target.LifecycleEvent {
		var out []target.LifecycleEvent
		for _, ev := range evs {
			out = append(out, ev.Name)
		}
		return out
	}
	everyEvent := func(what string, tg deploy.DeploymentTarget, status target.LifecycleEventStatus) {
		t.Helper()
		if !slices.Equal(names(tg.LifecycleEvents), want) {
			t.Fatalf("%s: target %s lists events %v; want %v", what, tg.TargetID, names(tg.LifecycleEvents), want)
		}
		for _, ev := range tg.LifecycleEvents {
			if ev.Status != status || !ev.StartTime.IsZero() || !ev.EndTime.IsZero() || ev.Diagnostics != nil {
				t.Errorf("%s: target %s event %s is %s (start %v, end %v, diagnostics %v); want %s and nothing else", what, tg.TargetID, ev.Name, ev.Status, ev.StartTime, ev.EndTime, ev.Diagnostics, status)
			}
		}
	}
	d := e.create("v1")
	for _, tg := range e.targets(d.ID) {
		everyEvent("created", tg, target.EventPending)
	}

	// One at a time, in ID order among equals: i-000 fails, and the
	// deployment stops there.
	e.fleet.Script("i-000", target.Install, targettest.Fail(target.CodeScriptFailed, "install failed"))
	got, err := e.exec.Run(e.ctx, d.ID)
	if err != nil || got.Status != deploy.StatusFailed {
		t.Fatalf("Run = %s, %v; want Failed", got.Status, err)
	}
	skipped := 0
	for id, tg := range e.targets(d.ID) {
		if id == "i-000" {
			if tg.Status != target.TargetFailed {
				t.Errorf("i-000 is %s; want Failed", tg.Status)
			}
			continue
		}
		if tg.Status != target.TargetSkipped {
			t.Errorf("%s is %s; want Skipped", id, tg.Status)
			continue
		}
		skipped++
		everyEvent("never reached", tg, target.EventSkipped)
	}
	if skipped != 5 {
		t.Errorf("%d targets Skipped; want 5", skipped)
	}
}

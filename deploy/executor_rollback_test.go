package deploy_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/fleetdeploy/fleetdeploy/config"
	"github.com/fleetdeploy/fleetdeploy/deploy"
	"github.com/fleetdeploy/fleetdeploy/deploy/plan"
	"github.com/fleetdeploy/fleetdeploy/health"
	"github.com/fleetdeploy/fleetdeploy/target"
	"github.com/fleetdeploy/fleetdeploy/target/targettest"
)

func autoRollback(events ...deploy.AutoRollbackEvent) func(*deploy.Group) {
	return func(g *deploy.Group) {
		g.AutoRollbackConfiguration = deploy.AutoRollbackConfiguration{Enabled: true, Events: events}
	}
}

// User Guide, "Redeploy and roll back a deployment with CodeDeploy": a
// failed deployment with DEPLOYMENT_FAILURE is
// rolled back by a new deployment (creator codeDeployRollback) of the last
// successful revision, linked both ways; Run runs it too. The group ends on
// the earlier revision and every target runs it again.
func TestRollbackOnFailure(t *testing.T) {
	e := newEnv(t, 4, "CodeDeployDefault.AllAtOnce", autoRollback(deploy.AutoRollbackDeploymentFailure))
	first := e.deploy("v1")
	if first.Status != deploy.StatusSucceeded {
		t.Fatalf("v1: %s", first.Status)
	}
	e.fleet.Script("", target.ApplicationStart, targettest.Fail(target.CodeScriptFailed, "start.sh exited 1").Limit(4))
	d := e.deploy("v2")
	if d.Status != deploy.StatusFailed || d.ErrorInformation.Code != plan.HealthConstraints {
		t.Fatalf("v2: %s %s", d.Status, d.ErrorInformation.Code)
	}
	rbID := d.RollbackInfo.RollbackDeploymentID
	if rbID == "" || !strings.Contains(d.RollbackInfo.RollbackMessage, rbID) {
		t.Fatalf("rollback info %+v", d.RollbackInfo)
	}
	rb := e.get(rbID)
	if rb.Creator != target.CreatorRollback || rb.RollbackInfo.RollbackTriggeringDeploymentID != d.ID ||
		rb.Revision.Key() != rev("v1").Key() || rb.Status != deploy.StatusSucceeded {
		t.Errorf("rollback %s: creator %s, triggered by %q, revision %s, %s", rbID, rb.Creator,
			rb.RollbackInfo.RollbackTriggeringDeploymentID, rb.Revision, rb.Status)
	}
	if got := e.groupRevision(); got != rev("v1").Key() {
		t.Errorf("group revision %s; want v1", got)
	}
	for id, h := range e.health() {
		if h.Instance != health.Healthy || h.Revision != health.Current {
			t.Errorf("%s: %+v after the rollback", id, h)
		}
		if got, _ := e.fleet.Installed(id); got.Key() != rev("v1").Key() {
			t.Errorf("%s runs %s after the rollback", id, got)
		}
	}
	g, _ := e.store.GetGroup(e.ctx, "shop", "prod")
	if g.LastSuccessfulDeployment.DeploymentID != rbID || g.LastAttemptedDeployment.DeploymentID != rbID {
		t.Errorf("group last successful %+v, last attempted %+v", g.LastSuccessfulDeployment, g.LastAttemptedDeployment)
	}
	// A manual rollback is a deployment of the earlier revision.
	if m := e.deploy("v1"); m.Status != deploy.StatusSucceeded || m.Creator != target.CreatorUser {
		t.Errorf("manual redeploy of v1: %s by %s", m.Status, m.Creator)
	}
}

// Fleetdeploy's decision: with no earlier successful revision there is no
// rollback; the failed deployment says why in words.
func TestRollbackWithoutEarlierRevision(t *testing.T) {
	e := newEnv(t, 2, "CodeDeployDefault.AllAtOnce", autoRollback(deploy.AutoRollbackDeploymentFailure))
	e.fleet.Script("", target.Install, targettest.Fail(target.CodeUnknownError, "disk full"))
	d := e.deploy("v1")
	if d.Status != deploy.StatusFailed || d.RollbackInfo.RollbackDeploymentID != "" ||
		!strings.Contains(d.RollbackInfo.RollbackMessage, "no earlier successful revision") {
		t.Fatalf("status %s, rollback info %+v", d.Status, d.RollbackInfo)
	}
	if ds, _ := e.store.ListDeployments(e.ctx, "shop", "prod"); len(ds) != 1 {
		t.Errorf("%d deployments; no rollback may be created", len(ds))
	}
}

// User Guide, "Redeploy and roll back a deployment with CodeDeploy": a stop
// with AutoRollback rolls back, after the stop; a stop
// without does not, and neither does a failure without DEPLOYMENT_FAILURE.
// Rollbacks are never zonal ("Create a deployment configuration with
// CodeDeploy") and never rolled back.
func TestRollbackRules(t *testing.T) {
	zonal := config.Config{Name: "Zonal", ComputePlatform: config.Server,
		MinimumHealthyHosts: &config.MinimumHealthyHosts{Type: config.HostCount, Value: 0},
		ZonalConfig:         &config.ZonalConfig{MonitorDurationInSeconds: ptr(int64(600))}}
	// advanceWhile with one waiter runs virtual time ahead of the workers:
	// the time limits are off (see advanceWhile).
	e := newEnv(t, 6, "Zonal", autoRollback(deploy.AutoRollbackDeploymentStopOnRequest), withConfigs(zonal), deploy.NoTimeLimits)
	v1 := advanceWhile(e.ctx, e.clk, 1, func() result { d, err := e.exec.Run(e.ctx, e.create("v1").ID); return result{d, err} })
	if v1.err != nil || v1.d.Status != deploy.StatusSucceeded {
		t.Fatalf("v1: %v %v", v1.d, v1.err)
	}
	d := e.create("v2")
	st, err := e.exec.Stop(e.ctx, d.ID, deploy.StopOptions{AutoRollback: ptr(true)})
	if err != nil || st != deploy.StopSucceeded {
		t.Fatalf("Stop = %s, %v", st, err)
	}
	stopped, err := e.exec.Resume(e.ctx, d.ID)
	if err != nil {
		t.Fatal(err)
	}
	rb := e.get(stopped.RollbackInfo.RollbackDeploymentID)
	if rb.Status != deploy.StatusSucceeded || rb.Creator != target.CreatorRollback {
		t.Fatalf("rollback %+v", rb)
	}
	for _, ev := range e.rec.Events() {
		if ev.DeploymentID == rb.ID && ev.Status == deploy.StatusBaking {
			t.Error("the rollback baked between zones; rollbacks are not zonal")
		}
	}
	if rb.RollbackInfo.RollbackDeploymentID != "" {
		t.Error("a rollback names a rollback of its own")
	}
	d = e.create("v3")
	if st, err := e.exec.Stop(e.ctx, d.ID, deploy.StopOptions{AutoRollback: ptr(false)}); err != nil || st != deploy.StopSucceeded {
		t.Fatalf("Stop = %s, %v", st, err)
	}
	if got := e.get(d.ID); got.RollbackInfo != (deploy.RollbackInfo{}) {
		t.Errorf("a stop without rollback has rollback info %+v", got.RollbackInfo)
	}
	// A failure is not rolled back without DEPLOYMENT_FAILURE.
	e.fleet.Script("", target.Install, targettest.Fail(target.CodeUnknownError, "disk full"))
	failed := advanceWhile(e.ctx, e.clk, 1, func() result { d, err := e.exec.Run(e.ctx, e.create("v4").ID); return result{d, err} })
	if failed.err != nil || failed.d.Status != deploy.StatusFailed || failed.d.RollbackInfo != (deploy.RollbackInfo{}) {
		t.Errorf("v4: %v, %s, rollback info %+v", failed.err, failed.d.Status, failed.d.RollbackInfo)
	}
}

func ptr[T any](v T) *T { return &v }

// API Reference, CreateDeploymentGroup (outdatedInstancesStrategy): a target
// that joins the group while a deployment runs gets a follow-on deployment
// of the same revision (creator CodeDeployAutoUpdate, linked through
// RelatedDeployments) with UPDATE, and is left alone with IGNORE.
func TestOutdatedInstances(t *testing.T) {
	for _, strategy := range []deploy.OutdatedInstancesStrategy{deploy.OutdatedInstancesUpdate, deploy.OutdatedInstancesIgnore} {
		t.Run(string(strategy), func(t *testing.T) {
			e := newEnv(t, 3, "CodeDeployDefault.OneAtATime", func(g *deploy.Group) { g.OutdatedInstancesStrategy = strategy })
			added := false
			e.fleet.OnCall(func(ctx context.Context, c targettest.Call) error {
				if !added && c.Target == "i-001" {
					added = true
					e.fleet.Add(target.Target{ID: "i-late", Tags: map[string]string{"env": "prod"}})
				}
				return nil
			})
			d := e.deploy("v1")
			if d.Status != deploy.StatusSucceeded {
				t.Fatalf("status %s", d.Status)
			}
			if _, ok := e.targets(d.ID)["i-late"]; ok {
				t.Fatal("a target that joined after the deployment was created is part of it")
			}
			ids := d.RelatedDeployments.AutoUpdateOutdatedInstancesDeploymentIDs
			if strategy == deploy.OutdatedInstancesIgnore {
				if len(ids) > 0 {
					t.Errorf("IGNORE started %v", ids)
				}
				if _, ok := e.fleet.Installed("i-late"); ok {
					t.Error("IGNORE deployed to the new target")
				}
				return
			}
			if len(ids) != 1 {
				t.Fatalf("related deployments %+v", d.RelatedDeployments)
			}
			au := e.get(ids[0])
			if au.Creator != target.CreatorAutoUpdate || au.Status != deploy.StatusSucceeded || au.Revision.Key() != rev("v1").Key() ||
				au.RelatedDeployments.AutoUpdateOutdatedInstancesRootDeploymentID != d.ID {
				t.Errorf("auto-update %+v", au)
			}
			if tgs := e.targets(au.ID); len(tgs) != 1 || tgs["i-late"].Status != target.TargetSucceeded {
				t.Errorf("auto-update targets %v", tgs)
			}
			if got, ok := e.fleet.Installed("i-late"); !ok || got.Key() != rev("v1").Key() {
				t.Errorf("i-late runs %v", got)
			}
		})
	}
}

// API Reference, TriggerConfig: trigger notifications go to the Notifiers
// for the event types the group's triggers list, once per trigger; the
// Observer sees every transition.
func TestNotificationsAndEvents(t *testing.T) {
	e := newEnv(t, 2, "CodeDeployDefault.AllAtOnce", func(g *deploy.Group) {
		g.TriggerConfigurations = []deploy.TriggerConfig{
			{TriggerName: "ops", TriggerTargetArn: "arn:sns:ops", TriggerEvents: []deploy.TriggerEventType{
				deploy.TriggerDeploymentStart, deploy.TriggerDeploymentFailure, deploy.TriggerInstanceFailure}},
			{TriggerName: "audit", TriggerTargetArn: "arn:sns:audit", TriggerEvents: []deploy.TriggerEventType{deploy.TriggerDeploymentFailure}},
		}
	})
	e.fleet.Script("", target.Install, targettest.Fail(target.CodeUnknownError, "disk full"))
	d := e.deploy("v1")
	got := e.rec.Triggers(d.ID)
	slices.Sort(got)
	want := []deploy.TriggerEventType{deploy.TriggerDeploymentFailure, deploy.TriggerDeploymentFailure, deploy.TriggerDeploymentStart,
		deploy.TriggerInstanceFailure, deploy.TriggerInstanceFailure}
	if !slices.Equal(got, want) {
		t.Errorf("notifications %v; want %v", got, want)
	}
	for _, n := range e.rec.Notifications() {
		if n.Event == deploy.TriggerDeploymentFailure && (n.ErrorInformation.Code != plan.HealthConstraints || n.Status != deploy.StatusFailed) {
			t.Errorf("failure notification %+v", n)
		}
		if n.Event == deploy.TriggerInstanceFailure && (n.TriggerName != "ops" || n.TargetID == "") {
			t.Errorf("instance notification %+v", n)
		}
	}
	if got := e.rec.Statuses(d.ID); !slices.Equal(got, []deploy.DeploymentStatus{deploy.StatusCreated, deploy.StatusInProgress, deploy.StatusFailed}) {
		t.Errorf("statuses %v", got)
	}
	if got := e.rec.TargetStatuses(d.ID, "i-000"); !slices.Equal(got, []target.TargetStatus{target.TargetInProgress, target.TargetFailed}) {
		t.Errorf("target statuses %v", got)
	}
	var events []string
	for _, ev := range e.rec.Events() {
		if ev.Kind == deploy.EventLifecycle && ev.TargetID == "i-000" {
			events = append(events, string(ev.LifecycleEvent)+":"+string(ev.LifecycleEventStatus))
		}
	}
	want2 := []string{"ApplicationStop:InProgress", "ApplicationStop:Succeeded", "DownloadBundle:InProgress", "DownloadBundle:Succeeded",
		"BeforeInstall:InProgress", "BeforeInstall:Succeeded", "Install:InProgress", "Install:Failed"}
	if !slices.Equal(events, want2) {
		t.Errorf("lifecycle events %v; want %v", events, want2)
	}
}

package deploy_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/fleetdeploy/fleetdeploy/config"
	"github.com/fleetdeploy/fleetdeploy/deploy"
	"github.com/fleetdeploy/fleetdeploy/deploy/plan"
	"github.com/fleetdeploy/fleetdeploy/revision"
	"github.com/fleetdeploy/fleetdeploy/target"
	"github.com/fleetdeploy/fleetdeploy/target/targettest"
)

// lambdaSpecFrom is a Lambda AppSpec moving alias checkout:live from
// version cur to tgt, with both hooks.
func lambdaSpecFrom(cur, tgt string) revision.Location {
	c := "version: 0.0\nResources:\n  - checkout:\n      Type: AWS::Lambda::Function\n      Properties:\n" +
		"        Name: checkout\n        Alias: live\n        CurrentVersion: " + cur + "\n        TargetVersion: " + tgt + "\n" +
		"Hooks:\n  - BeforeAllowTraffic: preflight\n  - AfterAllowTraffic: smoke\n"
	return revision.Location{Type: revision.LocationAppSpecContent, AppSpecContent: &revision.AppSpecContent{Content: c}}
}

// failFullShiftTo makes the shift that would send all traffic to version v
// fail, so a canary stops with its canary share on v.
func failFullShiftTo(v string) func(context.Context, target.ShiftRequest) error {
	return func(_ context.Context, req target.ShiftRequest) error {
		if req.Split.Replacement == v && req.Split.Weight == 100 && !req.Route.Test {
			return errors.New("alias update throttled")
		}
		return nil
	}
}

// stepToEnd drives deployment id with Step to its end, moving the fake
// clock exactly to each WaitUntil, and returns it as stored then (its
// rollback, if any, is created but not run).
func stepToEnd(t *testing.T, e *env, id string) *deploy.Deployment {
	t.Helper()
	for range 1000 {
		res, err := e.exec.Step(e.ctx, id)
		if err != nil {
			t.Fatalf("Step(%s): %v", id, err)
		}
		if res.Done {
			return res.Deployment
		}
		if !res.WaitUntil.IsZero() {
			e.clk.Set(res.WaitUntil)
		}
	}
	t.Fatalf("%s: no end after 1000 steps", id)
	return nil
}

// shiftsOf returns the shifts made for deployment id.
func shiftsOf(all []target.ShiftRequest, id string) []target.TrafficSplit {
	var out []target.TrafficSplit
	for _, s := range all {
		if s.Deployment.DeploymentID == id {
			out = append(out, s.Split)
		}
	}
	return out
}

// The package's decision (see "Rollbacks" in its documentation): the
// rollback of a Lambda deployment 2→3 that failed mid-canary moves all
// traffic back to 2 at once — one shift, no interval, although the rollback
// carries the canary configuration's name — and never routes to version 1,
// which the rolled-back revision's AppSpec names as its CurrentVersion.
func TestLambdaRollbackShiftsAllTrafficBackAtOnce(t *testing.T) {
	e, shifter, _, _ := serviceEnv(t, config.Lambda, "CodeDeployDefault.LambdaCanary10Percent5Minutes",
		autoRollback(deploy.AutoRollbackDeploymentFailure))
	route := target.TrafficRoute{ResourceID: "checkout:live"}
	shifter.SetRoute(route, target.TrafficSplit{Original: "1"})
	first, err := e.exec.CreateDeployment(e.ctx, deploy.DeploymentInput{ApplicationName: "shop", GroupName: "prod",
		Revision: lambdaSpecFrom("1", "2"), ConfigName: "CodeDeployDefault.LambdaAllAtOnce"})
	if err != nil {
		t.Fatal(err)
	}
	if got, err := e.exec.Run(e.ctx, first.ID); err != nil || got.Status != deploy.StatusSucceeded {
		t.Fatalf("1→2: %v, %v", got.Status, err)
	}
	shifter.OnShift(failFullShiftTo("3"))
	d, err := e.exec.CreateDeployment(e.ctx, deploy.DeploymentInput{ApplicationName: "shop", GroupName: "prod", Revision: lambdaSpecFrom("2", "3")})
	if err != nil {
		t.Fatal(err)
	}
	res := result{d: stepToEnd(t, e, d.ID)}
	if res.d.Status != deploy.StatusFailed {
		t.Fatalf("2→3: %s %+v, %v", res.d.Status, res.d.ErrorInformation, res.err)
	}
	if got := shiftsOf(shifter.Shifts(), d.ID); !slices.Equal(got, []target.TrafficSplit{{Original: "2", Replacement: "3", Weight: 10}, {Original: "2", Replacement: "3", Weight: 100}}) {
		t.Fatalf("2→3 shifts %+v; want the canary, then the failed full shift", got)
	}
	rb := stepToEnd(t, e, res.d.RollbackInfo.RollbackDeploymentID)
	if rb.Status != deploy.StatusSucceeded || rb.ConfigName != d.ConfigName {
		t.Fatalf("rollback %s %+v with %s", rb.Status, rb.ErrorInformation, rb.ConfigName)
	}
	for _, s := range shifter.Shifts() {
		if s.Deployment.DeploymentID != first.ID && (s.Split.Replacement == "1" || s.Split.Original == "1" && s.Split.Weight < 100) {
			t.Errorf("shift %+v routes traffic to version 1", s)
		}
	}
	if got := shiftsOf(shifter.Shifts(), rb.ID); !slices.Equal(got, []target.TrafficSplit{{Original: "3", Replacement: "2", Weight: 100}}) {
		t.Errorf("rollback shifts %+v; want all traffic from 3 back to 2 at once", got)
	}
	if took := rb.CompleteTime.Sub(rb.StartTime); took != 0 {
		t.Errorf("the rollback took %s of virtual time; all at once takes none", took)
	}
	if split, _ := shifter.CurrentTraffic(e.ctx, route); split != (target.TrafficSplit{Original: "2"}) {
		t.Errorf("traffic after the rollback %+v; want all on 2", split)
	}
}

// ecsServiceGroup is an ECS group with a test listener that terminates
// the original task set without a wait, or keeps it.
func ecsServiceGroup(terminate bool, more ...func(*deploy.Group)) func(*deploy.Group) {
	return func(g *deploy.Group) {
		g.ECSServices = []deploy.ECSService{{ClusterName: "prod", ServiceName: "web"}}
		g.LoadBalancerInfo = target.LoadBalancerInfo{TargetGroupPairInfoList: []target.TargetGroupPairInfo{{
			TargetGroups:     []target.NameInfo{{Name: "blue"}, {Name: "green"}},
			ProdTrafficRoute: target.TrafficRouteInfo{ListenerArns: []string{"prod"}},
			TestTrafficRoute: target.TrafficRouteInfo{ListenerArns: []string{"test"}},
		}}}
		action := deploy.InstanceActionKeepAlive
		if terminate {
			action = deploy.InstanceActionTerminate
		}
		g.BlueGreenDeploymentConfiguration = &deploy.BlueGreenDeploymentConfiguration{
			TerminateBlueInstancesOnDeploymentSuccess: &deploy.BlueInstanceTerminationOption{Action: action},
		}
		for _, f := range more {
			f(g)
		}
	}
}

func ecsLocation() revision.Location {
	return revision.Location{Type: revision.LocationAppSpecContent, AppSpecContent: &revision.AppSpecContent{Content: ecsSpec}}
}

// setECSRoutes gives ECS service prod/web its production and test routes,
// all on task set ts-old.
func setECSRoutes(sh *targettest.Shifter) {
	sh.SetRoute(target.TrafficRoute{ResourceID: "prod/web"}, target.TrafficSplit{Original: "ts-old"})
	sh.SetRoute(target.TrafficRoute{ResourceID: "prod/web", Test: true}, target.TrafficSplit{Original: "ts-old"})
}

// deployFirstECS runs the group's first ECS deployment (all at once) to
// success, and returns it: its task set, taskset-<ID>, then serves.
func deployFirstECS(t *testing.T, e *env) *deploy.Deployment {
	t.Helper()
	first, err := e.exec.CreateDeployment(e.ctx, deploy.DeploymentInput{ApplicationName: "shop", GroupName: "prod",
		Revision: ecsLocation(), ConfigName: "CodeDeployDefault.ECSAllAtOnce"})
	if err != nil {
		t.Fatal(err)
	}
	got, err := e.exec.Run(e.ctx, first.ID)
	if err != nil || got.Status != deploy.StatusSucceeded {
		t.Fatalf("first: %v, %v", got.Status, err)
	}
	return got
}

// User Guide, "Redeploy and roll back a deployment with CodeDeploy": an ECS
// rollback reroutes traffic from the replacement task set back to the
// original. A deployment from task set taskset-<first> to
// taskset-<second> that fails mid-canary is rolled back by moving all
// production traffic back to taskset-<first> at once; no task set is made
// for the rollback, and with TERMINATE the failed replacement task set —
// not the one traffic went back to — is removed.
func TestECSRollbackReroutesToOriginalTaskSet(t *testing.T) {
	e, shifter, _, prov := serviceEnv(t, config.ECS, "CodeDeployDefault.ECSCanary10Percent5Minutes",
		ecsServiceGroup(true, autoRollback(deploy.AutoRollbackDeploymentFailure)))
	setECSRoutes(shifter)
	first := deployFirstECS(t, e)
	live, failed := "taskset-"+first.ID, ""
	shifter.OnShift(func(ctx context.Context, req target.ShiftRequest) error {
		if req.Split.Replacement != live {
			failed = req.Split.Replacement
		}
		return failFullShiftTo(failed)(ctx, req)
	})
	d, err := e.exec.CreateDeployment(e.ctx, deploy.DeploymentInput{ApplicationName: "shop", GroupName: "prod", Revision: ecsLocation()})
	if err != nil {
		t.Fatal(err)
	}
	res := result{d: stepToEnd(t, e, d.ID)}
	if res.d.Status != deploy.StatusFailed {
		t.Fatalf("second: %s %+v, %v", res.d.Status, res.d.ErrorInformation, res.err)
	}
	if failed != "taskset-"+d.ID || res.d.Progress.Original != live {
		t.Fatalf("second moved %s → %s; want %s → taskset-%s", res.d.Progress.Original, failed, live, d.ID)
	}
	rb := stepToEnd(t, e, res.d.RollbackInfo.RollbackDeploymentID)
	if rb.Status != deploy.StatusSucceeded {
		t.Fatalf("rollback %s %+v", rb.Status, rb.ErrorInformation)
	}
	var prod []target.TrafficSplit
	for _, s := range shifter.Shifts() {
		if s.Deployment.DeploymentID == rb.ID && !s.Route.Test {
			prod = append(prod, s.Split)
		}
		if s.Deployment.DeploymentID == rb.ID && (s.Split.Replacement != live || s.Split.Weight != 100) {
			t.Errorf("rollback shift %+v; want everything on %s", s, live)
		}
	}
	if !slices.Equal(prod, []target.TrafficSplit{{Original: failed, Replacement: live, Weight: 100}}) {
		t.Errorf("rollback production shifts %+v; want all traffic from %s back to %s", prod, failed, live)
	}
	if got := prov.Terminated(); !slices.Equal(got, []string{"ts-old", failed}) {
		t.Errorf("terminated %v; want ts-old (first deployment), then the failed replacement %s", got, failed)
	}
	if took := rb.CompleteTime.Sub(rb.StartTime); took > time.Duration(0) {
		t.Errorf("the rollback took %s of virtual time; all at once takes none", took)
	}
}

// The package's decision (see "Rollbacks" in its documentation): a rollback
// does not poll alarms, so the alarm that stopped a deployment — still in
// ALARM — does not stop its rollback, which succeeds.
func TestRollbackIgnoresTheAlarmThatTriggeredIt(t *testing.T) {
	alarms := &fakeAlarms{states: map[string]target.AlarmState{"5xx": target.AlarmOK}}
	e := newEnv(t, 3, "CodeDeployDefault.OneAtATime", func(g *deploy.Group) {
		g.AlarmConfiguration = deploy.AlarmConfiguration{Enabled: true, Alarms: []deploy.Alarm{{Name: "5xx"}}}
		autoRollback(deploy.AutoRollbackDeploymentStopOnAlarm)(g)
	}, func(o *deploy.Options) { o.AlarmSource = alarms })
	if first := stepToEnd(t, e, e.create("v1").ID); first.Status != deploy.StatusSucceeded {
		t.Fatalf("v1: %s %+v", first.Status, first.ErrorInformation)
	}
	alarms.set("5xx", target.AlarmAlarm) // and it stays so
	d := stepToEnd(t, e, e.create("v2").ID)
	if d.Status != deploy.StatusStopped || d.ErrorInformation.Code != plan.AlarmActive || d.RollbackInfo.RollbackDeploymentID == "" {
		t.Fatalf("v2: %s %+v, rollback %+v", d.Status, d.ErrorInformation, d.RollbackInfo)
	}
	rb := stepToEnd(t, e, d.RollbackInfo.RollbackDeploymentID)
	if rb.Status != deploy.StatusSucceeded || rb.StopRequest != nil {
		t.Fatalf("rollback %s %+v, stop request %+v", rb.Status, rb.ErrorInformation, rb.StopRequest)
	}
	if got := e.groupRevision(); got != rev("v1").Key() {
		t.Errorf("group revision %s; want v1", got)
	}
}

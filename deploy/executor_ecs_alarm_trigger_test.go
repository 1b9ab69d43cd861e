package deploy_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/fleetdeploy/fleetdeploy/config"
	"github.com/fleetdeploy/fleetdeploy/deploy"
	"github.com/fleetdeploy/fleetdeploy/deploy/deploytest"
	"github.com/fleetdeploy/fleetdeploy/deploy/plan"
	"github.com/fleetdeploy/fleetdeploy/revision"
	"github.com/fleetdeploy/fleetdeploy/target"
	"github.com/fleetdeploy/fleetdeploy/target/targettest"
)

// ecsAllHooksSpec is an ECS AppSpec with a function for each of the five
// ECS hooks.
const ecsAllHooksSpec = "version: 0.0\nResources:\n  - TargetService:\n      Type: AWS::ECS::Service\n      Properties:\n" +
	"        TaskDefinition: arn:aws:ecs:task-definition/web:2\n        LoadBalancerInfo:\n          ContainerName: web\n          ContainerPort: 8080\n" +
	"Hooks:\n  - BeforeInstall: hookBeforeInstall\n  - AfterInstall: hookAfterInstall\n  - AfterAllowTestTraffic: hookAfterAllowTestTraffic\n" +
	"  - BeforeAllowTraffic: hookBeforeAllowTraffic\n  - AfterAllowTraffic: hookAfterAllowTraffic\n"

// ecsAllHooksLocation is a revision of ecsAllHooksSpec.
func ecsAllHooksLocation() revision.Location {
	return revision.Location{Type: revision.LocationAppSpecContent, AppSpecContent: &revision.AppSpecContent{Content: ecsAllHooksSpec}}
}

// User Guide, "AppSpec 'hooks' section": an ECS deployment runs, in order,
// BeforeInstall, Install (the replacement task set), AfterInstall,
// AllowTestTraffic, AfterAllowTestTraffic, BeforeAllowTraffic, AllowTraffic
// and AfterAllowTraffic — as the roles were called, and as recorded.
func TestECSHookOrder(t *testing.T) {
	e, shifter, hooks, prov := serviceEnv(t, config.ECS, "CodeDeployDefault.ECSAllAtOnce", ecsServiceGroup(false))
	setECSRoutes(shifter)
	var (
		mu    sync.Mutex
		calls []string
	)
	record := func(s string) {
		mu.Lock()
		defer mu.Unlock()
		calls = append(calls, s)
	}
	hooks.OnInvoke(func(_ context.Context, req target.HookRequest) error {
		if req.FunctionName != "hook"+string(req.Event) {
			return fmt.Errorf("hook %s invoked for %s", req.FunctionName, req.Event)
		}
		record(string(req.Event))
		return nil
	})
	prov.OnProvision(func(context.Context, target.ProvisionRequest) error { record("Install"); return nil })
	shifter.OnShift(func(_ context.Context, req target.ShiftRequest) error {
		if req.Route.Test {
			record("AllowTestTraffic")
		} else {
			record("AllowTraffic")
		}
		return nil
	})
	d, err := e.exec.CreateDeployment(e.ctx, deploy.DeploymentInput{ApplicationName: "shop", GroupName: "prod", Revision: ecsAllHooksLocation()})
	if err != nil {
		t.Fatal(err)
	}
	if got := stepToEnd(t, e, d.ID); got.Status != deploy.StatusSucceeded {
		t.Fatalf("status %s %+v", got.Status, got.ErrorInformation)
	}
	want := []string{"BeforeInstall", "Install", "AfterInstall", "AllowTestTraffic", "AfterAllowTestTraffic",
		"BeforeAllowTraffic", "AllowTraffic", "AfterAllowTraffic"}
	mu.Lock()
	defer mu.Unlock()
	if !slices.Equal(calls, want) {
		t.Errorf("calls %v; want %v", calls, want)
	}
	var recorded []string
	for _, ev := range e.targets(d.ID)["prod/web"].LifecycleEvents {
		recorded = append(recorded, string(ev.Name))
		if ev.Status != target.EventSucceeded {
			t.Errorf("%s: %s", ev.Name, ev.Status)
		}
	}
	if !slices.Equal(recorded, want) {
		t.Errorf("recorded events %v; want %v", recorded, want)
	}
}

// API Reference, AlarmConfiguration and AutoRollbackConfiguration
// (DEPLOYMENT_STOP_ON_ALARM): an alarm that goes to
// ALARM between two shifts of a linear schedule stops the deployment
// (ALARM_ACTIVE) before the next shift — noticed within one poll interval
// — and its rollback moves all traffic back to the earlier version.
func TestAlarmDuringTrafficShiftingRollsBack(t *testing.T) {
	alarms := &fakeAlarms{states: map[string]target.AlarmState{"errors": target.AlarmOK}}
	e, shifter, _, _ := serviceEnv(t, config.Lambda, "CodeDeployDefault.LambdaLinear10PercentEvery10Minutes", func(g *deploy.Group) {
		g.AlarmConfiguration = deploy.AlarmConfiguration{Enabled: true, Alarms: []deploy.Alarm{{Name: "errors"}}}
		autoRollback(deploy.AutoRollbackDeploymentStopOnAlarm)(g)
	}, func(o *deploy.Options) { o.AlarmSource, o.PollInterval = alarms, time.Minute })
	route := target.TrafficRoute{ResourceID: "checkout:live"}
	shifter.SetRoute(route, target.TrafficSplit{Original: "1"})
	first, err := e.exec.CreateDeployment(e.ctx, deploy.DeploymentInput{ApplicationName: "shop", GroupName: "prod",
		Revision: lambdaSpecFrom("1", "2"), ConfigName: "CodeDeployDefault.LambdaAllAtOnce"})
	if err != nil {
		t.Fatal(err)
	}
	if got := stepToEnd(t, e, first.ID); got.Status != deploy.StatusSucceeded {
		t.Fatalf("1→2: %s", got.Status)
	}
	var raisedAt time.Time
	shifter.OnShift(func(_ context.Context, req target.ShiftRequest) error {
		if req.Split.Replacement == "3" && req.Split.Weight == 20 {
			alarms.set("errors", target.AlarmAlarm) // the second shift hurts
			raisedAt = e.clk.Now()
		}
		return nil
	})
	d, err := e.exec.CreateDeployment(e.ctx, deploy.DeploymentInput{ApplicationName: "shop", GroupName: "prod", Revision: lambdaSpecFrom("2", "3")})
	if err != nil {
		t.Fatal(err)
	}
	got := stepToEnd(t, e, d.ID)
	if got.Status != deploy.StatusStopped || got.ErrorInformation.Code != plan.AlarmActive || got.StopRequest == nil || got.StopRequest.Alarm != "errors" {
		t.Fatalf("2→3: %s %+v, stop %+v", got.Status, got.ErrorInformation, got.StopRequest)
	}
	if took := got.CompleteTime.Sub(raisedAt); took > time.Minute {
		t.Errorf("stopped %s after the alarm; polling is every minute", took)
	}
	if w := shiftsOf(shifter.Shifts(), d.ID); len(w) != 2 || w[1].Weight != 20 {
		t.Errorf("2→3 shifts %+v; want 10%% and 20%%, then the stop", w)
	}
	rb := stepToEnd(t, e, got.RollbackInfo.RollbackDeploymentID)
	if rb.Status != deploy.StatusSucceeded {
		t.Fatalf("rollback %s %+v", rb.Status, rb.ErrorInformation)
	}
	if split, _ := shifter.CurrentTraffic(e.ctx, route); split != (target.TrafficSplit{Original: "2"}) {
		t.Errorf("traffic after the rollback %+v; want all on 2", split)
	}
}

// API Reference, AlarmConfiguration: the alarms are polled during the
// blue/green termination wait (Baking, fleetdeploy's decision): one in ALARM
// stops the deployment with ALARM_ACTIVE and the originals are not terminated.
func TestAlarmDuringTerminationWait(t *testing.T) {
	alarms := &fakeAlarms{states: map[string]target.AlarmState{"5xx": target.AlarmOK}}
	e, prov := bgEnv(t, deploy.ActionContinueDeployment, func(g *deploy.Group) {
		g.AlarmConfiguration = deploy.AlarmConfiguration{Enabled: true, Alarms: []deploy.Alarm{{Name: "5xx"}}}
	})
	x, err := deploy.New(e.store, func() target.Platform { p := e.fleet.Platform(); p.Provisioner = prov; return p }(), func(o *deploy.Options) {
		o.Clock, o.Observer, o.Notifiers, o.AlarmSource, o.PollInterval = e.clk, e.rec, []deploy.Notifier{e.rec}, alarms, time.Minute
	})
	if err != nil {
		t.Fatal(err)
	}
	e.exec = x
	d := e.create("v1")
	var raisedAt time.Time
	for range 1000 {
		res, err := e.exec.Step(e.ctx, d.ID)
		if err != nil {
			t.Fatal(err)
		}
		if res.Done {
			break
		}
		if res.Deployment.Status == deploy.StatusBaking && raisedAt.IsZero() {
			// Five minutes into the 30-minute wait.
			e.clk.Set(e.clk.Now().Add(5 * time.Minute))
			alarms.set("5xx", target.AlarmAlarm)
			raisedAt = e.clk.Now()
			continue
		}
		if !res.WaitUntil.IsZero() {
			e.clk.Set(res.WaitUntil)
		}
	}
	got := e.get(d.ID)
	if raisedAt.IsZero() || got.Status != deploy.StatusStopped || got.ErrorInformation.Code != plan.AlarmActive {
		t.Fatalf("status %s %+v; want Stopped ALARM_ACTIVE during the wait", got.Status, got.ErrorInformation)
	}
	if took := got.CompleteTime.Sub(raisedAt); took > time.Minute {
		t.Errorf("stopped %s after the alarm; polling is every minute", took)
	}
	if len(prov.Terminated()) != 0 {
		t.Errorf("terminated %v; the deployment stopped during the wait", prov.Terminated())
	}
}

// allTriggers subscribes one trigger to every event type of the API
// Reference's TriggerConfig.
func allTriggers(g *deploy.Group) {
	g.TriggerConfigurations = []deploy.TriggerConfig{{TriggerName: "all", TriggerTargetArn: "arn:sns:all",
		TriggerEvents: deploy.TriggerEventType("").Values()}}
}

// API Reference, TriggerConfig: each trigger event type is sent through the
// Notifiers at its moment — DeploymentStart first; InstanceStart before a
// target's InstanceSuccess/InstanceFailure; DeploymentSuccess, Failure or
// Stop last; DeploymentRollback for a deployment that is rolled back;
// DeploymentReady and InstanceReady only for blue/green replacements, the
// InstanceReady of each before DeploymentReady, and that before traffic is
// rerouted to them.
func TestTriggerEvents(t *testing.T) {
	count := func(evs []deploy.TriggerEventType, ev deploy.TriggerEventType) int {
		n := 0
		for _, x := range evs {
			if x == ev {
				n++
			}
		}
		return n
	}
	t.Run("in-place success", func(t *testing.T) {
		e := newEnv(t, 2, "CodeDeployDefault.AllAtOnce", allTriggers)
		d := e.deploy("v1")
		got := e.rec.Triggers(d.ID)
		want := []deploy.TriggerEventType{deploy.TriggerDeploymentStart, deploy.TriggerInstanceStart, deploy.TriggerInstanceStart,
			deploy.TriggerInstanceSuccess, deploy.TriggerInstanceSuccess, deploy.TriggerDeploymentSuccess}
		sorted := slices.Clone(got[1 : len(got)-1])
		slices.Sort(sorted)
		if len(got) != len(want) || got[0] != want[0] || got[len(got)-1] != want[len(want)-1] ||
			!slices.Equal(sorted, []deploy.TriggerEventType{deploy.TriggerInstanceStart, deploy.TriggerInstanceStart, deploy.TriggerInstanceSuccess, deploy.TriggerInstanceSuccess}) {
			t.Errorf("triggers %v; want %v (instances in any order)", got, want)
		}
		checkInstanceOrder(t, e, d.ID, deploy.TriggerInstanceSuccess)
	})
	t.Run("in-place failure and rollback", func(t *testing.T) {
		e := newEnv(t, 2, "CodeDeployDefault.OneAtATime", func(g *deploy.Group) {
			allTriggers(g)
			autoRollback(deploy.AutoRollbackDeploymentFailure)(g)
		})
		e.seed(nil)
		e.fleet.Script("", target.Install, targettest.Fail(target.CodeUnknownError, "disk full").Limit(1))
		d := e.deploy("v1")
		got := e.rec.Triggers(d.ID)
		want := []deploy.TriggerEventType{deploy.TriggerDeploymentStart, deploy.TriggerInstanceStart, deploy.TriggerInstanceFailure,
			deploy.TriggerDeploymentRollback, deploy.TriggerDeploymentFailure}
		if !slices.Equal(got, want) && !slices.Equal(got, []deploy.TriggerEventType{want[0], want[1], want[2], want[4], want[3]}) {
			t.Errorf("triggers %v; want %v (Rollback and Failure in either order)", got, want)
		}
		rb := d.RollbackInfo.RollbackDeploymentID
		if rbGot := e.rec.Triggers(rb); len(rbGot) == 0 || rbGot[len(rbGot)-1] != deploy.TriggerDeploymentSuccess || count(rbGot, deploy.TriggerDeploymentRollback) != 0 {
			t.Errorf("rollback %s triggers %v", rb, rbGot)
		}
	})
	t.Run("stop", func(t *testing.T) {
		alarms := &fakeAlarms{states: map[string]target.AlarmState{"5xx": target.AlarmAlarm}}
		e := newEnv(t, 2, "CodeDeployDefault.OneAtATime", func(g *deploy.Group) {
			allTriggers(g)
			g.AlarmConfiguration = deploy.AlarmConfiguration{Enabled: true, Alarms: []deploy.Alarm{{Name: "5xx"}}}
		}, func(o *deploy.Options) { o.AlarmSource = alarms })
		d := stepToEnd(t, e, e.create("v1").ID)
		got := e.rec.Triggers(d.ID)
		if d.Status != deploy.StatusStopped || len(got) == 0 || got[len(got)-1] != deploy.TriggerDeploymentStop ||
			count(got, deploy.TriggerDeploymentStop) != 1 || count(got, deploy.TriggerDeploymentFailure) != 0 {
			t.Errorf("%s, triggers %v; want DeploymentStop last", d.Status, got)
		}
	})
	t.Run("blue/green", func(t *testing.T) {
		e, _ := bgEnv(t, deploy.ActionContinueDeployment, func(g *deploy.Group) { keepAlive(g); allTriggers(g) })
		d := e.create("v1")
		var first sync.Once
		e.fleet.OnCall(func(_ context.Context, c targettest.Call) error {
			if c.Event != target.AllowTraffic {
				return nil
			}
			var err error
			first.Do(func() {
				if n := e.rec.Triggers(d.ID); count(n, deploy.TriggerDeploymentReady) != 1 {
					err = fmt.Errorf("traffic rerouted before DeploymentReady (triggers so far %v)", n)
				}
			})
			return err
		})
		got, err := e.exec.Run(e.ctx, d.ID)
		if err != nil || got.Status != deploy.StatusSucceeded {
			t.Fatalf("Run = %s %+v, %v", got.Status, got.ErrorInformation, err)
		}
		trig := e.rec.Triggers(d.ID)
		ready := slices.Index(trig, deploy.TriggerDeploymentReady)
		if count(trig, deploy.TriggerDeploymentReady) != 1 || count(trig, deploy.TriggerInstanceReady) != 4 ||
			count(trig[:max(ready, 0)], deploy.TriggerInstanceReady) != 4 || trig[0] != deploy.TriggerDeploymentStart ||
			trig[len(trig)-1] != deploy.TriggerDeploymentSuccess {
			t.Errorf("triggers %v; want DeploymentStart, 4 InstanceReady, then DeploymentReady, …, DeploymentSuccess", trig)
		}
		tgs := e.targets(d.ID)
		for _, n := range e.rec.Notifications() {
			if n.Event == deploy.TriggerInstanceReady && tgs[n.TargetID].Label != target.LabelGreen {
				t.Errorf("InstanceReady for %s, not a replacement", n.TargetID)
			}
		}
	})
	t.Run("Lambda", func(t *testing.T) {
		rec := &deploytest.Recorder{}
		e, shifter, _, _ := serviceEnv(t, config.Lambda, "CodeDeployDefault.LambdaAllAtOnce", allTriggers, func(o *deploy.Options) {
			o.Notifiers = []deploy.Notifier{rec}
		})
		shifter.SetRoute(target.TrafficRoute{ResourceID: "checkout:live"}, target.TrafficSplit{Original: "1"})
		d := stepToEnd(t, e, e.createLambda("2").ID)
		got := rec.Triggers(d.ID)
		if d.Status != deploy.StatusSucceeded || len(got) < 2 || got[0] != deploy.TriggerDeploymentStart || got[len(got)-1] != deploy.TriggerDeploymentSuccess ||
			count(got, deploy.TriggerDeploymentReady)+count(got, deploy.TriggerInstanceReady) != 0 {
			t.Errorf("%s, triggers %v; want DeploymentStart … DeploymentSuccess, no Ready events", d.Status, got)
		}
	})
}

// createLambda creates a Lambda deployment of lambdaSpec(version).
func (e *env) createLambda(version string) *deploy.Deployment {
	e.t.Helper()
	d, err := e.exec.CreateDeployment(e.ctx, deploy.DeploymentInput{ApplicationName: "shop", GroupName: "prod", Revision: lambdaSpec(version)})
	if err != nil {
		e.t.Fatal(err)
	}
	return d
}

// checkInstanceOrder checks that each target's InstanceStart notification
// precedes its end notification.
func checkInstanceOrder(t *testing.T, e *env, id string, end deploy.TriggerEventType) {
	t.Helper()
	started := map[string]bool{}
	for _, n := range e.rec.Notifications() {
		if n.DeploymentID != id {
			continue
		}
		switch n.Event {
		case deploy.TriggerInstanceStart:
			started[n.TargetID] = true
		case end:
			if !started[n.TargetID] {
				t.Errorf("%s for %s before its InstanceStart", end, n.TargetID)
			}
		}
	}
}

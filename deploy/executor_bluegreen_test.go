package deploy_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/fleetdeploy/fleetdeploy/config"
	"github.com/fleetdeploy/fleetdeploy/deploy"
	"github.com/fleetdeploy/fleetdeploy/deploy/deploytest"
	"github.com/fleetdeploy/fleetdeploy/deploy/plan"
	"github.com/fleetdeploy/fleetdeploy/health"
	"github.com/fleetdeploy/fleetdeploy/revision"
	"github.com/fleetdeploy/fleetdeploy/target"
	"github.com/fleetdeploy/fleetdeploy/target/targettest"
)

// bgEnv is a Server blue/green group over 4 instances of Auto Scaling group
// "web", copied for each deployment (COPY_AUTO_SCALING_GROUP).
func bgEnv(t *testing.T, ready deploy.DeploymentReadyAction, change func(*deploy.Group)) (*env, *targettest.Provisioner) {
	t.Helper()
	fleet := targettest.NewFleet()
	for i := range 4 {
		fleet.Add(target.Target{ID: fmt.Sprintf("i-%03d", i), AutoScalingGroup: "web", Zone: "zone-a"})
	}
	prov := targettest.NewProvisioner(fleet)
	e := newEnv(t, 0, "CodeDeployDefault.AllAtOnce", func(g *deploy.Group) {
		g.Selector = target.Selector{AutoScalingGroups: []string{"web"}}
		g.DeploymentStyle = deploy.DeploymentStyle{DeploymentType: target.BlueGreen, DeploymentOption: deploy.WithTrafficControl}
		g.LoadBalancerInfo = target.LoadBalancerInfo{TargetGroupInfoList: []target.NameInfo{{Name: "web"}}}
		g.BlueGreenDeploymentConfiguration = &deploy.BlueGreenDeploymentConfiguration{
			TerminateBlueInstancesOnDeploymentSuccess: &deploy.BlueInstanceTerminationOption{Action: deploy.InstanceActionTerminate, TerminationWaitTimeInMinutes: 30},
			DeploymentReadyOption:                     &deploy.DeploymentReadyOption{ActionOnTimeout: ready, WaitTimeInMinutes: 60},
			GreenFleetProvisioningOption:              &deploy.GreenFleetProvisioningOption{Action: deploy.GreenFleetCopyAutoScalingGroup},
		}
		if change != nil {
			change(g)
		}
	})
	e.fleet = fleet
	e.platform = fleet.Platform()
	e.platform.Provisioner = prov
	// Its tests run with advanceWhile with one waiter, which runs virtual
	// time ahead of the workers: the time limits are off (see
	// advanceWhile).
	e.opts = append(e.opts, deploy.NoTimeLimits)
	e.exec = e.newExecutor(e.store)
	return e, prov
}

// User Guide, "AppSpec 'hooks' section"; API Reference,
// BlueGreenDeploymentConfiguration and ContinueDeployment: a Server blue/green
// deployment provisions the replacement fleet, installs on it, waits (Ready)
// for Continue, reroutes traffic to it, blocks traffic on the originals, waits
// (Baking) for the termination wait, and terminates the originals.
func TestBlueGreenServer(t *testing.T) {
	e, prov := bgEnv(t, deploy.ActionStopDeployment, func(g *deploy.Group) {
		g.TriggerConfigurations = []deploy.TriggerConfig{{TriggerName: "t", TriggerTargetArn: "arn", TriggerEvents: []deploy.TriggerEventType{
			deploy.TriggerDeploymentReady, deploy.TriggerInstanceReady, deploy.TriggerDeploymentSuccess}}}
	})
	d := e.create("v1")
	// Every target lists its events from the start (API Reference,
	// InstanceTarget lifecycleEvents): the originals their traffic blocking,
	// Pending until it runs.
	events := func(tg deploy.DeploymentTarget) string {
		var out []string
		for _, ev := range tg.LifecycleEvents {
			out = append(out, string(ev.Name)+":"+string(ev.Status))
		}
		return strings.Join(out, " ")
	}
	const blueWaiting = "BeforeBlockTraffic:Pending BlockTraffic:Pending AfterBlockTraffic:Pending"
	for id, tg := range e.targets(d.ID) {
		if got := events(tg); got != blueWaiting {
			t.Errorf("created: original %s lists %s; want %s", id, got, blueWaiting)
		}
	}
	done := make(chan result, 1)
	go func() { got, err := e.exec.Run(e.ctx, d.ID); done <- result{got, err} }()
	waitStatus(t, e, d.ID, deploy.StatusReady)
	const greenReady = "ApplicationStop:Succeeded DownloadBundle:Succeeded BeforeInstall:Succeeded Install:Succeeded AfterInstall:Succeeded " +
		"ApplicationStart:Succeeded ValidateService:Succeeded BeforeAllowTraffic:Pending AllowTraffic:Pending AfterAllowTraffic:Pending"
	for id, tg := range e.targets(d.ID) {
		want := blueWaiting
		if tg.Label == target.LabelGreen {
			want = greenReady
		}
		if got := events(tg); got != want {
			t.Errorf("ready: %s %s lists %s; want %s", tg.Label, id, got, want)
		}
	}
	if err := e.exec.Continue(e.ctx, d.ID, deploy.TerminationWait); err == nil {
		t.Error("Continue(TERMINATION_WAIT) during the ready wait succeeded")
	}
	if err := e.exec.Continue(e.ctx, d.ID, deploy.ReadyWait); err != nil {
		t.Fatal(err)
	}
	waitStatus(t, e, d.ID, deploy.StatusBaking)
	// Continuing the termination wait ends it early (API Reference,
	// ContinueDeployment, TERMINATION_WAIT): no time
	// passes.
	if err := e.exec.Continue(e.ctx, d.ID, deploy.TerminationWait); err != nil {
		t.Fatal(err)
	}
	res := <-done
	if res.err != nil || res.d.Status != deploy.StatusSucceeded {
		t.Fatalf("Run = %v %+v, %v", res.d.Status, res.d.ErrorInformation, res.err)
	}
	if took := res.d.CompleteTime.Sub(res.d.StartTime); took != 0 {
		t.Errorf("took %s of virtual time; every wait was continued", took)
	}
	tgs := e.targets(d.ID)
	var green []string
	for id, tg := range tgs {
		switch tg.Label {
		case target.LabelGreen:
			green = append(green, id)
			want := "[ApplicationStop DownloadBundle BeforeInstall Install AfterInstall ApplicationStart ValidateService BeforeAllowTraffic AllowTraffic AfterAllowTraffic]"
			if got := fmt.Sprint(e.fleet.Events(id)); got != want || tg.Status != target.TargetSucceeded || !e.fleet.InService(id) {
				t.Errorf("replacement %s: %s, events %s, in service %v", id, tg.Status, got, e.fleet.InService(id))
			}
		case target.LabelBlue:
			if got := fmt.Sprint(e.fleet.Events(id)); got != "[BeforeBlockTraffic BlockTraffic AfterBlockTraffic]" || tg.Status != target.TargetSucceeded {
				t.Errorf("original %s: %s, events %s", id, tg.Status, got)
			}
		}
	}
	if len(green) != 4 || len(tgs) != 8 {
		t.Fatalf("%d targets, %d replacements; want 8 and 4", len(tgs), len(green))
	}
	slices.Sort(green)
	if got := prov.Terminated(); !slices.Equal(got, []string{"i-000", "i-001", "i-002", "i-003"}) {
		t.Errorf("terminated %v; want the originals", got)
	}
	// The group's instance records follow the replacements ("CodeDeploy
	// instance health").
	hs := e.health()
	for _, id := range green {
		if hs[id].Instance != health.Healthy || hs[id].Revision != health.Current {
			t.Errorf("replacement %s: %+v", id, hs[id])
		}
	}
	triggers := e.rec.Triggers(d.ID)
	if n := strings.Count(fmt.Sprint(triggers), "InstanceReady"); n != 4 || !slices.Contains(triggers, deploy.TriggerDeploymentReady) {
		t.Errorf("notifications %v", triggers)
	}
	if got := e.rec.Statuses(d.ID); !slices.Equal(got, []deploy.DeploymentStatus{deploy.StatusCreated, deploy.StatusInProgress,
		deploy.StatusReady, deploy.StatusInProgress, deploy.StatusBaking, deploy.StatusInProgress, deploy.StatusSucceeded}) {
		t.Errorf("statuses %v", got)
	}
}

// waitStatus waits until the recorder saw deployment id reach status.
func waitStatus(t *testing.T, e *env, id string, status deploy.DeploymentStatus) {
	t.Helper()
	if err := e.rec.Wait(e.ctx, func(evs []deploy.Event, _ []deploy.Notification) bool {
		return slices.ContainsFunc(evs, func(ev deploy.Event) bool { return ev.DeploymentID == id && ev.Status == status })
	}); err != nil {
		t.Fatal(err)
	}
}

// API Reference, BlueGreenDeploymentConfiguration, deploymentReadyOption:
// without Continue the ready wait runs out and the deployment is
// Stopped; nothing is rerouted.
func TestBlueGreenReadyWaitTimesOut(t *testing.T) {
	e, _ := bgEnv(t, deploy.ActionStopDeployment, nil)
	d := e.create("v1")
	res := advanceWhile(e.ctx, e.clk, 1, func() result { got, err := e.exec.Run(e.ctx, d.ID); return result{got, err} })
	if res.err != nil || res.d.Status != deploy.StatusStopped || res.d.ErrorInformation.Code != plan.Timeout {
		t.Fatalf("Run = %s %+v, %v; want Stopped TIMEOUT", res.d.Status, res.d.ErrorInformation, res.err)
	}
	for _, c := range e.fleet.Calls() {
		if c.Event == target.AllowTraffic || c.Event == target.BlockTraffic {
			t.Errorf("%s ran %s; the ready wait ran out", c.Target, c.Event)
		}
	}
}

// User Guide, "Redeploy and roll back a deployment with CodeDeploy": a
// blue/green deployment that fails to reroute is rolled back by a
// blue/green rollback: traffic allowed back on the originals, blocked on
// the replacements, which are then terminated.
func TestBlueGreenRollback(t *testing.T) {
	e, prov := bgEnv(t, deploy.ActionContinueDeployment, func(g *deploy.Group) {
		g.AutoRollbackConfiguration = deploy.AutoRollbackConfiguration{Enabled: true, Events: []deploy.AutoRollbackEvent{deploy.AutoRollbackDeploymentFailure}}
		g.BlueGreenDeploymentConfiguration.TerminateBlueInstancesOnDeploymentSuccess.Action = deploy.InstanceActionKeepAlive
	})
	e.seed(nil)
	d := e.create("v1")
	for i := range 4 {
		e.fleet.Script(fmt.Sprintf("i-%03d-green-%s", i, d.ID), target.AfterAllowTraffic, targettest.Fail(target.CodeScriptFailed, "smoke test failed"))
	}
	res := advanceWhile(e.ctx, e.clk, 1, func() result { got, err := e.exec.Run(e.ctx, d.ID); return result{got, err} })
	if res.err != nil || res.d.Status != deploy.StatusFailed {
		t.Fatalf("Run = %s, %v", res.d.Status, res.err)
	}
	rb := e.get(res.d.RollbackInfo.RollbackDeploymentID)
	if rb.Status != deploy.StatusSucceeded || rb.DeploymentStyle.DeploymentType != target.BlueGreen {
		t.Fatalf("rollback %s %+v", rb.Status, rb.ErrorInformation)
	}
	for id, tg := range e.targets(rb.ID) {
		var want []target.LifecycleEvent
		for _, c := range e.fleet.Calls() {
			if c.DeploymentID == rb.ID && c.Target == id {
				want = append(want, c.Event)
			}
		}
		exp := "[BeforeAllowTraffic AllowTraffic AfterAllowTraffic]"
		if tg.Label == target.LabelGreen {
			exp = "[BeforeBlockTraffic BlockTraffic AfterBlockTraffic]"
		}
		if fmt.Sprint(want) != exp || tg.Status != target.TargetSucceeded {
			t.Errorf("rollback %s %s: %s %v; want %s", tg.Label, id, tg.Status, want, exp)
		}
		if tg.Label == target.LabelBlue && !e.fleet.InService(id) {
			t.Errorf("original %s is out of service after the rollback", id)
		}
		if tg.Label == target.LabelGreen && e.fleet.InService(id) {
			t.Errorf("replacement %s is in service after the rollback", id)
		}
	}
	if got := e.groupRevision(); got != rev("v0").Key() {
		t.Errorf("group revision %s; want v0", got)
	}
	// The replacement fleet the executor made (COPY_AUTO_SCALING_GROUP) is
	// terminated once the rollback succeeded; the originals stay.
	var green []string
	for id, tg := range e.targets(rb.ID) {
		if tg.Label == target.LabelGreen {
			green = append(green, id)
		}
	}
	slices.Sort(green)
	got := slices.Clone(prov.Terminated())
	slices.Sort(got)
	if len(green) != 4 || !slices.Equal(got, green) {
		t.Errorf("terminated %v; want the replacements %v", got, green)
	}
}

// lambdaSpec is a Lambda AppSpec moving alias checkout:live from version 1
// to 2, with both hooks.
func lambdaSpec(target string) revision.Location {
	c := "version: 0.0\nResources:\n  - checkout:\n      Type: AWS::Lambda::Function\n      Properties:\n" +
		"        Name: checkout\n        Alias: live\n        CurrentVersion: 1\n        TargetVersion: " + target + "\n" +
		"Hooks:\n  - BeforeAllowTraffic: preflight\n  - AfterAllowTraffic: smoke\n"
	return revision.Location{Type: revision.LocationAppSpecContent, AppSpecContent: &revision.AppSpecContent{Content: c}}
}

func serviceEnv(t *testing.T, platform config.ComputePlatform, cfg string, change func(*deploy.Group), opts ...func(*deploy.Options)) (*env, *targettest.Shifter, *targettest.Hooks, *targettest.Provisioner) {
	t.Helper()
	mem := deploy.NewMemoryStore()
	e := &env{t: t, ctx: context.Background(), store: mem, mem: mem, fleet: targettest.NewFleet(),
		clk: deploytest.NewFakeClock(time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)), rec: &deploytest.Recorder{}}
	app := deploy.Application{Name: "shop", ComputePlatform: platform}
	if err := mem.CreateApplication(e.ctx, &app); err != nil {
		t.Fatal(err)
	}
	g := deploy.Group{ApplicationName: "shop", Name: "prod", ComputePlatform: platform, DeploymentConfigName: cfg}
	if change != nil {
		change(&g)
	}
	if err := g.Validate(); err != nil {
		t.Fatal(err)
	}
	if err := mem.CreateGroup(e.ctx, &g); err != nil {
		t.Fatal(err)
	}
	e.group = &g
	shifter, hooks, prov := targettest.NewShifter(), targettest.NewHooks(), targettest.NewProvisioner(e.fleet)
	e.platform = target.Platform{TrafficShifter: shifter, HookInvoker: hooks}
	if platform == config.ECS {
		e.platform.Provisioner = prov
	}
	e.opts = append([]func(*deploy.Options){func(o *deploy.Options) { o.Source = revision.ContentSource{} }}, opts...)
	e.exec = e.newExecutor(mem)
	return e, shifter, hooks, prov
}

// User Guide, "AppSpec 'hooks' section": a Lambda deployment runs
// BeforeAllowTraffic, shifts the alias (all at once here;
// TestLambdaScheduleWithStep follows a schedule) and runs AfterAllowTraffic;
// the hooks get the function names of the AppSpec and stable execution IDs.
func TestLambdaDeployment(t *testing.T) {
	e, shifter, hooks, _ := serviceEnv(t, config.Lambda, "CodeDeployDefault.LambdaAllAtOnce", nil)
	route := target.TrafficRoute{ResourceID: "checkout:live"}
	shifter.SetRoute(route, target.TrafficSplit{Original: "1"})
	d, err := e.exec.CreateDeployment(e.ctx, deploy.DeploymentInput{ApplicationName: "shop", GroupName: "prod", Revision: lambdaSpec("2")})
	if err != nil {
		t.Fatal(err)
	}
	got, err := e.exec.Run(e.ctx, d.ID) // no waits: the fake clock never moves
	if err != nil || got.Status != deploy.StatusSucceeded {
		t.Fatalf("Run = %s %+v, %v", got.Status, got.ErrorInformation, err)
	}
	var weights []int
	for _, s := range shifter.Shifts() {
		if s.Route != route || s.Split.Original != "1" || s.Split.Replacement != "2" {
			t.Errorf("shift %+v", s)
		}
		weights = append(weights, s.Split.Weight)
	}
	if !slices.Equal(weights, []int{100}) {
		t.Errorf("weights %v; want [100]", weights)
	}
	var fns []string
	for _, h := range hooks.Invocations() {
		fns = append(fns, h.FunctionName+"/"+string(h.Event))
		if h.ExecutionID != d.ID+"-"+string(h.Event) {
			t.Errorf("execution ID %q", h.ExecutionID)
		}
	}
	if !slices.Equal(fns, []string{"preflight/BeforeAllowTraffic", "smoke/AfterAllowTraffic"}) {
		t.Errorf("hooks %v", fns)
	}
	tg := e.targets(d.ID)["checkout:live"]
	var evs []string
	for _, ev := range tg.LifecycleEvents {
		evs = append(evs, string(ev.Name)+":"+string(ev.Status))
	}
	if tg.Status != target.TargetSucceeded || fmt.Sprint(evs) != "[BeforeAllowTraffic:Succeeded AllowTraffic:Succeeded AfterAllowTraffic:Succeeded]" {
		t.Errorf("target %s %v", tg.Status, evs)
	}
}

// User Guide, "AppSpec 'hooks' section": a hook that reports nothing within an
// hour (virtual time) fails, and the deployment fails with
// HOOK_EXECUTION_FAILURE.
func TestLambdaHookTimeout(t *testing.T) {
	e, shifter, hooks, _ := serviceEnv(t, config.Lambda, "CodeDeployDefault.LambdaAllAtOnce", nil)
	shifter.SetRoute(target.TrafficRoute{ResourceID: "checkout:live"}, target.TrafficSplit{Original: "1"})
	hooks.OnInvoke(func(ctx context.Context, req target.HookRequest) error {
		<-ctx.Done() // never reports
		return ctx.Err()
	})
	d, err := e.exec.CreateDeployment(e.ctx, deploy.DeploymentInput{ApplicationName: "shop", GroupName: "prod", Revision: lambdaSpec("2")})
	if err != nil {
		t.Fatal(err)
	}
	res := advanceWhile(e.ctx, e.clk, 1, func() result { got, err := e.exec.Run(e.ctx, d.ID); return result{got, err} })
	if res.err != nil || res.d.Status != deploy.StatusFailed || res.d.ErrorInformation.Code != plan.HookExecutionFailure {
		t.Fatalf("Run = %s %+v, %v", res.d.Status, res.d.ErrorInformation, res.err)
	}
	if took := res.d.CompleteTime.Sub(res.d.StartTime); took < time.Hour {
		t.Errorf("failed after %s; the hook has an hour", took)
	}
	if len(shifter.Shifts()) != 0 {
		t.Error("traffic shifted although BeforeAllowTraffic failed")
	}
	ev := e.targets(d.ID)["checkout:live"].Event(target.BeforeAllowTraffic)
	if ev.Status != target.EventFailed || ev.Diagnostics.ErrorCode != target.CodeScriptTimedOut {
		t.Errorf("BeforeAllowTraffic %+v", ev)
	}
}

const ecsSpec = "version: 0.0\nResources:\n  - TargetService:\n      Type: AWS::ECS::Service\n      Properties:\n" +
	"        TaskDefinition: arn:aws:ecs:task-definition/web:2\n        LoadBalancerInfo:\n          ContainerName: web\n          ContainerPort: 8080\n" +
	"Hooks:\n  - AfterAllowTestTraffic: checkTest\n"

// User Guide, "AppSpec 'hooks' section": an ECS deployment creates the
// replacement task set, routes test traffic to it, shifts production traffic,
// and removes the original task set (here without a termination wait, so no
// time passes).
func TestECSDeployment(t *testing.T) {
	e, shifter, hooks, prov := serviceEnv(t, config.ECS, "CodeDeployDefault.ECSAllAtOnce", func(g *deploy.Group) {
		g.ECSServices = []deploy.ECSService{{ClusterName: "prod", ServiceName: "web"}}
		g.LoadBalancerInfo = target.LoadBalancerInfo{TargetGroupPairInfoList: []target.TargetGroupPairInfo{{
			TargetGroups:     []target.NameInfo{{Name: "blue"}, {Name: "green"}},
			ProdTrafficRoute: target.TrafficRouteInfo{ListenerArns: []string{"prod"}},
			TestTrafficRoute: target.TrafficRouteInfo{ListenerArns: []string{"test"}},
		}}}
		g.BlueGreenDeploymentConfiguration = &deploy.BlueGreenDeploymentConfiguration{
			TerminateBlueInstancesOnDeploymentSuccess: &deploy.BlueInstanceTerminationOption{Action: deploy.InstanceActionTerminate},
		}
	})
	prodRoute, testRoute := target.TrafficRoute{ResourceID: "prod/web"}, target.TrafficRoute{ResourceID: "prod/web", Test: true}
	setECSRoutes(shifter)
	loc := revision.Location{Type: revision.LocationAppSpecContent, AppSpecContent: &revision.AppSpecContent{Content: ecsSpec}}
	d, err := e.exec.CreateDeployment(e.ctx, deploy.DeploymentInput{ApplicationName: "shop", GroupName: "prod", Revision: loc})
	if err != nil {
		t.Fatal(err)
	}
	got, err := e.exec.Run(e.ctx, d.ID)
	if err != nil || got.Status != deploy.StatusSucceeded {
		t.Fatalf("Run = %s %+v, %v", got.Status, got.ErrorInformation, err)
	}
	shifts := shifter.Shifts()
	replacement := "taskset-" + d.ID
	if len(shifts) != 2 || shifts[0].Route != testRoute || shifts[0].Split.Replacement != replacement || shifts[0].Split.Weight != 100 ||
		shifts[1].Route != prodRoute || shifts[1].Split.Weight != 100 || shifts[1].Split.Original != "ts-old" || shifts[1].Split.Replacement != replacement {
		t.Fatalf("shifts %+v", shifts)
	}
	if inv := hooks.Invocations(); len(inv) != 1 || inv[0].FunctionName != "checkTest" {
		t.Errorf("hooks %+v", inv)
	}
	if got := prov.Terminated(); !slices.Equal(got, []string{"ts-old"}) {
		t.Errorf("terminated %v; want the original task set", got)
	}
	if e.get(d.ID).Progress.Original != "ts-old" {
		t.Error("the original task set is not recorded for a resumed deployment")
	}
}

// The linear schedule (whose last step is fleetdeploy's decision, see
// package config) in virtual time, driven with Step (which never waits, so
// the test moves the clock exactly to each WaitUntil):
// LambdaLinear10PercentEvery1Minute shifts 10% more every minute, 100% after
// nine minutes.
func TestLambdaScheduleWithStep(t *testing.T) {
	e, shifter, _, _ := serviceEnv(t, config.Lambda, "CodeDeployDefault.LambdaLinear10PercentEvery1Minute", nil)
	route := target.TrafficRoute{ResourceID: "checkout:live"}
	shifter.SetRoute(route, target.TrafficSplit{Original: "1"})
	start := e.clk.Now()
	var at []string
	shifter.OnShift(func(_ context.Context, req target.ShiftRequest) error {
		at = append(at, fmt.Sprintf("%d%%@%s", req.Split.Weight, e.clk.Now().Sub(start)))
		return nil
	})
	d, err := e.exec.CreateDeployment(e.ctx, deploy.DeploymentInput{ApplicationName: "shop", GroupName: "prod", Revision: lambdaSpec("2")})
	if err != nil {
		t.Fatal(err)
	}
	for range 100 {
		res, err := e.exec.Step(e.ctx, d.ID)
		if err != nil {
			t.Fatal(err)
		}
		if res.Done {
			if res.Deployment.Status != deploy.StatusSucceeded {
				t.Fatalf("status %s", res.Deployment.Status)
			}
			want := "[10%@0s 20%@1m0s 30%@2m0s 40%@3m0s 50%@4m0s 60%@5m0s 70%@6m0s 80%@7m0s 90%@8m0s 100%@9m0s]"
			if fmt.Sprint(at) != want {
				t.Errorf("shifts %v; want %s", at, want)
			}
			return
		}
		if !res.WaitUntil.IsZero() {
			e.clk.Set(res.WaitUntil)
		}
	}
	t.Fatal("no end after 100 steps")
}

// A worker that installs one replacement after another leaves each its own
// lifecycle events: a replacement's record keeps its install events until
// its traffic is rerouted ("AppSpec 'hooks' section"), and the next
// replacement the worker runs must not write over them. Every call takes a
// second of virtual time, so every event ends at its own time.
func TestBlueGreenReplacementsKeepTheirOwnEvents(t *testing.T) {
	e, prov := bgEnv(t, deploy.ActionContinueDeployment, func(g *deploy.Group) {
		g.BlueGreenDeploymentConfiguration.TerminateBlueInstancesOnDeploymentSuccess.TerminationWaitTimeInMinutes = 0
	})
	p := e.fleet.Platform()
	p.Provisioner = prov
	x, err := deploy.New(e.store, p, func(o *deploy.Options) { o.Clock, o.Concurrency = e.clk, 1 })
	if err != nil {
		t.Fatal(err)
	}
	e.fleet.OnCall(func(context.Context, targettest.Call) error { e.clk.Advance(time.Second); return nil })
	d := e.create("v1")
	got, err := x.Run(e.ctx, d.ID)
	if err != nil || got.Status != deploy.StatusSucceeded {
		t.Fatalf("Run = %s %+v, %v; want Succeeded", got.Status, got.ErrorInformation, err)
	}
	ends := map[time.Time]string{} // when an event ended → the replacement it ran on
	replacements := 0
	for id, tg := range e.targets(d.ID) {
		if tg.Label != target.LabelGreen {
			continue
		}
		replacements++
		if len(tg.LifecycleEvents) != 10 {
			t.Fatalf("replacement %s has %d events; want 10", id, len(tg.LifecycleEvents))
		}
		for _, ev := range tg.LifecycleEvents {
			if ev.Status != target.EventSucceeded {
				t.Errorf("replacement %s: %s %s; want Succeeded", id, ev.Name, ev.Status)
			}
			if other, ok := ends[ev.EndTime]; ok {
				t.Errorf("replacement %s: %s ended at %s, as an event of %s did: one record holds the other's events", id, ev.Name, ev.EndTime.Format(time.TimeOnly), other)
			}
			ends[ev.EndTime] = id
		}
	}
	if replacements != 4 {
		t.Errorf("%d replacements; want 4", replacements)
	}
}

package lambdatarget_test

import (
	"context"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/fleetdeploy/fleetdeploy/config"
	"github.com/fleetdeploy/fleetdeploy/deploy"
	"github.com/fleetdeploy/fleetdeploy/deploy/deploytest"
	"github.com/fleetdeploy/fleetdeploy/revision"
	"github.com/fleetdeploy/fleetdeploy/target"
	"github.com/fleetdeploy/fleetdeploy/target/lambdatarget"
	"github.com/fleetdeploy/fleetdeploy/target/targettest"
)

// lambdaAppSpec moves alias live of fn from version cur to tgt, with an
// AfterAllowTraffic hook.
func lambdaAppSpec(fn, cur, tgt string) revision.Location {
	c := "version: 0.0\nResources:\n  - app:\n      Type: AWS::Lambda::Function\n      Properties:\n" +
		"        Name: " + fn + "\n        Alias: live\n        CurrentVersion: " + cur + "\n        TargetVersion: " + tgt + "\n" +
		"Hooks:\n  - AfterAllowTraffic: smoke\n"
	return revision.Location{Type: revision.LocationAppSpecContent, AppSpecContent: &revision.AppSpecContent{Content: c}}
}

// executorWorld is the executor over the Shifter on moto's Lambda, with
// in-memory hooks (the executor of this branch sets no HookReports), on a
// fake clock.
type executorWorld struct {
	*world
	exec  *deploy.Executor
	hooks *targettest.Hooks
	clk   interface{ Set(t time.Time) }
}

func newExecutorWorld(t *testing.T, configName string) *executorWorld {
	t.Helper()
	w := newWorld(t)
	ctx := context.Background()
	mem := deploy.NewMemoryStore()
	if err := mem.CreateApplication(ctx, &deploy.Application{Name: "shop", ComputePlatform: config.Lambda}); err != nil {
		t.Fatal(err)
	}
	g := deploy.Group{ApplicationName: "shop", Name: "prod", ComputePlatform: config.Lambda, DeploymentConfigName: configName,
		AutoRollbackConfiguration: deploy.AutoRollbackConfiguration{Enabled: true, Events: []deploy.AutoRollbackEvent{deploy.AutoRollbackDeploymentFailure}}}
	if err := mem.CreateGroup(ctx, &g); err != nil {
		t.Fatal(err)
	}
	shifter, err := lambdatarget.NewShifter(w.client)
	if err != nil {
		t.Fatal(err)
	}
	hooks := targettest.NewHooks()
	clk := deploytest.NewFakeClock(start)
	exec, err := deploy.New(mem, target.Platform{TrafficShifter: shifter, HookInvoker: hooks}, func(o *deploy.Options) {
		o.Clock, o.Source = clk, revision.ContentSource{}
	})
	if err != nil {
		t.Fatal(err)
	}
	return &executorWorld{world: w, exec: exec, hooks: hooks, clk: clk}
}

// run drives deployment id to its end with Step, moving the clock to each
// WaitUntil, and returns the alias' state after each step that changed
// it, and the deployment as it ended.
func (x *executorWorld) run(id string, route target.TrafficRoute) ([]aliasState, *deploy.Deployment) {
	x.t.Helper()
	var states []aliasState
	last := x.state(route)
	for range 1000 {
		res, err := x.exec.Step(context.Background(), id)
		if err != nil {
			x.t.Fatalf("Step(%s): %v", id, err)
		}
		if s := x.state(route); !reflect.DeepEqual(s, last) {
			states = append(states, s)
			last = s
		}
		if res.Done {
			return states, res.Deployment
		}
		if !res.WaitUntil.IsZero() {
			x.clk.Set(res.WaitUntil)
		}
	}
	x.t.Fatalf("%s: no end after 1000 steps", id)
	return nil, nil
}

// A canary deployment through the executor moves the alias 10% to
// version 2, then all of it; a deployment whose AfterAllowTraffic hook
// fails is rolled back to version 1 at once.
func TestExecutorCanaryAndRollback(t *testing.T) {
	x := newExecutorWorld(t, "CodeDeployDefault.LambdaCanary10Percent5Minutes")
	fn := x.function("exec", 3)
	route := x.alias(fn, "1")
	ctx := context.Background()

	d, err := x.exec.CreateDeployment(ctx, deploy.DeploymentInput{ApplicationName: "shop", GroupName: "prod", Revision: lambdaAppSpec(fn, "1", "2")})
	if err != nil {
		t.Fatal(err)
	}
	states, end := x.run(d.ID, route)
	want := []aliasState{{Version: "1", Weights: map[string]float64{"2": 0.1}}, {Version: "2"}}
	if end.Status != deploy.StatusSucceeded || !reflect.DeepEqual(states, want) {
		t.Fatalf("1→2: %s %+v; alias states %+v, want %+v", end.Status, end.ErrorInformation, states, want)
	}

	x.hooks.Script("smoke", target.AfterAllowTraffic, targettest.Outcome{Times: 1,
		Result: target.EventResult{Status: target.EventFailed, ErrorCode: target.CodeScriptFailed, Message: "smoke test failed"}})
	d, err = x.exec.CreateDeployment(ctx, deploy.DeploymentInput{ApplicationName: "shop", GroupName: "prod", Revision: lambdaAppSpec(fn, "2", "3")})
	if err != nil {
		t.Fatal(err)
	}
	states, end = x.run(d.ID, route)
	want = []aliasState{{Version: "2", Weights: map[string]float64{"3": 0.1}}, {Version: "3"}}
	if end.Status != deploy.StatusFailed || !reflect.DeepEqual(states, want) || end.RollbackInfo.RollbackDeploymentID == "" {
		t.Fatalf("2→3: %s %+v; alias states %+v, want %+v and a rollback", end.Status, end.ErrorInformation, states, want)
	}
	states, end = x.run(end.RollbackInfo.RollbackDeploymentID, route)
	if want := []aliasState{{Version: "2"}}; end.Status != deploy.StatusSucceeded || !reflect.DeepEqual(states, want) {
		t.Fatalf("rollback: %s %+v; alias states %+v, want %+v", end.Status, end.ErrorInformation, states, want)
	}
}

// An alias that serves another version than the AppSpec's CurrentVersion
// fails the deployment before any shift with INVALID_LAMBDA_CONFIGURATION
// and a message naming the mismatch, and the alias is left as it was.
func TestExecutorAliasMismatch(t *testing.T) {
	x := newExecutorWorld(t, "CodeDeployDefault.LambdaAllAtOnce")
	fn := x.function("mismatch", 3)
	route := x.alias(fn, "3")
	d, err := x.exec.CreateDeployment(context.Background(), deploy.DeploymentInput{ApplicationName: "shop", GroupName: "prod",
		Revision: lambdaAppSpec(fn, "1", "2")})
	if err != nil {
		t.Fatal(err)
	}
	states, end := x.run(d.ID, route)
	if end.Status != deploy.StatusFailed || len(states) != 0 {
		t.Fatalf("%s %+v; alias states %+v, want failed and the alias untouched", end.Status, end.ErrorInformation, states)
	}
	if end.ErrorInformation.Code != "INVALID_LAMBDA_CONFIGURATION" {
		t.Errorf("the deployment failed with %+v; want INVALID_LAMBDA_CONFIGURATION", end.ErrorInformation)
	}
	var msg string
	for tg, err := range deploy.AllTargets(context.Background(), x.exec.Store(), d.ID) {
		if err != nil {
			t.Fatal(err)
		}
		if ev := tg.Event(target.AllowTraffic); ev != nil && ev.Diagnostics != nil {
			msg = ev.Diagnostics.Message
		}
	}
	if !strings.Contains(msg, "points to version 3") || !strings.Contains(msg, "CurrentVersion") {
		t.Errorf("AllowTraffic's diagnostics %q do not name the mismatch", msg)
	}
}

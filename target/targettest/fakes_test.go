package targettest_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/fleetdeploy/fleetdeploy/target"
	"github.com/fleetdeploy/fleetdeploy/target/targettest"
)

func TestShifter(t *testing.T) {
	ctx := context.Background()
	s := targettest.NewShifter()
	alias := target.TrafficRoute{ResourceID: "orders:live"}
	s.SetRoute(alias, target.TrafficSplit{Original: "3"})

	// A canary: 10% then 100%.
	for _, w := range []int{10, 100} {
		r := target.ShiftRequest{Deployment: dep, Route: alias, Split: target.TrafficSplit{Original: "3", Replacement: "4", Weight: w}}
		if err := s.ShiftTraffic(ctx, r); err != nil {
			t.Fatal(err)
		}
		if got, err := s.CurrentTraffic(ctx, alias); err != nil || got != r.Split.Settled() {
			t.Errorf("CurrentTraffic = %+v, %v; want %+v", got, err, r.Split.Settled())
		}
	}
	// ECS test listener is its own route.
	test := target.TrafficRoute{ResourceID: "cluster/orders", Test: true}
	if _, err := s.CurrentTraffic(ctx, test); !errors.Is(err, target.ErrNotFound) {
		t.Errorf("unknown route: %v, want ErrNotFound", err)
	}
	if err := s.ShiftTraffic(ctx, target.ShiftRequest{Route: test, Split: target.TrafficSplit{Original: "a", Replacement: "b", Weight: 100}}); !errors.Is(err, target.ErrNotFound) {
		t.Errorf("shift on unknown route: %v, want ErrNotFound", err)
	}
	if err := s.ShiftTraffic(ctx, target.ShiftRequest{Route: alias, Split: target.TrafficSplit{Original: "3", Replacement: "4", Weight: 120}}); !errors.Is(err, target.ErrInvalidRequest) {
		t.Errorf("weight 120: %v, want ErrInvalidRequest", err)
	}
	boom := errors.New("alias update throttled")
	s.OnShift(func(context.Context, target.ShiftRequest) error { return boom })
	if err := s.ShiftTraffic(ctx, target.ShiftRequest{Route: alias, Split: target.TrafficSplit{Original: "3", Replacement: "4", Weight: 0}}); !errors.Is(err, boom) {
		t.Errorf("hook error: %v", err)
	}
	if got, _ := s.CurrentTraffic(ctx, alias); got != (target.TrafficSplit{Original: "4"}) {
		t.Errorf("a failed shift changed the split: %+v", got)
	}
	var weights []int
	for _, r := range s.Shifts() {
		weights = append(weights, r.Split.Weight)
	}
	if want := []int{10, 100, 100, 120, 0}; !slices.Equal(weights, want) {
		t.Errorf("Shifts weights = %v, want %v", weights, want)
	}
}

func TestProvisioner(t *testing.T) {
	ctx := context.Background()
	fleet := threeTargets()
	p := targettest.NewProvisioner(fleet)
	originals, _ := fleet.ListTargets(ctx, target.Selector{AutoScalingGroups: []string{"asg"}})

	t.Run("COPY_AUTO_SCALING_GROUP", func(t *testing.T) {
		req := target.ProvisionRequest{Deployment: dep, Action: target.CopyAutoScalingGroup, Originals: originals}
		got, err := p.ProvisionReplacements(ctx, req)
		if err != nil || len(got) != 1 {
			t.Fatalf("ProvisionReplacements = %v, %v", got, err)
		}
		r := got[0]
		if r.AutoScalingGroup != "CodeDeploy_web_d-1" || r.Zone != "b" || r.Tags["Env"] != "Prod" {
			t.Errorf("replacement = %+v", r)
		}
		if fleet.InService(r.ID) {
			t.Error("a new replacement is in service before AllowTraffic")
		}
		again, _ := p.ProvisionReplacements(ctx, req)
		if !slices.Equal(ids(again), ids(got)) {
			t.Errorf("second call made new replacements: %v vs %v", ids(again), ids(got))
		}
		if made := p.Provisioned(); !slices.Equal(ids(made), ids(got)) {
			t.Errorf("Provisioned = %v; want the one replacement, once", ids(made))
		}
		if err := p.TerminateTargets(ctx, originals); err != nil {
			t.Fatal(err)
		}
		if _, err := fleet.RunEvent(ctx, req2(originals[0].ID)); !errors.Is(err, target.ErrTargetUnavailable) {
			t.Errorf("event on terminated original: %v", err)
		}
		if got := p.Terminated(); !slices.Equal(got, []string{"i-2"}) {
			t.Errorf("Terminated = %v", got)
		}
	})
	t.Run("DISCOVER_EXISTING", func(t *testing.T) {
		d := dep
		d.DeploymentID = "d-2"
		fleet.Add(target.Target{ID: "i-4", Tags: map[string]string{"Env": "Dev"}})
		req := target.ProvisionRequest{Deployment: d, Action: target.DiscoverExisting,
			Originals:    []target.Target{{ID: "i-3"}}, // matches too, but is an original
			Replacements: target.Selector{EC2TagFilters: []target.TagFilter{{Key: "Env", Value: "Dev", Type: target.KeyAndValue}}}}
		got, err := p.ProvisionReplacements(ctx, req)
		if err != nil || !slices.Equal(ids(got), []string{"i-4"}) {
			t.Fatalf("ProvisionReplacements = %v, %v", ids(got), err)
		}
		if fleet.InService("i-4") || !fleet.InService("i-3") {
			t.Error("discovered replacement still in service, or original taken out")
		}
	})
	t.Run("ECS task set", func(t *testing.T) {
		d := dep
		d.DeploymentID = "d-3"
		got, err := p.ProvisionReplacements(ctx, target.ProvisionRequest{Deployment: d})
		if err != nil || !slices.Equal(ids(got), []string{"taskset-d-3"}) {
			t.Fatalf("ProvisionReplacements = %v, %v", ids(got), err)
		}
		if made := ids(p.Provisioned()); len(made) != 3 || made[1] != "i-4" || made[2] != "taskset-d-3" {
			t.Errorf("Provisioned = %v; want d-1's copy, then i-4, then taskset-d-3", made)
		}
	})
	t.Run("failure", func(t *testing.T) {
		d := dep
		d.DeploymentID = "d-4"
		boom := errors.New("launch template missing")
		p.OnProvision(func(context.Context, target.ProvisionRequest) error { return boom })
		if _, err := p.ProvisionReplacements(ctx, target.ProvisionRequest{Deployment: d, Action: target.CopyAutoScalingGroup}); !errors.Is(err, boom) {
			t.Errorf("err = %v", err)
		}
		p.OnProvision(nil)
		if _, err := p.ProvisionReplacements(ctx, target.ProvisionRequest{Deployment: d, Action: "CLONE"}); !errors.Is(err, target.ErrUnsupported) {
			t.Errorf("unknown action: %v", err)
		}
	})
}

func req2(id string) target.EventRequest { return req(id, target.BeforeBlockTraffic) }

func TestHooks(t *testing.T) {
	ctx := context.Background()
	h := targettest.NewHooks()
	h.Script("validateOrders", target.AfterAllowTraffic, targettest.Fail(target.CodeScriptFailed, "smoke test failed"))
	hr := func(fn string, e target.LifecycleEvent) target.HookRequest {
		return target.HookRequest{Deployment: dep, Event: e, FunctionName: fn, ExecutionID: "x-" + string(e)}
	}
	// A hook reports Succeeded or Failed (API Reference,
	// PutLifecycleEventHookExecutionStatus).
	if res, err := h.InvokeHook(ctx, hr("validateOrders", target.BeforeAllowTraffic)); err != nil || res.Status != target.EventSucceeded {
		t.Errorf("unscripted hook = %+v, %v", res, err)
	}
	if res, err := h.InvokeHook(ctx, hr("validateOrders", target.AfterAllowTraffic)); err != nil || res.Status != target.EventFailed {
		t.Errorf("scripted failure = %+v, %v", res, err)
	}
	h.Script("gone", "", targettest.Error(target.ErrNotFound))
	if _, err := h.InvokeHook(ctx, hr("gone", target.BeforeAllowTraffic)); !errors.Is(err, target.ErrNotFound) {
		t.Errorf("missing function: %v", err)
	}
	if _, err := h.InvokeHook(ctx, target.HookRequest{Event: target.BeforeInstall}); !errors.Is(err, targettest.ErrMisuse) {
		t.Errorf("request without function: %v", err)
	}
	gate := targettest.NewGate()
	h.OnInvoke(func(ctx context.Context, _ target.HookRequest) error { return gate.Wait(ctx) })
	cctx, cancel := context.WithCancel(ctx)
	cancel() // the hour CodeDeploy waits for a hook's report ran out
	if _, err := h.InvokeHook(cctx, hr("validateOrders", target.BeforeAllowTraffic)); !errors.Is(err, context.Canceled) {
		t.Errorf("no report before ctx done: %v", err)
	}
	if n := len(h.Invocations()); n != 5 {
		t.Errorf("Invocations = %d, want 5", n)
	}
}

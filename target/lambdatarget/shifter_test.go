package lambdatarget_test

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/aws/smithy-go"
	"github.com/fleetdeploy/fleetdeploy/config"
	"github.com/fleetdeploy/fleetdeploy/target"
	"github.com/fleetdeploy/fleetdeploy/target/lambdatarget"
)

// documentedWeights is the schedule of a predefined Lambda configuration
// as the CodeDeploy User Guide describes it ("Deployment configurations
// on an AWS Lambda compute platform"): a canary shifts its percentage,
// then the rest; a linear one shifts its percentage more each interval
// until all traffic is shifted; AllAtOnce shifts everything at once.
func documentedWeights(t *testing.T, c config.Config) []int {
	t.Helper()
	tr := c.TrafficRouting
	switch {
	case tr.Type == config.AllAtOnce:
		return []int{100}
	case tr.Type == config.TimeBasedCanary:
		return []int{tr.TimeBasedCanary.CanaryPercentage, 100}
	case tr.Type == config.TimeBasedLinear:
		var ws []int
		for w := tr.TimeBasedLinear.LinearPercentage; w < 100; w += tr.TimeBasedLinear.LinearPercentage {
			ws = append(ws, w)
		}
		return append(ws, 100)
	}
	t.Fatalf("%s: unknown traffic routing %q", c.Name, tr.Type)
	return nil
}

// The alias after each shift of every predefined Lambda schedule: the
// current version keeps serving, the new one gets its share as a
// fraction; the last shift points the alias at the new version with no
// weighted routing. CurrentTraffic reads each state back.
func TestShiftPredefinedSchedules(t *testing.T) {
	w := newWorld(t)
	rec := &recorder{Client: w.client}
	s, err := lambdatarget.NewShifter(rec)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, c := range config.PredefinedConfigs() {
		if c.ComputePlatform != config.Lambda {
			continue
		}
		names = append(names, c.Name)
		t.Run(c.Name, func(t *testing.T) {
			want := documentedWeights(t, c)
			var steps []int
			for _, st := range c.TrafficRouting.Steps() {
				steps = append(steps, st.Weight)
			}
			if !reflect.DeepEqual(steps, want) {
				t.Fatalf("config's schedule %v; the User Guide's %v", steps, want)
			}
			w := &world{t: t, client: w.client, role: w.role}
			fn := w.function("sched", 2)
			route := w.alias(fn, "1")
			ctx := context.Background()
			for _, weight := range want {
				req := target.ShiftRequest{Deployment: target.DeploymentInfo{DeploymentID: "d-sched"}, Route: route,
					Split: target.TrafficSplit{Original: "1", Replacement: "2", Weight: weight}}
				if err := s.ShiftTraffic(ctx, req); err != nil {
					t.Fatalf("shift to %d%%: %v", weight, err)
				}
				wantState := aliasState{Version: "1", Weights: map[string]float64{"2": float64(weight) / 100}}
				wantSplit := target.TrafficSplit{Original: "1", Replacement: "2", Weight: weight}
				if weight == 100 {
					wantState = aliasState{Version: "2"}
					wantSplit = target.TrafficSplit{Original: "2"}
				}
				if got := w.state(route); !reflect.DeepEqual(got, wantState) {
					t.Fatalf("after the shift to %d%% the alias is %+v; want %+v", weight, got, wantState)
				}
				got, err := s.CurrentTraffic(ctx, route)
				if err != nil || got != wantSplit {
					t.Fatalf("CurrentTraffic after %d%% = %+v, %v; want %+v", weight, got, err, wantSplit)
				}
			}
		})
	}
	wantNames := []string{"CodeDeployDefault.LambdaCanary10Percent5Minutes", "CodeDeployDefault.LambdaCanary10Percent10Minutes",
		"CodeDeployDefault.LambdaCanary10Percent15Minutes", "CodeDeployDefault.LambdaCanary10Percent30Minutes",
		"CodeDeployDefault.LambdaLinear10PercentEvery1Minute", "CodeDeployDefault.LambdaLinear10PercentEvery2Minutes",
		"CodeDeployDefault.LambdaLinear10PercentEvery3Minutes", "CodeDeployDefault.LambdaLinear10PercentEvery10Minutes",
		"CodeDeployDefault.LambdaAllAtOnce"}
	if !reflect.DeepEqual(names, wantNames) {
		t.Errorf("Lambda configurations tested: %v; want %v", names, wantNames)
	}
	// 4 canaries × 2 shifts, 4 linear × 10, AllAtOnce 1: one update each.
	if got := rec.updateCount(); got != 4*2+4*10+1 {
		t.Errorf("%d UpdateAlias calls; want %d, one per shift", got, 4*2+4*10+1)
	}
}

// Setting the split the alias has already — a shift made again after a
// crash, before or after the last shift — changes nothing and calls no
// UpdateAlias; a shift back to 0 removes the weighted routing.
func TestShiftAgain(t *testing.T) {
	w := newWorld(t)
	rec := &recorder{Client: w.client}
	s, err := lambdatarget.NewShifter(rec)
	if err != nil {
		t.Fatal(err)
	}
	fn := w.function("again", 2)
	route := w.alias(fn, "1")
	ctx := context.Background()
	shift := func(weight int) {
		t.Helper()
		if err := s.ShiftTraffic(ctx, target.ShiftRequest{Route: route,
			Split: target.TrafficSplit{Original: "1", Replacement: "2", Weight: weight}}); err != nil {
			t.Fatalf("shift to %d%%: %v", weight, err)
		}
	}
	shift(30)
	shift(30)
	if got := rec.updateCount(); got != 1 {
		t.Errorf("%d UpdateAlias calls for the same 30%% twice; want 1", got)
	}
	shift(0)
	if got := w.state(route); !reflect.DeepEqual(got, aliasState{Version: "1"}) {
		t.Errorf("after the shift to 0 the alias is %+v; want version 1 with no routing", got)
	}
	shift(100)
	shift(100)
	if got := rec.updateCount(); got != 3 {
		t.Errorf("%d UpdateAlias calls; want 3 (30, 0, 100)", got)
	}
	if got := w.state(route); !reflect.DeepEqual(got, aliasState{Version: "2"}) {
		t.Errorf("alias %+v; want version 2 with no routing", got)
	}
}

// A rollback moves all traffic back to the version that was live before
// the deployment, from mid-schedule or after its last shift; the
// executor asks for it as a shift from the rolled-back version to the
// original one.
func TestShiftRollback(t *testing.T) {
	w := newWorld(t)
	s, err := lambdatarget.NewShifter(w.client)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, tc := range []struct {
		name    string
		version string
		weights map[string]float64
	}{
		{"mid-schedule", "1", map[string]float64{"2": 0.3}},
		{"after the last shift", "2", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := &world{t: t, client: w.client, role: w.role}
			fn := w.function("rollback", 2)
			route := w.alias(fn, "1")
			w.setAlias(route, tc.version, tc.weights)
			split, err := s.CurrentTraffic(ctx, route)
			if err != nil {
				t.Fatal(err)
			}
			from := split.Original
			if split.Replacement != "" {
				from = split.Replacement
			}
			if from != "2" {
				t.Fatalf("CurrentTraffic %+v: the rolled-back version is 2", split)
			}
			if err := s.ShiftTraffic(ctx, target.ShiftRequest{Route: route,
				Split: target.TrafficSplit{Original: from, Replacement: "1", Weight: 100}}); err != nil {
				t.Fatal(err)
			}
			if got := w.state(route); !reflect.DeepEqual(got, aliasState{Version: "1"}) {
				t.Errorf("after the rollback the alias is %+v; want version 1 with no routing", got)
			}
		})
	}
}

// CurrentTraffic reads an alias set by hand: the routed fraction as a
// percentage, rounded but never to 0 or 100 while another version gets
// traffic; and every weight ShiftTraffic sets reads back as it was set.
func TestCurrentTraffic(t *testing.T) {
	w := newWorld(t)
	s, err := lambdatarget.NewShifter(w.client)
	if err != nil {
		t.Fatal(err)
	}
	fn := w.function("current", 3)
	route := w.alias(fn, "2")
	ctx := context.Background()
	for _, tc := range []struct {
		version string
		weights map[string]float64
		want    target.TrafficSplit
	}{
		{"2", nil, target.TrafficSplit{Original: "2"}},
		{"2", map[string]float64{"3": 0.25}, target.TrafficSplit{Original: "2", Replacement: "3", Weight: 25}},
		{"3", map[string]float64{"1": 0.004}, target.TrafficSplit{Original: "3", Replacement: "1", Weight: 1}},
		{"1", map[string]float64{"2": 0.999}, target.TrafficSplit{Original: "1", Replacement: "2", Weight: 99}},
		{"1", map[string]float64{"2": 0.333}, target.TrafficSplit{Original: "1", Replacement: "2", Weight: 33}},
		{"1", map[string]float64{"2": 0}, target.TrafficSplit{Original: "1"}},
	} {
		w.setAlias(route, tc.version, tc.weights)
		got, err := s.CurrentTraffic(ctx, route)
		if err != nil || got != tc.want {
			t.Errorf("alias on %s routing %v: CurrentTraffic = %+v, %v; want %+v", tc.version, tc.weights, got, err, tc.want)
		}
	}
	w.setAlias(route, "1", nil)
	for _, weight := range []int{1, 7, 33, 50, 67, 99} {
		split := target.TrafficSplit{Original: "1", Replacement: "2", Weight: weight}
		if err := s.ShiftTraffic(ctx, target.ShiftRequest{Route: route, Split: split}); err != nil {
			t.Fatal(err)
		}
		if got, err := s.CurrentTraffic(ctx, route); err != nil || got != split {
			t.Errorf("after ShiftTraffic(%+v) CurrentTraffic = %+v, %v", split, got, err)
		}
	}
}

// What CodeDeploy checks before a Lambda deployment shifts traffic, with
// its error codes; the alias is left as it was.
func TestShiftValidation(t *testing.T) {
	w := newWorld(t)
	rec := &recorder{Client: w.client}
	s, err := lambdatarget.NewShifter(rec)
	if err != nil {
		t.Fatal(err)
	}
	fn := w.function("validate", 3)
	live := w.alias(fn, "1")
	ctx := context.Background()
	for _, tc := range []struct {
		name     string
		version  string             // the alias' version
		weights  map[string]float64 // and routing
		route    string             // "" is fn:live
		split    target.TrafficSplit
		code     string
		is       []error
		contains []string
	}{
		{name: "alias on another version", version: "3", split: target.TrafficSplit{Original: "1", Replacement: "2", Weight: 10},
			code: "INVALID_LAMBDA_CONFIGURATION", is: []error{lambdatarget.ErrAliasMismatch},
			contains: []string{"points to version 3", "version 1 (the AppSpec's CurrentVersion)"}},
		{name: "alias routing to a third version", version: "1", weights: map[string]float64{"3": 0.1},
			split: target.TrafficSplit{Original: "1", Replacement: "2", Weight: 10},
			code:  "INVALID_LAMBDA_CONFIGURATION", is: []error{lambdatarget.ErrAliasMismatch},
			contains: []string{"routing 10% of traffic to version 3"}},
		{name: "alias on the target version before a partial shift", version: "2",
			split: target.TrafficSplit{Original: "1", Replacement: "2", Weight: 10},
			code:  "INVALID_LAMBDA_CONFIGURATION", is: []error{lambdatarget.ErrAliasMismatch}, contains: []string{"points to version 2"}},
		{name: "target version missing", version: "1", split: target.TrafficSplit{Original: "1", Replacement: "9", Weight: 10},
			code: "INVALID_LAMBDA_CONFIGURATION", is: []error{lambdatarget.ErrVersionNotFound},
			contains: []string{"has no version 9", "TargetVersion"}},
		{name: "function missing", route: "no-such-function-" + fn + ":live", split: target.TrafficSplit{Original: "1", Replacement: "2", Weight: 10},
			code: "INVALID_LAMBDA_FUNCTION", is: []error{target.ErrNotFound}, contains: []string{"does not exist"}},
		{name: "alias missing", route: fn + ":nope", split: target.TrafficSplit{Original: "1", Replacement: "2", Weight: 10},
			code: "INVALID_LAMBDA_CONFIGURATION", is: []error{target.ErrNotFound}, contains: []string{"has no alias nope"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			route := target.TrafficRoute{ResourceID: tc.route}
			if tc.route == "" {
				route = live
				w.setAlias(route, tc.version, tc.weights)
			}
			before := rec.updateCount()
			err := s.ShiftTraffic(ctx, target.ShiftRequest{Route: route, Split: tc.split})
			if got := errorsAsCode(err); got != tc.code {
				t.Fatalf("ShiftTraffic: %v (code %q); want code %s", err, got, tc.code)
			}
			for _, want := range tc.is {
				if !errors.Is(err, want) {
					t.Errorf("error %v does not match %v", err, want)
				}
			}
			for _, want := range tc.contains {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not say %q", err, want)
				}
			}
			if rec.updateCount() != before {
				t.Error("the alias was updated")
			}
			if tc.route == "" {
				want := aliasState{Version: tc.version}
				if len(tc.weights) > 0 {
					want.Weights = tc.weights
				}
				if got := w.state(route); !reflect.DeepEqual(got, want) {
					t.Errorf("alias is %+v; want it unchanged, %+v", got, want)
				}
			}
			if tc.route != "" {
				_, cerr := s.CurrentTraffic(ctx, route)
				if errorsAsCode(cerr) != tc.code || !errors.Is(cerr, target.ErrNotFound) {
					t.Errorf("CurrentTraffic: %v; want code %s wrapping target.ErrNotFound", cerr, tc.code)
				}
				var api smithy.APIError
				if !errors.As(cerr, &api) || api.ErrorCode() != "ResourceNotFoundException" {
					t.Errorf("CurrentTraffic: %v; want the SDK's ResourceNotFoundException reachable", cerr)
				}
			}
		})
	}
}

// Requests that are not a Lambda alias shift fail before any call.
func TestShiftInvalidRequest(t *testing.T) {
	w := newWorld(t)
	rec := &recorder{Client: w.client}
	s, err := lambdatarget.NewShifter(rec)
	if err != nil {
		t.Fatal(err)
	}
	ok := target.TrafficSplit{Original: "1", Replacement: "2", Weight: 10}
	for _, tc := range []struct {
		name  string
		route target.TrafficRoute
		split target.TrafficSplit
	}{
		{"test route", target.TrafficRoute{ResourceID: "fn:live", Test: true}, ok},
		{"no alias", target.TrafficRoute{ResourceID: "fn"}, ok},
		{"empty alias", target.TrafficRoute{ResourceID: "fn:"}, ok},
		{"weight above 100", target.TrafficRoute{ResourceID: "fn:live"}, target.TrafficSplit{Original: "1", Replacement: "2", Weight: 101}},
		{"same versions", target.TrafficRoute{ResourceID: "fn:live"}, target.TrafficSplit{Original: "1", Replacement: "1", Weight: 10}},
	} {
		err := s.ShiftTraffic(context.Background(), target.ShiftRequest{Route: tc.route, Split: tc.split})
		if !errors.Is(err, target.ErrInvalidRequest) {
			t.Errorf("%s: ShiftTraffic = %v; want target.ErrInvalidRequest", tc.name, err)
		}
	}
	if _, err := s.CurrentTraffic(context.Background(), target.TrafficRoute{ResourceID: "fn:live", Test: true}); !errors.Is(err, target.ErrInvalidRequest) {
		t.Errorf("CurrentTraffic of a test route = %v; want target.ErrInvalidRequest", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := s.ShiftTraffic(ctx, target.ShiftRequest{Route: target.TrafficRoute{ResourceID: "fn:live"}, Split: ok}); !errors.Is(err, context.Canceled) {
		t.Errorf("ShiftTraffic with a done ctx = %v; want context.Canceled", err)
	}
	if _, err := s.CurrentTraffic(ctx, target.TrafficRoute{ResourceID: "fn:live"}); !errors.Is(err, context.Canceled) {
		t.Errorf("CurrentTraffic with a done ctx = %v; want context.Canceled", err)
	}
	if _, err := lambdatarget.NewShifter(nil); !errors.Is(err, lambdatarget.ErrInvalidOptions) {
		t.Errorf("NewShifter(nil) = %v; want ErrInvalidOptions", err)
	}
}

// Lambda refusing the alias update — throttled, access denied, or the
// alias changed since it was read (answers moto does not give, injected
// around the real client) — is a *target.CodeError with CodeDeploy's code
// and the SDK's error reachable; the alias is unchanged.
func TestShiftRefused(t *testing.T) {
	w := newWorld(t)
	fn := w.function("refused", 2)
	route := w.alias(fn, "1")
	for _, tc := range []struct{ answer, code string }{
		{"TooManyRequestsException", "THROTTLED"},
		{"AccessDeniedException", "IAM_ROLE_PERMISSIONS"},
		{"PreconditionFailedException", "INVALID_LAMBDA_CONFIGURATION"},
	} {
		rec := &recorder{Client: w.client, updateErr: &smithy.GenericAPIError{Code: tc.answer, Message: "refused"}}
		s, err := lambdatarget.NewShifter(rec)
		if err != nil {
			t.Fatal(err)
		}
		err = s.ShiftTraffic(context.Background(), target.ShiftRequest{Route: route,
			Split: target.TrafficSplit{Original: "1", Replacement: "2", Weight: 10}})
		var api smithy.APIError
		if got := errorsAsCode(err); got != tc.code || !errors.As(err, &api) || api.ErrorCode() != tc.answer {
			t.Errorf("UpdateAlias answering %s: ShiftTraffic = %v (code %q); want code %s and the SDK's error", tc.answer, err, got, tc.code)
		}
		if got := w.state(route); !reflect.DeepEqual(got, aliasState{Version: "1"}) {
			t.Errorf("alias %+v after a refused update; want it unchanged", got)
		}
	}
}

package ecstarget_test

import (
	"errors"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/smithy-go"

	"github.com/fleetdeploy/fleetdeploy/config"
	"github.com/fleetdeploy/fleetdeploy/revision"
	"github.com/fleetdeploy/fleetdeploy/target"
	"github.com/fleetdeploy/fleetdeploy/target/ecstarget"
)

// roles returns a Provisioner and a TrafficShifter for w.
func roles(t testing.TB, w *world, ecsc ecstarget.ECSClient, optFns ...func(*ecstarget.Options)) (*ecstarget.Provisioner, *ecstarget.TrafficShifter) {
	t.Helper()
	if ecsc == nil {
		ecsc = w.ecs
	}
	p, err := ecstarget.NewProvisioner(ecsc, w.elb, revision.ContentSource{}, optFns...)
	if err != nil {
		t.Fatal(err)
	}
	s, err := ecstarget.NewTrafficShifter(ecsc, w.elb, ecstarget.StaticRoutes(map[string]target.TargetGroupPairInfo{w.id(): w.pair()}), optFns...)
	if err != nil {
		t.Fatal(err)
	}
	return p, s
}

// provision makes the replacement of original and returns its ARN.
func provision(t testing.TB, p *ecstarget.Provisioner, req target.ProvisionRequest) string {
	t.Helper()
	ts, err := p.ProvisionReplacements(t.Context(), req)
	if err != nil {
		t.Fatalf("ProvisionReplacements: %v", err)
	}
	if len(ts) != 1 {
		t.Fatalf("ProvisionReplacements returned %d targets; want 1 task set", len(ts))
	}
	return ts[0].ID
}

// The production listener's weights after each shift of every predefined
// ECS configuration, from the percentages the CodeDeploy User Guide gives
// them ("Predefined deployment configurations for an Amazon ECS compute
// platform"): a canary sends 10% then all; a linear configuration adds 10%
// each interval.
func TestShiftTrafficSchedules(t *testing.T) {
	want := map[string][]int{
		"CodeDeployDefault.ECSAllAtOnce":                    {100},
		"CodeDeployDefault.ECSCanary10Percent5Minutes":      {10, 100},
		"CodeDeployDefault.ECSCanary10Percent15Minutes":     {10, 100},
		"CodeDeployDefault.ECSLinear10PercentEvery1Minutes": {10, 20, 30, 40, 50, 60, 70, 80, 90, 100},
		"CodeDeployDefault.ECSLinear10PercentEvery3Minutes": {10, 20, 30, 40, 50, 60, 70, 80, 90, 100},
	}
	var ecsConfigs []string
	for _, c := range config.PredefinedConfigs() {
		if c.ComputePlatform == config.ECS {
			ecsConfigs = append(ecsConfigs, c.Name)
		}
	}
	if got := slices.Sorted(maps.Keys(want)); !slices.Equal(slices.Sorted(slices.Values(ecsConfigs)), got) {
		t.Fatalf("predefined ECS configurations are %v; the test knows %v", ecsConfigs, got)
	}
	for _, name := range ecsConfigs {
		t.Run(strings.TrimPrefix(name, "CodeDeployDefault."), func(t *testing.T) {
			cfg, _ := config.Predefined(name)
			var steps []int
			for _, s := range cfg.TrafficRouting.Steps() {
				steps = append(steps, s.Weight)
			}
			if !slices.Equal(steps, want[name]) {
				t.Fatalf("%s steps through %v; the User Guide says %v", name, steps, want[name])
			}
			w := newWorld(t)
			p, s := roles(t, w, nil)
			req := w.request(w.original)
			repl := provision(t, p, req)
			prod := target.TrafficRoute{ResourceID: w.id()}
			test := target.TrafficRoute{ResourceID: w.id(), Test: true}
			// AllowTestTraffic: the test listener all on the replacement,
			// production untouched.
			if err := s.ShiftTraffic(t.Context(), target.ShiftRequest{Deployment: req.Deployment, Route: test,
				Split: target.TrafficSplit{Original: w.original, Replacement: repl, Weight: 100}}); err != nil {
				t.Fatalf("ShiftTraffic(test listener) = %v", err)
			}
			if got := w.weights(t, w.test); !maps.Equal(got, map[string]int32{"blue": 0, "green": 100}) {
				t.Errorf("test listener after AllowTestTraffic: %v; want blue 0, green 100", got)
			}
			if got := w.weights(t, w.prod); !maps.Equal(got, map[string]int32{"blue": 1}) {
				t.Errorf("production listener after AllowTestTraffic: %v; want it untouched (blue only)", got)
			}
			for _, pct := range want[name] {
				if err := s.ShiftTraffic(t.Context(), target.ShiftRequest{Deployment: req.Deployment, Route: prod,
					Split: target.TrafficSplit{Original: w.original, Replacement: repl, Weight: pct}}); err != nil {
					t.Fatalf("ShiftTraffic(%d%%) = %v", pct, err)
				}
				if got, exp := w.weights(t, w.prod), map[string]int32{"blue": int32(100 - pct), "green": int32(pct)}; !maps.Equal(got, exp) {
					t.Errorf("production listener after the %d%% shift: %v; want %v", pct, got, exp)
				}
				split, err := s.CurrentTraffic(t.Context(), prod)
				if err != nil {
					t.Fatalf("CurrentTraffic after %d%%: %v", pct, err)
				}
				exp := target.TrafficSplit{Original: w.original, Replacement: repl, Weight: pct}
				if pct == 100 {
					exp = target.TrafficSplit{Original: repl}
				}
				if split != exp {
					t.Errorf("CurrentTraffic after %d%% = %+v; want %+v", pct, split, exp)
				}
				primary := aws.ToString(w.taskSet(t, repl).Status) == "PRIMARY"
				if primary != (pct == 100) {
					t.Errorf("after %d%%, the replacement task set is primary: %v; it becomes primary with the last shift", pct, primary)
				}
			}
		})
	}
}

// Two deployments in a row: the first one's replacement goes to the target
// group the production listener does not forward to (green), the second
// one's back to blue, as CodeDeploy alternates; each original is deleted
// after its deployment.
func TestTargetGroupsAlternate(t *testing.T) {
	w := newWorld(t)
	p, s := roles(t, w, nil)
	prod := target.TrafficRoute{ResourceID: w.id()}
	original := w.original
	for i, wantGroup := range []string{"green", "blue"} {
		split, err := s.CurrentTraffic(t.Context(), prod)
		if err != nil {
			t.Fatalf("deployment %d: CurrentTraffic = %v", i+1, err)
		}
		if split != (target.TrafficSplit{Original: original}) {
			t.Fatalf("deployment %d: CurrentTraffic = %+v; want all on %s", i+1, split, original)
		}
		req := w.request(original)
		repl := provision(t, p, req)
		if g := w.group(t, repl); g != wantGroup {
			t.Errorf("deployment %d: the replacement task set registers with %s; want %s", i+1, g, wantGroup)
		}
		if err := s.ShiftTraffic(t.Context(), target.ShiftRequest{Deployment: req.Deployment, Route: prod,
			Split: target.TrafficSplit{Original: original, Replacement: repl, Weight: 100}}); err != nil {
			t.Fatalf("deployment %d: ShiftTraffic = %v", i+1, err)
		}
		if got := w.weights(t, w.prod); got[wantGroup] != 100 || len(got) != 2 || slices.Contains(slices.Collect(maps.Values(got)), 1) {
			t.Errorf("deployment %d: production listener %v; want all on %s", i+1, got, wantGroup)
		}
		if err := p.TerminateTargets(t.Context(), []target.Target{{ID: original}}); err != nil {
			t.Fatalf("deployment %d: TerminateTargets = %v", i+1, err)
		}
		if w.taskSet(t, original) != nil {
			t.Errorf("deployment %d: the original task set %s still exists after TerminateTargets", i+1, original)
		}
		original = repl
	}
}

// codeOf returns the CodeDeploy error code err carries, "" if none.
func codeOf(err error) string {
	var ce *target.CodeError
	if errors.As(err, &ce) {
		return ce.Code
	}
	return ""
}

// Services, listeners and target groups that are not set up for a
// deployment fail with INVALID_ECS_SERVICE (wrapping target.ErrNotFound,
// so the executor fails the deployment with that code), naming what is
// wrong; a task set ECS refuses fails with ECS_UPDATE_ERROR.
func TestValidationFailures(t *testing.T) {
	type check struct {
		name    string
		arrange func(t *testing.T, w *world, req *target.ProvisionRequest)
		// provision and traffic: the code and message part each call must
		// fail with ("" code: must not fail).
		provisionCode, trafficCode, msg string
	}
	otherService := func(ctl ecstypes.DeploymentControllerType) func(t *testing.T, w *world, req *target.ProvisionRequest) {
		return func(t *testing.T, w *world, req *target.ProvisionRequest) {
			in := &ecs.CreateServiceInput{Cluster: aws.String(w.cluster), ServiceName: aws.String(w.service + "-2"), DesiredCount: aws.Int32(1),
				TaskDefinition: aws.String(w.taskDef)}
			if ctl != "" {
				in.DeploymentController = &ecstypes.DeploymentController{Type: ctl}
			}
			if _, err := w.ecs.CreateService(w.ctx, in); err != nil {
				t.Fatal(err)
			}
			w.service += "-2"
			req.Originals[0].ID = strings.Replace(w.original, "-svc/", "-svc-2/", 1)
		}
	}
	checks := []check{
		{name: "ServiceWithECSController", arrange: otherService(""), provisionCode: "INVALID_ECS_SERVICE", trafficCode: "INVALID_ECS_SERVICE", msg: "EXTERNAL"},
		{name: "ServiceWithCodeDeployController", arrange: otherService(ecstypes.DeploymentControllerTypeCodeDeploy), provisionCode: "INVALID_ECS_SERVICE", trafficCode: "INVALID_ECS_SERVICE", msg: "CODE_DEPLOY, which only AWS CodeDeploy may drive"},
		{name: "MissingService", arrange: func(t *testing.T, w *world, req *target.ProvisionRequest) {
			w.service += "-gone"
			req.Originals[0].ID = strings.Replace(w.original, "-svc/", "-svc-gone/", 1)
		}, provisionCode: "INVALID_ECS_SERVICE", trafficCode: "INVALID_ECS_SERVICE", msg: "does not exist"},
		{name: "MissingCluster", arrange: func(t *testing.T, w *world, req *target.ProvisionRequest) {
			w.cluster += "-gone"
			req.Originals[0].ID = strings.Replace(w.original, "-cluster/", "-cluster-gone/", 1)
		}, provisionCode: "INVALID_ECS_SERVICE", trafficCode: "INVALID_ECS_SERVICE", msg: "does not exist"},
		{name: "ListenerForwardsOutsideThePair", arrange: func(t *testing.T, w *world, req *target.ProvisionRequest) {
			w.forwardTo(t, w.prod, w.thirdGroup(t))
		}, provisionCode: "INVALID_ECS_SERVICE", trafficCode: "INVALID_ECS_SERVICE", msg: "which is not one of the pair"},
		{name: "ListenerForwardsToNeitherGroup", arrange: func(t *testing.T, w *world, req *target.ProvisionRequest) {
			w.forwardWeights(t, w.prod, 0, 0)
		}, provisionCode: "INVALID_ECS_SERVICE", trafficCode: "INVALID_ECS_SERVICE", msg: "forwards to neither target group"},
		{name: "MissingListener", arrange: func(t *testing.T, w *world, req *target.ProvisionRequest) {
			w.prod += "0"
		}, provisionCode: "INVALID_ECS_SERVICE", trafficCode: "INVALID_ECS_SERVICE", msg: "does not exist"},
		{name: "MissingTargetGroup", arrange: func(t *testing.T, w *world, req *target.ProvisionRequest) {
			w.green += "x"
		}, provisionCode: "INVALID_ECS_SERVICE", trafficCode: "INVALID_ECS_SERVICE", msg: "does not exist"},
		{name: "NoTargetGroupPair", arrange: func(t *testing.T, w *world, req *target.ProvisionRequest) {
			req.Deployment.LoadBalancer = target.LoadBalancerInfo{}
		}, provisionCode: "INVALID_ECS_SERVICE", msg: "has no target group pair"},
		{name: "UnknownTaskDefinition", arrange: func(t *testing.T, w *world, req *target.ProvisionRequest) {
			req.Deployment.Revision = appSpec(w.taskDef + "9")
		}, provisionCode: "ECS_UPDATE_ERROR", msg: "creating the replacement task set"},
	}
	for _, c := range checks {
		t.Run(c.name, func(t *testing.T) {
			w := newWorld(t)
			req := w.request(w.original)
			c.arrange(t, w, &req)
			req.Deployment.LoadBalancer.TargetGroupPairInfoList = nil
			if c.name != "NoTargetGroupPair" {
				req.Deployment.LoadBalancer.TargetGroupPairInfoList = []target.TargetGroupPairInfo{w.pair()}
			}
			p, s := roles(t, w, nil)
			_, perr := p.ProvisionReplacements(t.Context(), req)
			checkFailure(t, "ProvisionReplacements", perr, c.provisionCode, c.msg)
			_, err := s.CurrentTraffic(t.Context(), target.TrafficRoute{ResourceID: w.id()})
			checkFailure(t, "CurrentTraffic", err, c.trafficCode, c.msg)
			if c.provisionCode == "ECS_UPDATE_ERROR" {
				var ae smithy.APIError
				if !errors.As(perr, &ae) {
					t.Errorf("the ECS_UPDATE_ERROR does not carry ECS's answer as a smithy.APIError")
				}
				all, derr := w.ecs.DescribeTaskSets(w.ctx, &ecs.DescribeTaskSetsInput{Cluster: aws.String(w.cluster), Service: aws.String(w.service)})
				if derr != nil {
					t.Fatal(derr)
				}
				if len(all.TaskSets) != 1 {
					t.Errorf("after the failed CreateTaskSet the service has %d task sets; want only the original", len(all.TaskSets))
				}
			}
		})
	}
}

// checkFailure checks that err carries code and mentions msg; code ""
// means err must be nil.
func checkFailure(t *testing.T, what string, err error, code, msg string) {
	t.Helper()
	if code == "" {
		if err != nil {
			t.Errorf("%s = %v; want no error", what, err)
		}
		return
	}
	if err == nil {
		t.Errorf("%s succeeded; want %s", what, code)
		return
	}
	if got := codeOf(err); got != code {
		t.Errorf("%s = %v (code %q); want code %s", what, err, got, code)
	}
	if code == "INVALID_ECS_SERVICE" && !errors.Is(err, target.ErrNotFound) {
		t.Errorf("%s = %v; an INVALID_ECS_SERVICE error must wrap target.ErrNotFound", what, err)
	}
	if !strings.Contains(err.Error(), msg) {
		t.Errorf("%s = %v; want it to say %q", what, err, msg)
	}
}

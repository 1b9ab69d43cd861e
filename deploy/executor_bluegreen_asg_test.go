package deploy_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/fleetdeploy/fleetdeploy/deploy"
	"github.com/fleetdeploy/fleetdeploy/health"
	"github.com/fleetdeploy/fleetdeploy/target"
)

// After a successful blue/green deployment that copied the Auto Scaling
// group, the deployment group selects the copy: the next deployment
// replaces the replacements, not the terminated originals.
func TestBlueGreenCopySelectsTheReplacementGroup(t *testing.T) {
	e, prov := bgEnv(t, deploy.ActionContinueDeployment, func(g *deploy.Group) {
		g.BlueGreenDeploymentConfiguration.TerminateBlueInstancesOnDeploymentSuccess.TerminationWaitTimeInMinutes = 0
	})
	d := e.deploy("v1")
	if d.Status != deploy.StatusSucceeded {
		t.Fatalf("first deployment %s %+v", d.Status, d.ErrorInformation)
	}
	g, err := e.store.GetGroup(e.ctx, "shop", "prod")
	if err != nil {
		t.Fatal(err)
	}
	copied := "CodeDeploy_prod_" + d.ID
	if want := []string{copied}; !slices.Equal(g.Selector.AutoScalingGroups, want) {
		t.Fatalf("the group selects Auto Scaling groups %v; want %v", g.Selector.AutoScalingGroups, want)
	}
	if err := g.Validate(); err != nil {
		t.Fatalf("the updated group is invalid: %v", err)
	}
	var green []string
	for id, tg := range e.targets(d.ID) {
		if tg.Label == target.LabelGreen {
			green = append(green, id)
		}
	}
	slices.Sort(green)

	d2 := e.create("v2")
	var blue []string
	for id, tg := range e.targets(d2.ID) {
		if tg.Label == target.LabelBlue {
			blue = append(blue, id)
		}
	}
	slices.Sort(blue)
	if !slices.Equal(blue, green) || len(blue) != 4 {
		t.Fatalf("the second deployment replaces %v; want the first one's replacements %v", blue, green)
	}
	d2, err = e.exec.Run(e.ctx, d2.ID)
	if err != nil || d2.Status != deploy.StatusSucceeded {
		t.Fatalf("second deployment: %v %+v, %v", d2.Status, d2.ErrorInformation, err)
	}
	g, err = e.store.GetGroup(e.ctx, "shop", "prod")
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"CodeDeploy_prod_" + d2.ID}; !slices.Equal(g.Selector.AutoScalingGroups, want) {
		t.Fatalf("after the second deployment the group selects %v; want %v", g.Selector.AutoScalingGroups, want)
	}
	if got := prov.Terminated(); len(got) != 8 {
		t.Errorf("terminated %v; want both generations of originals", got)
	}
}

// A deployment that fails leaves the group's Auto Scaling groups alone, and
// a provisioning failure carries the Provisioner's CodeDeploy error code.
func TestBlueGreenProvisionErrorCode(t *testing.T) {
	for _, tc := range []struct{ code, want string }{
		{"AUTO_SCALING_CONFIGURATION", "AUTO_SCALING_CONFIGURATION"},
		{"AUTOSCALING_VALIDATION_ERROR", "AUTOSCALING_VALIDATION_ERROR"},
		{"NOT_A_CODE", "INTERNAL_ERROR"},
	} {
		t.Run(tc.code, func(t *testing.T) {
			e, prov := bgEnv(t, deploy.ActionContinueDeployment, nil)
			prov.OnProvision(func(context.Context, target.ProvisionRequest) error {
				return &target.CodeError{Code: tc.code, Err: errors.New("the original group has no healthy instance")}
			})
			d := e.deploy("v1")
			if d.Status != deploy.StatusFailed || string(d.ErrorInformation.Code) != tc.want {
				t.Fatalf("deployment %s %+v; want Failed with %s", d.Status, d.ErrorInformation, tc.want)
			}
			g, err := e.store.GetGroup(e.ctx, "shop", "prod")
			if err != nil {
				t.Fatal(err)
			}
			if want := []string{"web"}; !slices.Equal(g.Selector.AutoScalingGroups, want) {
				t.Fatalf("after a failed deployment the group selects %v; want %v", g.Selector.AutoScalingGroups, want)
			}
		})
	}
}

// A target its Lister reports Unavailable (a stopped instance) starts
// unhealthy: it counts like a failed one for the minimum healthy hosts.
func TestUnavailableTargetStartsUnhealthy(t *testing.T) {
	e := newEnv(t, 4, "CodeDeployDefault.OneAtATime", nil)
	if d := e.deploy("v1"); d.Status != deploy.StatusSucceeded { // every instance healthy
		t.Fatalf("first deployment %s %+v", d.Status, d.ErrorInformation)
	}
	e.fleet.Remove("i-003")
	e.fleet.Add(target.Target{ID: "i-003", Tags: map[string]string{"env": "prod"}, Zone: "zone-a", Unavailable: true})
	d := e.create("v2")
	tgs := e.targets(d.ID)
	if len(tgs) != 4 {
		t.Fatalf("%d targets; want 4", len(tgs))
	}
	for id, tg := range tgs {
		want := health.Healthy
		if id == "i-003" {
			want = health.Unhealthy
			if !tg.Target.Unavailable {
				t.Errorf("target %s: the stored snapshot lost Unavailable", id)
			}
		}
		if tg.InitialInstanceHealth != want {
			t.Errorf("target %s: initial instance health %s; want %s", id, tg.InitialInstanceHealth, want)
		}
	}
}

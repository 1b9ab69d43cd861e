package deploy_test

import (
	"fmt"
	"testing"

	"github.com/fleetdeploy/fleetdeploy/config"
	"github.com/fleetdeploy/fleetdeploy/deploy"
	"github.com/fleetdeploy/fleetdeploy/deploy/plan"
	"github.com/fleetdeploy/fleetdeploy/health"
	"github.com/fleetdeploy/fleetdeploy/target"
	"github.com/fleetdeploy/fleetdeploy/target/targettest"
)

func hostCount(v int) config.Config {
	return config.Config{Name: fmt.Sprintf("HostCount%d", v), ComputePlatform: config.Server,
		MinimumHealthyHosts: &config.MinimumHealthyHosts{Type: config.HostCount, Value: v}}
}

func fleetPercent(v int) config.Config {
	return config.Config{Name: fmt.Sprintf("FleetPercent%d", v), ComputePlatform: config.Server,
		MinimumHealthyHosts: &config.MinimumHealthyHosts{Type: config.FleetPercent, Value: v}}
}

func withConfigs(cs ...config.Config) func(*deploy.Options) {
	return func(o *deploy.Options) { o.Configs = append(o.Configs, cs...) }
}

// The documented examples, run through the executor against a fleet
// whose targets are all Healthy and Current (a group that deployed v0
// before), with scripted hook failures. A case's name starts with where its
// expected outcome comes from: "instance health" is the User Guide's
// "CodeDeploy instance health", "MinimumHealthyHosts" the API Reference's
// MinimumHealthyHosts, "deployment configurations" the User Guide's
// "Working with deployment configurations in CodeDeploy"; "derived" cases
// follow from those rules and fleetdeploy's decisions (package
// fleetdeploy, "Where fleetdeploy decides").
func TestExecutorVectors(t *testing.T) {
	tests := []struct {
		name    string
		n       int
		cfg     config.Config // custom; zero means predefined
		cfgName string
		fail    []int // targets whose ValidateService fails, by index
		want    deploy.DeploymentStatus
		code    deploy.ErrorCode
		window  int // most targets offline at once
		touched int // targets attempted; -1: don't check
	}{
		{"instance health: N=10 FLEET_PERCENT 85, one failure", 10, fleetPercent(85), "", []int{3}, deploy.StatusFailed, plan.HealthConstraints, 1, 4},
		{"instance health: N=10 HOST_COUNT 9, all succeed", 10, hostCount(9), "", nil, deploy.StatusSucceeded, "", 1, 10},
		{"instance health: N=10 HOST_COUNT 0", 10, hostCount(0), "", []int{1, 2, 3}, deploy.StatusSucceeded, "", 10, 10},
		{"instance health: N=10 FLEET_PERCENT 95: nothing deployed", 10, fleetPercent(95), "", nil, deploy.StatusFailed, plan.HealthConstraintsInvalid, 0, 0},
		{"instance health: N=10 HOST_COUNT 9, instance 4 fails", 10, hostCount(9), "", []int{3}, deploy.StatusFailed, plan.HealthConstraints, 1, 4},
		{"instance health: N=10 HOST_COUNT 9, only the last fails", 10, hostCount(9), "", []int{9}, deploy.StatusSucceeded, "", 1, 10},
		{"instance health: N=10 HOST_COUNT 8, second failure is the last", 10, hostCount(8), "", []int{3, 9}, deploy.StatusSucceeded, "", 2, 10},
		{"instance health: N=10 HOST_COUNT 0, every target fails", 10, hostCount(0), "", []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, deploy.StatusFailed, plan.HealthConstraints, 10, 10},
		{"MinimumHealthyHosts: N=9 HOST_COUNT 6, 3 failures", 9, hostCount(6), "", []int{0, 4, 8}, deploy.StatusSucceeded, "", 3, -1},
		{"MinimumHealthyHosts: N=9 FLEET_PERCENT 40, the last 5 fail", 9, fleetPercent(40), "", []int{4, 5, 6, 7, 8}, deploy.StatusSucceeded, "", 5, 9},
		{"deployment configurations: N=9 AllAtOnce, 8 failures", 9, config.Config{}, "CodeDeployDefault.AllAtOnce", []int{0, 1, 2, 3, 4, 5, 6, 7}, deploy.StatusSucceeded, "", 9, 9},
		{"deployment configurations: N=9 HalfAtATime, all succeed", 9, config.Config{}, "CodeDeployDefault.HalfAtATime", nil, deploy.StatusSucceeded, "", 4, 9},
		{"deployment configurations: N=9 OneAtATime, the 5th fails", 9, config.Config{}, "CodeDeployDefault.OneAtATime", []int{4}, deploy.StatusFailed, plan.HealthConstraints, 1, 5},
		{"deployment configurations: N=9 OneAtATime, the 9th fails", 9, config.Config{}, "CodeDeployDefault.OneAtATime", []int{8}, deploy.StatusSucceeded, "", 1, 9},
		{"deployment configurations: N=1 OneAtATime", 1, config.Config{}, "CodeDeployDefault.OneAtATime", nil, deploy.StatusSucceeded, "", 1, 1},
		{"deployment configurations: N=1 OneAtATime, it fails", 1, config.Config{}, "CodeDeployDefault.OneAtATime", []int{0}, deploy.StatusFailed, plan.HealthConstraints, 1, 1},
		{"derived: N=9 HOST_COUNT 9: nothing deployed", 9, hostCount(9), "", nil, deploy.StatusFailed, plan.HealthConstraintsInvalid, 0, 0},
		{"derived: N=1 HalfAtATime: nothing deployed", 1, config.Config{}, "CodeDeployDefault.HalfAtATime", nil, deploy.StatusFailed, plan.HealthConstraintsInvalid, 0, 0},
		{"derived: N=4 HalfAtATime", 4, config.Config{}, "CodeDeployDefault.HalfAtATime", nil, deploy.StatusSucceeded, "", 2, 4},
		{"derived: N=3 FLEET_PERCENT 50", 3, fleetPercent(50), "", nil, deploy.StatusSucceeded, "", 1, 3},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			name := tc.cfgName
			var opts []func(*deploy.Options)
			if name == "" {
				name = tc.cfg.Name
				opts = append(opts, withConfigs(tc.cfg))
			}
			e := newEnv(t, tc.n, name, nil, opts...)
			e.seed(nil)
			failing := map[string]bool{}
			for _, i := range tc.fail {
				id := fmt.Sprintf("i-%03d", i)
				failing[id] = true
				e.fleet.Script(id, target.ValidateService, targettest.Fail(target.CodeScriptFailed, "health check failed"))
			}
			d := e.deploy("v1")
			if d.Status != tc.want || d.ErrorInformation.Code != tc.code {
				t.Fatalf("status %s %s (%s); want %s %s", d.Status, d.ErrorInformation.Code, d.ErrorInformation.Message, tc.want, tc.code)
			}
			if d.Status != deploy.StatusSucceeded && d.ErrorInformation.Message == "" {
				t.Error("a failed deployment must say why")
			}
			if got := e.fleet.MaxInFlight(d.ID); got > tc.window {
				t.Errorf("max in flight %d; the minimum healthy hosts rule allows %d", got, tc.window)
			}
			attempted := 0
			for id, tg := range e.targets(d.ID) {
				if tg.Status == target.TargetSucceeded || tg.Status == target.TargetFailed {
					attempted++
				}
				if failing[id] && tg.Status == target.TargetSucceeded {
					t.Errorf("%s succeeded; its ValidateService fails", id)
				}
			}
			if tc.touched >= 0 && attempted != tc.touched {
				t.Errorf("%d targets attempted; want %d", attempted, tc.touched)
			}
			checkHealthAfter(t, e, d, "v0", "v1")
		})
	}
}

// checkHealthAfter checks the health rules of "CodeDeploy instance health"
// after d, a deployment of revision to over a fleet seeded Healthy/Current
// with from: on success the group's revision is to and each target is
// Healthy iff it succeeded; on failure or stop the group's revision is still
// from, attempted targets are Healthy iff they succeeded and the others keep
// their health.
func checkHealthAfter(t tester, e *env, d *deploy.Deployment, from, to string) {
	t.Helper()
	wantRev := rev(from).Key()
	if d.Status == deploy.StatusSucceeded {
		wantRev = rev(to).Key()
	}
	if got := e.groupRevision(); got != wantRev {
		t.Errorf("group revision %s after a %s deployment; want %s", got, d.Status, wantRev)
	}
	hs := e.health()
	for id, tg := range e.targets(d.ID) {
		h := hs[id]
		switch tg.Status {
		case target.TargetSucceeded:
			if h.Instance != health.Healthy {
				t.Errorf("%s succeeded but is %s", id, h.Instance)
			}
			if d.Status == deploy.StatusSucceeded && h.Revision != health.Current {
				t.Errorf("%s succeeded in a successful deployment but its revision is %s", id, h.Revision)
			}
		case target.TargetFailed:
			if h.Instance != health.Unhealthy {
				t.Errorf("%s failed but is %s", id, h.Instance)
			}
		default:
			want := tg.InitialInstanceHealth
			if d.Status == deploy.StatusSucceeded {
				want = health.Unhealthy
			}
			if h.Instance != want {
				t.Errorf("%s was not attempted (%s) in a %s deployment: %s; want %s", id, tg.Status, d.Status, h.Instance, want)
			}
		}
	}
}

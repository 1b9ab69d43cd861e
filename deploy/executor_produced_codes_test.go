package deploy_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/fleetdeploy/fleetdeploy/config"
	"github.com/fleetdeploy/fleetdeploy/deploy"
	"github.com/fleetdeploy/fleetdeploy/deploy/plan"
	"github.com/fleetdeploy/fleetdeploy/revision"
	"github.com/fleetdeploy/fleetdeploy/revision/revisiontest"
	"github.com/fleetdeploy/fleetdeploy/target"
	"github.com/fleetdeploy/fleetdeploy/target/targettest"
)

// producedCode is one way the executor ends a deployment with one of
// CodeDeploy's error codes: run drives a deployment through the executor
// to its end; it must end with status and code, and its
// ErrorInformation.Message must contain every one of words (what happened,
// said in words).
type producedCode struct {
	code   plan.ErrorCode
	name   string
	status deploy.DeploymentStatus
	words  []string
	run    func(t *testing.T) *deploy.Deployment
}

// producedCodes lists a scenario for every code the package documentation
// lists as produced; TestErrorCodesDocumented holds the two lists equal,
// so that the documentation and the tests cannot drift apart.
func producedCodes() []producedCode {
	failed, stopped := deploy.StatusFailed, deploy.StatusStopped
	return []producedCode{
		{plan.HealthConstraints, "every target's script fails", failed, []string{"failed", "healthy"}, func(t *testing.T) *deploy.Deployment {
			e := newEnv(t, 3, "CodeDeployDefault.AllAtOnce", nil)
			e.fleet.Script("", target.ApplicationStart, targettest.Fail(target.CodeScriptFailed, "start.sh exited 1"))
			return e.deploy("v1")
		}},
		{plan.HealthConstraintsInvalid, "HOST_COUNT 3 of 3 healthy targets", failed, []string{"nothing was deployed", "HOST_COUNT"}, func(t *testing.T) *deploy.Deployment {
			e := newEnv(t, 3, "HostCount3", nil, withConfigs(hostCount(3)))
			e.seed(nil)
			return e.deploy("v1")
		}},
		{plan.NoInstances, "a group whose selector matches nothing", failed, []string{"nothing was deployed", "no targets"}, func(t *testing.T) *deploy.Deployment {
			return newEnv(t, 0, "CodeDeployDefault.AllAtOnce", nil).deploy("v1")
		}},
		{plan.AgentIssue, "no target's agent answers", failed, []string{"could not be reached", "agent"}, func(t *testing.T) *deploy.Deployment {
			e := newEnv(t, 2, "CodeDeployDefault.AllAtOnce", nil)
			e.fleet.SetReachable("i-000", false)
			e.fleet.SetReachable("i-001", false)
			return e.deploy("v1")
		}},
		trafficCode(plan.ELBInvalidInstance, "instance i-x is terminated", "refused by its load balancer"),
		trafficCode(plan.ElasticLoadBalancingInvalid, "target group web not found", "target group web not found"),
		trafficCode(plan.IAMRolePermissions, "access denied to target group web", "access denied"),
		trafficCode(plan.Timeout, "the target did not deregister within 300s", "did not deregister"),
		{plan.Timeout, "blue/green ready wait runs out", stopped, []string{"ready", "Continue(READY_WAIT) did not come within 1h0m0s"}, func(t *testing.T) *deploy.Deployment {
			e, _ := bgEnv(t, deploy.ActionStopDeployment, nil)
			d := e.create("v1")
			return runToEnd(t, e, d.ID, 1)
		}},
		{plan.Throttled, "a lifecycle event's calls stay throttled", failed, []string{"throttled", "Rate exceeded"}, func(t *testing.T) *deploy.Deployment {
			e := newEnv(t, 2, "CodeDeployDefault.AllAtOnce", nil)
			e.fleet.Script("", target.Install, targettest.Error(&target.CodeError{Code: "THROTTLED", Err: errors.New("Rate exceeded")}))
			return runToEnd(t, e, e.create("v1").ID, 2)
		}},
		provisionCode(plan.Throttled, "Rate exceeded for CreateAutoScalingGroup"),
		provisionCode(plan.AutoScalingConfiguration, "launch template lt-1 does not exist"),
		provisionCode(plan.AutoScalingIAMRolePermissions, "not authorized to perform autoscaling:CreateAutoScalingGroup"),
		shiftCode(plan.InvalidLambdaConfiguration, "alias checkout:live points to version 3"),
		shiftCode(plan.InvalidLambdaFunction, "function checkout does not exist"),
		shiftCode(plan.Throttled, "Rate exceeded"),
		ecsCode(plan.InvalidECSService, "provisioner", "service web uses deployment controller ECS",
			func(sh *targettest.Shifter, prov *targettest.Provisioner, err error) {
				prov.OnProvision(func(context.Context, target.ProvisionRequest) error { return err })
			}),
		{plan.InvalidECSService, "ECS service without a traffic route", failed, []string{"ECS service prod/web has no traffic route"}, func(t *testing.T) *deploy.Deployment {
			e, _, _, _ := serviceEnv(t, config.ECS, "CodeDeployDefault.ECSAllAtOnce", ecsServiceGroup(false))
			return runNow(t, e, createService(t, e, ecsLocation()).ID)
		}},
		ecsCode(plan.ECSUpdateError, "provisioner", "creating the replacement task set: task definition web:2 is INACTIVE",
			func(sh *targettest.Shifter, prov *targettest.Provisioner, err error) {
				prov.OnProvision(func(context.Context, target.ProvisionRequest) error { return err })
			}),
		ecsCode(plan.ECSUpdateError, "shifter", "ModifyListener refused: listener prod is being modified",
			func(sh *targettest.Shifter, prov *targettest.Provisioner, err error) {
				sh.OnShift(func(context.Context, target.ShiftRequest) error { return err })
			}),
		{plan.ECSUpdateError, "ECS traffic shift fails without a code", failed, []string{"connection reset"}, func(t *testing.T) *deploy.Deployment {
			e, sh, _, _ := serviceEnv(t, config.ECS, "CodeDeployDefault.ECSAllAtOnce", ecsServiceGroup(false))
			setECSRoutes(sh)
			sh.OnShift(func(context.Context, target.ShiftRequest) error { return errors.New("connection reset") })
			return runNow(t, e, createService(t, e, ecsLocation()).ID)
		}},
		{plan.HookExecutionFailure, "a Lambda hook reports Failed", failed, []string{"BeforeAllowTraffic failed", "checkout returns 500"}, func(t *testing.T) *deploy.Deployment {
			e, sh, hooks, _ := serviceEnv(t, config.Lambda, "CodeDeployDefault.LambdaAllAtOnce", nil)
			sh.SetRoute(target.TrafficRoute{ResourceID: "checkout:live"}, target.TrafficSplit{Original: "1"})
			hooks.Script("preflight", target.BeforeAllowTraffic, targettest.Fail(target.CodeScriptFailed, "preflight: checkout returns 500"))
			return runNow(t, e, createService(t, e, lambdaSpec("2")).ID)
		}},
		{plan.RevisionMissing, "the Source has no such revision", failed, []string{"revision s3://releases/gone.zip is missing"}, func(t *testing.T) *deploy.Deployment {
			return newEnv(t, 2, "CodeDeployDefault.AllAtOnce", nil, func(o *deploy.Options) { o.Source = revisiontest.NewMemSource() }).deploy("gone")
		}},
		{plan.InvalidRevision, "the revision's AppSpec is invalid", failed, []string{"revision s3://releases/bad.zip cannot be used"}, func(t *testing.T) *deploy.Deployment {
			src := revisiontest.NewMemSource()
			if _, err := src.PutFiles(rev("bad"), map[string]string{"appspec.yml": "version: 0.0\n"}); err != nil {
				t.Fatal(err)
			}
			return newEnv(t, 2, "CodeDeployDefault.AllAtOnce", nil, func(o *deploy.Options) { o.Source = src }).deploy("bad")
		}},
		{plan.AlarmActive, "an alarm is in ALARM", stopped, []string{"5xx"}, func(t *testing.T) *deploy.Deployment {
			alarms := &fakeAlarms{states: map[string]target.AlarmState{"5xx": target.AlarmAlarm}}
			e := newEnv(t, 2, "CodeDeployDefault.OneAtATime", func(g *deploy.Group) {
				g.AlarmConfiguration = deploy.AlarmConfiguration{Enabled: true, Alarms: []deploy.Alarm{{Name: "5xx"}}}
			}, func(o *deploy.Options) { o.AlarmSource = alarms })
			return runToEnd(t, e, e.create("v1").ID, 2)
		}},
		{plan.ManualStop, "Executor.Stop", stopped, []string{"stop"}, func(t *testing.T) *deploy.Deployment {
			e := newEnv(t, 2, "CodeDeployDefault.OneAtATime", nil)
			d := e.create("v1")
			if _, err := e.exec.Stop(e.ctx, d.ID, deploy.StopOptions{}); err != nil {
				t.Fatal(err)
			}
			return e.get(d.ID)
		}},
		scalingCode(plan.AgentIssue, target.InstanceLaunching, target.ApplicationStop, errors.Join(errors.New("no answer from i-new"), target.ErrTargetUnavailable),
			"agent cannot be reached"),
		scalingCode(plan.Throttled, target.InstanceLaunching, target.Install, &target.CodeError{Code: "THROTTLED", Err: errors.New("Rate exceeded")},
			"throttled on all 5 attempts over 15s"),
		scalingCode(plan.ELBInvalidInstance, target.InstanceTerminating, target.BlockTraffic, &target.CodeError{Code: "ELB_INVALID_INSTANCE", Err: errors.New("i-000 is not registered")},
			"the load balancer cannot use the target"),
		{plan.InternalError, "a role's error without a code", failed, []string{"alias checkout:live is locked"}, func(t *testing.T) *deploy.Deployment {
			e, sh, _, _ := serviceEnv(t, config.Lambda, "CodeDeployDefault.LambdaAllAtOnce", nil)
			sh.SetRoute(target.TrafficRoute{ResourceID: "checkout:live"}, target.TrafficSplit{Original: "1"})
			sh.OnShift(func(context.Context, target.ShiftRequest) error { return errors.New("alias checkout:live is locked") })
			return runNow(t, e, createService(t, e, lambdaSpec("2")).ID)
		}},
	}
}

// runToEnd runs deployment id, advancing the fake clock whenever at least
// minWaiters timers wait (see advanceWhile), and returns how it ended.
func runToEnd(t *testing.T, e *env, id string, minWaiters int) *deploy.Deployment {
	t.Helper()
	res := advanceWhile(e.ctx, e.clk, minWaiters, func() result {
		d, err := e.exec.Run(e.ctx, id)
		return result{d, err}
	})
	if res.err != nil {
		t.Fatalf("Run(%s) = %v", id, res.err)
	}
	return res.d
}

// runNow runs deployment id to its end without moving the fake clock:
// for deployments that never wait.
func runNow(t *testing.T, e *env, id string) *deploy.Deployment {
	t.Helper()
	d, err := e.exec.Run(e.ctx, id)
	if err != nil {
		t.Fatalf("Run(%s) = %v", id, err)
	}
	return d
}

// lambdaSpecWithoutHooks is lambdaSpec with no hook functions, so that no
// hook deadline is pending while the clock is moved.
func lambdaSpecWithoutHooks(target string) revision.Location {
	c := "version: 0.0\nResources:\n  - checkout:\n      Type: AWS::Lambda::Function\n      Properties:\n" +
		"        Name: checkout\n        Alias: live\n        CurrentVersion: 1\n        TargetVersion: " + target + "\n"
	return revision.Location{Type: revision.LocationAppSpecContent, AppSpecContent: &revision.AppSpecContent{Content: c}}
}

// createService creates a deployment of loc in a Lambda or ECS env.
func createService(t *testing.T, e *env, loc revision.Location) *deploy.Deployment {
	t.Helper()
	d, err := e.exec.CreateDeployment(e.ctx, deploy.DeploymentInput{ApplicationName: "shop", GroupName: "prod", Revision: loc})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// scalingCode is a launch (of i-new) or termination (of i-000)
// deployment of a group behind a load balancer, with the termination hook,
// whose role fails event ev with err; the deployment that ran is returned.
func scalingCode(code plan.ErrorCode, tr target.ScalingTransition, ev target.LifecycleEvent, err error, word string) producedCode {
	return producedCode{code, string(tr) + ": " + string(ev) + " fails with " + err.Error(), deploy.StatusFailed, []string{"failed lifecycle event " + string(ev), word},
		func(t *testing.T) *deploy.Deployment {
			// advanceWhile moves the clock whenever two timers wait — a
			// retry's backoff and the heartbeat, but also an event's time
			// limit while the call has not returned yet — so the limits are
			// off: they are not what these deployments show.
			e, sc := scalingEnv(t, 1, func(g *deploy.Group) {
				withLoadBalancer(g)
				g.TerminationHookEnabled = true
			}, deploy.NoTimeLimits)
			e.deploy("v1")
			scaled := fleetTargets(1)[0]
			if tr == target.InstanceLaunching {
				scaled = newInstance
				e.fleet.Add(newInstance)
			}
			e.fleet.Script(scaled.ID, ev, targettest.Error(err))
			scaling := sc.Terminate
			if tr == target.InstanceLaunching {
				scaling = sc.Launch
			}
			out := advanceWhile(e.ctx, e.clk, 2, func() deploy.ScalingOutcome {
				out, err := e.exec.HandleScalingEvent(e.ctx, scaling("shop", "prod", scaled))
				if err != nil {
					t.Error(err)
				}
				return out
			})
			if out.Deployment == nil {
				t.Fatalf("no deployment ran: %+v", out)
			}
			if want := map[bool]target.ScalingResult{true: target.ScalingAbandon, false: target.ScalingContinue}[tr == target.InstanceLaunching]; out.Result != want {
				t.Errorf("answered %s; want %s", out.Result, want)
			}
			return e.get(out.Deployment.ID)
		}}
}

// trafficCode is a Server in-place deployment behind a load balancer whose
// TrafficController fails BlockTraffic on every target with a
// *target.CodeError carrying code and msg, as elbtarget's errors do.
func trafficCode(code plan.ErrorCode, msg, word string) producedCode {
	return producedCode{code, "TrafficController: " + msg, deploy.StatusFailed, []string{"every one of the 2 failed targets", word},
		func(t *testing.T) *deploy.Deployment {
			e := newEnv(t, 2, "CodeDeployDefault.AllAtOnce", withLoadBalancer)
			e.fleet.Script("", target.BlockTraffic, targettest.Error(&target.CodeError{Code: string(code), Err: errors.New(msg)}))
			return e.deploy("v1")
		}}
}

// provisionCode is a Server blue/green deployment (copying Auto Scaling
// group web) whose Provisioner fails with a *target.CodeError carrying code
// and msg, as ec2target's errors do.
func provisionCode(code plan.ErrorCode, msg string) producedCode {
	return producedCode{code, "Provisioner: " + msg, deploy.StatusFailed, []string{"the replacement fleet could not be provisioned", msg},
		func(t *testing.T) *deploy.Deployment {
			e, prov := bgEnv(t, deploy.ActionContinueDeployment, nil)
			prov.OnProvision(func(context.Context, target.ProvisionRequest) error {
				return &target.CodeError{Code: string(code), Err: errors.New(msg)}
			})
			return runToEnd(t, e, e.create("v1").ID, 1)
		}}
}

// shiftCode is a Lambda deployment whose TrafficShifter fails with a
// *target.CodeError carrying code and msg, as lambdatarget's errors do.
func shiftCode(code plan.ErrorCode, msg string) producedCode {
	return producedCode{code, "Lambda TrafficShifter: " + msg, deploy.StatusFailed, []string{msg},
		func(t *testing.T) *deploy.Deployment {
			e, sh, _, _ := serviceEnv(t, config.Lambda, "CodeDeployDefault.LambdaAllAtOnce", nil)
			sh.SetRoute(target.TrafficRoute{ResourceID: "checkout:live"}, target.TrafficSplit{Original: "1"})
			sh.OnShift(func(context.Context, target.ShiftRequest) error {
				return &target.CodeError{Code: string(code), Err: errors.New(msg)}
			})
			return runToEnd(t, e, createService(t, e, lambdaSpecWithoutHooks("2")).ID, 2)
		}}
}

// ecsCode is an ECS deployment whose role (arranged by arrange) fails with
// a *target.CodeError carrying code and msg, as ecstarget's errors do.
func ecsCode(code plan.ErrorCode, role, msg string, arrange func(*targettest.Shifter, *targettest.Provisioner, error)) producedCode {
	return producedCode{code, "ECS " + role + ": " + msg, deploy.StatusFailed, []string{msg},
		func(t *testing.T) *deploy.Deployment {
			e, sh, _, prov := serviceEnv(t, config.ECS, "CodeDeployDefault.ECSAllAtOnce", ecsServiceGroup(false))
			setECSRoutes(sh)
			arrange(sh, prov, &target.CodeError{Code: string(code), Err: errors.New(msg)})
			return runNow(t, e, createService(t, e, ecsLocation()).ID)
		}}
}

// Every code the package documentation lists as produced is produced
// through the executor: the deployment ends with it in
// ErrorInformation.Code and says what happened in
// ErrorInformation.Message.
func TestProducedErrorCodes(t *testing.T) {
	for _, pc := range producedCodes() {
		t.Run(string(pc.code)+"/"+pc.name, func(t *testing.T) {
			d := pc.run(t)
			info := d.ErrorInformation
			t.Logf("%s %s: %s", d.Status, info.Code, info.Message)
			if d.Status != pc.status || info.Code != pc.code {
				t.Fatalf("deployment ended %s %s (%s); want %s %s", d.Status, info.Code, info.Message, pc.status, pc.code)
			}
			for _, w := range pc.words {
				if !strings.Contains(info.Message, w) {
					t.Errorf("message %q does not say %q", info.Message, w)
				}
			}
		})
	}
}

// A replacement fleet whose provisioning the platform throttles is
// retried 1, 2, 4 and 8 s apart on the executor's clock, then fails the
// deployment with THROTTLED; one that gets through on a retry goes on.
func TestProvisionThrottled(t *testing.T) {
	throttled := &target.CodeError{Code: "THROTTLED", Err: errors.New("Rate exceeded")}
	for _, tc := range []struct {
		name     string
		failures int
		want     []time.Duration // the calls' times after the first
	}{
		{"always", 100, []time.Duration{time.Second, 3 * time.Second, 7 * time.Second, 15 * time.Second}},
		{"twice", 2, []time.Duration{time.Second, 3 * time.Second}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e, prov := bgEnv(t, deploy.ActionContinueDeployment, nil)
			var at []time.Time
			prov.OnProvision(func(context.Context, target.ProvisionRequest) error {
				at = append(at, e.clk.Now())
				if len(at) <= tc.failures {
					return throttled
				}
				return nil
			})
			d := runToEnd(t, e, e.create("v1").ID, 1)
			var got []time.Duration
			for _, a := range at[1:] {
				got = append(got, a.Sub(at[0]))
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("provisioning retried at %v after the first call; want %v", got, tc.want)
			}
			if tc.failures < 100 {
				if d.Status != deploy.StatusSucceeded || len(prov.Provisioned()) != 4 {
					t.Errorf("deployment ended %s %+v with %d provisioned; want Succeeded with 4", d.Status, d.ErrorInformation, len(prov.Provisioned()))
				}
				return
			}
			if d.Status != deploy.StatusFailed || d.ErrorInformation.Code != plan.Throttled ||
				!strings.Contains(d.ErrorInformation.Message, "throttled on all 5 attempts over 15s") {
				t.Errorf("deployment ended %s %+v; want Failed THROTTLED after 5 attempts", d.Status, d.ErrorInformation)
			}
		})
	}
}

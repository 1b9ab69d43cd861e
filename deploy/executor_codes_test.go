package deploy_test

import (
	"context"
	"os"
	"sync/atomic"

	"errors"
	"github.com/fleetdeploy/fleetdeploy/config"
	"strings"
	"testing"
	"time"

	"github.com/fleetdeploy/fleetdeploy/deploy"
	"github.com/fleetdeploy/fleetdeploy/deploy/plan"
	"github.com/fleetdeploy/fleetdeploy/target"
	"github.com/fleetdeploy/fleetdeploy/target/targettest"
)

// failedEvent returns the failed lifecycle event of target id of
// deployment dID.
func (e *env) failedEvent(dID, id string) deploy.LifecycleEventRecord {
	e.t.Helper()
	for _, ev := range e.targets(dID)[id].LifecycleEvents {
		if ev.Status == target.EventFailed {
			if ev.Diagnostics == nil {
				e.t.Fatalf("%s: failed event %s has no diagnostics", id, ev.Name)
			}
			return ev
		}
	}
	e.t.Fatalf("%s: no failed event", id)
	return deploy.LifecycleEventRecord{}
}

// calls returns the calls made to target id for event ev.
func (e *env) calls(id string, ev target.LifecycleEvent) int {
	n := 0
	for _, c := range e.fleet.Calls() {
		if c.Target == id && c.Event == ev {
			n++
		}
	}
	return n
}

// An Installer that cannot reach its target (an error wrapping
// target.ErrTargetUnavailable, not a failed script) fails that target at
// once — one call, no time passes on the clock — with AGENT_ISSUE recorded
// on its event, and a deployment whose failed targets all failed so fails
// with AGENT_ISSUE and says so in words. A script failure among them keeps
// HEALTH_CONSTRAINTS: the two are told apart.
func TestAgentIssue(t *testing.T) {
	t.Run("every failed target unreachable", func(t *testing.T) {
		e := newEnv(t, 3, "CodeDeployDefault.AllAtOnce", nil)
		for _, id := range []string{"i-000", "i-001", "i-002"} {
			e.fleet.SetReachable(id, false)
		}
		start := e.clk.Now()
		d := e.deploy("v1")
		if d.Status != deploy.StatusFailed || d.ErrorInformation.Code != plan.AgentIssue {
			t.Fatalf("%s %s: %s", d.Status, d.ErrorInformation.Code, d.ErrorInformation.Message)
		}
		if msg := d.ErrorInformation.Message; !strings.Contains(msg, "every one of the 3 failed targets could not be reached") {
			t.Errorf("message %q does not say the agents could not be reached", msg)
		}
		if got := e.clk.Now(); !got.Equal(start) {
			t.Errorf("the clock moved %s: an unreachable agent must fail its target at once", got.Sub(start))
		}
		for _, id := range []string{"i-000", "i-001", "i-002"} {
			ev := e.failedEvent(d.ID, id)
			dg := ev.Diagnostics
			if ev.Name != target.ApplicationStop || dg.ErrorCode != target.CodeUnknownError || dg.DeploymentErrorCode != plan.AgentIssue ||
				!strings.Contains(dg.Message, "agent cannot be reached") || !strings.Contains(dg.Message, "not a script failure") {
				t.Errorf("%s: %s %+v", id, ev.Name, *dg)
			}
			if n := e.calls(id, target.ApplicationStop); n != 1 {
				t.Errorf("%s: %d ApplicationStop calls; an unreachable agent is not retried", id, n)
			}
		}
	})
	t.Run("one unreachable, one script failure", func(t *testing.T) {
		e := newEnv(t, 2, "CodeDeployDefault.AllAtOnce", nil)
		e.fleet.SetReachable("i-000", false)
		e.fleet.Script("i-001", target.ApplicationStart, targettest.Fail(target.CodeScriptFailed, "start.sh exited 1"))
		d := e.deploy("v1")
		if d.Status != deploy.StatusFailed || d.ErrorInformation.Code != plan.HealthConstraints {
			t.Fatalf("%s %s: %s", d.Status, d.ErrorInformation.Code, d.ErrorInformation.Message)
		}
		if dg := e.failedEvent(d.ID, "i-000").Diagnostics; dg.DeploymentErrorCode != plan.AgentIssue {
			t.Errorf("i-000: %+v; want AGENT_ISSUE", *dg)
		}
		if dg := e.failedEvent(d.ID, "i-001").Diagnostics; dg.DeploymentErrorCode != "" || dg.ErrorCode != target.CodeScriptFailed {
			t.Errorf("i-001, a failed script: %+v", *dg)
		}
	})
}

// withLoadBalancer puts the group behind target group "web" with traffic
// control: BlockTraffic and AllowTraffic run through the TrafficController.
func withLoadBalancer(g *deploy.Group) {
	g.DeploymentStyle = deploy.DeploymentStyle{DeploymentOption: deploy.WithTrafficControl}
	g.LoadBalancerInfo = target.LoadBalancerInfo{TargetGroupInfoList: []target.NameInfo{{Name: "web"}}}
}

// A TrafficController's failure that carries a CodeDeploy code (a
// *target.CodeError, as elbtarget's errors are to errors.As) fails the
// deployment with that code when every failed target failed so; one that
// wraps only target.ErrTargetUnavailable is ELB_INVALID_INSTANCE.
func TestLoadBalancerCodes(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
		want plan.ErrorCode
	}{
		{"ELB_INVALID_INSTANCE", &target.CodeError{Code: "ELB_INVALID_INSTANCE", Err: errors.New("instance i-x is terminated")}, plan.ELBInvalidInstance},
		{"ELASTIC_LOAD_BALANCING_INVALID", &target.CodeError{Code: "ELASTIC_LOAD_BALANCING_INVALID", Err: errors.New("target group web not found")}, plan.ElasticLoadBalancingInvalid},
		{"IAM_ROLE_PERMISSIONS", &target.CodeError{Code: "IAM_ROLE_PERMISSIONS", Err: errors.New("access denied")}, plan.IAMRolePermissions},
		{"unavailable", errors.Join(errors.New("not registered anywhere"), target.ErrTargetUnavailable), plan.ELBInvalidInstance},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, 2, "CodeDeployDefault.AllAtOnce", withLoadBalancer)
			e.fleet.Script("", target.BlockTraffic, targettest.Error(tc.err))
			d := e.deploy("v1")
			if d.Status != deploy.StatusFailed || d.ErrorInformation.Code != tc.want {
				t.Fatalf("%s %s: %s", d.Status, d.ErrorInformation.Code, d.ErrorInformation.Message)
			}
			if !strings.Contains(d.ErrorInformation.Message, "every one of the 2 failed targets") {
				t.Errorf("message %q", d.ErrorInformation.Message)
			}
			ev := e.failedEvent(d.ID, "i-000")
			if ev.Name != target.BlockTraffic || ev.Diagnostics.DeploymentErrorCode != tc.want || !strings.Contains(ev.Diagnostics.Message, tc.err.Error()) {
				t.Errorf("i-000: %s %+v", ev.Name, *ev.Diagnostics)
			}
		})
	}
}

// A call the platform throttles (a *target.CodeError with code THROTTLED)
// is retried with backoff on the executor's clock — 1, 2, 4, 8 s — and
// fails the target with THROTTLED once the retries are spent; a call that
// gets through on a retry is a success.
func TestThrottled(t *testing.T) {
	throttled := &target.CodeError{Code: "THROTTLED", Err: errors.New("Rate exceeded")}
	t.Run("always throttled", func(t *testing.T) {
		e := newEnv(t, 2, "CodeDeployDefault.AllAtOnce", withLoadBalancer)
		e.fleet.Script("", target.AllowTraffic, targettest.Error(throttled))
		start := e.clk.Now()
		d := advanceWhile(e.ctx, e.clk, 2, func() *deploy.Deployment { return e.deploy("v1") })
		if d.Status != deploy.StatusFailed || d.ErrorInformation.Code != plan.Throttled {
			t.Fatalf("%s %s: %s", d.Status, d.ErrorInformation.Code, d.ErrorInformation.Message)
		}
		for _, id := range []string{"i-000", "i-001"} {
			if n := e.calls(id, target.AllowTraffic); n != 5 {
				t.Errorf("%s: %d AllowTraffic calls; want 5 (4 retries)", id, n)
			}
			dg := e.failedEvent(d.ID, id).Diagnostics
			if dg.DeploymentErrorCode != plan.Throttled || !strings.Contains(dg.Message, "throttled on all 5 attempts over 15s") {
				t.Errorf("%s: %+v", id, *dg)
			}
		}
		if got := e.clk.Now().Sub(start); got < 15*time.Second {
			t.Errorf("the retries waited %s on the clock; want 15s of backoff", got)
		}
	})
	t.Run("throttled twice", func(t *testing.T) {
		e := newEnv(t, 2, "CodeDeployDefault.AllAtOnce", nil)
		e.fleet.Script("i-001", target.Install, targettest.Error(throttled).Limit(2))
		d := advanceWhile(e.ctx, e.clk, 2, func() *deploy.Deployment { return e.deploy("v1") })
		if d.Status != deploy.StatusSucceeded {
			t.Fatalf("%s %s: %s", d.Status, d.ErrorInformation.Code, d.ErrorInformation.Message)
		}
		if n := e.calls("i-001", target.Install); n != 3 {
			t.Errorf("i-001: %d Install calls; want 3", n)
		}
	})
}

// An Installer that answers with a status other than Succeeded, Failed or
// Skipped has not said that the event ran: the event fails, and its
// diagnostics say what the Installer answered.
func TestInstallerStatusNotFinal(t *testing.T) {
	e := newEnv(t, 2, "CodeDeployDefault.AllAtOnce", nil)
	e.fleet.Script("i-001", target.Install, targettest.Outcome{Result: target.EventResult{Status: target.EventInProgress}})
	d := e.deploy("v1")
	if got := e.targets(d.ID)["i-001"].Status; got != target.TargetFailed {
		t.Fatalf("i-001: %s; want Failed", got)
	}
	ev := e.failedEvent(d.ID, "i-001")
	if ev.Name != target.Install || ev.Diagnostics == nil || ev.Diagnostics.ErrorCode != target.CodeUnknownError ||
		!strings.Contains(ev.Diagnostics.Message, `the Installer returned status "InProgress"; want Succeeded, Failed or Skipped`) {
		t.Errorf("i-001's failed event: %+v; want Install failed with UnknownError, naming the status the Installer returned", ev)
	}
	if got := e.targets(d.ID)["i-000"].Status; got != target.TargetSucceeded {
		t.Errorf("i-000: %s; want Succeeded", got)
	}
}

// A traffic shift the platform throttles is retried like a Server event's
// call, and fails the deployment with THROTTLED once the retries are spent.
func TestShiftThrottled(t *testing.T) {
	e, shifter, _, _ := serviceEnv(t, config.Lambda, "CodeDeployDefault.LambdaAllAtOnce", nil)
	shifter.SetRoute(target.TrafficRoute{ResourceID: "checkout:live"}, target.TrafficSplit{Original: "1"})
	var shifts atomic.Int32
	shifter.OnShift(func(context.Context, target.ShiftRequest) error {
		shifts.Add(1)
		return &target.CodeError{Code: "THROTTLED", Err: errors.New("Rate exceeded")}
	})
	d, err := e.exec.CreateDeployment(e.ctx, deploy.DeploymentInput{ApplicationName: "shop", GroupName: "prod", Revision: lambdaSpecWithoutHooks("2")})
	if err != nil {
		t.Fatal(err)
	}
	got := advanceWhile(e.ctx, e.clk, 2, func() result {
		d, err := e.exec.Run(e.ctx, d.ID)
		return result{d, err}
	})
	if got.err != nil || got.d.Status != deploy.StatusFailed || got.d.ErrorInformation.Code != plan.Throttled ||
		!strings.Contains(got.d.ErrorInformation.Message, "Rate exceeded") {
		t.Fatalf("Run = %v, %+v", got.err, got.d)
	}
	if n := shifts.Load(); n != 5 {
		t.Errorf("%d shift calls; want 5 (4 retries)", n)
	}
}

// The package documentation's "Error codes" section names every one of
// CodeDeploy's error codes, each once: as produced (with how) or as never
// produced (with why); the codes it lists as produced are exactly those
// TestProducedErrorCodes produces through the executor.
func TestErrorCodesDocumented(t *testing.T) {
	src, err := os.ReadFile("doc.go")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(src)
	start := strings.Index(doc, "// # Error codes\n")
	if start < 0 {
		t.Fatal(`doc.go has no "# Error codes" section`)
	}
	sec := doc[start+1:]
	sec = sec[:strings.Index(sec, "\n// # ")]
	never := strings.Index(sec, "It never produces")
	if never < 0 {
		t.Fatal("the section does not list the codes never produced")
	}
	words := func(s string) map[string]int {
		n := map[string]int{}
		for _, w := range strings.FieldsFunc(s, func(r rune) bool { return !(r == '_' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') }) {
			n[w]++
		}
		return n
	}
	produced, notProduced := words(sec[:never]), words(sec[never:])
	tested := map[plan.ErrorCode]bool{}
	for _, pc := range producedCodes() {
		tested[pc.code] = true
	}
	for _, c := range plan.ErrorCode("").Values() {
		p, n := produced[string(c)], notProduced[string(c)]
		if p+n == 0 {
			t.Errorf("%s is not documented as produced or never produced", c)
		}
		if p > 0 && n > 0 {
			t.Errorf("%s is documented both as produced and as never produced", c)
		}
		if p > 0 && !tested[c] {
			t.Errorf("%s is documented as produced, but no scenario of producedCodes (TestProducedErrorCodes) produces it", c)
		}
		if p == 0 && tested[c] {
			t.Errorf("%s is produced by a scenario of producedCodes but not documented as produced", c)
		}
	}
}

package targettest_test

import (
	"context"
	"errors"
	"testing"

	"github.com/fleetdeploy/fleetdeploy/revision"
	"github.com/fleetdeploy/fleetdeploy/target"
	"github.com/fleetdeploy/fleetdeploy/target/targettest"
)

func s3rev(key string) revision.Location {
	return revision.Location{Type: revision.LocationS3, S3: &revision.S3Location{Bucket: "b", Key: key, BundleType: revision.BundleZip}}
}

// deployment returns dep for deployment id of revision key.
func deployment(id, key string) target.DeploymentInfo {
	d := dep
	d.DeploymentID, d.Revision = id, s3rev(key)
	return d
}

// A failure scoped to a revision fails that revision's calls only: the
// rollback to the previous revision succeeds on the same target.
func TestScriptScopedToRevision(t *testing.T) {
	ctx := context.Background()
	f := threeTargets()
	f.Script("i-1", target.Install, targettest.Fail(target.CodeScriptFailed, "bad build").OnRevision(s3rev("v2.zip")))
	v2 := target.EventRequest{Target: target.Target{ID: "i-1"}, Event: target.Install, Deployment: deployment("d-2", "v2.zip")}
	back := target.EventRequest{Target: target.Target{ID: "i-1"}, Event: target.Install, Deployment: deployment("d-3", "v1.zip")}
	if res, err := f.RunEvent(ctx, v2); err != nil || res.Status != target.EventFailed || res.ErrorCode != target.CodeScriptFailed {
		t.Errorf("Install of v2 = %+v, %v; want the scripted failure", res, err)
	}
	if res, err := f.RunEvent(ctx, back); err != nil || res.Status != target.EventSucceeded {
		t.Errorf("Install of v1 (the rollback) = %+v, %v; want success: the failure is scoped to v2", res, err)
	}
	if got, ok := f.Installed("i-1"); !ok || got.Key() != s3rev("v1.zip").Key() {
		t.Errorf("Installed = %v, %v; want v1", got, ok)
	}
	calls := f.Calls()
	if len(calls) != 2 || calls[0].Revision.Key() != s3rev("v2.zip").Key() || calls[1].Revision.Key() != s3rev("v1.zip").Key() ||
		calls[0].DeploymentID != "d-2" || calls[1].DeploymentID != "d-3" {
		t.Errorf("recorded calls %+v; want each with its deployment's ID and revision", calls)
	}
}

// A scoped rule that does not apply is passed over for a less specific one
// that does; Times counts only the calls the rule applies to.
func TestScriptScopedToDeployment(t *testing.T) {
	ctx := context.Background()
	f := threeTargets()
	f.Script("", "", targettest.Fail(target.CodeScriptFailed, "everything fails"))
	f.Script("i-1", "", targettest.Succeed().InDeployment("d-9").Once())
	r := func(id string) target.EventResult {
		res, err := f.RunEvent(ctx, target.EventRequest{Target: target.Target{ID: "i-1"}, Event: target.Install, Deployment: deployment(id, "v1.zip")})
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	if got := r("d-1"); got.Status != target.EventFailed {
		t.Errorf("d-1: %+v; the rule scoped to d-9 must not apply, the fleet-wide failure must", got)
	}
	if got := r("d-9"); got.Status != target.EventSucceeded {
		t.Errorf("d-9: %+v; want the rule scoped to it", got)
	}
	if got := r("d-9"); got.Status != target.EventFailed {
		t.Errorf("d-9 again: %+v; the Once rule is used up", got)
	}
}

// A call hook decides an outcome: a failed event result (not an error),
// or an error; otherwise the script decides.
func TestOnCallOutcome(t *testing.T) {
	ctx := context.Background()
	f := threeTargets()
	broken := errors.New("agent gone")
	f.OnCallOutcome(func(_ context.Context, c targettest.Call) (targettest.Outcome, bool) {
		switch c.Target {
		case "i-1":
			return targettest.Fail(target.CodeScriptTimedOut, "hook says so"), true
		case "i-2":
			return targettest.Error(broken), true
		}
		return targettest.Outcome{}, false
	})
	f.Script("i-3", "", targettest.Fail(target.CodeScriptFailed, "scripted"))
	res, err := f.RunEvent(ctx, req("i-1", target.Install))
	if err != nil || res.Status != target.EventFailed || res.ErrorCode != target.CodeScriptTimedOut || res.Message != "hook says so" {
		t.Errorf("i-1 = %+v, %v; want the hook's failed result", res, err)
	}
	if _, ok := f.Installed("i-1"); ok {
		t.Error("a failed Install recorded an installed revision")
	}
	if _, err := f.RunEvent(ctx, req("i-2", target.Install)); !errors.Is(err, broken) {
		t.Errorf("i-2 error = %v; want the hook's", err)
	}
	if res, err := f.RunEvent(ctx, req("i-3", target.Install)); err != nil || res.ErrorCode != target.CodeScriptFailed {
		t.Errorf("i-3 = %+v, %v; the hook left it to the script", res, err)
	}
	f.SetReachable("i-1", false)
	if _, err := f.RunEvent(ctx, req("i-1", target.Install)); !errors.Is(err, target.ErrTargetUnavailable) {
		t.Errorf("unreachable i-1 = %v; want ErrTargetUnavailable whatever the hook decides", err)
	}
	f.OnCall(nil)
	f.SetReachable("i-1", true)
	if res, err := f.RunEvent(ctx, req("i-1", target.Install)); err != nil || res.Status != target.EventSucceeded {
		t.Errorf("after OnCall(nil): %+v, %v; the hook must be gone", res, err)
	}
}

// Hooks scripts honour a revision scope too.
func TestHooksScriptScoped(t *testing.T) {
	h := targettest.NewHooks()
	h.Script("", "", targettest.Fail(target.CodeScriptFailed, "v2 hook fails").OnRevision(s3rev("v2.zip")))
	for _, tc := range []struct {
		key  string
		want target.LifecycleEventStatus
	}{{"v2.zip", target.EventFailed}, {"v1.zip", target.EventSucceeded}} {
		res, err := h.InvokeHook(context.Background(), target.HookRequest{Deployment: deployment("d-1", tc.key),
			Event: target.BeforeAllowTraffic, FunctionName: "check", ExecutionID: "x-1"})
		if err != nil || res.Status != tc.want {
			t.Errorf("%s: %+v, %v; want %s", tc.key, res, err, tc.want)
		}
	}
}

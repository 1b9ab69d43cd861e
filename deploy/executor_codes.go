package deploy

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/fleetdeploy/fleetdeploy/deploy/clock"
	"github.com/fleetdeploy/fleetdeploy/deploy/plan"
	"github.com/fleetdeploy/fleetdeploy/target"
)

// The retries of a role's call that the platform throttled (a
// *target.CodeError with code THROTTLED): up to throttleRetries more
// attempts, the first throttleBackoff after the failure and each later one
// twice as long after the one before (1 s, 2 s, 4 s, 8 s: 15 s in all), on
// the executor's clock. A call still throttled then fails with THROTTLED.
const (
	throttleRetries = 4
	throttleBackoff = time.Second
)

// retryThrottled calls f, and again while it fails with a throttling
// error, at most throttleRetries more times with backoff on c. It returns
// f's last result; an error still throttled after every retry says so and
// keeps the role's *target.CodeError reachable. A ctx that ends during a
// wait ends the retries with f's last error.
func retryThrottled[T any](ctx context.Context, c clock.Clock, f func() (T, error)) (T, error) {
	v, err := f()
	return retryThrottledAfter(ctx, c, v, err, f)
}

// retryThrottledAfter is retryThrottled once f's first call has returned
// v and err.
func retryThrottledAfter[T any](ctx context.Context, c clock.Clock, v T, err error, f func() (T, error)) (T, error) {
	wait, waited := throttleBackoff, time.Duration(0)
	for attempt := 0; ; attempt++ {
		if err == nil || roleErrorCode(err) != plan.Throttled {
			return v, err
		}
		if attempt == throttleRetries {
			return v, fmt.Errorf("throttled on all %d attempts over %s: %w", attempt+1, waited, err)
		}
		if clock.Sleep(ctx, c, wait) != nil {
			return v, err
		}
		waited += wait
		wait *= 2
		v, err = f()
	}
}

// eventFailure turns the error of a Server lifecycle event that could not
// run, performed by role, into a failed result and the CodeDeploy error code
// of the deployment its failure stands for (recorded as
// Diagnostics.DeploymentErrorCode; see runner.withCommonCause): the
// role's own code (a *target.CodeError such as elbtarget's
// ELB_INVALID_INSTANCE, or THROTTLED after the retries); else, for an
// error wrapping target.ErrTargetUnavailable, AGENT_ISSUE from the
// Installer — the agent cannot be reached, so the target fails at once
// instead of waiting out its scripts' timeouts — and ELB_INVALID_INSTANCE
// from the TrafficController — the load balancer cannot use the target;
// else none. The result's message says which it is.
func eventFailure(role target.Role, err, cause error) (target.EventResult, ErrorCode) {
	res := errorResult(err, cause)
	code := roleErrorCode(err)
	unavailable := errors.Is(err, target.ErrTargetUnavailable)
	switch {
	case code != "":
	case unavailable && role == target.RoleInstaller:
		code = plan.AgentIssue
	case unavailable && role == target.RoleTrafficController:
		code = plan.ELBInvalidInstance
	default:
		return res, ""
	}
	res.Message = fmt.Sprintf("%s (%s): %s", codeMeaning(code, role), code, res.Message)
	return res, code
}

// codeMeaning says in words what a target's failure with deployment error
// code code means.
func codeMeaning(code ErrorCode, role target.Role) string {
	switch code {
	case plan.AgentIssue:
		return "the target's agent cannot be reached, so the event was not run (not a script failure)"
	case plan.ELBInvalidInstance:
		return "the load balancer cannot use the target (stopped, terminated, or not where the load balancer is)"
	case plan.Throttled:
		return fmt.Sprintf("the platform throttled the %s's calls beyond the executor's retries", role)
	case plan.Timeout:
		return fmt.Sprintf("the %s's wait passed its bound", role)
	}
	return fmt.Sprintf("the %s failed with CodeDeploy error code %s", role, code)
}

// commonCode is what runner.withCommonCause learns of the deployment codes
// of the failed targets: the one every failed target carries, if any.
type commonCode struct {
	code  ErrorCode
	same  bool // every failed target so far carried code
	first bool // no failed target seen yet
}

// add takes in the deployment code of one more failed target, "" if none.
func (c *commonCode) add(code ErrorCode) {
	switch {
	case c.first:
		c.code, c.same, c.first = code, code != "", false
	case code != c.code:
		c.same = false
	}
}

// explain returns the words the deployment's explanation starts with
// when every one of the n failed targets carried the code.
func (c *commonCode) explain(n int) string {
	var what string
	switch c.code {
	case plan.AgentIssue:
		what = "could not be reached: the agent did not answer, so its lifecycle events were not run"
	case plan.ELBInvalidInstance:
		what = "was refused by its load balancer"
	case plan.Throttled:
		what = "failed because the platform throttled its calls beyond the executor's retries"
	default:
		what = "failed with the platform's error code " + string(c.code)
	}
	if n == 1 {
		return fmt.Sprintf("the one failed target %s (%s)", what, c.code)
	}
	return fmt.Sprintf("every one of the %d failed targets %s (%s)", n, what, c.code)
}

// targetCode returns the deployment error code the failed lifecycle event
// of t carries (Diagnostics.DeploymentErrorCode), "" if none.
func targetCode(t *DeploymentTarget) ErrorCode {
	for _, ev := range t.LifecycleEvents {
		if ev.Status == target.EventFailed && ev.Diagnostics != nil {
			return ev.Diagnostics.DeploymentErrorCode
		}
	}
	return ""
}

package ecstarget

import (
	"errors"
	"strings"
	"testing"

	"github.com/aws/smithy-go"

	"github.com/fleetdeploy/fleetdeploy/target"
)

// A throttled call carries THROTTLED, so that the executor retries it; any
// other failure keeps its code (ECS_UPDATE_ERROR for a refused change, none
// for a failed read), and the service's answer stays reachable.
func TestThrottledCallsCarryTHROTTLED(t *testing.T) {
	throttled := &smithy.GenericAPIError{Code: "ThrottlingException", Message: "Rate exceeded"}
	refused := &smithy.GenericAPIError{Code: "InvalidParameterException", Message: "no"}
	code := func(err error) string {
		var ce *target.CodeError
		if errors.As(err, &ce) {
			return ce.Code
		}
		return ""
	}
	for _, c := range []struct {
		name string
		err  error
		want string
	}{
		{"a throttled change", updateError(throttled, "creating task set of %s", "svc"), CodeThrottled},
		{"a refused change", updateError(refused, "creating task set of %s", "svc"), CodeECSUpdateError},
		{"a change refused without a cause", updateError(nil, "task set of %s not steady", "svc"), CodeECSUpdateError},
		{"a throttled read", callError(throttled, "describing ECS service %s", "svc"), CodeThrottled},
		{"a failed read", callError(refused, "describing ECS service %s", "svc"), ""},
	} {
		if got := code(c.err); got != c.want {
			t.Errorf("%s: code %q; want %q (%v)", c.name, got, c.want, c.err)
		}
		if !strings.Contains(c.err.Error(), "svc") {
			t.Errorf("%s: %q does not name the service", c.name, c.err)
		}
	}
	var ae smithy.APIError
	if err := callError(throttled, "describing ECS service %s", "svc"); !errors.As(err, &ae) || ae.ErrorCode() != "ThrottlingException" {
		t.Errorf("the service's answer is not reachable through %v", err)
	}
}

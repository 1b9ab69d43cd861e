package elbtarget

import (
	"errors"
	"fmt"
	"testing"

	"github.com/hashicorp/go-multierror"

	"github.com/fleetdeploy/fleetdeploy/deploy/plan"
	"github.com/fleetdeploy/fleetdeploy/target"
)

// An *Error is found by errors.As as a *target.CodeError carrying its
// code, through the Controller's error list and any wrapping, so the
// executor gives the deployment the load balancer's code; one without a
// code (ctx cancelled) is not.
func TestErrorAsCodeError(t *testing.T) {
	refused := fail("AllowTraffic", "i-1", KindTargetGroup, "web", errRefused)
	list := multierror.Append(nil, refused, fail("AllowTraffic", "i-1", KindClassic, "old", ErrTimeout))
	var ce *target.CodeError
	if !errors.As(fmt.Errorf("wrapped: %w", list.ErrorOrNil()), &ce) {
		t.Fatal("errors.As found no *target.CodeError")
	}
	if ce.Code != string(plan.ELBInvalidInstance) || !errors.Is(ce, target.ErrTargetUnavailable) || ce.Error() != refused.Error() {
		t.Errorf("code %q, message %q; want ELB_INVALID_INSTANCE wrapping the *Error", ce.Code, ce.Error())
	}
	ce = nil
	cancelled := &Error{Op: "BlockTraffic", InstanceID: "i-1", Kind: KindClassic, Name: "old", Err: errCanceled}
	if errors.As(cancelled, &ce) {
		t.Errorf("an *Error without a code is a *target.CodeError %+v", ce)
	}
}

var errCanceled = errors.New("context canceled")

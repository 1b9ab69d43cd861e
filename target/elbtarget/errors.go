package elbtarget

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/smithy-go"
	"github.com/fleetdeploy/fleetdeploy/deploy/plan"
	"github.com/fleetdeploy/fleetdeploy/target"
)

// Sentinel errors. Every *Error also wraps a sentinel of package target
// where one fits: target.ErrNotFound for a target group or load balancer
// that does not exist, target.ErrTargetUnavailable for an instance the
// load balancer refuses (stopped, terminated, in another VPC), and
// target.ErrInvalidRequest for a request without a target ID.
var (
	// ErrInvalidOptions: an Options field is out of range, or New got
	// no client at all.
	ErrInvalidOptions = errors.New("elbtarget: invalid options")

	// ErrTimeout: the wait for draining to end (BlockTraffic) or for the
	// target to be healthy (AllowTraffic) passed its bound. The *Error
	// that wraps it has Code TIMEOUT.
	ErrTimeout = errors.New("elbtarget: timed out")

	// ErrNoClient: the request names a target group but the Controller
	// has no ELBv2 client, or a Classic Load Balancer but no Classic
	// client.
	ErrNoClient = errors.New("elbtarget: no client for this kind of load balancer")

	// ErrTargetType: a target group's target type is not "instance";
	// CodeDeploy's EC2/On-Premises deployments register instances.
	ErrTargetType = errors.New("elbtarget: target group does not take instance targets")
)

// errMissing: a lookup by name answered without the name.
var errMissing = errors.New("not found")

// errRefused: the load balancer reports the instance in a state it cannot
// serve from (stopped, terminated).
var errRefused = errors.New("the load balancer cannot use the instance")

// Kind says which kind of load balancer an *Error is about.
type Kind string

// The kinds.
const (
	// KindTargetGroup is an Application or Network Load Balancer target
	// group (the group's targetGroupInfoList).
	KindTargetGroup Kind = "target group"
	// KindClassic is a Classic Load Balancer (the group's elbInfoList).
	KindClassic Kind = "Classic Load Balancer"
)

// Error is the failure of BlockTraffic or AllowTraffic on one target group
// or Classic Load Balancer. The Controller returns every failure of a call
// in one *multierror.Error, each an *Error, in the order of the request's
// lists: errors.As finds the first, and the list holds them all.
type Error struct {
	// Op is "BlockTraffic" or "AllowTraffic".
	Op string
	// InstanceID is the target's ID.
	InstanceID string
	// Kind and Name say which load balancer failed.
	Kind Kind
	Name string
	// Code is the CodeDeploy error code of the failure:
	// ELASTIC_LOAD_BALANCING_INVALID (the load balancer or target group is
	// missing or misconfigured, or refused a call), ELB_INVALID_INSTANCE
	// (it refused the instance), TIMEOUT (draining or the health wait
	// passed its bound, or ctx's deadline passed), THROTTLED,
	// IAM_ROLE_PERMISSIONS (access denied), INTERNAL_ERROR (no answer at
	// all). Empty when ctx was cancelled.
	Code plan.ErrorCode
	// Err is the cause: the SDK's error (smithy.APIError stays reachable
	// with errors.As), ctx's error, or one of this package's sentinels.
	Err error
	// kindErr is the target sentinel that fits Code, if any.
	kindErr error
}

// Error names the operation, the instance, the load balancer and the code.
func (e *Error) Error() string {
	code := ""
	if e.Code != "" {
		code = " (" + string(e.Code) + ")"
	}
	return fmt.Sprintf("elbtarget: %s %s on %s %q%s: %v", e.Op, e.InstanceID, e.Kind, e.Name, code, e.Err)
}

// Unwrap returns the cause and, when one fits, a sentinel of package
// target (target.ErrNotFound, target.ErrTargetUnavailable).
func (e *Error) Unwrap() []error {
	if e.kindErr == nil {
		return []error{e.Err}
	}
	return []error{e.Err, e.kindErr}
}

// As lets errors.As find e as a *target.CodeError carrying e.Code, the
// form in which every role reports CodeDeploy's error codes, so that the
// executor gives the deployment this code (ELB_INVALID_INSTANCE, THROTTLED,
// …) without knowing this package. An *Error without a code (ctx was
// cancelled) is no *target.CodeError.
func (e *Error) As(v any) bool {
	p, ok := v.(**target.CodeError)
	if !ok || e.Code == "" {
		return false
	}
	*p = &target.CodeError{Code: string(e.Code), Err: e}
	return true
}

// classify returns the CodeDeploy error code of err and the target
// sentinel that goes with it.
func classify(err error) (plan.ErrorCode, error) {
	switch {
	case errors.Is(err, ErrTimeout), errors.Is(err, context.DeadlineExceeded):
		return plan.Timeout, nil
	case errors.Is(err, context.Canceled):
		return "", nil
	case errors.Is(err, ErrNoClient), errors.Is(err, ErrTargetType):
		return plan.ElasticLoadBalancingInvalid, nil
	case errors.Is(err, errMissing):
		return plan.ElasticLoadBalancingInvalid, target.ErrNotFound
	case errors.Is(err, errRefused):
		return plan.ELBInvalidInstance, target.ErrTargetUnavailable
	}
	var api smithy.APIError
	if !errors.As(err, &api) {
		return plan.InternalError, nil
	}
	switch api.ErrorCode() {
	case "TargetGroupNotFound", "LoadBalancerNotFound", "AccessPointNotFound", "LoadBalancerAttributeNotFound":
		return plan.ElasticLoadBalancingInvalid, target.ErrNotFound
	case "InvalidTarget", "InvalidInstance":
		return plan.ELBInvalidInstance, target.ErrTargetUnavailable
	case "Throttling", "ThrottlingException", "RequestLimitExceeded", "TooManyRequestsException":
		return plan.Throttled, nil
	case "AccessDenied", "AccessDeniedException", "UnauthorizedOperation":
		return plan.IAMRolePermissions, nil
	}
	return plan.ElasticLoadBalancingInvalid, nil
}

// fail wraps err, the failure of op on one load balancer, as an *Error.
func fail(op string, id string, kind Kind, name string, err error) *Error {
	code, kindErr := classify(err)
	return &Error{Op: op, InstanceID: id, Kind: kind, Name: name, Code: code, Err: err, kindErr: kindErr}
}

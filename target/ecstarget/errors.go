package ecstarget

import (
	"errors"
	"fmt"

	"github.com/aws/smithy-go"

	"github.com/fleetdeploy/fleetdeploy/target"
)

// CodeDeploy's error codes (ErrorInformation.code) the package's failures
// carry in a *target.CodeError.
const (
	// CodeInvalidECSService: the ECS service, its task sets, target groups
	// or listeners are not set up for a deployment — the service or cluster
	// does not exist or is not ACTIVE, its deployment controller is not
	// EXTERNAL, the deployment group has no target group pair, a target
	// group or listener does not exist, the production listener forwards
	// to neither target group of the pair. Errors with this code also wrap
	// target.ErrNotFound: the service has no traffic route the package can
	// use, and the executor fails a deployment whose route is not found
	// with INVALID_ECS_SERVICE.
	CodeInvalidECSService = "INVALID_ECS_SERVICE"
	// CodeECSUpdateError: Amazon ECS or Elastic Load Balancing refused a
	// change (CreateTaskSet, ModifyListener, UpdateServicePrimaryTaskSet),
	// or the replacement task set did not become steady in time.
	CodeECSUpdateError = "ECS_UPDATE_ERROR"
	// CodeThrottled: Amazon ECS or Elastic Load Balancing throttled a
	// call beyond the SDK's retries. The executor retries a throttled
	// step with backoff before it fails the deployment with this code.
	CodeThrottled = "THROTTLED"
)

// invalidService returns an INVALID_ECS_SERVICE error wrapping
// target.ErrNotFound, and cause when it is not nil.
func invalidService(cause error, format string, args ...any) error {
	msg := "ecstarget: " + fmt.Sprintf(format, args...)
	if cause != nil {
		return &target.CodeError{Code: CodeInvalidECSService, Err: fmt.Errorf("%s: %w: %w", msg, cause, target.ErrNotFound)}
	}
	return &target.CodeError{Code: CodeInvalidECSService, Err: fmt.Errorf("%s: %w", msg, target.ErrNotFound)}
}

// updateError returns an ECS_UPDATE_ERROR error wrapping cause (which may be
// nil), or a THROTTLED one when cause is throttling.
func updateError(cause error, format string, args ...any) error {
	msg := "ecstarget: " + fmt.Sprintf(format, args...)
	if cause == nil {
		return &target.CodeError{Code: CodeECSUpdateError, Err: errors.New(msg)}
	}
	code := CodeECSUpdateError
	if isThrottled(cause) {
		code = CodeThrottled
	}
	return &target.CodeError{Code: code, Err: fmt.Errorf("%s: %w", msg, cause)}
}

// callError wraps the failure of a read (a Describe call) with what it
// was reading: a THROTTLED *target.CodeError when the service throttled
// it, so that the executor retries, else a plain error.
func callError(cause error, format string, args ...any) error {
	err := fmt.Errorf("ecstarget: "+format+": %w", append(args, cause)...)
	if isThrottled(cause) {
		return &target.CodeError{Code: CodeThrottled, Err: err}
	}
	return err
}

// isThrottled reports whether err is Amazon ECS's or Elastic Load
// Balancing's answer that the calls were throttled.
func isThrottled(err error) bool {
	switch apiCode(err) {
	case "Throttling", "ThrottlingException", "RequestLimitExceeded", "TooManyRequestsException":
		return true
	}
	return false
}

// apiCode returns the error code of the service's answer in err, "" if none.
func apiCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// isGone reports whether err says a cluster, service or task set does not
// exist.
func isGone(err error) bool {
	switch apiCode(err) {
	case "ClusterNotFoundException", "ServiceNotFoundException", "ServiceNotActiveException", "TaskSetNotFoundException":
		return true
	}
	return false
}

package lambdatarget

import (
	"errors"

	"github.com/aws/smithy-go"
	"github.com/fleetdeploy/fleetdeploy/deploy/plan"
)

// Sentinel errors. The failures of a traffic shift are *target.CodeError
// values that wrap one of these (or the SDK's error), so that both the
// CodeDeploy error code (errors.As) and the reason (errors.Is) can be read.
var (
	// ErrInvalidOptions: a constructor got a nil client.
	ErrInvalidOptions = errors.New("lambdatarget: invalid options")

	// ErrAliasMismatch: the alias serves versions other than those of the
	// shift: before the first shift it must point at the AppSpec's
	// CurrentVersion with no weighted routing, or routing only to the
	// TargetVersion. The *target.CodeError that wraps it has code
	// INVALID_LAMBDA_CONFIGURATION.
	ErrAliasMismatch = errors.New("lambdatarget: alias does not match the AppSpec's versions")

	// ErrVersionNotFound: the function has no version the AppSpec names as
	// its TargetVersion. The *target.CodeError that wraps it has code
	// INVALID_LAMBDA_CONFIGURATION.
	ErrVersionNotFound = errors.New("lambdatarget: function version not found")

	// ErrNoReports: a HookRequest without Reports, so that the status the
	// hook function reports cannot be received. The executor always sets
	// it; a caller that invokes hooks itself must too.
	ErrNoReports = errors.New("lambdatarget: hook request has no Reports to receive the hook's status")
)

// CodeDeploy's error codes (ErrorInformation.code) that a Shifter's
// failures carry in a *target.CodeError.
const (
	// CodeInvalidLambdaFunction: the function does not exist.
	CodeInvalidLambdaFunction = string(plan.InvalidLambdaFunction)
	// CodeInvalidLambdaConfiguration: the alias does not exist, serves
	// other versions than the AppSpec's, or the TargetVersion does not
	// exist.
	CodeInvalidLambdaConfiguration = string(plan.InvalidLambdaConfiguration)
	// CodeThrottled: Lambda throttled the calls beyond the SDK's retries.
	CodeThrottled = string(plan.Throttled)
	// CodeIAMRolePermissions: the caller's credentials may not read or
	// update the alias.
	CodeIAMRolePermissions = string(plan.IAMRolePermissions)
)

// apiCode returns the error code of the service's answer in err, "" if
// none.
func apiCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// isNotFound reports whether err is Lambda's answer that a function,
// version or alias does not exist.
func isNotFound(err error) bool { return apiCode(err) == "ResourceNotFoundException" }

// serviceCode returns the CodeDeploy error code of a Lambda call's failure
// that is not about a missing resource: THROTTLED, IAM_ROLE_PERMISSIONS,
// INVALID_LAMBDA_CONFIGURATION for a request Lambda refused (an alias
// changed meanwhile, a version it cannot route to), or "" when the failure
// is not the service's answer (network trouble).
func serviceCode(err error) string {
	switch c := apiCode(err); c {
	case "":
		return ""
	case "TooManyRequestsException", "ThrottlingException", "Throttling":
		return CodeThrottled
	case "AccessDeniedException", "AccessDenied", "UnrecognizedClientException", "KMSAccessDeniedException":
		return CodeIAMRolePermissions
	case "ServiceException", "InternalFailure", "ServiceUnavailable", "ServiceUnavailableException":
		return string(plan.InternalError)
	}
	return CodeInvalidLambdaConfiguration
}

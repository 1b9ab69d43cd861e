package ec2target

import (
	"errors"
	"strings"

	"github.com/aws/smithy-go"
)

// CodeDeploy's error codes (ErrorInformation.code) the Provisioner's
// failures carry in a *target.CodeError.
const (
	// CodeAutoScalingIAMRolePermissions: the caller's credentials may not
	// perform an Auto Scaling or EC2 operation.
	CodeAutoScalingIAMRolePermissions = "AUTO_SCALING_IAM_ROLE_PERMISSIONS"
	// CodeAutoScalingValidationError: Auto Scaling rejected the
	// replacement group (a launch template or configuration that does not
	// exist, subnets that do not match, ...).
	CodeAutoScalingValidationError = "AUTOSCALING_VALIDATION_ERROR"
	// CodeAutoScalingConfiguration: the original group cannot be copied
	// (it does not exist, has no healthy instance), or the replacement's
	// instances did not come into service in time.
	CodeAutoScalingConfiguration = "AUTO_SCALING_CONFIGURATION"
	// CodeThrottled: the calls were throttled beyond the SDK's retries.
	CodeThrottled = "THROTTLED"
	// CodeNoInstances: DISCOVER_EXISTING found no replacement instance.
	CodeNoInstances = "NO_INSTANCES"
)

// apiCode returns the error code of the service's answer in err, "" if none.
func apiCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// isNotFound reports whether err says an instance ID does not exist.
func isNotFound(err error) bool {
	c := apiCode(err)
	return strings.HasPrefix(c, "InvalidInstanceID.NotFound") || c == "InvalidInstanceID.Malformed"
}

// autoScalingCode maps the failure of an Auto Scaling (or EC2) call made to
// provision a replacement group to CodeDeploy's error code.
func autoScalingCode(err error) string {
	switch c := apiCode(err); c {
	case "AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "UnauthorizedAccess", "AuthFailure",
		"ServiceLinkedRoleFailure":
		return CodeAutoScalingIAMRolePermissions
	case "ValidationError", "InvalidParameterValue", "InvalidParameterCombination", "InvalidParameter":
		return CodeAutoScalingValidationError
	case "InvalidLaunchTemplateName.NotFoundException", "InvalidLaunchTemplateId.NotFound", "InvalidLaunchTemplateId.Malformed":
		return CodeAutoScalingValidationError // Auto Scaling itself answers ValidationError
	case "Throttling", "ThrottlingException", "RequestLimitExceeded", "RequestThrottled":
		return CodeThrottled
	}
	return CodeAutoScalingConfiguration
}

package ec2target

import (
	"fmt"
	"testing"

	"github.com/aws/smithy-go"
)

func TestAutoScalingCode(t *testing.T) {
	for code, want := range map[string]string{
		"AccessDenied":                     CodeAutoScalingIAMRolePermissions,
		"UnauthorizedOperation":            CodeAutoScalingIAMRolePermissions,
		"ValidationError":                  CodeAutoScalingValidationError,
		"InvalidLaunchTemplateId.NotFound": CodeAutoScalingValidationError,
		"Throttling":                       CodeThrottled,
		"RequestThrottled":                 CodeThrottled,
		"LimitExceeded":                    CodeAutoScalingConfiguration,
		"InternalFailure":                  CodeAutoScalingConfiguration,
	} {
		err := fmt.Errorf("call: %w", &smithy.GenericAPIError{Code: code, Message: "m"})
		if got := autoScalingCode(err); got != want {
			t.Errorf("%s: %s; want %s", code, got, want)
		}
	}
}

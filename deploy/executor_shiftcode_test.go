package deploy_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/fleetdeploy/fleetdeploy/config"
	"github.com/fleetdeploy/fleetdeploy/deploy"
	"github.com/fleetdeploy/fleetdeploy/deploy/plan"
	"github.com/fleetdeploy/fleetdeploy/target"
)

// A TrafficShifter's *target.CodeError carrying one of CodeDeploy's codes
// is the deployment's ErrorInformation.code (a Lambda alias serving other
// versions than the AppSpec's is INVALID_LAMBDA_CONFIGURATION); a code
// CodeDeploy does not have leaves the executor's own.
func TestShiftErrorCodeIsTheDeployments(t *testing.T) {
	for _, tc := range []struct {
		code string
		want plan.ErrorCode
	}{
		{"INVALID_LAMBDA_CONFIGURATION", plan.InvalidLambdaConfiguration},
		{"INVALID_LAMBDA_FUNCTION", plan.InvalidLambdaFunction},
		{"NOT_A_CODEDEPLOY_CODE", plan.InternalError},
	} {
		e, shifter, _, _ := serviceEnv(t, config.Lambda, "CodeDeployDefault.LambdaAllAtOnce", nil)
		shifter.SetRoute(target.TrafficRoute{ResourceID: "checkout:live"}, target.TrafficSplit{Original: "1"})
		shifter.OnShift(func(context.Context, target.ShiftRequest) error {
			return &target.CodeError{Code: tc.code, Err: errors.New("alias checkout:live points to version 3")}
		})
		d, err := e.exec.CreateDeployment(e.ctx, deploy.DeploymentInput{ApplicationName: "shop", GroupName: "prod", Revision: lambdaSpec("2")})
		if err != nil {
			t.Fatal(err)
		}
		got, err := e.exec.Run(e.ctx, d.ID)
		if err != nil || got.Status != deploy.StatusFailed || got.ErrorInformation.Code != tc.want ||
			!strings.Contains(got.ErrorInformation.Message, "points to version 3") {
			t.Errorf("shift failing with code %s: Run = %s %+v, %v; want Failed with %s", tc.code, got.Status, got.ErrorInformation, err, tc.want)
		}
	}
}

package cloudwatchalarm_test

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"

	"github.com/fleetdeploy/fleetdeploy/internal/motoserver"
	"github.com/fleetdeploy/fleetdeploy/target"
	"github.com/fleetdeploy/fleetdeploy/target/targettest"
)

// The Source passes the AlarmSource conformance suite against moto's
// CloudWatch: alarms made with PutMetricAlarm, states set with
// SetAlarmState.
func TestConformance(t *testing.T) {
	targettest.TestAlarmSource(t, func(t *testing.T) targettest.AlarmHarness {
		cw := client(t)
		return targettest.AlarmHarness{
			Source: newSource(t, cw),
			NewAlarm: func(ctx context.Context) (string, error) {
				name := motoserver.Name(t, "alarm")
				_, err := cw.PutMetricAlarm(ctx, &cloudwatch.PutMetricAlarmInput{
					AlarmName: aws.String(name), Namespace: aws.String("fleetdeploy/test"), MetricName: aws.String("Errors"),
					Statistic: types.StatisticSum, Period: aws.Int32(60), EvaluationPeriods: aws.Int32(1), Threshold: aws.Float64(1),
					ComparisonOperator: types.ComparisonOperatorGreaterThanOrEqualToThreshold,
				})
				return name, err
			},
			SetState: func(ctx context.Context, name string, state target.AlarmState) error {
				_, err := cw.SetAlarmState(ctx, &cloudwatch.SetAlarmStateInput{AlarmName: aws.String(name),
					StateValue: types.StateValue(state), StateReason: aws.String("conformance suite")})
				return err
			},
		}
	})
}

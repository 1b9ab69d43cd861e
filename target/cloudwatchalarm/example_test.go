package cloudwatchalarm_test

import (
	"context"
	"errors"
	"fmt"
	"log"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/fleetdeploy/fleetdeploy/internal/motoserver"
	"github.com/fleetdeploy/fleetdeploy/target"
	"github.com/fleetdeploy/fleetdeploy/target/cloudwatchalarm"
)

// A deployment group's alarm goes to ALARM; the executor's next poll sees
// it (here against moto's CloudWatch).
func ExampleSource() {
	url, err := motoserver.Start()
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	cw := cloudwatch.NewFromConfig(motoserver.ConfigFor(url))
	if _, err := cw.PutMetricAlarm(ctx, &cloudwatch.PutMetricAlarmInput{
		AlarmName: aws.String("example-5xx"), Namespace: aws.String("AWS/ApplicationELB"),
		MetricName: aws.String("HTTPCode_Target_5XX_Count"), Statistic: types.StatisticSum, Period: aws.Int32(60),
		EvaluationPeriods: aws.Int32(1), Threshold: aws.Float64(10),
		ComparisonOperator: types.ComparisonOperatorGreaterThanThreshold,
	}); err != nil {
		log.Fatal(err)
	}
	src, err := cloudwatchalarm.New(cw)
	if err != nil {
		log.Fatal(err)
	}

	states, err := src.AlarmStates(ctx, []string{"example-5xx"})
	fmt.Println(states, err)

	if _, err := cw.SetAlarmState(ctx, &cloudwatch.SetAlarmStateInput{AlarmName: aws.String("example-5xx"),
		StateValue: types.StateValueAlarm, StateReason: aws.String("errors")}); err != nil {
		log.Fatal(err)
	}
	states, err = src.AlarmStates(ctx, []string{"example-5xx"})
	fmt.Println(states, err)

	_, err = src.AlarmStates(ctx, []string{"example-5xx", "example-missing"})
	fmt.Println(errors.Is(err, target.ErrNotFound))
	// Output:
	// [OK] <nil>
	// [ALARM] <nil>
	// true
}

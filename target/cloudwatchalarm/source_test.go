package cloudwatchalarm_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/smithy-go"
	"github.com/fleetdeploy/fleetdeploy/internal/motoserver"
	"github.com/fleetdeploy/fleetdeploy/target"
	"github.com/fleetdeploy/fleetdeploy/target/cloudwatchalarm"
	"github.com/hashicorp/go-multierror"
)

func TestMain(m *testing.M) { motoserver.Main(m) }

// counting is the real client, counting DescribeAlarms calls and the most
// names one asked for; err, when set, is returned instead of calling.
type counting struct {
	cloudwatchalarm.API
	mu       sync.Mutex
	calls    int
	maxNames int
	err      error
}

func (c *counting) DescribeAlarms(ctx context.Context, in *cloudwatch.DescribeAlarmsInput, optFns ...func(*cloudwatch.Options)) (*cloudwatch.DescribeAlarmsOutput, error) {
	c.mu.Lock()
	c.calls++
	c.maxNames = max(c.maxNames, len(in.AlarmNames))
	err := c.err
	c.mu.Unlock()
	if err != nil {
		return nil, err
	}
	if !slices.Contains(in.AlarmTypes, types.AlarmTypeCompositeAlarm) || !slices.Contains(in.AlarmTypes, types.AlarmTypeMetricAlarm) {
		return nil, fmt.Errorf("test: DescribeAlarms asked for alarm types %v; want both", in.AlarmTypes)
	}
	return c.API.DescribeAlarms(ctx, in, optFns...)
}

func client(t *testing.T) *cloudwatch.Client {
	return cloudwatch.NewFromConfig(motoserver.Config(t))
}

// metricAlarm creates a metric alarm in moto and returns its name.
func metricAlarm(t *testing.T, cw *cloudwatch.Client, name string) string {
	t.Helper()
	if _, err := cw.PutMetricAlarm(context.Background(), &cloudwatch.PutMetricAlarmInput{
		AlarmName: aws.String(name), Namespace: aws.String("fleetdeploy/test"), MetricName: aws.String("Errors"),
		Statistic: types.StatisticSum, Period: aws.Int32(60), EvaluationPeriods: aws.Int32(1), Threshold: aws.Float64(1),
		ComparisonOperator: types.ComparisonOperatorGreaterThanOrEqualToThreshold,
	}); err != nil {
		t.Fatal(err)
	}
	return name
}

// composites is the real client with composite alarms, which moto 5.2.1
// cannot create (it has no PutCompositeAlarm, and PutMetricAlarm takes no
// rule): the metric alarms it names are answered as composite alarms, with
// their state in moto, and — as CloudWatch does — only when the call asks
// for composite alarms (AlarmTypes); a call that does not gets neither.
type composites struct {
	cloudwatchalarm.API
	names map[string]bool
}

func (c *composites) DescribeAlarms(ctx context.Context, in *cloudwatch.DescribeAlarmsInput, optFns ...func(*cloudwatch.Options)) (*cloudwatch.DescribeAlarmsOutput, error) {
	out, err := c.API.DescribeAlarms(ctx, in, optFns...)
	if err != nil {
		return out, err
	}
	asked := slices.Contains(in.AlarmTypes, types.AlarmTypeCompositeAlarm)
	out.MetricAlarms = slices.DeleteFunc(out.MetricAlarms, func(a types.MetricAlarm) bool {
		if !c.names[aws.ToString(a.AlarmName)] {
			return false
		}
		if asked {
			out.CompositeAlarms = append(out.CompositeAlarms, types.CompositeAlarm{AlarmName: a.AlarmName,
				AlarmRule: aws.String("ALARM(child)"), StateValue: a.StateValue})
		}
		return true
	})
	return out, nil
}

func setState(t *testing.T, cw *cloudwatch.Client, name string, state types.StateValue) {
	t.Helper()
	if _, err := cw.SetAlarmState(context.Background(), &cloudwatch.SetAlarmStateInput{AlarmName: aws.String(name),
		StateValue: state, StateReason: aws.String("test")}); err != nil {
		t.Fatal(err)
	}
}

func newSource(t *testing.T, api cloudwatchalarm.API) *cloudwatchalarm.Source {
	t.Helper()
	s, err := cloudwatchalarm.New(api)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// More names than one call takes: batches of at most 100, states in the
// order asked, an alarm set to ALARM seen as ALARM.
func TestManyAlarmsInBatches(t *testing.T) {
	cw := client(t)
	prefix := motoserver.Name(t, "a")
	var names []string
	for i := range 130 {
		names = append(names, metricAlarm(t, cw, fmt.Sprintf("%s-%03d", prefix, i)))
	}
	setState(t, cw, names[7], types.StateValueAlarm)
	setState(t, cw, names[120], types.StateValueInsufficientData)
	api := &counting{API: cw}
	src := newSource(t, api)

	asked := slices.Clone(names)
	slices.Reverse(asked)
	asked = append(asked, names[7]) // twice
	got, err := src.AlarmStates(context.Background(), asked)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(asked) {
		t.Fatalf("%d states for %d names", len(got), len(asked))
	}
	for i, n := range asked {
		want := target.AlarmOK
		switch n {
		case names[7]:
			want = target.AlarmAlarm
		case names[120]:
			want = target.AlarmInsufficientData
		}
		if got[i] != want {
			t.Errorf("alarm %s (position %d): %s; want %s", n, i, got[i], want)
		}
	}
	if api.calls != 2 || api.maxNames > cloudwatchalarm.MaxNamesPerCall {
		t.Errorf("%d DescribeAlarms calls, at most %d names each; want 2 calls of at most %d", api.calls, api.maxNames, cloudwatchalarm.MaxNamesPerCall)
	}
}

// Composite alarms are read like metric alarms, and asked for: CloudWatch
// returns them only to a call whose AlarmTypes includes them.
func TestCompositeAlarm(t *testing.T) {
	cw := client(t)
	child := metricAlarm(t, cw, motoserver.Name(t, "child"))
	composite := motoserver.Name(t, "composite")
	metricAlarm(t, cw, composite)
	src := newSource(t, &composites{API: cw, names: map[string]bool{composite: true}})
	setState(t, cw, composite, types.StateValueOk)
	got, err := src.AlarmStates(context.Background(), []string{composite, child})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, []target.AlarmState{target.AlarmOK, target.AlarmOK}) {
		t.Errorf("states %v; want [OK OK]", got)
	}
	setState(t, cw, composite, types.StateValueAlarm)
	got, err = src.AlarmStates(context.Background(), []string{child, composite})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, []target.AlarmState{target.AlarmOK, target.AlarmAlarm}) {
		t.Errorf("states %v; want [OK ALARM] after the composite alarm was set to ALARM", got)
	}
}

// A missing alarm is a poll failure naming every missing alarm.
func TestMissingAlarm(t *testing.T) {
	cw := client(t)
	there := metricAlarm(t, cw, motoserver.Name(t, "there"))
	gone1, gone2 := motoserver.Name(t, "gone"), motoserver.Name(t, "gone")
	got, err := newSource(t, cw).AlarmStates(context.Background(), []string{gone1, there, gone2})
	if !errors.Is(err, target.ErrNotFound) {
		t.Fatalf("error %v; want one wrapping target.ErrNotFound", err)
	}
	if got != nil {
		t.Errorf("states %v returned with the error", got)
	}
	for _, n := range []string{gone1, gone2} {
		if !strings.Contains(err.Error(), n) {
			t.Errorf("error %q does not name missing alarm %s", err, n)
		}
	}
	if strings.Contains(err.Error(), there) {
		t.Errorf("error %q names alarm %s, which exists", err, there)
	}
}

// A failed call keeps the service's error reachable and names the alarms.
func TestServiceError(t *testing.T) {
	cw := client(t)
	name := metricAlarm(t, cw, motoserver.Name(t, "x"))
	api := &counting{API: cw, err: &smithy.GenericAPIError{Code: "Throttling", Message: "Rate exceeded"}}
	_, err := newSource(t, api).AlarmStates(context.Background(), []string{name})
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "Throttling" {
		t.Errorf("error %v; want the service's Throttling reachable as smithy.APIError", err)
	}
	if err == nil || !strings.Contains(err.Error(), name) {
		t.Errorf("error %v does not name the alarm", err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := newSource(t, cw).AlarmStates(ctx, []string{name}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v; want context.Canceled", err)
	}
}

// Every batch of names is asked for even when one fails, and every
// failure is listed.
func TestEveryBatchFailureListed(t *testing.T) {
	api := &counting{API: client(t), err: &smithy.GenericAPIError{Code: "Throttling", Message: "Rate exceeded"}}
	names := make([]string, cloudwatchalarm.MaxNamesPerCall+1)
	for i := range names {
		names[i] = fmt.Sprintf("alarm-%03d", i)
	}
	_, err := newSource(t, api).AlarmStates(context.Background(), names)
	var list *multierror.Error
	if !errors.As(err, &list) || len(list.Errors) != 2 || api.calls != 2 {
		t.Fatalf("error %v after %d calls; want both batches asked for and their 2 failures listed", err, api.calls)
	}
	if want := fmt.Sprintf("cloudwatchalarm: reading %d alarms: 2 failures:\n  DescribeAlarms for ", len(names)); !strings.HasPrefix(err.Error(), want) {
		t.Errorf("error %q; want it to start with %q", err, want)
	}
}

func TestEmptyAndNew(t *testing.T) {
	api := &counting{API: client(t)}
	got, err := newSource(t, api).AlarmStates(context.Background(), nil)
	if err != nil || len(got) != 0 || api.calls != 0 {
		t.Errorf("no names: %v, %v after %d calls; want no states, no error, no call", got, err, api.calls)
	}
	if _, err := cloudwatchalarm.New(nil); !errors.Is(err, cloudwatchalarm.ErrInvalidOptions) {
		t.Errorf("New(nil): %v; want ErrInvalidOptions", err)
	}
}

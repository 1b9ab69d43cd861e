package cloudwatchalarm

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/hashicorp/go-multierror"

	"github.com/fleetdeploy/fleetdeploy/internal/errmsg"
	"github.com/fleetdeploy/fleetdeploy/target"
)

// MaxNamesPerCall is the most alarm names one DescribeAlarms call may name.
const MaxNamesPerCall = 100

// API is the part of the CloudWatch client (*cloudwatch.Client) a Source
// calls.
type API interface {
	DescribeAlarms(ctx context.Context, in *cloudwatch.DescribeAlarmsInput, optFns ...func(*cloudwatch.Options)) (*cloudwatch.DescribeAlarmsOutput, error)
}

var (
	_ API                = (*cloudwatch.Client)(nil)
	_ target.AlarmSource = (*Source)(nil)
)

// ErrInvalidOptions: New got a nil client.
var ErrInvalidOptions = errors.New("cloudwatchalarm: invalid options")

// Options are the optional settings of a Source.
type Options struct {
	// Logger receives a Debug record per poll. Default: discarded.
	Logger *slog.Logger
}

// Source reads the state of CloudWatch alarms. It is safe for concurrent
// use.
type Source struct {
	api API
	log *slog.Logger
}

// New returns a Source that reads alarms through client. A nil client is
// an error wrapping ErrInvalidOptions.
func New(client API, opts ...func(*Options)) (*Source, error) {
	if client == nil {
		return nil, fmt.Errorf("cloudwatchalarm: New: the CloudWatch client is nil; pass a *cloudwatch.Client: %w", ErrInvalidOptions)
	}
	var o Options
	for _, f := range opts {
		if f != nil {
			f(&o)
		}
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return &Source{api: client, log: o.Logger}, nil
}

// AlarmStates returns the state of each named alarm, metric or composite,
// in the order of names (a name given twice gets its state twice). It asks
// DescribeAlarms for the distinct names, MaxNamesPerCall at a time.
//
// Errors: an error wrapping target.ErrNotFound that lists every name
// CloudWatch does not know; otherwise a *multierror.Error listing every
// failure — ctx's error, the SDK's error of each failed call (with
// smithy.APIError reachable), naming the alarms asked for, an error for
// each state CloudWatch reports that is not OK, ALARM or
// INSUFFICIENT_DATA. No states are returned with an error.
func (s *Source) AlarmStates(ctx context.Context, names []string) ([]target.AlarmState, error) {
	if len(names) == 0 {
		return []target.AlarmState{}, nil
	}
	distinct := slices.Clone(names)
	slices.Sort(distinct)
	distinct = slices.Compact(distinct)
	states := make(map[string]target.AlarmState, len(distinct))
	// Every batch is asked for, unless ctx ends: each failure is reported.
	failures := errmsg.NewList(fmt.Sprintf("cloudwatchalarm: reading %d alarms", len(distinct)), "failures")
	for batch := range slices.Chunk(distinct, MaxNamesPerCall) {
		failures = multierror.Append(failures, s.describe(ctx, batch, states))
		if ctx.Err() != nil {
			break
		}
	}
	if err := failures.ErrorOrNil(); err != nil {
		return nil, err
	}
	var missing []string
	for _, n := range distinct {
		if _, ok := states[n]; !ok {
			missing = append(missing, n)
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("cloudwatchalarm: %d of %d alarms not found in CloudWatch: %q; create them or remove them from the deployment group's alarm configuration: %w",
			len(missing), len(distinct), missing, target.ErrNotFound)
	}
	out := make([]target.AlarmState, len(names))
	for i, n := range names {
		out[i] = states[n]
	}
	s.log.DebugContext(ctx, "alarms read", "alarms", len(distinct))
	return out, nil
}

// describe asks DescribeAlarms for the alarms of batch, every page, and
// records their states. It returns the failed call's error, or the list of
// every alarm whose state it does not know.
func (s *Source) describe(ctx context.Context, batch []string, states map[string]target.AlarmState) error {
	var unknown *multierror.Error
	in := &cloudwatch.DescribeAlarmsInput{
		AlarmNames: batch,
		AlarmTypes: []types.AlarmType{types.AlarmTypeMetricAlarm, types.AlarmTypeCompositeAlarm},
		MaxRecords: aws.Int32(MaxNamesPerCall),
	}
	pages := cloudwatch.NewDescribeAlarmsPaginator(s.api, in)
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("cloudwatchalarm: DescribeAlarms for %s: %w", describeBatch(batch), err)
		}
		record := func(name *string, v types.StateValue) error {
			st := target.AlarmState(v)
			if !slices.Contains(st.Values(), st) {
				return fmt.Errorf("cloudwatchalarm: alarm %q is in state %q, not one of %v", aws.ToString(name), v, st.Values())
			}
			states[aws.ToString(name)] = st
			return nil
		}
		for _, a := range page.MetricAlarms {
			unknown = multierror.Append(unknown, record(a.AlarmName, a.StateValue))
		}
		for _, a := range page.CompositeAlarms {
			unknown = multierror.Append(unknown, record(a.AlarmName, a.StateValue))
		}
	}
	return unknown.ErrorOrNil()
}

// describeBatch names the alarms of a batch for an error message, the
// first few and how many more.
func describeBatch(batch []string) string {
	const shown = 3
	if len(batch) <= shown {
		return fmt.Sprintf("alarms %q", batch)
	}
	return fmt.Sprintf("alarms %s and %d more", strings.Join(quoteAll(batch[:shown]), ", "), len(batch)-shown)
}

func quoteAll(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = fmt.Sprintf("%q", s)
	}
	return out
}

package target

import "context"

// AlarmState is the state of a monitoring alarm, spelled as CloudWatch
// spells it.
type AlarmState string

// The alarm states.
const (
	AlarmOK               AlarmState = "OK"
	AlarmAlarm            AlarmState = "ALARM"
	AlarmInsufficientData AlarmState = "INSUFFICIENT_DATA"
)

// Values returns every valid AlarmState.
func (AlarmState) Values() []AlarmState {
	return []AlarmState{AlarmOK, AlarmAlarm, AlarmInsufficientData}
}

// AlarmSource reports the state of named alarms. A deployment group's alarm
// configuration names the alarms; the executor polls them throughout a
// deployment, waits included, and stops the deployment with ALARM_ACTIVE
// when one is in ALARM (User Guide, "Monitoring deployments with CloudWatch
// alarms in CodeDeploy"; API Reference, AlarmConfiguration).
type AlarmSource interface {
	// AlarmStates returns the state of each named alarm, in the order of
	// names, as it is now (never a state cached from an earlier call); no
	// names return no states and no error. An alarm the source does not
	// know is an error wrapping ErrNotFound that names it. Any error means
	// the states could not be read, and comes with no states; whether
	// that stops the deployment is the group's ignorePollAlarmFailure
	// setting. A ctx already done returns its error at once.
	//
	// targettest.TestAlarmSource checks this contract.
	AlarmStates(ctx context.Context, names []string) ([]AlarmState, error)
}

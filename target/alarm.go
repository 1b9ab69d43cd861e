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
// when one is in ALARM (spec §5, §6.4).
type AlarmSource interface {
	// AlarmStates returns the state of each named alarm, in the order of
	// names. An alarm the source does not know is an error wrapping
	// ErrNotFound. Any error means the states could not be read; whether
	// that stops the deployment is the group's ignorePollAlarmFailure
	// setting.
	AlarmStates(ctx context.Context, names []string) ([]AlarmState, error)
}

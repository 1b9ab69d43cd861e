package targettest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/fleetdeploy/fleetdeploy/target"
)

// AlarmHarness is what TestAlarmSource needs to check a
// target.AlarmSource: the source, and a way to make alarms and put them in
// a state.
type AlarmHarness struct {
	// Source is the implementation under test.
	Source target.AlarmSource
	// NewAlarm makes an alarm Source can read and returns its name, one no
	// other alarm of the run has — for CloudWatch, PutMetricAlarm (or
	// PutCompositeAlarm); for a fixed set of alarms, the next one not yet
	// handed out. The suite asks for at most three per check. The harness
	// removes it when the test ends (t.Cleanup), if it must.
	NewAlarm func(ctx context.Context) (name string, err error)
	// SetState puts the alarm name in state, as Source will read it from
	// then on, and leaves the other alarms' states as they are — for
	// CloudWatch, SetAlarmState; for alarms on observed traffic, the
	// traffic that makes it so.
	SetState func(ctx context.Context, name string, state target.AlarmState) error
}

// TestAlarmSource runs the conformance suite of target.AlarmSource.
// newHarness is called once per check; the suite makes at most three
// alarms per check and about twenty calls in all.
//
// The checks, each a subtest:
//
//   - "States": every state is read back, in the order of the names asked
//     for (which is not the order the alarms were made in), and a change
//     of state is seen by the next call;
//   - "NoNames": asking for no alarms returns no states and no error;
//   - "UnknownName": a name the source does not know, asked for with
//     known ones, is an error wrapping target.ErrNotFound that names it,
//     with no states;
//   - "Context": a cancelled or expired ctx returns its error, at once,
//     with no states.
func TestAlarmSource(t *testing.T, newHarness func(t *testing.T) AlarmHarness) {
	t.Helper()
	for _, c := range alarmChecks {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t)
			if h.Source == nil || h.NewAlarm == nil || h.SetState == nil {
				t.Fatal("targettest: AlarmHarness needs Source, NewAlarm and SetState")
			}
			c.run(&alarmSuite{t: t, h: h})
		})
	}
}

var alarmChecks = []struct {
	name string
	run  func(*alarmSuite)
}{
	{"States", testAlarmStates},
	{"NoNames", testAlarmNoNames},
	{"UnknownName", testAlarmUnknown},
	{"Context", testAlarmContext},
}

type alarmSuite struct {
	t *testing.T
	h AlarmHarness
}

// alarm makes an alarm in state.
func (s *alarmSuite) alarm(state target.AlarmState) string {
	s.t.Helper()
	name, err := s.h.NewAlarm(s.t.Context())
	if err != nil {
		s.t.Fatalf("targettest: the harness could not make an alarm: %v", err)
	}
	s.set(name, state)
	return name
}

func (s *alarmSuite) set(name string, state target.AlarmState) {
	s.t.Helper()
	if err := s.h.SetState(s.t.Context(), name, state); err != nil {
		s.t.Fatalf("targettest: the harness could not set alarm %q to %s: %v", name, state, err)
	}
}

// expect reads names and compares the states with want.
func (s *alarmSuite) expect(names []string, want []target.AlarmState, after string) {
	s.t.Helper()
	got, err := s.h.Source.AlarmStates(s.t.Context(), names)
	if err != nil {
		s.t.Errorf("%s: AlarmStates(%q) = %v", after, names, err)
		return
	}
	if !slices.Equal(got, want) {
		s.t.Errorf("%s: AlarmStates(%q) = %v; want %v (the state of each named alarm, in the order of names)", after, names, got, want)
	}
}

func testAlarmStates(s *alarmSuite) {
	a := s.alarm(target.AlarmAlarm)
	b := s.alarm(target.AlarmOK)
	c := s.alarm(target.AlarmInsufficientData)
	s.expect([]string{c, a, b}, []target.AlarmState{target.AlarmInsufficientData, target.AlarmAlarm, target.AlarmOK}, "setting the states")
	s.expect([]string{b}, []target.AlarmState{target.AlarmOK}, "setting the states")
	s.set(a, target.AlarmOK)
	s.set(b, target.AlarmAlarm)
	s.expect([]string{a, b, c}, []target.AlarmState{target.AlarmOK, target.AlarmAlarm, target.AlarmInsufficientData}, "changing two states")
}

func testAlarmNoNames(s *alarmSuite) {
	s.alarm(target.AlarmAlarm) // a source that reads every alarm for no names would return this one
	for _, names := range [][]string{nil, {}} {
		got, err := s.h.Source.AlarmStates(s.t.Context(), names)
		if err != nil || len(got) != 0 {
			s.t.Errorf("AlarmStates(%#v) = %v, %v; want no states and no error", names, got, err)
		}
	}
}

func testAlarmUnknown(s *alarmSuite) {
	a := s.alarm(target.AlarmOK)
	missing := fmt.Sprintf("%s-no-such-alarm", token(s.t))
	for _, names := range [][]string{{missing}, {a, missing}, {missing, a}} {
		got, err := s.h.Source.AlarmStates(s.t.Context(), names)
		switch {
		case !errors.Is(err, target.ErrNotFound):
			s.t.Errorf("AlarmStates(%q) = %v, %v; want an error wrapping target.ErrNotFound for %q", names, got, err, missing)
		case !strings.Contains(err.Error(), missing):
			s.t.Errorf("AlarmStates(%q): error %q does not name the missing alarm %q", names, err, missing)
		}
		if len(got) > 0 {
			s.t.Errorf("AlarmStates(%q) returned states %v; want none", names, got)
		}
	}
}

func testAlarmContext(s *alarmSuite) {
	a := s.alarm(target.AlarmAlarm)
	for _, c := range doneContexts(s.t.Context()) {
		var (
			got []target.AlarmState
			err error
		)
		what := "AlarmStates (" + c.name + ")"
		if promptly(s.t, what, func() { got, err = s.h.Source.AlarmStates(c.ctx, []string{a}) }) {
			checkCtxErr(s.t, what, err, c.want)
			if len(got) > 0 {
				s.t.Errorf("%s returned states %v; want none", what, got)
			}
		}
	}
}

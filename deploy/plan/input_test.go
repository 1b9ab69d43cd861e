package plan

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-multierror"

	"github.com/fleetdeploy/fleetdeploy/config"
	"github.com/fleetdeploy/fleetdeploy/health"
	"github.com/fleetdeploy/fleetdeploy/target"
)

// problemFields returns the fields of the problems err lists, in order.
func problemFields(t *testing.T, err error) []string {
	t.Helper()
	var list *multierror.Error
	if !errors.As(err, &list) || !errors.Is(err, ErrInvalidInput) {
		t.Fatalf("%v: want a *multierror.Error matching ErrInvalidInput", err)
	}
	var fields []string
	for _, e := range list.Errors {
		var p *InputError
		if !errors.As(e, &p) || p.Kind != ErrInvalidInput {
			t.Fatalf("element %v: want an *InputError of kind ErrInvalidInput", e)
		}
		fields = append(fields, p.Field)
	}
	return fields
}

// A fleet given by IDs alone is a fresh in-place deployment of healthy
// targets on the current revision: the same schedule as with every field
// spelled out.
func TestZeroValuesInPlace(t *testing.T) {
	half := predef(t, "CodeDeployDefault.HalfAtATime")
	bare := make([]Target, 4)
	for i := range bare {
		bare[i] = Target{ID: fmt.Sprintf("t%02d", i+1)}
	}
	bare[2].Instance = health.Unhealthy // the one exception, set alone
	full := fleet(4)
	full[2].Instance = health.Unhealthy
	got := preview(t, Input{Config: half, Targets: bare})
	want := preview(t, Input{Config: half, Type: target.InPlace, Targets: full})
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("zero-valued input previews as\n%+v\nwant\n%+v", got, want)
	}
	// The rules with those defaults: M = ceil(50% of 4) = 2; three start
	// healthy; the Unhealthy t03 goes first.
	if got.MinimumHealthy != 2 || got.InitialHealthy != 3 || got.Steps[0].Start[0] != "t03" {
		t.Errorf("M %d, initial healthy %d, first %v; want 2, 3 and t03 first", got.MinimumHealthy, got.InitialHealthy, got.Steps[0].Start)
	}
	if got := (Target{ID: "x"}).Health(); got.Instance != health.Healthy || got.Revision != health.Current {
		t.Errorf("zero target health %+v, want Healthy/Current", got)
	}
	if got := (Target{ID: "x", Instance: health.Unhealthy}).Health(); got.Instance != health.Unhealthy || got.Revision != health.Current {
		t.Errorf("Unhealthy target with no revision health: %+v, want Unhealthy/Current (each field defaults on its own)", got)
	}
	if ph := Phases(Input{Config: half}); !slices.Equal(ph, []Phase{PhaseDeploy}) {
		t.Errorf("phases of an empty type %v, want the in-place [Deploy]", ph)
	}
	if _, err := Preview(PreviewInput{Input: Input{Config: half, Targets: bare}, Fail: []string{"t01"}}); err != nil {
		t.Errorf("Preview with an empty type: %v", err)
	}
}

// Empty Green targets are new instances (Unhealthy, Unknown revision) and
// their Reroute is Pending; empty Blue targets are the healthy originals.
func TestZeroValuesBlueGreen(t *testing.T) {
	bare := []Target{{ID: "g1", Label: target.LabelGreen}, {ID: "g2", Label: target.LabelGreen}, {ID: "b1", Label: target.LabelBlue}}
	full := []Target{
		{ID: "g1", Label: target.LabelGreen, Instance: health.Unhealthy, Revision: health.Unknown, Status: target.TargetPending, Reroute: target.TargetPending},
		{ID: "g2", Label: target.LabelGreen, Instance: health.Unhealthy, Revision: health.Unknown, Status: target.TargetPending, Reroute: target.TargetPending},
		{ID: "b1", Label: target.LabelBlue, Instance: health.Healthy, Revision: health.Current, Status: target.TargetPending},
	}
	c := predef(t, "CodeDeployDefault.AllAtOnce")
	got := preview(t, Input{Config: c, Type: target.BlueGreen, Targets: bare})
	want := preview(t, Input{Config: c, Type: target.BlueGreen, Targets: full})
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("zero-valued blue/green previews as\n%+v\nwant\n%+v", got, want)
	}
	if got.InitialHealthy != 0 || got.Status != Succeeded {
		t.Errorf("initial healthy %d, status %s; want no healthy Green target and success", got.InitialHealthy, got.Status)
	}
	if h := bare[0].Health(); h.Instance != health.Unhealthy || h.Revision != health.Unknown {
		t.Errorf("empty Green target health %+v, want Unhealthy/Unknown", h)
	}
	if h := bare[2].Health(); h.Instance != health.Healthy || h.Revision != health.Current {
		t.Errorf("empty Blue target health %+v, want Healthy/Current", h)
	}
}

// Lambda and ECS have one deployment type: an empty Type is BLUE_GREEN.
func TestZeroValueTypeTraffic(t *testing.T) {
	for _, name := range []string{"CodeDeployDefault.LambdaAllAtOnce", "CodeDeployDefault.ECSAllAtOnce"} {
		c := predef(t, name)
		got, err := Preview(PreviewInput{Input: Input{Config: c}})
		if err != nil {
			t.Fatalf("%s with an empty type: %v", name, err)
		}
		want, err := Preview(PreviewInput{Input: Input{Config: c, Type: target.BlueGreen}})
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: empty type previews differently from BLUE_GREEN", name)
		}
		if _, err := New(Input{Config: c, Type: target.InPlace}); err == nil {
			t.Errorf("%s IN_PLACE: no error", name)
		}
	}
}

// New reports every problem of the input at once, in the order of the
// fields, configuration problems under "Config.".
func TestInputProblemsAllAtOnce(t *testing.T) {
	ts := fleet(5)
	ts[0].ID = ""
	ts[1].Status = "Ready"
	ts[2].Instance, ts[2].Revision = "Sick", "Stale"
	ts[4].ID = ts[3].ID
	ts[3].Label = target.LabelBlue
	in := Input{Config: fleetPercent(100), Targets: ts, ZoneOrder: []string{"a", "a"},
		Progress: Progress{StopCode: "STOP", Shifts: -1}, BlueGreen: BlueGreen{TerminationWait: -1}}
	_, err := New(in)
	want := []string{
		"Config.minimumHealthyHosts.value",
		"BlueGreen.TerminationWait",
		"ZoneOrder[1]",
		"Progress.StopCode",
		"Progress.Shifts",
		"Targets[0].ID",
		"Targets[1].Status",
		"Targets[2].Instance",
		"Targets[2].Revision",
		"Targets[3].Label",
		"Targets[4].ID",
	}
	if got := problemFields(t, err); !slices.Equal(got, want) {
		t.Errorf("problems %q\nwant %q\n%v", got, want, err)
	}
	if !errors.Is(err, config.ErrInvalidConfig) {
		t.Errorf("%v: the configuration's own problem is not kept", err)
	}
	msg := err.Error()
	if !strings.HasPrefix(msg, fmt.Sprintf("plan: invalid input: %d problems:\n  Config.minimumHealthyHosts.value: ", len(want))) ||
		!strings.Contains(msg, "\n  Targets[1].Status: must be Pending, InProgress, Succeeded, Failed or Skipped; got \"Ready\"") {
		t.Errorf("message:\n%s", msg)
	}
	if _, derr := Decide(in, epoch); derr == nil || derr.Error() != msg {
		t.Errorf("Decide: %v, want New's error", derr)
	}
}

// Preview adds the problems of its own fields to those of the Input.
func TestPreviewProblemsAllAtOnce(t *testing.T) {
	in := PreviewInput{Input: Input{Config: hostCount(0), Targets: []Target{{ID: "t01", Status: "Ready"}, {ID: "t02"}}},
		Duration: -1, StepDuration: -1, Durations: map[string]time.Duration{"t09": 1, "t02": -1},
		Fail: []string{"t01", "t08"}, FailReroute: []string{"t02"}, FailSteps: []Phase{PhaseDeploy}}
	_, err := Preview(in)
	want := []string{
		"Targets[0].Status",
		"Duration", "StepDuration",
		"Durations[t02]", "Durations",
		"Fail[1]", "FailReroute[0]", "FailSteps[0]",
	}
	if got := problemFields(t, err); !slices.Equal(got, want) {
		t.Errorf("problems %q\nwant %q\n%v", got, want, err)
	}
}

// A million targets with the same mistake make a bounded error: the first
// maxProblems problems and a count of the rest.
func TestInputProblemsBounded(t *testing.T) {
	ts := fleet(maxProblems + 50)
	for i := range ts {
		ts[i].Status = "Ready"
	}
	_, err := New(Input{Config: hostCount(0), Targets: ts})
	fields := problemFields(t, err)
	if len(fields) != maxProblems+1 || fields[maxProblems-1] != fmt.Sprintf("Targets[%d].Status", maxProblems-1) {
		t.Fatalf("%d problems, last listed %q; want %d and a count", len(fields), fields[len(fields)-1], maxProblems+1)
	}
	if !strings.HasSuffix(err.Error(), "50 more problems are not listed") {
		t.Errorf("message ends %q", err.Error()[len(err.Error())-60:])
	}
}

// StepFinished and Stop name the argument they reject.
func TestCallProblems(t *testing.T) {
	p, err := New(Input{Config: hostCount(0), Targets: fleet(1)})
	if err != nil {
		t.Fatal(err)
	}
	if got := problemFields(t, p.Stop("STOP", "")); !slices.Equal(got, []string{"Stop.code"}) {
		t.Errorf("Stop problems %q", got)
	}
	if err := p.Stop("STOP", ""); err.Error() != `plan: invalid input: Stop.code: must be a CodeDeploy error code; got "STOP"` {
		t.Errorf("Stop message %q", err)
	}
}

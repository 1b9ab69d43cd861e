package scenario_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-multierror"

	"github.com/fleetdeploy/fleetdeploy/config"
	"github.com/fleetdeploy/fleetdeploy/deploy/plan"
	"github.com/fleetdeploy/fleetdeploy/deploy/plan/scenario"
	"github.com/fleetdeploy/fleetdeploy/health"
	"github.com/fleetdeploy/fleetdeploy/target"
)

// samples are the scenarios of examples/preview.
func samples(t testing.TB) map[string][]byte {
	t.Helper()
	files, err := filepath.Glob("../../../examples/preview/testdata/*.json")
	if err != nil || len(files) < 3 {
		t.Fatalf("samples %v, %v", files, err)
	}
	out := map[string][]byte{}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		out[filepath.Base(f)] = data
	}
	return out
}

// problems returns "field: rule" of each problem of err, checking that
// each is a *config.Problem of kind ErrInvalidScenario.
func problems(t *testing.T, err error) []*config.Problem {
	t.Helper()
	var list *multierror.Error
	if !errors.As(err, &list) {
		t.Fatalf("error %v (%T) is not a *multierror.Error", err, err)
	}
	var ps []*config.Problem
	for _, e := range list.Errors {
		var p *config.Problem
		if !errors.As(e, &p) || !errors.Is(e, scenario.ErrInvalidScenario) {
			t.Fatalf("element %v (%T) is not a *config.Problem of kind ErrInvalidScenario", e, e)
		}
		ps = append(ps, p)
	}
	return ps
}

// Every sample decodes, converts and previews, and writing a decoded
// scenario back gives the same scenario.
func TestSamples(t *testing.T) {
	for name, data := range samples(t) {
		s, err := scenario.Decode(bytes.NewReader(data))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		in, err := s.PreviewInput()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if _, err := plan.Preview(in); err != nil {
			t.Errorf("%s: preview: %v", name, err)
		}
		out, err := json.Marshal(s)
		if err != nil {
			t.Fatalf("%s: marshal: %v", name, err)
		}
		again, err := scenario.Decode(bytes.NewReader(out))
		if err != nil {
			t.Fatalf("%s: decoding %s: %v", name, out, err)
		}
		if !reflect.DeepEqual(again, s) {
			t.Errorf("%s: written and read back, the scenario changed:\n got %+v\nwant %+v", name, again, s)
		}
	}
}

// A document's problems of every kind come back together, each naming its
// field, with the sentinels of syntax and unknown fields.
func TestDecodeProblems(t *testing.T) {
	doc := `{"config": "CodeDeployDefault.HalfAtATime", "Targets": [],
	  "targets": [{"id": "i-1", "instanceHealth": "Healthy", "revisionHealth": "Old"},
	              {"id": "i-1", "instanceHealth": "OK", "revisionHealth": "Old"}],
	  "failures": ["i-9"], "durations": {"i-1": -5}}`
	s, err := scenario.Decode(strings.NewReader(doc))
	ps := problems(t, err)
	want := []string{
		`scenario: unknown field "Targets" (did you mean "targets"?)`,
		`targets[1].id: "i-1" is also targets[0].id`,
		`targets[1].instanceHealth: must be Healthy or Unhealthy; got "OK"`,
		`failures[0]: "i-9" is not the id of a target`,
		`durations["i-1"]: must be 0 to 31536000 seconds; got -5`,
	}
	if len(ps) != len(want) {
		t.Fatalf("%d problems, want %d:\n%v", len(ps), len(want), err)
	}
	for k, p := range ps {
		if !strings.HasPrefix(p.Error(), want[k]) {
			t.Errorf("problem %d: %q, want it to start %q", k, p, want[k])
		}
	}
	if !errors.Is(ps[0], scenario.ErrUnknownField) || errors.Is(ps[1], scenario.ErrUnknownField) {
		t.Errorf("only the unknown field should match ErrUnknownField: %v, %v", ps[0], ps[1])
	}
	if len(s.Targets) != 2 || s.Config.Name != "CodeDeployDefault.HalfAtATime" {
		t.Errorf("the scenario read despite the problems is %+v", s)
	}

	_, err = scenario.Decode(strings.NewReader("{\n  \"targets\": [,]\n}"))
	ps = problems(t, err)
	if len(ps) != 1 || ps[0].Field != "2:15" || !errors.Is(ps[0], scenario.ErrSyntax) || !strings.HasPrefix(ps[0].Rule, "malformed JSON") {
		t.Errorf("malformed JSON: %v", err)
	}
	for doc, rule := range map[string]string{"": "the scenario is empty", "[1]": "the scenario must be a JSON object; got an array"} {
		_, err = scenario.Decode(strings.NewReader(doc))
		ps = problems(t, err)
		if len(ps) != 1 || ps[0].Field != "scenario" || !errors.Is(ps[0], scenario.ErrSyntax) || !strings.HasPrefix(ps[0].Rule, rule) {
			t.Errorf("document %q: %v; want %q", doc, err, rule)
		}
	}
	if !strings.HasPrefix(err.Error(), "scenario: invalid scenario") {
		t.Errorf("the list's message %q does not say what it is about", err)
	}
}

// A scenario written in Go is checked by Validate and PreviewInput with
// the rules Decode applies.
func TestValidate(t *testing.T) {
	s := scenario.Scenario{
		Config: scenario.ConfigRef{Name: "CodeDeployDefault.OneAtATime"},
		Targets: []scenario.Target{
			{ID: "i-1", InstanceHealth: health.Healthy, RevisionHealth: health.Old},
			{ID: "i-2", InstanceHealth: health.Unhealthy},
		},
		Failures: []string{"i-3"},
	}
	err := s.Validate()
	ps := problems(t, err)
	if len(ps) != 2 || ps[0].Field != "targets[1].revisionHealth" || ps[1].Field != "failures[0]" {
		t.Errorf("Validate: %v", err)
	}
	if _, err := s.PreviewInput(); err == nil || err.Error() != s.Validate().Error() {
		t.Errorf("PreviewInput: %v, want Validate's error", err)
	}
	s.Targets[1].RevisionHealth = health.Unknown
	s.Failures = nil
	if err := s.Validate(); err != nil {
		t.Errorf("a valid scenario: %v", err)
	}
}

// PreviewInput fills what the format leaves out: the deployment type by
// platform, Pending targets (and reroutes of Green targets), durations in
// seconds.
func TestPreviewInput(t *testing.T) {
	s := scenario.Scenario{
		Config:         scenario.ConfigRef{Name: "CodeDeployDefault.AllAtOnce"},
		DeploymentType: target.BlueGreen,
		Targets: []scenario.Target{
			{ID: "b", InstanceHealth: health.Healthy, RevisionHealth: health.Old, Label: target.LabelBlue},
			{ID: "g", InstanceHealth: health.Healthy, RevisionHealth: health.Unknown, Label: target.LabelGreen},
		},
		Durations: map[string]float64{"g": 1.5},
	}
	in, err := s.PreviewInput()
	if err != nil {
		t.Fatal(err)
	}
	if in.Targets[0].Status != target.TargetPending || in.Targets[0].Reroute != "" || in.Targets[1].Reroute != target.TargetPending {
		t.Errorf("targets %+v: want both Pending, the Green one's reroute Pending", in.Targets)
	}
	if in.Durations["g"] != 1500*time.Millisecond {
		t.Errorf("durations %v, want g 1.5s", in.Durations)
	}
	lambda, err := scenario.Scenario{Config: scenario.ConfigRef{Name: "CodeDeployDefault.LambdaAllAtOnce"}}.PreviewInput()
	if err != nil || lambda.Type != target.BlueGreen {
		t.Errorf("Lambda: type %q, %v; want BLUE_GREEN", lambda.Type, err)
	}
	server, err := scenario.Scenario{}.PreviewInput()
	if err != nil || server.Type != target.InPlace || server.Config.Name != config.DefaultName {
		t.Errorf("empty scenario: %q %q, %v; want IN_PLACE %s", server.Config.Name, server.Type, err, config.DefaultName)
	}
}

// No document makes Decode panic; one it accepts previews without an
// input error and reads back the same once written.
func FuzzDecode(f *testing.F) {
	for _, data := range samples(f) {
		f.Add(data)
	}
	f.Add([]byte(`{"config": {"deploymentConfigName": "X", "minimumHealthyHosts": {"type": "HOST_COUNT", "value": 1}}, "targets": [{"id": "a", "instanceHealth": "Healthy", "revisionHealth": "Old"}], "durations": {"a": 1e300}}`))
	f.Add([]byte(`{"config": "CodeDeployDefault.AllAtOnce", "deploymentType": "BLUE_GREEN", "targets": [{"id": "g", "label": "Green", "instanceHealth": "Healthy", "revisionHealth": "Old"}], "failReroute": ["g"]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := scenario.Decode(bytes.NewReader(data))
		if err != nil {
			problems(t, err)
			return
		}
		in, err := s.PreviewInput()
		if err != nil {
			t.Fatalf("Decode accepted a scenario PreviewInput rejects: %v", err)
		}
		if len(in.Targets) > 200 {
			return // keep each run fast
		}
		if _, err := plan.Preview(in); errors.Is(err, plan.ErrInvalidInput) {
			t.Fatalf("Decode accepted a scenario the planner rejects: %v\n%s", err, data)
		}
		out, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := scenario.Decode(bytes.NewReader(out)); err != nil {
			t.Fatalf("written back, the scenario no longer decodes: %v\n%s", err, out)
		}
	})
}

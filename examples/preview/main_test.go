package main

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/fleetdeploy/fleetdeploy/deploy/plan"
	"github.com/fleetdeploy/fleetdeploy/deploy/plan/scenario"
)

// output is the output contract of the package documentation, declared
// here independently of plan.Schedule so that a renamed field fails the
// tests.
type output struct {
	MinimumHealthy  int          `json:"minimumHealthy"`
	MaxInFlight     int          `json:"maxInFlight"`
	Explanation     string       `json:"explanation"`
	Steps           []outputStep `json:"steps"`
	Status          string       `json:"status"`
	ErrorCode       string       `json:"errorCode"`
	Succeeded       int          `json:"succeeded"`
	Failed          int          `json:"failed"`
	NotAttempted    int          `json:"notAttempted"`
	PeakInFlight    int          `json:"peakInFlight"`
	LowestHealthy   int          `json:"lowestHealthy"`
	DurationSeconds float64      `json:"durationSeconds"`
	Zones           []struct {
		Zone      string  `json:"zone"`
		Start     float64 `json:"start"`
		End       float64 `json:"end"`
		BakeUntil float64 `json:"bakeUntil"`
	} `json:"zones"`
}

type outputStep struct {
	At        float64  `json:"at"`
	Start     []string `json:"start"`
	Succeeded []string `json:"succeeded"`
	Failed    []string `json:"failed"`
	Zone      string   `json:"zone"`
	Status    string   `json:"status"`
}

// result is one run of the program.
type result struct {
	code           int
	stdout, stderr string
}

func runWith(args []string, stdin string) result {
	var out, errOut bytes.Buffer
	code := run(args, strings.NewReader(stdin), &out, &errOut)
	return result{code, out.String(), errOut.String()}
}

// previewOK runs a scenario that must be valid and decodes its output.
func previewOK(t *testing.T, scenario string) output {
	t.Helper()
	r := runWith(nil, scenario)
	if r.code != 0 || r.stderr != "" {
		t.Fatalf("exit %d, stderr:\n%s\nscenario: %s", r.code, r.stderr, scenario)
	}
	var o output
	if err := json.Unmarshal([]byte(r.stdout), &o); err != nil {
		t.Fatalf("output is not the contract's JSON: %v\n%s", err, r.stdout)
	}
	return o
}

// fleet returns n targets i-1 … i-n, Healthy with revision Old.
func fleet(n int) string {
	ts := make([]string, n)
	for i := range ts {
		ts[i] = fmt.Sprintf(`{"id": "i-%d", "instanceHealth": "Healthy", "revisionHealth": "Old"}`, i+1)
	}
	return "[" + strings.Join(ts, ", ") + "]"
}

func quote(ids []string) string {
	b, _ := json.Marshal(ids)
	return string(b)
}

// checkInvariants checks what holds for every in-place preview: the
// counts add up, nothing goes over the bound or under the minimum, and
// time moves forward.
func checkInvariants(t *testing.T, o output, n int) {
	t.Helper()
	if got := o.Succeeded + o.Failed + o.NotAttempted; got != n {
		t.Errorf("succeeded %d + failed %d + notAttempted %d = %d, want %d targets", o.Succeeded, o.Failed, o.NotAttempted, got, n)
	}
	if o.PeakInFlight > o.MaxInFlight {
		t.Errorf("peakInFlight %d > maxInFlight %d", o.PeakInFlight, o.MaxInFlight)
	}
	if o.ErrorCode != "HEALTH_CONSTRAINTS_INVALID" && o.LowestHealthy < o.MinimumHealthy {
		t.Errorf("lowestHealthy %d < minimumHealthy %d", o.LowestHealthy, o.MinimumHealthy)
	}
	succeeded, failed := 0, 0
	for k, st := range o.Steps {
		if k > 0 && st.At <= o.Steps[k-1].At {
			t.Errorf("steps[%d].at = %v, not after steps[%d].at = %v", k, st.At, k-1, o.Steps[k-1].At)
		}
		if st.Start == nil || st.Succeeded == nil || st.Failed == nil {
			t.Errorf("steps[%d] has a null list; want [] for none", k)
		}
		succeeded += len(st.Succeeded)
		failed += len(st.Failed)
	}
	if succeeded != o.Succeeded || failed != o.Failed {
		t.Errorf("steps list %d succeeded and %d failed; the totals say %d and %d", succeeded, failed, o.Succeeded, o.Failed)
	}
	if len(o.Steps) > 0 && o.DurationSeconds != o.Steps[len(o.Steps)-1].At {
		t.Errorf("durationSeconds %v, want the last step's at %v", o.DurationSeconds, o.Steps[len(o.Steps)-1].At)
	}
}

// subsets calls f with every subset of i-1 … i-n.
func subsets(n int, f func(fail []string)) {
	for mask := range 1 << n {
		fail := []string{}
		for i := range n {
			if mask&(1<<i) != 0 {
				fail = append(fail, fmt.Sprintf("i-%d", i+1))
			}
		}
		f(fail)
	}
}

// The nine-target examples of the API Reference's MinimumHealthyHosts
// (HOST_COUNT 6, FLEET_PERCENT 40) and of the User Guide's "Working with
// deployment configurations in CodeDeploy" (HalfAtATime): over every failure
// set of a nine-target fleet the deployment succeeds iff at least M targets
// succeed; when it fails it is for HEALTH_CONSTRAINTS.
func TestSuccessRuleOverEveryFailureSet(t *testing.T) {
	cases := []struct {
		name       string
		config     string
		m, w, need int
	}{
		{"HOST_COUNT 6", `{"deploymentConfigName": "SixOfNine", "minimumHealthyHosts": {"type": "HOST_COUNT", "value": 6}}`, 6, 3, 6},
		{"FLEET_PERCENT 40", `{"deploymentConfigName": "FortyPercent", "computePlatform": "Server", "minimumHealthyHosts": {"type": "FLEET_PERCENT", "value": 40}}`, 4, 5, 4},
		{"HalfAtATime", `"CodeDeployDefault.HalfAtATime"`, 5, 4, 5},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			subsets(9, func(fail []string) {
				o := previewOK(t, fmt.Sprintf(`{"config": %s, "targets": %s, "failures": %s}`, c.config, fleet(9), quote(fail)))
				if o.MinimumHealthy != c.m || o.MaxInFlight != c.w {
					t.Fatalf("minimumHealthy %d, maxInFlight %d; want %d, %d", o.MinimumHealthy, o.MaxInFlight, c.m, c.w)
				}
				checkInvariants(t, o, 9)
				want := "Failed"
				if o.Succeeded >= c.need {
					want = "Succeeded"
				}
				if o.Status != want {
					t.Errorf("failures %v: status %s with %d succeeded; want %s (at least %d must succeed)", fail, o.Status, o.Succeeded, want, c.need)
				}
				if wantCode := map[string]string{"Succeeded": "", "Failed": "HEALTH_CONSTRAINTS"}[want]; o.ErrorCode != wantCode {
					t.Errorf("failures %v: errorCode %q, want %q", fail, o.ErrorCode, wantCode)
				}
			})
		})
	}
}

// API Reference, MinimumHealthyHosts: N=9, FLEET_PERCENT 40 gives M=4
// (ceil 3.6), W=5, and every target succeeding succeeds.
func TestNineTargetsFleetPercent40(t *testing.T) {
	o := previewOK(t, `{"config": {"deploymentConfigName": "FortyPercent", "computePlatform": "Server",
		"minimumHealthyHosts": {"type": "FLEET_PERCENT", "value": 40}}, "targets": `+fleet(9)+`}`)
	if o.MinimumHealthy != 4 || o.MaxInFlight != 5 || o.Status != "Succeeded" || o.ErrorCode != "" || o.Succeeded != 9 {
		t.Errorf("got minimumHealthy %d maxInFlight %d status %s %q succeeded %d; want 4 5 Succeeded \"\" 9",
			o.MinimumHealthy, o.MaxInFlight, o.Status, o.ErrorCode, o.Succeeded)
	}
	// W=5 targets go first, by ID (fleetdeploy's order inside a class), the
	// other four when they are done.
	if got := o.Steps[0].Start; !slices.Equal(got, []string{"i-1", "i-2", "i-3", "i-4", "i-5"}) {
		t.Errorf("first start %v, want i-1 … i-5", got)
	}
	if o.PeakInFlight != 5 || o.LowestHealthy != 4 || o.DurationSeconds != 120 {
		t.Errorf("peakInFlight %d lowestHealthy %d durationSeconds %v; want 5, 4, 120", o.PeakInFlight, o.LowestHealthy, o.DurationSeconds)
	}
}

// HalfAtATime over nine targets ("Working with deployment configurations in
// CodeDeploy"), worked by hand under the rule of package deploy/plan (M=5,
// W=4, every target 60 s).
func TestNineTargetsHalfAtATime(t *testing.T) {
	cases := []struct {
		name                            string
		fail                            []string
		status, code                    string
		succeeded, failed, notAttempted int
		lastAt                          float64
	}{
		{"no failure", nil, "Succeeded", "", 9, 0, 0, 180},
		// i-1…i-4 succeed at 60; i-5…i-8 run; i-6…i-8 fail at 120, i-5
		// succeeds, leaving 6 healthy, so i-9 may go; it fails: 5 succeeded.
		{"exactly five succeed", []string{"i-6", "i-7", "i-8", "i-9"}, "Succeeded", "", 5, 4, 0, 180},
		// i-5…i-8 all fail: 5 healthy, i-9 may not go, nothing in flight.
		{"four succeed", []string{"i-5", "i-6", "i-7", "i-8"}, "Failed", "HEALTH_CONSTRAINTS", 4, 4, 1, 120},
		{"first batch fails", []string{"i-1", "i-2", "i-3", "i-4"}, "Failed", "HEALTH_CONSTRAINTS", 0, 4, 5, 60},
		{"last target fails", []string{"i-9"}, "Succeeded", "", 8, 1, 0, 180},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			o := previewOK(t, fmt.Sprintf(`{"config": "CodeDeployDefault.HalfAtATime", "targets": %s, "failures": %s}`, fleet(9), quote(c.fail)))
			checkInvariants(t, o, 9)
			if o.MinimumHealthy != 5 || o.MaxInFlight != 4 {
				t.Errorf("minimumHealthy %d maxInFlight %d, want 5, 4", o.MinimumHealthy, o.MaxInFlight)
			}
			if o.Status != c.status || o.ErrorCode != c.code || o.Succeeded != c.succeeded || o.Failed != c.failed ||
				o.NotAttempted != c.notAttempted || o.DurationSeconds != c.lastAt {
				t.Errorf("got %s %q %d/%d/%d at %v; want %s %q %d/%d/%d at %v", o.Status, o.ErrorCode, o.Succeeded, o.Failed,
					o.NotAttempted, o.DurationSeconds, c.status, c.code, c.succeeded, c.failed, c.notAttempted, c.lastAt)
			}
		})
	}
}

// User Guide, "CodeDeploy instance health": N=10, FLEET_PERCENT 95 needs all
// 10 healthy, so the deployment fails at once with
// HEALTH_CONSTRAINTS_INVALID and touches nothing. That is a preview, not a
// bad scenario: exit 0.
func TestFleetPercent95NothingStarts(t *testing.T) {
	o := previewOK(t, `{"config": {"deploymentConfigName": "NinetyFive", "minimumHealthyHosts": {"type": "FLEET_PERCENT", "value": 95}},
		"targets": `+fleet(10)+`}`)
	if o.MinimumHealthy != 10 || o.Status != "Failed" || o.ErrorCode != "HEALTH_CONSTRAINTS_INVALID" {
		t.Errorf("minimumHealthy %d status %s %q; want 10 Failed HEALTH_CONSTRAINTS_INVALID", o.MinimumHealthy, o.Status, o.ErrorCode)
	}
	for k, st := range o.Steps {
		if len(st.Start) > 0 {
			t.Errorf("steps[%d] starts %v; nothing may start", k, st.Start)
		}
	}
	if o.Succeeded != 0 || o.Failed != 0 || o.NotAttempted != 10 || o.PeakInFlight != 0 || o.LowestHealthy != 10 || o.DurationSeconds != 0 {
		t.Errorf("got %d/%d/%d peak %d lowest %d after %vs; want 0/0/10 peak 0 lowest 10 after 0s",
			o.Succeeded, o.Failed, o.NotAttempted, o.PeakInFlight, o.LowestHealthy, o.DurationSeconds)
	}
}

// "CodeDeploy instance health": Unhealthy first, then revision Unknown, Old,
// Current; by ID inside a class (fleetdeploy's order); an Unhealthy target
// does not lower the healthy count, so W=4 targets start while 5 stay
// healthy.
func TestHealthOrder(t *testing.T) {
	data, err := os.ReadFile("testdata/halfatatime.json")
	if err != nil {
		t.Fatal(err)
	}
	o := previewOK(t, string(data))
	checkInvariants(t, o, 9)
	if got, want := o.Steps[0].Start, []string{"i-6", "i-7", "i-1", "i-2"}; !slices.Equal(got, want) {
		t.Errorf("first start %v, want %v", got, want)
	}
	var order []string
	for _, st := range o.Steps {
		order = append(order, st.Start...)
	}
	if want := []string{"i-6", "i-7", "i-1", "i-2", "i-3", "i-8", "i-9", "i-4", "i-5"}; !slices.Equal(order, want) {
		t.Errorf("start order %v, want %v", order, want)
	}
	if o.Status != "Succeeded" || o.Failed != 1 || o.LowestHealthy != 5 {
		t.Errorf("status %s failed %d lowestHealthy %d; want Succeeded 1 5", o.Status, o.Failed, o.LowestHealthy)
	}
	// i-2 takes 30 s, so i-3 starts at 30 s; i-6 takes 90 s.
	if o.Steps[1].At != 30 || !slices.Equal(o.Steps[1].Start, []string{"i-3"}) || !slices.Equal(o.Steps[1].Succeeded, []string{"i-2"}) {
		t.Errorf("steps[1] = %+v, want at 30 i-2 succeeded, i-3 started", o.Steps[1])
	}
}

// Zones one at a time (see "Zonal deployments" in package deploy/plan);
// after the first zone the deployment waits
// firstZoneMonitorDurationInSeconds (Baking), after later zones
// monitorDurationInSeconds; the next zone starts when the wait ends.
func TestZonalMonitorWaits(t *testing.T) {
	data, err := os.ReadFile("testdata/zonal.json")
	if err != nil {
		t.Fatal(err)
	}
	o := previewOK(t, string(data))
	checkInvariants(t, o, 9)
	if len(o.Zones) != 3 {
		t.Fatalf("zones %+v, want 3", o.Zones)
	}
	for k, want := range []float64{120, 60} {
		z, next := o.Zones[k], o.Zones[k+1]
		if z.BakeUntil-z.End != want {
			t.Errorf("zone %s: monitor wait %v s (end %v, bakeUntil %v), want %v", z.Zone, z.BakeUntil-z.End, z.End, z.BakeUntil, want)
		}
		if next.Start != z.BakeUntil {
			t.Errorf("zone %s starts at %v, want at the end of %s's wait %v", next.Zone, next.Start, z.Zone, z.BakeUntil)
		}
		baking := false
		for _, st := range o.Steps {
			if st.At == z.End && st.Status == "Baking" && st.Zone == z.Zone {
				baking = true
			}
			if st.At > z.End && st.At < z.BakeUntil {
				t.Errorf("step at %v during %s's monitor wait (%v to %v)", st.At, z.Zone, z.End, z.BakeUntil)
			}
		}
		if !baking {
			t.Errorf("no Baking step when zone %s ends at %v", z.Zone, z.End)
		}
	}
	for _, st := range o.Steps {
		for _, id := range st.Start {
			if zone := "us-east-1" + id[2:3]; st.Zone != zone {
				t.Errorf("%s (zone %s) started at %v in zone %s", id, zone, st.At, st.Zone)
			}
		}
	}
	// Per-zone minimum HOST_COUNT 1 of 3: two at a time inside a zone.
	if o.PeakInFlight != 2 {
		t.Errorf("peakInFlight %d, want 2", o.PeakInFlight)
	}
}

// The output's field names and order are the contract's.
func TestOutputFieldNames(t *testing.T) {
	r := runWith([]string{"testdata/halfatatime.json"}, "")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal([]byte(r.stdout), &top); err != nil {
		t.Fatal(err)
	}
	contract := []string{"minimumHealthy", "maxInFlight", "explanation", "steps", "status", "errorCode",
		"succeeded", "failed", "notAttempted", "peakInFlight", "lowestHealthy", "durationSeconds"}
	last := -1
	for _, f := range contract {
		if _, ok := top[f]; !ok {
			t.Errorf("output has no field %q", f)
			continue
		}
		at := strings.Index(r.stdout, "\n  \""+f+"\": ")
		if at < last {
			t.Errorf("field %q is out of the contract's order", f)
		}
		last = at
	}
	var steps []map[string]json.RawMessage
	if err := json.Unmarshal(top["steps"], &steps); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"at", "start", "succeeded", "failed"} {
		if _, ok := steps[0][f]; !ok {
			t.Errorf("steps[0] has no field %q", f)
		}
	}
	if string(steps[0]["succeeded"]) != "[]" {
		t.Errorf(`steps[0].succeeded = %s, want []`, steps[0]["succeeded"])
	}
	if !strings.Contains(r.stdout, "\n    {\"at\": 0, \"start\": [\"i-6\", \"i-7\", \"i-1\", \"i-2\"], \"succeeded\": [], \"failed\": [], ") {
		t.Errorf("steps are not one per line:\n%s", r.stdout)
	}
}

// The JSON printed is exactly the schedule, only laid out differently.
func TestJSONIsTheSchedule(t *testing.T) {
	f, err := os.Open("testdata/zonal.json")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	s, err := scenario.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	in, err := s.PreviewInput()
	if err != nil {
		t.Fatal(err)
	}
	sched, err := plan.Preview(in)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := json.Marshal(sched)
	r := runWith([]string{"testdata/zonal.json"}, "")
	var got bytes.Buffer
	if err := json.Compact(&got, []byte(r.stdout)); err != nil {
		t.Fatalf("output is not JSON: %v", err)
	}
	if got.String() != string(want) {
		t.Errorf("output differs from the schedule:\n got %s\nwant %s", got.String(), want)
	}
}

func TestIndentShallow(t *testing.T) {
	in := `{"a":"x{\"y\":[1],","b":[{"c":[],"d":{}},{"e":"\\"}],"f":{},"g":[]}`
	want := `{
  "a": "x{\"y\":[1],",
  "b": [
    {"c": [], "d": {}},
    {"e": "\\"}
  ],
  "f": {},
  "g": []
}
`
	if got := string(indentShallow([]byte(in), 2)); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

// -text prints a row per step whose HEALTHY column goes down to
// lowestHealthy and ends with nothing in flight.
func TestText(t *testing.T) {
	gap := regexp.MustCompile(` {2,}`) // between cells; "-" stands for an empty list
	subsets(5, func(fail []string) {
		scenario := fmt.Sprintf(`{"config": "CodeDeployDefault.HalfAtATime", "targets": %s, "failures": %s}`, fleet(5), quote(fail))
		o := previewOK(t, scenario)
		r := runWith([]string{"-text"}, scenario)
		if r.code != 0 {
			t.Fatalf("exit %d: %s", r.code, r.stderr)
		}
		lines := strings.Split(r.stdout, "\n")
		header := slices.IndexFunc(lines, func(l string) bool { return strings.HasPrefix(l, "TIME") })
		if header < 0 {
			t.Fatalf("no table:\n%s", r.stdout)
		}
		lowest, inFlight := 1<<30, ""
		for _, row := range lines[header+1 : header+1+len(o.Steps)] {
			cells := gap.Split(row, -1)
			h, err := strconv.Atoi(cells[3])
			if err != nil {
				t.Fatalf("HEALTHY cell %q in row %q", cells[3], row)
			}
			lowest, inFlight = min(lowest, h), cells[4]
		}
		if lowest != o.LowestHealthy || inFlight != "0" {
			t.Errorf("failures %v: table's lowest healthy %d and last in flight %s; want %d and 0\n%s", fail, lowest, inFlight, o.LowestHealthy, r.stdout)
		}
		if want := fmt.Sprintf("result: %s", o.Status); !strings.Contains(r.stdout, want) {
			t.Errorf("no %q in\n%s", want, r.stdout)
		}
	})
}

// Every sample scenario previews in both formats.
func TestSamples(t *testing.T) {
	files, err := filepath.Glob("testdata/*.json")
	if err != nil || len(files) < 3 {
		t.Fatalf("samples %v, %v", files, err)
	}
	for _, f := range files {
		for _, args := range [][]string{{f}, {"-text", f}} {
			if r := runWith(args, ""); r.code != 0 || r.stderr != "" || r.stdout == "" {
				t.Errorf("preview %v: exit %d, stderr %s", args, r.code, r.stderr)
			}
		}
	}
	data, err := os.ReadFile("testdata/lambda-canary.json")
	if err != nil {
		t.Fatal(err)
	}
	// A canary: 10% at 0, 100% at the interval (5 minutes).
	r := runWith([]string{"-"}, string(data))
	for _, want := range []string{`"trafficWeight": 10`, `{"at": 300, "start": [], "succeeded": [], "failed": [], "phase": "AllowTraffic", "status": "InProgress", "event": "AllowTraffic", "trafficWeight": 100, "inFlight": 0, "healthy": 0, "minimum": 0}`, `"status": "Succeeded"`} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("lambda preview has no %s:\n%s", want, r.stdout)
		}
	}
}

// A bad scenario exits 2 and prints every problem, one line each, and
// nothing on stdout.
func TestBadScenarios(t *testing.T) {
	target := func(id, ih, rh string) string {
		return fmt.Sprintf(`{"id": %q, "instanceHealth": %q, "revisionHealth": %q}`, id, ih, rh)
	}
	cases := []struct {
		name     string
		args     []string
		scenario string
		code     int
		want     []string // each the start of one stderr line, in order
	}{
		{"unknown config name", nil, `{"config": "CodeDeployDefault.Quick", "targets": ` + fleet(2) + `}`, 2, []string{
			`preview: config: unknown deployment configuration "CodeDeployDefault.Quick"`}},
		{"FLEET_PERCENT 100 (CodeDeploy quotas)", nil, `{"config": {"deploymentConfigName": "All", "minimumHealthyHosts": {"type": "FLEET_PERCENT", "value": 100}}, "targets": ` + fleet(2) + `}`, 2, []string{
			`preview: config.minimumHealthyHosts.value: FLEET_PERCENT must be 0 or more and less than 100; got 100`}},
		{"every rule of a custom config", nil, `{"config": {"deploymentConfigName": "", "minimumHealthyHosts": {"type": "MOST_CONCURRENCY", "value": 1},
			"zonalConfig": {"monitorDurationInSeconds": -1}}}`, 2, []string{
			`preview: config.deploymentConfigName: is required`,
			`preview: config.minimumHealthyHosts.type: MOST_CONCURRENCY is reserved`,
			`preview: config.zonalConfig.monitorDurationInSeconds: must be 0 or more seconds; got -1`}},
		{"duplicate target IDs", nil, `{"targets": [` + target("i-1", "Healthy", "Old") + `, ` + target("i-2", "Healthy", "Old") + `, ` + target("i-1", "Healthy", "Old") + `]}`, 2, []string{
			`preview: targets[2].id: "i-1" is also targets[0].id; target IDs must be unique`}},
		{"unknown and missing health values", nil, `{"targets": [` + target("i-1", "healthy", "Stale") + `, {"id": "i-2"}]}`, 2, []string{
			`preview: targets[0].instanceHealth: must be Healthy or Unhealthy; got "healthy"`,
			`preview: targets[0].revisionHealth: must be Current, Old or Unknown; got "Stale"`,
			`preview: targets[1].instanceHealth: is required: Healthy or Unhealthy`,
			`preview: targets[1].revisionHealth: is required: Current, Old or Unknown`}},
		{"unknown target IDs and negative durations", nil, `{"targets": ` + fleet(2) + `, "failures": ["i-3", "i-1"], "durations": {"i-9": 5, "i-2": -1}}`, 2, []string{
			`preview: failures[0]: "i-3" is not the id of a target`,
			`preview: durations["i-2"]: must be 0 to 31536000 seconds; got -1`,
			`preview: durations["i-9"]: "i-9" is not the id of a target`}},
		{"unknown fields, with the others still checked", nil, `{"config": {"deploymentConfigName": "X", "minimumHealthyHosts": {"type": "HOST_COUNT", "value": 1, "unit": "hosts"}},
			"Targets": [], "targets": [{"id": "i-1", "instanceHealth": "Healthy", "revisionHealth": "Old", "az": "a"}], "failures": ["i-2"]}`, 2, []string{
			`preview: scenario: unknown field "Targets" (did you mean "targets"?); known fields: config, deploymentType,`,
			`preview: config.minimumHealthyHosts: unknown field "unit"; known fields: type, value`,
			`preview: targets[0]: unknown field "az"; known fields: id, instanceHealth, label, revisionHealth, zone`,
			`preview: failures[0]: "i-2" is not the id of a target`}},
		{"wrong JSON types", nil, `{"config": 3, "rollback": "yes", "targets": [{"id": 1, "instanceHealth": "Healthy", "revisionHealth": "Old"}], "durations": {"i-1": "60"}}`, 2, []string{
			`preview: config: must be a configuration name (a string) or a custom configuration (an object); got the number 3`,
			`preview: durations["i-1"]: must be a number; got the string "60"`,
			`preview: rollback: must be true or false; got the string "yes"`,
			`preview: targets[0].id: must be a string; got the number 1`}},
		{"malformed JSON", []string{"-"}, "{\n  \"config\": \"CodeDeployDefault.HalfAtATime\",\n  \"targets\": [,]\n}", 2, []string{
			`preview: <stdin>:3:15: malformed JSON: invalid character ','`}},
		{"truncated JSON", nil, "{\n  \"targets\": [\n", 2, []string{
			`preview: <stdin>:3:1: malformed JSON: the document ends before the scenario's JSON object does`}},
		{"trailing data", nil, `{} {}`, 2, []string{`preview: <stdin>:1:4: unexpected data after the scenario's JSON object`}},
		{"not an object", nil, `["i-1"]`, 2, []string{`preview: <stdin>: the scenario must be a JSON object; got an array`}},
		{"empty", nil, " \n", 2, []string{`preview: <stdin>: the scenario is empty; want a JSON object`}},
		{"targets for Lambda", nil, `{"config": "CodeDeployDefault.LambdaAllAtOnce", "deploymentType": "IN_PLACE", "targets": ` + fleet(1) + `, "failSteps": ["Deploy"]}`, 2, []string{
			`preview: deploymentType: Lambda deployments are always BLUE_GREEN; got "IN_PLACE"`,
			`preview: targets: must be empty for Lambda configurations, whose traffic shifts are deployment-wide; got 1`,
			`preview: failSteps[0]: must be a step of this deployment: BeforeAllowTraffic, AllowTraffic or AfterAllowTraffic; got "Deploy"`}},
		{"zonal without zones", nil, `{"config": {"deploymentConfigName": "Z", "minimumHealthyHosts": {"type": "HOST_COUNT", "value": 0}, "zonalConfig": {}}, "targets": ` + fleet(1) + `}`, 2, []string{
			`preview: targets[0].zone: is required: configuration "Z" is zonal`}},
		{"blue/green labels and steps", nil, `{"config": "CodeDeployDefault.AllAtOnce", "deploymentType": "BLUE_GREEN", "targets": ` + fleet(1) + `, "failReroute": ["i-1"], "failSteps": ["Install"]}`, 2, []string{
			`preview: targets[0].label: is required: Blue or Green`,
			`preview: failReroute[0]: "i-1" is not a Green target`,
			`preview: failSteps[0]: this deployment has no steps (hooks, reserved events, traffic shifts) to fail; got "Install"`}},
		{"two files", []string{"a.json", "b.json"}, ``, 2, []string{`preview: at most one scenario file; got 2 arguments`}},
		{"unknown flag", []string{"-json"}, ``, 2, []string{`flag provided but not defined: -json`}},
		{"missing file", []string{"testdata/missing.json"}, ``, 1, []string{`preview: open testdata/missing.json: `}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := runWith(c.args, c.scenario)
			if r.code != c.code {
				t.Errorf("exit %d, want %d", r.code, c.code)
			}
			if r.stdout != "" {
				t.Errorf("stdout %q, want nothing", r.stdout)
			}
			if strings.Contains(r.stderr, "goroutine ") || strings.Contains(r.stderr, "panic") {
				t.Fatalf("stack trace:\n%s", r.stderr)
			}
			lines := strings.Split(strings.TrimSuffix(r.stderr, "\n"), "\n")
			if c.code == 2 && c.args == nil && len(lines) != len(c.want) {
				t.Errorf("%d problem lines, want %d:\n%s", len(lines), len(c.want), r.stderr)
			}
			k := 0
			for _, l := range lines {
				if k < len(c.want) && strings.HasPrefix(l, c.want[k]) {
					k++
				}
			}
			if k < len(c.want) {
				t.Errorf("no line starting %q in stderr:\n%s", c.want[k], r.stderr)
			}
		})
	}
}

// The scenario comes from stdin with no argument or "-", from a file
// otherwise; -h is not an error.
func TestInputs(t *testing.T) {
	data, err := os.ReadFile("testdata/halfatatime.json")
	if err != nil {
		t.Fatal(err)
	}
	fromFile := runWith([]string{"testdata/halfatatime.json"}, "")
	for _, args := range [][]string{nil, {"-"}} {
		if r := runWith(args, string(data)); r != fromFile || r.code != 0 {
			t.Errorf("preview %v from stdin differs from the file's preview: exit %d, %s", args, r.code, r.stderr)
		}
	}
	if r := runWith([]string{"-h"}, ""); r.code != 0 || !strings.HasPrefix(r.stderr, "usage: preview") {
		t.Errorf("-h: exit %d, stderr %q", r.code, r.stderr)
	}
}

// -svg draws the picture into the file named and still prints the
// preview; a picture that cannot be written is exit 1.
func TestSVG(t *testing.T) {
	out := filepath.Join(t.TempDir(), "zonal.svg")
	r := runWith([]string{"-svg", out, "testdata/zonal.json"}, "")
	if r.code != 0 || r.stderr != "" || !strings.HasPrefix(r.stdout, "{") {
		t.Fatalf("exit %d, stderr %q, stdout %.40q", r.code, r.stderr, r.stdout)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	dec := xml.NewDecoder(bytes.NewReader(data))
	lanes := 0
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("the picture is not XML: %v", err)
		}
		if e, ok := tok.(xml.StartElement); ok && e.Name.Local == "g" && slices.ContainsFunc(e.Attr, func(a xml.Attr) bool { return a.Name.Local == "data-target" }) {
			lanes++
		}
	}
	if lanes != 9 {
		t.Errorf("%d target lanes in the picture, want the scenario's 9", lanes)
	}
	r = runWith([]string{"-svg", filepath.Join(t.TempDir(), "missing", "x.svg"), "testdata/zonal.json"}, "")
	if r.code != 1 || !strings.HasPrefix(r.stderr, "preview: writing the picture") {
		t.Errorf("unwritable picture: exit %d, stderr %q", r.code, r.stderr)
	}
}

// The table is the default on a terminal (a character device), JSON
// otherwise.
func TestTextOnTerminal(t *testing.T) {
	tty, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0) // a character device, as a terminal is
	if err != nil {
		t.Fatal(err)
	}
	defer tty.Close()
	if !isTerminal(tty) {
		t.Errorf("%s is a character device; isTerminal says no", os.DevNull)
	}
	file, err := os.Create(filepath.Join(t.TempDir(), "out"))
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()
	if isTerminal(file) || isTerminal(&bytes.Buffer{}) {
		t.Error("a regular file or a buffer is not a terminal")
	}
	if code := run([]string{"testdata/halfatatime.json"}, strings.NewReader(""), file, io.Discard); code != 0 {
		t.Fatalf("exit %d", code)
	}
	data, _ := os.ReadFile(file.Name())
	if !json.Valid(data) {
		t.Errorf("to a file the output is not JSON:\n%s", data)
	}
}

// The zonal table shows each zone's healthy count against its own
// minimum; its lowest in each zone is the zone's lowestHealthy.
func TestTextZoneHealthy(t *testing.T) {
	data, err := os.ReadFile("testdata/zonal.json")
	if err != nil {
		t.Fatal(err)
	}
	o := previewOK(t, string(data))
	r := runWith([]string{"-text"}, string(data))
	gap := regexp.MustCompile(` {2,}`)
	lowest := map[string]int{}
	rows := 0
	for _, l := range strings.Split(r.stdout, "\n") {
		cells := gap.Split(l, -1)
		if len(cells) < 5 || !strings.Contains(cells[4], "(min ") {
			continue
		}
		rows++
		var h, m int
		if _, err := fmt.Sscanf(cells[4], "%d (min %d)", &h, &m); err != nil {
			t.Fatalf("ZONE HEALTHY cell %q: %v", cells[4], err)
		}
		if v, ok := lowest[cells[3]]; !ok || h < v {
			lowest[cells[3]] = h
		}
	}
	if rows != len(o.Steps) || len(lowest) != len(o.Zones) {
		t.Fatalf("%d rows over %d zones with a ZONE HEALTHY cell; want %d steps over %d zones:\n%s", rows, len(lowest), len(o.Steps), len(o.Zones), r.stdout)
	}
	var zones struct {
		Zones []struct {
			Zone          string `json:"zone"`
			LowestHealthy int    `json:"lowestHealthy"`
		} `json:"zones"`
	}
	if err := json.Unmarshal([]byte(runWith(nil, string(data)).stdout), &zones); err != nil {
		t.Fatal(err)
	}
	for _, z := range zones.Zones {
		if lowest[z.Zone] != z.LowestHealthy {
			t.Errorf("zone %s: lowest ZONE HEALTHY %d in the table, lowestHealthy %d in the schedule", z.Zone, lowest[z.Zone], z.LowestHealthy)
		}
	}
}

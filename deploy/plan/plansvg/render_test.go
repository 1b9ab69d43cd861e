package plansvg_test

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/fleetdeploy/fleetdeploy/deploy/plan"
	"github.com/fleetdeploy/fleetdeploy/deploy/plan/plansvg"
	"github.com/fleetdeploy/fleetdeploy/deploy/plan/scenario"
)

// preview plans a scenario document.
func preview(t testing.TB, doc string) (plan.Input, plan.Schedule) {
	t.Helper()
	s, err := scenario.Decode(strings.NewReader(doc))
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
	return in.Input, sched
}

func sample(t testing.TB, name string) (plan.Input, plan.Schedule) {
	t.Helper()
	data, err := os.ReadFile("../../../examples/preview/testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return preview(t, string(data))
}

// fleet is targets i-1 … i-n, Healthy with revision Old, spread over zones
// z-a, z-b, … when zones > 0.
func fleet(n, zones int) string {
	ts := make([]string, n)
	for i := range ts {
		zone := ""
		if zones > 0 {
			zone = fmt.Sprintf(`"zone": "z-%c", `, 'a'+i%zones)
		}
		ts[i] = fmt.Sprintf(`{"id": "i-%d", %s"instanceHealth": "Healthy", "revisionHealth": "Old"}`, i+1, zone)
	}
	return "[" + strings.Join(ts, ", ") + "]"
}

// Picture is what a rendered SVG says, read back from its data-
// attributes.
type picture struct {
	lanes     []lane // in drawing order
	summaries []map[string]string
	waits     [][3]string // status, start, end
	fails     map[string][]string
	healthy   map[string]string
	shifts    [][2]string // at, weight
	elements  int
}

type lane struct {
	id, group string
	index     int
	wave      int
	bars      []map[string]string
}

func attrs(e xml.StartElement) map[string]string {
	m := map[string]string{}
	for _, a := range e.Attr {
		m[a.Name.Local] = a.Value
	}
	return m
}

// read parses the SVG with encoding/xml and collects its marks.
func read(t *testing.T, svg []byte) picture {
	t.Helper()
	p := picture{fails: map[string][]string{}}
	dec := xml.NewDecoder(bytes.NewReader(svg))
	var cur *lane
	var sum map[string]string
	depth := 0
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("the SVG is not XML: %v", err)
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			depth++
			p.elements++
			if depth == 1 && (tok.Name.Local != "svg" || tok.Name.Space != "http://www.w3.org/2000/svg") {
				t.Fatalf("root element %v, want svg in the SVG namespace", tok.Name)
			}
			a := attrs(tok)
			switch {
			case tok.Name.Local == "g" && a["data-target"] != "":
				wave, _ := strconv.Atoi(a["data-wave"])
				index, err := strconv.Atoi(a["data-index"])
				if err != nil {
					t.Fatalf("lane %q: data-index %q", a["data-target"], a["data-index"])
				}
				p.lanes = append(p.lanes, lane{id: a["data-target"], group: a["data-group"], wave: wave, index: index})
				cur = &p.lanes[len(p.lanes)-1]
			case tok.Name.Local == "g" && a["data-lane"] == "summary":
				sum = a
				p.summaries = append(p.summaries, a)
			case tok.Name.Local == "rect" && a["data-wait"] != "":
				p.waits = append(p.waits, [3]string{a["data-wait"], a["data-start"], a["data-end"]})
			case tok.Name.Local == "rect" && a["data-status"] != "":
				switch {
				case cur != nil:
					cur.bars = append(cur.bars, a)
				case sum != nil:
					sum["bar"] = a["data-status"]
				default:
					t.Errorf("a bar outside any lane: %v", a)
				}
			case tok.Name.Local == "path" && a["data-failed"] != "":
				p.fails[a["data-failed"]] = append(p.fails[a["data-failed"]], a["data-at"])
			case tok.Name.Local == "polyline" && a["data-series"] == "healthy":
				p.healthy = a
			case tok.Name.Local == "text" && a["data-weight"] != "":
				p.shifts = append(p.shifts, [2]string{a["data-at"], a["data-weight"]})
			}
		case xml.EndElement:
			depth--
			if tok.Name.Local == "g" {
				cur, sum = nil, nil
			}
		}
	}
	return p
}

func render(t *testing.T, in plan.Input, s plan.Schedule, opts ...func(*plansvg.Options)) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := plansvg.Render(&b, in, s, opts...); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func secs(s plan.Seconds) string { return strconv.FormatFloat(float64(s), 'f', -1, 64) }

// checkLanes checks each lane's bars against the schedule's steps: one bar
// per start of the target, from a step that starts it to the next step
// that finishes it, with that step's outcome, and a failure mark at each
// failure.
func checkLanes(t *testing.T, in plan.Input, s plan.Schedule, p picture) {
	t.Helper()
	if len(p.lanes) != len(in.Targets) {
		t.Fatalf("%d lanes, want one per target (%d)", len(p.lanes), len(in.Targets))
	}
	seen := map[int]bool{}
	for _, l := range p.lanes {
		if l.index < 0 || l.index >= len(in.Targets) || seen[l.index] {
			t.Fatalf("lane %q has data-index %d: not a target's index, or another lane's", l.id, l.index)
		}
		seen[l.index] = true
		id := in.Targets[l.index].ID
		var want []map[string]string
		var open map[string]string
		var failedAt []string
		for _, st := range s.Steps {
			for _, sid := range st.Start {
				if id == sid {
					open = map[string]string{"data-start": secs(st.At), "data-phase": string(st.Phase), "data-status": "InProgress", "data-end": secs(s.DurationSeconds)}
					want = append(want, open)
				}
			}
			for status, ids := range map[string][]string{"Succeeded": st.Succeeded, "Failed": st.Failed} {
				for _, sid := range ids {
					if id == sid && open != nil {
						open["data-status"], open["data-end"] = status, secs(st.At)
						open = nil
						if status == "Failed" {
							failedAt = append(failedAt, secs(st.At))
						}
					}
				}
			}
		}
		if len(l.bars) != len(want) {
			t.Errorf("lane %s: %d bars, want %d", l.id, len(l.bars), len(want))
			continue
		}
		for k, w := range want {
			for key, v := range w {
				if l.bars[k][key] != v {
					t.Errorf("lane %s bar %d: %s=%q, want %q", l.id, k, key, l.bars[k][key], v)
				}
			}
		}
		if fmt.Sprint(p.fails[id]) != fmt.Sprint(failedAt) {
			t.Errorf("lane %s: failure marks at %v, want %v", l.id, p.fails[id], failedAt)
		}
	}
}

// checkHealthy checks the healthy line against the schedule's counts.
func checkHealthy(t *testing.T, s plan.Schedule, p picture) {
	t.Helper()
	if p.healthy["data-lowest"] != strconv.Itoa(s.LowestHealthy) || p.healthy["data-minimum"] != strconv.Itoa(s.MinimumHealthy) {
		t.Errorf("healthy line says lowest %s, minimum %s; the schedule %d and %d", p.healthy["data-lowest"], p.healthy["data-minimum"], s.LowestHealthy, s.MinimumHealthy)
	}
}

// HalfAtATime over nine targets with a failure: a lane per target in
// wave order, the failure marked, the healthy line's lowest the
// schedule's.
func TestLanesMatchTheSchedule(t *testing.T) {
	in, s := sample(t, "halfatatime.json")
	p := read(t, render(t, in, s))
	checkLanes(t, in, s, p)
	checkHealthy(t, s, p)
	if len(p.fails["i-3"]) != 1 {
		t.Errorf("i-3 fails in the scenario; marks %v", p.fails)
	}
	for k := 1; k < len(p.lanes); k++ {
		if w, prev := p.lanes[k].wave, p.lanes[k-1].wave; (w < prev && w != 0) || (prev == 0 && w != 0) {
			t.Errorf("lane %d (%s) is wave %d after wave %d: lanes must go in wave order, never-started last", k, p.lanes[k].id, w, prev)
		}
	}
	first := map[string]bool{}
	for _, id := range s.Steps[0].Start {
		first[id] = true
	}
	for _, l := range p.lanes {
		if first[l.id] != (l.wave == 1) {
			t.Errorf("lane %s is wave %d; started at 0: %v", l.id, l.wave, first[l.id])
		}
	}
}

// A zonal schedule: lanes grouped zone by zone in deployment order, each
// monitor wait shaded from the zone's last finish to its bake's end.
func TestZonesAndBakes(t *testing.T) {
	in, s := sample(t, "zonal.json")
	p := read(t, render(t, in, s))
	checkLanes(t, in, s, p)
	checkHealthy(t, s, p)
	var order []string
	for _, l := range p.lanes {
		if len(order) == 0 || order[len(order)-1] != l.group {
			order = append(order, l.group)
		}
	}
	var want []string
	for _, z := range s.Zones {
		want = append(want, z.Zone)
	}
	if fmt.Sprint(order) != fmt.Sprint(want) {
		t.Errorf("lane groups %v, want the zones in deployment order %v", order, want)
	}
	var bakes []string
	for _, z := range s.Zones {
		if z.BakeUntil > 0 {
			bakes = append(bakes, fmt.Sprint([3]string{"Baking", secs(z.End), secs(z.BakeUntil)}))
		}
	}
	var got []string
	for _, w := range p.waits {
		got = append(got, fmt.Sprint(w))
	}
	if len(bakes) < 2 || fmt.Sprint(got) != fmt.Sprint(bakes) {
		t.Errorf("waits %v, want the zones' monitor waits %v", got, bakes)
	}
}

// Blue/green: Blue lanes before Green ones; a Green target's install and
// reroute are two bars.
func TestBlueGreen(t *testing.T) {
	in, s := preview(t, `{"config": "CodeDeployDefault.OneAtATime", "deploymentType": "BLUE_GREEN", "targets": [
	  {"id": "g-1", "label": "Green", "instanceHealth": "Healthy", "revisionHealth": "Unknown"},
	  {"id": "b-1", "label": "Blue", "instanceHealth": "Healthy", "revisionHealth": "Old"},
	  {"id": "g-2", "label": "Green", "instanceHealth": "Healthy", "revisionHealth": "Unknown"}],
	  "failReroute": ["g-2"]}`)
	p := read(t, render(t, in, s))
	checkLanes(t, in, s, p)
	checkHealthy(t, s, p)
	if p.lanes[0].group != "Blue" || p.lanes[1].group != "Green" {
		t.Errorf("groups %q, %q first; want Blue then Green", p.lanes[0].group, p.lanes[1].group)
	}
	for _, l := range p.lanes {
		if l.id == "g-1" && len(l.bars) != 2 {
			t.Errorf("g-1 has %d bars, want its install and its reroute", len(l.bars))
		}
	}
}

// Lambda: no lanes, the traffic shifts labelled with their weights.
func TestTraffic(t *testing.T) {
	in, s := sample(t, "lambda-canary.json")
	p := read(t, render(t, in, s))
	if len(p.lanes)+len(p.summaries) != 0 || p.healthy != nil {
		t.Errorf("a Lambda deployment has no targets; got %d lanes, %d summaries, healthy line %v", len(p.lanes), len(p.summaries), p.healthy)
	}
	var want [][2]string
	for _, st := range s.Steps {
		if st.Event == plan.PhaseAllowTraffic {
			want = append(want, [2]string{secs(st.At), strconv.Itoa(st.TrafficWeight)})
		}
	}
	if len(want) != 2 || fmt.Sprint(p.shifts) != fmt.Sprint(want) {
		t.Errorf("shifts %v, want %v (a canary: 10%% then 100%%)", p.shifts, want)
	}
}

// 2,000 targets: summary lanes, bounded, accounting for every target and
// failure.
func TestLargeFleetIsSummarised(t *testing.T) {
	cases := []struct{ name, doc string }{
		{"one at a time", `{"config": "CodeDeployDefault.OneAtATime", "targets": ` + fleet(2000, 0) + `, "failures": ["i-7", "i-1500"]}`},
		{"zonal", `{"config": {"deploymentConfigName": "Z", "minimumHealthyHosts": {"type": "FLEET_PERCENT", "value": 90},
		  "zonalConfig": {"monitorDurationInSeconds": 600, "minimumHealthyHostsPerZone": {"type": "FLEET_PERCENT", "value": 80}}},
		  "targets": ` + fleet(2000, 3) + `, "failures": ["i-9"]}`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			in, s := preview(t, c.doc)
			svg := render(t, in, s)
			p := read(t, svg)
			if len(p.lanes) != 0 {
				t.Errorf("%d target lanes; want only summaries past MaxLanes", len(p.lanes))
			}
			groups := max(len(s.Zones), 1)
			if n := len(p.summaries); n == 0 || n > 40+2*groups {
				t.Errorf("%d summary lanes, want 1 to %d", n, 40+2*groups)
			}
			total, failed, ok := 0, 0, 0
			for _, sm := range p.summaries {
				n, _ := strconv.Atoi(sm["data-targets"])
				f, _ := strconv.Atoi(sm["data-failed"])
				o, _ := strconv.Atoi(sm["data-succeeded"])
				total, failed, ok = total+n, failed+f, ok+o
				if (f > 0) != (sm["bar"] == "Failed") {
					t.Errorf("summary %v: bar %q with %d failed", sm, sm["bar"], f)
				}
			}
			if total != 2000 || failed != s.Failed || ok != s.Succeeded {
				t.Errorf("summaries count %d targets, %d failed, %d succeeded; want 2000, %d, %d", total, failed, ok, s.Failed, s.Succeeded)
			}
			if len(p.fails["summary"]) != s.Failed {
				t.Errorf("%d failure marks, want %d", len(p.fails["summary"]), s.Failed)
			}
			if p.elements > 2000 || len(svg) > 200_000 {
				t.Errorf("%d elements, %d bytes: the picture grows with the fleet", p.elements, len(svg))
			}
		})
	}
}

// MaxLanes sets where summaries begin.
func TestMaxLanes(t *testing.T) {
	in, s := sample(t, "halfatatime.json")
	p := read(t, render(t, in, s, func(o *plansvg.Options) { o.MaxLanes = 9 }))
	if len(p.lanes) != 9 {
		t.Errorf("MaxLanes 9, 9 targets: %d lanes", len(p.lanes))
	}
	p = read(t, render(t, in, s, func(o *plansvg.Options) { o.MaxLanes = 3 }))
	if len(p.lanes) != 0 || len(p.summaries) == 0 || len(p.summaries) > 3+2 {
		t.Errorf("MaxLanes 3: %d lanes, %d summaries", len(p.lanes), len(p.summaries))
	}
}

// IDs are user data: markup in them stays text.
func TestHostileIDs(t *testing.T) {
	ids := []string{`<script>alert(1)</script>`, `a&b`, `"quoted"`, `it's`, "tab\there", `]]></svg>`, "nul\x00 and bell\x07"}
	var ts []string
	for _, id := range ids {
		q, _ := json.Marshal(id)
		ts = append(ts, fmt.Sprintf(`{"id": %s, "instanceHealth": "Healthy", "revisionHealth": "Old"}`, q))
	}
	in, s := preview(t, `{"config": "CodeDeployDefault.AllAtOnce", "targets": [`+strings.Join(ts, ", ")+`], "failures": ["a&b"]}`)
	svg := render(t, in, s, func(o *plansvg.Options) { o.Title = `<b>"title" & more</b>` })
	if bytes.Contains(svg, []byte("<script")) || bytes.Contains(svg, []byte("<b>")) {
		t.Errorf("markup from user data is in the SVG:\n%s", svg)
	}
	p := read(t, svg)
	checkLanes(t, in, s, p)
	checkHealthy(t, s, p)
	got := map[string]bool{}
	for _, l := range p.lanes {
		got[l.id] = true
	}
	for _, id := range ids {
		// XML cannot carry most control characters, even escaped: they
		// read back as U+FFFD.
		id = strings.Map(func(r rune) rune {
			if r < 0x20 && r != '\t' && r != '\n' && r != '\r' {
				return '\uFFFD'
			}
			return r
		}, id)
		if !got[id] {
			t.Errorf("no lane reads back as %q; lanes %v", id, got)
		}
	}
	if len(p.fails["a&b"]) != 1 {
		t.Errorf("failure marks %v, want one for a&b", p.fails)
	}
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

// Render returns the writer's error.
func TestWriteError(t *testing.T) {
	in, s := sample(t, "halfatatime.json")
	if err := plansvg.Render(failingWriter{}, in, s); err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Errorf("Render to a failing writer: %v", err)
	}
}

// A failed step is a line across the lanes at its time.
func TestFailedStep(t *testing.T) {
	in, s := preview(t, `{"config": "CodeDeployDefault.LambdaCanary10Percent5Minutes", "failSteps": ["AfterAllowTraffic"]}`)
	svg := render(t, in, s)
	var want []string
	for _, st := range s.Steps {
		if st.EventFailed != "" {
			want = append(want, fmt.Sprintf(`data-step-failed="%s" data-at="%s"`, st.EventFailed, secs(st.At)))
		}
	}
	if len(want) != 1 {
		t.Fatalf("the schedule has %d failed steps, want 1: %+v", len(want), s.Steps)
	}
	if !bytes.Contains(svg, []byte(want[0])) {
		t.Errorf("no %s in the picture", want[0])
	}
}

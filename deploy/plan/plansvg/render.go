package plansvg

import (
	"bufio"
	"encoding/xml"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/fleetdeploy/fleetdeploy/deploy/plan"
	"github.com/fleetdeploy/fleetdeploy/target"
)

// Options are the picture's settings; Render's option functions change
// them from their defaults.
type Options struct {
	// Width is the picture's width in pixels (960 unless set; at least
	// 400).
	Width int
	// MaxLanes is the most targets drawn one lane each (40 unless set);
	// larger fleets get summary lanes (see "Large fleets" in the package
	// documentation).
	MaxLanes int
	// Title is drawn at the top; by default the configuration, the
	// deployment type and the outcome.
	Title string
}

// Layout, in pixels.
const (
	labelWidth = 170 // the lane labels' column
	margin     = 20
	laneHeight = 14
	barHeight  = 10
	chartH     = 70 // the healthy chart
	trafficH   = 50 // the traffic chart
)

// status of a bar.
const (
	statusSucceeded = "Succeeded"
	statusFailed    = "Failed"
	statusRunning   = "InProgress"
)

// bar is one time a target was worked on.
type bar struct {
	start, end plan.Seconds
	status     string
	phase      plan.Phase
}

// lane is one target's row.
type lane struct {
	idx   int // index in Input.Targets
	group string
	wave  int // 1 is the first moment anything started; 0 never started
	first plan.Seconds
	bars  []bar
}

// Render writes the SVG picture of schedule s of the deployment in (the
// Input it was planned from: the targets' zones, labels and health) to w.
// It returns w's error, if any.
func Render(w io.Writer, in plan.Input, s plan.Schedule, opts ...func(*Options)) error {
	o := Options{Width: 960, MaxLanes: 40}
	for _, f := range opts {
		f(&o)
	}
	o.Width = max(o.Width, 400)
	o.MaxLanes = max(o.MaxLanes, 1)
	if o.Title == "" {
		o.Title = fmt.Sprintf("%s (%s %s): %s", in.Config.Name, in.Config.Platform(), typeOf(in), s.Status)
		if s.ErrorCode != "" {
			o.Title += " " + string(s.ErrorCode)
		}
	}
	r := &renderer{in: in, s: s, o: o, w: bufio.NewWriter(w)}
	r.layout()
	r.draw()
	return r.w.Flush()
}

func typeOf(in plan.Input) target.DeploymentType {
	if in.Type == "" {
		return target.InPlace
	}
	return in.Type
}

type renderer struct {
	in plan.Input
	s  plan.Schedule
	o  Options
	w  *bufio.Writer

	lanes  []*lane
	groups []string // in drawing order
	end    plan.Seconds
	x0, cw float64 // the time axis: x of time 0, width
}

// printf writes to the buffered writer, whose error Flush returns.
func (r *renderer) printf(format string, args ...any) { fmt.Fprintf(r.w, format, args...) }

// x is the horizontal position of time t.
func (r *renderer) x(t plan.Seconds) float64 {
	return r.x0 + float64(t)/float64(r.end)*r.cw
}

// layout builds the lanes from the schedule's steps.
func (r *renderer) layout() {
	r.end = max(r.s.DurationSeconds, 1e-9)
	for _, st := range r.s.Steps {
		r.end = max(r.end, st.At)
	}
	r.x0 = labelWidth
	r.cw = float64(r.o.Width - labelWidth - margin)

	index := make(map[string]int, len(r.in.Targets))
	for i, t := range r.in.Targets {
		index[t.ID] = i
	}
	lanes := make([]lane, len(r.in.Targets))
	zonal := len(r.s.Zones) > 0
	bg := r.in.Type == target.BlueGreen
	for i, t := range r.in.Targets {
		lanes[i] = lane{idx: i, first: -1}
		switch {
		case zonal:
			lanes[i].group = t.Zone
		case bg:
			lanes[i].group = string(t.Label)
		}
	}
	waveAt := plan.Seconds(-1)
	wave := 0
	for _, st := range r.s.Steps {
		for _, id := range st.Start {
			i, ok := index[id]
			if !ok {
				continue
			}
			l := &lanes[i]
			if l.first < 0 {
				if st.At != waveAt {
					wave++
					waveAt = st.At
				}
				l.first, l.wave = st.At, wave
			}
			l.bars = append(l.bars, bar{start: st.At, end: -1, status: statusRunning, phase: st.Phase})
		}
		for k, list := range [][]string{st.Succeeded, st.Failed} {
			status := statusSucceeded
			if k == 1 {
				status = statusFailed
			}
			for _, id := range list {
				i, ok := index[id]
				if !ok || len(lanes[i].bars) == 0 {
					continue
				}
				b := &lanes[i].bars[len(lanes[i].bars)-1]
				if b.end < 0 {
					b.end, b.status = st.At, status
				}
			}
		}
	}
	// Group order: zones in deployment order, Blue before Green, then the
	// rest by name.
	rank := map[string]int{}
	for k, z := range r.s.Zones {
		rank[z.Zone] = k + 1
	}
	if bg {
		rank[string(target.LabelBlue)], rank[string(target.LabelGreen)] = 1, 2
	}
	for i := range lanes {
		for k := range lanes[i].bars {
			if lanes[i].bars[k].end < 0 {
				lanes[i].bars[k].end = r.end
			}
		}
		if !slices.Contains(r.groups, lanes[i].group) {
			r.groups = append(r.groups, lanes[i].group)
		}
	}
	slices.SortFunc(r.groups, func(a, b string) int {
		ra, rb := rank[a], rank[b]
		if ra == 0 {
			ra = math.MaxInt
		}
		if rb == 0 {
			rb = math.MaxInt
		}
		if ra != rb {
			return cmpInt(ra, rb)
		}
		return strings.Compare(a, b)
	})
	group := make(map[string]int, len(r.groups))
	for k, g := range r.groups {
		group[g] = k
	}
	r.lanes = make([]*lane, len(lanes))
	for i := range lanes {
		r.lanes[i] = &lanes[i]
	}
	slices.SortStableFunc(r.lanes, func(a, b *lane) int {
		if c := cmpInt(group[a.group], group[b.group]); c != 0 {
			return c
		}
		wa, wb := a.wave, b.wave
		if wa == 0 {
			wa = math.MaxInt
		}
		if wb == 0 {
			wb = math.MaxInt
		}
		return cmpInt(wa, wb)
	})
}

func cmpInt(a, b int) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// row is one drawn row of the lanes area: a group header, a target's
// lane or a summary lane.
type row struct {
	header string  // a group's header when set
	lane   *lane   // a target's lane
	sum    []*lane // a summary lane's targets
	group  string
	w1, w2 int // a summary lane's waves (0, 0: never started)
}

// rows lays the lanes out, summarised past MaxLanes.
func (r *renderer) rows() []row {
	var rows []row
	summarise := len(r.lanes) > r.o.MaxLanes
	waves := 0 // the distinct (group, wave) pairs of started targets
	if summarise {
		seen := map[[2]any]bool{}
		for _, l := range r.lanes {
			if l.wave > 0 && !seen[[2]any{l.group, l.wave}] {
				seen[[2]any{l.group, l.wave}] = true
				waves++
			}
		}
	}
	per := 1 // waves per summary lane
	if budget := r.o.MaxLanes - len(r.groups); summarise && waves > max(budget, 1) {
		per = (waves + max(budget, 1) - 1) / max(budget, 1)
	}
	for k := 0; k < len(r.lanes); {
		g := r.lanes[k].group
		j := k
		for j < len(r.lanes) && r.lanes[j].group == g {
			j++
		}
		rows = append(rows, row{header: r.groupHeader(g, r.lanes[k:j]), group: g})
		if !summarise {
			for _, l := range r.lanes[k:j] {
				rows = append(rows, row{lane: l, group: g})
			}
			k = j
			continue
		}
		for a := k; a < j; {
			w1 := r.lanes[a].wave
			b, n := a, 0
			for b < j && (w1 == 0) == (r.lanes[b].wave == 0) {
				if b == a || r.lanes[b].wave != r.lanes[b-1].wave {
					if n == per {
						break
					}
					n++
				}
				b++
			}
			rows = append(rows, row{sum: r.lanes[a:b], group: g, w1: w1, w2: r.lanes[b-1].wave})
			a = b
		}
		k = j
	}
	return rows
}

// groupHeader describes a group of lanes.
func (r *renderer) groupHeader(g string, ls []*lane) string {
	n := len(ls)
	noun := "targets"
	if n == 1 {
		noun = "target"
	}
	for _, z := range r.s.Zones {
		if z.Zone == g {
			return fmt.Sprintf("zone %s: %d %s, zone minimum %d, lowest healthy %d", g, n, noun, z.MinimumHealthy, z.LowestHealthy)
		}
	}
	switch g {
	case "":
		return fmt.Sprintf("%d %s", n, noun)
	case string(target.LabelBlue):
		return fmt.Sprintf("Blue (original): %d %s", n, noun)
	case string(target.LabelGreen):
		return fmt.Sprintf("Green (replacement): %d %s", n, noun)
	}
	return fmt.Sprintf("%s: %d %s", g, n, noun)
}

// traffic reports whether the schedule shifts traffic by weight.
func (r *renderer) traffic() bool {
	for _, st := range r.s.Steps {
		if st.Event == plan.PhaseAllowTraffic && st.TrafficWeight > 0 {
			return true
		}
	}
	return false
}

func (r *renderer) draw() {
	rows := r.rows()
	const top = 70 // the lanes' top
	lanesH := len(rows) * laneHeight
	servers := len(r.in.Targets) > 0
	chartTop := top + lanesH + 30
	height := chartTop
	if servers {
		height += chartH + 30
	}
	trafficTop := height
	if r.traffic() {
		height += trafficH + 30
	}
	height += 10
	W := r.o.Width

	r.printf(`<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="11">`+"\n", W, height, W, height)
	r.printf("<title>%s</title>\n", esc(r.o.Title))
	r.printf(`<rect width="%d" height="%d" fill="white"/>`+"\n", W, height)
	r.printf(`<text x="%d" y="18" font-size="14" font-weight="bold">%s</text>`+"\n", margin, esc(r.o.Title))
	r.printf(`<text x="%d" y="34" fill="#555">%s<title>%s</title></text>`+"\n", margin, esc(clip(r.s.Arithmetic, (W-2*margin)/6)), esc(r.s.Arithmetic))

	// Phases along the top, time ticks above the lanes.
	for k, ph := range r.s.Phases {
		x1, x2 := r.x(ph.Start), r.x(ph.End)
		fill := []string{"#e3e3f3", "#d3d3ea"}[k%2]
		r.printf(`<rect data-phase-window="%s" x="%.1f" y="40" width="%.1f" height="14" fill="%s"/>`+"\n", esc(string(ph.Phase)), x1, max(x2-x1, 1), fill)
		if x2-x1 > 6*float64(len(ph.Phase)) {
			r.printf(`<text x="%.1f" y="51" font-size="10">%s</text>`+"\n", x1+2, esc(string(ph.Phase)))
		}
	}
	r.ticks(top-6, top+lanesH)

	// Waits shaded behind the lanes.
	for k, st := range r.s.Steps {
		if st.Status != plan.Baking && st.Status != plan.Ready {
			continue
		}
		end := r.end
		if k+1 < len(r.s.Steps) {
			end = r.s.Steps[k+1].At
		}
		fill := "#eeeeee"
		if st.Zone != "" {
			fill = "#ffe0b2"
		}
		x1, x2 := r.x(st.At), r.x(end)
		r.printf(`<rect data-wait="%s" data-start="%s" data-end="%s" x="%.1f" y="%d" width="%.1f" height="%d" fill="%s"><title>%s</title></rect>`+"\n",
			st.Status, num(float64(st.At)), num(float64(end)), x1, top, max(x2-x1, 1), lanesH, fill, esc(fmt.Sprintf("%s %s to %s", waitName(st), clock(st.At), clock(end))))
	}

	// Lanes.
	for k, rw := range rows {
		y := top + k*laneHeight
		switch {
		case rw.header != "":
			r.printf(`<text x="%d" y="%d" font-weight="bold">%s</text>`+"\n", margin-10, y+11, esc(rw.header))
			r.printf(`<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="#999"/>`+"\n", margin-10, y+13, W-margin, y+13)
		case rw.lane != nil:
			r.drawLane(rw, y)
		default:
			r.drawSummary(rw, y)
		}
	}

	// Failed steps: a red line across.
	for _, st := range r.s.Steps {
		if st.EventFailed != "" {
			x := r.x(st.At)
			r.printf(`<line data-step-failed="%s" data-at="%s" x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#c62828" stroke-width="2"><title>%s</title></line>`+"\n",
				esc(string(st.EventFailed)), num(float64(st.At)), x, 40, x, top+lanesH, esc(fmt.Sprintf("%s failed at %s", st.EventFailed, clock(st.At))))
		}
	}

	if servers {
		r.healthChart(chartTop)
	}
	if r.traffic() {
		r.trafficChart(trafficTop)
	}
	r.printf("</svg>\n")
}

func waitName(st plan.ScheduleStep) string {
	switch {
	case st.Zone != "":
		return "monitor wait after zone " + st.Zone
	case st.Status == plan.Ready:
		return "waiting for Continue"
	}
	return "waiting (" + string(st.Status) + ")"
}

var colors = map[string]string{statusSucceeded: "#43a047", statusFailed: "#e53935", statusRunning: "#64b5f6"}

// drawLane draws one target's lane at y.
func (r *renderer) drawLane(rw row, y int) {
	t := r.in.Targets[rw.lane.idx]
	r.printf(`<g data-target="%s" data-index="%d" data-group="%s" data-wave="%d">`, esc(t.ID), rw.lane.idx, esc(rw.group), rw.lane.wave)
	label := clip(t.ID, 24)
	wave := ""
	if rw.lane.wave > 0 {
		wave = fmt.Sprintf(" #%d", rw.lane.wave)
	}
	r.printf(`<text x="%d" y="%d">%s<tspan fill="#888">%s</tspan><title>%s</title></text>`, margin, y+10, esc(label), wave, esc(t.ID))
	for _, b := range rw.lane.bars {
		x1, x2 := r.x(b.start), r.x(b.end)
		r.printf(`<rect data-start="%s" data-end="%s" data-status="%s" data-phase="%s" x="%.1f" y="%d" width="%.1f" height="%d" fill="%s"><title>%s</title></rect>`,
			num(float64(b.start)), num(float64(b.end)), b.status, esc(string(b.phase)), x1, y+2, max(x2-x1, 1.5), barHeight, colors[b.status],
			esc(fmt.Sprintf("%s %s %s to %s: %s", t.ID, b.phase, clock(b.start), clock(b.end), b.status)))
		if b.status == statusFailed {
			r.cross(t.ID, b.end, y)
		}
	}
	r.printf("</g>\n")
}

// cross marks a failure of id (or "summary") at time at on the lane at y.
func (r *renderer) cross(id string, at plan.Seconds, y int) {
	x, c := r.x(at), float64(y)+7
	r.printf(`<path data-failed="%s" data-at="%s" d="M%.1f %.1fl8 8m0 -8l-8 8" stroke="#b71c1c" stroke-width="2"/>`, esc(id), num(float64(at)), x-4, c-4)
}

// drawSummary draws a lane standing for several targets at y.
func (r *renderer) drawSummary(rw row, y int) {
	var ok, failed, running, idle int
	start, end := plan.Seconds(math.Inf(1)), plan.Seconds(0)
	var fails []plan.Seconds
	for _, l := range rw.sum {
		if len(l.bars) == 0 {
			idle++
			continue
		}
		last := l.bars[len(l.bars)-1]
		start, end = min(start, l.bars[0].start), max(end, last.end)
		status := last.status
		for _, b := range l.bars {
			if b.status == statusFailed {
				status = statusFailed
				fails = append(fails, b.end)
			}
		}
		switch status {
		case statusFailed:
			failed++
		case statusRunning:
			running++
		default:
			ok++
		}
	}
	waves := "not started"
	switch {
	case rw.w1 == 0:
	case rw.w1 == rw.w2:
		waves = fmt.Sprintf("wave %d", rw.w1)
	default:
		waves = fmt.Sprintf("waves %d–%d", rw.w1, rw.w2)
	}
	r.printf(`<g data-lane="summary" data-group="%s" data-waves="%d-%d" data-targets="%d" data-succeeded="%d" data-failed="%d" data-inprogress="%d" data-notattempted="%d">`,
		esc(rw.group), rw.w1, rw.w2, len(rw.sum), ok, failed, running, idle)
	r.printf(`<text x="%d" y="%d">%s<tspan fill="#888"> (%d)</tspan></text>`, margin, y+10, waves, len(rw.sum))
	if idle < len(rw.sum) {
		status := statusSucceeded
		switch {
		case failed > 0:
			status = statusFailed
		case running > 0:
			status = statusRunning
		}
		x1, x2 := r.x(start), r.x(end)
		r.printf(`<rect data-start="%s" data-end="%s" data-status="%s" x="%.1f" y="%d" width="%.1f" height="%d" fill="%s" fill-opacity="0.8"><title>%s</title></rect>`,
			num(float64(start)), num(float64(end)), status, x1, y+2, max(x2-x1, 1.5), barHeight, colors[status],
			esc(fmt.Sprintf("%s: %d targets, %d succeeded, %d failed, %d in progress; %s to %s", waves, len(rw.sum), ok, failed, running, clock(start), clock(end))))
	}
	slices.Sort(fails)
	lastX := math.Inf(-1)
	for _, at := range fails {
		if x := r.x(at); x-lastX >= 1 {
			r.cross("summary", at, y)
			lastX = x
		}
	}
	r.printf("</g>\n")
}

// ticks draws the time axis at y, with grid lines down to bottom.
func (r *renderer) ticks(y, bottom int) {
	total := time.Duration(float64(r.end) * float64(time.Second))
	step := time.Second
	for _, s := range []time.Duration{1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 3 * 3600, 6 * 3600, 12 * 3600, 24 * 3600, 48 * 3600, 7 * 24 * 3600, 30 * 24 * 3600, 365 * 24 * 3600} {
		step = s * time.Second
		if total/step <= 8 {
			break
		}
	}
	for t := time.Duration(0); t <= total && t/step <= 1000; t += step {
		x := r.x(plan.Seconds(t.Seconds()))
		r.printf(`<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#ddd"/><text x="%.1f" y="%d" font-size="9" fill="#555">%s</text>`+"\n", x, y+2, x, bottom, x+2, y, t)
	}
}

// healthChart draws the healthy count against the minimum below the
// lanes.
func (r *renderer) healthChart(top int) {
	steps := r.s.Steps
	most, least := max(r.s.InitialHealthy, r.s.MinimumHealthy, 1), min(r.s.InitialHealthy, r.s.MinimumHealthy)
	for _, st := range steps {
		most, least = max(most, st.Healthy, st.Minimum), min(least, st.Healthy, st.Minimum)
	}
	// The axis starts a quarter of the range below the lowest value (at 0
	// for small fleets), so that on a large fleet the gap between the
	// healthy count and the minimum stays visible.
	floor := max(0, least-(most-least)/4-1)
	if floor < 10 {
		floor = 0
	}
	y := func(n int) float64 { return float64(top+chartH) - float64(n-floor)/float64(most-floor)*chartH }
	// line returns the points of a step line through the value after
	// each step, from v0 at the start.
	line := func(v0 int, v func(plan.ScheduleStep) int) string {
		var pts strings.Builder
		prev := v0
		fmt.Fprintf(&pts, "%.1f,%.1f", r.x(0), y(prev))
		for _, st := range steps {
			fmt.Fprintf(&pts, " %.1f,%.1f %.1f,%.1f", r.x(st.At), y(prev), r.x(st.At), y(v(st)))
			prev = v(st)
		}
		fmt.Fprintf(&pts, " %.1f,%.1f", r.x(r.end), y(prev))
		return pts.String()
	}
	lowest := r.s.InitialHealthy
	for _, st := range steps {
		lowest = min(lowest, st.Healthy)
	}
	r.printf(`<text x="%d" y="%d" font-weight="bold">healthy (lowest %d, minimum %d)</text>`+"\n", margin-10, top-8, lowest, r.s.MinimumHealthy)
	r.printf(`<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#999"/>`+"\n", r.x0, top+chartH, r.x(r.end), top+chartH)
	r.printf(`<text x="%.1f" y="%.1f" text-anchor="end" font-size="9">%d</text><text x="%.1f" y="%d" text-anchor="end" font-size="9">%d</text>`+"\n", r.x0-4, y(most)+4, most, r.x0-4, top+chartH, floor)
	minY := y(r.s.MinimumHealthy)
	r.printf(`<text x="%.1f" y="%.1f" text-anchor="end" font-size="9" fill="#e53935">min %d</text>`+"\n", r.x0-4, minY+3, r.s.MinimumHealthy)
	r.printf(`<polyline data-series="minimum" points="%s" fill="none" stroke="#e53935" stroke-dasharray="5 3"/>`+"\n",
		line(r.s.MinimumHealthy, func(st plan.ScheduleStep) int { return st.Minimum }))
	r.printf(`<polyline data-series="healthy" data-lowest="%d" data-minimum="%d" points="%s" fill="none" stroke="#1e88e5" stroke-width="1.5"/>`+"\n",
		lowest, r.s.MinimumHealthy, line(r.s.InitialHealthy, func(st plan.ScheduleStep) int { return st.Healthy }))
}

// trafficChart draws the replacement's share of traffic.
func (r *renderer) trafficChart(top int) {
	y := func(w int) float64 { return float64(top+trafficH) - float64(w)/100*trafficH }
	r.printf(`<text x="%d" y="%d" font-weight="bold">traffic on the replacement</text>`+"\n", margin-10, top-8)
	r.printf(`<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#999"/>`+"\n", r.x0, top+trafficH, r.x(r.end), top+trafficH)
	var pts strings.Builder
	w := 0
	fmt.Fprintf(&pts, "%.1f,%.1f", r.x(0), y(0))
	for _, st := range r.s.Steps {
		if st.Event != plan.PhaseAllowTraffic || st.TrafficWeight <= 0 {
			continue
		}
		fmt.Fprintf(&pts, " %.1f,%.1f %.1f,%.1f", r.x(st.At), y(w), r.x(st.At), y(st.TrafficWeight))
		w = st.TrafficWeight
		r.printf(`<text data-shift="" data-at="%s" data-weight="%d" x="%.1f" y="%.1f" font-size="10">%d%%</text>`+"\n", num(float64(st.At)), w, r.x(st.At)+2, y(w)-2, w)
	}
	fmt.Fprintf(&pts, " %.1f,%.1f", r.x(r.end), y(w))
	r.printf(`<polyline data-series="traffic" points="%s" fill="none" stroke="#8e24aa" stroke-width="1.5"/>`+"\n", pts.String())
}

// clip shortens s to at most n characters, ending it with "…" when cut.
func clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:max(n-1, 0)]) + "…"
}

// esc escapes s for XML text and attribute values.
func esc(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s)) // a strings.Builder does not fail
	return b.String()
}

// num formats seconds exactly.
func num(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

// clock formats seconds as a duration.
func clock(s plan.Seconds) string { return s.Duration().Round(time.Millisecond).String() }

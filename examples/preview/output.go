package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/fleetdeploy/fleetdeploy/deploy/plan"
	"github.com/fleetdeploy/fleetdeploy/target"
)

// writeJSON prints the schedule as JSON in plan.Schedule's field order,
// indented down to the elements of its lists, each of which (a step, a
// zone, a phase) is on one line.
func writeJSON(w io.Writer, s plan.Schedule) error {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(s); err != nil {
		return err
	}
	_, err := w.Write(indentShallow(bytes.TrimSpace(b.Bytes()), 2))
	return err
}

// indentShallow indents compact JSON src two spaces a level for the first
// depth levels of nesting and writes deeper values on one line, with a
// space after each colon and comma. It ends with a newline.
func indentShallow(src []byte, depth int) []byte {
	out := make([]byte, 0, len(src)+len(src)/4)
	level := 0
	inString, escaped := false, false
	newline := func(l int) {
		out = append(out, '\n')
		out = append(out, strings.Repeat("  ", l)...)
	}
	for i, c := range src {
		if inString {
			out = append(out, c)
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
			continue
		}
		switch c {
		case '"':
			inString = true
			out = append(out, c)
		case '{', '[':
			out = append(out, c)
			level++
			if level <= depth && i+1 < len(src) && src[i+1] != '}' && src[i+1] != ']' {
				newline(level)
			}
		case '}', ']':
			if level <= depth && i > 0 && src[i-1] != '{' && src[i-1] != '[' {
				newline(level - 1)
			}
			level--
			out = append(out, c)
		case ',':
			out = append(out, c)
			if level <= depth {
				newline(level)
			} else {
				out = append(out, ' ')
			}
		case ':':
			out = append(out, ':', ' ')
		default:
			out = append(out, c)
		}
	}
	return append(out, '\n')
}

// writeText prints the schedule as a table for people: one row per moment,
// with the healthy count after it.
func writeText(w io.Writer, in plan.PreviewInput, s plan.Schedule) error {
	var b bytes.Buffer
	platform := in.Config.Platform()
	fmt.Fprintf(&b, "configuration: %s (%s, %s", in.Config.Name, platform, in.Type)
	if in.Rollback {
		b.WriteString(", rollback")
	}
	switch n := len(in.Targets); {
	case n == 1:
		b.WriteString(", 1 target")
	case n > 1:
		fmt.Fprintf(&b, ", %d targets", n)
	}
	fmt.Fprintf(&b, ")\nrule:          %s\n\n", s.Arithmetic)

	zonal := len(s.Zones) > 0
	events := false
	for _, st := range s.Steps {
		events = events || st.Event != "" || st.EventFailed != ""
	}
	servers := len(in.Targets) > 0
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	cols := []string{"TIME", "PHASE", "STATUS"}
	if zonal { // zones have targets
		cols = append(cols, "ZONE", "ZONE HEALTHY")
	}
	if events {
		cols = append(cols, "EVENT")
	}
	if servers {
		cols = append(cols, "HEALTHY", "IN FLIGHT", "STARTED", "SUCCEEDED", "FAILED")
	}
	fmt.Fprintln(tw, strings.Join(cols, "\t"))

	zones := map[string]plan.ZoneCount{}
	for _, st := range s.Steps {
		row := []string{clock(st.At), string(st.Phase), string(st.Status)}
		for _, z := range st.Zones { // listed when they change
			zones[z.Zone] = z
		}
		if zonal {
			zh := "-"
			if z, ok := zones[st.Zone]; ok {
				zh = fmt.Sprintf("%d (min %d)", z.Healthy, z.Minimum)
			}
			row = append(row, st.Zone, zh)
		}
		if events {
			row = append(row, event(st))
		}
		if servers {
			row = append(row, fmt.Sprint(st.Healthy), fmt.Sprint(st.InFlight), ids(st.Start), ids(st.Succeeded), ids(st.Failed))
		}
		fmt.Fprintln(tw, strings.Join(row, "\t"))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if zonal {
		b.WriteString("\nzones (in deployment order):\n")
		for _, z := range s.Zones {
			fmt.Fprintf(&b, "  %s: %d targets, zone minimum %d, lowest healthy %d", z.Zone, z.Targets, z.MinimumHealthy, z.LowestHealthy)
			if z.Start >= 0 {
				fmt.Fprintf(&b, ", %s to %s", clock(z.Start), clock(z.End))
			}
			if z.BakeUntil > 0 {
				fmt.Fprintf(&b, ", monitored until %s", clock(z.BakeUntil))
			}
			b.WriteString("\n")
		}
	}
	fmt.Fprintf(&b, "\nresult: %s", s.Status)
	if s.ErrorCode != "" {
		fmt.Fprintf(&b, " (%s)", s.ErrorCode)
	}
	fmt.Fprintf(&b, " after %s: %s\n", clock(s.DurationSeconds), s.Explanation)
	if servers {
		fmt.Fprintf(&b, "targets: %d succeeded, %d failed, %d not attempted; peak in flight %d", s.Succeeded, s.Failed, s.NotAttempted, s.PeakInFlight)
		if !(in.Rollback && in.Type == target.BlueGreen) { // a blue/green rollback switches each fleet at once
			fmt.Fprintf(&b, " (at most %d)", s.MaxInFlight)
		}
		fmt.Fprintf(&b, "; lowest healthy %d (minimum %d)\n", s.LowestHealthy, s.MinimumHealthy)
	}
	_, err := w.Write(b.Bytes())
	return err
}

// clock formats seconds from the start as a duration: 0s, 1m30s, 1h0m0s.
func clock(s plan.Seconds) string { return s.Duration().Round(time.Millisecond).String() }

// event describes a step's hook, reserved event or traffic shift.
func event(st plan.ScheduleStep) string {
	var parts []string
	if st.Event != "" {
		e := string(st.Event)
		if st.Event == plan.PhaseAllowTraffic {
			e = fmt.Sprintf("%s %d%%", e, st.TrafficWeight)
		}
		parts = append(parts, e)
	}
	if st.EventFailed != "" {
		parts = append(parts, string(st.EventFailed)+" FAILED")
	}
	return strings.Join(parts, "; ")
}

// ids lists target IDs, eliding the middle of long lists ("-" for none).
func ids(v []string) string {
	const most = 6
	switch {
	case len(v) == 0:
		return "-"
	case len(v) > most:
		return fmt.Sprintf("%s … %s (%d)", strings.Join(v[:most-1], " "), v[len(v)-1], len(v))
	}
	return strings.Join(v, " ")
}

//go:build linux

package main

import (
	"bytes"
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"
)

// hookRun is one run of a hook script, as the hook log tells it (see
// hookMain).
type hookRun struct {
	executor int // PID of the executor process whose agent ran it
	hook     int // PID of the hook process
	instance string
	event    string
	start    time.Time
	end      time.Time // zero: the run never ended (it was cut short)
}

// ended reports whether the run logged its end.
func (r hookRun) ended() bool { return !r.end.IsZero() }

// String returns e.g. "web-07 AfterInstall by pid 4242".
func (r hookRun) String() string {
	return fmt.Sprintf("%s %s by pid %d", r.instance, r.event, r.executor)
}

// parseHookLog reads the hook log: one run per hook process, from its start
// line and, if it got that far, its end line. A last line without its
// newline is being written, and is left for the next read.
func parseHookLog(data []byte) ([]hookRun, error) {
	var runs []hookRun
	byHook := map[int]int{} // hook PID → index in runs
	for n := 1; ; n++ {
		i := bytes.IndexByte(data, '\n')
		if i < 0 {
			break
		}
		line := string(data[:i])
		data = data[i+1:]
		f := strings.Fields(line)
		bad := func(what string) error { return fmt.Errorf("hook log line %d %q: %s", n, line, what) }
		if len(f) != 6 {
			return nil, bad("want 6 fields: executor-pid instance event start end|- hook-pid")
		}
		executor, err1 := strconv.Atoi(f[0])
		hook, err2 := strconv.Atoi(f[5])
		start, err3 := strconv.ParseInt(f[3], 10, 64)
		if err := cmp.Or(err1, err2, err3); err != nil {
			return nil, bad(err.Error())
		}
		r := hookRun{executor: executor, hook: hook, instance: f[1], event: f[2], start: time.Unix(0, start)}
		if f[4] != "-" {
			end, err := strconv.ParseInt(f[4], 10, 64)
			if err != nil {
				return nil, bad(err.Error())
			}
			r.end = time.Unix(0, end)
		}
		if k, ok := byHook[hook]; ok {
			if runs[k].ended() || !runs[k].start.Equal(r.start) || !r.ended() {
				return nil, bad(fmt.Sprintf("hook PID %d logged twice", hook))
			}
			runs[k].end = r.end
			continue
		}
		byHook[hook] = len(runs)
		runs = append(runs, r)
	}
	return runs, nil
}

// interval is a span of time; end is zero when it has not ended.
type interval struct{ start, end time.Time }

// runSpan returns the time a run occupied its instance: from its start to
// its end, or, for a run cut short, to cutEnd (when it was known dead).
func runSpan(r hookRun, cutEnd time.Time) interval {
	if r.ended() {
		return interval{r.start, r.end}
	}
	return interval{r.start, cutEnd}
}

// overlap is two runs on one instance at the same time.
type overlap struct{ a, b hookRun }

// overlaps returns every pair of runs on one instance whose spans
// intersect (runs cut short last until cutEnd). An agent runs one event at
// a time per instance, and one executor at a time drives a deployment, so
// there must be none, in one process or across processes.
func overlaps(runs []hookRun, cutEnd time.Time) []overlap {
	byInstance := map[string][]hookRun{}
	for _, r := range runs {
		byInstance[r.instance] = append(byInstance[r.instance], r)
	}
	var out []overlap
	for _, id := range slices.Sorted(maps.Keys(byInstance)) {
		rs := byInstance[id]
		slices.SortFunc(rs, func(a, b hookRun) int { return a.start.Compare(b.start) })
		for i := range rs {
			si := runSpan(rs[i], cutEnd)
			for j := i + 1; j < len(rs); j++ {
				sj := runSpan(rs[j], cutEnd)
				if !sj.start.Before(si.end) {
					break // sorted by start: no later run overlaps rs[i]
				}
				out = append(out, overlap{rs[i], rs[j]})
			}
		}
	}
	return out
}

// offlinePeak returns the most instances offline at once, and when: an
// instance is offline from the start of its first run to the end of its
// last (runs cut short last until cutEnd). At equal times an instance
// coming back counts before one going offline: the executor starts the
// next only after it saw the last one end.
func offlinePeak(runs []hookRun, cutEnd time.Time) (peak int, at time.Time) {
	spans := map[string]interval{}
	for _, r := range runs {
		s := runSpan(r, cutEnd)
		if cur, ok := spans[r.instance]; ok {
			s = interval{minTime(cur.start, s.start), maxTime(cur.end, s.end)}
		}
		spans[r.instance] = s
	}
	type edge struct {
		t     time.Time
		delta int
	}
	var edges []edge
	for _, s := range spans {
		edges = append(edges, edge{s.start, +1}, edge{s.end, -1})
	}
	slices.SortFunc(edges, func(a, b edge) int {
		return cmp.Or(a.t.Compare(b.t), cmp.Compare(a.delta, b.delta))
	})
	n := 0
	for _, e := range edges {
		n += e.delta
		if n > peak {
			peak, at = n, e.t
		}
	}
	return peak, at
}

// eventKey names one lifecycle event of one instance.
type eventKey struct{ instance, event string }

// String returns e.g. "web-07 AfterInstall".
func (k eventKey) String() string { return k.instance + " " + k.event }

// runsByEvent groups runs by instance and event, each group in start
// order.
func runsByEvent(runs []hookRun) map[eventKey][]hookRun {
	out := map[eventKey][]hookRun{}
	for _, r := range runs {
		k := eventKey{r.instance, r.event}
		out[k] = append(out[k], r)
	}
	for _, rs := range out {
		slices.SortFunc(rs, func(a, b hookRun) int { return a.start.Compare(b.start) })
	}
	return out
}

// rerunProblems checks the runs of each event against what the store held
// when the executor was killed: stored maps each event whose outcome was
// stored then to true. An event whose outcome was stored must have run
// exactly once, and before the kill. An event that ran more than once
// must be one in flight at the kill: its outcome not stored, every run but
// the last by the killed executor (killedPID), the last by another. It
// returns the events that ran more than once, and one message per
// violation.
func rerunProblems(byEvent map[eventKey][]hookRun, stored map[eventKey]bool, killedPID int, killedAt time.Time) (reruns []eventKey, problems []string) {
	for _, k := range slices.SortedFunc(maps.Keys(byEvent), func(a, b eventKey) int {
		return cmp.Or(strings.Compare(a.instance, b.instance), strings.Compare(a.event, b.event))
	}) {
		rs := byEvent[k]
		if stored[k] {
			if len(rs) != 1 {
				problems = append(problems, fmt.Sprintf("%s ran %d times, though its outcome was stored when the executor was killed", k, len(rs)))
			} else if rs[0].start.After(killedAt) {
				problems = append(problems, fmt.Sprintf("%s was stored at the kill but ran only after it", k))
			}
			continue
		}
		if len(rs) < 2 {
			continue
		}
		reruns = append(reruns, k)
		for _, r := range rs[:len(rs)-1] {
			if r.executor != killedPID {
				problems = append(problems, fmt.Sprintf("%s ran %d times, and not only because of the kill: an earlier run was by pid %d, not the killed %d", k, len(rs), r.executor, killedPID))
				break
			}
		}
		if last := rs[len(rs)-1]; last.executor == killedPID {
			problems = append(problems, fmt.Sprintf("%s ran %d times, all by the killed executor %d", k, len(rs), killedPID))
		}
	}
	// Stored events with no run at all are checked by the caller against
	// the final records (every event must have run).
	return reruns, problems
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

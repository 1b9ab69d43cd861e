package main

import (
	"bytes"
	"context"
	"math"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/fleetdeploy/fleetdeploy/examples/internal/story"
	"github.com/fleetdeploy/fleetdeploy/examples/internal/story/storytest"
	"go.uber.org/goleak"
)

// Every test checks that no goroutine outlives it: the versions' servers,
// the proxy's listener and connections, the load generator, the
// executor's workers, the clock's timers.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// fastArgs run the story at 1 virtual minute = 500ms (about 5 seconds),
// as CI does: the rate follows -minute, 300 requests/s, 150 per virtual
// minute, so each linear step carries some 150 requests and the canary's
// 10% reaches the alarm's minimum of 5 within some 20 virtual seconds of
// its 2 minutes.
var fastArgs = []string{"-minute", "500ms"}

// row is one line of the "Deployments" table.
type row struct {
	id, alias, config, creator, status, code, shifts string
}

var rowRE = regexp.MustCompile(`^(d-[A-Z0-9]+)\s+(v\d→v\d)\s+(\S+)\s+(\S+)\s+(\S+)\s+(\S+)\s+(.+)$`)

// deployments parses the "Deployments" table of the output.
func deployments(t *testing.T, out string) []row {
	t.Helper()
	_, table, ok := strings.Cut(out, "\n== Deployments\n")
	if !ok {
		t.Fatalf("no Deployments table in the output:\n%s", out)
	}
	var rows []row
	for _, line := range strings.Split(table, "\n")[1:] {
		m := rowRE.FindStringSubmatch(line)
		if m == nil {
			break
		}
		rows = append(rows, row{m[1], m[2], m[3], m[4], m[5], m[6], m[7]})
	}
	return rows
}

// step is one "observed in" line: what a step of a deployment carried.
type step struct {
	deployment string
	index, of  int
	// weight is the configured percentage on each version of the split.
	weight map[string]int
	// share is the observed percentage of each version that got requests.
	share    map[string]float64
	requests int
	errors   int
}

var (
	stepRE   = regexp.MustCompile(`observed in (d-[A-Z0-9]+) step (\d+)/(\d+) \((.+?), [0-9.ms]+\): (.+) of (\d+) requests, (\d+) errors`)
	quietRE  = regexp.MustCompile(`observed (before|after \S+|after the rollback) \((.+?)\): (.+) of (\d+) requests, (\d+) errors`)
	weightRE = regexp.MustCompile(`(v\d) (\d+)%`)
	shareRE  = regexp.MustCompile(`(v\d) ([0-9.]+)%`)
)

// splitWeights parses "v1 75% / v2 25%" or "all on v2".
func splitWeights(s string) map[string]int {
	if v, ok := strings.CutPrefix(s, "all on "); ok {
		return map[string]int{v: 100}
	}
	w := map[string]int{}
	for _, m := range weightRE.FindAllStringSubmatch(s, -1) {
		w[m[1]], _ = strconv.Atoi(m[2])
	}
	return w
}

// shares parses "v1 71.7% / v2 28.3%".
func shares(s string) map[string]float64 {
	out := map[string]float64{}
	for _, m := range shareRE.FindAllStringSubmatch(s, -1) {
		out[m[1]], _ = strconv.ParseFloat(m[2], 64)
	}
	return out
}

// steps parses every "observed in" line of deployment id, in order.
func steps(out, id string) []step {
	var ss []step
	for _, m := range stepRE.FindAllStringSubmatch(out, -1) {
		if m[1] != id {
			continue
		}
		i, _ := strconv.Atoi(m[2])
		n, _ := strconv.Atoi(m[3])
		reqs, _ := strconv.Atoi(m[6])
		errs, _ := strconv.Atoi(m[7])
		ss = append(ss, step{deployment: id, index: i, of: n, weight: splitWeights(m[4]), share: shares(m[5]), requests: reqs, errors: errs})
	}
	return ss
}

// checkSplit checks one step's observed split against its weights: each
// version's share within 4.5 binomial standard deviations (plus the
// 0.05% of printing with one decimal) of its weight, exact at 0 and 100%,
// and no version outside the split.
func checkSplit(t *testing.T, s step) {
	t.Helper()
	for v, got := range s.share {
		w, ok := s.weight[v]
		if !ok && got > 0 {
			t.Errorf("%s step %d/%d: %s got %.1f%% of the requests but is not in the split %v", s.deployment, s.index, s.of, v, got, s.weight)
			continue
		}
		p := float64(w) / 100
		tol := 0.05
		if s.requests > 0 {
			tol += 100 * 4.5 * math.Sqrt(p*(1-p)/float64(s.requests))
		}
		if math.Abs(got-float64(w)) > tol {
			t.Errorf("%s step %d/%d: %s got %.1f%% of %d requests; configured %d%% ± %.1f%%", s.deployment, s.index, s.of, v, got, s.requests, w, tol)
		}
	}
}

// TestRun runs the whole story fast and checks what can be seen from
// outside: the exit code, each deployment's outcome, the split each step
// carried, and where the traffic ends up.
func TestRun(t *testing.T) {
	var out, errOut bytes.Buffer
	code := run(t.Context(), fastArgs, &out, &errOut)
	o := out.String()
	if code != story.ExitOK {
		t.Fatalf("exit code %d, want %d\nstderr:\n%s\nstdout:\n%s", code, story.ExitOK, errOut.String(), o)
	}
	rows := deployments(t, o)
	if len(rows) != 3 {
		t.Fatalf("%d deployments in the table, want 3 ((a), (b) and (b)'s rollback):\n%s", len(rows), o)
	}
	want := []struct {
		alias, config, creator, status, code, shifts, why string
	}{
		// Linear 25% every minute is 25, 50, 75, 100 (package config).
		{"v1→v2", linearName, "user", "Succeeded", "-", "25% → 50% → 75% → 100%", "(a)"},
		// The alarm stops the canary during its first step, with
		// ALARM_ACTIVE ("Monitoring deployments with CloudWatch alarms in
		// CodeDeploy").
		{"v2→v3", canaryName, "user", "Stopped", "ALARM_ACTIVE", "10%", "(b)"},
		// The rollback is a new deployment of the last successful
		// revision, (a)'s, with creator codeDeployRollback ("Redeploy and
		// roll back a deployment with CodeDeploy"). How it schedules its
		// shifts AWS does not say; it ends at 100%.
		{"v1→v2", canaryName, "codeDeployRollback", "Succeeded", "-", "100%", "rollback"},
	}
	for i, w := range want {
		r := rows[i]
		shifts := r.shifts
		if w.why == "rollback" {
			shifts = shifts[strings.LastIndex(shifts, " ")+1:]
		}
		if r.alias != w.alias || r.config != w.config || r.creator != w.creator || r.status != w.status || r.code != w.code || shifts != w.shifts {
			t.Errorf("%s: %s %s %s by %s: %s (%s), shifts %s; want %s %s by %s: %s (%s), shifts %s", w.why, r.id, r.alias, r.config,
				r.creator, r.status, r.code, r.shifts, w.alias, w.config, w.creator, w.status, w.code, w.shifts)
		}
	}
	a, b, rb := rows[0].id, rows[1].id, rows[2].id

	// (a): every step carried its configured split, from enough
	// requests to mean something, and the last put everything on v2.
	as := steps(o, a)
	if len(as) != 4 {
		t.Fatalf("%d observed steps of %s; want 4", len(as), a)
	}
	for i, s := range as {
		if s.weight["v2"] != 25*(i+1) {
			t.Errorf("%s step %d: v2 weight %d%%; want %d%%", a, i+1, s.weight["v2"], 25*(i+1))
		}
		if i < 3 && s.requests < minJudged {
			t.Errorf("%s step %d carried %d requests; want at least %d to judge it", a, i+1, s.requests, minJudged)
		}
		if s.errors != 0 {
			t.Errorf("%s step %d: %d errors; v1 and v2 never fail", a, i+1, s.errors)
		}
		checkSplit(t, s)
	}

	// (b): one step at 10% on v3, whose errors are v3's.
	bs := steps(o, b)
	if len(bs) != 1 || bs[0].weight["v3"] != 10 {
		t.Fatalf("observed steps of %s: %+v; want one, at 10%% on v3", b, bs)
	}
	checkSplit(t, bs[0])
	if !strings.Contains(o, "alarm "+alarmName+": ") || !strings.Contains(o, "→ ALARM (v3: ") {
		t.Errorf("the output shows no change of %s to ALARM on v3's requests", alarmName)
	}
	if !strings.Contains(o, b+" Stopped: ALARM_ACTIVE") {
		t.Errorf("the output shows no stop of %s with ALARM_ACTIVE", b)
	}

	// The rollback: linked to (b), ends with everything on v2.
	if !strings.Contains(o, rb+" created by codeDeployRollback: v1→v2 with "+canaryName+", rolling back "+b) {
		t.Errorf("the rollback %s is not shown as rolling back %s", rb, b)
	}
	rs := steps(o, rb)
	if len(rs) == 0 || rs[len(rs)-1].weight["v2"] != 100 {
		t.Fatalf("observed steps of %s: %+v; want the last all on v2", rb, rs)
	}
	for _, s := range rs {
		checkSplit(t, s)
	}

	// The quiet minutes: one version answers everything, without errors.
	quiet := map[string]string{}
	for _, m := range quietRE.FindAllStringSubmatch(o, -1) {
		n, _ := strconv.Atoi(m[4])
		sh := shares(m[3])
		if len(sh) != 1 || m[5] != "0" || n < minJudged {
			t.Errorf("quiet window %q: %s of %s requests, %s errors; want one version, at least %d requests, no errors",
				m[1], m[3], m[4], m[5], minJudged)
		}
		for v, p := range sh {
			if p == 100 {
				quiet[m[1]] = v
			}
		}
	}
	for when, v := range map[string]string{"before": "v1", "after " + a: "v2", "after the rollback": "v2"} {
		if quiet[when] != v {
			t.Errorf("%s: %q answered everything; want %s", when, quiet[when], v)
		}
	}
	// The alias itself, read back after the rollback: everything on v2.
	if _, after, ok := strings.Cut(o, "checks of its rollback "+rb); !ok || !strings.Contains(after, "[ok] the alias shop:live now: all on v2\n") {
		t.Errorf("after the rollback the alias is not read back as all on v2")
	}
	if strings.Contains(o, "[MISMATCH]") {
		t.Errorf("exit 0 with a [MISMATCH] in the output:\n%s", o)
	}
}

// TestRunUsage: a bad command line exits 2 with a message and does
// nothing.
func TestRunUsage(t *testing.T) {
	storytest.CheckUsage(t, run, []storytest.UsageCase{
		{Args: []string{"-minute", "50ms"}, Code: story.ExitUsage, Msg: "-minute must be 100ms to 1m0s; got 50ms"},
		{Args: []string{"-minute", "2m"}, Code: story.ExitUsage, Msg: "-minute must be 100ms to 1m0s; got 2m0s"},
		{Args: []string{"-rate", "5"}, Code: story.ExitUsage, Msg: "-rate must be 20 to 2000; got 5"},
		{Args: []string{"-rate", "20", "-minute", "1s"}, Code: story.ExitUsage, Msg: "sends 20 requests per virtual minute; the story needs at least 150"},
		{Args: []string{"now"}, Code: story.ExitUsage, Msg: `unexpected arguments ["now"]`},
		{Args: []string{"-nope"}, Code: story.ExitUsage, Msg: "flag provided but not defined"},
		{Args: []string{"-h"}, Code: story.ExitOK, Msg: "usage: canary"},
	})
}

// TestRunInterrupted: Ctrl-C in the middle of a traffic shift (the context
// main wires to SIGINT) ends the run with exit 1 and a message, and
// stops everything (TestMain checks that no goroutine is left).
func TestRunInterrupted(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	out := &storytest.CancelOn{What: "AllowTraffic step 2/4", Cancel: cancel}
	var errOut bytes.Buffer
	code := run(ctx, fastArgs, out, &errOut)
	if code != story.ExitFailure || !strings.Contains(errOut.String(), "canary: interrupted") {
		t.Errorf("exit %d, stderr %q; want exit %d and canary: interrupted", code, errOut.String(), story.ExitFailure)
	}
}

// TestRateFromMinute: without -rate, every -minute that -h allows runs
// with enough requests per virtual minute; an explicit -rate is kept.
func TestRateFromMinute(t *testing.T) {
	for _, tc := range []struct {
		args []string
		rate int
	}{
		{nil, 200},
		{[]string{"-minute", "500ms"}, 300},
		{[]string{"-minute", "100ms"}, 1500},
		{[]string{"-minute", "1m"}, 200},
		{[]string{"-minute", "500ms", "-rate", "400"}, 400},
	} {
		var errOut bytes.Buffer
		o, code, ok := parseArgs(tc.args, &errOut)
		if !ok || o.rate != tc.rate {
			t.Errorf("%q: rate %d, ok %v (exit %d, %q); want rate %d", tc.args, o.rate, ok, code, errOut.String(), tc.rate)
		}
	}
	var help bytes.Buffer
	parseArgs([]string{"-h"}, &help)
	if !strings.Contains(help.String(), "by default 200, or more when -minute is shorter than 750ms") {
		t.Errorf("-h does not say how the rate follows -minute:\n%s", help.String())
	}
}

//go:build linux

package main

import (
	"bytes"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/fleetdeploy/fleetdeploy/examples/internal/story"
	"github.com/fleetdeploy/fleetdeploy/examples/internal/story/storytest"
)

// TestMain makes the test binary play the example's other roles when it
// is started as an executor process or a hook (TestRun starts it so, since
// it is the running executable); otherwise it runs the tests and checks
// that no goroutine outlives them.
func TestMain(m *testing.M) {
	if code, ok := playRole(); ok {
		os.Exit(code)
	}
	goleak.VerifyTestMain(m)
}

// TestRun runs the whole example on 6 instances — moto, three executor
// processes, the kill and the takeover — and checks what can be seen from
// outside: the exit code, the timeline and every check passing.
func TestRun(t *testing.T) {
	var out, errOut bytes.Buffer
	code := run(t.Context(), []string{"-instances", "6"}, &out, &errOut)
	o := out.String()
	t.Logf("output:\n%s", o)
	if code != story.ExitOK {
		t.Fatalf("exit code %d, want %d\nstderr:\n%s\nstdout:\n%s", code, story.ExitOK, errOut.String(), o)
	}
	if strings.Contains(o, "[MISMATCH]") {
		t.Errorf("a check failed, yet the exit code is 0:\n%s", o)
	}
	for _, want := range []*regexp.Regexp{
		regexp.MustCompile(`SIGKILL to (ha-\d) \(pid \d+\), the owner of lease 1`),
		regexp.MustCompile(`\[ok\] (ha-\d), another executor process, took the deployment over \d+\.\d+s after the kill`),
		regexp.MustCompile(`\[ok\] d-\w+ Succeeded: 6 of 6 instances Succeeded`),
		regexp.MustCompile(`\[ok\] no two hook runs overlapped on one instance`),
		regexp.MustCompile(`\[ok\] healthy instances never fell below the minimum .* keeps 3\n`),
		regexp.MustCompile(`\[ok\] no executor process \(3\) and no hook process \(\d+, of v1 and v2\) survives`),
		regexp.MustCompile(`\[ok\] moto stopped`),
	} {
		if !want.MatchString(o) {
			t.Errorf("no line matching %s in the output:\n%s", want, o)
		}
	}
	if n := strings.Count(o, "[ok]"); n != 12 {
		t.Errorf("%d checks passed, want 12:\n%s", n, o)
	}
	killed := regexp.MustCompile(`SIGKILL to (ha-\d)`).FindStringSubmatch(o)
	taker := regexp.MustCompile(`(ha-\d), another executor process`).FindStringSubmatch(o)
	if killed != nil && taker != nil && killed[1] == taker[1] {
		t.Errorf("%s was killed and took the deployment over", killed[1])
	}
}

// TestUsage: bad command lines exit 2 with a message; -h prints the usage.
func TestUsage(t *testing.T) {
	full := t.TempDir()
	if err := os.WriteFile(full+"/x", nil, 0o644); err != nil {
		t.Fatal(err)
	}
	storytest.CheckUsage(t, run, []storytest.UsageCase{
		{Args: []string{"-instances", "5"}, Code: story.ExitUsage, Msg: "-instances must be 6 to 200; got 5"},
		{Args: []string{"-executors", "1"}, Code: story.ExitUsage, Msg: "-executors must be 2 to 9; got 1"},
		{Args: []string{"-lease-ttl", "10ms"}, Code: story.ExitUsage, Msg: "-lease-ttl must be at least 100ms"},
		{Args: []string{"-supervise", "0s"}, Code: story.ExitUsage, Msg: "-supervise must be positive"},
		{Args: []string{"-dir", full}, Code: story.ExitUsage, Msg: "is not empty"},
		{Args: []string{"now"}, Code: story.ExitUsage, Msg: `unexpected arguments ["now"]`},
		{Args: []string{"-h"}, Code: story.ExitOK, Msg: "usage: ha"},
	})
}

// at returns a time s seconds after a fixed origin.
func at(s float64) time.Time {
	return time.Unix(1_700_000_000, 0).Add(time.Duration(s * float64(time.Second)))
}

// run is a hook run from a to b seconds (b < 0: cut short).
func runOf(executor, hook int, instance, event string, a, b float64) hookRun {
	r := hookRun{executor: executor, hook: hook, instance: instance, event: event, start: at(a)}
	if b >= 0 {
		r.end = at(b)
	}
	return r
}

func TestParseHookLog(t *testing.T) {
	log := "" +
		"10 web-01 BeforeInstall 1000 - 501\n" +
		"10 web-02 BeforeInstall 1100 - 502\n" +
		"10 web-01 BeforeInstall 1000 2000 501\n" +
		"11 web-02 BeforeInstall 5000 - 503\n" +
		"11 web-02 BeforeInstall 5000 6000 503\n" +
		"11 web-03 BeforeInstall 7000 - 5" // being written
	runs, err := parseHookLog([]byte(log))
	if err != nil {
		t.Fatal(err)
	}
	want := []hookRun{
		{executor: 10, hook: 501, instance: "web-01", event: "BeforeInstall", start: time.Unix(0, 1000), end: time.Unix(0, 2000)},
		{executor: 10, hook: 502, instance: "web-02", event: "BeforeInstall", start: time.Unix(0, 1100)},
		{executor: 11, hook: 503, instance: "web-02", event: "BeforeInstall", start: time.Unix(0, 5000), end: time.Unix(0, 6000)},
	}
	if !slices.EqualFunc(runs, want, func(a, b hookRun) bool {
		return a.executor == b.executor && a.hook == b.hook && a.instance == b.instance && a.event == b.event &&
			a.start.Equal(b.start) && a.end.Equal(b.end)
	}) {
		t.Errorf("runs %+v\nwant %+v", runs, want)
	}
	for _, bad := range []string{
		"10 web-01 BeforeInstall 1000 -\n",
		"x web-01 BeforeInstall 1000 - 501\n",
		"10 web-01 BeforeInstall 1000 soon 501\n",
		"10 web-01 BeforeInstall 1000 2000 501\n10 web-01 BeforeInstall 1000 2000 501\n",
	} {
		if _, err := parseHookLog([]byte(bad)); err == nil {
			t.Errorf("parseHookLog(%q) succeeded", bad)
		}
	}
}

func TestOverlaps(t *testing.T) {
	cut := at(10)
	for _, c := range []struct {
		name string
		runs []hookRun
		want int
	}{
		{"one after the other, across processes", []hookRun{
			runOf(10, 1, "web-01", "BeforeInstall", 0, 1),
			runOf(11, 2, "web-01", "AfterInstall", 1, 2),
			runOf(10, 3, "web-02", "BeforeInstall", 0.5, 1.5),
		}, 0},
		{"two processes at once", []hookRun{
			runOf(10, 1, "web-01", "BeforeInstall", 0, 2),
			runOf(11, 2, "web-01", "BeforeInstall", 1, 3),
		}, 1},
		{"a run cut short lasts until it was seen dead", []hookRun{
			runOf(10, 1, "web-01", "AfterInstall", 9, -1),
			runOf(11, 2, "web-01", "AfterInstall", 9.5, 11),
		}, 1},
		{"one process, two events at once", []hookRun{
			runOf(10, 1, "web-01", "BeforeInstall", 0, 2),
			runOf(10, 2, "web-01", "AfterInstall", 1, 3),
			runOf(10, 3, "web-01", "ApplicationStart", 1.5, 4),
		}, 3},
	} {
		if got := overlaps(c.runs, cut); len(got) != c.want {
			t.Errorf("%s: %d overlaps %v, want %d", c.name, len(got), got, c.want)
		}
	}
}

func TestOfflinePeak(t *testing.T) {
	runs := []hookRun{
		// web-01 offline 0–3 (two runs), web-02 1–2, web-03 2–4: at most two
		// at once, web-02 ending when web-03 starts.
		runOf(10, 1, "web-01", "BeforeInstall", 0, 1),
		runOf(10, 2, "web-01", "ValidateService", 2.5, 3),
		runOf(10, 3, "web-02", "BeforeInstall", 1, 2),
		runOf(10, 4, "web-03", "BeforeInstall", 2, 4),
	}
	if peak, when := offlinePeak(runs, at(10)); peak != 2 || !when.Equal(at(1)) {
		t.Errorf("peak %d at %v, want 2 at %v", peak, when, at(1))
	}
	// A run cut short keeps its instance offline until the takeover's run
	// of it ends; web-04 overlaps all three then.
	runs = append(runs, runOf(10, 5, "web-04", "AfterInstall", 0.5, -1), runOf(11, 6, "web-04", "AfterInstall", 5, 6))
	if peak, _ := offlinePeak(runs, at(0.6)); peak != 3 {
		t.Errorf("peak %d with web-04 offline 0.5–6, want 3", peak)
	}
}

func TestRerunProblems(t *testing.T) {
	const killed, taker = 10, 11
	killedAt := at(5)
	k := func(instance, event string) eventKey { return eventKey{instance, event} }
	for _, c := range []struct {
		name       string
		runs       []hookRun
		stored     map[eventKey]bool
		wantReruns int
		wantBad    int
	}{
		{"stored once, in flight re-run by the taker", []hookRun{
			runOf(killed, 1, "web-01", "BeforeInstall", 1, 2),
			runOf(killed, 2, "web-01", "AfterInstall", 4, -1),
			runOf(taker, 3, "web-01", "AfterInstall", 8, 9),
		}, map[eventKey]bool{k("web-01", "BeforeInstall"): true}, 1, 0},
		{"an event stored at the kill ran again", []hookRun{
			runOf(killed, 1, "web-01", "BeforeInstall", 1, 2),
			runOf(taker, 2, "web-01", "BeforeInstall", 8, 9),
		}, map[eventKey]bool{k("web-01", "BeforeInstall"): true}, 0, 1},
		{"stored at the kill, run only after it", []hookRun{
			runOf(taker, 1, "web-01", "BeforeInstall", 8, 9),
		}, map[eventKey]bool{k("web-01", "BeforeInstall"): true}, 0, 1},
		{"ran twice without the kill having a part", []hookRun{
			runOf(taker, 1, "web-02", "AfterInstall", 6, 7),
			runOf(taker, 2, "web-02", "AfterInstall", 8, 9),
		}, nil, 1, 1},
		{"ran twice, both by the killed executor", []hookRun{
			runOf(killed, 1, "web-02", "AfterInstall", 1, 2),
			runOf(killed, 2, "web-02", "AfterInstall", 3, 4),
		}, nil, 1, 1},
	} {
		reruns, bad := rerunProblems(runsByEvent(c.runs), c.stored, killed, killedAt)
		if len(reruns) != c.wantReruns || len(bad) != c.wantBad {
			t.Errorf("%s: reruns %v, problems %q; want %d reruns and %d problems", c.name, reruns, bad, c.wantReruns, c.wantBad)
		}
	}
}

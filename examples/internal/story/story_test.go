package story

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"
)

func TestChecks(t *testing.T) {
	var out bytes.Buffer
	c := NewChecks(func(format string, args ...any) { fmt.Fprintf(&out, format+"\n", args...) })
	if got := c.Verdict(); got != "every outcome as the rules predict." {
		t.Errorf("Verdict with no checks = %q", got)
	}
	c.Expect(true, "a %d", 1)
	if got := c.Verdict(); got != "every outcome as the rules predict." || len(c.Problems()) != 0 {
		t.Errorf("after an ok check: Verdict %q, Problems %q", got, c.Problems())
	}
	c.Expect(false, "b %d%%", 2)
	c.Expect(false, "c")
	if want := []string{"b 2%", "c"}; !slices.Equal(c.Problems(), want) {
		t.Errorf("Problems = %q, want %q", c.Problems(), want)
	}
	if got, want := c.Verdict(), "2 outcomes differ from what the rules predict ([MISMATCH] above)."; got != want {
		t.Errorf("Verdict = %q, want %q", got, want)
	}
	if got, want := out.String(), "  [ok] a 1\n  [MISMATCH] b 2%\n  [MISMATCH] c\n"; got != want {
		t.Errorf("output %q, want %q", got, want)
	}
}

// TestParseFlags checks NewFlagSet and ParseFlags together: the usage
// lines come before the flags' defaults.
func TestParseFlags(t *testing.T) {
	const usage = "usage: prog [-n N]\nDoes nothing.\n  -n N\n    \tN things\n"
	for _, tc := range []struct {
		args   []string
		code   int
		ok     bool
		stderr string
	}{
		{nil, ExitOK, true, ""},
		{[]string{"-n", "3"}, ExitOK, true, ""},
		{[]string{"-h"}, ExitOK, false, usage},
		{[]string{"-nope"}, ExitUsage, false, "flag provided but not defined: -nope\n" + usage},
		{[]string{"-n", "3", "now", "x"}, ExitUsage, false, "prog: unexpected arguments [\"now\" \"x\"]\n" + usage},
	} {
		var errOut bytes.Buffer
		fs := NewFlagSet("prog", &errOut, "usage: prog [-n N]", "Does nothing.")
		fs.Int("n", 0, "`N` things")
		code, ok := ParseFlags(fs, tc.args)
		if code != tc.code || ok != tc.ok || errOut.String() != tc.stderr {
			t.Errorf("ParseFlags %q = %d, %v, stderr %q; want %d, %v, %q", tc.args, code, ok, errOut.String(), tc.code, tc.ok, tc.stderr)
		}
	}
}

func TestExit(t *testing.T) {
	done, cancel := context.WithCancel(t.Context())
	cancel()
	boom := errors.New("boom")
	for _, tc := range []struct {
		name     string
		ctx      context.Context
		err      error
		problems []string
		code     int
		stderr   string
	}{
		{"ok", t.Context(), nil, nil, ExitOK, ""},
		{"error", t.Context(), boom, []string{"ignored"}, ExitFailure, "p: boom\n"},
		{"interrupted", done, boom, nil, ExitFailure, "p: interrupted: boom\n"},
		{"cancelled without error", done, nil, nil, ExitOK, ""},
		{"problems", t.Context(), nil, []string{"a", "b"}, ExitFailure,
			"p: 2 outcomes differ from what the rules predict:\n  - a\n  - b\n"},
	} {
		var errOut bytes.Buffer
		if code := Exit(tc.ctx, &errOut, "p", tc.err, tc.problems); code != tc.code || errOut.String() != tc.stderr {
			t.Errorf("%s: exit %d, stderr %q; want %d, %q", tc.name, code, errOut.String(), tc.code, tc.stderr)
		}
	}
}

// The fast clock runs speed times faster than real time, and its timers
// never fire before their virtual deadline.
func TestFastClock(t *testing.T) {
	c := NewFastClock(60)
	if got := c.Real(time.Minute); got != time.Second {
		t.Errorf("a minute takes %s of real time; want 1s", got)
	}
	if got := c.Real(time.Minute + 1); got != time.Second+1 {
		t.Errorf("a minute and 1ns takes %s; want rounded up to 1.000000001s", got)
	}
	start := c.Now()
	tm := c.NewTimer(90 * time.Millisecond * 60)
	fired := <-tm.C()
	if d := fired.Sub(start); d < 90*time.Millisecond*60 {
		t.Errorf("a timer of %s fired after %s of virtual time", 90*time.Millisecond*60, d)
	}
	if tm.Stop() {
		t.Error("Stop of a fired timer reports it stopped it")
	}
	now := c.NewTimer(0)
	select {
	case <-now.C():
	default:
		t.Error("a timer of 0 has not fired at once")
	}
}

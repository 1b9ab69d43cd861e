package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"regexp"
	"strings"
	"testing"

	"go.uber.org/goleak"

	"github.com/fleetdeploy/fleetdeploy/examples/internal/story"
	"github.com/fleetdeploy/fleetdeploy/examples/internal/story/storytest"
	"github.com/fleetdeploy/fleetdeploy/internal/motoserver"
)

// Every test checks that no goroutine outlives it: the executor's, the
// hook functions', the reporting endpoint's, the SDK's.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// TestRun runs the whole story against moto and checks what can be seen
// from outside: the exit code, every check passing, the hooks' reports
// and the deployments' outcomes.
func TestRun(t *testing.T) {
	var out, errOut bytes.Buffer
	code := run(t.Context(), nil, &out, &errOut)
	o := out.String()
	if code != story.ExitOK {
		t.Fatalf("exit code %d, want %d\nstderr:\n%s\nstdout:\n%s", code, story.ExitOK, errOut.String(), o)
	}
	if strings.Contains(o, "[MISMATCH]") {
		t.Errorf("a check failed, yet the exit code is 0:\n%s", o)
	}
	if n := strings.Count(o, "  [ok] "); n != 18 {
		t.Errorf("%d checks passed, want 18:\n%s", n, o)
	}
	for _, want := range []*regexp.Regexp{
		regexp.MustCompile(`hook checkout-preflight-\w+ \((d-\w+)-BeforeAllowTraffic\): alias live on version 1, no weighted routing; reporting Succeeded\n`),
		regexp.MustCompile(`lambda: alias live now on version 1, 10% to version 2\n`),
		regexp.MustCompile(`hook checkout-smoke-\w+ \((d-\w+)-AfterAllowTraffic\): .*version 3.* reporting Failed\n`),
		regexp.MustCompile(`\n  (d-\w+): Failed — HOOK_EXECUTION_FAILURE: `),
		regexp.MustCompile(`\n(d-\w+)\s+codeDeployRollback\s+Succeeded\s`),
		regexp.MustCompile(`\nmoto stopped\.\n`),
	} {
		if !want.MatchString(o) {
			t.Errorf("no line matching %s in the output:\n%s", want, o)
		}
	}
	if got := strings.Count(o, "    lambda: alias live now on "); got != 5 {
		t.Errorf("%d alias updates printed, want 5 (two canaries of two shifts, one rollback):\n%s", got, o)
	}
}

// TestUsage: bad command lines exit 2 with a message; -h prints the usage.
func TestUsage(t *testing.T) {
	storytest.CheckUsage(t, run, []storytest.UsageCase{
		{Args: []string{"now"}, Code: story.ExitUsage, Msg: `unexpected arguments ["now"]`},
		{Args: []string{"-nope"}, Code: story.ExitUsage, Msg: "flag provided but not defined"},
		{Args: []string{"-h"}, Code: story.ExitOK, Msg: "usage: lambda"},
	})
}

// TestRunInterrupted: Ctrl-C while a hook function is under way (the
// context main wires to SIGINT) ends the run with exit 1 and a message;
// moto is stopped all the same, and TestMain sees no goroutine left.
func TestRunInterrupted(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var out, errOut bytes.Buffer // the program writes one line at a time
	code := run(ctx, nil, io.MultiWriter(&out, &storytest.CancelOn{What: "reporting Succeeded", Cancel: cancel}), &errOut)
	if code != story.ExitFailure || !strings.Contains(errOut.String(), "lambda: interrupted") {
		t.Errorf("exit %d, stderr %q; want exit %d and lambda: interrupted", code, errOut.String(), story.ExitFailure)
	}
	if os.Getenv(motoserver.EndpointEnv) == "" && !strings.Contains(out.String(), "\nmoto stopped.\n") {
		t.Errorf("moto was not stopped after the interruption:\n%s", out.String())
	}
}

// TestAuthenticate: the endpoint lets in only requests signed with the
// hook functions' access key.
func TestAuthenticate(t *testing.T) {
	for _, c := range []struct {
		auth string
		ok   bool
	}{
		{"", false},
		{"Bearer " + hookAccessKey, false},
		{"AWS4-HMAC-SHA256 Credential=AKIDSOMEONEELSE/20260301/us-east-1/codedeploy/aws4_request, SignedHeaders=host, Signature=00", false},
		{"AWS4-HMAC-SHA256 Credential=" + hookAccessKey + "/20260301/us-east-1/codedeploy/aws4_request, SignedHeaders=host, Signature=00", true},
	} {
		r, err := http.NewRequest(http.MethodPost, "http://127.0.0.1/", nil)
		if err != nil {
			t.Fatal(err)
		}
		if c.auth != "" {
			r.Header.Set("Authorization", c.auth)
		}
		if err := authenticate(r); (err == nil) != c.ok {
			t.Errorf("Authorization %q: %v; want accepted %v", c.auth, err, c.ok)
		}
	}
}

// aliasState says what GetAlias returned as the output prints it.
func TestAliasState(t *testing.T) {
	for _, c := range []struct {
		s    aliasState
		want string
	}{
		{aliasState{version: "1"}, "version 1, no weighted routing"},
		{aliasState{version: "1", weights: map[string]float64{"2": 0.1}}, "version 1, 10% to version 2"},
	} {
		if got := c.s.String(); got != c.want {
			t.Errorf("%+v: %q, want %q", c.s, got, c.want)
		}
	}
	if !(aliasState{version: "2"}).is("2", nil) || (aliasState{version: "1", weights: map[string]float64{"2": 0.1}}).is("1", nil) {
		t.Error("is does not compare the weights")
	}
}

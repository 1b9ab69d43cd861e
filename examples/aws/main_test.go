package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"go.uber.org/goleak"

	"github.com/fleetdeploy/fleetdeploy/examples/internal/story"
	"github.com/fleetdeploy/fleetdeploy/examples/internal/story/storytest"
)

// Every test checks that no goroutine outlives it: the executor's, the
// agents', the SDK's.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// TestRun runs the whole story against moto and checks what can be seen
// from outside: the exit code, every check passing, the deployments'
// outcomes and the local instances' disks.
func TestRun(t *testing.T) {
	dir := t.TempDir()
	var out, errOut bytes.Buffer
	code := run(t.Context(), []string{"-dir", dir}, &out, &errOut)
	o := out.String()
	if code != story.ExitOK {
		t.Fatalf("exit code %d, want %d\nstderr:\n%s\nstdout:\n%s", code, story.ExitOK, errOut.String(), o)
	}
	if strings.Contains(o, "[MISMATCH]") {
		t.Errorf("a check failed, yet the exit code is 0:\n%s", o)
	}
	if n := strings.Count(o, "  [ok] "); n != 27 {
		t.Errorf("%d checks passed, want 27:\n%s", n, o)
	}
	for _, want := range []*regexp.Regexp{
		regexp.MustCompile(`\n(d-\w+)\s+v1\s+web\s+user\s+Succeeded\s+-\s`),
		regexp.MustCompile(`\n(d-\w+)\s+blue/green\s+web-bg\s+user\s+Succeeded\s+-\s`),
		regexp.MustCompile(`\n(d-\w+)\s+v2\s+web\s+user\s+Stopped\s+ALARM_ACTIVE\s`),
		regexp.MustCompile(`\n(d-\w+)\s+rollback\s+web\s+codeDeployRollback\s+Succeeded\s+-\s`),
		regexp.MustCompile(`autoscaling: created group CodeDeploy_web-bg_d-\w+, 3 instances`),
		regexp.MustCompile(`autoscaling: deleted group shop-asg-\w+ with its instances`),
		regexp.MustCompile(`cloudwatch: alarm shop-5xx-\w+ set to ALARM`),
		regexp.MustCompile(`sns → sqs: DeploymentStop\s+STOPPED: AWS CodeDeploy d-\w+ in us-east-1 to shop`),
		regexp.MustCompile(`\nmoto stopped\.\n`),
	} {
		if !want.MatchString(o) {
			t.Errorf("no line matching %s in the output:\n%s", want, o)
		}
	}
	if got := strings.Count(o, "sns → sqs: "); got != 9 {
		t.Errorf("%d notifications printed, want 9", got)
	}

	// The local instances: six web instances and six of the Auto Scaling
	// groups (three originals, three replacements); every web instance
	// and every replacement serves v1.
	dirs, err := os.ReadDir(filepath.Join(dir, "instances"))
	if err != nil {
		t.Fatal(err)
	}
	serving := 0
	for _, d := range dirs {
		b, err := os.ReadFile(filepath.Join(dir, "instances", d.Name(), "var", "run", "app", "version"))
		if err == nil && strings.TrimSpace(string(b)) == "v1" {
			serving++
		}
	}
	if len(dirs) != 12 || serving != 9 {
		t.Errorf("%d local instances, %d of them running v1; want 12 and 9", len(dirs), serving)
	}
}

// TestUsage: bad command lines exit 2 with a message; -h prints the usage.
func TestUsage(t *testing.T) {
	full := t.TempDir()
	if err := os.WriteFile(filepath.Join(full, "x"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	storytest.CheckUsage(t, run, []storytest.UsageCase{
		{Args: []string{"-dir", full}, Code: story.ExitUsage, Msg: "is not empty"},
		{Args: []string{"now"}, Code: story.ExitUsage, Msg: `unexpected arguments ["now"]`},
		{Args: []string{"-nope"}, Code: story.ExitUsage, Msg: "flag provided but not defined"},
		{Args: []string{"-h"}, Code: story.ExitOK, Msg: "usage: aws"},
	})
}

// lowestRegistered replays a target group's registrations.
func TestLowestRegistered(t *testing.T) {
	calls := []call{
		{op: "deregister", on: "web", what: []string{"a"}},
		{op: "deregister", on: "other", what: []string{"x", "y"}},
		{op: "deregister", on: "web", what: []string{"b", "c"}},
		{op: "register", on: "web", what: []string{"a"}},
		{op: "deregister", on: "web", what: []string{"d"}},
	}
	if got := lowestRegistered(calls, "web", 6); got != 3 {
		t.Errorf("lowest = %d, want 3", got)
	}
}

// TestRunInterrupted: Ctrl-C in the middle of a deployment (the context
// main wires to SIGINT) ends the run with exit 1 and a message, and moto
// is stopped all the same.
func TestRunInterrupted(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var out, errOut bytes.Buffer // the program writes one line at a time
	code := run(ctx, nil, io.MultiWriter(&out, &storytest.CancelOn{What: "InProgress", Cancel: cancel}), &errOut)
	if code != story.ExitFailure || !strings.Contains(errOut.String(), "aws: interrupted") {
		t.Errorf("exit %d, stderr %q; want exit %d and aws: interrupted", code, errOut.String(), story.ExitFailure)
	}
	if os.Getenv("FLEETDEPLOY_AWS_ENDPOINT") == "" && !strings.Contains(out.String(), "\nmoto stopped.\n") {
		t.Errorf("moto was not stopped after the interruption:\n%s", out.String())
	}
}

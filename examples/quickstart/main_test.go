package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/fleetdeploy/fleetdeploy/examples/internal/story"
	"github.com/fleetdeploy/fleetdeploy/examples/internal/story/storytest"
	"go.uber.org/goleak"
)

// Every test checks that no goroutine outlives it: the executor's workers,
// the agents' script readers, the quickstart's own.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// row is one line of the "Deployments" table.
type row struct {
	id, version, creator, status, code    string
	succeeded, failed, skipped            int
	startHealthy, lowestHealthy, minimumM int
}

var rowRE = regexp.MustCompile(`^(d-[A-Z0-9]+)\s+(v\d)\s+(\S+)\s+(\S+)\s+(\S+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)$`)

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
		n := func(i int) int { v, _ := strconv.Atoi(m[i]); return v }
		rows = append(rows, row{m[1], m[2], m[3], m[4], m[5], n(6), n(7), n(8), n(9), n(10), n(11)})
	}
	return rows
}

// section returns the output lines of one deployment: from its heading
// line to its result.
func section(out, id string) []string {
	_, rest, _ := strings.Cut(out, "deployment "+id+":")
	body, _, _ := strings.Cut(rest, "  result:")
	return strings.Split(body, "\n")
}

// TestRun runs the whole story on 6 instances (minimum healthy 3 of
// HalfAtATime: ⌈6·50/100⌉; 3 may be offline at once) and checks what can be
// seen from outside: the exit code, the outcome of each deployment, and
// the instances' disks.
func TestRun(t *testing.T) {
	dir := t.TempDir()
	var out, errOut bytes.Buffer
	code := run(t.Context(), []string{"-instances", "6", "-dir", dir}, &out, &errOut)
	if code != story.ExitOK {
		t.Fatalf("exit code %d, want %d\nstderr:\n%s\nstdout:\n%s", code, story.ExitOK, errOut.String(), out.String())
	}
	o := out.String()
	if strings.Contains(o, "\033[") {
		t.Errorf("output to a buffer (not a terminal) has escape sequences")
	}

	rows := deployments(t, o)
	if len(rows) != 5 {
		t.Fatalf("%d deployments in the table, want 5 (v0, v1, v2, v3, v3's rollback):\n%s", len(rows), o)
	}
	const minimum = 3
	want := []struct {
		version, creator, status, code string
		succeeded, failed              int
		why                            string
	}{
		// "CodeDeploy instance health": a fleet that never received a
		// revision is all Unhealthy; 5 of 6 succeed (web-06 in
		// maintenance) ≥ 3.
		{"v0", "user", "Succeeded", "-", 5, 1, "history"},
		// Every instance succeeds.
		{"v1", "user", "Succeeded", "-", 6, 0, "step 1"},
		// 5 of 6 succeed (web-04's disk is full) ≥ max(M, 1) = 3.
		{"v2", "user", "Succeeded", "-", 5, 1, "step 2"},
		// Every attempted instance fails; once healthy falls to M with
		// instances left, the deployment fails.
		{"v3", "user", "Failed", "HEALTH_CONSTRAINTS", 0, 3, "step 3"},
		// "Redeploy and roll back a deployment with CodeDeploy": the
		// rollback redeploys the last successful revision, v2, to every
		// instance.
		{"v2", "codeDeployRollback", "Succeeded", "-", 6, 0, "rollback"},
	}
	for i, w := range want {
		r := rows[i]
		if r.version != w.version || r.creator != w.creator || r.status != w.status || r.code != w.code ||
			r.succeeded != w.succeeded || r.failed != w.failed {
			t.Errorf("%s: deployment %s: %s by %s %s (%s), %d succeeded, %d failed; want %s by %s %s (%s), %d succeeded, %d failed",
				w.why, r.id, r.version, r.creator, r.status, r.code, r.succeeded, r.failed,
				w.version, w.creator, w.status, w.code, w.succeeded, w.failed)
		}
		if r.minimumM != minimum {
			t.Errorf("%s: minimum %d, want %d", w.why, r.minimumM, minimum)
		}
		// Never below the minimum; a fleet that starts below it is never
		// taken lower ("CodeDeploy instance health").
		if r.lowestHealthy < min(minimum, r.startHealthy) {
			t.Errorf("%s: lowest healthy %d < min(minimum %d, healthy at start %d)", w.why, r.lowestHealthy, minimum, r.startHealthy)
		}
	}
	if rows[0].startHealthy != 0 || rows[1].startHealthy != 5 || rows[2].startHealthy != 6 {
		t.Errorf("healthy at start of v0, v1, v2: %d, %d, %d; want 0 (never deployed), 5 (web-06 failed v0), 6",
			rows[0].startHealthy, rows[1].startHealthy, rows[2].startHealthy)
	}
	v1, v2, v3, rb := rows[1].id, rows[2].id, rows[3].id, rows[4].id

	// Unhealthy first ("CodeDeploy instance health"): web-06 — last by ID
	// — is in v1's first wave of 3.
	var started []string
	for _, line := range section(o, v1) {
		if f := strings.Fields(line); len(f) >= 3 && f[1] == "started" {
			started = append(started, f[2])
		}
	}
	if len(started) != 6 || !strings.Contains(strings.Join(started[:3], " "), "web-06") {
		t.Errorf("v1 started %v; want web-06 among the first 3", started)
	}

	// The rollback is linked to the deployment it rolls back.
	if !strings.Contains(o, "rollbackInfo: Rolled back by deployment "+rb) {
		t.Errorf("v3's rollback info does not name the rollback %s:\n%s", rb, o)
	}

	// The disks: every instance serves v2 and runs it, and its last
	// ApplicationStart was the rollback's.
	fleet := filepath.Join(dir, "fleet")
	for i := 1; i <= 6; i++ {
		id := "web-0" + strconv.Itoa(i)
		if got := readFile(t, fleet, id, "var/www/index.html"); !strings.Contains(got, "<title>shop v2</title>") {
			t.Errorf("%s serves %q; want v2's page", id, got)
		}
		if got := strings.TrimSpace(readFile(t, fleet, id, "var/run/app/version")); got != "v2" {
			t.Errorf("%s runs %q; want v2", id, got)
		}
		var last string
		for _, line := range strings.Split(readFile(t, fleet, id, "var/log/app.log"), "\n") {
			if strings.HasPrefix(line, "ApplicationStart ") {
				last = line
			}
		}
		if want := "ApplicationStart v2 deployment=" + rb; last != want {
			t.Errorf("%s: last ApplicationStart %q; want %q", id, last, want)
		}
	}
	// web-04's full disk failed v2's ValidateService: the script's output
	// is in the agent's log of that deployment. v3 tried to start there.
	logs, _ := filepath.Glob(filepath.Join(fleet, "web-04", "deployment-root", "*", v2, "logs", "scripts.log"))
	if len(logs) != 1 || !strings.Contains(readFile(t, "", "", logs[0]), "web-04's disk is 97% full") {
		t.Errorf("web-04's scripts.log of %s (%v) does not report the full disk", v2, logs)
	}
	if !strings.Contains(readFile(t, fleet, "web-04", "var/log/app.log"), "ApplicationStart v3 deployment="+v3) {
		t.Errorf("web-04 (Unhealthy, so first) never tried v3")
	}
}

func readFile(t *testing.T, fleet, id, rel string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(fleet, id, filepath.FromSlash(rel)))
	if err != nil {
		t.Error(err)
	}
	return string(b)
}

// TestRunUsage: a bad command line exits 2 with a message and does
// nothing.
func TestRunUsage(t *testing.T) {
	full := t.TempDir()
	if err := os.WriteFile(filepath.Join(full, "x"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	storytest.CheckUsage(t, run, []storytest.UsageCase{
		{Args: []string{"-instances", "2"}, Code: story.ExitUsage, Msg: "-instances must be 3 to 200; got 2"},
		{Args: []string{"-instances", "201"}, Code: story.ExitUsage, Msg: "-instances must be 3 to 200; got 201"},
		{Args: []string{"-dir", full}, Code: story.ExitUsage, Msg: "is not empty"},
		{Args: []string{"now"}, Code: story.ExitUsage, Msg: `unexpected arguments ["now"]`},
		{Args: []string{"-nope"}, Code: story.ExitUsage, Msg: "flag provided but not defined"},
		{Args: []string{"-h"}, Code: story.ExitOK, Msg: "usage: quickstart"},
	})
}

// TestRunInterrupted: Ctrl-C in the middle of a deployment (the context
// main wires to SIGINT) ends the run with exit 1 and a message, leaving no
// goroutine behind (TestMain checks) and the -dir fleet in place.
func TestRunInterrupted(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	dir := t.TempDir()
	out := &storytest.CancelOn{What: "started", Cancel: cancel}
	var errOut bytes.Buffer
	code := run(ctx, []string{"-instances", "3", "-dir", dir}, out, &errOut)
	if code != story.ExitFailure || !strings.Contains(errOut.String(), "quickstart: interrupted") {
		t.Errorf("exit %d, stderr %q; want exit %d and quickstart: interrupted", code, errOut.String(), story.ExitFailure)
	}
	if _, err := os.Stat(filepath.Join(dir, "fleet", "web-01")); err != nil {
		t.Errorf("the -dir fleet is gone: %v", err)
	}
}

package localtarget_test

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/fleetdeploy/fleetdeploy/deploy/clock"
	"github.com/fleetdeploy/fleetdeploy/target"
	"github.com/fleetdeploy/fleetdeploy/target/localtarget"
)

// TestHookDiesWithTheAgent: on Linux a hook gets SIGKILL when the agent's
// process dies, so that no hook outlives an executor that crashed or was
// killed (the executor taking the deployment over runs the event again).
//
// The agent runs in a process of its own (the test binary as
// agentProcess), with the write end of a pipe as its file descriptor 3,
// which its hook inherits: the hook reports its PID through it and then
// becomes "sleep 1000", keeping it open. The test kills the agent process
// with SIGKILL; the pipe then reads end-of-file once every process holding
// it — the hook — has exited. Without the parent-death signal the hook
// would sleep on, and the read would hit its deadline.
func TestHookDiesWithTheAgent(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var stderr bytes.Buffer
	cmd := exec.Command(exe, "-test.run=^$")
	cmd.Env = append(os.Environ(), agentProcessEnv+"="+t.TempDir(),
		"HOOK=#!/bin/sh\necho $$ >&3\nexec sleep 1000\n")
	cmd.ExtraFiles = []*os.File{w}
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	w.Close() // the agent process and its hook hold it now
	defer func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	}()

	// A deadline bounds the failure, not the wait: every read returns as
	// soon as its data (or end-of-file) is there.
	if err := r.SetReadDeadline(time.Now().Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(r)
	line, err := br.ReadString('\n')
	if err != nil {
		t.Fatalf("the hook did not report its PID (%v); agent process: %s", err, stderr.String())
	}
	hook := atoi(t, strings.TrimSpace(line))

	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err == nil {
		t.Fatalf("the agent process exited by itself: %s", stderr.String())
	}
	if err := r.SetReadDeadline(time.Now().Add(20 * time.Second)); err != nil {
		t.Fatal(err)
	}
	if rest, err := io.ReadAll(br); err != nil {
		_ = syscall.Kill(hook, syscall.SIGKILL)
		t.Fatalf("hook %d outlived its agent: the pipe it holds is still open (%v; read %q)", hook, err, rest)
	}
	requireDead(t, hook)
}

// textBusySpec is an AppSpec whose ApplicationStart runs start.sh.
const textBusySpec = "version: 0.0\nos: linux\nhooks:\n  ApplicationStart:\n    - location: start.sh\n"

// holdForWriting opens the deployment archive's start.sh for writing, as a
// process forked while DownloadBundle wrote it holds it until it execs:
// the kernel refuses to run it meanwhile (ETXTBSY).
func holdForWriting(t *testing.T, f *fixture) *os.File {
	t.Helper()
	w, err := os.OpenFile(f.path("/deployment-root/dg-1/d-1/deployment-archive/start.sh"), os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// startEvent runs event e of d on the fixture's instance in a goroutine.
// The result arrives on the channel; the context ends with the event, so
// that a test waiting on the fake clock for a wait that never comes fails
// instead of hanging.
func startEvent(f *fixture, d target.DeploymentInfo, e target.LifecycleEvent) (<-chan target.EventResult, context.Context) {
	ctx, cancel := context.WithCancel(f.t.Context())
	done := make(chan target.EventResult, 1)
	go func() {
		defer cancel()
		r, err := f.fleet.RunEvent(context.Background(), target.EventRequest{Target: f.inst, Event: e, Deployment: d})
		if err != nil {
			r = target.EventResult{Status: target.EventFailed, Message: "RunEvent: " + err.Error()}
		}
		done <- r
	}()
	return done, ctx
}

// TestTextBusyScriptIsRetried: a script refused with "text file busy" is
// started again once the file is no longer open for writing: at once, then
// after 1 ms, 2 ms, … on the agent's clock.
func TestTextBusyScriptIsRetried(t *testing.T) {
	clk := clock.NewFake(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	f := newFixture(t, func(o *localtarget.Options) { o.Clock = clk })
	d := deployment("d-1", f.put("v.zip", textBusySpec, map[string]string{"start.sh": "#!/bin/sh\necho started\n"}))
	f.run(d, target.DownloadBundle)
	w := holdForWriting(t, f)
	done, running := startEvent(f, d, target.ApplicationStart)
	// Refused twice (the first retry is at once); now waiting 1 ms.
	if err := clk.BlockUntil(running, 1); err != nil {
		w.Close()
		t.Fatalf("ApplicationStart did not wait to start the script again: %+v", <-done)
	}
	w.Close()
	clk.Advance(time.Millisecond)
	if r := <-done; r.Status != target.EventSucceeded || r.LogTail != "started\n" {
		t.Fatalf("ApplicationStart once the script is no longer open for writing: %+v", r)
	}
}

// TestTextBusyScriptFails: a script that stays open for writing fails the
// event once the retries are spent, saying why.
func TestTextBusyScriptFails(t *testing.T) {
	clk := clock.NewFake(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	f := newFixture(t, func(o *localtarget.Options) { o.Clock = clk })
	d := deployment("d-1", f.put("v.zip", textBusySpec, map[string]string{"start.sh": "#!/bin/sh\necho started\n"}))
	f.run(d, target.DownloadBundle)
	w := holdForWriting(t, f)
	defer w.Close()
	done, running := startEvent(f, d, target.ApplicationStart)
	for _, wait := range []time.Duration{1, 2, 4, 8} {
		if err := clk.BlockUntil(running, 1); err != nil {
			t.Fatalf("ApplicationStart did not wait %d ms to start the script again: %+v", wait, <-done)
		}
		clk.Advance(wait * time.Millisecond)
	}
	r := <-done
	if r.Status != target.EventFailed || r.ErrorCode != target.CodeUnknownError || !strings.Contains(r.Message, "text file busy") {
		t.Fatalf("ApplicationStart of a script held open for writing: %+v, want UnknownError naming ETXTBSY", r)
	}
}

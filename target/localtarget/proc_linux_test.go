package localtarget_test

import (
	"bufio"
	"bytes"
	"io"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
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

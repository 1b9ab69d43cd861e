package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
)

// child is a process this program started. A goroutine locked to the OS
// thread that started it waits for it: the kernel sends a child its
// parent-death signal when that thread exits, so the thread must not exit
// (a Go runtime thread ends when a goroutine locked to it returns) before
// the child has.
type child struct {
	cmd    *exec.Cmd
	pid    int
	exited chan struct{} // closed once the child has exited and been reaped
}

// startChild starts cmd in a process group of its own that dies with this
// process (SIGKILL as its parent-death signal), so that nothing it started
// outlives the example, whatever ends it.
func startChild(cmd *exec.Cmd) (*child, error) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	c := &child{cmd: cmd, exited: make(chan struct{})}
	started := make(chan error, 1)
	go func() {
		defer close(c.exited)
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		err := cmd.Start()
		started <- err
		if err == nil {
			_ = cmd.Wait() // the outcome is read from cmd.ProcessState
		}
	}()
	if err := <-started; err != nil {
		return nil, err
	}
	c.pid = cmd.Process.Pid
	return c, nil
}

// done reports whether the child has exited.
func (c *child) done() bool {
	select {
	case <-c.exited:
		return true
	default:
		return false
	}
}

// signalGroup sends sig to the child's process group; a group that is gone
// is not an error.
func (c *child) signalGroup(sig syscall.Signal) error {
	if err := syscall.Kill(-c.pid, sig); err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("signalling process group %d: %w", c.pid, err)
	}
	return nil
}

// signal sends sig to the child's own process.
func (c *child) signal(sig syscall.Signal) error {
	if err := syscall.Kill(c.pid, sig); err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("signalling process %d: %w", c.pid, err)
	}
	return nil
}

// groupGone reports whether no process of the child's process group is
// left.
func (c *child) groupGone() bool {
	return errors.Is(syscall.Kill(-c.pid, 0), syscall.ESRCH)
}

// exitString says how the child ended: "exit 0", "killed by SIGKILL".
func (c *child) exitString() string {
	st := c.cmd.ProcessState
	if st == nil {
		return "running"
	}
	if ws, ok := st.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return "killed by " + signalName(ws.Signal())
	}
	return fmt.Sprintf("exit %d", st.ExitCode())
}

// signalName is "SIGKILL" for syscall.SIGKILL, and so on.
func signalName(s syscall.Signal) string {
	switch s {
	case syscall.SIGKILL:
		return "SIGKILL"
	case syscall.SIGTERM:
		return "SIGTERM"
	case syscall.SIGINT:
		return "SIGINT"
	}
	return s.String()
}

// running reports whether process pid is running: it exists and is not a
// zombie waiting to be reaped. With cmdline set, a process whose command
// line does not contain it is taken for another one that reused the PID.
func running(pid int, cmdline string) bool {
	if pid <= 0 || errors.Is(syscall.Kill(pid, 0), syscall.ESRCH) {
		return false
	}
	proc := filepath.Join("/proc", strconv.Itoa(pid))
	stat, err := os.ReadFile(filepath.Join(proc, "stat"))
	if err != nil {
		return !errors.Is(err, os.ErrNotExist)
	}
	// The state follows the command name, which is in parentheses and may
	// contain anything.
	s := string(stat)
	if i := strings.LastIndexByte(s, ')'); i >= 0 && i+2 < len(s) && s[i+2] == 'Z' {
		return false
	}
	if cmdline == "" {
		return true
	}
	cl, err := os.ReadFile(filepath.Join(proc, "cmdline"))
	if err != nil {
		return !errors.Is(err, os.ErrNotExist)
	}
	return strings.Contains(strings.ReplaceAll(string(cl), "\x00", " "), cmdline)
}

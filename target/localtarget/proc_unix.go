//go:build unix

package localtarget

import (
	"errors"
	"io"
	"os"
	"syscall"
)

// procAttr returns the attributes of a hook process: it leads a process
// group of its own (so that it and everything it forks can be signalled
// together), dies with the agent where the system allows (dieWithParent),
// and runs with cred when cred is not nil.
func procAttr(cred *credential) *syscall.SysProcAttr {
	attr := &syscall.SysProcAttr{Setpgid: true}
	dieWithParent(attr)
	if cred != nil {
		attr.Credential = &syscall.Credential{Uid: cred.uid, Gid: cred.gid, Groups: cred.groups}
	}
	return attr
}

// signalGroup sends sig to the process group led by pid. A group that no
// longer exists is not an error.
func signalGroup(pid int, sig syscall.Signal) error {
	if pid <= 0 {
		return nil
	}
	err := syscall.Kill(-pid, sig)
	if errors.Is(err, syscall.ESRCH) {
		return nil
	}
	return err
}

// terminate and kill are the two signals a hook's group receives when it
// is stopped.
const (
	sigTerminate = syscall.SIGTERM
	sigKill      = syscall.SIGKILL
)

// supportsRunAs reports whether hooks may run as another user here.
const supportsRunAs = true

// isExecFormatError reports whether err says the file is not a program
// the kernel can run (no "#!" line, not a binary for this machine).
func isExecFormatError(err error) bool { return errors.Is(err, syscall.ENOEXEC) }

// drain copies to w what the pipe r holds now, up to limit bytes, without
// waiting for more: the pipe is non-blocking, so a read of an empty pipe
// fails with EAGAIN instead of waiting.
func drain(w io.Writer, r *os.File, buf []byte, limit int) {
	rc, err := r.SyscallConn()
	if err != nil {
		return
	}
	_ = rc.Control(func(fd uintptr) {
		for limit > 0 {
			n, err := syscall.Read(int(fd), buf[:min(len(buf), limit)])
			if n > 0 {
				_, _ = w.Write(buf[:n])
				limit -= n
			}
			if err != nil || n <= 0 {
				return
			}
		}
	})
}

// isTextBusy reports whether err says the program is open for writing
// (ETXTBSY).
func isTextBusy(err error) bool { return errors.Is(err, syscall.ETXTBSY) }

// waitForForks waits until no process is being forked by this one: the Go
// runtime holds syscall.ForkLock for writing while it forks a child. On
// Linux that lasts until the child has exec'd (it shares the parent's
// memory until then, CLONE_VFORK), and a child closes the descriptors it
// inherited close-on-exec when it execs, so that descriptors opened before
// the wait are then held by this process alone (but for the moment between
// a child's exec and its closing of them). Elsewhere the lock covers the
// fork only; start's retries on the clock cover the rest.
func waitForForks() {
	syscall.ForkLock.Lock()
	//lint:ignore SA2001 taking the lock is the wait; nothing needs it held.
	syscall.ForkLock.Unlock()
}

//go:build !unix

package localtarget

import (
	"io"
	"os"
	"syscall"
)

// procAttr returns no special attributes: process groups and credentials
// are Unix features. On other systems only the hook's own process is
// killed when it is stopped.
func procAttr(*credential) *syscall.SysProcAttr { return nil }

// signalGroup kills the process pid (there are no process groups here).
func signalGroup(pid int, _ syscall.Signal) error {
	p, err := os.FindProcess(pid)
	if err != nil {
		return nil
	}
	_ = p.Kill()
	return nil
}

const (
	sigTerminate = syscall.Signal(0x9)
	sigKill      = syscall.Signal(0x9)
)

// supportsRunAs reports whether hooks may run as another user here.
const supportsRunAs = false

// isExecFormatError reports whether err says the file is not a program.
func isExecFormatError(error) bool { return false }

// drain does nothing here: what the pipe still holds when the agent stops
// waiting for a hook's output is lost.
func drain(io.Writer, *os.File, []byte, int) {}

// isTextBusy reports false: only Unix refuses to run a file open for
// writing.
func isTextBusy(error) bool { return false }

// waitForForks has nothing to wait for.
func waitForForks() {}

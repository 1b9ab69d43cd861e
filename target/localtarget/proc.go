package localtarget

import (
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"os/user"
	"runtime"
	"strconv"
	"time"

	"github.com/fleetdeploy/fleetdeploy/deploy/clock"
)

// credential is the identity a hook process runs as (the AppSpec's runas).
type credential struct {
	name     string
	uid, gid uint32
	groups   []uint32
	home     string
}

// lookupCredential resolves the runas user name. It returns nil, nil when
// name is empty or names the user the agent already runs as.
func lookupCredential(name string) (*credential, error) {
	if name == "" {
		return nil, nil
	}
	u, err := user.Lookup(name)
	if err != nil {
		return nil, err
	}
	if u.Uid == strconv.Itoa(os.Geteuid()) {
		return nil, nil
	}
	uid, err := strconv.ParseUint(u.Uid, 10, 32)
	if err != nil {
		return nil, err
	}
	gid, err := strconv.ParseUint(u.Gid, 10, 32)
	if err != nil {
		return nil, err
	}
	c := &credential{name: u.Username, uid: uint32(uid), gid: uint32(gid), home: u.HomeDir}
	if ids, err := u.GroupIds(); err == nil {
		for _, id := range ids {
			if g, err := strconv.ParseUint(id, 10, 32); err == nil {
				c.groups = append(c.groups, uint32(g))
			}
		}
	}
	return c, nil
}

// process is one hook script to run as a real process.
type process struct {
	path    string      // host path of the executable
	dir     string      // working directory
	env     []string    // complete environment
	cred    *credential // nil: the agent's own user
	timeout time.Duration
	output  io.Writer // receives stdout and stderr, from one goroutine
}

// exit is how a process run ended.
type exit struct {
	// startErr is set when the process could not be started.
	startErr error
	// state is the process's exit state once it was started.
	state *os.ProcessState
	// timedOut: the timeout elapsed and the process group was killed.
	timedOut bool
	// cancelled is ctx's error when the context ended the run (the process
	// group was killed).
	cancelled error
	// outputsLeftOpen: the process exited but something outside its process
	// group kept its output open past Options.OutputWait.
	outputsLeftOpen bool
}

// runner starts hook processes and stops them with their process group.
type runner struct {
	clock      clock.Clock
	killGrace  time.Duration
	outputWait time.Duration
}

// run starts p and waits until it exits, its timeout elapses or ctx is done.
//
// The process leads its own process group, and when run returns nothing of
// that group is left (on Linux, the process also gets SIGKILL when the
// agent's process dies; see procAttr): on timeout or cancellation the group receives SIGTERM
// (when killGrace > 0) and, after the grace or at once, SIGKILL; after a
// normal exit the group's remaining members receive SIGKILL. Output is read
// from a pipe the runner owns, so a descendant that escaped the group (a
// daemon that called setsid) and holds the pipe open delays run by at most
// outputWait, after which the pipe is closed. All waiting is on r.clock.
func (r runner) run(ctx context.Context, p process) exit {
	pr, pw, err := os.Pipe()
	if err != nil {
		return exit{startErr: err}
	}
	cmd, exited, err := r.start(ctx, p, pw)
	_ = pw.Close() // the child has its copy
	if err != nil {
		_ = pr.Close()
		if ctxErr := ctx.Err(); ctxErr != nil && errors.Is(err, ctxErr) {
			return exit{cancelled: ctxErr}
		}
		return exit{startErr: err}
	}
	pid := cmd.Process.Pid

	copied := make(chan struct{})
	go func() {
		defer close(copied)
		copyOutput(p.output, pr)
	}()

	var out exit
	timer := r.clock.NewTimer(p.timeout)
	select {
	case <-exited:
	case <-timer.C():
		out.timedOut = true
		r.stop(ctx, pid, exited)
	case <-ctx.Done():
		out.cancelled = ctx.Err()
		r.stop(ctx, pid, exited)
	}
	timer.Stop()
	// Whatever the leader left behind in its group goes with it.
	_ = signalGroup(pid, sigKill)
	out.state = cmd.ProcessState

	if ctx.Err() == nil {
		wait := r.clock.NewTimer(r.outputWait)
		select {
		case <-copied:
		case <-wait.C():
			out.outputsLeftOpen = true
		case <-ctx.Done():
		}
		wait.Stop()
	}
	stopOutput(pr, copied)
	return out
}

// textBusyRetries is how many times a script the kernel refused to run
// because a process had it open for writing (ETXTBSY) is started again.
const textBusyRetries = 5

// start starts p with its output going to out, and returns the command and
// a channel closed once the process has exited and been waited for.
//
// A script that was just written — unpacked by DownloadBundle — may be
// refused with ETXTBSY ("text file busy"): a process forked by another
// goroutine of the agent while the file was open for writing holds a copy
// of that descriptor until it has exec'd its own program. start then waits
// until the agent's forks in progress are over (see waitForForks) and
// tries again; after that, it waits on r.clock 1 ms, 2 ms, 4 ms, … between
// attempts, in case the other process was slow to exec, up to
// textBusyRetries retries. A file some other program keeps open for
// writing fails the script with the error.
func (r runner) start(ctx context.Context, p process, out *os.File) (*exec.Cmd, <-chan struct{}, error) {
	for retry := 0; ; retry++ {
		cmd, exited, err := r.startOnce(p, out)
		if err == nil || !isTextBusy(err) || retry == textBusyRetries {
			return cmd, exited, err
		}
		waitForForks()
		if retry == 0 {
			continue
		}
		t := r.clock.NewTimer(time.Millisecond << (retry - 1))
		select {
		case <-t.C():
		case <-ctx.Done():
			t.Stop()
			return nil, nil, ctx.Err()
		}
	}
}

// startOnce makes one attempt of start.
func (r runner) startOnce(p process, out *os.File) (*exec.Cmd, <-chan struct{}, error) {
	cmd := exec.Command(p.path)
	cmd.Dir = p.dir
	cmd.Env = p.env
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = procAttr(p.cred)
	// One goroutine starts the process and waits for it, locked to its OS
	// thread throughout: on Linux the kernel sends the hook its parent-death
	// signal when the thread that forked it exits, and a locked thread
	// cannot be retired by the Go runtime (which ends a thread when a
	// goroutine locked to it returns) while the hook runs. The signal then
	// comes only when the agent's process ends.
	started := make(chan error, 1)
	exited := make(chan struct{})
	go func() {
		defer close(exited)
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		err := cmd.Start()
		started <- err
		if err == nil {
			_ = cmd.Wait() // the outcome is read from cmd.ProcessState
		}
	}()
	if err := <-started; err != nil {
		<-exited
		return nil, nil, err
	}
	return cmd, exited, nil
}

// maxDrain bounds what copyOutput reads once it was told to stop, in case
// whatever holds the pipe keeps writing.
const maxDrain = 1 << 20

// copyOutput copies the hook's output from the pipe r to w until the pipe
// is closed by every writer, or until stopOutput tells it to stop: it then
// takes what the pipe holds at that moment, without waiting for more.
func copyOutput(w io.Writer, r *os.File) {
	buf := make([]byte, 32<<10)
	for {
		n, err := r.Read(buf)
		if n > 0 {
			_, _ = w.Write(buf[:n])
		}
		if errors.Is(err, os.ErrDeadlineExceeded) {
			drain(w, r, buf, maxDrain)
			return
		}
		if err != nil {
			return
		}
	}
}

// stopOutput ends copyOutput (if it has not ended by itself) and closes
// the pipe. The read deadline is a signal, not a wait: "now" makes a
// blocked Read return at once, after which the copy drains what is
// buffered.
func stopOutput(r *os.File, copied <-chan struct{}) {
	select {
	case <-copied:
	default:
		if err := r.SetReadDeadline(time.Now()); err != nil {
			_ = r.Close() // not pollable: closing unblocks the Read
		}
		<-copied
	}
	_ = r.Close()
}

// stop ends the process group led by pid and waits for the leader to exit:
// SIGTERM first when a kill grace is configured, SIGKILL after the grace
// (or at once, or as soon as ctx is done during the grace).
func (r runner) stop(ctx context.Context, pid int, exited <-chan struct{}) {
	if r.killGrace > 0 {
		_ = signalGroup(pid, sigTerminate)
		t := r.clock.NewTimer(r.killGrace)
		select {
		case <-exited:
		case <-t.C():
		case <-ctx.Done():
		}
		t.Stop()
	}
	_ = signalGroup(pid, sigKill)
	<-exited
}

//go:build unix

package localtarget_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/user"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/fleetdeploy/fleetdeploy/deploy/clock"
	"github.com/fleetdeploy/fleetdeploy/revision"
	"github.com/fleetdeploy/fleetdeploy/revision/revisiontest"
	"github.com/fleetdeploy/fleetdeploy/target"
	"github.com/fleetdeploy/fleetdeploy/target/localtarget"
)

// stopSpec is an AppSpec whose ApplicationStop and ApplicationStart run
// stop.sh and start.sh.
const stopSpec = `version: 0.0
os: linux
hooks:
  ApplicationStop:
    - location: stop.sh
  ApplicationStart:
    - location: start.sh
`

// TestApplicationStopRunsPreviousRevision: ApplicationStop is a no-op on the
// first install and afterwards runs the last successful install's script,
// not the new revision's ("AppSpec 'hooks' section"; the agent's
// hook_executor.rb).
func TestApplicationStopRunsPreviousRevision(t *testing.T) {
	f := newFixture(t)
	v1 := f.put("v1.zip", stopSpec, map[string]string{"stop.sh": mark("stop-v1"), "start.sh": mark("start-v1")})
	v2 := f.put("v2.zip", stopSpec, map[string]string{"stop.sh": mark("stop-v2"), "start.sh": mark("start-v2")})

	r1 := f.deploy(deployment("d-1", v1))
	mustSucceed(t, r1)
	if got := strings.Join(f.marks(), " "); got != "start-v1" {
		t.Errorf("first deployment ran %q, want only start-v1 (no ApplicationStop)", got)
	}
	if r1[target.ApplicationStop].LogTail != "" {
		t.Errorf("first ApplicationStop produced output %q", r1[target.ApplicationStop].LogTail)
	}

	r2 := f.deploy(deployment("d-2", v2))
	mustSucceed(t, r2)
	if got := strings.Join(f.marks(), " "); got != "start-v1 stop-v1 start-v2" {
		t.Errorf("second deployment ran %q, want stop-v1 then start-v2", got)
	}
	if got := r2[target.ApplicationStop].LogTail; got != "ran stop-v1\n" {
		t.Errorf("ApplicationStop log tail %q, want v1's script output", got)
	}
}

// TestLastSuccessfulIsRecordedAtInstall: a deployment whose hooks failed
// after Install still becomes the previous revision (as the agent's
// command_executor.rb records it).
func TestLastSuccessfulIsRecordedAtInstall(t *testing.T) {
	f := newFixture(t)
	v1 := f.put("v1.zip", stopSpec, map[string]string{"stop.sh": mark("stop-v1"), "start.sh": "#!/bin/sh\nexit 1\n"})
	v2 := f.put("v2.zip", stopSpec, map[string]string{"stop.sh": mark("stop-v2"), "start.sh": "#!/bin/sh\n"})
	r1 := f.deploy(deployment("d-1", v1))
	if r1[target.ApplicationStart].ErrorCode != target.CodeScriptFailed {
		t.Fatalf("ApplicationStart of v1 = %+v, want ScriptFailed", r1[target.ApplicationStart])
	}
	mustSucceed(t, f.deploy(deployment("d-2", v2)))
	if got := strings.Join(f.marks(), " "); got != "stop-v1" {
		t.Errorf("ran %q, want v1's ApplicationStop although v1's deployment failed after Install", got)
	}
}

// TestBlueGreenRollbackScriptSources: in a blue/green rollback the
// block-traffic hooks come from the most recent download and
// ApplicationStop and the allow-traffic hooks from the last successful
// install (as the agent's hook_executor.rb chooses them).
func TestBlueGreenRollbackScriptSources(t *testing.T) {
	f := newFixture(t)
	spec := `version: 0.0
os: linux
hooks:
  ApplicationStop:
    - location: stop.sh
  BeforeBlockTraffic:
    - location: block.sh
  BeforeAllowTraffic:
    - location: allow.sh
`
	rev := func(v string) map[string]string {
		return map[string]string{"stop.sh": mark("stop-" + v), "block.sh": mark("block-" + v), "allow.sh": mark("allow-" + v)}
	}
	v1, v2 := f.put("v1.zip", spec, rev("v1")), f.put("v2.zip", spec, rev("v2"))
	mustSucceed(t, f.deploy(deployment("d-1", v1)))
	// v2 is downloaded but never installed: most recent v2, last successful v1.
	if r := f.run(deployment("d-2", v2), target.DownloadBundle); r.Status != target.EventSucceeded {
		t.Fatalf("DownloadBundle: %+v", r)
	}
	rb := deployment("d-3", v1)
	rb.Creator, rb.DeploymentType = target.CreatorRollback, target.BlueGreen
	for _, e := range []target.LifecycleEvent{target.BeforeBlockTraffic, target.ApplicationStop, target.BeforeAllowTraffic} {
		if r := f.run(rb, e); r.Status != target.EventSucceeded {
			t.Fatalf("%s: %+v", e, r)
		}
	}
	if got := strings.Join(f.marks(), " "); got != "block-v2 stop-v1 allow-v1" {
		t.Errorf("rollback ran %q, want block-v2 stop-v1 allow-v1", got)
	}
}

// TestIgnoreApplicationStopFailures: with the setting, a failed
// ApplicationStop does not fail the instance; without it, it does (API
// Reference, CreateDeployment, ignoreApplicationStopFailures).
func TestIgnoreApplicationStopFailures(t *testing.T) {
	for _, ignore := range []bool{false, true} {
		f := newFixture(t)
		v1 := f.put("v1.zip", stopSpec, map[string]string{"stop.sh": "#!/bin/sh\necho cannot stop >&2\nexit 7\n", "start.sh": "#!/bin/sh\n"})
		mustSucceed(t, f.deploy(deployment("d-1", v1)))
		d := deployment("d-2", v1)
		d.IgnoreApplicationStopFailures = ignore
		r := f.run(d, target.ApplicationStop)
		if r.LogTail != "cannot stop\n" {
			t.Errorf("ignore=%v: log tail %q", ignore, r.LogTail)
		}
		if !ignore {
			if r.Status != target.EventFailed || r.ErrorCode != target.CodeScriptFailed {
				t.Errorf("ignore=false: %+v, want Failed ScriptFailed", r)
			}
			continue
		}
		if r.Status != target.EventSucceeded || !strings.Contains(r.Message, "ignoreApplicationStopFailures") ||
			!strings.Contains(r.Message, "exit code 7") {
			t.Errorf("ignore=true: %+v, want Succeeded with a message naming the ignored failure", r)
		}
		// The covered events only: a failed later hook still fails.
		if r := f.run(d, target.DownloadBundle); r.Status != target.EventSucceeded {
			t.Errorf("DownloadBundle after an ignored failure: %+v", r)
		}
	}
}

// TestScriptErrors: each way a script can fail yields its lifecycle error
// code and the output so far (API Reference, LifecycleErrorCode values; the
// agent's hook_executor.rb).
func TestScriptErrors(t *testing.T) {
	for _, tc := range []struct {
		name     string
		location string
		files    map[string]string
		entries  []string // extra directories
		code     target.LifecycleErrorCode
		message  string
		tail     string
	}{
		{"non-zero exit is ScriptFailed", "fail.sh",
			map[string]string{"fail.sh": "#!/bin/sh\necho starting\necho boom >&2\nexit 3\n"},
			nil, target.CodeScriptFailed, "Script at specified location: fail.sh failed with exit code 3", "starting\nboom\n"},
		{"missing script is ScriptMissing", "scripts/nope.sh",
			map[string]string{"other.sh": "#!/bin/sh\n"},
			nil, target.CodeScriptMissing, "Script does not exist at specified location: /deployment-root/dg-1/d-1/deployment-archive/scripts/nope.sh", ""},
		{"a directory cannot be made executable", "scripts",
			map[string]string{"scripts/x.sh": "#!/bin/sh\n"},
			nil, target.CodeScriptNotExecutable, "is not a regular file", ""},
		{"a file the kernel cannot run is ScriptNotExecutable", "garbage.sh",
			map[string]string{"garbage.sh": "\x00\x01\x02 neither a binary nor a #! script"},
			nil, target.CodeScriptNotExecutable, "could not be executed", ""},
		{"killed by a signal is ScriptFailed", "kill.sh",
			map[string]string{"kill.sh": "#!/bin/sh\necho dying\nkill -9 $$\n"},
			nil, target.CodeScriptFailed, "was stopped: signal: killed", "dying\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			files := tc.files
			spec := "version: 0.0\nos: linux\nhooks:\n  BeforeInstall:\n    - location: " + tc.location + "\n    - location: second.sh\n"
			files["second.sh"] = mark("second")
			loc := f.put("v.zip", spec, files)
			d := deployment("d-1", loc)
			if r := f.run(d, target.DownloadBundle); r.Status != target.EventSucceeded {
				t.Fatalf("DownloadBundle: %+v", r)
			}
			r := f.run(d, target.BeforeInstall)
			if r.Status != target.EventFailed || r.ErrorCode != tc.code || !strings.Contains(r.Message, tc.message) {
				t.Errorf("result %+v, want Failed %s with %q", r, tc.code, tc.message)
			}
			if r.LogTail != tc.tail {
				t.Errorf("log tail %q, want %q", r.LogTail, tc.tail)
			}
			if m := f.marks(); len(m) != 0 {
				t.Errorf("the event went on after a failed script: %v", m)
			}
		})
	}
}

// TestNonExecutableScriptIsMadeExecutable: the agent tries chmod +x before
// giving up (hook_executor.rb).
func TestNonExecutableScriptIsMadeExecutable(t *testing.T) {
	f := newFixture(t)
	spec := "version: 0.0\nos: linux\nhooks:\n  BeforeInstall:\n    - location: plain.txt\n"
	loc := f.put("v.zip", spec, map[string]string{"plain.txt": "#!/bin/sh\necho fixed\n"}) // mode 0644
	d := deployment("d-1", loc)
	f.run(d, target.DownloadBundle)
	r := f.run(d, target.BeforeInstall)
	if r.Status != target.EventSucceeded || r.LogTail != "fixed\n" {
		t.Errorf("result %+v, want the script made executable and run", r)
	}
}

// TestScriptTimeout: a script running past its timeout is killed with its
// whole process group and reported as ScriptTimedOut ("AppSpec 'hooks'
// section"; the agent's hook_executor.rb). Time is a fake clock; nothing
// waits on the wall clock.
func TestScriptTimeout(t *testing.T) {
	clk := clock.NewFake(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	report := fifo(t)
	f := newFixture(t, func(o *localtarget.Options) {
		o.Clock = clk
		o.Env = []string{"REPORT=" + report}
	})
	spec := "version: 0.0\nos: linux\nhooks:\n  AfterInstall:\n    - location: slow.sh\n      timeout: 180\n"
	loc := f.put("v.zip", spec, map[string]string{
		"slow.sh": "#!/bin/sh\necho working\nsleep 1000 &\necho $! > \"$REPORT\"\nwait\n",
	})
	d := deployment("d-1", loc)
	f.run(d, target.DownloadBundle)

	type outcome struct {
		res target.EventResult
		err error
	}
	done := make(chan outcome, 1)
	go func() {
		res, err := f.fleet.RunEvent(context.Background(), target.EventRequest{Target: f.inst, Event: target.AfterInstall, Deployment: d})
		done <- outcome{res, err}
	}()
	child := atoi(t, readReport(t, report)) // the script is running, its child sleeping
	if err := clk.BlockUntil(context.Background(), 1); err != nil {
		t.Fatal(err)
	}
	clk.Advance(179 * time.Second)
	select {
	case o := <-done:
		t.Fatalf("the script ended before its timeout: %+v %v", o.res, o.err)
	default:
	}
	clk.Advance(time.Second)
	o := <-done
	if o.err != nil {
		t.Fatal(o.err)
	}
	if o.res.Status != target.EventFailed || o.res.ErrorCode != target.CodeScriptTimedOut ||
		o.res.Message != "Script at specified location: slow.sh failed to complete in 180 seconds" {
		t.Errorf("result %+v, want ScriptTimedOut after 180 seconds", o.res)
	}
	if o.res.LogTail != "working\n" {
		t.Errorf("log tail %q", o.res.LogTail)
	}
	requireDead(t, child)
}

// TestForkedChildDiesWithItsHook: a hook that exits leaving a child behind
// in its process group takes the child with it — no process outlives its
// hook.
func TestForkedChildDiesWithItsHook(t *testing.T) {
	f := newFixture(t)
	spec := "version: 0.0\nos: linux\nhooks:\n  ApplicationStart:\n    - location: start.sh\n"
	loc := f.put("v.zip", spec, map[string]string{
		"start.sh": "#!/bin/sh\nsleep 1000 &\necho $! > \"$FLEETDEPLOY_INSTANCE_ROOT/child.pid\"\necho started\n",
	})
	d := deployment("d-1", loc)
	f.run(d, target.DownloadBundle)
	r := f.run(d, target.ApplicationStart)
	if r.Status != target.EventSucceeded || r.LogTail != "started\n" {
		t.Fatalf("ApplicationStart: %+v", r)
	}
	requireDead(t, atoi(t, strings.TrimSpace(f.read("/child.pid"))))
}

// TestCancelAbortsHook: cancelling the context aborts a running hook and
// kills its process group; RunEvent returns the context's error (what an
// aborting stop relies on; see package deploy).
func TestCancelAbortsHook(t *testing.T) {
	report := fifo(t)
	f := newFixture(t, func(o *localtarget.Options) { o.Env = []string{"REPORT=" + report} })
	spec := "version: 0.0\nos: linux\nhooks:\n  ValidateService:\n    - location: hang.sh\n"
	loc := f.put("v.zip", spec, map[string]string{
		"hang.sh": "#!/bin/sh\nsleep 1000 &\necho \"$$ $!\" > \"$REPORT\"\nwait\n",
	})
	d := deployment("d-1", loc)
	f.run(d, target.DownloadBundle)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		_, err := f.fleet.RunEvent(ctx, target.EventRequest{Target: f.inst, Event: target.ValidateService, Deployment: d})
		done <- err
	}()
	pids := strings.Fields(readReport(t, report))
	cancel()
	err := <-done
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("RunEvent after cancel: %v, want context.Canceled", err)
	}
	for _, p := range pids {
		requireDead(t, atoi(t, p))
	}
}

// TestHookEnvironment: scripts see the variables the CodeDeploy agent sets
// (hook_executor.rb), the bundle variables of an S3 revision, and
// Options.Env.
func TestHookEnvironment(t *testing.T) {
	f := newFixture(t, func(o *localtarget.Options) { o.Env = []string{"EXTRA=yes", "LIFECYCLE_EVENT=overridden"} })
	spec := "version: 0.0\nos: linux\nhooks:\n  AfterInstall:\n    - location: env.sh\n"
	files := map[string]string{"env.sh": `#!/bin/sh
for v in APPLICATION_NAME DEPLOYMENT_ID DEPLOYMENT_GROUP_NAME DEPLOYMENT_GROUP_ID LIFECYCLE_EVENT \
  BUNDLE_BUCKET BUNDLE_KEY BUNDLE_VERSION BUNDLE_ETAG EXTRA FLEETDEPLOY_INSTANCE_ID; do
  eval "echo $v=\$$v"
done
echo PWD=$(pwd)
`}
	// A versioned S3 object: BUNDLE_VERSION appears.
	loc, err := f.src.Put(revision.Location{Type: revision.LocationS3, S3: &revision.S3Location{
		Bucket: "releases", Key: "v.zip", BundleType: revision.BundleZip, Version: "v7"}}, buildZip(t, spec, files))
	if err != nil {
		t.Fatal(err)
	}
	d := deployment("d-1", loc)
	mustSucceed(t, f.deploy(d))
	r := f.run(d, target.AfterInstall)
	want := strings.Join([]string{
		"APPLICATION_NAME=shop", "DEPLOYMENT_ID=d-1", "DEPLOYMENT_GROUP_NAME=web", "DEPLOYMENT_GROUP_ID=dg-1",
		"LIFECYCLE_EVENT=AfterInstall", "BUNDLE_BUCKET=releases", "BUNDLE_KEY=v.zip", "BUNDLE_VERSION=v7",
		"BUNDLE_ETAG=" + loc.S3.ETag, "EXTRA=yes", "FLEETDEPLOY_INSTANCE_ID=host-1",
		"PWD=" + f.path("/deployment-root/dg-1/d-1/deployment-archive"), "",
	}, "\n")
	if r.LogTail != want {
		t.Errorf("environment:\n%s\nwant:\n%s", r.LogTail, want)
	}
}

// TestRunAs: runas works when the agent runs as root, and is a clear
// failure otherwise (User Guide, "AppSpec 'hooks' section").
func TestRunAs(t *testing.T) {
	f := newFixture(t)
	// The instance must be reachable by the other user.
	for dir := f.fleet.Root(); dir != "/" && dir != os.TempDir(); dir = parent(dir) {
		if err := os.Chmod(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	runAs := "nobody"
	if os.Geteuid() != 0 {
		runAs = "root" // another user than the agent's
	}
	spec := "version: 0.0\nos: linux\nhooks:\n  BeforeInstall:\n    - location: who.sh\n      runas: " + runAs + "\n"
	loc := f.put("v.zip", spec, map[string]string{"who.sh": "#!/bin/sh\nid -u\necho $USER\n"})
	d := deployment("d-1", loc)
	f.run(d, target.DownloadBundle)
	r := f.run(d, target.BeforeInstall)
	nobody, err := user.Lookup("nobody")
	if err != nil {
		t.Fatal(err)
	}
	if os.Geteuid() != 0 {
		if r.Status != target.EventFailed || !strings.Contains(r.Message, "needs the agent to run as root") {
			t.Errorf("runas without root: %+v, want a failure saying root is needed", r)
		}
		return
	}
	if r.Status != target.EventSucceeded || r.LogTail != nobody.Uid+"\nnobody\n" {
		t.Errorf("runas nobody: %+v, want uid %s", r, nobody.Uid)
	}
}

func parent(dir string) string {
	i := strings.LastIndexByte(dir, '/')
	if i <= 0 {
		return "/"
	}
	return dir[:i]
}

// TestKillGrace: with Options.KillGrace a timed-out hook's group gets
// SIGTERM first and SIGKILL only after the grace, timed on the clock.
func TestKillGrace(t *testing.T) {
	run := func(t *testing.T, script string, ignoresTerm bool) target.EventResult {
		clk := clock.NewFake(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
		report := fifo(t)
		f := newFixture(t, func(o *localtarget.Options) {
			o.Clock = clk
			o.KillGrace = 30 * time.Second
			o.Env = []string{"REPORT=" + report}
		})
		spec := "version: 0.0\nos: linux\nhooks:\n  AfterInstall:\n    - location: s.sh\n      timeout: 60\n"
		d := deployment("d-1", f.put("v.zip", spec, map[string]string{"s.sh": script}))
		f.run(d, target.DownloadBundle)
		done := make(chan target.EventResult, 1)
		go func() {
			res, err := f.fleet.RunEvent(context.Background(), target.EventRequest{Target: f.inst, Event: target.AfterInstall, Deployment: d})
			if err != nil {
				t.Error(err)
			}
			done <- res
		}()
		pid := atoi(t, readReport(t, report))
		if err := clk.BlockUntil(context.Background(), 1); err != nil {
			t.Fatal(err)
		}
		clk.Advance(60 * time.Second) // timeout: SIGTERM
		if ignoresTerm {
			if err := clk.BlockUntil(context.Background(), 1); err != nil { // the grace timer
				t.Fatal(err)
			}
			clk.Advance(30 * time.Second) // grace over: SIGKILL
		}
		res := <-done
		requireDead(t, pid)
		return res
	}
	t.Run("a script that handles SIGTERM exits within the grace", func(t *testing.T) {
		res := run(t, "#!/bin/sh\ntrap 'echo got TERM; exit 0' TERM\necho $$ > \"$REPORT\"\nsleep 1000 &\nwait\n", false)
		if res.ErrorCode != target.CodeScriptTimedOut || res.LogTail != "got TERM\n" {
			t.Errorf("result %+v, want ScriptTimedOut after the script saw SIGTERM", res)
		}
	})
	t.Run("a script that ignores SIGTERM is killed after the grace", func(t *testing.T) {
		res := run(t, "#!/bin/sh\ntrap '' TERM\necho $$ > \"$REPORT\"\nsleep 1000\n", true)
		if res.ErrorCode != target.CodeScriptTimedOut {
			t.Errorf("result %+v, want ScriptTimedOut", res)
		}
	})
}

// TestLogTailKeepsTheEnd: the result carries the last 4 KiB of the event's
// output (API Reference, Diagnostics logTail); the script log keeps all of
// it.
func TestLogTailKeepsTheEnd(t *testing.T) {
	f := newFixture(t)
	spec := "version: 0.0\nos: linux\nhooks:\n  AfterInstall:\n    - location: a.sh\n    - location: b.sh\n"
	loc := f.put("v.zip", spec, map[string]string{
		"a.sh": "#!/bin/sh\ni=1\nwhile [ $i -le 2000 ]; do echo a$i; i=$((i+1)); done\n",
		"b.sh": "#!/bin/sh\ni=1\nwhile [ $i -le 1000 ]; do echo b$i >&2; i=$((i+1)); done\n",
	})
	d := deployment("d-1", loc)
	f.run(d, target.DownloadBundle)
	r := f.run(d, target.AfterInstall)
	var all strings.Builder
	for i := 1; i <= 2000; i++ {
		fmt.Fprintf(&all, "a%d\n", i)
	}
	for i := 1; i <= 1000; i++ {
		fmt.Fprintf(&all, "b%d\n", i)
	}
	want := all.String()[all.Len()-target.MaxLogTail:]
	if r.LogTail != want {
		t.Errorf("log tail is %d bytes ending %q, want the last %d bytes of the output", len(r.LogTail), r.LogTail[max(0, len(r.LogTail)-20):], target.MaxLogTail)
	}
	logged := f.read("/deployment-root/dg-1/d-1/logs/scripts.log")
	if !strings.Contains(logged, "a1\na2\n") || !strings.Contains(logged, "b1000\n") || !strings.Contains(logged, "Script - b.sh") {
		t.Error("scripts.log does not hold the whole output with script headers")
	}
}

// TestAgentOnItsOwn: an Agent over a directory works without a Fleet, and a
// new Agent over the same directory knows what the last one installed.
func TestAgentOnItsOwn(t *testing.T) {
	src := revisiontest.NewMemSource()
	dir := t.TempDir()
	a, err := localtarget.NewAgent(dir, src)
	if err != nil {
		t.Fatal(err)
	}
	if a.Root() != dir || a.Path("/opt/../etc/x") != dir+"/etc/x" {
		t.Errorf("Root %q, Path %q", a.Root(), a.Path("/opt/../etc/x"))
	}
	loc := putRevision(t, src, "v.zip", "version: 0.0\nos: linux\nfiles:\n  - source: x\n    destination: /opt\n", map[string]string{"x": "1"})
	d := deployment("d-1", loc)
	for _, e := range []target.LifecycleEvent{target.DownloadBundle, target.Install} {
		if r, err := a.RunEvent(context.Background(), target.EventRequest{Event: e, Deployment: d}); err != nil || r.Status != target.EventSucceeded {
			t.Fatalf("%s: %+v %v", e, r, err)
		}
	}
	b, err := localtarget.NewAgent(dir, src)
	if err != nil {
		t.Fatal(err)
	}
	if id, err := b.LastSuccessfulInstall(context.Background(), "dg-1"); err != nil || id != "d-1" {
		t.Errorf("LastSuccessfulInstall after a restart = %q, %v", id, err)
	}
	if _, err := b.LastSuccessfulInstall(context.Background(), "a/b"); !errors.Is(err, target.ErrInvalidRequest) {
		t.Errorf("LastSuccessfulInstall(a/b): %v", err)
	}
}

// timerSpy is a clock that reports each timer's duration as it is made, so
// a test knows the code under test reached a particular wait.
type timerSpy struct {
	*clock.Fake
	made chan time.Duration
}

func (s timerSpy) NewTimer(d time.Duration) clock.Timer {
	t := s.Fake.NewTimer(d)
	select {
	case s.made <- d:
	default:
	}
	return t
}

// TestOutputsLeftOpen: a process that leaves the hook's process group but
// keeps its output open does not hang the agent: after Options.OutputWait
// the script fails with UnknownError (the CodeDeploy agent's "outputs left
// open").
func TestOutputsLeftOpen(t *testing.T) {
	spy := timerSpy{Fake: clock.NewFake(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)), made: make(chan time.Duration, 16)}
	report := fifo(t)
	f := newFixture(t, func(o *localtarget.Options) {
		o.Clock = spy
		o.OutputWait = 7 * time.Second
		o.Env = []string{"REPORT=" + report}
	})
	spec := "version: 0.0\nos: linux\nhooks:\n  ApplicationStart:\n    - location: start.sh\n"
	loc := f.put("v.zip", spec, map[string]string{
		// The escapee reports through sync once it is in its own session,
		// so the script does not exit (and have its group killed) before.
		"start.sh": `#!/bin/sh
sync="$FLEETDEPLOY_INSTANCE_ROOT/sync"
mkfifo "$sync"
setsid sh -c 'echo escaped > "$1"; echo $$ > "$REPORT"; exec sleep 1000' sh "$sync" &
read x < "$sync"
echo started
`,
	})
	d := deployment("d-1", loc)
	f.run(d, target.DownloadBundle)
	done := make(chan target.EventResult, 1)
	go func() {
		res, err := f.fleet.RunEvent(context.Background(), target.EventRequest{Target: f.inst, Event: target.ApplicationStart, Deployment: d})
		if err != nil {
			t.Error(err)
		}
		done <- res
	}()
	escaped := atoi(t, readReport(t, report))
	defer func() {
		_ = syscall.Kill(escaped, syscall.SIGKILL)
		requireDead(t, escaped)
	}()
	for dur := range spy.made {
		if dur == 7*time.Second {
			break // the agent waits for the output
		}
	}
	spy.Advance(7 * time.Second)
	res := <-done
	if res.Status != target.EventFailed || res.ErrorCode != target.CodeUnknownError || !strings.Contains(res.Message, "kept its stdout or stderr open") {
		t.Errorf("result %+v, want UnknownError for outputs left open", res)
	}
	if res.LogTail != "started\n" {
		t.Errorf("log tail %q", res.LogTail)
	}
}

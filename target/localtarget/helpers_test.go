//go:build unix

package localtarget_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"go.uber.org/goleak"

	"github.com/fleetdeploy/fleetdeploy/config"
	"github.com/fleetdeploy/fleetdeploy/revision"
	"github.com/fleetdeploy/fleetdeploy/revision/revisiontest"
	"github.com/fleetdeploy/fleetdeploy/target"
	"github.com/fleetdeploy/fleetdeploy/target/localtarget"
)

func TestMain(m *testing.M) {
	if dir := os.Getenv(agentProcessEnv); dir != "" {
		os.Exit(agentProcess(dir))
	}
	goleak.VerifyTestMain(m)
}

// agentProcessEnv, when set to a directory, makes the test binary an agent
// process instead (see agentProcess).
const agentProcessEnv = "LOCALTARGET_TEST_AGENT_PROCESS"

// agentProcess is the test binary run as an agent in a process of its own,
// for tests of what happens to hooks when that process dies: it deploys to
// one instance of a fleet under dir a revision whose ApplicationStart is the
// script in the environment variable HOOK, which it waits for. It returns
// the exit code.
func agentProcess(dir string) int {
	fail := func(err error) int {
		fmt.Fprintln(os.Stderr, "agent process:", err)
		return 1
	}
	ctx := context.Background()
	src := revisiontest.NewMemSource()
	bundle, err := revisiontest.Build(revision.BundleZip,
		revisiontest.Entry{Name: "appspec.yml", Body: "version: 0.0\nos: linux\nhooks:\n  ApplicationStart:\n    - location: hook.sh\n"},
		revisiontest.Entry{Name: "hook.sh", Body: os.Getenv("HOOK"), Mode: 0o755})
	if err != nil {
		return fail(err)
	}
	loc, err := src.Put(revision.Location{Type: revision.LocationS3, S3: &revision.S3Location{
		Bucket: "releases", Key: "hook.zip", BundleType: revision.BundleZip}}, bundle)
	if err != nil {
		return fail(err)
	}
	fleet, err := localtarget.New(dir, src)
	if err != nil {
		return fail(err)
	}
	inst := target.Target{ID: "host-1", OnPremises: true}
	if _, err := fleet.Add(ctx, inst); err != nil {
		return fail(err)
	}
	for _, e := range []target.LifecycleEvent{target.DownloadBundle, target.ApplicationStart} {
		res, err := fleet.RunEvent(ctx, target.EventRequest{Target: inst, Event: e, Deployment: deployment("d-1", loc)})
		if err != nil {
			return fail(err)
		}
		fmt.Fprintf(os.Stderr, "agent process: %s %s %s\n", e, res.Status, res.Message)
	}
	return 0
}

// fixture is a fleet of one instance over an in-memory revision store.
type fixture struct {
	t     *testing.T
	src   *revisiontest.MemSource
	fleet *localtarget.Fleet
	inst  target.Target
	agent *localtarget.Agent
}

func newFixture(t *testing.T, opts ...func(*localtarget.Options)) *fixture {
	t.Helper()
	f := &fixture{t: t, src: revisiontest.NewMemSource()}
	fleet, err := localtarget.New(t.TempDir(), f.src, opts...)
	if err != nil {
		t.Fatal(err)
	}
	f.fleet = fleet
	f.inst = target.Target{ID: "host-1", Zone: "zone-a", Tags: map[string]string{"role": "web"}, OnPremises: true}
	if f.agent, err = fleet.Add(context.Background(), f.inst); err != nil {
		t.Fatal(err)
	}
	return f
}

// put stores a zip revision under key: appspec.yml plus files; files whose
// name ends in ".sh" are executable.
func (f *fixture) put(key, appspec string, files map[string]string) revision.Location {
	f.t.Helper()
	return putRevision(f.t, f.src, key, appspec, files)
}

func putRevision(t *testing.T, src *revisiontest.MemSource, key, appspec string, files map[string]string) revision.Location {
	t.Helper()
	loc, err := src.Put(revision.Location{Type: revision.LocationS3, S3: &revision.S3Location{
		Bucket: "releases", Key: key, BundleType: revision.BundleZip}}, buildZip(t, appspec, files))
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// buildZip builds a zip bundle: appspec.yml plus files; files whose name
// ends in ".sh" are executable.
func buildZip(t *testing.T, appspec string, files map[string]string) []byte {
	t.Helper()
	entries := []revisiontest.Entry{{Name: "appspec.yml", Body: appspec}}
	for _, name := range slices.Sorted(maps.Keys(files)) {
		e := revisiontest.Entry{Name: name, Body: files[name]}
		if strings.HasSuffix(name, ".sh") {
			e.Mode = 0o755
		}
		entries = append(entries, e)
	}
	data, err := revisiontest.Build(revision.BundleZip, entries...)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// deployment returns the DeploymentInfo of an in-place deployment of loc
// by group dg-1.
func deployment(id string, loc revision.Location) target.DeploymentInfo {
	return target.DeploymentInfo{
		ApplicationName:     "shop",
		DeploymentGroupName: "web",
		DeploymentGroupID:   "dg-1",
		DeploymentID:        id,
		Revision:            loc,
		Creator:             target.CreatorUser,
		DeploymentType:      target.InPlace,
	}
}

// run runs one event on the fixture's instance and fails the test on an
// error.
func (f *fixture) run(d target.DeploymentInfo, e target.LifecycleEvent) target.EventResult {
	f.t.Helper()
	res, err := f.fleet.RunEvent(context.Background(), target.EventRequest{Target: f.inst, Event: e, Deployment: d})
	if err != nil {
		f.t.Fatalf("%s: %v", e, err)
	}
	if err := res.Validate(); err != nil {
		f.t.Fatalf("%s: invalid result %+v: %v", e, res, err)
	}
	return res
}

// deploy runs the in-place sequence without a load balancer (User Guide,
// "AppSpec 'hooks' section") up to and including the first failed event, and
// returns the results by event.
func (f *fixture) deploy(d target.DeploymentInfo) map[target.LifecycleEvent]target.EventResult {
	f.t.Helper()
	events, err := target.Sequence{Platform: config.Server, Kind: target.KindInPlace}.Events()
	if err != nil {
		f.t.Fatal(err)
	}
	out := map[target.LifecycleEvent]target.EventResult{}
	for _, e := range events {
		if e.Role(config.Server) != target.RoleInstaller {
			continue
		}
		res := f.run(d, e)
		out[e] = res
		if res.Status == target.EventFailed {
			break
		}
	}
	return out
}

// mustSucceed fails the test unless every result succeeded.
func mustSucceed(t *testing.T, results map[target.LifecycleEvent]target.EventResult) {
	t.Helper()
	for e, r := range results {
		if r.Status != target.EventSucceeded {
			t.Fatalf("%s: %s %s: %s\n%s", e, r.Status, r.ErrorCode, r.Message, r.LogTail)
		}
	}
}

// path returns the host path of an instance path.
func (f *fixture) path(p string) string { return f.agent.Path(p) }

func (f *fixture) read(p string) string {
	f.t.Helper()
	b, err := os.ReadFile(f.path(p))
	if err != nil {
		f.t.Fatal(err)
	}
	return string(b)
}

func (f *fixture) exists(p string) bool {
	_, err := os.Lstat(f.path(p))
	return err == nil
}

// marks returns the lines hook scripts appended to /marks.
func (f *fixture) marks() []string {
	f.t.Helper()
	b, err := os.ReadFile(f.path("/marks"))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		f.t.Fatal(err)
	}
	return strings.Fields(string(b))
}

// mark is a hook script that appends word to /marks on the instance.
func mark(word string) string {
	return "#!/bin/sh\necho " + word + " >> \"$FLEETDEPLOY_INSTANCE_ROOT/marks\"\necho ran " + word + "\n"
}

// dead reports whether process pid has exited: it no longer exists, or is
// a zombie waiting to be reaped.
func dead(pid int) bool {
	if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
		return true
	}
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return errors.Is(err, os.ErrNotExist)
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i >= 0 && i+2 < len(s) && s[i+2] == 'Z'
}

// requireDead fails the test unless process pid is dead. SIGKILL is
// delivered asynchronously, so it looks a bounded number of times,
// yielding the processor in between (no sleeping).
func requireDead(t *testing.T, pid int) {
	t.Helper()
	for range 1_000_000 {
		if dead(pid) {
			return
		}
		runtime.Gosched()
	}
	_ = syscall.Kill(pid, syscall.SIGKILL)
	t.Fatalf("process %d survived its hook", pid)
}

// fifo makes a named pipe for a script to report to the test; reading it
// blocks until the script writes, so the test knows where the script is
// without polling.
func fifo(t *testing.T) string {
	t.Helper()
	name := filepath.Join(t.TempDir(), "report")
	if err := syscall.Mkfifo(name, 0o666); err != nil {
		t.Fatal(err)
	}
	return name
}

// readReport opens the fifo, reads one line and returns it.
func readReport(t *testing.T, name string) string {
	t.Helper()
	fd, err := os.Open(name) // blocks until the script opens it for writing
	if err != nil {
		t.Fatal(err)
	}
	defer fd.Close()
	line, err := bufio.NewReader(fd).ReadString('\n')
	if err != nil {
		t.Fatalf("reading the script's report: %v", err)
	}
	return strings.TrimSpace(line)
}

func atoi(t *testing.T, s string) int {
	t.Helper()
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

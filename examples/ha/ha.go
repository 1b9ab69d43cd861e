//go:build linux

package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/fleetdeploy/fleetdeploy/config"
	"github.com/fleetdeploy/fleetdeploy/deploy"
	"github.com/fleetdeploy/fleetdeploy/deploy/dynamostore"
	"github.com/fleetdeploy/fleetdeploy/examples/internal/story"
	"github.com/fleetdeploy/fleetdeploy/health"
	"github.com/fleetdeploy/fleetdeploy/revision"
	"github.com/fleetdeploy/fleetdeploy/target"
	"github.com/fleetdeploy/fleetdeploy/target/localtarget"
)

// The application, its deployment group and its configuration.
const (
	appName    = "shop"
	groupName  = "web"
	configName = "CodeDeployDefault.HalfAtATime"
)

// takeoverMargin is what the failover may take beyond LeaseTTL plus the
// supervise interval: the surviving supervisor's ExpiredLeases and
// AcquireLease calls through moto, and this program's polling of the
// lease every leasePoll, on a busy machine.
const takeoverMargin = 500 * time.Millisecond

// How often the example looks at the hook log, the lease and the
// deployment while it waits for what the executor processes do. The store
// is read less often than the log: every request through the proxy holds
// up the executors' own.
const (
	logPoll        = 10 * time.Millisecond
	leasePoll      = 25 * time.Millisecond
	deploymentPoll = 100 * time.Millisecond
)

// Bounds on the waits for other processes, generous: each only ends a run
// that went wrong.
const (
	readyTimeout    = 30 * time.Second // an executor process starting
	progressTimeout = time.Minute      // the deployment reaching the kill, or its end
	stopTimeout     = 10 * time.Second // an executor stopping on SIGTERM; a dying hook
)

// run is the whole program: args are the command-line arguments without
// the program name. It returns the exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	o, code, ok := parseArgs(args, stderr)
	if !ok {
		return code
	}
	dir, cleanup, err := story.WorkDir(o.dir, "fleetdeploy-ha-")
	if err != nil {
		fmt.Fprintf(stderr, "ha: %v\n", err)
		if o.dir != "" {
			return story.ExitUsage
		}
		return story.ExitFailure
	}
	defer cleanup()
	program, err := os.Executable()
	if err != nil {
		fmt.Fprintf(stderr, "ha: %v\n", err)
		return story.ExitFailure
	}
	began := time.Now()
	x := &example{o: o, dir: dir, program: program, out: stdout, errOut: &lockedWriter{w: stderr}}
	x.checks = story.NewChecks(x.printf)
	level := slog.LevelWarn
	if o.verbose {
		level = slog.LevelDebug
	}
	x.logger = slog.New(slog.NewTextHandler(x.errOut, &slog.HandlerOptions{Level: level})).With("executor", "example")

	err = x.story(ctx)
	// Whatever happened, nothing this program started outlives it; the
	// checks of the shutdown count only after a whole story.
	err = errors.Join(err, x.shutdown(err == nil))
	if err == nil {
		x.printf("")
		x.printf("Done in %.1fs (failover, kill → takeover: %.2fs): %s", time.Since(began).Seconds(),
			x.failover.Seconds(), x.checks.Verdict())
		if x.outErr != nil {
			err = fmt.Errorf("writing the output: %w", x.outErr)
		}
	}
	return story.Exit(ctx, stderr, "ha", err, x.checks.Problems())
}

// lockedWriter serializes writes of several goroutines (the executors'
// logs, forwarded line by line).
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

// Write implements io.Writer.
func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// example is the program's world: moto and the proxy, the store, the
// fleet, its own executor (which creates deployments), and the executor
// processes.
type example struct {
	o       options
	dir     string
	program string // this program's executable, which the executors and hooks run
	out     io.Writer
	outErr  error
	errOut  *lockedWriter
	logger  *slog.Logger
	checks  *story.Checks

	// transport carries every HTTP request the example makes itself;
	// shutdown closes its idle connections.
	transport *http.Transport
	moto      *motoServer
	proxy     *serialProxy
	store     *dynamostore.Store
	fleet     *localtarget.Fleet
	exec      *deploy.Executor
	group     *deploy.Group
	revs      map[string]revision.Location
	min       health.Minimum
	procs     []*executorProc

	t0       time.Time     // when the deployment was handed to the first executor
	failover time.Duration // kill → takeover
}

// printf writes one line of output.
func (x *example) printf(format string, args ...any) {
	if _, err := fmt.Fprintf(x.out, format+"\n", args...); err != nil && x.outErr == nil {
		x.outErr = err
	}
}

// since returns "t+1.23s", the time since the deployment was handed over.
func (x *example) since(t time.Time) string { return fmt.Sprintf("t+%.2fs", t.Sub(x.t0).Seconds()) }

// story sets everything up, runs the deployment across the executor
// processes, kills the one that drives it half-way and checks the outcome.
func (x *example) story(ctx context.Context) error {
	if err := x.setUp(ctx); err != nil {
		return err
	}
	if err := x.history(ctx); err != nil {
		return err
	}
	if err := x.startExecutors(ctx); err != nil {
		return err
	}
	return x.failoverStory(ctx)
}

// setUp starts (or attaches to) moto and the proxy, creates the table,
// the revisions, the fleet, the application and the group, and the
// example's own executor.
func (x *example) setUp(ctx context.Context) error {
	x.printf("fleetdeploy ha: %d executor processes share one DynamoDB table; the one driving a deployment is killed half-way.", x.o.executors)
	x.transport = http.DefaultTransport.(*http.Transport).Clone()
	hc := &http.Client{Transport: x.transport}
	if x.o.endpoint == "" {
		m, err := startMoto(ctx, hc, filepath.Join(x.dir, "moto.log"))
		if err != nil {
			return err
		}
		x.moto = m
		x.printf("moto: python3 -m moto.server on %s (pid %d)", m.url, m.proc.pid)
	} else {
		x.moto = &motoServer{url: strings.TrimRight(x.o.endpoint, "/")}
		if err := ping(ctx, hc, x.moto.url); err != nil {
			return fmt.Errorf("-endpoint %s does not answer: %w", x.o.endpoint, err)
		}
		x.printf("moto: %s (-endpoint)", x.moto.url)
	}
	p, err := startProxy(x.moto.url, x.transport)
	if err != nil {
		return err
	}
	x.proxy = p

	var suffix [4]byte
	_, _ = rand.Read(suffix[:])
	table := "fleetdeploy-ha-" + hex.EncodeToString(suffix[:])
	client := dynamodb.NewFromConfig(awsConfig(p.url, hc))
	if err := dynamostore.CreateTable(ctx, client, table); err != nil {
		return err
	}
	if x.store, err = dynamostore.New(client, table); err != nil {
		return err
	}
	x.printf("store: dynamostore on table %s, every process through one proxy at %s that passes one request at a time", table, p.url)

	if x.revs, err = writeRevisions(ctx, revisionDir(x.dir)); err != nil {
		return err
	}
	src, err := newSource(revisionDir(x.dir))
	if err != nil {
		return err
	}
	// The example's own agents run v1, the fleet's history, with hooks
	// that log elsewhere and do not linger.
	x.fleet, err = localtarget.New(fleetDir(x.dir), src, func(o *localtarget.Options) {
		o.Logger = x.logger
		o.Env = hookEnv(x.program, filepath.Join(x.dir, "history.log"), os.Getpid(), 0)
	})
	if err != nil {
		return err
	}
	zones := []string{"zone-a", "zone-b", "zone-c"}
	for i := range x.o.instances {
		t := target.Target{ID: fmt.Sprintf("web-%02d", i+1), Zone: zones[i%len(zones)], OnPremises: true,
			Tags: map[string]string{"app": appName}}
		if _, err := x.fleet.Add(ctx, t); err != nil {
			return err
		}
	}

	app := deploy.Application{Name: appName, ComputePlatform: config.Server, CreateTime: time.Now()}
	if err := x.store.CreateApplication(ctx, &app); err != nil {
		return err
	}
	x.group = &deploy.Group{
		ApplicationName:      appName,
		Name:                 groupName,
		DeploymentConfigName: configName,
		Selector: target.Selector{OnPremisesInstanceTagFilters: []target.TagFilter{
			{Key: "app", Value: appName, Type: target.KeyAndValue}}},
	}
	if err := x.store.CreateGroup(ctx, x.group); err != nil {
		return err
	}
	cfg, err := config.Lookup(configName)
	if err != nil {
		return err
	}
	if x.min, err = health.ForConfig(cfg, x.o.instances); err != nil {
		return err
	}
	x.exec, err = deploy.New(x.store, target.Platform{Lister: x.fleet, Installer: x.fleet}, func(o *deploy.Options) {
		o.ExecutorID = "ha-example"
		o.LeaseTTL = x.o.leaseTTL
		o.Logger = x.logger
	})
	if err != nil {
		return err
	}
	x.printf("fleet: %d local instances under %s; group %q with %s: %d must stay healthy, %d may be offline at once",
		x.o.instances, fleetDir(x.dir), groupName, configName, x.min.Required, x.min.Window)
	x.printf("executors: lease TTL %s, supervise interval %s, so a takeover within %s (+%s margin); hooks work %s each",
		x.o.leaseTTL, x.o.interval, x.o.leaseTTL+x.o.interval, takeoverMargin, x.o.hookTime)
	return nil
}

// history deploys v1 through the example's own executor: instances that
// never received a revision are Unhealthy, and their going offline would
// not count against the minimum; after v1 all are Healthy, and v2 must
// keep the minimum.
func (x *example) history(ctx context.Context) error {
	x.checks.Section("The fleet's history: v1, run by the example itself")
	d, err := x.exec.CreateDeployment(ctx, deploy.DeploymentInput{ApplicationName: appName, GroupName: groupName,
		Revision: x.revs["v1"], Description: "v1: the fleet's history"})
	if err != nil {
		return err
	}
	if d, err = x.exec.Run(ctx, d.ID); err != nil {
		return err
	}
	recs, err := x.store.GetInstances(ctx, x.group.ID)
	if err != nil {
		return err
	}
	healthy := 0
	for _, r := range recs {
		if r.InstanceHealth == health.Healthy {
			healthy++
		}
	}
	var failed []string
	for t, err := range deploy.AllTargets(ctx, x.store, d.ID) {
		if err != nil {
			return err
		}
		if t.Status == target.TargetSucceeded {
			continue
		}
		why := string(t.Status)
		for _, ev := range t.LifecycleEvents {
			if ev.Diagnostics != nil {
				why = fmt.Sprintf("%s in %s: %s %s", t.Status, ev.Name, ev.Diagnostics.ErrorCode, ev.Diagnostics.Message)
			}
		}
		failed = append(failed, t.TargetID+" "+why)
	}
	x.checks.Expect(d.Status == deploy.StatusSucceeded && healthy == x.o.instances && len(failed) == 0,
		"v1 (%s) %s on %d of %d instances; %d Healthy%s", d.ID, d.Status, x.o.instances-len(failed), x.o.instances,
		healthy, listed(" — not succeeded: ", failed))
	return nil
}

// executorProc is one executor process.
type executorProc struct {
	id    string
	proc  *child
	stdin io.WriteCloser
	lines chan string   // its standard output, line by line; closed at its end
	logs  chan struct{} // closed once its standard error is copied to the end
}

// startExecutors starts the executor processes — this program again, in
// its executor role — and waits until each supervises.
func (x *example) startExecutors(ctx context.Context) error {
	x.checks.Section("Executor processes")
	for i := range x.o.executors {
		c := executorConfig{id: fmt.Sprintf("ha-%d", i+1), endpoint: x.proxy.url, table: x.store.Table(), dir: x.dir,
			leaseTTL: x.o.leaseTTL, interval: x.o.interval, hookTime: x.o.hookTime, verbose: x.o.verbose}
		e, err := x.startExecutor(c)
		if err != nil {
			return err
		}
		x.procs = append(x.procs, e)
	}
	for _, e := range x.procs {
		if _, err := x.expectLine(ctx, e, "ready", readyTimeout); err != nil {
			return err
		}
		x.printf("  %s: pid %d, running Supervise", e.id, e.proc.pid)
	}
	return nil
}

// startExecutor starts one executor process.
func (x *example) startExecutor(c executorConfig) (*executorProc, error) {
	cmd := exec.Command(x.program, c.args()...)
	cmd.Env = append(os.Environ(), roleEnv+"=executor")
	// Its standard input, output and error: the child's ends, then ours.
	var ends [2][3]*os.File
	for i := range 3 {
		r, w, err := os.Pipe()
		if err != nil {
			for _, f := range slices.Concat(ends[0][:i], ends[1][:i]) {
				f.Close()
			}
			return nil, err
		}
		if i == 0 {
			ends[0][i], ends[1][i] = r, w
		} else {
			ends[0][i], ends[1][i] = w, r
		}
	}
	cmd.Stdin, cmd.Stdout, cmd.Stderr = ends[0][0], ends[0][1], ends[0][2]
	proc, err := startChild(cmd)
	for _, f := range ends[0] {
		f.Close() // the child has its copies
	}
	inW, outR, errR := ends[1][0], ends[1][1], ends[1][2]
	if err != nil {
		for _, f := range ends[1] {
			f.Close()
		}
		return nil, fmt.Errorf("starting executor %s: %w", c.id, err)
	}
	e := &executorProc{id: c.id, proc: proc, stdin: inW, lines: make(chan string, 64), logs: make(chan struct{})}
	go func() {
		defer close(e.lines)
		defer outR.Close()
		sc := bufio.NewScanner(outR)
		for sc.Scan() {
			select {
			case e.lines <- sc.Text():
			default: // nobody listens for that many; drop
			}
		}
	}()
	go func() {
		defer close(e.logs)
		defer errR.Close()
		sc := bufio.NewScanner(errR)
		for sc.Scan() {
			fmt.Fprintf(x.errOut, "[%s pid %d] %s\n", e.id, proc.pid, sc.Text())
		}
	}()
	return e, nil
}

// expectLine waits until executor e says a line that starts with prefix,
// and returns it; lines before it are skipped.
func (x *example) expectLine(ctx context.Context, e *executorProc, prefix string, timeout time.Duration) (string, error) {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		select {
		case line, ok := <-e.lines:
			if !ok {
				<-e.proc.exited
				return "", fmt.Errorf("executor %s ended (%s) before it said %q", e.id, e.proc.exitString(), prefix)
			}
			if strings.HasPrefix(line, prefix) {
				return line, nil
			}
		case <-deadline.C:
			return "", fmt.Errorf("executor %s did not say %q within %s", e.id, prefix, timeout)
		case <-ctx.Done():
			return "", ctx.Err()
		}
	}
}

// byID returns the executor process whose ExecutorID is id, or nil.
func (x *example) byID(id string) *executorProc {
	for _, e := range x.procs {
		if e.id == id {
			return e
		}
	}
	return nil
}

// byPID returns the ID of the executor process pid, or "pid N".
func (x *example) byPID(pid int) string {
	for _, e := range x.procs {
		if e.proc.pid == pid {
			return e.id
		}
	}
	return fmt.Sprintf("pid %d", pid)
}

// readRuns reads the hook log of the deployment.
func (x *example) readRuns() ([]hookRun, error) {
	b, err := os.ReadFile(hookLog(x.dir))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return parseHookLog(b)
}

// killed is what the example saw of the kill.
type killed struct {
	e        *executorProc
	lease    deploy.Lease // the lease it held
	at       time.Time    // when SIGKILL was sent
	reaped   time.Time    // when its exit was seen
	hooksEnd time.Time    // when the hooks it was running were seen dead
	cut      []hookRun    // the runs it was in when it died
	stored   map[eventKey]bool
	done     int // instances whose last hook had ended at the kill
}

// failoverStory creates v2's deployment, hands it to the first executor,
// kills the lease's owner half-way, and checks what follows.
func (x *example) failoverStory(ctx context.Context) error {
	x.checks.Section("v2 across the executor processes")
	d, err := x.exec.CreateDeployment(ctx, deploy.DeploymentInput{ApplicationName: appName, GroupName: groupName,
		Revision: x.revs["v2"], Description: "v2: survives its executor"})
	if err != nil {
		return err
	}
	// A Created deployment has never been leased, and Supervise resumes
	// only deployments whose lease expired: whoever creates a deployment
	// hands it to an executor to Run. From then on it is leased, and the
	// supervisors find it if its executor dies.
	first := x.procs[0]
	x.t0 = time.Now()
	if _, err := fmt.Fprintf(first.stdin, "run %s\n", d.ID); err != nil {
		return fmt.Errorf("handing %s to %s: %w", d.ID, first.id, err)
	}
	x.printf("  %s: %s created by the example, handed to %s (\"run %s\" on its standard input), which calls Run",
		x.since(x.t0), d.ID, first.id, d.ID)

	k, err := x.kill(ctx, d.ID)
	if err != nil {
		return err
	}
	newLease, err := x.takeover(ctx, d.ID, k)
	if err != nil {
		return err
	}
	final, err := x.waitFinal(ctx, d.ID)
	if err != nil {
		return err
	}
	return x.checkOutcome(ctx, final, k, newLease)
}

// kill waits until the first instance is done — half-way through the
// first wave, with the rest of that wave's instances in their last hooks
// and the second wave not started — then kills the executor that holds
// the deployment's lease with SIGKILL, and waits for it and its hooks to
// die. It reads the target records as stored at that moment.
func (x *example) kill(ctx context.Context, id string) (*killed, error) {
	n := x.o.instances
	const killAfter = 1
	var runs []hookRun
	err := poll(ctx, progressTimeout, logPoll, func() (bool, error) {
		var err error
		if runs, err = x.readRuns(); err != nil {
			return false, err
		}
		return doneInstances(runs) >= killAfter, nil
	})
	if err != nil {
		return nil, fmt.Errorf("waiting for the first instance to finish v2: %w", err)
	}
	lease, err := x.store.GetLease(ctx, id)
	if err != nil {
		return nil, err
	}
	e := x.byID(lease.Owner)
	if e == nil || !lease.Live(time.Now()) {
		return nil, fmt.Errorf("half-way, %s is not held by any executor process", lease)
	}
	k := &killed{e: e, lease: lease}
	if err := e.proc.signal(syscall.SIGKILL); err != nil {
		return nil, err
	}
	k.at = time.Now()
	<-e.proc.exited
	k.reaped = time.Now()
	if runs, err = x.readRuns(); err != nil {
		return nil, err
	}
	k.done = doneInstancesBefore(runs, k.reaped)
	for _, r := range runs {
		if r.executor == e.proc.pid && !r.ended() {
			k.cut = append(k.cut, r)
		}
	}
	inFlight := len(startedInstances(runs)) - k.done
	x.printf("  %s: %d of %d instances done, %d under way: SIGKILL to %s (pid %d), the owner of lease %d",
		x.since(k.at), k.done, n, inFlight, e.id, e.proc.pid, lease.Token)

	// The hooks it was running die with it (their parent-death signal).
	gone := poll(ctx, stopTimeout, time.Millisecond, func() (bool, error) {
		for _, r := range k.cut {
			if running(r.hook, x.program) {
				return false, nil
			}
		}
		return true, nil
	})
	k.hooksEnd = time.Now()
	var cut []string
	for _, r := range k.cut {
		cut = append(cut, r.instance+" "+r.event)
	}
	// A hook that outlived its executor would have gone on to log its end.
	if runs, err = x.readRuns(); err != nil {
		return nil, err
	}
	var late []string
	for _, r := range runs {
		if r.executor == e.proc.pid && r.ended() && r.end.After(k.reaped) {
			late = append(late, r.String())
		}
	}
	x.checks.Expect(gone == nil && len(late) == 0 && e.proc.exitString() == "killed by SIGKILL",
		"%s %s; the %s it was running died with it (parent-death signal), all gone %.1fms after its exit: %s%s",
		e.id, e.proc.exitString(), plural(len(k.cut), "hook"), float64(k.hooksEnd.Sub(k.reaped))/float64(time.Millisecond),
		strings.Join(cut, ", "), listed(" — but these ran on and ended after it: ", late)+errSuffix(" — but some are still running: ", gone))

	// What the store held at the kill: nobody writes until the lease is
	// taken over, at the earliest when it expires.
	k.stored = map[eventKey]bool{}
	for t, err := range deploy.AllTargets(ctx, x.store, id) {
		if err != nil {
			return nil, err
		}
		for _, ev := range t.LifecycleEvents {
			if ev.Status == target.EventSucceeded || ev.Status == target.EventFailed {
				k.stored[eventKey{t.TargetID, string(ev.Name)}] = true
			}
		}
	}
	after, err := x.store.GetLease(ctx, id)
	if err != nil {
		return nil, err
	}
	if after.Token != lease.Token {
		return nil, fmt.Errorf("the lease was taken over (%s) before the records stored at the kill could be read; a longer -lease-ttl leaves time for that", after)
	}
	return k, nil
}

// takeover waits until another executor takes the lease over, and checks
// when it did.
func (x *example) takeover(ctx context.Context, id string, k *killed) (deploy.Lease, error) {
	var l deploy.Lease
	err := poll(ctx, x.o.leaseTTL+x.o.interval+progressTimeout, leasePoll, func() (bool, error) {
		var err error
		l, err = x.store.GetLease(ctx, id)
		return l.Token > k.lease.Token, err
	})
	if err != nil {
		return l, fmt.Errorf("waiting for another executor to take %s over: %w", id, err)
	}
	seen := time.Now()
	// The lease's expiry is when it was taken (on the taker's clock, the
	// system clock of this machine) plus the TTL, until its first renewal
	// a third of the TTL later — long after leasePoll.
	taken := l.Expires.Add(-x.o.leaseTTL)
	x.failover = taken.Sub(k.at)
	x.printf("  %s: %s took the lease over (token %d; seen %s later)", x.since(taken), l.Owner, l.Token,
		seen.Sub(taken).Round(time.Millisecond))
	bound := x.o.leaseTTL + x.o.interval + takeoverMargin
	other := l.Owner != k.e.id && x.byID(l.Owner) != nil
	x.checks.Expect(other && x.failover <= bound,
		"%s, another executor process, took the deployment over %.2fs after the kill: within lease TTL %s + supervise interval %s + margin %s",
		l.Owner, x.failover.Seconds(), x.o.leaseTTL, x.o.interval, takeoverMargin)
	x.checks.Expect(!taken.Before(k.lease.Expires) && l.Token == k.lease.Token+1,
		"not before %s's lease expired (%s after the kill; taken %.2fs later), with the next fencing token (%d → %d)",
		k.e.id, k.lease.Expires.Sub(k.at).Round(time.Millisecond), taken.Sub(k.lease.Expires).Seconds(), k.lease.Token, l.Token)
	return l, nil
}

// waitFinal waits until the deployment has ended.
func (x *example) waitFinal(ctx context.Context, id string) (*deploy.Deployment, error) {
	var d *deploy.Deployment
	err := poll(ctx, progressTimeout, deploymentPoll, func() (bool, error) {
		var err error
		d, err = x.store.GetDeployment(ctx, id)
		return err == nil && d.Status.Final(), err
	})
	if err != nil {
		return nil, fmt.Errorf("waiting for %s to end: %w", id, err)
	}
	x.printf("  %s: %s %s", x.since(time.Now()), id, d.Status)
	return d, nil
}

// checkOutcome checks the deployment's end, the stored records and the
// hook log.
func (x *example) checkOutcome(ctx context.Context, d *deploy.Deployment, k *killed, l deploy.Lease) error {
	x.checks.Section("Checks")
	owner := x.byID(l.Owner)
	line, err := x.expectLine(ctx, owner, "resumed "+d.ID, stopTimeout)
	if err != nil {
		return err
	}
	succeeded := 0
	final := map[eventKey]target.LifecycleEventStatus{}
	for t, err := range deploy.AllTargets(ctx, x.store, d.ID) {
		if err != nil {
			return err
		}
		if t.Status == target.TargetSucceeded {
			succeeded++
		}
		for _, ev := range t.LifecycleEvents {
			final[eventKey{t.TargetID, string(ev.Name)}] = ev.Status
		}
	}
	x.checks.Expect(d.Status == deploy.StatusSucceeded && succeeded == x.o.instances && line == "resumed "+d.ID+" "+string(deploy.StatusSucceeded),
		"%s %s: %d of %d instances Succeeded; %s's Resume returned %q", d.ID, d.Status, succeeded, x.o.instances, owner.id,
		strings.TrimPrefix(line, "resumed "+d.ID+" "))

	runs, err := x.readRuns()
	if err != nil {
		return err
	}
	byEvent := runsByEvent(runs)
	var missing []string
	for _, id := range slices.Sorted(instanceIDs(x.o.instances)) {
		for _, e := range hookEvents {
			k := eventKey{id, string(e)}
			if final[k] != target.EventSucceeded || !slices.ContainsFunc(byEvent[k], hookRun.ended) {
				missing = append(missing, fmt.Sprintf("%s (stored %s, %d runs)", k, final[k], len(byEvent[k])))
			}
		}
	}
	x.checks.Expect(len(missing) == 0, "every hook event of every instance ran to its end and is stored Succeeded: %d events, %d runs%s",
		x.o.instances*len(hookEvents), len(runs), listed(" — not: ", missing))

	reruns, problems := rerunProblems(byEvent, k.stored, k.e.proc.pid, k.reaped)
	x.checks.Expect(len(problems) == 0,
		"no event whose outcome was stored at the kill (%d) ran again; %d ran twice, each in flight at the kill: %s%s",
		len(k.stored), len(reruns), joinKeys(reruns), listed(" — but: ", problems))

	ov := overlaps(runs, k.hooksEnd)
	var ovs []string
	for _, o := range ov {
		ovs = append(ovs, fmt.Sprintf("%s and %s", o.a, o.b))
	}
	x.checks.Expect(len(ov) == 0, "no two hook runs overlapped on one instance, within a process or across them (%d runs by %s)%s",
		len(runs), x.executorsOf(runs), listed(" — overlapping: ", ovs))

	peak, at := offlinePeak(runs, k.hooksEnd)
	x.checks.Expect(x.o.instances-peak >= x.min.Required,
		"healthy instances never fell below the minimum across the processes: at most %d offline at once (%s), so at least %d of %d healthy; %s keeps %d",
		peak, x.since(at), x.o.instances-peak, x.o.instances, configName, x.min.Required)
	return nil
}

// executorsOf names the executors whose agents ran runs: "ha-1, ha-3".
func (x *example) executorsOf(runs []hookRun) string {
	seen := map[int]bool{}
	var ids []string
	for _, r := range runs {
		if !seen[r.executor] {
			seen[r.executor] = true
			ids = append(ids, x.byPID(r.executor))
		}
	}
	slices.Sort(ids)
	return strings.Join(ids, ", ")
}

// shutdown stops everything the example started: SIGTERM to the executor
// processes, which stop Supervise and exit, then the proxy and moto. With
// check, it checks that each executor exited cleanly and that no executor,
// hook or moto process is left; otherwise (the story ended early) it only
// makes sure of it.
func (x *example) shutdown(check bool) error {
	if check {
		x.checks.Section("Shutdown")
	}
	var stopped, problems []string
	for _, e := range x.procs {
		if !e.proc.done() {
			_ = e.proc.signal(syscall.SIGTERM)
			t := time.NewTimer(stopTimeout)
			select {
			case <-e.proc.exited:
				stopped = append(stopped, fmt.Sprintf("%s %s", e.id, e.proc.exitString()))
				if e.proc.exitString() != "exit 0" {
					problems = append(problems, e.id+" "+e.proc.exitString())
				}
			case <-t.C:
				problems = append(problems, e.id+" did not stop within "+stopTimeout.String()+" of SIGTERM")
			}
			t.Stop()
		}
		// Its process group holds its hooks, if any were left.
		_ = e.proc.signalGroup(syscall.SIGKILL)
		<-e.proc.exited
		e.stdin.Close()
		<-e.logs
		for range e.lines { // drain what nobody read
		}
	}
	if check {
		x.checks.Expect(len(problems) == 0, "the executors left stopped on SIGTERM, ending Supervise: %s%s",
			strings.Join(stopped, ", "), listed(" — but: ", problems))
		var alive []string
		for _, e := range x.procs {
			if running(e.proc.pid, "") {
				alive = append(alive, fmt.Sprintf("%s (pid %d)", e.id, e.proc.pid))
			}
		}
		hooks := 0
		for _, name := range []string{hookLog(x.dir), filepath.Join(x.dir, "history.log")} {
			b, err := os.ReadFile(name)
			if err != nil {
				alive = append(alive, "unknown hooks: "+err.Error())
				continue
			}
			runs, err := parseHookLog(b)
			if err != nil {
				alive = append(alive, "unknown hooks: "+err.Error())
				continue
			}
			for _, r := range runs {
				hooks++
				if running(r.hook, x.program) {
					alive = append(alive, fmt.Sprintf("hook %d (%s)", r.hook, r))
				}
			}
		}
		x.checks.Expect(len(alive) == 0, "no executor process (%d) and no hook process (%d, of v1 and v2) survives%s",
			len(x.procs), hooks, listed(" — alive: ", alive))
	}
	if x.proxy != nil {
		x.proxy.close()
	}
	if x.transport != nil {
		x.transport.CloseIdleConnections()
	}
	if x.moto != nil && x.moto.proc != nil {
		gone := x.moto.stop()
		if check {
			x.checks.Expect(gone, "moto stopped (%s); no process of its group %d is left", x.moto.proc.exitString(), x.moto.proc.pid)
		}
	}
	return nil
}

// doneInstances counts the instances whose last hook (ValidateService) has
// ended.
func doneInstances(runs []hookRun) int { return doneInstancesBefore(runs, time.Time{}) }

// doneInstancesBefore counts the instances whose last hook ended before t
// (any time when t is zero).
func doneInstancesBefore(runs []hookRun, t time.Time) int {
	last := string(hookEvents[len(hookEvents)-1])
	done := map[string]bool{}
	for _, r := range runs {
		if r.event == last && r.ended() && (t.IsZero() || r.end.Before(t)) {
			done[r.instance] = true
		}
	}
	return len(done)
}

// startedInstances returns the instances with at least one hook run.
func startedInstances(runs []hookRun) map[string]bool {
	out := map[string]bool{}
	for _, r := range runs {
		out[r.instance] = true
	}
	return out
}

// instanceIDs returns the IDs of n instances: web-01, web-02, …
func instanceIDs(n int) func(func(string) bool) {
	return func(yield func(string) bool) {
		for i := range n {
			if !yield(fmt.Sprintf("web-%02d", i+1)) {
				return
			}
		}
	}
}

// listed returns prefix and the items, comma-separated, or "" for none.
func listed(prefix string, items []string) string {
	if len(items) == 0 {
		return ""
	}
	return prefix + strings.Join(items, "; ")
}

// joinKeys returns "web-07 AfterInstall, web-09 Install", or "none".
func joinKeys(keys []eventKey) string {
	if len(keys) == 0 {
		return "none"
	}
	s := make([]string, len(keys))
	for i, k := range keys {
		s[i] = k.String()
	}
	return strings.Join(s, ", ")
}

// plural returns "1 hook", "3 hooks".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// errSuffix returns prefix and err's message, or "" for no error.
func errSuffix(prefix string, err error) string {
	if err == nil {
		return ""
	}
	return prefix + err.Error()
}

package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"math"
	"net"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/hashicorp/go-multierror"

	"github.com/fleetdeploy/fleetdeploy/config"
	"github.com/fleetdeploy/fleetdeploy/deploy"
	"github.com/fleetdeploy/fleetdeploy/deploy/clock"
	"github.com/fleetdeploy/fleetdeploy/deploy/plan"
	"github.com/fleetdeploy/fleetdeploy/examples/internal/story"
	"github.com/fleetdeploy/fleetdeploy/internal/errmsg"
	"github.com/fleetdeploy/fleetdeploy/revision"
	"github.com/fleetdeploy/fleetdeploy/target"
	"github.com/fleetdeploy/fleetdeploy/target/localtraffic"
)

// The application, its deployment group, the Lambda function and its
// alias.
const (
	appName   = "shop"
	groupName = "live"
	function  = "shop"
	alias     = "live"
)

// Where the checks' expectations come from, as the output cites them: the
// CodeDeploy User Guide's pages, or fleetdeploy's own rule where AWS is
// silent.
const (
	ugHooks    = `User Guide: "AppSpec 'hooks' section"`
	ugAlarms   = `User Guide: "Monitoring deployments with CloudWatch alarms in CodeDeploy"`
	ugRollback = `User Guide: "Redeploy and roll back a deployment with CodeDeploy"`
	decided    = `fleetdeploy's rule: "Where fleetdeploy decides" in its package documentation`
)

// The deployment configurations: CodeDeploy custom Lambda configurations,
// intervals in whole minutes.
const (
	linearName = "ShopLinear25PercentEvery1Minute"
	canaryName = "ShopCanary10Percent2Minutes"
)

// configs returns the custom configurations: linear 25% every minute
// (25, 50, 75, 100 at 0, 1, 2, 3 minutes: when the last shift comes is
// fleetdeploy's decision, see package config) and canary 10%, the
// rest after 2 minutes.
func configs() []config.Config {
	return []config.Config{
		{Name: linearName, ComputePlatform: config.Lambda, TrafficRouting: &config.TrafficRouting{
			Type: config.TimeBasedLinear, TimeBasedLinear: &config.Linear{LinearPercentage: 25, LinearInterval: 1}}},
		{Name: canaryName, ComputePlatform: config.Lambda, TrafficRouting: &config.TrafficRouting{
			Type: config.TimeBasedCanary, TimeBasedCanary: &config.Canary{CanaryPercentage: 10, CanaryInterval: 2}}},
	}
}

// The alarm on the alias: above 10% 5xx among the requests sent to the
// new version over the last minute, judged from 5 requests on.
const (
	alarmName        = "shop-live-5xx"
	alarmWindow      = time.Minute
	alarmThreshold   = 0.10
	alarmMinRequests = 5
)

// Timing, in virtual time.
const (
	// pollInterval is how often the executor polls the alarms.
	pollInterval = 15 * time.Second
	// quiet is how long the example watches the traffic before the first
	// deployment and after each one.
	quiet = time.Minute
	// bucket is the resolution of the proxy's sliding windows.
	bucket = time.Second
)

// minJudged is the fewest requests a step must have for its split to be
// judged.
const minJudged = 20

// minPerMinute is the fewest requests per virtual minute (-rate × -minute)
// the story needs: enough for each step of the linear deployment to be
// judged, and for the canary's 10% to reach the alarm's minimum well
// within its 2 minutes.
const minPerMinute = 150

// The bounds of the flags.
const (
	minMinute = 100 * time.Millisecond
	maxMinute = time.Minute
	minRate   = 20
	maxRate   = 2000
)

// defaultRate is -rate's default when -minute leaves it enough requests
// per virtual minute.
const defaultRate = 200

// deriveRate returns the rate used when -rate is not given: defaultRate,
// or the rate that sends minPerMinute requests per virtual minute when one
// lasts minute, whichever is higher (at most maxRate, which every minute
// -minute allows leaves enough).
func deriveRate(minute time.Duration) int {
	need := int(math.Ceil(minPerMinute / minute.Seconds()))
	return min(max(defaultRate, need), maxRate)
}

func main() { story.Main(run) }

// options are the command-line flags.
type options struct {
	minute  time.Duration
	rate    int
	verbose bool
}

// parseArgs parses the command line. ok is false when the program must exit
// with code.
func parseArgs(args []string, stderr io.Writer) (o options, code int, ok bool) {
	fs := story.NewFlagSet("canary", stderr,
		"usage: canary [-minute D] [-rate N] [-v]",
		"Shifts a Lambda-style alias between versions of a local HTTP service under steady load: a linear",
		"deployment that succeeds, then a canary of a broken version that trips an alarm and is rolled back.")
	fs.DurationVar(&o.minute, "minute", 2*time.Second,
		fmt.Sprintf("real time one virtual `minute` takes (%v to %v); deployment configurations count whole minutes", minMinute, maxMinute))
	fs.IntVar(&o.rate, "rate", 0, fmt.Sprintf("`requests` per second sent to the alias (%d–%d); by default %d, or more when -minute is shorter than %v: the %d per virtual minute the story needs",
		minRate, maxRate, defaultRate, time.Duration(float64(time.Second)*minPerMinute/defaultRate), minPerMinute))
	fs.BoolVar(&o.verbose, "v", false, "debug logging of the executor to stderr")
	if code, ok := story.ParseFlags(fs, args); !ok {
		return o, code, false
	}
	if o.minute < minMinute || o.minute > maxMinute {
		fmt.Fprintf(stderr, "canary: -minute must be %v to %v; got %v\n", minMinute, maxMinute, o.minute)
		return o, story.ExitUsage, false
	}
	rateSet := false
	fs.Visit(func(f *flag.Flag) { rateSet = rateSet || f.Name == "rate" })
	if !rateSet {
		o.rate = deriveRate(o.minute)
	}
	if o.rate < minRate || o.rate > maxRate {
		fmt.Fprintf(stderr, "canary: -rate must be %d to %d; got %d\n", minRate, maxRate, o.rate)
		return o, story.ExitUsage, false
	}
	if perMinute := float64(o.rate) * o.minute.Seconds(); perMinute < minPerMinute {
		fmt.Fprintf(stderr, "canary: -rate %d with -minute %v sends %.0f requests per virtual minute; the story needs at least %d\n",
			o.rate, o.minute, perMinute, minPerMinute)
		return o, story.ExitUsage, false
	}
	return o, 0, true
}

// run is the whole program: args are the command-line arguments without
// the program name. It returns the exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	o, code, ok := parseArgs(args, stderr)
	if !ok {
		return code
	}
	level := slog.LevelError
	if o.verbose {
		level = slog.LevelDebug
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	began := time.Now()
	clk := newScaledClock(systemTime{}, o.minute)
	out := &console{w: stdout, clk: clk, start: clk.Now()}
	checks := story.NewChecks(out.plainf)
	d, err := setUp(ctx, o, clk, out, checks, logger)
	if err == nil {
		err = d.story(ctx)
		if cerr := d.tearDown(); err == nil {
			err = cerr
		}
		if err == nil {
			d.epilogue(time.Since(began))
			if d.out.err != nil {
				err = fmt.Errorf("writing the output: %w", d.out.err)
			}
		}
	}
	return story.Exit(ctx, stderr, "canary", err, checks.Problems())
}

// demo is the example's world: the versions' servers, the proxy and its
// alarm, the load, the store and the executor.
type demo struct {
	clk   *scaledClock
	out   *console
	route target.TrafficRoute

	servers map[string]*server // by Lambda version number
	proxy   *localtraffic.Proxy
	load    *loadGen
	meter   *meter
	watch   *alarmWatch
	obs     *observer
	hooks   *hooks
	store   *deploy.MemoryStore
	exec    *deploy.Executor

	// revs are the revisions — inline AppSpecs — by their identity
	// (revision.Location.Key), with their names ("v1→v2").
	revs map[string]string

	// cleanups undo setUp, last first.
	cleanups []func() error
	// checks prints the outcomes and counts those that differ from what
	// the rules predict.
	checks *story.Checks
}

// setUp starts the versions' servers, the proxy with the alias in front
// of them, the load, and wires the executor, all on clk; it prints to out
// and records the outcomes in checks. On error it undoes what it did.
func setUp(ctx context.Context, o options, clk *scaledClock, out *console, checks *story.Checks, logger *slog.Logger) (_ *demo, err error) {
	d := &demo{clk: clk, out: out, checks: checks,
		route:   target.TrafficRoute{ResourceID: function + ":" + alias},
		servers: map[string]*server{}, revs: map[string]string{}}
	defer func() {
		if err != nil {
			err = errors.Join(err, d.tearDown())
		}
	}()

	for _, v := range versions {
		s, err := startServer(ctx, v, logger)
		if err != nil {
			return nil, err
		}
		d.servers[v.n] = s
		d.cleanups = append(d.cleanups, func() error {
			sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			defer cancel()
			return s.stop(sctx)
		})
	}

	d.proxy, err = localtraffic.New(func(po *localtraffic.Options) {
		po.Clock = clk
		po.Bucket = bucket
		po.Logger = logger
	})
	if err != nil {
		return nil, err
	}
	d.cleanups = append(d.cleanups, d.proxy.Close)
	backends := make([]localtraffic.Backend, 0, len(versions))
	for _, v := range versions {
		backends = append(backends, localtraffic.Backend{ID: v.n, URL: d.servers[v.n].url})
	}
	if err := d.proxy.AddRoute(d.route, versionGood1.n, backends...); err != nil {
		return nil, err
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("listening for the alias: %w", err)
	}
	aliasURL := "http://" + ln.Addr().String() + "/"
	d.cleanups = append(d.cleanups, goUntilCancel(ctx, func(ctx context.Context) error { return d.proxy.Serve(ctx, ln, d.route) }))

	d.load = newLoadGen(aliasURL, o.rate)
	d.cleanups = append(d.cleanups, goUntilCancel(ctx, func(ctx context.Context) error { d.load.run(ctx); return nil }))

	alarm := localtraffic.ErrorRateAlarm{Name: alarmName, Route: d.route, Replacement: true,
		Window: alarmWindow, Threshold: alarmThreshold, MinRequests: alarmMinRequests}
	alarms, err := localtraffic.NewAlarms(d.proxy, alarm)
	if err != nil {
		return nil, err
	}
	d.watch = &alarmWatch{alarms: alarms, defs: map[string]localtraffic.ErrorRateAlarm{alarmName: alarm}, clk: clk,
		out: d.out, last: map[string]target.AlarmState{}}

	d.store = deploy.NewMemoryStore()
	app := deploy.Application{Name: appName, ComputePlatform: config.Lambda, CreateTime: clk.Now()}
	if err := d.store.CreateApplication(ctx, &app); err != nil {
		return nil, err
	}
	group := deploy.Group{
		ApplicationName:      appName,
		Name:                 groupName,
		ComputePlatform:      config.Lambda,
		DeploymentConfigName: canaryName,
		AlarmConfiguration:   deploy.AlarmConfiguration{Enabled: true, Alarms: []deploy.Alarm{{Name: alarmName}}},
		AutoRollbackConfiguration: deploy.AutoRollbackConfiguration{Enabled: true, Events: []deploy.AutoRollbackEvent{
			deploy.AutoRollbackDeploymentFailure, deploy.AutoRollbackDeploymentStopOnAlarm}},
	}
	if err := d.store.CreateGroup(ctx, &group); err != nil {
		return nil, err
	}

	d.meter, err = newMeter(ctx, d.proxy, d.route, d.load, clk, d.store, d.out, "")
	if err != nil {
		return nil, err
	}
	hookTransport := &http.Transport{Proxy: nil}
	d.cleanups = append(d.cleanups, func() error { hookTransport.CloseIdleConnections(); return nil })
	d.hooks = &hooks{client: &http.Client{Transport: hookTransport, Timeout: requestTimeout}, servers: d.servers,
		alias: aliasURL, out: d.out, meter: d.meter}
	d.obs = &observer{out: d.out, store: d.store, revs: d.revName}
	d.exec, err = deploy.New(d.store, target.Platform{TrafficShifter: d.meter, HookInvoker: d.hooks}, func(eo *deploy.Options) {
		eo.Clock = clk
		eo.Logger = logger
		eo.Observer = d.obs
		eo.AlarmSource = d.watch
		eo.Source = revision.ContentSource{}
		eo.Configs = configs()
		eo.PollInterval = pollInterval
	})
	if err != nil {
		return nil, err
	}

	p := d.out.plainf
	p("fleetdeploy canary: the Lambda alias %s, played by a local weighted proxy in front of 3 versions of an HTTP service", d.route.ResourceID)
	p("time: 1 virtual minute = %v of real time (-minute); the configurations count whole minutes, as CodeDeploy's do", o.minute)
	p("  v1      %s   version 1, live", d.servers["1"].url)
	p("  v2      %s   a good release", d.servers["2"].url)
	p("  v3      %s   broken: %d in %d requests answer 500; /health is fine", d.servers["3"].url, brokenNum, brokenDen)
	p("  alias   %s   %d requests/s, from %d workers", aliasURL, o.rate, loadWorkers)
	p("deployment group %s/%s: alarm %s (above %.0f%% 5xx among the new version's requests over the last %s, from %d requests on),",
		appName, groupName, alarmName, 100*alarmThreshold, virtualSpan(alarmWindow), alarmMinRequests)
	p("  polled every %s; automatic rollback on %s and %s", virtualSpan(pollInterval),
		deploy.AutoRollbackDeploymentFailure, deploy.AutoRollbackDeploymentStopOnAlarm)
	return d, nil
}

// goUntilCancel runs f in a goroutine with a context of its own and
// returns the function that cancels that context and waits for f.
func goUntilCancel(ctx context.Context, f func(context.Context) error) func() error {
	ctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan error, 1)
	go func() { done <- f(ctx) }()
	return func() error {
		cancel()
		return <-done
	}
}

// tearDown stops everything setUp started, last first: the load, the
// alias's listener, the proxy's connections, the servers.
func (d *demo) tearDown() error {
	errs := errmsg.NewList("canary: tearing down", "failures")
	for i := len(d.cleanups) - 1; i >= 0; i-- {
		errs = multierror.Append(errs, d.cleanups[i]())
	}
	d.cleanups = nil
	return errs.ErrorOrNil()
}

// appSpec is the AppSpec of a deployment of the function from version
// current to version next (User Guide, "AppSpec 'resources' section (Amazon
// ECS and AWS Lambda deployments only)"), with both hooks.
func appSpec(current, next version) string {
	return fmt.Sprintf(`version: 0.0
Resources:
  - %[1]s:
      Type: AWS::Lambda::Function
      Properties:
        Name: %[1]s
        Alias: %[2]s
        CurrentVersion: "%[3]s"
        TargetVersion: "%[4]s"
Hooks:
  - BeforeAllowTraffic: %[5]s
  - AfterAllowTraffic: %[6]s
`, function, alias, current.n, next.n, preTrafficHook, postTrafficHook)
}

// revision returns the inline AppSpec revision that moves the alias from
// current to next, and remembers its name.
func (d *demo) revision(current, next version) revision.Location {
	loc := revision.Location{Type: revision.LocationAppSpecContent,
		AppSpecContent: &revision.AppSpecContent{Content: appSpec(current, next)}}
	d.revs[loc.Key()] = current.name() + "→" + next.name()
	return loc
}

// revName names a revision: "v1→v2", or its location when it is not one
// of ours.
func (d *demo) revName(loc revision.Location) string {
	if n, ok := d.revs[loc.Key()]; ok {
		return n
	}
	return loc.String()
}

// deploy creates a deployment of rev with configuration cfg and runs it
// to the end, with its automatic rollback if there is one. It then closes
// the traffic window of the last shift.
func (d *demo) deploy(ctx context.Context, rev revision.Location, cfg, description string) (*deploy.Deployment, error) {
	dep, err := d.exec.CreateDeployment(ctx, deploy.DeploymentInput{ApplicationName: appName, GroupName: groupName,
		Revision: rev, ConfigName: cfg, Description: description})
	if err != nil {
		return nil, err
	}
	got, err := d.exec.Run(ctx, dep.ID)
	if err != nil {
		return nil, err
	}
	if _, err := d.meter.mark(ctx, ""); err != nil {
		return nil, err
	}
	return got, nil
}

// watchQuietly lets the traffic flow for the quiet period and returns the
// window it observed, named label.
func (d *demo) watchQuietly(ctx context.Context, label string) (window, error) {
	if _, err := d.meter.mark(ctx, label); err != nil {
		return window{}, err
	}
	if err := clock.Sleep(ctx, d.clk, quiet); err != nil {
		return window{}, err
	}
	return d.meter.mark(ctx, "")
}

// story runs the two deployments and checks each outcome against the
// spec.
func (d *demo) story(ctx context.Context) error {
	d.checks.Section("Before: v1 is live")
	before, err := d.watchQuietly(ctx, "before")
	if err != nil {
		return err
	}
	d.expectOnly(before, versionGood1, "before any deployment")

	revA := d.revision(versionGood1, versionGood2)
	a, err := d.linear(ctx, revA)
	if err != nil {
		return err
	}
	b, err := d.canary(ctx, revA)
	if err != nil {
		return err
	}
	return d.summary(ctx, a, b)
}

// linear runs deployment (a), v1→v2 with linear 25% every minute, and
// checks it.
func (d *demo) linear(ctx context.Context, revA revision.Location) (*deploy.Deployment, error) {
	d.checks.Section("(a) v2 with " + linearName + ": 25% more of the traffic every minute")
	a, err := d.deploy(ctx, revA, linearName, "v2: the new price formatter")
	if err != nil {
		return nil, err
	}
	d.out.plainf("checks of %s:", a.ID)
	d.checks.Expect(a.Status == deploy.StatusSucceeded, "%s %s (BeforeAllowTraffic, AllowTraffic, AfterAllowTraffic; "+ugHooks+")", a.ID, a.Status)
	d.expectSchedule(a, versionGood2)
	d.expectHooks(a.ID, len(a.Config.TrafficRouting.Steps()), true)
	d.expectCurrent(ctx, versionGood2)
	after, err := d.watchQuietly(ctx, "after "+a.ID)
	if err != nil {
		return nil, err
	}
	d.expectOnly(after, versionGood2, "after "+a.ID)
	return a, nil
}

// canary runs deployment (b), v2→v3 with canary 10% then the rest after 2
// minutes: v3's errors trip the alarm, the deployment stops, and the
// automatic rollback redeploys revA, the last successful revision. It
// checks all of it.
func (d *demo) canary(ctx context.Context, revA revision.Location) (*deploy.Deployment, error) {
	d.checks.Section("(b) v3 with " + canaryName + ": 10% of the traffic, the rest after 2 minutes")
	revB := d.revision(versionGood2, versionBad3)
	b, err := d.deploy(ctx, revB, canaryName, "v3: the price formatter, faster")
	if err != nil {
		return nil, err
	}
	d.out.plainf("checks of %s:", b.ID)
	stop := ""
	if b.StopRequest != nil {
		stop = b.StopRequest.Alarm
	}
	d.checks.Expect(b.Status == deploy.StatusStopped && b.ErrorInformation.Code == plan.AlarmActive && stop == alarmName,
		"%s %s with %s, stopped by alarm %q ("+ugAlarms+")", b.ID, b.Status, b.ErrorInformation.Code, stop)
	alarmed := slices.ContainsFunc(d.watch.history(), func(c alarmChange) bool {
		return c.Reading.State == target.AlarmAlarm && !c.At.Before(b.StartTime) && !c.At.After(b.CompleteTime)
	})
	d.checks.Expect(alarmed, "alarm %s went to ALARM while %s ran", alarmName, b.ID)
	ws := d.meter.of(b.ID)
	d.checks.Expect(len(ws) == 1 && ws[0].Split.Weight == 10,
		"%s shifted once, to 10%% on v3, and never further: %s", b.ID, weights(ws))
	for _, w := range ws {
		d.expectSplit(w, versionBad3, false)
	}
	d.expectHooks(b.ID, len(ws), false)

	rbID := b.RollbackInfo.RollbackDeploymentID
	if rbID == "" {
		d.checks.Expect(false, "%s was rolled back (autoRollbackConfiguration DEPLOYMENT_STOP_ON_ALARM): no rollback deployment (%s)",
			b.ID, b.RollbackInfo.RollbackMessage)
		return b, nil
	}
	rb, err := d.store.GetDeployment(ctx, rbID)
	if err != nil {
		return nil, err
	}
	d.out.plainf("checks of its rollback %s:", rb.ID)
	d.checks.Expect(rb.Creator == target.CreatorRollback && rb.RollbackInfo.RollbackTriggeringDeploymentID == b.ID,
		"rollback %s: creator %s, rollbackTriggeringDeploymentId %s; %s's rollbackDeploymentId %s ("+ugRollback+")",
		rb.ID, rb.Creator, rb.RollbackInfo.RollbackTriggeringDeploymentID, b.ID, rbID)
	d.checks.Expect(rb.Revision.Equal(revA), "the rollback redeploys %s, the last successful revision ("+ugRollback+")", d.revName(rb.Revision))
	d.checks.Expect(rb.Status == deploy.StatusSucceeded, "rollback %s %s", rb.ID, rb.Status)
	// A Lambda rollback moves all traffic straight back to the version that
	// was live before the failed deployment, in one shift (CodeDeploy's ECS
	// rollback, "Redeploy and roll back a deployment with CodeDeploy";
	// fleetdeploy decides the same for Lambda — see package deploy).
	rws := d.meter.of(rb.ID)
	d.checks.Expect(len(rws) == 1 && rws[0].weightOf(versionGood2.n) == 100,
		"%s shifted %s: all traffic back on v2 in one shift", rb.ID, weights(rws))
	for i, w := range rws {
		d.expectSplit(w, versionGood2, i == len(rws)-1)
		for _, id := range slices.Sorted(maps.Keys(w.Stats.Backends)) {
			c := w.Stats.Backends[id]
			d.checks.Expect(id == versionGood2.n || c.Requests == 0,
				"in the rollback's %s, %s got %d of %d requests; only v2 may", w.Label, label(id), c.Requests, w.Stats.Total.Requests)
		}
	}
	d.expectHooks(rb.ID, len(rws), true)
	d.expectCurrent(ctx, versionGood2)
	g, err := d.store.GetGroup(ctx, appName, groupName)
	if err != nil {
		return nil, err
	}
	groupRev := "-"
	if g.TargetRevision != nil {
		groupRev = d.revName(*g.TargetRevision)
	}
	d.checks.Expect(g.TargetRevision != nil && g.TargetRevision.Equal(revA), "the group's target revision is %s again", groupRev)
	after, err := d.watchQuietly(ctx, "after the rollback")
	if err != nil {
		return nil, err
	}
	d.expectOnly(after, versionGood2, "after the rollback")
	return b, nil
}

// expectSchedule checks the shifts of deployment dep against its
// configuration's schedule (API Reference, TrafficRoutingConfig; the linear
// schedule's last step is fleetdeploy's decision): the weights in order, each
// shift no earlier than its offset after BeforeAllowTraffic ended, and the
// observed split of each step. to is the version traffic moves to.
func (d *demo) expectSchedule(dep *deploy.Deployment, to version) {
	steps := dep.Config.TrafficRouting.Steps()
	ws := d.meter.of(dep.ID)
	want := make([]int, len(steps))
	for i, s := range steps {
		want[i] = s.Weight
	}
	got := make([]int, len(ws))
	for i, w := range ws {
		got[i] = w.Split.Weight
	}
	d.checks.Expect(slices.Equal(got, want), "%s shifted %s; %s: %v ("+decided+")", dep.ID, weights(ws), dep.ConfigName, want)
	if began, ok := d.hooks.ended(dep.ID, target.BeforeAllowTraffic); ok && len(ws) == len(steps) {
		on := true
		var at []string
		for i, w := range ws {
			off := w.ShiftAt.Sub(began)
			on = on && off >= steps[i].At
			at = append(at, "+"+virtualSpan(off))
		}
		d.checks.Expect(on, "shifts at %s after BeforeAllowTraffic ended; due at %s", strings.Join(at, ", "), offsets(steps))
	}
	for i, w := range ws {
		d.expectSplit(w, to, i == len(ws)-1)
	}
}

// expectSplit checks the observed traffic of one step against its split:
// the share of to within tolerance of the weight (exact at 0 and 100%),
// from at least minJudged requests unless it is the last step (which ends
// with the deployment).
func (d *demo) expectSplit(w window, to version, last bool) {
	n := w.Stats.Total.Requests
	p := float64(w.weightOf(to.n)) / 100
	got := w.share(to.n)
	tol := tolerance(p, n)
	others := n - w.Stats.Backends[w.Split.Original].Requests - w.Stats.Backends[w.Split.Replacement].Requests
	switch {
	case n < minJudged && !last:
		d.checks.Expect(false, "%s %s: %d requests, too few to judge its split (raise -rate or -minute)", w.DeploymentID, w.Label, n)
	case p == 0 || p == 1:
		d.checks.Expect(got == p && others == 0, "%s %s: %s got %.1f%% of %d requests; configured %d%%, exact",
			w.DeploymentID, w.Label, to.name(), 100*got, n, w.weightOf(to.n))
	default:
		d.checks.Expect(abs(got-p) <= tol && others == 0, "%s %s: %s got %.1f%% of %d requests; configured %d%% (±%.1f%%)",
			w.DeploymentID, w.Label, to.name(), 100*got, n, w.weightOf(to.n), 100*tol)
	}
}

// expectOnly checks a quiet window: every request went to v and none
// failed.
func (d *demo) expectOnly(w window, v version, when string) {
	c := w.Stats.Backends[v.n]
	d.checks.Expect(w.Stats.Total.Requests >= minJudged && c.Requests == w.Stats.Total.Requests && w.Stats.Total.Errors == 0,
		"%s, %s answered %d of %d requests through the alias, %d errors", when, v.name(), c.Requests, w.Stats.Total.Requests, w.Stats.Total.Errors)
}

// expectHooks checks that deployment id ran BeforeAllowTraffic before its
// first shift and, when after is set, AfterAllowTraffic after its last
// (User Guide, "AppSpec 'hooks' section"), both Succeeded; shifts is how
// many shifts it made.
func (d *demo) expectHooks(id string, shifts int, after bool) {
	pre, okPre := d.hooks.call(id, target.BeforeAllowTraffic)
	desc := fmt.Sprintf("BeforeAllowTraffic %s with %d shifts before", pre.status, pre.shiftsBefore)
	ok := okPre && pre.status == target.EventSucceeded && pre.shiftsBefore == 0
	if after {
		post, okPost := d.hooks.call(id, target.AfterAllowTraffic)
		desc += fmt.Sprintf(", AfterAllowTraffic %s after %d of %d", post.status, post.shiftsBefore, shifts)
		ok = ok && okPost && post.status == target.EventSucceeded && post.shiftsBefore == shifts
	} else {
		_, ran := d.hooks.call(id, target.AfterAllowTraffic)
		desc += ", no AfterAllowTraffic"
		ok = ok && !ran
	}
	d.checks.Expect(ok, "%s hooks: %s ("+ugHooks+")", id, desc)
}

// expectCurrent checks that the alias sends everything to v.
func (d *demo) expectCurrent(ctx context.Context, v version) {
	s, err := d.proxy.CurrentTraffic(ctx, d.route)
	d.checks.Expect(err == nil && s == target.TrafficSplit{Original: v.n}, "the alias %s now: %s", d.route.ResourceID, splitText(s))
}

// weights spells the weights of windows: "25% → 50% → 75% → 100%".
func weights(ws []window) string {
	parts := make([]string, len(ws))
	for i, w := range ws {
		parts[i] = fmt.Sprintf("%d%%", w.Split.Weight)
	}
	if len(parts) == 0 {
		return "nothing"
	}
	return strings.Join(parts, " → ")
}

// offsets spells the offsets of a schedule: "+0m00.0s, +1m00.0s".
func offsets(steps []config.TrafficStep) string {
	parts := make([]string, len(steps))
	for i, s := range steps {
		parts[i] = "+" + virtualSpan(s.At)
	}
	return strings.Join(parts, ", ")
}

func abs(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}

// summary prints the deployments and the load, and checks that no request
// failed on the way.
func (d *demo) summary(ctx context.Context, a, b *deploy.Deployment) error {
	ids := []string{a.ID, b.ID}
	if id := b.RollbackInfo.RollbackDeploymentID; id != "" {
		ids = append(ids, id)
	}
	d.checks.Section("Deployments")
	d.out.plainf("%-11s  %-8s  %-31s  %-18s  %-9s  %-12s  %s", "DEPLOYMENT", "REVISION", "CONFIG", "CREATOR", "STATUS", "ERROR CODE", "SHIFTS")
	for _, id := range ids {
		dep, err := d.store.GetDeployment(ctx, id)
		if err != nil {
			return err
		}
		code := string(dep.ErrorInformation.Code)
		if code == "" {
			code = "-"
		}
		d.out.plainf("%-11s  %-8s  %-31s  %-18s  %-9s  %-12s  %s", dep.ID, d.revName(dep.Revision), dep.ConfigName, dep.Creator,
			dep.Status, code, weights(d.meter.of(id)))
	}
	stats, err := d.proxy.Stats(d.route)
	if err != nil {
		return err
	}
	c := d.load.counts()
	d.checks.Section("Traffic")
	d.out.plainf("load: %d requests sent: %d answered 200, %d answered 5xx, %d other statuses, %d failed; %d ticks dropped (all workers busy)",
		c.Sent, c.OK, c.ServerErrors, c.OtherStatus, c.Failed, c.Dropped)
	for _, v := range versions {
		b := stats.Backends[v.n]
		d.out.plainf("  %s: %d requests, %d errors", v.name(), b.Requests, b.Errors)
	}
	v3 := stats.Backends[versionBad3.n]
	d.checks.Expect(c.Failed == 0 && stats.Unavailable() == 0, "no request failed to reach a version while the alias shifted: %d failed, %d answered 503 by the proxy",
		c.Failed, stats.Unavailable())
	d.checks.Expect(stats.Total.Errors == v3.Errors, "every error came from v3: %d of %d", v3.Errors, stats.Total.Errors)
	return nil
}

// epilogue says how it went.
func (d *demo) epilogue(took time.Duration) {
	d.out.plainf("")
	virtual := d.clk.Now().Sub(d.out.start)
	d.out.plainf("Done in %.1fs (%s of virtual time): %s", took.Seconds(), virtualSpan(virtual), d.checks.Verdict())
}

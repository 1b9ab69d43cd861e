package deploy_test

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/fleetdeploy/fleetdeploy/config"
	"github.com/fleetdeploy/fleetdeploy/deploy"
	"github.com/fleetdeploy/fleetdeploy/deploy/clock"
	"github.com/fleetdeploy/fleetdeploy/deploy/deploytest"
	"github.com/fleetdeploy/fleetdeploy/health"
	"github.com/fleetdeploy/fleetdeploy/revision"
	"github.com/fleetdeploy/fleetdeploy/target"
	"github.com/fleetdeploy/fleetdeploy/target/targettest"
)

// tester is what the helpers need of a *testing.T, *testing.B or
// *rapid.T.
type tester interface {
	Helper()
	Fatal(args ...any)
	Fatalf(format string, args ...any)
	Errorf(format string, args ...any)
}

// env is a deployment group over a targettest fleet, an in-memory store, a
// fake clock and a recorder, with an executor on top.
type env struct {
	t     tester
	ctx   context.Context
	store deploy.Store
	mem   *deploy.MemoryStore
	fleet *targettest.Fleet
	clk   *deploytest.FakeClock
	rec   *deploytest.Recorder
	exec  *deploy.Executor
	group *deploy.Group
	opts  []func(*deploy.Options)
	// platform is what executors run against; the zero value means the
	// fleet's (Lister, Installer, TrafficController).
	platform target.Platform
}

var prodSelector = target.Selector{EC2TagFilters: []target.TagFilter{{Key: "env", Value: "prod", Type: target.KeyAndValue}}}

// fleetTargets returns n targets "i-000".."i-<n-1>" tagged env=prod, spread
// over zones a, b, c.
func fleetTargets(n int) []target.Target {
	ts := make([]target.Target, n)
	for i := range ts {
		ts[i] = target.Target{ID: fmt.Sprintf("i-%03d", i), Zone: "zone-" + string(rune('a'+i%3)),
			Tags: map[string]string{"env": "prod"}}
	}
	return ts
}

func rev(name string) revision.Location {
	return revision.Location{Type: revision.LocationS3,
		S3: &revision.S3Location{Bucket: "releases", Key: name + ".zip", BundleType: revision.BundleZip}}
}

// newEnv makes a group "shop/prod" over n targets with configuration
// cfgName; change adjusts the group before it is created.
func newEnv(t tester, n int, cfgName string, change func(*deploy.Group), opts ...func(*deploy.Options)) *env {
	t.Helper()
	mem := deploy.NewMemoryStore()
	e := &env{t: t, ctx: context.Background(), store: mem, mem: mem, fleet: targettest.NewFleet(fleetTargets(n)...),
		clk: deploytest.NewFakeClock(time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)), rec: &deploytest.Recorder{}}
	app := deploy.Application{Name: "shop", ComputePlatform: config.Server}
	if err := mem.CreateApplication(e.ctx, &app); err != nil {
		t.Fatal(err)
	}
	g := deploy.Group{ApplicationName: "shop", Name: "prod", DeploymentConfigName: cfgName, Selector: prodSelector}
	if change != nil {
		change(&g)
	}
	var o deploy.Options
	for _, opt := range opts {
		opt(&o)
	}
	if err := g.Validate(o.Configs...); err != nil {
		t.Fatal(err)
	}
	if err := mem.CreateGroup(e.ctx, &g); err != nil {
		t.Fatal(err)
	}
	e.group = &g
	e.opts = opts
	e.exec = e.newExecutor(mem)
	return e
}

// newExecutor returns an executor over store with the env's platform,
// clock, recorder and options: a new process, when store is the env's.
func (e *env) newExecutor(store deploy.Store) *deploy.Executor {
	e.t.Helper()
	opts := append([]func(*deploy.Options){func(o *deploy.Options) {
		o.Clock = e.clk
		o.Observer = e.rec
		o.Notifiers = []deploy.Notifier{e.rec}
	}}, e.opts...)
	p := e.platform
	if p == (target.Platform{}) {
		p = e.fleet.Platform()
	}
	x, err := deploy.New(store, p, opts...)
	if err != nil {
		e.t.Fatal(err)
	}
	return x
}

// create creates a deployment of revision name.
func (e *env) create(name string, change ...func(*deploy.DeploymentInput)) *deploy.Deployment {
	e.t.Helper()
	in := deploy.DeploymentInput{ApplicationName: "shop", GroupName: "prod", Revision: rev(name)}
	for _, c := range change {
		c(&in)
	}
	d, err := e.exec.CreateDeployment(e.ctx, in)
	if err != nil {
		e.t.Fatal(err)
	}
	return d
}

// deploy creates and runs a deployment of revision name.
func (e *env) deploy(name string, change ...func(*deploy.DeploymentInput)) *deploy.Deployment {
	e.t.Helper()
	d := e.create(name, change...)
	got, err := e.exec.Run(e.ctx, d.ID)
	if err != nil {
		e.t.Fatal(err)
	}
	return got
}

// get reads a deployment.
func (e *env) get(id string) *deploy.Deployment {
	e.t.Helper()
	d, err := e.store.GetDeployment(e.ctx, id)
	if err != nil {
		e.t.Fatal(err)
	}
	return d
}

// targets reads a deployment's targets by ID.
func (e *env) targets(id string) map[string]deploy.DeploymentTarget {
	e.t.Helper()
	out := map[string]deploy.DeploymentTarget{}
	for t, err := range deploy.AllTargets(e.ctx, e.store, id) {
		if err != nil {
			e.t.Fatal(err)
		}
		out[t.TargetID] = t
	}
	return out
}

// health returns every instance record's health relative to the group's
// current revision, by target ID.
func (e *env) health() map[string]health.Target {
	e.t.Helper()
	g, err := e.store.GetGroup(e.ctx, "shop", "prod")
	if err != nil {
		e.t.Fatal(err)
	}
	recs, err := e.store.GetInstances(e.ctx, g.ID)
	if err != nil {
		e.t.Fatal(err)
	}
	out := map[string]health.Target{}
	for _, r := range recs {
		out[r.TargetID] = r.Health(g.TargetRevision)
	}
	return out
}

// groupRevision returns the group's target revision key, "" when none.
func (e *env) groupRevision() string {
	e.t.Helper()
	g, err := e.store.GetGroup(e.ctx, "shop", "prod")
	if err != nil {
		e.t.Fatal(err)
	}
	if g.TargetRevision == nil {
		return ""
	}
	return g.TargetRevision.Key()
}

// advanceWhile runs f in a goroutine and moves the fake clock to its next
// deadline whenever at least minWaiters timers are pending, until f
// returns. The executor's loop always holds one timer (its poll), so
// minWaiters 2 advances whenever some other wait is pending too — and
// minWaiters 1 at once, without waiting for the workers: virtual time then
// runs ahead of them, so such a test either has no Server events or turns
// the time limits off (deploy.NoTimeLimits). While Server lifecycle events
// run, the watchdog of their time limits holds one timer more.
func advanceWhile[T any](ctx context.Context, clk *clock.Fake, minWaiters int, f func() T) T {
	return advanceGated(ctx, clk, minWaiters, clockGate{}, f)
}

// clockGate holds advanceGated's clock still while a condition the test
// owns does not hold — an event under way, say — rather than trusting a
// count of timers alone, which a state in passing can also reach (a
// timer that fired and whose consequence is still on its way). The zero
// gate is always open.
type clockGate struct {
	// open reports whether the clock may move now; nil: always.
	open func() bool
	// wake is signalled when open may have become true.
	wake <-chan struct{}
}

// advanceGated is advanceWhile with the clock moved only while gate is
// open; while it is closed, it waits for f to return or gate.wake.
func advanceGated[T any](ctx context.Context, clk *clock.Fake, minWaiters int, gate clockGate, f func() T) T {
	var res T
	finished := make(chan struct{})
	go func() {
		res = f()
		close(finished)
	}()
	for {
		bctx, cancel := context.WithCancel(ctx)
		go func() {
			select {
			case <-finished:
				cancel()
			case <-bctx.Done():
			}
		}()
		err := clk.BlockUntil(bctx, minWaiters)
		cancel()
		select {
		case <-finished:
			return res
		default:
		}
		if err != nil {
			<-finished
			return res
		}
		if gate.open != nil && !gate.open() {
			select {
			case <-finished:
				return res
			case <-gate.wake:
				continue
			}
		}
		clk.AdvanceToNext()
	}
}

// result is what Run returns.
type result struct {
	d   *deploy.Deployment
	err error
}

// seed gives the group the target revision v0 and every target an
// instance record: Healthy/Current (running v0) unless states says
// otherwise ("Healthy/Old", "Healthy/Unknown", "Unhealthy").
func (e *env) seed(states map[string]string) {
	e.t.Helper()
	g, err := e.store.GetGroup(e.ctx, "shop", "prod")
	if err != nil {
		e.t.Fatal(err)
	}
	v0, old := rev("v0"), rev("old")
	g.TargetRevision = &v0
	if err := e.store.UpdateGroup(e.ctx, g); err != nil {
		e.t.Fatal(err)
	}
	e.group = g
	var recs []deploy.InstanceRecord
	for _, t := range e.fleet.Targets() {
		r := deploy.InstanceRecord{GroupID: g.ID, TargetID: t.ID, InstanceHealth: health.Healthy, Revision: &v0}
		switch states[t.ID] {
		case "Healthy/Old":
			r.Revision = &old
		case "Healthy/Unknown":
			r.Revision = nil
		case "Unhealthy":
			r.InstanceHealth = health.Unhealthy
		}
		recs = append(recs, r)
	}
	if err := e.store.PutInstances(e.ctx, recs); err != nil {
		e.t.Fatal(err)
	}
}

// newExecutorWithID returns an executor over the env's store that names
// new deployments id.
func (e *env) newExecutorWithID(id string) *deploy.Executor {
	e.t.Helper()
	saved := e.opts
	e.opts = append(append([]func(*deploy.Options){}, saved...), func(o *deploy.Options) { o.NewID = func() string { return id } })
	defer func() { e.opts = saved }()
	return e.newExecutor(e.mem)
}

func stringsContains(s, sub string) bool { return strings.Contains(s, sub) }

package targettest

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/fleetdeploy/fleetdeploy/config"
	"github.com/fleetdeploy/fleetdeploy/revision"
	"github.com/fleetdeploy/fleetdeploy/target"
)

// ErrMisuse is wrapped by the error a fake returns when it is called against
// its role's contract (an event the role does not perform, a request without
// a target). Such calls are also listed by Fleet.Violations.
var ErrMisuse = errors.New("targettest: call breaks the role contract")

// Compile-time checks.
var (
	_ target.Lister            = (*Fleet)(nil)
	_ target.Installer         = (*Fleet)(nil)
	_ target.TrafficController = (*Fleet)(nil)
)

// Call is one recorded call to a Fleet's Installer or TrafficController.
type Call struct {
	// Seq numbers calls from 0 in the order they started.
	Seq int
	// Role is target.RoleInstaller (RunEvent) or
	// target.RoleTrafficController (BlockTraffic, AllowTraffic).
	Role         target.Role
	Target       string
	Event        target.LifecycleEvent
	DeploymentID string
	// Revision is the revision of the deployment the call was made for
	// (target.DeploymentInfo.Revision): a rollback's calls carry the
	// revision it goes back to.
	Revision revision.Location
	// Done is true once the call returned; Result and Err are its return
	// values (Result is zero for TrafficController calls).
	Done   bool
	Result target.EventResult
	Err    error

	start, end int64 // logical ticks of the fleet; end 0 while running
}

// member is one target of the fleet and its simulated state.
type member struct {
	t           target.Target
	unreachable bool
	inService   bool
	installed   *revision.Location
}

// Fleet is an in-memory fleet of Server targets that implements
// target.Lister, target.Installer and target.TrafficController, with
// scripted outcomes, a call hook for latency, health flips, and a record of
// every call. Targets may be added and removed at any time. The zero value is
// not usable; call NewFleet. A Fleet is safe for concurrent use.
type Fleet struct {
	mu        sync.Mutex
	members   map[string]*member
	script    script
	onCall    func(ctx context.Context, c Call) (Outcome, bool)
	listErr   error
	listCalls int

	calls      []*Call
	tick       int64
	executing  map[string]int // target ID → calls running
	running    int
	maxRunning int
	violations []string
	changed    chan struct{} // closed and replaced on every state change
}

// NewFleet returns a fleet holding targets, all reachable and registered
// with their load balancer (in service).
func NewFleet(targets ...target.Target) *Fleet {
	f := &Fleet{
		members:   map[string]*member{},
		executing: map[string]int{},
		changed:   make(chan struct{}),
	}
	f.Add(targets...)
	return f
}

// Platform returns a target.Platform with f as Lister, Installer and
// TrafficController.
func (f *Fleet) Platform() target.Platform {
	return target.Platform{Lister: f, Installer: f, TrafficController: f}
}

// Add adds targets, reachable and in service, replacing any with the same ID.
// It may be called while a deployment runs (an instance launched mid-
// deployment).
func (f *Fleet) Add(targets ...target.Target) { f.add(true, targets) }

// addOutOfService adds targets that are not registered with the load
// balancer yet (new replacement instances).
func (f *Fleet) addOutOfService(targets ...target.Target) { f.add(false, targets) }

func (f *Fleet) add(inService bool, targets []target.Target) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, t := range targets {
		f.members[t.ID] = &member{t: cloneTarget(t), inService: inService}
	}
	f.notify()
}

// takeOutOfService deregisters existing targets without changing anything
// else about them.
func (f *Fleet) takeOutOfService(targets []target.Target) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, t := range targets {
		if m := f.members[t.ID]; m != nil {
			m.inService = false
		}
	}
	f.notify()
}

// Remove removes targets (terminated instances). Later calls for them fail
// with target.ErrTargetUnavailable, and ListTargets no longer returns them.
func (f *Fleet) Remove(ids ...string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, id := range ids {
		delete(f.members, id)
	}
	f.notify()
}

// Targets returns the fleet's targets sorted by ID.
func (f *Fleet) Targets() []target.Target {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]target.Target, 0, len(f.members))
	for _, id := range slices.Sorted(maps.Keys(f.members)) {
		out = append(out, cloneTarget(f.members[id].t))
	}
	return out
}

// SetReachable flips a target's health: an unreachable target (stopped
// instance, dead agent) fails every call — including one in flight when it
// flips — with an error wrapping target.ErrTargetUnavailable; it is still
// listed. Unknown IDs are ignored.
func (f *Fleet) SetReachable(id string, reachable bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if m := f.members[id]; m != nil {
		m.unreachable = !reachable
	}
	f.notify()
}

// InService reports whether a target is registered with its load balancer:
// true when added with Add, false after a successful BlockTraffic, true
// again after a successful AllowTraffic. Replacements made by a Provisioner
// start out of service.
func (f *Fleet) InService(id string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	m := f.members[id]
	return m != nil && m.inService
}

// Installed returns the revision the last successful Install event put on a
// target, and whether there was one.
func (f *Fleet) Installed(id string) (revision.Location, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if m := f.members[id]; m != nil && m.installed != nil {
		return *m.installed, true
	}
	return revision.Location{}, false
}

// Script sets the outcome of calls for targetID and event; "" for either
// matches any. The most specific matching outcome wins (target and event,
// then target, then event, then neither), and among equally specific ones
// the latest. An outcome scoped to a revision or a deployment
// (Outcome.OnRevision, Outcome.InDeployment) applies only to calls made for
// it, and is passed over for the others. Calls without a scripted outcome
// succeed. For BlockTraffic and AllowTraffic a failed result is returned
// as an error.
func (f *Fleet) Script(targetID string, event target.LifecycleEvent, o Outcome) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.script.set(targetID, event, o)
}

// OnCall sets a hook run by every RunEvent, BlockTraffic and AllowTraffic
// call while it is in flight, before its outcome is decided; nil removes
// it (and a hook set with OnCallOutcome: a fleet has one call hook). The
// hook simulates latency: it may block on a Gate or on the caller's fake
// clock (see Delay), and must return when ctx is done. A non-nil error from
// the hook is what the call returns. It runs without the fleet's lock, so
// it may call the fleet (to flip a target's health, or add one).
func (f *Fleet) OnCall(hook func(ctx context.Context, c Call) error) {
	if hook == nil {
		f.OnCallOutcome(nil)
		return
	}
	f.OnCallOutcome(func(ctx context.Context, c Call) (Outcome, bool) {
		if err := hook(ctx, c); err != nil {
			return Error(err), true
		}
		return Outcome{}, false
	})
}

// OnCallOutcome sets a call hook, like OnCall's, that may also decide the
// call's outcome: returning (o, true) ends the call with o — a failed
// lifecycle event (Fail), which the executor records as the target's
// failure, or an error (Error) — instead of the scripted outcome; returning
// (_, false) leaves the outcome to the script. An unreachable or terminated
// target still fails with target.ErrTargetUnavailable whatever the hook
// decides, unless the hook returns an error. The scope and Times of a
// returned outcome are ignored. nil removes the hook (and one set with
// OnCall).
func (f *Fleet) OnCallOutcome(hook func(ctx context.Context, c Call) (Outcome, bool)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.onCall = hook
}

// SetListError makes ListTargets fail with err (nil to succeed again).
func (f *Fleet) SetListError(err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.listErr = err
}

// ListTargets returns the fleet's targets that sel matches, sorted by ID,
// including unreachable ones. It implements target.Lister.
func (f *Fleet) ListTargets(ctx context.Context, sel target.Selector) ([]target.Target, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("targettest: list targets: %w", err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.listCalls++
	if f.listErr != nil {
		return nil, f.listErr
	}
	var out []target.Target
	for _, id := range slices.Sorted(maps.Keys(f.members)) {
		if t := f.members[id].t; sel.Matches(t) {
			out = append(out, cloneTarget(t))
		}
	}
	return out, nil
}

// ListCalls returns how many times ListTargets was called.
func (f *Fleet) ListCalls() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.listCalls
}

// RunEvent runs a scripted lifecycle event. It implements target.Installer:
// the event must be one the Installer performs on Server targets. A
// successful Install records req.Deployment.Revision as the target's
// installed revision.
func (f *Fleet) RunEvent(ctx context.Context, req target.EventRequest) (target.EventResult, error) {
	return f.call(ctx, target.RoleInstaller, req.Target.ID, req.Event, req.Deployment, req.Target.ID == "")
}

// BlockTraffic takes a target out of service. It implements
// target.TrafficController.
func (f *Fleet) BlockTraffic(ctx context.Context, req target.TrafficRequest) error {
	_, err := f.call(ctx, target.RoleTrafficController, req.Target.ID, target.BlockTraffic, req.Deployment, req.Target.ID == "")
	return err
}

// AllowTraffic puts a target in service. It implements
// target.TrafficController.
func (f *Fleet) AllowTraffic(ctx context.Context, req target.TrafficRequest) error {
	_, err := f.call(ctx, target.RoleTrafficController, req.Target.ID, target.AllowTraffic, req.Deployment, req.Target.ID == "")
	return err
}

// call is the one path of every Installer and TrafficController call.
func (f *Fleet) call(ctx context.Context, role target.Role, id string, event target.LifecycleEvent,
	d target.DeploymentInfo, noTarget bool) (target.EventResult, error) {
	c, hook := f.begin(role, id, event, d)
	var (
		res     target.EventResult
		err     error
		decided *Outcome
	)
	switch {
	case noTarget:
		err = fmt.Errorf("targettest: %s %s: request has no target: %w", role, event, ErrMisuse)
	case event.Role(config.Server) != role:
		err = fmt.Errorf("targettest: %s cannot run event %q on %s (Server role %q): %w", role, event, id, event.Role(config.Server), ErrMisuse)
	}
	if err == nil && hook != nil {
		if o, ok := hook(ctx, *c); ok {
			if o.Err != nil {
				err = o.Err
			} else {
				decided = &o
			}
		}
	}
	if err == nil {
		if cerr := ctx.Err(); cerr != nil {
			err = fmt.Errorf("targettest: %s on %s: %w", event, id, cerr)
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if err == nil {
		res, err = f.decide(role, id, event, d, decided)
	}
	f.end(c, res, err)
	return res, err
}

// begin records the start of a call and returns it with the current hook.
func (f *Fleet) begin(role target.Role, id string, event target.LifecycleEvent, d target.DeploymentInfo) (*Call, func(context.Context, Call) (Outcome, bool)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.tick++
	c := &Call{Seq: len(f.calls), Role: role, Target: id, Event: event, DeploymentID: d.DeploymentID, Revision: d.Revision, start: f.tick}
	f.calls = append(f.calls, c)
	if f.executing[id] > 0 {
		f.violations = append(f.violations, fmt.Sprintf("call %d (%s %s) started while another call on target %q was running", c.Seq, role, event, id))
	}
	if event.Role(config.Server) != role || id == "" {
		f.violations = append(f.violations, fmt.Sprintf("call %d: %s asked to run %q on target %q", c.Seq, role, event, id))
	}
	f.executing[id]++
	f.running++
	f.maxRunning = max(f.maxRunning, f.running)
	f.notify()
	return c, f.onCall
}

// decide picks the outcome of a call that reached its end — decided, when
// the call hook chose one, else the script's — and applies it to the
// target's state. f.mu is held.
func (f *Fleet) decide(role target.Role, id string, event target.LifecycleEvent, d target.DeploymentInfo, decided *Outcome) (target.EventResult, error) {
	m := f.members[id]
	switch {
	case m == nil:
		return target.EventResult{}, fmt.Errorf("targettest: %s on %s: target is terminated: %w", event, id, target.ErrTargetUnavailable)
	case m.unreachable:
		return target.EventResult{}, fmt.Errorf("targettest: %s on %s: target is unreachable: %w", event, id, target.ErrTargetUnavailable)
	}
	var o Outcome
	if decided != nil {
		o = *decided
	} else {
		o = f.script.pick(id, event, d)
	}
	if o.Err != nil {
		return target.EventResult{}, o.Err
	}
	res := o.result()
	if role == target.RoleTrafficController {
		if res.Status != target.EventSucceeded {
			return target.EventResult{}, fmt.Errorf("targettest: %s on %s failed: %s", event, id, res.Message)
		}
		m.inService = event == target.AllowTraffic
		return target.EventResult{}, nil
	}
	if event == target.Install && res.Status == target.EventSucceeded {
		rev := d.Revision
		m.installed = &rev
	}
	return res, nil
}

// end records the end of a call. f.mu is held.
func (f *Fleet) end(c *Call, res target.EventResult, err error) {
	f.tick++
	c.end, c.Done, c.Result, c.Err = f.tick, true, res, err
	if f.executing[c.Target]--; f.executing[c.Target] == 0 {
		delete(f.executing, c.Target)
	}
	f.running--
	f.notify()
}

// notify wakes every waiter. f.mu is held.
func (f *Fleet) notify() {
	close(f.changed)
	f.changed = make(chan struct{})
}

// Calls returns every Installer and TrafficController call so far, in the
// order they started.
func (f *Fleet) Calls() []Call {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]Call, len(f.calls))
	for i, c := range f.calls {
		out[i] = *c
	}
	return out
}

// Events returns the events called on one target, in the order they
// started.
func (f *Fleet) Events(targetID string) []target.LifecycleEvent {
	var out []target.LifecycleEvent
	for _, c := range f.Calls() {
		if c.Target == targetID {
			out = append(out, c.Event)
		}
	}
	return out
}

// MaxInFlight returns the most targets that were in flight at once in the
// deployment with the given ID ("" for all calls). A target is in flight
// from the start of its first call of a deployment to the end of its last
// (a call still running counts as not ended), so the gaps between one
// target's events count: this is the number of targets a deployment had
// offline at once, the quantity minimum healthy hosts bounds.
func (f *Fleet) MaxInFlight(deploymentID string) int {
	type key struct{ deployment, target string }
	type span struct{ start, end int64 }
	f.mu.Lock()
	spans := map[key]span{}
	for _, c := range f.calls {
		if deploymentID != "" && c.DeploymentID != deploymentID {
			continue
		}
		end := c.end
		if !c.Done {
			end = f.tick + 1
		}
		k := key{c.DeploymentID, c.Target}
		if s, ok := spans[k]; ok {
			spans[k] = span{min(s.start, c.start), max(s.end, end)}
		} else {
			spans[k] = span{c.start, end}
		}
	}
	f.mu.Unlock()
	type edge struct {
		at    int64
		delta int
	}
	var edges []edge
	for _, s := range spans {
		edges = append(edges, edge{s.start, +1}, edge{s.end, -1})
	}
	// Ends sort before starts at the same tick (only possible for the
	// synthetic end of running calls, which no start shares).
	slices.SortFunc(edges, func(a, b edge) int { return cmp.Or(cmp.Compare(a.at, b.at), cmp.Compare(a.delta, b.delta)) })
	n, best := 0, 0
	for _, e := range edges {
		n += e.delta
		best = max(best, n)
	}
	return best
}

// MaxConcurrent returns the most calls that were running at the same moment.
func (f *Fleet) MaxConcurrent() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.maxRunning
}

// Running returns the number of calls running now.
func (f *Fleet) Running() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.running
}

// Violations lists the calls that broke a role contract: two calls on one
// target at once, an event the role does not perform, a request without a
// target. An executor under test should leave it empty.
func (f *Fleet) Violations() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.violations)
}

// WaitCalls blocks until at least n calls have started, or ctx is done.
func (f *Fleet) WaitCalls(ctx context.Context, n int) error {
	return f.wait(ctx, fmt.Sprintf("%d calls to start", n), func() bool { return len(f.calls) >= n })
}

// WaitRunning blocks until at least n calls are running at once (typically
// blocked in an OnCall hook), or ctx is done.
func (f *Fleet) WaitRunning(ctx context.Context, n int) error {
	return f.wait(ctx, fmt.Sprintf("%d calls to be running", n), func() bool { return f.running >= n })
}

// wait blocks until cond, evaluated under f.mu, holds.
func (f *Fleet) wait(ctx context.Context, what string, cond func() bool) error {
	for {
		f.mu.Lock()
		ok, ch := cond(), f.changed
		f.mu.Unlock()
		if ok {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return fmt.Errorf("targettest: waiting for %s: %w", what, ctx.Err())
		}
	}
}

// Gate blocks calls until it is opened: a way to hold events in flight while
// a test looks at the executor. The zero value is not usable; call NewGate.
type Gate struct {
	once sync.Once
	ch   chan struct{}
}

// NewGate returns a closed gate.
func NewGate() *Gate { return &Gate{ch: make(chan struct{})} }

// Open lets every current and future Wait return. Opening twice is harmless.
func (g *Gate) Open() { g.once.Do(func() { close(g.ch) }) }

// Wait blocks until g is open or ctx is done, returning ctx's error then.
func (g *Gate) Wait(ctx context.Context) error {
	select {
	case <-g.ch:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Delay returns an OnCall hook that makes each call take duration(c) on a
// clock the test controls: after is that clock's After method (a fake
// clock's, so the test advances time; no wall-clock sleeping). A duration of
// zero or less returns at once.
func Delay(after func(time.Duration) <-chan time.Time, duration func(c Call) time.Duration) func(context.Context, Call) error {
	return func(ctx context.Context, c Call) error {
		d := duration(c)
		if d <= 0 {
			return nil
		}
		select {
		case <-after(d):
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// cloneTarget copies t so that callers and the fleet share no tag map.
func cloneTarget(t target.Target) target.Target {
	t.Tags = maps.Clone(t.Tags)
	return t
}

package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/fleetdeploy/fleetdeploy/deploy"
	"github.com/fleetdeploy/fleetdeploy/health"
	"github.com/fleetdeploy/fleetdeploy/revision"
	"github.com/fleetdeploy/fleetdeploy/target"
)

// screen writes the program's output: whole lines, and on a terminal a
// live status line below them that is redrawn in place.
type screen struct {
	w      io.Writer
	live   bool
	status string // the live line shown now, "" for none
	err    error  // the first write error
}

// newScreen returns a screen on w, live when w is a terminal.
func newScreen(w io.Writer) *screen {
	return &screen{w: w, live: isTerminal(w)}
}

// isTerminal reports whether w is a character device (a terminal), and
// the terminal is not a dumb one.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok || os.Getenv("TERM") == "dumb" {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

func (s *screen) write(str string) {
	if s.err != nil {
		return
	}
	_, s.err = io.WriteString(s.w, str)
}

// printf prints one line (the newline is added), above the live line.
func (s *screen) printf(format string, args ...any) {
	if s.status != "" {
		s.write("\r\033[K")
	}
	s.write(fmt.Sprintf(format, args...) + "\n")
	if s.status != "" {
		s.write(s.status)
	}
}

// update prints one line and replaces the live line with status, in one
// redraw.
func (s *screen) update(status, format string, args ...any) {
	if !s.live {
		s.printf(format, args...)
		return
	}
	s.status = ""
	s.write("\r\033[K" + fmt.Sprintf(format, args...) + "\n" + status)
	s.status = status
}

// setStatus replaces the live line; it does nothing when the output is not
// a terminal. An empty line removes it.
func (s *screen) setStatus(line string) {
	if !s.live || line == s.status {
		return
	}
	s.write("\r\033[K" + line)
	s.status = line
}

// progress is the deployment executor's Observer: it queues every
// transition (Observe never blocks and never writes), and the goroutine
// waiting for a deployment drains the queue — in the order the transitions
// were observed — to keep the healthy count and print what happens.
type progress struct {
	mu    sync.Mutex
	queue []observed
	wake  chan struct{}

	// Owned by the goroutine that drains.
	scr      *screen
	store    deploy.Store
	name     func(revision.Location) string // "v1" for v1's bundle
	trackers map[string]*tracker
	order    []string // deployment IDs, in the order they were first seen
	spare    []observed
}

// observed is a transition and when it was observed. The times are taken
// in the order the transitions are queued, so they never run backwards in
// the output (the executor's own Event.Time is taken by each target's
// goroutine, and those interleave).
type observed struct {
	deploy.Event
	at time.Time
}

func newProgress(scr *screen, store deploy.Store, name func(revision.Location) string) *progress {
	return &progress{wake: make(chan struct{}, 1), scr: scr, store: store, name: name, trackers: map[string]*tracker{}}
}

// Observe implements deploy.Observer.
func (p *progress) Observe(e deploy.Event) {
	p.mu.Lock()
	p.queue = append(p.queue, observed{e, time.Now()})
	p.mu.Unlock()
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

// drain handles the transitions queued so far.
func (p *progress) drain(ctx context.Context) error {
	p.mu.Lock()
	batch := p.queue
	p.queue = p.spare[:0]
	p.mu.Unlock()
	defer func() { p.spare = batch[:0] }()
	for _, o := range batch {
		if err := p.handle(ctx, o); err != nil {
			return err
		}
	}
	return nil
}

// tracker follows one deployment: the healthy count ("CodeDeploy instance
// health") as the targets go offline and come back, and what happened to
// each target.
type tracker struct {
	d       *deploy.Deployment // as created
	version string             // "v2"
	min     health.Minimum
	zone    map[string]string
	ids     []string                       // the targets, in the store's order
	state   map[string]target.TargetStatus // each target's status
	start   time.Time

	// The healthy count: instances Healthy and not being deployed to. An
	// instance that was Healthy when the deployment began leaves the count
	// when its deployment starts (it is offline) and is back when it
	// succeeds; an Unhealthy one joins it when it succeeds; a failed one
	// stays out.
	initialHealthy int
	healthy        int
	lowest         int
	inFlight       int
	wasHealthy     map[string]bool

	started   []string // in order
	succeeded []string
	failed    []string
	skipped   []string
	failure   map[string]failure // why each failed target failed

	final *deploy.Event // the final status transition
	end   time.Time     // when it was observed
}

// failure is the lifecycle event that failed a target.
type failure struct {
	event  target.LifecycleEvent
	code   target.LifecycleErrorCode
	reason string
}

// String returns e.g. "ValidateService ScriptFailed: disk full".
func (f failure) String() string {
	s := string(f.event) + " " + string(f.code)
	if f.reason != "" {
		s += ": " + f.reason
	}
	return s
}

// below reports whether the deployment took the healthy count lower than
// "CodeDeploy instance health" allows: below the minimum, or, for a fleet
// that started below it, below where it started.
func (t *tracker) below() bool { return t.lowest < min(t.min.Required, t.initialHealthy) }

// track starts following the deployment e names: it reads the deployment
// and its targets, with their health when it was created, and prints what
// the deployment is about to do.
func (p *progress) track(ctx context.Context, e observed) (*tracker, error) {
	d, err := p.store.GetDeployment(ctx, e.DeploymentID)
	if err != nil {
		return nil, err
	}
	t := &tracker{d: d, version: p.name(d.Revision), zone: map[string]string{}, state: map[string]target.TargetStatus{}, start: e.at,
		wasHealthy: map[string]bool{}, failure: map[string]failure{}}
	var unhealthy []string
	n := 0
	for dt, err := range deploy.AllTargets(ctx, p.store, d.ID) {
		if err != nil {
			return nil, err
		}
		n++
		t.ids = append(t.ids, dt.TargetID)
		t.zone[dt.TargetID] = dt.Target.Zone
		if dt.InitialInstanceHealth == health.Healthy {
			t.wasHealthy[dt.TargetID] = true
			t.initialHealthy++
		} else {
			unhealthy = append(unhealthy, dt.TargetID)
		}
	}
	t.healthy, t.lowest = t.initialHealthy, t.initialHealthy
	if t.min, err = health.ForConfig(d.Config, n); err != nil {
		return nil, err
	}
	p.trackers[d.ID] = t
	p.order = append(p.order, d.ID)

	if d.Creator == target.CreatorRollback {
		p.scr.printf("")
		p.scr.printf("-- automatic rollback of %s: a new deployment of the last successful revision ("+ugRollback+")", d.RollbackInfo.RollbackTriggeringDeploymentID)
	}
	p.scr.printf("deployment %s: %s (%s) to %d instances, %s, creator %s", d.ID, t.version, d.Revision, n, d.ConfigName, d.Creator)
	p.scr.printf("  rule:   %s", t.min.Explain())
	switch {
	case len(unhealthy) == n:
		p.scr.printf("  start:  0 healthy: all %d are Unhealthy, never having received a revision; the fleet starts below the minimum, so the deployment only must not lower it ("+ugHealth+")", n)
	case len(unhealthy) > 0:
		p.scr.printf("  start:  %d healthy; Unhealthy: %s — deployed to first ("+ugHealth+")", t.initialHealthy, p.withZones(t, unhealthy))
	default:
		p.scr.printf("  start:  all %d healthy", n)
	}
	return t, nil
}

// withZones lists instances with their zones: "web-11 (zone-b), …".
func (p *progress) withZones(t *tracker, ids []string) string {
	parts := make([]string, len(ids))
	for i, id := range ids {
		parts[i] = id + " (" + t.zone[id] + ")"
	}
	return strings.Join(parts, ", ")
}

// handle applies one transition.
func (p *progress) handle(ctx context.Context, e observed) error {
	t := p.trackers[e.DeploymentID]
	if t == nil {
		var err error
		if t, err = p.track(ctx, e); err != nil {
			return fmt.Errorf("following deployment %s: %w", e.DeploymentID, err)
		}
	}
	switch e.Kind {
	case deploy.EventLifecycle:
		if e.LifecycleEventStatus == target.EventFailed {
			f := failure{event: e.LifecycleEvent, code: target.CodeUnknownError}
			if dg := e.Diagnostics; dg != nil {
				f.code, f.reason = dg.ErrorCode, lastLine(dg.LogTail)
				if f.reason == "" {
					f.reason = dg.Message
				}
			}
			t.failure[e.TargetID] = f
		}
	case deploy.EventTargetStatus:
		p.targetChanged(t, e)
	case deploy.EventDeploymentStatus:
		if e.Status.Final() {
			t.final = &e.Event
			t.end = e.at
			p.scr.setStatus("")
			p.printResult(t)
			d, err := p.store.GetDeployment(ctx, e.DeploymentID)
			if err != nil {
				return fmt.Errorf("following deployment %s: %w", e.DeploymentID, err)
			}
			if m := d.RollbackInfo.RollbackMessage; m != "" && d.Creator != target.CreatorRollback {
				p.scr.printf("  rollbackInfo: %s", m)
			}
		}
	}
	return nil
}

// targetChanged updates the healthy count and prints the transition.
func (p *progress) targetChanged(t *tracker, e observed) {
	id := e.TargetID
	verb, detail := "", ""
	switch e.TargetStatus {
	case target.TargetInProgress:
		verb = "started"
		t.started = append(t.started, id)
		t.inFlight++
		if t.wasHealthy[id] {
			t.healthy--
		} else if t.initialHealthy > 0 {
			detail = "  (Unhealthy: does not lower the count)"
		}
	case target.TargetSucceeded:
		verb = "succeeded"
		t.succeeded = append(t.succeeded, id)
		t.inFlight--
		t.healthy++
	case target.TargetFailed:
		verb = "FAILED"
		t.failed = append(t.failed, id)
		t.inFlight--
		detail = "  " + t.failure[id].String()
	case target.TargetSkipped:
		t.skipped = append(t.skipped, id)
		return
	default:
		return
	}
	t.lowest = min(t.lowest, t.healthy)
	t.state[id] = e.TargetStatus
	p.scr.update(t.liveLine(), "  %7.3fs  %-9s  %-*s %s  | %s%s", e.at.Sub(t.start).Seconds(), verb, len(t.ids[0]), id, t.zone[id], t.figure(), detail)
}

// liveLine is the live status line of a terminal: one character per
// instance — '.' pending, '>' in flight, '#' succeeded, 'x' failed — and
// the healthy count.
func (t *tracker) liveLine() string {
	var b strings.Builder
	fmt.Fprintf(&b, "  %s %s [", t.version, t.d.ID)
	for _, id := range t.ids {
		switch t.state[id] {
		case target.TargetInProgress:
			b.WriteByte('>')
		case target.TargetSucceeded:
			b.WriteByte('#')
		case target.TargetFailed:
			b.WriteByte('x')
		default:
			b.WriteByte('.')
		}
	}
	fmt.Fprintf(&b, "] %s", t.figure())
	return b.String()
}

// figure is the running count: "healthy 9 / minimum 6 / in flight 3".
func (t *tracker) figure() string {
	return fmt.Sprintf("healthy %2d / minimum %d / in flight %d", t.healthy, t.min.Required, t.inFlight)
}

// printResult prints how a deployment ended: status, error code, the
// executor's explanation, the counts and the lowest healthy count.
func (p *progress) printResult(t *tracker) {
	e := t.final
	code := string(e.ErrorInformation.Code)
	if code == "" {
		code = "none"
	}
	p.scr.printf("  result: %s (error code %s) in %.2fs: %d succeeded, %d failed, %d not attempted",
		e.Status, code, t.end.Sub(t.start).Seconds(), len(t.succeeded), len(t.failed), len(t.skipped))
	if e.Explanation != "" {
		p.scr.printf("  why:    %s", e.Explanation)
	}
	if len(t.skipped) > 0 {
		slices.Sort(t.skipped)
		p.scr.printf("  not attempted (Skipped): %s", strings.Join(t.skipped, " "))
	}
	switch {
	case t.below():
		p.scr.printf("  health: lowest healthy %d, minimum %d — BELOW the minimum", t.lowest, t.min.Required)
	case t.initialHealthy < t.min.Required:
		p.scr.printf("  health: lowest healthy %d, minimum %d: it started with %d healthy, below the minimum, and never went lower ("+ugHealth+")",
			t.lowest, t.min.Required, t.initialHealthy)
	default:
		p.scr.printf("  health: lowest healthy %d, minimum %d: never below the minimum ("+ugHealth+")", t.lowest, t.min.Required)
	}
}

// lastLine returns the last non-empty line of s, trimmed.
func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return strings.TrimSpace(lines[len(lines)-1])
}

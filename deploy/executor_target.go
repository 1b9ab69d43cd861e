package deploy

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/fleetdeploy/fleetdeploy/config"
	"github.com/fleetdeploy/fleetdeploy/deploy/clock"
	"github.com/fleetdeploy/fleetdeploy/deploy/plan"
	"github.com/fleetdeploy/fleetdeploy/target"
)

// sequences are the lifecycle events a deployment's targets run, by
// situation ("AppSpec 'hooks' section"; target.Sequence).
type sequences struct {
	inPlace    sequence // in-place, or its rollback
	green      sequence // replacement: install, then allow traffic
	greenSplit int      // index of the allow-traffic part in green
	blue       sequence // original: block traffic
	rbBlue     sequence // rollback, original: allow traffic
	rbGreen    sequence // rollback, replacement: block traffic
}

// sequence is one list of lifecycle events, with the role that performs
// each (LifecycleEvent.Role on Server), looked up once rather than on
// every event of every target.
type sequence struct {
	events []target.LifecycleEvent
	roles  []target.Role
}

// newSequence returns the sequence of events.
func newSequence(events []target.LifecycleEvent) sequence {
	s := sequence{events: events, roles: make([]target.Role, len(events))}
	for k, ev := range events {
		s.roles[k] = ev.Role(config.Server)
	}
	return s
}

// newSequences returns the sequences of d's targets.
func newSequences(d *Deployment) (sequences, error) {
	var s sequences
	if d.ComputePlatform != config.Server {
		return s, nil
	}
	lb := lbEvents(d.ComputePlatform, d.DeploymentStyle, d.LoadBalancerInfo)
	var err error
	events := func(k target.SequenceKind, into *sequence) {
		if err != nil {
			return
		}
		var evs []target.LifecycleEvent
		evs, err = target.Sequence{Platform: config.Server, Kind: k, LoadBalancer: lb}.Events()
		*into = newSequence(evs)
	}
	rollback := d.Creator == target.CreatorRollback
	switch {
	case d.DeploymentStyle.DeploymentType == target.InPlace && rollback:
		events(target.KindInPlaceRollback, &s.inPlace)
	case d.DeploymentStyle.DeploymentType == target.InPlace:
		events(target.KindInPlace, &s.inPlace)
	case rollback:
		events(target.KindBlueGreenRollbackOriginal, &s.rbBlue)
		events(target.KindBlueGreenRollbackReplacement, &s.rbGreen)
	default:
		events(target.KindBlueGreenReplacement, &s.green)
		s.greenSplit = slices.Index(s.green.events, target.BeforeAllowTraffic)
		events(target.KindBlueGreenOriginal, &s.blue)
	}
	return s, err
}

// of returns the whole sequence of a target labelled label (empty in
// place): the events its record lists from the start.
func (s *sequences) of(label target.TargetLabel) *sequence {
	switch {
	case len(s.inPlace.events) > 0:
		return &s.inPlace
	case label == target.LabelGreen && len(s.green.events) > 0:
		return &s.green
	case label == target.LabelGreen:
		return &s.rbGreen
	case len(s.blue.events) > 0:
		return &s.blue
	}
	return &s.rbBlue
}

// withEventsListed sets the event list of every target of ts to its
// sequence's events, every one Pending, as CodeDeploy lists an instance's
// lifecycle events before it starts them: CreateDeployment stores its
// targets so, and a target's writes as it runs then change its record in
// place. Targets of one label share one list (the store copies what it
// is given): the records must not be changed through it.
func (s *sequences) withEventsListed(ts []DeploymentTarget) {
	lists := map[*sequence][]LifecycleEventRecord{}
	for i := range ts {
		seq := s.of(ts[i].Label)
		evs, ok := lists[seq]
		if !ok {
			evs = seq.records(target.EventPending)
			lists[seq] = evs
		}
		ts[i].LifecycleEvents = evs
	}
}

// records returns the events of seq as records, every one with status.
func (seq *sequence) records(status target.LifecycleEventStatus) []LifecycleEventRecord {
	evs := make([]LifecycleEventRecord, len(seq.events))
	for k, name := range seq.events {
		evs[k] = LifecycleEventRecord{Name: name, Status: status}
	}
	return evs
}

// notStarted reports whether none of evs has started: every one Pending,
// without times or diagnostics. The runner keeps such a list as nil: it
// makes a target's list when it starts the target (pendingEvents).
func notStarted(evs []LifecycleEventRecord) bool {
	for i := range evs {
		if evs[i] != (LifecycleEventRecord{Name: evs[i].Name, Status: target.EventPending}) {
			return false
		}
	}
	return true
}

// resumeFrom returns where a target stored InProgress goes on with the
// events [lo, hi) of its phase: at the first one whose end evs does not
// record. The events before it ended — their outcome is stored — and are
// not run again; with every transition written (Options.RecordInterval
// < 0) the one it returns was in flight at the crash, and with combined
// writes it may be one whose end was waiting for the next write.
func resumeFrom(evs []LifecycleEventRecord, lo, hi int) int {
	for k := lo; k < hi; k++ {
		switch evs[k].Status {
		case target.EventSucceeded, target.EventFailed, target.EventSkipped:
		default:
			return k
		}
	}
	// Not reached: the write that ends a phase's last event carries the
	// target's new status, so a target stored InProgress has one left.
	return lo
}

// forPhase returns the events of a target in phase: the record's whole
// sequence, and the part [lo, hi) the phase runs.
func (s *sequences) forPhase(phase plan.Phase) (seq *sequence, lo, hi int) {
	switch phase {
	case plan.PhaseDeploy:
		return &s.inPlace, 0, len(s.inPlace.events)
	case plan.PhaseInstallReplacement:
		return &s.green, 0, s.greenSplit
	case plan.PhaseReroute:
		return &s.green, s.greenSplit, len(s.green.events)
	case plan.PhaseBlockOriginals:
		return &s.blue, 0, len(s.blue.events)
	case plan.PhaseAllowOriginals:
		return &s.rbBlue, 0, len(s.rbBlue.events)
	case plan.PhaseBlockReplacements:
		return &s.rbGreen, 0, len(s.rbGreen.events)
	}
	return &sequence{}, 0, 0
}

// workerState is what a worker keeps from one target to the next: the
// copy of the record it runs (see runTarget) and that record's event list,
// whose names serve the next target of the same sequence as they are.
type workerState struct {
	rec    DeploymentTarget
	events []LifecycleEventRecord // nil when the last record kept its list
	of     *sequence              // the sequence whose names events holds
	last   time.Time              // the worker's last reading of the clock (clock.Later)
	// slot is the worker's entry in the run's limitWatch, made at its
	// first bounded call (nil until then, and again after a call reached
	// its limit); at is where the worker is in its target's events while
	// it makes a bounded call (limits.go).
	slot *limitSlot
	at   eventAt
	// run is the worker's run (executor_runs.go); holding says that it
	// holds one, listed in the runner's holders. Only the worker changes
	// holding, under r.qmu.
	run     workerRun
	holding bool
}

// runTarget runs the phase's lifecycle events on target i, recording every
// transition: the target InProgress with its first event InProgress before
// anything runs, then one write per event that ends (which also starts the
// next; see Options.RecordInterval for when writes are combined), the last
// one carrying the target's new status. A failed event
// (not covered by ignoreApplicationStopFailures) fails the
// target and skips the rest. A target stored InProgress before a crash
// goes on from the first of the phase's events whose end its record does
// not hold (resumeFrom). stopped marks a target found InProgress when
// a stopped deployment is resumed: its events were cut off by the crash and
// are not run again (see Executor.Stop); it is recorded Failed.
//
// The worker runs the target on its own copy of the record (w.rec, which
// it reuses from target to target) and puts back what running it changed
// once done: records of neighbouring targets share cache lines, and
// workers on other cores write them at the same time, so writing the
// record in place made each core wait for the other's cache (false
// sharing).
func (r *runner) runTarget(i int32, phase plan.Phase, stopped bool, w *workerState) completion {
	w.rec = r.targets[i]
	return r.putBack(i, w, r.runRecord(i, w, phase, stopped))
}

// putBack puts what running target i changed of w.rec back into the
// run's record of it (see runTarget), and returns c.
func (r *runner) putBack(i int32, w *workerState, c completion) completion {
	if evs := w.rec.LifecycleEvents; len(evs) > 0 && len(w.events) > 0 && &evs[0] == &w.events[0] {
		// The record keeps the worker's list: a Green target's install,
		// whose reroute part comes later, or a run cut short. The worker
		// starts a new one.
		w.events, w.of = nil, nil
	}
	t := &r.targets[i]
	t.Status, t.LifecycleEvents, t.LastUpdated, t.Version = w.rec.Status, w.rec.LifecycleEvents, w.rec.LastUpdated, w.rec.Version
	return c
}

// pendingEvents returns the event list of a target starting seq: every
// event Pending. It is the worker's list, reused from the last target.
func (w *workerState) pendingEvents(seq *sequence) []LifecycleEventRecord {
	if w.of != seq || len(w.events) != len(seq.events) {
		w.events, w.of = seq.records(target.EventPending), seq
		return w.events
	}
	for k := range w.events {
		e := &w.events[k]
		e.Status, e.StartTime, e.EndTime = target.EventPending, time.Time{}, time.Time{}
		if e.Diagnostics != nil {
			e.Diagnostics = nil // rarely set: the write (and its barrier) is skipped otherwise
		}
	}
	return w.events
}

// runRecord is runTarget on w.rec, the worker's copy of target i's record.
func (r *runner) runRecord(i int32, w *workerState, phase plan.Phase, stopped bool) completion {
	t := &w.rec
	seq, lo, hi := r.seqs.forPhase(phase)
	all := seq.events
	if hi <= lo {
		return completion{i: i, err: &DeploymentError{DeploymentID: r.id, Err: fmt.Errorf("phase %s runs no lifecycle events on target %s", phase, t.TargetID)}}
	}
	if !stopped && r.stopping.Load() {
		// Handed out just before a stop: it never starts (see Executor.Stop)
		// and keeps its status (Pending: Skipped when the deployment ends;
		// Ready: installed, never rerouted).
		return completion{i: i, ok: false}
	}
	now := clock.Later(r.e.clk, w.last)
	from := lo // the first event to run
	if t.Status == target.TargetInProgress && len(t.LifecycleEvents) == len(all) {
		// Stored InProgress before a crash: the events whose outcome its
		// record holds are not run again.
		from = resumeFrom(t.LifecycleEvents, lo, hi)
	}
	// The worker's list, every event Pending; a phase that continues the
	// record's list, or a resumed one, keeps the events before from. (A
	// list the record was loaded with may be shared with other records,
	// see loadTargets: it is never changed in place.)
	evs := w.pendingEvents(seq)
	if from > 0 && len(t.LifecycleEvents) == len(all) {
		copy(evs[:from], t.LifecycleEvents[:from])
	}
	t.LifecycleEvents = evs
	if stopped {
		return r.interruptTarget(i, w, from, hi, now)
	}
	t.Status = target.TargetInProgress
	t.LifecycleEvents[from].Status = target.EventInProgress
	t.LifecycleEvents[from].StartTime = now
	t.LastUpdated = now
	if err := r.saveTarget(i, t); err != nil {
		return completion{i: i, err: r.storeErr("saving target "+t.TargetID, err)}
	}
	r.targetChanged(t, now)
	r.eventChanged(t, from, now)
	if from == 0 && r.triggers != nil {
		r.notifyTarget(TriggerInstanceStart, t, now)
	}
	w.at.written = now
	return r.runEvents(i, w, phase, from, now)
}

// runEvents runs target i's events (w.rec) from event k of phase on: now
// is the last reading of the clock, and w.at.written says when the record
// was last written. It returns the target's completion.
func (r *runner) runEvents(i int32, w *workerState, phase plan.Phase, k int, now time.Time) completion {
	seq, _, hi := r.seqs.forPhase(phase)
	req := target.EventRequest{Target: w.rec.Target, Deployment: r.info}
	w.at.i, w.at.phase = i, phase
	for ; k < hi; k++ {
		if err := r.checkLease(now); err != nil {
			return completion{i: i, err: err}
		}
		req.Event = seq.events[k]
		// Only what changes per event is written here: this runs for
		// every event of every target.
		w.at.k, w.at.start = k, now.UnixNano()
		var res target.EventResult
		err := r.performEvent(w, seq.roles[k], &req, &res)
		var c completion
		var done bool
		if now, c, done = r.eventEnded(w, res, err, now); done {
			return c
		}
	}
	return r.targetDone(i, w, phase, true, now)
}

// eventEnded records that the event w.at names ended with res, or could
// not run (err), and starts the next one; now is the last reading of the
// clock. It returns the new reading, and done with the target's completion
// once the target is over (or the run's work was cut off, or a write
// failed). It keeps w.at.written.
func (r *runner) eventEnded(w *workerState, res target.EventResult, err error, now time.Time) (time.Time, completion, bool) {
	i, phase, k, written := w.at.i, w.at.phase, w.at.k, w.at.written
	t := &w.rec
	seq, _, hi := r.seqs.forPhase(phase)
	all := seq.events
	var code ErrorCode
	if err != nil {
		if cause := context.Cause(r.workCtx); cause != nil && !errors.Is(cause, errAbort) {
			return now, completion{i: i, interrupted: true}, true
		}
		res, code = eventFailure(seq.roles[k], err, context.Cause(r.workCtx))
	}
	now = clock.Later(r.e.clk, now)
	ev := &t.LifecycleEvents[k]
	ev.Status, ev.EndTime = res.Status, now
	if res.Message != "" || res.LogTail != "" || res.Status == target.EventFailed {
		ev.Diagnostics = diagnostics(res)
		ev.Diagnostics.DeploymentErrorCode = code
	}
	failed := res.Status == target.EventFailed && !r.info.IgnoresFailureOf(all[k])
	next := k + 1
	if !failed && next < hi && r.stopping.Load() {
		// Stopped: no new lifecycle event starts (see Executor.Stop); the
		// target did not complete, so it failed.
		failed = true
		t.LifecycleEvents[next].Diagnostics = &Diagnostics{ErrorCode: target.CodeUnknownError, Message: "not run: the deployment was stopped"}
	}
	if failed {
		for ; next < hi; next++ {
			t.LifecycleEvents[next].Status = target.EventSkipped
		}
	} else if next < hi {
		t.LifecycleEvents[next].Status = target.EventInProgress
		t.LifecycleEvents[next].StartTime = now
	}
	last := next >= hi
	if last {
		t.Status = r.endStatus(t, phase, !failed)
	}
	if last || r.e.opts.RecordInterval < 0 || now.Sub(written) >= r.e.opts.RecordInterval {
		t.LastUpdated = now // the record changed at every event; it is stored now
		if err := r.saveTarget(i, t); err != nil {
			return now, completion{i: i, err: r.storeErr("saving target "+t.TargetID, err)}, true
		}
		w.at.written = now
	}
	r.eventChanged(t, k, now)
	if last {
		return now, r.targetDone(i, w, phase, !failed, now), true
	}
	r.eventChanged(t, next, now)
	return now, completion{}, false
}

// interruptTarget records a target of a stopped deployment whose events a
// crash cut off: the event that was running failed, the rest skipped.
func (r *runner) interruptTarget(i int32, w *workerState, lo, hi int, now time.Time) completion {
	t := &w.rec
	for k := lo; k < hi; k++ {
		t.LifecycleEvents[k].Status = target.EventSkipped
	}
	t.LifecycleEvents[lo] = LifecycleEventRecord{Name: t.LifecycleEvents[lo].Name, Status: target.EventFailed, StartTime: now, EndTime: now,
		Diagnostics: &Diagnostics{ErrorCode: target.CodeUnknownError,
			Message: "the deployment was stopped while this target was in progress and the executor was restarted; its events were not run again"}}
	t.Status = target.TargetFailed
	t.LastUpdated = now
	if err := r.saveTarget(i, t); err != nil {
		return completion{i: i, err: r.storeErr("saving target "+t.TargetID, err)}
	}
	r.eventChanged(t, lo, now)
	return r.targetDone(i, w, "", false, now)
}

// saveTarget writes t, the record of target i: at position i of the
// deployment's targets in the store's order (loadTargets), which a store
// that implements TargetUpdaterAt may use to find it.
func (r *runner) saveTarget(i int32, t *DeploymentTarget) error {
	if r.storeAt != nil {
		return r.storeAt.UpdateTargetAt(r.runCtx, int(i), t)
	}
	return r.store.UpdateTarget(r.runCtx, t)
}

// targetDone reports the new status of target i (record w.rec) and drops
// its event list from the record once nothing needs it any more.
func (r *runner) targetDone(i int32, w *workerState, phase plan.Phase, ok bool, now time.Time) completion {
	t := &w.rec
	r.targetChanged(t, now)
	if r.triggers != nil {
		switch t.Status {
		case target.TargetSucceeded:
			r.notifyTarget(TriggerInstanceSuccess, t, now)
		case target.TargetFailed:
			r.notifyTarget(TriggerInstanceFailure, t, now)
		case target.TargetReady:
			r.notifyTarget(TriggerInstanceReady, t, now)
		}
	}
	if phase != plan.PhaseInstallReplacement {
		// The record is stored (the store copied it); only Green targets
		// run a second part. The list serves the worker's next target.
		t.LifecycleEvents = nil
	}
	w.last = now
	return completion{i: i, ok: ok, at: now}
}

// endStatus is a target's status once its part of phase is over.
func (r *runner) endStatus(t *DeploymentTarget, phase plan.Phase, ok bool) target.TargetStatus {
	switch {
	case !ok:
		return target.TargetFailed
	case phase == plan.PhaseInstallReplacement:
		return target.TargetReady
	}
	return target.TargetSucceeded
}

// performEvent performs one Server lifecycle event, req.Event, through
// role, the role that performs it: the Installer, or the TrafficController
// for BlockTraffic and AllowTraffic. It makes the call within the event's
// time limit (callBounded) and again while it is throttled
// (retryThrottledAfter; an event that ran, as nearly all do, never enters
// the retry loop), and sets *res to the event's result. A
// TrafficController error fails the event; an error is returned only when
// the event could not be run at all. runEvents builds the request once per
// target and sets its Event for each call; w is the calling worker.
//
// This runs once for every lifecycle event of every target, so the call
// goes through two functions only, and results are written through res
// rather than returned: an EventResult and an error do not fit in
// registers, and returning them through the four functions this was once
// split into cost BenchmarkExecutor ~0.6 µs per target, a quarter of its
// time on one core.
func (r *runner) performEvent(w *workerState, role target.Role, req *target.EventRequest, res *target.EventResult) error {
	if role != target.RoleInstaller && role != target.RoleTrafficController {
		*res = target.EventResult{Status: target.EventFailed, ErrorCode: target.CodeUnknownError,
			Message: fmt.Sprintf("no role performs event %s on Server targets", req.Event)}
		return nil
	}
	limit := r.eventLimit(role, req.Event)
	if err := r.callBounded(w, limit, role, req, res); err != nil {
		var again error
		if *res, again = retryThrottledAfter(r.workCtx, r.e.clk, *res, err, func() (target.EventResult, error) {
			var retried target.EventResult
			err := r.callBounded(w, limit, role, req, &retried)
			return retried, err
		}); again != nil {
			return again
		}
	}
	if role == target.RoleTrafficController {
		*res = target.EventResult{Status: target.EventSucceeded}
		return nil
	}
	switch res.Status {
	case target.EventSucceeded, target.EventFailed, target.EventSkipped:
	default:
		*res = target.EventResult{Status: target.EventFailed, ErrorCode: target.CodeUnknownError,
			Message: fmt.Sprintf("the Installer returned status %q; want Succeeded, Failed or Skipped", res.Status)}
	}
	return nil
}

// errorResult turns the error of an event that could not run into a failed
// result: a target failing is data for the planner, not an error of the
// deployment.
func errorResult(err, cause error) target.EventResult {
	msg := err.Error()
	if errors.Is(cause, errRunTimeout) {
		msg = "cut off: the deployment reached its maximum run time (Options.MaxRunTime): " + msg
	} else if errors.Is(cause, errAbort) {
		msg = "aborted: the deployment was stopped with AbortRunningEvents: " + msg
	}
	return target.EventResult{Status: target.EventFailed, ErrorCode: target.CodeUnknownError, Message: msg}
}

// diagnostics records what an event result has to say.
func diagnostics(res target.EventResult) *Diagnostics {
	code := res.ErrorCode
	if code == "" {
		code = target.CodeSuccess
		if res.Status == target.EventFailed {
			code = target.CodeUnknownError
		}
	}
	return &Diagnostics{ErrorCode: code, Message: res.Message, LogTail: target.TrimLogTail(res.LogTail)}
}

// targetChanged reports a target's status to the observer and the log,
// if either listens.
func (r *runner) targetChanged(t *DeploymentTarget, now time.Time) {
	if r.watched {
		r.reportTarget(t, now)
	}
}

// reportTarget is targetChanged once someone listens.
func (r *runner) reportTarget(t *DeploymentTarget, now time.Time) {
	if r.debug {
		r.e.log.Debug("target status", "deployment", r.id, "target", t.TargetID, "status", string(t.Status))
	}
	if r.observer != nil {
		r.observer.Observe(Event{Kind: EventTargetStatus, Time: now, DeploymentID: r.id, ApplicationName: r.d.ApplicationName,
			GroupName: r.d.GroupName, TargetID: t.TargetID, TargetStatus: t.Status})
	}
}

// eventChanged reports lifecycle event k of t to the observer and the
// log, if either listens.
func (r *runner) eventChanged(t *DeploymentTarget, k int, now time.Time) {
	if r.watched {
		r.reportEvent(t, k, now)
	}
}

// reportEvent is eventChanged once someone listens.
func (r *runner) reportEvent(t *DeploymentTarget, k int, now time.Time) {
	ev := &t.LifecycleEvents[k]
	if r.debug {
		r.e.log.Debug("lifecycle event", "deployment", r.id, "target", t.TargetID, "event", string(ev.Name), "status", string(ev.Status))
	}
	if r.observer != nil {
		r.observer.Observe(Event{Kind: EventLifecycle, Time: now, DeploymentID: r.id, ApplicationName: r.d.ApplicationName,
			GroupName: r.d.GroupName, TargetID: t.TargetID, LifecycleEvent: ev.Name, LifecycleEventStatus: ev.Status,
			Diagnostics: ev.Diagnostics})
	}
}

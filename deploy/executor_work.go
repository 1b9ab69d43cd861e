package deploy

import (
	"context"
	"errors"
	"runtime"
	"time"

	"github.com/fleetdeploy/fleetdeploy/deploy/plan"
	"github.com/fleetdeploy/fleetdeploy/target"
)

// item is a piece of work the planner handed out: a target to run through
// a phase's lifecycle events, or a deployment-wide step.
type item struct {
	i int32 // target index; -1 for a step
	// stopped: a target found InProgress when a stopped deployment was
	// resumed (see runTarget).
	stopped bool
	phase   plan.Phase
	step    *plan.Step // the step, for i == -1
}

// stepItem returns the item that runs step s of phase.
func stepItem(phase plan.Phase, s plan.Step) item {
	return item{i: -1, phase: phase, step: &s}
}

// The work of a deployment runs on worker goroutines, at most one per item
// in flight (and at most Options.Concurrency), counted in the runner's
// WaitGroup and started one after another, as the queue needs them
// (startLocked). A worker takes an item from the queue, runs it, leaves
// its completion to be reported to the planner, and takes the next item,
// until the queue is empty; while the queue is long, it takes a run of
// items at once (executor_runs.go).
//
// Two locks keep workers from waiting for each other. qmu guards the queue
// and the completions not yet reported; a worker holds it for a few
// instructions, to take an item or to leave a completion. pmu guards the
// planner; no worker waits for it in turn. Completions are reported in
// batches by whichever worker finds no one else reporting (deliver), while
// the others go on with their next item. (With a thousand workers on a few
// cores all waiting for pmu, the fleet moved at the speed of one context
// switch per report: a lock convoy.) While the queue holds work enough
// for every worker, a worker that finishes leaves its completion for a
// later report (reportDueLocked): a report then carries dozens of
// completions, not one or two, and the workers on different cores take
// pmu, and the planner's memory, in turn that much less often.
//
// While nothing needs the loop — no stop, no request, no change of the
// stored progress or status — the reporting worker also asks the planner
// for the next targets and queues them, so that targets run one after
// another without a round trip through the loop and without a goroutine
// per target. Whatever needs the loop (a decision whose progress must be
// stored first, a step, the end) is handed to it.

// cacheLinePad keeps the fields on either side of it off each other's
// cache lines (64 bytes on amd64 and most arm64; 128 covers the rest).
type cacheLinePad struct{ _ [128]byte }

// worker takes items from the queue and runs them until it is empty.
func (r *runner) worker() {
	w := new(workerState)
	it, ok, another, due := r.take(true, w)
	if due {
		r.deliver()
	}
	r.work(w, it, ok, another)
}

// work is the worker's loop from item it (ok, another as take returns
// them) on, with state w. A worker ends here, and only here, counted out
// of the runner's WaitGroup: the goroutine of a worker whose call reached
// its time limit ends without that (see callBounded), and the goroutine
// that goes on with its work in its place (takeOver) ends here.
func (r *runner) work(w *workerState, it item, ok, another bool) {
	for {
		if another {
			r.spawn(1)
		}
		if !ok {
			if w.slot != nil {
				r.watch.remove(w.slot)
				w.slot = nil
			}
			r.wg.Done()
			return
		}
		var c completion
		if it.i < 0 {
			c = r.runStep(*it.step)
		} else {
			c = r.runTarget(it.i, it.phase, it.stopped, w)
		}
		it, ok, another = r.handOver(w, c)
	}
}

// handOver leaves completion c of worker w to be reported and returns the
// worker's next item as take does: the next of its run while it may go on
// with it (mayGoOn, workerRun.next); else, after leaving c and reporting
// what is left (deliver), the next queued one.
func (r *runner) handOver(w *workerState, c completion) (it item, ok, another bool) {
	if w.holding && r.mayGoOn(c) {
		if it, ok := w.run.next(r, c); ok {
			return it, true, false
		}
	}
	it, ok, another, due := r.leave(w, c)
	if due {
		r.deliver()
	}
	if !ok {
		if it, ok, another, due = r.take(false, w); due {
			r.deliver()
		}
	}
	return it, ok, another
}

// take returns worker w's next item — queued (and with it, maybe, a run,
// claimRunLocked), or else taken from another worker's run — or false
// when the worker should stop: nothing waits, the run failed, or it is
// ending. first says that the worker was just started. another says that
// the worker must start the next worker (see startLocked); due, that it
// must report the completions left so far (deliver) before it goes on.
func (r *runner) take(first bool, w *workerState) (it item, ok, another, due bool) {
	stop := r.halted.Load() || r.ending()
	r.qmu.Lock()
	defer r.qmu.Unlock()
	if first {
		r.starting = false
	}
	for yields := 0; !stop && r.queue.len() == 0 && r.delivering.Load() && yields < takeYields; {
		// Another worker is reporting, maybe this worker's own
		// completion: the targets it hands out come in a moment, and
		// this worker waits for one rather than stop and have another
		// started for it — for a moment only (takeYields).
		r.qmu.Unlock()
		for ; r.delivering.Load() && yields < takeYields; yields++ {
			runtime.Gosched()
		}
		r.qmu.Lock()
		stop = r.halted.Load() || r.ending()
	}
	r.takers--
	if !stop && r.queue.len() == 0 {
		if it, ok := r.stealLocked(); ok {
			return it, true, r.startLocked(), r.reportDueLocked()
		}
	}
	if stop || r.queue.len() == 0 {
		r.workers--
		return item{}, false, false, r.undelivered.Load() > 0 || r.stashed.Load()
	}
	it = r.queue.pop()
	r.claimRunLocked(w)
	return it, true, r.startLocked(), r.reportDueLocked()
}

// takeYields bounds how many times take yields while waiting for a
// report under way. Waiting longer does not pay: when lifecycle events
// are instant, the workers waiting are many, and each yield only puts off
// the reporting worker they wait for (with a bound of 4 rather than none,
// BenchmarkExecutor ran 4 to 6% faster). A worker that stops is started
// again as the queue needs it (startLocked).
const takeYields = 4

// startLocked reports whether to start one more worker, and counts it:
// when a waiting item (waitingLocked) has no worker on its way to take it
// and no worker is being started. Workers are started one after another,
// each by the one before it once it has taken an item, rather than all at
// once: when lifecycle events block, each worker blocks at once and the
// next one starts (a window of 50,000 fills in milliseconds); when they do
// not, the workers already running take the queue's items themselves, and
// a fleet of instant events does not cost a goroutine and its stack per
// target in flight. r.qmu is held.
func (r *runner) startLocked() bool {
	if r.starting || r.waitingLocked() <= r.takers {
		return false
	}
	if c := r.e.opts.Concurrency; c > 0 && r.workers >= c {
		return false
	}
	r.workers++
	r.takers++
	r.starting = true
	return true
}

// leave hands c, worker w's completion, over for reporting — with what
// is left of w's run: its completions, and its items back to the front of
// the queue — and, in the same breath, takes the next queued item (and
// maybe a run) when there is one and the run goes on (ok; another and due
// as for take). Otherwise the worker is left on its way to take (after
// deliver, which may queue more).
func (r *runner) leave(w *workerState, c completion) (it item, ok, another, due bool) {
	r.qmu.Lock()
	defer r.qmu.Unlock()
	r.releaseRunLocked(w)
	r.done = append(r.done, c)
	r.undelivered.Add(1)
	if r.queue.len() == 0 || r.halted.Load() || r.ending() {
		r.takers++
		return item{}, false, false, true
	}
	it = r.queue.pop()
	r.claimRunLocked(w)
	return it, true, r.startLocked(), r.reportDueLocked()
}

// reportBatch is how many completions a worker may leave for a later
// report while the queue holds at least as many items (reportDueLocked).
// With instant lifecycle events (BenchmarkExecutor, window 1,000), 32 took
// a deployment's reports from ~49,000 of two completions each to ~4,700 of
// ~21, and the deployment 5 to 8% faster; 16, 64 and 256 were no better.
const reportBatch = 32

// reportDueLocked reports whether the completions left so far must be
// reported now (deliver), after the queue just gave up an item. They may
// wait while fewer than reportBatch of them wait and the queue holds at
// least reportBatch items more: every item taken makes the queue shorter,
// so the report comes at the latest from the worker that takes it below
// reportBatch — and items are taken at once, by a new worker if need be,
// as long as the number of workers is not limited (Options.Concurrency);
// with a limit, or in Step, every completion is reported at once, as it
// always is when the queue runs short. qmu is held.
func (r *runner) reportDueLocked() bool {
	n := int(r.undelivered.Load())
	return (n > 0 || r.stashed.Load()) && (n >= reportBatch || r.queue.len() < reportBatch || r.e.opts.Concurrency > 0 || r.stepMode)
}

// deliver reports the completions left so far to the planner — those
// left in leave, and those the workers keep with their runs — unless
// another worker is doing so: that one sees them before it stops (it
// checks again once it is done), so no completion is left behind.
func (r *runner) deliver() {
	for (r.undelivered.Load() > 0 || r.stashed.Load()) && !r.delivering.Load() && r.delivering.CompareAndSwap(false, true) {
		r.pmu.Lock()
		r.qmu.Lock()
		batch := r.done
		if r.stashed.Swap(false) {
			for _, h := range r.holders {
				batch = h.run.drain(batch)
			}
		}
		r.done, r.spare = r.spare[:0], batch
		r.undelivered.Store(0)
		r.qmu.Unlock()
		n := 0
		if items := r.reportLocked(batch); len(items) > 0 {
			n = r.enqueueLocked(items)
		}
		r.pmu.Unlock()
		r.delivering.Store(false)
		r.spawn(n)
	}
}

// enqueueLocked queues items and counts them in flight. It returns how
// many more workers to start. r.pmu is held.
func (r *runner) enqueueLocked(items []item) int {
	for _, it := range items {
		if it.i >= 0 {
			r.overview.Move(r.targets[it.i].Status, target.TargetInProgress)
		}
	}
	r.inflight += len(items)
	r.qmu.Lock()
	defer r.qmu.Unlock()
	r.queue.push(items)
	if r.startLocked() {
		return 1
	}
	return 0
}

// spawn starts n workers.
func (r *runner) spawn(n int) {
	for range n {
		r.wg.Add(1)
		go r.worker()
	}
}

// ending reports whether the run is ending (its ctx is done, or the loop
// gave up): queued work is left for Resume. After a stop that aborts the
// running events the queue is still drained — each item ends at once,
// without running anything — so that the planner hears of every target.
func (r *runner) ending() bool {
	return r.workCtx.Err() != nil && !errors.Is(context.Cause(r.workCtx), errAbort)
}

// reportLocked reports finished work to the planner and, when nothing
// needs the loop, returns the targets the planner hands out next, to be
// queued. r.pmu is held.
func (r *runner) reportLocked(batch []completion) []item {
	more := true // nothing stops the workers from asking for more
	var now time.Time
	for _, c := range batch {
		if !r.finishedLocked(c) {
			more = false
		}
		if c.at.After(now) {
			now = c.at
		}
	}
	if !more || r.fatal != nil {
		return nil
	}
	if r.stepMode || r.stopping.Load() || r.poked.Load() || r.needLoop {
		r.needLoop = true
		r.wakeLoop()
		return nil
	}
	if now.IsZero() {
		now = r.e.clk.Now()
	}
	// now is when the last of the batch finished, a moment ago: the
	// planner hands out the same targets, and a deadline it has passed
	// meanwhile is the loop's to see.
	dec := r.p.Next(now)
	if dec.Done || dec.Step != nil || !dec.WaitUntil.IsZero() || dec.Progress != r.saved || dec.Status != r.status {
		for _, i := range dec.Start {
			r.pendingStart = append(r.pendingStart, item{i: int32(i), phase: dec.Phase})
		}
		if dec.Step != nil {
			r.pendingStart = append(r.pendingStart, stepItem(dec.Phase, *dec.Step))
		}
		r.needLoop = true
		r.wakeLoop()
		return nil
	}
	if len(dec.Start) == 0 {
		if r.inflight == 0 {
			r.needLoop = true
			r.wakeLoop()
		}
		return nil
	}
	items := r.handedOut[:0]
	for _, i := range dec.Start {
		items = append(items, item{i: int32(i), phase: dec.Phase})
	}
	r.handedOut = items // enqueueLocked copies them
	return items
}

// finishedLocked reports one completion to the planner. It returns false
// when the workers must not ask the planner for more: the run failed, or
// the loop must act first. r.pmu is held.
func (r *runner) finishedLocked(c completion) bool {
	r.inflight--
	switch {
	case c.err != nil:
		r.failLocked(c.err)
		return false
	case c.interrupted || r.fatal != nil:
		r.wakeLoop()
		return false
	case c.i < 0:
		if err := r.p.StepFinished(*c.res); err != nil {
			r.failLocked(&DeploymentError{DeploymentID: r.id, Op: "reporting a step", Err: err})
		}
		r.needLoop = true
		r.wakeLoop()
		return false
	}
	r.overview.Move(target.TargetInProgress, r.targets[c.i].Status)
	if err := r.p.Finished(int(c.i), c.ok); err != nil {
		r.failLocked(&DeploymentError{DeploymentID: r.id, Op: "reporting target " + r.targets[c.i].TargetID, Err: err})
		return false
	}
	return true
}

// failLocked records err as the error that ends the run, unless one is
// recorded already, stops the workers from taking more work, and wakes
// the loop. r.pmu is held.
func (r *runner) failLocked(err error) {
	if r.fatal == nil {
		r.fatal = err
	}
	r.halted.Store(true)
	r.wakeLoop()
}

package deploy

import (
	"context"
	"errors"

	"github.com/fleetdeploy/fleetdeploy/deploy/plan"
	"github.com/fleetdeploy/fleetdeploy/target"
)

// item is a piece of work the planner handed out: a target to run through
// a phase's lifecycle events, or a deployment-wide step.
type item struct {
	i     int32 // target index; -1 for a step
	phase plan.Phase
	// stopped: a target found InProgress when a stopped deployment was
	// resumed (see runTarget).
	stopped bool
	step    plan.Step
}

// The work of a deployment runs on worker goroutines, at most one per item
// in flight (and at most Options.Concurrency), started with the runner's
// errgroup. A worker takes an item from the queue, runs it, and reports it
// to the planner itself (under pmu). While nothing needs the loop — no
// stop, no request, no change of the stored progress or status — it also
// asks the planner for the next targets and takes one of them, so that a
// worker runs target after target without a round trip through the loop
// and without a goroutine per target. Whatever needs the loop (a decision
// whose progress must be stored first, a step, the end) is handed to it.

// enqueueLocked queues items and counts them in flight. It returns how
// many more workers to start. r.pmu is held.
func (r *runner) enqueueLocked(items []item) int {
	for _, it := range items {
		if it.i >= 0 {
			r.overview.Move(r.targets[it.i].Status, target.TargetInProgress)
		}
	}
	r.queue = append(r.queue, items...)
	r.inflight += len(items)
	n := len(items)
	if c := r.e.opts.Concurrency; c > 0 {
		n = min(n, c-r.workers)
	}
	n = max(n, 0)
	r.workers += n
	return n
}

// spawn starts n workers.
func (r *runner) spawn(n int) {
	for range n {
		r.g.Go(r.worker)
	}
}

// worker takes items from the queue and runs them until it is empty.
func (r *runner) worker() error {
	r.pmu.Lock()
	for {
		if len(r.queue) == 0 || r.fatal != nil || r.ending() {
			r.workers--
			r.pmu.Unlock()
			return nil
		}
		it := r.queue[0]
		r.queue = r.queue[1:]
		if len(r.queue) == 0 {
			r.queue = r.queue[:0:0] // let the backing array go
		}
		r.pmu.Unlock()
		var c completion
		if it.i < 0 {
			c = r.runStep(it.step)
		} else {
			c = r.runTarget(it.i, it.phase, it.stopped)
		}
		r.pmu.Lock()
		n := r.reportLocked(c)
		if n > 0 {
			r.pmu.Unlock()
			r.spawn(n)
			r.pmu.Lock()
		}
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
// needs the loop, queues the targets the planner hands out next. It
// returns how many more workers to start. r.pmu is held.
func (r *runner) reportLocked(c completion) int {
	r.inflight--
	switch {
	case c.err != nil:
		if r.fatal == nil {
			r.fatal = c.err
		}
		r.wakeLoop()
		return 0
	case c.interrupted || r.fatal != nil:
		r.wakeLoop()
		return 0
	case c.i < 0:
		if err := r.p.StepFinished(c.res); err != nil {
			r.fatal = &DeploymentError{DeploymentID: r.id, Op: "reporting a step", Err: err}
		}
		r.needLoop = true
		r.wakeLoop()
		return 0
	}
	r.overview.Move(target.TargetInProgress, c.status)
	if err := r.p.Finished(int(c.i), c.ok); err != nil {
		r.fatal = &DeploymentError{DeploymentID: r.id, Op: "reporting target " + r.targets[c.i].TargetID, Err: err}
		r.wakeLoop()
		return 0
	}
	if r.stepMode || r.stopping.Load() || r.poked.Load() || r.needLoop {
		r.needLoop = true
		r.wakeLoop()
		return 0
	}
	dec := r.p.Next(r.e.clk.Now())
	if dec.Done || dec.Step != nil || !dec.WaitUntil.IsZero() || dec.Progress != r.saved || dec.Status != r.status {
		for _, i := range dec.Start {
			r.pendingStart = append(r.pendingStart, item{i: int32(i), phase: dec.Phase})
		}
		if dec.Step != nil {
			r.pendingStart = append(r.pendingStart, item{i: -1, phase: dec.Phase, step: *dec.Step})
		}
		r.needLoop = true
		r.wakeLoop()
		return 0
	}
	if len(dec.Start) == 0 {
		if r.inflight == 0 {
			r.needLoop = true
			r.wakeLoop()
		}
		return 0
	}
	for _, i := range dec.Start {
		r.overview.Move(r.targets[i].Status, target.TargetInProgress)
		r.queue = append(r.queue, item{i: int32(i), phase: dec.Phase})
	}
	r.inflight += len(dec.Start)
	// This worker takes one; more workers for the rest.
	n := len(dec.Start) - 1
	if c := r.e.opts.Concurrency; c > 0 {
		n = min(n, c-r.workers)
	}
	n = max(n, 0)
	r.workers += n
	return n
}

package deploy

import (
	"runtime"
	"slices"
	"sync"
)

// Runs. While the queue is long, a worker that takes
// an item also takes the runLength-1 items behind it (a run) and holds
// them: it goes from one to the next without taking qmu, keeping the
// completions with its run, and takes qmu again only once the run is over
// (leave), to report them all and take the next item. With instant
// lifecycle events every target otherwise cost a turn of qmu — and the
// cache lines of the queue and of the completions moving between cores —
// (BenchmarkExecutor, window 1,000: with runs the work of its deployment
// took ~15% less time on two cores).
//
// A run must not hold back what others wait for, whatever its lifecycle
// events do:
//   - Items. While the queue holds items, those have workers on their way
//     (startLocked); once it is empty, held items count as waiting, so a
//     worker is started for each, and a worker that finds the queue empty
//     takes the first held item of a run (stealLocked) before it stops. So
//     the run of a worker that blocks in a long lifecycle event is started
//     by other workers as soon as the queue runs dry.
//   - Completions. A worker goes on with its run only while the queue
//     holds at least reportBatch items (mayGoOn): the worker that takes the
//     queue below that reports, and a report collects the completions kept
//     with every run (workerRun.drain). So a completion kept by a worker
//     that then blocks is reported by the next report due.
//
// At most runHoldersPerCPU workers per CPU (GOMAXPROCS) hold a run at
// once. With instant events a few workers do all the work, and each holds
// a run; when events block, the runs held are at most that many, their
// items are started once the queue is empty, and the scans of the runs
// (waitingLocked, stealLocked) stay short.

// runLength is how many items a worker takes at once while the queue holds
// at least runQueueMin items after the first; runQueueMin keeps a short
// queue (a small wave, whose targets start at once anyway) one item a
// worker.
const (
	runLength   = 16
	runQueueMin = 4 * runLength
)

// runHoldersPerCPU bounds how many workers per CPU (GOMAXPROCS) hold a
// run at once. (BenchmarkExecutor: with instant events, some 7 workers
// exist at a time on two CPUs; bounding the workers that may take a run,
// rather than those that hold one, to 8 let fewer of them take runs and
// lost half the gain.)
const runHoldersPerCPU = 8

// workerRun is the run a worker holds: the items it took and has not run
// yet, and the completions of those it ran, not yet reported. mu guards
// both: the worker takes it once per item of its run — a lock no other
// core touches unless a worker steals an item or a report collects the
// completions.
type workerRun struct {
	mu    sync.Mutex
	items []item
	done  []completion
	// buf holds items, made at the worker's first run: most workers never
	// take one (when events block, a window of 50,000 has as many
	// workers).
	buf []item
}

// mayGoOn reports whether a worker that holds a run may go on with it
// after completion c, keeping c with the run: c is a target's, that ended
// normally; the run is not failing or ending; and the queue holds at
// least reportBatch items (see Runs).
func (r *runner) mayGoOn(c completion) bool {
	return c.i >= 0 && c.err == nil && !c.interrupted && r.queue.sharedLen() >= reportBatch &&
		!r.halted.Load() && !r.ending()
}

// next keeps completion c with the run and returns the run's next item,
// or false when it has none left (others took them).
func (run *workerRun) next(r *runner, c completion) (item, bool) {
	run.mu.Lock()
	if len(run.items) == 0 {
		run.mu.Unlock()
		return item{}, false
	}
	first := len(run.done) == 0
	run.done = append(run.done, c)
	it := run.items[0]
	run.items = run.items[1:]
	run.mu.Unlock()
	if first {
		// Set after the completion is kept: a report that clears it
		// before collecting (deliver) collects it, or sees it set again.
		r.stashed.Store(true)
	}
	return it, true
}

// drain appends the completions kept with the run to batch, and returns
// it.
func (run *workerRun) drain(batch []completion) []completion {
	run.mu.Lock()
	batch = append(batch, run.done...)
	run.done = run.done[:0]
	run.mu.Unlock()
	return batch
}

// claimRunLocked makes w, which holds no run, take a run from the queue
// when the queue is long and the runs held few (see Runs) — unless the
// number of workers is limited (Options.Concurrency) or in Step, where a
// worker holding items would make the others wait. r.qmu is held.
func (r *runner) claimRunLocked(w *workerState) {
	if r.queue.len() < runQueueMin || len(r.holders) >= runHoldersPerCPU*runtime.GOMAXPROCS(0) ||
		r.e.opts.Concurrency > 0 || r.stepMode {
		return
	}
	run := &w.run
	run.mu.Lock()
	if run.buf == nil {
		run.buf = make([]item, runLength-1)
	}
	run.items = r.queue.popInto(run.buf[:0], len(run.buf))
	run.mu.Unlock()
	w.holding = true
	r.holders = append(r.holders, w)
}

// releaseRunLocked ends w's run, if it holds one: its completions are left
// to be reported, and its items go back to the front of the queue, in
// order. r.qmu is held.
func (r *runner) releaseRunLocked(w *workerState) {
	if !w.holding {
		return
	}
	w.holding = false
	r.holders = slices.DeleteFunc(r.holders, func(h *workerState) bool { return h == w })
	run := &w.run
	run.mu.Lock()
	defer run.mu.Unlock()
	if n := len(run.done); n > 0 {
		r.done = append(r.done, run.done...)
		r.undelivered.Add(int32(n))
		run.done = run.done[:0]
	}
	if len(run.items) > 0 {
		r.queue.pushFront(run.items)
		run.items = nil
	}
}

// stealLocked takes the first item held in a run, if any. r.qmu is held.
func (r *runner) stealLocked() (item, bool) {
	for _, h := range r.holders {
		run := &h.run
		run.mu.Lock()
		if len(run.items) > 0 {
			it := run.items[0]
			run.items = run.items[1:]
			run.mu.Unlock()
			return it, true
		}
		run.mu.Unlock()
	}
	return item{}, false
}

// waitingLocked returns how many items wait for a worker: the queued ones,
// or, when none is queued, those held in runs. r.qmu is held.
func (r *runner) waitingLocked() int {
	if n := r.queue.len(); n > 0 {
		return n
	}
	n := 0
	for _, h := range r.holders {
		h.run.mu.Lock()
		n += len(h.run.items)
		h.run.mu.Unlock()
	}
	return n
}

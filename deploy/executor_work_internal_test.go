package deploy

import (
	"context"
	"runtime"
	"testing"
)

// A worker may leave its completion for a later report only while the
// queue holds at least reportBatch items after its own, and fewer than
// reportBatch completions wait: the report then comes from whichever
// worker takes the queue below reportBatch, in leave or in take — a take
// may be the last one before every worker blocks in a long lifecycle
// event, and a completion it did not report would wait for that event.
// With a limit on workers (Options.Concurrency), or in Step, nothing is
// left.
func TestWhenLeftCompletionsAreReported(t *testing.T) {
	t.Run("leave", func(t *testing.T) {
		w := new(workerState)
		r := queuedRunner(reportBatch+2, Options{})
		for k := range 2 {
			// Two items taken, reportBatch left: held.
			if _, ok, _, due := r.leave(w, completion{i: int32(k)}); !ok || due {
				t.Fatalf("leave %d with %d queued after it: ok %v, due %v; want the next item, nothing due", k, r.queue.len(), ok, due)
			}
		}
		if _, ok, _, due := r.leave(w, completion{i: 2}); !ok || !due {
			t.Fatalf("leave with %d queued after it: ok %v, due %v; want the next item and the report due", r.queue.len(), ok, due)
		}
	})
	t.Run("take", func(t *testing.T) {
		w := new(workerState)
		r := queuedRunner(reportBatch+1, Options{})
		r.done = append(r.done, completion{i: 100})
		r.undelivered.Store(1)
		r.takers = 2
		if _, ok, _, due := r.take(false, w); !ok || due {
			t.Fatalf("take leaving %d queued: ok %v, due %v; want an item, nothing due", r.queue.len(), ok, due)
		}
		if _, ok, _, due := r.take(false, w); !ok || !due {
			t.Fatalf("take leaving %d queued with a completion left: ok %v, due %v; want an item and the report due", r.queue.len(), ok, due)
		}
	})
	t.Run("batch full", func(t *testing.T) {
		w := new(workerState)
		r := queuedRunner(3*reportBatch, Options{})
		for k := range reportBatch {
			_, _, _, due := r.leave(w, completion{i: int32(k)})
			if want := k == reportBatch-1; due != want {
				t.Fatalf("completion %d left with %d queued: due %v; want %v", k+1, r.queue.len(), due, want)
			}
		}
	})
	t.Run("Concurrency", func(t *testing.T) {
		w := new(workerState)
		r := queuedRunner(3*reportBatch, Options{Concurrency: 8})
		if _, _, _, due := r.leave(w, completion{}); !due {
			t.Fatalf("with Options.Concurrency, a completion left with %d queued is not due", r.queue.len())
		}
	})
	t.Run("Step", func(t *testing.T) {
		w := new(workerState)
		r := queuedRunner(3*reportBatch, Options{})
		r.stepMode = true
		if _, _, _, due := r.leave(w, completion{}); !due {
			t.Fatalf("in Step, a completion left with %d queued is not due", r.queue.len())
		}
	})
}

// Runs (executor_runs.go): a worker takes a run only while the queue is
// long, the runs held few, and the workers unlimited; it goes on with its
// run, keeping its completions, only while the queue holds reportBatch
// items; a run it ends goes back to the front of the queue and its
// completions to be reported; and held items are taken by other workers,
// and counted for starting them, once the queue is empty.
func TestRuns(t *testing.T) {
	ids := func(items []item) []int32 {
		out := make([]int32, len(items))
		for k, it := range items {
			out[k] = it.i
		}
		return out
	}
	t.Run("taken while the queue is long", func(t *testing.T) {
		r, w := queuedRunner(1+runQueueMin, Options{}), new(workerState)
		it, ok, _, _ := r.take(false, w)
		if !ok || it.i != 0 || !w.holding || len(w.run.items) != runLength-1 || w.run.items[0].i != 1 {
			t.Fatalf("take: item %d (ok %v), holding %v, run %v; want item 0 and a run of items 1 to %d", it.i, ok, w.holding, ids(w.run.items), runLength-1)
		}
		if want := runQueueMin - (runLength - 1); r.queue.len() != want || r.queue.sharedLen() != want {
			t.Fatalf("queue %d (shared %d) after the run; want %d", r.queue.len(), r.queue.sharedLen(), want)
		}
		r2, w2 := queuedRunner(runQueueMin, Options{}), new(workerState)
		if r2.take(false, w2); w2.holding {
			t.Errorf("a run taken with %d queued behind the item; want none below %d", runQueueMin-1, runQueueMin)
		}
	})
	for _, tc := range []struct {
		name string
		set  func(r *runner)
	}{
		{"not with Options.Concurrency", func(r *runner) { r.e.opts.Concurrency = 8 }},
		{"not in Step", func(r *runner) { r.stepMode = true }},
		{"not beyond runHoldersPerCPU", func(r *runner) {
			for range runHoldersPerCPU * runtime.GOMAXPROCS(0) {
				r.holders = append(r.holders, new(workerState))
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, w := queuedRunner(4*runQueueMin, Options{}), new(workerState)
			tc.set(r)
			if r.take(false, w); w.holding {
				t.Errorf("a run was taken")
			}
		})
	}
	t.Run("goes on while the queue is long", func(t *testing.T) {
		r, w := queuedRunner(4*runQueueMin, Options{}), new(workerState)
		r.take(false, w)
		it, ok, _ := r.handOver(w, completion{i: 0, ok: true})
		if !ok || it.i != 1 || len(r.done) != 0 || len(w.run.done) != 1 || !r.stashed.Load() {
			t.Fatalf("handOver: item %d (ok %v), %d left, %d kept, stashed %v; want the run's item 1, the completion kept with the run",
				it.i, ok, len(r.done), len(w.run.done), r.stashed.Load())
		}
		// The queue runs short (other workers took its items): the run
		// ends, its items back in front, too few for another run.
		for r.queue.len() >= reportBatch {
			r.queue.pop()
		}
		it, ok, _ = r.handOver(w, completion{i: 1, ok: true})
		if !ok || it.i != 2 {
			t.Fatalf("handOver with the queue short: item %d (ok %v); want item 2, the first of the run put back", it.i, ok)
		}
		if len(r.done) != 2 || r.undelivered.Load() != 2 || len(w.run.done) != 0 {
			t.Errorf("%d completions left (undelivered %d), %d kept; want both left", len(r.done), r.undelivered.Load(), len(w.run.done))
		}
		if w.holding {
			t.Fatalf("a run was taken with %d queued", r.queue.len())
		}
		for want := int32(3); want < runLength; want++ {
			if got := r.queue.pop().i; got != want {
				t.Fatalf("item %d back in the queue where item %d should be: the run's items did not go back in order", got, want)
			}
		}
	})
	t.Run("held items are taken once the queue is empty", func(t *testing.T) {
		r, holder := queuedRunner(1+runQueueMin, Options{}), new(workerState)
		r.take(false, holder)
		for r.queue.len() > 0 {
			r.queue.pop()
		}
		if got := r.waitingLocked(); got != runLength-1 {
			t.Fatalf("waiting %d with the queue empty; want the %d held", got, runLength-1)
		}
		r.takers, r.starting = 0, false
		if !r.startLocked() {
			t.Errorf("no worker started for the held items")
		}
		r.takers = 1
		it, ok, _, _ := r.take(false, new(workerState))
		if !ok || it.i != 1 || len(holder.run.items) != runLength-2 {
			t.Errorf("take with the queue empty: item %d (ok %v), %d left in the run; want the run's first, item 1", it.i, ok, len(holder.run.items))
		}
	})
}

// queuedRunner returns a runner of one worker whose queue holds the items
// of targets 0 to queued-1, for the workers' rules to be tried on alone.
func queuedRunner(queued int, opts Options) *runner {
	r := &runner{e: &Executor{opts: opts}, workCtx: context.Background()}
	items := make([]item, queued)
	for k := range items {
		items[k] = item{i: int32(k)}
	}
	r.queue.reserve(queued)
	r.queue.push(items)
	r.workers = 1
	return r
}

package deploy

import (
	"context"
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
	newRunner := func(queued int, opts Options) *runner {
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
	t.Run("leave", func(t *testing.T) {
		r := newRunner(reportBatch+2, Options{})
		for k := range 2 {
			// Two items taken, reportBatch left: held.
			if _, ok, _, due := r.leave(completion{i: int32(k)}); !ok || due {
				t.Fatalf("leave %d with %d queued after it: ok %v, due %v; want the next item, nothing due", k, r.queue.len(), ok, due)
			}
		}
		if _, ok, _, due := r.leave(completion{i: 2}); !ok || !due {
			t.Fatalf("leave with %d queued after it: ok %v, due %v; want the next item and the report due", r.queue.len(), ok, due)
		}
	})
	t.Run("take", func(t *testing.T) {
		r := newRunner(reportBatch+1, Options{})
		r.done = append(r.done, completion{i: 100})
		r.undelivered.Store(1)
		r.takers = 2
		if _, ok, _, due := r.take(false); !ok || due {
			t.Fatalf("take leaving %d queued: ok %v, due %v; want an item, nothing due", r.queue.len(), ok, due)
		}
		if _, ok, _, due := r.take(false); !ok || !due {
			t.Fatalf("take leaving %d queued with a completion left: ok %v, due %v; want an item and the report due", r.queue.len(), ok, due)
		}
	})
	t.Run("batch full", func(t *testing.T) {
		r := newRunner(3*reportBatch, Options{})
		for k := range reportBatch {
			_, _, _, due := r.leave(completion{i: int32(k)})
			if want := k == reportBatch-1; due != want {
				t.Fatalf("completion %d left with %d queued: due %v; want %v", k+1, r.queue.len(), due, want)
			}
		}
	})
	t.Run("Concurrency", func(t *testing.T) {
		r := newRunner(3*reportBatch, Options{Concurrency: 8})
		if _, _, _, due := r.leave(completion{}); !due {
			t.Fatalf("with Options.Concurrency, a completion left with %d queued is not due", r.queue.len())
		}
	})
	t.Run("Step", func(t *testing.T) {
		r := newRunner(3*reportBatch, Options{})
		r.stepMode = true
		if _, _, _, due := r.leave(completion{}); !due {
			t.Fatalf("in Step, a completion left with %d queued is not due", r.queue.len())
		}
	})
}

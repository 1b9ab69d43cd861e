package localtraffic

import (
	"testing"
	"time"

	"pgregory.net/rapid"
)

// The ring of buckets against a naive oracle that keeps every request: for
// requests in time order and any window up to the ring's length, both
// count the requests whose bucket is one of the k up to and including the
// current one (package doc, # Observing traffic).
func TestWindowMatchesOracle(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		width := time.Duration(rapid.Int64Range(1, int64(time.Minute)).Draw(t, "width"))
		n := rapid.Int64Range(1, 20).Draw(t, "buckets")
		epoch := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(rapid.Int64Range(-1e12, 1e12).Draw(t, "epoch")))
		w := newWindow(epoch, width, n)
		type req struct {
			at    time.Time
			isErr bool
		}
		var all []req
		now := epoch.Add(time.Duration(rapid.Int64Range(-int64(time.Hour), int64(time.Hour)).Draw(t, "start")))
		for range rapid.IntRange(0, 200).Draw(t, "steps") {
			now = now.Add(time.Duration(rapid.Int64Range(0, 3*int64(width)).Draw(t, "advance")))
			if rapid.Bool().Draw(t, "query") {
				k := rapid.Int64Range(1, n).Draw(t, "k")
				var want Counts
				cur := floorDiv(now.Sub(epoch), width)
				for _, r := range all {
					if i := floorDiv(r.at.Sub(epoch), width); i > cur-k && i <= cur {
						want.add(r.isErr)
					}
				}
				if got := w.sum(now, k); got != want {
					t.Fatalf("sum(now=%v, k=%d) = %+v; the oracle says %+v", now.Sub(epoch), k, got, want)
				}
				continue
			}
			r := req{now, rapid.Bool().Draw(t, "error")}
			all = append(all, r)
			w.add(r.at, r.isErr)
		}
	})
}

// floorDiv is ⌊d/w⌋, the oracle's bucket index, written independently of
// window.index.
func floorDiv(d, w time.Duration) int64 {
	q := float64(d) / float64(w)
	i := int64(q)
	if float64(i) > q {
		i--
	}
	// float64 rounding near bucket edges: settle on the exact integer.
	for time.Duration(i)*w > d {
		i--
	}
	for time.Duration(i+1)*w <= d {
		i++
	}
	return i
}

// A request older than what the ring keeps for its slot (a clock that
// went backwards) is dropped, not counted in a newer bucket.
func TestWindowDropsRequestsOlderThanTheRing(t *testing.T) {
	epoch := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	w := newWindow(epoch, time.Second, 4)
	w.add(epoch.Add(5*time.Second), true) // bucket 5, slot 1
	w.add(epoch.Add(1*time.Second), true) // bucket 1, slot 1: older, dropped
	if got := w.sum(epoch.Add(5*time.Second), 4); got != (Counts{Requests: 1, Errors: 1}) {
		t.Errorf("sum = %+v; want only the request of bucket 5", got)
	}
	if got := w.sum(epoch.Add(1*time.Second), 4); got != (Counts{}) {
		t.Errorf("sum at bucket 1 = %+v; want nothing (bucket 5 is in its future, bucket 1 was dropped)", got)
	}
}

package localtraffic

import "time"

// window counts requests and errors in a ring of time buckets: the
// sliding window of one route or backend. Bucket i holds what finished in
// [epoch + i·width, epoch + (i+1)·width). It keeps the last len(slots)
// buckets; older counts are overwritten as time moves on, so its memory
// does not grow with traffic. Not safe for concurrent use (the Proxy's
// lock guards it).
type window struct {
	epoch time.Time
	width time.Duration
	slots []slot
}

type slot struct {
	set bool
	idx int64
	c   Counts
}

func newWindow(epoch time.Time, width time.Duration, n int64) *window {
	return &window{epoch: epoch, width: width, slots: make([]slot, n)}
}

// index returns the bucket t falls in (floor division, so times before the
// epoch get negative indexes).
func (w *window) index(t time.Time) int64 {
	d := t.Sub(w.epoch)
	i := int64(d / w.width)
	if d%w.width < 0 {
		i--
	}
	return i
}

// add counts one request that finished at t, an error if isErr. A request
// older than every bucket the ring still holds for its slot is dropped: it
// is outside any window the ring can answer for.
func (w *window) add(t time.Time, isErr bool) {
	i := w.index(t)
	n := int64(len(w.slots))
	s := &w.slots[((i%n)+n)%n]
	switch {
	case s.set && s.idx > i:
		return
	case !s.set || s.idx < i:
		*s = slot{set: true, idx: i}
	}
	s.c.add(isErr)
}

// sum returns the counts of the k buckets up to and including the one now
// falls in: requests that finished less than (k−1)·width plus the time
// since the current bucket began ago. k is at most len(w.slots).
func (w *window) sum(now time.Time, k int64) Counts {
	cur := w.index(now)
	var c Counts
	for _, s := range w.slots {
		if s.set && s.idx <= cur && s.idx > cur-k {
			c.Requests += s.c.Requests
			c.Errors += s.c.Errors
		}
	}
	return c
}

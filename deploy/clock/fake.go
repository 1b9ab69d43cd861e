package clock

import (
	"cmp"
	"context"
	"slices"
	"sync"
	"time"
)

// Fake is a Clock whose time moves only when told to. The zero value is
// not usable; call NewFake. A Fake is safe for concurrent use.
type Fake struct {
	mu      sync.Mutex
	now     time.Time
	seq     uint64
	timers  []*fakeTimer  // pending, unordered
	changed chan struct{} // closed and replaced whenever timers change
}

var _ Clock = (*Fake)(nil)

// NewFake returns a fake clock reading start.
func NewFake(start time.Time) *Fake {
	return &Fake{now: start, changed: make(chan struct{})}
}

// Now returns the fake's current time.
func (f *Fake) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

// NewTimer returns a timer that fires when the fake's time reaches
// Now()+d. A d ≤ 0 fires at once.
func (f *Fake) NewTimer(d time.Duration) Timer {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.seq++
	t := &fakeTimer{f: f, at: f.now.Add(d), seq: f.seq, c: make(chan time.Time, 1)}
	if d <= 0 {
		t.c <- f.now
		return t
	}
	f.timers = append(f.timers, t)
	f.notifyLocked()
	return t
}

// Advance moves the time forward by d, firing every timer that falls due, in
// the order of their deadlines (ties in creation order). Each fired timer's
// channel receives its own deadline.
func (f *Fake) Advance(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.setLocked(f.now.Add(d))
}

// Set moves the time to t (if t is later than the current time) and fires
// what falls due, like Advance.
func (f *Fake) Set(t time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if t.After(f.now) {
		f.setLocked(t)
	}
}

// AdvanceToNext moves the time to the earliest pending deadline and fires
// the timers due then. It reports false, and does nothing, when no timer is
// pending. Simulations use it to jump from event to event.
func (f *Fake) AdvanceToNext() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.timers) == 0 {
		return false
	}
	next := f.timers[0].at
	for _, t := range f.timers[1:] {
		if t.at.Before(next) {
			next = t.at
		}
	}
	if next.After(f.now) {
		f.setLocked(next)
	} else {
		f.setLocked(f.now)
	}
	return true
}

func (f *Fake) setLocked(now time.Time) {
	f.now = now
	var due []*fakeTimer
	f.timers = slices.DeleteFunc(f.timers, func(t *fakeTimer) bool {
		if t.at.After(now) {
			return false
		}
		due = append(due, t)
		return true
	})
	slices.SortFunc(due, func(a, b *fakeTimer) int {
		if c := a.at.Compare(b.at); c != 0 {
			return c
		}
		return cmp.Compare(a.seq, b.seq)
	})
	for _, t := range due {
		t.c <- t.at
	}
	if len(due) > 0 {
		f.notifyLocked()
	}
}

// Waiters returns the number of pending timers: goroutines blocked on the
// clock, when each waiter stops its timer on giving up (as Sleep does).
func (f *Fake) Waiters() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.timers)
}

// BlockUntil waits until at least n timers are pending, or ctx is done. It
// is how a test knows the code under test has reached its wait before it
// calls Advance.
func (f *Fake) BlockUntil(ctx context.Context, n int) error {
	for {
		f.mu.Lock()
		pending, changed := len(f.timers), f.changed
		f.mu.Unlock()
		if pending >= n {
			return nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

func (f *Fake) notifyLocked() {
	close(f.changed)
	f.changed = make(chan struct{})
}

type fakeTimer struct {
	f   *Fake
	at  time.Time
	seq uint64
	c   chan time.Time
}

func (t *fakeTimer) C() <-chan time.Time { return t.c }

func (t *fakeTimer) Stop() bool {
	t.f.mu.Lock()
	defer t.f.mu.Unlock()
	n := len(t.f.timers)
	t.f.timers = slices.DeleteFunc(t.f.timers, func(x *fakeTimer) bool { return x == t })
	if len(t.f.timers) == n {
		return false
	}
	t.f.notifyLocked()
	return true
}

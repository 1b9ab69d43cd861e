package main

import (
	"sort"
	"sync"
	"testing"
	"time"

	"pgregory.net/rapid"
)

// fakeReal is a realTime that moves only when told to; AfterFunc
// callbacks run synchronously in Advance, in the order of their
// deadlines.
type fakeReal struct {
	mu      sync.Mutex
	now     time.Time
	pending []*fakeFunc
}

type fakeFunc struct {
	at time.Time
	f  func()
}

func newFakeReal() *fakeReal { return &fakeReal{now: time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)} }

func (r *fakeReal) Now() time.Time {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.now
}

func (r *fakeReal) AfterFunc(d time.Duration, f func()) func() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	ff := &fakeFunc{at: r.now.Add(d), f: f}
	r.pending = append(r.pending, ff)
	return func() bool {
		r.mu.Lock()
		defer r.mu.Unlock()
		for i, p := range r.pending {
			if p == ff {
				r.pending = append(r.pending[:i], r.pending[i+1:]...)
				return true
			}
		}
		return false
	}
}

// Advance moves real time forward by d and runs the callbacks due.
func (r *fakeReal) Advance(d time.Duration) {
	r.mu.Lock()
	r.now = r.now.Add(d)
	sort.SliceStable(r.pending, func(i, j int) bool { return r.pending[i].at.Before(r.pending[j].at) })
	var due []*fakeFunc
	for len(r.pending) > 0 && !r.pending[0].at.After(r.now) {
		due = append(due, r.pending[0])
		r.pending = r.pending[1:]
	}
	r.mu.Unlock()
	for _, f := range due {
		f.f()
	}
}

// fired reports whether a timer channel holds a value, and the value.
func fired(c <-chan time.Time) (time.Time, bool) {
	select {
	case t := <-c:
		return t, true
	default:
		return time.Time{}, false
	}
}

// At -minute 2s the clock runs 30 times faster than real time: a 2-minute
// canary interval is 4 real seconds.
func TestScaledClockRunsFaster(t *testing.T) {
	rt := newFakeReal()
	c := newScaledClock(rt, 2*time.Second)
	start := c.Now()
	rt.Advance(2 * time.Second)
	if got := c.Now().Sub(start); got != time.Minute {
		t.Errorf("after 2s of real time, %v of virtual time passed; want 1m", got)
	}
	timer := c.NewTimer(2 * time.Minute)
	rt.Advance(4*time.Second - time.Nanosecond)
	if _, ok := fired(timer.C()); ok {
		t.Fatal("a 2-minute timer fired before 4s of real time")
	}
	rt.Advance(time.Nanosecond)
	at, ok := fired(timer.C())
	if !ok {
		t.Fatal("a 2-minute timer did not fire after 4s of real time")
	}
	if want := start.Add(3 * time.Minute); !at.Equal(want) {
		t.Errorf("the timer sent %v; want its deadline %v", at, want)
	}
	if timer.Stop() {
		t.Error("Stop of a fired timer reported true")
	}
}

// A stopped timer never fires; a timer of d ≤ 0 fires at once.
func TestScaledClockStopAndZero(t *testing.T) {
	rt := newFakeReal()
	c := newScaledClock(rt, time.Second)
	timer := c.NewTimer(time.Minute)
	if !timer.Stop() {
		t.Error("Stop of a pending timer reported false")
	}
	rt.Advance(time.Hour)
	if _, ok := fired(timer.C()); ok {
		t.Error("a stopped timer fired")
	}
	for _, d := range []time.Duration{0, -time.Second} {
		now := c.Now()
		at, ok := fired(c.NewTimer(d).C())
		if !ok || !at.Equal(now) {
			t.Errorf("NewTimer(%v) sent %v, %v; want %v at once", d, at, ok, now)
		}
	}
}

// For any scale, start and duration, a timer waits d·minute/1m of real
// time, rounded up to the nanosecond — not a nanosecond less — and sends a
// virtual time no earlier than its deadline. Virtual time never goes
// backwards.
func TestScaledClockTimersNeverFireEarly(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		rt := newFakeReal()
		minute := time.Duration(rapid.Int64Range(int64(time.Millisecond), int64(time.Minute)).Draw(t, "minute"))
		c := newScaledClock(rt, minute)
		rt.Advance(time.Duration(rapid.Int64Range(0, int64(time.Hour)).Draw(t, "offset")))
		d := time.Duration(rapid.Int64Range(1, int64(48*time.Hour)).Draw(t, "d"))
		exact := float64(d) * float64(minute) / float64(time.Minute) // the real wait, unrounded
		created := c.Now()
		timer := c.NewTimer(d)
		wait := c.realDuration(d)
		if float64(wait) < exact-0.5 || float64(wait) > exact+1.5 {
			t.Fatalf("a timer of %v at 1m = %v waits %v of real time; want ⌈%.1fns⌉", d, minute, wait, exact)
		}
		if wait > 0 {
			rt.Advance(wait - 1)
			if _, ok := fired(timer.C()); ok {
				t.Fatalf("fired after %v of real time; due after %v", wait-1, wait)
			}
			rt.Advance(1)
		}
		at, ok := fired(timer.C())
		if !ok {
			t.Fatalf("not fired after %v of real time", wait)
		}
		if at.Before(created.Add(d)) {
			t.Fatalf("sent %v, before its deadline %v", at, created.Add(d))
		}
		if later := c.Now(); later.Before(at) {
			t.Fatalf("the clock went back from %v to %v", at, later)
		}
	})
}

// mulDiv does not overflow where d·num does, and saturates where the
// result does.
func TestMulDiv(t *testing.T) {
	for _, tc := range []struct {
		d, num, den time.Duration
		up          bool
		want        time.Duration
	}{
		{time.Hour, time.Minute, 2 * time.Second, false, 30 * time.Hour},
		{time.Second, 7 * time.Second, time.Minute, false, 116_666_666},
		{time.Second, 7 * time.Second, time.Minute, true, 116_666_667},
		{100 * 24 * time.Hour, time.Minute, time.Millisecond, false, 1<<63 - 1},
		{0, time.Minute, time.Second, true, 0},
		{-time.Second, time.Minute, time.Second, true, 0},
	} {
		if got := mulDiv(tc.d, tc.num, tc.den, tc.up); got != tc.want {
			t.Errorf("mulDiv(%v, %v, %v, %v) = %d; want %d", tc.d, tc.num, tc.den, tc.up, got, tc.want)
		}
	}
}

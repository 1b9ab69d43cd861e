package main

import (
	"math/bits"
	"time"

	"github.com/fleetdeploy/fleetdeploy/deploy/clock"
)

// realTime is where a scaledClock reads real time and sets real timers:
// the machine's (systemTime), or a test's.
type realTime interface {
	// Now returns the real time, with a monotonic reading.
	Now() time.Time
	// AfterFunc calls f in its own goroutine once d has passed, unless
	// the returned stop function is called first; stop reports whether it
	// prevented the call.
	AfterFunc(d time.Duration, f func()) (stop func() bool)
}

// systemTime is the machine's real time.
type systemTime struct{}

func (systemTime) Now() time.Time { return time.Now() }

func (systemTime) AfterFunc(d time.Duration, f func()) func() bool { return time.AfterFunc(d, f).Stop }

// scaledClock is a clock.Clock that runs faster than real time: one
// virtual minute takes minute of real time. The deployment configurations
// of the example are CodeDeploy's — intervals in whole minutes — and the
// executor and the proxy read this clock, so a 2-minute canary takes 4
// seconds at -minute 2s while the requests flow in real time.
//
// Virtual time starts at the real time the clock was made and is exact:
// virtual elapsed = real elapsed × time.Minute / minute, computed in 128
// bits. A timer of d fires once at least d of virtual time has passed
// (the real wait is rounded up), and sends the virtual time it fired at,
// which is never before its deadline. It is safe for concurrent use and
// starts no goroutine of its own: its timers are real-time AfterFuncs.
type scaledClock struct {
	real   realTime
	start  time.Time // real, with its monotonic reading
	minute time.Duration
}

var _ clock.Clock = (*scaledClock)(nil)

// newScaledClock returns a clock on which one minute takes minute of rt's
// time. minute must be positive.
func newScaledClock(rt realTime, minute time.Duration) *scaledClock {
	return &scaledClock{real: rt, start: rt.Now(), minute: minute}
}

// Now returns the virtual time.
func (c *scaledClock) Now() time.Time {
	return c.start.Add(c.virtual(c.real.Now().Sub(c.start))).Round(0)
}

// virtual converts real elapsed time into virtual elapsed time, rounding
// down.
func (c *scaledClock) virtual(real time.Duration) time.Duration {
	return mulDiv(real, time.Minute, c.minute, false)
}

// realDuration converts a virtual duration into the real wait it takes,
// rounding up so that a timer never fires early.
func (c *scaledClock) realDuration(virtual time.Duration) time.Duration {
	return mulDiv(virtual, c.minute, time.Minute, true)
}

// NewTimer returns a timer that fires once d of virtual time has passed.
func (c *scaledClock) NewTimer(d time.Duration) clock.Timer {
	t := &scaledTimer{c: make(chan time.Time, 1)}
	if d <= 0 {
		t.c <- c.Now()
		t.stop = func() bool { return false }
		return t
	}
	t.stop = c.real.AfterFunc(c.realDuration(d), func() { t.c <- c.Now() })
	return t
}

// scaledTimer is a timer of a scaledClock.
type scaledTimer struct {
	c    chan time.Time
	stop func() bool
}

func (t *scaledTimer) C() <-chan time.Time { return t.c }
func (t *scaledTimer) Stop() bool          { return t.stop() }

// mulDiv returns d·num/den for non-negative d and positive num and den,
// without overflow in between; rounded up when up is set, else down. A
// result too large for a Duration is the largest Duration.
func mulDiv(d, num, den time.Duration, up bool) time.Duration {
	if d <= 0 {
		return 0
	}
	hi, lo := bits.Mul64(uint64(d), uint64(num))
	if hi >= uint64(den) {
		return time.Duration(1<<63 - 1)
	}
	q, r := bits.Div64(hi, lo, uint64(den))
	if up && r != 0 {
		q++
	}
	if q > 1<<63-1 {
		return time.Duration(1<<63 - 1)
	}
	return time.Duration(q)
}

package main

import (
	"time"

	"github.com/fleetdeploy/fleetdeploy/deploy/clock"
)

// fastClock is a clock.Clock that runs speed times faster than real time,
// so that the waits CodeDeploy measures in minutes — the blue/green
// termination wait — take seconds. The executor and the adapters read it;
// the moto calls and the hook scripts take real time, which the clock
// multiplies like any other.
//
// Virtual time starts at the real time the clock was made: virtual elapsed
// = real elapsed × speed. A timer of d fires after d/speed of real time,
// rounded up, so never before d of virtual time has passed. It is safe
// for concurrent use.
type fastClock struct {
	start time.Time // real, with its monotonic reading
	speed time.Duration
}

var _ clock.Clock = (*fastClock)(nil)

// newFastClock returns a clock that runs speed (≥ 1) times faster than
// real time.
func newFastClock(speed int) *fastClock {
	return &fastClock{start: time.Now(), speed: time.Duration(speed)}
}

// Now returns the virtual time.
func (c *fastClock) Now() time.Time {
	return c.start.Add(time.Since(c.start) * c.speed).Round(0)
}

// real returns the real time that d of virtual time takes, rounded up.
func (c *fastClock) real(d time.Duration) time.Duration {
	return (d + c.speed - 1) / c.speed
}

// NewTimer returns a timer that fires once d of virtual time has passed.
func (c *fastClock) NewTimer(d time.Duration) clock.Timer {
	t := &fastTimer{c: make(chan time.Time, 1)}
	if d <= 0 {
		t.c <- c.Now()
		t.t = time.NewTimer(time.Hour)
		t.t.Stop()
		return t
	}
	t.t = time.AfterFunc(c.real(d), func() { t.c <- c.Now() })
	return t
}

// fastTimer is a fastClock's timer.
type fastTimer struct {
	c chan time.Time
	t *time.Timer
}

func (t *fastTimer) C() <-chan time.Time { return t.c }

func (t *fastTimer) Stop() bool { return t.t.Stop() }

package story

import (
	"time"

	"github.com/fleetdeploy/fleetdeploy/deploy/clock"
)

// FastClock is a clock.Clock that runs speed times faster than real time,
// so that the waits CodeDeploy measures in minutes — a blue/green
// termination wait, a canary's interval — take seconds. The executor and
// the adapters read it; the calls to AWS (or moto) and the hook scripts
// take real time, which the clock multiplies like any other.
//
// Virtual time starts at the real time the clock was made: virtual elapsed
// = real elapsed × speed. A timer of d fires after d/speed of real time,
// rounded up, so never before d of virtual time has passed. It is safe
// for concurrent use.
type FastClock struct {
	start time.Time // real, with its monotonic reading
	speed time.Duration
}

var _ clock.Clock = (*FastClock)(nil)

// NewFastClock returns a clock that runs speed (≥ 1; less counts as 1)
// times faster than real time.
func NewFastClock(speed int) *FastClock {
	speed = max(speed, 1)
	return &FastClock{start: time.Now(), speed: time.Duration(speed)}
}

// Now returns the virtual time.
func (c *FastClock) Now() time.Time {
	return c.start.Add(time.Since(c.start) * c.speed).Round(0)
}

// Real returns the real time that d of virtual time takes, rounded up.
func (c *FastClock) Real(d time.Duration) time.Duration {
	return (d + c.speed - 1) / c.speed
}

// NewTimer returns a timer that fires once d of virtual time has passed.
func (c *FastClock) NewTimer(d time.Duration) clock.Timer {
	t := &fastTimer{c: make(chan time.Time, 1)}
	if d <= 0 {
		t.c <- c.Now()
		t.t = time.NewTimer(time.Hour)
		t.t.Stop()
		return t
	}
	t.t = time.AfterFunc(c.Real(d), func() { t.c <- c.Now() })
	return t
}

// fastTimer is a FastClock's timer.
type fastTimer struct {
	c chan time.Time
	t *time.Timer
}

// C implements clock.Timer.
func (t *fastTimer) C() <-chan time.Time { return t.c }

// Stop implements clock.Timer.
func (t *fastTimer) Stop() bool { return t.t.Stop() }

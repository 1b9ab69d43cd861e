// Package clock is the time source of fleetdeploy's executor and agents.
//
// Library code never reads the wall clock or sleeps directly: it asks a
// [Clock], which is [System] in production and a [Fake] in tests and
// simulations, so that a rollout with hour-long bake times runs in
// milliseconds of virtual time.
//
// # Waiting
//
// Code that waits creates a [Timer] and selects on its channel together with
// its context, stopping the timer when it gives up; [Sleep] does exactly
// that. A stopped timer is forgotten, so a [Fake] counts only the waiters
// that are really blocked.
//
// # Testing with a fake clock
//
// The race-free pattern is "wait until the code under test blocks on the
// clock, then advance it":
//
//	clk := clock.NewFake(start)
//	go run(ctx, clk)                 // waits on clk.NewTimer(time.Hour)
//	clk.BlockUntil(ctx, 1)           // run is now blocked on its timer
//	clk.Advance(time.Hour)           // fire it
//
// No test needs time.Sleep.
package clock

import (
	"context"
	"time"
)

// Clock tells the time and makes timers. Implementations are safe for
// concurrent use.
type Clock interface {
	// Now returns the current time.
	Now() time.Time
	// NewTimer returns a timer that fires once, d from now. A d ≤ 0 fires
	// at once.
	NewTimer(d time.Duration) Timer
}

// Timer is a one-shot timer made by a Clock.
type Timer interface {
	// C returns the channel the fire time is sent on (once, buffered).
	C() <-chan time.Time
	// Stop prevents the timer from firing. It reports whether it stopped
	// it (false: it had already fired or been stopped).
	Stop() bool
}

// Sleep waits for d on c, or until ctx is done, whichever comes first. It
// returns ctx.Err() when the context ended the wait, nil otherwise.
func Sleep(ctx context.Context, c Clock, d time.Duration) error {
	t := c.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C():
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Later returns the time now on c, given an earlier reading t of it: on
// the system clock, t plus the monotonic time elapsed since t (which costs
// about half of a time.Now on machines whose clock is slow to read, such
// as virtual machines), else c.Now(). The two differ only when the wall
// clock is set between the readings: Later keeps the interval true. Code
// that reads the clock many times in a row — a target's lifecycle events,
// each with its start and end — uses it.
func Later(c Clock, t time.Time) time.Time {
	if _, ok := c.(systemClock); ok && !t.IsZero() {
		return t.Add(time.Since(t))
	}
	return c.Now()
}

// System is the Clock of the machine: time.Now and time.NewTimer.
func System() Clock { return systemClock{} }

type systemClock struct{}

func (systemClock) Now() time.Time { return time.Now() }

func (systemClock) NewTimer(d time.Duration) Timer { return systemTimer{time.NewTimer(d)} }

type systemTimer struct{ t *time.Timer }

func (s systemTimer) C() <-chan time.Time { return s.t.C }
func (s systemTimer) Stop() bool          { return s.t.Stop() }

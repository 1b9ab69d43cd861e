package deploytest

import (
	"time"

	"github.com/fleetdeploy/fleetdeploy/deploy/clock"
)

// FakeClock is the fake clock of package clock, named here so that tests
// of code built on package deploy find all their fakes in one place.
type FakeClock = clock.Fake

// NewFakeClock returns a FakeClock set to start. Its time moves only when
// the test advances it.
func NewFakeClock(start time.Time) *FakeClock { return clock.NewFake(start) }

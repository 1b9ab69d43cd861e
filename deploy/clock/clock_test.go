package clock_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/fleetdeploy/fleetdeploy/deploy/clock"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var start = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func TestFakeFiresInDeadlineOrder(t *testing.T) {
	f := clock.NewFake(start)
	late := f.NewTimer(3 * time.Second)
	early := f.NewTimer(1 * time.Second)
	never := f.NewTimer(10 * time.Second)
	if f.Waiters() != 3 {
		t.Fatalf("Waiters = %d; want 3", f.Waiters())
	}
	f.Advance(2 * time.Second)
	select {
	case at := <-early.C():
		if !at.Equal(start.Add(time.Second)) {
			t.Errorf("early fired with %v; want its deadline %v", at, start.Add(time.Second))
		}
	default:
		t.Fatal("a timer due at +1s did not fire at +2s")
	}
	select {
	case <-late.C():
		t.Fatal("a timer due at +3s fired at +2s")
	default:
	}
	if !f.AdvanceToNext() || !f.Now().Equal(start.Add(3*time.Second)) {
		t.Fatalf("AdvanceToNext moved to %v; want +3s", f.Now())
	}
	<-late.C()
	if !never.Stop() || never.Stop() {
		t.Error("Stop must report true once for a pending timer, then false")
	}
	if f.AdvanceToNext() {
		t.Error("AdvanceToNext with no pending timer must report false")
	}
	if f.NewTimer(0).Stop() {
		t.Error("a zero-duration timer has fired already; Stop must report false")
	}
}

func TestFakeSetNeverGoesBack(t *testing.T) {
	f := clock.NewFake(start)
	f.Set(start.Add(-time.Hour))
	if !f.Now().Equal(start) {
		t.Errorf("Set to the past moved the clock to %v", f.Now())
	}
}

// TestBlockUntilThenAdvance is the race-free pattern of the package doc.
func TestBlockUntilThenAdvance(t *testing.T) {
	f := clock.NewFake(start)
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make(chan error, 3)
	for range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- clock.Sleep(ctx, f, time.Hour)
		}()
	}
	if err := f.BlockUntil(ctx, 3); err != nil {
		t.Fatal(err)
	}
	f.Advance(time.Hour)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("Sleep returned %v after the clock advanced", err)
		}
	}
}

func TestSleepCancelledForgetsItsTimer(t *testing.T) {
	f := clock.NewFake(start)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- clock.Sleep(ctx, f, time.Minute) }()
	if err := f.BlockUntil(context.Background(), 1); err != nil {
		t.Fatal(err)
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("Sleep = %v; want context.Canceled", err)
	}
	if n := f.Waiters(); n != 0 {
		t.Errorf("a cancelled Sleep left %d waiters; want 0", n)
	}
}

func TestBlockUntilHonoursContext(t *testing.T) {
	f := clock.NewFake(start)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := f.BlockUntil(ctx, 1); !errors.Is(err, context.Canceled) {
		t.Errorf("BlockUntil = %v; want context.Canceled", err)
	}
}

func TestSystemClock(t *testing.T) {
	c := clock.System()
	if err := clock.Sleep(context.Background(), c, 0); err != nil {
		t.Fatal(err)
	}
	tm := c.NewTimer(time.Hour)
	if !tm.Stop() {
		t.Error("stopping a pending system timer must report true")
	}
	if c.Now().IsZero() {
		t.Error("System().Now() is zero")
	}
}

// Later is a reading of the clock: on a fake, its time; on the system
// clock, a time between readings of Now taken before and after it, that
// keeps the monotonic reading (so intervals between Later readings are
// true even when the wall clock is set).
func TestLater(t *testing.T) {
	f := clock.NewFake(start)
	f.Advance(time.Minute)
	if got := clock.Later(f, start); !got.Equal(start.Add(time.Minute)) {
		t.Errorf("Later(fake, start) = %v; want the fake's now, %v", got, start.Add(time.Minute))
	}

	c := clock.System()
	first := c.Now()
	before := c.Now()
	got := clock.Later(c, first)
	after := c.Now()
	if got.Before(before) || got.After(after) {
		t.Errorf("Later(system, t) = %v; want a time between %v and %v", got, before, after)
	}
	if !strings.Contains(got.String(), " m=") { // how time.Time shows a monotonic reading
		t.Errorf("Later(system, t) = %v dropped the monotonic reading", got)
	}
	if got := clock.Later(c, time.Time{}); got.Before(after) {
		t.Errorf("Later(system, zero) = %v; want now (after %v)", got, after)
	}
}

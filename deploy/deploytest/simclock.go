package deploytest

import (
	"cmp"
	"slices"
	"sync"
	"time"

	"github.com/fleetdeploy/fleetdeploy/deploy/clock"
)

// A simulation runs in a testing/synctest bubble, whose time moves only
// when every goroutine in it is durably blocked, and then jumps to the
// next timer. That makes every wait exact and free, but the goroutines
// that wake at one instant — a target's lifecycle event ending, the alarm
// poll, the end of a bake — would still run in whatever order the
// scheduler picks. The sequencer removes that freedom: whatever wakes
// anything in the simulation (a timer of the executor's clock, the end of
// a fleet call, a scripted action) first arrives at the sequencer and
// waits there; the bubble's root goroutine, once everything is blocked
// again (synctest.Wait), releases one waiting wake, the least by (time,
// class, key, duration, creation), lets everything it set off run until
// all is blocked again, and releases the next. Scripted actions due at T
// therefore happen before the calls and timers due at T, and the same
// scenario always runs the same way.

// Classes of wakes, in the order they are released at one instant.
const (
	wakeScript = iota // Scenario.AlarmChanges and Stops, in scenario order
	wakeCall          // the end of a fleet call, by target and event
	wakeTimer         // a timer of the executor's clock
)

// wake is one thing waiting to run at a virtual instant.
type wake struct {
	at    time.Time // the bubble's time
	class int
	key   string
	dur   time.Duration
	seq   uint64
	// action, for wakeScript, is run by the root goroutine.
	action  func()
	release chan struct{}
}

func (a *wake) compare(b *wake) int {
	return cmp.Or(a.at.Compare(b.at), cmp.Compare(a.class, b.class), cmp.Compare(a.key, b.key),
		cmp.Compare(a.dur, b.dur), cmp.Compare(a.seq, b.seq))
}

// sequencer holds the wakes that arrived and releases them one at a time.
type sequencer struct {
	mu     sync.Mutex
	seq    uint64
	ready  []*wake
	closed bool
	signal chan struct{} // capacity 1: something arrived
}

func newSequencer() *sequencer { return &sequencer{signal: make(chan struct{}, 1)} }

// newWake returns a wake due d from now.
func (s *sequencer) newWake(class int, key string, d time.Duration) *wake {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seq++
	return &wake{at: time.Now().Add(max(d, 0)), class: class, key: key, dur: d, seq: s.seq, release: make(chan struct{})}
}

// arrive queues w, whose time has come; the caller then waits for
// w.release. It returns false, and queues nothing, once the sequencer is
// closed: the caller goes on at once.
func (s *sequencer) arrive(w *wake) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	s.ready = append(s.ready, w)
	select {
	case s.signal <- struct{}{}:
	default:
	}
	return true
}

// pop removes and returns the least wake that arrived, or nil.
func (s *sequencer) pop() *wake {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.ready) == 0 {
		return nil
	}
	i := 0
	for j, w := range s.ready[1:] {
		if w.compare(s.ready[i]) < 0 {
			i = j + 1
		}
	}
	w := s.ready[i]
	s.ready = slices.Delete(s.ready, i, i+1)
	return w
}

// close releases every waiting wake and lets later ones through.
func (s *sequencer) close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	for _, w := range s.ready {
		close(w.release)
	}
	s.ready = nil
}

// seqClock is the executor's clock in a simulation: the bubble's time,
// moved by offset to the scenario's start, with timers that fire through
// the sequencer.
type seqClock struct {
	s      *sequencer
	offset time.Duration
}

var _ clock.Clock = (*seqClock)(nil)

func (c *seqClock) Now() time.Time { return time.Now().Add(c.offset) }

func (c *seqClock) NewTimer(d time.Duration) clock.Timer {
	t := &seqTimer{ch: make(chan time.Time, 1)}
	if d <= 0 {
		t.ch <- c.Now()
		return t
	}
	w := c.s.newWake(wakeTimer, "", d)
	t.af = time.AfterFunc(d, func() {
		if c.s.arrive(w) {
			<-w.release
		}
		t.ch <- w.at.Add(c.offset)
	})
	return t
}

type seqTimer struct {
	ch chan time.Time
	af *time.Timer
}

func (t *seqTimer) C() <-chan time.Time { return t.ch }

func (t *seqTimer) Stop() bool { return t.af != nil && t.af.Stop() }

package deploytest

import (
	"bytes"
	"cmp"
	"runtime"
	"slices"
	"sync"
	"time"

	"github.com/fleetdeploy/fleetdeploy/deploy/clock"
)

// simClock is the clock of a simulation: it reads the time of a FakeClock
// and keeps its own queue of timers, which the simulation fires itself, so
// that a scripted action due at T happens before the timers due at T.
type simClock struct {
	fake *FakeClock

	mu     sync.Mutex
	seq    uint64
	timers []*simTimer // pending
}

var _ clock.Clock = (*simClock)(nil)

type simTimer struct {
	c   *simClock
	at  time.Time
	seq uint64
	ch  chan time.Time
}

func (c *simClock) Now() time.Time { return c.fake.Now() }

func (c *simClock) NewTimer(d time.Duration) clock.Timer {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.seq++
	t := &simTimer{c: c, at: c.fake.Now().Add(d), seq: c.seq, ch: make(chan time.Time, 1)}
	if d <= 0 {
		t.ch <- t.at
		return t
	}
	c.timers = append(c.timers, t)
	return t
}

func (t *simTimer) C() <-chan time.Time { return t.ch }

func (t *simTimer) Stop() bool {
	t.c.mu.Lock()
	defer t.c.mu.Unlock()
	n := len(t.c.timers)
	t.c.timers = slices.DeleteFunc(t.c.timers, func(x *simTimer) bool { return x == t })
	return len(t.c.timers) != n
}

// next returns the earliest pending deadline.
func (c *simClock) next() (time.Time, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.timers) == 0 {
		return time.Time{}, false
	}
	at := c.timers[0].at
	for _, t := range c.timers[1:] {
		if t.at.Before(at) {
			at = t.at
		}
	}
	return at, true
}

// fire moves the time to at and fires the timers due, in deadline order
// (ties in creation order).
func (c *simClock) fire(at time.Time) {
	c.fake.Set(at)
	c.mu.Lock()
	var due []*simTimer
	c.timers = slices.DeleteFunc(c.timers, func(t *simTimer) bool {
		if t.at.After(at) {
			return false
		}
		due = append(due, t)
		return true
	})
	c.mu.Unlock()
	slices.SortFunc(due, func(a, b *simTimer) int { return cmp.Or(a.at.Compare(b.at), cmp.Compare(a.seq, b.seq)) })
	for _, t := range due {
		t.ch <- t.at
	}
}

// executorFrame marks a goroutine of package deploy in a stack dump (the
// dot after the package name keeps deploy/deploytest and deploy/plan out).
var executorFrame = []byte("github.com/fleetdeploy/fleetdeploy/deploy.")

// busy reports whether some goroutine running code of package deploy is
// runnable or running, judged from a dump of every goroutine's stack. A
// simulation moves its clock only when none is: every goroutine of the
// executor is then blocked — on a timer of the simulation's clock, on a
// scripted call's latency, or on one another — so that what it does next
// depends on the virtual time alone. buf is reused between calls.
func busy(buf *[]byte) bool {
	for {
		n := runtime.Stack(*buf, true)
		if n < len(*buf) {
			return dumpBusy((*buf)[:n])
		}
		*buf = make([]byte, 2*len(*buf))
	}
}

// dumpBusy is busy over a dump in the format of runtime.Stack: blocks
// "goroutine N [state]:\n<frames>" separated by blank lines.
func dumpBusy(dump []byte) bool {
	for block := range bytes.SplitSeq(dump, []byte("\n\n")) {
		if !bytes.Contains(block, executorFrame) {
			continue
		}
		open, end := bytes.IndexByte(block, '['), bytes.IndexByte(block, ']')
		if open < 0 || end < open {
			continue
		}
		state := block[open+1 : end]
		for _, s := range [][]byte{[]byte("running"), []byte("runnable"), []byte("syscall"), []byte("preempted"), []byte("GC")} {
			if bytes.HasPrefix(state, s) {
				return true
			}
		}
	}
	return false
}

// yield yields the processor.
func yield() { runtime.Gosched() }

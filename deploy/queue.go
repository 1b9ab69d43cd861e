package deploy

import "sync/atomic"

// itemQueue is the runner's queue of work handed out and not yet taken:
// a ring, first in first out. It grows only when more items are queued at
// once than it holds; the planner's window bounds that, and the runner
// makes it that large before it starts (reserve), so that a window of
// 50,000 targets is not grown through a dozen copies.
type itemQueue struct {
	buf  []item
	head int // where the first item is
	n    int // how many items are queued
	// size is n for readers that do not hold the lock the queue is
	// used under (sharedLen).
	size atomic.Int32
}

// len returns how many items are queued.
func (q *itemQueue) len() int { return q.n }

// sharedLen returns how many items are queued, for a reader that does not
// hold the lock the queue is used under: the count as of the last change,
// which may since have changed.
func (q *itemQueue) sharedLen() int { return int(q.size.Load()) }

// setLen sets how many items are queued.
func (q *itemQueue) setLen(n int) {
	q.n = n
	q.size.Store(int32(n))
}

// reserve makes room for n items in all.
func (q *itemQueue) reserve(n int) {
	if n <= len(q.buf) {
		return
	}
	buf := make([]item, n)
	k := copy(buf, q.buf[q.head:min(q.head+q.n, len(q.buf))])
	copy(buf[k:], q.buf[:q.n-k])
	q.buf, q.head = buf, 0
}

// push queues items, in order.
func (q *itemQueue) push(items []item) {
	if q.n+len(items) > len(q.buf) {
		q.reserve(max(2*len(q.buf), q.n+len(items), 64))
	}
	tail := (q.head + q.n) % len(q.buf)
	k := copy(q.buf[tail:], items)
	copy(q.buf, items[k:])
	q.setLen(q.n + len(items))
}

// pop removes the first item and returns it; the queue must not be
// empty.
func (q *itemQueue) pop() item {
	it := q.buf[q.head]
	q.buf[q.head] = item{} // drop its step, if any
	q.head = (q.head + 1) % len(q.buf)
	q.setLen(q.n - 1)
	return it
}

// popInto removes the first k items, of which the queue must hold at
// least k, appends them to dst, and returns it.
func (q *itemQueue) popInto(dst []item, k int) []item {
	for range k {
		dst = append(dst, q.pop())
	}
	return dst
}

// pushFront puts items back at the front of the queue, in order, ahead of
// what is queued: items taken from the front that were not run.
func (q *itemQueue) pushFront(items []item) {
	if q.n+len(items) > len(q.buf) {
		q.reserve(max(2*len(q.buf), q.n+len(items), 64))
	}
	q.head = (q.head - len(items)%len(q.buf) + len(q.buf)) % len(q.buf)
	k := copy(q.buf[q.head:], items)
	copy(q.buf, items[k:])
	q.setLen(q.n + len(items))
}

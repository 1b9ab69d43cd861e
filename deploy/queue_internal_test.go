package deploy

import (
	"slices"
	"testing"
)

// TestItemQueue pushes and pops through the ring's end and through growth:
// items come out in the order they went in, none lost or repeated.
func TestItemQueue(t *testing.T) {
	var q itemQueue
	q.reserve(5)
	var want, got []int32
	next := int32(0)
	push := func(k int) {
		items := make([]item, k)
		for j := range items {
			items[j] = item{i: next}
			want = append(want, next)
			next++
		}
		q.push(items)
	}
	pop := func(k int) {
		for range k {
			got = append(got, q.pop().i)
		}
	}
	push(3)
	pop(2)
	push(3) // wraps around the end of the 5 slots
	if q.head+q.len() <= len(q.buf) {
		t.Fatalf("head %d, len %d in %d slots: the queue does not wrap", q.head, q.len(), len(q.buf))
	}
	push(6) // grows while wrapped
	if q.len() != 10 {
		t.Fatalf("len %d; want 10", q.len())
	}
	pop(10)
	push(100)
	pop(100)
	if q.len() != 0 || !slices.Equal(got, want) {
		t.Fatalf("popped %v (len %d left); want %v", got, q.len(), want)
	}
}

// TestItemQueuePushFront puts items back at the front — through the ring's
// start and through growth — and they come out first, in order, ahead of
// what was queued, whether popped one by one or several at once
// (popInto); sharedLen follows every change.
func TestItemQueuePushFront(t *testing.T) {
	items := func(ids ...int32) []item {
		out := make([]item, len(ids))
		for k, id := range ids {
			out[k] = item{i: id}
		}
		return out
	}
	var q itemQueue
	q.reserve(6)
	q.push(items(1, 2, 3, 4))
	q.pop()
	q.pop()
	q.pushFront(items(10, 11, 12)) // wraps around the start of the 6 slots
	q.pushFront(items(20, 21, 22)) // grows
	if q.len() != 8 || q.sharedLen() != 8 {
		t.Fatalf("len %d, shared %d; want 8", q.len(), q.sharedLen())
	}
	var got []int32
	for _, it := range q.popInto(nil, 3) {
		got = append(got, it.i)
	}
	for q.len() > 0 {
		got = append(got, q.pop().i)
	}
	if want := []int32{20, 21, 22, 10, 11, 12, 3, 4}; !slices.Equal(got, want) {
		t.Errorf("popped %v; want %v", got, want)
	}
	if q.sharedLen() != 0 {
		t.Errorf("shared len %d once empty; want 0", q.sharedLen())
	}
}

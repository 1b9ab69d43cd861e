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

package deploy

import (
	"runtime"
	"sync"
	"testing"
)

// forChunks covers [0, n) exactly once, in at most GOMAXPROCS chunks of
// at least minChunk items, and uses more than one when there are cores and
// items enough.
func TestForChunks(t *testing.T) {
	for _, n := range []int{0, 1, minChunk - 1, 2*minChunk - 1, 2 * minChunk, 5*minChunk + 3} {
		seen := make([]int32, n)
		var mu sync.Mutex
		var chunks [][2]int
		forChunks(n, func(lo, hi int) {
			for i := lo; i < hi; i++ {
				seen[i]++ // each chunk writes only its own items
			}
			mu.Lock()
			chunks = append(chunks, [2]int{lo, hi})
			mu.Unlock()
		})
		for i, c := range seen {
			if c != 1 {
				t.Fatalf("n=%d: item %d visited %d times; want once", n, i, c)
			}
		}
		procs := runtime.GOMAXPROCS(0)
		if len(chunks) > procs {
			t.Errorf("n=%d: %d chunks %v; want at most GOMAXPROCS (%d)", n, len(chunks), chunks, procs)
		}
		if procs > 1 && n >= 2*minChunk && len(chunks) < 2 {
			t.Errorf("n=%d: one chunk with %d procs; room for two of minChunk should use two", n, procs)
		}
		for _, c := range chunks {
			if len(chunks) > 1 && c[1]-c[0] < minChunk {
				t.Errorf("n=%d: chunk %v is smaller than minChunk", n, c)
			}
		}
	}
}

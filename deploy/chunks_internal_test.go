package deploy

import (
	"runtime"
	"sync"
	"testing"
)

// forChunks covers [0, n) exactly once, in chunks of at least minChunk
// items, and uses more than one goroutine when there are cores and items
// enough.
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
		want := max(1, min(runtime.GOMAXPROCS(0), n/minChunk))
		if len(chunks) != want {
			t.Errorf("n=%d: %d chunks %v; want %d (GOMAXPROCS %d)", n, len(chunks), chunks, want, runtime.GOMAXPROCS(0))
		}
		for _, c := range chunks {
			if len(chunks) > 1 && c[1]-c[0] < minChunk {
				t.Errorf("n=%d: chunk %v is smaller than minChunk", n, c)
			}
		}
	}
}

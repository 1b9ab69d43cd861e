package deploy

import (
	"runtime"
	"sync"
)

// minChunk is the fewest items forChunks hands a goroutine: below it,
// starting one costs more than the work it takes over.
const minChunk = 16 << 10

// forChunks calls do for consecutive chunks [lo, hi) that cover [0, n),
// concurrently on up to GOMAXPROCS goroutines when n is large enough to be
// worth it (minChunk items a chunk at least), and returns once every call
// has. The calls must touch only their own chunk of whatever they share.
// The runner uses it for the passes over the whole fleet that run while no
// lifecycle event does (loading the targets, building the planner's input,
// the instance records at the end), which would otherwise leave all cores
// but one idle.
func forChunks(n int, do func(lo, hi int)) {
	forParts(n, chunkParts(n), do)
}

// chunkParts returns how many goroutines forChunks shares n items among.
func chunkParts(n int) int {
	return max(min(runtime.GOMAXPROCS(0), n/minChunk), 1)
}

// forParts is forChunks with the number of chunks given: parts (at least
// 1, at most n) goroutines, one of them the caller's.
func forParts(n, parts int, do func(lo, hi int)) {
	if parts <= 1 {
		do(0, n)
		return
	}
	var wg sync.WaitGroup
	for p := range parts {
		lo, hi := p*n/parts, (p+1)*n/parts
		if p == parts-1 {
			do(lo, hi) // this goroutine takes the last chunk
			break
		}
		wg.Go(func() { do(lo, hi) })
	}
	wg.Wait()
}

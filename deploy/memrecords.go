package deploy

import (
	"hash/maphash"
	"maps"
	"math/bits"
	"sync"
	"sync/atomic"
)

// targetRecords holds the target records of one memDeployment so that
// writes to different records never wait for each other: each record has
// its own lock, and records never move once stored, so that a writer needs
// no lock on the whole deployment to find one.
//
// Records live in segments that double in size (16, 32, 64, … records),
// listed in a directory that is replaced, never changed, when it grows.
// Appending (PutTargets) happens under memDeployment.mu: records are
// written past the published count, then published at once with it, so
// that readers see all of an append or none of it. Reading record i needs
// only i < published() and the record's own lock.
//
// A lock per record rather than one per deployment matters with many
// workers: under one shared lock, goroutines that wait for it queue up
// behind each other in the scheduler (a lock convoy), and the whole fleet
// moves at the speed of one context switch per write.
type targetRecords struct {
	dir   atomic.Pointer[[][]memRecord] // segments; replaced under memDeployment.mu
	count atomic.Int64                  // records published
	slabs [eventShards]slabShard        // newEvents' current slabs
}

// eventShards is how many slabs newEvents cuts events from at once, by
// record: neighbouring records are written at the same moment by workers
// on different cores, and events cut for both from one slab would share
// its counter's cache line and their own (false sharing).
const eventShards = 8

// slabShard is one of newEvents' current slabs, on a cache line of its
// own.
type slabShard struct {
	p atomic.Pointer[eventSlab]
	_ [56]byte
}

// memRecord is one stored target record and its lock.
type memRecord struct {
	mu sync.Mutex
	memTarget
}

// firstSegment is the size of the first segment; segment s holds
// firstSegment << s records.
const firstSegment = 16

// locate returns the segment and the offset in it of record i.
func locate(i int) (seg, off int) {
	j := i/firstSegment + 1
	seg = bits.Len(uint(j)) - 1
	return seg, i - firstSegment*(1<<seg-1)
}

// published returns how many records are stored.
func (r *targetRecords) published() int { return int(r.count.Load()) }

// at returns record i, which must be below published(), or below the
// capacity reserve made, for the appender.
func (r *targetRecords) at(i int) *memRecord {
	seg, off := locate(i)
	return &(*r.dir.Load())[seg][off]
}

// reserve makes room for n records in all. It must be called with
// memDeployment.mu held.
func (r *targetRecords) reserve(n int) {
	var dir [][]memRecord
	if p := r.dir.Load(); p != nil {
		dir = *p
	}
	if n == 0 {
		return
	}
	last, _ := locate(n - 1)
	if last < len(dir) {
		return
	}
	grown := make([][]memRecord, last+1)
	copy(grown, dir)
	for s := len(dir); s <= last; s++ {
		grown[s] = make([]memRecord, firstSegment<<s)
	}
	r.dir.Store(&grown)
}

// publish makes the first n records visible. It must be called with
// memDeployment.mu held, after the records are written.
func (r *targetRecords) publish(n int) { r.count.Store(int64(n)) }

// eventSlabSize is how many events newEvents allocates at once.
const eventSlabSize = 4096

// eventSlab is a block of packed events that newEvents hands out in
// pieces; used counts what was handed out (it may pass len(evs): those
// claims failed).
type eventSlab struct {
	evs  []memEvent
	used atomic.Int64
}

// newEvents returns room for n packed events of record i (any int: it
// only picks the slab), cut from a
// shared slab so that a million targets do not cost a million
// allocations. It takes no lock: claims are an atomic addition, and a
// full slab is replaced by the first writer that finds it full.
func (r *targetRecords) newEvents(i, n int) []memEvent {
	if n > eventSlabSize/8 {
		return make([]memEvent, n)
	}
	shard := &r.slabs[uint(i)%eventShards].p
	for {
		sl := shard.Load()
		if sl != nil {
			if end := int(sl.used.Add(int64(n))); end <= len(sl.evs) {
				return sl.evs[end-n : end : end]
			}
		}
		shard.CompareAndSwap(sl, &eventSlab{evs: make([]memEvent, eventSlabSize)})
	}
}

// targetIndex maps the target IDs of one memDeployment to their records'
// positions, so that a write finds its record without a lock shared by
// every writer: most lookups read frozen, a map never changed once
// published. Targets put since the last merge are in recent, under
// memDeployment.mu; once recent holds a quarter as many as frozen, the
// two are merged into a new frozen map (so each target is copied O(1)
// times, amortized). A deployment's first PutTargets becomes frozen as
// it is, without a copy.
//
// Beside the frozen map, guesses holds its positions in a compact table
// for the writers (memDeployment.record), which check a guess against
// the record they lock anyway: a probe there reads one cache line, where
// a lookup in a map of a hundred thousand IDs misses the cache two or
// three times, and a write that is not told its record's position
// (UpdateTarget, rather than UpdateTargetAt) made one such lookup.
type targetIndex struct {
	frozen atomic.Pointer[map[string]int]
	// guesses is the table of frozen's positions, published before
	// frozen; nil when there are too many targets for it.
	guesses atomic.Pointer[posTable]
	recent  map[string]int // under memDeployment.mu
}

// posTable is an open-addressing table, never changed once made, of a
// map from target IDs to positions: each slot holds the high half of an
// ID's hash and its position plus one (0: empty). It stores no IDs: a
// position it gives is a guess that the caller checks against the
// record there (next).
type posTable struct {
	seed  maphash.Seed
	slots []uint64
	mask  uint64
}

// newPosTable returns the table of m, or nil when m holds positions
// that do not fit a slot.
func newPosTable(m map[string]int) *posTable {
	if len(m) >= 1<<30 {
		return nil
	}
	size := 1 << bits.Len(uint(2*len(m))) // at most half full
	t := &posTable{seed: maphash.MakeSeed(), slots: make([]uint64, size), mask: uint64(size - 1)}
	for id, i := range m {
		if i < 0 || i >= 1<<32-1 {
			return nil
		}
		h := maphash.String(t.seed, id)
		j := h & t.mask
		for t.slots[j] != 0 {
			j = (j + 1) & t.mask
		}
		t.slots[j] = h>>32<<32 | uint64(i+1)
	}
	return t
}

// posProbe walks the slots of one ID in a posTable.
type posProbe struct {
	t   *posTable
	tag uint64
	j   uint64
}

// probe starts a walk over the slots of id.
func (t *posTable) probe(id string) posProbe {
	h := maphash.String(t.seed, id)
	return posProbe{t: t, tag: h >> 32, j: h & t.mask}
}

// next returns the next position that may be id's, or false when there
// is none left.
func (p *posProbe) next() (int, bool) {
	for {
		e := p.t.slots[p.j]
		if e == 0 {
			return 0, false
		}
		p.j = (p.j + 1) & p.t.mask
		if e>>32 == p.tag {
			return int(uint32(e)) - 1, true
		}
	}
}

// lookup returns the position of target id, taking mu (memDeployment.mu)
// only when id is not in the frozen map.
func (x *targetIndex) lookup(mu *sync.Mutex, id string) (int, bool) {
	if i, ok := x.frozenAt(id); ok {
		return i, true
	}
	mu.Lock()
	defer mu.Unlock()
	return x.at(id) // frozen again: recent may have been merged meanwhile
}

// frozenAt returns the position of target id in the frozen map.
func (x *targetIndex) frozenAt(id string) (int, bool) {
	if f := x.frozen.Load(); f != nil {
		i, ok := (*f)[id]
		return i, ok
	}
	return 0, false
}

// at returns the position of target id. memDeployment.mu is held.
func (x *targetIndex) at(id string) (int, bool) {
	if i, ok := x.frozenAt(id); ok {
		return i, true
	}
	i, ok := x.recent[id]
	return i, ok
}

// has reports whether target id is indexed. memDeployment.mu is held.
func (x *targetIndex) has(id string) bool {
	_, ok := x.at(id)
	return ok
}

// add indexes target id at position i; sizeHint is how many targets the
// caller is adding. memDeployment.mu is held.
func (x *targetIndex) add(id string, i, sizeHint int) {
	if x.recent == nil {
		x.recent = make(map[string]int, sizeHint)
	}
	x.recent[id] = i
}

// drop removes target id, added since the last settle. memDeployment.mu
// is held.
func (x *targetIndex) drop(id string) { delete(x.recent, id) }

// settle merges recent into a new frozen map when it has grown enough
// (see targetIndex). It must be called with memDeployment.mu held, after
// the records recent points to are published.
func (x *targetIndex) settle() {
	var frozen map[string]int
	if f := x.frozen.Load(); f != nil {
		frozen = *f
	}
	if len(x.recent) == 0 || 4*len(x.recent) < len(frozen) {
		return
	}
	merged := x.recent
	if len(frozen) > 0 {
		merged = make(map[string]int, len(frozen)+len(x.recent))
		maps.Copy(merged, frozen)
		maps.Copy(merged, x.recent)
	}
	x.guesses.Store(newPosTable(merged))
	x.frozen.Store(&merged)
	x.recent = nil
}

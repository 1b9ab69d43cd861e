package deploy

import (
	"context"
	"fmt"
	"hash/maphash"
	"slices"
	"strings"
	"sync"

	"github.com/fleetdeploy/fleetdeploy/health"
	"github.com/fleetdeploy/fleetdeploy/revision"
)

// memInstance is an InstanceRecord of a MemoryStore, without its keys.
type memInstance struct {
	rev     *revision.Location // shared, never mutated
	version int64
	health  uint16
}

// instanceShards is how many maps hold a group's instance records, split
// by a hash of the target ID (MemoryStore.shardOf). A deployment ends by
// writing the records of its whole fleet in one PutInstances: the shards
// are filled by several goroutines at once (a map takes one writer).
const instanceShards = 64

// memInstances are the instance records of one group.
type memInstances struct {
	shards [instanceShards]map[string]memInstance
}

// shardOf returns the shard of target id's instance record.
func (s *MemoryStore) shardOf(id string) uint8 {
	return uint8(maphash.String(s.seed, id) >> 58) // the top 6 bits: 0 to 63
}

// get returns the record of target id, which is in shard sh; g may be
// nil (a group without records).
func (g *memInstances) get(sh uint8, id string) (memInstance, bool) {
	if g == nil {
		return memInstance{}, false
	}
	mi, ok := g.shards[sh][id]
	return mi, ok
}

// len returns the number of records.
func (g *memInstances) len() int {
	n := 0
	if g != nil {
		for _, m := range g.shards {
			n += len(m)
		}
	}
	return n
}

// GetInstances implements InstanceStore.
func (s *MemoryStore) GetInstances(ctx context.Context, groupID string) ([]InstanceRecord, error) {
	if err := ctxErr(ctx, "deployment group", groupID); err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	g := s.instances[groupID]
	out := make([]InstanceRecord, 0, g.len())
	if g == nil {
		return out, nil
	}
	for _, m := range g.shards {
		for id, mi := range m {
			out = append(out, s.decodeInstance(groupID, id, mi))
		}
	}
	slices.SortFunc(out, func(a, b InstanceRecord) int { return strings.Compare(a.TargetID, b.TargetID) })
	return out, nil
}

// GetInstance implements InstanceStore.
func (s *MemoryStore) GetInstance(ctx context.Context, groupID, targetID string) (*InstanceRecord, error) {
	key := groupID + "/" + targetID
	if err := ctxErr(ctx, "instance record", key); err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	mi, ok := s.instances[groupID].get(s.shardOf(targetID), targetID)
	if !ok {
		return nil, recErr("instance record", key, ErrNotFound)
	}
	r := s.decodeInstance(groupID, targetID, mi)
	return &r, nil
}

// GetInstancesByID implements InstanceBatchGetter: the records are read
// in place, by chunks on several goroutines at once, and records of one
// stored revision share one copy of it (per chunk).
func (s *MemoryStore) GetInstancesByID(ctx context.Context, groupID string, targetIDs []string) ([]InstanceRecord, error) {
	if err := ctxErr(ctx, "deployment group", groupID); err != nil {
		return nil, err
	}
	recs := make([]InstanceRecord, len(targetIDs))
	forChunks(len(recs), func(lo, hi int) {
		s.mu.RLock()
		defer s.mu.RUnlock()
		g := s.instances[groupID]
		if g == nil {
			return
		}
		strs := s.tab.strings()
		var stored, copied *revision.Location // the stored revision copied last
		for i := lo; i < hi; i++ {
			tid := targetIDs[i]
			mi, ok := g.get(s.shardOf(tid), tid)
			if !ok {
				continue
			}
			if mi.rev != stored {
				stored, copied = mi.rev, cloneLocationPtr(mi.rev)
			}
			recs[i] = InstanceRecord{GroupID: groupID, TargetID: tid, InstanceHealth: health.InstanceHealth(strs[mi.health]),
				Revision: copied, Version: mi.version}
		}
	})
	return recs, nil
}

var _ InstanceBatchGetter = (*MemoryStore)(nil)

// PutInstances implements InstanceStore.
func (s *MemoryStore) PutInstances(ctx context.Context, records []InstanceRecord) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("deploy: put instance records: %w", err)
	}
	// A batch nearly always holds one group's records; keys are formatted
	// only for errors.
	oneGroup := true
	for i := range records {
		r := &records[i]
		if r.GroupID == "" || r.TargetID == "" {
			return invalid("instance record", r.GroupID+"/"+r.TargetID, "records[%d]: deploymentGroupId and targetId are required", i)
		}
		oneGroup = oneGroup && r.GroupID == records[0].GroupID
	}
	if len(records) == 0 {
		return nil
	}
	packed := make([]memInstance, len(records))
	var h uint16
	for i := range records {
		var ok bool
		if h, ok = s.tab.idHint(string(records[i].InstanceHealth), h); !ok {
			return invalid("instance record", records[i].GroupID+"/"+records[i].TargetID, "the memory store holds at most %d distinct health values", maxInterned)
		}
		packed[i].health = h
	}
	shard := make([]uint8, len(records))
	forChunks(len(records), func(lo, hi int) {
		for i := lo; i < hi; i++ {
			shard[i] = s.shardOf(records[i].TargetID)
		}
	})
	// The records of each group, by shard; then every group's batch is
	// checked before any is stored, so that a failed call changes nothing.
	var batches []*shardedBatch
	if oneGroup {
		batches = []*shardedBatch{newShardedBatch(records[0].GroupID, nil, shard)}
	} else {
		byGroup := map[string][]int32{}
		var groups []string
		for i := range records {
			gid := records[i].GroupID
			if _, ok := byGroup[gid]; !ok {
				groups = append(groups, gid)
			}
			byGroup[gid] = append(byGroup[gid], int32(i))
		}
		for _, gid := range groups {
			batches = append(batches, newShardedBatch(gid, byGroup[gid], shard))
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.packRevisions(records, packed)
	for _, b := range batches {
		if err := b.check(s.instances[b.group], records, packed, s.fleetSize(b.group)/instanceShards); err != nil {
			return err
		}
	}
	for _, b := range batches {
		g := s.instances[b.group]
		if g == nil {
			g = &memInstances{}
			s.instances[b.group] = g
		}
		b.store(g, records, packed)
	}
	return nil
}

// fleetSize returns how many targets the latest deployment of group
// groupID has: how many instance records the group will likely hold, so
// that a group's first records — which the Executor writes a batch at a
// time — go into maps made large enough for all of them, rather than
// maps that grow by doubling batch after batch. s.mu is held.
func (s *MemoryStore) fleetSize(groupID string) int {
	deps := s.groupDeps[s.groupIDs[groupID]]
	if len(deps) == 0 {
		return 0
	}
	// A shard holds about 1/instanceShards of the records, give or take
	// the hash: an eighth more leaves room for that.
	return deps[len(deps)-1].recs.published() * 9 / 8
}

// shardedBatch is the records of one group in a PutInstances batch, by
// shard: the indexes of shard sh's records, in increasing order, are
// order[starts[sh]:starts[sh+1]].
type shardedBatch struct {
	group  string
	order  []int32
	starts [instanceShards + 1]int32
	// fresh holds, for each shard that had no records, its new map,
	// made by check and stored by store.
	fresh [instanceShards]map[string]memInstance
}

// newShardedBatch sorts group's records at idx (nil: all of them) by
// their shards.
func newShardedBatch(group string, idx []int32, shard []uint8) *shardedBatch {
	b := &shardedBatch{group: group}
	n := len(idx)
	if idx == nil {
		n = len(shard)
	}
	at := func(k int) int32 {
		if idx != nil {
			return idx[k]
		}
		return int32(k)
	}
	for k := range n {
		b.starts[shard[at(k)]+1]++
	}
	for sh := 1; sh <= instanceShards; sh++ {
		b.starts[sh] += b.starts[sh-1]
	}
	next := b.starts
	b.order = make([]int32, n)
	for k := range n {
		i := at(k)
		b.order[next[shard[i]]] = i
		next[shard[i]]++
	}
	return b
}

// forShards calls do for consecutive ranges of shards, concurrently when
// the batch is large enough to be worth it (see forChunks), and returns
// once every call has.
func (b *shardedBatch) forShards(do func(lo, hi int)) {
	forParts(instanceShards, min(chunkParts(len(b.order)), instanceShards), do)
}

// check reports the first duplicate key of the batch, if any. g is the
// group's stored records (nil: none); a shard without records gets a new
// map, made for at least perShard records, with the batch's records in it
// (their versions 1), which store then stores. It changes nothing stored.
func (b *shardedBatch) check(g *memInstances, records []InstanceRecord, packed []memInstance, perShard int) error {
	var (
		mu  sync.Mutex
		dup = int32(len(records)) // the first record whose key came before
	)
	b.forShards(func(lo, hi int) {
		d := int32(len(records))
		for sh := lo; sh < hi; sh++ {
			idx := b.order[b.starts[sh]:b.starts[sh+1]]
			if len(idx) == 0 {
				continue
			}
			var cur map[string]memInstance
			if g != nil {
				cur = g.shards[sh]
			}
			// A shard without records gets the batch's as its new map,
			// made here, where a duplicate shows as a map that did not
			// grow; in the others the batch's keys are compared with
			// each other.
			if len(cur) == 0 {
				fresh := make(map[string]memInstance, max(len(idx), perShard))
				for k, i := range idx {
					packed[i].version = 1
					if fresh[records[i].TargetID] = packed[i]; len(fresh) != k+1 {
						d = min(d, i)
						break
					}
				}
				b.fresh[sh] = fresh
				continue
			}
			if k := firstRepeat(records, idx); k >= 0 {
				d = min(d, idx[k])
			}
		}
		mu.Lock()
		dup = min(dup, d)
		mu.Unlock()
	})
	if int(dup) < len(records) {
		id := records[dup].TargetID
		first := slices.IndexFunc(records, func(r InstanceRecord) bool { return r.GroupID == b.group && r.TargetID == id })
		return dupInstance(records, first, int(dup))
	}
	return nil
}

// firstRepeat returns the first k such that the target ID of records[idx[k]]
// is that of an earlier one, or -1. A shard's part of a batch is usually
// small: its IDs are compared with each other rather than put in a set.
func firstRepeat(records []InstanceRecord, idx []int32) int {
	if len(idx) <= 32 {
		for k := 1; k < len(idx); k++ {
			id := records[idx[k]].TargetID
			for _, j := range idx[:k] {
				if records[j].TargetID == id {
					return k
				}
			}
		}
		return -1
	}
	seen := make(map[string]struct{}, len(idx))
	for k, i := range idx {
		if seen[records[i].TargetID] = struct{}{}; len(seen) != k+1 {
			return k
		}
	}
	return -1
}

// store stores the checked batch in g and sets the records' versions:
// those of a shard check made a new map for are set; the others' are one
// more than the stored record's, or 1, looked up as each is stored.
func (b *shardedBatch) store(g *memInstances, records []InstanceRecord, packed []memInstance) {
	b.forShards(func(lo, hi int) {
		for sh := lo; sh < hi; sh++ {
			idx := b.order[b.starts[sh]:b.starts[sh+1]]
			if fresh := b.fresh[sh]; fresh != nil {
				g.shards[sh] = fresh
			} else if len(idx) > 0 {
				m := g.shards[sh]
				for _, i := range idx {
					id := records[i].TargetID
					packed[i].version = m[id].version + 1 // 1 for a new record
					m[id] = packed[i]
				}
			}
			for _, i := range idx {
				records[i].Version = packed[i].version
			}
		}
	})
}

// packRevisions sets the revision of packed[i] to the interned copy of
// records[i]'s. Interning changes no record: the table is a cache of
// shared, never-mutated copies, so a call that fails afterwards leaves
// the store's contents as they were. s.mu is held.
func (s *MemoryStore) packRevisions(records []InstanceRecord, packed []memInstance) {
	var (
		lastIn  *revision.Location // records of a batch often share one revision
		lastKey locKey
		lastOut *revision.Location
	)
	for i := range records {
		r := &records[i]
		switch {
		case r.Revision == nil:
			packed[i].rev = nil
		case r.Revision == lastIn:
			packed[i].rev = lastOut
		default:
			if k := newLocKey(r.Revision); lastOut == nil || k != lastKey {
				lastKey, lastOut = k, s.internRevision(k, r.Revision)
			}
			lastIn = r.Revision
			packed[i].rev = lastOut
		}
	}
}

// dupInstance is PutInstances' error for records[j] and records[i], which
// have the same key.
func dupInstance(records []InstanceRecord, j, i int) error {
	r := &records[i]
	return invalid("instance record", r.GroupID+"/"+r.TargetID, "records[%d] and records[%d] have the same key", j, i)
}

func (s *MemoryStore) decodeInstance(groupID, targetID string, mi memInstance) InstanceRecord {
	return InstanceRecord{
		GroupID:        groupID,
		TargetID:       targetID,
		InstanceHealth: health.InstanceHealth(s.tab.str(mi.health)),
		Revision:       cloneLocationPtr(mi.rev),
		Version:        mi.version,
	}
}

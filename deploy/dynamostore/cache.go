package dynamostore

import (
	"slices"
	"sync"
)

// cache holds what a handle learned that never changes once true, so
// that it need not read it again: the committed target batches of each
// deployment (a list that only grows), and the packed target records of
// committed batches (written once by PutTargets, never changed: a
// target's later versions are its own item). Entries are never wrong,
// only missing: a handle that misses one reads the table.
type cache struct {
	mu      sync.Mutex
	batches map[string][]string      // deployment → committed batches, a prefix of the stored list
	recs    map[string]*batchRecords // deployment \x00 batch → its records known
	nRecs   int                      // records in recs
	max     int                      // most records in recs
}

// batchRecords is what a handle knows of a committed batch's records.
type batchRecords struct {
	buckets map[int]map[string]packed // bucket → target ID → record
	all     []packed                  // every record by position, once all buckets were read at once
}

func (c *cache) init(max int) {
	c.batches = map[string][]string{}
	c.recs = map[string]*batchRecords{}
	c.max = max
}

// maxBatchDeployments bounds the deployments whose batches are cached.
const maxBatchDeployments = 4096

// committed returns the batches of deployment id known to be committed.
func (c *cache) committed(id string) []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.batches[id]
}

// learn records that bs are deployment id's committed batches (as read
// from its head item).
func (c *cache) learn(id string, bs []string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(bs) <= len(c.batches[id]) {
		return
	}
	if _, ok := c.batches[id]; !ok && len(c.batches) >= maxBatchDeployments {
		clear(c.batches) // rare: start over rather than track use
	}
	c.batches[id] = slices.Clone(bs)
}

// bucket returns the records of bucket i of committed batch b of
// deployment id, by target ID, if known.
func (c *cache) bucket(id, b string, i int) (map[string]packed, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	br := c.recs[id+"\x00"+b]
	if br == nil {
		return nil, false
	}
	m, ok := br.buckets[i]
	return m, ok
}

// all returns every record of committed batch b of deployment id, by
// position, if known.
func (c *cache) all(id, b string) []packed {
	c.mu.Lock()
	defer c.mu.Unlock()
	if br := c.recs[id+"\x00"+b]; br != nil {
		return br.all
	}
	return nil
}

// room makes room for n more records, and reports whether they fit.
// The caller holds mu.
func (c *cache) room(n int) bool {
	if c.nRecs+n > c.max {
		clear(c.recs) // rare: start over rather than track use
		c.nRecs = 0
	}
	return n <= c.max
}

// entry returns the entry of batch b of deployment id, made if new. The
// caller holds mu.
func (c *cache) entry(id, b string) *batchRecords {
	k := id + "\x00" + b
	br := c.recs[k]
	if br == nil {
		br = &batchRecords{buckets: map[int]map[string]packed{}}
		c.recs[k] = br
	}
	return br
}

// putBucket records the records recs of bucket i of committed batch b of
// deployment id.
func (c *cache) putBucket(id, b string, i int, recs []packed) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.room(len(recs)) {
		return
	}
	br := c.entry(id, b)
	if _, ok := br.buckets[i]; ok {
		return
	}
	m := make(map[string]packed, len(recs))
	for _, r := range recs {
		m[r.T] = r
	}
	br.buckets[i] = m
	c.nRecs += len(recs)
}

// putAll records every record of committed batch b of deployment id, in
// buckets of n, sorted by position.
func (c *cache) putAll(id, b string, n int, all []packed) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.room(2 * len(all)) {
		return
	}
	br := c.entry(id, b)
	if br.all != nil {
		return
	}
	for _, m := range br.buckets {
		c.nRecs -= len(m)
	}
	br.all = all
	br.buckets = make(map[int]map[string]packed, n)
	for i := range n {
		br.buckets[i] = map[string]packed{}
	}
	for _, r := range all {
		br.buckets[bucketOf(r.T, n)][r.T] = r
	}
	c.nRecs += 2 * len(all)
}

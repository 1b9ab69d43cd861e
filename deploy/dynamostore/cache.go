package dynamostore

import (
	"slices"
	"sync"
)

// cache holds what a handle learned that never changes once true, so
// that it need not read it again: the committed target batches of each
// deployment (a list that only grows), and, for deployments with more
// than one batch, which batch each target is in. Entries are never
// wrong, only missing: a handle that misses one reads the table.
type cache struct {
	mu      sync.Mutex
	batches map[string][]string       // deployment → committed batches, a prefix of the stored list
	where   map[string]map[string]int // deployment → target → index in batches
	nWhere  int                       // entries in where
	max     int                       // most entries in where
}

func (c *cache) init(max int) {
	c.batches = map[string][]string{}
	c.where = map[string]map[string]int{}
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

// locate returns the index of the batch target tid of deployment id is
// in, if known.
func (c *cache) locate(id, tid string) (int, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	i, ok := c.where[id][tid]
	return i, ok
}

// place records that the targets tids of deployment id are in batch i.
func (c *cache) place(id string, i int, tids ...string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.nWhere+len(tids) > c.max {
		clear(c.where)
		c.nWhere = 0
		if len(tids) > c.max {
			return
		}
	}
	m := c.where[id]
	if m == nil {
		m = map[string]int{}
		c.where[id] = m
	}
	for _, t := range tids {
		if _, ok := m[t]; !ok {
			c.nWhere++
		}
		m[t] = i
	}
}

package deploy

import "github.com/fleetdeploy/fleetdeploy/target"

// memSnapshot is a MemoryStore's target snapshot (target.Target). Its
// tags are a list of pairs, never changed once stored and shared by
// records whose tags are equal, so that comparing a caller's snapshot
// with a stored one — which every UpdateTarget does — looks the caller's
// tags up rather than ranging over a map.
type memSnapshot struct {
	id, zone, asg string
	tags          *[]tagPair // nil: no tags
	onPremises    bool
	unavailable   bool
}

// tagPair is one stored tag.
type tagPair struct{ k, v string }

// newSnapshot returns the stored form of t, sharing like's tags (like may
// be nil) when they are t's.
func newSnapshot(t *target.Target, like *memSnapshot) memSnapshot {
	s := memSnapshot{id: t.ID, zone: t.Zone, asg: t.AutoScalingGroup, onPremises: t.OnPremises, unavailable: t.Unavailable}
	switch {
	case len(t.Tags) == 0:
	case like != nil && like.tags != nil && tagsAre(like.tags, t.Tags):
		s.tags = like.tags
	default:
		pairs := make([]tagPair, 0, len(t.Tags))
		for k, v := range t.Tags {
			pairs = append(pairs, tagPair{k, v})
		}
		s.tags = &pairs
	}
	return s
}

// is reports whether t is the snapshot s, comparing the cheap fields
// first.
func (s *memSnapshot) is(t *target.Target) bool {
	return s.id == t.ID && s.zone == t.Zone && s.asg == t.AutoScalingGroup && s.onPremises == t.OnPremises &&
		s.unavailable == t.Unavailable && tagsAre(s.tags, t.Tags)
}

// tagsAre reports whether the stored tags p (nil: none) are m.
func tagsAre(p *[]tagPair, m map[string]string) bool {
	if p == nil {
		return len(m) == 0
	}
	if len(*p) != len(m) {
		return false
	}
	for _, kv := range *p {
		if v, ok := m[kv.k]; !ok || v != kv.v {
			return false
		}
	}
	return true
}

// target returns the snapshot as a target.Target with tags, when it has
// any, from tags: a new map, or the decoder's copy (see tagCopies).
func (s *memSnapshot) target(tags *tagCopies) target.Target {
	t := target.Target{ID: s.id, Zone: s.zone, AutoScalingGroup: s.asg, OnPremises: s.onPremises, Unavailable: s.unavailable}
	switch {
	case s.tags == nil:
	case tags != nil:
		t.Tags = tags.of(s.tags)
	default:
		t.Tags = tagMap(s.tags)
	}
	return t
}

// tagMap returns the stored tags p as a new map.
func tagMap(p *[]tagPair) map[string]string {
	m := make(map[string]string, len(*p))
	for _, kv := range *p {
		m[kv.k] = kv.v
	}
	return m
}

// tagCopies remembers the map made of the stored tags decoded last.
type tagCopies struct {
	stored *[]tagPair
	copied map[string]string
}

// of returns a map of the stored tags p, the same map as last time when p
// is the same stored tags.
func (c *tagCopies) of(p *[]tagPair) map[string]string {
	if p != c.stored {
		c.stored, c.copied = p, tagMap(p)
	}
	return c.copied
}

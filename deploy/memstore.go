package deploy

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/fleetdeploy/fleetdeploy/health"
	"github.com/fleetdeploy/fleetdeploy/revision"
	"github.com/fleetdeploy/fleetdeploy/target"
)

// memPageSize is the page size of MemoryStore.ListTargets when the caller
// lets the store choose.
const memPageSize = 1000

// MemoryStore is a Store that keeps everything in memory, for tests,
// examples, simulations and single-process use. It is safe for concurrent
// use; its zero value is not usable (call NewMemoryStore).
//
// Costs: UpdateTarget and GetTarget are O(1) plus the size of the record;
// the one-active-deployment check is O(1); ListTargets is O(page);
// GetInstances sorts the group's records. Per-target state is kept in a
// compact form — enum strings interned, times as seconds, nanoseconds and
// location, revisions shared — so that a deployment of a million targets
// with a dozen finished lifecycle events each fits in well under a
// kilobyte per target. Times come back with their location but without a
// monotonic clock reading.
type MemoryStore struct {
	mu        sync.RWMutex
	apps      map[string]Application
	groups    map[string]map[string]Group // application → group name → group
	groupIDs  map[string]bool
	deps      map[string]*memDeployment
	groupDeps map[groupKey][]*memDeployment // creation order
	active    map[groupKey]string           // group → its active deployment
	instances map[string]map[string]memInstance
	seq       uint64
	strs      internTable
	locs      []*time.Location
	revs      map[locKey]*revision.Location
	scratch   []memEvent // encodeTarget's buffer, under mu
	slab      []memEvent // newEvents' current slab, under mu
}

var _ Store = (*MemoryStore)(nil)

type groupKey struct{ app, group string }

func (k groupKey) String() string { return k.app + "/" + k.group }

type memDeployment struct {
	d       Deployment
	seq     uint64
	targets []memTarget
	index   map[string]int // target ID → position in targets
}

// memTarget is a DeploymentTarget without its deployment ID, enum strings
// interned and times packed.
type memTarget struct {
	tgt     target.Target
	events  []memEvent
	updSec  int64
	version int64
	updNsec int32
	updLoc  uint16
	label   uint16
	inst    uint16
	rev     uint16
	status  uint16
}

// memEvent is a LifecycleEventRecord with its strings interned and its
// times packed: 40 bytes instead of 88.
type memEvent struct {
	startSec, endSec   int64
	startNsec, endNsec int32
	startLoc, endLoc   uint16
	name, status       uint16
	diag               *Diagnostics
}

type memInstance struct {
	rev     *revision.Location // shared, never mutated
	version int64
	health  uint16
}

// NewMemoryStore returns an empty in-memory Store.
func NewMemoryStore() *MemoryStore {
	return &MemoryStore{
		apps:      map[string]Application{},
		groups:    map[string]map[string]Group{},
		groupIDs:  map[string]bool{},
		deps:      map[string]*memDeployment{},
		groupDeps: map[groupKey][]*memDeployment{},
		active:    map[groupKey]string{},
		instances: map[string]map[string]memInstance{},
		strs:      newInternTable(),
		locs:      []*time.Location{time.UTC},
		revs:      map[locKey]*revision.Location{},
	}
}

func recErr(record, key string, err error) error {
	return &RecordError{Record: record, Key: key, Err: err}
}

func invalid(record, key, format string, args ...any) error {
	return recErr(record, key, fmt.Errorf("%w: "+format, append([]any{ErrInvalidArgument}, args...)...))
}

// ctxErr returns ctx's error wrapped for the record, or nil.
func ctxErr(ctx context.Context, record, key string) error {
	if err := ctx.Err(); err != nil {
		return recErr(record, key, err)
	}
	return nil
}

// --- applications ---

// CreateApplication implements ApplicationStore.
func (s *MemoryStore) CreateApplication(ctx context.Context, a *Application) error {
	if err := ctxErr(ctx, "application", a.Name); err != nil {
		return err
	}
	if a.Name == "" {
		return invalid("application", a.Name, "the name is empty")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.apps[a.Name]; ok {
		return recErr("application", a.Name, ErrAlreadyExists)
	}
	c := *a
	c.Version = 1
	s.apps[a.Name] = c
	a.Version = 1
	return nil
}

// GetApplication implements ApplicationStore.
func (s *MemoryStore) GetApplication(ctx context.Context, name string) (*Application, error) {
	if err := ctxErr(ctx, "application", name); err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	a, ok := s.apps[name]
	if !ok {
		return nil, recErr("application", name, ErrNotFound)
	}
	return &a, nil
}

// ListApplications implements ApplicationStore.
func (s *MemoryStore) ListApplications(ctx context.Context) ([]Application, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("deploy: list applications: %w", err)
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := slices.Collect(maps.Values(s.apps))
	slices.SortFunc(out, func(a, b Application) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// --- groups ---

// CreateGroup implements GroupStore.
func (s *MemoryStore) CreateGroup(ctx context.Context, g *Group) error {
	key := groupKey{g.ApplicationName, g.Name}.String()
	if err := ctxErr(ctx, "deployment group", key); err != nil {
		return err
	}
	if g.ApplicationName == "" || g.Name == "" {
		return invalid("deployment group", key, "applicationName and deploymentGroupName are required")
	}
	c := g.Clone()
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.apps[g.ApplicationName]; !ok {
		return recErr("application", g.ApplicationName, ErrNotFound)
	}
	if _, ok := s.groups[g.ApplicationName][g.Name]; ok {
		return recErr("deployment group", key, ErrAlreadyExists)
	}
	if c.ID == "" {
		for c.ID == "" || s.groupIDs[c.ID] {
			c.ID = NewGroupID()
		}
	} else if s.groupIDs[c.ID] {
		return recErr("deployment group", key, fmt.Errorf("ID %s: %w", c.ID, ErrAlreadyExists))
	}
	c.Version = 1
	if s.groups[g.ApplicationName] == nil {
		s.groups[g.ApplicationName] = map[string]Group{}
	}
	s.groups[g.ApplicationName][g.Name] = c
	s.groupIDs[c.ID] = true
	g.ID, g.Version = c.ID, 1
	return nil
}

// GetGroup implements GroupStore.
func (s *MemoryStore) GetGroup(ctx context.Context, applicationName, name string) (*Group, error) {
	key := groupKey{applicationName, name}.String()
	if err := ctxErr(ctx, "deployment group", key); err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	g, ok := s.groups[applicationName][name]
	if !ok {
		return nil, recErr("deployment group", key, ErrNotFound)
	}
	c := g.Clone()
	return &c, nil
}

// UpdateGroup implements GroupStore.
func (s *MemoryStore) UpdateGroup(ctx context.Context, g *Group) error {
	key := groupKey{g.ApplicationName, g.Name}.String()
	if err := ctxErr(ctx, "deployment group", key); err != nil {
		return err
	}
	c := g.Clone()
	s.mu.Lock()
	defer s.mu.Unlock()
	cur, ok := s.groups[g.ApplicationName][g.Name]
	switch {
	case !ok:
		return recErr("deployment group", key, ErrNotFound)
	case cur.Version != g.Version:
		return recErr("deployment group", key, fmt.Errorf("%w: stored version %d, update carries %d", ErrConflict, cur.Version, g.Version))
	case cur.ID != g.ID:
		return invalid("deployment group", key, "the ID %q differs from the stored %q; a group's ID never changes", g.ID, cur.ID)
	}
	c.Version = cur.Version + 1
	s.groups[g.ApplicationName][g.Name] = c
	g.Version = c.Version
	return nil
}

// ListGroups implements GroupStore.
func (s *MemoryStore) ListGroups(ctx context.Context, applicationName string) ([]Group, error) {
	if err := ctxErr(ctx, "application", applicationName); err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if _, ok := s.apps[applicationName]; !ok {
		return nil, recErr("application", applicationName, ErrNotFound)
	}
	out := make([]Group, 0, len(s.groups[applicationName]))
	for _, g := range s.groups[applicationName] {
		out = append(out, g.Clone())
	}
	slices.SortFunc(out, func(a, b Group) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// --- deployments ---

// CreateDeployment implements DeploymentStore.
func (s *MemoryStore) CreateDeployment(ctx context.Context, d *Deployment) error {
	if err := ctxErr(ctx, "deployment", d.ID); err != nil {
		return err
	}
	gk := groupKey{d.ApplicationName, d.GroupName}
	switch {
	case d.ApplicationName == "" || d.GroupName == "":
		return invalid("deployment", d.ID, "applicationName and deploymentGroupName are required")
	case !d.Status.Valid():
		return invalid("deployment", d.ID, "status must be one of %v; got %q", d.Status.Values(), d.Status)
	}
	c := d.Clone()
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.groups[gk.app][gk.group]; !ok {
		return recErr("deployment group", gk.String(), ErrNotFound)
	}
	if c.ID == "" {
		for c.ID == "" || s.deps[c.ID] != nil {
			c.ID = NewDeploymentID()
		}
	} else if s.deps[c.ID] != nil {
		return recErr("deployment", c.ID, ErrAlreadyExists)
	}
	if c.Status.IsActive() {
		if holder, ok := s.active[gk]; ok {
			return &ActiveDeploymentError{ApplicationName: gk.app, GroupName: gk.group, DeploymentID: holder}
		}
		s.active[gk] = c.ID
	}
	c.Version = 1
	s.seq++
	md := &memDeployment{d: c, seq: s.seq, index: map[string]int{}}
	s.deps[c.ID] = md
	s.groupDeps[gk] = append(s.groupDeps[gk], md)
	d.ID, d.Version = c.ID, 1
	return nil
}

// GetDeployment implements DeploymentStore.
func (s *MemoryStore) GetDeployment(ctx context.Context, id string) (*Deployment, error) {
	if err := ctxErr(ctx, "deployment", id); err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	md := s.deps[id]
	if md == nil {
		return nil, recErr("deployment", id, ErrNotFound)
	}
	c := md.d.Clone()
	return &c, nil
}

// UpdateDeployment implements DeploymentStore.
func (s *MemoryStore) UpdateDeployment(ctx context.Context, d *Deployment) error {
	if err := ctxErr(ctx, "deployment", d.ID); err != nil {
		return err
	}
	c := d.Clone()
	s.mu.Lock()
	defer s.mu.Unlock()
	md := s.deps[d.ID]
	if md == nil {
		return recErr("deployment", d.ID, ErrNotFound)
	}
	cur := &md.d
	gk := groupKey{cur.ApplicationName, cur.GroupName}
	switch {
	case cur.Version != d.Version:
		return recErr("deployment", d.ID, fmt.Errorf("%w: stored version %d, update carries %d", ErrConflict, cur.Version, d.Version))
	case d.ApplicationName != cur.ApplicationName || d.GroupName != cur.GroupName:
		return invalid("deployment", d.ID, "it belongs to %s; the update names %s/%s", gk, d.ApplicationName, d.GroupName)
	case !d.Status.Valid():
		return invalid("deployment", d.ID, "status must be one of %v; got %q", d.Status.Values(), d.Status)
	case cur.Status.Final() && d.Status != cur.Status:
		return recErr("deployment", d.ID, fmt.Errorf("%w: status %s cannot change to %s", ErrDeploymentCompleted, cur.Status, d.Status))
	}
	wasActive, isActive := cur.Status.IsActive(), d.Status.IsActive()
	switch {
	case isActive && !wasActive:
		if holder, ok := s.active[gk]; ok && holder != d.ID {
			return &ActiveDeploymentError{ApplicationName: gk.app, GroupName: gk.group, DeploymentID: holder}
		}
		s.active[gk] = d.ID
	case wasActive && !isActive:
		if s.active[gk] == d.ID {
			delete(s.active, gk)
		}
	}
	c.Version = cur.Version + 1
	c.ID = cur.ID
	*cur = c
	d.Version = c.Version
	return nil
}

// ListDeployments implements DeploymentStore.
func (s *MemoryStore) ListDeployments(ctx context.Context, applicationName, groupName string, statuses ...DeploymentStatus) ([]Deployment, error) {
	gk := groupKey{applicationName, groupName}
	if err := ctxErr(ctx, "deployment group", gk.String()); err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if _, ok := s.groups[applicationName][groupName]; !ok {
		return nil, recErr("deployment group", gk.String(), ErrNotFound)
	}
	var mds []*memDeployment
	for _, md := range s.groupDeps[gk] {
		if len(statuses) == 0 || slices.Contains(statuses, md.d.Status) {
			mds = append(mds, md)
		}
	}
	slices.SortFunc(mds, func(a, b *memDeployment) int {
		if c := b.d.CreateTime.Compare(a.d.CreateTime); c != 0 {
			return c
		}
		return cmp.Compare(b.seq, a.seq)
	})
	out := make([]Deployment, len(mds))
	for i, md := range mds {
		out[i] = md.d.Clone()
	}
	return out, nil
}

// --- targets ---

func targetKey(deploymentID, targetID string) string { return deploymentID + "/" + targetID }

// PutTargets implements TargetStore.
func (s *MemoryStore) PutTargets(ctx context.Context, deploymentID string, targets []DeploymentTarget) error {
	if err := ctxErr(ctx, "deployment", deploymentID); err != nil {
		return err
	}
	for i := range targets {
		t := &targets[i]
		switch {
		case t.TargetID == "":
			return invalid("deployment", deploymentID, "targets[%d]: targetId is required", i)
		case t.Target.ID != t.TargetID:
			return invalid("target", targetKey(deploymentID, t.TargetID), "target.id %q differs from targetId", t.Target.ID)
		case t.DeploymentID != "" && t.DeploymentID != deploymentID:
			return invalid("target", targetKey(deploymentID, t.TargetID), "it names deployment %q", t.DeploymentID)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	md := s.deps[deploymentID]
	if md == nil {
		return recErr("deployment", deploymentID, ErrNotFound)
	}
	n := len(md.targets)
	undo := func(err error) error {
		for _, mt := range md.targets[n:] {
			delete(md.index, mt.tgt.ID)
		}
		clear(md.targets[n:]) // drop references held by the abandoned tail
		md.targets = md.targets[:n]
		return err
	}
	md.targets = slices.Grow(md.targets, len(targets))
	for i := range targets {
		t := &targets[i]
		if _, dup := md.index[t.TargetID]; dup {
			return undo(recErr("target", targetKey(deploymentID, t.TargetID), ErrAlreadyExists))
		}
		mt, err := s.encodeTarget(deploymentID, t, nil)
		if err != nil {
			return undo(err)
		}
		mt.version = 1
		md.index[mt.tgt.ID] = len(md.targets)
		md.targets = append(md.targets, mt)
	}
	for i := range targets {
		targets[i].DeploymentID = md.d.ID
		targets[i].Version = 1
	}
	return nil
}

// GetTarget implements TargetStore.
func (s *MemoryStore) GetTarget(ctx context.Context, deploymentID, targetID string) (*DeploymentTarget, error) {
	if err := ctxErr(ctx, "target", targetKey(deploymentID, targetID)); err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	md := s.deps[deploymentID]
	if md == nil {
		return nil, recErr("deployment", deploymentID, ErrNotFound)
	}
	i, ok := md.index[targetID]
	if !ok {
		return nil, recErr("target", targetKey(deploymentID, targetID), ErrNotFound)
	}
	t := s.decodeTarget(md.d.ID, &md.targets[i])
	return &t, nil
}

// UpdateTarget implements TargetStore.
func (s *MemoryStore) UpdateTarget(ctx context.Context, t *DeploymentTarget) error {
	// Keys are formatted only on error paths: an update allocates nothing
	// but its packed events.
	if err := ctx.Err(); err != nil {
		return recErr("target", targetKey(t.DeploymentID, t.TargetID), err)
	}
	if t.Target.ID != t.TargetID {
		return invalid("target", targetKey(t.DeploymentID, t.TargetID), "target.id %q differs from targetId", t.Target.ID)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	md := s.deps[t.DeploymentID]
	if md == nil {
		return recErr("target", targetKey(t.DeploymentID, t.TargetID), ErrNotFound)
	}
	i, ok := md.index[t.TargetID]
	if !ok {
		return recErr("target", targetKey(t.DeploymentID, t.TargetID), ErrNotFound)
	}
	cur := &md.targets[i]
	if cur.version != t.Version {
		return recErr("target", targetKey(t.DeploymentID, t.TargetID),
			fmt.Errorf("%w: stored version %d, update carries %d", ErrConflict, cur.version, t.Version))
	}
	mt, err := s.encodeTarget(t.DeploymentID, t, cur)
	if err != nil {
		return err
	}
	mt.version = cur.version + 1
	*cur = mt
	t.Version = mt.version
	return nil
}

// ListTargets implements TargetStore.
func (s *MemoryStore) ListTargets(ctx context.Context, deploymentID, pageToken string, limit int) ([]DeploymentTarget, string, error) {
	if err := ctxErr(ctx, "deployment", deploymentID); err != nil {
		return nil, "", err
	}
	if limit <= 0 {
		limit = memPageSize
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	md := s.deps[deploymentID]
	if md == nil {
		return nil, "", recErr("deployment", deploymentID, ErrNotFound)
	}
	start := 0
	if pageToken != "" {
		i, ok := md.index[pageToken]
		if !ok {
			return nil, "", invalid("deployment", deploymentID, "page token %q was not issued for this deployment", pageToken)
		}
		start = i + 1
	}
	end := min(start+limit, len(md.targets))
	if start >= end {
		return nil, "", nil
	}
	page := make([]DeploymentTarget, 0, end-start)
	for i := start; i < end; i++ {
		page = append(page, s.decodeTarget(md.d.ID, &md.targets[i]))
	}
	next := ""
	if end < len(md.targets) {
		next = md.targets[end-1].tgt.ID
	}
	return page, next, nil
}

// encodeTarget packs t, a target of deploymentID. cur, when not nil, is
// the stored record t replaces: its ID string and its Tags map are shared
// when t's are equal, rather than copied; its interned names serve as
// hints that spare most lookups; and its events array is reused when the
// number of events did not change (the caller then replaces *cur with the
// result, so nothing else sees the array change). Nothing stored changes
// when it returns an error. It must be called with s.mu held for writing.
func (s *MemoryStore) encodeTarget(deploymentID string, t *DeploymentTarget, cur *memTarget) (memTarget, error) {
	full := false
	str := func(v string, hint uint16) uint16 {
		i, ok := s.strs.idHint(v, hint)
		full = full || !ok
		return i
	}
	when := func(t time.Time) (int64, int32, uint16) {
		sec, nsec, loc, ok := s.packTime(t)
		full = full || !ok
		return sec, nsec, loc
	}
	var hint memTarget
	if cur != nil {
		hint = *cur
	}
	mt := memTarget{tgt: t.Target}
	if cur != nil && maps.Equal(t.Target.Tags, cur.tgt.Tags) {
		mt.tgt.ID, mt.tgt.Tags = cur.tgt.ID, cur.tgt.Tags
	} else {
		mt.tgt = cloneTarget(mt.tgt)
	}
	mt.label = str(string(t.Label), hint.label)
	mt.inst = str(string(t.InitialInstanceHealth), hint.inst)
	mt.rev = str(string(t.InitialRevisionHealth), hint.rev)
	mt.status = str(string(t.Status), hint.status)
	mt.updSec, mt.updNsec, mt.updLoc = when(t.LastUpdated)
	n := len(t.LifecycleEvents)
	inPlace := cur != nil && n > 0 && len(cur.events) == n
	var evs []memEvent
	switch {
	case inPlace:
		s.scratch = slices.Grow(s.scratch[:0], n)[:n]
		evs = s.scratch
	case n > 0:
		evs = s.newEvents(n)
	}
	for i := range t.LifecycleEvents {
		e := &t.LifecycleEvents[i]
		me := &evs[i]
		var h memEvent
		if cur != nil && i < len(cur.events) {
			h = cur.events[i]
		}
		me.name, me.status = str(string(e.Name), h.name), str(string(e.Status), h.status)
		me.startSec, me.startNsec, me.startLoc = when(e.StartTime)
		me.endSec, me.endNsec, me.endLoc = when(e.EndTime)
		me.diag = nil
		if e.Diagnostics != nil {
			if h.diag != nil && *h.diag == *e.Diagnostics {
				me.diag = h.diag // stored values are never changed, so they may be shared
			} else {
				me.diag = clonePtr(e.Diagnostics)
			}
		}
	}
	if full {
		return memTarget{}, invalid("target", targetKey(deploymentID, t.TargetID), "the memory store holds at most %d distinct names, statuses, labels, health values and time locations", maxInterned)
	}
	if inPlace {
		copy(cur.events, evs)
		evs = cur.events
	}
	mt.events = evs
	return mt, nil
}

// eventSlab is how many events newEvents allocates at once.
const eventSlab = 4096

// newEvents returns room for n packed events, cut from a shared slab so
// that a million targets do not cost a million allocations. It must be
// called with s.mu held for writing.
func (s *MemoryStore) newEvents(n int) []memEvent {
	if n > eventSlab/8 {
		return make([]memEvent, n)
	}
	if len(s.slab)+n > cap(s.slab) {
		s.slab = make([]memEvent, 0, eventSlab)
	}
	evs := s.slab[len(s.slab) : len(s.slab)+n : len(s.slab)+n]
	s.slab = s.slab[:len(s.slab)+n]
	return evs
}

// decodeTarget unpacks mt into a DeploymentTarget the caller owns. It must
// be called with s.mu held.
func (s *MemoryStore) decodeTarget(deploymentID string, mt *memTarget) DeploymentTarget {
	t := DeploymentTarget{
		DeploymentID:          deploymentID,
		TargetID:              mt.tgt.ID,
		Target:                cloneTarget(mt.tgt),
		Label:                 target.TargetLabel(s.strs.str(mt.label)),
		InitialInstanceHealth: health.InstanceHealth(s.strs.str(mt.inst)),
		InitialRevisionHealth: health.RevisionHealth(s.strs.str(mt.rev)),
		Status:                target.TargetStatus(s.strs.str(mt.status)),
		LastUpdated:           s.unpackTime(mt.updSec, mt.updNsec, mt.updLoc),
		Version:               mt.version,
	}
	if len(mt.events) > 0 {
		t.LifecycleEvents = make([]LifecycleEventRecord, len(mt.events))
		for i := range mt.events {
			me := &mt.events[i]
			t.LifecycleEvents[i] = LifecycleEventRecord{
				Name:        target.LifecycleEvent(s.strs.str(me.name)),
				Status:      target.LifecycleEventStatus(s.strs.str(me.status)),
				StartTime:   s.unpackTime(me.startSec, me.startNsec, me.startLoc),
				EndTime:     s.unpackTime(me.endSec, me.endNsec, me.endLoc),
				Diagnostics: clonePtr(me.diag),
			}
		}
	}
	return t
}

// packTime splits t into seconds, nanoseconds and an index into s.locs,
// adding t's location when it is new. It reports false when the location
// table is full. It must be called with s.mu held for writing.
func (s *MemoryStore) packTime(t time.Time) (sec int64, nsec int32, loc uint16, ok bool) {
	l := t.Location()
	i := slices.Index(s.locs, l)
	if i < 0 {
		if len(s.locs) >= maxInterned {
			return 0, 0, 0, false
		}
		i = len(s.locs)
		s.locs = append(s.locs, l)
	}
	return t.Unix(), int32(t.Nanosecond()), uint16(i), true
}

func (s *MemoryStore) unpackTime(sec int64, nsec int32, loc uint16) time.Time {
	return time.Unix(sec, int64(nsec)).In(s.locs[loc])
}

// maxInterned bounds the intern tables, whose indexes are uint16.
const maxInterned = 1 << 16

// internTable maps strings to small integers, so that a million targets
// share one copy of "Succeeded". Index 0 is the empty string.
type internTable struct {
	ids  map[string]uint16
	strs []string
}

func newInternTable() internTable {
	t := internTable{ids: map[string]uint16{"": 0}, strs: []string{""}}
	for _, v := range preinterned {
		t.id(v)
	}
	return t
}

// preinterned are the values nearly every record holds, interned first so
// that knownID finds them without a map lookup; knownID must follow this
// order (index = position + 1).
var preinterned = [...]string{
	"Pending", "InProgress", "Succeeded", "Failed", "Skipped", "Ready", "Unknown",
	"Healthy", "Unhealthy", "Current", "Old", "Blue", "Green",
	"ApplicationStop", "DownloadBundle", "BeforeInstall", "Install", "AfterInstall", "ApplicationStart",
	"ValidateService", "BeforeBlockTraffic", "BlockTraffic", "AfterBlockTraffic", "BeforeAllowTraffic",
	"AllowTraffic", "AfterAllowTraffic",
}

// knownID returns the index of a preinterned value without a map lookup.
func knownID(v string) (uint16, bool) {
	switch v {
	case "Pending":
		return 1, true
	case "InProgress":
		return 2, true
	case "Succeeded":
		return 3, true
	case "Failed":
		return 4, true
	case "Skipped":
		return 5, true
	case "Ready":
		return 6, true
	case "Unknown":
		return 7, true
	case "Healthy":
		return 8, true
	case "Unhealthy":
		return 9, true
	case "Current":
		return 10, true
	case "Old":
		return 11, true
	case "Blue":
		return 12, true
	case "Green":
		return 13, true
	case "ApplicationStop":
		return 14, true
	case "DownloadBundle":
		return 15, true
	case "BeforeInstall":
		return 16, true
	case "Install":
		return 17, true
	case "AfterInstall":
		return 18, true
	case "ApplicationStart":
		return 19, true
	case "ValidateService":
		return 20, true
	case "BeforeBlockTraffic":
		return 21, true
	case "BlockTraffic":
		return 22, true
	case "AfterBlockTraffic":
		return 23, true
	case "BeforeAllowTraffic":
		return 24, true
	case "AllowTraffic":
		return 25, true
	case "AfterAllowTraffic":
		return 26, true
	}
	return 0, false
}

// id returns the index of v, adding it when new; false when the table is
// full. It must be called with the store's lock held for writing.
func (t *internTable) id(v string) (uint16, bool) {
	if i, ok := t.ids[v]; ok {
		return i, true
	}
	if len(t.strs) >= maxInterned {
		return 0, false
	}
	i := uint16(len(t.strs))
	v = strings.Clone(v)
	t.ids[v] = i
	t.strs = append(t.strs, v)
	return i, true
}

func (t *internTable) str(i uint16) string { return t.strs[i] }

// idHint is id, checking first whether v is the string at index hint (the
// value a record held before), which spares the map lookup for fields
// that did not change.
func (t *internTable) idHint(v string, hint uint16) (uint16, bool) {
	if int(hint) < len(t.strs) && t.strs[hint] == v {
		return hint, true
	}
	if v == "" {
		return 0, true
	}
	if i, ok := knownID(v); ok {
		return i, true
	}
	return t.id(v)
}

// --- instance records ---

// GetInstances implements InstanceStore.
func (s *MemoryStore) GetInstances(ctx context.Context, groupID string) ([]InstanceRecord, error) {
	if err := ctxErr(ctx, "deployment group", groupID); err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	m := s.instances[groupID]
	ids := slices.Sorted(maps.Keys(m))
	out := make([]InstanceRecord, len(ids))
	for i, id := range ids {
		out[i] = s.decodeInstance(groupID, id, m[id])
	}
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
	mi, ok := s.instances[groupID][targetID]
	if !ok {
		return nil, recErr("instance record", key, ErrNotFound)
	}
	r := s.decodeInstance(groupID, targetID, mi)
	return &r, nil
}

// PutInstances implements InstanceStore.
func (s *MemoryStore) PutInstances(ctx context.Context, records []InstanceRecord) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("deploy: put instance records: %w", err)
	}
	type rkey struct{ group, target string }
	seen := make(map[rkey]int, len(records))
	for i, r := range records {
		key := r.GroupID + "/" + r.TargetID
		if r.GroupID == "" || r.TargetID == "" {
			return invalid("instance record", key, "records[%d]: deploymentGroupId and targetId are required", i)
		}
		if j, dup := seen[rkey{r.GroupID, r.TargetID}]; dup {
			return invalid("instance record", key, "records[%d] and records[%d] have the same key", j, i)
		}
		seen[rkey{r.GroupID, r.TargetID}] = i
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	packed := make([]memInstance, len(records))
	var lastIn, lastOut *revision.Location // records of a batch often share one revision
	for i, r := range records {
		h, ok := s.strs.id(string(r.InstanceHealth))
		if !ok {
			return invalid("instance record", r.GroupID+"/"+r.TargetID, "the memory store holds at most %d distinct health values", maxInterned)
		}
		if r.Revision != lastIn || lastIn == nil {
			lastIn, lastOut = r.Revision, s.internRevision(r.Revision)
		}
		packed[i] = memInstance{rev: lastOut, health: h, version: 1}
		if cur, ok := s.instances[r.GroupID][r.TargetID]; ok {
			packed[i].version = cur.version + 1
		}
	}
	for i, r := range records {
		m := s.instances[r.GroupID]
		if m == nil {
			m = map[string]memInstance{}
			s.instances[r.GroupID] = m
		}
		m[r.TargetID] = packed[i]
		records[i].Version = packed[i].version
	}
	return nil
}

func (s *MemoryStore) decodeInstance(groupID, targetID string, mi memInstance) InstanceRecord {
	return InstanceRecord{
		GroupID:        groupID,
		TargetID:       targetID,
		InstanceHealth: health.InstanceHealth(s.strs.str(mi.health)),
		Revision:       cloneLocationPtr(mi.rev),
		Version:        mi.version,
	}
}

// locKey is a comparable form of a revision.Location, so that equal
// locations are stored once.
type locKey struct {
	typ                        revision.LocationType
	hasS3, hasGH, hasAS, hasLo bool
	s3                         revision.S3Location
	gh                         revision.GitHubLocation
	as                         revision.AppSpecContent
	lo                         revision.LocalLocation
}

// internRevision returns a shared, never mutated copy of l. It must be
// called with s.mu held for writing.
func (s *MemoryStore) internRevision(l *revision.Location) *revision.Location {
	if l == nil {
		return nil
	}
	k := locKey{typ: l.Type}
	if l.S3 != nil {
		k.hasS3, k.s3 = true, *l.S3
	}
	if l.GitHub != nil {
		k.hasGH, k.gh = true, *l.GitHub
	}
	if l.AppSpecContent != nil {
		k.hasAS, k.as = true, *l.AppSpecContent
	}
	if l.Local != nil {
		k.hasLo, k.lo = true, *l.Local
	}
	if p, ok := s.revs[k]; ok {
		return p
	}
	p := cloneLocationPtr(l)
	s.revs[k] = p
	return p
}

package deploy

import (
	"cmp"
	"context"
	"fmt"
	"hash/maphash"
	"maps"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
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
// It implements the optional store interfaces TargetUpdaterAt and
// InstanceBatchGetter, and so do its fenced views.
//
// Costs: UpdateTarget and GetTarget are O(1) plus the size of the record,
// and take no lock shared by all of a deployment's targets; the
// one-active-deployment check is O(1); ListTargets is O(page), a large
// page decoded on several cores; GetInstances sorts the group's records.
// Per-target state is kept in a compact form — enum strings interned,
// times as seconds, nanoseconds and location, revisions shared — so that
// a deployment of a million targets with a dozen finished lifecycle
// events each fits in well under a kilobyte per target. Times come back
// with their location but without a monotonic clock reading.
type MemoryStore struct {
	mu        sync.RWMutex
	apps      map[string]Application
	groups    map[string]map[string]Group // application → group name → group
	groupIDs  map[string]groupKey         // group ID → its key
	deps      map[string]*memDeployment
	groupDeps map[groupKey][]*memDeployment // creation order
	active    map[groupKey]string           // group → its active deployment
	instances map[string]*memInstances      // group ID → its instance records
	seed      maphash.Seed                  // shards instance records (shardOf)
	seq       uint64
	revs      map[locKey]*revision.Location
	tab       *internTable // has its own lock

	// byID holds what deps holds, for lookups without mu: every target
	// write looks its deployment up, and a read lock taken by every
	// writer would bounce its cache line between cores.
	byID sync.Map // deployment ID → *memDeployment
	// lastWritten is the deployment whose target was written last, to
	// look up first: target writes come in runs to one deployment.
	lastWritten atomic.Pointer[memDeployment]
}

var _ Store = (*MemoryStore)(nil)

type groupKey struct{ app, group string }

func (k groupKey) String() string { return k.app + "/" + k.group }

// memDeployment is a stored deployment with its target records, which
// are kept apart from the store's lock, so that writes to the targets of
// a deployment neither wait for nor block the rest of the store: the
// store's lock is held only to find the deployment, and a write to a
// target takes only that record's lock (see targetRecords). Lock order:
// a deployment's leaseMu, then the store's mu, then a deployment's mu,
// then a record's mu, then the intern table's mu.
type memDeployment struct {
	d   Deployment // under MemoryStore.mu
	id  string     // d.ID, which never changes; read without a lock
	seq uint64

	// leaseMu guards lease. Fenced writes hold it for reading while they
	// check the token and write, so that a takeover (which holds it for
	// writing) comes wholly before or after each of them — except the
	// writes of the deployment's targets, which check fence instead. Lock
	// order: leaseMu before everything else.
	leaseMu sync.RWMutex
	lease   Lease
	// fence is the token and owner of lease while it is held, and nil
	// before it is taken and once it is released; it is set under leaseMu
	// with lease. A fenced write of one of the deployment's targets checks
	// it under the target's record lock rather than taking leaseMu, a lock
	// every such write would share with every other. A write whose check
	// passed lands before anyone reads the record after the lease changed
	// (readers take the record's lock too): it is as if made before the
	// change. A write that checks after the change is refused.
	fence atomic.Pointer[leaseKey]

	mu    sync.Mutex  // appends to recs and index
	index targetIndex // target ID → position in recs
	recs  targetRecords
	// names are the event names packTarget packed last, its hints;
	// never changed once stored.
	names atomic.Pointer[eventNames]
}

// leaseKey is what identifies a lease while it is held: its token and
// owner.
type leaseKey struct {
	token uint64
	owner string
}

// memTarget is a DeploymentTarget without its deployment ID, enum strings
// interned and times packed.
type memTarget struct {
	tgt memSnapshot
	memState
}

// memState is what changes of a stored target as its deployment runs:
// all of memTarget but the target snapshot.
type memState struct {
	events []memEvent
	// diags are the events' diagnostics, by event index; nil when no
	// event has any. Kept apart so that events hold no pointers: the
	// collector skips them, and copying them needs no write barriers.
	// (A pointer, to keep memTarget within 128 bytes.)
	diags   *[]*Diagnostics
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
// times packed, and without its diagnostics (memTarget.diags): 32 bytes
// instead of 88, and no pointers.
type memEvent struct {
	startSec, endSec   int64
	startNsec, endNsec int32
	startLoc, endLoc   uint16
	name, status       uint16
}

// NewMemoryStore returns an empty in-memory Store.
func NewMemoryStore() *MemoryStore {
	return &MemoryStore{
		apps:      map[string]Application{},
		groups:    map[string]map[string]Group{},
		groupIDs:  map[string]groupKey{},
		deps:      map[string]*memDeployment{},
		groupDeps: map[groupKey][]*memDeployment{},
		active:    map[groupKey]string{},
		instances: map[string]*memInstances{},
		seed:      maphash.MakeSeed(),
		revs:      map[locKey]*revision.Location{},
		tab:       newInternTable(),
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
		for c.ID == "" || s.hasGroupID(c.ID) {
			c.ID = NewGroupID()
		}
	} else if s.hasGroupID(c.ID) {
		return recErr("deployment group", key, fmt.Errorf("ID %s: %w", c.ID, ErrAlreadyExists))
	}
	c.Version = 1
	if s.groups[g.ApplicationName] == nil {
		s.groups[g.ApplicationName] = map[string]Group{}
	}
	s.groups[g.ApplicationName][g.Name] = c
	s.groupIDs[c.ID] = groupKey{g.ApplicationName, g.Name}
	g.ID, g.Version = c.ID, 1
	return nil
}

// hasGroupID reports whether a group has ID id. s.mu is held.
func (s *MemoryStore) hasGroupID(id string) bool {
	_, ok := s.groupIDs[id]
	return ok
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
	md := &memDeployment{d: c, id: c.ID, seq: s.seq}
	s.deps[c.ID] = md
	s.byID.Store(c.ID, md)
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

// deployment returns the deployment id, or nil. Its target records are
// then read and written under its own lock.
func (s *MemoryStore) deployment(id string) *memDeployment {
	md, _ := s.byID.Load(id)
	p, _ := md.(*memDeployment)
	return p
}

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
	md := s.deployment(deploymentID)
	if md == nil {
		return recErr("deployment", deploymentID, ErrNotFound)
	}
	md.mu.Lock()
	defer md.mu.Unlock()
	// New records are written past the published ones and published
	// together at the end: readers see all of them or none, and a failure
	// leaves the deployment as it was.
	n := md.recs.published()
	md.recs.reserve(n + len(targets))
	added := 0
	undo := func(err error) error {
		for k := range added {
			rec := md.recs.at(n + k)
			md.index.drop(rec.tgt.id)
			rec.memTarget = memTarget{} // drop references held by the abandoned tail
		}
		return err
	}
	// Targets of one fleet often carry the same tags: records share one
	// stored (never changed) list of them rather than a copy each. like
	// is the record before the one being added.
	var like *memTarget
	if n > 0 {
		prev := md.recs.at(n - 1)
		prev.mu.Lock()
		like = &memTarget{tgt: prev.tgt}
		prev.mu.Unlock()
	}
	var buf packBuf
	for i := range targets {
		t := &targets[i]
		if md.index.has(t.TargetID) {
			return undo(recErr("target", targetKey(deploymentID, t.TargetID), ErrAlreadyExists))
		}
		var mt memTarget
		evs := buf.events(len(t.LifecycleEvents))
		if err := s.packTarget(md, t, &mt, evs); err != nil {
			return undo(err)
		}
		s.storeTarget(md, n+added, t, &mt, evs, nil, like)
		mt.version = 1
		rec := md.recs.at(n + added)
		rec.memTarget = mt
		md.index.add(mt.tgt.id, n+added, len(targets))
		added++
		like = &rec.memTarget
	}
	md.recs.publish(n + added)
	md.index.settle()
	for i := range targets {
		targets[i].DeploymentID = md.id
		targets[i].Version = 1
	}
	return nil
}

// GetTarget implements TargetStore.
func (s *MemoryStore) GetTarget(ctx context.Context, deploymentID, targetID string) (*DeploymentTarget, error) {
	if err := ctxErr(ctx, "target", targetKey(deploymentID, targetID)); err != nil {
		return nil, err
	}
	md := s.deployment(deploymentID)
	if md == nil {
		return nil, recErr("deployment", deploymentID, ErrNotFound)
	}
	rec := md.record(-1, targetID)
	if rec == nil {
		return nil, recErr("target", targetKey(deploymentID, targetID), ErrNotFound)
	}
	defer rec.mu.Unlock()
	var t DeploymentTarget
	s.decodeTargetInto(&t, md.id, &rec.memTarget, nil)
	return &t, nil
}

// UpdateTarget implements TargetStore.
func (s *MemoryStore) UpdateTarget(ctx context.Context, t *DeploymentTarget) error {
	return s.updateTarget(ctx, nil, t, -1, nil)
}

// UpdateTargetAt implements TargetUpdaterAt: when index is right, the
// record is found without looking its ID up.
func (s *MemoryStore) UpdateTargetAt(ctx context.Context, index int, t *DeploymentTarget) error {
	return s.updateTarget(ctx, nil, t, index, nil)
}

var _ TargetUpdaterAt = (*MemoryStore)(nil)

// updateTarget is UpdateTarget given the deployment (nil: found by
// t.DeploymentID, which must then be its ID) and a guess of where the
// record is stored (its position in the order of ListTargets), which
// spares a lookup when it is right; -1 for none. fence, when not nil, is
// the lease the write is fenced by, md's (not nil then): the write is
// refused with errFenceMoved unless md holds it when the record is locked.
func (s *MemoryStore) updateTarget(ctx context.Context, md *memDeployment, t *DeploymentTarget, at int, fence *Lease) error {
	// Keys are formatted only on error paths: an update allocates nothing
	// but its packed events.
	if err := ctx.Err(); err != nil {
		return recErr("target", targetKey(t.DeploymentID, t.TargetID), err)
	}
	if t.Target.ID != t.TargetID {
		return invalid("target", targetKey(t.DeploymentID, t.TargetID), "target.id %q differs from targetId", t.Target.ID)
	}
	if md == nil {
		if md = s.lastWritten.Load(); md == nil || md.id != t.DeploymentID {
			if md = s.deployment(t.DeploymentID); md == nil {
				return recErr("target", targetKey(t.DeploymentID, t.TargetID), ErrNotFound)
			}
			s.lastWritten.Store(md)
		}
	}
	var mt memTarget
	var buf packBuf
	evs := buf.events(len(t.LifecycleEvents))
	if err := s.packTarget(md, t, &mt, evs); err != nil {
		return err
	}
	rec := md.record(at, t.TargetID)
	if rec == nil {
		return recErr("target", targetKey(t.DeploymentID, t.TargetID), ErrNotFound)
	}
	defer rec.mu.Unlock()
	if fence != nil && !md.holds(fence) {
		return errFenceMoved
	}
	cur := &rec.memTarget
	if cur.version != t.Version {
		return recErr("target", targetKey(t.DeploymentID, t.TargetID),
			fmt.Errorf("%w: stored version %d, update carries %d", ErrConflict, cur.version, t.Version))
	}
	s.storeTarget(md, at, t, &mt, evs, cur, cur)
	mt.version = cur.version + 1
	*cur = mt
	t.Version = mt.version
	return nil
}

// record returns the record of target id, locked, or nil when there is
// none. at is a guess of its position (-1 for none): when it is right,
// the index is not read; else the index's table of guesses is tried
// before its map.
func (md *memDeployment) record(at int, id string) *memRecord {
	if at >= 0 && at < md.recs.published() {
		rec := md.recs.at(at)
		rec.mu.Lock()
		if rec.tgt.id == id {
			return rec
		}
		rec.mu.Unlock()
	}
	if g := md.index.guesses.Load(); g != nil {
		// Positions in the table are published (settle): check each
		// guess on the record, which is locked either way.
		for p := g.probe(id); ; {
			i, ok := p.next()
			if !ok {
				break
			}
			rec := md.recs.at(i)
			rec.mu.Lock()
			if rec.tgt.id == id {
				return rec
			}
			rec.mu.Unlock()
		}
	}
	i, ok := md.index.lookup(&md.mu, id)
	if !ok {
		return nil
	}
	rec := md.recs.at(i)
	rec.mu.Lock()
	return rec
}

// ListTargets implements TargetStore. A large page is decoded by several
// goroutines at once, and its records share what they can (see decoder).
func (s *MemoryStore) ListTargets(ctx context.Context, deploymentID, pageToken string, limit int) ([]DeploymentTarget, string, error) {
	if err := ctxErr(ctx, "deployment", deploymentID); err != nil {
		return nil, "", err
	}
	if limit <= 0 {
		limit = memPageSize
	}
	md := s.deployment(deploymentID)
	if md == nil {
		return nil, "", recErr("deployment", deploymentID, ErrNotFound)
	}
	start := 0
	if pageToken != "" {
		i, ok := md.index.lookup(&md.mu, pageToken)
		if !ok {
			return nil, "", invalid("deployment", deploymentID, "page token %q was not issued for this deployment", pageToken)
		}
		start = i + 1
	}
	stored := md.recs.published()
	end := min(start+limit, stored)
	if start >= end {
		return nil, "", nil
	}
	page := make([]DeploymentTarget, end-start)
	s.decodeRecords(page, md, start)
	next := ""
	if end < stored {
		next = page[len(page)-1].TargetID
	}
	return page, next, nil
}

// decodeRecords decodes records from, from+1, … of md into out, whose
// elements must be zero, by chunks on several goroutines when there are
// many. The records of a chunk share what they can (see decoder).
func (s *MemoryStore) decodeRecords(out []DeploymentTarget, md *memDeployment, from int) {
	forChunks(len(out), func(lo, hi int) {
		var dc decoder
		for i := lo; i < hi; i++ {
			s.decodeRecord(&out[i], md, from+i, &dc)
		}
	})
}

// decodeRecord decodes record i of md into *t, which must be zero, under
// the record's lock; dc as for decodeTargetInto.
func (s *MemoryStore) decodeRecord(t *DeploymentTarget, md *memDeployment, i int, dc *decoder) {
	rec := md.recs.at(i)
	rec.mu.Lock()
	defer rec.mu.Unlock()
	s.decodeTargetInto(t, md.id, &rec.memTarget, dc)
}

// decoder decodes many records for one reader: their event lists are cut
// from arrays made for many lists rather than made one by one (lists
// never overlap), and its records share what they can (ListTargets):
// records whose stored snapshots share one tag map share one copy of it,
// and a record whose events are the last record's (as they are for
// targets not yet started) shares its list. What they share is still the
// reader's own, never the store's.
type decoder struct {
	events []LifecycleEventRecord // room for the next lists
	tags   tagCopies
	// The last list decoded without diagnostics, and its events as
	// stored.
	list   []LifecycleEventRecord
	packed []memEvent
}

// eventArena is how many event records a decoder makes room for at once:
// the lists of about a hundred Server targets.
const eventArena = 1024

// eventList returns a zeroed list of n events, cut from the decoder's
// room when dc is not nil.
func (dc *decoder) eventList(n int) []LifecycleEventRecord {
	if dc == nil || n > eventArena/8 {
		return make([]LifecycleEventRecord, n)
	}
	if len(dc.events) < n {
		dc.events = make([]LifecycleEventRecord, eventArena)
	}
	l := dc.events[:n:n]
	dc.events = dc.events[n:]
	return l
}

// packTarget packs t's fields but its target snapshot, its version and
// its events' diagnostics into mt and evs (len(evs) ==
// len(t.LifecycleEvents)), without md's lock, so that the lock is held
// only to store the result (storeTarget, which copies the diagnostics).
// It returns an error when the intern table is full.
func (s *MemoryStore) packTarget(md *memDeployment, t *DeploymentTarget, mt *memTarget, evs []memEvent) error {
	// The location interned last is nearly always the one every time of
	// a record has: Local, for the system clock's readings (or UTC).
	locs := s.tab.locations()
	p := packer{tab: s.tab, lastLoc: locs[len(locs)-1], lastIdx: uint16(len(locs) - 1)}
	mt.label = p.str(string(t.Label), 0)
	mt.inst = p.str(string(t.InitialInstanceHealth), 0)
	mt.rev = p.str(string(t.InitialRevisionHealth), 0)
	mt.status = p.str(string(t.Status), 0)
	mt.updSec, mt.updNsec, mt.updLoc = p.when(t.LastUpdated)
	// The event names packed last are the hints: targets of a deployment
	// run the same events, usually named by the same strings, which
	// compare equal at once.
	var last eventNames
	if h := md.names.Load(); h != nil {
		last = *h
	}
	same := len(last.names) == len(evs)
	for i := range t.LifecycleEvents {
		e := &t.LifecycleEvents[i]
		me := &evs[i]
		if same && string(e.Name) == last.names[i] {
			me.name = last.ids[i]
		} else {
			same = false
			me.name = p.str(string(e.Name), 0)
		}
		if e.Status == target.EventPending && e.StartTime == (time.Time{}) && e.EndTime == (time.Time{}) {
			// An event not yet run, as most are on a target's first write.
			*me = pendingEvent(me.name)
			continue
		}
		me.status = p.str(string(e.Status), 0)
		me.startSec, me.startNsec, me.startLoc = p.when(e.StartTime)
		me.endSec, me.endNsec, me.endLoc = p.when(e.EndTime)
	}
	if p.full {
		return invalid("target", targetKey(md.id, t.TargetID), "the memory store holds at most %d distinct names, statuses, labels, health values and time locations", maxInterned)
	}
	if !same && len(evs) > 0 {
		fresh := eventNames{names: make([]string, len(evs)), ids: make([]uint16, len(evs))}
		for i := range evs {
			// The caller's strings, not copies: strings never change, and
			// the same strings compare equal without reading their bytes.
			fresh.names[i], fresh.ids[i] = string(t.LifecycleEvents[i].Name), evs[i].name
		}
		md.names.Store(&fresh)
	}
	return nil
}

// eventNames are the event names of the record packed last and their
// IDs in the intern table (packTarget's hints).
type eventNames struct {
	names []string
	ids   []uint16
}

// packer packs the strings and times of one record (packTarget).
type packer struct {
	tab *internTable
	// The times of a record nearly always share one location: the last
	// one found is tried first.
	lastLoc *time.Location
	lastIdx uint16
	full    bool // the intern table is full: the record cannot be stored
}

// str returns the ID of v. Statuses, health values and labels are nearly
// always preinterned: knownID's switch on constants finds them first,
// without comparing strings through memequal. Other values go to idHint.
func (p *packer) str(v string, hint uint16) uint16 {
	if k, ok := knownID(v); ok {
		return k
	}
	i, ok := p.tab.idHint(v, hint)
	p.full = p.full || !ok
	return i
}

// when packs t. The zero time.Time, which events not yet run hold, packs
// to itself in UTC, index 0 (a zero instant in another location keeps
// it).
func (p *packer) when(t time.Time) (sec int64, nsec int32, loc uint16) {
	if t == (time.Time{}) {
		return zeroSec, 0, 0
	}
	if t.Location() != p.lastLoc {
		return p.newLocation(t)
	}
	return t.Unix(), int32(t.Nanosecond()), p.lastIdx
}

// newLocation is when for a time in another location than the last.
func (p *packer) newLocation(t time.Time) (sec int64, nsec int32, loc uint16) {
	sec, nsec, loc, ok := p.tab.packTime(t)
	p.full = p.full || !ok
	if ok {
		p.lastLoc, p.lastIdx = t.Location(), loc
	}
	return sec, nsec, loc
}

// storeTarget completes mt and evs, packed by packTarget from t, and
// makes them the record's new value: the target snapshot, the
// diagnostics, where the events are kept. cur, when not nil, is the
// stored record t replaces; its events array is reused when the number of
// events did not change (the caller then replaces *cur with mt, so nothing
// else sees the array change). like, when not nil, is a stored record
// whose target snapshot (cur's, or a neighbour's), or its tags, are
// shared when t's are equal to them, rather than copied: stored snapshots
// are never changed.
// at is the record's position, or a guess of it (-1 for none); it only
// picks the slab new events come from. It must be called with cur's lock
// held (or, for a record not yet published, md.mu).
func (s *MemoryStore) storeTarget(md *memDeployment, at int, t *DeploymentTarget, mt *memTarget, evs []memEvent, cur, like *memTarget) {
	switch {
	case like != nil && like.tgt.is(&t.Target):
		mt.tgt = like.tgt
	case like != nil:
		mt.tgt = newSnapshot(&t.Target, &like.tgt)
	default:
		mt.tgt = newSnapshot(&t.Target, nil)
	}
	var curDiags *[]*Diagnostics
	if cur != nil {
		curDiags = cur.diags
	}
	mt.diags = storeDiagnostics(t.LifecycleEvents, curDiags)
	n := len(evs)
	switch {
	case n == 0:
		mt.events = nil
	case cur != nil && len(cur.events) == n:
		copy(cur.events, evs)
		mt.events = cur.events
	default:
		mt.events = md.recs.newEvents(at, n)
		copy(mt.events, evs)
	}
}

// storeDiagnostics returns the stored form of the diagnostics of evs
// (memTarget.diags): nil when no event has any, cur when they are those
// stored already. Stored values are never changed, so an unchanged
// Diagnostics is shared rather than copied.
func storeDiagnostics(evs []LifecycleEventRecord, cur *[]*Diagnostics) *[]*Diagnostics {
	has := false
	for i := range evs {
		has = has || evs[i].Diagnostics != nil
	}
	if !has {
		return nil // the usual case: nothing to say
	}
	var stored []*Diagnostics
	if cur != nil {
		stored = *cur
	}
	same := len(stored) == len(evs)
	for i := range evs {
		d := evs[i].Diagnostics
		same = same && (d == nil) == (stored[i] == nil) && (d == nil || *d == *stored[i])
	}
	if same {
		return cur
	}
	out := make([]*Diagnostics, len(evs))
	for i := range evs {
		switch d := evs[i].Diagnostics; {
		case d == nil:
		case i < len(stored) && stored[i] != nil && *stored[i] == *d:
			out[i] = stored[i]
		default:
			out[i] = clonePtr(d)
		}
	}
	return &out
}

// packBuf is room for the events of a record on the stack: Server
// sequences have at most 11 events.
type packBuf [12]memEvent

// events returns room for n events, in b when they fit.
func (b *packBuf) events(n int) []memEvent {
	if n <= len(b) {
		return b[:n]
	}
	return make([]memEvent, n)
}

// decodeTargetInto unpacks mt into *t, which must be zero and becomes the
// caller's own; mt's record lock must be held. dc, when not nil, is the
// decoder of a reader of many records.
func (s *MemoryStore) decodeTargetInto(t *DeploymentTarget, deploymentID string, mt *memTarget, dc *decoder) {
	strs := s.tab.strings()
	locs := s.tab.locations()
	t.DeploymentID = deploymentID
	t.TargetID = mt.tgt.id
	share := dc != nil // a reader of many records
	if share {
		t.Target = mt.tgt.target(&dc.tags)
	} else {
		t.Target = mt.tgt.target(nil)
	}
	t.Label = target.TargetLabel(strs[mt.label])
	t.InitialInstanceHealth = health.InstanceHealth(strs[mt.inst])
	t.InitialRevisionHealth = health.RevisionHealth(strs[mt.rev])
	t.Status = target.TargetStatus(strs[mt.status])
	t.LastUpdated = unpackTime(locs, mt.updSec, mt.updNsec, mt.updLoc)
	t.Version = mt.version
	if len(mt.events) == 0 {
		return
	}
	if share && mt.diags == nil && dc.list != nil && slices.Equal(mt.events, dc.packed) {
		t.LifecycleEvents = dc.list // as the last record's: not yet started, say
		return
	}
	// The list is zeroed: only what is not zero is written, which for an
	// event not yet run (as most are in a large deployment) is its name
	// and status.
	t.LifecycleEvents = dc.eventList(len(mt.events))
	for i := range mt.events {
		me, ev := &mt.events[i], &t.LifecycleEvents[i]
		ev.Name = target.LifecycleEvent(strs[me.name])
		ev.Status = target.LifecycleEventStatus(strs[me.status])
		if *me != pendingEvent(me.name) {
			ev.StartTime = unpackTime(locs, me.startSec, me.startNsec, me.startLoc)
			ev.EndTime = unpackTime(locs, me.endSec, me.endNsec, me.endLoc)
		}
		if mt.diags != nil {
			ev.Diagnostics = clonePtr((*mt.diags)[i])
		}
	}
	if share && mt.diags == nil {
		dc.packed, dc.list = append(dc.packed[:0], mt.events...), t.LifecycleEvents
	}
}

// pendingEvent is the packed form of event name not yet run.
func pendingEvent(name uint16) memEvent {
	return memEvent{name: name, status: pendingID, startSec: zeroSec, endSec: zeroSec}
}

// packTime splits t into seconds, nanoseconds and an index into the
// location table, adding t's location when it is new. It reports false
// when the table is full.
func (tab *internTable) packTime(t time.Time) (sec int64, nsec int32, loc uint16, ok bool) {
	l := t.Location()
	i := slices.Index(tab.locations(), l)
	if i < 0 {
		if i, ok = tab.loc(l); !ok {
			return 0, 0, 0, false
		}
	}
	return t.Unix(), int32(t.Nanosecond()), uint16(i), true
}

func unpackTime(locs []*time.Location, sec int64, nsec int32, loc uint16) time.Time {
	if sec == zeroSec && nsec == 0 && locs[loc] == time.UTC {
		return time.Time{}
	}
	return time.Unix(sec, int64(nsec)).In(locs[loc])
}

// zeroSec is the Unix time of the zero time.Time.
var zeroSec = time.Time{}.Unix()

// maxInterned bounds the intern tables, whose indexes are uint16.
const maxInterned = 1 << 16

// internTable maps strings to small integers, so that a million targets
// share one copy of "Succeeded", and time locations likewise. Index 0 is
// the empty string and UTC. It is safe for concurrent use: both tables
// only grow, readers load them without a lock, and writers publish a new
// slice header under mu.
type internTable struct {
	// Every write of a record reads strs and locs: the padding keeps them
	// off the cache lines of whatever else is allocated next to the table.
	_    cacheLinePad
	mu   sync.Mutex
	ids  map[string]uint16 // under mu
	strs atomic.Pointer[[]string]
	locs atomic.Pointer[[]*time.Location]
	_    cacheLinePad
}

func newInternTable() *internTable {
	t := &internTable{ids: map[string]uint16{"": 0}}
	strs := []string{""}
	locs := []*time.Location{time.UTC}
	t.strs.Store(&strs)
	t.locs.Store(&locs)
	for _, v := range preinterned {
		t.id(v)
	}
	return t
}

// strings returns the interned strings; index i is the string of id i.
func (t *internTable) strings() []string { return *t.strs.Load() }

// locations returns the interned locations.
func (t *internTable) locations() []*time.Location { return *t.locs.Load() }

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

// pendingID is knownID("Pending").
const pendingID = 1

// knownID returns the index of a preinterned value without a map lookup.
func knownID(v string) (uint16, bool) {
	switch v {
	case "Pending":
		return pendingID, true
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
// full.
func (t *internTable) id(v string) (uint16, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if i, ok := t.ids[v]; ok {
		return i, true
	}
	strs := t.strings()
	if len(strs) >= maxInterned {
		return 0, false
	}
	i := uint16(len(strs))
	v = strings.Clone(v)
	t.ids[v] = i
	strs = append(strs, v) // readers of the old header never see the new slot
	t.strs.Store(&strs)
	return i, true
}

// loc returns the index of l, adding it when new; false when the table is
// full.
func (t *internTable) loc(l *time.Location) (int, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	locs := t.locations()
	if i := slices.Index(locs, l); i >= 0 {
		return i, true
	}
	if len(locs) >= maxInterned {
		return 0, false
	}
	locs = append(locs, l)
	t.locs.Store(&locs)
	return len(locs) - 1, true
}

func (t *internTable) str(i uint16) string { return t.strings()[i] }

// idHint is id, checking first whether v is the string at index hint (the
// value a record held before), which spares the lookup for fields that did
// not change, then whether it is a preinterned value.
func (t *internTable) idHint(v string, hint uint16) (uint16, bool) {
	if strs := t.strings(); int(hint) < len(strs) && strs[hint] == v {
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

func newLocKey(l *revision.Location) locKey {
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
	return k
}

// internRevision returns a shared, never mutated copy of l, whose key is
// k. It must be called with s.mu held for writing.
func (s *MemoryStore) internRevision(k locKey, l *revision.Location) *revision.Location {
	if p, ok := s.revs[k]; ok {
		return p
	}
	p := cloneLocationPtr(l)
	s.revs[k] = p
	return p
}

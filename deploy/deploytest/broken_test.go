package deploytest_test

import (
	"context"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fleetdeploy/fleetdeploy/deploy"
	"github.com/fleetdeploy/fleetdeploy/deploy/deploytest"
)

// The suite must have teeth: each of these stores breaks one rule of the
// contract, and the suite must fail the check for that rule.

// aliasing keeps the caller's group and hands it out again.
type aliasing struct {
	deploy.Store
	last *deploy.Group
}

func (s *aliasing) CreateGroup(ctx context.Context, g *deploy.Group) error {
	err := s.Store.CreateGroup(ctx, g)
	if err == nil {
		s.last = g
	}
	return err
}

func (s *aliasing) GetGroup(ctx context.Context, app, name string) (*deploy.Group, error) {
	if s.last != nil {
		return s.last, nil
	}
	return s.Store.GetGroup(ctx, app, name)
}

// blind overwrites whatever version is stored.
type blind struct{ deploy.Store }

func (s blind) UpdateDeployment(ctx context.Context, d *deploy.Deployment) error {
	if cur, err := s.Store.GetDeployment(ctx, d.ID); err == nil {
		d.Version = cur.Version
	}
	return s.Store.UpdateDeployment(ctx, d)
}

// deaf ignores the caller's context when writing targets.
type deaf struct{ deploy.Store }

func (s deaf) PutTargets(_ context.Context, id string, ts []deploy.DeploymentTarget) error {
	return s.Store.PutTargets(context.Background(), id, ts)
}

// sorted lists targets by ID instead of in put order.
type sorted struct{ deploy.Store }

func (s sorted) ListTargets(ctx context.Context, id, token string, limit int) ([]deploy.DeploymentTarget, string, error) {
	page, next, err := s.Store.ListTargets(ctx, id, token, limit)
	slices.SortFunc(page, func(a, b deploy.DeploymentTarget) int { return strings.Compare(a.TargetID, b.TargetID) })
	return page, next, err
}

// partial puts targets one at a time and stops at the first error.
type partial struct{ deploy.Store }

func (s partial) PutTargets(ctx context.Context, id string, ts []deploy.DeploymentTarget) error {
	for i := range ts {
		if err := s.Store.PutTargets(ctx, id, ts[i:i+1]); err != nil {
			return err
		}
	}
	return nil
}

// lossy keeps deployment times to the second.
type lossy struct{ deploy.Store }

func (s lossy) GetDeployment(ctx context.Context, id string) (*deploy.Deployment, error) {
	d, err := s.Store.GetDeployment(ctx, id)
	if d != nil {
		d.CreateTime = d.CreateTime.Truncate(time.Second)
	}
	return d, err
}

// leaseless has no leases to speak of: every AcquireLease succeeds, and
// its fenced views are the store itself.
type leaseless struct{ deploy.Store }

func (s leaseless) AcquireLease(_ context.Context, id, owner string, now time.Time, ttl time.Duration) (deploy.Lease, error) {
	return deploy.Lease{DeploymentID: id, Owner: owner, Token: 1, Expires: now.Add(ttl)}, nil
}

func (s leaseless) Fenced(deploy.Lease) deploy.Store { return s }

// unfenced keeps leases, but its fenced views are the store itself.
type unfenced struct{ deploy.Store }

func (s unfenced) Fenced(deploy.Lease) deploy.Store { return s }

// unshared gives each handle a storage of its own, as if every process
// kept its records in memory.
func unshared() deploytest.Opener {
	return func() deploy.Store { return deploy.NewMemoryStore() }
}

// inProcessLocks keeps the one-active-deployment rule and lease acquisition
// atomic only within a handle, as a store that locks in its process rather
// than in its database would: each handle has a mutex of its own, and
// checks the shared storage (a read) before it writes. The storage is a
// MemoryStore, in which active deployments are stored as Queued, their
// status kept in a table beside it, so that the MemoryStore's own atomic
// check cannot mask the handle's.
type inProcessLocks struct {
	deploy.Store             // the shared storage, or a fenced view of it
	mu           *sync.Mutex // this handle's
	*shared
}

// shared is what the handles of an inProcessLocks storage share besides
// the MemoryStore.
type shared struct {
	active   sync.Map     // deployment ID → its active status
	locked   atomic.Int32 // callers holding their handle's mutex
	inWindow atomic.Int32 // callers between their read and their write
}

func newInProcessLocks() deploytest.Opener {
	inner, sh := deploy.NewMemoryStore(), new(shared)
	return func() deploy.Store { return &inProcessLocks{Store: inner, mu: new(sync.Mutex), shared: sh} }
}

func (s *inProcessLocks) lock() {
	s.mu.Lock()
	s.locked.Add(1)
}

func (s *inProcessLocks) unlock() {
	s.locked.Add(-1)
	s.mu.Unlock()
}

// window stands for the time between a handle's read and its write, at
// its worst: it lets the other goroutines run a while, and then waits for
// a caller of the other handle that is on its way (its handle locked, its
// read not done) to get between its read and its write too.
func (sh *shared) window() {
	sh.inWindow.Add(1)
	defer sh.inWindow.Add(-1)
	for i := 0; i < 50 || sh.inWindow.Load() < 2 && sh.locked.Load() > sh.inWindow.Load(); i++ {
		runtime.Gosched()
	}
}

func (s *inProcessLocks) Fenced(l deploy.Lease) deploy.Store {
	return &inProcessLocks{Store: s.Store.Fenced(l), mu: s.mu, shared: s.shared}
}

func (s *inProcessLocks) status(d *deploy.Deployment) {
	if st, ok := s.active.Load(d.ID); ok {
		d.Status = st.(deploy.DeploymentStatus)
	}
}

func (s *inProcessLocks) GetDeployment(ctx context.Context, id string) (*deploy.Deployment, error) {
	d, err := s.Store.GetDeployment(ctx, id)
	if d != nil {
		s.status(d)
	}
	return d, err
}

func (s *inProcessLocks) ListDeployments(ctx context.Context, app, group string, statuses ...deploy.DeploymentStatus) ([]deploy.Deployment, error) {
	all, err := s.Store.ListDeployments(ctx, app, group)
	var out []deploy.Deployment
	for i := range all {
		s.status(&all[i])
		if len(statuses) == 0 || slices.Contains(statuses, all[i].Status) {
			out = append(out, all[i])
		}
	}
	return out, err
}

// holder reads the group's active deployment other than id; "" if none.
func (s *inProcessLocks) holder(ctx context.Context, d *deploy.Deployment) (string, error) {
	all, err := s.ListDeployments(ctx, d.ApplicationName, d.GroupName)
	for _, o := range all {
		if o.ID != d.ID && o.Status.IsActive() {
			return o.ID, nil
		}
	}
	return "", err
}

// write makes d's write through the storage, active statuses stored as
// Queued.
func (s *inProcessLocks) write(d *deploy.Deployment, write func(*deploy.Deployment) error) error {
	c := *d
	if d.Status.IsActive() {
		c.Status = deploy.StatusQueued
	}
	if err := write(&c); err != nil {
		return err
	}
	if d.Status.IsActive() {
		s.active.Store(c.ID, d.Status)
	} else {
		s.active.Delete(c.ID)
	}
	d.ID, d.Version = c.ID, c.Version
	return nil
}

func (s *inProcessLocks) CreateDeployment(ctx context.Context, d *deploy.Deployment) error {
	s.lock()
	defer s.unlock()
	if d.Status.IsActive() {
		id, err := s.holder(ctx, d)
		if err != nil {
			return err
		}
		if id != "" {
			return &deploy.ActiveDeploymentError{ApplicationName: d.ApplicationName, GroupName: d.GroupName, DeploymentID: id}
		}
		s.window()
	}
	return s.write(d, func(c *deploy.Deployment) error { return s.Store.CreateDeployment(ctx, c) })
}

func (s *inProcessLocks) UpdateDeployment(ctx context.Context, d *deploy.Deployment) error {
	s.lock()
	defer s.unlock()
	cur, err := s.GetDeployment(ctx, d.ID)
	if err != nil {
		return err
	}
	if d.Status.IsActive() && !cur.Status.IsActive() && cur.Version == d.Version {
		id, err := s.holder(ctx, d)
		if err != nil {
			return err
		}
		if id != "" {
			return &deploy.ActiveDeploymentError{ApplicationName: d.ApplicationName, GroupName: d.GroupName, DeploymentID: id}
		}
		s.window()
	}
	return s.write(d, func(c *deploy.Deployment) error { return s.Store.UpdateDeployment(ctx, c) })
}

// AcquireLease reads the lease, and then writes it whoever holds it now:
// it takes the lease as of the end of time, which no lease outlives, and
// sets the expiry with a renewal.
func (s *inProcessLocks) AcquireLease(ctx context.Context, id, owner string, now time.Time, ttl time.Duration) (deploy.Lease, error) {
	s.lock()
	defer s.unlock()
	cur, err := s.GetLease(ctx, id)
	if err != nil || owner == "" || ttl <= 0 {
		return s.Store.AcquireLease(ctx, id, owner, now, ttl) // its error
	}
	if cur.Live(now) && cur.Owner != owner {
		return deploy.Lease{}, &deploy.LeaseHeldError{Lease: cur}
	}
	s.window()
	l, err := s.Store.AcquireLease(ctx, id, owner, endOfTime, ttl)
	if err != nil {
		return l, err
	}
	return s.Store.RenewLease(ctx, l, now, ttl)
}

var endOfTime = time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)

// ExpiredLeases looks at the deployments whose active status is kept
// beside the storage.
func (s *inProcessLocks) ExpiredLeases(ctx context.Context, now time.Time, limit int) ([]deploy.Lease, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var out []deploy.Lease
	var err error
	s.active.Range(func(id, _ any) bool {
		var l deploy.Lease
		if l, err = s.GetLease(ctx, id.(string)); err == nil && l.Token > 0 && !l.Live(now) {
			out = append(out, l)
		}
		return err == nil
	})
	slices.SortFunc(out, func(a, b deploy.Lease) int {
		if c := a.Expires.Compare(b.Expires); c != 0 {
			return c
		}
		return strings.Compare(a.DeploymentID, b.DeploymentID)
	})
	if limit > 0 && len(out) > limit {
		out = out[:limit]
	}
	return out, err
}

// checkThenWrite fences its views with a read: a fenced write reads the
// lease, and if it is still the view's, writes — two round trips, between
// which a takeover goes unnoticed.
type checkThenWrite struct{ deploy.Store }

func (s checkThenWrite) Fenced(l deploy.Lease) deploy.Store {
	return &readFenced{Store: s.Store, lease: l}
}

// roundTrip stands for the time a read and the write after it take to
// reach a database: other goroutines go on meanwhile.
func roundTrip() {
	for range 50 {
		runtime.Gosched()
	}
}

// readFenced is the fenced view of a checkThenWrite.
type readFenced struct {
	deploy.Store
	lease deploy.Lease
}

func (f *readFenced) Fenced(l deploy.Lease) deploy.Store {
	return &readFenced{Store: f.Store, lease: l}
}

// check reads the lease and fails unless it is still the view's.
func (f *readFenced) check(ctx context.Context) error {
	cur, err := f.GetLease(ctx, f.lease.DeploymentID)
	if err != nil {
		return err
	}
	if cur.Token != f.lease.Token || cur.Owner != f.lease.Owner || cur.Expires.IsZero() {
		return &deploy.LeaseLostError{Lease: f.lease, Current: cur}
	}
	roundTrip()
	return nil
}

func (f *readFenced) CreateApplication(ctx context.Context, a *deploy.Application) error {
	if err := f.check(ctx); err != nil {
		return err
	}
	return f.Store.CreateApplication(ctx, a)
}

func (f *readFenced) CreateGroup(ctx context.Context, g *deploy.Group) error {
	if err := f.check(ctx); err != nil {
		return err
	}
	return f.Store.CreateGroup(ctx, g)
}

func (f *readFenced) UpdateGroup(ctx context.Context, g *deploy.Group) error {
	if err := f.check(ctx); err != nil {
		return err
	}
	return f.Store.UpdateGroup(ctx, g)
}

func (f *readFenced) CreateDeployment(ctx context.Context, d *deploy.Deployment) error {
	if err := f.check(ctx); err != nil {
		return err
	}
	return f.Store.CreateDeployment(ctx, d)
}

func (f *readFenced) UpdateDeployment(ctx context.Context, d *deploy.Deployment) error {
	if err := f.check(ctx); err != nil {
		return err
	}
	return f.Store.UpdateDeployment(ctx, d)
}

func (f *readFenced) PutTargets(ctx context.Context, id string, ts []deploy.DeploymentTarget) error {
	if err := f.check(ctx); err != nil {
		return err
	}
	return f.Store.PutTargets(ctx, id, ts)
}

func (f *readFenced) UpdateTarget(ctx context.Context, t *deploy.DeploymentTarget) error {
	if err := f.check(ctx); err != nil {
		return err
	}
	return f.Store.UpdateTarget(ctx, t)
}

func (f *readFenced) PutInstances(ctx context.Context, rs []deploy.InstanceRecord) error {
	if err := f.check(ctx); err != nil {
		return err
	}
	return f.Store.PutInstances(ctx, rs)
}

// oneHandle makes a storage of one store wrapping a MemoryStore: every
// handle is that store.
func oneHandle(wrap func(deploy.Store) deploy.Store) func() deploytest.Opener {
	return func() deploytest.Opener {
		s := wrap(deploy.NewMemoryStore())
		return func() deploy.Store { return s }
	}
}

var fencedChecks = []string{
	"Lease/Fenced/CreateApplication", "Lease/Fenced/CreateGroup", "Lease/Fenced/UpdateGroup",
	"Lease/Fenced/CreateDeployment", "Lease/Fenced/UpdateDeployment", "Lease/Fenced/PutTargets",
	"Lease/Fenced/UpdateTarget", "Lease/Fenced/PutInstances",
}

// brokenStores are the stores above, each with the checks it must fail;
// with only, it must pass every other check.
// hintTrusting writes the record at UpdateTargetAt's index without
// checking it is the target's.
type hintTrusting struct{ *deploy.MemoryStore }

func (s hintTrusting) UpdateTargetAt(ctx context.Context, index int, t *deploy.DeploymentTarget) error {
	page, _, err := s.ListTargets(ctx, t.DeploymentID, "", index+1)
	if err != nil || index < 0 || index >= len(page) {
		return s.UpdateTarget(ctx, t)
	}
	c := t.Clone()
	c.TargetID, c.Target.ID, c.Version = page[index].TargetID, page[index].TargetID, page[index].Version
	err = s.UpdateTarget(ctx, &c)
	t.Version = c.Version
	return err
}

// unfencedAt's fenced views write UpdateTargetAt through the store itself.
type unfencedAt struct{ *deploy.MemoryStore }

func (s unfencedAt) Fenced(l deploy.Lease) deploy.Store {
	return unfencedAtView{Store: s.MemoryStore.Fenced(l), raw: s.MemoryStore}
}

type unfencedAtView struct {
	deploy.Store
	raw *deploy.MemoryStore
}

func (v unfencedAtView) UpdateTargetAt(ctx context.Context, index int, t *deploy.DeploymentTarget) error {
	return v.raw.UpdateTargetAt(ctx, index, t)
}

// caching hands out the records of its first ListTargets again: later
// readers share them with the first.
type caching struct {
	*deploy.MemoryStore
	last []deploy.DeploymentTarget
}

func (s *caching) ListTargets(ctx context.Context, id, token string, limit int) ([]deploy.DeploymentTarget, string, error) {
	if s.last == nil {
		ts, next, err := s.MemoryStore.ListTargets(ctx, id, token, limit)
		if err != nil || next != "" {
			return ts, next, err
		}
		s.last = ts
	}
	return s.last, "", nil
}

// byTargetID returns GetInstancesByID's records in the order of
// GetInstances.
type byTargetID struct{ *deploy.MemoryStore }

func (s byTargetID) GetInstancesByID(ctx context.Context, group string, ids []string) ([]deploy.InstanceRecord, error) {
	all, err := s.GetInstances(ctx, group)
	if err != nil {
		return nil, err
	}
	out := make([]deploy.InstanceRecord, len(ids))
	for k, r := range all {
		if k < len(out) && slices.Contains(ids, r.TargetID) {
			out[k] = r
		}
	}
	return out, nil
}

// plainFenced implements the optional interfaces and hides them in its
// fenced views.
type plainFenced struct{ *deploy.MemoryStore }

func (s plainFenced) Fenced(l deploy.Lease) deploy.Store {
	return struct{ deploy.Store }{s.MemoryStore.Fenced(l)}
}

// blindFenced's fenced view overwrites whatever version of a deployment is
// stored: the lease holder's writes drop requests stored meanwhile.
type blindFenced struct{ *deploy.MemoryStore }

func (s blindFenced) Fenced(l deploy.Lease) deploy.Store {
	return blind{s.MemoryStore.Fenced(l)}
}

var brokenStores = map[string]struct {
	storage   func() deploytest.Opener // a fresh storage
	wantFails []string
	only      bool
}{
	"aliasing": {storage: oneHandle(func(s deploy.Store) deploy.Store { return &aliasing{Store: s} }),
		wantFails: []string{"Isolation/Inputs", "Isolation/Outputs"}},
	"blind": {storage: oneHandle(func(s deploy.Store) deploy.Store { return blind{s} }),
		wantFails: []string{"Deployment/UpdateCompareAndSwap"}},
	"deaf": {storage: oneHandle(func(s deploy.Store) deploy.Store { return deaf{s} }),
		wantFails: []string{"Context/CancelledWritesNothing"}},
	"sorted": {storage: oneHandle(func(s deploy.Store) deploy.Store { return sorted{s} }),
		wantFails: []string{"Target/ListOrderAndPaging"}},
	"partial": {storage: oneHandle(func(s deploy.Store) deploy.Store { return partial{s} }),
		wantFails: []string{"Target/PutIsAllOrNothing"}},
	"lossy": {storage: oneHandle(func(s deploy.Store) deploy.Store { return lossy{s} }),
		wantFails: []string{"Deployment/RoundTrip"}},
	"leaseless": {storage: oneHandle(func(s deploy.Store) deploy.Store { return leaseless{s} }),
		wantFails: append([]string{"Lease/Acquire", "Lease/HeldUntilExpiry", "Lease/Renew", "Lease/Release",
			"Lease/ExpiredLeases", "Handles/OneLeaseHolder", "Handles/TakeoverFencesOtherHandle",
			"Handles/FencedWritesRaceTakeover"}, fencedChecks...)},
	"unfenced": {storage: oneHandle(func(s deploy.Store) deploy.Store { return unfenced{s} }),
		wantFails: append([]string{"Handles/TakeoverFencesOtherHandle", "Handles/FencedWritesRaceTakeover"}, fencedChecks...),
		only:      true},
	"unshared": {storage: unshared,
		wantFails: []string{"Handles/SeeEachOthersWrites", "Handles/CompareAndSwap", "Handles/OneActivePerGroup",
			"Handles/OneLeaseHolder", "Handles/QueueOrderAndStart", "Handles/TakeoverFencesOtherHandle", "Handles/FencedWritesRaceTakeover"},
		only: true},
	"inProcessLocks": {storage: newInProcessLocks,
		wantFails: []string{"Handles/OneActivePerGroup", "Handles/OneLeaseHolder", "Handles/QueueOrderAndStart"},
		only:      true},
	"checkThenWrite": {storage: oneHandle(func(s deploy.Store) deploy.Store { return checkThenWrite{s} }),
		wantFails: []string{"Handles/FencedWritesRaceTakeover"},
		only:      true},
	"blindFenced": {storage: oneHandle(func(s deploy.Store) deploy.Store { return blindFenced{s.(*deploy.MemoryStore)} }),
		wantFails: []string{"Lease/RequestNotClobbered"}},
	"hintTrusting": {storage: oneHandle(func(s deploy.Store) deploy.Store { return hintTrusting{s.(*deploy.MemoryStore)} }),
		wantFails: []string{"Optional/UpdateTargetAt"}},
	"unfencedAt": {storage: oneHandle(func(s deploy.Store) deploy.Store { return unfencedAt{s.(*deploy.MemoryStore)} }),
		wantFails: []string{"Optional/UpdateTargetAt"}},
	"caching": {storage: oneHandle(func(s deploy.Store) deploy.Store { return &caching{MemoryStore: s.(*deploy.MemoryStore)} }),
		wantFails: []string{"Isolation/ListTargetsPage"}},
	"byTargetID": {storage: oneHandle(func(s deploy.Store) deploy.Store { return byTargetID{s.(*deploy.MemoryStore)} }),
		wantFails: []string{"Optional/GetInstancesByID"}},
	"plainFenced": {storage: oneHandle(func(s deploy.Store) deploy.Store { return plainFenced{s.(*deploy.MemoryStore)} }),
		wantFails: []string{"Optional/UpdateTargetAt", "Optional/GetInstancesByID"}},
}

// TestBrokenStoreHelper runs the suite against the broken store named by
// DEPLOYTEST_BROKEN, in a child process started by TestSuiteCatchesBrokenStores.
// Without the variable it has nothing to do.
func TestBrokenStoreHelper(t *testing.T) {
	b, ok := brokenStores[os.Getenv("DEPLOYTEST_BROKEN")]
	if !ok {
		return
	}
	deploytest.TestStore(t, func(*testing.T) deploytest.Opener { return b.storage() })
}

func TestSuiteCatchesBrokenStores(t *testing.T) {
	for name, b := range brokenStores {
		t.Run(name, func(t *testing.T) {
			cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^TestBrokenStoreHelper$", "-test.v")
			cmd.Env = append(os.Environ(), "DEPLOYTEST_BROKEN="+name)
			out, err := cmd.CombinedOutput()
			if err == nil {
				t.Fatalf("the suite passed a store that breaks the contract:\n%s", out)
			}
			for _, check := range b.wantFails {
				if !strings.Contains(string(out), "--- FAIL: TestBrokenStoreHelper/"+check+" ") {
					t.Errorf("check %s did not fail:\n%s", check, out)
				}
			}
			if !b.only {
				return
			}
			for _, line := range strings.Split(string(out), "\n") {
				check, failed := strings.CutPrefix(strings.TrimSpace(line), "--- FAIL: TestBrokenStoreHelper/")
				if check, _, _ = strings.Cut(check, " "); failed && !slices.Contains(b.wantFails, check) {
					t.Errorf("check %s failed too; the store breaks only what checks %v check:\n%s", check, b.wantFails, out)
				}
			}
		})
	}
}

package deploytest

import (
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fleetdeploy/fleetdeploy/deploy"
	"github.com/fleetdeploy/fleetdeploy/target"
)

// The checks that open a second handle on the check's storage: the rules a
// store enforces must hold between processes, not only within one.

func testHandlesSee(t *testing.T, u *suite) {
	a, b := u.s, u.open()
	app := filledApplication()
	u.must(a.CreateApplication(u.ctx, &app), "CreateApplication through handle 1")
	g := filledGroup(app.Name, "web")
	u.must(a.CreateGroup(u.ctx, &g), "CreateGroup through handle 1")
	d := filledDeployment(g, "d-1", deploy.StatusInProgress)
	u.must(a.CreateDeployment(u.ctx, &d), "CreateDeployment through handle 1")
	ts := []deploy.DeploymentTarget{filledTarget("i-1"), newTarget("i-2")}
	u.must(a.PutTargets(u.ctx, "d-1", ts), "PutTargets through handle 1")
	rs := []deploy.InstanceRecord{filledInstance(g.ID, "i-1")}
	u.must(a.PutInstances(u.ctx, rs), "PutInstances through handle 1")
	l := u.acquire(a, "d-1", "exec-a", t0)

	gotApp, err := b.GetApplication(u.ctx, app.Name)
	u.must(err, "GetApplication through handle 2")
	u.same(*gotApp, app, "GetApplication through handle 2 of what handle 1 created")
	apps, err := b.ListApplications(u.ctx)
	u.must(err, "ListApplications through handle 2")
	u.same(apps, []deploy.Application{app}, "ListApplications through handle 2")
	gotG, err := b.GetGroup(u.ctx, app.Name, "web")
	u.must(err, "GetGroup through handle 2")
	u.same(*gotG, g, "GetGroup through handle 2 of what handle 1 created")
	gotD, err := b.GetDeployment(u.ctx, "d-1")
	u.must(err, "GetDeployment through handle 2")
	u.same(*gotD, d, "GetDeployment through handle 2 of what handle 1 created")
	ds, err := b.ListDeployments(u.ctx, app.Name, "web")
	u.must(err, "ListDeployments through handle 2")
	u.same(ds, []deploy.Deployment{d}, "ListDeployments through handle 2")
	u.same(u.targets(b, "d-1"), ts, "the targets, listed through handle 2, that handle 1 put")
	gotR, err := b.GetInstances(u.ctx, g.ID)
	u.must(err, "GetInstances through handle 2")
	u.same(gotR, rs, "GetInstances through handle 2 of what handle 1 put")
	gotL, err := b.GetLease(u.ctx, "d-1")
	u.must(err, "GetLease through handle 2")
	u.same(gotL, l, "GetLease through handle 2 of the lease handle 1 took")

	// And back.
	gotD.Description = "written through handle 2"
	u.must(b.UpdateDeployment(u.ctx, gotD), "UpdateDeployment through handle 2")
	again, err := a.GetDeployment(u.ctx, "d-1")
	u.must(err, "GetDeployment through handle 1")
	u.same(*again, *gotD, "GetDeployment through handle 1 after an update through handle 2")
	tg := ts[1]
	tg.Status = target.TargetInProgress
	u.must(b.UpdateTarget(u.ctx, &tg), "UpdateTarget through handle 2")
	gotT, err := a.GetTarget(u.ctx, "d-1", "i-2")
	u.must(err, "GetTarget through handle 1")
	u.same(*gotT, tg, "GetTarget through handle 1 after an update through handle 2")
	r, err := b.RenewLease(u.ctx, l, t0.Add(time.Second), ttl)
	u.must(err, "RenewLease through handle 2 of the lease handle 1 took")
	u.same(u.lease("d-1"), r, "GetLease through handle 1 after a renewal through handle 2")
	u.must(b.ReleaseLease(u.ctx, r), "ReleaseLease through handle 2")
	released := deploy.Lease{DeploymentID: "d-1", Owner: "exec-a", Token: 1}
	u.same(u.lease("d-1"), released, "GetLease through handle 1 after a release through handle 2")
	expired, err := a.ExpiredLeases(u.ctx, t0.Add(time.Second), 10)
	u.must(err, "ExpiredLeases through handle 1")
	u.sameLeases(expired, []deploy.Lease{released}, "ExpiredLeases through handle 1 after a release through handle 2")
}

func testHandlesCAS(t *testing.T, u *suite) {
	handles := []deploy.Store{u.s, u.open()}
	g := u.fixture()
	u.deployment(g, "d-1", deploy.StatusInProgress)
	u.must(u.s.PutTargets(u.ctx, "d-1", []deploy.DeploymentTarget{newTarget("i-1")}), "PutTargets")

	// Each record is read through both handles, updated through one, and
	// then updated with the stale copy through the other; then the other
	// way round.
	for w := range handles {
		writer, stale := handles[w], handles[1-w]
		via := fmt.Sprintf("handle %d, stale after an update through handle %d", 2-w, w+1)

		da, err := writer.GetDeployment(u.ctx, "d-1")
		u.must(err, "GetDeployment")
		db, err := stale.GetDeployment(u.ctx, "d-1")
		u.must(err, "GetDeployment")
		da.Description = fmt.Sprintf("through handle %d", w+1)
		u.must(writer.UpdateDeployment(u.ctx, da), "UpdateDeployment")
		db.Status = deploy.StatusFailed
		u.wantErr(stale.UpdateDeployment(u.ctx, db), deploy.ErrConflict, "UpdateDeployment through "+via)
		ta, err := writer.GetTarget(u.ctx, "d-1", "i-1")
		u.must(err, "GetTarget")
		tb, err := stale.GetTarget(u.ctx, "d-1", "i-1")
		u.must(err, "GetTarget")
		ta.LastUpdated = t0.Add(time.Duration(w+1) * time.Minute)
		u.must(writer.UpdateTarget(u.ctx, ta), "UpdateTarget")
		tb.Status = target.TargetFailed
		u.wantErr(stale.UpdateTarget(u.ctx, tb), deploy.ErrConflict, "UpdateTarget through "+via)
		ga, err := writer.GetGroup(u.ctx, "app", "web")
		u.must(err, "GetGroup")
		gb, err := stale.GetGroup(u.ctx, "app", "web")
		u.must(err, "GetGroup")
		ga.DeploymentConfigName = fmt.Sprintf("config-%d", w+1)
		u.must(writer.UpdateGroup(u.ctx, ga), "UpdateGroup")
		gb.DeploymentConfigName = "stale"
		u.wantErr(stale.UpdateGroup(u.ctx, gb), deploy.ErrConflict, "UpdateGroup through "+via)

		for h, s := range handles {
			what := fmt.Sprintf("read through handle %d after a refused stale update through handle %d", h+1, 2-w)
			gotD, err := s.GetDeployment(u.ctx, "d-1")
			u.must(err, "GetDeployment")
			u.same(*gotD, *da, "the deployment "+what)
			gotT, err := s.GetTarget(u.ctx, "d-1", "i-1")
			u.must(err, "GetTarget")
			u.same(*gotT, *ta, "the target "+what)
			gotG, err := s.GetGroup(u.ctx, "app", "web")
			u.must(err, "GetGroup")
			u.same(*gotG, *ga, "the group "+what)
		}
	}
}

func testHandlesOneActive(t *testing.T, u *suite) {
	b := u.open()
	u.raceCreators(u.s, b)
	// The winner finishes through one handle; the other sees the group
	// free, and then taken.
	active, err := u.s.ListDeployments(u.ctx, "app", "web")
	u.must(err, "ListDeployments")
	if len(active) != 1 {
		return // reported
	}
	d := active[0]
	d.Status = deploy.StatusSucceeded
	u.must(u.s.UpdateDeployment(u.ctx, &d), "UpdateDeployment "+d.ID+" to Succeeded through handle 1")
	g, err := b.GetGroup(u.ctx, "app", "web")
	u.must(err, "GetGroup")
	next := newDeployment(*g, "d-NEXT", deploy.StatusCreated, t0)
	if err := b.CreateDeployment(u.ctx, &next); err != nil {
		t.Errorf("CreateDeployment through handle 2 after the active deployment finished through handle 1: %v", err)
	}
	other := newDeployment(*g, "d-OTHER", deploy.StatusCreated, t0)
	err = u.s.CreateDeployment(u.ctx, &other)
	var ae *deploy.ActiveDeploymentError
	if !errors.As(err, &ae) || ae.DeploymentID != "d-NEXT" {
		t.Errorf("CreateDeployment through handle 1 while d-NEXT, created through handle 2, is active: got %v; want an *deploy.ActiveDeploymentError naming d-NEXT", err)
	}
}

func testHandlesOneLease(t *testing.T, u *suite) {
	handles := []deploy.Store{u.s, u.open()}
	u.leased()
	race := func(round string, now time.Time, token uint64) {
		t.Helper()
		const n = 64
		leases := make([]deploy.Lease, n)
		errs := make([]error, n)
		owner := func(i int) string { return fmt.Sprintf("exec-%s-%02d", round, i) }
		start := make(chan struct{})
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				<-start
				leases[i], errs[i] = handles[i%2].AcquireLease(u.ctx, "d-1", owner(i), now, ttl)
			})
		}
		close(start)
		wg.Wait()
		stored := u.lease("d-1")
		var winners []string
		for i, err := range errs {
			if err == nil {
				winners = append(winners, owner(i))
				if stored.Owner != owner(i) {
					t.Errorf("%s: %s got lease %d, but the stored lease is %s's", round, owner(i), leases[i].Token, stored.Owner)
				}
			}
		}
		if len(winners) != 1 {
			t.Errorf("%s: %d of %d executors racing for the lease through two handles got it (%v); want exactly one", round, len(winners), n, winners)
		}
		want := deploy.Lease{DeploymentID: "d-1", Owner: stored.Owner, Token: token, Expires: now.Add(ttl)}
		u.same(stored, want, round+": the stored lease after the race")
		wrong := 0
		for i, err := range errs {
			var he *deploy.LeaseHeldError
			if err != nil && (!errors.As(err, &he) || !errors.Is(err, deploy.ErrLeaseHeld) || len(diff(he.Lease, stored, 1)) > 0) {
				if wrong == 0 {
					t.Errorf("%s: executor %s: got %v; want a *deploy.LeaseHeldError naming %s", round, owner(i), err, stored)
				}
				wrong++
			}
		}
		if wrong > 1 {
			t.Errorf("%s: and %d more executors got a wrong error", round, wrong-1)
		}
		for h, s := range handles[1:] {
			got, err := s.GetLease(u.ctx, "d-1")
			u.must(err, "GetLease")
			u.same(got, stored, fmt.Sprintf("%s: GetLease through handle %d", round, h+2))
		}
	}
	race("first", t0, 1)
	race("takeover", t0.Add(ttl), 2)
}

func testHandlesTakeover(t *testing.T, u *suite) {
	a, b := u.s, u.open()
	u.leased()
	u.must(a.PutTargets(u.ctx, "d-1", []deploy.DeploymentTarget{newTarget("i-1")}), "PutTargets")
	l := u.acquire(a, "d-1", "exec-a", t0)
	fa := a.Fenced(l)
	d, err := a.GetDeployment(u.ctx, "d-1")
	u.must(err, "GetDeployment")
	d.Description = "written by exec-a"
	u.must(fa.UpdateDeployment(u.ctx, d), "UpdateDeployment through exec-a's fenced view on handle 1")

	next := u.acquire(b, "d-1", "exec-b", t0.Add(ttl))
	u.same(u.lease("d-1"), next, "GetLease through handle 1 after a takeover through handle 2")
	_, err = a.RenewLease(u.ctx, l, t0.Add(ttl), ttl)
	u.wantLost(err, l, next, "RenewLease through handle 1 after a takeover through handle 2")
	_, err = a.AcquireLease(u.ctx, "d-1", "exec-a", t0.Add(ttl+time.Second), ttl)
	u.wantHeld(err, next, "AcquireLease through handle 1 of the lease taken through handle 2")

	late := d.Clone()
	late.Description = "written by exec-a after the takeover"
	u.wantLost(fa.UpdateDeployment(u.ctx, &late), l, next, "UpdateDeployment through the fenced view on handle 1 after a takeover through handle 2")
	tg, err := a.GetTarget(u.ctx, "d-1", "i-1")
	u.must(err, "GetTarget")
	lateT := tg.Clone()
	lateT.Status = target.TargetFailed
	u.wantLost(fa.UpdateTarget(u.ctx, &lateT), l, next, "UpdateTarget through the fenced view on handle 1 after a takeover through handle 2")
	gotD, err := b.GetDeployment(u.ctx, "d-1")
	u.must(err, "GetDeployment")
	u.same(*gotD, *d, "the deployment, read through handle 2, after refused writes through handle 1")
	gotT, err := b.GetTarget(u.ctx, "d-1", "i-1")
	u.must(err, "GetTarget")
	u.same(*gotT, *tg, "the target, read through handle 2, after refused writes through handle 1")

	fb := b.Fenced(next)
	gotD.Description = "written by exec-b"
	u.must(fb.UpdateDeployment(u.ctx, gotD), "UpdateDeployment through exec-b's fenced view on handle 2")
	mine, err := a.GetDeployment(u.ctx, "d-1")
	u.must(err, "GetDeployment")
	u.same(*mine, *gotD, "the deployment, read through handle 1, after exec-b's write through handle 2")

	u.must(b.ReleaseLease(u.ctx, next), "ReleaseLease through handle 2")
	back := u.acquire(a, "d-1", "exec-a", t0.Add(ttl+time.Second))
	u.same(back, deploy.Lease{DeploymentID: "d-1", Owner: "exec-a", Token: 3, Expires: t0.Add(2*ttl + time.Second)}, "AcquireLease through handle 1 of the lease released through handle 2")
	after := mine.Clone()
	after.Description = "written by exec-b after its release"
	u.wantLost(fb.UpdateDeployment(u.ctx, &after), next, back, "UpdateDeployment through the fenced view on handle 2 after its release and a takeover through handle 1")
}

// testHandlesFencedRace has writers fenced by a lease hammer on targets
// through one handle while another executor takes the lease over through
// the other. Once the takeover returns, nothing the old lease fences may
// land: a write made after it fails, and the targets, read through the
// taker's handle right after it, stay as they are until the writers, whose
// writes were on their way, have stopped.
func testHandlesFencedRace(t *testing.T, u *suite) {
	handles := []deploy.Store{u.s, u.open()}
	u.leased()
	const writers = 8
	ids := make([]string, writers)
	ts := make([]deploy.DeploymentTarget, writers)
	for i := range ts {
		ids[i] = fmt.Sprintf("i-%d", i)
		ts[i] = newTarget(ids[i])
	}
	u.must(u.s.PutTargets(u.ctx, "d-1", ts), "PutTargets")
	now := t0
	l := u.acquire(handles[0], "d-1", "exec-0", now)
	for round := range 3 {
		now = now.Add(ttl)
		l = u.raceTakeover(round, handles[round%2], handles[(round+1)%2], l, ids, now)
	}
}

// raceTakeover is one round of testHandlesFencedRace: writers fenced by l
// write through old while taker takes the lease at now. It returns the new
// lease.
func (u *suite) raceTakeover(round int, old, taker deploy.Store, l deploy.Lease, ids []string, now time.Time) deploy.Lease {
	t := u.t
	t.Helper()
	fenced := old.Fenced(l)
	var takenOver atomic.Bool
	stop := make(chan struct{})
	var inFlight, done sync.WaitGroup
	inFlight.Add(len(ids))
	ends := make([]error, len(ids))
	for i, id := range ids {
		done.Go(func() { ends[i] = u.hammer(old, fenced, id, &takenOver, stop, inFlight.Done) })
	}
	defer func() { // when the check stops early
		close(stop)
		done.Wait()
	}()
	inFlight.Wait()

	owner := fmt.Sprintf("exec-%d", round+1)
	next, err := taker.AcquireLease(u.ctx, "d-1", owner, now, ttl)
	u.must(err, fmt.Sprintf("round %d: AcquireLease by %s while writers fenced by the expired lease %d write", round, owner, l.Token))
	takenOver.Store(true)
	seen := u.targets(taker, "d-1")
	done.Wait()
	for i, err := range ends {
		if !errors.Is(err, deploy.ErrLeaseLost) {
			t.Errorf("round %d: the writer of %s, fenced by lease %d, ended with %v; want a *deploy.LeaseLostError", round, ids[i], l.Token, err)
		}
	}
	u.same(u.targets(taker, "d-1"), seen, fmt.Sprintf("round %d: the targets once the writers fenced by lease %d stopped, against what %s read right after its takeover returned: writes under the lost lease landed after it", round, l.Token, owner))
	return next
}

// hammer updates target id of d-1 through fenced until a write fails other
// than on a conflict, or it makes a write after takenOver is set, or stop
// is closed; on a conflict it reads the target again through s. It calls
// inFlight as it makes its second write (or when it ends first), so that a
// takeover made then finds writes on their way. It returns the error that
// ended it: nil when stopped, and an error of its own when a write made
// after the takeover went through.
func (u *suite) hammer(s, fenced deploy.Store, id string, takenOver *atomic.Bool, stop <-chan struct{}, inFlight func()) error {
	var once sync.Once
	defer once.Do(inFlight)
	tg, err := s.GetTarget(u.ctx, "d-1", id)
	if err != nil {
		return err
	}
	for n := 1; ; n++ {
		select {
		case <-stop:
			return nil
		default:
		}
		if n == 2 {
			once.Do(inFlight)
		}
		after := takenOver.Load()
		tg.LastUpdated = t0.Add(time.Duration(n) * time.Millisecond)
		err := fenced.UpdateTarget(u.ctx, tg)
		switch {
		case after && err == nil:
			return fmt.Errorf("UpdateTarget %s, made after the takeover returned, went through (version %d)", id, tg.Version)
		case after:
			return err
		case err == nil:
		case errors.Is(err, deploy.ErrConflict):
			if tg, err = s.GetTarget(u.ctx, "d-1", id); err != nil {
				return err
			}
		default:
			return err
		}
		runtime.Gosched() // let the takeover in, however few the cores
	}
}

// testHandlesQueue checks what an executor's queue of deployments
// (deploy.Options.Queue) needs of a store shared by several processes:
// every handle lists a group's queued deployments in the same order (even
// those created at the same time), and when the group is free, of two
// handles starting a queued deployment at once — the same one, or two
// different ones — exactly one succeeds; the other gets an
// *deploy.ActiveDeploymentError or deploy.ErrConflict and changes
// nothing.
func testHandlesQueue(t *testing.T, u *suite) {
	b := u.open()
	handles := []deploy.Store{u.s, b}
	g := u.fixture()
	active := newDeployment(g, "d-ACTIVE", deploy.StatusInProgress, t0)
	u.must(u.s.CreateDeployment(u.ctx, &active), "CreateDeployment d-ACTIVE")
	const n = 16
	for i := range n {
		d := newDeployment(g, fmt.Sprintf("d-Q%02d", (i*5)%n), deploy.StatusQueued, t0)
		u.must(handles[i%2].CreateDeployment(u.ctx, &d), "CreateDeployment "+d.ID+" (Queued) while d-ACTIVE runs")
	}
	order := func(s deploy.Store, name string) []string {
		ds, err := s.ListDeployments(u.ctx, "app", "web", deploy.StatusQueued)
		u.must(err, "ListDeployments (Queued) through "+name)
		ids := make([]string, len(ds))
		for i := range ds {
			ids[i] = ds[i].ID
		}
		return ids
	}
	first, second := order(u.s, "handle 1"), order(b, "handle 2")
	if len(first) != n || fmt.Sprint(first) != fmt.Sprint(second) {
		t.Fatalf("the queued deployments listed through handle 1 are %v, through handle 2 %v; want the same %d in the same order", first, second, n)
	}
	active.Status = deploy.StatusSucceeded
	u.must(u.s.UpdateDeployment(u.ctx, &active), "UpdateDeployment d-ACTIVE to Succeeded")

	// start starts the queued deployment id through handle h.
	start := func(h deploy.Store, id string) error {
		d, err := h.GetDeployment(u.ctx, id)
		if err != nil {
			return err
		}
		if d.Status != deploy.StatusQueued {
			return fmt.Errorf("%w: %s is %s already", deploy.ErrConflict, id, d.Status) // the other handle was first
		}
		d.Status = deploy.StatusCreated
		return h.UpdateDeployment(u.ctx, d)
	}
	queue := first
	for round := 0; len(queue) >= 2; round++ {
		// Odd rounds: both handles start the oldest; even rounds: every
		// queued deployment is started at once, through the two handles
		// in turn.
		ids := []string{queue[len(queue)-1], queue[len(queue)-1]}
		if round%2 == 0 {
			ids = queue
		}
		errs := make([]error, len(ids))
		gate := make(chan struct{})
		var wg sync.WaitGroup
		for i := range ids {
			wg.Go(func() {
				<-gate
				errs[i] = start(handles[i%2], ids[i])
			})
		}
		close(gate)
		wg.Wait()
		winner := -1
		for i, err := range errs {
			var ae *deploy.ActiveDeploymentError
			switch {
			case err == nil && winner >= 0:
				t.Fatalf("round %d: handle %d started %s and handle %d started %s; want one active deployment", round, winner%2+1, ids[winner], i%2+1, ids[i])
			case err == nil:
				winner = i
			case !errors.As(err, &ae) && !errors.Is(err, deploy.ErrConflict):
				t.Fatalf("round %d: handle %d starting %s: %v; want an *deploy.ActiveDeploymentError or ErrConflict", round, i%2+1, ids[i], err)
			}
		}
		if winner < 0 {
			t.Fatalf("round %d: no handle started a queued deployment (%v)", round, errs)
		}
		won := ids[winner]
		for _, loser := range ids {
			if loser == won {
				continue
			}
			got, err := b.GetDeployment(u.ctx, loser)
			u.must(err, "GetDeployment "+loser)
			if got.Status != deploy.StatusQueued || got.Version != 1 {
				t.Errorf("round %d: the refused start changed %s to %s, version %d", round, loser, got.Status, got.Version)
			}
		}
		other := handles[1-winner%2]
		d, err := other.GetDeployment(u.ctx, won)
		u.must(err, "GetDeployment "+won)
		if d.Status != deploy.StatusCreated {
			t.Fatalf("round %d: %s is %s through the other handle; want Created", round, won, d.Status)
		}
		d.Status = deploy.StatusSucceeded
		u.must(other.UpdateDeployment(u.ctx, d), "UpdateDeployment "+won+" to Succeeded")
		queue = order(handles[round%2], "a handle")
	}
}

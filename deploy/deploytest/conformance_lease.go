package deploytest

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/fleetdeploy/fleetdeploy/deploy"
	"github.com/fleetdeploy/fleetdeploy/health"
	"github.com/fleetdeploy/fleetdeploy/target"
)

// The checks of deploy.LeaseStore. Every instant is a fixed one passed in,
// as the executors' clocks pass theirs.

// ttl is the lease duration of the lease checks.
const ttl = 30 * time.Second

// leased creates application app, group web and its active deployment
// d-1, and returns the group.
func (u *suite) leased() deploy.Group {
	u.t.Helper()
	g := u.fixture()
	u.deployment(g, "d-1", deploy.StatusInProgress)
	return g
}

// acquire takes the lease of deployment id through s, failing the check
// when it cannot.
func (u *suite) acquire(s deploy.Store, id, owner string, now time.Time) deploy.Lease {
	u.t.Helper()
	l, err := s.AcquireLease(u.ctx, id, owner, now, ttl)
	u.must(err, fmt.Sprintf("AcquireLease of %s by %s at %s", id, owner, now.Format(time.RFC3339Nano)))
	return l
}

// lease returns the lease of deployment id as stored, read through u.s.
func (u *suite) lease(id string) deploy.Lease {
	u.t.Helper()
	l, err := u.s.GetLease(u.ctx, id)
	u.must(err, "GetLease "+id)
	return l
}

// wantHeld reports unless err is a *deploy.LeaseHeldError naming holder
// that matches deploy.ErrLeaseHeld.
func (u *suite) wantHeld(err error, holder deploy.Lease, what string) {
	u.t.Helper()
	var he *deploy.LeaseHeldError
	switch {
	case !errors.As(err, &he):
		u.t.Errorf("%s: got error %v; want a *deploy.LeaseHeldError", what, err)
	case !errors.Is(err, deploy.ErrLeaseHeld):
		u.t.Errorf("%s: %v does not match deploy.ErrLeaseHeld", what, err)
	default:
		u.same(he.Lease, holder, what+": the lease the *LeaseHeldError names")
	}
}

// wantLost reports unless err is a *deploy.LeaseLostError that matches
// deploy.ErrLeaseLost and names l as the caller's lease and current as the
// stored one.
func (u *suite) wantLost(err error, l, current deploy.Lease, what string) {
	u.t.Helper()
	var le *deploy.LeaseLostError
	switch {
	case !errors.As(err, &le):
		u.t.Errorf("%s: got error %v; want a *deploy.LeaseLostError", what, err)
	case !errors.Is(err, deploy.ErrLeaseLost):
		u.t.Errorf("%s: %v does not match deploy.ErrLeaseLost", what, err)
	default:
		u.same(le.Lease, l, what+": the *LeaseLostError's Lease (the caller's)")
		u.same(le.Current, current, what+": the *LeaseLostError's Current (the stored lease)")
	}
}

func testLeaseAcquire(t *testing.T, u *suite) {
	u.leased()
	u.same(u.lease("d-1"), deploy.Lease{DeploymentID: "d-1"}, "GetLease of a deployment never leased")
	l, err := u.s.AcquireLease(u.ctx, "d-1", "exec-a", t0, ttl)
	u.must(err, "AcquireLease of a deployment never leased")
	u.same(l, deploy.Lease{DeploymentID: "d-1", Owner: "exec-a", Token: 1, Expires: t0.Add(ttl)}, "AcquireLease of a deployment never leased")
	u.same(u.lease("d-1"), l, "GetLease after AcquireLease")

	// The holder taking it again while it is live: a new token, which
	// fences off what it wrote under the old one.
	again, err := u.s.AcquireLease(u.ctx, "d-1", "exec-a", t0.Add(time.Second), ttl)
	u.must(err, "AcquireLease by the holder of the live lease")
	u.same(again, deploy.Lease{DeploymentID: "d-1", Owner: "exec-a", Token: 2, Expires: t0.Add(time.Second + ttl)}, "AcquireLease by the holder of the live lease")
	u.same(u.lease("d-1"), again, "GetLease after the holder took the lease again")
}

func testLeaseHeld(t *testing.T, u *suite) {
	u.leased()
	l := u.acquire(u.s, "d-1", "exec-a", t0)
	for _, at := range []time.Time{t0, t0.Add(ttl - time.Nanosecond)} {
		_, err := u.s.AcquireLease(u.ctx, "d-1", "exec-b", at, ttl)
		u.wantHeld(err, l, fmt.Sprintf("AcquireLease by another executor %s after the lease was taken", at.Sub(t0)))
	}
	u.same(u.lease("d-1"), l, "the lease after refused acquisitions")

	// At its expiry the lease is no longer live: another executor takes it.
	next, err := u.s.AcquireLease(u.ctx, "d-1", "exec-b", t0.Add(ttl), ttl)
	u.must(err, "AcquireLease by another executor at the lease's expiry")
	u.same(next, deploy.Lease{DeploymentID: "d-1", Owner: "exec-b", Token: 2, Expires: t0.Add(2 * ttl)}, "AcquireLease by another executor at the lease's expiry")
	u.same(u.lease("d-1"), next, "GetLease after a takeover")
	_, err = u.s.AcquireLease(u.ctx, "d-1", "exec-a", t0.Add(ttl+time.Second), ttl)
	u.wantHeld(err, next, "AcquireLease by the former holder after the takeover")

	// And the former holder takes it back once that one expires.
	back, err := u.s.AcquireLease(u.ctx, "d-1", "exec-a", t0.Add(time.Hour), ttl)
	u.must(err, "AcquireLease by the former holder after the new lease expired")
	u.same(back, deploy.Lease{DeploymentID: "d-1", Owner: "exec-a", Token: 3, Expires: t0.Add(time.Hour + ttl)}, "AcquireLease after a second takeover")
}

func testLeaseRenew(t *testing.T, u *suite) {
	u.leased()
	l := u.acquire(u.s, "d-1", "exec-a", t0)
	r, err := u.s.RenewLease(u.ctx, l, t0.Add(10*time.Second), ttl)
	u.must(err, "RenewLease of the live lease")
	want := deploy.Lease{DeploymentID: "d-1", Owner: "exec-a", Token: 1, Expires: t0.Add(10*time.Second + ttl)}
	u.same(r, want, "RenewLease of the live lease")
	u.same(u.lease("d-1"), want, "GetLease after RenewLease")

	// Expired, but nobody took it over: the holder may renew it, with the
	// lease value it had before the first renewal.
	late, err := u.s.RenewLease(u.ctx, l, t0.Add(time.Hour), ttl)
	u.must(err, "RenewLease of an expired lease nobody took over")
	want.Expires = t0.Add(time.Hour + ttl)
	u.same(late, want, "RenewLease of an expired lease nobody took over")

	impostor := deploy.Lease{DeploymentID: "d-1", Owner: "exec-z", Token: 1, Expires: want.Expires}
	_, err = u.s.RenewLease(u.ctx, impostor, t0.Add(time.Hour), ttl)
	u.wantLost(err, impostor, want, "RenewLease with the current token but another owner")
	for _, bad := range []time.Duration{0, -time.Second} {
		if _, err := u.s.RenewLease(u.ctx, l, t0.Add(time.Hour), bad); err == nil {
			t.Errorf("RenewLease with ttl %s succeeded; a lease's ttl must be positive", bad)
		}
	}
	u.same(u.lease("d-1"), want, "the lease after refused renewals")

	// Taken over: the former holder's renewal fails and names the new lease.
	next := u.acquire(u.s, "d-1", "exec-b", t0.Add(2*time.Hour))
	_, err = u.s.RenewLease(u.ctx, l, t0.Add(2*time.Hour), ttl)
	u.wantLost(err, l, next, "RenewLease after a takeover")
	u.same(u.lease("d-1"), next, "the lease after a refused renewal")

	// Released: its holder cannot renew it either.
	u.must(u.s.ReleaseLease(u.ctx, next), "ReleaseLease")
	released := u.lease("d-1")
	_, err = u.s.RenewLease(u.ctx, next, t0.Add(2*time.Hour), ttl)
	u.wantLost(err, next, released, "RenewLease of a released lease")
	u.same(u.lease("d-1"), released, "the released lease after a refused renewal")
}

func testLeaseRelease(t *testing.T, u *suite) {
	u.leased()
	l := u.acquire(u.s, "d-1", "exec-a", t0)
	u.must(u.s.ReleaseLease(u.ctx, l), "ReleaseLease of the live lease")
	released := deploy.Lease{DeploymentID: "d-1", Owner: "exec-a", Token: 1}
	u.same(u.lease("d-1"), released, "GetLease after ReleaseLease (owner and token kept, expiry zero)")

	// Anyone may take it at once, at the same instant.
	next, err := u.s.AcquireLease(u.ctx, "d-1", "exec-b", t0, ttl)
	u.must(err, "AcquireLease of a released lease, at the instant it was released")
	u.same(next, deploy.Lease{DeploymentID: "d-1", Owner: "exec-b", Token: 2, Expires: t0.Add(ttl)}, "AcquireLease of a released lease")

	u.wantLost(u.s.ReleaseLease(u.ctx, l), l, next, "ReleaseLease of a lease taken over since")
	impostor := next
	impostor.Owner = "exec-z"
	u.wantLost(u.s.ReleaseLease(u.ctx, impostor), impostor, next, "ReleaseLease with the current token but another owner")
	u.same(u.lease("d-1"), next, "the lease after refused releases")

	// The holder releases and takes it again: the token grows.
	u.must(u.s.ReleaseLease(u.ctx, next), "ReleaseLease")
	again, err := u.s.AcquireLease(u.ctx, "d-1", "exec-b", t0.Add(time.Second), ttl)
	u.must(err, "AcquireLease by the owner of the released lease")
	u.same(again, deploy.Lease{DeploymentID: "d-1", Owner: "exec-b", Token: 3, Expires: t0.Add(time.Second + ttl)}, "AcquireLease by the owner of the released lease")
}

func testLeaseErrors(t *testing.T, u *suite) {
	u.leased()
	_, err := u.s.AcquireLease(u.ctx, "d-NOPE", "exec-a", t0, ttl)
	u.wantErr(err, deploy.ErrNotFound, "AcquireLease of an unknown deployment")
	_, err = u.s.GetLease(u.ctx, "d-NOPE")
	u.wantErr(err, deploy.ErrNotFound, "GetLease of an unknown deployment")
	ghost := deploy.Lease{DeploymentID: "d-NOPE", Owner: "exec-a", Token: 1, Expires: t0.Add(ttl)}
	if _, err := u.s.RenewLease(u.ctx, ghost, t0, ttl); !errors.Is(err, deploy.ErrNotFound) && !errors.Is(err, deploy.ErrLeaseLost) {
		t.Errorf("RenewLease of an unknown deployment: got error %v; want one matching deploy.ErrNotFound or deploy.ErrLeaseLost", err)
	}
	if err := u.s.ReleaseLease(u.ctx, ghost); !errors.Is(err, deploy.ErrNotFound) && !errors.Is(err, deploy.ErrLeaseLost) {
		t.Errorf("ReleaseLease of an unknown deployment: got error %v; want one matching deploy.ErrNotFound or deploy.ErrLeaseLost", err)
	}
	_, err = u.s.AcquireLease(u.ctx, "d-1", "", t0, ttl)
	u.wantErr(err, deploy.ErrInvalidArgument, "AcquireLease with an empty owner")
	for _, bad := range []time.Duration{0, -time.Second} {
		_, err = u.s.AcquireLease(u.ctx, "d-1", "exec-a", t0, bad)
		u.wantErr(err, deploy.ErrInvalidArgument, fmt.Sprintf("AcquireLease with ttl %s", bad))
	}
	u.same(u.lease("d-1"), deploy.Lease{DeploymentID: "d-1"}, "the lease after refused acquisitions")
	if _, err := u.s.GetDeployment(u.ctx, "d-NOPE"); !errors.Is(err, deploy.ErrNotFound) {
		t.Errorf("a lease call on unknown deployment d-NOPE created it (GetDeployment: %v)", err)
	}
}

func testExpiredLeases(t *testing.T, u *suite) {
	u.app("app")
	now := t0.Add(time.Hour)
	// One group per active deployment; the lease of each expires at
	// expires (zero: released).
	cases := []struct {
		id      string
		status  deploy.DeploymentStatus
		leased  bool
		expires time.Time
	}{
		{"d-NEVER", deploy.StatusInProgress, false, time.Time{}},
		{"d-LIVE", deploy.StatusReady, true, now.Add(time.Nanosecond)},
		{"d-EXP", deploy.StatusBaking, true, now.Add(-10 * time.Second)},
		{"d-OLD", deploy.StatusCreated, true, now.Add(-20 * time.Second)},
		{"d-EDGE", deploy.StatusInProgress, true, now},
		{"d-REL", deploy.StatusInProgress, true, time.Time{}},
		{"d-QUEUED", deploy.StatusQueued, true, now.Add(-30 * time.Second)},
		{"d-DONE", deploy.StatusSucceeded, true, now.Add(-40 * time.Second)},
		{"d-STOPPED", deploy.StatusStopped, true, time.Time{}},
	}
	leases := map[string]deploy.Lease{}
	for i, c := range cases {
		g := u.group("app", fmt.Sprintf("g-%d", i))
		start := c.status
		if c.status.Final() {
			start = deploy.StatusInProgress // leased while it ran
		}
		d := u.deployment(g, c.id, start)
		if !c.leased {
			continue
		}
		at := c.expires.Add(-ttl)
		if c.expires.IsZero() {
			at = now.Add(-time.Minute)
		}
		l := u.acquire(u.s, c.id, "exec-"+c.id, at)
		if c.expires.IsZero() {
			u.must(u.s.ReleaseLease(u.ctx, l), "ReleaseLease "+c.id)
		}
		if c.status != start {
			d.Status = c.status
			u.must(u.s.UpdateDeployment(u.ctx, &d), "UpdateDeployment "+c.id+" to "+string(c.status))
		}
		leases[c.id] = u.lease(c.id)
	}
	want := func(ids ...string) []deploy.Lease {
		out := []deploy.Lease{}
		for _, id := range ids {
			out = append(out, leases[id])
		}
		return out
	}
	all := want("d-REL", "d-OLD", "d-EXP", "d-EDGE")
	for _, limit := range []int{100, 4} {
		got, err := u.s.ExpiredLeases(u.ctx, now, limit)
		u.must(err, "ExpiredLeases")
		u.sameLeases(got, all, fmt.Sprintf("ExpiredLeases(limit %d): the active, once-leased deployments whose lease is not live, earliest expiry first (released first)", limit))
	}
	for _, limit := range []int{1, 2, 3} {
		got, err := u.s.ExpiredLeases(u.ctx, now, limit)
		u.must(err, "ExpiredLeases")
		u.sameLeases(got, all[:limit], fmt.Sprintf("ExpiredLeases(limit %d)", limit))
	}
	got, err := u.s.ExpiredLeases(u.ctx, now, 0)
	u.must(err, "ExpiredLeases")
	if len(got) == 0 || len(got) > len(all) {
		t.Errorf("ExpiredLeases(limit 0) returned %d leases; want 1 to %d (the store chooses how many)", len(got), len(all))
	} else {
		u.same(got, all[:len(got)], "ExpiredLeases(limit 0)")
	}
	// Earlier, fewer had expired: the store compares the given now, not its
	// own clock.
	got, err = u.s.ExpiredLeases(u.ctx, now.Add(-15*time.Second), 100)
	u.must(err, "ExpiredLeases")
	u.sameLeases(got, want("d-REL", "d-OLD"), "ExpiredLeases 15s earlier")
}

func testLeaseVersion(t *testing.T, u *suite) {
	u.leased()
	u.must(u.s.PutTargets(u.ctx, "d-1", []deploy.DeploymentTarget{newTarget("i-1")}), "PutTargets")
	d, err := u.s.GetDeployment(u.ctx, "d-1")
	u.must(err, "GetDeployment")
	tg, err := u.s.GetTarget(u.ctx, "d-1", "i-1")
	u.must(err, "GetTarget")

	l := u.acquire(u.s, "d-1", "exec-a", t0)
	r, err := u.s.RenewLease(u.ctx, l, t0.Add(time.Second), ttl)
	u.must(err, "RenewLease")
	u.must(u.s.ReleaseLease(u.ctx, r), "ReleaseLease")
	u.acquire(u.s, "d-1", "exec-b", t0.Add(time.Second))
	u.acquire(u.s, "d-1", "exec-c", t0.Add(time.Hour))

	got, err := u.s.GetDeployment(u.ctx, "d-1")
	u.must(err, "GetDeployment")
	u.same(*got, *d, "the deployment after its lease was taken, renewed, released and taken over")
	gotT, err := u.s.GetTarget(u.ctx, "d-1", "i-1")
	u.must(err, "GetTarget")
	u.same(*gotT, *tg, "the target after lease changes")

	// Writes through the store itself are not fenced: any executor may
	// record a stop request while another holds the lease, with the
	// version it read before the lease changed.
	d.Description = "stop requested"
	if err := u.s.UpdateDeployment(u.ctx, d); err != nil {
		t.Errorf("an unfenced UpdateDeployment, with the version read before the lease changes, while exec-c holds the lease: %v", err)
	} else if d.Version != 2 {
		t.Errorf("UpdateDeployment after lease changes set Version %d; want 2", d.Version)
	}
}

func testLeaseCancelled(t *testing.T, u *suite) {
	u.leased()
	u.deployment(u.group("app", "other"), "d-2", deploy.StatusInProgress)
	l := u.acquire(u.s, "d-1", "exec-a", t0)
	d, err := u.s.GetDeployment(u.ctx, "d-1")
	u.must(err, "GetDeployment")
	ctx, cancel := context.WithCancel(u.ctx)
	cancel()
	isCtx := func(err error, what string) {
		t.Helper()
		if !errors.Is(err, context.Canceled) {
			t.Errorf("%s with a cancelled context: got %v; want an error matching context.Canceled", what, err)
		}
	}
	_, err = u.s.AcquireLease(ctx, "d-1", "exec-a", t0.Add(time.Second), ttl)
	isCtx(err, "AcquireLease by the holder")
	_, err = u.s.AcquireLease(ctx, "d-1", "exec-b", t0.Add(ttl), ttl)
	isCtx(err, "AcquireLease of an expired lease")
	_, err = u.s.AcquireLease(ctx, "d-2", "exec-b", t0, ttl)
	isCtx(err, "AcquireLease of a deployment never leased")
	_, err = u.s.RenewLease(ctx, l, t0.Add(time.Second), ttl)
	isCtx(err, "RenewLease")
	isCtx(u.s.ReleaseLease(ctx, l), "ReleaseLease")
	_, err = u.s.GetLease(ctx, "d-1")
	isCtx(err, "GetLease")
	_, err = u.s.ExpiredLeases(ctx, t0.Add(time.Hour), 0)
	isCtx(err, "ExpiredLeases")
	up := d.Clone()
	up.Description = "changed"
	isCtx(u.s.Fenced(l).UpdateDeployment(ctx, &up), "UpdateDeployment through the holder's fenced view")

	u.same(u.lease("d-1"), l, "the lease after cancelled lease calls")
	u.same(u.lease("d-2"), deploy.Lease{DeploymentID: "d-2"}, "the lease of d-2 after a cancelled AcquireLease")
	got, err := u.s.GetDeployment(u.ctx, "d-1")
	u.must(err, "GetDeployment")
	u.same(*got, *d, "the deployment after a cancelled fenced update")
}

// testFencedView checks what a fenced view is besides its writes' fence:
// a renewal keeps it writing, its reads are not fenced, and a view of
// another deployment's lease does not write under this one's.
func testFencedView(t *testing.T, u *suite) {
	u.leased()
	l := u.acquire(u.s, "d-1", "exec-a", t0)
	f := u.s.Fenced(l)
	_, err := u.s.RenewLease(u.ctx, l, t0.Add(20*time.Second), ttl)
	u.must(err, "RenewLease")
	d, err := f.GetDeployment(u.ctx, "d-1")
	u.must(err, "GetDeployment through a fenced view")
	d.Description = "after the renewal"
	if err := f.UpdateDeployment(u.ctx, d); err != nil {
		t.Errorf("UpdateDeployment through a fenced view made before its lease was renewed: %v; a renewal keeps the token, and the view", err)
	}

	next := u.acquire(u.s, "d-1", "exec-b", t0.Add(time.Hour))
	got, err := f.GetDeployment(u.ctx, "d-1")
	if err != nil {
		t.Errorf("GetDeployment through the fenced view of a lost lease: %v; reads are not fenced", err)
	} else {
		u.same(*got, *d, "GetDeployment through the fenced view of a lost lease")
	}
	if cur, err := f.GetLease(u.ctx, "d-1"); err != nil {
		t.Errorf("GetLease through the fenced view of a lost lease: %v", err)
	} else {
		u.same(cur, next, "GetLease through the fenced view of a lost lease")
	}
	if _, err := f.GetTarget(u.ctx, "d-1", "i-NOPE"); !errors.Is(err, deploy.ErrNotFound) {
		t.Errorf("GetTarget of an unknown target through the fenced view of a lost lease: got %v; want deploy.ErrNotFound", err)
	}
}

// testRequestNotClobbered checks what requests stored with a deployment by
// executors that do not hold its lease rely on (Stop, Continue, a hook
// function's status report): such an unfenced write, made while the holder
// works from an older copy, makes the holder's fenced write of that copy
// fail with ErrConflict — not succeed, which would drop the request — and
// the holder's write of a fresh copy keeps it.
func testRequestNotClobbered(t *testing.T, u *suite) {
	u.leased()
	l := u.acquire(u.s, "d-1", "exec-a", t0)
	f := u.s.Fenced(l)
	held, err := f.GetDeployment(u.ctx, "d-1")
	u.must(err, "GetDeployment through the holder's fenced view")

	req, err := u.s.GetDeployment(u.ctx, "d-1")
	u.must(err, "GetDeployment")
	req.HookExecutions = append(req.HookExecutions, deploy.HookExecution{ID: "d-1-BeforeAllowTraffic",
		Event: target.BeforeAllowTraffic, Status: target.EventSucceeded, Reported: true, EndTime: t0})
	u.must(u.s.UpdateDeployment(u.ctx, req), "an unfenced UpdateDeployment (a request) while exec-a holds the lease")

	stale := held.Clone()
	stale.Description = "the holder's progress"
	u.wantErr(f.UpdateDeployment(u.ctx, &stale), deploy.ErrConflict, "the holder's fenced UpdateDeployment of a copy read before the request")
	got, err := u.s.GetDeployment(u.ctx, "d-1")
	u.must(err, "GetDeployment")
	u.same(*got, *req, "the deployment after the holder's refused write")

	got.Description = "the holder's progress"
	if err := f.UpdateDeployment(u.ctx, got); err != nil {
		t.Fatalf("the holder's fenced UpdateDeployment of a copy read after the request: %v", err)
	}
	after, err := u.s.GetDeployment(u.ctx, "d-1")
	u.must(err, "GetDeployment")
	u.same(after.HookExecutions, req.HookExecutions, "the request after the holder's write")
}

// --- fencing, method by method ---

// A fencedWrite is one write method of a fenced view. It prepares, through
// u.s, what its n-th write needs, and returns the write, through s; each n
// writes something new.
type fencedWrite func(u *suite, s deploy.Store, n int) (write func() error)

func fenceCreateApplication(u *suite, s deploy.Store, n int) func() error {
	return func() error {
		a := deploy.Application{Name: fmt.Sprintf("app-%d", n), ComputePlatform: "Server", CreateTime: t0}
		return s.CreateApplication(u.ctx, &a)
	}
}

func fenceCreateGroup(u *suite, s deploy.Store, n int) func() error {
	return func() error {
		g := deploy.Group{ApplicationName: "app", Name: fmt.Sprintf("group-%d", n), DeploymentConfigName: "CodeDeployDefault.OneAtATime"}
		return s.CreateGroup(u.ctx, &g)
	}
}

func fenceUpdateGroup(u *suite, s deploy.Store, n int) func() error {
	g, err := u.s.GetGroup(u.ctx, "app", "web")
	u.must(err, "GetGroup")
	g.DeploymentConfigName = fmt.Sprintf("config-%d", n)
	return func() error { return s.UpdateGroup(u.ctx, g) }
}

// fenceCreateDeployment creates an active deployment, as a rollback is, in
// a group of its own.
func fenceCreateDeployment(u *suite, s deploy.Store, n int) func() error {
	g := u.group("app", fmt.Sprintf("rollback-%d", n))
	return func() error {
		d := newDeployment(g, fmt.Sprintf("d-ROLLBACK%d", n), deploy.StatusCreated, t0)
		d.Creator = target.CreatorRollback
		return s.CreateDeployment(u.ctx, &d)
	}
}

func fenceUpdateDeployment(u *suite, s deploy.Store, n int) func() error {
	d, err := u.s.GetDeployment(u.ctx, "d-1")
	u.must(err, "GetDeployment")
	d.Description = fmt.Sprintf("write %d", n)
	return func() error { return s.UpdateDeployment(u.ctx, d) }
}

func fencePutTargets(u *suite, s deploy.Store, n int) func() error {
	return func() error {
		return s.PutTargets(u.ctx, "d-1", []deploy.DeploymentTarget{newTarget(fmt.Sprintf("i-new-%d", n))})
	}
}

func fenceUpdateTarget(u *suite, s deploy.Store, n int) func() error {
	tg, err := u.s.GetTarget(u.ctx, "d-1", "i-1")
	u.must(err, "GetTarget")
	tg.Status = target.TargetInProgress
	tg.LastUpdated = t0.Add(time.Duration(n+1) * time.Minute)
	return func() error { return s.UpdateTarget(u.ctx, tg) }
}

func fencePutInstances(u *suite, s deploy.Store, n int) func() error {
	g, err := u.s.GetGroup(u.ctx, "app", "web")
	u.must(err, "GetGroup")
	hs := []health.InstanceHealth{health.Healthy, health.Unhealthy}
	return func() error {
		return s.PutInstances(u.ctx, []deploy.InstanceRecord{
			{GroupID: g.ID, TargetID: "i-1", InstanceHealth: hs[n%2]},
			{GroupID: g.ID, TargetID: fmt.Sprintf("i-new-%d", n), InstanceHealth: health.Healthy},
		})
	}
}

// world is everything a fenced write may change, as read through u.s.
type world struct {
	Applications []deploy.Application
	Groups       []deploy.Group
	Deployments  []deploy.Deployment // of every group of app
	Targets      []deploy.DeploymentTarget
	Instances    []deploy.InstanceRecord
	Lease        deploy.Lease
}

func (u *suite) world(groupID string) world {
	u.t.Helper()
	var w world
	var err error
	w.Applications, err = u.s.ListApplications(u.ctx)
	u.must(err, "ListApplications")
	w.Groups, err = u.s.ListGroups(u.ctx, "app")
	u.must(err, "ListGroups")
	for _, g := range w.Groups {
		ds, err := u.s.ListDeployments(u.ctx, "app", g.Name)
		u.must(err, "ListDeployments")
		w.Deployments = append(w.Deployments, ds...)
	}
	w.Targets = u.targets(u.s, "d-1")
	w.Instances, err = u.s.GetInstances(u.ctx, groupID)
	u.must(err, "GetInstances")
	w.Lease = u.lease("d-1")
	return w
}

// targets returns every target of the deployment, read through s.
func (u *suite) targets(s deploy.Store, deploymentID string) []deploy.DeploymentTarget {
	u.t.Helper()
	var out []deploy.DeploymentTarget
	for tg, err := range deploy.AllTargets(u.ctx, s, deploymentID) {
		u.must(err, "listing the targets of "+deploymentID)
		out = append(out, tg)
	}
	return out
}

// fencedCheck returns the check of one write method of fenced views: it
// succeeds while the view's lease is current, and after a takeover, a
// release, or the holder taking the lease again, it returns a
// *deploy.LeaseLostError and changes nothing.
func fencedCheck(w fencedWrite) func(*testing.T, *suite) {
	return func(t *testing.T, u *suite) {
		g := u.leased()
		u.must(u.s.PutTargets(u.ctx, "d-1", []deploy.DeploymentTarget{newTarget("i-1")}), "PutTargets")
		u.must(u.s.PutInstances(u.ctx, []deploy.InstanceRecord{{GroupID: g.ID, TargetID: "i-1", InstanceHealth: health.Healthy}}), "PutInstances")
		n := 0
		ok := func(s deploy.Store, what string) {
			t.Helper()
			write := w(u, s, n)
			n++
			if err := write(); err != nil {
				t.Errorf("through %s: %v", what, err)
			}
		}
		refused := func(s deploy.Store, l deploy.Lease, what string) {
			t.Helper()
			write := w(u, s, n)
			n++
			before := u.world(g.ID)
			err := write()
			u.wantLost(err, l, before.Lease, "through "+what)
			u.same(u.world(g.ID), before, "the stored state after a refused write through "+what)
		}

		l := u.acquire(u.s, "d-1", "exec-a", t0)
		held := u.s.Fenced(l)
		ok(held, "the holder's fenced view")
		ok(held, "the holder's fenced view, a second time")
		next := u.acquire(u.s, "d-1", "exec-b", t0.Add(ttl))
		refused(held, l, "the fenced view of a lease taken over since")

		mine := u.s.Fenced(next)
		ok(mine, "the fenced view of the executor that took the lease over")
		u.must(u.s.ReleaseLease(u.ctx, next), "ReleaseLease")
		refused(mine, next, "the fenced view of a released lease")

		again := u.acquire(u.s, "d-1", "exec-b", t0.Add(ttl))
		earlier := u.s.Fenced(again)
		ok(earlier, "the fenced view of a lease taken after a release")
		u.acquire(u.s, "d-1", "exec-b", t0.Add(ttl+time.Second))
		refused(earlier, again, "the fenced view of an earlier lease of the same owner, who took the lease again")
	}
}

// sameLeases reports the differences between two lists of leases, naming
// the deployments when the lists differ in length.
func (u *suite) sameLeases(got, want []deploy.Lease, what string) {
	u.t.Helper()
	if len(got) != len(want) {
		u.t.Errorf("%s: got the leases of %v; want those of %v", what, leaseIDs(got), leaseIDs(want))
		return
	}
	u.same(got, want, what)
}

// leaseIDs returns the deployment IDs of leases, in order.
func leaseIDs(ls []deploy.Lease) []string {
	ids := make([]string, len(ls))
	for i, l := range ls {
		ids[i] = l.DeploymentID
	}
	return ids
}

package dynamostore_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/fleetdeploy/fleetdeploy/deploy"
	"github.com/fleetdeploy/fleetdeploy/deploy/dynamostore"
	"github.com/fleetdeploy/fleetdeploy/health"
	"github.com/fleetdeploy/fleetdeploy/revision"
	"github.com/fleetdeploy/fleetdeploy/target"
)

var t0 = time.Date(2026, 3, 4, 5, 6, 7, 890123456, time.UTC)

// twoHandles returns two stores on one new table, each with a client of
// its own: what two executors on two machines have.
func twoHandles(t *testing.T) (a, b *dynamostore.Store) {
	t.Helper()
	table := newTable(t)
	return open(t, nil, table), open(t, nil, table)
}

// fixture creates application app with group web on s.
func fixture(t *testing.T, s deploy.Store) deploy.Group {
	t.Helper()
	ctx := t.Context()
	if err := s.CreateApplication(ctx, &deploy.Application{Name: "app", ComputePlatform: "Server"}); err != nil {
		t.Fatalf("CreateApplication: %v", err)
	}
	g := deploy.Group{ApplicationName: "app", Name: "web"}
	if err := s.CreateGroup(ctx, &g); err != nil {
		t.Fatalf("CreateGroup: %v", err)
	}
	return g
}

func newDeployment(g deploy.Group, id string, status deploy.DeploymentStatus) deploy.Deployment {
	return deploy.Deployment{
		ID: id, ApplicationName: g.ApplicationName, GroupName: g.Name, GroupID: g.ID, Status: status, CreateTime: t0,
		Revision: revision.Location{Type: revision.LocationS3, S3: &revision.S3Location{Bucket: "b", Key: id + ".zip", BundleType: revision.BundleZip}},
	}
}

func newTarget(id string) deploy.DeploymentTarget {
	return deploy.DeploymentTarget{TargetID: id, Target: target.Target{ID: id, Zone: "zone-a"},
		InitialInstanceHealth: health.Healthy, InitialRevisionHealth: health.Old, Status: target.TargetPending}
}

// TestOneActiveAcrossHandles races 64 creators of active deployments of
// one group, half on each of two handles with clients of their own:
// exactly one wins, and every other is told which.
func TestOneActiveAcrossHandles(t *testing.T) {
	a, b := twoHandles(t)
	g := fixture(t, a)
	const n = 64
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		s := a
		if i%2 == 1 {
			s = b
		}
		wg.Go(func() {
			<-start
			d := newDeployment(g, fmt.Sprintf("d-RACE%02d", i), deploy.StatusCreated)
			errs[i] = s.CreateDeployment(t.Context(), &d)
		})
	}
	close(start)
	wg.Wait()
	var winners []string
	for i, err := range errs {
		if err == nil {
			winners = append(winners, fmt.Sprintf("d-RACE%02d", i))
		}
	}
	if len(winners) != 1 {
		t.Fatalf("%d deployments became active: %v; want exactly one", len(winners), winners)
	}
	for i, err := range errs {
		var ae *deploy.ActiveDeploymentError
		if err != nil && (!errors.As(err, &ae) || ae.DeploymentID != winners[0]) {
			t.Errorf("creator %d: %v; want an *ActiveDeploymentError naming %s", i, err, winners[0])
		}
	}
	for _, s := range []*dynamostore.Store{a, b} {
		all, err := s.ListDeployments(t.Context(), "app", "web")
		if err != nil || len(all) != 1 || all[0].ID != winners[0] {
			t.Errorf("ListDeployments = %d deployments, %v; want only %s", len(all), err, winners[0])
		}
	}
}

func TestLeaseLifecycle(t *testing.T) {
	a, b := twoHandles(t)
	ctx := t.Context()
	g := fixture(t, a)
	d := newDeployment(g, "d-LEASE", deploy.StatusInProgress)
	if err := a.CreateDeployment(ctx, &d); err != nil {
		t.Fatal(err)
	}
	if l, err := b.GetLease(ctx, d.ID); err != nil || l != (deploy.Lease{DeploymentID: d.ID}) {
		t.Errorf("GetLease of a deployment never leased = %+v, %v; want the zero lease", l, err)
	}
	if got, err := a.ExpiredLeases(ctx, t0.Add(time.Hour), 0); err != nil || len(got) != 0 {
		t.Errorf("ExpiredLeases before any lease = %v, %v; want none (never leased)", got, err)
	}
	la, err := a.AcquireLease(ctx, d.ID, "exec-a", t0, time.Minute)
	if err != nil || la.Token != 1 || la.Owner != "exec-a" || !la.Expires.Equal(t0.Add(time.Minute)) {
		t.Fatalf("AcquireLease = %+v, %v; want token 1 of exec-a until t0+1m", la, err)
	}
	_, err = b.AcquireLease(ctx, d.ID, "exec-b", t0.Add(30*time.Second), time.Minute)
	var held *deploy.LeaseHeldError
	if !errors.As(err, &held) || held.Lease != la {
		t.Errorf("AcquireLease of a live lease by another owner: %v; want a *LeaseHeldError naming %+v", err, la)
	}
	if la, err = a.RenewLease(ctx, la, t0.Add(50*time.Second), time.Minute); err != nil || !la.Expires.Equal(t0.Add(110*time.Second)) {
		t.Errorf("RenewLease = %+v, %v", la, err)
	}
	if got, err := b.ExpiredLeases(ctx, t0.Add(100*time.Second), 0); err != nil || len(got) != 0 {
		t.Errorf("ExpiredLeases while the lease is live = %v, %v; want none", got, err)
	}
	got, err := b.ExpiredLeases(ctx, t0.Add(110*time.Second), 0)
	if err != nil || len(got) != 1 || got[0] != la {
		t.Errorf("ExpiredLeases at the expiry = %v, %v; want [%v]", got, err, la)
	}
	lb, err := b.AcquireLease(ctx, d.ID, "exec-b", t0.Add(2*time.Minute), time.Minute)
	if err != nil || lb.Token != 2 {
		t.Fatalf("taking over an expired lease = %+v, %v; want token 2", lb, err)
	}
	var lostErr *deploy.LeaseLostError
	if _, err := a.RenewLease(ctx, la, t0.Add(2*time.Minute), time.Minute); !errors.As(err, &lostErr) || lostErr.Current != lb {
		t.Errorf("RenewLease of a lease taken over: %v; want a *LeaseLostError naming %+v", err, lb)
	}
	if err := a.ReleaseLease(ctx, la); !errors.Is(err, deploy.ErrLeaseLost) {
		t.Errorf("ReleaseLease of a lease taken over: %v; want ErrLeaseLost", err)
	}
	if err := b.ReleaseLease(ctx, lb); err != nil {
		t.Fatalf("ReleaseLease: %v", err)
	}
	rel, err := a.GetLease(ctx, d.ID)
	if err != nil || rel.Owner != "exec-b" || rel.Token != 2 || !rel.Expires.IsZero() {
		t.Errorf("GetLease after release = %+v, %v; want exec-b's token 2 with a zero expiry", rel, err)
	}
	if got, err := a.ExpiredLeases(ctx, t0, 0); err != nil || len(got) != 1 || got[0] != rel {
		t.Errorf("ExpiredLeases after a release = %v, %v; want [%v]", got, err, rel)
	}
	if _, err := b.RenewLease(ctx, lb, t0, time.Minute); !errors.Is(err, deploy.ErrLeaseLost) {
		t.Errorf("RenewLease of a released lease: %v; want ErrLeaseLost", err)
	}
	if l, err := a.AcquireLease(ctx, d.ID, "exec-a", t0.Add(3*time.Minute), time.Minute); err != nil || l.Token != 3 {
		t.Errorf("AcquireLease after a release = %+v, %v; want token 3", l, err)
	}
	// A deployment that ends leaves the index of active ones.
	cur, err := a.GetDeployment(ctx, d.ID)
	if err != nil {
		t.Fatal(err)
	}
	cur.Status = deploy.StatusSucceeded
	if err := a.UpdateDeployment(ctx, cur); err != nil {
		t.Fatal(err)
	}
	if got, err := a.ExpiredLeases(ctx, t0.Add(time.Hour), 0); err != nil || len(got) != 0 {
		t.Errorf("ExpiredLeases after the deployment succeeded = %v, %v; want none", got, err)
	}
	if _, err := a.AcquireLease(ctx, "d-NOPE", "x", t0, time.Minute); !errors.Is(err, deploy.ErrNotFound) {
		t.Errorf("AcquireLease of an unknown deployment: %v; want ErrNotFound", err)
	}
	if _, err := a.AcquireLease(ctx, d.ID, "", t0, time.Minute); !errors.Is(err, deploy.ErrInvalidArgument) {
		t.Errorf("AcquireLease without an owner: %v; want ErrInvalidArgument", err)
	}
}

func TestExpiredLeasesOrderAndLimit(t *testing.T) {
	s := open(t, nil, newTable(t))
	ctx := t.Context()
	if err := s.CreateApplication(ctx, &deploy.Application{Name: "app"}); err != nil {
		t.Fatal(err)
	}
	var want []string
	for i, exp := range []int{5, 1, 3, 2, 4} {
		g := deploy.Group{ApplicationName: "app", Name: fmt.Sprintf("g%d", i)}
		if err := s.CreateGroup(ctx, &g); err != nil {
			t.Fatal(err)
		}
		d := newDeployment(g, fmt.Sprintf("d-%d", exp), deploy.StatusInProgress)
		if err := s.CreateDeployment(ctx, &d); err != nil {
			t.Fatal(err)
		}
		if _, err := s.AcquireLease(ctx, d.ID, "x", t0, time.Duration(exp)*time.Minute); err != nil {
			t.Fatal(err)
		}
	}
	want = []string{"d-1", "d-2", "d-3"}
	got, err := s.ExpiredLeases(ctx, t0.Add(4*time.Minute), 3)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, l := range got {
		ids = append(ids, l.DeploymentID)
	}
	if !slices.Equal(ids, want) {
		t.Errorf("ExpiredLeases(limit 3) = %v; want %v (earliest expiry first)", ids, want)
	}
}

// TestFencedWritesAfterTakeover: after handle b takes a deployment's
// lease over, every write through a's view fenced by the old lease fails
// with a *LeaseLostError naming b's lease, and changes nothing.
func TestFencedWritesAfterTakeover(t *testing.T) {
	a, b := twoHandles(t)
	ctx := context.Background()
	g := fixture(t, a)
	d := newDeployment(g, "d-FENCE", deploy.StatusInProgress)
	if err := a.CreateDeployment(ctx, &d); err != nil {
		t.Fatal(err)
	}
	la, err := a.AcquireLease(ctx, d.ID, "exec-a", t0, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	fa := a.Fenced(la)
	// Writes under the live lease go through.
	ts := []deploy.DeploymentTarget{newTarget("i-1"), newTarget("i-2")}
	if err := fa.PutTargets(ctx, d.ID, ts); err != nil {
		t.Fatalf("fenced PutTargets under a live lease: %v", err)
	}
	up := ts[0]
	up.Status = target.TargetInProgress
	if err := fa.UpdateTarget(ctx, &up); err != nil {
		t.Fatalf("fenced UpdateTarget under a live lease: %v", err)
	}
	if err := fa.PutInstances(ctx, []deploy.InstanceRecord{{GroupID: g.ID, TargetID: "i-1", InstanceHealth: health.Healthy}}); err != nil {
		t.Fatalf("fenced PutInstances under a live lease: %v", err)
	}
	cur, err := a.GetDeployment(ctx, d.ID)
	if err != nil {
		t.Fatal(err)
	}
	cur.Description = "fenced"
	if err := fa.UpdateDeployment(ctx, cur); err != nil {
		t.Fatalf("fenced UpdateDeployment under a live lease: %v", err)
	}

	lb, err := b.AcquireLease(ctx, d.ID, "exec-b", t0.Add(2*time.Minute), time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	wantLost := func(what string, err error) {
		t.Helper()
		var ll *deploy.LeaseLostError
		if !errors.As(err, &ll) || ll.Lease != la || ll.Current != lb {
			t.Errorf("%s after the takeover: %v; want a *LeaseLostError of %v naming %v", what, err, la, lb)
		}
	}
	up2 := up
	up2.Status = target.TargetSucceeded
	wantLost("UpdateTarget", fa.UpdateTarget(ctx, &up2))
	wantLost("PutTargets", fa.PutTargets(ctx, d.ID, []deploy.DeploymentTarget{newTarget("i-3")}))
	wantLost("PutInstances", fa.PutInstances(ctx, []deploy.InstanceRecord{{GroupID: g.ID, TargetID: "i-1", InstanceHealth: health.Unhealthy}}))
	d2 := *cur
	d2.Status = deploy.StatusFailed
	wantLost("UpdateDeployment to Failed", fa.UpdateDeployment(ctx, &d2))
	d3 := *cur
	d3.Description = "changed"
	wantLost("UpdateDeployment", fa.UpdateDeployment(ctx, &d3))
	grp, err := a.GetGroup(ctx, "app", "web")
	if err != nil {
		t.Fatal(err)
	}
	grp.DeploymentConfigName = "changed"
	wantLost("UpdateGroup", fa.UpdateGroup(ctx, grp))
	rb := newDeployment(g, "d-ROLLBACK", deploy.StatusQueued)
	wantLost("CreateDeployment", fa.CreateDeployment(ctx, &rb))
	wantLost("CreateApplication", fa.CreateApplication(ctx, &deploy.Application{Name: "other"}))
	wantLost("CreateGroup", fa.CreateGroup(ctx, &deploy.Group{ApplicationName: "app", Name: "other"}))

	// Nothing changed.
	if got, err := b.GetTarget(ctx, d.ID, "i-1"); err != nil || got.Status != target.TargetInProgress || got.Version != 2 {
		t.Errorf("target i-1 after a refused fenced update: %+v, %v; want InProgress, version 2", got, err)
	}
	if _, err := b.GetTarget(ctx, d.ID, "i-3"); !errors.Is(err, deploy.ErrNotFound) {
		t.Errorf("a refused fenced PutTargets stored i-3 (%v)", err)
	}
	if page, _, err := b.ListTargets(ctx, d.ID, "", 0); err != nil || len(page) != 2 {
		t.Errorf("ListTargets after a refused PutTargets = %d targets, %v; want 2", len(page), err)
	}
	if r, err := b.GetInstance(ctx, g.ID, "i-1"); err != nil || r.InstanceHealth != health.Healthy || r.Version != 1 {
		t.Errorf("instance record after a refused fenced PutInstances: %+v, %v; want Healthy, version 1", r, err)
	}
	if got, err := b.GetDeployment(ctx, d.ID); err != nil || got.Status != deploy.StatusInProgress || got.Version != cur.Version || got.Description != "fenced" {
		t.Errorf("deployment after refused fenced updates: %+v, %v", got, err)
	}
	if got, err := b.GetGroup(ctx, "app", "web"); err != nil || got.Version != 1 {
		t.Errorf("group after a refused fenced update: %+v, %v", got, err)
	}
	for _, id := range []string{"d-ROLLBACK"} {
		if _, err := b.GetDeployment(ctx, id); !errors.Is(err, deploy.ErrNotFound) {
			t.Errorf("a refused fenced CreateDeployment stored %s (%v)", id, err)
		}
	}
	if _, err := b.GetApplication(ctx, "other"); !errors.Is(err, deploy.ErrNotFound) {
		t.Errorf("a refused fenced CreateApplication stored it (%v)", err)
	}
	next := newDeployment(g, "d-NEXT", deploy.StatusCreated)
	if err := b.CreateDeployment(ctx, &next); !errors.Is(err, deploy.ErrActiveDeployment) {
		t.Errorf("the refused fenced move to Failed freed the group (CreateDeployment: %v)", err)
	}
	// The new holder's fenced writes go through.
	fb := b.Fenced(lb)
	if err := fb.UpdateTarget(ctx, &up2); err != nil {
		t.Errorf("UpdateTarget fenced by the current lease: %v", err)
	}
	if err := b.ReleaseLease(ctx, lb); err != nil {
		t.Fatal(err)
	}
	up3 := up2
	up3.Status = target.TargetFailed
	if err := fb.UpdateTarget(ctx, &up3); !errors.Is(err, deploy.ErrLeaseLost) {
		t.Errorf("UpdateTarget fenced by a released lease: %v; want ErrLeaseLost", err)
	}
}

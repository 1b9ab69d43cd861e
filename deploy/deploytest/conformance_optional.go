package deploytest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/fleetdeploy/fleetdeploy/deploy"
	"github.com/fleetdeploy/fleetdeploy/health"
	"github.com/fleetdeploy/fleetdeploy/revision"
	"github.com/fleetdeploy/fleetdeploy/target"
)

// The optional store interfaces (deploy.TargetUpdaterAt,
// deploy.InstanceBatchGetter) are checked for
// stores that implement them: each must give the results of the Store
// methods it stands for, and a store's fenced view must implement it too,
// fenced as those methods are. A store that implements none passes these
// checks as it is.

// optionalFixture creates group app/web with deployment d-1, InProgress,
// and puts n targets into it, i-0 to i-(n-1) in that order: targets with
// equal tags, events listed and not started, and (i-1) a record with every
// field filled. It returns the targets as stored.
func (u *suite) optionalFixture(n int) []deploy.DeploymentTarget {
	u.t.Helper()
	g := u.fixture()
	u.deployment(g, "d-1", deploy.StatusInProgress)
	tags := map[string]string{"env": "prod", "team": "web"}
	pending := []deploy.LifecycleEventRecord{{Name: target.ApplicationStop, Status: target.EventPending},
		{Name: target.Install, Status: target.EventPending}}
	ts := make([]deploy.DeploymentTarget, n)
	for i := range ts {
		ts[i] = newTarget(fmt.Sprintf("i-%d", i))
		ts[i].Target.Tags = tags
		ts[i].LifecycleEvents = pending
	}
	if n > 1 {
		ts[1] = filledTarget("i-1")
	}
	u.must(u.s.PutTargets(u.ctx, "d-1", ts), "PutTargets")
	stored := make([]deploy.DeploymentTarget, n)
	for i := range ts {
		got, err := u.s.GetTarget(u.ctx, "d-1", ts[i].TargetID)
		u.must(err, "GetTarget "+ts[i].TargetID)
		stored[i] = *got
	}
	return stored
}

// optionalLease takes the lease of deployment id for owner at now.
func (u *suite) optionalLease(id, owner string, now time.Time) deploy.Lease {
	u.t.Helper()
	l, err := u.s.AcquireLease(u.ctx, id, owner, now, time.Minute)
	u.must(err, "AcquireLease of "+id+" for "+owner)
	return l
}

// optionalAllTargets returns the deployment's targets through deploy.AllTargets.
func (u *suite) optionalAllTargets(id string) []deploy.DeploymentTarget {
	u.t.Helper()
	var out []deploy.DeploymentTarget
	for tg, err := range deploy.AllTargets(u.ctx, u.s, id) {
		u.must(err, "deploy.AllTargets of "+id)
		out = append(out, tg)
	}
	return out
}

// testIsolationPage reads a page of targets that share tags and event
// lists, changes everything it holds, and checks the store did not change:
// a page's records may share memory with each other, never with the store
// (Store.ListTargets).
func testIsolationPage(t *testing.T, u *suite) {
	ts := u.optionalFixture(6)
	started := ts[3]
	started.Status = target.TargetFailed
	started.LifecycleEvents = []deploy.LifecycleEventRecord{
		{Name: target.ApplicationStop, Status: target.EventSucceeded, StartTime: t0, EndTime: t0.Add(time.Second)},
		{Name: target.Install, Status: target.EventFailed, StartTime: t0.Add(time.Second), EndTime: t0.Add(2 * time.Second),
			Diagnostics: &deploy.Diagnostics{ErrorCode: target.CodeScriptFailed, Message: "exit 1"}},
	}
	u.must(u.s.UpdateTarget(u.ctx, &started), "UpdateTarget i-3")
	var want []deploy.DeploymentTarget
	for _, tg := range ts {
		got, err := u.s.GetTarget(u.ctx, "d-1", tg.TargetID)
		u.must(err, "GetTarget "+tg.TargetID)
		want = append(want, *got)
	}
	page, _, err := u.s.ListTargets(u.ctx, "d-1", "", len(ts))
	u.must(err, "ListTargets")
	u.same(page, want, "a page of ListTargets, against GetTarget's records")
	scribble(&page)
	u.same(u.optionalAllTargets("d-1"), want, "the targets after the caller changed what ListTargets returned")
	again, _, err := u.s.ListTargets(u.ctx, "d-1", "", len(ts))
	u.must(err, "ListTargets")
	u.same(again, want, "ListTargets after the caller changed what an earlier ListTargets returned")
}

func testOptionalUpdateTargetAt(t *testing.T, u *suite) {
	up, ok := u.s.(deploy.TargetUpdaterAt)
	if !ok {
		return
	}
	ts := u.optionalFixture(5)
	n := 0
	// update changes target id through write and checks the result is
	// UpdateTarget's: the record replaced, its version one more, the
	// others unchanged.
	update := func(write func(*deploy.DeploymentTarget) error, id, what string) {
		t.Helper()
		cur, err := u.s.GetTarget(u.ctx, "d-1", id)
		u.must(err, "GetTarget "+id)
		n++
		next := cur.Clone()
		next.Status = target.TargetInProgress
		next.LastUpdated = t0.Add(time.Duration(n) * time.Minute)
		next.Target.Zone = fmt.Sprintf("zone-%d", n)
		next.LifecycleEvents = []deploy.LifecycleEventRecord{{Name: target.ApplicationStop, Status: target.EventInProgress, StartTime: next.LastUpdated},
			{Name: target.Install, Status: target.EventPending}}
		if err := write(&next); err != nil {
			t.Errorf("%s: %v", what, err)
			return
		}
		if next.Version != cur.Version+1 {
			t.Errorf("%s set Version %d; want %d", what, next.Version, cur.Version+1)
		}
		got, err := u.s.GetTarget(u.ctx, "d-1", id)
		u.must(err, "GetTarget "+id)
		u.same(*got, next, what+": the stored record")
		for i := range ts {
			if ts[i].TargetID == id {
				ts[i] = next
				continue
			}
			other, err := u.s.GetTarget(u.ctx, "d-1", ts[i].TargetID)
			u.must(err, "GetTarget "+ts[i].TargetID)
			u.same(*other, ts[i], what+": target "+ts[i].TargetID)
		}
	}
	for _, c := range []struct {
		index int
		why   string
	}{{2, "its position"}, {0, "another target's position"}, {-1, "-1"}, {99, "a position past the last"}} {
		update(func(rec *deploy.DeploymentTarget) error { return up.UpdateTargetAt(u.ctx, c.index, rec) }, "i-2",
			fmt.Sprintf("UpdateTargetAt(%d) of i-2, at %s", c.index, c.why))
	}

	stale := ts[3]
	update(func(rec *deploy.DeploymentTarget) error { return up.UpdateTargetAt(u.ctx, 3, rec) }, "i-3", "UpdateTargetAt(3) of i-3")
	stale.Status = target.TargetFailed
	u.wantErr(up.UpdateTargetAt(u.ctx, 3, &stale), deploy.ErrConflict, "UpdateTargetAt with a stale version")
	missing := newTarget("i-NOPE")
	missing.DeploymentID, missing.Version = "d-1", 1
	u.wantErr(up.UpdateTargetAt(u.ctx, 0, &missing), deploy.ErrNotFound, "UpdateTargetAt of an unknown target, at another's position")
	elsewhere := ts[0]
	elsewhere.DeploymentID = "d-NOPE"
	u.wantErr(up.UpdateTargetAt(u.ctx, 0, &elsewhere), deploy.ErrNotFound, "UpdateTargetAt of a target of an unknown deployment")
	ctx, cancel := context.WithCancel(u.ctx)
	cancel()
	cancelled := ts[4]
	cancelled.Status = target.TargetSucceeded
	if err := up.UpdateTargetAt(ctx, 4, &cancelled); !errors.Is(err, context.Canceled) {
		t.Errorf("UpdateTargetAt with a cancelled context: got %v; want an error matching context.Canceled", err)
	}
	u.same(u.optionalAllTargets("d-1"), ts, "the targets after refused UpdateTargetAt calls")

	// Fenced as UpdateTarget is.
	view := u.s.Fenced(u.optionalLease("d-1", "exec-a", t0))
	fu, ok := view.(deploy.TargetUpdaterAt)
	if !ok {
		t.Fatal("the store implements deploy.TargetUpdaterAt and its fenced view does not; Fenced must return a view that implements whatever the store does")
	}
	update(func(rec *deploy.DeploymentTarget) error { return fu.UpdateTargetAt(u.ctx, 4, rec) }, "i-4", "UpdateTargetAt(4) of i-4 through a fenced view")
	u.optionalLease("d-1", "exec-b", t0.Add(2*time.Minute)) // exec-a's lease expired: taken over
	late := ts[4]
	late.Status = target.TargetFailed
	u.wantErr(fu.UpdateTargetAt(u.ctx, 4, &late), deploy.ErrLeaseLost, "UpdateTargetAt through a view fenced by a lease taken over")
	u.wantErr(view.UpdateTarget(u.ctx, &late), deploy.ErrLeaseLost, "UpdateTarget through a view fenced by a lease taken over")
	if late.Version != ts[4].Version {
		t.Errorf("a refused UpdateTargetAt changed the caller's Version to %d", late.Version)
	}
	u.same(u.optionalAllTargets("d-1"), ts, "the targets after writes fenced by a lost lease")
}

func testOptionalGetInstancesByID(t *testing.T, u *suite) {
	b, ok := u.s.(deploy.InstanceBatchGetter)
	if !ok {
		return
	}
	rev := revision.Location{Type: revision.LocationS3, S3: &revision.S3Location{Bucket: "b", Key: "v2.zip", BundleType: revision.BundleZip}}
	u.must(u.s.PutInstances(u.ctx, []deploy.InstanceRecord{
		filledInstance("g-1", "i-1"),
		{GroupID: "g-1", TargetID: "i-2", InstanceHealth: health.Healthy, Revision: &rev},
		{GroupID: "g-1", TargetID: "i-3", InstanceHealth: health.Unhealthy, Revision: &rev},
		{GroupID: "g-1", TargetID: "i-4", InstanceHealth: health.Healthy},
		{GroupID: "g-2", TargetID: "i-5", InstanceHealth: health.Healthy},
	}), "PutInstances")
	u.must(u.s.PutInstances(u.ctx, []deploy.InstanceRecord{{GroupID: "g-1", TargetID: "i-2", InstanceHealth: health.Unhealthy, Revision: &rev}}),
		"PutInstances (replace)")
	ids := []string{"i-3", "i-NONE", "i-1", "i-5", "i-2", "i-4", "i-1"}
	want := func(group string) []deploy.InstanceRecord {
		out := make([]deploy.InstanceRecord, len(ids))
		for k, id := range ids {
			r, err := u.s.GetInstance(u.ctx, group, id)
			switch {
			case err == nil:
				out[k] = *r
			case !errors.Is(err, deploy.ErrNotFound):
				u.must(err, "GetInstance "+group+"/"+id)
			}
		}
		return out
	}
	got, err := b.GetInstancesByID(u.ctx, "g-1", ids)
	u.must(err, "GetInstancesByID")
	u.same(got, want("g-1"), "GetInstancesByID(g-1, "+fmt.Sprint(ids)+"), against GetInstance")

	// The records may share memory with each other, never with the store.
	scribble(&got)
	again, err := b.GetInstancesByID(u.ctx, "g-1", ids)
	u.must(err, "GetInstancesByID")
	u.same(again, want("g-1"), "GetInstancesByID after the caller changed what an earlier call returned")

	none, err := b.GetInstancesByID(u.ctx, "g-NONE", ids)
	u.must(err, "GetInstancesByID of a group without records")
	u.same(none, make([]deploy.InstanceRecord, len(ids)), "GetInstancesByID of a group without records")
	if empty, err := b.GetInstancesByID(u.ctx, "g-1", nil); err != nil || len(empty) != 0 {
		t.Errorf("GetInstancesByID of no IDs = %v, %v; want none and no error", empty, err)
	}
	ctx, cancel := context.WithCancel(u.ctx)
	cancel()
	if _, err := b.GetInstancesByID(ctx, "g-1", ids); !errors.Is(err, context.Canceled) {
		t.Errorf("GetInstancesByID with a cancelled context: got %v; want an error matching context.Canceled", err)
	}

	g := u.fixture()
	u.deployment(g, "d-1", deploy.StatusInProgress)
	fb, ok := u.s.Fenced(u.optionalLease("d-1", "exec-a", t0)).(deploy.InstanceBatchGetter)
	if !ok {
		t.Fatal("the store implements deploy.InstanceBatchGetter and its fenced view does not; Fenced must return a view that implements whatever the store does")
	}
	viaFenced, err := fb.GetInstancesByID(u.ctx, "g-1", slices.Clone(ids))
	u.must(err, "GetInstancesByID through a fenced view")
	u.same(viaFenced, want("g-1"), "GetInstancesByID through a fenced view")
}

package deploytest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fleetdeploy/fleetdeploy/deploy"
	"github.com/fleetdeploy/fleetdeploy/deploy/plan"
	"github.com/fleetdeploy/fleetdeploy/health"
	"github.com/fleetdeploy/fleetdeploy/revision"
	"github.com/fleetdeploy/fleetdeploy/target"
)

// Opener opens a new handle on one storage each call, as another process
// would: for a database, a new client on the same tables; for a store that
// lives in one process, such as deploy.MemoryStore, the store itself.
type Opener func() deploy.Store

// TestStore runs the conformance suite of deploy.Store. newStorage is called
// once per check and must make a fresh, empty storage and return an Opener
// of handles on it; it may register cleanups with t, and the Opener may
// fail t (when it cannot connect, say). The suite calls the Opener from the
// check's goroutine, once or twice per check.
//
// Each check is a subtest named after what it checks (for example
// "Deployment/OneActivePerGroup"), and each reports every violation it finds rather
// than stopping at the first, so one run shows everything a store gets
// wrong. The checks are the contract documented on the deploy.Store
// interfaces: round trips of every record type, not-found and
// already-exists errors, compare-and-swap on Version leaving the stored
// record unchanged, one active deployment per group under 64 concurrent
// creators, final statuses freeing the group, cancelled contexts writing
// nothing, stored records isolated from the caller's values, ListTargets
// order and paging, and instance record upserts.
//
// The "Lease/" checks cover deploy.LeaseStore: acquisition, expiry and
// takeover, renewal, release, the errors, ExpiredLeases, and fencing — every
// write method of a fenced view succeeds while its lease is current and,
// once the lease is taken over or released, returns a
// *deploy.LeaseLostError and changes nothing. Times are the instants the
// suite passes in; no check waits for a clock.
//
// The "Handles/" checks open a second handle on the same storage and hold
// the store to its rules across the two, as executors in two processes
// would use it: what one handle writes the other reads; compare-and-swap
// conflicts are seen across handles; 64 creators, half on each handle,
// leave one active deployment; 64 executors, half on each, get one lease;
// and once a takeover through one handle returns, no write fenced by the
// old lease, made through the other handle, lands. A store that locks only
// within its process passes the other checks and fails these.
func TestStore(t *testing.T, newStorage func(t *testing.T) Opener) {
	t.Helper()
	for _, c := range checks {
		t.Run(c.name, func(t *testing.T) {
			open := newStorage(t)
			c.run(t, &suite{t: t, s: open(), open: open, ctx: t.Context()})
		})
	}
}

type check struct {
	name string
	run  func(*testing.T, *suite)
}

var checks = []check{
	{"Application/RoundTrip", testApplicationRoundTrip},
	{"Application/Errors", testApplicationErrors},
	{"Application/List", testApplicationList},
	{"Group/RoundTrip", testGroupRoundTrip},
	{"Group/AssignsUniqueIDs", testGroupIDs},
	{"Group/Errors", testGroupErrors},
	{"Group/UpdateCompareAndSwap", testGroupUpdate},
	{"Group/List", testGroupList},
	{"Deployment/RoundTrip", testDeploymentRoundTrip},
	{"Deployment/Errors", testDeploymentErrors},
	{"Deployment/OneActivePerGroup", testOneActivePerGroup},
	{"Deployment/GroupsAreIndependent", testGroupsIndependent},
	{"Deployment/FinalStatusFreesGroup", testFinalFreesGroup},
	{"Deployment/QueuedTakesSlotOnlyWhenFree", testQueued},
	{"Deployment/UpdateCompareAndSwap", testDeploymentUpdate},
	{"Deployment/CompletedStatusIsFinal", testCompleted},
	{"Deployment/ListNewestFirst", testListDeployments},
	{"Target/RoundTrip", testTargetRoundTrip},
	{"Target/Errors", testTargetErrors},
	{"Target/PutIsAllOrNothing", testPutTargetsAtomic},
	{"Target/UpdateCompareAndSwap", testTargetUpdate},
	{"Target/ListOrderAndPaging", testListTargets},
	{"Instance/Upsert", testInstances},
	{"Instance/Errors", testInstanceErrors},
	{"Context/CancelledWritesNothing", testCancelled},
	{"Isolation/Inputs", testIsolationInputs},
	{"Isolation/Outputs", testIsolationOutputs},
	{"Isolation/ListTargetsPage", testIsolationPage},
	{"Lease/Acquire", testLeaseAcquire},
	{"Lease/HeldUntilExpiry", testLeaseHeld},
	{"Lease/Renew", testLeaseRenew},
	{"Lease/Release", testLeaseRelease},
	{"Lease/Errors", testLeaseErrors},
	{"Lease/ExpiredLeases", testExpiredLeases},
	{"Lease/VersionUnchanged", testLeaseVersion},
	{"Lease/CancelledChangesNothing", testLeaseCancelled},
	{"Lease/FencedView", testFencedView},
	{"Lease/RequestNotClobbered", testRequestNotClobbered},
	{"Lease/Fenced/CreateApplication", fencedCheck(fenceCreateApplication)},
	{"Lease/Fenced/CreateGroup", fencedCheck(fenceCreateGroup)},
	{"Lease/Fenced/UpdateGroup", fencedCheck(fenceUpdateGroup)},
	{"Lease/Fenced/CreateDeployment", fencedCheck(fenceCreateDeployment)},
	{"Lease/Fenced/UpdateDeployment", fencedCheck(fenceUpdateDeployment)},
	{"Lease/Fenced/PutTargets", fencedCheck(fencePutTargets)},
	{"Lease/Fenced/UpdateTarget", fencedCheck(fenceUpdateTarget)},
	{"Lease/Fenced/PutInstances", fencedCheck(fencePutInstances)},
	{"Handles/SeeEachOthersWrites", testHandlesSee},
	{"Handles/CompareAndSwap", testHandlesCAS},
	{"Handles/OneActivePerGroup", testHandlesOneActive},
	{"Handles/OneLeaseHolder", testHandlesOneLease},
	{"Handles/QueueOrderAndStart", testHandlesQueue},
	{"Handles/TakeoverFencesOtherHandle", testHandlesTakeover},
	{"Handles/FencedWritesRaceTakeover", testHandlesFencedRace},
	{"Optional/UpdateTargetAt", testOptionalUpdateTargetAt},
	{"Optional/GetInstancesByID", testOptionalGetInstancesByID},
}

// suite holds one check's store and helpers.
type suite struct {
	t    *testing.T
	s    deploy.Store // the first handle on the check's storage
	open Opener       // opens more
	ctx  context.Context
	n    int
}

const maxDiffs = 20

// must fails the check at once when err is not nil: the check cannot go
// on without the record it tried to write.
func (u *suite) must(err error, what string) {
	u.t.Helper()
	if err != nil {
		u.t.Fatalf("%s: %v", what, err)
	}
}

// wantErr reports an error unless errors.Is(err, target).
func (u *suite) wantErr(err, target error, what string) {
	u.t.Helper()
	if !errors.Is(err, target) {
		u.t.Errorf("%s: got error %v; want one matching %v", what, err, target)
	}
}

// same reports every difference between got and want.
func (u *suite) same(got, want any, what string) {
	u.t.Helper()
	for _, d := range diff(got, want, maxDiffs) {
		u.t.Errorf("%s: %s", what, d)
	}
}

// noAliases reports memory shared between a and b.
func (u *suite) noAliases(a, b any, what string) {
	u.t.Helper()
	for _, p := range aliases(a, b) {
		u.t.Errorf("%s: %s is shared; a store must copy records in and out", what, p)
	}
}

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 600, time.UTC)

func (u *suite) app(name string) deploy.Application {
	u.t.Helper()
	a := deploy.Application{Name: name, ComputePlatform: "Server", CreateTime: t0}
	u.must(u.s.CreateApplication(u.ctx, &a), "CreateApplication "+name)
	return a
}

func (u *suite) group(app, name string) deploy.Group {
	u.t.Helper()
	g := deploy.Group{ApplicationName: app, Name: name, DeploymentConfigName: "CodeDeployDefault.AllAtOnce"}
	u.must(u.s.CreateGroup(u.ctx, &g), "CreateGroup "+app+"/"+name)
	return g
}

// fixture creates application "app" with group "web" and returns the group.
func (u *suite) fixture() deploy.Group {
	u.t.Helper()
	u.app("app")
	return u.group("app", "web")
}

func newDeployment(g deploy.Group, id string, status deploy.DeploymentStatus, created time.Time) deploy.Deployment {
	return deploy.Deployment{
		ID: id, ApplicationName: g.ApplicationName, GroupName: g.Name, GroupID: g.ID,
		Revision: revision.Location{Type: revision.LocationS3, S3: &revision.S3Location{Bucket: "b", Key: id + ".zip", BundleType: revision.BundleZip}},
		Status:   status, Creator: target.CreatorUser, CreateTime: created,
	}
}

func (u *suite) deployment(g deploy.Group, id string, status deploy.DeploymentStatus) deploy.Deployment {
	u.t.Helper()
	u.n++
	d := newDeployment(g, id, status, t0.Add(time.Duration(u.n)*time.Minute))
	u.must(u.s.CreateDeployment(u.ctx, &d), "CreateDeployment "+id)
	return d
}

func newTarget(id string) deploy.DeploymentTarget {
	return deploy.DeploymentTarget{
		TargetID: id, Target: target.Target{ID: id, Zone: "zone-a"},
		InitialInstanceHealth: health.Healthy, InitialRevisionHealth: health.Old, Status: target.TargetPending,
	}
}

func filledApplication() deploy.Application {
	var a deploy.Application
	newFiller().fill(&a)
	return a
}

func filledGroup(app, name string) deploy.Group {
	var g deploy.Group
	newFiller().fill(&g)
	g.ApplicationName, g.Name = app, name
	return g
}

func filledDeployment(g deploy.Group, id string, status deploy.DeploymentStatus) deploy.Deployment {
	var d deploy.Deployment
	newFiller().fill(&d)
	d.ID, d.ApplicationName, d.GroupName, d.GroupID, d.Status = id, g.ApplicationName, g.Name, g.ID, status
	return d
}

func filledTarget(id string) deploy.DeploymentTarget {
	var t deploy.DeploymentTarget
	newFiller().fill(&t)
	t.DeploymentID, t.TargetID, t.Target.ID = "", id, id
	return t
}

func filledInstance(groupID, targetID string) deploy.InstanceRecord {
	var r deploy.InstanceRecord
	newFiller().fill(&r)
	r.GroupID, r.TargetID = groupID, targetID
	return r
}

// --- applications ---

func testApplicationRoundTrip(t *testing.T, u *suite) {
	a := filledApplication()
	u.must(u.s.CreateApplication(u.ctx, &a), "CreateApplication")
	if a.Version != 1 {
		t.Errorf("CreateApplication set Version %d; want 1", a.Version)
	}
	got, err := u.s.GetApplication(u.ctx, a.Name)
	u.must(err, "GetApplication")
	u.same(*got, a, "GetApplication after CreateApplication")
}

func testApplicationErrors(t *testing.T, u *suite) {
	_, err := u.s.GetApplication(u.ctx, "nope")
	u.wantErr(err, deploy.ErrNotFound, "GetApplication of an unknown name")
	u.app("app")
	dup := deploy.Application{Name: "app", ComputePlatform: "Lambda"}
	u.wantErr(u.s.CreateApplication(u.ctx, &dup), deploy.ErrAlreadyExists, "CreateApplication of an existing name")
	got, err := u.s.GetApplication(u.ctx, "app")
	u.must(err, "GetApplication")
	if got.ComputePlatform != "Server" || got.Version != 1 {
		t.Errorf("a failed duplicate create changed the stored application to %+v", *got)
	}
	u.wantErr(u.s.CreateApplication(u.ctx, &deploy.Application{}), deploy.ErrInvalidArgument, "CreateApplication with an empty name")
}

func testApplicationList(t *testing.T, u *suite) {
	for _, n := range []string{"b", "c", "a"} {
		u.app(n)
	}
	got, err := u.s.ListApplications(u.ctx)
	u.must(err, "ListApplications")
	var names []string
	for _, a := range got {
		names = append(names, a.Name)
	}
	if !slices.Equal(names, []string{"a", "b", "c"}) {
		t.Errorf("ListApplications = %v; want [a b c] (by name)", names)
	}
}

// --- groups ---

func testGroupRoundTrip(t *testing.T, u *suite) {
	u.app("app")
	g := filledGroup("app", "web")
	want := g
	u.must(u.s.CreateGroup(u.ctx, &g), "CreateGroup")
	if g.Version != 1 || g.ID != want.ID {
		t.Errorf("CreateGroup set Version %d, ID %q; want 1 and the ID given, %q", g.Version, g.ID, want.ID)
	}
	want.Version = 1
	got, err := u.s.GetGroup(u.ctx, "app", "web")
	u.must(err, "GetGroup")
	u.same(*got, want, "GetGroup after CreateGroup")
}

func testGroupIDs(t *testing.T, u *suite) {
	u.app("app")
	a, b := u.group("app", "a"), u.group("app", "b")
	if a.ID == "" || b.ID == "" || a.ID == b.ID {
		t.Errorf("CreateGroup assigned IDs %q and %q; want two different non-empty IDs", a.ID, b.ID)
	}
	got, err := u.s.GetGroup(u.ctx, "app", "a")
	u.must(err, "GetGroup")
	if got.ID != a.ID {
		t.Errorf("GetGroup returned ID %q; CreateGroup reported %q", got.ID, a.ID)
	}
	c := deploy.Group{ApplicationName: "app", Name: "c", ID: a.ID}
	u.wantErr(u.s.CreateGroup(u.ctx, &c), deploy.ErrAlreadyExists, "CreateGroup with another group's ID")
	if _, err := u.s.GetGroup(u.ctx, "app", "c"); !errors.Is(err, deploy.ErrNotFound) {
		t.Errorf("a failed create left group c behind (GetGroup: %v)", err)
	}
}

func testGroupErrors(t *testing.T, u *suite) {
	g := deploy.Group{ApplicationName: "nope", Name: "web"}
	u.wantErr(u.s.CreateGroup(u.ctx, &g), deploy.ErrNotFound, "CreateGroup in an unknown application")
	u.fixture()
	_, err := u.s.GetGroup(u.ctx, "app", "nope")
	u.wantErr(err, deploy.ErrNotFound, "GetGroup of an unknown name")
	_, err = u.s.GetGroup(u.ctx, "other", "web")
	u.wantErr(err, deploy.ErrNotFound, "GetGroup in an unknown application")
	dup := deploy.Group{ApplicationName: "app", Name: "web", DeploymentConfigName: "changed"}
	u.wantErr(u.s.CreateGroup(u.ctx, &dup), deploy.ErrAlreadyExists, "CreateGroup of an existing name")
	got, err := u.s.GetGroup(u.ctx, "app", "web")
	u.must(err, "GetGroup")
	if got.DeploymentConfigName != "CodeDeployDefault.AllAtOnce" {
		t.Errorf("a failed duplicate create changed the stored group: deploymentConfigName %q", got.DeploymentConfigName)
	}
	missing := deploy.Group{ApplicationName: "app", Name: "nope", Version: 1}
	u.wantErr(u.s.UpdateGroup(u.ctx, &missing), deploy.ErrNotFound, "UpdateGroup of an unknown group")
	u.wantErr(u.s.CreateGroup(u.ctx, &deploy.Group{ApplicationName: "app"}), deploy.ErrInvalidArgument, "CreateGroup with an empty name")
}

func testGroupUpdate(t *testing.T, u *suite) {
	u.fixture()
	first, err := u.s.GetGroup(u.ctx, "app", "web")
	u.must(err, "GetGroup")
	second := first.Clone()
	first.DeploymentConfigName = "CodeDeployDefault.HalfAtATime"
	u.must(u.s.UpdateGroup(u.ctx, first), "UpdateGroup with the stored version")
	if first.Version != 2 {
		t.Errorf("UpdateGroup set Version %d; want 2", first.Version)
	}
	second.DeploymentConfigName = "CodeDeployDefault.OneAtATime"
	u.wantErr(u.s.UpdateGroup(u.ctx, &second), deploy.ErrConflict, "UpdateGroup with a stale version")
	if second.Version != 1 {
		t.Errorf("a failed UpdateGroup changed the caller's Version to %d", second.Version)
	}
	got, err := u.s.GetGroup(u.ctx, "app", "web")
	u.must(err, "GetGroup")
	u.same(*got, *first, "the group after a stale update")
	changedID := got.Clone()
	changedID.ID = "another-id"
	u.wantErr(u.s.UpdateGroup(u.ctx, &changedID), deploy.ErrInvalidArgument, "UpdateGroup that changes the ID")
}

func testGroupList(t *testing.T, u *suite) {
	u.app("app")
	u.app("other")
	for _, n := range []string{"b", "c", "a"} {
		u.group("app", n)
	}
	u.group("other", "z")
	got, err := u.s.ListGroups(u.ctx, "app")
	u.must(err, "ListGroups")
	var names []string
	for _, g := range got {
		names = append(names, g.Name)
	}
	if !slices.Equal(names, []string{"a", "b", "c"}) {
		t.Errorf("ListGroups(app) = %v; want [a b c] (by name, only the application's)", names)
	}
	_, err = u.s.ListGroups(u.ctx, "nope")
	u.wantErr(err, deploy.ErrNotFound, "ListGroups of an unknown application")
}

// --- deployments ---

func testDeploymentRoundTrip(t *testing.T, u *suite) {
	g := u.fixture()
	d := filledDeployment(g, "d-ROUNDTRIP", deploy.StatusInProgress)
	want := d
	u.must(u.s.CreateDeployment(u.ctx, &d), "CreateDeployment")
	if d.Version != 1 || d.ID != "d-ROUNDTRIP" {
		t.Errorf("CreateDeployment set Version %d, ID %q; want 1 and the ID given", d.Version, d.ID)
	}
	want.Version = 1
	got, err := u.s.GetDeployment(u.ctx, d.ID)
	u.must(err, "GetDeployment")
	u.same(*got, want, "GetDeployment after CreateDeployment")

	got.Status = deploy.StatusFailed
	got.ErrorInformation = deploy.ErrorInformation{Code: plan.HealthConstraints, Message: "too few healthy"}
	got.Progress.Plan.Phase = plan.PhaseReroute
	got.Progress.Ending.Explanation += " (changed)"
	want = got.Clone()
	u.must(u.s.UpdateDeployment(u.ctx, got), "UpdateDeployment")
	want.Version = 2
	again, err := u.s.GetDeployment(u.ctx, d.ID)
	u.must(err, "GetDeployment")
	u.same(*again, want, "GetDeployment after UpdateDeployment")

	fresh := newDeployment(g, "", deploy.StatusSucceeded, t0)
	u.must(u.s.CreateDeployment(u.ctx, &fresh), "CreateDeployment without an ID")
	if fresh.ID == "" {
		t.Error("CreateDeployment left an empty ID; it must assign one")
	} else if _, err := u.s.GetDeployment(u.ctx, fresh.ID); err != nil {
		t.Errorf("GetDeployment of the assigned ID %s: %v", fresh.ID, err)
	}
}

func testDeploymentErrors(t *testing.T, u *suite) {
	g := u.fixture()
	_, err := u.s.GetDeployment(u.ctx, "d-NOPE")
	u.wantErr(err, deploy.ErrNotFound, "GetDeployment of an unknown ID")
	missing := newDeployment(deploy.Group{ApplicationName: "app", Name: "nope"}, "d-1", deploy.StatusCreated, t0)
	u.wantErr(u.s.CreateDeployment(u.ctx, &missing), deploy.ErrNotFound, "CreateDeployment in an unknown group")
	u.deployment(g, "d-1", deploy.StatusSucceeded)
	dup := newDeployment(g, "d-1", deploy.StatusFailed, t0)
	u.wantErr(u.s.CreateDeployment(u.ctx, &dup), deploy.ErrAlreadyExists, "CreateDeployment of an existing ID")
	got, err := u.s.GetDeployment(u.ctx, "d-1")
	u.must(err, "GetDeployment")
	if got.Status != deploy.StatusSucceeded {
		t.Errorf("a failed duplicate create changed the stored status to %s", got.Status)
	}
	bad := newDeployment(g, "d-2", "Sideways", t0)
	u.wantErr(u.s.CreateDeployment(u.ctx, &bad), deploy.ErrInvalidArgument, "CreateDeployment with an invalid status")
	unknown := newDeployment(g, "d-NOPE", deploy.StatusInProgress, t0)
	unknown.Version = 1
	u.wantErr(u.s.UpdateDeployment(u.ctx, &unknown), deploy.ErrNotFound, "UpdateDeployment of an unknown ID")
	_, err = u.s.ListDeployments(u.ctx, "app", "nope")
	u.wantErr(err, deploy.ErrNotFound, "ListDeployments of an unknown group")
	moved := got.Clone()
	moved.GroupName = "elsewhere"
	u.wantErr(u.s.UpdateDeployment(u.ctx, &moved), deploy.ErrInvalidArgument, "UpdateDeployment that moves it to another group")
}

// testOneActivePerGroup races 64 creators of active deployments of one
// group: exactly one wins and every other is told who did (User Guide,
// "CodeDeploy quotas": one deployment at a time per deployment group).
func testOneActivePerGroup(t *testing.T, u *suite) {
	u.raceCreators(u.s)
}

// raceCreators has 64 creators race to create an active deployment of one
// group, creator i through handles[i%len(handles)], and checks that one
// won and that the others were told which one.
func (u *suite) raceCreators(handles ...deploy.Store) {
	t := u.t
	t.Helper()
	g := u.fixture()
	const n = 64
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			d := newDeployment(g, fmt.Sprintf("d-RACE%03d", i), deploy.StatusCreated, t0)
			errs[i] = handles[i%len(handles)].CreateDeployment(u.ctx, &d)
		})
	}
	close(start)
	wg.Wait()
	winner := ""
	for i, err := range errs {
		if err == nil {
			if winner != "" {
				t.Errorf("both %s and d-RACE%03d became active in one group", winner, i)
			}
			winner = fmt.Sprintf("d-RACE%03d", i)
		}
	}
	if winner == "" {
		t.Fatal("no creator succeeded")
	}
	for i, err := range errs {
		if err == nil {
			continue
		}
		var ae *deploy.ActiveDeploymentError
		switch {
		case !errors.As(err, &ae):
			t.Errorf("creator %d: got %v; want an *deploy.ActiveDeploymentError", i, err)
		case ae.DeploymentID != winner || ae.GroupName != "web":
			t.Errorf("creator %d: the error names deployment %q of group %q; want %s of web", i, ae.DeploymentID, ae.GroupName, winner)
		case !errors.Is(err, deploy.ErrActiveDeployment):
			t.Errorf("creator %d: %v does not match ErrActiveDeployment", i, err)
		case !strings.Contains(err.Error(), "'web'") || !strings.Contains(err.Error(), "'"+winner+"'"):
			t.Errorf("creator %d: message %q must name the group and the active deployment as CodeDeploy does", i, err)
		}
	}
	for h, s := range handles {
		all, err := s.ListDeployments(u.ctx, "app", "web")
		u.must(err, "ListDeployments")
		if len(all) != 1 {
			t.Errorf("through handle %d, the group has %d deployments after the race; want only the winner", h+1, len(all))
		}
	}
}

func testGroupsIndependent(t *testing.T, u *suite) {
	a := u.fixture()
	b := u.group("app", "api")
	u.deployment(a, "d-A", deploy.StatusInProgress)
	d := newDeployment(b, "d-B", deploy.StatusInProgress, t0)
	if err := u.s.CreateDeployment(u.ctx, &d); err != nil {
		t.Errorf("an active deployment of group web blocked one of group api: %v", err)
	}
	u.app("other")
	c := u.group("other", "web")
	e := newDeployment(c, "d-C", deploy.StatusInProgress, t0)
	if err := u.s.CreateDeployment(u.ctx, &e); err != nil {
		t.Errorf("group app/web blocked the same-named group other/web: %v", err)
	}
}

func testFinalFreesGroup(t *testing.T, u *suite) {
	g := u.fixture()
	for i, final := range []deploy.DeploymentStatus{deploy.StatusSucceeded, deploy.StatusFailed, deploy.StatusStopped} {
		id := fmt.Sprintf("d-%d", i)
		d := u.deployment(g, id, deploy.StatusCreated)
		for _, s := range []deploy.DeploymentStatus{deploy.StatusInProgress, deploy.StatusBaking, deploy.StatusReady, final} {
			d.Status = s
			u.must(u.s.UpdateDeployment(u.ctx, &d), "UpdateDeployment "+id+" to "+string(s))
		}
		next := newDeployment(g, id+"-next", deploy.StatusCreated, t0)
		if err := u.s.CreateDeployment(u.ctx, &next); err != nil {
			t.Errorf("after %s became %s, a new deployment could not start: %v", id, final, err)
			continue
		}
		next.Status = final
		u.must(u.s.UpdateDeployment(u.ctx, &next), "UpdateDeployment "+next.ID)
	}
}

func testQueued(t *testing.T, u *suite) {
	g := u.fixture()
	first := u.deployment(g, "d-FIRST", deploy.StatusInProgress)
	queued := u.deployment(g, "d-QUEUED", deploy.StatusQueued)
	start := queued
	start.Status = deploy.StatusInProgress
	err := u.s.UpdateDeployment(u.ctx, &start)
	var ae *deploy.ActiveDeploymentError
	if !errors.As(err, &ae) || ae.DeploymentID != "d-FIRST" {
		t.Errorf("starting a queued deployment while d-FIRST is active: got %v; want an *ActiveDeploymentError naming d-FIRST", err)
	}
	got, err := u.s.GetDeployment(u.ctx, "d-QUEUED")
	u.must(err, "GetDeployment")
	if got.Status != deploy.StatusQueued || got.Version != 1 {
		t.Errorf("the refused start changed d-QUEUED to %s, version %d", got.Status, got.Version)
	}
	first.Status = deploy.StatusStopped
	u.must(u.s.UpdateDeployment(u.ctx, &first), "UpdateDeployment d-FIRST to Stopped")
	start = *got
	start.Status = deploy.StatusInProgress
	if err := u.s.UpdateDeployment(u.ctx, &start); err != nil {
		t.Errorf("starting d-QUEUED after d-FIRST stopped: %v", err)
	}
	other := newDeployment(g, "d-THIRD", deploy.StatusCreated, t0)
	err = u.s.CreateDeployment(u.ctx, &other)
	if !errors.As(err, &ae) || ae.DeploymentID != "d-QUEUED" {
		t.Errorf("creating d-THIRD while d-QUEUED runs: got %v; want an *ActiveDeploymentError naming d-QUEUED", err)
	}
}

func testDeploymentUpdate(t *testing.T, u *suite) {
	g := u.fixture()
	u.deployment(g, "d-1", deploy.StatusCreated)
	a, err := u.s.GetDeployment(u.ctx, "d-1")
	u.must(err, "GetDeployment")
	b := a.Clone()
	a.Status = deploy.StatusInProgress
	a.StartTime = t0.Add(time.Hour)
	u.must(u.s.UpdateDeployment(u.ctx, a), "UpdateDeployment with the stored version")
	if a.Version != 2 {
		t.Errorf("UpdateDeployment set Version %d; want 2", a.Version)
	}
	b.Status = deploy.StatusFailed
	u.wantErr(u.s.UpdateDeployment(u.ctx, &b), deploy.ErrConflict, "UpdateDeployment with a stale version")
	got, err := u.s.GetDeployment(u.ctx, "d-1")
	u.must(err, "GetDeployment")
	u.same(*got, *a, "the deployment after a stale update")
	// The stale update must not have freed the group's slot either.
	next := newDeployment(g, "d-2", deploy.StatusCreated, t0)
	u.wantErr(u.s.CreateDeployment(u.ctx, &next), deploy.ErrActiveDeployment, "CreateDeployment after a refused stale update to Failed")
}

func testCompleted(t *testing.T, u *suite) {
	g := u.fixture()
	d := u.deployment(g, "d-1", deploy.StatusInProgress)
	d.Status = deploy.StatusFailed
	u.must(u.s.UpdateDeployment(u.ctx, &d), "UpdateDeployment to Failed")
	revive := d
	revive.Status = deploy.StatusInProgress
	u.wantErr(u.s.UpdateDeployment(u.ctx, &revive), deploy.ErrDeploymentCompleted, "UpdateDeployment from Failed to InProgress")
	flip := d
	flip.Status = deploy.StatusSucceeded
	u.wantErr(u.s.UpdateDeployment(u.ctx, &flip), deploy.ErrDeploymentCompleted, "UpdateDeployment from Failed to Succeeded")
	d.RollbackInfo = deploy.RollbackInfo{RollbackDeploymentID: "d-2", RollbackMessage: "rolled back"}
	if err := u.s.UpdateDeployment(u.ctx, &d); err != nil {
		t.Errorf("updating the rollback info of a completed deployment: %v", err)
	}
	other := newDeployment(g, "d-2", deploy.StatusCreated, t0)
	if err := u.s.CreateDeployment(u.ctx, &other); err != nil {
		t.Errorf("a refused revival must leave the group free: %v", err)
	}
}

func testListDeployments(t *testing.T, u *suite) {
	g := u.fixture()
	statuses := []deploy.DeploymentStatus{deploy.StatusSucceeded, deploy.StatusFailed, deploy.StatusSucceeded, deploy.StatusStopped}
	// Created out of time order, to tell "newest first" from "last created first".
	for _, i := range []int{2, 0, 3, 1} {
		d := newDeployment(g, fmt.Sprintf("d-%d", i), statuses[i], t0.Add(time.Duration(i)*time.Hour))
		u.must(u.s.CreateDeployment(u.ctx, &d), "CreateDeployment")
	}
	other := u.group("app", "other")
	d := newDeployment(other, "d-OTHER", deploy.StatusSucceeded, t0.Add(time.Hour))
	u.must(u.s.CreateDeployment(u.ctx, &d), "CreateDeployment")
	ids := func(ds []deploy.Deployment) []string {
		var out []string
		for _, d := range ds {
			out = append(out, d.ID)
		}
		return out
	}
	all, err := u.s.ListDeployments(u.ctx, "app", "web")
	u.must(err, "ListDeployments")
	if got := ids(all); !slices.Equal(got, []string{"d-3", "d-2", "d-1", "d-0"}) {
		t.Errorf("ListDeployments = %v; want [d-3 d-2 d-1 d-0] (newest first, only the group's)", got)
	}
	ok, err := u.s.ListDeployments(u.ctx, "app", "web", deploy.StatusSucceeded)
	u.must(err, "ListDeployments Succeeded")
	if got := ids(ok); !slices.Equal(got, []string{"d-2", "d-0"}) {
		t.Errorf("ListDeployments(Succeeded) = %v; want [d-2 d-0]", got)
	}
	bad, err := u.s.ListDeployments(u.ctx, "app", "web", deploy.StatusFailed, deploy.StatusStopped)
	u.must(err, "ListDeployments Failed, Stopped")
	if got := ids(bad); !slices.Equal(got, []string{"d-3", "d-1"}) {
		t.Errorf("ListDeployments(Failed, Stopped) = %v; want [d-3 d-1]", got)
	}
}

// --- targets ---

func testTargetRoundTrip(t *testing.T, u *suite) {
	g := u.fixture()
	u.deployment(g, "d-1", deploy.StatusInProgress)
	ts := []deploy.DeploymentTarget{filledTarget("i-1"), newTarget("i-2")}
	want := slices.Clone(ts)
	u.must(u.s.PutTargets(u.ctx, "d-1", ts), "PutTargets")
	for i := range ts {
		if ts[i].Version != 1 || ts[i].DeploymentID != "d-1" {
			t.Errorf("PutTargets set targets[%d] Version %d, DeploymentID %q; want 1 and d-1", i, ts[i].Version, ts[i].DeploymentID)
		}
		want[i].Version, want[i].DeploymentID = 1, "d-1"
		got, err := u.s.GetTarget(u.ctx, "d-1", ts[i].TargetID)
		u.must(err, "GetTarget")
		u.same(*got, want[i], "GetTarget "+ts[i].TargetID+" after PutTargets")
	}
	up := want[1]
	up.Status = target.TargetFailed
	up.LastUpdated = t0.Add(time.Minute)
	up.LifecycleEvents = []deploy.LifecycleEventRecord{
		{Name: target.ApplicationStop, Status: target.EventSucceeded, StartTime: t0, EndTime: t0.Add(time.Second)},
		{Name: target.BeforeInstall, Status: target.EventFailed, StartTime: t0.Add(time.Second), EndTime: t0.Add(2 * time.Second),
			Diagnostics: &deploy.Diagnostics{ErrorCode: target.CodeScriptFailed, ScriptName: "scripts/before.sh", Message: "exit 1", LogTail: "boom\n"}},
		{Name: target.Install, Status: target.EventSkipped},
	}
	u.must(u.s.UpdateTarget(u.ctx, &up), "UpdateTarget")
	want[1] = up
	for i := range want {
		got, err := u.s.GetTarget(u.ctx, "d-1", want[i].TargetID)
		u.must(err, "GetTarget")
		u.same(*got, want[i], "GetTarget "+want[i].TargetID+" after UpdateTarget of i-2")
	}
}

func testTargetErrors(t *testing.T, u *suite) {
	g := u.fixture()
	u.deployment(g, "d-1", deploy.StatusInProgress)
	u.wantErr(u.s.PutTargets(u.ctx, "d-NOPE", []deploy.DeploymentTarget{newTarget("i-1")}), deploy.ErrNotFound, "PutTargets to an unknown deployment")
	u.must(u.s.PutTargets(u.ctx, "d-1", []deploy.DeploymentTarget{newTarget("i-1")}), "PutTargets")
	_, err := u.s.GetTarget(u.ctx, "d-1", "i-NOPE")
	u.wantErr(err, deploy.ErrNotFound, "GetTarget of an unknown target")
	_, err = u.s.GetTarget(u.ctx, "d-NOPE", "i-1")
	u.wantErr(err, deploy.ErrNotFound, "GetTarget in an unknown deployment")
	missing := newTarget("i-NOPE")
	missing.DeploymentID, missing.Version = "d-1", 1
	u.wantErr(u.s.UpdateTarget(u.ctx, &missing), deploy.ErrNotFound, "UpdateTarget of an unknown target")
	_, _, err = u.s.ListTargets(u.ctx, "d-NOPE", "", 0)
	u.wantErr(err, deploy.ErrNotFound, "ListTargets of an unknown deployment")
	_, _, err = u.s.ListTargets(u.ctx, "d-1", "not-a-token-this-store-issued", 0)
	u.wantErr(err, deploy.ErrInvalidArgument, "ListTargets with a page token the store did not issue")
	noID := newTarget("")
	u.wantErr(u.s.PutTargets(u.ctx, "d-1", []deploy.DeploymentTarget{noID}), deploy.ErrInvalidArgument, "PutTargets of a target without an ID")
	mismatch := newTarget("i-2")
	mismatch.Target.ID = "i-3"
	u.wantErr(u.s.PutTargets(u.ctx, "d-1", []deploy.DeploymentTarget{mismatch}), deploy.ErrInvalidArgument, "PutTargets with targetId != target.id")
	elsewhere := newTarget("i-4")
	elsewhere.DeploymentID = "d-OTHER"
	u.wantErr(u.s.PutTargets(u.ctx, "d-1", []deploy.DeploymentTarget{elsewhere}), deploy.ErrInvalidArgument, "PutTargets of a record naming another deployment")
}

func testPutTargetsAtomic(t *testing.T, u *suite) {
	g := u.fixture()
	u.deployment(g, "d-1", deploy.StatusInProgress)
	u.must(u.s.PutTargets(u.ctx, "d-1", []deploy.DeploymentTarget{newTarget("i-1")}), "PutTargets")
	batch := []deploy.DeploymentTarget{newTarget("i-2"), newTarget("i-1"), newTarget("i-3")}
	u.wantErr(u.s.PutTargets(u.ctx, "d-1", batch), deploy.ErrAlreadyExists, "PutTargets with a target already in the deployment")
	inBatch := []deploy.DeploymentTarget{newTarget("i-4"), newTarget("i-5"), newTarget("i-4")}
	u.wantErr(u.s.PutTargets(u.ctx, "d-1", inBatch), deploy.ErrAlreadyExists, "PutTargets with a target twice in the batch")
	for _, id := range []string{"i-2", "i-3", "i-4", "i-5"} {
		if _, err := u.s.GetTarget(u.ctx, "d-1", id); !errors.Is(err, deploy.ErrNotFound) {
			t.Errorf("a refused PutTargets stored %s (GetTarget: %v); it must be all or nothing", id, err)
		}
	}
	for i := range batch {
		if batch[i].Version != 0 {
			t.Errorf("a refused PutTargets set the caller's Version of %s to %d", batch[i].TargetID, batch[i].Version)
		}
	}
	if got := u.listIDs("d-1", 0); !slices.Equal(got, []string{"i-1"}) {
		t.Errorf("ListTargets after refused puts = %v; want [i-1]", got)
	}
}

func testTargetUpdate(t *testing.T, u *suite) {
	g := u.fixture()
	u.deployment(g, "d-1", deploy.StatusInProgress)
	ts := []deploy.DeploymentTarget{newTarget("i-1"), newTarget("i-2"), newTarget("i-3")}
	u.must(u.s.PutTargets(u.ctx, "d-1", ts), "PutTargets")
	a := ts[1]
	b := ts[1]
	a.Status = target.TargetInProgress
	u.must(u.s.UpdateTarget(u.ctx, &a), "UpdateTarget with the stored version")
	if a.Version != 2 {
		t.Errorf("UpdateTarget set Version %d; want 2", a.Version)
	}
	b.Status = target.TargetFailed
	u.wantErr(u.s.UpdateTarget(u.ctx, &b), deploy.ErrConflict, "UpdateTarget with a stale version")
	got, err := u.s.GetTarget(u.ctx, "d-1", "i-2")
	u.must(err, "GetTarget")
	u.same(*got, a, "the target after a stale update")
	for _, i := range []int{0, 2} {
		other, err := u.s.GetTarget(u.ctx, "d-1", ts[i].TargetID)
		u.must(err, "GetTarget")
		u.same(*other, ts[i], "target "+ts[i].TargetID+" after updating i-2")
	}
}

// listIDs pages through the deployment's targets with the given limit and
// returns their IDs, reporting paging errors.
func (u *suite) listIDs(deploymentID string, limit int) []string {
	u.t.Helper()
	var ids []string
	token := ""
	for pages := 0; ; pages++ {
		if pages > 100000 {
			u.t.Fatalf("ListTargets(limit %d) never ended", limit)
		}
		page, next, err := u.s.ListTargets(u.ctx, deploymentID, token, limit)
		if err != nil {
			u.t.Errorf("ListTargets(limit %d, page %d): %v", limit, pages, err)
			return ids
		}
		if limit > 0 && len(page) > limit {
			u.t.Errorf("ListTargets(limit %d) returned %d targets", limit, len(page))
		}
		for _, p := range page {
			if p.DeploymentID != deploymentID {
				u.t.Errorf("ListTargets returned %s with DeploymentID %q", p.TargetID, p.DeploymentID)
			}
			ids = append(ids, p.TargetID)
		}
		if next == "" {
			return ids
		}
		if next == token {
			u.t.Errorf("ListTargets(limit %d) returned the page token %q twice", limit, next)
			return ids
		}
		token = next
	}
}

func testListTargets(t *testing.T, u *suite) {
	g := u.fixture()
	u.deployment(g, "d-1", deploy.StatusInProgress)
	u.deployment(u.group("app", "other"), "d-2", deploy.StatusInProgress)
	u.must(u.s.PutTargets(u.ctx, "d-2", []deploy.DeploymentTarget{newTarget("i-other")}), "PutTargets d-2")
	var want []string
	// Three batches, IDs in no sorted order, so that only the put order
	// explains the expected listing.
	for b, n := range []int{250, 1, 37} {
		batch := make([]deploy.DeploymentTarget, n)
		for i := range batch {
			id := fmt.Sprintf("i-%03d-%d", (i*7919+b*31)%1000, b)
			batch[i] = newTarget(id)
			want = append(want, id)
		}
		u.must(u.s.PutTargets(u.ctx, "d-1", batch), "PutTargets")
	}
	for _, limit := range []int{1, 7, 100, 288, 1000, 0} {
		if got := u.listIDs("d-1", limit); !slices.Equal(got, want) {
			t.Errorf("ListTargets with limit %d listed %d targets; want the %d put, in put order (first difference at %d)",
				limit, len(got), len(want), firstDiff(got, want))
		}
	}
	var viaIter []string
	for tg, err := range deploy.AllTargets(u.ctx, u.s, "d-1") {
		if err != nil {
			t.Errorf("deploy.AllTargets: %v", err)
			break
		}
		viaIter = append(viaIter, tg.TargetID)
	}
	if !slices.Equal(viaIter, want) {
		t.Errorf("deploy.AllTargets listed %d targets; want the %d put, in put order", len(viaIter), len(want))
	}
	u.deployment(g, "d-EMPTY", deploy.StatusSucceeded)
	if got := u.listIDs("d-EMPTY", 0); len(got) != 0 {
		t.Errorf("ListTargets of a deployment without targets = %v", got)
	}
}

func firstDiff(a, b []string) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

// --- instance records ---

func testInstances(t *testing.T, u *suite) {
	rev := revision.Location{Type: revision.LocationGitHub, GitHub: &revision.GitHubLocation{Repository: "acme/web", CommitID: "0123456789abcdef0123456789abcdef01234567"}}
	recs := []deploy.InstanceRecord{
		filledInstance("g-1", "i-3"),
		{GroupID: "g-1", TargetID: "i-1", InstanceHealth: health.Healthy, Revision: &rev},
		{GroupID: "g-1", TargetID: "i-2", InstanceHealth: health.Unhealthy, Version: 42},
		{GroupID: "g-2", TargetID: "i-1", InstanceHealth: health.Healthy, Revision: &rev},
	}
	want := slices.Clone(recs)
	u.must(u.s.PutInstances(u.ctx, recs), "PutInstances")
	for i := range recs {
		if recs[i].Version != 1 {
			t.Errorf("PutInstances set the new record %s/%s to Version %d; want 1", recs[i].GroupID, recs[i].TargetID, recs[i].Version)
		}
		want[i].Version = 1
	}
	got, err := u.s.GetInstances(u.ctx, "g-1")
	u.must(err, "GetInstances")
	u.same(got, []deploy.InstanceRecord{want[1], want[2], want[0]}, "GetInstances(g-1), by target ID")

	again := []deploy.InstanceRecord{{GroupID: "g-1", TargetID: "i-2", InstanceHealth: health.Healthy, Revision: &rev}}
	u.must(u.s.PutInstances(u.ctx, again), "PutInstances (replace)")
	if again[0].Version != 2 {
		t.Errorf("PutInstances set the replaced record to Version %d; want 2", again[0].Version)
	}
	one, err := u.s.GetInstance(u.ctx, "g-1", "i-2")
	u.must(err, "GetInstance")
	u.same(*one, again[0], "GetInstance after a replace")
	other, err := u.s.GetInstance(u.ctx, "g-2", "i-1")
	u.must(err, "GetInstance")
	u.same(*other, want[3], "the record of another group with the same target ID")
	none, err := u.s.GetInstances(u.ctx, "g-NONE")
	if err != nil || len(none) != 0 {
		t.Errorf("GetInstances of a group without records = %v, %v; want none and no error", none, err)
	}
}

func testInstanceErrors(t *testing.T, u *suite) {
	_, err := u.s.GetInstance(u.ctx, "g-1", "i-1")
	u.wantErr(err, deploy.ErrNotFound, "GetInstance of an unknown record")
	dup := []deploy.InstanceRecord{
		{GroupID: "g-1", TargetID: "i-1", InstanceHealth: health.Healthy},
		{GroupID: "g-1", TargetID: "i-1", InstanceHealth: health.Unhealthy},
	}
	u.wantErr(u.s.PutInstances(u.ctx, dup), deploy.ErrInvalidArgument, "PutInstances with one key twice")
	noKey := []deploy.InstanceRecord{{GroupID: "g-1", TargetID: "i-2", InstanceHealth: health.Healthy}, {GroupID: "g-1", InstanceHealth: health.Healthy}}
	u.wantErr(u.s.PutInstances(u.ctx, noKey), deploy.ErrInvalidArgument, "PutInstances with an empty target ID")
	if got, err := u.s.GetInstances(u.ctx, "g-1"); err != nil || len(got) != 0 {
		t.Errorf("refused PutInstances calls stored %d records (%v); they must be all or nothing", len(got), err)
	}
	// The same for a group that has records already: they stay as they were.
	kept := []deploy.InstanceRecord{{GroupID: "g-1", TargetID: "i-9", InstanceHealth: health.Healthy}}
	u.must(u.s.PutInstances(u.ctx, kept), "PutInstances")
	dup = append(dup, deploy.InstanceRecord{GroupID: "g-1", TargetID: "i-9", InstanceHealth: health.Unhealthy})
	u.wantErr(u.s.PutInstances(u.ctx, dup), deploy.ErrInvalidArgument, "PutInstances with one key twice, to a group with records")
	got, err := u.s.GetInstances(u.ctx, "g-1")
	u.must(err, "GetInstances")
	u.same(got, kept, "the records of g-1 after a refused PutInstances")
}

// --- context ---

func testCancelled(t *testing.T, u *suite) {
	g := u.fixture()
	d := u.deployment(g, "d-1", deploy.StatusInProgress)
	tg := newTarget("i-1")
	u.must(u.s.PutTargets(u.ctx, "d-1", []deploy.DeploymentTarget{tg}), "PutTargets")
	ctx, cancel := context.WithCancel(u.ctx)
	cancel()
	isCtx := func(err error, what string) {
		t.Helper()
		if !errors.Is(err, context.Canceled) {
			t.Errorf("%s with a cancelled context: got %v; want an error matching context.Canceled", what, err)
		}
	}

	isCtx(u.s.CreateApplication(ctx, &deploy.Application{Name: "app2"}), "CreateApplication")
	isCtx(u.s.CreateGroup(ctx, &deploy.Group{ApplicationName: "app", Name: "web2"}), "CreateGroup")
	gu := g
	gu.DeploymentConfigName = "changed"
	isCtx(u.s.UpdateGroup(ctx, &gu), "UpdateGroup")
	d2 := newDeployment(g, "d-2", deploy.StatusSucceeded, t0)
	isCtx(u.s.CreateDeployment(ctx, &d2), "CreateDeployment")
	du := d
	du.Status = deploy.StatusFailed
	isCtx(u.s.UpdateDeployment(ctx, &du), "UpdateDeployment")
	isCtx(u.s.PutTargets(ctx, "d-1", []deploy.DeploymentTarget{newTarget("i-2")}), "PutTargets")
	tu := tg
	tu.DeploymentID, tu.Version, tu.Status = "d-1", 1, target.TargetSucceeded
	isCtx(u.s.UpdateTarget(ctx, &tu), "UpdateTarget")
	isCtx(u.s.PutInstances(ctx, []deploy.InstanceRecord{{GroupID: g.ID, TargetID: "i-1", InstanceHealth: health.Healthy}}), "PutInstances")

	_, err := u.s.GetApplication(ctx, "app")
	isCtx(err, "GetApplication")
	_, err = u.s.ListApplications(ctx)
	isCtx(err, "ListApplications")
	_, err = u.s.GetGroup(ctx, "app", "web")
	isCtx(err, "GetGroup")
	_, err = u.s.ListGroups(ctx, "app")
	isCtx(err, "ListGroups")
	_, err = u.s.GetDeployment(ctx, "d-1")
	isCtx(err, "GetDeployment")
	_, err = u.s.ListDeployments(ctx, "app", "web")
	isCtx(err, "ListDeployments")
	_, err = u.s.GetTarget(ctx, "d-1", "i-1")
	isCtx(err, "GetTarget")
	_, _, err = u.s.ListTargets(ctx, "d-1", "", 0)
	isCtx(err, "ListTargets")
	_, err = u.s.GetInstances(ctx, g.ID)
	isCtx(err, "GetInstances")
	_, err = u.s.GetInstance(ctx, g.ID, "i-1")
	isCtx(err, "GetInstance")

	// Nothing was written.
	if _, err := u.s.GetApplication(u.ctx, "app2"); !errors.Is(err, deploy.ErrNotFound) {
		t.Errorf("a cancelled CreateApplication wrote (GetApplication: %v)", err)
	}
	if _, err := u.s.GetGroup(u.ctx, "app", "web2"); !errors.Is(err, deploy.ErrNotFound) {
		t.Errorf("a cancelled CreateGroup wrote (GetGroup: %v)", err)
	}
	if got, err := u.s.GetGroup(u.ctx, "app", "web"); err != nil || got.Version != 1 {
		t.Errorf("a cancelled UpdateGroup wrote (GetGroup: %+v, %v)", got, err)
	}
	if _, err := u.s.GetDeployment(u.ctx, "d-2"); !errors.Is(err, deploy.ErrNotFound) {
		t.Errorf("a cancelled CreateDeployment wrote (GetDeployment: %v)", err)
	}
	if got, err := u.s.GetDeployment(u.ctx, "d-1"); err != nil || got.Version != 1 || got.Status != deploy.StatusInProgress {
		t.Errorf("a cancelled UpdateDeployment wrote (GetDeployment: %+v, %v)", got, err)
	}
	if _, err := u.s.GetTarget(u.ctx, "d-1", "i-2"); !errors.Is(err, deploy.ErrNotFound) {
		t.Errorf("a cancelled PutTargets wrote (GetTarget: %v)", err)
	}
	if got, err := u.s.GetTarget(u.ctx, "d-1", "i-1"); err != nil || got.Version != 1 || got.Status != target.TargetPending {
		t.Errorf("a cancelled UpdateTarget wrote (GetTarget: %+v, %v)", got, err)
	}
	if _, err := u.s.GetInstance(u.ctx, g.ID, "i-1"); !errors.Is(err, deploy.ErrNotFound) {
		t.Errorf("a cancelled PutInstances wrote (GetInstance: %v)", err)
	}
	for _, v := range []int64{gu.Version, du.Version, tu.Version} {
		if v != 1 {
			t.Errorf("a cancelled update changed the caller's Version to %d", v)
		}
	}
}

// --- isolation ---

// testIsolationInputs changes every value the caller passed after each
// write and checks the stored records did not change with them.
func testIsolationInputs(t *testing.T, u *suite) {
	u.app("app")
	g := filledGroup("app", "web")
	u.must(u.s.CreateGroup(u.ctx, &g), "CreateGroup")
	want := g.Clone()
	scribble(&g)
	got, err := u.s.GetGroup(u.ctx, "app", "web")
	u.must(err, "GetGroup")
	u.same(*got, want, "the group after the caller changed the value it created it from")
	u.noAliases(*got, g, "GetGroup and the caller's group")

	d := filledDeployment(want, "d-1", deploy.StatusInProgress)
	u.must(u.s.CreateDeployment(u.ctx, &d), "CreateDeployment")
	wantD := d.Clone()
	scribble(&d)
	gotD, err := u.s.GetDeployment(u.ctx, "d-1")
	u.must(err, "GetDeployment")
	u.same(*gotD, wantD, "the deployment after the caller changed the value it created it from")

	ts := []deploy.DeploymentTarget{filledTarget("i-1")}
	u.must(u.s.PutTargets(u.ctx, "d-1", ts), "PutTargets")
	wantT := ts[0].Clone()
	scribble(&ts[0])
	gotT, err := u.s.GetTarget(u.ctx, "d-1", "i-1")
	u.must(err, "GetTarget")
	u.same(*gotT, wantT, "the target after the caller changed the value it put")

	up := gotT.Clone()
	up.LifecycleEvents[0].Status = target.EventSucceeded
	u.must(u.s.UpdateTarget(u.ctx, &up), "UpdateTarget")
	wantUp := up.Clone()
	scribble(&up)
	gotUp, err := u.s.GetTarget(u.ctx, "d-1", "i-1")
	u.must(err, "GetTarget")
	u.same(*gotUp, wantUp, "the target after the caller changed the value it updated it with")

	rs := []deploy.InstanceRecord{filledInstance("g-1", "i-1")}
	u.must(u.s.PutInstances(u.ctx, rs), "PutInstances")
	wantR := rs[0].Clone()
	scribble(&rs[0])
	gotR, err := u.s.GetInstance(u.ctx, "g-1", "i-1")
	u.must(err, "GetInstance")
	u.same(*gotR, wantR, "the instance record after the caller changed the value it put")
}

// testIsolationOutputs changes every value a read returned and checks the
// next read is unaffected; and that two reads share no memory.
func testIsolationOutputs(t *testing.T, u *suite) {
	u.app("app")
	g := filledGroup("app", "web")
	u.must(u.s.CreateGroup(u.ctx, &g), "CreateGroup")
	d := filledDeployment(g, "d-1", deploy.StatusInProgress)
	u.must(u.s.CreateDeployment(u.ctx, &d), "CreateDeployment")
	ts := []deploy.DeploymentTarget{filledTarget("i-1")}
	u.must(u.s.PutTargets(u.ctx, "d-1", ts), "PutTargets")
	rs := []deploy.InstanceRecord{filledInstance("g-1", "i-1")}
	u.must(u.s.PutInstances(u.ctx, rs), "PutInstances")

	reads := []struct {
		name string
		read func() any
	}{
		{"GetGroup", func() any { v, err := u.s.GetGroup(u.ctx, "app", "web"); u.must(err, "GetGroup"); return v }},
		{"ListGroups", func() any { v, err := u.s.ListGroups(u.ctx, "app"); u.must(err, "ListGroups"); return &v }},
		{"GetDeployment", func() any { v, err := u.s.GetDeployment(u.ctx, "d-1"); u.must(err, "GetDeployment"); return v }},
		{"ListDeployments", func() any {
			v, err := u.s.ListDeployments(u.ctx, "app", "web")
			u.must(err, "ListDeployments")
			return &v
		}},
		{"GetTarget", func() any { v, err := u.s.GetTarget(u.ctx, "d-1", "i-1"); u.must(err, "GetTarget"); return v }},
		{"ListTargets", func() any {
			v, _, err := u.s.ListTargets(u.ctx, "d-1", "", 0)
			u.must(err, "ListTargets")
			return &v
		}},
		{"GetInstance", func() any { v, err := u.s.GetInstance(u.ctx, "g-1", "i-1"); u.must(err, "GetInstance"); return v }},
		{"GetInstances", func() any { v, err := u.s.GetInstances(u.ctx, "g-1"); u.must(err, "GetInstances"); return &v }},
	}
	for _, r := range reads {
		first, second := r.read(), r.read()
		u.noAliases(first, second, r.name+" called twice")
		want := r.read()
		scribble(first)
		u.same(r.read(), want, r.name+" after the caller changed what an earlier "+r.name+" returned")
	}
}

package dynamostore_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/fleetdeploy/fleetdeploy/deploy"
	"github.com/fleetdeploy/fleetdeploy/deploy/dynamostore"
	"github.com/fleetdeploy/fleetdeploy/target"
)

// spyAPI counts a handle's writes by kind, and can fail the stamping
// writes of a takeover or act just before a PutTargets stages its items.
type spyAPI struct {
	dynamostore.API
	mu sync.Mutex
	// targetUpdates counts writes of target items (UpdateItem, and the
	// PutItem that creates one); stamps those that only stamp a lease
	// token (AcquireLease's, and its PutItems of targets without an item
	// yet); heads UpdateItems of deployment head items; tx
	// TransactWriteItems calls.
	targetUpdates, stamps, heads, tx int
	// failStampAt fails the failStampAt-th stamp (UpdateItem or PutItem)
	// from now (1: the next one), writing nothing.
	failStampAt int
	// beforeStage, when set, is called (once) before the next
	// BatchWriteItem; beforeStampPut (once) before the next PutItem of a
	// stamp.
	beforeStage, beforeStampPut func()
	// replay sends the next UpdateItem or PutItem of a target item twice, and
	// answers with the second answer: as the SDK does when it retries a
	// request whose answer was lost.
	replay bool
}

func (s *spyAPI) UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, o ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	stamp := aws.ToString(in.UpdateExpression) == "SET lt = :t"
	key := attrS(in.Key, "pk")
	tgt := strings.HasPrefix(key, "tgt#")
	s.mu.Lock()
	fail, replay := s.admit(stamp, tgt)
	s.mu.Unlock()
	if fail {
		return nil, errInjected
	}
	out, err := callReplayed(replay, func() (*dynamodb.UpdateItemOutput, error) { return s.API.UpdateItem(ctx, in, o...) })
	if err == nil {
		s.mu.Lock()
		switch {
		case tgt:
			s.countTarget(stamp)
		case strings.HasPrefix(key, "dep#") && attrS(in.Key, "sk") == "head":
			s.heads++
		}
		s.mu.Unlock()
	}
	return out, err
}

func (s *spyAPI) PutItem(ctx context.Context, in *dynamodb.PutItemInput, o ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	tgt := strings.HasPrefix(attrS(in.Item, "pk"), "tgt#")
	_, written := in.Item["w"] // a stamp's put carries no write ID
	stamp := tgt && !written
	s.mu.Lock()
	if before := s.beforeStampPut; stamp && before != nil {
		s.beforeStampPut = nil
		s.mu.Unlock()
		before()
		s.mu.Lock()
	}
	fail, replay := s.admit(stamp, tgt)
	s.mu.Unlock()
	if fail {
		return nil, errInjected
	}
	out, err := callReplayed(replay, func() (*dynamodb.PutItemOutput, error) { return s.API.PutItem(ctx, in, o...) })
	if err == nil && tgt {
		s.mu.Lock()
		s.countTarget(stamp)
		s.mu.Unlock()
	}
	return out, err
}

// admit decides, for an item write about to be made (a stamp, a target
// item's write), whether it is the stamp failStampAt fails, and whether
// it is the target write to replay. s.mu is held.
func (s *spyAPI) admit(stamp, tgt bool) (fail, replay bool) {
	if stamp && s.failStampAt > 0 {
		s.failStampAt--
		if s.failStampAt == 0 {
			return true, false
		}
	}
	replay = s.replay && tgt
	if replay {
		s.replay = false
	}
	return false, replay
}

// countTarget counts a target item's write that succeeded. s.mu is held.
func (s *spyAPI) countTarget(stamp bool) {
	s.targetUpdates++
	if stamp {
		s.stamps++
	}
}

// callReplayed makes call, and once more when replay is set and the first
// succeeded: the second answer is the one returned, as when the SDK
// retries a request whose answer was lost.
func callReplayed[T any](replay bool, call func() (T, error)) (T, error) {
	out, err := call()
	if replay && err == nil {
		out, err = call()
	}
	return out, err
}

func (s *spyAPI) TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, o ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	s.mu.Lock()
	s.tx++
	s.mu.Unlock()
	return s.API.TransactWriteItems(ctx, in, o...)
}

func (s *spyAPI) BatchWriteItem(ctx context.Context, in *dynamodb.BatchWriteItemInput, o ...func(*dynamodb.Options)) (*dynamodb.BatchWriteItemOutput, error) {
	s.mu.Lock()
	f := s.beforeStage
	s.beforeStage = nil
	s.mu.Unlock()
	if f != nil {
		f()
	}
	return s.API.BatchWriteItem(ctx, in, o...)
}

// counts returns the counters and zeroes them.
func (s *spyAPI) counts() (targetUpdates, stamps, heads, tx int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	targetUpdates, stamps, heads, tx = s.targetUpdates, s.stamps, s.heads, s.tx
	s.targetUpdates, s.stamps, s.heads, s.tx = 0, 0, 0, 0
	return
}

// fencedRig is a deployment of the targets of fleet("i", n), created
// through an unfenced store.
type fencedRig struct {
	t   *testing.T
	ctx context.Context
	dep string
}

func newRig(t *testing.T, s deploy.Store, n int) fencedRig {
	t.Helper()
	g := fixture(t, s)
	d := newDeployment(g, "d-STAMP", deploy.StatusInProgress)
	if err := s.CreateDeployment(t.Context(), &d); err != nil {
		t.Fatal(err)
	}
	if err := s.PutTargets(t.Context(), d.ID, fleet("i", n)); err != nil {
		t.Fatal(err)
	}
	return fencedRig{t: t, ctx: t.Context(), dep: d.ID}
}

// get reads target id through s.
func (r fencedRig) get(s deploy.Store, id string) *deploy.DeploymentTarget {
	r.t.Helper()
	tg, err := s.GetTarget(r.ctx, r.dep, id)
	if err != nil {
		r.t.Fatalf("GetTarget %s: %v", id, err)
	}
	return tg
}

// move writes target id through s with status st, from the version read
// through the unfenced store u.
func (r fencedRig) move(u, s deploy.Store, id string, st target.TargetStatus) error {
	tg := r.get(u, id)
	tg.Status = st
	return s.UpdateTarget(r.ctx, tg)
}

// wantLost checks that err is a *LeaseLostError of l naming current.
func wantLost(t *testing.T, err error, l, current deploy.Lease, what string) {
	t.Helper()
	var ll *deploy.LeaseLostError
	if !errors.As(err, &ll) || ll.Lease != l || ll.Current != current {
		t.Errorf("%s: got %v; want a *deploy.LeaseLostError of lease %d naming %v", what, err, l.Token, current)
	}
}

// TestTakeoverStampsUnfinishedTargets: a takeover of an expired lease
// stamps the targets that are not final — one UpdateItem each, the final
// ones left alone — after which every target write fenced by the old
// lease fails, final targets included, and changes nothing; the new
// holder's writes are single UpdateItems, and a stale version under the
// current lease is a conflict, not a lost lease.
func TestTakeoverStampsUnfinishedTargets(t *testing.T) {
	table := newTable(t)
	spyA, spyB := &spyAPI{API: newClient(t)}, &spyAPI{API: newClient(t)}
	a, b := open(t, spyA, table), open(t, spyB, table)
	r := newRig(t, a, 5)
	ids := ids(fleet("i", 5))
	la, err := a.AcquireLease(r.ctx, r.dep, "exec-a", t0, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	fa := a.Fenced(la)
	// ids[0] InProgress, ids[1] Succeeded, ids[2] Skipped; the rest Pending.
	spyA.counts()
	for _, m := range []struct {
		id string
		st target.TargetStatus
	}{{ids[0], target.TargetInProgress}, {ids[1], target.TargetInProgress}, {ids[1], target.TargetSucceeded}, {ids[2], target.TargetSkipped}} {
		if err := r.move(a, fa, m.id, m.st); err != nil {
			t.Fatalf("fenced UpdateTarget %s to %s under the live lease: %v", m.id, m.st, err)
		}
	}
	// The handle that took the lease was registered by AcquireLease.
	if n, _, heads, tx := spyA.counts(); n != 4 || heads != 0 || tx != 0 {
		t.Errorf("4 fenced updates of unfinished targets made %d target writes, %d head UpdateItems and %d transactions; want 4, 0 (no registration: the handle took the lease) and 0", n, heads, tx)
	}

	spyB.counts()
	lb, err := b.AcquireLease(r.ctx, r.dep, "exec-b", t0.Add(2*time.Minute), time.Minute)
	if err != nil || lb.Token != 2 {
		t.Fatalf("taking the expired lease over: %+v, %v; want token 2", lb, err)
	}
	// Unfinished: ids[0] (InProgress), ids[3], ids[4] (Pending).
	if n, stamps, _, _ := spyB.counts(); n != 3 || stamps != 3 {
		t.Errorf("the takeover made %d target writes (%d stamps); want 3 stamps, one per unfinished target", n, stamps)
	}

	before := make(map[string]*deploy.DeploymentTarget)
	for _, id := range ids {
		before[id] = r.get(b, id)
	}
	wantLost(t, r.move(a, fa, ids[0], target.TargetSucceeded), la, lb, "the old holder moving its InProgress target on")
	wantLost(t, r.move(a, fa, ids[3], target.TargetInProgress), la, lb, "the old holder starting a Pending target")
	wantLost(t, r.move(a, fa, ids[1], target.TargetFailed), la, lb, "the old holder rewriting a Succeeded target (not stamped)")
	wantLost(t, r.move(a, fa, ids[2], target.TargetPending), la, lb, "the old holder rewriting a Skipped target (not stamped)")
	stale := before[ids[4]].Clone()
	stale.Version--
	stale.Status = target.TargetInProgress
	wantLost(t, fa.UpdateTarget(r.ctx, &stale), la, lb, "the old holder writing a stale version of a stamped target")
	for _, id := range ids {
		if got := r.get(b, id); got.Version != before[id].Version || got.Status != before[id].Status {
			t.Errorf("target %s after refused writes of the old holder: version %d, %s; want version %d, %s", id, got.Version, got.Status, before[id].Version, before[id].Status)
		}
	}
	d, err := b.GetDeployment(r.ctx, r.dep)
	if err != nil {
		t.Fatal(err)
	}
	late := d.Clone()
	late.Description = "written by the old holder"
	wantLost(t, fa.UpdateDeployment(r.ctx, &late), la, lb, "the old holder's UpdateDeployment (stamped too)")
	if got, err := b.GetDeployment(r.ctx, r.dep); err != nil || got.Version != d.Version || got.Description != d.Description {
		t.Errorf("the deployment after a refused update of the old holder: %v; want version %d, description %q", summary(got, err), d.Version, d.Description)
	}

	fb := b.Fenced(lb)
	spyB.counts()
	if err := r.move(b, fb, ids[0], target.TargetSucceeded); err != nil {
		t.Errorf("the new holder's UpdateTarget of a stamped target: %v", err)
	}
	if n, _, heads, tx := spyB.counts(); n != 1 || heads != 0 || tx != 0 {
		t.Errorf("the new holder's first fenced update made %d target writes, %d head UpdateItems, %d transactions; want 1, 0 (it took the lease: registered) and 0", n, heads, tx)
	}
	d.Description = "written by the new holder"
	if err := fb.UpdateDeployment(r.ctx, d); err != nil {
		t.Errorf("the new holder's UpdateDeployment: %v", err)
	}
	if _, _, _, tx := spyB.counts(); tx != 0 {
		t.Errorf("a fenced UpdateDeployment that keeps the status made %d transactions; want none", tx)
	}
	old := before[ids[3]].Clone()
	old.Version--
	if err := fb.UpdateTarget(r.ctx, &old); !errors.Is(err, deploy.ErrConflict) || errors.Is(err, deploy.ErrLeaseLost) {
		t.Errorf("the current holder's update with a stale version: %v; want ErrConflict", err)
	}
	// A final target rewritten under the current lease: checked on the head.
	spyB.counts()
	if err := r.move(b, fb, ids[1], target.TargetFailed); err != nil {
		t.Errorf("the current holder rewriting a final target: %v", err)
	}
	if _, _, _, tx := spyB.counts(); tx != 1 {
		t.Errorf("rewriting a final target made %d transactions; want 1 (the lease is checked on the head item)", tx)
	}
}

// TestReleasedLeaseHandsOverWithoutStamping: after a clean release — the
// handle that wrote the targets releases — the next acquisition writes
// the head item only, and the released view's writes fail at once. A
// release through another handle than the one that wrote is not clean:
// the next acquisition stamps, and fences that writer.
func TestReleasedLeaseHandsOverWithoutStamping(t *testing.T) {
	table := newTable(t)
	spyA, spyB := &spyAPI{API: newClient(t)}, &spyAPI{API: newClient(t)}
	a, b, c := open(t, spyA, table), open(t, spyB, table), open(t, nil, table)
	r := newRig(t, a, 4)
	ids := ids(fleet("i", 4))

	la, err := a.AcquireLease(r.ctx, r.dep, "exec-a", t0, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	fa := a.Fenced(la)
	if err := r.move(a, fa, ids[0], target.TargetInProgress); err != nil {
		t.Fatal(err)
	}
	if err := a.ReleaseLease(r.ctx, la); err != nil {
		t.Fatal(err)
	}
	cur, err := a.GetLease(r.ctx, r.dep)
	if err != nil {
		t.Fatal(err)
	}
	wantLost(t, r.move(a, fa, ids[1], target.TargetInProgress), la, cur, "a write through the view of a lease its handle released")
	spyB.counts()
	lb, err := b.AcquireLease(r.ctx, r.dep, "exec-b", t0.Add(time.Second), time.Minute)
	if err != nil || lb.Token != 2 {
		t.Fatalf("AcquireLease after a release: %+v, %v", lb, err)
	}
	if n, stamps, heads, tx := spyB.counts(); n != 0 || stamps != 0 || heads != 1 || tx != 0 {
		t.Errorf("AcquireLease after a clean release made %d target writes, %d head writes, %d transactions; want 0, 1 and 0", n, heads, tx)
	}

	// b holds the lease, but its fenced view is on c: b's release is not
	// clean, and c's writes under the released lease are fenced from the
	// next acquisition on.
	fc := c.Fenced(lb)
	if err := r.move(a, fc, ids[1], target.TargetInProgress); err != nil {
		t.Fatal(err)
	}
	if err := b.ReleaseLease(r.ctx, lb); err != nil {
		t.Fatal(err)
	}
	spyA.counts()
	la2, err := a.AcquireLease(r.ctx, r.dep, "exec-a", t0.Add(2*time.Second), time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if _, stamps, _, _ := spyA.counts(); stamps != 4 {
		t.Errorf("AcquireLease after a release through another handle than the writer's stamped %d targets; want all 4 (none is final)", stamps)
	}
	wantLost(t, r.move(a, fc, ids[2], target.TargetInProgress), lb, la2, "a write through another handle's view of a lease released, then taken")
}

// TestCrashDuringStamping: a takeover whose stamping fails part way
// returns an error and keeps the lease from its caller; the targets it
// did not stamp are stamped by the next takeover, after which the first
// holder's writes fail on all of them. The same owner may take the lease
// again at once. The release of a lease whose stamping failed is not
// clean: the next acquisition stamps.
func TestCrashDuringStamping(t *testing.T) {
	table := newTable(t)
	spyB := &spyAPI{API: newClient(t)}
	a, b, c := open(t, nil, table), open(t, spyB, table, func(o *dynamostore.Options) { o.Parallelism = 1 }), open(t, nil, table)
	r := newRig(t, a, 6)
	ids := ids(fleet("i", 6))
	la, err := a.AcquireLease(r.ctx, r.dep, "exec-a", t0, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	fa := a.Fenced(la)
	if err := r.move(a, fa, ids[0], target.TargetInProgress); err != nil {
		t.Fatal(err)
	}

	spyB.mu.Lock()
	spyB.failStampAt = 4 // the deployment item's and two targets' stamps made, the fourth fails
	spyB.mu.Unlock()
	_, err = b.AcquireLease(r.ctx, r.dep, "exec-b", t0.Add(2*time.Minute), time.Minute)
	if !errors.Is(err, errInjected) {
		t.Fatalf("a takeover whose stamping fails: %v; want the stamping's error", err)
	}
	held, err := a.GetLease(r.ctx, r.dep)
	if err != nil || held.Owner != "exec-b" || held.Token != 2 {
		t.Fatalf("the lease after a failed stamping: %+v, %v; want exec-b's token 2 (taken, not handed out)", held, err)
	}
	if _, stamps, _, _ := spyB.counts(); stamps != 2 {
		t.Fatalf("the failed stamping made %d stamps; want 2", stamps)
	}
	// Its lease expires; the next takeover stamps again, with token 3.
	spyB.counts()
	lc, err := b.AcquireLease(r.ctx, r.dep, "exec-c", t0.Add(4*time.Minute), time.Minute)
	if err != nil || lc.Token != 3 {
		t.Fatalf("taking over the lease of the acquirer whose stamping failed: %+v, %v; want token 3", lc, err)
	}
	if _, stamps, _, _ := spyB.counts(); stamps != 6 {
		t.Errorf("the takeover after a failed stamping stamped %d targets; want all 6", stamps)
	}
	for i, id := range ids {
		st := target.TargetInProgress
		if i == 0 {
			st = target.TargetSucceeded
		}
		wantLost(t, r.move(a, fa, id, st), la, lc, "the first holder writing "+id+" after the second takeover")
	}
	// exec-c takes its live lease again (through another handle): a
	// lease not released, so it stamps again, and fences its earlier one.
	spyB.counts()
	again, err := b.AcquireLease(r.ctx, r.dep, "exec-c", t0.Add(4*time.Minute+time.Second), time.Minute)
	if err != nil || again.Token != 4 {
		t.Fatalf("the holder taking its live lease again: %+v, %v; want token 4", again, err)
	}
	if _, stamps, _, _ := spyB.counts(); stamps != 6 {
		t.Errorf("the holder taking its lease again stamped %d targets; want all 6 (its earlier lease was not released)", stamps)
	}
	wantLost(t, r.move(a, c.Fenced(lc), ids[1], target.TargetInProgress), lc, again, "a write under the holder's earlier lease")

	// A stamping that fails again, and its lease released (by whoever
	// read it): not a clean release, since a former holder may still
	// write; the next acquisition stamps.
	fc := c.Fenced(again)
	if err := r.move(a, fc, ids[1], target.TargetInProgress); err != nil {
		t.Fatal(err)
	}
	spyB.mu.Lock()
	spyB.failStampAt = 2 // the deployment item's stamp made, the first target's fails
	spyB.mu.Unlock()
	if _, err := b.AcquireLease(r.ctx, r.dep, "exec-d", t0.Add(6*time.Minute), time.Minute); !errors.Is(err, errInjected) {
		t.Fatalf("a takeover whose stamping fails: %v; want the stamping's error", err)
	}
	half, err := a.GetLease(r.ctx, r.dep)
	if err != nil || half.Token != 5 {
		t.Fatalf("the lease after a failed stamping: %+v, %v; want token 5", half, err)
	}
	if err := b.ReleaseLease(r.ctx, half); err != nil {
		t.Fatalf("ReleaseLease of the lease whose stamping failed: %v", err)
	}
	spyB.counts()
	next, err := b.AcquireLease(r.ctx, r.dep, "exec-e", t0.Add(6*time.Minute), time.Minute)
	if err != nil || next.Token != 6 {
		t.Fatalf("AcquireLease after the release: %+v, %v; want token 6", next, err)
	}
	if _, stamps, _, _ := spyB.counts(); stamps != 6 {
		t.Errorf("AcquireLease after the release of a lease whose stamping failed stamped %d targets; want all 6", stamps)
	}
	wantLost(t, r.move(a, fc, ids[2], target.TargetInProgress), again, next, "a write under the lease before the failed stamping, after the release and the next acquisition")
}

// TestPutTargetsDuringTakeover: targets put (unfenced) while the lease
// changes hands carry the new holder's token — the put stages them again
// when the lease moved before its commit — so the former holder cannot
// write them.
func TestPutTargetsDuringTakeover(t *testing.T) {
	table := newTable(t)
	spy := &spyAPI{API: newClient(t)}
	a, b := open(t, nil, table), open(t, spy, table)
	r := newRig(t, a, 1)
	la, err := a.AcquireLease(r.ctx, r.dep, "exec-a", t0, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	fa := a.Fenced(la)
	if err := r.move(a, fa, ids(fleet("i", 1))[0], target.TargetInProgress); err != nil { // registered: its next writes are plain UpdateItems
		t.Fatal(err)
	}
	var lb deploy.Lease
	spy.mu.Lock()
	spy.beforeStage = func() {
		// After the put read the head (token 1), before it stages.
		if lb, err = a.AcquireLease(r.ctx, r.dep, "exec-b", t0.Add(2*time.Minute), time.Minute); err != nil {
			t.Errorf("the takeover during the put: %v", err)
		}
	}
	spy.mu.Unlock()
	if err := b.PutTargets(r.ctx, r.dep, []deploy.DeploymentTarget{newTarget("i-new")}); err != nil {
		t.Fatalf("PutTargets while the lease changed hands: %v", err)
	}
	if lb.Token != 2 {
		t.Fatalf("the takeover did not happen during the put (lease %+v)", lb)
	}
	wantLost(t, r.move(a, fa, "i-new", target.TargetInProgress), la, lb, "the former holder writing a target put during the takeover")
	if err := r.move(a, a.Fenced(lb), "i-new", target.TargetInProgress); err != nil {
		t.Errorf("the new holder writing the target put during the takeover: %v", err)
	}
}

// TestFencedUpdateRetried: a fenced target update whose request is sent
// again after it was made (the SDK's retry of a request whose answer was
// lost) recognizes its own write and succeeds; the target moved one
// version on.
func TestFencedUpdateRetried(t *testing.T) {
	table := newTable(t)
	spy := &spyAPI{API: newClient(t)}
	a := open(t, spy, table)
	r := newRig(t, a, 1)
	id := ids(fleet("i", 1))[0]
	l, err := a.AcquireLease(r.ctx, r.dep, "exec-a", t0, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	fa := a.Fenced(l)
	for _, st := range []target.TargetStatus{target.TargetInProgress, target.TargetSucceeded} {
		tg := r.get(a, id)
		tg.Status = st
		spy.mu.Lock()
		spy.replay = true
		spy.mu.Unlock()
		if err := fa.UpdateTarget(r.ctx, tg); err != nil {
			t.Errorf("a fenced UpdateTarget to %s sent twice: %v; want it to recognize its own write", st, err)
		}
		if got := r.get(a, id); got.Status != st || got.Version != tg.Version {
			t.Errorf("the target after an update to %s sent twice: %s, version %d; want %s, version %d", st, got.Status, got.Version, st, tg.Version)
		}
	}
}

// summary says what a test needs of a deployment read.
func summary(d *deploy.Deployment, err error) string {
	if err != nil {
		return err.Error()
	}
	return fmt.Sprintf("version %d, description %q", d.Version, d.Description)
}

// attrS returns the string attribute name of an item, "" if absent.
func attrS(it map[string]types.AttributeValue, name string) string {
	if v, ok := it[name].(*types.AttributeValueMemberS); ok {
		return v.Value
	}
	return ""
}

// TestTakeoverMeetsFirstUpdate: a takeover creates, stamped, the items of
// unfinished targets that have none; when the former holder's first
// update of one creates it between the takeover's read of the targets and
// its put, the put fails and the takeover stamps the item instead, so that
// the former holder's next write fails, and the new holder finds its
// update.
func TestTakeoverMeetsFirstUpdate(t *testing.T) {
	table := newTable(t)
	spy := &spyAPI{API: newClient(t)}
	a, b := open(t, nil, table), open(t, spy, table, func(o *dynamostore.Options) { o.Parallelism = 1 })
	r := newRig(t, a, 1)
	id := ids(fleet("i", 1))[0]
	la, err := a.AcquireLease(r.ctx, r.dep, "exec-a", t0, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	fa := a.Fenced(la)
	spy.mu.Lock()
	spy.beforeStampPut = func() {
		// The takeover has read the targets: id has no item yet.
		if err := r.move(a, fa, id, target.TargetInProgress); err != nil {
			t.Errorf("the former holder's first update during the takeover: %v", err)
		}
	}
	spy.mu.Unlock()
	spy.counts()
	lb, err := b.AcquireLease(r.ctx, r.dep, "exec-b", t0.Add(2*time.Minute), time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if _, stamps, _, _ := spy.counts(); stamps != 1 {
		t.Errorf("the takeover made %d stamps; want 1 (the UpdateItem after its put found the item)", stamps)
	}
	got := r.get(b, id)
	if got.Status != target.TargetInProgress || got.Version != 2 {
		t.Errorf("the target after the takeover: %s, version %d; want the former holder's update (InProgress, version 2)", got.Status, got.Version)
	}
	wantLost(t, r.move(a, fa, id, target.TargetSucceeded), la, lb, "the former holder's next write, after the takeover")
	if err := r.move(b, b.Fenced(lb), id, target.TargetSucceeded); err != nil {
		t.Errorf("the new holder's update: %v", err)
	}
}

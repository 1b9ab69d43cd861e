package deploy_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fleetdeploy/fleetdeploy/deploy"
	"github.com/fleetdeploy/fleetdeploy/deploy/deploytest"
	"github.com/fleetdeploy/fleetdeploy/health"
	"github.com/fleetdeploy/fleetdeploy/target"
)

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func TestMemoryStoreConformance(t *testing.T) {
	deploytest.TestStore(t, func(*testing.T) deploytest.Opener {
		s := deploy.NewMemoryStore()
		return func() deploy.Store { return s }
	})
}

// newRunning returns a store with application shop, group prod and
// deployment d-1 InProgress holding n targets i-00000, i-00001, ...
func newRunning(t testing.TB, n int) *deploy.MemoryStore {
	t.Helper()
	ctx := context.Background()
	s := deploy.NewMemoryStore()
	if err := s.CreateApplication(ctx, &deploy.Application{Name: "shop"}); err != nil {
		t.Fatal(err)
	}
	g := deploy.Group{ApplicationName: "shop", Name: "prod"}
	if err := s.CreateGroup(ctx, &g); err != nil {
		t.Fatal(err)
	}
	d := deploy.Deployment{ID: "d-1", ApplicationName: "shop", GroupName: "prod", GroupID: g.ID, Status: deploy.StatusInProgress}
	if err := s.CreateDeployment(ctx, &d); err != nil {
		t.Fatal(err)
	}
	const batch = 1000
	for start := 0; start < n; start += batch {
		ts := make([]deploy.DeploymentTarget, min(batch, n-start))
		for i := range ts {
			id := fmt.Sprintf("i-%05d", start+i)
			ts[i] = deploy.DeploymentTarget{TargetID: id, Target: target.Target{ID: id, Zone: "zone-a"},
				InitialInstanceHealth: health.Healthy, InitialRevisionHealth: health.Old, Status: target.TargetPending}
		}
		if err := s.PutTargets(ctx, "d-1", ts); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

// finished returns the lifecycle events of a target that went through
// every Server event with a load balancer, each a second long.
func finished() []deploy.LifecycleEventRecord {
	events := []target.LifecycleEvent{target.BeforeBlockTraffic, target.BlockTraffic, target.AfterBlockTraffic,
		target.ApplicationStop, target.DownloadBundle, target.BeforeInstall, target.Install, target.AfterInstall,
		target.ApplicationStart, target.ValidateService, target.BeforeAllowTraffic, target.AllowTraffic, target.AfterAllowTraffic}
	out := make([]deploy.LifecycleEventRecord, len(events))
	for i, e := range events {
		out[i] = deploy.LifecycleEventRecord{Name: e, Status: target.EventSucceeded,
			StartTime: t0.Add(time.Duration(i) * time.Second), EndTime: t0.Add(time.Duration(i+1) * time.Second)}
	}
	return out
}

// Different targets are updated concurrently without losing a write.
func TestMemoryStoreConcurrentTargetUpdates(t *testing.T) {
	const n, workers, rounds = 256, 16, 5
	s := newRunning(t, n)
	ctx := t.Context()
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for r := range rounds {
				for i := w; i < n; i += workers {
					tg, err := s.GetTarget(ctx, "d-1", fmt.Sprintf("i-%05d", i))
					if err != nil {
						t.Error(err)
						return
					}
					tg.LifecycleEvents = append(tg.LifecycleEvents, deploy.LifecycleEventRecord{Name: target.Install, Status: target.EventSucceeded})
					tg.LastUpdated = t0.Add(time.Duration(r) * time.Second)
					if err := s.UpdateTarget(ctx, tg); err != nil {
						t.Error(err)
						return
					}
				}
			}
		})
	}
	wg.Wait()
	for tg, err := range deploy.AllTargets(ctx, s, "d-1") {
		if err != nil {
			t.Fatal(err)
		}
		if tg.Version != rounds+1 || len(tg.LifecycleEvents) != rounds {
			t.Errorf("%s: version %d with %d events; want %d and %d", tg.TargetID, tg.Version, len(tg.LifecycleEvents), rounds+1, rounds)
		}
	}
}

// Writers racing on one target: compare-and-swap loses no increment.
func TestMemoryStoreCompareAndSwapLosesNothing(t *testing.T) {
	s := newRunning(t, 1)
	ctx := t.Context()
	const writers, each = 8, 25
	var wg sync.WaitGroup
	for range writers {
		wg.Go(func() {
			for done := 0; done < each; {
				tg, err := s.GetTarget(ctx, "d-1", "i-00000")
				if err != nil {
					t.Error(err)
					return
				}
				tg.LifecycleEvents = append(tg.LifecycleEvents, deploy.LifecycleEventRecord{Name: target.Install})
				switch err := s.UpdateTarget(ctx, tg); {
				case err == nil:
					done++
				case !errors.Is(err, deploy.ErrConflict):
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	tg, err := s.GetTarget(ctx, "d-1", "i-00000")
	if err != nil {
		t.Fatal(err)
	}
	if len(tg.LifecycleEvents) != writers*each || tg.Version != writers*each+1 {
		t.Errorf("%d events, version %d; want %d and %d", len(tg.LifecycleEvents), tg.Version, writers*each, writers*each+1)
	}
}

// The goal: ≤ 1 KiB resident per target. A target that went through all 13
// events of a Server deployment with a load balancer must fit.
func TestMemoryStoreBytesPerTarget(t *testing.T) {
	const n = 50_000
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	s := newRunning(t, n)
	ctx := t.Context()
	events := finished()
	for i := range n {
		tg, err := s.GetTarget(ctx, "d-1", fmt.Sprintf("i-%05d", i))
		if err != nil {
			t.Fatal(err)
		}
		tg.Status = target.TargetSucceeded
		tg.LifecycleEvents = events
		tg.LastUpdated = t0
		if err := s.UpdateTarget(ctx, tg); err != nil {
			t.Fatal(err)
		}
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	perTarget := (int64(after.HeapAlloc) - int64(before.HeapAlloc)) / n
	t.Logf("%d bytes per finished target", perTarget)
	if perTarget > 1024 {
		t.Errorf("the memory store keeps %d bytes per finished target; the budget is 1024", perTarget)
	}
	runtime.KeepAlive(s)
}

// An update writes one record: it allocates only the new events, never
// copies the fleet or an unchanged tag map.
func TestMemoryStoreUpdateTargetAllocations(t *testing.T) {
	s := newRunning(t, 2000)
	ctx := t.Context()
	tg, err := s.GetTarget(ctx, "d-1", "i-01000")
	if err != nil {
		t.Fatal(err)
	}
	tg.Target.Tags = map[string]string{"env": "prod", "team": "web", "tier": "front"}
	tg.LifecycleEvents = finished()
	if err := s.UpdateTarget(ctx, tg); err != nil {
		t.Fatal(err)
	}
	allocs := testing.AllocsPerRun(100, func() {
		if err := s.UpdateTarget(ctx, tg); err != nil {
			t.Fatal(err)
		}
	})
	if allocs > 1 {
		t.Errorf("UpdateTarget allocates %.0f times per call; want at most 1 (the packed events)", allocs)
	}
}

// A fenced target write checks the owner as well as the token, as every
// other fenced write does: a lease made up with the current token and
// another owner is refused, through both write methods, and changes
// nothing.
func TestMemoryStoreFencedTargetWriteChecksOwner(t *testing.T) {
	s := newRunning(t, 2)
	ctx := t.Context()
	l, err := s.AcquireLease(ctx, "d-1", "exec-a", t0, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	forged := l
	forged.Owner = "exec-b"
	view := s.Fenced(forged)
	writes := map[string]func(*deploy.DeploymentTarget) error{
		"UpdateTarget": func(tg *deploy.DeploymentTarget) error { return view.UpdateTarget(ctx, tg) },
		"UpdateTargetAt": func(tg *deploy.DeploymentTarget) error {
			return view.(deploy.TargetUpdaterAt).UpdateTargetAt(ctx, 0, tg)
		},
	}
	for name, write := range writes {
		tg, err := s.GetTarget(ctx, "d-1", "i-00000")
		if err != nil {
			t.Fatal(err)
		}
		before := *tg
		tg.Status = target.TargetInProgress
		var lost *deploy.LeaseLostError
		if err := write(tg); !errors.As(err, &lost) || lost.Current != l || lost.Lease != forged {
			t.Errorf("%s through a view fenced by a made-up lease (token %d, owner exec-b): got %v; want a *deploy.LeaseLostError naming exec-a's lease", name, l.Token, err)
		}
		if after, err := s.GetTarget(ctx, "d-1", "i-00000"); err != nil || after.Status != before.Status || after.Version != before.Version {
			t.Errorf("%s refused: the target is now %+v (%v); want it unchanged", name, after, err)
		}
	}
	if err := s.Fenced(l).UpdateTarget(ctx, &deploy.DeploymentTarget{DeploymentID: "d-1", TargetID: "i-00001", Target: target.Target{ID: "i-00001", Zone: "zone-a"},
		InitialInstanceHealth: health.Healthy, InitialRevisionHealth: health.Old, Status: target.TargetInProgress, Version: 1}); err != nil {
		t.Errorf("UpdateTarget through the holder's view: %v", err)
	}
}

// stuckLister returns the same page token forever.
type stuckLister struct{ deploy.TargetStore }

func (stuckLister) ListTargets(context.Context, string, string, int) ([]deploy.DeploymentTarget, string, error) {
	return nil, "again", nil
}

func TestAllTargets(t *testing.T) {
	s := newRunning(t, 2500)
	ctx := t.Context()
	i := 0
	for tg, err := range deploy.AllTargets(ctx, s, "d-1") {
		if err != nil {
			t.Fatal(err)
		}
		if want := fmt.Sprintf("i-%05d", i); tg.TargetID != want {
			t.Fatalf("target %d is %s; want %s", i, tg.TargetID, want)
		}
		i++
		if i == 1500 {
			break
		}
	}
	for _, err := range deploy.AllTargets(ctx, s, "d-NOPE") {
		if !errors.Is(err, deploy.ErrNotFound) {
			t.Errorf("AllTargets of an unknown deployment yielded %v", err)
		}
	}
	var errs []error
	for _, err := range deploy.AllTargets(ctx, stuckLister{}, "d-1") {
		errs = append(errs, err)
	}
	if len(errs) != 1 || !errors.Is(errs[0], deploy.ErrInvalidArgument) {
		t.Errorf("AllTargets over a store repeating its page token yielded %v; want one ErrInvalidArgument", errs)
	}
}

// A record's events come back exactly as written, whatever their times:
// events not yet run (the zero time.Time), a zero instant in a location
// other than UTC, and times in UTC, Local and a fixed zone, in any mix
// (the store packs times by location, with shortcuts for the common ones).
func TestMemoryStoreEventTimesRoundTrip(t *testing.T) {
	ctx := context.Background()
	s := newRunning(t, 1)
	plus2 := time.FixedZone("UTC+2", 2*60*60)
	at := time.Date(2026, 5, 6, 7, 8, 9, 123456789, time.UTC)
	rec, err := s.GetTarget(ctx, "d-1", "i-00000")
	if err != nil {
		t.Fatal(err)
	}
	rec.Status = target.TargetInProgress
	rec.LastUpdated = at.Local()
	rec.LifecycleEvents = []deploy.LifecycleEventRecord{
		{Name: target.ApplicationStop, Status: target.EventSucceeded, StartTime: at.Local(), EndTime: at.In(plus2)},
		{Name: target.DownloadBundle, Status: target.EventInProgress, StartTime: at},
		{Name: target.BeforeInstall, Status: target.EventPending},
		{Name: target.Install, Status: target.EventPending, StartTime: time.Time{}.In(plus2)},
		{Name: target.AfterInstall, Status: target.EventPending, EndTime: time.Time{}.In(time.Local)},
		{Name: target.ApplicationStart, Status: target.EventSkipped, StartTime: at.In(plus2), EndTime: at.Local()},
	}
	want := *rec
	want.LifecycleEvents = slices.Clone(rec.LifecycleEvents)
	if err := s.UpdateTarget(ctx, rec); err != nil {
		t.Fatal(err)
	}
	got, err := s.GetTarget(ctx, "d-1", "i-00000")
	if err != nil {
		t.Fatal(err)
	}
	for i, e := range got.LifecycleEvents {
		w := want.LifecycleEvents[i]
		if e.Name != w.Name || e.Status != w.Status || e.StartTime != w.StartTime || e.EndTime != w.EndTime {
			t.Errorf("event %d: got %s %s %v / %v; want %s %s %v / %v", i, e.Name, e.Status, e.StartTime, e.EndTime, w.Name, w.Status, w.StartTime, w.EndTime)
		}
	}
	if len(got.LifecycleEvents) != len(want.LifecycleEvents) || got.LastUpdated != want.LastUpdated {
		t.Errorf("got %d events, last updated %v; want %d, %v", len(got.LifecycleEvents), got.LastUpdated, len(want.LifecycleEvents), want.LastUpdated)
	}
}

// TestMemoryStoreLargeInstanceBatches writes batches of instance records
// large enough to be stored by several goroutines (a fleet's records, as a
// deployment writes them when it ends): every record is stored once with
// the right version, a batch with a duplicate key is refused whole, and
// the error names the first pair.
func TestMemoryStoreLargeInstanceBatches(t *testing.T) {
	ctx := context.Background()
	s := deploy.NewMemoryStore()
	const n = 40_000
	batch := func(lo, hi int, h health.InstanceHealth) []deploy.InstanceRecord {
		out := make([]deploy.InstanceRecord, 0, hi-lo)
		for i := lo; i < hi; i++ {
			out = append(out, deploy.InstanceRecord{GroupID: "g-1", TargetID: fmt.Sprintf("i-%05d", i), InstanceHealth: h})
		}
		return out
	}
	check := func(what string, want map[string]deploy.InstanceRecord) {
		t.Helper()
		got, err := s.GetInstances(ctx, "g-1")
		if err != nil {
			t.Fatalf("%s: GetInstances: %v", what, err)
		}
		if len(got) != len(want) {
			t.Fatalf("%s: %d records; want %d", what, len(got), len(want))
		}
		if !slices.IsSortedFunc(got, func(a, b deploy.InstanceRecord) int { return strings.Compare(a.TargetID, b.TargetID) }) {
			t.Errorf("%s: GetInstances is not in target ID order", what)
		}
		for _, r := range got {
			if w := want[r.TargetID]; r != w {
				t.Fatalf("%s: record %+v; want %+v", what, r, w)
			}
		}
	}
	want := map[string]deploy.InstanceRecord{}
	first := batch(0, n, health.Healthy)
	if err := s.PutInstances(ctx, first); err != nil {
		t.Fatal(err)
	}
	for _, r := range first {
		if r.Version != 1 {
			t.Fatalf("new record %s has version %d; want 1", r.TargetID, r.Version)
		}
		want[r.TargetID] = r
	}
	check("first batch", want)

	// Half of the records again and as many new ones; with a duplicate
	// near the end, nothing of it is stored.
	second := batch(n/2, n+n/2, health.Unhealthy)
	bad := append(slices.Clone(second), second[7], second[3])
	err := s.PutInstances(ctx, bad)
	if !errors.Is(err, deploy.ErrInvalidArgument) || !strings.Contains(err.Error(), fmt.Sprintf("records[7] and records[%d]", len(second))) {
		t.Fatalf("a batch with %s twice: %v; want ErrInvalidArgument naming records[7] and records[%d]", second[7].TargetID, err, len(second))
	}
	check("after a refused batch", want)

	if err := s.PutInstances(ctx, second); err != nil {
		t.Fatal(err)
	}
	for i, r := range second {
		v := int64(1)
		if i < n/2 {
			v = 2 // stored by the first batch
		}
		if r.Version != v {
			t.Fatalf("record %s has version %d; want %d", r.TargetID, r.Version, v)
		}
		want[r.TargetID] = r
	}
	check("second batch", want)
	for _, id := range []string{"i-00000", "i-39999", "i-59999"} {
		r, err := s.GetInstance(ctx, "g-1", id)
		if err != nil || *r != want[id] {
			t.Errorf("GetInstance(%s) = %+v, %v; want %+v", id, r, err, want[id])
		}
	}
}

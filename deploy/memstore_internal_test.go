package deploy

import (
	"errors"
	"fmt"
	"reflect"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"unsafe"

	"github.com/fleetdeploy/fleetdeploy/revision"
	"github.com/fleetdeploy/fleetdeploy/target"
)

// The memory store interns revisions by a comparable key built from the
// fields of revision.Location; a field added there must be added to the
// key, or two different revisions could be stored as one.
func TestLocKeyCoversLocation(t *testing.T) {
	var fields []string
	for f := range reflect.TypeFor[revision.Location]().Fields() {
		fields = append(fields, f.Name)
	}
	want := []string{"Type", "S3", "GitHub", "AppSpecContent", "Local"}
	if !reflect.DeepEqual(fields, want) {
		t.Errorf("revision.Location has fields %v; locKey and revision.Location.Clone handle %v — update them", fields, want)
	}
}

// The memory store keeps target snapshots as memSnapshot: a field added
// to target.Target must be added there too, or it would be lost.
func TestMemSnapshotCoversTarget(t *testing.T) {
	var fields []string
	for f := range reflect.TypeFor[target.Target]().Fields() {
		fields = append(fields, f.Name)
	}
	want := []string{"ID", "Tags", "Zone", "AutoScalingGroup", "OnPremises", "Unavailable"}
	if !reflect.DeepEqual(fields, want) {
		t.Errorf("target.Target has fields %v; memSnapshot handles %v — update it", fields, want)
	}
	in := target.Target{ID: "i-1", Tags: map[string]string{"env": "prod", "team": "web"}, Zone: "zone-a", AutoScalingGroup: "asg", OnPremises: true, Unavailable: true}
	s := newSnapshot(&in, nil)
	if got := s.target(nil); !reflect.DeepEqual(got, in) || !s.is(&in) {
		t.Errorf("snapshot of %+v comes back as %+v (is: %v)", in, got, s.is(&in))
	}
	other := in
	other.Tags = map[string]string{"env": "prod", "team": "db"}
	if s.is(&other) {
		t.Error("a snapshot with other tags compares equal")
	}
	other = in
	other.Unavailable = false
	if s.is(&other) {
		t.Error("a snapshot of an unavailable target compares equal to an available one")
	}
	if again := newSnapshot(&in, &s); again.tags != s.tags {
		t.Error("equal tags are stored again instead of shared")
	}
}

// The packed forms are what keeps a million targets under a kilobyte each.
func TestPackedSizes(t *testing.T) {
	if n := unsafe.Sizeof(memEvent{}); n > 32 {
		t.Errorf("memEvent is %d bytes; keep it at most 32", n)
	}
	if hasPointers(reflect.TypeFor[memEvent]()) {
		t.Error("memEvent holds a pointer; keep pointers in memTarget, so that the collector skips event slabs")
	}
	if n := unsafe.Sizeof(memTarget{}); n > 128 {
		t.Errorf("memTarget is %d bytes; keep it at most 128", n)
	}
}

// hasPointers reports whether values of type t hold pointers.
func hasPointers(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.Struct:
		for f := range t.Fields() {
			if hasPointers(f.Type) {
				return true
			}
		}
		return false
	case reflect.Array:
		return hasPointers(t.Elem())
	case reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
		reflect.Float32, reflect.Float64, reflect.Complex64, reflect.Complex128:
		return false
	}
	return true
}

// knownID must agree with the intern table's order.
func TestKnownIDs(t *testing.T) {
	tab := newInternTable()
	for _, v := range preinterned {
		id, ok := knownID(v)
		if !ok || tab.str(id) != v {
			t.Errorf("knownID(%q) = %d, %v; the table holds %q there", v, id, ok, tab.str(id))
		}
	}
	if _, ok := knownID("Exploded"); ok {
		t.Error("knownID knows a value it should not")
	}
}

// storeDiagnostics keeps what is stored when nothing changed, shares the
// Diagnostics that did not change, and copies the ones that did, so that
// the caller's values never alias the store's.
func TestStoreDiagnostics(t *testing.T) {
	a := &Diagnostics{ErrorCode: "ScriptFailed", Message: "exit 1"}
	b := &Diagnostics{ErrorCode: "Success", LogTail: "ok\n"}
	evs := func(ds ...*Diagnostics) []LifecycleEventRecord {
		out := make([]LifecycleEventRecord, len(ds))
		for i, d := range ds {
			out[i].Diagnostics = d
		}
		return out
	}
	if got := storeDiagnostics(evs(nil, nil), nil); got != nil {
		t.Fatalf("no diagnostics stored as %v; want nil", *got)
	}
	first := storeDiagnostics(evs(a, nil), nil)
	if first == nil || len(*first) != 2 || (*first)[0] == a || *(*first)[0] != *a || (*first)[1] != nil {
		t.Fatalf("first store = %v; want a copy of a, then nil", first)
	}
	if again := storeDiagnostics(evs(&Diagnostics{ErrorCode: "ScriptFailed", Message: "exit 1"}, nil), first); again != first {
		t.Error("equal diagnostics were stored again; want the stored ones kept")
	}
	next := storeDiagnostics(evs(a, b), first)
	if next == first || (*next)[0] != (*first)[0] || (*next)[1] == b || *(*next)[1] != *b {
		t.Errorf("after a change: %v; want a new list sharing the unchanged entry and copying the new one", *next)
	}
	if got := storeDiagnostics(evs(nil, nil), next); got != nil {
		t.Errorf("diagnostics removed, stored as %v; want nil", *got)
	}
	if got := storeDiagnostics(evs(a), next); got == next || len(*got) != 1 {
		t.Errorf("fewer events: %v; want a list of one", got)
	}
}

// A target put once is found by every lookup after, while other targets
// are put and the index merges them into new frozen maps.
func TestTargetIndexFindsTargetsWhileTargetsArePut(t *testing.T) {
	ctx := t.Context()
	s := NewMemoryStore()
	if err := s.CreateApplication(ctx, &Application{Name: "app"}); err != nil {
		t.Fatal(err)
	}
	g := Group{ApplicationName: "app", Name: "web"}
	if err := s.CreateGroup(ctx, &g); err != nil {
		t.Fatal(err)
	}
	d := Deployment{ID: "d-1", ApplicationName: "app", GroupName: "web", GroupID: g.ID, Status: StatusInProgress}
	if err := s.CreateDeployment(ctx, &d); err != nil {
		t.Fatal(err)
	}
	const n = 3000
	id := func(i int) string { return fmt.Sprintf("i-%d", i) }
	var put atomic.Int64 // targets 0..put-1 are stored
	done := make(chan struct{})
	var wg sync.WaitGroup
	var misses atomic.Int64
	for range 3 {
		wg.Go(func() {
			for k := 0; ; k++ {
				select {
				case <-done:
					return
				default:
				}
				m := put.Load()
				if m == 0 {
					continue
				}
				// The newest targets, which a merge moves.
				i := int(m) - 1 - k%8
				if i < 0 {
					continue
				}
				if _, err := s.GetTarget(ctx, "d-1", id(i)); err != nil {
					misses.Add(1)
				}
			}
		})
	}
	for i := range n {
		tg := DeploymentTarget{TargetID: id(i), Target: target.Target{ID: id(i)}, Status: target.TargetPending}
		if err := s.PutTargets(ctx, "d-1", []DeploymentTarget{tg}); err != nil {
			t.Fatal(err)
		}
		put.Store(int64(i + 1))
	}
	close(done)
	wg.Wait()
	if m := misses.Load(); m > 0 {
		t.Errorf("%d lookups of stored targets failed", m)
	}
	for i := range n {
		if _, err := s.GetTarget(ctx, "d-1", id(i)); err != nil {
			t.Fatal(err)
		}
	}
}

// The table of guesses gives every ID's position among a few guesses,
// and few guesses for an ID it does not hold.
func TestPosTableGuessesEveryPosition(t *testing.T) {
	const n = 5000
	m := make(map[string]int, n)
	for i := range n {
		m[fmt.Sprintf("i-%d", i)] = i
	}
	tab := newPosTable(m)
	if tab == nil {
		t.Fatal("no table for 5000 targets")
	}
	guesses := 0
	for id, want := range m {
		found := false
		for p := tab.probe(id); ; {
			i, ok := p.next()
			if !ok {
				break
			}
			guesses++
			found = found || i == want
		}
		if !found {
			t.Fatalf("the table does not guess position %d of %s", want, id)
		}
	}
	if guesses > n+n/100 {
		t.Errorf("%d guesses for %d IDs; want about one each", guesses, n)
	}
	p := tab.probe("i-unknown")
	if i, ok := p.next(); ok {
		if _, ok := p.next(); ok {
			t.Errorf("an unknown ID gets guesses %d and more", i)
		}
	}
}

// UpdateTarget, which finds a record by the table of guesses, finds
// every target put while other targets are put and the index merges
// them, and writes that target's record, not another's.
func TestUpdateTargetFindsTargetsWhileTargetsArePut(t *testing.T) {
	ctx := t.Context()
	s := NewMemoryStore()
	if err := s.CreateApplication(ctx, &Application{Name: "app"}); err != nil {
		t.Fatal(err)
	}
	g := Group{ApplicationName: "app", Name: "web"}
	if err := s.CreateGroup(ctx, &g); err != nil {
		t.Fatal(err)
	}
	d := Deployment{ID: "d-1", ApplicationName: "app", GroupName: "web", GroupID: g.ID, Status: StatusInProgress}
	if err := s.CreateDeployment(ctx, &d); err != nil {
		t.Fatal(err)
	}
	const n = 3000
	id := func(i int) string { return fmt.Sprintf("i-%d", i) }
	var updated sync.WaitGroup
	updated.Go(func() {
		for i := range n {
			tg := DeploymentTarget{DeploymentID: "d-1", TargetID: id(i), Target: target.Target{ID: id(i)},
				Status: target.TargetSucceeded, Version: 1}
			for {
				err := s.UpdateTarget(ctx, &tg)
				if err == nil {
					break
				}
				if !errors.Is(err, ErrNotFound) {
					t.Errorf("update %s: %v", id(i), err)
					return
				}
				runtime.Gosched() // not put yet
			}
		}
	})
	for i := range n {
		tg := DeploymentTarget{TargetID: id(i), Target: target.Target{ID: id(i)}, Status: target.TargetPending}
		if err := s.PutTargets(ctx, "d-1", []DeploymentTarget{tg}); err != nil {
			t.Fatal(err)
		}
	}
	updated.Wait()
	check := func(status target.TargetStatus, version int64) {
		t.Helper()
		for i := range n {
			tg, err := s.GetTarget(ctx, "d-1", id(i))
			if err != nil {
				t.Fatal(err)
			}
			if tg.TargetID != id(i) || tg.Target.ID != id(i) || tg.Status != status || tg.Version != version {
				t.Fatalf("target %s is %s (%s) at version %d; want %s at version %d", id(i), tg.TargetID, tg.Status, tg.Version, status, version)
			}
		}
	}
	check(target.TargetSucceeded, 2)

	// Guesses are checked: with a table that guesses every target's
	// neighbour, updates still write the right records.
	md := s.deployment("d-1")
	wrong := make(map[string]int, n)
	for i := range n {
		wrong[id(i)] = (i + 1) % n
	}
	md.index.guesses.Store(newPosTable(wrong))
	for i := range n {
		tg := DeploymentTarget{DeploymentID: "d-1", TargetID: id(i), Target: target.Target{ID: id(i)},
			Status: target.TargetFailed, Version: 2}
		if err := s.UpdateTarget(ctx, &tg); err != nil {
			t.Fatalf("update %s with wrong guesses: %v", id(i), err)
		}
	}
	check(target.TargetFailed, 3)
}

package deploytest_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/fleetdeploy/fleetdeploy/deploy"
	"github.com/fleetdeploy/fleetdeploy/deploy/deploytest"
)

// setup creates application "app" and group "web" through s.
func setup(t *testing.T, s deploy.Store) deploy.Group {
	t.Helper()
	ctx := t.Context()
	if err := s.CreateApplication(ctx, &deploy.Application{Name: "app"}); err != nil {
		t.Fatal(err)
	}
	g := deploy.Group{ApplicationName: "app", Name: "web"}
	if err := s.CreateGroup(ctx, &g); err != nil {
		t.Fatal(err)
	}
	return g
}

func TestAfterWritesFailsLaterWritesWithoutReachingInner(t *testing.T) {
	inner := deploy.NewMemoryStore()
	fs := deploytest.NewFaultStore(inner, deploytest.FaultOptions{Fail: deploytest.AfterWrites(2)})
	g := setup(t, fs)
	d := deploy.Deployment{ID: "d-1", ApplicationName: "app", GroupName: "web", GroupID: g.ID, Status: deploy.StatusCreated}
	err := fs.CreateDeployment(t.Context(), &d)
	var ie *deploytest.InjectedError
	if !errors.As(err, &ie) || !errors.Is(err, deploytest.ErrInjected) {
		t.Fatalf("write 3 = %v; want an *InjectedError matching ErrInjected", err)
	}
	if ie.Write.N != 3 || ie.Write.Op != deploytest.OpCreateDeployment || ie.Write.Key != "d-1" {
		t.Errorf("the error names %v; want write 3: CreateDeployment d-1", ie.Write)
	}
	if d.Version != 0 {
		t.Errorf("a failed write set the caller's Version to %d", d.Version)
	}
	if _, err := inner.GetDeployment(t.Context(), "d-1"); !errors.Is(err, deploy.ErrNotFound) {
		t.Errorf("the failed write reached the inner store (GetDeployment: %v)", err)
	}
	if err := fs.CreateApplication(t.Context(), &deploy.Application{Name: "other"}); !errors.Is(err, deploytest.ErrInjected) {
		t.Errorf("write 4 = %v; AfterWrites(2) fails every later write", err)
	}
	if _, err := fs.GetGroup(t.Context(), "app", "web"); err != nil {
		t.Errorf("reads must pass when not crashed: %v", err)
	}
	if fs.Writes() != 2 || len(fs.Failed()) != 2 || fs.Crashed() {
		t.Errorf("Writes = %d, Failed = %v, Crashed = %v; want 2 writes, 2 failed, not crashed", fs.Writes(), fs.Failed(), fs.Crashed())
	}
}

func TestNthWriteAndOnOp(t *testing.T) {
	custom := errors.New("disk full")
	fs := deploytest.NewFaultStore(deploy.NewMemoryStore(), deploytest.FaultOptions{
		Fail: func(w deploytest.Write) bool {
			return deploytest.NthWrite(2)(w) || deploytest.OnOp(deploytest.OpUpdateTarget)(w)
		},
		Err: custom,
	})
	ctx := t.Context()
	if err := fs.CreateApplication(ctx, &deploy.Application{Name: "app"}); err != nil {
		t.Fatal(err)
	}
	g := deploy.Group{ApplicationName: "app", Name: "web"}
	if err := fs.CreateGroup(ctx, &g); !errors.Is(err, custom) {
		t.Fatalf("write 2 = %v; want the chosen error", err)
	}
	if err := fs.CreateGroup(ctx, &g); err != nil {
		t.Fatalf("write 3 = %v; NthWrite(2) fails only write 2", err)
	}
	d := deploy.Deployment{ID: "d-1", ApplicationName: "app", GroupName: "web", Status: deploy.StatusInProgress}
	if err := fs.CreateDeployment(ctx, &d); err != nil {
		t.Fatal(err)
	}
	ts := []deploy.DeploymentTarget{{TargetID: "i-1"}}
	ts[0].Target.ID = "i-1"
	if err := fs.PutTargets(ctx, "d-1", ts); err != nil {
		t.Fatal(err)
	}
	if err := fs.UpdateTarget(ctx, &ts[0]); !errors.Is(err, custom) {
		t.Errorf("UpdateTarget = %v; OnOp(UpdateTarget) must fail it", err)
	}
	got := fs.Failed()
	if len(got) != 2 || got[0].N != 2 || got[1].Op != deploytest.OpUpdateTarget || got[1].Key != "d-1/i-1" {
		t.Errorf("Failed = %v; want write 2 and the UpdateTarget of d-1/i-1", got)
	}
}

// A predicate may look at the record: here, fail the write that would
// finish the deployment.
func TestPredicateSeesRecord(t *testing.T) {
	fs := deploytest.NewFaultStore(deploy.NewMemoryStore(), deploytest.FaultOptions{
		Fail: func(w deploytest.Write) bool {
			d, ok := w.Record.(*deploy.Deployment)
			return ok && w.Op == deploytest.OpUpdateDeployment && d.Status.Final()
		},
	})
	setup(t, fs)
	d := deploy.Deployment{ID: "d-1", ApplicationName: "app", GroupName: "web", Status: deploy.StatusCreated}
	if err := fs.CreateDeployment(t.Context(), &d); err != nil {
		t.Fatal(err)
	}
	d.Status = deploy.StatusInProgress
	if err := fs.UpdateDeployment(t.Context(), &d); err != nil {
		t.Fatalf("a non-final update failed: %v", err)
	}
	d.Status = deploy.StatusSucceeded
	if err := fs.UpdateDeployment(t.Context(), &d); !errors.Is(err, deploytest.ErrInjected) {
		t.Errorf("the final update = %v; want it failed", err)
	}
	got, err := fs.GetDeployment(t.Context(), "d-1")
	if err != nil || got.Status != deploy.StatusInProgress {
		t.Errorf("stored deployment = %+v, %v; want it still InProgress", got, err)
	}
}

func TestCrashStopsEverything(t *testing.T) {
	inner := deploy.NewMemoryStore()
	fs := deploytest.CrashAfter(inner, 2)
	setup(t, fs)
	select {
	case <-fs.Done():
		t.Fatal("Done closed before the crash")
	default:
	}
	d := deploy.Deployment{ID: "d-1", ApplicationName: "app", GroupName: "web", Status: deploy.StatusCreated}
	err := fs.CreateDeployment(t.Context(), &d)
	if !errors.Is(err, deploytest.ErrCrashed) {
		t.Fatalf("write 3 = %v; want ErrCrashed", err)
	}
	if !fs.Crashed() {
		t.Error("Crashed = false after the crash")
	}
	<-fs.Done()
	if _, err := fs.GetGroup(t.Context(), "app", "web"); !errors.Is(err, deploytest.ErrCrashed) {
		t.Errorf("a read after the crash = %v; want ErrCrashed", err)
	}
	if err := fs.CreateApplication(t.Context(), &deploy.Application{Name: "x"}); !errors.Is(err, deploytest.ErrCrashed) {
		t.Errorf("a write after the crash = %v; want ErrCrashed", err)
	}
	if n := len(fs.Failed()); n != 1 {
		t.Errorf("Failed has %d writes; calls after the crash are not write attempts", n)
	}
	// The inner store holds exactly the writes before the crash.
	if _, err := inner.GetGroup(t.Context(), "app", "web"); err != nil {
		t.Errorf("write 2 is missing from the inner store: %v", err)
	}
	if _, err := inner.GetDeployment(t.Context(), "d-1"); !errors.Is(err, deploy.ErrNotFound) {
		t.Errorf("the crashing write reached the inner store (%v)", err)
	}
}

func TestCrashWithChosenError(t *testing.T) {
	custom := errors.New("power cut")
	fs := deploytest.NewFaultStore(deploy.NewMemoryStore(), deploytest.FaultOptions{Fail: deploytest.AfterWrites(0), Err: custom, Crash: true})
	err := fs.CreateApplication(t.Context(), &deploy.Application{Name: "app"})
	if !errors.Is(err, custom) || !errors.Is(err, deploytest.ErrCrashed) {
		t.Errorf("the crashing write = %v; want it to match the chosen error and ErrCrashed", err)
	}
	_, err = fs.ListApplications(t.Context())
	if !errors.Is(err, custom) || !errors.Is(err, deploytest.ErrCrashed) {
		t.Errorf("a read after the crash = %v; want it to match the chosen error and ErrCrashed", err)
	}
}

// Under concurrent writers exactly k writes reach the inner store.
func TestConcurrentWritesCountExactly(t *testing.T) {
	inner := deploy.NewMemoryStore()
	fs := deploytest.NewFaultStore(inner, deploytest.FaultOptions{Fail: deploytest.AfterWrites(10)})
	var wg sync.WaitGroup
	for i := range 50 {
		wg.Go(func() {
			_ = fs.CreateApplication(context.Background(), &deploy.Application{Name: fmt.Sprintf("app-%02d", i)})
		})
	}
	wg.Wait()
	apps, err := inner.ListApplications(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(apps) != 10 || fs.Writes() != 10 || len(fs.Failed()) != 40 {
		t.Errorf("inner has %d applications, Writes = %d, Failed = %d; want 10, 10, 40", len(apps), fs.Writes(), len(fs.Failed()))
	}
}

func TestFakeClock(t *testing.T) {
	start := deploytest.NewFakeClock(t0).Now()
	if !start.Equal(t0) {
		t.Errorf("NewFakeClock(t0).Now() = %v", start)
	}
	c := deploytest.NewFakeClock(t0)
	c.Advance(5 * time.Minute)
	if got := c.Now().Sub(t0); got != 5*time.Minute {
		t.Errorf("after Advance(5m) the clock moved %v", got)
	}
}

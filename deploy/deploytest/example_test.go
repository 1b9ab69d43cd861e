package deploytest_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/fleetdeploy/fleetdeploy/deploy"
	"github.com/fleetdeploy/fleetdeploy/deploy/deploytest"
)

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// A store that dies at its second write: the first write is kept, the
// second never reaches the inner store, and every later call fails.
func ExampleCrashAfter() {
	ctx := context.Background()
	inner := deploy.NewMemoryStore()
	fs := deploytest.CrashAfter(inner, 1)

	fmt.Println("write 1:", fs.CreateApplication(ctx, &deploy.Application{Name: "web"}))
	fmt.Println("write 2:", fs.CreateGroup(ctx, &deploy.Group{ApplicationName: "web", Name: "prod"}))
	fmt.Println("crashed:", fs.Crashed())

	_, err := fs.GetApplication(ctx, "web")
	fmt.Println("read after the crash fails:", errors.Is(err, deploytest.ErrCrashed))
	_, err = inner.GetApplication(ctx, "web")
	fmt.Println("write 1 is in the inner store:", err == nil)
	_, err = inner.GetGroup(ctx, "web", "prod")
	fmt.Println("write 2 is not:", errors.Is(err, deploy.ErrNotFound))
	// Output:
	// write 1: <nil>
	// write 2: deploytest: write 2: CreateGroup web/prod: store crashed
	// crashed: true
	// read after the crash fails: true
	// write 1 is in the inner store: true
	// write 2 is not: true
}

// A Recorder collects what an executor reports; here it is fed by hand.
func ExampleRecorder() {
	var rec deploytest.Recorder
	var obs deploy.Observer = &rec
	obs.Observe(deploy.Event{Kind: deploy.EventDeploymentStatus, DeploymentID: "d-1", Status: deploy.StatusInProgress})
	obs.Observe(deploy.Event{Kind: deploy.EventTargetStatus, DeploymentID: "d-1", TargetID: "i-1", TargetStatus: "InProgress"})
	obs.Observe(deploy.Event{Kind: deploy.EventDeploymentStatus, DeploymentID: "d-1", Status: deploy.StatusSucceeded})
	_ = rec.Notify(context.Background(), deploy.Notification{DeploymentID: "d-1", Event: deploy.TriggerDeploymentSuccess})
	fmt.Println(rec.Statuses("d-1"))
	fmt.Println(rec.TargetStatuses("d-1", "i-1"))
	fmt.Println(rec.Triggers("d-1"))
	// Output:
	// [InProgress Succeeded]
	// [InProgress]
	// [DeploymentSuccess]
}

// A store's test hands the suite a fresh storage per check and an opener
// of handles on it. A MemoryStore is its own storage, so every handle is
// the store itself; here each handle is a FaultStore of its own on one
// MemoryStore, as each process would wrap its own client. (TestStore needs
// the test's *testing.T, so this example is compiled but not run.)
func ExampleTestStore() {
	testStore := func(t *testing.T) {
		deploytest.TestStore(t, func(*testing.T) deploytest.Opener {
			storage := deploy.NewMemoryStore()
			return func() deploy.Store {
				return deploytest.NewFaultStore(storage, deploytest.FaultOptions{})
			}
		})
	}
	_ = testStore // a store's TestXxx(t) calls it
}

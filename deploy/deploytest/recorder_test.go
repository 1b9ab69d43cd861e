package deploytest_test

import (
	"context"
	"errors"
	"testing"

	"github.com/fleetdeploy/fleetdeploy/deploy"
	"github.com/fleetdeploy/fleetdeploy/deploy/deploytest"
)

// Wait returns once a recorded event satisfies its condition, and with
// ctx's error when ctx ends first; recorded diagnostics are copies.
func TestRecorderWait(t *testing.T) {
	var rec deploytest.Recorder
	done := make(chan error, 1)
	go func() {
		done <- rec.Wait(context.Background(), func(evs []deploy.Event, _ []deploy.Notification) bool {
			return len(evs) > 0 && evs[len(evs)-1].Status == deploy.StatusReady
		})
	}()
	diag := &deploy.Diagnostics{Message: "before"}
	rec.Observe(deploy.Event{Kind: deploy.EventLifecycle, Diagnostics: diag})
	diag.Message = "after"
	rec.Observe(deploy.Event{Kind: deploy.EventDeploymentStatus, Status: deploy.StatusReady})
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if got := rec.Events()[0].Diagnostics.Message; got != "before" {
		t.Errorf("recorded diagnostics changed with the caller's: %q", got)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := rec.Wait(ctx, func([]deploy.Event, []deploy.Notification) bool { return false }); !errors.Is(err, context.Canceled) {
		t.Errorf("Wait with a cancelled ctx: %v", err)
	}
}

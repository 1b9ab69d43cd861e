package deploy_test

import (
	"context"
	"errors"
	"testing"

	"github.com/fleetdeploy/fleetdeploy/deploy"
	"github.com/fleetdeploy/fleetdeploy/target"
	"github.com/fleetdeploy/fleetdeploy/target/targettest"
)

// notificationsOf returns the recorded notifications of deployment id.
func notificationsOf(e *env, id string) []deploy.Notification {
	var out []deploy.Notification
	for _, n := range e.rec.Notifications() {
		if n.DeploymentID == id {
			out = append(out, n)
		}
	}
	return out
}

// A notification carries what the trigger message needs: deployment events
// the deployment's create and complete times and its counts at that moment,
// instance events the target's lifecycle events as they stand.
func TestNotificationFields(t *testing.T) {
	t.Run("success", func(t *testing.T) {
		e := newEnv(t, 2, "CodeDeployDefault.AllAtOnce", allTriggers)
		d := e.deploy("v1")
		if d.Status != deploy.StatusSucceeded {
			t.Fatalf("status %s", d.Status)
		}
		events := len(e.targets(d.ID)["i-000"].LifecycleEvents)
		if events == 0 {
			t.Fatal("the target record lists no lifecycle events")
		}
		for _, n := range notificationsOf(e, d.ID) {
			if n.TriggerName != "all" || n.ApplicationName != "shop" || n.GroupName != "prod" || n.GroupID != e.group.ID || n.GroupID == "" {
				t.Errorf("%s: trigger %q app %q group %q (%q); want group ID %q", n.Event, n.TriggerName, n.ApplicationName, n.GroupName, n.GroupID, e.group.ID)
			}
			switch n.Event {
			case deploy.TriggerDeploymentStart:
				if !n.CreateTime.Equal(d.CreateTime) || !n.CompleteTime.IsZero() || n.Overview.Pending != 2 || n.LifecycleEvents != nil {
					t.Errorf("DeploymentStart: create %v complete %v overview %+v events %d; want create %v, no complete time, 2 pending",
						n.CreateTime, n.CompleteTime, n.Overview, len(n.LifecycleEvents), d.CreateTime)
				}
			case deploy.TriggerDeploymentSuccess:
				if !n.CreateTime.Equal(d.CreateTime) || n.CompleteTime.IsZero() || !n.CompleteTime.Equal(d.CompleteTime) ||
					n.Overview != (deploy.DeploymentOverview{Succeeded: 2}) {
					t.Errorf("DeploymentSuccess: create %v complete %v overview %+v; want %v, %v, 2 succeeded",
						n.CreateTime, n.CompleteTime, n.Overview, d.CreateTime, d.CompleteTime)
				}
			case deploy.TriggerInstanceStart:
				if len(n.LifecycleEvents) != events || n.LifecycleEvents[0].Status != target.EventInProgress ||
					n.LifecycleEvents[0].StartTime.IsZero() || n.LifecycleEvents[1].Status != target.EventPending {
					t.Errorf("InstanceStart %s: events %+v; want %d, the first InProgress, the rest Pending", n.TargetID, n.LifecycleEvents, events)
				}
			case deploy.TriggerInstanceSuccess:
				if len(n.LifecycleEvents) != events {
					t.Errorf("InstanceSuccess %s: %d events; want %d", n.TargetID, len(n.LifecycleEvents), events)
				}
				for _, ev := range n.LifecycleEvents {
					if ev.Status != target.EventSucceeded || ev.StartTime.IsZero() || ev.EndTime.IsZero() {
						t.Errorf("InstanceSuccess %s: event %+v; want Succeeded with start and end times", n.TargetID, ev)
					}
				}
				if !n.CreateTime.IsZero() || n.Overview != (deploy.DeploymentOverview{}) {
					t.Errorf("InstanceSuccess %s carries deployment fields: %v %+v", n.TargetID, n.CreateTime, n.Overview)
				}
			}
		}
	})
	t.Run("failure and rollback", func(t *testing.T) {
		e := newEnv(t, 2, "CodeDeployDefault.OneAtATime", func(g *deploy.Group) {
			allTriggers(g)
			autoRollback(deploy.AutoRollbackDeploymentFailure)(g)
		})
		e.seed(nil)
		e.fleet.Script("", target.Install, targettest.Fail(target.CodeUnknownError, "disk full").Limit(1))
		d := e.deploy("v1")
		seen := map[deploy.TriggerEventType]bool{}
		for _, n := range notificationsOf(e, d.ID) {
			seen[n.Event] = true
			switch n.Event {
			case deploy.TriggerInstanceFailure:
				var failed []target.LifecycleEvent
				for _, ev := range n.LifecycleEvents {
					if ev.Status == target.EventFailed {
						failed = append(failed, ev.Name)
					}
				}
				if len(failed) != 1 || failed[0] != target.Install {
					t.Errorf("InstanceFailure %s: failed events %v; want [Install]", n.TargetID, failed)
				}
			case deploy.TriggerDeploymentRollback:
				if n.GroupID != e.group.ID {
					t.Errorf("DeploymentRollback: group ID %q; want %q", n.GroupID, e.group.ID)
				}
				if !n.CreateTime.Equal(d.CreateTime) || n.Overview.Failed != 1 || n.RollbackInfo.RollbackDeploymentID == "" {
					t.Errorf("DeploymentRollback: create %v overview %+v rollback %+v", n.CreateTime, n.Overview, n.RollbackInfo)
				}
			case deploy.TriggerDeploymentFailure:
				if n.CompleteTime.IsZero() || !n.CompleteTime.Equal(d.CompleteTime) || n.Overview.Failed != 1 ||
					n.ErrorInformation.Code == "" || n.RollbackInfo.RollbackDeploymentID != d.RollbackInfo.RollbackDeploymentID {
					t.Errorf("DeploymentFailure: complete %v overview %+v error %+v", n.CompleteTime, n.Overview, n.ErrorInformation)
				}
			}
		}
		for _, n := range notificationsOf(e, d.RollbackInfo.RollbackDeploymentID) {
			if n.TargetID == "" && n.RollbackInfo.RollbackTriggeringDeploymentID != d.ID {
				t.Errorf("rollback's %s: rollback info %+v; want it to name %s", n.Event, n.RollbackInfo, d.ID)
			}
		}
		for _, ev := range []deploy.TriggerEventType{deploy.TriggerInstanceFailure, deploy.TriggerDeploymentRollback, deploy.TriggerDeploymentFailure} {
			if !seen[ev] {
				t.Errorf("no %s notification", ev)
			}
		}
	})
}

// A notifier's error reaches the observer as EventNotificationFailed,
// naming the trigger, the event and the error, and changes nothing else:
// the deployment succeeds and the other notifiers still get every
// notification.
func TestNotificationFailedObserved(t *testing.T) {
	boom := errors.New("topic is gone")
	failing := deploy.NotifierFunc(func(_ context.Context, n deploy.Notification) error {
		if n.Event == deploy.TriggerInstanceSuccess || n.Event == deploy.TriggerDeploymentSuccess {
			return boom
		}
		return nil
	})
	e := newEnv(t, 2, "CodeDeployDefault.AllAtOnce", allTriggers)
	e.opts = append(e.opts, func(o *deploy.Options) { o.Notifiers = append(o.Notifiers, failing) })
	e.exec = e.newExecutor(e.store)
	d := e.deploy("v1")
	if d.Status != deploy.StatusSucceeded {
		t.Fatalf("status %s; a failed notification must not change the deployment", d.Status)
	}
	if got := len(e.rec.Triggers(d.ID)); got != 6 {
		t.Errorf("the recorder got %d notifications; want 6", got)
	}
	failed := map[deploy.TriggerEventType]int{}
	for _, ev := range e.rec.Events() {
		if ev.Kind != deploy.EventNotificationFailed {
			continue
		}
		failed[ev.TriggerEvent]++
		if ev.DeploymentID != d.ID || ev.TriggerName != "all" || !errors.Is(ev.Err, boom) || ev.Time.IsZero() {
			t.Errorf("event %+v; want deployment %s, trigger all, the notifier's error", ev, d.ID)
		}
		if (ev.TriggerEvent == deploy.TriggerInstanceSuccess) != (ev.TargetID != "") {
			t.Errorf("%s: target %q", ev.TriggerEvent, ev.TargetID)
		}
	}
	if failed[deploy.TriggerInstanceSuccess] != 2 || failed[deploy.TriggerDeploymentSuccess] != 1 || len(failed) != 2 {
		t.Errorf("failures observed %v; want 2 InstanceSuccess, 1 DeploymentSuccess", failed)
	}
}

package deploy

import (
	"context"
	"time"

	"github.com/fleetdeploy/fleetdeploy/target"
)

// EventKind says what an Event reports.
type EventKind string

// The event kinds.
const (
	// EventDeploymentStatus: the deployment's status changed (Event.Status).
	EventDeploymentStatus EventKind = "DeploymentStatus"
	// EventTargetStatus: a target's status in the deployment changed
	// (Event.TargetStatus).
	EventTargetStatus EventKind = "TargetStatus"
	// EventLifecycle: a lifecycle event of a target changed status
	// (Event.LifecycleEvent, Event.LifecycleEventStatus). Lambda and ECS
	// deployments report their hooks and reserved events this way too, for
	// the one target that stands for the function or service.
	EventLifecycle EventKind = "LifecycleEvent"
	// EventNotificationFailed: a Notifier could not deliver a trigger
	// notification (Event.TriggerName, Event.TriggerEvent, Event.Err). The
	// deployment goes on: a notification that cannot be delivered does not
	// change it, as in CodeDeploy.
	EventNotificationFailed EventKind = "NotificationFailed"
)

// Values returns every valid EventKind.
func (EventKind) Values() []EventKind {
	return []EventKind{EventDeploymentStatus, EventTargetStatus, EventLifecycle, EventNotificationFailed}
}

// Event is one transition of a running deployment, as an Observer sees it.
// Fields that do not apply to the Kind are zero.
type Event struct {
	Kind EventKind
	// Time is the executor's clock when the transition happened.
	Time            time.Time
	DeploymentID    string
	ApplicationName string
	GroupName       string

	// Status is the deployment's new status (EventDeploymentStatus).
	Status DeploymentStatus
	// ErrorInformation says why a deployment failed or stopped
	// (EventDeploymentStatus with a final status).
	ErrorInformation ErrorInformation
	// Explanation is the planner's account of the decision behind a
	// deployment status, with the arithmetic (EventDeploymentStatus).
	Explanation string

	// TargetID names the target (EventTargetStatus, EventLifecycle).
	TargetID string
	// TargetStatus is the target's new status (EventTargetStatus).
	TargetStatus target.TargetStatus
	// LifecycleEvent and LifecycleEventStatus are the event and its new
	// status (EventLifecycle).
	LifecycleEvent       target.LifecycleEvent
	LifecycleEventStatus target.LifecycleEventStatus
	// Diagnostics says why a lifecycle event failed (EventLifecycle); nil
	// otherwise. It is the record's own value: do not modify it.
	Diagnostics *Diagnostics

	// TriggerName and TriggerEvent name the trigger and the trigger event
	// type of a notification that failed (EventNotificationFailed); TargetID
	// is set when it was an instance event.
	TriggerName  string
	TriggerEvent TriggerEventType
	// Err is the Notifier's error (EventNotificationFailed).
	Err error
}

// Observer receives every transition of the deployments an Executor runs:
// each deployment status change, each target status change and each
// lifecycle event transition, in the order they happen on one target (the
// targets of a deployment run concurrently, so events of different targets
// interleave); and each trigger notification a Notifier failed to deliver.
//
// Observe is called synchronously, from the goroutine that made the
// transition, possibly from several goroutines at once: it must be safe for
// concurrent use, must not block, and should return quickly — a slow
// Observer slows the deployment down. It is called once the transition is
// recorded: after the write that stores it, or, for a lifecycle event
// transition whose write is combined with a later one
// (Options.RecordInterval), once it is in the target's record in memory.
type Observer interface {
	Observe(e Event)
}

// ObserverFunc adapts a function to the Observer interface.
type ObserverFunc func(e Event)

// Observe calls f(e).
func (f ObserverFunc) Observe(e Event) { f(e) }

// Notification is one of CodeDeploy's trigger notifications (API Reference,
// TriggerConfig): a trigger event of a deployment or of one of its targets,
// addressed to one of the group's TriggerConfigurations.
type Notification struct {
	// TriggerName and TriggerTargetArn are the trigger's, from the group's
	// TriggerConfigurations.
	TriggerName      string
	TriggerTargetArn string
	// Event is the trigger event type.
	Event TriggerEventType
	// Time is the executor's clock when the event happened.
	Time            time.Time
	ApplicationName string
	GroupName       string
	// GroupID is the deployment group's ID (Group.ID), which CodeDeploy's
	// EventBridge events call instanceGroupId.
	GroupID      string
	DeploymentID string
	// Status is the deployment's status for deployment events.
	Status DeploymentStatus
	// TargetID and TargetStatus are set for instance events
	// (InstanceStart, InstanceSuccess, InstanceFailure, InstanceReady).
	TargetID     string
	TargetStatus target.TargetStatus
	// ErrorInformation says why a deployment failed or stopped
	// (DeploymentFailure, DeploymentStop).
	ErrorInformation ErrorInformation
	// RollbackInfo links a rolled-back deployment and its rollback
	// (deployment events: a rollback's names the deployment it rolls back;
	// a deployment's final event, like DeploymentRollback, names its
	// rollback).
	RollbackInfo RollbackInfo

	// CreateTime is when the deployment was created, and CompleteTime when
	// it reached its final status, zero before (deployment events).
	CreateTime   time.Time
	CompleteTime time.Time
	// Overview counts the deployment's targets by status when the event
	// happened (deployment events).
	Overview DeploymentOverview
	// LifecycleEvents are the target's lifecycle events as they stand when
	// the event happens, in order (instance events). The slice is the
	// notification's own; the Diagnostics it points to are the records':
	// do not modify them.
	LifecycleEvents []LifecycleEventRecord
}

// Notifier delivers trigger notifications to user code: an SNS topic, a
// chat channel, a log. The executor calls Notify once per notification
// and trigger for which the deployment group's TriggerConfigurations list
// the event type; a group without triggers gets none.
//
// Notify is called synchronously, from the goroutine that made the
// transition, possibly from several at once; it must be safe for
// concurrent use. ctx is the context of the call that runs the deployment.
// An error is logged and reported to the Observer (EventNotificationFailed)
// and otherwise ignored: a notification that cannot be delivered does not
// change the deployment, as in CodeDeploy.
type Notifier interface {
	Notify(ctx context.Context, n Notification) error
}

// NotifierFunc adapts a function to the Notifier interface.
type NotifierFunc func(ctx context.Context, n Notification) error

// Notify calls f(ctx, n).
func (f NotifierFunc) Notify(ctx context.Context, n Notification) error { return f(ctx, n) }

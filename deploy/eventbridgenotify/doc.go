// Package eventbridgenotify sends fleetdeploy's trigger notifications to
// Amazon EventBridge as the events CodeDeploy sends there: a [Notifier] is
// a [deploy.Notifier] that puts one event (PutEvents) per notification.
//
//	notifier, err := eventbridgenotify.New(eventbridge.NewFromConfig(cfg), func(o *eventbridgenotify.Options) {
//		o.EventBusName = "deployments"
//		o.AccountID = "111122223333"
//	})
//	x, err := deploy.New(store, platform, func(o *deploy.Options) {
//		o.Notifiers = append(o.Notifiers, notifier)
//	})
//
// # Events
//
// The events have CodeDeploy's detail types and detail shapes, as
// the CodeDeploy User Guide page "Monitoring deployments with Amazon
// EventBridge" and the EventBridge events reference ("AWS CodeDeploy
// events") show them: detail type "CodeDeploy
// Deployment State-change Notification" with the detail
//
//	{"instanceGroupId": "<the deployment group's ID>", "region": "us-east-1",
//	 "application": "shop", "deploymentId": "d-4R7TQ8WX1",
//	 "state": "SUCCESS", "deploymentGroup": "prod"}
//
// and "CodeDeploy Instance State-change Notification" with the same and
// "instanceId". The state is START, SUCCESS, FAILURE, STOP or READY:
//
//	DeploymentStart START     InstanceStart   START
//	DeploymentSuccess SUCCESS InstanceSuccess SUCCESS
//	DeploymentFailure FAILURE InstanceFailure FAILURE
//	DeploymentStop STOP
//	DeploymentReady READY     InstanceReady   READY
//
// CodeDeploy has no EventBridge state for DeploymentRollback (the
// rollback is a deployment of its own, whose START is sent): a
// DeploymentRollback notification is not sent. The event's resources are
// the application's and the deployment group's CodeDeploy ARNs, and for an
// EC2 instance ("i-…") the instance's, when the region and account are
// known (Options.Region, Options.AccountID; the region defaults to the
// client's); its time is the notification's.
//
// AWS reserves the "aws." sources for its own services: real EventBridge
// refuses a PutEvents entry with CodeDeploy's source "aws.codedeploy"
// (NotAuthorizedForSourceException). So the events' source is
// "fleetdeploy" unless Options.Source names another: a rule written for
// CodeDeploy's events matches them once its "source" pattern names it.
// Against an emulator, Options.Source = CodeDeploySource makes the events
// indistinguishable from CodeDeploy's.
//
// # Which triggers
//
// The executor calls every Notifier once per trigger that asks for an
// event, so a group with two triggers for the same event would send it
// twice. Set Options.TriggerName to send only the notifications of one
// trigger (whatever its target), or give the group one trigger for the
// events EventBridge should see. When a trigger's target is an EventBridge
// event bus ARN, the event goes to that bus; otherwise to
// Options.EventBusName ("default" unless set).
//
// # Failures
//
// A failed PutEvents — the call, or its one entry (FailedEntryCount 1,
// reported as an [*EntryError] with the entry's error code) — is logged
// (Options.Logger, level Warn) and returned; the executor logs it too,
// reports it to its Observer as deploy.EventNotificationFailed and goes on:
// a notification that cannot be delivered never changes a deployment. A
// failed call's error wraps the SDK's, so errors.As finds the
// smithy.APIError. Retries are the SDK client's.
package eventbridgenotify

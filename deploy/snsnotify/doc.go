// Package snsnotify delivers fleetdeploy's trigger notifications to Amazon
// SNS topics, as CodeDeploy's triggers do: a [Notifier] is a
// [deploy.Notifier] that publishes each notification to the topic its
// trigger names (TriggerConfig.TriggerTargetArn), with the message body and
// subject CodeDeploy sends.
//
//	notifier, err := snsnotify.New(sns.NewFromConfig(cfg))
//	x, err := deploy.New(store, platform, func(o *deploy.Options) {
//		o.Notifiers = append(o.Notifiers, notifier)
//	})
//
// and in the deployment group:
//
//	deploy.TriggerConfig{
//		TriggerName:      "deploy-failed",
//		TriggerTargetArn: "arn:aws:sns:us-east-1:111122223333:deployments",
//		TriggerEvents:    []deploy.TriggerEventType{deploy.TriggerDeploymentFailure},
//	}
//
// # Message format
//
// The message is JSON in the shapes of the CodeDeploy User Guide page "JSON
// data formats for CodeDeploy triggers". Deployment events
// (DeploymentStart, DeploymentSuccess, DeploymentFailure, DeploymentStop,
// DeploymentRollback, DeploymentReady) send
//
//	{"region": "us-east-1", "accountId": "111122223333",
//	 "eventTriggerName": "deploy-failed", "applicationName": "shop",
//	 "deploymentId": "d-4R7TQ8WX1", "deploymentGroupName": "prod",
//	 "createTime": "1767322800.000", "completeTime": "1767323400.250",
//	 "deploymentOverview": {"Failed": "1", "InProgress": "0", "Pending": "0",
//	                        "Skipped": "2", "Succeeded": "3"},
//	 "status": "Failed",
//	 "errorInformation": {"ErrorCode": "HEALTH_CONSTRAINTS", "ErrorMessage": "…"}}
//
// and instance events (InstanceStart, InstanceSuccess, InstanceFailure,
// InstanceReady) send
//
//	{"region": "us-east-1", "accountId": "111122223333",
//	 "eventTriggerName": "instances", "deploymentId": "d-4R7TQ8WX1",
//	 "instanceId": "arn:aws:ec2:us-east-1:111122223333:instance/i-0abc",
//	 "lastUpdatedAt": "1767322860.500", "instanceStatus": "Succeeded",
//	 "lifecycleEvents": [{"LifecycleEvent": "ApplicationStop",
//	   "LifecycleEventStatus": "Succeeded",
//	   "StartTime": "1767322801.000", "EndTime": "1767322802.125"}, …]}
//
// Times are seconds since the Unix epoch with milliseconds, as strings, as
// the page shows them. Where the page is silent, fleetdeploy decides:
//
//   - completeTime is null until the deployment has ended;
//   - errorInformation appears only when the deployment has one (failed or
//     stopped), and rollbackInformation — {"RollbackDeploymentId",
//     "RollbackTriggeringDeploymentId", "RollbackMessage"}, the keys that
//     are set — only when the deployment rolls back or is a rollback;
//   - deploymentOverview has the page's five counters; a blue/green
//     deployment's Ready count is not among them;
//   - a lifecycle event that has not started or ended has no StartTime or
//     EndTime;
//   - instanceId is the EC2 instance ARN for an EC2 instance ID ("i-…"),
//     in the topic's partition, region and account; any other target ID
//     (an on-premises instance name, an ARN) is sent as it is.
//
// region and accountId are Options.Region and Options.AccountID, by default
// the topic ARN's.
//
// The subject is CodeDeploy's: "SUCCEEDED: AWS CodeDeploy d-4R7TQ8WX1 in
// us-east-1 to shop" — the deployment's status (deployment events) or the
// instance's (instance events) in capitals with underscores (IN_PROGRESS),
// then the deployment, the region and the application, cut to the 99
// characters SNS accepts.
//
// A FIFO topic (a name ending in ".fifo") gets the deployment ID as the
// message group, so that one deployment's notifications arrive in order,
// and a deduplication ID derived from the message.
//
// # Which triggers
//
// The executor calls every Notifier once per trigger that asks for an
// event. The Notifier publishes when the trigger's target is an SNS topic
// ARN and leaves any other target (not an ARN, or the ARN of another
// service) to the other notifiers, so that one group may mix SNS triggers
// with triggers for other notifiers.
//
// # Failures
//
// A failed Publish is logged (Options.Logger, level Warn) and returned; the
// executor logs it too, reports it to its Observer as
// deploy.EventNotificationFailed and goes on: a notification that cannot
// be delivered never changes a deployment, as in CodeDeploy. The error
// wraps the SDK's, so errors.As finds the smithy.APIError (for a missing
// topic, code "NotFound"). Retries are the SDK client's.
package snsnotify

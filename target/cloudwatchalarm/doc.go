// Package cloudwatchalarm is a [target.AlarmSource] over Amazon CloudWatch
// alarms: the alarms a deployment group's alarm configuration names, which
// the executor polls throughout a deployment and which stop it with
// ALARM_ACTIVE when one is in ALARM ("Monitoring deployments with CloudWatch
// alarms in CodeDeploy" in the CodeDeploy User Guide).
//
//	alarms, err := cloudwatchalarm.New(cloudwatch.NewFromConfig(cfg),
//		func(o *cloudwatchalarm.Options) { o.Logger = logger })
//	executor, err := deploy.New(store, platform, func(o *deploy.Options) { o.AlarmSource = alarms })
//
// # Reading alarms
//
// [Source.AlarmStates] asks DescribeAlarms for the named alarms, at most
// [MaxNamesPerCall] names a call (the API's limit), metric and composite
// alarms alike, following NextToken, and returns each alarm's state as
// CloudWatch spells it (OK, ALARM, INSUFFICIENT_DATA). A name CloudWatch
// does not know is an error wrapping [target.ErrNotFound] that lists every
// missing name: a poll failure, which stops the deployment unless the group
// sets ignorePollAlarmFailure — CodeDeploy treats an alarm it cannot read
// the same way. Errors of the SDK keep its smithy.APIError reachable with
// errors.As.
//
// # CloudWatch module version
//
// This module requires github.com/aws/aws-sdk-go-v2/service/cloudwatch
// v1.52.x. From v1.53.0 on, the SDK speaks CloudWatch's newer wire protocol
// (Smithy RPCv2 CBOR), which moto 5.2.1 — the server this package is
// tested against — does not: every call gets 404. The package uses nothing
// that changed, so a program may require a newer cloudwatch module; Go's
// minimal version selection then builds this package with it, and
// *cloudwatch.Client still satisfies [API].
package cloudwatchalarm

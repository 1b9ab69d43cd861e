// Package lambdatarget runs fleetdeploy's Lambda deployments on AWS Lambda
// through aws-sdk-go-v2, as CodeDeploy does ("Deployments on an AWS Lambda
// Compute Platform" in the CodeDeploy User Guide): a [Shifter] moves an
// alias' traffic from the function version the AppSpec names as
// CurrentVersion to its TargetVersion, step by step of the deployment
// configuration's schedule, and a [HookInvoker] runs the BeforeAllowTraffic
// and AfterAllowTraffic hook functions (and the hook functions of ECS
// deployments, which are Lambda functions too).
//
//	lc := lambda.NewFromConfig(cfg)
//	shifter, err := lambdatarget.NewShifter(lc, func(o *lambdatarget.Options) { o.Logger = logger })
//	hooks, err := lambdatarget.NewHookInvoker(lc, func(o *lambdatarget.Options) { o.Logger = logger })
//	exec, err := deploy.New(store, target.Platform{TrafficShifter: shifter, HookInvoker: hooks},
//		func(o *deploy.Options) { o.Source = source; o.Logger = logger })
//
// Both take narrow client interfaces holding only the operations they call
// ([AliasAPI], [InvokeAPI]; a *lambda.Client fits, and so does a wrapper
// around it), optional settings in [Options] set by functional options,
// and log through Options.Logger. Neither keeps state of its own: the
// alias and the executor's store are the state, so several executors may
// share them. Errors of the SDK are wrapped with %w, so its
// smithy.APIError stays reachable with errors.As; retries are the SDK's
// retryer's.
//
// # Traffic shifting
//
// The route of a Lambda deployment is its alias, "function:alias" (the
// AppSpec's Name and Alias; Name may be an ARN). A shift to w percent,
// 0 < w < 100, keeps the alias pointing at the current version and routes
// w/100 of its traffic to the new one with RoutingConfig's
// AdditionalVersionWeights; the shift to 100 points the alias at the new
// version with no weighted routing. Lambda applies an alias update at
// once. A shift the alias has already is not made again, and every update
// is conditional on the alias' RevisionId, so that a change someone else
// made meanwhile is refused rather than overwritten.
//
// Before it changes the alias, ShiftTraffic checks what CodeDeploy checks:
// the alias serves the AppSpec's CurrentVersion, and routes to nothing but
// the TargetVersion (an alias left routing to two versions by a stopped
// deployment fails the next one, as the User Guide's "Troubleshoot AWS
// Lambda deployment issues" describes), and the TargetVersion exists. A
// rollback is the shift of all traffic from the new version back to the
// old one, which the alias then already serves. [Shifter.CurrentTraffic]
// reads the alias back for the executor's resume and rollback.
//
// Its failures are *target.CodeError values carrying CodeDeploy's error
// codes (ErrorInformation.code): INVALID_LAMBDA_FUNCTION for a function
// that does not exist; INVALID_LAMBDA_CONFIGURATION for an alias that does
// not exist, serves other versions ([ErrAliasMismatch]) or a TargetVersion
// that does not exist ([ErrVersionNotFound]); THROTTLED and
// IAM_ROLE_PERMISSIONS for calls Lambda refused. The messages name the
// alias, the versions and what to fix. The CodeDeploy documentation does
// not say which of the two Lambda codes a missing function or alias
// gets; the split above is fleetdeploy's decision. The executor records
// a ShiftTraffic error as the failure of the AllowTraffic event, and its
// code as the deployment's ErrorInformation.code.
//
// # Hooks
//
// [HookInvoker.InvokeHook] invokes the hook function asynchronously
// (InvocationType Event) with CodeDeploy's event, {"DeploymentId": ...,
// "LifecycleEventHookExecutionId": ...} ([HookEvent]), and waits for the
// status the function reports. A hook function reports by calling
// CodeDeploy's PutLifecycleEventHookExecutionStatus: the application that
// embeds the executor routes those calls to the executor's
// PutLifecycleEventHookExecutionStatus (the hook functions' CodeDeploy
// client pointed at an endpoint that serves it), and the executor hands
// the reports of each hook execution to the HookInvoker as
// target.HookRequest.Reports. So an existing hook function works
// unmodified.
//
// The wait ends with the report, or when ctx does: the executor gives ctx
// CodeDeploy's one-hour limit on its clock, and counts its expiry as the
// hook's failure. A report stored before a crash of the executor is the
// hook's status when it resumes: the function is not invoked again.
// Lambda refusing the invocation (throttling beyond the SDK's retries,
// access denied) is a failed hook, with Lambda's answer in the message; a
// function that does not exist is an error wrapping target.ErrNotFound.
//
// # Testing
//
// The package's tests run against moto's Lambda (with Docker off: moto
// then runs no code, and a hook's report comes from the test) and wrap the
// real client where moto cannot produce Lambda's answer (throttling,
// access denied, Invoke of a missing function): the SDK's serialization
// always runs.
package lambdatarget

// Package codedeployapi serves CodeDeploy's own API — its JSON 1.1 wire
// protocol — over a [deploy.Executor], so that programs written against
// CodeDeploy, above all Lambda and ECS hook functions, work unmodified
// with fleetdeploy: point their CodeDeploy client's endpoint at the
// [Handler].
//
// # Operations
//
// One operation is served today:
// PutLifecycleEventHookExecutionStatus (API Reference,
// "PutLifecycleEventHookExecutionStatus"), through which a hook function
// reports Succeeded or Failed for its LifecycleEventHookExecutionId; it is
// [deploy.Executor.PutLifecycleEventHookExecutionStatus]. Each operation
// is one route, chosen by the request's X-Amz-Target header
// ("CodeDeploy_20141006.<Operation>"), with the API's own request and
// response shapes ([PutLifecycleEventHookExecutionStatusInput],
// [PutLifecycleEventHookExecutionStatusOutput]), so that more can be added
// the same way.
//
// # Wire protocol
//
// Requests are POSTs with Content-Type application/x-amz-json-1.1 and a
// JSON body of at most Options.MaxBodyBytes (64 KiB by default). A
// response is 200 with the operation's JSON output, or an error in
// CodeDeploy's shape: an HTTP status, the X-Amzn-ErrorType header and the
// body {"__type": "<code>", "message": "<text>"} — the operation's own
// exceptions (DeploymentDoesNotExistException,
// LifecycleEventAlreadyCompletedException, ...) and, for requests the
// handler cannot serve, those of the API Reference's "Common Errors"
// (AccessDeniedException, InvalidAction, InternalFailure) and of the JSON
// protocol (UnknownOperationException, SerializationException), and
// RequestEntityTooLargeException (413) for a body over the limit. Every
// response carries an x-amzn-RequestId. The AWS SDKs read these errors as
// they read CodeDeploy's: with aws-sdk-go-v2, errors.As(err,
// *types.LifecycleEventAlreadyCompletedException) or the smithy.APIError's
// ErrorCode.
//
// # Authentication
//
// The embedding application decides who may call: Options.Authenticate is
// called for every request, after its body is read (and put back, so that
// a Signature Version 4 verifier can hash it) and before anything else; an
// error refuses the request with AccessDeniedException, or with the code
// and status of an *[Error] it returns. It may verify SigV4 signatures
// against the application's own credentials, check a bearer token, or
// trust a client certificate already checked by mutual TLS. With no
// Authenticate, the handler refuses every request: an endpoint that lets
// anyone end a deployment's hooks must be a choice.
//
// The package imports the standard library and fleetdeploy's core
// packages only, not the AWS SDK.
package codedeployapi

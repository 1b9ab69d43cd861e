package lambdatarget

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/fleetdeploy/fleetdeploy/target"
)

var _ target.HookInvoker = (*HookInvoker)(nil)

// HookInvoker is a target.HookInvoker over Lambda: it runs the hook
// functions of Lambda and ECS deployments as CodeDeploy does, invoking
// each asynchronously and waiting for the status it reports through
// PutLifecycleEventHookExecutionStatus. It keeps no state and is safe for
// concurrent use.
type HookInvoker struct {
	client InvokeAPI
	opts   Options
}

// NewHookInvoker returns a HookInvoker that invokes hook functions through
// client (a *lambda.Client fits). A nil client is an error wrapping
// ErrInvalidOptions.
func NewHookInvoker(client InvokeAPI, optFns ...func(*Options)) (*HookInvoker, error) {
	if client == nil {
		return nil, fmt.Errorf("lambdatarget: NewHookInvoker: the client is nil; pass a *lambda.Client: %w", ErrInvalidOptions)
	}
	return &HookInvoker{client: client, opts: resolve(optFns)}, nil
}

// HookEvent is the event CodeDeploy passes to a hook function (User Guide,
// "AppSpec 'hooks' section"): the two values the function hands back to
// PutLifecycleEventHookExecutionStatus.
type HookEvent struct {
	DeploymentID                  string `json:"DeploymentId"`
	LifecycleEventHookExecutionID string `json:"LifecycleEventHookExecutionId"`
}

// InvokeHook invokes req.FunctionName (a name, an ARN, or either with a
// ":version" or ":alias" qualifier) asynchronously — InvocationType
// Event, as CodeDeploy invokes hook functions — with the payload
// {"DeploymentId": ..., "LifecycleEventHookExecutionId": ...} (see
// HookEvent), then waits on req.Reports for the status the function
// reports. A report that arrived already (the caller resumes after a
// crash) is returned without invoking the function again.
//
// The result: Status EventSucceeded (ErrorCode Success) when the function
// reported Succeeded; EventFailed with ErrorCode ScriptFailed when it
// reported Failed, and with UnknownError when Lambda refused to invoke it
// (throttled beyond the SDK's retries, access denied, a function that
// cannot run) — the message names the function and Lambda's answer.
//
// ctx bounds the wait: the executor gives it CodeDeploy's one-hour
// limit. Errors, which come with no status: ctx's error (wrapped); a
// function that does not exist (wrapping target.ErrNotFound and the SDK's
// error); req without Reports (ErrNoReports), a function name, a
// deployment ID or an execution ID (target.ErrInvalidRequest); the
// invocation failing without an answer from Lambda (network trouble);
// Reports failing.
func (h *HookInvoker) InvokeHook(ctx context.Context, req target.HookRequest) (target.EventResult, error) {
	fn := req.FunctionName
	if err := ctx.Err(); err != nil {
		return target.EventResult{}, fmt.Errorf("lambdatarget: hook %s for %s: %w", fn, req.Event, err)
	}
	switch {
	case req.Reports == nil:
		return target.EventResult{}, fmt.Errorf("lambdatarget: hook %s for %s of deployment %s: %w", fn, req.Event, req.Deployment.DeploymentID, ErrNoReports)
	case fn == "" || req.ExecutionID == "" || req.Deployment.DeploymentID == "":
		return target.EventResult{}, fmt.Errorf("lambdatarget: hook for %s needs a function name (%q), a deployment ID (%q) and an execution ID (%q): %w",
			req.Event, fn, req.Deployment.DeploymentID, req.ExecutionID, target.ErrInvalidRequest)
	}
	log := h.opts.Logger.With("function", fn, "event", string(req.Event), "deploymentId", req.Deployment.DeploymentID,
		"executionId", req.ExecutionID)

	// A report stored before a crash of the caller is the hook's status:
	// the function ran and reported, and is not run again.
	peek, cancel := context.WithCancel(ctx)
	cancel()
	if st, err := req.Reports.Await(peek); err == nil {
		log.InfoContext(ctx, "lambdatarget: hook reported before, not invoked again", "status", string(st))
		return result(fn, st), nil
	}

	payload, err := json.Marshal(HookEvent{DeploymentID: req.Deployment.DeploymentID, LifecycleEventHookExecutionID: req.ExecutionID})
	if err != nil {
		return target.EventResult{}, fmt.Errorf("lambdatarget: hook %s: encoding its event: %w", fn, err)
	}
	_, err = h.client.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String(fn), InvocationType: types.InvocationTypeEvent, Payload: payload})
	switch {
	case err == nil:
	case ctx.Err() != nil:
		return target.EventResult{}, fmt.Errorf("lambdatarget: invoking hook %s for %s: %w", fn, req.Event, err)
	case isNotFound(err):
		return target.EventResult{}, fmt.Errorf("lambdatarget: hook function %s for %s does not exist; create it or fix the AppSpec's hooks: %w: %w",
			fn, req.Event, target.ErrNotFound, err)
	case apiCode(err) != "":
		log.WarnContext(ctx, "lambdatarget: Lambda refused to invoke the hook", "err", err)
		return target.EventResult{Status: target.EventFailed, ErrorCode: target.CodeUnknownError,
			Message: fmt.Sprintf("hook function %s for %s could not be invoked: %v", fn, req.Event, err)}, nil
	default:
		return target.EventResult{}, fmt.Errorf("lambdatarget: invoking hook %s for %s: %w", fn, req.Event, err)
	}
	log.InfoContext(ctx, "lambdatarget: hook invoked; waiting for its status")

	st, err := req.Reports.Await(ctx)
	if err != nil {
		return target.EventResult{}, fmt.Errorf("lambdatarget: hook %s for %s reported no status: %w", fn, req.Event, err)
	}
	log.InfoContext(ctx, "lambdatarget: hook reported", "status", string(st))
	return result(fn, st), nil
}

// result is the outcome of hook function fn that reported st.
func result(fn string, st target.LifecycleEventStatus) target.EventResult {
	switch st {
	case target.EventSucceeded:
		return target.EventResult{Status: target.EventSucceeded, ErrorCode: target.CodeSuccess, Message: "hook function " + fn + " reported Succeeded"}
	case target.EventFailed:
		return target.EventResult{Status: target.EventFailed, ErrorCode: target.CodeScriptFailed, Message: "hook function " + fn + " reported Failed"}
	}
	return target.EventResult{Status: target.EventFailed, ErrorCode: target.CodeUnknownError,
		Message: fmt.Sprintf("hook function %s reported status %q; only Succeeded and Failed are accepted", fn, st)}
}

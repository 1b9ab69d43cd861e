package lambdatarget_test

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/smithy-go"
	"github.com/fleetdeploy/fleetdeploy/deploy/deploytest"
	"github.com/fleetdeploy/fleetdeploy/target"
	"github.com/fleetdeploy/fleetdeploy/target/lambdatarget"
)

// hookRequest is a request for hook function fn, reporting to r.
func hookRequest(fn string, r target.HookReports) target.HookRequest {
	return target.HookRequest{Deployment: target.DeploymentInfo{DeploymentID: "d-HOOK1"}, Event: target.BeforeAllowTraffic,
		FunctionName: fn, ExecutionID: "d-HOOK1-BeforeAllowTraffic", Reports: r}
}

// invokeAsync runs InvokeHook in a goroutine.
func invokeAsync(ctx context.Context, h *lambdatarget.HookInvoker, req target.HookRequest) <-chan hookOutcome {
	ch := make(chan hookOutcome, 1)
	go func() {
		res, err := h.InvokeHook(ctx, req)
		ch <- hookOutcome{res, err}
	}()
	return ch
}

type hookOutcome struct {
	res target.EventResult
	err error
}

// The hook function is invoked asynchronously with CodeDeploy's payload,
// and its status is the one it reports: Succeeded or Failed.
func TestInvokeHookReports(t *testing.T) {
	w := newWorld(t)
	fn := w.function("hook", 1)
	for _, tc := range []struct {
		reported target.LifecycleEventStatus
		want     target.EventResult
	}{
		{target.EventSucceeded, target.EventResult{Status: target.EventSucceeded, ErrorCode: target.CodeSuccess,
			Message: "hook function " + fn + " reported Succeeded"}},
		{target.EventFailed, target.EventResult{Status: target.EventFailed, ErrorCode: target.CodeScriptFailed,
			Message: "hook function " + fn + " reported Failed"}},
		{target.EventSkipped, target.EventResult{Status: target.EventFailed, ErrorCode: target.CodeUnknownError,
			Message: "hook function " + fn + ` reported status "Skipped"; only Succeeded and Failed are accepted`}},
	} {
		t.Run(string(tc.reported), func(t *testing.T) {
			rec := &recorder{Client: w.client}
			h, err := lambdatarget.NewHookInvoker(rec)
			if err != nil {
				t.Fatal(err)
			}
			r := newReports()
			done := invokeAsync(context.Background(), h, hookRequest(fn, r))
			<-r.waiting // invoked, and waiting for the report
			calls := rec.invoked()
			if len(calls) != 1 {
				t.Fatalf("%d Invoke calls before the report; want 1", len(calls))
			}
			in := calls[0]
			if aws.ToString(in.FunctionName) != fn || in.InvocationType != types.InvocationTypeEvent {
				t.Errorf("Invoke(%s, %s); want (%s, Event)", aws.ToString(in.FunctionName), in.InvocationType, fn)
			}
			var payload map[string]any
			if err := json.Unmarshal(in.Payload, &payload); err != nil {
				t.Fatalf("payload %s: %v", in.Payload, err)
			}
			wantPayload := map[string]any{"DeploymentId": "d-HOOK1", "LifecycleEventHookExecutionId": "d-HOOK1-BeforeAllowTraffic"}
			if !reflect.DeepEqual(payload, wantPayload) {
				t.Errorf("payload %s; want %v", in.Payload, wantPayload)
			}
			r.report(tc.reported)
			out := <-done
			if out.err != nil || out.res != tc.want {
				t.Errorf("InvokeHook = %+v, %v; want %+v", out.res, out.err, tc.want)
			}
			if err := out.res.Validate(); err != nil {
				t.Errorf("result breaks the EventResult contract: %v", err)
			}
		})
	}
}

// A hook that never reports: InvokeHook waits until ctx ends — the
// executor's one-hour limit, here on a fake clock — and returns ctx's
// error, with no status.
func TestInvokeHookNeverReports(t *testing.T) {
	w := newWorld(t)
	fn := w.function("silent", 1)
	h, err := lambdatarget.NewHookInvoker(w.client)
	if err != nil {
		t.Fatal(err)
	}
	clk := deploytest.NewFakeClock(start)
	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	deadline := errors.New("no status within an hour")
	timer := clk.NewTimer(time.Hour)
	go func() {
		<-timer.C()
		cancel(deadline)
	}()
	r := newReports()
	done := invokeAsync(ctx, h, hookRequest(fn, r))
	<-r.waiting
	clk.Advance(59 * time.Minute)
	select {
	case out := <-done:
		t.Fatalf("InvokeHook returned %+v, %v before the hour passed", out.res, out.err)
	default:
	}
	clk.Advance(time.Minute)
	out := <-done
	if !errors.Is(out.err, context.Canceled) || !errors.Is(context.Cause(ctx), deadline) {
		t.Fatalf("InvokeHook = %+v, %v; want ctx's error once the hour passed", out.res, out.err)
	}
	if out.res != (target.EventResult{}) {
		t.Errorf("InvokeHook returned result %+v with its error; want none", out.res)
	}
}

// A report that arrived before the caller crashed is the hook's status:
// the function is not invoked again.
func TestInvokeHookReportedBefore(t *testing.T) {
	w := newWorld(t)
	fn := w.function("reported", 1)
	rec := &recorder{Client: w.client}
	h, err := lambdatarget.NewHookInvoker(rec)
	if err != nil {
		t.Fatal(err)
	}
	r := newReports()
	r.report(target.EventFailed)
	res, err := h.InvokeHook(context.Background(), hookRequest(fn, r))
	if err != nil || res.Status != target.EventFailed || res.ErrorCode != target.CodeScriptFailed {
		t.Errorf("InvokeHook = %+v, %v; want the stored Failed", res, err)
	}
	if n := len(rec.invoked()); n != 0 {
		t.Errorf("%d Invoke calls; want none, the hook reported already", n)
	}
}

// Failures to invoke: a function that does not exist is an error wrapping
// target.ErrNotFound; Lambda refusing the call (throttling, access denied)
// is a failed result naming the function — Lambda's answers are injected
// around the real client, as moto produces none of them; a request without Reports or IDs, or a done ctx, is an error
// before any call.
func TestInvokeHookFailures(t *testing.T) {
	w := newWorld(t)
	fn := w.function("failing", 1)
	ctx := context.Background()

	// moto's Lambda without Docker answers Invoke of any name, so the
	// answer of Lambda for a missing function is injected: the SDK's own
	// error type.
	missing := "no-such-" + fn
	rec := &recorder{Client: w.client, invokeErr: &types.ResourceNotFoundException{
		Message: aws.String("Function not found: arn:aws:lambda:us-east-1:123456789012:function:" + missing)}}
	h, err := lambdatarget.NewHookInvoker(rec)
	if err != nil {
		t.Fatal(err)
	}
	_, err = h.InvokeHook(ctx, hookRequest(missing, newReports()))
	var api smithy.APIError
	if !errors.Is(err, target.ErrNotFound) || !errors.As(err, &api) || !strings.Contains(err.Error(), missing) {
		t.Errorf("InvokeHook of a missing function = %v; want target.ErrNotFound and the SDK's error, naming it", err)
	}

	for _, code := range []string{"TooManyRequestsException", "AccessDeniedException"} {
		rec := &recorder{Client: w.client, invokeErr: &smithy.GenericAPIError{Code: code, Message: "refused"}}
		h, err := lambdatarget.NewHookInvoker(rec)
		if err != nil {
			t.Fatal(err)
		}
		res, err := h.InvokeHook(ctx, hookRequest(fn, newReports()))
		if err != nil || res.Status != target.EventFailed || res.ErrorCode != target.CodeUnknownError ||
			!strings.Contains(res.Message, fn) || !strings.Contains(res.Message, code) {
			t.Errorf("Invoke answering %s: InvokeHook = %+v, %v; want a failed result naming the function and the answer", code, res, err)
		}
	}

	rec = &recorder{Client: w.client}
	h, err = lambdatarget.NewHookInvoker(rec)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.InvokeHook(ctx, hookRequest(fn, nil)); !errors.Is(err, lambdatarget.ErrNoReports) {
		t.Errorf("InvokeHook without Reports = %v; want ErrNoReports", err)
	}
	req := hookRequest(fn, newReports())
	req.ExecutionID = ""
	if _, err := h.InvokeHook(ctx, req); !errors.Is(err, target.ErrInvalidRequest) {
		t.Errorf("InvokeHook without an execution ID = %v; want target.ErrInvalidRequest", err)
	}
	done, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := h.InvokeHook(done, hookRequest(fn, newReports())); !errors.Is(err, context.Canceled) {
		t.Errorf("InvokeHook with a done ctx = %v; want context.Canceled", err)
	}
	if n := len(rec.invoked()); n != 0 {
		t.Errorf("%d Invoke calls for requests refused before invoking; want none", n)
	}
	if _, err := lambdatarget.NewHookInvoker(nil); !errors.Is(err, lambdatarget.ErrInvalidOptions) {
		t.Errorf("NewHookInvoker(nil) = %v; want ErrInvalidOptions", err)
	}
}

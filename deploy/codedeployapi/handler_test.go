package codedeployapi_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/codedeploy"
	"github.com/aws/aws-sdk-go-v2/service/codedeploy/types"
	"github.com/aws/smithy-go"

	"github.com/fleetdeploy/fleetdeploy/config"
	"github.com/fleetdeploy/fleetdeploy/deploy"
	"github.com/fleetdeploy/fleetdeploy/deploy/codedeployapi"
	"github.com/fleetdeploy/fleetdeploy/deploy/deploytest"
	"github.com/fleetdeploy/fleetdeploy/revision"
	"github.com/fleetdeploy/fleetdeploy/target"
	"github.com/fleetdeploy/fleetdeploy/target/targettest"
)

// accessKey is the access key ID of the test clients; tokenAuth accepts
// requests signed with it.
const accessKey = "AKIDHOOKTEST"

// tokenAuth accepts requests whose SigV4 Authorization header names
// accessKey: a stand-in for a real verifier, which the embedding
// application brings.
func tokenAuth(r *http.Request) error {
	if !strings.Contains(r.Header.Get("Authorization"), "Credential="+accessKey+"/") {
		return errors.New("unknown access key")
	}
	return nil
}

// sdkClient is the AWS SDK's own CodeDeploy client, pointed at url.
func sdkClient(url, key string) *codedeploy.Client {
	cfg := aws.Config{Region: "us-east-1", RetryMaxAttempts: 1,
		Credentials: credentials.NewStaticCredentialsProvider(key, "secret", "")}
	return codedeploy.NewFromConfig(cfg, func(o *codedeploy.Options) { o.BaseEndpoint = aws.String(url) })
}

// lambdaWorld is a Lambda deployment group whose two hook functions report
// through the SDK's CodeDeploy client, pointed at the handler.
type lambdaWorld struct {
	ctx   context.Context
	exec  *deploy.Executor
	srv   *httptest.Server
	hooks *sdkHooks
}

func newLambdaWorld(t *testing.T, opts ...func(*codedeployapi.Options)) *lambdaWorld {
	t.Helper()
	ctx := context.Background()
	mem := deploy.NewMemoryStore()
	app := deploy.Application{Name: "shop", ComputePlatform: config.Lambda}
	if err := mem.CreateApplication(ctx, &app); err != nil {
		t.Fatal(err)
	}
	g := deploy.Group{ApplicationName: "shop", Name: "prod", ComputePlatform: config.Lambda, DeploymentConfigName: "CodeDeployDefault.LambdaAllAtOnce"}
	if err := mem.CreateGroup(ctx, &g); err != nil {
		t.Fatal(err)
	}
	shifter := targettest.NewShifter()
	shifter.SetRoute(target.TrafficRoute{ResourceID: "checkout:live"}, target.TrafficSplit{Original: "1"})
	w := &lambdaWorld{ctx: ctx, hooks: &sdkHooks{}}
	exec, err := deploy.New(mem, target.Platform{TrafficShifter: shifter, HookInvoker: w.hooks}, func(o *deploy.Options) {
		o.Source = revision.ContentSource{}
		o.Clock = deploytest.NewFakeClock(time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC))
	})
	if err != nil {
		t.Fatal(err)
	}
	w.exec = exec
	h, err := codedeployapi.New(exec, append([]func(*codedeployapi.Options){func(o *codedeployapi.Options) { o.Authenticate = tokenAuth }}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	w.srv = httptest.NewServer(h)
	t.Cleanup(w.srv.Close)
	w.hooks.client = sdkClient(w.srv.URL, accessKey)
	return w
}

// deployment creates a deployment of version 2 of function checkout.
func (w *lambdaWorld) deployment(t *testing.T) *deploy.Deployment {
	t.Helper()
	spec := "version: 0.0\nResources:\n  - checkout:\n      Type: AWS::Lambda::Function\n      Properties:\n" +
		"        Name: checkout\n        Alias: live\n        CurrentVersion: 1\n        TargetVersion: 2\n" +
		"Hooks:\n  - BeforeAllowTraffic: preflight\n  - AfterAllowTraffic: smoke\n"
	d, err := w.exec.CreateDeployment(w.ctx, deploy.DeploymentInput{ApplicationName: "shop", GroupName: "prod",
		Revision: revision.Location{Type: revision.LocationAppSpecContent, AppSpecContent: &revision.AppSpecContent{Content: spec}}})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// sdkHooks is a HookInvoker whose functions report as a Lambda hook
// function does: with the SDK's CodeDeploy client, then it waits on
// Reports. Each function reports status (Succeeded when empty), and
// reports again when twice is set; the outcome of every call is recorded.
type sdkHooks struct {
	client *codedeploy.Client
	status types.LifecycleEventStatus
	twice  bool

	mu      sync.Mutex
	outputs []*codedeploy.PutLifecycleEventHookExecutionStatusOutput
	errs    []error
}

func (h *sdkHooks) InvokeHook(ctx context.Context, req target.HookRequest) (target.EventResult, error) {
	status := h.status
	if status == "" {
		status = types.LifecycleEventStatusSucceeded
	}
	for range 1 + btoi(h.twice) {
		out, err := h.client.PutLifecycleEventHookExecutionStatus(ctx, &codedeploy.PutLifecycleEventHookExecutionStatusInput{
			DeploymentId: aws.String(req.Deployment.DeploymentID), LifecycleEventHookExecutionId: aws.String(req.ExecutionID), Status: status})
		h.mu.Lock()
		h.outputs, h.errs = append(h.outputs, out), append(h.errs, err)
		h.mu.Unlock()
	}
	st, err := req.Reports.Await(ctx)
	return target.EventResult{Status: st}, err
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// The AWS SDK's own CodeDeploy client, pointed at the handler, completes
// the hooks of a Lambda deployment: a report of Succeeded lets it go on, a
// report of Failed fails it; the response names the execution; a second
// report is refused with LifecycleEventAlreadyCompletedException.
func TestSDKClientCompletesHooks(t *testing.T) {
	for _, c := range []struct {
		status types.LifecycleEventStatus
		want   deploy.DeploymentStatus
		calls  int
	}{
		{types.LifecycleEventStatusSucceeded, deploy.StatusSucceeded, 4},
		{types.LifecycleEventStatusFailed, deploy.StatusFailed, 2},
	} {
		t.Run(string(c.status), func(t *testing.T) {
			w := newLambdaWorld(t)
			w.hooks.status, w.hooks.twice = c.status, true
			d := w.deployment(t)
			got, err := w.exec.Run(w.ctx, d.ID)
			if err != nil || got.Status != c.want {
				t.Fatalf("Run = %s %+v, %v; want %s", got.Status, got.ErrorInformation, err, c.want)
			}
			if len(w.hooks.errs) != c.calls {
				t.Fatalf("%d reports; want %d", len(w.hooks.errs), c.calls)
			}
			for i := 0; i < c.calls; i += 2 {
				first, second := w.hooks.errs[i], w.hooks.errs[i+1]
				if first != nil {
					t.Errorf("report %d: %v", i, first)
				} else if out := w.hooks.outputs[i]; aws.ToString(out.LifecycleEventHookExecutionId) != got.HookExecutions[i/2].ID {
					t.Errorf("report %d answered execution %q; want %q", i, aws.ToString(out.LifecycleEventHookExecutionId), got.HookExecutions[i/2].ID)
				}
				var done *types.LifecycleEventAlreadyCompletedException
				if !errors.As(second, &done) {
					t.Errorf("second report %d: %v; want LifecycleEventAlreadyCompletedException", i+1, second)
				}
			}
			for _, x := range got.HookExecutions {
				if !x.Reported || string(x.Status) != string(c.status) {
					t.Errorf("hook execution %+v; want reported %s", x, c.status)
				}
			}
		})
	}
}

// apiCode returns the CodeDeploy error code and HTTP status the SDK
// surfaced.
func apiCode(t *testing.T, err error) (string, int) {
	t.Helper()
	var api smithy.APIError
	if !errors.As(err, &api) {
		t.Fatalf("error %v is not a smithy.APIError", err)
	}
	status := 0
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		status = re.HTTPStatusCode()
	}
	return api.ErrorCode(), status
}

// Through the SDK, each of the operation's errors comes back as its
// CodeDeploy exception type; requests the handler does not serve come
// back with CodeDeploy-shaped common errors.
func TestSDKSeesCodeDeployErrors(t *testing.T) {
	w := newLambdaWorld(t, func(o *codedeployapi.Options) { o.MaxBodyBytes = 512 })
	d := w.deployment(t) // Created: its hooks have not started
	c := w.hooks.client
	put := func(client *codedeploy.Client, deployment, execution string, status types.LifecycleEventStatus) error {
		in := &codedeploy.PutLifecycleEventHookExecutionStatusInput{Status: status}
		if deployment != "" {
			in.DeploymentId = aws.String(deployment)
		}
		if execution != "" {
			in.LifecycleEventHookExecutionId = aws.String(execution)
		}
		_, err := client.PutLifecycleEventHookExecutionStatus(w.ctx, in)
		return err
	}
	exec := d.ID + "-BeforeAllowTraffic"
	cases := []struct {
		name   string
		err    error
		as     any
		code   string
		status int
	}{
		{"unknown deployment", put(c, "d-NOSUCH000", exec, "Succeeded"), new(*types.DeploymentDoesNotExistException), "DeploymentDoesNotExistException", 400},
		{"no deployment ID", put(c, "", exec, "Succeeded"), new(*types.DeploymentIdRequiredException), "DeploymentIdRequiredException", 400},
		{"deployment ID with a control character", put(c, "d-\x01", exec, "Succeeded"), new(*types.InvalidDeploymentIdException), "InvalidDeploymentIdException", 400},
		{"invalid status", put(c, d.ID, exec, "Pending"), new(*types.InvalidLifecycleEventHookExecutionStatusException), "InvalidLifecycleEventHookExecutionStatusException", 400},
		{"hook not started", put(c, d.ID, exec, "Succeeded"), new(*types.InvalidLifecycleEventHookExecutionIdException), "InvalidLifecycleEventHookExecutionIdException", 400},
		{"unauthenticated", put(sdkClient(w.srv.URL, "AKIDSTRANGER"), d.ID, exec, "Succeeded"), nil, "AccessDeniedException", 400},
		{"oversized", put(c, d.ID, strings.Repeat("x", 600), "Succeeded"), nil, "RequestEntityTooLargeException", 413},
	}
	for _, tc := range cases {
		if tc.err == nil {
			t.Errorf("%s: no error", tc.name)
			continue
		}
		if tc.as != nil && !errors.As(tc.err, tc.as) {
			t.Errorf("%s: %v; want %T", tc.name, tc.err, tc.as)
		}
		if code, status := apiCode(t, tc.err); code != tc.code || status != tc.status {
			t.Errorf("%s: code %q, status %d; want %q, %d", tc.name, code, status, tc.code, tc.status)
		}
	}
	if x := w.exec; x != nil {
		got, err := x.Store().GetDeployment(w.ctx, d.ID)
		if err != nil || len(got.HookExecutions) != 0 {
			t.Errorf("refused reports changed the deployment: %+v, %v", got, err)
		}
	}
}

// With no Options.Authenticate, every request is refused, the SDK's
// included.
func TestNoAuthenticateRefusesEverything(t *testing.T) {
	h, err := codedeployapi.New(stubReporter{})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	_, err = sdkClient(srv.URL, accessKey).PutLifecycleEventHookExecutionStatus(context.Background(),
		&codedeploy.PutLifecycleEventHookExecutionStatusInput{DeploymentId: aws.String("d-1"), LifecycleEventHookExecutionId: aws.String("x"), Status: "Succeeded"})
	if code, _ := apiCode(t, err); code != "AccessDeniedException" {
		t.Errorf("code %q; want AccessDeniedException", code)
	}
}

// stubReporter accepts every report.
type stubReporter struct{}

func (stubReporter) PutLifecycleEventHookExecutionStatus(context.Context, string, string, target.LifecycleEventStatus) error {
	return nil
}

// wireError is CodeDeploy's error body.
type wireError struct {
	Type    string `json:"__type"`
	Message string `json:"message"`
}

// raw sends a request to h and returns the response's status, error type
// (header and body, which must agree) and body.
func raw(t *testing.T, h http.Handler, method, target, contentType, body string) (int, string, string) {
	t.Helper()
	req := httptest.NewRequest(method, "/", strings.NewReader(body))
	if target != "" {
		req.Header.Set("X-Amz-Target", target)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	res := rec.Result()
	b, _ := io.ReadAll(res.Body)
	if res.Header.Get("X-Amzn-RequestId") == "" {
		t.Errorf("%s %s: no x-amzn-RequestId", method, target)
	}
	if res.StatusCode == http.StatusOK {
		return res.StatusCode, "", string(b)
	}
	var we wireError
	if err := json.Unmarshal(b, &we); err != nil {
		t.Errorf("%s %s: error body %q is not CodeDeploy's shape: %v", method, target, b, err)
	}
	if hdr := res.Header.Get("X-Amzn-ErrorType"); hdr != we.Type || we.Type == "" || we.Message == "" {
		t.Errorf("%s %s: X-Amzn-ErrorType %q, body %s; want the same code in both, and a message", method, target, hdr, b)
	}
	return res.StatusCode, we.Type, string(b)
}

const putTarget = "CodeDeploy_20141006.PutLifecycleEventHookExecutionStatus"

// Requests the handler cannot serve get CodeDeploy-shaped errors: a wrong
// method, an unknown operation, another content type, malformed JSON,
// JSON of the wrong shape, data after the object, a body over the limit.
func TestMalformedRequests(t *testing.T) {
	h, err := codedeployapi.New(stubReporter{}, func(o *codedeployapi.Options) {
		o.Authenticate = func(*http.Request) error { return nil }
		o.MaxBodyBytes = 1024
	})
	if err != nil {
		t.Fatal(err)
	}
	ok := `{"deploymentId":"d-1","lifecycleEventHookExecutionId":"e-1","status":"Succeeded"}`
	for _, c := range []struct {
		name, method, target, ct, body string
		status                         int
		code                           string
	}{
		{"valid", "POST", putTarget, codedeployapi.ContentType, ok, 200, ""},
		{"GET", "GET", putTarget, codedeployapi.ContentType, "", 405, "InvalidAction"},
		{"no target", "POST", "", codedeployapi.ContentType, ok, 400, "UnknownOperationException"},
		{"unknown operation", "POST", "CodeDeploy_20141006.DeleteApplication", codedeployapi.ContentType, ok, 400, "UnknownOperationException"},
		{"XML", "POST", putTarget, "text/xml", ok, 400, "SerializationException"},
		{"truncated JSON", "POST", putTarget, codedeployapi.ContentType, `{"deploymentId":`, 400, "SerializationException"},
		{"wrong types", "POST", putTarget, codedeployapi.ContentType, `{"deploymentId":7}`, 400, "SerializationException"},
		{"an array", "POST", putTarget, codedeployapi.ContentType, `[1,2]`, 400, "SerializationException"},
		{"trailing data", "POST", putTarget, codedeployapi.ContentType, ok + `{}`, 400, "SerializationException"},
		{"empty body", "POST", putTarget, codedeployapi.ContentType, ``, 400, "DeploymentIdRequiredException"},
		{"oversized", "POST", putTarget, codedeployapi.ContentType, `{"deploymentId":"` + strings.Repeat("d", 2000) + `"}`, 413, "RequestEntityTooLargeException"},
	} {
		status, code, body := raw(t, h, c.method, c.target, c.ct, c.body)
		if status != c.status || code != c.code {
			t.Errorf("%s: %d %q (%s); want %d %q", c.name, status, code, body, c.status, c.code)
		}
		if c.status == 200 && body != `{"lifecycleEventHookExecutionId":"e-1"}` {
			t.Errorf("%s: body %s", c.name, body)
		}
	}
}

// A failure the handler cannot name (a store outage) is an InternalFailure
// (500) that does not leak the cause; the operation's own errors keep
// their codes.
func TestErrorMapping(t *testing.T) {
	for _, c := range []struct {
		err    error
		status int
		code   string
	}{
		{errors.New("dynamodb: connection refused to 10.0.0.7"), 500, "InternalFailure"},
		{&deploy.DeploymentError{DeploymentID: "d-1", Err: deploy.ErrLifecycleEventAlreadyCompleted}, 400, "LifecycleEventAlreadyCompletedException"},
		{&deploy.DeploymentError{DeploymentID: "d-1", Err: deploy.ErrUnsupportedDeploymentType}, 400, "UnsupportedActionForDeploymentTypeException"},
		{&deploy.RecordError{Record: "deployment", Key: "d-1", Err: deploy.ErrNotFound}, 400, "DeploymentDoesNotExistException"},
	} {
		h, err := codedeployapi.New(failingReporter{c.err}, func(o *codedeployapi.Options) { o.Authenticate = func(*http.Request) error { return nil } })
		if err != nil {
			t.Fatal(err)
		}
		status, code, body := raw(t, h, "POST", putTarget, codedeployapi.ContentType, `{"deploymentId":"d-1","lifecycleEventHookExecutionId":"e","status":"Failed"}`)
		if status != c.status || code != c.code {
			t.Errorf("%v: %d %q; want %d %q", c.err, status, code, c.status, c.code)
		}
		if status == 500 && strings.Contains(body, "10.0.0.7") {
			t.Errorf("an internal failure leaks its cause: %s", body)
		}
	}
}

type failingReporter struct{ err error }

func (f failingReporter) PutLifecycleEventHookExecutionStatus(context.Context, string, string, target.LifecycleEventStatus) error {
	return f.err
}

// An Authenticate that returns an *Error refuses with its code and status.
func TestAuthenticateChoosesTheError(t *testing.T) {
	h, err := codedeployapi.New(stubReporter{}, func(o *codedeployapi.Options) {
		o.Authenticate = func(r *http.Request) error {
			if b, _ := io.ReadAll(r.Body); !strings.Contains(string(b), "deploymentId") {
				return errors.New("the verifier did not get the body")
			}
			return &codedeployapi.Error{Code: "MissingAuthenticationTokenException", Message: "no token", Status: 403}
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	status, code, _ := raw(t, h, "POST", putTarget, "", `{"deploymentId":"d-1"}`)
	if status != 403 || code != "MissingAuthenticationTokenException" {
		t.Errorf("%d %q; want 403 MissingAuthenticationTokenException", status, code)
	}
}

func TestNewRejectsBadSettings(t *testing.T) {
	if _, err := codedeployapi.New(nil); err == nil {
		t.Error("New(nil) succeeded")
	}
	if _, err := codedeployapi.New(stubReporter{}, func(o *codedeployapi.Options) { o.MaxBodyBytes = -1 }); err == nil {
		t.Error("New with a negative MaxBodyBytes succeeded")
	}
}

// FuzzHandler sends arbitrary bodies to the operation: every answer is
// 200 with the operation's output for a body that names a valid request,
// or a CodeDeploy-shaped 4xx error; never a panic, never a 500.
func FuzzHandler(f *testing.F) {
	for _, s := range []string{
		`{"deploymentId":"d-1","lifecycleEventHookExecutionId":"e-1","status":"Succeeded"}`,
		`{"deploymentId":"d-1","lifecycleEventHookExecutionId":"e-1","status":"Failed"}`,
		`{"deploymentId":"","status":null}`, `{`, `[]`, `null`, `""`, `{"deploymentId":"d-\u0000"}`, "\xff\xfe",
	} {
		f.Add(s, putTarget)
	}
	f.Add(`{}`, "CodeDeploy_20141006.GetDeployment")
	h, err := codedeployapi.New(reporterFunc(func(id, exec string, st target.LifecycleEventStatus) error {
		switch {
		case st != target.EventSucceeded && st != target.EventFailed:
			return deploy.ErrInvalidHookStatus
		case exec == "":
			return deploy.ErrHookExecutionNotFound
		case id != "d-1":
			return deploy.ErrNotFound
		}
		return nil
	}), func(o *codedeployapi.Options) {
		o.Authenticate = func(*http.Request) error { return nil }
		o.MaxBodyBytes = 4096
	})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, body, target string) {
		req := httptest.NewRequest("POST", "/", strings.NewReader(body))
		req.Header.Set("X-Amz-Target", target)
		req.Header.Set("Content-Type", codedeployapi.ContentType)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		res := rec.Result()
		b, _ := io.ReadAll(res.Body)
		switch {
		case res.StatusCode == 200:
			var out codedeployapi.PutLifecycleEventHookExecutionStatusOutput
			if err := json.Unmarshal(b, &out); err != nil || out.LifecycleEventHookExecutionID == "" {
				t.Fatalf("200 with body %q: %v", b, err)
			}
		case res.StatusCode >= 400 && res.StatusCode < 500:
			var we wireError
			if err := json.Unmarshal(b, &we); err != nil || we.Type == "" || we.Type != res.Header.Get("X-Amzn-ErrorType") {
				t.Fatalf("%d with body %q, X-Amzn-ErrorType %q: not CodeDeploy's error shape", res.StatusCode, b, res.Header.Get("X-Amzn-ErrorType"))
			}
		default:
			t.Fatalf("status %d, body %q", res.StatusCode, b)
		}
	})
}

type reporterFunc func(id, exec string, st target.LifecycleEventStatus) error

func (f reporterFunc) PutLifecycleEventHookExecutionStatus(_ context.Context, id, exec string, st target.LifecycleEventStatus) error {
	return f(id, exec, st)
}

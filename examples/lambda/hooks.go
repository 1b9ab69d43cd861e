package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/codedeploy"
	cdtypes "github.com/aws/aws-sdk-go-v2/service/codedeploy/types"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/fleetdeploy/fleetdeploy/deploy/clock"
	"github.com/fleetdeploy/fleetdeploy/target"
	"github.com/fleetdeploy/fleetdeploy/target/lambdatarget"
)

// hookAccessKey is the access key ID of the hook functions' credentials:
// the reporting endpoint lets in the requests signed with it, and no
// others.
const hookAccessKey = "AKIDCHECKOUTHOOKS"

// endpoint serves CodeDeploy's API (package codedeployapi) on a loopback
// port, where the hook functions' CodeDeploy client sends its reports.
type endpoint struct {
	url  string
	ln   net.Listener
	srv  *http.Server
	done chan struct{} // closed when Serve has returned
}

// listen opens the endpoint's port; serve starts serving h on it.
func listen() (*endpoint, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("opening the reporting endpoint's port: %w", err)
	}
	return &endpoint{url: "http://" + ln.Addr().String(), ln: ln, done: make(chan struct{})}, nil
}

// serve serves h until close.
func (e *endpoint) serve(h http.Handler) {
	e.srv = &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		defer close(e.done)
		_ = e.srv.Serve(e.ln) // http.ErrServerClosed after close
	}()
}

// close stops the endpoint and waits for its server to end.
func (e *endpoint) close() {
	if e.srv == nil {
		_ = e.ln.Close()
		return
	}
	_ = e.srv.Close()
	<-e.done
}

// authenticate is the endpoint's Options.Authenticate: only requests
// SigV4-signed with the hook functions' access key are let in. (It checks
// the Authorization header's credential, not the signature: a real
// application would verify the signature against the key's secret, or
// use a token or mutual TLS.)
func authenticate(r *http.Request) error {
	auth := r.Header.Get("Authorization")
	if !strings.HasPrefix(auth, "AWS4-HMAC-SHA256 ") || !strings.Contains(auth, "Credential="+hookAccessKey+"/") {
		return errors.New("only the checkout hook functions may report hook status")
	}
	return nil
}

// codeDeployClient returns a client of the AWS SDK's CodeDeploy service,
// as a hook function has one, whose endpoint is url and whose requests are
// signed with accessKey. Each request has a connection of its own, so that
// none lingers after the run.
func codeDeployClient(url, accessKey string) *codedeploy.Client {
	return codedeploy.NewFromConfig(aws.Config{Region: "us-east-1", RetryMaxAttempts: 1,
		Credentials: credentials.NewStaticCredentialsProvider(accessKey, "not-a-real-secret", ""),
		HTTPClient:  &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}},
		func(o *codedeploy.Options) { o.BaseEndpoint = aws.String(url) })
}

// hookRun is one run of a hook function, as the story played it.
type hookRun struct {
	function       string
	invocationType types.InvocationType
	event          lambdatarget.HookEvent
	at             time.Time // when Lambda accepted the invocation, on the story's clock
	verdict        target.LifecycleEventStatus
	why            string
	reportErr      error // what PutLifecycleEventHookExecutionStatus returned
}

// validation is a hook function's check: its verdict and why.
type validation func(ctx context.Context) (target.LifecycleEventStatus, string)

// hookFunctions is the HookInvoker's Lambda client: it sends every call
// to moto, and plays the hook functions moto stores but does not run.
// Once moto has accepted the invocation of one, a goroutine runs the
// function's Go twin: it reads the event, validates, and reports its
// verdict with the SDK's CodeDeploy client, through the endpoint, as the
// function's code (see preflightCode and smokeCode) would on Lambda.
type hookFunctions struct {
	*lambda.Client
	ctx context.Context // the story's: a run ends with it
	clk clock.Clock
	cd  *codedeploy.Client
	say func(format string, args ...any)
	fns map[string]validation // by function name

	wg   sync.WaitGroup
	mu   sync.Mutex
	runs []hookRun
}

var _ lambdatarget.InvokeAPI = (*hookFunctions)(nil)

// Invoke implements lambdatarget.InvokeAPI.
func (h *hookFunctions) Invoke(ctx context.Context, in *lambda.InvokeInput, optFns ...func(*lambda.Options)) (*lambda.InvokeOutput, error) {
	out, err := h.Client.Invoke(ctx, in, optFns...)
	if err != nil {
		return out, err
	}
	run := hookRun{function: aws.ToString(in.FunctionName), invocationType: in.InvocationType, at: h.clk.Now()}
	check, ok := h.fns[run.function]
	if !ok {
		return out, nil
	}
	if err := json.Unmarshal(in.Payload, &run.event); err != nil {
		// The function would fail on it, and report nothing.
		run.why = fmt.Sprintf("unreadable event %q: %v", in.Payload, err)
		h.record(run)
		return out, nil
	}
	h.wg.Go(func() { h.play(run, check) })
	return out, nil
}

// play runs a hook function: check, then report.
func (h *hookFunctions) play(run hookRun, check validation) {
	run.verdict, run.why = check(h.ctx)
	h.say("    hook %s (%s): %s; reporting %s", run.function, run.event.LifecycleEventHookExecutionID, run.why, run.verdict)
	_, run.reportErr = h.cd.PutLifecycleEventHookExecutionStatus(h.ctx, &codedeploy.PutLifecycleEventHookExecutionStatusInput{
		DeploymentId:                  aws.String(run.event.DeploymentID),
		LifecycleEventHookExecutionId: aws.String(run.event.LifecycleEventHookExecutionID),
		Status:                        cdtypes.LifecycleEventStatus(run.verdict)})
	if run.reportErr != nil {
		h.say("    hook %s: the report failed: %v", run.function, run.reportErr)
	}
	h.record(run)
}

func (h *hookFunctions) record(run hookRun) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.runs = append(h.runs, run)
}

// ran returns the runs for deployment id, in the order they ended.
func (h *hookFunctions) ran(id string) []hookRun {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []hookRun
	for _, r := range h.runs {
		if r.event.DeploymentID == id {
			out = append(out, r)
		}
	}
	return out
}

// wait waits for the runs under way to end.
func (h *hookFunctions) wait() { h.wg.Wait() }

// preflight is the BeforeAllowTraffic hook's check: the alias still sends
// all its traffic to one version.
func preflight(lc *lambda.Client, fn string) validation {
	return func(ctx context.Context) (target.LifecycleEventStatus, string) {
		st, err := readAlias(ctx, lc, fn)
		switch {
		case err != nil:
			return target.EventFailed, err.Error()
		case len(st.weights) > 0:
			return target.EventFailed, "alias " + aliasName + " routes traffic already: " + st.String()
		}
		return target.EventSucceeded, "alias " + aliasName + " on " + st.String()
	}
}

// smoke is the AfterAllowTraffic hook's check: all traffic on one
// version, and that version healthy — its description, standing for a
// request moto cannot serve, does not say BROKEN.
func smoke(lc *lambda.Client, fn string) validation {
	return func(ctx context.Context) (target.LifecycleEventStatus, string) {
		st, err := readAlias(ctx, lc, fn)
		if err != nil {
			return target.EventFailed, err.Error()
		}
		if len(st.weights) > 0 {
			return target.EventFailed, "alias " + aliasName + " still splits traffic: " + st.String()
		}
		conf, err := lc.GetFunctionConfiguration(ctx, &lambda.GetFunctionConfigurationInput{FunctionName: aws.String(fn),
			Qualifier: aws.String(st.version)})
		if err != nil {
			return target.EventFailed, fmt.Sprintf("reading version %s of %s: %v", st.version, fn, err)
		}
		desc := aws.ToString(conf.Description)
		if strings.Contains(desc, "BROKEN") {
			return target.EventFailed, fmt.Sprintf("alias %s on %s, which fails its smoke test (%q)", aliasName, st, desc)
		}
		return target.EventSucceeded, fmt.Sprintf("alias %s on %s, which passes its smoke test (%q)", aliasName, st, desc)
	}
}

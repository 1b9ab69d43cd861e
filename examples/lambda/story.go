package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/codedeploy"
	cdtypes "github.com/aws/aws-sdk-go-v2/service/codedeploy/types"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/smithy-go"

	"github.com/fleetdeploy/fleetdeploy/config"
	"github.com/fleetdeploy/fleetdeploy/deploy"
	"github.com/fleetdeploy/fleetdeploy/deploy/codedeployapi"
	"github.com/fleetdeploy/fleetdeploy/examples/internal/story"
	"github.com/fleetdeploy/fleetdeploy/internal/motoserver"
	"github.com/fleetdeploy/fleetdeploy/revision"
	"github.com/fleetdeploy/fleetdeploy/target"
	"github.com/fleetdeploy/fleetdeploy/target/lambdatarget"
)

// The application, its deployment group and configuration.
const (
	appName     = "shop"
	groupName   = "checkout"
	canaryName  = "CodeDeployDefault.LambdaCanary10Percent5Minutes"
	canaryShare = 10              // percent of the traffic the canary gets
	canaryWait  = 5 * time.Minute // before the rest follows
)

// Where the checks' expectations come from, as the output cites them.
const (
	ugLambda   = `User Guide: "Deployments on an AWS Lambda Compute Platform"`
	ugConfigs  = `User Guide: "Deployment configurations on an AWS Lambda compute platform"`
	ugHooks    = `User Guide: "AppSpec 'hooks' section"`
	apiStatus  = `API Reference: "PutLifecycleEventHookExecutionStatus"`
	ugRollback = `User Guide: "Redeploy and roll back a deployment with CodeDeploy"`
)

// aliasState is what GetAlias says about the alias.
type aliasState struct {
	version string
	weights map[string]float64 // AdditionalVersionWeights; nil when none
}

// String says it as the output does: "version 1, 10% to version 2".
func (s aliasState) String() string {
	if len(s.weights) == 0 {
		return "version " + s.version + ", no weighted routing"
	}
	var parts []string
	for _, v := range slices.Sorted(maps.Keys(s.weights)) {
		parts = append(parts, fmt.Sprintf("%g%% to version %s", s.weights[v]*100, v))
	}
	return "version " + s.version + ", " + strings.Join(parts, ", ")
}

// is reports whether s is version with weights (nil for none).
func (s aliasState) is(version string, weights map[string]float64) bool {
	return s.version == version && maps.Equal(s.weights, weights)
}

// readAlias reads the alias of function fn from moto.
func readAlias(ctx context.Context, lc *lambda.Client, fn string) (aliasState, error) {
	out, err := lc.GetAlias(ctx, &lambda.GetAliasInput{FunctionName: aws.String(fn), Name: aws.String(aliasName)})
	if err != nil {
		return aliasState{}, fmt.Errorf("reading alias %s of %s: %w", aliasName, fn, err)
	}
	s := aliasState{version: aws.ToString(out.FunctionVersion)}
	if out.RoutingConfig != nil && len(out.RoutingConfig.AdditionalVersionWeights) > 0 {
		s.weights = out.RoutingConfig.AdditionalVersionWeights
	}
	return s, nil
}

// shift is the alias as moto had it after one of the Shifter's updates.
type shift struct {
	at    time.Time // when the update was sent, on the story's clock
	state aliasState
}

// aliasWatcher is the Shifter's Lambda client: after every alias update
// the Shifter makes, it reads the alias back from moto, prints it and
// keeps it for the checks.
type aliasWatcher struct {
	*lambda.Client
	clk interface{ Now() time.Time }
	say func(format string, args ...any)

	mu     sync.Mutex
	shifts []shift
}

var _ lambdatarget.AliasAPI = (*aliasWatcher)(nil)

// UpdateAlias implements lambdatarget.AliasAPI.
func (a *aliasWatcher) UpdateAlias(ctx context.Context, in *lambda.UpdateAliasInput, optFns ...func(*lambda.Options)) (*lambda.UpdateAliasOutput, error) {
	at := a.clk.Now()
	out, err := a.Client.UpdateAlias(ctx, in, optFns...)
	if err != nil {
		return out, err
	}
	st, rerr := readAlias(ctx, a.Client, aws.ToString(in.FunctionName))
	if rerr != nil {
		return out, rerr
	}
	a.mu.Lock()
	a.shifts = append(a.shifts, shift{at: at, state: st})
	a.mu.Unlock()
	a.say("    lambda: alias %s now on %s", aliasName, st)
	return out, nil
}

// since returns the shifts from index i on, and the count.
func (a *aliasWatcher) since(i int) ([]shift, int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.Clone(a.shifts[i:]), len(a.shifts)
}

// observer prints the executor's transitions as they happen, and keeps
// when each deployment's AllowTraffic began. It is a deploy.Observer and
// never blocks for long.
type observer struct {
	say func(format string, args ...any)

	mu      sync.Mutex
	allowAt map[string]time.Time // by deployment ID
}

// allowTrafficBegan returns when deployment id's AllowTraffic event began,
// on the story's clock.
func (o *observer) allowTrafficBegan(id string) (time.Time, bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	at, ok := o.allowAt[id]
	return at, ok
}

// Observe implements deploy.Observer.
func (o *observer) Observe(e deploy.Event) {
	if e.Kind == deploy.EventLifecycle && e.LifecycleEvent == target.AllowTraffic && e.LifecycleEventStatus == target.EventInProgress {
		o.mu.Lock()
		if _, ok := o.allowAt[e.DeploymentID]; !ok {
			o.allowAt[e.DeploymentID] = e.Time
		}
		o.mu.Unlock()
	}
	switch e.Kind {
	case deploy.EventDeploymentStatus:
		line := "  " + e.DeploymentID + ": " + string(e.Status)
		if e.ErrorInformation.Code != "" {
			line += " — " + string(e.ErrorInformation.Code) + ": " + e.ErrorInformation.Message
		}
		o.say("%s", line)
	case deploy.EventLifecycle:
		if e.LifecycleEventStatus != target.EventInProgress {
			o.say("    %s %s", e.LifecycleEvent, e.LifecycleEventStatus)
		}
	}
}

// tale is the story's world: moto's functions, the adapters, the
// executor, the reporting endpoint and the checks.
type tale struct {
	say    func(format string, args ...any)
	checks *story.Checks
	lc     *lambda.Client
	w      *world
	clk    *story.FastClock
	alias  *aliasWatcher
	obs    *observer
	hooks  *hookFunctions
	store  *deploy.MemoryStore
	exec   *deploy.Executor
	api    *endpoint
	ids    []string // the story's deployments, rollbacks included, in order
}

// tell sets the world up in moto, serves the reporting endpoint, and
// tells the story.
func tell(ctx context.Context, url string, out *story.Printer, checks *story.Checks, logger *slog.Logger) (err error) {
	cfg := motoserver.ConfigFor(url)
	t := &tale{say: out.Printf, checks: checks, lc: lambda.NewFromConfig(cfg), clk: story.NewFastClock(speed)}
	t.say("fleetdeploy on AWS Lambda: a canary deployment and hook functions that report back through CodeDeploy's API,")
	t.say("against moto at %s (no AWS account)", url)
	t.say("The executor's clock runs %d times faster than real time: the canary's %s take %s.", speed, canaryWait, t.clk.Real(canaryWait))
	checks.Section("Setting up in moto")
	if t.w, err = build(ctx, url, cfg, t.lc, t.say); err != nil {
		return err
	}
	if t.api, err = listen(); err != nil {
		return err
	}
	defer func() {
		if t.hooks != nil {
			t.hooks.wait() // no hook function outlives the story
		}
		t.api.close()
	}()
	if err := t.wire(ctx, logger); err != nil {
		return err
	}
	for _, step := range []func(context.Context) error{t.canary, t.refusals, t.failingHook, t.summary} {
		if err := step(ctx); err != nil {
			return err
		}
	}
	return nil
}

// wire builds the adapters, the executor, the reporting endpoint over it,
// the application and its deployment group.
func (t *tale) wire(ctx context.Context, logger *slog.Logger) error {
	w := t.w
	t.alias = &aliasWatcher{Client: t.lc, clk: t.clk, say: t.say}
	shifter, err := lambdatarget.NewShifter(t.alias, func(o *lambdatarget.Options) { o.Logger = logger })
	if err != nil {
		return err
	}
	t.hooks = &hookFunctions{Client: t.lc, ctx: ctx, clk: t.clk, say: t.say, cd: codeDeployClient(t.api.url, hookAccessKey),
		fns: map[string]validation{w.preflight: preflight(t.lc, w.checkout), w.smoke: smoke(t.lc, w.checkout)}}
	invoker, err := lambdatarget.NewHookInvoker(t.hooks, func(o *lambdatarget.Options) { o.Logger = logger })
	if err != nil {
		return err
	}
	t.store = deploy.NewMemoryStore()
	t.obs = &observer{say: t.say, allowAt: map[string]time.Time{}}
	t.exec, err = deploy.New(t.store, target.Platform{TrafficShifter: shifter, HookInvoker: invoker}, func(o *deploy.Options) {
		o.Clock, o.Logger, o.Observer, o.Source = t.clk, logger, t.obs, revision.ContentSource{}
		o.LeaseTTL = time.Hour // on the fast clock: 12 seconds of real time
	})
	if err != nil {
		return err
	}
	h, err := codedeployapi.New(t.exec, func(o *codedeployapi.Options) { o.Authenticate, o.Logger = authenticate, logger })
	if err != nil {
		return err
	}
	t.api.serve(h)
	t.say("codedeployapi: CodeDeploy's API (PutLifecycleEventHookExecutionStatus) at %s, for requests signed with access key %s",
		t.api.url, hookAccessKey)

	if err := t.store.CreateApplication(ctx, &deploy.Application{Name: appName, ComputePlatform: config.Lambda, CreateTime: time.Now()}); err != nil {
		return err
	}
	if err := t.store.CreateGroup(ctx, &deploy.Group{ApplicationName: appName, Name: groupName, ComputePlatform: config.Lambda,
		DeploymentConfigName: canaryName,
		AutoRollbackConfiguration: deploy.AutoRollbackConfiguration{Enabled: true,
			Events: []deploy.AutoRollbackEvent{deploy.AutoRollbackDeploymentFailure}}}); err != nil {
		return err
	}
	t.say("application %q: group %q (%s, rollback on failure)", appName, groupName, canaryName)
	return nil
}

// appSpec moves the alias from version cur to version tgt, with the two
// hook functions.
func (t *tale) appSpec(cur, tgt int) revision.Location {
	c := fmt.Sprintf("version: 0.0\nResources:\n  - checkout:\n      Type: AWS::Lambda::Function\n      Properties:\n"+
		"        Name: %s\n        Alias: %s\n        CurrentVersion: %d\n        TargetVersion: %d\n"+
		"Hooks:\n  - BeforeAllowTraffic: %s\n  - AfterAllowTraffic: %s\n", t.w.checkout, aliasName, cur, tgt, t.w.preflight, t.w.smoke)
	return revision.Location{Type: revision.LocationAppSpecContent, AppSpecContent: &revision.AppSpecContent{Content: c}}
}

// deploy creates a deployment from version cur to tgt, runs it to the end
// (with its automatic rollback, if any, whose shifts come last) and returns
// it as stored, with the alias states its shifts left.
func (t *tale) deploy(ctx context.Context, cur, tgt int) (*deploy.Deployment, []shift, error) {
	_, mark := t.alias.since(0)
	d, err := t.exec.CreateDeployment(ctx, deploy.DeploymentInput{ApplicationName: appName, GroupName: groupName,
		Revision: t.appSpec(cur, tgt), Description: fmt.Sprintf("checkout %d → %d", cur, tgt)})
	if err != nil {
		return nil, nil, err
	}
	t.say("deployment %s: alias %s of %s from version %d to %d", d.ID, aliasName, t.w.checkout, cur, tgt)
	_, err = t.exec.Run(ctx, d.ID)
	t.hooks.wait() // the functions' runs end once they have reported
	if err != nil {
		return nil, nil, err
	}
	d, err = t.store.GetDeployment(ctx, d.ID)
	if err != nil {
		return nil, nil, err
	}
	t.ids = append(t.ids, d.ID)
	if rb := d.RollbackInfo.RollbackDeploymentID; rb != "" {
		t.ids = append(t.ids, rb)
	}
	shifts, _ := t.alias.since(mark)
	return d, shifts, nil
}

// canary deploys version 2: 10% of the traffic, five minutes, the rest;
// both hooks pass.
func (t *tale) canary(ctx context.Context) error {
	t.checks.Section("1. " + canaryName + ": version 1 → 2, both hooks pass")
	d, shifts, err := t.deploy(ctx, 1, 2)
	if err != nil {
		return err
	}
	t.expectShifts(d.ID, shifts, "1", "2")
	t.expectHooks(d, target.EventSucceeded, shifts)
	t.checks.Expect(d.Status == deploy.StatusSucceeded && d.ErrorInformation.Code == "",
		"deployment %s %s ("+ugLambda+")", d.ID, d.Status)
	return t.expectAlias(ctx, "2", "after the deployment")
}

// expectShifts checks that the shifts of deployment id were the canary's:
// the canary's share to tgt when AllowTraffic began, then everything the
// interval later.
func (t *tale) expectShifts(id string, shifts []shift, cur, tgt string) {
	var states []string
	for _, s := range shifts {
		states = append(states, s.state.String())
	}
	ok := len(shifts) == 2 && shifts[0].state.is(cur, map[string]float64{tgt: canaryShare / 100.0}) && shifts[1].state.is(tgt, nil)
	t.checks.Expect(ok, "the alias after each shift, read back from moto: %s ("+ugConfigs+")", strings.Join(states, "; then "))
	if began, ok := t.obs.allowTrafficBegan(id); ok && len(shifts) == 2 {
		// The executor hands the rest out when it is due, then the
		// Shifter reads the alias and updates it, on a clock that
		// multiplies moto's answering time by speed (a second of
		// virtual time is 3 ms of real time; a loaded machine makes it
		// minutes): so the rule checked is "not before it is due", and
		// how much later it came is only printed.
		canary, rest := shifts[0].at.Sub(began), shifts[1].at.Sub(began)
		t.checks.Expect(canary >= 0 && rest >= canaryWait-time.Second,
			"the canary was sent %s after AllowTraffic began, the rest %s after (due at %s, on the story's clock)",
			canary.Round(time.Second), rest.Round(time.Second), canaryWait)
	}
}

// expectHooks checks deployment d's hook runs: BeforeAllowTraffic's
// function before the first shift, AfterAllowTraffic's after the last,
// each invoked asynchronously with CodeDeploy's event, and reports that
// the executor stored; smokeVerdict is what the AfterAllowTraffic hook
// must have reported.
func (t *tale) expectHooks(d *deploy.Deployment, smokeVerdict target.LifecycleEventStatus, shifts []shift) {
	runs := t.hooks.ran(d.ID)
	byFn := map[string]hookRun{}
	for _, r := range runs {
		byFn[r.function] = r
	}
	pre, okPre := byFn[t.w.preflight]
	post, okPost := byFn[t.w.smoke]
	t.checks.Expect(len(runs) == 2 && okPre && okPost && pre.invocationType == "Event" && post.invocationType == "Event" &&
		pre.event.LifecycleEventHookExecutionID != "" && post.event.LifecycleEventHookExecutionID != "",
		"%d of 2 hook functions invoked asynchronously (InvocationType Event) with {DeploymentId, LifecycleEventHookExecutionId} ("+ugHooks+")", len(runs))
	if len(shifts) > 0 && okPre && okPost {
		t.checks.Expect(pre.at.Before(shifts[0].at) && post.at.After(shifts[len(shifts)-1].at),
			"%s ran before the first shift and %s after the last (BeforeAllowTraffic, AfterAllowTraffic)", t.w.preflight, t.w.smoke)
	}
	stored := map[target.LifecycleEvent]deploy.HookExecution{}
	for _, x := range d.HookExecutions {
		stored[x.Event] = x
	}
	b, a := stored[target.BeforeAllowTraffic], stored[target.AfterAllowTraffic]
	t.checks.Expect(pre.reportErr == nil && post.reportErr == nil && b.Reported && a.Reported &&
		b.Status == target.EventSucceeded && a.Status == smokeVerdict && b.ID == pre.event.LifecycleEventHookExecutionID &&
		a.ID == post.event.LifecycleEventHookExecutionID,
		"reported through the SDK's CodeDeploy client and the endpoint, and stored: BeforeAllowTraffic %s, AfterAllowTraffic %s ("+apiStatus+")",
		b.Status, a.Status)
}

// expectAlias checks the alias in moto: all on version, no routing.
func (t *tale) expectAlias(ctx context.Context, version, when string) error {
	st, err := readAlias(ctx, t.lc, t.w.checkout)
	if err != nil {
		return err
	}
	t.checks.Expect(st.is(version, nil), "GetAlias %s: %s", when, st)
	return nil
}

// refusals sends the reports CodeDeploy refuses: a second one for a hook
// that reported, and one signed with another access key.
func (t *tale) refusals(ctx context.Context) error {
	t.checks.Section("2. Reports the endpoint refuses, as CodeDeploy does")
	runs := t.hooks.ran(t.ids[0])
	if len(runs) == 0 {
		t.checks.Expect(false, "a hook function ran, whose report could be sent again: none ran")
		return nil
	}
	first := runs[0]
	in := &codedeploy.PutLifecycleEventHookExecutionStatusInput{DeploymentId: aws.String(first.event.DeploymentID),
		LifecycleEventHookExecutionId: aws.String(first.event.LifecycleEventHookExecutionID), Status: cdtypes.LifecycleEventStatusFailed}
	_, err := t.hooks.cd.PutLifecycleEventHookExecutionStatus(ctx, in)
	var done *cdtypes.LifecycleEventAlreadyCompletedException
	t.checks.Expect(errors.As(err, &done), "a second report for %s's execution: %v ("+apiStatus+")", first.function, errText(err))
	_, err = codeDeployClient(t.api.url, "AKIDSOMEONEELSE").PutLifecycleEventHookExecutionStatus(ctx, in)
	t.checks.Expect(apiCode(err) == "AccessDeniedException", "the same report signed with another access key: %v", errText(err))
	return nil
}

// failingHook deploys version 3, whose smoke test fails: the deployment
// fails, and its automatic rollback puts the alias back on version 2.
func (t *tale) failingHook(ctx context.Context) error {
	t.checks.Section("3. Version 2 → 3, whose AfterAllowTraffic hook reports Failed: automatic rollback")
	d, all, err := t.deploy(ctx, 2, 3)
	if err != nil {
		return err
	}
	// The deployment's shifts, and the rollback's after its end.
	var shifts, back []shift
	for _, s := range all {
		if s.at.After(d.CompleteTime) {
			back = append(back, s)
		} else {
			shifts = append(shifts, s)
		}
	}
	t.expectShifts(d.ID, shifts, "2", "3")
	t.expectHooks(d, target.EventFailed, shifts)
	t.checks.Expect(d.Status == deploy.StatusFailed, "deployment %s %s: %s: %s", d.ID, d.Status, d.ErrorInformation.Code, d.ErrorInformation.Message)
	rbID := d.RollbackInfo.RollbackDeploymentID
	if rbID == "" {
		t.checks.Expect(false, "the failed deployment was rolled back (autoRollbackConfiguration DEPLOYMENT_FAILURE): no rollback deployment")
		return nil
	}
	rb, err := t.store.GetDeployment(ctx, rbID)
	if err != nil {
		return err
	}
	t.checks.Expect(rb.Creator == target.CreatorRollback && rb.RollbackInfo.RollbackTriggeringDeploymentID == d.ID && rb.Status == deploy.StatusSucceeded,
		"rollback %s: creator %s, rollbackTriggeringDeploymentId %s, %s ("+ugRollback+")",
		rb.ID, rb.Creator, rb.RollbackInfo.RollbackTriggeringDeploymentID, rb.Status)
	var states []string
	for _, s := range back {
		states = append(states, s.state.String())
	}
	t.checks.Expect(len(back) == 1 && back[0].state.is("2", nil),
		"the rollback shifted all traffic back at once, in %d update: %s", len(back), strings.Join(states, "; then "))
	return t.expectAlias(ctx, "2", "after the rollback")
}

// summary prints the story's deployments.
func (t *tale) summary(ctx context.Context) error {
	t.checks.Section("Deployments")
	t.say("%-11s  %-18s  %-9s  %-22s  %s", "DEPLOYMENT", "CREATOR", "STATUS", "ERROR CODE", "HOOKS")
	for _, id := range t.ids {
		d, err := t.store.GetDeployment(ctx, id)
		if err != nil {
			return err
		}
		var hooks []string
		for _, x := range d.HookExecutions {
			hooks = append(hooks, string(x.Event)+" "+string(x.Status))
		}
		code := string(d.ErrorInformation.Code)
		if code == "" {
			code = "-"
		}
		t.say("%-11s  %-18s  %-9s  %-22s  %s", d.ID, d.Creator, d.Status, code, strings.Join(hooks, ", "))
	}
	return nil
}

// apiCode returns the error code of the service's answer in err, "" if
// none.
func apiCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// errText says how a call ended: its error code and message, or "accepted".
func errText(err error) string {
	var ae smithy.APIError
	switch {
	case err == nil:
		return "accepted"
	case errors.As(err, &ae):
		return ae.ErrorCode() + ": " + ae.ErrorMessage()
	}
	return err.Error()
}

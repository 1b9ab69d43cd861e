package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/fleetdeploy/fleetdeploy/config"
	"github.com/fleetdeploy/fleetdeploy/deploy"
	"github.com/fleetdeploy/fleetdeploy/deploy/clock"
	"github.com/fleetdeploy/fleetdeploy/revision"
	"github.com/fleetdeploy/fleetdeploy/target"
	"github.com/fleetdeploy/fleetdeploy/target/localtraffic"
)

// console prints the example's output, each live line stamped with the
// virtual time since the start. Safe for concurrent use; the first write
// error is kept in err and the later writes are skipped.
type console struct {
	mu    sync.Mutex
	w     io.Writer
	clk   clock.Clock
	start time.Time
	err   error
}

// printf prints a live line: "[ 1:02.5] " and the text.
func (c *console) printf(format string, args ...any) {
	c.write(fmt.Sprintf("[%s] ", stamp(c.clk.Now().Sub(c.start))) + fmt.Sprintf(format, args...))
}

// plainf prints a line without a time stamp.
func (c *console) plainf(format string, args ...any) { c.write(fmt.Sprintf(format, args...)) }

func (c *console) write(line string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err == nil {
		_, c.err = io.WriteString(c.w, line+"\n")
	}
}

// stamp spells a virtual time since the start: " 5:15.3" (minutes,
// seconds).
func stamp(d time.Duration) string {
	d = d.Round(100 * time.Millisecond)
	return fmt.Sprintf("%2d:%04.1f", int(d/time.Minute), (d % time.Minute).Seconds())
}

// virtualSpan spells a virtual duration: "1m00.0s".
func virtualSpan(d time.Duration) string {
	d = d.Round(100 * time.Millisecond)
	return fmt.Sprintf("%dm%04.1fs", int(d/time.Minute), (d % time.Minute).Seconds())
}

// observer prints the executor's deployment status changes, and the
// lifecycle events that fail. revs names revisions.
type observer struct {
	out   *console
	store deploy.Store
	revs  func(revision.Location) string
}

// Observe implements deploy.Observer.
func (o *observer) Observe(e deploy.Event) {
	switch {
	case e.Kind == deploy.EventDeploymentStatus && e.Status == deploy.StatusCreated:
		what := "created"
		// The memory store answers at once; the observer must not block.
		if d, err := o.store.GetDeployment(context.Background(), e.DeploymentID); err == nil {
			what = fmt.Sprintf("created by %s: %s with %s", d.Creator, o.revs(d.Revision), d.ConfigName)
			if t := d.RollbackInfo.RollbackTriggeringDeploymentID; t != "" {
				what += ", rolling back " + t
			}
		}
		o.out.printf("%s %s", e.DeploymentID, what)
	case e.Kind == deploy.EventDeploymentStatus:
		line := fmt.Sprintf("%s %s", e.DeploymentID, e.Status)
		if c := e.ErrorInformation.Code; c != "" {
			line += fmt.Sprintf(": %s: %s", c, e.ErrorInformation.Message)
		}
		o.out.printf("%s", line)
	case e.Kind == deploy.EventLifecycle && e.LifecycleEventStatus == target.EventFailed:
		msg := ""
		if e.Diagnostics != nil {
			msg = ": " + e.Diagnostics.Message
		}
		o.out.printf("%s %s Failed%s", e.DeploymentID, e.LifecycleEvent, msg)
	}
}

// The hook functions the AppSpecs name (in their 'hooks' sections), run in
// process by hooks.
const (
	preTrafficHook  = "shopPreTraffic"
	postTrafficHook = "shopPostTraffic"
)

// postTrafficRequests is how many requests the AfterAllowTraffic hook
// sends through the alias.
const postTrafficRequests = 5

// hooks is the platform's HookInvoker: Lambda validation hooks (User Guide,
// "AppSpec 'hooks' section") as Go functions in this process, called with
// the deployment and the LifecycleEventHookExecutionId, returning Succeeded
// or Failed.
//
//   - shopPreTraffic (BeforeAllowTraffic) calls the new version directly,
//     before it gets any traffic: GET /health on its own server.
//   - shopPostTraffic (AfterAllowTraffic) checks that the alias, now fully
//     shifted, is answered by the new version: a few requests through the
//     proxy.
//
// A hook learns the versions as a real one would: from the deployment's
// revision, the AppSpec.
type hooks struct {
	client  *http.Client
	servers map[string]*server // by Lambda version number
	alias   string             // the alias's URL (the proxy)
	out     *console
	meter   *meter // counts the shifts before each hook

	mu    sync.Mutex
	calls []hookCall
}

// hookCall records one hook run.
type hookCall struct {
	deploymentID string
	event        target.LifecycleEvent
	// shiftsBefore is how many shifts the deployment had made when the
	// hook began.
	shiftsBefore int
	status       target.LifecycleEventStatus
	// ended is when the hook returned, on the virtual clock.
	ended time.Time
}

var _ target.HookInvoker = (*hooks)(nil)

// InvokeHook runs the hook function req.FunctionName. An unknown function
// is an error wrapping target.ErrNotFound.
func (h *hooks) InvokeHook(ctx context.Context, req target.HookRequest) (target.EventResult, error) {
	var run func(context.Context, *revision.LambdaFunction) (string, bool)
	switch req.FunctionName {
	case preTrafficHook:
		run = h.preTraffic
	case postTrafficHook:
		run = h.postTraffic
	default:
		return target.EventResult{}, fmt.Errorf("canary: hook function %q does not exist: %w", req.FunctionName, target.ErrNotFound)
	}
	call := hookCall{deploymentID: req.Deployment.DeploymentID, event: req.Event,
		shiftsBefore: h.meter.shifts(req.Deployment.DeploymentID)}
	res := target.EventResult{Status: target.EventSucceeded, ErrorCode: target.CodeSuccess}
	ok := false
	if fn, err := lambdaOf(req.Deployment.Revision); err != nil {
		res.Message = err.Error()
	} else {
		res.Message, ok = run(ctx, fn)
	}
	if err := ctx.Err(); err != nil {
		// No status: the deployment's run is ending, or the hook's
		// deadline passed; the executor decides which.
		return target.EventResult{}, fmt.Errorf("canary: hook %s: %w", req.FunctionName, err)
	}
	if !ok {
		res.Status, res.ErrorCode = target.EventFailed, target.CodeScriptFailed
	}
	call.status, call.ended = res.Status, h.meter.clk.Now()
	h.mu.Lock()
	h.calls = append(h.calls, call)
	h.mu.Unlock()
	h.out.printf("%s %s %s: %s (%s)", req.Deployment.DeploymentID, req.Event, req.FunctionName, res.Message, res.Status)
	return res, nil
}

// call returns the run of hook event for deployment id, if it ran.
func (h *hooks) call(id string, event target.LifecycleEvent) (hookCall, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, c := range h.calls {
		if c.deploymentID == id && c.event == event {
			return c, true
		}
	}
	return hookCall{}, false
}

// ended returns when hook event of deployment id returned, if it ran.
func (h *hooks) ended(id string, event target.LifecycleEvent) (time.Time, bool) {
	c, ok := h.call(id, event)
	return c.ended, ok
}

// preTraffic GETs the target version's /health on its own server.
func (h *hooks) preTraffic(ctx context.Context, fn *revision.LambdaFunction) (string, bool) {
	s := h.servers[fn.TargetVersion]
	if s == nil {
		return fmt.Sprintf("version %s of %s does not exist", fn.TargetVersion, fn.Name), false
	}
	code, from, err := h.get(ctx, s.url+healthPath)
	if err != nil {
		return fmt.Sprintf("GET %s %s: %v", label(fn.TargetVersion), healthPath, err), false
	}
	return fmt.Sprintf("GET %s %s → %d from %s", label(fn.TargetVersion), healthPath, code, from),
		code == http.StatusOK && from == label(fn.TargetVersion)
}

// postTraffic sends a few requests through the alias and checks that the
// target version answers them all.
func (h *hooks) postTraffic(ctx context.Context, fn *revision.LambdaFunction) (string, bool) {
	want := label(fn.TargetVersion)
	var others []string
	for range postTrafficRequests {
		_, from, err := h.get(ctx, h.alias)
		if err != nil {
			return fmt.Sprintf("GET through the alias: %v", err), false
		}
		if from != want {
			others = append(others, from)
		}
	}
	if len(others) > 0 {
		return fmt.Sprintf("%d of %d requests through %s:%s answered by %s, not %s", len(others), postTrafficRequests,
			fn.Name, fn.Alias, strings.Join(others, ", "), want), false
	}
	return fmt.Sprintf("%d requests through %s:%s, all answered by %s", postTrafficRequests, fn.Name, fn.Alias, want), true
}

// get sends a GET and returns the status and the version that answered.
func (h *hooks) get(ctx context.Context, url string) (int, string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, "", err
	}
	resp, err := h.client.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, resp.Header.Get(versionHeader), nil
}

// lambdaOf reads the function of a Lambda revision (its AppSpec).
func lambdaOf(loc revision.Location) (*revision.LambdaFunction, error) {
	if loc.AppSpecContent == nil {
		return nil, fmt.Errorf("canary: revision %s is not an inline AppSpec", loc)
	}
	spec, err := revision.ParseAppSpec([]byte(loc.AppSpecContent.Content), config.Lambda)
	if err != nil {
		return nil, err
	}
	if spec.Lambda == nil {
		return nil, fmt.Errorf("canary: revision %s has no Lambda function", loc)
	}
	return spec.Lambda, nil
}

// alarmChange is one change of an alarm's state, as the executor's poll
// saw it.
type alarmChange struct {
	At      time.Time
	Reading localtraffic.Reading
}

// alarmWatch is the platform's AlarmSource as the executor sees it: the
// proxy's alarms, with every change of state the executor's polls see
// printed and recorded.
type alarmWatch struct {
	alarms *localtraffic.Alarms
	defs   map[string]localtraffic.ErrorRateAlarm
	clk    clock.Clock
	out    *console

	mu      sync.Mutex
	last    map[string]target.AlarmState
	changes []alarmChange
	polls   int
}

var _ target.AlarmSource = (*alarmWatch)(nil)

// AlarmStates reads each named alarm (localtraffic.Alarms.Read) and
// returns its state, in the order of names. An unknown name is an error
// wrapping target.ErrNotFound.
func (a *alarmWatch) AlarmStates(ctx context.Context, names []string) ([]target.AlarmState, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("canary: alarm states: %w", err)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.polls++
	states := make([]target.AlarmState, len(names))
	for i, n := range names {
		r, err := a.alarms.Read(n)
		if err != nil {
			return nil, err
		}
		states[i] = r.State
		if prev, seen := a.last[n]; !seen || prev != r.State {
			a.last[n] = r.State
			a.changes = append(a.changes, alarmChange{At: a.clk.Now(), Reading: r})
			from := ""
			if seen {
				from = string(prev) + " → "
			}
			a.out.printf("alarm %s: %s%s (%s)", n, from, r.State, a.explain(r))
		}
	}
	return states, nil
}

// explain spells what a reading was computed from.
func (a *alarmWatch) explain(r localtraffic.Reading) string {
	d := a.defs[r.Name]
	who := "the new version"
	if r.Backend != "" {
		who = label(r.Backend)
	}
	return fmt.Sprintf("%s: %d of %d requests 5xx in the last %s; alarm above %.0f%% with at least %d",
		who, r.Counts.Errors, r.Counts.Requests, virtualSpan(d.Window), 100*d.Threshold, d.MinRequests)
}

// history returns the state changes seen so far, in order.
func (a *alarmWatch) history() []alarmChange {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]alarmChange(nil), a.changes...)
}

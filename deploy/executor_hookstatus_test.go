package deploy_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fleetdeploy/fleetdeploy/config"
	"github.com/fleetdeploy/fleetdeploy/deploy"
	"github.com/fleetdeploy/fleetdeploy/deploy/deploytest"
	"github.com/fleetdeploy/fleetdeploy/deploy/plan"
	"github.com/fleetdeploy/fleetdeploy/target"
)

// reportingHooks is a HookInvoker whose functions report back as Lambda
// and ECS hook functions do: InvokeHook hands the request to report (the
// "function", run in its own goroutine), which may call
// PutLifecycleEventHookExecutionStatus, and waits on req.Reports for the
// status.
type reportingHooks struct {
	report func(req target.HookRequest)

	wg      sync.WaitGroup
	mu      sync.Mutex
	invoked []target.HookRequest
}

func (h *reportingHooks) InvokeHook(ctx context.Context, req target.HookRequest) (target.EventResult, error) {
	h.mu.Lock()
	h.invoked = append(h.invoked, req)
	h.mu.Unlock()
	if req.Reports == nil {
		return target.EventResult{}, errors.New("the executor gave the hook no Reports")
	}
	if h.report != nil {
		h.wg.Go(func() { h.report(req) })
	}
	st, err := req.Reports.Await(ctx)
	if err != nil {
		return target.EventResult{}, err
	}
	res := target.EventResult{Status: st}
	if st == target.EventFailed {
		res.ErrorCode, res.Message = target.CodeScriptFailed, "validation reported Failed"
	}
	return res, nil
}

// events returns the events invoked, in order.
func (h *reportingHooks) events() []target.LifecycleEvent {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []target.LifecycleEvent
	for _, r := range h.invoked {
		out = append(out, r.Event)
	}
	return out
}

// hookEnv is a Lambda deployment group (canary-free: all at once) whose
// hook functions report through the executor, and its deployment of
// version 2.
func hookEnv(t *testing.T, opts ...func(*deploy.Options)) (*env, *reportingHooks, *deploy.Deployment) {
	t.Helper()
	e, shifter, _, _ := serviceEnv(t, config.Lambda, "CodeDeployDefault.LambdaAllAtOnce", nil, opts...)
	shifter.SetRoute(target.TrafficRoute{ResourceID: "checkout:live"}, target.TrafficSplit{Original: "1"})
	h := &reportingHooks{}
	e.platform.HookInvoker = h
	e.exec = e.newExecutor(e.mem)
	d, err := e.exec.CreateDeployment(e.ctx, deploy.DeploymentInput{ApplicationName: "shop", GroupName: "prod", Revision: lambdaSpec("2")})
	if err != nil {
		t.Fatal(err)
	}
	return e, h, d
}

// reportWith returns a hook function that reports status for its
// execution through x, the outcome of each report going to errs.
func reportWith(ctx context.Context, x *deploy.Executor, status func(target.LifecycleEvent) target.LifecycleEventStatus, errs chan<- error) func(target.HookRequest) {
	return func(req target.HookRequest) {
		errs <- x.PutLifecycleEventHookExecutionStatus(ctx, req.Deployment.DeploymentID, req.ExecutionID, status(req.Event))
	}
}

// A hook function that reports Succeeded, or Failed, through
// PutLifecycleEventHookExecutionStatus decides its hook: the deployment
// goes on after Succeeded and fails with HOOK_EXECUTION_FAILURE after
// Failed, before traffic moves. The executions and their reports are
// stored with the deployment.
func TestHookReportsDecideTheHook(t *testing.T) {
	for _, failed := range []bool{false, true} {
		want, code := deploy.StatusSucceeded, deploy.ErrorCode("")
		report := target.EventSucceeded
		if failed {
			want, code, report = deploy.StatusFailed, plan.HookExecutionFailure, target.EventFailed
		}
		t.Run(string(report), func(t *testing.T) {
			e, h, d := hookEnv(t)
			errs := make(chan error, 4)
			h.report = reportWith(e.ctx, e.exec, func(target.LifecycleEvent) target.LifecycleEventStatus { return report }, errs)
			got, err := e.exec.Run(e.ctx, d.ID) // the clock never moves: reports wake the hooks
			h.wg.Wait()
			close(errs)
			for err := range errs {
				if err != nil {
					t.Errorf("PutLifecycleEventHookExecutionStatus: %v", err)
				}
			}
			if err != nil || got.Status != want || got.ErrorInformation.Code != code {
				t.Fatalf("Run = %s %+v, %v; want %s %q", got.Status, got.ErrorInformation, err, want, code)
			}
			wantHooks := []target.LifecycleEvent{target.BeforeAllowTraffic, target.AfterAllowTraffic}
			if failed {
				wantHooks = wantHooks[:1]
			}
			if got := h.events(); !slices.Equal(got, wantHooks) {
				t.Errorf("hooks invoked %v; want %v", got, wantHooks)
			}
			stored := e.get(d.ID).HookExecutions
			if len(stored) != len(wantHooks) {
				t.Fatalf("stored hook executions %+v; want one per hook invoked", stored)
			}
			for i, x := range stored {
				if x.ID != d.ID+"-"+string(wantHooks[i]) || x.Event != wantHooks[i] || !x.Reported || x.Status != report ||
					x.FunctionName == "" || x.StartTime.IsZero() || x.EndTime.IsZero() {
					t.Errorf("stored hook execution %d: %+v; want %s reported %s", i, x, wantHooks[i], report)
				}
			}
			tg := e.targets(d.ID)["checkout:live"]
			if ev := tg.Event(target.BeforeAllowTraffic); ev == nil || ev.Status != report {
				t.Errorf("BeforeAllowTraffic on the function: %+v; want %s", ev, report)
			}
		})
	}
}

// A hook function that never reports fails its hook after an hour on the
// executor's clock (ScriptTimedOut), and the deployment fails; a report
// that comes after that is refused: the event completed.
func TestHookWithoutReportTimesOut(t *testing.T) {
	e, h, d := hookEnv(t, func(o *deploy.Options) { o.PollInterval = 10 * time.Minute })
	// While the hook waits, three timers do: the run's wait (its poll and
	// lease renewal), the hook's deadline and the report poll. The clock
	// moves only then: once the deadline fires, two remain until the hook
	// has ended, so the clock cannot run on (wait by wait) before the
	// executor has taken the hook's failure and recorded its end.
	res := advanceWhile(e.ctx, e.clk, 3, func() result { got, err := e.exec.Run(e.ctx, d.ID); return result{got, err} })
	if res.err != nil || res.d.Status != deploy.StatusFailed || res.d.ErrorInformation.Code != plan.HookExecutionFailure {
		t.Fatalf("Run = %s %+v, %v; want Failed HOOK_EXECUTION_FAILURE", res.d.Status, res.d.ErrorInformation, res.err)
	}
	ev := e.targets(d.ID)["checkout:live"].Event(target.BeforeAllowTraffic)
	if ev == nil || ev.Status != target.EventFailed || ev.Diagnostics == nil || ev.Diagnostics.ErrorCode != target.CodeScriptTimedOut {
		t.Fatalf("BeforeAllowTraffic: %+v; want Failed with ScriptTimedOut", ev)
	}
	if took := ev.EndTime.Sub(ev.StartTime); took != deploy.DefaultHookTimeout {
		t.Errorf("the hook failed after %s; CodeDeploy waits an hour", took)
	}
	if got := h.events(); !slices.Equal(got, []target.LifecycleEvent{target.BeforeAllowTraffic}) {
		t.Errorf("hooks invoked %v", got)
	}
	x := e.get(d.ID).HookExecutions
	if len(x) != 1 || x[0].Reported || x[0].Status != target.EventFailed {
		t.Errorf("stored hook executions %+v; want BeforeAllowTraffic Failed without a report", x)
	}
	err := e.exec.PutLifecycleEventHookExecutionStatus(e.ctx, d.ID, d.ID+"-BeforeAllowTraffic", target.EventSucceeded)
	if !errors.Is(err, deploy.ErrLifecycleEventAlreadyCompleted) {
		t.Errorf("a report after the timeout: %v; want ErrLifecycleEventAlreadyCompleted", err)
	}
}

// A second report for one execution is refused with
// ErrLifecycleEventAlreadyCompleted, whatever it says, and changes
// nothing: the first decides.
func TestSecondHookReportRefused(t *testing.T) {
	e, h, d := hookEnv(t)
	second := make(chan error, 2)
	h.report = func(req target.HookRequest) {
		id := req.Deployment.DeploymentID
		if err := e.exec.PutLifecycleEventHookExecutionStatus(e.ctx, id, req.ExecutionID, target.EventSucceeded); err != nil {
			second <- err
			return
		}
		second <- e.exec.PutLifecycleEventHookExecutionStatus(e.ctx, id, req.ExecutionID, target.EventFailed)
	}
	got, err := e.exec.Run(e.ctx, d.ID)
	h.wg.Wait()
	if err != nil || got.Status != deploy.StatusSucceeded {
		t.Fatalf("Run = %s %+v, %v; want Succeeded: the first reports decide", got.Status, got.ErrorInformation, err)
	}
	for range 2 {
		if err := <-second; !errors.Is(err, deploy.ErrLifecycleEventAlreadyCompleted) {
			t.Errorf("second report: %v; want ErrLifecycleEventAlreadyCompleted", err)
		}
	}
	for _, x := range e.get(d.ID).HookExecutions {
		if x.Status != target.EventSucceeded || !x.Reported {
			t.Errorf("hook execution %+v after a refused second report; want the first report's Succeeded", x)
		}
	}
}

// A report taken by another Executor sharing the store — an API front end
// — reaches the hook at the deployment's next poll: here BeforeAllowTraffic
// is reported once its hook waits (it read the store and armed its poll
// timer), and ends at that poll, a minute later; AfterAllowTraffic is
// reported before its hook waits, which then returns at once.
func TestHookReportThroughAnotherExecutor(t *testing.T) {
	e, _, d := hookEnv(t, func(o *deploy.Options) { o.PollInterval = time.Minute })
	frontEnd := e.newExecutor(e.mem)
	reported := make(chan error, 1)
	e.platform.HookInvoker = hookFunc(func(ctx context.Context, req target.HookRequest) (target.EventResult, error) {
		id := req.Deployment.DeploymentID
		if req.Event == target.AfterAllowTraffic {
			if err := frontEnd.PutLifecycleEventHookExecutionStatus(ctx, id, req.ExecutionID, target.EventSucceeded); err != nil {
				return target.EventResult{}, err
			}
			st, err := req.Reports.Await(ctx)
			return target.EventResult{Status: st}, err
		}
		// Nobody moves the clock until reported is sent: the timers
		// pending now are the executor's, and the hook's poll is the next.
		n := e.clk.Waiters()
		type awaited struct {
			st  target.LifecycleEventStatus
			err error
		}
		got := make(chan awaited, 1)
		go func() { st, err := req.Reports.Await(ctx); got <- awaited{st, err} }()
		if err := e.clk.BlockUntil(ctx, n+1); err != nil {
			return target.EventResult{}, err
		}
		reported <- frontEnd.PutLifecycleEventHookExecutionStatus(ctx, id, req.ExecutionID, target.EventSucceeded)
		a := <-got
		return target.EventResult{Status: a.st}, a.err
	})
	e.exec = e.newExecutor(e.mem)
	done := make(chan result, 1)
	go func() { got, err := e.exec.Run(e.ctx, d.ID); done <- result{got, err} }()
	if err := <-reported; err != nil {
		t.Fatalf("report through the front end: %v", err)
	}
	res := advanceWhile(e.ctx, e.clk, 2, func() result { return <-done })
	if res.err != nil || res.d.Status != deploy.StatusSucceeded {
		t.Fatalf("Run = %s %+v, %v; want Succeeded", res.d.Status, res.d.ErrorInformation, res.err)
	}
	tg := e.targets(d.ID)["checkout:live"]
	before, after := tg.Event(target.BeforeAllowTraffic), tg.Event(target.AfterAllowTraffic)
	if took := before.EndTime.Sub(before.StartTime); took < time.Minute || took >= deploy.DefaultHookTimeout {
		t.Errorf("BeforeAllowTraffic's report was seen after %s; want at the hook's first poll, a minute after it started", took)
	}
	if after == nil || after.Status != target.EventSucceeded {
		t.Errorf("AfterAllowTraffic: %+v; want Succeeded, as reported before its hook waited", after)
	}
}

// hookFunc is a HookInvoker made of a function.
type hookFunc func(ctx context.Context, req target.HookRequest) (target.EventResult, error)

func (f hookFunc) InvokeHook(ctx context.Context, req target.HookRequest) (target.EventResult, error) {
	return f(ctx, req)
}

// A report that arrives while no executor runs the deployment — the one
// running it died while its hook waited — is stored, and Resume takes it
// as the hook's outcome without invoking the hook again.
func TestHookReportWhileExecutorDown(t *testing.T) {
	for _, report := range []target.LifecycleEventStatus{target.EventSucceeded, target.EventFailed} {
		t.Run(string(report), func(t *testing.T) {
			e, h, d := hookEnv(t)
			var dying atomic.Bool
			fs := deploytest.NewFaultStore(e.mem, deploytest.FaultOptions{Crash: true, Fail: func(deploytest.Write) bool { return dying.Load() }})
			e.exec = e.newExecutor(fs)
			// The function is invoked; then the process dies before the
			// hook's end is stored.
			e.platform.HookInvoker = crashingHook{&dying}
			e.exec = e.newExecutor(fs)
			if _, err := e.exec.Run(e.ctx, d.ID); !fs.Crashed() || !errors.Is(err, deploytest.ErrCrashed) {
				t.Fatalf("Run = %v; want a crash while BeforeAllowTraffic ran", err)
			}
			frontEnd := e.newExecutor(e.mem)
			if err := frontEnd.PutLifecycleEventHookExecutionStatus(e.ctx, d.ID, d.ID+"-BeforeAllowTraffic", report); err != nil {
				t.Fatalf("report while the executor is down: %v", err)
			}

			e.platform.HookInvoker = h
			errs := make(chan error, 2)
			resumed := e.restarted()
			h.report = reportWith(e.ctx, resumed, func(target.LifecycleEvent) target.LifecycleEventStatus { return target.EventSucceeded }, errs)
			got, err := resumed.Resume(e.ctx, d.ID)
			h.wg.Wait()
			want, code, wantHooks := deploy.StatusSucceeded, deploy.ErrorCode(""), []target.LifecycleEvent{target.AfterAllowTraffic}
			if report == target.EventFailed {
				want, code, wantHooks = deploy.StatusFailed, plan.HookExecutionFailure, nil
			}
			if err != nil || got.Status != want || got.ErrorInformation.Code != code {
				t.Fatalf("Resume = %s %+v, %v; want %s %q", got.Status, got.ErrorInformation, err, want, code)
			}
			if got := h.events(); !slices.Equal(got, wantHooks) {
				t.Errorf("hooks invoked after Resume: %v; want %v (BeforeAllowTraffic's report was stored)", got, wantHooks)
			}
			if ev := e.targets(d.ID)["checkout:live"].Event(target.BeforeAllowTraffic); ev == nil || ev.Status != report {
				t.Errorf("BeforeAllowTraffic: %+v; want %s, as reported", ev, report)
			}
		})
	}
}

// crashingHook is a hook whose process dies once the function is invoked:
// it marks the store's next write a crash and returns.
type crashingHook struct{ dying *atomic.Bool }

func (c crashingHook) InvokeHook(context.Context, target.HookRequest) (target.EventResult, error) {
	c.dying.Store(true)
	return target.EventResult{}, errors.New("the process died")
}

// PutLifecycleEventHookExecutionStatus refuses what CodeDeploy refuses,
// each with its error: no deployment ID, an unknown deployment, a status
// other than Succeeded or Failed, an unknown execution ID, a Server
// deployment.
func TestHookReportErrors(t *testing.T) {
	e, _, d := hookEnv(t)
	exec := d.ID + "-BeforeAllowTraffic"
	for _, c := range []struct {
		name         string
		deployment   string
		execution    string
		status       target.LifecycleEventStatus
		want         error
		wantNotAlsoA error
	}{
		{"no deployment ID", "", exec, target.EventSucceeded, deploy.ErrDeploymentIDRequired, nil},
		{"unknown deployment", "d-NOSUCH000", exec, target.EventSucceeded, deploy.ErrNotFound, nil},
		{"status InProgress", d.ID, exec, target.EventInProgress, deploy.ErrInvalidHookStatus, nil},
		{"empty status", d.ID, exec, "", deploy.ErrInvalidHookStatus, nil},
		{"status in lower case", d.ID, exec, "succeeded", deploy.ErrInvalidHookStatus, nil},
		{"empty execution ID", d.ID, "", target.EventSucceeded, deploy.ErrHookExecutionNotFound, nil},
		// The hook has not started: its ID was issued to no function.
		{"execution not started", d.ID, exec, target.EventSucceeded, deploy.ErrHookExecutionNotFound, nil},
	} {
		err := e.exec.PutLifecycleEventHookExecutionStatus(e.ctx, c.deployment, c.execution, c.status)
		var de *deploy.DeploymentError
		if !errors.Is(err, c.want) || !errors.As(err, &de) {
			t.Errorf("%s: %v; want a *DeploymentError matching %v", c.name, err, c.want)
		}
	}
	if x := e.get(d.ID).HookExecutions; len(x) != 0 {
		t.Errorf("refused reports stored hook executions %+v", x)
	}

	s := newEnv(t, 2, "CodeDeployDefault.AllAtOnce", nil)
	sd := s.create("v1")
	err := s.exec.PutLifecycleEventHookExecutionStatus(s.ctx, sd.ID, sd.ID+"-BeforeAllowTraffic", target.EventSucceeded)
	if !errors.Is(err, deploy.ErrUnsupportedDeploymentType) {
		t.Errorf("a report for a Server deployment: %v; want ErrUnsupportedDeploymentType", err)
	}
}

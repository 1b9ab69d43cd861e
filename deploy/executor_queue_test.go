package deploy_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fleetdeploy/fleetdeploy/deploy"
	"github.com/fleetdeploy/fleetdeploy/deploy/deploytest"
	"github.com/fleetdeploy/fleetdeploy/deploy/plan"
	"github.com/fleetdeploy/fleetdeploy/target"
	"github.com/fleetdeploy/fleetdeploy/target/targettest"
)

// queueEnv is a 3-target group whose executors queue with policy p.
func queueEnv(t *testing.T, p deploy.QueuePolicy, opts ...func(*deploy.Options)) *env {
	return newEnv(t, 3, "CodeDeployDefault.OneAtATime", nil, append([]func(*deploy.Options){func(o *deploy.Options) { o.Queue = p }}, opts...)...)
}

// started returns the deployments that went InProgress, in that order.
func started(rec *deploytest.Recorder) []string {
	var ids []string
	for _, ev := range rec.Events() {
		if ev.Kind == deploy.EventDeploymentStatus && ev.Status == deploy.StatusInProgress {
			ids = append(ids, ev.DeploymentID)
		}
	}
	return ids
}

// TestQueueDefaultRejects: without a queue policy a second deployment is
// refused with an error naming the active one, as CodeDeploy does.
func TestQueueDefaultRejects(t *testing.T) {
	e := queueEnv(t, deploy.QueueNone)
	d1 := e.create("v1")
	_, err := e.exec.CreateDeployment(e.ctx, deploy.DeploymentInput{ApplicationName: "shop", GroupName: "prod", Revision: rev("v2")})
	var ae *deploy.ActiveDeploymentError
	if !errors.As(err, &ae) || ae.DeploymentID != d1.ID || !strings.Contains(err.Error(), d1.ID) {
		t.Fatalf("second CreateDeployment = %v; want an *ActiveDeploymentError naming %s", err, d1.ID)
	}
	if _, err := deploy.New(e.mem, e.fleet.Platform(), func(o *deploy.Options) { o.Queue = "LIFO" }); !errors.Is(err, deploy.ErrInvalidInput) || !strings.Contains(err.Error(), "Options.Queue") {
		t.Errorf("New with Queue LIFO = %v; want ErrInvalidInput naming Options.Queue", err)
	}
}

// TestQueueFIFO: deployments created while the group is busy are Queued,
// and run one after the other, oldest first, when the active one ends;
// each takes the revision its predecessor left as its previous revision.
func TestQueueFIFO(t *testing.T) {
	e := queueEnv(t, deploy.QueueFIFO)
	d1 := e.create("v1")
	d2 := e.create("v2")
	d3 := e.create("v3")
	if d1.Status != deploy.StatusCreated || d2.Status != deploy.StatusQueued || d3.Status != deploy.StatusQueued {
		t.Fatalf("statuses %s %s %s; want Created Queued Queued", d1.Status, d2.Status, d3.Status)
	}
	if _, err := e.exec.Run(e.ctx, d2.ID); !errors.Is(err, deploy.ErrQueued) {
		t.Errorf("Run of a queued deployment = %v; want ErrQueued", err)
	}
	if _, err := e.exec.Run(e.ctx, d1.ID); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{d1.ID, d2.ID, d3.ID} {
		if got := e.get(id); got.Status != deploy.StatusSucceeded {
			t.Errorf("%s is %s; want Succeeded", id, got.Status)
		}
	}
	if got, want := started(e.rec), []string{d1.ID, d2.ID, d3.ID}; !slices.Equal(got, want) {
		t.Errorf("started %v; want %v", got, want)
	}
	if got := e.rec.Statuses(d2.ID); !slices.Equal(got, []deploy.DeploymentStatus{deploy.StatusQueued, deploy.StatusCreated, deploy.StatusInProgress, deploy.StatusSucceeded}) {
		t.Errorf("d2 went %v", got)
	}
	if p := e.get(d3.ID).PreviousRevision; p == nil || p.Key() != rev("v2").Key() {
		t.Errorf("d3's previous revision is %v; want v2, which d2 left", p)
	}
	if got := e.groupRevision(); got != rev("v3").Key() {
		t.Errorf("group revision %s; want v3", got)
	}
}

// TestQueueRefreshesHealth: a queued deployment starts with the health its
// predecessor left, not the health at its creation: a target that failed
// in between starts Unhealthy.
func TestQueueRefreshesHealth(t *testing.T) {
	e := queueEnv(t, deploy.QueueFIFO)
	e.seed(nil)
	d1 := e.create("v1")
	d2 := e.create("v2")
	if got := e.targets(d2.ID)["i-002"].InitialInstanceHealth; got != "Healthy" {
		t.Fatalf("i-002 of d2 starts %s before d1 ran; want Healthy", got)
	}
	e.fleet.Script("i-002", target.ValidateService, targettest.Fail(target.CodeScriptFailed, "health check failed"))
	if _, err := e.exec.Run(e.ctx, d1.ID); err != nil {
		t.Fatal(err)
	}
	if got := e.targets(d2.ID)["i-002"].InitialInstanceHealth; got != "Unhealthy" {
		t.Errorf("i-002 of d2 started %s; want Unhealthy, as d1 left it", got)
	}
}

// TestQueueSupersede: a newer queued deployment ends the older queued ones
// Stopped, naming it; only it runs after the active one.
func TestQueueSupersede(t *testing.T) {
	e := queueEnv(t, deploy.QueueSupersede)
	d1 := e.create("v1")
	d2 := e.create("v2")
	d3 := e.create("v3")
	d4 := e.create("v4")
	for _, c := range [][2]string{{d2.ID, d3.ID}, {d3.ID, d4.ID}} {
		got := e.get(c[0])
		if got.Status != deploy.StatusStopped || !strings.Contains(got.ErrorInformation.Message, c[1]) {
			t.Errorf("%s is %s (%q); want Stopped naming its successor %s", c[0], got.Status, got.ErrorInformation.Message, c[1])
		}
	}
	if d4.Status != deploy.StatusQueued {
		t.Fatalf("d4 is %s; want Queued", d4.Status)
	}
	if _, err := e.exec.Run(e.ctx, d1.ID); err != nil {
		t.Fatal(err)
	}
	if got, want := started(e.rec), []string{d1.ID, d4.ID}; !slices.Equal(got, want) {
		t.Errorf("started %v; want %v", got, want)
	}
	if got := e.groupRevision(); got != rev("v4").Key() {
		t.Errorf("group revision %s; want v4", got)
	}
}

// TestStopQueued: Stop ends a queued deployment Stopped at once; it never
// runs, and the one after it does.
func TestStopQueued(t *testing.T) {
	e := queueEnv(t, deploy.QueueFIFO)
	d1 := e.create("v1")
	d2 := e.create("v2")
	d3 := e.create("v3")
	st, err := e.exec.Stop(e.ctx, d2.ID, deploy.StopOptions{})
	if err != nil || st != deploy.StopSucceeded {
		t.Fatalf("Stop = %v, %v; want StopSucceeded", st, err)
	}
	if got := e.get(d2.ID); got.Status != deploy.StatusStopped || got.ErrorInformation.Code != plan.ManualStop {
		t.Fatalf("d2 is %s %s; want Stopped MANUAL_STOP", got.Status, got.ErrorInformation.Code)
	}
	if _, err := e.exec.Run(e.ctx, d1.ID); err != nil {
		t.Fatal(err)
	}
	if got, want := started(e.rec), []string{d1.ID, d3.ID}; !slices.Equal(got, want) {
		t.Errorf("started %v; want %v", got, want)
	}
	for id, tg := range e.targets(d2.ID) {
		if tg.Status != "Pending" {
			t.Errorf("target %s of the stopped queued deployment is %s; want Pending", id, tg.Status)
		}
	}
}

// TestQueueCrashBeforePromotion: the executor that ends the active
// deployment dies before (or while) it starts the queued one; another
// executor's Supervise starts it — not before the crashed executor's
// lease, or the time it has to start the queue itself (LeaseTTL), is over —
// and runs it to the end.
func TestQueueCrashBeforePromotion(t *testing.T) {
	for _, c := range []struct {
		name string
		// crashAt reports whether a write is where the executor dies.
		crashAt func(d1, d2 string) func(deploytest.Write) bool
	}{
		{"after the end of the active one", func(d1, _ string) func(deploytest.Write) bool {
			return func(w deploytest.Write) bool {
				d, ok := w.Record.(*deploy.Deployment)
				return ok && d.ID == d1 && d.Status.Final()
			}
		}},
		{"after taking the queued one's lease", func(_, d2 string) func(deploytest.Write) bool {
			return func(w deploytest.Write) bool { return w.Op == deploytest.OpAcquireLease && w.Key == d2 }
		}},
		{"after starting the queued one", func(_, d2 string) func(deploytest.Write) bool {
			return func(w deploytest.Write) bool {
				d, ok := w.Record.(*deploy.Deployment)
				return ok && d.ID == d2 && d.Status == deploy.StatusCreated
			}
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := queueEnv(t, deploy.QueueFIFO)
			d1 := e.create("v1")
			d2 := e.create("v2")
			fs, seen := crashAfterFirst(e, c.crashAt(d1.ID, d2.ID))
			a := e.newExecutor(fs)
			if _, err := a.Run(e.ctx, d1.ID); !errors.Is(err, deploytest.ErrCrashed) || !seen() {
				t.Fatalf("Run = %v; want the crash", err)
			}
			if got := e.get(d1.ID); got.Status != deploy.StatusSucceeded {
				t.Fatalf("d1 is %s; want Succeeded", got.Status)
			}
			if got := e.get(d2.ID); got.Status.Final() || got.Status == deploy.StatusInProgress {
				t.Fatalf("d2 is %s; want it not started", got.Status)
			}
			crashed := e.clk.Now()
			b := e.newExecutor(e.mem)
			const interval = 5 * time.Second
			ctx, cancel := context.WithCancel(e.ctx)
			defer cancel()
			supervised := make(chan error, 1)
			go func() {
				supervised <- b.Supervise(ctx, func(o *deploy.SuperviseOptions) { o.Interval = interval })
			}()
			// Move the clock past the crashed executor's lease and two
			// of the supervisor's looks; d2's run then needs no more time.
			for e.clk.Now().Before(crashed.Add(deploy.DefaultLeaseTTL + 2*interval)) {
				if err := e.clk.BlockUntil(e.ctx, 1); err != nil {
					t.Fatal(err)
				}
				e.clk.AdvanceToNext()
			}
			wctx, wcancel := context.WithTimeout(e.ctx, 20*time.Second)
			defer wcancel()
			if err := e.rec.Wait(wctx, func(evs []deploy.Event, _ []deploy.Notification) bool {
				return slices.ContainsFunc(evs, func(ev deploy.Event) bool {
					return ev.DeploymentID == d2.ID && ev.Kind == deploy.EventDeploymentStatus && ev.Status.Final()
				})
			}); err != nil {
				t.Fatalf("d2 did not end: %v", err)
			}
			if got := e.get(d2.ID).Status; got != deploy.StatusSucceeded {
				t.Fatalf("d2 is %s; want Succeeded", got)
			}
			for _, ev := range e.rec.Events() {
				if ev.DeploymentID == d2.ID && ev.Status == deploy.StatusInProgress && ev.Time.Sub(crashed) < deploy.DefaultLeaseTTL {
					t.Errorf("d2 started %s after the crash; want the supervisor to wait out LeaseTTL", ev.Time.Sub(crashed))
				}
			}
			cancel()
			if err := <-supervised; !errors.Is(err, context.Canceled) {
				t.Errorf("Supervise = %v", err)
			}
			if got := e.groupRevision(); got != rev("v2").Key() {
				t.Errorf("group revision %s; want v2", got)
			}
		})
	}
}

// Test64ConcurrentCreators: 64 executors create a deployment of one group
// at once, with FIFO: one is Created, 63 Queued; running the first runs
// all, one at a time, in queue order.
func Test64ConcurrentCreators(t *testing.T) {
	e := queueEnv(t, deploy.QueueFIFO)
	const n = 64
	ds := make([]*deploy.Deployment, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		x := e.newExecutor(e.mem)
		wg.Go(func() {
			ds[i], errs[i] = x.CreateDeployment(e.ctx, deploy.DeploymentInput{ApplicationName: "shop", GroupName: "prod", Revision: rev(fmt.Sprintf("v%d", i))})
		})
	}
	wg.Wait()
	var first string
	queued := 0
	for i := range n {
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
		switch ds[i].Status {
		case deploy.StatusCreated:
			if first != "" {
				t.Fatalf("%s and %s are both Created", first, ds[i].ID)
			}
			first = ds[i].ID
		case deploy.StatusQueued:
			queued++
		default:
			t.Fatalf("%s is %s", ds[i].ID, ds[i].Status)
		}
	}
	if first == "" || queued != n-1 {
		t.Fatalf("one Created and %d Queued; want 1 and %d", queued, n-1)
	}
	list, err := e.store.ListDeployments(e.ctx, "shop", "prod", deploy.StatusQueued)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{first}
	for i := len(list) - 1; i >= 0; i-- {
		want = append(want, list[i].ID)
	}
	if _, err := e.exec.Run(e.ctx, first); err != nil {
		t.Fatal(err)
	}
	if got := started(e.rec); !slices.Equal(got, want) {
		t.Errorf("started in order %v; want the queue's %v", got, want)
	}
	active := map[string]bool{}
	for _, ev := range e.rec.Events() {
		if ev.Kind != deploy.EventDeploymentStatus {
			continue
		}
		switch {
		case ev.Status == deploy.StatusInProgress:
			active[ev.DeploymentID] = true
			if len(active) > 1 {
				t.Fatalf("%d deployments in progress at once", len(active))
			}
		case ev.Status.Final():
			delete(active, ev.DeploymentID)
		}
	}
	all, _ := e.store.ListDeployments(e.ctx, "shop", "prod", deploy.StatusSucceeded)
	if len(all) != n {
		t.Errorf("%d Succeeded; want %d", len(all), n)
	}
}

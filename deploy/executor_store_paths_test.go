package deploy_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fleetdeploy/fleetdeploy/deploy"
	"github.com/fleetdeploy/fleetdeploy/deploy/deploytest"
	"github.com/fleetdeploy/fleetdeploy/target"
	"github.com/fleetdeploy/fleetdeploy/target/targettest"
)

// The executor talks to every store through deploy.Store, and uses the
// optional store interfaces (TargetUpdaterAt, InstanceBatchGetter) when the store implements them. A MemoryStore does;
// seen only through deploy.Store (plainStore) it does not. These tests run
// the same deployments both ways and compare everything stored, and check
// that the optional methods are called, with right positions.

// storePath makes the store the executor is given from the MemoryStore
// that holds the state.
type storePath struct {
	name string
	wrap func(*deploy.MemoryStore) deploy.Store
}

var storePaths = []storePath{
	{"optional interfaces", func(s *deploy.MemoryStore) deploy.Store { return s }},
	{"deploy.Store only", func(s *deploy.MemoryStore) deploy.Store { return plainStore{s} }},
}

// dumpStore writes out everything stored about group shop/prod: its
// revision, every deployment, every target with its events, and every
// instance record.
func dumpStore(t *testing.T, s deploy.Store) string {
	t.Helper()
	ctx := context.Background()
	var b strings.Builder
	g, err := s.GetGroup(ctx, "shop", "prod")
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(&b, "group v%d revision %v last success %+v\n", g.Version, g.TargetRevision, g.LastSuccessfulDeployment)
	ds, err := s.ListDeployments(ctx, "shop", "prod")
	if err != nil {
		t.Fatal(err)
	}
	slices.SortFunc(ds, func(a, b deploy.Deployment) int { return strings.Compare(a.ID, b.ID) })
	for _, d := range ds {
		fmt.Fprintf(&b, "deployment %s v%d %s %+v %+v start %s end %s rollback %+v related %+v\n", d.ID, d.Version, d.Status,
			d.ErrorInformation, d.Overview, d.StartTime, d.CompleteTime, d.RollbackInfo, d.RelatedDeployments)
		for tg, err := range deploy.AllTargets(ctx, s, d.ID) {
			if err != nil {
				t.Fatal(err)
			}
			fmt.Fprintf(&b, "  %s %+v %s %s %s/%s v%d at %s:", tg.TargetID, tg.Target, tg.Label, tg.Status,
				tg.InitialInstanceHealth, tg.InitialRevisionHealth, tg.Version, tg.LastUpdated)
			for _, ev := range tg.LifecycleEvents {
				fmt.Fprintf(&b, " %s:%s[%s..%s]", ev.Name, ev.Status, ev.StartTime.Format("15:04:05.000"), ev.EndTime.Format("15:04:05.000"))
				if ev.Diagnostics != nil {
					fmt.Fprintf(&b, "%+v", *ev.Diagnostics)
				}
			}
			b.WriteString("\n")
		}
	}
	recs, err := s.GetInstances(ctx, g.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		fmt.Fprintf(&b, "instance %s %s %v v%d\n", r.TargetID, r.InstanceHealth, r.Revision, r.Version)
	}
	return b.String()
}

// sameDumps reports the lines in which two dumps differ.
func sameDumps(t *testing.T, a, b, aName, bName string) {
	t.Helper()
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	if len(al) != len(bl) {
		t.Errorf("%s stored %d lines, %s %d", aName, len(al), bName, len(bl))
	}
	n := 0
	for i := range min(len(al), len(bl)) {
		if al[i] != bl[i] && n < 10 {
			n++
			t.Errorf("line %d:\n%s: %s\n%s: %s", i, aName, al[i], bName, bl[i])
		}
	}
	if len(al) < 3 {
		t.Errorf("%s stored nearly nothing:\n%s", aName, a)
	}
}

// sequentialIDs names new deployments d-1, d-2, …, so that two runs name
// theirs alike.
func sequentialIDs(o *deploy.Options) {
	var n atomic.Int64
	o.NewID = func() string { return fmt.Sprintf("d-%d", n.Add(1)) }
}

func TestStorePathsStoreTheSame(t *testing.T) {
	scenarios := []struct {
		name string
		run  func(t *testing.T, p storePath) string
	}{
		{"in place, failures and instance records over three deployments", func(t *testing.T, p storePath) string {
			e := newEnv(t, 40, "CodeDeployDefault.HalfAtATime", nil, sequentialIDs)
			e.seed(map[string]string{"i-001": "Unhealthy", "i-002": "Healthy/Old", "i-003": "Healthy/Unknown", "i-004": "Unhealthy"})
			e.exec = e.newExecutor(p.wrap(e.mem))
			for k, v := range []string{"v1", "v2", "v3"} {
				for i := range 40 {
					if i%(k+3) == 1 {
						e.fleet.Script(fmt.Sprintf("i-%03d", i), target.AfterInstall, targettest.Fail(target.CodeScriptFailed, "exit 1").Once())
					}
				}
				e.deploy(v)
			}
			return dumpStore(t, e.mem)
		}},
		{"blue/green: install, reroute fails, rollback", func(t *testing.T, p storePath) string {
			e, prov := bgEnv(t, deploy.ActionContinueDeployment, func(g *deploy.Group) {
				g.AutoRollbackConfiguration = deploy.AutoRollbackConfiguration{Enabled: true, Events: []deploy.AutoRollbackEvent{deploy.AutoRollbackDeploymentFailure}}
				g.BlueGreenDeploymentConfiguration.TerminateBlueInstancesOnDeploymentSuccess.Action = deploy.InstanceActionKeepAlive
			})
			e.seed(nil)
			platform := e.fleet.Platform()
			platform.Provisioner = prov
			x, err := deploy.New(p.wrap(e.mem), platform, func(o *deploy.Options) {
				o.Clock, o.Observer, o.Notifiers = e.clk, e.rec, []deploy.Notifier{e.rec}
				sequentialIDs(o)
			})
			if err != nil {
				t.Fatal(err)
			}
			e.exec = x
			d := e.create("v1")
			for i := range 4 {
				e.fleet.Script(fmt.Sprintf("i-%03d-green-%s", i, d.ID), target.AfterAllowTraffic, targettest.Fail(target.CodeScriptFailed, "smoke test failed"))
			}
			// Nothing waits: the clock stands still, and every time stored
			// is the same in every run.
			ctx, cancel := context.WithTimeout(e.ctx, time.Minute)
			defer cancel()
			got, err := e.exec.Run(ctx, d.ID)
			if err != nil || got.Status != deploy.StatusFailed || got.RollbackInfo.RollbackDeploymentID == "" {
				t.Fatalf("Run = %s %+v, %v; want Failed and rolled back", got.Status, got.RollbackInfo, err)
			}
			return dumpStore(t, e.mem)
		}},
		{"blue/green stopped in its ready wait, resumed, continued", func(t *testing.T, p storePath) string {
			e, prov := bgEnv(t, deploy.ActionStopDeployment, nil)
			platform := e.fleet.Platform()
			platform.Provisioner = prov
			executor := func(s deploy.Store) *deploy.Executor {
				x, err := deploy.New(s, platform, func(o *deploy.Options) {
					o.Clock, o.Observer = e.clk, e.rec
					sequentialIDs(o)
				})
				if err != nil {
					t.Fatal(err)
				}
				return x
			}
			e.exec = executor(e.mem)
			d := e.create("v1")
			// The first executor runs it until it is Ready and is then
			// stopped; the path's executor loads it — the replacements
			// installed, their events listed alike — and reroutes.
			ctx, stop := context.WithCancel(e.ctx)
			done := make(chan error, 1)
			go func() { _, err := e.exec.Run(ctx, d.ID); done <- err }()
			waitStatus(t, e, d.ID, deploy.StatusReady)
			stop()
			if err := <-done; err == nil {
				t.Fatal("the stopped run returned no error")
			}
			// The replacements reroute at once: each one's first event
			// waits for all four to start.
			var arrived atomic.Int32
			all := make(chan struct{})
			e.fleet.OnCall(func(ctx context.Context, c targettest.Call) error {
				if c.Event != target.BeforeAllowTraffic {
					return nil
				}
				if arrived.Add(1) == 4 {
					close(all)
				}
				select {
				case <-all:
					return nil
				case <-ctx.Done():
					return ctx.Err()
				}
			})
			e.exec = executor(p.wrap(e.mem))
			if err := e.exec.Continue(e.ctx, d.ID, deploy.ReadyWait); err != nil {
				t.Fatal(err)
			}
			resumed := make(chan result, 1)
			go func() { got, err := e.exec.Resume(e.ctx, d.ID); resumed <- result{got, err} }()
			waitStatus(t, e, d.ID, deploy.StatusBaking)
			if err := e.exec.Continue(e.ctx, d.ID, deploy.TerminationWait); err != nil {
				t.Fatal(err)
			}
			if res := <-resumed; res.err != nil || res.d.Status != deploy.StatusSucceeded {
				t.Fatalf("Resume = %s %+v, %v", res.d.Status, res.d.ErrorInformation, res.err)
			}
			return dumpStore(t, e.mem)
		}},
		{"crash half way, then resume", func(t *testing.T, p storePath) string {
			e := newEnv(t, 30, "CodeDeployDefault.OneAtATime", nil, sequentialIDs)
			e.seed(map[string]string{"i-004": "Unhealthy", "i-011": "Healthy/Old"})
			e.fleet.Script("i-020", target.ValidateService, targettest.Fail(target.CodeScriptFailed, "health check failed"))
			d := e.create("v1")
			// The first run writes through a FaultStore (deploy.Store
			// only) and dies at its 31st write; the resume is the path's.
			e.exec = e.newExecutor(deploytest.CrashAfter(e.mem, 30))
			if _, err := e.exec.Run(e.ctx, d.ID); err == nil {
				t.Fatal("the run survived its store's crash")
			}
			e.clk.Advance(deploy.DefaultLeaseTTL) // the crashed process's lease expires
			e.exec = e.newExecutor(p.wrap(e.mem))
			if _, err := e.exec.Resume(e.ctx, d.ID); err != nil {
				t.Fatal(err)
			}
			return dumpStore(t, e.mem)
		}},
	}
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) {
			// Each path twice: the dumps must not depend on the run, or
			// the comparison would prove nothing.
			dumps := make([]string, 0, 2*len(storePaths))
			for _, p := range storePaths {
				for range 2 {
					dumps = append(dumps, sc.run(t, p))
				}
			}
			sameDumps(t, dumps[0], dumps[1], storePaths[0].name, storePaths[0].name+", again")
			sameDumps(t, dumps[0], dumps[2], storePaths[0].name, storePaths[1].name)
			sameDumps(t, dumps[2], dumps[3], storePaths[1].name, storePaths[1].name+", again")
		})
	}
}

// optionalCounter is a MemoryStore that counts the calls of its optional
// methods, and of its fenced views', and checks the positions
// UpdateTargetAt is given.
type optionalCounter struct {
	*deploy.MemoryStore
	calls
}

type calls struct {
	lists, updates, updatesAt, badIndex, instanceReads atomic.Int64
}

func (s *optionalCounter) Fenced(l deploy.Lease) deploy.Store {
	return &fencedCounter{Store: s.MemoryStore.Fenced(l), mem: s.MemoryStore, c: &s.calls}
}

func (s *optionalCounter) ListTargets(ctx context.Context, id, token string, limit int) ([]deploy.DeploymentTarget, string, error) {
	s.lists.Add(1)
	return s.MemoryStore.ListTargets(ctx, id, token, limit)
}

func (s *optionalCounter) UpdateTarget(ctx context.Context, t *deploy.DeploymentTarget) error {
	s.updates.Add(1)
	return s.MemoryStore.UpdateTarget(ctx, t)
}

func (s *optionalCounter) UpdateTargetAt(ctx context.Context, index int, t *deploy.DeploymentTarget) error {
	s.checkIndex(ctx, s.MemoryStore, index, t)
	return s.MemoryStore.UpdateTargetAt(ctx, index, t)
}

func (s *optionalCounter) GetInstancesByID(ctx context.Context, group string, ids []string) ([]deploy.InstanceRecord, error) {
	s.instanceReads.Add(1)
	return s.MemoryStore.GetInstancesByID(ctx, group, ids)
}

// checkIndex counts an UpdateTargetAt, and counts it bad unless index is
// t's position.
func (c *calls) checkIndex(ctx context.Context, s deploy.Store, index int, t *deploy.DeploymentTarget) {
	c.updatesAt.Add(1)
	page, _, err := s.ListTargets(ctx, t.DeploymentID, "", index+1)
	if err != nil || index < 0 || index >= len(page) || page[index].TargetID != t.TargetID {
		c.badIndex.Add(1)
	}
}

// fencedCounter is an optionalCounter's fenced view.
type fencedCounter struct {
	deploy.Store
	mem *deploy.MemoryStore
	c   *calls
}

func (f *fencedCounter) ListTargets(ctx context.Context, id, token string, limit int) ([]deploy.DeploymentTarget, string, error) {
	f.c.lists.Add(1)
	return f.Store.ListTargets(ctx, id, token, limit)
}

func (f *fencedCounter) UpdateTarget(ctx context.Context, t *deploy.DeploymentTarget) error {
	f.c.updates.Add(1)
	return f.Store.UpdateTarget(ctx, t)
}

func (f *fencedCounter) UpdateTargetAt(ctx context.Context, index int, t *deploy.DeploymentTarget) error {
	f.c.checkIndex(ctx, f.mem, index, t)
	return f.Store.(deploy.TargetUpdaterAt).UpdateTargetAt(ctx, index, t)
}

func (f *fencedCounter) GetInstancesByID(ctx context.Context, group string, ids []string) ([]deploy.InstanceRecord, error) {
	f.c.instanceReads.Add(1)
	return f.Store.(deploy.InstanceBatchGetter).GetInstancesByID(ctx, group, ids)
}

// The executor uses the optional interfaces of a store that implements
// them: it writes every Server
// target through UpdateTargetAt at its position (the replacements of a
// blue/green deployment too, put after the originals), and reads the
// instance records of its targets only.
func TestExecutorUsesOptionalStoreInterfaces(t *testing.T) {
	t.Run("in place", func(t *testing.T) {
		e := newEnv(t, 25, "CodeDeployDefault.HalfAtATime", nil)
		e.seed(nil)
		s := &optionalCounter{MemoryStore: e.mem}
		e.exec = e.newExecutor(s)
		e.fleet.Script("i-007", target.Install, targettest.Fail(target.CodeScriptFailed, "exit 1"))
		d := e.deploy("v1")
		if d.Overview.Succeeded != 24 || d.Overview.Failed != 1 {
			t.Fatalf("overview %+v; want 24 succeeded, 1 failed", d.Overview)
		}
		// Two writes per target: its start, and its end.
		if got := s.updatesAt.Load(); got != 2*25 {
			t.Errorf("%d UpdateTargetAt calls; want 50", got)
		}
		if got := s.badIndex.Load(); got != 0 {
			t.Errorf("%d UpdateTargetAt calls named a position other than the target's", got)
		}
		if got := s.updates.Load(); got != 0 {
			t.Errorf("%d UpdateTarget calls; want every target write through UpdateTargetAt", got)
		}
		if got := s.lists.Load(); got != 1 {
			t.Errorf("%d ListTargets calls; want 1: the run loads every target in one page", got)
		}
		// CreateDeployment reads the initial health, the end of the run
		// the records to update.
		if got := s.instanceReads.Load(); got != 2 {
			t.Errorf("%d GetInstancesByID calls; want 2", got)
		}
	})
	t.Run("blue/green", func(t *testing.T) {
		e, prov := bgEnv(t, deploy.ActionContinueDeployment, nil)
		s := &optionalCounter{MemoryStore: e.mem}
		platform := e.fleet.Platform()
		platform.Provisioner = prov
		// Every event's end written, so that the writes do not depend on
		// when the clock moves. advanceWhile with one waiter moves the
		// clock whenever any timer is pending (the runner's poll always
		// is) without waiting for the workers, so virtual time runs ahead
		// of them: the time limits, which would cut events short, are off.
		x, err := deploy.New(s, platform, deploy.NoTimeLimits, func(o *deploy.Options) { o.Clock, o.RecordInterval = e.clk, -1 })
		if err != nil {
			t.Fatal(err)
		}
		d, err := x.CreateDeployment(e.ctx, deploy.DeploymentInput{ApplicationName: "shop", GroupName: "prod", Revision: rev("v1")})
		if err != nil {
			t.Fatal(err)
		}
		res := advanceWhile(e.ctx, e.clk, 1, func() result { got, err := x.Run(e.ctx, d.ID); return result{got, err} })
		if res.err != nil || res.d.Status != deploy.StatusSucceeded {
			t.Fatalf("Run = %s %+v, %v", res.d.Status, res.d.ErrorInformation, res.err)
		}
		// Four replacements install (a start and 7 events) and reroute (a
		// start and 3 events); four originals block traffic (a start and 3
		// events).
		if got := s.updatesAt.Load(); got != 4*(8+4)+4*4 {
			t.Errorf("%d UpdateTargetAt calls; want 64", got)
		}
		if got := s.badIndex.Load(); got != 0 {
			t.Errorf("%d UpdateTargetAt calls named a position other than the target's", got)
		}
	})
}

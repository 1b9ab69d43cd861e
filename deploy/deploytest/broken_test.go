package deploytest_test

import (
	"context"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/fleetdeploy/fleetdeploy/deploy"
	"github.com/fleetdeploy/fleetdeploy/deploy/deploytest"
)

// The suite must have teeth: each of these stores breaks one rule of the
// contract, and the suite must fail the check for that rule.

// aliasing keeps the caller's group and hands it out again.
type aliasing struct {
	deploy.Store
	last *deploy.Group
}

func (s *aliasing) CreateGroup(ctx context.Context, g *deploy.Group) error {
	err := s.Store.CreateGroup(ctx, g)
	if err == nil {
		s.last = g
	}
	return err
}

func (s *aliasing) GetGroup(ctx context.Context, app, name string) (*deploy.Group, error) {
	if s.last != nil {
		return s.last, nil
	}
	return s.Store.GetGroup(ctx, app, name)
}

// blind overwrites whatever version is stored.
type blind struct{ deploy.Store }

func (s blind) UpdateDeployment(ctx context.Context, d *deploy.Deployment) error {
	if cur, err := s.Store.GetDeployment(ctx, d.ID); err == nil {
		d.Version = cur.Version
	}
	return s.Store.UpdateDeployment(ctx, d)
}

// deaf ignores the caller's context when writing targets.
type deaf struct{ deploy.Store }

func (s deaf) PutTargets(_ context.Context, id string, ts []deploy.DeploymentTarget) error {
	return s.Store.PutTargets(context.Background(), id, ts)
}

// sorted lists targets by ID instead of in put order.
type sorted struct{ deploy.Store }

func (s sorted) ListTargets(ctx context.Context, id, token string, limit int) ([]deploy.DeploymentTarget, string, error) {
	page, next, err := s.Store.ListTargets(ctx, id, token, limit)
	slices.SortFunc(page, func(a, b deploy.DeploymentTarget) int { return strings.Compare(a.TargetID, b.TargetID) })
	return page, next, err
}

// partial puts targets one at a time and stops at the first error.
type partial struct{ deploy.Store }

func (s partial) PutTargets(ctx context.Context, id string, ts []deploy.DeploymentTarget) error {
	for i := range ts {
		if err := s.Store.PutTargets(ctx, id, ts[i:i+1]); err != nil {
			return err
		}
	}
	return nil
}

// lossy keeps deployment times to the second.
type lossy struct{ deploy.Store }

func (s lossy) GetDeployment(ctx context.Context, id string) (*deploy.Deployment, error) {
	d, err := s.Store.GetDeployment(ctx, id)
	if d != nil {
		d.CreateTime = d.CreateTime.Truncate(time.Second)
	}
	return d, err
}

// hintTrusting writes the record at UpdateTargetAt's index without
// checking it is the target's.
type hintTrusting struct{ *deploy.MemoryStore }

func (s hintTrusting) UpdateTargetAt(ctx context.Context, index int, t *deploy.DeploymentTarget) error {
	page, _, err := s.ListTargets(ctx, t.DeploymentID, "", index+1)
	if err != nil || index < 0 || index >= len(page) {
		return s.UpdateTarget(ctx, t)
	}
	c := t.Clone()
	c.TargetID, c.Target.ID, c.Version = page[index].TargetID, page[index].TargetID, page[index].Version
	err = s.UpdateTarget(ctx, &c)
	t.Version = c.Version
	return err
}

// unfencedAt's fenced views write UpdateTargetAt through the store itself.
type unfencedAt struct{ *deploy.MemoryStore }

func (s unfencedAt) Fenced(l deploy.Lease) deploy.Store {
	return unfencedAtView{Store: s.MemoryStore.Fenced(l), raw: s.MemoryStore}
}

type unfencedAtView struct {
	deploy.Store
	raw *deploy.MemoryStore
}

func (v unfencedAtView) UpdateTargetAt(ctx context.Context, index int, t *deploy.DeploymentTarget) error {
	return v.raw.UpdateTargetAt(ctx, index, t)
}

// caching hands out the records of its last LoadTargets again.
type caching struct {
	*deploy.MemoryStore
	last []deploy.DeploymentTarget
}

func (s *caching) LoadTargets(ctx context.Context, id string, dst []deploy.DeploymentTarget) ([]deploy.DeploymentTarget, error) {
	if s.last == nil {
		ts, err := s.MemoryStore.LoadTargets(ctx, id, nil)
		if err != nil {
			return dst, err
		}
		s.last = ts
	}
	return append(dst, s.last...), nil
}

// byTargetID returns GetInstancesByID's records in the order of
// GetInstances.
type byTargetID struct{ *deploy.MemoryStore }

func (s byTargetID) GetInstancesByID(ctx context.Context, group string, ids []string) ([]deploy.InstanceRecord, error) {
	all, err := s.GetInstances(ctx, group)
	if err != nil {
		return nil, err
	}
	out := make([]deploy.InstanceRecord, len(ids))
	for k, r := range all {
		if k < len(out) && slices.Contains(ids, r.TargetID) {
			out[k] = r
		}
	}
	return out, nil
}

// plainFenced implements the optional interfaces and hides them in its
// fenced views.
type plainFenced struct{ *deploy.MemoryStore }

func (s plainFenced) Fenced(l deploy.Lease) deploy.Store {
	return struct{ deploy.Store }{s.MemoryStore.Fenced(l)}
}

var brokenStores = map[string]struct {
	wrap      func(deploy.Store) deploy.Store
	wantFails []string
}{
	"aliasing": {func(s deploy.Store) deploy.Store { return &aliasing{Store: s} }, []string{"Isolation/Inputs", "Isolation/Outputs"}},
	"blind":    {func(s deploy.Store) deploy.Store { return blind{s} }, []string{"Deployment/UpdateCompareAndSwap"}},
	"deaf":     {func(s deploy.Store) deploy.Store { return deaf{s} }, []string{"Context/CancelledWritesNothing"}},
	"sorted":   {func(s deploy.Store) deploy.Store { return sorted{s} }, []string{"Target/ListOrderAndPaging"}},
	"partial":  {func(s deploy.Store) deploy.Store { return partial{s} }, []string{"Target/PutIsAllOrNothing"}},
	"lossy":    {func(s deploy.Store) deploy.Store { return lossy{s} }, []string{"Deployment/RoundTrip"}},
	"hintTrusting": {func(s deploy.Store) deploy.Store { return hintTrusting{s.(*deploy.MemoryStore)} },
		[]string{"Optional/UpdateTargetAt"}},
	"unfencedAt": {func(s deploy.Store) deploy.Store { return unfencedAt{s.(*deploy.MemoryStore)} },
		[]string{"Optional/UpdateTargetAt"}},
	"caching": {func(s deploy.Store) deploy.Store { return &caching{MemoryStore: s.(*deploy.MemoryStore)} },
		[]string{"Optional/LoadTargets"}},
	"byTargetID": {func(s deploy.Store) deploy.Store { return byTargetID{s.(*deploy.MemoryStore)} },
		[]string{"Optional/GetInstancesByID"}},
	"plainFenced": {func(s deploy.Store) deploy.Store { return plainFenced{s.(*deploy.MemoryStore)} },
		[]string{"Optional/LoadTargets", "Optional/UpdateTargetAt", "Optional/GetInstancesByID"}},
}

// TestBrokenStoreHelper runs the suite against the broken store named by
// DEPLOYTEST_BROKEN, in a child process started by TestSuiteCatchesBrokenStores.
// Without the variable it has nothing to do.
func TestBrokenStoreHelper(t *testing.T) {
	b, ok := brokenStores[os.Getenv("DEPLOYTEST_BROKEN")]
	if !ok {
		return
	}
	deploytest.TestStore(t, func(*testing.T) deploy.Store { return b.wrap(deploy.NewMemoryStore()) })
}

func TestSuiteCatchesBrokenStores(t *testing.T) {
	for name, b := range brokenStores {
		t.Run(name, func(t *testing.T) {
			cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^TestBrokenStoreHelper$", "-test.v")
			cmd.Env = append(os.Environ(), "DEPLOYTEST_BROKEN="+name)
			out, err := cmd.CombinedOutput()
			if err == nil {
				t.Fatalf("the suite passed a store that breaks the contract:\n%s", out)
			}
			for _, check := range b.wantFails {
				if !strings.Contains(string(out), "--- FAIL: TestBrokenStoreHelper/"+check+" ") {
					t.Errorf("check %s did not fail:\n%s", check, out)
				}
			}
		})
	}
}

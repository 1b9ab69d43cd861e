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

// leaseless has no leases to speak of: every AcquireLease succeeds, and
// its fenced views are the store itself.
type leaseless struct{ deploy.Store }

func (s leaseless) AcquireLease(_ context.Context, id, owner string, now time.Time, ttl time.Duration) (deploy.Lease, error) {
	return deploy.Lease{DeploymentID: id, Owner: owner, Token: 1, Expires: now.Add(ttl)}, nil
}

func (s leaseless) Fenced(deploy.Lease) deploy.Store { return s }

// unfenced keeps leases, but its fenced views are the store itself.
type unfenced struct{ deploy.Store }

func (s unfenced) Fenced(deploy.Lease) deploy.Store { return s }

// oneHandle makes a storage of one store wrapping a MemoryStore: every
// handle is that store.
func oneHandle(wrap func(deploy.Store) deploy.Store) func() deploytest.Opener {
	return func() deploytest.Opener {
		s := wrap(deploy.NewMemoryStore())
		return func() deploy.Store { return s }
	}
}

var fencedChecks = []string{
	"Lease/Fenced/CreateApplication", "Lease/Fenced/CreateGroup", "Lease/Fenced/UpdateGroup",
	"Lease/Fenced/CreateDeployment", "Lease/Fenced/UpdateDeployment", "Lease/Fenced/PutTargets",
	"Lease/Fenced/UpdateTarget", "Lease/Fenced/PutInstances",
}

// brokenStores are the stores above, each with the checks it must fail.
var brokenStores = map[string]struct {
	storage   func() deploytest.Opener // a fresh storage
	wantFails []string
}{
	"aliasing": {storage: oneHandle(func(s deploy.Store) deploy.Store { return &aliasing{Store: s} }),
		wantFails: []string{"Isolation/Inputs", "Isolation/Outputs"}},
	"blind": {storage: oneHandle(func(s deploy.Store) deploy.Store { return blind{s} }),
		wantFails: []string{"Deployment/UpdateCompareAndSwap"}},
	"deaf": {storage: oneHandle(func(s deploy.Store) deploy.Store { return deaf{s} }),
		wantFails: []string{"Context/CancelledWritesNothing"}},
	"sorted": {storage: oneHandle(func(s deploy.Store) deploy.Store { return sorted{s} }),
		wantFails: []string{"Target/ListOrderAndPaging"}},
	"partial": {storage: oneHandle(func(s deploy.Store) deploy.Store { return partial{s} }),
		wantFails: []string{"Target/PutIsAllOrNothing"}},
	"lossy": {storage: oneHandle(func(s deploy.Store) deploy.Store { return lossy{s} }),
		wantFails: []string{"Deployment/RoundTrip"}},
	"leaseless": {storage: oneHandle(func(s deploy.Store) deploy.Store { return leaseless{s} }),
		wantFails: append([]string{"Lease/Acquire", "Lease/HeldUntilExpiry", "Lease/Renew", "Lease/Release",
			"Lease/ExpiredLeases"}, fencedChecks...)},
	"unfenced": {storage: oneHandle(func(s deploy.Store) deploy.Store { return unfenced{s} }),
		wantFails: fencedChecks},
}

// TestBrokenStoreHelper runs the suite against the broken store named by
// DEPLOYTEST_BROKEN, in a child process started by TestSuiteCatchesBrokenStores.
// Without the variable it has nothing to do.
func TestBrokenStoreHelper(t *testing.T) {
	b, ok := brokenStores[os.Getenv("DEPLOYTEST_BROKEN")]
	if !ok {
		return
	}
	deploytest.TestStore(t, func(*testing.T) deploytest.Opener { return b.storage() })
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

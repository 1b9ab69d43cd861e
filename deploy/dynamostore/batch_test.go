package dynamostore_test

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/smithy-go"
	"github.com/hashicorp/go-multierror"

	"github.com/fleetdeploy/fleetdeploy/deploy"
	"github.com/fleetdeploy/fleetdeploy/deploy/dynamostore"
	"github.com/fleetdeploy/fleetdeploy/health"
)

// largeFleet is the size of the instance fleets of the batch tests: their
// records are packed into buckets, and a fleet this large still takes
// several BatchWriteItem requests.
const largeFleet = 30_000

// largeTargets is the number of targets TestLargePutTargets writes: their
// records are packed into bucket items of about 100 KB, a few hundred,
// which take several BatchWriteItem requests of 25 items; in pages of
// 2,500 when listed.
const largeTargets = 100_000

func fleet(prefix string, n int) []deploy.DeploymentTarget {
	ts := make([]deploy.DeploymentTarget, n)
	for i := range ts {
		// IDs in no sorted order, so that only the put order explains a
		// listing.
		ts[i] = newTarget(fmt.Sprintf("%s-%05d", prefix, (i*7919)%n))
	}
	return ts
}

func instanceRecords(gid string, ts []deploy.DeploymentTarget, h health.InstanceHealth) []deploy.InstanceRecord {
	rs := make([]deploy.InstanceRecord, len(ts))
	for i, t := range ts {
		rs[i] = deploy.InstanceRecord{GroupID: gid, TargetID: t.TargetID, InstanceHealth: h}
	}
	return rs
}

// listAll pages through the deployment's targets and returns their IDs.
func listAll(t *testing.T, s deploy.Store, dep string, limit int) []string {
	t.Helper()
	var ids []string
	token := ""
	for {
		page, next, err := s.ListTargets(t.Context(), dep, token, limit)
		if err != nil {
			t.Fatalf("ListTargets: %v", err)
		}
		for _, p := range page {
			ids = append(ids, p.TargetID)
		}
		if next == "" {
			return ids
		}
		token = next
	}
}

func ids(ts []deploy.DeploymentTarget) []string {
	out := make([]string, len(ts))
	for i, t := range ts {
		out[i] = t.TargetID
	}
	return out
}

// TestLargePutTargets writes a fleet of 100,000 targets through
// BatchWriteItem while DynamoDB (the wrapped client) leaves some requests'
// items unprocessed, which the store must send again after waiting on its
// clock, and throttles some requests, which the SDK's retryer must send
// again; then lists them all, in put order.
func TestLargePutTargets(t *testing.T) {
	start := time.Now()
	client, th := retryingClient(t, "BatchWriteItem", 7)
	api := &faultyAPI{API: client, partialEvery: 3}
	clk, waits := autoClock(t)
	s := open(t, api, newTable(t), func(o *dynamostore.Options) { o.Clock = clk; o.PageSize = 2_500 })
	ctx := t.Context()
	g := fixture(t, s)
	d := newDeployment(g, "d-LARGE", deploy.StatusInProgress)
	if err := s.CreateDeployment(ctx, &d); err != nil {
		t.Fatal(err)
	}
	ts := fleet("i", largeTargets)
	if err := s.PutTargets(ctx, d.ID, ts); err != nil {
		t.Fatalf("PutTargets of %d targets: %v", len(ts), err)
	}
	if n := api.batchWrites.Load(); n < 4 {
		t.Errorf("PutTargets made %d BatchWriteItem calls; want at least 4 (25 packed items each)", n)
	}
	if api.partial.Load() == 0 || waits.Load() == 0 || th.throttled.Load() == 0 {
		t.Errorf("the faults did not happen: %d partial answers, %d backoff waits on the clock, %d throttled requests",
			api.partial.Load(), waits.Load(), th.throttled.Load())
	}
	for i := range ts {
		if ts[i].Version != 1 || ts[i].DeploymentID != d.ID {
			t.Fatalf("PutTargets set targets[%d] to version %d of %q; want 1 of %s", i, ts[i].Version, ts[i].DeploymentID, d.ID)
		}
	}
	t.Logf("PutTargets of %d targets: %v (%d BatchWriteItem calls, %d partly processed, %d throttled, %d waits)",
		largeTargets, time.Since(start), api.batchWrites.Load(), api.partial.Load(), th.throttled.Load(), waits.Load())
	if got := listAll(t, s, d.ID, 0); !slices.Equal(got, ids(ts)) {
		t.Fatalf("ListTargets listed %d targets; want the %d put, in put order", len(got), len(ts))
	}
	if err := s.PutTargets(ctx, d.ID, []deploy.DeploymentTarget{newTarget("new"), ts[largeTargets/2]}); !errors.Is(err, deploy.ErrAlreadyExists) {
		t.Errorf("PutTargets of a target put before: %v; want ErrAlreadyExists", err)
	}
	t.Logf("total %v", time.Since(start))
}

// TestLargePutInstances writes 30,000 instance records through
// BatchWriteItem with faults like TestLargePutTargets' — denser, since
// the records are packed into a few dozen bucket items, a few requests —
// then replaces some of them.
func TestLargePutInstances(t *testing.T) {
	start := time.Now()
	client, th := retryingClient(t, "BatchWriteItem", 2)
	api := &faultyAPI{API: client, partialEvery: 2}
	clk, waits := autoClock(t)
	s := open(t, api, newTable(t), func(o *dynamostore.Options) { o.Clock = clk })
	ctx := t.Context()
	ts := fleet("i", largeFleet)
	recs := instanceRecords("g-1", ts, health.Healthy)
	if err := s.PutInstances(ctx, recs); err != nil {
		t.Fatalf("PutInstances of %d records: %v", len(recs), err)
	}
	if api.partial.Load() == 0 || waits.Load() == 0 || th.throttled.Load() == 0 {
		t.Errorf("the faults did not happen: %d partial answers, %d backoff waits on the clock, %d throttled requests",
			api.partial.Load(), waits.Load(), th.throttled.Load())
	}
	t.Logf("PutInstances of %d records: %v", largeFleet, time.Since(start))
	again := instanceRecords("g-1", ts[:1000], health.Unhealthy)
	if err := s.PutInstances(ctx, again); err != nil {
		t.Fatalf("PutInstances replacing %d records: %v", len(again), err)
	}
	for _, r := range again {
		if r.Version != 2 {
			t.Fatalf("PutInstances set the replaced record %s to Version %d; want 2", r.TargetID, r.Version)
		}
	}
	all, err := s.GetInstances(ctx, "g-1")
	if err != nil {
		t.Fatal(err)
	}
	byTID := func(a, b deploy.InstanceRecord) int { return strings.Compare(a.TargetID, b.TargetID) }
	if len(all) != largeFleet || !slices.IsSortedFunc(all, byTID) {
		t.Fatalf("GetInstances returned %d records; want %d, by target ID", len(all), largeFleet)
	}
	replaced := map[string]bool{}
	for _, r := range again {
		replaced[r.TargetID] = true
	}
	for _, r := range all {
		want := deploy.InstanceRecord{GroupID: "g-1", TargetID: r.TargetID, InstanceHealth: health.Healthy, Version: 1}
		if replaced[r.TargetID] {
			want.InstanceHealth, want.Version = health.Unhealthy, 2
		}
		if r != want {
			t.Fatalf("GetInstances: %+v; want %+v", r, want)
		}
	}
	t.Logf("total %v", time.Since(start))
}

// TestFailedBatchesLeaveNothing makes whole-fleet writes fail half-way
// (after some of their BatchWriteItem requests went through) and checks
// that readers see nothing of them, and that the same calls succeed when
// tried again: their leftovers do not get in the way.
func TestFailedBatchesLeaveNothing(t *testing.T) {
	api := &faultyAPI{API: newClient(t)}
	clk, _ := autoClock(t)
	s := open(t, api, newTable(t), func(o *dynamostore.Options) { o.Clock = clk })
	ctx := t.Context()
	g := fixture(t, s)
	d := newDeployment(g, "d-FAIL", deploy.StatusInProgress)
	if err := s.CreateDeployment(ctx, &d); err != nil {
		t.Fatal(err)
	}
	first := fleet("a", 10)
	if err := s.PutTargets(ctx, d.ID, first); err != nil {
		t.Fatal(err)
	}
	// Packed into bucket items, 25 a request: the records of a large
	// fleet take a few requests, and the second fails.
	more := fleet("b", largeFleet)
	api.set(func(f *faultyAPI) {
		f.failWriteAt, f.failErr = 2, &smithy.GenericAPIError{Code: "InternalServerError", Message: "injected"}
	})
	err := s.PutTargets(ctx, d.ID, more)
	var apiErr smithy.APIError
	if !errors.As(err, &apiErr) || apiErr.ErrorCode() != "InternalServerError" || !strings.Contains(err.Error(), "d-FAIL") {
		t.Errorf("PutTargets failing half-way: %v; want the API error, reachable with errors.As, naming the deployment", err)
	}
	// The requests run in parallel, so the second call may be any of them:
	// a full one of 25 items, or the last, smaller one.
	var list *multierror.Error
	if !errors.As(err, &list) || len(list.Errors) != 1 || !strings.Contains(err.Error(), "writing 30000 targets packed in ") ||
		!regexp.MustCompile(` BatchWriteItem requests: BatchWriteItem of ([1-9]|1[0-9]|2[0-5]) items: `).MatchString(err.Error()) {
		t.Errorf("PutTargets failing half-way: %v; want a *multierror.Error listing the one failed request", err)
	}
	if n := api.batchWrites.Load(); n < 2 {
		t.Fatalf("the failure came after %d BatchWriteItem calls; want 2 (some items written)", n)
	}
	for _, tg := range []deploy.DeploymentTarget{more[0], more[999], more[1999]} {
		if _, err := s.GetTarget(ctx, d.ID, tg.TargetID); !errors.Is(err, deploy.ErrNotFound) {
			t.Errorf("a failed PutTargets left %s visible (GetTarget: %v)", tg.TargetID, err)
		}
	}
	if got := listAll(t, s, d.ID, 0); !slices.Equal(got, ids(first)) {
		t.Errorf("ListTargets after a failed PutTargets listed %d targets; want the %d put before", len(got), len(first))
	}
	for _, tg := range more[:2] {
		tg := tg
		tg.DeploymentID, tg.Version = d.ID, 1
		if err := s.UpdateTarget(ctx, &tg); !errors.Is(err, deploy.ErrNotFound) {
			t.Errorf("UpdateTarget of %s, of a failed PutTargets: %v; want ErrNotFound", tg.TargetID, err)
		}
	}

	// Items DynamoDB never processes fail the call after BatchAttempts
	// attempts.
	api.set(func(f *faultyAPI) { f.neverProcess = true })
	if err := s.PutTargets(ctx, d.ID, more); err == nil || !strings.Contains(err.Error(), "unprocessed after 10 attempts") {
		t.Errorf("PutTargets whose items are never processed: %v; want an error saying so", err)
	}
	api.set(func(f *faultyAPI) { f.neverProcess = false })
	if err := s.PutTargets(ctx, d.ID, more); err != nil {
		t.Fatalf("PutTargets tried again: %v", err)
	}
	if got := listAll(t, s, d.ID, 0); !slices.Equal(got, append(ids(first), ids(more)...)) {
		t.Errorf("ListTargets after the retried PutTargets listed %d targets; want %d, in put order", len(got), len(first)+len(more))
	}

	recs := instanceRecords(g.ID, more, health.Healthy)
	if err := s.PutInstances(ctx, recs[:10]); err != nil {
		t.Fatal(err)
	}
	// A delta's records are packed into bucket items, 25 a request: the
	// records of a large fleet take a few requests, and the second fails.
	api.set(func(f *faultyAPI) { f.failWriteAt, f.failErr = 2, errInjected })
	if err := s.PutInstances(ctx, instanceRecords(g.ID, append(fleet("j", largeFleet), more...), health.Unhealthy)); !errors.Is(err, errInjected) {
		t.Errorf("PutInstances failing half-way: %v; want the injected error", err)
	}
	all, err := s.GetInstances(ctx, g.ID)
	if err != nil || len(all) != 10 {
		t.Fatalf("GetInstances after a failed PutInstances = %d records, %v; want the 10 put before", len(all), err)
	}
	for _, r := range all {
		if r.Version != 1 || r.InstanceHealth != health.Healthy {
			t.Errorf("a failed PutInstances changed %s: %+v", r.TargetID, r)
		}
	}
	if err := s.PutInstances(ctx, recs); err != nil {
		t.Fatalf("PutInstances tried again: %v", err)
	}
	for _, i := range []int{0, 9, 10, 1999} {
		want := int64(1)
		if i < 10 {
			want = 2
		}
		if recs[i].Version != want {
			t.Errorf("record %d after the retried PutInstances: version %d; want %d", i, recs[i].Version, want)
		}
	}
}

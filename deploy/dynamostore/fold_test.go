package dynamostore_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/fleetdeploy/fleetdeploy/deploy"
	"github.com/fleetdeploy/fleetdeploy/deploy/dynamostore"
	"github.com/fleetdeploy/fleetdeploy/health"
)

// checkInstances fails t unless s holds exactly want's records of group
// g-1, read all at once and one by one.
func checkInstances(t *testing.T, s deploy.Store, when string, want map[string]deploy.InstanceRecord) {
	t.Helper()
	ctx := t.Context()
	all, err := s.GetInstances(ctx, "g-1")
	if err != nil || len(all) != len(want) {
		t.Fatalf("%s: GetInstances = %d records, %v; want %d", when, len(all), err, len(want))
	}
	for _, r := range all {
		if r != want[r.TargetID] {
			t.Errorf("%s: GetInstances: %+v; want %+v", when, r, want[r.TargetID])
		}
	}
	tids := slices.Sorted(maps.Keys(want))
	for _, tid := range tids[:min(3, len(tids))] {
		one, err := s.GetInstance(ctx, "g-1", tid)
		if err != nil || *one != want[tid] {
			t.Errorf("%s: GetInstance(%s) = %+v, %v; want %+v", when, tid, one, err, want[tid])
		}
	}
}

// TestInstanceFoldIsPacked: a fold writes the group's records as one
// packed delta — a few bucket items, not one item per record — and
// replaces the deltas it folds, whose items it deletes; every record
// keeps its newest value and version.
func TestInstanceFoldIsPacked(t *testing.T) {
	const n = 2000
	api := &countingAPI{API: newClient(t)}
	s := open(t, api, newTable(t), func(o *dynamostore.Options) { o.MaxDeltas = 2 })
	ctx := t.Context()
	want := map[string]deploy.InstanceRecord{}
	put := func(recs []deploy.InstanceRecord) {
		t.Helper()
		if err := s.PutInstances(ctx, recs); err != nil {
			t.Fatal(err)
		}
		for _, r := range recs {
			want[r.TargetID] = r
		}
	}
	ts := fleet("i", n)
	put(instanceRecords("g-1", ts, health.Healthy))
	put(instanceRecords("g-1", ts[:n/2], health.Unhealthy))
	api.reset()
	// Two deltas are listed: this call folds them.
	put(instanceRecords("g-1", ts[n/4:n/4+10], health.Healthy))
	c, by := api.now(), api.breakdown()
	if c.itemWrites > n/50 {
		t.Errorf("a fold of %d records wrote %d items; want a few packed ones (at most %d):\n%s", n, c.itemWrites, n/50, by)
	}
	if !strings.Contains(by, "BatchWriteItem/delete instg") {
		t.Errorf("the fold deleted no items of the deltas it replaced:\n%s", by)
	}
	if got := want[ts[0].TargetID].Version; got != 2 {
		t.Errorf("%s: version %d; want 2", ts[0].TargetID, got)
	}
	if got := want[ts[n/4].TargetID].Version; got != 3 {
		t.Errorf("%s: version %d; want 3", ts[n/4].TargetID, got)
	}
	if got := want[ts[n-1].TargetID].Version; got != 1 {
		t.Errorf("%s: version %d; want 1", ts[n-1].TargetID, got)
	}
	checkInstances(t, s, "after the fold", want)
	leftovers, err := api.API.Query(ctx, &dynamodb.QueryInput{
		TableName:                 aws.String(s.Table()),
		KeyConditionExpression:    aws.String("pk = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": &types.AttributeValueMemberS{Value: "inst#g-1"}},
	})
	if err != nil || len(leftovers.Items) != 0 {
		t.Errorf("base items: %v, %v; want none (records live in deltas only)", leftovers, err)
	}
}

// foldingAPI runs hook once, before the first read of an instance
// delta's items (Query or BatchGetItem of an instg# key) once armed.
type foldingAPI struct {
	dynamostore.API
	mu   sync.Mutex
	hook func()
}

func (f *foldingAPI) fire(pk string) {
	if !strings.HasPrefix(pk, "instg#") {
		return
	}
	f.mu.Lock()
	h := f.hook
	f.hook = nil
	f.mu.Unlock()
	if h != nil {
		h()
	}
}

func (f *foldingAPI) Query(ctx context.Context, in *dynamodb.QueryInput, o ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	if v, ok := in.ExpressionAttributeValues[":pk"].(*types.AttributeValueMemberS); ok {
		f.fire(v.Value)
	}
	return f.API.Query(ctx, in, o...)
}

func (f *foldingAPI) BatchGetItem(ctx context.Context, in *dynamodb.BatchGetItemInput, o ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error) {
	for _, ka := range in.RequestItems {
		for _, k := range ka.Keys {
			if v, ok := k["pk"].(*types.AttributeValueMemberS); ok {
				f.fire(v.Value)
				break
			}
		}
	}
	return f.API.BatchGetItem(ctx, in, o...)
}

// TestInstanceReadDuringFold: a reader that read the group's head item
// before another handle's fold replaced the deltas it lists — and
// deleted their items — reads again, and returns the records as they
// are, none missing.
func TestInstanceReadDuringFold(t *testing.T) {
	table := newTable(t)
	api := &foldingAPI{API: newClient(t)}
	reader := open(t, api, table)
	folder := open(t, nil, table, func(o *dynamostore.Options) { o.MaxDeltas = 1 })
	ctx := t.Context()
	want := map[string]deploy.InstanceRecord{}
	ts := fleet("i", 300)
	recs := instanceRecords("g-1", ts, health.Healthy)
	if err := folder.PutInstances(ctx, recs); err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		want[r.TargetID] = r
	}
	for round, read := range []func() error{
		func() error { _, err := reader.GetInstances(ctx, "g-1"); return err },
		func() error { _, err := reader.GetInstance(ctx, "g-1", ts[0].TargetID); return err },
	} {
		more := instanceRecords("g-1", ts[round*10:round*10+10], health.Unhealthy)
		folded := false
		api.mu.Lock()
		api.hook = func() {
			// MaxDeltas 1: this PutInstances folds the listed delta.
			if err := folder.PutInstances(ctx, more); err != nil {
				t.Errorf("round %d: PutInstances folding: %v", round, err)
			}
			folded = true
		}
		api.mu.Unlock()
		if err := read(); err != nil {
			t.Fatalf("round %d: read during a fold: %v", round, err)
		}
		if !folded {
			t.Fatalf("round %d: the read read no delta", round)
		}
		for _, r := range more {
			want[r.TargetID] = r
		}
		checkInstances(t, reader, fmt.Sprintf("round %d", round), want)
	}
}

// TestInstanceFoldInterrupted: a fold whose commit fails leaves the
// records as they were, readable by every handle, and the next
// PutInstances folds them.
func TestInstanceFoldInterrupted(t *testing.T) {
	table := newTable(t)
	api := &failingAPI{API: newClient(t), err: errors.New("connection reset")}
	s := open(t, api, table, func(o *dynamostore.Options) { o.MaxDeltas = 1 })
	other := open(t, nil, table)
	ctx := t.Context()
	want := map[string]deploy.InstanceRecord{}
	ts := fleet("i", 500)
	recs := instanceRecords("g-1", ts, health.Healthy)
	if err := s.PutInstances(ctx, recs); err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		want[r.TargetID] = r
	}
	api.on = true // the fold's commit (UpdateItem of the head) fails
	if err := s.PutInstances(ctx, instanceRecords("g-1", ts[:5], health.Unhealthy)); err == nil {
		t.Fatal("PutInstances whose commit failed returned no error")
	}
	api.on = false
	checkInstances(t, s, "after a failed fold", want)
	checkInstances(t, other, "after a failed fold, another handle", want)
	again := instanceRecords("g-1", ts[3:8], health.Unhealthy)
	if err := s.PutInstances(ctx, again); err != nil {
		t.Fatal(err)
	}
	for _, r := range again {
		want[r.TargetID] = r
	}
	if v := want[ts[3].TargetID].Version; v != 2 {
		t.Errorf("%s: version %d after the failed fold and a good one; want 2", ts[3].TargetID, v)
	}
	checkInstances(t, other, "after the next fold", want)
}

// commitHookAPI runs hook once, before the first UpdateItem of a group's
// instance head item (a PutInstances commit) once armed, and counts the
// writes through it.
type commitHookAPI struct {
	*countingAPI
	mu   sync.Mutex
	hook func()
}

func (c *commitHookAPI) UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, o ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	if v, ok := in.Key["pk"].(*types.AttributeValueMemberS); ok && strings.HasPrefix(v.Value, "insth#") {
		c.mu.Lock()
		h := c.hook
		c.hook = nil
		c.mu.Unlock()
		if h != nil {
			h()
		}
	}
	return c.countingAPI.UpdateItem(ctx, in, o...)
}

// TestInstanceCommitAfterOthers: a PutInstances whose commit finds that
// another one committed first commits its staged delta as it is when the
// other wrote none of its records — it writes nothing again — and stages
// it again, with the versions as they are now, when the other did.
func TestInstanceCommitAfterOthers(t *testing.T) {
	table := newTable(t)
	api := &commitHookAPI{countingAPI: &countingAPI{API: newClient(t)}}
	s := open(t, api, table)
	other := open(t, nil, table)
	ctx := t.Context()
	ts := fleet("i", 400)
	want := map[string]deploy.InstanceRecord{}
	keep := func(recs []deploy.InstanceRecord) {
		for _, r := range recs {
			want[r.TargetID] = r
		}
	}
	first := instanceRecords("g-1", ts, health.Healthy)
	if err := s.PutInstances(ctx, first); err != nil {
		t.Fatal(err)
	}
	keep(first)
	for _, overlap := range []bool{false, true} {
		mine := instanceRecords("g-1", ts[:100], health.Unhealthy)
		theirs := instanceRecords("g-1", ts[100:200], health.Unhealthy)
		if overlap {
			theirs = instanceRecords("g-1", ts[50:150], health.Healthy)
		}
		api.mu.Lock()
		api.hook = func() {
			if err := other.PutInstances(ctx, theirs); err != nil {
				t.Errorf("the other PutInstances: %v", err)
			}
		}
		api.mu.Unlock()
		api.reset()
		if err := s.PutInstances(ctx, mine); err != nil {
			t.Fatalf("overlap %v: PutInstances after another's commit: %v", overlap, err)
		}
		restaged := strings.Contains(api.breakdown(), "BatchWriteItem/delete instg")
		if restaged != overlap {
			t.Errorf("overlap %v: staged again: %v; want %v:\n%s", overlap, restaged, overlap, api.breakdown())
		}
		keep(theirs)
		keep(mine)
		checkInstances(t, s, fmt.Sprintf("overlap %v", overlap), want)
	}
	if v := want[ts[60].TargetID].Version; v != 4 {
		t.Errorf("%s: version %d; want 4 (written by all four calls)", ts[60].TargetID, v)
	}
}

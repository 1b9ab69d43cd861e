package dynamostore_test

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"

	"github.com/fleetdeploy/fleetdeploy/deploy"
	"github.com/fleetdeploy/fleetdeploy/deploy/dynamostore"
	"github.com/fleetdeploy/fleetdeploy/health"
	"github.com/fleetdeploy/fleetdeploy/internal/motoserver"
	"github.com/fleetdeploy/fleetdeploy/target"
)

// TestPageTokens: ListTargets accepts only the tokens it issued for the
// deployment, whichever handle issued them.
func TestPageTokens(t *testing.T) {
	a, b := twoHandles(t)
	ctx := t.Context()
	g := fixture(t, a)
	for _, id := range []string{"d-1", "d-2"} {
		d := newDeployment(g, id, deploy.StatusSucceeded)
		if err := a.CreateDeployment(ctx, &d); err != nil {
			t.Fatal(err)
		}
		if err := a.PutTargets(ctx, id, fleet("i", 10)); err != nil {
			t.Fatal(err)
		}
	}
	_, next, err := a.ListTargets(ctx, "d-1", "", 3)
	if err != nil || next == "" {
		t.Fatalf("ListTargets = next %q, %v", next, err)
	}
	page, _, err := b.ListTargets(ctx, "d-1", next, 3)
	if err != nil || len(page) != 3 || page[0].TargetID != fleet("i", 10)[3].TargetID {
		t.Errorf("another handle continuing with the token: %d targets, %v; want the 4th to 6th", len(page), err)
	}
	raw, err := base64.RawURLEncoding.DecodeString(next)
	if err != nil {
		t.Fatalf("the token is not base64url: %v", err)
	}
	var tampered []string
	for i := range raw {
		c := append([]byte(nil), raw...)
		c[i] ^= 1
		tampered = append(tampered, base64.RawURLEncoding.EncodeToString(c))
	}
	tampered = append(tampered, next[:len(next)-1], next+"A", "", "x", fleet("i", 10)[2].TargetID)
	for _, tok := range tampered {
		if tok == "" {
			continue
		}
		if _, _, err := a.ListTargets(ctx, "d-1", tok, 3); !errors.Is(err, deploy.ErrInvalidArgument) {
			t.Errorf("ListTargets with the tampered token %q: %v; want ErrInvalidArgument", tok, err)
		}
	}
	if _, _, err := a.ListTargets(ctx, "d-2", next, 3); !errors.Is(err, deploy.ErrInvalidArgument) {
		t.Errorf("ListTargets of d-2 with a token issued for d-1: %v; want ErrInvalidArgument", err)
	}
}

// TestLongDiagnosticsTruncated: a hook that prints a megabyte does not
// make the target's item too large; its diagnostics are cut, visibly.
func TestLongDiagnosticsTruncated(t *testing.T) {
	s := open(t, nil, newTable(t))
	ctx := t.Context()
	g := fixture(t, s)
	d := newDeployment(g, "d-1", deploy.StatusInProgress)
	if err := s.CreateDeployment(ctx, &d); err != nil {
		t.Fatal(err)
	}
	ts := []deploy.DeploymentTarget{newTarget("i-1")}
	if err := s.PutTargets(ctx, d.ID, ts); err != nil {
		t.Fatal(err)
	}
	huge := strings.Repeat("é", 1<<19) // 1 MiB, two bytes a rune
	up := ts[0]
	up.Status = target.TargetFailed
	up.LifecycleEvents = []deploy.LifecycleEventRecord{{Name: target.BeforeInstall, Status: target.EventFailed,
		Diagnostics: &deploy.Diagnostics{ErrorCode: target.CodeScriptFailed, Message: "begin " + huge, LogTail: huge + " the end"}}}
	if err := s.UpdateTarget(ctx, &up); err != nil {
		t.Fatalf("UpdateTarget with a 1 MiB diagnostic: %v", err)
	}
	if up.LifecycleEvents[0].Diagnostics.LogTail != huge+" the end" {
		t.Error("UpdateTarget changed the caller's diagnostics")
	}
	got, err := s.GetTarget(ctx, d.ID, "i-1")
	if err != nil {
		t.Fatal(err)
	}
	diag := got.LifecycleEvents[0].Diagnostics
	for _, f := range []struct{ name, v, keep string }{{"Message", diag.Message, "begin "}, {"LogTail", diag.LogTail, " the end"}} {
		switch {
		case len(f.v) > 8<<10:
			t.Errorf("%s kept %d bytes; want at most 8 KiB", f.name, len(f.v))
		case !strings.Contains(f.v, "bytes truncated]"):
			t.Errorf("%s has no truncation marker: %q…", f.name, f.v[:40])
		case !strings.Contains(f.v, f.keep):
			t.Errorf("%s lost %q, which it must keep", f.name, f.keep)
		case !utf8.ValidString(f.v):
			t.Errorf("%s was cut inside a rune", f.name)
		}
	}
	if got.Status != target.TargetFailed || got.Version != 2 {
		t.Errorf("the target after the update: %s, version %d", got.Status, got.Version)
	}
}

// TestUnfitTables: a missing table, or one with another schema, fails
// the first call with an error naming the table and what is wrong.
func TestUnfitTables(t *testing.T) {
	ctx := t.Context()
	client := newClient(t)
	missing := motoserver.Name(t, "missing")
	s := open(t, client, missing)
	_, err := s.GetApplication(ctx, "app")
	var nf *types.ResourceNotFoundException
	if err == nil || !strings.Contains(err.Error(), missing) || !strings.Contains(err.Error(), "does not exist") || !errors.As(err, &nf) {
		t.Errorf("a store on a missing table: %v; want an error naming the table, saying it does not exist, wrapping ResourceNotFoundException", err)
	}
	if err := s.CreateApplication(ctx, &deploy.Application{Name: "app"}); err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Errorf("the next call on a missing table: %v; want the same error", err)
	}

	wrong := motoserver.Name(t, "wrong")
	_, err = client.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:   aws.String(wrong),
		BillingMode: types.BillingModePayPerRequest,
		AttributeDefinitions: []types.AttributeDefinition{
			{AttributeName: aws.String("id"), AttributeType: types.ScalarAttributeTypeS},
		},
		KeySchema: []types.KeySchemaElement{{AttributeName: aws.String("id"), KeyType: types.KeyTypeHash}},
	})
	if err != nil {
		t.Fatal(err)
	}
	s = open(t, client, wrong)
	err = s.PutTargets(ctx, "d-1", fleet("i", 1))
	for _, want := range []string{wrong, "key schema is (id HASH)", "want (pk HASH, sk RANGE)", `index "lease"`} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("a store on a table of another schema: %v; want an error containing %q", err, want)
		}
	}
	if err := dynamostore.CreateTable(ctx, client, wrong); err == nil || !strings.Contains(err.Error(), "key schema") {
		t.Errorf("CreateTable of an existing table of another schema: %v; want an error", err)
	}
	right := newTable(t)
	if err := dynamostore.CreateTable(ctx, client, right); err != nil {
		t.Errorf("CreateTable of an existing table of the store's schema: %v", err)
	}
}

// TestErrorsKeepTheAPIError: a request DynamoDB refuses fails the call
// with an error that names the operation and the record and keeps the
// SDK's error reachable.
func TestErrorsKeepTheAPIError(t *testing.T) {
	api := &failingAPI{API: newClient(t), err: &types.ProvisionedThroughputExceededException{Message: aws.String("slow down")}}
	s := open(t, api, newTable(t))
	ctx := t.Context()
	g := fixture(t, s)
	d := newDeployment(g, "d-1", deploy.StatusInProgress)
	if err := s.CreateDeployment(ctx, &d); err != nil {
		t.Fatal(err)
	}
	ts := fleet("i", 1)
	if err := s.PutTargets(ctx, d.ID, ts); err != nil {
		t.Fatal(err)
	}
	api.on = true
	up := ts[0]
	up.Status = target.TargetSucceeded
	err := s.UpdateTarget(ctx, &up)
	var apiErr smithy.APIError
	var pte *types.ProvisionedThroughputExceededException
	if !errors.As(err, &apiErr) || !errors.As(err, &pte) || !strings.Contains(err.Error(), "target d-1/"+ts[0].TargetID) || !strings.Contains(err.Error(), "creating its item (PutItem)") {
		t.Errorf("UpdateTarget refused by DynamoDB: %v; want the API error reachable, the record and the operation named", err)
	}
	if up.Version != 1 {
		t.Errorf("a failed UpdateTarget changed the caller's version to %d", up.Version)
	}
}

// failingAPI fails every PutItem and UpdateItem with err once on is set.
type failingAPI struct {
	dynamostore.API
	on  bool
	err error
}

func (f *failingAPI) PutItem(ctx context.Context, in *dynamodb.PutItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	if f.on {
		return nil, f.err
	}
	return f.API.PutItem(ctx, in, opts...)
}

func (f *failingAPI) UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	if f.on {
		return nil, f.err
	}
	return f.API.UpdateItem(ctx, in, opts...)
}

// TestInstanceDeltasFold: with more PutInstances calls than MaxDeltas,
// the listed deltas are folded into one; every record keeps its newest
// value and version throughout, across handles.
func TestInstanceDeltasFold(t *testing.T) {
	table := newTable(t)
	a := open(t, nil, table, func(o *dynamostore.Options) { o.MaxDeltas = 1 })
	b := open(t, nil, table, func(o *dynamostore.Options) { o.MaxDeltas = 2 })
	ctx := t.Context()
	want := map[string]deploy.InstanceRecord{}
	for round := range 6 {
		s := a
		if round%2 == 1 {
			s = b
		}
		// Each round writes a different, overlapping part of the fleet.
		var recs []deploy.InstanceRecord
		for i := round; i < round+4; i++ {
			tid := fmt.Sprintf("i-%d", i)
			h := health.Healthy
			if (i+round)%2 == 0 {
				h = health.Unhealthy
			}
			recs = append(recs, deploy.InstanceRecord{GroupID: "g-1", TargetID: tid, InstanceHealth: h})
		}
		if err := s.PutInstances(ctx, recs); err != nil {
			t.Fatalf("round %d: PutInstances: %v", round, err)
		}
		for _, r := range recs {
			if prev, ok := want[r.TargetID]; ok && r.Version != prev.Version+1 || !ok && r.Version != 1 {
				t.Errorf("round %d: %s got version %d after %d", round, r.TargetID, r.Version, prev.Version)
			}
			want[r.TargetID] = r
		}
		for _, s := range []*dynamostore.Store{a, b} {
			all, err := s.GetInstances(ctx, "g-1")
			if err != nil || len(all) != len(want) {
				t.Fatalf("round %d: GetInstances = %d records, %v; want %d", round, len(all), err, len(want))
			}
			for _, r := range all {
				if r != want[r.TargetID] {
					t.Errorf("round %d: GetInstances: %+v; want %+v", round, r, want[r.TargetID])
				}
				one, err := s.GetInstance(ctx, "g-1", r.TargetID)
				if err != nil || *one != want[r.TargetID] {
					t.Errorf("round %d: GetInstance(%s) = %+v, %v", round, r.TargetID, one, err)
				}
			}
		}
	}
}

// conflictAPI cancels the first conflicts TransactWriteItems calls for a
// conflict with a concurrent transaction, as DynamoDB does (moto never
// does), before passing calls on.
type conflictAPI struct {
	dynamostore.API
	conflicts int
	calls     int
}

func (c *conflictAPI) TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, opts ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	c.calls++
	if c.calls <= c.conflicts {
		reasons := make([]types.CancellationReason, len(in.TransactItems))
		for i := range reasons {
			reasons[i].Code = aws.String("None")
		}
		reasons[0].Code = aws.String("TransactionConflict")
		return nil, &types.TransactionCanceledException{Message: aws.String("Transaction cancelled"), CancellationReasons: reasons}
	}
	return c.API.TransactWriteItems(ctx, in, opts...)
}

// TestTransactionConflictsRetried: a transaction cancelled for a conflict
// is sent again after a backoff on the store's clock; one that keeps
// conflicting fails, writing nothing.
func TestTransactionConflictsRetried(t *testing.T) {
	api := &conflictAPI{API: newClient(t)}
	clk, waits := autoClock(t)
	s := open(t, api, newTable(t), func(o *dynamostore.Options) { o.Clock = clk; o.BatchAttempts = 4 })
	ctx := t.Context()
	g := fixture(t, s) // CreateGroup is a transaction too
	api.calls, api.conflicts = 0, 3
	d := newDeployment(g, "d-1", deploy.StatusCreated)
	if err := s.CreateDeployment(ctx, &d); err != nil {
		t.Fatalf("CreateDeployment after 3 conflicts: %v", err)
	}
	if api.calls != 4 || waits.Load() != 3 {
		t.Errorf("CreateDeployment made %d calls and waited %d times; want 4 and 3", api.calls, waits.Load())
	}
	api.calls, api.conflicts = 0, 4
	d2 := newDeployment(g, "d-2", deploy.StatusSucceeded)
	if err := s.CreateDeployment(ctx, &d2); err == nil || !strings.Contains(err.Error(), "conflicting") {
		t.Errorf("CreateDeployment conflicting 4 times of 4: %v; want an error saying so", err)
	}
	if _, err := s.GetDeployment(ctx, "d-2"); !errors.Is(err, deploy.ErrNotFound) {
		t.Errorf("a failed CreateDeployment stored d-2 (%v)", err)
	}
}

// TestInstanceDeltasPacked: a PutInstances of thousands of records writes
// its delta as a few packed items, not one per record, and the records
// read back one by one and all at once, before and after their delta is
// folded into the next one.
func TestInstanceDeltasPacked(t *testing.T) {
	const n = 3000
	api := &countingAPI{API: newClient(t)}
	s := open(t, api, newTable(t), func(o *dynamostore.Options) { o.MaxDeltas = 1 })
	ctx := t.Context()
	recs := instanceRecords("g-1", fleet("i", n), health.Healthy)
	api.reset()
	if err := s.PutInstances(ctx, recs); err != nil {
		t.Fatal(err)
	}
	if w := api.now().itemWrites; w > n/100 {
		t.Errorf("PutInstances of %d records wrote %d items; want a few packed ones (at most %d)", n, w, n/100)
	}
	check := func(when string, want func(i int) deploy.InstanceRecord) {
		t.Helper()
		all, err := s.GetInstances(ctx, "g-1")
		if err != nil || len(all) != n {
			t.Fatalf("%s: GetInstances = %d records, %v; want %d", when, len(all), err, n)
		}
		byID := map[string]deploy.InstanceRecord{}
		for _, r := range all {
			byID[r.TargetID] = r
		}
		for _, i := range []int{0, 1, n / 2, n - 1} {
			w := want(i)
			one, err := s.GetInstance(ctx, "g-1", w.TargetID)
			if err != nil || *one != w || byID[w.TargetID] != w {
				t.Errorf("%s: record %s: GetInstance = %+v, %v; GetInstances %+v; want %+v", when, w.TargetID, one, err, byID[w.TargetID], w)
			}
		}
	}
	check("one delta", func(i int) deploy.InstanceRecord { return recs[i] })
	// The second call folds the first delta (MaxDeltas 1) into its own.
	again := instanceRecords("g-1", fleet("i", n)[:n/2], health.Unhealthy)
	if err := s.PutInstances(ctx, again); err != nil {
		t.Fatal(err)
	}
	check("folded", func(i int) deploy.InstanceRecord {
		if i < n/2 {
			return again[i]
		}
		return recs[i]
	})
	if again[0].Version != 2 || recs[n-1].Version != 1 {
		t.Errorf("versions: replaced %d, kept %d; want 2 and 1", again[0].Version, recs[n-1].Version)
	}
}

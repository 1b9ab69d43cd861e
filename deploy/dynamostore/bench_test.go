package dynamostore_test

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"golang.org/x/sync/errgroup"

	"github.com/fleetdeploy/fleetdeploy/deploy"
	"github.com/fleetdeploy/fleetdeploy/deploy/dynamostore"
	"github.com/fleetdeploy/fleetdeploy/target"
)

// countingAPI counts what a store asks of DynamoDB: the items it writes
// (each PutItem and UpdateItem, each put and delete of a BatchWriteItem,
// each Put, Update, Delete and ConditionCheck of a TransactWriteItems —
// every item DynamoDB bills a write for), by operation and kind of item
// (byOp), and
// the write and read capacity units DynamoDB would charge by its rules,
// estimated from the sizes of the items sent and returned (writes: 1 unit
// per KB of item, twice that in a transaction, ConditionChecks and
// deletes included; strongly consistent reads: 1 unit per 4 KB of each
// item read by GetItem and BatchGetItem — a key without an item still
// costs one — and of each Query page's items together). moto 5.2.1's own
// ConsumedCapacity is asked for (ReturnConsumedCapacity TOTAL) and kept
// apart: it reports single-item writes only, and not by DynamoDB's rules.
type countingAPI struct {
	dynamostore.API
	mu                  sync.Mutex
	itemWrites          int
	motoUnits, estUnits float64 // write units
	readUnits           float64 // estimated
	byOp                map[string]int
}

// counts are a countingAPI's counters at one moment.
type counts struct {
	itemWrites              int
	motoWCU, estWCU, estRCU float64
}

// kind names an item's kind by its partition key's prefix ("tgt#",
// "dep#…/head", …), for byOp.
func kind(k map[string]types.AttributeValue) string {
	pk, _ := k["pk"].(*types.AttributeValueMemberS)
	sk, _ := k["sk"].(*types.AttributeValueMemberS)
	if pk == nil {
		return "?"
	}
	p, _, _ := strings.Cut(pk.Value, "#")
	if p == "dep" && sk != nil {
		return p + "/" + sk.Value
	}
	return p
}

// tally counts n item writes of operation op on items of kind k.
func (c *countingAPI) tally(op, k string, n int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.byOp == nil {
		c.byOp = map[string]int{}
	}
	c.byOp[op+" "+k] += n
}

// breakdown returns byOp, sorted, one "op kind: n" a line.
func (c *countingAPI) breakdown() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var lines []string
	for k, n := range c.byOp {
		lines = append(lines, fmt.Sprintf("%s: %d", k, n))
	}
	slices.Sort(lines)
	return strings.Join(lines, "\n")
}

func (c *countingAPI) add(items int, est float64, cc ...types.ConsumedCapacity) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.itemWrites += items
	c.estUnits += est
	for _, x := range cc {
		c.motoUnits += aws.ToFloat64(x.CapacityUnits)
	}
}

func (c *countingAPI) read(units float64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.readUnits += units
}

func (c *countingAPI) reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.itemWrites, c.motoUnits, c.estUnits, c.readUnits = 0, 0, 0, 0
	c.byOp = nil
}

// now returns the counters.
func (c *countingAPI) now() counts {
	c.mu.Lock()
	defer c.mu.Unlock()
	return counts{c.itemWrites, c.motoUnits, c.estUnits, c.readUnits}
}

// units is DynamoDB's write units for an item of size bytes.
func units(size int) float64 { return math.Max(1, math.Ceil(float64(size)/1024)) }

// readUnits is DynamoDB's strongly consistent read units for size bytes
// read at once.
func readUnits(size int) float64 { return math.Max(1, math.Ceil(float64(size)/4096)) }

// size estimates the size of the item made of attrs, as DynamoDB counts
// it: names and values.
func size(attrs map[string]types.AttributeValue) int {
	n := 0
	for name, v := range attrs {
		n += len(name)
		switch v := v.(type) {
		case *types.AttributeValueMemberS:
			n += len(v.Value)
		case *types.AttributeValueMemberN:
			n += len(v.Value)/2 + 1
		case *types.AttributeValueMemberL:
			for _, e := range v.Value {
				if s, ok := e.(*types.AttributeValueMemberS); ok {
					n += len(s.Value)
				}
				n++
			}
			n += 3
		case *types.AttributeValueMemberSS:
			for _, e := range v.Value {
				n += len(e)
			}
		default:
			n += 16
		}
	}
	return n
}

func (c *countingAPI) GetItem(ctx context.Context, in *dynamodb.GetItemInput, o ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	out, err := c.API.GetItem(ctx, in, o...)
	if err == nil {
		c.read(readUnits(size(out.Item)))
	}
	return out, err
}

func (c *countingAPI) BatchGetItem(ctx context.Context, in *dynamodb.BatchGetItemInput, o ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error) {
	out, err := c.API.BatchGetItem(ctx, in, o...)
	if err == nil {
		asked, got, est := 0, 0, 0.0
		for _, ka := range in.RequestItems {
			asked += len(ka.Keys)
		}
		for _, items := range out.Responses {
			for _, it := range items {
				got++
				est += readUnits(size(it))
			}
		}
		for _, ka := range out.UnprocessedKeys {
			asked -= len(ka.Keys)
		}
		c.read(est + float64(asked-got)) // a key without an item costs a unit
	}
	return out, err
}

func (c *countingAPI) Query(ctx context.Context, in *dynamodb.QueryInput, o ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	out, err := c.API.Query(ctx, in, o...)
	if err == nil {
		n := 0
		for _, it := range out.Items {
			n += size(it)
		}
		c.read(readUnits(n))
	}
	return out, err
}

func (c *countingAPI) PutItem(ctx context.Context, in *dynamodb.PutItemInput, o ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	in.ReturnConsumedCapacity = types.ReturnConsumedCapacityTotal
	out, err := c.API.PutItem(ctx, in, o...)
	if err == nil {
		c.tally("PutItem", kind(in.Item), 1)
		c.add(1, units(size(in.Item)), derefCC(out.ConsumedCapacity)...)
	}
	return out, err
}

func (c *countingAPI) UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, o ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	in.ReturnConsumedCapacity = types.ReturnConsumedCapacityTotal
	out, err := c.API.UpdateItem(ctx, in, o...)
	if err == nil {
		c.tally("UpdateItem", kind(in.Key), 1)
		c.add(1, units(size(in.Key)+size(in.ExpressionAttributeValues)+16), derefCC(out.ConsumedCapacity)...)
	}
	return out, err
}

func (c *countingAPI) BatchWriteItem(ctx context.Context, in *dynamodb.BatchWriteItemInput, o ...func(*dynamodb.Options)) (*dynamodb.BatchWriteItemOutput, error) {
	in.ReturnConsumedCapacity = types.ReturnConsumedCapacityTotal
	out, err := c.API.BatchWriteItem(ctx, in, o...)
	if err == nil {
		n, est := 0, 0.0
		count := func(reqs []types.WriteRequest, sign int) {
			for _, r := range reqs {
				switch {
				case r.PutRequest != nil:
					n += sign
					c.tally("BatchWriteItem/put", kind(r.PutRequest.Item), sign)
					est += float64(sign) * units(size(r.PutRequest.Item))
				case r.DeleteRequest != nil:
					n += sign
					c.tally("BatchWriteItem/delete", kind(r.DeleteRequest.Key), sign)
					est += float64(sign) * units(size(r.DeleteRequest.Key))
				}
			}
		}
		for _, reqs := range in.RequestItems {
			count(reqs, 1)
		}
		for _, reqs := range out.UnprocessedItems {
			count(reqs, -1)
		}
		c.add(n, est, out.ConsumedCapacity...)
	}
	return out, err
}

func (c *countingAPI) TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, o ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	in.ReturnConsumedCapacity = types.ReturnConsumedCapacityTotal
	out, err := c.API.TransactWriteItems(ctx, in, o...)
	if err == nil {
		n, est := 0, 0.0
		for _, w := range in.TransactItems {
			switch {
			case w.Put != nil:
				n++
				c.tally("Transact/put", kind(w.Put.Item), 1)
				est += 2 * units(size(w.Put.Item))
			case w.Update != nil:
				n++
				c.tally("Transact/update", kind(w.Update.Key), 1)
				est += 2 * units(size(w.Update.Key)+size(w.Update.ExpressionAttributeValues)+16)
			case w.Delete != nil:
				n++
				c.tally("Transact/delete", kind(w.Delete.Key), 1)
				est += 2 * units(size(w.Delete.Key))
			case w.ConditionCheck != nil:
				n++
				c.tally("Transact/check", kind(w.ConditionCheck.Key), 1)
				est += 2 // a small head item
			}
		}
		c.add(n, est, out.ConsumedCapacity...)
	}
	return out, err
}

func derefCC(cc *types.ConsumedCapacity) []types.ConsumedCapacity {
	if cc == nil {
		return nil
	}
	return []types.ConsumedCapacity{*cc}
}

// benchWindow is how many writes are in flight at once, in the store's
// loop and in the bare one.
const benchWindow = 8

// BenchmarkStoreTargetTransitions measures what an instant target costs
// through the store alone (no executor) against moto — its item in
// PutTargets, then UpdateTarget to InProgress and to Succeeded,
// benchWindow targets at a time — and compares the updates with a bare
// loop of the same number of conditional UpdateItem calls (an item of the
// same size, a Version condition) on the same server with the same
// concurrency, in the same run: x-bare is the ratio of the two loops'
// times. It reports the item writes and the write units per target
// (creation included): estimated by DynamoDB's rules (WCU), and as moto
// reports them (moto-WCU). "fenced" writes through a view fenced by a
// lease: each update is one UpdateItem that also checks the item's fence
// (the handle that took the lease is registered by AcquireLease).
// BenchmarkExecutorInPlace measures the same through the executor.
func BenchmarkStoreTargetTransitions(b *testing.B) {
	for _, fenced := range []bool{false, true} {
		name := "unfenced"
		if fenced {
			name = "fenced"
		}
		b.Run(name, func(b *testing.B) { benchStore(b, fenced) })
	}
}

func benchStore(b *testing.B, fenced bool) {
	ctx := context.Background()
	table := newTable(b)
	client := newClient(b)
	api := &countingAPI{API: client}
	var s deploy.Store = open(b, api, table)
	if err := s.CreateApplication(ctx, &deploy.Application{Name: "app"}); err != nil {
		b.Fatal(err)
	}
	g := deploy.Group{ApplicationName: "app", Name: "web"}
	if err := s.CreateGroup(ctx, &g); err != nil {
		b.Fatal(err)
	}
	d := newDeployment(g, "d-BENCH", deploy.StatusInProgress)
	if err := s.CreateDeployment(ctx, &d); err != nil {
		b.Fatal(err)
	}
	if fenced {
		l, err := s.AcquireLease(ctx, d.ID, "bench", t0, time.Hour)
		if err != nil {
			b.Fatal(err)
		}
		s = s.(*dynamostore.Store).Fenced(l)
	}
	n := b.N
	ts := make([]deploy.DeploymentTarget, n)
	for i := range ts {
		ts[i] = newTarget(fmt.Sprintf("i-%08d", i))
		ts[i].LifecycleEvents = []deploy.LifecycleEventRecord{{Name: target.Install, Status: target.EventPending}}
	}
	api.reset()
	if err := s.PutTargets(ctx, d.ID, ts); err != nil {
		b.Fatal(err)
	}
	// The bare loop's items: as large as a target's item after its end.
	doc := `{"target":{"id":"i-00000000","zone":"zone-a"},"initialInstanceHealth":"Healthy","initialRevisionHealth":"Old",` +
		`"status":"Succeeded","lifecycleEvents":[{"lifecycleEventName":"Install","status":"Succeeded","startTime":"2026-03-04T05:06:07.890123456Z","endTime":"2026-03-04T05:06:08.890123456Z"}],"lastUpdatedAt":"2026-03-04T05:06:08.890123456Z","version":3}`
	var reqs []types.WriteRequest
	for i := range n {
		reqs = append(reqs, types.WriteRequest{PutRequest: &types.PutRequest{Item: map[string]types.AttributeValue{
			"pk": &types.AttributeValueMemberS{Value: "bare"}, "sk": &types.AttributeValueMemberS{Value: strconv.Itoa(i)},
			"d": &types.AttributeValueMemberS{Value: doc}, "v": &types.AttributeValueMemberN{Value: "1"},
		}}})
	}
	for lo := 0; lo < len(reqs); lo += 25 {
		if _, err := client.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{table: reqs[lo:min(lo+25, len(reqs))]}}); err != nil {
			b.Fatal(err)
		}
	}

	b.ResetTimer()
	start := time.Now()
	var eg errgroup.Group
	eg.SetLimit(benchWindow)
	for i := range ts {
		eg.Go(func() error {
			t := ts[i]
			now := t0.Add(time.Duration(i) * time.Millisecond)
			t.Status, t.LastUpdated = target.TargetInProgress, now
			t.LifecycleEvents = []deploy.LifecycleEventRecord{{Name: target.Install, Status: target.EventInProgress, StartTime: now}}
			if err := s.UpdateTarget(ctx, &t); err != nil {
				return err
			}
			t.Status, t.LastUpdated = target.TargetSucceeded, now.Add(time.Second)
			t.LifecycleEvents[0].Status, t.LifecycleEvents[0].EndTime = target.EventSucceeded, now.Add(time.Second)
			return s.UpdateTarget(ctx, &t)
		})
	}
	if err := eg.Wait(); err != nil {
		b.Fatal(err)
	}
	storeTime := time.Since(start)
	b.StopTimer()
	c := api.now()

	start = time.Now()
	for i := range n {
		eg.Go(func() error {
			for v := 1; v <= 2; v++ {
				_, err := client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
					TableName:                 &table,
					Key:                       map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "bare"}, "sk": &types.AttributeValueMemberS{Value: strconv.Itoa(i)}},
					UpdateExpression:          aws.String("SET d = :d, v = :nv"),
					ConditionExpression:       aws.String("v = :v"),
					ExpressionAttributeValues: map[string]types.AttributeValue{":d": &types.AttributeValueMemberS{Value: doc}, ":v": &types.AttributeValueMemberN{Value: strconv.Itoa(v)}, ":nv": &types.AttributeValueMemberN{Value: strconv.Itoa(v + 1)}},
				})
				if err != nil {
					return err
				}
			}
			return nil
		})
	}
	if err := eg.Wait(); err != nil {
		b.Fatal(err)
	}
	bareTime := time.Since(start)
	b.ReportMetric(storeTime.Seconds()/bareTime.Seconds(), "x-bare")
	b.ReportMetric(float64(c.itemWrites)/float64(n), "writes/target")
	b.ReportMetric(c.estWCU/float64(n), "WCU/target")
	b.ReportMetric(c.motoWCU/float64(n), "moto-WCU/target")
}

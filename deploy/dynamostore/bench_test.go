package dynamostore_test

import (
	"context"
	"fmt"
	"math"
	"strconv"
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

// countingAPI asks DynamoDB for the capacity every write consumes
// (ReturnConsumedCapacity TOTAL) and counts the items written and the
// write units DynamoDB would charge by its rules (1 per KB of item, 2 in a
// transaction, ConditionChecks included), estimated from the items' sizes:
// moto 5.2.1 reports capacity for single-item writes only, and not by
// DynamoDB's rules.
type countingAPI struct {
	dynamostore.API
	mu                  sync.Mutex
	itemWrites          int
	motoUnits, estUnits float64
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

func (c *countingAPI) reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.itemWrites, c.motoUnits, c.estUnits = 0, 0, 0
}

// units is DynamoDB's write units for an item of size bytes.
func units(size int) float64 { return math.Max(1, math.Ceil(float64(size)/1024)) }

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
		default:
			n += 16
		}
	}
	return n
}

func (c *countingAPI) PutItem(ctx context.Context, in *dynamodb.PutItemInput, o ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	in.ReturnConsumedCapacity = types.ReturnConsumedCapacityTotal
	out, err := c.API.PutItem(ctx, in, o...)
	if err == nil {
		c.add(1, units(size(in.Item)), derefCC(out.ConsumedCapacity)...)
	}
	return out, err
}

func (c *countingAPI) UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, o ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	in.ReturnConsumedCapacity = types.ReturnConsumedCapacityTotal
	out, err := c.API.UpdateItem(ctx, in, o...)
	if err == nil {
		c.add(1, units(size(in.Key)+size(in.ExpressionAttributeValues)+16), derefCC(out.ConsumedCapacity)...)
	}
	return out, err
}

func (c *countingAPI) BatchWriteItem(ctx context.Context, in *dynamodb.BatchWriteItemInput, o ...func(*dynamodb.Options)) (*dynamodb.BatchWriteItemOutput, error) {
	in.ReturnConsumedCapacity = types.ReturnConsumedCapacityTotal
	out, err := c.API.BatchWriteItem(ctx, in, o...)
	if err == nil {
		n, est := 0, 0.0
		for _, reqs := range in.RequestItems {
			for _, r := range reqs {
				if r.PutRequest != nil {
					n++
					est += units(size(r.PutRequest.Item))
				}
			}
		}
		for _, reqs := range out.UnprocessedItems {
			for _, r := range reqs {
				if r.PutRequest != nil {
					n--
					est -= units(size(r.PutRequest.Item))
				}
			}
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
				est += 2 * units(size(w.Put.Item))
			case w.Update != nil:
				n++
				est += 2 * units(size(w.Update.Key)+size(w.Update.ExpressionAttributeValues)+16)
			case w.ConditionCheck != nil:
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

// BenchmarkDynamoStore measures what an instant target costs through the
// store against moto — its item in PutTargets, then UpdateTarget to
// InProgress and to Succeeded, benchWindow targets at a time — and compares
// the updates with a bare loop of the same number of conditional UpdateItem
// calls (an item of the same size, a Version condition) on the same server
// with the same concurrency, in the same run: x-bare is the ratio of the
// two loops' times. It reports the item writes and the write units per
// target (creation included): estimated by DynamoDB's rules, and as moto
// reports them. "fenced" writes through a view fenced by a lease: each
// update is a TransactWriteItems with a ConditionCheck of the lease, which
// moto 5.2.1 runs in time proportional to the table (it copies the table
// to roll back), so its x-bare says little about DynamoDB.
func BenchmarkDynamoStore(b *testing.B) {
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
	writes, est, moto := api.itemWrites, api.estUnits, api.motoUnits

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
	b.ReportMetric(float64(writes)/float64(n), "item-writes/target")
	b.ReportMetric(est/float64(n), "est-WCU/target")
	b.ReportMetric(moto/float64(n), "moto-CU/target")
}

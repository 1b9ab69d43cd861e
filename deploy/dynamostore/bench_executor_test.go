package dynamostore_test

import (
	"context"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"golang.org/x/sync/errgroup"

	"github.com/fleetdeploy/fleetdeploy/config"
	"github.com/fleetdeploy/fleetdeploy/deploy"
	"github.com/fleetdeploy/fleetdeploy/revision"
	"github.com/fleetdeploy/fleetdeploy/target"
)

// noopFleet lists a fixed set of targets and runs every lifecycle event as
// a no-op that succeeds at once.
type noopFleet struct{ targets []target.Target }

func (f noopFleet) ListTargets(context.Context, target.Selector) ([]target.Target, error) {
	return f.targets, nil
}

func (noopFleet) RunEvent(context.Context, target.EventRequest) (target.EventResult, error) {
	return target.EventResult{Status: target.EventSucceeded}, nil
}

// benchTargets is the size of BenchmarkExecutorInPlace's fleet.
const benchTargets = 2000

// BenchmarkExecutorInPlace runs an in-place deployment of benchTargets
// targets with no-op lifecycle events through deploy.Executor on the store
// against moto, benchWindow targets at a time (a HOST_COUNT minimum
// healthy of all but benchWindow), and in the same run a bare loop making
// the minimal DynamoDB calls for the same transitions — one conditional
// UpdateItem per transition, two per target, on items as large as the
// executor's target items — with an errgroup of the same limit, through
// the same client on the same server and table. (motoserver's client
// sends one request at a time, whoever sends it; both loops go through
// it.)
//
// It reports x-bare, the time of Executor.Run over the bare loop's
// (CreateDeployment is not timed; ns/op is Run's time); writes/target,
// the items written per target from CreateDeployment to the end of Run
// (countingAPI says what counts), and run-writes/target, those of Run
// alone; and WCU/target and RCU/target, the
// capacity units DynamoDB would charge by its rules, estimated from the
// items' sizes (moto's own figures do not follow those rules).
func BenchmarkExecutorInPlace(b *testing.B) {
	ctx := context.Background()
	ts := make([]target.Target, benchTargets)
	for i := range ts {
		ts[i] = target.Target{ID: fmt.Sprintf("i-%08d", i), Zone: "zone-" + string(rune('a'+i%3)), Tags: map[string]string{"env": "prod"}}
	}
	fleet := noopFleet{targets: ts}
	cfg := config.Config{Name: "Bench", ComputePlatform: config.Server,
		MinimumHealthyHosts: &config.MinimumHealthyHosts{Type: config.HostCount, Value: benchTargets - benchWindow}}
	client := newClient(b)
	var runTime, bareTime time.Duration
	var create, run counts
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		table := newTable(b)
		api := &countingAPI{API: client}
		store := open(b, api, table)
		if err := store.CreateApplication(ctx, &deploy.Application{Name: "shop", ComputePlatform: config.Server}); err != nil {
			b.Fatal(err)
		}
		if err := store.CreateGroup(ctx, &deploy.Group{ApplicationName: "shop", Name: "prod", DeploymentConfigName: "Bench",
			Selector: target.Selector{EC2TagFilters: []target.TagFilter{{Key: "env", Value: "prod", Type: target.KeyAndValue}}}}); err != nil {
			b.Fatal(err)
		}
		x, err := deploy.New(store, target.Platform{Lister: fleet, Installer: fleet}, func(o *deploy.Options) {
			o.Configs = []config.Config{cfg}
		})
		if err != nil {
			b.Fatal(err)
		}
		api.reset()
		d, err := x.CreateDeployment(ctx, deploy.DeploymentInput{ApplicationName: "shop", GroupName: "prod",
			Revision: revision.Location{Type: revision.LocationS3, S3: &revision.S3Location{Bucket: "releases", Key: "v1.zip", BundleType: revision.BundleZip}}})
		if err != nil {
			b.Fatal(err)
		}
		c := api.now()
		api.reset()
		b.StartTimer()
		start := time.Now()
		got, err := x.Run(ctx, d.ID)
		runTime += time.Since(start)
		b.StopTimer()
		if err != nil || got.Status != deploy.StatusSucceeded || got.Overview.Succeeded != benchTargets {
			b.Fatalf("Run: %v, %s %+v", err, got.Status, got.Overview)
		}
		r := api.now()
		create, run = create.plus(c), run.plus(r)

		bareTime += bareLoop(b, api, table, d.ID)
	}
	n := float64(b.N * benchTargets)
	b.ReportMetric(runTime.Seconds()/bareTime.Seconds(), "x-bare")
	b.ReportMetric(float64(create.itemWrites+run.itemWrites)/n, "writes/target")
	b.ReportMetric(float64(run.itemWrites)/n, "run-writes/target")
	b.ReportMetric((create.estWCU+run.estWCU)/n, "WCU/target")
	b.ReportMetric((create.estRCU+run.estRCU)/n, "RCU/target")
	b.ReportMetric(float64(bareTime.Nanoseconds())/n, "bare-ns/target")
}

func (c counts) plus(d counts) counts {
	return counts{c.itemWrites + d.itemWrites, c.motoWCU + d.motoWCU, c.estWCU + d.estWCU, c.estRCU + d.estRCU}
}

// bareLoop makes, through api on table, two conditional UpdateItems on
// each of benchTargets items of their own — as large as the target items
// of deployment dep after its run — benchWindow at a time, and returns
// the time it took.
func bareLoop(b *testing.B, api *countingAPI, table, dep string) time.Duration {
	ctx := context.Background()
	page, err := api.API.Query(ctx, &dynamodb.QueryInput{
		TableName: &table, KeyConditionExpression: aws.String("pk = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": &types.AttributeValueMemberS{Value: "tgt#" + dep}},
		Limit:                     aws.Int32(1),
	})
	if err != nil || len(page.Items) != 1 {
		b.Fatalf("reading a target item of %s: %d items, %v", dep, len(page.Items), err)
	}
	doc := page.Items[0]["d"]
	key := func(i int) map[string]types.AttributeValue {
		return map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "bare"}, "sk": &types.AttributeValueMemberS{Value: strconv.Itoa(i)}}
	}
	var reqs []types.WriteRequest
	for i := range benchTargets {
		it := key(i)
		it["d"], it["v"] = doc, &types.AttributeValueMemberN{Value: "1"}
		reqs = append(reqs, types.WriteRequest{PutRequest: &types.PutRequest{Item: it}})
	}
	for lo := 0; lo < len(reqs); lo += 25 {
		if _, err := api.API.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{table: reqs[lo:min(lo+25, len(reqs))]}}); err != nil {
			b.Fatal(err)
		}
	}
	start := time.Now()
	var eg errgroup.Group
	eg.SetLimit(benchWindow)
	for i := range benchTargets {
		eg.Go(func() error {
			for v := 1; v <= 2; v++ {
				_, err := api.UpdateItem(ctx, &dynamodb.UpdateItemInput{
					TableName:           &table,
					Key:                 key(i),
					UpdateExpression:    aws.String("SET d = :d, v = :nv"),
					ConditionExpression: aws.String("v = :v"),
					ExpressionAttributeValues: map[string]types.AttributeValue{
						":d": doc, ":v": &types.AttributeValueMemberN{Value: strconv.Itoa(v)}, ":nv": &types.AttributeValueMemberN{Value: strconv.Itoa(v + 1)},
					},
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
	return time.Since(start)
}

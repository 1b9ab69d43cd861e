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
	"github.com/fleetdeploy/fleetdeploy/deploy/dynamostore"
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
// (ns/op is the time of CreateDeployment and Run); writes/target,
// the items written per target from CreateDeployment to the end of Run
// (countingAPI says what counts), and run-writes/target, those of Run
// alone; and WCU/target and RCU/target, the
// capacity units DynamoDB would charge by its rules, estimated from the
// items' sizes; and moto-WCU/target, the units moto reports
// (ReturnConsumedCapacity), which do not follow those rules.
func BenchmarkExecutorInPlace(b *testing.B) {
	client := newClient(b)
	var runTime, bareTime time.Duration
	var create, run counts
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		f := newBenchFleet(b, client)
		b.StartTimer()
		id, c, r, took := f.deploy(b)
		b.StopTimer()
		runTime += took
		create, run = create.plus(c), run.plus(r)
		bareTime += bareLoop(b, f.api, f.table, id)
	}
	n := float64(b.N * benchTargets)
	b.ReportMetric(runTime.Seconds()/bareTime.Seconds(), "x-bare")
	b.ReportMetric(float64(create.itemWrites+run.itemWrites)/n, "writes/target")
	b.ReportMetric(float64(run.itemWrites)/n, "run-writes/target")
	b.ReportMetric((create.estWCU+run.estWCU)/n, "WCU/target")
	b.ReportMetric((create.estRCU+run.estRCU)/n, "RCU/target")
	b.ReportMetric((create.motoWCU+run.motoWCU)/n, "moto-WCU/target")
	b.ReportMetric(float64(bareTime.Nanoseconds())/n, "bare-ns/target")
}

// steadyDeployments is how many deployments BenchmarkExecutorSteadyState
// runs one after another on the same group.
const steadyDeployments = 10

// BenchmarkExecutorSteadyState runs steadyDeployments in-place
// deployments of benchTargets targets, one after another, on the same
// group (as BenchmarkExecutorInPlace runs one), so that each writes the
// group's instance records again and, once Options.MaxDeltas deltas are
// listed, folds them. It reports the item writes per target of each
// deployment (CreateDeployment and Run) — their mean and the worst — and
// the mean write and read units per target.
func BenchmarkExecutorSteadyState(b *testing.B) {
	client := newClient(b)
	var total counts
	worst, deployments := 0.0, 0
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		f := newBenchFleet(b, client)
		b.StartTimer()
		for k := range steadyDeployments {
			_, c, r, _ := f.deploy(b)
			w := float64(c.itemWrites+r.itemWrites) / benchTargets
			b.Logf("deployment %d: %.4f writes/target", k+1, w)
			worst = max(worst, w)
			total = total.plus(c).plus(r)
			deployments++
		}
	}
	n := float64(deployments * benchTargets)
	b.ReportMetric(float64(total.itemWrites)/n, "writes/target")
	b.ReportMetric(worst, "worst-writes/target")
	b.ReportMetric(total.estWCU/n, "WCU/target")
	b.ReportMetric(total.estRCU/n, "RCU/target")
}

// benchFleet is a table with one group of benchTargets no-op targets, and
// an executor on a store on it through a countingAPI.
type benchFleet struct {
	api   *countingAPI
	table string
	x     *deploy.Executor
}

func newBenchFleet(b *testing.B, client dynamostore.API) *benchFleet {
	ctx := context.Background()
	ts := make([]target.Target, benchTargets)
	for i := range ts {
		ts[i] = target.Target{ID: fmt.Sprintf("i-%08d", i), Zone: "zone-" + string(rune('a'+i%3)), Tags: map[string]string{"env": "prod"}}
	}
	fleet := noopFleet{targets: ts}
	cfg := config.Config{Name: "Bench", ComputePlatform: config.Server,
		MinimumHealthyHosts: &config.MinimumHealthyHosts{Type: config.HostCount, Value: benchTargets - benchWindow}}
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
	return &benchFleet{api: api, table: table, x: x}
}

// deploy creates a deployment of the fleet's group and runs it to
// success; it returns its ID, the counts of CreateDeployment and of Run,
// and the time Run took. It logs which items were written.
func (f *benchFleet) deploy(b *testing.B) (string, counts, counts, time.Duration) {
	ctx := context.Background()
	f.api.reset()
	d, err := f.x.CreateDeployment(ctx, deploy.DeploymentInput{ApplicationName: "shop", GroupName: "prod",
		Revision: revision.Location{Type: revision.LocationS3, S3: &revision.S3Location{Bucket: "releases", Key: "v1.zip", BundleType: revision.BundleZip}}})
	if err != nil {
		b.Fatal(err)
	}
	c, cb := f.api.now(), f.api.breakdown()
	f.api.reset()
	start := time.Now()
	got, err := f.x.Run(ctx, d.ID)
	took := time.Since(start)
	if err != nil || got.Status != deploy.StatusSucceeded || got.Overview.Succeeded != benchTargets {
		b.Fatalf("Run: %v, %s %+v", err, got.Status, got.Overview)
	}
	r := f.api.now()
	b.Logf("item writes of CreateDeployment:\n%s\nof Run:\n%s", cb, f.api.breakdown())
	return d.ID, c, r, took
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

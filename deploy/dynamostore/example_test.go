package dynamostore_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/fleetdeploy/fleetdeploy/deploy"
	"github.com/fleetdeploy/fleetdeploy/deploy/dynamostore"
	"github.com/fleetdeploy/fleetdeploy/internal/motoserver"
	"github.com/fleetdeploy/fleetdeploy/target"
)

// Two executors share one table: the group's second active deployment is
// refused, and after executor b takes the deployment's expired lease over,
// a write of executor a fenced by its old lease is refused too.
func Example() {
	ctx := context.Background()
	// A program would load its configuration with config.LoadDefaultConfig;
	// the example talks to the tests' moto server.
	url, err := motoserver.Start()
	if err != nil {
		fmt.Println(err)
		return
	}
	client := dynamodb.NewFromConfig(motoserver.ConfigFor(url))
	table := "fleetdeploy-example-" + rand.Text()
	if err := dynamostore.CreateTable(ctx, client, table); err != nil {
		fmt.Println(err)
		return
	}
	a, _ := dynamostore.New(client, table)
	b, _ := dynamostore.New(dynamodb.NewFromConfig(motoserver.ConfigFor(url)), table) // another machine

	_ = a.CreateApplication(ctx, &deploy.Application{Name: "shop", ComputePlatform: "Server"})
	g := deploy.Group{ApplicationName: "shop", Name: "web"}
	_ = a.CreateGroup(ctx, &g)
	first := deploy.Deployment{ID: "d-FIRST0001", ApplicationName: "shop", GroupName: "web", GroupID: g.ID, Status: deploy.StatusCreated}
	fmt.Println("a creates d-FIRST0001:", a.CreateDeployment(ctx, &first))
	second := deploy.Deployment{ID: "d-SECOND001", ApplicationName: "shop", GroupName: "web", GroupID: g.ID, Status: deploy.StatusCreated}
	fmt.Println("b creates d-SECOND001:", b.CreateDeployment(ctx, &second))

	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	la, _ := a.AcquireLease(ctx, first.ID, "exec-a", now, 30*time.Second)
	fa := a.Fenced(la)
	ts := []deploy.DeploymentTarget{{TargetID: "i-1", Target: target.Target{ID: "i-1"}, Status: target.TargetPending}}
	fmt.Println("a puts its targets:", fa.PutTargets(ctx, first.ID, ts))

	lb, _ := b.AcquireLease(ctx, first.ID, "exec-b", now.Add(time.Minute), 30*time.Second)
	fmt.Println("b takes over:", lb)
	ts[0].Status = target.TargetInProgress
	fmt.Println("a updates i-1:", fa.UpdateTarget(ctx, &ts[0]))
	// Output:
	// a creates d-FIRST0001: <nil>
	// b creates d-SECOND001: deploy: The Deployment Group 'web' already has an active Deployment 'd-FIRST0001'
	// a puts its targets: <nil>
	// b takes over: lease 2 of deployment d-FIRST0001 held by executor "exec-b" until 2026-05-01T12:01:30Z
	// a updates i-1: deploy: deployment d-FIRST0001: lease 1 of executor "exec-a" lost; now lease 2 of deployment d-FIRST0001 held by executor "exec-b" until 2026-05-01T12:01:30Z
}

package ecstarget_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"

	"github.com/fleetdeploy/fleetdeploy/internal/motoserver"
	"github.com/fleetdeploy/fleetdeploy/revision"
	"github.com/fleetdeploy/fleetdeploy/target"
	"github.com/fleetdeploy/fleetdeploy/target/ecstarget"
)

// A canary deployment of an ECS service, step by step, as the executor
// drives it: the replacement task set goes into the target group the
// production listener does not serve, the test listener points at it, 10%
// of production traffic moves, then all of it, and the original task set
// is deleted. Here the clients talk to moto, where arrange (in this
// package's tests) made the service, its first task set, two target
// groups and two listeners; with an AWS account, use
// config.LoadDefaultConfig instead.
func Example() {
	url, err := motoserver.Start()
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx := context.Background()
	cfg := motoserver.ConfigFor(url)
	var b [4]byte
	_, _ = rand.Read(b[:])
	w, err := arrange(ctx, cfg, "example-"+hex.EncodeToString(b[:]))
	if err != nil {
		panic(err)
	}
	ecsc, elbc := ecs.NewFromConfig(cfg), elbv2.NewFromConfig(cfg)
	service := w.cluster + "/" + w.service // the deployment's target: "cluster/service"
	pair := target.TargetGroupPairInfo{TargetGroups: []target.NameInfo{{Name: w.blue}, {Name: w.green}},
		ProdTrafficRoute: target.TrafficRouteInfo{ListenerArns: []string{w.prod}},
		TestTrafficRoute: target.TrafficRouteInfo{ListenerArns: []string{w.test}}}

	prov, err := ecstarget.NewProvisioner(ecsc, elbc, revision.ContentSource{})
	if err != nil {
		panic(err)
	}
	shifter, err := ecstarget.NewTrafficShifter(ecsc, elbc, ecstarget.StaticRoutes(map[string]target.TargetGroupPairInfo{service: pair}))
	if err != nil {
		panic(err)
	}
	prod := target.TrafficRoute{ResourceID: service}
	now, err := shifter.CurrentTraffic(ctx, prod)
	if err != nil {
		panic(err)
	}
	fmt.Println("live task set is the original:", now.Original == w.original)

	info := target.DeploymentInfo{DeploymentID: "d-EXAMPLE01", DeploymentType: target.BlueGreen, Revision: appSpec(w.taskDef),
		LoadBalancer: target.LoadBalancerInfo{TargetGroupPairInfoList: []target.TargetGroupPairInfo{pair}}}
	green, err := prov.ProvisionReplacements(ctx, target.ProvisionRequest{Deployment: info, Originals: []target.Target{{ID: now.Original}}})
	if err != nil {
		panic(err)
	}
	repl := green[0].ID
	names := map[string]string{w.blueARN: "blue", w.greenARN: "green"}
	listener := func(arn string) string {
		out, err := elbc.DescribeListeners(ctx, &elbv2.DescribeListenersInput{ListenerArns: []string{arn}})
		if err != nil {
			panic(err)
		}
		fc := out.Listeners[0].DefaultActions[0].ForwardConfig
		return fmt.Sprintf("%s %d%%, %s %d%%", names[aws.ToString(fc.TargetGroups[0].TargetGroupArn)], aws.ToInt32(fc.TargetGroups[0].Weight),
			names[aws.ToString(fc.TargetGroups[1].TargetGroupArn)], aws.ToInt32(fc.TargetGroups[1].Weight))
	}
	shift := func(r target.TrafficRoute, weight int) {
		if err := shifter.ShiftTraffic(ctx, target.ShiftRequest{Deployment: info, Route: r,
			Split: target.TrafficSplit{Original: now.Original, Replacement: repl, Weight: weight}}); err != nil {
			panic(err)
		}
	}
	shift(target.TrafficRoute{ResourceID: service, Test: true}, 100)
	fmt.Println("test listener:", listener(w.test))
	for _, weight := range []int{10, 100} {
		shift(prod, weight)
		fmt.Println("production listener:", listener(w.prod))
	}
	if err := prov.TerminateTargets(ctx, []target.Target{{ID: now.Original}}); err != nil {
		panic(err)
	}
	after, err := shifter.CurrentTraffic(ctx, prod)
	if err != nil {
		panic(err)
	}
	fmt.Println("live task set is the replacement:", after.Original == repl, "weight", after.Weight)
	// Output:
	// live task set is the original: true
	// test listener: blue 0%, green 100%
	// production listener: blue 90%, green 10%
	// production listener: blue 0%, green 100%
	// live task set is the replacement: true weight 0
}

package lambdatarget_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/fleetdeploy/fleetdeploy/config"
	"github.com/fleetdeploy/fleetdeploy/internal/motoserver"
	"github.com/fleetdeploy/fleetdeploy/target"
	"github.com/fleetdeploy/fleetdeploy/target/lambdatarget"
)

// exampleFunction makes a function with versions 1 and 2 and an alias
// live on version 1 in moto, and returns the Lambda client and the
// function's name.
func exampleFunction(ctx context.Context) (*lambda.Client, string) {
	url, err := motoserver.Start()
	if err != nil {
		log.Fatal(err)
	}
	cfg := motoserver.ConfigFor(url)
	role, err := setup(ctx, cfg, url)
	if err != nil {
		log.Fatal(err)
	}
	lc := lambda.NewFromConfig(cfg)
	var b [4]byte
	_, _ = rand.Read(b[:])
	name := "example-shop-" + hex.EncodeToString(b[:])
	if _, err := lc.CreateFunction(ctx, &lambda.CreateFunctionInput{FunctionName: aws.String(name), Role: aws.String(role),
		Runtime: types.RuntimePython312, Handler: aws.String("index.handler"), Publish: true,
		Code: &types.FunctionCode{ZipFile: []byte("PK\x05\x06" + string(make([]byte, 18)))}}); err != nil {
		log.Fatal(err)
	}
	if _, err := lc.UpdateFunctionConfiguration(ctx, &lambda.UpdateFunctionConfigurationInput{FunctionName: aws.String(name),
		Description: aws.String("version 2")}); err != nil {
		log.Fatal(err)
	}
	if _, err := lc.PublishVersion(ctx, &lambda.PublishVersionInput{FunctionName: aws.String(name)}); err != nil {
		log.Fatal(err)
	}
	if _, err := lc.CreateAlias(ctx, &lambda.CreateAliasInput{FunctionName: aws.String(name), Name: aws.String("live"),
		FunctionVersion: aws.String("1")}); err != nil {
		log.Fatal(err)
	}
	return lc, name
}

// A canary deployment's shifts on alias live (here against moto's
// Lambda): 10% to version 2, then everything; then an alias that serves
// another version than the AppSpec says is refused with CodeDeploy's
// error code.
func ExampleShifter() {
	ctx := context.Background()
	lc, fn := exampleFunction(ctx)
	shifter, err := lambdatarget.NewShifter(lc)
	if err != nil {
		log.Fatal(err)
	}
	live := target.TrafficRoute{ResourceID: fn + ":live"}
	canary, _ := config.Predefined("CodeDeployDefault.LambdaCanary10Percent5Minutes")
	for _, step := range canary.TrafficRouting.Steps() {
		err := shifter.ShiftTraffic(ctx, target.ShiftRequest{Route: live,
			Split: target.TrafficSplit{Original: "1", Replacement: "2", Weight: step.Weight}})
		if err != nil {
			log.Fatal(err)
		}
		alias, err := lc.GetAlias(ctx, &lambda.GetAliasInput{FunctionName: aws.String(fn), Name: aws.String("live")})
		if err != nil {
			log.Fatal(err)
		}
		var routing map[string]float64
		if alias.RoutingConfig != nil {
			routing = alias.RoutingConfig.AdditionalVersionWeights
		}
		split, err := shifter.CurrentTraffic(ctx, live)
		fmt.Printf("after %s: alias on version %s, routing %v; %+v %v\n",
			step.At, aws.ToString(alias.FunctionVersion), routing, split, err)
	}

	// The next deployment's AppSpec still says CurrentVersion 1.
	err = shifter.ShiftTraffic(ctx, target.ShiftRequest{Route: live,
		Split: target.TrafficSplit{Original: "1", Replacement: "3", Weight: 10}})
	var ce *target.CodeError
	fmt.Println(errors.As(err, &ce) && ce.Code == "INVALID_LAMBDA_CONFIGURATION", errors.Is(err, lambdatarget.ErrAliasMismatch))
	// Output:
	// after 0s: alias on version 1, routing map[2:0.1]; {Original:1 Replacement:2 Weight:10} <nil>
	// after 5m0s: alias on version 2, routing map[]; {Original:2 Replacement: Weight:0} <nil>
	// true true
}

// chanReports is a target.HookReports fed by a channel; in a deployment
// the executor provides it, fed by PutLifecycleEventHookExecutionStatus.
type chanReports chan target.LifecycleEventStatus

func (c chanReports) Await(ctx context.Context) (target.LifecycleEventStatus, error) {
	select {
	case st := <-c:
		return st, nil
	case <-ctx.Done():
		return "", ctx.Err()
	}
}

// invokeLogger wraps the Lambda client to play the hook function, which
// moto does not run: it reads CodeDeploy's event and reports Succeeded.
type invokeLogger struct {
	*lambda.Client
	reports chanReports
}

func (l invokeLogger) Invoke(ctx context.Context, in *lambda.InvokeInput, optFns ...func(*lambda.Options)) (*lambda.InvokeOutput, error) {
	out, err := l.Client.Invoke(ctx, in, optFns...)
	var ev lambdatarget.HookEvent
	if err == nil && json.Unmarshal(in.Payload, &ev) == nil {
		fmt.Println("hook function got", ev.DeploymentID, ev.LifecycleEventHookExecutionID, in.InvocationType)
		l.reports <- target.EventSucceeded
	}
	return out, err
}

// A BeforeAllowTraffic hook: invoked asynchronously with CodeDeploy's
// event, it reports Succeeded.
func ExampleHookInvoker() {
	ctx := context.Background()
	lc, fn := exampleFunction(ctx)
	reports := make(chanReports, 1)
	hooks, err := lambdatarget.NewHookInvoker(invokeLogger{Client: lc, reports: reports})
	if err != nil {
		log.Fatal(err)
	}
	res, err := hooks.InvokeHook(ctx, target.HookRequest{Deployment: target.DeploymentInfo{DeploymentID: "d-EXAMPLE1"},
		Event: target.BeforeAllowTraffic, FunctionName: fn, ExecutionID: "d-EXAMPLE1-BeforeAllowTraffic", Reports: reports})
	fmt.Println(res.Status, res.ErrorCode, err)
	// Output:
	// hook function got d-EXAMPLE1 d-EXAMPLE1-BeforeAllowTraffic Event
	// Succeeded Success <nil>
}

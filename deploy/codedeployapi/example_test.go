package codedeployapi_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/codedeploy"
	"github.com/aws/aws-sdk-go-v2/service/codedeploy/types"

	"github.com/fleetdeploy/fleetdeploy/config"
	"github.com/fleetdeploy/fleetdeploy/deploy"
	"github.com/fleetdeploy/fleetdeploy/deploy/codedeployapi"
	"github.com/fleetdeploy/fleetdeploy/deploy/deploytest"
	"github.com/fleetdeploy/fleetdeploy/revision"
	"github.com/fleetdeploy/fleetdeploy/target"
	"github.com/fleetdeploy/fleetdeploy/target/targettest"
)

// validationHook stands for a Lambda hook function: invoked with the
// deployment ID and its execution ID, it validates, then reports back with
// its CodeDeploy client — unchanged code, whose endpoint points at the
// handler. The HookInvoker waits for the report on req.Reports.
type validationHook struct{ client *codedeploy.Client }

func (h validationHook) InvokeHook(ctx context.Context, req target.HookRequest) (target.EventResult, error) {
	_, err := h.client.PutLifecycleEventHookExecutionStatus(ctx, &codedeploy.PutLifecycleEventHookExecutionStatusInput{
		DeploymentId:                  aws.String(req.Deployment.DeploymentID),
		LifecycleEventHookExecutionId: aws.String(req.ExecutionID),
		Status:                        types.LifecycleEventStatusSucceeded,
	})
	if err != nil {
		return target.EventResult{}, err
	}
	st, err := req.Reports.Await(ctx)
	return target.EventResult{Status: st}, err
}

// A Lambda deployment whose hook functions report their status through
// the handler, with the AWS SDK's own CodeDeploy client.
func ExampleHandler() {
	ctx := context.Background()
	store := deploy.NewMemoryStore()
	_ = store.CreateApplication(ctx, &deploy.Application{Name: "shop", ComputePlatform: config.Lambda})
	_ = store.CreateGroup(ctx, &deploy.Group{ApplicationName: "shop", Name: "prod", ComputePlatform: config.Lambda,
		DeploymentConfigName: "CodeDeployDefault.LambdaAllAtOnce"})
	alias := targettest.NewShifter()
	alias.SetRoute(target.TrafficRoute{ResourceID: "checkout:live"}, target.TrafficSplit{Original: "1"})
	hook := &validationHook{}
	exec, err := deploy.New(store, target.Platform{TrafficShifter: alias, HookInvoker: hook}, func(o *deploy.Options) {
		o.Source = revision.ContentSource{}
		o.Clock = deploytest.NewFakeClock(time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC))
	})
	if err != nil {
		fmt.Println(err)
		return
	}

	// The endpoint: the application decides who may report (here, callers
	// whose SigV4 credential names its hook functions' access key).
	h, err := codedeployapi.New(exec, func(o *codedeployapi.Options) {
		o.Authenticate = func(r *http.Request) error {
			if !strings.Contains(r.Header.Get("Authorization"), "Credential=AKIDHOOKS/") {
				return errors.New("unknown caller")
			}
			return nil
		}
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	srv := httptest.NewServer(h)
	defer srv.Close()

	// The hook functions' client, as in a Lambda function, but with the
	// endpoint set.
	hook.client = codedeploy.NewFromConfig(aws.Config{Region: "us-east-1",
		Credentials: credentials.NewStaticCredentialsProvider("AKIDHOOKS", "secret", "")},
		func(o *codedeploy.Options) { o.BaseEndpoint = aws.String(srv.URL) })

	spec := "version: 0.0\nResources:\n  - checkout:\n      Type: AWS::Lambda::Function\n      Properties:\n" +
		"        Name: checkout\n        Alias: live\n        CurrentVersion: 1\n        TargetVersion: 2\n" +
		"Hooks:\n  - BeforeAllowTraffic: preflight\n  - AfterAllowTraffic: smoke\n"
	d, err := exec.CreateDeployment(ctx, deploy.DeploymentInput{ApplicationName: "shop", GroupName: "prod",
		Revision: revision.Location{Type: revision.LocationAppSpecContent, AppSpecContent: &revision.AppSpecContent{Content: spec}}})
	if err != nil {
		fmt.Println(err)
		return
	}
	got, err := exec.Run(ctx, d.ID)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(got.Status)
	for _, x := range got.HookExecutions {
		fmt.Printf("%s (%s): reported %s\n", x.Event, x.FunctionName, x.Status)
	}

	// A second report is refused, as CodeDeploy refuses it.
	_, err = hook.client.PutLifecycleEventHookExecutionStatus(ctx, &codedeploy.PutLifecycleEventHookExecutionStatusInput{
		DeploymentId: aws.String(d.ID), LifecycleEventHookExecutionId: aws.String(got.HookExecutions[0].ID), Status: types.LifecycleEventStatusFailed})
	var done *types.LifecycleEventAlreadyCompletedException
	fmt.Println(errors.As(err, &done))
	// Output:
	// Succeeded
	// BeforeAllowTraffic (preflight): reported Succeeded
	// AfterAllowTraffic (smoke): reported Succeeded
	// true
}

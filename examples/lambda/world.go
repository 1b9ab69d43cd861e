package main

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/fleetdeploy/fleetdeploy/internal/motoserver"
)

// aliasName is the alias the deployments move.
const aliasName = "live"

// versions are the releases of the checkout function, published as
// versions 1, 2 and 3 in this order. Each version's description is what
// the smoke test hook checks: it stands for a request to the version,
// which moto cannot run.
var versions = []string{
	"checkout v1",
	"checkout v2: faster totals",
	"checkout v3: BROKEN — totals off by one cent",
}

// The hook functions' code, as it would run on Lambda: each validates,
// then reports its verdict with PutLifecycleEventHookExecutionStatus.
// moto stores it and runs nothing; the story plays the functions (see
// hookFunctions).
const (
	preflightCode = `import boto3
def handler(event, context):
    # BeforeAllowTraffic: the alias must still send all traffic to one version.
    alias = boto3.client("lambda").get_alias(FunctionName="CHECKOUT", Name="live")
    ok = not alias.get("RoutingConfig", {}).get("AdditionalVersionWeights")
    boto3.client("codedeploy").put_lifecycle_event_hook_execution_status(
        deploymentId=event["DeploymentId"],
        lifecycleEventHookExecutionId=event["LifecycleEventHookExecutionId"],
        status="Succeeded" if ok else "Failed")
`
	smokeCode = `import boto3
def handler(event, context):
    # AfterAllowTraffic: all traffic on one version, and that version healthy.
    lam = boto3.client("lambda")
    alias = lam.get_alias(FunctionName="CHECKOUT", Name="live")
    conf = lam.get_function_configuration(FunctionName="CHECKOUT", Qualifier=alias["FunctionVersion"])
    ok = not alias.get("RoutingConfig", {}).get("AdditionalVersionWeights") and "BROKEN" not in conf["Description"]
    boto3.client("codedeploy").put_lifecycle_event_hook_execution_status(
        deploymentId=event["DeploymentId"],
        lifecycleEventHookExecutionId=event["LifecycleEventHookExecutionId"],
        status="Succeeded" if ok else "Failed")
`
)

// world is what the story creates in moto. Every name carries a random
// suffix, so that runs against one long-lived server (-endpoint) do not
// meet.
type world struct {
	checkout  string // the function deployed
	preflight string // the BeforeAllowTraffic hook function
	smoke     string // the AfterAllowTraffic hook function
	role      string // the functions' execution role (ARN)
}

// build readies moto's Lambda and creates the functions, the checkout
// function's versions and its alias, reporting each step through say.
func build(ctx context.Context, endpoint string, cfg aws.Config, lc *lambda.Client, say func(string, ...any)) (*world, error) {
	suffix := strings.ToLower(rand.Text()[:8])
	w := &world{checkout: "checkout-" + suffix, preflight: "checkout-preflight-" + suffix, smoke: "checkout-smoke-" + suffix}
	var err error
	if w.role, err = motoserver.PrepareLambda(ctx, cfg, endpoint, "checkout-"+suffix); err != nil {
		return nil, err
	}
	say("moto: Lambda runs no code (use_docker false); IAM role %s", w.role)

	code := strings.NewReplacer("CHECKOUT", w.checkout)
	for _, fn := range []struct{ name, code string }{
		{w.checkout, "def handler(event, context):\n    return {'total': 42}\n"},
		{w.preflight, code.Replace(preflightCode)},
		{w.smoke, code.Replace(smokeCode)},
	} {
		z, err := zipped(fn.code)
		if err != nil {
			return nil, err
		}
		if _, err := lc.CreateFunction(ctx, &lambda.CreateFunctionInput{FunctionName: aws.String(fn.name), Role: aws.String(w.role),
			Runtime: types.RuntimePython312, Handler: aws.String("index.handler"), Code: &types.FunctionCode{ZipFile: z}}); err != nil {
			return nil, fmt.Errorf("creating function %s: %w", fn.name, err)
		}
	}
	for i, desc := range versions {
		if _, err := lc.UpdateFunctionConfiguration(ctx, &lambda.UpdateFunctionConfigurationInput{FunctionName: aws.String(w.checkout),
			Description: aws.String(desc)}); err != nil {
			return nil, fmt.Errorf("describing %s for version %d: %w", w.checkout, i+1, err)
		}
		out, err := lc.PublishVersion(ctx, &lambda.PublishVersionInput{FunctionName: aws.String(w.checkout)})
		if err != nil {
			return nil, fmt.Errorf("publishing version %d of %s: %w", i+1, w.checkout, err)
		}
		if got, want := aws.ToString(out.Version), fmt.Sprint(i+1); got != want {
			return nil, fmt.Errorf("publishing %s made version %s; want %s", w.checkout, got, want)
		}
		say("lambda: %s version %d: %q", w.checkout, i+1, desc)
	}
	if _, err := lc.CreateAlias(ctx, &lambda.CreateAliasInput{FunctionName: aws.String(w.checkout), Name: aws.String(aliasName),
		FunctionVersion: aws.String("1")}); err != nil {
		return nil, fmt.Errorf("creating alias %s of %s: %w", aliasName, w.checkout, err)
	}
	say("lambda: alias %s:%s on version 1; hook functions %s (BeforeAllowTraffic) and %s (AfterAllowTraffic)",
		w.checkout, aliasName, w.preflight, w.smoke)
	return w, nil
}

// zipped returns a deployment package holding index.py with code.
func zipped(code string) ([]byte, error) {
	var b bytes.Buffer
	z := zip.NewWriter(&b)
	f, err := z.Create("index.py")
	if err == nil {
		_, err = io.WriteString(f, code)
	}
	if err == nil {
		err = z.Close()
	}
	if err != nil {
		return nil, fmt.Errorf("zipping a function's code: %w", err)
	}
	return b.Bytes(), nil
}

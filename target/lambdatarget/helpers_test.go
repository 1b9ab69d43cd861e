package lambdatarget_test

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/fleetdeploy/fleetdeploy/internal/motoserver"
	"github.com/fleetdeploy/fleetdeploy/target"
)

func TestMain(m *testing.M) { motoserver.Main(m) }

// start is the fake clocks' first reading.
var start = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

// roleOnce creates the execution role every function of the test binary
// uses: moto's Lambda refuses a function whose role is not in its IAM.
var (
	roleOnce sync.Once
	roleARN  string
	roleErr  error
)

// setup readies the moto server at endpoint for Lambda: Invoke without
// Docker (moto then runs no code and answers at once), and an IAM role
// for the functions. It returns the role's ARN.
func setup(ctx context.Context, cfg aws.Config, endpoint string) (string, error) {
	roleOnce.Do(func() {
		roleARN, roleErr = motoserver.PrepareLambda(ctx, cfg, endpoint, "fleetdeploy-lambdatarget-hooks")
	})
	return roleARN, roleErr
}

// world is one test's view of moto's Lambda.
type world struct {
	t      *testing.T
	client *lambda.Client
	role   string
}

func newWorld(t *testing.T) *world {
	t.Helper()
	cfg := motoserver.Config(t)
	role, err := setup(context.Background(), cfg, motoserver.Endpoint(t))
	if err != nil {
		t.Fatal(err)
	}
	return &world{t: t, client: lambda.NewFromConfig(cfg), role: role}
}

// codeZip is a deployment package with one handler file; moto stores it
// and runs nothing.
func codeZip(t *testing.T, text string) []byte {
	t.Helper()
	var b bytes.Buffer
	z := zip.NewWriter(&b)
	f, err := z.Create("index.py")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.WriteString(f, text); err != nil {
		t.Fatal(err)
	}
	if err := z.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// function creates a function named after the test, publishes versions
// 1 … n (each a configuration change, as moto publishes nothing
// unchanged) and returns its name.
func (w *world) function(prefix string, n int) string {
	w.t.Helper()
	ctx := context.Background()
	// Function names are [A-Za-z0-9_-], at most 64 characters; the random
	// suffix of Name is at its end.
	name := strings.ReplaceAll(motoserver.Name(w.t, prefix), ".", "_")
	if len(name) > 64 {
		name = prefix + "-" + name[len(name)-63+len(prefix):]
	}
	if _, err := w.client.CreateFunction(ctx, &lambda.CreateFunctionInput{FunctionName: aws.String(name),
		Role: aws.String(w.role), Runtime: types.RuntimePython312, Handler: aws.String("index.handler"),
		Code: &types.FunctionCode{ZipFile: codeZip(w.t, "def handler(event, context):\n    return 'v1'\n")}}); err != nil {
		w.t.Fatal(err)
	}
	for v := 1; v <= n; v++ {
		if v > 1 {
			if _, err := w.client.UpdateFunctionConfiguration(ctx, &lambda.UpdateFunctionConfigurationInput{
				FunctionName: aws.String(name), Description: aws.String(fmt.Sprintf("version %d", v))}); err != nil {
				w.t.Fatal(err)
			}
		}
		out, err := w.client.PublishVersion(ctx, &lambda.PublishVersionInput{FunctionName: aws.String(name)})
		if err != nil {
			w.t.Fatal(err)
		}
		if got := aws.ToString(out.Version); got != fmt.Sprint(v) {
			w.t.Fatalf("PublishVersion made version %s; want %d", got, v)
		}
	}
	return name
}

// alias creates alias live on fn pointing at version, and returns its
// route.
func (w *world) alias(fn, version string) target.TrafficRoute {
	w.t.Helper()
	if _, err := w.client.CreateAlias(context.Background(), &lambda.CreateAliasInput{FunctionName: aws.String(fn),
		Name: aws.String("live"), FunctionVersion: aws.String(version)}); err != nil {
		w.t.Fatal(err)
	}
	return target.TrafficRoute{ResourceID: fn + ":live"}
}

// aliasState is what GetAlias says about an alias, read straight from
// moto.
type aliasState struct {
	Version string
	Weights map[string]float64 // nil when the alias has no weighted routing
}

func (w *world) state(route target.TrafficRoute) aliasState {
	w.t.Helper()
	i := strings.LastIndexByte(route.ResourceID, ':')
	out, err := w.client.GetAlias(context.Background(), &lambda.GetAliasInput{FunctionName: aws.String(route.ResourceID[:i]),
		Name: aws.String(route.ResourceID[i+1:])})
	if err != nil {
		w.t.Fatal(err)
	}
	s := aliasState{Version: aws.ToString(out.FunctionVersion)}
	if out.RoutingConfig != nil && len(out.RoutingConfig.AdditionalVersionWeights) > 0 {
		s.Weights = out.RoutingConfig.AdditionalVersionWeights
	}
	return s
}

// setAlias sets an alias behind the Shifter's back.
func (w *world) setAlias(route target.TrafficRoute, version string, weights map[string]float64) {
	w.t.Helper()
	i := strings.LastIndexByte(route.ResourceID, ':')
	if weights == nil {
		weights = map[string]float64{}
	}
	if _, err := w.client.UpdateAlias(context.Background(), &lambda.UpdateAliasInput{FunctionName: aws.String(route.ResourceID[:i]),
		Name: aws.String(route.ResourceID[i+1:]), FunctionVersion: aws.String(version),
		RoutingConfig: &types.AliasRoutingConfiguration{AdditionalVersionWeights: weights}}); err != nil {
		w.t.Fatal(err)
	}
}

// recorder wraps the real client and records the input of every call, so
// that the tests see what was sent to moto (which runs no code).
type recorder struct {
	*lambda.Client
	mu      sync.Mutex
	invokes []*lambda.InvokeInput
	updates int
	// invokeErr, when set, is returned instead of calling Invoke.
	invokeErr error
	// updateErr, when set, is returned instead of calling UpdateAlias.
	updateErr error
}

func (r *recorder) Invoke(ctx context.Context, in *lambda.InvokeInput, optFns ...func(*lambda.Options)) (*lambda.InvokeOutput, error) {
	r.mu.Lock()
	r.invokes = append(r.invokes, in)
	err := r.invokeErr
	r.mu.Unlock()
	if err != nil {
		return nil, err
	}
	return r.Client.Invoke(ctx, in, optFns...)
}

func (r *recorder) UpdateAlias(ctx context.Context, in *lambda.UpdateAliasInput, optFns ...func(*lambda.Options)) (*lambda.UpdateAliasOutput, error) {
	r.mu.Lock()
	r.updates++
	err := r.updateErr
	r.mu.Unlock()
	if err != nil {
		return nil, err
	}
	return r.Client.UpdateAlias(ctx, in, optFns...)
}

func (r *recorder) invoked() []*lambda.InvokeInput {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]*lambda.InvokeInput(nil), r.invokes...)
}

func (r *recorder) updateCount() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.updates
}

// reports is a fake target.HookReports: Await returns what report sends,
// or ctx's error.
type reports struct {
	ch      chan target.LifecycleEventStatus
	mu      sync.Mutex
	got     *target.LifecycleEventStatus
	waiting chan struct{} // closed when a non-peek Await starts waiting
	once    sync.Once
}

func newReports() *reports {
	return &reports{ch: make(chan target.LifecycleEventStatus, 1), waiting: make(chan struct{})}
}

// report makes st the reported status.
func (r *reports) report(st target.LifecycleEventStatus) { r.ch <- st }

func (r *reports) Await(ctx context.Context) (target.LifecycleEventStatus, error) {
	r.mu.Lock()
	if r.got != nil {
		st := *r.got
		r.mu.Unlock()
		return st, nil
	}
	r.mu.Unlock()
	select {
	case st := <-r.ch:
		r.mu.Lock()
		r.got = &st
		r.mu.Unlock()
		return st, nil
	default:
	}
	if ctx.Err() != nil {
		return "", ctx.Err()
	}
	r.once.Do(func() { close(r.waiting) })
	select {
	case st := <-r.ch:
		r.mu.Lock()
		r.got = &st
		r.mu.Unlock()
		return st, nil
	case <-ctx.Done():
		return "", ctx.Err()
	}
}

// errorsAsCode returns the code of the *target.CodeError in err, "" if
// none.
func errorsAsCode(err error) string {
	var ce *target.CodeError
	if errors.As(err, &ce) {
		return ce.Code
	}
	return ""
}

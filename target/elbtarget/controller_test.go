package elbtarget_test

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/smithy-go"
	"github.com/fleetdeploy/fleetdeploy/deploy/deploytest"
	"github.com/fleetdeploy/fleetdeploy/deploy/plan"
	"github.com/fleetdeploy/fleetdeploy/target"
	"github.com/fleetdeploy/fleetdeploy/target/elbtarget"
	"github.com/hashicorp/go-multierror"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	v2types "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
)

const interval = 15 * time.Second

func newController(t *testing.T, v2 elbtarget.TargetGroupsAPI, classic elbtarget.ClassicAPI, clk *deploytest.FakeClock, opts ...func(*elbtarget.Options)) *elbtarget.Controller {
	t.Helper()
	opts = append([]func(*elbtarget.Options){func(o *elbtarget.Options) { o.Clock = clk; o.PollInterval = interval }}, opts...)
	c, err := elbtarget.New(v2, classic, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// asError returns the *elbtarget.Error in err for the named load balancer.
func asError(t *testing.T, err error, name string) *elbtarget.Error {
	t.Helper()
	var me *multierror.Error
	if !errors.As(err, &me) {
		t.Fatalf("error %v is not a *multierror.Error", err)
	}
	for _, e := range me.Errors {
		var ee *elbtarget.Error
		if errors.As(e, &ee) && ee.Name == name {
			return ee
		}
	}
	t.Fatalf("error %v has no *elbtarget.Error for %q", err, name)
	return nil
}

// BlockTraffic deregisters and waits while the target group reports the
// target draining, polling on the injected clock.
func TestBlockTrafficWaitsForDraining(t *testing.T) {
	w := newWorld(t)
	id := w.instance()
	tg, arn := w.targetGroup(120 * time.Second)
	w.register(arn, id)
	api := newScriptedV2(w.v2, 3, 0)
	clk := deploytest.NewFakeClock(start)
	c := newController(t, api, nil, clk)

	took, err := run(t, clk, 1, func() error { return c.BlockTraffic(context.Background(), request(id, []string{tg}, nil)) })
	if err != nil {
		t.Fatal(err)
	}
	if took != 3*interval {
		t.Errorf("BlockTraffic took %v of virtual time; want 3 polls of %v = %v", took, interval, 3*interval)
	}
	if got := api.count("DeregisterTargets"); got != 1 {
		t.Errorf("DeregisterTargets called %d times; want 1", got)
	}
	if ports := w.registered(arn, id); len(ports) != 0 {
		t.Errorf("instance still registered on ports %v", ports)
	}
}

// A target that drains longer than the deregistration delay plus the slack
// fails BlockTraffic with TIMEOUT, exactly at that bound.
func TestBlockTrafficTimesOut(t *testing.T) {
	w := newWorld(t)
	id := w.instance()
	tg, arn := w.targetGroup(30 * time.Second)
	w.register(arn, id)
	clk := deploytest.NewFakeClock(start)
	c := newController(t, newScriptedV2(w.v2, -1, 0), nil, clk, func(o *elbtarget.Options) { o.DrainSlack = 10 * time.Second })

	took, err := run(t, clk, 1, func() error { return c.BlockTraffic(context.Background(), request(id, []string{tg}, nil)) })
	if !errors.Is(err, elbtarget.ErrTimeout) {
		t.Fatalf("error %v; want one wrapping ErrTimeout", err)
	}
	e := asError(t, err, tg)
	if e.Code != plan.Timeout || e.Op != "BlockTraffic" || e.InstanceID != id || e.Kind != elbtarget.KindTargetGroup {
		t.Errorf("error %+v; want BlockTraffic of %s on target group %s with code TIMEOUT", e, id, tg)
	}
	if took != 40*time.Second {
		t.Errorf("gave up after %v; want the delay 30s + slack 10s = 40s", took)
	}
}

// An instance that is not registered is skipped: nothing is deregistered
// and nothing waited for.
func TestBlockTrafficNotRegistered(t *testing.T) {
	w := newWorld(t)
	id, other := w.instance(), w.instance()
	tg, arn := w.targetGroup(300 * time.Second)
	w.register(arn, other)
	api := newScriptedV2(w.v2, -1, 0)
	clk := deploytest.NewFakeClock(start)
	c := newController(t, api, nil, clk)
	if err := c.BlockTraffic(context.Background(), request(id, []string{tg}, nil)); err != nil {
		t.Fatal(err)
	}
	if got := api.count("DeregisterTargets"); got != 0 {
		t.Errorf("DeregisterTargets called %d times for an unregistered instance; want 0", got)
	}
	if !clk.Now().Equal(start) {
		t.Errorf("the clock moved to %v; nothing should have waited", clk.Now())
	}
	if ports := w.registered(arn, other); len(ports) != 1 {
		t.Errorf("the other instance is registered on %v; want it left alone", ports)
	}
}

// AllowTraffic registers on the target group's port and waits while the
// target is "initial".
func TestAllowTrafficWaitsForHealthy(t *testing.T) {
	w := newWorld(t)
	id := w.instance()
	tg, arn := w.targetGroup(300 * time.Second)
	api := newScriptedV2(w.v2, 0, 2)
	clk := deploytest.NewFakeClock(start)
	c := newController(t, api, nil, clk)

	took, err := run(t, clk, 1, func() error { return c.AllowTraffic(context.Background(), request(id, []string{tg}, nil)) })
	if err != nil {
		t.Fatal(err)
	}
	if took != 2*interval {
		t.Errorf("AllowTraffic took %v; want 2 polls of %v", took, interval)
	}
	if ports := w.registered(arn, id); !slices.Equal(ports, []int32{8080}) {
		t.Errorf("instance registered on ports %v; want [8080], the target group's port", ports)
	}
	// Again: registered and healthy already is not an error.
	c = newController(t, w.v2, nil, clk)
	if err := c.AllowTraffic(context.Background(), request(id, []string{tg}, nil)); err != nil {
		t.Fatalf("AllowTraffic on a healthy instance: %v", err)
	}
}

// A target that never becomes healthy fails AllowTraffic with TIMEOUT after
// CodeDeploy's hour.
func TestAllowTrafficTimesOutAfterAnHour(t *testing.T) {
	w := newWorld(t)
	id := w.instance()
	tg, _ := w.targetGroup(300 * time.Second)
	clk := deploytest.NewFakeClock(start)
	c := newController(t, newScriptedV2(w.v2, 0, -1), nil, clk, func(o *elbtarget.Options) { o.PollInterval = 10 * time.Minute })

	took, err := run(t, clk, 1, func() error { return c.AllowTraffic(context.Background(), request(id, []string{tg}, nil)) })
	if e := asError(t, err, tg); e.Code != plan.Timeout || !errors.Is(err, elbtarget.ErrTimeout) {
		t.Fatalf("error %v (code %s); want TIMEOUT", err, e.Code)
	}
	if took != time.Hour {
		t.Errorf("gave up after %v; want %v", took, time.Hour)
	}
}

// A stopped instance cannot be registered: ELB_INVALID_INSTANCE, with the
// service's InvalidTarget error reachable and target.ErrTargetUnavailable
// matched.
func TestAllowTrafficStoppedInstance(t *testing.T) {
	w := newWorld(t)
	id := w.instance()
	if _, err := w.ec2.StopInstances(context.Background(), &ec2.StopInstancesInput{InstanceIds: []string{id}}); err != nil {
		t.Fatal(err)
	}
	tg, _ := w.targetGroup(300 * time.Second)
	c := newController(t, w.v2, nil, deploytest.NewFakeClock(start))
	err := c.AllowTraffic(context.Background(), request(id, []string{tg}, nil))
	if e := asError(t, err, tg); e.Code != plan.ELBInvalidInstance {
		t.Errorf("code %q; want ELB_INVALID_INSTANCE", e.Code)
	}
	if !errors.Is(err, target.ErrTargetUnavailable) {
		t.Errorf("error %v does not match target.ErrTargetUnavailable", err)
	}
	var api smithy.APIError
	if !errors.As(err, &api) || api.ErrorCode() != "InvalidTarget" {
		t.Errorf("error %v: want the service's InvalidTarget reachable as smithy.APIError", err)
	}
}

// Every target group and load balancer is tried; every failure is
// reported, named, with its code; the others succeed.
func TestPartialFailures(t *testing.T) {
	w := newWorld(t)
	id := w.instance()
	tg1, arn1 := w.targetGroup(300 * time.Second)
	tg3, arn3 := w.targetGroup(300 * time.Second)
	clb := w.classicLB(0)
	missingTG, missingCLB := shortName("gone"), shortName("gone")
	c := newController(t, w.v2, w.classic, deploytest.NewFakeClock(start))

	err := c.AllowTraffic(context.Background(), request(id, []string{tg1, missingTG, tg3}, []string{missingCLB, clb}))
	var me *multierror.Error
	if !errors.As(err, &me) || len(me.Errors) != 2 {
		t.Fatalf("error %v; want 2 failures", err)
	}
	// In the order of the request's lists, under one heading.
	want := fmt.Sprintf("elbtarget: AllowTraffic %s: 2 failures:\n  on target group %q (ELASTIC_LOAD_BALANCING_INVALID): ", id, missingTG)
	if msg := err.Error(); !strings.HasPrefix(msg, want) || !strings.Contains(msg, fmt.Sprintf("\n  on Classic Load Balancer %q (", missingCLB)) {
		t.Errorf("message:\n%s\nwant it to start with\n%s\nand list the Classic Load Balancer second", msg, want)
	}
	for _, name := range []string{missingTG, missingCLB} {
		e := asError(t, err, name)
		if e.Code != plan.ElasticLoadBalancingInvalid || !errors.Is(e, target.ErrNotFound) {
			t.Errorf("%s: code %q, error %v; want ELASTIC_LOAD_BALANCING_INVALID matching target.ErrNotFound", name, e.Code, e)
		}
		var api smithy.APIError
		if !errors.As(e, &api) {
			t.Errorf("%s: the service's error is not reachable: %v", name, e)
		}
	}
	if k := asError(t, err, missingCLB).Kind; k != elbtarget.KindClassic {
		t.Errorf("kind %q; want %q", k, elbtarget.KindClassic)
	}
	for _, arn := range []string{arn1, arn3} {
		if ports := w.registered(arn, id); len(ports) != 1 {
			t.Errorf("target group %s: instance on ports %v; want registered once despite the other failures", arn, ports)
		}
	}
	if !w.classicRegistered(clb, id) {
		t.Errorf("instance not registered with %s despite the other failures", clb)
	}
}

// The target groups drain at the same time, up to Options.Concurrency at
// once.
func TestBlockTrafficConcurrency(t *testing.T) {
	w := newWorld(t)
	id := w.instance()
	var names []string
	for range 3 {
		tg, arn := w.targetGroup(300 * time.Second)
		w.register(arn, id)
		names = append(names, tg)
	}
	for _, tc := range []struct {
		concurrency, waiters int
		want                 time.Duration
	}{{0, 3, 2 * interval}, {1, 1, 6 * interval}} {
		api := newScriptedV2(w.v2, 2, 0)
		clk := deploytest.NewFakeClock(start)
		c := newController(t, api, nil, clk, func(o *elbtarget.Options) { o.Concurrency = tc.concurrency })
		took, err := run(t, clk, tc.waiters, func() error { return c.BlockTraffic(context.Background(), request(id, names, nil)) })
		if err != nil {
			t.Fatal(err)
		}
		if took != tc.want {
			t.Errorf("concurrency %d: 3 target groups draining 2 polls each took %v; want %v", tc.concurrency, took, tc.want)
		}
		if got, want := api.mostOpen(), min(cmp.Or(tc.concurrency, 3), 3); got != want {
			t.Errorf("concurrency %d: %d target groups worked on at once; want %d", tc.concurrency, got, want)
		}
		if got := api.count("DeregisterTargets"); got != 3 {
			t.Errorf("DeregisterTargets called %d times; want 3", got)
		}
		if tc.concurrency == 0 { // register again for the next case
			for _, n := range names {
				if err := c.AllowTraffic(context.Background(), request(id, []string{n}, nil)); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
}

// Classic Load Balancers: deregister and wait while InService (draining),
// bounded by the connection-draining timeout; register and wait for
// InService.
func TestClassic(t *testing.T) {
	w := newWorld(t)
	id := w.instance()
	clb := w.classicLB(60 * time.Second)
	api := newScriptedClassic(w.classic, 2, 3)
	clk := deploytest.NewFakeClock(start)
	c := newController(t, nil, api, clk)
	req := request(id, nil, []string{clb})

	took, err := run(t, clk, 1, func() error { return c.AllowTraffic(context.Background(), req) })
	if err != nil {
		t.Fatal(err)
	}
	if took != 3*interval || !w.classicRegistered(clb, id) {
		t.Errorf("AllowTraffic took %v, registered %v; want 3 polls and registered", took, w.classicRegistered(clb, id))
	}
	took, err = run(t, clk, 1, func() error { return c.BlockTraffic(context.Background(), req) })
	if err != nil {
		t.Fatal(err)
	}
	if took != 2*interval || w.classicRegistered(clb, id) {
		t.Errorf("BlockTraffic took %v, registered %v; want 2 polls and deregistered", took, w.classicRegistered(clb, id))
	}
	// Not registered any more: skipped, no poll.
	before := api.pollsOf(clb)
	if err := c.BlockTraffic(context.Background(), req); err != nil {
		t.Fatal(err)
	}
	if api.pollsOf(clb) != before {
		t.Errorf("BlockTraffic of an unregistered instance polled the load balancer")
	}

	// Draining that outlasts the timeout: TIMEOUT at timeout + slack.
	if err := newController(t, nil, w.classic, clk).AllowTraffic(context.Background(), req); err != nil {
		t.Fatal(err)
	}
	c = newController(t, nil, newScriptedClassic(w.classic, -1, 0), clk, func(o *elbtarget.Options) { o.DrainSlack = 15 * time.Second })
	took, err = run(t, clk, 1, func() error { return c.BlockTraffic(context.Background(), req) })
	if e := asError(t, err, clb); e.Code != plan.Timeout || e.Kind != elbtarget.KindClassic {
		t.Fatalf("error %v; want TIMEOUT on the Classic Load Balancer", err)
	}
	if took != 75*time.Second {
		t.Errorf("gave up after %v; want the draining timeout 60s + slack 15s", took)
	}
}

// Cancelling ctx ends a wait with ctx's error and no code.
func TestCancelEndsTheWait(t *testing.T) {
	w := newWorld(t)
	id := w.instance()
	tg, arn := w.targetGroup(300 * time.Second)
	w.register(arn, id)
	clk := deploytest.NewFakeClock(start)
	c := newController(t, newScriptedV2(w.v2, -1, 0), nil, clk)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.BlockTraffic(ctx, request(id, []string{tg}, nil)) }()
	if err := clk.BlockUntil(context.Background(), 1); err != nil {
		t.Fatal(err)
	}
	cancel()
	err := <-done
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("error %v; want context.Canceled", err)
	}
	if e := asError(t, err, tg); e.Code != "" {
		t.Errorf("code %q for a cancelled call; want none", e.Code)
	}
	if clk.Waiters() != 0 {
		t.Errorf("%d timers left behind", clk.Waiters())
	}
}

// Target groups of another target type, and a kind of load balancer
// without a client, are ELASTIC_LOAD_BALANCING_INVALID.
func TestMisconfiguration(t *testing.T) {
	w := newWorld(t)
	id := w.instance()
	ipTG := shortName("ip")
	if _, err := w.v2.CreateTargetGroup(context.Background(), &elbv2.CreateTargetGroupInput{Name: aws.String(ipTG),
		Protocol: v2types.ProtocolEnumHttp, Port: aws.Int32(80), VpcId: aws.String(w.vpc), TargetType: v2types.TargetTypeEnumIp}); err != nil {
		t.Fatal(err)
	}
	clk := deploytest.NewFakeClock(start)
	c := newController(t, w.v2, nil, clk)
	err := c.AllowTraffic(context.Background(), request(id, []string{ipTG}, []string{"some-classic"}))
	e := asError(t, err, ipTG)
	if e.Code != plan.ElasticLoadBalancingInvalid || !errors.Is(e, elbtarget.ErrTargetType) {
		t.Errorf("ip target group: %v (code %q); want ErrTargetType, ELASTIC_LOAD_BALANCING_INVALID", e, e.Code)
	}
	e = asError(t, err, "some-classic")
	if e.Code != plan.ElasticLoadBalancingInvalid || !errors.Is(e, elbtarget.ErrNoClient) {
		t.Errorf("classic without a client: %v (code %q); want ErrNoClient, ELASTIC_LOAD_BALANCING_INVALID", e, e.Code)
	}
}

func TestRequestAndOptions(t *testing.T) {
	w := newWorld(t)
	c := newController(t, w.v2, w.classic, deploytest.NewFakeClock(start))
	if err := c.BlockTraffic(context.Background(), request("", []string{"x"}, nil)); !errors.Is(err, target.ErrInvalidRequest) {
		t.Errorf("empty target ID: %v; want target.ErrInvalidRequest", err)
	}
	if err := c.AllowTraffic(context.Background(), request("i-1", nil, nil)); err != nil {
		t.Errorf("no load balancer: %v; want nothing to do", err)
	}
	if _, err := elbtarget.New(nil, nil); !errors.Is(err, elbtarget.ErrInvalidOptions) {
		t.Errorf("New(nil, nil): %v; want ErrInvalidOptions", err)
	}
	for _, f := range []func(*elbtarget.Options){
		func(o *elbtarget.Options) { o.PollInterval = -1 },
		func(o *elbtarget.Options) { o.HealthyTimeout = -1 },
		func(o *elbtarget.Options) { o.DrainSlack = -1 },
		func(o *elbtarget.Options) { o.Concurrency = -1 },
	} {
		if _, err := elbtarget.New(w.v2, nil, f); !errors.Is(err, elbtarget.ErrInvalidOptions) {
			t.Errorf("negative option: %v; want ErrInvalidOptions", err)
		}
	}
}

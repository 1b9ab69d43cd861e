package localtraffic_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/fleetdeploy/fleetdeploy/target"
	"github.com/fleetdeploy/fleetdeploy/target/localtraffic"
)

var tgWeb = target.TrafficRoute{ResourceID: "tg-web"}

// viaTargetGroup is a TrafficRequest for id whose deployment group names
// the target group tg-web (its loadBalancerInfo).
func viaTargetGroup(id string) target.TrafficRequest {
	return target.TrafficRequest{Target: target.Target{ID: id}, Deployment: target.DeploymentInfo{
		DeploymentID: "d-1", LoadBalancer: target.LoadBalancerInfo{TargetGroupInfoList: []target.NameInfo{{Name: "tg-web"}}}}}
}

// pool adds tg-web with backends web-1..web-3, each a real server
// answering 200 with its ID.
func pool(t *testing.T, p *localtraffic.Proxy) {
	t.Helper()
	var bs []localtraffic.Backend
	for _, id := range []string{"web-1", "web-2", "web-3"} {
		bs = append(bs, localtraffic.Backend{ID: id, URL: backendServer(t, id, http.StatusOK).URL})
	}
	if err := p.AddRoute(tgWeb, "", bs...); err != nil {
		t.Fatal(err)
	}
}

// In-place with a load balancer (User Guide, "AppSpec 'hooks' section"):
// BlockTraffic takes a target out of the pool, AllowTraffic puts it back;
// the pool is round robin over the targets in service.
func TestBlockAndAllowTraffic(t *testing.T) {
	p, _ := newProxy(t)
	pool(t, p)
	fe := front(t, p, tgWeb)
	ctx := context.Background()

	want := func(step string, n int, w map[result]int) {
		t.Helper()
		got := blast(t, fe.Client(), fe.URL, n, 1) // one worker: the round robin is exact
		if len(got) != len(w) {
			t.Errorf("%s: %v; want %v", step, got, w)
		}
		for k, v := range w {
			if got[k] != v {
				t.Errorf("%s: %v; want %v", step, got, w)
				break
			}
		}
	}
	want("all in service", 300, map[result]int{{200, "web-1"}: 100, {200, "web-2"}: 100, {200, "web-3"}: 100})

	if err := p.BlockTraffic(ctx, viaTargetGroup("web-2")); err != nil {
		t.Fatal(err)
	}
	want("web-2 blocked", 300, map[result]int{{200, "web-1"}: 150, {200, "web-3"}: 150})
	if err := p.BlockTraffic(ctx, viaTargetGroup("web-2")); err != nil {
		t.Errorf("blocking a blocked target: %v; want nil", err)
	}

	if err := p.AllowTraffic(ctx, viaTargetGroup("web-2")); err != nil {
		t.Fatal(err)
	}
	want("web-2 allowed again", 300, map[result]int{{200, "web-1"}: 100, {200, "web-2"}: 100, {200, "web-3"}: 100})
	if err := p.AllowTraffic(ctx, viaTargetGroup("web-2")); err != nil {
		t.Errorf("allowing a target in service: %v; want nil", err)
	}

	// Blocking the last target in service leaves the pool nothing to send
	// requests to: 503, counted as errors of the route.
	before := mustStats(t, p, tgWeb)
	for _, id := range []string{"web-1", "web-2", "web-3"} {
		if err := p.BlockTraffic(ctx, viaTargetGroup(id)); err != nil {
			t.Fatal(err)
		}
	}
	want("all blocked", 50, map[result]int{{503, "localtraffic:"}: 50})
	s := mustStats(t, p, tgWeb).Sub(before)
	if s.Total != (localtraffic.Counts{Requests: 50, Errors: 50}) || s.Unavailable() != 50 || len(s.Backends) != 0 {
		t.Errorf("all blocked: stats %+v (unavailable %d); want 50 requests, 50 errors, all unavailable", s, s.Unavailable())
	}
	if err := p.AllowTraffic(ctx, viaTargetGroup("web-3")); err != nil {
		t.Fatal(err)
	}
	want("web-3 back", 20, map[result]int{{200, "web-3"}: 20})
}

// Blue/green ("AppSpec 'hooks' section"): replacements are registered out of
// service and AllowTraffic brings them in; a request that names no load
// balancer acts on every route that has the target.
func TestBlueGreenAndRoutesWithoutLoadBalancer(t *testing.T) {
	p, _ := newProxy(t)
	blue := backendServer(t, "blue-1", http.StatusOK)
	green := backendServer(t, "green-1", http.StatusOK)
	other := target.TrafficRoute{ResourceID: "clb-web"}
	for _, r := range []target.TrafficRoute{tgWeb, other} {
		if err := p.AddRoute(r, "", localtraffic.Backend{ID: "blue-1", URL: blue.URL},
			localtraffic.Backend{ID: "green-1", URL: green.URL, Blocked: true}); err != nil {
			t.Fatal(err)
		}
	}
	fe, feOther := front(t, p, tgWeb), front(t, p, other)
	ctx := context.Background()
	only := func(step, body string) {
		t.Helper()
		for _, s := range []*httptest.Server{fe, feOther} {
			if got := blast(t, s.Client(), s.URL, 10, 2); got[result{200, body}] != 10 {
				t.Errorf("%s: %v; want all 10 on %s", step, got, body)
			}
		}
	}
	only("before rerouting", "blue-1")
	noLB := target.TrafficRequest{Target: target.Target{ID: "green-1"}}
	if err := p.AllowTraffic(ctx, noLB); err != nil {
		t.Fatal(err)
	}
	if err := p.BlockTraffic(ctx, target.TrafficRequest{Target: target.Target{ID: "blue-1"}}); err != nil {
		t.Fatal(err)
	}
	only("after rerouting", "green-1")

	// Rollback while the originals exist (User Guide, "Redeploy and roll
	// back a deployment with CodeDeploy"), through the Classic Load Balancer
	// only.
	viaCLB := func(id string) target.TrafficRequest {
		return target.TrafficRequest{Target: target.Target{ID: id},
			Deployment: target.DeploymentInfo{LoadBalancer: target.LoadBalancerInfo{ELBInfoList: []target.NameInfo{{Name: "clb-web"}}}}}
	}
	if err := p.AllowTraffic(ctx, viaCLB("blue-1")); err != nil {
		t.Fatal(err)
	}
	if err := p.BlockTraffic(ctx, viaCLB("green-1")); err != nil {
		t.Fatal(err)
	}
	if got := blast(t, feOther.Client(), feOther.URL, 10, 2); got[result{200, "blue-1"}] != 10 {
		t.Errorf("clb-web after rollback: %v; want all on blue-1", got)
	}
	if got := blast(t, fe.Client(), fe.URL, 10, 2); got[result{200, "green-1"}] != 10 {
		t.Errorf("tg-web, not named by the rollback: %v; want it unchanged, all on green-1", got)
	}
}

func TestTrafficControlErrors(t *testing.T) {
	p, _ := newProxy(t)
	pool(t, p)
	ctx := context.Background()
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	unknownLB := viaTargetGroup("web-1")
	unknownLB.Deployment.LoadBalancer.ELBInfoList = []target.NameInfo{{Name: "clb-missing"}}
	for _, tc := range []struct {
		name string
		err  error
		is   error
	}{
		{"block without target ID", p.BlockTraffic(ctx, viaTargetGroup("")), target.ErrInvalidRequest},
		{"allow without target ID", p.AllowTraffic(ctx, viaTargetGroup("")), target.ErrInvalidRequest},
		{"block on a load balancer with no route", p.BlockTraffic(ctx, unknownLB), target.ErrNotFound},
		{"allow on a load balancer with no route", p.AllowTraffic(ctx, unknownLB), target.ErrNotFound},
		{"allow a target with no backend", p.AllowTraffic(ctx, viaTargetGroup("web-9")), target.ErrTargetUnavailable},
		{"allow a target no route has", p.AllowTraffic(ctx, target.TrafficRequest{Target: target.Target{ID: "web-9"}}), target.ErrTargetUnavailable},
		{"block with ctx done", p.BlockTraffic(cancelled, viaTargetGroup("web-1")), context.Canceled},
		{"allow with ctx done", p.AllowTraffic(cancelled, viaTargetGroup("web-1")), context.Canceled},
	} {
		if !errors.Is(tc.err, tc.is) {
			t.Errorf("%s: %v; want an error wrapping %v", tc.name, tc.err, tc.is)
		}
	}
	// "A target that is not registered is not an error" (BlockTraffic).
	if err := p.BlockTraffic(ctx, viaTargetGroup("web-9")); err != nil {
		t.Errorf("block a target with no backend: %v; want nil", err)
	}
	// Nothing was blocked by the failed calls.
	fe := front(t, p, tgWeb)
	if got := blast(t, fe.Client(), fe.URL, 3, 1); len(got) != 3 {
		t.Errorf("after failed calls: %v; want one request on each of the 3 targets", got)
	}
}

// BlockTraffic returns once requests in flight to the target are done
// (connection draining); a target blocked mid-request gets no new ones.
func TestBlockTrafficDrains(t *testing.T) {
	p, _ := newProxy(t)
	arrived, release := make(chan struct{}), make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow" {
			close(arrived)
			<-release
		}
		w.Write([]byte("web-1"))
	}))
	t.Cleanup(slow.Close)
	fast := backendServer(t, "web-2", http.StatusOK)
	if err := p.AddRoute(tgWeb, "", localtraffic.Backend{ID: "web-1", URL: slow.URL}, localtraffic.Backend{ID: "web-2", URL: fast.URL}); err != nil {
		t.Fatal(err)
	}
	fe := front(t, p, tgWeb)
	unblock := sync.OnceFunc(func() { close(release) })
	t.Cleanup(unblock) // before fe.Close, which waits for the request
	inflight := make(chan result, 1)
	go func() { // round robin: the first request goes to web-1
		r, err := fetch(fe.Client(), fe.URL+"/slow")
		if err != nil {
			t.Error(err)
		}
		inflight <- r
	}()
	<-arrived

	ctx, cancel := context.WithCancel(context.Background())
	drained := make(chan error, 1)
	go func() { drained <- p.BlockTraffic(ctx, viaTargetGroup("web-1")) }()
	// Wait, by its effect, until web-1 is out of service: with both in
	// service the round robin alternates, so two answers in a row from
	// web-2 mean web-1 is blocked. Bounded.
	streak := 0
	for i := 0; streak < 2; i++ {
		if i == 1000 {
			t.Fatal("web-1 still gets requests after 1000 tries")
		}
		if _, body := get(t, fe.Client(), fe.URL); body == "web-2" {
			streak++
		} else {
			streak = 0
		}
	}
	select {
	case err := <-drained:
		t.Fatalf("BlockTraffic returned %v while a request to the target was in flight", err)
	default:
	}
	unblock()
	if r := <-inflight; r != (result{200, "web-1"}) {
		t.Errorf("request in flight: %v; want it to finish on web-1", r)
	}
	if err := <-drained; err != nil {
		t.Errorf("BlockTraffic after the drain: %v", err)
	}
	cancel()
}

// When ctx ends during the drain, BlockTraffic returns its error and the
// target stays blocked.
func TestBlockTrafficDrainCancelled(t *testing.T) {
	p, _ := newProxy(t)
	arrived, release := make(chan struct{}), make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow" {
			close(arrived)
			<-release
		}
		w.Write([]byte("web-1"))
	}))
	t.Cleanup(slow.Close)
	if err := p.AddRoute(tgWeb, "", localtraffic.Backend{ID: "web-1", URL: slow.URL}); err != nil {
		t.Fatal(err)
	}
	fe := front(t, p, tgWeb)
	unblock := sync.OnceFunc(func() { close(release) })
	t.Cleanup(unblock) // before fe.Close, which waits for the request
	inflight := make(chan result, 1)
	go func() {
		r, err := fetch(fe.Client(), fe.URL+"/slow")
		if err != nil {
			t.Error(err)
		}
		inflight <- r
	}()
	<-arrived
	ctx, cancel := context.WithCancel(context.Background())
	drained := make(chan error, 1)
	go func() { drained <- p.BlockTraffic(ctx, viaTargetGroup("web-1")) }()
	// Wait, by its effect, until web-1 is blocked: the pool answers 503.
	// Bounded.
	for i := 0; ; i++ {
		if i == 1000 {
			t.Fatal("web-1 still in service after 1000 tries")
		}
		if status, _ := get(t, fe.Client(), fe.URL); status == http.StatusServiceUnavailable {
			break
		}
	}
	cancel()
	if err := <-drained; !errors.Is(err, context.Canceled) {
		t.Errorf("BlockTraffic cancelled mid-drain: %v; want context.Canceled", err)
	}
	if status, _ := get(t, fe.Client(), fe.URL); status != http.StatusServiceUnavailable {
		t.Errorf("after the cancelled drain: status %d; want 503, web-1 still blocked", status)
	}
	unblock()
	if r := <-inflight; r != (result{200, "web-1"}) {
		t.Errorf("request in flight: %v; want it to finish on web-1", r)
	}
}

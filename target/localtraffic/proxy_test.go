package localtraffic_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/fleetdeploy/fleetdeploy/config"
	"github.com/fleetdeploy/fleetdeploy/target"
	"github.com/fleetdeploy/fleetdeploy/target/localtraffic"
)

var live = target.TrafficRoute{ResourceID: "shop:live"}

// versioned adds live with backends v1 (current) and v2, each a real
// server answering 200 with its name.
func versioned(t *testing.T, p *localtraffic.Proxy) {
	t.Helper()
	v1, v2 := backendServer(t, "v1", http.StatusOK), backendServer(t, "v2", http.StatusOK)
	if err := p.AddRoute(live, "v1", localtraffic.Backend{ID: "v1", URL: v1.URL}, localtraffic.Backend{ID: "v2", URL: v2.URL}); err != nil {
		t.Fatal(err)
	}
}

// Real HTTP requests through the proxy, at
// each step of a canary and of a linear schedule
// (config.TrafficRouting.Steps), split within a statistical tolerance of the
// step's weight.
func TestObservedSplitFollowsSchedule(t *testing.T) {
	const (
		n       = 2000 // requests per step with a weight strictly between 0 and 100
		nExact  = 200  // requests per step at 0 or 100, where the split is exact
		sigmas  = 5    // tolerance: P(|X−np| > 5σ) < 6e-7 per step
		workers = 8
	)
	schedules := []struct {
		name    string
		routing config.TrafficRouting
	}{
		{"canary 10% then 100%", config.TrafficRouting{Type: config.TimeBasedCanary,
			TimeBasedCanary: &config.Canary{CanaryPercentage: 10, CanaryInterval: 5}}},
		{"linear 30% every 10 min: 30, 60, 90, 100", config.TrafficRouting{Type: config.TimeBasedLinear,
			TimeBasedLinear: &config.Linear{LinearPercentage: 30, LinearInterval: 10}}},
		{"linear 50% every 1 min: 50, 100", config.TrafficRouting{Type: config.TimeBasedLinear,
			TimeBasedLinear: &config.Linear{LinearPercentage: 50, LinearInterval: 1}}},
	}
	p, clk := newProxy(t)
	versioned(t, p)
	fe := front(t, p, live)
	for _, sc := range schedules {
		t.Run(sc.name, func(t *testing.T) {
			shift(t, p, live, "v1", "v2", 0)
			clk.Advance(time.Hour) // a new deployment, long after the last
			start := clk.Now()
			for _, step := range sc.routing.Steps() {
				clk.Set(start.Add(step.At))
				shift(t, p, live, "v1", "v2", step.Weight)
				n := n
				if step.Weight == 0 || step.Weight == 100 {
					n = nExact
				}
				before := mustStats(t, p, live)
				tally := blast(t, fe.Client(), fe.URL, n, workers)
				got := mustStats(t, p, live).Sub(before)

				toV2 := tally[result{http.StatusOK, "v2"}]
				if ok := tally[result{http.StatusOK, "v1"}] + toV2; ok != n {
					t.Fatalf("weight %d: %d of %d requests answered 200 by v1 or v2: %v", step.Weight, ok, n, tally)
				}
				// The proxy saw what the clients saw.
				if got.Total != (localtraffic.Counts{Requests: int64(n)}) || got.Backends["v2"].Requests != int64(toV2) {
					t.Errorf("weight %d: proxy counted %+v, clients saw %d on v2", step.Weight, got, toV2)
				}
				// The window of the last minute holds this step alone.
				if rec, err := p.Recent(live, time.Minute); err != nil || rec.Backends["v2"] != got.Backends["v2"] || rec.Total != got.Total {
					t.Errorf("weight %d: Recent = %+v, %v; want %+v", step.Weight, rec, err, got)
				}
				pw, fn := float64(step.Weight)/100, float64(n)
				tol := sigmas * math.Sqrt(fn*pw*(1-pw)) // 0 at weights 0 and 100: exact
				if dev := math.Abs(float64(toV2) - fn*pw); dev > tol {
					t.Errorf("weight %d: %d of %d requests on v2, %.1f from the expected %.0f (tolerance %.1f)", step.Weight, toV2, n, dev, fn*pw, tol)
				}
				t.Logf("step at %v: weight %d%%, observed %.1f%% of %d requests on v2", step.At, step.Weight, 100*float64(toV2)/fn, n)
			}
		})
	}
}

func TestWeightsZeroAndHundredAreExact(t *testing.T) {
	p, _ := newProxy(t, func(o *localtraffic.Options) {
		o.Rand = func() float64 { t.Error("Rand drawn at weight 0 or 100"); return 0.5 }
	})
	versioned(t, p)
	fe := front(t, p, live)
	for _, tc := range []struct {
		orig, repl string
		weight     int
		want       string
	}{
		{"v1", "v2", 0, "v1"},
		{"v1", "v2", 100, "v2"},
		{"v2", "v1", 0, "v2"},
		{"v2", "v1", 100, "v1"},
	} {
		shift(t, p, live, tc.orig, tc.repl, tc.weight)
		tally := blast(t, fe.Client(), fe.URL, 200, 4)
		if want := (map[result]int{{http.StatusOK, tc.want}: 200}); fmt.Sprint(tally) != fmt.Sprint(want) {
			t.Errorf("%s→%s at %d: %v; want all 200 on %s", tc.orig, tc.repl, tc.weight, tally, tc.want)
		}
	}
}

func TestShiftTrafficErrors(t *testing.T) {
	p, _ := newProxy(t)
	versioned(t, p)
	shift(t, p, live, "v1", "v2", 20)
	want := target.TrafficSplit{Original: "v1", Replacement: "v2", Weight: 20}
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	for _, tc := range []struct {
		name string
		ctx  context.Context
		req  target.ShiftRequest
		is   error
	}{
		{"weight above 100 (ShiftRequest.Validate)", context.Background(),
			target.ShiftRequest{Route: live, Split: target.TrafficSplit{Original: "v1", Replacement: "v2", Weight: 101}}, target.ErrInvalidRequest},
		{"negative weight", context.Background(),
			target.ShiftRequest{Route: live, Split: target.TrafficSplit{Original: "v1", Replacement: "v2", Weight: -1}}, target.ErrInvalidRequest},
		{"same version on both sides", context.Background(),
			target.ShiftRequest{Route: live, Split: target.TrafficSplit{Original: "v1", Replacement: "v1", Weight: 50}}, target.ErrInvalidRequest},
		{"no replacement", context.Background(),
			target.ShiftRequest{Route: live, Split: target.TrafficSplit{Original: "v1", Weight: 50}}, target.ErrInvalidRequest},
		{"unknown route (TrafficShifter contract)", context.Background(),
			target.ShiftRequest{Route: target.TrafficRoute{ResourceID: "shop:beta"}, Split: target.TrafficSplit{Original: "v1", Replacement: "v2", Weight: 50}}, target.ErrNotFound},
		{"test route of a route that has none", context.Background(),
			target.ShiftRequest{Route: target.TrafficRoute{ResourceID: live.ResourceID, Test: true}, Split: target.TrafficSplit{Original: "v1", Replacement: "v2", Weight: 50}}, target.ErrNotFound},
		{"unknown backend", context.Background(),
			target.ShiftRequest{Route: live, Split: target.TrafficSplit{Original: "v1", Replacement: "v3", Weight: 50}}, target.ErrNotFound},
		{"context done", cancelled,
			target.ShiftRequest{Route: live, Split: target.TrafficSplit{Original: "v1", Replacement: "v2", Weight: 50}}, context.Canceled},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := p.ShiftTraffic(tc.ctx, tc.req)
			if !errors.Is(err, tc.is) {
				t.Fatalf("ShiftTraffic = %v; want an error wrapping %v", err, tc.is)
			}
			if got, _ := p.CurrentTraffic(context.Background(), live); got != want {
				t.Errorf("after a failed shift the split is %+v; want it unchanged, %+v", got, want)
			}
		})
	}
}

// CurrentTraffic reports a route that sends everything to one version as
// that version, Weight 0, no Replacement (target.TrafficShifter contract).
func TestCurrentTrafficRoundTrip(t *testing.T) {
	p, _ := newProxy(t)
	versioned(t, p)
	ctx := context.Background()
	if got, err := p.CurrentTraffic(ctx, live); err != nil || got != (target.TrafficSplit{Original: "v1"}) {
		t.Fatalf("new route: %+v, %v; want all on v1", got, err)
	}
	for _, tc := range []struct {
		set, want target.TrafficSplit
	}{
		{target.TrafficSplit{Original: "v1", Replacement: "v2", Weight: 30}, target.TrafficSplit{Original: "v1", Replacement: "v2", Weight: 30}},
		{target.TrafficSplit{Original: "v1", Replacement: "v2", Weight: 99}, target.TrafficSplit{Original: "v1", Replacement: "v2", Weight: 99}},
		{target.TrafficSplit{Original: "v1", Replacement: "v2", Weight: 100}, target.TrafficSplit{Original: "v2"}},
		{target.TrafficSplit{Original: "v2", Replacement: "v1", Weight: 0}, target.TrafficSplit{Original: "v2"}},
		{target.TrafficSplit{Original: "v2", Replacement: "v1", Weight: 1}, target.TrafficSplit{Original: "v2", Replacement: "v1", Weight: 1}},
	} {
		if err := p.ShiftTraffic(ctx, target.ShiftRequest{Route: live, Split: tc.set}); err != nil {
			t.Fatal(err)
		}
		if got, err := p.CurrentTraffic(ctx, live); err != nil || got != tc.want {
			t.Errorf("after shifting to %+v: CurrentTraffic = %+v, %v; want %+v", tc.set, got, err, tc.want)
		}
	}

	pool := target.TrafficRoute{ResourceID: "tg-web"}
	web := backendServer(t, "web-1", http.StatusOK)
	if err := p.AddRoute(pool, "", localtraffic.Backend{ID: "web-1", URL: web.URL}); err != nil {
		t.Fatal(err)
	}
	if got, err := p.CurrentTraffic(ctx, pool); err != nil || got != (target.TrafficSplit{}) {
		t.Errorf("pool: %+v, %v; want the zero split", got, err)
	}
	if _, err := p.CurrentTraffic(ctx, target.TrafficRoute{ResourceID: "nope"}); !errors.Is(err, target.ErrNotFound) {
		t.Errorf("unknown route: %v; want ErrNotFound", err)
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := p.CurrentTraffic(cancelled, live); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v; want context.Canceled", err)
	}
}

// Shifting while requests flow: every request is answered by one of the
// two versions and counted once (run with -race).
func TestConcurrentShiftingWhileRequestsFlow(t *testing.T) {
	p, _ := newProxy(t)
	versioned(t, p)
	fe := front(t, p, live)
	const n = 600
	var wg sync.WaitGroup
	stop := make(chan struct{})
	wg.Go(func() {
		ctx := context.Background()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			w := []int{0, 10, 50, 90, 100}[i%5]
			if err := p.ShiftTraffic(ctx, target.ShiftRequest{Route: live, Split: target.TrafficSplit{Original: "v1", Replacement: "v2", Weight: w}}); err != nil {
				t.Error(err)
				return
			}
			if _, err := p.CurrentTraffic(ctx, live); err != nil {
				t.Error(err)
				return
			}
			if _, err := p.Stats(live); err != nil {
				t.Error(err)
				return
			}
		}
	})
	tally := blast(t, fe.Client(), fe.URL, n, 8)
	close(stop)
	wg.Wait()
	if ok := tally[result{http.StatusOK, "v1"}] + tally[result{http.StatusOK, "v2"}]; ok != n {
		t.Errorf("%d of %d requests answered 200 by v1 or v2: %v", ok, n, tally)
	}
	s := mustStats(t, p, live)
	if s.Total.Requests != n || s.Backends["v1"].Requests+s.Backends["v2"].Requests != n || s.Total.Errors != 0 {
		t.Errorf("stats %+v; want %d requests, all on v1 or v2, no errors", s, n)
	}
}

// A test listener is a route of its own (API Reference,
// TargetGroupPairInfo), reached through the Proxy's own handler by the
// routing headers, which are not forwarded.
func TestServeHTTPRoutesByHeader(t *testing.T) {
	p, _ := newProxy(t)
	echo := func(version string) *httptest.Server {
		s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprintf(w, "%s %s route-header=%q test-header=%q", version, r.URL.Path, r.Header.Get(localtraffic.RouteHeader), r.Header.Get(localtraffic.TestRouteHeader))
		}))
		t.Cleanup(s.Close)
		return s
	}
	blue, green := echo("blue"), echo("green")
	prod := target.TrafficRoute{ResourceID: "cluster/svc"}
	test := target.TrafficRoute{ResourceID: "cluster/svc", Test: true}
	for _, r := range []target.TrafficRoute{prod, test} {
		if err := p.AddRoute(r, "blue", localtraffic.Backend{ID: "blue", URL: blue.URL}, localtraffic.Backend{ID: "green", URL: green.URL}); err != nil {
			t.Fatal(err)
		}
	}
	// AllowTestTraffic: the test listener to the replacement.
	shift(t, p, test, "blue", "green", 100)
	fe := httptest.NewServer(p)
	t.Cleanup(fe.Close)
	do := func(headers map[string]string) (int, string) {
		req, err := http.NewRequest(http.MethodGet, fe.URL+"/x", nil)
		if err != nil {
			t.Fatal(err)
		}
		for k, v := range headers {
			req.Header.Set(k, v)
		}
		resp, err := fe.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	for _, tc := range []struct {
		headers map[string]string
		status  int
		body    string
	}{
		{map[string]string{localtraffic.RouteHeader: "cluster/svc"}, 200, `blue /x route-header="" test-header=""`},
		{map[string]string{localtraffic.RouteHeader: "cluster/svc", localtraffic.TestRouteHeader: "true"}, 200, `green /x route-header="" test-header=""`},
		{nil, 404, "localtraffic: request names no route\n"},
		{map[string]string{localtraffic.RouteHeader: "cluster/other"}, 404, "localtraffic: no route \"cluster/other\"\n"},
	} {
		if status, body := do(tc.headers); status != tc.status || body != tc.body {
			t.Errorf("headers %v: %d %q; want %d %q", tc.headers, status, body, tc.status, tc.body)
		}
	}
}

// Errors are 5xx responses of the backend and 502 for a backend the proxy
// cannot reach; the rest are not.
func TestCountsErrors(t *testing.T) {
	p, _ := newProxy(t)
	gone := httptest.NewServer(http.NotFoundHandler())
	gone.Close() // nothing listens at its address any more
	routes := []struct {
		status int
		url    string
		err    bool
	}{
		{http.StatusOK, "", false},
		{http.StatusNotFound, "", false},
		{http.StatusInternalServerError, "", true},
		{http.StatusServiceUnavailable, "", true},
		{http.StatusBadGateway, gone.URL, true},
	}
	for _, r := range routes {
		url := r.url
		if url == "" {
			url = backendServer(t, "b", r.status).URL
		}
		route := target.TrafficRoute{ResourceID: fmt.Sprint("r", r.status)}
		if err := p.AddRoute(route, "b", localtraffic.Backend{ID: "b", URL: url}); err != nil {
			t.Fatal(err)
		}
		fe := front(t, p, route)
		if status, _ := get(t, fe.Client(), fe.URL); status != r.status {
			t.Errorf("route %s: status %d; want %d", route.ResourceID, status, r.status)
		}
		want := localtraffic.Counts{Requests: 1}
		if r.err {
			want.Errors = 1
		}
		if s := mustStats(t, p, route); s.Total != want || s.Backends["b"] != want {
			t.Errorf("route %s (status %d): %+v; want total and backend %+v", route.ResourceID, r.status, s, want)
		}
	}
}

func TestAddRouteAndBackendErrors(t *testing.T) {
	p, _ := newProxy(t)
	ok := localtraffic.Backend{ID: "v1", URL: "http://127.0.0.1:1"}
	if err := p.AddRoute(live, "v1", ok); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		err  error
		is   error
	}{
		{"route without ResourceID", p.AddRoute(target.TrafficRoute{}, "", ok), localtraffic.ErrInvalidRoute},
		{"route exists", p.AddRoute(live, "v1", ok), localtraffic.ErrExists},
		{"current not a backend", p.AddRoute(target.TrafficRoute{ResourceID: "a"}, "v9", ok), localtraffic.ErrInvalidRoute},
		{"two backends with one ID", p.AddRoute(target.TrafficRoute{ResourceID: "b"}, "", ok, ok), localtraffic.ErrExists},
		{"backend without ID", p.AddRoute(target.TrafficRoute{ResourceID: "c"}, "", localtraffic.Backend{URL: ok.URL}), localtraffic.ErrInvalidBackend},
		{"URL without scheme", p.AddBackend(live, localtraffic.Backend{ID: "v2", URL: "127.0.0.1:8080"}), localtraffic.ErrInvalidBackend},
		{"URL of another scheme", p.AddBackend(live, localtraffic.Backend{ID: "v2", URL: "ftp://127.0.0.1/"}), localtraffic.ErrInvalidBackend},
		{"URL without host", p.AddBackend(live, localtraffic.Backend{ID: "v2", URL: "http:///x"}), localtraffic.ErrInvalidBackend},
		{"empty URL", p.AddBackend(live, localtraffic.Backend{ID: "v2"}), localtraffic.ErrInvalidBackend},
		{"backend exists", p.AddBackend(live, ok), localtraffic.ErrExists},
		{"backend for an unknown route", p.AddBackend(target.TrafficRoute{ResourceID: "zz"}, localtraffic.Backend{ID: "v2", URL: ok.URL}), target.ErrNotFound},
		{"stats of an unknown route", func() error { _, err := p.Stats(target.TrafficRoute{ResourceID: "zz"}); return err }(), target.ErrNotFound},
		{"recent of an unknown route", func() error { _, err := p.Recent(target.TrafficRoute{ResourceID: "zz"}, time.Second); return err }(), target.ErrNotFound},
		{"recent over no time", func() error { _, err := p.Recent(live, 0); return err }(), localtraffic.ErrInvalidWindow},
		{"recent beyond retention", func() error { _, err := p.Recent(live, localtraffic.DefaultRetention+time.Second); return err }(), localtraffic.ErrInvalidWindow},
	} {
		if !errors.Is(tc.err, tc.is) {
			t.Errorf("%s: %v; want an error wrapping %v", tc.name, tc.err, tc.is)
		}
	}
	for _, r := range []string{"a", "b", "c"} {
		if _, err := p.Stats(target.TrafficRoute{ResourceID: r}); !errors.Is(err, target.ErrNotFound) {
			t.Errorf("route %q exists after a failed AddRoute: %v", r, err)
		}
	}
}

func TestOptionsErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		set  func(*localtraffic.Options)
	}{
		{"negative bucket", func(o *localtraffic.Options) { o.Bucket = -1 }},
		{"negative retention", func(o *localtraffic.Options) { o.Retention = -1 }},
		{"retention below bucket", func(o *localtraffic.Options) { o.Bucket = time.Minute; o.Retention = time.Second }},
		{"too many buckets", func(o *localtraffic.Options) {
			o.Bucket = time.Millisecond
			o.Retention = (localtraffic.MaxBuckets + 1) * time.Millisecond
		}},
		{"negative shutdown grace", func(o *localtraffic.Options) { o.ShutdownGrace = -1 }},
	} {
		if _, err := localtraffic.New(tc.set); !errors.Is(err, localtraffic.ErrInvalidOptions) {
			t.Errorf("%s: %v; want ErrInvalidOptions", tc.name, err)
		}
	}
	p, err := localtraffic.New(func(o *localtraffic.Options) {
		o.Bucket = time.Millisecond
		o.Retention = localtraffic.MaxBuckets * time.Millisecond
	})
	if err != nil {
		t.Fatalf("MaxBuckets buckets: %v", err)
	}
	p.Close()
}

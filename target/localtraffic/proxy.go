package localtraffic

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strconv"
	"sync"
	"time"

	"github.com/fleetdeploy/fleetdeploy/deploy/clock"
	"github.com/fleetdeploy/fleetdeploy/target"
)

// Compile-time checks.
var (
	_ target.TrafficShifter    = (*Proxy)(nil)
	_ target.TrafficController = (*Proxy)(nil)
	_ http.Handler             = (*Proxy)(nil)
)

// Headers read by HeaderRouter. The proxy removes both before it forwards
// a request.
const (
	// RouteHeader names the ResourceID of the route a request is for.
	RouteHeader = "Fleetdeploy-Route"
	// TestRouteHeader set to "true" sends the request to the route's test
	// traffic route (TrafficRoute.Test).
	TestRouteHeader = "Fleetdeploy-Test-Route"
)

// HeaderRouter is the default Options.Router: the route whose ResourceID
// is the request's RouteHeader, its test route when TestRouteHeader is
// "true". A request without RouteHeader has no route.
func HeaderRouter(r *http.Request) (target.TrafficRoute, bool) {
	id := r.Header.Get(RouteHeader)
	if id == "" {
		return target.TrafficRoute{}, false
	}
	test, _ := strconv.ParseBool(r.Header.Get(TestRouteHeader))
	return target.TrafficRoute{ResourceID: id, Test: test}, true
}

// Backend is a real HTTP server a route can send requests to: one version
// of a Lambda alias or ECS service (a task set), or one Server target
// behind a load balancer.
type Backend struct {
	// ID names the backend on its route: the version that TrafficSplit
	// Original and Replacement name, or the target ID of the
	// TrafficRequests that block and allow it.
	ID string `json:"id"`
	// URL is the backend's base URL, e.g. "http://127.0.0.1:8081". A
	// request for /a?b goes to URL's path joined with /a, with the query.
	URL string `json:"url"`
	// Blocked starts the backend out of service, as a blue/green
	// replacement is until AllowTraffic registers it.
	Blocked bool `json:"blocked,omitempty"`
}

// Proxy is an in-process weighted HTTP reverse proxy over real backends,
// and the target.TrafficShifter and target.TrafficController of a local
// platform. See the package documentation. Create one with New; it is safe
// for concurrent use.
type Proxy struct {
	opts      Options
	clock     clock.Clock
	epoch     time.Time
	buckets   int64
	transport http.RoundTripper
	owned     *http.Transport // the default transport, closed by Close

	mu     sync.Mutex
	routes map[target.TrafficRoute]*routeState
}

type routeState struct {
	key      target.TrafficRoute
	backends map[string]*backendState
	order    []*backendState // in the order they were added
	// split is what the route sends where; Original "" makes it a pool.
	split  target.TrafficSplit
	next   int // round-robin cursor of a pool, an index into order
	total  Counts
	recent *window
}

type backendState struct {
	id      string
	proxy   *httputil.ReverseProxy
	blocked bool
	// inflight counts requests being proxied to the backend; idle is
	// closed when it drops back to 0 (nil while it is 0).
	inflight int
	idle     chan struct{}
	total    Counts
	recent   *window
}

// New returns a proxy with no routes, with opts applied to the default
// Options. An Options field out of range is an error wrapping
// ErrInvalidOptions.
func New(opts ...func(*Options)) (*Proxy, error) {
	o, err := resolveOptions(opts)
	if err != nil {
		return nil, err
	}
	p := &Proxy{
		opts:    o,
		clock:   o.Clock,
		epoch:   o.Clock.Now(),
		buckets: bucketsFor(o.Retention, o.Bucket),
		routes:  map[target.TrafficRoute]*routeState{},
	}
	p.transport = o.Transport
	if p.transport == nil {
		t := &http.Transport{}
		if dt, ok := http.DefaultTransport.(*http.Transport); ok {
			t = dt.Clone()
		}
		t.Proxy = nil
		p.owned, p.transport = t, t
	}
	return p, nil
}

// Close releases the idle connections of the proxy's own transport (not
// those of an Options.Transport). The proxy stays usable. It does not stop
// Serve: cancel Serve's context for that.
func (p *Proxy) Close() error {
	if p.owned != nil {
		p.owned.CloseIdleConnections()
	}
	return nil
}

// AddRoute creates route with backends. With current set, the route is a
// versioned route — a Lambda alias or an ECS listener — that sends every
// request to the backend current until ShiftTraffic splits it; with current
// empty, it is a pool — a load balancer or target group — that spreads
// requests over its backends in service.
//
// Errors: ErrInvalidRoute (empty ResourceID, current not among backends),
// ErrInvalidBackend, ErrExists (the route exists, or two backends share an
// ID). On error nothing is added.
func (p *Proxy) AddRoute(route target.TrafficRoute, current string, backends ...Backend) error {
	if route.ResourceID == "" {
		return fmt.Errorf("localtraffic: add route: ResourceID must not be empty: %w", ErrInvalidRoute)
	}
	rt := &routeState{key: route, backends: map[string]*backendState{}, split: target.TrafficSplit{Original: current},
		recent: newWindow(p.epoch, p.opts.Bucket, p.buckets)}
	for _, b := range backends {
		nb, err := p.newBackend(route, b)
		if err != nil {
			return fmt.Errorf("localtraffic: add route %s: %w", routeName(route), err)
		}
		if _, dup := rt.backends[b.ID]; dup {
			return fmt.Errorf("localtraffic: add route %s: backend %q is listed twice: %w", routeName(route), b.ID, ErrExists)
		}
		rt.backends[b.ID] = nb
		rt.order = append(rt.order, nb)
	}
	if _, ok := rt.backends[current]; current != "" && !ok {
		return fmt.Errorf("localtraffic: add route %s: current backend %q is not among its backends: %w", routeName(route), current, ErrInvalidRoute)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if _, ok := p.routes[route]; ok {
		return fmt.Errorf("localtraffic: add route %s: route exists: %w", routeName(route), ErrExists)
	}
	p.routes[route] = rt
	return nil
}

// AddBackend adds b to route: a new version to shift traffic to, or a new
// target of a pool (in service unless b.Blocked).
//
// Errors: target.ErrNotFound (no such route), ErrInvalidBackend,
// ErrExists (the route has a backend with b's ID).
func (p *Proxy) AddBackend(route target.TrafficRoute, b Backend) error {
	nb, err := p.newBackend(route, b)
	if err != nil {
		return fmt.Errorf("localtraffic: add backend to %s: %w", routeName(route), err)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	rt, err := p.routeLocked(route)
	if err != nil {
		return fmt.Errorf("localtraffic: add backend %q: %w", b.ID, err)
	}
	if _, dup := rt.backends[b.ID]; dup {
		return fmt.Errorf("localtraffic: add backend to %s: backend %q exists: %w", routeName(route), b.ID, ErrExists)
	}
	rt.backends[b.ID] = nb
	rt.order = append(rt.order, nb)
	return nil
}

// newBackend checks b and makes its reverse proxy.
func (p *Proxy) newBackend(route target.TrafficRoute, b Backend) (*backendState, error) {
	if b.ID == "" {
		return nil, fmt.Errorf("backend ID must not be empty: %w", ErrInvalidBackend)
	}
	u, err := url.Parse(b.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("backend %q: URL must be an absolute http or https URL with a host; got %q: %w", b.ID, b.URL, ErrInvalidBackend)
	}
	log := p.opts.Logger.With(slog.String("route", routeName(route)), slog.String("backend", b.ID))
	rp := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(u)
			pr.SetXForwarded()
			pr.Out.Header.Del(RouteHeader)
			pr.Out.Header.Del(TestRouteHeader)
		},
		Transport: p.transport,
		ErrorLog:  slog.NewLogLogger(p.opts.Logger.Handler(), slog.LevelWarn),
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			code := http.StatusBadGateway
			if r.Context().Err() != nil {
				code = statusClientClosedRequest
			}
			log.LogAttrs(r.Context(), slog.LevelWarn, "localtraffic: proxy error",
				slog.Int("status", code), slog.String("error", err.Error()))
			w.WriteHeader(code)
		},
	}
	return &backendState{id: b.ID, proxy: rp, blocked: b.Blocked, recent: newWindow(p.epoch, p.opts.Bucket, p.buckets)}, nil
}

// routeLocked returns route's state or an error wrapping
// target.ErrNotFound.
func (p *Proxy) routeLocked(route target.TrafficRoute) (*routeState, error) {
	rt, ok := p.routes[route]
	if !ok {
		return nil, fmt.Errorf("route %s does not exist: %w", routeName(route), target.ErrNotFound)
	}
	return rt, nil
}

// routeName spells a route for messages: its ResourceID, with " (test)"
// for a test route.
func routeName(r target.TrafficRoute) string {
	if r.Test {
		return strconv.Quote(r.ResourceID) + " (test)"
	}
	return strconv.Quote(r.ResourceID)
}

// ServeHTTP proxies r to the route Options.Router picks (by default the
// route HeaderRouter names). A request with no route, or for a route that
// does not exist, is answered 404 and counted nowhere.
func (p *Proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	route, ok := p.opts.Router(r)
	if !ok {
		http.Error(w, "localtraffic: request names no route", http.StatusNotFound)
		return
	}
	p.serve(w, r, route)
}

// Handler returns an http.Handler that proxies every request to route: a
// listener of that route alone. A route that does not exist (yet) answers
// 404.
func (p *Proxy) Handler(route target.TrafficRoute) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { p.serve(w, r, route) })
}

// serve proxies one request on route and counts it.
func (p *Proxy) serve(w http.ResponseWriter, r *http.Request, route target.TrafficRoute) {
	p.mu.Lock()
	rt, ok := p.routes[route]
	if !ok {
		p.mu.Unlock()
		http.Error(w, "localtraffic: no route "+routeName(route), http.StatusNotFound)
		return
	}
	b := p.chooseLocked(rt)
	if b == nil {
		now := p.clock.Now()
		rt.total.add(true)
		rt.recent.add(now, true)
		p.mu.Unlock()
		http.Error(w, "localtraffic: no backend in service on route "+routeName(route), http.StatusServiceUnavailable)
		return
	}
	if b.inflight == 0 {
		b.idle = make(chan struct{})
	}
	b.inflight++
	p.mu.Unlock()

	rec := &statusRecorder{ResponseWriter: w}
	// Deferred: ReverseProxy panics with http.ErrAbortHandler when the
	// response body cannot be copied, and the request must still count.
	defer p.finish(rt, b, rec)
	b.proxy.ServeHTTP(rec, r)
}

// finish counts a proxied request and ends its in-flight accounting.
func (p *Proxy) finish(rt *routeState, b *backendState, rec *statusRecorder) {
	isErr := rec.status() >= 500
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.clock.Now()
	rt.total.add(isErr)
	rt.recent.add(now, isErr)
	b.total.add(isErr)
	b.recent.add(now, isErr)
	b.inflight--
	if b.inflight == 0 {
		close(b.idle)
		b.idle = nil
	}
}

// chooseLocked picks the backend for one request, or nil when none of
// those the route would use is in service.
func (p *Proxy) chooseLocked(rt *routeState) *backendState {
	if rt.split.Original == "" { // a pool: round robin over those in service
		n := len(rt.order)
		for i := range n {
			j := (rt.next + i) % n
			if b := rt.order[j]; !b.blocked {
				rt.next = (j + 1) % n
				return b
			}
		}
		return nil
	}
	first, second := rt.backends[rt.split.Original], rt.backends[rt.split.Replacement]
	if w := rt.split.Weight; second != nil && w > 0 && (w >= 100 || p.opts.Rand() < float64(w)/100) {
		first, second = second, first
	}
	for _, b := range []*backendState{first, second} {
		if b != nil && !b.blocked {
			return b
		}
	}
	return nil
}

// statusRecorder remembers the status code written through it.
type statusRecorder struct {
	http.ResponseWriter
	code int
}

func (s *statusRecorder) WriteHeader(code int) {
	if s.code == 0 && (code >= 200 || code == http.StatusSwitchingProtocols) {
		s.code = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	if s.code == 0 {
		s.code = http.StatusOK
	}
	return s.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the underlying writer (to
// flush, hijack, set deadlines).
func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// status returns the final status written, 200 when none was (the
// default net/http sends).
func (s *statusRecorder) status() int {
	if s.code == 0 {
		return http.StatusOK
	}
	return s.code
}

// waitIdle waits until each channel is closed or ctx is done.
func waitIdle(ctx context.Context, chans []chan struct{}) error {
	for _, c := range chans {
		select {
		case <-c:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

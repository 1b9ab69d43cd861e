package localtraffic

import (
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"time"

	"github.com/fleetdeploy/fleetdeploy/deploy/clock"
	"github.com/fleetdeploy/fleetdeploy/target"
)

// Defaults of Options.
const (
	// DefaultBucket is the width of one time bucket of the sliding windows.
	DefaultBucket = time.Second
	// DefaultRetention is how much recent traffic the sliding windows keep.
	DefaultRetention = 10 * time.Minute
	// DefaultShutdownGrace is how long Serve lets requests in flight
	// finish after its context is done.
	DefaultShutdownGrace = 5 * time.Second
	// MaxBuckets bounds Retention/Bucket, and so the memory each route and
	// backend spends on its window.
	MaxBuckets = 100_000
)

// Options are the optional settings of a Proxy. The zero value of every
// field means its default.
type Options struct {
	// Clock timestamps every request for the sliding windows the alarms
	// read, and times Serve's shutdown grace. Default clock.System().
	Clock clock.Clock
	// Rand returns a number in [0, 1) and decides which side of a split a
	// request goes to: the replacement when Rand() < weight/100. It is
	// called with the proxy's lock held, never concurrently, so a seeded
	// (*math/rand/v2.Rand).Float64 makes the sequence of choices
	// reproducible. It is called once per request, and only when the
	// weight is strictly between 0 and 100. Default math/rand/v2.Float64.
	Rand func() float64
	// Transport carries the requests to the backends. Default: a clone of
	// http.DefaultTransport that never uses an HTTP proxy, owned by the
	// Proxy and released by Close.
	Transport http.RoundTripper
	// Router picks the route of a request for Proxy.ServeHTTP (not for the
	// handlers of Proxy.Handler, which serve one route each). ok false
	// answers 404. Default HeaderRouter.
	Router func(r *http.Request) (route target.TrafficRoute, ok bool)
	// Logger receives proxy errors (a backend that cannot be reached) and
	// the HTTP server's own errors. Default: a logger that discards
	// everything.
	Logger *slog.Logger
	// Bucket is the time resolution of the sliding windows. Default
	// DefaultBucket; must not be negative.
	Bucket time.Duration
	// Retention is the longest window Recent and the alarms may ask for.
	// Default DefaultRetention; must be at least Bucket, and
	// Retention/Bucket at most MaxBuckets.
	Retention time.Duration
	// ShutdownGrace is how long Serve waits, on Clock, for requests in
	// flight once its context is done, before it closes their
	// connections. Default DefaultShutdownGrace; must not be negative.
	ShutdownGrace time.Duration
}

// resolveOptions applies opts to the defaults and checks the result.
func resolveOptions(opts []func(*Options)) (Options, error) {
	var o Options
	for _, f := range opts {
		if f != nil {
			f(&o)
		}
	}
	if o.Clock == nil {
		o.Clock = clock.System()
	}
	if o.Rand == nil {
		o.Rand = rand.Float64
	}
	if o.Router == nil {
		o.Router = HeaderRouter
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	switch {
	case o.Bucket < 0:
		return o, fmt.Errorf("localtraffic: Options.Bucket must not be negative; got %v: %w", o.Bucket, ErrInvalidOptions)
	case o.Bucket == 0:
		o.Bucket = DefaultBucket
	}
	switch {
	case o.Retention < 0:
		return o, fmt.Errorf("localtraffic: Options.Retention must not be negative; got %v: %w", o.Retention, ErrInvalidOptions)
	case o.Retention == 0:
		o.Retention = max(DefaultRetention, o.Bucket)
	case o.Retention < o.Bucket:
		return o, fmt.Errorf("localtraffic: Options.Retention must be at least Options.Bucket (%v); got %v: %w", o.Bucket, o.Retention, ErrInvalidOptions)
	}
	if n := bucketsFor(o.Retention, o.Bucket); n > MaxBuckets {
		return o, fmt.Errorf("localtraffic: Options.Retention/Options.Bucket must be at most %d buckets; got %v/%v = %d: %w",
			MaxBuckets, o.Retention, o.Bucket, n, ErrInvalidOptions)
	}
	switch {
	case o.ShutdownGrace < 0:
		return o, fmt.Errorf("localtraffic: Options.ShutdownGrace must not be negative; got %v: %w", o.ShutdownGrace, ErrInvalidOptions)
	case o.ShutdownGrace == 0:
		o.ShutdownGrace = DefaultShutdownGrace
	}
	return o, nil
}

// bucketsFor returns how many buckets of width b cover d: ⌈d/b⌉.
func bucketsFor(d, b time.Duration) int64 {
	n := int64(d / b)
	if d%b != 0 {
		n++
	}
	return n
}

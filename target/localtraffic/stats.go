package localtraffic

import (
	"fmt"
	"time"

	"github.com/fleetdeploy/fleetdeploy/target"
)

// statusClientClosedRequest is the status recorded for a request whose
// client went away before the backend answered (nginx's 499). It is not
// an error: the backend did nothing wrong.
const statusClientClosedRequest = 499

// Counts are the requests a route or backend answered and how many of them
// were errors: 5xx responses of the backend, 502 for a backend the proxy
// could not reach, 503 for a route with no backend in service.
type Counts struct {
	Requests int64 `json:"requests"`
	Errors   int64 `json:"errors"`
}

func (c *Counts) add(isErr bool) {
	c.Requests++
	if isErr {
		c.Errors++
	}
}

// ErrorRate returns Errors/Requests, or 0 when there were no requests.
func (c Counts) ErrorRate() float64 {
	if c.Requests == 0 {
		return 0
	}
	return float64(c.Errors) / float64(c.Requests)
}

// Sub returns c − prev: what happened between two snapshots.
func (c Counts) Sub(prev Counts) Counts {
	return Counts{Requests: c.Requests - prev.Requests, Errors: c.Errors - prev.Errors}
}

// Stats is what a route answered, in all (Proxy.Stats) or over a recent
// window (Proxy.Recent).
type Stats struct {
	Route target.TrafficRoute `json:"route"`
	// Total counts every request of the route: those sent to a backend
	// and those answered 503 because no backend was in service.
	Total Counts `json:"total"`
	// Backends counts the requests sent to each backend, by backend ID.
	// A backend that got none may be missing.
	Backends map[string]Counts `json:"backends,omitempty"`
}

// Unavailable returns how many requests were answered 503 because no
// backend of the route was in service: those of Total sent to no backend.
func (s Stats) Unavailable() int64 {
	n := s.Total.Requests
	for _, c := range s.Backends {
		n -= c.Requests
	}
	return n
}

// Share returns the fraction of the route's requests sent to backend id,
// or 0 when the route had none.
func (s Stats) Share(id string) float64 {
	if s.Total.Requests == 0 {
		return 0
	}
	return float64(s.Backends[id].Requests) / float64(s.Total.Requests)
}

// Sub returns s − prev, backend by backend: the traffic between two
// snapshots of the same route, e.g. of one step of a traffic shift.
func (s Stats) Sub(prev Stats) Stats {
	out := Stats{Route: s.Route, Total: s.Total.Sub(prev.Total), Backends: make(map[string]Counts, len(s.Backends))}
	for id, c := range s.Backends {
		if d := c.Sub(prev.Backends[id]); d != (Counts{}) {
			out.Backends[id] = d
		}
	}
	return out
}

// Stats returns the counts of everything route has answered since it was
// added. An unknown route is an error wrapping target.ErrNotFound.
func (p *Proxy) Stats(route target.TrafficRoute) (Stats, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	rt, err := p.routeLocked(route)
	if err != nil {
		return Stats{}, fmt.Errorf("localtraffic: stats: %w", err)
	}
	s := Stats{Route: route, Total: rt.total, Backends: make(map[string]Counts, len(rt.order))}
	for _, b := range rt.order {
		s.Backends[b.id] = b.total
	}
	return s, nil
}

// Recent returns the counts of what route answered over the last d on the
// proxy's clock, to the precision of Options.Bucket: the ⌈d/Bucket⌉
// buckets up to and including the current one. With d a multiple of
// Bucket, requests that finished less than d − Bucket ago always count
// and requests that finished d ago or earlier never do.
//
// d must be positive and at most Options.Retention, else the error wraps
// ErrInvalidWindow. An unknown route is an error wrapping
// target.ErrNotFound.
func (p *Proxy) Recent(route target.TrafficRoute, d time.Duration) (Stats, error) {
	k, err := p.windowBuckets(d)
	if err != nil {
		return Stats{}, fmt.Errorf("localtraffic: recent traffic: %w", err)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	rt, err := p.routeLocked(route)
	if err != nil {
		return Stats{}, fmt.Errorf("localtraffic: recent traffic: %w", err)
	}
	now := p.clock.Now()
	s := Stats{Route: route, Total: rt.recent.sum(now, k), Backends: make(map[string]Counts, len(rt.order))}
	for _, b := range rt.order {
		s.Backends[b.id] = b.recent.sum(now, k)
	}
	return s, nil
}

// windowBuckets returns how many buckets a window of d spans, checking d.
func (p *Proxy) windowBuckets(d time.Duration) (int64, error) {
	if !p.validWindow(d) {
		return 0, fmt.Errorf("window must be positive and at most Options.Retention (%v); got %v: %w", p.opts.Retention, d, ErrInvalidWindow)
	}
	return bucketsFor(d, p.opts.Bucket), nil
}

// validWindow reports whether d is a window the proxy keeps.
func (p *Proxy) validWindow(d time.Duration) bool { return d > 0 && d <= p.opts.Retention }

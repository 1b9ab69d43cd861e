package localtraffic

import (
	"context"
	"fmt"
	"slices"

	"github.com/fleetdeploy/fleetdeploy/target"
)

// BlockTraffic takes the backend req.Target.ID out of service on the routes
// req concerns and returns once requests in flight to it have finished:
// connection draining. The routes req concerns are those of the load
// balancers req.Deployment.LoadBalancer names, or every route with the
// target when it names none (see "Blocking and allowing targets" in the
// package documentation). A blocked backend gets no new
// requests; a pool with no backend in service, and a versioned route whose
// two backends are both blocked, answer 503. A route without that backend,
// or a backend already blocked, is not an error.
//
// Errors, with nothing changed: ctx's error when it is done on entry; an
// empty target ID (wrapping target.ErrInvalidRequest); a load balancer
// named in req with no route (wrapping target.ErrNotFound). When ctx ends
// while requests drain, the backend stays blocked and ctx's error is
// returned.
func (p *Proxy) BlockTraffic(ctx context.Context, req target.TrafficRequest) error {
	id := req.Target.ID
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("localtraffic: block traffic to %q: %w", id, err)
	}
	p.mu.Lock()
	bs, err := p.backendsForLocked(req)
	if err != nil {
		p.mu.Unlock()
		return fmt.Errorf("localtraffic: block traffic to %q: %w", id, err)
	}
	var draining []chan struct{}
	for _, b := range bs {
		b.blocked = true
		if b.idle != nil {
			draining = append(draining, b.idle)
		}
	}
	p.mu.Unlock()
	if err := waitIdle(ctx, draining); err != nil {
		return fmt.Errorf("localtraffic: block traffic to %q: draining requests in flight: %w", id, err)
	}
	return nil
}

// AllowTraffic puts the backend req.Target.ID back in service on the routes
// req concerns, as BlockTraffic finds them. The proxy does no health checks: the
// backend is in service when AllowTraffic returns. A backend already in
// service is not an error.
//
// Errors, with nothing changed: ctx's error; an empty target ID (wrapping
// target.ErrInvalidRequest); a load balancer named in req with no route
// (wrapping target.ErrNotFound); a named route without a backend for the
// target, or — when req names no load balancer — no route with one
// (wrapping target.ErrTargetUnavailable: the proxy does not know where the
// target listens; add it with AddBackend, Blocked).
func (p *Proxy) AllowTraffic(ctx context.Context, req target.TrafficRequest) error {
	id := req.Target.ID
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("localtraffic: allow traffic to %q: %w", id, err)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	rts, err := p.routesForLocked(req)
	if err != nil {
		return fmt.Errorf("localtraffic: allow traffic to %q: %w", id, err)
	}
	if len(rts) == 0 {
		return fmt.Errorf("localtraffic: allow traffic to %q: no route has a backend for the target: %w", id, target.ErrTargetUnavailable)
	}
	for _, rt := range rts {
		if _, ok := rt.backends[id]; !ok {
			return fmt.Errorf("localtraffic: allow traffic to %q: route %s has no backend for the target: %w",
				id, routeName(rt.key), target.ErrTargetUnavailable)
		}
	}
	for _, rt := range rts {
		rt.backends[id].blocked = false
	}
	return nil
}

// routesForLocked returns the routes a TrafficRequest concerns:
//
//   - the routes {ResourceID: name} of every Classic Load Balancer
//     (ELBInfoList) and target group (TargetGroupInfoList) of
//     req.Deployment.LoadBalancer — each must exist;
//   - when it names none, every route with a backend whose ID is
//     req.Target.ID.
//
// ECS target group pairs are not Server load balancers and are ignored.
func (p *Proxy) routesForLocked(req target.TrafficRequest) ([]*routeState, error) {
	id := req.Target.ID
	if id == "" {
		return nil, fmt.Errorf("request has no target ID: %w", target.ErrInvalidRequest)
	}
	lb := req.Deployment.LoadBalancer
	var names []string
	for _, n := range slices.Concat(lb.ELBInfoList, lb.TargetGroupInfoList) {
		if !slices.Contains(names, n.Name) {
			names = append(names, n.Name)
		}
	}
	var rts []*routeState
	if len(names) == 0 {
		for _, rt := range p.routes {
			if _, ok := rt.backends[id]; ok {
				rts = append(rts, rt)
			}
		}
		return rts, nil
	}
	for _, n := range names {
		rt, err := p.routeLocked(target.TrafficRoute{ResourceID: n})
		if err != nil {
			return nil, fmt.Errorf("load balancer %q: %w", n, err)
		}
		rts = append(rts, rt)
	}
	return rts, nil
}

// backendsForLocked returns the backends of the target of req on the
// routes it concerns; routes without one are skipped.
func (p *Proxy) backendsForLocked(req target.TrafficRequest) ([]*backendState, error) {
	rts, err := p.routesForLocked(req)
	if err != nil {
		return nil, err
	}
	var bs []*backendState
	for _, rt := range rts {
		if b, ok := rt.backends[req.Target.ID]; ok {
			bs = append(bs, b)
		}
	}
	return bs, nil
}

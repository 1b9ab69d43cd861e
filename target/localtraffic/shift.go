package localtraffic

import (
	"context"
	"fmt"

	"github.com/fleetdeploy/fleetdeploy/target"
)

// ShiftTraffic sets req.Route to req.Split: from the next request on,
// req.Split.Weight percent of the route's requests go to the backend
// req.Split.Replacement and the rest to req.Split.Original. The split is in
// effect when ShiftTraffic returns; requests in flight finish where they
// were sent. Setting the split a route already has is not an error, and any
// route may be shifted, a pool too (it then becomes a versioned route).
//
// Errors, with nothing changed: ctx's error; a req that breaks a rule of
// req.Validate (wrapping target.ErrInvalidRequest: weight outside 0–100,
// versions empty or equal, no ResourceID); an unknown route, or a split
// naming a backend the route does not have (wrapping target.ErrNotFound).
func (p *Proxy) ShiftTraffic(ctx context.Context, req target.ShiftRequest) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("localtraffic: shift traffic on %s: %w", routeName(req.Route), err)
	}
	if err := req.Validate(); err != nil {
		return fmt.Errorf("localtraffic: shift traffic on %s: %w", routeName(req.Route), err)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	rt, err := p.routeLocked(req.Route)
	if err != nil {
		return fmt.Errorf("localtraffic: shift traffic: %w", err)
	}
	for _, id := range []string{req.Split.Original, req.Split.Replacement} {
		if _, ok := rt.backends[id]; !ok {
			return fmt.Errorf("localtraffic: shift traffic on %s: route has no backend %q (add it with AddBackend): %w",
				routeName(req.Route), id, target.ErrNotFound)
		}
	}
	rt.split = req.Split
	return nil
}

// CurrentTraffic returns the split route has now. A route that sends
// everything to one backend — weight 0, or weight 100 — returns that
// backend as Original with Weight 0 and an empty Replacement, as the
// target.TrafficShifter contract asks; a pool that was never shifted
// returns the zero TrafficSplit. Errors: ctx's error; an unknown route
// (wrapping target.ErrNotFound).
func (p *Proxy) CurrentTraffic(ctx context.Context, route target.TrafficRoute) (target.TrafficSplit, error) {
	if err := ctx.Err(); err != nil {
		return target.TrafficSplit{}, fmt.Errorf("localtraffic: current traffic on %s: %w", routeName(route), err)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	rt, err := p.routeLocked(route)
	if err != nil {
		return target.TrafficSplit{}, fmt.Errorf("localtraffic: current traffic: %w", err)
	}
	return rt.split.Settled(), nil
}

package main

import (
	"context"
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/fleetdeploy/fleetdeploy/deploy"
	"github.com/fleetdeploy/fleetdeploy/deploy/clock"
	"github.com/fleetdeploy/fleetdeploy/target"
	"github.com/fleetdeploy/fleetdeploy/target/localtraffic"
)

// window is a stretch of the alias's traffic during which its split did
// not change: one step of a traffic shift, or a quiet period between
// deployments.
type window struct {
	// Label says what the window is: "step 2/4", "before", "after (a)".
	Label string
	// DeploymentID is the deployment whose shift opened the window; empty
	// for a quiet period.
	DeploymentID string
	// Step and Steps number a shift among its deployment's (1-based);
	// zero for a quiet period.
	Step, Steps int
	// Split is the split in effect: Original (and Replacement at Weight
	// percent, when set).
	Split target.TrafficSplit
	// ShiftAt is when the executor asked for the shift that opened the
	// window, on the virtual clock; zero for a quiet period.
	ShiftAt time.Time
	// From and To are the window's bounds on the virtual clock.
	From, To time.Time
	// Stats are the requests the alias answered in the window, each of
	// them sent while Split was in effect.
	Stats localtraffic.Stats
}

// share returns the fraction of the window's requests that went to
// version n.
func (w window) share(n string) float64 { return w.Stats.Share(n) }

// describe spells the observed traffic: "v1 49.6% / v2 50.4% of 1000
// requests, 0 errors". Versions of the split come first, then any other
// that got requests.
func (w window) describe() string {
	ids := []string{w.Split.Original}
	if w.Split.Replacement != "" && w.Split.Weight > 0 {
		ids = append(ids, w.Split.Replacement)
	}
	for _, id := range slices.Sorted(maps.Keys(w.Stats.Backends)) {
		if !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	parts := make([]string, 0, len(ids))
	for _, id := range ids {
		if w.Split.Weight >= 100 && id == w.Split.Original && w.Stats.Backends[id].Requests == 0 {
			continue // all on the replacement: say so once
		}
		parts = append(parts, fmt.Sprintf("%s %.1f%%", label(id), 100*w.share(id)))
	}
	errs := fmt.Sprintf("%d errors", w.Stats.Total.Errors)
	if w.Stats.Total.Errors > 0 {
		var by []string
		for _, id := range ids {
			if c := w.Stats.Backends[id]; c.Errors > 0 {
				by = append(by, fmt.Sprintf("%d from %s", c.Errors, label(id)))
			}
		}
		errs += " (" + strings.Join(by, ", ") + ")"
	}
	return fmt.Sprintf("%s of %d requests, %s", strings.Join(parts, " / "), w.Stats.Total.Requests, errs)
}

// weightOf returns the configured percentage of the window's traffic on
// version n.
func (w window) weightOf(n string) int {
	switch {
	case w.Split.Replacement != "" && n == w.Split.Replacement:
		return w.Split.Weight
	case n == w.Split.Original:
		if w.Split.Replacement == "" {
			return 100
		}
		return 100 - w.Split.Weight
	}
	return 0
}

// tolerance is how far the observed share of a version may stray from its
// configured weight p (a fraction) over n requests: 4.5 standard
// deviations of a binomial share, sqrt(p(1−p)/n). Each request goes to the
// replacement with probability p on its own (the proxy draws once per
// request), so a correct proxy strays further about once in 150,000 steps.
// Weights 0 and 100 are exact.
func tolerance(p float64, n int64) float64 {
	if n == 0 {
		return 0
	}
	return 4.5 * math.Sqrt(p*(1-p)/float64(n))
}

// meter is the platform's TrafficShifter as the executor sees it: the
// proxy, with every shift cut into exact windows of observed traffic.
//
// At each shift it lets the requests in flight finish (loadGen.settle)
// and reads the proxy's counts, shifts, lets the requests in flight
// finish again and reads the counts again. The window that ends at the
// first reading holds only requests sent under the old split, the one that
// starts at the second only requests sent under the new one; the few
// milliseconds in between (requests that may have seen either) are left
// out.
type meter struct {
	proxy *localtraffic.Proxy
	route target.TrafficRoute
	load  *loadGen
	clk   clock.Clock
	store deploy.Store
	out   *console

	mu      sync.Mutex
	open    window
	start   localtraffic.Stats // the counts when open began
	steps   map[string]int     // shifts so far, by deployment ID
	windows []window           // closed, in order
}

var _ target.TrafficShifter = (*meter)(nil)

// newMeter returns a meter for route of proxy, the traffic of which comes
// from load. It opens the first window, a quiet period named label.
func newMeter(ctx context.Context, proxy *localtraffic.Proxy, route target.TrafficRoute, load *loadGen,
	clk clock.Clock, store deploy.Store, out *console, label string) (*meter, error) {
	m := &meter{proxy: proxy, route: route, load: load, clk: clk, store: store, out: out, steps: map[string]int{}}
	split, err := proxy.CurrentTraffic(ctx, route)
	if err != nil {
		return nil, err
	}
	stats, err := m.reading(ctx)
	if err != nil {
		return nil, err
	}
	m.open = window{Label: label, Split: split, From: clk.Now()}
	m.start = stats
	return m, nil
}

// reading waits for the requests in flight and returns the route's
// counts.
func (m *meter) reading(ctx context.Context) (localtraffic.Stats, error) {
	if err := m.load.settle(ctx); err != nil {
		return localtraffic.Stats{}, err
	}
	return m.proxy.Stats(m.route)
}

// closeLocked ends the open window at the reading s, taken at to, and
// returns it.
func (m *meter) closeLocked(s localtraffic.Stats, to time.Time) window {
	w := m.open
	w.To = to
	w.Stats = s.Sub(m.start)
	m.windows = append(m.windows, w)
	return w
}

// ShiftTraffic shifts the alias (see localtraffic.Proxy.ShiftTraffic),
// closing the window of the split before and opening the window of the
// new one. It prints both.
func (m *meter) ShiftTraffic(ctx context.Context, req target.ShiftRequest) error {
	at := m.clk.Now()
	m.mu.Lock()
	defer m.mu.Unlock()
	before, err := m.reading(ctx)
	if err != nil {
		return err
	}
	to := m.clk.Now()
	if err := m.proxy.ShiftTraffic(ctx, req); err != nil {
		return err
	}
	after, err := m.reading(ctx)
	if err != nil {
		return err
	}
	closed := m.closeLocked(before, to)
	m.printClosed(closed)

	id := req.Deployment.DeploymentID
	m.steps[id]++
	w := window{DeploymentID: id, Step: m.steps[id], Steps: m.stepsOf(ctx, id), Split: req.Split, ShiftAt: at, From: m.clk.Now()}
	w.Label = fmt.Sprintf("step %d/%d", w.Step, w.Steps)
	m.open, m.start = w, after
	m.out.printf("%s AllowTraffic %s: %s", id, w.Label, splitText(req.Split))
	return nil
}

// CurrentTraffic returns the alias's split (see
// localtraffic.Proxy.CurrentTraffic).
func (m *meter) CurrentTraffic(ctx context.Context, route target.TrafficRoute) (target.TrafficSplit, error) {
	return m.proxy.CurrentTraffic(ctx, route)
}

// mark closes the open window and opens a quiet period named label, with
// the split unchanged. It returns the window it closed.
func (m *meter) mark(ctx context.Context, label string) (window, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	s, err := m.reading(ctx)
	if err != nil {
		return window{}, err
	}
	now := m.clk.Now()
	closed := m.closeLocked(s, now)
	m.printClosed(closed)
	m.open = window{Label: label, Split: closed.Split, From: now}
	m.start = s
	return closed, nil
}

// shifts returns how many shifts deployment id has made.
func (m *meter) shifts(id string) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.steps[id]
}

// printClosed prints what a window observed; a window without a label
// (the moments between a deployment's last shift and the next quiet
// period) is not printed.
func (m *meter) printClosed(w window) {
	if w.Label == "" {
		return
	}
	if w.DeploymentID == "" {
		m.out.printf("observed %s (%s): %s", w.Label, splitText(w.Split), w.describe())
		return
	}
	m.out.printf("  observed in %s %s (%s, %s): %s", w.DeploymentID, w.Label, splitText(w.Split),
		virtualSpan(w.To.Sub(w.From)), w.describe())
}

// of returns the closed windows of deployment id, in order.
func (m *meter) of(id string) []window {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []window
	for _, w := range m.windows {
		if w.DeploymentID == id {
			out = append(out, w)
		}
	}
	return out
}

// stepsOf returns how many shifts deployment id's configuration makes,
// 0 when it cannot be read.
func (m *meter) stepsOf(ctx context.Context, id string) int {
	d, err := m.store.GetDeployment(ctx, id)
	if err != nil || d.Config.TrafficRouting == nil {
		return 0
	}
	return len(d.Config.TrafficRouting.Steps())
}

// splitText spells a split: "v1 75% / v2 25%", or "all on v2".
func splitText(s target.TrafficSplit) string {
	switch {
	case s.Replacement == "" || s.Weight <= 0:
		return "all on " + label(s.Original)
	case s.Weight >= 100:
		return "all on " + label(s.Replacement)
	}
	return fmt.Sprintf("%s %d%% / %s %d%%", label(s.Original), 100-s.Weight, label(s.Replacement), s.Weight)
}

package localtraffic

import (
	"context"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/hashicorp/go-multierror"

	"github.com/fleetdeploy/fleetdeploy/internal/errmsg"
	"github.com/fleetdeploy/fleetdeploy/target"
)

var _ target.AlarmSource = (*Alarms)(nil)

// MaxAlarmNameLength is the longest alarm name, in characters, as in a
// deployment group's alarmConfiguration (API Reference, Alarm).
const MaxAlarmNameLength = 255

// ErrorRateAlarm defines an alarm on the proxy's traffic: it is in ALARM
// while the 5xx rate of the requests it watches over the last Window is
// above Threshold, with at least MinRequests requests in the window.
type ErrorRateAlarm struct {
	// Name is what a deployment group's alarmConfiguration lists: 1–255
	// characters, unique among the alarms of one Alarms.
	Name string `json:"name"`
	// Route is the route whose requests the alarm watches. It must exist.
	Route target.TrafficRoute `json:"route"`
	// Backend narrows the alarm to the requests sent to one backend of
	// Route; empty means all of Route's requests, 503s of a route with no
	// backend in service included.
	Backend string `json:"backend,omitempty"`
	// Replacement narrows the alarm to the requests sent to the backend
	// that is the replacement of Route's split at the time of the reading
	// (the new version of a deployment in progress), whatever its weight;
	// a route with no replacement then reads INSUFFICIENT_DATA. Excludes
	// Backend.
	Replacement bool `json:"replacement,omitempty"`
	// Window is how far back the alarm looks, on the proxy's clock and to
	// the precision of Options.Bucket (see Proxy.Recent): positive, at
	// most Options.Retention.
	Window time.Duration `json:"window"`
	// Threshold is the error rate, from 0 up to (not including) 1, that
	// the rate must exceed to be in ALARM: 0.05 alarms above 5% errors,
	// 0 at the first error.
	Threshold float64 `json:"threshold"`
	// MinRequests is the fewest requests in the window for the alarm to
	// judge the rate; with fewer (and always with none) it reads
	// INSUFFICIENT_DATA. Must not be negative.
	MinRequests int64 `json:"minRequests,omitempty"`
}

// Reading is the state of an alarm at one moment, with what it was
// computed from.
type Reading struct {
	Name  string            `json:"name"`
	State target.AlarmState `json:"state"`
	// Backend is the backend whose requests were counted; empty for a
	// whole route, and for a Replacement alarm on a route without one.
	Backend string `json:"backend,omitempty"`
	// Counts are the requests and errors in the window.
	Counts Counts `json:"counts"`
}

// Alarms is a target.AlarmSource over a Proxy's traffic: a fixed set of
// ErrorRateAlarms, read on the proxy's clock. Safe for concurrent use.
type Alarms struct {
	p      *Proxy
	alarms map[string]ErrorRateAlarm
	names  []string
}

// NewAlarms returns the alarms defs over p's traffic. It reports every
// rule a definition breaks — a name empty, longer than MaxAlarmNameLength
// or repeated; a route that does not exist; a Backend the route does not
// have; Backend and Replacement both set; Window not positive or longer
// than Options.Retention; Threshold outside [0, 1); MinRequests negative
// — in one *multierror.Error, each problem wrapping ErrInvalidAlarm (and
// ErrExists for a repeated name, target.ErrNotFound for a missing route or
// backend).
func NewAlarms(p *Proxy, defs ...ErrorRateAlarm) (*Alarms, error) {
	if p == nil {
		return nil, fmt.Errorf("localtraffic: new alarms: the proxy is nil: %w", ErrInvalidAlarm)
	}
	a := &Alarms{p: p, alarms: make(map[string]ErrorRateAlarm, len(defs))}
	problems := errmsg.NewList("localtraffic: invalid alarms", "problems")
	bad := func(i int, d ErrorRateAlarm, also error, rule string, args ...any) {
		msg := fmt.Sprintf(rule, args...)
		if also == nil {
			problems = multierror.Append(problems, fmt.Errorf("localtraffic: alarm[%d] %q: %s: %w", i, d.Name, msg, ErrInvalidAlarm))
			return
		}
		problems = multierror.Append(problems, fmt.Errorf("localtraffic: alarm[%d] %q: %s: %w: %w", i, d.Name, msg, ErrInvalidAlarm, also))
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for i, d := range defs {
		switch n := utf8.RuneCountInString(d.Name); {
		case n == 0:
			bad(i, d, nil, "name must not be empty")
		case n > MaxAlarmNameLength:
			bad(i, d, nil, "name must be at most %d characters; got %d", MaxAlarmNameLength, n)
		}
		if _, dup := a.alarms[d.Name]; dup && d.Name != "" {
			bad(i, d, ErrExists, "name is used by an earlier alarm")
		}
		if rt, ok := p.routes[d.Route]; !ok {
			bad(i, d, target.ErrNotFound, "route %s does not exist", routeName(d.Route))
		} else if _, ok := rt.backends[d.Backend]; d.Backend != "" && !ok {
			bad(i, d, target.ErrNotFound, "route %s has no backend %q", routeName(d.Route), d.Backend)
		}
		if d.Backend != "" && d.Replacement {
			bad(i, d, nil, "backend and replacement are mutually exclusive")
		}
		if !p.validWindow(d.Window) {
			bad(i, d, ErrInvalidWindow, "window must be positive and at most Options.Retention (%v); got %v", p.opts.Retention, d.Window)
		}
		if !(d.Threshold >= 0 && d.Threshold < 1) {
			bad(i, d, nil, "threshold must be an error rate from 0 up to (not including) 1; got %v", d.Threshold)
		}
		if d.MinRequests < 0 {
			bad(i, d, nil, "minRequests must not be negative; got %d", d.MinRequests)
		}
		if _, dup := a.alarms[d.Name]; !dup {
			a.alarms[d.Name] = d
			a.names = append(a.names, d.Name)
		}
	}
	if err := problems.ErrorOrNil(); err != nil {
		return nil, err
	}
	return a, nil
}

// Names returns the alarms' names, in the order given to NewAlarms.
func (a *Alarms) Names() []string { return append([]string(nil), a.names...) }

// AlarmStates returns the state of each named alarm, in the order of
// names (see Read). An unknown name is an error wrapping
// target.ErrNotFound; ctx's error when it is done.
func (a *Alarms) AlarmStates(ctx context.Context, names []string) ([]target.AlarmState, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("localtraffic: alarm states: %w", err)
	}
	states := make([]target.AlarmState, len(names))
	for i, n := range names {
		r, err := a.Read(n)
		if err != nil {
			return nil, err
		}
		states[i] = r.State
	}
	return states, nil
}

// Read returns the alarm name's state now, on the proxy's clock: with c the
// counts of its requests over its window, INSUFFICIENT_DATA when
// c.Requests is 0 or below MinRequests, ALARM when c.ErrorRate() is above
// Threshold, else OK. An unknown name is an error wrapping
// target.ErrNotFound.
func (a *Alarms) Read(name string) (Reading, error) {
	d, ok := a.alarms[name]
	if !ok {
		return Reading{}, fmt.Errorf("localtraffic: alarm %q does not exist: %w", name, target.ErrNotFound)
	}
	k, err := a.p.windowBuckets(d.Window)
	if err != nil { // checked by NewAlarms
		return Reading{}, fmt.Errorf("localtraffic: alarm %q: %w", name, err)
	}
	p := a.p
	p.mu.Lock()
	defer p.mu.Unlock()
	rt, err := p.routeLocked(d.Route)
	if err != nil { // routes are never removed
		return Reading{}, fmt.Errorf("localtraffic: alarm %q: %w", name, err)
	}
	r := Reading{Name: name, Backend: d.Backend}
	if d.Replacement {
		r.Backend = rt.split.Replacement
	}
	now := p.clock.Now()
	switch {
	case r.Backend != "":
		r.Counts = rt.backends[r.Backend].recent.sum(now, k)
	case !d.Replacement:
		r.Counts = rt.recent.sum(now, k)
	}
	switch {
	case r.Counts.Requests == 0 || r.Counts.Requests < d.MinRequests:
		r.State = target.AlarmInsufficientData
	case r.Counts.ErrorRate() > d.Threshold:
		r.State = target.AlarmAlarm
	default:
		r.State = target.AlarmOK
	}
	return r, nil
}

package targettest

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sync"

	"github.com/fleetdeploy/fleetdeploy/target"
)

// Compile-time checks.
var (
	_ target.TrafficShifter = (*Shifter)(nil)
	_ target.Provisioner    = (*Provisioner)(nil)
	_ target.HookInvoker    = (*Hooks)(nil)
	_ target.AlarmSource    = (*Alarms)(nil)
)

// Shifter is an in-memory target.TrafficShifter: a set of routes, each with
// its current split, and a record of every shift. Safe for concurrent use.
type Shifter struct {
	mu      sync.Mutex
	routes  map[target.TrafficRoute]target.TrafficSplit
	shifts  []target.ShiftRequest
	onShift func(ctx context.Context, req target.ShiftRequest) error
}

// NewShifter returns a shifter with no routes.
func NewShifter() *Shifter {
	return &Shifter{routes: map[target.TrafficRoute]target.TrafficSplit{}}
}

// SetRoute creates route (or overwrites it) with the given split. Shifting
// traffic on a route that was never set fails with target.ErrNotFound.
func (s *Shifter) SetRoute(route target.TrafficRoute, split target.TrafficSplit) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.routes[route] = split
}

// OnShift sets a hook run by every ShiftTraffic call before it takes
// effect; nil removes it. It may block (latency on the test's clock) and
// must return when ctx is done; a non-nil error is what ShiftTraffic returns,
// and the split is left unchanged.
func (s *Shifter) OnShift(hook func(ctx context.Context, req target.ShiftRequest) error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.onShift = hook
}

// ShiftTraffic records req and sets its route's split. An invalid request
// is an error wrapping target.ErrInvalidRequest; an unknown route one
// wrapping target.ErrNotFound.
func (s *Shifter) ShiftTraffic(ctx context.Context, req target.ShiftRequest) error {
	s.mu.Lock()
	s.shifts = append(s.shifts, req)
	hook := s.onShift
	s.mu.Unlock()
	if err := req.Validate(); err != nil {
		return err
	}
	if hook != nil {
		if err := hook(ctx, req); err != nil {
			return err
		}
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("targettest: shift %s: %w", req.Route.ResourceID, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.routes[req.Route]; !ok {
		return fmt.Errorf("targettest: shift %s: route does not exist: %w", req.Route.ResourceID, target.ErrNotFound)
	}
	s.routes[req.Route] = req.Split
	return nil
}

// CurrentTraffic returns route's split, settled as the
// target.TrafficShifter contract asks (target.TrafficSplit.Settled): after
// a shift to Weight 100, the replacement is the Original.
func (s *Shifter) CurrentTraffic(ctx context.Context, route target.TrafficRoute) (target.TrafficSplit, error) {
	if err := ctx.Err(); err != nil {
		return target.TrafficSplit{}, fmt.Errorf("targettest: traffic of %s: %w", route.ResourceID, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	split, ok := s.routes[route]
	if !ok {
		return target.TrafficSplit{}, fmt.Errorf("targettest: traffic of %s: route does not exist: %w", route.ResourceID, target.ErrNotFound)
	}
	return split.Settled(), nil
}

// Shifts returns every ShiftTraffic request so far, in call order,
// including failed ones.
func (s *Shifter) Shifts() []target.ShiftRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.shifts)
}

// Provisioner is an in-memory target.Provisioner that adds replacement
// targets to a Fleet (out of service, so AllowTraffic puts them in) and
// removes terminated ones from it. Safe for concurrent use.
type Provisioner struct {
	fleet *Fleet

	mu          sync.Mutex
	made        map[string][]target.Target // deployment ID → replacements
	order       []string                   // made's keys, in the order they were made
	terminated  []string
	onProvision func(ctx context.Context, req target.ProvisionRequest) error
}

// NewProvisioner returns a provisioner for fleet.
func NewProvisioner(fleet *Fleet) *Provisioner {
	return &Provisioner{fleet: fleet, made: map[string][]target.Target{}}
}

// OnProvision sets a hook run by every ProvisionReplacements call before it
// acts; nil removes it. A non-nil error is what the call returns, and
// nothing is provisioned.
func (p *Provisioner) OnProvision(hook func(ctx context.Context, req target.ProvisionRequest) error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.onProvision = hook
}

// ProvisionReplacements returns the replacements for req.Deployment, making
// them on the first call:
//
//   - CopyAutoScalingGroup: one copy of each original, ID
//     "<original>-green-<deploymentID>", same zone and tags, in the Auto
//     Scaling group req.Deployment.CopiedAutoScalingGroupName();
//   - DiscoverExisting: the fleet's targets that req.Replacements matches,
//     less the originals (taken out of service);
//   - no action (ECS): one target "taskset-<deploymentID>".
//
// Replacements are added to the fleet out of service. A second call for
// the same deployment returns the same targets. A done ctx returns its
// error and no targets, even for a deployment already provisioned.
func (p *Provisioner) ProvisionReplacements(ctx context.Context, req target.ProvisionRequest) ([]target.Target, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("targettest: provision for %s: %w", req.Deployment.DeploymentID, err)
	}
	p.mu.Lock()
	hook := p.onProvision
	made, ok := p.made[req.Deployment.DeploymentID]
	p.mu.Unlock()
	if ok {
		return cloneTargets(made), nil
	}
	if hook != nil {
		if err := hook(ctx, req); err != nil {
			return nil, err
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("targettest: provision for %s: %w", req.Deployment.DeploymentID, err)
	}
	var out []target.Target
	switch req.Action {
	case target.CopyAutoScalingGroup:
		for _, o := range req.Originals {
			out = append(out, target.Target{
				ID: o.ID + "-green-" + req.Deployment.DeploymentID, Tags: maps.Clone(o.Tags), Zone: o.Zone,
				AutoScalingGroup: req.Deployment.CopiedAutoScalingGroupName(), OnPremises: o.OnPremises,
			})
		}
	case target.DiscoverExisting:
		found, err := p.fleet.ListTargets(ctx, req.Replacements)
		if err != nil {
			return nil, err
		}
		out = slices.DeleteFunc(found, func(t target.Target) bool {
			return slices.ContainsFunc(req.Originals, func(o target.Target) bool { return o.ID == t.ID })
		})
	case "":
		out = []target.Target{{ID: "taskset-" + req.Deployment.DeploymentID}}
	default:
		return nil, fmt.Errorf("targettest: provision action must be one of %v or empty; got %q: %w",
			req.Action.Values(), req.Action, target.ErrUnsupported)
	}
	if req.Action == target.DiscoverExisting {
		p.fleet.takeOutOfService(out)
	} else {
		p.fleet.addOutOfService(out...)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if prev, ok := p.made[req.Deployment.DeploymentID]; ok { // a concurrent call won
		return cloneTargets(prev), nil
	}
	p.made[req.Deployment.DeploymentID] = out
	p.order = append(p.order, req.Deployment.DeploymentID)
	return cloneTargets(out), nil
}

// Provisioned returns the replacements ProvisionReplacements made (or
// discovered), each once however often it was asked for them: a deployment's
// after another's, in the order of the deployments' first calls. With
// Terminated and the fleet's state, it tells a test whether anything
// provisioned was left behind.
func (p *Provisioner) Provisioned() []target.Target {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []target.Target
	for _, id := range p.order {
		out = append(out, cloneTargets(p.made[id])...)
	}
	return out
}

// TerminateTargets removes targets from the fleet and records them.
func (p *Provisioner) TerminateTargets(ctx context.Context, targets []target.Target) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("targettest: terminate: %w", err)
	}
	ids := make([]string, len(targets))
	for i, t := range targets {
		ids[i] = t.ID
	}
	p.fleet.Remove(ids...)
	p.mu.Lock()
	defer p.mu.Unlock()
	p.terminated = append(p.terminated, ids...)
	return nil
}

// Terminated returns the IDs passed to TerminateTargets, in call order.
func (p *Provisioner) Terminated() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.terminated)
}

// Hooks is an in-memory target.HookInvoker whose hook functions report
// scripted statuses. Safe for concurrent use.
type Hooks struct {
	mu          sync.Mutex
	script      script
	invocations []target.HookRequest
	onInvoke    func(ctx context.Context, req target.HookRequest) error
}

// NewHooks returns an invoker whose hooks all succeed until scripted.
func NewHooks() *Hooks { return &Hooks{} }

// Script sets the outcome of invoking function for event; "" for either
// matches any, with the precedence of Fleet.Script, and an outcome scoped
// to a revision or a deployment (Outcome.OnRevision, Outcome.InDeployment)
// applies to the invocations of that deployment only. A result's status must
// be Succeeded or Failed, the only ones a hook can report (API Reference,
// PutLifecycleEventHookExecutionStatus).
func (h *Hooks) Script(function string, event target.LifecycleEvent, o Outcome) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.script.set(function, event, o)
}

// OnInvoke sets a hook run by every InvokeHook call before its outcome is
// decided; nil removes it. It may block and must return when ctx is done; a
// non-nil error is what InvokeHook returns.
func (h *Hooks) OnInvoke(hook func(ctx context.Context, req target.HookRequest) error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.onInvoke = hook
}

// InvokeHook records req and returns the scripted outcome. A request
// without a function name or execution ID is an error wrapping ErrMisuse.
func (h *Hooks) InvokeHook(ctx context.Context, req target.HookRequest) (target.EventResult, error) {
	h.mu.Lock()
	h.invocations = append(h.invocations, req)
	hook := h.onInvoke
	h.mu.Unlock()
	if req.FunctionName == "" || req.ExecutionID == "" {
		return target.EventResult{}, fmt.Errorf("targettest: hook for %s needs a function name and an execution ID: %w", req.Event, ErrMisuse)
	}
	if hook != nil {
		if err := hook(ctx, req); err != nil {
			return target.EventResult{}, err
		}
	}
	if err := ctx.Err(); err != nil {
		return target.EventResult{}, fmt.Errorf("targettest: hook %s: %w", req.FunctionName, err)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	o := h.script.pick(req.FunctionName, req.Event, req.Deployment)
	if o.Err != nil {
		return target.EventResult{}, o.Err
	}
	return o.result(), nil
}

// Invocations returns every InvokeHook request so far, in call order.
func (h *Hooks) Invocations() []target.HookRequest {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.invocations)
}

func cloneTargets(ts []target.Target) []target.Target {
	out := make([]target.Target, len(ts))
	for i, t := range ts {
		out[i] = cloneTarget(t)
	}
	return out
}

// Alarms is an in-memory target.AlarmSource: named alarms whose states the
// test sets, and a poll failure it can switch on. Safe for concurrent use.
type Alarms struct {
	mu     sync.Mutex
	states map[string]target.AlarmState
	err    error
	reads  int
}

// NewAlarms returns a source with no alarms.
func NewAlarms() *Alarms { return &Alarms{states: map[string]target.AlarmState{}} }

// Set creates the alarm name, or changes its state.
func (a *Alarms) Set(name string, state target.AlarmState) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.states[name] = state
}

// SetError makes AlarmStates fail with err (nil to succeed again): the
// alarm service cannot be read, which the group's ignorePollAlarmFailure
// setting decides about.
func (a *Alarms) SetError(err error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.err = err
}

// Reads returns how many times AlarmStates was called.
func (a *Alarms) Reads() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.reads
}

// AlarmStates returns the state of each named alarm, in the order of
// names; no names return none. An alarm never Set is an error wrapping
// target.ErrNotFound; a done ctx returns its error.
func (a *Alarms) AlarmStates(ctx context.Context, names []string) ([]target.AlarmState, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("targettest: alarm states: %w", err)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.reads++
	if a.err != nil {
		return nil, a.err
	}
	out := make([]target.AlarmState, len(names))
	for i, n := range names {
		s, ok := a.states[n]
		if !ok {
			return nil, fmt.Errorf("targettest: alarm %q does not exist (set it with Alarms.Set): %w", n, target.ErrNotFound)
		}
		out[i] = s
	}
	return out, nil
}

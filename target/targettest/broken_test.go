package targettest_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/fleetdeploy/fleetdeploy/target"
	"github.com/fleetdeploy/fleetdeploy/target/targettest"
)

// The suites must have teeth: each implementation here wraps a good fake
// and breaks one promise of its role, and the suite must fail the check
// for that promise, and no other.

// --- Listers ---

// duplicating lists its first target twice.
type duplicating struct{ *targettest.Fleet }

func (l duplicating) ListTargets(ctx context.Context, sel target.Selector) ([]target.Target, error) {
	ts, err := l.Fleet.ListTargets(ctx, sel)
	if len(ts) > 0 {
		ts = append(ts, ts[0])
	}
	return ts, err
}

// anyGroup reads a tag set as one list of filters: any filter of any group
// selects.
type anyGroup struct{ *targettest.Fleet }

func (l anyGroup) ListTargets(ctx context.Context, sel target.Selector) ([]target.Target, error) {
	sel.EC2TagFilters = append(sel.EC2TagFilters, slices.Concat(sel.EC2TagSet.List...)...)
	sel.OnPremisesInstanceTagFilters = append(sel.OnPremisesInstanceTagFilters, slices.Concat(sel.OnPremisesTagSet.List...)...)
	sel.EC2TagSet, sel.OnPremisesTagSet = target.EC2TagSet{}, target.OnPremisesTagSet{}
	return l.Fleet.ListTargets(ctx, sel)
}

// noGroups ignores Auto Scaling groups.
type noGroups struct{ *targettest.Fleet }

func (l noGroups) ListTargets(ctx context.Context, sel target.Selector) ([]target.Target, error) {
	sel.AutoScalingGroups = nil
	return l.Fleet.ListTargets(ctx, sel)
}

// kindBlind applies on-premises tag filters to EC2 targets too.
type kindBlind struct{ *targettest.Fleet }

func (l kindBlind) ListTargets(ctx context.Context, sel target.Selector) ([]target.Target, error) {
	sel.EC2TagFilters = append(sel.EC2TagFilters, sel.OnPremisesInstanceTagFilters...)
	return l.Fleet.ListTargets(ctx, sel)
}

// tagless lists targets without their tags.
type tagless struct{ *targettest.Fleet }

func (l tagless) ListTargets(ctx context.Context, sel target.Selector) ([]target.Target, error) {
	ts, err := l.Fleet.ListTargets(ctx, sel)
	for i := range ts {
		ts[i].Tags = nil
	}
	return ts, err
}

// allForZero lists every target for a zero Selector.
type allForZero struct{ *targettest.Fleet }

func (l allForZero) ListTargets(ctx context.Context, sel target.Selector) ([]target.Target, error) {
	if sel.IsZero() {
		return l.Fleet.Targets(), nil
	}
	return l.Fleet.ListTargets(ctx, sel)
}

// sharedTags hands out the same Tags map for a target every time.
type sharedTags struct {
	*targettest.Fleet
	mu   sync.Mutex
	tags map[string]map[string]string
}

func (l *sharedTags) ListTargets(ctx context.Context, sel target.Selector) ([]target.Target, error) {
	ts, err := l.Fleet.ListTargets(ctx, sel)
	l.mu.Lock()
	defer l.mu.Unlock()
	for i := range ts {
		if m, ok := l.tags[ts[i].ID]; ok {
			ts[i].Tags = m
		} else {
			l.tags[ts[i].ID] = ts[i].Tags
		}
	}
	return ts, err
}

// deafLister lists whatever ctx says.
type deafLister struct{ *targettest.Fleet }

func (l deafLister) ListTargets(ctx context.Context, sel target.Selector) ([]target.Target, error) {
	return l.Fleet.ListTargets(context.WithoutCancel(ctx), sel)
}

// --- TrafficControllers ---

// strictBlock refuses to block a target that is not in service.
type strictBlock struct{ *targettest.Fleet }

func (c strictBlock) BlockTraffic(ctx context.Context, req target.TrafficRequest) error {
	if !c.InService(req.Target.ID) {
		return fmt.Errorf("target %s is not registered", req.Target.ID)
	}
	return c.Fleet.BlockTraffic(ctx, req)
}

// strictAllow refuses to allow a target already in service.
type strictAllow struct{ *targettest.Fleet }

func (c strictAllow) AllowTraffic(ctx context.Context, req target.TrafficRequest) error {
	if c.InService(req.Target.ID) {
		return fmt.Errorf("target %s is already registered", req.Target.ID)
	}
	return c.Fleet.AllowTraffic(ctx, req)
}

// blockEveryone blocks every target of the fleet.
type blockEveryone struct{ *targettest.Fleet }

func (c blockEveryone) BlockTraffic(ctx context.Context, req target.TrafficRequest) error {
	for _, t := range c.Targets() {
		r := req
		r.Target = t
		if err := c.Fleet.BlockTraffic(ctx, r); err != nil {
			return err
		}
	}
	return nil
}

// reregisterOnly allows only targets it blocked itself, and says nothing
// of the others.
type reregisterOnly struct {
	*targettest.Fleet
	mu      sync.Mutex
	blocked map[string]bool
}

func (c *reregisterOnly) BlockTraffic(ctx context.Context, req target.TrafficRequest) error {
	c.mu.Lock()
	c.blocked[req.Target.ID] = true
	c.mu.Unlock()
	return c.Fleet.BlockTraffic(ctx, req)
}

func (c *reregisterOnly) AllowTraffic(ctx context.Context, req target.TrafficRequest) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.blocked[req.Target.ID] {
		return nil
	}
	return c.Fleet.AllowTraffic(ctx, req)
}

// deafTraffic acts whatever ctx says.
type deafTraffic struct{ *targettest.Fleet }

func (c deafTraffic) BlockTraffic(ctx context.Context, req target.TrafficRequest) error {
	return c.Fleet.BlockTraffic(context.WithoutCancel(ctx), req)
}

func (c deafTraffic) AllowTraffic(ctx context.Context, req target.TrafficRequest) error {
	return c.Fleet.AllowTraffic(context.WithoutCancel(ctx), req)
}

// --- Provisioners ---

// forgetful makes new replacements on every call.
type forgetful struct {
	*targettest.Provisioner
	mu    sync.Mutex
	calls int
}

func (p *forgetful) ProvisionReplacements(ctx context.Context, req target.ProvisionRequest) ([]target.Target, error) {
	p.mu.Lock()
	p.calls++
	req.Deployment.DeploymentID += fmt.Sprintf("-%d", p.calls)
	p.mu.Unlock()
	return p.Provisioner.ProvisionReplacements(ctx, req)
}

// withOriginals returns the originals among the replacements.
type withOriginals struct{ *targettest.Provisioner }

func (p withOriginals) ProvisionReplacements(ctx context.Context, req target.ProvisionRequest) ([]target.Target, error) {
	rs, err := p.Provisioner.ProvisionReplacements(ctx, req)
	if err != nil {
		return nil, err
	}
	return append(rs, req.Originals...), nil
}

// stale returns the replacements it made before, whatever ctx says.
type stale struct {
	*targettest.Provisioner
	mu   sync.Mutex
	made map[string][]target.Target
}

func (p *stale) ProvisionReplacements(ctx context.Context, req target.ProvisionRequest) ([]target.Target, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if rs, ok := p.made[req.Deployment.DeploymentID]; ok {
		return rs, nil
	}
	rs, err := p.Provisioner.ProvisionReplacements(ctx, req)
	if err == nil {
		p.made[req.Deployment.DeploymentID] = rs
	}
	return rs, err
}

// deafTerminate terminates whatever ctx says.
type deafTerminate struct{ *targettest.Provisioner }

func (p deafTerminate) TerminateTargets(ctx context.Context, ts []target.Target) error {
	err := p.Provisioner.TerminateTargets(context.WithoutCancel(ctx), ts)
	if err == nil {
		err = ctx.Err()
	}
	return err
}

// --- AlarmSources ---

// sortedStates reads the alarms in name order.
type sortedStates struct{ *targettest.Alarms }

func (a sortedStates) AlarmStates(ctx context.Context, names []string) ([]target.AlarmState, error) {
	return a.Alarms.AlarmStates(ctx, slices.Sorted(slices.Values(names)))
}

// cachingStates remembers the first state read of each alarm.
type cachingStates struct {
	*targettest.Alarms
	mu   sync.Mutex
	seen map[string]target.AlarmState
}

func (a *cachingStates) AlarmStates(ctx context.Context, names []string) ([]target.AlarmState, error) {
	states, err := a.Alarms.AlarmStates(ctx, names)
	a.mu.Lock()
	defer a.mu.Unlock()
	for i, n := range names {
		if s, ok := a.seen[n]; ok && err == nil {
			states[i] = s
		} else if err == nil {
			a.seen[n] = states[i]
		}
	}
	return states, err
}

// lenient reads an unknown alarm as INSUFFICIENT_DATA.
type lenient struct{ *targettest.Alarms }

func (a lenient) AlarmStates(ctx context.Context, names []string) ([]target.AlarmState, error) {
	out := make([]target.AlarmState, len(names))
	for i, n := range names {
		s, err := a.Alarms.AlarmStates(ctx, []string{n})
		switch {
		case errors.Is(err, target.ErrNotFound):
			out[i] = target.AlarmInsufficientData
		case err != nil:
			return nil, err
		default:
			out[i] = s[0]
		}
	}
	return out, nil
}

// vague does not say which alarm is missing.
type vague struct{ *targettest.Alarms }

func (a vague) AlarmStates(ctx context.Context, names []string) ([]target.AlarmState, error) {
	s, err := a.Alarms.AlarmStates(ctx, names)
	if errors.Is(err, target.ErrNotFound) {
		return nil, fmt.Errorf("an alarm is missing: %w", target.ErrNotFound)
	}
	return s, err
}

// noNamesIsAnError refuses an empty list.
type noNamesIsAnError struct{ *targettest.Alarms }

func (a noNamesIsAnError) AlarmStates(ctx context.Context, names []string) ([]target.AlarmState, error) {
	if len(names) == 0 {
		return nil, errors.New("AlarmNames must have at least one member")
	}
	return a.Alarms.AlarmStates(ctx, names)
}

// deafAlarms reads whatever ctx says.
type deafAlarms struct{ *targettest.Alarms }

func (a deafAlarms) AlarmStates(ctx context.Context, names []string) ([]target.AlarmState, error) {
	return a.Alarms.AlarmStates(context.WithoutCancel(ctx), names)
}

// broken is one broken implementation: run runs its suite, and wantFails
// lists every check that must fail — and the only ones that may.
type broken struct {
	run       func(t *testing.T)
	wantFails []string
}

func brokenLister(wrap func(*targettest.Fleet) target.Lister, onPrem bool) func(*testing.T) {
	return func(t *testing.T) {
		targettest.TestLister(t, func(t *testing.T) targettest.ListerHarness {
			f := targettest.NewFleet()
			return listerHarness(wrap(f), f, onPrem)
		})
	}
}

func brokenTraffic(wrap func(*targettest.Fleet) target.TrafficController) func(*testing.T) {
	return func(t *testing.T) {
		targettest.TestTrafficController(t, func(t *testing.T) targettest.TrafficHarness {
			f := targettest.NewFleet()
			return trafficHarness(wrap(f), f)
		})
	}
}

func brokenProvisioner(wrap func(*targettest.Provisioner) target.Provisioner) func(*testing.T) {
	return func(t *testing.T) {
		targettest.TestProvisioner(t, provisionerHarness(target.CopyAutoScalingGroup, wrap))
	}
}

func brokenAlarms(wrap func(*targettest.Alarms) target.AlarmSource) func(*testing.T) {
	return func(t *testing.T) { targettest.TestAlarmSource(t, alarmHarness(wrap)) }
}

var brokenImpls = map[string]broken{
	"Lister/duplicating": {brokenLister(func(f *targettest.Fleet) target.Lister { return duplicating{f} }, false),
		[]string{"TagFilter/KeyOnly", "TagFilter/ValueOnly", "TagFilter/KeyAndValue", "TagFilters/Union", "TagSet/EveryGroup",
			"AutoScalingGroups", "AutoScalingGroups/UnionWithTags"}},
	"Lister/anyGroup": {brokenLister(func(f *targettest.Fleet) target.Lister { return anyGroup{f} }, false),
		[]string{"TagSet/EveryGroup"}},
	"Lister/anyGroupOnPremises": {brokenLister(func(f *targettest.Fleet) target.Lister { return anyGroup{f} }, true),
		[]string{"TagSet/EveryGroup"}},
	"Lister/noGroups": {brokenLister(func(f *targettest.Fleet) target.Lister { return noGroups{f} }, false),
		[]string{"AutoScalingGroups", "AutoScalingGroups/UnionWithTags"}},
	"Lister/kindBlind": {brokenLister(func(f *targettest.Fleet) target.Lister { return kindBlind{f} }, false),
		[]string{"OtherKind"}},
	"Lister/tagless": {brokenLister(func(f *targettest.Fleet) target.Lister { return tagless{f} }, false),
		[]string{"Targets"}},
	"Lister/allForZero": {brokenLister(func(f *targettest.Fleet) target.Lister { return allForZero{f} }, false),
		[]string{"NoMatch"}},
	"Lister/sharedTags": {brokenLister(func(f *targettest.Fleet) target.Lister {
		return &sharedTags{Fleet: f, tags: map[string]map[string]string{}}
	}, false), []string{"Targets"}},
	"Lister/deaf": {brokenLister(func(f *targettest.Fleet) target.Lister { return deafLister{f} }, false),
		[]string{"Context"}},

	"TrafficController/strictBlock": {brokenTraffic(func(f *targettest.Fleet) target.TrafficController { return strictBlock{f} }),
		[]string{"BlockTraffic"}},
	"TrafficController/strictAllow": {brokenTraffic(func(f *targettest.Fleet) target.TrafficController { return strictAllow{f} }),
		[]string{"AllowTraffic"}},
	"TrafficController/blockEveryone": {brokenTraffic(func(f *targettest.Fleet) target.TrafficController { return blockEveryone{f} }),
		[]string{"BlockTraffic"}},
	"TrafficController/reregisterOnly": {brokenTraffic(func(f *targettest.Fleet) target.TrafficController {
		return &reregisterOnly{Fleet: f, blocked: map[string]bool{}}
	}), []string{"AllowTraffic/NotRegistered", "Context"}}, // it also answers a done ctx with nil
	"TrafficController/deaf": {brokenTraffic(func(f *targettest.Fleet) target.TrafficController { return deafTraffic{f} }),
		[]string{"Context"}},

	"Provisioner/forgetful": {brokenProvisioner(func(p *targettest.Provisioner) target.Provisioner { return &forgetful{Provisioner: p} }),
		[]string{"ProvisionReplacements"}},
	"Provisioner/withOriginals": {brokenProvisioner(func(p *targettest.Provisioner) target.Provisioner { return withOriginals{p} }),
		[]string{"ProvisionReplacements", "TerminateTargets", "Context"}},
	"Provisioner/stale": {brokenProvisioner(func(p *targettest.Provisioner) target.Provisioner {
		return &stale{Provisioner: p, made: map[string][]target.Target{}}
	}), []string{"Context"}},
	"Provisioner/deafTerminate": {brokenProvisioner(func(p *targettest.Provisioner) target.Provisioner { return deafTerminate{p} }),
		[]string{"Context"}},

	"AlarmSource/sorted": {brokenAlarms(func(a *targettest.Alarms) target.AlarmSource { return sortedStates{a} }),
		[]string{"States"}},
	"AlarmSource/caching": {brokenAlarms(func(a *targettest.Alarms) target.AlarmSource {
		return &cachingStates{Alarms: a, seen: map[string]target.AlarmState{}}
	}), []string{"States"}},
	"AlarmSource/lenient": {brokenAlarms(func(a *targettest.Alarms) target.AlarmSource { return lenient{a} }),
		[]string{"UnknownName"}},
	"AlarmSource/vague": {brokenAlarms(func(a *targettest.Alarms) target.AlarmSource { return vague{a} }),
		[]string{"UnknownName"}},
	"AlarmSource/noNamesIsAnError": {brokenAlarms(func(a *targettest.Alarms) target.AlarmSource { return noNamesIsAnError{a} }),
		[]string{"NoNames"}},
	"AlarmSource/deaf": {brokenAlarms(func(a *targettest.Alarms) target.AlarmSource { return deafAlarms{a} }),
		[]string{"Context"}},
}

// TestBrokenHelper runs a suite against the broken implementation named by
// TARGETTEST_BROKEN, in a child process started by
// TestSuitesCatchBrokenImplementations. Without the variable it has
// nothing to do.
func TestBrokenHelper(t *testing.T) {
	b, ok := brokenImpls[os.Getenv("TARGETTEST_BROKEN")]
	if !ok {
		return
	}
	b.run(t)
}

// The suites run in a child process because a failing check fails the
// test that runs it; the parent reads which checks failed.
func TestSuitesCatchBrokenImplementations(t *testing.T) {
	for _, name := range slices.Sorted(maps.Keys(brokenImpls)) {
		b := brokenImpls[name]
		t.Run(name, func(t *testing.T) {
			cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^TestBrokenHelper$", "-test.v")
			cmd.Env = append(os.Environ(), "TARGETTEST_BROKEN="+name)
			out, err := cmd.CombinedOutput()
			if err == nil {
				t.Fatalf("the suite passed an implementation that breaks the contract:\n%s", out)
			}
			var failed []string
			for _, line := range strings.Split(string(out), "\n") {
				check, ok := strings.CutPrefix(strings.TrimSpace(line), "--- FAIL: TestBrokenHelper/")
				if check, _, _ = strings.Cut(check, " "); ok {
					failed = append(failed, check)
				}
			}
			for _, check := range b.wantFails {
				if !slices.Contains(failed, check) {
					t.Errorf("check %s did not fail:\n%s", check, out)
				}
			}
			for _, check := range failed {
				// A failed check fails its parent subtests too.
				if !slices.ContainsFunc(b.wantFails, func(w string) bool { return w == check || strings.HasPrefix(w, check+"/") }) {
					t.Errorf("check %s failed too; the implementation breaks only what checks %v check:\n%s", check, b.wantFails, out)
				}
			}
		})
	}
}

package plan

import (
	"fmt"
	"strings"
	"time"

	"github.com/fleetdeploy/fleetdeploy/config"
	"github.com/fleetdeploy/fleetdeploy/health"
)

// enterPhase prepares the current phase (p.pi) from the per-target state:
// for a Targets phase it builds the run, in O(size of the phase).
func (p *Planner) enterPhase() {
	ph := p.phases[p.pi]
	switch ph {
	case PhaseDeploy:
		p.buildRun(ruleHealth, p.order, p.st)
		p.expl = p.arith
	case PhaseInstallReplacement:
		p.buildRun(ruleHealth, p.order[:p.greenN], p.st)
		p.expl = "installing on the replacement (Green) fleet: " + p.arith
	case PhaseReroute:
		var installed []int32
		for _, t := range p.order[:p.greenN] {
			if p.st[t]&statusMask == sSucceeded {
				installed = append(installed, t)
			}
		}
		p.buildRun(ruleReroute, installed, p.rr)
		p.expl = fmt.Sprintf("rerouting traffic to %d installed replacement targets, %d at a time; at least %d of the %d replacement targets must take traffic (%s)",
			len(installed), p.run.w, p.run.need, p.greenN, p.arith)
		if p.run.oneAtATime {
			p.expl = fmt.Sprintf("rerouting traffic to %d installed replacement targets one at a time; every one but the last must take traffic", len(installed))
		}
	case PhaseBlockOriginals, PhaseAllowOriginals:
		p.buildRun(ruleAll, p.order[p.greenN:], p.st)
		what := "blocking traffic on"
		if ph == PhaseAllowOriginals {
			what = "allowing traffic back to"
		}
		p.expl = fmt.Sprintf("%s the %d original (Blue) targets, all at once; every one must succeed", what, len(p.run.order))
	case PhaseBlockReplacements:
		p.buildRun(ruleAll, p.order[:p.greenN], p.st)
		p.expl = fmt.Sprintf("blocking traffic on the %d replacement (Green) targets, all at once; every one must succeed", len(p.run.order))
	case PhaseAllowTraffic:
		p.expl = p.arith
	case PhaseReadyWait, PhaseTerminationWait:
		p.expl = "" // built by nextWait, which knows the deadline
	default:
		p.expl = "running " + string(ph)
	}
}

// buildRun sets p.run for a Targets phase over order, counting from the
// statuses in st.
func (p *Planner) buildRun(kind runKind, order []int32, st []uint8) {
	r := run{kind: kind, st: st, order: order, n: len(order), w: len(order)}
	if p.zonal && kind == ruleHealth && len(p.zoneNames) > 0 {
		r.zonal = true
		r.zones = make([]zoneState, len(p.zoneNames))
		for k := range r.zones {
			z := &r.zones[k]
			z.name = p.zoneNames[k]
			z.lo, z.hi = int(p.zoneBounds[k]), int(p.zoneBounds[k+1])
			z.n = z.hi - z.lo
			z.mz, _ = health.PerZone(p.perZone, z.n) // validated with the configuration
		}
	} else {
		r.zones = []zoneState{{lo: 0, hi: len(order), n: len(order)}}
	}
	for k := range r.zones {
		z := &r.zones[k]
		for _, t := range order[z.lo:z.hi] {
			s := st[t]
			healthy := p.st[t]&healthyBit != 0
			switch s & statusMask {
			case sPending:
				r.pending++
				z.pending++
				if !healthy {
					r.unhealthyPending = true
				}
			case sInProgress:
				r.inFlight++
				z.inFlight++
				z.attempted = true
				healthy = false // offline
			case sSucceeded:
				r.succeeded++
				z.attempted = true
				healthy = true
			case sFailed:
				r.failed++
				z.attempted = true
				healthy = false
			}
			if healthy {
				r.h++
				z.hz++
			}
		}
	}
	r.fresh = r.succeeded+r.failed+r.inFlight == 0
	r.oneAtATime = p.min.OneAtATime()
	switch kind {
	case ruleHealth:
		r.w, r.m, r.need = p.min.Window, p.min.Required, p.min.SuccessesNeeded()
		r.lastFailed = r.pending == 0 && r.inFlight == 0
		if r.oneAtATime && r.failed > 0 && !r.lastFailed {
			r.abort = true
			r.abortWhy = "one at a time: a target other than the last failed; every target but the last must succeed"
		}
	case ruleReroute:
		r.n = p.greenN
		r.w, r.need = p.min.Window, p.min.SuccessesNeeded()
		for _, t := range p.order[:p.greenN] {
			if p.st[t]&statusMask == sFailed {
				r.extraFailed++
			}
		}
		r.lastFailed = r.pending == 0 && r.inFlight == 0
		p.checkReroute(&r)
	case ruleAll:
		if r.failed > 0 {
			r.abort = true
		}
	}
	p.run = r
}

// checkReroute sets r.abort once the Reroute phase can no longer succeed.
func (p *Planner) checkReroute(r *run) {
	if r.abort {
		return
	}
	if r.oneAtATime {
		if r.failed > 0 && !r.lastFailed || r.failed+r.extraFailed > 1 {
			r.abort = true
			r.abortWhy = "one at a time: rerouting failed before the last target; every target but the last must take traffic"
		}
		return
	}
	if r.succeeded+r.pending+r.inFlight < r.need {
		r.abort = true
		r.abortWhy = fmt.Sprintf("rerouting can no longer reach %d targets: %d took traffic, %d failed, %d left", r.need, r.succeeded, r.failed, r.pending+r.inFlight)
	}
}

// Next returns what to do now. It commits its decision: the targets in
// Start count as in flight and a Step as handed out until reported, so a
// second call without a report returns no new work. now is only compared
// with deadlines and recorded in Progress; the planner never reads a clock.
//
// Once a decision is Done, Next returns it again on every call.
func (p *Planner) Next(now time.Time) Decision {
	if p.done {
		return p.final
	}
	for {
		if p.prog.PhaseStarted.IsZero() {
			p.prog.PhaseStarted = now
		}
		d := Decision{Phase: p.phases[p.pi], Status: InProgress, Start: p.buf[:0], Explanation: p.expl}
		if p.prog.StopCode != "" {
			if n := p.inFlight(); n > 0 {
				d.Explanation = fmt.Sprintf("stopping (%s): waiting for %d in flight to finish", p.prog.StopCode, n)
				return p.running(d)
			}
			msg := ""
			if p.prog.StopMessage != "" {
				msg = ": " + p.prog.StopMessage
			}
			return p.finish(d, Stopped, p.prog.StopCode, fmt.Sprintf("stopped (%s%s) in phase %s%s", p.prog.StopCode, msg, d.Phase, p.runCounts()))
		}
		if p.prog.FailCode != "" {
			return p.finish(d, Failed, p.prog.FailCode, p.prog.FailMessage)
		}
		var (
			v    verdict
			code ErrorCode
			why  string
		)
		switch d.Phase.Kind() {
		case KindTargets:
			v, code, why = p.nextTargets(now, &d)
		case KindStep:
			v = p.nextStep(&d)
		case KindTraffic:
			v = p.nextTraffic(now, &d)
		case KindWait:
			v, code, why = p.nextWait(now, &d)
		}
		switch v {
		case running:
			return p.running(d)
		case failed:
			return p.finish(d, Failed, code, why)
		case stopped:
			return p.finish(d, Stopped, code, why)
		}
		if p.pi == len(p.phases)-1 {
			return p.finish(d, Succeeded, "", strings.Join(p.notes, "; "))
		}
		p.pi++
		p.prog = Progress{Phase: p.phases[p.pi], PhaseStarted: now, StopCode: p.prog.StopCode, StopMessage: p.prog.StopMessage}
		p.enterPhase()
	}
}

func (p *Planner) running(d Decision) Decision {
	p.buf = d.Start
	if len(d.Start) == 0 {
		d.Start = nil
	}
	d.Progress = p.prog
	return d
}

func (p *Planner) finish(d Decision, s DeploymentStatus, code ErrorCode, why string) Decision {
	d.Status, d.ErrorCode, d.Explanation, d.Done = s, code, why, true
	d.Start, d.Step, d.WaitUntil = nil, nil, time.Time{}
	d.Progress = p.prog
	p.done, p.final = true, d
	p.buf = nil
	return d
}

// inFlight returns how many targets or steps are handed out and not yet
// reported.
func (p *Planner) inFlight() int {
	if p.prog.StepIssued {
		return 1
	}
	if p.phases[p.pi].Kind() == KindTargets {
		return p.run.inFlight
	}
	return 0
}

// runCounts returns the counts a stop reports; a stop finishes only once
// nothing is in flight, so every target not done was not attempted.
func (p *Planner) runCounts() string {
	if p.phases[p.pi].Kind() != KindTargets {
		return ""
	}
	r := &p.run
	return fmt.Sprintf("; %d succeeded, %d failed, %d not attempted", r.succeeded, r.failed, r.n-r.succeeded-r.failed-r.extraFailed)
}

// nextTargets advances a Targets phase.
func (p *Planner) nextTargets(now time.Time, d *Decision) (verdict, ErrorCode, string) {
	r := &p.run
	if r.kind == ruleHealth {
		if r.n == 0 {
			what := "targets"
			if d.Phase == PhaseInstallReplacement {
				what = "replacement (Green) targets"
			}
			return failed, NoInstances, "nothing was deployed: the deployment has no " + what
		}
		if r.fresh {
			if !p.min.Feasible() {
				return failed, HealthConstraintsInvalid, "nothing was deployed: " + p.arith
			}
			if r.h <= r.m && !r.unhealthyPending {
				return failed, HealthConstraintsInvalid, fmt.Sprintf(
					"nothing was deployed: only %d targets are healthy, %d must stay healthy, and no unhealthy target is waiting to be repaired (%s)",
					r.h, r.m, p.arith)
			}
		}
	}
	if r.abort {
		if r.inFlight > 0 {
			d.Explanation = fmt.Sprintf("failing: waiting for %d in flight to finish", r.inFlight)
			return running, "", ""
		}
		return failed, HealthConstraints, p.abortExplanation(d.Phase)
	}
	// Move past completed zones, with the monitor wait after each.
	for r.zi < len(r.zones)-1 {
		z := &r.zones[r.zi]
		if z.pending > 0 || z.inFlight > 0 {
			break
		}
		if bake := p.bakeAfter(r.zi); bake > 0 && !r.zones[r.zi+1].attempted {
			if p.prog.BakeZone != z.name {
				p.prog.BakeZone, p.prog.BakeUntil = z.name, now.Add(bake)
			}
			if now.Before(p.prog.BakeUntil) {
				d.Status, d.Zone, d.WaitUntil = Baking, z.name, p.prog.BakeUntil
				d.Explanation = fmt.Sprintf("zone %q is done; monitoring it for %s, until %s, before zone %q starts (%s)",
					z.name, bake, p.prog.BakeUntil.Format(time.RFC3339), r.zones[r.zi+1].name, p.arith)
				return running, "", ""
			}
		}
		r.zi++
		r.cur = r.zones[r.zi].lo
	}
	z := &r.zones[r.zi]
	if r.zonal {
		d.Zone = z.name
	}
	switch r.kind {
	case ruleHealth:
		for r.inFlight < r.w {
			for r.cur < z.hi && r.st[r.order[r.cur]]&statusMask != sPending {
				r.cur++
			}
			if r.cur >= z.hi {
				break
			}
			t := r.order[r.cur]
			s := r.st[t]
			if s&healthyBit != 0 {
				if r.h-1 < r.m || r.zonal && z.hz-1 < z.mz {
					break
				}
				r.h--
				z.hz--
			}
			r.st[t] = s&^statusMask | sInProgress
			r.inFlight++
			z.inFlight++
			z.pending--
			r.pending--
			d.Start = append(d.Start, int(t))
			r.cur++
		}
	default:
		for r.inFlight < r.w {
			for r.cur < z.hi && r.st[r.order[r.cur]]&statusMask != sPending {
				r.cur++
			}
			if r.cur >= z.hi {
				break
			}
			t := r.order[r.cur]
			r.st[t] = r.st[t]&^statusMask | sInProgress
			r.inFlight++
			z.inFlight++
			z.pending--
			r.pending--
			d.Start = append(d.Start, int(t))
			r.cur++
		}
	}
	if len(d.Start) > 0 {
		r.fresh = false
		z.attempted = true
		return running, "", ""
	}
	if r.inFlight > 0 {
		return running, "", ""
	}
	if z.pending > 0 {
		// Work remains, none of it may start, and nothing in flight could
		// change that (see "Server in-place" and "Zonal deployments" in the
		// package documentation).
		return failed, HealthConstraints, p.blockedExplanation(z)
	}
	return p.endRun(d.Phase)
}

// endRun applies the phase's success rule once all its targets are done.
func (p *Planner) endRun(ph Phase) (verdict, ErrorCode, string) {
	r := &p.run
	switch r.kind {
	case ruleAll:
		p.notes = append(p.notes, fmt.Sprintf("%s: all %d targets succeeded", ph, r.succeeded))
		return passed, "", ""
	case ruleReroute:
		t := health.Tally{Succeeded: r.succeeded, Failed: r.failed + r.extraFailed, NotAttempted: r.n - r.succeeded - r.failed - r.extraFailed}
		t.LastFailed = t.Failed == 1 && (r.extraFailed == 1 || r.lastFailed)
		if !p.min.Succeeded(t) {
			return failed, HealthConstraints, fmt.Sprintf("%s: traffic moved to %s (%s)", ph, p.min.ExplainResult(t), p.arith)
		}
		p.notes = append(p.notes, fmt.Sprintf("%s: traffic moved to %s", ph, p.min.ExplainResult(t)))
		return passed, "", ""
	}
	t := health.Tally{Succeeded: r.succeeded, Failed: r.failed, NotAttempted: r.n - r.succeeded - r.failed, LastFailed: r.lastFailed}
	if !p.min.Succeeded(t) {
		return failed, HealthConstraints, fmt.Sprintf("%s (%s)", p.min.ExplainResult(t), p.arith)
	}
	p.notes = append(p.notes, fmt.Sprintf("%s: %s (%s)", ph, p.min.ExplainResult(t), p.arith))
	return passed, "", ""
}

func (p *Planner) abortExplanation(ph Phase) string {
	r := &p.run
	switch {
	case r.kind == ruleAll:
		return fmt.Sprintf("%s: %d of %d targets failed; every one must succeed", ph, r.failed, r.n)
	case r.abortWhy != "":
		return fmt.Sprintf("%s: %s; %d succeeded, %d failed, %d not attempted (%s)", ph, r.abortWhy, r.succeeded, r.failed, r.pending, p.arith)
	}
	return fmt.Sprintf("%s failed (%s)", ph, p.arith)
}

func (p *Planner) blockedExplanation(z *zoneState) string {
	r := &p.run
	if r.zonal && r.h-1 >= r.m {
		return fmt.Sprintf("zone %q: %d targets still to deploy, but only %d of its %d targets are healthy and not in flight and it must keep %d (%s per zone); %d succeeded, %d failed so far (%s)",
			z.name, z.pending, z.hz, z.n, z.mz, p.perZone.PerZoneMinimum(), r.succeeded, r.failed, p.arith)
	}
	return fmt.Sprintf("%d targets still to deploy, but only %d healthy targets are not in flight and %d must stay healthy, so none may go offline; %d succeeded, %d failed so far (%s)",
		r.pending, r.h, r.m, r.succeeded, r.failed, p.arith)
}

// bakeAfter is the monitor wait after zone k (API Reference, ZonalConfig).
func (p *Planner) bakeAfter(k int) time.Duration {
	z := p.cfg.ZonalConfig
	if k == 0 {
		return z.FirstZoneMonitorDuration()
	}
	return z.MonitorDuration()
}

// nextStep advances a Step phase.
func (p *Planner) nextStep(d *Decision) verdict {
	switch {
	case p.prog.StepDone:
		p.notes = append(p.notes, string(d.Phase)+" succeeded")
		return passed
	case !p.prog.StepIssued:
		p.prog.StepIssued = true
		d.Step = &Step{Phase: d.Phase}
	}
	return running
}

// nextTraffic advances the AllowTraffic phase along the schedule of
// config.TrafficRouting.Steps: shift k is due config.TrafficStep.At after
// the phase began.
func (p *Planner) nextTraffic(now time.Time, d *Decision) verdict {
	k := p.prog.Shifts
	if k >= len(p.shifts) {
		p.notes = append(p.notes, fmt.Sprintf("AllowTraffic: %d shifts, 100%% of traffic on the replacement", len(p.shifts)))
		return passed
	}
	if p.prog.StepIssued {
		d.Explanation = fmt.Sprintf("shifting traffic to %d%% (shift %d of %d)", p.shifts[k].Weight, k+1, len(p.shifts))
		return running
	}
	due := p.prog.PhaseStarted.Add(p.shifts[k].At)
	if now.Before(due) {
		cur := 0
		if k > 0 {
			cur = p.shifts[k-1].Weight
		}
		d.WaitUntil = due
		d.Explanation = fmt.Sprintf("%d%% of traffic on the replacement; next shift to %d%% at %s (%s)",
			cur, p.shifts[k].Weight, due.Format(time.RFC3339), p.arith)
		return running
	}
	p.prog.StepIssued = true
	d.Step = &Step{Phase: PhaseAllowTraffic, Index: k, Weight: p.shifts[k].Weight}
	d.Explanation = fmt.Sprintf("shifting traffic to %d%% (shift %d of %d)", p.shifts[k].Weight, k+1, len(p.shifts))
	return running
}

// nextWait advances a Wait phase.
func (p *Planner) nextWait(now time.Time, d *Decision) (verdict, ErrorCode, string) {
	if d.Phase == PhaseReadyWait {
		deadline := p.prog.PhaseStarted.Add(p.bg.ReadyWait)
		switch {
		case p.prog.Continued:
			p.notes = append(p.notes, "ReadyWait: continued")
			return passed, "", ""
		case !now.Before(deadline):
			return stopped, Timeout, fmt.Sprintf("stopped: the replacement was ready but Continue(READY_WAIT) did not come within %s (STOP_DEPLOYMENT)", p.bg.ReadyWait)
		}
		d.Status, d.WaitUntil = Ready, deadline
		d.Explanation = fmt.Sprintf("ready: waiting for Continue(READY_WAIT) until %s; then the deployment stops (STOP_DEPLOYMENT)", deadline.Format(time.RFC3339))
		return running, "", ""
	}
	deadline := p.prog.PhaseStarted.Add(p.bg.TerminationWait)
	if p.prog.Continued || !now.Before(deadline) {
		p.notes = append(p.notes, "TerminationWait: over")
		return passed, "", ""
	}
	d.Status, d.WaitUntil = Baking, deadline
	d.Explanation = fmt.Sprintf("traffic has moved; the originals are terminated at %s, or on Continue(TERMINATION_WAIT)", deadline.Format(time.RFC3339))
	return running, "", ""
}

// Finished reports the outcome of a target handed out by Next in the
// current phase; target is its index in Input.Targets. A failed target is
// data, not an error: it counts against the minimum healthy hosts. It
// returns an error wrapping ErrNotInFlight when the target is not in flight
// in the current phase, or ErrDone after the deployment finished.
func (p *Planner) Finished(target int, succeeded bool) error {
	if p.done {
		return fmt.Errorf("%w: Finished(%d)", ErrDone, target)
	}
	r := &p.run
	if p.phases[p.pi].Kind() != KindTargets || target < 0 || target >= len(p.st) || r.st[target]&statusMask != sInProgress {
		return fmt.Errorf("%w: target %d in phase %s", ErrNotInFlight, target, p.phases[p.pi])
	}
	z := &r.zones[0]
	if r.zonal {
		z = &r.zones[p.zoneOf[target]]
	}
	r.inFlight--
	z.inFlight--
	s := r.st[target]
	if succeeded {
		r.st[target] = s&^statusMask | sSucceeded
		r.succeeded++
		if r.kind == ruleHealth {
			r.h++
			z.hz++
		}
	} else {
		r.st[target] = s&^statusMask | sFailed
		r.failed++
		r.lastFailed = r.pending == 0 && r.inFlight == 0
		switch r.kind {
		case ruleHealth:
			if r.oneAtATime && !r.lastFailed {
				r.abort = true
				r.abortWhy = "one at a time: a target other than the last failed; every target but the last must succeed"
			}
		case ruleAll:
			r.abort = true
		}
	}
	if r.kind == ruleReroute {
		p.checkReroute(r)
	}
	return nil
}

// StepFinished reports the outcome of the Step handed out by Next. A failed
// step fails the deployment (with res.ErrorCode, or a default by phase). It
// returns an error wrapping ErrNoStep when no step is in flight, ErrDone
// after the deployment finished, or ErrInvalidInput for an unknown error
// code.
func (p *Planner) StepFinished(res StepResult) error {
	if p.done {
		return fmt.Errorf("%w: StepFinished", ErrDone)
	}
	if !p.prog.StepIssued {
		return fmt.Errorf("%w: phase %s", ErrNoStep, p.phases[p.pi])
	}
	if res.ErrorCode != "" && !res.ErrorCode.valid() {
		return inputErr("StepResult.ErrorCode", "must be a CodeDeploy error code; got %q", res.ErrorCode)
	}
	ph := p.phases[p.pi]
	p.prog.StepIssued = false
	if !res.Succeeded {
		code := res.ErrorCode
		if code == "" {
			code = defaultStepCode(p.platform, ph)
		}
		what := string(ph)
		if ph == PhaseAllowTraffic {
			what = fmt.Sprintf("AllowTraffic (shift %d to %d%%)", p.prog.Shifts+1, p.shifts[p.prog.Shifts].Weight)
		}
		msg := what + " failed"
		if res.Message != "" {
			msg += ": " + res.Message
		}
		p.prog.FailCode, p.prog.FailMessage = code, msg
		return nil
	}
	if ph == PhaseAllowTraffic {
		p.prog.Shifts++
	} else {
		p.prog.StepDone = true
	}
	return nil
}

func defaultStepCode(platform config.ComputePlatform, ph Phase) ErrorCode {
	switch ph {
	case PhaseBeforeInstall, PhaseAfterInstall, PhaseAfterAllowTestTraffic, PhaseBeforeAllowTraffic, PhaseAfterAllowTraffic:
		return HookExecutionFailure
	case PhaseInstall, PhaseAllowTestTraffic, PhaseAllowTraffic:
		if platform == config.ECS {
			return ECSUpdateError
		}
	}
	return InternalError
}

// Continue ends a wait early, as CodeDeploy's ContinueDeployment does:
// READY_WAIT starts rerouting traffic; TERMINATION_WAIT terminates the
// originals now. It returns an error wrapping ErrNotWaiting unless the
// deployment is in that wait, or ErrDone.
func (p *Planner) Continue(w WaitType) error {
	if p.done {
		return fmt.Errorf("%w: Continue(%s)", ErrDone, w)
	}
	ph := p.phases[p.pi]
	if w == ReadyWait && ph == PhaseReadyWait || w == TerminationWait && ph == PhaseTerminationWait {
		p.prog.Continued = true
		return nil
	}
	return fmt.Errorf("%w: Continue(%s) in phase %s", ErrNotWaiting, w, ph)
}

// Stop asks the deployment to stop (see "Stopping" in the package
// documentation): nothing new starts; targets and steps in flight are
// allowed to finish and be reported; then the deployment is Stopped with
// code (MANUAL_STOP when empty; ALARM_ACTIVE for an alarm). A second Stop
// keeps the first reason. It returns ErrDone after the deployment finished,
// or ErrInvalidInput for an unknown code.
func (p *Planner) Stop(code ErrorCode, message string) error {
	if p.done {
		return fmt.Errorf("%w: Stop", ErrDone)
	}
	if code == "" {
		code = ManualStop
	}
	if !code.valid() {
		return inputErr("Stop.code", "must be a CodeDeploy error code; got %q", code)
	}
	if p.prog.StopCode == "" {
		p.prog.StopCode, p.prog.StopMessage = code, message
	}
	return nil
}

// Progress returns the deployment-level state, as in the last Decision plus
// any reports since.
func (p *Planner) Progress() Progress { return p.prog }

// Minimum returns the resolved minimum healthy hosts rule: over all targets
// for in-place, over the Green targets for blue/green; the zero value for
// Lambda and ECS.
func (p *Planner) Minimum() health.Minimum { return p.min }

// Phases returns the deployment's phases in order.
func (p *Planner) Phases() []Phase { return append([]Phase(nil), p.phases...) }

// Order returns every target's index in Input.Targets in schedule order:
// zone by zone for a zonal deployment, and for blue/green the Green targets
// before the Blue ones; by health class, then ID, within each.
func (p *Planner) Order() []int {
	out := make([]int, len(p.order))
	for i, t := range p.order {
		out[i] = int(t)
	}
	return out
}

// Zones returns the zones of a zonal deployment in the order they are
// deployed; nil otherwise.
func (p *Planner) Zones() []string { return append([]string(nil), p.zoneNames...) }

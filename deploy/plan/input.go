package plan

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/hashicorp/go-multierror"

	"github.com/fleetdeploy/fleetdeploy/config"
	"github.com/fleetdeploy/fleetdeploy/health"
	"github.com/fleetdeploy/fleetdeploy/internal/errmsg"
	"github.com/fleetdeploy/fleetdeploy/target"
)

// Errors returned by the planner. Errors from New, Preview, Decide,
// StepFinished and Stop about their input list every problem at once (see
// InputError).
var (
	// ErrInvalidInput: the planner was given input that breaks a rule; the
	// error is a *multierror.Error of *InputError values, each naming the
	// field and the rule.
	ErrInvalidInput = errors.New("plan: invalid input")
	// ErrNotInFlight: Finished was called for a target the planner did not
	// hand out in the current phase, or already reported.
	ErrNotInFlight = errors.New("plan: target is not in flight")
	// ErrNoStep: StepFinished was called while no step was handed out.
	ErrNoStep = errors.New("plan: no step is in flight")
	// ErrNotWaiting: Continue was called while the deployment is not in the
	// wait it names.
	ErrNotWaiting = errors.New("plan: the deployment is not waiting for this")
	// ErrDone: the deployment is already finished.
	ErrDone = errors.New("plan: the deployment is finished")
)

// InputError is one problem of the planner's input: a *config.Problem whose
// Kind is ErrInvalidInput, Field the offending field as this package spells
// it ("Targets[3].Status", "Config.minimumHealthyHosts.value") and Rule what
// it must be. New, Preview and Decide check the whole input and return every
// problem at once, as config.Config.Validate does: a *multierror.Error
// (github.com/hashicorp/go-multierror) whose message is "plan: invalid
// input: " and the problem, or "plan: invalid input: N problems:" and one
// indented line per problem. errors.Is(err, ErrInvalidInput) holds, and
// errors.As(err, &p) with p an *InputError finds the first problem; range
// over the list's Errors for all of them. A problem of the configuration
// keeps the configuration's own problem as Err, so errors.Is(err,
// config.ErrInvalidConfig) holds too. At most maxProblems problems are
// listed; a last one counts those left out.
type InputError = config.Problem

// maxProblems bounds the problems listed for one input, so that a million
// targets with the same mistake do not make a million-line error.
const maxProblems = 100

// problems collects the problems of one input, up to maxProblems.
type problems struct {
	ps      config.Problems
	omitted int
}

func (p *problems) add(sentinel error, field, rule string, args ...any) {
	if len(p.ps) >= maxProblems {
		p.omitted++
		return
	}
	p.ps.Add(sentinel, field, rule, args...)
}

// err returns nil or the list of the problems, as InputError describes.
func (p *problems) err() error {
	ps := p.ps
	if p.omitted > 0 {
		ps = append(slices.Clip(ps), config.Problem{Field: "(more)", Rule: fmt.Sprintf("%d more problems are not listed", p.omitted)})
	}
	return ps.Err(ErrInvalidInput, "input")
}

// addConfig adds the problems of the configuration's validation error err,
// each under "Config." and keeping its own problem as Err.
func (p *problems) addConfig(err error) {
	var list *multierror.Error
	if !errors.As(err, &list) {
		p.add(err, "Config", "must be a valid deployment configuration: %s", errmsg.Trim(err.Error()))
		return
	}
	for _, e := range list.Errors {
		var cp *config.Problem
		if errors.As(e, &cp) {
			p.add(e, "Config."+cp.Field, "%s", cp.Rule)
			continue
		}
		p.add(e, "Config", "must be a valid deployment configuration: %s", errmsg.Trim(e.Error()))
	}
}

// inputErr returns the one problem field breaks.
func inputErr(field, rule string, args ...any) error {
	var p problems
	p.add(nil, field, rule, args...)
	return p.err()
}

// Input is a deployment's state: everything the planner needs, as plain
// data the executor keeps in its store. A fresh deployment has every target
// Pending and a zero Progress; a resumed one has whatever was stored.
type Input struct {
	// Config is the deployment configuration. It must pass Validate.
	Config config.Config `json:"config"`
	// Type is IN_PLACE or BLUE_GREEN. Lambda and ECS deployments are always
	// BLUE_GREEN. Empty means the platform's default: IN_PLACE for Server,
	// BLUE_GREEN for Lambda and ECS (the only type they have).
	Type target.DeploymentType `json:"type,omitempty"`
	// Targets are the Server targets of the deployment (empty for Lambda and
	// ECS, whose traffic shifts are deployment-wide). The planner refers to
	// a target by its index in this slice. Targets that are not part of the
	// deployment at all must be left out rather than marked Skipped.
	Targets []Target `json:"targets"`
	// Rollback marks a rollback deployment. Rollbacks are never zonal
	// (User Guide, "Create a deployment configuration with CodeDeploy");
	// a blue/green rollback allows traffic back to the Blue targets and
	// blocks it on the Green ones ("AppSpec 'hooks' section").
	Rollback bool `json:"rollback,omitempty"`
	// ZoneOrder optionally fixes the order of zones in a zonal deployment.
	// Listed zones go first, in the order given; zones not listed follow in
	// the default order (zones holding Unhealthy targets first, then by
	// name: fleetdeploy's decision, see the package documentation). Listed
	// zones without targets are ignored; a zone listed twice is an error.
	ZoneOrder []string `json:"zoneOrder,omitempty"`
	// BlueGreen holds the blue/green options (Server and ECS).
	BlueGreen BlueGreen `json:"blueGreen,omitzero"`
	// Progress is the deployment-level progress from Decision.Progress, as
	// stored; zero for a fresh deployment.
	Progress Progress `json:"progress,omitzero"`
}

// Target is one Server target's state in a deployment.
type Target struct {
	// ID is the target's unique ID. Within a health class targets go in
	// ascending ID order (fleetdeploy's decision; AWS promises no order).
	ID string `json:"id"`
	// Zone is the target's Availability Zone. Required when the
	// configuration is zonal and the deployment is in-place and not a
	// rollback; ignored otherwise.
	Zone string `json:"zone,omitempty"`
	// Instance and Revision are the target's health at the start of the
	// deployment; they decide its place in the order (User Guide, "CodeDeploy
	// instance health"). Do not update them while the deployment runs: the
	// planner derives the current health from Status (Succeeded targets are
	// healthy, Failed ones unhealthy, InProgress ones offline).
	//
	// Empty values take the health of a target in its usual state, so that
	// only the exceptions need setting: an in-place or Blue (original)
	// target is taken as Healthy and running the group's Current revision
	// (a fleet between deployments); a Green (replacement) target as
	// Unhealthy with an Unknown revision, a new instance that never
	// received a revision. Each of the two fields defaults on its own, and
	// Health returns the values in force.
	Instance health.InstanceHealth `json:"instanceHealth,omitempty"`
	Revision health.RevisionHealth `json:"revisionHealth,omitempty"`
	// Label is empty for in-place deployments; Blue (original) or Green
	// (replacement) for blue/green ones.
	Label target.TargetLabel `json:"label,omitempty"`
	// Status is the target's progress: Pending, InProgress, Succeeded,
	// Failed or Skipped. For in-place targets it is the deployment to the
	// target; for Green targets the install; for Blue targets blocking
	// traffic (in a rollback: for Blue allowing traffic, for Green blocking
	// it). Skipped targets are never started; they count in the fleet size
	// and keep their health. Empty means Pending.
	Status target.TargetStatus `json:"status,omitempty"`
	// Reroute is a Green target's progress in taking traffic (Pending at
	// first; empty means Pending); it must be empty for other targets and
	// in rollbacks.
	Reroute target.TargetStatus `json:"reroute,omitempty"`
}

// Health returns the target as package health sees it, with the health in
// force for empty Instance and Revision (see Target).
func (t Target) Health() health.Target {
	return health.Target{ID: t.ID, Instance: t.instance(), Revision: t.revision()}
}

// instance returns Instance, or its default when empty.
func (t *Target) instance() health.InstanceHealth {
	switch {
	case t.Instance != "":
		return t.Instance
	case t.Label == target.LabelGreen:
		return health.Unhealthy
	}
	return health.Healthy
}

// revision returns Revision, or its default when empty.
func (t *Target) revision() health.RevisionHealth {
	switch {
	case t.Revision != "":
		return t.Revision
	case t.Label == target.LabelGreen:
		return health.Unknown
	}
	return health.Current
}

// deploymentType returns Type, or the platform's default when empty.
func (in *Input) deploymentType() target.DeploymentType {
	switch {
	case in.Type != "":
		return in.Type
	case in.Config.Platform() == config.Server:
		return target.InPlace
	}
	return target.BlueGreen
}

// BlueGreen holds the blueGreenDeploymentConfiguration options that shape
// the plan (API Reference, BlueGreenDeploymentConfiguration). They apply
// to Server blue/green and ECS deployments and are ignored otherwise.
type BlueGreen struct {
	// ReadyAction is deploymentReadyOption.actionOnTimeout; empty means
	// CONTINUE_DEPLOYMENT.
	ReadyAction ReadyAction `json:"actionOnTimeout,omitempty"`
	// ReadyWait is deploymentReadyOption.waitTimeInMinutes: with
	// STOP_DEPLOYMENT, the deployment is Stopped if Continue(READY_WAIT)
	// does not come within this time of becoming Ready. It must be positive
	// with STOP_DEPLOYMENT.
	ReadyWait time.Duration `json:"readyWait,omitempty"`
	// TerminationAction is terminateBlueInstancesOnDeploymentSuccess.action;
	// empty means KEEP_ALIVE (a fleetdeploy default: nothing is destroyed
	// unless asked for).
	TerminationAction TerminationAction `json:"terminationAction,omitempty"`
	// TerminationWait is terminationWaitTimeInMinutes: with TERMINATE, the
	// wait (status Baking) before the originals are removed.
	TerminationWait time.Duration `json:"terminationWait,omitempty"`
}

// Progress is the deployment-level part of a deployment's state (per-target
// state lives in Input.Targets). The planner returns it in every Decision;
// the caller stores it and passes it back in Input.Progress to resume. It is
// small and O(1) in the fleet size.
type Progress struct {
	// Phase is the current phase; empty means the first one.
	Phase Phase `json:"phase,omitempty"`
	// PhaseStarted is when the current phase began, as given by Next's now.
	// Wait deadlines and the traffic schedule count from it.
	PhaseStarted time.Time `json:"phaseStarted,omitzero"`
	// StepIssued is true while the current phase's step (or traffic shift)
	// has been handed out and not yet reported.
	StepIssued bool `json:"stepIssued,omitempty"`
	// StepDone is true once the current Step phase's step succeeded.
	StepDone bool `json:"stepDone,omitempty"`
	// Shifts is the number of traffic shifts of the AllowTraffic phase
	// done.
	Shifts int `json:"shifts,omitempty"`
	// BakeZone and BakeUntil record a zonal monitor wait: after BakeZone
	// completed, the next zone starts at BakeUntil.
	BakeZone  string    `json:"bakeZone,omitempty"`
	BakeUntil time.Time `json:"bakeUntil,omitzero"`
	// Continued is true once Continue was called for the current wait
	// phase.
	Continued bool `json:"continued,omitempty"`
	// StopCode and StopMessage record a stop request (see Planner.Stop).
	StopCode    ErrorCode `json:"stopCode,omitempty"`
	StopMessage string    `json:"stopMessage,omitempty"`
	// FailCode and FailMessage record a failed step (see
	// Planner.StepFinished).
	FailCode    ErrorCode `json:"failCode,omitempty"`
	FailMessage string    `json:"failMessage,omitempty"`
}

// Compact per-target status codes (the low 3 bits of Planner.st).
const (
	sPending uint8 = iota
	sInProgress
	sSucceeded
	sFailed
	sSkipped

	statusMask  uint8 = 7
	healthyBit  uint8 = 8
	invalidCode uint8 = 255
)

func parseStatus(s target.TargetStatus) uint8 {
	switch s {
	case "", target.TargetPending:
		return sPending
	case target.TargetInProgress:
		return sInProgress
	case target.TargetSucceeded:
		return sSucceeded
	case target.TargetFailed:
		return sFailed
	case target.TargetSkipped:
		return sSkipped
	}
	return invalidCode
}

const statusRule = "must be Pending, InProgress, Succeeded, Failed or Skipped; got %q"

// phasesFor returns the phase list of a deployment (see Phases).
func phasesFor(p config.ComputePlatform, t target.DeploymentType, rollback bool, bg BlueGreen) []Phase {
	var ph []Phase
	ready := func() {
		if bg.ReadyAction == StopDeployment {
			ph = append(ph, PhaseReadyWait)
		}
	}
	terminate := func() {
		if bg.TerminationAction == Terminate {
			ph = append(ph, PhaseTerminationWait, PhaseTerminateOriginals)
		}
	}
	switch {
	case p == config.Lambda:
		ph = []Phase{PhaseBeforeAllowTraffic, PhaseAllowTraffic, PhaseAfterAllowTraffic}
	case p == config.ECS:
		ph = []Phase{PhaseBeforeInstall, PhaseInstall, PhaseAfterInstall, PhaseAllowTestTraffic, PhaseAfterAllowTestTraffic}
		ready()
		ph = append(ph, PhaseBeforeAllowTraffic, PhaseAllowTraffic, PhaseAfterAllowTraffic)
		terminate()
	case t == target.InPlace:
		ph = []Phase{PhaseDeploy}
	case rollback:
		ph = []Phase{PhaseAllowOriginals, PhaseBlockReplacements}
	default:
		ph = []Phase{PhaseInstallReplacement}
		ready()
		ph = append(ph, PhaseReroute, PhaseBlockOriginals)
		terminate()
	}
	return ph
}

// Phases returns the phases a deployment described by in goes through, in
// order:
//
//   - Server IN_PLACE: Deploy.
//   - Server BLUE_GREEN: InstallReplacement, [ReadyWait], Reroute,
//     BlockOriginals, [TerminationWait, TerminateOriginals].
//   - Server BLUE_GREEN rollback: AllowOriginals, BlockReplacements.
//   - Lambda: BeforeAllowTraffic, AllowTraffic, AfterAllowTraffic.
//   - ECS: BeforeInstall, Install, AfterInstall, AllowTestTraffic,
//     AfterAllowTestTraffic, [ReadyWait], BeforeAllowTraffic, AllowTraffic,
//     AfterAllowTraffic, [TerminationWait, TerminateOriginals].
//
// ReadyWait is there with ReadyAction STOP_DEPLOYMENT, the termination
// phases with TerminationAction TERMINATE. An empty Type is the platform's
// default (see Input). It does not validate in.
func Phases(in Input) []Phase {
	return phasesFor(in.Config.Platform(), in.deploymentType(), in.Rollback, in.BlueGreen)
}

// validateHead adds the problems of everything but the targets; in.Type
// must have its default applied. It reports whether the configuration is
// valid.
func validateHead(ps *problems, in Input) bool {
	cfgOK := true
	if err := in.Config.Validate(); err != nil {
		ps.addConfig(err)
		cfgOK = false
	}
	platform := in.Config.Platform()
	switch in.Type {
	case target.InPlace:
		if platform != config.Server {
			ps.add(nil, "Type", "%s deployments are BLUE_GREEN; got IN_PLACE", platform)
		}
	case target.BlueGreen:
	default:
		ps.add(nil, "Type", "must be IN_PLACE or BLUE_GREEN, or empty for the platform's default; got %q", in.Type)
	}
	if platform != config.Server && len(in.Targets) > 0 {
		ps.add(nil, "Targets", "must be empty for a %s deployment, whose traffic shifts are deployment-wide; got %d targets", platform, len(in.Targets))
	}
	if len(in.Targets) > math.MaxInt32 {
		ps.add(nil, "Targets", "at most %d targets; got %d", math.MaxInt32, len(in.Targets))
	}
	switch in.BlueGreen.ReadyAction {
	case "", ContinueDeployment, StopDeployment:
	default:
		ps.add(nil, "BlueGreen.ReadyAction", "must be CONTINUE_DEPLOYMENT or STOP_DEPLOYMENT; got %q", in.BlueGreen.ReadyAction)
	}
	switch in.BlueGreen.TerminationAction {
	case "", Terminate, KeepAlive:
	default:
		ps.add(nil, "BlueGreen.TerminationAction", "must be TERMINATE or KEEP_ALIVE; got %q", in.BlueGreen.TerminationAction)
	}
	if in.BlueGreen.ReadyWait < 0 || in.BlueGreen.ReadyAction == StopDeployment && in.BlueGreen.ReadyWait == 0 {
		ps.add(nil, "BlueGreen.ReadyWait", "must be positive with STOP_DEPLOYMENT (a zero wait would stop the deployment the moment it is ready) and never negative; got %s", in.BlueGreen.ReadyWait)
	}
	if in.BlueGreen.TerminationWait < 0 {
		ps.add(nil, "BlueGreen.TerminationWait", "must not be negative; got %s", in.BlueGreen.TerminationWait)
	}
	seen := make(map[string]int, len(in.ZoneOrder))
	for i, z := range in.ZoneOrder {
		if j, dup := seen[z]; dup {
			ps.add(nil, fmt.Sprintf("ZoneOrder[%d]", i), "zone %q is also ZoneOrder[%d]; each zone may be listed once", z, j)
			continue
		}
		seen[z] = i
	}
	pr := in.Progress
	if pr.StopCode != "" && !pr.StopCode.valid() {
		ps.add(nil, "Progress.StopCode", "must be a CodeDeploy error code; got %q", pr.StopCode)
	}
	if pr.FailCode != "" && !pr.FailCode.valid() {
		ps.add(nil, "Progress.FailCode", "must be a CodeDeploy error code; got %q", pr.FailCode)
	}
	if pr.Shifts < 0 {
		ps.add(nil, "Progress.Shifts", "must not be negative; got %d", pr.Shifts)
	}
	if cfgOK && in.Config.TrafficRouting != nil && pr.Shifts > len(in.Config.TrafficRouting.Steps()) {
		ps.add(nil, "Progress.Shifts", "the schedule has %d shifts; got %d", len(in.Config.TrafficRouting.Steps()), pr.Shifts)
	}
	return cfgOK
}

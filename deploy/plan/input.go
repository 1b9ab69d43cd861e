package plan

import (
	"errors"
	"fmt"
	"time"

	"github.com/fleetdeploy/fleetdeploy/config"
	"github.com/fleetdeploy/fleetdeploy/health"
	"github.com/fleetdeploy/fleetdeploy/target"
)

// Errors returned by the planner. Errors from New and Preview about their
// input are *InputError values matching ErrInvalidInput.
var (
	// ErrInvalidInput: New or Preview was given an Input that breaks a
	// rule; the *InputError names the field and the rule.
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

// InputError is what New and Preview return for input they cannot plan
// with. It matches ErrInvalidInput and, when set, Err (for instance the
// *multierror.Error of *config.Problem values config.Config.Validate
// returns).
type InputError struct {
	// Field is the offending field, e.g. "Targets[3].Status".
	Field string
	// Rule says what the field must be.
	Rule string
	// Err is the underlying error, if any.
	Err error
}

// Error returns "plan: <field>: <rule>[: <err>]".
func (e *InputError) Error() string {
	s := "plan: " + e.Field + ": " + e.Rule
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap returns ErrInvalidInput and Err.
func (e *InputError) Unwrap() []error {
	if e.Err == nil {
		return []error{ErrInvalidInput}
	}
	return []error{ErrInvalidInput, e.Err}
}

func inputErr(field, rule string, args ...any) error {
	return &InputError{Field: field, Rule: fmt.Sprintf(rule, args...)}
}

// Input is a deployment's state: everything the planner needs, as plain
// data the executor keeps in its store. A fresh deployment has every target
// Pending and a zero Progress; a resumed one has whatever was stored.
type Input struct {
	// Config is the deployment configuration. It must pass Validate.
	Config config.Config `json:"config"`
	// Type is IN_PLACE or BLUE_GREEN. Lambda and ECS deployments are always
	// BLUE_GREEN.
	Type target.DeploymentType `json:"type"`
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
	Instance health.InstanceHealth `json:"instanceHealth"`
	Revision health.RevisionHealth `json:"revisionHealth"`
	// Label is empty for in-place deployments; Blue (original) or Green
	// (replacement) for blue/green ones.
	Label target.TargetLabel `json:"label,omitempty"`
	// Status is the target's progress: Pending, InProgress, Succeeded,
	// Failed or Skipped. For in-place targets it is the deployment to the
	// target; for Green targets the install; for Blue targets blocking
	// traffic (in a rollback: for Blue allowing traffic, for Green blocking
	// it). Skipped targets are never started; they count in the fleet size
	// and keep their health.
	Status target.TargetStatus `json:"status"`
	// Reroute is a Green target's progress in taking traffic (Pending at
	// first); it must be empty for other targets and in rollbacks.
	Reroute target.TargetStatus `json:"reroute,omitempty"`
}

// Health returns the target as package health sees it.
func (t Target) Health() health.Target {
	return health.Target{ID: t.ID, Instance: t.Instance, Revision: t.Revision}
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
	case target.TargetPending:
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
// phases with TerminationAction TERMINATE. It does not validate in.
func Phases(in Input) []Phase {
	return phasesFor(in.Config.Platform(), in.Type, in.Rollback, in.BlueGreen)
}

// validateHead checks everything but the targets.
func validateHead(in Input) error {
	if err := in.Config.Validate(); err != nil {
		return &InputError{Field: "Config", Rule: "must be a valid deployment configuration", Err: err}
	}
	platform := in.Config.Platform()
	switch in.Type {
	case target.InPlace:
		if platform != config.Server {
			return inputErr("Type", "%s deployments are BLUE_GREEN; got IN_PLACE", platform)
		}
	case target.BlueGreen:
	default:
		return inputErr("Type", "must be IN_PLACE or BLUE_GREEN; got %q", in.Type)
	}
	if platform != config.Server && len(in.Targets) > 0 {
		return inputErr("Targets", "must be empty for a %s deployment, whose traffic shifts are deployment-wide; got %d targets", platform, len(in.Targets))
	}
	if len(in.Targets) > 1<<31-1 {
		return inputErr("Targets", "at most %d targets; got %d", 1<<31-1, len(in.Targets))
	}
	switch in.BlueGreen.ReadyAction {
	case "", ContinueDeployment, StopDeployment:
	default:
		return inputErr("BlueGreen.ReadyAction", "must be CONTINUE_DEPLOYMENT or STOP_DEPLOYMENT; got %q", in.BlueGreen.ReadyAction)
	}
	switch in.BlueGreen.TerminationAction {
	case "", Terminate, KeepAlive:
	default:
		return inputErr("BlueGreen.TerminationAction", "must be TERMINATE or KEEP_ALIVE; got %q", in.BlueGreen.TerminationAction)
	}
	if in.BlueGreen.ReadyWait < 0 || in.BlueGreen.ReadyAction == StopDeployment && in.BlueGreen.ReadyWait == 0 {
		return inputErr("BlueGreen.ReadyWait", "must be positive with STOP_DEPLOYMENT (a zero wait would stop the deployment the moment it is ready) and never negative; got %s", in.BlueGreen.ReadyWait)
	}
	if in.BlueGreen.TerminationWait < 0 {
		return inputErr("BlueGreen.TerminationWait", "must not be negative; got %s", in.BlueGreen.TerminationWait)
	}
	seen := make(map[string]int, len(in.ZoneOrder))
	for i, z := range in.ZoneOrder {
		if j, dup := seen[z]; dup {
			return inputErr(fmt.Sprintf("ZoneOrder[%d]", i), "zone %q is also ZoneOrder[%d]; each zone may be listed once", z, j)
		}
		seen[z] = i
	}
	pr := in.Progress
	if pr.StopCode != "" && !pr.StopCode.valid() {
		return inputErr("Progress.StopCode", "must be a CodeDeploy error code; got %q", pr.StopCode)
	}
	if pr.FailCode != "" && !pr.FailCode.valid() {
		return inputErr("Progress.FailCode", "must be a CodeDeploy error code; got %q", pr.FailCode)
	}
	if pr.Shifts < 0 {
		return inputErr("Progress.Shifts", "must not be negative; got %d", pr.Shifts)
	}
	if in.Config.TrafficRouting != nil && pr.Shifts > len(in.Config.TrafficRouting.Steps()) {
		return inputErr("Progress.Shifts", "the schedule has %d shifts; got %d", len(in.Config.TrafficRouting.Steps()), pr.Shifts)
	}
	return nil
}

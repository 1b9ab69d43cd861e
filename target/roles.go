package target

import (
	"context"
	"fmt"

	"github.com/hashicorp/go-multierror"

	"github.com/fleetdeploy/fleetdeploy/config"
	"github.com/fleetdeploy/fleetdeploy/internal/errmsg"
)

// Role names one of the interfaces a Platform is made of.
type Role string

// The roles.
const (
	RoleLister            Role = "Lister"
	RoleInstaller         Role = "Installer"
	RoleTrafficController Role = "TrafficController"
	RoleTrafficShifter    Role = "TrafficShifter"
	RoleProvisioner       Role = "Provisioner"
	RoleHookInvoker       Role = "HookInvoker"
	RoleScalingEvents     Role = "ScalingEvents"
)

// Values returns every valid Role.
func (Role) Values() []Role {
	return []Role{RoleLister, RoleInstaller, RoleTrafficController, RoleTrafficShifter, RoleProvisioner, RoleHookInvoker, RoleScalingEvents}
}

// Lister finds the targets of a deployment group.
type Lister interface {
	// ListTargets returns the targets sel matches now: sel.Matches(t)
	// holds for each, and each appears once, in any order. No match is an
	// empty (or nil) slice and a nil error; the caller decides what that
	// means (CodeDeploy fails the deployment with NO_INSTANCES).
	//
	// Whether targets that cannot take a deployment (stopped instances)
	// are listed is the implementation's choice; a listed target that
	// cannot be reached later fails its events with ErrTargetUnavailable.
	// The returned targets, including their Tags maps, belong to the
	// caller. An error means the targets could not be listed
	// (infrastructure trouble, or ctx's error) and comes with no targets:
	// never a partial list. A ctx already done returns its error at once.
	//
	// targettest.TestLister checks this contract and Selector's semantics.
	ListTargets(ctx context.Context, sel Selector) ([]Target, error)
}

// Installer runs lifecycle events on Server targets: the hooks and the
// reserved DownloadBundle and Install events — the work of the CodeDeploy
// agent (every event whose Role is RoleInstaller).
type Installer interface {
	// RunEvent runs req.Event on req.Target for req.Deployment and returns
	// its outcome. A failed hook is a result with Status EventFailed and an
	// ErrorCode, not an error; an event with no scripts is a no-op that
	// succeeds. ApplicationStop, BeforeBlockTraffic and AfterBlockTraffic
	// run the scripts req.Deployment.ScriptSource names.
	//
	// An error means the event could not be run at all: ctx's error when it
	// is cancelled or expires (scripts are then killed), an error wrapping
	// ErrTargetUnavailable when the target is stopped, terminated or
	// unreachable, another error for other infrastructure trouble. The
	// result is ignored when the error is not nil.
	//
	// RunEvent is called concurrently for different targets, never for the
	// same target at once. After a crash of the caller an event may be run
	// again for the same deployment.
	RunEvent(ctx context.Context, req EventRequest) (EventResult, error)
}

// TrafficRequest asks a TrafficController to act on one target.
type TrafficRequest struct {
	Target Target `json:"target"`
	// Deployment carries the deployment group's load balancers
	// (Deployment.LoadBalancer).
	Deployment DeploymentInfo `json:"deployment"`
}

// TrafficController moves one Server target in and out of its load
// balancers: the reserved BlockTraffic and AllowTraffic events.
type TrafficController interface {
	// BlockTraffic deregisters req.Target from every load balancer and
	// target group of req.Deployment.LoadBalancer and returns when the
	// target gets no new traffic (connection draining done). A target that
	// is not registered — never, or no more: BlockTraffic called twice —
	// is not an error, and is left as it is, as CodeDeploy skips
	// deregistering an instance that is not registered.
	//
	// An error fails the BlockTraffic event of that target: ctx's error, an
	// error wrapping ErrTargetUnavailable, or a load balancer failure. A
	// ctx already done returns its error at once and changes nothing.
	BlockTraffic(ctx context.Context, req TrafficRequest) error
	// AllowTraffic registers req.Target with every load balancer and target
	// group of req.Deployment.LoadBalancer and returns when they report it
	// healthy. ctx bounds the wait (CodeDeploy waits up to an hour). A
	// target never registered (a blue/green replacement instance) is
	// registered, as CodeDeploy registers replacement instances; one
	// already registered and healthy (AllowTraffic called twice) is not an
	// error.
	//
	// Errors are as for BlockTraffic. targettest.TestTrafficController
	// checks this contract.
	AllowTraffic(ctx context.Context, req TrafficRequest) error
}

// TrafficRoute names where a TrafficShifter moves traffic: a Lambda alias or
// an ECS service's production or test listener.
type TrafficRoute struct {
	// ResourceID names the alias ("function:alias") or service
	// ("cluster/service").
	ResourceID string `json:"resourceId"`
	// Test selects the ECS test listener instead of the production route.
	Test bool `json:"test,omitempty"`
}

// TrafficSplit says how traffic on a route is divided between two versions
// (Lambda function versions, ECS task sets).
type TrafficSplit struct {
	Original    string `json:"original"`
	Replacement string `json:"replacement"`
	// Weight is the percentage of traffic (0–100) sent to Replacement;
	// the rest goes to Original.
	Weight int `json:"weight"`
}

// Settled returns s as TrafficShifter.CurrentTraffic reports it: a split
// that sends everything to one version — Weight 0 or no Replacement, or
// Weight 100 — is that version as Original with Weight 0 and an empty
// Replacement; any other split is s.
func (s TrafficSplit) Settled() TrafficSplit {
	switch {
	case s.Replacement == "" || s.Weight <= 0:
		return TrafficSplit{Original: s.Original}
	case s.Weight >= 100:
		return TrafficSplit{Original: s.Replacement}
	}
	return s
}

// ShiftRequest asks a TrafficShifter to set a route's split.
type ShiftRequest struct {
	Deployment DeploymentInfo `json:"deployment"`
	Route      TrafficRoute   `json:"route"`
	Split      TrafficSplit   `json:"split"`
}

// Validate reports every rule r breaks, as a *multierror.Error of *Problem
// values matching ErrInvalidRequest: route.resourceId, split.original and split.replacement
// set, the two versions different, split.weight 0–100.
func (r ShiftRequest) Validate() error {
	var ps config.Problems
	if r.Route.ResourceID == "" {
		ps.Add(nil, "route.resourceId", "is required")
	}
	if r.Split.Original == "" {
		ps.Add(nil, "split.original", "is required")
	}
	if r.Split.Replacement == "" {
		ps.Add(nil, "split.replacement", "is required")
	} else if r.Split.Replacement == r.Split.Original {
		ps.Add(nil, "split.replacement", "must differ from split.original (both %q)", r.Split.Original)
	}
	if r.Split.Weight < 0 || r.Split.Weight > 100 {
		ps.Add(nil, "split.weight", "must be a percentage from 0 to 100; got %d", r.Split.Weight)
	}
	return ps.Err(ErrInvalidRequest, "shift request")
}

// TrafficShifter moves traffic between versions of a Lambda alias or the
// task sets of an ECS service: the reserved AllowTraffic (Lambda, ECS) and
// AllowTestTraffic (ECS) events, each step of a canary or linear schedule,
// and the shift back on rollback.
type TrafficShifter interface {
	// ShiftTraffic sets req.Route to req.Split and returns when the split
	// is in effect. Setting the split a route already has is not an error.
	// An error means the split may not be in effect: ctx's error, an error
	// wrapping ErrNotFound when the route does not exist, or another
	// failure.
	ShiftTraffic(ctx context.Context, req ShiftRequest) error
	// CurrentTraffic returns the split route has now; a route that sends
	// everything to one version returns it as Original with Weight 0 and
	// an empty Replacement. The executor uses it to resume after a crash.
	// An error wraps ErrNotFound when the route does not exist.
	CurrentTraffic(ctx context.Context, route TrafficRoute) (TrafficSplit, error)
}

// ProvisionAction says where a blue/green replacement fleet comes from,
// spelled as CodeDeploy spells GreenFleetProvisioningOption.action.
type ProvisionAction string

// The provision actions.
const (
	// DiscoverExisting uses existing instances, named by
	// ProvisionRequest.Replacements.
	DiscoverExisting ProvisionAction = "DISCOVER_EXISTING"
	// CopyAutoScalingGroup copies the original fleet's Auto Scaling group
	// (named Deployment.CopiedAutoScalingGroupName()) with as many
	// instances as it has healthy ones.
	CopyAutoScalingGroup ProvisionAction = "COPY_AUTO_SCALING_GROUP"
)

// Values returns every valid ProvisionAction.
func (ProvisionAction) Values() []ProvisionAction {
	return []ProvisionAction{DiscoverExisting, CopyAutoScalingGroup}
}

// ProvisionRequest asks a Provisioner for the replacement side of a
// blue/green deployment.
type ProvisionRequest struct {
	Deployment DeploymentInfo `json:"deployment"`
	// Action is how a Server replacement fleet is found; empty for ECS.
	Action ProvisionAction `json:"action,omitempty"`
	// Originals are the targets being replaced: the original instances,
	// or the ECS service's current task set.
	Originals []Target `json:"originals,omitempty"`
	// Replacements selects existing instances for DiscoverExisting
	// (CreateDeployment's targetInstances).
	Replacements Selector `json:"replacements,omitzero"`
}

// Provisioner makes and removes the replacement side of a blue/green
// deployment: a replacement fleet of instances (Server) or a replacement
// task set (ECS, the reserved Install event).
type Provisioner interface {
	// ProvisionReplacements returns the replacement targets, ready for
	// their lifecycle events. For ECS it creates the replacement task set
	// the AppSpec in req.Deployment.Revision describes and returns it as
	// one target. Called again for the same Deployment.DeploymentID (after
	// a crash of the caller) it returns the replacements it made before
	// instead of making more. An error means no usable replacement exists:
	// ctx's error, or the provisioning failure; it comes with no targets.
	// A ctx already done returns its error at once, even when the
	// replacements were made by an earlier call.
	ProvisionReplacements(ctx context.Context, req ProvisionRequest) ([]Target, error)
	// TerminateTargets removes targets (original instances after a
	// successful blue/green deployment with TERMINATE, replacements after
	// a rollback, the original task set of an ECS service). Targets that
	// are already gone, and no targets at all, are not an error. An error
	// means some targets may remain; a ctx already done returns its error
	// at once and terminates nothing.
	//
	// targettest.TestProvisioner checks this contract.
	TerminateTargets(ctx context.Context, targets []Target) error
}

// HookRequest asks a HookInvoker to run one Lambda or ECS lifecycle hook.
type HookRequest struct {
	Deployment DeploymentInfo `json:"deployment"`
	Event      LifecycleEvent `json:"event"`
	// FunctionName is the hook function the AppSpec names for Event.
	FunctionName string `json:"functionName"`
	// ExecutionID is the LifecycleEventHookExecutionId passed to the
	// function, unique per deployment and event, and the same when the
	// caller resumes after a crash.
	ExecutionID string `json:"executionId"`
	// Reports is where the hook function's status report arrives: the
	// executor's record of PutLifecycleEventHookExecutionStatus calls for
	// ExecutionID. The executor sets it; a HookInvoker whose function
	// reports through CodeDeploy's API (Lambda, ECS) waits on it.
	Reports HookReports `json:"-"`
}

// HookReports is where the status a hook function reports arrives
// (CodeDeploy's PutLifecycleEventHookExecutionStatus), for one hook
// execution.
type HookReports interface {
	// Await returns the status reported for the hook execution,
	// EventSucceeded or EventFailed, waiting until one is reported or ctx
	// is done (then ctx's error). A report that arrived before Await was
	// called, even before a crash of the executor, is returned at once.
	Await(ctx context.Context) (LifecycleEventStatus, error)
}

// HookInvoker runs Lambda and ECS lifecycle hooks (User Guide, "AppSpec
// 'hooks' section"; API Reference, PutLifecycleEventHookExecutionStatus): a
// function that validates the deployment and reports Succeeded or Failed.
type HookInvoker interface {
	// InvokeHook invokes req.FunctionName with the deployment ID and
	// req.ExecutionID and waits for the status it reports. It returns a
	// result with Status EventSucceeded or EventFailed (a function that
	// reported Failed, or that failed to run). ctx bounds the wait:
	// CodeDeploy fails a hook with no report within an hour, so the caller
	// gives ctx that deadline and counts its expiry as a failure.
	//
	// An error means no status was obtained: ctx's error, an error wrapping
	// ErrNotFound when the function does not exist, or another failure.
	InvokeHook(ctx context.Context, req HookRequest) (EventResult, error)
}

// Platform is a compute platform's implementation: a struct of roles, with
// nil fields for roles the platform lacks. Which roles a deployment needs
// depends on its platform, type and load balancer; see Validate.
type Platform struct {
	Lister            Lister
	Installer         Installer
	TrafficController TrafficController
	TrafficShifter    TrafficShifter
	Provisioner       Provisioner
	HookInvoker       HookInvoker
	// ScalingEvents delivers launch and termination events of fleets that
	// scale; no deployment needs it (Validate never asks for it), and
	// without it the executor runs no launch or termination deployments
	// by itself.
	ScalingEvents ScalingEvents
}

// Has reports whether p's field for role r is set.
func (p Platform) Has(r Role) bool {
	switch r {
	case RoleLister:
		return p.Lister != nil
	case RoleInstaller:
		return p.Installer != nil
	case RoleTrafficController:
		return p.TrafficController != nil
	case RoleTrafficShifter:
		return p.TrafficShifter != nil
	case RoleProvisioner:
		return p.Provisioner != nil
	case RoleHookInvoker:
		return p.HookInvoker != nil
	case RoleScalingEvents:
		return p.ScalingEvents != nil
	}
	return false
}

// Validate reports whether p has every role a deployment of type dt on
// compute platform cp needs, withLB saying whether the deployment group has
// a load balancer. The roles needed are those that perform the events of
// every sequence such a deployment may run (see LifecycleEvent.Role and
// Sequence.Events), plus a Lister for Server and a Provisioner for blue/green
// Server deployments:
//
//   - Server in-place: Lister, Installer; with a load balancer also
//     TrafficController
//   - Server blue/green: Lister, Installer, TrafficController, Provisioner
//   - Lambda (blue/green): TrafficShifter, HookInvoker
//   - ECS (blue/green): Provisioner, TrafficShifter, HookInvoker
//
// Each missing role is reported as a *MissingRoleError (wrapping
// ErrMissingRole), all in one *multierror.Error. A combination CodeDeploy does
// not have (in-place Lambda or ECS, blue/green Server without a load
// balancer, unknown values) is an error wrapping ErrUnsupported.
func (p Platform) Validate(cp config.ComputePlatform, dt DeploymentType, withLB bool) error {
	ks, err := kinds(cp, dt)
	if err != nil {
		return err
	}
	why := map[Role]string{}
	need := func(r Role, reason string) {
		if _, ok := why[r]; !ok {
			why[r] = reason
		}
	}
	if cp == config.Server {
		need(RoleLister, "listing the deployment group's targets")
		if dt == BlueGreen {
			need(RoleProvisioner, "provisioning the replacement fleet")
		}
	}
	for _, k := range ks {
		s := Sequence{Platform: cp, Kind: k, LoadBalancer: withLB}
		events, err := s.Events()
		if err != nil {
			return err
		}
		for _, e := range events {
			if r := e.Role(cp); r != "" {
				need(r, fmt.Sprintf("event %s of sequence %s", e, s))
			}
		}
	}
	missing := errmsg.NewList(fmt.Sprintf("target: platform for %s %s deployments", cp, dt), "missing roles")
	for _, r := range Role("").Values() {
		if reason, ok := why[r]; ok && !p.Has(r) {
			missing = multierror.Append(missing, &MissingRoleError{Role: r, Why: reason})
		}
	}
	return missing.ErrorOrNil()
}

package target

import (
	"fmt"
	"slices"

	"github.com/fleetdeploy/fleetdeploy/config"
)

// SequenceKind is the situation a target is deployed in, which decides its
// lifecycle events (User Guide, "AppSpec 'hooks' section", which tables the
// events of each). The values are fleetdeploy's own.
type SequenceKind string

// The sequence kinds.
const (
	// KindInPlace: an in-place deployment to a Server target.
	KindInPlace SequenceKind = "InPlace"
	// KindInPlaceRollback: the rollback of an in-place deployment. Same
	// events as KindInPlace.
	KindInPlaceRollback SequenceKind = "InPlaceRollback"
	// KindBlueGreenOriginal: an original (blue) target of a blue/green
	// deployment, taken out of service after the replacements are in.
	KindBlueGreenOriginal SequenceKind = "BlueGreenOriginal"
	// KindBlueGreenReplacement: a replacement (green) target of a
	// blue/green deployment.
	KindBlueGreenReplacement SequenceKind = "BlueGreenReplacement"
	// KindBlueGreenRollbackOriginal: an original target while a
	// blue/green deployment is rolled back; traffic returns to it.
	KindBlueGreenRollbackOriginal SequenceKind = "BlueGreenRollbackOriginal"
	// KindBlueGreenRollbackReplacement: a replacement target while a
	// blue/green deployment is rolled back; traffic leaves it.
	KindBlueGreenRollbackReplacement SequenceKind = "BlueGreenRollbackReplacement"
	// KindAutoScalingLaunch: an instance launched by Auto Scaling (scale-out
	// or replacement) receiving the group's target revision (User Guide,
	// "Integrating CodeDeploy with Amazon EC2 Auto Scaling").
	KindAutoScalingLaunch SequenceKind = "AutoScalingLaunch"
	// KindAutoScalingTermination: an instance Auto Scaling is terminating,
	// when the group's termination hook is enabled (same page). Nothing is
	// installed; only the stop and block-traffic events run.
	KindAutoScalingTermination SequenceKind = "AutoScalingTermination"
	// KindTrafficShift: a Lambda or ECS deployment, and their rollbacks
	// (which are new deployments of the last good revision).
	KindTrafficShift SequenceKind = "TrafficShift"
)

// Values returns every valid SequenceKind.
func (SequenceKind) Values() []SequenceKind {
	return []SequenceKind{KindInPlace, KindInPlaceRollback, KindBlueGreenOriginal, KindBlueGreenReplacement,
		KindBlueGreenRollbackOriginal, KindBlueGreenRollbackReplacement, KindAutoScalingLaunch,
		KindAutoScalingTermination, KindTrafficShift}
}

// Label returns the blue/green fleet a kind's targets belong to: LabelBlue
// for the original kinds, LabelGreen for the replacement kinds, "" for the
// others.
func (k SequenceKind) Label() TargetLabel {
	switch k {
	case KindBlueGreenOriginal, KindBlueGreenRollbackOriginal:
		return LabelBlue
	case KindBlueGreenReplacement, KindBlueGreenRollbackReplacement:
		return LabelGreen
	}
	return ""
}

// Sequence is a situation a target is deployed in; Events returns its
// lifecycle events in order.
type Sequence struct {
	Platform config.ComputePlatform
	Kind     SequenceKind
	// LoadBalancer is true when the deployment group has a load balancer.
	// It adds the traffic events to Server in-place and Auto Scaling
	// sequences, is required for Server blue/green kinds, and is ignored
	// for Lambda and ECS, which always route traffic.
	LoadBalancer bool
}

// String returns e.g. "Server/InPlace+LB".
func (s Sequence) String() string {
	lb := ""
	if s.LoadBalancer {
		lb = "+LB"
	}
	return fmt.Sprintf("%s/%s%s", s.Platform, s.Kind, lb)
}

// Events returns the lifecycle events of the sequence in the order they run,
// without the pseudo-events Start and End (which begin and end every
// sequence and run nothing). Each call returns a new slice.
//
// Server (User Guide, "AppSpec 'hooks' section"), with install =
// ApplicationStop, DownloadBundle, BeforeInstall, Install, AfterInstall,
// ApplicationStart, ValidateService; block = BeforeBlockTraffic,
// BlockTraffic, AfterBlockTraffic; allow = BeforeAllowTraffic, AllowTraffic,
// AfterAllowTraffic:
//
//	InPlace, InPlaceRollback   install            with LB: block, install, allow
//	BlueGreenOriginal          block              (LB required)
//	BlueGreenReplacement       install, allow     (LB required)
//	BlueGreenRollbackOriginal  allow              (LB required)
//	BlueGreenRollbackReplacement block            (LB required)
//	AutoScalingLaunch          install            with LB: install, allow
//	AutoScalingTermination     ApplicationStop    with LB: block, ApplicationStop
//
// The allow-traffic events of an in-place deployment come after
// ValidateService and a termination deployment blocks traffic before
// ApplicationStop; both orders are fleetdeploy's decisions where AWS
// documents them only in diagrams (see "Where fleetdeploy decides" in
// package fleetdeploy).
//
// Lambda, KindTrafficShift: BeforeAllowTraffic, AllowTraffic,
// AfterAllowTraffic.
//
// ECS, KindTrafficShift: BeforeInstall, Install, AfterInstall,
// AllowTestTraffic, AfterAllowTestTraffic, BeforeAllowTraffic, AllowTraffic,
// AfterAllowTraffic. Without a test listener the two test-traffic events
// are still listed; AllowTestTraffic then has nothing to route.
//
// Events returns an error wrapping ErrUnsupported for a kind the platform
// does not have, a blue/green Server kind without a load balancer, or an
// unknown platform or kind.
func (s Sequence) Events() ([]LifecycleEvent, error) {
	install := []LifecycleEvent{ApplicationStop, DownloadBundle, BeforeInstall, Install, AfterInstall, ApplicationStart, ValidateService}
	block := []LifecycleEvent{BeforeBlockTraffic, BlockTraffic, AfterBlockTraffic}
	allow := []LifecycleEvent{BeforeAllowTraffic, AllowTraffic, AfterAllowTraffic}
	unsupported := func(why string) error {
		return fmt.Errorf("target: sequence %s: %s: %w", s, why, ErrUnsupported)
	}
	switch s.Platform {
	case config.Server:
		needLB := func(events ...[]LifecycleEvent) ([]LifecycleEvent, error) {
			if !s.LoadBalancer {
				return nil, unsupported("a Server blue/green deployment requires a load balancer")
			}
			return slices.Concat(events...), nil
		}
		withLB := func(without []LifecycleEvent, with ...[]LifecycleEvent) ([]LifecycleEvent, error) {
			if !s.LoadBalancer {
				return slices.Clone(without), nil
			}
			return slices.Concat(with...), nil
		}
		switch s.Kind {
		case KindInPlace, KindInPlaceRollback:
			return withLB(install, block, install, allow)
		case KindBlueGreenOriginal, KindBlueGreenRollbackReplacement:
			return needLB(block)
		case KindBlueGreenReplacement:
			return needLB(install, allow)
		case KindBlueGreenRollbackOriginal:
			return needLB(allow)
		case KindAutoScalingLaunch:
			return withLB(install, install, allow)
		case KindAutoScalingTermination:
			stop := []LifecycleEvent{ApplicationStop}
			return withLB(stop, block, stop)
		}
	case config.Lambda:
		if s.Kind == KindTrafficShift {
			return slices.Clone(allow), nil
		}
	case config.ECS:
		if s.Kind == KindTrafficShift {
			return []LifecycleEvent{BeforeInstall, Install, AfterInstall, AllowTestTraffic, AfterAllowTestTraffic,
				BeforeAllowTraffic, AllowTraffic, AfterAllowTraffic}, nil
		}
	default:
		return nil, unsupported(fmt.Sprintf("compute platform must be one of %v", config.ComputePlatform("").Values()))
	}
	if !slices.Contains(s.Kind.Values(), s.Kind) {
		return nil, unsupported(fmt.Sprintf("kind must be one of %v", s.Kind.Values()))
	}
	return nil, unsupported(fmt.Sprintf("the %s platform has no %s sequence", s.Platform, s.Kind))
}

// kinds returns the sequence kinds a deployment of type dt on platform p may
// run, or an error wrapping ErrUnsupported.
func kinds(p config.ComputePlatform, dt DeploymentType) ([]SequenceKind, error) {
	switch {
	case p == config.Server && dt == InPlace:
		return []SequenceKind{KindInPlace, KindInPlaceRollback, KindAutoScalingLaunch, KindAutoScalingTermination}, nil
	case p == config.Server && dt == BlueGreen:
		return []SequenceKind{KindBlueGreenOriginal, KindBlueGreenReplacement, KindBlueGreenRollbackOriginal,
			KindBlueGreenRollbackReplacement, KindAutoScalingLaunch, KindAutoScalingTermination}, nil
	case (p == config.Lambda || p == config.ECS) && dt == BlueGreen:
		return []SequenceKind{KindTrafficShift}, nil
	case p == config.Lambda || p == config.ECS:
		return nil, fmt.Errorf("target: %s deployments are BLUE_GREEN, not %q: %w", p, dt, ErrUnsupported)
	case slices.Contains(p.Values(), p):
		return nil, fmt.Errorf("target: deployment type must be one of %v; got %q: %w", dt.Values(), dt, ErrUnsupported)
	}
	return nil, fmt.Errorf("target: compute platform must be one of %v; got %q: %w", p.Values(), p, ErrUnsupported)
}

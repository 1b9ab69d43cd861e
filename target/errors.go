package target

import (
	"errors"
	"fmt"
	"github.com/fleetdeploy/fleetdeploy/config"
)

// Sentinel errors. Errors returned by this package and by well-behaved role
// implementations wrap one of these, so callers test with errors.Is.
var (
	// ErrTargetUnavailable means a target cannot take part in the
	// deployment any more: it was stopped or terminated, or its agent cannot
	// be reached. Role implementations wrap it; the executor counts the
	// target as failed rather than the deployment as broken.
	ErrTargetUnavailable = errors.New("target: target unavailable")

	// ErrNotFound means a named resource (a traffic route, a function) does
	// not exist.
	ErrNotFound = errors.New("target: not found")

	// ErrMissingRole is wrapped by the *MissingRoleError values that
	// Platform.Validate returns.
	ErrMissingRole = errors.New("target: platform lacks a required role")

	// ErrUnsupported means a combination of compute platform, deployment
	// type and sequence kind that CodeDeploy does not have (an in-place
	// Lambda deployment, a blue/green Server deployment without a load
	// balancer).
	ErrUnsupported = errors.New("target: unsupported combination")

	// ErrInvalidSelector is matched by every error Selector.Validate returns.
	ErrInvalidSelector = errors.New("target: invalid target selector")

	// ErrInvalidLoadBalancerInfo is matched by every error
	// LoadBalancerInfo.Validate returns.
	ErrInvalidLoadBalancerInfo = errors.New("target: invalid load balancer info")

	// ErrInvalidRequest is matched by every error a request type's Validate
	// method returns (ShiftRequest, EventResult).
	ErrInvalidRequest = errors.New("target: invalid request")

	// ErrInvalidEC2TagCombination: ec2TagFilters and ec2TagSet are both set
	// (CodeDeploy's InvalidEC2TagCombinationException).
	ErrInvalidEC2TagCombination = errors.New("target: ec2TagFilters and ec2TagSet are mutually exclusive")

	// ErrInvalidOnPremisesTagCombination: onPremisesInstanceTagFilters and
	// onPremisesTagSet are both set (CodeDeploy's
	// InvalidOnPremisesTagCombinationException).
	ErrInvalidOnPremisesTagCombination = errors.New("target: onPremisesInstanceTagFilters and onPremisesTagSet are mutually exclusive")

	// ErrTagSetListLimitExceeded: a tag set has more than MaxTagGroups
	// groups (CodeDeploy's TagSetListLimitExceededException).
	ErrTagSetListLimitExceeded = errors.New("target: too many tag groups in a tag set")

	// ErrTagLimitExceeded: a tag filter list or tag group has more than
	// MaxTagsPerGroup filters (CodeDeploy's TagLimitExceededException).
	ErrTagLimitExceeded = errors.New("target: too many tags in a tag group")

	// ErrInvalidTag: a tag filter is malformed — unknown type, a key or
	// value missing (or present) for its type, or a key or value too long
	// (CodeDeploy's InvalidTagException / InvalidEC2TagException).
	ErrInvalidTag = errors.New("target: invalid tag filter")

	// ErrAutoScalingGroupLimitExceeded: more than MaxAutoScalingGroups
	// Auto Scaling groups.
	ErrAutoScalingGroupLimitExceeded = errors.New("target: too many Auto Scaling groups")

	// ErrInvalidAutoScalingGroup: an Auto Scaling group name is empty or
	// repeated (CodeDeploy's InvalidAutoScalingGroupException).
	ErrInvalidAutoScalingGroup = errors.New("target: invalid Auto Scaling group name")
)

// Problem is one rule a value breaks: config.Problem, the one type every
// fleetdeploy package uses. Validate methods return a *multierror.Error
// (github.com/hashicorp/go-multierror) with one *Problem per broken rule,
// of Kind ErrInvalidSelector, ErrInvalidLoadBalancerInfo or
// ErrInvalidRequest; errors.Is matches the Kind and each problem's
// sentinel.
type Problem = config.Problem

// MissingRoleError says which role a Platform lacks for a deployment.
type MissingRoleError struct {
	Role Role
	// Why names what needs the role, e.g. "event AllowTraffic".
	Why string
}

// Error names the missing role and what needs it.
func (e *MissingRoleError) Error() string {
	return fmt.Sprintf("target: platform has no %s, needed for %s", e.Role, e.Why)
}

// Unwrap returns ErrMissingRole.
func (e *MissingRoleError) Unwrap() error { return ErrMissingRole }

// CodeError is a role's failure that says which CodeDeploy error code
// (ErrorInformation.code, e.g. "AUTO_SCALING_CONFIGURATION") the deployment
// fails with because of it. A Provisioner or TrafficShifter returns one
// when it knows the code; the executor uses Code when it is one of
// CodeDeploy's error codes, and INTERNAL_ERROR otherwise. Find it with
// errors.As.
type CodeError struct {
	// Code is the error code, spelled as CodeDeploy spells it.
	Code string
	// Err is the failure.
	Err error
}

// Error returns Err's message.
func (e *CodeError) Error() string {
	if e.Err == nil {
		return "target: failed with error code " + e.Code
	}
	return e.Err.Error()
}

// Unwrap returns Err.
func (e *CodeError) Unwrap() error { return e.Err }

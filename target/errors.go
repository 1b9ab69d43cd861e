package target

import (
	"errors"
	"fmt"
	"strings"
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

// Problem is one rule a value breaks.
type Problem struct {
	// Field is the path of the offending field as CodeDeploy's API spells
	// it, e.g. "ec2TagSet.ec2TagSetList[1][0].Value".
	Field string
	// Rule says what the field must be.
	Rule string
	// Err is the sentinel for the rule when it has one of its own (for
	// example ErrTagSetListLimitExceeded); nil otherwise.
	Err error
}

// String returns "field: rule".
func (p Problem) String() string { return p.Field + ": " + p.Rule }

// ValidationError lists every problem found in one value. errors.Is matches
// it against its Kind (ErrInvalidSelector, ErrInvalidLoadBalancerInfo,
// ErrInvalidRequest) and against the Err of each problem.
type ValidationError struct {
	// Kind is the sentinel for the kind of value that was validated.
	Kind error
	// Subject names the value, e.g. "selector".
	Subject  string
	Problems []Problem
}

// Error lists the problems, one per line after the first.
func (e *ValidationError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "target: invalid %s:", e.Subject)
	for _, p := range e.Problems {
		b.WriteString("\n  ")
		b.WriteString(p.String())
	}
	return b.String()
}

// Unwrap returns Kind and the sentinel of every problem that has one.
func (e *ValidationError) Unwrap() []error {
	errs := []error{e.Kind}
	for _, p := range e.Problems {
		if p.Err != nil {
			errs = append(errs, p.Err)
		}
	}
	return errs
}

// problems collects Problems for a ValidationError.
type problems []Problem

func (ps *problems) add(sentinel error, field, rule string, args ...any) {
	*ps = append(*ps, Problem{Field: field, Rule: fmt.Sprintf(rule, args...), Err: sentinel})
}

// err returns nil when no problem was found, else a *ValidationError.
func (ps problems) err(kind error, subject string) error {
	if len(ps) == 0 {
		return nil
	}
	return &ValidationError{Kind: kind, Subject: subject, Problems: ps}
}

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

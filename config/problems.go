package config

import (
	"fmt"
	"strings"
)

// Problem is one rule a value breaks. Every fleetdeploy package reports
// invalid input as a *ValidationError listing Problems.
type Problem struct {
	// Field is the path of the offending field as CodeDeploy's API spells
	// it, e.g. "minimumHealthyHosts.value" or "ec2TagSet.ec2TagSetList[1][0].Value".
	Field string
	// Rule says what the field must be.
	Rule string
	// Err is the sentinel of the rule when it has one of its own (for
	// example target.ErrTagSetListLimitExceeded); nil otherwise.
	Err error
}

// String returns "field: rule".
func (p Problem) String() string { return p.Field + ": " + p.Rule }

// ValidationError lists every problem found in one value. It is the one
// validation error type of fleetdeploy: config, target and deploy return it
// (target.ValidationError and deploy.ValidationError are this type).
// errors.Is matches it against Kind and against the Err of every problem.
type ValidationError struct {
	// Kind is the sentinel of the kind of value validated, e.g.
	// ErrInvalidConfig or target.ErrInvalidSelector. The message begins
	// with Kind's package prefix ("config: ", "target: ", ...).
	Kind error
	// Subject names the value, e.g. `deployment configuration "Fast"`.
	Subject  string
	Problems []Problem
}

// Error returns "<package>: invalid <subject>:" followed by one problem
// per line.
func (e *ValidationError) Error() string {
	var b strings.Builder
	if e.Kind != nil {
		if pkg, _, ok := strings.Cut(e.Kind.Error(), ": "); ok {
			b.WriteString(pkg + ": ")
		}
	}
	fmt.Fprintf(&b, "invalid %s:", e.Subject)
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

// Problems collects the problems of one value; validators add to it and
// finish with Err.
type Problems []Problem

// Add records that field breaks rule (a fmt format for args); sentinel is
// the rule's own error, or nil.
func (ps *Problems) Add(sentinel error, field, rule string, args ...any) {
	*ps = append(*ps, Problem{Field: field, Rule: fmt.Sprintf(rule, args...), Err: sentinel})
}

// Err returns nil when no problem was recorded, else a *ValidationError of
// the given kind about subject.
func (ps Problems) Err(kind error, subject string) error {
	if len(ps) == 0 {
		return nil
	}
	return &ValidationError{Kind: kind, Subject: subject, Problems: ps}
}

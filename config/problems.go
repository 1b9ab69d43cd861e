package config

import (
	"fmt"
	"strings"

	"github.com/hashicorp/go-multierror"

	"github.com/fleetdeploy/fleetdeploy/internal/errmsg"
)

// Problem is one rule a value breaks. Every fleetdeploy package reports
// invalid input as a *multierror.Error (github.com/hashicorp/go-multierror)
// whose elements are *Problem values, one per broken rule:
//
//	var list *multierror.Error
//	if errors.As(err, &list) {
//		for _, e := range list.Errors {
//			var p *config.Problem
//			if errors.As(e, &p) {
//				fmt.Println(p.Field, p.Rule)
//			}
//		}
//	}
//
// errors.As(err, &p) finds the first problem; errors.Is matches the Kind
// and the Err of every problem.
type Problem struct {
	// Field is the path of the offending field as CodeDeploy's API spells
	// it, e.g. "minimumHealthyHosts.value" or "ec2TagSet.ec2TagSetList[1][0].Value".
	Field string
	// Rule says what the field must be, and the value it has when it has
	// one ("must be 0 or more; got -1").
	Rule string
	// Err is the error of the rule when it has one of its own: a sentinel
	// (for example target.ErrTagSetListLimitExceeded), or the problem of a
	// value this one holds, reported under this one's field (deploy's group
	// validation keeps each *Problem of its configuration and selector,
	// and each *revision.LocationProblem of its revision, here); nil
	// otherwise.
	Err error
	// Kind is the sentinel of the kind of value validated, e.g.
	// ErrInvalidConfig or target.ErrInvalidSelector.
	Kind error
}

// String returns "field: rule".
func (p Problem) String() string { return p.Field + ": " + p.Rule }

// Error returns "field: rule"; the list holding the problem names the
// value it is about.
func (p *Problem) Error() string { return p.String() }

// Verbatim marks a problem's message as a field and a rule, which error
// lists print as they are: a field named "revision" or "config" is not a
// package name to drop.
func (p *Problem) Verbatim() {}

// Unwrap returns Kind and Err, those that are set.
func (p *Problem) Unwrap() []error {
	var errs []error
	for _, e := range []error{p.Kind, p.Err} {
		if e != nil {
			errs = append(errs, e)
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

// Err returns nil when no problem was recorded, else a *multierror.Error
// listing each problem as a *Problem of the given kind. Its message is
// "<package>: invalid <subject>: " and the problem, or, for several,
// "<package>: invalid <subject>: N problems:" and one indented line per
// problem; the package is kind's ("config", "target", ...) and subject
// names the value, e.g. `deployment configuration "Fast"`.
func (ps Problems) Err(kind error, subject string) error {
	if len(ps) == 0 {
		return nil
	}
	header := "invalid " + subject
	if kind != nil {
		if pkg, _, ok := strings.Cut(kind.Error(), ": "); ok {
			header = pkg + ": " + header
		}
	}
	list := errmsg.NewList(header, "problems")
	for _, p := range ps {
		p.Kind = kind
		list = multierror.Append(list, &p)
	}
	return list.ErrorOrNil()
}

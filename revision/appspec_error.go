package revision

import (
	"cmp"
	"slices"
	"strconv"
	"strings"

	"github.com/hashicorp/go-multierror"

	"github.com/fleetdeploy/fleetdeploy/internal/errmsg"
)

// maxAppSpecProblems bounds how many problems one error lists; a
// final problem says when more were found. At most maxCollectedProblems are
// kept while parsing, so that a hostile document cannot make the parser hold
// millions of them.
const (
	maxAppSpecProblems   = 100
	maxCollectedProblems = 1000
)

// appspecProblems collects problems, keeping the first maxCollectedProblems and
// counting the rest.
type appspecProblems struct {
	list    []AppSpecProblem
	dropped int
	warns   []Warning // at most maxAppSpecWarnings
}

// warn records a warning about field (see Warning).
func (l *appspecProblems) warn(line int, field, agent, docs string) {
	if len(l.warns) < maxAppSpecWarnings {
		l.warns = append(l.warns, Warning{Line: line, Field: field, Agent: agent, Docs: docs})
	}
}

// add records a problem.
func (l *appspecProblems) add(p AppSpecProblem) {
	if len(l.list) >= maxCollectedProblems {
		l.dropped++
		return
	}
	l.list = append(l.list, p)
}

// addf records a problem without a line.
func (l *appspecProblems) addf(field, rule string) { l.add(AppSpecProblem{Field: field, Rule: rule}) }

// AppSpecProblem is one rule an AppSpec breaks.
type AppSpecProblem struct {
	// File is the AppSpec's file name as given to ParseAppSpecFile
	// ("appspec" for ParseAppSpec and Validate).
	File string
	// Line is the 1-based line of the offending entry, or of the nearest
	// enclosing one when the entry is missing; 0 when unknown (a value built
	// in Go).
	Line int
	// Field is the path of the offending entry, for example
	// "hooks.AfterInstall[0].timeout" or "Resources[0].Properties.Name";
	// empty for the document as a whole. Lambda and ECS paths use the key
	// spellings of the CodeDeploy documentation whatever case the file used.
	Field string
	// Rule says what is wrong, for example "must be a positive integer
	// number of seconds".
	Rule string
}

// String returns the problem as "appspec.yml:12: hooks.AfterInstall[0].timeout: rule".
func (p AppSpecProblem) String() string {
	var b strings.Builder
	b.WriteString(p.File)
	if p.Line > 0 {
		b.WriteByte(':')
		b.WriteString(strconv.Itoa(p.Line))
	}
	b.WriteString(": ")
	if p.Field != "" {
		b.WriteString(p.Field)
		b.WriteString(": ")
	}
	b.WriteString(p.Rule)
	return b.String()
}

// Error returns the problem as String does; the list holding it says it
// is about an invalid AppSpec.
func (p *AppSpecProblem) Error() string { return p.String() }

// Unwrap returns ErrInvalidAppSpec.
func (p *AppSpecProblem) Unwrap() error { return ErrInvalidAppSpec }

// newAppSpecError returns the problems as a *multierror.Error of
// *AppSpecProblem values, sorted by line, or nil when there are none. It
// names file in every problem. The message is "revision: invalid AppSpec:"
// and the problem, or for several, a count and one indented line per
// problem.
func newAppSpecError(file string, problems appspecProblems) error {
	if len(problems.list) == 0 {
		return nil
	}
	if file == "" {
		file = "appspec"
	}
	ps := slices.Clone(problems.list)
	for i := range ps {
		ps[i].File = file
	}
	slices.SortStableFunc(ps, func(a, b AppSpecProblem) int { return cmp.Compare(a.Line, b.Line) })
	if len(ps) > maxAppSpecProblems {
		more := len(ps) - maxAppSpecProblems + problems.dropped
		ps = append(ps[:maxAppSpecProblems:maxAppSpecProblems], AppSpecProblem{
			File: file,
			Rule: strconv.Itoa(more) + " more problems not shown",
		})
	}
	list := errmsg.NewList(ErrInvalidAppSpec.Error(), "problems")
	for i := range ps {
		list = multierror.Append(list, &ps[i])
	}
	return list.ErrorOrNil()
}

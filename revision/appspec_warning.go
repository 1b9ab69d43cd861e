package revision

import (
	"strconv"
	"strings"
)

// maxAppSpecWarnings bounds how many warnings one parse keeps, so that a
// hostile document cannot make the parser hold millions of them.
const maxAppSpecWarnings = 100

// Warning is something in an AppSpec that the CodeDeploy agent accepts but
// that the AppSpec reference forbids or describes differently. fleetdeploy
// accepts it and does what the agent does; the warning says where it is,
// what the agent does and what the documentation says, so that the file can
// be fixed before it misleads a reader or another tool.
//
// Warnings are part of the parsed result ([AppSpec.Warnings]); with
// [ParseOptions.Strict] every warning is an error instead.
type Warning struct {
	// File is the AppSpec's file name as given to ParseAppSpecFile
	// ("appspec" for ParseAppSpec).
	File string
	// Line is the 1-based line of the entry, or 0 when unknown.
	Line int
	// Field is the path of the entry, for example
	// "hooks.BeforeInstall[0].runas"; empty for the document as a whole.
	Field string
	// Agent says what the CodeDeploy agent (and so fleetdeploy) does with
	// the entry.
	Agent string
	// Docs says what the AppSpec reference of the CodeDeploy User Guide
	// says about it.
	Docs string
}

// String returns the warning on one line, as
// "appspec.yml:7: hooks.BeforeInstall[0].runas: the CodeDeploy agent ...; the AppSpec reference ...".
func (w Warning) String() string {
	var b strings.Builder
	b.WriteString(w.File)
	if w.Line > 0 {
		b.WriteByte(':')
		b.WriteString(strconv.Itoa(w.Line))
	}
	b.WriteString(": ")
	if w.Field != "" {
		b.WriteString(w.Field)
		b.WriteString(": ")
	}
	b.WriteString(w.rule())
	return b.String()
}

// rule is the warning's text without file, line and field.
func (w Warning) rule() string { return w.Agent + "; " + w.Docs }

// ParseOptions are the settings of [ParseAppSpecFile] and [ParseAppSpec].
type ParseOptions struct {
	// Strict makes every warning an error: the AppSpec is refused with an
	// error whose [*AppSpecProblem] values include one per warning, each
	// rule starting "strict: ". Use it to lint AppSpec files in CI, so that a
	// file relying on the agent's leniency is fixed before it is deployed.
	Strict bool
}

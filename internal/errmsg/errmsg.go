// Package errmsg formats the error messages of fleetdeploy's packages so
// that each layer adds its context once.
//
// Every fleetdeploy error message starts with its package's name
// ("deploy: ", "revision: ", ...). An error that wraps another, which
// starts with a package name too, would stack them: "deploy:
// CreateDeployment: deploy: deployment group shop/prod: not found".
// Errorf drops the package name from the text of the errors it wraps, so
// the message reads "deploy: CreateDeployment: deployment group shop/prod:
// not found", while errors.Is and errors.As still reach every wrapped
// error.
//
// Several failures reported at once — the problems of an invalid value,
// the failures of fan-out work — are a *multierror.Error
// (github.com/hashicorp/go-multierror) in every fleetdeploy package,
// printed by ListFormat (NewList makes one): a heading, then one indented
// line per failure, each without what the heading says already. errors.Is
// and errors.As reach every element, and Errors lists them all.
package errmsg

import (
	"fmt"
	"strings"
)

// prefixes are the package names the messages of fleetdeploy's core
// packages start with.
var prefixes = [...]string{"config: ", "deploy: ", "health: ", "plan: ", "revision: ", "target: "}

// Verbatim is implemented by errors whose message is shown as it is, never
// trimmed: a problem "revision: is required" names the field revision, not
// the package.
type Verbatim interface {
	error
	Verbatim()
}

// Trim returns s without its leading package name, if it has one of
// fleetdeploy's core packages.
func Trim(s string) string {
	for _, p := range prefixes {
		if rest, ok := strings.CutPrefix(s, p); ok && rest != "" {
			return rest
		}
	}
	return s
}

// Errorf formats like fmt.Errorf and wraps the same errors, but each error
// argument appears in the message without its leading package name (see
// Trim).
func Errorf(format string, args ...any) error {
	wrapped := fmt.Errorf(format, args...)
	shown := make([]any, len(args))
	trimmed := false
	for i, a := range args {
		shown[i] = a
		if err, ok := a.(error); ok && err != nil {
			if _, keep := err.(Verbatim); keep {
				continue
			}
			if s := err.Error(); Trim(s) != s {
				shown[i] = text(Trim(s))
				trimmed = true
			}
		}
	}
	if !trimmed {
		return wrapped
	}
	msg := fmt.Sprintf(plainVerbs(format), shown...)
	switch u := wrapped.(type) {
	case interface{ Unwrap() error }:
		return &wrapError{msg: msg, err: u.Unwrap()}
	case interface{ Unwrap() []error }:
		return &wrapErrors{msg: msg, errs: u.Unwrap()}
	}
	return &wrapErrors{msg: msg}
}

// text is an error's message as Errorf shows it.
type text string

// plainVerbs returns format with every %w verb turned into %v, which
// fmt.Sprintf accepts.
func plainVerbs(format string) string {
	b := []byte(format)
	for i := 0; i < len(b); i++ {
		if b[i] != '%' {
			continue
		}
		// Skip flags, width, precision and argument indexes up to the verb.
		j := i + 1
		for j < len(b) && strings.IndexByte("+-# 0123456789.*[]", b[j]) >= 0 {
			j++
		}
		if j < len(b) && b[j] == 'w' {
			b[j] = 'v'
		}
		i = j
	}
	return string(b)
}

// wrapError is Errorf's error when it wraps one error.
type wrapError struct {
	msg string
	err error
}

func (e *wrapError) Error() string { return e.msg }
func (e *wrapError) Unwrap() error { return e.err }

// wrapErrors is Errorf's error when it wraps several errors, or none.
type wrapErrors struct {
	msg  string
	errs []error
}

func (e *wrapErrors) Error() string   { return e.msg }
func (e *wrapErrors) Unwrap() []error { return e.errs }

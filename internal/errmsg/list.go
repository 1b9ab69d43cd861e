package errmsg

import (
	"errors"
	"strconv"
	"strings"

	"github.com/hashicorp/go-multierror"
)

// ListFormat returns the go-multierror format of every fleetdeploy error
// that lists several failures. header says what failed ("config: invalid
// deployment configuration \"Fast\""); noun names the elements in the
// plural ("problems", "failures"). One element prints on one line,
//
//	header: element
//
// several print as a heading and one indented line each:
//
//	header: 2 problems:
//	  name: is required
//	  minimumHealthyHosts: is required for a Server configuration
//
// Each element appears without what the header says already: the header
// itself when the element begins with it, else the package name the header
// starts with, or that of a core package (see Trim) — except a Verbatim
// element, such as a problem whose field has a package's name. An element of several
// lines has its further lines indented under it.
func ListFormat(header, noun string) multierror.ErrorFormatFunc {
	pkg, _, _ := strings.Cut(header, ": ")
	return func(errs []error) string {
		var b strings.Builder
		b.WriteString(header)
		switch len(errs) {
		case 0:
			return b.String()
		case 1:
			b.WriteString(": ")
			b.WriteString(element(header, pkg, errs[0]))
			return b.String()
		}
		b.WriteString(": ")
		b.WriteString(strconv.Itoa(len(errs)))
		b.WriteString(" ")
		b.WriteString(noun)
		b.WriteString(":")
		for _, err := range errs {
			b.WriteString("\n  ")
			b.WriteString(strings.ReplaceAll(element(header, pkg, err), "\n", "\n    "))
		}
		return b.String()
	}
}

// element is err's message as a list with header shows it.
func element(header, pkg string, err error) string {
	if err == nil {
		return "<nil>"
	}
	s := err.Error()
	if _, ok := err.(Verbatim); ok {
		return s
	}
	// "elbtarget: AllowTraffic i-1 on target group ..." under the header
	// "elbtarget: AllowTraffic i-1" reads "on target group ...".
	if rest, ok := strings.CutPrefix(s, header); ok {
		if rest = strings.TrimPrefix(strings.TrimPrefix(rest, ":"), " "); rest != "" && rest != s {
			return rest
		}
	}
	if rest, ok := strings.CutPrefix(s, pkg+": "); ok && pkg != "" && rest != "" {
		return rest
	}
	return Trim(s)
}

// NewList returns an empty *multierror.Error printed by ListFormat(header,
// noun). Add elements with multierror.Append and return ErrorOrNil.
func NewList(header, noun string) *multierror.Error {
	return &multierror.Error{ErrorFormat: ListFormat(header, noun)}
}

// Elements returns the elements of type T of the first *multierror.Error
// in err's chain (see errors.As), or err itself as the only element when
// it holds no list but is a T. Elements that are not a T are left out.
func Elements[T error](err error) []T {
	var list *multierror.Error
	if !errors.As(err, &list) {
		var t T
		if errors.As(err, &t) {
			return []T{t}
		}
		return nil
	}
	var out []T
	for _, e := range list.Errors {
		var t T
		if errors.As(e, &t) {
			out = append(out, t)
		}
	}
	return out
}

package errmsg_test

import (
	"errors"
	"testing"

	"github.com/hashicorp/go-multierror"

	"github.com/fleetdeploy/fleetdeploy/internal/errmsg"
)

type fieldError struct{ field string }

func (e *fieldError) Error() string { return "config: " + e.field + ": is required" }
func (e *fieldError) Unwrap() error { return errNotFound }

func TestListFormat(t *testing.T) {
	format := errmsg.ListFormat("config: invalid deployment configuration \"Fast\"", "problems")
	tests := []struct {
		errs []error
		want string
	}{
		{nil, `config: invalid deployment configuration "Fast"`},
		{[]error{&fieldError{"name"}}, `config: invalid deployment configuration "Fast": name: is required`},
		{[]error{&fieldError{"name"}, errors.New("deploy: other\nsecond line"), errors.New("ec2target: kept")},
			"config: invalid deployment configuration \"Fast\": 3 problems:\n  name: is required\n  other\n    second line\n  ec2target: kept"},
	}
	for _, tt := range tests {
		if got := format(tt.errs); got != tt.want {
			t.Errorf("format(%d errors):\n got %q\nwant %q", len(tt.errs), got, tt.want)
		}
	}
	// An adapter's header drops its own package name from its elements.
	got := errmsg.ListFormat("ec2target: terminating targets", "failures")([]error{errors.New("ec2target: a"), errors.New("ec2target: b")})
	if want := "ec2target: terminating targets: 2 failures:\n  a\n  b"; got != want {
		t.Errorf("adapter list:\n got %q\nwant %q", got, want)
	}
	// Nor does an element repeat the header.
	got = errmsg.ListFormat("elbtarget: AllowTraffic i-1", "failures")([]error{errors.New("elbtarget: AllowTraffic i-1 on target group \"a\": gone")})
	if want := `elbtarget: AllowTraffic i-1: on target group "a": gone`; got != want {
		t.Errorf("element repeating the header:\n got %q\nwant %q", got, want)
	}
}

func TestNewListReachesEveryElement(t *testing.T) {
	list := errmsg.NewList("deploy: x", "failures")
	if list.ErrorOrNil() != nil {
		t.Fatal("an empty list is not nil")
	}
	first, second := &fieldError{"a"}, &fieldError{"b"}
	other := errors.New("deploy: plain")
	err := errmsg.Errorf("deploy: wrapped: %w", multierror.Append(list, first, other, second).ErrorOrNil())
	if !errors.Is(err, errNotFound) || !errors.Is(err, other) {
		t.Errorf("errors.Is does not reach the elements of %v", err)
	}
	got := errmsg.Elements[*fieldError](err)
	if len(got) != 2 || got[0] != first || got[1] != second {
		t.Errorf("Elements = %v; want both *fieldError values in order", got)
	}
	if got := errmsg.Elements[*fieldError](first); len(got) != 1 || got[0] != first {
		t.Errorf("Elements of a lone error = %v", got)
	}
	if got := errmsg.Elements[*fieldError](other); got != nil {
		t.Errorf("Elements of an unrelated error = %v", got)
	}
}

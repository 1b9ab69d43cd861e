package errmsg_test

import (
	"errors"
	"fmt"
	"io/fs"
	"testing"

	"github.com/fleetdeploy/fleetdeploy/internal/errmsg"
)

var (
	errNotFound = errors.New("deploy: not found")
	errMissing  = errors.New("revision: revision not found")
)

type recordError struct{ key string }

func (e *recordError) Error() string { return "deploy: deployment group " + e.key + ": not found" }
func (e *recordError) Unwrap() error { return errNotFound }

func TestErrorfAddsEachPackageNameOnce(t *testing.T) {
	pathErr := &fs.PathError{Op: "open", Path: "/srv/a.zip", Err: fs.ErrNotExist}
	tests := []struct {
		err  error
		want string
		is   []error
	}{
		{errmsg.Errorf("deploy: CreateDeployment: %w", &recordError{"shop/prod"}),
			"deploy: CreateDeployment: deployment group shop/prod: not found", []error{errNotFound}},
		{errmsg.Errorf("revision: local bundle %q: %w: %w", "a.zip", errMissing, pathErr),
			`revision: local bundle "a.zip": revision not found: open /srv/a.zip: file does not exist`, []error{errMissing, fs.ErrNotExist}},
		{errmsg.Errorf("deploy: x: %w (%d%%w)", errors.New("config: bad"), 5),
			"deploy: x: bad (5%w)", nil},
		{errmsg.Errorf("deploy: %s: %w", "deploy: kept", pathErr),
			"deploy: deploy: kept: open /srv/a.zip: file does not exist", []error{fs.ErrNotExist}},
		{errmsg.Errorf("deploy: no error wrapped: %v", errors.New("target: gone")),
			"deploy: no error wrapped: gone", nil},
	}
	for _, tt := range tests {
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("message:\n got %q\nwant %q", got, tt.want)
		}
		for _, target := range tt.is {
			if !errors.Is(tt.err, target) {
				t.Errorf("%q: errors.Is(%v) = false", tt.err, target)
			}
		}
	}
	var re *recordError
	if err := errmsg.Errorf("deploy: op: %w", &recordError{"a/b"}); !errors.As(err, &re) || re.key != "a/b" {
		t.Errorf("errors.As did not reach the wrapped *recordError: %v", err)
	}
}

func TestTrim(t *testing.T) {
	for in, want := range map[string]string{
		"deploy: not found":   "not found",
		"config: x":           "x",
		"localtarget: x":      "localtarget: x",
		"deploy: ":            "deploy: ",
		"open deploy: x":      "open deploy: x",
		"revision: deploy: x": "deploy: x",
	} {
		if got := errmsg.Trim(in); got != want {
			t.Errorf("Trim(%q) = %q, want %q", in, got, want)
		}
	}
}

func ExampleErrorf() {
	notFound := errors.New("deploy: not found")
	inner := errmsg.Errorf("deploy: deployment group shop/prod: %w", notFound)
	err := errmsg.Errorf("deploy: CreateDeployment: %w", inner)
	fmt.Println(err)
	fmt.Println(errors.Is(err, notFound))
	// Output:
	// deploy: CreateDeployment: deployment group shop/prod: not found
	// true
}

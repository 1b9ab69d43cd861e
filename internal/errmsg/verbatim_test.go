package errmsg_test

import (
	"errors"
	"testing"

	"github.com/hashicorp/go-multierror"

	"github.com/fleetdeploy/fleetdeploy/config"
	"github.com/fleetdeploy/fleetdeploy/internal/errmsg"
)

// A problem whose field has a package's name keeps it, in a list and when
// wrapped: "revision" there is the field, not a package prefix.
func TestVerbatimKeepsFieldNames(t *testing.T) {
	rev := &config.Problem{Field: "revision", Rule: "is required"}
	cfg := &config.Problem{Field: "config", Rule: `unknown field "failure"`}
	list := errmsg.NewList("scenario: invalid scenario", "problems")
	list = multierror.Append(list, rev, cfg, errors.New("revision: bundle not found"))
	want := "scenario: invalid scenario: 3 problems:\n  revision: is required\n  config: unknown field \"failure\"\n  bundle not found"
	if got := list.Error(); got != want {
		t.Errorf("list reads\n%s\nwant\n%s", got, want)
	}
	if got, want := errmsg.Errorf("deploy: invalid deployment input: %w", rev).Error(), "deploy: invalid deployment input: revision: is required"; got != want {
		t.Errorf("Errorf reads %q; want %q", got, want)
	}
	if !errors.Is(errmsg.Errorf("x: %w", rev), rev) {
		t.Error("Errorf no longer wraps the problem")
	}
}

package localtarget

import (
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/fleetdeploy/fleetdeploy/deploy/clock"
	"github.com/fleetdeploy/fleetdeploy/revision"
)

// DefaultMaxRevisions is how many deployment archives an instance keeps per
// deployment group, like the CodeDeploy agent's :max_revisions
// (command_executor.rb in aws/aws-codedeploy-agent).
const DefaultMaxRevisions = 5

// DefaultOutputWait is how long a hook's output pipe is drained after the
// script and its process group are gone (see Options.OutputWait).
const DefaultOutputWait = 10 * time.Second

// Options are the optional settings of an Agent or a Fleet. The zero value
// of every field means its default.
type Options struct {
	// Clock times the hook scripts (their timeouts, the kill grace and the
	// output wait). Default clock.System().
	Clock clock.Clock
	// Logger receives what the agent does, one record per event and per
	// script, with the instance ID, deployment ID and event as attributes.
	// Default: a logger that discards everything.
	Logger *slog.Logger
	// MaxRevisions is how many deployment directories are kept per
	// deployment group; older ones are deleted at the end of DownloadBundle,
	// never the last successful install's or the most recent one's.
	// Default DefaultMaxRevisions; must not be negative.
	MaxRevisions int
	// Env holds extra "KEY=VALUE" variables for every hook script, added to
	// the agent's own environment. The lifecycle variables the CodeDeploy
	// agent sets (APPLICATION_NAME, DEPLOYMENT_ID, ...) override them.
	Env []string
	// KillGrace is how long a timed-out or cancelled hook's process group
	// has between SIGTERM and SIGKILL. Zero (the default) sends SIGKILL at
	// once.
	KillGrace time.Duration
	// OutputWait bounds how long the agent reads a hook's output after the
	// script exited and its process group was killed. Only a process that
	// left the group (a daemon that called setsid) and kept the script's
	// stdout or stderr open makes the agent wait; the event then fails with
	// UnknownError, as the CodeDeploy agent fails a script that leaves its
	// outputs open. Default DefaultOutputWait.
	OutputWait time.Duration
	// Limits bound the size of a bundle DownloadBundle unpacks, against
	// archive bombs; zero fields mean the revision package's defaults.
	Limits revision.ExtractLimits
}

// resolveOptions applies opts to the defaults and checks the result.
func resolveOptions(opts []func(*Options)) (Options, error) {
	var o Options
	for _, f := range opts {
		if f != nil {
			f(&o)
		}
	}
	if o.Clock == nil {
		o.Clock = clock.System()
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	switch {
	case o.MaxRevisions < 0:
		return o, fmt.Errorf("localtarget: Options.MaxRevisions must not be negative; got %d", o.MaxRevisions)
	case o.MaxRevisions == 0:
		o.MaxRevisions = DefaultMaxRevisions
	}
	if o.KillGrace < 0 {
		return o, fmt.Errorf("localtarget: Options.KillGrace must not be negative; got %v", o.KillGrace)
	}
	switch {
	case o.OutputWait < 0:
		return o, fmt.Errorf("localtarget: Options.OutputWait must not be negative; got %v", o.OutputWait)
	case o.OutputWait == 0:
		o.OutputWait = DefaultOutputWait
	}
	for i, kv := range o.Env {
		if k, _, ok := strings.Cut(kv, "="); !ok || k == "" {
			return o, fmt.Errorf("localtarget: Options.Env[%d] must be KEY=VALUE; got %q", i, kv)
		}
	}
	return o, nil
}

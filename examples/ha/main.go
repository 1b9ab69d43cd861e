//go:build linux

package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/fleetdeploy/fleetdeploy/examples/internal/story"
)

func main() {
	if code, ok := playRole(); ok {
		os.Exit(code)
	}
	story.Main(run)
}

// playRole runs the program as an executor process or a hook when
// roleEnv says so, and returns its exit code; ok is false when the program
// is the example itself.
func playRole() (code int, ok bool) {
	switch role := os.Getenv(roleEnv); role {
	case "":
		return 0, false
	case "executor":
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		defer stop()
		return executorMain(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr), true
	case "hook":
		return hookMain(os.Stderr), true
	default:
		fmt.Fprintf(os.Stderr, "ha: %s=%q: want executor, hook, or nothing\n", roleEnv, role)
		return story.ExitUsage, true
	}
}

// options are the command-line flags.
type options struct {
	endpoint  string
	dir       string
	instances int
	executors int
	leaseTTL  time.Duration
	interval  time.Duration
	hookTime  time.Duration
	verbose   bool
}

// The bounds of the flags.
const (
	minInstances, maxInstances = 6, 200
	minExecutors, maxExecutors = 2, 9
)

// parseArgs parses the command line. ok is false when the program must exit
// with code.
func parseArgs(args []string, stderr io.Writer) (o options, code int, ok bool) {
	fs := story.NewFlagSet("ha", stderr,
		"usage: ha [-endpoint URL] [-dir DIR] [-instances N] [-executors N] [-lease-ttl D] [-supervise D] [-hook D] [-v]",
		"Runs several executor processes on one DynamoDB table (moto), kills the one driving a deployment",
		"half-way, and checks that another takes it over and finishes it by CodeDeploy's rules.")
	fs.StringVar(&o.endpoint, "endpoint", "", "use the moto server at `URL` instead of starting one (python3 -m moto.server)")
	fs.StringVar(&o.dir, "dir", "", "keep the fleet, the hook log and moto's log in `DIR` (new or empty) instead of a temporary directory removed at exit")
	fs.IntVar(&o.instances, "instances", 30, fmt.Sprintf("`N` local instances (%d–%d)", minInstances, maxInstances))
	fs.IntVar(&o.executors, "executors", 3, fmt.Sprintf("`N` executor processes (%d–%d)", minExecutors, maxExecutors))
	fs.DurationVar(&o.leaseTTL, "lease-ttl", 2*time.Second, "each executor's Options.LeaseTTL")
	fs.DurationVar(&o.interval, "supervise", 500*time.Millisecond, "each executor's SuperviseOptions.Interval")
	fs.DurationVar(&o.hookTime, "hook", 100*time.Millisecond, "how long each hook of the deployment works")
	fs.BoolVar(&o.verbose, "v", false, "debug logging (executors and agents) to stderr")
	if code, ok := story.ParseFlags(fs, args); !ok {
		return o, code, false
	}
	bad := func(format string, args ...any) (options, int, bool) {
		fmt.Fprintf(stderr, "ha: "+format+"\n", args...)
		return o, story.ExitUsage, false
	}
	switch {
	case o.instances < minInstances || o.instances > maxInstances:
		return bad("-instances must be %d to %d; got %d", minInstances, maxInstances, o.instances)
	case o.executors < minExecutors || o.executors > maxExecutors:
		return bad("-executors must be %d to %d; got %d", minExecutors, maxExecutors, o.executors)
	case o.leaseTTL < 100*time.Millisecond:
		return bad("-lease-ttl must be at least 100ms; got %s", o.leaseTTL)
	case o.interval <= 0:
		return bad("-supervise must be positive; got %s", o.interval)
	case o.hookTime < 0:
		return bad("-hook must not be negative; got %s", o.hookTime)
	}
	return o, 0, true
}

package main

import (
	"context"
	"io"
	"log/slog"
	"time"

	"github.com/fleetdeploy/fleetdeploy/examples/internal/onmoto"
	"github.com/fleetdeploy/fleetdeploy/examples/internal/story"
)

// speed is how much faster than real time the story's clock runs: the
// canary's five minutes take a second.
const speed = 300

func main() { story.Main(run) }

// options are the command-line flags.
type options struct {
	endpoint string
	verbose  bool
}

// parseArgs parses the command line. ok is false when the program must exit
// with code.
func parseArgs(args []string, stderr io.Writer) (o options, code int, ok bool) {
	fs := story.NewFlagSet("lambda", stderr,
		"usage: lambda [-endpoint URL] [-v]",
		"Runs a Lambda canary deployment on AWS Lambda emulated by moto, with hook functions that report back",
		"through CodeDeploy's own API, and checks each outcome against CodeDeploy's rules.")
	fs.StringVar(&o.endpoint, "endpoint", "", "use the moto server at `URL` instead of starting one (python3 -m moto.server)")
	fs.BoolVar(&o.verbose, "v", false, "debug logging (executor, adapters, reporting endpoint) to stderr")
	if code, ok := story.ParseFlags(fs, args); !ok {
		return o, code, false
	}
	return o, 0, true
}

// run is the whole program: args are the command-line arguments without
// the program name. It returns the exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	o, code, ok := parseArgs(args, stderr)
	if !ok {
		return code
	}
	level := slog.LevelError
	if o.verbose {
		level = slog.LevelDebug
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	out := story.NewPrinter(stdout)
	checks := story.NewChecks(out.Printf)
	began := time.Now()

	err := onmoto.Tell(o.endpoint, out.Printf, func(url string) error {
		return tell(ctx, url, out, checks, logger)
	})
	if err == nil {
		out.Printf("Done in %.1fs: %s", time.Since(began).Seconds(), checks.Verdict())
		err = out.Err()
	}
	return story.Exit(ctx, stderr, "lambda", err, checks.Problems())
}

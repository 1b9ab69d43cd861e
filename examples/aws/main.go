package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/fleetdeploy/fleetdeploy/examples/internal/onmoto"
	"github.com/fleetdeploy/fleetdeploy/examples/internal/story"
)

// speed is how much faster than real time the story's clock runs: one
// virtual minute (the blue/green termination wait) takes one real second.
const speed = 60

func main() { story.Main(run) }

// options are the command-line flags.
type options struct {
	endpoint string
	dir      string
	verbose  bool
}

// parseArgs parses the command line. ok is false when the program must exit
// with code.
func parseArgs(args []string, stderr io.Writer) (o options, code int, ok bool) {
	fs := story.NewFlagSet("aws", stderr,
		"usage: aws [-endpoint URL] [-dir DIR] [-v]",
		"Runs Server deployments on AWS services emulated by moto — EC2, Auto Scaling, ELBv2, S3, CloudWatch,",
		"SNS, SQS — with fleetdeploy's AWS adapters, and checks each outcome against CodeDeploy's rules.")
	fs.StringVar(&o.endpoint, "endpoint", "", "use the moto server at `URL` instead of starting one (python3 -m moto.server)")
	fs.StringVar(&o.dir, "dir", "", "keep the local instances in `DIR` (new or empty) instead of a temporary directory removed at exit")
	fs.BoolVar(&o.verbose, "v", false, "debug logging (executor, adapters and agents) to stderr")
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
	dir, cleanup, err := story.WorkDir(o.dir, "fleetdeploy-aws-")
	if err != nil {
		fmt.Fprintf(stderr, "aws: %v\n", err)
		if o.dir != "" {
			return story.ExitUsage
		}
		return story.ExitFailure
	}
	defer cleanup()

	level := slog.LevelError // an alarm's stop is a warning, and part of the story
	if o.verbose {
		level = slog.LevelDebug
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	out := story.NewPrinter(stdout)
	checks := story.NewChecks(out.Printf)
	began := time.Now()

	err = onmoto.Tell(o.endpoint, out.Printf, func(url string) error {
		return tell(ctx, url, dir, out, checks, logger)
	})
	if err == nil {
		if o.dir != "" {
			out.Printf("The local instances are kept in %s.", dir)
		}
		out.Printf("Done in %.1fs: %s", time.Since(began).Seconds(), checks.Verdict())
		err = out.Err()
	}
	return story.Exit(ctx, stderr, "aws", err, checks.Problems())
}

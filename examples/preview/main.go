package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/fleetdeploy/fleetdeploy/deploy/plan"
)

// Exit codes.
const (
	exitOK       = 0 // the preview was printed, whatever the previewed deployment's status
	exitIO       = 1 // the scenario could not be read or the output not written
	exitScenario = 2 // bad command line or bad scenario; one line per problem on stderr
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// run is the whole program: args are the command-line arguments without
// the program name. It returns the exit code.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("preview", flag.ContinueOnError)
	fs.SetOutput(stderr)
	text := fs.Bool("text", false, "print a table for people instead of JSON")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: preview [-text] [scenario.json | -]")
		fmt.Fprintln(stderr, "Reads a deployment scenario (JSON; stdin when no file or -) and prints the planned rollout.")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitScenario
	}
	if fs.NArg() > 1 {
		fmt.Fprintf(stderr, "preview: at most one scenario file; got %d arguments\n", fs.NArg())
		fs.Usage()
		return exitScenario
	}

	name, data, err := read(fs.Arg(0), stdin)
	if err != nil {
		fmt.Fprintf(stderr, "preview: %v\n", err)
		return exitIO
	}
	s, ps, ok := parse(name, data)
	if ok {
		in, more := build(s)
		ps = append(ps, more...)
		if len(ps) == 0 {
			return preview(in, *text, stdout, stderr)
		}
	}
	for _, p := range ps {
		fmt.Fprintf(stderr, "preview: %s\n", p)
	}
	return exitScenario
}

// read returns the scenario's name for messages and its bytes.
func read(path string, stdin io.Reader) (string, []byte, error) {
	if path == "" || path == "-" {
		data, err := io.ReadAll(stdin)
		if err != nil {
			return "", nil, fmt.Errorf("reading the scenario from stdin: %w", err)
		}
		return "<stdin>", data, nil
	}
	data, err := os.ReadFile(path)
	return path, data, err
}

// preview runs the planner over the scenario and prints the schedule.
func preview(in plan.PreviewInput, text bool, stdout, stderr io.Writer) int {
	sched, err := plan.Preview(in)
	if err != nil {
		fmt.Fprintf(stderr, "preview: %v\n", err)
		if errors.Is(err, plan.ErrInvalidInput) {
			return exitScenario
		}
		return exitIO
	}
	if text {
		err = writeText(stdout, in, sched)
	} else {
		err = writeJSON(stdout, sched)
	}
	if err != nil {
		fmt.Fprintf(stderr, "preview: writing the preview: %v\n", err)
		return exitIO
	}
	return exitOK
}

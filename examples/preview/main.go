package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/hashicorp/go-multierror"

	"github.com/fleetdeploy/fleetdeploy/config"
	"github.com/fleetdeploy/fleetdeploy/deploy/plan"
	"github.com/fleetdeploy/fleetdeploy/deploy/plan/plansvg"
	"github.com/fleetdeploy/fleetdeploy/deploy/plan/scenario"
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
	text := fs.Bool("text", isTerminal(stdout), "print a table for people instead of JSON (the default when stdout is a terminal; -text=false for JSON)")
	svg := fs.String("svg", "", "also draw the rollout as an SVG picture into this `file`")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: preview [-text] [-svg out.svg] [scenario.json | -]")
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
	s, err := scenario.Decode(bytes.NewReader(data))
	if err != nil {
		printProblems(stderr, name, err)
		return exitScenario
	}
	in, err := s.PreviewInput()
	if err != nil { // not reached: Decode checked the same rules
		printProblems(stderr, name, err)
		return exitScenario
	}
	return preview(in, *text, *svg, stdout, stderr)
}

// isTerminal reports whether w is a terminal (a character device).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// printProblems prints each problem of a scenario's error on its own line;
// problems with the document's JSON are located in the file name.
func printProblems(stderr io.Writer, name string, err error) {
	var list *multierror.Error
	if !errors.As(err, &list) {
		fmt.Fprintf(stderr, "preview: %s: %v\n", name, err)
		return
	}
	for _, e := range list.Errors {
		var p *config.Problem
		switch {
		case !errors.As(e, &p):
			fmt.Fprintf(stderr, "preview: %v\n", e)
		case errors.Is(p, scenario.ErrSyntax) && p.Field == "scenario":
			fmt.Fprintf(stderr, "preview: %s: %s\n", name, p.Rule)
		case errors.Is(p, scenario.ErrSyntax):
			fmt.Fprintf(stderr, "preview: %s:%s: %s\n", name, p.Field, p.Rule)
		default:
			fmt.Fprintf(stderr, "preview: %s\n", p)
		}
	}
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
func preview(in plan.PreviewInput, text bool, svg string, stdout, stderr io.Writer) int {
	sched, err := plan.Preview(in)
	if err != nil {
		fmt.Fprintf(stderr, "preview: %v\n", err)
		if errors.Is(err, plan.ErrInvalidInput) {
			return exitScenario
		}
		return exitIO
	}
	if svg != "" {
		if err := writeSVG(svg, in.Input, sched); err != nil {
			fmt.Fprintf(stderr, "preview: %v\n", err)
			return exitIO
		}
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

// writeSVG draws the schedule into the file named path.
func writeSVG(path string, in plan.Input, sched plan.Schedule) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("writing the picture: %w", err)
	}
	err = plansvg.Render(f, in, sched)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("writing the picture %s: %w", path, err)
	}
	return nil
}

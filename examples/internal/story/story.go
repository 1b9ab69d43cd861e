package story

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"sync"
	"syscall"
)

// The exit codes of the example programs.
const (
	ExitOK      = 0 // every deployment behaved as the rules predict
	ExitFailure = 1 // one did not, or the run could not finish; stderr says what
	ExitUsage   = 2 // bad command line
)

// Run is a whole example program: args are the command-line arguments
// without the program name. It returns the exit code.
type Run func(ctx context.Context, args []string, stdout, stderr io.Writer) int

// Main runs run with the process's arguments, standard output and standard
// error, under a context cancelled on SIGINT or SIGTERM, and exits with
// the code it returns.
func Main(run Run) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// NewFlagSet returns a flag set named name that writes its messages to
// stderr and returns parse errors (flag.ContinueOnError). Its usage
// message is the usage lines, one a line, followed by the flags' defaults.
func NewFlagSet(name string, stderr io.Writer, usage ...string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		for _, l := range usage {
			fmt.Fprintln(stderr, l)
		}
		fs.PrintDefaults()
	}
	return fs
}

// ParseFlags parses args with fs, whose output and Usage are set (as
// [NewFlagSet] sets them). ok is
// false when the program must exit with code: [ExitOK] after -h (fs has
// printed the usage), [ExitUsage] after a bad flag (fs has said what) or
// when arguments remain, which it reports as "NAME: unexpected arguments
// [...]" followed by the usage, NAME being fs.Name().
func ParseFlags(fs *flag.FlagSet, args []string) (code int, ok bool) {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return ExitOK, false
		}
		return ExitUsage, false
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(fs.Output(), "%s: unexpected arguments %q\n", fs.Name(), fs.Args())
		fs.Usage()
		return ExitUsage, false
	}
	return ExitOK, true
}

// Checks prints the outcomes of a story through printf, which writes one
// line, and counts those that differ from what the rules predict. Create it
// with [NewChecks]; it is not safe for concurrent use.
type Checks struct {
	printf   func(format string, args ...any)
	problems []string
}

// NewChecks returns a Checks that prints through printf: a function that
// formats its arguments as [fmt.Sprintf] does and writes them as one line.
func NewChecks(printf func(format string, args ...any)) *Checks {
	return &Checks{printf: printf}
}

// Expect records whether an outcome is what the rules predict, and
// prints it: "  [ok] MSG", or "  [MISMATCH] MSG" and MSG becomes one of the
// [Checks.Problems], MSG being format applied to args.
func (c *Checks) Expect(ok bool, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if ok {
		c.printf("  [ok] %s", msg)
		return
	}
	c.printf("  [MISMATCH] %s", msg)
	c.problems = append(c.problems, msg)
}

// Section prints a section heading: an empty line, then "== title".
func (c *Checks) Section(title string) {
	c.printf("")
	c.printf("== %s", title)
}

// Problems returns the messages of the outcomes that differ from what the
// rules predict, in order. The caller must not change the slice.
func (c *Checks) Problems() []string { return c.problems }

// Verdict sums the checks up, for the end of the closing line: "every
// outcome as the rules predict.", or "N outcomes differ from what the rules
// predict ([MISMATCH] above).".
func (c *Checks) Verdict() string {
	if len(c.problems) > 0 {
		return fmt.Sprintf("%d outcomes differ from what the rules predict ([MISMATCH] above).", len(c.problems))
	}
	return "every outcome as the rules predict."
}

// Exit reports how the run of program name ended on stderr and returns
// its exit code: [ExitFailure] with "NAME: interrupted: ERR" when err is
// set and ctx is done, with "NAME: ERR" for any other error, or with the
// list of problems when there are some (the [Checks.Problems]); [ExitOK],
// saying nothing, otherwise.
func Exit(ctx context.Context, stderr io.Writer, name string, err error, problems []string) int {
	switch {
	case err != nil && ctx.Err() != nil:
		fmt.Fprintf(stderr, "%s: interrupted: %v\n", name, err)
		return ExitFailure
	case err != nil:
		fmt.Fprintf(stderr, "%s: %v\n", name, err)
		return ExitFailure
	case len(problems) > 0:
		fmt.Fprintf(stderr, "%s: %d outcomes differ from what the rules predict:\n", name, len(problems))
		for _, p := range problems {
			fmt.Fprintf(stderr, "  - %s\n", p)
		}
		return ExitFailure
	}
	return ExitOK
}

// WorkDir returns the directory a story works in and the function that
// cleans it up: dir itself (the -dir flag; it must be new or empty, and is
// kept), or, when dir is empty, a new temporary directory named after
// prefix (removed).
func WorkDir(dir, prefix string) (string, func(), error) {
	if dir == "" {
		tmp, err := os.MkdirTemp("", prefix)
		if err != nil {
			return "", nil, err
		}
		return tmp, func() { os.RemoveAll(tmp) }, nil
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", nil, fmt.Errorf("-dir %s: %w", dir, err)
	}
	entries, err := os.ReadDir(abs)
	switch {
	case errors.Is(err, os.ErrNotExist):
		if err := os.MkdirAll(abs, 0o755); err != nil {
			return "", nil, fmt.Errorf("-dir %s: %w", dir, err)
		}
	case err != nil:
		return "", nil, fmt.Errorf("-dir %s: %w", dir, err)
	case len(entries) > 0:
		return "", nil, fmt.Errorf("-dir %s is not empty; give a new or empty directory", dir)
	}
	return abs, func() {}, nil
}

// Printer writes a program's output one whole line at a time, from any
// goroutine: the story's, and the executor's, adapters' or hook functions'
// as they report what they do. It keeps the first write error.
type Printer struct {
	mu  sync.Mutex
	w   io.Writer
	err error
}

// NewPrinter returns a Printer writing to w.
func NewPrinter(w io.Writer) *Printer { return &Printer{w: w} }

// Printf prints one line (the newline is added); after a write error it
// prints nothing more.
func (p *Printer) Printf(format string, args ...any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.err == nil {
		_, p.err = fmt.Fprintf(p.w, format+"\n", args...)
	}
}

// Err returns the first write error, if any.
func (p *Printer) Err() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.err
}

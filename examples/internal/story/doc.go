// Package story holds what the example programs (examples/quickstart,
// examples/canary, examples/ha, examples/aws, examples/lambda) share: each tells a story of deployments, checks every
// outcome against what the rules predict — CodeDeploy's, as its User Guide
// and API Reference give them, and the decisions fleetdeploy records where
// they are silent (see "Where fleetdeploy decides" in package fleetdeploy)
// — and exits with a code that says how it went.
//
// # Checks
//
// A [Checks] prints each outcome as "  [ok] …" or "  [MISMATCH] …" through
// the program's own print function, and remembers the mismatches.
// [Checks.Section] prints a section heading the same way, and
// [Checks.Verdict] sums the run up for the closing line.
//
// A [Printer] prints the program's output a whole line at a time, from any
// goroutine.
//
// # The command line and the exit code
//
// [Main] wires SIGINT and SIGTERM to the context of a [Run] function and
// exits with its code. [ParseFlags] does the common part of parsing a
// command line: -h exits [ExitOK], a bad flag or a stray argument exits
// [ExitUsage]. [Exit] turns the end of a run — an error, an interruption or
// mismatches — into a message on stderr and the exit code.
//
// # Time
//
// A [FastClock] runs a set number of times faster than real time, so that
// the waits CodeDeploy counts in minutes (a termination wait, a canary's
// interval) take seconds; the executor and the adapters wait on it.
//
// # Tests
//
// Package storytest (story/storytest) holds the shared test helpers:
// CancelOn, a writer that cancels a context once the output contains a
// string (the way to interrupt a run at a chosen point), and CheckUsage,
// which runs a table of bad command lines against a [Run] function. They
// live apart so that the example programs never link package testing.
package story

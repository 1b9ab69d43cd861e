//go:build !linux

package main

import (
	"fmt"
	"os"
)

// main explains that the example needs Linux: it relies on the
// parent-death signal (prctl PR_SET_PDEATHSIG) to make a killed
// executor's hooks die with it, and on /proc to check that none survives.
func main() {
	fmt.Fprintln(os.Stderr, "ha: this example runs on Linux only: it needs the parent-death signal (PR_SET_PDEATHSIG) so that a killed executor's hooks die with it")
	os.Exit(1)
}

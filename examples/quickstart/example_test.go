package main

import (
	"context"
	"fmt"
	"os"
)

// Who plays which part in fleets of different sizes: the instances in
// maintenance while v0 goes out (so Unhealthy afterwards: n/6, at least 1,
// at most 2, the last by ID) and the instance whose full disk fails v2
// (position ⌈n/2⌉+1, in HalfAtATime's second wave).
func Example_newCast() {
	for _, n := range []int{12, 6, 3, 100} {
		c := newCast(n)
		fmt.Printf("%3d instances: unhealthy %v, full disk %s, %s in %s\n", n, c.maintenance, c.fullDisk, c.ids[0], c.zone[c.ids[0]])
	}
	// Output:
	//  12 instances: unhealthy [web-11 web-12], full disk web-07, web-01 in zone-a
	//   6 instances: unhealthy [web-06], full disk web-04, web-01 in zone-a
	//   3 instances: unhealthy [web-03], full disk web-03, web-01 in zone-a
	// 100 instances: unhealthy [web-099 web-100], full disk web-051, web-001 in zone-a
}

// The command line: -h prints the usage (here to stdout) and exits 0.
func Example_run_usage() {
	code := run(context.Background(), []string{"-h"}, os.Stdout, os.Stdout)
	fmt.Println("exit", code)
	// Output:
	// usage: quickstart [-dir DIR] [-instances N] [-v]
	// Deploys revisions v0–v3 to a fleet of local instances with fleetdeploy's executor and checks each
	// outcome against CodeDeploy's rules: v2 fails on one instance, v3 on every instance and is rolled back.
	//   -dir DIR
	//     	keep the fleet and revisions in DIR (new or empty) instead of a temporary directory removed at exit
	//   -instances N
	//     	N local instances (3–200), spread round robin over 3 zones (default 12)
	//   -v	debug logging (executor and agents) to stderr
	// exit 0
}

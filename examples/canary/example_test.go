package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/fleetdeploy/fleetdeploy/target"
)

// The command line: -h prints the usage (here to stdout) and exits 0.
func Example_run_usage() {
	code := run(context.Background(), []string{"-h"}, os.Stdout, os.Stdout)
	fmt.Println("exit", code)
	// Output:
	// usage: canary [-minute D] [-rate N] [-v]
	// Shifts a Lambda-style alias between versions of a local HTTP service under steady load: a linear
	// deployment that succeeds, then a canary of a broken version that trips an alarm and is rolled back.
	//   -minute minute
	//     	real time one virtual minute takes (100ms to 1m0s); deployment configurations count whole minutes (default 2s)
	//   -rate requests
	//     	requests per second sent to the alias (20–2000); by default 200, or more when -minute is shorter than 750ms: the 150 per virtual minute the story needs
	//   -v	debug logging of the executor to stderr
	// exit 0
}

// The scaled clock at -minute 2s: the canary configuration's 2 minutes
// take 4 seconds of real time. (Real time is a fake here, moved by hand.)
func Example_scaledClock() {
	rt := newFakeReal()
	clk := newScaledClock(rt, 2*time.Second)
	start := clk.Now()
	steps := configs()[1].TrafficRouting.Steps() // ShopCanary10Percent2Minutes
	timer := clk.NewTimer(steps[1].At)
	for _, real := range []time.Duration{time.Second, 2900 * time.Millisecond, 100 * time.Millisecond} {
		rt.Advance(real)
		at, ok := fired(timer.C())
		fmt.Printf("+%v real: virtual +%v, shift to %d%% due: %v", real, clk.Now().Sub(start), steps[1].Weight, ok)
		if ok {
			fmt.Printf(" (at +%v)", at.Sub(start))
		}
		fmt.Println()
	}
	// Output:
	// +1s real: virtual +30s, shift to 100% due: false
	// +2.9s real: virtual +1m57s, shift to 100% due: false
	// +100ms real: virtual +2m0s, shift to 100% due: true (at +2m0s)
}

// What a step of a traffic shift is judged against: the linear
// configuration's schedule, and how far a step's observed share may stray
// from its weight.
func Example_tolerance() {
	for _, s := range configs()[0].TrafficRouting.Steps() { // ShopLinear25PercentEvery1Minute
		w := window{Split: target.TrafficSplit{Original: "1", Replacement: "2", Weight: s.Weight}}
		p := float64(w.weightOf("2")) / 100
		fmt.Printf("+%v %s: ±%.1f%% over 400 requests, ±%.1f%% over 4000\n",
			s.At, splitText(w.Split), 100*tolerance(p, 400), 100*tolerance(p, 4000))
	}
	// Output:
	// +0s v1 75% / v2 25%: ±9.7% over 400 requests, ±3.1% over 4000
	// +1m0s v1 50% / v2 50%: ±11.2% over 400 requests, ±3.6% over 4000
	// +2m0s v1 25% / v2 75%: ±9.7% over 400 requests, ±3.1% over 4000
	// +3m0s all on v2: ±0.0% over 400 requests, ±0.0% over 4000
}

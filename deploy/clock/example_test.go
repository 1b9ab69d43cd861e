package clock_test

import (
	"context"
	"fmt"
	"time"

	"github.com/fleetdeploy/fleetdeploy/deploy/clock"
)

func ExampleFake() {
	clk := clock.NewFake(time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC))
	done := make(chan struct{})
	go func() {
		_ = clock.Sleep(context.Background(), clk, time.Hour) // an hour-long bake
		fmt.Println("baked at", clk.Now().Format(time.Kitchen))
		close(done)
	}()
	_ = clk.BlockUntil(context.Background(), 1) // the goroutine is waiting
	clk.Advance(time.Hour)
	<-done
	// Output: baked at 1:00PM
}

// Timing the steps of a job: each reading builds on the one before it.
func ExampleLater() {
	clk := clock.NewFake(time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC))
	started := clk.Now()
	clk.Advance(90 * time.Second) // the first step runs
	ended := clock.Later(clk, started)
	fmt.Println("step took", ended.Sub(started))
	// Output: step took 1m30s
}

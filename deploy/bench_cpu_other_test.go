//go:build !unix

package deploy_test

import "time"

// processCPU returns 0: the process's CPU time is read on Unix only, and
// BenchmarkExecutor's CPU ratios are then 0.
func processCPU() time.Duration { return 0 }

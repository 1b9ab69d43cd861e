package story_test

import (
	"context"
	"fmt"
	"os"

	"github.com/fleetdeploy/fleetdeploy/examples/internal/story"
)

// A story prints its checks through its own print function; Exit turns
// the mismatches into the exit code.
func ExampleChecks() {
	printf := func(format string, args ...any) { fmt.Printf(format+"\n", args...) }
	c := story.NewChecks(printf)
	c.Section("1. v1")
	c.Expect(true, "v1 %s on %d of %d instances", "Succeeded", 6, 6)
	c.Expect(false, "the group's target revision is %s", "v0")
	printf("Done: %s", c.Verdict())
	code := story.Exit(context.Background(), os.Stdout, "demo", nil, c.Problems())
	fmt.Println("exit", code)
	// Output:
	//
	// == 1. v1
	//   [ok] v1 Succeeded on 6 of 6 instances
	//   [MISMATCH] the group's target revision is v0
	// Done: 1 outcomes differ from what the rules predict ([MISMATCH] above).
	// demo: 1 outcomes differ from what the rules predict:
	//   - the group's target revision is v0
	// exit 1
}

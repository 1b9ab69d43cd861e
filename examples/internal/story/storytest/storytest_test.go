package storytest

import (
	"context"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/fleetdeploy/fleetdeploy/examples/internal/story"
)

func TestCancelOn(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	w := &CancelOn{What: "step 2", Cancel: cancel}
	io.WriteString(w, "step 1\nstep ")
	if ctx.Err() != nil {
		t.Fatal("cancelled before the string was written")
	}
	// The string may arrive across writes.
	if n, err := io.WriteString(w, "2\n"); n != 2 || err != nil {
		t.Errorf("Write = %d, %v; want 2, nil", n, err)
	}
	if ctx.Err() == nil {
		t.Error("not cancelled once the string was written")
	}
}

func TestCheckUsage(t *testing.T) {
	run := func(_ context.Context, args []string, stdout, stderr io.Writer) int {
		fmt.Fprintln(stderr, "bad:", strings.Join(args, " "))
		return story.ExitUsage
	}
	CheckUsage(t, run, []UsageCase{{Args: []string{"x"}, Code: story.ExitUsage, Msg: "bad: x"}})
}

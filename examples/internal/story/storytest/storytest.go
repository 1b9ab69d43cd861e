// Package storytest holds the test helpers the example programs share:
// a writer that cancels a context when a string appears in the output (to
// interrupt a run at a chosen moment) and a table check of command lines a
// program must refuse.
package storytest

import (
	"bytes"
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/fleetdeploy/fleetdeploy/examples/internal/story"
)

// CancelOn is a writer that calls Cancel once what it has been given
// contains What. It keeps everything written, and is safe for concurrent
// use. Set both fields before the first Write.
type CancelOn struct {
	// What is the string to wait for.
	What string
	// Cancel is called on every Write once What has been written.
	Cancel context.CancelFunc

	mu  sync.Mutex
	buf bytes.Buffer
}

// Write keeps p and calls Cancel if the output so far contains What. It
// never fails.
func (w *CancelOn) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(p)
	if strings.Contains(w.buf.String(), w.What) {
		w.Cancel()
	}
	return len(p), nil
}

// UsageCase is a command line run must refuse: Args exits with Code and
// writes Msg (a part of it) to stderr, and nothing to stdout.
type UsageCase struct {
	Args []string
	Code int
	Msg  string
}

// CheckUsage runs run with each case's arguments under t's context and
// reports an error on t for each one whose exit code, stderr or stdout is
// not as the case says.
func CheckUsage(t testing.TB, run story.Run, cases []UsageCase) {
	t.Helper()
	for _, tc := range cases {
		var out, errOut bytes.Buffer
		code := run(t.Context(), tc.Args, &out, &errOut)
		if code != tc.Code || !strings.Contains(errOut.String(), tc.Msg) || out.Len() != 0 {
			t.Errorf("run %q: exit %d, stderr %q, stdout %q; want exit %d, stderr containing %q, no stdout",
				tc.Args, code, errOut.String(), out.String(), tc.Code, tc.Msg)
		}
	}
}

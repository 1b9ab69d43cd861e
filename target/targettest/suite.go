package targettest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

// ReturnBound is how long a suite waits for a role call made with a
// context that is already done before it reports the call as not returning
// promptly. It is a wall-clock bound on a call that should return at once,
// never a wait for something to happen.
const ReturnBound = 10 * time.Second

// token returns a fresh random name part, so that the names and tags one
// run of a suite makes cannot collide with those of another run on the same
// backing platform (a moto server shared by a test binary, a real account).
func token(t *testing.T) string {
	t.Helper()
	b := make([]byte, 4)
	if _, err := rand.Read(b); err != nil {
		t.Fatalf("targettest: making a random name: %v", err)
	}
	return "tt" + hex.EncodeToString(b)
}

// deploymentID returns a fresh deployment ID in CodeDeploy's shape.
func deploymentID(t *testing.T) string {
	return "d-" + strings.ToUpper(token(t)[2:]) + "X"
}

// doneContexts returns a cancelled context and one past its deadline, each
// with the error a call made with it must return.
func doneContexts(parent context.Context) []struct {
	name string
	ctx  context.Context
	want error
} {
	cancelled, cancel := context.WithCancel(parent)
	cancel()
	expired, cancel2 := context.WithDeadline(parent, time.Unix(0, 0))
	cancel2()
	return []struct {
		name string
		ctx  context.Context
		want error
	}{
		{"cancelled", cancelled, context.Canceled},
		{"expired", expired, context.DeadlineExceeded},
	}
}

// promptly runs call and waits at most ReturnBound for it to return, for
// calls made with a done context. It reports false (and fails t) when the
// call did not return in time; the call's goroutine is then left behind.
func promptly(t *testing.T, what string, call func()) bool {
	t.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		call()
	}()
	timer := time.NewTimer(ReturnBound)
	defer timer.Stop()
	select {
	case <-done:
		return true
	case <-timer.C:
		t.Errorf("%s with a done context did not return within %v; a call must return ctx's error at once", what, ReturnBound)
		return false
	}
}

// checkCtxErr reports whether err wraps want, and fails t if not.
func checkCtxErr(t *testing.T, what string, err, want error) bool {
	t.Helper()
	if !errors.Is(err, want) {
		t.Errorf("%s with a done context returned %v; want an error wrapping %v", what, err, want)
		return false
	}
	return true
}

// sameSet reports whether got and want hold the same strings, in any order.
func sameSet(got, want []string) bool {
	return slices.Equal(slices.Sorted(slices.Values(got)), slices.Sorted(slices.Values(want)))
}

// dups returns the strings that appear more than once in s.
func dups(s []string) []string {
	seen := map[string]int{}
	var out []string
	for _, x := range s {
		if seen[x]++; seen[x] == 2 {
			out = append(out, x)
		}
	}
	return out
}

// listOf formats names for a message: sorted, in brackets.
func listOf(names []string) string {
	return fmt.Sprint(slices.Sorted(slices.Values(names)))
}

package revisiontest_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/fleetdeploy/fleetdeploy/revision"
	"github.com/fleetdeploy/fleetdeploy/revision/revisiontest"
)

// brokenSource breaks the Source contract in several ways at once.
type brokenSource struct {
	mem   *revisiontest.MemSource
	opens atomic.Int64
}

func (b *brokenSource) Open(ctx context.Context, loc revision.Location) (*revision.Bundle, error) {
	// Ignores ctx; reports every failure as a plain error.
	bundle, err := b.mem.Open(context.Background(), loc)
	if err != nil {
		return nil, errors.New("broken: " + strings.ReplaceAll(err.Error(), "revision: ", ""))
	}
	// A fresh eTag on every open: the identity is not stable. No Env.
	bundle.Location.S3.ETag = fmt.Sprintf("%032x", b.opens.Add(1))
	bundle.Env = nil
	return bundle, nil
}

const brokenEnv = "REVISIONTEST_RUN_BROKEN_SOURCE"

// TestSuiteOnBrokenSource runs only inside TestSuiteCatchesBrokenSource's
// child process, where it is expected to fail.
func TestSuiteOnBrokenSource(t *testing.T) {
	if os.Getenv(brokenEnv) != "1" {
		t.Log("runs only as the child process of TestSuiteCatchesBrokenSource")
		return
	}
	revisiontest.TestSource(t, func(t *testing.T) (revision.Source, revisiontest.Fixture) {
		src := &brokenSource{mem: revisiontest.NewMemSource()}
		n := 0
		return src, revisiontest.Fixture{
			Put: func(t *testing.T, files map[string]string) revision.Location {
				n++
				loc, err := src.mem.PutFiles(s3loc(fmt.Sprintf("a%d.zip", n), revision.BundleZip), files)
				if err != nil {
					t.Fatal(err)
				}
				return loc
			},
			Missing: func(t *testing.T) revision.Location { return s3loc("none.zip", revision.BundleZip) },
		}
	})
}

// TestSuiteCatchesBrokenSource: the conformance suite reports each broken
// rule of the contract (run in a child process, since the suite fails its
// test).
func TestSuiteCatchesBrokenSource(t *testing.T) {
	cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^TestSuiteOnBrokenSource$", "-test.v")
	cmd.Env = append(os.Environ(), brokenEnv+"=1")
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Fatalf("the suite passed a broken source:\n%s", out)
	}
	for _, want := range []string{
		"--- FAIL: TestSuiteOnBrokenSource/NotFound",
		"want ErrRevisionNotFound",
		"--- FAIL: TestSuiteOnBrokenSource/ContextDone",
		"want context.Canceled",
		"--- FAIL: TestSuiteOnBrokenSource/StableIdentity",
		"resolved to different identities",
		"--- FAIL: TestSuiteOnBrokenSource/OpenUnpacksSeededFiles",
		"Env[BUNDLE_BUCKET]",
		"--- FAIL: TestSuiteOnBrokenSource/InvalidLocation",
		"--- FAIL: TestSuiteOnBrokenSource/UnsupportedType",
		"--- PASS: TestSuiteOnBrokenSource/ReadAppSpec",
	} {
		if !strings.Contains(string(out), want) {
			t.Errorf("suite output lacks %q", want)
		}
	}
	if t.Failed() {
		t.Logf("suite output:\n%s", out)
	}
}

package githubrevision_test

import (
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fleetdeploy/fleetdeploy/deploy/clock"
	"github.com/fleetdeploy/fleetdeploy/deploy/deploytest"
	"github.com/fleetdeploy/fleetdeploy/revision"
	"github.com/fleetdeploy/fleetdeploy/revision/githubrevision"
	"github.com/fleetdeploy/fleetdeploy/revision/revisiontest"
)

var appFiles = map[string]string{
	"appspec.yml":      "version: 0.0\nos: linux\n",
	"scripts/start.sh": "#!/bin/sh\necho start\n",
	"web/index.html":   "<h1>hello</h1>\n",
}

func ghloc(repo, sha string) revision.Location {
	return revision.Location{Type: revision.LocationGitHub, GitHub: &revision.GitHubLocation{Repository: repo, CommitID: sha}}
}

func newSource(t *testing.T, f *fakeGitHub, opts ...func(*githubrevision.Options)) *githubrevision.Source {
	t.Helper()
	base := func(o *githubrevision.Options) {
		o.BaseURL = f.baseURL()
		o.TempDir = t.TempDir()
	}
	src, err := githubrevision.New(f.client(), append([]func(*githubrevision.Options){base}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return src
}

// unpack unpacks b and returns its files and the top directory stripped.
func unpack(t *testing.T, b *revision.Bundle) (map[string]string, string) {
	t.Helper()
	dst := filepath.Join(t.TempDir(), "bundle")
	res, err := revision.Unpack(t.Context(), b, dst)
	if err != nil {
		t.Fatalf("Unpack: %v", err)
	}
	got := map[string]string{}
	err = filepath.WalkDir(dst, func(p string, d os.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		data, err := os.ReadFile(p)
		rel, _ := filepath.Rel(dst, p)
		got[filepath.ToSlash(rel)] = string(data)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return got, res.StrippedDir
}

func sameFiles(t *testing.T, got, want map[string]string) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("unpacked %d files %v, want %d", len(got), got, len(want))
	}
	for p, w := range want {
		if got[p] != w {
			t.Errorf("unpacked %s = %q, want %q", p, got[p], w)
		}
	}
}

func TestConformance(t *testing.T) {
	for _, archive := range []githubrevision.Archive{githubrevision.Tarball, githubrevision.Zipball} {
		t.Run(string(archive), func(t *testing.T) {
			revisiontest.TestSource(t, func(t *testing.T) (revision.Source, revisiontest.Fixture) {
				f := newFakeGitHub(t, false)
				src := newSource(t, f, func(o *githubrevision.Options) { o.Archive = archive })
				return src, revisiontest.Fixture{
					Put: func(t *testing.T, files map[string]string) revision.Location {
						return ghloc("octo/app", f.commit("octo/app", files))
					},
					Missing: func(t *testing.T) revision.Location {
						return ghloc("octo/app", "0123456789abcdef0123456789abcdef01234567")
					},
					Unsupported: []revision.LocationType{revision.LocationS3, revision.LocationAppSpecContent, revision.LocationLocal},
				}
			})
		})
	}
}

// Both archive formats come through the API's redirect to codeload; the
// top directory GitHub adds is stripped on unpacking; the requests carry
// the API's headers and the token.
func TestArchives(t *testing.T) {
	for _, c := range []struct {
		archive githubrevision.Archive
		typ     revision.BundleType
	}{{githubrevision.Tarball, revision.BundleTgz}, {githubrevision.Zipball, revision.BundleZip}} {
		t.Run(string(c.archive), func(t *testing.T) {
			f := newFakeGitHub(t, false)
			f.token = "ghp_secret"
			sha := f.commit("octo/app", appFiles)
			src := newSource(t, f, func(o *githubrevision.Options) {
				o.Archive = c.archive
				o.Token = "ghp_secret"
			})
			b, err := src.Open(t.Context(), ghloc("octo/app", sha))
			if err != nil {
				t.Fatal(err)
			}
			defer b.Close()
			if b.Type != c.typ {
				t.Errorf("bundle type %q, want %q", b.Type, c.typ)
			}
			if b.Env["BUNDLE_COMMIT"] != sha || !b.Location.Equal(ghloc("octo/app", sha)) {
				t.Errorf("Env %v, location %s; want BUNDLE_COMMIT %s and the location opened", b.Env, b.Location, sha)
			}
			files, stripped := unpack(t, b)
			sameFiles(t, files, appFiles)
			if want := "octo-app-" + sha[:7]; stripped != want {
				t.Errorf("stripped top directory %q, want %q", stripped, want)
			}
			if api, load := f.hits(); api != 1 || load != 1 {
				t.Errorf("%d API and %d codeload requests; want one of each (a redirect followed)", api, load)
			}
			h := f.headers[0]
			for k, want := range map[string]string{
				"Authorization":        "Bearer ghp_secret",
				"Accept":               "application/vnd.github+json",
				"X-Github-Api-Version": "2022-11-28",
				"User-Agent":           "fleetdeploy-githubrevision",
			} {
				if h.Get(k) != want {
					t.Errorf("request header %s = %q, want %q", k, h.Get(k), want)
				}
			}
		})
	}
}

// The token goes to the API only: following the redirect to codeload on
// another host drops it.
func TestTokenStaysWithTheAPI(t *testing.T) {
	f := newFakeGitHub(t, true)
	f.token = "ghp_secret"
	sha := f.commit("octo/app", appFiles)
	src := newSource(t, f, func(o *githubrevision.Options) { o.Token = "ghp_secret" })
	b, err := src.Open(t.Context(), ghloc("octo/app", sha))
	if err != nil {
		t.Fatal(err)
	}
	b.Close()
	if len(f.apiAuth) != 1 || f.apiAuth[0] != "Bearer ghp_secret" || len(f.loadAuth) != 1 || f.loadAuth[0] != "" {
		t.Errorf("Authorization sent to the API %q and to codeload %q; want the token to the API only", f.apiAuth, f.loadAuth)
	}
}

// 404 is a missing revision naming repository and commit, not retried;
// a private repository without a token reads the same, with the advice.
func TestNotFound(t *testing.T) {
	f := newFakeGitHub(t, false)
	sha := f.commit("octo/secret", appFiles)
	f.private["octo/secret"] = true
	src := newSource(t, f)
	for _, loc := range []revision.Location{
		ghloc("octo/app", "0123456789abcdef0123456789abcdef01234567"),
		ghloc("octo/secret", sha),
	} {
		before, _ := f.hits()
		b, err := src.Open(t.Context(), loc)
		if !errors.Is(err, revision.ErrRevisionNotFound) {
			b.Close()
			t.Fatalf("Open(%s): err = %v, want ErrRevisionNotFound", loc, err)
		}
		for _, want := range []string{loc.GitHub.Repository, loc.GitHub.CommitID, "Options.Token"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("error %q does not name %s", err, want)
			}
		}
		var he *githubrevision.HTTPError
		if !errors.As(err, &he) || he.StatusCode != 404 || he.Message != "Not Found" {
			t.Errorf("errors.As HTTPError: %+v; want 404 with GitHub's message", he)
		}
		if after, _ := f.hits(); after != before+1 {
			t.Errorf("%d requests for a 404; want 1 (no retries)", after-before)
		}
	}
}

// 401 and 403 are access errors that say what to do with the token; an
// exhausted rate limit says when it resets. None is retried.
func TestAccessErrors(t *testing.T) {
	f := newFakeGitHub(t, false)
	f.token = "ghp_good"
	sha := f.commit("octo/app", appFiles)
	for _, c := range []struct {
		name   string
		token  string
		setup  func()
		target error
		status int
		says   []string
	}{
		{"bad token", "ghp_bad", func() {}, githubrevision.ErrAccessDenied, 401, []string{"refused the token", "Options.Token", "octo/app@" + sha}},
		{"forbidden", "ghp_good", func() { f.forbid = true }, githubrevision.ErrAccessDenied, 403, []string{"lacks access", "Options.Token"}},
		{"rate limit", "", func() { f.failNext(403) }, githubrevision.ErrRateLimited, 403, []string{"rate limit", "2023-11-14T22:13:20Z", "set Options.Token"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			c.setup()
			defer func() { f.forbid = false }()
			src := newSource(t, f, func(o *githubrevision.Options) { o.Token = c.token })
			before, _ := f.hits()
			b, err := src.Open(t.Context(), ghloc("octo/app", sha))
			if !errors.Is(err, c.target) {
				b.Close()
				t.Fatalf("err = %v, want %v", err, c.target)
			}
			for _, want := range c.says {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not say %q", err, want)
				}
			}
			var he *githubrevision.HTTPError
			if !errors.As(err, &he) || he.StatusCode != c.status {
				t.Errorf("errors.As HTTPError: %+v; want status %d", he, c.status)
			}
			if after, _ := f.hits(); after != before+1 {
				t.Errorf("%d requests; want 1 (no retries)", after-before)
			}
		})
	}
}

var t0 = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

// opening is an Open running in a goroutine.
type opening struct {
	done chan struct{} // closed when Open returned
	b    *revision.Bundle
	err  error
}

// open runs src.Open in a goroutine.
func open(ctx context.Context, src *githubrevision.Source, loc revision.Location) *opening {
	op := &opening{done: make(chan struct{})}
	go func() {
		defer close(op.done)
		op.b, op.err = src.Open(ctx, loc)
	}()
	return op
}

// result waits for Open to return.
func (op *opening) result() (*revision.Bundle, error) {
	<-op.done
	return op.b, op.err
}

// advanceOnce waits until Open blocks on the clock, checks that nothing
// happens before the whole delay passed, and fires it. It fails when Open
// returns instead of waiting.
func advanceOnce(t *testing.T, clk *clock.Fake, f *fakeGitHub, op *opening, d time.Duration) {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	go func() {
		select {
		case <-op.done:
			cancel()
		case <-ctx.Done():
		}
	}()
	if err := clk.BlockUntil(ctx, 1); err != nil {
		t.Fatalf("Open returned instead of waiting %s to retry: %v", d, op.err)
	}
	before, _ := f.hits()
	clk.Advance(d - time.Millisecond)
	if clk.Waiters() != 1 {
		t.Fatalf("the retry did not wait its whole %s", d)
	}
	if after, _ := f.hits(); after != before {
		t.Fatalf("a request went out %s into a %s wait", d-time.Millisecond, d)
	}
	clk.Advance(time.Millisecond)
}

// 5xx, 429 and a connection cut mid-body are retried after 10, 30 and
// 90 seconds on the injected clock, like the CodeDeploy agent; the fourth
// attempt succeeds.
func TestRetries(t *testing.T) {
	f := newFakeGitHub(t, false)
	sha := f.commit("octo/app", appFiles)
	clk := deploytest.NewFakeClock(t0)
	src := newSource(t, f, func(o *githubrevision.Options) { o.Clock = clk })
	f.failNext(502, 0, 429)
	op := open(t.Context(), src, ghloc("octo/app", sha))
	for _, d := range []time.Duration{10 * time.Second, 30 * time.Second, 90 * time.Second} {
		advanceOnce(t, clk, f, op, d)
	}
	b, err := op.result()
	if err != nil {
		t.Fatalf("Open after three failures and three retries: %v", err)
	}
	defer b.Close()
	files, _ := unpack(t, b)
	sameFiles(t, files, appFiles)
	if api, _ := f.hits(); api != 4 {
		t.Errorf("%d API requests, want 4", api)
	}
	if waited := clk.Now().Sub(t0); waited != 130*time.Second {
		t.Errorf("waited %s on the clock, want 130s", waited)
	}
}

// A connection closed without an answer is retried too.
func TestRetryAfterHangUp(t *testing.T) {
	f := newFakeGitHub(t, false)
	sha := f.commit("octo/app", appFiles)
	clk := deploytest.NewFakeClock(t0)
	src := newSource(t, f, func(o *githubrevision.Options) {
		o.Clock = clk
		o.RetryDelays = []time.Duration{time.Second}
	})
	f.failNext(hangUp)
	op := open(t.Context(), src, ghloc("octo/app", sha))
	advanceOnce(t, clk, f, op, time.Second)
	b, err := op.result()
	if err != nil {
		t.Fatalf("Open after a hang-up and a retry: %v", err)
	}
	b.Close()
	if api, _ := f.hits(); api != 2 {
		t.Errorf("%d API requests, want 2", api)
	}
}

// After the last retry the error lists every failure.
func TestRetriesRunOut(t *testing.T) {
	f := newFakeGitHub(t, false)
	sha := f.commit("octo/app", appFiles)
	clk := deploytest.NewFakeClock(t0)
	src := newSource(t, f, func(o *githubrevision.Options) {
		o.Clock = clk
		o.RetryDelays = []time.Duration{time.Second, 2 * time.Second}
	})
	f.failNext(500, 503, 504, 500)
	op := open(t.Context(), src, ghloc("octo/app", sha))
	advanceOnce(t, clk, f, op, time.Second)
	advanceOnce(t, clk, f, op, 2*time.Second)
	b, err := op.result()
	if err == nil {
		b.Close()
		t.Fatal("Open succeeded through three failures with two retries")
	}
	for _, want := range []string{"after 2 retries", "500 Internal Server Error", "503 Service Unavailable", "504 Gateway Timeout"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	var he *githubrevision.HTTPError
	if !errors.As(err, &he) || he.StatusCode != 504 {
		t.Errorf("errors.As HTTPError: %+v; want the last answer, 504", he)
	}
	if api, _ := f.hits(); api != 3 {
		t.Errorf("%d API requests, want 3", api)
	}

	// No retries at all.
	none := newSource(t, f, func(o *githubrevision.Options) { o.RetryDelays = []time.Duration{} })
	if b, err := none.Open(t.Context(), ghloc("octo/app", sha)); err == nil || !strings.Contains(err.Error(), "after 0 retries") {
		b.Close()
		t.Errorf("with no retries, Open after a 500: %v", err)
	}
}

// Cancelling the context during the wait between attempts ends Open with
// the context's error.
func TestCancelWhileWaiting(t *testing.T) {
	f := newFakeGitHub(t, false)
	sha := f.commit("octo/app", appFiles)
	clk := deploytest.NewFakeClock(t0)
	src := newSource(t, f, func(o *githubrevision.Options) { o.Clock = clk })
	f.failNext(503)
	ctx, cancel := context.WithCancel(t.Context())
	op := open(ctx, src, ghloc("octo/app", sha))
	if err := clk.BlockUntil(t.Context(), 1); err != nil {
		t.Fatal(err)
	}
	cancel()
	if b, err := op.result(); !errors.Is(err, context.Canceled) {
		b.Close()
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if api, _ := f.hits(); api != 1 {
		t.Errorf("%d requests, want 1", api)
	}
}

// An archive over MaxBytes is refused, and its temporary file removed.
func TestTooLarge(t *testing.T) {
	f := newFakeGitHub(t, false)
	sha := f.commit("octo/app", appFiles)
	tmp := t.TempDir()
	src := newSource(t, f, func(o *githubrevision.Options) {
		o.MaxBytes = 100
		o.TempDir = tmp
	})
	b, err := src.Open(t.Context(), ghloc("octo/app", sha))
	if !errors.Is(err, revision.ErrLimitExceeded) || !strings.Contains(err.Error(), "Options.MaxBytes") {
		b.Close()
		t.Fatalf("err = %v, want ErrLimitExceeded naming Options.MaxBytes", err)
	}
	if ents, _ := os.ReadDir(tmp); len(ents) != 0 {
		t.Errorf("the refused download left %d files in TempDir", len(ents))
	}
}

// Close removes the downloaded archive.
func TestCloseRemovesTheDownload(t *testing.T) {
	f := newFakeGitHub(t, false)
	sha := f.commit("octo/app", appFiles)
	tmp := t.TempDir()
	src := newSource(t, f, func(o *githubrevision.Options) { o.TempDir = tmp })
	b, err := src.Open(t.Context(), ghloc("octo/app", sha))
	if err != nil {
		t.Fatal(err)
	}
	if ents, _ := os.ReadDir(tmp); len(ents) != 1 {
		t.Fatalf("%d files in TempDir while the bundle is open; want the archive", len(ents))
	}
	b.Close()
	if ents, _ := os.ReadDir(tmp); len(ents) != 0 {
		t.Errorf("%d files left in TempDir after Close", len(ents))
	}
}

func TestNew(t *testing.T) {
	for _, c := range []struct {
		name string
		opt  func(*githubrevision.Options)
		says string
	}{
		{"base URL", func(o *githubrevision.Options) { o.BaseURL = "github.example.com/api/v3" }, "BaseURL"},
		{"archive", func(o *githubrevision.Options) { o.Archive = "tar" }, "Archive"},
		{"max bytes", func(o *githubrevision.Options) { o.MaxBytes = -1 }, "MaxBytes"},
		{"delays", func(o *githubrevision.Options) { o.RetryDelays = []time.Duration{-time.Second} }, "RetryDelays[0]"},
	} {
		if _, err := githubrevision.New(http.DefaultClient, c.opt); err == nil || !strings.Contains(err.Error(), c.says) {
			t.Errorf("New with a bad %s: %v; want an error naming %s", c.name, err, c.says)
		}
	}
	if _, err := githubrevision.New(nil); err == nil {
		t.Error("New(nil) succeeded")
	}
}

package githubrevision

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/fleetdeploy/fleetdeploy/deploy/clock"
	"github.com/fleetdeploy/fleetdeploy/revision"
)

// Archive is the archive format Open downloads, spelled as the REST API's
// path spells it.
type Archive string

// The archive formats.
const (
	// Tarball is a gzip-compressed tar (revision.BundleTgz).
	Tarball Archive = "tarball"
	// Zipball is a zip (revision.BundleZip).
	Zipball Archive = "zipball"
)

// Values returns every valid Archive.
func (Archive) Values() []Archive { return []Archive{Tarball, Zipball} }

// DefaultBaseURL is the REST API of github.com.
const DefaultBaseURL = "https://api.github.com"

// DefaultMaxBytes is the default of Options.MaxBytes: the largest archive
// revision.Unpack can accept under its default limits — the content
// (revision.DefaultMaxBytes), plus 1/64 of it, 1 KiB per entry
// (revision.DefaultMaxFiles) and 1 MiB for the archive's own headers.
const DefaultMaxBytes = revision.DefaultMaxBytes + revision.DefaultMaxBytes/64 + int64(revision.DefaultMaxFiles)*1024 + 1<<20

// DefaultRetryDelays returns the default of Options.RetryDelays: the
// CodeDeploy agent's three retries, 10, 30 and 90 seconds apart.
func DefaultRetryDelays() []time.Duration {
	return []time.Duration{10 * time.Second, 30 * time.Second, 90 * time.Second}
}

// Sentinel errors of Open, besides those of the revision.Source contract.
var (
	// ErrAccessDenied is wrapped by the error for an answer 401 or 403
	// (other than the rate limit): GitHub wants a token, or a token with
	// access to the repository.
	ErrAccessDenied = errors.New("githubrevision: access denied")
	// ErrRateLimited is wrapped by the error for an answer 403 saying
	// that the API rate limit is exhausted.
	ErrRateLimited = errors.New("githubrevision: GitHub API rate limit exceeded")
)

// HTTPError is a GitHub answer other than 200 OK. Open's errors wrap it.
type HTTPError struct {
	// URL is the URL requested (the API's, before any redirect).
	URL string
	// StatusCode and Status are the answer's, e.g. 404 and "404 Not Found".
	StatusCode int
	Status     string
	// Message is GitHub's explanation (the "message" of its JSON error
	// body), or "" when the body held none.
	Message string
	// RateLimitReset is when the rate limit resets (X-RateLimit-Reset),
	// or the zero time when the answer did not say.
	RateLimitReset time.Time
}

// Error reads "GET URL: 404 Not Found (Not Found)".
func (e *HTTPError) Error() string {
	s := "GET " + e.URL + ": " + e.Status
	if e.Message != "" {
		s += " (" + e.Message + ")"
	}
	return s
}

// Options are the source's optional settings; New fills in defaults for
// zero fields.
type Options struct {
	// BaseURL is the REST API's root: DefaultBaseURL for github.com,
	// "https://HOST/api/v3" for GitHub Enterprise Server.
	BaseURL string
	// Token, when set, is sent as "Authorization: Bearer TOKEN" (a
	// personal access token, fine-grained with Contents: read or classic
	// with the repo scope, or an app installation token). Public
	// repositories need none, but the anonymous rate limit is low.
	Token string
	// Archive is the format downloaded. Default Tarball.
	Archive Archive
	// RetryDelays are the waits before the retries of a download that
	// failed in a way worth retrying: one retry per entry. Nil means
	// DefaultRetryDelays(); an empty, non-nil slice means no retries.
	RetryDelays []time.Duration
	// MaxBytes bounds the archive's size; a larger one fails with an
	// error wrapping revision.ErrLimitExceeded. Default DefaultMaxBytes.
	MaxBytes int64
	// TempDir is where archives are downloaded to. Default os.TempDir().
	TempDir string
	// UserAgent is sent with every request (GitHub refuses requests
	// without one). Default "fleetdeploy-githubrevision".
	UserAgent string
	// Clock is what the source waits on between attempts. Default
	// clock.System().
	Clock clock.Clock
	// Logger receives a record per retry (info) and per opened bundle
	// (debug). Default: discarded.
	Logger *slog.Logger
}

// Source is a revision.Source for GitHub locations. It is safe for
// concurrent use. Use New.
type Source struct {
	client *http.Client
	base   string
	opt    Options
}

var _ revision.Source = (*Source)(nil)

// New returns a Source making its requests with client.
func New(client *http.Client, opts ...func(*Options)) (*Source, error) {
	if client == nil {
		return nil, errors.New("githubrevision: New: the HTTP client is nil (pass http.DefaultClient for the default)")
	}
	var o Options
	for _, f := range opts {
		f(&o)
	}
	if o.BaseURL == "" {
		o.BaseURL = DefaultBaseURL
	}
	if o.Archive == "" {
		o.Archive = Tarball
	}
	if o.RetryDelays == nil {
		o.RetryDelays = DefaultRetryDelays()
	}
	if o.MaxBytes == 0 {
		o.MaxBytes = DefaultMaxBytes
	}
	if o.UserAgent == "" {
		o.UserAgent = "fleetdeploy-githubrevision"
	}
	if o.Clock == nil {
		o.Clock = clock.System()
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	u, err := url.Parse(o.BaseURL)
	switch {
	case err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" || u.Fragment != "":
		return nil, fmt.Errorf("githubrevision: New: Options.BaseURL %q is not an http(s) URL such as %s or https://HOST/api/v3", o.BaseURL, DefaultBaseURL)
	case o.Archive != Tarball && o.Archive != Zipball:
		return nil, fmt.Errorf("githubrevision: New: Options.Archive %q is not %q or %q", o.Archive, Tarball, Zipball)
	case o.MaxBytes < 0:
		return nil, fmt.Errorf("githubrevision: New: Options.MaxBytes must be positive; got %d", o.MaxBytes)
	}
	for i, d := range o.RetryDelays {
		if d < 0 {
			return nil, fmt.Errorf("githubrevision: New: Options.RetryDelays[%d] is negative (%s)", i, d)
		}
	}
	o.RetryDelays = append([]time.Duration(nil), o.RetryDelays...)
	return &Source{client: client, base: strings.TrimRight(o.BaseURL, "/"), opt: o}, nil
}

// Open downloads the archive of the commit loc names; see revision.Source
// for the contract and the package documentation for retries and errors.
// Besides the contract's errors it returns errors wrapping ErrAccessDenied,
// ErrRateLimited and revision.ErrLimitExceeded.
func (s *Source) Open(ctx context.Context, loc revision.Location) (*revision.Bundle, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if loc.Type != revision.LocationGitHub {
		return nil, fmt.Errorf("githubrevision: the GitHub source does not serve location type %q (it serves GitHub): %w", loc.Type, revision.ErrUnsupportedLocation)
	}
	if err := loc.Validate(); err != nil {
		return nil, err
	}
	g := *loc.GitHub
	owner, repo, _ := strings.Cut(g.Repository, "/")
	u := s.base + "/repos/" + url.PathEscape(owner) + "/" + url.PathEscape(repo) + "/" + string(s.opt.Archive) + "/" + url.PathEscape(g.CommitID)

	var failures []string
	for attempt := 0; ; attempt++ {
		f, err := s.download(ctx, u, g)
		if err == nil {
			resolved := revision.Location{Type: revision.LocationGitHub, GitHub: &g}
			typ := revision.BundleTgz
			if s.opt.Archive == Zipball {
				typ = revision.BundleZip
			}
			s.opt.Logger.DebugContext(ctx, "githubrevision: opened bundle", "repository", g.Repository, "commit", g.CommitID, "archive", s.opt.Archive, "attempts", attempt+1)
			return &revision.Bundle{Type: typ, Location: resolved, Env: revision.BundleEnv(resolved), Body: f}, nil
		}
		var r *retryable
		if !errors.As(err, &r) {
			return nil, err
		}
		if attempt >= len(s.opt.RetryDelays) {
			earlier := ""
			if len(failures) > 0 {
				earlier = " (earlier attempts: " + strings.Join(failures, "; ") + ")"
			}
			return nil, fmt.Errorf("githubrevision: could not download the %s of %s after %d retries%s: %w",
				s.opt.Archive, loc, attempt, earlier, r.err)
		}
		failures = append(failures, statusOf(r.err))
		wait := s.opt.RetryDelays[attempt]
		s.opt.Logger.InfoContext(ctx, "githubrevision: download failed; retrying",
			"repository", g.Repository, "commit", g.CommitID, "attempt", attempt+1, "wait", wait, "err", r.err)
		if err := clock.Sleep(ctx, s.opt.Clock, wait); err != nil {
			return nil, fmt.Errorf("githubrevision: waiting to retry the download of %s (after %s): %w", loc, strings.Join(failures, "; "), err)
		}
	}
}

// statusOf names a failed attempt briefly: the answer's status, or the
// error.
func statusOf(err error) string {
	var he *HTTPError
	if errors.As(err, &he) {
		return he.Status
	}
	return err.Error()
}

// retryable marks a failure worth another attempt.
type retryable struct{ err error }

func (r *retryable) Error() string { return r.err.Error() }
func (r *retryable) Unwrap() error { return r.err }

// download makes one attempt: GET u, following redirects, into a
// temporary file.
func (s *Source) download(ctx context.Context, u string, g revision.GitHubLocation) (*spoolFile, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, fmt.Errorf("githubrevision: request for %s: %w", u, err)
	}
	req.Header.Set("Accept", "application/vnd.github+json")
	req.Header.Set("X-GitHub-Api-Version", "2022-11-28")
	req.Header.Set("User-Agent", s.opt.UserAgent)
	if s.opt.Token != "" {
		req.Header.Set("Authorization", "Bearer "+s.opt.Token)
	}
	resp, err := s.client.Do(req)
	if err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil {
			return nil, fmt.Errorf("githubrevision: GET %s: %w", u, ctxErr)
		}
		return nil, &retryable{fmt.Errorf("githubrevision: GET %s: %w", u, err)}
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, s.statusError(u, g, resp)
	}
	if resp.ContentLength > s.opt.MaxBytes {
		return nil, fmt.Errorf("githubrevision: the %s of %s@%s is %d bytes, more than the %d the source accepts (Options.MaxBytes): %w",
			s.opt.Archive, g.Repository, g.CommitID, resp.ContentLength, s.opt.MaxBytes, revision.ErrLimitExceeded)
	}
	f, err := os.CreateTemp(s.opt.TempDir, "githubrevision-*."+string(s.opt.Archive))
	if err != nil {
		return nil, fmt.Errorf("githubrevision: temporary file for the archive (Options.TempDir): %w", err)
	}
	sf := &spoolFile{File: f}
	n, err := io.Copy(f, io.LimitReader(resp.Body, s.opt.MaxBytes+1))
	switch {
	case err != nil:
		sf.Close()
		if ctxErr := ctx.Err(); ctxErr != nil {
			return nil, fmt.Errorf("githubrevision: reading %s: %w", u, ctxErr)
		}
		var pe *os.PathError
		if errors.As(err, &pe) {
			return nil, fmt.Errorf("githubrevision: writing the archive to %s: %w", f.Name(), err)
		}
		return nil, &retryable{fmt.Errorf("githubrevision: reading %s: %w", u, err)}
	case n > s.opt.MaxBytes:
		sf.Close()
		return nil, fmt.Errorf("githubrevision: the %s of %s@%s holds more than the %d bytes the source accepts (Options.MaxBytes): %w",
			s.opt.Archive, g.Repository, g.CommitID, s.opt.MaxBytes, revision.ErrLimitExceeded)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		sf.Close()
		return nil, fmt.Errorf("githubrevision: rewinding the archive %s: %w", f.Name(), err)
	}
	return sf, nil
}

// statusError explains an answer other than 200.
func (s *Source) statusError(u string, g revision.GitHubLocation, resp *http.Response) error {
	he := &HTTPError{URL: u, StatusCode: resp.StatusCode, Status: resp.Status}
	var body struct {
		Message string `json:"message"`
	}
	if data, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10)); err == nil && json.Unmarshal(data, &body) == nil {
		he.Message = body.Message
	}
	if sec, err := strconv.ParseInt(resp.Header.Get("X-RateLimit-Reset"), 10, 64); err == nil {
		he.RateLimitReset = time.Unix(sec, 0).UTC()
	}
	commit := g.Repository + "@" + g.CommitID
	token := "no token is set: set Options.Token to a token that can read it"
	if s.opt.Token != "" {
		token = "the token cannot see it: give the token read access to its contents"
	}
	switch code := resp.StatusCode; {
	case code == http.StatusNotFound:
		return fmt.Errorf("githubrevision: GitHub has no commit %s in repository %s, or the repository is private and %s: %w: %w",
			g.CommitID, g.Repository, token, revision.ErrRevisionNotFound, he)
	case code == http.StatusForbidden && resp.Header.Get("X-RateLimit-Remaining") == "0":
		when := "later"
		if !he.RateLimitReset.IsZero() {
			when = "after " + he.RateLimitReset.Format(time.RFC3339)
		}
		advice := "set Options.Token: authenticated requests have a higher limit"
		if s.opt.Token != "" {
			advice = "the token's limit is spent"
		}
		return fmt.Errorf("githubrevision: downloading %s: GitHub's API rate limit is exhausted; try again %s (%s): %w: %w", commit, when, advice, ErrRateLimited, he)
	case code == http.StatusUnauthorized && s.opt.Token != "":
		return fmt.Errorf("githubrevision: downloading %s: GitHub refused the token (bad or expired credentials): set Options.Token to a valid token with read access to the repository's contents: %w: %w", commit, ErrAccessDenied, he)
	case code == http.StatusUnauthorized || code == http.StatusForbidden:
		advice := "set Options.Token to a token with read access to the repository's contents"
		if s.opt.Token != "" {
			advice = "the token lacks access: give it read access to the repository's contents, or set Options.Token to one that has it"
		}
		return fmt.Errorf("githubrevision: downloading %s: GitHub denied access; %s: %w: %w", commit, advice, ErrAccessDenied, he)
	case code == http.StatusTooManyRequests || code >= 500:
		return &retryable{fmt.Errorf("githubrevision: downloading %s: %w", commit, he)}
	}
	return fmt.Errorf("githubrevision: downloading %s: unexpected answer: %w", commit, he)
}

// spoolFile is a downloaded archive, removed when closed.
type spoolFile struct {
	*os.File
	closed bool
}

// Close closes and removes the file.
func (s *spoolFile) Close() error {
	if s.closed {
		return nil
	}
	s.closed = true
	err := s.File.Close()
	if rerr := os.Remove(s.File.Name()); rerr != nil && !errors.Is(rerr, os.ErrNotExist) && err == nil {
		err = rerr
	}
	return err
}

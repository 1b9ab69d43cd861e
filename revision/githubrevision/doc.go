// Package githubrevision is a revision.Source for GitHub revisions: the
// archive of a repository's commit, CodeDeploy's RevisionLocation with
// revisionType GitHub, downloaded through the GitHub REST API ("Download a
// repository archive (tar)" and "(zip)": GET /repos/{owner}/{repo}/tarball/{ref}
// and /zipball/{ref}).
//
//	src, err := githubrevision.New(http.DefaultClient, func(o *githubrevision.Options) {
//		o.Token = os.Getenv("GITHUB_TOKEN")             // optional for public repositories
//		o.BaseURL = "https://github.example.com/api/v3" // GitHub Enterprise Server
//	})
//
// It uses plain net/http through the injected *http.Client: the API
// answers with a redirect (302) to a codeload URL, which the client
// follows (net/http drops the Authorization header when the redirect
// leaves the API's host, and codeload URLs need none).
//
// # Download and retries
//
// Open downloads the archive whole into a temporary file (Options.TempDir)
// before it returns, as the CodeDeploy agent downloads it to disk: a
// failed download is retried from the start, and a zipball can be read in
// place. The bundle's Body is that file, removed on Close. The archive's
// size is bounded by Options.MaxBytes (checked against Content-Length
// before the download when GitHub sends one, and while reading).
//
// Answers 5xx and 429 and network failures (no answer, or an answer cut
// short) are retried, waiting Options.RetryDelays between attempts on
// Options.Clock: by default 10, 30 and 90 seconds, the CodeDeploy agent's
// three retries. Other answers are final:
//
//   - 404: no such repository or commit — or a private repository the
//     token cannot see, which GitHub answers the same way: an error
//     wrapping revision.ErrRevisionNotFound (CodeDeploy's
//     REVISION_MISSING) that names the repository and commit;
//   - 401 and 403: the token is missing, invalid or lacks access: an
//     error wrapping ErrAccessDenied that says to set Options.Token;
//   - 403 with the rate limit exhausted (X-RateLimit-Remaining: 0): an
//     error wrapping ErrRateLimited that says when the limit resets.
//
// Every answer that is not 200 is reported as an *HTTPError, with
// GitHub's message, reachable with errors.As.
//
// # The archive's top directory
//
// GitHub puts every file of an archive under one top directory,
// "{owner}-{repo}-{short sha}/". The bundle is handed over as GitHub
// serves it; revision.Unpack and revision.ReadAppSpec strip that directory
// under their single-top-directory rule — the rule the CodeDeploy agent
// applies to every archive after unpacking it (the top directory, when it
// is the only root entry and holds the AppSpec file, becomes the
// deployment's root). UnpackResult.StrippedDir names it.
//
// # Bundle and identity
//
// A tarball is a revision.BundleTgz, a zipball a revision.BundleZip
// (Options.Archive picks; the agent takes the tarball on Linux and the
// zipball on Windows). The resolved location is the location opened:
// repository and commit ID are the revision's identity, and Bundle.Env
// holds BUNDLE_COMMIT.
package githubrevision

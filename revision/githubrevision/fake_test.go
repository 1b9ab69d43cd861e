package githubrevision_test

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeGitHub speaks the part of GitHub's REST API that downloads archives,
// with the answers' real shapes: GET {base}/repos/{owner}/{repo}/tarball/{ref}
// (or zipball) answers 302 with a codeload URL, whose archive holds the
// files under "{owner}-{repo}-{sha7}/" (a tarball also has git archive's
// pax global header); errors are JSON {"message", "documentation_url"}.
type fakeGitHub struct {
	api      *httptest.Server // serves /api/v3/...
	codeload *httptest.Server // serves the archives; may be api itself
	loadURL  string           // the codeload server's URL in redirects

	mu       sync.Mutex
	commits  map[string]map[string]string // "owner/repo@sha" -> files
	private  map[string]bool              // repositories that need the token
	token    string                       // the token that can read private repositories
	forbid   bool                         // answer 403 to the token
	failures []int                        // statuses to answer first, one per request (0: cut the archive short; hangUp)
	apiHits  int
	loadHits int
	apiAuth  []string // Authorization headers seen by the API
	loadAuth []string // ... and by codeload
	headers  []http.Header
}

// newFakeGitHub starts the fake; with separateCodeload the archives come
// from another server (another host, as codeload.github.com is).
func newFakeGitHub(t *testing.T, separateCodeload bool) *fakeGitHub {
	f := &fakeGitHub{commits: map[string]map[string]string{}, private: map[string]bool{}}
	f.api = httptest.NewServer(http.HandlerFunc(f.serveAPI))
	t.Cleanup(f.api.Close)
	f.codeload, f.loadURL = f.api, f.api.URL
	if separateCodeload {
		f.codeload = httptest.NewServer(http.HandlerFunc(f.serveCodeload))
		t.Cleanup(f.codeload.Close)
		f.loadURL = "http://" + codeloadHost
	}
	return f
}

// codeloadHost is the separate codeload server's host name in redirects:
// net/http sends the Authorization header on to a redirect's host only
// when it is the original host (whatever the port) or under it.
const codeloadHost = "codeload.test"

// client returns an HTTP client that reaches the separate codeload server
// by its host name.
func (f *fakeGitHub) client() *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	dial := tr.DialContext
	tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		if addr == codeloadHost+":80" {
			addr = f.codeload.Listener.Addr().String()
		}
		return dial(ctx, network, addr)
	}
	return &http.Client{Transport: tr}
}

// baseURL is the API's root, GitHub Enterprise style.
func (f *fakeGitHub) baseURL() string { return f.api.URL + "/api/v3" }

// commit stores files as a new commit of repo and returns its SHA.
func (f *fakeGitHub) commit(repo string, files map[string]string) string {
	var b [20]byte
	rand.Read(b[:])
	sha := hex.EncodeToString(b[:])
	f.mu.Lock()
	defer f.mu.Unlock()
	f.commits[repo+"@"+sha] = maps.Clone(files)
	return sha
}

// hangUp, as a failure, closes the connection without an answer.
const hangUp = -2

func (f *fakeGitHub) failNext(statuses ...int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.failures = append(f.failures, statuses...)
}

func (f *fakeGitHub) hits() (api, codeload int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.apiHits, f.loadHits
}

func writeError(w http.ResponseWriter, status int, message, doc string) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	fmt.Fprintf(w, `{"message":%q,"documentation_url":%q,"status":"%d"}`, message, doc, status)
}

const archiveDoc = "https://docs.github.com/rest/repos/contents#download-a-repository-archive-tar"

func (f *fakeGitHub) serveAPI(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, "/codeload/") {
		f.serveCodeload(w, r)
		return
	}
	f.mu.Lock()
	f.apiHits++
	f.apiAuth = append(f.apiAuth, r.Header.Get("Authorization"))
	f.headers = append(f.headers, r.Header.Clone())
	var fail = -1
	if len(f.failures) > 0 {
		fail, f.failures = f.failures[0], f.failures[1:]
	}
	f.mu.Unlock()
	w.Header().Set("X-GitHub-Api-Version-Selected", "2022-11-28")
	switch {
	case fail == hangUp:
		panic(http.ErrAbortHandler)
	case fail == 0:
		// Cut short: the redirect goes to a body that breaks off.
		http.Redirect(w, r, f.loadURL+"/codeload/broken", http.StatusFound)
		return
	case fail == http.StatusForbidden:
		w.Header().Set("X-RateLimit-Limit", "60")
		w.Header().Set("X-RateLimit-Remaining", "0")
		w.Header().Set("X-RateLimit-Reset", "1700000000")
		writeError(w, fail, "API rate limit exceeded for 192.0.2.1. (But here's the good news: Authenticated requests get a higher rate limit.)", "https://docs.github.com/rest/overview/resources-in-the-rest-api#rate-limiting")
		return
	case fail > 0:
		writeError(w, fail, http.StatusText(fail), "")
		return
	}
	parts := strings.Split(strings.TrimPrefix(r.URL.Path, "/api/v3/repos/"), "/")
	if !strings.HasPrefix(r.URL.Path, "/api/v3/repos/") || len(parts) != 4 || (parts[2] != "tarball" && parts[2] != "zipball") {
		writeError(w, http.StatusNotFound, "Not Found", "https://docs.github.com/rest")
		return
	}
	repo, kind, ref := parts[0]+"/"+parts[1], parts[2], parts[3]
	auth := r.Header.Get("Authorization")
	f.mu.Lock()
	_, ok := f.commits[repo+"@"+ref]
	private, token, forbid := f.private[repo], f.token, f.forbid
	f.mu.Unlock()
	switch {
	case auth != "" && auth != "Bearer "+token:
		writeError(w, http.StatusUnauthorized, "Bad credentials", "https://docs.github.com/rest")
		return
	case auth != "" && forbid:
		writeError(w, http.StatusForbidden, "Resource not accessible by personal access token", archiveDoc)
		return
	case !ok || (private && auth == ""):
		writeError(w, http.StatusNotFound, "Not Found", archiveDoc)
		return
	}
	ext := "tar.gz"
	if kind == "zipball" {
		ext = "zip"
	}
	http.Redirect(w, r, fmt.Sprintf("%s/codeload/%s/legacy.%s/%s", f.loadURL, repo, ext, ref), http.StatusFound)
}

func (f *fakeGitHub) serveCodeload(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.loadHits++
	f.loadAuth = append(f.loadAuth, r.Header.Get("Authorization"))
	f.mu.Unlock()
	if r.URL.Path == "/codeload/broken" {
		// Promise a megabyte, send a little, hang up.
		w.Header().Set("Content-Length", "1048576")
		w.WriteHeader(http.StatusOK)
		w.Write(bytes.Repeat([]byte{0x1f}, 1000))
		w.(http.Flusher).Flush()
		panic(http.ErrAbortHandler)
	}
	// /codeload/{owner}/{repo}/legacy.{ext}/{sha}
	parts := strings.Split(strings.TrimPrefix(r.URL.Path, "/codeload/"), "/")
	if len(parts) != 4 {
		http.NotFound(w, r)
		return
	}
	owner, repo, sha := parts[0], parts[1], parts[3]
	f.mu.Lock()
	files, ok := f.commits[owner+"/"+repo+"@"+sha]
	f.mu.Unlock()
	if !ok {
		http.NotFound(w, r)
		return
	}
	top := fmt.Sprintf("%s-%s-%s/", owner, repo, sha[:7])
	var data []byte
	var err error
	if parts[2] == "legacy.zip" {
		w.Header().Set("Content-Type", "application/zip")
		data, err = buildZipball(top, sha, files)
	} else {
		w.Header().Set("Content-Type", "application/x-gzip")
		data, err = buildTarball(top, sha, files)
	}
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Disposition", fmt.Sprintf("attachment; filename=%s%s", strings.TrimSuffix(top, "/"), strings.TrimPrefix(parts[2], "legacy")))
	w.Write(data)
}

// dirs returns the directories of files, parents first.
func dirs(files map[string]string) []string {
	set := map[string]bool{}
	for p := range files {
		for d := p; strings.Contains(d, "/"); {
			d = d[:strings.LastIndex(d, "/")]
			set[d+"/"] = true
		}
	}
	return slices.Sorted(maps.Keys(set))
}

var commitTime = time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)

// buildTarball builds a tarball as git archive does: a pax global header
// holding the commit, then the top directory and everything under it.
func buildTarball(top, sha string, files map[string]string) ([]byte, error) {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	hdrs := []*tar.Header{
		{Typeflag: tar.TypeXGlobalHeader, PAXRecords: map[string]string{"comment": sha}},
		{Typeflag: tar.TypeDir, Name: top, Mode: 0o775, ModTime: commitTime},
	}
	for _, d := range dirs(files) {
		hdrs = append(hdrs, &tar.Header{Typeflag: tar.TypeDir, Name: top + d, Mode: 0o775, ModTime: commitTime})
	}
	for _, h := range hdrs {
		if err := tw.WriteHeader(h); err != nil {
			return nil, err
		}
	}
	for _, p := range slices.Sorted(maps.Keys(files)) {
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: top + p, Mode: 0o664, Size: int64(len(files[p])), ModTime: commitTime}); err != nil {
			return nil, err
		}
		tw.Write([]byte(files[p]))
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// buildZipball builds a zipball: the commit as the archive's comment, the
// top directory and everything under it.
func buildZipball(top, sha string, files map[string]string) ([]byte, error) {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	zw.SetComment(sha)
	for _, d := range append([]string{""}, dirs(files)...) {
		if _, err := zw.CreateHeader(&zip.FileHeader{Name: top + d, Modified: commitTime}); err != nil {
			return nil, err
		}
	}
	for _, p := range slices.Sorted(maps.Keys(files)) {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: top + p, Method: zip.Deflate, Modified: commitTime})
		if err != nil {
			return nil, err
		}
		w.Write([]byte(files[p]))
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

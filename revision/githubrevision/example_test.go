package githubrevision_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"

	"github.com/fleetdeploy/fleetdeploy/revision"
	"github.com/fleetdeploy/fleetdeploy/revision/githubrevision"
)

// Download a commit's tarball from a GitHub Enterprise Server (here an
// httptest server answering like one: a redirect to codeload, then the
// archive under its "owner-repo-sha/" directory) and unpack it.
func Example() {
	const sha = "7fd1a60b01f91b314f59955a4e4d4e80d8edf11d"
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/v3/repos/octocat/hello/tarball/{ref}", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/codeload/octocat/hello/legacy.tar.gz/"+r.PathValue("ref"), http.StatusFound)
	})
	mux.HandleFunc("GET /codeload/octocat/hello/legacy.tar.gz/{ref}", func(w http.ResponseWriter, r *http.Request) {
		data, _ := buildTarball("octocat-hello-"+sha[:7]+"/", sha, map[string]string{
			"appspec.yml":     "version: 0.0\nos: linux\n",
			"scripts/run.sh":  "#!/bin/sh\n",
			"public/index.md": "# hello\n",
		})
		w.Write(data)
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()

	src, err := githubrevision.New(http.DefaultClient, func(o *githubrevision.Options) {
		o.BaseURL = srv.URL + "/api/v3"
		o.Token = "ghp_example"
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx := context.Background()
	b, err := src.Open(ctx, revision.Location{
		Type:   revision.LocationGitHub,
		GitHub: &revision.GitHubLocation{Repository: "octocat/hello", CommitID: sha},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer b.Close()
	tmp, _ := os.MkdirTemp("", "githubrevision-example-")
	defer os.RemoveAll(tmp)
	dst := filepath.Join(tmp, "bundle")
	res, err := revision.Unpack(ctx, b, dst)
	if err != nil {
		fmt.Println(err)
		return
	}
	var files []string
	filepath.WalkDir(dst, func(p string, d os.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			rel, _ := filepath.Rel(dst, p)
			files = append(files, filepath.ToSlash(rel))
		}
		return err
	})
	fmt.Println("bundle:", b.Type, "commit:", b.Env["BUNDLE_COMMIT"][:7])
	fmt.Println("stripped:", res.StrippedDir)
	fmt.Println("files:", strings.Join(files, " "))
	// Output:
	// bundle: tgz commit: 7fd1a60
	// stripped: octocat-hello-7fd1a60
	// files: appspec.yml public/index.md scripts/run.sh
}

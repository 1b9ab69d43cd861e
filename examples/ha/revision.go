//go:build linux

package main

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/fleetdeploy/fleetdeploy/revision"
	"github.com/fleetdeploy/fleetdeploy/target"
)

// hookEvents are the events whose scripts the revisions list: every hook
// of an in-place deployment without a load balancer.
var hookEvents = []target.LifecycleEvent{target.ApplicationStop, target.BeforeInstall, target.AfterInstall,
	target.ApplicationStart, target.ValidateService}

// versions are the revisions: v1 gives the fleet its history (instances
// that never had a revision are Unhealthy, and would not count towards
// the minimum), v2 is the deployment the executors share.
var versions = []string{"v1", "v2"}

// hookScript is every hook of the revisions: it hands over to this
// program in its hook role (hookMain), which logs the run and works for a
// while.
const hookScript = `#!/bin/sh
# One script for every hook: the example program logs the run to the
# shared hook log and works for $` + envHookTime + `.
` + roleEnv + `=hook exec "$` + envProgram + `"
`

// appspec returns the AppSpec of the revisions: a page to install, and
// hookScript for every hook event.
func appspec() string {
	var b strings.Builder
	b.WriteString("version: 0.0\nos: linux\nfiles:\n  - source: site\n    destination: /var/www\nhooks:\n")
	for _, e := range hookEvents {
		fmt.Fprintf(&b, "  %s:\n    - location: scripts/hook.sh\n      timeout: 60\n", e)
	}
	return b.String()
}

// writeRevisions writes the bundles of versions into dir as <version>.tgz
// and returns their locations (with their SHA-256, part of a revision's
// identity) and the source that serves them.
func writeRevisions(ctx context.Context, dir string) (map[string]revision.Location, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	src, err := revision.NewLocalSource(func(o *revision.LocalOptions) { o.Root = dir })
	if err != nil {
		return nil, err
	}
	locs := map[string]revision.Location{}
	for _, v := range versions {
		files := map[string]string{
			"appspec.yml":     appspec(),
			"site/index.html": "<!doctype html>\n<title>shop " + v + "</title>\n",
			"scripts/hook.sh": hookScript,
		}
		if err := writeBundle(filepath.Join(dir, v+".tgz"), files); err != nil {
			return nil, fmt.Errorf("revision %s: %w", v, err)
		}
		b, err := src.Open(ctx, revision.Location{Type: revision.LocationLocal, Local: &revision.LocalLocation{Path: v + ".tgz"}})
		if err != nil {
			return nil, err
		}
		locs[v] = b.Location
		if err := b.Close(); err != nil {
			return nil, err
		}
	}
	return locs, nil
}

// newSource returns the source of the bundles writeRevisions wrote into
// dir.
func newSource(dir string) (*revision.LocalSource, error) {
	return revision.NewLocalSource(func(o *revision.LocalOptions) { o.Root = dir })
}

// writeBundle writes files (by path) as a gzip-compressed tar archive to
// dst; .sh files are executable.
func writeBundle(dst string, files map[string]string) (err error) {
	f, err := os.Create(dst)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}()
	zw := gzip.NewWriter(f)
	tw := tar.NewWriter(zw)
	for _, name := range []string{"appspec.yml", "site/index.html", "scripts/hook.sh"} {
		mode := int64(0o644)
		if strings.HasSuffix(name, ".sh") {
			mode = 0o755
		}
		body := files[name]
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: mode, Size: int64(len(body)), Typeflag: tar.TypeReg}); err != nil {
			return err
		}
		if _, err := tw.Write([]byte(body)); err != nil {
			return err
		}
	}
	if err := tw.Close(); err != nil {
		return err
	}
	return zw.Close()
}

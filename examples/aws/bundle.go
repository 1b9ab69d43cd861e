package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"fmt"
	"slices"
	"strings"
)

// versions are the revisions the story uploads, in order.
var versions = [...]string{"v1", "v2"}

// Instance paths the story reads, relative to an instance's root.
const (
	pageFile   = "var/www/index.html"
	markerFile = "var/run/app/version"
	appLogFile = "var/log/app.log"
)

// The bundle: site/index.html goes to /var/www; ApplicationStop removes
// the version marker, ApplicationStart writes it, ValidateService checks
// the page and the marker. Every hook appends a line to /var/log/app.log
// naming its deployment and the S3 object version it came from. v2's
// ValidateService first warms a page cache for a second, which is when the
// story's alarm goes off.
const appspec = `version: 0.0
os: linux
files:
  - source: site
    destination: /var/www
hooks:
  ApplicationStop:
    - location: scripts/stop.sh
      timeout: 30
  ApplicationStart:
    - location: scripts/start.sh
      timeout: 30
  ValidateService:
    - location: scripts/validate.sh
      timeout: 30
`

// logLine starts every hook: it appends to the instance's application log.
const logLine = `root=$FLEETDEPLOY_INSTANCE_ROOT
mkdir -p "$root/var/log" "$root/var/run/app"
echo "$LIFECYCLE_EVENT {v} deployment=$DEPLOYMENT_ID s3-version=$BUNDLE_VERSION" >> "$root/var/log/app.log"
`

// bundleFiles returns the files of revision version, by path.
func bundleFiles(version string) map[string]string {
	sh := func(body string) string { return "#!/bin/sh\nset -eu\n" + logLine + body }
	validate := `grep -q "shop {v}" "$root/var/www/index.html" || { echo "/var/www/index.html does not serve {v}" >&2; exit 1; }
[ "$(cat "$root/var/run/app/version")" = {v} ] || { echo "the app does not run {v}" >&2; exit 1; }
echo "$FLEETDEPLOY_INSTANCE_ID: serving {v}"
`
	if version == "v2" {
		validate = `echo "warming the page cache"
sleep 1
` + validate
	}
	files := map[string]string{
		"appspec.yml":     appspec,
		"site/index.html": "<!doctype html>\n<title>shop {v}</title>\n<h1>Hello from shop {v}</h1>\n",
		"scripts/stop.sh": sh(`rm -f "$root/var/run/app/version"
`),
		"scripts/start.sh": sh(`echo {v} > "$root/var/run/app/version"
`),
		"scripts/validate.sh": sh(validate),
	}
	for name, body := range files {
		files[name] = strings.ReplaceAll(body, "{v}", version)
	}
	return files
}

// bundle returns revision version packed as a gzip-compressed tar archive.
func bundle(version string) ([]byte, error) {
	files := bundleFiles(version)
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	names := make([]string, 0, len(files))
	for name := range files {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		mode := int64(0o644)
		if strings.HasSuffix(name, ".sh") {
			mode = 0o755
		}
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: mode, Size: int64(len(files[name])), Typeflag: tar.TypeReg}); err != nil {
			return nil, fmt.Errorf("packing %s: %w", version, err)
		}
		if _, err := tw.Write([]byte(files[name])); err != nil {
			return nil, fmt.Errorf("packing %s: %w", version, err)
		}
	}
	if err := tw.Close(); err != nil {
		return nil, fmt.Errorf("packing %s: %w", version, err)
	}
	if err := zw.Close(); err != nil {
		return nil, fmt.Errorf("packing %s: %w", version, err)
	}
	return buf.Bytes(), nil
}

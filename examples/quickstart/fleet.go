package main

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/fleetdeploy/fleetdeploy/revision"
	"github.com/fleetdeploy/fleetdeploy/target"
	"github.com/fleetdeploy/fleetdeploy/target/localtarget"
)

// zones are the availability zones the instances are spread over, round
// robin.
var zones = [...]string{"zone-a", "zone-b", "zone-c"}

// cast is who plays which part in the story, decided from the fleet size
// alone (see the package documentation).
type cast struct {
	// ids are the instance IDs in order: web-01, web-02, ...
	ids []string
	// zone maps an instance ID to its zone.
	zone map[string]string
	// maintenance are the instances in maintenance mode while v0 goes
	// out: v0's ApplicationStart refuses to start there, so they end up
	// Unhealthy — the fleet's two unhealthy instances (fewer in a tiny
	// fleet).
	maintenance []string
	// fullDisk is the instance whose disk is nearly full: v2's
	// ValidateService fails there.
	fullDisk string
	// disk is each instance's simulated disk usage in percent, its
	// /var/lib/disk/used-percent, which v2's ValidateService reads.
	disk map[string]int
}

// newCast places n instances. Unhealthy: n/6, at least 1 and at most 2 (2 of
// 12, 1 of 3 to 11), the last instances by ID, so that "unhealthy first"
// ("CodeDeploy instance health") visibly breaks ID order. The full disk is
// on the instance at position ⌈n/2⌉+1 — web-07 of 12 — which HalfAtATime
// reaches in its second wave; in a fleet of 3 (one at a time) that is the
// last instance, the only place a failure leaves enough healthy instances
// behind to finish.
func newCast(n int) cast {
	width := max(2, len(strconv.Itoa(n)))
	c := cast{zone: make(map[string]string, n), disk: make(map[string]int, n)}
	for i := range n {
		id := fmt.Sprintf("web-%0*d", width, i+1)
		c.ids = append(c.ids, id)
		c.zone[id] = zones[i%len(zones)]
		c.disk[id] = 31 + (i*7)%29
	}
	u := min(max(n/6, 1), 2)
	c.maintenance = append([]string(nil), c.ids[n-u:]...)
	c.fullDisk = c.ids[(n+1)/2]
	c.disk[c.fullDisk] = 97
	return c
}

// Instance paths the story reads and writes, relative to an instance's
// root.
const (
	maintenanceFile = "etc/maintenance"
	diskFile        = "var/lib/disk/used-percent"
	pageFile        = "var/www/index.html"
	markerFile      = "var/run/app/version"
	appLogFile      = "var/log/app.log"
)

// buildFleet creates the local instances under dir (one directory each,
// see package localtarget) with their simulated disks and maintenance
// flags, and returns the fleet, the agent fetching revisions from src.
func buildFleet(ctx context.Context, dir string, c cast, src revision.Source, opts ...func(*localtarget.Options)) (*localtarget.Fleet, error) {
	fleet, err := localtarget.New(dir, src, opts...)
	if err != nil {
		return nil, err
	}
	for _, id := range c.ids {
		t := target.Target{ID: id, Zone: c.zone[id], OnPremises: true, Tags: map[string]string{"app": appName}}
		if _, err := fleet.Add(ctx, t); err != nil {
			return nil, err
		}
		if err := writeInstanceFile(dir, id, diskFile, strconv.Itoa(c.disk[id])+"\n"); err != nil {
			return nil, err
		}
	}
	for _, id := range c.maintenance {
		if err := writeInstanceFile(dir, id, maintenanceFile, "kernel upgrade\n"); err != nil {
			return nil, err
		}
	}
	return fleet, nil
}

// instancePath is the host path of path rel on instance id.
func instancePath(fleetDir, id, rel string) string {
	return filepath.Join(fleetDir, id, filepath.FromSlash(rel))
}

// writeInstanceFile writes a file on an instance's disk, as an operator
// logged into the host would.
func writeInstanceFile(fleetDir, id, rel, content string) error {
	p := instancePath(fleetDir, id, rel)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	return os.WriteFile(p, []byte(content), 0o644)
}

// readInstanceFile returns the trimmed content of a file on an instance's
// disk, "-" when it does not exist.
func readInstanceFile(fleetDir, id, rel string) (string, error) {
	b, err := os.ReadFile(instancePath(fleetDir, id, rel))
	if errors.Is(err, os.ErrNotExist) {
		return "-", nil
	}
	if err != nil {
		return "", err
	}
	s := string(b)
	for len(s) > 0 && (s[len(s)-1] == '\n' || s[len(s)-1] == ' ') {
		s = s[:len(s)-1]
	}
	return s, nil
}

// The revisions. Each is a directory tree written under revisions/ and
// packed into revisions/<version>.tgz, the bundle the instances download.
//
//	appspec.yml            copy site/ to /var/www; four hooks
//	site/index.html        the web page, naming its version
//	scripts/stop.sh        ApplicationStop: stop the app (remove the marker)
//	scripts/configure.sh   AfterInstall: log the install
//	scripts/start.sh       ApplicationStart: start the app (write the marker)
//	scripts/validate.sh    ValidateService: is the right page served?
//
// Every hook appends a line to the instance's /var/log/app.log. The start
// script refuses to start an instance in maintenance mode (/etc/maintenance),
// v2's validation also checks for free disk space for its new page cache,
// and v3's start script needs a runtime no instance has.

const appspec = `version: 0.0
os: linux
files:
  - source: site
    destination: /var/www
hooks:
  ApplicationStop:
    - location: scripts/stop.sh
      timeout: 30
  AfterInstall:
    - location: scripts/configure.sh
      timeout: 30
  ApplicationStart:
    - location: scripts/start.sh
      timeout: 30
  ValidateService:
    - location: scripts/validate.sh
      timeout: 30
`

// logLine is the shell line every hook starts with: it appends to the
// instance's application log.
const logLine = `root=$FLEETDEPLOY_INSTANCE_ROOT
mkdir -p "$root/var/log" "$root/var/run/app"
echo "$LIFECYCLE_EVENT {v} deployment=$DEPLOYMENT_ID" >> "$root/var/log/app.log"
`

// servesCheck is the shell check that the instance serves the version.
const servesCheck = `grep -q "shop {v}" "$root/var/www/index.html" || { echo "/var/www/index.html does not serve {v}" >&2; exit 1; }
[ "$(cat "$root/var/run/app/version")" = {v} ] || { echo "the app does not run {v}" >&2; exit 1; }
`

// bundleFiles returns the files of revision version (v0 … v3), by path.
func bundleFiles(version string) map[string]string {
	sh := func(body string) string { return "#!/bin/sh\nset -eu\n" + logLine + body }
	files := map[string]string{ // templates: {v} is the version
		"appspec.yml": appspec,
		"site/index.html": `<!doctype html>
<title>shop {v}</title>
<h1>Hello from shop {v}</h1>
`,
		"scripts/stop.sh": sh(`rm -f "$root/var/run/app/version"
echo "$FLEETDEPLOY_INSTANCE_ID: stopped {v}"
`),
		"scripts/configure.sh": sh(`echo "$FLEETDEPLOY_INSTANCE_ID: installed {v} into /var/www"
`),
		"scripts/start.sh": sh(`if [ -e "$root/etc/maintenance" ]; then
  echo "$FLEETDEPLOY_INSTANCE_ID is in maintenance mode ($(cat "$root/etc/maintenance")); not starting {v}" >&2
  exit 1
fi
echo {v} > "$root/var/run/app/version"
echo "$FLEETDEPLOY_INSTANCE_ID: started {v}"
`),
		"scripts/validate.sh": sh(servesCheck + `echo "$FLEETDEPLOY_INSTANCE_ID: serving {v}"
`),
	}
	switch version {
	case "v2":
		files["scripts/validate.sh"] = sh(`used=$(cat "$root/var/lib/disk/used-percent")
if [ "$used" -gt 90 ]; then
  echo "{v} caches pages in /var/cache/www and needs 10% of the disk free; $FLEETDEPLOY_INSTANCE_ID's disk is $used% full" >&2
  exit 1
fi
` + servesCheck + `echo "$FLEETDEPLOY_INSTANCE_ID: serving {v}, disk $used% full"
`)
	case "v3":
		files["scripts/start.sh"] = sh(`if [ ! -x "$root/opt/runtime-3/bin/run" ]; then
  echo "{v} needs runtime 3 (/opt/runtime-3), which $FLEETDEPLOY_INSTANCE_ID does not have" >&2
  exit 1
fi
echo {v} > "$root/var/run/app/version"
`)
	}
	for name, body := range files {
		files[name] = strings.ReplaceAll(body, "{v}", version)
	}
	return files
}

// writeBundle writes revision version's tree into dir/<version> and packs it
// into dir/<version>.tgz, the bundle.
func writeBundle(dir, version string) error {
	tree := filepath.Join(dir, version)
	for name, body := range bundleFiles(version) {
		p := filepath.Join(tree, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		mode := os.FileMode(0o644)
		if filepath.Ext(name) == ".sh" {
			mode = 0o755
		}
		if err := os.WriteFile(p, []byte(body), mode); err != nil {
			return err
		}
	}
	if err := packTGZ(filepath.Join(dir, version+".tgz"), tree); err != nil {
		return fmt.Errorf("packing %s.tgz: %w", version, err)
	}
	return nil
}

// packTGZ writes the tree at dir as a gzip-compressed tar archive to dst.
func packTGZ(dst, dir string) (err error) {
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
	if err := tw.AddFS(os.DirFS(dir)); err != nil {
		return err
	}
	if err := tw.Close(); err != nil {
		return err
	}
	return zw.Close()
}

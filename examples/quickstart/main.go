package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/fleetdeploy/fleetdeploy/config"
	"github.com/fleetdeploy/fleetdeploy/deploy"
	"github.com/fleetdeploy/fleetdeploy/deploy/plan"
	"github.com/fleetdeploy/fleetdeploy/examples/internal/story"
	"github.com/fleetdeploy/fleetdeploy/health"
	"github.com/fleetdeploy/fleetdeploy/revision"
	"github.com/fleetdeploy/fleetdeploy/target"
	"github.com/fleetdeploy/fleetdeploy/target/localtarget"
)

// The application, its deployment group and its configuration.
const (
	appName    = "shop"
	groupName  = "web"
	configName = "CodeDeployDefault.HalfAtATime"
)

// The bounds of -instances: at least one instance per zone; at most 200,
// which takes some 15 seconds.
const (
	minInstances = 3
	maxInstances = 200
)

// Where the checks' expectations come from, as the output cites them: the
// CodeDeploy User Guide's pages, or fleetdeploy's own rule where AWS is
// silent.
const (
	ugHealth   = `User Guide: "CodeDeploy instance health"`
	ugRollback = `User Guide: "Redeploy and roll back a deployment with CodeDeploy"`
	decided    = `fleetdeploy's rule: "Where fleetdeploy decides" in its package documentation`
)

func main() { story.Main(run) }

// options are the command-line flags.
type options struct {
	dir       string
	instances int
	verbose   bool
}

// parseArgs parses the command line. ok is false when the program must exit
// with code.
func parseArgs(args []string, stderr io.Writer) (o options, code int, ok bool) {
	fs := story.NewFlagSet("quickstart", stderr,
		"usage: quickstart [-dir DIR] [-instances N] [-v]",
		"Deploys revisions v0–v3 to a fleet of local instances with fleetdeploy's executor and checks each",
		"outcome against CodeDeploy's rules: v2 fails on one instance, v3 on every instance and is rolled back.")
	fs.StringVar(&o.dir, "dir", "", "keep the fleet and revisions in `DIR` (new or empty) instead of a temporary directory removed at exit")
	fs.IntVar(&o.instances, "instances", 12, fmt.Sprintf("`N` local instances (%d–%d), spread round robin over %d zones", minInstances, maxInstances, len(zones)))
	fs.BoolVar(&o.verbose, "v", false, "debug logging (executor and agents) to stderr")
	if code, ok := story.ParseFlags(fs, args); !ok {
		return o, code, false
	}
	if o.instances < minInstances || o.instances > maxInstances {
		fmt.Fprintf(stderr, "quickstart: -instances must be %d to %d; got %d\n", minInstances, maxInstances, o.instances)
		return o, story.ExitUsage, false
	}
	return o, 0, true
}

// run is the whole program: args are the command-line arguments without
// the program name. It returns the exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	o, code, ok := parseArgs(args, stderr)
	if !ok {
		return code
	}
	dir, cleanup, err := story.WorkDir(o.dir, "fleetdeploy-quickstart-")
	if err != nil {
		fmt.Fprintf(stderr, "quickstart: %v\n", err)
		if o.dir != "" {
			return story.ExitUsage
		}
		return story.ExitFailure
	}
	defer cleanup()

	level := slog.LevelWarn
	if o.verbose {
		level = slog.LevelDebug
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	scr := newScreen(stdout)
	began := time.Now()
	checks := story.NewChecks(scr.printf)
	q, err := setUp(ctx, dir, o.instances, scr, checks, logger)
	if err == nil {
		err = q.story(ctx)
	}
	scr.setStatus("")
	if err == nil {
		q.epilogue(o.dir != "", time.Since(began))
		if scr.err != nil {
			err = fmt.Errorf("writing the output: %w", scr.err)
		}
	}
	return story.Exit(ctx, stderr, "quickstart", err, checks.Problems())
}

// epilogue says where the fleet is, what to look at, and how it went.
func (q *quickstart) epilogue(kept bool, took time.Duration) {
	q.scr.printf("")
	if kept {
		id := q.cast.fullDisk
		fleet := filepath.Join(q.fleetDir, id)
		q.scr.printf("The fleet is kept in %s. Look at, for example:", q.dir)
		for _, l := range [][2]string{
			{"what " + id + " runs now", filepath.Join(fleet, markerFile)},
			{"every hook run on " + id + ", in order", filepath.Join(fleet, appLogFile)},
			{"its agent's work (archives, scripts.log)", filepath.Join(fleet, "deployment-root")},
			{"the bundles and their trees", filepath.Join(q.dir, "revisions")},
		} {
			q.scr.printf("  %-42s %s", l[0]+":", l[1])
		}
	} else {
		q.scr.printf("The fleet was in a temporary directory, now removed; run with -dir DIR to keep it.")
	}
	q.scr.printf("Done in %.1fs: %s", took.Seconds(), q.checks.Verdict())
}

// quickstart is the story's world: the store, the fleet, the executor and
// the revisions.
type quickstart struct {
	scr      *screen
	dir      string // holds revisions/ and fleet/
	fleetDir string
	cast     cast
	store    *deploy.MemoryStore
	exec     *deploy.Executor
	progress *progress
	revs     map[string]revision.Location // by version
	// checks prints the outcomes and counts those that differ from what
	// the rules predict.
	checks *story.Checks
}

var versions = [...]string{"v0", "v1", "v2", "v3"}

// setUp writes the revisions, builds the fleet, creates the application
// and the deployment group, and wires the executor.
func setUp(ctx context.Context, dir string, n int, scr *screen, checks *story.Checks, logger *slog.Logger) (*quickstart, error) {
	q := &quickstart{scr: scr, dir: dir, fleetDir: filepath.Join(dir, "fleet"), cast: newCast(n),
		store: deploy.NewMemoryStore(), revs: map[string]revision.Location{}, checks: checks}

	revDir := filepath.Join(dir, "revisions")
	src, err := writeRevisions(revDir)
	if err != nil {
		return nil, err
	}
	for _, v := range versions {
		loc, err := resolve(ctx, src, v+".tgz")
		if err != nil {
			return nil, err
		}
		q.revs[v] = loc
	}
	fleet, err := buildFleet(ctx, q.fleetDir, q.cast, src, func(o *localtarget.Options) { o.Logger = logger })
	if err != nil {
		return nil, err
	}

	app := deploy.Application{Name: appName, ComputePlatform: config.Server, CreateTime: time.Now()}
	if err := q.store.CreateApplication(ctx, &app); err != nil {
		return nil, err
	}
	group := deploy.Group{
		ApplicationName:      appName,
		Name:                 groupName,
		DeploymentConfigName: configName,
		Selector: target.Selector{OnPremisesInstanceTagFilters: []target.TagFilter{
			{Key: "app", Value: appName, Type: target.KeyAndValue}}},
		AutoRollbackConfiguration: deploy.AutoRollbackConfiguration{Enabled: true,
			Events: []deploy.AutoRollbackEvent{deploy.AutoRollbackDeploymentFailure}},
	}
	if err := q.store.CreateGroup(ctx, &group); err != nil {
		return nil, err
	}

	q.progress = newProgress(scr, q.store, q.version)
	q.exec, err = deploy.New(q.store, target.Platform{Lister: fleet, Installer: fleet}, func(o *deploy.Options) {
		o.Logger = logger
		o.Observer = q.progress
	})
	if err != nil {
		return nil, err
	}

	scr.printf("fleetdeploy quickstart: %d local instances in %d zones under %s", n, min(n, len(zones)), q.fleetDir)
	scr.printf("application %q, deployment group %q: %s, automatic rollback on %s",
		appName, groupName, configName, deploy.AutoRollbackDeploymentFailure)
	scr.printf("revisions v0–v3: bundles (appspec.yml, site/index.html, scripts/*.sh) packed as .tgz in %s", revDir)
	return q, nil
}

// writeRevisions writes the four bundles into dir and returns the source
// that serves them.
func writeRevisions(dir string) (*revision.LocalSource, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	for _, v := range versions {
		if err := writeBundle(dir, v); err != nil {
			return nil, err
		}
	}
	return revision.NewLocalSource(func(o *revision.LocalOptions) { o.Root = dir })
}

// resolve returns the location of the bundle at path, with its SHA-256
// filled in: part of the revision's identity (fleetdeploy's rule; see the
// package documentation of revision), so that a changed bundle is a
// different revision.
func resolve(ctx context.Context, src revision.Source, path string) (revision.Location, error) {
	b, err := src.Open(ctx, revision.Location{Type: revision.LocationLocal, Local: &revision.LocalLocation{Path: path}})
	if err != nil {
		return revision.Location{}, err
	}
	loc := b.Location
	return loc, b.Close()
}

// version names a revision: "v2", or its location when it is none of ours.
func (q *quickstart) version(loc revision.Location) string {
	for _, v := range versions {
		if q.revs[v].Equal(loc) {
			return v
		}
	}
	return loc.String()
}

// deploy creates a deployment of version and runs it to the end, with its
// automatic rollback if there is one, printing the transitions as they
// happen. It returns the deployment as finally stored and its tracker.
func (q *quickstart) deploy(ctx context.Context, version, description string) (*deploy.Deployment, *tracker, error) {
	d, err := q.exec.CreateDeployment(ctx, deploy.DeploymentInput{ApplicationName: appName, GroupName: groupName,
		Revision: q.revs[version], Description: description})
	if err != nil {
		return nil, nil, err
	}
	type result struct {
		d   *deploy.Deployment
		err error
	}
	done := make(chan result, 1)
	go func() {
		d, err := q.exec.Run(ctx, d.ID)
		done <- result{d, err}
	}()
	var perr error
	for {
		select {
		case <-q.progress.wake:
			if perr == nil {
				perr = q.progress.drain(ctx)
			}
		case r := <-done:
			if perr == nil {
				perr = q.progress.drain(ctx)
			}
			if err := errors.Join(r.err, perr); err != nil {
				return nil, nil, err
			}
			return r.d, q.progress.trackers[d.ID], nil
		}
	}
}

// story runs the four deployments and checks each outcome against the
// rules: CodeDeploy's, and fleetdeploy's where AWS is silent.
func (q *quickstart) story(ctx context.Context) error {
	for _, step := range []func(context.Context) error{q.history, q.step1, q.step2, q.step3} {
		if err := step(ctx); err != nil {
			return err
		}
	}
	return nil
}

// history gives the fleet its past: a first deployment, v0, to brand-new
// instances — all Unhealthy, as instances that never received a revision
// are (User Guide, "CodeDeploy instance health") — while some of them are
// in maintenance mode, where v0's
// ApplicationStart refuses to start. Their last deployment failed, so they
// stay Unhealthy after the maintenance ends: an honest way to get a fleet
// with unhealthy instances, through the same rules as everything else.
func (q *quickstart) history(ctx context.Context) error {
	c := q.cast
	q.checks.Section("The fleet's history: v0")
	q.scr.printf("%s in maintenance mode (/%s) while v0 goes out; the app refuses to start there.",
		strings.Join(c.maintenance, ", "), maintenanceFile)
	d, t, err := q.deploy(ctx, "v0", "first release")
	if err != nil {
		return err
	}
	q.checks.Expect(d.Status == deploy.StatusSucceeded, "v0 %s: %d of %d succeeded, at least %d must ("+ugHealth+")",
		d.Status, len(t.succeeded), t.min.Targets, t.min.SuccessesNeeded())
	q.expectFailed(t, c.maintenance, target.ApplicationStart)

	for _, id := range c.maintenance {
		if err := os.Remove(instancePath(q.fleetDir, id, maintenanceFile)); err != nil {
			return err
		}
	}
	q.scr.printf("Maintenance over on %s (flag removed). Their last deployment failed, so they stay Unhealthy ("+ugHealth+").",
		strings.Join(c.maintenance, ", "))
	recs, err := q.instances(ctx)
	if err != nil {
		return err
	}
	var unhealthy []string
	for _, r := range recs {
		if r.InstanceHealth != health.Healthy {
			unhealthy = append(unhealthy, r.TargetID)
		}
	}
	q.checks.Expect(slices.Equal(unhealthy, c.maintenance), "the fleet now: %d healthy, %d unhealthy (%s)",
		len(recs)-len(unhealthy), len(unhealthy), strings.Join(unhealthy, ", "))
	return nil
}

// step1 deploys v1: the unhealthy instances go first ("CodeDeploy instance
// health"), and every instance gets it.
func (q *quickstart) step1(ctx context.Context) error {
	c := q.cast
	q.checks.Section("1. v1 with " + configName)
	d, t, err := q.deploy(ctx, "v1", "v1: a new page")
	if err != nil {
		return err
	}
	wave := slices.Sorted(slices.Values(t.started[:min(t.min.Window, len(t.started))]))
	inWave := true
	for _, id := range c.maintenance {
		inWave = inWave && slices.Contains(wave, id)
	}
	q.checks.Expect(inWave, "the first wave (%d may be offline at once) holds the Unhealthy %s, last by ID ("+ugHealth+"): %s",
		t.min.Window, strings.Join(c.maintenance, ", "), strings.Join(wave, " "))
	q.checks.Expect(!t.below(), "the healthy count never went below the minimum: lowest %d, minimum %d ("+ugHealth+")", t.lowest, t.min.Required)
	q.checks.Expect(d.Status == deploy.StatusSucceeded && len(t.succeeded) == t.min.Targets,
		"v1 %s on %d of %d instances", d.Status, len(t.succeeded), t.min.Targets)
	return nil
}

// step2 deploys v2, whose ValidateService fails on the instance with the
// full disk: HalfAtATime succeeds when at least half the instances do
// ("CodeDeploy instance health"), and the healthy count stays at or above
// the minimum.
func (q *quickstart) step2(ctx context.Context) error {
	c := q.cast
	q.checks.Section("2. v2: ValidateService fails on one instance")
	q.scr.printf("v2 caches pages on disk; its ValidateService checks for 10%% free disk. %s's disk is %d%% full (/%s).",
		c.fullDisk, c.disk[c.fullDisk], diskFile)
	d, t, err := q.deploy(ctx, "v2", "v2: a page cache")
	if err != nil {
		return err
	}
	q.expectFailed(t, []string{c.fullDisk}, target.ValidateService)
	q.checks.Expect(!t.below(), "the healthy count never went below the minimum: lowest %d, minimum %d ("+ugHealth+")", t.lowest, t.min.Required)
	want := deploy.StatusFailed
	if len(t.succeeded) >= t.min.SuccessesNeeded() {
		want = deploy.StatusSucceeded
	}
	q.checks.Expect(d.Status == deploy.StatusSucceeded && d.Status == want,
		"v2 %s: %d succeeded ≥ %d = max(minimum, 1), so the deployment succeeds despite the failure ("+ugHealth+")",
		d.Status, len(t.succeeded), t.min.SuccessesNeeded())

	if err := writeInstanceFile(q.fleetDir, c.fullDisk, diskFile, "45\n"); err != nil {
		return err
	}
	q.scr.printf("Ops frees space on %s (%d%% → 45%%). It stays Unhealthy until a deployment to it succeeds ("+ugHealth+").", c.fullDisk, c.disk[c.fullDisk])
	return nil
}

// step3 deploys v3, whose ApplicationStart fails everywhere: the
// deployment fails as soon as the healthy count falls to the minimum, and
// the automatic rollback redeploys v2, the last successful revision (User
// Guide, "Redeploy and roll back a deployment with CodeDeploy").
func (q *quickstart) step3(ctx context.Context) error {
	q.checks.Section("3. v3: ApplicationStart fails everywhere → automatic rollback")
	q.scr.printf("v3's start script needs a runtime no instance has.")
	d, t, err := q.deploy(ctx, "v3", "v3: a new runtime")
	if err != nil {
		return err
	}
	q.scr.printf("")
	q.scr.printf("checks of %s and its rollback:", d.ID)
	q.checks.Expect(d.Status == deploy.StatusFailed && d.ErrorInformation.Code == plan.HealthConstraints,
		"v3 %s (%s): every attempted instance failed, and once the healthy count fell to the minimum no healthy instance could go offline with instances left ("+decided+")",
		d.Status, d.ErrorInformation.Code)
	q.expectFailed(t, t.started, target.ApplicationStart)
	q.checks.Expect(!t.below(), "the healthy count never went below the minimum: lowest %d, minimum %d ("+ugHealth+")", t.lowest, t.min.Required)

	rbID := d.RollbackInfo.RollbackDeploymentID
	if rbID == "" {
		q.checks.Expect(false, "v3 was rolled back (autoRollbackConfiguration DEPLOYMENT_FAILURE): no rollback deployment")
		return nil
	}
	rb, err := q.store.GetDeployment(ctx, rbID)
	if err != nil {
		return err
	}
	rt := q.progress.trackers[rbID]
	q.checks.Expect(rb.Creator == target.CreatorRollback && rb.RollbackInfo.RollbackTriggeringDeploymentID == d.ID,
		"rollback %s: creator %s, rollbackTriggeringDeploymentId %s; %s's rollbackDeploymentId %s ("+ugRollback+")",
		rb.ID, rb.Creator, rb.RollbackInfo.RollbackTriggeringDeploymentID, d.ID, rbID)
	q.checks.Expect(rb.Revision.Equal(q.revs["v2"]), "the rollback redeploys %s, the last successful revision (v2 succeeded, v3 failed)", q.version(rb.Revision))
	q.checks.Expect(rb.Status == deploy.StatusSucceeded, "rollback %s %s", rb.ID, rb.Status)
	if rt != nil {
		q.checks.Expect(!rt.below(), "the rollback's healthy count never went below the minimum: lowest %d, minimum %d", rt.lowest, rt.min.Required)
	}
	return q.finalState(ctx)
}

// finalState prints what each instance runs at the end, from the store and
// from the instance's disk, and checks that it is v2 everywhere.
func (q *quickstart) finalState(ctx context.Context) error {
	g, err := q.store.GetGroup(ctx, appName, groupName)
	if err != nil {
		return err
	}
	recs, err := q.instances(ctx)
	if err != nil {
		return err
	}
	q.checks.Section("Deployments")
	q.scr.printf("%-11s  %-3s  %-18s  %-9s  %-18s  %9s  %6s  %7s  %14s  %6s  %7s", "DEPLOYMENT", "REV", "CREATOR", "STATUS",
		"ERROR CODE", "SUCCEEDED", "FAILED", "SKIPPED", "HEALTHY: START", "LOWEST", "MINIMUM")
	for _, id := range q.progress.order {
		t := q.progress.trackers[id]
		d, err := q.store.GetDeployment(ctx, id)
		if err != nil {
			return err
		}
		code := string(d.ErrorInformation.Code)
		if code == "" {
			code = "-"
		}
		q.scr.printf("%-11s  %-3s  %-18s  %-9s  %-18s  %9d  %6d  %7d  %14d  %6d  %7d", d.ID, t.version, d.Creator, d.Status,
			code, len(t.succeeded), len(t.failed), len(t.skipped), t.initialHealthy, t.lowest, t.min.Required)
	}

	q.checks.Section("What each instance runs now")
	q.scr.printf("%-8s  %-6s  %-9s  %-8s  %-19s  %s", "INSTANCE", "ZONE", "HEALTH", "REVISION", "/"+pageFile, "/"+markerFile)
	all := true
	for _, r := range recs {
		rev := "-"
		if r.Revision != nil {
			rev = q.version(*r.Revision)
		}
		page, err := readInstanceFile(q.fleetDir, r.TargetID, pageFile)
		if err != nil {
			return err
		}
		page = pageTitle(page)
		marker, err := readInstanceFile(q.fleetDir, r.TargetID, markerFile)
		if err != nil {
			return err
		}
		q.scr.printf("%-8s  %-6s  %-9s  %-8s  %-19s  %s", r.TargetID, q.cast.zone[r.TargetID], r.InstanceHealth, rev, page, marker)
		all = all && r.InstanceHealth == health.Healthy && rev == "v2" && page == "shop v2" && marker == "v2"
	}
	groupRev := "-"
	if g.TargetRevision != nil {
		groupRev = q.version(*g.TargetRevision)
	}
	q.checks.Expect(groupRev == "v2", "the group's target revision is %s (a failed deployment leaves it unchanged: "+ugHealth+")", groupRev)
	q.checks.Expect(all, "every instance is Healthy and runs v2, in the store and on its disk")
	return nil
}

// pageTitle returns the <title> of a page, or the page when it has none.
func pageTitle(page string) string {
	_, rest, ok := strings.Cut(page, "<title>")
	if !ok {
		return page
	}
	title, _, _ := strings.Cut(rest, "</title>")
	return title
}

// instances returns the group's instance records, by target ID.
func (q *quickstart) instances(ctx context.Context) ([]deploy.InstanceRecord, error) {
	g, err := q.store.GetGroup(ctx, appName, groupName)
	if err != nil {
		return nil, err
	}
	recs, err := q.store.GetInstances(ctx, g.ID)
	if err != nil {
		return nil, err
	}
	slices.SortFunc(recs, func(a, b deploy.InstanceRecord) int { return strings.Compare(a.TargetID, b.TargetID) })
	return recs, nil
}

// expectFailed checks that exactly the instances want failed, each in
// lifecycle event ev.
func (q *quickstart) expectFailed(t *tracker, want []string, ev target.LifecycleEvent) {
	got := slices.Sorted(slices.Values(t.failed))
	want = slices.Sorted(slices.Values(want))
	inEvent := true
	for _, id := range got {
		inEvent = inEvent && t.failure[id].event == ev
	}
	q.checks.Expect(slices.Equal(got, want) && inEvent, "failed in %s: %s", ev, strings.Join(got, ", "))
}

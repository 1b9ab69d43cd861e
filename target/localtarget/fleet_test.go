//go:build unix

package localtarget_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"

	"golang.org/x/sync/errgroup"

	"github.com/fleetdeploy/fleetdeploy/revision"
	"github.com/fleetdeploy/fleetdeploy/revision/revisiontest"
	"github.com/fleetdeploy/fleetdeploy/target"
	"github.com/fleetdeploy/fleetdeploy/target/localtarget"
)

// TestRestartedFleetContinues: a new Fleet over the same directory knows
// the instances and their last install, so the next ApplicationStop runs
// the previous revision's script (as the CodeDeploy agent's
// command_executor.rb and hook_executor.rb do).
func TestRestartedFleetContinues(t *testing.T) {
	f := newFixture(t)
	v1 := f.put("v1.zip", stopSpec, map[string]string{"stop.sh": mark("stop-v1"), "start.sh": "#!/bin/sh\n"})
	v2 := f.put("v2.zip", stopSpec, map[string]string{"stop.sh": mark("stop-v2"), "start.sh": "#!/bin/sh\n"})
	mustSucceed(t, f.deploy(deployment("d-1", v1)))

	again, err := localtarget.New(f.fleet.Root(), f.src)
	if err != nil {
		t.Fatal(err)
	}
	if got := again.Targets(); len(got) != 1 || got[0].ID != "host-1" || got[0].Zone != "zone-a" ||
		got[0].Tags["role"] != "web" || !got[0].OnPremises {
		t.Fatalf("reopened fleet has %+v, want host-1 as added", got)
	}
	f.fleet = again
	r := f.deploy(deployment("d-2", v2))
	mustSucceed(t, r)
	if got := r[target.ApplicationStop].LogTail; got != "ran stop-v1\n" {
		t.Errorf("ApplicationStop after the restart ran %q, want v1's script", got)
	}
}

// TestArchivesArePruned: at most five deployment directories are kept per
// group, never the last successful install's (the agent's :max_revisions,
// command_executor.rb).
func TestArchivesArePruned(t *testing.T) {
	f := newFixture(t)
	spec := "version: 0.0\nos: linux\n"
	loc := f.put("v.zip", spec, nil)
	mustSucceed(t, f.deploy(deployment("d-1", loc)))
	for i := 2; i <= 7; i++ {
		if r := f.run(deployment(fmt.Sprintf("d-%d", i), loc), target.DownloadBundle); r.Status != target.EventSucceeded {
			t.Fatalf("DownloadBundle d-%d: %+v", i, r)
		}
	}
	entries, err := os.ReadDir(f.path("/deployment-root/dg-1"))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range entries {
		got = append(got, e.Name())
	}
	if want := []string{"d-1", "d-4", "d-5", "d-6", "d-7"}; !slices.Equal(got, want) {
		t.Errorf("kept %v, want %v (the last successful d-1 and the four newest)", got, want)
	}
}

// TestRequestsTheAgentRefuses: events that are not the agent's, unknown
// instances and IDs that cannot name a directory are errors, not results.
func TestRequestsTheAgentRefuses(t *testing.T) {
	f := newFixture(t)
	loc := f.put("v.zip", "version: 0.0\nos: linux\n", nil)
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		req  target.EventRequest
		want error
	}{
		{"BlockTraffic is the service's", target.EventRequest{Target: f.inst, Event: target.BlockTraffic, Deployment: deployment("d-1", loc)}, localtarget.ErrNotAgentEvent},
		{"AllowTraffic is the service's", target.EventRequest{Target: f.inst, Event: target.AllowTraffic, Deployment: deployment("d-1", loc)}, localtarget.ErrNotAgentEvent},
		{"Start is a pseudo-event", target.EventRequest{Target: f.inst, Event: target.Start, Deployment: deployment("d-1", loc)}, localtarget.ErrNotAgentEvent},
		{"AllowTestTraffic is ECS's", target.EventRequest{Target: f.inst, Event: target.AllowTestTraffic, Deployment: deployment("d-1", loc)}, localtarget.ErrNotAgentEvent},
		{"unknown instance", target.EventRequest{Target: target.Target{ID: "host-9"}, Event: target.Install, Deployment: deployment("d-1", loc)}, target.ErrTargetUnavailable},
		{"deployment ID with a slash", target.EventRequest{Target: f.inst, Event: target.Install, Deployment: deployment("../d-1", loc)}, target.ErrInvalidRequest},
		{"empty deployment group ID", target.EventRequest{Target: f.inst, Event: target.Install, Deployment: func() target.DeploymentInfo {
			d := deployment("d-1", loc)
			d.DeploymentGroupID = ""
			return d
		}()}, target.ErrInvalidRequest},
		{"unknown fileExistsBehavior", target.EventRequest{Target: f.inst, Event: target.Install, Deployment: func() target.DeploymentInfo {
			d := deployment("d-1", loc)
			d.FileExistsBehavior = "MERGE"
			return d
		}()}, target.ErrInvalidRequest},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := f.fleet.RunEvent(ctx, tc.req)
			if !errors.Is(err, tc.want) || !strings.HasPrefix(err.Error(), "localtarget: ") {
				t.Errorf("error %v, want one wrapping %v", err, tc.want)
			}
		})
	}
}

// TestDownloadFailures: a revision that cannot be fetched or has no AppSpec
// fails DownloadBundle; an Install or hook before DownloadBundle fails.
func TestDownloadFailures(t *testing.T) {
	f := newFixture(t)
	missing := revision.Location{Type: revision.LocationS3, S3: &revision.S3Location{Bucket: "releases", Key: "nope.zip", BundleType: revision.BundleZip}}
	r := f.run(deployment("d-1", missing), target.DownloadBundle)
	if r.Status != target.EventFailed || r.ErrorCode != target.CodeUnknownError || !strings.Contains(r.Message, "not found") {
		t.Errorf("DownloadBundle of a missing revision: %+v", r)
	}
	data, err := revisiontest.Build(revision.BundleZip, revisiontest.Entry{Name: "readme.txt", Body: "no appspec"})
	if err != nil {
		t.Fatal(err)
	}
	noSpec, err := f.src.Put(revision.Location{Type: revision.LocationS3, S3: &revision.S3Location{Bucket: "releases", Key: "bare.zip", BundleType: revision.BundleZip}}, data)
	if err != nil {
		t.Fatal(err)
	}
	r = f.run(deployment("d-2", noSpec), target.DownloadBundle)
	if r.Status != target.EventFailed || !errorsMention(r.Message, "AppSpec") {
		t.Errorf("DownloadBundle without an AppSpec: %+v", r)
	}
	if id, _ := f.agent.MostRecentInstall(context.Background(), "dg-1"); id != "" {
		t.Errorf("a failed DownloadBundle became the most recent install (%s)", id)
	}
	loc := f.put("v.zip", "version: 0.0\nos: linux\n", nil)
	for _, e := range []target.LifecycleEvent{target.Install, target.BeforeInstall} {
		if r := f.run(deployment("d-3", loc), e); r.Status != target.EventFailed || !strings.Contains(r.Message, "DownloadBundle") {
			t.Errorf("%s before DownloadBundle: %+v", e, r)
		}
	}
}

func errorsMention(msg, word string) bool {
	return strings.Contains(strings.ToLower(msg), strings.ToLower(word))
}

// TestFleetListsAndDeploysInParallel: a fleet of many instances side by
// side lists by selector and takes events concurrently.
func TestFleetListsAndDeploysInParallel(t *testing.T) {
	src := revisiontest.NewMemSource()
	fleet, err := localtarget.New(t.TempDir(), src)
	if err != nil {
		t.Fatal(err)
	}
	const n = 12
	for i := range n {
		role := "web"
		if i%3 == 0 {
			role = "worker"
		}
		if _, err := fleet.Add(context.Background(), target.Target{ID: fmt.Sprintf("host-%02d", i), Zone: fmt.Sprintf("zone-%d", i%2),
			Tags: map[string]string{"role": role}, OnPremises: true}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := fleet.Add(context.Background(), target.Target{ID: "host-00"}); !errors.Is(err, localtarget.ErrInstanceExists) {
		t.Errorf("adding host-00 twice: %v", err)
	}
	if _, err := fleet.Add(context.Background(), target.Target{ID: "../evil"}); !errors.Is(err, localtarget.ErrInvalidInstanceID) {
		t.Errorf("adding ../evil: %v", err)
	}
	sel := target.Selector{OnPremisesInstanceTagFilters: []target.TagFilter{{Key: "role", Value: "web", Type: target.KeyAndValue}}}
	web, err := fleet.ListTargets(context.Background(), sel)
	if err != nil {
		t.Fatal(err)
	}
	if len(web) != n-n/3 || web[0].ID != "host-01" {
		t.Fatalf("ListTargets(role=web) = %v", web)
	}

	spec := "version: 0.0\nos: linux\nfiles:\n  - source: index.html\n    destination: /var/www\nhooks:\n  ValidateService:\n    - location: check.sh\n"
	loc := putRevision(t, src, "site.zip", spec, map[string]string{
		"index.html": "hello",
		"check.sh":   "#!/bin/sh\ntest -f \"$FLEETDEPLOY_INSTANCE_ROOT/var/www/index.html\" && echo \"$FLEETDEPLOY_INSTANCE_ID ok\"\n",
	})
	d := deployment("d-1", loc)
	var g errgroup.Group
	g.SetLimit(4)
	tails := make([]string, len(web))
	for i, tg := range web {
		g.Go(func() error {
			for _, e := range []target.LifecycleEvent{target.ApplicationStop, target.DownloadBundle, target.BeforeInstall, target.Install,
				target.AfterInstall, target.ApplicationStart, target.ValidateService} {
				res, err := fleet.RunEvent(context.Background(), target.EventRequest{Target: tg, Event: e, Deployment: d})
				if err != nil {
					return err
				}
				if res.Status != target.EventSucceeded {
					return fmt.Errorf("%s %s: %+v", tg.ID, e, res)
				}
				tails[i] = res.LogTail
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		t.Fatal(err)
	}
	for i, tg := range web {
		if tails[i] != tg.ID+" ok\n" {
			t.Errorf("%s ValidateService said %q", tg.ID, tails[i])
		}
	}
	worker, _ := fleet.Agent("host-00")
	if _, err := os.Stat(worker.Path("/var/www/index.html")); err == nil {
		t.Error("an instance outside the selection was deployed to")
	}
}

// TestOptionsAreChecked: New rejects invalid options.
func TestOptionsAreChecked(t *testing.T) {
	src := revisiontest.NewMemSource()
	for _, opt := range []func(*localtarget.Options){
		func(o *localtarget.Options) { o.MaxRevisions = -1 },
		func(o *localtarget.Options) { o.KillGrace = -1 },
		func(o *localtarget.Options) { o.OutputWait = -1 },
		func(o *localtarget.Options) { o.Env = []string{"NOEQUALS"} },
	} {
		if _, err := localtarget.New(t.TempDir(), src, opt); err == nil || !strings.HasPrefix(err.Error(), "localtarget: ") {
			t.Errorf("New with a bad option: %v", err)
		}
	}
	if _, err := localtarget.New(t.TempDir(), nil); err == nil {
		t.Error("New with a nil source succeeded")
	}
}

// TestDownloadBundleRefusesHostileBundles: a bundle entry that would land
// outside the archive fails DownloadBundle and writes nothing.
func TestDownloadBundleRefusesHostileBundles(t *testing.T) {
	f := newFixture(t)
	data, err := revisiontest.Build(revision.BundleZip,
		revisiontest.Entry{Name: "appspec.yml", Body: "version: 0.0\nos: linux\n"},
		revisiontest.Entry{Name: "../../../../../escaped.txt", Body: "x"})
	if err != nil {
		t.Fatal(err)
	}
	loc, err := f.src.Put(revision.Location{Type: revision.LocationS3, S3: &revision.S3Location{Bucket: "releases", Key: "evil.zip", BundleType: revision.BundleZip}}, data)
	if err != nil {
		t.Fatal(err)
	}
	r := f.run(deployment("d-1", loc), target.DownloadBundle)
	if r.Status != target.EventFailed || r.ErrorCode != target.CodeUnknownError {
		t.Errorf("DownloadBundle of a hostile bundle: %+v", r)
	}
	for _, p := range []string{f.fleet.Root() + "/escaped.txt", f.path("/escaped.txt"), f.path("/deployment-root/escaped.txt")} {
		if _, err := os.Stat(p); err == nil {
			t.Errorf("%s was written", p)
		}
	}
}

// TestCancelDuringDownload: ctx ending while the Source is fetching ends
// DownloadBundle with ctx's error.
func TestCancelDuringDownload(t *testing.T) {
	f := newFixture(t)
	loc := f.put("v.zip", "version: 0.0\nos: linux\n", nil)
	release := f.src.Hold(loc)
	defer release()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := f.fleet.RunEvent(ctx, target.EventRequest{Target: f.inst, Event: target.DownloadBundle, Deployment: deployment("d-1", loc)})
		done <- err
	}()
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("DownloadBundle after cancel: %v", err)
	}
	if id, _ := f.agent.MostRecentInstall(context.Background(), "dg-1"); id != "" {
		t.Errorf("a cancelled download became the most recent install (%s)", id)
	}
}

// TestWholeRevisionSource: source "/" installs the whole revision, AppSpec
// included, and symbolic links as links (User Guide, "AppSpec 'files'
// section (EC2/On-Premises deployments only)").
func TestWholeRevisionSource(t *testing.T) {
	f := newFixture(t)
	spec := "version: 0.0\nos: linux\nfiles:\n  - source: /\n    destination: /srv/app\n"
	data, err := revisiontest.Build(revision.BundleZip,
		revisiontest.Entry{Name: "appspec.yml", Body: spec},
		revisiontest.Entry{Name: "lib/v1/code.txt", Body: "code"},
		revisiontest.Entry{Name: "lib/current", Mode: os.ModeSymlink, Link: "v1"})
	if err != nil {
		t.Fatal(err)
	}
	loc, err := f.src.Put(revision.Location{Type: revision.LocationS3, S3: &revision.S3Location{Bucket: "releases", Key: "all.zip", BundleType: revision.BundleZip}}, data)
	if err != nil {
		t.Fatal(err)
	}
	mustSucceed(t, f.deploy(deployment("d-1", loc)))
	if got := f.read("/srv/app/appspec.yml"); got != spec {
		t.Errorf("appspec.yml = %q", got)
	}
	if got := f.read("/srv/app/lib/current/code.txt"); got != "code" {
		t.Errorf("lib/current/code.txt = %q", got)
	}
	if link, err := os.Readlink(f.path("/srv/app/lib/current")); err != nil || link != "v1" {
		t.Errorf("lib/current is %q, %v; want a link to v1", link, err)
	}
}

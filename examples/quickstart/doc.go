// Quickstart is fleetdeploy's first demonstration: real deployments to a
// fleet of local instances, run by the library's executor the way AWS
// CodeDeploy runs them on EC2 — the same deployment configuration
// (CodeDeployDefault.HalfAtATime), health model, lifecycle events and
// automatic rollback — with real bundles and hook scripts running as real
// processes, and no AWS account.
//
// # Usage
//
//	go run ./examples/quickstart                  # 12 instances in a temporary directory, removed at exit
//	go run ./examples/quickstart -dir /tmp/fleet  # keep the fleet and revisions there to look at afterwards
//	go run ./examples/quickstart -instances 30    # another fleet size, 3 to 200
//	go run ./examples/quickstart -v               # debug logs of the executor and the agents on stderr
//
// A run takes a few seconds at most; hooks are real processes, so nothing
// waits on a timer. -dir must name a new or empty directory. The exit code
// is 0 when every deployment behaved as CodeDeploy's rules (and
// fleetdeploy's, where AWS is silent) predict; 1 when one did not (each
// mismatch is printed, and listed again on stderr) or the run could not
// finish (interrupted, for one); 2 for a bad command line or an unusable
// -dir. CI runs it as a smoke test: go run ./examples/quickstart >/dev/null.
//
// # The setup
//
// Everything lives in one directory: revisions/ holds four revisions, each
// a tree (appspec.yml, site/index.html, scripts/*.sh) packed into a .tgz
// bundle that a revision.LocalSource serves; fleet/ holds the instances,
// one directory each (package target/localtarget: an on-host agent per
// instance that downloads the bundle, copies its files into place and runs
// its hooks). The instances are web-01, web-02, … spread round robin over
// zone-a, zone-b and zone-c. The application "shop" has one deployment
// group, "web", with CodeDeployDefault.HalfAtATime and automatic rollback
// on DEPLOYMENT_FAILURE; the state is kept in a deploy.MemoryStore.
//
// Every hook appends a line to the instance's /var/log/app.log. The app
// "runs" a version when /var/run/app/version names it: ApplicationStart
// writes it, ApplicationStop removes it, ValidateService checks it and
// the page.
//
// # The story
//
//  0. History. The fleet needs two unhealthy instances. Instance health is
//     history (User Guide, "CodeDeploy instance health"): an instance is
//     Unhealthy when the last deployment to it failed, or it never
//     received a revision. So the quickstart makes that history happen
//     rather than writing it into the store: v0 goes out to the brand-new
//     fleet (all Unhealthy, never having received a revision) while the
//     last two instances are in maintenance mode (/etc/maintenance), where
//     the app refuses to start. v0 succeeds on the others; the two failed,
//     and stay Unhealthy after the maintenance ends.
//  1. v1 goes out. The two Unhealthy instances — last by ID — are in the
//     first wave (unhealthy first, as the same page says), and every
//     instance gets v1.
//  2. v2 adds a page cache; its ValidateService checks for free disk, and
//     one instance's disk (simulated: /var/lib/disk/used-percent) is 97%
//     full — web-07 of 12. v2 fails there and succeeds overall, because at
//     least half the instances succeeded (same page); the healthy count
//     never went below the minimum. Then ops frees the disk.
//  3. v3's ApplicationStart needs a runtime no instance has, so it fails
//     everywhere: the deployment fails (HEALTH_CONSTRAINTS) as soon as the
//     healthy count falls to the minimum, and the automatic rollback — a
//     new deployment, linked through RollbackInfo — redeploys v2, the last
//     successful revision (User Guide, "Redeploy and roll back a
//     deployment with CodeDeploy"). Every instance ends up Healthy on v2.
//
// In smaller fleets fewer instances are unhealthy: n/6 of n, at least one
// and at most two. The full disk is on the instance at position ⌈n/2⌉+1,
// which HalfAtATime reaches in its second wave (the last instance of a
// fleet of 3, the only place one failure leaves enough healthy instances
// to finish).
//
// # The output
//
// For each deployment: its configuration's arithmetic (how many instances
// must stay healthy, how many may be offline at once) and the health it
// starts from; then a line per instance as it starts, succeeds or fails
// (with the failing lifecycle event, its error code and the script's last
// line of output), with the running figure "healthy N / minimum M / in
// flight K"; then the final status, error code and the executor's
// explanation, and the lowest healthy count seen. Each outcome the rules
// predict is checked and printed as [ok] or [MISMATCH], naming the User
// Guide page (or fleetdeploy's own rule) it comes from. At the end: every
// deployment in a table, and what each instance runs — its health and
// revision in the store, its page and version marker on disk.
//
// The healthy count is kept from the executor's Observer events: an
// instance Healthy at the start leaves it when its deployment starts and
// returns when it succeeds; an Unhealthy one joins it when it succeeds.
// On a terminal a live line below the output shows each instance ('.'
// pending, '>' in flight, '#' succeeded, 'x' failed) and the figure; when
// stdout is not a terminal, the output is plain lines.
//
// # Afterwards
//
// With -dir DIR, look at:
//
//	DIR/fleet/web-07/var/run/app/version      what the instance runs
//	DIR/fleet/web-07/var/www/index.html       the page it serves
//	DIR/fleet/web-07/var/log/app.log          every hook run there, with its deployment ID
//	DIR/fleet/web-07/deployment-root/         the agent's state: the unpacked bundles and each
//	                                          deployment's logs/scripts.log (the hooks' output)
//	DIR/revisions/                            the bundles and their trees
package main

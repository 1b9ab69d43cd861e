// Package localtarget is an on-host agent: it does, in Go, the work the
// CodeDeploy agent does on an EC2 or on-premises instance — download the
// revision, copy its files into place, set their permissions and run the
// hook scripts of its AppSpec as real processes — on instances that are
// directories on this machine.
//
// An [Agent] serves one instance; a [Fleet] is a directory of instances,
// each with its agent, and is the [target.Lister] and [target.Installer] of
// a Server platform:
//
//	fleet, err := localtarget.New(dir, src) // src is a revision.Source
//	fleet.Add(ctx, target.Target{ID: "web-1", Zone: "zone-a", OnPremises: true, Tags: tags})
//	platform := target.Platform{Lister: fleet, Installer: fleet, TrafficController: myLB}
//
// Tests and the quickstart build fleets of tens of instances side by side
// under a temporary directory; an Agent rooted at "/" is an agent for the
// machine itself.
//
// # Instances on disk
//
// An instance is a directory that stands for the host's file system: an
// AppSpec destination /opt/app is the directory <root>/opt/app, as in a
// chroot — ".." cannot climb above the root, and every file operation of the
// Install step goes through an [os.Root], so symbolic links cannot lead out
// of it either. A Fleet keeps instance <id> in <fleet>/<id>.
//
// The agent's own state lives in the instance, under /deployment-root (the
// CodeDeploy agent's /opt/codedeploy-agent/deployment-root), and nothing
// else: a new Agent or Fleet over the same directories continues where the
// last one stopped.
//
//	/deployment-root/instance.json                  the Fleet's record of the target
//	/deployment-root/<group-id>/<deployment-id>/
//	    deployment-archive/                         the unpacked revision
//	    deployment.json                             what was downloaded, in which order
//	    logs/scripts.log                            every hook's output, with headers
//	/deployment-root/deployment-instructions/
//	    <group-id>_most_recent_install              written at the end of DownloadBundle
//	    <group-id>_last_successful_install          written at the end of Install
//	    <group-id>-install.json                     the Install step's instructions
//	    <group-id>-cleanup                          what the last Install created
//
// Everything is keyed by deployment group ID, as in CodeDeploy: a group
// recreated under the same name starts afresh (the agent's
// command_executor.rb keys its files by group ID too). The two pointer
// files hold the instance path of a deployment directory
// (/deployment-root/<group-id>/<deployment-id>). Group and deployment IDs
// must be usable as one path element; instance IDs follow the rules of
// on-premises instance names ([ErrInvalidInstanceID]).
//
// # Lifecycle events
//
// [Agent.RunEvent] (and [Fleet.RunEvent], which picks the agent by target
// ID) performs the events whose role is the Installer's (the events the
// CodeDeploy agent runs; see "AppSpec 'hooks' section"):
//
//   - DownloadBundle opens req.Deployment.Revision through the
//     [revision.Source] and unpacks it with [revision.Unpack] (hostile
//     archives are refused; a single top directory is stripped) into the
//     deployment's deployment-archive, replacing what an earlier attempt
//     left. The bundle must hold a valid Server AppSpec for this operating
//     system, or the event fails. The AppSpec's warnings (see
//     [revision.Warning]: what the CodeDeploy agent accepts although the
//     AppSpec reference says otherwise) are logged one by one at level
//     Warn, and the event's message gives their number and the first. It
//     then records the download, writes
//     <group-id>_most_recent_install and deletes the group's oldest
//     deployment directories beyond Options.MaxRevisions (5 by default),
//     never the last successful install's nor the current one.
//   - Install copies the files and applies the permissions (below), then
//     writes <group-id>_last_successful_install — at the end of Install, not
//     when the deployment succeeds, so a deployment whose later hooks failed
//     is still the one the next ApplicationStop uses (as the agent's
//     command_executor.rb does).
//   - The hook events run their scripts (below).
//
// BlockTraffic and AllowTraffic are performed by a load balancer's
// TrafficController, not the agent, and Start and End run nothing: RunEvent
// refuses them, and events of other platforms, with [ErrNotAgentEvent].
//
// Failures are results: Status Failed with a lifecycle error code and a
// message in the CodeDeploy agent's words. DownloadBundle and Install fail
// with UnknownError (a revision that cannot be fetched, a file in the way).
// RunEvent returns an error only when the event could not run: an invalid
// request, ctx ending, or the instance's files being unreadable. A failure
// of an event that ignoreApplicationStopFailures covers (ApplicationStop,
// BeforeBlockTraffic, AfterBlockTraffic; API Reference, CreateDeployment) is
// returned as Succeeded, with a message naming the failure that was ignored
// and the script output in LogTail.
//
// # Hooks
//
// A hook event runs the scripts the AppSpec lists for it, one after the
// other; the first failure ends the event (as the agent's hook_executor.rb
// does). An event without scripts succeeds as a no-op. Whose AppSpec is read
// follows [target.DeploymentInfo.ScriptSource] (as in the agent's
// hook_executor.rb): ApplicationStop, BeforeBlockTraffic and
// AfterBlockTraffic use the last successful install's revision (in a
// blue/green rollback the block-traffic hooks use the most recent
// download's); when there is none — the first deployment to the instance —
// they succeed without running anything. As in the CodeDeploy agent, the
// earlier revision is used only until the current deployment's bundle has
// been downloaded.
//
// Each script is a real process:
//
//   - its working directory is the deployment archive, and its path is its
//     location there; a missing script fails with ScriptMissing, and one
//     without an execute bit is made executable (chmod +x) first. A location
//     that is not a regular file, or a file the kernel will not run,
//     fails with ScriptNotExecutable; a non-zero exit or death by a signal
//     with ScriptFailed. A script the kernel refuses because a process
//     has it open for writing ("text file busy": a hook of another instance
//     forked while DownloadBundle wrote this one holds the descriptor until
//     it execs) is started again once the agent's forks in progress are
//     over, then after 1, 2, 4 and 8 ms on Options.Clock; a file still busy
//     then fails the script with UnknownError.
//   - its environment is the agent's, plus Options.Env, plus the variables
//     the CodeDeploy agent sets (hook_executor.rb, command_executor.rb):
//     APPLICATION_NAME, DEPLOYMENT_ID, DEPLOYMENT_GROUP_NAME,
//     DEPLOYMENT_GROUP_ID, LIFECYCLE_EVENT and the bundle variables the
//     Source resolved (BUNDLE_BUCKET, BUNDLE_KEY, BUNDLE_VERSION,
//     BUNDLE_ETAG for S3; BUNDLE_COMMIT for GitHub). fleetdeploy adds
//     FLEETDEPLOY_INSTANCE_ROOT, the host path of the instance's root, so that
//     a script can act on "its" host (write $FLEETDEPLOY_INSTANCE_ROOT/opt/app
//     rather than /opt/app), and, for a Fleet's instances,
//     FLEETDEPLOY_INSTANCE_ID.
//   - its location is joined to the deployment archive as the agent joins
//     it: a leading "/" (or "\" with os: windows) is ignored.
//   - runas runs it as that user, which needs the agent to run as root;
//     otherwise the script fails with UnknownError saying so. With
//     os: windows runas is ignored, as the agent ignores it.
//   - stdout and stderr go, combined and in order, to the deployment's
//     logs/scripts.log and to the event's LogTail, which keeps the last 4 KiB
//     of all the event's scripts (target.MaxLogTail).
//
// A script leads a process group of its own. After its timeout (the
// AppSpec's, default 3600 s) the whole group is killed and the event fails
// with ScriptTimedOut: with SIGKILL at once, or, when Options.KillGrace is
// set, with SIGTERM and then SIGKILL after the grace. Timeouts and the grace
// are measured on Options.Clock, so tests time scripts out by advancing a
// fake clock. When ctx ends, the group is killed the same way and RunEvent
// returns ctx's error (that a stop may abort running scripts is fleetdeploy's
// decision; see package deploy). When a script exits, whatever is left
// of its group is killed too: no process outlives its hook. A service meant
// to keep running must be started through the init system, or detach into
// a session of its own (setsid) with its output redirected — a process that
// leaves the group yet keeps the script's output open makes the agent wait
// Options.OutputWait and then fail the script with UnknownError, as the
// CodeDeploy agent fails scripts that leave their outputs open.
//
// On Linux a script also dies with the agent: it is started with SIGKILL
// as its parent-death signal (prctl PR_SET_PDEATHSIG), so that when the
// agent's process crashes or is killed, its hooks do not run on beside
// those of the executor that takes the deployment over and runs the event
// again. The kernel sends that signal when the OS thread that forked the
// script exits, not when the process does; the agent starts each script
// from a goroutine locked to its thread (runtime.LockOSThread) until the
// script has exited, so that the Go runtime cannot retire that thread
// meanwhile, and only the end of the agent's process sends the signal.
// It reaches the script's own process only: processes the script started
// are orphaned and run to their end (nobody is left to kill the group), so
// a script that must not leave any behind should exec its last command.
// On other systems a killed agent's hooks run on until they exit.
//
// # Files and permissions
//
// The Install step does what the CodeDeploy agent's installer does
// (installer.rb in aws/aws-codedeploy-agent; User Guide, "AppSpec 'files'
// section (EC2/On-Premises deployments only)"):
//
//  1. If <group-id>-cleanup exists, every path it lists is removed, last
//     first: files and links always, directories only when empty — files
//     that scripts created are never listed and stay, with their
//     directories. Then the cleanup file is deleted.
//  2. Every copy is planned before anything is written. A source file goes
//     into the destination directory; a source directory's contents are
//     copied into the destination recursively; source "/" is the whole
//     revision, AppSpec included. Missing ancestor directories are created.
//     Symbolic links are copied as links. A file that already exists at a
//     destination — necessarily not part of the previous deployment, whose
//     files step 1 removed — is handled by the file-exists behaviour: the
//     deployment's fileExistsBehavior when set, else the AppSpec's
//     file_exists_behavior, else DISALLOW (fleetdeploy's decision; see package
//     fleetdeploy, "Where fleetdeploy decides"). DISALLOW fails the
//     step before anything is copied; OVERWRITE replaces the file (a
//     directory in the way is still an error); RETAIN keeps it and skips the
//     copy. Two sources for one destination, and any destination inside
//     /deployment-root, fail the step.
//  3. The plan is written to <group-id>-install.json and carried out; a new
//     <group-id>-cleanup lists every file, link and directory created
//     (overwritten files included, retained ones not), even when a step
//     failed half-way.
//
// Copies keep the source's permission bits. The permissions section then
// applies, like the agent's, only to what this Install created: an entry
// whose object is an installed file changes that file; otherwise it changes
// the installed files and directories below the object (never the object
// itself) that its pattern selects — "**" everything below, another pattern
// the direct children whose name matches ([path.Match]) — minus its except
// list, filtered by type. mode is applied always. owner and group are
// applied when the agent runs as root; otherwise they are recorded in
// install.json as skipped and named in the event's message. acls and
// context (SELinux) are not supported: they are recorded as skipped and
// named in the message, and never fail the step. "acls: []" is recorded as
// the agent applies it: a setfacl to the base entries of the object's mode
// (user::, group::, other::), which drops its extended entries.
//
// # Limits
//
//   - Bundles: Options.Limits bound what DownloadBundle unpacks (total bytes,
//     files, bytes per file, directory depth, path length); zero fields take
//     the revision package's defaults.
//   - Archives: Options.MaxRevisions deployment directories per group.
//   - Script output: the last 4 KiB per event in the result; the full output
//     in logs/scripts.log.
//   - Time: each script's timeout, as the agent does, whatever the event's
//     scripts add up to (more than 3600 s is an AppSpec warning). ctx is
//     checked for every entry unpacked, planned, copied and changed, and
//     during every copy, so a cancelled DownloadBundle or Install returns
//     ctx's error without finishing the work.
//   - Concurrency: one event at a time per instance (a second caller waits
//     for its turn or for its ctx); instances of a Fleet run in parallel.
//
// Process groups, runas and SIGTERM exist on Unix only; elsewhere a stopped
// hook's own process is killed and runas fails (with os: linux).
package localtarget

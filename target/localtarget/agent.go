package localtarget

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"slices"
	"time"

	"github.com/fleetdeploy/fleetdeploy/config"
	"github.com/fleetdeploy/fleetdeploy/revision"
	"github.com/fleetdeploy/fleetdeploy/target"
)

// Agent is the on-host agent of one instance: it performs the lifecycle
// events CodeDeploy's agent performs — DownloadBundle, Install and the hook
// events — on an instance whose file system is the directory Root. Create
// one with NewAgent, or let a Fleet manage many.
//
// An Agent keeps no state in memory: everything it knows lives under its
// root (see the package documentation), so a new Agent over the same
// directory continues where an earlier one stopped.
//
// An Agent is safe for concurrent use; events run one at a time.
type Agent struct {
	id    string // the instance ID when the agent belongs to a Fleet
	root  string
	src   revision.Source
	opts  Options
	log   *slog.Logger
	run   runner
	state state
	turn  chan struct{} // holds a token while an event runs
}

var _ target.Installer = (*Agent)(nil)

// NewAgent returns the agent of the instance whose file system is the
// directory root, fetching revisions through src. root is created if it
// does not exist.
func NewAgent(root string, src revision.Source, opts ...func(*Options)) (*Agent, error) {
	o, err := resolveOptions(opts)
	if err != nil {
		return nil, err
	}
	return newAgent("", root, src, o, o.Logger)
}

func newAgent(id, root string, src revision.Source, o Options, log *slog.Logger) (*Agent, error) {
	if src == nil {
		return nil, errors.New("localtarget: the revision source is nil")
	}
	if root == "" {
		return nil, errors.New("localtarget: the instance root directory is empty")
	}
	abs, err := filepath.Abs(root)
	if err != nil {
		return nil, fmt.Errorf("localtarget: instance root %q: %w", root, err)
	}
	if err := os.MkdirAll(hostPath(abs, path.Join(deploymentRoot, instructionsName)), 0o755); err != nil {
		return nil, fmt.Errorf("localtarget: instance root %q: %w", root, err)
	}
	return &Agent{
		id:    id,
		root:  abs,
		src:   src,
		opts:  o,
		log:   log,
		run:   runner{clock: o.Clock, killGrace: o.KillGrace, outputWait: o.OutputWait},
		state: state{root: abs},
		turn:  make(chan struct{}, 1),
	}, nil
}

// Root returns the absolute host path of the instance's file system root.
func (a *Agent) Root() string { return a.root }

// Path returns the host path of the instance path p: Path("/opt/app") is
// Root()+"/opt/app". As in a chroot, ".." cannot climb above the root.
func (a *Agent) Path(p string) string { return hostPath(a.root, p) }

// LastSuccessfulInstall returns the ID of the deployment of group groupID
// whose Install step last succeeded on this instance (the one whose
// ApplicationStop scripts the next deployment runs), or "" when there is
// none. Its errors: ctx's, target.ErrInvalidRequest (wrapped) for a group
// ID that cannot name a file, or a failure to read the record.
func (a *Agent) LastSuccessfulInstall(ctx context.Context, groupID string) (string, error) {
	return a.pointedDeployment(ctx, groupID, lastSuccessfulSuffix)
}

// MostRecentInstall returns the ID of the deployment of group groupID
// whose DownloadBundle step last succeeded on this instance, or "". Errors
// as for LastSuccessfulInstall.
func (a *Agent) MostRecentInstall(ctx context.Context, groupID string) (string, error) {
	return a.pointedDeployment(ctx, groupID, mostRecentSuffix)
}

func (a *Agent) pointedDeployment(ctx context.Context, groupID, suffix string) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	if err := checkPathElement("deployment group ID", groupID); err != nil {
		return "", err
	}
	dir, err := a.state.readPointer(groupID, suffix)
	if dir == "" || err != nil {
		return "", err
	}
	return path.Base(dir), nil
}

// RunEvent performs req.Event for req.Deployment on this instance (it does
// not look at req.Target). It implements target.Installer:
//
//   - DownloadBundle fetches the revision through the Source and unpacks it;
//   - Install copies the files and applies the permissions of its AppSpec;
//   - the hook events run their scripts, taken from the revision
//     req.Deployment.ScriptSource names (as in the agent's hook_executor.rb).
//
// A failure is a result with Status Failed and a lifecycle error code; a
// failure of an event that ignoreApplicationStopFailures covers is a result
// with Status Succeeded whose Message says what was ignored (API Reference,
// CreateDeployment, ignoreApplicationStopFailures).
//
// Errors: ErrNotAgentEvent (wrapped) for an event the agent does not
// perform (BlockTraffic, AllowTraffic, Start, End, events of other
// platforms); target.ErrInvalidRequest (wrapped) for a deployment group ID
// or deployment ID that cannot name a directory, or an unknown
// FileExistsBehavior; ctx's error when it ends first (running scripts are
// killed with their process group); other errors when the instance's
// files cannot be read or written.
func (a *Agent) RunEvent(ctx context.Context, req target.EventRequest) (target.EventResult, error) {
	if err := checkRequest(req); err != nil {
		return target.EventResult{}, err
	}
	select {
	case a.turn <- struct{}{}:
	case <-ctx.Done():
		return target.EventResult{}, ctx.Err()
	}
	defer func() { <-a.turn }()
	if err := ctx.Err(); err != nil {
		return target.EventResult{}, err
	}

	d := req.Deployment
	log := a.log.With("deploymentId", d.DeploymentID, "deploymentGroupId", d.DeploymentGroupID, "event", string(req.Event))
	log.Info("localtarget: event started")
	var (
		res target.EventResult
		err error
	)
	switch req.Event {
	case target.DownloadBundle:
		res, err = a.downloadBundle(ctx, d, log)
	case target.Install:
		res, err = a.install(ctx, d, log)
	default:
		res, err = a.hooks(ctx, req, log)
	}
	if err != nil {
		log.Error("localtarget: event could not run", "err", err)
		return target.EventResult{}, err
	}
	if res.Status == target.EventFailed && d.IgnoresFailureOf(req.Event) {
		log.Warn("localtarget: failure ignored (ignoreApplicationStopFailures)", "errorCode", string(res.ErrorCode), "message", res.Message)
		res.Message = fmt.Sprintf("%s failure ignored because ignoreApplicationStopFailures is set: %s: %s", req.Event, res.ErrorCode, res.Message)
		res.Status, res.ErrorCode = target.EventSucceeded, target.CodeSuccess
	}
	log.Info("localtarget: event finished", "status", string(res.Status), "errorCode", string(res.ErrorCode), "message", res.Message)
	return res, nil
}

// checkRequest checks what RunEvent needs of a request before touching
// anything.
func checkRequest(req target.EventRequest) error {
	if req.Event.Role(config.Server) != target.RoleInstaller {
		role := req.Event.Role(config.Server)
		why := "it is not a Server lifecycle event"
		if role != "" {
			why = "it is performed by the " + string(role)
		} else if req.Event == target.Start || req.Event == target.End {
			why = "it is a pseudo-event that runs nothing"
		}
		return fmt.Errorf("localtarget: event %q: %s: %w", req.Event, why, ErrNotAgentEvent)
	}
	d := req.Deployment
	if err := checkPathElement("deployment group ID", d.DeploymentGroupID); err != nil {
		return err
	}
	if err := checkPathElement("deployment ID", d.DeploymentID); err != nil {
		return err
	}
	if b := d.FileExistsBehavior; b != "" && !validBehavior(b) {
		return fmt.Errorf("localtarget: fileExistsBehavior %q: must be DISALLOW, OVERWRITE or RETAIN: %w", b, target.ErrInvalidRequest)
	}
	return nil
}

func validBehavior(b revision.FileExistsBehavior) bool { return slices.Contains(b.Values(), b) }

// failed returns a failed result.
func failed(code target.LifecycleErrorCode, format string, args ...any) target.EventResult {
	return target.EventResult{Status: target.EventFailed, ErrorCode: code, Message: fmt.Sprintf(format, args...)}
}

// succeeded returns a successful result.
func succeeded(format string, args ...any) target.EventResult {
	return target.EventResult{Status: target.EventSucceeded, ErrorCode: target.CodeSuccess, Message: fmt.Sprintf(format, args...)}
}

// downloadBundle fetches the revision and unpacks it into the deployment's
// archive directory, records it, writes <group-id>_most_recent_install and
// deletes the oldest archives of the group beyond Options.MaxRevisions.
func (a *Agent) downloadBundle(ctx context.Context, d target.DeploymentInfo, log *slog.Logger) (target.EventResult, error) {
	dir := deploymentDir(d.DeploymentGroupID, d.DeploymentID)
	archive := path.Join(dir, archiveName)
	if err := os.MkdirAll(a.state.host(dir), 0o755); err != nil {
		return target.EventResult{}, fmt.Errorf("localtarget: creating %s: %w", dir, err)
	}
	// A DownloadBundle run again (after a crash) starts afresh.
	if err := os.RemoveAll(a.state.host(archive)); err != nil {
		return target.EventResult{}, fmt.Errorf("localtarget: removing the old %s: %w", archive, err)
	}
	b, err := a.src.Open(ctx, d.Revision)
	if err != nil {
		if ctx.Err() != nil {
			return target.EventResult{}, ctx.Err()
		}
		return failed(target.CodeUnknownError, "could not fetch revision %s: %v", d.Revision, err), nil
	}
	defer b.Close()
	res, err := revision.Unpack(ctx, b, a.state.host(archive), func(o *revision.UnpackOptions) { o.Limits = a.opts.Limits })
	if err != nil {
		if ctx.Err() != nil {
			return target.EventResult{}, ctx.Err()
		}
		return failed(target.CodeUnknownError, "could not unpack revision %s: %v", d.Revision, err), nil
	}
	spec, err := a.loadAppSpec(archive)
	if err != nil {
		// Not downloaded, as far as later events are concerned.
		if rerr := os.RemoveAll(a.state.host(archive)); rerr != nil {
			return target.EventResult{}, fmt.Errorf("localtarget: removing %s: %w", archive, rerr)
		}
		return failed(target.CodeUnknownError, "revision %s: %v", d.Revision, err), nil
	}
	var seq int64
	all, err := a.state.groupDeployments(d.DeploymentGroupID)
	if err != nil {
		return target.EventResult{}, err
	}
	for _, g := range all {
		if g.dir != dir {
			seq = max(seq, g.seq)
		}
	}
	rec := deploymentRecord{
		Seq:                 seq + 1,
		ApplicationName:     d.ApplicationName,
		DeploymentGroupName: d.DeploymentGroupName,
		DeploymentGroupID:   d.DeploymentGroupID,
		DeploymentID:        d.DeploymentID,
		Revision:            b.Location,
		BundleEnv:           b.Env,
		AppSpec:             res.AppSpec,
		DownloadedAt:        a.opts.Clock.Now().UTC(),
	}
	if err := a.state.writeRecord(dir, rec); err != nil {
		return target.EventResult{}, err
	}
	if err := a.state.writePointer(d.DeploymentGroupID, mostRecentSuffix, dir); err != nil {
		return target.EventResult{}, err
	}
	last, err := a.state.readPointer(d.DeploymentGroupID, lastSuccessfulSuffix)
	if err != nil {
		return target.EventResult{}, err
	}
	removed, err := a.state.prune(d.DeploymentGroupID, a.opts.MaxRevisions, dir, last)
	if err != nil {
		return target.EventResult{}, err
	}
	for _, r := range removed {
		log.Info("localtarget: removed old deployment archive", "dir", r)
	}
	msg := fmt.Sprintf("downloaded %s: %d entries, %d bytes", b.Location, res.Entries, res.Bytes)
	if res.StrippedDir != "" {
		msg += fmt.Sprintf(" (top directory %s stripped)", res.StrippedDir)
	}
	for _, w := range spec.Warnings {
		log.Warn("localtarget: AppSpec warning", "warning", w.String())
	}
	if n := len(spec.Warnings); n > 0 {
		msg += fmt.Sprintf("; %s: %s", plural(n, "AppSpec warning"), spec.Warnings[0])
		if n > 1 {
			msg += " (all of them in the agent's log)"
		}
	}
	return succeeded("%s", msg), nil
}

// loadAppSpec finds and parses the Server AppSpec of the archive at the
// instance path archive. The error says what is wrong in words.
func (a *Agent) loadAppSpec(archive string) (*revision.AppSpec, error) {
	root, err := os.OpenRoot(a.state.host(archive))
	if err != nil {
		return nil, fmt.Errorf("opening the deployment archive: %w", err)
	}
	defer root.Close()
	name, data, err := revision.FindAppSpec(root.FS(), config.Server)
	if err != nil {
		return nil, err
	}
	spec, err := revision.ParseAppSpecFile(name, data, config.Server)
	if err != nil {
		return nil, err
	}
	if want := hostOS(); spec.OS != want {
		return nil, fmt.Errorf("%s: os is %s, but this instance runs %s", name, spec.OS, want)
	}
	return spec, nil
}

// hostOS is the AppSpec os an instance on this machine accepts.
func hostOS() revision.OS {
	if runtime.GOOS == "windows" {
		return revision.OSWindows
	}
	return revision.OSLinux
}

// install performs the Install step (see "Files and permissions" in the
// package documentation).
func (a *Agent) install(ctx context.Context, d target.DeploymentInfo, log *slog.Logger) (target.EventResult, error) {
	gid := d.DeploymentGroupID
	dir := deploymentDir(gid, d.DeploymentID)
	archive := path.Join(dir, archiveName)
	if !a.state.exists(archive) {
		return failed(target.CodeUnknownError, "the revision of deployment %s has not been downloaded to this instance (DownloadBundle must run before Install)", d.DeploymentID), nil
	}
	spec, err := a.loadAppSpec(archive)
	if err != nil {
		return failed(target.CodeUnknownError, "%v", err), nil
	}
	dest, err := os.OpenRoot(a.root)
	if err != nil {
		return target.EventResult{}, fmt.Errorf("localtarget: opening the instance root: %w", err)
	}
	defer dest.Close()
	arch, err := os.OpenRoot(a.state.host(archive))
	if err != nil {
		return target.EventResult{}, fmt.Errorf("localtarget: opening %s: %w", archive, err)
	}
	defer arch.Close()

	// (1) Remove what the previous Install of the group created.
	cleanup := instructionFile(gid, cleanupSuffix)
	if list, err := readLines(a.state.host(cleanup)); err != nil {
		return target.EventResult{}, fmt.Errorf("localtarget: reading %s: %w", cleanup, err)
	} else if list != nil {
		if err := removeListed(ctx, dest, list); err != nil {
			return target.EventResult{}, err
		}
		if err := os.Remove(a.state.host(cleanup)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return target.EventResult{}, fmt.Errorf("localtarget: removing %s: %w", cleanup, err)
		}
		log.Info("localtarget: removed the previous install's files", "paths", len(list))
	}

	// (2) Plan every copy, then (3) record the plan and carry it out.
	behavior := d.FileExistsBehavior
	if behavior == "" {
		behavior = spec.FileExistsBehavior
	}
	if behavior == "" {
		behavior = revision.FileExistsDisallow
	}
	p := &planner{ctx: ctx, dest: dest, archive: arch, archiveP: archive, behavior: behavior, plan: installPlan{planned: map[string]kind{}}}
	err = p.files(spec)
	if err == nil {
		err = p.permissions(spec, os.Geteuid() == 0)
	}
	var fail *installFailure
	if errors.As(err, &fail) {
		return failed(target.CodeUnknownError, "%s", fail.msg), nil
	} else if err != nil {
		return target.EventResult{}, err
	}
	b, err := marshalInstall(d.DeploymentID, p.plan)
	if err == nil {
		err = writeFileAtomic(a.state.host(instructionFile(gid, installSuffix)), b)
	}
	if err != nil {
		return target.EventResult{}, fmt.Errorf("localtarget: writing %s: %w", instructionFile(gid, installSuffix), err)
	}
	in := &installer{ctx: ctx, dest: dest, archive: arch}
	res, err := a.carryOut(ctx, in, p.plan)
	// The cleanup file lists what was created, even when a step failed.
	if werr := writeLines(a.state.host(cleanup), in.created); werr != nil && err == nil {
		err = fmt.Errorf("localtarget: writing %s: %w", cleanup, werr)
	}
	if err != nil || res.Status == target.EventFailed {
		return res, err
	}
	// The agent rewrites the pointer at the end of Install, not when the
	// deployment succeeds (command_executor.rb in aws/aws-codedeploy-agent).
	if err := a.state.writePointer(gid, lastSuccessfulSuffix, dir); err != nil {
		return target.EventResult{}, err
	}
	res.Message = p.plan.summary()
	for _, s := range p.plan.perms {
		if s.Skipped != "" {
			log.Warn("localtarget: permission not applied", "type", s.Type, "object", s.Destination, "reason", s.Skipped)
		}
	}
	return res, nil
}

// carryOut runs a plan's steps, then its permission instructions.
func (a *Agent) carryOut(ctx context.Context, in *installer, plan installPlan) (target.EventResult, error) {
	for _, s := range plan.steps {
		if err := ctx.Err(); err != nil {
			return target.EventResult{}, err
		}
		if err := in.step(s); err != nil {
			return failed(target.CodeUnknownError, "%s %s: %v", s.Type, s.Destination, err), nil
		}
	}
	for _, s := range plan.perms {
		if err := ctx.Err(); err != nil {
			return target.EventResult{}, err
		}
		if err := in.perm(s); err != nil {
			return failed(target.CodeUnknownError, "%s %s: %v", s.Type, s.Destination, err), nil
		}
	}
	return succeeded(""), nil
}

// now is the agent's clock reading, for log lines.
func (a *Agent) now() time.Time { return a.opts.Clock.Now() }

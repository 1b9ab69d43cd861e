package localtarget

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"maps"
	"os"
	"path"
	"path/filepath"
	"slices"
	"time"

	"github.com/fleetdeploy/fleetdeploy/revision"
	"github.com/fleetdeploy/fleetdeploy/target"
)

// hooks runs the scripts of a hook event as the CodeDeploy agent's
// hook_executor.rb does.
func (a *Agent) hooks(ctx context.Context, req target.EventRequest, log *slog.Logger) (target.EventResult, error) {
	d, event := req.Deployment, req.Event
	current := deploymentDir(d.DeploymentGroupID, d.DeploymentID)
	currentArchive := a.state.exists(path.Join(current, archiveName))

	var dir string
	switch src := d.ScriptSource(event); {
	case src == target.ScriptsCurrent || currentArchive:
		// The agent looks back at earlier revisions only until the current
		// one is downloaded.
		if !currentArchive {
			return failed(target.CodeUnknownError, "the revision of deployment %s has not been downloaded to this instance; %s runs its scripts, so DownloadBundle must run first", d.DeploymentID, event), nil
		}
		dir = current
	default:
		suffix, which := lastSuccessfulSuffix, "last successful install"
		if src == target.ScriptsMostRecent {
			suffix, which = mostRecentSuffix, "most recent download"
		}
		prev, err := a.state.readPointer(d.DeploymentGroupID, suffix)
		if err != nil {
			return target.EventResult{}, err
		}
		if prev == "" {
			return succeeded("%s runs the scripts of the %s of deployment group %s, and this instance has none: nothing to run", event, which, d.DeploymentGroupID), nil
		}
		if !a.state.exists(path.Join(prev, archiveName)) {
			return succeeded("%s runs the scripts of the %s (deployment %s), whose archive is gone: nothing to run", event, which, path.Base(prev)), nil
		}
		dir = prev
	}
	archive := path.Join(dir, archiveName)
	spec, err := a.loadAppSpec(archive)
	if err != nil {
		return failed(target.CodeUnknownError, "%v", err), nil
	}
	scripts := spec.ScriptsFor(string(event))
	if len(scripts) == 0 {
		return succeeded("the revision of deployment %s has no %s scripts: nothing to run", path.Base(dir), event), nil
	}

	logFile, err := a.openScriptLog(current)
	if err != nil {
		return target.EventResult{}, err
	}
	defer logFile.Close()
	var out tail
	sc := scriptContext{archive: archive, os: spec.OS, event: event, env: a.hookEnv(d, event), output: io.MultiWriter(&out, logFile), log: logFile}
	for _, s := range scripts {
		res, err := a.runScript(ctx, sc, s, log)
		if err != nil {
			return target.EventResult{}, err
		}
		if res.Status == target.EventFailed {
			res.LogTail = out.String()
			return res, nil
		}
	}
	res := succeeded("ran %s of %s from the revision of deployment %s", plural(len(scripts), "script"), event, path.Base(dir))
	res.LogTail = out.String()
	return res, nil
}

// openScriptLog opens the current deployment's script log for appending.
func (a *Agent) openScriptLog(dir string) (*os.File, error) {
	name := a.state.host(path.Join(dir, scriptLogName))
	if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		return nil, fmt.Errorf("localtarget: creating the script log: %w", err)
	}
	f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("localtarget: opening the script log: %w", err)
	}
	return f, nil
}

// hookEnv returns the environment of the event's scripts: the agent's own,
// then Options.Env, then the bundle variables and the lifecycle variables
// the CodeDeploy agent sets, then fleetdeploy's FLEETDEPLOY_INSTANCE_ROOT
// and (for a Fleet's instances) FLEETDEPLOY_INSTANCE_ID (later entries win).
func (a *Agent) hookEnv(d target.DeploymentInfo, event target.LifecycleEvent) []string {
	env := slices.Concat(os.Environ(), a.opts.Env)
	bundle := revision.BundleEnv(d.Revision)
	if rec, ok, err := a.state.readRecord(deploymentDir(d.DeploymentGroupID, d.DeploymentID)); err == nil && ok && rec.BundleEnv != nil {
		bundle = rec.BundleEnv // resolved by the Source: version, eTag
	}
	for _, k := range slices.Sorted(maps.Keys(bundle)) {
		env = append(env, k+"="+bundle[k])
	}
	env = append(env,
		"APPLICATION_NAME="+d.ApplicationName,
		"DEPLOYMENT_ID="+d.DeploymentID,
		"DEPLOYMENT_GROUP_NAME="+d.DeploymentGroupName,
		"DEPLOYMENT_GROUP_ID="+d.DeploymentGroupID,
		"LIFECYCLE_EVENT="+string(event),
		"FLEETDEPLOY_INSTANCE_ROOT="+a.root,
	)
	if a.id != "" {
		env = append(env, "FLEETDEPLOY_INSTANCE_ID="+a.id)
	}
	return env
}

// scriptContext is what every script of one event shares.
type scriptContext struct {
	archive string      // instance path of the deployment archive
	os      revision.OS // the AppSpec's os, for its script locations
	event   target.LifecycleEvent
	env     []string
	output  io.Writer // the log tail and the script log
	log     io.Writer // the script log
}

// runScript runs one hook script and returns its result; a failed script
// is a result, an error means the run was cancelled or the agent failed.
func (a *Agent) runScript(ctx context.Context, sc scriptContext, s revision.Script, log *slog.Logger) (target.EventResult, error) {
	if err := ctx.Err(); err != nil {
		return target.EventResult{}, err
	}
	// Joined to the archive as the agent joins it: a leading "/" (or "\"
	// on Windows) is ignored.
	rel := sc.os.BundlePath(s.Location)
	where := s.Location
	root, err := os.OpenRoot(a.state.host(sc.archive))
	if err != nil {
		return target.EventResult{}, fmt.Errorf("localtarget: opening %s: %w", sc.archive, err)
	}
	defer root.Close()
	fi, err := root.Stat(rel)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return failed(target.CodeScriptMissing, "Script does not exist at specified location: %s", path.Join(sc.archive, rel)), nil
	case err != nil:
		return failed(target.CodeScriptMissing, "Script at specified location: %s cannot be found inside the revision: %v", where, err), nil
	case !fi.Mode().IsRegular():
		return failed(target.CodeScriptNotExecutable, "Script at specified location: %s is not a regular file and cannot be executed", where), nil
	}
	if fi.Mode().Perm()&0o111 == 0 {
		log.Warn("localtarget: script is not executable; trying to make it executable", "script", where)
		if err := root.Chmod(rel, fi.Mode().Perm()|0o111); err != nil {
			return failed(target.CodeScriptNotExecutable, "Unable to set script at specified location: %s as executable: %v", where, err), nil
		}
	}
	var cred *credential
	if s.RunAs != "" && sc.os != revision.OSWindows { // the agent ignores runas on Windows
		if !supportsRunAs {
			return failed(target.CodeUnknownError, "Script at specified location: %s has runas %s, which this operating system does not support", where, s.RunAs), nil
		}
		cred, err = lookupCredential(s.RunAs)
		if err != nil {
			return failed(target.CodeUnknownError, "Script at specified location: %s: runas user %s: %v", where, s.RunAs, err), nil
		}
		if cred != nil && os.Geteuid() != 0 {
			return failed(target.CodeUnknownError, "Script at specified location: %s has runas %s, which needs the agent to run as root (it runs as uid %d)", where, s.RunAs, os.Geteuid()), nil
		}
	}
	env := sc.env
	if cred != nil {
		env = append(slices.Clip(env), "USER="+cred.name, "LOGNAME="+cred.name, "HOME="+cred.home)
	}
	timeout := s.Timeout
	if timeout <= 0 {
		timeout = revision.DefaultScriptTimeout
	}
	stamp := func() string { return a.now().UTC().Format(time.RFC3339) }
	fmt.Fprintf(sc.log, "%s LifecycleEvent - %s\n%s Script - %s\n", stamp(), sc.event, stamp(), where)
	log.Info("localtarget: running script", "script", where, "timeout", timeout, "runas", s.RunAs)
	x := a.run.run(ctx, process{
		path:    a.state.host(path.Join(sc.archive, rel)),
		dir:     a.state.host(sc.archive),
		env:     env,
		cred:    cred,
		timeout: timeout,
		output:  sc.output,
	})
	var res target.EventResult
	switch {
	case x.startErr != nil && (errors.Is(x.startErr, fs.ErrPermission) || isExecFormatError(x.startErr)):
		res = failed(target.CodeScriptNotExecutable, "Script at specified location: %s could not be executed: %v", where, x.startErr)
	case x.startErr != nil:
		res = failed(target.CodeUnknownError, "Script at specified location: %s could not be started: %v", where, x.startErr)
	case x.cancelled != nil:
		fmt.Fprintf(sc.log, "%s Script - %s stopped: %v\n", stamp(), where, x.cancelled)
		return target.EventResult{}, fmt.Errorf("localtarget: %s script %s stopped (its process group was killed): %w", sc.event, where, x.cancelled)
	case x.timedOut:
		res = failed(target.CodeScriptTimedOut, "Script at specified location: %s failed to complete in %d seconds", where, int64(timeout/time.Second))
	case !x.state.Success():
		as := ""
		if s.RunAs != "" {
			as = " run as user " + s.RunAs
		}
		if code := x.state.ExitCode(); code >= 0 {
			res = failed(target.CodeScriptFailed, "Script at specified location: %s%s failed with exit code %d", where, as, code)
		} else {
			res = failed(target.CodeScriptFailed, "Script at specified location: %s%s was stopped: %s", where, as, x.state)
		}
	case x.outputsLeftOpen:
		res = failed(target.CodeUnknownError, "Script at specified location: %s exited, but a process it started outside its process group kept its stdout or stderr open; redirect the output of background processes", where)
	default:
		res = succeeded("")
	}
	fmt.Fprintf(sc.log, "%s Script - %s: %s %s\n", stamp(), where, res.Status, res.Message)
	return res, nil
}

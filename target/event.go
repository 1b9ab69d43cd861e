package target

import (
	"slices"
	"unicode/utf8"

	"github.com/fleetdeploy/fleetdeploy/config"
)

// LifecycleEvent is the name of one step of a deployment on a target,
// spelled as CodeDeploy spells it (User Guide, "AppSpec 'hooks' section").
// Which events exist, which take user hooks and which role performs them
// depends on the compute platform: see Exists, Scriptable, Reserved and
// Role.
type LifecycleEvent string

// The lifecycle events of every platform (User Guide, "AppSpec 'hooks'
// section").
const (
	// Start is the pseudo-event that begins every sequence; nothing runs.
	Start LifecycleEvent = "Start"
	// ApplicationStop stops the running application with the scripts of
	// the last successfully installed revision (Server).
	ApplicationStop LifecycleEvent = "ApplicationStop"
	// DownloadBundle fetches and unpacks the revision (Server, reserved).
	DownloadBundle LifecycleEvent = "DownloadBundle"
	// BeforeInstall runs before files are copied (Server, ECS).
	BeforeInstall LifecycleEvent = "BeforeInstall"
	// Install copies the revision's files into place (Server) or creates
	// the replacement task set (ECS). Reserved.
	Install LifecycleEvent = "Install"
	// AfterInstall runs after files are copied (Server, ECS).
	AfterInstall LifecycleEvent = "AfterInstall"
	// ApplicationStart starts the application (Server).
	ApplicationStart LifecycleEvent = "ApplicationStart"
	// ValidateService verifies the deployment (Server).
	ValidateService LifecycleEvent = "ValidateService"
	// BeforeBlockTraffic runs before the target leaves its load balancer
	// (Server).
	BeforeBlockTraffic LifecycleEvent = "BeforeBlockTraffic"
	// BlockTraffic deregisters the target from its load balancer (Server,
	// reserved).
	BlockTraffic LifecycleEvent = "BlockTraffic"
	// AfterBlockTraffic runs after the target left its load balancer
	// (Server).
	AfterBlockTraffic LifecycleEvent = "AfterBlockTraffic"
	// AllowTestTraffic routes the test listener to the replacement task
	// set (ECS, reserved).
	AllowTestTraffic LifecycleEvent = "AllowTestTraffic"
	// AfterAllowTestTraffic runs after test traffic reaches the replacement
	// (ECS).
	AfterAllowTestTraffic LifecycleEvent = "AfterAllowTestTraffic"
	// BeforeAllowTraffic runs before production traffic moves.
	BeforeAllowTraffic LifecycleEvent = "BeforeAllowTraffic"
	// AllowTraffic registers the target with its load balancer (Server) or
	// shifts production traffic (Lambda, ECS). Reserved.
	AllowTraffic LifecycleEvent = "AllowTraffic"
	// AfterAllowTraffic runs after production traffic moved.
	AfterAllowTraffic LifecycleEvent = "AfterAllowTraffic"
	// End is the pseudo-event that ends every sequence; nothing runs.
	End LifecycleEvent = "End"
)

// Values returns every valid LifecycleEvent, of all platforms.
func (LifecycleEvent) Values() []LifecycleEvent {
	return []LifecycleEvent{Start, ApplicationStop, DownloadBundle, BeforeInstall, Install, AfterInstall,
		ApplicationStart, ValidateService, BeforeBlockTraffic, BlockTraffic, AfterBlockTraffic,
		AllowTestTraffic, AfterAllowTestTraffic, BeforeAllowTraffic, AllowTraffic, AfterAllowTraffic, End}
}

// eventInfo is what a platform says about one of its events.
type eventInfo struct {
	scriptable bool
	role       Role // "" for the pseudo-events Start and End
}

// lookup returns what platform p says about event e, and whether p has e.
// It is the one table behind Exists, Scriptable, Reserved and Role.
func lookup(p config.ComputePlatform, e LifecycleEvent) (eventInfo, bool) {
	hook := func(r Role) (eventInfo, bool) { return eventInfo{scriptable: true, role: r}, true }
	reserved := func(r Role) (eventInfo, bool) { return eventInfo{role: r}, true }
	if e == Start || e == End {
		return eventInfo{}, slices.Contains(config.ComputePlatform("").Values(), p)
	}
	switch p {
	case config.Server:
		switch e {
		case ApplicationStop, BeforeInstall, AfterInstall, ApplicationStart, ValidateService,
			BeforeBlockTraffic, AfterBlockTraffic, BeforeAllowTraffic, AfterAllowTraffic:
			return hook(RoleInstaller)
		case DownloadBundle, Install:
			return reserved(RoleInstaller)
		case BlockTraffic, AllowTraffic:
			return reserved(RoleTrafficController)
		}
	case config.Lambda:
		switch e {
		case BeforeAllowTraffic, AfterAllowTraffic:
			return hook(RoleHookInvoker)
		case AllowTraffic:
			return reserved(RoleTrafficShifter)
		}
	case config.ECS:
		switch e {
		case BeforeInstall, AfterInstall, AfterAllowTestTraffic, BeforeAllowTraffic, AfterAllowTraffic:
			return hook(RoleHookInvoker)
		case Install:
			return reserved(RoleProvisioner)
		case AllowTestTraffic, AllowTraffic:
			return reserved(RoleTrafficShifter)
		}
	}
	return eventInfo{}, false
}

// Exists reports whether platform p has event e.
func (e LifecycleEvent) Exists(p config.ComputePlatform) bool {
	_, ok := lookup(p, e)
	return ok
}

// Scriptable reports whether users may attach hooks to e on platform p:
// scripts in the AppSpec's hooks section (Server) or Lambda functions
// (Lambda, ECS). Server: ApplicationStop, BeforeInstall, AfterInstall,
// ApplicationStart, ValidateService and the Before/After traffic events.
// Lambda: BeforeAllowTraffic, AfterAllowTraffic. ECS: BeforeInstall,
// AfterInstall, AfterAllowTestTraffic, BeforeAllowTraffic, AfterAllowTraffic.
func (e LifecycleEvent) Scriptable(p config.ComputePlatform) bool {
	i, ok := lookup(p, e)
	return ok && i.scriptable
}

// Reserved reports whether e is an event of platform p that CodeDeploy
// performs itself and users cannot hook: DownloadBundle, Install,
// BlockTraffic, AllowTraffic, AllowTestTraffic, and the pseudo-events Start
// and End.
func (e LifecycleEvent) Reserved(p config.ComputePlatform) bool {
	i, ok := lookup(p, e)
	return ok && !i.scriptable
}

// Role returns the role that performs e on platform p, or "" for the
// pseudo-events Start and End and for events p does not have.
//
//   - Server: BlockTraffic and AllowTraffic are the TrafficController's;
//     every other event (hooks, DownloadBundle, Install) is the Installer's.
//   - Lambda: AllowTraffic is the TrafficShifter's; hooks are the
//     HookInvoker's.
//   - ECS: Install is the Provisioner's (it creates the replacement task
//     set); AllowTestTraffic and AllowTraffic are the TrafficShifter's;
//     hooks are the HookInvoker's.
func (e LifecycleEvent) Role(p config.ComputePlatform) Role {
	i, _ := lookup(p, e)
	return i.role
}

// ScriptableEvents returns the events of platform p that take user hooks,
// in lifecycle order. An AppSpec's hooks section may name only these.
func ScriptableEvents(p config.ComputePlatform) []LifecycleEvent {
	var out []LifecycleEvent
	for _, e := range LifecycleEvent("").Values() {
		if e.Scriptable(p) {
			out = append(out, e)
		}
	}
	return out
}

// StopFailureIgnorable reports whether a deployment's
// ignoreApplicationStopFailures setting covers e: true for ApplicationStop,
// BeforeBlockTraffic and AfterBlockTraffic (API Reference, CreateDeployment,
// ignoreApplicationStopFailures). Such a failure then does not fail the
// target; the next event runs.
func (e LifecycleEvent) StopFailureIgnorable() bool {
	return e == ApplicationStop || e == BeforeBlockTraffic || e == AfterBlockTraffic
}

// IgnoresFailureOf reports whether a failure of event e must not fail the
// target in deployment d: d.IgnoreApplicationStopFailures is set and e is
// covered by it (see StopFailureIgnorable).
func (d DeploymentInfo) IgnoresFailureOf(e LifecycleEvent) bool {
	return d.IgnoreApplicationStopFailures && e.StopFailureIgnorable()
}

// ScriptSource says whose AppSpec and scripts a Server lifecycle event runs
// (API Reference, CreateDeployment, ignoreApplicationStopFailures; the
// CodeDeploy agent's hook_executor.rb, github.com/aws/aws-codedeploy-agent).
// The values are fleetdeploy's own.
type ScriptSource string

// The script sources.
const (
	// ScriptsCurrent: the revision being deployed.
	ScriptsCurrent ScriptSource = "Current"
	// ScriptsLastSuccessful: the revision of the last successful Install
	// on this target for this deployment group (ID). The record is
	// rewritten at the end of the Install event, not when the deployment
	// succeeds, so a deployment whose AfterInstall or later failed still
	// counts. When there is none (first deployment), the event is a no-op
	// that succeeds.
	ScriptsLastSuccessful ScriptSource = "LastSuccessful"
	// ScriptsMostRecent: the revision most recently downloaded on this
	// target for this deployment group (written at the end of
	// DownloadBundle). Used only by blue/green rollbacks.
	ScriptsMostRecent ScriptSource = "MostRecent"
)

// Values returns every valid ScriptSource.
func (ScriptSource) Values() []ScriptSource {
	return []ScriptSource{ScriptsCurrent, ScriptsLastSuccessful, ScriptsMostRecent}
}

// ScriptSource returns whose scripts event e runs in deployment d, as the
// CodeDeploy agent chooses them (see the ScriptSource type):
//
//   - normally ApplicationStop, BeforeBlockTraffic and AfterBlockTraffic
//     run the last successful install's scripts — they act on what is
//     running now — and every other event runs the current revision's;
//   - in a blue/green rollback (see BlueGreenRollback), BeforeBlockTraffic
//     and AfterBlockTraffic run the most recent install's scripts (the
//     replacement being taken out of service), ApplicationStop,
//     BeforeAllowTraffic and AfterAllowTraffic the last successful
//     install's, and the others the current revision's.
//
// The CodeDeploy agent looks at the earlier revisions only until the current
// deployment's bundle has been downloaded; an agent implementation
// reproduces that by resolving these sources before DownloadBundle.
func (d DeploymentInfo) ScriptSource(e LifecycleEvent) ScriptSource {
	if d.BlueGreenRollback() {
		switch e {
		case BeforeBlockTraffic, AfterBlockTraffic:
			return ScriptsMostRecent
		case ApplicationStop, BeforeAllowTraffic, AfterAllowTraffic:
			return ScriptsLastSuccessful
		}
		return ScriptsCurrent
	}
	switch e {
	case ApplicationStop, BeforeBlockTraffic, AfterBlockTraffic:
		return ScriptsLastSuccessful
	}
	return ScriptsCurrent
}

// LifecycleEventStatus is the status of one lifecycle event on one target,
// spelled as CodeDeploy spells it.
type LifecycleEventStatus string

// The lifecycle event statuses.
const (
	EventPending    LifecycleEventStatus = "Pending"
	EventInProgress LifecycleEventStatus = "InProgress"
	EventSucceeded  LifecycleEventStatus = "Succeeded"
	EventFailed     LifecycleEventStatus = "Failed"
	// EventSkipped: the event was not run (an earlier event failed, the
	// deployment stopped, or the target could not be reached).
	EventSkipped LifecycleEventStatus = "Skipped"
	EventUnknown LifecycleEventStatus = "Unknown"
)

// Values returns every valid LifecycleEventStatus.
func (LifecycleEventStatus) Values() []LifecycleEventStatus {
	return []LifecycleEventStatus{EventPending, EventInProgress, EventSucceeded, EventFailed, EventSkipped, EventUnknown}
}

// LifecycleErrorCode says why a lifecycle event failed, spelled as
// CodeDeploy spells Diagnostics.errorCode (API Reference, Diagnostics).
type LifecycleErrorCode string

// The lifecycle error codes.
const (
	CodeSuccess             LifecycleErrorCode = "Success"
	CodeScriptMissing       LifecycleErrorCode = "ScriptMissing"
	CodeScriptNotExecutable LifecycleErrorCode = "ScriptNotExecutable"
	CodeScriptTimedOut      LifecycleErrorCode = "ScriptTimedOut"
	CodeScriptFailed        LifecycleErrorCode = "ScriptFailed"
	CodeUnknownError        LifecycleErrorCode = "UnknownError"
)

// Values returns every valid LifecycleErrorCode.
func (LifecycleErrorCode) Values() []LifecycleErrorCode {
	return []LifecycleErrorCode{CodeSuccess, CodeScriptMissing, CodeScriptNotExecutable, CodeScriptTimedOut, CodeScriptFailed, CodeUnknownError}
}

// EventRequest asks an Installer to run one lifecycle event on one target.
type EventRequest struct {
	Target     Target         `json:"target"`
	Event      LifecycleEvent `json:"event"`
	Deployment DeploymentInfo `json:"deployment"`
}

// MaxLogTail is the most bytes of script output an EventResult carries
// (CodeDeploy's Diagnostics.logTail keeps the last 4 KiB).
const MaxLogTail = 4096

// EventResult is the outcome of one lifecycle event on one target. A hook
// that failed is a result with Status EventFailed, not an error.
type EventResult struct {
	// Status is EventSucceeded, EventFailed or EventSkipped.
	Status LifecycleEventStatus `json:"status"`
	// ErrorCode is CodeSuccess when the event succeeded, another code when
	// it failed; empty is read as CodeSuccess for a success and
	// CodeUnknownError for a failure.
	ErrorCode LifecycleErrorCode `json:"errorCode,omitempty"`
	// Message is a human-readable summary, e.g. "script scripts/stop.sh
	// exited with status 1".
	Message string `json:"message,omitempty"`
	// LogTail is the end of the scripts' output, at most MaxLogTail bytes
	// (see TrimLogTail).
	LogTail string `json:"logTail,omitempty"`
}

// Validate reports every rule r breaks, as a *multierror.Error of *Problem
// values matching ErrInvalidRequest: Status must be Succeeded, Failed or Skipped; ErrorCode
// empty or valid, not CodeSuccess for a failure and nothing else for a
// success; LogTail at most MaxLogTail bytes.
func (r EventResult) Validate() error {
	var ps config.Problems
	switch r.Status {
	case EventSucceeded:
		if r.ErrorCode != "" && r.ErrorCode != CodeSuccess {
			ps.Add(nil, "errorCode", "must be Success or empty when status is Succeeded; got %q", r.ErrorCode)
		}
	case EventFailed:
		if r.ErrorCode == CodeSuccess {
			ps.Add(nil, "errorCode", "must not be Success when status is Failed")
		}
	case EventSkipped:
	default:
		ps.Add(nil, "status", "must be Succeeded, Failed or Skipped; got %q", r.Status)
	}
	if r.ErrorCode != "" && !slices.Contains(r.ErrorCode.Values(), r.ErrorCode) {
		ps.Add(nil, "errorCode", "must be one of %v; got %q", r.ErrorCode.Values(), r.ErrorCode)
	}
	if len(r.LogTail) > MaxLogTail {
		ps.Add(nil, "logTail", "must be at most %d bytes; got %d", MaxLogTail, len(r.LogTail))
	}
	return ps.Err(ErrInvalidRequest, "event result")
}

// TrimLogTail returns the last MaxLogTail bytes of s, cut at a UTF-8
// character boundary so the result stays valid text.
func TrimLogTail(s string) string {
	if len(s) <= MaxLogTail {
		return s
	}
	s = s[len(s)-MaxLogTail:]
	for i := 0; i < utf8.UTFMax && i < len(s); i++ {
		if utf8.RuneStart(s[i]) {
			return s[i:]
		}
	}
	return s
}

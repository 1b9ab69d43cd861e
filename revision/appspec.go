package revision

import (
	"errors"
	"io/fs"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/fleetdeploy/fleetdeploy/config"
)

// ErrInvalidAppSpec is matched (with [errors.Is]) by every error that reports
// an AppSpec breaking a rule: the lists of [*AppSpecProblem] returned by
// [ParseAppSpec], [ParseAppSpecFile], [AppSpec.Validate] and
// [AppSpec.ValidateFileObjects], and the errors of [ParseACLEntry].
var ErrInvalidAppSpec = errors.New("revision: invalid AppSpec")

// AppSpecVersion is the only AppSpec version CodeDeploy knows (User Guide,
// "AppSpec File structure").
const AppSpecVersion = "0.0"

// DefaultScriptTimeout is a hook script's timeout when the AppSpec gives none,
// and also the most all scripts of one lifecycle event should add up to
// (User Guide, "AppSpec 'hooks' section"); ParseAppSpecFile warns when
// they add up to more.
const DefaultScriptTimeout = 3600 * time.Second

// OS is the operating system a Server AppSpec is written for, spelled as in
// the AppSpec's os key.
type OS string

// The operating systems.
const (
	OSLinux   OS = "linux"
	OSWindows OS = "windows"
)

// Values returns every valid OS.
func (OS) Values() []OS { return []OS{OSLinux, OSWindows} }

// BundlePath returns p — a files source or a hook script location of an
// AppSpec for os o — as a slash-separated path relative to the bundle root,
// the way the CodeDeploy agent joins it to the deployment archive: with
// os: windows "\" separates too, leading separators are dropped, and the
// result is cleaned ("." for the root itself). It does not check that p
// stays inside the bundle; a parsed AppSpec's paths always do.
func (o OS) BundlePath(p string) string {
	if o == OSWindows {
		p = strings.ReplaceAll(p, `\`, "/")
	}
	rel := strings.TrimPrefix(path.Clean("/"+p), "/")
	if rel == "" {
		return "."
	}
	return rel
}

// FileExistsBehavior says what the Install step does with a file that
// already exists at a destination and was not installed by the previous
// successful deployment (API Reference, CreateDeployment; User Guide,
// "AppSpec 'files' section (EC2/On-Premises deployments only)"). Spelled as
// CodeDeploy spells fileExistsBehavior.
type FileExistsBehavior string

// The file-exists behaviours.
const (
	// FileExistsDisallow fails the deployment (CodeDeploy's default).
	FileExistsDisallow FileExistsBehavior = "DISALLOW"
	// FileExistsOverwrite replaces the existing file with the revision's copy.
	FileExistsOverwrite FileExistsBehavior = "OVERWRITE"
	// FileExistsRetain keeps the existing file and skips the copy.
	FileExistsRetain FileExistsBehavior = "RETAIN"
)

// Values returns every valid FileExistsBehavior.
func (FileExistsBehavior) Values() []FileExistsBehavior {
	return []FileExistsBehavior{FileExistsDisallow, FileExistsOverwrite, FileExistsRetain}
}

// ObjectType is a kind of file-system object a [Permission] applies to.
type ObjectType string

// The object types.
const (
	// ObjectFile selects the files directly inside the permission's object.
	ObjectFile ObjectType = "file"
	// ObjectDirectory selects every directory anywhere below the object.
	ObjectDirectory ObjectType = "directory"
)

// Values returns every valid ObjectType.
func (ObjectType) Values() []ObjectType { return []ObjectType{ObjectFile, ObjectDirectory} }

// AppSpec is a parsed application specification file: what a revision
// installs and which hooks run during its lifecycle events.
//
// One type serves the three compute platforms; Platform says which fields
// apply:
//
//   - Server (EC2/on-premises): OS, Files, FileExistsBehavior, Permissions
//     and Hooks (scripts per lifecycle event).
//   - Lambda: Lambda and HookFunctions.
//   - ECS: ECS and HookFunctions.
//
// The fields of the other platforms are empty. [ParseAppSpec] fills defaults
// (a script's timeout, a permission's pattern and types); a value built in Go
// should set them too and can be checked with [AppSpec.Validate].
type AppSpec struct {
	// Platform is the compute platform the AppSpec was parsed for.
	Platform config.ComputePlatform
	// Version is always AppSpecVersion ("0.0") in a valid AppSpec.
	Version string

	// OS is the operating system of the instances (Server only).
	OS OS
	// Files says what the Install step copies where, in AppSpec order
	// (Server only).
	Files []FileMapping
	// FileExistsBehavior is the AppSpec's file_exists_behavior, or "" when
	// absent (Server only). A value set on the deployment wins over it; with
	// neither, DISALLOW applies (fleetdeploy's decision; see package
	// fleetdeploy, "Where fleetdeploy decides").
	FileExistsBehavior FileExistsBehavior
	// Permissions are applied after the Install step copies the files, in
	// AppSpec order (Server with OS linux only).
	Permissions []Permission
	// Hooks maps a lifecycle event name (for example "AfterInstall") to the
	// scripts it runs, in AppSpec order (Server only). An event listed with
	// no scripts maps to an empty slice and is a no-op.
	Hooks map[string][]Script

	// Lambda is the function whose alias the deployment shifts (Lambda only).
	Lambda *LambdaFunction
	// ECS is the service whose task set the deployment replaces (ECS only).
	ECS *ECSService
	// HookFunctions maps a lifecycle event name (for example
	// "BeforeAllowTraffic") to the Lambda function that validates it
	// (Lambda and ECS only).
	HookFunctions map[string]string

	// Warnings lists, by line, what the parser accepted because the
	// CodeDeploy agent does although the AppSpec reference says otherwise
	// (at most 100); see [Warning]. It is nil for a clean file. Validate
	// ignores it; ParseOptions.Strict refuses a file that has any.
	Warnings []Warning
}

// FileMapping is one entry of a Server AppSpec's files section.
type FileMapping struct {
	// Source is a file or directory of the revision, relative to the bundle
	// root. A directory's contents are copied recursively; "/" (or "\" on
	// Windows) is the whole revision. A leading slash is ignored, as the
	// CodeDeploy agent joins the source to the bundle root.
	Source string
	// Destination is an absolute path on the instance: a file source is
	// copied into this directory, a directory source's contents are copied
	// to it.
	Destination string
}

// Script is one hook script of a Server AppSpec.
type Script struct {
	// Location is the script's path relative to the bundle root, as
	// written but without surrounding white space (the agent strips it). A
	// leading "/" (or "\" with os: windows) is allowed and ignored, as the
	// agent joins the location to the bundle root: "/scripts/a.sh" is
	// "scripts/a.sh". [OS.BundlePath] turns it into a path to open.
	Location string
	// Timeout bounds the script's run: whole seconds, DefaultScriptTimeout
	// (one hour) when the AppSpec gives none.
	Timeout time.Duration
	// TimeoutSet reports whether the AppSpec gave Timeout. The AppSpec
	// reference says the timeouts of one event's scripts should add up to
	// at most DefaultScriptTimeout; the agent runs each script with its own
	// timeout whatever the sum, and so does fleetdeploy, with a warning
	// when the timeouts given add up to more. Scripts left at the default
	// do not count towards that sum, so that an event of several scripts
	// without timeouts (as in the CodeDeploy User Guide's own example)
	// draws no warning.
	TimeoutSet bool
	// RunAs is the user to run the script as, without surrounding white
	// space; empty means the agent's user. The parser leaves it empty with
	// os: windows, where the agent ignores runas (with a warning).
	RunAs string
}

// Permission is one entry of a Server AppSpec's permissions section (Linux
// only). Omitted owner, group, mode, ACLs and context leave what the copy
// produced unchanged.
type Permission struct {
	// Object is the file or directory on the instance the entry applies to.
	Object string
	// Pattern selects names inside Object; "**" (the default) selects all.
	Pattern string
	// Except lists names that the pattern must not select.
	Except []string
	// Owner and Group are a user and group name, or empty.
	Owner string
	Group string
	// Mode is the permission mode to set, or nil to leave modes alone.
	Mode *FileMode
	// ACLs are setfacl-style entries ("u:bob:rw") that replace existing ACLs;
	// see ParseACLEntry. nil means acls was absent: ACLs are left alone. A
	// non-nil empty slice means "acls: []": as the agent does, the
	// object's extended ACL entries are replaced by the base entries of its
	// mode (setfacl --set u::rw-,g::r--,o::r-- for mode 644).
	ACLs []string
	// Context is the SELinux label to apply, or nil.
	Context *SELinuxContext
	// Type says whether the entry applies to files directly inside Object,
	// to directories anywhere below it, or both (the default). Object itself
	// is never changed when it is a directory.
	Type []ObjectType
}

// HasType reports whether p applies to objects of type t.
func (p Permission) HasType(t ObjectType) bool { return slices.Contains(p.Type, t) }

// SELinuxContext is the SELinux label of a [Permission].
type SELinuxContext struct {
	// User is the SELinux user. The AppSpec key is "user" (as documented) or
	// "name" (as the CodeDeploy agent reads it); both are accepted.
	User string
	// Type is the SELinux type; required.
	Type string
	// Range is the MLS/MCS range, for example "s0" or "s0-s1:c0.c255";
	// empty leaves it to the system (s0).
	Range string
}

// FileMode is a Unix permission mode as written in an AppSpec in octal: the
// nine permission bits plus setuid (04000), setgid (02000) and sticky (01000).
// The AppSpec value 644 is FileMode(0o644).
type FileMode uint32

// String returns m as four octal digits, for example "0644".
func (m FileMode) String() string {
	s := strconv.FormatUint(uint64(m), 8)
	if len(s) < 4 {
		s = strings.Repeat("0", 4-len(s)) + s
	}
	return s
}

// FSMode returns m as an [fs.FileMode], mapping the setuid, setgid and sticky
// bits to [fs.ModeSetuid], [fs.ModeSetgid] and [fs.ModeSticky].
func (m FileMode) FSMode() fs.FileMode {
	mode := fs.FileMode(m & 0o777)
	if m&0o4000 != 0 {
		mode |= fs.ModeSetuid
	}
	if m&0o2000 != 0 {
		mode |= fs.ModeSetgid
	}
	if m&0o1000 != 0 {
		mode |= fs.ModeSticky
	}
	return mode
}

// ScriptsFor returns the scripts a Server AppSpec runs for lifecycle event,
// in order, or nil when the event has none. The slice is a copy.
func (a *AppSpec) ScriptsFor(event string) []Script {
	if a == nil {
		return nil
	}
	return slices.Clone(a.Hooks[event])
}

// HookFunction returns the Lambda function a Lambda or ECS AppSpec runs to
// validate lifecycle event, and whether there is one.
func (a *AppSpec) HookFunction(event string) (string, bool) {
	if a == nil {
		return "", false
	}
	fn, ok := a.HookFunctions[event]
	return fn, ok
}

// HookEvents returns the lifecycle events an AppSpec for platform may attach
// hooks to, in the order they run (for Server, the in-place order with a
// load balancer: User Guide, "AppSpec 'hooks' section"; that the
// allow-traffic events come after ValidateService is fleetdeploy's
// decision). Events that CodeDeploy performs itself (DownloadBundle,
// Install, AllowTraffic, ...) are not included. It returns nil for an
// unknown platform. The slice is new on every call.
func HookEvents(platform config.ComputePlatform) []string {
	switch platform {
	case config.Server:
		return []string{
			"BeforeBlockTraffic", "AfterBlockTraffic", "ApplicationStop",
			"BeforeInstall", "AfterInstall", "ApplicationStart", "ValidateService",
			"BeforeAllowTraffic", "AfterAllowTraffic",
		}
	case config.Lambda:
		return []string{"BeforeAllowTraffic", "AfterAllowTraffic"}
	case config.ECS:
		return []string{"BeforeInstall", "AfterInstall", "AfterAllowTestTraffic", "BeforeAllowTraffic", "AfterAllowTraffic"}
	}
	return nil
}

// reservedEvents returns the lifecycle events of platform that CodeDeploy
// performs itself, which an AppSpec cannot hook ("AppSpec 'hooks' section").
func reservedEvents(platform config.ComputePlatform) []string {
	switch platform {
	case config.Server:
		return []string{"Start", "DownloadBundle", "Install", "BlockTraffic", "AllowTraffic", "End"}
	case config.Lambda:
		return []string{"Start", "AllowTraffic", "End"}
	case config.ECS:
		return []string{"Start", "Install", "AllowTestTraffic", "TestTraffic", "AllowTraffic", "End"}
	}
	return nil
}

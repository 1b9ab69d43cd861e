package revision

import (
	"cmp"
	"fmt"
	"math"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/fleetdeploy/fleetdeploy/config"
)

// Validate checks every rule of the AppSpec reference and of the CodeDeploy
// agent's AppSpec parser (see ParseAppSpecFile) on a, for example on an
// AppSpec built in Go. It returns nil or a *multierror.Error of
// [*AppSpecProblem] values (matching [ErrInvalidAppSpec]) that have no line
// numbers. An AppSpec returned by [ParseAppSpec] always validates. Validate
// reports errors only: the warnings of [ParseAppSpecFile] (see [Warning])
// are not errors here.
func (a *AppSpec) Validate() error {
	if a == nil {
		var ps appspecProblems
		ps.addf("", "the AppSpec is nil")
		return newAppSpecError("", ps)
	}
	return newAppSpecError("", a.check())
}

// check returns the problems of a. Paths match those the parser registers,
// so that the parser can give them lines.
func (a *AppSpec) check() appspecProblems {
	var ps appspecProblems
	switch {
	case a.Version == "":
		ps.addf("version", "is required; the only version is 0.0")
	case a.Version != AppSpecVersion:
		ps.addf("version", "must be 0.0, the only AppSpec version, not "+appspecQuote(a.Version))
	}
	switch a.Platform {
	case config.Server:
		a.checkServer(&ps)
		a.checkAbsent(&ps, "Resources", a.Lambda != nil || a.ECS != nil)
		a.checkAbsent(&ps, "Hooks", len(a.HookFunctions) > 0)
	case config.Lambda, config.ECS:
		a.checkFunctions(&ps)
		a.checkAbsent(&ps, "os", a.OS != "")
		a.checkAbsent(&ps, "files", len(a.Files) > 0)
		a.checkAbsent(&ps, "file_exists_behavior", a.FileExistsBehavior != "")
		a.checkAbsent(&ps, "permissions", len(a.Permissions) > 0)
		a.checkAbsent(&ps, "hooks", len(a.Hooks) > 0)
	default:
		ps.addf("", fmt.Sprintf("unknown compute platform %q; want Server, Lambda or ECS", a.Platform))
	}
	return ps
}

// checkAbsent reports a section that a.Platform does not have.
func (a *AppSpec) checkAbsent(ps *appspecProblems, field string, present bool) {
	if present {
		ps.addf(field, fmt.Sprintf("is not allowed in a %s AppSpec", a.Platform))
	}
}

// checkServer checks the Server sections (User Guide, "AppSpec File
// structure" and the pages of its sections).
func (a *AppSpec) checkServer(ps *appspecProblems) {
	osKnown := appspecEnumOK(a.OS)
	switch {
	case a.OS == "":
		ps.addf("os", "is required: linux or windows")
	case !osKnown:
		ps.addf("os", "must be linux or windows, not "+appspecQuote(string(a.OS)))
	}
	if b := a.FileExistsBehavior; b != "" && !appspecEnumOK(b) {
		ps.addf("file_exists_behavior", "must be DISALLOW, OVERWRITE or RETAIN, not "+appspecQuote(string(b)))
	}

	for i, f := range a.Files {
		fp := appspecIndex("files", i)
		if f.Source == "" {
			ps.addf(appspecJoin(fp, "source"), "is required: a file or directory of the revision")
		} else if rule := bundlePathRule(f.Source, a.OS, true); rule != "" {
			ps.addf(appspecJoin(fp, "source"), rule)
		}
		switch {
		case f.Destination == "":
			ps.addf(appspecJoin(fp, "destination"), "is required: an absolute path on the instance")
		case strings.ContainsRune(f.Destination, 0):
			ps.addf(appspecJoin(fp, "destination"), "must not contain a NUL character")
		case osKnown && !isAbsFor(a.OS, f.Destination):
			ps.addf(appspecJoin(fp, "destination"), "must be an absolute path, not "+appspecQuote(f.Destination))
		}
	}

	if len(a.Permissions) > 0 && a.OS == OSWindows {
		ps.addf("permissions", "is only allowed with os: linux")
	}
	for i, perm := range a.Permissions {
		perm.check(appspecIndex("permissions", i), ps)
	}

	for _, event := range sortedEvents(a.Hooks, config.Server) {
		checkHookEvent(ps, config.Server, event)
		hp := appspecKey("hooks", event)
		var total int64 // seconds given, saturating
		timeoutsOK := true
		for i, s := range a.Hooks[event] {
			sp := appspecIndex(hp, i)
			if s.Location == "" {
				ps.addf(appspecJoin(sp, "location"), "is required: the script's path in the bundle")
			} else if rule := bundlePathRule(s.Location, a.OS, false); rule != "" {
				ps.addf(appspecJoin(sp, "location"), rule)
			}
			switch {
			case s.Timeout <= 0 || s.Timeout%time.Second != 0:
				ps.addf(appspecJoin(sp, "timeout"), "must be a positive integer number of seconds")
				timeoutsOK = false
			case s.TimeoutSet:
				total = min(total+int64(s.Timeout/time.Second), math.MaxInt64/2)
			}
		}
		if limit := int64(DefaultScriptTimeout / time.Second); timeoutsOK && total > limit {
			ps.warn(0, hp,
				fmt.Sprintf("the timeouts given for the event's scripts add up to %d seconds; the CodeDeploy agent runs each script with its own timeout whatever the sum, and so does fleetdeploy", total),
				fmt.Sprintf("the AppSpec reference says the scripts of one lifecycle event should take at most %d seconds in all", limit))
		}
	}
}

// check checks one permissions entry as the CodeDeploy agent does
// (application_specification/ace_info.rb, context_info.rb and
// linux_permission_info.rb in aws/aws-codedeploy-agent).
func (p Permission) check(pp string, ps *appspecProblems) {
	if p.Object == "" {
		ps.addf(appspecJoin(pp, "object"), "is required: the file or directory the permissions apply to")
	} else if strings.ContainsRune(p.Object, 0) {
		ps.addf(appspecJoin(pp, "object"), "must not contain a NUL character")
	}
	if p.Pattern == "" {
		ps.addf(appspecJoin(pp, "pattern"), `must not be empty; leave it out to mean "**"`)
	}
	for i, e := range p.Except {
		if e == "" {
			ps.addf(appspecIndex(appspecJoin(pp, "except"), i), "must not be empty")
		}
	}
	if p.Mode != nil && *p.Mode > 0o7777 {
		ps.addf(appspecJoin(pp, "mode"), "must be 1 to 4 octal digits (0-7), such as 644 or 4755")
	}
	for i, acl := range p.ACLs {
		if _, rule := parseACLEntry(acl); rule != "" {
			ps.addf(appspecIndex(appspecJoin(pp, "acls"), i), rule)
		}
	}
	if c := p.Context; c != nil {
		cp := appspecJoin(pp, "context")
		if c.Type == "" {
			ps.addf(appspecJoin(cp, "type"), "is required when context is given: the SELinux type")
		}
		if c.Range != "" {
			if rule := checkSELinuxRange(c.Range); rule != "" {
				ps.addf(appspecJoin(cp, "range"), rule)
			}
		}
	}
	tp := appspecJoin(pp, "type")
	if len(p.Type) == 0 {
		ps.addf(tp, "must list file, directory or both; leave it out to mean both")
	}
	for i, t := range p.Type {
		if !appspecEnumOK(t) {
			ps.addf(appspecIndex(tp, i), "must be file or directory, not "+appspecQuote(string(t)))
		}
	}
}

// checkFunctions checks a Lambda or ECS AppSpec (User Guide, "AppSpec
// 'resources' section (Amazon ECS and AWS Lambda deployments only)",
// "AppSpec 'hooks' section").
func (a *AppSpec) checkFunctions(ps *appspecProblems) {
	props := "Resources[0].Properties"
	switch {
	case a.Platform == config.Lambda && a.ECS != nil:
		ps.addf("Resources", "holds an ECS service; a Lambda AppSpec deploys an AWS::Lambda::Function")
	case a.Platform == config.ECS && a.Lambda != nil:
		ps.addf("Resources", "holds a Lambda function; an ECS AppSpec deploys an AWS::ECS::Service")
	case a.Platform == config.Lambda && a.Lambda == nil:
		ps.addf("Resources", "is required: one AWS::Lambda::Function resource")
	case a.Platform == config.ECS && a.ECS == nil:
		ps.addf("Resources", "is required: one AWS::ECS::Service resource")
	case a.Lambda != nil:
		a.Lambda.check(props, ps)
	case a.ECS != nil:
		a.ECS.check(props, ps)
	}
	for _, event := range sortedEvents(a.HookFunctions, a.Platform) {
		checkHookEvent(ps, a.Platform, event)
		switch fn := a.HookFunctions[event]; {
		case fn == "":
			ps.addf(appspecKey("Hooks", event), "must name the Lambda function that validates the event")
		case strings.ContainsFunc(fn, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }):
			// Lambda's function names, versions, aliases and ARNs have
			// none (Lambda API Reference, Invoke: FunctionName).
			ps.addf(appspecKey("Hooks", event), fmt.Sprintf("must be a Lambda function name or ARN, which has no spaces or control characters; got %s", appspecQuote(fn)))
		}
	}
}

// checkHookEvent reports event unless an AppSpec for platform may hook it
// (the agent refuses unknown lifecycle events; "AppSpec 'hooks' section"
// lists the events each platform can hook).
func checkHookEvent(ps *appspecProblems, platform config.ComputePlatform, event string) {
	events := HookEvents(platform)
	if slices.Contains(events, event) {
		return
	}
	section := "Hooks"
	if platform == config.Server {
		section = "hooks"
	}
	for _, r := range reservedEvents(platform) {
		if r == event || (platform != config.Server && strings.EqualFold(r, event)) {
			ps.addf(appspecKey(section, event), fmt.Sprintf("%s is performed by CodeDeploy and cannot have hooks; the events that can are %s", r, strings.Join(events, ", ")))
			return
		}
	}
	ps.addf(appspecKey(section, event), fmt.Sprintf("unknown lifecycle event %s; the events a %s AppSpec can hook are %s", appspecQuote(event), platform, strings.Join(events, ", ")))
}

// sortedEvents returns the keys of hooks in lifecycle order, unknown ones
// last in name order, so that problems come out in a stable order.
func sortedEvents[V any](hooks map[string]V, platform config.ComputePlatform) []string {
	order := HookEvents(platform)
	keys := make([]string, 0, len(hooks))
	for k := range hooks {
		keys = append(keys, k)
	}
	rank := func(k string) int {
		if i := slices.Index(order, k); i >= 0 {
			return i
		}
		return len(order)
	}
	slices.SortFunc(keys, func(a, b string) int {
		return cmp.Or(cmp.Compare(rank(a), rank(b)), strings.Compare(a, b))
	})
	return keys
}

// bundlePathRule returns why p is not a path inside the bundle, or "". A
// leading separator is allowed and ignored, as the agent joins files sources
// and script locations to the bundle root ("/" is the whole bundle, for a
// source). Neither may climb above the bundle root with "..", nor start with
// a drive letter. On Windows "\" separates too.
func bundlePathRule(p string, osName OS, source bool) string {
	if strings.ContainsRune(p, 0) {
		return "must not contain a NUL character"
	}
	slashed := p
	if osName == OSWindows {
		slashed = strings.ReplaceAll(p, `\`, "/")
		if hasDriveLetter(slashed) {
			return "must be relative to the bundle root, not " + appspecQuote(p)
		}
	}
	rel := strings.TrimLeft(slashed, "/")
	if rel == "" {
		if !source {
			return "must name a script file, not the bundle root"
		}
		return "" // the whole bundle
	}
	clean := path.Clean(rel)
	if clean == ".." || strings.HasPrefix(clean, "../") {
		return "must stay inside the bundle; " + appspecQuote(p) + " climbs above its root"
	}
	if !source && clean == "." {
		return "must name a script file, not the bundle root"
	}
	return ""
}

// isAbsFor reports whether p is an absolute path on osName: rooted at "/" on
// Linux; on Windows, with a drive letter ("C:\...") or a UNC prefix ("\\").
func isAbsFor(osName OS, p string) bool {
	if osName == OSWindows {
		s := strings.ReplaceAll(p, `\`, "/")
		return (hasDriveLetter(s) && len(s) >= 3 && s[2] == '/') || strings.HasPrefix(s, "//")
	}
	return strings.HasPrefix(p, "/")
}

// hasDriveLetter reports whether p starts with a Windows drive letter ("C:").
func hasDriveLetter(p string) bool {
	return len(p) >= 2 && p[1] == ':' && (p[0]|0x20 >= 'a' && p[0]|0x20 <= 'z')
}

// appspecRequire reports field when value is empty.
func appspecRequire(ps *appspecProblems, field, value string) {
	if value == "" {
		ps.addf(field, "is required")
	}
}

// appspecEnumOK reports whether v is one of its type's Values.
func appspecEnumOK[T interface {
	~string
	Values() []T
}](v T) bool {
	return slices.Contains(v.Values(), v)
}

// quote returns s quoted for a message, shortened when long.
func appspecQuote(s string) string {
	const max = 80
	if len(s) > max {
		s = s[:max] + "..."
	}
	return strconv.Quote(s)
}

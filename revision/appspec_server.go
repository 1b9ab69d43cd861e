package revision

import (
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/fleetdeploy/fleetdeploy/config"
)

// server reads a Server (EC2/on-premises) AppSpec (User Guide, "AppSpec File
// structure"). Keys are matched exactly, as the CodeDeploy agent does.
func (p *appspecParser) server(root *yaml.Node) *AppSpec {
	a := &AppSpec{Platform: config.Server}
	f := p.fields(root, "", "version", "os", "files", "file_exists_behavior", "permissions", "hooks")
	if f == nil {
		return nil
	}
	a.Version = p.version(f["version"])
	a.OS = OS(p.str(f["os"], "os"))
	a.FileExistsBehavior = FileExistsBehavior(p.str(f["file_exists_behavior"], "file_exists_behavior"))

	for i, it := range p.items(f["files"], "files") {
		path := appspecIndex("files", i)
		m := p.fields(it, path, "source", "destination")
		a.Files = append(a.Files, FileMapping{
			Source:      p.str(m["source"], appspecJoin(path, "source")),
			Destination: p.str(m["destination"], appspecJoin(path, "destination")),
		})
	}

	for i, it := range p.items(f["permissions"], "permissions") {
		a.Permissions = append(a.Permissions, p.permission(it, appspecIndex("permissions", i)))
	}

	if h := f["hooks"]; !yamlIsNull(h) {
		if h.Kind != yaml.MappingNode {
			p.fail(p.lineOf("hooks", h), "hooks", "must be a mapping of lifecycle event names to lists of scripts, not "+yamlKind(h))
		} else {
			a.Hooks = map[string][]Script{}
			for _, kv := range p.pairs(h, "hooks") {
				path := appspecKey("hooks", kv.key)
				p.lines[path] = kv.line
				scripts := []Script{}
				for i, it := range p.items(kv.value, path) {
					scripts = append(scripts, p.script(it, appspecIndex(path, i), a.OS))
				}
				a.Hooks[kv.key] = scripts
			}
			if len(a.Hooks) == 0 {
				a.Hooks = nil
			}
		}
	}
	return a
}

// script reads one hook script entry of an AppSpec for osName. Like the
// agent, it strips white space around location and runas, and ignores runas
// on Windows.
func (p *appspecParser) script(n *yaml.Node, path string, osName OS) Script {
	m := p.fields(n, path, "location", "timeout", "runas")
	s := Script{
		Location: strings.TrimSpace(p.str(m["location"], appspecJoin(path, "location"))),
		Timeout:  DefaultScriptTimeout,
		RunAs:    strings.TrimSpace(p.str(m["runas"], appspecJoin(path, "runas"))),
	}
	if s.RunAs != "" && osName == OSWindows {
		rp := appspecJoin(path, "runas")
		p.probs.warn(p.lineFor(rp), rp,
			"the CodeDeploy agent ignores runas on Windows and runs the script as its own user, and so does fleetdeploy",
			"the AppSpec reference says runas applies to Linux instances only; remove it")
		s.RunAs = ""
	}
	if t := m["timeout"]; !yamlIsNull(t) {
		const rule = "must be a positive integer number of seconds"
		tp := appspecJoin(path, "timeout")
		secs, ok := p.integer(t, tp, rule)
		s.TimeoutSet = true
		switch {
		case !ok:
			s.Timeout = 0
		case secs > int64(maxScriptTimeoutSeconds):
			// Far beyond the 3600 s limit; kept finite so that sums cannot
			// overflow, and still reported by check.
			s.Timeout = time.Duration(maxScriptTimeoutSeconds) * time.Second
		default:
			s.Timeout = time.Duration(secs) * time.Second
		}
	}
	return s
}

// maxScriptTimeoutSeconds caps a parsed timeout so that time.Duration
// arithmetic on sums of many of them cannot overflow.
const maxScriptTimeoutSeconds = 1 << 30

// permission reads one permissions entry, filling the defaults of the User
// Guide's "AppSpec 'permissions' section (EC2/On-Premises deployments only)".
func (p *appspecParser) permission(n *yaml.Node, path string) Permission {
	m := p.fields(n, path, "object", "pattern", "except", "owner", "group", "mode", "acls", "context", "type")
	perm := Permission{
		Object:  p.str(m["object"], appspecJoin(path, "object")),
		Pattern: "**",
		Except:  p.strs(m["except"], appspecJoin(path, "except")),
		Owner:   p.str(m["owner"], appspecJoin(path, "owner")),
		Group:   p.str(m["group"], appspecJoin(path, "group")),
		ACLs:    p.strs(m["acls"], appspecJoin(path, "acls")),
		Type:    []ObjectType{ObjectFile, ObjectDirectory},
	}
	if perm.ACLs == nil && !yamlIsNull(m["acls"]) && !p.bad[appspecJoin(path, "acls")] {
		perm.ACLs = []string{} // "acls: []": given, empty
	}
	if v := m["pattern"]; !yamlIsNull(v) {
		perm.Pattern = p.str(v, appspecJoin(path, "pattern"))
	}
	if v := m["type"]; !yamlIsNull(v) {
		perm.Type = nil
		for _, t := range p.strs(v, appspecJoin(path, "type")) {
			perm.Type = append(perm.Type, ObjectType(t))
		}
		if perm.Type == nil {
			perm.Type = []ObjectType{}
		}
	}
	if v := m["mode"]; !yamlIsNull(v) {
		mp := appspecJoin(path, "mode")
		if v.Kind != yaml.ScalarNode {
			p.fail(p.lineOf(mp, v), mp, "must be an octal mode such as 644 or 4755, not "+yamlKind(v))
		} else if mode, ok := parseFileMode(v.Value); !ok {
			p.fail(p.lineOf(mp, v), mp, "must be 1 to 4 octal digits (0-7), such as 644 or 4755")
		} else {
			perm.Mode = &mode
		}
	}
	if v := m["context"]; !yamlIsNull(v) {
		cp := appspecJoin(path, "context")
		c := p.fields(v, cp, "user", "name", "type", "range")
		if c != nil {
			ctx := &SELinuxContext{
				User:  p.str(c["user"], appspecJoin(cp, "user")),
				Type:  p.str(c["type"], appspecJoin(cp, "type")),
				Range: p.str(c["range"], appspecJoin(cp, "range")),
			}
			if name := p.str(c["name"], appspecJoin(cp, "name")); name != "" {
				if ctx.User != "" {
					p.note(p.lineFor(appspecJoin(cp, "name")), appspecJoin(cp, "name"), "give the SELinux user as user or as name, not both")
				}
				ctx.User = name
			}
			perm.Context = ctx
		}
	}
	return perm
}

// parseFileMode parses an AppSpec mode: 1 to 4 octal digits, as the
// CodeDeploy agent reads it (application_specification/mode_info.rb). The
// digits are read as written: "0644" and 644 are both 0o644.
func parseFileMode(s string) (FileMode, bool) {
	if len(s) < 1 || len(s) > 4 {
		return 0, false
	}
	var m FileMode
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '7' {
			return 0, false
		}
		m = m*8 + FileMode(c-'0')
	}
	return m, true
}

package revision

import (
	"fmt"
	"strconv"
	"strings"
)

// ACLTag is the kind of a POSIX ACL entry, spelled as setfacl spells it.
type ACLTag string

// The ACL tags.
const (
	ACLUser  ACLTag = "user"
	ACLGroup ACLTag = "group"
	ACLMask  ACLTag = "mask"
	ACLOther ACLTag = "other"
)

// Values returns every valid ACLTag.
func (ACLTag) Values() []ACLTag { return []ACLTag{ACLUser, ACLGroup, ACLMask, ACLOther} }

// ACLEntry is one parsed entry of a permission's acls.
type ACLEntry struct {
	// Default marks a default ACL entry (inherited by new objects in a
	// directory); it is not allowed on a file object.
	Default bool
	// Tag is the kind of entry.
	Tag ACLTag
	// Name is the user or group the entry is for; empty for mask and other
	// entries, and for the default entries of the owner and owning group.
	Name string
	// Read, Write and Execute are the permissions granted.
	Read, Write, Execute bool
}

// String returns e in setfacl's long form, for example
// "default:user:bob:rw-".
func (e ACLEntry) String() string {
	var b strings.Builder
	if e.Default {
		b.WriteString("default:")
	}
	b.WriteString(string(e.Tag))
	b.WriteByte(':')
	b.WriteString(e.Name)
	b.WriteByte(':')
	for _, bit := range []struct {
		on bool
		c  byte
	}{{e.Read, 'r'}, {e.Write, 'w'}, {e.Execute, 'x'}} {
		if bit.on {
			b.WriteByte(bit.c)
		} else {
			b.WriteByte('-')
		}
	}
	return b.String()
}

// ParseACLEntry parses one entry of a permission's acls as the CodeDeploy
// agent does (application_specification/ace_info.rb):
//
//	[d[efault]:][u[ser]|g[roup]|m[ask]|o[ther]:]name:perm
//
// where perm is letters from "rwx-" or one octal digit. The tag defaults to
// user. Mask and other entries take no name; any other entry that is not a
// default entry needs one, because the owner's, owning group's and others'
// base entries are set with mode. The error matches [ErrInvalidAppSpec].
func ParseACLEntry(s string) (ACLEntry, error) {
	e, rule := parseACLEntry(s)
	if rule != "" {
		return ACLEntry{}, fmt.Errorf("%w: acl entry %s: %s", ErrInvalidAppSpec, appspecQuote(s), rule)
	}
	return e, nil
}

// parseACLEntry parses an ACL entry as the CodeDeploy agent does, returning
// why it is invalid, or "".
func parseACLEntry(s string) (ACLEntry, string) {
	const grammar = "must be [d[efault]:][u[ser]|g[roup]|m[ask]|o[ther]:]name:perms, such as u:bob:rw"
	var e ACLEntry
	parts := strings.Split(s, ":")
	if len(parts) < 2 || len(parts) > 4 {
		return e, grammar
	}
	isDefault := func(p string) bool { return p == "d" || p == "default" }
	tagOf := func(p string) ACLTag {
		switch p {
		case "u", "user":
			return ACLUser
		case "g", "group":
			return ACLGroup
		case "m", "mask":
			return ACLMask
		case "o", "other":
			return ACLOther
		}
		return ""
	}
	n := len(parts)
	if n == 4 {
		if !isDefault(parts[0]) {
			return e, grammar
		}
		e.Default = true
	}
	if n >= 3 {
		switch p := parts[n-3]; {
		case isDefault(p) && !e.Default:
			e.Default = true
		case tagOf(p) != "":
			e.Tag = tagOf(p)
		default:
			return e, grammar
		}
	}
	switch name := parts[n-2]; {
	case e.Tag == "" && (tagOf(name) == ACLMask || tagOf(name) == ACLOther):
		e.Tag = tagOf(name)
	case e.Tag == "":
		e.Tag, e.Name = ACLUser, name
	case tagOf(name) == ACLMask || tagOf(name) == ACLOther:
		// "u:mask:rw": the agent reads the second word as the name.
		e.Name = string(tagOf(name))
	default:
		e.Name = name
	}
	if (e.Tag == ACLMask || e.Tag == ACLOther) && e.Name != "" {
		article := "a "
		if e.Tag == ACLOther {
			article = "an "
		}
		return e, article + string(e.Tag) + " entry takes no name"
	}
	if !e.Default && e.Tag != ACLMask && e.Name == "" {
		return e, "an entry without a name sets a base permission; use mode for that"
	}
	perm := parts[n-1]
	if len(perm) == 1 && perm[0] >= '0' && perm[0] <= '7' {
		d := perm[0] - '0'
		e.Read, e.Write, e.Execute = d&4 != 0, d&2 != 0, d&1 != 0
		return e, ""
	}
	for _, c := range perm {
		switch c {
		case 'r':
			e.Read = true
		case 'w':
			e.Write = true
		case 'x':
			e.Execute = true
		case '-':
		default:
			return e, fmt.Sprintf("permissions must be letters from rwx- or one octal digit; %q is neither", c)
		}
	}
	return e, ""
}

// checkSELinuxRange returns why r is not an SELinux range as the CodeDeploy
// agent accepts it (application_specification/range_info.rb), or "":
//
//	s<low>[-s<high>][:c<n>[.c<m>](,c<n>[.c<m>])*]
//
// with high >= low, categories 0-1023, each category range ascending, and no
// category given twice.
func checkSELinuxRange(r string) string {
	const grammar = "must be an SELinux range such as s0, s0-s2 or s0:c0.c255,c300"
	levels, cats, hasCats := strings.Cut(r, ":")
	lowS, highS, hasHigh := strings.Cut(levels, "-")
	low, ok := selinuxNumber(lowS, 's', -1)
	if !ok {
		return grammar
	}
	if hasHigh {
		high, ok := selinuxNumber(highS, 's', -1)
		if !ok {
			return grammar
		}
		if high < low {
			return "the high sensitivity must not be below the low one"
		}
	}
	if !hasCats {
		return ""
	}
	var seen [1024]bool
	for _, part := range strings.Split(cats, ",") {
		lowC, highC, isRange := strings.Cut(part, ".")
		lo, ok := selinuxNumber(lowC, 'c', 1023)
		if !ok {
			return grammar + "; categories are c0 to c1023"
		}
		hi := lo
		if isRange {
			if hi, ok = selinuxNumber(highC, 'c', 1023); !ok {
				return grammar + "; categories are c0 to c1023"
			}
			if hi < lo {
				return "category range " + appspecQuote(part) + " must not end below its start"
			}
		}
		for c := lo; c <= hi; c++ {
			if seen[c] {
				return "category c" + strconv.Itoa(c) + " is given twice"
			}
			seen[c] = true
		}
	}
	return ""
}

// selinuxNumber parses prefix followed by decimal digits, at most limit
// (no limit when negative).
func selinuxNumber(s string, prefix byte, limit int) (int, bool) {
	if len(s) < 2 || s[0] != prefix {
		return 0, false
	}
	digits := s[1:]
	for i := 0; i < len(digits); i++ {
		if digits[i] < '0' || digits[i] > '9' {
			return 0, false
		}
	}
	n, err := strconv.Atoi(digits)
	if err != nil || (limit >= 0 && n > limit) {
		return 0, false
	}
	return n, true
}

// ValidateFileObjects checks the rules for a permission whose object turns
// out to be a file (the agent's application_specification/
// linux_permission_info.rb), which only the Install step can tell:
// for each permission that applies to files and whose Object isFile reports
// as a file, the pattern must be "**", except must be empty, and no ACL entry
// may be a default entry. It returns nil or a *multierror.Error of
// [*AppSpecProblem] values matching [ErrInvalidAppSpec].
func (a *AppSpec) ValidateFileObjects(isFile func(object string) bool) error {
	var ps appspecProblems
	if a == nil || isFile == nil {
		return nil
	}
	for i, p := range a.Permissions {
		if !p.HasType(ObjectFile) || !isFile(p.Object) {
			continue
		}
		pp := appspecIndex("permissions", i)
		if p.Pattern != "**" {
			ps.addf(appspecJoin(pp, "pattern"), "must be \"**\" (or left out) because object "+appspecQuote(p.Object)+" is a file")
		}
		if len(p.Except) > 0 {
			ps.addf(appspecJoin(pp, "except"), "must be empty because object "+appspecQuote(p.Object)+" is a file")
		}
		for j, acl := range p.ACLs {
			if e, rule := parseACLEntry(acl); rule == "" && e.Default {
				ps.addf(appspecIndex(appspecJoin(pp, "acls"), j), "a default ACL entry applies to directories only, and object "+appspecQuote(p.Object)+" is a file")
			}
		}
	}
	return newAppSpecError("", ps)
}

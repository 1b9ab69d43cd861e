package localtarget

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/user"
	"path"
	"slices"
	"strconv"
	"strings"

	"github.com/fleetdeploy/fleetdeploy/revision"
)

// installFailure is an Install step that failed for a reason the
// deployment can be blamed for (a file in the way, a missing source); it
// becomes an EventResult with Status Failed.
type installFailure struct{ msg string }

func (e *installFailure) Error() string { return e.msg }

func failInstall(format string, args ...any) error {
	return &installFailure{msg: fmt.Sprintf(format, args...)}
}

// kind is what an install instruction creates.
type kind uint8

const (
	kindFile kind = iota + 1
	kindDir
	kindLink
)

// instruction is one step of the Install step, as written to
// <group-id>-install.json. Paths are instance paths.
type instruction struct {
	// Type is "mkdir", "copy", "symlink", "chmod", "chown", "setfacl" or
	// "semanage".
	Type string `json:"type"`
	// Source is the archive file a copy reads.
	Source string `json:"source,omitempty"`
	// Destination is the path a mkdir, copy or symlink creates, or the
	// object a permission instruction changes.
	Destination string `json:"destination"`
	// LinkTarget is the target a symlink points to.
	LinkTarget string `json:"linkTarget,omitempty"`
	// Overwrite: the copy replaces a file that existed (OVERWRITE).
	Overwrite bool `json:"overwrite,omitempty"`
	// Mode, Owner, Group, ACLs and Context are what a permission
	// instruction sets.
	Mode    string   `json:"mode,omitempty"`
	Owner   string   `json:"owner,omitempty"`
	Group   string   `json:"group,omitempty"`
	ACLs    []string `json:"acls,omitempty"`
	Context string   `json:"context,omitempty"`
	// Skipped says why the instruction is recorded but not applied.
	Skipped string `json:"skipped,omitempty"`

	kind kind        // for mkdir, copy and symlink
	src  string      // archive-relative source of a copy
	perm fs.FileMode // file mode of a copy
	mode *revision.FileMode
	uid  int // -1: unchanged
	gid  int // -1: unchanged
}

// installPlan is everything the Install step will do, computed before any
// file is touched, so that a DISALLOW conflict fails the step with nothing
// copied (as the CodeDeploy agent generates all instructions first).
type installPlan struct {
	steps    []instruction // mkdir, copy, symlink, in order
	perms    []instruction // chmod, chown, setfacl, semanage, in order
	retained []string      // destinations kept under RETAIN
	planned  map[string]kind
}

// planner builds an installPlan.
type planner struct {
	ctx      context.Context // checked once per archive entry
	dest     *os.Root        // the instance root
	archive  *os.Root        // the deployment archive
	archiveP string          // instance path of the archive
	behavior revision.FileExistsBehavior
	plan     installPlan
}

// existing returns what the instance path p is once the planned steps so
// far have run: a planned kind, else what is on disk (a symlink to a
// directory counts as a directory), else 0.
func (p *planner) existing(ip string) kind {
	if k, ok := p.plan.planned[ip]; ok {
		return k
	}
	fi, err := p.dest.Lstat(rootRel(ip))
	if err != nil {
		return 0
	}
	switch {
	case fi.IsDir():
		return kindDir
	case fi.Mode()&fs.ModeSymlink != 0:
		if st, err := p.dest.Stat(rootRel(ip)); err == nil && st.IsDir() {
			return kindDir
		}
		return kindLink
	}
	return kindFile
}

// checkDest refuses destinations inside the agent's own directory.
func checkDest(ip string) error {
	if inAgentDir(ip) {
		return failInstall("the destination %s is inside the agent's directory %s, which the Install step never writes", ip, deploymentRoot)
	}
	return nil
}

// mkdir plans the creation of directory ip unless it exists.
func (p *planner) mkdir(ip string) error {
	switch p.existing(ip) {
	case kindDir:
		return nil
	case 0:
	default:
		return failInstall("the destination %s exists and is not a directory", ip)
	}
	if err := checkDest(ip); err != nil {
		return err
	}
	p.plan.steps = append(p.plan.steps, instruction{Type: "mkdir", Destination: ip, kind: kindDir})
	p.plan.planned[ip] = kindDir
	return nil
}

// ancestors plans the creation of the missing ancestors of ip, outermost
// first.
func (p *planner) ancestors(ip string) error {
	var missing []string
	for dir := path.Dir(ip); dir != "/"; dir = path.Dir(dir) {
		k := p.existing(dir)
		if k == kindDir {
			break
		}
		if k != 0 {
			return failInstall("cannot install %s: %s exists and is not a directory", ip, dir)
		}
		missing = append(missing, dir)
	}
	for _, dir := range slices.Backward(missing) {
		if err := p.mkdir(dir); err != nil {
			return err
		}
	}
	return nil
}

// entry plans the copy of one archive entry (file or symlink) to ip,
// applying the file-exists behaviour.
func (p *planner) entry(src string, fi fs.FileInfo, ip string) error {
	if err := checkDest(ip); err != nil {
		return err
	}
	if k, ok := p.plan.planned[ip]; ok {
		if k == kindDir {
			return failInstall("the AppSpec installs both a directory and the file %s at %s", path.Join(p.archiveP, src), ip)
		}
		return failInstall("the AppSpec installs two files at the same destination %s (the second is %s)", ip, path.Join(p.archiveP, src))
	}
	in := instruction{Type: "copy", Source: path.Join(p.archiveP, src), Destination: ip, kind: kindFile, src: src, perm: fi.Mode().Perm()}
	if fi.Mode()&fs.ModeSymlink != 0 {
		target, err := p.archive.Readlink(src)
		if err != nil {
			return fmt.Errorf("localtarget: reading link %s: %w", in.Source, err)
		}
		in = instruction{Type: "symlink", Destination: ip, LinkTarget: target, kind: kindLink}
	} else if !fi.Mode().IsRegular() {
		return failInstall("%s is not a regular file, directory or symbolic link", in.Source)
	}
	if k := p.existing(ip); k != 0 {
		switch p.behavior {
		case revision.FileExistsRetain:
			p.plan.retained = append(p.plan.retained, ip)
			return nil
		case revision.FileExistsOverwrite:
			if k == kindDir {
				return failInstall("the deployment failed because a directory exists where the file %s is installed; OVERWRITE replaces files, not directories", ip)
			}
			in.Overwrite = true
		default:
			return failInstall("the deployment failed because a specified file already exists at this location: %s (file exists behavior DISALLOW)", ip)
		}
	}
	p.plan.steps = append(p.plan.steps, in)
	p.plan.planned[ip] = in.kind
	return nil
}

// dir plans the recursive copy of the contents of archive directory src to
// directory ip.
func (p *planner) dir(src, ip string) error {
	if err := p.mkdir(ip); err != nil {
		return err
	}
	entries, err := fs.ReadDir(p.archive.FS(), src)
	if err != nil {
		return fmt.Errorf("localtarget: reading %s: %w", path.Join(p.archiveP, src), err)
	}
	for _, e := range entries { // sorted by name
		if err := p.ctx.Err(); err != nil {
			return err
		}
		s, d := path.Join(src, e.Name()), path.Join(ip, e.Name())
		fi, err := p.archive.Lstat(s)
		if err != nil {
			return fmt.Errorf("localtarget: reading %s: %w", path.Join(p.archiveP, s), err)
		}
		if fi.IsDir() {
			err = p.dir(s, d)
		} else {
			err = p.entry(s, fi, d)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// files plans the AppSpec's files section (User Guide, "AppSpec 'files'
// section (EC2/On-Premises deployments only)"): a source file goes into the
// destination directory, a source directory's contents are copied into it
// recursively, source "/" is the whole revision. Sources are joined to the
// archive as the agent joins them: a leading "/" (or "\" with os: windows)
// is ignored.
func (p *planner) files(spec *revision.AppSpec) error {
	for i, f := range spec.Files {
		src := spec.OS.BundlePath(f.Source)
		dest := cleanInstancePath(f.Destination)
		fi, err := p.archive.Lstat(src)
		if err == nil && fi.Mode()&fs.ModeSymlink != 0 {
			fi, err = p.archive.Stat(src)
		}
		switch {
		case errors.Is(err, fs.ErrNotExist):
			return failInstall("files[%d].source %s does not exist in the revision", i, f.Source)
		case err != nil:
			return failInstall("files[%d].source %s: %v", i, f.Source, err)
		}
		if fi.IsDir() {
			if err := p.ancestors(dest); err != nil {
				return err
			}
			if err := p.dir(src, dest); err != nil {
				return err
			}
			continue
		}
		fileDest := path.Join(dest, path.Base(src))
		if err := p.ancestors(fileDest); err != nil {
			return err
		}
		lfi, err := p.archive.Lstat(src)
		if err != nil {
			return fmt.Errorf("localtarget: reading %s: %w", path.Join(p.archiveP, src), err)
		}
		if err := p.entry(src, lfi, fileDest); err != nil {
			return err
		}
	}
	return nil
}

// permissions plans the AppSpec's permissions section. Like the CodeDeploy
// agent, it changes only what this Install step creates: an entry whose
// object is an installed file applies to that file; otherwise to the
// installed files and directories below the object that its pattern
// selects ("**": everything below; another pattern: the object's direct
// children whose name matches) and its except list does not, by type.
func (p *planner) permissions(spec *revision.AppSpec, asRoot bool) error {
	for i, perm := range spec.Permissions {
		obj := cleanInstancePath(perm.Object)
		var targets []instruction
		if p.plan.planned[obj] == kindFile {
			if perm.HasType(revision.ObjectFile) {
				targets = append(targets, instruction{Destination: obj, kind: kindFile})
			}
		} else {
			prefix := strings.TrimSuffix(obj, "/") + "/"
			for _, s := range p.plan.steps {
				rel, ok := strings.CutPrefix(s.Destination, prefix)
				if !ok || s.kind == kindLink || !selects(perm.Pattern, perm.Except, rel) {
					continue
				}
				if s.kind == kindDir && perm.HasType(revision.ObjectDirectory) || s.kind == kindFile && perm.HasType(revision.ObjectFile) {
					targets = append(targets, instruction{Destination: s.Destination, kind: s.kind})
				}
			}
		}
		uid, gid := -1, -1
		if asRoot && perm.Owner != "" {
			u, err := user.Lookup(perm.Owner)
			if err != nil {
				return failInstall("permissions[%d].owner %s: %v", i, perm.Owner, err)
			}
			uid, _ = strconv.Atoi(u.Uid)
		}
		if asRoot && perm.Group != "" {
			g, err := user.LookupGroup(perm.Group)
			if err != nil {
				return failInstall("permissions[%d].group %s: %v", i, perm.Group, err)
			}
			gid, _ = strconv.Atoi(g.Gid)
		}
		for _, t := range targets {
			if perm.Mode != nil {
				p.plan.perms = append(p.plan.perms, instruction{Type: "chmod", Destination: t.Destination, Mode: perm.Mode.String(), mode: perm.Mode})
			}
			if perm.Owner != "" || perm.Group != "" {
				in := instruction{Type: "chown", Destination: t.Destination, Owner: perm.Owner, Group: perm.Group, uid: uid, gid: gid}
				if !asRoot {
					in.Skipped = "the agent is not running as root"
				}
				p.plan.perms = append(p.plan.perms, in)
			}
			if perm.ACLs != nil {
				p.plan.perms = append(p.plan.perms, instruction{Type: "setfacl", Destination: t.Destination, ACLs: p.setfaclEntries(perm, t),
					Skipped: "POSIX ACLs are not supported by localtarget"})
			}
			if c := perm.Context; c != nil {
				label := c.User + ":" + c.Type + ":" + c.Range
				p.plan.perms = append(p.plan.perms, instruction{Type: "semanage", Destination: t.Destination, Context: label,
					Skipped: "SELinux contexts are not supported by localtarget"})
			}
		}
	}
	return nil
}

// setfaclEntries returns the entries a setfacl instruction records for
// target t of perm: perm's entries; for "acls: []", the base entries of the
// owner, group and others from the mode t has by then (perm's mode, else the
// mode the copy gives it), which is what the agent's setfacl --set leaves:
// every extended entry dropped.
func (p *planner) setfaclEntries(perm revision.Permission, t instruction) []string {
	if len(perm.ACLs) > 0 {
		return perm.ACLs
	}
	mode := fs.FileMode(0o755) // a directory the Install step creates
	for _, s := range p.plan.steps {
		if s.Destination == t.Destination && s.kind == kindFile {
			mode = s.perm
		}
	}
	if perm.Mode != nil {
		mode = perm.Mode.FSMode()
	}
	rwx := func(bits fs.FileMode) string {
		b := []byte("---")
		for i, c := range "rwx" {
			if bits&(4>>i) != 0 {
				b[i] = byte(c)
			}
		}
		return string(b)
	}
	return []string{"user::" + rwx(mode>>6&7), "group::" + rwx(mode>>3&7), "other::" + rwx(mode&7)}
}

// selects reports whether a permissions entry's pattern selects the path
// rel below its object, and no except entry excludes it: "**" selects every
// path, another pattern a direct child whose name matches it (path.Match).
func selects(pattern string, except []string, rel string) bool {
	if pattern != "**" && pattern != "" {
		if strings.Contains(rel, "/") {
			return false
		}
		if ok, _ := path.Match(pattern, rel); !ok {
			return false
		}
	}
	for _, e := range except {
		if ok, _ := path.Match(e, rel); ok || e == rel {
			return false
		}
	}
	return true
}

// installer runs an installPlan.
type installer struct {
	ctx     context.Context // checked between steps and while copying
	dest    *os.Root
	archive *os.Root
	// created lists the instance paths created, in order; it becomes the
	// cleanup file.
	created []string
}

// step runs one mkdir, copy or symlink instruction.
func (in *installer) step(s instruction) error {
	rel := rootRel(s.Destination)
	switch s.Type {
	case "mkdir":
		err := in.dest.Mkdir(rel, 0o755)
		if errors.Is(err, fs.ErrExist) {
			return nil
		}
		if err != nil {
			return err
		}
	case "symlink":
		if err := in.dest.Symlink(s.LinkTarget, rel); err != nil {
			return err
		}
	case "copy":
		if s.Overwrite {
			if err := in.dest.Remove(rel); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return err
			}
		}
		created, err := in.copyFile(s, rel)
		if created {
			in.created = append(in.created, s.Destination) // even if the copy failed half-way
		}
		return err
	}
	in.created = append(in.created, s.Destination)
	return nil
}

// copyFile copies the archive file of s to rel, with the source's
// permission bits. created reports whether rel was created.
func (in *installer) copyFile(s instruction, rel string) (created bool, err error) {
	src, err := in.archive.Open(s.src)
	if err != nil {
		return false, err
	}
	defer src.Close()
	dst, err := in.dest.OpenFile(rel, os.O_WRONLY|os.O_CREATE|os.O_EXCL, s.perm)
	if err != nil {
		return false, err
	}
	defer func() {
		if cerr := dst.Close(); err == nil {
			err = cerr
		}
	}()
	if _, err := io.Copy(dst, ctxReader{in.ctx, src}); err != nil {
		return true, err
	}
	return true, dst.Chmod(s.perm) // not narrowed by the umask
}

// ctxReader is a reader that fails with ctx's error once ctx is done, so
// that copying a large file stops within one read of a cancellation.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(b []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(b)
}

// perm runs one permission instruction.
func (in *installer) perm(s instruction) error {
	if s.Skipped != "" {
		return nil
	}
	rel := rootRel(s.Destination)
	switch s.Type {
	case "chmod":
		return in.dest.Chmod(rel, s.mode.FSMode())
	case "chown":
		return in.dest.Lchown(rel, s.uid, s.gid)
	}
	return nil
}

// removeListed deletes what a cleanup file lists, last entry first: files
// and links always, directories only when empty (files that scripts created
// are never in the list, so they and their directories stay).
func removeListed(ctx context.Context, dest *os.Root, list []string) error {
	for _, p := range slices.Backward(list) {
		if err := ctx.Err(); err != nil {
			return err
		}
		p = cleanInstancePath(p)
		if p == "/" || inAgentDir(p) {
			continue
		}
		rel := rootRel(p)
		fi, err := dest.Lstat(rel)
		if err != nil {
			continue // already gone
		}
		err = dest.Remove(rel)
		if err != nil && fi.IsDir() {
			continue // not empty: something else lives there now
		}
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("localtarget: cleanup: removing %s: %w", p, err)
		}
	}
	return nil
}

// installRecord is the content of <group-id>-install.json.
type installRecord struct {
	DeploymentID string        `json:"deploymentId"`
	Instructions []instruction `json:"instructions"`
	Retained     []string      `json:"retained,omitempty"`
}

func marshalInstall(deploymentID string, plan installPlan) ([]byte, error) {
	rec := installRecord{DeploymentID: deploymentID, Instructions: slices.Concat(plan.steps, plan.perms), Retained: plan.retained}
	if rec.Instructions == nil {
		rec.Instructions = []instruction{}
	}
	return json.MarshalIndent(rec, "", "  ")
}

// summary describes what an installPlan did, for the event's message.
func (plan installPlan) summary() string {
	var files, dirs, links int
	for _, s := range plan.steps {
		switch s.kind {
		case kindFile:
			files++
		case kindDir:
			dirs++
		case kindLink:
			links++
		}
	}
	msg := fmt.Sprintf("installed %s and %s", plural(files, "file"), plural(dirs, "new directory"))
	if links > 0 {
		msg += ", " + plural(links, "symbolic link")
	}
	if n := len(plan.retained); n > 0 {
		msg += fmt.Sprintf("; kept %s (RETAIN)", plural(n, "existing file"))
	}
	skipped := map[string]int{}
	var reasons []string
	for _, s := range plan.perms {
		if s.Skipped == "" {
			continue
		}
		key := s.Type + " (" + s.Skipped + ")"
		if skipped[key] == 0 {
			reasons = append(reasons, key)
		}
		skipped[key]++
	}
	if len(reasons) > 0 {
		parts := make([]string, len(reasons))
		for i, r := range reasons {
			parts[i] = fmt.Sprintf("%s on %s", r, plural(skipped[r], "object"))
		}
		msg += "; not applied: " + strings.Join(parts, ", ")
	}
	return msg
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	switch {
	case strings.HasSuffix(noun, "directory"):
		noun = strings.TrimSuffix(noun, "y") + "ies"
	default:
		noun += "s"
	}
	return strconv.Itoa(n) + " " + noun
}

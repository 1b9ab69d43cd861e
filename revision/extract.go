package revision

import (
	"context"
	"errors"
	"fmt"
	"github.com/fleetdeploy/fleetdeploy/config"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
)

// Default extraction limits, used for every zero field of ExtractLimits.
const (
	DefaultMaxBytes      int64 = 1 << 30   // 1 GiB of file content in all
	DefaultMaxFiles            = 100_000   // entries of any kind
	DefaultMaxFileBytes  int64 = 512 << 20 // 512 MiB in one file
	DefaultMaxDepth            = 128       // path elements of one entry
	DefaultMaxPathLength       = 4096      // bytes of one entry's path (Linux PATH_MAX)
)

// ExtractLimits bound what reading a bundle may cost, against archive bombs.
// Sizes count the bytes actually read (decompressed), not what headers
// claim; headers that claim too much are refused before anything is
// written. A zero or negative field means its default.
type ExtractLimits struct {
	// MaxBytes bounds the total size of all files (default 1 GiB).
	MaxBytes int64
	// MaxFiles bounds the number of entries: files, directories, links
	// (default 100,000).
	MaxFiles int
	// MaxFileBytes bounds the size of one file (default 512 MiB).
	MaxFileBytes int64
	// MaxDepth bounds how deep an entry may sit: the number of elements of
	// its cleaned path, so "a/b/c.txt" has depth 3 (default 128). Work on
	// a tree grows with the square of its depth, so a bundle of a few
	// thousand nested directories would take minutes to extract and
	// install; it is refused at its first entry deeper than this.
	MaxDepth int
	// MaxPathLength bounds the length in bytes of an entry's cleaned path
	// (default 4096, Linux's PATH_MAX: the CodeDeploy agent cannot create
	// a longer path below its deployment archive either).
	MaxPathLength int
}

func (l ExtractLimits) withDefaults() ExtractLimits {
	if l.MaxBytes <= 0 {
		l.MaxBytes = DefaultMaxBytes
	}
	if l.MaxFiles <= 0 {
		l.MaxFiles = DefaultMaxFiles
	}
	if l.MaxFileBytes <= 0 {
		l.MaxFileBytes = DefaultMaxFileBytes
	}
	if l.MaxDepth <= 0 {
		l.MaxDepth = DefaultMaxDepth
	}
	if l.MaxPathLength <= 0 {
		l.MaxPathLength = DefaultMaxPathLength
	}
	return l
}

// UnpackOptions are the optional settings of Unpack and ReadAppSpec.
type UnpackOptions struct {
	// Limits bound the bundle's size; see ExtractLimits for the defaults.
	Limits ExtractLimits
	// TempDir is where ReadAppSpec spools a zip bundle that arrives as a
	// plain stream (default os.TempDir()). Unpack spools beside dst.
	TempDir string
}

// UnpackResult describes an unpacked bundle.
type UnpackResult struct {
	// Entries is the number of bundle entries read (files, directories,
	// links), including any discarded with a stripped top directory.
	Entries int
	// Bytes is the total size of the files read.
	Bytes int64
	// AppSpec is the slash path, relative to dst, of the AppSpec file the
	// agent will use (appspec.yaml, then appspec.yml, then appspec.json),
	// or "" when the bundle has none.
	AppSpec string
	// StrippedDir is the bundle's top directory that became dst under the
	// single-top-directory rule (see Unpack), or "" when nothing was
	// stripped.
	StrippedDir string
	// Discarded lists, sorted, the other root entries dropped with a
	// stripped top directory (the agent removes them with a warning).
	Discarded []string
}

// ExtractError is the error for a bundle, or an entry of a bundle, that
// breaks a rule. Err is the sentinel (ErrUnsafePath, ErrLimitExceeded,
// ErrCorruptBundle) or, for a failure to write the destination or read a
// directory bundle, the underlying error.
type ExtractError struct {
	// Entry is the entry's name as the bundle spells it; empty when the
	// problem is the bundle as a whole.
	Entry string
	// Reason says which rule the entry breaks, e.g. "path escapes the
	// destination".
	Reason string
	// Err is what errors.Is and errors.As see through Unwrap.
	Err error
}

// Error reads `revision: bundle entry "../x": path escapes the destination`.
func (e *ExtractError) Error() string {
	if e.Entry == "" {
		return "revision: bundle: " + e.Reason
	}
	return fmt.Sprintf("revision: bundle entry %q: %s", e.Entry, e.Reason)
}

// Unwrap returns Err.
func (e *ExtractError) Unwrap() error { return e.Err }

// Unpack writes the bundle's files into the directory dst, safely, and
// reports what it wrote.
//
// Archives (zip, tar, tgz) are extracted; a bare AppSpec (YAML, JSON) is
// written as appspec.yaml or appspec.json; a Dir bundle is copied (symlinks
// as symlinks). dst must not exist, or be an empty directory, which is
// replaced; its parent must exist.
//
// # Single top directory
//
// When the bundle's root holds no AppSpec file and exactly one AppSpec file
// sits one level down, in a directory whose name does not start with ".",
// that directory becomes dst and every other root entry is discarded (as
// the CodeDeploy agent does, e.g. for GitHub tarballs and macOS zips with
// __MACOSX). AppSpec files are regular files named appspec.yaml,
// appspec.yml or appspec.json. The rule applies to zip, tar, tgz and Dir
// bundles.
//
// # Hostile bundles
//
// Nothing is ever written outside dst. Unpack refuses, with an
// *ExtractError wrapping ErrUnsafePath: absolute names, Windows drive
// letters, any ".." element, names that pass through a symlink or a file;
// symlinks that are absolute or that resolve, through any chain of links,
// outside dst; hard links to anything but a regular file earlier in the
// archive; devices, FIFOs and other special entries; an entry that appears
// twice (directories excepted). Backslashes in names are path separators.
// Limits (ExtractLimits) count the bytes actually decompressed, and bound
// the entries' number, depth and path length; going over one fails with
// ErrLimitExceeded. ctx is checked before every entry and every read, so a
// cancelled Unpack returns ctx.Err() within one read of the bundle's body. A truncated or damaged archive fails
// with ErrCorruptBundle; a tar must end with its end-of-archive marker.
//
// Permission bits are kept except setuid, setgid, sticky and group/other
// write (as if extracted under umask 022); directories are always
// owner-writable. Owners and modification times are not restored.
//
// # Failure leaves nothing
//
// Unpack extracts into a hidden working directory beside dst and renames it
// into place only when the whole bundle has been read and checked; on any
// error (including ctx being done) the working directory is removed and dst
// is left as it was. Unpack reads b.Body to its end; it does not close b.
func Unpack(ctx context.Context, b *Bundle, dst string, opts ...func(*UnpackOptions)) (UnpackResult, error) {
	var o UnpackOptions
	for _, opt := range opts {
		opt(&o)
	}
	if err := ctx.Err(); err != nil {
		return UnpackResult{}, err
	}
	if dst == "" {
		return UnpackResult{}, errors.New("revision: unpack destination is empty")
	}
	dst = filepath.Clean(dst)
	if b != nil && b.Type == BundleDir && b.Dir != "" {
		if err := checkOutsideDir(dst, b.Dir); err != nil {
			return UnpackResult{}, err
		}
	}
	replace, err := checkDestination(dst)
	if err != nil {
		return UnpackResult{}, err
	}
	work, err := os.MkdirTemp(filepath.Dir(dst), "."+filepath.Base(dst)+".unpack-")
	if err != nil {
		return UnpackResult{}, fmt.Errorf("revision: unpack into %q: %w", dst, err)
	}
	defer os.RemoveAll(work)
	treeDir := filepath.Join(work, "tree")
	if err := os.Mkdir(treeDir, 0o700); err != nil {
		return UnpackResult{}, fmt.Errorf("revision: unpack into %q: %w", dst, err)
	}
	root, err := os.OpenRoot(treeDir)
	if err != nil {
		return UnpackResult{}, fmt.Errorf("revision: unpack into %q: %w", dst, err)
	}
	defer root.Close()

	r := &bundleReader{ctx: ctx, lim: o.Limits.withDefaults(), tempDir: work}
	x := &extractor{root: root, tree: newTree()}
	if err := r.walk(b, x.add); err != nil {
		return UnpackResult{}, err
	}
	appspec, top := x.tree.layout()
	if err := x.tree.checkLinks(top); err != nil {
		return UnpackResult{}, err
	}
	if err := x.finishModes(ctx); err != nil {
		return UnpackResult{}, err
	}
	res := UnpackResult{Entries: r.entries, Bytes: r.bytes, AppSpec: appspec, StrippedDir: top}
	src := treeDir
	if top != "" {
		src = filepath.Join(treeDir, filepath.FromSlash(top))
		res.AppSpec = path.Base(appspec)
		res.Discarded = x.tree.rootNames(top)
	} else if err := os.Chmod(treeDir, 0o755); err != nil {
		return UnpackResult{}, fmt.Errorf("revision: unpack into %q: %w", dst, err)
	}
	if err := ctx.Err(); err != nil {
		return UnpackResult{}, err
	}
	if replace {
		if err := os.Remove(dst); err != nil {
			return UnpackResult{}, fmt.Errorf("revision: unpack into %q: %w", dst, err)
		}
	}
	if err := os.Rename(src, dst); err != nil {
		return UnpackResult{}, fmt.Errorf("revision: unpack into %q: %w", dst, err)
	}
	return res, nil
}

// checkDestination reports whether dst is an empty directory to replace,
// or fails when it exists as anything else.
func checkDestination(dst string) (replace bool, err error) {
	fi, err := os.Lstat(dst)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("revision: unpack destination: %w", err)
	}
	if fi.IsDir() {
		names, err := readDirNames(dst)
		if err != nil {
			return false, fmt.Errorf("revision: unpack destination: %w", err)
		}
		if len(names) == 0 {
			return true, nil
		}
	}
	return false, fmt.Errorf("revision: unpack destination %q already exists and is not an empty directory: %w", dst, fs.ErrExist)
}

// checkOutsideDir refuses a destination inside the directory being copied,
// which would copy itself.
func checkOutsideDir(dst, dir string) error {
	absDst, err := filepath.Abs(dst)
	if err != nil {
		return fmt.Errorf("revision: unpack destination: %w", err)
	}
	absDir, err := filepath.Abs(dir)
	if err != nil {
		return fmt.Errorf("revision: unpack bundle directory: %w", err)
	}
	if rel, err := filepath.Rel(absDir, absDst); err == nil && filepath.IsLocal(rel) {
		return fmt.Errorf("revision: unpack destination %q is inside the bundle directory %q", dst, dir)
	}
	return nil
}

func readDirNames(dir string) ([]string, error) {
	f, err := os.Open(dir)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	names, err := f.Readdirnames(1)
	if err == io.EOF {
		err = nil
	}
	return names, err
}

// ReadAppSpec returns the AppSpec file of a bundle without writing it to
// disk, for callers (Lambda, ECS) that need only the AppSpec text. name is
// the file's slash path inside the bundle, e.g. "appspec.yaml" or
// "myapp/appspec.yml".
//
// The file is found as the agent finds it (command_executor.rb in
// aws/aws-codedeploy-agent): appspec.yaml, then
// appspec.yml, then appspec.json at the bundle's root; else the single
// AppSpec file one directory down (the single-top-directory rule of
// Unpack). A bare YAML or JSON bundle is its own AppSpec.
//
// ReadAppSpec checks every entry of the bundle by the rules of Unpack, under
// the same limits, and refuses the same unsafe names, links, entry types,
// entry counts and sizes. It reads tar and tgz bundles to their end, but
// decompresses only the AppSpec of a zip, so damage inside another zip
// member goes unnoticed. An AppSpec file larger than MaxAppSpecSize fails
// with ErrLimitExceeded, a bundle without one with ErrAppSpecNotFound.
func ReadAppSpec(ctx context.Context, b *Bundle, opts ...func(*UnpackOptions)) (name string, content []byte, err error) {
	var o UnpackOptions
	for _, opt := range opts {
		opt(&o)
	}
	if err := ctx.Err(); err != nil {
		return "", nil, err
	}
	r := &bundleReader{ctx: ctx, lim: o.Limits.withDefaults(), tempDir: o.TempDir}
	f := &appSpecFinder{tree: newTree(), content: map[string][]byte{}}
	if err := r.walk(b, f.add); err != nil {
		return "", nil, err
	}
	name, top := f.tree.layout()
	if err := f.tree.checkLinks(top); err != nil {
		return "", nil, err
	}
	if name == "" {
		return "", nil, fmt.Errorf("revision: bundle has no appspec.yaml, appspec.yml or appspec.json at its root or in a single top directory: %w", ErrAppSpecNotFound)
	}
	return name, f.content[name], nil
}

type appSpecFinder struct {
	tree    *tree
	content map[string][]byte // AppSpec candidates read so far, by path
	nested  int               // candidates one directory down
}

func (f *appSpecFinder) add(e *entry) error {
	if _, _, err := f.tree.add(e); err != nil {
		return err
	}
	depth, ok := appSpecCandidate(e.rel)
	if e.kind != kindFile || !ok {
		return nil
	}
	if depth == 1 {
		// Only a single nested AppSpec is ever used: keep the first.
		f.nested++
		if f.nested > 1 {
			return nil
		}
	}
	data, err := io.ReadAll(io.LimitReader(e.body, MaxAppSpecSize+1))
	if err != nil {
		return err
	}
	if len(data) > MaxAppSpecSize {
		return &ExtractError{Entry: e.name, Reason: fmt.Sprintf("AppSpec file is larger than %d bytes", MaxAppSpecSize), Err: ErrLimitExceeded}
	}
	f.content[e.rel] = data
	return nil
}

// appSpecNames returns every AppSpec file name in the agent's lookup order
// (see AppSpecNames): bundles are unpacked the same way whatever the compute
// platform, and appspec.json only ever exists in Lambda and ECS bundles.
func appSpecNames() []string { return AppSpecNames(config.Lambda) }

// appSpecCandidate reports whether rel names a possible AppSpec file: an
// AppSpec name at the root (depth 0) or inside a first-level directory
// whose name does not start with "." (depth 1).
func appSpecCandidate(rel string) (depth int, ok bool) {
	dir, base := path.Split(rel)
	if !slices.Contains(appSpecNames(), base) {
		return 0, false
	}
	switch {
	case dir == "":
		return 0, true
	case strings.Count(dir, "/") == 1 && !strings.HasPrefix(dir, "."):
		return 1, true
	}
	return 0, false
}

// tree is the in-memory model of the bundle being read: every path and
// what it is. It enforces the structural rules (no path through a symlink
// or file, no duplicates, link targets) without touching the disk, so that
// Unpack and ReadAppSpec refuse exactly the same bundles.
type tree struct {
	nodes map[string]*node
	links []string // paths of symlinks, in bundle order
}

type node struct {
	kind     entryKind // kindFile, kindDir or kindSymlink
	hardlink bool      // a kindFile made by a hard link
	explicit bool      // a directory the bundle lists (not only implied)
	name     string    // entry name as the bundle spells it
	link     string    // symlink target
	perm     fs.FileMode
}

func newTree() *tree { return &tree{nodes: map[string]*node{}} }

// add records e. It returns the implied parent directories that do not
// exist yet (outermost first) and whether e itself is new (a directory
// listed twice is not).
func (t *tree) add(e *entry) (mkdirs []string, create bool, err error) {
	unsafe := func(format string, args ...any) error {
		return &ExtractError{Entry: e.name, Reason: fmt.Sprintf(format, args...), Err: ErrUnsafePath}
	}
	if e.rel == "." {
		if e.kind == kindDir {
			return nil, false, nil // the root itself, e.g. "./"
		}
		return nil, false, unsafe("entry names the bundle root but is not a directory")
	}
	for i := 0; i < len(e.rel); i++ {
		if e.rel[i] != '/' {
			continue
		}
		parent := e.rel[:i]
		switch n := t.nodes[parent]; {
		case n == nil:
			t.nodes[parent] = &node{kind: kindDir, perm: 0o755}
			mkdirs = append(mkdirs, parent)
		case n.kind == kindSymlink:
			return nil, false, unsafe("path goes through the symlink %q", parent)
		case n.kind != kindDir:
			return nil, false, unsafe("path goes through %q, which is not a directory", parent)
		}
	}
	if n := t.nodes[e.rel]; n != nil {
		if n.kind == kindDir && e.kind == kindDir {
			n.perm, n.explicit, n.name = e.perm, true, e.name
			return mkdirs, false, nil
		}
		return nil, false, unsafe("duplicate entry: %q is already in the bundle", e.rel)
	}
	n := &node{kind: e.kind, name: e.name, perm: e.perm}
	switch e.kind {
	case kindDir:
		n.explicit = true
	case kindSymlink:
		if reason := linkTargetProblem(e.rel, e.link); reason != "" {
			return nil, false, unsafe("%s", reason)
		}
		n.link = e.link
		t.links = append(t.links, e.rel)
	case kindHardlink:
		if target := t.nodes[e.link]; target == nil || target.kind != kindFile {
			return nil, false, unsafe("hard link target %q is not a regular file earlier in the bundle", e.link)
		}
		n.kind, n.hardlink = kindFile, true
	}
	t.nodes[e.rel] = n
	return mkdirs, true, nil
}

// linkTargetProblem checks a symlink target on its own: relative, and not
// leading out of the bundle when read lexically from the link's directory.
// checkLinks later follows chains of links.
func linkTargetProblem(linkRel, target string) string {
	switch {
	case target == "":
		return "symlink has an empty target"
	case strings.ContainsRune(target, 0):
		return "symlink target contains a NUL byte"
	case len(target) > maxLinkTarget:
		return fmt.Sprintf("symlink target is longer than %d bytes", maxLinkTarget)
	case strings.HasPrefix(target, "/"):
		return fmt.Sprintf("symlink target %q is absolute", target)
	case strings.Contains(target, `\`):
		return fmt.Sprintf("symlink target %q contains a backslash", target)
	case hasDriveLetter(target):
		return fmt.Sprintf("symlink target %q starts with a Windows drive letter", target)
	}
	if c := path.Join(path.Dir(linkRel), target); c == ".." || strings.HasPrefix(c, "../") {
		return fmt.Sprintf("symlink target %q points outside the destination", target)
	}
	return ""
}

// maxLinkHops bounds symlink chains, as Linux does (ELOOP after 40).
const maxLinkHops = 40

// checkLinks resolves every symlink under top ("" for the root) the way
// the kernel would, over the final tree whose root is top, and fails for
// one that leads outside it or loops. Dangling links that stay inside are
// allowed.
func (t *tree) checkLinks(top string) error {
	prefix := ""
	if top != "" {
		prefix = top + "/"
	}
	for _, rel := range t.links {
		if !strings.HasPrefix(rel, prefix) {
			continue // discarded with the rest of the root
		}
		if reason := t.resolve(prefix, strings.TrimPrefix(rel, prefix)); reason != "" {
			n := t.nodes[rel]
			return &ExtractError{Entry: n.name, Reason: reason, Err: ErrUnsafePath}
		}
	}
	return nil
}

// resolve follows the link at rel (relative to prefix) to its end.
func (t *tree) resolve(prefix, rel string) string {
	stack := strings.Split(path.Dir(rel), "/")
	if stack[0] == "." {
		stack = stack[:0]
	}
	first := t.nodes[prefix+rel]
	queue := strings.Split(first.link, "/")
	hops := 0
	for len(queue) > 0 {
		c := queue[0]
		queue = queue[1:]
		switch c {
		case "", ".":
			continue
		case "..":
			if len(stack) == 0 {
				return fmt.Sprintf("symlink target %q resolves outside the destination", first.link)
			}
			stack = stack[:len(stack)-1]
			continue
		}
		stack = append(stack, c)
		if n := t.nodes[prefix+strings.Join(stack, "/")]; n != nil && n.kind == kindSymlink {
			hops++
			if hops > maxLinkHops {
				return fmt.Sprintf("symlink target %q loops or is a chain of more than %d links", first.link, maxLinkHops)
			}
			stack = stack[:len(stack)-1]
			queue = append(strings.Split(n.link, "/"), queue...)
		}
	}
	return ""
}

// layout applies the AppSpec lookup and the single-top-directory rule
// (see Unpack): it returns the AppSpec's path in the bundle ("" for none)
// and the top directory to strip ("" for none).
func (t *tree) layout() (appspec, top string) {
	var atRoot, nested []string
	for rel, n := range t.nodes {
		if n.kind != kindFile || n.hardlink {
			continue
		}
		switch depth, ok := appSpecCandidate(rel); {
		case !ok:
		case depth == 0:
			atRoot = append(atRoot, rel)
		default:
			nested = append(nested, rel)
		}
	}
	for _, name := range appSpecNames() {
		if slices.Contains(atRoot, name) {
			return name, ""
		}
	}
	if len(nested) == 1 {
		return nested[0], path.Dir(nested[0])
	}
	return "", ""
}

// rootNames lists the root entries other than keep, sorted.
func (t *tree) rootNames(keep string) []string {
	var names []string
	for rel := range t.nodes {
		if !strings.Contains(rel, "/") && rel != keep {
			names = append(names, rel)
		}
	}
	slices.Sort(names)
	return names
}

// extractor writes entries below root, after the tree accepted them.
type extractor struct {
	root *os.Root
	tree *tree
}

func (x *extractor) add(e *entry) error {
	mkdirs, create, err := x.tree.add(e)
	if err != nil {
		return err
	}
	for _, d := range mkdirs {
		if err := x.root.Mkdir(d, 0o700); err != nil {
			return x.writeError(e, err)
		}
	}
	if !create {
		return nil
	}
	switch e.kind {
	case kindDir:
		err = x.root.Mkdir(e.rel, 0o700)
	case kindSymlink:
		err = x.root.Symlink(e.link, e.rel)
	case kindHardlink:
		err = x.root.Link(e.link, e.rel)
	case kindFile:
		err = x.writeFile(e)
	}
	if err != nil {
		var xe *ExtractError
		if errors.As(err, &xe) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			return err
		}
		return x.writeError(e, err)
	}
	return nil
}

// writeFile creates a new file (never following or replacing anything
// already there) and copies the entry's content into it.
func (x *extractor) writeFile(e *entry) error {
	f, err := x.root.OpenFile(e.rel, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, e.body); err != nil {
		f.Close()
		return err
	}
	if err := f.Chmod(e.perm & 0o755); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func (x *extractor) writeError(e *entry, err error) error {
	if errors.Is(err, fs.ErrExist) {
		// Only a name differing in case (on a case-insensitive file
		// system) can collide: the tree has refused real duplicates.
		return &ExtractError{Entry: e.name, Reason: "duplicate entry: another entry has the same name on this file system", Err: ErrUnsafePath}
	}
	return &ExtractError{Entry: e.name, Reason: "cannot write: " + err.Error(), Err: err}
}

// finishModes gives directories their final permissions, once nothing
// more is written into them.
func (x *extractor) finishModes(ctx context.Context) error {
	for rel, n := range x.tree.nodes {
		if n.kind != kindDir {
			continue
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := x.root.Chmod(rel, n.perm&0o755|0o700); err != nil {
			name := n.name
			if name == "" {
				name = rel
			}
			return &ExtractError{Entry: name, Reason: "cannot set permissions: " + err.Error(), Err: err}
		}
	}
	return nil
}

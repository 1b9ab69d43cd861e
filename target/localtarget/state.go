package localtarget

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/fleetdeploy/fleetdeploy/revision"
	"github.com/fleetdeploy/fleetdeploy/target"
)

// The agent's files inside an instance. Paths are instance paths: absolute,
// slash-separated, as a process on the instance would see them; hostPath
// maps them under the instance's root directory.
const (
	// deploymentRoot is the agent's own directory (the CodeDeploy agent's
	// /opt/codedeploy-agent/deployment-root). The Install step never copies
	// files into it.
	deploymentRoot = "/deployment-root"
	// instructionsName is the directory of the per-group instruction files.
	instructionsName = "deployment-instructions"
	// archiveName is the unpacked revision inside a deployment directory.
	archiveName = "deployment-archive"
	// recordName is the agent's record of a download, inside a deployment
	// directory.
	recordName = "deployment.json"
	// scriptLogName is the hook output log, inside a deployment directory.
	scriptLogName = "logs/scripts.log"
	// instanceFileName holds an instance's target.Target, in deploymentRoot.
	instanceFileName = "instance.json"
)

// hostPath maps the instance path p under the instance root dir. ".."
// elements cannot climb above the root: p is cleaned as an absolute path
// first, as a chroot would resolve it.
func hostPath(root, p string) string {
	return filepath.Join(root, filepath.FromSlash(cleanInstancePath(p)))
}

// cleanInstancePath returns p cleaned as an absolute slash path.
func cleanInstancePath(p string) string { return path.Clean("/" + p) }

// rootRel returns the instance path p relative to the instance root, for
// os.Root methods ("." for the root itself).
func rootRel(p string) string {
	rel := strings.TrimPrefix(cleanInstancePath(p), "/")
	if rel == "" {
		return "."
	}
	return rel
}

// inAgentDir reports whether the instance path p is the agent's
// deploymentRoot or inside it.
func inAgentDir(p string) bool {
	p = cleanInstancePath(p)
	return p == deploymentRoot || strings.HasPrefix(p, deploymentRoot+"/")
}

// deploymentDir is the instance path of one deployment's directory.
func deploymentDir(groupID, deploymentID string) string {
	return path.Join(deploymentRoot, groupID, deploymentID)
}

// instructionFile is the instance path of one of a group's instruction
// files: suffix is "_last_successful_install", "_most_recent_install",
// "-cleanup" or "-install.json", as the CodeDeploy agent names them.
func instructionFile(groupID, suffix string) string {
	return path.Join(deploymentRoot, instructionsName, groupID+suffix)
}

// The instruction file suffixes.
const (
	lastSuccessfulSuffix = "_last_successful_install"
	mostRecentSuffix     = "_most_recent_install"
	cleanupSuffix        = "-cleanup"
	installSuffix        = "-install.json"
)

// checkPathElement checks that an ID used as a file or directory name is one
// path element that cannot collide with the agent's own names.
func checkPathElement(field, id string) error {
	var rule string
	switch {
	case id == "":
		rule = "is required"
	case len(id) > 255:
		rule = "must be at most 255 bytes"
	case id == "." || id == "..":
		rule = "must not be " + id
	case strings.ContainsAny(id, "/\\\x00"):
		rule = "must not contain '/', '\\' or NUL"
	case id == instructionsName || id == instanceFileName:
		rule = "must not be " + id + ", a name the agent uses itself"
	default:
		return nil
	}
	return fmt.Errorf("localtarget: %s %q %s: %w", field, id, rule, target.ErrInvalidRequest)
}

// checkInstanceID checks an instance ID against the rules of CodeDeploy
// on-premises instance names (ErrInvalidInstanceID).
func checkInstanceID(id string) error {
	if id == "" || len(id) > 100 || id == "." || id == ".." {
		return fmt.Errorf("localtarget: instance ID %q: must be 1 to 100 characters and not . or ..: %w", id, ErrInvalidInstanceID)
	}
	for _, r := range id {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-') {
			return fmt.Errorf("localtarget: instance ID %q: character %q is not a letter, digit, '.', '_' or '-': %w", id, r, ErrInvalidInstanceID)
		}
	}
	return nil
}

// writeFileAtomic writes data to the host path name through a temporary
// file and a rename, so that a reader sees the old or the new content,
// never a part.
func writeFileAtomic(name string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		return err
	}
	f, err := os.CreateTemp(filepath.Dir(name), "."+filepath.Base(name)+".tmp-*")
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(f.Name(), 0o644)
	}
	if err == nil {
		err = os.Rename(f.Name(), name)
	}
	if err != nil {
		_ = os.Remove(f.Name())
	}
	return err
}

// deploymentRecord is what the agent remembers of a downloaded revision,
// in the deployment directory's deployment.json.
type deploymentRecord struct {
	// Seq orders the downloads of a group: one more than the largest Seq
	// of the group's deployment directories at the time.
	Seq                 int64  `json:"seq"`
	ApplicationName     string `json:"applicationName"`
	DeploymentGroupName string `json:"deploymentGroupName"`
	DeploymentGroupID   string `json:"deploymentGroupId"`
	DeploymentID        string `json:"deploymentId"`
	// Revision is the resolved location the Source returned.
	Revision revision.Location `json:"revision"`
	// BundleEnv holds the bundle variables (revision.BundleEnv) for the hooks.
	BundleEnv map[string]string `json:"bundleEnv,omitempty"`
	// AppSpec is the AppSpec file's name in the archive.
	AppSpec      string    `json:"appSpec"`
	DownloadedAt time.Time `json:"downloadedAt"`
}

// state reads and writes one instance's agent files.
type state struct {
	root string // host path of the instance root
}

func (s state) host(p string) string { return hostPath(s.root, p) }

// readPointer reads a _last_successful_install or _most_recent_install file
// and returns the deployment directory it names, or "" when there is none.
// The file holds the instance path of a directory of the group.
func (s state) readPointer(groupID, suffix string) (string, error) {
	name := instructionFile(groupID, suffix)
	b, err := os.ReadFile(s.host(name))
	if errors.Is(err, fs.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("localtarget: reading %s: %w", name, err)
	}
	dir := strings.TrimSpace(string(b))
	if dir == "" {
		return "", nil
	}
	if c := cleanInstancePath(dir); c != dir || path.Dir(dir) != path.Join(deploymentRoot, groupID) {
		return "", fmt.Errorf("localtarget: %s names %q, not a deployment directory of group %s", name, dir, groupID)
	}
	return dir, nil
}

// writePointer records dir in a _last_successful_install or
// _most_recent_install file.
func (s state) writePointer(groupID, suffix, dir string) error {
	name := instructionFile(groupID, suffix)
	if err := writeFileAtomic(s.host(name), []byte(dir)); err != nil {
		return fmt.Errorf("localtarget: writing %s: %w", name, err)
	}
	return nil
}

// exists reports whether the instance path p exists.
func (s state) exists(p string) bool {
	_, err := os.Lstat(s.host(p))
	return err == nil
}

// readRecord reads a deployment directory's record; ok is false when it has
// none.
func (s state) readRecord(dir string) (rec deploymentRecord, ok bool, err error) {
	name := path.Join(dir, recordName)
	b, err := os.ReadFile(s.host(name))
	if errors.Is(err, fs.ErrNotExist) {
		return rec, false, nil
	}
	if err != nil {
		return rec, false, fmt.Errorf("localtarget: reading %s: %w", name, err)
	}
	if err := json.Unmarshal(b, &rec); err != nil {
		return rec, false, fmt.Errorf("localtarget: reading %s: %w", name, err)
	}
	return rec, true, nil
}

// writeRecord writes a deployment directory's record.
func (s state) writeRecord(dir string, rec deploymentRecord) error {
	name := path.Join(dir, recordName)
	b, err := json.MarshalIndent(rec, "", "  ")
	if err != nil {
		return fmt.Errorf("localtarget: writing %s: %w", name, err)
	}
	if err := writeFileAtomic(s.host(name), b); err != nil {
		return fmt.Errorf("localtarget: writing %s: %w", name, err)
	}
	return nil
}

// groupDeployment is one deployment directory of a group, with its order.
type groupDeployment struct {
	dir string // instance path
	seq int64  // 0 when the directory has no record (only logs)
}

// groupDeployments lists a group's deployment directories, oldest first:
// by record sequence, directories without a record first, ties by name.
func (s state) groupDeployments(groupID string) ([]groupDeployment, error) {
	gdir := path.Join(deploymentRoot, groupID)
	entries, err := os.ReadDir(s.host(gdir))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("localtarget: listing %s: %w", gdir, err)
	}
	var out []groupDeployment
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		d := groupDeployment{dir: path.Join(gdir, e.Name())}
		if rec, ok, err := s.readRecord(d.dir); err == nil && ok {
			d.seq = rec.Seq
		}
		out = append(out, d)
	}
	slices.SortFunc(out, func(a, b groupDeployment) int {
		if c := cmp.Compare(a.seq, b.seq); c != 0 {
			return c
		}
		return strings.Compare(a.dir, b.dir)
	})
	return out, nil
}

// prune deletes a group's oldest deployment directories until at most max
// remain, never one of keep.
func (s state) prune(groupID string, max int, keep ...string) ([]string, error) {
	all, err := s.groupDeployments(groupID)
	if err != nil {
		return nil, err
	}
	var removed []string
	for _, d := range all {
		if len(all)-len(removed) <= max {
			break
		}
		if slices.Contains(keep, d.dir) {
			continue
		}
		if err := os.RemoveAll(s.host(d.dir)); err != nil {
			return removed, fmt.Errorf("localtarget: removing old deployment %s: %w", d.dir, err)
		}
		removed = append(removed, d.dir)
	}
	return removed, nil
}

// readLines reads a file of one instance path per line; nil when it does
// not exist. A line that starts with a double quote is a Go-quoted path
// (see writeLines).
func readLines(name string) ([]string, error) {
	b, err := os.ReadFile(name)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	lines := []string{}
	for l := range strings.Lines(string(b)) {
		l = strings.TrimRight(l, "\r\n")
		if strings.HasPrefix(l, `"`) {
			if u, err := strconv.Unquote(l); err == nil {
				l = u
			}
		}
		if l != "" {
			lines = append(lines, l)
		}
	}
	return lines, nil
}

// writeLines writes one instance path per line, as is unless it holds a
// line break or a leading double quote, in which case it is Go-quoted.
func writeLines(name string, lines []string) error {
	var b strings.Builder
	for _, l := range lines {
		if strings.ContainsAny(l, "\r\n") || strings.HasPrefix(l, `"`) {
			l = strconv.Quote(l)
		}
		b.WriteString(l)
		b.WriteByte('\n')
	}
	return writeFileAtomic(name, []byte(b.String()))
}

package localtarget

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path"
	"path/filepath"
	"slices"
	"sync"

	"github.com/fleetdeploy/fleetdeploy/revision"
	"github.com/fleetdeploy/fleetdeploy/target"
)

// Fleet is a set of local instances, each a directory under the fleet's
// root named by its instance ID, each with its own Agent. It is the Lister
// and the Installer of a Server platform whose hosts are directories on
// this machine:
//
//	fleet, _ := localtarget.New(dir, src)
//	fleet.Add(ctx, target.Target{ID: "web-1", Zone: "zone-a", OnPremises: true, Tags: tags})
//	platform := target.Platform{Lister: fleet, Installer: fleet}
//
// A Fleet is safe for concurrent use. Events of different instances run in
// parallel; events of one instance run one at a time.
type Fleet struct {
	root string
	src  revision.Source
	opts Options

	mu      sync.RWMutex
	members map[string]member
}

// member is one instance of a fleet.
type member struct {
	target target.Target
	agent  *Agent
}

var (
	_ target.Lister    = (*Fleet)(nil)
	_ target.Installer = (*Fleet)(nil)
)

// New opens the fleet whose instances live under the directory root,
// creating root if needed, and fetching revisions through src. Instances
// added earlier (by any Fleet over the same root) are opened again, with
// their IDs, zones and tags, and their agents continue where they were.
func New(root string, src revision.Source, opts ...func(*Options)) (*Fleet, error) {
	o, err := resolveOptions(opts)
	if err != nil {
		return nil, err
	}
	if src == nil {
		return nil, errors.New("localtarget: the revision source is nil")
	}
	abs, err := filepath.Abs(root)
	if err != nil {
		return nil, fmt.Errorf("localtarget: fleet root %q: %w", root, err)
	}
	if err := os.MkdirAll(abs, 0o755); err != nil {
		return nil, fmt.Errorf("localtarget: fleet root %q: %w", root, err)
	}
	f := &Fleet{root: abs, src: src, opts: o, members: map[string]member{}}
	entries, err := os.ReadDir(abs)
	if err != nil {
		return nil, fmt.Errorf("localtarget: fleet root %q: %w", root, err)
	}
	for _, e := range entries {
		if !e.IsDir() || checkInstanceID(e.Name()) != nil {
			continue
		}
		dir := filepath.Join(abs, e.Name())
		name := hostPath(dir, path.Join(deploymentRoot, instanceFileName))
		b, err := os.ReadFile(name)
		if errors.Is(err, fs.ErrNotExist) {
			continue // not an instance
		}
		if err != nil {
			return nil, fmt.Errorf("localtarget: opening instance %s: %w", e.Name(), err)
		}
		var t target.Target
		if err := json.Unmarshal(b, &t); err != nil {
			return nil, fmt.Errorf("localtarget: opening instance %s: %s: %w", e.Name(), name, err)
		}
		if t.ID != e.Name() {
			return nil, fmt.Errorf("localtarget: opening instance %s: %s names instance %q", e.Name(), name, t.ID)
		}
		a, err := f.newMemberAgent(dir, t.ID)
		if err != nil {
			return nil, err
		}
		f.members[t.ID] = member{target: t, agent: a}
	}
	return f, nil
}

func (f *Fleet) newMemberAgent(dir, id string) (*Agent, error) {
	return newAgent(id, dir, f.src, f.opts, f.opts.Logger.With("instance", id))
}

// Root returns the absolute path of the fleet's directory.
func (f *Fleet) Root() string { return f.root }

// Add creates the instance t: the directory Root()/t.ID, which becomes the
// instance's file system root, and a record of t (ID, tags, zone, Auto
// Scaling group, on-premises flag) that New reads back. Selectors match
// on-premises tag filters only against targets with OnPremises set.
//
// Errors: ctx's; ErrInvalidInstanceID (wrapped) when t.ID breaks the rules
// of on-premises instance names; ErrInstanceExists (wrapped) when the fleet
// already has the ID; a failure to create the directory or the record.
func (f *Fleet) Add(ctx context.Context, t target.Target) (*Agent, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := checkInstanceID(t.ID); err != nil {
		return nil, err
	}
	t.Tags = maps.Clone(t.Tags)
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.members[t.ID]; ok {
		return nil, fmt.Errorf("localtarget: instance %s: %w", t.ID, ErrInstanceExists)
	}
	dir := filepath.Join(f.root, t.ID)
	a, err := f.newMemberAgent(dir, t.ID)
	if err != nil {
		return nil, err
	}
	b, err := json.MarshalIndent(t, "", "  ")
	if err == nil {
		err = writeFileAtomic(hostPath(dir, path.Join(deploymentRoot, instanceFileName)), b)
	}
	if err != nil {
		return nil, fmt.Errorf("localtarget: instance %s: writing its record: %w", t.ID, err)
	}
	f.members[t.ID] = member{target: t, agent: a}
	return a, nil
}

// Agent returns the agent of instance id, and whether the fleet has it.
func (f *Fleet) Agent(id string) (*Agent, bool) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	m, ok := f.members[id]
	return m.agent, ok
}

// Targets returns every instance of the fleet, ordered by ID. The targets
// and their Tags maps are copies.
func (f *Fleet) Targets() []target.Target {
	f.mu.RLock()
	out := make([]target.Target, 0, len(f.members))
	for _, m := range f.members {
		t := m.target
		t.Tags = maps.Clone(t.Tags)
		out = append(out, t)
	}
	f.mu.RUnlock()
	slices.SortFunc(out, func(a, b target.Target) int { return cmp.Compare(a.ID, b.ID) })
	return out
}

// ListTargets returns the instances sel matches, ordered by ID. It
// implements target.Lister; its only error is ctx's.
func (f *Fleet) ListTargets(ctx context.Context, sel target.Selector) ([]target.Target, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var out []target.Target
	for _, t := range f.Targets() {
		if sel.Matches(t) {
			out = append(out, t)
		}
	}
	return out, nil
}

// RunEvent runs req on the agent of instance req.Target.ID; see
// Agent.RunEvent. An instance the fleet does not have fails with an error
// wrapping target.ErrTargetUnavailable.
func (f *Fleet) RunEvent(ctx context.Context, req target.EventRequest) (target.EventResult, error) {
	a, ok := f.Agent(req.Target.ID)
	if !ok {
		return target.EventResult{}, fmt.Errorf("localtarget: no instance %q in the fleet at %s: %w", req.Target.ID, f.root, target.ErrTargetUnavailable)
	}
	return a.RunEvent(ctx, req)
}

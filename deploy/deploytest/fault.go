package deploytest

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/fleetdeploy/fleetdeploy/deploy"
)

// Sentinel errors of FaultStore. Test with errors.Is.
var (
	// ErrInjected is the default error of a write a FaultStore fails.
	ErrInjected = errors.New("deploytest: injected write failure")

	// ErrCrashed is matched by every error a crashed FaultStore returns,
	// including the write that crashed it.
	ErrCrashed = errors.New("deploytest: store crashed")
)

// Op names a write method of deploy.Store.
type Op string

// The write operations.
const (
	OpCreateApplication Op = "CreateApplication"
	OpCreateGroup       Op = "CreateGroup"
	OpUpdateGroup       Op = "UpdateGroup"
	OpCreateDeployment  Op = "CreateDeployment"
	OpUpdateDeployment  Op = "UpdateDeployment"
	OpPutTargets        Op = "PutTargets"
	OpUpdateTarget      Op = "UpdateTarget"
	OpPutInstances      Op = "PutInstances"
	OpAcquireLease      Op = "AcquireLease"
	OpRenewLease        Op = "RenewLease"
	OpReleaseLease      Op = "ReleaseLease"
)

// Values returns every Op.
func (Op) Values() []Op {
	return []Op{OpCreateApplication, OpCreateGroup, OpUpdateGroup, OpCreateDeployment, OpUpdateDeployment,
		OpPutTargets, OpUpdateTarget, OpPutInstances, OpAcquireLease, OpRenewLease, OpReleaseLease}
}

// Write is one write a FaultStore was asked to make.
type Write struct {
	// N counts write attempts through the FaultStore: 1 for the first.
	N  int
	Op Op
	// Key names the record: "app", "app/web", "d-123", "d-123/i-1", or
	// "d-123 (3 targets)" and "(2 records)" for batches.
	Key string
	// Record is the value passed to the method: *deploy.Application,
	// *deploy.Group, *deploy.Deployment, []deploy.DeploymentTarget,
	// *deploy.DeploymentTarget, []deploy.InstanceRecord, or the
	// deploy.Lease renewed or released (for AcquireLease, the lease asked
	// for: its DeploymentID and Owner). A predicate may read it and must
	// not change it.
	Record any
}

// String returns e.g. "write 3: UpdateDeployment d-123".
func (w Write) String() string {
	return "write " + strconv.Itoa(w.N) + ": " + string(w.Op) + " " + w.Key
}

// InjectedError is the error of a write a FaultStore failed on purpose.
// The write did not reach the inner store.
type InjectedError struct {
	Write Write
	// Err is FaultOptions.Err, or ErrInjected. In crash mode it also
	// matches ErrCrashed.
	Err error
}

// Error names the write.
func (e *InjectedError) Error() string {
	return "deploytest: " + e.Write.String() + ": " + strings.TrimPrefix(e.Err.Error(), "deploytest: ")
}

// Unwrap returns Err.
func (e *InjectedError) Unwrap() error { return e.Err }

// FaultOptions says which writes a FaultStore fails and how.
type FaultOptions struct {
	// Fail reports whether a write must fail; nil fails none. See
	// AfterWrites, NthWrite and OnOp. It is called with the FaultStore
	// locked, one write at a time, and must not call the FaultStore.
	Fail func(Write) bool
	// Err is the error failed writes wrap; nil means ErrInjected, or
	// ErrCrashed in crash mode.
	Err error
	// Crash makes the first failed write a crash: from then on every call,
	// reads included, fails with an error matching ErrCrashed (and Err),
	// Crashed reports true and Done is closed — as if the process using the
	// store had died at that write. Resume with a new FaultStore (or the
	// inner store itself) to model a restarted process.
	Crash bool
}

// AfterWrites fails every write after the first k.
func AfterWrites(k int) func(Write) bool { return func(w Write) bool { return w.N > k } }

// NthWrite fails the n-th write only (1 is the first).
func NthWrite(n int) func(Write) bool { return func(w Write) bool { return w.N == n } }

// OnOp fails every write of operation op.
func OnOp(op Op) func(Write) bool { return func(w Write) bool { return w.Op == op } }

// FaultStore wraps a deploy.Store and fails chosen writes. A failed write
// returns an *InjectedError and never reaches the inner store, so the
// inner store's state is exactly what the writes before it made. Reads
// pass through (until a crash). It counts writes, for tests that crash a
// run after each of its writes in turn:
//
//	n := count writes of a clean run                    // FaultStore.Writes
//	for k := range n {
//		inner := deploy.NewMemoryStore()
//		fs := deploytest.CrashAfter(inner, k)        // dies at write k+1
//		run(fs)                                      // fails with ErrCrashed
//		resume(inner)                                // a new process
//		compare with the clean run
//	}
//
// Lease changes (AcquireLease, RenewLease, ReleaseLease) are writes too,
// and so are the writes of its fenced views (Fenced), which it counts and
// fails with its own.
//
// A FaultStore is safe for concurrent use.
type FaultStore struct {
	inner deploy.Store
	*faults
}

// faults is the state a FaultStore shares with its fenced views.
type faults struct {
	opts FaultOptions

	mu       sync.Mutex
	attempts int
	writes   int
	failed   []Write
	crashed  bool
	done     chan struct{}
}

var _ deploy.Store = (*FaultStore)(nil)

// NewFaultStore returns a FaultStore that forwards to inner.
func NewFaultStore(inner deploy.Store, opts FaultOptions) *FaultStore {
	return &FaultStore{inner: inner, faults: &faults{opts: opts, done: make(chan struct{})}}
}

// CrashAfter returns a FaultStore that lets the first k writes through and
// crashes at the next one (see FaultOptions.Crash).
func CrashAfter(inner deploy.Store, k int) *FaultStore {
	return NewFaultStore(inner, FaultOptions{Fail: AfterWrites(k), Crash: true})
}

// Inner returns the wrapped store.
func (f *FaultStore) Inner() deploy.Store { return f.inner }

// Writes returns the number of writes passed to the inner store (whatever
// it answered).
func (f *FaultStore) Writes() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.writes
}

// Failed returns the writes failed on purpose, in order.
func (f *FaultStore) Failed() []Write {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Write(nil), f.failed...)
}

// Crashed reports whether the store has crashed.
func (f *FaultStore) Crashed() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.crashed
}

// Done returns a channel closed when the store crashes.
func (f *FaultStore) Done() <-chan struct{} { return f.done }

func (f *faults) failErr() error {
	switch {
	case f.opts.Crash && f.opts.Err != nil && !errors.Is(f.opts.Err, ErrCrashed):
		return fmt.Errorf("%w: %w", ErrCrashed, f.opts.Err)
	case f.opts.Err != nil:
		return f.opts.Err
	case f.opts.Crash:
		return ErrCrashed
	}
	return ErrInjected
}

// crashedErr returns the error of a call after the crash, or nil.
func (f *faults) crashedErr(method string) error {
	if !f.crashed {
		return nil
	}
	if f.opts.Err != nil && !errors.Is(f.opts.Err, ErrCrashed) {
		return fmt.Errorf("deploytest: %s after the crash: %w (%w)", method, ErrCrashed, f.opts.Err)
	}
	return fmt.Errorf("deploytest: %s after the crash: %w", method, ErrCrashed)
}

// read checks a read may go on.
func (f *faults) read(method string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.crashedErr(method)
}

// write decides whether a write goes on; when it does not, it returns the
// error to give the caller.
func (f *faults) write(op Op, key string, record any) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.crashedErr(string(op)); err != nil {
		return err
	}
	f.attempts++
	w := Write{N: f.attempts, Op: op, Key: key, Record: record}
	if f.opts.Fail != nil && f.opts.Fail(w) {
		w.Record = nil // the caller owns it; do not keep it alive
		f.failed = append(f.failed, w)
		if f.opts.Crash && !f.crashed {
			f.crashed = true
			close(f.done)
		}
		return &InjectedError{Write: w, Err: f.failErr()}
	}
	f.writes++
	return nil
}

// CreateApplication implements deploy.ApplicationStore.
func (f *FaultStore) CreateApplication(ctx context.Context, a *deploy.Application) error {
	if err := f.write(OpCreateApplication, a.Name, a); err != nil {
		return err
	}
	return f.inner.CreateApplication(ctx, a)
}

// GetApplication implements deploy.ApplicationStore.
func (f *FaultStore) GetApplication(ctx context.Context, name string) (*deploy.Application, error) {
	if err := f.read("GetApplication"); err != nil {
		return nil, err
	}
	return f.inner.GetApplication(ctx, name)
}

// ListApplications implements deploy.ApplicationStore.
func (f *FaultStore) ListApplications(ctx context.Context) ([]deploy.Application, error) {
	if err := f.read("ListApplications"); err != nil {
		return nil, err
	}
	return f.inner.ListApplications(ctx)
}

// CreateGroup implements deploy.GroupStore.
func (f *FaultStore) CreateGroup(ctx context.Context, g *deploy.Group) error {
	if err := f.write(OpCreateGroup, g.ApplicationName+"/"+g.Name, g); err != nil {
		return err
	}
	return f.inner.CreateGroup(ctx, g)
}

// GetGroup implements deploy.GroupStore.
func (f *FaultStore) GetGroup(ctx context.Context, applicationName, name string) (*deploy.Group, error) {
	if err := f.read("GetGroup"); err != nil {
		return nil, err
	}
	return f.inner.GetGroup(ctx, applicationName, name)
}

// UpdateGroup implements deploy.GroupStore.
func (f *FaultStore) UpdateGroup(ctx context.Context, g *deploy.Group) error {
	if err := f.write(OpUpdateGroup, g.ApplicationName+"/"+g.Name, g); err != nil {
		return err
	}
	return f.inner.UpdateGroup(ctx, g)
}

// ListGroups implements deploy.GroupStore.
func (f *FaultStore) ListGroups(ctx context.Context, applicationName string) ([]deploy.Group, error) {
	if err := f.read("ListGroups"); err != nil {
		return nil, err
	}
	return f.inner.ListGroups(ctx, applicationName)
}

// CreateDeployment implements deploy.DeploymentStore.
func (f *FaultStore) CreateDeployment(ctx context.Context, d *deploy.Deployment) error {
	if err := f.write(OpCreateDeployment, d.ID, d); err != nil {
		return err
	}
	return f.inner.CreateDeployment(ctx, d)
}

// GetDeployment implements deploy.DeploymentStore.
func (f *FaultStore) GetDeployment(ctx context.Context, id string) (*deploy.Deployment, error) {
	if err := f.read("GetDeployment"); err != nil {
		return nil, err
	}
	return f.inner.GetDeployment(ctx, id)
}

// UpdateDeployment implements deploy.DeploymentStore.
func (f *FaultStore) UpdateDeployment(ctx context.Context, d *deploy.Deployment) error {
	if err := f.write(OpUpdateDeployment, d.ID, d); err != nil {
		return err
	}
	return f.inner.UpdateDeployment(ctx, d)
}

// ListDeployments implements deploy.DeploymentStore.
func (f *FaultStore) ListDeployments(ctx context.Context, applicationName, groupName string, statuses ...deploy.DeploymentStatus) ([]deploy.Deployment, error) {
	if err := f.read("ListDeployments"); err != nil {
		return nil, err
	}
	return f.inner.ListDeployments(ctx, applicationName, groupName, statuses...)
}

// PutTargets implements deploy.TargetStore.
func (f *FaultStore) PutTargets(ctx context.Context, deploymentID string, targets []deploy.DeploymentTarget) error {
	if err := f.write(OpPutTargets, fmt.Sprintf("%s (%d targets)", deploymentID, len(targets)), targets); err != nil {
		return err
	}
	return f.inner.PutTargets(ctx, deploymentID, targets)
}

// GetTarget implements deploy.TargetStore.
func (f *FaultStore) GetTarget(ctx context.Context, deploymentID, targetID string) (*deploy.DeploymentTarget, error) {
	if err := f.read("GetTarget"); err != nil {
		return nil, err
	}
	return f.inner.GetTarget(ctx, deploymentID, targetID)
}

// UpdateTarget implements deploy.TargetStore.
func (f *FaultStore) UpdateTarget(ctx context.Context, t *deploy.DeploymentTarget) error {
	if err := f.write(OpUpdateTarget, t.DeploymentID+"/"+t.TargetID, t); err != nil {
		return err
	}
	return f.inner.UpdateTarget(ctx, t)
}

// ListTargets implements deploy.TargetStore.
func (f *FaultStore) ListTargets(ctx context.Context, deploymentID, pageToken string, limit int) ([]deploy.DeploymentTarget, string, error) {
	if err := f.read("ListTargets"); err != nil {
		return nil, "", err
	}
	return f.inner.ListTargets(ctx, deploymentID, pageToken, limit)
}

// GetInstances implements deploy.InstanceStore.
func (f *FaultStore) GetInstances(ctx context.Context, groupID string) ([]deploy.InstanceRecord, error) {
	if err := f.read("GetInstances"); err != nil {
		return nil, err
	}
	return f.inner.GetInstances(ctx, groupID)
}

// GetInstance implements deploy.InstanceStore.
func (f *FaultStore) GetInstance(ctx context.Context, groupID, targetID string) (*deploy.InstanceRecord, error) {
	if err := f.read("GetInstance"); err != nil {
		return nil, err
	}
	return f.inner.GetInstance(ctx, groupID, targetID)
}

// PutInstances implements deploy.InstanceStore.
func (f *FaultStore) PutInstances(ctx context.Context, records []deploy.InstanceRecord) error {
	if err := f.write(OpPutInstances, fmt.Sprintf("(%d records)", len(records)), records); err != nil {
		return err
	}
	return f.inner.PutInstances(ctx, records)
}

// AcquireLease implements deploy.LeaseStore.
func (f *FaultStore) AcquireLease(ctx context.Context, deploymentID, owner string, now time.Time, ttl time.Duration) (deploy.Lease, error) {
	if err := f.write(OpAcquireLease, deploymentID, deploy.Lease{DeploymentID: deploymentID, Owner: owner}); err != nil {
		return deploy.Lease{}, err
	}
	return f.inner.AcquireLease(ctx, deploymentID, owner, now, ttl)
}

// RenewLease implements deploy.LeaseStore.
func (f *FaultStore) RenewLease(ctx context.Context, l deploy.Lease, now time.Time, ttl time.Duration) (deploy.Lease, error) {
	if err := f.write(OpRenewLease, l.DeploymentID, l); err != nil {
		return deploy.Lease{}, err
	}
	return f.inner.RenewLease(ctx, l, now, ttl)
}

// ReleaseLease implements deploy.LeaseStore.
func (f *FaultStore) ReleaseLease(ctx context.Context, l deploy.Lease) error {
	if err := f.write(OpReleaseLease, l.DeploymentID, l); err != nil {
		return err
	}
	return f.inner.ReleaseLease(ctx, l)
}

// GetLease implements deploy.LeaseStore.
func (f *FaultStore) GetLease(ctx context.Context, deploymentID string) (deploy.Lease, error) {
	if err := f.read("GetLease"); err != nil {
		return deploy.Lease{}, err
	}
	return f.inner.GetLease(ctx, deploymentID)
}

// ExpiredLeases implements deploy.LeaseStore.
func (f *FaultStore) ExpiredLeases(ctx context.Context, now time.Time, limit int) ([]deploy.Lease, error) {
	if err := f.read("ExpiredLeases"); err != nil {
		return nil, err
	}
	return f.inner.ExpiredLeases(ctx, now, limit)
}

// Fenced implements deploy.LeaseStore: the inner store's fenced view,
// whose writes this FaultStore counts and fails like its own.
func (f *FaultStore) Fenced(l deploy.Lease) deploy.Store {
	return &FaultStore{inner: f.inner.Fenced(l), faults: f.faults}
}

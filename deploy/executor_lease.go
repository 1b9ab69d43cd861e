package deploy

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"time"
)

// newExecutorID returns a random executor ID, "executor-" and 16 hex
// digits.
func newExecutorID() string {
	var b [8]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	return "executor-" + hex.EncodeToString(b[:])
}

// ExecutorID returns the ID this executor takes deployment leases under
// (Options.ExecutorID, or the random one New chose).
func (e *Executor) ExecutorID() string { return e.opts.ExecutorID }

// start registers a run of deployment id in this executor and takes its
// lease, then reads the deployment afresh: what another executor did
// before the lease changed hands is then in it. It returns
// ErrAlreadyRunning when this executor runs the deployment already, and a
// *LeaseHeldError when another executor does; on success the caller ends
// the run with finish.
func (e *Executor) start(ctx context.Context, id string) (*Deployment, Lease, error) {
	if err := e.claim(id); err != nil {
		return nil, Lease{}, &DeploymentError{DeploymentID: id, Err: err}
	}
	l, err := e.store.AcquireLease(ctx, id, e.opts.ExecutorID, e.clk.Now(), e.opts.LeaseTTL)
	if err != nil {
		e.release(id)
		return nil, Lease{}, &DeploymentError{DeploymentID: id, Op: "taking its lease", Err: err}
	}
	d, err := e.store.GetDeployment(ctx, id)
	if err != nil {
		e.finish(ctx, l)
		return nil, Lease{}, &DeploymentError{DeploymentID: id, Op: "reading it", Err: err}
	}
	return d, l, nil
}

// finish ends a run that start began: it releases the lease, so that
// another executor may take the deployment at once, and forgets the run.
// A lease taken over meanwhile stays with its new owner.
func (e *Executor) finish(ctx context.Context, l Lease) {
	defer e.release(l.DeploymentID)
	// Released even when ctx is done: the run ended, and another executor
	// should not have to wait for the lease to expire.
	err := e.store.ReleaseLease(context.WithoutCancel(ctx), l)
	if err != nil && !errors.Is(err, ErrLeaseLost) {
		e.log.Warn("lease not released; it expires by itself", "deployment", l.DeploymentID, "token", l.Token, "error", err.Error())
	}
}

// leaseUntil returns when the runner's lease expires, as last taken or
// renewed.
func (r *runner) leaseUntil() time.Time { return time.Unix(0, r.leaseExp.Load()) }

// holdLease makes l the runner's lease: its writes go through the store
// fenced by it.
func (r *runner) holdLease(l Lease) {
	r.lease = l
	r.leaseExp.Store(l.Expires.UnixNano())
	r.store = r.e.store.Fenced(l)
	r.storeAt, _ = r.store.(TargetUpdaterAt)
}

// renewAt is when the loop renews the lease: a third of the TTL after it
// was taken or last renewed.
func (r *runner) renewAt() time.Time {
	return r.leaseUntil().Add(-r.e.opts.LeaseTTL * 2 / 3)
}

// checkLease returns nil when the lease is valid at now, renewing it
// first when it has expired by then (a loop that fell behind, a clock
// moved ahead). Workers call it before they start each lifecycle event, so
// that no event starts under a lease that is not valid; it returns the
// error that must end the run when the lease could not be renewed.
func (r *runner) checkLease(now time.Time) error {
	if now.UnixNano() < r.leaseExp.Load() {
		return nil
	}
	return r.renewLease(r.runCtx, now)
}

// renewLease renews the runner's lease at now, unless it was renewed
// beyond now's renewal time meanwhile.
func (r *runner) renewLease(ctx context.Context, now time.Time) error {
	r.leaseMu.Lock()
	defer r.leaseMu.Unlock()
	if now.Before(r.renewAt()) {
		return nil // renewed by another goroutine meanwhile
	}
	l, err := r.e.store.RenewLease(ctx, r.lease, now, r.e.opts.LeaseTTL)
	if err != nil {
		return r.storeErr("renewing its lease", err)
	}
	r.lease = l
	r.leaseExp.Store(l.Expires.UnixNano())
	return nil
}

package deploy

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Errors about leases. Stores and the Executor return them inside a
// *LeaseHeldError or *LeaseLostError that says who holds the lease; test
// with errors.Is.
var (
	// ErrLeaseHeld: another executor holds the deployment's lease, and it
	// has not expired. Matched by *LeaseHeldError.
	ErrLeaseHeld = errors.New("deploy: deployment is leased by another executor")

	// ErrLeaseLost: a lease was taken over (or released) since its holder
	// took it; writes made under it are refused. Matched by
	// *LeaseLostError.
	ErrLeaseLost = errors.New("deploy: lease lost")
)

// Lease says which executor drives a deployment, until when, under which
// fencing token. Exactly one executor drives a deployment at any moment:
// Run, Resume and Step take the lease before they do anything, renew it
// while they run, and make every write through a store view fenced by it
// (LeaseStore.Fenced), so that an executor that lost its lease — paused,
// partitioned, slow — cannot change the deployment after another one took
// it over.
type Lease struct {
	// DeploymentID is the leased deployment.
	DeploymentID string
	// Owner is the holder's executor ID (Options.ExecutorID).
	Owner string
	// Token is the fencing token: 1 for a deployment's first lease, one
	// more on every acquisition (a takeover, or the same owner taking it
	// again). Writes fenced by a lease succeed only while its token is the
	// deployment's current one.
	Token uint64
	// Expires is when the lease ends unless renewed, on the clock of the
	// executors sharing the store; zero once released.
	Expires time.Time
}

// Live reports whether the lease is held at now: it has an owner and has
// not expired.
func (l Lease) Live(now time.Time) bool { return l.Owner != "" && now.Before(l.Expires) }

// String returns e.g. "lease 3 of deployment d-1 held by exec-a until
// 2026-12-07T10:00:30Z".
func (l Lease) String() string {
	if l.Expires.IsZero() {
		return fmt.Sprintf("lease %d of deployment %s, released by %s", l.Token, l.DeploymentID, quoteOwner(l.Owner))
	}
	return fmt.Sprintf("lease %d of deployment %s held by %s until %s", l.Token, l.DeploymentID, quoteOwner(l.Owner),
		l.Expires.UTC().Format(time.RFC3339Nano))
}

func quoteOwner(owner string) string {
	if owner == "" {
		return "nobody"
	}
	return fmt.Sprintf("executor %q", owner)
}

// LeaseHeldError is returned when a deployment's lease cannot be taken
// because another executor holds it and it has not expired. It matches
// ErrLeaseHeld.
type LeaseHeldError struct {
	// Lease is the lease held, as stored.
	Lease Lease
}

// Error says who holds the lease and until when.
func (e *LeaseHeldError) Error() string {
	return fmt.Sprintf("deploy: deployment %s is being run by executor %q (lease %d, until %s); wait until the lease expires or stop that executor",
		e.Lease.DeploymentID, e.Lease.Owner, e.Lease.Token, e.Lease.Expires.UTC().Format(time.RFC3339Nano))
}

// Unwrap returns ErrLeaseHeld.
func (e *LeaseHeldError) Unwrap() error { return ErrLeaseHeld }

// LeaseLostError is returned for a renewal, a release or a fenced write
// made under a lease that is no longer the deployment's current one. It
// matches ErrLeaseLost.
type LeaseLostError struct {
	// Lease is the lease the caller held.
	Lease Lease
	// Current is the deployment's lease as stored now: who took it over.
	Current Lease
}

// Error names the lost lease and the current one.
func (e *LeaseLostError) Error() string {
	return fmt.Sprintf("deploy: deployment %s: lease %d of executor %q lost; now %s",
		e.Lease.DeploymentID, e.Lease.Token, e.Lease.Owner, e.Current)
}

// Unwrap returns ErrLeaseLost.
func (e *LeaseLostError) Unwrap() error { return ErrLeaseLost }

// LeaseStore keeps each deployment's lease: which executor drives it, and
// the fencing token that makes a former holder's writes fail. The lease of
// a deployment is kept with it; a deployment that was never leased has the
// zero Lease (Token 0).
//
// Times are the callers' (the executors' injected clocks): a store compares
// the now it is given with the expiry it keeps, never its own clock. Clocks
// of executors sharing a store must agree to well within the lease TTL.
//
// A lease changes only through these methods, each an atomic
// compare-and-swap in the storage all handles of the store share (for a
// database: a conditional write, never a read followed by a write).
// Changing a lease does not change the deployment's Version.
type LeaseStore interface {
	// AcquireLease takes the deployment's lease for owner until now+ttl, and
	// returns it. It succeeds when the deployment has no lease, when its
	// lease is not Live at now (expired or released), or when owner holds
	// it already; every success increases the token by one, so that writes
	// fenced by an earlier lease fail from then on. Otherwise it returns a
	// *LeaseHeldError naming the holder.
	//
	// It returns ErrNotFound when the deployment does not exist, and
	// ErrInvalidArgument for an empty owner or a ttl ≤ 0.
	AcquireLease(ctx context.Context, deploymentID, owner string, now time.Time, ttl time.Duration) (Lease, error)

	// RenewLease extends a lease the caller holds to now+ttl, and returns
	// it. It succeeds while l is the deployment's current lease — its token
	// and owner are the stored ones and it was not released — even if it
	// expired meanwhile (nobody took it over); otherwise it returns a
	// *LeaseLostError. It returns ErrNotFound when the deployment does not
	// exist, and ErrInvalidArgument for an empty owner or a ttl ≤ 0.
	RenewLease(ctx context.Context, l Lease, now time.Time, ttl time.Duration) (Lease, error)

	// ReleaseLease ends a lease the caller holds, so that any executor may
	// take the deployment at once: the stored lease keeps its owner and
	// token, and its expiry becomes zero. It returns a *LeaseLostError when
	// l is not the current lease (taken over, or released already), and
	// ErrNotFound when the deployment does not exist.
	ReleaseLease(ctx context.Context, l Lease) error

	// GetLease returns the deployment's lease (the zero Lease with
	// DeploymentID set when it was never leased), or ErrNotFound.
	GetLease(ctx context.Context, deploymentID string) (Lease, error)

	// ExpiredLeases returns the leases of active deployments
	// (DeploymentStatus.IsActive) that were leased before (Token > 0) and
	// whose lease is not Live at now: the deployments their executors
	// abandoned — crashed, cut off, or returned with an error or a
	// cancelled context, which releases the lease — for a supervisor to
	// resume. At most limit are returned (limit ≤ 0 lets the store choose),
	// earliest expiry first (released leases, whose expiry is zero, come
	// first). Expiries are compared to the nanosecond.
	ExpiredLeases(ctx context.Context, now time.Time, limit int) ([]Lease, error)

	// Fenced returns a view of the store whose writes succeed only while l
	// is the current lease of l.DeploymentID — its token and owner are the
	// stored ones, and it was not released: each write — of the
	// deployment, its targets, its group, instance records, a new
	// deployment (a rollback) — checks that in the same atomic operation as
	// the write, and otherwise returns a *LeaseLostError and changes
	// nothing. Expiry is not checked: the executor does not start work
	// under an expired lease, and an expired lease nobody took over is
	// still the current one. Reads are not fenced.
	// Whatever optional interfaces the store implements, its fenced view
	// implements too, fenced the same way.
	//
	// Writes made through the store itself are not fenced: they are for
	// creating deployments and for requests any executor may make (Stop,
	// Continue).
	Fenced(l Lease) Store
}

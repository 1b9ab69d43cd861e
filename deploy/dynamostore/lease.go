package dynamostore

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/fleetdeploy/fleetdeploy/deploy"
)

// expiredPage is how many leases ExpiredLeases returns when the caller
// lets it choose.
const expiredPage = 1000

// headKey is the key of deployment id's head item, which keeps its lease.
func headKey(id string) item { return key(pDep+id, skHead) }

// leaseOf returns the lease kept in head item it of deployment id.
func leaseOf(id string, it item) deploy.Lease {
	l := deploy.Lease{DeploymentID: id, Owner: str(it, aOwner), Token: uint64(num(it, aToken))}
	if e := str(it, aExpires); e != "" {
		l.Expires, _ = time.Parse(time.RFC3339Nano, e)
	}
	return l
}

// leaseSet returns the update of a head item that makes its lease expire
// at exp (zero: released), and the values it uses.
func leaseSet(id string, exp time.Time) (string, map[string]types.AttributeValue) {
	vals := map[string]types.AttributeValue{
		":lk": sv(timeKey(exp)),
		":lx": sv(timeKey(exp) + "#" + id),
	}
	if exp.IsZero() {
		return "lk = :lk, lx = :lx REMOVE le", vals
	}
	vals[":le"] = sv(exp.UTC().Format(time.RFC3339Nano))
	return "lk = :lk, lx = :lx, le = :le", vals
}

// leaseRecord is the record name and key of errors about a lease.
func leaseRecord(id string) (string, string) { return "deployment", id }

// AcquireLease implements deploy.LeaseStore with one conditional
// UpdateItem of the deployment's head item. When the lease it replaces
// was not released cleanly — it expired, its owner takes it again, or it
// was released while a handle other than the releasing one may still
// write targets under it — it then stamps the deployment's unfinished
// targets with the new token before it returns (see the package
// documentation), so that target writes fenced by an earlier lease fail
// from then on. When the stamping fails, the lease stays taken until it
// expires (the same owner may take it again, which stamps anew) and the
// error says so.
func (s *Store) AcquireLease(ctx context.Context, deploymentID, owner string, now time.Time, ttl time.Duration) (deploy.Lease, error) {
	rec, k := leaseRecord(deploymentID)
	if err := s.begin(ctx, rec, k); err != nil {
		return deploy.Lease{}, err
	}
	if err := checkLeaseArgs(deploymentID, owner, ttl); err != nil {
		return deploy.Lease{}, err
	}
	set, vals := leaseSet(deploymentID, now.Add(ttl))
	w := writeID()
	vals[":o"], vals[":zero"], vals[":one"], vals[":now"], vals[":w"] = sv(owner), nv(0), nv(1), sv(timeKey(now)), sv(w)
	// The acquiring handle is registered as a writer under the new lease
	// in the same write (see register): the executor writes through views
	// of the handle that took the lease.
	vals[":me"] = &types.AttributeValueMemberSS{Value: []string{s.id}}
	out, err := s.api.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                           &s.table,
		Key:                                 headKey(deploymentID),
		UpdateExpression:                    aws.String("SET lo = :o, lt = if_not_exists(lt, :zero) + :one, w = :w, lh = :me, " + set),
		ConditionExpression:                 aws.String("attribute_exists(pk) AND (attribute_not_exists(lt) OR lo = :o OR lk <= :now)"),
		ExpressionAttributeValues:           vals,
		ReturnValues:                        types.ReturnValueAllNew,
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	var head item
	if old, ok := condFailed(err); ok {
		switch {
		case old == nil:
			return deploy.Lease{}, recErr(rec, k, deploy.ErrNotFound)
		case str(old, aWrite) != w:
			return deploy.Lease{}, &deploy.LeaseHeldError{Lease: leaseOf(deploymentID, old)}
		}
		head = old // a retry of a write that was made
	} else if err != nil {
		return deploy.Lease{}, s.opErr(rec, k, "acquiring the lease (UpdateItem)", err)
	} else {
		head = out.Attributes
	}
	l := leaseOf(deploymentID, head)
	s.uses.forget(deploymentID, l.Token)
	s.uses.registered(l)
	if !needsStamp(head) {
		return l, nil
	}
	l, err = s.stamp(ctx, l, now, ttl)
	if err != nil {
		return deploy.Lease{}, recErr(rec, k, fmt.Errorf("dynamostore: took %s, but could not fence the deployment's targets against the lease's former holder, so the lease is not handed out; it expires by itself, and its owner may take it again, which fences anew: %w", l, err))
	}
	// Done: a release of l may be clean. Without this mark (a failed
	// write, a crash before it) its release is not, and the next
	// acquisition stamps again: safe, so a failure is only logged.
	if _, err := s.api.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 &s.table,
		Key:                       headKey(deploymentID),
		UpdateExpression:          aws.String("SET ls = :ft"),
		ConditionExpression:       aws.String("attribute_exists(pk) AND " + heldCond),
		ExpressionAttributeValues: heldVals(l, nil),
	}); err != nil {
		if _, lostIt := condFailed(err); !lostIt {
			s.opt.Logger.Warn("dynamostore: could not record that a lease fenced its deployment's targets; its release will not be clean", "table", s.table, "deployment", deploymentID, "token", l.Token, "error", err)
		}
	}
	return l, nil
}

// checkLeaseArgs checks the arguments of AcquireLease and RenewLease.
func checkLeaseArgs(deploymentID, owner string, ttl time.Duration) error {
	rec, k := leaseRecord(deploymentID)
	switch {
	case deploymentID == "":
		return invalid(rec, k, "a lease needs a deployment ID")
	case owner == "":
		return invalid(rec, k, "a lease needs an owner (the executor's ID)")
	case ttl <= 0:
		return invalid(rec, k, "a lease's ttl must be positive; got %s", ttl)
	}
	return nil
}

// heldCond is the condition that l is the current lease of its
// deployment, held (not released); it uses the values of heldVals.
const heldCond = "lo = :fo AND lt = :ft AND lk <> :fz"

// heldVals adds the values of heldCond for l to vals.
func heldVals(l deploy.Lease, vals map[string]types.AttributeValue) map[string]types.AttributeValue {
	if vals == nil {
		vals = map[string]types.AttributeValue{}
	}
	vals[":fo"], vals[":ft"], vals[":fz"] = sv(l.Owner), nv(int64(l.Token)), sv(timeKey(time.Time{}))
	return vals
}

// lost is the error for a write under l that found the head item old
// (nil: the deployment does not exist).
func lost(l deploy.Lease, old item) error {
	if old == nil {
		rec, k := leaseRecord(l.DeploymentID)
		return recErr(rec, k, deploy.ErrNotFound)
	}
	return &deploy.LeaseLostError{Lease: l, Current: leaseOf(l.DeploymentID, old)}
}

// changeLease updates the lease l holds with set (leaseSet's) when l is
// current, and returns the lease as stored after.
func (s *Store) changeLease(ctx context.Context, l deploy.Lease, what, set string, vals map[string]types.AttributeValue) (deploy.Lease, error) {
	w := writeID()
	vals[":w"] = sv(w)
	out, err := s.api.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                           &s.table,
		Key:                                 headKey(l.DeploymentID),
		UpdateExpression:                    aws.String("SET w = :w, " + set),
		ConditionExpression:                 aws.String("attribute_exists(pk) AND " + heldCond),
		ExpressionAttributeValues:           heldVals(l, vals),
		ReturnValues:                        types.ReturnValueAllNew,
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	if old, ok := condFailed(err); ok {
		if old != nil && str(old, aWrite) == w {
			return leaseOf(l.DeploymentID, old), nil
		}
		return deploy.Lease{}, lost(l, old)
	}
	if err != nil {
		rec, k := leaseRecord(l.DeploymentID)
		return deploy.Lease{}, s.opErr(rec, k, what+" (UpdateItem)", err)
	}
	return leaseOf(l.DeploymentID, out.Attributes), nil
}

// RenewLease implements deploy.LeaseStore with one conditional UpdateItem.
func (s *Store) RenewLease(ctx context.Context, l deploy.Lease, now time.Time, ttl time.Duration) (deploy.Lease, error) {
	rec, k := leaseRecord(l.DeploymentID)
	if err := s.begin(ctx, rec, k); err != nil {
		return deploy.Lease{}, err
	}
	if err := checkLeaseArgs(l.DeploymentID, l.Owner, ttl); err != nil {
		return deploy.Lease{}, err
	}
	set, vals := leaseSet(l.DeploymentID, now.Add(ttl))
	return s.changeLease(ctx, l, "renewing the lease", set, vals)
}

// ReleaseLease implements deploy.LeaseStore with one conditional
// UpdateItem (two when the release is not clean). It first ends this
// handle's fenced writes under l: it waits for those on their way, and
// refuses those that come after. The release is clean — the next
// AcquireLease need not stamp — when no handle but this one registered
// to write under l (the head item's lh), and l's own acquisition left no
// former holder able to write: it needed no stamping (the lease before
// was released cleanly, or there was none), or finished it (ls). No
// fenced write under l or an earlier lease can land after a clean
// release. Otherwise the lease is released all the same, and the next
// acquisition stamps.
func (s *Store) ReleaseLease(ctx context.Context, l deploy.Lease) error {
	rec, k := leaseRecord(l.DeploymentID)
	if err := s.begin(ctx, rec, k); err != nil {
		return err
	}
	if l.DeploymentID == "" {
		return invalid(rec, k, "a lease needs a deployment ID")
	}
	if lu := s.uses.take(l); lu != nil {
		lu.mu.Lock()
		lu.released = true
		lu.mu.Unlock()
	}
	set, vals := leaseSet(l.DeploymentID, time.Time{})
	w := writeID()
	vals[":w"], vals[":lc"], vals[":h"], vals[":one"] = sv(w), nv(int64(l.Token)), sv(s.id), nv(1)
	cond := "attribute_exists(pk) AND " + heldCond + " AND (attribute_not_exists(lh) OR (size(lh) = :one AND contains(lh, :h)))"
	if l.Token > 1 {
		cond += " AND (lc = :before OR ls = :lc)"
		vals[":before"] = nv(int64(l.Token) - 1)
	}
	_, err := s.api.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                           &s.table,
		Key:                                 headKey(l.DeploymentID),
		UpdateExpression:                    aws.String("SET w = :w, lc = :lc, " + set),
		ConditionExpression:                 aws.String(cond),
		ExpressionAttributeValues:           heldVals(l, vals),
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	old, failed := condFailed(err)
	switch {
	case failed && old != nil && str(old, aWrite) == w:
		return nil // a retry of a write that was made
	case failed && !current(l, old):
		return lost(l, old)
	case failed:
		// Another handle registered to write under l and may still, or
		// a former holder may: released without lc, so that the next
		// acquisition stamps.
		set, vals := leaseSet(l.DeploymentID, time.Time{})
		_, err = s.changeLease(ctx, l, "releasing the lease", set, vals)
		return err
	case err != nil:
		return s.opErr(rec, k, "releasing the lease (UpdateItem)", err)
	}
	return nil
}

// GetLease implements deploy.LeaseStore.
func (s *Store) GetLease(ctx context.Context, deploymentID string) (deploy.Lease, error) {
	rec, k := leaseRecord(deploymentID)
	if err := s.begin(ctx, rec, k); err != nil {
		return deploy.Lease{}, err
	}
	if deploymentID == "" {
		return deploy.Lease{}, recErr(rec, k, deploy.ErrNotFound)
	}
	it, err := s.getItem(ctx, pDep+deploymentID, skHead)
	if err != nil {
		return deploy.Lease{}, s.opErr(rec, k, "reading the lease (GetItem)", err)
	}
	if it == nil {
		return deploy.Lease{}, recErr(rec, k, deploy.ErrNotFound)
	}
	return leaseOf(deploymentID, it), nil
}

// ExpiredLeases implements deploy.LeaseStore. It reads the lease index,
// which holds only the head items of active deployments that were
// leased (a sparse global index, ordered by expiry), never the whole
// table; and since a global index is eventually consistent, it reads the
// candidates' head items again, strongly consistent, and returns only the
// leases that are still expired there.
func (s *Store) ExpiredLeases(ctx context.Context, now time.Time, limit int) ([]deploy.Lease, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("deploy: listing expired leases: %w", err)
	}
	if err := s.ready(ctx); err != nil {
		return nil, fmt.Errorf("deploy: listing expired leases: %w", err)
	}
	if limit <= 0 {
		limit = expiredPage
	}
	in := &dynamodb.QueryInput{
		TableName:              &s.table,
		IndexName:              aws.String(indexLease),
		KeyConditionExpression: aws.String("act = :one AND lx < :bound"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":one":   sv("1"),
			":bound": sv(timeKey(now) + "$"), // "$" sorts after "#": every lx whose expiry is ≤ now
		},
		Limit: aws.Int32(int32(min(limit, 1000))),
	}
	var out []deploy.Lease
	for len(out) < limit {
		page, err := s.api.Query(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("deploy: listing expired leases: dynamostore: Query of index %s on table %q: %w", indexLease, s.table, err)
		}
		keys := make([]item, len(page.Items))
		for i, it := range page.Items {
			keys[i] = key(str(it, aPK), str(it, aSK))
		}
		heads, err := s.batchGet(ctx, keys, "")
		if err != nil {
			return nil, fmt.Errorf("deploy: listing expired leases: dynamostore: on table %q: %w", s.table, err)
		}
		var fresh []deploy.Lease
		for _, h := range heads {
			l := leaseOf(str(h, aPK)[len(pDep):], h)
			if str(h, aActive) != "" && l.Token > 0 && !l.Live(now) {
				fresh = append(fresh, l)
			}
		}
		slices.SortFunc(fresh, func(a, b deploy.Lease) int {
			if c := a.Expires.Compare(b.Expires); c != 0 {
				return c
			}
			return strings.Compare(a.DeploymentID, b.DeploymentID)
		})
		out = append(out, fresh...)
		if len(page.LastEvaluatedKey) == 0 {
			break
		}
		in.ExclusiveStartKey = page.LastEvaluatedKey
	}
	if len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

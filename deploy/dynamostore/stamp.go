package dynamostore

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"golang.org/x/sync/errgroup"

	"github.com/fleetdeploy/fleetdeploy/deploy"
	"github.com/fleetdeploy/fleetdeploy/target"
)

// Fencing target writes without a transaction (see "Leases and fencing"
// in the package documentation): each target item carries a fence (lt),
// a number that holds the token of the lease it was last written under
// (0: none), a random ID of the write that made it, and whether its
// status is final (sealed). A fenced UpdateTarget is one UpdateItem on
// the condition that the fence's token is at most its own and the item
// is not sealed — a sealed item's writes check the lease on the head item
// instead; a target's first update creates its item, a PutItem on the
// condition that there is none — and AcquireLease, when a former holder
// may still be writing, stamps the deployment's unsealed targets with the
// new token before it returns, creating the items of those that have
// none. This file keeps what that needs beyond the target writes: the
// fence, the handle's record of the leases it writes under, the
// registration of a handle on a lease, and the stamping pass.

// The fence's layout: the token in bits 20 to 61, the write's ID in bits
// 0 to 19, and sealed (bit 62) when the target's status is final
// (Succeeded, Failed, Skipped). Numbers compare as the fences should: a
// sealed fence is above every unsealed one, and an unsealed fence with a
// lower token is below every fence with a higher one. The write's ID
// lets a write whose condition fails recognize its own effect (a retry of
// a write that was made) without an attribute of its own.
const (
	fenceShift = 20
	writeBits  = 1<<fenceShift - 1
	sealed     = 1 << 62
)

// fenceOf is the fence of a target item with status st written under
// the lease with token (0: none) by the write with ID id (its low 20
// bits; 0 for a stamp or a put).
func fenceOf(token uint64, st target.TargetStatus, id int64) int64 {
	f := int64(token)<<fenceShift | id&writeBits
	switch st {
	case target.TargetSucceeded, target.TargetFailed, target.TargetSkipped:
		f |= sealed
	}
	return f
}

// fenceToken returns the token of fence f, and whether it is sealed.
func fenceToken(f int64) (uint64, bool) {
	return uint64(f&^sealed) >> fenceShift, f&sealed != 0
}

// leaseKey identifies a lease in a handle's records.
type leaseKey struct {
	dep, owner string
	token      uint64
}

func keyOf(l deploy.Lease) leaseKey { return leaseKey{l.DeploymentID, l.Owner, l.Token} }

// leaseUse is what a handle knows of a lease its fenced views write
// under. Fenced target writes hold mu for reading; ReleaseLease takes it
// for writing, so that it waits for the writes on their way and no
// fenced target write of this handle starts once the release is sent.
type leaseUse struct {
	mu       sync.RWMutex
	released bool // ReleaseLease was called on this handle

	regMu      sync.Mutex
	registered bool // this handle is in the head item's lh for the lease
}

// uses is a handle's record of the leases its fenced views write under.
// An entry is made by Fenced and dropped by ReleaseLease (its views keep
// it, and see it released) or when the handle takes a later lease of the
// deployment.
type uses struct {
	mu sync.Mutex
	m  map[leaseKey]*leaseUse
}

// of returns the record of lease l, made if new.
func (u *uses) of(l deploy.Lease) *leaseUse {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.m == nil {
		u.m = map[leaseKey]*leaseUse{}
	}
	k := keyOf(l)
	lu := u.m[k]
	if lu == nil {
		lu = &leaseUse{}
		u.m[k] = lu
	}
	return lu
}

// take removes and returns the record of lease l (nil when there is
// none).
func (u *uses) take(l deploy.Lease) *leaseUse {
	u.mu.Lock()
	defer u.mu.Unlock()
	k := keyOf(l)
	lu := u.m[k]
	delete(u.m, k)
	return lu
}

// registered records that this handle is in the head item's lh for lease
// l: AcquireLease put it there.
func (u *uses) registered(l deploy.Lease) {
	lu := u.of(l)
	lu.regMu.Lock()
	defer lu.regMu.Unlock()
	lu.registered = true
}

// forget drops the records of deployment dep's leases older than token:
// they are lost, and their views find that out from the table.
func (u *uses) forget(dep string, token uint64) {
	u.mu.Lock()
	defer u.mu.Unlock()
	for k := range u.m {
		if k.dep == dep && k.token < token {
			delete(u.m, k)
		}
	}
}

// register adds this handle to the handles that write targets under
// lease l (the head item's lh), once per handle and lease — unless the
// handle took l, which registered it (AcquireLease): one UpdateItem
// of the head on the condition that l is current and held, so that it
// also checks the lease's owner and token before the first target write
// of the handle under it. A release knows from lh whether handles other
// than its own may still write (see ReleaseLease). The caller holds
// lu.mu for reading.
func (s *Store) register(ctx context.Context, l deploy.Lease, lu *leaseUse) error {
	lu.regMu.Lock()
	defer lu.regMu.Unlock()
	if lu.registered {
		return nil
	}
	_, err := s.api.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                           &s.table,
		Key:                                 headKey(l.DeploymentID),
		UpdateExpression:                    aws.String("ADD lh :h"),
		ConditionExpression:                 aws.String("attribute_exists(pk) AND " + heldCond),
		ExpressionAttributeValues:           heldVals(l, map[string]types.AttributeValue{":h": &types.AttributeValueMemberSS{Value: []string{s.id}}}),
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	if old, ok := condFailed(err); ok {
		return lost(l, old)
	}
	if err != nil {
		rec, k := leaseRecord(l.DeploymentID)
		return s.opErr(rec, k, "registering the writer of targets under its lease (UpdateItem)", err)
	}
	lu.registered = true
	return nil
}

// lostNow returns the *deploy.LeaseLostError of a write under l that
// found the lease moved on, naming the lease as stored now.
func (s *Store) lostNow(ctx context.Context, l deploy.Lease) error {
	head, err := s.getItem(ctx, pDep+l.DeploymentID, skHead)
	if err != nil {
		rec, k := leaseRecord(l.DeploymentID)
		return s.opErr(rec, k, "reading the lease after a refused write (GetItem)", err)
	}
	return lost(l, head)
}

// current reports whether l is the current lease in head item it, held.
func current(l deploy.Lease, it item) bool {
	cur := leaseOf(l.DeploymentID, it)
	return it != nil && cur.Owner == l.Owner && cur.Token == l.Token && !cur.Expires.IsZero()
}

// needsStamp reports whether a lease just taken — head item it, as
// stored after the acquisition — must stamp the deployment's targets: a
// former holder may still write them, because its lease was not released
// cleanly (a release records its token in lc when no handle but the
// releasing one registered to write targets under it).
func needsStamp(it item) bool {
	t := num(it, aToken)
	return t > 1 && num(it, aClean) != t-1
}

// stamp writes token l.Token as the fence of deployment l.DeploymentID's
// item and of every unfinished target of it — committed, not sealed, and
// not stamped with it or a later token — so that writes of them fenced by
// an earlier lease fail from then on. An unfinished target with no item
// yet (its record only packed in its batch) gets its item, created with
// the stamp (PutItem on the condition that there is none; stamped as the
// others when a former holder's first update created it meanwhile), so
// that a former holder's first update, a PutItem on the same condition,
// fails. It reads the committed batches
// after the lease was written: a PutTargets commits on the condition
// that the token its items carry is current, so no batch is committed
// after that read without the new token. Each item is one conditional
// write, Options.Parallelism at a time; one a later acquisition
// stamped already is left alone. A stamping that takes more than a third
// of ttl renews the lease as it goes, so that it does not expire under
// the acquirer before the stamping ends; it returns the lease as it
// stands then.
func (s *Store) stamp(ctx context.Context, l deploy.Lease, now time.Time, ttl time.Duration) (deploy.Lease, error) {
	rec, k := leaseRecord(l.DeploymentID)
	bs, err := s.batches(ctx, l.DeploymentID, true, rec, k)
	if err != nil {
		return l, err
	}
	stamp := fenceOf(l.Token, "", 0)
	keys := []item{key(pDep+l.DeploymentID, skDep)}
	var creates []item // items of unfinished targets that have none yet
	if len(bs) > 0 {
		items, err := s.queryAll(ctx, &dynamodb.QueryInput{
			KeyConditionExpression:    aws.String("pk = :pk"),
			ProjectionExpression:      aws.String("#pk, #sk, #b, #lt"),
			ExpressionAttributeNames:  map[string]string{"#pk": aPK, "#sk": aSK, "#b": aBatch, "#lt": aToken},
			ExpressionAttributeValues: map[string]types.AttributeValue{":pk": sv(pTargets + l.DeploymentID)},
			ConsistentRead:            aws.Bool(true),
		})
		if err != nil {
			return l, s.opErr(rec, k, "reading its targets to fence them (Query)", err)
		}
		have := make(map[string]bool, len(items))
		for _, it := range items {
			have[str(it, aSK)] = true
			if slices.Contains(bs, str(it, aBatch)) && num(it, aToken) < stamp {
				keys = append(keys, key(str(it, aPK), str(it, aSK)))
			}
		}
		for _, b := range bs {
			all, err := s.batchRecords(ctx, l.DeploymentID, b)
			if err != nil {
				return l, s.opErr(rec, k, "reading its targets to fence them", err)
			}
			for _, r := range all {
				if !have[targetSK(r.T, b)] && r.F < stamp {
					creates = append(creates, recordItem(l.DeploymentID, b, r, stamp))
				}
			}
		}
	}
	start := s.opt.Clock.Now()
	renewed := start
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(s.opt.Parallelism)
	write := func(gctx context.Context, tk, create item) error {
		if create != nil {
			// A target without an item: its item, created with the stamp;
			// if a former holder's first update created it meanwhile, it
			// is stamped as the others.
			_, err := s.api.PutItem(gctx, &dynamodb.PutItemInput{
				TableName:           &s.table,
				Item:                create,
				ConditionExpression: aws.String("attribute_not_exists(pk)"),
			})
			if _, ok := condFailed(err); !ok {
				if err != nil {
					return fmt.Errorf("fencing item %s/%q (PutItem): %w", str(create, aPK), str(create, aSK), err)
				}
				return nil
			}
			tk = key(str(create, aPK), str(create, aSK))
		}
		_, err := s.api.UpdateItem(gctx, &dynamodb.UpdateItemInput{
			TableName:                 &s.table,
			Key:                       tk,
			UpdateExpression:          aws.String("SET lt = :t"),
			ConditionExpression:       aws.String("attribute_exists(pk) AND (attribute_not_exists(lt) OR lt < :t)"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":t": nv(stamp)},
		})
		if _, ok := condFailed(err); ok {
			return nil // sealed or stamped by a later acquisition since, or gone
		}
		if err != nil {
			return fmt.Errorf("fencing item %s/%q (UpdateItem): %w", str(tk, aPK), str(tk, aSK), err)
		}
		return nil
	}
	for i := range len(keys) + len(creates) {
		if at := s.opt.Clock.Now(); at.Sub(renewed) >= ttl/3 {
			// Renewed from this goroutine only: the writes go on meanwhile.
			set, vals := leaseSet(l.DeploymentID, now.Add(at.Sub(start)+ttl))
			nl, err := s.changeLease(gctx, l, "renewing the lease while fencing its targets", set, vals)
			if err != nil {
				_ = g.Wait()
				return l, err
			}
			l, renewed = nl, at
		}
		g.Go(func() error {
			if i < len(keys) {
				return write(gctx, keys[i], nil)
			}
			return write(gctx, nil, creates[i-len(keys)])
		})
	}
	if err := g.Wait(); err != nil {
		return l, s.opErr(rec, k, "fencing its targets against the lease's former holder", err)
	}
	return l, nil
}

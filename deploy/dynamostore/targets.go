package dynamostore

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/fleetdeploy/fleetdeploy/deploy"
)

// batchIDLen is the length of a PutTargets batch's random ID.
const batchIDLen = 12

// maxPosition bounds the targets of one PutTargets call: positions are
// 9 digits in the ord index.
const maxPosition = 999_999_999

// commitAttempts bounds how often a PutTargets or PutInstances commit is
// tried again when other writers committed first.
const commitAttempts = 10

// targetSK is the sort key of target tid's item written by batch b.
func targetSK(tid, b string) string { return tid + "\x00" + b }

// targetKey is the key of target tid's item written by batch b.
func targetKey(dep, tid, b string) item { return key(pTargets+dep, targetSK(tid, b)) }

// order is the ord index's sort key of the target at position i of
// batch b.
func order(b string, i int) string { return fmt.Sprintf("%s%09d", b, i) }

// tkey is the key of a target record in errors.
func tkey(dep, tid string) string { return dep + "/" + tid }

// PutTargets implements deploy.TargetStore, all or none, however many
// targets: the items are written with BatchWriteItem under a batch ID no
// reader knows, then made visible at once by one conditional UpdateItem
// of the deployment's head item that appends the batch to its committed
// batches (see the package documentation).
func (s *Store) PutTargets(ctx context.Context, deploymentID string, targets []deploy.DeploymentTarget) error {
	return s.putTargets(ctx, deploymentID, targets, nil)
}

func (s *Store) putTargets(ctx context.Context, dep string, targets []deploy.DeploymentTarget, f *fence) error {
	const rec = "deployment"
	if err := s.begin(ctx, rec, dep); err != nil {
		return err
	}
	seen := make(map[string]struct{}, len(targets))
	for i := range targets {
		t := &targets[i]
		switch {
		case t.TargetID == "":
			return invalid(rec, dep, "targets[%d]: targetId is required", i)
		case t.Target.ID != t.TargetID:
			return invalid("target", tkey(dep, t.TargetID), "target.id %q differs from targetId", t.Target.ID)
		case t.DeploymentID != "" && t.DeploymentID != dep:
			return invalid("target", tkey(dep, t.TargetID), "it names deployment %q", t.DeploymentID)
		}
		if _, dup := seen[t.TargetID]; dup {
			return recErr("target", tkey(dep, t.TargetID), deploy.ErrAlreadyExists)
		}
		seen[t.TargetID] = struct{}{}
	}
	if len(targets) > maxPosition {
		return invalid(rec, dep, "%d targets in one PutTargets call; the store takes at most %d", len(targets), maxPosition)
	}
	if dep == "" {
		return recErr(rec, dep, deploy.ErrNotFound)
	}
	for round := 0; ; round++ {
		err := s.putOnce(ctx, dep, targets, f)
		var moved *tokenMoved
		if !errors.As(err, &moved) {
			return err
		}
		if round+1 >= commitAttempts {
			return recErr(rec, dep, fmt.Errorf("dynamostore: the deployment's lease kept changing hands while its targets were put; gave up after %d attempts", commitAttempts))
		}
		// Taken over since the items were staged with the token they
		// carry: staged again with the new one.
	}
}

// putOnce is one attempt of putTargets. Each item carries the token of
// the deployment's lease as read from its head item (the fence's own,
// when fenced by the deployment's lease), and the commit is conditional
// on that token being still the current one, so that a target made
// visible after a takeover carries the new token or a later one. It
// returns a *tokenMoved when the lease changed hands before the commit;
// the staged items are deleted then.
func (s *Store) putOnce(ctx context.Context, dep string, targets []deploy.DeploymentTarget, f *fence) error {
	const rec = "deployment"
	head, err := s.getItem(ctx, pDep+dep, skHead)
	if err != nil {
		return s.opErr(rec, dep, "reading its head item (GetItem)", err)
	}
	if head == nil {
		return recErr(rec, dep, deploy.ErrNotFound)
	}
	if f != nil && f.lease.DeploymentID == dep && !current(f.lease, head) {
		return lost(f.lease, head)
	}
	token := uint64(num(head, aToken))
	committed := list(head, aBatches)
	s.cache.learn(dep, committed)
	if len(targets) == 0 {
		return nil
	}
	if err := s.checkNew(ctx, dep, targets, committed); err != nil {
		return err
	}

	// Stage: items under a fresh batch ID, invisible until committed.
	b := randomID(batchIDLen)
	reqs := make([]types.WriteRequest, len(targets))
	for i := range targets {
		it, err := targetItem(dep, b, i, &targets[i], token)
		if err != nil {
			return err
		}
		reqs[i] = types.WriteRequest{PutRequest: &types.PutRequest{Item: it}}
	}
	if err := s.batchWrite(ctx, reqs); err != nil {
		s.discard(ctx, dep, b, targets)
		return s.opErr(rec, dep, fmt.Sprintf("writing %d targets", len(targets)), err)
	}

	// Commit: append b to the committed batches, on the condition that
	// none was committed since they were checked, and that the lease is
	// the one whose token the items carry (and current, when fenced by
	// it).
	k := int64(len(committed))
	for attempt := 0; ; attempt++ {
		done, err := s.commitTargets(ctx, dep, b, k, token, f)
		var moved *movedOn
		switch {
		case err == nil && done:
			after := append(slices.Clone(committed), b)
			s.cache.learn(dep, after)
			if len(after) > 1 {
				ids := make([]string, len(targets))
				for i := range targets {
					ids[i] = targets[i].TargetID
				}
				s.cache.place(dep, len(after)-1, ids...)
			}
			for i := range targets {
				targets[i].DeploymentID, targets[i].Version = dep, 1
			}
			return nil
		case errors.As(err, &moved) && attempt+1 < commitAttempts:
			// Others committed batches since: check against them too.
			fresh := moved.batches[len(committed):]
			committed = moved.batches
			s.cache.learn(dep, committed)
			if err := s.checkNew(ctx, dep, targets, fresh); err != nil {
				s.discard(ctx, dep, b, targets)
				return err
			}
			k = int64(len(committed))
		case errors.As(err, &moved):
			s.discard(ctx, dep, b, targets)
			return recErr(rec, dep, fmt.Errorf("dynamostore: other writers kept adding targets; gave up after %d attempts", commitAttempts))
		default:
			var ll *deploy.LeaseLostError
			var tm *tokenMoved
			if errors.As(err, &ll) || errors.As(err, &tm) || errors.Is(err, deploy.ErrNotFound) {
				s.discard(ctx, dep, b, targets) // the commit was refused: nothing will see b
			}
			return err
		}
	}
}

// tokenMoved is commitTargets' error when the deployment's lease changed
// hands since its items were staged.
type tokenMoved struct{}

func (*tokenMoved) Error() string {
	return "dynamostore: the deployment's lease changed hands while its targets were put"
}

// movedOn is commitTargets' error when other batches were committed
// since the count it was given.
type movedOn struct{ batches []string }

func (*movedOn) Error() string { return "dynamostore: other target batches were committed" }

// commitTargets appends batch b to the committed batches of deployment
// dep if they are still k and its lease token is still token, fenced by
// f. It reports done when b is committed (also when an earlier, retried
// request did it).
func (s *Store) commitTargets(ctx context.Context, dep, b string, k int64, token uint64, f *fence) (bool, error) {
	const rec = "deployment"
	cond := "attribute_exists(pk) AND tk = :k"
	vals := map[string]types.AttributeValue{
		":k": nv(k), ":k1": nv(k + 1), ":empty": &types.AttributeValueMemberL{},
		":nb": &types.AttributeValueMemberL{Value: []types.AttributeValue{sv(b)}},
	}
	sameLease := f != nil && f.lease.DeploymentID == dep
	switch {
	case sameLease:
		cond += " AND " + heldCond // its token is token
		vals = heldVals(f.lease, vals)
	case token == 0:
		cond += " AND attribute_not_exists(lt)"
	default:
		cond += " AND lt = :lt"
		vals[":lt"] = nv(int64(token))
	}
	failed := func(old item) error {
		switch {
		case old == nil:
			return recErr(rec, dep, deploy.ErrNotFound)
		case slices.Contains(list(old, aBatches), b):
			return nil // committed by an earlier attempt of this request
		case sameLease:
			if !current(f.lease, old) {
				return lost(f.lease, old)
			}
		case uint64(num(old, aToken)) != token:
			return &tokenMoved{}
		}
		return &movedOn{batches: list(old, aBatches)}
	}
	w := types.TransactWriteItem{Update: &types.Update{
		Key:                       headKey(dep),
		UpdateExpression:          aws.String("SET tb = list_append(if_not_exists(tb, :empty), :nb), tk = :k1"),
		ConditionExpression:       aws.String(cond),
		ExpressionAttributeValues: vals,
	}}
	var err error
	if f != nil && !sameLease {
		err = s.transact(ctx, rec, dep, "committing targets", f.with(txItem{w: w, failed: failed}))
	} else {
		u := w.Update
		_, err = s.api.UpdateItem(ctx, &dynamodb.UpdateItemInput{
			TableName: &s.table, Key: u.Key, UpdateExpression: u.UpdateExpression, ConditionExpression: u.ConditionExpression,
			ExpressionAttributeValues:           u.ExpressionAttributeValues,
			ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
		})
		if old, ok := condFailed(err); ok {
			err = failed(old)
		} else if err != nil {
			err = s.opErr(rec, dep, "committing targets (UpdateItem)", err)
		}
	}
	if err != nil {
		return false, err
	}
	return true, nil
}

// checkNew returns ErrAlreadyExists for the first of targets that has an
// item in one of batches (committed batches of deployment dep).
func (s *Store) checkNew(ctx context.Context, dep string, targets []deploy.DeploymentTarget, batches []string) error {
	if len(batches) == 0 {
		return nil
	}
	keys := make([]item, 0, len(targets)*len(batches))
	for i := range targets {
		for _, b := range batches {
			keys = append(keys, targetKey(dep, targets[i].TargetID, b))
		}
	}
	found, err := s.batchGet(ctx, keys, "tid")
	if err != nil {
		return s.opErr("deployment", dep, "checking for targets put before", err)
	}
	if len(found) == 0 {
		return nil
	}
	there := make(map[string]bool, len(found))
	for _, it := range found {
		there[str(it, aTarget)] = true
	}
	for i := range targets {
		if there[targets[i].TargetID] {
			return recErr("target", tkey(dep, targets[i].TargetID), deploy.ErrAlreadyExists)
		}
	}
	return nil
}

// discard deletes the items batch b staged for targets, which no reader
// sees: not to leave them behind. Leftovers are harmless (a retry stages
// under a new batch ID), so failures are only logged.
func (s *Store) discard(ctx context.Context, dep, b string, targets []deploy.DeploymentTarget) {
	if ctx.Err() != nil {
		s.opt.Logger.Warn("dynamostore: leaving the staged items of a failed PutTargets behind", "table", s.table, "deployment", dep, "batch", b, "targets", len(targets))
		return
	}
	reqs := make([]types.WriteRequest, len(targets))
	for i := range targets {
		reqs[i] = types.WriteRequest{DeleteRequest: &types.DeleteRequest{Key: targetKey(dep, targets[i].TargetID, b)}}
	}
	if err := s.batchWrite(ctx, reqs); err != nil {
		s.opt.Logger.Warn("dynamostore: could not delete the staged items of a failed PutTargets", "table", s.table, "deployment", dep, "batch", b, "error", err)
	}
}

// targetItem is the item of targets t at position i of batch b, put
// under the lease with token (0: none).
func targetItem(dep, b string, i int, t *deploy.DeploymentTarget, token uint64) (item, error) {
	c := *t
	c.DeploymentID, c.Version = dep, 1
	c.LifecycleEvents = truncateDiagnostics(c.LifecycleEvents)
	doc, err := encode("target", tkey(dep, t.TargetID), c)
	if err != nil {
		return nil, err
	}
	return item{
		aPK: sv(pTargets + dep), aSK: sv(targetSK(t.TargetID, b)), aTarget: sv(t.TargetID), aBatch: sv(b),
		aOrder: sv(order(b, i)), aDoc: sv(doc), aVersion: nv(1), aToken: nv(fenceOf(token, t.Status, 0)),
	}, nil
}

// decodeTarget returns the target record in item it.
func decodeTarget(dep string, it item) (deploy.DeploymentTarget, error) {
	var t deploy.DeploymentTarget
	if err := decode(it, &t); err != nil {
		return t, recErr("target", tkey(dep, str(it, aTarget)), err)
	}
	t.DeploymentID, t.TargetID, t.Version = dep, str(it, aTarget), num(it, aVersion)
	return t, nil
}

// batches returns the committed target batches of deployment dep: the
// cached ones, or (when none are cached, or fresh is set) those read from
// its head item. It returns ErrNotFound when the deployment does not
// exist.
func (s *Store) batches(ctx context.Context, dep string, fresh bool, record, rkey string) ([]string, error) {
	if bs := s.cache.committed(dep); len(bs) > 0 && !fresh {
		return bs, nil
	}
	head, err := s.getItem(ctx, pDep+dep, skHead)
	if err != nil {
		return nil, s.opErr(record, rkey, "reading the deployment's head item (GetItem)", err)
	}
	if head == nil {
		return nil, recErr("deployment", dep, deploy.ErrNotFound)
	}
	bs := list(head, aBatches)
	s.cache.learn(dep, bs)
	return bs, nil
}

// locate returns the batch whose item holds target tid of deployment dep
// among bs ("" when none does), and the item when it read it.
func (s *Store) locate(ctx context.Context, dep, tid string, bs []string, rkey string) (string, item, error) {
	if len(bs) == 1 {
		return bs[0], nil, nil
	}
	if i, ok := s.cache.locate(dep, tid); ok && i < len(bs) {
		return bs[i], nil, nil
	}
	keys := make([]item, len(bs))
	for i, b := range bs {
		keys[i] = targetKey(dep, tid, b)
	}
	found, err := s.batchGet(ctx, keys, "")
	if err != nil {
		return "", nil, s.opErr("target", rkey, "finding its item", err)
	}
	for _, it := range found {
		if i := slices.Index(bs, str(it, aBatch)); i >= 0 {
			s.cache.place(dep, i, tid)
			return bs[i], it, nil
		}
	}
	return "", nil, nil
}

// GetTarget implements deploy.TargetStore: one GetItem when the
// deployment has one batch of targets (a BatchGetItem otherwise).
func (s *Store) GetTarget(ctx context.Context, deploymentID, targetID string) (*deploy.DeploymentTarget, error) {
	const rec = "target"
	rkey := tkey(deploymentID, targetID)
	if err := s.begin(ctx, rec, rkey); err != nil {
		return nil, err
	}
	if deploymentID == "" {
		return nil, recErr("deployment", deploymentID, deploy.ErrNotFound)
	}
	for attempt := 0; attempt < 2; attempt++ {
		bs, err := s.batches(ctx, deploymentID, attempt > 0, rec, rkey)
		if err != nil {
			return nil, err
		}
		if len(bs) > 0 && targetID != "" {
			b, it, err := s.locate(ctx, deploymentID, targetID, bs, rkey)
			if err != nil {
				return nil, err
			}
			if b != "" && it == nil {
				if it, err = s.getItem(ctx, pTargets+deploymentID, targetSK(targetID, b)); err != nil {
					return nil, s.opErr(rec, rkey, "reading it (GetItem)", err)
				}
			}
			if it != nil {
				t, err := decodeTarget(deploymentID, it)
				if err != nil {
					return nil, err
				}
				return &t, nil
			}
		}
		// Not in the batches known: others may have committed more.
	}
	return nil, recErr(rec, rkey, deploy.ErrNotFound)
}

// UpdateTarget implements deploy.TargetStore with one UpdateItem
// conditional on the stored Version.
func (s *Store) UpdateTarget(ctx context.Context, t *deploy.DeploymentTarget) error {
	return s.updateTarget(ctx, t, nil)
}

// updateTarget writes t, fenced by f. Fenced by the lease of t's own
// deployment, it is one UpdateItem whose condition is also that the
// item's fence is at most the lease's token (fencedUpdate); fenced by
// another deployment's lease, or to a target stored final (sealed), it is
// a TransactWriteItems of the update and a ConditionCheck of the lease.
func (s *Store) updateTarget(ctx context.Context, t *deploy.DeploymentTarget, f *fence) error {
	const rec = "target"
	dep, tid := t.DeploymentID, t.TargetID
	rkey := tkey(dep, tid)
	if err := s.begin(ctx, rec, rkey); err != nil {
		return err
	}
	if t.Target.ID != tid {
		return invalid(rec, rkey, "target.id %q differs from targetId", t.Target.ID)
	}
	if dep == "" || tid == "" {
		return recErr(rec, rkey, deploy.ErrNotFound)
	}
	c := *t
	c.Version = t.Version + 1
	c.LifecycleEvents = truncateDiagnostics(c.LifecycleEvents)
	doc, err := encode(rec, rkey, c)
	if err != nil {
		return err
	}
	own := f != nil && f.lease.DeploymentID == dep
	if own {
		// Held while the write is on its way: ReleaseLease waits for it.
		f.use.mu.RLock()
		defer f.use.mu.RUnlock()
		if f.use.released {
			return s.lostNow(ctx, f.lease)
		}
		if err := s.register(ctx, f.lease, f.use); err != nil {
			return err
		}
	}
	for attempt := 0; attempt < 2; attempt++ {
		bs, err := s.batches(ctx, dep, attempt > 0, rec, rkey)
		if errors.Is(err, deploy.ErrNotFound) {
			return recErr(rec, rkey, deploy.ErrNotFound)
		}
		if err != nil {
			return err
		}
		if len(bs) == 0 {
			continue
		}
		b, _, err := s.locate(ctx, dep, tid, bs, rkey)
		if err != nil {
			return err
		}
		if b == "" {
			continue
		}
		k := targetKey(dep, tid, b)
		done, missing := false, false
		if own {
			done, err = s.fencedUpdate(ctx, k, doc, c.Version, t, f)
			missing = errors.Is(err, deploy.ErrNotFound)
		}
		if !done && err == nil {
			wid := writeID()
			vals := map[string]types.AttributeValue{":d": sv(doc), ":nv": nv(c.Version), ":v": nv(t.Version), ":w": sv(wid)}
			set := "SET d = :d, v = :nv, w = :w"
			if own {
				set += ", lt = :nt"
				vals[":nt"] = nv(fenceOf(f.lease.Token, t.Status, 0))
			}
			w := types.TransactWriteItem{Update: &types.Update{
				Key:                       k,
				UpdateExpression:          aws.String(set),
				ConditionExpression:       aws.String("attribute_exists(pk) AND v = :v"),
				ExpressionAttributeValues: vals,
			}}
			err = s.condWrite(ctx, rec, rkey, "updating it", w, wid, f, func(old item) error {
				if old == nil {
					missing = true
					return recErr(rec, rkey, deploy.ErrNotFound)
				}
				return conflict(rkey, old, t.Version)
			})
		}
		if missing && attempt == 0 {
			continue
		}
		if err != nil {
			return err
		}
		t.Version = c.Version
		return nil
	}
	return recErr(rec, rkey, deploy.ErrNotFound)
}

// conflict is ErrConflict for an update of target rkey carrying version
// v that found item old.
func conflict(rkey string, old item, v int64) error {
	return recErr("target", rkey, fmt.Errorf("%w: stored version %d, update carries %d", deploy.ErrConflict, num(old, aVersion), v))
}

// fencedUpdate writes doc, at version, as target t's item k under f's
// lease, the lease of t's deployment: one UpdateItem on the condition
// that the item holds version t.Version and its fence is at most the
// lease's token (it is neither sealed nor stamped by a later lease). It
// reports done when the update was made. It reports not done, and no
// error, when the item is sealed (final) and holds the version: such an
// item is not stamped on takeover, so the caller checks the lease on the
// head item instead (a transaction). It returns a *deploy.LeaseLostError
// naming the current lease when the item was stamped by a later lease,
// or when the version differs and the lease is no longer current; an
// ErrConflict when the version differs under the current lease; and
// ErrNotFound (after which the caller looks for the item again) when
// there is no item.
func (s *Store) fencedUpdate(ctx context.Context, k item, doc string, version int64, t *deploy.DeploymentTarget, f *fence) (bool, error) {
	rkey := tkey(t.DeploymentID, t.TargetID)
	next := fenceOf(f.lease.Token, t.Status, rand.Int64())
	_, err := s.api.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:        &s.table,
		Key:              k,
		UpdateExpression: aws.String("SET d = :d, v = :nv, lt = :nt"),
		// v = :v also says that the item exists; lt <= :max that its fence
		// is unsealed, of the lease's token or an earlier one.
		ConditionExpression: aws.String("v = :v AND lt <= :max"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":d": sv(doc), ":nv": nv(version), ":v": nv(t.Version), ":nt": nv(next), ":max": nv(fenceOf(f.lease.Token, "", writeBits)),
		},
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	old, failed := condFailed(err)
	fence := num(old, aToken)
	token, seal := fenceToken(fence)
	switch {
	case !failed && err != nil:
		return false, s.opErr("target", rkey, "updating it (UpdateItem)", err)
	case !failed:
		return true, nil
	case old == nil:
		return false, recErr("target", rkey, deploy.ErrNotFound)
	case num(old, aVersion) == version && str(old, aDoc) == doc && fence == next:
		return true, nil // a retry of a write that was made
	case !seal && token > f.lease.Token:
		return false, s.lostNow(ctx, f.lease)
	case num(old, aVersion) != t.Version:
		// A conflict, or a write under a lease that moved on to a target
		// the new holder did not stamp (it was sealed): the head says.
		head, err := s.getItem(ctx, pDep+f.lease.DeploymentID, skHead)
		if err != nil {
			return false, s.opErr("target", rkey, "reading the lease after a refused update (GetItem)", err)
		}
		if !current(f.lease, head) {
			return false, lost(f.lease, head)
		}
		return false, conflict(rkey, old, t.Version)
	}
	return false, nil // sealed (or without a fence): the head checks the lease
}

// ListTargets implements deploy.TargetStore. A page is read from the ord
// index (keys only, strongly consistent), batch by committed batch, then
// with BatchGetItem. Page tokens name a batch and a position in it, and
// carry an HMAC keyed by a secret of the deployment's head item, so a
// token the store did not issue for this deployment is refused.
func (s *Store) ListTargets(ctx context.Context, deploymentID, pageToken string, limit int) ([]deploy.DeploymentTarget, string, error) {
	const rec = "deployment"
	dep := deploymentID
	if err := s.begin(ctx, rec, dep); err != nil {
		return nil, "", err
	}
	if dep == "" {
		return nil, "", recErr(rec, dep, deploy.ErrNotFound)
	}
	head, err := s.getItem(ctx, pDep+dep, skHead)
	if err != nil {
		return nil, "", s.opErr(rec, dep, "reading its head item (GetItem)", err)
	}
	if head == nil {
		return nil, "", recErr(rec, dep, deploy.ErrNotFound)
	}
	bs := list(head, aBatches)
	s.cache.learn(dep, bs)
	nonce := str(head, aNonce)
	bi, pos := 0, -1
	if pageToken != "" {
		var ok bool
		if bi, pos, ok = parseToken(nonce, dep, pageToken); !ok || bi >= len(bs) {
			return nil, "", invalid(rec, dep, "page token %q was not issued for this deployment", pageToken)
		}
	}
	if limit <= 0 {
		limit = s.opt.PageSize
	}
	var keys []item
	for len(keys) < limit && bi < len(bs) {
		out, err := s.api.Query(ctx, &dynamodb.QueryInput{
			TableName:              &s.table,
			IndexName:              aws.String(indexOrder),
			KeyConditionExpression: aws.String("pk = :pk AND o BETWEEN :from AND :to"),
			ExpressionAttributeValues: map[string]types.AttributeValue{
				":pk": sv(pTargets + dep), ":from": sv(order(bs[bi], pos+1)), ":to": sv(order(bs[bi], maxPosition)),
			},
			ConsistentRead: aws.Bool(true),
			Limit:          aws.Int32(int32(min(limit-len(keys), 1<<30))),
		})
		if err != nil {
			return nil, "", s.opErr(rec, dep, "listing targets (Query of index "+indexOrder+")", err)
		}
		for _, it := range out.Items {
			keys = append(keys, key(str(it, aPK), str(it, aSK)))
			fmt.Sscanf(str(it, aOrder)[len(bs[bi]):], "%d", &pos)
		}
		if len(out.LastEvaluatedKey) == 0 {
			bi, pos = bi+1, -1
		}
	}
	items, err := s.batchGet(ctx, keys, "")
	if err != nil {
		return nil, "", s.opErr(rec, dep, "reading targets", err)
	}
	bySK := make(map[string]item, len(items))
	for _, it := range items {
		bySK[str(it, aSK)] = it
	}
	page := make([]deploy.DeploymentTarget, 0, len(keys))
	for _, k := range keys {
		it := bySK[str(k, aSK)]
		if it == nil {
			return nil, "", recErr(rec, dep, fmt.Errorf("dynamostore: the item of target key %q is listed in index %s but missing", str(k, aSK), indexOrder))
		}
		t, err := decodeTarget(dep, it)
		if err != nil {
			return nil, "", err
		}
		page = append(page, t)
	}
	next := ""
	if bi < len(bs) {
		next = makeToken(nonce, dep, bi, pos)
	}
	return page, next, nil
}

// makeToken returns the page token of position pos of batch bi.
func makeToken(nonce, dep string, bi, pos int) string {
	var b [8 + 16]byte
	binary.BigEndian.PutUint32(b[0:], uint32(bi))
	binary.BigEndian.PutUint32(b[4:], uint32(pos+1))
	copy(b[8:], tokenMAC(nonce, dep, b[:8]))
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// parseToken returns the batch and position of a token makeToken issued
// for deployment dep with nonce.
func parseToken(nonce, dep, token string) (bi, pos int, ok bool) {
	b, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil || len(b) != 24 || !hmac.Equal(b[8:], tokenMAC(nonce, dep, b[:8])) {
		return 0, 0, false
	}
	return int(binary.BigEndian.Uint32(b[0:])), int(binary.BigEndian.Uint32(b[4:])) - 1, true
}

func tokenMAC(nonce, dep string, body []byte) []byte {
	m := hmac.New(sha256.New, []byte(nonce))
	m.Write([]byte(dep))
	m.Write([]byte{0})
	m.Write(body)
	return m.Sum(nil)[:16]
}

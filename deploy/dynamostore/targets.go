package dynamostore

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/fleetdeploy/fleetdeploy/deploy"
)

// batchIDLen is the length of a PutTargets batch's random ID.
const batchIDLen = 12

// maxPosition bounds the targets of one PutTargets call.
const maxPosition = 999_999_999

// commitAttempts bounds how often a PutTargets or PutInstances commit is
// tried again when other writers committed first.
const commitAttempts = 10

// targetSK is the sort key of target tid's item, put in batch b.
func targetSK(tid, b string) string { return tid + "\x00" + b }

// targetKey is the key of target tid's item, put in batch b.
func targetKey(dep, tid, b string) item { return key(pTargets+dep, targetSK(tid, b)) }

// batchPK is the partition of the bucket items of batch b of deployment
// dep: its packed records.
func batchPK(dep, b string) string { return pBatch + dep + "#" + b }

// batchName is the name of a batch with random ID id packed into n
// buckets: the name carries the bucket count, so that the committed
// batches (the head item's tb) say where each target's record is.
func batchName(id string, n int) string { return id + "." + strconv.Itoa(n) }

// batchBuckets returns the bucket count batch b's name carries (0 when
// it carries none).
func batchBuckets(b string) int {
	_, ns, ok := strings.Cut(b, ".")
	if !ok {
		return 0
	}
	n, _ := parseBuckets(ns)
	return n
}

// tkey is the key of a target record in errors.
func tkey(dep, tid string) string { return dep + "/" + tid }

// PutTargets implements deploy.TargetStore, all or none, however many
// targets: the records are packed into bucket items written with
// BatchWriteItem under a batch ID no reader knows, then made visible at
// once by one conditional UpdateItem of the deployment's head item that
// appends the batch to its committed batches (see the package
// documentation). A target gets an item of its own at its first update.
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

	// Stage: the records, packed into the bucket items of a fresh batch,
	// invisible until committed.
	recs := make([]packed, len(targets))
	for i := range targets {
		if recs[i], err = targetRecord(dep, i, &targets[i], token); err != nil {
			return err
		}
	}
	id := randomID(batchIDLen)
	n, items, err := packBuckets(batchPK(dep, id), recs)
	if err != nil {
		return recErr(rec, dep, fmt.Errorf("dynamostore: packing %d targets: %w", len(targets), err))
	}
	b := batchName(id, n)
	reqs := make([]types.WriteRequest, len(items))
	for i, it := range items {
		it[aPK] = sv(batchPK(dep, b))
		reqs[i] = types.WriteRequest{PutRequest: &types.PutRequest{Item: it}}
	}
	if err := s.batchWrite(ctx, reqs); err != nil {
		s.discard(ctx, dep, b)
		return s.opErr(rec, dep, fmt.Sprintf("writing %d targets packed in %d items", len(targets), n), err)
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
			s.cache.learn(dep, append(slices.Clone(committed), b))
			slices.SortFunc(recs, func(x, y packed) int { return x.P - y.P })
			s.cache.putAll(dep, b, n, recs)
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
				s.discard(ctx, dep, b)
				return err
			}
			k = int64(len(committed))
		case errors.As(err, &moved):
			s.discard(ctx, dep, b)
			return recErr(rec, dep, fmt.Errorf("dynamostore: other writers kept adding targets; gave up after %d attempts", commitAttempts))
		default:
			var ll *deploy.LeaseLostError
			var tm *tokenMoved
			if errors.As(err, &ll) || errors.As(err, &tm) || errors.Is(err, deploy.ErrNotFound) {
				s.discard(ctx, dep, b) // the commit was refused: nothing will see b
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

// checkNew returns ErrAlreadyExists for the first of targets that is in
// one of batches (committed batches of deployment dep).
func (s *Store) checkNew(ctx context.Context, dep string, targets []deploy.DeploymentTarget, batches []string) error {
	for _, b := range batches {
		all, err := s.batchRecords(ctx, dep, b)
		if err != nil {
			return s.opErr("deployment", dep, "checking for targets put before", err)
		}
		there := make(map[string]bool, len(all))
		for _, r := range all {
			there[r.T] = true
		}
		for i := range targets {
			if there[targets[i].TargetID] {
				return recErr("target", tkey(dep, targets[i].TargetID), deploy.ErrAlreadyExists)
			}
		}
	}
	return nil
}

// discard deletes the bucket items batch b staged, which no reader sees:
// not to leave them behind. Leftovers are harmless (a retry stages under
// a new batch ID), so failures are only logged.
func (s *Store) discard(ctx context.Context, dep, b string) {
	if ctx.Err() != nil {
		s.opt.Logger.Warn("dynamostore: leaving the staged items of a failed PutTargets behind", "table", s.table, "deployment", dep, "batch", b)
		return
	}
	reqs := make([]types.WriteRequest, batchBuckets(b))
	for i := range reqs {
		reqs[i] = types.WriteRequest{DeleteRequest: &types.DeleteRequest{Key: key(batchPK(dep, b), bucketSK(i))}}
	}
	if err := s.batchWrite(ctx, reqs); err != nil {
		s.opt.Logger.Warn("dynamostore: could not delete the staged items of a failed PutTargets", "table", s.table, "deployment", dep, "batch", b, "error", err)
	}
}

// targetRecord is the packed record of target t at position i, put under
// the lease with token (0: none).
func targetRecord(dep string, i int, t *deploy.DeploymentTarget, token uint64) (packed, error) {
	c := *t
	c.DeploymentID, c.Version = dep, 1
	c.LifecycleEvents = truncateDiagnostics(c.LifecycleEvents)
	doc, err := encode("target", tkey(dep, t.TargetID), c)
	if err != nil {
		return packed{}, err
	}
	return packed{T: t.TargetID, V: 1, R: json.RawMessage(doc), P: i, F: fenceOf(token, t.Status, 0)}, nil
}

// recordItem is the item of target record r put in batch b of deployment
// dep, with fence lt.
func recordItem(dep, b string, r packed, lt int64) item {
	return item{
		aPK: sv(pTargets + dep), aSK: sv(targetSK(r.T, b)), aTarget: sv(r.T), aBatch: sv(b),
		aDoc: sv(string(r.R)), aVersion: nv(r.V), aToken: nv(lt),
	}
}

// decodePacked returns target record r as PutTargets wrote it.
func decodePacked(dep string, r packed) (deploy.DeploymentTarget, error) {
	var t deploy.DeploymentTarget
	if err := json.Unmarshal(r.R, &t); err != nil {
		return t, recErr("target", tkey(dep, r.T), fmt.Errorf("dynamostore: decoding its packed record: %w", err))
	}
	t.DeploymentID, t.TargetID, t.Version = dep, r.T, r.V
	return t, nil
}

// batchRecords returns every record of committed batch b of deployment
// dep, by position: cached, or read (Query of its bucket items,
// strongly consistent) and cached.
func (s *Store) batchRecords(ctx context.Context, dep, b string) ([]packed, error) {
	if all := s.cache.all(dep, b); all != nil {
		return all, nil
	}
	n := batchBuckets(b)
	items, err := s.queryAll(ctx, &dynamodb.QueryInput{
		KeyConditionExpression:    aws.String("pk = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": sv(batchPK(dep, b))},
		ConsistentRead:            aws.Bool(true),
	})
	if err != nil {
		return nil, fmt.Errorf("reading the packed records of target batch %s (Query): %w", b, err)
	}
	if len(items) != n {
		return nil, fmt.Errorf("dynamostore: target batch %s has %d bucket items; its name says %d", b, len(items), n)
	}
	var all []packed
	for _, it := range items {
		var recs []packed
		if err := decode(it, &recs); err != nil {
			return nil, err
		}
		all = append(all, recs...)
	}
	slices.SortFunc(all, func(x, y packed) int { return x.P - y.P })
	for i, r := range all {
		if r.P != i {
			return nil, fmt.Errorf("dynamostore: target batch %s has no record at position %d", b, i)
		}
	}
	s.cache.putAll(dep, b, n, all)
	return all, nil
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

// find returns the batch among bs (committed batches of deployment dep)
// whose records hold target tid, and its record; ok is false when none
// does. It reads the buckets of tid it does not know (BatchGetItem),
// one per batch.
func (s *Store) find(ctx context.Context, dep, tid string, bs []string, rkey string) (string, packed, bool, error) {
	var keys []item
	for _, b := range bs {
		i := bucketOf(tid, max(1, batchBuckets(b)))
		m, known := s.cache.bucket(dep, b, i)
		if !known {
			keys = append(keys, key(batchPK(dep, b), bucketSK(i)))
			continue
		}
		if r, ok := m[tid]; ok {
			return b, r, true, nil
		}
	}
	if len(keys) == 0 {
		return "", packed{}, false, nil
	}
	found, err := s.batchGet(ctx, keys, "")
	if err != nil {
		return "", packed{}, false, s.opErr("target", rkey, "reading its packed record", err)
	}
	if len(found) != len(keys) {
		return "", packed{}, false, recErr("target", rkey, fmt.Errorf("dynamostore: %d of the %d bucket items of committed target batches are missing", len(keys)-len(found), len(keys)))
	}
	var hit packed
	var in string
	for _, it := range found {
		var recs []packed
		if err := decode(it, &recs); err != nil {
			return "", packed{}, false, recErr("target", rkey, err)
		}
		pk := str(it, aPK)
		b := pk[strings.LastIndexByte(pk, '#')+1:]
		var sk int
		fmt.Sscanf(str(it, aSK), "%d", &sk)
		s.cache.putBucket(dep, b, sk, recs)
		for _, r := range recs {
			if r.T == tid {
				hit, in = r, b
			}
		}
	}
	return in, hit, in != "", nil
}

// GetTarget implements deploy.TargetStore: the target's item (GetItem),
// or, before its first update, its packed record (read once per handle
// and cached).
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
			b, r, ok, err := s.find(ctx, deploymentID, targetID, bs, rkey)
			if err != nil {
				return nil, err
			}
			if ok {
				it, err := s.getItem(ctx, pTargets+deploymentID, targetSK(targetID, b))
				if err != nil {
					return nil, s.opErr(rec, rkey, "reading it (GetItem)", err)
				}
				var t deploy.DeploymentTarget
				if it != nil {
					t, err = decodeTarget(deploymentID, it)
				} else {
					t, err = decodePacked(deploymentID, r)
				}
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

// UpdateTarget implements deploy.TargetStore: the target's first update
// creates its item (one PutItem on the condition that there is none, the
// version checked against its packed record's), a later one is one
// UpdateItem conditional on the stored Version.
func (s *Store) UpdateTarget(ctx context.Context, t *deploy.DeploymentTarget) error {
	return s.updateTarget(ctx, t, nil)
}

// updateTarget writes t, fenced by f. Fenced by the lease of t's own
// deployment, it is one write whose condition is also that the item's
// fence is at most the lease's token (createItem, fencedUpdate); fenced
// by another deployment's lease, or to a target stored final (sealed), it
// is a TransactWriteItems of the write and a ConditionCheck of the lease.
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
		b, r, ok, err := s.find(ctx, dep, tid, bs, rkey)
		if err != nil {
			return err
		}
		if !ok {
			continue
		}
		k := targetKey(dep, tid, b)
		if t.Version == r.V {
			done, err := s.createItem(ctx, b, r, doc, c.Version, t, f)
			if err != nil {
				return err
			}
			if done {
				t.Version = c.Version
				return nil
			}
			// The item exists: updated below.
		}
		done, missing := false, false
		if own {
			done, err = s.fencedUpdate(ctx, k, doc, c.Version, t, f)
			missing = errors.Is(err, deploy.ErrNotFound)
		}
		if !done && !missing && err == nil {
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
					return nil
				}
				return conflict(rkey, old, t.Version)
			})
		}
		if missing {
			// No item: the stored target is its packed record, whose
			// version the update does not carry.
			if own {
				head, err := s.getItem(ctx, pDep+dep, skHead)
				if err != nil {
					return s.opErr(rec, rkey, "reading the lease after a refused update (GetItem)", err)
				}
				if !current(f.lease, head) {
					return lost(f.lease, head)
				}
			}
			return conflict(rkey, item{aVersion: nv(r.V)}, t.Version)
		}
		if err != nil {
			return err
		}
		t.Version = c.Version
		return nil
	}
	return recErr(rec, rkey, deploy.ErrNotFound)
}

// createItem makes the first update of target t, whose record r batch b
// holds, at version: it puts the target's item on the condition that
// there is none. It reports done when it put it (also when an earlier,
// retried request did), and not done, with no error, when the item
// exists: the caller updates it. Fenced by the lease of t's deployment, it
// refuses (*deploy.LeaseLostError) a record put under a later lease, and
// the item carries the lease's token as its fence: a takeover creates
// the items of the unfinished targets that have none, stamped with its
// own token (see stamp), so a former holder's put finds one. A sealed
// record's put, or one fenced by another deployment's lease, is a
// transaction with the lease's ConditionCheck.
func (s *Store) createItem(ctx context.Context, b string, r packed, doc string, version int64, t *deploy.DeploymentTarget, f *fence) (bool, error) {
	rkey := tkey(t.DeploymentID, t.TargetID)
	own := f != nil && f.lease.DeploymentID == t.DeploymentID
	rtoken, rsealed := fenceToken(r.F)
	lt := r.F
	if own {
		if rtoken > f.lease.Token {
			return false, s.lostNow(ctx, f.lease)
		}
		lt = fenceOf(f.lease.Token, t.Status, 0)
	}
	it := recordItem(t.DeploymentID, b, packed{T: t.TargetID, V: version, R: json.RawMessage(doc)}, lt)
	wid := writeID()
	it[aWrite] = sv(wid)
	tx := f
	if own && !rsealed {
		tx = nil // the fence on the items guards it
	}
	exists := false
	err := s.condWrite(ctx, "target", rkey, "creating its item", types.TransactWriteItem{Put: &types.Put{
		Item:                it,
		ConditionExpression: aws.String("attribute_not_exists(pk)"),
	}}, wid, tx, func(item) error {
		exists = true
		return nil
	})
	if err != nil {
		return false, err
	}
	return !exists, nil
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

// ListTargets implements deploy.TargetStore. A page is the packed
// records of the committed batches, batch by batch in commit order and
// each batch in put order (read once per handle and cached), overlaid by
// the items of the targets updated since (BatchGetItem). Page tokens name
// a batch and a position in it, and carry an HMAC keyed by a secret of
// the deployment's head item, so a token the store did not issue for this
// deployment is refused.
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
		if bi, pos, ok = parseToken(nonce, dep, pageToken); !ok || bi >= len(bs) || pos < -1 {
			return nil, "", invalid(rec, dep, "page token %q was not issued for this deployment", pageToken)
		}
	}
	if limit <= 0 {
		limit = s.opt.PageSize
	}
	type entry struct {
		b string
		r packed
	}
	var recs []entry
	for len(recs) < limit && bi < len(bs) {
		all, err := s.batchRecords(ctx, dep, bs[bi])
		if err != nil {
			return nil, "", s.opErr(rec, dep, "listing targets", err)
		}
		if pos+1 > len(all) {
			return nil, "", invalid(rec, dep, "page token %q was not issued for this deployment", pageToken)
		}
		for _, r := range all[pos+1 : min(len(all), pos+1+limit-len(recs))] {
			recs = append(recs, entry{bs[bi], r})
			pos = r.P
		}
		if pos+1 >= len(all) {
			bi, pos = bi+1, -1
		}
	}
	keys := make([]item, len(recs))
	for i, e := range recs {
		keys[i] = targetKey(dep, e.r.T, e.b)
	}
	items, err := s.batchGet(ctx, keys, "")
	if err != nil {
		return nil, "", s.opErr(rec, dep, "reading targets", err)
	}
	bySK := make(map[string]item, len(items))
	for _, it := range items {
		bySK[str(it, aSK)] = it
	}
	page := make([]deploy.DeploymentTarget, 0, len(recs))
	for i, e := range recs {
		var t deploy.DeploymentTarget
		if it := bySK[str(keys[i], aSK)]; it != nil {
			t, err = decodeTarget(dep, it)
		} else {
			t, err = decodePacked(dep, e.r)
		}
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

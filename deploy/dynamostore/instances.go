package dynamostore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"golang.org/x/sync/errgroup"

	"github.com/fleetdeploy/fleetdeploy/deploy"
)

// Instance records (see the package documentation): a group's records
// live in base items, one per target, written only by conditional folds;
// each PutInstances call writes its records as a delta (its own
// partition, BatchWriteItem) and commits it by adding an entry to the
// group's head item. A record's value is the newest of its base item and
// the deltas the head lists; deltas are folded into the base items and
// dropped once more than Options.MaxDeltas are listed.

// entry names a committed delta in the head's set: the commit number,
// zero-padded so that entries sort by it, the delta's random ID, and the
// number of its bucket items (see delta.go).
type entry struct {
	q int64
	r string
	b int
}

func (e entry) String() string { return fmt.Sprintf("%012d:%s:%s", e.q, e.r, formatBuckets(e.b)) }

func parseEntry(v string) (entry, bool) {
	qs, rest, ok := strings.Cut(v, ":")
	r, bs, ok2 := strings.Cut(rest, ":")
	q, err := strconv.ParseInt(qs, 10, 64)
	b, ok3 := parseBuckets(bs)
	return entry{q, r, b}, ok && ok2 && ok3 && err == nil
}

// entries returns the committed deltas listed in head item it, oldest
// first.
func entries(it item) []entry {
	var out []entry
	for _, v := range strSet(it, aUnfolded) {
		if e, ok := parseEntry(v); ok {
			out = append(out, e)
		}
	}
	slices.SortFunc(out, func(a, b entry) int { return int(a.q - b.q) })
	return out
}

func instKey(gid, tid string) string     { return gid + "/" + tid }
func baseKey(gid, tid string) item       { return key(pInst+gid, tid) }
func deltaPK(gid string, e entry) string { return pInstGen + gid + "#" + e.r }

// instView is a group's head as read: its commit count and listed deltas.
type instView struct {
	gid    string
	n      int64
	deltas []entry
}

func (s *Store) instHead(ctx context.Context, gid string) (instView, error) {
	it, err := s.getItem(ctx, pInstHead+gid, skInstHead)
	if err != nil {
		return instView{}, err
	}
	return instView{gid: gid, n: num(it, aCommits), deltas: entries(it)}, nil
}

// newest returns, among items of one target (its base item and delta
// items), the item holding its record: the newest listed commit.
func (v instView) newest(items []item) (item, int64) {
	var best item
	bestQ := int64(-1)
	for _, it := range items {
		var q int64
		if r, isDelta := strings.CutPrefix(str(it, aPK), pInstGen+v.gid+"#"); isDelta {
			i := slices.IndexFunc(v.deltas, func(e entry) bool { return e.r == r })
			if i < 0 {
				continue // not (or no longer) listed: not visible
			}
			q = v.deltas[i].q
		} else {
			q = num(it, aCommit)
		}
		if q > bestQ {
			best, bestQ = it, q
		}
	}
	return best, bestQ
}

// read returns the items holding the records of targets tids of the
// group (nil for a target without one), with a strongly consistent
// BatchGetItem of their base items and of their buckets of the listed
// deltas.
func (s *Store) readInstances(ctx context.Context, v instView, tids []string) ([]item, error) {
	keys := make([]item, 0, len(tids))
	for _, tid := range tids {
		keys = append(keys, baseKey(v.gid, tid))
	}
	found, err := s.batchGet(ctx, keys, "")
	if err != nil {
		return nil, err
	}
	for _, e := range v.deltas {
		recs, err := s.deltaRecords(ctx, v.gid, e, tids)
		if err != nil {
			return nil, err
		}
		found = append(found, recs...)
	}
	byTarget := map[string][]item{}
	for _, it := range found {
		byTarget[str(it, aSK)] = append(byTarget[str(it, aSK)], it)
	}
	out := make([]item, len(tids))
	for i, tid := range tids {
		out[i], _ = v.newest(byTarget[tid])
	}
	return out, nil
}

func decodeInstance(gid, tid string, it item) (deploy.InstanceRecord, error) {
	var r deploy.InstanceRecord
	if err := decode(it, &r); err != nil {
		return r, recErr("instance record", instKey(gid, tid), err)
	}
	r.GroupID, r.TargetID, r.Version = gid, tid, num(it, aVersion)
	return r, nil
}

// GetInstances implements deploy.InstanceStore: a Query of the group's
// base items and of each listed delta.
func (s *Store) GetInstances(ctx context.Context, groupID string) ([]deploy.InstanceRecord, error) {
	const rec = "deployment group"
	if err := s.begin(ctx, rec, groupID); err != nil {
		return nil, err
	}
	out := []deploy.InstanceRecord{}
	if groupID == "" {
		return out, nil
	}
	v, err := s.instHead(ctx, groupID)
	if err != nil {
		return nil, s.opErr(rec, groupID, "reading its instance head item (GetItem)", err)
	}
	byTarget := map[string][]item{}
	var tids []string
	for k := -1; k < len(v.deltas); k++ {
		var items []item
		var err error
		if k < 0 {
			items, err = s.queryAll(ctx, &dynamodb.QueryInput{
				KeyConditionExpression:    aws.String("pk = :pk"),
				ExpressionAttributeValues: map[string]types.AttributeValue{":pk": sv(pInst + groupID)},
				ConsistentRead:            aws.Bool(true),
			})
		} else {
			items, err = s.deltaRecords(ctx, groupID, v.deltas[k], nil)
		}
		if err != nil {
			return nil, s.opErr(rec, groupID, "reading its instance records (Query)", err)
		}
		for _, it := range items {
			tid := str(it, aSK)
			if _, ok := byTarget[tid]; !ok {
				tids = append(tids, tid)
			}
			byTarget[tid] = append(byTarget[tid], it)
		}
	}
	slices.Sort(tids)
	for _, tid := range tids {
		it, _ := v.newest(byTarget[tid])
		if it == nil {
			continue
		}
		r, err := decodeInstance(groupID, tid, it)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

// GetInstance implements deploy.InstanceStore: the group's head item,
// then the record's base item and its bucket of each listed delta.
func (s *Store) GetInstance(ctx context.Context, groupID, targetID string) (*deploy.InstanceRecord, error) {
	const rec = "instance record"
	k := instKey(groupID, targetID)
	if err := s.begin(ctx, rec, k); err != nil {
		return nil, err
	}
	if groupID == "" || targetID == "" {
		return nil, recErr(rec, k, deploy.ErrNotFound)
	}
	v, err := s.instHead(ctx, groupID)
	if err != nil {
		return nil, s.opErr(rec, k, "reading the group's instance head item (GetItem)", err)
	}
	its, err := s.readInstances(ctx, v, []string{targetID})
	if err != nil {
		return nil, s.opErr(rec, k, "reading it", err)
	}
	if its[0] == nil {
		return nil, recErr(rec, k, deploy.ErrNotFound)
	}
	r, err := decodeInstance(groupID, targetID, its[0])
	if err != nil {
		return nil, err
	}
	return &r, nil
}

// PutInstances implements deploy.InstanceStore, all or none, however many
// records: each group's records are written as a delta with
// BatchWriteItem, then every delta is committed at once — one
// conditional UpdateItem of the group's instance head item, or a
// TransactWriteItems when the call spans several groups or is fenced.
func (s *Store) PutInstances(ctx context.Context, records []deploy.InstanceRecord) error {
	return s.putInstances(ctx, records, nil)
}

// staged is one group's part of a PutInstances call, written and not yet
// committed.
type staged struct {
	view     instView
	e        entry
	idx      []int   // indexes of the group's records
	versions []int64 // their new versions
}

func (s *Store) putInstances(ctx context.Context, records []deploy.InstanceRecord, f *fence) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("deploy: put instance records: %w", err)
	}
	byGroup := map[string][]int{}
	var groups []string
	for i := range records {
		r := &records[i]
		if r.GroupID == "" || r.TargetID == "" {
			return invalid("instance record", instKey(r.GroupID, r.TargetID), "records[%d]: deploymentGroupId and targetId are required", i)
		}
		if _, ok := byGroup[r.GroupID]; !ok {
			groups = append(groups, r.GroupID)
		}
		byGroup[r.GroupID] = append(byGroup[r.GroupID], i)
	}
	seen := make(map[[2]string]int, len(records))
	for i := range records {
		k := [2]string{records[i].GroupID, records[i].TargetID}
		if j, dup := seen[k]; dup {
			return invalid("instance record", instKey(k[0], k[1]), "records[%d] and records[%d] have the same key", j, i)
		}
		seen[k] = i
	}
	if len(records) == 0 {
		return nil
	}
	if len(groups) > 99 {
		return invalid("instance record", instKey(records[0].GroupID, records[0].TargetID), "the records span %d groups; one PutInstances call takes at most 99", len(groups))
	}
	if err := s.ready(ctx); err != nil {
		return fmt.Errorf("deploy: put instance records: %w", err)
	}
	if f != nil {
		// Refuse early (the commit checks it again, atomically).
		if err := s.checkFence(ctx, f); err != nil {
			return err
		}
	}
	for attempt := 0; ; attempt++ {
		parts := make([]*staged, len(groups))
		for gi, gid := range groups {
			p, err := s.stageInstances(ctx, gid, records, byGroup[gid])
			if err != nil {
				s.dropStaged(ctx, records, parts)
				return err
			}
			parts[gi] = p
		}
		err := s.commitInstances(ctx, records, parts, f)
		var moved *movedOn
		switch {
		case err == nil:
			for _, p := range parts {
				for k, i := range p.idx {
					records[i].Version = p.versions[k]
				}
			}
			return nil
		case errors.As(err, &moved) && attempt+1 < commitAttempts:
			s.dropStaged(ctx, records, parts) // others committed first: read the versions again
		default:
			var ll *deploy.LeaseLostError
			if errors.As(err, &ll) || errors.As(err, &moved) {
				s.dropStaged(ctx, records, parts)
			}
			if errors.As(err, &moved) {
				return fmt.Errorf("deploy: put instance records: dynamostore: other writers kept committing records of the same groups; gave up after %d attempts", commitAttempts)
			}
			return err
		}
	}
}

// stageInstances reads the versions of group gid's records records[idx]
// and writes them as a new, uncommitted delta.
func (s *Store) stageInstances(ctx context.Context, gid string, records []deploy.InstanceRecord, idx []int) (*staged, error) {
	const rec = "deployment group"
	v, err := s.instHead(ctx, gid)
	if err != nil {
		return nil, s.opErr(rec, gid, "reading its instance head item (GetItem)", err)
	}
	if len(v.deltas) >= s.opt.MaxDeltas {
		if err := s.fold(ctx, v, v.deltas[:len(v.deltas)-s.opt.MaxDeltas+1]); err != nil {
			return nil, err
		}
		if v, err = s.instHead(ctx, gid); err != nil {
			return nil, s.opErr(rec, gid, "reading its instance head item (GetItem)", err)
		}
	}
	p := &staged{view: v, e: entry{q: v.n + 1, r: randomID(batchIDLen)}, idx: idx, versions: make([]int64, len(idx))}
	if v.n > 0 {
		tids := make([]string, len(idx))
		for k, i := range idx {
			tids[k] = records[i].TargetID
		}
		cur, err := s.readInstances(ctx, v, tids)
		if err != nil {
			return nil, s.opErr(rec, gid, "reading the versions of its instance records", err)
		}
		for k, it := range cur {
			p.versions[k] = num(it, aVersion) + 1
		}
	} else {
		for k := range p.versions {
			p.versions[k] = 1
		}
	}
	recs := make([]packed, len(idx))
	for k, i := range idx {
		r := records[i].Clone()
		r.Version = p.versions[k]
		doc, err := encode("instance record", instKey(gid, r.TargetID), r)
		if err != nil {
			return nil, err
		}
		recs[k] = packed{T: r.TargetID, V: r.Version, R: json.RawMessage(doc)}
	}
	var items []item
	if p.e, items, err = packDelta(gid, p.e, recs); err != nil {
		return nil, err
	}
	reqs := make([]types.WriteRequest, len(items))
	for k, it := range items {
		reqs[k] = types.WriteRequest{PutRequest: &types.PutRequest{Item: it}}
	}
	if err := s.batchWrite(ctx, reqs); err != nil {
		s.dropStaged(ctx, records, []*staged{p})
		return nil, s.opErr(rec, gid, fmt.Sprintf("writing %d instance records", len(idx)), err)
	}
	return p, nil
}

// commitInstances lists every part's delta in its group's head item, on
// the condition that no other delta was committed since the part read
// the head, in one request.
func (s *Store) commitInstances(ctx context.Context, records []deploy.InstanceRecord, parts []*staged, f *fence) error {
	var items []txItem
	for _, p := range parts {
		p := p
		cond := "cn = :cn"
		if p.view.n == 0 {
			cond = "attribute_not_exists(cn)"
		}
		items = append(items, txItem{
			w: types.TransactWriteItem{Update: &types.Update{
				Key:                 key(pInstHead+p.view.gid, skInstHead),
				UpdateExpression:    aws.String("SET cn = :q ADD u :e"),
				ConditionExpression: aws.String(cond),
				ExpressionAttributeValues: map[string]types.AttributeValue{
					":cn": nv(p.view.n), ":q": nv(p.e.q), ":e": &types.AttributeValueMemberSS{Value: []string{p.e.String()}},
				},
			}},
			failed: func(old item) error {
				if slices.Contains(strSet(old, aUnfolded), p.e.String()) {
					return nil // committed by an earlier attempt of this request
				}
				return &movedOn{}
			},
		})
	}
	if p := parts[0]; len(parts) == 1 && f == nil {
		u := items[0].w.Update
		if p.view.n == 0 {
			delete(u.ExpressionAttributeValues, ":cn")
		}
		_, err := s.api.UpdateItem(ctx, &dynamodb.UpdateItemInput{
			TableName: &s.table, Key: u.Key, UpdateExpression: u.UpdateExpression, ConditionExpression: u.ConditionExpression,
			ExpressionAttributeValues:           u.ExpressionAttributeValues,
			ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
		})
		if old, ok := condFailed(err); ok {
			return items[0].failed(old)
		}
		if err != nil {
			return s.opErr("deployment group", p.view.gid, "committing instance records (UpdateItem)", err)
		}
		return nil
	}
	for _, it := range items {
		if u := it.w.Update; aws.ToString(u.ConditionExpression) == "attribute_not_exists(cn)" {
			delete(u.ExpressionAttributeValues, ":cn")
		}
	}
	return s.transact(ctx, "deployment group", parts[0].view.gid, "committing instance records", f.with(items...))
}

// dropStaged deletes the delta items of uncommitted parts; leftovers are
// harmless (never listed), so failures are only logged.
func (s *Store) dropStaged(ctx context.Context, records []deploy.InstanceRecord, parts []*staged) {
	for _, p := range parts {
		if p == nil {
			continue
		}
		if ctx.Err() != nil {
			s.opt.Logger.Warn("dynamostore: leaving the delta of a failed PutInstances behind", "table", s.table, "group", p.view.gid, "delta", p.e.r)
			continue
		}
		if p.e.b == 0 {
			continue // nothing was written
		}
		var reqs []types.WriteRequest
		for _, k := range deltaBucketKeys(p.view.gid, p.e) {
			reqs = append(reqs, types.WriteRequest{DeleteRequest: &types.DeleteRequest{Key: k}})
		}
		if err := s.batchWrite(ctx, reqs); err != nil {
			s.opt.Logger.Warn("dynamostore: could not delete the delta of a failed PutInstances", "table", s.table, "group", p.view.gid, "delta", p.e.r, "error", err)
		}
	}
}

// fold writes the records of committed deltas es of the group into its
// base items, then unlists the deltas and deletes their items. Each base
// write is conditional on holding an older commit, so that a slow folder
// never overwrites a newer record; folding changes no record a reader
// sees, only where it is kept.
func (s *Store) fold(ctx context.Context, v instView, es []entry) error {
	const rec = "deployment group"
	for _, e := range es {
		items, err := s.deltaRecords(ctx, v.gid, e, nil)
		if err != nil {
			return s.opErr(rec, v.gid, "reading an instance delta", err)
		}
		g, gctx := errgroup.WithContext(ctx)
		g.SetLimit(s.opt.Parallelism)
		for _, it := range items {
			g.Go(func() error {
				_, err := s.api.UpdateItem(gctx, &dynamodb.UpdateItemInput{
					TableName:           &s.table,
					Key:                 baseKey(v.gid, str(it, aSK)),
					UpdateExpression:    aws.String("SET d = :d, v = :v, cq = :q"),
					ConditionExpression: aws.String("attribute_not_exists(cq) OR cq < :q"),
					ExpressionAttributeValues: map[string]types.AttributeValue{
						":d": it[aDoc], ":v": it[aVersion], ":q": nv(e.q),
					},
				})
				if _, ok := condFailed(err); ok {
					return nil // a newer record is there already
				}
				return err
			})
		}
		if err := g.Wait(); err != nil {
			return s.opErr(rec, v.gid, "folding instance records (UpdateItem)", err)
		}
		_, err = s.api.UpdateItem(ctx, &dynamodb.UpdateItemInput{
			TableName:                 &s.table,
			Key:                       key(pInstHead+v.gid, skInstHead),
			UpdateExpression:          aws.String("DELETE u :e"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":e": &types.AttributeValueMemberSS{Value: []string{e.String()}}},
		})
		if err != nil {
			return s.opErr(rec, v.gid, "unlisting a folded instance delta (UpdateItem)", err)
		}
		var reqs []types.WriteRequest
		for _, k := range deltaBucketKeys(v.gid, e) {
			reqs = append(reqs, types.WriteRequest{DeleteRequest: &types.DeleteRequest{Key: k}})
		}
		if err := s.batchWrite(ctx, reqs); err != nil {
			s.opt.Logger.Warn("dynamostore: could not delete a folded instance delta", "table", s.table, "group", v.gid, "delta", e.r, "error", err)
		}
	}
	return nil
}

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

	"github.com/fleetdeploy/fleetdeploy/deploy"
)

// Instance records (see the package documentation): each PutInstances
// call writes its records as a delta (its own partition, packed bucket
// items, BatchWriteItem) and commits it by adding an entry to the group's
// head item. A record's value is its value in the newest delta the head
// lists that holds it. Once Options.MaxDeltas deltas are listed, the next
// PutInstances folds them: it writes every listed record, with its own
// records, as one new delta that replaces them all in the head item.

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
	for _, v := range strSet(it, aListed) {
		if e, ok := parseEntry(v); ok {
			out = append(out, e)
		}
	}
	slices.SortFunc(out, func(a, b entry) int { return int(a.q - b.q) })
	return out
}

func instKey(gid, tid string) string     { return gid + "/" + tid }
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

// newest returns, among delta items of one target, the item holding its
// record: the one of the newest listed commit.
func (v instView) newest(items []item) item {
	var best item
	bestQ := int64(-1)
	for _, it := range items {
		r, _ := strings.CutPrefix(str(it, aPK), pInstGen+v.gid+"#")
		i := slices.IndexFunc(v.deltas, func(e entry) bool { return e.r == r })
		if i < 0 {
			continue // not (or no longer) listed: not visible
		}
		if q := v.deltas[i].q; q > bestQ {
			best, bestQ = it, q
		}
	}
	return best
}

// readInstances returns the items holding the records of targets tids
// of the group (nil for a target without one), with a strongly
// consistent BatchGetItem of their buckets of the listed deltas. It
// returns errReplaced when a fold replaced a delta of v meanwhile.
func (s *Store) readInstances(ctx context.Context, v instView, tids []string) ([]item, error) {
	var found []item
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
		out[i] = v.newest(byTarget[tid])
	}
	return out, nil
}

// stableRead reads the group's head item, then calls read with it; when
// read returns errReplaced (a fold replaced a delta it was reading), it
// reads the head again and calls read again.
func (s *Store) stableRead(ctx context.Context, gid string, read func(instView) error) error {
	for attempt := 0; ; attempt++ {
		v, err := s.instHead(ctx, gid)
		if err != nil {
			return fmt.Errorf("reading the instance head item (GetItem): %w", err)
		}
		err = read(v)
		if !errors.Is(err, errReplaced) || attempt+1 >= commitAttempts {
			return err
		}
	}
}

func decodeInstance(gid, tid string, it item) (deploy.InstanceRecord, error) {
	var r deploy.InstanceRecord
	if err := decode(it, &r); err != nil {
		return r, recErr("instance record", instKey(gid, tid), err)
	}
	r.GroupID, r.TargetID, r.Version = gid, tid, num(it, aVersion)
	return r, nil
}

// GetInstances implements deploy.InstanceStore: the group's head item,
// then a Query of each listed delta.
func (s *Store) GetInstances(ctx context.Context, groupID string) ([]deploy.InstanceRecord, error) {
	const rec = "deployment group"
	if err := s.begin(ctx, rec, groupID); err != nil {
		return nil, err
	}
	out := []deploy.InstanceRecord{}
	if groupID == "" {
		return out, nil
	}
	var v instView
	var byTarget map[string][]item
	var tids []string
	err := s.stableRead(ctx, groupID, func(read instView) error {
		v, byTarget, tids = read, map[string][]item{}, nil
		for _, e := range v.deltas {
			items, err := s.deltaRecords(ctx, groupID, e, nil)
			if err != nil {
				return err
			}
			for _, it := range items {
				tid := str(it, aSK)
				if _, ok := byTarget[tid]; !ok {
					tids = append(tids, tid)
				}
				byTarget[tid] = append(byTarget[tid], it)
			}
		}
		return nil
	})
	if err != nil {
		return nil, s.opErr(rec, groupID, "reading its instance records", err)
	}
	slices.Sort(tids)
	for _, tid := range tids {
		it := v.newest(byTarget[tid])
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
// then the record's bucket of each listed delta.
func (s *Store) GetInstance(ctx context.Context, groupID, targetID string) (*deploy.InstanceRecord, error) {
	const rec = "instance record"
	k := instKey(groupID, targetID)
	if err := s.begin(ctx, rec, k); err != nil {
		return nil, err
	}
	if groupID == "" || targetID == "" {
		return nil, recErr(rec, k, deploy.ErrNotFound)
	}
	var its []item
	err := s.stableRead(ctx, groupID, func(v instView) error {
		var err error
		its, err = s.readInstances(ctx, v, []string{targetID})
		return err
	})
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
	// replaces, for a fold, lists the deltas e replaces: every one the
	// view listed, whose records e holds too.
	replaces []entry
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
		var err error
		for gi, gid := range groups {
			var p *staged
			if p, err = s.stageInstances(ctx, gid, records, byGroup[gid]); err != nil {
				break
			}
			parts[gi] = p
		}
		var moved *movedOn
		if err != nil && !errors.As(err, &moved) {
			s.dropStaged(ctx, records, parts)
			return err
		}
		if err == nil {
			err = s.commitInstances(ctx, records, parts, f)
			for tries := 0; errors.As(err, &moved) && tries < commitAttempts; tries++ {
				// Others committed first: when they wrote none of these
				// records, the staged deltas commit as they are.
				if ok, rerr := s.stillValid(ctx, records, parts); rerr != nil || !ok {
					break
				}
				err = s.commitInstances(ctx, records, parts, f)
			}
		}
		switch {
		case err == nil:
			for _, p := range parts {
				for k, i := range p.idx {
					records[i].Version = p.versions[k]
				}
			}
			s.dropReplaced(ctx, parts)
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
// and writes them as a new, uncommitted delta. Once Options.MaxDeltas
// deltas are listed, the new delta is a fold: it holds every listed
// record too (the newest of each, as read), and replaces them all when
// committed. It returns a *movedOn when a fold by another writer replaced
// a delta while it was read.
func (s *Store) stageInstances(ctx context.Context, gid string, records []deploy.InstanceRecord, idx []int) (*staged, error) {
	const rec = "deployment group"
	v, err := s.instHead(ctx, gid)
	if err != nil {
		return nil, s.opErr(rec, gid, "reading its instance head item (GetItem)", err)
	}
	p := &staged{view: v, e: entry{q: v.n + 1, r: randomID(batchIDLen)}, idx: idx, versions: make([]int64, len(idx))}
	tids := make([]string, len(idx))
	for k, i := range idx {
		tids[k] = records[i].TargetID
	}
	var carried []packed // a fold's records of other targets
	switch {
	case len(v.deltas) >= s.opt.MaxDeltas:
		p.replaces = v.deltas
		byTarget := map[string][]item{}
		for _, e := range v.deltas {
			items, err := s.deltaRecords(ctx, gid, e, nil)
			if errors.Is(err, errReplaced) {
				return nil, &movedOn{}
			}
			if err != nil {
				return nil, s.opErr(rec, gid, "reading its instance records to fold them", err)
			}
			for _, it := range items {
				byTarget[str(it, aSK)] = append(byTarget[str(it, aSK)], it)
			}
		}
		mine := make(map[string]int, len(tids))
		for k, tid := range tids {
			mine[tid] = k
		}
		others := make([]string, 0, len(byTarget))
		for tid := range byTarget {
			others = append(others, tid)
		}
		slices.Sort(others)
		for _, tid := range others {
			it := v.newest(byTarget[tid])
			if k, ok := mine[tid]; ok {
				p.versions[k] = num(it, aVersion) + 1
				continue
			}
			carried = append(carried, packed{T: tid, V: num(it, aVersion), R: json.RawMessage(str(it, aDoc))})
		}
		for k := range p.versions {
			p.versions[k] = max(p.versions[k], 1)
		}
	case v.n > 0:
		cur, err := s.readInstances(ctx, v, tids)
		if errors.Is(err, errReplaced) {
			return nil, &movedOn{}
		}
		if err != nil {
			return nil, s.opErr(rec, gid, "reading the versions of its instance records", err)
		}
		for k, it := range cur {
			p.versions[k] = num(it, aVersion) + 1
		}
	default:
		for k := range p.versions {
			p.versions[k] = 1
		}
	}
	recs := make([]packed, len(idx), len(idx)+len(carried))
	for k, i := range idx {
		r := records[i].Clone()
		r.Version = p.versions[k]
		doc, err := encode("instance record", instKey(gid, r.TargetID), r)
		if err != nil {
			return nil, err
		}
		recs[k] = packed{T: r.TargetID, V: r.Version, R: json.RawMessage(doc)}
	}
	recs = append(recs, carried...)
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
		return nil, s.opErr(rec, gid, fmt.Sprintf("writing %d instance records", len(recs)), err)
	}
	return p, nil
}

// stillValid reports whether the staged parts may be committed as they
// are after other writers committed deltas of their groups: no part is a
// fold, and every record's version as committed now is still the one its
// new version follows. It then makes the parts follow the heads as read
// now.
func (s *Store) stillValid(ctx context.Context, records []deploy.InstanceRecord, parts []*staged) (bool, error) {
	views := make([]instView, len(parts))
	for i, p := range parts {
		v, err := s.instHead(ctx, p.view.gid)
		if err != nil {
			return false, err
		}
		if v.n == p.view.n {
			views[i] = v
			continue
		}
		if p.replaces != nil {
			return false, nil
		}
		tids := make([]string, len(p.idx))
		for k, i := range p.idx {
			tids[k] = records[i].TargetID
		}
		cur, err := s.readInstances(ctx, v, tids)
		if errors.Is(err, errReplaced) {
			return false, nil
		}
		if err != nil {
			return false, err
		}
		for k, it := range cur {
			if num(it, aVersion)+1 != p.versions[k] {
				return false, nil
			}
		}
		views[i] = v
	}
	for i, p := range parts {
		p.view, p.e.q = views[i], views[i].n+1
	}
	return true, nil
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
		update := "SET cn = :q ADD u :e"
		if p.replaces != nil {
			update = "SET cn = :q, u = :e" // a fold: e alone is listed
		}
		items = append(items, txItem{
			w: types.TransactWriteItem{Update: &types.Update{
				Key:                 key(pInstHead+p.view.gid, skInstHead),
				UpdateExpression:    aws.String(update),
				ConditionExpression: aws.String(cond),
				ExpressionAttributeValues: map[string]types.AttributeValue{
					":cn": nv(p.view.n), ":q": nv(p.e.q), ":e": &types.AttributeValueMemberSS{Value: []string{p.e.String()}},
				},
			}},
			failed: func(old item) error {
				if slices.Contains(strSet(old, aListed), p.e.String()) {
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

// dropReplaced deletes the bucket items of the deltas that committed
// folds replaced. Nothing lists them any more; a reader that read the
// head item before the fold finds a bucket missing and reads again
// (errReplaced). Leftovers are harmless, so failures are only logged.
func (s *Store) dropReplaced(ctx context.Context, parts []*staged) {
	for _, p := range parts {
		if len(p.replaces) == 0 {
			continue
		}
		var reqs []types.WriteRequest
		for _, e := range p.replaces {
			for _, k := range deltaBucketKeys(p.view.gid, e) {
				reqs = append(reqs, types.WriteRequest{DeleteRequest: &types.DeleteRequest{Key: k}})
			}
		}
		if ctx.Err() != nil {
			s.opt.Logger.Warn("dynamostore: leaving the items of folded instance deltas behind", "table", s.table, "group", p.view.gid, "deltas", len(p.replaces))
			continue
		}
		if err := s.batchWrite(ctx, reqs); err != nil {
			s.opt.Logger.Warn("dynamostore: could not delete the items of folded instance deltas", "table", s.table, "group", p.view.gid, "deltas", len(p.replaces), "error", err)
		}
	}
}

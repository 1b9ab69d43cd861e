package dynamostore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// A delta's records are packed into bucket items rather than written one
// item per record: a PutInstances of 2,000 records writes a handful of
// items, not 2,000. The delta's entry in the head item says how many
// buckets it has; a record is in bucket fnv32a(target ID) mod that
// number, so that a reader of chosen records reads only their buckets.
// Every bucket has an item, an empty one too: a reader that misses one
// knows the delta was replaced and deleted meanwhile (errReplaced).

// bucketTarget is the size a delta's bucket items aim at; hashing puts
// more in some, so it is well under maxDoc.
const bucketTarget = 100 << 10

// packed is one record in a bucket item's JSON array.
type packed struct {
	T string          `json:"t"`           // target ID
	V int64           `json:"v"`           // the record's Version
	R json.RawMessage `json:"r"`           // the record, as JSON
	P int             `json:"p,omitempty"` // a target's position in its PutTargets call
	F int64           `json:"f,omitempty"` // a target's fence as put (see stamp.go)
}

// bucketOf returns the bucket of target tid among n.
func bucketOf(tid string, n int) int {
	h := fnv.New32a()
	h.Write([]byte(tid))
	return int(h.Sum32() % uint32(n))
}

func bucketSK(b int) string { return fmt.Sprintf("%05d", b) }

// packDelta packs records (target ID, version, JSON) into bucket items of
// delta e of group gid, choosing the number of buckets so that each item
// holds at most maxDoc bytes of JSON, and returns the entry with it and
// the items.
func packDelta(gid string, e entry, recs []packed) (entry, []item, error) {
	n, items, err := packBuckets(deltaPK(gid, e), recs)
	if err != nil {
		return e, nil, fmt.Errorf("dynamostore: packing %d instance records of group %s: %w", len(recs), gid, err)
	}
	e.b = n
	return e, items, nil
}

// packBuckets packs recs into the bucket items of partition pk — a
// record in bucket bucketOf(its target ID, n), every bucket an item, an
// empty one too — choosing the number of buckets n so that each item
// holds at most maxDoc bytes of JSON; it returns n and the items. Instance
// deltas and PutTargets batches are packed so.
func packBuckets(pk string, recs []packed) (int, []item, error) {
	total := 0
	for _, r := range recs {
		total += len(r.T) + len(r.R) + 48
	}
	for n := max(1, (total+bucketTarget-1)/bucketTarget); n <= 4*len(recs)+1; n *= 2 {
		buckets := make([][]packed, n)
		for _, r := range recs {
			b := bucketOf(r.T, n)
			buckets[b] = append(buckets[b], r)
		}
		items := make([]item, 0, n)
		fits := true
		for b, rs := range buckets {
			if rs == nil {
				rs = []packed{} // an empty bucket has an item too
			}
			doc, err := json.Marshal(rs)
			if err != nil {
				return 0, nil, err
			}
			if len(doc) > maxDoc {
				fits = false
				break
			}
			items = append(items, item{aPK: sv(pk), aSK: sv(bucketSK(b)), aDoc: sv(string(doc))})
		}
		if fits {
			return n, items, nil
		}
	}
	return 0, nil, fmt.Errorf("no number of buckets keeps each under %d bytes", maxDoc)
}

// unpack returns the records of bucket item it of a delta as items of
// their own, as one item per record would be: key (delta partition,
// target ID), aDoc and aVersion.
func unpack(it item) ([]item, error) {
	var recs []packed
	if err := decode(it, &recs); err != nil {
		return nil, err
	}
	pk := it[aPK]
	out := make([]item, len(recs))
	for i, r := range recs {
		out[i] = item{aPK: pk, aSK: sv(r.T), aDoc: sv(string(r.R)), aVersion: nv(r.V)}
	}
	return out, nil
}

// errReplaced is deltaRecords' error when a bucket item of the delta is
// missing: the delta was replaced by a fold and its items deleted since
// the head item was read. The caller reads the head again.
var errReplaced = errors.New("dynamostore: an instance delta was replaced while it was read")

// deltaRecords returns the records of delta e of group gid, one item
// each (unpack): all of them when tids is nil, else at least those of
// tids (the records of their buckets). It returns errReplaced when one of
// the delta's bucket items is gone.
func (s *Store) deltaRecords(ctx context.Context, gid string, e entry, tids []string) ([]item, error) {
	var buckets []item
	if tids == nil || e.b == 0 {
		var err error
		buckets, err = s.queryAll(ctx, &dynamodb.QueryInput{
			KeyConditionExpression:    aws.String("pk = :pk"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":pk": sv(deltaPK(gid, e))},
			ConsistentRead:            aws.Bool(true),
		})
		if err != nil {
			return nil, fmt.Errorf("reading instance delta %s (Query): %w", e.r, err)
		}
	} else {
		want := map[int]bool{}
		var keys []item
		for _, tid := range tids {
			if b := bucketOf(tid, e.b); !want[b] {
				want[b] = true
				keys = append(keys, key(deltaPK(gid, e), bucketSK(b)))
			}
		}
		var err error
		if buckets, err = s.batchGet(ctx, keys, ""); err != nil {
			return nil, fmt.Errorf("reading instance delta %s: %w", e.r, err)
		}
		if len(buckets) < len(keys) {
			return nil, errReplaced
		}
	}
	if (tids == nil || e.b == 0) && len(buckets) < e.b {
		return nil, errReplaced
	}
	var out []item
	for _, b := range buckets {
		recs, err := unpack(b)
		if err != nil {
			return nil, err
		}
		out = append(out, recs...)
	}
	return out, nil
}

// deltaBucketKeys returns the keys of every bucket item delta e may have.
func deltaBucketKeys(gid string, e entry) []item {
	keys := make([]item, e.b)
	for b := range keys {
		keys[b] = key(deltaPK(gid, e), bucketSK(b))
	}
	return keys
}

// formatBuckets and parseBuckets write and read an entry's bucket count.
func formatBuckets(n int) string { return strconv.Itoa(n) }

func parseBuckets(v string) (int, bool) {
	n, err := strconv.Atoi(v)
	return n, err == nil && n > 0
}

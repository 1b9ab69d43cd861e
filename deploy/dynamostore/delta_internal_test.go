package dynamostore

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

// TestPackDeltaWritesEveryBucket: every bucket of a delta has an item,
// an empty one too, so that a reader that misses one knows the delta was
// replaced (errReplaced) rather than empty.
func TestPackDeltaWritesEveryBucket(t *testing.T) {
	big := json.RawMessage(`"` + strings.Repeat("x", 60<<10) + `"`)
	// Two large records in the same bucket of two: the other is empty.
	var recs []packed
	for i := 0; len(recs) < 2; i++ {
		tid := fmt.Sprintf("i-%d", i)
		if bucketOf(tid, 2) == 0 {
			recs = append(recs, packed{T: tid, V: 1, R: big})
		}
	}
	e, items, err := packDelta("g-1", entry{q: 1, r: "r"}, recs)
	if err != nil {
		t.Fatal(err)
	}
	if e.b != 2 || len(items) != 2 {
		t.Fatalf("packed into %d buckets, %d items; want 2 and 2 (one empty)", e.b, len(items))
	}
	for _, it := range items {
		got, err := unpack(it)
		if err != nil {
			t.Fatal(err)
		}
		if want := map[string]int{"00000": 2, "00001": 0}[str(it, aSK)]; len(got) != want {
			t.Errorf("bucket %s holds %d records; want %d", str(it, aSK), len(got), want)
		}
	}
}

package plan

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"pgregory.net/rapid"

	"github.com/fleetdeploy/fleetdeploy/config"
	"github.com/fleetdeploy/fleetdeploy/target"
)

// idEdgeCases are IDs where a prefix comparison could go wrong: empty,
// NUL and 0xff bytes, lengths around 8, and IDs that are prefixes of
// others.
var idEdgeCases = []string{"", "a", "a\x00", "a\x00b", "ab", "abcdefg", "abcdefgh", "abcdefgh\x00", "abcdefghi", "abcdefgg\xff",
	"\xff", "\xff\xff\xff\xff\xff\xff\xff\xff", "i-000123", "i-000124", "i-0001234", "i-00012", "i-1", "i-10"}

func targetsWithIDs(ids []string) []Target {
	ts := make([]Target, len(ids))
	for i, id := range ids {
		ts[i].ID = id
	}
	return ts
}

// checkSortIDs sorts ids with sortIDs and fails unless the result is the
// IDs in strings.Compare order, each with its own index.
func checkSortIDs(t interface {
	Helper()
	Fatalf(string, ...any)
}, ids []string) {
	t.Helper()
	ts := targetsWithIDs(ids)
	entries := sortIDs(ts)
	want := slices.Clone(ids)
	slices.Sort(want)
	if len(entries) != len(want) {
		t.Fatalf("sortIDs of %d IDs returned %d entries", len(ids), len(entries))
	}
	seen := make([]bool, len(ids))
	for k, e := range entries {
		if e.i < 0 || int(e.i) >= len(ids) || seen[e.i] {
			t.Fatalf("sortIDs of %d IDs: position %d holds index %d: out of range or seen twice", len(ids), k, e.i)
		}
		seen[e.i] = true
		if ids[e.i] != want[k] {
			t.Fatalf("sortIDs of %d IDs: position %d holds %q (index %d); want %q", len(ids), k, ids[e.i], e.i, want[k])
		}
	}
}

// sortIDs must order IDs exactly as strings.Compare does: the planner's
// tie-break between targets of one class is the ID order (see the package
// documentation).
func TestSortIDsIsBytewiseOrder(t *testing.T) {
	sign := func(c int) int { return min(max(c, -1), 1) }
	for _, a := range idEdgeCases {
		for _, b := range idEdgeCases {
			checkSortIDs(t, []string{a, b})
			// The comparison itself, on prefixes taken after the shared bytes.
			ts := targetsWithIDs([]string{a, b})
			skip := sharedPrefixLen(ts)
			ea, eb := idEntry{prefix: idPrefix(a, skip), i: 0}, idEntry{prefix: idPrefix(b, skip), i: 1}
			if got, want := sign(idOrder(ts)(ea, eb)), sign(strings.Compare(a, b)); got != want {
				t.Errorf("idOrder(%q, %q) = %d; strings.Compare says %d", a, b, got, want)
			}
		}
	}
	// Both paths (comparison sort below radixSortMin, radix sort from
	// it), with shared leading bytes, ties longer than 8 bytes and
	// duplicates.
	rapid.Check(t, func(t *rapid.T) {
		alphabet := rapid.SampledFrom([]byte{0, 1, 'a', 'b', 0xfe, 0xff})
		shared := string(rapid.SliceOfN(alphabet, 0, 10).Draw(t, "shared"))
		id := rapid.Custom(func(t *rapid.T) string {
			return shared + string(rapid.SliceOfN(alphabet, 0, 12).Draw(t, "bytes"))
		})
		size := rapid.SampledFrom([]int{0, radixSortMin}).Draw(t, "least")
		ids := rapid.SliceOfN(id, size, size+2*radixSortMin).Draw(t, "ids")
		if rapid.Bool().Draw(t, "withEdgeCases") {
			ids = append(ids, idEdgeCases...)
		}
		checkSortIDs(t, ids)
	})
}

// A fleet of EC2-style IDs, in listing order, and one whose names share
// a long prefix: the radix path on realistic data.
func TestSortIDsFleets(t *testing.T) {
	for _, format := range []string{"i-%017x", "webserver-prod-%d", "i-%03d"} {
		ids := make([]string, 5000)
		for i := range ids {
			ids[i] = fmt.Sprintf(format, (i*7919)%len(ids))
		}
		checkSortIDs(t, ids)
	}
}

// Two targets with one ID are refused, naming both, whichever sort path
// finds them.
func TestDuplicateTargetIDs(t *testing.T) {
	for _, n := range []int{3, 2 * radixSortMin} {
		ts := make([]Target, n)
		for i := range ts {
			ts[i] = Target{ID: fmt.Sprintf("i-%05d", i), Instance: "Healthy", Revision: "Unknown", Status: "Pending"}
		}
		ts[n-1].ID = ts[1].ID
		all, _ := config.Predefined("CodeDeployDefault.AllAtOnce")
		_, err := New(Input{Config: all, Type: target.InPlace, Targets: ts})
		want := fmt.Sprintf("Targets[%d].ID", n-1)
		if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "Targets[1].ID") {
			t.Errorf("%d targets, Targets[%d] and Targets[1] sharing an ID: err = %v; want an error naming both", n, n-1, err)
		}
	}
}

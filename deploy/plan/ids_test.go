package plan

import (
	"strings"
	"testing"

	"pgregory.net/rapid"
)

// compareIDs must order IDs exactly as strings.Compare does: the
// planner's tie-break between targets of one class is the ID order.
func TestCompareIDsIsBytewiseOrder(t *testing.T) {
	sign := func(c int) int { return min(max(c, -1), 1) }
	edge := []string{"", "a", "a\x00", "a\x00b", "ab", "abcdefg", "abcdefgh", "abcdefgh\x00", "abcdefghi", "abcdefgg\xff",
		"\xff", "\xff\xff\xff\xff\xff\xff\xff\xff", "i-000123", "i-000124", "i-0001234", "i-00012", "i-1", "i-10"}
	for _, a := range edge {
		for _, b := range edge {
			if got, want := sign(compareIDs(newIDEntry(a, 0), newIDEntry(b, 1))), sign(strings.Compare(a, b)); got != want {
				t.Errorf("compareIDs(%q, %q) = %d; strings.Compare says %d", a, b, got, want)
			}
		}
	}
	rapid.Check(t, func(t *rapid.T) {
		alphabet := rapid.SampledFrom([]byte{0, 1, 'a', 'b', 0xfe, 0xff})
		id := rapid.Custom(func(t *rapid.T) string {
			return string(rapid.SliceOfN(alphabet, 0, 12).Draw(t, "bytes"))
		})
		a, b := id.Draw(t, "a"), id.Draw(t, "b")
		if got, want := sign(compareIDs(newIDEntry(a, 0), newIDEntry(b, 1))), sign(strings.Compare(a, b)); got != want {
			t.Fatalf("compareIDs(%q, %q) = %d; strings.Compare says %d", a, b, got, want)
		}
	})
}

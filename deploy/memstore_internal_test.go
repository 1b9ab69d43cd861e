package deploy

import (
	"reflect"
	"testing"
	"unsafe"

	"github.com/fleetdeploy/fleetdeploy/revision"
)

// The memory store interns revisions by a comparable key built from the
// fields of revision.Location; a field added there must be added to the
// key, or two different revisions could be stored as one.
func TestLocKeyCoversLocation(t *testing.T) {
	var fields []string
	for f := range reflect.TypeFor[revision.Location]().Fields() {
		fields = append(fields, f.Name)
	}
	want := []string{"Type", "S3", "GitHub", "AppSpecContent", "Local"}
	if !reflect.DeepEqual(fields, want) {
		t.Errorf("revision.Location has fields %v; locKey and revision.Location.Clone handle %v — update them", fields, want)
	}
}

// The packed forms are what keeps a million targets under a kilobyte each.
func TestPackedSizes(t *testing.T) {
	if n := unsafe.Sizeof(memEvent{}); n > 40 {
		t.Errorf("memEvent is %d bytes; keep it at most 40", n)
	}
	if n := unsafe.Sizeof(memTarget{}); n > 128 {
		t.Errorf("memTarget is %d bytes; keep it at most 128", n)
	}
}

// knownID must agree with the intern table's order.
func TestKnownIDs(t *testing.T) {
	tab := newInternTable()
	for _, v := range preinterned {
		id, ok := knownID(v)
		if !ok || tab.str(id) != v {
			t.Errorf("knownID(%q) = %d, %v; the table holds %q there", v, id, ok, tab.str(id))
		}
	}
	if _, ok := knownID("Exploded"); ok {
		t.Error("knownID knows a value it should not")
	}
}

package health

import (
	"cmp"
	"errors"
	"fmt"
	"strings"
)

// ErrInvalid is matched (with errors.Is) by every error this package
// returns for a value it cannot work with: an unknown health value, an
// invalid minimum healthy hosts rule, a negative count.
var ErrInvalid = errors.New("health: invalid value")

// InstanceHealth is the health CodeDeploy records for a target from its last
// deployment (User Guide, "CodeDeploy instance health"), spelled as
// CodeDeploy spells it. The zero value is unset and invalid.
type InstanceHealth string

// The instance health values.
const (
	// Healthy: the last deployment to the target succeeded.
	Healthy InstanceHealth = "Healthy"
	// Unhealthy: the last deployment to the target failed, or it never
	// received a revision.
	Unhealthy InstanceHealth = "Unhealthy"
)

// Values returns every valid InstanceHealth.
func (InstanceHealth) Values() []InstanceHealth { return []InstanceHealth{Healthy, Unhealthy} }

// Valid reports whether h is one of Values.
func (h InstanceHealth) Valid() bool { return h == Healthy || h == Unhealthy }

// RevisionHealth says how the revision installed on a target relates to the
// deployment group's revision (User Guide, "CodeDeploy instance health"),
// spelled as CodeDeploy spells it. The zero value is unset and invalid.
type RevisionHealth string

// The revision health values.
const (
	// Current: the target runs the revision of the group's last successful
	// deployment.
	Current RevisionHealth = "Current"
	// Old: the target runs an older revision of the application.
	Old RevisionHealth = "Old"
	// Unknown: no revision was ever installed successfully on the target.
	Unknown RevisionHealth = "Unknown"
)

// Values returns every valid RevisionHealth.
func (RevisionHealth) Values() []RevisionHealth { return []RevisionHealth{Current, Old, Unknown} }

// Valid reports whether r is one of Values.
func (r RevisionHealth) Valid() bool { return r == Current || r == Old || r == Unknown }

// Class is a target's place in the scheduling order of the User Guide's
// "CodeDeploy instance health". Targets of a lower class are deployed to
// first.
type Class uint8

// The scheduling classes, in deployment order.
const (
	// ClassUnhealthy: instance health Unhealthy, whatever the revision.
	ClassUnhealthy Class = iota
	// ClassUnknownRevision: Healthy, revision health Unknown.
	ClassUnknownRevision
	// ClassOldRevision: Healthy, revision health Old.
	ClassOldRevision
	// ClassCurrentRevision: Healthy, revision health Current.
	ClassCurrentRevision
	// ClassInvalid is the class of a target whose health values are not
	// valid. It sorts last so that Compare stays a total order; Validate
	// reports such targets.
	ClassInvalid
)

// Classes returns the four valid classes in deployment order.
func Classes() []Class {
	return []Class{ClassUnhealthy, ClassUnknownRevision, ClassOldRevision, ClassCurrentRevision}
}

// String returns a short description: "Unhealthy", "Healthy/Unknown",
// "Healthy/Old", "Healthy/Current".
func (c Class) String() string {
	switch c {
	case ClassUnhealthy:
		return "Unhealthy"
	case ClassUnknownRevision:
		return "Healthy/Unknown"
	case ClassOldRevision:
		return "Healthy/Old"
	case ClassCurrentRevision:
		return "Healthy/Current"
	}
	return fmt.Sprintf("Class(%d)", uint8(c))
}

// ClassOf returns the scheduling class of a target with instance health i
// and revision health r: Unhealthy first, then revision Unknown, Old,
// Current. An Unhealthy target is in ClassUnhealthy whatever its revision
// health. Invalid values give ClassInvalid.
func ClassOf(i InstanceHealth, r RevisionHealth) Class {
	switch i {
	case Unhealthy:
		return ClassUnhealthy
	case Healthy:
		switch r {
		case Unknown:
			return ClassUnknownRevision
		case Old:
			return ClassOldRevision
		case Current:
			return ClassCurrentRevision
		}
	}
	return ClassInvalid
}

// Target is a target as the scheduling order sees it: its ID and its two
// health values.
type Target struct {
	ID       string         `json:"id"`
	Instance InstanceHealth `json:"instanceHealth"`
	Revision RevisionHealth `json:"revisionHealth"`
}

// Class returns ClassOf(t.Instance, t.Revision).
func (t Target) Class() Class { return ClassOf(t.Instance, t.Revision) }

// Validate reports an error wrapping ErrInvalid when t has an empty ID or a
// health value that is not one of the valid ones.
func (t Target) Validate() error {
	switch {
	case t.ID == "":
		return fmt.Errorf("%w: target ID: is required", ErrInvalid)
	case !t.Instance.Valid():
		return fmt.Errorf("%w: target %q: instance health must be Healthy or Unhealthy; got %q", ErrInvalid, t.ID, t.Instance)
	case !t.Revision.Valid():
		return fmt.Errorf("%w: target %q: revision health must be Current, Old or Unknown; got %q", ErrInvalid, t.ID, t.Revision)
	}
	return nil
}

// Compare orders targets for deployment: by Class, then by ID ascending
// (the order inside a class is fleetdeploy's decision; see the package
// documentation). It returns a negative number when a goes first, a
// positive number when b goes first, and 0 only for equal class and ID. It
// is a total order, so sorting with it is deterministic.
func Compare(a, b Target) int {
	if c := cmp.Compare(a.Class(), b.Class()); c != 0 {
		return c
	}
	return strings.Compare(a.ID, b.ID)
}

package health

import "fmt"

// Tally counts what happened to the targets of a finished deployment.
type Tally struct {
	// Succeeded is the number of targets the revision reached.
	Succeeded int `json:"succeeded"`
	// Failed is the number of targets attempted without success.
	Failed int `json:"failed"`
	// NotAttempted is the number of targets never attempted.
	NotAttempted int `json:"notAttempted"`
	// LastFailed is true when the deployment's last target failed with no
	// other target left to deploy: the OneAtATime exception ("Working with
	// deployment configurations in CodeDeploy").
	LastFailed bool `json:"lastFailed,omitempty"`
}

// Succeeded applies the success rule of the User Guide ("CodeDeploy
// instance health"; for OneAtATime, "Working with deployment
// configurations in CodeDeploy") to a finished deployment:
//
//   - in general the revision must have reached at least max(M, 1) targets
//     (a minimum of 0 still needs one success);
//   - OneAtATime: every target was attempted, at least one succeeded, and
//     there was no failure or exactly one on the last target. With one
//     target, that target must succeed.
//
// The rule assumes the deployment stopped at the first OneAtATime failure
// that was not on the last target, as the planner does, so such a failure
// shows up as NotAttempted targets.
func (m Minimum) Succeeded(t Tally) bool {
	if m.OneAtATime() {
		return t.Succeeded >= 1 && t.NotAttempted == 0 && (t.Failed == 0 || t.Failed == 1 && t.LastFailed)
	}
	return t.Succeeded >= m.SuccessesNeeded()
}

// ExplainResult says in words why Succeeded returns what it does, e.g. "8
// of 10 targets succeeded, 2 failed; at least 9 must succeed".
func (m Minimum) ExplainResult(t Tally) string {
	s := fmt.Sprintf("%d of %s succeeded", t.Succeeded, targets(t.Succeeded+t.Failed+t.NotAttempted))
	if t.Failed > 0 {
		s += fmt.Sprintf(", %d failed", t.Failed)
	}
	if t.NotAttempted > 0 {
		s += fmt.Sprintf(", %d not attempted", t.NotAttempted)
	}
	if m.OneAtATime() {
		switch {
		case t.Failed == 1 && t.LastFailed && t.NotAttempted == 0:
			return s + "; one at a time, only the last target failed, which is allowed"
		case t.Failed > 0 || t.NotAttempted > 0:
			return s + "; one at a time, every target but the last must succeed"
		}
		return s
	}
	return s + fmt.Sprintf("; at least %d must succeed", m.SuccessesNeeded())
}

// Outcome is what happened to one target in a finished deployment, spelled
// as CodeDeploy spells the final target statuses.
type Outcome string

// The outcomes.
const (
	// OutcomeSucceeded: the target was attempted and succeeded.
	OutcomeSucceeded Outcome = "Succeeded"
	// OutcomeFailed: the target was attempted and failed.
	OutcomeFailed Outcome = "Failed"
	// OutcomeSkipped: the target was never attempted.
	OutcomeSkipped Outcome = "Skipped"
)

// Values returns every valid Outcome.
func (Outcome) Values() []Outcome { return []Outcome{OutcomeSucceeded, OutcomeFailed, OutcomeSkipped} }

// Ending is how a deployment ended, as far as the health rules of the User
// Guide's "CodeDeploy instance health" need to know.
type Ending struct {
	// Succeeded: the deployment as a whole succeeded, and its revision
	// becomes the group's target revision.
	Succeeded bool
	// Redeploy: the revision deployed already was the group's target
	// revision (a redeployment of the current revision), so a target that
	// succeeded in a failed deployment runs the group's revision. It makes
	// no difference when Succeeded is true.
	Redeploy bool
}

// Update returns t's health after a deployment finished, given the target's
// outcome and how the deployment ended ("CodeDeploy instance health"). It is
// the one implementation of these rules; package deploy applies it to the
// records it keeps (deploy.InstanceRecord.AfterDeployment).
//
// When the deployment succeeded (the group's revision becomes the deployed
// one):
//   - revision: a target that succeeded is Current; a Current target that did
//     not succeed becomes Unknown; Old and Unknown targets that did not
//     succeed keep their revision health;
//   - instance: Healthy if the target succeeded, Unhealthy otherwise (also
//     for targets not attempted, as CodeDeploy documents).
//
// When the deployment failed or was stopped (the group's revision is
// unchanged):
//   - instance: attempted targets are Healthy or Unhealthy by their own
//     outcome; targets not attempted keep their instance health;
//   - revision (a fleetdeploy decision; AWS does not say): a target that
//     succeeded runs the deployed revision, so it is Current when that is
//     the group's revision (e.Redeploy) and Old otherwise; a target that
//     failed has no known good install, so it is Unknown; a target not
//     attempted keeps its revision health.
//
// It returns an error wrapping ErrInvalid for an invalid t or o.
func Update(t Target, o Outcome, e Ending) (Target, error) {
	if err := t.Validate(); err != nil {
		return Target{}, err
	}
	switch o {
	case OutcomeSucceeded, OutcomeFailed, OutcomeSkipped:
	default:
		return Target{}, fmt.Errorf("%w: target %q: outcome must be Succeeded, Failed or Skipped; got %q", ErrInvalid, t.ID, o)
	}
	ok := o == OutcomeSucceeded
	if e.Succeeded {
		switch {
		case ok:
			t.Revision = Current
		case t.Revision == Current:
			t.Revision = Unknown
		}
		t.Instance = Unhealthy
		if ok {
			t.Instance = Healthy
		}
		return t, nil
	}
	switch o {
	case OutcomeSucceeded:
		t.Instance, t.Revision = Healthy, Old
		if e.Redeploy {
			t.Revision = Current
		}
	case OutcomeFailed:
		t.Instance, t.Revision = Unhealthy, Unknown
	}
	return t, nil
}

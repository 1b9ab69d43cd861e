package targettest

import (
	"github.com/fleetdeploy/fleetdeploy/revision"
	"github.com/fleetdeploy/fleetdeploy/target"
)

// Outcome is what a scripted call returns: a result, or an error. An
// outcome may be scoped to the calls of one revision or one deployment
// (OnRevision, InDeployment): "fails on v2 only", so that the automatic
// rollback that follows — a new deployment of the previous revision —
// runs the same targets and succeeds.
type Outcome struct {
	// Result is returned when Err is nil. A zero Status is read as
	// Succeeded.
	Result target.EventResult
	// Err, when set, is returned instead of a result: the call "could not
	// run" (infrastructure trouble).
	Err error
	// Times limits the outcome to the next Times matching calls, after
	// which it is forgotten; 0 means every matching call.
	Times int
	// Revision, when not zero, limits the outcome to calls made for a
	// deployment of this revision (compared with revision.Location.Key).
	Revision revision.Location
	// DeploymentID, when not empty, limits the outcome to calls made for
	// this deployment.
	DeploymentID string
}

// OnRevision returns o limited to calls made for deployments of rev: a
// failure scripted for the new revision only, which the rollback to the
// old one does not meet.
func (o Outcome) OnRevision(rev revision.Location) Outcome {
	o.Revision = rev
	return o
}

// InDeployment returns o limited to calls made for the deployment with ID
// id.
func (o Outcome) InDeployment(id string) Outcome {
	o.DeploymentID = id
	return o
}

// applies reports whether o's scope includes a call made for deployment
// d.
func (o Outcome) applies(d target.DeploymentInfo) bool {
	if o.DeploymentID != "" && o.DeploymentID != d.DeploymentID {
		return false
	}
	return o.Revision.Type == "" || o.Revision.Key() == d.Revision.Key()
}

// Succeed returns an outcome that succeeds.
func Succeed() Outcome {
	return Outcome{Result: target.EventResult{Status: target.EventSucceeded, ErrorCode: target.CodeSuccess}}
}

// Fail returns an outcome whose event fails with code and message: a failed
// hook, not an error.
func Fail(code target.LifecycleErrorCode, message string) Outcome {
	return Outcome{Result: target.EventResult{Status: target.EventFailed, ErrorCode: code, Message: message}}
}

// Error returns an outcome in which the call returns err.
func Error(err error) Outcome { return Outcome{Err: err} }

// Once returns o limited to the next matching call.
func (o Outcome) Once() Outcome { return o.Limit(1) }

// Limit returns o limited to the next n matching calls.
func (o Outcome) Limit(n int) Outcome {
	o.Times = n
	return o
}

// result returns o's result with a zero Status read as Succeeded.
func (o Outcome) result() target.EventResult {
	r := o.Result
	if r.Status == "" {
		r.Status = target.EventSucceeded
		if r.ErrorCode == "" {
			r.ErrorCode = target.CodeSuccess
		}
	}
	return r
}

// rule is one scripted outcome; an empty subject or event matches any.
type rule struct {
	subject string
	event   target.LifecycleEvent
	outcome Outcome
	left    int // calls left when outcome.Times > 0
}

// script holds the scripted outcomes of one fake. It is not safe for
// concurrent use; its owner locks.
type script struct{ rules []*rule }

// set adds an outcome for subject and event ("" for any).
func (s *script) set(subject string, event target.LifecycleEvent, o Outcome) {
	s.rules = append(s.rules, &rule{subject: subject, event: event, outcome: o, left: o.Times})
}

// pick returns the outcome for a call made for deployment d and uses it up
// once. Rules whose scope (Outcome.Revision, Outcome.DeploymentID) leaves
// the call out are passed over; of the others, the most specific rule wins
// (subject and event, then subject, then event, then neither); among
// equally specific rules the latest. Without a rule the call succeeds.
func (s *script) pick(subject string, event target.LifecycleEvent, d target.DeploymentInfo) Outcome {
	for _, level := range [][2]bool{{true, true}, {true, false}, {false, true}, {false, false}} {
		for i := len(s.rules) - 1; i >= 0; i-- {
			r := s.rules[i]
			if (r.subject != "") != level[0] || (r.event != "") != level[1] {
				continue
			}
			if (r.subject != "" && r.subject != subject) || (r.event != "" && r.event != event) || !r.outcome.applies(d) {
				continue
			}
			if r.outcome.Times > 0 {
				r.left--
				if r.left == 0 {
					s.rules = append(s.rules[:i], s.rules[i+1:]...)
				}
			}
			return r.outcome
		}
	}
	return Succeed()
}

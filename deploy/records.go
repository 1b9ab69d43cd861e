package deploy

import (
	"time"

	"github.com/fleetdeploy/fleetdeploy/health"
	"github.com/fleetdeploy/fleetdeploy/revision"
	"github.com/fleetdeploy/fleetdeploy/target"
)

// DeploymentTarget is the state of one target in one deployment, kept as its
// own record so that a target's transition is one small write. It is kept
// lean because a deployment may have a million of them: LifecycleEvents is
// nil until the first event starts, and Diagnostics only exists for events
// that have something to say.
type DeploymentTarget struct {
	// DeploymentID and TargetID identify the record. TargetID equals
	// Target.ID.
	DeploymentID string `json:"deploymentId"`
	TargetID     string `json:"targetId"`
	// Target is the target as listed when the deployment was created,
	// including its zone.
	Target target.Target `json:"target"`
	// Label is Blue (original) or Green (replacement) in a blue/green
	// deployment, empty otherwise.
	Label target.TargetLabel `json:"label,omitempty"`
	// InitialInstanceHealth and InitialRevisionHealth are the target's
	// health when the deployment was created; they decide its scheduling
	// class and its health after the deployment (User Guide, "CodeDeploy
	// instance health").
	InitialInstanceHealth health.InstanceHealth `json:"initialInstanceHealth,omitempty"`
	InitialRevisionHealth health.RevisionHealth `json:"initialRevisionHealth,omitempty"`
	// Status is the target's status in the deployment.
	Status target.TargetStatus `json:"status"`
	// LifecycleEvents are the target's events in order. A Server target
	// lists all of them from the start, every one Pending, as CodeDeploy
	// lists an instance's events before it starts them; a target the
	// deployment never reached ends with every one Skipped. The one target
	// of a Lambda or ECS deployment lists them from its first step on.
	LifecycleEvents []LifecycleEventRecord `json:"lifecycleEvents,omitempty"`
	// LastUpdated is when the record last changed.
	LastUpdated time.Time `json:"lastUpdatedAt,omitzero"`
	// Version is set by the store: 1 when put, one more on every update.
	// UpdateTarget succeeds only with the stored Version.
	Version int64 `json:"version"`
}

// Event returns a pointer to the record of event e in t.LifecycleEvents, or
// nil if there is none.
func (t DeploymentTarget) Event(e target.LifecycleEvent) *LifecycleEventRecord {
	for i := range t.LifecycleEvents {
		if t.LifecycleEvents[i].Name == e {
			return &t.LifecycleEvents[i]
		}
	}
	return nil
}

// Health returns the target's initial health as the scheduling order of
// package health sees it.
func (t DeploymentTarget) Health() health.Target {
	return health.Target{ID: t.TargetID, Instance: t.InitialInstanceHealth, Revision: t.InitialRevisionHealth}
}

// LifecycleEventRecord is CodeDeploy's LifecycleEvent: one event on one
// target.
type LifecycleEventRecord struct {
	Name      target.LifecycleEvent       `json:"lifecycleEventName"`
	Status    target.LifecycleEventStatus `json:"status"`
	StartTime time.Time                   `json:"startTime,omitzero"`
	EndTime   time.Time                   `json:"endTime,omitzero"`
	// Diagnostics is nil when the event has nothing to report.
	Diagnostics *Diagnostics `json:"diagnostics,omitempty"`
}

// Diagnostics is CodeDeploy's Diagnostics: why an event failed.
type Diagnostics struct {
	ErrorCode  target.LifecycleErrorCode `json:"errorCode,omitempty"`
	ScriptName string                    `json:"scriptName,omitempty"`
	Message    string                    `json:"message,omitempty"`
	// LogTail is the end of the scripts' output, at most target.MaxLogTail
	// bytes.
	LogTail string `json:"logTail,omitempty"`
	// DeploymentErrorCode is fleetdeploy's addition: the deployment error
	// code the event's failure stands for when it is not the scripts' —
	// AGENT_ISSUE for an Installer that cannot reach the target,
	// ELB_INVALID_INSTANCE or another code a role's *target.CodeError
	// carries, THROTTLED after the executor's retries — empty otherwise.
	// ErrorCode is then UnknownError, as CodeDeploy's Diagnostics has no
	// code for these. When every failed target carries the same one, the
	// deployment fails with it (see "Error codes" in the package
	// documentation).
	DeploymentErrorCode ErrorCode `json:"deploymentErrorCode,omitempty"`
}

// InstanceRecord is what a deployment group remembers about one of its
// targets across deployments: its instance health and the revision last
// installed on it successfully. Revision health is not stored: it follows
// from Revision and the group's target revision (see RevisionHealth).
type InstanceRecord struct {
	GroupID  string `json:"deploymentGroupId"`
	TargetID string `json:"targetId"`
	// InstanceHealth is the target's health after the group's last
	// deployment to it.
	InstanceHealth health.InstanceHealth `json:"instanceHealth"`
	// Revision is the revision last installed successfully, nil if none.
	Revision *revision.Location `json:"revision,omitempty"`
	// Version is set by the store: 1 when first written, one more on every
	// write.
	Version int64 `json:"version"`
}

// NewInstanceRecord returns the record of a target the group has never
// deployed to: Unhealthy, with no revision (so revision health Unknown),
// as the User Guide's "CodeDeploy instance health" says of a target that
// never received a revision.
func NewInstanceRecord(groupID, targetID string) InstanceRecord {
	return InstanceRecord{GroupID: groupID, TargetID: targetID, InstanceHealth: health.Unhealthy}
}

// RevisionHealth returns the target's revision health relative to the
// group's target revision ("CodeDeploy instance health"): Unknown when no
// revision was installed, Current when the installed revision is
// groupRevision (by revision.Location.Equal), Old otherwise — also when the
// group has no target revision.
func (r InstanceRecord) RevisionHealth(groupRevision *revision.Location) health.RevisionHealth {
	switch {
	case r.Revision == nil:
		return health.Unknown
	case groupRevision != nil && r.Revision.Equal(*groupRevision):
		return health.Current
	}
	return health.Old
}

// Health returns the target's health as package health sees it, relative
// to groupRevision.
func (r InstanceRecord) Health(groupRevision *revision.Location) health.Target {
	return health.Target{ID: r.TargetID, Instance: r.InstanceHealth, Revision: r.RevisionHealth(groupRevision)}
}

// AfterDeployment returns the record as it must be after a deployment of
// deployed finished with outcome o for this target (User Guide, "CodeDeploy
// instance health"). groupRevision is the group's target revision when the
// deployment started (Deployment.PreviousRevision); succeeded says whether
// the deployment as a whole succeeded (the group's target revision then
// becomes deployed).
//
// The rules are health.Update's; this method only keeps the record in
// step with them. The instance health is health.Update's. The revision is
// what is installed: a target that succeeded now runs deployed; a target
// health.Update makes Unknown (a Current target that did not succeed in a
// successful deployment, a failed target of a failed deployment) has no
// known good revision; the others keep theirs. Revision health is then
// derived from the installed revision and the group's (RevisionHealth), so
// a target that succeeded in a failed redeployment of the group's own
// revision is Current, as health.Update says for a redeploy. The one place
// the two can differ is a target that did not succeed in a successful
// deployment but already had deployed installed from an earlier, failed
// deployment: it runs the group's new revision, so it is Current, where
// health.Update, which cannot see installed revisions, keeps it Old.
//
// Applying it twice (a deployment finished again after a crash) gives the
// same record. It returns health.Update's error for an invalid record or
// outcome.
func (r InstanceRecord) AfterDeployment(o health.Outcome, deployed revision.Location, succeeded bool, groupRevision *revision.Location) (InstanceRecord, error) {
	return r.afterDeployment(o, deployed, succeeded, groupRevision, nil)
}

// afterDeployment is AfterDeployment. With installed nil the result owns
// its revision. Otherwise installed (equal to deployed) becomes the
// revision of a target that succeeded and a kept revision is r's own, not
// a copy: for a caller that owns r and shares one copy of deployed among
// many records.
func (r InstanceRecord) afterDeployment(o health.Outcome, deployed revision.Location, succeeded bool, groupRevision, installed *revision.Location) (InstanceRecord, error) {
	redeploy := groupRevision != nil && deployed.Equal(*groupRevision)
	h, err := health.Update(r.Health(groupRevision), o, health.Ending{Succeeded: succeeded, Redeploy: redeploy})
	if err != nil {
		return InstanceRecord{}, err
	}
	r.InstanceHealth = h.Instance
	switch {
	case o == health.OutcomeSucceeded && installed != nil:
		r.Revision = installed
	case o == health.OutcomeSucceeded:
		rev := deployed.Clone()
		r.Revision = &rev
	case h.Revision == health.Unknown:
		r.Revision = nil
	case installed != nil:
	default:
		r.Revision = cloneLocationPtr(r.Revision)
	}
	return r, nil
}

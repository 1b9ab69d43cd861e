package deploy

import "context"

// TargetStore keeps the per-target state of deployments, one record per
// (DeploymentID, TargetID), so that a target's transition is one small
// write however large the fleet.
type TargetStore interface {
	// PutTargets adds targets to the deployment, all or none. Each
	// record's DeploymentID must be empty or deploymentID and its TargetID
	// must be non-empty and equal Target.ID; on success each element's
	// DeploymentID is set and its Version set to 1. PutTargets may be called
	// more than once for a deployment (a blue/green replacement fleet, an
	// instance launched mid-deployment).
	//
	// It returns ErrNotFound when the deployment does not exist,
	// ErrAlreadyExists when one of the targets is already in the deployment
	// or appears twice in targets, and ErrInvalidArgument for a record
	// whose keys are wrong.
	PutTargets(ctx context.Context, deploymentID string, targets []DeploymentTarget) error

	// GetTarget returns one target of a deployment, or ErrNotFound.
	GetTarget(ctx context.Context, deploymentID, targetID string) (*DeploymentTarget, error)

	// UpdateTarget replaces the stored record with t if t.Version is the
	// stored version, and sets t.Version to the new version. It writes only
	// this record, in time independent of the number of targets. It returns
	// ErrNotFound when there is no such target and ErrConflict when
	// t.Version is not the stored version.
	UpdateTarget(ctx context.Context, t *DeploymentTarget) error

	// ListTargets returns one page of the deployment's targets in the order
	// they were put (PutTargets calls in order, each in slice order).
	// pageToken is "" for the first page, else the next token of the
	// previous page. limit is the most records to return; limit ≤ 0 lets
	// the store choose. next is "" when there are no more targets (a store
	// may also return a non-empty next and then an empty last page).
	//
	// The records of a page may share memory with each other — one
	// Target.Tags map for equal tags, one LifecycleEvents list for equal
	// lists (those of targets not yet started, say) — but never with the
	// store or with another call's records: the caller must not change
	// what a record's maps and slices hold; it may replace them. (Copying
	// a map and a list per record is most of what reading a large
	// deployment costs.)
	//
	// It returns ErrNotFound when the deployment does not exist and
	// ErrInvalidArgument for a page token it did not issue for this
	// deployment. AllTargets iterates over all pages.
	ListTargets(ctx context.Context, deploymentID, pageToken string, limit int) (page []DeploymentTarget, next string, err error)
}

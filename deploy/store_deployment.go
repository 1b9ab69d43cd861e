package deploy

import "context"

// DeploymentStore keeps deployments and enforces CodeDeploy's rule that a
// deployment group has at most one active deployment (User Guide,
// "CodeDeploy quotas"): at any time at most one deployment per
// (ApplicationName, GroupName) has a status for which
// DeploymentStatus.IsActive holds. The rule holds across every process
// sharing the store, so writes that make a deployment active are
// conditional.
//
// An executor's queue of deployments (Options.Queue) rests on this rule
// and needs nothing more: a queued deployment is created Queued, and is
// started by an UpdateDeployment from Queued to Created, which takes the
// group's slot in the same atomic write only if it is free and only if
// the deployment's Version is the one read. Of several executors starting
// the head of a queue at once (the same deployment, or different ones),
// exactly one therefore succeeds and the others change nothing. The queue's
// order is ListDeployments's, which must be the same through every handle
// of the store.
type DeploymentStore interface {
	// CreateDeployment stores a new deployment. When d.ID is empty it
	// assigns a fresh one (see NewDeploymentID); it sets d.ID and
	// d.Version = 1.
	//
	// When d.Status is active (Created, InProgress, Baking, Ready) the
	// create succeeds only if the group has no active deployment; otherwise
	// it returns an *ActiveDeploymentError naming the active deployment.
	// A Queued or final deployment is created regardless.
	//
	// It returns ErrNotFound when the group (d.ApplicationName,
	// d.GroupName) does not exist, ErrAlreadyExists when a deployment has
	// d.ID, and ErrInvalidArgument when d.ApplicationName or d.GroupName is
	// empty or d.Status is not a valid status.
	CreateDeployment(ctx context.Context, d *Deployment) error

	// GetDeployment returns the deployment, or ErrNotFound.
	GetDeployment(ctx context.Context, id string) (*Deployment, error)

	// UpdateDeployment replaces the stored deployment with d if d.Version
	// is the stored version, and sets d.Version to the new version. The
	// group's active slot follows the status in the same atomic write: a
	// move to a final (or Queued) status releases it; a move from Queued to
	// an active status takes it, or fails with an *ActiveDeploymentError
	// when another deployment holds it.
	//
	// It returns ErrNotFound when there is no deployment d.ID, ErrConflict
	// when d.Version is not the stored version, ErrDeploymentCompleted when
	// the stored status is final and d.Status differs from it (other fields
	// of a completed deployment, such as RollbackInfo, may still change),
	// and ErrInvalidArgument when d.Status is not valid or d.ApplicationName
	// or d.GroupName differ from the stored ones.
	UpdateDeployment(ctx context.Context, d *Deployment) error

	// ListDeployments returns the group's deployments, newest first (by
	// CreateTime; deployments created at the same time in a stable order
	// of the store's choosing, the same through every handle, which is
	// the order of a queue of deployments created at the same time). With statuses, only deployments in one of
	// them are returned. It returns ErrNotFound when the group does not
	// exist.
	ListDeployments(ctx context.Context, applicationName, groupName string, statuses ...DeploymentStatus) ([]Deployment, error)
}

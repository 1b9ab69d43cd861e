package deploy

import "context"

// InstanceStore keeps what each deployment group remembers about its targets
// across deployments (User Guide, "CodeDeploy instance health"), keyed by
// (GroupID, TargetID). A target without a record has never been deployed to
// by the group; see NewInstanceRecord.
//
// Writes are unconditional upserts: only the group's one active deployment
// writes its instance records, which the DeploymentStore guarantees.
type InstanceStore interface {
	// GetInstances returns every record of the group, by TargetID. A group
	// without records (or an unknown group ID) has none; that is not an
	// error.
	GetInstances(ctx context.Context, groupID string) ([]InstanceRecord, error)

	// GetInstance returns one record, or ErrNotFound.
	GetInstance(ctx context.Context, groupID, targetID string) (*InstanceRecord, error)

	// PutInstances creates or replaces each record, all or none, and sets
	// each element's Version to its stored version (1 for a new record, one
	// more than before for a replaced one; the Version passed in is
	// ignored). It returns ErrInvalidArgument when a record has an empty
	// GroupID or TargetID or when two records have the same key.
	PutInstances(ctx context.Context, records []InstanceRecord) error
}

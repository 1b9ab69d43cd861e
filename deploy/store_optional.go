package deploy

import "context"

// Optional store interfaces. A Store may implement any of them to give the
// Executor a faster way to do what it otherwise does through the Store's
// own methods; it finds them by type assertion on the store it uses — for
// a run's writes, the view LeaseStore.Fenced returns, which must implement
// whatever the store implements, fenced the same way. Each method's
// results, errors and fencing are those of the Store methods it stands
// for; package deploytest's conformance suite checks that for every store
// that implements one.
//
// A type that embeds a store (struct{ *deploy.MemoryStore }) gets the
// store's optional methods with it: one that changes what a Store method
// does (counting, failing, logging UpdateTarget) must change its optional
// counterpart the same way, or hide it, or the Executor's calls bypass the
// change.

// TargetUpdaterAt is implemented by stores that find a target's record
// faster when told its position.
type TargetUpdaterAt interface {
	// UpdateTargetAt is UpdateTarget for the record at position index of
	// its deployment's targets in the order of ListTargets (0 for the
	// first). index is a hint: when it is out of range or the record there
	// is another target's, the store finds t by its IDs as UpdateTarget
	// does. It has UpdateTarget's results and errors, and a fenced view's
	// UpdateTargetAt is fenced as its UpdateTarget is.
	UpdateTargetAt(ctx context.Context, index int, t *DeploymentTarget) error
}

// InstanceBatchGetter is implemented by stores that read the instance
// records of chosen targets faster than all of a group's (GetInstances).
type InstanceBatchGetter interface {
	// GetInstancesByID returns the group's records of targetIDs, in that
	// order: element i is the record of targetIDs[i] as GetInstance
	// returns it, or the zero InstanceRecord (TargetID empty) when there
	// is none. Records with equal revisions may share one Revision — never
	// one of the store's; the caller must not change what a record's
	// Revision points to. A group without records, or an unknown group,
	// is not an error.
	GetInstancesByID(ctx context.Context, groupID string, targetIDs []string) ([]InstanceRecord, error)
}

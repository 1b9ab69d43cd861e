package dynamostore

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/fleetdeploy/fleetdeploy/deploy"
)

// fence is the lease a write is fenced by; nil for writes through the
// store itself.
type fence struct {
	lease deploy.Lease
	// use is the handle's record of the lease, which its fenced target
	// writes hold (see stamp.go).
	use *leaseUse
}

// check returns the transaction action that checks, atomically with the
// other actions, that the lease is current: a ConditionCheck of the
// leased deployment's head item. It comes first in a transaction, so that
// a lost lease is the error reported when several conditions fail, as
// for the memory store.
func (f *fence) check() txItem {
	return txItem{
		w: types.TransactWriteItem{ConditionCheck: &types.ConditionCheck{
			Key:                       headKey(f.lease.DeploymentID),
			ConditionExpression:       aws.String("attribute_exists(pk) AND " + heldCond),
			ExpressionAttributeValues: heldVals(f.lease, nil),
		}},
		failed: func(old item) error { return lost(f.lease, old) },
	}
}

// with returns items preceded by the fence's check, or items alone when f
// is nil.
func (f *fence) with(items ...txItem) []txItem {
	if f == nil {
		return items
	}
	return append([]txItem{f.check()}, items...)
}

// Fenced implements deploy.LeaseStore: the view's writes succeed only
// while l is the current lease of l.DeploymentID. An update of one of the
// deployment's targets, or of the deployment when its group's slot stays
// as it is, is one UpdateItem on the condition that the item's fence was
// not stamped by a later lease (AcquireLease stamps them when it takes
// over from a holder that may still write); every other write checks the
// lease in the same DynamoDB request as the write: a write to the
// deployment's head item carries the check in its own condition; any
// other becomes a TransactWriteItems with a ConditionCheck of the head
// item. After a takeover, a fenced write returns a *deploy.LeaseLostError
// naming the current lease and changes nothing. Once ReleaseLease of l
// was called on this Store, the view's fenced UpdateItems fail at once.
func (s *Store) Fenced(l deploy.Lease) deploy.Store {
	return &fencedStore{Store: s, f: &fence{lease: l, use: s.uses.of(l)}}
}

// fencedStore is a Store's view fenced by a lease. Reads and lease
// methods are the store's own.
type fencedStore struct {
	*Store
	f *fence
}

var _ deploy.Store = (*fencedStore)(nil)

// CreateApplication implements deploy.ApplicationStore, fenced.
func (v *fencedStore) CreateApplication(ctx context.Context, a *deploy.Application) error {
	return v.createApplication(ctx, a, v.f)
}

// CreateGroup implements deploy.GroupStore, fenced.
func (v *fencedStore) CreateGroup(ctx context.Context, g *deploy.Group) error {
	return v.createGroup(ctx, g, v.f)
}

// UpdateGroup implements deploy.GroupStore, fenced.
func (v *fencedStore) UpdateGroup(ctx context.Context, g *deploy.Group) error {
	return v.updateGroup(ctx, g, v.f)
}

// CreateDeployment implements deploy.DeploymentStore, fenced.
func (v *fencedStore) CreateDeployment(ctx context.Context, d *deploy.Deployment) error {
	return v.createDeployment(ctx, d, v.f)
}

// UpdateDeployment implements deploy.DeploymentStore, fenced.
func (v *fencedStore) UpdateDeployment(ctx context.Context, d *deploy.Deployment) error {
	return v.updateDeployment(ctx, d, v.f)
}

// PutTargets implements deploy.TargetStore, fenced.
func (v *fencedStore) PutTargets(ctx context.Context, deploymentID string, targets []deploy.DeploymentTarget) error {
	return v.putTargets(ctx, deploymentID, targets, v.f)
}

// UpdateTarget implements deploy.TargetStore, fenced.
func (v *fencedStore) UpdateTarget(ctx context.Context, t *deploy.DeploymentTarget) error {
	return v.updateTarget(ctx, t, v.f)
}

// PutInstances implements deploy.InstanceStore, fenced.
func (v *fencedStore) PutInstances(ctx context.Context, records []deploy.InstanceRecord) error {
	return v.putInstances(ctx, records, v.f)
}

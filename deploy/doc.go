// Package deploy holds the deployment engine's state: the model of
// applications, deployment groups, deployments and per-target progress,
// spelled as AWS CodeDeploy spells it, and the Store interfaces that keep
// it. The executor that runs deployments is built on them.
//
// # Model
//
// An [Application] has deployment groups. A [Group] says which targets a
// deployment goes to (a target.Selector), with which deployment
// configuration (by name, resolved with [Group.ResolveConfig]), in which
// style (in-place or blue/green, with or without traffic control), and what
// happens on failure (automatic rollback), when alarms fire, and whom to
// notify. [Group.Validate] reports every rule of CodeDeploy's
// CreateDeploymentGroup a group breaks, each naming the field as
// CodeDeploy's API does ("alarmConfiguration.alarms[2].name").
//
// A [Deployment] deploys one revision to one group. It carries snapshots
// of what it runs with — the resolved configuration, the deployment style,
// the load balancers, the blue/green settings — so that a later change to
// the group or to a custom configuration does not change a deployment in
// flight. Its status is a [DeploymentStatus]; Succeeded, Failed and
// Stopped are final ([DeploymentStatus.IsFinal]). Why it failed is an
// [ErrorCode]; a stop request ([StopRequest]) and the phase state of a
// zonal, traffic-shifting or blue/green deployment ([Progress]) are
// persisted with it so any process can stop it and any process can resume
// it.
//
// Each target of a deployment has its own [DeploymentTarget] record: its
// snapshot, its health when the deployment was created, its status and its
// lifecycle events. A target's transition is therefore one small write,
// however large the fleet.
//
// Across deployments, a group remembers each target's health in an
// [InstanceRecord]: its instance health and the revision last installed on
// it. Revision health (Current, Old, Unknown; spec §2.1) is derived from
// that revision and the group's target revision
// ([InstanceRecord.RevisionHealth]), and [InstanceRecord.AfterDeployment]
// applies the rules of spec §2.5 when a deployment ends.
//
// # Stores
//
// A [Store] is five small interfaces: [ApplicationStore], [GroupStore],
// [DeploymentStore], [TargetStore] and [InstanceStore]. [NewMemoryStore]
// returns an in-memory Store for tests, examples and single-process use.
//
// Every record has a Version the store maintains: 1 when created, one more
// on each update. Create methods set it (and assign IDs left empty) in the
// value passed; update methods write only if the value carries the stored
// Version — a compare-and-swap — and otherwise return [ErrConflict],
// leaving the stored record as it was. The usual loop is: get, change,
// update; on ErrConflict, get again.
//
// Errors wrap one of the sentinels ([ErrNotFound], [ErrConflict],
// [ErrAlreadyExists], [ErrActiveDeployment], [ErrDeploymentCompleted],
// [ErrInvalidArgument]), usually inside a [RecordError] that names the
// record: "deploy: deployment d-4R7TQ8WX1: not found". Test with errors.Is.
//
// A group has at most one active deployment ([DeploymentStatus.IsActive]:
// Created, InProgress, Baking, Ready). [DeploymentStore.CreateDeployment]
// refuses a second one with an [*ActiveDeploymentError] that names the
// first, as CodeDeploy does ("The Deployment Group 'prod' already has an
// active Deployment 'd-4R7TQ8WX1'"); moving a deployment to a final status
// frees the group in the same write.
//
// # Writing a store
//
// A Store for a database implements the five interfaces and runs the
// conformance suite of package deploytest in its tests:
//
//	func TestStore(t *testing.T) {
//		deploytest.TestStore(t, func(t *testing.T) deploy.Store {
//			return mystore.New(...) // a fresh, empty store per call
//		})
//	}
//
// The contract, method by method, is in the interfaces' documentation. In
// short:
//
//   - Each method changes nothing when it returns an error, and returns
//     ctx's error (wrapped) without doing anything when ctx is done.
//   - Records are copied in and out: no caller may reach stored state
//     through a pointer, slice or map. Empty slices and maps may come back
//     nil. Times must come back as the same instant (to the nanosecond);
//     their location and monotonic reading need not survive.
//   - Updates are compare-and-swap on Version.
//   - The one-active-deployment rule must hold across processes: a
//     conditional write (a unique index on the group's active slot, a
//     DynamoDB condition expression, a transaction) — never a read
//     followed by a write.
//   - UpdateTarget writes one record; ListTargets pages in the order the
//     targets were put. PutTargets and PutInstances are all or none.
//
// Wrap a Store with deploytest.FaultStore to inject write failures and
// crashes into the code that uses it.
//
// # Concurrency
//
// Stores are safe for concurrent use. Several executors, in one process or
// in many, may share one Store: the conditional create of a deployment and
// the version check on every update make them agree on who runs what.
// Nothing in the model is shared between copies, so records may be handed
// between goroutines freely.
package deploy

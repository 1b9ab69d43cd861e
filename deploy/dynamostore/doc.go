// Package dynamostore is a [deploy.Store] on one Amazon DynamoDB table: the
// store several executors on several machines share.
//
//	client := dynamodb.NewFromConfig(cfg)
//	if err := dynamostore.CreateTable(ctx, client, "fleetdeploy"); err != nil { ... }
//	store, err := dynamostore.New(client, "fleetdeploy")
//
// Every [Store] on the same table — in one process or in many — is a handle
// on the same storage: the one-active-deployment rule, compare-and-swap on
// Version, leases and fencing hold across all of them, because each is a
// condition DynamoDB checks in the write itself, never a read followed by a
// write. A handle caches only facts that never change once true (which
// target batches of a deployment are committed, and the target records
// PutTargets packed into them), so handles need not coordinate.
//
// # Table schema
//
// [CreateTable] creates the table and waits until it is ACTIVE. To create
// it with other tooling (Terraform, CloudFormation), give it exactly this
// schema; the store checks it (DescribeTable) on first use and names what
// differs:
//
//   - key: pk (string, HASH), sk (string, RANGE);
//   - global secondary index "lease": act (string, HASH), lx (string,
//     RANGE), projection INCLUDE lo, lt, le — the leases of active
//     deployments by expiry;
//   - billing mode PAY_PER_REQUEST (or provisioned, if you size it).
//
// Other indexes are allowed: tables created before PutTargets packed its
// records have a local secondary index "ord" (pk, o), which the store no
// longer reads and no item it writes now has a key of.
//
// In Terraform:
//
//	resource "aws_dynamodb_table" "fleetdeploy" {
//	  name         = "fleetdeploy"
//	  billing_mode = "PAY_PER_REQUEST"
//	  hash_key     = "pk"
//	  range_key    = "sk"
//	  attribute { name = "pk"  type = "S" }
//	  attribute { name = "sk"  type = "S" }
//	  attribute { name = "act" type = "S" }
//	  attribute { name = "lx"  type = "S" }
//	  global_secondary_index {
//	    name               = "lease"
//	    hash_key           = "act"
//	    range_key          = "lx"
//	    projection_type    = "INCLUDE"
//	    non_key_attributes = ["lo", "lt", "le"]
//	  }
//	}
//
// Records are stored as JSON in attribute d (times with nanoseconds), next
// to the attributes conditions and keys need. Groups, applications and a
// deployment's configuration use CodeDeploy's JSON shapes (see
// deploy.Group.MarshalJSON); items written when a group's selector was
// nested under "selector" and a configuration's name was "name" still
// decode, and are rewritten in the current form on their next update. The items, by partition key
// (sk in parentheses):
//
//   - app (application name): an application;
//   - grp#<application> (group name): a group; gid#<group ID> (id): the
//     claim of a group ID, so IDs stay unique;
//   - slot#<group key> (slot): a group's active slot — attribute h names
//     its active deployment; <group key> is len(application):application/group;
//   - deps#<group key> (create time # deployment ID): a group's list of
//     deployments, newest last;
//   - dep#<deployment ID> (dep): a deployment, with its status, version,
//     group and fence in attributes st, v, ap, gr, lt;
//   - dep#<deployment ID> (head): the deployment's head item — its lease
//     (lo owner, lt token, lk and le expiry; lh the handles writing
//     under it, lc the token last released cleanly, ls the token last
//     done stamping), act while
//     the deployment is active, its committed target batches (tb, tk) and
//     the secret of its page tokens (nn);
//   - tgb#<deployment ID>#<batch> (bucket number): the target records a
//     PutTargets call put, packed, with their positions in the call;
//     <batch> is a random ID, a dot and the batch's bucket count;
//   - tgt#<deployment ID> (target ID \x00 batch): a target record since
//     its first update, with its fence lt: the token of the lease it was
//     last written under, plus 2^62 (sealed) when its status is final;
//   - instg#<group ID>#<delta> (bucket number): a delta's instance
//     records whose target IDs hash to that bucket, packed;
//     insth#<group ID> (head): the group's listed deltas (u) and its
//     count of commits (cn).
//
// # One active deployment per group
//
// CreateDeployment is one TransactWriteItems: the deployment item and its
// head item (each on the condition that it is new), the group's list
// entry, and for an active deployment an update of the group's slot item
// on the condition that no deployment holds it (attribute_not_exists(h)).
// A status change that makes a deployment active or not updates the slot
// in the same transaction as the deployment (conditional on its Version).
// The cancellation reasons say which condition failed: a missing slot is a
// missing group (ErrNotFound), a held one an *ActiveDeploymentError naming
// the holder, read from the failed condition.
//
// # Targets: all or none, however many
//
// PutTargets writes any number of targets all or none, which
// BatchWriteItem is not, in two steps:
//
//  1. stage: the records are packed into bucket items of about 100 KB —
//     the instance records' machinery (below): a record is in bucket
//     FNV-1a(target ID) mod the bucket count, every bucket has an item —
//     each record with its position in the call and its fence (the
//     lease token the call read, sealed when its status is final), in a
//     partition of their own (tgb#) under a fresh batch name, written
//     with BatchWriteItem (25 a request, Options.Parallelism requests at
//     a time, items left unprocessed sent again after an exponential
//     backoff on Options.Clock). Readers never look at a batch they do
//     not know is committed, so staged items are invisible, and since no
//     other write uses that partition, a stager — even one whose lease
//     was taken over and who goes on writing — never overwrites an item
//     anyone sees;
//  2. commit: one UpdateItem of the deployment's head item appends the
//     batch to its committed batches, on the condition that the list is
//     as long as when the targets were checked for duplicates (and, fenced,
//     that the lease is current). When other batches were committed
//     meanwhile, the targets are checked against those too and the commit
//     tried again; when a retried commit finds its batch committed, it was.
//
// A call that fails before its commit leaves readers' view unchanged; its
// staged items are deleted when possible, and harmless when not: a retry
// stages under a new batch name.
//
// A committed batch's items never change, so a handle caches the records
// it read (up to Options.LocatorCacheSize). A target's later versions are
// an item of its own (tgt#), which its first update creates: one PutItem
// on the condition that the item does not exist, the update's version
// checked against the packed record's (a record's Version is 1 until its
// item exists); when the item exists, the update is one UpdateItem
// conditional on the Version. Membership — is the target in the
// deployment, in which batch, at what version — comes from the packed
// records: a target's bucket in each committed batch (BatchGetItem, once
// per handle). GetTarget reads the target's item (GetItem) and falls back
// to its packed record. ListTargets pages over the packed records, batch
// by batch in commit order and each batch in put order (a batch's items
// read once per handle, Query), and overlays the items of the page's
// targets (BatchGetItem); its page tokens carry an HMAC keyed by the
// deployment's secret, so a token not issued for the deployment is
// refused (ErrInvalidArgument).
//
// An instant target so costs two writes of its item — InProgress, which
// creates it, and its end — plus its share of the packed batch (a few
// hundred targets an item), fenced or not (see "Leases and fencing"). The
// executor also writes its instance record at the end of the deployment
// (see below), packed with others: a few items for thousands of records,
// deployment after deployment.
//
// # Instance records: deltas and folds
//
// PutInstances (any number of records, all or none) writes the records of
// each group as a delta — their own partition, BatchWriteItem, packed
// into bucket items of about 100 KB (a record is in bucket FNV-1a(target
// ID) mod the delta's bucket count, which the delta's entry in the head
// item names; every bucket has an item, an empty one too), so that a
// delta of 2,000 records is a handful of item writes, not 2,000 — then
// commits every delta at once by adding it to its group's head item
// (insth#), on the condition that no other delta was committed since the
// versions were read (one UpdateItem, or a TransactWriteItems for several
// groups or a fenced call). When others were, and wrote none of the
// call's records (the executor writes a large fleet's records in
// several calls at once), the staged deltas are committed as they are;
// otherwise they are deleted and staged again. A record is its value in
// the newest listed delta that holds it; versions are read that way
// (BatchGetItem of the records' buckets of each delta) before a delta is
// staged.
//
// Once Options.MaxDeltas or more deltas are listed, the next PutInstances
// folds them: its delta holds, besides its own records, the newest of every
// listed record (each listed delta read once, Query), and its commit —
// the same single conditional write, on the same condition — replaces
// the whole list with it. The deltas it replaced are then deleted
// (BatchWriteItem). A fold so writes the group's records once, packed: a
// few bucket items for thousands of records, and deletes as many. An
// interrupted fold leaves nothing visible: before its commit its items
// are listed nowhere (and deleted, when the call can), after it the
// replaced deltas are listed nowhere. A reader that read the head item
// before a fold and finds one of a listed delta's bucket items missing
// (deleted by the fold) reads the head item again.
//
// Reading one record reads the head item and its bucket of each listed
// delta (up to 100 KB each: 25 read units strongly consistent); reading
// many reads each bucket once.
//
// # Leases and fencing
//
// A deployment's lease is kept on its head item and changes by one
// conditional UpdateItem each (acquire, renew, release), which never
// touches the deployment's Version. The head item is small (well under
// 1 KB), so each of these costs one write capacity unit.
//
// A view fenced by a lease ([Store.Fenced]) refuses every write once the
// lease is not current, with a *deploy.LeaseLostError naming the current
// one, and changes nothing. Most writes check the lease in the same
// request as the write: a write to the head item itself (the PutTargets
// commit, a status change's activity mark) carries the lease condition;
// a group, an instance records' commit, a deployment whose status makes
// it active or not (the group's slot changes) become a TransactWriteItems
// with a ConditionCheck of the head item. Those are O(1) per deployment,
// or batched.
//
// Target updates, a run's hot path, and the deployment's other updates
// are not transactions. Each target item and packed target record, and
// the deployment item, carries a fence (lt): the token of the lease it was
// last written under (a PutTargets stores the deployment's current token,
// 0 before its first lease), plus 2^62 when a target's status is final
// (Succeeded, Failed, Skipped: sealed), and a random write ID in its low
// bits. A fenced UpdateTarget is one UpdateItem on the condition
// "v = :version AND lt <= :token" (the token's highest fence), and sets
// the fence to its own token (sealed if it ends the target); so is a
// fenced UpdateDeployment that leaves the group's slot. A fenced first
// update is one PutItem on the condition that the target has no item,
// refused at once when the packed record's token is above the lease's
// (the record never changes); it sets the fence as an update does (a
// sealed record's first update checks the lease on the head item, a
// transaction). So the fence lives on the items:
//
//   - Takeover. AcquireLease, when the lease it replaces was not released
//     cleanly — it expired, its owner takes it again, or it was released
//     while another handle may still write (below) — stamps, after its
//     lease write and before it returns, the deployment item and every
//     committed target of the deployment that is not sealed with the new
//     token (one UpdateItem each, on the condition lt < the new token,
//     Options.Parallelism at a time); a target with no item yet and an
//     unsealed packed record gets its item, created with the new token (a
//     PutItem on the condition that there is none; when a former holder's
//     first update created it meanwhile, it is stamped as the others), so
//     that a former holder's first update finds an item it may not write.
//     From then on a target write fenced by an earlier lease fails
//     on every target a former holder could write: unfinished ones are
//     stamped, and a sealed one fails every UpdateItem condition, so that
//     its writes — which the executor never makes — check the lease on
//     the head item (a transaction). The batches are read after the lease
//     write, and a PutTargets commits on the condition that the token its
//     items carry is still the deployment's, so no target is made visible
//     that a stamping pass missed; targets staged by a former holder stay
//     invisible.
//   - Writes during the stamping. A former holder's write that lands
//     before its target's stamp lands before AcquireLease returns, so
//     before the new holder reads the deployment: the state it loads is
//     consistent, and none lands after.
//   - Renewal races. A renewal is conditional on the token: one that
//     lands before the takeover makes the lease live (the takeover is
//     refused); one after it fails, and its holder stops. A stamping pass
//     that takes more than a third of the TTL renews the new lease as it
//     goes.
//   - Crash during the stamping. AcquireLease returns an error, and the
//     lease stays with the acquirer until it expires (its owner may take
//     it again at once); since it was not released, the next acquisition
//     stamps again, with its higher token. An acquisition records on the
//     head item that its stamping ended (ls); a lease whose stamping did
//     not end is never released cleanly, should anyone release it.
//   - Release. AcquireLease registers the handle that takes the lease on
//     the head item (lh) in its own write; the first fenced target write
//     of any other handle under the lease registers that handle (one
//     UpdateItem conditional on the lease, which so also checks the
//     lease's owner and token). ReleaseLease first ends its own handle's fenced target
//     writes under the lease — it waits for those on their way and
//     refuses those after — and records the release as clean (lc) when no
//     other handle registered, and no former holder may write (the lease
//     needed no stamping, or finished it): the next acquisition then
//     stamps nothing.
//     When another handle registered, the release is not clean, and the
//     next acquisition stamps; until it does, that other handle's target
//     writes under the released lease still land. Make a lease's fenced
//     views on the handle that releases it, as the Executor does.
//
// The costs: a normal run's fenced target write is one write of one
// item (1 write unit per KB of the target's record), plus one head write
// per handle and lease to register — none for the handle that took the
// lease; a first acquisition, or one after a
// clean release (every Step round, every run after another ended), stamps
// nothing; a takeover reads the deployment's targets once (Query, strongly
// consistent) and writes the deployment item and each unfinished target
// once (creating the items of those that have none), and the head item
// once more when done.
//
// ExpiredLeases reads the sparse "lease" index, which holds only the head
// items of active deployments that were leased, ordered by expiry — never
// the whole table — and reads the candidates again, strongly consistent,
// since a global index may lag.
//
// # Limits
//
// DynamoDB items hold at most 400 KB. The store keeps each record's JSON
// under 380 KiB and refuses a larger one (ErrInvalidArgument); so that a
// chatty hook never makes a target too large, each lifecycle event's
// Diagnostics.Message keeps its first 8 KiB and its LogTail its last 8
// KiB, each with a marker "[dynamostore: N bytes truncated]" where it was
// cut. One PutTargets call takes at most 999,999,999 targets; one
// PutInstances call spans at most 99 groups.
//
// # Errors
//
// Errors are deploy's: the sentinels inside a *deploy.RecordError naming
// the record. Throttling and transient errors are retried by the SDK's
// retryer (configure it on the client); what remains is returned with the
// operation and the record, wrapping the SDK's error, so errors.As finds
// the smithy.APIError. A call whose ctx is done returns ctx's error and
// writes nothing.
package dynamostore

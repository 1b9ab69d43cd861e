package dynamostore

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/fleetdeploy/fleetdeploy/deploy"
)

// slotKey is the key of the active-slot item of a group.
func slotKey(app, group string) item { return key(pSlot+groupKey(app, group), skSlot) }

// activeErr is the error for a group whose slot item old names another
// active deployment.
func activeErr(app, group string, old item) error {
	return &deploy.ActiveDeploymentError{ApplicationName: app, GroupName: group, DeploymentID: str(old, aHolder)}
}

// CreateDeployment implements deploy.DeploymentStore: one
// TransactWriteItems puts the deployment item, its head item (lease and
// target batches) and its entry in the group's list, and — for an active
// deployment — takes the group's active slot on the condition that it is
// free. The database itself so keeps at most one active deployment per
// group, across every process sharing the table.
func (s *Store) CreateDeployment(ctx context.Context, d *deploy.Deployment) error {
	return s.createDeployment(ctx, d, nil)
}

func (s *Store) createDeployment(ctx context.Context, d *deploy.Deployment, f *fence) error {
	const rec = "deployment"
	if err := s.begin(ctx, rec, d.ID); err != nil {
		return err
	}
	switch {
	case d.ApplicationName == "" || d.GroupName == "":
		return invalid(rec, d.ID, "applicationName and deploymentGroupName are required")
	case !d.Status.Valid():
		return invalid(rec, d.ID, "status must be one of %v; got %q", d.Status.Values(), d.Status)
	}
	app, group := d.ApplicationName, d.GroupName
	gkey := app + "/" + group
	c := d.Clone()
	generated := c.ID == ""
	active := c.Status.IsActive()
	for attempt := 0; ; attempt++ {
		if generated {
			c.ID = deploy.NewDeploymentID()
		}
		c.Version = 1
		id := c.ID
		doc, err := encode(rec, id, c)
		if err != nil {
			return err
		}
		idTaken := false
		slot := txItem{failed: func(old item) error {
			switch {
			case old == nil:
				return recErr("deployment group", gkey, deploy.ErrNotFound)
			case str(old, aHolder) == id:
				return recErr(rec, id, deploy.ErrAlreadyExists)
			}
			return activeErr(app, group, old)
		}}
		if active {
			slot.w.Update = &types.Update{
				Key:                       slotKey(app, group),
				UpdateExpression:          aws.String("SET h = :id"),
				ConditionExpression:       aws.String("attribute_exists(pk) AND attribute_not_exists(h)"),
				ExpressionAttributeValues: map[string]types.AttributeValue{":id": sv(id)},
			}
		} else {
			slot.w.ConditionCheck = &types.ConditionCheck{Key: slotKey(app, group), ConditionExpression: aws.String("attribute_exists(pk)")}
		}
		head := map[string]types.AttributeValue{aPK: sv(pDep + id), aSK: sv(skHead), aNonce: sv(randomID(26)), aNBatch: nv(0)}
		if active {
			head[aActive] = sv("1")
		}
		exists := func(item) error {
			if generated {
				idTaken = true
			}
			return recErr(rec, id, deploy.ErrAlreadyExists)
		}
		items := f.with(slot,
			txItem{
				w: types.TransactWriteItem{Put: &types.Put{
					Item: map[string]types.AttributeValue{aPK: sv(pDep + id), aSK: sv(skDep), aDoc: sv(doc), aVersion: nv(1),
						aStatus: sv(string(c.Status)), aApp: sv(app), aGroup: sv(group)},
					ConditionExpression: aws.String("attribute_not_exists(pk)"),
				}},
				failed: exists,
			},
			txItem{
				w:      types.TransactWriteItem{Put: &types.Put{Item: head, ConditionExpression: aws.String("attribute_not_exists(pk)")}},
				failed: exists,
			},
			txItem{w: types.TransactWriteItem{Put: &types.Put{Item: map[string]types.AttributeValue{
				aPK: sv(pMembers + groupKey(app, group)), aSK: sv(timeKey(c.CreateTime) + "#" + id), aDepID: sv(id),
			}}}},
		)
		err = s.transact(ctx, rec, id, "creating it", items)
		if idTaken && attempt < 3 {
			continue
		}
		if err != nil {
			return err
		}
		d.ID, d.Version = id, 1
		return nil
	}
}

// GetDeployment implements deploy.DeploymentStore.
func (s *Store) GetDeployment(ctx context.Context, id string) (*deploy.Deployment, error) {
	const rec = "deployment"
	if err := s.begin(ctx, rec, id); err != nil {
		return nil, err
	}
	if id == "" {
		return nil, recErr(rec, id, deploy.ErrNotFound)
	}
	it, err := s.getItem(ctx, pDep+id, skDep)
	if err != nil {
		return nil, s.opErr(rec, id, "reading it (GetItem)", err)
	}
	if it == nil {
		return nil, recErr(rec, id, deploy.ErrNotFound)
	}
	return decodeDeployment(id, it)
}

func decodeDeployment(id string, it item) (*deploy.Deployment, error) {
	var d deploy.Deployment
	if err := decode(it, &d); err != nil {
		return nil, recErr("deployment", id, err)
	}
	d.Version = num(it, aVersion)
	return &d, nil
}

// UpdateDeployment implements deploy.DeploymentStore. It reads the stored
// deployment (to know whether the group's active slot changes), then
// writes on the condition that its Version is still the one read: an
// UpdateItem, or — when the slot changes — a TransactWriteItems that also
// takes or frees the slot and marks the head item active or not. Fenced
// by the deployment's own lease, an update that leaves the slot is one
// UpdateItem that also checks the item's fence (see
// fencedDeploymentUpdate); fenced by another deployment's lease, a
// transaction with a ConditionCheck of that lease.
func (s *Store) UpdateDeployment(ctx context.Context, d *deploy.Deployment) error {
	return s.updateDeployment(ctx, d, nil)
}

func (s *Store) updateDeployment(ctx context.Context, d *deploy.Deployment, f *fence) error {
	const rec = "deployment"
	id := d.ID
	if err := s.begin(ctx, rec, id); err != nil {
		return err
	}
	if id == "" {
		return recErr(rec, id, deploy.ErrNotFound)
	}
	it, err := s.getItem(ctx, pDep+id, skDep)
	if err != nil {
		return s.opErr(rec, id, "reading it (GetItem)", err)
	}
	if it == nil {
		return recErr(rec, id, deploy.ErrNotFound)
	}
	curVersion, curStatus := num(it, aVersion), deploy.DeploymentStatus(str(it, aStatus))
	app, group := str(it, aApp), str(it, aGroup)
	conflict := func(stored int64) error {
		return recErr(rec, id, fmt.Errorf("%w: stored version %d, update carries %d", deploy.ErrConflict, stored, d.Version))
	}
	switch {
	case curVersion != d.Version:
		if f != nil {
			if err := s.checkFence(ctx, f); err != nil {
				return err
			}
		}
		return conflict(curVersion)
	case d.ApplicationName != app || d.GroupName != group:
		return invalid(rec, id, "it belongs to %s/%s; the update names %s/%s", app, group, d.ApplicationName, d.GroupName)
	case !d.Status.Valid():
		return invalid(rec, id, "status must be one of %v; got %q", d.Status.Values(), d.Status)
	case curStatus.Final() && d.Status != curStatus:
		return recErr(rec, id, fmt.Errorf("%w: status %s cannot change to %s", deploy.ErrDeploymentCompleted, curStatus, d.Status))
	}
	c := d.Clone()
	c.Version = d.Version + 1
	doc, err := encode(rec, id, c)
	if err != nil {
		return err
	}
	wasActive, isActive := curStatus.IsActive(), c.Status.IsActive()
	if f != nil && f.lease.DeploymentID == id && wasActive == isActive {
		if err := s.fencedDeploymentUpdate(ctx, d, doc, c.Version, f); err != nil {
			return err
		}
		d.Version = c.Version
		return nil
	}
	wid := writeID()
	// An update, not a put: the item's fence (lt) stays as it is.
	put := txItem{
		w: types.TransactWriteItem{Update: &types.Update{
			Key:                       key(pDep+id, skDep),
			UpdateExpression:          aws.String("SET d = :d, v = :nv, st = :st, w = :w"),
			ConditionExpression:       aws.String("v = :v"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":d": sv(doc), ":nv": nv(c.Version), ":st": sv(string(c.Status)), ":w": sv(wid), ":v": nv(d.Version)},
		}},
		failed: func(old item) error {
			switch {
			case old == nil:
				return recErr(rec, id, deploy.ErrNotFound)
			case str(old, aWrite) == wid:
				return nil
			}
			return conflict(num(old, aVersion))
		},
	}
	switch {
	case wasActive == isActive && f == nil:
		err = s.condWrite(ctx, rec, id, "updating it", put.w, wid, nil, put.failed)
	case wasActive == isActive:
		err = s.transact(ctx, rec, id, "updating it", f.with(put))
	default:
		// The head item carries the fence's condition itself (a
		// transaction may not both check and update one item).
		headCond, vals := "attribute_exists(pk)", map[string]types.AttributeValue{}
		headFailed := func(item) error { return recErr(rec, id, deploy.ErrNotFound) }
		if f != nil {
			headCond += " AND " + heldCond
			vals = heldVals(f.lease, vals)
			headFailed = func(old item) error { return lost(f.lease, old) }
			if f.lease.DeploymentID != id {
				// Fenced by another deployment's lease: check it apart.
				headCond, vals = "attribute_exists(pk)", map[string]types.AttributeValue{}
			}
		}
		head := types.TransactWriteItem{Update: &types.Update{Key: headKey(id), ConditionExpression: aws.String(headCond)}}
		slot := types.TransactWriteItem{Update: &types.Update{
			Key:                       slotKey(app, group),
			ConditionExpression:       aws.String("attribute_not_exists(h) OR h = :id"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":id": sv(id)},
		}}
		var slotFailed func(item) error
		if isActive {
			vals[":one"] = sv("1")
			head.Update.UpdateExpression = aws.String("SET act = :one")
			slot.Update.UpdateExpression = aws.String("SET h = :id")
			slotFailed = func(old item) error { return activeErr(app, group, old) }
		} else {
			head.Update.UpdateExpression = aws.String("REMOVE act")
			slot.Update.UpdateExpression = aws.String("REMOVE h")
			slotFailed = func(old item) error {
				return recErr(rec, id, fmt.Errorf("dynamostore: group %s/%s's active slot names %s though %s was active; the table was changed outside the store",
					app, group, str(old, aHolder), id))
			}
		}
		if len(vals) > 0 {
			head.Update.ExpressionAttributeValues = vals
		}
		items := []txItem{{w: head, failed: headFailed}, put, {w: slot, failed: slotFailed}}
		if f != nil && f.lease.DeploymentID != id {
			items = f.with(items...)
		}
		err = s.transact(ctx, rec, id, "updating it", items)
	}
	if err != nil {
		return err
	}
	d.Version = c.Version
	return nil
}

// fencedDeploymentUpdate writes doc, at version, as deployment d's item
// under f's lease, the lease of d itself: one UpdateItem on the condition
// that the item holds d.Version and its fence (lt) is at most the
// lease's token, which it sets — the same fence as a target item's,
// never sealed: AcquireLease stamps the deployment item whenever it
// stamps its targets. The write holds the handle's record of the lease and
// registers the handle first, as a target's does.
func (s *Store) fencedDeploymentUpdate(ctx context.Context, d *deploy.Deployment, doc string, version int64, f *fence) error {
	const rec = "deployment"
	id := d.ID
	f.use.mu.RLock()
	defer f.use.mu.RUnlock()
	if f.use.released {
		return s.lostNow(ctx, f.lease)
	}
	if err := s.register(ctx, f.lease, f.use); err != nil {
		return err
	}
	next := fenceOf(f.lease.Token, "", rand.Int64())
	_, err := s.api.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:           &s.table,
		Key:                 key(pDep+id, skDep),
		UpdateExpression:    aws.String("SET d = :d, v = :nv, st = :st, lt = :nt"),
		ConditionExpression: aws.String("v = :v AND (attribute_not_exists(lt) OR lt <= :max)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":d": sv(doc), ":nv": nv(version), ":st": sv(string(d.Status)), ":v": nv(d.Version), ":nt": nv(next), ":max": nv(fenceOf(f.lease.Token, "", writeBits)),
		},
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	old, failed := condFailed(err)
	token, _ := fenceToken(num(old, aToken))
	switch {
	case !failed && err != nil:
		return s.opErr(rec, id, "updating it (UpdateItem)", err)
	case !failed:
		return nil
	case old == nil:
		return recErr(rec, id, deploy.ErrNotFound)
	case num(old, aVersion) == version && num(old, aToken) == next:
		return nil // a retry of a write that was made
	case token > f.lease.Token:
		return s.lostNow(ctx, f.lease)
	}
	if err := s.checkFence(ctx, f); err != nil {
		return err
	}
	return recErr(rec, id, fmt.Errorf("%w: stored version %d, update carries %d", deploy.ErrConflict, num(old, aVersion), d.Version))
}

// checkFence returns the fence's error when its lease is no longer
// current, so that a fenced write refused for another reason reports the
// lost lease first, as the memory store does.
func (s *Store) checkFence(ctx context.Context, f *fence) error {
	it, err := s.getItem(ctx, pDep+f.lease.DeploymentID, skHead)
	if err != nil {
		rec, k := leaseRecord(f.lease.DeploymentID)
		return s.opErr(rec, k, "reading the lease (GetItem)", err)
	}
	cur := leaseOf(f.lease.DeploymentID, it)
	if it == nil || cur.Owner != f.lease.Owner || cur.Token != f.lease.Token || cur.Expires.IsZero() {
		return lost(f.lease, it)
	}
	return nil
}

// ListDeployments implements deploy.DeploymentStore: a Query of the
// group's list of deployments, newest first, then BatchGetItem of the
// deployments.
func (s *Store) ListDeployments(ctx context.Context, applicationName, groupName string, statuses ...deploy.DeploymentStatus) ([]deploy.Deployment, error) {
	const rec = "deployment group"
	gkey := applicationName + "/" + groupName
	if err := s.begin(ctx, rec, gkey); err != nil {
		return nil, err
	}
	if applicationName == "" || groupName == "" {
		return nil, recErr(rec, gkey, deploy.ErrNotFound)
	}
	g, err := s.getItem(ctx, pGroups+applicationName, groupName)
	if err != nil {
		return nil, s.opErr(rec, gkey, "reading it (GetItem)", err)
	}
	if g == nil {
		return nil, recErr(rec, gkey, deploy.ErrNotFound)
	}
	members, err := s.queryAll(ctx, &dynamodb.QueryInput{
		KeyConditionExpression:    aws.String("pk = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": sv(pMembers + groupKey(applicationName, groupName))},
		ConsistentRead:            aws.Bool(true),
		ScanIndexForward:          aws.Bool(false),
	})
	if err != nil {
		return nil, s.opErr(rec, gkey, "listing its deployments (Query)", err)
	}
	keys := make([]item, len(members))
	for i, m := range members {
		keys[i] = key(pDep+str(m, aDepID), skDep)
	}
	items, err := s.batchGet(ctx, keys, "")
	if err != nil {
		return nil, s.opErr(rec, gkey, "reading its deployments", err)
	}
	byID := make(map[string]item, len(items))
	for _, it := range items {
		byID[str(it, aPK)[len(pDep):]] = it
	}
	out := make([]deploy.Deployment, 0, len(members))
	for _, m := range members {
		id := str(m, aDepID)
		it := byID[id]
		if it == nil || len(statuses) > 0 && !slices.Contains(statuses, deploy.DeploymentStatus(str(it, aStatus))) {
			continue
		}
		d, err := decodeDeployment(id, it)
		if err != nil {
			return nil, err
		}
		out = append(out, *d)
	}
	return out, nil
}

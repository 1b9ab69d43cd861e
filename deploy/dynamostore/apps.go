package dynamostore

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/fleetdeploy/fleetdeploy/deploy"
)

// --- applications ---

// CreateApplication implements deploy.ApplicationStore with one
// conditional PutItem.
func (s *Store) CreateApplication(ctx context.Context, a *deploy.Application) error {
	return s.createApplication(ctx, a, nil)
}

func (s *Store) createApplication(ctx context.Context, a *deploy.Application, f *fence) error {
	const rec = "application"
	if err := s.begin(ctx, rec, a.Name); err != nil {
		return err
	}
	if a.Name == "" {
		return invalid(rec, a.Name, "the name is empty")
	}
	c := *a
	c.Version = 1
	doc, err := encode(rec, a.Name, c)
	if err != nil {
		return err
	}
	wid := writeID()
	put := types.TransactWriteItem{Put: &types.Put{
		Item:                map[string]types.AttributeValue{aPK: sv(pApps), aSK: sv(a.Name), aDoc: sv(doc), aVersion: nv(1), aWrite: sv(wid)},
		ConditionExpression: aws.String("attribute_not_exists(pk)"),
	}}
	err = s.condWrite(ctx, rec, a.Name, "creating it", put, wid, f, func(item) error {
		return recErr(rec, a.Name, deploy.ErrAlreadyExists)
	})
	if err != nil {
		return err
	}
	a.Version = 1
	return nil
}

// GetApplication implements deploy.ApplicationStore.
func (s *Store) GetApplication(ctx context.Context, name string) (*deploy.Application, error) {
	const rec = "application"
	if err := s.begin(ctx, rec, name); err != nil {
		return nil, err
	}
	if name == "" {
		return nil, recErr(rec, name, deploy.ErrNotFound)
	}
	it, err := s.getItem(ctx, pApps, name)
	if err != nil {
		return nil, s.opErr(rec, name, "reading it (GetItem)", err)
	}
	if it == nil {
		return nil, recErr(rec, name, deploy.ErrNotFound)
	}
	var a deploy.Application
	if err := decode(it, &a); err != nil {
		return nil, recErr(rec, name, err)
	}
	a.Version = num(it, aVersion)
	return &a, nil
}

// ListApplications implements deploy.ApplicationStore.
func (s *Store) ListApplications(ctx context.Context) ([]deploy.Application, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("deploy: list applications: %w", err)
	}
	if err := s.ready(ctx); err != nil {
		return nil, fmt.Errorf("deploy: list applications: %w", err)
	}
	items, err := s.queryAll(ctx, &dynamodb.QueryInput{
		KeyConditionExpression:    aws.String("pk = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": sv(pApps)},
		ConsistentRead:            aws.Bool(true),
	})
	if err != nil {
		return nil, fmt.Errorf("deploy: list applications: dynamostore: Query on table %q: %w", s.table, err)
	}
	out := make([]deploy.Application, len(items))
	for i, it := range items {
		if err := decode(it, &out[i]); err != nil {
			return nil, fmt.Errorf("deploy: list applications: %w", err)
		}
		out[i].Version = num(it, aVersion)
	}
	return out, nil
}

// --- groups ---

// errIDTaken is createGroup's signal that a generated group ID is taken.
var errIDTaken = errors.New("dynamostore: group ID taken")

// CreateGroup implements deploy.GroupStore: one TransactWriteItems that
// checks the application exists and puts the group, the claim of its ID
// and its active slot, each on the condition that it is new.
func (s *Store) CreateGroup(ctx context.Context, g *deploy.Group) error {
	return s.createGroup(ctx, g, nil)
}

func (s *Store) createGroup(ctx context.Context, g *deploy.Group, f *fence) error {
	const rec = "deployment group"
	gkey := g.ApplicationName + "/" + g.Name
	if err := s.begin(ctx, rec, gkey); err != nil {
		return err
	}
	if g.ApplicationName == "" || g.Name == "" {
		return invalid(rec, gkey, "applicationName and deploymentGroupName are required")
	}
	c := g.Clone()
	generated := c.ID == ""
	for attempt := 0; ; attempt++ {
		if generated {
			c.ID = deploy.NewGroupID()
		}
		c.Version = 1
		doc, err := encode(rec, gkey, c)
		if err != nil {
			return err
		}
		items := f.with(
			txItem{
				w: types.TransactWriteItem{ConditionCheck: &types.ConditionCheck{
					Key: key(pApps, g.ApplicationName), ConditionExpression: aws.String("attribute_exists(pk)"),
				}},
				failed: func(item) error { return recErr("application", g.ApplicationName, deploy.ErrNotFound) },
			},
			txItem{
				w: types.TransactWriteItem{Put: &types.Put{
					Item: map[string]types.AttributeValue{aPK: sv(pGroups + g.ApplicationName), aSK: sv(g.Name), aDoc: sv(doc),
						aVersion: nv(1), aGroupID: sv(c.ID)},
					ConditionExpression: aws.String("attribute_not_exists(pk)"),
				}},
				failed: func(item) error { return recErr(rec, gkey, deploy.ErrAlreadyExists) },
			},
			txItem{
				w: types.TransactWriteItem{Put: &types.Put{
					Item:                map[string]types.AttributeValue{aPK: sv(pGroupID + c.ID), aSK: sv(skGroupID), aApp: sv(g.ApplicationName), aGroup: sv(g.Name)},
					ConditionExpression: aws.String("attribute_not_exists(pk)"),
				}},
				failed: func(item) error {
					if generated {
						return errIDTaken
					}
					return recErr(rec, gkey, fmt.Errorf("ID %s: %w", c.ID, deploy.ErrAlreadyExists))
				},
			},
			txItem{
				w: types.TransactWriteItem{Put: &types.Put{
					Item:                map[string]types.AttributeValue{aPK: sv(pSlot + groupKey(g.ApplicationName, g.Name)), aSK: sv(skSlot), aGroupID: sv(c.ID)},
					ConditionExpression: aws.String("attribute_not_exists(pk)"),
				}},
				failed: func(item) error { return recErr(rec, gkey, deploy.ErrAlreadyExists) },
			},
		)
		err = s.transact(ctx, rec, gkey, "creating it", items)
		if errors.Is(err, errIDTaken) && attempt < 3 {
			continue
		}
		if err != nil {
			return err
		}
		g.ID, g.Version = c.ID, 1
		return nil
	}
}

// GetGroup implements deploy.GroupStore.
func (s *Store) GetGroup(ctx context.Context, applicationName, name string) (*deploy.Group, error) {
	const rec = "deployment group"
	gkey := applicationName + "/" + name
	if err := s.begin(ctx, rec, gkey); err != nil {
		return nil, err
	}
	if applicationName == "" || name == "" {
		return nil, recErr(rec, gkey, deploy.ErrNotFound)
	}
	it, err := s.getItem(ctx, pGroups+applicationName, name)
	if err != nil {
		return nil, s.opErr(rec, gkey, "reading it (GetItem)", err)
	}
	if it == nil {
		return nil, recErr(rec, gkey, deploy.ErrNotFound)
	}
	return decodeGroup(rec, gkey, it)
}

func decodeGroup(rec, gkey string, it item) (*deploy.Group, error) {
	var g deploy.Group
	if err := decode(it, &g); err != nil {
		return nil, recErr(rec, gkey, err)
	}
	g.Version = num(it, aVersion)
	return &g, nil
}

// UpdateGroup implements deploy.GroupStore with one PutItem conditional
// on the stored Version and ID.
func (s *Store) UpdateGroup(ctx context.Context, g *deploy.Group) error {
	return s.updateGroup(ctx, g, nil)
}

func (s *Store) updateGroup(ctx context.Context, g *deploy.Group, f *fence) error {
	const rec = "deployment group"
	gkey := g.ApplicationName + "/" + g.Name
	if err := s.begin(ctx, rec, gkey); err != nil {
		return err
	}
	if g.ApplicationName == "" || g.Name == "" {
		return recErr(rec, gkey, deploy.ErrNotFound)
	}
	c := g.Clone()
	c.Version = g.Version + 1
	doc, err := encode(rec, gkey, c)
	if err != nil {
		return err
	}
	wid := writeID()
	put := types.TransactWriteItem{Put: &types.Put{
		Item: map[string]types.AttributeValue{aPK: sv(pGroups + g.ApplicationName), aSK: sv(g.Name), aDoc: sv(doc),
			aVersion: nv(c.Version), aGroupID: sv(g.ID), aWrite: sv(wid)},
		ConditionExpression:       aws.String("attribute_exists(pk) AND v = :v AND gid = :gid"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":v": nv(g.Version), ":gid": sv(g.ID)},
	}}
	err = s.condWrite(ctx, rec, gkey, "updating it", put, wid, f, func(old item) error {
		switch {
		case old == nil:
			return recErr(rec, gkey, deploy.ErrNotFound)
		case num(old, aVersion) != g.Version:
			return recErr(rec, gkey, fmt.Errorf("%w: stored version %d, update carries %d", deploy.ErrConflict, num(old, aVersion), g.Version))
		}
		return invalid(rec, gkey, "the ID %q differs from the stored %q; a group's ID never changes", g.ID, str(old, aGroupID))
	})
	if err != nil {
		return err
	}
	g.Version = c.Version
	return nil
}

// ListGroups implements deploy.GroupStore.
func (s *Store) ListGroups(ctx context.Context, applicationName string) ([]deploy.Group, error) {
	if _, err := s.GetApplication(ctx, applicationName); err != nil {
		return nil, err
	}
	items, err := s.queryAll(ctx, &dynamodb.QueryInput{
		KeyConditionExpression:    aws.String("pk = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": sv(pGroups + applicationName)},
		ConsistentRead:            aws.Bool(true),
	})
	if err != nil {
		return nil, s.opErr("application", applicationName, "listing its groups (Query)", err)
	}
	out := make([]deploy.Group, len(items))
	for i, it := range items {
		g, err := decodeGroup("deployment group", applicationName+"/"+str(it, aSK), it)
		if err != nil {
			return nil, err
		}
		out[i] = *g
	}
	return out, nil
}

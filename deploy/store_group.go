package deploy

import "context"

// GroupStore keeps deployment groups, under (ApplicationName, Name). The
// store does not validate groups (see Group.Validate) beyond their keys.
type GroupStore interface {
	// CreateGroup stores a new group. When g.ID is empty it assigns a fresh
	// one (see NewGroupID); it sets g.ID and g.Version = 1. It returns
	// ErrAlreadyExists when the application has a group named g.Name or
	// some group has g.ID, ErrNotFound when the application does not exist,
	// and ErrInvalidArgument when g.ApplicationName or g.Name is empty.
	CreateGroup(ctx context.Context, g *Group) error

	// GetGroup returns the named group of the application, or ErrNotFound.
	GetGroup(ctx context.Context, applicationName, name string) (*Group, error)

	// UpdateGroup replaces the stored group with g if g.Version is the
	// stored version, and sets g.Version to the new version. It returns
	// ErrNotFound when there is no such group, ErrConflict when g.Version is
	// not the stored version, and ErrInvalidArgument when g.ID is not the
	// stored group's ID (a group's ID never changes).
	UpdateGroup(ctx context.Context, g *Group) error

	// ListGroups returns the application's groups, by name. It returns
	// ErrNotFound when the application does not exist.
	ListGroups(ctx context.Context, applicationName string) ([]Group, error)
}

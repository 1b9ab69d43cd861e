package deploy

import "context"

// ApplicationStore keeps applications.
type ApplicationStore interface {
	// CreateApplication stores a new application and sets a.Version to 1.
	// It returns ErrAlreadyExists when an application has a.Name, and
	// ErrInvalidArgument when a.Name is empty.
	CreateApplication(ctx context.Context, a *Application) error

	// GetApplication returns the application with the given name, or
	// ErrNotFound.
	GetApplication(ctx context.Context, name string) (*Application, error)

	// ListApplications returns every application, by name.
	ListApplications(ctx context.Context) ([]Application, error)
}

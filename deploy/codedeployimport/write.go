package codedeployimport

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"

	"github.com/fleetdeploy/fleetdeploy/deploy"
)

// Store is the part of a deploy.Store that Write uses; every deploy.Store
// satisfies it.
type Store interface {
	deploy.ApplicationStore
	deploy.GroupStore
}

// WriteOptions configure Write.
type WriteOptions struct {
	// Logger receives one line per record created or updated. Nil means
	// slog.DiscardHandler.
	Logger *slog.Logger
}

// WriteSummary counts what Write did.
type WriteSummary struct {
	ApplicationsCreated, ApplicationsUnchanged    int
	GroupsCreated, GroupsUpdated, GroupsUnchanged int
}

// maxConflicts bounds how often Write retries a group update that lost a
// race with another writer (deploy.ErrConflict).
const maxConflicts = 3

// Write stores res's applications and groups in store, idempotently: a
// record that does not exist is created, one that differs is updated, one
// that matches is left alone — so a second Write of the same Result changes
// nothing (every stored Version stays as it was). Configurations are not
// stored (a deploy.Store keeps none): pass res.Configs to the executor.
//
// A new group keeps CodeDeploy's deployment group ID, its target revision
// and its last deployments. When the group already exists, Write replaces
// the settings CodeDeploy has with CodeDeploy's and keeps what is the
// store's own: ID, Version, TargetRevision, LastSuccessfulDeployment,
// LastAttemptedDeployment, and the fleetdeploy-only defaults
// IgnoreApplicationStopFailures and FileExistsBehavior.
//
// Write stops at the first failure and returns it with what it had done;
// running it again continues where it stopped. An application stored with
// another compute platform is an error (applications cannot be updated),
// as is a new group whose ID another group of the store has.
func Write(ctx context.Context, store Store, res *Result, optFns ...func(*WriteOptions)) (WriteSummary, error) {
	var o WriteOptions
	for _, f := range optFns {
		f(&o)
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	var sum WriteSummary
	if store == nil || res == nil {
		return sum, errors.New("codedeployimport: Write: store and result must not be nil")
	}
	for _, a := range res.Applications {
		created, err := writeApplication(ctx, store, a)
		if err != nil {
			return sum, err
		}
		if created {
			sum.ApplicationsCreated++
			o.Logger.InfoContext(ctx, "codedeployimport: application created", "application", a.Name)
		} else {
			sum.ApplicationsUnchanged++
		}
	}
	for _, g := range res.Groups {
		what, err := writeGroup(ctx, store, g)
		if err != nil {
			return sum, err
		}
		switch what {
		case created:
			sum.GroupsCreated++
		case updated:
			sum.GroupsUpdated++
		default:
			sum.GroupsUnchanged++
		}
		if what != unchanged {
			o.Logger.InfoContext(ctx, "codedeployimport: deployment group "+string(what), "application", g.ApplicationName, "group", g.Name)
		}
	}
	return sum, nil
}

func writeApplication(ctx context.Context, store Store, a deploy.Application) (created bool, err error) {
	stored, err := store.GetApplication(ctx, a.Name)
	if errors.Is(err, deploy.ErrNotFound) {
		a.Version = 0
		err = store.CreateApplication(ctx, &a)
		if err == nil {
			return true, nil
		}
		if !errors.Is(err, deploy.ErrAlreadyExists) {
			return false, fmt.Errorf("codedeployimport: creating application %s: %w", a.Name, err)
		}
		stored, err = store.GetApplication(ctx, a.Name)
	}
	if err != nil {
		return false, fmt.Errorf("codedeployimport: reading application %s: %w", a.Name, err)
	}
	if stored.ComputePlatform != a.ComputePlatform {
		return false, fmt.Errorf("codedeployimport: application %s is stored with compute platform %s, CodeDeploy's is %s; an application's platform cannot change — rename one of them", a.Name, stored.ComputePlatform, a.ComputePlatform)
	}
	return false, nil
}

type outcome string

const (
	created   outcome = "created"
	updated   outcome = "updated"
	unchanged outcome = "unchanged"
)

func writeGroup(ctx context.Context, store Store, g deploy.Group) (outcome, error) {
	subject := "deployment group " + g.ApplicationName + "/" + g.Name
	for attempt := 1; ; attempt++ {
		stored, err := store.GetGroup(ctx, g.ApplicationName, g.Name)
		if errors.Is(err, deploy.ErrNotFound) {
			n := g.Clone()
			n.Version = 0
			err = store.CreateGroup(ctx, &n)
			if err == nil {
				return created, nil
			}
			if !errors.Is(err, deploy.ErrAlreadyExists) {
				return "", fmt.Errorf("codedeployimport: creating %s: %w", subject, err)
			}
			// Created meanwhile (then update it), or its ID is another
			// group's.
			stored, err = store.GetGroup(ctx, g.ApplicationName, g.Name)
			if errors.Is(err, deploy.ErrNotFound) {
				return "", fmt.Errorf("codedeployimport: creating %s: another group of the store has its ID %s (%w); delete that group or clear ID in the imported one to get a fresh ID", subject, g.ID, deploy.ErrAlreadyExists)
			}
		}
		if err != nil {
			return "", fmt.Errorf("codedeployimport: reading %s: %w", subject, err)
		}
		merged := merge(*stored, g)
		same, err := sameSettings(*stored, merged)
		if err != nil {
			return "", fmt.Errorf("codedeployimport: comparing %s: %w", subject, err)
		}
		if same {
			return unchanged, nil
		}
		err = store.UpdateGroup(ctx, &merged)
		if err == nil {
			return updated, nil
		}
		if !errors.Is(err, deploy.ErrConflict) || attempt == maxConflicts {
			return "", fmt.Errorf("codedeployimport: updating %s: %w", subject, err)
		}
	}
}

// merge returns imported with what belongs to the stored group kept.
func merge(stored, imported deploy.Group) deploy.Group {
	m := imported.Clone()
	m.ID = stored.ID
	m.Version = stored.Version
	m.TargetRevision = stored.TargetRevision
	m.LastSuccessfulDeployment = stored.LastSuccessfulDeployment
	m.LastAttemptedDeployment = stored.LastAttemptedDeployment
	m.IgnoreApplicationStopFailures = stored.IgnoreApplicationStopFailures
	m.FileExistsBehavior = stored.FileExistsBehavior
	return m
}

// sameSettings reports whether a and b encode alike, so that an empty
// list and no list count as the same.
func sameSettings(a, b deploy.Group) (bool, error) {
	ja, err := json.Marshal(a)
	if err != nil {
		return false, err
	}
	jb, err := json.Marshal(b)
	if err != nil {
		return false, err
	}
	return bytes.Equal(ja, jb), nil
}

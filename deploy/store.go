package deploy

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"iter"
	"strings"
)

// Sentinel errors. Every error a Store returns for one of these conditions
// wraps the sentinel (usually inside a *RecordError naming the record), so
// callers test with errors.Is. A Store returns ctx's error, wrapped, when
// ctx is done; and any other error for trouble of its own (a network
// failure, a full disk).
var (
	// ErrNotFound: the record asked for does not exist, or one a write
	// refers to (the application of a new group, the group of a new
	// deployment, the deployment of new targets).
	ErrNotFound = errors.New("deploy: not found")

	// ErrConflict: an update carried a Version other than the stored one —
	// someone else wrote the record since it was read. Read it again and
	// retry, or give up.
	ErrConflict = errors.New("deploy: version conflict")

	// ErrAlreadyExists: a create named a record that exists.
	ErrAlreadyExists = errors.New("deploy: already exists")

	// ErrActiveDeployment is matched by *ActiveDeploymentError: the group
	// already has an active deployment (CodeDeploy's
	// DeploymentLimitExceededException).
	ErrActiveDeployment = errors.New("deploy: deployment group already has an active deployment")

	// ErrDeploymentCompleted: the deployment's status is final and may not
	// change (CodeDeploy's DeploymentAlreadyCompletedException).
	ErrDeploymentCompleted = errors.New("deploy: deployment already completed")

	// ErrInvalidArgument: a store method was called with arguments it cannot
	// act on — an empty key, an invalid status, a page token it did not
	// issue, a record whose key fields disagree.
	ErrInvalidArgument = errors.New("deploy: invalid argument")

	// ErrInvalidGroup is matched by every error Group.Validate returns,
	// and by each of its problems.
	ErrInvalidGroup = errors.New("deploy: invalid deployment group")
)

// RecordError names the record an error is about. Stores wrap the
// sentinels in it so that every store's messages read the same:
// "deploy: deployment d-123: not found".
type RecordError struct {
	// Record is the kind of record: "application", "deployment group",
	// "deployment", "target" or "instance record".
	Record string
	// Key identifies it: "web", "web/prod", "d-123", "d-123/i-0abc",
	// "<group ID>/i-0abc".
	Key string
	// Err is the error, usually one of the sentinels or ctx's error.
	Err error
}

// Error returns "deploy: <record> <key>: <err>".
func (e *RecordError) Error() string {
	return "deploy: " + e.Record + " " + e.Key + ": " + strings.TrimPrefix(e.Err.Error(), "deploy: ")
}

// Unwrap returns Err.
func (e *RecordError) Unwrap() error { return e.Err }

// ActiveDeploymentError is returned when a deployment cannot become active
// because another deployment of the same group is (User Guide, "CodeDeploy
// quotas": one deployment at a time per deployment group). It names the
// active deployment and matches ErrActiveDeployment.
type ActiveDeploymentError struct {
	ApplicationName string
	GroupName       string
	// DeploymentID is the group's active deployment.
	DeploymentID string
}

// Error reads like CodeDeploy's message: "The Deployment Group 'prod'
// already has an active Deployment 'd-123'".
func (e *ActiveDeploymentError) Error() string {
	return fmt.Sprintf("deploy: The Deployment Group '%s' already has an active Deployment '%s'", e.GroupName, e.DeploymentID)
}

// Unwrap returns ErrActiveDeployment.
func (e *ActiveDeploymentError) Unwrap() error { return ErrActiveDeployment }

// Store keeps everything the executor knows: applications, deployment
// groups, deployments, the per-target state of each deployment, and each
// group's per-target health. Several executors in several processes may
// share one Store; it is what makes them agree.
//
// Every method takes ctx first and changes nothing when it returns an error
// or when ctx is done when it is called (it then returns ctx's error,
// wrapped). Records go in and come out as copies: a caller never changes
// stored state through a value it passed or got back. Each record carries a
// Version the store maintains; updates are compare-and-swap on it.
//
// NewMemoryStore returns an in-memory Store; package deploytest has the
// conformance suite every Store must pass.
type Store interface {
	ApplicationStore
	GroupStore
	DeploymentStore
	TargetStore
	InstanceStore
	LeaseStore
}

// NewDeploymentID returns a fresh deployment ID in CodeDeploy's form: "d-"
// and 9 random characters of A–Z and 0–9.
func NewDeploymentID() string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	id := make([]byte, 0, 11)
	id = append(id, "d-"...)
	var b [16]byte
	for len(id) < cap(id) {
		_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
		for _, c := range b {
			// Reject the top 4 values so every character is equally likely.
			if c < 252 && len(id) < cap(id) {
				id = append(id, alphabet[c%36])
			}
		}
	}
	return string(id)
}

// NewGroupID returns a fresh deployment group ID in CodeDeploy's form, a
// random (version 4) UUID.
func NewGroupID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// AllTargets returns every target of a deployment in the store's order,
// reading s.ListTargets page by page. It stops at the first error, which it
// yields with a zero DeploymentTarget.
func AllTargets(ctx context.Context, s TargetStore, deploymentID string) iter.Seq2[DeploymentTarget, error] {
	return func(yield func(DeploymentTarget, error) bool) {
		for page, err := range targetPages(ctx, s, deploymentID, 0) {
			if err != nil {
				yield(DeploymentTarget{}, err)
				return
			}
			for _, t := range page {
				if !yield(t, nil) {
					return
				}
			}
		}
	}
}

// targetPages is AllTargets a page at a time: it yields each page
// ListTargets returns, asking for at most limit records a page (≤ 0: the
// store's choice), and stops after the first error.
func targetPages(ctx context.Context, s TargetStore, deploymentID string, limit int) iter.Seq2[[]DeploymentTarget, error] {
	return func(yield func([]DeploymentTarget, error) bool) {
		token := ""
		for {
			page, next, err := s.ListTargets(ctx, deploymentID, token, limit)
			if err != nil {
				yield(nil, err)
				return
			}
			if !yield(page, nil) || next == "" {
				return
			}
			if next == token {
				yield(nil, &RecordError{Record: "deployment", Key: deploymentID,
					Err: fmt.Errorf("%w: ListTargets returned page token %q again", ErrInvalidArgument, next)})
				return
			}
			token = next
		}
	}
}

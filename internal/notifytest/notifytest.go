// Package notifytest is the world the notifier adapters' tests deploy in:
// an application "shop" with a group "prod" of EC2 instances, one trigger
// for every event type, and a real executor on a fake clock that notifies
// through the notifier under test.
package notifytest

import (
	"bytes"
	"context"
	"sync"
	"testing"
	"time"

	"github.com/fleetdeploy/fleetdeploy/config"
	"github.com/fleetdeploy/fleetdeploy/deploy"
	"github.com/fleetdeploy/fleetdeploy/deploy/deploytest"
	"github.com/fleetdeploy/fleetdeploy/revision"
	"github.com/fleetdeploy/fleetdeploy/target"
	"github.com/fleetdeploy/fleetdeploy/target/targettest"
)

// World is a deployment group and an executor that notifies through one
// notifier.
type World struct {
	Ctx   context.Context
	Store *deploy.MemoryStore
	Fleet *targettest.Fleet
	Rec   *deploytest.Recorder
	Exec  *deploy.Executor
	// Group is the group as stored, with its ID.
	Group deploy.Group
}

// NewWorld makes the group "shop/prod" of the EC2 instances ids (tagged
// env=prod), deployed one at a time, with a trigger "everything" for every
// event type to triggerTarget; change, if not nil, edits the group before
// it is stored. The executor notifies through notifier.
func NewWorld(t *testing.T, notifier deploy.Notifier, ids []string, triggerTarget string, change func(*deploy.Group)) *World {
	t.Helper()
	w := &World{Ctx: context.Background(), Store: deploy.NewMemoryStore(), Fleet: targettest.NewFleet(), Rec: &deploytest.Recorder{}}
	for _, id := range ids {
		w.Fleet.Add(target.Target{ID: id, Tags: map[string]string{"env": "prod"}})
	}
	if err := w.Store.CreateApplication(w.Ctx, &deploy.Application{Name: "shop", ComputePlatform: config.Server}); err != nil {
		t.Fatal(err)
	}
	w.Group = deploy.Group{ApplicationName: "shop", Name: "prod", DeploymentConfigName: "CodeDeployDefault.OneAtATime",
		Selector: target.Selector{EC2TagFilters: []target.TagFilter{{Key: "env", Value: "prod", Type: target.KeyAndValue}}},
		TriggerConfigurations: []deploy.TriggerConfig{{TriggerName: "everything", TriggerTargetArn: triggerTarget,
			TriggerEvents: deploy.TriggerEventType("").Values()}}}
	if change != nil {
		change(&w.Group)
	}
	if err := w.Group.Validate(); err != nil {
		t.Fatal(err)
	}
	if err := w.Store.CreateGroup(w.Ctx, &w.Group); err != nil {
		t.Fatal(err)
	}
	x, err := deploy.New(w.Store, w.Fleet.Platform(), func(o *deploy.Options) {
		o.Clock = deploytest.NewFakeClock(time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC))
		o.Observer = w.Rec
		o.Notifiers = []deploy.Notifier{notifier}
	})
	if err != nil {
		t.Fatal(err)
	}
	w.Exec = x
	return w
}

// Deploy creates and runs a deployment of the S3 zip key; before, if set,
// learns its ID before it runs.
func (w *World) Deploy(t *testing.T, key string, before ...func(id string)) *deploy.Deployment {
	t.Helper()
	d, err := w.Exec.CreateDeployment(w.Ctx, deploy.DeploymentInput{ApplicationName: "shop", GroupName: "prod",
		Revision: revision.Location{Type: revision.LocationS3, S3: &revision.S3Location{Bucket: "releases", Key: key, BundleType: revision.BundleZip}}})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range before {
		f(d.ID)
	}
	d, err = w.Exec.Run(w.Ctx, d.ID)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// Targets returns deployment id's target records by target ID.
func (w *World) Targets(t *testing.T, id string) map[string]deploy.DeploymentTarget {
	t.Helper()
	ts, _, err := w.Store.ListTargets(w.Ctx, id, "", 0)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]deploy.DeploymentTarget{}
	for _, x := range ts {
		out[x.TargetID] = x
	}
	return out
}

// LockedBuffer is a bytes.Buffer safe for a logger's concurrent use.
type LockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

// Write appends p.
func (l *LockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// String returns what was written.
func (l *LockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

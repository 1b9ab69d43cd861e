package codedeployimport_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/fleetdeploy/fleetdeploy/config"
	"github.com/fleetdeploy/fleetdeploy/deploy"
	"github.com/fleetdeploy/fleetdeploy/deploy/codedeployimport"
	"github.com/fleetdeploy/fleetdeploy/revision"
)

func importAll(t *testing.T) *codedeployimport.Result {
	t.Helper()
	_, im := fullPeer(t)
	res, err := im.Import(t.Context())
	if err != nil {
		t.Fatalf("Import: %v", err)
	}
	return res
}

// versions returns every stored group's version by application/name.
func versions(t *testing.T, s deploy.Store) map[string]int64 {
	t.Helper()
	out := map[string]int64{}
	apps, err := s.ListApplications(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range apps {
		out[a.Name] = a.Version
		gs, err := s.ListGroups(t.Context(), a.Name)
		if err != nil {
			t.Fatal(err)
		}
		for _, g := range gs {
			out[a.Name+"/"+g.Name] = g.Version
		}
	}
	return out
}

func TestWriteIsIdempotent(t *testing.T) {
	ctx := t.Context()
	res := importAll(t)
	store := deploy.NewMemoryStore()
	sum, err := codedeployimport.Write(ctx, store, res)
	if err != nil || sum != (codedeployimport.WriteSummary{ApplicationsCreated: 3, GroupsCreated: 4}) {
		t.Fatalf("Write = %+v, %v", sum, err)
	}
	for _, want := range res.Groups {
		got, err := store.GetGroup(ctx, want.ApplicationName, want.Name)
		if err != nil {
			t.Fatal(err)
		}
		want.Version = 1
		if a, b := mustJSON(t, *got), mustJSON(t, want); a != b {
			t.Errorf("stored %s\nwant   %s", a, b)
		}
	}
	before := versions(t, store)
	sum, err = codedeployimport.Write(ctx, store, res)
	if err != nil || sum != (codedeployimport.WriteSummary{ApplicationsUnchanged: 3, GroupsUnchanged: 4}) {
		t.Errorf("second Write = %+v, %v; want nothing changed", sum, err)
	}
	if after := versions(t, store); !equalMaps(before, after) {
		t.Errorf("versions changed by the second Write: %v -> %v", before, after)
	}
	// A fresh import of the same CodeDeploy state changes nothing either.
	if sum, err := codedeployimport.Write(ctx, store, importAll(t)); err != nil || sum.GroupsUnchanged != 4 {
		t.Errorf("Write of a new import = %+v, %v", sum, err)
	}
}

func TestWriteUpdatesChangedGroupsAndKeepsTheStoresOwn(t *testing.T) {
	ctx := t.Context()
	store := deploy.NewMemoryStore()
	res := importAll(t)
	if _, err := codedeployimport.Write(ctx, store, res); err != nil {
		t.Fatal(err)
	}
	// fleetdeploy deploys a new revision and sets a group default.
	g, _ := store.GetGroup(ctx, "Shop", "Web")
	newRev := &revision.Location{Type: revision.LocationS3, S3: &revision.S3Location{Bucket: "artifacts", Key: "web-v8.zip", BundleType: revision.BundleZip}}
	g.TargetRevision = newRev
	g.LastSuccessfulDeployment = &deploy.LastDeploymentInfo{DeploymentID: "d-FLEET0001", Status: deploy.StatusSucceeded}
	g.IgnoreApplicationStopFailures = true
	if err := store.UpdateGroup(ctx, g); err != nil {
		t.Fatal(err)
	}
	// Meanwhile CodeDeploy's group changed its configuration and alarms.
	for i := range res.Groups {
		if res.Groups[i].Name == "Web" {
			res.Groups[i].DeploymentConfigName = "CodeDeployDefault.HalfAtATime"
			res.Groups[i].AlarmConfiguration.Alarms = append(res.Groups[i].AlarmConfiguration.Alarms, deploy.Alarm{Name: "Errors"})
		}
	}
	sum, err := codedeployimport.Write(ctx, store, res)
	if err != nil || sum.GroupsUpdated != 1 || sum.GroupsUnchanged != 3 {
		t.Fatalf("Write = %+v, %v; want Web updated", sum, err)
	}
	got, _ := store.GetGroup(ctx, "Shop", "Web")
	if got.DeploymentConfigName != "CodeDeployDefault.HalfAtATime" || len(got.AlarmConfiguration.Alarms) != 2 {
		t.Errorf("CodeDeploy's changes not written: %+v", got)
	}
	if got.TargetRevision.S3.Key != "web-v8.zip" || got.LastSuccessfulDeployment.DeploymentID != "d-FLEET0001" ||
		!got.IgnoreApplicationStopFailures || got.ID != "b2c3d4e5-6789-01ab-cdef-22222EXAMPLE" || got.Version != 3 {
		t.Errorf("the store's own fields were not kept: %+v", got)
	}
	if sum, err := codedeployimport.Write(ctx, store, res); err != nil || sum.GroupsUnchanged != 4 {
		t.Errorf("Write after the update = %+v, %v; want nothing changed", sum, err)
	}
}

func TestWriteRefusesAnApplicationOfAnotherPlatform(t *testing.T) {
	ctx := t.Context()
	store := deploy.NewMemoryStore()
	if err := store.CreateApplication(ctx, &deploy.Application{Name: "Shop", ComputePlatform: config.Lambda}); err != nil {
		t.Fatal(err)
	}
	_, err := codedeployimport.Write(ctx, store, importAll(t))
	if err == nil || !strings.Contains(err.Error(), "application Shop is stored with compute platform Lambda, CodeDeploy's is Server") {
		t.Errorf("Write = %v; want the platform conflict named", err)
	}
}

func TestWriteRefusesAGroupIDTakenByAnotherGroup(t *testing.T) {
	ctx := t.Context()
	store := deploy.NewMemoryStore()
	res := importAll(t)
	if err := store.CreateApplication(ctx, &deploy.Application{Name: "Shop", ComputePlatform: config.Server}); err != nil {
		t.Fatal(err)
	}
	if err := store.CreateGroup(ctx, &deploy.Group{ApplicationName: "Shop", Name: "Other", ID: "b2c3d4e5-6789-01ab-cdef-22222EXAMPLE"}); err != nil {
		t.Fatal(err)
	}
	_, err := codedeployimport.Write(ctx, store, res)
	if !errors.Is(err, deploy.ErrAlreadyExists) || !strings.Contains(err.Error(), "deployment group Shop/Web: another group of the store has its ID") {
		t.Errorf("Write = %v; want the ID collision named", err)
	}
}

// racingStore makes the first UpdateGroup lose to another writer.
type racingStore struct {
	*deploy.MemoryStore
	raced bool
}

func (s *racingStore) UpdateGroup(ctx context.Context, g *deploy.Group) error {
	if !s.raced {
		s.raced = true
		other, err := s.MemoryStore.GetGroup(ctx, g.ApplicationName, g.Name)
		if err != nil {
			return err
		}
		other.FileExistsBehavior = revision.FileExistsRetain
		if err := s.MemoryStore.UpdateGroup(ctx, other); err != nil {
			return err
		}
	}
	return s.MemoryStore.UpdateGroup(ctx, g)
}

func TestWriteRetriesALostUpdate(t *testing.T) {
	ctx := t.Context()
	store := &racingStore{MemoryStore: deploy.NewMemoryStore()}
	res := importAll(t)
	if _, err := codedeployimport.Write(ctx, store, res); err != nil {
		t.Fatal(err)
	}
	res.Groups[3].DeploymentConfigName = "CodeDeployDefault.AllAtOnce" // Shop/Web
	sum, err := codedeployimport.Write(ctx, store, res)
	if err != nil || sum.GroupsUpdated != 1 {
		t.Fatalf("Write = %+v, %v; want the update retried", sum, err)
	}
	got, _ := store.GetGroup(ctx, "Shop", "Web")
	if got.DeploymentConfigName != "CodeDeployDefault.AllAtOnce" || got.FileExistsBehavior != revision.FileExistsRetain {
		t.Errorf("after the race: %+v; want both writers' changes", got)
	}
}

func mustJSON(t *testing.T, g deploy.Group) string {
	t.Helper()
	b, err := g.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func equalMaps(a, b map[string]int64) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

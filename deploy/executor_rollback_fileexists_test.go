package deploy_test

import (
	"testing"

	"github.com/fleetdeploy/fleetdeploy/deploy"
	"github.com/fleetdeploy/fleetdeploy/revision"
	"github.com/fleetdeploy/fleetdeploy/target"
	"github.com/fleetdeploy/fleetdeploy/target/targettest"
)

// A rollback reinstalls the last successful revision with the
// file-exists behavior that revision was installed with — the last
// successful deployment's — not the failed deployment's, and not the
// group's current setting: the failed deployment's setting may be what
// made it fail. Empty (the AppSpec's) is carried as it is.
func TestRollbackUsesLastSuccessfulFileExistsBehavior(t *testing.T) {
	for _, tc := range []struct {
		name          string
		group, v1, v2 revision.FileExistsBehavior
		want          revision.FileExistsBehavior
	}{
		{"v1 overrides", revision.FileExistsRetain, revision.FileExistsOverwrite, revision.FileExistsDisallow, revision.FileExistsOverwrite},
		{"v1 takes the group's", revision.FileExistsRetain, "", revision.FileExistsOverwrite, revision.FileExistsRetain},
		{"v1 takes the AppSpec's", "", "", revision.FileExistsDisallow, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, 2, "CodeDeployDefault.AllAtOnce", func(g *deploy.Group) {
				autoRollback(deploy.AutoRollbackDeploymentFailure)(g)
				g.FileExistsBehavior = tc.group
			})
			first := e.deploy("v1", func(in *deploy.DeploymentInput) { in.FileExistsBehavior = tc.v1 })
			if first.Status != deploy.StatusSucceeded {
				t.Fatalf("v1: %s", first.Status)
			}
			// The group's setting changes after v1: the rollback must not
			// take it either.
			g, err := e.store.GetGroup(e.ctx, "shop", "prod")
			if err != nil {
				t.Fatal(err)
			}
			g.FileExistsBehavior = revision.FileExistsDisallow
			if err := e.store.UpdateGroup(e.ctx, g); err != nil {
				t.Fatal(err)
			}
			e.fleet.Script("", target.Install, targettest.Fail(target.CodeScriptFailed, "file exists").Limit(2))
			d := e.deploy("v2", func(in *deploy.DeploymentInput) { in.FileExistsBehavior = tc.v2 })
			if d.Status != deploy.StatusFailed || d.FileExistsBehavior != tc.v2 {
				t.Fatalf("v2: %s, file exists %q", d.Status, d.FileExistsBehavior)
			}
			rb := e.get(d.RollbackInfo.RollbackDeploymentID)
			if rb.Status != deploy.StatusSucceeded || rb.Creator != target.CreatorRollback {
				t.Fatalf("rollback %s: %s by %s", rb.ID, rb.Status, rb.Creator)
			}
			if rb.FileExistsBehavior != tc.want {
				t.Errorf("rollback file-exists behavior %q; want %q, the last successful deployment's", rb.FileExistsBehavior, tc.want)
			}
		})
	}
}

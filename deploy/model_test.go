package deploy_test

import (
	"context"
	"encoding/json"
	"errors"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/fleetdeploy/fleetdeploy/config"
	"github.com/fleetdeploy/fleetdeploy/deploy"
	"github.com/fleetdeploy/fleetdeploy/deploy/plan"
	"github.com/fleetdeploy/fleetdeploy/health"
	"github.com/fleetdeploy/fleetdeploy/revision"
	"github.com/fleetdeploy/fleetdeploy/target"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// API Reference, DeploymentInfo status (and fleetdeploy's decision on Baking
// and Queued): the statuses, which are final and which hold the group.
func TestDeploymentStatus(t *testing.T) {
	final := map[deploy.DeploymentStatus]bool{deploy.StatusSucceeded: true, deploy.StatusFailed: true, deploy.StatusStopped: true}
	active := map[deploy.DeploymentStatus]bool{deploy.StatusCreated: true, deploy.StatusInProgress: true, deploy.StatusBaking: true, deploy.StatusReady: true}
	got := deploy.DeploymentStatus("").Values()
	want := []string{"Created", "Queued", "InProgress", "Baking", "Succeeded", "Failed", "Stopped", "Ready"}
	if len(got) != len(want) {
		t.Fatalf("Values = %v; want %v", got, want)
	}
	for i, s := range got {
		if string(s) != want[i] {
			t.Errorf("Values()[%d] = %q; want %q", i, s, want[i])
		}
		if s.Final() != final[s] || s.IsActive() != active[s] || !s.Valid() {
			t.Errorf("%s: Final %v, IsActive %v, Valid %v", s, s.Final(), s.IsActive(), s.Valid())
		}
	}
	for _, s := range []deploy.DeploymentStatus{"", "Done", "succeeded"} {
		if s.Valid() || s.Final() || s.IsActive() {
			t.Errorf("%q must be invalid, neither final nor active", s)
		}
	}
}

// API Reference: every enum is spelled as CodeDeploy spells it.
func TestEnumSpellings(t *testing.T) {
	codes := deploy.ErrorCode("").Values()
	if len(codes) != 34 {
		t.Errorf("ErrorCode has %d values; the API Reference's ErrorInformation lists 34", len(codes))
	}
	for _, c := range codes {
		if !regexp.MustCompile(`^[A-Z0-9_]+$`).MatchString(string(c)) {
			t.Errorf("error code %q is not in CodeDeploy's SCREAMING_SNAKE_CASE", c)
		}
	}
	for _, want := range []string{"HEALTH_CONSTRAINTS", "HEALTH_CONSTRAINTS_INVALID", "MANUAL_STOP", "ALARM_ACTIVE", "NO_INSTANCES", "TIMEOUT", "CLOUDFORMATION_STACK_FAILURE", "AUTO_SCALING_IAM_ROLE_PERMISSIONS"} {
		if !slices.Contains(codes, deploy.ErrorCode(want)) {
			t.Errorf("ErrorCode lacks %s", want)
		}
	}
	joined := func(vs ...string) string { return strings.Join(vs, ",") }
	tests := []struct {
		name string
		got  string
		want string
	}{
		{"DeploymentOption", joinValues(deploy.DeploymentOption("").Values()), joined("WITH_TRAFFIC_CONTROL", "WITHOUT_TRAFFIC_CONTROL")},
		{"InstanceAction", joinValues(deploy.InstanceAction("").Values()), joined("TERMINATE", "KEEP_ALIVE")},
		{"DeploymentReadyAction", joinValues(deploy.DeploymentReadyAction("").Values()), joined("CONTINUE_DEPLOYMENT", "STOP_DEPLOYMENT")},
		{"GreenFleetProvisioningAction", joinValues(deploy.GreenFleetProvisioningAction("").Values()), joined("DISCOVER_EXISTING", "COPY_AUTO_SCALING_GROUP")},
		{"AutoRollbackEvent", joinValues(deploy.AutoRollbackEvent("").Values()), joined("DEPLOYMENT_FAILURE", "DEPLOYMENT_STOP_ON_ALARM", "DEPLOYMENT_STOP_ON_REQUEST")},
		{"TriggerEventType", joinValues(deploy.TriggerEventType("").Values()), joined("DeploymentStart", "DeploymentSuccess", "DeploymentFailure",
			"DeploymentStop", "DeploymentRollback", "DeploymentReady", "InstanceStart", "InstanceSuccess", "InstanceFailure", "InstanceReady")},
		{"OutdatedInstancesStrategy", joinValues(deploy.OutdatedInstancesStrategy("").Values()), joined("UPDATE", "IGNORE")},
		{"DeploymentWaitType", joinValues(deploy.DeploymentWaitType("").Values()), joined("READY_WAIT", "TERMINATION_WAIT")},
		{"StopStatus", joinValues(deploy.StopStatus("").Values()), joined("Pending", "Succeeded")},
	}
	for _, tc := range tests {
		if tc.got != tc.want {
			t.Errorf("%s values = %s; want %s", tc.name, tc.got, tc.want)
		}
	}
}

func joinValues[T ~string](vs []T) string {
	s := make([]string, len(vs))
	for i, v := range vs {
		s[i] = string(v)
	}
	return strings.Join(s, ",")
}

func s3(key string) revision.Location {
	return revision.Location{Type: revision.LocationS3, S3: &revision.S3Location{Bucket: "b", Key: key, BundleType: revision.BundleZip}}
}

// User Guide, "CodeDeploy instance health": revision health from the installed
// revision and the group's.
func TestInstanceRecordRevisionHealth(t *testing.T) {
	v1, v2 := s3("v1.zip"), s3("v2.zip")
	tests := []struct {
		name      string
		installed *revision.Location
		group     *revision.Location
		want      health.RevisionHealth
	}{
		{"nothing installed is Unknown", nil, &v1, health.Unknown},
		{"nothing installed, no group revision", nil, nil, health.Unknown},
		{"the group's revision is Current", &v1, &v1, health.Current},
		{"another revision is Old", &v2, &v1, health.Old},
		{"a revision when the group has none is Old", &v1, nil, health.Old},
	}
	for _, tc := range tests {
		r := deploy.InstanceRecord{GroupID: "g", TargetID: "i-1", InstanceHealth: health.Healthy, Revision: tc.installed}
		if got := r.RevisionHealth(tc.group); got != tc.want {
			t.Errorf("%s: RevisionHealth = %s; want %s", tc.name, got, tc.want)
		}
	}
	n := deploy.NewInstanceRecord("g", "i-9")
	if n.InstanceHealth != health.Unhealthy || n.RevisionHealth(&v1) != health.Unknown || n.GroupID != "g" || n.TargetID != "i-9" {
		t.Errorf("NewInstanceRecord = %+v; a target that never received a revision is Unhealthy and Unknown", n)
	}
}

// User Guide, "CodeDeploy instance health": the record after a deployment, by
// outcome and overall result.
func TestInstanceRecordAfterDeployment(t *testing.T) {
	oldRev, newRev, otherRev := s3("v1.zip"), s3("v2.zip"), s3("v0.zip")
	current := deploy.InstanceRecord{GroupID: "g", TargetID: "i", InstanceHealth: health.Healthy, Revision: &oldRev}
	old := deploy.InstanceRecord{GroupID: "g", TargetID: "i", InstanceHealth: health.Healthy, Revision: &otherRev}
	unknown := deploy.InstanceRecord{GroupID: "g", TargetID: "i", InstanceHealth: health.Unhealthy}
	tests := []struct {
		name      string
		rec       deploy.InstanceRecord
		outcome   health.Outcome
		succeeded bool
		// wantHealth is the instance health after; wantRev the revision
		// health relative to the group's revision after the deployment.
		wantHealth health.InstanceHealth
		wantRev    health.RevisionHealth
	}{
		{"success: Current that succeeded stays Current", current, health.OutcomeSucceeded, true, health.Healthy, health.Current},
		{"success: Current that failed becomes Unknown, Unhealthy", current, health.OutcomeFailed, true, health.Unhealthy, health.Unknown},
		{"success: Old that succeeded becomes Current", old, health.OutcomeSucceeded, true, health.Healthy, health.Current},
		{"success: Old that failed stays Old", old, health.OutcomeFailed, true, health.Unhealthy, health.Old},
		{"success: Unknown that succeeded becomes Current, Healthy", unknown, health.OutcomeSucceeded, true, health.Healthy, health.Current},
		{"success: Unknown not attempted stays Unknown, Unhealthy", unknown, health.OutcomeSkipped, true, health.Unhealthy, health.Unknown},
		{"failure: attempted and succeeded is Healthy", old, health.OutcomeSucceeded, false, health.Healthy, health.Old},
		{"failure: attempted and failed is Unhealthy", current, health.OutcomeFailed, false, health.Unhealthy, health.Unknown},
		{"failure: not attempted keeps its health", current, health.OutcomeSkipped, false, health.Healthy, health.Current},
		{"failure: a redeploy of the group's revision that succeeded is Current", unknown, health.OutcomeSucceeded, false, health.Healthy, health.Current},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			deployed := newRev
			if strings.Contains(tc.name, "redeploy") {
				deployed = oldRev
			}
			got, err := tc.rec.AfterDeployment(tc.outcome, deployed, tc.succeeded, &oldRev)
			if err != nil {
				t.Fatal(err)
			}
			groupAfter := &oldRev // a failed or stopped deployment leaves the group's revision unchanged
			if tc.succeeded {
				groupAfter = &deployed
			}
			if got.InstanceHealth != tc.wantHealth || got.RevisionHealth(groupAfter) != tc.wantRev {
				t.Errorf("after: %s/%s; want %s/%s", got.InstanceHealth, got.RevisionHealth(groupAfter), tc.wantHealth, tc.wantRev)
			}
			if got.Revision != nil && tc.rec.Revision != nil && got.Revision == tc.rec.Revision {
				t.Error("the result shares its revision with the input record")
			}
		})
	}
	// The record and health.Update agree (one owner of those rules), and
	// applying the rules twice changes nothing (a finish repeated after a
	// crash).
	for _, rec := range []deploy.InstanceRecord{current, old, unknown} {
		for _, o := range health.Outcome("").Values() {
			for _, succeeded := range []bool{false, true} {
				for _, deployed := range []revision.Location{newRev, oldRev} {
					got, err := rec.AfterDeployment(o, deployed, succeeded, &oldRev)
					if err != nil {
						t.Fatal(err)
					}
					groupAfter := &oldRev
					if succeeded {
						groupAfter = &deployed
					}
					want, _ := health.Update(rec.Health(&oldRev), o, health.Ending{Succeeded: succeeded, Redeploy: deployed.Equal(oldRev)})
					if got.Health(groupAfter) != want {
						t.Errorf("%s/%s, %s, succeeded %v, deployed %s: record says %+v, health.Update %+v",
							rec.InstanceHealth, rec.RevisionHealth(&oldRev), o, succeeded, deployed, got.Health(groupAfter), want)
					}
					again, _ := got.AfterDeployment(o, deployed, succeeded, &oldRev)
					if again.InstanceHealth != got.InstanceHealth || again.RevisionHealth(groupAfter) != got.RevisionHealth(groupAfter) {
						t.Errorf("%s, succeeded %v: applying twice gives %+v, once %+v", o, succeeded, again, got)
					}
				}
			}
		}
	}
	if _, err := unknown.AfterDeployment("Exploded", newRev, true, &oldRev); !errors.Is(err, health.ErrInvalid) {
		t.Errorf("an invalid outcome: %v; want health.ErrInvalid", err)
	}
}

// API Reference, DeploymentOverview: the counters.
func TestOverview(t *testing.T) {
	var o deploy.DeploymentOverview
	o.Add(target.TargetPending, 3)
	o.Move(target.TargetPending, target.TargetInProgress)
	o.Move(target.TargetInProgress, target.TargetSucceeded)
	o.Move(target.TargetPending, target.TargetSkipped)
	o.Move(target.TargetPending, target.TargetReady)
	o.Add(target.TargetUnknown, 5)
	want := deploy.DeploymentOverview{Succeeded: 1, Skipped: 1, Ready: 1}
	if o != want {
		t.Errorf("overview = %+v; want %+v", o, want)
	}
}

func TestDeploymentHelpers(t *testing.T) {
	d := deploy.Deployment{
		ID: "d-1", ApplicationName: "shop", GroupName: "prod", GroupID: "gid", Revision: s3("v1.zip"),
		DeploymentStyle: deploy.DeploymentStyle{DeploymentType: target.InPlace}, Creator: target.CreatorRollback,
		FileExistsBehavior: revision.FileExistsRetain, IgnoreApplicationStopFailures: true,
		LoadBalancerInfo: target.LoadBalancerInfo{ELBInfoList: []target.NameInfo{{Name: "clb"}}},
		Status:           deploy.StatusInProgress, CreateTime: t0, CompleteTime: t0.Add(time.Hour),
	}
	info := d.TargetInfo()
	if info.DeploymentID != "d-1" || info.DeploymentGroupID != "gid" || info.DeploymentGroupName != "prod" ||
		info.Creator != target.CreatorRollback || info.DeploymentType != target.InPlace || !info.IgnoreApplicationStopFailures ||
		info.FileExistsBehavior != revision.FileExistsRetain || !info.Revision.Equal(d.Revision) || len(info.LoadBalancer.ELBInfoList) != 1 {
		t.Errorf("TargetInfo = %+v", info)
	}
	if info.Revision.S3 == d.Revision.S3 || &info.LoadBalancer.ELBInfoList[0] == &d.LoadBalancerInfo.ELBInfoList[0] {
		t.Error("TargetInfo shares memory with the deployment")
	}
	if s := d.Summary(); s.DeploymentID != "d-1" || s.Status != deploy.StatusInProgress || !s.EndTime.IsZero() || !s.CreateTime.Equal(t0) {
		t.Errorf("Summary of a running deployment = %+v; want no end time", s)
	}
	d.Status = deploy.StatusFailed
	if s := d.Summary(); !s.EndTime.Equal(t0.Add(time.Hour)) {
		t.Errorf("Summary of a failed deployment = %+v; want the complete time as end time", s)
	}
	rb := deploy.AutoRollbackConfiguration{Enabled: true, Events: []deploy.AutoRollbackEvent{deploy.AutoRollbackDeploymentFailure}}
	if !rb.RollsBackOn(deploy.AutoRollbackDeploymentFailure) || rb.RollsBackOn(deploy.AutoRollbackDeploymentStopOnAlarm) {
		t.Error("RollsBackOn must follow the event list")
	}
	rb.Enabled = false
	if rb.RollsBackOn(deploy.AutoRollbackDeploymentFailure) {
		t.Error("a disabled configuration never rolls back")
	}
	tg := deploy.DeploymentTarget{TargetID: "i-1", InitialInstanceHealth: health.Healthy, InitialRevisionHealth: health.Old,
		LifecycleEvents: []deploy.LifecycleEventRecord{{Name: target.ApplicationStop}, {Name: target.Install}}}
	if e := tg.Event(target.Install); e == nil || e != &tg.LifecycleEvents[1] {
		t.Error("Event(Install) must point at the record in the slice")
	}
	if tg.Event(target.ValidateService) != nil {
		t.Error("Event of an event without a record must be nil")
	}
	if h := tg.Health(); h.ID != "i-1" || h.Class() != health.ClassOldRevision {
		t.Errorf("Health = %+v", h)
	}
}

// The message names the group and the active deployment as
// CodeDeploy's DeploymentLimitExceededException does.
func TestErrorMessages(t *testing.T) {
	ae := &deploy.ActiveDeploymentError{ApplicationName: "shop", GroupName: "prod", DeploymentID: "d-ABC"}
	if got, want := ae.Error(), "deploy: The Deployment Group 'prod' already has an active Deployment 'd-ABC'"; got != want {
		t.Errorf("Error = %q; want %q", got, want)
	}
	if !errors.Is(ae, deploy.ErrActiveDeployment) {
		t.Error("ActiveDeploymentError must match ErrActiveDeployment")
	}
	re := &deploy.RecordError{Record: "deployment", Key: "d-123", Err: deploy.ErrNotFound}
	if got, want := re.Error(), "deploy: deployment d-123: not found"; got != want {
		t.Errorf("Error = %q; want %q", got, want)
	}
	if !errors.Is(re, deploy.ErrNotFound) {
		t.Error("RecordError must unwrap to its error")
	}
	_, err := deploy.NewMemoryStore().GetDeployment(context.Background(), "d-123")
	if err == nil || err.Error() != "deploy: deployment d-123: not found" {
		t.Errorf("GetDeployment of an unknown ID = %v", err)
	}
}

func TestNewIDs(t *testing.T) {
	seen := map[string]bool{}
	for range 1000 {
		id := deploy.NewDeploymentID()
		if !regexp.MustCompile(`^d-[A-Z0-9]{9}$`).MatchString(id) {
			t.Fatalf("NewDeploymentID = %q; want d- and 9 of A-Z0-9", id)
		}
		if seen[id] {
			t.Fatalf("NewDeploymentID repeated %s", id)
		}
		seen[id] = true
	}
	g := deploy.NewGroupID()
	if !regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`).MatchString(g) {
		t.Errorf("NewGroupID = %q; want a version 4 UUID", g)
	}
}

// JSON names are CodeDeploy's, so persisted state stays readable.
func TestJSONNames(t *testing.T) {
	d := deploy.Deployment{ID: "d-1", ApplicationName: "shop", GroupName: "prod", Status: deploy.StatusFailed,
		ErrorInformation: deploy.ErrorInformation{Code: plan.HealthConstraints},
		RollbackInfo:     deploy.RollbackInfo{RollbackDeploymentID: "d-2"},
		Config:           config.Config{Name: "CodeDeployDefault.AllAtOnce"}}
	b, err := json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{`"deploymentId":"d-1"`, `"applicationName":"shop"`, `"deploymentGroupName":"prod"`, `"status":"Failed"`,
		`"errorInformation":{"code":"HEALTH_CONSTRAINTS"}`, `"rollbackInfo":{"rollbackDeploymentId":"d-2"}`, `"deploymentOverview":`} {
		if !strings.Contains(string(b), key) {
			t.Errorf("JSON lacks %s: %s", key, b)
		}
	}
	for _, absent := range []string{"createTime", "stopRequest", "relatedDeployments", "progress"} {
		if strings.Contains(string(b), absent) {
			t.Errorf("JSON of a deployment without %s mentions it: %s", absent, b)
		}
	}
	var back deploy.Deployment
	if err := json.Unmarshal(b, &back); err != nil || back.ErrorInformation.Code != plan.HealthConstraints || back.ID != "d-1" {
		t.Errorf("JSON round trip = %+v, %v", back, err)
	}
}

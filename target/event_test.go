package target

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/fleetdeploy/fleetdeploy/config"
	"github.com/fleetdeploy/fleetdeploy/revision"
)

func TestScriptableAndReserved(t *testing.T) {
	tests := []struct {
		name       string
		platform   config.ComputePlatform
		scriptable string // as the User Guide's "AppSpec 'hooks' section" lists them
		reserved   string
	}{
		{"Server", config.Server,
			"ApplicationStop BeforeInstall AfterInstall ApplicationStart ValidateService BeforeBlockTraffic AfterBlockTraffic BeforeAllowTraffic AfterAllowTraffic",
			"DownloadBundle Install BlockTraffic AllowTraffic Start End"},
		{"Lambda", config.Lambda,
			"BeforeAllowTraffic AfterAllowTraffic",
			"AllowTraffic Start End"},
		{"ECS", config.ECS,
			"BeforeInstall AfterInstall AfterAllowTestTraffic BeforeAllowTraffic AfterAllowTraffic",
			"Install AllowTestTraffic AllowTraffic Start End"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			scriptable := strings.Fields(tt.scriptable)
			reserved := strings.Fields(tt.reserved)
			for _, e := range LifecycleEvent("").Values() {
				wantS := slices.Contains(scriptable, string(e))
				wantR := slices.Contains(reserved, string(e))
				if got := e.Scriptable(tt.platform); got != wantS {
					t.Errorf("%s.Scriptable = %v, want %v", e, got, wantS)
				}
				if got := e.Reserved(tt.platform); got != wantR {
					t.Errorf("%s.Reserved = %v, want %v", e, got, wantR)
				}
				if got := e.Exists(tt.platform); got != (wantS || wantR) {
					t.Errorf("%s.Exists = %v, want %v", e, got, wantS || wantR)
				}
			}
			var got []string
			for _, e := range ScriptableEvents(tt.platform) {
				got = append(got, string(e))
			}
			if !slices.Equal(got, scriptable) {
				t.Errorf("ScriptableEvents = %v, want %v (the User Guide's order)", got, scriptable)
			}
		})
	}
	if got := ScriptableEvents("Mainframe"); got != nil {
		t.Errorf("ScriptableEvents(unknown) = %v, want nil", got)
	}
	if ApplicationStop.Exists("") || ApplicationStop.Scriptable("") || Start.Exists("Mainframe") {
		t.Error("events exist on an unknown platform")
	}
}

// TestScriptableMatchesAppSpec keeps this package's hookable events and the
// AppSpec parser's (package revision cannot import this one) in step.
func TestScriptableMatchesAppSpec(t *testing.T) {
	for _, p := range config.ComputePlatform("").Values() {
		var ours []string
		for _, e := range ScriptableEvents(p) {
			ours = append(ours, string(e))
		}
		theirs := slices.Sorted(slices.Values(revision.HookEvents(p)))
		slices.Sort(ours)
		if !slices.Equal(ours, theirs) {
			t.Errorf("%s: target.ScriptableEvents %v, revision.HookEvents %v", p, ours, theirs)
		}
	}
}

func TestEventRole(t *testing.T) {
	// User Guide, "AppSpec 'hooks' section": BlockTraffic/AllowTraffic are
	// the service's (load balancer), DownloadBundle/Install the agent's; the
	// same page gives Lambda's and ECS's reserved events.
	tests := []struct {
		platform config.ComputePlatform
		event    LifecycleEvent
		want     Role
	}{
		{config.Server, ApplicationStop, RoleInstaller},
		{config.Server, DownloadBundle, RoleInstaller},
		{config.Server, Install, RoleInstaller},
		{config.Server, ValidateService, RoleInstaller},
		{config.Server, BeforeBlockTraffic, RoleInstaller},
		{config.Server, BlockTraffic, RoleTrafficController},
		{config.Server, AllowTraffic, RoleTrafficController},
		{config.Server, AfterAllowTraffic, RoleInstaller},
		{config.Server, Start, ""},
		{config.Server, AllowTestTraffic, ""},
		{config.Lambda, BeforeAllowTraffic, RoleHookInvoker},
		{config.Lambda, AllowTraffic, RoleTrafficShifter},
		{config.Lambda, End, ""},
		{config.Lambda, Install, ""},
		{config.ECS, BeforeInstall, RoleHookInvoker},
		{config.ECS, Install, RoleProvisioner},
		{config.ECS, AllowTestTraffic, RoleTrafficShifter},
		{config.ECS, AfterAllowTestTraffic, RoleHookInvoker},
		{config.ECS, AllowTraffic, RoleTrafficShifter},
		{config.ECS, ApplicationStop, ""},
	}
	for _, tt := range tests {
		if got := tt.event.Role(tt.platform); got != tt.want {
			t.Errorf("%s.Role(%s) = %q, want %q", tt.event, tt.platform, got, tt.want)
		}
	}
}

// Whose scripts run: the API Reference (CreateDeployment,
// ignoreApplicationStopFailures) for the normal case, the CodeDeploy agent's
// hook_executor.rb for blue/green rollbacks.
func TestScriptSource(t *testing.T) {
	normal := DeploymentInfo{Creator: CreatorUser, DeploymentType: InPlace}
	bgRollback := DeploymentInfo{Creator: CreatorRollback, DeploymentType: BlueGreen}
	tests := []struct {
		name string
		d    DeploymentInfo
		want map[LifecycleEvent]ScriptSource // events not listed: ScriptsCurrent
	}{
		{"in-place", normal, map[LifecycleEvent]ScriptSource{
			ApplicationStop: ScriptsLastSuccessful, BeforeBlockTraffic: ScriptsLastSuccessful, AfterBlockTraffic: ScriptsLastSuccessful}},
		{"in-place rollback is not the B/G variant", DeploymentInfo{Creator: CreatorRollback, DeploymentType: InPlace}, map[LifecycleEvent]ScriptSource{
			ApplicationStop: ScriptsLastSuccessful, BeforeBlockTraffic: ScriptsLastSuccessful, AfterBlockTraffic: ScriptsLastSuccessful}},
		{"blue/green by a user", DeploymentInfo{Creator: CreatorUser, DeploymentType: BlueGreen}, map[LifecycleEvent]ScriptSource{
			ApplicationStop: ScriptsLastSuccessful, BeforeBlockTraffic: ScriptsLastSuccessful, AfterBlockTraffic: ScriptsLastSuccessful}},
		{"blue/green rollback", bgRollback, map[LifecycleEvent]ScriptSource{
			BeforeBlockTraffic: ScriptsMostRecent, AfterBlockTraffic: ScriptsMostRecent,
			ApplicationStop: ScriptsLastSuccessful, BeforeAllowTraffic: ScriptsLastSuccessful, AfterAllowTraffic: ScriptsLastSuccessful}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, e := range LifecycleEvent("").Values() {
				want, ok := tt.want[e]
				if !ok {
					want = ScriptsCurrent
				}
				if got := tt.d.ScriptSource(e); got != want {
					t.Errorf("ScriptSource(%s) = %s, want %s", e, got, want)
				}
			}
		})
	}
	if !bgRollback.BlueGreenRollback() || normal.BlueGreenRollback() {
		t.Error("BlueGreenRollback misclassifies")
	}
}

func TestIgnoreApplicationStopFailures(t *testing.T) {
	// API Reference, CreateDeployment: ignoreApplicationStopFailures covers
	// ApplicationStop, BeforeBlockTraffic and AfterBlockTraffic.
	covered := []LifecycleEvent{ApplicationStop, BeforeBlockTraffic, AfterBlockTraffic}
	on := DeploymentInfo{IgnoreApplicationStopFailures: true}
	off := DeploymentInfo{}
	for _, e := range LifecycleEvent("").Values() {
		want := slices.Contains(covered, e)
		if got := e.StopFailureIgnorable(); got != want {
			t.Errorf("%s.StopFailureIgnorable() = %v, want %v", e, got, want)
		}
		if got := on.IgnoresFailureOf(e); got != want {
			t.Errorf("ignoreApplicationStopFailures=true: IgnoresFailureOf(%s) = %v, want %v", e, got, want)
		}
		if off.IgnoresFailureOf(e) {
			t.Errorf("ignoreApplicationStopFailures=false: IgnoresFailureOf(%s) = true", e)
		}
	}
}

// values checks an enum's Values: spelled as the API Reference lists them,
// no zero value, no duplicates.
func values[E ~string](t *testing.T, name string, got []E, listed string) {
	t.Helper()
	var s []string
	for _, v := range got {
		s = append(s, string(v))
	}
	if want := strings.Fields(listed); !slices.Equal(s, want) {
		t.Errorf("%s.Values() = %v, want %v", name, s, want)
	}
}

func TestEnumValues(t *testing.T) {
	// Spelled as the API Reference spells them (LifecycleEvent, Diagnostics,
	// InstanceTarget, DeploymentInfo, DeploymentStyle, EC2TagFilter,
	// GreenFleetProvisioningOption), and the event names as the User Guide's
	// "AppSpec 'hooks' section" does.
	values(t, "LifecycleEventStatus", LifecycleEventStatus("").Values(), "Pending InProgress Succeeded Failed Skipped Unknown")
	values(t, "LifecycleErrorCode", LifecycleErrorCode("").Values(), "Success ScriptMissing ScriptNotExecutable ScriptTimedOut ScriptFailed UnknownError")
	values(t, "TargetStatus", TargetStatus("").Values(), "Pending InProgress Succeeded Failed Skipped Unknown Ready")
	values(t, "TargetLabel", TargetLabel("").Values(), "Blue Green")
	values(t, "DeploymentType", DeploymentType("").Values(), "IN_PLACE BLUE_GREEN")
	values(t, "DeploymentCreator", DeploymentCreator("").Values(), "user autoscaling codeDeployRollback CodeDeploy CodeDeployAutoUpdate CloudFormation CloudFormationRollback autoscalingTermination")
	values(t, "TagFilterType", TagFilterType("").Values(), "KEY_ONLY VALUE_ONLY KEY_AND_VALUE")
	values(t, "ProvisionAction", ProvisionAction("").Values(), "DISCOVER_EXISTING COPY_AUTO_SCALING_GROUP")
	values(t, "LifecycleEvent", LifecycleEvent("").Values(),
		"Start ApplicationStop DownloadBundle BeforeInstall Install AfterInstall ApplicationStart ValidateService "+
			"BeforeBlockTraffic BlockTraffic AfterBlockTraffic AllowTestTraffic AfterAllowTestTraffic "+
			"BeforeAllowTraffic AllowTraffic AfterAllowTraffic End")
	values(t, "Role", Role("").Values(), "Lister Installer TrafficController TrafficShifter Provisioner HookInvoker ScalingEvents")
	// As EC2 Auto Scaling spells LifecycleTransition and
	// LifecycleActionResult.
	values(t, "ScalingTransition", ScalingTransition("").Values(), "autoscaling:EC2_INSTANCE_LAUNCHING autoscaling:EC2_INSTANCE_TERMINATING")
	values(t, "ScalingResult", ScalingResult("").Values(), "CONTINUE ABANDON")
	values(t, "ScriptSource", ScriptSource("").Values(), "Current LastSuccessful MostRecent")
	values(t, "SequenceKind", SequenceKind("").Values(),
		"InPlace InPlaceRollback BlueGreenOriginal BlueGreenReplacement BlueGreenRollbackOriginal BlueGreenRollbackReplacement AutoScalingLaunch AutoScalingTermination TrafficShift")
}

func TestEventResultValidate(t *testing.T) {
	tests := []struct {
		name   string
		r      EventResult
		fields []string
	}{
		{"succeeded", EventResult{Status: EventSucceeded}, nil},
		{"succeeded with Success", EventResult{Status: EventSucceeded, ErrorCode: CodeSuccess}, nil},
		{"failed", EventResult{Status: EventFailed, ErrorCode: CodeScriptFailed, Message: "exit 1"}, nil},
		{"failed without code", EventResult{Status: EventFailed}, nil},
		{"skipped", EventResult{Status: EventSkipped}, nil},
		{"no status", EventResult{}, []string{"status"}},
		{"pending is not an outcome", EventResult{Status: EventPending}, []string{"status"}},
		{"succeeded with failure code", EventResult{Status: EventSucceeded, ErrorCode: CodeScriptTimedOut}, []string{"errorCode"}},
		{"failed with Success", EventResult{Status: EventFailed, ErrorCode: CodeSuccess}, []string{"errorCode"}},
		{"unknown code", EventResult{Status: EventFailed, ErrorCode: "Oops"}, []string{"errorCode"}},
		{"log tail over 4 KiB (API Reference, Diagnostics)", EventResult{Status: EventFailed, LogTail: strings.Repeat("x", MaxLogTail+1)}, []string{"logTail"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.r.Validate()
			ps := problemsOf(err)
			if tt.fields == nil {
				if err != nil {
					t.Fatalf("Validate() = %v", err)
				}
				return
			}
			if len(ps) == 0 || !errors.Is(err, ErrInvalidRequest) {
				t.Fatalf("Validate() = %v, want a *multierror.Error of *Problem values matching ErrInvalidRequest", err)
			}
			var got []string
			for _, p := range ps {
				got = append(got, p.Field)
			}
			if !slices.Equal(got, tt.fields) {
				t.Errorf("fields = %v, want %v", got, tt.fields)
			}
		})
	}
}

func TestTrimLogTail(t *testing.T) {
	if got := TrimLogTail("short"); got != "short" {
		t.Errorf("TrimLogTail(short) = %q", got)
	}
	s := strings.Repeat("a", 10) + strings.Repeat("é", MaxLogTail) // é is 2 bytes
	got := TrimLogTail(s)
	if len(got) > MaxLogTail || !utf8.ValidString(got) || !strings.HasSuffix(s, got) {
		t.Errorf("TrimLogTail: %d bytes, valid UTF-8 %v, suffix %v", len(got), utf8.ValidString(got), strings.HasSuffix(s, got))
	}
	if len(got) < MaxLogTail-utf8.UTFMax {
		t.Errorf("TrimLogTail dropped too much: %d bytes", len(got))
	}
}

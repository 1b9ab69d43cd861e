package revision

import (
	"errors"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/hashicorp/go-multierror"

	"github.com/fleetdeploy/fleetdeploy/config"
)

// want is one expected problem: its line, its field, and a phrase of its rule.
type want struct {
	line  int
	field string
	rule  string
}

// readAppSpecTestdata returns a file of testdata/appspec.
func readAppSpecTestdata(t testing.TB, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "appspec", name))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// appspecProblemsOf returns the problems of err, failing unless err is a
// *multierror.Error of *AppSpecProblem values matching ErrInvalidAppSpec.
func appspecProblemsOf(t testing.TB, err error) []AppSpecProblem {
	t.Helper()
	if err == nil {
		t.Fatal("got no error, want a list of *AppSpecProblem")
	}
	if !errors.Is(err, ErrInvalidAppSpec) {
		t.Fatalf("error %v does not match ErrInvalidAppSpec", err)
	}
	var list *multierror.Error
	if !errors.As(err, &list) || len(list.Errors) == 0 {
		t.Fatalf("error %T is not a *multierror.Error", err)
	}
	ps := make([]AppSpecProblem, len(list.Errors))
	for i, e := range list.Errors {
		p, ok := e.(*AppSpecProblem)
		if !ok {
			t.Fatalf("element %T %v is not an *AppSpecProblem", e, e)
		}
		ps[i] = *p
	}
	return ps
}

// checkProblems compares problems with wants, in order.
func checkProblems(t testing.TB, got []AppSpecProblem, wants []want) {
	t.Helper()
	ok := len(got) == len(wants)
	for i := 0; ok && i < len(got); i++ {
		w := wants[i]
		ok = got[i].Line == w.line && got[i].Field == w.field && strings.Contains(got[i].Rule, w.rule)
	}
	if !ok {
		var b strings.Builder
		for _, p := range got {
			b.WriteString("\n\t" + p.String())
		}
		t.Fatalf("problems:%s\nwant %+v", b.String(), wants)
	}
}

// checkWarnings compares warnings with wants, matching each want's rule
// against the warning's Agent and Docs.
func checkWarnings(t testing.TB, got []Warning, wants []want) {
	t.Helper()
	ok := len(got) == len(wants)
	for i := 0; ok && i < len(got); i++ {
		w := wants[i]
		ok = got[i].Line == w.line && got[i].Field == w.field && strings.Contains(got[i].rule(), w.rule)
	}
	if !ok {
		var b strings.Builder
		for _, w := range got {
			b.WriteString("\n\t" + w.String())
		}
		t.Fatalf("warnings:%s\nwant %+v", b.String(), wants)
	}
}

// mustParse parses data for platform and fails on error.
func mustParse(t testing.TB, data []byte, platform config.ComputePlatform) *AppSpec {
	t.Helper()
	a, err := ParseAppSpecFile("appspec.yml", data, platform)
	if err != nil {
		t.Fatalf("ParseAppSpecFile: %v", err)
	}
	if err := a.Validate(); err != nil {
		t.Fatalf("Validate of a parsed AppSpec: %v", err)
	}
	return a
}

func mode(m FileMode) *FileMode { return &m }

func TestParseAppSpecServerExample(t *testing.T) {
	// The EC2/On-Premises example of the User Guide's "AppSpec File example".
	// Its two BeforeInstall scripts have no timeout: each defaults to an
	// hour, and defaults do not count towards the per-event total (see
	// ParseAppSpecFile).
	a := mustParse(t, readAppSpecTestdata(t, "server_example.yml"), config.Server)
	wantSpec := &AppSpec{
		Platform: config.Server,
		Version:  "0.0",
		OS:       OSLinux,
		Files: []FileMapping{
			{Source: "Config/config.txt", Destination: "/webapps/Config"},
			{Source: "source", Destination: "/webapps/myApp"},
		},
		Hooks: map[string][]Script{
			"BeforeInstall": {
				{Location: "Scripts/UnzipResourceBundle.sh", Timeout: time.Hour},
				{Location: "Scripts/UnzipDataBundle.sh", Timeout: time.Hour},
			},
			"AfterInstall":     {{Location: "Scripts/RunResourceTests.sh", Timeout: 180 * time.Second, TimeoutSet: true}},
			"ApplicationStart": {{Location: "Scripts/RunFunctionalTests.sh", Timeout: 3600 * time.Second, TimeoutSet: true}},
			"ValidateService":  {{Location: "Scripts/MonitorService.sh", Timeout: 3600 * time.Second, TimeoutSet: true, RunAs: "codedeployuser"}},
		},
	}
	if !reflect.DeepEqual(a, wantSpec) {
		t.Fatalf("got %+v\nwant %+v", a, wantSpec)
	}
	if got := a.ScriptsFor("AfterInstall"); len(got) != 1 || got[0].Timeout != 180*time.Second {
		t.Errorf("ScriptsFor(AfterInstall) = %+v", got)
	}
	if got := a.ScriptsFor("ApplicationStop"); got != nil {
		t.Errorf("ScriptsFor(ApplicationStop) = %+v, want nil", got)
	}
	// ScriptsFor returns a copy.
	a.ScriptsFor("BeforeInstall")[0].Location = "changed"
	if a.Hooks["BeforeInstall"][0].Location != "Scripts/UnzipResourceBundle.sh" {
		t.Error("ScriptsFor returned the AppSpec's own slice")
	}
}

func TestParseAppSpecPermissionsExample(t *testing.T) {
	// The examples of the User Guide's "AppSpec 'permissions' section
	// (EC2/On-Premises deployments only)".
	a := mustParse(t, readAppSpecTestdata(t, "server_permissions.yml"), config.Server)
	if a.FileExistsBehavior != FileExistsOverwrite {
		t.Errorf("FileExistsBehavior = %q, want OVERWRITE", a.FileExistsBehavior)
	}
	want := []Permission{
		{Object: "/tmp/my-app", Pattern: "*-3.txt", Owner: "adm", Group: "wheel", Mode: mode(0o464), Type: []ObjectType{ObjectFile}},
		{Object: "/tmp/my-app/my-folder-1", Pattern: "**", Except: []string{"my-file-4.txt", "my-file-5.txt"}, Owner: "operator", Mode: mode(0o646), Type: []ObjectType{ObjectFile}},
		// pattern left out: "**".
		{Object: "/tmp/my-app/my-folder-2", Pattern: "**", Group: "wheel", Mode: mode(0o564), Type: []ObjectType{ObjectDirectory}},
		{
			Object: "/var/www/html/WordPress", Pattern: "**", Except: []string{"/var/www/html/WordPress/ReadMe.txt"},
			Owner: "bob", Group: "writers", Mode: mode(0o644),
			ACLs:    []string{"u:mary:rw", "u:sam:rw", "m::rw"},
			Context: &SELinuxContext{User: "unconfined_u", Type: "httpd_sys_content_t", Range: "s0"},
			Type:    []ObjectType{ObjectFile},
		},
	}
	if !reflect.DeepEqual(a.Permissions, want) {
		t.Fatalf("permissions:\n got %+v\nwant %+v", a.Permissions, want)
	}
}

func TestParseAppSpecPermissionDefaults(t *testing.T) {
	// "AppSpec 'permissions' section (EC2/On-Premises deployments only)":
	// pattern defaults to "**", type to both; omitted attributes
	// stay unset.
	a := mustParse(t, []byte("version: 0.0\nos: linux\npermissions:\n  - object: /srv/app\n"), config.Server)
	want := []Permission{{Object: "/srv/app", Pattern: "**", Type: []ObjectType{ObjectFile, ObjectDirectory}}}
	if !reflect.DeepEqual(a.Permissions, want) {
		t.Fatalf("got %+v, want %+v", a.Permissions, want)
	}
	if !a.Permissions[0].HasType(ObjectFile) || !a.Permissions[0].HasType(ObjectDirectory) {
		t.Error("HasType is false for a default type")
	}
}

func TestParseAppSpecWindows(t *testing.T) {
	// "AppSpec 'files' section (EC2/On-Premises deployments only)":
	// Windows destinations are fully qualified; "\" separates.
	a := mustParse(t, readAppSpecTestdata(t, "server_windows.yml"), config.Server)
	if a.OS != OSWindows || len(a.Files) != 2 || a.Files[0].Destination != `c:\inetpub\wwwroot` {
		t.Fatalf("got %+v", a)
	}
	if got := a.ScriptsFor("BeforeInstall"); len(got) != 1 || got[0].Location != `scripts\before-install.bat` || got[0].Timeout != 900*time.Second {
		t.Fatalf("BeforeInstall scripts = %+v", got)
	}
}

func TestParseAppSpecLambdaExamples(t *testing.T) {
	// The User Guide's Lambda example ("AppSpec File example") in YAML and in
	// JSON (indented with tabs) with capitalised keys, and the structure
	// page's lowercase keys.
	want := &AppSpec{
		Platform: config.Lambda,
		Version:  "0.0",
		Lambda: &LambdaFunction{
			LogicalName: "myLambdaFunction", Name: "myLambdaFunction", Alias: "myLambdaFunctionAlias",
			CurrentVersion: "1", TargetVersion: "2",
		},
		HookFunctions: map[string]string{
			"BeforeAllowTraffic": "LambdaFunctionToValidateBeforeTrafficShift",
			"AfterAllowTraffic":  "LambdaFunctionToValidateAfterTrafficShift",
		},
	}
	for _, name := range []string{"lambda_example.yaml", "lambda_example.json"} {
		t.Run(name, func(t *testing.T) {
			a := mustParse(t, readAppSpecTestdata(t, name), config.Lambda)
			if !reflect.DeepEqual(a, want) {
				t.Fatalf("got %+v %+v\nwant %+v %+v", a, a.Lambda, want, want.Lambda)
			}
			fn, ok := a.HookFunction("BeforeAllowTraffic")
			if !ok || fn != "LambdaFunctionToValidateBeforeTrafficShift" {
				t.Errorf("HookFunction(BeforeAllowTraffic) = %q, %v", fn, ok)
			}
			if _, ok := a.HookFunction("AllowTraffic"); ok {
				t.Error("HookFunction(AllowTraffic) reports a hook")
			}
		})
	}
	t.Run("lowercase keys", func(t *testing.T) {
		a := mustParse(t, readAppSpecTestdata(t, "lambda_lowercase.yaml"), config.Lambda)
		wantFn := &LambdaFunction{LogicalName: "myLambdaFunction", Name: "myLambdaFunction", Alias: "live", CurrentVersion: "3", TargetVersion: "4"}
		if !reflect.DeepEqual(a.Lambda, wantFn) {
			t.Fatalf("Lambda = %+v, want %+v", a.Lambda, wantFn)
		}
		if a.HookFunctions["AfterAllowTraffic"] != "AfterAllowTrafficHookFunctionName" {
			t.Fatalf("HookFunctions = %v", a.HookFunctions)
		}
	})
}

func TestParseAppSpecECSExamples(t *testing.T) {
	// The ECS structure of the User Guide's "AppSpec 'resources' section
	// (Amazon ECS and AWS Lambda deployments only)", with the optional
	// properties and fleetdeploy's CapacityProviderStrategy.
	a := mustParse(t, readAppSpecTestdata(t, "ecs_example.yaml"), config.ECS)
	wantSvc := &ECSService{
		LogicalName:      "TargetService",
		TaskDefinition:   "arn:aws:ecs:us-east-1:111222333444:task-definition/my-task-definition-family-name:1",
		LoadBalancerInfo: &ECSLoadBalancerInfo{ContainerName: "SampleApplicationName", ContainerPort: 80},
		PlatformVersion:  "LATEST",
		NetworkConfiguration: &ECSNetworkConfiguration{AwsvpcConfiguration: ECSAwsvpcConfiguration{
			Subnets:        []string{"subnet-1234abcd", "subnet-5678abcd"},
			SecurityGroups: []string{"sg-12345678"},
			AssignPublicIP: AssignPublicIPEnabled,
		}},
		CapacityProviderStrategy: []ECSCapacityProviderStrategyItem{
			{Base: 1, CapacityProvider: "FARGATE_SPOT", Weight: 2},
			{Base: 0, CapacityProvider: "FARGATE", Weight: 1},
		},
	}
	if !reflect.DeepEqual(a.ECS, wantSvc) {
		t.Fatalf("ECS = %+v\nwant %+v", a.ECS, wantSvc)
	}
	for _, e := range HookEvents(config.ECS) {
		if fn, ok := a.HookFunction(e); !ok || fn != e+"HookFunctionName" {
			t.Errorf("HookFunction(%s) = %q, %v", e, fn, ok)
		}
	}

	j := mustParse(t, readAppSpecTestdata(t, "ecs_example.json"), config.ECS)
	if j.ECS.NetworkConfiguration != nil || j.ECS.PlatformVersion != "" || j.ECS.LoadBalancerInfo.ContainerPort != 80 {
		t.Fatalf("JSON ECS = %+v", j.ECS)
	}
	if len(j.HookFunctions) != 2 {
		t.Fatalf("JSON hooks = %v", j.HookFunctions)
	}
}

func TestParseAppSpecVersion(t *testing.T) {
	// "AppSpec File structure": the only version is 0.0; the agent refuses the
	// string "0.0" (application_specification.rb), so it draws a warning.
	for _, tc := range []struct {
		name, version string
		ok            bool
		rule          string
	}{
		{"number", "0.0", true, ""},
		{"double-quoted string", `"0.0"`, true, ""},
		{"single-quoted string", `'0.0'`, true, ""},
		{"integer zero compares equal to 0.0", "0", true, ""},
		{"number 0.00", "0.00", true, ""},
		{"number 1.0", "1.0", false, `must be 0.0, the only AppSpec version, not "1.0"`},
		{"number 0.1", "0.1", false, "must be 0.0"},
		{"string 0", `"0"`, false, `not "0"`},
		{"string 0.00", `"0.00"`, false, "must be 0.0"},
		{"missing", "", false, "is required; the only version is 0.0"},
		{"list", "[0.0]", false, "must be 0.0, not a list"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			doc := "os: linux\n"
			if tc.version != "" {
				doc = "version: " + tc.version + "\n" + doc
			}
			a, err := ParseAppSpecFile("appspec.yml", []byte(doc), config.Server)
			if tc.ok {
				if err != nil || a.Version != AppSpecVersion {
					t.Fatalf("got %+v, %v", a, err)
				}
				return
			}
			if a != nil {
				t.Errorf("got an AppSpec with an error")
			}
			checkProblems(t, appspecProblemsOf(t, err), []want{{1, "version", tc.rule}})
		})
	}
	// Lambda and ECS need the version too.
	_, err := ParseAppSpec([]byte("Resources: []\n"), config.Lambda)
	checkProblems(t, appspecProblemsOf(t, err), []want{{1, "version", "is required"}, {1, "Resources", "is required"}})
}

// appspecRuleCase is a document and the problems it must produce (none when
// wants is empty).
type appspecRuleCase struct {
	name     string
	platform config.ComputePlatform
	doc      string
	wants    []want
	warns    []want // warnings of an accepted document (none when empty)
}

func runAppSpecRuleCases(t *testing.T, cases []appspecRuleCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			platform := tc.platform
			if platform == "" {
				platform = config.Server
			}
			a, err := ParseAppSpecFile("appspec.yml", []byte(tc.doc), platform)
			if len(tc.wants) == 0 {
				if err != nil {
					t.Fatalf("unexpected error:\n%v", err)
				}
				if err := a.Validate(); err != nil {
					t.Fatalf("Validate: %v", err)
				}
				checkWarnings(t, a.Warnings, tc.warns)
				return
			}
			if a != nil {
				t.Error("got an AppSpec with an error")
			}
			checkProblems(t, appspecProblemsOf(t, err), tc.wants)
		})
	}
}

// server returns a Server AppSpec with the given lines after version and os.
func server(lines ...string) string {
	return "version: 0.0\nos: linux\n" + strings.Join(lines, "\n") + "\n"
}

// serverOS is server for another os.
func serverOS(osName string, lines ...string) string {
	return "version: 0.0\nos: " + osName + "\n" + strings.Join(lines, "\n") + "\n"
}

func TestAppSpecServerRules(t *testing.T) {
	runAppSpecRuleCases(t, []appspecRuleCase{
		// os ("AppSpec File structure").
		{name: "os linux", doc: server()},
		{name: "os windows", doc: serverOS("windows")},
		{name: "os missing", doc: "version: 0.0\n", wants: []want{{1, "os", "is required: linux or windows"}}},
		{name: "os is lowercase", doc: serverOS("Linux"), wants: []want{{2, "os", `must be linux or windows, not "Linux"`}}},
		{name: "os unknown", doc: serverOS("macos"), wants: []want{{2, "os", "must be linux or windows"}}},

		// files ("AppSpec 'files' section (EC2/On-Premises deployments
		// only)").
		{name: "files entry", doc: server("files:", "  - source: app", "    destination: /srv/app")},
		{name: "source / is the whole bundle", doc: server("files:", "  - source: /", "    destination: /srv/app")},
		{name: "source missing", doc: server("files:", "  - destination: /srv/app"), wants: []want{{4, "files[0].source", "is required"}}},
		{name: "destination missing", doc: server("files:", "  - source: app"), wants: []want{{4, "files[0].destination", "is required"}}},
		{name: "destination empty", doc: server("files:", "  - source: app", "    destination: ''"), wants: []want{{5, "files[0].destination", "is required"}}},
		{name: "destination relative", doc: server("files:", "  - source: app", "    destination: srv/app"), wants: []want{{5, "files[0].destination", `must be an absolute path, not "srv/app"`}}},
		{name: "Windows destination with a drive", doc: serverOS("windows", "files:", `  - source: app`, `    destination: 'd:\app'`)},
		{name: "Windows UNC destination", doc: serverOS("windows", "files:", `  - source: app`, `    destination: '\\server\share'`)},
		{name: "Windows destination without a drive", doc: serverOS("windows", "files:", `  - source: app`, `    destination: '\inetpub'`), wants: []want{{5, "files[0].destination", "must be an absolute path"}}},
		{name: "source climbs out of the bundle", doc: server("files:", "  - source: app/../../etc", "    destination: /srv"), wants: []want{{4, "files[0].source", "must stay inside the bundle"}}},
		{name: "Windows source with a drive", doc: serverOS("windows", "files:", `  - source: 'c:\app'`, `    destination: 'c:\app'`), wants: []want{{4, "files[0].source", "must be relative to the bundle root"}}},
		{name: "Windows source climbs out with backslashes", doc: serverOS("windows", "files:", `  - source: '..\app'`, `    destination: 'c:\app'`), wants: []want{{4, "files[0].source", "must stay inside the bundle"}}},
		{name: "files must be a list", doc: server("files:", "  source: app"), wants: []want{{3, "files", "must be a list, not a mapping"}}},

		// file_exists_behavior ("AppSpec 'files' section (EC2/On-Premises
		// deployments only)").
		{name: "file_exists_behavior RETAIN", doc: server("file_exists_behavior: RETAIN")},
		{name: "file_exists_behavior is upper case", doc: server("file_exists_behavior: overwrite"), wants: []want{{3, "file_exists_behavior", "must be DISALLOW, OVERWRITE or RETAIN"}}},

		// scripts ("AppSpec 'hooks' section"; the agent's script_info.rb).
		{name: "script with timeout and runas", doc: server("hooks:", "  AfterInstall:", "    - location: s.sh", "      timeout: 60", "      runas: app")},
		{name: "timeout as a string of digits", doc: server("hooks:", "  AfterInstall:", "    - location: s.sh", `      timeout: "60"`)},
		{name: "location missing", doc: server("hooks:", "  AfterInstall:", "    - timeout: 60"), wants: []want{{5, "hooks.AfterInstall[0].location", "is required"}}},
		{name: "location empty", doc: server("hooks:", "  AfterInstall:", "    - location: ''"), wants: []want{{5, "hooks.AfterInstall[0].location", "is required"}}},
		{name: "timeout zero", doc: server("hooks:", "  AfterInstall:", "    - location: s.sh", "      timeout: 0"), wants: []want{{6, "hooks.AfterInstall[0].timeout", "must be a positive integer number of seconds"}}},
		{name: "timeout negative", doc: server("hooks:", "  AfterInstall:", "    - location: s.sh", "      timeout: -5"), wants: []want{{6, "hooks.AfterInstall[0].timeout", "must be a positive integer"}}},
		{name: "timeout not a number", doc: server("hooks:", "  AfterInstall:", "    - location: s.sh", "      timeout: soon"), wants: []want{{6, "hooks.AfterInstall[0].timeout", "must be a positive integer"}}},
		{name: "timeout fractional", doc: server("hooks:", "  AfterInstall:", "    - location: s.sh", "      timeout: 1.5"), wants: []want{{6, "hooks.AfterInstall[0].timeout", "must be a positive integer"}}},
		{name: "runas only on Linux", doc: serverOS("windows", "hooks:", "  AfterInstall:", "    - location: s.bat", "      runas: Administrator"), warns: []want{{6, "hooks.AfterInstall[0].runas", "ignores runas on Windows"}}},
		{name: "an event with no scripts", doc: server("hooks:", "  AfterInstall:", "  ApplicationStart: []")},
		{name: "scripts must be a list", doc: server("hooks:", "  AfterInstall:", "    location: s.sh"), wants: []want{{4, "hooks.AfterInstall", "must be a list, not a mapping"}}},

		// per-event timeout total ("AppSpec 'hooks' section": at most 3600 s;
		// the agent runs more, so fleetdeploy warns).
		{name: "timeouts adding up to 3600", doc: server("hooks:", "  AfterInstall:", "    - location: a.sh", "      timeout: 1800", "    - location: b.sh", "      timeout: 1800")},
		{name: "timeouts adding up to 3601", doc: server("hooks:", "  AfterInstall:", "    - location: a.sh", "      timeout: 1800", "    - location: b.sh", "      timeout: 1801"), warns: []want{{4, "hooks.AfterInstall", "the timeouts given for the event's scripts add up to 3601 seconds; the CodeDeploy agent runs each script with its own timeout"}}},
		{name: "timeouts left at the default do not count", doc: server("hooks:", "  AfterInstall:", "    - location: a.sh", "    - location: b.sh", "      timeout: 3600", "    - location: c.sh")},
		{name: "a single timeout above 3600", doc: server("hooks:", "  ValidateService:", "    - location: a.sh", "      timeout: 3601"), warns: []want{{4, "hooks.ValidateService", "add up to 3601 seconds"}}},
		{name: "an enormous timeout", doc: server("hooks:", "  ValidateService:", "    - location: a.sh", "      timeout: 99999999999"), warns: []want{{4, "hooks.ValidateService", "add up to 1073741824 seconds"}}},
		{name: "a timeout beyond int64", doc: server("hooks:", "  ValidateService:", "    - location: a.sh", "      timeout: 99999999999999999999999"), wants: []want{{6, "hooks.ValidateService[0].timeout", "must be a positive integer"}}},

		// event names ("AppSpec 'hooks' section"; the agent refuses unknown
		// lifecycle events).
		{name: "every scriptable Server event", doc: server("hooks:",
			"  BeforeBlockTraffic: [{location: a, timeout: 1}]", "  AfterBlockTraffic: [{location: a, timeout: 1}]",
			"  ApplicationStop: [{location: a, timeout: 1}]", "  BeforeInstall: [{location: a, timeout: 1}]",
			"  AfterInstall: [{location: a, timeout: 1}]", "  ApplicationStart: [{location: a, timeout: 1}]",
			"  ValidateService: [{location: a, timeout: 1}]", "  BeforeAllowTraffic: [{location: a, timeout: 1}]",
			"  AfterAllowTraffic: [{location: a, timeout: 1}]")},
		{name: "unknown event", doc: server("hooks:", "  AfterInstal:", "    - location: a.sh"), wants: []want{{4, "hooks.AfterInstal", `unknown lifecycle event "AfterInstal"`}}},
		{name: "Server event names are case-sensitive", doc: server("hooks:", "  afterinstall:", "    - location: a.sh"), wants: []want{{4, "hooks.afterinstall", "unknown lifecycle event"}}},
		{name: "DownloadBundle is reserved", doc: server("hooks:", "  DownloadBundle:", "    - location: a.sh"), wants: []want{{4, "hooks.DownloadBundle", "DownloadBundle is performed by CodeDeploy and cannot have hooks"}}},
		{name: "AllowTraffic is reserved", doc: server("hooks:", "  AllowTraffic: []"), wants: []want{{4, "hooks.AllowTraffic", "performed by CodeDeploy"}}},
		{name: "hooks must be a mapping", doc: server("hooks:", "  - AfterInstall"), wants: []want{{3, "hooks", "must be a mapping of lifecycle event names"}}},

		// permissions ("AppSpec 'permissions' section (EC2/On-Premises
		// deployments only)"; the agent's linux_permission_info.rb).
		{name: "permissions need os linux", doc: serverOS("windows", "permissions:", "  - object: 'c:\\app'"), wants: []want{{3, "permissions", "only allowed with os: linux"}}},
		{name: "object required", doc: server("permissions:", "  - owner: app"), wants: []want{{4, "permissions[0].object", "is required"}}},
		{name: "type file and directory", doc: server("permissions:", "  - object: /srv", "    type: [file, directory]")},
		{name: "type unknown", doc: server("permissions:", "  - object: /srv", "    type: [file, link]"), wants: []want{{5, "permissions[0].type[1]", `must be file or directory, not "link"`}}},
		{name: "type empty", doc: server("permissions:", "  - object: /srv", "    type: []"), wants: []want{{5, "permissions[0].type", "must list file, directory or both"}}},
		{name: "type must be a list", doc: server("permissions:", "  - object: /srv", "    type: file"), wants: []want{{5, "permissions[0].type", "must be a list, not a string"}}},
		{name: "pattern empty", doc: server("permissions:", "  - object: /srv", "    pattern: ''"), wants: []want{{5, "permissions[0].pattern", "must not be empty"}}},

		// mode (the agent's mode_info.rb).
		{name: "mode 644", doc: server("permissions:", "  - object: /srv", "    mode: 644")},
		{name: "mode 4755", doc: server("permissions:", "  - object: /srv", "    mode: 4755")},
		{name: "mode of one digit", doc: server("permissions:", "  - object: /srv", "    mode: 7")},
		{name: "mode quoted", doc: server("permissions:", "  - object: /srv", `    mode: "0640"`)},
		{name: "mode of five digits", doc: server("permissions:", "  - object: /srv", "    mode: 12345"), wants: []want{{5, "permissions[0].mode", "must be 1 to 4 octal digits"}}},
		{name: "mode with an 8", doc: server("permissions:", "  - object: /srv", "    mode: 648"), wants: []want{{5, "permissions[0].mode", "must be 1 to 4 octal digits"}}},
		{name: "mode symbolic", doc: server("permissions:", "  - object: /srv", "    mode: u+rw"), wants: []want{{5, "permissions[0].mode", "octal digits"}}},

		// acls (the agent's ace_info.rb).
		{name: "named, default, mask and octal entries", doc: server("permissions:", "  - object: /srv",
			"    acls: ['u:bob:rw', 'g:dev:r-x', 'd:u:bob:rwx', 'default:group::5', 'm::rw', 'bob:r', 'd:o::r']")},
		{name: "unnamed user entry", doc: server("permissions:", "  - object: /srv", "    acls: ['u::rw']"), wants: []want{{5, "permissions[0].acls[0]", "use mode"}}},
		{name: "named mask entry", doc: server("permissions:", "  - object: /srv", "    acls: ['m:bob:rw']"), wants: []want{{5, "permissions[0].acls[0]", "a mask entry takes no name"}}},
		{name: "named other entry", doc: server("permissions:", "  - object: /srv", "    acls: ['o:bob:r']"), wants: []want{{5, "permissions[0].acls[0]", "an other entry takes no name"}}},
		{name: "bad permission letter", doc: server("permissions:", "  - object: /srv", "    acls: ['u:bob:rwz']"), wants: []want{{5, "permissions[0].acls[0]", `'z' is neither`}}},
		{name: "unknown tag", doc: server("permissions:", "  - object: /srv", "    acls: ['x:bob:rw']"), wants: []want{{5, "permissions[0].acls[0]", "must be [d[efault]:]"}}},
		{name: "default twice", doc: server("permissions:", "  - object: /srv", "    acls: ['d:d:bob:rw']"), wants: []want{{5, "permissions[0].acls[0]", "must be [d[efault]:]"}}},
		{name: "too many parts", doc: server("permissions:", "  - object: /srv", "    acls: ['d:u:bob:rw:x']"), wants: []want{{5, "permissions[0].acls[0]", "must be [d[efault]:]"}}},
		{name: "no colon", doc: server("permissions:", "  - object: /srv", "    acls: ['rw']"), wants: []want{{5, "permissions[0].acls[0]", "must be [d[efault]:]"}}},

		// SELinux context (the agent's context_info.rb and range_info.rb).
		{name: "context with user, type and MLS range", doc: server("permissions:", "  - object: /srv",
			"    context: {user: system_u, type: httpd_sys_content_t, range: 's0-s15:c0.c255,c300'}")},
		{name: "the agent's name key for the user", doc: server("permissions:", "  - object: /srv", "    context: {name: system_u, type: t}")},
		{name: "user and name together", doc: server("permissions:", "  - object: /srv", "    context:", "      user: a", "      name: b", "      type: t"), wants: []want{{7, "permissions[0].context.name", "not both"}}},
		{name: "context without type", doc: server("permissions:", "  - object: /srv", "    context:", "      user: system_u"), wants: []want{{5, "permissions[0].context.type", "is required when context is given"}}},
		{name: "range high below low", doc: server("permissions:", "  - object: /srv", "    context: {type: t, range: s2-s1}"), wants: []want{{5, "permissions[0].context.range", "high sensitivity must not be below"}}},
		{name: "category above 1023", doc: server("permissions:", "  - object: /srv", "    context: {type: t, range: 's0:c1024'}"), wants: []want{{5, "permissions[0].context.range", "c0 to c1023"}}},
		{name: "descending category range", doc: server("permissions:", "  - object: /srv", "    context: {type: t, range: 's0:c5.c3'}"), wants: []want{{5, "permissions[0].context.range", "must not end below its start"}}},
		{name: "duplicate category", doc: server("permissions:", "  - object: /srv", "    context: {type: t, range: 's0:c0.c3,c2'}"), wants: []want{{5, "permissions[0].context.range", "c2 is given twice"}}},
		{name: "range without s", doc: server("permissions:", "  - object: /srv", "    context: {type: t, range: '0'}"), wants: []want{{5, "permissions[0].context.range", "must be an SELinux range"}}},
		{name: "empty category list", doc: server("permissions:", "  - object: /srv", "    context: {type: t, range: 's0:'}"), wants: []want{{5, "permissions[0].context.range", "must be an SELinux range"}}},

		// script locations: relative to the bundle root ("AppSpec 'hooks'
		// section"), as the agent joins them.
		{name: "location with a harmless ..", doc: server("hooks:", "  AfterInstall:", "    - location: ./scripts/../run.sh")},
		{name: "absolute location", doc: server("hooks:", "  AfterInstall:", "    - location: /scripts/run.sh")},
		{name: "location climbing out", doc: server("hooks:", "  AfterInstall:", "    - location: scripts/../../run.sh"), wants: []want{{5, "hooks.AfterInstall[0].location", "must stay inside the bundle"}}},
		{name: "location is the bundle root", doc: server("hooks:", "  AfterInstall:", "    - location: ."), wants: []want{{5, "hooks.AfterInstall[0].location", "must name a script file"}}},
		{name: "Windows absolute location", doc: serverOS("windows", "hooks:", "  AfterInstall:", `    - location: 'c:\run.bat'`), wants: []want{{5, "hooks.AfterInstall[0].location", "must be relative"}}},
		{name: "Windows location climbing out", doc: serverOS("windows", "hooks:", "  AfterInstall:", `    - location: '..\run.bat'`), wants: []want{{5, "hooks.AfterInstall[0].location", "must stay inside"}}},
	})
}

func TestAppSpecUnknownKeys(t *testing.T) {
	// Unknown keys: the agent ignores them in a Server AppSpec, so they draw
	// a warning; in Lambda and ECS AppSpecs they are an error naming the key
	// and the keys allowed there. Server keys are case-sensitive.
	runAppSpecRuleCases(t, []appspecRuleCase{
		{name: "top level", doc: server("foo: bar"), warns: []want{{3, "foo", `the CodeDeploy agent ignores the key "foo", and so does fleetdeploy; the AppSpec reference allows only version, os, files, file_exists_behavior, permissions, hooks at the top level`}}},
		{name: "top level, wrong case", doc: "Version: 0.0\nos: linux\n", wants: []want{
			{1, "Version", `unknown key "Version"; allowed keys: version, os, files, file_exists_behavior, permissions, hooks (keys are case-sensitive: did you mean "version"?)`},
			{1, "version", "is required"},
		}},
		{name: "files entry", doc: server("files:", "  - source: a", "    dest: /srv"), wants: []want{
			{4, "files[0].destination", "is required"},
		}},
		{name: "files entry, accepted", doc: server("files:", "  - source: a", "    dest: /srv", "    destination: /srv"), warns: []want{
			{5, "files[0].dest", `ignores the key "dest"`},
		}},
		{name: "script (the agent's undocumented sudo)", doc: server("hooks:", "  AfterInstall:", "    - location: a.sh", "      sudo: true"), warns: []want{{6, "hooks.AfterInstall[0].sudo", `the CodeDeploy agent runs the script through sudo`}}},
		{name: "permission", doc: server("permissions:", "  - object: /srv", "    recursive: true"), warns: []want{{5, "permissions[0].recursive", "allows only object, pattern, except, owner, group, mode, acls, context, type here"}}},
		{name: "context", doc: server("permissions:", "  - object: /srv", "    context: {type: t, role: r}"), warns: []want{{5, "permissions[0].context.role", "allows only user, name, type, range here"}}},
		{name: "Resources in a Server AppSpec", doc: server("Resources: []"), warns: []want{{3, "Resources", `ignores the key "Resources"`}}},
		{name: "Lambda top level", platform: config.Lambda, doc: string(readAppSpecTestdata(t, "lambda_example.yaml")) + "os: linux\n", wants: []want{{15, "os", `unknown key "os"; allowed keys: version, Resources, Hooks`}}},
		{name: "Lambda properties", platform: config.Lambda, doc: strings.Replace(string(readAppSpecTestdata(t, "lambda_example.yaml")), "        Alias:", "        Description: x\n        Alias:", 1), wants: []want{{9, "Resources[0].Properties.Description", "allowed keys: Name, Alias, CurrentVersion, TargetVersion"}}},
		{name: "ECS properties (anything but CapacityProviderStrategy)", platform: config.ECS, doc: strings.Replace(string(readAppSpecTestdata(t, "ecs_example.yaml")), "        PlatformVersion:", "        LaunchType: FARGATE\n        PlatformVersion:", 1), wants: []want{{14, "Resources[0].Properties.LaunchType", "allowed keys: TaskDefinition, LoadBalancerInfo, PlatformVersion, NetworkConfiguration, CapacityProviderStrategy"}}},
	})
}

// lambdaDoc returns a Lambda AppSpec with the given properties and hooks.
func lambdaDoc(props string, hooks ...string) string {
	doc := "version: 0.0\nResources:\n  - fn:\n      Type: AWS::Lambda::Function\n      Properties:\n" + props
	if len(hooks) > 0 {
		doc += "Hooks:\n" + strings.Join(hooks, "\n") + "\n"
	}
	return doc
}

const lambdaProps = "        Name: f\n        Alias: live\n        CurrentVersion: 1\n        TargetVersion: 2\n"

func TestAppSpecLambdaRules(t *testing.T) {
	// "AppSpec 'resources' section (Amazon ECS and AWS Lambda deployments
	// only)", "AppSpec 'hooks' section"; keys match without regard to case.
	runAppSpecRuleCases(t, []appspecRuleCase{
		{name: "versions as numbers", platform: config.Lambda, doc: lambdaDoc(lambdaProps)},
		{name: "keys in any case", platform: config.Lambda, doc: "VERSION: 0.0\nresources:\n  - fn:\n      TYPE: AWS::Lambda::Function\n      properties:\n        NAME: f\n        alias: live\n        currentVersion: 1\n        TargetVersion: 2\nhooks:\n  - beforeallowtraffic: check\n"},
		{name: "properties required", platform: config.Lambda, doc: lambdaDoc(""), wants: []want{
			{5, "Resources[0].Properties.Name", "is required"},
			{5, "Resources[0].Properties.Alias", "is required"},
			{5, "Resources[0].Properties.CurrentVersion", "is required"},
			{5, "Resources[0].Properties.TargetVersion", "is required"},
		}},
		{name: "versions are positive integers", platform: config.Lambda, doc: lambdaDoc("        Name: f\n        Alias: live\n        CurrentVersion: 0\n        TargetVersion: $LATEST\n"), wants: []want{
			{8, "Resources[0].Properties.CurrentVersion", `must be a positive integer function version, not "0"`},
			{9, "Resources[0].Properties.TargetVersion", `not "$LATEST"`},
		}},
		{name: "resource type", platform: config.Lambda, doc: strings.Replace(lambdaDoc(lambdaProps), "AWS::Lambda::Function", "AWS::Lambda::Alias", 1), wants: []want{{4, "Resources[0].Type", `must be AWS::Lambda::Function, not "AWS::Lambda::Alias"`}}},
		{name: "resource type missing", platform: config.Lambda, doc: strings.Replace(lambdaDoc(lambdaProps), "      Type: AWS::Lambda::Function\n", "", 1), wants: []want{{3, "Resources[0].Type", "is required: AWS::Lambda::Function"}}},
		{name: "one resource", platform: config.Lambda, doc: lambdaDoc(lambdaProps) + "  - other:\n      Type: AWS::Lambda::Function\n", wants: []want{{10, "Resources[1]", "only one resource is allowed"}}},
		{name: "resource needs a logical name", platform: config.Lambda, doc: "version: 0.0\nResources:\n  - Type: AWS::Lambda::Function\n    Properties: {}\n", wants: []want{{3, "Resources[0]", "must be a single entry"}}},
		{name: "resources required", platform: config.Lambda, doc: "version: 0.0\n", wants: []want{{1, "Resources", "is required: one AWS::Lambda::Function resource"}}},
		{name: "both hooks", platform: config.Lambda, doc: lambdaDoc(lambdaProps, "  - BeforeAllowTraffic: a", "  - AfterAllowTraffic: b")},
		{name: "both hooks in one item", platform: config.Lambda, doc: lambdaDoc(lambdaProps, "  - BeforeAllowTraffic: a", "    AfterAllowTraffic: b")},
		{name: "AllowTraffic is performed by CodeDeploy", platform: config.Lambda, doc: lambdaDoc(lambdaProps, "  - AllowTraffic: a"), wants: []want{{11, "Hooks.AllowTraffic", "performed by CodeDeploy"}}},
		{name: "ECS-only event", platform: config.Lambda, doc: lambdaDoc(lambdaProps, "  - BeforeInstall: a"), wants: []want{{11, "Hooks.BeforeInstall", "the events a Lambda AppSpec can hook are BeforeAllowTraffic, AfterAllowTraffic"}}},
		{name: "hook listed twice", platform: config.Lambda, doc: lambdaDoc(lambdaProps, "  - BeforeAllowTraffic: a", "  - beforeAllowTraffic: b"), wants: []want{{12, "Hooks.BeforeAllowTraffic", "listed twice (first at line 11)"}}},
		{name: "hook function with a space", platform: config.Lambda, doc: lambdaDoc(lambdaProps, `  - BeforeAllowTraffic: "check\tit"`), wants: []want{{11, "Hooks.BeforeAllowTraffic", `must be a Lambda function name or ARN, which has no spaces or control characters; got "check\tit"`}}},
		{name: "hook without function", platform: config.Lambda, doc: lambdaDoc(lambdaProps, "  - BeforeAllowTraffic:"), wants: []want{{11, "Hooks.BeforeAllowTraffic", "must name the Lambda function"}}},
		{name: "hooks are a list", platform: config.Lambda, doc: lambdaDoc(lambdaProps, "  BeforeAllowTraffic: a"), wants: []want{{10, "Hooks", "must be a list, not a mapping"}}},
		{name: "hook items are mappings", platform: config.Lambda, doc: lambdaDoc(lambdaProps, "  - BeforeAllowTraffic"), wants: []want{{11, "Hooks[0]", "must be a mapping of a lifecycle event name to a Lambda function name, not a string"}}},
	})
}

// ecsDoc returns an ECS AppSpec with the given properties.
func ecsDoc(props string) string {
	return "version: 0.0\nResources:\n  - TargetService:\n      Type: AWS::ECS::Service\n      Properties:\n" + props
}

const ecsBase = "        TaskDefinition: td\n        LoadBalancerInfo:\n          ContainerName: web\n          ContainerPort: 8080\n"

func TestAppSpecECSRules(t *testing.T) {
	// "AppSpec 'resources' section (Amazon ECS and AWS Lambda deployments
	// only)", "AppSpec 'hooks' section", and fleetdeploy's
	// CapacityProviderStrategy.
	runAppSpecRuleCases(t, []appspecRuleCase{
		{name: "required properties only", platform: config.ECS, doc: ecsDoc(ecsBase)},
		{name: "a pipeline placeholder task definition", platform: config.ECS, doc: ecsDoc(strings.Replace(ecsBase, "td", "<TASK_DEFINITION>", 1))},
		{name: "required properties missing", platform: config.ECS, doc: ecsDoc("        PlatformVersion: LATEST\n"), wants: []want{
			{5, "Resources[0].Properties.TaskDefinition", "is required"},
			{5, "Resources[0].Properties.LoadBalancerInfo", "is required"},
		}},
		{name: "container name and port required", platform: config.ECS, doc: ecsDoc("        TaskDefinition: td\n        LoadBalancerInfo: {}\n"), wants: []want{
			{7, "Resources[0].Properties.LoadBalancerInfo.ContainerName", "is required"},
			{7, "Resources[0].Properties.LoadBalancerInfo.ContainerPort", "is required"},
		}},
		{name: "port out of range", platform: config.ECS, doc: ecsDoc(strings.Replace(ecsBase, "8080", "70000", 1)), wants: []want{{9, "Resources[0].Properties.LoadBalancerInfo.ContainerPort", "must be a port number"}}},
		{name: "port not a number", platform: config.ECS, doc: ecsDoc(strings.Replace(ecsBase, "8080", "http", 1)), wants: []want{{9, "Resources[0].Properties.LoadBalancerInfo.ContainerPort", "must be a port number"}}},
		{name: "network configuration complete", platform: config.ECS, doc: ecsDoc(ecsBase + "        NetworkConfiguration:\n          AwsvpcConfiguration:\n            Subnets: [a]\n            SecurityGroups: [b]\n            AssignPublicIp: DISABLED\n")},
		{name: "network configuration all or none", platform: config.ECS, doc: ecsDoc(ecsBase + "        NetworkConfiguration:\n          AwsvpcConfiguration:\n            Subnets: [a]\n"), wants: []want{{11, "Resources[0].Properties.NetworkConfiguration.AwsvpcConfiguration", "missing: SecurityGroups, AssignPublicIp"}}},
		{name: "network configuration without awsvpc", platform: config.ECS, doc: ecsDoc(ecsBase + "        NetworkConfiguration: {}\n"), wants: []want{{10, "Resources[0].Properties.NetworkConfiguration.AwsvpcConfiguration", "missing: Subnets, SecurityGroups, AssignPublicIp"}}},
		{name: "AssignPublicIp value", platform: config.ECS, doc: ecsDoc(ecsBase + "        NetworkConfiguration:\n          AwsvpcConfiguration:\n            Subnets: [a]\n            SecurityGroups: [b]\n            AssignPublicIp: yes\n"), wants: []want{{14, "Resources[0].Properties.NetworkConfiguration.AwsvpcConfiguration.AssignPublicIp", "must be ENABLED or DISABLED"}}},
		{name: "capacity provider strategy bounds", platform: config.ECS, doc: ecsDoc(ecsBase + "        CapacityProviderStrategy:\n          - {CapacityProvider: A, Base: 100001, Weight: 1001}\n          - {Base: 0}\n"), wants: []want{
			{11, "Resources[0].Properties.CapacityProviderStrategy[0].Base", "from 0 to 100000"},
			{11, "Resources[0].Properties.CapacityProviderStrategy[0].Weight", "from 0 to 1000"},
			{12, "Resources[0].Properties.CapacityProviderStrategy[1].CapacityProvider", "is required"},
		}},
		{name: "one base only, no duplicate provider", platform: config.ECS, doc: ecsDoc(ecsBase + "        CapacityProviderStrategy:\n          - {CapacityProvider: A, Base: 1}\n          - {CapacityProvider: A, Base: 2}\n"), wants: []want{
			{12, "Resources[0].Properties.CapacityProviderStrategy[1].CapacityProvider", "already listed"},
			{12, "Resources[0].Properties.CapacityProviderStrategy[1].Base", "only one capacity provider may have a Base above 0"},
		}},
		{name: "Install is performed by CodeDeploy", platform: config.ECS, doc: ecsDoc(ecsBase) + "Hooks:\n  - install: f\n", wants: []want{{11, "Hooks.install", "Install is performed by CodeDeploy"}}},
		{name: "AllowTestTraffic is performed by CodeDeploy", platform: config.ECS, doc: ecsDoc(ecsBase) + "Hooks:\n  - AllowTestTraffic: f\n", wants: []want{{11, "Hooks.AllowTestTraffic", "performed by CodeDeploy"}}},
		{name: "resource type", platform: config.ECS, doc: strings.Replace(ecsDoc(ecsBase), "AWS::ECS::Service", "AWS::Lambda::Function", 1), wants: []want{{4, "Resources[0].Type", "must be AWS::ECS::Service"}}},
	})
}

func TestAppSpecYAMLStructure(t *testing.T) {
	runAppSpecRuleCases(t, []appspecRuleCase{
		{name: "empty", doc: "", wants: []want{{0, "", "the AppSpec is empty"}}},
		{name: "only a comment", doc: "# nothing\n", wants: []want{{0, "", "the AppSpec is empty"}}},
		{name: "null document", doc: "~\n", wants: []want{{1, "", "the AppSpec is empty"}}},
		{name: "not a mapping", doc: "- version: 0.0\n", wants: []want{{1, "", "must be a YAML mapping (or JSON object), not a list"}}},
		// Parser errors name the line where the unfinished construct starts.
		{name: "unclosed flow sequence", doc: "version: 0.0\nos: [linux\n", wants: []want{{2, "", "invalid YAML: did not find expected ',' or ']'"}}},
		// ... except on line 1, where the library gives the line the
		// problem was found on.
		{name: "unclosed flow sequence on line 1", doc: "os: [linux\nversion: 0.0\n", wants: []want{{2, "", "invalid YAML: did not find expected ',' or ']'"}}},
		{name: "bad indentation", doc: "version: 0.0\nos: linux\nfiles:\n  - source: a\n   destination: b\n", wants: []want{{4, "", "invalid YAML: did not find expected '-' indicator"}}},
		{name: "tab indentation", doc: "version: 0.0\nos: linux\nfiles:\n\t- source: a\n", wants: []want{{4, "", "invalid YAML: found character that cannot start any token"}}},
		{name: "unterminated quote", doc: "version: 0.0\nos: linux\nfoo: 'bar\n", wants: []want{{3, "", "invalid YAML"}}},
		{name: "two documents", doc: "version: 0.0\nos: linux\n---\nversion: 0.0\n", wants: []want{{4, "", "only one YAML document is allowed"}}},
		{name: "a trailing document marker", doc: "version: 0.0\nos: linux\n---\n"},
		{name: "duplicate key", doc: "version: 0.0\nos: linux\nos: windows\n", wants: []want{{3, "os", `duplicate key "os" (first given at line 2)`}}},
		{name: "duplicate key, Lambda case-insensitive", platform: config.Lambda, doc: lambdaDoc(lambdaProps) + "resources: []\n", wants: []want{{10, "resources", "duplicate key"}}},
		{name: "non-string key", doc: "version: 0.0\nos: linux\n[a]: b\n", wants: []want{{3, "", "keys must be strings, not a list"}}},
		{name: "anchors and aliases", doc: server("hooks:", "  AfterInstall: &s", "    - location: a.sh", "      timeout: 60", "  ApplicationStart: *s")},
		{name: "merge key", doc: server("files:", "  - &f {source: a, destination: /srv}", "  - <<: *f", "    source: b")},
		{name: "merge key to a scalar", doc: server("files:", "  - <<: x", "    source: b", "    destination: /srv"), wants: []want{{4, "files[0]", "a merge key (<<) must refer to a mapping"}}},
		{name: "merge keys from a list", doc: server("files:", "  - <<: [{source: a}, {destination: /srv, source: c}]")},
	})
	t.Run("unknown platform", func(t *testing.T) {
		_, err := ParseAppSpec([]byte(server()), "EC2")
		checkProblems(t, appspecProblemsOf(t, err), []want{{0, "", `unknown compute platform "EC2"`}})
	})
}

func TestParseAppSpecAliasExpansion(t *testing.T) {
	// Aliases are followed, but a document cannot make the parser visit
	// more than a few nodes per byte.
	t.Run("billion laughs", func(t *testing.T) {
		// The nested lists are reported, not expanded.
		_, err := ParseAppSpec([]byte(billionLaughs()), config.Server)
		ps := appspecProblemsOf(t, err)
		if len(ps) != 10 || ps[9].Field != "permissions[0].except[9]" || ps[9].Rule != "must be a string, not a list" {
			t.Fatalf("problems: %v", err)
		}
	})
	t.Run("quadratic", func(t *testing.T) {
		// 3000 permissions, each excepting the same 3000 names: 9 million
		// nodes from 40 KB.
		var b strings.Builder
		b.WriteString("version: 0.0\nos: linux\nnames: &e [")
		for i := 0; i < 3000; i++ {
			b.WriteString("a,")
		}
		b.WriteString("a]\nperm: &p {object: /srv, except: *e}\npermissions: [")
		for i := 0; i < 3000; i++ {
			b.WriteString("*p,")
		}
		b.WriteString("*p]\n")
		_, err := ParseAppSpec([]byte(b.String()), config.Server)
		ps := appspecProblemsOf(t, err)
		var found bool
		for _, p := range ps {
			found = found || p.Rule == "the AppSpec is too large once its aliases are expanded"
		}
		if !found {
			t.Fatalf("problems: %v", err)
		}
	})
}

// billionLaughs returns a document whose aliases expand to 10^9 nodes.
func billionLaughs() string {
	var b strings.Builder
	b.WriteString("version: 0.0\nos: linux\nx0: &x0 [a, a, a, a, a, a, a, a, a, a]\n")
	for i := 1; i <= 9; i++ {
		b.WriteString("x" + string(rune('0'+i)) + ": &x" + string(rune('0'+i)) + " [")
		for j := 0; j < 10; j++ {
			if j > 0 {
				b.WriteString(", ")
			}
			b.WriteString("*x" + string(rune('0'+i-1)))
		}
		b.WriteString("]\n")
	}
	b.WriteString("permissions:\n  - object: /srv\n    except: *x9\n")
	return b.String()
}

func TestParseAppSpecReportsEveryProblem(t *testing.T) {
	// Every problem is reported at once, sorted by line, one per line of
	// the error message.
	doc := `version: 1.0
os: linux
files:
  - source: app
    destination: srv/app
hooks:
  AfterInstall:
    - location: /scripts/a.sh
      timeout: 0
  Install:
    - location: b.sh
permissions:
  - mode: 999
extra: true
`
	_, err := ParseAppSpecFile("appspec.yml", []byte(doc), config.Server)
	wantMsg := `revision: invalid AppSpec: 6 problems:
  appspec.yml:1: version: must be 0.0, the only AppSpec version, not "1.0"
  appspec.yml:5: files[0].destination: must be an absolute path, not "srv/app"
  appspec.yml:9: hooks.AfterInstall[0].timeout: must be a positive integer number of seconds
  appspec.yml:10: hooks.Install: Install is performed by CodeDeploy and cannot have hooks; the events that can are BeforeBlockTraffic, AfterBlockTraffic, ApplicationStop, BeforeInstall, AfterInstall, ApplicationStart, ValidateService, BeforeAllowTraffic, AfterAllowTraffic
  appspec.yml:13: permissions[0].mode: must be 1 to 4 octal digits (0-7), such as 644 or 4755
  appspec.yml:13: permissions[0].object: is required: the file or directory the permissions apply to`
	if err == nil || err.Error() != wantMsg {
		t.Fatalf("error:\n%v\nwant:\n%s", err, wantMsg)
	}
	ps := appspecProblemsOf(t, err)
	for _, p := range ps {
		if p.File != "appspec.yml" {
			t.Errorf("problem %v names file %q", p, p.File)
		}
	}
}

func TestParseAppSpecCapsProblems(t *testing.T) {
	var b strings.Builder
	b.WriteString("version: 0.0\nos: linux\nfiles:\n")
	for i := 0; i < 1500; i++ {
		b.WriteString("  - {}\n")
	}
	_, err := ParseAppSpec([]byte(b.String()), config.Server)
	ps := appspecProblemsOf(t, err)
	if len(ps) != maxAppSpecProblems+1 {
		t.Fatalf("got %d problems, want %d", len(ps), maxAppSpecProblems+1)
	}
	// 1500 entries, each missing source and destination.
	if last := ps[len(ps)-1]; last.Rule != "2900 more problems not shown" || last.File != "appspec" {
		t.Fatalf("last problem = %+v", last)
	}
	if ps[0].Line != 4 || ps[0].Field != "files[0].source" {
		t.Fatalf("first problem = %+v", ps[0])
	}
}

func TestAppSpecValidate(t *testing.T) {
	valid := &AppSpec{
		Platform: config.Server,
		Version:  AppSpecVersion,
		OS:       OSLinux,
		Files:    []FileMapping{{Source: "app", Destination: "/srv/app"}},
		Permissions: []Permission{{
			Object: "/srv/app", Pattern: "**", Mode: mode(0o4755), Type: []ObjectType{ObjectDirectory},
		}},
		Hooks: map[string][]Script{"ApplicationStart": {{Location: "start.sh", Timeout: DefaultScriptTimeout}}},
	}
	if err := valid.Validate(); err != nil {
		t.Fatalf("Validate: %v", err)
	}
	for _, tc := range []struct {
		name   string
		change func(a *AppSpec)
		wants  []want
	}{
		{"zero timeout (no default in Go)", func(a *AppSpec) { a.Hooks["ApplicationStart"][0].Timeout = 0 }, []want{{0, "hooks.ApplicationStart[0].timeout", "must be a positive integer number of seconds"}}},
		{"fractional timeout", func(a *AppSpec) { a.Hooks["ApplicationStart"][0].Timeout = 1500 * time.Millisecond }, []want{{0, "hooks.ApplicationStart[0].timeout", "positive integer number of seconds"}}},
		{"mode beyond 7777", func(a *AppSpec) { a.Permissions[0].Mode = mode(0o17777) }, []want{{0, "permissions[0].mode", "octal digits"}}},
		{"empty pattern", func(a *AppSpec) { a.Permissions[0].Pattern = "" }, []want{{0, "permissions[0].pattern", "must not be empty"}}},
		{"Lambda part on a Server AppSpec", func(a *AppSpec) { a.Lambda = &LambdaFunction{} }, []want{{0, "Resources", "is not allowed in a Server AppSpec"}}},
		{"Server part on a Lambda AppSpec", func(a *AppSpec) {
			a.Platform = config.Lambda
			a.Lambda = &LambdaFunction{Name: "f", Alias: "a", CurrentVersion: "1", TargetVersion: "2"}
		}, []want{
			{0, "files", "is not allowed in a Lambda AppSpec"},
			{0, "hooks", "is not allowed in a Lambda AppSpec"},
			{0, "os", "is not allowed in a Lambda AppSpec"},
			{0, "permissions", "is not allowed in a Lambda AppSpec"},
		}},
		{"ECS resource on a Lambda AppSpec", func(a *AppSpec) {
			*a = AppSpec{Platform: config.Lambda, Version: AppSpecVersion, ECS: &ECSService{}}
		}, []want{{0, "Resources", "holds an ECS service"}}},
		{"no platform", func(a *AppSpec) { a.Platform = "" }, []want{{0, "", `unknown compute platform ""`}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := mustParse(t, []byte(server("files: [{source: app, destination: /srv/app}]",
				"permissions: [{object: /srv/app, mode: 4755, type: [directory]}]",
				"hooks: {ApplicationStart: [{location: start.sh}]}")), config.Server)
			if !reflect.DeepEqual(a, valid) {
				t.Fatalf("parsed %+v, want %+v", a, valid)
			}
			tc.change(a)
			err := a.Validate()
			ps := appspecProblemsOf(t, err)
			slices.SortStableFunc(ps, func(x, y AppSpecProblem) int { return strings.Compare(x.Field, y.Field) })
			checkProblems(t, ps, tc.wants)
		})
	}
	var nilSpec *AppSpec
	if err := nilSpec.Validate(); !errors.Is(err, ErrInvalidAppSpec) {
		t.Fatalf("nil Validate = %v", err)
	}
}

func TestAppSpecValidateFileObjects(t *testing.T) {
	// The agent's linux_permission_info.rb: a permission whose object is a
	// file needs pattern "**", no except, and no default ACL entry; only
	// Install can tell.
	a := mustParse(t, []byte(server(
		"permissions:",
		"  - object: /srv/app/config.ini",
		"    pattern: '*.ini'",
		"    except: [x]",
		"    acls: ['d:u:bob:rw', 'u:bob:r']",
		"  - object: /srv/app/run.sh",
		"    mode: 755",
		"  - object: /srv/app/data.db",
		"    pattern: '*.db'",
		"    type: [directory]",
		"  - object: /srv/app",
		"    pattern: '*.sh'",
	)), config.Server)
	isFile := func(o string) bool { return strings.Contains(path.Base(o), ".") }
	ps := appspecProblemsOf(t, a.ValidateFileObjects(isFile))
	checkProblems(t, ps, []want{
		{0, "permissions[0].pattern", `must be "**" (or left out) because object "/srv/app/config.ini" is a file`},
		{0, "permissions[0].except", "must be empty"},
		{0, "permissions[0].acls[0]", "a default ACL entry applies to directories only"},
	})
	if err := a.ValidateFileObjects(func(string) bool { return false }); err != nil {
		t.Fatalf("no file objects: %v", err)
	}
}

func TestAppSpecParseACLEntry(t *testing.T) {
	// The agent's ace_info.rb.
	for _, tc := range []struct {
		in, out string
	}{
		{"u:bob:rw", "user:bob:rw-"},
		{"user:bob:rwx", "user:bob:rwx"},
		{"bob:r", "user:bob:r--"},
		{"g:dev:5", "group:dev:r-x"},
		{"group:dev:-w-", "group:dev:-w-"},
		{"m::rw", "mask::rw-"},
		{"mask::7", "mask::rwx"},
		{"m:r", "mask::r--"},
		{"d:u:bob:rw", "default:user:bob:rw-"},
		{"default:user::rwx", "default:user::rwx"},
		{"d:bob:r", "default:user:bob:r--"},
		{"d:o::0", "default:other::---"},
		{"d:other:r", "default:other::r--"},
		{"u:m:rw", "user:mask:rw-"},
	} {
		e, err := ParseACLEntry(tc.in)
		if err != nil || e.String() != tc.out {
			t.Errorf("ParseACLEntry(%q) = %v, %v; want %s", tc.in, e, err, tc.out)
		}
	}
	for _, in := range []string{"", "rw", "u::rw", "g::r", ":r", "o:bob:r", "m:bob:rw", "x:bob:r", "d:d:bob:r", "a:u:bob:r", "u:bob:8", "u:bob:rwX", "1:2:3:4:5"} {
		if _, err := ParseACLEntry(in); !errors.Is(err, ErrInvalidAppSpec) {
			t.Errorf("ParseACLEntry(%q) = %v, want ErrInvalidAppSpec", in, err)
		}
	}
	if _, err := ParseACLEntry("u::rw"); err == nil || !strings.HasPrefix(err.Error(), `revision: invalid AppSpec: acl entry "u::rw": `) {
		t.Errorf("error = %v", err)
	}
}

func TestAppSpecFileMode(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want FileMode
		str  string
		fs   fs.FileMode
	}{
		{"644", 0o644, "0644", 0o644},
		{"0644", 0o644, "0644", 0o644},
		{"7", 0o7, "0007", 0o7},
		{"4755", 0o4755, "4755", fs.ModeSetuid | 0o755},
		{"2750", 0o2750, "2750", fs.ModeSetgid | 0o750},
		{"1777", 0o1777, "1777", fs.ModeSticky | 0o777},
	} {
		m, ok := parseFileMode(tc.in)
		if !ok || m != tc.want || m.String() != tc.str || m.FSMode() != tc.fs {
			t.Errorf("parseFileMode(%q) = %v (%s, %v), %v", tc.in, uint32(m), m, m.FSMode(), ok)
		}
	}
	for _, in := range []string{"", "12345", "8", "64a", "-644", "0o644"} {
		if _, ok := parseFileMode(in); ok {
			t.Errorf("parseFileMode(%q) accepted", in)
		}
	}
}

func TestAppSpecHookEvents(t *testing.T) {
	for _, tc := range []struct {
		platform config.ComputePlatform
		want     []string
	}{
		// "AppSpec 'hooks' section" (Server: the in-place order with a load
		// balancer).
		{config.Server, []string{"BeforeBlockTraffic", "AfterBlockTraffic", "ApplicationStop", "BeforeInstall", "AfterInstall", "ApplicationStart", "ValidateService", "BeforeAllowTraffic", "AfterAllowTraffic"}},
		{config.Lambda, []string{"BeforeAllowTraffic", "AfterAllowTraffic"}},
		{config.ECS, []string{"BeforeInstall", "AfterInstall", "AfterAllowTestTraffic", "BeforeAllowTraffic", "AfterAllowTraffic"}},
		{"Other", nil},
	} {
		got := HookEvents(tc.platform)
		if !slices.Equal(got, tc.want) {
			t.Errorf("HookEvents(%s) = %v, want %v", tc.platform, got, tc.want)
		}
		if len(got) > 0 {
			got[0] = "changed"
			if HookEvents(tc.platform)[0] == "changed" {
				t.Errorf("HookEvents(%s) returns shared state", tc.platform)
			}
		}
	}
}

func TestAppSpecEnumValues(t *testing.T) {
	if got := (OS("")).Values(); !slices.Equal(got, []OS{"linux", "windows"}) {
		t.Errorf("OS values = %v", got)
	}
	if got := FileExistsBehavior("").Values(); !slices.Equal(got, []FileExistsBehavior{"DISALLOW", "OVERWRITE", "RETAIN"}) {
		t.Errorf("FileExistsBehavior values = %v", got)
	}
	if got := ObjectType("").Values(); !slices.Equal(got, []ObjectType{"file", "directory"}) {
		t.Errorf("ObjectType values = %v", got)
	}
	if got := AssignPublicIP("").Values(); !slices.Equal(got, []AssignPublicIP{"ENABLED", "DISABLED"}) {
		t.Errorf("AssignPublicIP values = %v", got)
	}
	if got := ACLTag("").Values(); !slices.Equal(got, []ACLTag{"user", "group", "mask", "other"}) {
		t.Errorf("ACLTag values = %v", got)
	}
}

func TestAppSpecFind(t *testing.T) {
	file := func(s string) *fstest.MapFile { return &fstest.MapFile{Data: []byte(s)} }
	for _, tc := range []struct {
		name     string
		fsys     fstest.MapFS
		platform config.ComputePlatform
		wantName string
		wantData string
		wantErr  error
	}{
		// The agent looks for appspec.yaml, then appspec.yml
		// (command_executor.rb).
		{"appspec.yml", fstest.MapFS{"appspec.yml": file("yml"), "scripts/a.sh": file("")}, config.Server, "appspec.yml", "yml", nil},
		{"appspec.yaml first", fstest.MapFS{"appspec.yml": file("yml"), "appspec.yaml": file("yaml")}, config.Server, "appspec.yaml", "yaml", nil},
		{"not in a subdirectory (Unpack strips it)", fstest.MapFS{"app/appspec.yml": file("nested"), "app/scripts/a.sh": file("")}, config.Server, "", "", ErrAppSpecNotFound},
		{"appspec.json for Lambda", fstest.MapFS{"appspec.json": file("{}")}, config.Lambda, "appspec.json", "{}", nil},
		{"appspec.json for ECS, after appspec.yaml", fstest.MapFS{"appspec.json": file("{}"), "appspec.yaml": file("y")}, config.ECS, "appspec.yaml", "y", nil},
		{"appspec.json is not a Server AppSpec", fstest.MapFS{"appspec.json": file("{}")}, config.Server, "", "", ErrAppSpecNotFound},
		{"names are case-sensitive", fstest.MapFS{"AppSpec.yml": file("x")}, config.Server, "", "", ErrAppSpecNotFound},
		{"empty bundle", fstest.MapFS{}, config.Server, "", "", ErrAppSpecNotFound},
		{"a directory named appspec.yml", fstest.MapFS{"appspec.yml/x": file("")}, config.Server, "", "", ErrInvalidAppSpec},
		{"too large", fstest.MapFS{"appspec.yml": &fstest.MapFile{Data: make([]byte, MaxAppSpecSize+1)}}, config.Server, "", "", ErrLimitExceeded},
		{"as large as allowed", fstest.MapFS{"appspec.yml": &fstest.MapFile{Data: []byte(strings.Repeat("#", MaxAppSpecSize))}}, config.Server, "appspec.yml", strings.Repeat("#", MaxAppSpecSize), nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			name, data, err := FindAppSpec(tc.fsys, tc.platform)
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("err = %v, want %v", err, tc.wantErr)
				}
				return
			}
			if err != nil || name != tc.wantName || string(data) != tc.wantData {
				t.Fatalf("got %q, %q, %v; want %q, %q", name, data, err, tc.wantName, tc.wantData)
			}
		})
	}
}

func TestAppSpecNames(t *testing.T) {
	if got := AppSpecNames(config.Server); !slices.Equal(got, []string{"appspec.yaml", "appspec.yml"}) {
		t.Errorf("Server names = %v", got)
	}
	if got := AppSpecNames(config.ECS); !slices.Equal(got, []string{"appspec.yaml", "appspec.yml", "appspec.json"}) {
		t.Errorf("ECS names = %v", got)
	}
}

func TestParseAppSpecTestdataRoundTrip(t *testing.T) {
	// Rendering a parsed AppSpec back to YAML and parsing it again gives the
	// same AppSpec.
	for name, platform := range map[string]config.ComputePlatform{
		"server_example.yml": config.Server, "server_permissions.yml": config.Server, "server_windows.yml": config.Server,
		"lambda_example.yaml": config.Lambda, "lambda_example.json": config.Lambda, "lambda_lowercase.yaml": config.Lambda,
		"ecs_example.yaml": config.ECS, "ecs_example.json": config.ECS,
	} {
		t.Run(name, func(t *testing.T) {
			a := mustParse(t, readAppSpecTestdata(t, name), platform)
			checkRoundTrip(t, a)
		})
	}
}

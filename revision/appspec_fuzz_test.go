package revision

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-multierror"
	"go.yaml.in/yaml/v3"

	"github.com/fleetdeploy/fleetdeploy/config"
)

// FuzzParseAppSpec checks that no input makes the parser panic, that every
// failure lists between 1 and 101 *AppSpecProblem values, one per line, and that
// every success validates and survives a round trip through YAML.
func FuzzParseAppSpec(f *testing.F) {
	platforms := config.ComputePlatform("").Values()
	files, err := filepath.Glob(filepath.Join("testdata", "appspec", "*"))
	if err != nil {
		f.Fatal(err)
	}
	for _, name := range files {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		platform := uint8(0)
		switch base := filepath.Base(name); {
		case strings.HasPrefix(base, "lambda"):
			platform = 1
		case strings.HasPrefix(base, "ecs"):
			platform = 2
		}
		f.Add(data, platform)
	}
	for _, seed := range []struct {
		doc      string
		platform uint8
	}{
		{server("hooks:", "  AfterInstall: &s", "    - location: a.sh", "      timeout: 60", "  ApplicationStart: *s"), 0},
		{server("files:", "  - &f {source: a, destination: /srv}", "  - <<: *f", "    source: b"), 0},
		{server("permissions:", "  - object: /srv", "    mode: 4755", "    acls: ['d:u:bob:rw', 'm::r']", "    context: {name: u, type: t, range: 's0-s1:c0.c3,c9'}"), 0},
		{server("hooks:", "  AfterInstall:", "    - location: a.sh", "      timeout: 1800", "    - location: b.sh", "      timeout: 1801"), 0},
		{serverOS("windows", "files:", `  - source: '\'`, `    destination: 'c:\app'`), 0},
		{"version: '0.0'\nos: linux\nfile_exists_behavior: RETAIN\n", 0},
		{"{\"version\": 0.0, \"os\": \"linux\", \"files\": [{\"source\": \"/\", \"destination\": \"/srv\"}]}", 0},
		{lambdaDoc(lambdaProps, "  - BeforeAllowTraffic: a", "  - afterallowtraffic: b"), 1},
		{ecsDoc(ecsBase + "        CapacityProviderStrategy:\n          - {CapacityProvider: A, Base: 1, Weight: 2}\n"), 2},
		{billionLaughs(), 0},
		{"version: 0.0\nos: linux\n---\nversion: 0.0\n", 0},
		{"a: [\n", 1},
		{"", 2},
		// A key holding a newline, once printed raw in a field path.
		{"{0\n\n0}", 0},
		{server("hooks:", "  \"After\\nInstall\": []", "x\ty: 1"), 0},
	} {
		f.Add([]byte(seed.doc), seed.platform)
	}
	f.Fuzz(func(t *testing.T, data []byte, platform uint8) {
		p := config.ComputePlatform("Unknown")
		if int(platform) < len(platforms) {
			p = platforms[platform]
		}
		a, err := ParseAppSpec(data, p)
		if err != nil {
			if a != nil {
				t.Fatal("an AppSpec returned with an error")
			}
			var list *multierror.Error
			if !errors.As(err, &list) || !errors.Is(err, ErrInvalidAppSpec) {
				t.Fatalf("error %T %v is not a *multierror.Error matching ErrInvalidAppSpec", err, err)
			}
			n := len(list.Errors)
			if n == 0 || n > maxAppSpecProblems+1 {
				t.Fatalf("%d problems", n)
			}
			for _, e := range list.Errors {
				if _, ok := e.(*AppSpecProblem); !ok {
					t.Fatalf("element %T %v is not an *AppSpecProblem", e, e)
				}
			}
			lines := strings.Split(err.Error(), "\n")
			if n == 1 {
				if len(lines) != 1 || !strings.HasPrefix(lines[0], "revision: invalid AppSpec: appspec") {
					t.Fatalf("one problem printed as %q", err)
				}
				return
			}
			if len(lines) != n+1 || lines[0] != fmt.Sprintf("revision: invalid AppSpec: %d problems:", n) {
				t.Fatalf("%d problems printed on %d lines:\n%v", n, len(lines), err)
			}
			for _, line := range lines[1:] {
				if !strings.HasPrefix(line, "  appspec") {
					t.Fatalf("error line %q is not an indented problem", line)
				}
			}
			return
		}
		for _, w := range a.Warnings {
			if s := w.String(); strings.ContainsAny(s, "\n\r") || !strings.HasPrefix(s, "appspec") {
				t.Fatalf("warning %q is not one line naming the file", s)
			}
		}
		if len(a.Warnings) > maxAppSpecWarnings {
			t.Fatalf("%d warnings", len(a.Warnings))
		}
		// Strict mode refuses exactly the documents with warnings.
		_, serr := ParseAppSpec(data, p, func(o *ParseOptions) { o.Strict = true })
		if (serr != nil) != (len(a.Warnings) > 0) {
			t.Fatalf("strict: error %v with %d warnings", serr, len(a.Warnings))
		}
		if a.Platform != p {
			t.Fatalf("Platform = %q, want %q", a.Platform, p)
		}
		if err := a.Validate(); err != nil {
			t.Fatalf("a parsed AppSpec does not validate: %v", err)
		}
		checkRoundTrip(t, a)
	})
}

// checkRoundTrip renders a as YAML, parses it again and compares.
func checkRoundTrip(t *testing.T, a *AppSpec) {
	t.Helper()
	data, err := yaml.Marshal(renderAppSpec(a))
	if err != nil {
		t.Fatalf("rendering: %v", err)
	}
	b, err := ParseAppSpec(data, a.Platform)
	if err != nil {
		t.Fatalf("re-parsing the rendered AppSpec:\n%s\n%v", data, err)
	}
	// Warnings are about how the file was written (unknown keys, a quoted
	// version), which the rendering does not reproduce.
	ac, bc := *a, *b
	ac.Warnings, bc.Warnings = nil, nil
	if !reflect.DeepEqual(ac, bc) {
		t.Fatalf("round trip changed the AppSpec:\n%s\n got %+v\nwant %+v", data, b, a)
	}
}

// renderAppSpec returns a as a YAML-ready tree (an independent oracle for
// the parser: it writes the structure of the User Guide's "AppSpec File
// structure").
func renderAppSpec(a *AppSpec) map[string]any {
	doc := map[string]any{"version": a.Version}
	if a.Version == AppSpecVersion {
		doc["version"] = 0.0 // the number, as the agent wants it
	}
	if a.Platform != config.Server {
		var props map[string]any
		typ := "AWS::Lambda::Function"
		name := ""
		if l := a.Lambda; l != nil {
			name = l.LogicalName
			props = map[string]any{"Name": l.Name, "Alias": l.Alias, "CurrentVersion": l.CurrentVersion, "TargetVersion": l.TargetVersion}
		}
		if s := a.ECS; s != nil {
			typ, name = "AWS::ECS::Service", s.LogicalName
			props = map[string]any{"TaskDefinition": s.TaskDefinition}
			if s.PlatformVersion != "" {
				props["PlatformVersion"] = s.PlatformVersion
			}
			if lb := s.LoadBalancerInfo; lb != nil {
				props["LoadBalancerInfo"] = map[string]any{"ContainerName": lb.ContainerName, "ContainerPort": lb.ContainerPort}
			}
			if nc := s.NetworkConfiguration; nc != nil {
				vpc := nc.AwsvpcConfiguration
				props["NetworkConfiguration"] = map[string]any{"AwsvpcConfiguration": map[string]any{
					"Subnets": vpc.Subnets, "SecurityGroups": vpc.SecurityGroups, "AssignPublicIp": string(vpc.AssignPublicIP),
				}}
			}
			var strategy []any
			for _, it := range s.CapacityProviderStrategy {
				strategy = append(strategy, map[string]any{"Base": it.Base, "CapacityProvider": it.CapacityProvider, "Weight": it.Weight})
			}
			if strategy != nil {
				props["CapacityProviderStrategy"] = strategy
			}
		}
		doc["Resources"] = []any{map[string]any{name: map[string]any{"Type": typ, "Properties": props}}}
		if len(a.HookFunctions) > 0 {
			var hooks []any
			for event, fn := range a.HookFunctions {
				hooks = append(hooks, map[string]any{event: fn})
			}
			doc["Hooks"] = hooks
		}
		return doc
	}
	doc["os"] = string(a.OS)
	if a.FileExistsBehavior != "" {
		doc["file_exists_behavior"] = string(a.FileExistsBehavior)
	}
	if len(a.Files) > 0 {
		var files []any
		for _, f := range a.Files {
			files = append(files, map[string]any{"source": f.Source, "destination": f.Destination})
		}
		doc["files"] = files
	}
	if len(a.Permissions) > 0 {
		var perms []any
		for _, p := range a.Permissions {
			m := map[string]any{"object": p.Object, "pattern": p.Pattern}
			types := []string{}
			for _, t := range p.Type {
				types = append(types, string(t))
			}
			m["type"] = types
			for key, v := range map[string]string{"owner": p.Owner, "group": p.Group} {
				if v != "" {
					m[key] = v
				}
			}
			if p.Except != nil {
				m["except"] = p.Except
			}
			if p.ACLs != nil {
				m["acls"] = p.ACLs
			}
			if p.Mode != nil {
				m["mode"] = p.Mode.String()
			}
			if c := p.Context; c != nil {
				ctx := map[string]any{"type": c.Type}
				if c.User != "" {
					ctx["user"] = c.User
				}
				if c.Range != "" {
					ctx["range"] = c.Range
				}
				m["context"] = ctx
			}
			perms = append(perms, m)
		}
		doc["permissions"] = perms
	}
	if len(a.Hooks) > 0 {
		hooks := map[string]any{}
		for event, scripts := range a.Hooks {
			list := []any{}
			for _, s := range scripts {
				m := map[string]any{"location": s.Location}
				if s.TimeoutSet {
					m["timeout"] = int64(s.Timeout / time.Second)
				}
				if s.RunAs != "" {
					m["runas"] = s.RunAs
				}
				list = append(list, m)
			}
			hooks[event] = list
		}
		doc["hooks"] = hooks
	}
	return doc
}

//go:build unix

package localtarget_test

import (
	"context"
	"encoding/json"
	"os"
	"os/user"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/fleetdeploy/fleetdeploy/revision"
	"github.com/fleetdeploy/fleetdeploy/target"
)

const appV1 = `version: 0.0
os: linux
files:
  - source: app
    destination: /opt/shop
  - source: config/shop.conf
    destination: /etc/shop
permissions:
  - object: /opt/shop/bin
    pattern: "*.sh"
    mode: 750
    type: [file]
  - object: /opt/shop
    pattern: "**"
    except: [bin]
    mode: 700
    type: [directory]
  - object: /etc/shop/shop.conf
    mode: 640
    owner: nobody
    acls: ["u:nobody:r"]
hooks:
  BeforeInstall:
    - location: scripts/before.sh
  AfterInstall:
    - location: scripts/after.sh
      timeout: 60
  ApplicationStart:
    - location: scripts/start.sh
  ValidateService:
    - location: scripts/validate.sh
`

// TestInstallFilesPermissionsHooks installs a revision with files,
// permissions and hooks (User Guide, "AppSpec File structure"; the agent's
// installer.rb and hook_executor.rb).
func TestInstallFilesPermissionsHooks(t *testing.T) {
	f := newFixture(t)
	loc := f.put("v1.zip", appV1, map[string]string{
		"app/index.html":      "<h1>v1</h1>",
		"app/bin/run.sh":      "#!/bin/sh\necho run\n",
		"app/lib/data/x.txt":  "x",
		"config/shop.conf":    "port=80",
		"scripts/before.sh":   mark("BeforeInstall"),
		"scripts/after.sh":    mark("AfterInstall"),
		"scripts/start.sh":    mark("ApplicationStart"),
		"scripts/validate.sh": mark("ValidateService"),
	})
	if err := os.Mkdir(f.path("/etc"), 0o755); err != nil { // the host has an /etc
		t.Fatal(err)
	}
	results := f.deploy(deployment("d-1", loc))
	mustSucceed(t, results)

	// Hooks in lifecycle order ("AppSpec 'hooks' section"); ApplicationStop
	// had nothing to run.
	if got, want := strings.Join(f.marks(), " "), "BeforeInstall AfterInstall ApplicationStart ValidateService"; got != want {
		t.Errorf("hooks ran %q, want %q", got, want)
	}
	if got := results[target.ApplicationStop].Message; !strings.Contains(got, "nothing to run") {
		t.Errorf("ApplicationStop on the first install: message %q, want a no-op", got)
	}
	if got := results[target.AfterInstall].LogTail; got != "ran AfterInstall\n" {
		t.Errorf("AfterInstall log tail %q", got)
	}

	// "AppSpec 'files' section (EC2/On-Premises deployments only)": a
	// source directory's contents go into the destination, a
	// source file into the destination directory.
	if got := f.read("/opt/shop/index.html"); got != "<h1>v1</h1>" {
		t.Errorf("/opt/shop/index.html = %q", got)
	}
	if got := f.read("/opt/shop/lib/data/x.txt"); got != "x" {
		t.Errorf("/opt/shop/lib/data/x.txt = %q", got)
	}
	if got := f.read("/etc/shop/shop.conf"); got != "port=80" {
		t.Errorf("/etc/shop/shop.conf = %q", got)
	}
	if f.exists("/opt/shop/app") || f.exists("/etc/shop/config") {
		t.Error("the source directory itself was recreated at the destination")
	}

	// "AppSpec 'permissions' section (EC2/On-Premises deployments only)":
	// pattern selects direct children; type directory
	// applies below the object, not to it; except excludes.
	mode := func(p string) os.FileMode {
		fi, err := os.Stat(f.path(p))
		if err != nil {
			t.Fatal(err)
		}
		return fi.Mode().Perm()
	}
	for p, want := range map[string]os.FileMode{
		"/opt/shop/bin/run.sh":     0o750,
		"/opt/shop/lib":            0o700,
		"/opt/shop/lib/data":       0o700,
		"/opt/shop/bin":            0o755, // excepted
		"/opt/shop":                0o755, // the object itself
		"/opt/shop/index.html":     0o644, // type directory only
		"/etc/shop/shop.conf":      0o640,
		"/opt/shop/lib/data/x.txt": 0o644,
	} {
		if got := mode(p); got != want {
			t.Errorf("mode of %s = %o, want %o", p, got, want)
		}
	}
	fi, err := os.Stat(f.path("/etc/shop/shop.conf"))
	if err != nil {
		t.Fatal(err)
	}
	uid := fi.Sys().(*syscall.Stat_t).Uid
	msg := results[target.Install].Message
	if os.Geteuid() == 0 {
		nobody, err := user.Lookup("nobody")
		if err != nil {
			t.Fatal(err)
		}
		if strconv.FormatUint(uint64(uid), 10) != nobody.Uid {
			t.Errorf("owner of shop.conf = %d, want nobody (%s)", uid, nobody.Uid)
		}
	} else if !strings.Contains(msg, "chown (the agent is not running as root)") {
		t.Errorf("Install message %q does not say the owner was not applied", msg)
	}
	if !strings.Contains(msg, "setfacl (POSIX ACLs are not supported by localtarget) on 1 object") {
		t.Errorf("Install message %q does not say the ACL was not applied", msg)
	}

	// The agent's instruction files (installer.rb, command_executor.rb).
	if id, err := f.agent.LastSuccessfulInstall(context.Background(), "dg-1"); err != nil || id != "d-1" {
		t.Errorf("LastSuccessfulInstall = %q, %v; want d-1", id, err)
	}
	if id, err := f.agent.MostRecentInstall(context.Background(), "dg-1"); err != nil || id != "d-1" {
		t.Errorf("MostRecentInstall = %q, %v; want d-1", id, err)
	}
	var install struct {
		Instructions []struct{ Type, Destination string }
	}
	if err := json.Unmarshal([]byte(f.read("/deployment-root/deployment-instructions/dg-1-install.json")), &install); err != nil {
		t.Fatal(err)
	}
	if len(install.Instructions) == 0 {
		t.Error("install.json lists no instructions")
	}
	cleanup := f.read("/deployment-root/deployment-instructions/dg-1-cleanup")
	for _, p := range []string{"/opt", "/opt/shop", "/opt/shop/index.html", "/etc/shop/shop.conf"} {
		if !strings.Contains(cleanup, p+"\n") {
			t.Errorf("cleanup file lacks %s:\n%s", p, cleanup)
		}
	}
	if strings.Contains(cleanup, "/etc\n") {
		t.Errorf("cleanup file lists /etc, which it did not create:\n%s", cleanup)
	}
}

// TestSecondRevisionReplacesFirst: the Install step first removes what the
// previous install created (the agent's installer.rb); files scripts created
// stay.
func TestSecondRevisionReplacesFirst(t *testing.T) {
	f := newFixture(t)
	const spec = `version: 0.0
os: linux
files:
  - source: app
    destination: /opt/shop
hooks:
  AfterInstall:
    - location: after.sh
`
	generate := "#!/bin/sh\necho generated > \"$FLEETDEPLOY_INSTANCE_ROOT/opt/shop/generated.txt\"\n"
	v1 := f.put("v1.zip", spec, map[string]string{"app/a.txt": "a1", "app/old/old.txt": "old", "after.sh": generate})
	v2 := f.put("v2.zip", spec, map[string]string{"app/a.txt": "a2", "app/new.txt": "new", "after.sh": "#!/bin/sh\n"})
	mustSucceed(t, f.deploy(deployment("d-1", v1)))
	if !f.exists("/opt/shop/old/old.txt") || !f.exists("/opt/shop/generated.txt") {
		t.Fatal("v1 was not installed")
	}
	// DISALLOW (the default) does not trip over v1's own files.
	mustSucceed(t, f.deploy(deployment("d-2", v2)))
	if f.exists("/opt/shop/old/old.txt") || f.exists("/opt/shop/old") {
		t.Error("v1's old/old.txt (and its directory) survived v2's install")
	}
	if got := f.read("/opt/shop/a.txt"); got != "a2" {
		t.Errorf("a.txt = %q, want v2's", got)
	}
	if got := f.read("/opt/shop/new.txt"); got != "new" {
		t.Errorf("new.txt = %q", got)
	}
	if got := f.read("/opt/shop/generated.txt"); got != "generated\n" {
		t.Errorf("the file v1's script created is gone or changed: %q", got)
	}
}

// TestFileExistsBehavior covers DISALLOW, OVERWRITE and RETAIN for a file
// that was not part of the previous deployment, and the precedence of the
// deployment's value over the AppSpec's (API Reference, CreateDeployment,
// fileExistsBehavior; the precedence is fleetdeploy's decision).
func TestFileExistsBehavior(t *testing.T) {
	for _, tc := range []struct {
		name       string
		deployment string // DeploymentInfo.FileExistsBehavior
		appspec    string // file_exists_behavior
		want       string // DISALLOW, OVERWRITE or RETAIN in effect
	}{
		{"default is DISALLOW", "", "", "DISALLOW"},
		{"deployment DISALLOW", "DISALLOW", "", "DISALLOW"},
		{"deployment OVERWRITE", "OVERWRITE", "", "OVERWRITE"},
		{"deployment RETAIN", "RETAIN", "", "RETAIN"},
		{"AppSpec OVERWRITE when the deployment sets none", "", "OVERWRITE", "OVERWRITE"},
		{"AppSpec RETAIN when the deployment sets none", "", "RETAIN", "RETAIN"},
		{"deployment RETAIN wins over AppSpec OVERWRITE", "RETAIN", "OVERWRITE", "RETAIN"},
		{"deployment DISALLOW wins over AppSpec OVERWRITE", "DISALLOW", "OVERWRITE", "DISALLOW"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			spec := "version: 0.0\nos: linux\nfiles:\n  - source: app\n    destination: /srv/www\n"
			if tc.appspec != "" {
				spec += "file_exists_behavior: " + tc.appspec + "\n"
			}
			loc := f.put("rev.zip", spec, map[string]string{"app/a.txt": "revision", "app/b.txt": "b"})
			if err := os.MkdirAll(f.path("/srv/www"), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(f.path("/srv/www/a.txt"), []byte("local"), 0o644); err != nil {
				t.Fatal(err)
			}
			d := deployment("d-1", loc)
			d.FileExistsBehavior = revision.FileExistsBehavior(tc.deployment)
			if r := f.run(d, target.DownloadBundle); r.Status != target.EventSucceeded {
				t.Fatalf("DownloadBundle: %+v", r)
			}
			res := f.run(d, target.Install)
			cleanup := f.path("/deployment-root/deployment-instructions/dg-1-cleanup")
			switch tc.want {
			case "DISALLOW":
				if res.Status != target.EventFailed || res.ErrorCode != target.CodeUnknownError ||
					!strings.Contains(res.Message, "already exists at this location: /srv/www/a.txt") {
					t.Fatalf("Install = %+v, want a failure naming /srv/www/a.txt", res)
				}
				if f.exists("/srv/www/b.txt") {
					t.Error("DISALLOW failed the step after copying b.txt; nothing should be copied")
				}
				if id, _ := f.agent.LastSuccessfulInstall(context.Background(), "dg-1"); id != "" {
					t.Errorf("a failed Install became the last successful install (%s)", id)
				}
				return
			case "OVERWRITE":
				if got := f.read("/srv/www/a.txt"); got != "revision" {
					t.Errorf("a.txt = %q, want the revision's", got)
				}
				if b, _ := os.ReadFile(cleanup); !strings.Contains(string(b), "/srv/www/a.txt\n") {
					t.Errorf("an overwritten file belongs to the deployment and must be in the cleanup file:\n%s", b)
				}
			case "RETAIN":
				if got := f.read("/srv/www/a.txt"); got != "local" {
					t.Errorf("a.txt = %q, want the existing file kept", got)
				}
				if b, _ := os.ReadFile(cleanup); strings.Contains(string(b), "/srv/www/a.txt") {
					t.Errorf("a retained file is not the deployment's and must not be in the cleanup file:\n%s", b)
				}
				if !strings.Contains(res.Message, "kept 1 existing file (RETAIN)") {
					t.Errorf("Install message %q does not mention the retained file", res.Message)
				}
			}
			if res.Status != target.EventSucceeded {
				t.Fatalf("Install: %+v", res)
			}
			if got := f.read("/srv/www/b.txt"); got != "b" {
				t.Errorf("b.txt = %q", got)
			}
		})
	}
}

// TestDestinationsStayInsideTheInstance: destinations are rooted in the
// instance directory, ".." cannot climb out, and the agent's own directory
// is off limits.
func TestDestinationsStayInsideTheInstance(t *testing.T) {
	f := newFixture(t)
	spec := "version: 0.0\nos: linux\nfiles:\n  - source: a.txt\n    destination: /../../../escape\n"
	loc := f.put("v1.zip", spec, map[string]string{"a.txt": "a"})
	mustSucceed(t, f.deploy(deployment("d-1", loc)))
	if got := f.read("/escape/a.txt"); got != "a" {
		t.Errorf("/escape/a.txt = %q", got)
	}
	if _, err := os.Stat(f.fleet.Root() + "/escape"); err == nil {
		t.Error("a destination with .. escaped the instance root")
	}

	spec = "version: 0.0\nos: linux\nfiles:\n  - source: a.txt\n    destination: /deployment-root/deployment-instructions\n"
	loc = f.put("v2.zip", spec, map[string]string{"a.txt": "a"})
	res := f.deploy(deployment("d-2", loc))[target.Install]
	if res.Status != target.EventFailed || !strings.Contains(res.Message, "inside the agent's directory") {
		t.Errorf("Install into the agent's directory = %+v, want a failure", res)
	}
}

//go:build unix

package localtarget_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/fleetdeploy/fleetdeploy/target"
)

// TestAgentCompatibleAppSpec installs an AppSpec written in the forms the
// CodeDeploy agent accepts and the AppSpec reference does not show: a hook
// location with a leading "/" and white space around it and around runas,
// an unknown key, and "acls: []". The agent runs the script at the bundle
// root's scripts/start.sh as its own user, and records "acls: []" as a
// setfacl to the base entries; the warning is in DownloadBundle's message.
func TestAgentCompatibleAppSpec(t *testing.T) {
	f := newFixture(t)
	const spec = "version: 0.0\nos: linux\n" +
		"files:\n  - source: /app\n    destination: /srv/app\n    overwrite: true\n" +
		"permissions:\n  - object: /srv/app\n    mode: 640\n    acls: []\n    type: [file]\n" +
		"hooks:\n  ApplicationStart:\n    - location: \"  /scripts/start.sh \"\n      runas: \" \"\n"
	loc := f.put("compat.zip", spec, map[string]string{
		"app/index.html":   "hello",
		"scripts/start.sh": mark("ApplicationStart"),
	})
	results := f.deploy(deployment("d-1", loc))
	mustSucceed(t, results)

	if got := f.marks(); !slices.Equal(got, []string{"ApplicationStart"}) {
		t.Errorf("hooks ran %q, want the leading-slash location to run", got)
	}
	if got := f.read("/srv/app/index.html"); got != "hello" {
		t.Errorf("/srv/app/index.html = %q, want the leading-slash source installed", got)
	}
	msg := results[target.DownloadBundle].Message
	if want := `1 AppSpec warning: appspec.yml:6: files[0].overwrite: the CodeDeploy agent ignores the key "overwrite"`; !strings.Contains(msg, want) {
		t.Errorf("DownloadBundle message %q does not report the warning %q", msg, want)
	}

	var install struct {
		Instructions []struct {
			Type, Destination, Skipped string
			ACLs                       []string
		}
	}
	if err := json.Unmarshal([]byte(f.read("/deployment-root/deployment-instructions/dg-1-install.json")), &install); err != nil {
		t.Fatal(err)
	}
	var setfacl [][]string
	for _, in := range install.Instructions {
		if in.Type == "setfacl" {
			if in.Destination != "/srv/app/index.html" || in.Skipped == "" {
				t.Errorf("setfacl instruction %+v", in)
			}
			setfacl = append(setfacl, in.ACLs)
		}
	}
	if want := []string{"user::rw-", "group::r--", "other::---"}; len(setfacl) != 1 || !slices.Equal(setfacl[0], want) {
		t.Errorf("setfacl instructions %q, want one setting the base entries %q of mode 640", setfacl, want)
	}
}

package revision

import (
	"errors"
	"strings"
	"testing"

	"github.com/fleetdeploy/fleetdeploy/config"
)

// TestAppSpecAgentCompatibility parses, per class of the CodeDeploy agent's
// leniency, an AppSpec written the way real Server AppSpecs are, and checks
// that it is accepted (with the warnings expected) or still refused.
func TestAppSpecAgentCompatibility(t *testing.T) {
	for _, tc := range []struct {
		file     string
		warns    []want // accepted with exactly these warnings
		problems []want // refused with exactly these problems
		check    func(t *testing.T, a *AppSpec)
	}{
		{
			// AWS's Windows tutorial: "\" before the source and the location.
			file: "server_windows_tutorial.yml",
			check: func(t *testing.T, a *AppSpec) {
				s := a.ScriptsFor("BeforeInstall")
				if len(s) != 1 || s[0].Location != `\before-install.bat` || s[0].Timeout.Seconds() != 900 {
					t.Fatalf("BeforeInstall = %+v", s)
				}
				if got := OSWindows.BundlePath(s[0].Location); got != "before-install.bat" {
					t.Errorf("BundlePath(%q) = %q, want before-install.bat", s[0].Location, got)
				}
				if got := OSWindows.BundlePath(a.Files[0].Source); got != "index.html" {
					t.Errorf("BundlePath(%q) = %q, want index.html", a.Files[0].Source, got)
				}
			},
		},
		{
			file: "server_compat_leading_slash.yml",
			check: func(t *testing.T, a *AppSpec) {
				s := a.ScriptsFor("ApplicationStart")
				if got := OSLinux.BundlePath(s[0].Location); got != "scripts/start.sh" {
					t.Errorf("BundlePath(%q) = %q, want scripts/start.sh", s[0].Location, got)
				}
				if got := OSLinux.BundlePath(a.Files[0].Source); got != "." {
					t.Errorf("BundlePath(%q) = %q, want .", a.Files[0].Source, got)
				}
			},
		},
		{
			file:  "server_compat_windows_runas.yml",
			warns: []want{{9, "hooks.AfterInstall[0].runas", "the CodeDeploy agent ignores runas on Windows and runs the script as its own user, and so does fleetdeploy; the AppSpec reference says runas applies to Linux instances only"}},
			check: func(t *testing.T, a *AppSpec) {
				if s := a.ScriptsFor("AfterInstall"); s[0].RunAs != "" {
					t.Errorf("RunAs = %q, want it ignored", s[0].RunAs)
				}
			},
		},
		{
			file: "server_compat_unknown_keys.yml",
			warns: []want{
				{3, "owner", `the CodeDeploy agent ignores the key "owner", and so does fleetdeploy; the AppSpec reference allows only version, os, files, file_exists_behavior, permissions, hooks at the top level`},
				{7, "files[0].overwrite", `the CodeDeploy agent ignores the key "overwrite", and so does fleetdeploy; the AppSpec reference allows only source, destination here`},
				{11, "hooks.AfterInstall[0].interpreter", `ignores the key "interpreter"`},
			},
			check: func(t *testing.T, a *AppSpec) {
				if s := a.ScriptsFor("AfterInstall"); len(s) != 1 || s[0].Location != "scripts/configure.sh" || s[0].Timeout.Seconds() != 300 {
					t.Errorf("AfterInstall = %+v", s)
				}
				if len(a.Files) != 1 || a.Files[0] != (FileMapping{Source: "app", Destination: "/srv/app"}) {
					t.Errorf("Files = %+v", a.Files)
				}
			},
		},
		{
			file: "server_compat_whitespace.yml",
			check: func(t *testing.T, a *AppSpec) {
				if s := a.ScriptsFor("ApplicationStart"); s[0].Location != "scripts/start.sh" || s[0].RunAs != "app" {
					t.Errorf("script = %+v, want location and runas trimmed", s[0])
				}
			},
		},
		{
			file: "server_compat_acls_empty.yml",
			check: func(t *testing.T, a *AppSpec) {
				if acls := a.Permissions[0].ACLs; acls == nil || len(acls) != 0 {
					t.Errorf("acls: [] gave ACLs %#v, want a non-nil empty slice", acls)
				}
				if acls := a.Permissions[1].ACLs; acls != nil {
					t.Errorf("no acls gave ACLs %#v, want nil", acls)
				}
				// Unquoted 0644 is the octal mode the reference means.
				if m := a.Permissions[0].Mode; m == nil || *m != 0o644 {
					t.Errorf("mode 0644 = %v, want 0644", m)
				}
			},
		},
		{
			file:  "server_compat_quoted_version.yml",
			warns: []want{{1, "version", `the CodeDeploy agent refuses the string "0.0" ("invalid version value")`}},
			check: func(t *testing.T, a *AppSpec) {
				if a.Version != AppSpecVersion {
					t.Errorf("Version = %q", a.Version)
				}
			},
		},
		{
			file:  "server_compat_timeouts.yml",
			warns: []want{{4, "hooks.BeforeInstall", "the timeouts given for the event's scripts add up to 4200 seconds; the CodeDeploy agent runs each script with its own timeout whatever the sum, and so does fleetdeploy; the AppSpec reference says the scripts of one lifecycle event should take at most 3600 seconds in all"}},
			check: func(t *testing.T, a *AppSpec) {
				if s := a.ScriptsFor("BeforeInstall"); s[0].Timeout.Seconds() != 3000 || s[1].Timeout.Seconds() != 1200 {
					t.Errorf("BeforeInstall = %+v, want the timeouts as given", s)
				}
			},
		},
		{file: "server_refused_relative_destination.yml", problems: []want{{5, "files[0].destination", `must be an absolute path, not "srv/app"`}}},
		{file: "server_refused_install_hook.yml", problems: []want{
			{4, "hooks.Install", "Install is performed by CodeDeploy and cannot have hooks"},
			{6, "hooks.DownloadBundle", "DownloadBundle is performed by CodeDeploy and cannot have hooks"},
		}},
		{file: "server_refused_timeout.yml", problems: []want{{6, "hooks.AfterInstall[0].timeout", "must be a positive integer number of seconds"}}},
		{file: "server_refused_duplicate_key.yml", problems: []want{{6, "hooks.AfterInstall[0].location", `duplicate key "location" (first given at line 5)`}}},
		{file: "server_refused_two_documents.yml", problems: []want{{4, "", "only one YAML document is allowed"}}},
		{file: "server_refused_hooks_case.yml", problems: []want{{3, "Hooks", `unknown key "Hooks"; allowed keys: version, os, files, file_exists_behavior, permissions, hooks (keys are case-sensitive: did you mean "hooks"?)`}}},
		{file: "server_refused_no_version.yml", problems: []want{{1, "version", "is required; the only version is 0.0"}}},
	} {
		t.Run(tc.file, func(t *testing.T) {
			data := readAppSpecTestdata(t, tc.file)
			a, err := ParseAppSpecFile(tc.file, data, config.Server)
			if tc.problems != nil {
				if a != nil {
					t.Error("got an AppSpec with an error")
				}
				checkProblems(t, appspecProblemsOf(t, err), tc.problems)
				return
			}
			if err != nil {
				t.Fatalf("refused:\n%v", err)
			}
			if err := a.Validate(); err != nil {
				t.Fatalf("Validate: %v", err)
			}
			checkWarnings(t, a.Warnings, tc.warns)
			for _, w := range a.Warnings {
				if w.File != tc.file {
					t.Errorf("warning %v names file %q", w, w.File)
				}
			}
			if tc.check != nil {
				tc.check(t, a)
			}
		})
	}
}

// TestAppSpecStrict checks that ParseOptions.Strict refuses a file for each
// of its warnings, and accepts a file without any.
func TestAppSpecStrict(t *testing.T) {
	strict := func(o *ParseOptions) { o.Strict = true }
	data := readAppSpecTestdata(t, "server_compat_unknown_keys.yml")
	a, err := ParseAppSpecFile("appspec.yml", data, config.Server, strict)
	if a != nil {
		t.Error("got an AppSpec with an error")
	}
	checkProblems(t, appspecProblemsOf(t, err), []want{
		{3, "owner", `strict: the CodeDeploy agent ignores the key "owner"`},
		{7, "files[0].overwrite", `strict: the CodeDeploy agent ignores the key "overwrite"`},
		{11, "hooks.AfterInstall[0].interpreter", `strict: the CodeDeploy agent ignores the key "interpreter"`},
	})
	if !errors.Is(err, ErrInvalidAppSpec) {
		t.Errorf("error %v does not match ErrInvalidAppSpec", err)
	}
	wantLine := `revision: invalid AppSpec: 3 problems:
  appspec.yml:3: owner: strict: the CodeDeploy agent ignores the key "owner", and so does fleetdeploy; the AppSpec reference allows only`
	if !strings.HasPrefix(err.Error(), wantLine) {
		t.Errorf("error:\n%v\nwant it to start with\n%s", err, wantLine)
	}
	// Warnings and errors together: every one is reported.
	_, err = ParseAppSpecFile("appspec.yml", []byte("version: '0.0'\nos: linux\nfiles:\n  - source: a\n    destination: srv\n"), config.Server, strict)
	checkProblems(t, appspecProblemsOf(t, err), []want{
		{1, "version", `strict: the CodeDeploy agent refuses the string "0.0"`},
		{5, "files[0].destination", "must be an absolute path"},
	})
	// A clean file passes.
	if _, err := ParseAppSpecFile("appspec.yml", readAppSpecTestdata(t, "server_windows_tutorial.yml"), config.Server, strict); err != nil {
		t.Errorf("strict refused a file without warnings: %v", err)
	}
}

// TestAppSpecMessagesQuoteKeys checks that a key read from the file is
// quoted in field paths, so that every problem and warning is one line.
func TestAppSpecMessagesQuoteKeys(t *testing.T) {
	a, err := ParseAppSpec([]byte("version: 0.0\nos: linux\n\"a\\nb.c\": 1\n"), config.Server)
	if err != nil {
		t.Fatal(err)
	}
	checkWarnings(t, a.Warnings, []want{{3, `["a\nb.c"]`, `ignores the key "a\nb.c"`}})
	if s := a.Warnings[0].String(); strings.Contains(s, "\n") {
		t.Errorf("warning %q spans lines", s)
	}
	_, err = ParseAppSpec([]byte("{0\n\n0}"), config.Lambda)
	checkProblems(t, appspecProblemsOf(t, err), []want{
		{1, `["0\n0"]`, `unknown key "0\n0"`},
		{1, "version", "is required"},
		{1, "Resources", "is required"},
	})
	if n := strings.Count(err.Error(), "\n"); n != 3 {
		t.Errorf("3 problems printed on %d lines after the heading:\n%v", n, err)
	}
	_, err = ParseAppSpec([]byte("version: 0.0\nos: linux\nhooks:\n  \"After\\nInstall\": []\n"), config.Server)
	checkProblems(t, appspecProblemsOf(t, err), []want{{4, `hooks["After\nInstall"]`, `unknown lifecycle event "After\nInstall"`}})
}

package revision_test

import (
	"errors"
	"fmt"
	"testing/fstest"

	"github.com/hashicorp/go-multierror"

	"github.com/fleetdeploy/fleetdeploy/config"
	"github.com/fleetdeploy/fleetdeploy/revision"
)

// An agent finds the AppSpec in an unpacked bundle, parses it, and asks for
// the scripts of each lifecycle event.
func ExampleParseAppSpecFile() {
	bundle := fstest.MapFS{
		"appspec.yml": {Data: []byte(`version: 0.0
os: linux
files:
  - source: app
    destination: /srv/app
hooks:
  AfterInstall:
    - location: scripts/configure.sh
      timeout: 180
  ApplicationStart:
    - location: scripts/start.sh
      runas: app
`)},
		"app/index.html":       {Data: []byte("hello")},
		"scripts/configure.sh": {Data: []byte("#!/bin/sh\n")},
		"scripts/start.sh":     {Data: []byte("#!/bin/sh\n")},
	}
	name, data, err := revision.FindAppSpec(bundle, config.Server)
	if err != nil {
		fmt.Println(err)
		return
	}
	spec, err := revision.ParseAppSpecFile(name, data, config.Server)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, f := range spec.Files {
		fmt.Printf("copy %s to %s\n", f.Source, f.Destination)
	}
	for _, event := range revision.HookEvents(config.Server) {
		for _, s := range spec.ScriptsFor(event) {
			fmt.Printf("%s: run %s (timeout %v, as %q)\n", event, s.Location, s.Timeout, s.RunAs)
		}
	}
	// Output:
	// copy app to /srv/app
	// AfterInstall: run scripts/configure.sh (timeout 3m0s, as "")
	// ApplicationStart: run scripts/start.sh (timeout 1h0m0s, as "app")
}

// Every broken rule is reported at once, with its line and field.
func ExampleAppSpecProblem() {
	_, err := revision.ParseAppSpecFile("appspec.yml", []byte(`version: 0.0
os: linux
hooks:
  AfterInstall:
    - location: ../outside.sh
      timeout: 0
  Install:
    - location: copy.sh
`), config.Server)
	fmt.Println(errors.Is(err, revision.ErrInvalidAppSpec))
	var list *multierror.Error
	if errors.As(err, &list) {
		for _, e := range list.Errors {
			if p, ok := e.(*revision.AppSpecProblem); ok {
				fmt.Printf("line %d: %s\n", p.Line, p.Field)
			}
		}
	}
	var first *revision.AppSpecProblem
	if errors.As(err, &first) {
		fmt.Println(first)
	}
	fmt.Println(err)
	// Output:
	// true
	// line 5: hooks.AfterInstall[0].location
	// line 6: hooks.AfterInstall[0].timeout
	// line 7: hooks.Install
	// appspec.yml:5: hooks.AfterInstall[0].location: must stay inside the bundle; "../outside.sh" climbs above its root
	// revision: invalid AppSpec: 3 problems:
	//   appspec.yml:5: hooks.AfterInstall[0].location: must stay inside the bundle; "../outside.sh" climbs above its root
	//   appspec.yml:6: hooks.AfterInstall[0].timeout: must be a positive integer number of seconds
	//   appspec.yml:7: hooks.Install: Install is performed by CodeDeploy and cannot have hooks; the events that can are BeforeBlockTraffic, AfterBlockTraffic, ApplicationStop, BeforeInstall, AfterInstall, ApplicationStart, ValidateService, BeforeAllowTraffic, AfterAllowTraffic
}

// Lambda and ECS AppSpecs name a resource and the Lambda functions that
// validate lifecycle events; their keys are matched without regard to case.
func ExampleParseAppSpec_lambda() {
	spec, err := revision.ParseAppSpec([]byte(`{
  "version": 0.0,
  "resources": [{"myFunction": {"type": "AWS::Lambda::Function",
    "properties": {"name": "myFunction", "alias": "live", "currentversion": "1", "targetversion": "2"}}}],
  "hooks": [{"BeforeAllowTraffic": "checkBeforeShift"}]
}`), config.Lambda)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("shift %s:%s from version %s to %s\n", spec.Lambda.Name, spec.Lambda.Alias, spec.Lambda.CurrentVersion, spec.Lambda.TargetVersion)
	for _, event := range revision.HookEvents(config.Lambda) {
		if fn, ok := spec.HookFunction(event); ok {
			fmt.Printf("%s: invoke %s\n", event, fn)
		}
	}
	// Output:
	// shift myFunction:live from version 1 to 2
	// BeforeAllowTraffic: invoke checkBeforeShift
}

package fleetdeploy_test

import (
	"encoding/json"
	"io"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/fleetdeploy/fleetdeploy"

// allowedModules are the only modules outside the standard library that a
// package of this repository may link, unless it is an AWS adapter.
var allowedModules = []string{
	"github.com/hashicorp/go-multierror",
	"github.com/hashicorp/errwrap", // go-multierror's own dependency
	"golang.org/x/sync",
	// AppSpec files are YAML: go.yaml.in/yaml/v3, the maintained
	// successor of gopkg.in/yaml.v3, linked through package revision. Only
	// revision may import it directly (yamlImporters).
	yamlModule,
}

const yamlModule = "go.yaml.in/yaml/v3"

// yamlImporters are the only packages that may import the YAML module
// directly; everything else reaches AppSpecs through package revision.
var yamlImporters = map[string]bool{module + "/revision": true}

// awsAdapter reports whether pkg is an AWS adapter subpackage, the only kind
// of package allowed to link github.com/aws/...: the core packages (config,
// health, target, revision, deploy, deploy/plan) depend on the standard
// library and the modules above only, so that a user who brings their own
// platform links no AWS SDK. Adapters are named after the service and the
// interface they implement: revision/s3revision, target/ec2target,
// deploy/dynamostore, ...
func awsAdapter(pkg string) bool {
	last := pkg[strings.LastIndex(pkg, "/")+1:]
	for _, svc := range []string{"s3", "ec2", "ecs", "lambda", "dynamo", "cloudwatch", "sns", "eventbridge", "autoscaling", "elb", "codedeploy"} {
		if strings.HasPrefix(last, svc) {
			return true
		}
	}
	return false
}

// awsTestPeer reports whether pkg is an internal test helper of the AWS
// adapters: motoserver runs their protocol peer (moto) and gives their
// tests an SDK configuration for it; notifytest reads the notifier
// adapters' messages back from SQS. Only the adapters' tests import them.
func awsTestPeer(pkg string) bool {
	return pkg == module+"/internal/motoserver" || pkg == module+"/internal/notifytest"
}

// testKitModules are the modules a test kit may link besides
// allowedModules: deploy/plan/plantest's generators are rapid generators,
// so a test that imports plantest links pgregory.net/rapid (its package
// documentation says so). deploy/deploytest checks its simulations'
// timelines with plantest.Violations, so it links rapid too. No core package may
// import a test kit that links them (see
// TestCorePackagesImportOnlyAllowedModules).
var testKitModules = map[string][]string{
	module + "/deploy/plan/plantest": {"pgregory.net/rapid"},
	module + "/deploy/deploytest":    {"pgregory.net/rapid"},
}

type listedPackage struct {
	ImportPath string
	Standard   bool
	Imports    []string
	Module     *struct{ Path string }
}

// TestCorePackagesImportOnlyAllowedModules fails when a package that is not
// an AWS adapter links a module outside the standard library, this module,
// go-multierror and x/sync — so a user who does not use AWS never links the
// SDK, and nothing creeps in unnoticed. Test-only imports are not counted.
func TestCorePackagesImportOnlyAllowedModules(t *testing.T) {
	pkgs := goList(t, "./...")
	core := map[string]bool{}
	for _, p := range pkgs {
		if strings.HasPrefix(p.ImportPath, module+"/examples/") || awsAdapter(p.ImportPath) || awsTestPeer(p.ImportPath) {
			continue
		}
		core[strings.TrimPrefix(p.ImportPath, module+"/")] = true
		for _, imp := range p.Imports {
			if strings.HasPrefix(imp, yamlModule) && !yamlImporters[p.ImportPath] {
				t.Errorf("%s imports %s directly; only package revision parses YAML — use revision.ParseAppSpec", p.ImportPath, imp)
			}
		}
		for _, dep := range goList(t, "-deps", p.ImportPath) {
			if dep.Standard || dep.Module == nil || dep.Module.Path == module {
				continue
			}
			if !slices.Contains(allowedModules, dep.Module.Path) && !slices.Contains(testKitModules[p.ImportPath], dep.Module.Path) {
				t.Errorf("%s links %s (module %s): core packages may use only the standard library, %s; put it in an adapter subpackage or justify it in deps_test.go",
					p.ImportPath, dep.ImportPath, dep.Module.Path, strings.Join(allowedModules, ", "))
			}
		}
	}
	if !core["config"] || !core["revision"] {
		t.Fatalf("the check saw only %v; it must at least cover config and revision", core)
	}
}

func goList(t *testing.T, args ...string) []listedPackage {
	t.Helper()
	cmd := exec.Command("go", append([]string{"list", "-json=ImportPath,Standard,Imports,Module"}, args...)...)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list %v: %v", args, err)
	}
	var pkgs []listedPackage
	dec := json.NewDecoder(strings.NewReader(string(out)))
	for {
		var p listedPackage
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			t.Fatalf("go list %v: decoding: %v", args, err)
		}
		pkgs = append(pkgs, p)
	}
	return pkgs
}

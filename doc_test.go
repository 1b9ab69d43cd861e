package fleetdeploy_test

import (
	"os"
	"strings"
	"testing"
)

// TestDocNamesEveryPackage: the package documentation (doc.go) names every
// package of the module a user may import — the library's, its test kits
// and its adapters — so that none has to be found by browsing.
func TestDocNamesEveryPackage(t *testing.T) {
	doc, err := os.ReadFile("doc.go")
	if err != nil {
		t.Fatal(err)
	}
	named := 0
	for _, p := range goList(t, "./...") {
		rel, ok := strings.CutPrefix(p.ImportPath, module+"/")
		if !ok || strings.HasPrefix(rel, "examples/") || strings.Contains(rel, "internal/") || strings.HasPrefix(rel, "internal") {
			continue
		}
		if !strings.Contains(string(doc), rel) {
			t.Errorf("doc.go does not name package %s; add it to the list of packages", rel)
		}
		named++
	}
	if named < 10 {
		t.Fatalf("checked only %d packages; go list ./... should list the library's", named)
	}
}

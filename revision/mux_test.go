package revision_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/fleetdeploy/fleetdeploy/revision"
	"github.com/fleetdeploy/fleetdeploy/revision/revisiontest"
)

func TestMux(t *testing.T) {
	mem := revisiontest.NewMemSource()
	loc, err := mem.PutFiles(s3("releases", "app.zip", revision.BundleZip), map[string]string{"appspec.yml": "v"})
	if err != nil {
		t.Fatal(err)
	}
	m := revision.Mux{revision.LocationS3: mem, revision.LocationAppSpecContent: revision.ContentSource{}, revision.LocationLocal: nil}

	for _, l := range []revision.Location{loc, content("version: 0.0\n", "")} {
		b, err := m.Open(t.Context(), l)
		if err != nil || b.Location.Type != l.Type {
			t.Errorf("Mux.Open(%s) = %v, %v", l, b, err)
		}
		b.Close()
	}
	for _, l := range []revision.Location{gh("acme/web", commit), local("app.zip", "", ""), {Type: "String"}} {
		_, err := m.Open(t.Context(), l)
		if !errors.Is(err, revision.ErrUnsupportedLocation) || !strings.Contains(err.Error(), fmt.Sprintf("%q", l.Type)) {
			t.Errorf("Mux.Open(%s): err = %v, want ErrUnsupportedLocation naming %q", l.Type, err, l.Type)
		}
	}
	if _, err := (revision.Mux(nil)).Open(t.Context(), loc); !errors.Is(err, revision.ErrUnsupportedLocation) {
		t.Errorf("nil Mux: err = %v, want ErrUnsupportedLocation", err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := m.Open(ctx, loc); !errors.Is(err, context.Canceled) {
		t.Errorf("Mux.Open with a done context: err = %v", err)
	}
}

func TestMuxConformance(t *testing.T) {
	revisiontest.TestSource(t, func(t *testing.T) (revision.Source, revisiontest.Fixture) {
		mem := revisiontest.NewMemSource()
		n := 0
		return revision.Mux{revision.LocationS3: mem, revision.LocationAppSpecContent: revision.ContentSource{}}, revisiontest.Fixture{
			Put: func(t *testing.T, files map[string]string) revision.Location {
				n++
				loc, err := mem.PutFiles(s3("releases", fmt.Sprintf("app-%d.tgz", n), revision.BundleTgz), files)
				if err != nil {
					t.Fatal(err)
				}
				return loc
			},
			Missing:     func(t *testing.T) revision.Location { return s3("releases", "missing.zip", revision.BundleZip) },
			Unsupported: []revision.LocationType{revision.LocationGitHub, revision.LocationLocal},
		}
	})
}

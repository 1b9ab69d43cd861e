package revisiontest

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"maps"
	"os"
	"path"
	"path/filepath"
	"slices"
	"sync"
	"testing"

	"github.com/fleetdeploy/fleetdeploy/revision"
)

// Fixture lets TestSource seed and name revisions in the Source under test.
type Fixture struct {
	// Put stores a new revision whose bundle holds files (slash path ->
	// content) and returns a valid location naming it. Each call must name
	// a new revision and leave earlier ones as they were. Put may place the
	// files under one top directory (as GitHub tarballs do). Required.
	Put func(t *testing.T, files map[string]string) revision.Location

	// Missing returns a valid location, of a type the source serves, that
	// names no revision. Nil only for a source where every valid location
	// names a revision (inline AppSpec content); the not-found check is
	// then left out.
	Missing func(t *testing.T) revision.Location

	// AppSpecOnly says the source holds only bare AppSpec bundles (YAML or
	// JSON): Put is then given a single file, "appspec.yaml".
	AppSpecOnly bool

	// Unsupported lists location types the source does not serve; for
	// each, Open of a valid location must fail with
	// revision.ErrUnsupportedLocation. (A type unknown to package revision
	// is always checked.)
	Unsupported []revision.LocationType
}

// suiteRevisions returns the files of the two revisions TestSource seeds.
func suiteRevisions(appSpecOnly bool) (first, second map[string]string) {
	if appSpecOnly {
		return map[string]string{"appspec.yaml": "version: 0.0\nResources: []\n"},
			map[string]string{"appspec.yaml": "version: 0.0\nResources: []\nHooks: []\n"}
	}
	return map[string]string{
			"appspec.yaml":     "version: 0.0\nos: linux\nfiles:\n  - source: /web\n    destination: /var/www/html\n",
			"scripts/start.sh": "#!/bin/sh\necho started\n",
			"web/index.html":   "<h1>revisiontest</h1>\n",
			"web/css/site.css": "body { color: black; }\n",
		}, map[string]string{
			"appspec.yaml":   "version: 0.0\nos: linux\n",
			"web/index.html": "<h1>revisiontest, second revision</h1>\n",
		}
}

// TestSource runs the conformance suite of the revision.Source contract
// against the source newSource returns; newSource is called once per
// subtest, with that subtest's t. It checks, reporting every violation:
//
//   - Open of a seeded revision returns a well-formed bundle (valid type,
//     Body or Dir as the type requires, resolved location of the same type
//     that validates, Env holding revision.BundleEnv of it) whose files
//     unpack to exactly what was seeded, and whose AppSpec ReadAppSpec
//     finds;
//   - a missing revision fails with revision.ErrRevisionNotFound;
//   - a done context fails with the context's error;
//   - the resolved location is stable: opening the location twice, or
//     opening the resolved location, gives equal Keys; another revision
//     gives another Key;
//   - a location of the served type without its field fails with
//     revision.ErrInvalidLocation;
//   - an unsupported location type fails with
//     revision.ErrUnsupportedLocation;
//   - concurrent Opens of one revision all succeed (run with -race).
func TestSource(t *testing.T, newSource func(t *testing.T) (revision.Source, Fixture)) {
	t.Helper()
	files := func(fx Fixture) (map[string]string, map[string]string) { return suiteRevisions(fx.AppSpecOnly) }

	t.Run("OpenUnpacksSeededFiles", func(t *testing.T) {
		src, fx := newSource(t)
		want, _ := files(fx)
		loc := fx.Put(t, maps.Clone(want))
		b := mustOpen(t, src, loc)
		checkBundle(t, loc, b)
		dst := filepath.Join(t.TempDir(), "bundle")
		if _, err := revision.Unpack(t.Context(), b, dst); err != nil {
			t.Fatalf("Unpack of the bundle Open(%s) returned: %v", loc, err)
		}
		compareFiles(t, want, readTree(t, dst))
	})

	t.Run("ReadAppSpec", func(t *testing.T) {
		src, fx := newSource(t)
		want, _ := files(fx)
		loc := fx.Put(t, maps.Clone(want))
		b := mustOpen(t, src, loc)
		name, content, err := revision.ReadAppSpec(t.Context(), b)
		if err != nil {
			t.Fatalf("ReadAppSpec of Open(%s): %v", loc, err)
		}
		if path.Base(name) != "appspec.yaml" || string(content) != want["appspec.yaml"] {
			t.Errorf("ReadAppSpec of Open(%s) = %q, %q; want appspec.yaml, %q", loc, name, content, want["appspec.yaml"])
		}
	})

	t.Run("NotFound", func(t *testing.T) {
		src, fx := newSource(t)
		if fx.Missing == nil {
			t.Log("Fixture.Missing is nil: every valid location names a revision")
			return
		}
		loc := fx.Missing(t)
		b, err := src.Open(t.Context(), loc)
		if !errors.Is(err, revision.ErrRevisionNotFound) {
			b.Close()
			t.Errorf("Open(%s) of a missing revision: err = %v, want ErrRevisionNotFound", loc, err)
		}
	})

	t.Run("ContextDone", func(t *testing.T) {
		src, fx := newSource(t)
		want, _ := files(fx)
		locs := []revision.Location{fx.Put(t, maps.Clone(want))}
		if fx.Missing != nil {
			locs = append(locs, fx.Missing(t))
		}
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		for _, loc := range locs {
			b, err := src.Open(ctx, loc)
			if !errors.Is(err, context.Canceled) {
				b.Close()
				t.Errorf("Open(%s) with a cancelled context: err = %v, want context.Canceled", loc, err)
			}
		}
	})

	t.Run("StableIdentity", func(t *testing.T) {
		src, fx := newSource(t)
		want, other := files(fx)
		loc := fx.Put(t, maps.Clone(want))
		b1 := mustOpen(t, src, loc)
		b2 := mustOpen(t, src, loc)
		if k1, k2 := b1.Location.Key(), b2.Location.Key(); k1 != k2 {
			t.Errorf("two Opens of %s resolved to different identities %q and %q", loc, k1, k2)
		}
		b3 := mustOpen(t, src, b1.Location)
		if k1, k3 := b1.Location.Key(), b3.Location.Key(); k1 != k3 {
			t.Errorf("Open of the resolved location %s resolved to %q, not %q", b1.Location, k3, k1)
		}
		loc2 := fx.Put(t, maps.Clone(other))
		b4 := mustOpen(t, src, loc2)
		if b4.Location.Equal(b1.Location) {
			t.Errorf("two different revisions %s and %s have the same identity %q", loc, loc2, b1.Location.Key())
		}
	})

	t.Run("InvalidLocation", func(t *testing.T) {
		src, fx := newSource(t)
		want, _ := files(fx)
		loc := fx.Put(t, maps.Clone(want))
		bad := revision.Location{Type: loc.Type}
		b, err := src.Open(t.Context(), bad)
		if !errors.Is(err, revision.ErrInvalidLocation) {
			b.Close()
			t.Errorf("Open(%+v) of a %s location without its field: err = %v, want ErrInvalidLocation", bad, loc.Type, err)
		}
	})

	t.Run("UnsupportedType", func(t *testing.T) {
		src, fx := newSource(t)
		locs := []revision.Location{{Type: "Unsupported"}}
		for _, typ := range fx.Unsupported {
			locs = append(locs, sampleLocation(typ))
		}
		for _, loc := range locs {
			b, err := src.Open(t.Context(), loc)
			if !errors.Is(err, revision.ErrUnsupportedLocation) {
				b.Close()
				t.Errorf("Open of a %q location: err = %v, want ErrUnsupportedLocation", loc.Type, err)
			}
		}
	})

	t.Run("ConcurrentOpens", func(t *testing.T) {
		src, fx := newSource(t)
		want, _ := files(fx)
		loc := fx.Put(t, maps.Clone(want))
		var wg sync.WaitGroup
		for range 8 {
			wg.Go(func() {
				b, err := src.Open(t.Context(), loc)
				if err != nil {
					t.Errorf("concurrent Open(%s): %v", loc, err)
					return
				}
				defer b.Close()
				if _, content, err := revision.ReadAppSpec(t.Context(), b); err != nil || string(content) != want["appspec.yaml"] {
					t.Errorf("concurrent Open(%s): ReadAppSpec = %q, %v; want %q", loc, content, err, want["appspec.yaml"])
				}
			})
		}
		wg.Wait()
	})
}

func mustOpen(t *testing.T, src revision.Source, loc revision.Location) *revision.Bundle {
	t.Helper()
	b, err := src.Open(t.Context(), loc)
	if err != nil {
		t.Fatalf("Open(%s): %v", loc, err)
	}
	if b == nil {
		t.Fatalf("Open(%s) returned a nil bundle and no error", loc)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

// checkBundle checks the shape the Source contract promises.
func checkBundle(t *testing.T, loc revision.Location, b *revision.Bundle) {
	t.Helper()
	if !slices.Contains(b.Type.Values(), b.Type) {
		t.Errorf("Open(%s): bundle type %q is not a valid BundleType", loc, b.Type)
	}
	if b.Type == revision.BundleDir && (b.Dir == "" || b.Body != nil) {
		t.Errorf("Open(%s): a Dir bundle must have Dir set and Body nil (Dir %q, Body %v)", loc, b.Dir, b.Body)
	}
	if b.Type != revision.BundleDir && (b.Body == nil || b.Dir != "") {
		t.Errorf("Open(%s): a %s bundle must have Body set and Dir empty (Dir %q, Body %v)", loc, b.Type, b.Dir, b.Body)
	}
	if b.Location.Type != loc.Type {
		t.Errorf("Open(%s): resolved location has type %q, want %q", loc, b.Location.Type, loc.Type)
	}
	if err := b.Location.Validate(); err != nil {
		t.Errorf("Open(%s): resolved location is invalid: %v", loc, err)
	}
	for k, v := range revision.BundleEnv(b.Location) {
		if got, ok := b.Env[k]; !ok || got != v {
			t.Errorf("Open(%s): Env[%s] = %q (set: %v), want %q (the bundle variables the CodeDeploy agent sets)", loc, k, got, ok, v)
		}
	}
}

// readTree returns the regular files below dir (slash path -> content).
func readTree(t *testing.T, dir string) map[string]string {
	t.Helper()
	got := map[string]string{}
	fsys := os.DirFS(dir)
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		data, err := fs.ReadFile(fsys, p)
		got[p] = string(data)
		return err
	})
	if err != nil {
		t.Fatalf("reading the unpacked bundle: %v", err)
	}
	return got
}

func compareFiles(t *testing.T, want, got map[string]string) {
	t.Helper()
	for _, p := range slices.Sorted(maps.Keys(want)) {
		g, ok := got[p]
		switch {
		case !ok:
			t.Errorf("unpacked bundle lacks %s", p)
		case !bytes.Equal([]byte(g), []byte(want[p])):
			t.Errorf("unpacked %s = %q, want %q", p, g, want[p])
		}
	}
	for _, p := range slices.Sorted(maps.Keys(got)) {
		if _, ok := want[p]; !ok {
			t.Errorf("unpacked bundle has %s, which was not seeded", p)
		}
	}
}

// sampleLocation returns a valid location of type typ.
func sampleLocation(typ revision.LocationType) revision.Location {
	switch typ {
	case revision.LocationS3:
		return revision.Location{Type: typ, S3: &revision.S3Location{Bucket: "revisiontest", Key: "app.zip", BundleType: revision.BundleZip}}
	case revision.LocationGitHub:
		return revision.Location{Type: typ, GitHub: &revision.GitHubLocation{Repository: "revisiontest/app", CommitID: "0123456789abcdef0123456789abcdef01234567"}}
	case revision.LocationAppSpecContent:
		return revision.Location{Type: typ, AppSpecContent: &revision.AppSpecContent{Content: "version: 0.0\n"}}
	case revision.LocationLocal:
		return revision.Location{Type: typ, Local: &revision.LocalLocation{Path: "revisiontest-app.zip"}}
	}
	return revision.Location{Type: typ}
}

// Package revisiontest is the test kit of package revision: an in-memory
// Source, builders for bundles, and the conformance suite for Source
// implementations. It imports testing; production code should not import
// it.
//
// # MemSource
//
// MemSource stores S3, GitHub and Local revisions in memory. Put stores
// bundle bytes, PutFiles builds them from a map of path to content; both
// return the resolved location (S3 eTag and version, Local SHA-256), so
// tests can check identity and the bundle environment variables without
// a cloud:
//
//	src := revisiontest.NewMemSource()
//	loc, err := src.PutFiles(revision.Location{
//		Type: revision.LocationS3,
//		S3:   &revision.S3Location{Bucket: "releases", Key: "web.zip", BundleType: revision.BundleZip},
//	}, map[string]string{"appspec.yml": "version: 0.0\nos: linux\n"})
//
// Failures are injected per revision: SetError makes Opens of it fail with
// a given error; Hold makes them block until released or until their
// context is done, which tests timeouts and cancellation without sleeping.
// Opens counts the calls, for tests of caching.
//
// # Building bundles
//
// Zip, Tar and Tgz build archives from a map of path to content. Build
// takes Entry values instead, for symlinks, hard links, modes, devices,
// FIFOs, duplicate names and hostile paths such as "../x". Output is
// deterministic: the same entries build the same bytes.
//
// # Conformance suite
//
// TestSource checks any revision.Source against the contract documented
// on revision.Source.Open. A Source implementation plugs in with a
// function that returns the source and a Fixture able to seed revisions
// in it:
//
//	func TestConformance(t *testing.T) {
//		revisiontest.TestSource(t, func(t *testing.T) (revision.Source, revisiontest.Fixture) {
//			src := newMySource(t)
//			return src, revisiontest.Fixture{
//				Put:         func(t *testing.T, files map[string]string) revision.Location { ... },
//				Missing:     func(t *testing.T) revision.Location { ... },
//				Unsupported: []revision.LocationType{revision.LocationGitHub},
//			}
//		})
//	}
package revisiontest

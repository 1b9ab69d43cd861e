package revision

import (
	"context"

	"github.com/fleetdeploy/fleetdeploy/internal/errmsg"
)

// Source opens revisions: it turns a Location into a Bundle. Implementations
// live beside the storage they read: LocalSource and ContentSource here,
// S3 and GitHub sources in adapter packages (revision/s3revision, ...), and
// revisiontest.MemSource for tests. Mux routes by location type.
//
// Every implementation must satisfy the contract of Open, which the
// conformance suite revisiontest.TestSource checks.
type Source interface {
	// Open opens the revision loc names. It must be safe to call
	// concurrently.
	//
	// On success it returns a non-nil *Bundle with a valid Type, exactly
	// one of Body (Type != BundleDir) and Dir (Type == BundleDir) set,
	// Location resolved (same Type as loc; valid; opening it again names
	// the same revision, with an equal Key, as long as the stored
	// revision is unchanged) and Env holding at least BundleEnv(Location).
	// The caller must Close the bundle.
	//
	// Errors, checked in this order, each wrapping the sentinel so that
	// errors.Is works:
	//   - ctx already done: the context's error;
	//   - loc.Type is not a type the Source serves, including a type
	//     unknown to this package: ErrUnsupportedLocation, naming the type;
	//   - loc is not valid (Location.Validate): ErrInvalidLocation;
	//   - no revision at loc (no such object, version, commit or path):
	//     ErrRevisionNotFound;
	//   - the revision's content contradicts what loc pins (an S3 eTag, a
	//     local sha256): ErrChecksumMismatch.
	//
	// Any other error means the Source could not reach its storage.
	// If ctx is done while Open works, Open returns an error wrapping the
	// context's error. Open need not watch ctx while the caller reads Body;
	// Unpack and ReadAppSpec check their own ctx between reads.
	Open(ctx context.Context, loc Location) (*Bundle, error)
}

// Compile-time checks that the package's sources satisfy Source.
var (
	_ Source = (*LocalSource)(nil)
	_ Source = ContentSource{}
	_ Source = Mux(nil)
)

// unsupportedType is the ErrUnsupportedLocation error of a Source named src
// that serves the types served.
func unsupportedType(src string, t LocationType, served ...LocationType) error {
	list := "nothing"
	if len(served) > 0 {
		list = joinLocationTypes(served)
	}
	return errmsg.Errorf("revision: %s does not serve location type %q (it serves %s): %w", src, t, list, ErrUnsupportedLocation)
}

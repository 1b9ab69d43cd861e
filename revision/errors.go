package revision

import "errors"

// Sentinel errors of revision sources and bundle handling. Errors returned by
// this package, and by well-behaved Source implementations, wrap one of these
// (or a context error), so callers test with errors.Is. The AppSpec parser's
// sentinel, ErrInvalidAppSpec, is documented with the parser.
var (
	// ErrInvalidLocation is matched by every error Location.Validate
	// returns, and by errors a Source returns for a location it cannot use
	// as given.
	ErrInvalidLocation = errors.New("revision: invalid revision location")

	// ErrUnsupportedLocation means a Source does not serve locations of
	// that type (for example an S3 location handed to a LocalSource, or a
	// Mux with no Source registered for the type).
	ErrUnsupportedLocation = errors.New("revision: unsupported revision location type")

	// ErrRevisionNotFound means the location is valid and of a type the
	// Source serves, but names no revision: no such object, version, commit
	// or path.
	ErrRevisionNotFound = errors.New("revision: revision not found")

	// ErrChecksumMismatch means the revision was found but its content does
	// not match what the location pins: an S3 eTag or a local SHA-256
	// that differs from the stored bundle's.
	ErrChecksumMismatch = errors.New("revision: bundle does not match the checksum its location pins")

	// ErrAppSpecNotFound means a bundle holds no AppSpec file where the
	// CodeDeploy agent looks for one (see ReadAppSpec).
	ErrAppSpecNotFound = errors.New("revision: no AppSpec file in the bundle")

	// ErrUnsafePath is wrapped by the *ExtractError for a bundle entry that
	// would write outside the destination, or that is not a plain file,
	// directory or link: an absolute or ".." path, a symlink leading out of
	// the destination, a path through a symlink, a hard link to something
	// other than an earlier regular file, a device or FIFO, a duplicate.
	ErrUnsafePath = errors.New("revision: unsafe bundle entry")

	// ErrLimitExceeded is wrapped by the *ExtractError for a bundle larger
	// than its ExtractLimits allow.
	ErrLimitExceeded = errors.New("revision: bundle exceeds the extraction limits")

	// ErrCorruptBundle is wrapped by the *ExtractError for a bundle that
	// cannot be read as its BundleType: not an archive of that format,
	// truncated, or failing a checksum.
	ErrCorruptBundle = errors.New("revision: corrupt or truncated bundle")
)

// Package s3revision is a revision.Source for bundles stored in Amazon S3,
// the S3 revision locations of CodeDeploy (RevisionLocation with
// revisionType S3).
//
//	client := s3.NewFromConfig(cfg)
//	src, err := s3revision.New(client, func(o *s3revision.Options) {
//		o.Logger = logger
//	})
//	...
//	b, err := src.Open(ctx, revision.Location{
//		Type: revision.LocationS3,
//		S3: &revision.S3Location{Bucket: "releases", Key: "web.zip", BundleType: revision.BundleZip},
//	})
//	...
//	defer b.Close()
//	res, err := revision.Unpack(ctx, b, dir)
//
// # What Open does
//
// Open makes one GetObject request for the location's bucket and key, with
// its version when the location names one (none means the latest version,
// as in CodeDeploy). Before it reads a byte of the body it checks the
// response's headers:
//
//   - the object's size (Content-Length) against Options.MaxBytes: a bundle
//     that is too large is refused, with an error wrapping
//     revision.ErrLimitExceeded, without being downloaded;
//   - the object's eTag against the eTag the location pins, when it pins
//     one (quotes and case ignored): a different object (the key was
//     overwritten since the revision was registered) fails with
//     revision.ErrChecksumMismatch, as the CodeDeploy agent refuses a
//     bundle whose eTag is not the expected one.
//
// The bundle's Body is the response body itself: nothing is buffered, so
// a bundle of a gigabyte streams from S3 into revision.Unpack (tar and tgz
// are unpacked as they arrive; a zip is spooled to a temporary file beside
// the destination, since a zip is read from its end). The body stays bound
// to Open's context: cancelling it stops the download, and reads fail
// with the context's error. Close the bundle to release the connection.
//
// The bundle type is the location's bundleType. The resolved location
// carries the object's version (when S3 reports one) and eTag, so that it
// names exactly the object that was read; its BUNDLE_BUCKET, BUNDLE_KEY,
// BUNDLE_VERSION and BUNDLE_ETAG go into Bundle.Env.
//
// # Errors
//
// No such bucket, key or version (NoSuchBucket, NoSuchKey, NoSuchVersion,
// or a 404 answer) wraps revision.ErrRevisionNotFound, which the executor
// reports as CodeDeploy's REVISION_MISSING. A refusal (AccessDenied, or a
// 403 answer) wraps ErrAccessDenied and names the bucket and key, and
// what permission to grant. Every error the SDK returned stays reachable:
// errors.As finds its smithy.APIError.
//
// # Client
//
// New takes any API, the one S3 operation the source calls; *s3.Client
// implements it. Retries are the SDK client's own retryer. Tests point the
// client at gofakes3 or moto with path-style addressing.
package s3revision

package s3revision

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"

	"github.com/fleetdeploy/fleetdeploy/revision"
)

// API is the part of the S3 client the source uses; *s3.Client implements
// it. Tests wrap a real client in it to count or refuse requests.
type API interface {
	GetObject(ctx context.Context, in *s3.GetObjectInput, optFns ...func(*s3.Options)) (*s3.GetObjectOutput, error)
}

var _ API = (*s3.Client)(nil)

// DefaultMaxBytes is the default of Options.MaxBytes: the largest archive
// revision.Unpack can accept under its default limits — the content
// (revision.DefaultMaxBytes), plus 1/64 of it, 1 KiB per entry
// (revision.DefaultMaxFiles) and 1 MiB for the archive's own headers.
const DefaultMaxBytes = revision.DefaultMaxBytes + revision.DefaultMaxBytes/64 + int64(revision.DefaultMaxFiles)*1024 + 1<<20

// ErrAccessDenied is wrapped by the error of an Open that S3 refused
// (AccessDenied, or a 403 answer): the credentials may not read the
// object.
var ErrAccessDenied = errors.New("s3revision: access denied")

// Options are the source's optional settings; New fills in defaults for
// zero fields.
type Options struct {
	// MaxBytes bounds the size of an object Open accepts. A larger object
	// is refused before its body is read, with an error wrapping
	// revision.ErrLimitExceeded. Default DefaultMaxBytes; set it in line
	// with the revision.ExtractLimits given to revision.Unpack.
	MaxBytes int64
	// Logger receives a debug record per opened bundle. Default: discarded.
	Logger *slog.Logger
}

// Source is a revision.Source for S3 locations. It is safe for concurrent
// use. Use New.
type Source struct {
	api API
	opt Options
}

var _ revision.Source = (*Source)(nil)

// New returns a Source reading through client.
func New(client API, opts ...func(*Options)) (*Source, error) {
	if client == nil {
		return nil, errors.New("s3revision: New: the S3 client is nil")
	}
	var o Options
	for _, f := range opts {
		f(&o)
	}
	if o.MaxBytes == 0 {
		o.MaxBytes = DefaultMaxBytes
	}
	if o.MaxBytes < 0 {
		return nil, fmt.Errorf("s3revision: New: Options.MaxBytes must be positive; got %d", o.MaxBytes)
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return &Source{api: client, opt: o}, nil
}

// Open downloads the S3 object loc names; see revision.Source for the
// contract and the package documentation for the checks. Besides the
// contract's errors it returns errors wrapping revision.ErrLimitExceeded
// (the object is larger than Options.MaxBytes) and ErrAccessDenied. The
// bundle's Body must be read before ctx is done.
func (s *Source) Open(ctx context.Context, loc revision.Location) (*revision.Bundle, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if loc.Type != revision.LocationS3 {
		return nil, fmt.Errorf("s3revision: the S3 source does not serve location type %q (it serves S3): %w", loc.Type, revision.ErrUnsupportedLocation)
	}
	if err := loc.Validate(); err != nil {
		return nil, err
	}
	want := *loc.S3
	name := loc.String()
	in := &s3.GetObjectInput{Bucket: aws.String(want.Bucket), Key: aws.String(want.Key)}
	if want.Version != "" {
		in.VersionId = aws.String(want.Version)
	}
	out, err := s.api.GetObject(ctx, in)
	if err != nil {
		return nil, s.getError(ctx, name, want, err)
	}
	fail := func(err error) (*revision.Bundle, error) {
		out.Body.Close()
		return nil, err
	}
	if out.ContentLength != nil && *out.ContentLength > s.opt.MaxBytes {
		return fail(fmt.Errorf("s3revision: %s is %d bytes, more than the %d the source accepts (Options.MaxBytes); raise the limit or ship a smaller bundle: %w",
			name, *out.ContentLength, s.opt.MaxBytes, revision.ErrLimitExceeded))
	}
	etag := strings.Trim(aws.ToString(out.ETag), `"`)
	if pinned := strings.Trim(want.ETag, `"`); pinned != "" && !strings.EqualFold(pinned, etag) {
		return fail(fmt.Errorf("s3revision: %s has eTag %q, not the %q its location pins: the object was replaced since the revision was registered; register the object now there, or restore the pinned version: %w",
			name, etag, pinned, revision.ErrChecksumMismatch))
	}
	got := want
	got.ETag = etag
	if v := aws.ToString(out.VersionId); v != "" {
		got.Version = v
	}
	resolved := revision.Location{Type: revision.LocationS3, S3: &got}
	s.opt.Logger.DebugContext(ctx, "s3revision: opened bundle",
		"bucket", got.Bucket, "key", got.Key, "version", got.Version, "etag", got.ETag,
		"bytes", aws.ToInt64(out.ContentLength), "bundleType", got.BundleType)
	return &revision.Bundle{
		Type:     want.BundleType,
		Location: resolved,
		Env:      revision.BundleEnv(resolved),
		Body:     &body{ctx: ctx, rc: out.Body, max: s.opt.MaxBytes, name: name},
	}, nil
}

// getError explains a failed GetObject.
func (s *Source) getError(ctx context.Context, name string, loc revision.S3Location, err error) error {
	if ctxErr := ctx.Err(); ctxErr != nil {
		return fmt.Errorf("s3revision: get %s: %w", name, err)
	}
	code, status := "", 0
	var ae smithy.APIError
	if errors.As(err, &ae) {
		code = ae.ErrorCode()
	}
	var hs interface{ HTTPStatusCode() int }
	if errors.As(err, &hs) {
		status = hs.HTTPStatusCode()
	}
	switch {
	case code == "NoSuchVersion" || (loc.Version != "" && code == "InvalidArgument"):
		return fmt.Errorf("s3revision: %s: bucket %q has no version %q of key %q; name an existing version or register the revision again: %w: %w",
			name, loc.Bucket, loc.Version, loc.Key, revision.ErrRevisionNotFound, err)
	case code == "NoSuchBucket":
		return fmt.Errorf("s3revision: %s: there is no bucket %q; check the location's bucket (and the client's region): %w: %w",
			name, loc.Bucket, revision.ErrRevisionNotFound, err)
	case code == "NoSuchKey" || code == "NotFound" || status == 404:
		return fmt.Errorf("s3revision: %s: bucket %q has no key %q; upload the bundle or fix the location's key: %w: %w",
			name, loc.Bucket, loc.Key, revision.ErrRevisionNotFound, err)
	case code == "AccessDenied" || code == "AllAccessDisabled" || code == "Forbidden" || status == 403:
		perm := "s3:GetObject"
		if loc.Version != "" {
			perm = "s3:GetObjectVersion"
		}
		return fmt.Errorf("s3revision: %s: access denied to key %q of bucket %q; grant %s on arn:aws:s3:::%s/%s to the credentials the S3 client uses (and check the bucket policy and KMS key): %w: %w",
			name, loc.Key, loc.Bucket, perm, loc.Bucket, loc.Key, ErrAccessDenied, err)
	}
	return fmt.Errorf("s3revision: get %s: %w", name, err)
}

// body is an object's content as Bundle.Body: it stops once Open's
// context is done or more than max bytes arrive.
type body struct {
	ctx  context.Context
	rc   io.ReadCloser
	n    int64
	max  int64
	name string
}

func (b *body) Read(p []byte) (int, error) {
	if err := b.ctx.Err(); err != nil {
		return 0, fmt.Errorf("s3revision: reading %s: %w", b.name, err)
	}
	n, err := b.rc.Read(p)
	b.n += int64(n)
	if b.n > b.max {
		return n, fmt.Errorf("s3revision: %s holds more than %d bytes (Options.MaxBytes): %w", b.name, b.max, revision.ErrLimitExceeded)
	}
	if err != nil && err != io.EOF {
		if ctxErr := b.ctx.Err(); ctxErr != nil {
			return n, fmt.Errorf("s3revision: reading %s: %w", b.name, ctxErr)
		}
		return n, fmt.Errorf("s3revision: reading %s: %w", b.name, err)
	}
	return n, err
}

func (b *body) Close() error { return b.rc.Close() }

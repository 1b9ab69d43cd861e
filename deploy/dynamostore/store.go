package dynamostore

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/fleetdeploy/fleetdeploy/deploy"
	"github.com/fleetdeploy/fleetdeploy/deploy/clock"
)

// API is the part of the DynamoDB client the store uses; *dynamodb.Client
// implements it. Tests wrap a real client in it to inject throttling or
// unprocessed items.
type API interface {
	DescribeTable(ctx context.Context, in *dynamodb.DescribeTableInput, optFns ...func(*dynamodb.Options)) (*dynamodb.DescribeTableOutput, error)
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	PutItem(ctx context.Context, in *dynamodb.PutItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
	Query(ctx context.Context, in *dynamodb.QueryInput, optFns ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
	BatchGetItem(ctx context.Context, in *dynamodb.BatchGetItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error)
	BatchWriteItem(ctx context.Context, in *dynamodb.BatchWriteItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.BatchWriteItemOutput, error)
	TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, optFns ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error)
}

var _ API = (*dynamodb.Client)(nil)

// Options are the store's settings; New fills in defaults for zero fields.
type Options struct {
	// Clock is what the store waits on between retries of unprocessed
	// batch items. Default clock.System().
	Clock clock.Clock
	// Logger receives warnings (leftovers a failed batch could not
	// clean up). Default: discarded.
	Logger *slog.Logger
	// Parallelism is how many batch requests (BatchWriteItem,
	// BatchGetItem) and per-item writes of a large call are in flight at
	// once. Default 8.
	Parallelism int
	// BatchAttempts is how many times a batch request is sent before the
	// call gives up on items DynamoDB keeps returning as unprocessed.
	// Default 10.
	BatchAttempts int
	// BaseBackoff and MaxBackoff bound the exponential wait between
	// attempts of a batch request (full jitter). Defaults 50ms and 5s.
	BaseBackoff, MaxBackoff time.Duration
	// PageSize is the number of targets ListTargets returns when the
	// caller lets it choose. Default 1000.
	PageSize int
	// MaxDeltas is how many committed PutInstances deltas a group keeps
	// listed before the next PutInstances folds them all into its own
	// delta (see the package documentation). Readers of instance records
	// read one item per listed delta. Default 4.
	MaxDeltas int
	// LocatorCacheSize bounds how many packed target records (as
	// PutTargets wrote them; they never change) the store remembers, so
	// that UpdateTarget, GetTarget and ListTargets need not read their
	// bucket items again. Default 1<<20.
	LocatorCacheSize int
}

// Store is a deploy.Store on one DynamoDB table. Several Stores — in one
// process or on several machines — on the same table are handles on the
// same storage: every rule of the contract holds across them. A Store is
// safe for concurrent use.
//
// The table is checked (DescribeTable) on the first call that needs it;
// a missing table or a wrong key schema fails that call, and every later
// one, with an error that names the table and what is wrong.
type Store struct {
	api   API
	table string
	opt   Options

	checkMu sync.Mutex
	checked bool  // the table was found fit
	bad     error // the table is unfit, for good

	cache cache

	id   string // the handle's ID, in the head items' lh
	uses uses   // the leases this handle's fenced views write under
}

var _ deploy.Store = (*Store)(nil)

// New returns a store on table, which must exist with the schema the
// package documentation describes (CreateTable creates it).
func New(client API, table string, opts ...func(*Options)) (*Store, error) {
	if client == nil {
		return nil, errors.New("dynamostore: New: the DynamoDB client is nil")
	}
	if len(table) < 3 || len(table) > 255 {
		return nil, fmt.Errorf("dynamostore: New: table name %q must be 3 to 255 characters", table)
	}
	o, err := resolve(opts)
	if err != nil {
		return nil, err
	}
	s := &Store{api: client, table: table, opt: o, id: randomID(16)}
	s.cache.init(o.LocatorCacheSize)
	return s, nil
}

// resolve applies opts to the defaults and checks the result.
func resolve(opts []func(*Options)) (Options, error) {
	var o Options
	for _, f := range opts {
		f(&o)
	}
	if o.Clock == nil {
		o.Clock = clock.System()
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Parallelism == 0 {
		o.Parallelism = 8
	}
	if o.BatchAttempts == 0 {
		o.BatchAttempts = 10
	}
	if o.BaseBackoff == 0 {
		o.BaseBackoff = 50 * time.Millisecond
	}
	if o.MaxBackoff == 0 {
		o.MaxBackoff = 5 * time.Second
	}
	if o.PageSize == 0 {
		o.PageSize = 1000
	}
	if o.MaxDeltas == 0 {
		o.MaxDeltas = 4
	}
	if o.LocatorCacheSize == 0 {
		o.LocatorCacheSize = 1 << 20
	}
	switch {
	case o.Parallelism < 0:
		return o, fmt.Errorf("dynamostore: Options.Parallelism must be positive; got %d", o.Parallelism)
	case o.BatchAttempts < 0:
		return o, fmt.Errorf("dynamostore: Options.BatchAttempts must be positive; got %d", o.BatchAttempts)
	case o.BaseBackoff < 0 || o.MaxBackoff < o.BaseBackoff:
		return o, fmt.Errorf("dynamostore: Options.BaseBackoff (%s) must be positive and at most MaxBackoff (%s)", o.BaseBackoff, o.MaxBackoff)
	case o.PageSize < 0:
		return o, fmt.Errorf("dynamostore: Options.PageSize must be positive; got %d", o.PageSize)
	case o.MaxDeltas < 0:
		return o, fmt.Errorf("dynamostore: Options.MaxDeltas must be positive; got %d", o.MaxDeltas)
	case o.LocatorCacheSize < 0:
		return o, fmt.Errorf("dynamostore: Options.LocatorCacheSize must not be negative; got %d", o.LocatorCacheSize)
	}
	return o, nil
}

// Table returns the name of the store's table.
func (s *Store) Table() string { return s.table }

// ready checks the table once (DescribeTable): it returns the error of an
// unfit table, or of the check (which is then tried again next time).
func (s *Store) ready(ctx context.Context) error {
	s.checkMu.Lock()
	defer s.checkMu.Unlock()
	if s.checked {
		return nil
	}
	if s.bad != nil {
		return s.bad
	}
	out, err := s.api.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: &s.table})
	var nf *types.ResourceNotFoundException
	switch {
	case errors.As(err, &nf):
		s.bad = fmt.Errorf("dynamostore: table %q does not exist; create it with dynamostore.CreateTable or as the package documentation describes: %w", s.table, err)
		return s.bad
	case err != nil:
		return fmt.Errorf("dynamostore: describing table %q: %w", s.table, err)
	}
	if err := checkSchema(s.table, out.Table); err != nil {
		s.bad = err
		return err
	}
	s.checked = true
	return nil
}

// recErr is deploy's error for a record.
func recErr(record, key string, err error) error {
	return &deploy.RecordError{Record: record, Key: key, Err: err}
}

// invalid is ErrInvalidArgument for a record.
func invalid(record, key, format string, args ...any) error {
	return recErr(record, key, fmt.Errorf("%w: "+format, append([]any{deploy.ErrInvalidArgument}, args...)...))
}

// begin returns ctx's error or the table's, for a record, or nil: what
// every method checks before it touches the table.
func (s *Store) begin(ctx context.Context, record, key string) error {
	if err := ctx.Err(); err != nil {
		return recErr(record, key, err)
	}
	if err := s.ready(ctx); err != nil {
		return recErr(record, key, err)
	}
	return nil
}

// opErr wraps the error of a DynamoDB call about a record: the SDK's
// error (an *smithy.OperationError holding the smithy.APIError) stays
// reachable with errors.As, and ctx's error with errors.Is.
func (s *Store) opErr(record, key, op string, err error) error {
	return recErr(record, key, fmt.Errorf("dynamostore: %s on table %q: %w", op, s.table, err))
}

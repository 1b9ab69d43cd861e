package dynamostore

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/hashicorp/go-multierror"
	"golang.org/x/sync/errgroup"

	"github.com/fleetdeploy/fleetdeploy/deploy/clock"
	"github.com/fleetdeploy/fleetdeploy/internal/errmsg"
)

// Limits of DynamoDB's batch operations.
const (
	batchWriteMax = 25
	batchGetMax   = 100
)

// item is a DynamoDB item.
type item = map[string]types.AttributeValue

// condFailed returns the item as stored (nil when there is none) when err
// is a failed condition of PutItem or UpdateItem asked with
// ReturnValuesOnConditionCheckFailure ALL_OLD.
func condFailed(err error) (old item, ok bool) {
	var cf *types.ConditionalCheckFailedException
	if errors.As(err, &cf) {
		return cf.Item, true
	}
	return nil, false
}

// getItem reads one item with a strongly consistent read; nil when there
// is none.
func (s *Store) getItem(ctx context.Context, pk, sk string) (item, error) {
	out, err := s.api.GetItem(ctx, &dynamodb.GetItemInput{TableName: &s.table, Key: key(pk, sk), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return nil, err
	}
	return out.Item, nil
}

// txItem is one action of a transaction and what its failed condition
// means.
type txItem struct {
	w types.TransactWriteItem
	// failed returns the error for this action's failed condition, given
	// the item as stored (nil when there is none).
	failed func(old item) error
}

// errTxConflict is returned by transact when DynamoDB kept cancelling the
// transaction for conflicts with other transactions.
var errTxConflict = errors.New("dynamostore: the transaction kept conflicting with concurrent ones")

// transact runs the actions as one TransactWriteItems. When it is
// cancelled for a failed condition, it returns the failed function's
// error of the first action whose condition failed, in the order given —
// so callers list the conditions whose error matters most first. It
// retries transactions cancelled for a conflict with a concurrent one
// after a backoff, each attempt with a client request token of its own
// (the SDK's retries of one attempt reuse its token, so that one applied
// already is not applied again). op names the call
// in errors; record and key the record.
func (s *Store) transact(ctx context.Context, record, key, op string, items []txItem) error {
	in := &dynamodb.TransactWriteItemsInput{}
	for _, it := range items {
		w := it.w
		const old = types.ReturnValuesOnConditionCheckFailureAllOld
		switch {
		case w.Put != nil:
			w.Put.TableName, w.Put.ReturnValuesOnConditionCheckFailure = &s.table, old
		case w.Update != nil:
			w.Update.TableName, w.Update.ReturnValuesOnConditionCheckFailure = &s.table, old
		case w.ConditionCheck != nil:
			w.ConditionCheck.TableName, w.ConditionCheck.ReturnValuesOnConditionCheckFailure = &s.table, old
		case w.Delete != nil:
			w.Delete.TableName, w.Delete.ReturnValuesOnConditionCheckFailure = &s.table, old
		}
		in.TransactItems = append(in.TransactItems, w)
	}
	for attempt := 0; ; attempt++ {
		in.ClientRequestToken = aws.String(randomID(32))
		_, err := s.api.TransactWriteItems(ctx, in)
		if err == nil {
			return nil
		}
		var tc *types.TransactionCanceledException
		if !errors.As(err, &tc) {
			return s.opErr(record, key, op+" (TransactWriteItems)", err)
		}
		conflict := false
		for i, r := range tc.CancellationReasons {
			if i >= len(items) {
				break
			}
			switch aws.ToString(r.Code) {
			case "ConditionalCheckFailed":
				if items[i].failed == nil {
					return s.opErr(record, key, op+" (TransactWriteItems)", err)
				}
			case "TransactionConflict":
				conflict = true
			}
		}
		failed, own := false, true
		for i, r := range tc.CancellationReasons {
			if i < len(items) && aws.ToString(r.Code) == "ConditionalCheckFailed" {
				failed = true
				if ferr := items[i].failed(r.Item); ferr != nil {
					return ferr
				}
			} else if aws.ToString(r.Code) != "None" && aws.ToString(r.Code) != "" {
				own = false
			}
		}
		if failed && own {
			// Every failed condition found this write's own effect: a
			// retry of a transaction that was made.
			return nil
		}
		if !conflict || attempt+1 >= s.opt.BatchAttempts {
			if conflict {
				err = fmt.Errorf("%w (%d attempts): %w", errTxConflict, attempt+1, err)
			}
			return s.opErr(record, key, op+" (TransactWriteItems)", err)
		}
		if err := s.backoff(ctx, attempt); err != nil {
			return recErr(record, key, err)
		}
	}
}

// backoff waits before attempt+1 of a request: a random time up to
// BaseBackoff·2^attempt, at most MaxBackoff (full jitter), on the clock.
func (s *Store) backoff(ctx context.Context, attempt int) error {
	ceil := s.opt.MaxBackoff
	if attempt < 30 {
		ceil = min(ceil, s.opt.BaseBackoff<<attempt)
	}
	d := time.Duration(rand.Int64N(int64(ceil) + 1))
	return clock.Sleep(ctx, s.opt.Clock, d)
}

// batchWrite writes reqs with BatchWriteItem, 25 a request, Parallelism
// requests at a time, sending the items DynamoDB returns unprocessed again
// after a backoff. Once a request has failed, no further one is sent; the
// requests under way finish, and the error lists every request that failed
// (a *multierror.Error). It is not atomic: callers write only items no
// reader sees until a commit (see the package documentation).
func (s *Store) batchWrite(ctx context.Context, reqs []types.WriteRequest) error {
	var g multierror.Group
	var failed atomic.Bool
	sem := make(chan struct{}, s.opt.Parallelism)
	n := (len(reqs) + batchWriteMax - 1) / batchWriteMax
	for lo := 0; lo < len(reqs); lo += batchWriteMax {
		chunk := reqs[lo:min(lo+batchWriteMax, len(reqs))]
		sem <- struct{}{}
		if failed.Load() {
			break
		}
		g.Go(func() error {
			defer func() { <-sem }()
			if err := s.writeChunk(ctx, chunk); err != nil {
				failed.Store(true)
				return err
			}
			return nil
		})
	}
	errs := g.Wait()
	if errs == nil {
		return nil
	}
	errs.ErrorFormat = errmsg.ListFormat(fmt.Sprintf("writing %d items in %d BatchWriteItem requests", len(reqs), n), "failed requests")
	return errs.ErrorOrNil()
}

// writeChunk writes at most 25 requests, retrying unprocessed ones.
func (s *Store) writeChunk(ctx context.Context, chunk []types.WriteRequest) error {
	pending := map[string][]types.WriteRequest{s.table: chunk}
	for attempt := 0; ; attempt++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		out, err := s.api.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: pending})
		if err != nil {
			return fmt.Errorf("BatchWriteItem of %d items: %w", len(pending[s.table]), err)
		}
		if len(out.UnprocessedItems[s.table]) == 0 {
			return nil
		}
		pending = map[string][]types.WriteRequest{s.table: out.UnprocessedItems[s.table]}
		if attempt+1 >= s.opt.BatchAttempts {
			return fmt.Errorf("BatchWriteItem: %d items still unprocessed after %d attempts", len(pending[s.table]), attempt+1)
		}
		if err := s.backoff(ctx, attempt); err != nil {
			return err
		}
	}
}

// batchGet reads the items of keys with strongly consistent BatchGetItem
// requests, 100 keys a request, Parallelism at a time, asking again for
// the keys DynamoDB returns unprocessed after a backoff. projection, when
// not empty, is the ProjectionExpression. Items come back in no
// particular order; keys without an item are left out.
func (s *Store) batchGet(ctx context.Context, keys []item, projection string) ([]item, error) {
	type result struct{ items []item }
	results := make([]result, (len(keys)+batchGetMax-1)/batchGetMax)
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(s.opt.Parallelism)
	for c := range results {
		chunk := keys[c*batchGetMax : min((c+1)*batchGetMax, len(keys))]
		g.Go(func() error {
			ka := &types.KeysAndAttributes{Keys: chunk, ConsistentRead: aws.Bool(true)}
			if projection != "" {
				ka.ProjectionExpression = aws.String(projection)
			}
			pending := map[string]types.KeysAndAttributes{s.table: *ka}
			for attempt := 0; ; attempt++ {
				out, err := s.api.BatchGetItem(gctx, &dynamodb.BatchGetItemInput{RequestItems: pending})
				if err != nil {
					return fmt.Errorf("BatchGetItem of %d keys: %w", len(pending[s.table].Keys), err)
				}
				results[c].items = append(results[c].items, out.Responses[s.table]...)
				un, ok := out.UnprocessedKeys[s.table]
				if !ok || len(un.Keys) == 0 {
					return nil
				}
				pending = map[string]types.KeysAndAttributes{s.table: un}
				if attempt+1 >= s.opt.BatchAttempts {
					return fmt.Errorf("BatchGetItem: %d keys still unprocessed after %d attempts", len(un.Keys), attempt+1)
				}
				if err := s.backoff(gctx, attempt); err != nil {
					return err
				}
			}
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	var out []item
	for _, r := range results {
		out = append(out, r.items...)
	}
	return out, nil
}

// queryAll runs in and the queries of its later pages, and returns every
// item.
func (s *Store) queryAll(ctx context.Context, in *dynamodb.QueryInput) ([]item, error) {
	in.TableName = &s.table
	var out []item
	for {
		page, err := s.api.Query(ctx, in)
		if err != nil {
			return nil, err
		}
		out = append(out, page.Items...)
		if len(page.LastEvaluatedKey) == 0 {
			return out, nil
		}
		in.ExclusiveStartKey = page.LastEvaluatedKey
	}
}

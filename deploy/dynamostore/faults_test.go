package dynamostore_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/fleetdeploy/fleetdeploy/deploy/deploytest"
	"github.com/fleetdeploy/fleetdeploy/deploy/dynamostore"
	"github.com/fleetdeploy/fleetdeploy/internal/motoserver"
)

// faultyAPI wraps a real client and makes DynamoDB's partial answers
// that moto never gives: BatchWriteItem requests that process only some
// of their items, and requests that fail. The SDK still serializes every
// request it passes on, and moto still answers it.
type faultyAPI struct {
	dynamostore.API
	mu sync.Mutex
	// partialEvery makes every partialEvery-th BatchWriteItem write only
	// the first half of its items and return the rest as unprocessed.
	partialEvery int
	// neverProcess returns every BatchWriteItem's items unprocessed,
	// writing none.
	neverProcess bool
	// failWriteAt fails the failWriteAt-th BatchWriteItem from now (1:
	// the next one) with failErr, writing nothing.
	failWriteAt int
	failErr     error

	batchWrites, partial atomic.Int64
}

func (f *faultyAPI) BatchWriteItem(ctx context.Context, in *dynamodb.BatchWriteItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.BatchWriteItemOutput, error) {
	f.mu.Lock()
	k := f.batchWrites.Add(1)
	never, fail := f.neverProcess, false
	if f.failWriteAt > 0 {
		f.failWriteAt--
		fail = f.failWriteAt == 0
	}
	partial := f.partialEvery > 0 && k%int64(f.partialEvery) == 0
	f.mu.Unlock()
	if fail {
		return nil, f.failErr
	}
	if never {
		return &dynamodb.BatchWriteItemOutput{UnprocessedItems: in.RequestItems}, nil
	}
	if !partial {
		return f.API.BatchWriteItem(ctx, in, opts...)
	}
	f.partial.Add(1)
	sent := map[string][]types.WriteRequest{}
	left := map[string][]types.WriteRequest{}
	for table, reqs := range in.RequestItems {
		half := (len(reqs) + 1) / 2
		sent[table], left[table] = reqs[:half], reqs[half:]
	}
	out, err := f.API.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: sent}, opts...)
	if err != nil {
		return nil, err
	}
	for table, reqs := range left {
		out.UnprocessedItems[table] = append(out.UnprocessedItems[table], reqs...)
	}
	return out, nil
}

// set changes the faults under the lock.
func (f *faultyAPI) set(change func(f *faultyAPI)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	change(f)
}

// throttler is an HTTP transport that answers every every-th request of
// an operation with DynamoDB's ThrottlingException, without passing it
// on: the SDK's retryer must send it again.
type throttler struct {
	next      http.RoundTripper
	operation string // e.g. "BatchWriteItem"
	every     int64
	seen      atomic.Int64
	throttled atomic.Int64
}

func (t *throttler) RoundTrip(r *http.Request) (*http.Response, error) {
	if strings.HasSuffix(r.Header.Get("X-Amz-Target"), "."+t.operation) && t.seen.Add(1)%t.every == 0 {
		t.throttled.Add(1)
		if r.Body != nil {
			_, _ = io.Copy(io.Discard, r.Body)
			r.Body.Close()
		}
		body := `{"__type":"com.amazonaws.dynamodb.v20120810#ThrottlingException","message":"Rate of requests exceeds the allowed throughput."}`
		return &http.Response{
			StatusCode: http.StatusBadRequest, Status: "400 Bad Request", Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
			Header: http.Header{"Content-Type": {"application/x-amz-json-1.0"}},
			Body:   io.NopCloser(bytes.NewBufferString(body)), ContentLength: int64(len(body)), Request: r,
		}, nil
	}
	return t.next.RoundTrip(r)
}

// retryingClient returns a client of the moto server whose HTTP requests
// of operation are throttled every every-th time, and whose SDK retryer
// retries throttling at once (no backoff, no retry quota), up to 5
// attempts.
func retryingClient(t testing.TB, operation string, every int64) (*dynamodb.Client, *throttler) {
	cfg := motoserver.Config(t)
	th := &throttler{next: cfg.HTTPClient.(*http.Client).Transport, operation: operation, every: every}
	cfg.HTTPClient = &http.Client{Transport: th}
	cfg.RetryMaxAttempts = 5
	cfg.Retryer = func() aws.Retryer {
		return retry.NewStandard(func(o *retry.StandardOptions) {
			o.MaxAttempts = 5
			o.RateLimiter = ratelimit.None
			o.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return 0, nil })
		})
	}
	return dynamodb.NewFromConfig(cfg), th
}

// autoClock is a fake clock that fires the store's backoff timers as soon
// as they are set, counting them, until the test ends.
func autoClock(t *testing.T) (*deploytest.FakeClock, *atomic.Int64) {
	clk := deploytest.NewFakeClock(t0)
	ctx, cancel := context.WithCancel(context.Background())
	var fired atomic.Int64
	done := make(chan struct{})
	go func() {
		defer close(done)
		for clk.BlockUntil(ctx, 1) == nil {
			if clk.AdvanceToNext() {
				fired.Add(1)
			}
		}
	}()
	t.Cleanup(func() { cancel(); <-done })
	return clk, &fired
}

var errInjected = errors.New("injected failure")

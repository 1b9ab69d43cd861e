package main

import (
	"context"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// loadWorkers is how many requests the load generator has in flight at
// most. A tick that finds every worker busy is dropped (and counted), so
// the rate is an upper bound and a slow service never piles requests up.
const loadWorkers = 16

// requestTimeout bounds one request of the load generator.
const requestTimeout = 5 * time.Second

// loadGen sends a steady stream of GET requests to one URL — the alias —
// at a bounded rate, in real time, from a fixed pool of workers, until its
// context is done. It counts what it got back, and can wait until the
// requests sent so far have finished (settle), which is how the example
// cuts the traffic into exact per-step windows.
type loadGen struct {
	url       string
	rate      int
	client    *http.Client
	transport *http.Transport

	mu    sync.Mutex
	epoch *sync.WaitGroup // the requests started since the last settle

	sent, ok, serverErrors, otherStatus, failed, dropped atomic.Int64
}

// loadCounts is what the load generator has seen.
type loadCounts struct {
	Sent, OK, ServerErrors, OtherStatus, Failed, Dropped int64
}

// newLoadGen returns a load generator for url at rate requests per second.
// Start it with run.
func newLoadGen(url string, rate int) *loadGen {
	t := &http.Transport{Proxy: nil, MaxIdleConns: loadWorkers, MaxIdleConnsPerHost: loadWorkers, IdleConnTimeout: time.Minute}
	return &loadGen{url: url, rate: rate, transport: t, epoch: new(sync.WaitGroup),
		client: &http.Client{Transport: t, Timeout: requestTimeout}}
}

// run sends requests until ctx is done, then waits for the requests in
// flight and closes its connections.
func (g *loadGen) run(ctx context.Context) {
	tickets := make(chan struct{})
	var workers sync.WaitGroup
	for range loadWorkers {
		workers.Go(func() {
			for range tickets {
				g.send(ctx)
			}
		})
	}
	tick := time.NewTicker(time.Second / time.Duration(g.rate))
	for done := false; !done; {
		select {
		case <-ctx.Done():
			done = true
		case <-tick.C:
			select {
			case tickets <- struct{}{}:
			default:
				g.dropped.Add(1)
			}
		}
	}
	tick.Stop()
	close(tickets)
	workers.Wait()
	g.transport.CloseIdleConnections()
}

// send sends one request and counts its outcome.
func (g *loadGen) send(ctx context.Context) {
	g.mu.Lock()
	wg := g.epoch
	wg.Add(1)
	g.mu.Unlock()
	defer wg.Done()
	g.sent.Add(1)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, g.url, nil)
	if err != nil {
		g.failed.Add(1)
		return
	}
	resp, err := g.client.Do(req)
	if err != nil {
		if ctx.Err() == nil { // not the end of the run
			g.failed.Add(1)
		}
		return
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	switch {
	case resp.StatusCode >= 500:
		g.serverErrors.Add(1)
	case resp.StatusCode == http.StatusOK:
		g.ok.Add(1)
	default:
		g.otherStatus.Add(1)
	}
}

// settle waits until every request started before the call has finished,
// or ctx is done. Requests started after the call are not waited for.
func (g *loadGen) settle(ctx context.Context) error {
	g.mu.Lock()
	old := g.epoch
	g.epoch = new(sync.WaitGroup)
	g.mu.Unlock()
	done := make(chan struct{})
	go func() {
		old.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// counts returns what the generator has seen so far.
func (g *loadGen) counts() loadCounts {
	return loadCounts{Sent: g.sent.Load(), OK: g.ok.Load(), ServerErrors: g.serverErrors.Load(),
		OtherStatus: g.otherStatus.Load(), Failed: g.failed.Load(), Dropped: g.dropped.Load()}
}

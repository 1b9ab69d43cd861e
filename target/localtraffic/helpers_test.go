package localtraffic_test

import (
	"context"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/fleetdeploy/fleetdeploy/deploy/clock"
	"github.com/fleetdeploy/fleetdeploy/target"
	"github.com/fleetdeploy/fleetdeploy/target/localtraffic"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// backendServer starts a real HTTP server on 127.0.0.1 that answers every
// request with status and a body naming the version.
func backendServer(t *testing.T, version string, status int) *httptest.Server {
	t.Helper()
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(status)
		io.WriteString(w, version)
	}))
	t.Cleanup(s.Close)
	return s
}

// newProxy returns a proxy on a fake clock at t0 with a seeded chooser,
// closed at the end of the test (before the backends made earlier).
func newProxy(t *testing.T, opts ...func(*localtraffic.Options)) (*localtraffic.Proxy, *clock.Fake) {
	t.Helper()
	clk := clock.NewFake(t0)
	rnd := rand.New(rand.NewPCG(1, 2))
	all := append([]func(*localtraffic.Options){func(o *localtraffic.Options) {
		o.Clock = clk
		o.Rand = rnd.Float64
	}}, opts...)
	p, err := localtraffic.New(all...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p, clk
}

// front serves route through p on a loopback test server, closed first.
func front(t *testing.T, p *localtraffic.Proxy, route target.TrafficRoute) *httptest.Server {
	t.Helper()
	s := httptest.NewServer(p.Handler(route))
	t.Cleanup(s.Close)
	return s
}

// get sends one GET and returns the status and body.
func get(t *testing.T, c *http.Client, url string) (int, string) {
	t.Helper()
	r, err := fetch(c, url)
	if err != nil {
		t.Fatal(err)
	}
	return r.status, r.body
}

// fetch sends one GET and returns the status and body; for goroutines
// other than the test's.
func fetch(c *http.Client, url string) (result, error) {
	resp, err := c.Get(url)
	if err != nil {
		return result{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return result{resp.StatusCode, string(b)}, err
}

// result is one response: its status and body.
type result struct {
	status int
	body   string
}

// blast sends n GETs to url from `workers` goroutines and tallies the
// responses by status and body ("503 localtraffic: ..." bodies are cut to
// their first word).
func blast(t *testing.T, c *http.Client, url string, n, workers int) map[result]int {
	t.Helper()
	var (
		mu    sync.Mutex
		tally = map[result]int{}
		wg    sync.WaitGroup
		errs  = make(chan error, workers)
		next  = make(chan struct{})
	)
	for range workers {
		wg.Go(func() {
			for range next {
				resp, err := c.Get(url)
				if err != nil {
					errs <- err
					return
				}
				b, err := io.ReadAll(resp.Body)
				resp.Body.Close()
				if err != nil {
					errs <- err
					return
				}
				body, _, _ := strings.Cut(string(b), " ")
				mu.Lock()
				tally[result{resp.StatusCode, body}]++
				mu.Unlock()
			}
		})
	}
	for range n {
		select {
		case next <- struct{}{}:
		case err := <-errs:
			close(next)
			wg.Wait()
			t.Fatal(err)
		}
	}
	close(next)
	wg.Wait()
	select {
	case err := <-errs:
		t.Fatal(err)
	default:
	}
	return tally
}

func shift(t *testing.T, p *localtraffic.Proxy, route target.TrafficRoute, orig, repl string, weight int) {
	t.Helper()
	err := p.ShiftTraffic(context.Background(), target.ShiftRequest{Route: route,
		Split: target.TrafficSplit{Original: orig, Replacement: repl, Weight: weight}})
	if err != nil {
		t.Fatal(err)
	}
}

func mustStats(t *testing.T, p *localtraffic.Proxy, route target.TrafficRoute) localtraffic.Stats {
	t.Helper()
	s, err := p.Stats(route)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

package localtraffic_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/fleetdeploy/fleetdeploy/target/localtraffic"
)

func listen(t *testing.T) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return ln
}

// Serve serves one route until its context is done, then shuts down.
func TestServe(t *testing.T) {
	p, _ := newProxy(t)
	versioned(t, p)
	ln := listen(t)
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- p.Serve(ctx, ln, live) }()
	c := &http.Client{Transport: &http.Transport{}}
	defer c.CloseIdleConnections()
	if status, body := get(t, c, "http://"+ln.Addr().String()+"/"); status != 200 || body != "v1" {
		t.Errorf("through Serve: %d %q; want 200 v1", status, body)
	}
	cancel()
	if err := <-served; err != nil {
		t.Errorf("Serve after cancel = %v; want nil", err)
	}
	if _, err := c.Get("http://" + ln.Addr().String() + "/"); err == nil {
		t.Error("the listener still answers after Serve returned")
	}
}

// Requests still in flight when Serve's context ends get
// Options.ShutdownGrace on the proxy's clock, then their connections are
// closed.
func TestServeShutdownGraceOnClock(t *testing.T) {
	p, clk := newProxy(t)
	arrived, release := make(chan struct{}), make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(arrived)
		<-release
	}))
	t.Cleanup(slow.Close)
	unblock := sync.OnceFunc(func() { close(release) })
	t.Cleanup(unblock)
	if err := p.AddRoute(live, "v1", localtraffic.Backend{ID: "v1", URL: slow.URL}); err != nil {
		t.Fatal(err)
	}
	ln := listen(t)
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- p.Serve(ctx, ln, live) }()
	c := &http.Client{Transport: &http.Transport{}}
	defer c.CloseIdleConnections()
	answered := make(chan error, 1)
	go func() {
		_, err := fetch(c, "http://"+ln.Addr().String()+"/")
		answered <- err
	}()
	<-arrived
	cancel()
	if err := clk.BlockUntil(context.Background(), 1); err != nil { // Serve waits out the grace
		t.Fatal(err)
	}
	select {
	case err := <-served:
		t.Fatalf("Serve returned %v before the grace period ended", err)
	default:
	}
	clk.Advance(localtraffic.DefaultShutdownGrace)
	if err := <-served; err != nil {
		t.Errorf("Serve after the grace period = %v; want nil", err)
	}
	if err := <-answered; err == nil {
		t.Error("the request cut off by the shutdown got an answer; want a connection error")
	}
	unblock()
}

func TestServeListenerError(t *testing.T) {
	p, _ := newProxy(t)
	ln := listen(t)
	ln.Close()
	if err := p.Serve(context.Background(), ln, live); err == nil || errors.Is(err, http.ErrServerClosed) {
		t.Errorf("Serve on a closed listener = %v; want its error", err)
	}
	if err := p.ListenAndServe(context.Background(), "127.0.0.1:-1", live); err == nil {
		t.Error("ListenAndServe on a bad address: want an error")
	}
}

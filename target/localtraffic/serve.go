package localtraffic

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"

	"github.com/fleetdeploy/fleetdeploy/target"
)

// Serve serves route on ln — a listener of that route, as an ECS
// production or test listener is — until ctx is done. It then stops
// accepting connections, closes idle ones, and gives requests in flight
// Options.ShutdownGrace (on the proxy's clock) to finish before it closes
// their connections too. It closes ln.
//
// Serve returns nil when ctx ended it, and the error otherwise (ln
// failed).
func (p *Proxy) Serve(ctx context.Context, ln net.Listener, route target.TrafficRoute) error {
	srv := &http.Server{
		Handler:  p.Handler(route),
		ErrorLog: slog.NewLogLogger(p.opts.Logger.Handler(), slog.LevelWarn),
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	select {
	case err := <-done:
		return fmt.Errorf("localtraffic: serve %s: %w", routeName(route), err)
	case <-ctx.Done():
	}
	// Shut down within the grace period, measured on the proxy's clock.
	grace, cancel := context.WithCancel(context.WithoutCancel(ctx))
	timer := p.clock.NewTimer(p.opts.ShutdownGrace)
	stopped, exited := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(exited)
		select {
		case <-timer.C():
			cancel()
		case <-stopped:
		}
	}()
	err := srv.Shutdown(grace)
	close(stopped)
	<-exited
	timer.Stop()
	cancel()
	if err != nil {
		_ = srv.Close() // the grace period ran out: cut what is left
	}
	if err := <-done; !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("localtraffic: serve %s: %w", routeName(route), err)
	}
	return nil
}

// ListenAndServe listens on the TCP address addr ("127.0.0.1:8080") and
// serves route there like Serve, until ctx is done.
func (p *Proxy) ListenAndServe(ctx context.Context, addr string, route target.TrafficRoute) error {
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		return fmt.Errorf("localtraffic: serve %s: %w", routeName(route), err)
	}
	return p.Serve(ctx, ln, route)
}

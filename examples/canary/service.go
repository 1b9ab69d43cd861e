package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"sync/atomic"
)

// The service's endpoints and the header naming the version that answered.
const (
	healthPath    = "/health"
	versionHeader = "Shop-Version"
)

// version is one version of the example's service — a Lambda function
// version, played by an HTTP server on loopback.
type version struct {
	// n is the Lambda version number ("1"), the ID of its backend on the
	// proxy's route.
	n string
	// broken makes brokenNum of every brokenDen requests to / fail with
	// 500. /health always answers 200: the bug is not one a health check
	// sees.
	broken bool
}

// name is how the output names a version: "v1".
func (v version) name() string { return "v" + v.n }

// The versions: v1 is live at the start, v2 is a good release, v3 a broken
// one that answers 500 to 3 requests in 5.
var (
	versionGood1 = version{n: "1"}
	versionGood2 = version{n: "2"}
	versionBad3  = version{n: "3", broken: true}
)

// A broken version fails brokenNum of every brokenDen requests: 3 in 5,
// in a fixed pattern.
const (
	brokenNum = 3
	brokenDen = 5
)

// versions are the service's versions, in order.
var versions = [...]version{versionGood1, versionGood2, versionBad3}

// handler returns the HTTP handler of v: / answers "shop vN" (or a 500
// for the broken share of a broken version's requests), /health answers
// "ok".
func (v version) handler() http.Handler {
	var served atomic.Int64
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+healthPath, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set(versionHeader, v.name())
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("GET /", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set(versionHeader, v.name())
		n := served.Add(1)
		if v.broken && (n-1)%brokenDen < brokenNum {
			http.Error(w, "shop "+v.name()+": nil pointer dereference in the new price formatter", http.StatusInternalServerError)
			return
		}
		fmt.Fprintln(w, "shop "+v.name())
	})
	return mux
}

// server is a version's HTTP server on loopback.
type server struct {
	v    version
	url  string
	srv  *http.Server
	done chan error
}

// startServer starts v's HTTP server on 127.0.0.1, on a free port.
func startServer(ctx context.Context, v version, logger *slog.Logger) (*server, error) {
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("starting %s: %w", v.name(), err)
	}
	s := &server{v: v, url: "http://" + ln.Addr().String(), done: make(chan error, 1),
		srv: &http.Server{Handler: v.handler(), ErrorLog: slog.NewLogLogger(logger.Handler(), slog.LevelWarn)}}
	go func() { s.done <- s.srv.Serve(ln) }()
	return s, nil
}

// stop shuts the server down: it waits for the requests in flight, or
// until ctx is done and then closes their connections.
func (s *server) stop(ctx context.Context) error {
	err := s.srv.Shutdown(ctx)
	if err != nil {
		err = errors.Join(err, s.srv.Close())
	}
	if serr := <-s.done; !errors.Is(serr, http.ErrServerClosed) {
		err = errors.Join(err, serr)
	}
	if err != nil {
		return fmt.Errorf("stopping %s: %w", s.v.name(), err)
	}
	return nil
}

// versionOf returns the version whose Lambda version number is n.
func versionOf(n string) (version, bool) {
	for _, v := range versions {
		if v.n == n {
			return v, true
		}
	}
	return version{}, false
}

// label names a Lambda version number for the output: "v2", or the number
// itself when it is not one of ours.
func label(n string) string {
	if v, ok := versionOf(n); ok {
		return v.name()
	}
	if _, err := strconv.Atoi(n); err == nil {
		return "version " + n
	}
	return n
}

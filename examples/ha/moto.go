//go:build linux

package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
)

// motoInstall is how to install the moto version this example is written
// for.
const motoInstall = "pip install 'moto[server]==5.2.1'"

// motoStartTimeout bounds how long moto may take to answer after it was
// started (importing it takes a few seconds on a busy machine).
const motoStartTimeout = time.Minute

// awsRegion is the region of every client; moto accepts any.
const awsRegion = "us-east-1"

// awsConfig returns the configuration of a DynamoDB client of the server
// at endpoint: static credentials (moto checks none), region us-east-1,
// and the given HTTP client (the SDK's own when nil).
func awsConfig(endpoint string, hc *http.Client) aws.Config {
	cfg := aws.Config{
		Region:       awsRegion,
		Credentials:  credentials.NewStaticCredentialsProvider("testing", "testing", ""),
		BaseEndpoint: aws.String(endpoint),
	}
	if hc != nil {
		cfg.HTTPClient = hc
	}
	return cfg
}

// motoServer is the moto server the example started (proc set) or
// attached to.
type motoServer struct {
	url  string
	proc *child // nil when attached with -endpoint
	log  string // path of the started server's output
}

// startMoto starts "python3 -m moto.server" on a free loopback port, in a
// process group of its own that dies with this process, and waits until
// it answers. Its output goes to logPath.
func startMoto(ctx context.Context, hc *http.Client, logPath string) (*motoServer, error) {
	if out, err := exec.CommandContext(ctx, "python3", "-c", "import moto.server").CombinedOutput(); err != nil {
		why := err.Error()
		if o := strings.TrimSpace(string(out)); o != "" {
			why += ": " + o
		}
		return nil, fmt.Errorf("python3 cannot import moto (%s); install it with: %s, or give -endpoint URL of a running moto server",
			why, motoInstall)
	}
	var lastErr error
	for range 3 { // the free port may be taken before moto binds it
		m, err := launchMoto(ctx, hc, logPath)
		if err == nil {
			return m, nil
		}
		if ctx.Err() != nil {
			return nil, err
		}
		lastErr = err
	}
	return nil, lastErr
}

// launchMoto starts moto once, on a port that was free a moment ago.
func launchMoto(ctx context.Context, hc *http.Client, logPath string) (*motoServer, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	out, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	defer out.Close() // moto has its own copy
	cmd := exec.Command("python3", "-m", "moto.server", "-H", "127.0.0.1", "-p", fmt.Sprint(port))
	cmd.Stdout, cmd.Stderr = out, out
	proc, err := startChild(cmd)
	if err != nil {
		return nil, fmt.Errorf("starting python3 -m moto.server: %w", err)
	}
	m := &motoServer{url: fmt.Sprintf("http://127.0.0.1:%d", port), proc: proc, log: logPath}
	err = poll(ctx, motoStartTimeout, 50*time.Millisecond, func() (bool, error) {
		if proc.done() {
			return false, fmt.Errorf("moto exited before it answered (%s): %s", proc.exitString(), m.output())
		}
		return ping(ctx, hc, m.url) == nil, nil
	})
	if err != nil {
		m.stop()
		return nil, fmt.Errorf("moto on port %d: %w", port, err)
	}
	return m, nil
}

// output returns the end of the started server's output.
func (m *motoServer) output() string {
	b, _ := os.ReadFile(m.log)
	s := strings.TrimSpace(string(b))
	if len(s) > 2000 {
		s = "…" + s[len(s)-2000:]
	}
	return s
}

// stop ends the server the example started, if it did: SIGTERM to its
// process group, SIGKILL after 5 seconds. It reports whether no process of
// the group is left.
func (m *motoServer) stop() bool {
	if m.proc == nil {
		return true
	}
	_ = m.proc.signalGroup(syscall.SIGTERM)
	grace := time.NewTimer(5 * time.Second)
	defer grace.Stop()
	select {
	case <-m.proc.exited:
	case <-grace.C:
		_ = m.proc.signalGroup(syscall.SIGKILL)
		<-m.proc.exited
	}
	// werkzeug may have forked helpers into the group; none may stay.
	_ = m.proc.signalGroup(syscall.SIGKILL)
	return m.proc.groupGone()
}

// freePort returns a loopback port nobody listens on (for now).
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("finding a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// ping makes one request to moto's own API through hc.
func ping(ctx context.Context, hc *http.Client, base string) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/moto-api/", nil)
	if err != nil {
		return err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	if resp.StatusCode >= 500 {
		return errors.New(resp.Status)
	}
	return nil
}

// serialProxy is an HTTP proxy in front of moto that lets one request
// through at a time, whichever process sends it.
//
// moto 5.2.1 serves requests on threads without locks: two conditional
// writes that arrive together may both pass their condition — two
// executors' AcquireLease of one expired lease could both succeed — and a
// TransactWriteItems may fail or undo other requests' writes. DynamoDB
// makes each conditional write atomic; so does the proxy, for every
// process of the example, as internal/motoserver's client does within one
// test binary.
type serialProxy struct {
	url  string
	srv  *http.Server
	done chan struct{}
}

// startProxy starts a serializing proxy to upstream on a free loopback
// port, sending requests through next.
func startProxy(upstream string, next http.RoundTripper) (*serialProxy, error) {
	u, err := url.Parse(upstream)
	if err != nil {
		return nil, fmt.Errorf("moto endpoint %q: %w", upstream, err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("starting the proxy to moto: %w", err)
	}
	rp := &httputil.ReverseProxy{
		Rewrite:   func(r *httputil.ProxyRequest) { r.SetURL(u) },
		Transport: &serialTransport{next: next},
		// A request whose client died (the killed executor's) fails here;
		// that is expected, not worth a line.
		ErrorLog: log.New(io.Discard, "", 0),
	}
	p := &serialProxy{url: "http://" + ln.Addr().String(), srv: &http.Server{Handler: rp}, done: make(chan struct{})}
	go func() {
		defer close(p.done)
		_ = p.srv.Serve(ln) // returns http.ErrServerClosed after close
	}()
	return p, nil
}

// close stops the proxy and waits until it has.
func (p *serialProxy) close() {
	_ = p.srv.Close()
	<-p.done
}

// serialTransport lets one request through at a time, until its response
// headers arrive: moto has handled it by then.
type serialTransport struct {
	mu   sync.Mutex
	next http.RoundTripper
}

// RoundTrip implements http.RoundTripper.
func (t *serialTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if err := r.Context().Err(); err != nil {
		return nil, err // its client has gone while it waited
	}
	return t.next.RoundTrip(r)
}

// poll calls cond every interval until it returns true or an error, or
// until timeout or ctx ends. It is how the example waits for what other
// processes do.
func poll(ctx context.Context, timeout, interval time.Duration, cond func() (bool, error)) error {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		ok, err := cond()
		if err != nil || ok {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-deadline.C:
			return fmt.Errorf("not within %s", timeout)
		case <-tick.C:
		}
	}
}

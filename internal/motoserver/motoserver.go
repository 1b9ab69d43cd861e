// Package motoserver runs the moto server (a Python implementation of the
// AWS APIs) for the tests of fleetdeploy's AWS adapters, so that they talk
// to a real protocol peer rather than to a mock of the SDK.
//
// One server serves a whole test binary: the first test that asks for it
// starts it on a free loopback port, and [Main] (called from TestMain)
// stops it when the tests end. Tests isolate themselves by naming their
// resources with [Name] (one DynamoDB table per test, say) rather than by
// resetting the shared server.
//
//	func TestMain(m *testing.M) { motoserver.Main(m) }
//
//	func TestSomething(t *testing.T) {
//		cfg := motoserver.Config(t)
//		client := dynamodb.NewFromConfig(cfg)
//		table := motoserver.Name(t, "deploy")
//		...
//	}
//
// With FLEETDEPLOY_AWS_ENDPOINT set (e.g. http://127.0.0.1:5000), the
// tests use the server there instead and start none.
//
// moto 5.2.1 must be installed for python3 (pip install
// 'moto[server]==5.2.1'); without it the tests fail, saying so. They never
// skip.
//
// The server runs in its own process group, which [Main] kills whole; on
// Linux the kernel also kills it when the test binary dies (Pdeathsig), so
// no server outlives its tests.
package motoserver

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
)

// EndpointEnv names the environment variable that points the tests at a
// running server instead of starting one.
const EndpointEnv = "FLEETDEPLOY_AWS_ENDPOINT"

// Install is how to install the moto version the tests are written for.
const Install = "pip install 'moto[server]==5.2.1'"

// Region is the region of the Config the tests use.
const Region = "us-east-1"

// startTimeout bounds how long the server may take to start answering.
const startTimeout = 60 * time.Second

var (
	mu       sync.Mutex
	endpoint string // the server's URL once known
	started  *server
	startErr error
)

// server is a moto process this package started.
type server struct {
	cmd  *exec.Cmd
	done chan struct{} // closed when the process has exited
}

// Main runs the package's tests and then stops the server, if one was
// started; it exits with the tests' status. Call it from TestMain.
func Main(m *testing.M) {
	code := m.Run()
	if err := Stop(); err != nil {
		fmt.Fprintln(os.Stderr, "motoserver:", err)
		if code == 0 {
			code = 1
		}
	}
	os.Exit(code)
}

// Endpoint returns the URL of the moto server, starting it on first use.
// It fails t when no server can be had.
func Endpoint(t testing.TB) string {
	t.Helper()
	url, err := Start()
	if err != nil {
		t.Fatal(err)
	}
	return url
}

// Start returns the URL of the moto server, starting it on first use; for
// callers without a testing.TB (examples). A failed start is not retried.
func Start() (string, error) {
	mu.Lock()
	defer mu.Unlock()
	if endpoint != "" || startErr != nil {
		return endpoint, startErr
	}
	if url := os.Getenv(EndpointEnv); url != "" {
		endpoint = strings.TrimRight(url, "/")
		return endpoint, nil
	}
	s, url, err := start()
	if err != nil {
		startErr = err
		return "", err
	}
	started, endpoint = s, url
	return url, nil
}

// Stop stops the server this package started, if any, killing its whole
// process group. The next Start starts a new one.
func Stop() error {
	mu.Lock()
	defer mu.Unlock()
	s := started
	started, endpoint, startErr = nil, "", nil
	if s == nil {
		return nil
	}
	return s.stop()
}

// Config returns an aws.Config for the server: static credentials, region
// us-east-1, BaseEndpoint set to the server, and a single attempt per call
// (moto answers operations it lacks with HTTP 500, which the SDK would
// otherwise retry).
func Config(t testing.TB) aws.Config {
	t.Helper()
	return ConfigFor(Endpoint(t))
}

// ConfigFor returns the Config of Config for the server at url.
//
// Its HTTP client sends one request at a time to moto, whoever sends it:
// moto 5.2.1 serves requests on threads without locks, so that concurrent
// conditional writes may both pass their condition, and a
// TransactWriteItems, which snapshots the whole table to roll back
// (copy.deepcopy), fails with HTTP 500 ("dictionary changed size during
// iteration") or undoes other requests' writes when they run meanwhile.
// DynamoDB itself has no such limits; serializing the requests makes
// moto behave as it does, for tests of code that writes concurrently.
func ConfigFor(url string) aws.Config {
	return aws.Config{
		Region:           Region,
		Credentials:      credentials.NewStaticCredentialsProvider("testing", "testing", ""),
		BaseEndpoint:     aws.String(url),
		RetryMaxAttempts: 1,
		HTTPClient:       serialClient,
	}
}

// serialClient sends one request at a time (see ConfigFor), each on a
// connection of its own: with connections kept alive, a request now and
// then failed under load with "use of closed network connection" while
// reading moto's answer, and the single attempt made that a test failure.
var serialClient = &http.Client{Transport: &serialTransport{next: &http.Transport{DisableKeepAlives: true}}}

// serialTransport lets one request through at a time, until its response
// headers arrive: moto has then handled it.
type serialTransport struct {
	mu   sync.Mutex
	next http.RoundTripper
}

// RoundTrip implements http.RoundTripper. It reads the whole answer
// before it lets the next request through. A read (GetItem, Query,
// DescribeTable, ...) whose answer could not be read is sent once more:
// now and then, under load, reading moto's answer failed with "use of
// closed network connection" although moto had answered 200, and the
// single attempt of the tests' SDK config made that a test failure. Writes
// are never sent again here: a write moto applied and answered must not be
// applied twice.
func (t *serialTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	var body []byte
	if r.Body != nil {
		var err error
		if body, err = io.ReadAll(r.Body); err != nil {
			return nil, err
		}
		_ = r.Body.Close()
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	for attempt := 0; ; attempt++ {
		req := r.Clone(r.Context())
		req.Body = io.NopCloser(strings.NewReader(string(body)))
		req.ContentLength = int64(len(body))
		resp, err := t.next.RoundTrip(req)
		if err != nil {
			return nil, err
		}
		answer, err := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		if err != nil && attempt == 0 && rereadable(r) && r.Context().Err() == nil {
			continue
		}
		if err != nil {
			return nil, err
		}
		resp.Body = io.NopCloser(strings.NewReader(string(answer)))
		return resp, nil
	}
}

// rereadable reports whether r is a DynamoDB read, which may be sent again.
func rereadable(r *http.Request) bool {
	op := r.Header.Get("X-Amz-Target")
	op = op[strings.LastIndex(op, ".")+1:]
	switch op {
	case "GetItem", "BatchGetItem", "Query", "Scan", "DescribeTable", "ListTables":
		return true
	}
	return false
}

// unsafeName matches what may not appear in a resource name built by Name.
var unsafeName = regexp.MustCompile(`[^A-Za-z0-9_.-]+`)

// Name returns a name unique to this call, for a resource of the test on
// the shared server: prefix, the test's name (shortened) and a random
// suffix, at most 100 characters of [A-Za-z0-9_.-].
func Name(t testing.TB, prefix string) string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	name := unsafeName.ReplaceAllString(t.Name(), "-")
	if len(name) > 60 {
		name = name[len(name)-60:]
	}
	return strings.Trim(prefix+"-"+name, "-") + "-" + hex.EncodeToString(b[:])
}

// Reset asks the server to forget everything (POST /moto-api/reset). The
// server is shared by every test of the binary: only call it when no other
// test runs in parallel.
func Reset(t testing.TB) {
	t.Helper()
	resp, err := http.Post(Endpoint(t)+"/moto-api/reset", "application/json", nil)
	if err != nil {
		t.Fatalf("motoserver: reset: %v", err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("motoserver: reset: %s", resp.Status)
	}
}

// start starts moto on a free port and waits until it answers.
func start() (*server, string, error) { return startWith("python3") }

// startWith is start with the given Python interpreter.
func startWith(python string) (*server, string, error) {
	if out, err := exec.Command(python, "-c", "import moto.server").CombinedOutput(); err != nil {
		return nil, "", fmt.Errorf("motoserver: %s cannot import moto (%v: %s); install it with: %s (or set %s to a running server)",
			python, err, strings.TrimSpace(string(out)), Install, EndpointEnv)
	}
	var lastErr error
	for range 3 { // the free port may be taken before moto binds it
		port, err := freePort()
		if err != nil {
			return nil, "", err
		}
		s, url, err := launch(python, port)
		if err == nil {
			return s, url, nil
		}
		lastErr = err
	}
	return nil, "", lastErr
}

// freePort returns a loopback port nobody listens on (for now).
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("motoserver: finding a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// launch starts moto on port and waits until it says it runs, then checks
// that it answers.
func launch(python string, port int) (*server, string, error) {
	cmd := exec.Command(python, "-m", "moto.server", "-H", "127.0.0.1", "-p", fmt.Sprint(port))
	cmd.SysProcAttr = sysProcAttr()
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, "", fmt.Errorf("motoserver: %w", err)
	}
	cmd.Stdout = io.Discard
	if err := cmd.Start(); err != nil {
		return nil, "", fmt.Errorf("motoserver: starting python3 -m moto.server: %w", err)
	}
	s := &server{cmd: cmd, done: make(chan struct{})}
	// moto (werkzeug) prints " * Running on http://127.0.0.1:PORT" on
	// stderr once it listens; the rest of its output is kept for errors.
	ready := make(chan struct{})
	var (
		logMu sync.Mutex
		log   strings.Builder
	)
	go func() {
		sc := bufio.NewScanner(stderr)
		signalled := false
		for sc.Scan() {
			line := sc.Text()
			logMu.Lock()
			if log.Len() < 8192 {
				log.WriteString(line + "\n")
			}
			logMu.Unlock()
			if !signalled && strings.Contains(line, "Running on") {
				signalled = true
				close(ready)
			}
		}
		_ = cmd.Wait()
		close(s.done)
	}()
	output := func() string {
		logMu.Lock()
		defer logMu.Unlock()
		return strings.TrimSpace(log.String())
	}
	timeout := time.NewTimer(startTimeout)
	defer timeout.Stop()
	select {
	case <-ready:
	case <-s.done:
		return nil, "", fmt.Errorf("motoserver: moto exited before it answered: %s", output())
	case <-timeout.C:
		_ = s.stop()
		return nil, "", fmt.Errorf("motoserver: moto did not start within %s: %s", startTimeout, output())
	}
	url := fmt.Sprintf("http://127.0.0.1:%d", port)
	if err := ping(url); err != nil {
		_ = s.stop()
		return nil, "", fmt.Errorf("motoserver: moto said it runs on %s but does not answer: %w (%s)", url, err, output())
	}
	return s, url, nil
}

// ping makes one request to the server.
func ping(url string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url+"/moto-api/data.json", nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	if resp.StatusCode != http.StatusOK {
		return errors.New(resp.Status)
	}
	return nil
}

// stop terminates the process group, then kills it if it lingers, and
// waits until the process has exited.
func (s *server) stop() error {
	terminate(s.cmd.Process.Pid, false)
	grace := time.NewTimer(5 * time.Second)
	defer grace.Stop()
	select {
	case <-s.done:
	case <-grace.C:
		terminate(s.cmd.Process.Pid, true)
		<-s.done
	}
	return nil
}

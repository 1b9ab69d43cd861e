package localtraffic_test

import (
	"context"
	"errors"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fleetdeploy/fleetdeploy/target"
	"github.com/fleetdeploy/fleetdeploy/target/localtraffic"
)

// switchable starts a backend answering 200 with its name, or 500 while
// broken is set.
func switchable(t *testing.T, name string) (*httptest.Server, *atomic.Bool) {
	t.Helper()
	var broken atomic.Bool
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if broken.Load() {
			w.WriteHeader(http.StatusInternalServerError)
		}
		w.Write([]byte(name))
	}))
	t.Cleanup(s.Close)
	return s, &broken
}

func states(t *testing.T, a *localtraffic.Alarms, names ...string) []target.AlarmState {
	t.Helper()
	got, err := a.AlarmStates(context.Background(), names)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func wantStates(t *testing.T, step string, a *localtraffic.Alarms, want map[string]target.AlarmState) {
	t.Helper()
	for name, w := range want {
		if got := states(t, a, name)[0]; got != w {
			r, _ := a.Read(name)
			t.Errorf("%s: alarm %s is %s (%+v); want %s", step, name, got, r, w)
		}
	}
}

// A canary whose replacement answers 5xx trips the alarm within the
// window; once the window has passed with good traffic, it is OK again
// (User Guide, "Monitoring deployments with CloudWatch alarms in
// CodeDeploy").
func TestErrorRateAlarmTripsAndClears(t *testing.T) {
	p, clk := newProxy(t) // buckets of 1s
	v1 := backendServer(t, "v1", http.StatusOK)
	v2, broken := switchable(t, "v2")
	if err := p.AddRoute(live, "v1", localtraffic.Backend{ID: "v1", URL: v1.URL}, localtraffic.Backend{ID: "v2", URL: v2.URL}); err != nil {
		t.Fatal(err)
	}
	a, err := localtraffic.NewAlarms(p,
		localtraffic.ErrorRateAlarm{Name: "canary-5xx", Route: live, Replacement: true, Window: time.Minute, Threshold: 0.05, MinRequests: 20},
		localtraffic.ErrorRateAlarm{Name: "route-5xx", Route: live, Window: time.Minute, Threshold: 0.2, MinRequests: 20},
		localtraffic.ErrorRateAlarm{Name: "v1-5xx", Route: live, Backend: "v1", Window: time.Minute, Threshold: 0, MinRequests: 1},
	)
	if err != nil {
		t.Fatal(err)
	}
	fe := front(t, p, live)
	all := func(s target.AlarmState) map[string]target.AlarmState {
		return map[string]target.AlarmState{"canary-5xx": s, "route-5xx": s, "v1-5xx": s}
	}
	wantStates(t, "no traffic yet", a, all(target.AlarmInsufficientData))

	// The canary step: 10% to a broken v2.
	broken.Store(true)
	shift(t, p, live, "v1", "v2", 10)
	blast(t, fe.Client(), fe.URL, 100, 4) // about 10 to v2: fewer than MinRequests
	r, _ := a.Read("canary-5xx")
	if r.Backend != "v2" || r.Counts.Requests >= 20 || r.Counts.Errors != r.Counts.Requests {
		t.Fatalf("after 100 requests at 10%%: %+v; want fewer than 20 requests on v2, all errors", r)
	}
	wantStates(t, "canary below MinRequests", a, map[string]target.AlarmState{
		"canary-5xx": target.AlarmInsufficientData, "route-5xx": target.AlarmOK, "v1-5xx": target.AlarmOK})

	clk.Advance(10 * time.Second)
	blast(t, fe.Client(), fe.URL, 400, 4) // now well over 20 requests on v2
	wantStates(t, "canary failing", a, map[string]target.AlarmState{
		"canary-5xx": target.AlarmAlarm, "route-5xx": target.AlarmOK, "v1-5xx": target.AlarmOK})

	// Rollback: everything back on v1, and v2 fixed; its errors are still
	// in the window, so the alarm stays in ALARM until they leave it.
	shift(t, p, live, "v1", "v2", 0)
	broken.Store(false)
	clk.Advance(30 * time.Second) // 40s after the first errors
	blast(t, fe.Client(), fe.URL, 50, 4)
	wantStates(t, "40s later", a, map[string]target.AlarmState{"canary-5xx": target.AlarmAlarm, "v1-5xx": target.AlarmOK})
	shift(t, p, live, "v1", "v2", 100) // redeploy the fixed v2
	blast(t, fe.Client(), fe.URL, 40, 4)
	clk.Advance(29 * time.Second) // 59s after the last errors
	wantStates(t, "59s after the last errors", a, map[string]target.AlarmState{"canary-5xx": target.AlarmAlarm})
	clk.Advance(time.Second) // 60s after the last errors: out of the window
	blast(t, fe.Client(), fe.URL, 40, 4)
	wantStates(t, "after the window", a, all(target.AlarmOK))
	if r, _ := a.Read("canary-5xx"); r.Counts != (localtraffic.Counts{Requests: 80}) {
		t.Errorf("after the window: %+v; want the 80 good requests to v2 of the last minute", r)
	}
	// No traffic for a whole window: no data.
	clk.Advance(time.Minute)
	wantStates(t, "a quiet minute", a, all(target.AlarmInsufficientData))
}

// The threshold is exceeded only by a rate strictly above it; requests that
// finished exactly one window ago no longer count (package doc, # Alarms).
func TestErrorRateAlarmBoundaries(t *testing.T) {
	p, clk := newProxy(t, func(o *localtraffic.Options) { o.Bucket = 10 * time.Second })
	b, broken := switchable(t, "b")
	if err := p.AddRoute(live, "b", localtraffic.Backend{ID: "b", URL: b.URL}); err != nil {
		t.Fatal(err)
	}
	a, err := localtraffic.NewAlarms(p, localtraffic.ErrorRateAlarm{Name: "half", Route: live, Window: time.Minute, Threshold: 0.5, MinRequests: 10})
	if err != nil {
		t.Fatal(err)
	}
	fe := front(t, p, live)
	broken.Store(true)
	blast(t, fe.Client(), fe.URL, 5, 1)
	broken.Store(false)
	blast(t, fe.Client(), fe.URL, 5, 1)
	wantStates(t, "5 errors of 10 (rate = threshold)", a, map[string]target.AlarmState{"half": target.AlarmOK})
	broken.Store(true)
	blast(t, fe.Client(), fe.URL, 1, 1)
	wantStates(t, "6 errors of 11", a, map[string]target.AlarmState{"half": target.AlarmAlarm})

	clk.Advance(time.Minute - time.Nanosecond)
	wantStates(t, "just under a window later", a, map[string]target.AlarmState{"half": target.AlarmAlarm})
	clk.Advance(time.Nanosecond)
	wantStates(t, "a window later", a, map[string]target.AlarmState{"half": target.AlarmInsufficientData})
}

// 502s of an unreachable backend are errors too.
func TestErrorRateAlarmCountsProxyErrors(t *testing.T) {
	p, _ := newProxy(t)
	gone := httptest.NewServer(http.NotFoundHandler())
	gone.Close()
	if err := p.AddRoute(live, "v1", localtraffic.Backend{ID: "v1", URL: gone.URL}); err != nil {
		t.Fatal(err)
	}
	a, err := localtraffic.NewAlarms(p, localtraffic.ErrorRateAlarm{Name: "5xx", Route: live, Window: time.Minute, Threshold: 0.5, MinRequests: 5})
	if err != nil {
		t.Fatal(err)
	}
	fe := front(t, p, live)
	if got := blast(t, fe.Client(), fe.URL, 5, 1); got[result{http.StatusBadGateway, ""}] != 5 {
		t.Errorf("requests to an unreachable backend: %v; want five 502s", got)
	}
	wantStates(t, "backend unreachable", a, map[string]target.AlarmState{"5xx": target.AlarmAlarm})
}

func TestAlarmStatesErrorsAndOrder(t *testing.T) {
	p, _ := newProxy(t)
	versioned(t, p)
	a, err := localtraffic.NewAlarms(p,
		localtraffic.ErrorRateAlarm{Name: "a", Route: live, Window: time.Second},
		localtraffic.ErrorRateAlarm{Name: "b", Route: live, Replacement: true, Window: time.Second},
	)
	if err != nil {
		t.Fatal(err)
	}
	if got := a.Names(); strings.Join(got, ",") != "a,b" {
		t.Errorf("Names = %v; want [a b]", got)
	}
	got := states(t, a, "b", "a", "b")
	if len(got) != 3 {
		t.Fatalf("three names, %d states", len(got))
	}
	for i, s := range got {
		if s != target.AlarmInsufficientData {
			t.Errorf("state %d = %s; want INSUFFICIENT_DATA (no traffic; b: no replacement)", i, s)
		}
	}
	if got := states(t, a); len(got) != 0 {
		t.Errorf("no names: %v; want none", got)
	}
	if _, err := a.AlarmStates(context.Background(), []string{"a", "nope"}); !errors.Is(err, target.ErrNotFound) {
		t.Errorf("unknown alarm (AlarmSource contract): %v; want ErrNotFound", err)
	}
	if _, err := a.Read("nope"); !errors.Is(err, target.ErrNotFound) {
		t.Errorf("Read unknown alarm: %v; want ErrNotFound", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := a.AlarmStates(ctx, []string{"a"}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v; want context.Canceled", err)
	}
}

// NewAlarms reports every broken rule; names follow alarmConfiguration's
// rules (API Reference, Alarm and AlarmConfiguration: 1–255 characters,
// unique).
func TestNewAlarmsValidation(t *testing.T) {
	p, _ := newProxy(t)
	versioned(t, p)
	ok := localtraffic.ErrorRateAlarm{Name: "ok", Route: live, Window: time.Minute, Threshold: 0.1}
	with := func(f func(*localtraffic.ErrorRateAlarm)) localtraffic.ErrorRateAlarm {
		d := ok
		f(&d)
		return d
	}
	for _, tc := range []struct {
		name string
		defs []localtraffic.ErrorRateAlarm
		also error
	}{
		{"empty name", []localtraffic.ErrorRateAlarm{with(func(d *localtraffic.ErrorRateAlarm) { d.Name = "" })}, nil},
		{"name of 256 characters", []localtraffic.ErrorRateAlarm{with(func(d *localtraffic.ErrorRateAlarm) { d.Name = strings.Repeat("é", 256) })}, nil},
		{"duplicate name", []localtraffic.ErrorRateAlarm{ok, ok}, localtraffic.ErrExists},
		{"unknown route", []localtraffic.ErrorRateAlarm{with(func(d *localtraffic.ErrorRateAlarm) { d.Route.Test = true })}, target.ErrNotFound},
		{"unknown backend", []localtraffic.ErrorRateAlarm{with(func(d *localtraffic.ErrorRateAlarm) { d.Backend = "v9" })}, target.ErrNotFound},
		{"backend and replacement", []localtraffic.ErrorRateAlarm{with(func(d *localtraffic.ErrorRateAlarm) { d.Backend = "v1"; d.Replacement = true })}, nil},
		{"no window", []localtraffic.ErrorRateAlarm{with(func(d *localtraffic.ErrorRateAlarm) { d.Window = 0 })}, localtraffic.ErrInvalidWindow},
		{"window beyond retention", []localtraffic.ErrorRateAlarm{with(func(d *localtraffic.ErrorRateAlarm) { d.Window = localtraffic.DefaultRetention + 1 })}, localtraffic.ErrInvalidWindow},
		{"threshold 1", []localtraffic.ErrorRateAlarm{with(func(d *localtraffic.ErrorRateAlarm) { d.Threshold = 1 })}, nil},
		{"negative threshold", []localtraffic.ErrorRateAlarm{with(func(d *localtraffic.ErrorRateAlarm) { d.Threshold = -0.1 })}, nil},
		{"NaN threshold", []localtraffic.ErrorRateAlarm{with(func(d *localtraffic.ErrorRateAlarm) { d.Threshold = math.NaN() })}, nil},
		{"negative MinRequests", []localtraffic.ErrorRateAlarm{with(func(d *localtraffic.ErrorRateAlarm) { d.MinRequests = -1 })}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := localtraffic.NewAlarms(p, tc.defs...)
			if !errors.Is(err, localtraffic.ErrInvalidAlarm) || (tc.also != nil && !errors.Is(err, tc.also)) {
				t.Errorf("NewAlarms = %v; want ErrInvalidAlarm and %v", err, tc.also)
			}
		})
	}
	// Every rule at once.
	_, err := localtraffic.NewAlarms(p, localtraffic.ErrorRateAlarm{Route: target.TrafficRoute{ResourceID: "x"}, Threshold: 2, MinRequests: -1})
	if n := strings.Count(err.Error(), "\n  alarm[0]"); n != 5 || !strings.HasPrefix(err.Error(), "localtraffic: invalid alarms: 5 problems:\n") {
		t.Errorf("an alarm breaking 5 rules: %d reported:\n%v", n, err)
	}
	if _, err := localtraffic.NewAlarms(p, ok, with(func(d *localtraffic.ErrorRateAlarm) { d.Name = strings.Repeat("é", 255) })); err != nil {
		t.Errorf("valid alarms: %v", err)
	}
	if _, err := localtraffic.NewAlarms(nil, ok); !errors.Is(err, localtraffic.ErrInvalidAlarm) {
		t.Errorf("nil proxy: %v; want ErrInvalidAlarm", err)
	}
}

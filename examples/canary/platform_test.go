package main

import (
	"bytes"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/fleetdeploy/fleetdeploy/deploy/clock"
	"github.com/fleetdeploy/fleetdeploy/revision"
	"github.com/fleetdeploy/fleetdeploy/target"
)

// A hook reports Succeeded or Failed (API Reference,
// PutLifecycleEventHookExecutionStatus); a function that does not exist is
// an error wrapping target.ErrNotFound, not a status. The hooks find the
// versions in the deployment's AppSpec (its 'resources' section).
func TestHooks(t *testing.T) {
	ctx := t.Context()
	servers := map[string]*server{}
	for _, v := range versions {
		s, err := startServer(ctx, v, slog.New(slog.DiscardHandler))
		if err != nil {
			t.Fatal(err)
		}
		servers[v.n] = s
		defer func() {
			if err := s.stop(ctx); err != nil {
				t.Error(err)
			}
		}()
	}
	transport := &http.Transport{}
	defer transport.CloseIdleConnections()
	var out bytes.Buffer
	clk := clock.NewFake(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	h := &hooks{client: &http.Client{Transport: transport}, servers: servers, out: &console{w: &out, clk: clk, start: clk.Now()},
		meter: &meter{clk: clk, steps: map[string]int{}}}
	rev := func(current, next version) revision.Location {
		return revision.Location{Type: revision.LocationAppSpecContent, AppSpecContent: &revision.AppSpecContent{Content: appSpec(current, next)}}
	}
	for _, tc := range []struct {
		name  string
		fn    string
		rev   revision.Location
		alias string // the URL the alias answers on
		want  target.LifecycleEventStatus
	}{
		// The broken v3's /health is fine: the pre-traffic hook passes.
		{"BeforeAllowTraffic of v3", preTrafficHook, rev(versionGood2, versionBad3), "", target.EventSucceeded},
		// The alias answered by the target version: the post-traffic hook
		// passes; answered by another, it fails.
		{"AfterAllowTraffic, alias on v2", postTrafficHook, rev(versionGood1, versionGood2), servers["2"].url, target.EventSucceeded},
		{"AfterAllowTraffic, alias still on v1", postTrafficHook, rev(versionGood1, versionGood2), servers["1"].url, target.EventFailed},
		// A version the AppSpec names but no server plays.
		{"BeforeAllowTraffic of version 9", preTrafficHook, rev(versionGood1, version{n: "9"}), "", target.EventFailed},
	} {
		h.alias = tc.alias
		res, err := h.InvokeHook(ctx, target.HookRequest{Deployment: target.DeploymentInfo{DeploymentID: "d-1", Revision: tc.rev},
			Event: target.BeforeAllowTraffic, FunctionName: tc.fn, ExecutionID: "d-1-x"})
		if err != nil || res.Status != tc.want {
			t.Errorf("%s: %+v, %v; want %s", tc.name, res, err, tc.want)
		}
	}
	_, err := h.InvokeHook(ctx, target.HookRequest{Deployment: target.DeploymentInfo{Revision: rev(versionGood1, versionGood2)},
		Event: target.BeforeAllowTraffic, FunctionName: "nope"})
	if !errors.Is(err, target.ErrNotFound) {
		t.Errorf("an unknown hook function: %v; want an error wrapping target.ErrNotFound", err)
	}
}

// The broken version fails 3 of every 5 requests to /, in a fixed
// pattern, and never its health check; the good ones never fail.
func TestVersionsAnswer(t *testing.T) {
	for _, v := range versions {
		h := v.handler()
		var fails int
		for range 10 {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, mustRequest(t, "/"))
			if rec.Code >= 500 {
				fails++
			}
			if got := rec.Header().Get(versionHeader); got != v.name() {
				t.Errorf("%s answered as %q", v.name(), got)
			}
			health := httptest.NewRecorder()
			h.ServeHTTP(health, mustRequest(t, healthPath))
			if health.Code != http.StatusOK {
				t.Errorf("%s %s: %d", v.name(), healthPath, health.Code)
			}
		}
		want := 0
		if v.broken {
			want = 10 * brokenNum / brokenDen
		}
		if fails != want {
			t.Errorf("%s failed %d of 10 requests; want %d", v.name(), fails, want)
		}
	}
}

func mustRequest(t *testing.T, path string) *http.Request {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, "http://shop"+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	return req
}

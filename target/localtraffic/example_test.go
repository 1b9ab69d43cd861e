package localtraffic_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/fleetdeploy/fleetdeploy/deploy/clock"
	"github.com/fleetdeploy/fleetdeploy/target"
	"github.com/fleetdeploy/fleetdeploy/target/localtraffic"
)

// version starts a real HTTP server on loopback that answers with its
// name and the given status.
func version(name string, status int) *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(status)
		fmt.Fprint(w, name)
	}))
}

// A Lambda-style alias in front of two versions: shift all traffic to the
// new one and read the split back.
func ExampleProxy() {
	v1, v2 := version("v1", http.StatusOK), version("v2", http.StatusOK)
	defer v1.Close()
	defer v2.Close()

	p, err := localtraffic.New()
	if err != nil {
		fmt.Println(err)
		return
	}
	defer p.Close()
	alias := target.TrafficRoute{ResourceID: "shop:live"}
	if err := p.AddRoute(alias, "v1",
		localtraffic.Backend{ID: "v1", URL: v1.URL},
		localtraffic.Backend{ID: "v2", URL: v2.URL}); err != nil {
		fmt.Println(err)
		return
	}
	front := httptest.NewServer(p.Handler(alias)) // the alias's listener
	defer front.Close()
	call := func() string {
		resp, err := front.Client().Get(front.URL)
		if err != nil {
			return err.Error()
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}

	ctx := context.Background()
	fmt.Println("before:", call())
	err = p.ShiftTraffic(ctx, target.ShiftRequest{Route: alias,
		Split: target.TrafficSplit{Original: "v1", Replacement: "v2", Weight: 100}})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("after:", call(), call())
	split, _ := p.CurrentTraffic(ctx, alias)
	fmt.Printf("current: %+v\n", split)
	stats, _ := p.Stats(alias)
	fmt.Println("v1:", stats.Backends["v1"].Requests, "v2:", stats.Backends["v2"].Requests)
	// Output:
	// before: v1
	// after: v2 v2
	// current: {Original:v2 Replacement: Weight:0}
	// v1: 1 v2: 2
}

// An alarm on a route's 5xx rate, read on a fake clock: a broken version
// trips it; once its errors have left the window, it has cleared.
func ExampleAlarms() {
	good, broken := version("v1", http.StatusOK), version("v2", http.StatusInternalServerError)
	defer good.Close()
	defer broken.Close()

	clk := clock.NewFake(time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC))
	p, err := localtraffic.New(func(o *localtraffic.Options) { o.Clock = clk })
	if err != nil {
		fmt.Println(err)
		return
	}
	defer p.Close()
	alias := target.TrafficRoute{ResourceID: "shop:live"}
	if err := p.AddRoute(alias, "v1",
		localtraffic.Backend{ID: "v1", URL: good.URL},
		localtraffic.Backend{ID: "v2", URL: broken.URL}); err != nil {
		fmt.Println(err)
		return
	}
	alarms, err := localtraffic.NewAlarms(p, localtraffic.ErrorRateAlarm{
		Name: "shop-5xx", Route: alias,
		Window: time.Minute, Threshold: 0.05, MinRequests: 5,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	front := httptest.NewServer(p.Handler(alias))
	defer front.Close()
	send := func(n int) {
		for range n {
			resp, err := front.Client().Get(front.URL)
			if err != nil {
				fmt.Println(err)
				return
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
	}
	ctx := context.Background()
	shiftTo := func(weight int) {
		err := p.ShiftTraffic(ctx, target.ShiftRequest{Route: alias,
			Split: target.TrafficSplit{Original: "v1", Replacement: "v2", Weight: weight}})
		if err != nil {
			fmt.Println(err)
		}
	}
	show := func(when string) {
		r, _ := alarms.Read("shop-5xx")
		fmt.Printf("%s: %s (%d errors in %d requests)\n", when, r.State, r.Counts.Errors, r.Counts.Requests)
	}

	show("before")
	shiftTo(100) // a fixed weight keeps the example deterministic
	send(3)
	show("3 requests")
	send(7)
	show("10 requests")
	shiftTo(0) // roll back to v1
	clk.Advance(30 * time.Second)
	send(10)
	show("30s later")
	clk.Advance(30 * time.Second)
	send(10)
	show("60s later")
	// Output:
	// before: INSUFFICIENT_DATA (0 errors in 0 requests)
	// 3 requests: INSUFFICIENT_DATA (3 errors in 3 requests)
	// 10 requests: ALARM (10 errors in 10 requests)
	// 30s later: ALARM (10 errors in 20 requests)
	// 60s later: OK (0 errors in 20 requests)
}

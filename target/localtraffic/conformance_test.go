package localtraffic_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fleetdeploy/fleetdeploy/target"
	"github.com/fleetdeploy/fleetdeploy/target/localtraffic"
	"github.com/fleetdeploy/fleetdeploy/target/targettest"
)

// A Proxy is the TrafficController of targets behind two pools, one for a
// Classic Load Balancer and one for a target group: the harness sees a
// target registered with a pool when requests sent through the pool reach
// it.
func TestProxyTrafficControllerConformance(t *testing.T) {
	targettest.TestTrafficController(t, func(t *testing.T) targettest.TrafficHarness {
		srv := backendServer(t, "ok", http.StatusOK)
		p, _ := newProxy(t)
		lb := target.LoadBalancerInfo{
			ELBInfoList:         []target.NameInfo{{Name: "classic-web"}},
			TargetGroupInfoList: []target.NameInfo{{Name: "tg-web"}},
		}
		pools := []string{"classic-web", "tg-web"}
		for _, name := range pools {
			if err := p.AddRoute(target.TrafficRoute{ResourceID: name}, ""); err != nil {
				t.Fatal(err)
			}
		}
		var (
			mu sync.Mutex
			n  int // backends in each pool
		)
		return targettest.TrafficHarness{
			Controller:   p,
			LoadBalancer: lb,
			NewTarget: func(ctx context.Context, registered bool) (target.Target, error) {
				mu.Lock()
				defer mu.Unlock()
				n++
				tg := target.Target{ID: fmt.Sprintf("host-%d", n)}
				for _, name := range pools {
					b := localtraffic.Backend{ID: tg.ID, URL: srv.URL, Blocked: !registered}
					if err := p.AddBackend(target.TrafficRoute{ResourceID: name}, b); err != nil {
						return target.Target{}, err
					}
				}
				return tg, nil
			},
			Observe: func(ctx context.Context, tg target.Target) ([]string, error) {
				mu.Lock()
				defer mu.Unlock()
				var with []string
				for _, name := range pools {
					route := target.TrafficRoute{ResourceID: name}
					before, err := p.Stats(route)
					if err != nil {
						return nil, err
					}
					// A pool goes round its backends in service: n
					// requests reach each of them.
					for range n {
						p.Handler(route).ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/", nil))
					}
					after, err := p.Stats(route)
					if err != nil {
						return nil, err
					}
					if after.Sub(before).Backends[tg.ID].Requests > 0 {
						with = append(with, name)
					}
				}
				return with, nil
			},
		}
	})
}

// Alarms are an AlarmSource: the harness hands out error-rate alarms, each
// on a route of its own, and puts them in a state with traffic — one
// failed request for ALARM, one good one for OK, none for
// INSUFFICIENT_DATA — after moving the clock past every alarm's window.
func TestAlarmsAlarmSourceConformance(t *testing.T) {
	const alarms, window = 3, time.Minute
	targettest.TestAlarmSource(t, func(t *testing.T) targettest.AlarmHarness {
		var (
			mu     sync.Mutex
			status = map[string]int{} // backend → the status it answers
			want   = map[string]target.AlarmState{}
			handed int
		)
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			code := status[strings.Trim(r.URL.Path, "/")]
			mu.Unlock()
			w.WriteHeader(code)
		}))
		t.Cleanup(srv.Close)
		p, clk := newProxy(t)
		var defs []localtraffic.ErrorRateAlarm
		for i := range alarms {
			route := target.TrafficRoute{ResourceID: fmt.Sprintf("svc-%d", i)}
			b := fmt.Sprintf("b-%d", i)
			if err := p.AddRoute(route, b, localtraffic.Backend{ID: b, URL: srv.URL + "/" + b}); err != nil {
				t.Fatal(err)
			}
			defs = append(defs, localtraffic.ErrorRateAlarm{Name: fmt.Sprintf("svc-%d-5xx", i), Route: route, Window: window, MinRequests: 1})
		}
		a, err := localtraffic.NewAlarms(p, defs...)
		if err != nil {
			t.Fatal(err)
		}
		return targettest.AlarmHarness{
			Source: a,
			NewAlarm: func(ctx context.Context) (string, error) {
				mu.Lock()
				defer mu.Unlock()
				if handed == alarms {
					return "", fmt.Errorf("the harness has only %d alarms", alarms)
				}
				handed++
				return defs[handed-1].Name, nil
			},
			SetState: func(ctx context.Context, name string, s target.AlarmState) error {
				mu.Lock()
				want[name] = s
				mu.Unlock()
				clk.Advance(window) // every request sent so far leaves every window
				for i, d := range defs {
					mu.Lock()
					s, ok := want[d.Name]
					status[fmt.Sprintf("b-%d", i)] = map[target.AlarmState]int{target.AlarmOK: http.StatusOK, target.AlarmAlarm: http.StatusInternalServerError}[s]
					mu.Unlock()
					if !ok || s == target.AlarmInsufficientData {
						continue
					}
					p.Handler(d.Route).ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/", nil))
				}
				return nil
			},
		}
	})
}

package targettest_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/fleetdeploy/fleetdeploy/config"
	"github.com/fleetdeploy/fleetdeploy/target"
	"github.com/fleetdeploy/fleetdeploy/target/targettest"
)

// A fleet with one scripted hook failure, driven through the in-place event
// sequence the way an executor drives it.
func ExampleFleet() {
	ctx := context.Background()
	fleet := targettest.NewFleet(
		target.Target{ID: "i-1", Zone: "us-east-1a", Tags: map[string]string{"Env": "Prod"}},
		target.Target{ID: "i-2", Zone: "us-east-1b", Tags: map[string]string{"Env": "Prod"}},
		target.Target{ID: "i-3", Zone: "us-east-1a", Tags: map[string]string{"Env": "Dev"}},
	)
	fleet.Script("i-2", target.AfterInstall, targettest.Fail(target.CodeScriptFailed, "scripts/configure.sh exited 1"))

	sel := target.Selector{EC2TagFilters: []target.TagFilter{{Key: "Env", Value: "Prod", Type: target.KeyAndValue}}}
	targets, _ := fleet.ListTargets(ctx, sel)
	events, _ := target.Sequence{Platform: config.Server, Kind: target.KindInPlace}.Events()
	d := target.DeploymentInfo{DeploymentID: "d-1", DeploymentType: target.InPlace}
	for _, t := range targets {
		status := target.TargetSucceeded
		for _, e := range events {
			res, err := fleet.RunEvent(ctx, target.EventRequest{Target: t, Event: e, Deployment: d})
			if err != nil || res.Status == target.EventFailed {
				fmt.Printf("%s: %s %s: %s\n", t.ID, e, res.ErrorCode, res.Message)
				status = target.TargetFailed
				break
			}
		}
		fmt.Println(t.ID, status)
	}
	fmt.Println("events on i-2:", fleet.Events("i-2"))
	fmt.Println("max in flight:", fleet.MaxInFlight("d-1"))
	// Output:
	// i-1 Succeeded
	// i-2: AfterInstall ScriptFailed: scripts/configure.sh exited 1
	// i-2 Failed
	// events on i-2: [ApplicationStop DownloadBundle BeforeInstall Install AfterInstall]
	// max in flight: 1
}

// A Gate holds an event in flight while the test changes the world: here
// the instance stops mid-event.
func ExampleGate() {
	ctx := context.Background()
	fleet := targettest.NewFleet(target.Target{ID: "i-1"})
	gate := targettest.NewGate()
	fleet.OnCall(func(ctx context.Context, c targettest.Call) error { return gate.Wait(ctx) })

	done := make(chan error)
	go func() {
		_, err := fleet.RunEvent(ctx, target.EventRequest{Target: target.Target{ID: "i-1"}, Event: target.ApplicationStart})
		done <- err
	}()
	_ = fleet.WaitRunning(ctx, 1) // the event is now in flight
	fleet.SetReachable("i-1", false)
	gate.Open()
	err := <-done
	fmt.Println(errors.Is(err, target.ErrTargetUnavailable))
	// Output:
	// true
}

// An AlarmSource's test hands TestAlarmSource a harness: the source, a way
// to make alarms and a way to set their state. Here the source is the
// in-memory Alarms; a CloudWatch source's harness would make alarms with
// PutMetricAlarm and set them with SetAlarmState, through its own client.
// The suite needs the test's *testing.T, so this example runs the harness
// the way the suite's "States" check does; a test runs the suite itself.
func ExampleTestAlarmSource() {
	newHarness := func(t *testing.T) targettest.AlarmHarness {
		alarms := targettest.NewAlarms()
		n := 0
		return targettest.AlarmHarness{
			Source: alarms,
			NewAlarm: func(ctx context.Context) (string, error) {
				n++
				name := fmt.Sprintf("web-5xx-%d", n)
				alarms.Set(name, target.AlarmOK) // a new CloudWatch alarm starts OK
				return name, nil
			},
			SetState: func(ctx context.Context, name string, s target.AlarmState) error {
				alarms.Set(name, s)
				return nil
			},
		}
	}
	testAlarms := func(t *testing.T) { targettest.TestAlarmSource(t, newHarness) }
	_ = testAlarms // the source's TestXxx(t) calls targettest.TestAlarmSource like this

	ctx := context.Background()
	h := newHarness(nil)
	a, _ := h.NewAlarm(ctx)
	b, _ := h.NewAlarm(ctx)
	_ = h.SetState(ctx, a, target.AlarmAlarm)
	states, err := h.Source.AlarmStates(ctx, []string{b, a})
	fmt.Println(states, err)
	_, err = h.Source.AlarmStates(ctx, []string{a, "web-latency"})
	fmt.Println(errors.Is(err, target.ErrNotFound), err)
	// Output:
	// [OK ALARM] <nil>
	// true targettest: alarm "web-latency" does not exist (set it with Alarms.Set): target: not found
}

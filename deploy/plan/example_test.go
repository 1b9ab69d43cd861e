package plan_test

import (
	"fmt"
	"time"

	"github.com/fleetdeploy/fleetdeploy/config"
	"github.com/fleetdeploy/fleetdeploy/deploy/plan"
	"github.com/fleetdeploy/fleetdeploy/health"
	"github.com/fleetdeploy/fleetdeploy/target"
)

// The caller's loop: ask, act, report. Here every target succeeds at once;
// a real executor runs the lifecycle events and stores the state.
func Example() {
	c, _ := config.Predefined("CodeDeployDefault.HalfAtATime")
	in := plan.Input{Config: c, Type: target.InPlace}
	for _, id := range []string{"i-4", "i-1", "i-3", "i-2", "i-5"} {
		in.Targets = append(in.Targets, plan.Target{ID: id, Instance: health.Healthy, Revision: health.Current, Status: target.TargetPending})
	}
	in.Targets[2].Instance = health.Unhealthy // i-3 goes first

	p, err := plan.New(in)
	if err != nil {
		fmt.Println(err)
		return
	}
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	for {
		d := p.Next(now)
		if d.Done {
			fmt.Println(d.Status+":", d.Explanation)
			return
		}
		var started []string
		for _, i := range d.Start {
			started = append(started, in.Targets[i].ID)
		}
		fmt.Println("start", started)
		for _, i := range d.Start {
			if err := p.Finished(i, true); err != nil {
				fmt.Println(err)
				return
			}
		}
		now = now.Add(time.Minute)
	}
	// Output:
	// start [i-3 i-1]
	// start [i-2 i-4]
	// start [i-5]
	// Succeeded: Deploy: 5 of 5 targets succeeded; at least 3 must succeed (FLEET_PERCENT 50 of 5 targets rounds up to 3 healthy required; 2 may be offline at once)
}

func ExamplePreview() {
	c := config.Config{Name: "NineOfTen", MinimumHealthyHosts: &config.MinimumHealthyHosts{Type: config.HostCount, Value: 8}}
	in := plan.Input{Config: c, Type: target.InPlace}
	for i := 1; i <= 10; i++ {
		in.Targets = append(in.Targets, plan.Target{ID: fmt.Sprintf("i-%02d", i), Instance: health.Healthy, Revision: health.Old, Status: target.TargetPending})
	}
	s, err := plan.Preview(plan.PreviewInput{Input: in, Fail: []string{"i-03", "i-06"}})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(s.Arithmetic)
	for _, st := range s.Steps {
		fmt.Printf("%4vs start %v succeeded %v failed %v\n", st.At, st.Start, st.Succeeded, st.Failed)
	}
	fmt.Println(s.Status, s.ErrorCode, s.Succeeded, s.Failed, s.NotAttempted)
	// Output:
	// HOST_COUNT 8 of 10 targets: 8 healthy required; 2 may be offline at once
	//    0s start [i-01 i-02] succeeded [] failed []
	//   60s start [i-03 i-04] succeeded [i-01 i-02] failed []
	//  120s start [i-05] succeeded [i-04] failed [i-03]
	//  180s start [i-06] succeeded [i-05] failed []
	//  240s start [] succeeded [] failed [i-06]
	// Failed HEALTH_CONSTRAINTS 4 2 4
}

func ExamplePreview_lambda() {
	c, _ := config.Predefined("CodeDeployDefault.LambdaLinear10PercentEvery3Minutes")
	s, err := plan.Preview(plan.PreviewInput{Input: plan.Input{Config: c, Type: target.BlueGreen}})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, st := range s.Steps {
		if st.Event != "" {
			fmt.Printf("%5vs %s %d%%\n", st.At, st.Event, st.TrafficWeight)
		}
	}
	fmt.Println(s.Status, s.DurationSeconds)
	// Output:
	//     0s BeforeAllowTraffic 0%
	//     0s AllowTraffic 10%
	//   180s AllowTraffic 20%
	//   360s AllowTraffic 30%
	//   540s AllowTraffic 40%
	//   720s AllowTraffic 50%
	//   900s AllowTraffic 60%
	//  1080s AllowTraffic 70%
	//  1260s AllowTraffic 80%
	//  1440s AllowTraffic 90%
	//  1620s AllowTraffic 100%
	//  1620s AfterAllowTraffic 0%
	// Succeeded 1620
}

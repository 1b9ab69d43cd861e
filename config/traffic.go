package config

import "time"

// TrafficStep is one shift of a traffic schedule.
type TrafficStep struct {
	// At is the time from the first shift to this one.
	At time.Duration
	// Weight is the percentage of traffic on the replacement version once the
	// step is done.
	Weight int
}

// Steps returns the schedule of shifts t describes (API Reference,
// TrafficRoutingConfig; how a linear schedule ends is fleetdeploy's
// decision, see the package documentation):
//
//   - AllAtOnce: 100% at 0.
//   - TimeBasedCanary p% / I min: p at 0, 100 at I.
//   - TimeBasedLinear p% / I min: p, 2p, 3p, … every I minutes, capped at
//     100; the shift to 100 is its own step one interval after the last step
//     below 100. 30% every 10 minutes: 30 at 0, 60 at 10, 90 at 20, 100 at 30.
//
// Steps of an invalid routing (see Config.Validate) is the AllAtOnce
// schedule, so a caller that skipped validation still gets a finite,
// well-formed schedule.
func (t TrafficRouting) Steps() []TrafficStep {
	switch {
	case t.Type == TimeBasedCanary && t.TimeBasedCanary != nil && validStep(t.TimeBasedCanary.CanaryPercentage, t.TimeBasedCanary.CanaryInterval):
		c := t.TimeBasedCanary
		return []TrafficStep{{At: 0, Weight: c.CanaryPercentage}, {At: minutes(c.CanaryInterval), Weight: 100}}
	case t.Type == TimeBasedLinear && t.TimeBasedLinear != nil && validStep(t.TimeBasedLinear.LinearPercentage, t.TimeBasedLinear.LinearInterval):
		l := t.TimeBasedLinear
		n := (100 + l.LinearPercentage - 1) / l.LinearPercentage
		steps := make([]TrafficStep, n)
		for i := range steps {
			steps[i] = TrafficStep{At: minutes(i * l.LinearInterval), Weight: min((i+1)*l.LinearPercentage, 100)}
		}
		return steps
	default:
		return []TrafficStep{{At: 0, Weight: 100}}
	}
}

func validStep(pct, interval int) bool { return pct >= 1 && pct <= 99 && interval >= 1 }

func minutes(n int) time.Duration { return time.Duration(n) * time.Minute }

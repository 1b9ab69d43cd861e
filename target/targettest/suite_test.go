package targettest_test

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/fleetdeploy/fleetdeploy/target"
	"github.com/fleetdeploy/fleetdeploy/target/targettest"
)

// The in-memory fakes pass every suite.

// fleetLister is a harness over a Fleet; onPrem makes on-premises targets,
// otherwise EC2 ones in Auto Scaling groups too.
func fleetLister(onPrem bool) func(*testing.T) targettest.ListerHarness {
	return func(t *testing.T) targettest.ListerHarness {
		f := targettest.NewFleet()
		return listerHarness(f, f, onPrem)
	}
}

// listerHarness is a harness whose targets are added to f and listed by l
// (f itself, or a broken wrapper of it).
func listerHarness(l target.Lister, f *targettest.Fleet, onPrem bool) targettest.ListerHarness {
	return targettest.ListerHarness{
		Lister: l,
		Create: func(ctx context.Context, specs []targettest.TargetSpec) ([]target.Target, error) {
			var out []target.Target
			for _, s := range specs {
				tg := target.Target{ID: fmt.Sprintf("i-%04d", len(f.Targets())), Tags: s.Tags, AutoScalingGroup: s.AutoScalingGroup, OnPremises: onPrem, Zone: "us-east-1a"}
				f.Add(tg)
				out = append(out, tg)
			}
			return out, nil
		},
		OnPremises:  onPrem,
		AutoScaling: !onPrem,
	}
}

func TestFleetIsALister(t *testing.T) {
	t.Run("EC2", func(t *testing.T) { targettest.TestLister(t, fleetLister(false)) })
	t.Run("OnPremises", func(t *testing.T) { targettest.TestLister(t, fleetLister(true)) })
}

// trafficHarness is a harness over a Fleet, whose targets are behind one
// Classic Load Balancer and one target group; c is f itself or a broken
// wrapper of it.
func trafficHarness(c target.TrafficController, f *targettest.Fleet) targettest.TrafficHarness {
	lb := target.LoadBalancerInfo{ELBInfoList: []target.NameInfo{{Name: "elb-1"}}, TargetGroupInfoList: []target.NameInfo{{Name: "tg-1"}}}
	return targettest.TrafficHarness{
		Controller:   c,
		LoadBalancer: lb,
		NewTarget: func(ctx context.Context, registered bool) (target.Target, error) {
			tg := target.Target{ID: fmt.Sprintf("i-%04d", len(f.Targets()))}
			f.Add(tg)
			if !registered {
				// The fleet's own BlockTraffic, not the one under test.
				return tg, f.BlockTraffic(ctx, target.TrafficRequest{Target: tg})
			}
			return tg, nil
		},
		Observe: func(ctx context.Context, tg target.Target) ([]string, error) {
			if f.InService(tg.ID) {
				return []string{"elb-1", "tg-1"}, nil
			}
			return nil, nil
		},
	}
}

func TestFleetIsATrafficController(t *testing.T) {
	targettest.TestTrafficController(t, func(t *testing.T) targettest.TrafficHarness {
		f := targettest.NewFleet()
		return trafficHarness(f, f)
	})
}

// provisionerHarness is a harness over a Provisioner of a Fleet; p is the
// Provisioner or a broken wrapper of it.
func provisionerHarness(action target.ProvisionAction, wrap func(*targettest.Provisioner) target.Provisioner) func(*testing.T) targettest.ProvisionerHarness {
	return func(t *testing.T) targettest.ProvisionerHarness {
		f := targettest.NewFleet()
		p := targettest.NewProvisioner(f)
		n := 0
		return targettest.ProvisionerHarness{
			Provisioner: wrap(p),
			NewRequest: func(ctx context.Context) (target.ProvisionRequest, error) {
				n++
				d := target.DeploymentInfo{ApplicationName: "app", DeploymentGroupName: "web", DeploymentID: fmt.Sprintf("d-%d", n), DeploymentType: target.BlueGreen}
				blue := map[string]string{"fleet": fmt.Sprintf("blue-%d", n)}
				green := map[string]string{"fleet": fmt.Sprintf("green-%d", n)}
				originals := []target.Target{{ID: fmt.Sprintf("i-o%d-1", n), Tags: blue}, {ID: fmt.Sprintf("i-o%d-2", n), Tags: blue}}
				f.Add(originals...)
				req := target.ProvisionRequest{Deployment: d, Action: action, Originals: originals}
				if action == target.DiscoverExisting {
					f.Add(target.Target{ID: fmt.Sprintf("i-g%d-1", n), Tags: green})
					req.Replacements = target.Selector{EC2TagFilters: []target.TagFilter{{Key: "fleet", Value: green["fleet"], Type: target.KeyAndValue}}}
				}
				return req, nil
			},
			Exists: func(ctx context.Context, tg target.Target) (bool, error) {
				return slices.ContainsFunc(f.Targets(), func(m target.Target) bool { return m.ID == tg.ID }), nil
			},
		}
	}
}

func TestProvisionerIsAProvisioner(t *testing.T) {
	plain := func(p *targettest.Provisioner) target.Provisioner { return p }
	for name, a := range map[string]target.ProvisionAction{"Copy": target.CopyAutoScalingGroup, "Discover": target.DiscoverExisting, "ECS": ""} {
		t.Run(name, func(t *testing.T) { targettest.TestProvisioner(t, provisionerHarness(a, plain)) })
	}
}

// alarmHarness is a harness over an Alarms; s is it or a broken wrapper.
func alarmHarness(wrap func(*targettest.Alarms) target.AlarmSource) func(*testing.T) targettest.AlarmHarness {
	return func(t *testing.T) targettest.AlarmHarness {
		a := targettest.NewAlarms()
		n := 0
		return targettest.AlarmHarness{
			Source: wrap(a),
			NewAlarm: func(ctx context.Context) (string, error) {
				n++
				name := fmt.Sprintf("alarm-%d", n)
				a.Set(name, target.AlarmOK) // new alarms start OK, as in CloudWatch
				return name, nil
			},
			SetState: func(ctx context.Context, name string, s target.AlarmState) error {
				a.Set(name, s)
				return nil
			},
		}
	}
}

func TestAlarmsIsAnAlarmSource(t *testing.T) {
	targettest.TestAlarmSource(t, alarmHarness(func(a *targettest.Alarms) target.AlarmSource { return a }))
}

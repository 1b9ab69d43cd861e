package localtarget_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/fleetdeploy/fleetdeploy/revision/revisiontest"
	"github.com/fleetdeploy/fleetdeploy/target"
	"github.com/fleetdeploy/fleetdeploy/target/localtarget"
	"github.com/fleetdeploy/fleetdeploy/target/targettest"
)

// A Fleet is a target.Lister of on-premises instances, and of instances
// that stand for EC2 ones, in Auto Scaling groups too.
func TestFleetListerConformance(t *testing.T) {
	for name, onPrem := range map[string]bool{"EC2": false, "OnPremises": true} {
		t.Run(name, func(t *testing.T) {
			targettest.TestLister(t, func(t *testing.T) targettest.ListerHarness {
				fleet, err := localtarget.New(t.TempDir(), revisiontest.NewMemSource())
				if err != nil {
					t.Fatal(err)
				}
				return targettest.ListerHarness{
					Lister: fleet,
					Create: func(ctx context.Context, specs []targettest.TargetSpec) ([]target.Target, error) {
						var out []target.Target
						for i, s := range specs {
							tg := target.Target{ID: fmt.Sprintf("host-%02d", i), Zone: "zone-a", Tags: s.Tags,
								AutoScalingGroup: s.AutoScalingGroup, OnPremises: onPrem}
							if _, err := fleet.Add(ctx, tg); err != nil {
								return nil, err
							}
							out = append(out, tg)
						}
						return out, nil
					},
					OnPremises:  onPrem,
					AutoScaling: !onPrem,
				}
			})
		})
	}
}

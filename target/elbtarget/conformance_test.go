package elbtarget_test

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancing"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancing/types"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	v2types "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"github.com/fleetdeploy/fleetdeploy/target"
	"github.com/fleetdeploy/fleetdeploy/target/elbtarget"
	"github.com/fleetdeploy/fleetdeploy/target/targettest"
)

// The Controller passes the TrafficController conformance suite against
// moto, over one ELBv2 target group and one Classic Load Balancer at once.
// moto drains and reports targets healthy at once, so the controller runs
// on the real clock and its waits end at their first poll.
func TestConformance(t *testing.T) {
	targettest.TestTrafficController(t, func(t *testing.T) targettest.TrafficHarness {
		w := newWorld(t)
		tg, arn := w.targetGroup(0)
		clb := w.classicLB(0)
		c, err := elbtarget.New(w.v2, w.classic, func(o *elbtarget.Options) { o.PollInterval = 10 * time.Millisecond })
		if err != nil {
			t.Fatal(err)
		}
		return targettest.TrafficHarness{
			Controller: c,
			LoadBalancer: target.LoadBalancerInfo{TargetGroupInfoList: []target.NameInfo{{Name: tg}},
				ELBInfoList: []target.NameInfo{{Name: clb}}},
			NewTarget: func(ctx context.Context, registered bool) (target.Target, error) {
				id := w.instance()
				if registered {
					w.register(arn, id)
					if _, err := w.classic.RegisterInstancesWithLoadBalancer(ctx, &elb.RegisterInstancesWithLoadBalancerInput{
						LoadBalancerName: aws.String(clb), Instances: []elbtypes.Instance{{InstanceId: aws.String(id)}}}); err != nil {
						return target.Target{}, err
					}
				}
				return target.Target{ID: id}, nil
			},
			Observe: func(ctx context.Context, x target.Target) ([]string, error) {
				var with []string
				health, err := w.v2.DescribeTargetHealth(ctx, &elbv2.DescribeTargetHealthInput{TargetGroupArn: aws.String(arn)})
				if err != nil {
					return nil, err
				}
				for _, d := range health.TargetHealthDescriptions {
					if aws.ToString(d.Target.Id) == x.ID && d.TargetHealth != nil &&
						d.TargetHealth.State != v2types.TargetHealthStateEnumDraining && d.TargetHealth.State != v2types.TargetHealthStateEnumUnused {
						with = append(with, tg)
						break
					}
				}
				if w.classicRegistered(clb, x.ID) {
					with = append(with, clb)
				}
				return with, nil
			},
		}
	})
}

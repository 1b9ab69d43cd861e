package ec2target_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	astypes "github.com/aws/aws-sdk-go-v2/service/autoscaling/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/fleetdeploy/fleetdeploy/internal/motoserver"
	"github.com/fleetdeploy/fleetdeploy/target"
	"github.com/fleetdeploy/fleetdeploy/target/ec2target"
	"github.com/fleetdeploy/fleetdeploy/target/targettest"
)

// The Lister passes the Lister conformance suite against moto: tagged
// instances launched with RunInstances, and Auto Scaling groups of
// instances launched from a launch template with the group's tags.
func TestListerConformance(t *testing.T) {
	targettest.TestLister(t, func(t *testing.T) targettest.ListerHarness {
		e := newEnv(t)
		l, err := ec2target.NewLister(e.ec2, e.asg)
		if err != nil {
			t.Fatal(err)
		}
		return targettest.ListerHarness{Lister: l, AutoScaling: true,
			Create: func(ctx context.Context, specs []targettest.TargetSpec) ([]target.Target, error) {
				out := make([]target.Target, len(specs))
				groups := map[string][]int{} // group name → positions in specs
				var order []string
				for i, s := range specs {
					if s.AutoScalingGroup == "" {
						out[i] = target.Target{ID: e.run(1, "", s.Tags)[0], Tags: s.Tags}
						continue
					}
					if groups[s.AutoScalingGroup] == nil {
						order = append(order, s.AutoScalingGroup)
					}
					groups[s.AutoScalingGroup] = append(groups[s.AutoScalingGroup], i)
				}
				if len(order) == 0 {
					return out, nil
				}
				lt, _ := e.launchTemplate()
				for _, name := range order {
					at := groups[name]
					ids, err := createGroup(ctx, e.asg, name, lt, int32(len(at)), specs[at[0]].Tags)
					if err != nil {
						return nil, err
					}
					if len(ids) != len(at) {
						return nil, fmt.Errorf("group %s has %d instances; want %d", name, len(ids), len(at))
					}
					for k, i := range at {
						out[i] = target.Target{ID: ids[k], Tags: specs[i].Tags, AutoScalingGroup: name}
					}
				}
				return out, nil
			}}
	})
}

// createGroup creates Auto Scaling group name of n instances from launch
// template lt, with tags propagated at launch, and returns its instances.
func createGroup(ctx context.Context, asg *autoscaling.Client, name, lt string, n int32, tags map[string]string) ([]string, error) {
	in := &autoscaling.CreateAutoScalingGroupInput{AutoScalingGroupName: aws.String(name),
		MinSize: aws.Int32(0), MaxSize: aws.Int32(10), DesiredCapacity: aws.Int32(n),
		LaunchTemplate:    &astypes.LaunchTemplateSpecification{LaunchTemplateName: aws.String(lt), Version: aws.String("$Latest")},
		AvailabilityZones: []string{"us-east-1a"}}
	for k, v := range tags {
		in.Tags = append(in.Tags, astypes.Tag{Key: aws.String(k), Value: aws.String(v), PropagateAtLaunch: aws.Bool(true),
			ResourceId: aws.String(name), ResourceType: aws.String("auto-scaling-group")})
	}
	if _, err := asg.CreateAutoScalingGroup(ctx, in); err != nil {
		return nil, err
	}
	got, err := asg.DescribeAutoScalingGroups(ctx, &autoscaling.DescribeAutoScalingGroupsInput{AutoScalingGroupNames: []string{name}})
	if err != nil {
		return nil, err
	}
	var ids []string
	for _, g := range got.AutoScalingGroups {
		for _, i := range g.Instances {
			ids = append(ids, aws.ToString(i.InstanceId))
		}
	}
	return ids, nil
}

// The Provisioner passes the Provisioner conformance suite against moto
// with COPY_AUTO_SCALING_GROUP: moto's copies are InService at once, so the
// provisioner runs on the real clock and its wait ends at its first poll.
func TestProvisionerConformance(t *testing.T) {
	targettest.TestProvisioner(t, func(t *testing.T) targettest.ProvisionerHarness {
		e := newEnv(t)
		p, err := ec2target.NewProvisioner(e.ec2, e.asg, func(o *ec2target.Options) { o.PollInterval = 10 * time.Millisecond })
		if err != nil {
			t.Fatal(err)
		}
		return targettest.ProvisionerHarness{Provisioner: p,
			NewRequest: func(ctx context.Context) (target.ProvisionRequest, error) {
				lt, _ := e.launchTemplate()
				asg, _ := e.group(lt, 2, map[string]string{motoserver.Name(t, "fleet"): "blue"})
				return target.ProvisionRequest{Action: target.CopyAutoScalingGroup, Originals: e.originals(asg),
					Deployment: target.DeploymentInfo{ApplicationName: "suite", DeploymentGroupName: motoserver.Name(t, "dg"),
						DeploymentID: deploymentID()}}, nil
			},
			Exists: func(ctx context.Context, x target.Target) (bool, error) {
				out, err := e.ec2.DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{x.ID}})
				if err != nil {
					return false, err
				}
				for _, r := range out.Reservations {
					for _, i := range r.Instances {
						switch i.State.Name {
						case ec2types.InstanceStateNamePending, ec2types.InstanceStateNameRunning,
							ec2types.InstanceStateNameStopping, ec2types.InstanceStateNameStopped:
							return true, nil
						}
					}
				}
				return false, nil
			}}
	})
}

// deploymentID returns a new deployment ID of CodeDeploy's shape.
func deploymentID() string {
	var b [5]byte
	_, _ = rand.Read(b[:])
	return "d-" + strings.ToUpper(hex.EncodeToString(b[:]))[:9]
}

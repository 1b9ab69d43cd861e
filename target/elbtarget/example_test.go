package elbtarget_test

import (
	"context"
	"errors"
	"fmt"
	"log"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancing"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	v2types "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/fleetdeploy/fleetdeploy/internal/motoserver"
	"github.com/fleetdeploy/fleetdeploy/target"
	"github.com/fleetdeploy/fleetdeploy/target/elbtarget"
)

// An instance leaves its target group for the update and comes back
// afterwards: the BlockTraffic and AllowTraffic events of an in-place
// deployment behind an Application Load Balancer (here, moto's).
func ExampleController() {
	url, err := motoserver.Start()
	if err != nil {
		log.Fatal(err)
	}
	cfg := motoserver.ConfigFor(url)
	ctx := context.Background()

	// An instance in a target group, as an Auto Scaling group or a
	// previous deployment would have left it.
	e := ec2.NewFromConfig(cfg)
	vpc, err := e.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String("10.1.0.0/16")})
	if err != nil {
		log.Fatal(err)
	}
	sub, err := e.CreateSubnet(ctx, &ec2.CreateSubnetInput{VpcId: vpc.Vpc.VpcId, CidrBlock: aws.String("10.1.1.0/24")})
	if err != nil {
		log.Fatal(err)
	}
	run, err := e.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: aws.String("ami-12c6146b"), MinCount: aws.Int32(1),
		MaxCount: aws.Int32(1), SubnetId: sub.Subnet.SubnetId, InstanceType: ec2types.InstanceTypeT2Micro})
	if err != nil {
		log.Fatal(err)
	}
	id := aws.ToString(run.Instances[0].InstanceId)
	v2 := elbv2.NewFromConfig(cfg)
	name := shortName("web")
	tg, err := v2.CreateTargetGroup(ctx, &elbv2.CreateTargetGroupInput{Name: aws.String(name), Protocol: v2types.ProtocolEnumHttp,
		Port: aws.Int32(8080), VpcId: vpc.Vpc.VpcId, TargetType: v2types.TargetTypeEnumInstance})
	if err != nil {
		log.Fatal(err)
	}
	arn := tg.TargetGroups[0].TargetGroupArn
	if _, err := v2.RegisterTargets(ctx, &elbv2.RegisterTargetsInput{TargetGroupArn: arn,
		Targets: []v2types.TargetDescription{{Id: aws.String(id)}}}); err != nil {
		log.Fatal(err)
	}
	registered := func() int {
		out, err := v2.DescribeTargetHealth(ctx, &elbv2.DescribeTargetHealthInput{TargetGroupArn: arn})
		if err != nil {
			log.Fatal(err)
		}
		return len(out.TargetHealthDescriptions)
	}

	ctl, err := elbtarget.New(v2, elb.NewFromConfig(cfg))
	if err != nil {
		log.Fatal(err)
	}
	req := target.TrafficRequest{
		Target: target.Target{ID: id},
		Deployment: target.DeploymentInfo{LoadBalancer: target.LoadBalancerInfo{
			TargetGroupInfoList: []target.NameInfo{{Name: name}}}},
	}
	if err := ctl.BlockTraffic(ctx, req); err != nil {
		log.Fatal(err)
	}
	fmt.Println("after BlockTraffic, targets registered:", registered())
	if err := ctl.AllowTraffic(ctx, req); err != nil {
		log.Fatal(err)
	}
	fmt.Println("after AllowTraffic, targets registered:", registered())

	// A target group that does not exist: CodeDeploy's error code.
	req.Deployment.LoadBalancer.TargetGroupInfoList = []target.NameInfo{{Name: "no-such-group"}}
	err = ctl.AllowTraffic(ctx, req)
	var failure *elbtarget.Error
	if errors.As(err, &failure) {
		fmt.Println(failure.Kind, failure.Name, failure.Code, errors.Is(err, target.ErrNotFound))
	}
	// Output:
	// after BlockTraffic, targets registered: 0
	// after AllowTraffic, targets registered: 1
	// target group no-such-group ELASTIC_LOAD_BALANCING_INVALID true
}

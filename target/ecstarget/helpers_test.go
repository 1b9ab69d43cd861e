package ecstarget_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"github.com/fleetdeploy/fleetdeploy/internal/motoserver"
	"github.com/fleetdeploy/fleetdeploy/revision"
	"github.com/fleetdeploy/fleetdeploy/target"
)

func TestMain(m *testing.M) { motoserver.Main(m) }

// world is one ECS service behind an Application Load Balancer in moto:
// a cluster, a Fargate task definition, a service with deployment
// controller EXTERNAL and its first task set (primary, in target group
// blue), two target groups, a production and a test listener that forward
// to blue.
type world struct {
	ctx               context.Context
	ecs               *ecs.Client
	elb               *elbv2.Client
	cluster, service  string
	taskDef           string
	subnets           []string
	securityGroup     string
	blue, green       string // target group names
	blueARN, greenARN string
	prod, test        string // listener ARNs
	original          string // the first task set's ARN
	deployments       int
}

// newWorld arranges a world with names unique to t.
func newWorld(t testing.TB) *world {
	t.Helper()
	w, err := arrange(t.Context(), motoserver.Config(t), motoserver.Name(t, "ecs"))
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// arrange makes a world whose resource names start with name.
func arrange(ctx context.Context, cfg aws.Config, name string) (*world, error) {
	w := &world{ctx: ctx, ecs: ecs.NewFromConfig(cfg), elb: elbv2.NewFromConfig(cfg),
		cluster: name + "-cluster", service: name + "-svc"}
	tok := name[len(name)-8:] // Name's random suffix: load balancer and target group names hold 32 characters
	w.blue, w.green = "tg-"+tok+"-blue", "tg-"+tok+"-green"
	ec2c := ec2.NewFromConfig(cfg)
	vpc, err := ec2c.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String("10.0.0.0/16")})
	if err != nil {
		return nil, fmt.Errorf("CreateVpc: %w", err)
	}
	vpcID := aws.ToString(vpc.Vpc.VpcId)
	for i, az := range []string{"us-east-1a", "us-east-1b"} {
		sn, err := ec2c.CreateSubnet(ctx, &ec2.CreateSubnetInput{VpcId: aws.String(vpcID), AvailabilityZone: aws.String(az),
			CidrBlock: aws.String(fmt.Sprintf("10.0.%d.0/24", i))})
		if err != nil {
			return nil, fmt.Errorf("CreateSubnet: %w", err)
		}
		w.subnets = append(w.subnets, aws.ToString(sn.Subnet.SubnetId))
	}
	sg, err := ec2c.CreateSecurityGroup(ctx, &ec2.CreateSecurityGroupInput{GroupName: aws.String(name), Description: aws.String("tasks"), VpcId: aws.String(vpcID)})
	if err != nil {
		return nil, fmt.Errorf("CreateSecurityGroup: %w", err)
	}
	w.securityGroup = aws.ToString(sg.GroupId)
	lb, err := w.elb.CreateLoadBalancer(ctx, &elbv2.CreateLoadBalancerInput{Name: aws.String("lb-" + tok), Subnets: w.subnets,
		Type: elbtypes.LoadBalancerTypeEnumApplication})
	if err != nil {
		return nil, fmt.Errorf("CreateLoadBalancer: %w", err)
	}
	lbARN := aws.ToString(lb.LoadBalancers[0].LoadBalancerArn)
	for _, g := range []*struct{ name, arn *string }{{&w.blue, &w.blueARN}, {&w.green, &w.greenARN}} {
		tg, err := w.elb.CreateTargetGroup(ctx, &elbv2.CreateTargetGroupInput{Name: g.name, Protocol: elbtypes.ProtocolEnumHttp,
			Port: aws.Int32(80), VpcId: aws.String(vpcID), TargetType: elbtypes.TargetTypeEnumIp})
		if err != nil {
			return nil, fmt.Errorf("CreateTargetGroup %s: %w", *g.name, err)
		}
		*g.arn = aws.ToString(tg.TargetGroups[0].TargetGroupArn)
	}
	for _, l := range []struct {
		port int32
		arn  *string
	}{{80, &w.prod}, {8080, &w.test}} {
		out, err := w.elb.CreateListener(ctx, &elbv2.CreateListenerInput{LoadBalancerArn: aws.String(lbARN), Port: aws.Int32(l.port),
			Protocol: elbtypes.ProtocolEnumHttp, DefaultActions: []elbtypes.Action{{Type: elbtypes.ActionTypeEnumForward, TargetGroupArn: aws.String(w.blueARN)}}})
		if err != nil {
			return nil, fmt.Errorf("CreateListener: %w", err)
		}
		*l.arn = aws.ToString(out.Listeners[0].ListenerArn)
	}
	if _, err := w.ecs.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String(w.cluster)}); err != nil {
		return nil, fmt.Errorf("CreateCluster: %w", err)
	}
	td, err := w.ecs.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{Family: aws.String(name),
		// moto cannot start awsvpc tasks (its network interfaces lack a
		// private DNS name), and makes every FARGATE-compatible task
		// definition awsvpc: the task definition is a bridge-mode EC2 one,
		// its task sets launch type FARGATE (moto places tasks only then).
		NetworkMode: ecstypes.NetworkModeBridge,
		Cpu:         aws.String("256"), Memory: aws.String("512"),
		ContainerDefinitions: []ecstypes.ContainerDefinition{{Name: aws.String("web"), Image: aws.String("nginx"), Cpu: 256, Memory: aws.Int32(512),
			PortMappings: []ecstypes.PortMapping{{ContainerPort: aws.Int32(80)}}}}})
	if err != nil {
		return nil, fmt.Errorf("RegisterTaskDefinition: %w", err)
	}
	w.taskDef = aws.ToString(td.TaskDefinition.TaskDefinitionArn)
	if _, err := w.ecs.CreateService(ctx, &ecs.CreateServiceInput{Cluster: aws.String(w.cluster), ServiceName: aws.String(w.service),
		DesiredCount: aws.Int32(2), DeploymentController: &ecstypes.DeploymentController{Type: ecstypes.DeploymentControllerTypeExternal}}); err != nil {
		return nil, fmt.Errorf("CreateService: %w", err)
	}
	ts, err := w.ecs.CreateTaskSet(ctx, &ecs.CreateTaskSetInput{Cluster: aws.String(w.cluster), Service: aws.String(w.service),
		TaskDefinition: aws.String(w.taskDef), LaunchType: ecstypes.LaunchTypeFargate,
		Scale:         &ecstypes.Scale{Unit: ecstypes.ScaleUnitPercent, Value: 100},
		LoadBalancers: []ecstypes.LoadBalancer{{TargetGroupArn: aws.String(w.blueARN), ContainerName: aws.String("web"), ContainerPort: aws.Int32(80)}}})
	if err != nil {
		return nil, fmt.Errorf("CreateTaskSet: %w", err)
	}
	w.original = aws.ToString(ts.TaskSet.TaskSetArn)
	if _, err := w.ecs.UpdateServicePrimaryTaskSet(ctx, &ecs.UpdateServicePrimaryTaskSetInput{Cluster: aws.String(w.cluster),
		Service: aws.String(w.service), PrimaryTaskSet: aws.String(w.original)}); err != nil {
		return nil, fmt.Errorf("UpdateServicePrimaryTaskSet: %w", err)
	}
	return w, nil
}

// id is the service's target ID.
func (w *world) id() string { return w.cluster + "/" + w.service }

// pair is the deployment group's target group pair.
func (w *world) pair() target.TargetGroupPairInfo {
	return target.TargetGroupPairInfo{TargetGroups: []target.NameInfo{{Name: w.blue}, {Name: w.green}},
		ProdTrafficRoute: target.TrafficRouteInfo{ListenerArns: []string{w.prod}},
		TestTrafficRoute: target.TrafficRouteInfo{ListenerArns: []string{w.test}}}
}

// appSpec is an ECS AppSpec for task definition td, container web:80.
func appSpec(td string) revision.Location {
	return revision.Location{Type: revision.LocationAppSpecContent, AppSpecContent: &revision.AppSpecContent{Content: "version: 0.0\n" +
		"Resources:\n  - TargetService:\n      Type: AWS::ECS::Service\n      Properties:\n" +
		"        TaskDefinition: " + td + "\n        LoadBalancerInfo:\n          ContainerName: web\n          ContainerPort: 80\n"}}
}

// request is the ProvisionRequest of the world's next deployment, whose
// original is original.
func (w *world) request(original string) target.ProvisionRequest {
	w.deployments++
	return target.ProvisionRequest{
		Deployment: target.DeploymentInfo{ApplicationName: "app", DeploymentGroupName: "dg",
			DeploymentID: fmt.Sprintf("d-%s-%d", w.blue[3:11], w.deployments),
			Revision:     appSpec(w.taskDef), DeploymentType: target.BlueGreen,
			LoadBalancer: target.LoadBalancerInfo{TargetGroupPairInfoList: []target.TargetGroupPairInfo{w.pair()}}},
		Originals: []target.Target{{ID: original}}}
}

// weights returns the forward weights of listener arn, by target group
// name ("blue", "green").
func (w *world) weights(t testing.TB, arn string) map[string]int32 {
	t.Helper()
	out, err := w.elb.DescribeListeners(w.ctx, &elbv2.DescribeListenersInput{ListenerArns: []string{arn}})
	if err != nil {
		t.Fatalf("DescribeListeners: %v", err)
	}
	got := map[string]int32{}
	for _, a := range out.Listeners[0].DefaultActions {
		if a.Type != elbtypes.ActionTypeEnumForward {
			continue
		}
		name := map[string]string{w.blueARN: "blue", w.greenARN: "green"}
		if a.ForwardConfig != nil && len(a.ForwardConfig.TargetGroups) > 0 {
			for _, g := range a.ForwardConfig.TargetGroups {
				got[name[aws.ToString(g.TargetGroupArn)]] = aws.ToInt32(g.Weight)
			}
		} else {
			got[name[aws.ToString(a.TargetGroupArn)]] = 1
		}
	}
	return got
}

// taskSet describes task set arn; nil when it does not exist.
func (w *world) taskSet(t testing.TB, arn string) *ecstypes.TaskSet {
	t.Helper()
	out, err := w.ecs.DescribeTaskSets(w.ctx, &ecs.DescribeTaskSetsInput{Cluster: aws.String(w.cluster), Service: aws.String(w.service), TaskSets: []string{arn}})
	if err != nil {
		t.Fatalf("DescribeTaskSets: %v", err)
	}
	for i := range out.TaskSets {
		if aws.ToString(out.TaskSets[i].TaskSetArn) == arn {
			return &out.TaskSets[i]
		}
	}
	return nil
}

// group returns the name of the target group task set arn registers with.
func (w *world) group(t testing.TB, arn string) string {
	t.Helper()
	ts := w.taskSet(t, arn)
	if ts == nil {
		t.Fatalf("task set %s does not exist", arn)
	}
	return map[string]string{w.blueARN: "blue", w.greenARN: "green"}[aws.ToString(ts.LoadBalancers[0].TargetGroupArn)]
}

// stabilizing wraps an ECS client: the first n DescribeTaskSets answers
// of each task set report STABILIZING instead of moto's STEADY_STATE.
type stabilizing struct {
	*ecs.Client
	n int

	mu    sync.Mutex
	polls map[string]int
}

func (s *stabilizing) DescribeTaskSets(ctx context.Context, in *ecs.DescribeTaskSetsInput, optFns ...func(*ecs.Options)) (*ecs.DescribeTaskSetsOutput, error) {
	out, err := s.Client.DescribeTaskSets(ctx, in, optFns...)
	if err != nil {
		return out, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range out.TaskSets {
		arn := aws.ToString(out.TaskSets[i].TaskSetArn)
		if len(in.TaskSets) > 0 && s.polls[arn] < s.n {
			s.polls[arn]++
			out.TaskSets[i].StabilityStatus = ecstypes.StabilityStatusStabilizing
		}
	}
	return out, nil
}

// pollsOf returns how many answers about arn reported STABILIZING.
func (s *stabilizing) pollsOf(arn string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.polls[arn]
}

// thirdGroup creates a target group outside the pair and returns its ARN.
func (w *world) thirdGroup(t testing.TB) string {
	t.Helper()
	tgs, err := w.elb.DescribeTargetGroups(w.ctx, &elbv2.DescribeTargetGroupsInput{TargetGroupArns: []string{w.blueARN}})
	if err != nil {
		t.Fatal(err)
	}
	out, err := w.elb.CreateTargetGroup(w.ctx, &elbv2.CreateTargetGroupInput{Name: aws.String(w.blue[:11] + "-other"), Protocol: elbtypes.ProtocolEnumHttp,
		Port: aws.Int32(80), VpcId: tgs.TargetGroups[0].VpcId, TargetType: elbtypes.TargetTypeEnumIp})
	if err != nil {
		t.Fatal(err)
	}
	return aws.ToString(out.TargetGroups[0].TargetGroupArn)
}

// forwardTo makes listener arn forward to target group tg only.
func (w *world) forwardTo(t testing.TB, arn, tg string) {
	t.Helper()
	if _, err := w.elb.ModifyListener(w.ctx, &elbv2.ModifyListenerInput{ListenerArn: aws.String(arn),
		DefaultActions: []elbtypes.Action{{Type: elbtypes.ActionTypeEnumForward, TargetGroupArn: aws.String(tg)}}}); err != nil {
		t.Fatal(err)
	}
}

// forwardWeights makes listener arn forward to blue and green with the
// weights given.
func (w *world) forwardWeights(t testing.TB, arn string, blue, green int32) {
	t.Helper()
	if _, err := w.elb.ModifyListener(w.ctx, &elbv2.ModifyListenerInput{ListenerArn: aws.String(arn),
		DefaultActions: []elbtypes.Action{{Type: elbtypes.ActionTypeEnumForward, ForwardConfig: &elbtypes.ForwardActionConfig{
			TargetGroups: []elbtypes.TargetGroupTuple{{TargetGroupArn: aws.String(w.blueARN), Weight: aws.Int32(blue)},
				{TargetGroupArn: aws.String(w.greenARN), Weight: aws.Int32(green)}}}}}}); err != nil {
		t.Fatal(err)
	}
}

package elbtarget_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancing"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancing/types"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	v2types "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/fleetdeploy/fleetdeploy/deploy/deploytest"
	"github.com/fleetdeploy/fleetdeploy/internal/motoserver"
	"github.com/fleetdeploy/fleetdeploy/target"
	"github.com/fleetdeploy/fleetdeploy/target/elbtarget"
)

func TestMain(m *testing.M) { motoserver.Main(m) }

// start is the fake clocks' first reading.
var start = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

// world is one test's resources in moto: a VPC with a subnet, and the
// SDK clients.
type world struct {
	t       *testing.T
	ec2     *ec2.Client
	v2      *elbv2.Client
	classic *elb.Client
	vpc     string
	subnet  string
}

func newWorld(t *testing.T) *world {
	t.Helper()
	cfg := motoserver.Config(t)
	w := &world{t: t, ec2: ec2.NewFromConfig(cfg), v2: elbv2.NewFromConfig(cfg), classic: elb.NewFromConfig(cfg)}
	ctx := context.Background()
	vpc, err := w.ec2.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String("10.0.0.0/16")})
	if err != nil {
		t.Fatal(err)
	}
	w.vpc = aws.ToString(vpc.Vpc.VpcId)
	sub, err := w.ec2.CreateSubnet(ctx, &ec2.CreateSubnetInput{VpcId: vpc.Vpc.VpcId, CidrBlock: aws.String("10.0.1.0/24"),
		AvailabilityZone: aws.String("us-east-1a")})
	if err != nil {
		t.Fatal(err)
	}
	w.subnet = aws.ToString(sub.Subnet.SubnetId)
	return w
}

// shortName returns a unique name of at most 32 characters, as target
// groups and Classic Load Balancers need.
func shortName(prefix string) string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return prefix + "-" + hex.EncodeToString(b[:])
}

// instance runs one instance in the world's subnet and returns its ID.
func (w *world) instance() string {
	w.t.Helper()
	out, err := w.ec2.RunInstances(context.Background(), &ec2.RunInstancesInput{ImageId: aws.String("ami-12c6146b"),
		MinCount: aws.Int32(1), MaxCount: aws.Int32(1), SubnetId: aws.String(w.subnet), InstanceType: ec2types.InstanceTypeT2Micro})
	if err != nil {
		w.t.Fatal(err)
	}
	return aws.ToString(out.Instances[0].InstanceId)
}

// targetGroup creates an instance target group on port 8080 with the given
// deregistration delay and returns its name and ARN.
func (w *world) targetGroup(delay time.Duration) (name, arn string) {
	w.t.Helper()
	ctx := context.Background()
	name = shortName("tg")
	out, err := w.v2.CreateTargetGroup(ctx, &elbv2.CreateTargetGroupInput{Name: aws.String(name), Protocol: v2types.ProtocolEnumHttp,
		Port: aws.Int32(8080), VpcId: aws.String(w.vpc), TargetType: v2types.TargetTypeEnumInstance})
	if err != nil {
		w.t.Fatal(err)
	}
	arn = aws.ToString(out.TargetGroups[0].TargetGroupArn)
	if _, err := w.v2.ModifyTargetGroupAttributes(ctx, &elbv2.ModifyTargetGroupAttributesInput{TargetGroupArn: aws.String(arn),
		Attributes: []v2types.TargetGroupAttribute{{Key: aws.String("deregistration_delay.timeout_seconds"),
			Value: aws.String(strconv.Itoa(int(delay / time.Second)))}}}); err != nil {
		w.t.Fatal(err)
	}
	return name, arn
}

// register registers id with the target group arn on its port.
func (w *world) register(arn, id string) {
	w.t.Helper()
	if _, err := w.v2.RegisterTargets(context.Background(), &elbv2.RegisterTargetsInput{TargetGroupArn: aws.String(arn),
		Targets: []v2types.TargetDescription{{Id: aws.String(id), Port: aws.Int32(8080)}}}); err != nil {
		w.t.Fatal(err)
	}
}

// registered returns the ports on which moto has id registered with the
// target group arn.
func (w *world) registered(arn, id string) []int32 {
	w.t.Helper()
	out, err := w.v2.DescribeTargetHealth(context.Background(), &elbv2.DescribeTargetHealthInput{TargetGroupArn: aws.String(arn)})
	if err != nil {
		w.t.Fatal(err)
	}
	var ports []int32
	for _, d := range out.TargetHealthDescriptions {
		if aws.ToString(d.Target.Id) == id {
			ports = append(ports, aws.ToInt32(d.Target.Port))
		}
	}
	return ports
}

// classicLB creates a Classic Load Balancer with connection draining
// (timeout > 0) or without, and returns its name.
func (w *world) classicLB(draining time.Duration) string {
	w.t.Helper()
	ctx := context.Background()
	name := shortName("clb")
	if _, err := w.classic.CreateLoadBalancer(ctx, &elb.CreateLoadBalancerInput{LoadBalancerName: aws.String(name),
		Listeners: []elbtypes.Listener{{Protocol: aws.String("HTTP"), LoadBalancerPort: 80, InstancePort: aws.Int32(8080)}},
		Subnets:   []string{w.subnet}}); err != nil {
		w.t.Fatal(err)
	}
	if draining > 0 {
		if _, err := w.classic.ModifyLoadBalancerAttributes(ctx, &elb.ModifyLoadBalancerAttributesInput{LoadBalancerName: aws.String(name),
			LoadBalancerAttributes: &elbtypes.LoadBalancerAttributes{ConnectionDraining: &elbtypes.ConnectionDraining{
				Enabled: true, Timeout: aws.Int32(int32(draining / time.Second))}}}); err != nil {
			w.t.Fatal(err)
		}
	}
	return name
}

// classicRegistered reports whether moto has id registered with the
// Classic Load Balancer name.
func (w *world) classicRegistered(name, id string) bool {
	w.t.Helper()
	out, err := w.classic.DescribeLoadBalancers(context.Background(), &elb.DescribeLoadBalancersInput{LoadBalancerNames: []string{name}})
	if err != nil {
		w.t.Fatal(err)
	}
	return slices.ContainsFunc(out.LoadBalancerDescriptions[0].Instances, func(i elbtypes.Instance) bool {
		return aws.ToString(i.InstanceId) == id
	})
}

// request asks for instance id on the named target groups and Classic Load
// Balancers.
func request(id string, targetGroups, classics []string) target.TrafficRequest {
	var lb target.LoadBalancerInfo
	for _, n := range targetGroups {
		lb.TargetGroupInfoList = append(lb.TargetGroupInfoList, target.NameInfo{Name: n})
	}
	for _, n := range classics {
		lb.ELBInfoList = append(lb.ELBInfoList, target.NameInfo{Name: n})
	}
	return target.TrafficRequest{Target: target.Target{ID: id},
		Deployment: target.DeploymentInfo{DeploymentID: "d-TEST", LoadBalancer: lb}}
}

// scriptedV2 is the real ELBv2 client of the world, with what moto cannot
// do: targets that drain, and that start unhealthy. DescribeTargetHealth
// lists each target a DeregisterTargets call removed as "draining" for the
// next drainPolls listings of its target group (forever when negative), and
// reports a target RegisterTargets added as "initial" for the next
// initialPolls health queries on it (forever when negative).
type scriptedV2 struct {
	elbtarget.TargetGroupsAPI
	drainPolls, initialPolls int

	mu       sync.Mutex
	draining map[string][]v2types.TargetDescription // by target group ARN
	drainFor map[string]int
	initFor  map[string]int
	calls    map[string]int // by operation
	polls    map[string]int // DescribeTargetHealth calls by target group ARN
	// open holds the target groups looked up (DescribeTargetGroups) whose
	// draining has not ended yet; maxOpen is the most at once.
	open    map[string]bool
	maxOpen int
}

func newScriptedV2(real elbtarget.TargetGroupsAPI, drainPolls, initialPolls int) *scriptedV2 {
	return &scriptedV2{TargetGroupsAPI: real, drainPolls: drainPolls, initialPolls: initialPolls,
		draining: map[string][]v2types.TargetDescription{}, drainFor: map[string]int{}, initFor: map[string]int{},
		calls: map[string]int{}, polls: map[string]int{}, open: map[string]bool{}}
}

func (s *scriptedV2) DescribeTargetGroups(ctx context.Context, in *elbv2.DescribeTargetGroupsInput, optFns ...func(*elbv2.Options)) (*elbv2.DescribeTargetGroupsOutput, error) {
	out, err := s.TargetGroupsAPI.DescribeTargetGroups(ctx, in, optFns...)
	s.mu.Lock()
	defer s.mu.Unlock()
	if err == nil {
		for _, tg := range out.TargetGroups {
			s.open[aws.ToString(tg.TargetGroupArn)] = true
		}
		s.maxOpen = max(s.maxOpen, len(s.open))
	}
	return out, err
}

// mostOpen returns the most target groups worked on at once.
func (s *scriptedV2) mostOpen() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.maxOpen
}

func (s *scriptedV2) count(op string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[op]
}

func (s *scriptedV2) DeregisterTargets(ctx context.Context, in *elbv2.DeregisterTargetsInput, optFns ...func(*elbv2.Options)) (*elbv2.DeregisterTargetsOutput, error) {
	out, err := s.TargetGroupsAPI.DeregisterTargets(ctx, in, optFns...)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls["DeregisterTargets"]++
	if err == nil {
		arn := aws.ToString(in.TargetGroupArn)
		s.draining[arn], s.drainFor[arn] = slices.Clone(in.Targets), s.drainPolls
	}
	return out, err
}

func (s *scriptedV2) RegisterTargets(ctx context.Context, in *elbv2.RegisterTargetsInput, optFns ...func(*elbv2.Options)) (*elbv2.RegisterTargetsOutput, error) {
	out, err := s.TargetGroupsAPI.RegisterTargets(ctx, in, optFns...)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls["RegisterTargets"]++
	if err == nil {
		s.initFor[aws.ToString(in.TargetGroupArn)] = s.initialPolls
	}
	return out, err
}

func (s *scriptedV2) DescribeTargetHealth(ctx context.Context, in *elbv2.DescribeTargetHealthInput, optFns ...func(*elbv2.Options)) (*elbv2.DescribeTargetHealthOutput, error) {
	out, err := s.TargetGroupsAPI.DescribeTargetHealth(ctx, in, optFns...)
	s.mu.Lock()
	defer s.mu.Unlock()
	arn := aws.ToString(in.TargetGroupArn)
	s.calls["DescribeTargetHealth"]++
	s.polls[arn]++
	if err != nil {
		return out, err
	}
	if _, deregistered := s.draining[arn]; deregistered && in.Targets == nil && s.drainFor[arn] == 0 {
		delete(s.open, arn) // drained
	}
	if in.Targets == nil && s.drainFor[arn] != 0 {
		s.drainFor[arn]--
		for _, td := range s.draining[arn] {
			out.TargetHealthDescriptions = append(out.TargetHealthDescriptions, v2types.TargetHealthDescription{Target: &td,
				TargetHealth: &v2types.TargetHealth{State: v2types.TargetHealthStateEnumDraining,
					Reason: v2types.TargetHealthReasonEnumDeregistrationInProgress}})
		}
	}
	if in.Targets != nil && s.initFor[arn] != 0 {
		s.initFor[arn]--
		for i := range out.TargetHealthDescriptions {
			out.TargetHealthDescriptions[i].TargetHealth = &v2types.TargetHealth{State: v2types.TargetHealthStateEnumInitial,
				Reason: v2types.TargetHealthReasonEnumInitialHealthChecking}
		}
	}
	return out, nil
}

// scriptedClassic is the real Classic client of the world, with draining
// and a slow start: DescribeInstanceHealth reports a deregistered instance
// InService for the next drainPolls queries, and a registered one
// OutOfService for the next initialPolls queries (forever when negative).
type scriptedClassic struct {
	elbtarget.ClassicAPI
	drainPolls, initialPolls int

	mu       sync.Mutex
	drainFor map[string]int // by load balancer name
	initFor  map[string]int
	polls    map[string]int
}

func newScriptedClassic(real elbtarget.ClassicAPI, drainPolls, initialPolls int) *scriptedClassic {
	return &scriptedClassic{ClassicAPI: real, drainPolls: drainPolls, initialPolls: initialPolls,
		drainFor: map[string]int{}, initFor: map[string]int{}, polls: map[string]int{}}
}

func (s *scriptedClassic) pollsOf(name string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.polls[name]
}

func (s *scriptedClassic) DeregisterInstancesFromLoadBalancer(ctx context.Context, in *elb.DeregisterInstancesFromLoadBalancerInput, optFns ...func(*elb.Options)) (*elb.DeregisterInstancesFromLoadBalancerOutput, error) {
	out, err := s.ClassicAPI.DeregisterInstancesFromLoadBalancer(ctx, in, optFns...)
	if err == nil {
		s.mu.Lock()
		s.drainFor[aws.ToString(in.LoadBalancerName)] = s.drainPolls
		s.mu.Unlock()
	}
	return out, err
}

func (s *scriptedClassic) RegisterInstancesWithLoadBalancer(ctx context.Context, in *elb.RegisterInstancesWithLoadBalancerInput, optFns ...func(*elb.Options)) (*elb.RegisterInstancesWithLoadBalancerOutput, error) {
	out, err := s.ClassicAPI.RegisterInstancesWithLoadBalancer(ctx, in, optFns...)
	if err == nil {
		s.mu.Lock()
		s.initFor[aws.ToString(in.LoadBalancerName)] = s.initialPolls
		s.mu.Unlock()
	}
	return out, err
}

func (s *scriptedClassic) DescribeInstanceHealth(ctx context.Context, in *elb.DescribeInstanceHealthInput, optFns ...func(*elb.Options)) (*elb.DescribeInstanceHealthOutput, error) {
	out, err := s.ClassicAPI.DescribeInstanceHealth(ctx, in, optFns...)
	s.mu.Lock()
	defer s.mu.Unlock()
	name := aws.ToString(in.LoadBalancerName)
	s.polls[name]++
	if err != nil {
		return out, err
	}
	set := func(state, desc string) {
		for i := range out.InstanceStates {
			out.InstanceStates[i].State, out.InstanceStates[i].Description = aws.String(state), aws.String(desc)
		}
	}
	switch {
	case s.drainFor[name] != 0:
		s.drainFor[name]--
		set("InService", "Instance deregistration currently in progress.")
	case s.initFor[name] != 0:
		s.initFor[name]--
		set("OutOfService", "Instance registration is still in progress.")
	}
	return out, nil
}

// run calls op in a goroutine and drives clk while it runs: each time
// waiters goroutines are blocked on clk, it moves clk to the earliest
// deadline. It returns op's error and the virtual time op took.
func run(t *testing.T, clk *deploytest.FakeClock, waiters int, op func() error) (time.Duration, error) {
	t.Helper()
	begin := clk.Now()
	done := make(chan error, 1)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		err := op()
		cancel()
		done <- err
	}()
	for clk.BlockUntil(ctx, waiters) == nil {
		clk.AdvanceToNext()
	}
	err := <-done
	return clk.Now().Sub(begin), err
}

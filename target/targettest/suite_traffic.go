package targettest

import (
	"context"
	"slices"
	"testing"

	"github.com/fleetdeploy/fleetdeploy/target"
)

// TrafficHarness is what TestTrafficController needs to check a
// target.TrafficController: the controller, the load balancers its
// requests name, a way to make targets behind them and a way to see which
// load balancers send a target traffic.
type TrafficHarness struct {
	// Controller is the implementation under test.
	Controller target.TrafficController
	// LoadBalancer is put in every request's Deployment.LoadBalancer. It
	// names at least one Classic Load Balancer or target group, all of
	// them existing; name two or more to check that the controller acts on
	// every one. Names must be unique across ELBInfoList and
	// TargetGroupInfoList.
	LoadBalancer target.LoadBalancerInfo
	// NewTarget makes a new target the controller can route traffic to —
	// for ELB, a running EC2 instance; for a local proxy, a backend server
	// — registered with every load balancer of LoadBalancer and receiving
	// traffic when registered is true, and registered with none when it is
	// false (a blue/green replacement before its AllowTraffic). The
	// harness removes it when the test ends (t.Cleanup), if it must.
	NewTarget func(ctx context.Context, registered bool) (target.Target, error)
	// Observe returns the names (from LoadBalancer) of the load balancers
	// and target groups t is registered with and that would send it new
	// traffic now: for ELBv2, the target groups where DescribeTargetHealth
	// lists t in a state other than draining or unused; for Classic Load
	// Balancers, those whose DescribeInstanceHealth lists it; for a local
	// proxy, the routes whose requests reach it. Order does not matter.
	Observe func(ctx context.Context, t target.Target) (registeredWith []string, err error)
}

// TestTrafficController runs the conformance suite of
// target.TrafficController. newHarness is called once per check; the
// checks make seven targets with NewTarget, and about a dozen
// BlockTraffic and AllowTraffic calls and as many Observe calls in all.
// The controller's waits (connection draining, health) must end on their
// own: give it a clock that moves, or a platform that reports targets
// drained and healthy at once (moto does).
//
// The checks, each a subtest:
//
//   - "BlockTraffic": a blocked target gets no traffic from any load
//     balancer of the request, and other targets keep theirs; blocking it
//     again, or blocking a target never registered, is not an error and
//     changes nothing (CodeDeploy skips deregistering an instance that is
//     not registered);
//   - "AllowTraffic": a blocked target allowed again is registered with
//     every load balancer; allowing it again is not an error;
//   - "AllowTraffic/NotRegistered": a target never registered (a
//     blue/green replacement) is registered by AllowTraffic, as CodeDeploy
//     registers replacement instances;
//   - "Context": BlockTraffic and AllowTraffic with a cancelled or expired
//     ctx return its error, at once, and change nothing.
func TestTrafficController(t *testing.T, newHarness func(t *testing.T) TrafficHarness) {
	t.Helper()
	for _, c := range trafficChecks {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t)
			if h.Controller == nil || h.NewTarget == nil || h.Observe == nil {
				t.Fatal("targettest: TrafficHarness needs Controller, NewTarget and Observe")
			}
			s := &trafficSuite{t: t, h: h, dep: target.DeploymentInfo{
				ApplicationName: "targettest", DeploymentGroupName: "traffic", DeploymentGroupID: token(t),
				DeploymentID: deploymentID(t), DeploymentType: target.InPlace, Creator: target.CreatorUser,
				LoadBalancer: h.LoadBalancer.Clone(),
			}}
			for _, n := range slices.Concat(h.LoadBalancer.ELBInfoList, h.LoadBalancer.TargetGroupInfoList) {
				s.all = append(s.all, n.Name)
			}
			if len(s.all) == 0 {
				t.Fatal("targettest: TrafficHarness.LoadBalancer names no Classic Load Balancer or target group")
			}
			c.run(s)
		})
	}
}

var trafficChecks = []struct {
	name string
	run  func(*trafficSuite)
}{
	{"BlockTraffic", testBlock},
	{"AllowTraffic", testAllow},
	{"AllowTraffic/NotRegistered", testAllowUnregistered},
	{"Context", testTrafficContext},
}

type trafficSuite struct {
	t   *testing.T
	h   TrafficHarness
	dep target.DeploymentInfo
	all []string // every load balancer name of the requests
}

func (s *trafficSuite) newTarget(registered bool) target.Target {
	s.t.Helper()
	tg, err := s.h.NewTarget(s.t.Context(), registered)
	if err != nil {
		s.t.Fatalf("targettest: the harness could not make a target (registered %v): %v", registered, err)
	}
	if tg.ID == "" {
		s.t.Fatal("targettest: the harness's NewTarget returned a target without an ID")
	}
	return tg
}

func (s *trafficSuite) req(tg target.Target) target.TrafficRequest {
	return target.TrafficRequest{Target: tg, Deployment: s.dep}
}

// expect reports whether tg is registered with exactly the load balancers
// want names (all of them, or none), and fails the check if not.
func (s *trafficSuite) expect(tg target.Target, registered bool, after string) bool {
	s.t.Helper()
	got, err := s.h.Observe(s.t.Context(), tg)
	if err != nil {
		s.t.Fatalf("targettest: the harness could not observe %s: %v", tg.ID, err)
	}
	want := []string(nil)
	if registered {
		want = s.all
	}
	if !sameSet(got, want) {
		state := "registered with no load balancer"
		if registered {
			state = "registered with every load balancer " + listOf(s.all)
		}
		s.t.Errorf("after %s, target %s gets traffic from %s; want it %s", after, tg.ID, listOf(got), state)
		return false
	}
	return true
}

func testBlock(s *trafficSuite) {
	ctx := s.t.Context()
	a, b := s.newTarget(true), s.newTarget(true)
	if !s.expect(a, true, "NewTarget(registered)") {
		return
	}
	if err := s.h.Controller.BlockTraffic(ctx, s.req(a)); err != nil {
		s.t.Fatalf("BlockTraffic(%s) = %v", a.ID, err)
	}
	s.expect(a, false, "BlockTraffic")
	s.expect(b, true, "BlockTraffic of another target")
	if err := s.h.Controller.BlockTraffic(ctx, s.req(a)); err != nil {
		s.t.Errorf("BlockTraffic of a target already blocked = %v; want nil (a target that is not registered is not an error)", err)
	}
	s.expect(a, false, "a second BlockTraffic")
	c := s.newTarget(false)
	if err := s.h.Controller.BlockTraffic(ctx, s.req(c)); err != nil {
		s.t.Errorf("BlockTraffic of a target never registered = %v; want nil (a target that is not registered is not an error)", err)
	}
	s.expect(c, false, "BlockTraffic of a target never registered")
}

func testAllow(s *trafficSuite) {
	ctx := s.t.Context()
	a := s.newTarget(true)
	if err := s.h.Controller.BlockTraffic(ctx, s.req(a)); err != nil {
		s.t.Fatalf("BlockTraffic(%s) = %v", a.ID, err)
	}
	if err := s.h.Controller.AllowTraffic(ctx, s.req(a)); err != nil {
		s.t.Fatalf("AllowTraffic(%s) after BlockTraffic = %v", a.ID, err)
	}
	s.expect(a, true, "BlockTraffic then AllowTraffic")
	if err := s.h.Controller.AllowTraffic(ctx, s.req(a)); err != nil {
		s.t.Errorf("AllowTraffic of a target already registered and healthy = %v; want nil", err)
	}
	s.expect(a, true, "a second AllowTraffic")
}

func testAllowUnregistered(s *trafficSuite) {
	a := s.newTarget(false)
	if !s.expect(a, false, "NewTarget(not registered)") {
		return
	}
	if err := s.h.Controller.AllowTraffic(s.t.Context(), s.req(a)); err != nil {
		s.t.Fatalf("AllowTraffic of a target never registered = %v; want it registered, as CodeDeploy registers replacement instances", err)
	}
	s.expect(a, true, "AllowTraffic of a target never registered")
}

func testTrafficContext(s *trafficSuite) {
	a := s.newTarget(true)
	b := s.newTarget(false)
	for _, c := range doneContexts(s.t.Context()) {
		var err error
		what := "BlockTraffic (" + c.name + ")"
		if promptly(s.t, what, func() { err = s.h.Controller.BlockTraffic(c.ctx, s.req(a)) }) {
			checkCtxErr(s.t, what, err, c.want)
			s.expect(a, true, what)
		}
		what = "AllowTraffic (" + c.name + ")"
		if promptly(s.t, what, func() { err = s.h.Controller.AllowTraffic(c.ctx, s.req(b)) }) {
			checkCtxErr(s.t, what, err, c.want)
			s.expect(b, false, what)
		}
	}
}

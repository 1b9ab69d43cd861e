package ec2target_test

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	astypes "github.com/aws/aws-sdk-go-v2/service/autoscaling/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/smithy-go"
	"github.com/hashicorp/go-multierror"

	"github.com/fleetdeploy/fleetdeploy/deploy/clock"
	"github.com/fleetdeploy/fleetdeploy/internal/motoserver"
	"github.com/fleetdeploy/fleetdeploy/target"
	"github.com/fleetdeploy/fleetdeploy/target/ec2target"
)

// originals lists the instances of Auto Scaling group asg.
func (e *env) originals(asg string) []target.Target {
	e.t.Helper()
	l, err := ec2target.NewLister(e.ec2, e.asg)
	if err != nil {
		e.t.Fatal(err)
	}
	ts, err := l.ListTargets(e.ctx, target.Selector{AutoScalingGroups: []string{asg}})
	if err != nil {
		e.t.Fatal(err)
	}
	return ts
}

func copyRequest(t *testing.T, originals []target.Target) target.ProvisionRequest {
	return target.ProvisionRequest{Action: target.CopyAutoScalingGroup, Originals: originals,
		Deployment: target.DeploymentInfo{DeploymentGroupName: motoserver.Name(t, "dg"), DeploymentID: "d-1"}}
}

func TestCopyAutoScalingGroupWaitsForInService(t *testing.T) {
	e := newEnv(t)
	key := motoserver.Name(t, "app")
	lt, ltID := e.launchTemplate()
	asg, members := e.group(lt, 3, map[string]string{key: "shop"})
	req := copyRequest(t, e.originals(asg))
	name := req.Deployment.CopiedAutoScalingGroupName()
	clk := clock.NewFake(time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC))
	wrapped := &pendingASG{Client: e.asg, group: name, pending: 2}
	p, err := ec2target.NewProvisioner(e.ec2, wrapped, func(o *ec2target.Options) {
		o.Clock, o.PollInterval = clk, 10*time.Second
	})
	if err != nil {
		t.Fatal(err)
	}
	type result struct {
		ts  []target.Target
		err error
	}
	done := make(chan result, 1)
	go func() { ts, err := p.ProvisionReplacements(e.ctx, req); done <- result{ts, err} }()
	for range 2 { // two polls see the instances Pending
		if err := clk.BlockUntil(e.ctx, 1); err != nil {
			t.Fatal(err)
		}
		select {
		case r := <-done:
			t.Fatalf("returned %v, %v while the instances were Pending", ids(r.ts), r.err)
		default:
		}
		clk.Advance(10 * time.Second)
	}
	r := <-done
	if r.err != nil {
		t.Fatal(r.err)
	}
	if n := wrapped.polls.Load(); n != 3 {
		t.Errorf("%d polls of %s; want 3 (two Pending, one InService)", n, name)
	}
	g := e.describeGroup(name)
	if g == nil {
		t.Fatalf("no Auto Scaling group %s", name)
	}
	var made []string
	for _, in := range g.Instances {
		made = append(made, aws.ToString(in.InstanceId))
	}
	slices.Sort(made)
	if !slices.Equal(ids(r.ts), made) || len(made) != 3 {
		t.Fatalf("returned %v; want the 3 instances of %s %v", ids(r.ts), name, made)
	}
	for _, tg := range r.ts {
		if tg.AutoScalingGroup != name || tg.Tags[key] != "shop" || tg.Zone == "" || slices.Contains(members, tg.ID) {
			t.Errorf("replacement %+v: want a new instance of %s tagged %s=shop with a zone", tg, name, key)
		}
	}
	if got := aws.ToString(g.LaunchTemplate.LaunchTemplateId); got != ltID {
		t.Errorf("copy's launch template %q; want the original's %q", got, ltID)
	}
	if aws.ToInt32(g.DesiredCapacity) != 3 || aws.ToInt32(g.MaxSize) != 10 || aws.ToInt32(g.HealthCheckGracePeriod) != 42 {
		t.Errorf("copy: desired %d, max %d, grace %d; want the original's 3, 10, 42",
			aws.ToInt32(g.DesiredCapacity), aws.ToInt32(g.MaxSize), aws.ToInt32(g.HealthCheckGracePeriod))
	}
	if !slices.ContainsFunc(g.Tags, func(tg astypesTag) bool { return aws.ToString(tg.Key) == key && aws.ToBool(tg.PropagateAtLaunch) }) {
		t.Errorf("copy's tags %v lack %s", g.Tags, key)
	}
	// Asked again (a resumed deployment): the same fleet, nothing new.
	again, err := p.ProvisionReplacements(e.ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(ids(again), made) || wrapped.creates.Load() != 1 {
		t.Errorf("second call returned %v after %d creates; want %v and 1 create", ids(again), wrapped.creates.Load(), made)
	}
}

func TestCopyAutoScalingGroupTimesOut(t *testing.T) {
	e := newEnv(t)
	lt, _ := e.launchTemplate()
	asg, _ := e.group(lt, 1, nil)
	req := copyRequest(t, e.originals(asg))
	name := req.Deployment.CopiedAutoScalingGroupName()
	clk := clock.NewFake(time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC))
	wrapped := &pendingASG{Client: e.asg, group: name, pending: -1}
	p, err := ec2target.NewProvisioner(e.ec2, wrapped, func(o *ec2target.Options) {
		o.Clock, o.PollInterval, o.ReadyTimeout = clk, 20*time.Second, time.Minute
	})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { _, err := p.ProvisionReplacements(e.ctx, req); done <- err }()
	for range 3 { // polls at 0s, 20s, 40s wait; the one at 60s gives up
		if err := clk.BlockUntil(e.ctx, 1); err != nil {
			t.Fatal(err)
		}
		clk.Advance(20 * time.Second)
	}
	err2 := <-done
	var ce *target.CodeError
	if !errors.As(err2, &ce) || ce.Code != ec2target.CodeAutoScalingConfiguration {
		t.Fatalf("err = %v; want a *target.CodeError with %s", err2, ec2target.CodeAutoScalingConfiguration)
	}
	if n := wrapped.polls.Load(); n != 4 {
		t.Errorf("%d polls in a minute every 20s; want 4", n)
	}
	if g := e.describeGroup(name); g != nil {
		t.Errorf("the replacement group %s that never came into service was not deleted", name)
	}
}

// astypesTag is the Auto Scaling tag type.
type astypesTag = astypes.TagDescription

func TestCopyAutoScalingGroupErrors(t *testing.T) {
	e := newEnv(t)
	lt, ltID := e.launchTemplate()
	asg, _ := e.group(lt, 1, nil)
	originals := e.originals(asg)
	p, err := ec2target.NewProvisioner(e.ec2, e.asg)
	if err != nil {
		t.Fatal(err)
	}
	code := func(err error) string {
		var ce *target.CodeError
		if !errors.As(err, &ce) {
			return "no *target.CodeError in " + err.Error()
		}
		return ce.Code
	}
	// Originals outside any Auto Scaling group.
	_, err = p.ProvisionReplacements(e.ctx, copyRequest(t, []target.Target{{ID: "i-1"}}))
	if got := code(err); got != ec2target.CodeAutoScalingConfiguration {
		t.Errorf("no original group: code %s (%v); want %s", got, err, ec2target.CodeAutoScalingConfiguration)
	}
	// An original group that is gone.
	gone := []target.Target{{ID: "i-1", AutoScalingGroup: motoserver.Name(t, "gone")}}
	_, err = p.ProvisionReplacements(e.ctx, copyRequest(t, gone))
	if got := code(err); got != ec2target.CodeAutoScalingConfiguration {
		t.Errorf("missing original group: code %s (%v); want %s", got, err, ec2target.CodeAutoScalingConfiguration)
	}
	// A launch template deleted since: Auto Scaling rejects the copy.
	if _, err := e.ec2.DeleteLaunchTemplate(e.ctx, &ec2.DeleteLaunchTemplateInput{LaunchTemplateId: aws.String(ltID)}); err != nil {
		t.Fatal(err)
	}
	req := copyRequest(t, originals)
	_, err = p.ProvisionReplacements(e.ctx, req)
	if got := code(err); got != ec2target.CodeAutoScalingValidationError {
		t.Errorf("missing launch template: code %s (%v); want %s", got, err, ec2target.CodeAutoScalingValidationError)
	}
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Errorf("missing launch template: %v keeps no smithy.APIError", err)
	}
	if name := req.Deployment.CopiedAutoScalingGroupName(); err == nil || !strings.Contains(err.Error(), name) {
		t.Errorf("error %v does not name the group %s", err, name)
	}
	if _, err := p.ProvisionReplacements(e.ctx, target.ProvisionRequest{}); !errors.Is(err, target.ErrUnsupported) {
		t.Errorf("no action: %v; want target.ErrUnsupported", err)
	}
}

func TestDiscoverExisting(t *testing.T) {
	e := newEnv(t)
	key := motoserver.Name(t, "fleet")
	blue := e.run(2, "", map[string]string{key: "blue"})
	green := e.run(2, "", map[string]string{key: "green"})
	p, err := ec2target.NewProvisioner(e.ec2, e.asg)
	if err != nil {
		t.Fatal(err)
	}
	var originals []target.Target
	for _, id := range blue {
		originals = append(originals, target.Target{ID: id})
	}
	req := target.ProvisionRequest{Action: target.DiscoverExisting, Originals: originals,
		Replacements: target.Selector{EC2TagFilters: []target.TagFilter{{Key: key, Type: target.KeyOnly}}}} // selects the originals too
	got, err := p.ProvisionReplacements(e.ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(ids(got), sorted(green)) {
		t.Fatalf("discovered %v; want %v (the originals left out)", ids(got), sorted(green))
	}
	req.Replacements.EC2TagFilters[0] = target.TagFilter{Key: key, Value: "blue", Type: target.KeyAndValue}
	_, err = p.ProvisionReplacements(e.ctx, req)
	var ce *target.CodeError
	if !errors.As(err, &ce) || ce.Code != ec2target.CodeNoInstances {
		t.Fatalf("nothing but originals: err = %v; want code %s", err, ec2target.CodeNoInstances)
	}
}

func TestTerminateTargets(t *testing.T) {
	e := newEnv(t)
	lt, _ := e.launchTemplate()
	whole, wholeIDs := e.group(lt, 2, nil)
	part, partIDs := e.group(lt, 3, nil)
	plain := e.run(2, "", nil)
	failing := e.run(1, "", nil)[0]
	c := &countingEC2{Client: e.ec2, failIDs: map[string]error{failing: &smithy.GenericAPIError{Code: "UnauthorizedOperation", Message: "no"}}}
	p, err := ec2target.NewProvisioner(c, e.asg)
	if err != nil {
		t.Fatal(err)
	}
	var ts []target.Target
	for _, id := range wholeIDs {
		ts = append(ts, target.Target{ID: id, AutoScalingGroup: whole})
	}
	ts = append(ts, target.Target{ID: partIDs[0], AutoScalingGroup: part})
	for _, id := range plain {
		ts = append(ts, target.Target{ID: id})
	}
	ts = append(ts, target.Target{ID: failing}, target.Target{ID: "i-0123456789abcdef0"}) // the last one is long gone
	err = p.TerminateTargets(e.ctx, ts)
	if err == nil || !strings.Contains(err.Error(), failing) {
		t.Fatalf("err = %v; want one naming %s", err, failing)
	}
	var list *multierror.Error
	if !errors.As(err, &list) || len(list.Errors) != 1 {
		t.Errorf("err = %v; want a *multierror.Error listing the one failure", err)
	}
	if want := fmt.Sprintf("ec2target: TerminateTargets (%d targets): terminating instance %s: ", len(ts), failing); !strings.HasPrefix(err.Error(), want) {
		t.Errorf("err = %q; want it to start with %q", err, want)
	}
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "UnauthorizedOperation" {
		t.Errorf("err %v keeps no smithy.APIError", err)
	}
	if g := e.describeGroup(whole); g != nil {
		t.Errorf("group %s, all of whose instances were terminated, still exists", whole)
	}
	g := e.describeGroup(part)
	if g == nil || aws.ToInt32(g.DesiredCapacity) != 2 {
		t.Errorf("group %s: %v; want it kept with desired capacity 2", part, g)
	}
	gone := func(s ec2types.InstanceStateName) bool {
		return s == ec2types.InstanceStateNameShuttingDown || s == ec2types.InstanceStateNameTerminated
	}
	states := e.states(sorted(wholeIDs, plain, []string{partIDs[0], partIDs[1], failing})...)
	for _, id := range sorted(wholeIDs, plain) {
		if !gone(states[id]) {
			t.Errorf("instance %s is %s; want it terminated", id, states[id])
		}
	}
	if gone(states[failing]) || gone(states[partIDs[1]]) {
		t.Errorf("instances %s (failed) and %s (not asked for) are %s and %s; want them running",
			failing, partIDs[1], states[failing], states[partIDs[1]])
	}
	// Again: the instances already gone are no error.
	delete(c.failIDs, failing)
	if err := p.TerminateTargets(e.ctx, ts); err != nil {
		t.Errorf("terminating again: %v", err)
	}
}

package ec2target_test

import (
	"errors"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"

	"github.com/fleetdeploy/fleetdeploy/internal/motoserver"
	"github.com/fleetdeploy/fleetdeploy/target"
	"github.com/fleetdeploy/fleetdeploy/target/ec2target"
)

func TestListTagFiltersAndStates(t *testing.T) {
	e := newEnv(t)
	envKey, roleKey, val := motoserver.Name(t, "env"), motoserver.Name(t, "role"), motoserver.Name(t, "v")
	a := e.run(1, "us-east-1b", map[string]string{envKey: val})[0]
	b := e.run(1, "", map[string]string{envKey: "staging"})[0]
	c := e.run(1, "", map[string]string{roleKey: "web"})[0]
	d := e.run(1, "", map[string]string{"other": val})[0]
	stopped := e.run(1, "", map[string]string{envKey: val})[0]
	gone := e.run(1, "", map[string]string{envKey: val})[0]
	if _, err := e.ec2.StopInstances(e.ctx, &ec2.StopInstancesInput{InstanceIds: []string{stopped}}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.ec2.TerminateInstances(e.ctx, &ec2.TerminateInstancesInput{InstanceIds: []string{gone}}); err != nil {
		t.Fatal(err)
	}
	l, err := ec2target.NewLister(e.ec2, e.asg)
	if err != nil {
		t.Fatal(err)
	}
	kv := target.TagFilter{Key: envKey, Value: val, Type: target.KeyAndValue}
	for _, tc := range []struct {
		name    string
		filters []target.TagFilter
		want    []string
	}{
		{"KEY_AND_VALUE", []target.TagFilter{kv}, []string{a, stopped}},
		{"VALUE_ONLY", []target.TagFilter{{Value: val, Type: target.ValueOnly}}, []string{a, d, stopped}},
		{"KEY_ONLY", []target.TagFilter{{Key: roleKey, Type: target.KeyOnly}}, []string{c}},
		{"any filter", []target.TagFilter{kv, {Key: roleKey, Type: target.KeyOnly}, {Key: envKey, Value: "staging", Type: target.KeyAndValue}},
			[]string{a, b, c, stopped}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := l.ListTargets(e.ctx, target.Selector{EC2TagFilters: tc.filters,
				OnPremisesInstanceTagFilters: []target.TagFilter{{Key: envKey, Type: target.KeyOnly}}})
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(ids(got), sorted(tc.want)) {
				t.Fatalf("listed %v; want %v", ids(got), sorted(tc.want))
			}
			for _, tg := range got {
				if tg.Unavailable != (tg.ID == stopped) {
					t.Errorf("target %s: Unavailable = %v; want it only for the stopped instance %s", tg.ID, tg.Unavailable, stopped)
				}
				if tg.Zone == "" || tg.ID == a && tg.Zone != "us-east-1b" {
					t.Errorf("target %s: Zone = %q; want its Availability Zone", tg.ID, tg.Zone)
				}
				if !tc.filters[0].Matches(tg.Tags) && !slices.ContainsFunc(tc.filters, func(f target.TagFilter) bool { return f.Matches(tg.Tags) }) {
					t.Errorf("target %s: tags %v match no filter", tg.ID, tg.Tags)
				}
			}
		})
	}
}

func TestListTagSetNeedsEveryGroup(t *testing.T) {
	e := newEnv(t)
	envKey, roleKey, val := motoserver.Name(t, "env"), motoserver.Name(t, "role"), motoserver.Name(t, "v")
	both := e.run(1, "", map[string]string{envKey: val, roleKey: "web"})[0]
	staging := e.run(1, "", map[string]string{envKey: "staging", roleKey: "web"})[0]
	e.run(1, "", map[string]string{envKey: val})                   // no role
	e.run(1, "", map[string]string{roleKey: "web"})                // no env
	e.run(1, "", map[string]string{envKey: "dev", roleKey: "web"}) // env not in the group
	l, err := ec2target.NewLister(e.ec2, nil)
	if err != nil {
		t.Fatal(err)
	}
	sel := target.Selector{EC2TagSet: target.EC2TagSet{List: [][]target.TagFilter{
		{{Key: envKey, Value: val, Type: target.KeyAndValue}, {Key: envKey, Value: "staging", Type: target.KeyAndValue}},
		{{Key: roleKey, Value: "web", Type: target.KeyAndValue}},
	}}}
	got, err := l.ListTargets(e.ctx, sel)
	if err != nil {
		t.Fatal(err)
	}
	if want := sorted([]string{both, staging}); !slices.Equal(ids(got), want) {
		t.Fatalf("listed %v; want %v (one filter of every tag group)", ids(got), want)
	}
}

func TestListReadsEveryPage(t *testing.T) {
	e := newEnv(t)
	key := motoserver.Name(t, "page")
	var want []string
	for range 7 { // moto pages by reservation: one instance each
		want = append(want, e.run(1, "", map[string]string{key: "x"})...)
	}
	c := &countingEC2{Client: e.ec2}
	l, err := ec2target.NewLister(c, nil, func(o *ec2target.Options) { o.PageSize = 5 })
	if err != nil {
		t.Fatal(err)
	}
	got, err := l.ListTargets(e.ctx, target.Selector{EC2TagFilters: []target.TagFilter{{Key: key, Type: target.KeyOnly}}})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(ids(got), sorted(want)) {
		t.Fatalf("listed %d instances %v; want all %d", len(got), ids(got), len(want))
	}
	if n := c.describes.Load(); n < 2 {
		t.Fatalf("%d DescribeInstances calls for 7 reservations in pages of 5; want at least 2", n)
	}
}

func TestListAutoScalingGroupsUnion(t *testing.T) {
	e := newEnv(t)
	key := motoserver.Name(t, "app")
	lt, _ := e.launchTemplate()
	asg, members := e.group(lt, 2, map[string]string{key: "shop"})
	loner := e.run(1, "", map[string]string{key: "shop"})[0]
	e.run(1, "", map[string]string{key: "other"})
	l, err := ec2target.NewLister(e.ec2, e.asg)
	if err != nil {
		t.Fatal(err)
	}
	sel := target.Selector{
		EC2TagFilters:     []target.TagFilter{{Key: key, Value: "shop", Type: target.KeyAndValue}}, // also selects the group's instances
		AutoScalingGroups: []string{asg, motoserver.Name(t, "no-such-group")},
	}
	got, err := l.ListTargets(e.ctx, sel)
	if err != nil {
		t.Fatal(err)
	}
	if want := sorted(members, []string{loner}); !slices.Equal(ids(got), want) {
		t.Fatalf("listed %v; want the group's %v and the tagged %s, each once", ids(got), members, loner)
	}
	for _, tg := range got {
		wantGroup := asg
		if tg.ID == loner {
			wantGroup = ""
		}
		if tg.AutoScalingGroup != wantGroup {
			t.Errorf("target %s: AutoScalingGroup = %q; want %q", tg.ID, tg.AutoScalingGroup, wantGroup)
		}
		if !sel.Matches(tg) {
			t.Errorf("target %+v does not match the selector", tg)
		}
	}
	// The group alone.
	got, err = l.ListTargets(e.ctx, target.Selector{AutoScalingGroups: []string{asg}})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(ids(got), members) {
		t.Fatalf("listed %v for group %s; want %v", ids(got), asg, members)
	}
}

func TestListErrors(t *testing.T) {
	e := newEnv(t)
	l, err := ec2target.NewLister(e.ec2, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = l.ListTargets(e.ctx, target.Selector{EC2TagFilters: []target.TagFilter{{Key: "k", Type: "SOMETIMES"}}})
	if !errors.Is(err, target.ErrInvalidSelector) {
		t.Errorf("invalid selector: err = %v; want target.ErrInvalidSelector", err)
	}
	_, err = l.ListTargets(e.ctx, target.Selector{AutoScalingGroups: []string{"g"}})
	if err == nil {
		t.Errorf("Auto Scaling groups without an Auto Scaling client: no error")
	}
	got, err := l.ListTargets(e.ctx, target.Selector{OnPremisesInstanceTagFilters: []target.TagFilter{{Key: "k", Type: target.KeyOnly}}})
	if err != nil || len(got) != 0 {
		t.Errorf("on-premises tags only: %v, %v; want nothing and no error", got, err)
	}
	if _, err := ec2target.NewLister(e.ec2, nil, func(o *ec2target.Options) { o.PageSize = 2000 }); err == nil {
		t.Errorf("PageSize 2000: no error")
	}
	ctx, cancel := contextCancelled(e)
	defer cancel()
	if _, err := l.ListTargets(ctx, target.Selector{EC2TagFilters: []target.TagFilter{{Key: "k", Type: target.KeyOnly}}}); !errors.Is(err, ctxErr(ctx)) {
		t.Errorf("cancelled ctx: err = %v; want %v", err, ctxErr(ctx))
	}
	_ = aws.String
}

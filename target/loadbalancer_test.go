package target

import (
	"reflect"
	"testing"
)

// Clone copies every list, so the copy can be changed freely.
func TestLoadBalancerInfoClone(t *testing.T) {
	l := LoadBalancerInfo{
		ELBInfoList:         []NameInfo{{Name: "elb"}},
		TargetGroupInfoList: []NameInfo{{Name: "tg"}},
		TargetGroupPairInfoList: []TargetGroupPairInfo{{
			TargetGroups:     []NameInfo{{Name: "blue"}, {Name: "green"}},
			ProdTrafficRoute: TrafficRouteInfo{ListenerArns: []string{"prod"}},
			TestTrafficRoute: TrafficRouteInfo{ListenerArns: []string{"test"}},
		}},
	}
	c := l.Clone()
	if !reflect.DeepEqual(c, l) {
		t.Fatalf("Clone = %+v; want %+v", c, l)
	}
	c.ELBInfoList[0].Name = "x"
	c.TargetGroupInfoList[0].Name = "x"
	c.TargetGroupPairInfoList[0].TargetGroups[0].Name = "x"
	c.TargetGroupPairInfoList[0].ProdTrafficRoute.ListenerArns[0] = "x"
	c.TargetGroupPairInfoList[0].TestTrafficRoute.ListenerArns[0] = "x"
	p := l.TargetGroupPairInfoList[0]
	if l.ELBInfoList[0].Name != "elb" || l.TargetGroupInfoList[0].Name != "tg" || p.TargetGroups[0].Name != "blue" ||
		p.ProdTrafficRoute.ListenerArns[0] != "prod" || p.TestTrafficRoute.ListenerArns[0] != "test" {
		t.Errorf("changing the clone changed the original: %+v", l)
	}
	if z := (LoadBalancerInfo{}).Clone(); !z.IsZero() {
		t.Errorf("clone of the zero value = %+v; want zero", z)
	}
}

package target

import (
	"fmt"
	"github.com/fleetdeploy/fleetdeploy/config"
	"slices"
)

// Limits of a LoadBalancerInfo (API Reference, LoadBalancerInfo).
const (
	// MaxLoadBalancers is the most Classic Load Balancers, and the most
	// target groups, one deployment group may name.
	MaxLoadBalancers = 10
)

// LoadBalancerInfo is a deployment group's load balancer configuration,
// shaped and spelled as CodeDeploy's LoadBalancerInfo. Server groups name
// Classic Load Balancers (ELBInfoList) or ALB/NLB target groups
// (TargetGroupInfoList); ECS groups name one target group pair with its
// listeners. The zero value means the group has no load balancer.
type LoadBalancerInfo struct {
	ELBInfoList             []NameInfo            `json:"elbInfoList,omitempty"`
	TargetGroupInfoList     []NameInfo            `json:"targetGroupInfoList,omitempty"`
	TargetGroupPairInfoList []TargetGroupPairInfo `json:"targetGroupPairInfoList,omitempty"`
}

// NameInfo names a Classic Load Balancer or a target group (CodeDeploy's
// ELBInfo and TargetGroupInfo).
type NameInfo struct {
	Name string `json:"name"`
}

// TargetGroupPairInfo is the pair of target groups an ECS deployment
// alternates between, with the listeners that route to them.
type TargetGroupPairInfo struct {
	// TargetGroups are exactly two target groups.
	TargetGroups []NameInfo `json:"targetGroups"`
	// ProdTrafficRoute holds the production listener.
	ProdTrafficRoute TrafficRouteInfo `json:"prodTrafficRoute"`
	// TestTrafficRoute holds the optional test listener.
	TestTrafficRoute TrafficRouteInfo `json:"testTrafficRoute,omitzero"`
}

// TrafficRouteInfo lists a route's listener ARNs (at most one).
type TrafficRouteInfo struct {
	ListenerArns []string `json:"listenerArns,omitempty"`
}

// Clone returns a deep copy of l: changing the copy's lists never changes
// l.
func (l LoadBalancerInfo) Clone() LoadBalancerInfo {
	l.ELBInfoList = slices.Clone(l.ELBInfoList)
	l.TargetGroupInfoList = slices.Clone(l.TargetGroupInfoList)
	if l.TargetGroupPairInfoList != nil {
		pairs := make([]TargetGroupPairInfo, len(l.TargetGroupPairInfoList))
		for i, p := range l.TargetGroupPairInfoList {
			p.TargetGroups = slices.Clone(p.TargetGroups)
			p.ProdTrafficRoute.ListenerArns = slices.Clone(p.ProdTrafficRoute.ListenerArns)
			p.TestTrafficRoute.ListenerArns = slices.Clone(p.TestTrafficRoute.ListenerArns)
			pairs[i] = p
		}
		l.TargetGroupPairInfoList = pairs
	}
	return l
}

// IsZero reports whether l names no load balancer at all.
func (l LoadBalancerInfo) IsZero() bool {
	return len(l.ELBInfoList) == 0 && len(l.TargetGroupInfoList) == 0 && len(l.TargetGroupPairInfoList) == 0
}

// Validate reports every rule l breaks, as a *multierror.Error of *Problem
// values matching ErrInvalidLoadBalancerInfo: at most MaxLoadBalancers Classic Load
// Balancers and MaxLoadBalancers target groups, names not empty; at most one
// target group pair, with exactly two target groups, exactly one production
// listener and at most one test listener. The zero value is valid.
func (l LoadBalancerInfo) Validate() error {
	var ps config.Problems
	names := func(field string, list []NameInfo) {
		for i, n := range list {
			if n.Name == "" {
				ps.Add(nil, fmt.Sprintf("%s[%d].name", field, i), "must not be empty")
			}
		}
	}
	if n := len(l.ELBInfoList); n > MaxLoadBalancers {
		ps.Add(nil, "elbInfoList", "must name at most %d load balancers; got %d", MaxLoadBalancers, n)
	}
	names("elbInfoList", l.ELBInfoList)
	if n := len(l.TargetGroupInfoList); n > MaxLoadBalancers {
		ps.Add(nil, "targetGroupInfoList", "must name at most %d target groups; got %d", MaxLoadBalancers, n)
	}
	names("targetGroupInfoList", l.TargetGroupInfoList)
	if n := len(l.TargetGroupPairInfoList); n > 1 {
		ps.Add(nil, "targetGroupPairInfoList", "must have at most 1 target group pair; got %d", n)
	}
	for i, p := range l.TargetGroupPairInfoList {
		field := fmt.Sprintf("targetGroupPairInfoList[%d]", i)
		if n := len(p.TargetGroups); n != 2 {
			ps.Add(nil, field+".targetGroups", "must name exactly 2 target groups; got %d", n)
		}
		names(field+".targetGroups", p.TargetGroups)
		if n := len(p.ProdTrafficRoute.ListenerArns); n != 1 {
			ps.Add(nil, field+".prodTrafficRoute.listenerArns", "must name exactly 1 listener; got %d", n)
		}
		if n := len(p.TestTrafficRoute.ListenerArns); n > 1 {
			ps.Add(nil, field+".testTrafficRoute.listenerArns", "must name at most 1 listener; got %d", n)
		}
		for _, r := range []struct {
			name string
			arns []string
		}{{"prodTrafficRoute", p.ProdTrafficRoute.ListenerArns}, {"testTrafficRoute", p.TestTrafficRoute.ListenerArns}} {
			for j, arn := range r.arns {
				if arn == "" {
					ps.Add(nil, fmt.Sprintf("%s.%s.listenerArns[%d]", field, r.name, j), "must not be empty")
				}
			}
		}
	}
	return ps.Err(ErrInvalidLoadBalancerInfo, "load balancer info")
}

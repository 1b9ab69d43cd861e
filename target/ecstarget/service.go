package ecstarget

import (
	"context"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"github.com/fleetdeploy/fleetdeploy/target"
)

// serviceRef names an ECS service.
type serviceRef struct{ cluster, service string }

func (s serviceRef) String() string { return s.cluster + "/" + s.service }

// parseService reads "cluster/service", the ID of an ECS deployment's
// target.
func parseService(id string) (serviceRef, error) {
	c, s, ok := strings.Cut(id, "/")
	if !ok || c == "" || s == "" || strings.Contains(s, "/") {
		return serviceRef{}, invalidService(nil, "ECS service %q must be named cluster/service", id)
	}
	return serviceRef{c, s}, nil
}

// parseTaskSetARN reads the cluster and service out of a task set ARN,
// arn:aws:ecs:region:account:task-set/cluster/service/ecs-svc/id — the ID
// of the targets the Provisioner returns.
func parseTaskSetARN(arn string) (serviceRef, bool) {
	_, rest, ok := strings.Cut(arn, ":task-set/")
	if !ok || !strings.HasPrefix(arn, "arn:") {
		return serviceRef{}, false
	}
	parts := strings.SplitN(rest, "/", 3)
	if len(parts) != 3 || parts[0] == "" || parts[1] == "" || parts[2] == "" {
		return serviceRef{}, false
	}
	return serviceRef{parts[0], parts[1]}, true
}

// describeService returns the service s, checking that a deployment can
// run on it: it exists, is ACTIVE and has the EXTERNAL deployment
// controller.
func describeService(ctx context.Context, c ECSClient, s serviceRef) (*ecstypes.Service, error) {
	out, err := c.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: aws.String(s.cluster), Services: []string{s.service}})
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if apiCode(err) == "ClusterNotFoundException" {
			return nil, invalidService(err, "ECS cluster %s of service %s does not exist", s.cluster, s)
		}
		return nil, callError(err, "describing ECS service %s", s)
	}
	var svc *ecstypes.Service
	for i := range out.Services {
		if aws.ToString(out.Services[i].ServiceName) == s.service {
			svc = &out.Services[i]
		}
	}
	if svc == nil {
		return nil, invalidService(nil, "ECS service %s does not exist; create it with deployment controller EXTERNAL, or fix the deployment group's ECS service", s)
	}
	if st := aws.ToString(svc.Status); st != "ACTIVE" {
		return nil, invalidService(nil, "ECS service %s is %s; a deployment needs an ACTIVE service", s, st)
	}
	ctl := ecstypes.DeploymentControllerTypeEcs
	if svc.DeploymentController != nil {
		ctl = svc.DeploymentController.Type
	}
	switch ctl {
	case ecstypes.DeploymentControllerTypeExternal:
		return svc, nil
	case ecstypes.DeploymentControllerTypeCodeDeploy:
		return nil, invalidService(nil, "ECS service %s has deployment controller CODE_DEPLOY, which only AWS CodeDeploy may drive; create the service with deployment controller EXTERNAL", s)
	}
	return nil, invalidService(nil, "ECS service %s has deployment controller %s; fleetdeploy drives services whose deployment controller is EXTERNAL", s, ctl)
}

// taskSets returns the task sets of s that are not being deleted: those
// named by ids (ARNs or IDs), or all of them when ids is empty.
func taskSets(ctx context.Context, c ECSClient, s serviceRef, ids ...string) ([]ecstypes.TaskSet, error) {
	out, err := c.DescribeTaskSets(ctx, &ecs.DescribeTaskSetsInput{Cluster: aws.String(s.cluster), Service: aws.String(s.service), TaskSets: ids})
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if isGone(err) {
			return nil, invalidService(err, "ECS service %s does not exist", s)
		}
		return nil, callError(err, "describing the task sets of ECS service %s", s)
	}
	return slices.DeleteFunc(out.TaskSets, func(ts ecstypes.TaskSet) bool { return aws.ToString(ts.Status) == "DRAINING" }), nil
}

// findTaskSet returns the task set of list whose ARN or ID is id.
func findTaskSet(list []ecstypes.TaskSet, id string) *ecstypes.TaskSet {
	for i := range list {
		if aws.ToString(list[i].TaskSetArn) == id || aws.ToString(list[i].Id) == id {
			return &list[i]
		}
	}
	return nil
}

// taskSetGroup returns the target group ARN a task set registers its tasks
// with, "" if none.
func taskSetGroup(ts *ecstypes.TaskSet) string {
	for _, lb := range ts.LoadBalancers {
		if arn := aws.ToString(lb.TargetGroupArn); arn != "" {
			return arn
		}
	}
	return ""
}

// routing is a deployment group's target group pair, resolved.
type routing struct {
	// groups are the ARNs of the pair's two target groups, and names their
	// names as the deployment group gives them.
	groups, names [2]string
	prod, test    string // listener ARNs; test may be empty
}

// pairOf returns the target group pair of a deployment's load balancer
// info; ok is false when it has none.
func pairOf(lb target.LoadBalancerInfo) (target.TargetGroupPairInfo, bool) {
	if len(lb.TargetGroupPairInfoList) == 0 {
		return target.TargetGroupPairInfo{}, false
	}
	return lb.TargetGroupPairInfoList[0], true
}

// resolveRouting checks pair and finds its target groups' ARNs.
func resolveRouting(ctx context.Context, c ELBClient, s serviceRef, pair target.TargetGroupPairInfo) (routing, error) {
	var r routing
	if len(pair.TargetGroups) != 2 || pair.TargetGroups[0].Name == "" || pair.TargetGroups[1].Name == "" ||
		pair.TargetGroups[0].Name == pair.TargetGroups[1].Name {
		return r, invalidService(nil, "the target group pair of ECS service %s must name two different target groups; got %d", s, len(pair.TargetGroups))
	}
	if len(pair.ProdTrafficRoute.ListenerArns) != 1 || pair.ProdTrafficRoute.ListenerArns[0] == "" {
		return r, invalidService(nil, "the target group pair of ECS service %s must name one production listener; got %d", s, len(pair.ProdTrafficRoute.ListenerArns))
	}
	r.prod = pair.ProdTrafficRoute.ListenerArns[0]
	if len(pair.TestTrafficRoute.ListenerArns) > 0 {
		r.test = pair.TestTrafficRoute.ListenerArns[0]
	}
	var names []string
	for i, g := range pair.TargetGroups {
		r.names[i] = g.Name
		if strings.HasPrefix(g.Name, "arn:") {
			r.groups[i] = g.Name
		} else {
			names = append(names, g.Name)
		}
	}
	if len(names) == 0 {
		return r, nil
	}
	out, err := c.DescribeTargetGroups(ctx, &elbv2.DescribeTargetGroupsInput{Names: names})
	if err != nil {
		if ctx.Err() != nil {
			return r, ctx.Err()
		}
		if apiCode(err) == "TargetGroupNotFound" {
			return r, invalidService(err, "a target group of ECS service %s's pair %v does not exist", s, names)
		}
		return r, callError(err, "describing target groups %v of ECS service %s", names, s)
	}
	for i := range r.groups {
		if r.groups[i] != "" {
			continue
		}
		for _, tg := range out.TargetGroups {
			if aws.ToString(tg.TargetGroupName) == r.names[i] {
				r.groups[i] = aws.ToString(tg.TargetGroupArn)
			}
		}
		if r.groups[i] == "" {
			return r, invalidService(nil, "target group %s of ECS service %s's pair does not exist", r.names[i], s)
		}
	}
	return r, nil
}

// index returns the position of target group arn in r's pair, -1 if none.
func (r routing) index(arn string) int { return slices.Index(r.groups[:], arn) }

// listenerState is a listener's actions, with its forward action read.
type listenerState struct {
	arn     string
	actions []elbtypes.Action
	// forward is the index in actions of the forward action.
	forward int
	// weights are the weights of the target groups it forwards to.
	weights map[string]int32
}

// readListener describes listener arn and reads its forward action.
func readListener(ctx context.Context, c ELBClient, s serviceRef, what, arn string) (*listenerState, error) {
	out, err := c.DescribeListeners(ctx, &elbv2.DescribeListenersInput{ListenerArns: []string{arn}})
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if apiCode(err) == "ListenerNotFound" {
			return nil, invalidService(err, "the %s listener %s of ECS service %s does not exist", what, arn, s)
		}
		return nil, callError(err, "describing the %s listener %s of ECS service %s", what, arn, s)
	}
	if len(out.Listeners) != 1 {
		return nil, invalidService(nil, "the %s listener %s of ECS service %s does not exist", what, arn, s)
	}
	l := &listenerState{arn: arn, actions: out.Listeners[0].DefaultActions, forward: -1, weights: map[string]int32{}}
	for i, a := range l.actions {
		if a.Type == elbtypes.ActionTypeEnumForward {
			l.forward = i
		}
	}
	if l.forward < 0 {
		return nil, invalidService(nil, "the %s listener %s of ECS service %s has no forward action; its default action must forward to the service's target groups", what, arn, s)
	}
	a := l.actions[l.forward]
	switch {
	case a.ForwardConfig != nil && len(a.ForwardConfig.TargetGroups) > 0:
		for _, tg := range a.ForwardConfig.TargetGroups {
			w := int32(1) // Elastic Load Balancing's default weight
			if tg.Weight != nil {
				w = *tg.Weight
			}
			l.weights[aws.ToString(tg.TargetGroupArn)] += w
		}
	case aws.ToString(a.TargetGroupArn) != "":
		l.weights[aws.ToString(a.TargetGroupArn)] = 1
	}
	return l, nil
}

// serving returns the positions in r's pair of the target groups l
// forwards traffic to (weight above 0), checking that it forwards to no
// other group.
func (l *listenerState) serving(s serviceRef, what string, r routing) ([]int, error) {
	var in []int
	for arn, w := range l.weights {
		if w <= 0 {
			continue
		}
		i := r.index(arn)
		if i < 0 {
			return nil, invalidService(nil, "the %s listener %s of ECS service %s forwards to target group %s, which is not one of the pair %s, %s",
				what, l.arn, s, arn, r.names[0], r.names[1])
		}
		in = append(in, i)
	}
	if len(in) == 0 {
		return nil, invalidService(nil, "the %s listener %s of ECS service %s forwards to neither target group of the pair %s, %s",
			what, l.arn, s, r.names[0], r.names[1])
	}
	slices.Sort(in)
	return in, nil
}

// withForward returns l's actions with the forward action replaced by one
// that forwards weights (target group ARN → weight), keeping its
// stickiness settings.
func (l *listenerState) withForward(groups []elbtypes.TargetGroupTuple) []elbtypes.Action {
	actions := slices.Clone(l.actions)
	old := actions[l.forward]
	fc := &elbtypes.ForwardActionConfig{TargetGroups: groups}
	if old.ForwardConfig != nil {
		fc.TargetGroupStickinessConfig = old.ForwardConfig.TargetGroupStickinessConfig
	}
	actions[l.forward] = elbtypes.Action{Type: elbtypes.ActionTypeEnumForward, Order: old.Order, ForwardConfig: fc}
	return actions
}

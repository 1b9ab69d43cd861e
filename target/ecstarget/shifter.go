package ecstarget

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"github.com/fleetdeploy/fleetdeploy/target"
)

// TrafficShifter moves an ECS service's traffic between its task sets: a
// target.TrafficShifter for services whose deployment controller is
// EXTERNAL. It is safe for concurrent use.
type TrafficShifter struct {
	ecs    ECSClient
	elb    ELBClient
	routes Routes
	log    *slog.Logger
}

var _ target.TrafficShifter = (*TrafficShifter)(nil)

// NewTrafficShifter returns a TrafficShifter that works through ecsc and
// elbc and finds the target group pair of a service with routes (which
// CurrentTraffic needs; ShiftTraffic uses the pair its request carries),
// with the options optFns set. It fails when a collaborator is nil or an
// option is out of range.
func NewTrafficShifter(ecsc ECSClient, elbc ELBClient, routes Routes, optFns ...func(*Options)) (*TrafficShifter, error) {
	if ecsc == nil || elbc == nil || routes == nil {
		return nil, errors.New("ecstarget: NewTrafficShifter needs an ECS client, an Elastic Load Balancing client and Routes; got nil")
	}
	o, err := resolve(Options{}, optFns)
	if err != nil {
		return nil, err
	}
	return &TrafficShifter{ecs: ecsc, elb: elbc, routes: routes, log: o.Logger}, nil
}

// route is what a call works on: the service, its pair resolved, and the
// listener the route names.
type route struct {
	svc      serviceRef
	rt       routing
	what     string // "production" or "test"
	listener string
}

// resolve finds the service, target group pair and listener of r; pair is
// the request's, if it carries one.
func (s *TrafficShifter) resolve(ctx context.Context, r target.TrafficRoute, lb target.LoadBalancerInfo) (route, error) {
	svc, err := parseService(r.ResourceID)
	if err != nil {
		return route{}, err
	}
	pair, ok := pairOf(lb)
	if !ok {
		if pair, err = s.routes(ctx, r.ResourceID); err != nil {
			if ctx.Err() != nil {
				return route{}, ctx.Err()
			}
			return route{}, invalidService(err, "finding the target group pair of ECS service %s", svc)
		}
	}
	rt, err := resolveRouting(ctx, s.elb, svc, pair)
	if err != nil {
		return route{}, err
	}
	out := route{svc: svc, rt: rt, what: "production", listener: rt.prod}
	if r.Test {
		if rt.test == "" {
			return route{}, invalidService(nil, "ECS service %s has no test listener (testTrafficRoute) in its target group pair", svc)
		}
		out.what, out.listener = "test", rt.test
	}
	return out, nil
}

// ShiftTraffic sets the forward action of the listener req.Route names —
// the production listener, or the test listener when req.Route.Test — to
// send req.Split.Weight percent of its requests to the target group of
// task set req.Split.Replacement and the rest to that of
// req.Split.Original (ModifyListener with both target groups weighted).
// The task sets are named by ARN (or ID), as ProvisionReplacements returns
// them; req.Route.ResourceID is "cluster/service". When the production
// route reaches weight 100 the replacement also becomes the service's
// primary task set (UpdateServicePrimaryTaskSet), as it does at the end of
// a CodeDeploy deployment, and on a rollback's shift back. Setting a split
// the listener has already is not an error.
//
// The target group pair is req.Deployment.LoadBalancer's, else the one
// Routes gives. Errors: ctx's error; a request req.Validate refuses
// (target.ErrInvalidRequest); INVALID_ECS_SERVICE (wrapping
// target.ErrNotFound) for a service, task set, target group or listener
// that is missing or not one of the pair, or two task sets in the same
// target group; ECS_UPDATE_ERROR when ModifyListener or
// UpdateServicePrimaryTaskSet fails — each a *target.CodeError wrapping the
// SDK's error.
func (s *TrafficShifter) ShiftTraffic(ctx context.Context, req target.ShiftRequest) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := req.Validate(); err != nil {
		return fmt.Errorf("ecstarget: shift traffic on %s: %w", req.Route.ResourceID, err)
	}
	r, err := s.resolve(ctx, req.Route, req.Deployment.LoadBalancer)
	if err != nil {
		return err
	}
	list, err := taskSets(ctx, s.ecs, r.svc, req.Split.Original, req.Split.Replacement)
	if err != nil {
		return err
	}
	var groups [2]string
	for i, id := range []string{req.Split.Original, req.Split.Replacement} {
		ts := findTaskSet(list, id)
		if ts == nil {
			return invalidService(nil, "task set %s is not a task set of ECS service %s", id, r.svc)
		}
		groups[i] = taskSetGroup(ts)
		if r.rt.index(groups[i]) < 0 {
			return invalidService(nil, "task set %s of ECS service %s registers with target group %q, which is not one of the pair %s, %s",
				id, r.svc, groups[i], r.rt.names[0], r.rt.names[1])
		}
	}
	if groups[0] == groups[1] {
		return invalidService(nil, "task sets %s and %s of ECS service %s both register with target group %s; traffic can only be shifted between the pair's two groups",
			req.Split.Original, req.Split.Replacement, r.svc, groups[0])
	}
	l, err := readListener(ctx, s.elb, r.svc, r.what, r.listener)
	if err != nil {
		return err
	}
	w := int32(req.Split.Weight)
	actions := l.withForward([]elbtypes.TargetGroupTuple{
		{TargetGroupArn: aws.String(groups[0]), Weight: aws.Int32(100 - w)},
		{TargetGroupArn: aws.String(groups[1]), Weight: aws.Int32(w)},
	})
	if _, err := s.elb.ModifyListener(ctx, &elbv2.ModifyListenerInput{ListenerArn: aws.String(r.listener), DefaultActions: actions}); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if apiCode(err) == "ListenerNotFound" {
			return invalidService(err, "the %s listener %s of ECS service %s does not exist", r.what, r.listener, r.svc)
		}
		return updateError(err, "setting the %s listener %s of ECS service %s to %d%% on task set %s", r.what, r.listener, r.svc, w, req.Split.Replacement)
	}
	s.log.InfoContext(ctx, "ecstarget: shifted traffic", "service", r.svc.String(), "listener", r.what,
		"original", req.Split.Original, "replacement", req.Split.Replacement, "weight", w)
	if r.what != "production" || w != 100 {
		return nil
	}
	_, err = s.ecs.UpdateServicePrimaryTaskSet(ctx, &ecs.UpdateServicePrimaryTaskSetInput{Cluster: aws.String(r.svc.cluster),
		Service: aws.String(r.svc.service), PrimaryTaskSet: aws.String(aws.ToString(findTaskSet(list, req.Split.Replacement).TaskSetArn))})
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return updateError(err, "making task set %s the primary task set of ECS service %s", req.Split.Replacement, r.svc)
	}
	s.log.InfoContext(ctx, "ecstarget: switched the primary task set", "service", r.svc.String(), "taskSet", req.Split.Replacement)
	return nil
}

// CurrentTraffic reads the forward action of the listener route names and
// returns its split between the service's task sets, named by ARN: a
// listener that forwards to one target group returns the task set in it as
// Original with Weight 0 and no Replacement; one that forwards to both
// returns the side of the service's primary task set (else the heavier
// side) as Original and the other's share, in percent, as Weight. Of
// several task sets in one target group, the primary, else the newest,
// counts.
//
// route.ResourceID is "cluster/service"; its target group pair comes from
// Routes. Errors: ctx's error; INVALID_ECS_SERVICE (a *target.CodeError
// wrapping target.ErrNotFound) for a service that does not exist, is not
// ACTIVE or not EXTERNAL, a pair Routes does not know, a listener that is
// missing, forwards to a target group outside the pair or to neither
// group, or to a group no task set of the service is in.
func (s *TrafficShifter) CurrentTraffic(ctx context.Context, rte target.TrafficRoute) (target.TrafficSplit, error) {
	if err := ctx.Err(); err != nil {
		return target.TrafficSplit{}, err
	}
	r, err := s.resolve(ctx, rte, target.LoadBalancerInfo{})
	if err != nil {
		return target.TrafficSplit{}, err
	}
	if _, err := describeService(ctx, s.ecs, r.svc); err != nil {
		return target.TrafficSplit{}, err
	}
	l, err := readListener(ctx, s.elb, r.svc, r.what, r.listener)
	if err != nil {
		return target.TrafficSplit{}, err
	}
	in, err := l.serving(r.svc, r.what, r.rt)
	if err != nil {
		return target.TrafficSplit{}, err
	}
	list, err := taskSets(ctx, s.ecs, r.svc)
	if err != nil {
		return target.TrafficSplit{}, err
	}
	sets := make([]*ecstypes.TaskSet, len(in))
	for k, i := range in {
		if sets[k] = pick(list, r.rt.groups[i]); sets[k] == nil {
			return target.TrafficSplit{}, invalidService(nil, "the %s listener %s of ECS service %s forwards to target group %s, which no task set of the service registers with",
				r.what, r.listener, r.svc, r.rt.names[i])
		}
	}
	if len(in) == 1 {
		return target.TrafficSplit{Original: aws.ToString(sets[0].TaskSetArn)}, nil
	}
	o, n := 0, 1 // original and replacement, positions in in and sets
	wo, wn := l.weights[r.rt.groups[in[0]]], l.weights[r.rt.groups[in[1]]]
	if primary(sets[1]) && !primary(sets[0]) || primary(sets[0]) == primary(sets[1]) && wn > wo {
		o, n, wo, wn = 1, 0, wn, wo
	}
	return target.TrafficSplit{Original: aws.ToString(sets[o].TaskSetArn), Replacement: aws.ToString(sets[n].TaskSetArn),
		Weight: int(math.Round(100 * float64(wn) / float64(wo+wn)))}, nil
}

// primary reports whether ts is its service's primary task set.
func primary(ts *ecstypes.TaskSet) bool { return aws.ToString(ts.Status) == "PRIMARY" }

// pick returns the task set of list that stands for target group arn: the
// primary one in it, else the newest; nil if none is in it.
func pick(list []ecstypes.TaskSet, arn string) *ecstypes.TaskSet {
	var best *ecstypes.TaskSet
	for i := range list {
		ts := &list[i]
		if taskSetGroup(ts) != arn {
			continue
		}
		switch {
		case best == nil, primary(ts) && !primary(best):
			best = ts
		case primary(best) && !primary(ts):
		case aws.ToTime(ts.CreatedAt).After(aws.ToTime(best.CreatedAt)):
			best = ts
		}
	}
	return best
}

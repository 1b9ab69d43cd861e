package ecstarget

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/hashicorp/go-multierror"

	"github.com/fleetdeploy/fleetdeploy/config"
	"github.com/fleetdeploy/fleetdeploy/deploy/clock"
	"github.com/fleetdeploy/fleetdeploy/internal/errmsg"
	"github.com/fleetdeploy/fleetdeploy/revision"
	"github.com/fleetdeploy/fleetdeploy/target"
)

// Provisioner makes and removes the task sets of an ECS blue/green
// deployment: a target.Provisioner for services whose deployment
// controller is EXTERNAL. It is safe for concurrent use.
type Provisioner struct {
	ecs  ECSClient
	elb  ELBClient
	src  revision.Source
	opts Options
	log  *slog.Logger
	clk  clock.Clock
}

var _ target.Provisioner = (*Provisioner)(nil)

// NewProvisioner returns a Provisioner that works through ecsc and elbc and
// reads the deployments' AppSpecs through src (the executor's
// Options.Source), with the options optFns set. It fails when a
// collaborator is nil or an option is out of range.
func NewProvisioner(ecsc ECSClient, elbc ELBClient, src revision.Source, optFns ...func(*Options)) (*Provisioner, error) {
	if ecsc == nil || elbc == nil || src == nil {
		return nil, errors.New("ecstarget: NewProvisioner needs an ECS client, an Elastic Load Balancing client and a revision.Source; got nil")
	}
	o, err := resolve(Options{}, optFns)
	if err != nil {
		return nil, err
	}
	return &Provisioner{ecs: ecsc, elb: elbc, src: src, opts: o, log: o.Logger, clk: o.Clock}, nil
}

// ProvisionReplacements creates the replacement task set of req and
// returns it as one target whose ID is the task set's ARN.
//
// req.Originals holds the original task set (its ARN, which names the
// cluster and service), req.Deployment.LoadBalancer the deployment group's
// target group pair, and req.Deployment.Revision the revision whose AppSpec
// names the task definition, container name and port. The task set runs
// that task definition; it registers the container's port with the target
// group of the pair the production listener does not forward to, so that
// successive deployments alternate between the two groups as CodeDeploy's
// do; it has the original task set's scale (100 PERCENT when the original
// has none), launch type, platform version, network configuration and
// capacity provider strategy, except where the AppSpec sets them; its
// externalId is the deployment ID. The call then waits, on Options.Clock,
// polling every Options.PollInterval for at most Options.SteadyTimeout,
// until the task set's stabilityStatus is STEADY_STATE.
//
// Asked again for the same deployment (after a crash of the caller), it
// finds the task set whose externalId is the deployment ID and waits for it
// again instead of making another. A task set that does not become steady
// in time is deleted before the error is returned; when ctx ends the wait,
// it is kept for the next call.
//
// Failures are *target.CodeError values: INVALID_ECS_SERVICE (wrapping
// target.ErrNotFound) for a service, cluster, original task set, target
// group or listener that is missing or not set up for the deployment,
// ECS_UPDATE_ERROR when ECS refuses the task set or it does not become
// steady. The SDK's error is wrapped, its smithy.APIError reachable with
// errors.As. ctx's error is returned as is.
func (p *Provisioner) ProvisionReplacements(ctx context.Context, req target.ProvisionRequest) ([]target.Target, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	id := req.Deployment.DeploymentID
	if len(req.Originals) != 1 {
		return nil, invalidService(nil, "deployment %s: an ECS deployment replaces one original task set; got %d originals", id, len(req.Originals))
	}
	orig := req.Originals[0].ID
	svc, ok := parseTaskSetARN(orig)
	if !ok {
		return nil, invalidService(nil, "deployment %s: the original task set %q is not a task set ARN (arn:aws:ecs:region:account:task-set/cluster/service/id)", id, orig)
	}
	pair, ok := pairOf(req.Deployment.LoadBalancer)
	if !ok {
		return nil, invalidService(nil, "deployment %s: the deployment group of ECS service %s has no target group pair (loadBalancerInfo.targetGroupPairInfoList)", id, svc)
	}
	service, err := describeService(ctx, p.ecs, svc)
	if err != nil {
		return nil, err
	}
	all, err := taskSets(ctx, p.ecs, svc)
	if err != nil {
		return nil, err
	}
	for i := range all {
		if aws.ToString(all[i].ExternalId) == id {
			arn := aws.ToString(all[i].TaskSetArn)
			p.log.InfoContext(ctx, "ecstarget: found the replacement task set made before", "deployment", id, "taskSet", arn)
			return p.steady(ctx, svc, id, arn)
		}
	}
	original := findTaskSet(all, orig)
	if original == nil {
		return nil, invalidService(nil, "deployment %s: the original task set %s is not a task set of ECS service %s", id, orig, svc)
	}
	rt, err := resolveRouting(ctx, p.elb, svc, pair)
	if err != nil {
		return nil, err
	}
	prod, err := readListener(ctx, p.elb, svc, "production", rt.prod)
	if err != nil {
		return nil, err
	}
	in, err := prod.serving(svc, "production", rt)
	if err != nil {
		return nil, err
	}
	if len(in) != 1 {
		return nil, invalidService(nil, "deployment %s: the production listener %s of ECS service %s forwards to both target groups %s and %s; shift all its traffic to one before deploying",
			id, rt.prod, svc, rt.names[0], rt.names[1])
	}
	live := in[0]
	if g := taskSetGroup(original); g != rt.groups[live] {
		return nil, invalidService(nil, "deployment %s: the original task set %s registers with target group %q, but the production listener %s forwards to %s",
			id, orig, g, rt.prod, rt.names[live])
	}
	spec, err := p.appSpec(ctx, req.Deployment.Revision)
	if err != nil {
		return nil, fmt.Errorf("ecstarget: deployment %s: %w", id, err)
	}
	in2 := p.createInput(svc, id, spec, original, service, rt.groups[1-live])
	out, err := p.ecs.CreateTaskSet(ctx, in2)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		p.discard(svc, id)
		return nil, updateError(err, "deployment %s: creating the replacement task set of ECS service %s (task definition %s, target group %s)",
			id, svc, spec.TaskDefinition, rt.names[1-live])
	}
	arn := aws.ToString(out.TaskSet.TaskSetArn)
	p.log.InfoContext(ctx, "ecstarget: created the replacement task set", "deployment", id, "service", svc.String(), "taskSet", arn,
		"targetGroup", rt.names[1-live], "taskDefinition", spec.TaskDefinition)
	return p.steady(ctx, svc, id, arn)
}

// appSpec reads the ECS resource of the AppSpec of loc.
func (p *Provisioner) appSpec(ctx context.Context, loc revision.Location) (*revision.ECSService, error) {
	b, err := p.src.Open(ctx, loc)
	if err != nil {
		return nil, fmt.Errorf("opening revision %s: %w", loc, err)
	}
	defer b.Close()
	name, content, err := revision.ReadAppSpec(ctx, b)
	if err != nil {
		return nil, fmt.Errorf("reading the AppSpec of revision %s: %w", loc, err)
	}
	spec, err := revision.ParseAppSpecFile(name, content, config.ECS)
	if err != nil {
		return nil, fmt.Errorf("parsing the AppSpec of revision %s: %w", loc, err)
	}
	if spec.ECS == nil || spec.ECS.LoadBalancerInfo == nil {
		return nil, fmt.Errorf("the AppSpec of revision %s names no ECS service with a LoadBalancerInfo: %w", loc, revision.ErrInvalidAppSpec)
	}
	return spec.ECS, nil
}

// createInput is the CreateTaskSet request of the replacement task set.
func (p *Provisioner) createInput(svc serviceRef, id string, spec *revision.ECSService, original *ecstypes.TaskSet, service *ecstypes.Service, group string) *ecs.CreateTaskSetInput {
	in := &ecs.CreateTaskSetInput{
		Cluster: aws.String(svc.cluster), Service: aws.String(svc.service),
		TaskDefinition: aws.String(spec.TaskDefinition),
		ExternalId:     aws.String(id),
		LoadBalancers: []ecstypes.LoadBalancer{{TargetGroupArn: aws.String(group),
			ContainerName: aws.String(spec.LoadBalancerInfo.ContainerName),
			ContainerPort: aws.Int32(int32(spec.LoadBalancerInfo.ContainerPort))}},
		LaunchType:               original.LaunchType,
		PlatformVersion:          original.PlatformVersion,
		NetworkConfiguration:     original.NetworkConfiguration,
		CapacityProviderStrategy: original.CapacityProviderStrategy,
		Scale:                    &ecstypes.Scale{Unit: ecstypes.ScaleUnitPercent, Value: 100},
	}
	if len(id) <= 36 { // CreateTaskSet's clientToken holds up to 36 characters
		in.ClientToken = aws.String(id)
	}
	if s := original.Scale; s != nil && s.Value > 0 {
		in.Scale = &ecstypes.Scale{Unit: s.Unit, Value: s.Value}
	}
	if in.LaunchType == "" && len(in.CapacityProviderStrategy) == 0 {
		in.LaunchType = service.LaunchType
	}
	if spec.PlatformVersion != "" {
		in.PlatformVersion = aws.String(spec.PlatformVersion)
	}
	if nc := spec.NetworkConfiguration; nc != nil {
		in.NetworkConfiguration = &ecstypes.NetworkConfiguration{AwsvpcConfiguration: &ecstypes.AwsVpcConfiguration{
			Subnets: nc.AwsvpcConfiguration.Subnets, SecurityGroups: nc.AwsvpcConfiguration.SecurityGroups,
			AssignPublicIp: ecstypes.AssignPublicIp(nc.AwsvpcConfiguration.AssignPublicIP)}}
	}
	if len(spec.CapacityProviderStrategy) > 0 {
		in.CapacityProviderStrategy = nil
		for _, c := range spec.CapacityProviderStrategy {
			in.CapacityProviderStrategy = append(in.CapacityProviderStrategy, ecstypes.CapacityProviderStrategyItem{
				CapacityProvider: aws.String(c.CapacityProvider), Base: int32(c.Base), Weight: int32(c.Weight)})
		}
		in.LaunchType = "" // ECS takes a launch type or a capacity provider strategy, not both
	}
	return in
}

// steady waits until task set arn of svc is STEADY_STATE and returns it as
// the replacement target. A task set that does not get there within
// Options.SteadyTimeout is deleted.
func (p *Provisioner) steady(ctx context.Context, svc serviceRef, id, arn string) ([]target.Target, error) {
	start := p.clk.Now()
	for polls := 1; ; polls++ {
		list, err := taskSets(ctx, p.ecs, svc, arn)
		if err != nil {
			return nil, err
		}
		ts := findTaskSet(list, arn)
		if ts == nil {
			return nil, updateError(nil, "deployment %s: the replacement task set %s of ECS service %s is gone", id, arn, svc)
		}
		if ts.StabilityStatus == ecstypes.StabilityStatusSteadyState {
			p.log.InfoContext(ctx, "ecstarget: the replacement task set is steady", "deployment", id, "taskSet", arn, "polls", polls)
			return []target.Target{{ID: arn}}, nil
		}
		waited := p.clk.Now().Sub(start)
		if waited >= p.opts.SteadyTimeout {
			p.log.WarnContext(ctx, "ecstarget: the replacement task set did not become steady; deleting it", "deployment", id, "taskSet", arn,
				"stabilityStatus", string(ts.StabilityStatus), "waited", waited)
			p.deleteQuietly(svc, arn)
			return nil, updateError(nil, "deployment %s: the replacement task set %s of ECS service %s is still %s after %s (Options.SteadyTimeout); it was deleted",
				id, arn, svc, ts.StabilityStatus, p.opts.SteadyTimeout)
		}
		if err := clock.Sleep(ctx, p.clk, min(p.opts.PollInterval, p.opts.SteadyTimeout-waited)); err != nil {
			return nil, err
		}
	}
}

// cleanupTimeout bounds the deletion of a task set left by a failed call.
const cleanupTimeout = time.Minute

// discard deletes the task sets of svc whose externalId is id: what a
// CreateTaskSet that failed may have left.
func (p *Provisioner) discard(svc serviceRef, id string) {
	ctx, cancel := context.WithTimeout(context.Background(), cleanupTimeout)
	defer cancel()
	all, err := taskSets(ctx, p.ecs, svc)
	if err != nil {
		p.log.WarnContext(ctx, "ecstarget: could not list task sets to remove what a failed CreateTaskSet left", "service", svc.String(), "err", err)
		return
	}
	for i := range all {
		if aws.ToString(all[i].ExternalId) == id {
			p.deleteQuietly(svc, aws.ToString(all[i].TaskSetArn))
		}
	}
}

// deleteQuietly deletes task set arn, logging a failure.
func (p *Provisioner) deleteQuietly(svc serviceRef, arn string) {
	ctx, cancel := context.WithTimeout(context.Background(), cleanupTimeout)
	defer cancel()
	if err := p.delete(ctx, svc, arn); err != nil {
		p.log.WarnContext(ctx, "ecstarget: could not delete task set", "taskSet", arn, "err", err)
	}
}

// delete deletes task set arn of svc; one already gone is not an error.
func (p *Provisioner) delete(ctx context.Context, svc serviceRef, arn string) error {
	_, err := p.ecs.DeleteTaskSet(ctx, &ecs.DeleteTaskSetInput{Cluster: aws.String(svc.cluster), Service: aws.String(svc.service),
		TaskSet: aws.String(arn), Force: aws.Bool(true)})
	if err != nil && !isGone(err) {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return callError(err, "deleting task set %s of ECS service %s", arn, svc)
	}
	return nil
}

// TerminateTargets deletes the task sets targets name (by ARN, as
// ProvisionReplacements returns them and TrafficShifter.CurrentTraffic
// reports them): the original task set after a successful deployment —
// the executor calls it once the termination wait is over — or the
// replacement after a rollback. Task sets are deleted with force, whatever
// their scale. Task sets, services or clusters already gone, and no
// targets at all, are not an error; an ID that is not a task set ARN is.
// Every target is tried; every failure is listed (a *multierror.Error). A ctx already done returns
// its error at once and deletes nothing.
func (p *Provisioner) TerminateTargets(ctx context.Context, targets []target.Target) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	errs := errmsg.NewList(fmt.Sprintf("ecstarget: TerminateTargets (%d task sets)", len(targets)), "failures")
	for _, t := range targets {
		svc, ok := parseTaskSetARN(t.ID)
		if !ok {
			errs = multierror.Append(errs, fmt.Errorf("ecstarget: cannot delete %q: not a task set ARN (arn:aws:ecs:region:account:task-set/cluster/service/id)", t.ID))
			continue
		}
		// Described first: a service that is gone answers DescribeTaskSets
		// with ServiceNotFoundException, which is the answer wanted here.
		list, err := taskSets(ctx, p.ecs, svc, t.ID)
		if err != nil {
			if errors.Is(err, target.ErrNotFound) {
				continue
			}
			errs = multierror.Append(errs, err)
			continue
		}
		if findTaskSet(list, t.ID) == nil {
			continue
		}
		if err := p.delete(ctx, svc, t.ID); err != nil {
			errs = multierror.Append(errs, err)
			continue
		}
		p.log.InfoContext(ctx, "ecstarget: deleted task set", "service", svc.String(), "taskSet", t.ID)
	}
	return errs.ErrorOrNil()
}

package ec2target

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	astypes "github.com/aws/aws-sdk-go-v2/service/autoscaling/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/fleetdeploy/fleetdeploy/target"
)

// idBatch is the most instance IDs described in one DescribeInstances call.
const idBatch = 200

// asgTag is the tag EC2 Auto Scaling puts on the instances it launches.
const asgTag = "aws:autoscaling:groupName"

// targetedStates are the instance states CodeDeploy deploys to: stopped
// (and stopping) instances are still targeted; shutting-down and
// terminated ones are not.
var targetedStates = []string{
	string(ec2types.InstanceStateNamePending), string(ec2types.InstanceStateNameRunning),
	string(ec2types.InstanceStateNameStopping), string(ec2types.InstanceStateNameStopped),
}

// Lister lists the EC2 instances of a deployment group: a target.Lister.
// It is safe for concurrent use.
type Lister struct {
	ec2  ec2.DescribeInstancesAPIClient
	asg  autoscaling.DescribeAutoScalingGroupsAPIClient
	opts Options
	log  *slog.Logger
}

var _ target.Lister = (*Lister)(nil)

// NewLister returns a Lister that describes instances through ec2c and Auto
// Scaling groups through asc (a *ec2.Client and a *autoscaling.Client
// fit), with the options optFns set. asc may be nil when no selector names
// an Auto Scaling group. It fails when an option is out of range.
func NewLister(ec2c ec2.DescribeInstancesAPIClient, asc autoscaling.DescribeAutoScalingGroupsAPIClient, optFns ...func(*Options)) (*Lister, error) {
	if ec2c == nil {
		return nil, errors.New("ec2target: NewLister needs an EC2 client; got nil")
	}
	o, err := resolve(Options{}, optFns)
	if err != nil {
		return nil, err
	}
	return &Lister{ec2: ec2c, asg: asc, opts: o, log: o.Logger}, nil
}

// ListTargets returns the EC2 instances sel selects, as CodeDeploy selects
// them: those matching any of sel.EC2TagFilters, those matching
// sel.EC2TagSet (one filter of every tag group), and the instances of
// sel.AutoScalingGroups — the union, each instance once, sorted by ID.
//
// Instances that are pending, running, stopping or stopped are listed;
// stopped and stopping ones with Unavailable set (CodeDeploy still targets
// them, and counts them like failed ones). Shutting-down and terminated
// instances are not listed. Each target has the instance's tags, its
// Availability Zone as Zone, and its Auto Scaling group (from the groups
// described, else from the instance's aws:autoscaling:groupName tag).
//
// sel's on-premises tag filters and tag sets are ignored: on-premises
// instances are registered with CodeDeploy, not EC2, and a selector may
// combine both kinds, so another Lister lists them and the caller joins
// the two lists. An invalid sel is an error matching
// target.ErrInvalidSelector; an Auto Scaling group that does not exist
// adds no instance (as a tag no instance has). Errors of the SDK keep
// their smithy.APIError reachable with errors.As.
func (l *Lister) ListTargets(ctx context.Context, sel target.Selector) ([]target.Target, error) {
	if err := sel.Validate(); err != nil {
		return nil, fmt.Errorf("ec2target: %w", err)
	}
	if len(sel.OnPremisesInstanceTagFilters) > 0 || len(sel.OnPremisesTagSet.List) > 0 {
		l.log.DebugContext(ctx, "ec2target: ignoring the on-premises tags of the selector; list on-premises instances with another Lister")
	}
	found := map[string]target.Target{}
	// Tag filters: one query per kind of filter (EC2 filters AND across
	// names), each result checked again with CodeDeploy's matching, which
	// also drops what EC2's wildcards matched too.
	for _, q := range tagQueries(sel.EC2TagFilters) {
		if err := l.describe(ctx, q, nil, func(t target.Target) {
			if anyFilter(sel.EC2TagFilters, t.Tags) {
				found[t.ID] = t
			}
		}); err != nil {
			return nil, err
		}
	}
	// A tag set: every match matches the first group, so that group is
	// queried, and the whole set checked on each result.
	if set := sel.EC2TagSet.List; len(set) > 0 {
		only := target.Selector{EC2TagSet: sel.EC2TagSet}
		for _, q := range tagQueries(set[0]) {
			if err := l.describe(ctx, q, nil, func(t target.Target) {
				if only.Matches(target.Target{ID: t.ID, Tags: t.Tags}) {
					found[t.ID] = t
				}
			}); err != nil {
				return nil, err
			}
		}
	}
	if len(sel.AutoScalingGroups) > 0 {
		members, err := l.groupMembers(ctx, sel.AutoScalingGroups)
		if err != nil {
			return nil, err
		}
		ids := make([]string, 0, len(members))
		for id := range members {
			ids = append(ids, id)
		}
		slices.Sort(ids)
		if err := l.describeIDs(ctx, ids, func(t target.Target) {
			t.AutoScalingGroup = members[t.ID]
			found[t.ID] = t
		}); err != nil {
			return nil, err
		}
	}
	out := make([]target.Target, 0, len(found))
	for _, t := range found {
		out = append(out, t)
	}
	slices.SortFunc(out, func(a, b target.Target) int { return cmpString(a.ID, b.ID) })
	return out, nil
}

func cmpString(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// anyFilter reports whether tags match at least one of filters.
func anyFilter(filters []target.TagFilter, tags map[string]string) bool {
	return slices.ContainsFunc(filters, func(f target.TagFilter) bool { return f.Matches(tags) })
}

// tagQueries returns the DescribeInstances filters whose union holds every
// instance matching any of filters: one query for the KEY_ONLY filters
// (tag-key), one for the VALUE_ONLY ones (tag-value), one per key of the
// KEY_AND_VALUE ones (tag:<key>).
func tagQueries(filters []target.TagFilter) [][]ec2types.Filter {
	var keys, values []string
	byKey := map[string][]string{}
	var keyOrder []string
	for _, f := range filters {
		switch f.Type {
		case target.KeyOnly:
			keys = append(keys, f.Key)
		case target.ValueOnly:
			values = append(values, f.Value)
		case target.KeyAndValue:
			if _, ok := byKey[f.Key]; !ok {
				keyOrder = append(keyOrder, f.Key)
			}
			byKey[f.Key] = append(byKey[f.Key], f.Value)
		}
	}
	var out [][]ec2types.Filter
	if len(keys) > 0 {
		out = append(out, []ec2types.Filter{{Name: aws.String("tag-key"), Values: keys}})
	}
	if len(values) > 0 {
		out = append(out, []ec2types.Filter{{Name: aws.String("tag-value"), Values: values}})
	}
	for _, k := range keyOrder {
		out = append(out, []ec2types.Filter{{Name: aws.String("tag:" + k), Values: byKey[k]}})
	}
	return out
}

// describe calls each for every instance in a targeted state that filters
// select, reading every page.
func (l *Lister) describe(ctx context.Context, filters []ec2types.Filter, ids []string, each func(target.Target)) error {
	in := &ec2.DescribeInstancesInput{
		Filters: append(slices.Clone(filters), ec2types.Filter{Name: aws.String("instance-state-name"), Values: targetedStates}),
	}
	if ids != nil {
		in.InstanceIds = ids // DescribeInstances takes no MaxResults with IDs
	} else {
		in.MaxResults = aws.Int32(l.opts.PageSize)
	}
	pages := ec2.NewDescribeInstancesPaginator(l.ec2, in)
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			what := fmt.Sprintf("filters %s", describeFilters(filters))
			if ids != nil {
				what = fmt.Sprintf("%d instances from %s to %s", len(ids), ids[0], ids[len(ids)-1])
			}
			l.log.WarnContext(ctx, "ec2target: DescribeInstances failed", "what", what, "error", err.Error())
			return fmt.Errorf("ec2target: describing the instances of %s: %w", what, err)
		}
		for _, r := range page.Reservations {
			for i := range r.Instances {
				if t, ok := toTarget(&r.Instances[i]); ok {
					each(t)
				}
			}
		}
	}
	return nil
}

// describeIDs describes the instances ids (in batches) that are in a
// targeted state. IDs EC2 does not know are left out.
func (l *Lister) describeIDs(ctx context.Context, ids []string, each func(target.Target)) error {
	for batch := range slices.Chunk(ids, idBatch) {
		err := l.describe(ctx, nil, batch, each)
		if isNotFound(err) && len(batch) > 1 {
			// One instance is gone (terminated long ago): describe them
			// one at a time, skipping those.
			for _, id := range batch {
				if err := l.describe(ctx, nil, []string{id}, each); err != nil && !isNotFound(err) {
					return err
				}
			}
			continue
		}
		if err != nil && !isNotFound(err) {
			return err
		}
	}
	return nil
}

func describeFilters(fs []ec2types.Filter) string {
	s := ""
	for i, f := range fs {
		if i > 0 {
			s += " and "
		}
		s += fmt.Sprintf("%s=%v", aws.ToString(f.Name), f.Values)
	}
	return s
}

// toTarget converts an instance; ok is false for one in a state CodeDeploy
// does not target.
func toTarget(in *ec2types.Instance) (t target.Target, ok bool) {
	if !slices.Contains(targetedStates, string(instanceState(in))) || aws.ToString(in.InstanceId) == "" {
		return t, false
	}
	return instanceTarget(in), true
}

// instanceState returns the state of in, "" if it has none.
func instanceState(in *ec2types.Instance) ec2types.InstanceStateName {
	if in.State != nil {
		return in.State.Name
	}
	return ""
}

// instanceTarget converts an instance whatever its state: its tags, its
// Availability Zone as Zone, its Auto Scaling group from its tag, and
// Unavailable unless it is pending or running.
func instanceTarget(in *ec2types.Instance) target.Target {
	t := target.Target{ID: aws.ToString(in.InstanceId)}
	if len(in.Tags) > 0 {
		t.Tags = make(map[string]string, len(in.Tags))
		for _, tag := range in.Tags {
			t.Tags[aws.ToString(tag.Key)] = aws.ToString(tag.Value)
		}
	}
	if in.Placement != nil {
		t.Zone = aws.ToString(in.Placement.AvailabilityZone)
	}
	t.AutoScalingGroup = t.Tags[asgTag]
	state := instanceState(in)
	t.Unavailable = state != ec2types.InstanceStateNamePending && state != ec2types.InstanceStateNameRunning
	return t
}

// groupMembers returns the instances of the Auto Scaling groups names that
// are not leaving them (terminating, detaching), each with its group.
func (l *Lister) groupMembers(ctx context.Context, names []string) (map[string]string, error) {
	if l.asg == nil {
		return nil, fmt.Errorf("ec2target: the selector names Auto Scaling groups %v, but the Lister has no Auto Scaling client; pass one to NewLister", names)
	}
	groups, err := describeGroups(ctx, l.asg, names)
	if err != nil {
		l.log.WarnContext(ctx, "ec2target: DescribeAutoScalingGroups failed", "groups", names, "error", err.Error())
		return nil, err
	}
	members := map[string]string{}
	for _, g := range groups {
		for _, in := range g.Instances {
			if member(in.LifecycleState) {
				members[aws.ToString(in.InstanceId)] = aws.ToString(g.AutoScalingGroupName)
			}
		}
	}
	return members, nil
}

// member reports whether an Auto Scaling instance in state s still belongs
// to its group's fleet.
func member(s astypes.LifecycleState) bool {
	switch s {
	case astypes.LifecycleStateTerminating, astypes.LifecycleStateTerminatingWait, astypes.LifecycleStateTerminatingProceed,
		astypes.LifecycleStateTerminated, astypes.LifecycleStateDetaching, astypes.LifecycleStateDetached:
		return false
	}
	return true
}

// describeGroups returns the Auto Scaling groups names that exist, reading
// every page.
func describeGroups(ctx context.Context, c autoscaling.DescribeAutoScalingGroupsAPIClient, names []string) ([]astypes.AutoScalingGroup, error) {
	var out []astypes.AutoScalingGroup
	for batch := range slices.Chunk(names, 50) {
		pages := autoscaling.NewDescribeAutoScalingGroupsPaginator(c, &autoscaling.DescribeAutoScalingGroupsInput{AutoScalingGroupNames: batch})
		for pages.HasMorePages() {
			page, err := pages.NextPage(ctx)
			if err != nil {
				return nil, fmt.Errorf("ec2target: describing Auto Scaling groups %v: %w", batch, err)
			}
			out = append(out, page.AutoScalingGroups...)
		}
	}
	return out, nil
}

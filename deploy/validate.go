package deploy

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/hashicorp/go-multierror"

	"github.com/fleetdeploy/fleetdeploy/config"
	"github.com/fleetdeploy/fleetdeploy/internal/errmsg"
	"github.com/fleetdeploy/fleetdeploy/revision"
	"github.com/fleetdeploy/fleetdeploy/target"
)

// Limits of CodeDeploy's deployment groups (API Reference,
// CreateDeploymentGroup; User Guide, "CodeDeploy quotas").
const (
	// MaxNameLength is the most characters in an application or
	// deployment group name.
	MaxNameLength = 100
	// MaxAlarms is the most alarms in an AlarmConfiguration.
	MaxAlarms = 10
	// MaxAlarmNameLength is the most characters in an alarm name.
	MaxAlarmNameLength = 255
	// MaxTriggers is the most trigger configurations of a group.
	MaxTriggers = 10
	// MaxTerminationWaitMinutes is the longest blue/green termination wait
	// (2 days).
	MaxTerminationWaitMinutes = 2880
	// MaxReadyWaitMinutes is the longest a Server blue/green deployment
	// may wait between install and traffic shift (48 h).
	MaxReadyWaitMinutes = 2880
	// MaxECSReadyWaitMinutes is the same for ECS (120 h, the newer quota).
	MaxECSReadyWaitMinutes = 7200
	// MaxDescriptionLength is the most characters in a deployment's
	// description.
	MaxDescriptionLength = 256
)

// Problem is one rule a value breaks: config.Problem, the one type every
// fleetdeploy package uses.
type Problem = config.Problem

// oneOf reports whether v is one of values; empty is never.
func oneOf[T ~string](v T, values []T) bool { return v != "" && slices.Contains(values, v) }

// Validate reports every rule g breaks, as a *multierror.Error with one
// *Problem per broken rule, matching ErrInvalidGroup (and the sentinels of
// other packages' rules, such as config.ErrUnknownConfig or
// target.ErrInvalidSelector), or nil. custom are
// the custom deployment configurations the group's configuration name may
// refer to. The rules are CodeDeploy's CreateDeploymentGroup rules (API
// Reference):
//
//   - applicationName, deploymentGroupName: 1–100 characters
//   - computePlatform: Server, Lambda or ECS (empty means Server)
//   - deploymentConfigName: resolves (see ConfigName and ResolveConfig) to a
//     valid configuration of the group's platform; a zonal configuration
//     only for Server in-place groups
//   - Server: the selector is valid (target.Selector.Validate); Lambda and
//     ECS groups select no targets and have no Auto Scaling or termination
//     hooks
//   - deploymentStyle: valid values; Lambda and ECS are BLUE_GREEN
//     WITH_TRAFFIC_CONTROL; Server BLUE_GREEN needs WITH_TRAFFIC_CONTROL, a
//     load balancer and blueGreenDeploymentConfiguration; Server
//     WITH_TRAFFIC_CONTROL needs a load balancer
//   - loadBalancerInfo: valid (target.LoadBalancerInfo.Validate); Server
//     uses elbInfoList or targetGroupInfoList, ECS exactly one
//     targetGroupPairInfoList entry, Lambda none
//   - blueGreenDeploymentConfiguration: BLUE_GREEN Server and ECS groups
//     only; actions valid; terminationWaitTimeInMinutes 0–2880;
//     waitTimeInMinutes 0–2880 (ECS 0–7200); greenFleetProvisioningOption
//     Server only, COPY_AUTO_SCALING_GROUP only with autoScalingGroups
//   - ecsServices: exactly one for ECS, with serviceName and clusterName;
//     none otherwise
//   - alarmConfiguration: at most 10 alarms, names non-empty, at most 255
//     characters, unique; enabled with no alarms is invalid
//   - autoRollbackConfiguration: known events, no repeats; enabled with no
//     events is invalid
//   - triggerConfigurations: at most 10, names non-empty and unique, a
//     target, at least one known event type and no repeats
//   - outdatedInstancesStrategy: empty, UPDATE or IGNORE
//   - ignoreApplicationStopFailures: false for Lambda and ECS
//   - fileExistsBehavior: empty, DISALLOW, OVERWRITE or RETAIN; Server only
//   - targetRevision: valid (revision.Location.Validate) when set
//
// CodeDeploy also allows only CodeDeployDefault.ECSAllAtOnce for an ECS
// service behind a Network Load Balancer; load balancer names do not say
// which kind they are, so that rule is left to the TrafficShifter.
func (g Group) Validate(custom ...config.Config) error {
	var ps config.Problems
	validateName(&ps, "applicationName", g.ApplicationName)
	validateName(&ps, "deploymentGroupName", g.Name)
	p := g.Platform()
	if !oneOf(p, p.Values()) {
		ps.Add(nil, "computePlatform", "must be one of %v; got %q", p.Values(), g.ComputePlatform)
		return ps.Err(ErrInvalidGroup, g.subject())
	}
	style := g.Style()
	g.validateConfig(&ps, style, custom)
	g.validateTargets(&ps)
	g.validateStyle(&ps, style)
	g.validateLoadBalancer(&ps, style)
	g.validateBlueGreen(&ps, style)
	validateAlarms(&ps, g.AlarmConfiguration)
	validateAutoRollback(&ps, g.AutoRollbackConfiguration)
	validateTriggers(&ps, g.TriggerConfigurations)
	if s := g.OutdatedInstancesStrategy; s != "" && !oneOf(s, s.Values()) {
		ps.Add(nil, "outdatedInstancesStrategy", "must be one of %v (empty means UPDATE); got %q", s.Values(), s)
	}
	if g.IgnoreApplicationStopFailures && p != config.Server {
		ps.Add(nil, "ignoreApplicationStopFailures", "must be false for %s: it has no ApplicationStop, BeforeBlockTraffic or AfterBlockTraffic events", p)
	}
	if f := g.FileExistsBehavior; f != "" {
		if !oneOf(f, f.Values()) {
			ps.Add(nil, "fileExistsBehavior", "must be one of %v, or empty for the AppSpec's; got %q", f.Values(), f)
		}
		if p != config.Server {
			ps.Add(nil, "fileExistsBehavior", "is for Server groups only")
		}
	}
	if r := g.TargetRevision; r != nil {
		if err := r.Validate(); err != nil {
			addProblems(ps.Add, "targetRevision.", err)
		}
	}
	return ps.Err(ErrInvalidGroup, g.subject())
}

func validateName(ps *config.Problems, field, name string) {
	switch n := utf8.RuneCountInString(name); {
	case n == 0:
		ps.Add(nil, field, "is required")
	case n > MaxNameLength:
		ps.Add(nil, field, "must be at most %d characters; it has %d", MaxNameLength, n)
	}
}

// validateConfig checks the configuration the group resolves to.
func (g Group) validateConfig(ps *config.Problems, style DeploymentStyle, custom []config.Config) {
	const field = "deploymentConfigName"
	c, err := config.Lookup(g.ConfigName(), custom...)
	if err != nil {
		ps.Add(config.ErrUnknownConfig, field, "%s", strings.TrimPrefix(err.Error(), "config: "))
		return
	}
	g.checkConfig(ps, c, style)
}

// checkConfig checks that c is valid and fits the group.
func (g Group) checkConfig(ps *config.Problems, c config.Config, style DeploymentStyle) {
	const field = "deploymentConfigName"
	if err := c.Validate(); err != nil {
		// Each problem of the configuration, under the group's field.
		addProblems(func(sentinel error, cfield, rule string, args ...any) {
			if cfield != "" {
				cfield += ": "
			}
			ps.Add(sentinel, field, "configuration %s: %s%s", c.Name, cfield, fmt.Sprintf(rule, args...))
		}, "", err)
	}
	if c.Platform() != g.Platform() {
		ps.Add(nil, field, "configuration %s is for the %s compute platform; the group's is %s", c.Name, c.Platform(), g.Platform())
	}
	if c.ZonalConfig != nil && style.DeploymentType != target.InPlace {
		ps.Add(nil, field, "configuration %s has a zonalConfig, which only in-place deployments use; the group is %s", c.Name, style.DeploymentType)
	}
}

// validateTargets checks the fields that say which targets belong to the
// group.
func (g Group) validateTargets(ps *config.Problems) {
	if g.Platform() == config.Server {
		if err := g.Selector.Validate(); err != nil {
			addProblems(ps.Add, "", err)
		}
		if len(g.ECSServices) > 0 {
			ps.Add(nil, "ecsServices", "is for ECS groups only")
		}
		return
	}
	if !g.Selector.IsZero() {
		ps.Add(nil, "ec2TagFilters", "%s groups select no instances: tag filters, tag sets and autoScalingGroups are for Server groups only", g.Platform())
	}
	if g.TerminationHookEnabled {
		ps.Add(nil, "terminationHookEnabled", "is for Server (EC2/On-premises) groups only, whose Auto Scaling groups run termination deployments; unset it for this %s group", g.Platform())
	}
	switch n := len(g.ECSServices); {
	case g.Platform() == config.Lambda && n > 0:
		ps.Add(nil, "ecsServices", "is for ECS groups only")
	case g.Platform() == config.ECS && n != 1:
		ps.Add(nil, "ecsServices", "an ECS group must name exactly 1 ECS service; got %d", n)
	}
	if g.Platform() == config.ECS {
		for i, s := range g.ECSServices {
			if s.ServiceName == "" {
				ps.Add(nil, fmt.Sprintf("ecsServices[%d].serviceName", i), "is required")
			}
			if s.ClusterName == "" {
				ps.Add(nil, fmt.Sprintf("ecsServices[%d].clusterName", i), "is required")
			}
		}
	}
}

// addProblems adds the problems err lists — the *config.Problem and
// *revision.LocationProblem elements of its *multierror.Error — with add,
// each field under prefix and each problem its new one's Err, so that
// errors.Is and errors.As reach it. An error that lists no problems is
// added as one, on prefix's field.
func addProblems(add func(sentinel error, field, rule string, args ...any), prefix string, err error) {
	var list *multierror.Error
	if !errors.As(err, &list) {
		add(err, strings.TrimSuffix(prefix, "."), "%s", errmsg.Trim(err.Error()))
		return
	}
	for _, e := range list.Errors {
		var cp *config.Problem
		var lp *revision.LocationProblem
		switch {
		case errors.As(e, &cp):
			add(e, prefix+cp.Field, "%s", cp.Rule)
		case errors.As(e, &lp):
			add(e, prefix+lp.Field, "%s", lp.Rule)
		default:
			add(e, strings.TrimSuffix(prefix, "."), "%s", errmsg.Trim(e.Error()))
		}
	}
}

func (g Group) validateStyle(ps *config.Problems, style DeploymentStyle) {
	t, o := style.DeploymentType, style.DeploymentOption
	okType, okOption := oneOf(t, t.Values()), oneOf(o, o.Values())
	if !okType {
		ps.Add(nil, "deploymentStyle.deploymentType", "must be one of %v; got %q", t.Values(), t)
	}
	if !okOption {
		ps.Add(nil, "deploymentStyle.deploymentOption", "must be one of %v; got %q", o.Values(), o)
	}
	if !okType || !okOption {
		return
	}
	if g.Platform() != config.Server {
		if t != target.BlueGreen {
			ps.Add(nil, "deploymentStyle.deploymentType", "must be BLUE_GREEN for %s: its deployments always shift traffic", g.Platform())
		}
		if o != WithTrafficControl {
			ps.Add(nil, "deploymentStyle.deploymentOption", "must be WITH_TRAFFIC_CONTROL for %s", g.Platform())
		}
		return
	}
	if t == target.BlueGreen && o != WithTrafficControl {
		ps.Add(nil, "deploymentStyle.deploymentOption", "must be WITH_TRAFFIC_CONTROL for a Server BLUE_GREEN group: traffic moves to the replacement through the load balancer")
	}
}

func (g Group) validateLoadBalancer(ps *config.Problems, style DeploymentStyle) {
	lb := g.LoadBalancerInfo
	if err := lb.Validate(); err != nil {
		addProblems(ps.Add, "loadBalancerInfo.", err)
	}
	switch g.Platform() {
	case config.Server:
		if len(lb.TargetGroupPairInfoList) > 0 {
			ps.Add(nil, "loadBalancerInfo.targetGroupPairInfoList", "is for ECS groups only; a Server group uses elbInfoList or targetGroupInfoList")
		}
		if len(lb.ELBInfoList) == 0 && len(lb.TargetGroupInfoList) == 0 {
			switch {
			case style.DeploymentType == target.BlueGreen:
				ps.Add(nil, "loadBalancerInfo", "is required for a Server BLUE_GREEN group (MISSING_ELB_INFORMATION): name a Classic Load Balancer or a target group")
			case style.DeploymentOption == WithTrafficControl:
				ps.Add(nil, "loadBalancerInfo", "is required with WITH_TRAFFIC_CONTROL (MISSING_ELB_INFORMATION): name a Classic Load Balancer or a target group")
			}
		}
	case config.ECS:
		if len(lb.ELBInfoList) > 0 || len(lb.TargetGroupInfoList) > 0 {
			ps.Add(nil, "loadBalancerInfo", "an ECS group uses targetGroupPairInfoList only, not elbInfoList or targetGroupInfoList")
		}
		if len(lb.TargetGroupPairInfoList) != 1 {
			ps.Add(nil, "loadBalancerInfo.targetGroupPairInfoList", "an ECS group needs exactly 1 target group pair; got %d", len(lb.TargetGroupPairInfoList))
		}
	case config.Lambda:
		if !lb.IsZero() {
			ps.Add(nil, "loadBalancerInfo", "is not used by Lambda groups")
		}
	}
}

func (g Group) validateBlueGreen(ps *config.Problems, style DeploymentStyle) {
	const field = "blueGreenDeploymentConfiguration"
	bg := g.BlueGreenDeploymentConfiguration
	p := g.Platform()
	switch {
	case p == config.Lambda:
		if bg != nil {
			ps.Add(nil, field, "is not used by Lambda groups")
		}
		return
	case style.DeploymentType != target.BlueGreen:
		if bg != nil {
			ps.Add(nil, field, "is for BLUE_GREEN groups only; the group is %s", style.DeploymentType)
		}
		return
	case bg == nil:
		ps.Add(nil, field, "is required for %s BLUE_GREEN groups (MISSING_BLUE_GREEN_DEPLOYMENT_CONFIGURATION)", p)
		return
	}
	if t := bg.TerminateBlueInstancesOnDeploymentSuccess; t != nil {
		f := field + ".terminateBlueInstancesOnDeploymentSuccess"
		if !oneOf(t.Action, t.Action.Values()) {
			ps.Add(nil, f+".action", "must be one of %v; got %q", t.Action.Values(), t.Action)
		}
		if w := t.TerminationWaitTimeInMinutes; w < 0 || w > MaxTerminationWaitMinutes {
			ps.Add(nil, f+".terminationWaitTimeInMinutes", "must be 0–%d minutes (2 days); got %d", MaxTerminationWaitMinutes, w)
		}
	}
	if r := bg.DeploymentReadyOption; r != nil {
		f := field + ".deploymentReadyOption"
		if !oneOf(r.ActionOnTimeout, r.ActionOnTimeout.Values()) {
			ps.Add(nil, f+".actionOnTimeout", "must be one of %v; got %q", r.ActionOnTimeout.Values(), r.ActionOnTimeout)
		}
		limit, hours := MaxReadyWaitMinutes, 48
		if p == config.ECS {
			limit, hours = MaxECSReadyWaitMinutes, 120
		}
		if w := r.WaitTimeInMinutes; w < 0 || w > limit {
			ps.Add(nil, f+".waitTimeInMinutes", "must be 0–%d minutes (%d h between install and traffic shift on %s); got %d", limit, hours, p, w)
		}
	}
	if gf := bg.GreenFleetProvisioningOption; gf != nil {
		f := field + ".greenFleetProvisioningOption"
		switch {
		case p != config.Server:
			ps.Add(nil, f, "is for Server groups only")
		case !oneOf(gf.Action, gf.Action.Values()):
			ps.Add(nil, f+".action", "must be one of %v; got %q", gf.Action.Values(), gf.Action)
		case gf.Action == GreenFleetCopyAutoScalingGroup && len(g.Selector.AutoScalingGroups) == 0:
			ps.Add(nil, f+".action", "COPY_AUTO_SCALING_GROUP copies the group's Auto Scaling group; autoScalingGroups names none")
		}
	}
}

func validateAlarms(ps *config.Problems, a AlarmConfiguration) {
	const field = "alarmConfiguration.alarms"
	if n := len(a.Alarms); n > MaxAlarms {
		ps.Add(nil, field, "must name at most %d alarms; got %d (AlarmsLimitExceeded)", MaxAlarms, n)
	}
	if a.Enabled && len(a.Alarms) == 0 {
		ps.Add(nil, field, "must name at least one alarm when alarmConfiguration.enabled is true")
	}
	for i, al := range a.Alarms {
		f := fmt.Sprintf("%s[%d].name", field, i)
		switch n := utf8.RuneCountInString(al.Name); {
		case n == 0:
			ps.Add(nil, f, "must not be empty")
		case n > MaxAlarmNameLength:
			ps.Add(nil, f, "must be at most %d characters; got %d", MaxAlarmNameLength, n)
		}
		if j := slices.IndexFunc(a.Alarms[:i], func(b Alarm) bool { return b.Name == al.Name }); j >= 0 && al.Name != "" {
			ps.Add(nil, f, "repeats %q (also %s[%d].name)", al.Name, field, j)
		}
	}
}

func validateAutoRollback(ps *config.Problems, a AutoRollbackConfiguration) {
	const field = "autoRollbackConfiguration.events"
	if a.Enabled && len(a.Events) == 0 {
		ps.Add(nil, field, "must list at least one event when autoRollbackConfiguration.enabled is true (InvalidAutoRollbackConfig)")
	}
	for i, e := range a.Events {
		f := fmt.Sprintf("%s[%d]", field, i)
		if !oneOf(e, e.Values()) {
			ps.Add(nil, f, "must be one of %v; got %q (InvalidAutoRollbackConfig)", e.Values(), e)
		} else if j := slices.Index(a.Events[:i], e); j >= 0 {
			ps.Add(nil, f, "repeats %s (also %s[%d])", e, field, j)
		}
	}
}

func validateTriggers(ps *config.Problems, ts []TriggerConfig) {
	const field = "triggerConfigurations"
	if n := len(ts); n > MaxTriggers {
		ps.Add(nil, field, "must have at most %d triggers; got %d (TriggerTargetsLimitExceeded)", MaxTriggers, n)
	}
	for i, t := range ts {
		f := fmt.Sprintf("%s[%d]", field, i)
		if t.TriggerName == "" {
			ps.Add(nil, f+".triggerName", "is required")
		} else if j := slices.IndexFunc(ts[:i], func(o TriggerConfig) bool { return o.TriggerName == t.TriggerName }); j >= 0 {
			ps.Add(nil, f+".triggerName", "repeats %q (also %s[%d])", t.TriggerName, field, j)
		}
		if t.TriggerTargetArn == "" {
			ps.Add(nil, f+".triggerTargetArn", "is required")
		}
		if len(t.TriggerEvents) == 0 {
			ps.Add(nil, f+".triggerEvents", "must list at least one event type")
		}
		for k, e := range t.TriggerEvents {
			ef := fmt.Sprintf("%s.triggerEvents[%d]", f, k)
			if !oneOf(e, e.Values()) {
				ps.Add(nil, ef, "must be one of %v; got %q", e.Values(), e)
			} else if j := slices.Index(t.TriggerEvents[:k], e); j >= 0 {
				ps.Add(nil, ef, "repeats %s (also triggerEvents[%d])", e, j)
			}
		}
	}
}

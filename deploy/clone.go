package deploy

import (
	"maps"
	"slices"

	"github.com/fleetdeploy/fleetdeploy/config"
	"github.com/fleetdeploy/fleetdeploy/revision"
	"github.com/fleetdeploy/fleetdeploy/target"
)

// Deep copies. Stores copy records in and out with these, so that no
// caller can change stored state through a pointer, slice or map it holds.
// Empty slices and maps become nil.

// Clone returns a deep copy of g.
func (g Group) Clone() Group {
	g.Selector = cloneSelector(g.Selector)
	g.ECSServices = cloneSlice(g.ECSServices)
	g.LoadBalancerInfo = cloneLoadBalancer(g.LoadBalancerInfo)
	g.BlueGreenDeploymentConfiguration = cloneBlueGreen(g.BlueGreenDeploymentConfiguration)
	g.AutoRollbackConfiguration = cloneAutoRollback(g.AutoRollbackConfiguration)
	g.AlarmConfiguration = cloneAlarms(g.AlarmConfiguration)
	if g.TriggerConfigurations != nil {
		ts := make([]TriggerConfig, len(g.TriggerConfigurations))
		for i, t := range g.TriggerConfigurations {
			t.TriggerEvents = cloneSlice(t.TriggerEvents)
			ts[i] = t
		}
		g.TriggerConfigurations = ts
	}
	g.TargetRevision = cloneLocationPtr(g.TargetRevision)
	g.LastSuccessfulDeployment = clonePtr(g.LastSuccessfulDeployment)
	g.LastAttemptedDeployment = clonePtr(g.LastAttemptedDeployment)
	return g
}

// Clone returns a deep copy of d.
func (d Deployment) Clone() Deployment {
	d.Revision = cloneLocation(d.Revision)
	d.PreviousRevision = cloneLocationPtr(d.PreviousRevision)
	d.Config = cloneConfig(d.Config)
	d.LoadBalancerInfo = cloneLoadBalancer(d.LoadBalancerInfo)
	d.BlueGreenDeploymentConfiguration = cloneBlueGreen(d.BlueGreenDeploymentConfiguration)
	if d.AutoRollbackConfiguration != nil {
		a := cloneAutoRollback(*d.AutoRollbackConfiguration)
		d.AutoRollbackConfiguration = &a
	}
	if d.OverrideAlarmConfiguration != nil {
		a := cloneAlarms(*d.OverrideAlarmConfiguration)
		d.OverrideAlarmConfiguration = &a
	}
	d.RelatedDeployments.AutoUpdateOutdatedInstancesDeploymentIDs = cloneSlice(d.RelatedDeployments.AutoUpdateOutdatedInstancesDeploymentIDs)
	d.StopRequest = clonePtr(d.StopRequest)
	d.Progress.ZoneOrder = cloneSlice(d.Progress.ZoneOrder)
	return d
}

// Clone returns a deep copy of t.
func (t DeploymentTarget) Clone() DeploymentTarget {
	t.Target = cloneTarget(t.Target)
	t.LifecycleEvents = cloneEvents(t.LifecycleEvents)
	return t
}

// Clone returns a deep copy of r.
func (r InstanceRecord) Clone() InstanceRecord {
	r.Revision = cloneLocationPtr(r.Revision)
	return r
}

func cloneEvents(es []LifecycleEventRecord) []LifecycleEventRecord {
	if len(es) == 0 {
		return nil
	}
	out := make([]LifecycleEventRecord, len(es))
	for i, e := range es {
		e.Diagnostics = clonePtr(e.Diagnostics)
		out[i] = e
	}
	return out
}

func cloneTarget(t target.Target) target.Target {
	if len(t.Tags) == 0 {
		t.Tags = nil
	} else {
		t.Tags = maps.Clone(t.Tags)
	}
	return t
}

// clonePtr copies the value p points to; for structs without references.
func clonePtr[T any](p *T) *T {
	if p == nil {
		return nil
	}
	v := *p
	return &v
}

// cloneSlice copies a slice of values without references.
func cloneSlice[S ~[]E, E any](s S) S {
	if len(s) == 0 {
		return nil
	}
	return slices.Clone(s)
}

func cloneLocation(l revision.Location) revision.Location {
	l.S3 = clonePtr(l.S3)
	l.GitHub = clonePtr(l.GitHub)
	l.AppSpecContent = clonePtr(l.AppSpecContent)
	l.Local = clonePtr(l.Local)
	return l
}

func cloneLocationPtr(l *revision.Location) *revision.Location {
	if l == nil {
		return nil
	}
	c := cloneLocation(*l)
	return &c
}

func cloneConfig(c config.Config) config.Config {
	c.MinimumHealthyHosts = clonePtr(c.MinimumHealthyHosts)
	if c.ZonalConfig != nil {
		z := *c.ZonalConfig
		z.FirstZoneMonitorDurationInSeconds = clonePtr(z.FirstZoneMonitorDurationInSeconds)
		z.MonitorDurationInSeconds = clonePtr(z.MonitorDurationInSeconds)
		z.MinimumHealthyHostsPerZone = clonePtr(z.MinimumHealthyHostsPerZone)
		c.ZonalConfig = &z
	}
	if c.TrafficRouting != nil {
		t := *c.TrafficRouting
		t.TimeBasedCanary = clonePtr(t.TimeBasedCanary)
		t.TimeBasedLinear = clonePtr(t.TimeBasedLinear)
		c.TrafficRouting = &t
	}
	return c
}

func cloneSelector(s target.Selector) target.Selector {
	s.EC2TagFilters = cloneSlice(s.EC2TagFilters)
	s.EC2TagSet.List = cloneTagSet(s.EC2TagSet.List)
	s.OnPremisesTagFilters = cloneSlice(s.OnPremisesTagFilters)
	s.OnPremisesTagSet.List = cloneTagSet(s.OnPremisesTagSet.List)
	s.AutoScalingGroups = cloneSlice(s.AutoScalingGroups)
	return s
}

func cloneTagSet(groups [][]target.TagFilter) [][]target.TagFilter {
	if len(groups) == 0 {
		return nil
	}
	out := make([][]target.TagFilter, len(groups))
	for i, g := range groups {
		out[i] = cloneSlice(g)
	}
	return out
}

func cloneLoadBalancer(l target.LoadBalancerInfo) target.LoadBalancerInfo {
	l.ELBInfoList = cloneSlice(l.ELBInfoList)
	l.TargetGroupInfoList = cloneSlice(l.TargetGroupInfoList)
	if len(l.TargetGroupPairInfoList) == 0 {
		l.TargetGroupPairInfoList = nil
		return l
	}
	pairs := make([]target.TargetGroupPairInfo, len(l.TargetGroupPairInfoList))
	for i, p := range l.TargetGroupPairInfoList {
		p.TargetGroups = cloneSlice(p.TargetGroups)
		p.ProdTrafficRoute.ListenerArns = cloneSlice(p.ProdTrafficRoute.ListenerArns)
		p.TestTrafficRoute.ListenerArns = cloneSlice(p.TestTrafficRoute.ListenerArns)
		pairs[i] = p
	}
	l.TargetGroupPairInfoList = pairs
	return l
}

func cloneBlueGreen(b *BlueGreenDeploymentConfiguration) *BlueGreenDeploymentConfiguration {
	if b == nil {
		return nil
	}
	c := *b
	c.TerminateBlueInstancesOnDeploymentSuccess = clonePtr(c.TerminateBlueInstancesOnDeploymentSuccess)
	c.DeploymentReadyOption = clonePtr(c.DeploymentReadyOption)
	c.GreenFleetProvisioningOption = clonePtr(c.GreenFleetProvisioningOption)
	return &c
}

func cloneAutoRollback(a AutoRollbackConfiguration) AutoRollbackConfiguration {
	a.Events = cloneSlice(a.Events)
	return a
}

func cloneAlarms(a AlarmConfiguration) AlarmConfiguration {
	a.Alarms = cloneSlice(a.Alarms)
	return a
}

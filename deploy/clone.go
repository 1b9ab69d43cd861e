package deploy

import (
	"maps"
	"slices"

	"github.com/fleetdeploy/fleetdeploy/revision"
	"github.com/fleetdeploy/fleetdeploy/target"
)

// Deep copies. Stores copy records in and out with these, so that no
// caller can change stored state through a pointer, slice or map it holds.
// Empty slices and maps may become nil.

// Clone returns a deep copy of g.
func (g Group) Clone() Group {
	g.Selector = g.Selector.Clone()
	g.ECSServices = cloneSlice(g.ECSServices)
	g.LoadBalancerInfo = g.LoadBalancerInfo.Clone()
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
	d.Revision = d.Revision.Clone()
	d.PreviousRevision = cloneLocationPtr(d.PreviousRevision)
	d.Config = d.Config.Clone()
	d.LoadBalancerInfo = d.LoadBalancerInfo.Clone()
	d.TargetInstances = d.TargetInstances.Clone()
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
	d.HookExecutions = cloneSlice(d.HookExecutions)
	d.Progress.Ending = clonePtr(d.Progress.Ending)
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

func cloneLocationPtr(l *revision.Location) *revision.Location {
	if l == nil {
		return nil
	}
	c := l.Clone()
	return &c
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

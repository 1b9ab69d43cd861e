package deploytest

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/fleetdeploy/fleetdeploy/deploy"
	"github.com/fleetdeploy/fleetdeploy/deploy/plan"
	"github.com/fleetdeploy/fleetdeploy/deploy/plan/plantest"
	"github.com/fleetdeploy/fleetdeploy/health"
	"github.com/fleetdeploy/fleetdeploy/target"
)

// buildTimeline puts a finished simulation's events in their canonical
// order and reads its deployments from the store.
func buildTimeline(ctx context.Context, mem *deploy.MemoryStore, start time.Time, ids []string, evs []deploy.Event, extra []Transition) (*Timeline, error) {
	tl := &Timeline{Start: start}
	rank := map[string]int{}
	for i, id := range ids {
		rank[id] = i + 1
	}
	initial := map[string]map[string]bool{} // deployment → target → healthy at its start
	for _, id := range ids {
		d, err := mem.GetDeployment(ctx, id)
		if err != nil {
			return nil, fmt.Errorf("%w: reading deployment %s: %w", ErrSimulation, id, err)
		}
		sd := SimDeployment{ID: id, Revision: d.Revision, Creator: d.Creator, RollbackOf: d.RollbackInfo.RollbackTriggeringDeploymentID,
			RollbackDeploymentID: d.RollbackInfo.RollbackDeploymentID, Status: d.Status, ErrorInformation: d.ErrorInformation,
			Config: d.Config.Clone(), Type: d.DeploymentStyle.DeploymentType}
		if !d.StartTime.IsZero() {
			sd.Started = d.StartTime.Sub(start)
		}
		if !d.CompleteTime.IsZero() {
			sd.Ended = d.CompleteTime.Sub(start)
			tl.End = max(tl.End, sd.Ended)
		}
		initial[id] = map[string]bool{}
		for t, err := range deploy.AllTargets(ctx, mem, id) {
			if err != nil {
				return nil, fmt.Errorf("%w: reading the targets of %s: %w", ErrSimulation, id, err)
			}
			sd.Targets = append(sd.Targets, t)
			initial[id][t.TargetID] = t.InitialInstanceHealth == health.Healthy
		}
		tl.Deployments = append(tl.Deployments, sd)
	}

	type keyed struct {
		tr        Transition
		rank, grp int
		seq       int // order of the target's (or deployment's) own events
	}
	var all []keyed
	seqs := map[[2]string]int{}
	for _, e := range evs {
		if e.Kind == deploy.EventNotificationFailed {
			continue
		}
		tr := Transition{At: e.Time.Sub(start), Kind: e.Kind, DeploymentID: e.DeploymentID, TargetID: e.TargetID}
		grp := 1
		switch e.Kind {
		case deploy.EventDeploymentStatus:
			tr.Status, tr.ErrorCode = e.Status, e.ErrorInformation.Code
			grp = 0
			if e.Status.Final() {
				grp = 2
			}
		case deploy.EventTargetStatus:
			tr.TargetStatus = e.TargetStatus
		case deploy.EventLifecycle:
			tr.LifecycleEvent, tr.EventStatus = e.LifecycleEvent, e.LifecycleEventStatus
		}
		k := [2]string{e.DeploymentID, e.TargetID}
		all = append(all, keyed{tr: tr, rank: rank[e.DeploymentID], grp: grp, seq: seqs[k]})
		seqs[k]++
	}
	for i, tr := range extra {
		all = append(all, keyed{tr: tr, rank: 0, grp: -1, seq: i}) // before the executor's transitions of the instant
	}
	slices.SortStableFunc(all, func(a, b keyed) int {
		return cmp.Or(cmp.Compare(a.tr.At, b.tr.At), cmp.Compare(a.rank, b.rank), cmp.Compare(a.grp, b.grp),
			cmp.Compare(a.tr.TargetID, b.tr.TargetID), cmp.Compare(a.seq, b.seq))
	})
	for _, k := range all {
		tl.Transitions = append(tl.Transitions, k.tr)
	}
	tl.Samples = samples(tl.Transitions, initial)
	for _, d := range tl.Deployments {
		if vs := plantest.Violations(tl.Schedule(d.ID)); len(vs) > 0 {
			if tl.Violations == nil {
				tl.Violations = map[string][]plantest.Violation{}
			}
			tl.Violations[d.ID] = vs
		}
	}
	return tl, nil
}

// samples counts each deployment's targets in flight and healthy after
// every instant at which one of its targets changed status.
func samples(trs []Transition, initial map[string]map[string]bool) []Sample {
	type state struct {
		healthy  map[string]bool
		inFlight map[string]bool
		n        int
	}
	states := map[string]*state{}
	var out []Sample
	for i, tr := range trs {
		if tr.Kind != deploy.EventTargetStatus {
			continue
		}
		st := states[tr.DeploymentID]
		if st == nil {
			st = &state{healthy: map[string]bool{}, inFlight: map[string]bool{}}
			for id, h := range initial[tr.DeploymentID] {
				if h {
					st.healthy[id] = true
					st.n++
				}
			}
			states[tr.DeploymentID] = st
		}
		switch tr.TargetStatus {
		case target.TargetInProgress:
			st.inFlight[tr.TargetID] = true
			if st.healthy[tr.TargetID] {
				delete(st.healthy, tr.TargetID)
				st.n--
			}
		case target.TargetSucceeded, target.TargetReady:
			delete(st.inFlight, tr.TargetID)
			if !st.healthy[tr.TargetID] {
				st.healthy[tr.TargetID] = true
				st.n++
			}
		case target.TargetFailed:
			delete(st.inFlight, tr.TargetID)
		}
		// One sample per deployment and instant, after its last change.
		last := true
		for _, nx := range trs[i+1:] {
			if nx.At != tr.At {
				break
			}
			if nx.Kind == deploy.EventTargetStatus && nx.DeploymentID == tr.DeploymentID {
				last = false
				break
			}
		}
		if last {
			out = append(out, Sample{At: tr.At, DeploymentID: tr.DeploymentID, InFlight: len(st.inFlight), Healthy: st.n})
		}
	}
	return out
}

// Schedule returns the planner-shaped view of one deployment of the
// simulation: the plan.Input it started from (its configuration, type and
// targets with their health at its start, all Pending) and the
// plan.Schedule the executor actually followed — one step per instant at
// which targets started or ended, the minimum in force, the counts, the
// zones, and the outcome — so that what checks or draws a planner's
// schedule can take a real run. An unknown ID returns zero values.
func (tl *Timeline) Schedule(deploymentID string) (plan.Input, plan.Schedule) {
	d, ok := tl.Deployment(deploymentID)
	if !ok {
		return plan.Input{}, plan.Schedule{}
	}
	in := plan.Input{Config: d.Config.Clone(), Type: d.Type, Rollback: d.Creator == target.CreatorRollback}
	zoneOf := map[string]string{}
	healthy := map[string]bool{}
	zoneN, zoneHealthy := map[string]int{}, map[string]int{}
	for _, t := range d.Targets {
		in.Targets = append(in.Targets, plan.Target{ID: t.TargetID, Zone: t.Target.Zone, Instance: t.InitialInstanceHealth,
			Revision: t.InitialRevisionHealth, Label: t.Label, Status: target.TargetPending})
		zoneOf[t.TargetID] = t.Target.Zone
		zoneN[t.Target.Zone]++
		if t.InitialInstanceHealth == health.Healthy {
			healthy[t.TargetID] = true
			zoneHealthy[t.Target.Zone]++
		}
	}
	var s plan.Schedule
	if m, err := health.ForConfig(d.Config, len(d.Targets)); err == nil {
		s.MinimumHealthy, s.MaxInFlight, s.Arithmetic = m.Required, m.Window, m.Explain()
	}
	s.Status, s.ErrorCode = plan.DeploymentStatus(d.Status), plan.ErrorCode(d.ErrorInformation.Code)
	s.Explanation = d.ErrorInformation.Message
	s.DurationSeconds = plan.Seconds((d.Ended - d.Started).Seconds())
	s.InitialHealthy = len(healthy)
	s.LowestHealthy = s.InitialHealthy
	for _, t := range d.Targets {
		switch t.Status {
		case target.TargetSucceeded, target.TargetReady:
			s.Succeeded++
		case target.TargetFailed:
			s.Failed++
		default:
			s.NotAttempted++
		}
	}
	zones := map[string]*plan.ZoneWindow{}
	var zoneOrder []string
	if zc := d.Config.ZonalConfig; zc != nil {
		for z, n := range zoneN {
			mz, _ := health.PerZone(*zc, n)
			zones[z] = &plan.ZoneWindow{Zone: z, Targets: n, MinimumHealthy: mz, LowestHealthy: zoneHealthy[z], Start: -1}
		}
	}
	inFlight, status := 0, plan.InProgress
	zoneInFlight := map[string]int{}
	var step *plan.ScheduleStep
	for _, tr := range tl.Transitions {
		if tr.DeploymentID != deploymentID {
			continue
		}
		if tr.Kind == deploy.EventDeploymentStatus {
			status = plan.DeploymentStatus(tr.Status)
			continue
		}
		if tr.Kind != deploy.EventTargetStatus {
			continue
		}
		at := plan.Seconds((tr.At - d.Started).Seconds())
		if step == nil || step.At != at {
			s.Steps = append(s.Steps, plan.ScheduleStep{At: at, Phase: plan.PhaseDeploy, Status: status})
			step = &s.Steps[len(s.Steps)-1]
			if len(s.Steps) == 1 { // the first step lists every zone, as plan's do
				for _, z := range slices.Sorted(maps.Keys(zones)) {
					step.Zones = append(step.Zones, plan.ZoneCount{Zone: z, Healthy: zoneHealthy[z], Minimum: zones[z].MinimumHealthy})
				}
			}
		}
		z := zoneOf[tr.TargetID]
		zw := zones[z]
		switch tr.TargetStatus {
		case target.TargetInProgress:
			step.Start = append(step.Start, tr.TargetID)
			step.Zone = z
			inFlight++
			zoneInFlight[z]++
			if healthy[tr.TargetID] {
				delete(healthy, tr.TargetID)
				zoneHealthy[z]--
			}
			if zw != nil && zw.Start < 0 {
				zw.Start = at
				zoneOrder = append(zoneOrder, z)
			}
		case target.TargetSucceeded, target.TargetReady:
			step.Succeeded = append(step.Succeeded, tr.TargetID)
			inFlight--
			zoneInFlight[z]--
			if !healthy[tr.TargetID] {
				healthy[tr.TargetID] = true
				zoneHealthy[z]++
			}
		case target.TargetFailed:
			step.Failed = append(step.Failed, tr.TargetID)
			inFlight--
			zoneInFlight[z]--
		default:
			continue
		}
		step.InFlight, step.Healthy, step.Minimum = inFlight, len(healthy), s.MinimumHealthy
		if zw != nil {
			zc := plan.ZoneCount{Zone: z, InFlight: zoneInFlight[z], Healthy: zoneHealthy[z], Minimum: zw.MinimumHealthy}
			if k := slices.IndexFunc(step.Zones, func(c plan.ZoneCount) bool { return c.Zone == z }); k >= 0 {
				step.Zones[k] = zc
			} else {
				step.Zones = append(step.Zones, zc)
			}
		}
		if zw != nil {
			zw.End = max(zw.End, at)
			zw.LowestHealthy = min(zw.LowestHealthy, zoneHealthy[z])
		}
		s.PeakInFlight = max(s.PeakInFlight, inFlight)
		s.LowestHealthy = min(s.LowestHealthy, len(healthy))
	}
	for i, z := range zoneOrder {
		zw := zones[z]
		if zc := d.Config.ZonalConfig; zc != nil {
			bake := zc.MonitorDuration()
			if i == 0 && zc.FirstZoneMonitorDurationInSeconds != nil {
				bake = time.Duration(*zc.FirstZoneMonitorDurationInSeconds) * time.Second
			}
			if bake > 0 {
				zw.BakeUntil = zw.End + plan.Seconds(bake.Seconds())
			}
		}
		s.Zones = append(s.Zones, *zw)
	}
	return in, s
}

package deploy

import (
	"context"
	"errors"
	"fmt"

	"github.com/fleetdeploy/fleetdeploy/config"
	"github.com/fleetdeploy/fleetdeploy/deploy/plan"
	"github.com/fleetdeploy/fleetdeploy/health"
)

// QueuePolicy says what CreateDeployment does with a deployment whose
// group is busy with another one (Options.Queue). The zero value is
// CodeDeploy's behaviour: the second deployment is refused with an
// *ActiveDeploymentError naming the active one (User Guide, "CodeDeploy
// quotas": one deployment at a time per deployment group).
type QueuePolicy string

// The queue policies.
const (
	// QueueNone refuses a deployment while its group has an active one,
	// as CodeDeploy does. It is the zero value.
	QueueNone QueuePolicy = ""
	// QueueFIFO stores the deployment Queued; the queued deployments of a
	// group start one at a time, oldest first, each when the active one
	// ends.
	QueueFIFO QueuePolicy = "FIFO"
	// QueueSupersede stores the deployment Queued and ends the group's
	// older queued deployments Stopped, with a message naming it: only the
	// newest queued deployment starts when the active one ends, so a late
	// build never overwrites a newer one.
	QueueSupersede QueuePolicy = "SUPERSEDE"
)

// Values returns the queue policies, QueueNone first.
func (QueuePolicy) Values() []QueuePolicy { return []QueuePolicy{QueueNone, QueueFIFO, QueueSupersede} }

// queuedDeployments returns the group's Queued deployments, oldest first
// (the reverse of the store's ListDeployments order, which every handle
// of a store shares).
func queuedDeployments(ctx context.Context, s Store, app, group string) ([]Deployment, error) {
	ds, err := s.ListDeployments(ctx, app, group, StatusQueued)
	if err != nil {
		return nil, err
	}
	for i, j := 0, len(ds)-1; i < j; i, j = i+1, j-1 {
		ds[i], ds[j] = ds[j], ds[i]
	}
	return ds, nil
}

// createQueued stores d under the executor's queue policy: active when the
// group is free and nobody queues before it, Queued otherwise.
func (e *Executor) createQueued(ctx context.Context, d *Deployment) error {
	queued, err := queuedDeployments(ctx, e.store, d.ApplicationName, d.GroupName)
	if err != nil {
		return err
	}
	if len(queued) == 0 {
		err := e.store.CreateDeployment(ctx, d)
		if !errors.Is(err, ErrActiveDeployment) {
			return err
		}
	}
	d.Status = StatusQueued
	return e.store.CreateDeployment(ctx, d)
}

// afterQueued finishes the creation of a deployment stored Queued whose
// targets are stored: with QueueSupersede it stops the older queued
// deployments, naming d; then, when d is first in line and the group is
// free, it takes the slot for d (Created), as the executor that ended the
// active deployment could not while d's targets were being stored.
func (e *Executor) afterQueued(ctx context.Context, d *Deployment) error {
	queued, err := queuedDeployments(ctx, e.store, d.ApplicationName, d.GroupName)
	if err != nil {
		return err
	}
	if e.opts.Queue == QueueSupersede {
		for i := range queued {
			if queued[i].ID == d.ID {
				if err := e.supersede(ctx, e.store, queued[:i], d.ID); err != nil {
					return err
				}
				queued = queued[i:]
				break
			}
		}
	}
	if len(queued) == 0 || queued[0].ID != d.ID {
		return nil
	}
	err = e.startQueued(ctx, e.store, d)
	if errors.Is(err, ErrActiveDeployment) || errors.Is(err, ErrConflict) {
		// The group is busy, or another executor promoted or stopped d.
		fresh, gerr := e.store.GetDeployment(ctx, d.ID)
		if gerr != nil {
			return gerr
		}
		*d = *fresh
		return nil
	}
	return err
}

// supersede ends the queued deployments older Stopped, naming their
// successor. One that left the queue meanwhile (started by another
// executor, or stopped) is left alone.
func (e *Executor) supersede(ctx context.Context, s Store, older []Deployment, successor string) error {
	for i := range older {
		o := &older[i]
		for attempt := 0; ; attempt++ {
			if o.Status != StatusQueued {
				break
			}
			now := e.clk.Now()
			o.Status = StatusStopped
			o.CompleteTime = now
			o.ErrorInformation = ErrorInformation{Code: plan.ManualStop,
				Message: fmt.Sprintf("Superseded by deployment %s, queued after it; this deployment never started.", successor)}
			err := s.UpdateDeployment(ctx, o)
			if err == nil {
				e.log.Info("queued deployment superseded", "deployment", o.ID, "successor", successor)
				e.observe(Event{Kind: EventDeploymentStatus, Time: now, DeploymentID: o.ID, ApplicationName: o.ApplicationName,
					GroupName: o.GroupName, Status: StatusStopped, ErrorInformation: o.ErrorInformation})
				break
			}
			if !errors.Is(err, ErrConflict) || attempt == maxConflicts {
				return &DeploymentError{DeploymentID: o.ID, Op: "stopping it, superseded by " + successor, Err: err}
			}
			fresh, err := e.store.GetDeployment(ctx, o.ID)
			if err != nil {
				return &DeploymentError{DeploymentID: o.ID, Op: "reading it", Err: err}
			}
			*o = *fresh
		}
	}
	return nil
}

// startQueued takes the group's active slot for the queued deployment d
// (Queued → Created) through s, after bringing what d took from the group
// when it was created up to date: the revision it replaces, and the
// health its targets start with (a deployment that ran meanwhile changed
// both). It returns an *ActiveDeploymentError when the group is busy and
// ErrConflict when d changed meanwhile; d is then as it was.
func (e *Executor) startQueued(ctx context.Context, s Store, d *Deployment) error {
	group, err := e.store.GetGroup(ctx, d.ApplicationName, d.GroupName)
	if err != nil {
		return err
	}
	if group.ID == d.GroupID && d.ComputePlatform == config.Server {
		ts, err := loadTargets(ctx, s, d.ID, int(d.Overview.Pending))
		if err != nil {
			return err
		}
		recs, err := instancesOf(ctx, e.store, group.ID, len(ts), func(i int) string { return ts[i].TargetID })
		if err != nil {
			return err
		}
		for i := range ts {
			rec := recs[i]
			if rec.TargetID == "" {
				rec = NewInstanceRecord(group.ID, ts[i].TargetID)
			}
			h := rec.Health(group.TargetRevision)
			if !h.Instance.Valid() || ts[i].Target.Unavailable {
				h.Instance = health.Unhealthy
			}
			if h.Instance == ts[i].InitialInstanceHealth && h.Revision == ts[i].InitialRevisionHealth {
				continue
			}
			t := ts[i]
			t.InitialInstanceHealth, t.InitialRevisionHealth = h.Instance, h.Revision
			if err := s.UpdateTarget(ctx, &t); err != nil {
				return err
			}
		}
	}
	c := d.clonePtr()
	c.Status = StatusCreated
	if group.ID == d.GroupID {
		c.PreviousRevision = cloneLocationPtr(group.TargetRevision)
	}
	if err := s.UpdateDeployment(ctx, c); err != nil {
		return err
	}
	*d = *c
	now := e.clk.Now()
	e.log.Info("queued deployment starts", "deployment", d.ID, "application", d.ApplicationName, "group", d.GroupName)
	e.observe(Event{Kind: EventDeploymentStatus, Time: now, DeploymentID: d.ID, ApplicationName: d.ApplicationName,
		GroupName: d.GroupName, Status: StatusCreated})
	return nil
}

// promote starts the group's next queued deployment, if the group is free
// and one is ready: the oldest (QueueSupersede: the newest, the older ones
// then end Stopped). It takes that deployment's lease first, so that one
// executor promotes it, and returns it Created with the lease, for the
// caller to run; nil when nothing was started. A head whose targets are
// still being stored by its creator (for less than LeaseTTL) is left to
// the creator, which starts it itself.
func (e *Executor) promote(ctx context.Context, app, group string) (*Deployment, Lease, error) {
	for attempt := 0; attempt < maxConflicts; attempt++ {
		queued, err := queuedDeployments(ctx, e.store, app, group)
		if err != nil || len(queued) == 0 {
			return nil, Lease{}, err
		}
		head := &queued[0]
		if e.opts.Queue == QueueSupersede {
			head = &queued[len(queued)-1]
			if err := e.supersede(ctx, e.store, queued[:len(queued)-1], head.ID); err != nil {
				return nil, Lease{}, err
			}
		}
		d, l, err := e.start(ctx, head.ID)
		if errors.Is(err, ErrLeaseHeld) || errors.Is(err, ErrAlreadyRunning) {
			return nil, Lease{}, nil // another executor or run promotes it
		}
		if err != nil {
			return nil, Lease{}, err
		}
		if d.Status != StatusQueued {
			e.finish(ctx, l)
			continue // stopped or started meanwhile: look again
		}
		if !e.targetsStored(ctx, d) {
			e.finish(ctx, l)
			return nil, Lease{}, nil
		}
		err = e.startQueued(ctx, e.store.Fenced(l), d)
		switch {
		case err == nil:
			return d, l, nil
		case errors.Is(err, ErrActiveDeployment):
			e.finish(ctx, l)
			return nil, Lease{}, nil
		case errors.Is(err, ErrConflict):
			e.finish(ctx, l)
			continue
		}
		e.finish(ctx, l)
		return nil, Lease{}, &DeploymentError{DeploymentID: d.ID, Op: "starting it after the deployment before it in the queue", Err: err}
	}
	return nil, Lease{}, nil
}

// targetsStored reports whether the queued deployment d can start: its
// creator has stored its targets, or has had LeaseTTL to do so (a creator
// that crashed half way leaves a deployment that Run then fails with
// INTERNAL_ERROR, as after any CreateDeployment that failed half way).
func (e *Executor) targetsStored(ctx context.Context, d *Deployment) bool {
	if e.clk.Now().Sub(d.CreateTime) >= e.opts.LeaseTTL || d.Overview.Pending == 0 {
		return true
	}
	var n int64
	for page, err := range targetPages(ctx, e.store, d.ID, int(d.Overview.Pending)) {
		if err != nil {
			return false
		}
		if n += int64(len(page)); n >= d.Overview.Pending {
			return true
		}
	}
	return false
}

// drainQueue runs the group's queued deployments, one after the other,
// each to the end with its follow-ups, while the group is free and one is
// ready. Promotion happens in whichever executor ends the active
// deployment; Supervise promotes too, for a queue whose active deployment
// ended while no executor was there to do it.
func (e *Executor) drainQueue(ctx context.Context, app, group string) error {
	for ctx.Err() == nil {
		d, l, err := e.promote(ctx, app, group)
		if err != nil || d == nil {
			return err
		}
		if d, err = e.runLeased(ctx, d, l); err != nil {
			return err
		}
		if _, err := e.followUps(ctx, d); err != nil {
			return err
		}
	}
	return nil
}

// superviseQueues looks for groups whose queue waits though no deployment
// is active, and drains each (at most one goroutine per group at once,
// bounded by slots). A group whose last deployment ended less than
// LeaseTTL ago is left to the executor that ended it, which creates the
// follow-ups (a rollback) and starts the queue itself.
func (e *Executor) superviseQueues(ctx context.Context, spawn func(key string, run func())) {
	apps, err := e.store.ListApplications(ctx)
	if err != nil {
		if ctx.Err() == nil {
			e.log.Warn("supervisor: listing applications", "error", err.Error())
		}
		return
	}
	now := e.clk.Now()
	for _, a := range apps {
		groups, err := e.store.ListGroups(ctx, a.Name)
		if err != nil {
			continue
		}
		for _, g := range groups {
			ds, err := e.store.ListDeployments(ctx, a.Name, g.Name)
			if err != nil {
				continue
			}
			waiting, busy := false, false
			for i := range ds {
				switch s := ds[i].Status; {
				case s == StatusQueued:
					waiting = true
				case s.IsActive():
					busy = true
				case now.Sub(ds[i].CompleteTime) < e.opts.LeaseTTL:
					busy = true
				}
			}
			if waiting && !busy {
				app, name := a.Name, g.Name
				spawn("queue "+app+"/"+name, func() {
					if err := e.drainQueue(ctx, app, name); err != nil && ctx.Err() == nil {
						e.log.Warn("supervisor: starting queued deployments", "application", app, "group", name, "error", err.Error())
					}
				})
			}
		}
	}
}

// stopQueued ends a queued deployment Stopped: it never ran, so nothing
// else changes.
func (e *Executor) stopQueued(ctx context.Context, d *Deployment) error {
	now := e.clk.Now()
	d.Status = StatusStopped
	d.CompleteTime = now
	d.ErrorInformation = ErrorInformation{Code: plan.ManualStop, Message: "Stopped on request while queued; the deployment never started."}
	if err := e.store.UpdateDeployment(ctx, d); err != nil {
		return err
	}
	e.log.Info("queued deployment stopped", "deployment", d.ID)
	e.observe(Event{Kind: EventDeploymentStatus, Time: now, DeploymentID: d.ID, ApplicationName: d.ApplicationName,
		GroupName: d.GroupName, Status: StatusStopped, ErrorInformation: d.ErrorInformation})
	return nil
}

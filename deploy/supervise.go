package deploy

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/fleetdeploy/fleetdeploy/deploy/clock"
)

// DefaultSuperviseConcurrency is the default of
// SuperviseOptions.Concurrency.
const DefaultSuperviseConcurrency = 16

// SuperviseOptions are the optional settings of Executor.Supervise.
type SuperviseOptions struct {
	// Interval is how often the store is asked for deployments whose
	// lease expired; the executor's Options.PollInterval when 0.
	Interval time.Duration
	// Concurrency is the most deployments resumed at once;
	// DefaultSuperviseConcurrency when 0.
	Concurrency int
	// Resumed, when set, is called with the result of each Resume the
	// supervisor makes, from the goroutine that made it (concurrently for
	// different deployments). A Resume that lost the race for the lease to
	// another executor is not reported.
	Resumed func(id string, d *Deployment, err error)
}

// Supervise keeps the executor's share of a fleet of executors going: every
// Interval it asks the store for active deployments whose lease has
// expired (LeaseStore.ExpiredLeases) — their executor crashed, was cut off,
// or returned with an error — and resumes each with Resume, at most
// Concurrency at once, until ctx is done. Several executors, in several
// processes, may supervise one store: the lease makes sure exactly one of
// them takes each deployment.
//
// Every Interval it also starts the queued deployments (Options.Queue) of
// groups that have no active deployment and whose last deployment ended
// at least LeaseTTL ago — their executor crashed between the end of that
// deployment and the start of the next — and runs them one after the
// other, each group's queue taking one of the Concurrency slots. Finding
// them lists every group's deployments (ListApplications, ListGroups,
// ListDeployments), once per Interval.
//
// A deployment is taken over at most LeaseTTL after its executor last
// renewed its lease, plus up to Interval until a supervisor looks: with the
// defaults, within 30 s + 10 s of a crash. Deployments that end with an
// error are retried at the next look, once their lease is released.
//
// Supervise returns ctx's error once ctx is done and every Resume it
// started has returned (they get ctx too, and stop resumable). It returns
// another error only for invalid options.
func (e *Executor) Supervise(ctx context.Context, opts ...func(*SuperviseOptions)) error {
	o := SuperviseOptions{Interval: e.opts.PollInterval, Concurrency: DefaultSuperviseConcurrency}
	for _, opt := range opts {
		opt(&o)
	}
	switch {
	case o.Interval <= 0:
		return fmt.Errorf("%w: SuperviseOptions.Interval: must be positive; got %s", ErrInvalidInput, o.Interval)
	case o.Concurrency <= 0:
		return fmt.Errorf("%w: SuperviseOptions.Concurrency: must be positive; got %d", ErrInvalidInput, o.Concurrency)
	}
	var wg sync.WaitGroup
	defer wg.Wait()
	slots := make(chan struct{}, o.Concurrency)
	var qmu sync.Mutex
	draining := map[string]bool{} // groups whose queue a goroutine starts
	spawn := func(key string, run func()) {
		qmu.Lock()
		defer qmu.Unlock()
		if draining[key] {
			return
		}
		select {
		case slots <- struct{}{}:
		default:
			return // no free slot: the next look
		}
		draining[key] = true
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() {
				qmu.Lock()
				delete(draining, key)
				qmu.Unlock()
				<-slots
			}()
			run()
		}()
	}
	for {
		if free := o.Concurrency - len(slots); free > 0 {
			leases, err := e.store.ExpiredLeases(ctx, e.clk.Now(), free)
			if err != nil && ctx.Err() == nil {
				e.log.Warn("supervisor: listing expired leases", "error", err.Error())
			}
			for _, l := range leases {
				if e.runs(l.DeploymentID) {
					continue // a run of this executor that is ending
				}
				slots <- struct{}{}
				wg.Add(1)
				go func(id string) {
					defer wg.Done()
					defer func() { <-slots }()
					e.log.Info("supervisor: resuming a deployment whose lease expired", "deployment", id)
					d, err := e.Resume(ctx, id)
					if errors.Is(err, ErrLeaseHeld) || errors.Is(err, ErrAlreadyRunning) {
						return // another executor took it first
					}
					if err != nil && ctx.Err() == nil {
						e.log.Warn("supervisor: resuming", "deployment", id, "error", err.Error())
					}
					if o.Resumed != nil {
						o.Resumed(id, d, err)
					}
				}(l.DeploymentID)
			}
		}
		e.superviseQueues(ctx, spawn)
		if err := clock.Sleep(ctx, e.clk, o.Interval); err != nil {
			return err
		}
	}
}

// runs reports whether this executor runs deployment id.
func (e *Executor) runs(id string) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	_, ok := e.running[id]
	return ok
}

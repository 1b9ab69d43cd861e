package deploytest

import (
	"context"
	"slices"
	"sync"

	"github.com/fleetdeploy/fleetdeploy/deploy"
	"github.com/fleetdeploy/fleetdeploy/target"
)

// Recorder records what an Executor reports: it is a deploy.Observer and a
// deploy.Notifier. Pass it as Options.Observer and in Options.Notifiers,
// run a deployment, then look at what happened. The zero value is ready to
// use; a Recorder is safe for concurrent use.
type Recorder struct {
	mu            sync.Mutex
	events        []deploy.Event
	notifications []deploy.Notification
	changed       chan struct{}
}

var (
	_ deploy.Observer = (*Recorder)(nil)
	_ deploy.Notifier = (*Recorder)(nil)
)

// Observe implements deploy.Observer.
func (r *Recorder) Observe(e deploy.Event) {
	if e.Diagnostics != nil {
		d := *e.Diagnostics
		e.Diagnostics = &d
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, e)
	r.notifyLocked()
}

// Notify implements deploy.Notifier. It never fails.
func (r *Recorder) Notify(_ context.Context, n deploy.Notification) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.notifications = append(r.notifications, n)
	r.notifyLocked()
	return nil
}

func (r *Recorder) notifyLocked() {
	if r.changed != nil {
		close(r.changed)
		r.changed = nil
	}
}

// Events returns the events observed so far, in order.
func (r *Recorder) Events() []deploy.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.events)
}

// Notifications returns the notifications received so far, in order.
func (r *Recorder) Notifications() []deploy.Notification {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.notifications)
}

// Statuses returns the statuses deployment id went through, in order.
func (r *Recorder) Statuses(id string) []deploy.DeploymentStatus {
	var out []deploy.DeploymentStatus
	for _, e := range r.Events() {
		if e.Kind == deploy.EventDeploymentStatus && e.DeploymentID == id {
			out = append(out, e.Status)
		}
	}
	return out
}

// TargetStatuses returns the statuses target targetID went through in
// deployment id, in order.
func (r *Recorder) TargetStatuses(id, targetID string) []target.TargetStatus {
	var out []target.TargetStatus
	for _, e := range r.Events() {
		if e.Kind == deploy.EventTargetStatus && e.DeploymentID == id && e.TargetID == targetID {
			out = append(out, e.TargetStatus)
		}
	}
	return out
}

// Triggers returns the trigger event types notified for deployment id, in
// order (one per notification: a trigger event sent to two triggers
// appears twice).
func (r *Recorder) Triggers(id string) []deploy.TriggerEventType {
	var out []deploy.TriggerEventType
	for _, n := range r.Notifications() {
		if n.DeploymentID == id {
			out = append(out, n.Event)
		}
	}
	return out
}

// Wait blocks until cond, called with everything recorded so far, returns
// true, or ctx is done (then it returns ctx's error). It lets a test wait
// for a transition — a deployment becoming Ready, a target starting —
// without sleeping. cond is called with the Recorder locked: it must not
// keep the slices or call the Recorder.
func (r *Recorder) Wait(ctx context.Context, cond func(events []deploy.Event, notifications []deploy.Notification) bool) error {
	for {
		r.mu.Lock()
		ok := cond(r.events, r.notifications)
		if r.changed == nil {
			r.changed = make(chan struct{})
		}
		ch := r.changed
		r.mu.Unlock()
		if ok {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

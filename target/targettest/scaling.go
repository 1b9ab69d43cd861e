package targettest

import (
	"context"
	"fmt"
	"sync"

	"github.com/fleetdeploy/fleetdeploy/target"
)

var _ target.ScalingEvents = (*ScalingEvents)(nil)

// ScalingEvents is an in-memory target.ScalingEvents: the test queues
// launch and termination events ([ScalingEvents.Launch],
// [ScalingEvents.Terminate]) and reads back the heartbeats and answers the
// executor sent ([ScalingEvents.Heartbeats], [ScalingEvents.Answer],
// [ScalingEvents.Await]). The zero value is not usable; call
// NewScalingEvents.
type ScalingEvents struct {
	events chan target.ScalingEvent

	mu         sync.Mutex
	n          int
	open       map[string]bool
	heartbeats map[string]int
	answers    map[string]target.ScalingResult
	done       map[string]chan struct{}
}

// NewScalingEvents returns an empty ScalingEvents that queues up to 1024
// events not yet taken.
func NewScalingEvents() *ScalingEvents {
	return &ScalingEvents{events: make(chan target.ScalingEvent, 1024), open: map[string]bool{},
		heartbeats: map[string]int{}, answers: map[string]target.ScalingResult{}, done: map[string]chan struct{}{}}
}

// Launch queues the event of t launching into the deployment group
// app/group and returns it.
func (s *ScalingEvents) Launch(app, group string, t target.Target) target.ScalingEvent {
	return s.push(target.InstanceLaunching, app, group, t)
}

// Terminate queues the event of t terminating out of the deployment group
// app/group and returns it.
func (s *ScalingEvents) Terminate(app, group string, t target.Target) target.ScalingEvent {
	return s.push(target.InstanceTerminating, app, group, t)
}

func (s *ScalingEvents) push(tr target.ScalingTransition, app, group string, t target.Target) target.ScalingEvent {
	s.mu.Lock()
	s.n++
	ev := target.ScalingEvent{ID: fmt.Sprintf("action-%03d", s.n), Transition: tr, Target: t,
		ApplicationName: app, DeploymentGroupName: group}
	s.open[ev.ID] = true
	s.done[ev.ID] = make(chan struct{})
	s.mu.Unlock()
	s.events <- ev
	return ev
}

// NextScalingEvent returns the next queued event, waiting for one until
// ctx is done.
func (s *ScalingEvents) NextScalingEvent(ctx context.Context) (target.ScalingEvent, error) {
	if err := ctx.Err(); err != nil {
		return target.ScalingEvent{}, err
	}
	select {
	case ev := <-s.events:
		return ev, nil
	case <-ctx.Done():
		return target.ScalingEvent{}, ctx.Err()
	}
}

// Heartbeat counts a heartbeat for ev; an event that is not open (never
// queued, or answered) returns an error wrapping target.ErrNotFound.
func (s *ScalingEvents) Heartbeat(ctx context.Context, ev target.ScalingEvent) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.open[ev.ID] {
		return fmt.Errorf("targettest: heartbeat for lifecycle action %s, which is not waiting: %w", ev.ID, target.ErrNotFound)
	}
	s.heartbeats[ev.ID]++
	return nil
}

// Complete records the answer to ev; an event that is not open returns an
// error wrapping target.ErrNotFound, and an answer that is neither CONTINUE
// nor ABANDON one wrapping ErrMisuse.
func (s *ScalingEvents) Complete(ctx context.Context, ev target.ScalingEvent, result target.ScalingResult) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if result != target.ScalingContinue && result != target.ScalingAbandon {
		return fmt.Errorf("targettest: lifecycle action %s answered %q, want CONTINUE or ABANDON: %w", ev.ID, result, ErrMisuse)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.open[ev.ID] {
		return fmt.Errorf("targettest: answer for lifecycle action %s, which is not waiting: %w", ev.ID, target.ErrNotFound)
	}
	s.open[ev.ID] = false
	s.answers[ev.ID] = result
	close(s.done[ev.ID])
	return nil
}

// Heartbeats returns how many heartbeats ev received.
func (s *ScalingEvents) Heartbeats(ev target.ScalingEvent) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.heartbeats[ev.ID]
}

// Answer returns the answer to ev, and false while it has none.
func (s *ScalingEvents) Answer(ev target.ScalingEvent) (target.ScalingResult, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.answers[ev.ID]
	return r, ok
}

// Await waits until ev is answered and returns the answer, or ctx's error.
func (s *ScalingEvents) Await(ctx context.Context, ev target.ScalingEvent) (target.ScalingResult, error) {
	s.mu.Lock()
	done, ok := s.done[ev.ID]
	s.mu.Unlock()
	if !ok {
		return "", fmt.Errorf("targettest: lifecycle action %s was never queued: %w", ev.ID, target.ErrNotFound)
	}
	select {
	case <-done:
		r, _ := s.Answer(ev)
		return r, nil
	case <-ctx.Done():
		return "", ctx.Err()
	}
}

package main

import (
	"strings"
	"sync"

	"github.com/fleetdeploy/fleetdeploy/deploy"
	"github.com/fleetdeploy/fleetdeploy/target"
)

// observer prints the executor's transitions as they happen and keeps
// them for the checks. It is a deploy.Observer: it only prints a line and
// appends to a slice, so it never blocks for long.
type observer struct {
	say func(format string, args ...any)

	mu     sync.Mutex
	events []deploy.Event
	labels map[string]string // deployment ID -> what the story calls it
}

func newObserver(say func(format string, args ...any)) *observer {
	return &observer{say: say, labels: map[string]string{}}
}

// label names deployment id in the output.
func (o *observer) label(id, name string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.labels[id] = name
}

// Observe implements deploy.Observer.
func (o *observer) Observe(e deploy.Event) {
	if e.Kind == deploy.EventDeploymentStatus && e.Status == deploy.StatusCreated {
		return // the story says what it creates; a rollback starts at once
	}
	o.mu.Lock()
	o.events = append(o.events, e)
	name, ok := o.labels[e.DeploymentID]
	if !ok {
		// The story names its deployments once created, before they run;
		// the only others are the executor's automatic rollbacks.
		name = "rollback"
		o.labels[e.DeploymentID] = name
	}
	o.mu.Unlock()
	switch e.Kind {
	case deploy.EventDeploymentStatus:
		line := "  " + e.DeploymentID + " (" + name + ", " + e.GroupName + "): " + string(e.Status)
		if e.ErrorInformation.Code != "" {
			line += " — " + string(e.ErrorInformation.Code) + ": " + firstLine(e.ErrorInformation.Message)
		}
		o.say("%s", line)
	case deploy.EventTargetStatus:
		o.say("    %s %s", e.TargetID, e.TargetStatus)
	case deploy.EventLifecycle:
		if e.LifecycleEventStatus == target.EventFailed {
			msg := ""
			if e.Diagnostics != nil {
				msg = ": " + firstLine(e.Diagnostics.Message)
			}
			o.say("    %s %s failed%s", e.TargetID, e.LifecycleEvent, msg)
		}
	case deploy.EventNotificationFailed:
		o.say("    notification %s of trigger %s failed: %v", e.TriggerEvent, e.TriggerName, e.Err)
	}
}

// lifecycle returns the last transition of lifecycle event ev
// of target id in deployment d to status st, and whether there is one.
func (o *observer) lifecycle(d, id string, ev target.LifecycleEvent, st target.LifecycleEventStatus) (deploy.Event, bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	for j := len(o.events) - 1; j >= 0; j-- {
		e := o.events[j]
		if e.Kind == deploy.EventLifecycle && e.DeploymentID == d && e.TargetID == id && e.LifecycleEvent == ev && e.LifecycleEventStatus == st {
			return e, true
		}
	}
	return deploy.Event{}, false
}

// firstLine returns s up to its first line break.
func firstLine(s string) string {
	l, _, _ := strings.Cut(s, "\n")
	return l
}

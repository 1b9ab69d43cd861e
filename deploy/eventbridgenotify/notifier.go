package eventbridgenotify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/arn"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge/types"

	"github.com/fleetdeploy/fleetdeploy/deploy"
)

// PutEventsAPI is the one Amazon EventBridge operation a Notifier calls.
// *eventbridge.Client implements it.
type PutEventsAPI interface {
	PutEvents(ctx context.Context, in *eventbridge.PutEventsInput, optFns ...func(*eventbridge.Options)) (*eventbridge.PutEventsOutput, error)
}

var _ PutEventsAPI = (*eventbridge.Client)(nil)

// The event source and detail types CodeDeploy uses.
const (
	// DefaultSource is the events' source unless Options.Source names
	// another: a source of fleetdeploy's own, since AWS refuses
	// CodeDeploySource from anyone but CodeDeploy.
	DefaultSource = "fleetdeploy"
	// CodeDeploySource is CodeDeploy's own event source. Real EventBridge
	// refuses it from any other sender; emulators accept it, and rules
	// written for CodeDeploy match it.
	CodeDeploySource = "aws.codedeploy"
	// DeploymentDetailType is the detail type of deployment events.
	DeploymentDetailType = "CodeDeploy Deployment State-change Notification"
	// InstanceDetailType is the detail type of instance events.
	InstanceDetailType = "CodeDeploy Instance State-change Notification"
)

// DefaultEventBus is the event bus events go to unless Options or the
// trigger name another.
const DefaultEventBus = "default"

// Options configures a Notifier.
type Options struct {
	// EventBusName is the name or ARN of the event bus events go to when
	// the trigger's target is not an event bus ARN. Default "default".
	EventBusName string
	// Source is the events' source. Default DefaultSource ("fleetdeploy");
	// CodeDeploySource suits emulators and rules written for CodeDeploy,
	// but AWS itself refuses it (see the package documentation).
	Source string
	// Region is the detail's region and that of the resources' ARNs.
	// Default: the client's region, when the client is an
	// *eventbridge.Client (or has its Options method).
	Region string
	// AccountID is the account of the resources' ARNs. Default: the
	// EventBusName ARN's account; without one, events list no resources.
	AccountID string
	// Partition is the partition of the resources' ARNs. Default "aws".
	Partition string
	// TriggerName, when set, limits the notifications sent to those of
	// the trigger so named; others are left to other notifiers.
	TriggerName string
	// Logger receives a Warn record for each failed PutEvents and a Debug
	// record for each event sent. Default: discarded.
	Logger *slog.Logger
}

// EntryError is the error of a PutEvents entry EventBridge did not accept
// (the call succeeded with FailedEntryCount 1).
type EntryError struct {
	// Code and Message are the entry's ErrorCode and ErrorMessage, e.g.
	// NotAuthorizedForSourceException.
	Code    string
	Message string
}

// Error implements error.
func (e *EntryError) Error() string {
	return fmt.Sprintf("EventBridge refused the event: %s: %s", e.Code, e.Message)
}

// Notifier sends trigger notifications to Amazon EventBridge (see the
// package documentation). It is safe for concurrent use.
type Notifier struct {
	client PutEventsAPI
	opt    Options
}

var _ deploy.Notifier = (*Notifier)(nil)

// New returns a Notifier that puts events through client.
func New(client PutEventsAPI, opts ...func(*Options)) (*Notifier, error) {
	if client == nil {
		return nil, errors.New("eventbridgenotify: New: the EventBridge client is nil")
	}
	var o Options
	for _, f := range opts {
		f(&o)
	}
	if o.EventBusName == "" {
		o.EventBusName = DefaultEventBus
	}
	if o.Source == "" {
		o.Source = DefaultSource
	}
	if o.Partition == "" {
		o.Partition = "aws"
	}
	if o.Region == "" {
		if c, ok := client.(interface{ Options() eventbridge.Options }); ok {
			o.Region = c.Options().Region
		}
	}
	if a, err := arn.Parse(o.EventBusName); err == nil {
		if a.Service != "events" || !strings.HasPrefix(a.Resource, "event-bus/") {
			return nil, fmt.Errorf("eventbridgenotify: New: Options.EventBusName %q is an ARN but not an event bus's (arn:aws:events:REGION:ACCOUNT:event-bus/NAME)", o.EventBusName)
		}
		if o.AccountID == "" {
			o.AccountID = a.AccountID
		}
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return &Notifier{client: client, opt: o}, nil
}

// detail is the detail of CodeDeploy's state-change events.
type detail struct {
	InstanceGroupID string `json:"instanceGroupId"`
	Region          string `json:"region"`
	Application     string `json:"application"`
	DeploymentID    string `json:"deploymentId"`
	State           string `json:"state"`
	DeploymentGroup string `json:"deploymentGroup"`
	InstanceID      string `json:"instanceId,omitempty"`
}

// states maps trigger events to CodeDeploy's EventBridge states; instance
// events are marked.
var states = map[deploy.TriggerEventType]struct {
	state    string
	instance bool
}{
	deploy.TriggerDeploymentStart:   {"START", false},
	deploy.TriggerDeploymentSuccess: {"SUCCESS", false},
	deploy.TriggerDeploymentFailure: {"FAILURE", false},
	deploy.TriggerDeploymentStop:    {"STOP", false},
	deploy.TriggerDeploymentReady:   {"READY", false},
	deploy.TriggerInstanceStart:     {"START", true},
	deploy.TriggerInstanceSuccess:   {"SUCCESS", true},
	deploy.TriggerInstanceFailure:   {"FAILURE", true},
	deploy.TriggerInstanceReady:     {"READY", true},
}

// Notify puts the event CodeDeploy sends for n. It returns nil without
// sending for a DeploymentRollback notification, which has no EventBridge
// state, and for another trigger's when Options.TriggerName is set. A
// failed call or refused entry is logged and returned.
func (s *Notifier) Notify(ctx context.Context, n deploy.Notification) error {
	if s.opt.TriggerName != "" && n.TriggerName != s.opt.TriggerName {
		return nil
	}
	st, ok := states[n.Event]
	if !ok {
		s.opt.Logger.Debug("no EventBridge state for this trigger event: not sent", "event", string(n.Event), "deployment", n.DeploymentID)
		return nil
	}
	bus := s.opt.EventBusName
	if a, err := arn.Parse(n.TriggerTargetArn); err == nil && a.Service == "events" && strings.HasPrefix(a.Resource, "event-bus/") {
		bus = n.TriggerTargetArn
	}
	d := detail{InstanceGroupID: n.GroupID, Region: s.opt.Region, Application: n.ApplicationName,
		DeploymentID: n.DeploymentID, State: st.state, DeploymentGroup: n.GroupName}
	detailType := DeploymentDetailType
	if st.instance {
		d.InstanceID, detailType = n.TargetID, InstanceDetailType
	}
	body, err := json.Marshal(d)
	if err != nil {
		return fmt.Errorf("eventbridgenotify: %s of deployment %s: %w", n.Event, n.DeploymentID, err)
	}
	entry := types.PutEventsRequestEntry{
		Source:       aws.String(s.opt.Source),
		DetailType:   aws.String(detailType),
		Detail:       aws.String(string(body)),
		EventBusName: aws.String(bus),
		Resources:    s.resources(n, st.instance),
	}
	if !n.Time.IsZero() {
		entry.Time = aws.Time(n.Time)
	}
	out, err := s.client.PutEvents(ctx, &eventbridge.PutEventsInput{Entries: []types.PutEventsRequestEntry{entry}})
	if err == nil && out.FailedEntryCount > 0 {
		e := &EntryError{Code: "unknown", Message: "no entry result"}
		if len(out.Entries) > 0 {
			e.Code, e.Message = aws.ToString(out.Entries[0].ErrorCode), aws.ToString(out.Entries[0].ErrorMessage)
		}
		err = e
	}
	if err != nil {
		s.opt.Logger.Warn("EventBridge PutEvents failed", "bus", bus, "trigger", n.TriggerName, "event", string(n.Event),
			"deployment", n.DeploymentID, "target", n.TargetID, "error", err.Error())
		return fmt.Errorf("eventbridgenotify: putting the %s event of deployment %s on event bus %s (trigger %q): %w",
			n.Event, n.DeploymentID, bus, n.TriggerName, err)
	}
	var id string
	if len(out.Entries) > 0 {
		id = aws.ToString(out.Entries[0].EventId)
	}
	s.opt.Logger.Debug("EventBridge event sent", "bus", bus, "event", string(n.Event), "deployment", n.DeploymentID,
		"target", n.TargetID, "eventId", id)
	return nil
}

// resources returns the event's resources: the application's and the
// group's CodeDeploy ARNs, and an EC2 instance's; none without a region
// and an account.
func (s *Notifier) resources(n deploy.Notification, instance bool) []string {
	if s.opt.Region == "" || s.opt.AccountID == "" {
		return nil
	}
	prefix := "arn:" + s.opt.Partition + ":codedeploy:" + s.opt.Region + ":" + s.opt.AccountID + ":"
	r := []string{prefix + "application:" + n.ApplicationName, prefix + "deploymentgroup:" + n.ApplicationName + "/" + n.GroupName}
	if instance && strings.HasPrefix(n.TargetID, "i-") {
		r = append(r, "arn:"+s.opt.Partition+":ec2:"+s.opt.Region+":"+s.opt.AccountID+":instance/"+n.TargetID)
	}
	return r
}

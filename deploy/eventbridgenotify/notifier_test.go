package eventbridgenotify_test

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/smithy-go"

	"github.com/fleetdeploy/fleetdeploy/deploy"
	"github.com/fleetdeploy/fleetdeploy/deploy/eventbridgenotify"
	"github.com/fleetdeploy/fleetdeploy/internal/motoserver"
	"github.com/fleetdeploy/fleetdeploy/internal/notifytest"
	"github.com/fleetdeploy/fleetdeploy/target"
	"github.com/fleetdeploy/fleetdeploy/target/targettest"
)

func TestMain(m *testing.M) { motoserver.Main(m) }

// The detail keys of CodeDeploy's events, as the EventBridge events
// reference for CodeDeploy shows them.
var (
	docDeploymentDetail = []string{"application", "deploymentGroup", "deploymentId", "instanceGroupId", "region", "state"}
	docInstanceDetail   = []string{"application", "deploymentGroup", "deploymentId", "instanceGroupId", "instanceId", "region", "state"}
)

const account = "123456789012" // moto's

// peer is an event bus in moto with a rule that sends every event of
// source fleetdeploy (the default) to an SQS queue.
type peer struct {
	t     *testing.T
	eb    *eventbridge.Client
	queue *notifytest.Queue
	bus   string
}

func newPeer(t *testing.T) *peer {
	t.Helper()
	cfg := motoserver.Config(t)
	ctx := context.Background()
	p := &peer{t: t, eb: eventbridge.NewFromConfig(cfg), queue: notifytest.NewQueue(t, cfg, "events"), bus: motoserver.Name(t, "deploys")}
	if _, err := p.eb.CreateEventBus(ctx, &eventbridge.CreateEventBusInput{Name: aws.String(p.bus)}); err != nil {
		t.Fatal(err)
	}
	rule := motoserver.Name(t, "codedeploy")
	if _, err := p.eb.PutRule(ctx, &eventbridge.PutRuleInput{Name: aws.String(rule), EventBusName: aws.String(p.bus),
		EventPattern: aws.String(`{"source": ["fleetdeploy"]}`)}); err != nil {
		t.Fatal(err)
	}
	if _, err := p.eb.PutTargets(ctx, &eventbridge.PutTargetsInput{Rule: aws.String(rule), EventBusName: aws.String(p.bus),
		Targets: []ebtypes.Target{{Id: aws.String("queue"), Arn: aws.String(p.queue.ARN)}}}); err != nil {
		t.Fatal(err)
	}
	return p
}

// event is an EventBridge event as the SQS target receives it.
type event struct {
	DetailType string         `json:"detail-type"`
	Source     string         `json:"source"`
	Account    string         `json:"account"`
	Region     string         `json:"region"`
	Resources  []string       `json:"resources"`
	Detail     map[string]any `json:"detail"`
}

// drain returns every event in the queue (moto delivers within PutEvents).
func (p *peer) drain() []event {
	p.t.Helper()
	var out []event
	for _, body := range p.queue.Drain() {
		var e event
		if err := json.Unmarshal([]byte(body), &e); err != nil {
			p.t.Fatalf("not an event: %v\n%s", err, body)
		}
		out = append(out, e)
	}
	return out
}

// newWorld is a group "shop/prod" of two EC2 instances (moto takes a few
// hundred milliseconds per event it delivers), rolled back automatically
// when a deployment fails.
func newWorld(t *testing.T, notifier deploy.Notifier) *notifytest.World {
	t.Helper()
	return notifytest.NewWorld(t, notifier, []string{"i-0a1", "i-0b2"}, "eventbridge", func(g *deploy.Group) {
		g.AutoRollbackConfiguration = deploy.AutoRollbackConfiguration{Enabled: true,
			Events: []deploy.AutoRollbackEvent{deploy.AutoRollbackDeploymentFailure}}
	})
}

// summary is an event reduced to what the tests compare.
func summary(e event) string {
	s := e.Detail["deploymentId"].(string) + " " + e.Detail["state"].(string)
	if id, ok := e.Detail["instanceId"].(string); ok {
		s += " " + id
	}
	return s
}

// checkEvent checks an event field by field against the documented shape.
func checkEvent(t *testing.T, e event, groupID string) {
	t.Helper()
	_, instance := e.Detail["instanceId"]
	wantKeys, wantType := docDeploymentDetail, "CodeDeploy Deployment State-change Notification"
	wantRes := []string{"arn:aws:codedeploy:us-east-1:" + account + ":application:shop",
		"arn:aws:codedeploy:us-east-1:" + account + ":deploymentgroup:shop/prod"}
	if instance {
		wantKeys, wantType = docInstanceDetail, "CodeDeploy Instance State-change Notification"
		wantRes = append(wantRes, "arn:aws:ec2:us-east-1:"+account+":instance/"+e.Detail["instanceId"].(string))
	}
	if got := slices.Sorted(maps.Keys(e.Detail)); !slices.Equal(got, wantKeys) {
		t.Errorf("detail keys %v; want %v", got, wantKeys)
	}
	if e.DetailType != wantType || e.Source != eventbridgenotify.DefaultSource || !slices.Equal(e.Resources, wantRes) {
		t.Errorf("detail-type %q source %q resources %v; want %q, %s, %v", e.DetailType, e.Source, e.Resources, wantType, eventbridgenotify.DefaultSource, wantRes)
	}
	for k, v := range map[string]string{"instanceGroupId": groupID, "region": "us-east-1", "application": "shop", "deploymentGroup": "prod"} {
		if e.Detail[k] != v {
			t.Errorf("detail.%s = %#v; want %q", k, e.Detail[k], v)
		}
	}
}

// A real deployment through the executor, then a failing one that is
// rolled back: their events reach a rule's SQS target with CodeDeploy's
// detail types, states and detail.
func TestDeploymentThroughEventBridge(t *testing.T) {
	p := newPeer(t)
	n, err := eventbridgenotify.New(p.eb, func(o *eventbridgenotify.Options) {
		o.EventBusName, o.AccountID = p.bus, account
	})
	if err != nil {
		t.Fatal(err)
	}
	w := newWorld(t, n)
	d := w.Deploy(t, "shop-1.zip")
	if d.Status != deploy.StatusSucceeded {
		t.Fatalf("first deployment %s", d.Status)
	}
	got := p.drain()
	var sums []string
	for _, e := range got {
		checkEvent(t, e, w.Group.ID)
		sums = append(sums, summary(e))
	}
	want := []string{d.ID + " START"}
	for _, id := range []string{"i-0a1", "i-0b2"} {
		want = append(want, d.ID+" START "+id, d.ID+" SUCCESS "+id)
	}
	want = append(want, d.ID+" SUCCESS")
	if len(sums) == 0 || sums[0] != want[0] || sums[len(sums)-1] != want[len(want)-1] ||
		!slices.Equal(slices.Sorted(slices.Values(sums)), slices.Sorted(slices.Values(want))) {
		t.Errorf("events %v; want %v (instances in any order)", sums, want)
	}

	d = w.Deploy(t, "shop-2.zip", func(id string) {
		w.Fleet.OnCall(func(_ context.Context, c targettest.Call) error {
			if c.DeploymentID == id && c.Event == target.ValidateService {
				return errors.New("health check failed")
			}
			return nil
		})
	})
	if d.Status != deploy.StatusFailed || d.RollbackInfo.RollbackDeploymentID == "" {
		t.Fatalf("second deployment %s, rollback %+v", d.Status, d.RollbackInfo)
	}
	states := map[string]int{}
	for _, e := range p.drain() {
		checkEvent(t, e, w.Group.ID)
		if e.Detail["deploymentId"] == d.ID {
			_, inst := e.Detail["instanceId"]
			states[map[bool]string{false: "deployment ", true: "instance "}[inst]+e.Detail["state"].(string)]++
		}
	}
	// No event for DeploymentRollback: the rollback sends its own START.
	if !maps.Equal(states, map[string]int{"deployment START": 1, "instance START": 1, "instance FAILURE": 1, "deployment FAILURE": 1}) {
		t.Errorf("events of the failed deployment %v", states)
	}
}

// Stop and Ready notifications map to STOP and READY; a trigger whose
// target is an event bus ARN sends to that bus; DeploymentRollback and
// other triggers' notifications (Options.TriggerName) send nothing.
func TestStatesBusAndFilter(t *testing.T) {
	p := newPeer(t)
	n, err := eventbridgenotify.New(p.eb, func(o *eventbridgenotify.Options) {
		o.EventBusName = "no-such-bus" // every notification below names p.bus
		o.AccountID, o.TriggerName = account, "eb"
	})
	if err != nil {
		t.Fatal(err)
	}
	busARN := "arn:aws:events:us-east-1:" + account + ":event-bus/" + p.bus
	at := time.Date(2026, 3, 1, 9, 30, 0, 0, time.UTC)
	base := deploy.Notification{TriggerName: "eb", TriggerTargetArn: busARN, Time: at, ApplicationName: "shop", GroupName: "prod",
		GroupID: "9fd2fbef-2157-40d8-91e7-6845af69e2d2", DeploymentID: "d-STATES001"}
	for _, c := range []struct {
		ev       deploy.TriggerEventType
		targetID string
		trigger  string
	}{
		{deploy.TriggerDeploymentStop, "", "eb"},
		{deploy.TriggerDeploymentReady, "", "eb"},
		{deploy.TriggerInstanceReady, "i-0ready", "eb"},
		{deploy.TriggerDeploymentRollback, "", "eb"},
		{deploy.TriggerDeploymentSuccess, "", "another"},
	} {
		x := base
		x.Event, x.TargetID, x.TriggerName = c.ev, c.targetID, c.trigger
		if err := n.Notify(context.Background(), x); err != nil {
			t.Errorf("%s: %v", c.ev, err)
		}
	}
	var sums []string
	for _, e := range p.drain() {
		checkEvent(t, e, base.GroupID)
		sums = append(sums, summary(e))
	}
	if want := []string{"d-STATES001 STOP", "d-STATES001 READY", "d-STATES001 READY i-0ready"}; !slices.Equal(sums, want) {
		t.Errorf("events %v; want %v", sums, want)
	}
}

// A missing event bus fails every PutEvents: each failure is logged by
// the notifier and observed through the executor (the API error reachable
// with errors.As), and the deployment succeeds all the same.
func TestMissingBus(t *testing.T) {
	p := newPeer(t)
	var logs notifytest.LockedBuffer
	n, err := eventbridgenotify.New(p.eb, func(o *eventbridgenotify.Options) {
		o.EventBusName = p.bus + "-gone"
		o.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	})
	if err != nil {
		t.Fatal(err)
	}
	w := newWorld(t, n)
	d := w.Deploy(t, "shop-1.zip")
	if d.Status != deploy.StatusSucceeded {
		t.Fatalf("deployment %s; a failed notification must not change it", d.Status)
	}
	var failures int
	for _, ev := range w.Rec.Events() {
		if ev.Kind != deploy.EventNotificationFailed {
			continue
		}
		failures++
		var api smithy.APIError
		if !errors.As(ev.Err, &api) || api.ErrorCode() != "ResourceNotFoundException" || !strings.Contains(ev.Err.Error(), p.bus+"-gone") {
			t.Errorf("observed error %v; want ResourceNotFoundException reachable with errors.As, naming the bus", ev.Err)
		}
	}
	if failures != 6 {
		t.Errorf("%d failures observed; want 6 (start, 2 instance starts, 2 instance successes, success)", failures)
	}
	if got := strings.Count(logs.String(), "EventBridge PutEvents failed"); got != 6 {
		t.Errorf("%d failures logged; want 6", got)
	}
}

// clearDetailType passes PutEvents on to moto without the entries' detail
// type, which moto (like EventBridge) refuses per entry: the call succeeds
// with FailedEntryCount 1.
type clearDetailType struct{ *eventbridge.Client }

func (c clearDetailType) PutEvents(ctx context.Context, in *eventbridge.PutEventsInput, optFns ...func(*eventbridge.Options)) (*eventbridge.PutEventsOutput, error) {
	for i := range in.Entries {
		in.Entries[i].DetailType = nil
	}
	return c.Client.PutEvents(ctx, in, optFns...)
}

// An entry EventBridge refuses is an error (*EntryError, with the entry's
// code), though the call itself succeeded.
func TestRefusedEntry(t *testing.T) {
	p := newPeer(t)
	n, err := eventbridgenotify.New(clearDetailType{p.eb}, func(o *eventbridgenotify.Options) { o.EventBusName = p.bus })
	if err != nil {
		t.Fatal(err)
	}
	err = n.Notify(context.Background(), deploy.Notification{Event: deploy.TriggerDeploymentStart, DeploymentID: "d-REFUSED01",
		ApplicationName: "shop", GroupName: "prod"})
	var entry *eventbridgenotify.EntryError
	if !errors.As(err, &entry) || entry.Code != "InvalidArgument" || !strings.Contains(err.Error(), "d-REFUSED01") {
		t.Errorf("Notify = %v; want an *EntryError InvalidArgument naming the deployment", err)
	}
	if got := p.drain(); len(got) != 0 {
		t.Errorf("%d events delivered", len(got))
	}
}

func TestNewValidates(t *testing.T) {
	if _, err := eventbridgenotify.New(nil); err == nil || !strings.Contains(err.Error(), "client is nil") {
		t.Errorf("New(nil) = %v", err)
	}
	c := eventbridge.New(eventbridge.Options{Region: "eu-central-1"})
	if _, err := eventbridgenotify.New(c, func(o *eventbridgenotify.Options) {
		o.EventBusName = "arn:aws:sns:us-east-1:123456789012:topic"
	}); err == nil || !strings.Contains(err.Error(), "event bus") {
		t.Errorf("New with an SNS ARN as bus = %v", err)
	}
}

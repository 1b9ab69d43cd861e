package snsnotify_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/smithy-go"

	"github.com/fleetdeploy/fleetdeploy/deploy"
	"github.com/fleetdeploy/fleetdeploy/deploy/snsnotify"
	"github.com/fleetdeploy/fleetdeploy/internal/motoserver"
	"github.com/fleetdeploy/fleetdeploy/internal/notifytest"
	"github.com/fleetdeploy/fleetdeploy/target"
	"github.com/fleetdeploy/fleetdeploy/target/targettest"
)

func TestMain(m *testing.M) { motoserver.Main(m) }

// The keys of the two message shapes on the CodeDeploy User Guide page
// "JSON data formats for CodeDeploy triggers" (errorInformation appears in
// the deployment sample, a failed deployment; it is checked separately).
var (
	docDeploymentKeys = []string{"accountId", "applicationName", "completeTime", "createTime", "deploymentGroupName",
		"deploymentId", "deploymentOverview", "eventTriggerName", "region", "status"}
	docOverviewKeys  = []string{"Failed", "InProgress", "Pending", "Skipped", "Succeeded"}
	docInstanceKeys  = []string{"accountId", "deploymentId", "eventTriggerName", "instanceId", "instanceStatus", "lastUpdatedAt", "lifecycleEvents", "region"}
	docLifecycleKeys = []string{"EndTime", "LifecycleEvent", "LifecycleEventStatus", "StartTime"}
	docErrorKeys     = []string{"ErrorCode", "ErrorMessage"}
	// epochRE is the page's time format: "1446744207.564".
	epochRE = regexp.MustCompile(`^[0-9]+\.[0-9]{3}$`)
	// subjectRE is CodeDeploy's subject line.
	subjectRE = regexp.MustCompile(`^[A-Z_]+: AWS CodeDeploy d-[A-Z0-9]+ in us-east-1 to shop$`)
)

// peer is an SNS topic in moto with an SQS queue subscribed to it (raw
// message delivery off, so each message arrives in its SNS envelope).
type peer struct {
	t     *testing.T
	sns   *sns.Client
	queue *notifytest.Queue
	topic string
}

func newPeer(t *testing.T) *peer {
	t.Helper()
	cfg := motoserver.Config(t)
	ctx := context.Background()
	p := &peer{t: t, sns: sns.NewFromConfig(cfg), queue: notifytest.NewQueue(t, cfg, "inbox")}
	topic, err := p.sns.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String(motoserver.Name(t, "deploys"))})
	if err != nil {
		t.Fatal(err)
	}
	p.topic = aws.ToString(topic.TopicArn)
	if _, err := p.sns.Subscribe(ctx, &sns.SubscribeInput{TopicArn: topic.TopicArn, Protocol: aws.String("sqs"),
		Endpoint: aws.String(p.queue.ARN)}); err != nil {
		t.Fatal(err)
	}
	return p
}

// envelope is an SNS notification as an SQS subscriber receives it.
type envelope struct {
	Type     string
	TopicArn string
	Subject  string
	Message  string
	// body is Message decoded.
	body map[string]any
}

// drain returns every message in the queue (moto delivers to the queue
// within Publish, so all are there when the publishes have returned).
func (p *peer) drain() []envelope {
	p.t.Helper()
	var out []envelope
	for _, body := range p.queue.Drain() {
		var e envelope
		if err := json.Unmarshal([]byte(body), &e); err != nil {
			p.t.Fatalf("SQS body is not an SNS envelope: %v\n%s", err, body)
		}
		if err := json.Unmarshal([]byte(e.Message), &e.body); err != nil {
			p.t.Fatalf("Message is not JSON: %v\n%s", err, e.Message)
		}
		out = append(out, e)
	}
	return out
}

// keys returns the sorted keys of m.
func keys(m map[string]any) []string { return slices.Sorted(maps.Keys(m)) }

// seconds parses an epoch-seconds string of the page's format.
func seconds(t *testing.T, field string, v any) time.Time {
	t.Helper()
	s, ok := v.(string)
	if !ok || !epochRE.MatchString(s) {
		t.Errorf("%s = %#v; want a string like \"1446744207.564\"", field, v)
		return time.Time{}
	}
	sec, _ := strconv.ParseInt(s[:len(s)-4], 10, 64)
	ms, _ := strconv.ParseInt(s[len(s)-3:], 10, 64)
	return time.UnixMilli(sec*1000 + ms)
}

// checkDeployment checks a deployment message field by field against d,
// the deployment as stored.
func checkDeployment(t *testing.T, e envelope, topic, trigger string, d *deploy.Deployment, status deploy.DeploymentStatus, final bool) {
	t.Helper()
	m := e.body
	want := slices.Clone(docDeploymentKeys)
	if d.ErrorInformation.Code != "" && final {
		want = append(want, "errorInformation")
	}
	if d.RollbackInfo != (deploy.RollbackInfo{}) && final {
		want = append(want, "rollbackInformation")
	}
	slices.Sort(want)
	if got := keys(m); !slices.Equal(got, want) {
		t.Errorf("deployment message keys %v; want %v", got, want)
	}
	for k, v := range map[string]string{"region": "us-east-1", "accountId": "123456789012", "eventTriggerName": trigger,
		"applicationName": "shop", "deploymentId": d.ID, "deploymentGroupName": "prod", "status": string(status)} {
		if m[k] != v {
			t.Errorf("%s = %#v; want %q", k, m[k], v)
		}
	}
	if got := seconds(t, "createTime", m["createTime"]); !got.Equal(d.CreateTime.Truncate(time.Millisecond)) {
		t.Errorf("createTime %v; want %v", got, d.CreateTime)
	}
	if final {
		if got := seconds(t, "completeTime", m["completeTime"]); !got.Equal(d.CompleteTime.Truncate(time.Millisecond)) {
			t.Errorf("completeTime %v; want %v", got, d.CompleteTime)
		}
	} else if m["completeTime"] != nil {
		t.Errorf("completeTime %#v before the end; want null", m["completeTime"])
	}
	o, _ := m["deploymentOverview"].(map[string]any)
	if got := keys(o); !slices.Equal(got, docOverviewKeys) {
		t.Errorf("deploymentOverview keys %v; want %v", got, docOverviewKeys)
	}
	if final {
		for k, n := range map[string]int64{"Failed": d.Overview.Failed, "InProgress": d.Overview.InProgress, "Pending": d.Overview.Pending,
			"Skipped": d.Overview.Skipped, "Succeeded": d.Overview.Succeeded} {
			if o[k] != strconv.FormatInt(n, 10) {
				t.Errorf("deploymentOverview.%s = %#v; want %q (a string)", k, o[k], strconv.FormatInt(n, 10))
			}
		}
		if d.ErrorInformation.Code != "" {
			ei, _ := m["errorInformation"].(map[string]any)
			if got := keys(ei); !slices.Equal(got, docErrorKeys) || ei["ErrorCode"] != string(d.ErrorInformation.Code) ||
				ei["ErrorMessage"] != d.ErrorInformation.Message {
				t.Errorf("errorInformation %v; want ErrorCode %s, ErrorMessage %q", ei, d.ErrorInformation.Code, d.ErrorInformation.Message)
			}
		}
	}
	if e.Type != "Notification" || e.TopicArn != topic || !subjectRE.MatchString(e.Subject) ||
		!strings.HasPrefix(e.Subject, strings.ToUpper(string(status))+":") && status != deploy.StatusInProgress {
		t.Errorf("envelope Type %q TopicArn %q Subject %q", e.Type, e.TopicArn, e.Subject)
	}
}

// checkInstance checks an instance message field by field.
func checkInstance(t *testing.T, e envelope, trigger, deploymentID string, rec deploy.DeploymentTarget, status target.TargetStatus) {
	t.Helper()
	m := e.body
	if got := keys(m); !slices.Equal(got, docInstanceKeys) {
		t.Errorf("instance message keys %v; want %v", got, docInstanceKeys)
	}
	for k, v := range map[string]string{"region": "us-east-1", "accountId": "123456789012", "eventTriggerName": trigger,
		"deploymentId": deploymentID, "instanceId": "arn:aws:ec2:us-east-1:123456789012:instance/" + rec.TargetID,
		"instanceStatus": string(status)} {
		if m[k] != v {
			t.Errorf("%s = %#v; want %q", k, m[k], v)
		}
	}
	seconds(t, "lastUpdatedAt", m["lastUpdatedAt"])
	evs, _ := m["lifecycleEvents"].([]any)
	if len(evs) != len(rec.LifecycleEvents) {
		t.Fatalf("%d lifecycleEvents; want %d", len(evs), len(rec.LifecycleEvents))
	}
	for i, v := range evs {
		ev, _ := v.(map[string]any)
		if ev["LifecycleEvent"] != string(rec.LifecycleEvents[i].Name) {
			t.Errorf("lifecycleEvents[%d].LifecycleEvent = %#v; want %s", i, ev["LifecycleEvent"], rec.LifecycleEvents[i].Name)
		}
		if status == target.TargetInProgress {
			continue // the record holds the events' final state
		}
		if got := keys(ev); !slices.Equal(got, docLifecycleKeys) {
			t.Errorf("lifecycleEvents[%d] keys %v; want %v", i, got, docLifecycleKeys)
		}
		if ev["LifecycleEventStatus"] != string(rec.LifecycleEvents[i].Status) {
			t.Errorf("lifecycleEvents[%d].LifecycleEventStatus = %#v; want %s", i, ev["LifecycleEventStatus"], rec.LifecycleEvents[i].Status)
		}
		start, end := seconds(t, "StartTime", ev["StartTime"]), seconds(t, "EndTime", ev["EndTime"])
		if !start.Equal(rec.LifecycleEvents[i].StartTime.Truncate(time.Millisecond)) || !end.Equal(rec.LifecycleEvents[i].EndTime.Truncate(time.Millisecond)) {
			t.Errorf("lifecycleEvents[%d] %v–%v; want %v–%v", i, start, end, rec.LifecycleEvents[i].StartTime, rec.LifecycleEvents[i].EndTime)
		}
	}
}

// newWorld is a group "shop/prod" of three EC2 instances with a trigger
// for every event type to topic.
func newWorld(t *testing.T, topic string, notifier deploy.Notifier, change func(*deploy.Group)) *notifytest.World {
	t.Helper()
	return notifytest.NewWorld(t, notifier, []string{"i-0a1", "i-0b2", "i-0c3"}, topic, change)
}

// byDeployment splits messages by deploymentId and event: the key is the
// deployment ID and either the deployment status or "instance <status>".
func byEvent(es []envelope) map[string][]envelope {
	out := map[string][]envelope{}
	for _, e := range es {
		k := e.body["deploymentId"].(string) + " "
		if s, ok := e.body["instanceStatus"].(string); ok {
			k += "instance " + s
		} else {
			k += e.body["status"].(string)
		}
		out[k] = append(out[k], e)
	}
	return out
}

// A real deployment through the executor publishes CodeDeploy's messages
// for DeploymentStart, InstanceStart, InstanceSuccess and
// DeploymentSuccess; a failing one, rolled back, for InstanceFailure,
// DeploymentRollback and DeploymentFailure. Each is read back from an SQS
// subscription and checked field by field against the documented shape.
func TestDeploymentThroughSNS(t *testing.T) {
	p := newPeer(t)
	n, err := snsnotify.New(p.sns)
	if err != nil {
		t.Fatal(err)
	}
	w := newWorld(t, p.topic, n, func(g *deploy.Group) {
		g.AutoRollbackConfiguration = deploy.AutoRollbackConfiguration{Enabled: true,
			Events: []deploy.AutoRollbackEvent{deploy.AutoRollbackDeploymentFailure}}
	})

	d := w.Deploy(t, "shop-1.zip")
	if d.Status != deploy.StatusSucceeded {
		t.Fatalf("first deployment %s", d.Status)
	}
	got := byEvent(p.drain())
	recs := w.Targets(t, d.ID)
	if len(got[d.ID+" InProgress"]) != 1 || len(got[d.ID+" Succeeded"]) != 1 ||
		len(got[d.ID+" instance InProgress"]) != 3 || len(got[d.ID+" instance Succeeded"]) != 3 || len(got) != 4 {
		t.Fatalf("messages %v; want 1 start, 3 instance starts, 3 instance successes, 1 success", slices.Collect(maps.Keys(got)))
	}
	checkDeployment(t, got[d.ID+" InProgress"][0], p.topic, "everything", d, deploy.StatusInProgress, false)
	if s := got[d.ID+" InProgress"][0].Subject; s != "IN_PROGRESS: AWS CodeDeploy "+d.ID+" in us-east-1 to shop" {
		t.Errorf("DeploymentStart subject %q", s)
	}
	checkDeployment(t, got[d.ID+" Succeeded"][0], p.topic, "everything", d, deploy.StatusSucceeded, true)
	if s := got[d.ID+" Succeeded"][0].Subject; s != "SUCCEEDED: AWS CodeDeploy "+d.ID+" in us-east-1 to shop" {
		t.Errorf("DeploymentSuccess subject %q", s)
	}
	seen := map[string]bool{}
	for _, e := range got[d.ID+" instance Succeeded"] {
		id := strings.TrimPrefix(e.body["instanceId"].(string), "arn:aws:ec2:us-east-1:123456789012:instance/")
		seen[id] = true
		checkInstance(t, e, "everything", d.ID, recs[id], target.TargetSucceeded)
	}
	for _, e := range got[d.ID+" instance InProgress"] {
		id := strings.TrimPrefix(e.body["instanceId"].(string), "arn:aws:ec2:us-east-1:123456789012:instance/")
		checkInstance(t, e, "everything", d.ID, recs[id], target.TargetInProgress)
		evs := e.body["lifecycleEvents"].([]any)
		first, last := evs[0].(map[string]any), evs[len(evs)-1].(map[string]any)
		if first["LifecycleEventStatus"] != "InProgress" || first["EndTime"] != nil || last["LifecycleEventStatus"] != "Pending" || last["StartTime"] != nil {
			t.Errorf("InstanceStart events: first %v, last %v; want the first InProgress without EndTime, the last Pending without times", first, last)
		}
	}
	if len(seen) != 3 {
		t.Errorf("InstanceSuccess for %v; want the three instances", seen)
	}

	// The second revision fails its ValidateService wherever it runs.
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
	got = byEvent(p.drain())
	failed := got[d.ID+" instance Failed"]
	if len(failed) != 1 {
		t.Fatalf("%d InstanceFailure messages; want 1 (OneAtATime stops after the first)", len(failed))
	}
	id := strings.TrimPrefix(failed[0].body["instanceId"].(string), "arn:aws:ec2:us-east-1:123456789012:instance/")
	checkInstance(t, failed[0], "everything", d.ID, w.Targets(t, d.ID)[id], target.TargetFailed)
	if s := failed[0].Subject; s != "FAILED: AWS CodeDeploy "+d.ID+" in us-east-1 to shop" {
		t.Errorf("InstanceFailure subject %q", s)
	}
	// DeploymentRollback and DeploymentFailure both carry status Failed;
	// the rollback's has rollbackInformation.
	var rollback, failure *envelope
	for _, e := range got[d.ID+" Failed"] {
		if _, ok := e.body["rollbackInformation"]; ok && e.body["errorInformation"] == nil {
			rollback = &e
		} else {
			failure = &e
		}
	}
	if rollback == nil || failure == nil || len(got[d.ID+" Failed"]) != 2 {
		t.Fatalf("%d deployment messages with status Failed; want a DeploymentRollback and a DeploymentFailure", len(got[d.ID+" Failed"]))
	}
	checkDeployment(t, *failure, p.topic, "everything", d, deploy.StatusFailed, true)
	ri, _ := rollback.body["rollbackInformation"].(map[string]any)
	if ri["RollbackDeploymentId"] != d.RollbackInfo.RollbackDeploymentID {
		t.Errorf("rollbackInformation %v; want RollbackDeploymentId %s", ri, d.RollbackInfo.RollbackDeploymentID)
	}
	rb := d.RollbackInfo.RollbackDeploymentID
	if len(got[rb+" Succeeded"]) != 1 {
		t.Errorf("no DeploymentSuccess of rollback %s", rb)
	} else if ri, _ := got[rb+" Succeeded"][0].body["rollbackInformation"].(map[string]any); ri["RollbackTriggeringDeploymentId"] != d.ID {
		t.Errorf("rollback's rollbackInformation %v; want RollbackTriggeringDeploymentId %s", ri, d.ID)
	}
}

// DeploymentStop, DeploymentReady and InstanceReady (a stopped deployment,
// a blue/green replacement ready for traffic) have the same shapes.
func TestStopAndReadyMessages(t *testing.T) {
	p := newPeer(t)
	n, err := snsnotify.New(p.sns, func(o *snsnotify.Options) { o.Region, o.AccountID = "eu-west-1", "111122223333" })
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 3, 1, 9, 30, 0, 250e6, time.UTC)
	created := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	base := deploy.Notification{TriggerName: "t", TriggerTargetArn: p.topic, Time: at, ApplicationName: "shop",
		GroupName: "prod", DeploymentID: "d-STOP00001", CreateTime: created}
	stop := base
	stop.Event, stop.Status, stop.CompleteTime = deploy.TriggerDeploymentStop, deploy.StatusStopped, at
	stop.Overview = deploy.DeploymentOverview{Succeeded: 2, Skipped: 3}
	stop.ErrorInformation = deploy.ErrorInformation{Code: "DEPLOYMENT_STOPPED", Message: "stopped by alarm 5xx"}
	ready := base
	ready.Event, ready.Status, ready.Overview = deploy.TriggerDeploymentReady, deploy.StatusReady, deploy.DeploymentOverview{Ready: 4}
	instance := base
	instance.Event, instance.TargetID, instance.TargetStatus = deploy.TriggerInstanceReady, "onprem-web-7", target.TargetReady
	instance.LifecycleEvents = []deploy.LifecycleEventRecord{{Name: target.BeforeBlockTraffic, Status: target.EventSucceeded,
		StartTime: created.Add(time.Second), EndTime: created.Add(1500 * time.Millisecond)}}
	for _, x := range []deploy.Notification{stop, ready, instance} {
		if err := n.Notify(context.Background(), x); err != nil {
			t.Fatal(err)
		}
	}
	got := p.drain()
	if len(got) != 3 {
		t.Fatalf("%d messages; want 3", len(got))
	}
	want := []struct {
		subject string
		body    string
	}{
		{"STOPPED: AWS CodeDeploy d-STOP00001 in eu-west-1 to shop",
			`{"region":"eu-west-1","accountId":"111122223333","eventTriggerName":"t","applicationName":"shop","deploymentId":"d-STOP00001",` +
				`"deploymentGroupName":"prod","createTime":"1772355600.000","completeTime":"1772357400.250",` +
				`"deploymentOverview":{"Failed":"0","InProgress":"0","Pending":"0","Skipped":"3","Succeeded":"2"},"status":"Stopped",` +
				`"errorInformation":{"ErrorCode":"DEPLOYMENT_STOPPED","ErrorMessage":"stopped by alarm 5xx"}}`},
		{"READY: AWS CodeDeploy d-STOP00001 in eu-west-1 to shop",
			`{"region":"eu-west-1","accountId":"111122223333","eventTriggerName":"t","applicationName":"shop","deploymentId":"d-STOP00001",` +
				`"deploymentGroupName":"prod","createTime":"1772355600.000","completeTime":null,` +
				`"deploymentOverview":{"Failed":"0","InProgress":"0","Pending":"0","Skipped":"0","Succeeded":"0"},"status":"Ready"}`},
		{"READY: AWS CodeDeploy d-STOP00001 in eu-west-1 to shop",
			`{"region":"eu-west-1","accountId":"111122223333","eventTriggerName":"t","deploymentId":"d-STOP00001",` +
				`"instanceId":"onprem-web-7","lastUpdatedAt":"1772357400.250","instanceStatus":"Ready",` +
				`"lifecycleEvents":[{"LifecycleEvent":"BeforeBlockTraffic","LifecycleEventStatus":"Succeeded","StartTime":"1772355601.000","EndTime":"1772355601.500"}]}`},
	}
	for i, e := range got {
		var a, b any
		_ = json.Unmarshal([]byte(e.Message), &a)
		_ = json.Unmarshal([]byte(want[i].body), &b)
		ja, _ := json.Marshal(a)
		jb, _ := json.Marshal(b)
		if e.Subject != want[i].subject || !bytes.Equal(ja, jb) {
			t.Errorf("message %d:\n subject %q\n body    %s\nwant\n subject %q\n body    %s", i, e.Subject, e.Message, want[i].subject, want[i].body)
		}
	}
	if s := seconds(t, "createTime", got[0].body["createTime"]); !s.Equal(created) {
		t.Errorf("createTime is %v; want %v", s, created)
	}
}

// A trigger whose topic does not exist: every publish fails, each failure
// is logged by the notifier and observed through the executor (the SNS
// error reachable with errors.As), and the deployment succeeds all the
// same.
func TestMissingTopic(t *testing.T) {
	p := newPeer(t)
	var logs notifytest.LockedBuffer
	n, err := snsnotify.New(p.sns, func(o *snsnotify.Options) {
		o.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	})
	if err != nil {
		t.Fatal(err)
	}
	missing := p.topic + "-gone"
	w := newWorld(t, missing, n, nil)
	d := w.Deploy(t, "shop-1.zip")
	if d.Status != deploy.StatusSucceeded {
		t.Fatalf("deployment %s (%+v); a failed notification must not change it", d.Status, d.ErrorInformation)
	}
	var failures int
	for _, ev := range w.Rec.Events() {
		if ev.Kind != deploy.EventNotificationFailed {
			continue
		}
		failures++
		var api smithy.APIError
		if !errors.As(ev.Err, &api) || api.ErrorCode() != "NotFound" {
			t.Errorf("observed error %v; want the SNS NotFound error reachable with errors.As", ev.Err)
		}
		if ev.TriggerName != "everything" || ev.DeploymentID != d.ID || !strings.Contains(ev.Err.Error(), missing) {
			t.Errorf("event %+v; want trigger everything, deployment %s, an error naming the topic", ev, d.ID)
		}
	}
	if failures != 8 {
		t.Errorf("%d failures observed; want 8 (start, 3 instance starts, 3 instance successes, success)", failures)
	}
	if got := strings.Count(logs.String(), "SNS publish failed"); got != 8 {
		t.Errorf("%d failures logged; want 8:\n%s", got, logs.String())
	}
	if got := p.drain(); len(got) != 0 {
		t.Errorf("%d messages reached the other topic", len(got))
	}
}

// Triggers for other notifiers (not an SNS topic ARN) are left alone:
// nothing is published and nothing fails.
func TestOtherTargetsIgnored(t *testing.T) {
	var calls int
	n, err := snsnotify.New(publishFunc(func(context.Context, *sns.PublishInput, ...func(*sns.Options)) (*sns.PublishOutput, error) {
		calls++
		return &sns.PublishOutput{}, nil
	}))
	if err != nil {
		t.Fatal(err)
	}
	for _, target := range []string{"", "slack://deploys", "arn:aws:events:us-east-1:123456789012:event-bus/default"} {
		if err := n.Notify(context.Background(), deploy.Notification{TriggerTargetArn: target, Event: deploy.TriggerDeploymentStart}); err != nil {
			t.Errorf("%q: %v", target, err)
		}
	}
	if calls != 0 {
		t.Errorf("%d publishes; want none", calls)
	}
}

// A FIFO topic gets the deployment as message group and a deduplication
// ID that differs between messages; the subject stays under 100
// characters.
func TestFIFOAndSubjectLimit(t *testing.T) {
	var ins []*sns.PublishInput
	n, err := snsnotify.New(publishFunc(func(_ context.Context, in *sns.PublishInput, _ ...func(*sns.Options)) (*sns.PublishOutput, error) {
		ins = append(ins, in)
		return &sns.PublishOutput{}, nil
	}))
	if err != nil {
		t.Fatal(err)
	}
	base := deploy.Notification{TriggerTargetArn: "arn:aws:sns:us-east-1:123456789012:deploys.fifo", DeploymentID: "d-FIFO00001",
		ApplicationName: strings.Repeat("a", 100), Status: deploy.StatusInProgress, Event: deploy.TriggerDeploymentStart}
	second := base
	second.Event, second.Status = deploy.TriggerDeploymentSuccess, deploy.StatusSucceeded
	for _, x := range []deploy.Notification{base, second} {
		if err := n.Notify(context.Background(), x); err != nil {
			t.Fatal(err)
		}
	}
	if len(ins) != 2 {
		t.Fatalf("%d publishes", len(ins))
	}
	for _, in := range ins {
		if aws.ToString(in.MessageGroupId) != "d-FIFO00001" || aws.ToString(in.MessageDeduplicationId) == "" {
			t.Errorf("group %q dedup %q", aws.ToString(in.MessageGroupId), aws.ToString(in.MessageDeduplicationId))
		}
		if s := aws.ToString(in.Subject); len(s) != 99 || !strings.HasPrefix(s, "IN_PROGRESS: AWS CodeDeploy d-FIFO00001 in us-east-1 to aaa") &&
			!strings.HasPrefix(s, "SUCCEEDED: AWS CodeDeploy d-FIFO00001 in us-east-1 to aaa") {
			t.Errorf("subject %q (%d characters)", s, len(s))
		}
	}
	if aws.ToString(ins[0].MessageDeduplicationId) == aws.ToString(ins[1].MessageDeduplicationId) {
		t.Error("two messages share a deduplication ID")
	}
}

func TestNewValidates(t *testing.T) {
	if _, err := snsnotify.New(nil); err == nil || !strings.Contains(err.Error(), "client is nil") {
		t.Errorf("New(nil) = %v", err)
	}
	ok := publishFunc(func(context.Context, *sns.PublishInput, ...func(*sns.Options)) (*sns.PublishOutput, error) {
		return nil, nil
	})
	if _, err := snsnotify.New(ok, func(o *snsnotify.Options) { o.AccountID = "acct" }); err == nil || !strings.Contains(err.Error(), "AccountID") {
		t.Errorf("New with a bad account = %v", err)
	}
}

// publishFunc adapts a function to snsnotify.PublishAPI.
type publishFunc func(ctx context.Context, in *sns.PublishInput, optFns ...func(*sns.Options)) (*sns.PublishOutput, error)

func (f publishFunc) Publish(ctx context.Context, in *sns.PublishInput, optFns ...func(*sns.Options)) (*sns.PublishOutput, error) {
	return f(ctx, in, optFns...)
}

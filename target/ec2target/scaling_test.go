package ec2target_test

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	astypes "github.com/aws/aws-sdk-go-v2/service/autoscaling/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/smithy-go"

	"github.com/fleetdeploy/fleetdeploy/deploy/deploytest"
	"github.com/fleetdeploy/fleetdeploy/internal/motoserver"
	"github.com/fleetdeploy/fleetdeploy/internal/notifytest"
	"github.com/fleetdeploy/fleetdeploy/target"
	"github.com/fleetdeploy/fleetdeploy/target/ec2target"
)

// hooks returns the lifecycle hooks of Auto Scaling group name by hook name.
func (e *env) hooks(name string) map[string]astypes.LifecycleHook {
	e.t.Helper()
	out, err := e.asg.DescribeLifecycleHooks(e.ctx, &autoscaling.DescribeLifecycleHooksInput{AutoScalingGroupName: aws.String(name)})
	if err != nil {
		e.t.Fatal(err)
	}
	m := map[string]astypes.LifecycleHook{}
	for _, h := range out.LifecycleHooks {
		m[aws.ToString(h.LifecycleHookName)] = h
	}
	return m
}

// InstallHooks puts the launch hook (ABANDON) and the termination hook
// (CONTINUE) on every Auto Scaling group, notifying the queue with the
// deployment group in the metadata; again, it changes nothing; without
// termination deployments it takes the termination hook away; RemoveHooks
// removes its hooks and only those.
func TestInstallHooks(t *testing.T) {
	e := newEnv(t)
	lt, _ := e.launchTemplate()
	g1, _ := e.group(lt, 1, nil)
	g2, _ := e.group(lt, 1, nil)
	rec := &recordingHooks{Client: e.asg}
	spec := ec2target.HookSpec{ApplicationName: "shop", DeploymentGroupName: "prod", AutoScalingGroups: []string{g1, g2},
		TerminationHookEnabled: true, QueueARN: "arn:aws:sqs:us-east-1:123456789012:hooks", RoleARN: role}
	launch, term := ec2target.HookName("shop", "prod", target.InstanceLaunching), ec2target.HookName("shop", "prod", target.InstanceTerminating)
	if launch == term || !strings.HasPrefix(launch, "fleetdeploy-launch-prod-") || !strings.HasPrefix(term, "fleetdeploy-termination-prod-") {
		t.Fatalf("hook names %q, %q", launch, term)
	}
	if other := ec2target.HookName("other", "prod", target.InstanceLaunching); other == launch {
		t.Errorf("two deployment groups share hook name %q", other)
	}
	// A hook of someone else, which the package must leave alone.
	if _, err := e.asg.PutLifecycleHook(e.ctx, &autoscaling.PutLifecycleHookInput{AutoScalingGroupName: aws.String(g1),
		LifecycleHookName: aws.String("theirs"), LifecycleTransition: aws.String(string(target.InstanceLaunching))}); err != nil {
		t.Fatal(err)
	}
	check := func(group string, want map[string]string) {
		t.Helper()
		got := e.hooks(group)
		if len(got) != len(want)+btoi(group == g1) {
			t.Errorf("group %s has hooks %v; want %v (and theirs on %s)", group, keys(got), want, g1)
		}
		for name, result := range want {
			h, ok := got[name]
			if !ok {
				t.Errorf("group %s lacks hook %s", group, name)
				continue
			}
			tr := target.InstanceLaunching
			if name == term {
				tr = target.InstanceTerminating
			}
			if aws.ToString(h.LifecycleTransition) != string(tr) || aws.ToString(h.DefaultResult) != result || aws.ToInt32(h.HeartbeatTimeout) != 600 {
				t.Errorf("group %s hook %s: %s, %s, %d s", group, name, aws.ToString(h.LifecycleTransition), aws.ToString(h.DefaultResult), aws.ToInt32(h.HeartbeatTimeout))
			}
		}
		if _, ok := got["theirs"]; group == g1 && !ok {
			t.Errorf("their hook on %s is gone", g1)
		}
	}
	for range 2 {
		if err := ec2target.InstallHooks(e.ctx, rec, spec); err != nil {
			t.Fatal(err)
		}
		check(g1, map[string]string{launch: "ABANDON", term: "CONTINUE"})
		check(g2, map[string]string{launch: "ABANDON", term: "CONTINUE"})
	}
	if len(rec.puts) != 8 {
		t.Fatalf("%d PutLifecycleHook calls; want 8", len(rec.puts))
	}
	for _, p := range rec.puts {
		var meta ec2target.HookMetadata
		if err := json.Unmarshal([]byte(aws.ToString(p.NotificationMetadata)), &meta); err != nil || meta != (ec2target.HookMetadata{ApplicationName: "shop", DeploymentGroupName: "prod"}) {
			t.Errorf("metadata %q: %+v, %v", aws.ToString(p.NotificationMetadata), meta, err)
		}
		if aws.ToString(p.NotificationTargetARN) != spec.QueueARN || aws.ToString(p.RoleARN) != role {
			t.Errorf("put %s: target %q, role %q", aws.ToString(p.LifecycleHookName), aws.ToString(p.NotificationTargetARN), aws.ToString(p.RoleARN))
		}
	}

	spec.TerminationHookEnabled = false
	if err := ec2target.InstallHooks(e.ctx, e.asg, spec); err != nil {
		t.Fatal(err)
	}
	check(g1, map[string]string{launch: "ABANDON"})
	check(g2, map[string]string{launch: "ABANDON"})

	if err := ec2target.RemoveHooks(e.ctx, e.asg, "shop", "prod", []string{g1, g2}); err != nil {
		t.Fatal(err)
	}
	check(g1, nil)
	check(g2, nil)
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// An incomplete spec is refused, naming the fields, before any call.
func TestInstallHooksValidates(t *testing.T) {
	err := ec2target.InstallHooks(t.Context(), &recordingHooks{}, ec2target.HookSpec{ApplicationName: "shop", DeploymentGroupName: "prod",
		AutoScalingGroups: []string{"web"}, HeartbeatTimeout: 10 * time.Second})
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{"QueueARN", "RoleARN", "HeartbeatTimeout", "shop/prod"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %s", err, want)
		}
	}
}

// Launch and termination notifications become events of the deployment
// group with the instance as the Lister lists it; test notifications and
// unreadable ones are deleted, the latter reported; Heartbeat and Complete
// send the action's token, hook and group, and Complete deletes the
// notification.
func TestScalingEvents(t *testing.T) {
	w := newHookWorld(t, 2, true)
	w.send(w.testNotification())
	w.send("not json at all")
	w.send(w.notification("tok-foreign", "their-hook", w.instances[0], target.InstanceLaunching, "something of theirs"))
	w.send(`{"LifecycleActionToken":"tok-half","LifecycleTransition":"autoscaling:EC2_INSTANCE_LAUNCHING"}`)
	launch := w.act(target.InstanceLaunching, w.instances[0])
	terminate := w.act(target.InstanceTerminating, w.instances[1])

	desc, err := w.ec2.DescribeInstances(w.ctx, &ec2.DescribeInstancesInput{InstanceIds: w.instances})
	if err != nil {
		t.Fatal(err)
	}
	zones := map[string]string{}
	for _, r := range desc.Reservations {
		for _, i := range r.Instances {
			zones[aws.ToString(i.InstanceId)] = aws.ToString(i.Placement.AvailabilityZone)
		}
	}

	evs := []target.ScalingEvent{w.next(), w.next()}
	for i, want := range []struct {
		token, instance string
		tr              target.ScalingTransition
	}{{launch, w.instances[0], target.InstanceLaunching}, {terminate, w.instances[1], target.InstanceTerminating}} {
		ev := evs[i]
		if ev.ID != want.token || ev.Transition != want.tr || ev.ApplicationName != "shop" || ev.DeploymentGroupName != "prod" {
			t.Errorf("event %d: %+v; want action %s, %s of shop/prod", i, ev, want.token, want.tr)
		}
		tg := ev.Target
		if tg.ID != want.instance || tg.AutoScalingGroup != w.group || tg.Zone == "" || tg.Zone != zones[want.instance] ||
			tg.Tags["env"] != "prod" || tg.Unavailable {
			t.Errorf("event %d target %+v; want %s of %s in %s tagged env=prod", i, tg, want.instance, w.group, zones[want.instance])
		}
	}
	logs := w.logs.String()
	for _, want := range []string{"deleting a test notification", "the body is not a JSON object", "not the deployment group",
		"AutoScalingGroupName, EC2InstanceId missing"} {
		if !strings.Contains(logs, want) {
			t.Errorf("logs lack %q:\n%s", want, logs)
		}
	}
	if n := w.queued(); n != 2 {
		t.Errorf("queue holds %d messages; want the 2 in hand", n)
	}

	if err := w.events.Heartbeat(w.ctx, evs[1]); err != nil {
		t.Fatal(err)
	}
	if err := w.events.Complete(w.ctx, evs[0], target.ScalingContinue); err != nil {
		t.Fatal(err)
	}
	if err := w.events.Complete(w.ctx, evs[1], target.ScalingAbandon); err != nil {
		t.Fatal(err)
	}
	launchHook, termHook := ec2target.HookName("shop", "prod", target.InstanceLaunching), ec2target.HookName("shop", "prod", target.InstanceTerminating)
	want := []lifecycleCall{
		{Op: "heartbeat", Token: launch, Hook: launchHook, Group: w.group}, // taken: is it still waiting?
		{Op: "heartbeat", Token: terminate, Hook: termHook, Group: w.group},
		{Op: "heartbeat", Token: terminate, Hook: termHook, Group: w.group},
		{Op: "complete", Token: launch, Hook: launchHook, Group: w.group, Result: "CONTINUE"},
		{Op: "complete", Token: terminate, Hook: termHook, Group: w.group, Result: "ABANDON"},
	}
	if got := w.lifecycle.Calls(); !slices.Equal(got, want) {
		t.Errorf("lifecycle calls\n%+v\nwant\n%+v", got, want)
	}
	if n := w.queued(); n != 0 {
		t.Errorf("queue holds %d messages after both answers", n)
	}

	// The action is over now.
	if err := w.events.Complete(w.ctx, evs[0], target.ScalingContinue); !errors.Is(err, target.ErrNotFound) {
		t.Errorf("second Complete: %v; want ErrNotFound", err)
	}
	if err := w.events.Heartbeat(w.ctx, evs[0]); !errors.Is(err, target.ErrNotFound) {
		t.Errorf("Heartbeat after Complete: %v; want ErrNotFound", err)
	}
	if err := w.events.Complete(w.ctx, evs[0], "MAYBE"); err == nil || !strings.Contains(err.Error(), "MAYBE") {
		t.Errorf("Complete MAYBE: %v", err)
	}
}

// A notification whose action is over (timed out while it waited in the
// queue) is deleted, not returned; one wrapped by SNS is unwrapped.
func TestScalingEventsSkipsActionsThatAreOver(t *testing.T) {
	w := newHookWorld(t, 1, false)
	hook := ec2target.HookName("shop", "prod", target.InstanceLaunching)
	w.send(w.notification("tok-timed-out", hook, w.instances[0], target.InstanceLaunching, w.metadata()))
	token := w.lifecycle.begin(w.group, hook)
	envelope, err := json.Marshal(map[string]string{"Type": "Notification", "MessageId": "9d6b", "TopicArn": "arn:aws:sns:us-east-1:123456789012:hooks",
		"Message": w.notification(token, hook, w.instances[0], target.InstanceLaunching, w.metadata())})
	if err != nil {
		t.Fatal(err)
	}
	w.send(string(envelope))
	ev := w.next()
	if ev.ID != token || ev.Target.ID != w.instances[0] {
		t.Fatalf("event %+v; want action %s", ev, token)
	}
	if logs := w.logs.String(); !strings.Contains(logs, "lifecycle action that is over") || !strings.Contains(logs, "tok-timed-out") {
		t.Errorf("logs:\n%s", logs)
	}
	if n := w.queued(); n != 1 {
		t.Errorf("queue holds %d messages; want only the one in hand", n)
	}
}

// A notification delivered again while its action is in hand (its
// visibility timed out) is not returned twice; Complete deletes it through
// the newest receipt handle.
func TestScalingEventsRedelivery(t *testing.T) {
	w := newHookWorld(t, 2, false)
	first := w.act(target.InstanceLaunching, w.instances[0])
	ev := w.next()
	if ev.ID != first {
		t.Fatalf("event %+v", ev)
	}
	// The visibility timeout ends: make the message visible again.
	out, err := w.sqs.ReceiveMessage(w.ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(w.queue.URL), VisibilityTimeout: 0})
	if err != nil || len(out.Messages) != 0 {
		t.Fatalf("the message in hand is visible: %v, %v", out, err)
	}
	w.expireAll()
	second := w.act(target.InstanceLaunching, w.instances[1])
	if ev2 := w.next(); ev2.ID != second {
		t.Fatalf("event %+v; want the second action %s, not the first again", ev2, second)
	}
	if !strings.Contains(w.logs.String(), "delivered again") {
		t.Errorf("logs:\n%s", w.logs.String())
	}
	for _, id := range []target.ScalingEvent{ev} {
		if err := w.events.Complete(w.ctx, id, target.ScalingContinue); err != nil {
			t.Fatal(err)
		}
	}
	if n := w.queued(); n != 1 {
		t.Errorf("queue holds %d messages; want the second only", n)
	}
	// SQS deletes a message received twice only through its newest
	// receipt handle (moto takes any): the one left is the second action's.
	if r := w.receipts.taken(); len(r) != 1 {
		t.Errorf("receipt handles not deleted: %d; want 1 (the second action's)", len(r))
	}
}

// expireAll makes the messages the ScalingEvents received visible again, as
// the end of their visibility timeout does.
func (w *hookWorld) expireAll() {
	w.t.Helper()
	for _, r := range w.receipts.taken() {
		if _, err := w.sqs.ChangeMessageVisibility(w.ctx, &sqs.ChangeMessageVisibilityInput{QueueUrl: aws.String(w.queue.URL),
			ReceiptHandle: aws.String(r), VisibilityTimeout: 0}); err != nil {
			w.t.Fatal(err)
		}
	}
}

// NextScalingEvent returns ctx's error when ctx ends while it waits, and
// the failure of the queue otherwise.
func TestScalingEventsWaitAndErrors(t *testing.T) {
	w := newHookWorld(t, 1, false)
	// The wait is on a queue of its own: the server may go on with a long
	// poll whose client gave up, and on the world's queue that poll could
	// take the notification sent below and hide it for the visibility
	// timeout (a CI run waited out its guard so).
	idle, err := ec2target.NewScalingEvents(w.lifecycle, w.sqs, w.ec2, notifytest.NewQueue(t, motoserver.Config(t), "idle").URL)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(w.ctx)
	done := make(chan error, 1)
	go func() {
		_, err := idle.NextScalingEvent(ctx)
		done <- err
	}()
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("NextScalingEvent after cancel: %v", err)
		}
	case <-time.After(guard):
		t.Fatal("NextScalingEvent went on after its context ended")
	}

	gone, err := ec2target.NewScalingEvents(w.lifecycle, w.sqs, w.ec2, w.queue.URL+"-gone")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := gone.NextScalingEvent(w.ctx); err == nil || !strings.Contains(err.Error(), w.queue.URL+"-gone") {
		t.Errorf("NextScalingEvent on a missing queue: %v", err)
	}

	// Auto Scaling refuses the answer: the code says why, and the
	// notification stays for another try.
	w.act(target.InstanceLaunching, w.instances[0])
	ev := w.next()
	for code, want := range map[string]string{"AccessDenied": ec2target.CodeAutoScalingIAMRolePermissions, "Throttling": ec2target.CodeThrottled} {
		w.lifecycle.mu.Lock()
		w.lifecycle.fail = &smithy.GenericAPIError{Code: code, Message: "no"}
		w.lifecycle.mu.Unlock()
		for _, call := range []func() error{
			func() error { return w.events.Complete(w.ctx, ev, target.ScalingContinue) },
			func() error { return w.events.Heartbeat(w.ctx, ev) },
		} {
			err := call()
			var ce *target.CodeError
			if !errors.As(err, &ce) || ce.Code != want || errors.Is(err, target.ErrNotFound) || !strings.Contains(err.Error(), ev.ID) {
				t.Errorf("%s: %v; want code %s naming %s", code, err, want, ev.ID)
			}
		}
	}
	w.lifecycle.mu.Lock()
	w.lifecycle.fail = nil
	w.lifecycle.mu.Unlock()
	if n := w.queued(); n != 1 {
		t.Errorf("queue holds %d messages; the unanswered one must stay", n)
	}
	if err := w.events.Complete(w.ctx, ev, target.ScalingContinue); err != nil {
		t.Fatal(err)
	}
	if n := w.queued(); n != 0 {
		t.Errorf("queue holds %d messages after the answer", n)
	}
}

// NewScalingEvents refuses missing clients, URL and bad options.
func TestNewScalingEventsValidates(t *testing.T) {
	e := newEnv(t)
	w := newLifecycleAutoScaling(e.asg)
	if _, err := ec2target.NewScalingEvents(w, nil, e.ec2, "u"); err == nil {
		t.Error("nil SQS client accepted")
	}
	if _, err := ec2target.NewScalingEvents(w, &sqs.Client{}, e.ec2, ""); err == nil {
		t.Error("empty queue URL accepted")
	}
	for _, fn := range []func(*ec2target.Options){
		func(o *ec2target.Options) { o.QueueWait = 21 * time.Second },
		func(o *ec2target.Options) { o.QueueWait = 1500 * time.Millisecond },
		func(o *ec2target.Options) { o.VisibilityTimeout = -time.Second },
	} {
		if _, err := ec2target.NewScalingEvents(w, &sqs.Client{}, e.ec2, "u", fn); err == nil {
			t.Error("bad option accepted")
		}
	}
}

// A notification that comes back while its action is in hand is skipped
// as long as the action gets heartbeats; once it got none for the
// visibility timeout (its taker stopped without answering), it is taken
// again.
func TestScalingEventsTakeOver(t *testing.T) {
	clk := deploytest.NewFakeClock(time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC))
	w := newHookWorld(t, 2, false, func(o *ec2target.Options) { o.Clock = clk })
	first := w.act(target.InstanceLaunching, w.instances[0])
	ev := w.next()
	if ev.ID != first {
		t.Fatalf("event %+v", ev)
	}
	clk.Advance(10 * time.Minute)
	if err := w.events.Heartbeat(w.ctx, ev); err != nil {
		t.Fatal(err)
	}
	clk.Advance(10 * time.Minute) // 20 min since taken, 10 since the heartbeat
	w.expireAll()
	second := w.act(target.InstanceLaunching, w.instances[1])
	if got := w.next(); got.ID != second {
		t.Fatalf("event %s; want %s: the first got a heartbeat 10 minutes ago", got.ID, second)
	}
	clk.Advance(ec2target.DefaultVisibilityTimeout)
	w.expireAll()
	again := w.next()
	if again.ID != first || again.Target.ID != w.instances[0] {
		t.Fatalf("event %+v; want action %s again", again, first)
	}
	if !strings.Contains(w.logs.String(), "taking again") {
		t.Errorf("logs:\n%s", w.logs.String())
	}
}

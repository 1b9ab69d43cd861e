package ec2target_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/aws/smithy-go"

	"github.com/fleetdeploy/fleetdeploy/internal/motoserver"
	"github.com/fleetdeploy/fleetdeploy/internal/notifytest"
	"github.com/fleetdeploy/fleetdeploy/target"
	"github.com/fleetdeploy/fleetdeploy/target/ec2target"
)

// lifecycleCall is one RecordLifecycleActionHeartbeat or
// CompleteLifecycleAction call the wrapper took.
type lifecycleCall struct {
	Op, Token, Hook, Group, Result string
}

// lifecycleAutoScaling is the real Auto Scaling client of moto with the
// lifecycle actions moto lacks: the test opens an action (what Auto Scaling
// does when an instance enters Pending:Wait or Terminating:Wait), and
// RecordLifecycleActionHeartbeat and CompleteLifecycleAction answer as Auto
// Scaling does — after checking through moto that the hook exists on the
// group — and are recorded.
type lifecycleAutoScaling struct {
	*autoscaling.Client
	mu     sync.Mutex
	open   map[string]lifecycleCall // token → the action's hook and group
	calls  []lifecycleCall
	fail   error              // returned by every lifecycle call when set
	answer chan lifecycleCall // receives each accepted CompleteLifecycleAction
	n      int
}

func newLifecycleAutoScaling(c *autoscaling.Client) *lifecycleAutoScaling {
	return &lifecycleAutoScaling{Client: c, open: map[string]lifecycleCall{}, answer: make(chan lifecycleCall, 16)}
}

// begin opens a lifecycle action of hook on group and returns its token.
func (c *lifecycleAutoScaling) begin(group, hook string) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.n++
	token := fmt.Sprintf("%08d-71d4-4f45-b3a6-%012d", c.n, c.n)
	c.open[token] = lifecycleCall{Token: token, Hook: hook, Group: group}
	return token
}

// Calls returns the lifecycle calls so far.
func (c *lifecycleAutoScaling) Calls() []lifecycleCall {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.calls)
}

// check records the call and returns Auto Scaling's answer to it.
func (c *lifecycleAutoScaling) check(ctx context.Context, call lifecycleCall, complete bool) error {
	c.mu.Lock()
	c.calls = append(c.calls, call)
	fail := c.fail
	c.mu.Unlock()
	if fail != nil {
		return fail
	}
	hooks, err := c.DescribeLifecycleHooks(ctx, &autoscaling.DescribeLifecycleHooksInput{AutoScalingGroupName: aws.String(call.Group),
		LifecycleHookNames: []string{call.Hook}})
	if err != nil {
		return err
	}
	if len(hooks.LifecycleHooks) == 0 {
		return &smithy.GenericAPIError{Code: "ValidationError", Message: fmt.Sprintf("No Lifecycle Hook found with name %s for group %s", call.Hook, call.Group)}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	a, ok := c.open[call.Token]
	if !ok || a.Hook != call.Hook || a.Group != call.Group {
		return &smithy.GenericAPIError{Code: "ValidationError", Message: "No active Lifecycle Action found with token " + call.Token}
	}
	if complete {
		delete(c.open, call.Token)
		c.answer <- call
	}
	return nil
}

func (c *lifecycleAutoScaling) RecordLifecycleActionHeartbeat(ctx context.Context, in *autoscaling.RecordLifecycleActionHeartbeatInput, _ ...func(*autoscaling.Options)) (*autoscaling.RecordLifecycleActionHeartbeatOutput, error) {
	err := c.check(ctx, lifecycleCall{Op: "heartbeat", Token: aws.ToString(in.LifecycleActionToken), Hook: aws.ToString(in.LifecycleHookName),
		Group: aws.ToString(in.AutoScalingGroupName)}, false)
	if err != nil {
		return nil, err
	}
	return &autoscaling.RecordLifecycleActionHeartbeatOutput{}, nil
}

func (c *lifecycleAutoScaling) CompleteLifecycleAction(ctx context.Context, in *autoscaling.CompleteLifecycleActionInput, _ ...func(*autoscaling.Options)) (*autoscaling.CompleteLifecycleActionOutput, error) {
	err := c.check(ctx, lifecycleCall{Op: "complete", Token: aws.ToString(in.LifecycleActionToken), Hook: aws.ToString(in.LifecycleHookName),
		Group: aws.ToString(in.AutoScalingGroupName), Result: aws.ToString(in.LifecycleActionResult)}, true)
	if err != nil {
		return nil, err
	}
	return &autoscaling.CompleteLifecycleActionOutput{}, nil
}

// recordingHooks records the PutLifecycleHook calls, which moto takes but
// does not keep whole (it drops the notification target, role and
// metadata).
type recordingHooks struct {
	*autoscaling.Client
	mu   sync.Mutex
	puts []*autoscaling.PutLifecycleHookInput
}

func (c *recordingHooks) PutLifecycleHook(ctx context.Context, in *autoscaling.PutLifecycleHookInput, optFns ...func(*autoscaling.Options)) (*autoscaling.PutLifecycleHookOutput, error) {
	c.mu.Lock()
	c.puts = append(c.puts, in)
	c.mu.Unlock()
	return c.Client.PutLifecycleHook(ctx, in, optFns...)
}

// hookWorld is an Auto Scaling group with fleetdeploy's hooks for the
// deployment group shop/prod, the queue they notify, and a ScalingEvents
// reading it.
type hookWorld struct {
	*env
	sqs       *sqs.Client
	queue     *notifytest.Queue
	lifecycle *lifecycleAutoScaling
	receipts  *receiptSQS
	events    *ec2target.ScalingEvents
	logs      *notifytest.LockedBuffer
	group     string
	instances []string
	app, dg   string
}

// guard bounds a wait for something that should come at once.
const guard = 30 * time.Second

// role is the IAM role the hooks publish through (moto checks nothing).
const role = "arn:aws:iam::123456789012:role/fleetdeploy-hooks"

func newHookWorld(t *testing.T, instances int32, termination bool, optFns ...func(*ec2target.Options)) *hookWorld {
	t.Helper()
	e := newEnv(t)
	cfg := motoserver.Config(t)
	w := &hookWorld{env: e, sqs: sqs.NewFromConfig(cfg), queue: notifytest.NewQueue(t, cfg, "hooks"),
		lifecycle: newLifecycleAutoScaling(e.asg), logs: &notifytest.LockedBuffer{}, app: "shop", dg: "prod"}
	lt, _ := e.launchTemplate()
	w.group, w.instances = e.group(lt, instances, map[string]string{"env": "prod"})
	if err := ec2target.InstallHooks(e.ctx, e.asg, ec2target.HookSpec{ApplicationName: w.app, DeploymentGroupName: w.dg,
		AutoScalingGroups: []string{w.group}, TerminationHookEnabled: termination, QueueARN: w.queue.ARN, RoleARN: role}); err != nil {
		t.Fatal(err)
	}
	opts := append([]func(*ec2target.Options){func(o *ec2target.Options) {
		o.QueueWait = time.Second
		o.Logger = slog.New(slog.NewTextHandler(w.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}}, optFns...)
	w.receipts = &receiptSQS{Client: w.sqs}
	ev, err := ec2target.NewScalingEvents(w.lifecycle, w.receipts, e.ec2, w.queue.URL, opts...)
	if err != nil {
		t.Fatal(err)
	}
	w.events = ev
	return w
}

// send puts body into the queue, as Auto Scaling does.
func (w *hookWorld) send(body string) {
	w.t.Helper()
	if _, err := w.sqs.SendMessage(w.ctx, &sqs.SendMessageInput{QueueUrl: aws.String(w.queue.URL), MessageBody: aws.String(body)}); err != nil {
		w.t.Fatal(err)
	}
}

// notification returns the lifecycle notification Auto Scaling sends for
// the action token of hook on the world's group for instance (EC2 Auto
// Scaling User Guide, "Configure a notification target for lifecycle
// notifications").
func (w *hookWorld) notification(token, hook, instance string, tr target.ScalingTransition, metadata string) string {
	b, err := json.Marshal(map[string]string{
		"Origin": "EC2", "Destination": "AutoScalingGroup", "AccountId": "123456789012",
		"RequestId": "e5a8b4a7-1c93-4aa7-a2c0-55e4b4f9d0a1", "LifecycleTransition": string(tr),
		"AutoScalingGroupName": w.group, "Service": "AWS Auto Scaling", "Time": "2026-03-01T09:00:00.000Z",
		"EC2InstanceId": instance, "LifecycleActionToken": token, "LifecycleHookName": hook, "NotificationMetadata": metadata,
	})
	if err != nil {
		w.t.Fatal(err)
	}
	return string(b)
}

// metadata is the NotificationMetadata of the world's hooks.
func (w *hookWorld) metadata() string {
	return `{"applicationName":"` + w.app + `","deploymentGroupName":"` + w.dg + `"}`
}

// act opens a lifecycle action of tr for instance on the world's hook and
// sends its notification; it returns the token.
func (w *hookWorld) act(tr target.ScalingTransition, instance string) string {
	w.t.Helper()
	hook := ec2target.HookName(w.app, w.dg, tr)
	token := w.lifecycle.begin(w.group, hook)
	w.send(w.notification(token, hook, instance, tr, w.metadata()))
	return token
}

// testNotification returns the test notification Auto Scaling sends when a
// hook is created.
func (w *hookWorld) testNotification() string {
	return `{"AccountId":"123456789012","RequestId":"4a1a4b57-5e2a-4b6f-8f2f-2b0a7c1f0c11","AutoScalingGroupARN":"arn:aws:autoscaling:us-east-1:123456789012:autoScalingGroup:0b9f:autoScalingGroupName/` +
		w.group + `","AutoScalingGroupName":"` + w.group + `","Service":"AWS Auto Scaling","Event":"autoscaling:TEST_NOTIFICATION","Time":"2026-03-01T09:00:00.000Z"}`
}

// queued returns how many messages the queue holds, visible or not.
func (w *hookWorld) queued() int {
	w.t.Helper()
	out, err := w.sqs.GetQueueAttributes(w.ctx, &sqs.GetQueueAttributesInput{QueueUrl: aws.String(w.queue.URL),
		AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameApproximateNumberOfMessages,
			sqstypes.QueueAttributeNameApproximateNumberOfMessagesNotVisible}})
	if err != nil {
		w.t.Fatal(err)
	}
	n := 0
	for _, k := range []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameApproximateNumberOfMessages,
		sqstypes.QueueAttributeNameApproximateNumberOfMessagesNotVisible} {
		v, err := strconv.Atoi(out.Attributes[string(k)])
		if err != nil {
			w.t.Fatalf("attribute %s: %v", k, err)
		}
		n += v
	}
	return n
}

// next returns the next event.
func (w *hookWorld) next() target.ScalingEvent {
	w.t.Helper()
	ctx, cancel := context.WithTimeout(w.ctx, guard)
	defer cancel()
	ev, err := w.events.NextScalingEvent(ctx)
	if err != nil {
		w.t.Fatal(err)
	}
	return ev
}

// receiptSQS is the real SQS client that remembers the newest receipt
// handle of each message received and not deleted through it, so that a
// test can end their visibility timeout at once and see which handle
// deleted a message.
type receiptSQS struct {
	*sqs.Client
	mu     sync.Mutex
	latest map[string]string // message ID → newest receipt handle
}

func (c *receiptSQS) ReceiveMessage(ctx context.Context, in *sqs.ReceiveMessageInput, optFns ...func(*sqs.Options)) (*sqs.ReceiveMessageOutput, error) {
	out, err := c.Client.ReceiveMessage(ctx, in, optFns...)
	if err == nil {
		c.mu.Lock()
		if c.latest == nil {
			c.latest = map[string]string{}
		}
		for _, m := range out.Messages {
			c.latest[aws.ToString(m.MessageId)] = aws.ToString(m.ReceiptHandle)
		}
		c.mu.Unlock()
	}
	return out, err
}

func (c *receiptSQS) DeleteMessage(ctx context.Context, in *sqs.DeleteMessageInput, optFns ...func(*sqs.Options)) (*sqs.DeleteMessageOutput, error) {
	out, err := c.Client.DeleteMessage(ctx, in, optFns...)
	if err == nil {
		c.mu.Lock()
		for id, r := range c.latest {
			if r == aws.ToString(in.ReceiptHandle) {
				delete(c.latest, id)
			}
		}
		c.mu.Unlock()
	}
	return out, err
}

// taken returns the newest receipt handles of the messages received and
// not deleted through them.
func (c *receiptSQS) taken() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []string
	for _, r := range c.latest {
		out = append(out, r)
	}
	return out
}

package ec2target

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/smithy-go"

	"github.com/fleetdeploy/fleetdeploy/deploy/clock"
	"github.com/fleetdeploy/fleetdeploy/target"
)

// TestNotification is the Event of the test notification Auto Scaling
// sends to a lifecycle hook's notification target when the hook is created
// (EC2 Auto Scaling User Guide, "Configure a notification target for
// lifecycle notifications"). ScalingEvents deletes it.
const TestNotification = "autoscaling:TEST_NOTIFICATION"

// LifecycleClient holds the Auto Scaling operations a ScalingEvents calls;
// a *autoscaling.Client fits.
type LifecycleClient interface {
	RecordLifecycleActionHeartbeat(ctx context.Context, params *autoscaling.RecordLifecycleActionHeartbeatInput, optFns ...func(*autoscaling.Options)) (*autoscaling.RecordLifecycleActionHeartbeatOutput, error)
	CompleteLifecycleAction(ctx context.Context, params *autoscaling.CompleteLifecycleActionInput, optFns ...func(*autoscaling.Options)) (*autoscaling.CompleteLifecycleActionOutput, error)
}

// QueueClient holds the SQS operations a ScalingEvents calls; a
// *sqs.Client fits.
type QueueClient interface {
	ReceiveMessage(ctx context.Context, params *sqs.ReceiveMessageInput, optFns ...func(*sqs.Options)) (*sqs.ReceiveMessageOutput, error)
	DeleteMessage(ctx context.Context, params *sqs.DeleteMessageInput, optFns ...func(*sqs.Options)) (*sqs.DeleteMessageOutput, error)
	ChangeMessageVisibility(ctx context.Context, params *sqs.ChangeMessageVisibilityInput, optFns ...func(*sqs.Options)) (*sqs.ChangeMessageVisibilityOutput, error)
}

// ScalingEvents delivers the lifecycle actions of the hooks InstallHooks
// puts on Auto Scaling groups, read from the SQS queue the hooks notify,
// and answers them: a target.ScalingEvents for package deploy's
// Executor.ServeScalingEvents. It is safe for concurrent use; several
// processes may read one queue (SQS gives each message to one of them).
//
// A notification stays in the queue, invisible to other readers
// (Options.VisibilityTimeout, renewed by each Heartbeat), until its
// lifecycle action is completed: Complete deletes it once Auto Scaling took
// the answer, or said the action was over. A process that crashes in the
// middle thus leaves the notification to reappear after the visibility
// timeout, and whichever process takes it then runs the event again if
// the instance is still waiting. Before it returns an event, NextScalingEvent
// records a heartbeat for it: a notification whose action is over (it
// timed out while the queue held it, or was answered by another reader) is
// deleted rather than deployed to. Test notifications and notifications
// that cannot be read are deleted too; the latter are logged at level Warn
// with the reason and the message, as they point at a hook that was not
// put by InstallHooks or a queue that other senders use.
type ScalingEvents struct {
	asg   LifecycleClient
	sqs   QueueClient
	ec2   ec2.DescribeInstancesAPIClient
	queue string
	opts  Options
	log   *slog.Logger
	clk   clock.Clock

	mu       sync.Mutex
	inflight map[string]*action // by lifecycle action token
}

// action is a lifecycle action taken and not yet completed.
type action struct {
	receipt string // the SQS receipt handle of its notification
	hook    string
	asg     string
	// renewed is when the notification was taken or its visibility last
	// renewed, on Options.Clock.
	renewed time.Time
}

var _ target.ScalingEvents = (*ScalingEvents)(nil)

// NewScalingEvents returns a ScalingEvents that reads the lifecycle
// notifications of queueURL through sqsc, answers them through asc, and
// describes their instances through ec2c (a *sqs.Client, a
// *autoscaling.Client and a *ec2.Client fit), with the options optFns set
// (QueueWait, VisibilityTimeout, Logger). It fails when a client or the
// URL is missing or an option is out of range.
func NewScalingEvents(asc LifecycleClient, sqsc QueueClient, ec2c ec2.DescribeInstancesAPIClient, queueURL string, optFns ...func(*Options)) (*ScalingEvents, error) {
	if asc == nil || sqsc == nil || ec2c == nil {
		return nil, errors.New("ec2target: NewScalingEvents needs an Auto Scaling, an SQS and an EC2 client; got nil")
	}
	if queueURL == "" {
		return nil, errors.New("ec2target: NewScalingEvents needs the URL of the SQS queue the lifecycle hooks notify; got an empty one")
	}
	o, err := resolve(Options{}, optFns)
	if err != nil {
		return nil, err
	}
	return &ScalingEvents{asg: asc, sqs: sqsc, ec2: ec2c, queue: queueURL, opts: o, log: o.Logger, clk: o.Clock,
		inflight: map[string]*action{}}, nil
}

// NextScalingEvent waits for the next lifecycle notification of the queue,
// long-polling it (Options.QueueWait per call) until one comes or ctx is
// done, and returns it as a target.ScalingEvent: ID is the
// LifecycleActionToken, Transition the LifecycleTransition, the
// deployment group that of the hook's NotificationMetadata (HookMetadata),
// and Target the instance as Lister.ListTargets lists it (tags, Zone), with
// the notification's Auto Scaling group; an instance EC2 does not know
// (any more) is returned with its ID and group only.
//
// Test notifications, notifications that cannot be read, and those whose
// lifecycle action is over are deleted and skipped (see ScalingEvents); a
// notification whose action this ScalingEvents already returned and has
// not completed (delivered again) is skipped, unless the action got
// neither a heartbeat nor an answer for Options.VisibilityTimeout (on
// Options.Clock): its taker is then taken to have stopped (its context
// ended before the answer), and the event is returned again.
//
// ctx's error is returned when ctx is done. Other errors (the queue cannot
// be read, the instance cannot be described) leave the notification to
// reappear after the visibility timeout, and are *target.CodeError values
// with code AUTO_SCALING_IAM_ROLE_PERMISSIONS or THROTTLED when the service
// said so.
func (s *ScalingEvents) NextScalingEvent(ctx context.Context) (target.ScalingEvent, error) {
	for {
		if err := ctx.Err(); err != nil {
			return target.ScalingEvent{}, err
		}
		out, err := s.sqs.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(s.queue), MaxNumberOfMessages: 1,
			WaitTimeSeconds: int32(s.opts.QueueWait / time.Second), VisibilityTimeout: int32(s.opts.VisibilityTimeout / time.Second)})
		if err != nil {
			if ctx.Err() != nil {
				return target.ScalingEvent{}, ctx.Err()
			}
			return target.ScalingEvent{}, serviceErr(ctx, err, "reading lifecycle notifications from SQS queue %s", s.queue)
		}
		for _, m := range out.Messages {
			ev, ok, err := s.take(ctx, aws.ToString(m.MessageId), aws.ToString(m.Body), aws.ToString(m.ReceiptHandle))
			if err != nil {
				if ctx.Err() != nil {
					return target.ScalingEvent{}, ctx.Err()
				}
				return target.ScalingEvent{}, err
			}
			if ok {
				return ev, nil
			}
		}
	}
}

// take turns one message into an event; ok is false when the message was
// skipped.
func (s *ScalingEvents) take(ctx context.Context, id, body, receipt string) (target.ScalingEvent, bool, error) {
	n, err := parseNotification(body)
	switch {
	case errors.Is(err, errTestNotification):
		s.log.InfoContext(ctx, "ec2target: deleting a test notification", "queue", s.queue, "message", id, "autoScalingGroup", n.AutoScalingGroupName)
		s.delete(ctx, receipt, id)
		return target.ScalingEvent{}, false, nil
	case err != nil:
		s.log.WarnContext(ctx, "ec2target: deleting a lifecycle notification that cannot be read", "queue", s.queue, "message", id,
			"reason", err.Error(), "body", clip(body))
		s.delete(ctx, receipt, id)
		return target.ScalingEvent{}, false, nil
	}
	token := n.LifecycleActionToken
	s.mu.Lock()
	if a, ok := s.inflight[token]; ok {
		if s.clk.Now().Sub(a.renewed) < s.opts.VisibilityTimeout {
			a.receipt = receipt // the newest receipt handle is the one that deletes it
			s.mu.Unlock()
			s.log.DebugContext(ctx, "ec2target: lifecycle notification delivered again while its action is in hand", "action", token, "message", id)
			return target.ScalingEvent{}, false, nil
		}
		// No heartbeat for a whole visibility timeout: whoever took it
		// stopped without an answer (its context ended). Take it again.
		delete(s.inflight, token)
		s.log.WarnContext(ctx, "ec2target: taking again a lifecycle action that got no heartbeat nor answer for the visibility timeout",
			"action", token, "instance", n.EC2InstanceId, "since", a.renewed)
	}
	s.mu.Unlock()
	if _, err := s.asg.RecordLifecycleActionHeartbeat(ctx, &autoscaling.RecordLifecycleActionHeartbeatInput{
		AutoScalingGroupName: aws.String(n.AutoScalingGroupName), LifecycleHookName: aws.String(n.LifecycleHookName),
		LifecycleActionToken: aws.String(token)}); err != nil {
		if ctx.Err() != nil {
			return target.ScalingEvent{}, false, ctx.Err()
		}
		if isActionOver(err) {
			s.log.InfoContext(ctx, "ec2target: deleting the notification of a lifecycle action that is over", "action", token,
				"instance", n.EC2InstanceId, "autoScalingGroup", n.AutoScalingGroupName, "reason", err.Error())
			s.delete(ctx, receipt, id)
			return target.ScalingEvent{}, false, nil
		}
		// The action may well be waiting: the executor's heartbeats and
		// answer will tell.
		s.log.WarnContext(ctx, "ec2target: recording the first heartbeat of a lifecycle action failed", "action", token,
			"instance", n.EC2InstanceId, "error", err.Error())
	}
	t, err := s.instance(ctx, n.EC2InstanceId)
	if err != nil {
		return target.ScalingEvent{}, false, err
	}
	t.AutoScalingGroup = n.AutoScalingGroupName
	s.mu.Lock()
	s.inflight[token] = &action{receipt: receipt, hook: n.LifecycleHookName, asg: n.AutoScalingGroupName, renewed: s.clk.Now()}
	s.mu.Unlock()
	return target.ScalingEvent{ID: token, Transition: target.ScalingTransition(n.LifecycleTransition), Target: t,
		ApplicationName: n.meta.ApplicationName, DeploymentGroupName: n.meta.DeploymentGroupName}, true, nil
}

// instance describes instance id as the Lister lists it, whatever its state.
func (s *ScalingEvents) instance(ctx context.Context, id string) (target.Target, error) {
	out, err := s.ec2.DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{id}})
	if isNotFound(err) {
		s.log.WarnContext(ctx, "ec2target: EC2 does not know the instance of a lifecycle notification", "instance", id, "error", err.Error())
		return target.Target{ID: id}, nil
	}
	if err != nil {
		return target.Target{}, serviceErr(ctx, err, "describing instance %s of a lifecycle notification", id)
	}
	for _, r := range out.Reservations {
		for i := range r.Instances {
			if aws.ToString(r.Instances[i].InstanceId) == id {
				return instanceTarget(&r.Instances[i]), nil
			}
		}
	}
	return target.Target{ID: id}, nil
}

// Heartbeat records a heartbeat for ev's lifecycle action
// (RecordLifecycleActionHeartbeat), so that its instance waits another
// heartbeat timeout, and keeps its notification invisible for another
// Options.VisibilityTimeout. An action that is over returns an error
// wrapping target.ErrNotFound (and its notification is deleted).
func (s *ScalingEvents) Heartbeat(ctx context.Context, ev target.ScalingEvent) error {
	a := s.action(ev)
	_, err := s.asg.RecordLifecycleActionHeartbeat(ctx, &autoscaling.RecordLifecycleActionHeartbeatInput{
		AutoScalingGroupName: aws.String(a.asg), LifecycleHookName: aws.String(a.hook), LifecycleActionToken: aws.String(ev.ID)})
	if err != nil {
		if ctx.Err() == nil && isActionOver(err) {
			s.finish(ctx, ev.ID)
			return fmt.Errorf("ec2target: heartbeat for lifecycle action %s of instance %s (hook %s of Auto Scaling group %s): the action is over: %w: %w",
				ev.ID, ev.Target.ID, a.hook, a.asg, target.ErrNotFound, err)
		}
		return serviceErr(ctx, err, "recording a heartbeat for lifecycle action %s of instance %s (hook %s of Auto Scaling group %s)",
			ev.ID, ev.Target.ID, a.hook, a.asg)
	}
	if a.receipt != "" {
		if _, err := s.sqs.ChangeMessageVisibility(ctx, &sqs.ChangeMessageVisibilityInput{QueueUrl: aws.String(s.queue),
			ReceiptHandle: aws.String(a.receipt), VisibilityTimeout: int32(s.opts.VisibilityTimeout / time.Second)}); err != nil {
			// The notification may come back while the action is in hand;
			// NextScalingEvent then skips it.
			s.log.WarnContext(ctx, "ec2target: keeping a lifecycle notification invisible failed", "action", ev.ID, "queue", s.queue, "error", err.Error())
		} else {
			s.mu.Lock()
			if a, ok := s.inflight[ev.ID]; ok {
				a.renewed = s.clk.Now()
			}
			s.mu.Unlock()
		}
	}
	return nil
}

// Complete answers ev's lifecycle action with result
// (CompleteLifecycleAction with its token) and then deletes its
// notification. An action that is over returns an error wrapping
// target.ErrNotFound (its notification is deleted too); another failure
// keeps the notification, and Complete may be called again. A result other
// than CONTINUE or ABANDON is an error.
func (s *ScalingEvents) Complete(ctx context.Context, ev target.ScalingEvent, result target.ScalingResult) error {
	if !slices.Contains(result.Values(), result) {
		return fmt.Errorf("ec2target: answer to lifecycle action %s must be one of %v; got %q", ev.ID, result.Values(), result)
	}
	a := s.action(ev)
	_, err := s.asg.CompleteLifecycleAction(ctx, &autoscaling.CompleteLifecycleActionInput{
		AutoScalingGroupName: aws.String(a.asg), LifecycleHookName: aws.String(a.hook),
		LifecycleActionToken: aws.String(ev.ID), LifecycleActionResult: aws.String(string(result))})
	if err != nil {
		if ctx.Err() == nil && isActionOver(err) {
			s.finish(ctx, ev.ID)
			return fmt.Errorf("ec2target: answering %s to lifecycle action %s of instance %s (hook %s of Auto Scaling group %s): the action is over: %w: %w",
				result, ev.ID, ev.Target.ID, a.hook, a.asg, target.ErrNotFound, err)
		}
		return serviceErr(ctx, err, "answering %s to lifecycle action %s of instance %s (hook %s of Auto Scaling group %s)",
			result, ev.ID, ev.Target.ID, a.hook, a.asg)
	}
	s.finish(ctx, ev.ID)
	return nil
}

// action returns what is known of ev's lifecycle action: what its
// notification said when this ScalingEvents took it, else what InstallHooks
// names (the hook of ev's deployment group on ev's Auto Scaling group),
// without a receipt handle.
func (s *ScalingEvents) action(ev target.ScalingEvent) action {
	s.mu.Lock()
	defer s.mu.Unlock()
	if a, ok := s.inflight[ev.ID]; ok {
		return *a
	}
	return action{hook: HookName(ev.ApplicationName, ev.DeploymentGroupName, ev.Transition), asg: ev.Target.AutoScalingGroup}
}

// finish forgets the action token and deletes its notification. The
// deletion is not cut short when ctx ends (the caller stopping as soon as
// its answer is given): Auto Scaling has the answer, and a notification
// left behind would only be taken and dropped again later.
func (s *ScalingEvents) finish(ctx context.Context, token string) {
	ctx = context.WithoutCancel(ctx)
	s.mu.Lock()
	a, ok := s.inflight[token]
	delete(s.inflight, token)
	s.mu.Unlock()
	if ok {
		s.delete(ctx, a.receipt, "of lifecycle action "+token)
	}
}

// delete deletes the message with receipt handle receipt. A failure is
// logged: the message comes back after the visibility timeout and is
// skipped then.
func (s *ScalingEvents) delete(ctx context.Context, receipt, what string) {
	if _, err := s.sqs.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(s.queue), ReceiptHandle: aws.String(receipt)}); err != nil {
		s.log.WarnContext(ctx, "ec2target: deleting a lifecycle notification failed; it comes back after the visibility timeout",
			"queue", s.queue, "message", what, "error", err.Error())
	}
}

// notification is a lifecycle notification (EC2 Auto Scaling User Guide,
// "Configure a notification target for lifecycle notifications"), or an
// SNS envelope holding one in Message.
type notification struct {
	Event                string `json:"Event"`
	LifecycleActionToken string `json:"LifecycleActionToken"`
	LifecycleHookName    string `json:"LifecycleHookName"`
	AutoScalingGroupName string `json:"AutoScalingGroupName"`
	EC2InstanceId        string `json:"EC2InstanceId"`
	LifecycleTransition  string `json:"LifecycleTransition"`
	NotificationMetadata string `json:"NotificationMetadata"`
	// Type and Message are those of an SNS envelope (a topic notified, the
	// queue subscribed without raw delivery).
	Type    string `json:"Type"`
	Message string `json:"Message"`

	meta HookMetadata
}

var errTestNotification = errors.New("ec2target: a test notification")

// parseNotification reads a message body; errTestNotification for a test
// notification.
func parseNotification(body string) (notification, error) {
	var n notification
	if err := json.Unmarshal([]byte(body), &n); err != nil {
		return n, fmt.Errorf("the body is not a JSON object: %w", err)
	}
	if n.Type == "Notification" && n.Message != "" && n.LifecycleActionToken == "" && n.Event == "" {
		var inner notification
		if err := json.Unmarshal([]byte(n.Message), &inner); err != nil {
			return n, fmt.Errorf("the Message of the SNS notification is not a JSON object: %w", err)
		}
		n = inner
	}
	if n.Event == TestNotification {
		return n, errTestNotification
	}
	var missing []string
	for _, f := range []struct{ name, v string }{{"LifecycleActionToken", n.LifecycleActionToken}, {"LifecycleHookName", n.LifecycleHookName},
		{"AutoScalingGroupName", n.AutoScalingGroupName}, {"EC2InstanceId", n.EC2InstanceId}, {"LifecycleTransition", n.LifecycleTransition}} {
		if f.v == "" {
			missing = append(missing, f.name)
		}
	}
	if len(missing) > 0 {
		return n, fmt.Errorf("it is not a lifecycle notification: %s missing", strings.Join(missing, ", "))
	}
	if tr := target.ScalingTransition(n.LifecycleTransition); !slices.Contains(tr.Values(), tr) {
		return n, fmt.Errorf("LifecycleTransition must be one of %v; got %q", tr.Values(), tr)
	}
	if err := json.Unmarshal([]byte(n.NotificationMetadata), &n.meta); err != nil || n.meta.ApplicationName == "" || n.meta.DeploymentGroupName == "" {
		return n, fmt.Errorf("hook %s of Auto Scaling group %s carries NotificationMetadata %q, not the deployment group "+
			`({"applicationName":"…","deploymentGroupName":"…"}); put the hook with InstallHooks`,
			n.LifecycleHookName, n.AutoScalingGroupName, n.NotificationMetadata)
	}
	return n, nil
}

// clip shortens a message body for a log line.
func clip(s string) string {
	const max = 512
	if len(s) <= max {
		return s
	}
	return s[:max] + "…"
}

// isActionOver reports whether err is Auto Scaling saying the lifecycle
// action is not waiting (any more): "No active Lifecycle Action found".
func isActionOver(err error) bool {
	var ae smithy.APIError
	return errors.As(err, &ae) && ae.ErrorCode() == "ValidationError" &&
		strings.Contains(strings.ToLower(ae.ErrorMessage()), "no active lifecycle action")
}

// serviceErr wraps the failure of a call made for a lifecycle action: a
// *target.CodeError when the service denied the call
// (AUTO_SCALING_IAM_ROLE_PERMISSIONS) or throttled it (THROTTLED); ctx's
// error as is.
func serviceErr(ctx context.Context, err error, format string, args ...any) error {
	if ctx.Err() != nil && errors.Is(err, ctx.Err()) {
		return err
	}
	e := fmt.Errorf("ec2target: "+format+": %w", append(args, err)...)
	switch c := autoScalingCode(err); c {
	case CodeAutoScalingIAMRolePermissions, CodeThrottled:
		return &target.CodeError{Code: c, Err: e}
	}
	return e
}

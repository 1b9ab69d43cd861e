package ec2target

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"

	"github.com/fleetdeploy/fleetdeploy/target"
)

// DefaultHookHeartbeatTimeout is the HeartbeatTimeout of the lifecycle
// hooks InstallHooks puts when HookSpec.HeartbeatTimeout is zero: ten
// minutes, twice the interval at which package deploy sends heartbeats
// (deploy.DefaultScalingHeartbeat), so that one lost heartbeat does not
// time the hook out.
const DefaultHookHeartbeatTimeout = 10 * time.Minute

// HookClient holds the Auto Scaling operations InstallHooks and RemoveHooks
// call; a *autoscaling.Client fits.
type HookClient interface {
	PutLifecycleHook(ctx context.Context, params *autoscaling.PutLifecycleHookInput, optFns ...func(*autoscaling.Options)) (*autoscaling.PutLifecycleHookOutput, error)
	DescribeLifecycleHooks(ctx context.Context, params *autoscaling.DescribeLifecycleHooksInput, optFns ...func(*autoscaling.Options)) (*autoscaling.DescribeLifecycleHooksOutput, error)
	DeleteLifecycleHook(ctx context.Context, params *autoscaling.DeleteLifecycleHookInput, optFns ...func(*autoscaling.Options)) (*autoscaling.DeleteLifecycleHookOutput, error)
}

// HookSpec says which lifecycle hooks a deployment group needs on its Auto
// Scaling groups.
type HookSpec struct {
	// ApplicationName and DeploymentGroupName name the deployment group;
	// its hooks' notifications carry them (see HookMetadata), and the
	// hooks are named after them (HookName). Required.
	ApplicationName     string
	DeploymentGroupName string
	// AutoScalingGroups are the Auto Scaling groups of the deployment group
	// (its target.Selector.AutoScalingGroups). Each gets the hooks.
	AutoScalingGroups []string
	// TerminationHookEnabled puts the termination hook too (the deployment
	// group's terminationHookEnabled); when false, a termination hook
	// installed before is removed.
	TerminationHookEnabled bool
	// QueueARN is the ARN of the Amazon SQS queue (or Amazon SNS topic with
	// the queue subscribed) the hooks notify: their NotificationTargetARN.
	// ScalingEvents reads that queue. Required.
	QueueARN string
	// RoleARN is the IAM role Auto Scaling assumes to publish to QueueARN
	// (PutLifecycleHook's RoleARN; the User Guide's "Configure a
	// notification target for lifecycle notifications"). Required.
	RoleARN string
	// HeartbeatTimeout is how long an instance waits for a heartbeat or an
	// answer before the hook applies its default result, 30 s–2 h in whole
	// seconds; 0 is DefaultHookHeartbeatTimeout.
	HeartbeatTimeout time.Duration
}

// HookMetadata is the NotificationMetadata of the hooks InstallHooks puts,
// as JSON: {"applicationName":"…","deploymentGroupName":"…"}. ScalingEvents
// reads the deployment group of each notification from it, so a hook put by
// other means works with ScalingEvents when it carries this metadata.
type HookMetadata struct {
	ApplicationName     string `json:"applicationName"`
	DeploymentGroupName string `json:"deploymentGroupName"`
}

// hookNameMax bounds the deployment group part of a hook name (a hook name
// has at most 255 characters).
const hookNameMax = 100

// HookName returns the name of the lifecycle hook of transition tr that
// InstallHooks puts for the deployment group app/group:
// fleetdeploy-launch-<group>-<hash> or fleetdeploy-termination-<group>-<hash>,
// where <group> is the group's name with characters a hook name may not
// hold replaced by '-' (and cut to 100), and <hash> the first 12 hex digits
// of the SHA-256 of app and group, so that two deployment groups sharing
// an Auto Scaling group (which the User Guide advises against) get hooks
// of their own. The same names always give the same hook name.
func HookName(app, group string, tr target.ScalingTransition) string {
	kind := "launch"
	if tr == target.InstanceTerminating {
		kind = "termination"
	}
	clean := []rune(strings.Map(func(r rune) rune {
		if r < 128 && (r == '-' || r == '_' || r == '/' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			return r
		}
		return '-'
	}, group))
	if len(clean) > hookNameMax {
		clean = clean[:hookNameMax]
	}
	sum := sha256.Sum256([]byte(app + "\x00" + group))
	return "fleetdeploy-" + kind + "-" + string(clean) + "-" + hex.EncodeToString(sum[:6])
}

// Validate checks the fields of s InstallHooks needs.
func (s HookSpec) Validate() error {
	var errs []error
	if s.ApplicationName == "" || s.DeploymentGroupName == "" {
		errs = append(errs, errors.New("ApplicationName and DeploymentGroupName are required: the deployment group the hooks serve"))
	}
	if len(s.AutoScalingGroups) == 0 {
		errs = append(errs, errors.New("AutoScalingGroups is empty: name the deployment group's Auto Scaling groups"))
	}
	if slices.Contains(s.AutoScalingGroups, "") {
		errs = append(errs, errors.New("AutoScalingGroups holds an empty name"))
	}
	if s.QueueARN == "" {
		errs = append(errs, errors.New("QueueARN is required: the SQS queue (or SNS topic) the hooks notify"))
	}
	if s.RoleARN == "" {
		errs = append(errs, errors.New("RoleARN is required: the IAM role that lets Auto Scaling publish to QueueARN"))
	}
	if t := s.HeartbeatTimeout; t != 0 && (t < 30*time.Second || t > 2*time.Hour || t%time.Second != 0) {
		errs = append(errs, fmt.Errorf("HeartbeatTimeout must be whole seconds from 30s to 2h (or 0 for %s); got %s", DefaultHookHeartbeatTimeout, t))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("ec2target: lifecycle hooks of deployment group %s/%s: %w", s.ApplicationName, s.DeploymentGroupName, err)
	}
	return nil
}

// InstallHooks puts the lifecycle hooks of the deployment group s names on
// each of its Auto Scaling groups, as CodeDeploy does for a deployment
// group with Auto Scaling groups (User Guide, "Integrating CodeDeploy with
// Amazon EC2 Auto Scaling"):
//
//   - the launch hook (autoscaling:EC2_INSTANCE_LAUNCHING), DefaultResult
//     ABANDON: an instance nobody answers for is not put in service
//     without the revision;
//   - with s.TerminationHookEnabled, the termination hook
//     (autoscaling:EC2_INSTANCE_TERMINATING), DefaultResult CONTINUE: the
//     instance is terminated in the end whatever happens. Without it, a
//     termination hook put before is deleted.
//
// Each hook is named HookName, notifies s.QueueARN through s.RoleARN, and
// carries the deployment group in its NotificationMetadata (HookMetadata).
// PutLifecycleHook creates or updates, so InstallHooks is idempotent: call
// it whenever the deployment group is created or changed. Auto Scaling
// sends a test notification (autoscaling:TEST_NOTIFICATION) to the queue
// when a hook is created; ScalingEvents skips it.
//
// An invalid s is an error naming the field. Failures of Auto Scaling are
// *target.CodeError values with CodeDeploy's codes
// (AUTO_SCALING_IAM_ROLE_PERMISSIONS, AUTOSCALING_VALIDATION_ERROR for a
// group that does not exist, THROTTLED), naming the Auto Scaling group.
func InstallHooks(ctx context.Context, c HookClient, s HookSpec) error {
	if c == nil {
		return errors.New("ec2target: InstallHooks needs an Auto Scaling client; got nil")
	}
	if err := s.Validate(); err != nil {
		return err
	}
	timeout := s.HeartbeatTimeout
	if timeout == 0 {
		timeout = DefaultHookHeartbeatTimeout
	}
	meta, err := json.Marshal(HookMetadata{ApplicationName: s.ApplicationName, DeploymentGroupName: s.DeploymentGroupName})
	if err != nil {
		return fmt.Errorf("ec2target: encoding the hook metadata of deployment group %s/%s: %w", s.ApplicationName, s.DeploymentGroupName, err)
	}
	put := func(asg string, tr target.ScalingTransition, result target.ScalingResult) error {
		name := HookName(s.ApplicationName, s.DeploymentGroupName, tr)
		_, err := c.PutLifecycleHook(ctx, &autoscaling.PutLifecycleHookInput{
			AutoScalingGroupName: aws.String(asg), LifecycleHookName: aws.String(name),
			LifecycleTransition: aws.String(string(tr)), DefaultResult: aws.String(string(result)),
			HeartbeatTimeout:      aws.Int32(int32(timeout / time.Second)),
			NotificationTargetARN: aws.String(s.QueueARN), RoleARN: aws.String(s.RoleARN),
			NotificationMetadata: aws.String(string(meta)),
		})
		if err != nil {
			return codeErr(ctx, err, "putting lifecycle hook %s on Auto Scaling group %s for deployment group %s/%s",
				name, asg, s.ApplicationName, s.DeploymentGroupName)
		}
		return nil
	}
	for _, asg := range s.AutoScalingGroups {
		if err := put(asg, target.InstanceLaunching, target.ScalingAbandon); err != nil {
			return err
		}
		if s.TerminationHookEnabled {
			if err := put(asg, target.InstanceTerminating, target.ScalingContinue); err != nil {
				return err
			}
			continue
		}
		name := HookName(s.ApplicationName, s.DeploymentGroupName, target.InstanceTerminating)
		if err := deleteHooks(ctx, c, asg, []string{name}); err != nil {
			return err
		}
	}
	return nil
}

// RemoveHooks deletes the lifecycle hooks InstallHooks put for the
// deployment group app/group from the Auto Scaling groups asgs: call it
// when an Auto Scaling group leaves the deployment group, or the
// deployment group is deleted, as CodeDeploy removes its hooks then.
// Hooks that are not there are no error; other hooks of the groups are
// left alone. Failures are *target.CodeError values as InstallHooks'.
func RemoveHooks(ctx context.Context, c HookClient, app, group string, asgs []string) error {
	if c == nil {
		return errors.New("ec2target: RemoveHooks needs an Auto Scaling client; got nil")
	}
	names := []string{HookName(app, group, target.InstanceLaunching), HookName(app, group, target.InstanceTerminating)}
	for _, asg := range asgs {
		if err := deleteHooks(ctx, c, asg, names); err != nil {
			return err
		}
	}
	return nil
}

// deleteHooks deletes those of the hooks names that Auto Scaling group asg
// has.
func deleteHooks(ctx context.Context, c HookClient, asg string, names []string) error {
	out, err := c.DescribeLifecycleHooks(ctx, &autoscaling.DescribeLifecycleHooksInput{
		AutoScalingGroupName: aws.String(asg), LifecycleHookNames: names})
	if err != nil {
		return codeErr(ctx, err, "describing the lifecycle hooks %v of Auto Scaling group %s", names, asg)
	}
	for _, h := range out.LifecycleHooks {
		if !slices.Contains(names, aws.ToString(h.LifecycleHookName)) {
			continue
		}
		if _, err := c.DeleteLifecycleHook(ctx, &autoscaling.DeleteLifecycleHookInput{
			AutoScalingGroupName: aws.String(asg), LifecycleHookName: h.LifecycleHookName}); err != nil {
			return codeErr(ctx, err, "deleting lifecycle hook %s of Auto Scaling group %s", aws.ToString(h.LifecycleHookName), asg)
		}
	}
	return nil
}

package snsnotify

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/arn"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/fleetdeploy/fleetdeploy/deploy"
)

// PublishAPI is the one Amazon SNS operation a Notifier calls. *sns.Client
// implements it.
type PublishAPI interface {
	Publish(ctx context.Context, in *sns.PublishInput, optFns ...func(*sns.Options)) (*sns.PublishOutput, error)
}

var _ PublishAPI = (*sns.Client)(nil)

// Options configures a Notifier.
type Options struct {
	// Region and AccountID are the message's region and accountId.
	// Default: the region and account of each trigger's topic ARN.
	Region    string
	AccountID string
	// Logger receives a Warn record for each failed publish and a Debug
	// record for each one sent or left to other notifiers. Default:
	// discarded.
	Logger *slog.Logger
}

// Notifier publishes trigger notifications to Amazon SNS topics (see the
// package documentation). It is safe for concurrent use.
type Notifier struct {
	client PublishAPI
	opt    Options
}

var _ deploy.Notifier = (*Notifier)(nil)

// New returns a Notifier that publishes through client.
func New(client PublishAPI, opts ...func(*Options)) (*Notifier, error) {
	if client == nil {
		return nil, errors.New("snsnotify: New: the SNS client is nil")
	}
	var o Options
	for _, f := range opts {
		f(&o)
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.AccountID != "" && !isDigits(o.AccountID) {
		return nil, fmt.Errorf("snsnotify: New: Options.AccountID %q is not a 12-digit AWS account ID", o.AccountID)
	}
	return &Notifier{client: client, opt: o}, nil
}

// Notify publishes n to the SNS topic n.TriggerTargetArn names, with the
// message and subject CodeDeploy sends for n.Event. It returns nil without
// publishing when n.TriggerTargetArn is not an SNS topic ARN (that trigger
// is for another notifier). A failed publish is logged and returned,
// wrapping the SDK's error.
func (s *Notifier) Notify(ctx context.Context, n deploy.Notification) error {
	topic, err := arn.Parse(n.TriggerTargetArn)
	if err != nil || topic.Service != "sns" {
		s.opt.Logger.Debug("not an SNS topic: left to other notifiers", "trigger", n.TriggerName, "target", n.TriggerTargetArn)
		return nil
	}
	region, account := s.opt.Region, s.opt.AccountID
	if region == "" {
		region = topic.Region
	}
	if account == "" {
		account = topic.AccountID
	}
	body, err := message(n, topic.Partition, region, account)
	if err != nil {
		return fmt.Errorf("snsnotify: %s of deployment %s (trigger %q): %w", n.Event, n.DeploymentID, n.TriggerName, err)
	}
	in := &sns.PublishInput{
		TopicArn: aws.String(n.TriggerTargetArn),
		Message:  aws.String(string(body)),
		Subject:  aws.String(subject(n, region)),
	}
	if strings.HasSuffix(topic.Resource, ".fifo") {
		sum := sha256.Sum256(body)
		in.MessageGroupId = aws.String(n.DeploymentID)
		in.MessageDeduplicationId = aws.String(hex.EncodeToString(sum[:]))
	}
	out, err := s.client.Publish(ctx, in)
	if err != nil {
		s.opt.Logger.Warn("SNS publish failed", "topic", n.TriggerTargetArn, "trigger", n.TriggerName,
			"event", string(n.Event), "deployment", n.DeploymentID, "target", n.TargetID, "error", err.Error())
		return fmt.Errorf("snsnotify: publishing %s of deployment %s to %s (trigger %q): %w",
			n.Event, n.DeploymentID, n.TriggerTargetArn, n.TriggerName, err)
	}
	s.opt.Logger.Debug("SNS notification sent", "topic", n.TriggerTargetArn, "event", string(n.Event),
		"deployment", n.DeploymentID, "target", n.TargetID, "messageId", aws.ToString(out.MessageId))
	return nil
}

// isDigits reports whether s is an AWS account ID: twelve digits.
func isDigits(s string) bool {
	if len(s) != 12 {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

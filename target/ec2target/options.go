package ec2target

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/fleetdeploy/fleetdeploy/deploy/clock"
)

// Defaults of Options.
const (
	// DefaultPageSize is the MaxResults of each DescribeInstances call.
	DefaultPageSize = 1000
	// DefaultPollInterval is how often a replacement Auto Scaling group is
	// described while the Provisioner waits for its instances.
	DefaultPollInterval = 15 * time.Second
	// DefaultReadyTimeout bounds the wait for a replacement Auto Scaling
	// group's instances to be InService.
	DefaultReadyTimeout = time.Hour
	// DefaultQueueWait is how long each ReceiveMessage call of
	// ScalingEvents waits for a lifecycle notification (SQS long polling's
	// WaitTimeSeconds, at its maximum).
	DefaultQueueWait = 20 * time.Second
	// DefaultVisibilityTimeout is how long a lifecycle notification
	// ScalingEvents took stays invisible to other readers of the queue;
	// each Heartbeat makes it that long again.
	DefaultVisibilityTimeout = 15 * time.Minute
)

// Options are the optional settings of a Lister, a Provisioner or a
// ScalingEvents. The zero
// value of each field means its default.
type Options struct {
	// Logger receives the package's logs (the calls that failed, the wait
	// for a replacement fleet); nil discards them.
	Logger *slog.Logger
	// Clock is what the Provisioner waits on, and what ScalingEvents
	// measures the time since an action's last heartbeat on; nil is
	// clock.System().
	Clock clock.Clock
	// PageSize is the MaxResults of each DescribeInstances call that lists
	// by tags, 5–1000; 0 is DefaultPageSize.
	PageSize int32
	// PollInterval is how often the Provisioner describes a replacement
	// Auto Scaling group while it waits; 0 is DefaultPollInterval.
	PollInterval time.Duration
	// ReadyTimeout bounds the Provisioner's wait for the instances of a
	// replacement Auto Scaling group to be InService and healthy; 0 is
	// DefaultReadyTimeout.
	ReadyTimeout time.Duration
	// QueueWait is how long each ReceiveMessage call of ScalingEvents
	// waits for a notification, whole seconds up to 20 s; 0 is
	// DefaultQueueWait.
	QueueWait time.Duration
	// VisibilityTimeout is how long a notification ScalingEvents took stays
	// invisible to other readers of the queue, renewed by each Heartbeat:
	// longer than the executor's heartbeat interval
	// (deploy.Options.ScalingHeartbeat), whole seconds up to 12 h; 0 is
	// DefaultVisibilityTimeout.
	VisibilityTimeout time.Duration
}

// resolve applies optFns to o, fills the defaults and checks the result.
func resolve(o Options, optFns []func(*Options)) (Options, error) {
	for _, fn := range optFns {
		if fn != nil {
			fn(&o)
		}
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Clock == nil {
		o.Clock = clock.System()
	}
	if o.PageSize == 0 {
		o.PageSize = DefaultPageSize
	}
	if o.PollInterval == 0 {
		o.PollInterval = DefaultPollInterval
	}
	if o.ReadyTimeout == 0 {
		o.ReadyTimeout = DefaultReadyTimeout
	}
	if o.QueueWait == 0 {
		o.QueueWait = DefaultQueueWait
	}
	if o.VisibilityTimeout == 0 {
		o.VisibilityTimeout = DefaultVisibilityTimeout
	}
	switch {
	case o.QueueWait < 0 || o.QueueWait > 20*time.Second || o.QueueWait%time.Second != 0:
		return o, fmt.Errorf("ec2target: Options.QueueWait must be whole seconds from 1s to 20s (ReceiveMessage's WaitTimeSeconds); got %s", o.QueueWait)
	case o.VisibilityTimeout < 0 || o.VisibilityTimeout > 12*time.Hour || o.VisibilityTimeout%time.Second != 0:
		return o, fmt.Errorf("ec2target: Options.VisibilityTimeout must be whole seconds from 1s to 12h (SQS's VisibilityTimeout); got %s", o.VisibilityTimeout)
	case o.PageSize < 5 || o.PageSize > 1000:
		return o, fmt.Errorf("ec2target: Options.PageSize must be 5–1000 (DescribeInstances' MaxResults); got %d", o.PageSize)
	case o.PollInterval < 0:
		return o, fmt.Errorf("ec2target: Options.PollInterval must not be negative; got %s", o.PollInterval)
	case o.ReadyTimeout < 0:
		return o, fmt.Errorf("ec2target: Options.ReadyTimeout must not be negative; got %s", o.ReadyTimeout)
	}
	return o, nil
}

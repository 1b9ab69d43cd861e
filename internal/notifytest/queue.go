package notifytest

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/fleetdeploy/fleetdeploy/internal/motoserver"
)

// Queue is an SQS queue in moto that notifications are delivered to (an
// SNS subscription, an EventBridge rule's target), read back by Drain.
type Queue struct {
	t      *testing.T
	client *sqs.Client
	// URL and ARN name the queue.
	URL, ARN string
}

// NewQueue creates a queue named after the test and prefix.
func NewQueue(t *testing.T, cfg aws.Config, prefix string) *Queue {
	t.Helper()
	ctx := context.Background()
	q := &Queue{t: t, client: sqs.NewFromConfig(cfg)}
	out, err := q.client.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(motoserver.Name(t, prefix))})
	if err != nil {
		t.Fatal(err)
	}
	q.URL = aws.ToString(out.QueueUrl)
	attrs, err := q.client.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: out.QueueUrl,
		AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn}})
	if err != nil {
		t.Fatal(err)
	}
	q.ARN = attrs.Attributes[string(sqstypes.QueueAttributeNameQueueArn)]
	return q
}

// Drain returns the bodies of every message in the queue, in the order
// received (moto delivers within Publish and PutEvents, so every message
// is there once those have returned).
func (q *Queue) Drain() []string {
	q.t.Helper()
	var out []string
	for {
		res, err := q.client.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{QueueUrl: aws.String(q.URL),
			MaxNumberOfMessages: 10, VisibilityTimeout: 600})
		if err != nil {
			q.t.Fatal(err)
		}
		if len(res.Messages) == 0 {
			return out
		}
		for _, m := range res.Messages {
			out = append(out, aws.ToString(m.Body))
		}
	}
}

package main

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"

	"github.com/fleetdeploy/fleetdeploy/revision"
	"github.com/fleetdeploy/fleetdeploy/target"
	"github.com/fleetdeploy/fleetdeploy/target/localtarget"
)

// agents is the Installer: the local agent of each EC2 instance, an
// instance of a localtarget.Fleet named by the EC2 instance ID. An
// instance the Lister or the Provisioner reports that the fleet does not
// have yet — one an Auto Scaling group launched — gets its local instance
// on its first event, as a new EC2 instance boots with the CodeDeploy
// agent installed.
//
// It also plays the story's incident: while the first instance runs
// ValidateService of the revision armed with alarmOn, it sets the
// CloudWatch alarm to ALARM.
type agents struct {
	fleet *localtarget.Fleet
	say   func(format string, args ...any)
	cw    *cloudwatch.Client
	alarm string
	elb   *elbv2.Client
	tgArn map[string]string // target group name -> ARN

	mu      sync.Mutex
	alarmOn *revision.Location // the revision whose validation sets off the alarm; nil for none
	fired   string             // the instance it went off on
	// outside records, for each deployment ID and instance, whether moto
	// listed the instance in none of the group's target groups when its
	// Install started.
	outside map[[2]string]bool
}

var _ target.Installer = (*agents)(nil)

// RunEvent runs req on the instance's local agent, adding the instance to
// the fleet first when it is new.
func (a *agents) RunEvent(ctx context.Context, req target.EventRequest) (target.EventResult, error) {
	if _, ok := a.fleet.Agent(req.Target.ID); !ok {
		_, err := a.fleet.Add(ctx, req.Target)
		switch {
		case err == nil:
			a.say("    agent: local instance %s added for EC2 instance %s (Auto Scaling group %s)", req.Target.ID, req.Target.ID, req.Target.AutoScalingGroup)
		case !errors.Is(err, localtarget.ErrInstanceExists): // another event added it meanwhile
			return target.EventResult{}, err
		}
	}
	if req.Event == target.Install && len(req.Deployment.LoadBalancer.TargetGroupInfoList) > 0 {
		if err := a.lookOutside(ctx, req); err != nil {
			return target.EventResult{}, err
		}
	}
	if req.Event == target.ValidateService {
		if err := a.incident(ctx, req); err != nil {
			return target.EventResult{}, err
		}
	}
	return a.fleet.RunEvent(ctx, req)
}

// arm makes the first ValidateService of revision loc set off the alarm.
func (a *agents) arm(loc revision.Location) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.alarmOn, a.fired = &loc, ""
}

// firedOn returns the instance whose validation set off the alarm, "" if
// none did.
func (a *agents) firedOn() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.fired
}

// incident sets the alarm to ALARM if req is the first ValidateService of
// the armed revision.
func (a *agents) incident(ctx context.Context, req target.EventRequest) error {
	a.mu.Lock()
	now := a.alarmOn != nil && a.fired == "" && a.alarmOn.Equal(req.Deployment.Revision)
	if now {
		a.fired = req.Target.ID
	}
	a.mu.Unlock()
	if !now {
		return nil
	}
	if _, err := a.cw.SetAlarmState(ctx, &cloudwatch.SetAlarmStateInput{AlarmName: aws.String(a.alarm),
		StateValue: cwtypes.StateValueAlarm, StateReason: aws.String("5xx responses above the threshold")}); err != nil {
		return fmt.Errorf("setting alarm %s to ALARM: %w", a.alarm, err)
	}
	a.say("    cloudwatch: alarm %s set to ALARM (5xx errors) while %s validates the new revision", a.alarm, req.Target.ID)
	return nil
}

// lookOutside asks moto whether the instance of req is registered with any
// target group of its deployment group, and records the answer.
func (a *agents) lookOutside(ctx context.Context, req target.EventRequest) error {
	out := true
	for _, tg := range req.Deployment.LoadBalancer.TargetGroupInfoList {
		h, err := a.elb.DescribeTargetHealth(ctx, &elbv2.DescribeTargetHealthInput{TargetGroupArn: aws.String(a.tgArn[tg.Name])})
		if err != nil {
			return fmt.Errorf("describing the targets of %s: %w", tg.Name, err)
		}
		for _, d := range h.TargetHealthDescriptions {
			out = out && (d.Target == nil || aws.ToString(d.Target.Id) != req.Target.ID)
		}
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.outside == nil {
		a.outside = map[[2]string]bool{}
	}
	a.outside[[2]string{req.Deployment.DeploymentID, req.Target.ID}] = out
	return nil
}

// wasOutside reports whether moto listed instance id in none of its
// target groups when its Install of deployment d started.
func (a *agents) wasOutside(d, id string) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.outside[[2]string{d, id}]
}

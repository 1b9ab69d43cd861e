package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	v2types "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/fleetdeploy/fleetdeploy/config"
	"github.com/fleetdeploy/fleetdeploy/deploy"
	"github.com/fleetdeploy/fleetdeploy/deploy/plan"
	"github.com/fleetdeploy/fleetdeploy/deploy/snsnotify"
	"github.com/fleetdeploy/fleetdeploy/examples/internal/story"
	"github.com/fleetdeploy/fleetdeploy/revision/s3revision"
	"github.com/fleetdeploy/fleetdeploy/target"
	"github.com/fleetdeploy/fleetdeploy/target/cloudwatchalarm"
	"github.com/fleetdeploy/fleetdeploy/target/ec2target"
	"github.com/fleetdeploy/fleetdeploy/target/elbtarget"
	"github.com/fleetdeploy/fleetdeploy/target/localtarget"
)

// The application and its deployment groups.
const (
	appName      = "shop"
	webGroup     = "web"    // in place, EC2 tags, behind a target group
	bgGroup      = "web-bg" // blue/green, an Auto Scaling group copied
	webConfig    = "CodeDeployDefault.HalfAtATime"
	bgConfig     = "CodeDeployDefault.AllAtOnce"
	terminateMin = 1 // the blue/green termination wait, in minutes
)

// Where the checks' expectations come from, as the output cites them.
const (
	ugELB      = `User Guide: "Integrating CodeDeploy with Elastic Load Balancing"`
	ugHealth   = `User Guide: "CodeDeploy instance health"`
	ugASG      = `User Guide: "Integrating CodeDeploy with Amazon EC2 Auto Scaling"`
	ugBG       = `User Guide: "Overview of a blue/green deployment"`
	ugAlarms   = `User Guide: "Monitoring deployments with CloudWatch alarms in CodeDeploy"`
	ugRollback = `User Guide: "Redeploy and roll back a deployment with CodeDeploy"`
	ugTriggers = `User Guide: "Monitoring deployments with Amazon SNS event notifications"`
)

// triggerEvents are the deployment events the groups send to the SNS
// topic, one trigger each, named after its event.
var triggerEvents = []deploy.TriggerEventType{deploy.TriggerDeploymentStart, deploy.TriggerDeploymentSuccess,
	deploy.TriggerDeploymentFailure, deploy.TriggerDeploymentStop, deploy.TriggerDeploymentRollback}

// tale is the story's world: moto's resources, the adapters, the executor
// and the checks.
type tale struct {
	say    func(format string, args ...any)
	checks *story.Checks
	c      clients
	w      *world
	clk    *story.FastClock
	j      *journal
	obs    *observer
	agents *agents
	fleet  *localtarget.Fleet
	store  *deploy.MemoryStore
	exec   *deploy.Executor
	// notes are the SNS notifications read back from SQS, in order.
	notes []note
	// ids are the story's deployments, by what it calls them.
	ids map[string]string
}

// tell sets the world up in moto and tells the story.
func tell(ctx context.Context, url, dir string, out *story.Printer, checks *story.Checks, logger *slog.Logger) error {
	t := &tale{say: out.Printf, checks: checks, c: newClients(url), clk: story.NewFastClock(speed), ids: map[string]string{}}
	t.j = &journal{clk: t.clk, say: t.say}
	t.say("fleetdeploy on AWS: Server deployments through the AWS adapters, against moto at %s (no AWS account)", url)
	t.say("The executor's clock runs %d times faster than real time: one minute takes a second.", speed)
	checks.Section("Setting up in moto")
	var err error
	if t.w, err = build(ctx, t.c, t.say); err != nil {
		return err
	}
	if err := t.wire(ctx, dir, logger); err != nil {
		return err
	}
	for _, step := range []func(context.Context) error{t.inPlace, t.blueGreen, t.alarm, t.notifications, t.summary} {
		if err := step(ctx); err != nil {
			return err
		}
	}
	return nil
}

// wire builds the adapters, the local agents, the executor, the
// application and its two deployment groups.
func (t *tale) wire(ctx context.Context, dir string, logger *slog.Logger) error {
	w := t.w
	lister, err := ec2target.NewLister(t.c.ec2, t.c.asg, func(o *ec2target.Options) { o.Logger = logger })
	if err != nil {
		return err
	}
	prov, err := ec2target.NewProvisioner(&ec2Recorder{t.c.ec2, t.j}, &asgRecorder{t.c.asg, t.j}, func(o *ec2target.Options) {
		o.Logger, o.Clock = logger, t.clk
		o.PollInterval, o.ReadyTimeout = 5*time.Second, 10*time.Minute
	})
	if err != nil {
		return err
	}
	elbc := &elbRecorder{Client: t.c.elbv2, j: t.j, names: map[string]string{w.webTGArn: w.webTG, w.bgTGArn: w.bgTG}}
	traffic, err := elbtarget.New(elbc, t.c.elb, func(o *elbtarget.Options) {
		o.Logger, o.Clock, o.PollInterval = logger, t.clk, 5*time.Second
	})
	if err != nil {
		return err
	}
	alarms, err := cloudwatchalarm.New(t.c.cw, func(o *cloudwatchalarm.Options) { o.Logger = logger })
	if err != nil {
		return err
	}
	src, err := s3revision.New(t.c.s3, func(o *s3revision.Options) { o.Logger = logger })
	if err != nil {
		return err
	}
	notifier, err := snsnotify.New(t.c.sns, func(o *snsnotify.Options) { o.Logger = logger })
	if err != nil {
		return err
	}
	instancesDir := filepath.Join(dir, "instances")
	t.fleet, err = localtarget.New(instancesDir, src, func(o *localtarget.Options) { o.Logger = logger })
	if err != nil {
		return err
	}
	for _, id := range w.webIDs {
		if _, err := t.fleet.Add(ctx, target.Target{ID: id, Zone: w.zoneOf[id], Tags: map[string]string{"app": w.appTag}}); err != nil {
			return err
		}
	}
	t.say("local agents: %d local instances under %s, one per web instance, named by its instance ID;", len(w.webIDs), instancesDir)
	t.say("  an instance an Auto Scaling group launches gets its own on its first lifecycle event")
	t.agents = &agents{fleet: t.fleet, say: t.say, cw: t.c.cw, alarm: w.alarm,
		elb: t.c.elbv2, tgArn: map[string]string{w.webTG: w.webTGArn, w.bgTG: w.bgTGArn}}

	t.obs = newObserver(t.say)
	t.store = deploy.NewMemoryStore()
	platform := target.Platform{Lister: lister, Installer: t.agents, TrafficController: traffic, Provisioner: prov}
	t.exec, err = deploy.New(t.store, platform, func(o *deploy.Options) {
		o.Clock, o.Logger, o.Observer = t.clk, logger, t.obs
		o.AlarmSource, o.Source = alarms, src
		o.Notifiers = []deploy.Notifier{notifier}
		o.LeaseTTL = time.Hour // on the fast clock: a minute of real time
	})
	if err != nil {
		return err
	}

	if err := t.store.CreateApplication(ctx, &deploy.Application{Name: appName, ComputePlatform: config.Server, CreateTime: time.Now()}); err != nil {
		return err
	}
	var triggers []deploy.TriggerConfig
	for _, ev := range triggerEvents {
		triggers = append(triggers, deploy.TriggerConfig{TriggerName: string(ev), TriggerTargetArn: w.topicArn,
			TriggerEvents: []deploy.TriggerEventType{ev}})
	}
	web := deploy.Group{ApplicationName: appName, Name: webGroup, DeploymentConfigName: webConfig,
		Selector:         target.Selector{EC2TagFilters: []target.TagFilter{{Key: "app", Value: w.appTag, Type: target.KeyAndValue}}},
		DeploymentStyle:  deploy.DeploymentStyle{DeploymentType: target.InPlace, DeploymentOption: deploy.WithTrafficControl},
		LoadBalancerInfo: target.LoadBalancerInfo{TargetGroupInfoList: []target.NameInfo{{Name: w.webTG}}},
		AutoRollbackConfiguration: deploy.AutoRollbackConfiguration{Enabled: true,
			Events: []deploy.AutoRollbackEvent{deploy.AutoRollbackDeploymentFailure, deploy.AutoRollbackDeploymentStopOnAlarm}},
		AlarmConfiguration:    deploy.AlarmConfiguration{Enabled: true, Alarms: []deploy.Alarm{{Name: w.alarm}}},
		TriggerConfigurations: triggers,
	}
	bg := deploy.Group{ApplicationName: appName, Name: bgGroup, DeploymentConfigName: bgConfig,
		Selector:         target.Selector{AutoScalingGroups: []string{w.asg}},
		DeploymentStyle:  deploy.DeploymentStyle{DeploymentType: target.BlueGreen, DeploymentOption: deploy.WithTrafficControl},
		LoadBalancerInfo: target.LoadBalancerInfo{TargetGroupInfoList: []target.NameInfo{{Name: w.bgTG}}},
		BlueGreenDeploymentConfiguration: &deploy.BlueGreenDeploymentConfiguration{
			TerminateBlueInstancesOnDeploymentSuccess: &deploy.BlueInstanceTerminationOption{Action: deploy.InstanceActionTerminate,
				TerminationWaitTimeInMinutes: terminateMin},
			DeploymentReadyOption:        &deploy.DeploymentReadyOption{ActionOnTimeout: deploy.ActionContinueDeployment},
			GreenFleetProvisioningOption: &deploy.GreenFleetProvisioningOption{Action: deploy.GreenFleetCopyAutoScalingGroup},
		},
		TriggerConfigurations: triggers,
	}
	for _, g := range []*deploy.Group{&web, &bg} {
		if err := t.store.CreateGroup(ctx, g); err != nil {
			return err
		}
	}
	t.say("application %q: group %q (%s, in place behind %s, EC2 tag app=%s, alarm %s, rollback on failure and alarm);",
		appName, webGroup, webConfig, w.webTG, w.appTag, w.alarm)
	t.say("  group %q (%s, blue/green behind %s, Auto Scaling group %s copied, originals terminated %d minute after);",
		bgGroup, bgConfig, w.bgTG, w.asg, terminateMin)
	t.say("  both send DeploymentStart, Success, Failure, Stop and Rollback to the SNS topic")
	return nil
}

// deploy creates a deployment of version to group, runs it to the end
// (with its automatic rollback, if any) and returns it as stored.
func (t *tale) deploy(ctx context.Context, name, group, version, description string) (*deploy.Deployment, error) {
	d, err := t.exec.CreateDeployment(ctx, deploy.DeploymentInput{ApplicationName: appName, GroupName: group,
		Revision: t.w.revs[version], Description: description})
	if err != nil {
		return nil, err
	}
	t.ids[name] = d.ID
	t.obs.label(d.ID, name)
	t.say("deployment %s: %s of s3://%s/%s version %s to group %s", d.ID, version, t.w.bucket, t.w.key, t.w.revs[version].S3.Version, group)
	if _, err := t.exec.Run(ctx, d.ID); err != nil {
		return nil, err
	}
	if err := t.readNotifications(ctx); err != nil {
		return nil, err
	}
	return t.store.GetDeployment(ctx, d.ID)
}

// targets returns the target records of deployment id, by target ID.
func (t *tale) targets(ctx context.Context, id string) (map[string]deploy.DeploymentTarget, error) {
	out := map[string]deploy.DeploymentTarget{}
	for tg, err := range deploy.AllTargets(ctx, t.store, id) {
		if err != nil {
			return nil, err
		}
		out[tg.TargetID] = tg
	}
	return out, nil
}

// inPlace deploys v1 to the web instances, half at a time, each taken out
// of its target group while it is updated.
func (t *tale) inPlace(ctx context.Context) error {
	w := t.w
	t.checks.Section("1. In place behind an ELBv2 target group: v1 to " + fmt.Sprint(len(w.webIDs)) + " EC2 instances, " + webConfig)
	mark := t.j.len()
	d, err := t.deploy(ctx, "v1", webGroup, "v1", "v1: first release on EC2")
	if err != nil {
		return err
	}
	tgs, err := t.targets(ctx, d.ID)
	if err != nil {
		return err
	}
	t.checks.Expect(d.Status == deploy.StatusSucceeded && len(tgs) == len(w.webIDs) && countStatus(tgs, target.TargetSucceeded) == len(w.webIDs),
		"v1 %s on %d of %d EC2 instances the tag filter app=%s selects (ec2target Lister)", d.Status, countStatus(tgs, target.TargetSucceeded), len(w.webIDs), w.appTag)

	calls := t.j.since(mark)
	inOrder, outside := 0, 0
	for _, id := range w.webIDs {
		var ops []call
		for _, c := range calls {
			if c.on == w.webTG && slices.Contains(c.what, id) {
				ops = append(ops, c)
			}
		}
		install, ok1 := t.obs.lifecycle(d.ID, id, target.Install, target.EventInProgress)
		validated, ok2 := t.obs.lifecycle(d.ID, id, target.ValidateService, target.EventSucceeded)
		if len(ops) == 2 && ops[0].op == "deregister" && ops[1].op == "register" && ok1 && ok2 &&
			!ops[0].at.After(install.Time) && !ops[1].at.Before(validated.Time) {
			inOrder++
		}
		if t.agents.wasOutside(d.ID, id) {
			outside++
		}
	}
	t.checks.Expect(inOrder == len(w.webIDs),
		"%d of %d instances were deregistered from %s before their Install and registered again after their ValidateService, once each ("+ugELB+")",
		inOrder, len(w.webIDs), w.webTG)
	t.checks.Expect(outside == len(w.webIDs), "when its Install started, DescribeTargetHealth of %s in moto did not list the instance: %d of %d",
		w.webTG, outside, len(w.webIDs))
	lowest := lowestRegistered(calls, w.webTG, len(w.webIDs))
	minimum := (len(w.webIDs) + 1) / 2
	t.checks.Expect(lowest >= minimum, "the target group never held fewer than %d of %d instances: lowest %d (HalfAtATime keeps half healthy; "+ugHealth+")",
		minimum, len(w.webIDs), lowest)
	return t.expectServing(ctx, w.webTG, w.webIDs, "v1")
}

// expectServing checks that target group tg holds exactly ids, every one
// healthy, and that each instance's local agent runs version.
func (t *tale) expectServing(ctx context.Context, tg string, ids []string, version string) error {
	health, err := t.targetHealth(ctx, tg)
	if err != nil {
		return err
	}
	var healthy []string
	for id, st := range health {
		if st == v2types.TargetHealthStateEnumHealthy {
			healthy = append(healthy, id)
		}
	}
	t.checks.Expect(slices.Equal(sorted(healthy), sorted(ids)) && len(health) == len(ids),
		"DescribeTargetHealth of %s: %d targets, %d healthy, exactly the %d expected", tg, len(health), len(healthy), len(ids))
	running := 0
	for _, id := range ids {
		if v, _ := t.readInstanceFile(id, markerFile); v == version {
			running++
		}
	}
	t.checks.Expect(running == len(ids), "%d of %d instances run %s (their local agents' /%s)", running, len(ids), version, markerFile)
	return nil
}

// blueGreen deploys v1 to the blue/green group: a copy of its Auto Scaling
// group takes the traffic, and the originals go after the wait.
func (t *tale) blueGreen(ctx context.Context) error {
	w := t.w
	t.checks.Section(fmt.Sprintf("2. Blue/green with COPY_AUTO_SCALING_GROUP: v1 to a copy of %s, originals terminated after %d minute", w.asg, terminateMin))
	originals, err := groupInstances(ctx, t.c, w.asg)
	if err != nil {
		return err
	}
	mark := t.j.len()
	d, err := t.deploy(ctx, "blue/green", bgGroup, "v1", "v1 on a fresh Auto Scaling group")
	if err != nil {
		return err
	}
	tgs, err := t.targets(ctx, d.ID)
	if err != nil {
		return err
	}
	var blue, green []string
	for id, tg := range tgs {
		switch tg.Label {
		case target.LabelBlue:
			blue = append(blue, id)
		case target.LabelGreen:
			green = append(green, id)
		}
	}
	blue, green = sorted(blue), sorted(green)
	t.checks.Expect(d.Status == deploy.StatusSucceeded && countStatus(tgs, target.TargetSucceeded) == len(tgs),
		"blue/green %s: %d original (Blue) and %d replacement (Green) instances, all Succeeded", d.Status, len(blue), len(green))
	t.checks.Expect(slices.Equal(blue, originals), "the originals are the instances of %s: %s", w.asg, strings.Join(blue, " "))

	copyName := "CodeDeploy_" + bgGroup + "_" + d.ID
	inCopy, err := groupInstances(ctx, t.c, copyName)
	if err != nil {
		return err
	}
	created := slices.ContainsFunc(t.j.since(mark), func(c call) bool { return c.op == "create group" && c.on == copyName })
	t.checks.Expect(created && len(green) == len(originals) && slices.Equal(inCopy, green),
		"the replacements are the %d InService instances of Auto Scaling group %s, created in moto as CodeDeploy names it ("+ugASG+")",
		len(inCopy), copyName)

	calls := t.j.since(mark)
	// Traffic moves: every replacement is registered before the first
	// original is deregistered, and every original is deregistered.
	registered, blocked := map[string]bool{}, map[string]bool{}
	inOrder := true
	for _, c := range calls {
		for _, id := range c.what {
			switch {
			case c.on != w.bgTG:
			case c.op == "register":
				registered[id] = true
				inOrder = inOrder && len(blocked) == 0
			case c.op == "deregister":
				blocked[id] = true
			}
		}
	}
	moved := inOrder && len(registered) == len(green) && len(blocked) == len(blue)
	for _, id := range green {
		moved = moved && registered[id]
	}
	for _, id := range blue {
		moved = moved && blocked[id]
	}
	t.checks.Expect(moved, "traffic moved: the %d replacements registered with %s, then the %d originals deregistered ("+ugBG+")",
		len(registered), w.bgTG, len(blocked))
	if err := t.expectServing(ctx, w.bgTG, green, "v1"); err != nil {
		return err
	}

	// The originals go after the termination wait: the original group is
	// deleted with them, since none of its instances remains.
	var lastBlock time.Time
	for _, id := range blue {
		if e, ok := t.obs.lifecycle(d.ID, id, target.BlockTraffic, target.EventSucceeded); ok && e.Time.After(lastBlock) {
			lastBlock = e.Time
		}
	}
	i := slices.IndexFunc(calls, func(c call) bool { return c.op == "delete group" && c.on == w.asg })
	waited := time.Duration(-1)
	if i >= 0 && !lastBlock.IsZero() {
		waited = calls[i].at.Sub(lastBlock)
	}
	t.checks.Expect(waited >= terminateMin*time.Minute,
		"Auto Scaling group %s was deleted with the originals %s after their traffic was blocked (terminationWaitTimeInMinutes %d; "+ugBG+")",
		w.asg, waited.Round(time.Second), terminateMin)
	left, err := groupInstances(ctx, t.c, w.asg)
	if err != nil {
		return err
	}
	states, err := t.instanceStates(ctx, blue)
	if err != nil {
		return err
	}
	gone := len(left) == 0
	for _, id := range blue {
		gone = gone && (states[id] == "terminated" || states[id] == "shutting-down")
	}
	t.checks.Expect(gone, "in moto: %s has no instance left, and the originals are %s", w.asg, strings.Join(uniq(states), ", "))

	g, err := t.store.GetGroup(ctx, appName, bgGroup)
	if err != nil {
		return err
	}
	t.checks.Expect(slices.Equal(g.Selector.AutoScalingGroups, []string{copyName}),
		"deployment group %s now selects Auto Scaling group %v, the new fleet (%s)", bgGroup, g.Selector.AutoScalingGroups, ugASG)
	return nil
}

// alarm deploys v2 to the web instances; the group's CloudWatch alarm goes
// off during it, which stops it and rolls it back to v1.
func (t *tale) alarm(ctx context.Context) error {
	w := t.w
	t.checks.Section("3. A CloudWatch alarm goes off during v2: stop, then automatic rollback to v1")
	t.say("v2's ValidateService warms a page cache for a second; on the first instance to validate, 5xx errors set off alarm %s.", w.alarm)
	t.agents.arm(w.revs["v2"])
	d, err := t.deploy(ctx, "v2", webGroup, "v2", "v2: a page cache")
	if err != nil {
		return err
	}
	t.checks.Expect(t.agents.firedOn() != "", "alarm %s went off (SetAlarmState ALARM) while %s ran ValidateService", w.alarm, t.agents.firedOn())
	t.checks.Expect(d.Status == deploy.StatusStopped && d.ErrorInformation.Code == plan.AlarmActive,
		"v2 %s with %s: the executor's next poll of the alarm (cloudwatchalarm) stopped it ("+ugAlarms+")", d.Status, d.ErrorInformation.Code)
	rbID := d.RollbackInfo.RollbackDeploymentID
	if rbID == "" {
		t.checks.Expect(false, "v2 was rolled back (autoRollbackConfiguration DEPLOYMENT_STOP_ON_ALARM): no rollback deployment")
		return nil
	}
	t.ids["rollback"] = rbID
	rb, err := t.store.GetDeployment(ctx, rbID)
	if err != nil {
		return err
	}
	t.checks.Expect(rb.Creator == target.CreatorRollback && rb.RollbackInfo.RollbackTriggeringDeploymentID == d.ID,
		"rollback %s: creator %s, rollbackTriggeringDeploymentId %s ("+ugRollback+")", rb.ID, rb.Creator, rb.RollbackInfo.RollbackTriggeringDeploymentID)
	t.checks.Expect(rb.Revision.Equal(w.revs["v1"]) && rb.Status == deploy.StatusSucceeded,
		"the rollback redeploys v1, S3 object version %s, the last successful revision: %s", rb.Revision.S3.Version, rb.Status)
	g, err := t.store.GetGroup(ctx, appName, webGroup)
	if err != nil {
		return err
	}
	t.checks.Expect(g.TargetRevision != nil && g.TargetRevision.Equal(w.revs["v1"]), "the group's target revision is v1 again")
	return t.expectServing(ctx, w.webTG, w.webIDs, "v1")
}

// note is a trigger notification read back from the SQS queue.
type note struct {
	trigger, deploymentID, group, status, subject string
}

// readNotifications reads what the SNS topic delivered to the SQS queue
// since the last call, prints a line for each, and keeps them.
func (t *tale) readNotifications(ctx context.Context) error {
	for {
		out, err := t.c.sqs.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(t.w.queueURL), MaxNumberOfMessages: 10})
		if err != nil {
			return fmt.Errorf("reading the SQS queue: %w", err)
		}
		if len(out.Messages) == 0 {
			return nil
		}
		for _, m := range out.Messages {
			var env struct{ Subject, Message string }
			var msg struct {
				EventTriggerName    string `json:"eventTriggerName"`
				DeploymentID        string `json:"deploymentId"`
				DeploymentGroupName string `json:"deploymentGroupName"`
				Status              string `json:"status"`
			}
			if err := json.Unmarshal([]byte(aws.ToString(m.Body)), &env); err != nil {
				return fmt.Errorf("an SQS message is not an SNS notification: %w", err)
			}
			if err := json.Unmarshal([]byte(env.Message), &msg); err != nil {
				return fmt.Errorf("an SNS notification's message is not CodeDeploy's JSON: %w", err)
			}
			n := note{msg.EventTriggerName, msg.DeploymentID, msg.DeploymentGroupName, msg.Status, env.Subject}
			t.notes = append(t.notes, n)
			t.say("    sns → sqs: %-18s %s", n.trigger, n.subject)
			if _, err := t.c.sqs.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(t.w.queueURL), ReceiptHandle: m.ReceiptHandle}); err != nil {
				return fmt.Errorf("deleting an SQS message: %w", err)
			}
		}
	}
}

// notifications checks the trigger notifications every deployment sent.
func (t *tale) notifications(ctx context.Context) error {
	t.checks.Section("4. The groups' SNS triggers, read back from the SQS queue")
	want := map[string][]string{
		"v1":         {"DeploymentStart", "DeploymentSuccess"},
		"blue/green": {"DeploymentStart", "DeploymentSuccess"},
		"v2":         {"DeploymentRollback", "DeploymentStart", "DeploymentStop"},
		"rollback":   {"DeploymentStart", "DeploymentSuccess"},
	}
	total := 0
	for _, name := range []string{"v1", "blue/green", "v2", "rollback"} {
		id := t.ids[name]
		var got []string
		final := ""
		for _, n := range t.notes {
			if n.deploymentID == id {
				got = append(got, n.trigger)
				if n.trigger == "DeploymentSuccess" || n.trigger == "DeploymentStop" || n.trigger == "DeploymentFailure" {
					final = n.status
				}
			}
		}
		total += len(got)
		d, err := t.store.GetDeployment(ctx, id)
		if err != nil {
			return err
		}
		t.checks.Expect(slices.Equal(sorted(got), want[name]) && final == string(d.Status),
			"%s (%s): %s, the last saying %s ("+ugTriggers+")", id, name, strings.Join(sorted(got), ", "), final)
	}
	t.checks.Expect(total == len(t.notes) && total == 9, "%d notifications in all, %d of them of the story's deployments", len(t.notes), total)
	return nil
}

// summary prints every deployment.
func (t *tale) summary(ctx context.Context) error {
	t.checks.Section("Deployments")
	t.say("%-11s  %-10s  %-6s  %-18s  %-9s  %-12s  %s", "DEPLOYMENT", "STORY", "GROUP", "CREATOR", "STATUS", "ERROR CODE", "S3 VERSION")
	for _, name := range []string{"v1", "blue/green", "v2", "rollback"} {
		d, err := t.store.GetDeployment(ctx, t.ids[name])
		if err != nil {
			return err
		}
		code := string(d.ErrorInformation.Code)
		if code == "" {
			code = "-"
		}
		t.say("%-11s  %-10s  %-6s  %-18s  %-9s  %-12s  %s", d.ID, name, d.GroupName, d.Creator, d.Status, code, d.Revision.S3.Version)
	}
	return nil
}

// targetHealth returns the state of every target of target group name,
// by instance ID.
func (t *tale) targetHealth(ctx context.Context, name string) (map[string]v2types.TargetHealthStateEnum, error) {
	arn := t.w.webTGArn
	if name == t.w.bgTG {
		arn = t.w.bgTGArn
	}
	out, err := t.c.elbv2.DescribeTargetHealth(ctx, &elbv2.DescribeTargetHealthInput{TargetGroupArn: aws.String(arn)})
	if err != nil {
		return nil, fmt.Errorf("describing the targets of %s: %w", name, err)
	}
	h := map[string]v2types.TargetHealthStateEnum{}
	for _, d := range out.TargetHealthDescriptions {
		if d.Target != nil && d.TargetHealth != nil {
			h[aws.ToString(d.Target.Id)] = d.TargetHealth.State
		}
	}
	return h, nil
}

// instanceStates returns the EC2 state of each instance of ids.
func (t *tale) instanceStates(ctx context.Context, ids []string) (map[string]string, error) {
	out, err := t.c.ec2.DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: ids})
	if err != nil {
		return nil, fmt.Errorf("describing instances %v: %w", ids, err)
	}
	st := map[string]string{}
	for _, r := range out.Reservations {
		for _, in := range r.Instances {
			if in.State != nil {
				st[aws.ToString(in.InstanceId)] = string(in.State.Name)
			}
		}
	}
	return st, nil
}

// readInstanceFile returns the trimmed content of a file on a local
// instance, "-" when it does not exist.
func (t *tale) readInstanceFile(id, rel string) (string, error) {
	a, ok := t.fleet.Agent(id)
	if !ok {
		return "-", nil
	}
	b, err := os.ReadFile(a.Path(rel))
	if errors.Is(err, os.ErrNotExist) {
		return "-", nil
	}
	return strings.TrimSpace(string(b)), err
}

// lowestRegistered replays the registrations and deregistrations of
// target group tg in calls, starting from n registered instances, and
// returns the fewest it held.
func lowestRegistered(calls []call, tg string, n int) int {
	lowest := n
	for _, c := range calls {
		switch {
		case c.on != tg:
		case c.op == "deregister":
			n -= len(c.what)
		case c.op == "register":
			n += len(c.what)
		}
		lowest = min(lowest, n)
	}
	return lowest
}

// countStatus counts the targets with status st.
func countStatus(tgs map[string]deploy.DeploymentTarget, st target.TargetStatus) int {
	n := 0
	for _, tg := range tgs {
		if tg.Status == st {
			n++
		}
	}
	return n
}

// sorted returns a sorted copy of ss.
func sorted(ss []string) []string { return slices.Sorted(slices.Values(ss)) }

// uniq returns the distinct values of m, sorted.
func uniq(m map[string]string) []string {
	var vs []string
	for _, v := range m {
		if !slices.Contains(vs, v) {
			vs = append(vs, v)
		}
	}
	return sorted(vs)
}

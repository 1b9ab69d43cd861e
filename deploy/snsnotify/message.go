package snsnotify

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/fleetdeploy/fleetdeploy/deploy"
)

// deploymentMessage is the body of a deployment event, in the shape of the
// CodeDeploy User Guide page "JSON data formats for CodeDeploy triggers".
type deploymentMessage struct {
	Region              string            `json:"region"`
	AccountID           string            `json:"accountId"`
	EventTriggerName    string            `json:"eventTriggerName"`
	ApplicationName     string            `json:"applicationName"`
	DeploymentID        string            `json:"deploymentId"`
	DeploymentGroupName string            `json:"deploymentGroupName"`
	CreateTime          string            `json:"createTime"`
	CompleteTime        *string           `json:"completeTime"`
	DeploymentOverview  overview          `json:"deploymentOverview"`
	Status              string            `json:"status"`
	ErrorInformation    *errorInformation `json:"errorInformation,omitempty"`
	RollbackInformation *rollbackInfo     `json:"rollbackInformation,omitempty"`
}

// overview is deploymentOverview: counts as strings.
type overview struct {
	Failed     string `json:"Failed"`
	InProgress string `json:"InProgress"`
	Pending    string `json:"Pending"`
	Skipped    string `json:"Skipped"`
	Succeeded  string `json:"Succeeded"`
}

type errorInformation struct {
	ErrorCode    string `json:"ErrorCode"`
	ErrorMessage string `json:"ErrorMessage"`
}

type rollbackInfo struct {
	RollbackDeploymentID           string `json:"RollbackDeploymentId,omitempty"`
	RollbackTriggeringDeploymentID string `json:"RollbackTriggeringDeploymentId,omitempty"`
	RollbackMessage                string `json:"RollbackMessage,omitempty"`
}

// instanceMessage is the body of an instance event.
type instanceMessage struct {
	Region           string           `json:"region"`
	AccountID        string           `json:"accountId"`
	EventTriggerName string           `json:"eventTriggerName"`
	DeploymentID     string           `json:"deploymentId"`
	InstanceID       string           `json:"instanceId"`
	LastUpdatedAt    string           `json:"lastUpdatedAt"`
	InstanceStatus   string           `json:"instanceStatus"`
	LifecycleEvents  []lifecycleEvent `json:"lifecycleEvents"`
}

type lifecycleEvent struct {
	LifecycleEvent       string `json:"LifecycleEvent"`
	LifecycleEventStatus string `json:"LifecycleEventStatus"`
	StartTime            string `json:"StartTime,omitempty"`
	EndTime              string `json:"EndTime,omitempty"`
}

// instanceEvent reports whether ev is one of the instance trigger events.
func instanceEvent(ev deploy.TriggerEventType) bool {
	switch ev {
	case deploy.TriggerInstanceStart, deploy.TriggerInstanceSuccess, deploy.TriggerInstanceFailure, deploy.TriggerInstanceReady:
		return true
	}
	return false
}

// message returns the JSON body CodeDeploy sends for n; partition, region
// and account name the topic's (or the Options') AWS partition, region and
// account.
func message(n deploy.Notification, partition, region, account string) ([]byte, error) {
	if instanceEvent(n.Event) {
		m := instanceMessage{
			Region: region, AccountID: account, EventTriggerName: n.TriggerName, DeploymentID: n.DeploymentID,
			InstanceID:      instanceARN(n.TargetID, partition, region, account),
			LastUpdatedAt:   epoch(n.Time),
			InstanceStatus:  string(n.TargetStatus),
			LifecycleEvents: make([]lifecycleEvent, len(n.LifecycleEvents)),
		}
		for i, ev := range n.LifecycleEvents {
			m.LifecycleEvents[i] = lifecycleEvent{LifecycleEvent: string(ev.Name), LifecycleEventStatus: string(ev.Status),
				StartTime: epoch(ev.StartTime), EndTime: epoch(ev.EndTime)}
		}
		return json.Marshal(m)
	}
	o := n.Overview
	m := deploymentMessage{
		Region: region, AccountID: account, EventTriggerName: n.TriggerName, ApplicationName: n.ApplicationName,
		DeploymentID: n.DeploymentID, DeploymentGroupName: n.GroupName, CreateTime: epoch(n.CreateTime),
		DeploymentOverview: overview{Failed: count(o.Failed), InProgress: count(o.InProgress), Pending: count(o.Pending),
			Skipped: count(o.Skipped), Succeeded: count(o.Succeeded)},
		Status: string(n.Status),
	}
	if !n.CompleteTime.IsZero() {
		t := epoch(n.CompleteTime)
		m.CompleteTime = &t
	}
	if e := n.ErrorInformation; e.Code != "" || e.Message != "" {
		m.ErrorInformation = &errorInformation{ErrorCode: string(e.Code), ErrorMessage: e.Message}
	}
	if r := n.RollbackInfo; r != (deploy.RollbackInfo{}) {
		m.RollbackInformation = &rollbackInfo{RollbackDeploymentID: r.RollbackDeploymentID,
			RollbackTriggeringDeploymentID: r.RollbackTriggeringDeploymentID, RollbackMessage: r.RollbackMessage}
	}
	return json.Marshal(m)
}

// epoch formats t as CodeDeploy's trigger messages do: seconds since the
// Unix epoch with milliseconds ("1446744207.564"); "" for the zero time.
func epoch(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	ms := t.UnixMilli()
	sec, frac := ms/1000, ms%1000
	if frac < 0 {
		sec, frac = sec-1, frac+1000
	}
	return fmt.Sprintf("%d.%03d", sec, frac)
}

func count(n int64) string { return strconv.FormatInt(n, 10) }

// instanceARN returns the ARN of an EC2 instance ID ("i-…") in the given
// partition, region and account, and any other target ID as it is.
func instanceARN(id, partition, region, account string) string {
	if !strings.HasPrefix(id, "i-") || len(id) < 3 {
		return id
	}
	return "arn:" + partition + ":ec2:" + region + ":" + account + ":instance/" + id
}

// maxSubject is the longest subject SNS accepts: less than 100
// characters.
const maxSubject = 99

// subject returns CodeDeploy's subject line for n: "SUCCEEDED: AWS
// CodeDeploy d-… in us-east-1 to app".
func subject(n deploy.Notification, region string) string {
	status := string(n.Status)
	if instanceEvent(n.Event) {
		status = string(n.TargetStatus)
	}
	s := fmt.Sprintf("%s: AWS CodeDeploy %s in %s to %s", screaming(status), n.DeploymentID, region, n.ApplicationName)
	if r := []rune(s); len(r) > maxSubject {
		s = string(r[:maxSubject])
	}
	return s
}

// screaming spells a status as the subject does: "InProgress" →
// "IN_PROGRESS".
func screaming(s string) string {
	var b strings.Builder
	for i, r := range s {
		if i > 0 && unicode.IsUpper(r) {
			b.WriteByte('_')
		}
		b.WriteRune(unicode.ToUpper(r))
	}
	return b.String()
}

package deploy

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/fleetdeploy/fleetdeploy/target"
)

// The JSON forms of Application and Group are CodeDeploy's ApplicationInfo
// and DeploymentGroupInfo (API Reference), so that the output of
// `aws deploy get-application` and `aws deploy get-deployment-group`, and
// the input of CreateDeploymentGroup, decode into them directly:
//
//   - A group's selector is not nested: ec2TagFilters, ec2TagSet,
//     onPremisesInstanceTagFilters, onPremisesTagSet and autoScalingGroups
//     are members of the group's object, as in the API.
//   - autoScalingGroups is written as a list of names (CreateDeploymentGroup's
//     input) and read from either that or DeploymentGroupInfo's list of
//     AutoScalingGroup objects, of which only the name is kept: the
//     lifecycle hook names (hook, terminationHook) belong to CodeDeploy's
//     own Auto Scaling integration.
//   - Timestamps (createTime, endTime) are written as RFC 3339 strings and
//     read from either those (the AWS CLI's output) or the API's epoch
//     seconds (1411081164.379).
//   - Members of the API that a Group does not keep are ignored when
//     decoding: serviceRoleArn (fleetdeploy acts through the caller's
//     clients), applicationId, gitHubAccountName and linkedToGitHub.
//   - Members that are fleetdeploy's own: version (both), and the group's
//     ignoreApplicationStopFailures and fileExistsBehavior, which CodeDeploy
//     takes per deployment (CreateDeployment) and a Group carries as the
//     default of its deployments.
//
// Groups stored before the selector was flattened, with its members under
// "selector", still decode.

// groupFields is Group without its methods, for the JSON methods.
type groupFields Group

// MarshalJSON encodes g as CodeDeploy's DeploymentGroupInfo, with the
// selector's members at the top level.
func (g Group) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		groupFields
		target.Selector
	}{groupFields(g), g.Selector})
}

// UnmarshalJSON decodes CodeDeploy's DeploymentGroupInfo or
// CreateDeploymentGroup input (see MarshalJSON), and the earlier form that
// nested the selector under "selector" (read only when the top level has
// no selector member).
func (g *Group) UnmarshalJSON(b []byte) error {
	w := struct {
		*groupFields
		target.Selector
		AutoScalingGroups []autoScalingGroupName `json:"autoScalingGroups"`
		LegacySelector    *target.Selector       `json:"selector"`
	}{groupFields: (*groupFields)(g)}
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	sel := w.Selector
	sel.AutoScalingGroups = nil
	for _, n := range w.AutoScalingGroups {
		sel.AutoScalingGroups = append(sel.AutoScalingGroups, string(n))
	}
	if sel.IsZero() && w.LegacySelector != nil {
		sel = *w.LegacySelector
	}
	g.Selector = sel
	return nil
}

// autoScalingGroupName decodes one entry of autoScalingGroups: a name, or
// CodeDeploy's AutoScalingGroup object {name, hook, terminationHook}.
type autoScalingGroupName string

// UnmarshalJSON accepts a string or an object with a name.
func (n *autoScalingGroupName) UnmarshalJSON(b []byte) error {
	if b = bytes.TrimSpace(b); len(b) > 0 && b[0] == '"' {
		return json.Unmarshal(b, (*string)(n))
	}
	var obj struct {
		Name string `json:"name"`
	}
	if err := json.Unmarshal(b, &obj); err != nil {
		return fmt.Errorf("autoScalingGroups: want a name or an object with a name: %w", err)
	}
	*n = autoScalingGroupName(obj.Name)
	return nil
}

// maxEpochSeconds bounds decoded epoch seconds (the year 10000) so that
// milliseconds fit an int64.
const maxEpochSeconds = 253402300800

// wireTime decodes a timestamp written as RFC 3339 or as CodeDeploy's
// epoch seconds. null leaves it unchanged.
type wireTime struct{ t *time.Time }

// UnmarshalJSON accepts null, a JSON string (RFC 3339) or a number (seconds
// since the Unix epoch, with a fraction).
func (w wireTime) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case string(b) == "null":
		return nil
	case len(b) > 0 && b[0] == '"':
		return w.t.UnmarshalJSON(b)
	}
	f, err := strconv.ParseFloat(string(b), 64)
	if err != nil {
		return fmt.Errorf("want an RFC 3339 string or epoch seconds, got %s", b)
	}
	if math.IsNaN(f) || math.Abs(f) > maxEpochSeconds {
		return fmt.Errorf("epoch seconds %s out of range", b)
	}
	*w.t = time.UnixMilli(int64(math.Round(f * 1e3))).UTC()
	return nil
}

// applicationFields is Application without its methods.
type applicationFields Application

// UnmarshalJSON decodes CodeDeploy's ApplicationInfo (createTime as RFC 3339
// or epoch seconds).
func (a *Application) UnmarshalJSON(b []byte) error {
	w := struct {
		*applicationFields
		CreateTime wireTime `json:"createTime"`
	}{applicationFields: (*applicationFields)(a), CreateTime: wireTime{&a.CreateTime}}
	return json.Unmarshal(b, &w)
}

// lastDeploymentFields is LastDeploymentInfo without its methods.
type lastDeploymentFields LastDeploymentInfo

// UnmarshalJSON decodes CodeDeploy's LastDeploymentInfo (createTime and
// endTime as RFC 3339 or epoch seconds).
func (l *LastDeploymentInfo) UnmarshalJSON(b []byte) error {
	w := struct {
		*lastDeploymentFields
		CreateTime wireTime `json:"createTime"`
		EndTime    wireTime `json:"endTime"`
	}{lastDeploymentFields: (*lastDeploymentFields)(l), CreateTime: wireTime{&l.CreateTime}, EndTime: wireTime{&l.EndTime}}
	return json.Unmarshal(b, &w)
}

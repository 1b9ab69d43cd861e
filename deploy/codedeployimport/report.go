package codedeployimport

import "strings"

// Issue is one CodeDeploy setting that did not map onto fleetdeploy, or one
// record left out, with the reason.
type Issue struct {
	// Application and Group name the deployment group the issue is about
	// (Group empty for an application); Config names the deployment
	// configuration instead. One of Application and Config is set.
	Application string
	Group       string
	Config      string
	// Field is the path of the setting as CodeDeploy's API spells it, e.g.
	// "serviceRoleArn" or "autoScalingGroups[0].hook".
	Field string
	// Reason says why it does not map and what happens instead.
	Reason string
}

// Subject names what the issue is about: "application A", "deployment
// group A/G" or "deployment configuration C".
func (i Issue) Subject() string {
	switch {
	case i.Config != "":
		return "deployment configuration " + i.Config
	case i.Group != "":
		return "deployment group " + i.Application + "/" + i.Group
	}
	return "application " + i.Application
}

// String returns "subject: field: reason".
func (i Issue) String() string {
	if i.Field == "" {
		return i.Subject() + ": " + i.Reason
	}
	return i.Subject() + ": " + i.Field + ": " + i.Reason
}

// Report lists what an import could not carry over. An empty report means
// every setting of every record read was mapped.
type Report struct {
	Issues []Issue
}

func (r *Report) add(i Issue) { r.Issues = append(r.Issues, i) }

// String returns one issue per line, or "" for an empty report.
func (r Report) String() string {
	var b strings.Builder
	for _, i := range r.Issues {
		b.WriteString(i.String())
		b.WriteByte('\n')
	}
	return b.String()
}

// For returns the issues about one deployment group (config empty) or one
// configuration (application and group empty).
func (r Report) For(application, group, config string) []Issue {
	var out []Issue
	for _, i := range r.Issues {
		if i.Application == application && i.Group == group && i.Config == config {
			out = append(out, i)
		}
	}
	return out
}

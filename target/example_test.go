package target_test

import (
	"errors"
	"fmt"

	"github.com/fleetdeploy/fleetdeploy/config"
	"github.com/fleetdeploy/fleetdeploy/target"
)

// A tag set ANDs its groups and ORs the filters inside each; Auto Scaling
// groups add their instances on top.
func ExampleSelector_Matches() {
	sel := target.Selector{
		EC2TagSet: target.EC2TagSet{List: [][]target.TagFilter{
			{ // group 1: Name=AppServer OR Name=WebServer
				{Key: "Name", Value: "AppServer", Type: target.KeyAndValue},
				{Key: "Name", Value: "WebServer", Type: target.KeyAndValue},
			},
			{{Key: "Env", Value: "Prod", Type: target.KeyAndValue}},    // group 2
			{{Key: "Region", Value: "East", Type: target.KeyAndValue}}, // group 3
		}},
		AutoScalingGroups: []string{"web-asg"},
	}
	fleet := []target.Target{
		{ID: "i-1", Tags: map[string]string{"Name": "WebServer", "Env": "Prod", "Region": "East"}},
		{ID: "i-2", Tags: map[string]string{"Name": "WebServer", "Env": "Prod"}},
		{ID: "i-3", AutoScalingGroup: "web-asg"},
		{ID: "lab-1", OnPremises: true, Tags: map[string]string{"Name": "AppServer", "Env": "Prod", "Region": "East"}},
	}
	for _, t := range fleet {
		fmt.Println(t.ID, sel.Matches(t))
	}
	// Output:
	// i-1 true
	// i-2 false
	// i-3 true
	// lab-1 false
}

// Validate reports every broken rule, each naming its field.
func ExampleSelector_Validate() {
	sel := target.Selector{
		EC2TagFilters: []target.TagFilter{{Key: "Env", Type: target.KeyAndValue}},
		EC2TagSet:     target.EC2TagSet{List: [][]target.TagFilter{{{Key: "Env", Type: target.KeyOnly}}}},
	}
	err := sel.Validate()
	fmt.Println(err)
	fmt.Println(errors.Is(err, target.ErrInvalidEC2TagCombination))
	// Output:
	// target: invalid selector: 2 problems:
	//   ec2TagFilters: must not be combined with ec2TagSet; use one or the other (InvalidEC2TagCombination)
	//   ec2TagFilters[0].Value: is required for type KEY_AND_VALUE
	// true
}

// The events a target runs depend on the platform, the situation and
// whether the group has a load balancer.
func ExampleSequence_Events() {
	for _, s := range []target.Sequence{
		{Platform: config.Server, Kind: target.KindInPlace},
		{Platform: config.Server, Kind: target.KindInPlace, LoadBalancer: true},
		{Platform: config.Server, Kind: target.KindBlueGreenOriginal, LoadBalancer: true},
		{Platform: config.Server, Kind: target.KindAutoScalingTermination, LoadBalancer: true},
		{Platform: config.Lambda, Kind: target.KindTrafficShift},
		{Platform: config.ECS, Kind: target.KindTrafficShift},
	} {
		events, err := s.Events()
		if err != nil {
			fmt.Println(err)
			continue
		}
		fmt.Println(s, events)
	}
	// Output:
	// Server/InPlace [ApplicationStop DownloadBundle BeforeInstall Install AfterInstall ApplicationStart ValidateService]
	// Server/InPlace+LB [BeforeBlockTraffic BlockTraffic AfterBlockTraffic ApplicationStop DownloadBundle BeforeInstall Install AfterInstall ApplicationStart ValidateService BeforeAllowTraffic AllowTraffic AfterAllowTraffic]
	// Server/BlueGreenOriginal+LB [BeforeBlockTraffic BlockTraffic AfterBlockTraffic]
	// Server/AutoScalingTermination+LB [BeforeBlockTraffic BlockTraffic AfterBlockTraffic ApplicationStop]
	// Lambda/TrafficShift [BeforeAllowTraffic AllowTraffic AfterAllowTraffic]
	// ECS/TrafficShift [BeforeInstall Install AfterInstall AllowTestTraffic AfterAllowTestTraffic BeforeAllowTraffic AllowTraffic AfterAllowTraffic]
}

// Each event is performed by one role; hooks may be attached only to
// scriptable events.
func ExampleLifecycleEvent_Role() {
	seq := target.Sequence{Platform: config.ECS, Kind: target.KindTrafficShift}
	events, _ := seq.Events()
	for _, e := range events {
		fmt.Printf("%-22s %-17s scriptable=%v\n", e, e.Role(config.ECS), e.Scriptable(config.ECS))
	}
	// Output:
	// BeforeInstall          HookInvoker       scriptable=true
	// Install                Provisioner       scriptable=false
	// AfterInstall           HookInvoker       scriptable=true
	// AllowTestTraffic       TrafficShifter    scriptable=false
	// AfterAllowTestTraffic  HookInvoker       scriptable=true
	// BeforeAllowTraffic     HookInvoker       scriptable=true
	// AllowTraffic           TrafficShifter    scriptable=false
	// AfterAllowTraffic      HookInvoker       scriptable=true
}

// The on-host agent asks whose scripts an event runs.
func ExampleDeploymentInfo_ScriptSource() {
	normal := target.DeploymentInfo{Creator: target.CreatorUser, DeploymentType: target.InPlace}
	rollback := target.DeploymentInfo{Creator: target.CreatorRollback, DeploymentType: target.BlueGreen}
	for _, e := range []target.LifecycleEvent{target.ApplicationStop, target.BeforeBlockTraffic, target.AfterInstall, target.AfterAllowTraffic} {
		fmt.Printf("%-18s %-14s %s\n", e, normal.ScriptSource(e), rollback.ScriptSource(e))
	}
	// Output:
	// ApplicationStop    LastSuccessful LastSuccessful
	// BeforeBlockTraffic LastSuccessful MostRecent
	// AfterInstall       Current        Current
	// AfterAllowTraffic  Current        LastSuccessful
}

// Validate names each role a deployment would need and the platform lacks.
func ExamplePlatform_Validate() {
	var p target.Platform // no roles at all
	fmt.Println(p.Validate(config.Server, target.InPlace, true))
	// Output:
	// target: platform for Server IN_PLACE deployments: 3 missing roles:
	//   platform has no Lister, needed for listing the deployment group's targets
	//   platform has no Installer, needed for event BeforeBlockTraffic of sequence Server/InPlace+LB
	//   platform has no TrafficController, needed for event BlockTraffic of sequence Server/InPlace+LB
}

package codedeployimport_test

import (
	"context"
	"fmt"

	"github.com/fleetdeploy/fleetdeploy/deploy"
	"github.com/fleetdeploy/fleetdeploy/deploy/codedeployimport"
)

// Import a CodeDeploy application, its deployment group and a custom
// configuration, and write them into a store. The CodeDeploy client here
// talks to a local test server holding API Reference-shaped records; in
// production it is codedeploy.NewFromConfig(cfg).
func Example() {
	ctx := context.Background()
	p, client, stop := startPeer("")
	defer stop()
	p.app(`{"applicationName": "WordPress_App", "computePlatform": "Server", "createTime": 1407878168.078}`)
	p.group(`{"applicationName": "WordPress_App", "deploymentGroupName": "WordPress_DG",
		"deploymentGroupId": "a1b2c3d4-5678-90ab-cdef-11111EXAMPLE", "deploymentConfigName": "ThreeQuartersHealthy",
		"ec2TagFilters": [{"Type": "KEY_AND_VALUE", "Value": "CodeDeployDemo", "Key": "Name"}],
		"autoScalingGroups": [{"name": "CodeDeployDemo-ASG", "hook": "CodeDeploy-managed-automatic-launch-deployment-hook-WordPress_DG-1"}],
		"serviceRoleArn": "arn:aws:iam::123456789012:role/CodeDeployDemoRole"}`)
	p.config(`{"deploymentConfigName": "ThreeQuartersHealthy", "minimumHealthyHosts": {"type": "FLEET_PERCENT", "value": 75}}`)

	im, err := codedeployimport.New(client)
	if err != nil {
		fmt.Println(err)
		return
	}
	res, err := im.Import(ctx)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, g := range res.Groups {
		fmt.Printf("group %s/%s: config %s, %d tag filter(s), Auto Scaling groups %v\n",
			g.ApplicationName, g.Name, g.DeploymentConfigName, len(g.Selector.EC2TagFilters), g.Selector.AutoScalingGroups)
	}
	for _, c := range res.Configs {
		fmt.Printf("config %s: %s\n", c.Name, c.MinimumHealthyHosts)
	}
	fmt.Print("not imported:\n", res.Report)

	store := deploy.NewMemoryStore()
	for range 2 {
		sum, err := codedeployimport.Write(ctx, store, res)
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Printf("write: %d group(s) created, %d unchanged\n", sum.GroupsCreated, sum.GroupsUnchanged)
	}
	// Output:
	// group WordPress_App/WordPress_DG: config ThreeQuartersHealthy, 1 tag filter(s), Auto Scaling groups [CodeDeployDemo-ASG]
	// config ThreeQuartersHealthy: FLEET_PERCENT 75
	// not imported:
	// deployment group WordPress_App/WordPress_DG: serviceRoleArn: arn:aws:iam::123456789012:role/CodeDeployDemoRole is not used: fleetdeploy acts through the AWS clients the caller gives its adapters, with their credentials
	// deployment group WordPress_App/WordPress_DG: autoScalingGroups[0].hook: CodeDeploy-managed-automatic-launch-deployment-hook-WordPress_DG-1: CodeDeploy created this lifecycle hook on Auto Scaling group CodeDeployDemo-ASG and answers it; fleetdeploy does not use or remove it (CodeDeploy removes it when the group no longer names the Auto Scaling group)
	// write: 1 group(s) created, 0 unchanged
	// write: 0 group(s) created, 1 unchanged
}

package config_test

import (
	"errors"
	"fmt"

	"github.com/fleetdeploy/fleetdeploy/config"
)

func ExampleLookup() {
	c, err := config.Lookup("CodeDeployDefault.HalfAtATime")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(c.Name, c.Platform(), c.MinimumHealthyHosts)
	// Output: CodeDeployDefault.HalfAtATime Server FLEET_PERCENT 50
}

func ExampleConfig_Validate() {
	c := config.Config{
		Name:                "CodeDeployDefault.Mine",
		MinimumHealthyHosts: &config.MinimumHealthyHosts{Type: config.FleetPercent, Value: 100},
	}
	err := c.Validate()
	fmt.Println(err)
	var p *config.Problem
	if errors.As(err, &p) {
		fmt.Printf("first problem: field %s, kind %v\n", p.Field, p.Kind)
	}
	// Output:
	// config: invalid deployment configuration "CodeDeployDefault.Mine": 2 problems:
	//   deploymentConfigName: must not begin with "CodeDeployDefault.", which is reserved for predefined configurations (a custom configuration cannot replace or alter one)
	//   minimumHealthyHosts.value: FLEET_PERCENT must be 0 or more and less than 100; got 100
	// first problem: field deploymentConfigName, kind config: invalid deployment configuration
}

func ExampleTrafficRouting_Steps() {
	c := config.Config{
		Name:            "Linear30Every10",
		ComputePlatform: config.ECS,
		TrafficRouting: &config.TrafficRouting{
			Type:            config.TimeBasedLinear,
			TimeBasedLinear: &config.Linear{LinearPercentage: 30, LinearInterval: 10},
		},
	}
	for _, s := range c.TrafficRouting.Steps() {
		fmt.Printf("%v: %d%%\n", s.At, s.Weight)
	}
	// Output:
	// 0s: 30%
	// 10m0s: 60%
	// 20m0s: 90%
	// 30m0s: 100%
}

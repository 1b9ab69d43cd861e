package config

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// DefaultName is the configuration used when neither the deployment nor its
// deployment group names one (API Reference, CreateDeployment).
const DefaultName = "CodeDeployDefault.OneAtATime"

// PredefinedPrefix begins the name of every predefined configuration; custom
// configurations may not use it.
const PredefinedPrefix = "CodeDeployDefault."

// ErrUnknownConfig is returned by Lookup when no configuration has the name.
var ErrUnknownConfig = errors.New("config: unknown deployment configuration")

func server(name string, t MinimumHealthyHostsType, v int) Config {
	return Config{Name: name, ComputePlatform: Server, MinimumHealthyHosts: &MinimumHealthyHosts{Type: t, Value: v}}
}

func canary(p ComputePlatform, name string, percent, minutes int) Config {
	return Config{Name: name, ComputePlatform: p, TrafficRouting: &TrafficRouting{
		Type: TimeBasedCanary, TimeBasedCanary: &Canary{CanaryPercentage: percent, CanaryInterval: minutes}}}
}

func linear(p ComputePlatform, name string, percent, minutes int) Config {
	return Config{Name: name, ComputePlatform: p, TrafficRouting: &TrafficRouting{
		Type: TimeBasedLinear, TimeBasedLinear: &Linear{LinearPercentage: percent, LinearInterval: minutes}}}
}

func allAtOnce(p ComputePlatform, name string) Config {
	return Config{Name: name, ComputePlatform: p, TrafficRouting: &TrafficRouting{Type: AllAtOnce}}
}

// predefined builds the table of the User Guide's "Working with deployment
// configurations in CodeDeploy" (the types of the Server ones are
// fleetdeploy's decision; see the package documentation). It is a
// function, not a package variable, so that no caller can change it.
func predefined() []Config {
	return []Config{
		server("CodeDeployDefault.AllAtOnce", HostCount, 0),
		server("CodeDeployDefault.HalfAtATime", FleetPercent, 50),
		server("CodeDeployDefault.OneAtATime", MostConcurrency, 1),

		canary(Lambda, "CodeDeployDefault.LambdaCanary10Percent5Minutes", 10, 5),
		canary(Lambda, "CodeDeployDefault.LambdaCanary10Percent10Minutes", 10, 10),
		canary(Lambda, "CodeDeployDefault.LambdaCanary10Percent15Minutes", 10, 15),
		canary(Lambda, "CodeDeployDefault.LambdaCanary10Percent30Minutes", 10, 30),
		linear(Lambda, "CodeDeployDefault.LambdaLinear10PercentEvery1Minute", 10, 1),
		linear(Lambda, "CodeDeployDefault.LambdaLinear10PercentEvery2Minutes", 10, 2),
		linear(Lambda, "CodeDeployDefault.LambdaLinear10PercentEvery3Minutes", 10, 3),
		linear(Lambda, "CodeDeployDefault.LambdaLinear10PercentEvery10Minutes", 10, 10),
		allAtOnce(Lambda, "CodeDeployDefault.LambdaAllAtOnce"),

		linear(ECS, "CodeDeployDefault.ECSLinear10PercentEvery1Minutes", 10, 1),
		linear(ECS, "CodeDeployDefault.ECSLinear10PercentEvery3Minutes", 10, 3),
		canary(ECS, "CodeDeployDefault.ECSCanary10Percent5Minutes", 10, 5),
		canary(ECS, "CodeDeployDefault.ECSCanary10Percent15Minutes", 10, 15),
		allAtOnce(ECS, "CodeDeployDefault.ECSAllAtOnce"),
	}
}

// PredefinedConfigs returns a copy of every predefined configuration, Server
// first, then Lambda, then ECS, in the order of the CodeDeploy User Guide.
func PredefinedConfigs() []Config { return predefined() }

// Predefined returns a copy of the predefined configuration with the given
// name. Names are matched exactly, as CodeDeploy does.
func Predefined(name string) (Config, bool) {
	for _, c := range predefined() {
		if c.Name == name {
			return c, true
		}
	}
	return Config{}, false
}

// Lookup resolves a configuration name: the empty name is DefaultName; a
// predefined name returns a copy of that configuration; otherwise the first
// configuration in custom with that name is returned (a copy). An unknown
// name returns an error wrapping ErrUnknownConfig that lists the names it
// knows.
func Lookup(name string, custom ...Config) (Config, error) {
	if name == "" {
		name = DefaultName
	}
	if c, ok := Predefined(name); ok {
		return c, nil
	}
	for _, c := range custom {
		if c.Name == name {
			return c.Clone(), nil
		}
	}
	names := make([]string, 0, len(custom)+17)
	for _, c := range predefined() {
		names = append(names, c.Name)
	}
	for _, c := range custom {
		names = append(names, c.Name)
	}
	hint := ""
	if i := slices.IndexFunc(names, func(n string) bool { return strings.EqualFold(n, name) }); i >= 0 {
		hint = fmt.Sprintf(" (did you mean %q? names are case-sensitive)", names[i])
	}
	return Config{}, fmt.Errorf("%w %q%s; known configurations: %s", ErrUnknownConfig, name, hint, strings.Join(names, ", "))
}

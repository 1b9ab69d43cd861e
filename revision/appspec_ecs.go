package revision

import (
	"fmt"
	"strings"

	"go.yaml.in/yaml/v3"
)

// AssignPublicIP says whether an ECS task's network interface gets a public
// IP address, spelled as Amazon ECS spells it.
type AssignPublicIP string

// The AssignPublicIP values.
const (
	AssignPublicIPEnabled  AssignPublicIP = "ENABLED"
	AssignPublicIPDisabled AssignPublicIP = "DISABLED"
)

// Values returns every valid AssignPublicIP.
func (AssignPublicIP) Values() []AssignPublicIP {
	return []AssignPublicIP{AssignPublicIPEnabled, AssignPublicIPDisabled}
}

// ECSService is the resource of an ECS AppSpec (User Guide, "AppSpec
// 'resources' section (Amazon ECS and AWS Lambda deployments only)"): what the
// replacement task set runs and how traffic reaches it.
type ECSService struct {
	// LogicalName is the resource's key in the AppSpec, for example
	// "TargetService". It is informational.
	LogicalName string
	// TaskDefinition is the task definition of the replacement task set,
	// normally its ARN. It is not checked further, so that build pipelines
	// may leave a placeholder to be substituted.
	TaskDefinition string
	// LoadBalancerInfo names the container and port that receive traffic.
	LoadBalancerInfo *ECSLoadBalancerInfo
	// PlatformVersion is the Fargate platform version; empty means LATEST.
	PlatformVersion string
	// NetworkConfiguration, when set, replaces the service's network
	// settings; all of its settings must then be given. Nil keeps the
	// service's current settings.
	NetworkConfiguration *ECSNetworkConfiguration
	// CapacityProviderStrategy, when set, is the replacement task set's
	// capacity provider strategy. AWS documents no such AppSpec property;
	// accepting it is fleetdeploy's decision (see package fleetdeploy,
	// "Where fleetdeploy decides").
	CapacityProviderStrategy []ECSCapacityProviderStrategyItem
}

// ECSLoadBalancerInfo is the LoadBalancerInfo of an ECS resource.
type ECSLoadBalancerInfo struct {
	// ContainerName is a container of the task definition.
	ContainerName string
	// ContainerPort is the container port traffic is routed to (1-65535).
	ContainerPort int
}

// ECSNetworkConfiguration is the NetworkConfiguration of an ECS resource.
type ECSNetworkConfiguration struct {
	AwsvpcConfiguration ECSAwsvpcConfiguration
}

// ECSAwsvpcConfiguration is the awsvpc network configuration of the
// replacement task set. All three settings are required (User Guide,
// "AppSpec 'resources' section (Amazon ECS and AWS Lambda deployments only)").
type ECSAwsvpcConfiguration struct {
	Subnets        []string
	SecurityGroups []string
	AssignPublicIP AssignPublicIP
}

// ECSCapacityProviderStrategyItem is one entry of a capacity provider
// strategy, with the bounds Amazon ECS gives it.
type ECSCapacityProviderStrategyItem struct {
	// Base is how many tasks, at least, run on this provider (0-100000).
	// At most one item of a strategy may have a Base above 0.
	Base int
	// CapacityProvider is the provider's name, for example "FARGATE_SPOT".
	CapacityProvider string
	// Weight is the provider's relative share of tasks (0-1000).
	Weight int
}

// ECS bounds, from the Amazon ECS API reference.
const (
	maxECSPort   = 65535
	maxECSBase   = 100000
	maxECSWeight = 1000
)

// ecsService reads the Properties of an ECS resource.
func (p *appspecParser) ecsService(logical string, n *yaml.Node, path string) *ECSService {
	m := p.fields(n, path, "TaskDefinition", "LoadBalancerInfo", "PlatformVersion", "NetworkConfiguration", "CapacityProviderStrategy")
	if m == nil {
		m = map[string]*yaml.Node{}
	}
	s := &ECSService{
		LogicalName:     logical,
		TaskDefinition:  p.str(m["TaskDefinition"], appspecJoin(path, "TaskDefinition")),
		PlatformVersion: p.str(m["PlatformVersion"], appspecJoin(path, "PlatformVersion")),
	}
	if v := m["LoadBalancerInfo"]; !yamlIsNull(v) {
		lp := appspecJoin(path, "LoadBalancerInfo")
		if lb := p.fields(v, lp, "ContainerName", "ContainerPort"); lb != nil {
			info := &ECSLoadBalancerInfo{ContainerName: p.str(lb["ContainerName"], appspecJoin(lp, "ContainerName"))}
			pp := appspecJoin(lp, "ContainerPort")
			if port, ok := p.integer(lb["ContainerPort"], pp, "must be a port number (1-65535)"); ok {
				info.ContainerPort = appspecClampInt(port)
			}
			s.LoadBalancerInfo = info
		}
	}
	if v := m["NetworkConfiguration"]; !yamlIsNull(v) {
		np := appspecJoin(path, "NetworkConfiguration")
		if nc := p.fields(v, np, "AwsvpcConfiguration"); nc != nil {
			cfg := &ECSNetworkConfiguration{}
			ap := appspecJoin(np, "AwsvpcConfiguration")
			if vpc := p.fields(nc["AwsvpcConfiguration"], ap, "Subnets", "SecurityGroups", "AssignPublicIp"); vpc != nil {
				cfg.AwsvpcConfiguration = ECSAwsvpcConfiguration{
					Subnets:        p.strs(vpc["Subnets"], appspecJoin(ap, "Subnets")),
					SecurityGroups: p.strs(vpc["SecurityGroups"], appspecJoin(ap, "SecurityGroups")),
					AssignPublicIP: AssignPublicIP(p.str(vpc["AssignPublicIp"], appspecJoin(ap, "AssignPublicIp"))),
				}
			}
			s.NetworkConfiguration = cfg
		}
	}
	cp := appspecJoin(path, "CapacityProviderStrategy")
	for i, it := range p.items(m["CapacityProviderStrategy"], cp) {
		ip := appspecIndex(cp, i)
		f := p.fields(it, ip, "Base", "CapacityProvider", "Weight")
		if f == nil {
			f = map[string]*yaml.Node{}
		}
		item := ECSCapacityProviderStrategyItem{CapacityProvider: p.str(f["CapacityProvider"], appspecJoin(ip, "CapacityProvider"))}
		if b, ok := p.integer(f["Base"], appspecJoin(ip, "Base"), fmt.Sprintf("must be an integer from 0 to %d", maxECSBase)); ok {
			item.Base = appspecClampInt(b)
		}
		if w, ok := p.integer(f["Weight"], appspecJoin(ip, "Weight"), fmt.Sprintf("must be an integer from 0 to %d", maxECSWeight)); ok {
			item.Weight = appspecClampInt(w)
		}
		s.CapacityProviderStrategy = append(s.CapacityProviderStrategy, item)
	}
	return s
}

// appspecClampInt converts v to int, keeping it within ±2^31 so that an absurd
// value stays absurd (and reported) on every architecture.
func appspecClampInt(v int64) int {
	const limit = 1 << 31
	return int(max(min(v, limit), -limit))
}

// check reports the rules an ECS resource breaks; path is its Properties.
func (s *ECSService) check(path string, ps *appspecProblems) {
	appspecRequire(ps, appspecJoin(path, "TaskDefinition"), s.TaskDefinition)
	lp := appspecJoin(path, "LoadBalancerInfo")
	if s.LoadBalancerInfo == nil {
		ps.addf(lp, "is required: the ContainerName and ContainerPort that receive traffic")
	} else {
		appspecRequire(ps, appspecJoin(lp, "ContainerName"), s.LoadBalancerInfo.ContainerName)
		if port := s.LoadBalancerInfo.ContainerPort; port < 1 || port > maxECSPort {
			rule := "must be a port number (1-65535)"
			if port == 0 {
				rule = "is required: " + rule
			}
			ps.addf(appspecJoin(lp, "ContainerPort"), rule)
		}
	}
	if nc := s.NetworkConfiguration; nc != nil {
		ap := appspecJoin(path, "NetworkConfiguration.AwsvpcConfiguration")
		vpc := nc.AwsvpcConfiguration
		var missing []string
		if len(vpc.Subnets) == 0 {
			missing = append(missing, "Subnets")
		}
		if len(vpc.SecurityGroups) == 0 {
			missing = append(missing, "SecurityGroups")
		}
		if vpc.AssignPublicIP == "" {
			missing = append(missing, "AssignPublicIp")
		}
		if len(missing) > 0 {
			ps.addf(ap, "give all of Subnets, SecurityGroups and AssignPublicIp, or leave out NetworkConfiguration; missing: "+strings.Join(missing, ", "))
		}
		for i, sn := range vpc.Subnets {
			appspecRequire(ps, appspecIndex(appspecJoin(ap, "Subnets"), i), sn)
		}
		for i, sg := range vpc.SecurityGroups {
			appspecRequire(ps, appspecIndex(appspecJoin(ap, "SecurityGroups"), i), sg)
		}
		if v := vpc.AssignPublicIP; v != "" && !appspecEnumOK(v) {
			ps.addf(appspecJoin(ap, "AssignPublicIp"), "must be ENABLED or DISABLED, not "+appspecQuote(string(v)))
		}
	}
	cp := appspecJoin(path, "CapacityProviderStrategy")
	withBase := -1
	seen := map[string]int{}
	for i, it := range s.CapacityProviderStrategy {
		ip := appspecIndex(cp, i)
		appspecRequire(ps, appspecJoin(ip, "CapacityProvider"), it.CapacityProvider)
		if first, dup := seen[it.CapacityProvider]; dup && it.CapacityProvider != "" {
			ps.addf(appspecJoin(ip, "CapacityProvider"), fmt.Sprintf("capacity provider %q is already listed at %s", it.CapacityProvider, appspecIndex(cp, first)))
		} else {
			seen[it.CapacityProvider] = i
		}
		if it.Base < 0 || it.Base > maxECSBase {
			ps.addf(appspecJoin(ip, "Base"), fmt.Sprintf("must be an integer from 0 to %d", maxECSBase))
		} else if it.Base > 0 {
			if withBase >= 0 {
				ps.addf(appspecJoin(ip, "Base"), fmt.Sprintf("only one capacity provider may have a Base above 0 (%s already has one)", appspecIndex(cp, withBase)))
			} else {
				withBase = i
			}
		}
		if it.Weight < 0 || it.Weight > maxECSWeight {
			ps.addf(appspecJoin(ip, "Weight"), fmt.Sprintf("must be an integer from 0 to %d", maxECSWeight))
		}
	}
}

package config

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-multierror"
)

func ptr[T any](v T) *T { return &v }

// TestPredefinedTable checks every predefined configuration against the
// tables of the User Guide's "Working with deployment configurations in
// CodeDeploy" (the types of the Server ones are fleetdeploy's decision; see
// the package documentation).
func TestPredefinedTable(t *testing.T) {
	type want struct {
		platform  ComputePlatform
		min       *MinimumHealthyHosts
		routing   TrafficRoutingType
		pct, min_ int
	}
	cases := map[string]want{
		"CodeDeployDefault.AllAtOnce":                           {platform: Server, min: &MinimumHealthyHosts{HostCount, 0}},
		"CodeDeployDefault.HalfAtATime":                         {platform: Server, min: &MinimumHealthyHosts{FleetPercent, 50}},
		"CodeDeployDefault.OneAtATime":                          {platform: Server, min: &MinimumHealthyHosts{MostConcurrency, 1}},
		"CodeDeployDefault.LambdaCanary10Percent5Minutes":       {platform: Lambda, routing: TimeBasedCanary, pct: 10, min_: 5},
		"CodeDeployDefault.LambdaCanary10Percent10Minutes":      {platform: Lambda, routing: TimeBasedCanary, pct: 10, min_: 10},
		"CodeDeployDefault.LambdaCanary10Percent15Minutes":      {platform: Lambda, routing: TimeBasedCanary, pct: 10, min_: 15},
		"CodeDeployDefault.LambdaCanary10Percent30Minutes":      {platform: Lambda, routing: TimeBasedCanary, pct: 10, min_: 30},
		"CodeDeployDefault.LambdaLinear10PercentEvery1Minute":   {platform: Lambda, routing: TimeBasedLinear, pct: 10, min_: 1},
		"CodeDeployDefault.LambdaLinear10PercentEvery2Minutes":  {platform: Lambda, routing: TimeBasedLinear, pct: 10, min_: 2},
		"CodeDeployDefault.LambdaLinear10PercentEvery3Minutes":  {platform: Lambda, routing: TimeBasedLinear, pct: 10, min_: 3},
		"CodeDeployDefault.LambdaLinear10PercentEvery10Minutes": {platform: Lambda, routing: TimeBasedLinear, pct: 10, min_: 10},
		"CodeDeployDefault.LambdaAllAtOnce":                     {platform: Lambda, routing: AllAtOnce},
		"CodeDeployDefault.ECSLinear10PercentEvery1Minutes":     {platform: ECS, routing: TimeBasedLinear, pct: 10, min_: 1},
		"CodeDeployDefault.ECSLinear10PercentEvery3Minutes":     {platform: ECS, routing: TimeBasedLinear, pct: 10, min_: 3},
		"CodeDeployDefault.ECSCanary10Percent5Minutes":          {platform: ECS, routing: TimeBasedCanary, pct: 10, min_: 5},
		"CodeDeployDefault.ECSCanary10Percent15Minutes":         {platform: ECS, routing: TimeBasedCanary, pct: 10, min_: 15},
		"CodeDeployDefault.ECSAllAtOnce":                        {platform: ECS, routing: AllAtOnce},
	}
	all := PredefinedConfigs()
	if len(all) != len(cases) {
		t.Errorf("PredefinedConfigs() has %d configurations; the User Guide lists %d", len(all), len(cases))
	}
	for name, w := range cases {
		c, ok := Predefined(name)
		if !ok {
			t.Errorf("Predefined(%q) not found", name)
			continue
		}
		if c.Name != name || c.Platform() != w.platform {
			t.Errorf("%s: name %q platform %q; want platform %q", name, c.Name, c.Platform(), w.platform)
		}
		if err := c.Validate(); err != nil {
			t.Errorf("%s: a predefined configuration must validate: %v", name, err)
		}
		if w.min != nil {
			if c.MinimumHealthyHosts == nil || *c.MinimumHealthyHosts != *w.min || c.TrafficRouting != nil {
				t.Errorf("%s: minimumHealthyHosts = %v, routing %v; want %v and no routing", name, c.MinimumHealthyHosts, c.TrafficRouting, *w.min)
			}
			continue
		}
		r := c.TrafficRouting
		if r == nil || r.Type != w.routing || c.MinimumHealthyHosts != nil {
			t.Fatalf("%s: routing %+v; want type %s", name, r, w.routing)
		}
		switch w.routing {
		case TimeBasedCanary:
			if r.TimeBasedCanary == nil || *r.TimeBasedCanary != (Canary{w.pct, w.min_}) || r.TimeBasedLinear != nil {
				t.Errorf("%s: canary %+v; want %d%%/%d min", name, r.TimeBasedCanary, w.pct, w.min_)
			}
		case TimeBasedLinear:
			if r.TimeBasedLinear == nil || *r.TimeBasedLinear != (Linear{w.pct, w.min_}) || r.TimeBasedCanary != nil {
				t.Errorf("%s: linear %+v; want %d%%/%d min", name, r.TimeBasedLinear, w.pct, w.min_)
			}
		case AllAtOnce:
			if r.TimeBasedCanary != nil || r.TimeBasedLinear != nil {
				t.Errorf("%s: all-at-once carries parameters %+v", name, r)
			}
		}
	}
	if !mustLookup(t, "CodeDeployDefault.OneAtATime").IsOneAtATime() || mustLookup(t, "CodeDeployDefault.HalfAtATime").IsOneAtATime() {
		t.Error("IsOneAtATime must be true for OneAtATime only")
	}
}

func mustLookup(t *testing.T, name string, custom ...Config) Config {
	t.Helper()
	c, err := Lookup(name, custom...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestPredefinedIsACopy checks that changing a returned configuration never
// changes what the next caller gets.
func TestPredefinedIsACopy(t *testing.T) {
	c, _ := Predefined("CodeDeployDefault.HalfAtATime")
	c.MinimumHealthyHosts.Value = 99
	l, _ := Predefined("CodeDeployDefault.ECSCanary10Percent5Minutes")
	l.TrafficRouting.TimeBasedCanary.CanaryPercentage = 50
	if c2, _ := Predefined("CodeDeployDefault.HalfAtATime"); c2.MinimumHealthyHosts.Value != 50 {
		t.Errorf("HalfAtATime changed through a returned copy: %v", c2.MinimumHealthyHosts)
	}
	if l2 := mustLookup(t, "CodeDeployDefault.ECSCanary10Percent5Minutes"); l2.TrafficRouting.TimeBasedCanary.CanaryPercentage != 10 {
		t.Errorf("ECSCanary10Percent5Minutes changed through a returned copy")
	}
	custom := Config{Name: "Z", ZonalConfig: &ZonalConfig{MonitorDurationInSeconds: ptr(int64(5))}, MinimumHealthyHosts: &MinimumHealthyHosts{HostCount, 1}}
	got := mustLookup(t, "Z", custom)
	*got.ZonalConfig.MonitorDurationInSeconds = 7
	if *custom.ZonalConfig.MonitorDurationInSeconds != 5 {
		t.Error("Lookup of a custom configuration must return a deep copy")
	}
}

func TestLookup(t *testing.T) {
	if c := mustLookup(t, ""); c.Name != "CodeDeployDefault.OneAtATime" {
		t.Errorf("empty name resolves to %q; the API Reference (CreateDeployment) says OneAtATime", c.Name)
	}
	custom := Config{Name: "ThreeQuartersHealthy", MinimumHealthyHosts: &MinimumHealthyHosts{FleetPercent, 75}}
	if c := mustLookup(t, "ThreeQuartersHealthy", custom); c.MinimumHealthyHosts.Value != 75 {
		t.Errorf("custom lookup returned %+v", c)
	}
	_, err := Lookup("CodeDeployDefault.halfAtATime")
	if !errors.Is(err, ErrUnknownConfig) {
		t.Fatalf("unknown name: err = %v; want ErrUnknownConfig", err)
	}
	for _, want := range []string{`"CodeDeployDefault.halfAtATime"`, `did you mean "CodeDeployDefault.HalfAtATime"`, "CodeDeployDefault.AllAtOnce"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q should contain %q", err, want)
		}
	}
}

// TestValidate covers the rules of the API Reference (CreateDeploymentConfig,
// MinimumHealthyHosts, ZonalConfig, TrafficRoutingConfig) and the User
// Guide's "CodeDeploy quotas". Cases named "create a configuration" are the
// examples of the User Guide's "Create a deployment configuration with
// CodeDeploy"; "quotas" cases come from "CodeDeploy quotas".
func TestValidate(t *testing.T) {
	hc := func(v int) *MinimumHealthyHosts { return &MinimumHealthyHosts{HostCount, v} }
	fp := func(v int) *MinimumHealthyHosts { return &MinimumHealthyHosts{FleetPercent, v} }
	cases := []struct {
		name  string
		c     Config
		field []string // empty: valid
	}{
		{"create a configuration: ThreeQuartersHealthy FLEET_PERCENT 75", Config{Name: "ThreeQuartersHealthy", MinimumHealthyHosts: fp(75)}, nil},
		{"create a configuration: 300Total50PerAZ zonal", Config{Name: "300Total50PerAZ", ComputePlatform: Server, MinimumHealthyHosts: hc(300),
			ZonalConfig: &ZonalConfig{MonitorDurationInSeconds: ptr(int64(3600)), MinimumHealthyHostsPerZone: hc(50)}}, nil},
		{"create a configuration: Canary25Percent45Minutes Lambda", Config{Name: "Canary25Percent45Minutes", ComputePlatform: Lambda,
			TrafficRouting: &TrafficRouting{Type: TimeBasedCanary, TimeBasedCanary: &Canary{25, 45}}}, nil},
		{"create a configuration: Canary25Percent45Minutes ECS", Config{Name: "Canary25Percent45Minutes", ComputePlatform: ECS,
			TrafficRouting: &TrafficRouting{Type: TimeBasedCanary, TimeBasedCanary: &Canary{25, 45}}}, nil},
		{"quotas: FLEET_PERCENT 100 invalid", Config{Name: "All", MinimumHealthyHosts: fp(100)}, []string{"minimumHealthyHosts.value"}},
		{"quotas: HOST_COUNT 0 valid", Config{Name: "Zero", MinimumHealthyHosts: hc(0)}, nil},
		{"quotas: FLEET_PERCENT 0 valid", Config{Name: "Zero", MinimumHealthyHosts: fp(0)}, nil},
		{"FLEET_PERCENT 99 valid", Config{Name: "x", MinimumHealthyHosts: fp(99)}, nil},
		{"negative HOST_COUNT", Config{Name: "x", MinimumHealthyHosts: hc(-1)}, []string{"minimumHealthyHosts.value"}},
		{"negative FLEET_PERCENT", Config{Name: "x", MinimumHealthyHosts: fp(-5)}, []string{"minimumHealthyHosts.value"}},
		{"MOST_CONCURRENCY is output only", Config{Name: "x", MinimumHealthyHosts: &MinimumHealthyHosts{MostConcurrency, 1}}, []string{"minimumHealthyHosts.type"}},
		{"unknown minimum type", Config{Name: "x", MinimumHealthyHosts: &MinimumHealthyHosts{"PERCENT", 1}}, []string{"minimumHealthyHosts.type"}},
		{"server needs a minimum", Config{Name: "x"}, []string{"minimumHealthyHosts"}},
		{"traffic routing on Server", Config{Name: "x", MinimumHealthyHosts: hc(1), TrafficRouting: &TrafficRouting{Type: AllAtOnce}}, []string{"trafficRoutingConfig"}},
		{"minimum on Lambda", Config{Name: "x", ComputePlatform: Lambda, MinimumHealthyHosts: hc(1), TrafficRouting: &TrafficRouting{Type: AllAtOnce}}, []string{"minimumHealthyHosts"}},
		{"zonal only on Server", Config{Name: "x", ComputePlatform: ECS, ZonalConfig: &ZonalConfig{}, TrafficRouting: &TrafficRouting{Type: AllAtOnce}}, []string{"zonalConfig"}},
		{"zonal negative duration", Config{Name: "x", MinimumHealthyHosts: hc(1), ZonalConfig: &ZonalConfig{FirstZoneMonitorDurationInSeconds: ptr(int64(-1))}}, []string{"zonalConfig.firstZoneMonitorDurationInSeconds"}},
		{"zonal per-zone FLEET_PERCENT 100", Config{Name: "x", MinimumHealthyHosts: hc(1), ZonalConfig: &ZonalConfig{MinimumHealthyHostsPerZone: fp(100)}}, []string{"zonalConfig.minimumHealthyHostsPerZone.value"}},
		{"lambda needs routing", Config{Name: "x", ComputePlatform: Lambda}, []string{"trafficRoutingConfig"}},
		{"canary without parameters", Config{Name: "x", ComputePlatform: ECS, TrafficRouting: &TrafficRouting{Type: TimeBasedCanary}}, []string{"trafficRoutingConfig.timeBasedCanary"}},
		{"canary 100%", Config{Name: "x", ComputePlatform: ECS, TrafficRouting: &TrafficRouting{Type: TimeBasedCanary, TimeBasedCanary: &Canary{100, 5}}}, []string{"trafficRoutingConfig.timeBasedCanary.canaryPercentage"}},
		{"linear 0% every 0 min", Config{Name: "x", ComputePlatform: ECS, TrafficRouting: &TrafficRouting{Type: TimeBasedLinear, TimeBasedLinear: &Linear{0, 0}}},
			[]string{"trafficRoutingConfig.timeBasedLinear.linearPercentage", "trafficRoutingConfig.timeBasedLinear.linearInterval"}},
		{"parameters of the other type", Config{Name: "x", ComputePlatform: Lambda, TrafficRouting: &TrafficRouting{Type: AllAtOnce, TimeBasedLinear: &Linear{10, 1}}}, []string{"trafficRoutingConfig.timeBasedLinear"}},
		{"unknown routing type", Config{Name: "x", ComputePlatform: Lambda, TrafficRouting: &TrafficRouting{Type: "Blue"}}, []string{"trafficRoutingConfig.type"}},
		{"Lambda shifting over 2880 minutes", Config{Name: "x", ComputePlatform: Lambda, TrafficRouting: &TrafficRouting{Type: TimeBasedCanary, TimeBasedCanary: &Canary{10, 2881}}}, []string{"trafficRoutingConfig"}},
		{"Lambda shifting of exactly 2880 minutes", Config{Name: "x", ComputePlatform: Lambda, TrafficRouting: &TrafficRouting{Type: TimeBasedLinear, TimeBasedLinear: &Linear{50, 2880}}}, nil},
		{"ECS has no 2880-minute rule", Config{Name: "x", ComputePlatform: ECS, TrafficRouting: &TrafficRouting{Type: TimeBasedCanary, TimeBasedCanary: &Canary{10, 5000}}}, nil},
		{"unknown platform", Config{Name: "x", ComputePlatform: "EC2"}, []string{"computePlatform"}},
		{"empty name", Config{MinimumHealthyHosts: hc(1)}, []string{"deploymentConfigName"}},
		{"name too long", Config{Name: strings.Repeat("a", 101), MinimumHealthyHosts: hc(1)}, []string{"deploymentConfigName"}},
		{"name of 100 characters", Config{Name: strings.Repeat("a", 100), MinimumHealthyHosts: hc(1)}, nil},
		{"name characters", Config{Name: "my config", MinimumHealthyHosts: hc(1)}, []string{"deploymentConfigName"}},
		{"every allowed character", Config{Name: "aZ09._+=,@-", MinimumHealthyHosts: hc(1)}, nil},
		{"reserved prefix", Config{Name: "CodeDeployDefault.Mine", MinimumHealthyHosts: hc(1)}, []string{"deploymentConfigName"}},
		{"predefined name with other values", Config{Name: "CodeDeployDefault.HalfAtATime", MinimumHealthyHosts: fp(40)}, []string{"deploymentConfigName"}},
		{"every problem at once", Config{Name: "bad name", ComputePlatform: Server, MinimumHealthyHosts: fp(100), TrafficRouting: &TrafficRouting{Type: AllAtOnce}},
			[]string{"deploymentConfigName", "trafficRoutingConfig", "minimumHealthyHosts.value"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.c.Validate()
			if len(tc.field) == 0 {
				if err != nil {
					t.Fatalf("want valid, got %v", err)
				}
				return
			}
			var list *multierror.Error
			if !errors.As(err, &list) || !errors.Is(err, ErrInvalidConfig) {
				t.Fatalf("want a *multierror.Error matching ErrInvalidConfig, got %v", err)
			}
			var got []string
			for _, e := range list.Errors {
				var p *Problem
				if !errors.As(e, &p) || p.Kind != ErrInvalidConfig {
					t.Fatalf("element %v is not a *Problem of kind ErrInvalidConfig", e)
				}
				got = append(got, p.Field)
				if p.Rule == "" {
					t.Errorf("problem %q has no rule", p.Field)
				}
				if !strings.Contains(err.Error(), p.Field+": ") {
					t.Errorf("Error() %q does not name %q", err, p.Field)
				}
			}
			if strings.Join(got, "|") != strings.Join(tc.field, "|") {
				t.Errorf("problem fields = %q; want %q\n%v", got, tc.field, err)
			}
		})
	}
}

// TestZonalDefaults covers the defaults of the API Reference's ZonalConfig.
func TestZonalDefaults(t *testing.T) {
	z := ZonalConfig{MonitorDurationInSeconds: ptr(int64(1800))}
	if got := z.FirstZoneMonitorDuration(); got != 30*time.Minute {
		t.Errorf("ZonalConfig: first zone waits %v; want the monitor duration 30m", got)
	}
	if got := z.PerZoneMinimum(); got != (MinimumHealthyHosts{FleetPercent, 0}) {
		t.Errorf("ZonalConfig: per-zone minimum %v; want FLEET_PERCENT 0", got)
	}
	z.FirstZoneMonitorDurationInSeconds = ptr(int64(120))
	if z.FirstZoneMonitorDuration() != 2*time.Minute || z.MonitorDuration() != 30*time.Minute {
		t.Errorf("first zone %v, others %v; want 2m and 30m", z.FirstZoneMonitorDuration(), z.MonitorDuration())
	}
	if (ZonalConfig{}).MonitorDuration() != 0 || (ZonalConfig{}).FirstZoneMonitorDuration() != 0 {
		t.Error("an omitted monitor duration means the next zone starts at once")
	}
}

// TestTrafficSteps covers the canary example of the User Guide's "Create a
// deployment configuration with CodeDeploy" and fleetdeploy's linear
// schedule (see the package documentation).
func TestTrafficSteps(t *testing.T) {
	m := func(n int) time.Duration { return time.Duration(n) * time.Minute }
	cases := []struct {
		name string
		r    TrafficRouting
		want []TrafficStep
	}{
		{"all at once", TrafficRouting{Type: AllAtOnce}, []TrafficStep{{0, 100}}},
		{"create a configuration: canary 25% then 75% after 45 min", TrafficRouting{Type: TimeBasedCanary, TimeBasedCanary: &Canary{25, 45}}, []TrafficStep{{0, 25}, {m(45), 100}}},
		{"fleetdeploy: linear 30% every 10 min", TrafficRouting{Type: TimeBasedLinear, TimeBasedLinear: &Linear{30, 10}}, []TrafficStep{{0, 30}, {m(10), 60}, {m(20), 90}, {m(30), 100}}},
		{"linear 50% every 1 min", TrafficRouting{Type: TimeBasedLinear, TimeBasedLinear: &Linear{50, 1}}, []TrafficStep{{0, 50}, {m(1), 100}}},
		{"linear 99% every 2 min", TrafficRouting{Type: TimeBasedLinear, TimeBasedLinear: &Linear{99, 2}}, []TrafficStep{{0, 99}, {m(2), 100}}},
		{"invalid routing falls back to all at once", TrafficRouting{Type: TimeBasedLinear, TimeBasedLinear: &Linear{0, 10}}, []TrafficStep{{0, 100}}},
	}
	for _, tc := range cases {
		got := tc.r.Steps()
		if len(got) != len(tc.want) {
			t.Errorf("%s: %v; want %v", tc.name, got, tc.want)
			continue
		}
		for i := range got {
			if got[i] != tc.want[i] {
				t.Errorf("%s: step %d = %v; want %v", tc.name, i, got[i], tc.want[i])
			}
		}
	}
	lin, _ := Predefined("CodeDeployDefault.LambdaLinear10PercentEvery1Minute")
	steps := lin.TrafficRouting.Steps()
	if len(steps) != 10 || steps[9] != (TrafficStep{m(9), 100}) || steps[0] != (TrafficStep{0, 10}) {
		t.Errorf("10%% every minute: %v; want 10..100 at 0..9 min", steps)
	}
}

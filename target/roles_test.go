package target

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/fleetdeploy/fleetdeploy/config"
)

// stub implements every role with no behaviour; only Platform.Validate's
// view of which fields are set matters here.
type stub struct{}

func (stub) ListTargets(context.Context, Selector) ([]Target, error)     { return nil, nil }
func (stub) RunEvent(context.Context, EventRequest) (EventResult, error) { return EventResult{}, nil }
func (stub) BlockTraffic(context.Context, TrafficRequest) error          { return nil }
func (stub) AllowTraffic(context.Context, TrafficRequest) error          { return nil }
func (stub) ShiftTraffic(context.Context, ShiftRequest) error            { return nil }
func (stub) CurrentTraffic(context.Context, TrafficRoute) (TrafficSplit, error) {
	return TrafficSplit{}, nil
}
func (stub) ProvisionReplacements(context.Context, ProvisionRequest) ([]Target, error) {
	return nil, nil
}
func (stub) TerminateTargets(context.Context, []Target) error             { return nil }
func (stub) InvokeHook(context.Context, HookRequest) (EventResult, error) { return EventResult{}, nil }

var (
	_ Lister            = stub{}
	_ Installer         = stub{}
	_ TrafficController = stub{}
	_ TrafficShifter    = stub{}
	_ Provisioner       = stub{}
	_ HookInvoker       = stub{}
)

func fullPlatform() Platform {
	return Platform{Lister: stub{}, Installer: stub{}, TrafficController: stub{}, TrafficShifter: stub{}, Provisioner: stub{}, HookInvoker: stub{}}
}

// without returns a full platform minus the given roles.
func without(roles ...Role) Platform {
	p := fullPlatform()
	for _, r := range roles {
		switch r {
		case RoleLister:
			p.Lister = nil
		case RoleInstaller:
			p.Installer = nil
		case RoleTrafficController:
			p.TrafficController = nil
		case RoleTrafficShifter:
			p.TrafficShifter = nil
		case RoleProvisioner:
			p.Provisioner = nil
		case RoleHookInvoker:
			p.HookInvoker = nil
		}
	}
	return p
}

// The roles each deployment needs follow from the events of the User
// Guide's "AppSpec 'hooks' section".
func TestPlatformValidate(t *testing.T) {
	all := Role("").Values()
	tests := []struct {
		name     string
		platform config.ComputePlatform
		dt       DeploymentType
		withLB   bool
		needs    []Role
	}{
		{"Server in-place without LB", config.Server, InPlace, false, []Role{RoleLister, RoleInstaller}},
		{"Server in-place with LB", config.Server, InPlace, true, []Role{RoleLister, RoleInstaller, RoleTrafficController}},
		{"Server blue/green", config.Server, BlueGreen, true, []Role{RoleLister, RoleInstaller, RoleTrafficController, RoleProvisioner}},
		{"Lambda", config.Lambda, BlueGreen, false, []Role{RoleTrafficShifter, RoleHookInvoker}},
		{"ECS", config.ECS, BlueGreen, true, []Role{RoleTrafficShifter, RoleProvisioner, RoleHookInvoker}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := fullPlatform().Validate(tt.platform, tt.dt, tt.withLB); err != nil {
				t.Fatalf("full platform: %v", err)
			}
			// Only the needed roles: valid.
			unneeded := slices.DeleteFunc(slices.Clone(all), func(r Role) bool { return slices.Contains(tt.needs, r) })
			if err := without(unneeded...).Validate(tt.platform, tt.dt, tt.withLB); err != nil {
				t.Errorf("platform with exactly %v: %v", tt.needs, err)
			}
			// Each needed role missing: named.
			for _, r := range tt.needs {
				err := without(r).Validate(tt.platform, tt.dt, tt.withLB)
				var mre *MissingRoleError
				if !errors.As(err, &mre) || mre.Role != r || !errors.Is(err, ErrMissingRole) {
					t.Errorf("without %s: Validate() = %v, want a *MissingRoleError for %s", r, err, r)
					continue
				}
				if !strings.Contains(err.Error(), string(r)) || !strings.HasPrefix(err.Error(), "target: ") {
					t.Errorf("without %s: message %q does not name the role", r, err)
				}
			}
			// Every needed role missing: all named.
			err := (Platform{}).Validate(tt.platform, tt.dt, tt.withLB)
			for _, r := range tt.needs {
				if !strings.Contains(err.Error(), "no "+string(r)+",") {
					t.Errorf("empty platform: %q does not name %s", err, r)
				}
			}
		})
	}
}

func TestPlatformValidateUnsupported(t *testing.T) {
	tests := []struct {
		name     string
		platform config.ComputePlatform
		dt       DeploymentType
		withLB   bool
	}{
		{"Server blue/green without LB", config.Server, BlueGreen, false},
		{"Lambda in-place", config.Lambda, InPlace, false},
		{"ECS in-place", config.ECS, InPlace, true},
		{"unknown deployment type", config.Server, "ROLLING", true},
		{"zero deployment type", config.Server, "", true},
		{"unknown platform", "Mainframe", InPlace, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := fullPlatform().Validate(tt.platform, tt.dt, tt.withLB)
			if !errors.Is(err, ErrUnsupported) {
				t.Errorf("Validate() = %v, want ErrUnsupported", err)
			}
		})
	}
}

func TestPlatformHas(t *testing.T) {
	p := Platform{Installer: stub{}}
	for _, r := range Role("").Values() {
		if got := p.Has(r); got != (r == RoleInstaller) {
			t.Errorf("Has(%s) = %v", r, got)
		}
	}
	if p.Has("Unknown") {
		t.Error("Has(unknown role) = true")
	}
}

func TestShiftRequestValidate(t *testing.T) {
	ok := ShiftRequest{Route: TrafficRoute{ResourceID: "fn:live"}, Split: TrafficSplit{Original: "1", Replacement: "2", Weight: 10}}
	if err := ok.Validate(); err != nil {
		t.Fatal(err)
	}
	for _, w := range []int{0, 100} {
		r := ok
		r.Split.Weight = w
		if err := r.Validate(); err != nil {
			t.Errorf("weight %d: %v", w, err)
		}
	}
	tests := []struct {
		name   string
		mutate func(*ShiftRequest)
		field  string
	}{
		{"no resource", func(r *ShiftRequest) { r.Route.ResourceID = "" }, "route.resourceId"},
		{"no original", func(r *ShiftRequest) { r.Split.Original = "" }, "split.original"},
		{"no replacement", func(r *ShiftRequest) { r.Split.Replacement = "" }, "split.replacement"},
		{"same versions", func(r *ShiftRequest) { r.Split.Replacement = "1" }, "split.replacement"},
		{"weight over 100", func(r *ShiftRequest) { r.Split.Weight = 101 }, "split.weight"},
		{"negative weight", func(r *ShiftRequest) { r.Split.Weight = -1 }, "split.weight"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := ok
			tt.mutate(&r)
			err := r.Validate()
			ps := problemsOf(err)
			if len(ps) == 0 || !errors.Is(err, ErrInvalidRequest) || len(ps) != 1 || ps[0].Field != tt.field {
				t.Errorf("Validate() = %v, want one problem on %s", err, tt.field)
			}
		})
	}
}

func TestCopiedAutoScalingGroupName(t *testing.T) {
	// User Guide, "Integrating CodeDeploy with Amazon EC2 Auto Scaling": a
	// copied group is named CodeDeploy_<deploymentGroupName>_<deploymentId>.
	d := DeploymentInfo{DeploymentGroupName: "web", DeploymentID: "d-ABC123"}
	if got, want := d.CopiedAutoScalingGroupName(), "CodeDeploy_web_d-ABC123"; got != want {
		t.Errorf("CopiedAutoScalingGroupName() = %q, want %q", got, want)
	}
}

// The limits of the API Reference's LoadBalancerInfo and
// TargetGroupPairInfo.
func TestLoadBalancerInfoValidate(t *testing.T) {
	names := func(n int) []NameInfo {
		out := make([]NameInfo, n)
		for i := range out {
			out[i] = NameInfo{Name: "tg" + string(rune('a'+i))}
		}
		return out
	}
	pair := TargetGroupPairInfo{TargetGroups: names(2), ProdTrafficRoute: TrafficRouteInfo{ListenerArns: []string{"arn:prod"}}}
	tests := []struct {
		name   string
		lb     LoadBalancerInfo
		fields []string
	}{
		{"zero", LoadBalancerInfo{}, nil},
		{"ten classic LBs, ten target groups", LoadBalancerInfo{ELBInfoList: names(10), TargetGroupInfoList: names(10)}, nil},
		{"ECS pair with test listener", LoadBalancerInfo{TargetGroupPairInfoList: []TargetGroupPairInfo{{
			TargetGroups: names(2), ProdTrafficRoute: TrafficRouteInfo{ListenerArns: []string{"arn:prod"}},
			TestTrafficRoute: TrafficRouteInfo{ListenerArns: []string{"arn:test"}}}}}, nil},
		{"eleven classic LBs", LoadBalancerInfo{ELBInfoList: names(11)}, []string{"elbInfoList"}},
		{"eleven target groups", LoadBalancerInfo{TargetGroupInfoList: names(11)}, []string{"targetGroupInfoList"}},
		{"empty name", LoadBalancerInfo{TargetGroupInfoList: []NameInfo{{}}}, []string{"targetGroupInfoList[0].name"}},
		{"two pairs", LoadBalancerInfo{TargetGroupPairInfoList: []TargetGroupPairInfo{pair, pair}}, []string{"targetGroupPairInfoList"}},
		{"pair with one target group", LoadBalancerInfo{TargetGroupPairInfoList: []TargetGroupPairInfo{{
			TargetGroups: names(1), ProdTrafficRoute: pair.ProdTrafficRoute}}}, []string{"targetGroupPairInfoList[0].targetGroups"}},
		{"pair without production listener", LoadBalancerInfo{TargetGroupPairInfoList: []TargetGroupPairInfo{{
			TargetGroups: names(2)}}}, []string{"targetGroupPairInfoList[0].prodTrafficRoute.listenerArns"}},
		{"two test listeners", LoadBalancerInfo{TargetGroupPairInfoList: []TargetGroupPairInfo{{
			TargetGroups: names(2), ProdTrafficRoute: pair.ProdTrafficRoute,
			TestTrafficRoute: TrafficRouteInfo{ListenerArns: []string{"a", "b"}}}}}, []string{"targetGroupPairInfoList[0].testTrafficRoute.listenerArns"}},
		{"empty listener ARN", LoadBalancerInfo{TargetGroupPairInfoList: []TargetGroupPairInfo{{
			TargetGroups: names(2), ProdTrafficRoute: TrafficRouteInfo{ListenerArns: []string{""}}}}}, []string{"targetGroupPairInfoList[0].prodTrafficRoute.listenerArns[0]"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.lb.Validate()
			if tt.fields == nil {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			ps := problemsOf(err)
			if len(ps) == 0 || !errors.Is(err, ErrInvalidLoadBalancerInfo) {
				t.Fatalf("Validate() = %v, want a *multierror.Error of *Problem values matching ErrInvalidLoadBalancerInfo", err)
			}
			var got []string
			for _, p := range ps {
				got = append(got, p.Field)
			}
			if !slices.Equal(got, tt.fields) {
				t.Errorf("fields = %v, want %v", got, tt.fields)
			}
		})
	}
	if !(LoadBalancerInfo{}).IsZero() || (LoadBalancerInfo{ELBInfoList: names(1)}).IsZero() {
		t.Error("IsZero misreports")
	}
}

// A split that sends everything to one version settles to that version
// alone, as TrafficShifter.CurrentTraffic reports it; a split between two
// versions stays as it is.
func TestTrafficSplitSettled(t *testing.T) {
	for _, c := range []struct{ in, want TrafficSplit }{
		{TrafficSplit{Original: "3"}, TrafficSplit{Original: "3"}},
		{TrafficSplit{Original: "3", Replacement: "4"}, TrafficSplit{Original: "3"}},
		{TrafficSplit{Original: "3", Replacement: "4", Weight: 10}, TrafficSplit{Original: "3", Replacement: "4", Weight: 10}},
		{TrafficSplit{Original: "3", Replacement: "4", Weight: 99}, TrafficSplit{Original: "3", Replacement: "4", Weight: 99}},
		{TrafficSplit{Original: "3", Replacement: "4", Weight: 100}, TrafficSplit{Original: "4"}},
		{TrafficSplit{Original: "3", Weight: 40}, TrafficSplit{Original: "3"}},
	} {
		if got := c.in.Settled(); got != c.want {
			t.Errorf("%+v.Settled() = %+v; want %+v", c.in, got, c.want)
		}
	}
}

package target

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/fleetdeploy/fleetdeploy/config"
)

// hookTable is the table of lifecycle event hook availability of the User
// Guide's "AppSpec 'hooks' section" (EC2/On-Premises): one row per event,
// one column per situation.
const hookTable = `
| Event | In-place (¹) | B/G original | B/G replacement | B/G rollback: original | B/G rollback: replacement | ASG launch | ASG termination |
| ApplicationStop | ✓ | | ✓ | | | ✓ | ✓ |
| DownloadBundle (reserved) | ✓ | | ✓ | | | ✓ | |
| BeforeInstall | ✓ | | ✓ | | | ✓ | |
| Install (reserved) | ✓ | | ✓ | | | ✓ | |
| AfterInstall | ✓ | | ✓ | | | ✓ | |
| ApplicationStart | ✓ | | ✓ | | | ✓ | |
| ValidateService | ✓ | | ✓ | | | ✓ | |
| BeforeBlockTraffic | ✓ | ✓ | | | ✓ | | ✓ |
| BlockTraffic (reserved) | ✓ | ✓ | | | ✓ | | ✓ |
| AfterBlockTraffic | ✓ | ✓ | | | ✓ | | ✓ |
| BeforeAllowTraffic | ✓ | | ✓ | ✓ | | ✓ | |
| AllowTraffic (reserved) | ✓ | | ✓ | ✓ | | ✓ | |
| AfterAllowTraffic | ✓ | | ✓ | ✓ | | ✓ | |
`

// hookColumns maps the table's columns to sequence kinds. The table shows
// hook availability with a load balancer (the in-place column lists the
// traffic events), so every column is read with LoadBalancer true.
var hookColumns = []SequenceKind{KindInPlace, KindBlueGreenOriginal, KindBlueGreenReplacement,
	KindBlueGreenRollbackOriginal, KindBlueGreenRollbackReplacement, KindAutoScalingLaunch, KindAutoScalingTermination}

// parseHookTable returns, per column, the set of events ticked, and the row order.
func parseHookTable(t *testing.T) (map[SequenceKind]map[LifecycleEvent]bool, []LifecycleEvent) {
	t.Helper()
	ticked := map[SequenceKind]map[LifecycleEvent]bool{}
	var rows []LifecycleEvent
	lines := strings.Split(strings.TrimSpace(hookTable), "\n")
	for _, line := range lines[1:] {
		cells := strings.Split(strings.Trim(line, "|"), "|")
		if len(cells) != 1+len(hookColumns) {
			t.Fatalf("row %q has %d cells", line, len(cells))
		}
		e := LifecycleEvent(strings.Fields(cells[0])[0])
		rows = append(rows, e)
		for i, k := range hookColumns {
			if ticked[k] == nil {
				ticked[k] = map[LifecycleEvent]bool{}
			}
			if strings.TrimSpace(cells[i+1]) == "✓" {
				ticked[k][e] = true
			}
		}
	}
	return ticked, rows
}

func TestSequenceHookTable(t *testing.T) {
	ticked, rows := parseHookTable(t)
	for _, k := range hookColumns {
		s := Sequence{Platform: config.Server, Kind: k, LoadBalancer: true}
		got, err := s.Events()
		if err != nil {
			t.Fatalf("%s: %v", s, err)
		}
		for _, e := range rows {
			if in := slices.Contains(got, e); in != ticked[k][e] {
				t.Errorf("row %s, column %s: in sequence = %v, table says %v", e, k, in, ticked[k][e])
			}
		}
		if len(got) != len(ticked[k]) {
			t.Errorf("column %s: %d events %v, table ticks %d", k, len(got), got, len(ticked[k]))
		}
	}
	// (¹) the rollback of an in-place deployment has the same events.
	ip, _ := Sequence{Platform: config.Server, Kind: KindInPlace, LoadBalancer: true}.Events()
	rb, _ := Sequence{Platform: config.Server, Kind: KindInPlaceRollback, LoadBalancer: true}.Events()
	if !slices.Equal(ip, rb) {
		t.Errorf("(¹) in-place rollback %v differs from in-place %v", rb, ip)
	}
}

// arrows parses an order written as "A → B → C", dropping the
// pseudo-events Start and End, which Events does not list.
func arrows(s string) []LifecycleEvent {
	var out []LifecycleEvent
	for _, f := range strings.Split(s, "→") {
		if e := LifecycleEvent(strings.TrimSpace(f)); e != Start && e != End {
			out = append(out, e)
		}
	}
	return out
}

func TestSequenceOrder(t *testing.T) {
	const (
		// "AppSpec 'hooks' section", without and with a load balancer; the
		// allow-traffic events after ValidateService are fleetdeploy's
		// decision.
		inPlace   = "ApplicationStop → DownloadBundle → BeforeInstall → Install → AfterInstall → ApplicationStart → ValidateService"
		inPlaceLB = "BeforeBlockTraffic → BlockTraffic → AfterBlockTraffic → ApplicationStop → DownloadBundle → BeforeInstall → Install → AfterInstall → ApplicationStart → ValidateService → BeforeAllowTraffic → AllowTraffic → AfterAllowTraffic"
		block     = "BeforeBlockTraffic → BlockTraffic → AfterBlockTraffic"
		allow     = "BeforeAllowTraffic → AllowTraffic → AfterAllowTraffic"
	)
	tests := []struct {
		name string
		seq  Sequence
		want string
	}{
		{"in-place without LB", Sequence{config.Server, KindInPlace, false}, inPlace},
		{"in-place with LB, allow trio after ValidateService", Sequence{config.Server, KindInPlace, true}, inPlaceLB},
		{"in-place rollback without LB", Sequence{config.Server, KindInPlaceRollback, false}, inPlace},
		{"in-place rollback with LB", Sequence{config.Server, KindInPlaceRollback, true}, inPlaceLB},
		{"B/G original: block trio", Sequence{config.Server, KindBlueGreenOriginal, true}, block},
		{"B/G replacement: install then allow trio", Sequence{config.Server, KindBlueGreenReplacement, true}, inPlace + " → " + allow},
		{"B/G rollback original: allow trio", Sequence{config.Server, KindBlueGreenRollbackOriginal, true}, allow},
		{"B/G rollback replacement: block trio", Sequence{config.Server, KindBlueGreenRollbackReplacement, true}, block},
		{"ASG launch with LB: install + allow trio", Sequence{config.Server, KindAutoScalingLaunch, true}, inPlace + " → " + allow},
		{"ASG launch without LB: install", Sequence{config.Server, KindAutoScalingLaunch, false}, inPlace},
		{"ASG termination with LB (fleetdeploy's order)", Sequence{config.Server, KindAutoScalingTermination, true}, "BeforeBlockTraffic → BlockTraffic → AfterBlockTraffic → ApplicationStop"},
		{"ASG termination without LB", Sequence{config.Server, KindAutoScalingTermination, false}, "ApplicationStop"},
		{"Lambda", Sequence{config.Lambda, KindTrafficShift, false}, "Start → BeforeAllowTraffic → AllowTraffic → AfterAllowTraffic → End"},
		{"Lambda ignores LB flag", Sequence{config.Lambda, KindTrafficShift, true}, "Start → BeforeAllowTraffic → AllowTraffic → AfterAllowTraffic → End"},
		{"ECS", Sequence{config.ECS, KindTrafficShift, true}, "BeforeInstall → Install → AfterInstall → AllowTestTraffic → AfterAllowTestTraffic → BeforeAllowTraffic → AllowTraffic → AfterAllowTraffic"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.seq.Events()
			if err != nil {
				t.Fatal(err)
			}
			if want := arrows(tt.want); !slices.Equal(got, want) {
				t.Errorf("%s.Events() =\n  %v\nwant\n  %v", tt.seq, got, want)
			}
			for _, e := range got {
				if !e.Exists(tt.seq.Platform) {
					t.Errorf("event %s is not an event of %s", e, tt.seq.Platform)
				}
			}
		})
	}
}

func TestSequenceEventsFreshSlice(t *testing.T) {
	s := Sequence{Platform: config.Lambda, Kind: KindTrafficShift}
	a, _ := s.Events()
	a[0] = "changed"
	b, _ := s.Events()
	if b[0] != BeforeAllowTraffic {
		t.Errorf("Events shares its slice between calls: %v", b)
	}
}

func TestSequenceUnsupported(t *testing.T) {
	tests := []struct {
		name string
		seq  Sequence
	}{
		{"B/G original needs a load balancer", Sequence{config.Server, KindBlueGreenOriginal, false}},
		{"B/G replacement needs a load balancer", Sequence{config.Server, KindBlueGreenReplacement, false}},
		{"B/G rollback original needs a load balancer", Sequence{config.Server, KindBlueGreenRollbackOriginal, false}},
		{"B/G rollback replacement needs a load balancer", Sequence{config.Server, KindBlueGreenRollbackReplacement, false}},
		{"Server has no TrafficShift sequence", Sequence{config.Server, KindTrafficShift, true}},
		{"Lambda has no in-place sequence", Sequence{config.Lambda, KindInPlace, false}},
		{"ECS has no ASG sequence", Sequence{config.ECS, KindAutoScalingLaunch, true}},
		{"zero kind", Sequence{Platform: config.Server}},
		{"unknown kind", Sequence{Platform: config.ECS, Kind: "Sideways"}},
		{"zero platform", Sequence{Kind: KindInPlace}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.seq.Events()
			if !errors.Is(err, ErrUnsupported) || got != nil {
				t.Errorf("Events() = %v, %v; want nil, ErrUnsupported", got, err)
			}
			if err != nil && !strings.HasPrefix(err.Error(), "target: ") {
				t.Errorf("error %q lacks the package prefix", err)
			}
		})
	}
}

func TestSequenceKindLabel(t *testing.T) {
	// API Reference, InstanceTarget: Blue = original, Green = replacement.
	want := map[SequenceKind]TargetLabel{
		KindBlueGreenOriginal: LabelBlue, KindBlueGreenRollbackOriginal: LabelBlue,
		KindBlueGreenReplacement: LabelGreen, KindBlueGreenRollbackReplacement: LabelGreen,
	}
	for _, k := range SequenceKind("").Values() {
		if got := k.Label(); got != want[k] {
			t.Errorf("%s.Label() = %q, want %q", k, got, want[k])
		}
	}
}

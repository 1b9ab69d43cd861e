package target

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/fleetdeploy/fleetdeploy/config"
)

// table33 is spec §3.3 ("Blue/green (EC2) hook availability") as written
// there: one row per event, one column per situation.
const table33 = `
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

// columns33 maps the table's columns to sequence kinds. The table shows
// hook availability with a load balancer (the in-place column lists the
// traffic events), so every column is read with LoadBalancer true.
var columns33 = []SequenceKind{KindInPlace, KindBlueGreenOriginal, KindBlueGreenReplacement,
	KindBlueGreenRollbackOriginal, KindBlueGreenRollbackReplacement, KindAutoScalingLaunch, KindAutoScalingTermination}

// parse33 returns, per column, the set of events ticked, and the row order.
func parse33(t *testing.T) (map[SequenceKind]map[LifecycleEvent]bool, []LifecycleEvent) {
	t.Helper()
	ticked := map[SequenceKind]map[LifecycleEvent]bool{}
	var rows []LifecycleEvent
	lines := strings.Split(strings.TrimSpace(table33), "\n")
	for _, line := range lines[1:] {
		cells := strings.Split(strings.Trim(line, "|"), "|")
		if len(cells) != 1+len(columns33) {
			t.Fatalf("row %q has %d cells", line, len(cells))
		}
		e := LifecycleEvent(strings.Fields(cells[0])[0])
		rows = append(rows, e)
		for i, k := range columns33 {
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

func TestSequenceTable33(t *testing.T) {
	ticked, rows := parse33(t)
	for _, k := range columns33 {
		s := Sequence{Platform: config.Server, Kind: k, LoadBalancer: true}
		got, err := s.Events()
		if err != nil {
			t.Fatalf("%s: %v", s, err)
		}
		for _, e := range rows {
			if in := slices.Contains(got, e); in != ticked[k][e] {
				t.Errorf("§3.3 row %s, column %s: in sequence = %v, table says %v", e, k, in, ticked[k][e])
			}
		}
		if len(got) != len(ticked[k]) {
			t.Errorf("§3.3 column %s: %d events %v, table ticks %d", k, len(got), got, len(ticked[k]))
		}
	}
	// (¹) the rollback of an in-place deployment has the same events.
	ip, _ := Sequence{Platform: config.Server, Kind: KindInPlace, LoadBalancer: true}.Events()
	rb, _ := Sequence{Platform: config.Server, Kind: KindInPlaceRollback, LoadBalancer: true}.Events()
	if !slices.Equal(ip, rb) {
		t.Errorf("§3.3 (¹) in-place rollback %v differs from in-place %v", rb, ip)
	}
}

// arrows parses an order written in the spec as "A → B → C", dropping the
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
		// spec §3.2, without and with a load balancer (trio position: §11.2).
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
		{"§3.2 in-place without LB", Sequence{config.Server, KindInPlace, false}, inPlace},
		{"§3.2 in-place with LB, §11.2 allow trio after ValidateService", Sequence{config.Server, KindInPlace, true}, inPlaceLB},
		{"§3.2 in-place rollback without LB", Sequence{config.Server, KindInPlaceRollback, false}, inPlace},
		{"§3.2 in-place rollback with LB", Sequence{config.Server, KindInPlaceRollback, true}, inPlaceLB},
		{"§3.3 B/G original: block trio", Sequence{config.Server, KindBlueGreenOriginal, true}, block},
		{"§3.3 B/G replacement: install then allow trio", Sequence{config.Server, KindBlueGreenReplacement, true}, inPlace + " → " + allow},
		{"§3.3 B/G rollback original: allow trio", Sequence{config.Server, KindBlueGreenRollbackOriginal, true}, allow},
		{"§3.3 B/G rollback replacement: block trio", Sequence{config.Server, KindBlueGreenRollbackReplacement, true}, block},
		{"§8 ASG launch with LB: install + allow trio", Sequence{config.Server, KindAutoScalingLaunch, true}, inPlace + " → " + allow},
		{"§8 ASG launch without LB: install", Sequence{config.Server, KindAutoScalingLaunch, false}, inPlace},
		{"§11.13 ASG termination with LB", Sequence{config.Server, KindAutoScalingTermination, true}, "BeforeBlockTraffic → BlockTraffic → AfterBlockTraffic → ApplicationStop"},
		{"§11.13 ASG termination without LB", Sequence{config.Server, KindAutoScalingTermination, false}, "ApplicationStop"},
		{"§3.4 Lambda", Sequence{config.Lambda, KindTrafficShift, false}, "Start → BeforeAllowTraffic → AllowTraffic → AfterAllowTraffic → End"},
		{"§3.4 Lambda ignores LB flag", Sequence{config.Lambda, KindTrafficShift, true}, "Start → BeforeAllowTraffic → AllowTraffic → AfterAllowTraffic → End"},
		{"§3.5 ECS", Sequence{config.ECS, KindTrafficShift, true}, "BeforeInstall → Install → AfterInstall → AllowTestTraffic → AfterAllowTestTraffic → BeforeAllowTraffic → AllowTraffic → AfterAllowTraffic"},
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
		{"§5 B/G original needs a load balancer", Sequence{config.Server, KindBlueGreenOriginal, false}},
		{"§5 B/G replacement needs a load balancer", Sequence{config.Server, KindBlueGreenReplacement, false}},
		{"§5 B/G rollback original needs a load balancer", Sequence{config.Server, KindBlueGreenRollbackOriginal, false}},
		{"§5 B/G rollback replacement needs a load balancer", Sequence{config.Server, KindBlueGreenRollbackReplacement, false}},
		{"Server has no TrafficShift sequence", Sequence{config.Server, KindTrafficShift, true}},
		{"§3.4 Lambda has no in-place sequence", Sequence{config.Lambda, KindInPlace, false}},
		{"§3.5 ECS has no ASG sequence", Sequence{config.ECS, KindAutoScalingLaunch, true}},
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
	// spec §6.1 TargetLabel: Blue = original, Green = replacement.
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

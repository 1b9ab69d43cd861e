package health

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/fleetdeploy/fleetdeploy/config"
)

func TestValues(t *testing.T) {
	if got := (InstanceHealth("")).Values(); !slices.Equal(got, []InstanceHealth{"Healthy", "Unhealthy"}) {
		t.Errorf("InstanceHealth.Values() = %v", got)
	}
	if got := (RevisionHealth("")).Values(); !slices.Equal(got, []RevisionHealth{"Current", "Old", "Unknown"}) {
		t.Errorf("RevisionHealth.Values() = %v", got)
	}
	if got := (Outcome("")).Values(); !slices.Equal(got, []Outcome{"Succeeded", "Failed", "Skipped"}) {
		t.Errorf("Outcome.Values() = %v", got)
	}
	if InstanceHealth("").Valid() || RevisionHealth("").Valid() {
		t.Error("the zero value of a health enum must be invalid")
	}
}

// User Guide, "CodeDeploy instance health": Unhealthy, then revision
// Unknown, Old, Current.
func TestClassOf(t *testing.T) {
	tests := []struct {
		name string
		i    InstanceHealth
		r    RevisionHealth
		want Class
	}{
		{"Unhealthy whatever the revision (Current)", Unhealthy, Current, ClassUnhealthy},
		{"Unhealthy whatever the revision (Old)", Unhealthy, Old, ClassUnhealthy},
		{"Unhealthy whatever the revision (Unknown)", Unhealthy, Unknown, ClassUnhealthy},
		{"Healthy/Unknown second", Healthy, Unknown, ClassUnknownRevision},
		{"Healthy/Old third", Healthy, Old, ClassOldRevision},
		{"Healthy/Current last", Healthy, Current, ClassCurrentRevision},
		{"invalid instance health", "", Current, ClassInvalid},
		{"invalid revision health", Healthy, "current", ClassInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ClassOf(tt.i, tt.r); got != tt.want {
				t.Errorf("ClassOf(%q, %q) = %v, want %v", tt.i, tt.r, got, tt.want)
			}
		})
	}
	if !slices.IsSorted(Classes()) || len(Classes()) != 4 {
		t.Errorf("Classes() = %v, want the four classes in order", Classes())
	}
}

// By class ("CodeDeploy instance health"), then by ID ascending
// (fleetdeploy's decision).
func TestCompareSortsByClassThenID(t *testing.T) {
	ts := []Target{
		{"c", Healthy, Current}, {"a", Healthy, Current}, {"z", Unhealthy, Current},
		{"b", Healthy, Old}, {"y", Healthy, Unknown}, {"m", Unhealthy, Unknown}, {"a2", Healthy, Old},
	}
	slices.SortFunc(ts, Compare)
	var ids []string
	for _, x := range ts {
		ids = append(ids, x.ID)
	}
	want := []string{"m", "z", "y", "a2", "b", "a", "c"}
	if !slices.Equal(ids, want) {
		t.Errorf("sorted = %v, want %v", ids, want)
	}
	if Compare(Target{"a", Healthy, Old}, Target{"a", Healthy, Old}) != 0 {
		t.Error("Compare of equal targets must be 0")
	}
}

func TestTargetValidate(t *testing.T) {
	for _, tc := range []struct {
		t    Target
		frag string
	}{
		{Target{"", Healthy, Current}, "ID"},
		{Target{"i-1", "healthy", Current}, "instance health"},
		{Target{"i-1", Healthy, ""}, "revision health"},
	} {
		err := tc.t.Validate()
		if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tc.frag) || !strings.HasPrefix(err.Error(), "health: ") {
			t.Errorf("Validate(%+v) = %v, want ErrInvalid mentioning %q", tc.t, err, tc.frag)
		}
	}
	if err := (Target{"i-1", Healthy, Current}).Validate(); err != nil {
		t.Errorf("valid target: %v", err)
	}
}

func hc(v int) config.MinimumHealthyHosts {
	return config.MinimumHealthyHosts{Type: config.HostCount, Value: v}
}
func fp(v int) config.MinimumHealthyHosts {
	return config.MinimumHealthyHosts{Type: config.FleetPercent, Value: v}
}

var oneAtATime = config.MinimumHealthyHosts{Type: config.MostConcurrency, Value: 1}

// The M/W arithmetic, checked against the documented examples that state M
// or B (= W). A case's name starts with where its expected values come
// from: "instance health", "deployment configurations", "create a
// configuration" and "quotas" are the User Guide's "CodeDeploy instance
// health", "Working with deployment configurations in CodeDeploy", "Create
// a deployment configuration with CodeDeploy" and "CodeDeploy quotas";
// "MinimumHealthyHosts" and "ZonalConfig" are the API Reference's pages of
// those names; "derived" cases follow from those rules and the decisions in
// "Where fleetdeploy decides" (package fleetdeploy). FLEET_PERCENT rounds
// up (API Reference, CreateDeploymentConfig).
func TestMinimumArithmetic(t *testing.T) {
	tests := []struct {
		name     string
		rule     config.MinimumHealthyHosts
		n        int
		m, w     int
		feasible bool
	}{
		{"instance health: N=10 FLEET_PERCENT 85 ⇒ M=9 (ceil 8.5), B=1", fp(85), 10, 9, 1, true},
		{"instance health: N=10 HOST_COUNT 9 ⇒ B=1", hc(9), 10, 9, 1, true},
		{"instance health: N=10 HOST_COUNT 0 ⇒ B=10", hc(0), 10, 0, 10, true},
		{"instance health: N=10 FLEET_PERCENT 95 ⇒ M=10, cannot start", fp(95), 10, 10, 0, false},
		{"MinimumHealthyHosts: N=9 HOST_COUNT 6 ⇒ B=3", hc(6), 9, 6, 3, true},
		{"MinimumHealthyHosts: N=9 FLEET_PERCENT 40 ⇒ M=4 (ceil 3.6), B=5", fp(40), 9, 4, 5, true},
		{"deployment configurations: N=9 AllAtOnce (HOST_COUNT 0) ⇒ B=9", hc(0), 9, 0, 9, true},
		{"deployment configurations: N=9 HalfAtATime (FLEET_PERCENT 50) ⇒ B=4, M=5", fp(50), 9, 5, 4, true},
		{"deployment configurations: N=9 OneAtATime ⇒ B=1", oneAtATime, 9, 8, 1, true},
		{"deployment configurations: N=1 OneAtATime deploys to it", oneAtATime, 1, 0, 1, true},
		{"deployment configurations: 10+10 HalfAtATime ⇒ B=10 across both groups", fp(50), 20, 10, 10, true},
		{"create a configuration: ThreeQuartersHealthy N=4 ⇒ M=3, B=1", fp(75), 4, 3, 1, true},
		{"quotas: HOST_COUNT 0 all at once", hc(0), 7, 0, 7, true},
		{"quotas: FLEET_PERCENT 0 all at once", fp(0), 7, 0, 7, true},
		{"derived: N=9 HOST_COUNT 9 ⇒ M=N, cannot start", hc(9), 9, 9, 0, false},
		{"derived: N=1 HalfAtATime ⇒ M=1=N, cannot start", fp(50), 1, 1, 0, false},
		{"derived: N=4 HalfAtATime ⇒ M=2, B=2", fp(50), 4, 2, 2, true},
		{"derived: N=3 FLEET_PERCENT 50 ⇒ M=2, B=1", fp(50), 3, 2, 1, true},
		{"HOST_COUNT above the fleet cannot start", hc(12), 10, 12, 0, false},
		{"FLEET_PERCENT 99 of 100 is exact", fp(99), 100, 99, 1, true},
		{"FLEET_PERCENT 1 of 1 rounds up to 1", fp(1), 1, 1, 0, false},
		{"FLEET_PERCENT 1 of 101 rounds up to 2", fp(1), 101, 2, 99, true},
		{"no targets", hc(0), 0, 0, 0, false},
		{"OneAtATime with no targets", oneAtATime, 0, 0, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := NewMinimum(tt.rule, tt.n)
			if err != nil {
				t.Fatal(err)
			}
			if m.Required != tt.m || m.Window != tt.w || m.Feasible() != tt.feasible || m.Targets != tt.n {
				t.Errorf("NewMinimum(%v, %d) = M %d W %d feasible %v, want M %d W %d feasible %v",
					tt.rule, tt.n, m.Required, m.Window, m.Feasible(), tt.m, tt.w, tt.feasible)
			}
		})
	}
}

// FLEET_PERCENT rounding done with integers matches the exact ceiling for
// every percentage and fleet size up to 1000 (no float rounding).
func TestRequiredFleetPercentIsExactCeiling(t *testing.T) {
	for v := 0; v < 100; v++ {
		for n := 0; n <= 1000; n++ {
			got, err := Required(fp(v), n)
			if err != nil {
				t.Fatal(err)
			}
			want := n * v / 100
			if n*v%100 != 0 {
				want++
			}
			if got != want {
				t.Fatalf("Required(FLEET_PERCENT %d, %d) = %d, want %d", v, n, got, want)
			}
		}
	}
}

// The per-zone minimum is FLEET_PERCENT of the zone's own targets rounded up
// (fleetdeploy's decision) or HOST_COUNT as given; omitted means
// FLEET_PERCENT 0 (API Reference, ZonalConfig).
func TestRequiredPerZone(t *testing.T) {
	var z config.ZonalConfig
	if got, _ := Required(z.PerZoneMinimum(), 17); got != 0 {
		t.Errorf("ZonalConfig: omitted per-zone minimum gives %d, want 0", got)
	}
	if got, _ := PerZone(config.ZonalConfig{MinimumHealthyHostsPerZone: &config.MinimumHealthyHosts{Type: config.FleetPercent, Value: 34}}, 10); got != 4 {
		t.Errorf("PerZone(FLEET_PERCENT 34, 10) = %d, want 4 (3.4 rounds up)", got)
	}
	if got, _ := PerZone(z, 10); got != 0 {
		t.Errorf("PerZone(omitted, 10) = %d, want 0", got)
	}
	if got, _ := Required(fp(50), 3); got != 2 {
		t.Errorf("FLEET_PERCENT 50 of a 3-target zone = %d, want 2", got)
	}
	if got, _ := Required(hc(50), 300); got != 50 {
		t.Errorf("create a configuration: HOST_COUNT 50 per zone = %d, want 50", got)
	}
}

func TestInvalidRules(t *testing.T) {
	for _, tc := range []struct {
		rule config.MinimumHealthyHosts
		n    int
		frag string
	}{
		{fp(100), 10, "less than 100"}, // CodeDeploy quotas
		{fp(-1), 10, "FLEET_PERCENT"},
		{hc(-1), 10, "HOST_COUNT"},
		{config.MinimumHealthyHosts{Type: config.MostConcurrency, Value: 2}, 10, "value 1"},
		{config.MinimumHealthyHosts{}, 10, "type"},
		{hc(0), -1, "negative"},
	} {
		_, err := NewMinimum(tc.rule, tc.n)
		if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tc.frag) {
			t.Errorf("NewMinimum(%v, %d) = %v, want ErrInvalid mentioning %q", tc.rule, tc.n, err, tc.frag)
		}
	}
	if _, err := Required(oneAtATime, 3); !errors.Is(err, ErrInvalid) {
		t.Errorf("Required(MOST_CONCURRENCY) = %v, want ErrInvalid", err)
	}
	lambda, _ := config.Predefined("CodeDeployDefault.LambdaAllAtOnce")
	if _, err := ForConfig(lambda, 1); !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "minimumHealthyHosts") {
		t.Errorf("ForConfig(Lambda) = %v, want ErrInvalid naming minimumHealthyHosts", err)
	}
}

func TestForConfigPredefined(t *testing.T) {
	for _, tc := range []struct {
		name string
		n    int
		m, w int
	}{
		{"CodeDeployDefault.AllAtOnce", 9, 0, 9},
		{"CodeDeployDefault.HalfAtATime", 9, 5, 4},
		{"CodeDeployDefault.OneAtATime", 9, 8, 1},
	} {
		c, _ := config.Predefined(tc.name)
		m, err := ForConfig(c, tc.n)
		if err != nil || m.Required != tc.m || m.Window != tc.w {
			t.Errorf("%s of %d: M %d W %d err %v, want M %d W %d", tc.name, tc.n, m.Required, m.Window, err, tc.m, tc.w)
		}
		if m.OneAtATime() != c.IsOneAtATime() {
			t.Errorf("%s: OneAtATime() = %v", tc.name, m.OneAtATime())
		}
	}
}

func TestExplain(t *testing.T) {
	tests := []struct {
		rule config.MinimumHealthyHosts
		n    int
		want string
	}{
		{fp(40), 9, "FLEET_PERCENT 40 of 9 targets rounds up to 4 healthy required; 5 may be offline at once"},
		{fp(50), 4, "FLEET_PERCENT 50 of 4 targets is 2 healthy required; 2 may be offline at once"},
		{hc(9), 10, "HOST_COUNT 9 of 10 targets: 9 healthy required; 1 may be offline at once"},
		{hc(0), 10, "HOST_COUNT 0 of 10 targets: 0 healthy required; 10 may be offline at once; at least 1 must succeed"},
		{fp(95), 10, "FLEET_PERCENT 95 of 10 targets rounds up to 10 healthy required, which is not fewer than the 10 targets, so the deployment cannot start"},
		{oneAtATime, 9, "MOST_CONCURRENCY 1 (one at a time) of 9 targets; 1 may be offline at once; every target but the last must succeed"},
		{oneAtATime, 1, "MOST_CONCURRENCY 1 (one at a time) of 1 target; 1 may be offline at once; the target must succeed"},
		{hc(0), 0, "HOST_COUNT 0 of 0 targets: 0 healthy required; there is nothing to deploy to"},
	}
	for _, tt := range tests {
		m, err := NewMinimum(tt.rule, tt.n)
		if err != nil {
			t.Fatal(err)
		}
		if got := m.String(); got != tt.want {
			t.Errorf("Explain(%v, %d)\n got %q\nwant %q", tt.rule, tt.n, got, tt.want)
		}
	}
}

// The success rule of "CodeDeploy instance health" (for OneAtATime, of
// "Working with deployment configurations in CodeDeploy"); case names name
// their source as in TestMinimumArithmetic.
func TestSucceeded(t *testing.T) {
	tests := []struct {
		name string
		rule config.MinimumHealthyHosts
		n    int
		t    Tally
		want bool
	}{
		{"instance health: HOST_COUNT 9 of 10, only the last fails", hc(9), 10, Tally{Succeeded: 9, Failed: 1, LastFailed: true}, true},
		{"instance health: HOST_COUNT 9 of 10, all succeed", hc(9), 10, Tally{Succeeded: 10}, true},
		{"instance health: HOST_COUNT 9 of 10, instance 3 fails", hc(9), 10, Tally{Succeeded: 2, Failed: 1, NotAttempted: 7}, false},
		{"instance health: HOST_COUNT 8 of 10, second failure on the last", hc(8), 10, Tally{Succeeded: 8, Failed: 2, LastFailed: true}, true},
		{"instance health: HOST_COUNT 0, one success", hc(0), 10, Tally{Succeeded: 1, Failed: 9}, true},
		{"instance health: HOST_COUNT 0, no success", hc(0), 10, Tally{Failed: 10}, false},
		{"MinimumHealthyHosts: HOST_COUNT 6 of 9, 6 succeed", hc(6), 9, Tally{Succeeded: 6, Failed: 3}, true},
		{"MinimumHealthyHosts: HOST_COUNT 6 of 9, 5 succeed", hc(6), 9, Tally{Succeeded: 5, Failed: 4}, false},
		{"MinimumHealthyHosts: FLEET_PERCENT 40 of 9, 4 succeed", fp(40), 9, Tally{Succeeded: 4, Failed: 5}, true},
		{"MinimumHealthyHosts: FLEET_PERCENT 40 of 9, 3 succeed", fp(40), 9, Tally{Succeeded: 3, Failed: 6}, false},
		{"deployment configurations: AllAtOnce of 9, 1 succeeds", hc(0), 9, Tally{Succeeded: 1, Failed: 8}, true},
		{"deployment configurations: AllAtOnce of 9, all fail", hc(0), 9, Tally{Failed: 9}, false},
		{"deployment configurations: HalfAtATime of 9, 5 succeed", fp(50), 9, Tally{Succeeded: 5, Failed: 4}, true},
		{"deployment configurations: HalfAtATime of 9, 4 succeed", fp(50), 9, Tally{Succeeded: 4, Failed: 5}, false},
		{"deployment configurations: OneAtATime of 9, the 9th fails", oneAtATime, 9, Tally{Succeeded: 8, Failed: 1, LastFailed: true}, true},
		{"deployment configurations: OneAtATime of 9, the 4th fails", oneAtATime, 9, Tally{Succeeded: 3, Failed: 1, NotAttempted: 5}, false},
		{"deployment configurations: OneAtATime of 9, all succeed", oneAtATime, 9, Tally{Succeeded: 9}, true},
		{"deployment configurations: OneAtATime of 1 succeeds", oneAtATime, 1, Tally{Succeeded: 1}, true},
		{"deployment configurations: OneAtATime of 1 fails (it is also the last)", oneAtATime, 1, Tally{Failed: 1, LastFailed: true}, false},
		{"fleetdeploy: OneAtATime two failures", oneAtATime, 9, Tally{Succeeded: 7, Failed: 2, LastFailed: true}, false},
		{"fleetdeploy: OneAtATime one failure not last", oneAtATime, 9, Tally{Succeeded: 8, Failed: 1}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := NewMinimum(tt.rule, tt.n)
			if err != nil {
				t.Fatal(err)
			}
			if got := m.Succeeded(tt.t); got != tt.want {
				t.Errorf("Succeeded(%+v) = %v, want %v (%s)", tt.t, got, tt.want, m.ExplainResult(tt.t))
			}
		})
	}
}

func TestExplainResult(t *testing.T) {
	m, _ := NewMinimum(hc(9), 10)
	if got, want := m.ExplainResult(Tally{Succeeded: 8, Failed: 2}), "8 of 10 targets succeeded, 2 failed; at least 9 must succeed"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	o, _ := NewMinimum(oneAtATime, 3)
	if got, want := o.ExplainResult(Tally{Succeeded: 2, Failed: 1, LastFailed: true}), "2 of 3 targets succeeded, 1 failed; one at a time, only the last target failed, which is allowed"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

// The health updates of the User Guide's "CodeDeploy instance health".
func TestUpdate(t *testing.T) {
	tests := []struct {
		name    string
		before  Target
		o       Outcome
		success bool
		want    Target
	}{
		{"success: Current succeeded stays Current/Healthy", Target{"a", Healthy, Current}, OutcomeSucceeded, true, Target{"a", Healthy, Current}},
		{"success: Current not succeeded → Unknown/Unhealthy", Target{"a", Healthy, Current}, OutcomeFailed, true, Target{"a", Unhealthy, Unknown}},
		{"success: Current not attempted → Unknown/Unhealthy", Target{"a", Healthy, Current}, OutcomeSkipped, true, Target{"a", Unhealthy, Unknown}},
		{"success: Old succeeded → Current", Target{"a", Healthy, Old}, OutcomeSucceeded, true, Target{"a", Healthy, Current}},
		{"success: Old not succeeded stays Old", Target{"a", Healthy, Old}, OutcomeFailed, true, Target{"a", Unhealthy, Old}},
		{"success: Unknown not succeeded stays Unknown", Target{"a", Unhealthy, Unknown}, OutcomeSkipped, true, Target{"a", Unhealthy, Unknown}},
		{"success: Unhealthy succeeded → Healthy", Target{"a", Unhealthy, Unknown}, OutcomeSucceeded, true, Target{"a", Healthy, Current}},
		{"failure: attempted and failed → Unhealthy", Target{"a", Healthy, Current}, OutcomeFailed, false, Target{"a", Unhealthy, Unknown}},
		{"failure: attempted and succeeded → Healthy, revision Old", Target{"a", Unhealthy, Current}, OutcomeSucceeded, false, Target{"a", Healthy, Old}},
		{"failure: redeploy of the group's revision succeeded → Healthy, revision Current", Target{"a", Unhealthy, Unknown}, OutcomeSucceeded, false, Target{"a", Healthy, Current}},
		{"failure: not attempted keeps its health", Target{"a", Unhealthy, Old}, OutcomeSkipped, false, Target{"a", Unhealthy, Old}},
		{"stop: not attempted Healthy keeps Healthy", Target{"a", Healthy, Current}, OutcomeSkipped, false, Target{"a", Healthy, Current}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Update(tt.before, tt.o, Ending{Succeeded: tt.success, Redeploy: strings.Contains(tt.name, "redeploy")})
			if err != nil || got != tt.want {
				t.Errorf("Update(%+v, %s, %v) = %+v, %v; want %+v", tt.before, tt.o, tt.success, got, err, tt.want)
			}
		})
	}
	if _, err := Update(Target{"a", Healthy, Current}, "Done", Ending{Succeeded: true}); !errors.Is(err, ErrInvalid) {
		t.Errorf("Update with a bad outcome: %v", err)
	}
	if _, err := Update(Target{"a", "", Current}, OutcomeFailed, Ending{Succeeded: true}); !errors.Is(err, ErrInvalid) {
		t.Errorf("Update with a bad target: %v", err)
	}
}

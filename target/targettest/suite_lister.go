package targettest

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"testing"

	"github.com/fleetdeploy/fleetdeploy/target"
)

// TargetSpec describes one target TestLister asks its harness to create.
type TargetSpec struct {
	// Tags are the target's tags (EC2 tags, or an on-premises instance's
	// tags). Keys and values are unique to one run of the suite, so they
	// never match targets made by other tests.
	Tags map[string]string
	// AutoScalingGroup, when not empty, is the Auto Scaling group the
	// target is launched in; the harness creates the group (its name is
	// unique to the run) with as many instances as specs name it. The
	// suite gives every spec of one group the same tags, so a harness may
	// tag the group and let it propagate them to its instances at launch,
	// and return the group's instances in any order among its positions.
	// Set only when ListerHarness.AutoScaling is.
	AutoScalingGroup string
}

// ListerHarness is what TestLister needs to check a target.Lister: the
// Lister, and a way to create targets in the platform it lists.
type ListerHarness struct {
	// Lister is the implementation under test.
	Lister target.Lister
	// Create makes the targets specs describe in the platform Lister lists
	// — for an EC2 Lister, instances with those tags (RunInstances with
	// tag specifications) and Auto Scaling groups; for a local fleet,
	// instances added to it — and returns them, one per spec and in the
	// order of specs, with the IDs the Lister will list them under. The
	// suite calls it once, with every target it needs, so that a harness
	// can batch its calls; the targets must be listable when it returns.
	// The harness removes them when the test ends (t.Cleanup), if it must.
	Create func(ctx context.Context, specs []TargetSpec) ([]target.Target, error)
	// OnPremises says that Create makes on-premises instances: the suite
	// then selects them with on-premises tag filters and tag sets, and
	// checks that EC2 tag filters select none of them. When false the
	// targets are EC2 instances, selected by EC2 tags (and Auto Scaling
	// groups), and on-premises filters must select none of them.
	OnPremises bool
	// AutoScaling says that Create can launch targets in Auto Scaling
	// groups, and that the Lister resolves Selector.AutoScalingGroups; the
	// suite then checks group selection and its union with tags. Leave it
	// false for on-premises instances.
	AutoScaling bool
}

// TestLister runs the conformance suite of target.Lister. newHarness is
// called once, and the harness's Create once, with about ten targets (three
// of them in two Auto Scaling groups when the harness has AutoScaling);
// every check then lists them with a few selectors, so the whole suite
// makes fewer than thirty ListTargets calls.
//
// The checks, each a subtest, are the contract of target.Lister and of
// target.Selector's semantics as CodeDeploy resolves a deployment group:
//
//   - "TagFilter/KeyOnly", "TagFilter/ValueOnly", "TagFilter/KeyAndValue":
//     each filter type, case-sensitive keys and values;
//   - "TagFilters/Union": a target matching any filter of the list is
//     selected, and listed once when it matches several;
//   - "TagSet/EveryGroup": a tag set selects targets matching at least one
//     filter in every one of its groups;
//   - "AutoScalingGroups" and "AutoScalingGroups/UnionWithTags" (harnesses
//     with AutoScaling): the instances of the named groups, united with the
//     tagged ones, each once;
//   - "NoMatch": a zero Selector and selectors matching nothing list
//     nothing, with no error;
//   - "OtherKind": EC2 selectors never list on-premises targets, and
//     on-premises selectors never list EC2 ones;
//   - "Targets": listed targets carry their tags, Auto Scaling group and
//     OnPremises flag, and their Tags maps belong to the caller;
//   - "Context": a cancelled or expired ctx returns its error, at once,
//     and no targets.
//
// Each check reports every wrong target set it sees, naming the targets by
// the labels the suite gave them.
func TestLister(t *testing.T, newHarness func(t *testing.T) ListerHarness) {
	t.Helper()
	h := newHarness(t)
	if h.Lister == nil || h.Create == nil {
		t.Fatal("targettest: ListerHarness needs Lister and Create")
	}
	w := newListerWorld(t, h)
	for _, c := range listerChecks {
		if c.needsASG && !h.AutoScaling {
			continue // not a check of this harness's platform
		}
		t.Run(c.name, func(t *testing.T) { c.run(t, w) })
	}
}

var listerChecks = []struct {
	name     string
	needsASG bool
	run      func(*testing.T, *listerWorld)
}{
	{"TagFilter/KeyOnly", false, testKeyOnly},
	{"TagFilter/ValueOnly", false, testValueOnly},
	{"TagFilter/KeyAndValue", false, testKeyAndValue},
	{"TagFilters/Union", false, testFilterUnion},
	{"TagSet/EveryGroup", false, testTagSet},
	{"AutoScalingGroups", true, testASG},
	{"AutoScalingGroups/UnionWithTags", true, testASGUnion},
	{"NoMatch", false, testNoMatch},
	{"OtherKind", false, testOtherKind},
	{"Targets", false, testListedTargets},
	{"Context", false, testListerContext},
}

// listerWorld is the targets the suite made, by label.
type listerWorld struct {
	h      ListerHarness
	tk     string
	specs  map[string]TargetSpec // label → spec
	ids    map[string][]string   // label → IDs (several for a group label)
	labels map[string]string     // ID → label
}

// The world. Labels name targets in messages; keys and values are
// prefixed with the run's token.
//
//	a      role=web env=prod
//	b      role=db  env=staging
//	c      team=web
//	d      env=prod
//	e      role=Web              (case differs from a's)
//	f      (no tags)
//	g1 ×2  env=prod  in group asg1 (AutoScaling only)
//	g2     (no tags) in group asg2 (AutoScaling only)
func newListerWorld(t *testing.T, h ListerHarness) *listerWorld {
	t.Helper()
	w := &listerWorld{h: h, tk: token(t), specs: map[string]TargetSpec{}, ids: map[string][]string{}, labels: map[string]string{}}
	type labelled struct {
		label string
		spec  TargetSpec
	}
	all := []labelled{
		{"a", TargetSpec{Tags: w.tags("role", "web", "env", "prod")}},
		{"b", TargetSpec{Tags: w.tags("role", "db", "env", "staging")}},
		{"c", TargetSpec{Tags: w.tags("team", "web")}},
		{"d", TargetSpec{Tags: w.tags("env", "prod")}},
		{"e", TargetSpec{Tags: w.tags("role", "Web")}},
		{"f", TargetSpec{Tags: map[string]string{}}},
	}
	if h.AutoScaling {
		all = append(all,
			labelled{"g1", TargetSpec{Tags: w.tags("env", "prod"), AutoScalingGroup: w.asg("asg1")}},
			labelled{"g1", TargetSpec{Tags: w.tags("env", "prod"), AutoScalingGroup: w.asg("asg1")}},
			labelled{"g2", TargetSpec{Tags: map[string]string{}, AutoScalingGroup: w.asg("asg2")}},
		)
	}
	specs := make([]TargetSpec, len(all))
	for i, l := range all {
		specs[i] = TargetSpec{Tags: maps.Clone(l.spec.Tags), AutoScalingGroup: l.spec.AutoScalingGroup}
		w.specs[l.label] = l.spec
	}
	made, err := h.Create(t.Context(), specs)
	if err != nil {
		t.Fatalf("targettest: the harness could not create the targets: %v", err)
	}
	if len(made) != len(all) {
		t.Fatalf("targettest: the harness's Create returned %d targets for %d specs", len(made), len(all))
	}
	for i, m := range made {
		if m.ID == "" {
			t.Fatalf("targettest: the harness's Create returned a target without an ID for spec %d", i)
		}
		if l, dup := w.labels[m.ID]; dup {
			t.Fatalf("targettest: the harness's Create returned %s twice (for %s and %s)", m.ID, l, all[i].label)
		}
		w.labels[m.ID] = all[i].label
		w.ids[all[i].label] = append(w.ids[all[i].label], m.ID)
	}
	return w
}

// tags builds a tag map from key, value pairs, each prefixed with the
// world's token (values keep their case after it).
func (w *listerWorld) tags(kv ...string) map[string]string {
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[w.tk+"-"+kv[i]] = w.tk + "-" + kv[i+1]
	}
	return m
}

func (w *listerWorld) asg(name string) string { return w.tk + "-" + name }

// filter builds a tag filter on the world's names; "" leaves a part out.
func (w *listerWorld) filter(key, value string, typ target.TagFilterType) target.TagFilter {
	f := target.TagFilter{Type: typ}
	if key != "" {
		f.Key = w.tk + "-" + key
	}
	if value != "" {
		f.Value = w.tk + "-" + value
	}
	return f
}

// filters returns a selector with fs as the tag filters of the harness's
// kind of target.
func (w *listerWorld) filters(fs ...target.TagFilter) target.Selector {
	if w.h.OnPremises {
		return target.Selector{OnPremisesInstanceTagFilters: fs}
	}
	return target.Selector{EC2TagFilters: fs}
}

// tagSet returns a selector with groups as the tag set of the harness's
// kind of target.
func (w *listerWorld) tagSet(groups ...[]target.TagFilter) target.Selector {
	if w.h.OnPremises {
		return target.Selector{OnPremisesTagSet: target.OnPremisesTagSet{List: groups}}
	}
	return target.Selector{EC2TagSet: target.EC2TagSet{List: groups}}
}

// expect lists sel and reports (as errors on t) every way the result
// differs from the targets labelled want: missing ones, unexpected ones,
// duplicates, and targets the suite did not make that carry its tags.
func (w *listerWorld) expect(t *testing.T, what string, sel target.Selector, want ...string) {
	t.Helper()
	got, err := w.h.Lister.ListTargets(t.Context(), sel)
	if err != nil {
		t.Errorf("%s: ListTargets(%+v) = %v", what, sel, err)
		return
	}
	var wantIDs, gotIDs []string
	for _, l := range want {
		wantIDs = append(wantIDs, w.ids[l]...)
	}
	for _, g := range got {
		gotIDs = append(gotIDs, g.ID)
	}
	if d := dups(gotIDs); len(d) > 0 {
		t.Errorf("%s: ListTargets listed %s more than once (each target must appear once)", what, w.name(d...))
	}
	var missing, extra []string
	for _, id := range wantIDs {
		if !slices.Contains(gotIDs, id) {
			missing = append(missing, id)
		}
	}
	for _, id := range gotIDs {
		if !slices.Contains(wantIDs, id) && !slices.Contains(extra, id) {
			extra = append(extra, id)
		}
	}
	if len(missing) > 0 {
		t.Errorf("%s: ListTargets(%+v) did not list %s", what, sel, w.name(missing...))
	}
	if len(extra) > 0 {
		t.Errorf("%s: ListTargets(%+v) listed %s, which the selector does not match", what, sel, w.name(extra...))
	}
}

// name labels IDs for a message: "a (i-123)", or the bare ID of a target
// the suite did not make.
func (w *listerWorld) name(ids ...string) string {
	var out []string
	for _, id := range ids {
		if l, ok := w.labels[id]; ok {
			out = append(out, fmt.Sprintf("%s (%s)", l, id))
		} else {
			out = append(out, id+" (not made by the suite)")
		}
	}
	return listOf(out)
}

func testKeyOnly(t *testing.T, w *listerWorld) {
	w.expect(t, "KEY_ONLY role", w.filters(w.filter("role", "", target.KeyOnly)), "a", "b", "e")
	w.expect(t, "KEY_ONLY team", w.filters(w.filter("team", "", target.KeyOnly)), "c")
	w.expect(t, "KEY_ONLY ROLE (keys are case-sensitive)", w.filters(w.filter("ROLE", "", target.KeyOnly)))
}

func testValueOnly(t *testing.T, w *listerWorld) {
	// A VALUE_ONLY filter matches the value under any key.
	w.expect(t, "VALUE_ONLY web", w.filters(w.filter("", "web", target.ValueOnly)), "a", "c")
	w.expect(t, "VALUE_ONLY Web", w.filters(w.filter("", "Web", target.ValueOnly)), "e")
}

func testKeyAndValue(t *testing.T, w *listerWorld) {
	w.expect(t, "KEY_AND_VALUE role=web", w.filters(w.filter("role", "web", target.KeyAndValue)), "a")
	// The value under another key does not match.
	w.expect(t, "KEY_AND_VALUE team=db", w.filters(w.filter("team", "db", target.KeyAndValue)))
}

func testFilterUnion(t *testing.T, w *listerWorld) {
	// a matches both filters and is listed once.
	prod := []string{"a", "d"}
	if w.h.AutoScaling {
		prod = append(prod, "g1")
	}
	w.expect(t, "role=web or env=prod", w.filters(w.filter("role", "web", target.KeyAndValue), w.filter("env", "prod", target.KeyAndValue)), prod...)
	w.expect(t, "KEY_ONLY role or VALUE_ONLY web", w.filters(w.filter("role", "", target.KeyOnly), w.filter("", "web", target.ValueOnly)), "a", "b", "c", "e")
}

func testTagSet(t *testing.T, w *listerWorld) {
	// OR within a group, AND across groups: (role=web or role=db) and
	// has env → a, b; not d (no role), not e (no env).
	w.expect(t, "tag set [[role=web, role=db], [env]]", w.tagSet(
		[]target.TagFilter{w.filter("role", "web", target.KeyAndValue), w.filter("role", "db", target.KeyAndValue)},
		[]target.TagFilter{w.filter("env", "", target.KeyOnly)},
	), "a", "b")
	w.expect(t, "tag set [[VALUE_ONLY web]]", w.tagSet([]target.TagFilter{w.filter("", "web", target.ValueOnly)}), "a", "c")
	w.expect(t, "tag set [[team], [env]] (no target has both)", w.tagSet(
		[]target.TagFilter{w.filter("team", "", target.KeyOnly)},
		[]target.TagFilter{w.filter("env", "", target.KeyOnly)},
	))
}

func testASG(t *testing.T, w *listerWorld) {
	w.expect(t, "group asg1", target.Selector{AutoScalingGroups: []string{w.asg("asg1")}}, "g1")
	w.expect(t, "groups asg1 and asg2", target.Selector{AutoScalingGroups: []string{w.asg("asg1"), w.asg("asg2")}}, "g1", "g2")
}

func testASGUnion(t *testing.T, w *listerWorld) {
	w.expect(t, "role=db or group asg2", target.Selector{
		EC2TagFilters:     []target.TagFilter{w.filter("role", "db", target.KeyAndValue)},
		AutoScalingGroups: []string{w.asg("asg2")},
	}, "b", "g2")
	// g1's instances match the tag and the group: each is listed once.
	w.expect(t, "env=prod or group asg1", target.Selector{
		EC2TagFilters:     []target.TagFilter{w.filter("env", "prod", target.KeyAndValue)},
		AutoScalingGroups: []string{w.asg("asg1")},
	}, "a", "d", "g1")
	w.expect(t, "tag set [[role=web]] or group asg2", target.Selector{
		EC2TagSet:         target.EC2TagSet{List: [][]target.TagFilter{{w.filter("role", "web", target.KeyAndValue)}}},
		AutoScalingGroups: []string{w.asg("asg2")},
	}, "a", "g2")
}

func testNoMatch(t *testing.T, w *listerWorld) {
	got, err := w.h.Lister.ListTargets(t.Context(), target.Selector{})
	if err != nil || len(got) != 0 {
		t.Errorf("zero Selector: ListTargets = %d targets, %v; want none and no error (a zero Selector matches nothing)", len(got), err)
	}
	w.expect(t, "KEY_AND_VALUE on a key nobody has", w.filters(w.filter("nokey", "web", target.KeyAndValue)))
	w.expect(t, "VALUE_ONLY on a value nobody has", w.filters(w.filter("", "novalue", target.ValueOnly)))
	if w.h.AutoScaling {
		w.expect(t, "an Auto Scaling group that does not exist", target.Selector{AutoScalingGroups: []string{w.asg("nogroup")}})
	}
}

func testOtherKind(t *testing.T, w *listerWorld) {
	f := []target.TagFilter{w.filter("role", "", target.KeyOnly), w.filter("", "web", target.ValueOnly)}
	if w.h.OnPremises {
		w.expect(t, "EC2 tag filters on on-premises instances", target.Selector{EC2TagFilters: f})
		w.expect(t, "EC2 tag set on on-premises instances", target.Selector{EC2TagSet: target.EC2TagSet{List: [][]target.TagFilter{f}}})
		return
	}
	w.expect(t, "on-premises tag filters on EC2 instances", target.Selector{OnPremisesInstanceTagFilters: f})
	w.expect(t, "on-premises tag set on EC2 instances", target.Selector{OnPremisesTagSet: target.OnPremisesTagSet{List: [][]target.TagFilter{f}}})
}

func testListedTargets(t *testing.T, w *listerWorld) {
	all := w.filters(w.filter("role", "", target.KeyOnly), w.filter("team", "", target.KeyOnly), w.filter("env", "", target.KeyOnly))
	if w.h.AutoScaling {
		all.AutoScalingGroups = []string{w.asg("asg1"), w.asg("asg2")}
	}
	got, err := w.h.Lister.ListTargets(t.Context(), all)
	if err != nil {
		t.Fatalf("ListTargets = %v", err)
	}
	if len(got) == 0 {
		t.Fatal("ListTargets listed nothing for a selector matching most of the suite's targets")
	}
	for _, g := range got {
		label, ok := w.labels[g.ID]
		if !ok {
			t.Errorf("ListTargets listed %s, which the suite did not make", g.ID)
			continue
		}
		spec := w.specs[label]
		for k, v := range spec.Tags {
			if g.Tags[k] != v {
				t.Errorf("target %s: Tags[%q] = %q; want %q (a listed target carries its tags)", w.name(g.ID), k, g.Tags[k], v)
			}
		}
		if g.AutoScalingGroup != spec.AutoScalingGroup {
			t.Errorf("target %s: AutoScalingGroup = %q; want %q", w.name(g.ID), g.AutoScalingGroup, spec.AutoScalingGroup)
		}
		if g.OnPremises != w.h.OnPremises {
			t.Errorf("target %s: OnPremises = %v; want %v", w.name(g.ID), g.OnPremises, w.h.OnPremises)
		}
	}
	// The caller owns what it gets: changing it changes nothing listed
	// later.
	for i := range got {
		if got[i].Tags == nil {
			continue
		}
		for k := range got[i].Tags {
			got[i].Tags[k] = "changed by the caller"
		}
		got[i].Tags[w.tk+"-added"] = "by the caller"
	}
	again, err := w.h.Lister.ListTargets(t.Context(), all)
	if err != nil {
		t.Fatalf("ListTargets = %v", err)
	}
	for _, g := range again {
		if label, ok := w.labels[g.ID]; ok && !maps.Equal(withOnly(g.Tags, w.specs[label].Tags), w.specs[label].Tags) {
			t.Errorf("target %s: after the caller changed the Tags map of an earlier listing, ListTargets lists tags %v; want %v (the returned maps belong to the caller)",
				w.name(g.ID), g.Tags, w.specs[label].Tags)
		}
		if _, ok := g.Tags[w.tk+"-added"]; ok {
			t.Errorf("target %s: a tag the caller added to an earlier listing's map is listed again", w.name(g.ID))
		}
	}
}

// withOnly returns the entries of m whose keys are keys of ref.
func withOnly(m, ref map[string]string) map[string]string {
	out := map[string]string{}
	for k := range ref {
		if v, ok := m[k]; ok {
			out[k] = v
		}
	}
	return out
}

func testListerContext(t *testing.T, w *listerWorld) {
	sel := w.filters(w.filter("role", "", target.KeyOnly))
	for _, c := range doneContexts(t.Context()) {
		var (
			got []target.Target
			err error
		)
		what := "ListTargets (" + c.name + ")"
		if !promptly(t, what, func() { got, err = w.h.Lister.ListTargets(c.ctx, sel) }) {
			continue
		}
		checkCtxErr(t, what, err, c.want)
		if len(got) > 0 {
			t.Errorf("%s returned %d targets; want none (no partial result)", what, len(got))
		}
	}
}

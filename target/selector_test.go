package target

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/hashicorp/go-multierror"
)

// problemsOf returns the problems a validation error lists, as a caller
// reads them: the *Problem elements of its *multierror.Error.
func problemsOf(err error) []*Problem {
	var list *multierror.Error
	if !errors.As(err, &list) {
		return nil
	}
	var ps []*Problem
	for _, e := range list.Errors {
		var p *Problem
		if errors.As(e, &p) {
			ps = append(ps, p)
		}
	}
	return ps
}

func ec2(id string, tags map[string]string) Target { return Target{ID: id, Tags: tags} }

func onPrem(id string, tags map[string]string) Target {
	return Target{ID: id, Tags: tags, OnPremises: true}
}

func kv(k, v string) TagFilter { return TagFilter{Key: k, Value: v, Type: KeyAndValue} }

// The three-group tag set example of the User Guide's "Tagging instances
// for deployment groups in CodeDeploy": group 1 is
// Name=AppServer OR Name=WebServer, group 2 Env=Prod, group 3 Region=East.
var exampleTagSet = [][]TagFilter{
	{kv("Name", "AppServer"), kv("Name", "WebServer")},
	{kv("Env", "Prod")},
	{kv("Region", "East")},
}

func TestTagFilterTypes(t *testing.T) {
	// API Reference, EC2TagFilter: Type ∈ {KEY_ONLY, VALUE_ONLY, KEY_AND_VALUE}.
	tags := map[string]string{"Name": "Web", "Env": "Prod"}
	tests := []struct {
		name   string
		filter TagFilter
		want   bool
	}{
		{"KEY_ONLY key present", TagFilter{Key: "Env", Type: KeyOnly}, true},
		{"KEY_ONLY key absent", TagFilter{Key: "Region", Type: KeyOnly}, false},
		{"KEY_ONLY is case-sensitive", TagFilter{Key: "env", Type: KeyOnly}, false},
		{"VALUE_ONLY value under any key", TagFilter{Value: "Prod", Type: ValueOnly}, true},
		{"VALUE_ONLY value absent", TagFilter{Value: "Dev", Type: ValueOnly}, false},
		{"VALUE_ONLY does not match keys", TagFilter{Value: "Env", Type: ValueOnly}, false},
		{"KEY_AND_VALUE both equal", kv("Env", "Prod"), true},
		{"KEY_AND_VALUE value differs", kv("Env", "Dev"), false},
		{"KEY_AND_VALUE value under another key", kv("Name", "Prod"), false},
		{"KEY_AND_VALUE key absent", kv("Region", "Prod"), false},
		{"invalid: no type", TagFilter{Key: "Env", Value: "Prod"}, false},
		{"invalid: KEY_ONLY without key", TagFilter{Type: KeyOnly}, false},
		{"invalid: VALUE_ONLY without value", TagFilter{Type: ValueOnly}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.filter.Matches(tags); got != tt.want {
				t.Errorf("%+v.Matches(%v) = %v, want %v", tt.filter, tags, got, tt.want)
			}
		})
	}
	// An empty-valued tag is matched by KEY_ONLY but never by an empty
	// VALUE_ONLY filter (which is invalid).
	if !(TagFilter{Key: "Flag", Type: KeyOnly}).Matches(map[string]string{"Flag": ""}) {
		t.Error("KEY_ONLY must match a tag with an empty value")
	}
}

func TestSelectorMatches(t *testing.T) {
	tests := []struct {
		name string
		sel  Selector
		t    Target
		want bool
	}{
		// API Reference, CreateDeploymentGroup: ec2TagFilters match on any
		// filter.
		{"ec2TagFilters OR: first", Selector{EC2TagFilters: []TagFilter{kv("Name", "A"), kv("Name", "B")}}, ec2("i", map[string]string{"Name": "A"}), true},
		{"ec2TagFilters OR: second", Selector{EC2TagFilters: []TagFilter{kv("Name", "A"), kv("Name", "B")}}, ec2("i", map[string]string{"Name": "B"}), true},
		{"ec2TagFilters OR: none", Selector{EC2TagFilters: []TagFilter{kv("Name", "A"), kv("Name", "B")}}, ec2("i", map[string]string{"Name": "C"}), false},
		{"ec2TagFilters: untagged", Selector{EC2TagFilters: []TagFilter{kv("Name", "A")}}, ec2("i", nil), false},

		// "Tagging instances for deployment groups in CodeDeploy": a tag set
		// needs one filter of every group.
		{"tag set: AppServer/Prod/East", Selector{EC2TagSet: EC2TagSet{List: exampleTagSet}}, ec2("i", map[string]string{"Name": "AppServer", "Env": "Prod", "Region": "East"}), true},
		{"tag set: WebServer/Prod/East", Selector{EC2TagSet: EC2TagSet{List: exampleTagSet}}, ec2("i", map[string]string{"Name": "WebServer", "Env": "Prod", "Region": "East"}), true},
		{"tag set: missing group 3", Selector{EC2TagSet: EC2TagSet{List: exampleTagSet}}, ec2("i", map[string]string{"Name": "AppServer", "Env": "Prod"}), false},
		{"tag set: wrong value in group 2", Selector{EC2TagSet: EC2TagSet{List: exampleTagSet}}, ec2("i", map[string]string{"Name": "AppServer", "Env": "Dev", "Region": "East"}), false},
		{"tag set: no group 1 filter", Selector{EC2TagSet: EC2TagSet{List: exampleTagSet}}, ec2("i", map[string]string{"Name": "DbServer", "Env": "Prod", "Region": "East"}), false},
		{"tag set: one group", Selector{EC2TagSet: EC2TagSet{List: [][]TagFilter{{kv("Env", "Prod")}}}}, ec2("i", map[string]string{"Env": "Prod"}), true},
		{"tag set: mixed filter types", Selector{EC2TagSet: EC2TagSet{List: [][]TagFilter{{{Key: "Name", Type: KeyOnly}}, {{Value: "East", Type: ValueOnly}}}}}, ec2("i", map[string]string{"Name": "x", "Zone": "East"}), true},
		{"tag set: empty group matches nothing", Selector{EC2TagSet: EC2TagSet{List: [][]TagFilter{{kv("Env", "Prod")}, {}}}}, ec2("i", map[string]string{"Env": "Prod"}), false},

		// On-premises filters and tag sets (API Reference,
		// CreateDeploymentGroup), and the EC2/on-premises separation.
		{"on-prem filters OR", Selector{OnPremisesInstanceTagFilters: []TagFilter{kv("Name", "A"), kv("Name", "B")}}, onPrem("m", map[string]string{"Name": "B"}), true},
		{"on-prem filters none", Selector{OnPremisesInstanceTagFilters: []TagFilter{kv("Name", "A")}}, onPrem("m", map[string]string{"Name": "B"}), false},
		{"on-prem tag set AND", Selector{OnPremisesTagSet: OnPremisesTagSet{List: exampleTagSet}}, onPrem("m", map[string]string{"Name": "WebServer", "Env": "Prod", "Region": "East"}), true},
		{"on-prem tag set missing group", Selector{OnPremisesTagSet: OnPremisesTagSet{List: exampleTagSet}}, onPrem("m", map[string]string{"Name": "WebServer", "Env": "Prod"}), false},
		{"EC2 filters never select on-prem", Selector{EC2TagFilters: []TagFilter{kv("Env", "Prod")}}, onPrem("m", map[string]string{"Env": "Prod"}), false},
		{"EC2 tag set never selects on-prem", Selector{EC2TagSet: EC2TagSet{List: exampleTagSet}}, onPrem("m", map[string]string{"Name": "AppServer", "Env": "Prod", "Region": "East"}), false},
		{"on-prem filters never select EC2", Selector{OnPremisesInstanceTagFilters: []TagFilter{kv("Env", "Prod")}}, ec2("i", map[string]string{"Env": "Prod"}), false},
		{"on-prem tag set never selects EC2", Selector{OnPremisesTagSet: OnPremisesTagSet{List: exampleTagSet}}, ec2("i", map[string]string{"Name": "AppServer", "Env": "Prod", "Region": "East"}), false},
		{"EC2 and on-prem in one group: EC2", Selector{EC2TagFilters: []TagFilter{kv("Env", "Prod")}, OnPremisesInstanceTagFilters: []TagFilter{kv("Env", "Lab")}}, ec2("i", map[string]string{"Env": "Prod"}), true},
		{"EC2 and on-prem in one group: on-prem", Selector{EC2TagFilters: []TagFilter{kv("Env", "Prod")}, OnPremisesInstanceTagFilters: []TagFilter{kv("Env", "Lab")}}, onPrem("m", map[string]string{"Env": "Lab"}), true},

		// autoScalingGroups (API Reference, CreateDeploymentGroup):
		// membership, union with tags.
		{"ASG member", Selector{AutoScalingGroups: []string{"web", "api"}}, Target{ID: "i", AutoScalingGroup: "api"}, true},
		{"ASG non-member", Selector{AutoScalingGroups: []string{"web"}}, Target{ID: "i", AutoScalingGroup: "api"}, false},
		{"ASG: instance in no group", Selector{AutoScalingGroups: []string{"web"}}, ec2("i", nil), false},
		{"ASG is case-sensitive", Selector{AutoScalingGroups: []string{"web"}}, Target{ID: "i", AutoScalingGroup: "Web"}, false},
		{"tags ∪ ASG: tagged, not in ASG", Selector{EC2TagFilters: []TagFilter{kv("Env", "Prod")}, AutoScalingGroups: []string{"web"}}, ec2("i", map[string]string{"Env": "Prod"}), true},
		{"tags ∪ ASG: in ASG, untagged", Selector{EC2TagFilters: []TagFilter{kv("Env", "Prod")}, AutoScalingGroups: []string{"web"}}, Target{ID: "i", AutoScalingGroup: "web"}, true},
		{"tag set ∪ ASG: in ASG, set not met", Selector{EC2TagSet: EC2TagSet{List: exampleTagSet}, AutoScalingGroups: []string{"web"}}, Target{ID: "i", AutoScalingGroup: "web", Tags: map[string]string{"Env": "Prod"}}, true},
		{"ASG never selects on-prem", Selector{AutoScalingGroups: []string{"web"}}, Target{ID: "m", AutoScalingGroup: "web", OnPremises: true}, false},

		{"empty selector matches nothing", Selector{}, ec2("i", map[string]string{"Env": "Prod"}), false},
		{"empty selector matches no on-prem", Selector{}, onPrem("m", map[string]string{"Env": "Prod"}), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.sel.Matches(tt.t); got != tt.want {
				t.Errorf("Matches(%+v) = %v, want %v", tt.t, got, tt.want)
			}
		})
	}
}

// The limits of "Tagging instances for deployment groups in CodeDeploy" and
// "CodeDeploy quotas", and the combinations CreateDeploymentGroup refuses
// (API Reference).
func TestSelectorValidate(t *testing.T) {
	long := strings.Repeat("k", MaxTagKeyLength+1)
	longValue := strings.Repeat("v", MaxTagValueLength+1)
	tenTags := make([]TagFilter, MaxTagsPerGroup)
	for i := range tenTags {
		tenTags[i] = kv("k", string(rune('a'+i)))
	}
	elevenTags := append(append([]TagFilter{}, tenTags...), kv("k", "z"))
	asgs := func(n int) []string {
		var out []string
		for i := range n {
			out = append(out, "asg-"+string(rune('a'+i)))
		}
		return out
	}
	type problem struct {
		field    string
		sentinel error
	}
	tests := []struct {
		name string
		sel  Selector
		want []problem // nil: valid
	}{
		{"zero selector is valid", Selector{}, nil},
		{"example tag set is valid", Selector{EC2TagSet: EC2TagSet{List: exampleTagSet}}, nil},
		{"ten tags per group, ten ASGs are valid", Selector{EC2TagFilters: tenTags, OnPremisesTagSet: OnPremisesTagSet{List: [][]TagFilter{tenTags}}, AutoScalingGroups: asgs(10)}, nil},
		{"key 128 and value 256 characters are valid", Selector{EC2TagFilters: []TagFilter{kv(long[1:], longValue[1:])}}, nil},
		{"lengths count characters, not bytes", Selector{EC2TagFilters: []TagFilter{kv(strings.Repeat("é", MaxTagKeyLength), "v")}}, nil},
		{"ec2TagFilters with ec2TagSet", Selector{EC2TagFilters: []TagFilter{kv("a", "b")}, EC2TagSet: EC2TagSet{List: exampleTagSet}},
			[]problem{{"ec2TagFilters", ErrInvalidEC2TagCombination}}},
		{"onPremisesInstanceTagFilters with onPremisesTagSet", Selector{OnPremisesInstanceTagFilters: []TagFilter{kv("a", "b")}, OnPremisesTagSet: OnPremisesTagSet{List: exampleTagSet}},
			[]problem{{"onPremisesInstanceTagFilters", ErrInvalidOnPremisesTagCombination}}},
		{"four tag groups", Selector{EC2TagSet: EC2TagSet{List: append(append([][]TagFilter{}, exampleTagSet...), []TagFilter{kv("a", "b")})}},
			[]problem{{"ec2TagSet.ec2TagSetList", ErrTagSetListLimitExceeded}}},
		{"four on-prem tag groups", Selector{OnPremisesTagSet: OnPremisesTagSet{List: [][]TagFilter{{kv("a", "1")}, {kv("b", "2")}, {kv("c", "3")}, {kv("d", "4")}}}},
			[]problem{{"onPremisesTagSet.onPremisesTagSetList", ErrTagSetListLimitExceeded}}},
		{"eleven tags in a group", Selector{EC2TagSet: EC2TagSet{List: [][]TagFilter{elevenTags}}},
			[]problem{{"ec2TagSet.ec2TagSetList[0]", ErrTagLimitExceeded}}},
		{"eleven tag filters", Selector{OnPremisesInstanceTagFilters: elevenTags},
			[]problem{{"onPremisesInstanceTagFilters", ErrTagLimitExceeded}}},
		{"empty tag group", Selector{EC2TagSet: EC2TagSet{List: [][]TagFilter{{kv("a", "b")}, {}}}},
			[]problem{{"ec2TagSet.ec2TagSetList[1]", ErrInvalidTag}}},
		{"eleven ASGs", Selector{AutoScalingGroups: asgs(11)},
			[]problem{{"autoScalingGroups", ErrAutoScalingGroupLimitExceeded}}},
		{"empty and repeated ASG names", Selector{AutoScalingGroups: []string{"web", "", "web"}},
			[]problem{{"autoScalingGroups[1]", ErrInvalidAutoScalingGroup}, {"autoScalingGroups[2]", ErrInvalidAutoScalingGroup}}},
		{"filter without type", Selector{EC2TagFilters: []TagFilter{{Key: "a", Value: "b"}}},
			[]problem{{"ec2TagFilters[0].Type", ErrInvalidTag}}},
		{"filter with unknown type", Selector{EC2TagFilters: []TagFilter{{Key: "a", Value: "b", Type: "KEY_AND_VAL"}}},
			[]problem{{"ec2TagFilters[0].Type", ErrInvalidTag}}},
		{"KEY_ONLY without key, with value", Selector{EC2TagFilters: []TagFilter{{Value: "b", Type: KeyOnly}}},
			[]problem{{"ec2TagFilters[0].Key", ErrInvalidTag}, {"ec2TagFilters[0].Value", ErrInvalidTag}}},
		{"VALUE_ONLY without value, with key", Selector{OnPremisesInstanceTagFilters: []TagFilter{{Key: "a", Type: ValueOnly}}},
			[]problem{{"onPremisesInstanceTagFilters[0].Key", ErrInvalidTag}, {"onPremisesInstanceTagFilters[0].Value", ErrInvalidTag}}},
		{"KEY_AND_VALUE missing both", Selector{EC2TagSet: EC2TagSet{List: [][]TagFilter{{kv("a", "b"), {Type: KeyAndValue}}}}},
			[]problem{{"ec2TagSet.ec2TagSetList[0][1].Key", ErrInvalidTag}, {"ec2TagSet.ec2TagSetList[0][1].Value", ErrInvalidTag}}},
		{"key over 128, value over 256 characters", Selector{EC2TagFilters: []TagFilter{kv(long, longValue)}},
			[]problem{{"ec2TagFilters[0].Key", ErrInvalidTag}, {"ec2TagFilters[0].Value", ErrInvalidTag}}},
		{"every problem at once", Selector{
			EC2TagFilters:     []TagFilter{{Type: KeyOnly}},
			EC2TagSet:         EC2TagSet{List: exampleTagSet},
			AutoScalingGroups: asgs(11),
		}, []problem{
			{"ec2TagFilters", ErrInvalidEC2TagCombination},
			{"ec2TagFilters[0].Key", ErrInvalidTag},
			{"autoScalingGroups", ErrAutoScalingGroupLimitExceeded},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.sel.Validate()
			if tt.want == nil {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			ps := problemsOf(err)
			if len(ps) == 0 {
				t.Fatalf("Validate() = %v, want a *multierror.Error of *Problem values", err)
			}
			if !errors.Is(err, ErrInvalidSelector) {
				t.Errorf("errors.Is(err, ErrInvalidSelector) = false")
			}
			if !strings.HasPrefix(err.Error(), "target: ") {
				t.Errorf("error %q lacks the package prefix", err)
			}
			if len(ps) != len(tt.want) {
				t.Fatalf("got %d problems, want %d:\n%v", len(ps), len(tt.want), err)
			}
			for i, w := range tt.want {
				p := ps[i]
				if p.Field != w.field || p.Err != w.sentinel {
					t.Errorf("problem %d = {%s, %v}, want {%s, %v}", i, p.Field, p.Err, w.field, w.sentinel)
				}
				if !errors.Is(err, w.sentinel) {
					t.Errorf("errors.Is(err, %v) = false", w.sentinel)
				}
				if !strings.Contains(err.Error(), w.field+": ") {
					t.Errorf("error does not name field %s:\n%v", w.field, err)
				}
			}
		})
	}
}

func TestSelectorJSON(t *testing.T) {
	// Field names as CodeDeploy's API spells them (API Reference,
	// CreateDeploymentGroup).
	const doc = `{
		"ec2TagSet": {"ec2TagSetList": [[{"Key": "Name", "Value": "AppServer", "Type": "KEY_AND_VALUE"}], [{"Key": "Env", "Type": "KEY_ONLY"}]]},
		"onPremisesInstanceTagFilters": [{"Value": "Lab", "Type": "VALUE_ONLY"}],
		"autoScalingGroups": ["web"]
	}`
	var s Selector
	if err := json.Unmarshal([]byte(doc), &s); err != nil {
		t.Fatal(err)
	}
	want := Selector{
		EC2TagSet:                    EC2TagSet{List: [][]TagFilter{{kv("Name", "AppServer")}, {{Key: "Env", Type: KeyOnly}}}},
		OnPremisesInstanceTagFilters: []TagFilter{{Value: "Lab", Type: ValueOnly}},
		AutoScalingGroups:            []string{"web"},
	}
	if got, _ := json.Marshal(s); string(got) != mustJSON(t, want) {
		t.Errorf("decoded %s, want %s", got, mustJSON(t, want))
	}
	const doc2 = `{"ec2TagFilters":[{"Key":"a","Value":"b","Type":"KEY_AND_VALUE"}],"onPremisesTagSet":{"onPremisesTagSetList":[[{"Key":"c","Type":"KEY_ONLY"}]]}}`
	var s2 Selector
	if err := json.Unmarshal([]byte(doc2), &s2); err != nil {
		t.Fatal(err)
	}
	if got := mustJSON(t, s2); got != doc2 {
		t.Errorf("round trip = %s, want %s", got, doc2)
	}
	if got := mustJSON(t, Selector{}); got != "{}" {
		t.Errorf("zero selector encodes as %s, want {}", got)
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestSelectorIsZero(t *testing.T) {
	if !(Selector{}).IsZero() {
		t.Error("zero selector: IsZero() = false")
	}
	for _, s := range []Selector{
		{EC2TagFilters: []TagFilter{kv("a", "b")}},
		{EC2TagSet: EC2TagSet{List: exampleTagSet}},
		{OnPremisesInstanceTagFilters: []TagFilter{kv("a", "b")}},
		{OnPremisesTagSet: OnPremisesTagSet{List: exampleTagSet}},
		{AutoScalingGroups: []string{"web"}},
	} {
		if s.IsZero() {
			t.Errorf("%+v: IsZero() = true", s)
		}
	}
}

// Clone copies every filter list and tag group, so the copy can be changed
// freely.
func TestSelectorClone(t *testing.T) {
	s := Selector{
		EC2TagFilters:                []TagFilter{{Key: "env", Value: "prod", Type: KeyAndValue}},
		EC2TagSet:                    EC2TagSet{List: [][]TagFilter{{{Key: "a", Type: KeyOnly}}}},
		OnPremisesInstanceTagFilters: []TagFilter{{Key: "dc", Type: KeyOnly}},
		OnPremisesTagSet:             OnPremisesTagSet{List: [][]TagFilter{{{Value: "x", Type: ValueOnly}}}},
		AutoScalingGroups:            []string{"asg"},
	}
	c := s.Clone()
	if !reflect.DeepEqual(c, s) {
		t.Fatalf("Clone = %+v; want %+v", c, s)
	}
	c.EC2TagFilters[0].Key = "changed"
	c.EC2TagSet.List[0][0].Key = "changed"
	c.OnPremisesInstanceTagFilters[0].Key = "changed"
	c.OnPremisesTagSet.List[0][0].Value = "changed"
	c.AutoScalingGroups[0] = "changed"
	if s.EC2TagFilters[0].Key != "env" || s.EC2TagSet.List[0][0].Key != "a" || s.OnPremisesInstanceTagFilters[0].Key != "dc" ||
		s.OnPremisesTagSet.List[0][0].Value != "x" || s.AutoScalingGroups[0] != "asg" {
		t.Errorf("changing the clone changed the original: %+v", s)
	}
}

// TestSelectorNamesAreCodeDeploys: each field of Selector, its tag sets and
// TagFilter is named as CodeDeploy's CreateDeploymentGroup API names it,
// in Go and in JSON, so a user never has to guess which name goes with
// which.
func TestSelectorNamesAreCodeDeploys(t *testing.T) {
	for typ, want := range map[reflect.Type][]string{
		reflect.TypeFor[Selector]():         {"ec2TagFilters", "ec2TagSet", "onPremisesInstanceTagFilters", "onPremisesTagSet", "autoScalingGroups"},
		reflect.TypeFor[EC2TagSet]():        {"ec2TagSetList"},
		reflect.TypeFor[OnPremisesTagSet](): {"onPremisesTagSetList"},
		reflect.TypeFor[TagFilter]():        {"Key", "Value", "Type"},
	} {
		var got []string
		for f := range typ.Fields() {
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			got = append(got, name)
			if !strings.EqualFold(f.Name, name) && f.Name != "List" {
				t.Errorf("%s.%s has JSON name %q; the Go and JSON names must be the API's", typ.Name(), f.Name, name)
			}
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s JSON names %q; want CodeDeploy's %q", typ.Name(), got, want)
		}
	}
}

package target

import (
	"fmt"
	"github.com/fleetdeploy/fleetdeploy/config"
	"slices"
	"unicode/utf8"
)

// Limits of a Selector (User Guide, "Tagging instances for deployment groups
// in CodeDeploy" and "CodeDeploy quotas"; API Reference, EC2TagSet).
const (
	// MaxTagGroups is the most tag groups a tag set may have.
	MaxTagGroups = 3
	// MaxTagsPerGroup is the most filters in one tag group, and in a
	// flat tag filter list.
	MaxTagsPerGroup = 10
	// MaxAutoScalingGroups is the most Auto Scaling groups a deployment
	// group may name.
	MaxAutoScalingGroups = 10
	// MaxTagKeyLength is the most characters in a tag key.
	MaxTagKeyLength = 128
	// MaxTagValueLength is the most characters in a tag value.
	MaxTagValueLength = 256
)

// TagFilterType says which parts of a tag a TagFilter compares, spelled as
// CodeDeploy spells it.
type TagFilterType string

// The tag filter types.
const (
	// KeyOnly matches a target that has a tag with the filter's Key, whatever
	// its value.
	KeyOnly TagFilterType = "KEY_ONLY"
	// ValueOnly matches a target that has any tag whose value is the
	// filter's Value.
	ValueOnly TagFilterType = "VALUE_ONLY"
	// KeyAndValue matches a target whose tag Key has exactly the value
	// Value.
	KeyAndValue TagFilterType = "KEY_AND_VALUE"
)

// Values returns every valid TagFilterType.
func (TagFilterType) Values() []TagFilterType {
	return []TagFilterType{KeyOnly, ValueOnly, KeyAndValue}
}

// TagFilter matches targets by one tag. It serves as both CodeDeploy's
// EC2TagFilter and its (on-premises) TagFilter, which have the same fields.
// Keys and values compare exactly, case-sensitively, as AWS tags do.
type TagFilter struct {
	// Key is the tag key; required for KEY_ONLY and KEY_AND_VALUE, must be
	// empty for VALUE_ONLY.
	Key string `json:"Key,omitempty"`
	// Value is the tag value; required for VALUE_ONLY and KEY_AND_VALUE,
	// must be empty for KEY_ONLY.
	Value string        `json:"Value,omitempty"`
	Type  TagFilterType `json:"Type"`
}

// Matches reports whether tags satisfy f. An invalid filter matches nothing.
func (f TagFilter) Matches(tags map[string]string) bool {
	switch f.Type {
	case KeyOnly:
		_, ok := tags[f.Key]
		return ok && f.Key != ""
	case ValueOnly:
		if f.Value == "" {
			return false
		}
		for _, v := range tags {
			if v == f.Value {
				return true
			}
		}
	case KeyAndValue:
		v, ok := tags[f.Key]
		return ok && f.Key != "" && f.Value != "" && v == f.Value
	}
	return false
}

// EC2TagSet is CodeDeploy's EC2TagSet: a list of tag groups. A target
// matches when it matches at least one filter of every group (AND across
// groups, OR within a group).
type EC2TagSet struct {
	List [][]TagFilter `json:"ec2TagSetList,omitempty"`
}

// OnPremisesTagSet is CodeDeploy's OnPremisesTagSet, the on-premises
// counterpart of EC2TagSet with the same semantics.
type OnPremisesTagSet struct {
	List [][]TagFilter `json:"onPremisesTagSetList,omitempty"`
}

// Selector says which targets belong to a deployment group (API Reference,
// CreateDeploymentGroup; User Guide, "Tagging instances for deployment
// groups in CodeDeploy"). It is matched with Matches, checked with
// Validate, and handed to a Lister.
//
// EC2 targets belong to the group when they match EC2TagFilters (any one
// filter) or EC2TagSet (one filter of every group), or when they are in one
// of AutoScalingGroups: the group is the union of the tagged instances and
// the Auto Scaling groups' instances, as in CodeDeploy. On-premises targets
// belong when they match OnPremisesInstanceTagFilters or OnPremisesTagSet;
// they are never matched by EC2 tags or Auto Scaling groups, and EC2
// targets never by on-premises tags. A zero Selector matches nothing (Lambda and ECS groups
// use none).
//
// Field names are those of CodeDeploy's CreateDeploymentGroup API, and
// the JSON names are its request's.
type Selector struct {
	// EC2TagFilters: an EC2 target matches if it matches any filter.
	// Mutually exclusive with EC2TagSet.
	EC2TagFilters []TagFilter `json:"ec2TagFilters,omitempty"`
	// EC2TagSet: an EC2 target matches if it matches at least one filter
	// in every group. Mutually exclusive with EC2TagFilters.
	EC2TagSet EC2TagSet `json:"ec2TagSet,omitzero"`
	// OnPremisesInstanceTagFilters: an on-premises target matches if it
	// matches any filter. Mutually exclusive with OnPremisesTagSet.
	OnPremisesInstanceTagFilters []TagFilter `json:"onPremisesInstanceTagFilters,omitempty"`
	// OnPremisesTagSet: as EC2TagSet, for on-premises targets. Mutually
	// exclusive with OnPremisesInstanceTagFilters.
	OnPremisesTagSet OnPremisesTagSet `json:"onPremisesTagSet,omitzero"`
	// AutoScalingGroups: every EC2 target in one of these groups matches.
	AutoScalingGroups []string `json:"autoScalingGroups,omitempty"`
}

// Clone returns a deep copy of s: changing the copy's filters, tag groups
// or Auto Scaling group names never changes s.
func (s Selector) Clone() Selector {
	s.EC2TagFilters = slices.Clone(s.EC2TagFilters)
	s.EC2TagSet.List = cloneTagGroups(s.EC2TagSet.List)
	s.OnPremisesInstanceTagFilters = slices.Clone(s.OnPremisesInstanceTagFilters)
	s.OnPremisesTagSet.List = cloneTagGroups(s.OnPremisesTagSet.List)
	s.AutoScalingGroups = slices.Clone(s.AutoScalingGroups)
	return s
}

func cloneTagGroups(groups [][]TagFilter) [][]TagFilter {
	if groups == nil {
		return nil
	}
	out := make([][]TagFilter, len(groups))
	for i, g := range groups {
		out[i] = slices.Clone(g)
	}
	return out
}

// IsZero reports whether s selects by nothing at all.
func (s Selector) IsZero() bool {
	return len(s.EC2TagFilters) == 0 && len(s.EC2TagSet.List) == 0 && len(s.OnPremisesInstanceTagFilters) == 0 &&
		len(s.OnPremisesTagSet.List) == 0 && len(s.AutoScalingGroups) == 0
}

// Matches reports whether t belongs to the group s describes (see
// Selector). It is pure and does not validate s: an invalid filter matches
// nothing, and an empty tag group makes its tag set match nothing.
func (s Selector) Matches(t Target) bool {
	if t.OnPremises {
		return anyMatch(s.OnPremisesInstanceTagFilters, t.Tags) || allGroupsMatch(s.OnPremisesTagSet.List, t.Tags)
	}
	return anyMatch(s.EC2TagFilters, t.Tags) || allGroupsMatch(s.EC2TagSet.List, t.Tags) ||
		(t.AutoScalingGroup != "" && slices.Contains(s.AutoScalingGroups, t.AutoScalingGroup))
}

// anyMatch reports whether tags match at least one filter (false for none).
func anyMatch(filters []TagFilter, tags map[string]string) bool {
	return slices.ContainsFunc(filters, func(f TagFilter) bool { return f.Matches(tags) })
}

// allGroupsMatch reports whether tags match every group of a non-empty tag
// set.
func allGroupsMatch(groups [][]TagFilter, tags map[string]string) bool {
	if len(groups) == 0 {
		return false
	}
	for _, g := range groups {
		if !anyMatch(g, tags) {
			return false
		}
	}
	return true
}

// Validate reports every rule s breaks, as a *multierror.Error of *Problem
// values that matches ErrInvalidSelector and the sentinel of each rule
// broken:
//
//   - ec2TagFilters and ec2TagSet together: ErrInvalidEC2TagCombination;
//     onPremisesInstanceTagFilters and onPremisesTagSet together:
//     ErrInvalidOnPremisesTagCombination
//   - a tag set with more than MaxTagGroups groups:
//     ErrTagSetListLimitExceeded
//   - a filter list or tag group with more than MaxTagsPerGroup filters:
//     ErrTagLimitExceeded; an empty tag group: ErrInvalidTag
//   - a filter with an unknown type, a key or value missing (or present)
//     for its type, a key over MaxTagKeyLength or a value over
//     MaxTagValueLength characters: ErrInvalidTag
//   - more than MaxAutoScalingGroups Auto Scaling groups:
//     ErrAutoScalingGroupLimitExceeded; an empty or repeated name:
//     ErrInvalidAutoScalingGroup
//
// A zero Selector is valid (it matches nothing).
func (s Selector) Validate() error {
	var ps config.Problems
	if len(s.EC2TagFilters) > 0 && len(s.EC2TagSet.List) > 0 {
		ps.Add(ErrInvalidEC2TagCombination, "ec2TagFilters", "must not be combined with ec2TagSet; use one or the other (InvalidEC2TagCombination)")
	}
	if len(s.OnPremisesInstanceTagFilters) > 0 && len(s.OnPremisesTagSet.List) > 0 {
		ps.Add(ErrInvalidOnPremisesTagCombination, "onPremisesInstanceTagFilters", "must not be combined with onPremisesTagSet; use one or the other (InvalidOnPremisesTagCombination)")
	}
	validateFilters(&ps, "ec2TagFilters", s.EC2TagFilters, false)
	validateTagSet(&ps, "ec2TagSet.ec2TagSetList", s.EC2TagSet.List)
	validateFilters(&ps, "onPremisesInstanceTagFilters", s.OnPremisesInstanceTagFilters, false)
	validateTagSet(&ps, "onPremisesTagSet.onPremisesTagSetList", s.OnPremisesTagSet.List)
	if n := len(s.AutoScalingGroups); n > MaxAutoScalingGroups {
		ps.Add(ErrAutoScalingGroupLimitExceeded, "autoScalingGroups", "must name at most %d Auto Scaling groups; got %d", MaxAutoScalingGroups, n)
	}
	for i, name := range s.AutoScalingGroups {
		field := fmt.Sprintf("autoScalingGroups[%d]", i)
		switch j := slices.Index(s.AutoScalingGroups, name); {
		case name == "":
			ps.Add(ErrInvalidAutoScalingGroup, field, "must not be empty")
		case j < i:
			ps.Add(ErrInvalidAutoScalingGroup, field, "repeats %q (also autoScalingGroups[%d])", name, j)
		}
	}
	return ps.Err(ErrInvalidSelector, "selector")
}

func validateTagSet(ps *config.Problems, field string, groups [][]TagFilter) {
	if n := len(groups); n > MaxTagGroups {
		ps.Add(ErrTagSetListLimitExceeded, field, "must have at most %d tag groups; got %d (TagSetListLimitExceeded)", MaxTagGroups, n)
	}
	for i, g := range groups {
		validateFilters(ps, fmt.Sprintf("%s[%d]", field, i), g, true)
	}
}

func validateFilters(ps *config.Problems, field string, filters []TagFilter, group bool) {
	if group && len(filters) == 0 {
		ps.Add(ErrInvalidTag, field, "tag group must have at least one filter (an empty group matches nothing)")
	}
	if n := len(filters); n > MaxTagsPerGroup {
		ps.Add(ErrTagLimitExceeded, field, "must have at most %d tags; got %d", MaxTagsPerGroup, n)
	}
	for i, f := range filters {
		f.validate(ps, fmt.Sprintf("%s[%d]", field, i))
	}
}

func (f TagFilter) validate(ps *config.Problems, field string) {
	needKey, needValue := false, false
	switch f.Type {
	case KeyOnly:
		needKey = true
	case ValueOnly:
		needValue = true
	case KeyAndValue:
		needKey, needValue = true, true
	case "":
		ps.Add(ErrInvalidTag, field+".Type", "is required: one of %v", f.Type.Values())
		return
	default:
		ps.Add(ErrInvalidTag, field+".Type", "must be one of %v; got %q", f.Type.Values(), f.Type)
		return
	}
	check := func(name, v string, need bool, max int) {
		switch n := utf8.RuneCountInString(v); {
		case need && n == 0:
			ps.Add(ErrInvalidTag, field+"."+name, "is required for type %s", f.Type)
		case !need && n > 0:
			ps.Add(ErrInvalidTag, field+"."+name, "must be empty for type %s; got %q", f.Type, v)
		case n > max:
			ps.Add(ErrInvalidTag, field+"."+name, "must be at most %d characters; got %d", max, n)
		}
	}
	check("Key", f.Key, needKey, MaxTagKeyLength)
	check("Value", f.Value, needValue, MaxTagValueLength)
}

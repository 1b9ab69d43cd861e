package scenario

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/go-multierror"

	"github.com/fleetdeploy/fleetdeploy/config"
	"github.com/fleetdeploy/fleetdeploy/deploy/plan"
	"github.com/fleetdeploy/fleetdeploy/health"
	"github.com/fleetdeploy/fleetdeploy/target"
)

// Errors of scenarios.
var (
	// ErrInvalidScenario is the Kind of every *config.Problem that Decode
	// and Validate report.
	ErrInvalidScenario = errors.New("scenario: invalid scenario")
	// ErrSyntax is the Err of a problem with the document's JSON itself:
	// malformed, empty, not an object, or followed by more data. Its Field
	// is "line:column", or "scenario" when it is about the whole document.
	ErrSyntax = errors.New("scenario: malformed scenario document")
	// ErrUnknownField is the Err of a problem naming a field the format
	// does not have.
	ErrUnknownField = errors.New("scenario: unknown field")
)

// Scenario is a scenario document. Its JSON field names are the format of
// the package documentation.
type Scenario struct {
	// Config is the deployment configuration, by name or custom.
	Config ConfigRef `json:"config"`
	// DeploymentType is IN_PLACE or BLUE_GREEN; empty means IN_PLACE for
	// Server and BLUE_GREEN for Lambda and ECS.
	DeploymentType target.DeploymentType `json:"deploymentType,omitempty"`
	// Rollback previews a rollback deployment.
	Rollback bool `json:"rollback,omitempty"`
	// ZoneOrder lists zones to deploy first, in order.
	ZoneOrder []string `json:"zoneOrder,omitempty"`
	// Targets are the Server targets.
	Targets []Target `json:"targets,omitempty"`
	// Failures are the IDs of targets whose work fails.
	Failures []string `json:"failures,omitempty"`
	// FailReroute are the IDs of Green targets that fail to take traffic.
	FailReroute []string `json:"failReroute,omitempty"`
	// FailSteps are the steps (hooks, reserved events, AllowTraffic) that
	// fail.
	FailSteps []plan.Phase `json:"failSteps,omitempty"`
	// Durations are the seconds each target's work takes, by ID
	// (plan.DefaultDuration when not listed).
	Durations map[string]float64 `json:"durations,omitempty"`
}

// Target is one entry of Scenario.Targets.
type Target struct {
	// ID is the target's unique ID.
	ID string `json:"id"`
	// Zone is the target's Availability Zone, required for a zonal
	// configuration.
	Zone string `json:"zone,omitempty"`
	// InstanceHealth and RevisionHealth are the target's health at the
	// start; both are required.
	InstanceHealth health.InstanceHealth `json:"instanceHealth"`
	RevisionHealth health.RevisionHealth `json:"revisionHealth"`
	// Label is Blue or Green for BLUE_GREEN deployments, empty otherwise.
	Label target.TargetLabel `json:"label,omitempty"`
}

// ConfigRef is the "config" field: a configuration name (a JSON string) or
// a custom configuration (a JSON object). Custom wins when set.
type ConfigRef struct {
	// Name is a predefined configuration's name; "" means
	// CodeDeployDefault.OneAtATime.
	Name string
	// Custom is a custom configuration, or nil.
	Custom *config.Config
}

// UnmarshalJSON accepts a string or an object.
func (c *ConfigRef) UnmarshalJSON(b []byte) error {
	switch {
	case string(b) == "null":
		return nil
	case len(b) > 0 && b[0] == '"':
		return json.Unmarshal(b, &c.Name)
	}
	c.Custom = new(config.Config)
	return json.Unmarshal(b, c.Custom)
}

// MarshalJSON returns the custom configuration's object, or the name as a
// string.
func (c ConfigRef) MarshalJSON() ([]byte, error) {
	if c.Custom != nil {
		return json.Marshal(c.Custom)
	}
	return json.Marshal(c.Name)
}

// Limits that keep the virtual clock far from time.Duration's range.
const (
	// MaxDurationSeconds is the longest a target's work or a zone monitor
	// wait may take in a scenario: a year.
	MaxDurationSeconds = 365 * 24 * 3600
	// MaxTotalSeconds is the most the durations of a scenario's targets and
	// its zone monitor waits may add up to: 100 years.
	MaxTotalSeconds = 100 * MaxDurationSeconds
)

// Decode reads one scenario document from r and checks it, reporting
// every problem at once (see Problems in the package documentation). The
// error is nil only for a scenario PreviewInput accepts. When the
// document's values all have the right JSON types, the returned Scenario
// holds them even if the error is not nil (an unknown field is left out).
func Decode(r io.Reader) (Scenario, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return Scenario{}, fmt.Errorf("scenario: reading the document: %w", err)
	}
	s, ps, ok := parse(data)
	if ok {
		_, more := build(s)
		ps = append(ps, more...)
	}
	return s, ps.Err(ErrInvalidScenario, "scenario")
}

// Validate reports every rule the scenario breaks, as Decode does for the
// meaning of a document (unknown fields and JSON types are Decode's
// alone). It is for scenarios built in Go.
func (s Scenario) Validate() error {
	_, ps := build(s)
	return ps.Err(ErrInvalidScenario, "scenario")
}

// PreviewInput returns the scenario as the input of plan.Preview: every
// target Pending (a Green target's reroute too, except in a rollback), the
// deployment type defaulted, durations in seconds turned into
// time.Duration. It returns Validate's error for a scenario that breaks a
// rule.
func (s Scenario) PreviewInput() (plan.PreviewInput, error) {
	in, ps := build(s)
	if err := ps.Err(ErrInvalidScenario, "scenario"); err != nil {
		return plan.PreviewInput{}, err
	}
	return in, nil
}

// parse reads a scenario document. It returns every problem it found, and
// the scenario when its values have the right JSON types (unknown fields
// are reported but do not stop build from checking the rest). A syntax
// error stops it, as nothing after it can be read.
func parse(data []byte) (s Scenario, ps config.Problems, ok bool) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var doc any
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			ps.Add(ErrSyntax, "scenario", "the scenario is empty; want a JSON object")
			return s, ps, false
		}
		syntaxProblem(&ps, data, err)
		return s, ps, false
	}
	end := int(dec.InputOffset())
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		rest := data[end:]
		off := end + len(rest) - len(bytes.TrimLeft(rest, " \t\r\n")) // where the extra data begins
		ps.Add(ErrSyntax, position(data, off), "unexpected data after the scenario's JSON object")
		return s, ps, false
	}
	if _, isObject := doc.(map[string]any); !isObject {
		ps.Add(ErrSyntax, "scenario", "the scenario must be a JSON object; got %s", kindOf(doc))
		return s, ps, false
	}
	var sc shapeCheck
	sc.check("", doc, reflect.TypeFor[Scenario]())
	if sc.wrongTypes > 0 {
		return s, sc.problems, false
	}
	// Every value left has its Go type's JSON type (check removed the
	// unknown fields), so this cannot fail; an error is still reported
	// rather than trusted away.
	clean, err := json.Marshal(doc)
	if err == nil {
		err = json.Unmarshal(clean, &s)
	}
	if err != nil {
		sc.problems.Add(ErrSyntax, "scenario", "%s", strings.TrimPrefix(err.Error(), "json: "))
		return s, sc.problems, false
	}
	return s, sc.problems, true
}

// syntaxProblem records a decoding error at its line and column.
func syntaxProblem(ps *config.Problems, data []byte, err error) {
	var se *json.SyntaxError
	switch {
	case errors.As(err, &se):
		off := int(se.Offset) - 1 // Offset counts the offending byte
		if off < 0 || errors.Is(err, io.ErrUnexpectedEOF) {
			off = len(data)
		}
		ps.Add(ErrSyntax, position(data, off), "malformed JSON: %s", se.Error())
	case errors.Is(err, io.ErrUnexpectedEOF):
		ps.Add(ErrSyntax, position(data, len(data)), "malformed JSON: the document ends before the scenario's JSON object does")
	default:
		ps.Add(ErrSyntax, "scenario", "malformed JSON: %v", err)
	}
}

// position returns "line:column" (both from 1, columns in bytes) of byte
// offset off of data.
func position(data []byte, off int) string {
	off = min(max(off, 0), len(data))
	line := 1 + bytes.Count(data[:off], []byte("\n"))
	col := off - bytes.LastIndexByte(data[:off], '\n')
	return fmt.Sprintf("%d:%d", line, col)
}

// shapeCheck checks a decoded JSON document against the Go types it is
// decoded into. It is what lets parse list every unknown field and every
// value of the wrong JSON type at once, each with its path, where a
// json.Decoder (even with DisallowUnknownFields) stops at the first.
type shapeCheck struct {
	problems   config.Problems
	wrongTypes int
}

// check checks that the decoded JSON value v fits Go type t.
func (sc *shapeCheck) check(path string, v any, t reflect.Type) {
	if v == nil { // null leaves the zero value
		return
	}
	ps := &sc.problems
	wrong := func(rule string, args ...any) {
		sc.wrongTypes++
		ps.Add(nil, path, rule, args...)
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	at := func(name string) string {
		if path == "" {
			return name
		}
		return path + "." + name
	}
	if t == reflect.TypeFor[ConfigRef]() {
		if _, ok := v.(string); ok {
			return
		}
		if _, ok := v.(map[string]any); !ok {
			wrong("must be a configuration name (a string) or a custom configuration (an object); got %s", kindOf(v))
			return
		}
		t = reflect.TypeFor[config.Config]()
	}
	switch t.Kind() {
	case reflect.Struct:
		m, ok := v.(map[string]any)
		if !ok {
			wrong("must be an object; got %s", kindOf(v))
			return
		}
		fields := jsonFields(t)
		for _, k := range sortedKeys(m) {
			ft, ok := fields[k]
			if ok {
				sc.check(at(k), m[k], ft)
				continue
			}
			known := sortedKeys(fields)
			hint := ""
			if i := slices.IndexFunc(known, func(f string) bool { return strings.EqualFold(f, k) }); i >= 0 {
				hint = fmt.Sprintf(" (did you mean %q?)", known[i])
			}
			where := path
			if where == "" {
				where = "scenario"
			}
			ps.Add(ErrUnknownField, where, "unknown field %q%s; known fields: %s", k, hint, strings.Join(known, ", "))
			delete(m, k) // so that decoding does not match it to a field case-insensitively
		}
	case reflect.Slice:
		a, ok := v.([]any)
		if !ok {
			wrong("must be an array; got %s", kindOf(v))
			return
		}
		for i, e := range a {
			sc.check(fmt.Sprintf("%s[%d]", path, i), e, t.Elem())
		}
	case reflect.Map:
		m, ok := v.(map[string]any)
		if !ok {
			wrong("must be an object; got %s", kindOf(v))
			return
		}
		for _, k := range sortedKeys(m) {
			sc.check(fmt.Sprintf("%s[%q]", path, k), m[k], t.Elem())
		}
	case reflect.String:
		if _, ok := v.(string); !ok {
			wrong("must be a string; got %s", kindOf(v))
		}
	case reflect.Bool:
		if _, ok := v.(bool); !ok {
			wrong("must be true or false; got %s", kindOf(v))
		}
	case reflect.Int, reflect.Int64:
		n, ok := v.(json.Number)
		if !ok {
			wrong("must be a whole number; got %s", kindOf(v))
			return
		}
		if _, err := strconv.ParseInt(string(n), 10, t.Bits()); errors.Is(err, strconv.ErrRange) {
			wrong("is out of range; got %s", n)
		} else if err != nil {
			wrong("must be a whole number; got %s", n)
		}
	case reflect.Float64:
		n, ok := v.(json.Number)
		if !ok {
			wrong("must be a number; got %s", kindOf(v))
		} else if _, err := n.Float64(); err != nil {
			wrong("is out of range; got %s", n)
		}
	default:
		wrong("cannot be read into a %s", t) // not reached with the types above
	}
}

// jsonFields returns the JSON names of struct type t's fields and their
// types.
func jsonFields(t reflect.Type) map[string]reflect.Type {
	fs := make(map[string]reflect.Type, t.NumField())
	for f := range t.Fields() {
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if !f.IsExported() || name == "-" {
			continue
		}
		if name == "" {
			name = f.Name
		}
		fs[name] = f.Type
	}
	return fs
}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

// kindOf names a decoded JSON value's type, with the value when short.
func kindOf(v any) string {
	switch v := v.(type) {
	case nil:
		return "null"
	case bool:
		return fmt.Sprintf("%t", v)
	case json.Number:
		return "the number " + string(v)
	case string:
		if len(v) > 40 {
			return "a string"
		}
		return fmt.Sprintf("the string %q", v)
	case []any:
		return "an array"
	}
	return "an object"
}

// build checks the scenario's meaning and turns it into a PreviewInput,
// reporting every problem it finds.
func build(s Scenario) (plan.PreviewInput, config.Problems) {
	var ps config.Problems
	var in plan.PreviewInput
	cfg, cfgOK := resolveConfig(&ps, s.Config)
	in.Config = cfg
	platform := cfg.Platform()

	in.Type = s.DeploymentType
	switch {
	case in.Type == "" && platform == config.Server:
		in.Type = target.InPlace
	case in.Type == "":
		in.Type = target.BlueGreen
	case !slices.Contains(in.Type.Values(), in.Type):
		ps.Add(nil, "deploymentType", "must be %s; got %q", list(in.Type.Values()), in.Type)
	case cfgOK && platform != config.Server && in.Type != target.BlueGreen:
		ps.Add(nil, "deploymentType", "%s deployments are always BLUE_GREEN; got %q", platform, in.Type)
	}
	in.Rollback = s.Rollback
	in.ZoneOrder = s.ZoneOrder
	for i, z := range s.ZoneOrder {
		if j := slices.Index(s.ZoneOrder[:i], z); j >= 0 {
			ps.Add(nil, fmt.Sprintf("zoneOrder[%d]", i), "zone %q is also zoneOrder[%d]; list each zone once", z, j)
		}
	}
	if cfgOK && platform != config.Server && len(s.Targets) > 0 {
		ps.Add(nil, "targets", "must be empty for %s configurations, whose traffic shifts are deployment-wide; got %d", platform, len(s.Targets))
	}

	blueGreen := in.Type == target.BlueGreen
	zonal := cfg.ZonalConfig != nil && in.Type == target.InPlace && !s.Rollback
	index := make(map[string]int, len(s.Targets))
	zones := map[string]bool{}
	in.Targets = make([]plan.Target, len(s.Targets))
	for i, t := range s.Targets {
		field := func(name string) string { return fmt.Sprintf("targets[%d].%s", i, name) }
		switch j, dup := index[t.ID]; {
		case t.ID == "":
			ps.Add(nil, field("id"), "is required")
		case dup:
			ps.Add(nil, field("id"), "%q is also targets[%d].id; target IDs must be unique", t.ID, j)
		default:
			index[t.ID] = i
		}
		enum(&ps, field("instanceHealth"), t.InstanceHealth)
		enum(&ps, field("revisionHealth"), t.RevisionHealth)
		switch {
		case blueGreen:
			enum(&ps, field("label"), t.Label)
		case t.Label != "":
			ps.Add(nil, field("label"), "is for BLUE_GREEN deployments only (Blue or Green); got %q", t.Label)
		}
		if zonal && t.Zone == "" {
			ps.Add(nil, field("zone"), "is required: configuration %q is zonal", cfg.Name)
		}
		zones[t.Zone] = true
		in.Targets[i] = plan.Target{ID: t.ID, Zone: t.Zone, Instance: t.InstanceHealth, Revision: t.RevisionHealth,
			Label: t.Label, Status: target.TargetPending}
		if blueGreen && !s.Rollback && t.Label == target.LabelGreen {
			in.Targets[i].Reroute = target.TargetPending
		}
	}

	known := func(field string, ids []string) []string {
		for k, id := range ids {
			if _, ok := index[id]; !ok {
				ps.Add(nil, fmt.Sprintf("%s[%d]", field, k), "%q is not the id of a target", id)
			} else if j := slices.Index(ids[:k], id); j >= 0 {
				ps.Add(nil, fmt.Sprintf("%s[%d]", field, k), "%q is also %s[%d]; list each target once", id, field, j)
			}
		}
		return ids
	}
	in.Fail = known("failures", s.Failures)
	in.FailReroute = known("failReroute", s.FailReroute)
	for k, id := range s.FailReroute {
		if i, ok := index[id]; ok && (!blueGreen || s.Rollback || s.Targets[i].Label != target.LabelGreen) {
			ps.Add(nil, fmt.Sprintf("failReroute[%d]", k), "%q is not a Green target of a BLUE_GREEN deployment (not a rollback); only those take traffic one by one", id)
		}
	}
	if cfgOK {
		var steps []plan.Phase
		for _, ph := range plan.Phases(in.Input) {
			if k := ph.Kind(); k == plan.KindStep || k == plan.KindTraffic {
				steps = append(steps, ph)
			}
		}
		for k, ph := range s.FailSteps {
			switch {
			case len(steps) == 0:
				ps.Add(nil, fmt.Sprintf("failSteps[%d]", k), "this deployment has no steps (hooks, reserved events, traffic shifts) to fail; got %q", ph)
			case !slices.Contains(steps, ph):
				ps.Add(nil, fmt.Sprintf("failSteps[%d]", k), "must be a step of this deployment: %s; got %q", list(steps), ph)
			}
		}
		in.FailSteps = s.FailSteps
	}

	total := float64(len(s.Targets)-len(s.Durations)) * plan.DefaultDuration.Seconds()
	in.Durations = make(map[string]time.Duration, len(s.Durations))
	for _, id := range sortedKeys(s.Durations) {
		d := s.Durations[id]
		field := fmt.Sprintf("durations[%q]", id)
		switch _, ok := index[id]; {
		case !ok:
			ps.Add(nil, field, "%q is not the id of a target", id)
		case d < 0 || d > MaxDurationSeconds || math.IsNaN(d):
			ps.Add(nil, field, "must be 0 to %d seconds; got %s", MaxDurationSeconds, strconv.FormatFloat(d, 'f', -1, 64))
		default:
			in.Durations[id] = time.Duration(d * float64(time.Second))
			total += d
		}
	}
	if z := cfg.ZonalConfig; cfgOK && z != nil {
		total += float64(len(zones)) * max(z.FirstZoneMonitorDuration(), z.MonitorDuration()).Seconds()
	}
	if total > MaxTotalSeconds {
		ps.Add(nil, "durations", "the scenario's target durations and zone monitor waits add up to %.0f seconds; at most %d (100 years) can be previewed", total, MaxTotalSeconds)
	}
	return in, ps
}

// resolveConfig returns the scenario's configuration and whether it is
// usable; it reports why not.
func resolveConfig(ps *config.Problems, r ConfigRef) (config.Config, bool) {
	if r.Custom == nil {
		c, err := config.Lookup(r.Name)
		if err != nil {
			// "config: unknown deployment configuration …; known configurations: …"
			ps.Add(err, "config", "%s", strings.TrimPrefix(err.Error(), "config: "))
			return config.Config{}, false
		}
		return c, true
	}
	c := *r.Custom
	if z := c.ZonalConfig; z != nil {
		for _, d := range []*int64{z.FirstZoneMonitorDurationInSeconds, z.MonitorDurationInSeconds} {
			if d != nil && *d > MaxDurationSeconds {
				ps.Add(nil, "config.zonalConfig", "monitor durations may be at most %d seconds (a year) in a preview; got %d", MaxDurationSeconds, *d)
				return c, false
			}
		}
	}
	err := c.Validate()
	var list *multierror.Error
	if errors.As(err, &list) {
		for _, e := range list.Errors {
			var p *config.Problem
			if errors.As(e, &p) {
				ps.Add(p.Err, "config."+p.Field, "%s", p.Rule)
			} else {
				ps.Add(e, "config", "%s", e.Error())
			}
		}
		return c, false
	}
	if err != nil {
		ps.Add(err, "config", "%s", err.Error())
		return c, false
	}
	return c, true
}

// enum reports v unless it is one of v.Values().
func enum[T interface {
	~string
	Values() []T
}](ps *config.Problems, field string, v T) {
	switch vs := v.Values(); {
	case v == "":
		ps.Add(nil, field, "is required: %s", list(vs))
	case !slices.Contains(vs, v):
		ps.Add(nil, field, "must be %s; got %q", list(vs), v)
	}
}

// list joins values as "A, B or C".
func list[T ~string](vs []T) string {
	var b strings.Builder
	for i, v := range vs {
		switch {
		case i == 0:
		case i == len(vs)-1:
			b.WriteString(" or ")
		default:
			b.WriteString(", ")
		}
		b.WriteString(string(v))
	}
	return b.String()
}

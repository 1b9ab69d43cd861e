package revision

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/fleetdeploy/fleetdeploy/config"
)

// ParseAppSpec parses and validates an AppSpec written for platform. It is
// ParseAppSpecFile with the file name "appspec".
func ParseAppSpec(data []byte, platform config.ComputePlatform, opts ...func(*ParseOptions)) (*AppSpec, error) {
	return ParseAppSpecFile("", data, platform, opts...)
}

// ParseAppSpecFile parses and validates the AppSpec data, read from the file
// name (used only in messages), written for platform.
//
// data is YAML or JSON (one document). Server AppSpecs use the lowercase keys
// of the CodeDeploy documentation; Lambda and ECS AppSpecs match keys without
// regard to case. Every rule is checked, and every problem is
// reported at once: the error is a *multierror.Error listing each broken
// rule as an [*AppSpecProblem] with its line and field, and it matches
// [ErrInvalidAppSpec]. On error the
// returned AppSpec is nil.
//
// Defaults are filled in: a script's timeout ([DefaultScriptTimeout]), a
// permission's pattern ("**") and types (file and directory).
//
// # Compatibility with the CodeDeploy agent
//
// A Server AppSpec that the CodeDeploy agent accepts is accepted and means
// what it means to the agent, except where the AppSpec reference is explicit
// and the agent's reading would surprise. Where the reference and the agent
// disagree, the file is accepted and the disagreement is reported in
// [AppSpec.Warnings]; [ParseOptions.Strict] turns every warning into an
// error. In detail:
//
//   - Keys the agent ignores — unknown keys at the top level, in files
//     entries, in scripts (the agent's undocumented sudo among them), in
//     permissions and their context — are accepted with a warning naming
//     the key. A key that differs from a documented key only in case (Hooks,
//     Files) stays an error: the agent would silently skip that section.
//   - version: the number 0.0 (or any numeric zero, which the agent compares
//     equal to 0.0). The string "0.0" is accepted with a warning, because
//     the agent refuses it ("invalid version value").
//   - A script location may start with "/" (or "\" with os: windows): it is
//     relative to the bundle root all the same, as the agent joins it. White
//     space around location and runas is dropped, as the agent strips it.
//   - runas with os: windows is ignored, with a warning (the agent ignores
//     it; the reference says runas is for Linux instances).
//   - The timeouts of one event's scripts adding up to more than 3600
//     seconds draw a warning, not an error: the agent runs every script with
//     its own timeout. Scripts without a timeout do not count.
//   - "acls: []" is given and empty (replace extended ACL entries with the
//     base entries of the mode), not absent; see [Permission].ACLs.
//   - Still refused, because the reference forbids them and the agent would
//     turn them into surprises: a relative destination, hooks for events
//     that cannot be hooked (Install, DownloadBundle, ...) or that do not
//     exist, timeouts that are not whole numbers, duplicate keys, several
//     YAML documents, and paths that climb out of the bundle with "..".
//   - mode is read as the octal digits written: 0644 is 0o644 (the agent's
//     YAML 1.1 loader would read an unquoted 0644 as decimal 420; the
//     reference means 0644).
//
// Lambda and ECS AppSpecs are read by CodeDeploy itself, not by the agent:
// their unknown keys remain errors. Also:
//   - Lambda and ECS hooks are a list of "EventName: FunctionName" entries;
//     event names are matched without regard to case; each event at most
//     once. There is exactly one resource.
//   - YAML anchors, aliases and merge keys ("<<") work, within a budget of
//     node visits proportional to the input size.
//
// Every key or value from the file that appears in a message is quoted when
// it holds anything but letters, digits, "_" and "-", so that each problem
// and each warning prints on one line.
func ParseAppSpecFile(name string, data []byte, platform config.ComputePlatform, opts ...func(*ParseOptions)) (*AppSpec, error) {
	var o ParseOptions
	for _, f := range opts {
		f(&o)
	}
	p := &appspecParser{
		platform: platform,
		fold:     platform == config.Lambda || platform == config.ECS,
		lines:    map[string]int{},
		bad:      map[string]bool{},
		budget:   8*len(data) + 1024,
	}
	spec := p.parse(data)
	if spec != nil {
		checked := spec.check()
		for _, pr := range checked.list {
			if p.suppressed(pr.Field) {
				continue
			}
			pr.Line = p.lineFor(pr.Field)
			p.probs.add(pr)
		}
		p.probs.dropped += checked.dropped
		for _, w := range checked.warns {
			if !p.suppressed(w.Field) {
				p.probs.warn(p.lineFor(w.Field), w.Field, w.Agent, w.Docs)
			}
		}
	}
	warns := sortedWarnings(name, p.probs.warns)
	if o.Strict {
		for _, w := range warns {
			p.probs.add(AppSpecProblem{Line: w.Line, Field: w.Field, Rule: "strict: " + w.rule()})
		}
	}
	if err := newAppSpecError(name, p.probs); err != nil {
		return nil, err
	}
	spec.Warnings = warns
	return spec, nil
}

// sortedWarnings returns ws sorted by line, each naming file, or nil.
func sortedWarnings(file string, ws []Warning) []Warning {
	if len(ws) == 0 {
		return nil
	}
	if file == "" {
		file = "appspec"
	}
	out := slices.Clone(ws)
	for i := range out {
		out[i].File = file
	}
	slices.SortStableFunc(out, func(a, b Warning) int { return cmp.Compare(a.Line, b.Line) })
	return out
}

// appspecParser turns a YAML node tree into an AppSpec, recording the
// structural problems (wrong kinds, unknown keys, malformed values) and the
// line of every field so that the rule checks of AppSpec.check, which work
// on the model, can be reported with lines.
type appspecParser struct {
	platform config.ComputePlatform
	fold     bool // match keys case-insensitively (Lambda, ECS)

	lines map[string]int  // field path -> line
	bad   map[string]bool // fields whose value could not be read
	probs appspecProblems

	budget     int // node visits left; bounds alias expansion
	exhausted  bool
	mergeDepth int // merge keys being expanded
}

// maxMergeDepth bounds how deeply merge keys may refer to mappings that
// themselves use merge keys.
const maxMergeDepth = 16

// parse decodes data and builds the AppSpec, or returns nil when there is
// nothing to check the rules on.
func (p *appspecParser) parse(data []byte) *AppSpec {
	if !slices.Contains(config.ComputePlatform("").Values(), p.platform) {
		p.note(0, "", fmt.Sprintf("unknown compute platform %q; want Server, Lambda or ECS", p.platform))
		return nil
	}
	root := p.decode(data)
	if root == nil {
		return nil
	}
	p.lines[""] = root.Line
	if root.Kind != yaml.MappingNode {
		p.note(root.Line, "", "the AppSpec must be a YAML mapping (or JSON object), not "+yamlKind(root))
		return nil
	}
	if p.platform == config.Server {
		return p.server(root)
	}
	return p.functions(root)
}

// decode parses data as a single YAML document and returns its root node.
func (p *appspecParser) decode(data []byte) *yaml.Node {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := yamlDecode(dec, &doc); err != nil {
		if errors.Is(err, io.EOF) {
			p.note(0, "", "the AppSpec is empty")
		} else {
			p.yamlProblem(err)
		}
		return nil
	}
	for {
		var extra yaml.Node
		err := yamlDecode(dec, &extra)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			p.yamlProblem(err)
			break
		}
		if len(extra.Content) > 0 && !yamlIsNull(extra.Content[0]) {
			p.note(extra.Content[0].Line, "", "only one YAML document is allowed")
			break
		}
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 {
		p.note(0, "", "the AppSpec is empty")
		return nil
	}
	root := p.resolve(doc.Content[0])
	if root == nil || yamlIsNull(root) {
		p.note(doc.Line, "", "the AppSpec is empty")
		return nil
	}
	return root
}

// yamlDecode decodes one document, turning a panic inside the YAML library
// into an error so that no input can crash the caller.
func yamlDecode(dec *yaml.Decoder, n *yaml.Node) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("yaml: %v", r)
		}
	}()
	return dec.Decode(n)
}

// yamlProblem records a YAML syntax error, taking its line from the message.
//
// The YAML library reports the lines of its parser errors (as opposed to
// its scanner errors) zero-based, and leaves the line out when it is the
// first; those messages are recognised and their lines corrected.
func (p *appspecParser) yamlProblem(err error) {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	line := 0
	if rest, ok := strings.CutPrefix(msg, "line "); ok {
		if num, text, ok := strings.Cut(rest, ": "); ok {
			if n, err := strconv.Atoi(num); err == nil {
				line, msg = n, text
			}
		}
	}
	if isYAMLParserError(msg) {
		line++
	}
	p.note(line, "", "invalid YAML: "+msg)
}

// isYAMLParserError reports whether msg is one of the YAML library's parser
// errors, whose lines it reports zero-based.
func isYAMLParserError(msg string) bool {
	switch msg {
	case "did not find expected <stream-start>",
		"did not find expected <document start>",
		"found undefined tag handle",
		"did not find expected node content",
		"did not find expected '-' indicator",
		"did not find expected key",
		"did not find expected ',' or ']'",
		"did not find expected ',' or '}'",
		"found duplicate %YAML directive",
		"found incompatible YAML document",
		"found duplicate %TAG directive":
		return true
	}
	return false
}

// note records a problem.
func (p *appspecParser) note(line int, field, rule string) {
	p.probs.add(AppSpecProblem{Line: line, Field: field, Rule: rule})
}

// fail records a problem with the value of field, whose place in the model
// then holds a placeholder: rule checks on field and below are not reported.
func (p *appspecParser) fail(line int, field, rule string) {
	p.note(line, field, rule)
	p.bad[field] = true
}

// suppressed reports whether field or one of its parents failed to parse.
func (p *appspecParser) suppressed(field string) bool {
	for f := field; ; f = appspecParent(f) {
		if p.bad[f] {
			return true
		}
		if f == "" {
			return false
		}
	}
}

// lineFor returns the line of field, or of its nearest parent with a line.
func (p *appspecParser) lineFor(field string) int {
	for f := field; ; f = appspecParent(f) {
		if line, ok := p.lines[f]; ok {
			return line
		}
		if f == "" {
			return 0
		}
	}
}

// lineOf returns the line of the key or list item that holds n at path, or
// the line of n itself.
func (p *appspecParser) lineOf(path string, n *yaml.Node) int {
	if line, ok := p.lines[path]; ok {
		return line
	}
	return n.Line
}

// appspecJoin returns the path of key inside path; key is one of the
// parser's own names (dots may separate several).
func appspecJoin(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// appspecKey returns the path of a key read from the file inside path. A key
// holding anything but ASCII letters, digits, "_" and "-" is written quoted
// in brackets (hooks["a.b"], files[0]["x\ny"]), so that a path is one line
// and its dots separate only keys.
func appspecKey(path, key string) string {
	if plainKey(key) {
		return appspecJoin(path, key)
	}
	return path + "[" + strconv.Quote(key) + "]"
}

// plainKey reports whether key can appear unquoted in a field path.
func plainKey(key string) bool {
	if key == "" || len(key) > 80 {
		return false
	}
	for i := 0; i < len(key); i++ {
		c := key[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// appspecIndex returns the path of item i of the list at path.
func appspecIndex(path string, i int) string { return path + "[" + strconv.Itoa(i) + "]" }

// appspecParent returns the path enclosing path ("" for a top-level key).
func appspecParent(path string) string {
	if strings.HasSuffix(path, `"]`) {
		// A quoted key: strconv.Quote escapes every '"' inside, so the
		// last `["` opens it.
		if i := strings.LastIndex(path, `["`); i >= 0 {
			return path[:i]
		}
	}
	if i := strings.LastIndexAny(path, ".["); i >= 0 {
		return path[:i]
	}
	return ""
}

// resolve follows an alias to its anchored node and charges one node visit
// to the budget. It returns nil once the budget is spent, which bounds the
// work a document full of aliases (a "billion laughs") can cause.
func (p *appspecParser) resolve(n *yaml.Node) *yaml.Node {
	if p.budget <= 0 {
		if !p.exhausted {
			p.exhausted = true
			p.note(0, "", "the AppSpec is too large once its aliases are expanded")
		}
		return nil
	}
	p.budget--
	for i := 0; n != nil && n.Kind == yaml.AliasNode; i++ {
		if i == 64 {
			return nil
		}
		n = n.Alias
	}
	return n
}

// yamlIsNull reports whether n is absent or a YAML null.
func yamlIsNull(n *yaml.Node) bool {
	return n == nil || (n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null")
}

// yamlKind describes the kind of n for messages.
func yamlKind(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		switch n.ShortTag() {
		case "!!int", "!!float":
			return "a number"
		case "!!bool":
			return "a boolean"
		case "!!null":
			return "null"
		}
		return "a string"
	}
	return "an unsupported YAML node"
}

// appspecPair is one key/value entry of a mapping.
type appspecPair struct {
	key   string
	line  int
	value *yaml.Node // resolved; nil when the budget is spent
}

// pairs returns the entries of mapping n in document order, with YAML merge
// keys ("<<") expanded (explicit keys win), reporting keys that are not
// scalars and keys given twice. With p.fold, keys differing only in case
// count as the same key. n must be a resolved mapping node.
func (p *appspecParser) pairs(n *yaml.Node, path string) []appspecPair {
	var out []appspecPair
	seen := map[string]int{} // folded key -> line
	var merges []*yaml.Node
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := p.resolve(n.Content[i])
		if k == nil {
			return out
		}
		if k.Kind != yaml.ScalarNode {
			p.note(k.Line, path, "keys must be strings, not "+yamlKind(k))
			continue
		}
		if k.ShortTag() == "!!merge" {
			merges = append(merges, n.Content[i+1])
			continue
		}
		id := p.keyID(k.Value)
		if first, dup := seen[id]; dup {
			p.note(k.Line, appspecKey(path, k.Value), fmt.Sprintf("duplicate key %s (first given at line %d)", appspecQuote(k.Value), first))
			continue
		}
		seen[id] = k.Line
		out = append(out, appspecPair{key: k.Value, line: k.Line, value: p.resolve(n.Content[i+1])})
	}
	for _, m := range merges {
		m = p.resolve(m)
		var sources []*yaml.Node
		switch {
		case m == nil:
		case m.Kind == yaml.SequenceNode:
			for _, s := range m.Content {
				if s = p.resolve(s); s != nil {
					sources = append(sources, s)
				}
			}
		default:
			sources = []*yaml.Node{m}
		}
		for _, s := range sources {
			if s.Kind != yaml.MappingNode {
				p.note(s.Line, path, "a merge key (<<) must refer to a mapping, not "+yamlKind(s))
				continue
			}
			if p.mergeDepth >= maxMergeDepth {
				p.note(s.Line, path, "merge keys (<<) are nested too deeply")
				continue
			}
			p.mergeDepth++
			merged := p.pairs(s, path)
			p.mergeDepth--
			for _, kv := range merged {
				if _, dup := seen[p.keyID(kv.key)]; !dup {
					seen[p.keyID(kv.key)] = kv.line
					out = append(out, kv)
				}
			}
		}
	}
	return out
}

// keyID returns the form of key used to compare keys.
func (p *appspecParser) keyID(key string) string {
	if p.fold {
		return strings.ToLower(key)
	}
	return key
}

// fields reads the mapping n at path whose keys must be among allowed and
// returns the value of each key present, by its spelling in allowed. It
// registers the line of each key. An unknown key of a Server AppSpec draws a
// warning (the CodeDeploy agent ignores it); elsewhere it is reported,
// naming the keys allowed there. A null n is an empty mapping; any other
// non-mapping is reported and yields nil.
func (p *appspecParser) fields(n *yaml.Node, path string, allowed ...string) map[string]*yaml.Node {
	out := map[string]*yaml.Node{}
	if yamlIsNull(n) {
		return out
	}
	if n.Kind != yaml.MappingNode {
		p.fail(p.lineOf(path, n), path, "must be a mapping, not "+yamlKind(n))
		return nil
	}
	for _, kv := range p.pairs(n, path) {
		name, ok := p.match(kv.key, allowed)
		if !ok && name == "" && p.platform == config.Server {
			p.unknownServerKey(kv, path, allowed)
			continue
		}
		if !ok {
			rule := fmt.Sprintf("unknown key %s; allowed keys: %s", appspecQuote(kv.key), strings.Join(allowed, ", "))
			if name != "" {
				rule += fmt.Sprintf(" (keys are case-sensitive: did you mean %q?)", name)
			}
			p.fail(kv.line, appspecKey(path, kv.key), rule)
			continue
		}
		p.lines[appspecJoin(path, name)] = kv.line
		out[name] = kv.value
	}
	return out
}

// unknownServerKey records the warning for a key of a Server AppSpec that
// the CodeDeploy agent ignores (it reads only the keys it knows).
func (p *appspecParser) unknownServerKey(kv appspecPair, path string, allowed []string) {
	field := appspecKey(path, kv.key)
	docs := "the AppSpec reference allows only " + strings.Join(allowed, ", ")
	if path == "" {
		docs += " at the top level"
	} else {
		docs += " here"
	}
	agent := "the CodeDeploy agent ignores the key " + appspecQuote(kv.key) + ", and so does fleetdeploy"
	if kv.key == "sudo" && strings.HasSuffix(path, "]") && slices.Contains(allowed, "runas") {
		agent = "the CodeDeploy agent runs the script through sudo, which changes nothing when the agent runs as root (as it is installed); fleetdeploy ignores sudo"
		docs = "the AppSpec reference does not document sudo; use runas"
	}
	p.probs.warn(kv.line, field, agent, docs)
}

// match finds key among allowed (without regard to case for Lambda and ECS)
// and returns its spelling there. When key is not allowed but differs from an
// allowed key only in case, that key is returned with ok false.
func (p *appspecParser) match(key string, allowed []string) (name string, ok bool) {
	for _, a := range allowed {
		if a == key {
			return a, true
		}
	}
	for _, a := range allowed {
		if strings.EqualFold(a, key) {
			return a, p.fold
		}
	}
	return "", false
}

// items returns the resolved items of the list n at path, registering the
// line of each. A null n is an empty list; any other non-list is reported.
func (p *appspecParser) items(n *yaml.Node, path string) []*yaml.Node {
	if yamlIsNull(n) {
		return nil
	}
	if n.Kind != yaml.SequenceNode {
		p.fail(p.lineOf(path, n), path, "must be a list, not "+yamlKind(n))
		return nil
	}
	out := make([]*yaml.Node, 0, len(n.Content))
	for i, it := range n.Content {
		it = p.resolve(it)
		if it == nil {
			break
		}
		p.lines[appspecIndex(path, i)] = it.Line
		out = append(out, it)
	}
	return out
}

// str returns the scalar n at path as a string; null or absent is "".
func (p *appspecParser) str(n *yaml.Node, path string) string {
	if yamlIsNull(n) {
		return ""
	}
	if n.Kind != yaml.ScalarNode {
		p.fail(p.lineOf(path, n), path, "must be a string, not "+yamlKind(n))
		return ""
	}
	return n.Value
}

// strs returns the list of scalars n at path.
func (p *appspecParser) strs(n *yaml.Node, path string) []string {
	its := p.items(n, path)
	if len(its) == 0 {
		return nil
	}
	out := make([]string, len(its))
	for i, it := range its {
		out[i] = p.str(it, appspecIndex(path, i))
	}
	return out
}

// integer returns the whole number n at path (a YAML integer, or a string of
// decimal digits). ok is false when n is absent or null, or when it is not a
// whole number, which is reported with rule.
func (p *appspecParser) integer(n *yaml.Node, path, rule string) (v int64, ok bool) {
	if yamlIsNull(n) {
		return 0, false
	}
	var err error
	switch {
	case n.Kind != yaml.ScalarNode:
		err = errors.New("not a scalar")
	case n.ShortTag() == "!!int":
		err = n.Decode(&v)
	case n.ShortTag() == "!!str":
		v, err = strconv.ParseInt(strings.TrimSpace(n.Value), 10, 64)
	default:
		err = errors.New("not an integer")
	}
	if err != nil {
		p.fail(p.lineOf(path, n), path, rule)
		return 0, false
	}
	return v, true
}

// version reads the version key: the number 0.0 (any numeric zero, as the
// CodeDeploy agent compares numerically) or the string "0.0" (see
// ParseAppSpecFile). Other values are returned as written, for check to
// reject.
func (p *appspecParser) version(n *yaml.Node) string {
	if yamlIsNull(n) {
		return ""
	}
	if n.Kind != yaml.ScalarNode {
		p.fail(p.lineOf("version", n), "version", "must be 0.0, not "+yamlKind(n))
		return ""
	}
	if t := n.ShortTag(); t == "!!int" || t == "!!float" {
		if f, err := strconv.ParseFloat(strings.ReplaceAll(n.Value, "_", ""), 64); err == nil && f == 0 {
			return AppSpecVersion
		}
	}
	if n.Value == AppSpecVersion && p.platform == config.Server {
		p.probs.warn(p.lineOf("version", n), "version",
			`the CodeDeploy agent refuses the string "0.0" ("invalid version value"): it accepts only the number 0.0, so this AppSpec fails on every instance that runs the agent; fleetdeploy accepts it`,
			"the AppSpec reference gives version as 0.0; write it without quotes")
	}
	return n.Value
}

// functions reads a Lambda or ECS AppSpec (User Guide, "AppSpec 'resources'
// section (Amazon ECS and AWS Lambda deployments only)"): a version, one
// resource and a list of hooks naming Lambda validation functions. Keys are
// matched without regard to case (fleetdeploy's decision: the User Guide's
// own examples capitalise them).
func (p *appspecParser) functions(root *yaml.Node) *AppSpec {
	a := &AppSpec{Platform: p.platform}
	f := p.fields(root, "", "version", "Resources", "Hooks")
	if f == nil {
		return nil
	}
	a.Version = p.version(f["version"])

	wantType := "AWS::Lambda::Function"
	what := "Lambda function"
	if p.platform == config.ECS {
		wantType, what = "AWS::ECS::Service", "ECS service"
	}
	for i, it := range p.items(f["Resources"], "Resources") {
		path := appspecIndex("Resources", i)
		if i > 0 {
			p.fail(it.Line, path, "only one resource is allowed: an AppSpec deploys one "+what)
			continue
		}
		name, body, ok := p.resource(it, path)
		if !ok {
			// A placeholder, so that the rule checks of the resource's
			// properties (all suppressed) do not report it missing.
			if p.platform == config.ECS {
				a.ECS = &ECSService{}
			} else {
				a.Lambda = &LambdaFunction{}
			}
			continue
		}
		m := p.fields(body, path, "Type", "Properties")
		if m == nil {
			m = map[string]*yaml.Node{}
		}
		tp := appspecJoin(path, "Type")
		switch typ := p.str(m["Type"], tp); {
		case p.bad[tp]:
		case typ == "":
			p.note(p.lineFor(tp), tp, "is required: "+wantType)
		case !strings.EqualFold(typ, wantType):
			p.fail(p.lineFor(tp), tp, fmt.Sprintf("must be %s, not %q", wantType, typ))
		}
		props := appspecJoin(path, "Properties")
		if p.platform == config.ECS {
			a.ECS = p.ecsService(name, m["Properties"], props)
		} else {
			a.Lambda = p.lambdaFunction(name, m["Properties"], props)
		}
	}

	if h := f["Hooks"]; !yamlIsNull(h) {
		a.HookFunctions = map[string]string{}
		for i, it := range p.items(h, "Hooks") {
			ip := appspecIndex("Hooks", i)
			if it.Kind != yaml.MappingNode {
				p.fail(it.Line, ip, "must be a mapping of a lifecycle event name to a Lambda function name, not "+yamlKind(it))
				continue
			}
			for _, kv := range p.pairs(it, ip) {
				event := canonicalEvent(p.platform, kv.key)
				path := appspecKey("Hooks", event)
				if first, dup := p.lines[path]; dup {
					p.note(kv.line, path, fmt.Sprintf("lifecycle event %s is listed twice (first at line %d)", event, first))
					continue
				}
				p.lines[path] = kv.line
				a.HookFunctions[event] = p.str(kv.value, path)
			}
		}
		if len(a.HookFunctions) == 0 {
			a.HookFunctions = nil
		}
	}
	return a
}

// resource reads one item of Resources, a mapping with a single entry
// "LogicalName: {Type, Properties}", returning the name and the body.
func (p *appspecParser) resource(n *yaml.Node, path string) (string, *yaml.Node, bool) {
	const rule = "must be a single entry of the form `LogicalName: {Type: ..., Properties: ...}`"
	if n.Kind != yaml.MappingNode {
		p.fail(n.Line, path, rule+", not "+yamlKind(n))
		return "", nil, false
	}
	kvs := p.pairs(n, path)
	if len(kvs) != 1 {
		p.fail(n.Line, path, rule)
		return "", nil, false
	}
	return kvs[0].key, kvs[0].value, true
}

// canonicalEvent returns the spelling of HookEvents(platform) for name,
// matched without regard to case, or name itself when it is not one.
func canonicalEvent(platform config.ComputePlatform, name string) string {
	for _, e := range HookEvents(platform) {
		if strings.EqualFold(e, name) {
			return e
		}
	}
	return name
}

package revision

import (
	"go.yaml.in/yaml/v3"
)

// LambdaFunction is the resource of a Lambda AppSpec (User Guide, "AppSpec
// 'resources' section (Amazon ECS and AWS Lambda deployments only)"): the
// function whose alias the deployment moves from CurrentVersion to
// TargetVersion.
type LambdaFunction struct {
	// LogicalName is the resource's key in the AppSpec, for example
	// "myLambdaFunction". It is informational.
	LogicalName string
	// Name is the function's name.
	Name string
	// Alias is the alias whose traffic is shifted.
	Alias string
	// CurrentVersion is the version the alias points to now: a positive
	// integer written in decimal, for example "1".
	CurrentVersion string
	// TargetVersion is the version traffic is shifted to, in the same form.
	TargetVersion string
}

// lambdaFunction reads the Properties of a Lambda resource.
func (p *appspecParser) lambdaFunction(logical string, n *yaml.Node, path string) *LambdaFunction {
	m := p.fields(n, path, "Name", "Alias", "CurrentVersion", "TargetVersion")
	if m == nil {
		m = map[string]*yaml.Node{}
	}
	return &LambdaFunction{
		LogicalName:    logical,
		Name:           p.str(m["Name"], appspecJoin(path, "Name")),
		Alias:          p.str(m["Alias"], appspecJoin(path, "Alias")),
		CurrentVersion: p.str(m["CurrentVersion"], appspecJoin(path, "CurrentVersion")),
		TargetVersion:  p.str(m["TargetVersion"], appspecJoin(path, "TargetVersion")),
	}
}

// check reports the rules a Lambda resource breaks; path is its Properties.
func (f *LambdaFunction) check(path string, ps *appspecProblems) {
	appspecRequire(ps, appspecJoin(path, "Name"), f.Name)
	appspecRequire(ps, appspecJoin(path, "Alias"), f.Alias)
	for _, v := range []struct{ key, value string }{
		{"CurrentVersion", f.CurrentVersion},
		{"TargetVersion", f.TargetVersion},
	} {
		switch {
		case v.value == "":
			ps.addf(appspecJoin(path, v.key), "is required: a function version number such as 1")
		case !isPositiveDecimal(v.value):
			ps.addf(appspecJoin(path, v.key), "must be a positive integer function version, not "+appspecQuote(v.value))
		}
	}
}

// isPositiveDecimal reports whether s is a positive integer in decimal
// without a sign or leading zeros.
func isPositiveDecimal(s string) bool {
	if s == "" || s[0] == '0' || len(s) > 18 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

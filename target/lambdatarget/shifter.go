package lambdatarget

import (
	"context"
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/fleetdeploy/fleetdeploy/target"
)

var _ target.TrafficShifter = (*Shifter)(nil)

// Shifter is a target.TrafficShifter over Lambda aliases: the AllowTraffic
// event of a Lambda deployment, each step of its canary or linear
// schedule, and the shift back on rollback. It keeps no state of its own
// (the alias is the state), so several executors may share one, and it
// is safe for concurrent use.
type Shifter struct {
	client AliasAPI
	opts   Options
}

// NewShifter returns a Shifter that reads and updates aliases through
// client (a *lambda.Client fits). A nil client is an error wrapping
// ErrInvalidOptions.
func NewShifter(client AliasAPI, optFns ...func(*Options)) (*Shifter, error) {
	if client == nil {
		return nil, fmt.Errorf("lambdatarget: NewShifter: the client is nil; pass a *lambda.Client: %w", ErrInvalidOptions)
	}
	return &Shifter{client: client, opts: resolve(optFns)}, nil
}

// alias names a function alias: a route's ResourceID, "function:alias".
type alias struct{ function, name string }

// String returns the route's spelling, "function:alias".
func (a alias) String() string { return a.function + ":" + a.name }

// parseRoute reads a route's ResourceID: the function's name (or ARN)
// and the alias, joined by the last ":" (alias names have no colon).
func parseRoute(r target.TrafficRoute) (alias, error) {
	if r.Test {
		return alias{}, fmt.Errorf("route %q is a test route; Lambda aliases have none (test routes are ECS listeners): %w", r.ResourceID, target.ErrInvalidRequest)
	}
	i := strings.LastIndexByte(r.ResourceID, ':')
	if i <= 0 || i == len(r.ResourceID)-1 {
		return alias{}, fmt.Errorf("route %q must name a function alias as \"function:alias\": %w", r.ResourceID, target.ErrInvalidRequest)
	}
	return alias{function: r.ResourceID[:i], name: r.ResourceID[i+1:]}, nil
}

// aliasState is what an alias serves: its version and, with weighted
// routing, one more version and the fraction (0–1) of traffic it gets.
type aliasState struct {
	version string
	extra   string
	weight  float64
	// revision is the alias' RevisionId, for the conditional update.
	revision *string
}

// String says what the alias serves, for messages.
func (s aliasState) String() string {
	if s.extra == "" {
		return "points to version " + s.version + " with no weighted routing"
	}
	return fmt.Sprintf("points to version %s, routing %s of traffic to version %s", s.version,
		strconv.FormatFloat(s.weight*100, 'f', -1, 64)+"%", s.extra)
}

// stateOf reads a GetAlias answer. Versions routed a weight of 0 are left
// out; Lambda routes to at most one more version, and an alias that
// routes to several is reported as an error.
func stateOf(out *lambda.GetAliasOutput) (aliasState, error) {
	s := aliasState{version: aws.ToString(out.FunctionVersion), revision: out.RevisionId}
	if out.RoutingConfig == nil {
		return s, nil
	}
	for _, v := range slices.Sorted(maps.Keys(out.RoutingConfig.AdditionalVersionWeights)) {
		w := out.RoutingConfig.AdditionalVersionWeights[v]
		if w <= 0 {
			continue
		}
		if s.extra != "" {
			return s, fmt.Errorf("alias routes traffic to versions %s and %s besides %s; Lambda routes to at most one more version", s.extra, v, s.version)
		}
		s.extra, s.weight = v, w
	}
	return s, nil
}

// readAlias returns the alias' state. A function or alias that does not
// exist is a *target.CodeError wrapping target.ErrNotFound, with code
// INVALID_LAMBDA_FUNCTION (the function) or INVALID_LAMBDA_CONFIGURATION
// (the alias).
func (s *Shifter) readAlias(ctx context.Context, a alias) (aliasState, error) {
	out, err := s.client.GetAlias(ctx, &lambda.GetAliasInput{FunctionName: aws.String(a.function), Name: aws.String(a.name)})
	if err != nil {
		if ctx.Err() != nil || !isNotFound(err) {
			return aliasState{}, s.callError(ctx, "reading alias "+a.String(), err)
		}
		// Lambda answers ResourceNotFoundException for both; ask which.
		_, ferr := s.client.GetFunctionConfiguration(ctx, &lambda.GetFunctionConfigurationInput{FunctionName: aws.String(a.function)})
		switch {
		case ferr != nil && ctx.Err() == nil && isNotFound(ferr):
			return aliasState{}, &target.CodeError{Code: CodeInvalidLambdaFunction, Err: fmt.Errorf(
				"lambdatarget: function %s does not exist (the AppSpec's Name); create it or fix the AppSpec: %w: %w", a.function, target.ErrNotFound, ferr)}
		case ferr != nil:
			return aliasState{}, s.callError(ctx, "reading function "+a.function, ferr)
		}
		return aliasState{}, &target.CodeError{Code: CodeInvalidLambdaConfiguration, Err: fmt.Errorf(
			"lambdatarget: function %s has no alias %s (the AppSpec's Alias); create it pointing at the current version or fix the AppSpec: %w: %w", a.function, a.name, target.ErrNotFound, err)}
	}
	st, err := stateOf(out)
	if err != nil {
		return st, &target.CodeError{Code: CodeInvalidLambdaConfiguration, Err: fmt.Errorf("lambdatarget: alias %s: %w: %w", a, ErrAliasMismatch, err)}
	}
	return st, nil
}

// callError wraps the failure of a Lambda call: ctx's error as it is, the
// service's answer in a *target.CodeError with the code that fits.
func (s *Shifter) callError(ctx context.Context, what string, err error) error {
	err = fmt.Errorf("lambdatarget: %s: %w", what, err)
	if ctx.Err() != nil {
		return err
	}
	if code := serviceCode(err); code != "" {
		return &target.CodeError{Code: code, Err: err}
	}
	return err
}

// ShiftTraffic sets the alias req.Route names ("function:alias") to
// req.Split: with a Weight below 100 the alias keeps pointing at
// req.Split.Original and routes Weight percent of its traffic to
// req.Split.Replacement (RoutingConfig.AdditionalVersionWeights, as a
// fraction 0–1); with Weight 100 it points at the Replacement with no
// weighted routing; with Weight 0 at the Original with none. Lambda
// applies an alias update at once, so the split is in effect when
// ShiftTraffic returns. An alias that has the split already is not
// updated.
//
// Before it changes anything it checks what CodeDeploy checks before a
// Lambda deployment shifts traffic: the alias must serve only the two
// versions of the split — pointing at the Original (the AppSpec's
// CurrentVersion), possibly routing some traffic to the Replacement (a
// shift made before); or, for a shift to 100, already pointing at the
// Replacement (the shift was made, or a rollback moves back to it) — and,
// before the first shift, the Replacement (the AppSpec's TargetVersion)
// must exist. The update is conditional on the alias' RevisionId, so that
// a change made meanwhile by someone else is refused rather than
// overwritten.
//
// Errors, with the alias unchanged: ctx's error; req breaking a rule of
// req.Validate, a test route or a ResourceID that is not "function:alias"
// (wrapping target.ErrInvalidRequest); and *target.CodeError values
// carrying CodeDeploy's error code: INVALID_LAMBDA_FUNCTION for a function
// that does not exist and INVALID_LAMBDA_CONFIGURATION for an alias that
// does not exist (both wrapping target.ErrNotFound), for an alias that
// serves other versions (wrapping ErrAliasMismatch) and for a missing
// TargetVersion (wrapping ErrVersionNotFound); THROTTLED,
// IAM_ROLE_PERMISSIONS and INVALID_LAMBDA_CONFIGURATION for calls Lambda
// refused. The SDK's error stays reachable with errors.As.
func (s *Shifter) ShiftTraffic(ctx context.Context, req target.ShiftRequest) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("lambdatarget: shift traffic on %s: %w", req.Route.ResourceID, err)
	}
	if err := req.Validate(); err != nil {
		return fmt.Errorf("lambdatarget: shift traffic on %s: %w", req.Route.ResourceID, err)
	}
	a, err := parseRoute(req.Route)
	if err != nil {
		return fmt.Errorf("lambdatarget: shift traffic: %w", err)
	}
	cur, err := s.readAlias(ctx, a)
	if err != nil {
		return err
	}
	sp := req.Split
	if err := checkAlias(a, cur, sp); err != nil {
		return err
	}
	if cur.version != sp.Replacement && cur.extra != sp.Replacement {
		// The first shift: the TargetVersion must exist.
		if err := s.checkVersion(ctx, a, sp.Replacement); err != nil {
			return err
		}
	}
	want := desired(sp)
	if cur.version == want.version && cur.extra == want.extra && cur.weight == want.weight {
		s.opts.Logger.DebugContext(ctx, "lambdatarget: alias has the split already", "alias", a.String(), "deploymentId", req.Deployment.DeploymentID, "weight", sp.Weight)
		return nil
	}
	weights := map[string]float64{} // empty: no weighted routing (nil would leave it as it is)
	if want.extra != "" {
		weights[want.extra] = want.weight
	}
	_, err = s.client.UpdateAlias(ctx, &lambda.UpdateAliasInput{FunctionName: aws.String(a.function), Name: aws.String(a.name),
		FunctionVersion: aws.String(want.version), RoutingConfig: &types.AliasRoutingConfiguration{AdditionalVersionWeights: weights},
		RevisionId: cur.revision})
	if err != nil {
		if apiCode(err) == "PreconditionFailedException" {
			return &target.CodeError{Code: CodeInvalidLambdaConfiguration, Err: fmt.Errorf(
				"lambdatarget: alias %s changed while traffic was being shifted (someone else updated it); shift again once it is stable: %w", a, err)}
		}
		return s.callError(ctx, fmt.Sprintf("updating alias %s to %d%% on version %s", a, sp.Weight, sp.Replacement), err)
	}
	s.opts.Logger.InfoContext(ctx, "lambdatarget: shifted traffic", "alias", a.String(), "deploymentId", req.Deployment.DeploymentID,
		"original", sp.Original, "replacement", sp.Replacement, "weight", sp.Weight)
	return nil
}

// desired is the alias state that gives split sp.
func desired(sp target.TrafficSplit) aliasState {
	switch {
	case sp.Weight >= 100:
		return aliasState{version: sp.Replacement}
	case sp.Weight <= 0:
		return aliasState{version: sp.Original}
	}
	return aliasState{version: sp.Original, extra: sp.Replacement, weight: float64(sp.Weight) / 100}
}

// checkAlias reports whether an alias serving cur may be shifted to sp:
// it serves sp.Original, routing to nothing but sp.Replacement; or, for a
// shift to 100, it serves sp.Replacement, routing to nothing but
// sp.Original.
func checkAlias(a alias, cur aliasState, sp target.TrafficSplit) error {
	switch {
	case cur.version == sp.Original && (cur.extra == "" || cur.extra == sp.Replacement):
		return nil
	case cur.version == sp.Replacement && sp.Weight == 100 && (cur.extra == "" || cur.extra == sp.Original):
		return nil
	}
	fix := "point the alias at version " + sp.Original + " with no weighted routing, or fix the AppSpec's CurrentVersion"
	return &target.CodeError{Code: CodeInvalidLambdaConfiguration, Err: fmt.Errorf(
		"lambdatarget: alias %s %s, but the deployment moves traffic from version %s (the AppSpec's CurrentVersion) to %s (its TargetVersion); %s: %w",
		a, cur, sp.Original, sp.Replacement, fix, ErrAliasMismatch)}
}

// checkVersion reports whether function a.function has version v.
func (s *Shifter) checkVersion(ctx context.Context, a alias, v string) error {
	_, err := s.client.GetFunctionConfiguration(ctx, &lambda.GetFunctionConfigurationInput{FunctionName: aws.String(a.function), Qualifier: aws.String(v)})
	switch {
	case err == nil:
		s.opts.Logger.DebugContext(ctx, "lambdatarget: target version exists", "alias", a.String(), "version", v)
		return nil
	case ctx.Err() == nil && isNotFound(err):
		return &target.CodeError{Code: CodeInvalidLambdaConfiguration, Err: fmt.Errorf(
			"lambdatarget: function %s has no version %s (the AppSpec's TargetVersion for alias %s); publish it or fix the AppSpec: %w: %w",
			a.function, v, a, ErrVersionNotFound, err)}
	}
	return s.callError(ctx, fmt.Sprintf("reading version %s of function %s", v, a.function), err)
}

// CurrentTraffic returns the split the alias route names has now, read
// with GetAlias: an alias with weighted routing returns its version as
// Original, the routed version as Replacement and the routed fraction as a
// percentage, rounded to the nearest one but kept within 1–99 so that a
// split never reads as all on one version; an alias with none returns its
// version as Original with Weight 0 and an empty Replacement, as the
// target.TrafficShifter contract asks.
//
// Errors: ctx's error; a test route or a ResourceID that is not
// "function:alias" (wrapping target.ErrInvalidRequest); a function or
// alias that does not exist (a *target.CodeError wrapping
// target.ErrNotFound, as for ShiftTraffic); an alias routing to more than
// one other version (wrapping ErrAliasMismatch); other failures of the
// call.
func (s *Shifter) CurrentTraffic(ctx context.Context, route target.TrafficRoute) (target.TrafficSplit, error) {
	if err := ctx.Err(); err != nil {
		return target.TrafficSplit{}, fmt.Errorf("lambdatarget: current traffic on %s: %w", route.ResourceID, err)
	}
	a, err := parseRoute(route)
	if err != nil {
		return target.TrafficSplit{}, fmt.Errorf("lambdatarget: current traffic: %w", err)
	}
	cur, err := s.readAlias(ctx, a)
	if err != nil {
		return target.TrafficSplit{}, err
	}
	if cur.extra == "" {
		return target.TrafficSplit{Original: cur.version}, nil
	}
	pct := min(max(int(math.Round(cur.weight*100)), 1), 99)
	return target.TrafficSplit{Original: cur.version, Replacement: cur.extra, Weight: pct}, nil
}

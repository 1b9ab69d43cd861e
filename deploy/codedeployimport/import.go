package codedeployimport

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/codedeploy"
	"github.com/aws/aws-sdk-go-v2/service/codedeploy/types"
	"github.com/hashicorp/go-multierror"

	"github.com/fleetdeploy/fleetdeploy/config"
	"github.com/fleetdeploy/fleetdeploy/deploy"
)

// Client is the CodeDeploy operations the Importer calls. *codedeploy.Client
// satisfies it.
type Client interface {
	ListApplications(ctx context.Context, in *codedeploy.ListApplicationsInput, optFns ...func(*codedeploy.Options)) (*codedeploy.ListApplicationsOutput, error)
	BatchGetApplications(ctx context.Context, in *codedeploy.BatchGetApplicationsInput, optFns ...func(*codedeploy.Options)) (*codedeploy.BatchGetApplicationsOutput, error)
	ListDeploymentGroups(ctx context.Context, in *codedeploy.ListDeploymentGroupsInput, optFns ...func(*codedeploy.Options)) (*codedeploy.ListDeploymentGroupsOutput, error)
	BatchGetDeploymentGroups(ctx context.Context, in *codedeploy.BatchGetDeploymentGroupsInput, optFns ...func(*codedeploy.Options)) (*codedeploy.BatchGetDeploymentGroupsOutput, error)
	ListDeploymentConfigs(ctx context.Context, in *codedeploy.ListDeploymentConfigsInput, optFns ...func(*codedeploy.Options)) (*codedeploy.ListDeploymentConfigsOutput, error)
	GetDeploymentConfig(ctx context.Context, in *codedeploy.GetDeploymentConfigInput, optFns ...func(*codedeploy.Options)) (*codedeploy.GetDeploymentConfigOutput, error)
}

var _ Client = (*codedeploy.Client)(nil)

// MaxBatch is the most names one BatchGetApplications or
// BatchGetDeploymentGroups call takes (API Reference).
const MaxBatch = 100

// Options configure an Importer.
type Options struct {
	// Logger receives one line per page read and per record skipped. Nil
	// means slog.DiscardHandler.
	Logger *slog.Logger
	// Applications limits the import to the named applications (and the
	// custom configurations, which belong to no application). Empty means
	// every application.
	Applications []string
	// SkipConfigs leaves deployment configurations out: no
	// ListDeploymentConfigs or GetDeploymentConfig calls. Groups are then
	// checked against the predefined configurations only.
	SkipConfigs bool
}

// Importer reads applications, deployment groups and custom deployment
// configurations from CodeDeploy. It is safe for concurrent use.
type Importer struct {
	client Client
	opts   Options
}

// New returns an Importer that reads through client, which must not be
// nil.
func New(client Client, optFns ...func(*Options)) (*Importer, error) {
	if client == nil {
		return nil, errors.New("codedeployimport: New: client is nil; pass a *codedeploy.Client (codedeploy.NewFromConfig)")
	}
	var o Options
	for _, f := range optFns {
		f(&o)
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	for i, name := range o.Applications {
		if name == "" {
			return nil, fmt.Errorf("codedeployimport: New: Options.Applications[%d] is empty; name an application or leave the list empty for all", i)
		}
	}
	o.Applications = slices.Clone(o.Applications)
	return &Importer{client: client, opts: o}, nil
}

// Result is what Import read: fleetdeploy values for CodeDeploy's
// records, and a Report of what did not map.
type Result struct {
	// Applications are the imported applications, by name.
	Applications []deploy.Application
	// Groups are the imported deployment groups, by application and name.
	Groups []deploy.Group
	// Configs are the custom deployment configurations, by name: pass them
	// to deploy.Options.Configs (the store keeps none).
	Configs []config.Config
	// Report lists every setting that did not map, and every record left
	// out with the reason.
	Report Report
}

// Import reads every application (or those of Options.Applications), their
// deployment groups and the custom deployment configurations, and converts
// them (see the package documentation for the mapping). Settings that do
// not map are listed in Result.Report; Import fails only when a CodeDeploy
// call fails, with an error that keeps the SDK's error (errors.As
// smithy.APIError) and names the call. It stops at ctx's cancellation.
func (im *Importer) Import(ctx context.Context) (*Result, error) {
	var res Result
	if !im.opts.SkipConfigs {
		if err := im.importConfigs(ctx, &res); err != nil {
			return nil, err
		}
	}
	names := im.opts.Applications
	if len(names) == 0 {
		var err error
		if names, err = im.listApplications(ctx); err != nil {
			return nil, err
		}
	}
	apps, err := im.getApplications(ctx, names, &res.Report)
	if err != nil {
		return nil, err
	}
	for _, info := range apps {
		app, issues := FromApplicationInfo(info)
		res.Report.Issues = append(res.Report.Issues, issues...)
		if app == nil {
			im.opts.Logger.InfoContext(ctx, "codedeployimport: application skipped", "application", aws.ToString(info.ApplicationName))
			continue
		}
		res.Applications = append(res.Applications, *app)
		groups, err := im.importGroups(ctx, app.Name, &res.Report)
		if err != nil {
			return nil, err
		}
		for _, g := range groups {
			res.Report.Issues = append(res.Report.Issues, validationIssues(g, res.Configs)...)
		}
		res.Groups = append(res.Groups, groups...)
	}
	slices.SortFunc(res.Applications, func(a, b deploy.Application) int { return strings.Compare(a.Name, b.Name) })
	slices.SortStableFunc(res.Groups, func(a, b deploy.Group) int {
		return cmpOr(strings.Compare(a.ApplicationName, b.ApplicationName), strings.Compare(a.Name, b.Name))
	})
	return &res, nil
}

func cmpOr(a, b int) int {
	if a != 0 {
		return a
	}
	return b
}

// listApplications pages through ListApplications.
func (im *Importer) listApplications(ctx context.Context) ([]string, error) {
	var names []string
	var token *string
	for page := 1; ; page++ {
		out, err := im.client.ListApplications(ctx, &codedeploy.ListApplicationsInput{NextToken: token})
		if err != nil {
			return nil, fmt.Errorf("codedeployimport: ListApplications (page %d): %w", page, err)
		}
		names = append(names, out.Applications...)
		im.opts.Logger.DebugContext(ctx, "codedeployimport: ListApplications", "page", page, "applications", len(out.Applications))
		if token = nextToken(out.NextToken, token); token == nil {
			return names, nil
		}
	}
}

// nextToken returns the token of the next page, or nil when there is none:
// CodeDeploy ends a listing with no token; an empty token, or the one just
// sent, also ends it so that a peer that repeats itself cannot loop the
// reader forever.
func nextToken(got, sent *string) *string {
	if got == nil || *got == "" || (sent != nil && *got == *sent) {
		return nil
	}
	return got
}

// getApplications reads names in batches of MaxBatch. A name CodeDeploy
// does not return is reported.
func (im *Importer) getApplications(ctx context.Context, names []string, r *Report) ([]types.ApplicationInfo, error) {
	var infos []types.ApplicationInfo
	for batch := range slices.Chunk(names, MaxBatch) {
		out, err := im.client.BatchGetApplications(ctx, &codedeploy.BatchGetApplicationsInput{ApplicationNames: batch})
		if err != nil {
			return nil, fmt.Errorf("codedeployimport: BatchGetApplications %v: %w", batch, err)
		}
		infos = append(infos, out.ApplicationsInfo...)
	}
	for _, name := range names {
		if !slices.ContainsFunc(infos, func(a types.ApplicationInfo) bool { return aws.ToString(a.ApplicationName) == name }) {
			r.add(Issue{Application: name, Field: "applicationName", Reason: "BatchGetApplications did not return it (deleted while importing, or a name that does not exist); it is not imported"})
		}
	}
	return infos, nil
}

// importGroups lists and reads the application's groups.
func (im *Importer) importGroups(ctx context.Context, app string, r *Report) ([]deploy.Group, error) {
	var names []string
	var token *string
	for page := 1; ; page++ {
		out, err := im.client.ListDeploymentGroups(ctx, &codedeploy.ListDeploymentGroupsInput{ApplicationName: aws.String(app), NextToken: token})
		if err != nil {
			return nil, fmt.Errorf("codedeployimport: ListDeploymentGroups of application %s (page %d): %w", app, page, err)
		}
		names = append(names, out.DeploymentGroups...)
		im.opts.Logger.DebugContext(ctx, "codedeployimport: ListDeploymentGroups", "application", app, "page", page, "groups", len(out.DeploymentGroups))
		if token = nextToken(out.NextToken, token); token == nil {
			break
		}
	}
	var groups []deploy.Group
	for batch := range slices.Chunk(names, MaxBatch) {
		out, err := im.client.BatchGetDeploymentGroups(ctx, &codedeploy.BatchGetDeploymentGroupsInput{ApplicationName: aws.String(app), DeploymentGroupNames: batch})
		if err != nil {
			return nil, fmt.Errorf("codedeployimport: BatchGetDeploymentGroups of application %s %v: %w", app, batch, err)
		}
		if msg := aws.ToString(out.ErrorMessage); msg != "" {
			r.add(Issue{Application: app, Field: "deploymentGroupNames", Reason: "BatchGetDeploymentGroups reported: " + msg})
		}
		for _, info := range out.DeploymentGroupsInfo {
			g, issues := FromDeploymentGroupInfo(info)
			r.Issues = append(r.Issues, issues...)
			if g.ApplicationName == "" {
				g.ApplicationName = app
			}
			groups = append(groups, g)
		}
	}
	for _, name := range names {
		if !slices.ContainsFunc(groups, func(g deploy.Group) bool { return g.Name == name }) {
			r.add(Issue{Application: app, Group: name, Field: "deploymentGroupName", Reason: "BatchGetDeploymentGroups did not return it (deleted while importing?); it is not imported"})
		}
	}
	return groups, nil
}

// importConfigs lists the deployment configurations and reads the custom
// ones.
func (im *Importer) importConfigs(ctx context.Context, res *Result) error {
	var token *string
	var names []string
	for page := 1; ; page++ {
		out, err := im.client.ListDeploymentConfigs(ctx, &codedeploy.ListDeploymentConfigsInput{NextToken: token})
		if err != nil {
			return fmt.Errorf("codedeployimport: ListDeploymentConfigs (page %d): %w", page, err)
		}
		names = append(names, out.DeploymentConfigsList...)
		im.opts.Logger.DebugContext(ctx, "codedeployimport: ListDeploymentConfigs", "page", page, "configs", len(out.DeploymentConfigsList))
		if token = nextToken(out.NextToken, token); token == nil {
			break
		}
	}
	slices.Sort(names)
	for _, name := range slices.Compact(names) {
		if strings.HasPrefix(name, config.PredefinedPrefix) {
			if _, ok := config.Predefined(name); !ok {
				res.Report.add(Issue{Config: name, Field: "deploymentConfigName",
					Reason: "a predefined CodeDeploy configuration fleetdeploy does not have; groups that use it will not validate"})
			}
			continue
		}
		out, err := im.client.GetDeploymentConfig(ctx, &codedeploy.GetDeploymentConfigInput{DeploymentConfigName: aws.String(name)})
		if err != nil {
			return fmt.Errorf("codedeployimport: GetDeploymentConfig %s: %w", name, err)
		}
		if out.DeploymentConfigInfo == nil {
			res.Report.add(Issue{Config: name, Field: "deploymentConfigInfo", Reason: "GetDeploymentConfig returned none; the configuration is not imported"})
			continue
		}
		c, issues := FromDeploymentConfigInfo(*out.DeploymentConfigInfo)
		res.Report.Issues = append(res.Report.Issues, issues...)
		if c == nil {
			continue
		}
		if c.Name == "" {
			c.Name = name
		}
		res.Report.Issues = append(res.Report.Issues, configIssues(*c)...)
		res.Configs = append(res.Configs, *c)
	}
	return nil
}

// configIssues reports the rules of config.Config.Validate c breaks.
func configIssues(c config.Config) []Issue {
	return problemIssues(c.Validate(), func(field, rule string) Issue {
		return Issue{Config: c.Name, Field: field, Reason: "fleetdeploy's validation: " + rule}
	})
}

// validationIssues reports the rules of deploy.Group.Validate g breaks.
func validationIssues(g deploy.Group, custom []config.Config) []Issue {
	return problemIssues(g.Validate(custom...), func(field, rule string) Issue {
		return Issue{Application: g.ApplicationName, Group: g.Name, Field: field, Reason: "fleetdeploy's validation: " + rule}
	})
}

// problemIssues turns the problems of a validation error into issues made
// by mk: one per problem, or one for the whole error when it lists none.
func problemIssues(err error, mk func(field, rule string) Issue) []Issue {
	if err == nil {
		return nil
	}
	var list *multierror.Error
	if !errors.As(err, &list) || len(list.Errors) == 0 {
		return []Issue{mk("", err.Error())}
	}
	out := make([]Issue, 0, len(list.Errors))
	for _, e := range list.Errors {
		var p *config.Problem
		if errors.As(e, &p) {
			out = append(out, mk(p.Field, p.Rule))
		} else {
			out = append(out, mk("", e.Error()))
		}
	}
	return out
}

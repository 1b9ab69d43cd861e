// Package codedeployimport reads the applications, deployment groups and
// custom deployment configurations of AWS CodeDeploy and turns them into
// fleetdeploy's deploy.Application, deploy.Group and config.Config values,
// so that a team moving from CodeDeploy does not retype them.
//
//	im, err := codedeployimport.New(codedeploy.NewFromConfig(cfg))
//	res, err := im.Import(ctx)
//	fmt.Print(res.Report) // what did not map, one line each
//	sum, err := codedeployimport.Write(ctx, store, res)
//	exec, err := deploy.New(store, platform, func(o *deploy.Options) { o.Configs = res.Configs })
//
// # What it reads
//
// [Importer.Import] pages through ListApplications, ListDeploymentGroups
// and ListDeploymentConfigs, reads applications and groups with
// BatchGetApplications and BatchGetDeploymentGroups ([MaxBatch] names a
// call) and each custom configuration with GetDeploymentConfig
// (predefined ones, named CodeDeployDefault.*, are fleetdeploy's own and
// are not read). It accepts any [Client]: *codedeploy.Client, or a
// wrapper of one.
//
// # How it maps
//
// CodeDeploy's fields and fleetdeploy's have the same names and meanings
// (the JSON forms are the same, see deploy.Group.MarshalJSON), so most
// settings carry over one to one: the selector (ec2TagFilters, ec2TagSet,
// onPremisesInstanceTagFilters, onPremisesTagSet, the names of
// autoScalingGroups), terminationHookEnabled, ecsServices,
// deploymentStyle, loadBalancerInfo, blueGreenDeploymentConfiguration,
// autoRollbackConfiguration, alarmConfiguration, triggerConfigurations,
// outdatedInstancesStrategy, the group's deployment group ID (hosts key
// their state by it), its targetRevision (so that targets already running
// it count as current, and a first rollback returns to it) and its last
// deployments (their IDs name CodeDeploy deployments, not records of the
// store); a configuration's minimumHealthyHosts, zonalConfig and
// trafficRoutingConfig. The deprecated String revision location becomes
// an AppSpecContent location, which has the same fields.
//
// What does not map is listed in [Result.Report], one [Issue] per setting,
// naming the application, group or configuration, the field as
// CodeDeploy's API spells it, and why:
//
//   - a compute platform fleetdeploy lacks (Kubernetes): the application
//     with its groups, or the configuration, is left out;
//   - serviceRoleArn: fleetdeploy acts through the caller's clients;
//   - the lifecycle hook names of autoScalingGroups (hook,
//     terminationHook), which CodeDeploy created and answers;
//   - an application's GitHub connection (gitHubAccountName);
//   - a predefined configuration fleetdeploy does not have;
//   - records listed but not returned by a batch read;
//   - every rule of deploy.Group.Validate or config.Config.Validate an
//     imported record breaks (a group is checked against the imported
//     custom configurations). Such records are still imported.
//
// Output-only identities and timestamps (applicationId,
// deploymentConfigId, a configuration's createTime) are not kept and not
// reported.
//
// # Writing to a store
//
// [Write] creates what the store lacks and updates groups whose settings
// differ, keeping what is the store's own (see Write); run twice, the
// second run changes nothing. Configurations are not stored: a deploy.Store
// keeps none, and the executor takes them in deploy.Options.Configs.
//
// # Tests
//
// The tests run against moto's CodeDeploy (applications and groups) and,
// for what moto lacks (deployment configurations, BatchGetDeploymentGroups,
// epoch-second timestamps, alarm configurations), an httptest server
// speaking CodeDeploy's JSON 1.1 protocol with documents shaped like the
// API Reference's.
package codedeployimport

package deploy_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/hashicorp/go-multierror"

	"github.com/fleetdeploy/fleetdeploy/config"
	"github.com/fleetdeploy/fleetdeploy/deploy"
	"github.com/fleetdeploy/fleetdeploy/deploy/deploytest"
	"github.com/fleetdeploy/fleetdeploy/deploy/plan"
	"github.com/fleetdeploy/fleetdeploy/revision/revisiontest"
	"github.com/fleetdeploy/fleetdeploy/target"
	"github.com/fleetdeploy/fleetdeploy/target/targettest"
)

// wantMessage fails t unless err's message is want and names no package
// twice.
func wantMessage(t *testing.T, what string, err error, want string) {
	t.Helper()
	if err == nil {
		t.Fatalf("%s: no error; want %q", what, want)
	}
	if got := err.Error(); got != want {
		t.Errorf("%s:\n got %q\nwant %q", what, got, want)
	}
	for _, p := range []string{"deploy: ", "config: ", "revision: ", "target: "} {
		if n := strings.Count(err.Error(), p); n > 1 || (n == 1 && !strings.HasPrefix(err.Error(), p)) {
			t.Errorf("%s: %q names %q inside the message", what, err, p)
		}
	}
}

// TestCreateDeploymentMessages: each layer adds its context once, and a
// missing application is named as such.
func TestCreateDeploymentMessages(t *testing.T) {
	e := newEnv(t, 3, "CodeDeployDefault.OneAtATime", nil)
	create := func(in deploy.DeploymentInput) error {
		_, err := e.exec.CreateDeployment(e.ctx, in)
		return err
	}
	err := create(deploy.DeploymentInput{ApplicationName: "nope", GroupName: "prod", Revision: rev("a")})
	wantMessage(t, "missing application", err,
		"deploy: CreateDeployment: application nope: not found; create the application and its deployment group first (CreateApplication, CreateGroup)")
	if !errors.Is(err, deploy.ErrNotFound) {
		t.Errorf("missing application: %v; want ErrNotFound", err)
	}
	err = create(deploy.DeploymentInput{ApplicationName: "shop", GroupName: "nope", Revision: rev("a")})
	wantMessage(t, "missing group", err, "deploy: CreateDeployment: deployment group shop/nope: not found; create it first (CreateGroup)")
	if !errors.Is(err, deploy.ErrNotFound) {
		t.Errorf("missing group: %v; want ErrNotFound", err)
	}

	err = create(deploy.DeploymentInput{ApplicationName: "shop", GroupName: "prod", ConfigName: "Nope", Revision: rev("a")})
	if !errors.Is(err, config.ErrUnknownConfig) ||
		!strings.HasPrefix(err.Error(), `deploy: CreateDeployment: deployment group shop/prod: deploymentConfigName: unknown deployment configuration "Nope"; known configurations: `) {
		t.Errorf("unknown configuration: %v; want ErrUnknownConfig, each package named once", err)
	}

	err = create(deploy.DeploymentInput{GroupName: "prod", Description: strings.Repeat("x", 300)})
	wantMessage(t, "invalid input", err, `deploy: invalid deployment input: 3 problems:
  applicationName: is required
  revision.revisionType: "" is not one of S3, GitHub, AppSpecContent, Local
  description: must be at most 256 characters; got 300`)
	if !errors.Is(err, deploy.ErrInvalidInput) {
		t.Errorf("invalid input: %v; want ErrInvalidInput", err)
	}

	err = create(deploy.DeploymentInput{ApplicationName: "shop", GroupName: "prod", Revision: rev("a"),
		OverrideAlarmConfiguration: &deploy.AlarmConfiguration{Enabled: true}})
	wantMessage(t, "invalid alarm override", err, `deploy: invalid deployment input: overrideAlarmConfiguration.alarms: must name at least one alarm when alarmConfiguration.enabled is true`)
}

// TestNewMessage: New lists every problem of its settings under one
// heading, each package named once.
func TestNewMessage(t *testing.T) {
	_, err := deploy.New(nil, target.Platform{}, func(o *deploy.Options) {
		o.Concurrency = -1
		o.Configs = []config.Config{{Name: "Custom"}}
	})
	wantMessage(t, "New", err, `deploy: invalid executor settings: 4 problems:
  store: is required
  platform: has no role; set at least a Lister and an Installer (Server) or a TrafficShifter and a HookInvoker (Lambda)
  Options.Concurrency: must not be negative; got -1
  Options.Configs[0].minimumHealthyHosts: is required for a Server configuration`)
	if !errors.Is(err, deploy.ErrInvalidInput) || !errors.Is(err, config.ErrInvalidConfig) {
		t.Errorf("New: %v; want ErrInvalidInput and config.ErrInvalidConfig", err)
	}
	var p *config.Problem
	if !errors.As(err, &p) || p.Kind != deploy.ErrInvalidInput || p.Field != "store" {
		t.Errorf("New: errors.As *config.Problem = %+v", p)
	}
	var cp *config.Problem
	if ps := problemsOf(err); len(ps) != 4 || !errors.As(ps[3].Err, &cp) || cp.Kind != config.ErrInvalidConfig || cp.Field != "minimumHealthyHosts" {
		t.Errorf("New: the configuration's own problem is not reachable from its element: %+v", ps)
	}
}

// TestRunEndedMessage: Run of a deployment that has ended says so, with
// its status, and does not send the caller to Resume.
func TestRunEndedMessage(t *testing.T) {
	e := newEnv(t, 2, "CodeDeployDefault.AllAtOnce", nil)
	d := e.deploy("a")
	_, err := e.exec.Run(e.ctx, d.ID)
	wantMessage(t, "Run of a succeeded deployment", err, "deploy: deployment "+d.ID+
		": has ended with status Succeeded; Run starts only a Created deployment (to deploy its revision again, create a new deployment)")
	if !errors.Is(err, deploy.ErrAlreadyStarted) || !errors.Is(err, deploy.ErrDeploymentCompleted) {
		t.Errorf("Run of a succeeded deployment: %v; want ErrAlreadyStarted and ErrDeploymentCompleted", err)
	}
}

// TestServerRevisionChecked: with Options.Source, a Server deployment
// whose revision is missing or cannot be used fails before any target
// starts, with CodeDeploy's code and a message naming the revision; a
// Source that cannot be reached is an error, and the deployment stays
// Created to be resumed.
func TestServerRevisionChecked(t *testing.T) {
	src := revisiontest.NewMemSource()
	if _, err := src.PutFiles(rev("good"), map[string]string{"appspec.yml": "version: 0.0\nos: linux\n"}); err != nil {
		t.Fatal(err)
	}
	if _, err := src.PutFiles(rev("bad"), map[string]string{"appspec.yml": "version: 0.0\n"}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, revision string
		code           deploy.ErrorCode
		message        string
	}{
		{"missing", "gone", plan.RevisionMissing, "revision s3://releases/gone.zip is missing: "},
		{"invalid AppSpec", "bad", plan.InvalidRevision, "revision s3://releases/bad.zip cannot be used: "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, 3, "CodeDeployDefault.OneAtATime", nil, func(o *deploy.Options) { o.Source = src })
			d := e.deploy(tc.revision)
			if d.Status != deploy.StatusFailed || d.ErrorInformation.Code != tc.code || !strings.HasPrefix(d.ErrorInformation.Message, tc.message) {
				t.Errorf("deployment ended %s %+v; want Failed, %s, message starting %q", d.Status, d.ErrorInformation, tc.code, tc.message)
			}
			if strings.Contains(d.ErrorInformation.Message, "revision: ") {
				t.Errorf("message %q names package revision inside it", d.ErrorInformation.Message)
			}
			if calls := e.fleet.Calls(); len(calls) != 0 {
				t.Errorf("the platform was called %d times (first %+v); want no target started", len(calls), calls[0])
			}
			for id, tg := range e.targets(d.ID) {
				if tg.Status != target.TargetSkipped {
					t.Errorf("target %s is %s; want Skipped", id, tg.Status)
				}
			}
		})
	}
	t.Run("good", func(t *testing.T) {
		e := newEnv(t, 3, "CodeDeployDefault.OneAtATime", nil, func(o *deploy.Options) { o.Source = src })
		if d := e.deploy("good"); d.Status != deploy.StatusSucceeded {
			t.Errorf("deployment of a readable revision ended %s %+v", d.Status, d.ErrorInformation)
		}
	})
	t.Run("unreachable", func(t *testing.T) {
		down := errors.New("s3: connection refused")
		src.SetError(rev("later"), down)
		e := newEnv(t, 3, "CodeDeployDefault.OneAtATime", nil, func(o *deploy.Options) { o.Source = src })
		d := e.create("later")
		if _, err := e.exec.Run(e.ctx, d.ID); !errors.Is(err, down) {
			t.Fatalf("Run with an unreachable Source: %v; want its error", err)
		}
		if got := e.get(d.ID); got.Status != deploy.StatusCreated || len(e.fleet.Calls()) != 0 {
			t.Errorf("after a failed check the deployment is %s with %d platform calls; want Created, none", got.Status, len(e.fleet.Calls()))
		}
		src.SetError(rev("later"), nil)
		if _, err := src.PutFiles(rev("later"), map[string]string{"appspec.yml": "version: 0.0\nos: linux\n"}); err != nil {
			t.Fatal(err)
		}
		if got, err := e.exec.Resume(e.ctx, d.ID); err != nil || got.Status != deploy.StatusSucceeded {
			t.Errorf("Resume once the Source is back: %v, %v; want Succeeded", got.Status, err)
		}
	})
}

// TestCommonTargetCause: when every target that ran failed the same way,
// the deployment's message says how, before the health arithmetic.
func TestCommonTargetCause(t *testing.T) {
	const why = "bundle s3://releases/a.zip: access denied"
	e := newEnv(t, 4, "CodeDeployDefault.HalfAtATime", nil)
	e.fleet.Script("", target.DownloadBundle, targettest.Fail(target.CodeUnknownError, why))
	d := e.deploy("a")
	want := "all 4 targets that ran failed the same way: DownloadBundle failed (UnknownError): " + why + "; "
	if d.Status != deploy.StatusFailed || d.ErrorInformation.Code != plan.HealthConstraints || !strings.HasPrefix(d.ErrorInformation.Message, want) {
		t.Errorf("deployment ended %s %+v; want Failed, HEALTH_CONSTRAINTS, message starting %q", d.Status, d.ErrorInformation, want)
	}

	// Different causes, or a target that succeeded: only the arithmetic.
	e = newEnv(t, 4, "CodeDeployDefault.HalfAtATime", nil)
	e.fleet.Script("", target.DownloadBundle, targettest.Fail(target.CodeUnknownError, why))
	e.fleet.Script("i-001", target.DownloadBundle, targettest.Fail(target.CodeUnknownError, "disk full"))
	d = e.deploy("a")
	if d.Status != deploy.StatusFailed || strings.Contains(d.ErrorInformation.Message, "same way") {
		t.Errorf("deployment with two causes ended %s %+v; want Failed without a common cause", d.Status, d.ErrorInformation)
	}
}

// TestDeploymentErrorNamesItOnce: an error about a deployment names it
// once, also when the store's error names it too.
func TestDeploymentErrorNamesItOnce(t *testing.T) {
	e := newEnv(t, 1, "CodeDeployDefault.AllAtOnce", nil)
	_, err := e.exec.Resume(e.ctx, "d-NOPE")
	wantMessage(t, "Resume of an unknown deployment", err, "deploy: deployment d-NOPE: reading it: not found")
	if !errors.Is(err, deploy.ErrNotFound) {
		t.Errorf("Resume of an unknown deployment: %v; want ErrNotFound", err)
	}
}

// TestCreateDeploymentReportsEveryStoreFailure: when the targets cannot be
// stored and the deployment cannot be marked Failed either, both failures
// are reported, in one list, each reachable with errors.As.
func TestCreateDeploymentReportsEveryStoreFailure(t *testing.T) {
	e := newEnv(t, 2, "CodeDeployDefault.OneAtATime", nil)
	e.exec = e.newExecutor(deploytest.NewFaultStore(e.mem, deploytest.FaultOptions{Fail: func(w deploytest.Write) bool {
		return w.Op == deploytest.OpPutTargets || w.Op == deploytest.OpUpdateDeployment
	}}))
	_, err := e.exec.CreateDeployment(e.ctx, deploy.DeploymentInput{ApplicationName: "shop", GroupName: "prod", Revision: rev("a")})
	var list *multierror.Error
	if !errors.As(err, &list) || len(list.Errors) != 2 || !errors.Is(err, deploytest.ErrInjected) {
		t.Fatalf("CreateDeployment = %v; want a list of 2 failures matching ErrInjected", err)
	}
	var ops []string
	for _, e := range list.Errors {
		var de *deploy.DeploymentError
		if !errors.As(e, &de) {
			t.Fatalf("failure %v is not a *DeploymentError", e)
		}
		ops = append(ops, de.Op)
	}
	if !strings.HasPrefix(ops[0], "storing its 2 targets") || !strings.HasPrefix(ops[1], "marking it Failed") {
		t.Errorf("failures = %q; want storing the targets, then marking it Failed", ops)
	}
	if msg := err.Error(); !strings.HasPrefix(msg, "deploy: CreateDeployment: 2 failures:\n  deployment ") || strings.Count(msg, "deploy: ") != 1 {
		t.Errorf("message %q; want a heading and one line per failure, the package named once", msg)
	}
}

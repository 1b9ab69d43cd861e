// Package targettest provides in-memory implementations of package target's
// roles for testing code that deploys — an executor, a planner driven end to
// end, an example program — without hosts, agents or cloud accounts, and
// conformance suites that check an implementation of a role against the
// role's contract.
//
// # The fleet
//
// A [Fleet] is a set of Server targets that implements [target.Lister],
// [target.Installer] and [target.TrafficController]; [Fleet.Platform]
// assembles it into a [target.Platform]. Targets are added with their tags,
// zone and Auto Scaling group ([NewFleet], [Fleet.Add]), and may be added
// or removed while a deployment runs — an instance launched mid-deployment,
// for the outdated-instances feature, or one terminated under it.
//
// Every event succeeds unless scripted. [Fleet.Script] sets the [Outcome]
// of a target's event — [Succeed], [Fail] with a lifecycle error code (a
// failed hook, which is a result), or [Error] (the call could not run) —
// optionally for a limited number of calls ([Outcome.Once]). An empty target
// ID or event matches any, and the most specific outcome wins. An outcome
// may be scoped to one revision ([Outcome.OnRevision]) or one deployment
// ([Outcome.InDeployment]): "Install fails on v2 only" leaves the automatic
// rollback — a new deployment of the previous revision, on the same
// targets — to succeed. [Fleet.OnCallOutcome] installs a call hook that may
// decide a call's outcome itself, a failed event as well as an error.
//
// [Fleet.SetReachable] flips a target's health: an unreachable target
// (stopped, agent dead) fails every call with an error wrapping
// [target.ErrTargetUnavailable], including a call in flight when it flips.
// [Fleet.InService] follows BlockTraffic and AllowTraffic, and
// [Fleet.Installed] the revision of the last successful Install.
//
// # Latency without sleeping
//
// The fleet never sleeps. [Fleet.OnCall] installs a hook that every call
// runs while it is in flight; the hook decides how long the call takes, on
// whatever the test controls:
//
//   - a [Gate] holds calls until the test opens it;
//   - [Delay] waits a per-call duration on the test's fake clock, so
//     advancing the fake clock completes the calls;
//   - [Fleet.WaitCalls] and [Fleet.WaitRunning] block until the executor has
//     made, or is blocked in, a number of calls — the moment to advance the
//     clock or open a gate, with no race.
//
// # What was called
//
// [Fleet.Calls] lists every Installer and TrafficController call in the
// order they started, with target, event, deployment ID, revision and result;
// [Fleet.Events] is one target's events. [Fleet.MaxInFlight] returns the most
// targets a deployment had in flight at once (from a target's first call to
// its last), the number minimum healthy hosts bounds;
// [Fleet.MaxConcurrent] the most calls running at once. [Fleet.Violations]
// lists calls that broke a role contract — two calls on one target at once,
// an Installer asked to run a traffic event — and stays empty for a correct
// executor.
//
// # Other roles
//
// [Shifter] is a [target.TrafficShifter] over routes set with
// [Shifter.SetRoute], recording every shift. [Provisioner] adds blue/green
// replacements to a Fleet and removes terminated targets from it, and lists
// both ([Provisioner.Provisioned], [Provisioner.Terminated]). [Hooks] is
// a [target.HookInvoker] whose functions report scripted statuses. Each has a
// hook (OnShift, OnProvision, OnInvoke) for latency and failures.
//
// [Alarms] is a [target.AlarmSource] whose alarms are in the states the
// test sets ([Alarms.Set]), with a poll failure to switch on
// ([Alarms.SetError]).
//
// # Conformance suites
//
// [TestLister], [TestTrafficController], [TestProvisioner] and
// [TestAlarmSource] check that an implementation of a role keeps the
// contract its interface documents, as deploytest.TestStore does for
// stores. An implementation's test calls the suite with a harness
// constructor: a func(*testing.T) returning the implementation and what
// the suite needs to arrange and observe the world behind it, in terms any
// platform can supply — its own SDK client for an AWS adapter, the local
// fleet or proxy for the local ones:
//
//   - [ListerHarness]: Create targets with tags, in Auto Scaling groups;
//   - [TrafficHarness]: the load balancers, NewTarget (registered or not)
//     and Observe (which load balancers send a target traffic);
//   - [ProvisionerHarness]: NewRequest (an original fleet) and Exists;
//   - [AlarmHarness]: NewAlarm and SetState.
//
// For example, the test of an ELB TrafficController:
//
//	func TestConformance(t *testing.T) {
//		targettest.TestTrafficController(t, func(t *testing.T) targettest.TrafficHarness {
//			tc, lb := newControllerAndTargetGroups(t) // the adapter's own test set-up
//			return targettest.TrafficHarness{
//				Controller:   tc,
//				LoadBalancer: lb,
//				NewTarget:    func(ctx context.Context, registered bool) (target.Target, error) { ... }, // RunInstances, RegisterTargets
//				Observe:      func(ctx context.Context, t target.Target) ([]string, error) { ... },     // DescribeTargetHealth
//			}
//		})
//	}
//
// Each check is a subtest named after what it checks ("TagSet/EveryGroup",
// "BlockTraffic", "Context") and reports every violation it finds. The
// suites make few calls — tens per suite — so that they run against moto
// in seconds; names and tags they make carry a random token, so that
// tests sharing one server never see each other's resources. Calls made
// with a done context must return within [ReturnBound]. Where a role's
// documentation left a behaviour open (a second BlockTraffic, no alarm
// names), the suites check what CodeDeploy does, and the role's
// documentation now says so.
//
// Everything here is safe for concurrent use; run tests with -race.
package targettest

// Package deploytest is the test kit of package deploy: a conformance suite
// for Store implementations, a Store wrapper that injects write failures and
// crashes, an event recorder, a fake clock, and a one-call simulation of
// the executor on virtual time.
//
// # Conformance
//
// [TestStore] checks that a deploy.Store keeps the contract documented on
// deploy's store interfaces, leases and fencing included. A store plugs in
// with a function that makes a fresh, empty storage per check and returns
// an [Opener] of handles on it. A handle is what one process holds: the
// suite opens two on one storage to check that what one writes the other
// reads, and that the one-active-deployment rule, compare-and-swap, leases
// and fencing hold between them, as between executors on two machines.
//
//	func TestMyStore(t *testing.T) {
//		deploytest.TestStore(t, func(t *testing.T) deploytest.Opener {
//			dir := t.TempDir() // the storage
//			return func() deploy.Store {
//				s, err := mystore.Open(dir) // a new handle on it
//				if err != nil {
//					t.Fatal(err)
//				}
//				t.Cleanup(func() { s.Close() })
//				return s
//			}
//		})
//	}
//
// A store that lives in one process, like deploy.MemoryStore, is its own
// storage: its Opener returns the store itself every time.
//
// Every check runs as its own subtest on a fresh storage and reports every
// violation it finds. Records are compared field by field by reflection, so
// fields added to the model later are covered without changing the suite;
// times compare as instants, and empty slices and maps equal nil. Lease
// times are fixed instants the suite passes in: no check waits.
//
// A store that implements deploy's optional store interfaces
// (deploy.TargetUpdaterAt, deploy.InstanceBatchGetter)
// has them checked too (the "Optional/…" checks): each must give the
// results of the Store methods it stands for, and the store's fenced views
// must implement it as well, fenced the same way.
//
// A FaultStore implements none of them, so the Executor makes every write
// through the FaultStore's Store methods, where it counts and fails them.
//
// # Fault injection
//
// [FaultStore] wraps any deploy.Store. [FaultOptions] choose which writes
// fail ([AfterWrites], [NthWrite], [OnOp] or any predicate over a [Write])
// and with which error. A failed write never reaches the inner store. In
// crash mode the first failed write kills the store: every later call
// fails with [ErrCrashed] and [FaultStore.Done] is closed, which is how a
// test stops a run "after the k-th store write" and then resumes on the
// inner store with a fresh executor.
//
// # Recording events
//
// [Recorder] is a deploy.Observer and a deploy.Notifier: pass it as
// Options.Observer and in Options.Notifiers, run a deployment, then read
// what happened ([Recorder.Events], [Recorder.Statuses],
// [Recorder.TargetStatuses], [Recorder.Triggers]). [Recorder.Wait] blocks
// until a condition over the recorded events holds — a deployment reaching
// Ready, a target starting — so a test can act at that moment without
// sleeping.
//
// # Simulation
//
// [Simulate] runs a [Scenario] — a deployment group, a scripted fleet with
// per-target durations and outcomes, revisions to deploy one after
// another, alarm changes and stop requests at virtual times — through the
// real deploy.Executor, following its automatic rollbacks, and returns a
// [Timeline]: every transition at its virtual time, in-flight and healthy
// counts over time, the deployments created, and the rules of package
// deploy/plan each broke (checked with plantest.Violations). It runs in a
// testing/synctest bubble, so it takes the test's *testing.T, must not be
// called inside another bubble, and a day of bakes takes a fraction of a
// second; the same scenario gives an equal Timeline every time.
//
//	func TestRollbackOnSmokeTestFailure(t *testing.T) {
//		tl, err := deploytest.Simulate(t, deploytest.Scenario{
//			Group: deploy.Group{DeploymentConfigName: "CodeDeployDefault.OneAtATime",
//				AutoRollbackConfiguration: deploy.AutoRollbackConfiguration{Enabled: true,
//					Events: []deploy.AutoRollbackEvent{deploy.AutoRollbackDeploymentFailure}}},
//			Fleet:     fleet, // []deploytest.SimTarget, each with a Duration
//			Revisions: []revision.Location{v1, v2},
//			Scripts: []deploytest.Script{{Target: "web-2", Event: target.AfterInstall,
//				Outcome: targettest.Fail(target.CodeScriptFailed, "smoke test").OnRevision(v2)}},
//		})
//		if err != nil {
//			t.Fatal(err)
//		}
//		// tl.Deployments: v1 Succeeded, v2 Failed, its rollback Succeeded;
//		// tl.Violations is empty.
//	}
//
// A benchmark has no *testing.T: it runs Simulate in a test with
// testing.RunTests (see BenchmarkSimulateDayOfBakes in this package's
// tests).
//
// # Clock
//
// [FakeClock] is clock.Fake under a name next to the other fakes; see
// package deploy/clock for the block-then-advance pattern that keeps tests
// free of sleeps.
package deploytest

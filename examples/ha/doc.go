// Command ha runs several executor processes on one shared store, for
// real, kills the one driving a deployment half-way, and checks that
// another takes it over and finishes it as the CodeDeploy rules say.
//
//	go run ./examples/ha [-endpoint URL] [-dir DIR] [-instances 30] [-executors 3]
//	                     [-lease-ttl 2s] [-supervise 500ms] [-hook 100ms] [-v]
//
// It prints what happens and one "[ok]" or "[MISMATCH]" line per check, and
// exits 1 on a mismatch. It takes some 15 seconds on two cores. It runs on
// Linux only (see "Hooks die with their executor").
//
// # The set-up
//
//   - DynamoDB is moto (python3 -m moto.server, which it starts on a free
//     loopback port in a process group of its own and stops at the end; pip
//     install 'moto[server]==5.2.1'), or the moto server at -endpoint.
//     Every process reaches it through one proxy in the example that lets a
//     single request through at a time: moto 5.2.1 serves requests on
//     threads without locks, so that two conditional writes arriving
//     together — two supervisors' AcquireLease of one expired lease — could
//     both pass their condition, which DynamoDB never allows.
//   - The store is deploy/dynamostore on a new table (dynamostore.CreateTable).
//   - The fleet is target/localtarget: 30 instances, directories under the
//     work directory, which every process opens (a Fleet over the same
//     directories continues where another left off).
//   - The group deploys with CodeDeployDefault.HalfAtATime: 15 of 30 must
//     stay healthy. The example first deploys v1 through its own executor,
//     so that every instance is Healthy (instances that never had a
//     revision are Unhealthy, and taking them offline would not count
//     against the minimum). v2 is the deployment the executors share.
//   - Every hook of the revisions is a script that execs this program as
//     a hook, which appends its run to a shared log and works (sleeps) for
//     -hook: "<executor-pid> <instance> <event> <start-unixnano> -
//     <hook-pid>" when it starts and the same line with its end in place of
//     "-" when it ends, each one write to a file opened with O_APPEND. A run
//     with no end line was cut short.
//
// # The executor processes
//
// The example starts -executors processes, this program again in its
// executor role, each with its own ExecutorID (ha-1, ha-2, …), Options.LeaseTTL
// -lease-ttl, and Options.RecordInterval -1 (every transition is written when
// it happens, so that only the events in flight at a crash run again); each
// runs Executor.Supervise with Interval -supervise until SIGTERM. Their logs
// go to the example's stderr, prefixed with their ID.
//
// The first owner: a Created deployment has never been leased, and
// Supervise resumes only deployments whose lease expired (LeaseStore.ExpiredLeases
// lists leased ones only), so the process that creates a deployment starts
// it. The example creates v2's deployment with its own executor and hands it
// to ha-1 — "run <id>" on ha-1's standard input — which calls Run. From then
// on the deployment is leased.
//
// Once the first instance has finished, the example reads the lease
// (GetLease: its Owner is an ExecutorID, which names a process) and kills
// that process with SIGKILL; right after, before anyone may take the lease
// over, it reads the target records as stored at the kill. A supervisor of
// another process finds the lease expired and resumes the deployment.
// Failover takes about LeaseTTL (less the time since the last renewal, which
// is at most a third of it) plus up to one supervise interval, plus the
// supervisor's calls to the store.
//
// # Hooks die with their executor
//
// The agent starts every hook with SIGKILL as its parent-death signal (see
// target/localtarget), so a killed executor's hooks die with it rather than
// run on beside the new owner's run of the same event. The example's own
// children (moto and the executors) are started the same way, so that
// nothing outlives the example however it ends.
//
// # The checks
//
//   - The killed executor died of SIGKILL, and the hooks it was running
//     (runs with no end line) died with it: none is left, and none went on
//     to log its end after the executor's death.
//   - Another process took the lease over, with the next fencing token,
//     within LeaseTTL + supervise interval + 500 ms of the kill (the margin
//     is for the supervisor's ExpiredLeases and AcquireLease through moto on
//     a busy machine), and not before the killed one's lease had expired.
//     The takeover time is the new lease's expiry less the TTL: when it was
//     taken, on the taker's clock.
//   - The deployment Succeeded, every instance Succeeded, and the new owner's
//     Resume returned it.
//   - Every hook event of every instance ran to its end and is stored
//     Succeeded.
//   - No event whose outcome was stored at the kill ran again (nor ran only
//     after the kill); an event that ran twice was in flight at the kill —
//     its outcome not yet stored — with its earlier run by the killed
//     executor and its last by another.
//   - No two hook runs overlapped on one instance, in one process or across
//     processes (a run cut short lasts until it was seen dead).
//   - Healthy instances never fell below the minimum across the processes:
//     an instance is offline from the start of its first hook to the end of
//     its last, and at most 15 of 30 were offline at once.
//   - At the end the remaining executors stop on SIGTERM (Supervise ends with
//     its context) with exit code 0, no executor or hook process is left,
//     and moto's process group is gone.
//
// All waiting for the other processes is polling — of the hook log, the
// lease or the deployment — on a ticker, with a generous deadline that
// only ends a run that went wrong.
package main

// Command lambda runs fleetdeploy's Lambda deployments on AWS Lambda —
// an alias moved from one function version to the next, canary first —
// with the library's Lambda adapter, against moto (a Python emulator of
// the AWS APIs) instead of an AWS account. Its hook functions report
// their verdicts the way they do under CodeDeploy: with the AWS SDK's
// CodeDeploy client, calling PutLifecycleEventHookExecutionStatus, here on
// an endpoint that package deploy/codedeployapi serves. Every outcome is
// checked against CodeDeploy's rules.
//
// # Usage
//
//	go run ./examples/lambda                 # starts moto on a free port, stops it at the end
//	go run ./examples/lambda -endpoint URL   # uses the moto server at URL (left running)
//	go run ./examples/lambda -v              # debug logs of the executor, the adapter and the endpoint
//
// moto 5.2.1 must be installed for python3 (pip install
// 'moto[server]==5.2.1') unless -endpoint names a running server (or
// FLEETDEPLOY_AWS_ENDPOINT does, as for the adapters' tests). A run takes
// some 5–10 seconds. It prints what happens and one "[ok]" or
// "[MISMATCH]" line per check, and exits 0 when every outcome is as the
// rules predict, 1 on a mismatch or when the run could not finish, 2 for
// a bad command line. CI runs it as a smoke test: go run ./examples/lambda
// >/dev/null.
//
// # The set-up
//
// In moto (with Lambda's use_docker off, so that Invoke runs no code, and
// an IAM execution role, which its Lambda requires): function
// checkout-<suffix> with versions 1, 2 and 3 — each version's description
// says what it is, and version 3's says it is broken — and alias live on
// version 1; two hook functions, checkout-preflight-<suffix>
// (BeforeAllowTraffic) and checkout-smoke-<suffix> (AfterAllowTraffic),
// whose Python code shows what they would do on Lambda. The random suffix
// keeps runs against one long-lived server apart.
//
// In the program: one deploy.Executor on a deploy.MemoryStore, group
// checkout on CodeDeployDefault.LambdaCanary10Percent5Minutes with
// automatic rollback on failure, whose platform is target/lambdatarget's
// Shifter (the alias' weighted routing) and HookInvoker (asynchronous
// invocations of the hook functions, and the wait for their reports);
// and a deploy/codedeployapi Handler over the executor, on a loopback
// port, whose Authenticate lets in only requests SigV4-signed with the
// hook functions' access key (it checks the Authorization header's
// credential; a real application would verify the signature).
//
// Since moto runs no code, the program plays the hook functions: their
// Lambda client is wrapped, and once moto has accepted an invocation of
// one, a goroutine reads the event ({"DeploymentId",
// "LifecycleEventHookExecutionId"}), validates against moto, and reports
// with a codedeploy.Client whose BaseEndpoint is the handler's URL.
// preflight checks that the alias still sends all its traffic to one
// version; smoke, that all traffic is on one version and that version is
// healthy (its description, standing for a request moto cannot serve,
// does not say BROKEN). The Shifter's client is wrapped too, to read the
// alias back from moto after each of its updates.
//
// The executor and the adapters wait on a clock that runs 300 times
// faster than real time, so that the canary's five minutes take a second.
//
// # The story
//
//  1. Version 1 → 2: the preflight hook passes; the alias routes 10% to
//     version 2 (AdditionalVersionWeights), then five minutes (on the fast
//     clock) after AllowTraffic began points at version 2 with no
//     routing; the smoke hook passes. The deployment succeeds.
//  2. The endpoint refuses what CodeDeploy refuses: a second report for
//     a hook execution that reported (LifecycleEventAlreadyCompletedException)
//     and a report signed with another access key (AccessDeniedException).
//  3. Version 2 → 3: the same shifts, but the smoke hook finds version 3
//     broken and reports Failed; the deployment fails with
//     HOOK_EXECUTION_FAILURE, and its automatic rollback moves all
//     traffic back to version 2 in one update.
package main

// Canary shows fleetdeploy shifting live traffic the way AWS CodeDeploy
// shifts a Lambda alias: a linear deployment that moves every request to
// a new version, then a canary of a broken version whose errors trip an
// alarm, stop the deployment and roll it back automatically — with real
// HTTP requests flowing through a real local proxy the whole time, and no
// AWS account.
//
// # Usage
//
//	go run ./examples/canary              # about 20 seconds: 1 virtual minute = 2s
//	go run ./examples/canary -minute 500ms # the same story in about 5 seconds
//	go run ./examples/canary -rate 500    # more requests per second (20–2000)
//	go run ./examples/canary -v           # the executor's debug logs on stderr
//
// -minute must be 100ms to 1m, and -rate × -minute at least 150 requests
// per virtual minute: fewer would leave the steps too thin to judge, and
// the canary's 10% too thin for the alarm's one-minute window to fill
// reliably. Without -rate the rate follows -minute: 200 requests per
// second, or the 150 per virtual minute when -minute is shorter than
// 750ms (300 at -minute 500ms, 1500 at 100ms). Every server listens on
// 127.0.0.1 only, on a port the system picks, and everything stops by
// itself at the end. The exit code is 0 when every outcome is what the
// rules predict (CodeDeploy's, and fleetdeploy's where AWS is silent); 1
// when one is not (each mismatch is printed as [MISMATCH], and listed
// again on stderr) or the run could not finish (interrupted, for one); 2
// for a bad command line. CI can run it as a smoke test:
//
//	go run ./examples/canary -minute 500ms >/dev/null
//
// # The setup
//
// The service "shop" has three versions, each a small HTTP server on
// loopback playing a Lambda function version: v1 (version 1, live at the
// start), v2 (a good release) and v3 (a broken one: 3 of every 5 requests
// to / answer 500, while its /health is fine — the kind of bug a health
// check does not see). In front of them, a [localtraffic.Proxy] plays the
// alias shop:live, a versioned route that sends each request to one
// version of its split. A load generator sends it a steady stream of GET
// requests (-rate per second at most, from 16 workers), in real time,
// from start to end.
//
// The application "shop" (compute platform Lambda) has one deployment
// group, "live", with:
//
//   - alarmConfiguration enabled with one alarm, shop-live-5xx: a
//     [localtraffic.ErrorRateAlarm] on the alias that is in ALARM while
//     more than 10% of the requests sent to the new version (the
//     replacement of the split at the time of reading) over the last
//     minute were 5xx, judged from 5 requests on;
//   - autoRollbackConfiguration enabled for DEPLOYMENT_FAILURE and
//     DEPLOYMENT_STOP_ON_ALARM.
//
// A revision is an inline AppSpec (User Guide, "AppSpec 'resources' section
// (Amazon ECS and AWS Lambda deployments only)") naming the function, the
// alias, CurrentVersion and TargetVersion, and two hooks: shopPreTraffic
// (BeforeAllowTraffic), which calls the new version's /health directly,
// before it gets any traffic, and shopPostTraffic (AfterAllowTraffic), which
// checks that requests through the fully shifted alias are answered by the
// new version. Hooks are Go functions in this process, behind the platform's
// [target.HookInvoker]; they report Succeeded or Failed (User Guide,
// "AppSpec 'hooks' section"). The executor ([deploy.Executor]) reads the
// AppSpecs through [revision.ContentSource], keeps its state in a
// [deploy.MemoryStore], and polls the alarm every 15 seconds.
//
// # Time
//
// The deployment configurations are CodeDeploy custom configurations, in
// CodeDeploy's units — whole minutes:
//
//   - ShopLinear25PercentEvery1Minute: TimeBasedLinear, 25% every minute
//     (25, 50, 75 and 100% at 0, 1, 2 and 3 minutes; when the last shift
//     comes is fleetdeploy's decision, see package config);
//   - ShopCanary10Percent2Minutes: TimeBasedCanary, 10%, then the rest
//     after 2 minutes.
//
// Nothing about them is shortened. Instead the executor, the proxy's
// sliding windows and the alarm all read a scaled clock: a
// [clock.Clock] on which one virtual minute takes -minute of real time
// (2 seconds by default), exactly — virtual time advances a fixed multiple
// of real time, and a timer of d fires once d of virtual time has passed,
// never earlier. The requests, on the other hand, are real and flow in
// real time: at -minute 2s and 200 requests/s, each virtual minute carries
// 400 of them. The times printed in brackets are virtual, since the start.
//
// # The story
//
//  1. Before: for a minute, v1 answers everything.
//  2. (a) v2 goes out with ShopLinear25PercentEvery1Minute. After
//     BeforeAllowTraffic, the alias moves to 25, 50, 75 and 100% on v2,
//     one minute apart; AfterAllowTraffic runs after the last shift and the
//     deployment succeeds. For a minute afterwards, v2 answers everything.
//  3. (b) v3 goes out with ShopCanary10Percent2Minutes. Its health check
//     passes, and 10% of the traffic moves to it; its 500s push the alarm
//     to ALARM within seconds of virtual time, the executor's next poll
//     stops the deployment (Stopped, ALARM_ACTIVE; User Guide, "Monitoring
//     deployments with CloudWatch alarms in CodeDeploy"), and
//     with DEPLOYMENT_STOP_ON_ALARM the executor creates and runs the
//     rollback: a new deployment, creator codeDeployRollback, of the
//     group's last successful revision — (a)'s AppSpec — linked both ways
//     through rollbackInfo (User Guide, "Redeploy and roll back a
//     deployment with CodeDeploy"). It ends with all the traffic on v2, and
//     for a minute afterwards v2 answers everything again.
//
// # The output
//
// A line per event, stamped with the virtual time: each deployment's
// creation and status changes, each hook and what it saw, each shift, and
// each change of the alarm's state as the executor's polls see it (with
// the requests and errors behind it). After every shift comes what the
// step actually carried, from the proxy's counts: "v1 49.6% / v2 50.4%
// of 400 requests, 0 errors". The windows are exact: at each shift the
// example waits for the requests in flight to finish before and after
// reading the counts, so a step's window holds only requests sent under
// its split (the few milliseconds around the shift itself are left out).
//
// Then each outcome the rules predict is checked and printed as [ok] or
// [MISMATCH]: statuses and error codes; the shifts' weights in order, and
// each no earlier than its offset in the schedule; the observed share of
// each step within 4.5 binomial standard deviations of its weight (exact
// at 0 and 100%); the hooks' order; the alias's split at the end; the
// rollback's links and revision; the group's target revision; and, for
// the quiet minutes, that one version answered every request without
// errors. At the end: the deployments in a table, and the load's totals.
//
// The rollback is a new deployment of the last successful revision
// ("Redeploy and roll back a deployment with CodeDeploy") that moves all of
// the alias's traffic straight back to v2 in one shift — CodeDeploy's ECS
// rollback behaviour, which fleetdeploy applies to Lambda too (see "Where
// fleetdeploy decides" in package fleetdeploy) — so no request reaches v1 or
// v3 once it starts.
package main

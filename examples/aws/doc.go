// Command aws runs fleetdeploy's Server deployments on AWS — EC2 instances
// and an Auto Scaling group behind an Application Load Balancer, a
// revision in a versioned S3 bucket, a CloudWatch alarm, SNS triggers —
// with the library's AWS adapters, against moto (a Python emulator of the
// AWS APIs) instead of an AWS account, and checks every outcome against
// CodeDeploy's rules.
//
// # Usage
//
//	go run ./examples/aws                   # starts moto on a free port, stops it at the end
//	go run ./examples/aws -endpoint URL     # uses the moto server at URL (left running)
//	go run ./examples/aws -dir /tmp/aws     # keeps the local instances there to look at afterwards
//	go run ./examples/aws -v                # debug logs of the executor, the adapters and the agents
//
// moto 5.2.1 must be installed for python3 (pip install
// 'moto[server]==5.2.1') unless -endpoint names a running server (or
// FLEETDEPLOY_AWS_ENDPOINT does, as for the adapters' tests). A run takes
// some 10–20 seconds. It prints what happens and one "[ok]" or
// "[MISMATCH]" line per check, and exits 0 when every outcome is as the
// rules predict, 1 on a mismatch or when the run could not finish, 2 for
// a bad command line. CI runs it as a smoke test: go run ./examples/aws
// >/dev/null.
//
// # The set-up
//
// In moto: a VPC with a subnet in each of three Availability Zones; six
// EC2 instances tagged app=shop-<suffix>, registered with target group
// shop-web of an Application Load Balancer; a launch template and an Auto
// Scaling group of three instances attached to target group shop-bg; a
// versioned S3 bucket holding v1 and v2 of the bundle under one key, each
// its own object version; a CloudWatch metric alarm (state OK); an SNS
// topic with an SQS queue subscribed to it. Every name carries a random
// suffix, so that runs against one long-lived server do not meet.
//
// In the program: one deploy.Executor on a deploy.MemoryStore, whose
// platform is made of the adapters —
//
//   - Lister: target/ec2target's Lister (EC2 tag filters, Auto Scaling
//     groups);
//   - Provisioner: target/ec2target's Provisioner (COPY_AUTO_SCALING_GROUP);
//   - TrafficController: target/elbtarget (ELBv2 target groups);
//   - AlarmSource: target/cloudwatchalarm;
//   - revision source: revision/s3revision, for the executor and the agents;
//   - notifier: deploy/snsnotify;
//
// and whose Installer is a target/localtarget fleet: a local instance — a
// directory with an agent that unpacks the bundle and runs its hooks as
// real processes — for each EC2 instance, named by its instance ID. An
// instance the Lister or the Provisioner reports that the fleet does not
// know (one an Auto Scaling group launched) gets its local instance on its
// first lifecycle event, as an instance launched from an image with the
// CodeDeploy agent would.
//
// The SDK clients of the Provisioner and the TrafficController are wrapped
// so that the story can print and check what they did: the target group
// registrations and deregistrations, the Auto Scaling groups created and
// deleted, the instances terminated.
//
// The executor and the adapters wait on a clock that runs 60 times faster
// than real time, so that the blue/green termination wait of one minute —
// CodeDeploy counts it in whole minutes — takes a second. Everything else
// (moto's answers, the hooks) takes real time.
//
// # The story
//
//  1. In place, CodeDeployDefault.HalfAtATime, behind target group
//     shop-web: v1 goes to the six instances, three at a time. Each is
//     deregistered (BlockTraffic) before its Install and registered again
//     (AllowTraffic) after its ValidateService — when its Install starts,
//     moto's DescribeTargetHealth does not list it —; the target group
//     never holds fewer than three, and at the end DescribeTargetHealth
//     reports all six healthy.
//  2. Blue/green with COPY_AUTO_SCALING_GROUP on group web-bg: the
//     Provisioner copies the Auto Scaling group as
//     CodeDeploy_web-bg_<deployment ID>, v1 is installed on its new
//     instances, they are registered with shop-bg and the originals
//     deregistered; a minute later (on the fast clock) the original group
//     is deleted with its instances, and the deployment group selects the
//     copy from then on.
//  3. v2 goes to group web, whose alarm is configured with automatic
//     rollback on DEPLOYMENT_STOP_ON_ALARM. v2's ValidateService takes a
//     second; on the first instance to run it, the agent sets the alarm to
//     ALARM (SetAlarmState), as 5xx errors would. The executor's next poll
//     stops the deployment with ALARM_ACTIVE, and its automatic rollback
//     redeploys v1 — the S3 object version of the last successful
//     revision — to every instance.
//  4. Each group's triggers (DeploymentStart, Success, Failure, Stop and
//     Rollback, one trigger each) publish to the SNS topic; the story
//     reads them back from the SQS queue after every deployment, prints a
//     line each, and checks which events each deployment sent.
//
// # Afterwards
//
// With -dir DIR, DIR/instances/<instance ID> is each local instance:
// var/www/index.html (the page), var/run/app/version (what it runs),
// var/log/app.log (every hook run, with its deployment and S3 object
// version) and deployment-root/ (the agent's state and logs).
package main

package main

import (
	"bufio"
	"context"
	"fmt"
	"log"
	"net/http"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancing"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/fleetdeploy/fleetdeploy/deploy"
	"github.com/fleetdeploy/fleetdeploy/deploy/dynamostore"
	"github.com/fleetdeploy/fleetdeploy/deploy/eventbridgenotify"
	"github.com/fleetdeploy/fleetdeploy/deploy/snsnotify"
	"github.com/fleetdeploy/fleetdeploy/internal/motoserver"
	"github.com/fleetdeploy/fleetdeploy/revision"
	"github.com/fleetdeploy/fleetdeploy/revision/githubrevision"
	"github.com/fleetdeploy/fleetdeploy/revision/s3revision"
	"github.com/fleetdeploy/fleetdeploy/target"
	"github.com/fleetdeploy/fleetdeploy/target/cloudwatchalarm"
	"github.com/fleetdeploy/fleetdeploy/target/ec2target"
	"github.com/fleetdeploy/fleetdeploy/target/elbtarget"
	"github.com/fleetdeploy/fleetdeploy/target/localtarget"
)

// wireOnAWS is the README's section "On AWS", as code: every Go block of
// that section is a part of this function, line for line
// (TestREADMEOnAWS checks it), so that the README's wiring compiles
// against the adapters' real APIs. cfg is an aws.Config
// (config.LoadDefaultConfig in a program); agent is the Installer.
func wireOnAWS(ctx context.Context, cfg aws.Config, agent target.Installer) (*deploy.Executor, error) {
	// Lister and Provisioner: EC2 tags, Auto Scaling groups, COPY_AUTO_SCALING_GROUP.
	ec2c, asc := ec2.NewFromConfig(cfg), autoscaling.NewFromConfig(cfg)
	lister, err := ec2target.NewLister(ec2c, asc)
	if err != nil {
		return nil, err
	}
	prov, err := ec2target.NewProvisioner(ec2c, asc)
	if err != nil {
		return nil, err
	}

	// TrafficController: the target groups and Classic Load Balancers of the group's LoadBalancerInfo.
	lb, err := elbtarget.New(elasticloadbalancingv2.NewFromConfig(cfg), elasticloadbalancing.NewFromConfig(cfg))
	if err != nil {
		return nil, err
	}
	platform := target.Platform{Lister: lister, Provisioner: prov, TrafficController: lb, Installer: agent}

	// AlarmSource: the CloudWatch alarms of the group's AlarmConfiguration.
	alarms, err := cloudwatchalarm.New(cloudwatch.NewFromConfig(cfg))
	if err != nil {
		return nil, err
	}

	// Revisions: S3 objects (versioned or not) and GitHub commits.
	s3src, err := s3revision.New(s3.NewFromConfig(cfg))
	if err != nil {
		return nil, err
	}
	github, err := githubrevision.New(http.DefaultClient, func(o *githubrevision.Options) {
		o.Token = os.Getenv("GITHUB_TOKEN") // optional for public repositories
	})
	if err != nil {
		return nil, err
	}
	src := revision.Mux{revision.LocationS3: s3src, revision.LocationGitHub: github}

	// Notifiers: the group's triggers, to SNS topics and EventBridge.
	topics, err := snsnotify.New(sns.NewFromConfig(cfg))
	if err != nil {
		return nil, err
	}
	events, err := eventbridgenotify.New(eventbridge.NewFromConfig(cfg))
	if err != nil {
		return nil, err
	}

	// The store all executors share: one DynamoDB table.
	db := dynamodb.NewFromConfig(cfg)
	err = dynamostore.CreateTable(ctx, db, "fleetdeploy") // once; or with Terraform, see the package doc
	if err != nil {
		return nil, err
	}
	store, err := dynamostore.New(db, "fleetdeploy")
	if err != nil {
		return nil, err
	}

	x, err := deploy.New(store, platform, func(o *deploy.Options) {
		o.AlarmSource = alarms
		o.Source = src // the executor reads the AppSpec once before any instance starts
		o.Notifiers = []deploy.Notifier{topics, events}
	})
	return x, err
}

// The README's wiring builds an executor (here against moto; with an AWS
// account, cfg comes from config.LoadDefaultConfig) whose platform has
// every role a Server blue/green deployment behind a load balancer needs.
func Example_wireOnAWS() {
	url, err := motoserver.Start()
	if err != nil {
		log.Fatal(err)
	}
	defer motoserver.Stop()
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "fleetdeploy-readme-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	agent, err := localtarget.New(dir, revision.Mux{}) // the Installer: here local instances
	if err != nil {
		log.Fatal(err)
	}
	x, err := wireOnAWS(ctx, motoserver.ConfigFor(url), agent)
	fmt.Println(x != nil, err)
	// Output:
	// true <nil>
}

// TestREADMEOnAWS: every Go block of README.md's section "On AWS" is a
// run of lines of wireOnAWS, so that the README shows code that compiles.
func TestREADMEOnAWS(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(readme), "\n## On AWS\n")
	if !ok {
		t.Fatal(`README.md has no section "## On AWS"`)
	}
	section, _, _ = strings.Cut(section, "\n## ")
	src, err := os.ReadFile("readme_test.go")
	if err != nil {
		t.Fatal(err)
	}
	_, body, _ := strings.Cut(string(src), "func wireOnAWS(")
	body, _, _ = strings.Cut(body, "\n}\n")
	code := trimmedLines(body)
	blocks := 0
	for _, part := range strings.Split(section, "```go\n")[1:] {
		block, _, _ := strings.Cut(part, "```")
		blocks++
		lines := trimmedLines(block)
		if len(lines) == 0 {
			continue
		}
		found := false
		for i := range code {
			if i+len(lines) <= len(code) && slices.Equal(code[i:i+len(lines)], lines) {
				found = true
				break
			}
		}
		if !found {
			t.Errorf("README.md's block\n%s\nis not a run of lines of wireOnAWS in readme_test.go; change one to match the other", block)
		}
	}
	if blocks < 5 {
		t.Errorf("README.md's section On AWS has %d Go blocks; want one per role (5 or more)", blocks)
	}
}

// trimmedLines returns the lines of s with their indentation removed,
// leaving out empty lines and error checks (which the README omits).
func trimmedLines(s string) []string {
	var out []string
	sc := bufio.NewScanner(strings.NewReader(s))
	skip := 0
	for sc.Scan() {
		l := strings.TrimSpace(sc.Text())
		switch {
		case skip > 0:
			skip--
		case l == "":
		case strings.HasPrefix(l, "if err != nil {"):
			skip = 2 // its return and its closing brace
		default:
			out = append(out, l)
		}
	}
	return out
}

package ec2target_test

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/fleetdeploy/fleetdeploy/internal/motoserver"
	"github.com/fleetdeploy/fleetdeploy/target"
	"github.com/fleetdeploy/fleetdeploy/target/ec2target"
)

// A deployment group selects the instances tagged app=<name> and
// tier=web or tier=api (a tag set); the stopped one is listed, marked
// Unavailable. Here the clients talk to moto; with an AWS account, use
// config.LoadDefaultConfig instead.
func ExampleLister_ListTargets() {
	url, err := motoserver.Start()
	if err != nil {
		fmt.Println(err)
		return
	}
	cfg := motoserver.ConfigFor(url)
	ctx := context.Background()
	ec2c := ec2.NewFromConfig(cfg)
	app := fmt.Sprintf("example-%p", &url) // unique on a shared server
	launch := func(tier string) string {
		out, err := ec2c.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: aws.String(image), MinCount: aws.Int32(1), MaxCount: aws.Int32(1),
			Placement: &ec2types.Placement{AvailabilityZone: aws.String("us-east-1a")},
			TagSpecifications: []ec2types.TagSpecification{{ResourceType: ec2types.ResourceTypeInstance, Tags: []ec2types.Tag{
				{Key: aws.String("app"), Value: aws.String(app)}, {Key: aws.String("tier"), Value: aws.String(tier)}}}}})
		if err != nil {
			panic(err)
		}
		return aws.ToString(out.Instances[0].InstanceId)
	}
	names := map[string]string{launch("web"): "web", launch("db"): "db"}
	stopped := launch("api")
	names[stopped] = "api (stopped)"
	if _, err := ec2c.StopInstances(ctx, &ec2.StopInstancesInput{InstanceIds: []string{stopped}}); err != nil {
		panic(err)
	}

	lister, err := ec2target.NewLister(ec2c, autoscaling.NewFromConfig(cfg))
	if err != nil {
		panic(err)
	}
	targets, err := lister.ListTargets(ctx, target.Selector{EC2TagSet: target.EC2TagSet{List: [][]target.TagFilter{
		{{Key: "app", Value: app, Type: target.KeyAndValue}},
		{{Key: "tier", Value: "web", Type: target.KeyAndValue}, {Key: "tier", Value: "api", Type: target.KeyAndValue}},
	}}})
	if err != nil {
		panic(err)
	}
	for _, t := range targets {
		fmt.Printf("%s in %s, unavailable: %v\n", names[t.ID], t.Zone, t.Unavailable)
	}
	// Unordered output:
	// web in us-east-1a, unavailable: false
	// api (stopped) in us-east-1a, unavailable: true
}

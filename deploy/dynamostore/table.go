package dynamostore

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/fleetdeploy/fleetdeploy/deploy/clock"
)

// TableAPI is the part of the DynamoDB client CreateTable uses.
type TableAPI interface {
	CreateTable(ctx context.Context, in *dynamodb.CreateTableInput, optFns ...func(*dynamodb.Options)) (*dynamodb.CreateTableOutput, error)
	DescribeTable(ctx context.Context, in *dynamodb.DescribeTableInput, optFns ...func(*dynamodb.Options)) (*dynamodb.DescribeTableOutput, error)
}

// tablePoll is how often CreateTable asks whether the table is ACTIVE.
const tablePoll = time.Second

// CreateTable creates the store's table — the key schema, indexes and
// billing mode (PAY_PER_REQUEST) the package documentation describes —
// and waits until it is ACTIVE, polling DescribeTable every second on
// Options.Clock (the only option it uses). A table that exists already
// with the right schema is not an error; one with another schema is.
func CreateTable(ctx context.Context, client TableAPI, table string, opts ...func(*Options)) error {
	o, err := resolve(opts)
	if err != nil {
		return err
	}
	_, err = client.CreateTable(ctx, tableInput(table))
	var inUse *types.ResourceInUseException
	if err != nil && !errors.As(err, &inUse) {
		return fmt.Errorf("dynamostore: creating table %q: %w", table, err)
	}
	for {
		out, err := client.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: &table})
		if err != nil {
			return fmt.Errorf("dynamostore: waiting for table %q: %w", table, err)
		}
		if err := checkSchema(table, out.Table); err != nil {
			return err
		}
		if out.Table.TableStatus == types.TableStatusActive {
			return nil
		}
		if err := clock.Sleep(ctx, o.Clock, tablePoll); err != nil {
			return fmt.Errorf("dynamostore: waiting for table %q to become ACTIVE (it is %s): %w", table, out.Table.TableStatus, err)
		}
	}
}

// tableInput is the CreateTable request of the store's schema.
func tableInput(table string) *dynamodb.CreateTableInput {
	attr := func(name string) types.AttributeDefinition {
		return types.AttributeDefinition{AttributeName: aws.String(name), AttributeType: types.ScalarAttributeTypeS}
	}
	keys := func(hash, rng string) []types.KeySchemaElement {
		return []types.KeySchemaElement{
			{AttributeName: aws.String(hash), KeyType: types.KeyTypeHash},
			{AttributeName: aws.String(rng), KeyType: types.KeyTypeRange},
		}
	}
	return &dynamodb.CreateTableInput{
		TableName:            aws.String(table),
		BillingMode:          types.BillingModePayPerRequest,
		AttributeDefinitions: []types.AttributeDefinition{attr(aPK), attr(aSK), attr(aActive), attr(aExpIdx)},
		KeySchema:            keys(aPK, aSK),
		GlobalSecondaryIndexes: []types.GlobalSecondaryIndex{{
			IndexName: aws.String(indexLease),
			KeySchema: keys(aActive, aExpIdx),
			Projection: &types.Projection{
				ProjectionType:   types.ProjectionTypeInclude,
				NonKeyAttributes: []string{aOwner, aToken, aExpires},
			},
		}},
	}
}

// checkSchema returns an error naming the table and what is wrong unless
// its keys and indexes are the store's.
func checkSchema(table string, d *types.TableDescription) error {
	if d == nil {
		return fmt.Errorf("dynamostore: table %q: DescribeTable returned no description", table)
	}
	var problems []string
	attrTypes := map[string]types.ScalarAttributeType{}
	for _, a := range d.AttributeDefinitions {
		attrTypes[aws.ToString(a.AttributeName)] = a.AttributeType
	}
	wantKeys := func(what string, got []typesKey, hash, rng string) {
		want := []typesKey{{hash, "HASH"}, {rng, "RANGE"}}
		if !slices.Equal(got, want) {
			problems = append(problems, fmt.Sprintf("%s is %s; want %s", what, keyString(got), keyString(want)))
			return
		}
		for _, k := range want {
			if t := attrTypes[k.name]; t != "S" {
				problems = append(problems, fmt.Sprintf("attribute %q of %s has type %q; want S (string)", k.name, what, t))
			}
		}
	}
	wantKeys("the key schema", keysOf(d.KeySchema), aPK, aSK)
	// Other indexes are left alone: tables created before PutTargets
	// packed its records have a local index "ord" the store no longer
	// reads or writes.
	gsi := false
	for _, ix := range d.GlobalSecondaryIndexes {
		if aws.ToString(ix.IndexName) != indexLease {
			continue
		}
		gsi = true
		wantKeys("global index "+indexLease, keysOf(ix.KeySchema), aActive, aExpIdx)
		if p := ix.Projection; p == nil || p.ProjectionType != "ALL" && !(p.ProjectionType == "INCLUDE" && hasAll(p.NonKeyAttributes, aOwner, aToken, aExpires)) {
			problems = append(problems, fmt.Sprintf("global index %s must project %s, %s and %s (INCLUDE) or ALL", indexLease, aOwner, aToken, aExpires))
		}
	}
	if !gsi {
		problems = append(problems, fmt.Sprintf("global secondary index %q on (%s, %s) is missing", indexLease, aActive, aExpIdx))
	}
	if len(problems) > 0 {
		return fmt.Errorf("dynamostore: table %q does not have the store's schema: %s; create it with dynamostore.CreateTable or as the package documentation describes",
			table, strings.Join(problems, "; "))
	}
	return nil
}

type typesKey struct{ name, kind string }

func keysOf(ks []types.KeySchemaElement) []typesKey {
	out := make([]typesKey, len(ks))
	for i, k := range ks {
		out[i] = typesKey{aws.ToString(k.AttributeName), string(k.KeyType)}
	}
	return out
}

func keyString(ks []typesKey) string {
	parts := make([]string, len(ks))
	for i, k := range ks {
		parts[i] = k.name + " " + k.kind
	}
	return "(" + strings.Join(parts, ", ") + ")"
}

func hasAll(have []string, want ...string) bool {
	for _, w := range want {
		if !slices.Contains(have, w) {
			return false
		}
	}
	return true
}

package dynamostore_test

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/fleetdeploy/fleetdeploy/deploy/dynamostore"
	"github.com/fleetdeploy/fleetdeploy/internal/motoserver"
)

func TestMain(m *testing.M) { motoserver.Main(m) }

// newClient returns a DynamoDB client of the test's moto server.
func newClient(t testing.TB) *dynamodb.Client {
	t.Helper()
	return dynamodb.NewFromConfig(motoserver.Config(t))
}

// newTable creates a table of the store's schema for the test and
// returns its name.
func newTable(t testing.TB) string {
	t.Helper()
	table := motoserver.Name(t, "fd")
	if err := dynamostore.CreateTable(t.Context(), newClient(t), table); err != nil {
		t.Fatalf("CreateTable: %v", err)
	}
	return table
}

// open returns a store on table through api (a new client when nil).
func open(t testing.TB, api dynamostore.API, table string, opts ...func(*dynamostore.Options)) *dynamostore.Store {
	t.Helper()
	if api == nil {
		api = newClient(t)
	}
	s, err := dynamostore.New(api, table, opts...)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return s
}

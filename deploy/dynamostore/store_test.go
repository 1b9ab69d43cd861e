package dynamostore_test

import (
	"testing"

	"github.com/fleetdeploy/fleetdeploy/deploy"
	"github.com/fleetdeploy/fleetdeploy/deploy/deploytest"
)

// The conformance suite, each check on a table of its own.
func TestStoreConforms(t *testing.T) {
	deploytest.TestStore(t, func(t *testing.T) deploy.Store {
		return open(t, nil, newTable(t))
	})
}

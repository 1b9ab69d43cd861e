package dynamostore_test

import (
	"testing"

	"github.com/fleetdeploy/fleetdeploy/deploy"
	"github.com/fleetdeploy/fleetdeploy/deploy/deploytest"
)

// The conformance suite, each check on a table of its own; every handle
// the suite opens is a Store of its own, on a client of its own, as
// another process would have.
func TestStoreConforms(t *testing.T) {
	deploytest.TestStore(t, func(t *testing.T) deploytest.Opener {
		table := newTable(t)
		return func() deploy.Store { return open(t, nil, table) }
	})
}

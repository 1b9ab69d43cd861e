package deploytest_test

import (
	"testing"

	"go.uber.org/goleak"

	"github.com/fleetdeploy/fleetdeploy/deploy"
	"github.com/fleetdeploy/fleetdeploy/deploy/deploytest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// The suite must pass against the memory store, and against a FaultStore
// that injects nothing: the wrapper must be transparent.
func TestMemoryStoreConforms(t *testing.T) {
	deploytest.TestStore(t, func(*testing.T) deploy.Store { return deploy.NewMemoryStore() })
}

func TestTransparentFaultStoreConforms(t *testing.T) {
	deploytest.TestStore(t, func(*testing.T) deploy.Store {
		return deploytest.NewFaultStore(deploy.NewMemoryStore(), deploytest.FaultOptions{})
	})
}

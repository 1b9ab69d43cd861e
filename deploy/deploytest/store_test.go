package deploytest_test

import (
	"testing"

	"go.uber.org/goleak"

	"github.com/fleetdeploy/fleetdeploy/deploy"
	"github.com/fleetdeploy/fleetdeploy/deploy/deploytest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// The suite must pass against the memory store, and against a FaultStore
// that injects nothing: the wrapper must be transparent. Every handle on a
// MemoryStore is the store itself; each handle of the FaultStore's storage
// is a FaultStore of its own on one MemoryStore.
func TestMemoryStoreConforms(t *testing.T) {
	deploytest.TestStore(t, func(*testing.T) deploytest.Opener {
		s := deploy.NewMemoryStore()
		return func() deploy.Store { return s }
	})
}

func TestTransparentFaultStoreConforms(t *testing.T) {
	deploytest.TestStore(t, func(*testing.T) deploytest.Opener {
		inner := deploy.NewMemoryStore()
		return func() deploy.Store { return deploytest.NewFaultStore(inner, deploytest.FaultOptions{}) }
	})
}

package deploy_test

import (
	"fmt"
	"testing"

	"github.com/fleetdeploy/fleetdeploy/deploy/deploytest"
	"github.com/fleetdeploy/fleetdeploy/target"
	"github.com/fleetdeploy/fleetdeploy/target/targettest"
)

// The executor reads the instance records of a store that implements
// deploy.InstanceBatchGetter (a MemoryStore) by target ID, and any other
// store's through GetInstances: over deployments after the first, with
// every mix of earlier health and of outcomes, both ways give every
// target the same initial health and the same record after.
func TestInstanceRecordsReadByIDOrThroughGetInstances(t *testing.T) {
	type result struct {
		initial map[string]string // target → initial instance/revision health, per deployment
		after   map[string]string // target → instance record after the last deployment
	}
	run := func(t *testing.T, wrap bool) result {
		e := newEnv(t, 40, "CodeDeployDefault.AllAtOnce", nil)
		e.seed(map[string]string{"i-001": "Unhealthy", "i-002": "Healthy/Old", "i-003": "Healthy/Unknown", "i-004": "Unhealthy"})
		if wrap {
			// A pass-through that implements no optional interface.
			e.exec = e.newExecutor(deploytest.NewFaultStore(e.mem, deploytest.FaultOptions{}))
		}
		res := result{initial: map[string]string{}, after: map[string]string{}}
		for k, v := range []string{"v1", "v2", "v3"} {
			for i := range 40 {
				if i%(k+3) == 1 {
					e.fleet.Script(fmt.Sprintf("i-%03d", i), target.AfterInstall, targettest.Fail(target.CodeScriptFailed, "exit 1").Once())
				}
			}
			d := e.deploy(v)
			for id, tg := range e.targets(d.ID) {
				res.initial[v+"/"+id] = string(tg.InitialInstanceHealth) + "/" + string(tg.InitialRevisionHealth)
			}
		}
		recs, err := e.mem.GetInstances(e.ctx, e.group.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range recs {
			rev := "none"
			if r.Revision != nil {
				rev = r.Revision.Key()
			}
			res.after[r.TargetID] = fmt.Sprintf("%s %s v%d", r.InstanceHealth, rev, r.Version)
		}
		return res
	}
	byID, through := run(t, false), run(t, true)
	if len(byID.initial) != 120 || len(byID.after) != 40 {
		t.Fatalf("%d initial healths, %d records; want 120 and 40", len(byID.initial), len(byID.after))
	}
	for k, v := range byID.initial {
		if through.initial[k] != v {
			t.Errorf("initial health of %s: %s by ID, %s through GetInstances", k, v, through.initial[k])
		}
	}
	for k, v := range byID.after {
		if through.after[k] != v {
			t.Errorf("record of %s: %s by ID, %s through GetInstances", k, v, through.after[k])
		}
	}
	if byID.initial["v1/i-001"] != "Unhealthy/Current" || byID.initial["v1/i-002"] != "Healthy/Old" || byID.initial["v1/i-003"] != "Healthy/Unknown" {
		t.Errorf("initial health in v1: %s, %s, %s; want the seeded records' (v0 is the group's revision)",
			byID.initial["v1/i-001"], byID.initial["v1/i-002"], byID.initial["v1/i-003"])
	}
}

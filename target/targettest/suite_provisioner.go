package targettest

import (
	"context"
	"slices"
	"testing"

	"github.com/fleetdeploy/fleetdeploy/target"
)

// ProvisionerHarness is what TestProvisioner needs to check a
// target.Provisioner: the provisioner, a way to arrange an original fleet
// and the request for its replacement, and a way to see which targets
// exist.
type ProvisionerHarness struct {
	// Provisioner is the implementation under test.
	Provisioner target.Provisioner
	// NewRequest arranges a fresh original fleet — for
	// COPY_AUTO_SCALING_GROUP an Auto Scaling group with its instances, for
	// DISCOVER_EXISTING also the instances to discover, for ECS a service
	// with its task set — and returns the request for its replacements:
	// Action, Originals (at least one, existing), Replacements, and a
	// Deployment with a DeploymentID and group no other request of the run
	// used. The harness removes what it made when the test ends
	// (t.Cleanup), if it must.
	NewRequest func(ctx context.Context) (target.ProvisionRequest, error)
	// Exists reports whether t exists in the platform now: for EC2 an
	// instance that is pending, running, stopping or stopped — not
	// shutting-down or terminated; for ECS a task set not being deleted.
	Exists func(ctx context.Context, t target.Target) (bool, error)
}

// TestProvisioner runs the conformance suite of target.Provisioner.
// newHarness is called once per check, and NewRequest once per check:
// three original fleets and their replacements in all. The provisioner's
// waits (instances InService) must end on their own: give it a clock that
// moves, or a platform that has instances ready at once (moto does).
//
// The checks, each a subtest:
//
//   - "ProvisionReplacements": the replacements exist, have unique IDs
//     that are not the originals', and leave the originals in place;
//     asked again for the same deployment (after a crash of the caller),
//     the provisioner returns the same replacements;
//   - "TerminateTargets": terminating the originals removes them and
//     leaves the replacements; terminating the replacements removes them;
//     terminating targets already gone, or no targets, is not an error;
//   - "Context": ProvisionReplacements and TerminateTargets with a
//     cancelled or expired ctx return its error, at once, with no targets
//     — also when the replacements were made by an earlier call — and
//     terminate nothing.
func TestProvisioner(t *testing.T, newHarness func(t *testing.T) ProvisionerHarness) {
	t.Helper()
	for _, c := range provisionerChecks {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t)
			if h.Provisioner == nil || h.NewRequest == nil || h.Exists == nil {
				t.Fatal("targettest: ProvisionerHarness needs Provisioner, NewRequest and Exists")
			}
			req, err := h.NewRequest(t.Context())
			if err != nil {
				t.Fatalf("targettest: the harness could not arrange an original fleet: %v", err)
			}
			if len(req.Originals) == 0 || req.Deployment.DeploymentID == "" {
				t.Fatalf("targettest: the harness's request must have originals and a deployment ID; got %d originals, deployment ID %q",
					len(req.Originals), req.Deployment.DeploymentID)
			}
			c.run(&provisionerSuite{t: t, h: h, req: req})
		})
	}
}

var provisionerChecks = []struct {
	name string
	run  func(*provisionerSuite)
}{
	{"ProvisionReplacements", testProvision},
	{"TerminateTargets", testTerminate},
	{"Context", testProvisionerContext},
}

type provisionerSuite struct {
	t   *testing.T
	h   ProvisionerHarness
	req target.ProvisionRequest
}

// provision asks for the replacements and checks what every answer must
// be: at least one target, unique non-empty IDs, none an original's.
func (s *provisionerSuite) provision(what string) []target.Target {
	s.t.Helper()
	rs, err := s.h.Provisioner.ProvisionReplacements(s.t.Context(), s.req)
	if err != nil {
		s.t.Fatalf("%s: ProvisionReplacements = %v", what, err)
	}
	if len(rs) == 0 {
		s.t.Fatalf("%s: ProvisionReplacements returned no targets and no error; an error means no usable replacement exists", what)
	}
	ids := targetIDs(rs)
	if slices.Contains(ids, "") {
		s.t.Errorf("%s: ProvisionReplacements returned a target without an ID: %v", what, ids)
	}
	if d := dups(ids); len(d) > 0 {
		s.t.Errorf("%s: ProvisionReplacements returned %v more than once", what, d)
	}
	for _, o := range s.req.Originals {
		if slices.Contains(ids, o.ID) {
			s.t.Errorf("%s: ProvisionReplacements returned the original %s as a replacement", what, o.ID)
		}
	}
	return rs
}

// expect reports whether every target of ts exists (or none does), and
// fails the check for each that does not.
func (s *provisionerSuite) expect(ts []target.Target, exist bool, what, after string) {
	s.t.Helper()
	for _, tg := range ts {
		ok, err := s.h.Exists(s.t.Context(), tg)
		if err != nil {
			s.t.Fatalf("targettest: the harness could not tell whether %s exists: %v", tg.ID, err)
		}
		if ok != exist {
			state := "exists"
			if !ok {
				state = "does not exist"
			}
			s.t.Errorf("after %s, %s %s %s", after, what, tg.ID, state)
		}
	}
}

func testProvision(s *provisionerSuite) {
	rs := s.provision("first call")
	s.expect(rs, true, "replacement", "ProvisionReplacements")
	s.expect(s.req.Originals, true, "original", "ProvisionReplacements")
	again := s.provision("second call for the same deployment")
	if !sameSet(targetIDs(again), targetIDs(rs)) {
		s.t.Errorf("ProvisionReplacements for deployment %s returned %v, then %v; called again for the same deployment it must return the replacements it made before",
			s.req.Deployment.DeploymentID, listOf(targetIDs(rs)), listOf(targetIDs(again)))
	}
}

func testTerminate(s *provisionerSuite) {
	ctx := s.t.Context()
	rs := s.provision("ProvisionReplacements")
	p := s.h.Provisioner
	if err := p.TerminateTargets(ctx, s.req.Originals); err != nil {
		s.t.Fatalf("TerminateTargets(originals %v) = %v", listOf(targetIDs(s.req.Originals)), err)
	}
	s.expect(s.req.Originals, false, "original", "TerminateTargets of the originals")
	s.expect(rs, true, "replacement", "TerminateTargets of the originals")
	if err := p.TerminateTargets(ctx, rs); err != nil {
		s.t.Fatalf("TerminateTargets(replacements %v) = %v", listOf(targetIDs(rs)), err)
	}
	s.expect(rs, false, "replacement", "TerminateTargets of the replacements")
	if err := p.TerminateTargets(ctx, slices.Concat(s.req.Originals, rs)); err != nil {
		s.t.Errorf("TerminateTargets of targets already terminated = %v; want nil (targets that are already gone are not an error)", err)
	}
	if err := p.TerminateTargets(ctx, nil); err != nil {
		s.t.Errorf("TerminateTargets(no targets) = %v; want nil", err)
	}
}

func testProvisionerContext(s *provisionerSuite) {
	p := s.h.Provisioner
	for _, c := range doneContexts(s.t.Context()) {
		var (
			rs  []target.Target
			err error
		)
		what := "ProvisionReplacements (" + c.name + ")"
		if promptly(s.t, what, func() { rs, err = p.ProvisionReplacements(c.ctx, s.req) }) {
			checkCtxErr(s.t, what, err, c.want)
			if len(rs) > 0 {
				s.t.Errorf("%s returned %d targets; want none (no partial result)", what, len(rs))
			}
		}
	}
	made := s.provision("ProvisionReplacements")
	for _, c := range doneContexts(s.t.Context()) {
		var (
			rs  []target.Target
			err error
		)
		what := "ProvisionReplacements for a deployment already provisioned (" + c.name + ")"
		if promptly(s.t, what, func() { rs, err = p.ProvisionReplacements(c.ctx, s.req) }) {
			checkCtxErr(s.t, what, err, c.want)
			if len(rs) > 0 {
				s.t.Errorf("%s returned %d targets; want none", what, len(rs))
			}
		}
		what = "TerminateTargets (" + c.name + ")"
		if promptly(s.t, what, func() { err = p.TerminateTargets(c.ctx, slices.Concat(s.req.Originals, made)) }) {
			checkCtxErr(s.t, what, err, c.want)
			s.expect(s.req.Originals, true, "original", what)
			s.expect(made, true, "replacement", what)
		}
	}
}

// targetIDs returns the IDs of ts, in order.
func targetIDs(ts []target.Target) []string {
	out := make([]string, len(ts))
	for i, t := range ts {
		out[i] = t.ID
	}
	return out
}

package ecstarget_test

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"

	"github.com/fleetdeploy/fleetdeploy/deploy/clock"
	"github.com/fleetdeploy/fleetdeploy/target"
	"github.com/fleetdeploy/fleetdeploy/target/ecstarget"
	"github.com/fleetdeploy/fleetdeploy/target/targettest"
)

// The Provisioner passes the Provisioner conformance suite: each check
// gets a fresh service with its first task set in moto.
func TestProvisionerConformance(t *testing.T) {
	targettest.TestProvisioner(t, func(t *testing.T) targettest.ProvisionerHarness {
		w := newWorld(t)
		p, _ := roles(t, w, nil)
		return targettest.ProvisionerHarness{Provisioner: p,
			NewRequest: func(ctx context.Context) (target.ProvisionRequest, error) { return w.request(w.original), nil },
			Exists: func(ctx context.Context, tg target.Target) (bool, error) {
				out, err := w.ecs.DescribeTaskSets(ctx, &ecs.DescribeTaskSetsInput{Cluster: aws.String(w.cluster), Service: aws.String(w.service),
					TaskSets: []string{tg.ID}})
				if err != nil {
					return false, err
				}
				for _, ts := range out.TaskSets {
					if aws.ToString(ts.TaskSetArn) == tg.ID && aws.ToString(ts.Status) != "DRAINING" {
						return true, nil
					}
				}
				return false, nil
			}}
	})
}

const poll = 10 * time.Second

// provisionAsync starts ProvisionReplacements and returns where its
// result arrives.
func provisionAsync(ctx context.Context, p *ecstarget.Provisioner, req target.ProvisionRequest) <-chan provisioned {
	done := make(chan provisioned, 1)
	go func() {
		ts, err := p.ProvisionReplacements(ctx, req)
		done <- provisioned{ts, err}
	}()
	return done
}

type provisioned struct {
	ts  []target.Target
	err error
}

// advance waits until the provisioner blocks on clk, then moves clk on by
// one poll interval.
func advance(t *testing.T, clk *clock.Fake) {
	t.Helper()
	blockUntil(t, clk)
	clk.Advance(poll)
}

// blockUntil waits until the provisioner blocks on clk; one that never
// does (it returned without waiting) fails the test after a minute.
func blockUntil(t *testing.T, clk *clock.Fake) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	if err := clk.BlockUntil(ctx, 1); err != nil {
		t.Fatalf("the provisioner did not wait on the clock: %v", err)
	}
}

// The Provisioner returns the replacement task set only once ECS reports it
// STEADY_STATE, polling on the injected clock: a task set reported
// STABILIZING three times is returned after three poll intervals, not
// before.
func TestProvisionWaitsUntilSteady(t *testing.T) {
	w := newWorld(t)
	slow := &stabilizing{Client: w.ecs, n: 3, polls: map[string]int{}}
	clk := clock.NewFake(time.Unix(1_700_000_000, 0))
	p, _ := roles(t, w, slow, func(o *ecstarget.Options) { o.Clock, o.PollInterval = clk, poll })
	done := provisionAsync(t.Context(), p, w.request(w.original))
	for i := range 3 {
		advance(t, clk)
		if i < 2 {
			select {
			case r := <-done:
				t.Fatalf("ProvisionReplacements returned after %d poll intervals (%v, %v); the task set was still STABILIZING", i+1, r.ts, r.err)
			default:
			}
		}
	}
	r := <-done
	if r.err != nil || len(r.ts) != 1 {
		t.Fatalf("ProvisionReplacements = %v, %v; want the steady task set", r.ts, r.err)
	}
	if got := slow.pollsOf(r.ts[0].ID); got != 3 {
		t.Errorf("the task set was reported STABILIZING %d times; want 3", got)
	}
	if w.taskSet(t, r.ts[0].ID) == nil {
		t.Errorf("the replacement task set %s does not exist", r.ts[0].ID)
	}
}

// A task set that stays STABILIZING past Options.SteadyTimeout fails the
// call with ECS_UPDATE_ERROR and is deleted; the next call makes a new one.
func TestProvisionSteadyTimeout(t *testing.T) {
	w := newWorld(t)
	slow := &stabilizing{Client: w.ecs, n: 1 << 30, polls: map[string]int{}}
	clk := clock.NewFake(time.Unix(1_700_000_000, 0))
	p, _ := roles(t, w, slow, func(o *ecstarget.Options) { o.Clock, o.PollInterval, o.SteadyTimeout = clk, poll, 3*poll })
	req := w.request(w.original)
	done := provisionAsync(t.Context(), p, req)
	for range 3 {
		advance(t, clk)
	}
	r := <-done
	checkFailure(t, "ProvisionReplacements", r.err, "ECS_UPDATE_ERROR", "after 30s")
	out, err := w.ecs.DescribeTaskSets(w.ctx, &ecs.DescribeTaskSetsInput{Cluster: aws.String(w.cluster), Service: aws.String(w.service)})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.TaskSets) != 1 || aws.ToString(out.TaskSets[0].TaskSetArn) != w.original {
		t.Errorf("after the timeout the service has %d task sets; want only the original (the unsteady one deleted)", len(out.TaskSets))
	}
}

// Cancelling ctx during the wait returns ctx's error and keeps the task
// set; asked again for the same deployment, the Provisioner returns that
// task set rather than making another.
func TestProvisionResumesAfterCancel(t *testing.T) {
	w := newWorld(t)
	slow := &stabilizing{Client: w.ecs, n: 2, polls: map[string]int{}}
	clk := clock.NewFake(time.Unix(1_700_000_000, 0))
	p, _ := roles(t, w, slow, func(o *ecstarget.Options) { o.Clock, o.PollInterval = clk, poll })
	req := w.request(w.original)
	ctx, cancel := context.WithCancel(t.Context())
	done := provisionAsync(ctx, p, req)
	blockUntil(t, clk)
	cancel()
	if r := <-done; r.err != context.Canceled {
		t.Fatalf("ProvisionReplacements with ctx cancelled during the wait = %v, %v; want context.Canceled", r.ts, r.err)
	}
	done = provisionAsync(t.Context(), p, req)
	advance(t, clk)
	r := <-done
	if r.err != nil {
		t.Fatal(r.err)
	}
	out, err := w.ecs.DescribeTaskSets(w.ctx, &ecs.DescribeTaskSetsInput{Cluster: aws.String(w.cluster), Service: aws.String(w.service)})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.TaskSets) != 2 {
		t.Errorf("the service has %d task sets; want the original and one replacement", len(out.TaskSets))
	}
	if got := slow.pollsOf(r.ts[0].ID); got != 2 {
		t.Errorf("the replacement was reported STABILIZING %d times; want 2 (one per call)", got)
	}
}

// Package plansvg draws a deployment's schedule ([plan.Schedule], from
// [plan.Preview]) as an SVG picture: a timeline to look at before a
// rollout, or beside a test that proves a rollout policy.
//
//	sched, err := plan.Preview(in)
//	...
//	err = plansvg.Render(w, in.Input, sched)
//
// # The picture
//
// Time runs left to right, from the deployment's start to its end, with a
// band of its phases along the top. Below it is one lane per target,
// grouped — zone by zone in deployment order for a zonal configuration,
// Blue then Green for blue/green, else the whole fleet — and within a
// group by wave: the targets started at the same moment, in the order they
// started, with targets never started last. A lane holds one bar for each
// time the target was worked on (a Green target has two: its install and
// taking traffic), colored by how it ended: green Succeeded, red Failed,
// blue still InProgress when the schedule ended. A failure is also marked
// with a red cross at its end; a failed hook, reserved event or traffic
// shift with a red line across every lane. Waits are shaded across the
// lanes: a zonal monitor wait (Baking) orange, a blue/green wait for
// Continue or termination (Ready, Baking) grey.
//
// Under the lanes, the number of targets healthy and not being deployed to
// is drawn over time (ScheduleStep.Healthy: of the Green fleet for
// blue/green), against a dashed line at the minimum in force
// (ScheduleStep.Minimum). On a large fleet the chart's axis starts below
// the lowest of them rather than at zero, so that the gap stays visible. For Lambda and ECS, and whenever a step shifts
// traffic, the share of traffic on the replacement is drawn below that,
// each shift labelled with its percentage.
//
// # Large fleets
//
// Up to Options.MaxLanes targets (40 unless set) each get their lane,
// labelled with the target's ID. Past that, lanes are summarised: each
// lane stands for consecutive waves of one group (one wave per lane when
// the waves fit, else as many waves per lane as it takes to stay within
// MaxLanes plus one lane per group for its targets never started). A
// summary lane is labelled with its waves and target count, its bar spans
// its first start to its last finish, colored red when any of its targets
// failed, and each failure is marked (one mark per distinct pixel). A
// picture of 2,000 targets therefore has at most MaxLanes plus two lanes
// per group, whatever the configuration.
//
// # Reading the picture back
//
// The SVG carries the schedule in data- attributes, so that tests can
// check it: each target's lane is a <g data-target="ID" data-index
// data-group data-wave> (data-index is the target's index in Input.Targets,
// exact even for an ID holding characters XML cannot carry, which read
// back as U+FFFD) whose bars are <rect data-start data-end data-status
// data-phase> (times in seconds from the start); a summary lane is a <g
// data-lane="summary" data-group data-waves="first-last" data-targets
// data-succeeded data-failed data-inprogress data-notattempted>; waits are
// <rect data-wait="Baking|Ready" data-start data-end>; failure marks are
// <path data-failed="ID" data-at>, or data-failed="summary"; the healthy
// line is <polyline data-series="healthy" data-lowest data-minimum>, the
// minimum's <polyline data-series="minimum">; each
// traffic shift is <text data-shift data-at data-weight>. Target IDs are
// user data and are always escaped.
package plansvg

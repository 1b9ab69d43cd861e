// Package localtraffic is a local traffic path for fleetdeploy: an
// in-process weighted HTTP reverse proxy in front of real HTTP servers, so
// that traffic shifting, blocking and alarms can be seen working without a
// cloud.
//
// A [Proxy] is the [target.TrafficShifter] of a local Lambda or ECS
// platform (it moves an alias's or a listener's weight between two
// versions) and the [target.TrafficController] of a local Server platform
// (it takes targets out of a load balancer's pool and puts them back). An
// [Alarms] is the [target.AlarmSource] that goes to ALARM when the 5xx rate
// the proxy observes over a window exceeds a threshold:
//
//	p, err := localtraffic.New(func(o *localtraffic.Options) { o.Clock = clk })
//	live := target.TrafficRoute{ResourceID: "shop:live"}
//	err = p.AddRoute(live, "v1",
//		localtraffic.Backend{ID: "v1", URL: v1URL},
//		localtraffic.Backend{ID: "v2", URL: v2URL})
//	go p.Serve(ctx, ln, live) // clients send requests to ln
//	alarms, err := localtraffic.NewAlarms(p, localtraffic.ErrorRateAlarm{
//		Name: "shop-5xx", Route: live, Replacement: true,
//		Window: time.Minute, Threshold: 0.05, MinRequests: 20})
//	platform := target.Platform{TrafficShifter: p, HookInvoker: hooks}
//
// The proxy only forwards requests; it never starts or stops the servers
// behind it.
//
// # Routes and weights
//
// A route is where clients send requests, named by a [target.TrafficRoute]:
// a Lambda alias or an ECS service's production listener, and for ECS
// optionally its test listener ({ResourceID, Test: true}), a route of its
// own. A Server load balancer or target group named N is the route
// {ResourceID: N}. Each route has backends ([Backend]): an ID and the base
// URL of a real HTTP server — one per version (Lambda version, ECS task
// set) or one per Server target.
//
// [Proxy.AddRoute] creates a route of one of two kinds:
//
//   - A versioned route (a current backend is given) sends each request to
//     one of the two backends of its split. [Proxy.ShiftTraffic] sets the
//     split — Original, Replacement, Weight — from the next request on: a
//     request goes to Replacement with probability Weight/100. The proxy
//     draws a number r in [0, 1) from Options.Rand and sends it to
//     Replacement when r < Weight/100; weights 0 and 100 draw nothing and
//     are exact. A seeded Options.Rand makes the choices reproducible, and
//     since every request with a weight strictly between 0 and 100 draws
//     exactly once, the number of requests each side gets out of n is
//     reproducible even when requests arrive concurrently.
//   - A pool (no current backend) spreads requests over its backends in
//     service, round robin in the order they were added, as a load
//     balancer does.
//
// [Proxy.CurrentTraffic] reads the split back as the TrafficShifter
// contract spells it: a route that sends everything to one backend (weight
// 0, or 100) reports it as Original with Weight 0 and no Replacement; a
// pool that was never shifted reports the zero split. ShiftTraffic checks
// the request with [target.ShiftRequest.Validate] (errors wrap
// [target.ErrInvalidRequest]) and fails with an error wrapping
// [target.ErrNotFound] for an unknown route or a backend the route does
// not have; [Proxy.AddBackend] adds versions and targets to an existing
// route.
//
// Requests reach a route through [Proxy.Handler] (an http.Handler for one
// route), [Proxy.Serve] and [Proxy.ListenAndServe] (a listener for one
// route, shut down gracefully when the context is done), or the Proxy
// itself as an http.Handler, which picks the route with Options.Router —
// by default [HeaderRouter], from the [RouteHeader] and [TestRouteHeader]
// request headers. A request for a route that does not exist is answered
// 404. Call [Proxy.Close] when done to release the connections the proxy
// keeps open to its backends.
//
// # Blocking and allowing targets
//
// [Proxy.BlockTraffic] and [Proxy.AllowTraffic] act on the backend whose
// ID is the request's target ID, on the routes the request concerns:
//
//   - the routes {ResourceID: name} of every Classic Load Balancer
//     (ELBInfoList) and target group (TargetGroupInfoList) that
//     req.Deployment.LoadBalancer names — each must exist, else the error
//     wraps target.ErrNotFound and nothing changes;
//   - when it names none, every route that has a backend with that ID.
//
// BlockTraffic takes the backend out of service — it gets no new requests
// — and returns once the requests in flight to it have finished
// (connection draining), or with ctx's error, the backend blocked, when ctx
// ends first. A route without the backend is skipped, as the contract's
// "a target that is not registered is not an error" asks. AllowTraffic puts
// the backend back in service at once (the proxy does no health checks);
// a route without the backend fails it with an error wrapping
// target.ErrTargetUnavailable, since the proxy cannot know where the target
// listens: register blue/green replacements up front with AddBackend and
// Backend.Blocked, and AllowTraffic brings them in.
//
// A pool with no backend in service answers 503. On a versioned route a
// request whose chosen backend is blocked goes to the other backend of the
// split if that one is in service, else it is answered 503. Every 503 of
// this kind counts as an error of the route.
//
// # Observing traffic
//
// The proxy counts every request a route answers, per route and per
// backend, as [Counts] of requests and errors. An error is a 5xx response:
// the backend's own, 502 when the backend could not be reached (the
// proxy's error response), and 503 when no backend was in service. A
// request whose client went away before the backend answered is recorded
// with status 499 and is not an error. Requests count when they finish.
//
// [Proxy.Stats] returns the counts since the route was added;
// [Stats.Sub] of two snapshots is the traffic between them (one step of a
// shift), and [Stats.Share] the fraction a backend got.
// [Proxy.Recent] returns the counts over the last d on Options.Clock, from
// a ring of time buckets Options.Bucket wide that keeps
// Options.Retention of history per route and per backend — memory that does
// not grow with traffic. A window of d spans the ⌈d/Bucket⌉ buckets up to
// and including the current one, so with d a multiple of Bucket, requests
// that finished less than d − Bucket ago always count and those that
// finished d ago or earlier never do. With a [clock.Fake] the window moves
// only when the test advances the clock.
//
// # Alarms
//
// An [ErrorRateAlarm] watches one route — all of it, one backend, or the
// replacement of its split at the time of reading — over a window. Read
// at a moment, with c the counts of its requests over the window:
//
//   - INSUFFICIENT_DATA when c has no requests or fewer than MinRequests;
//   - ALARM when c's error rate is above Threshold;
//   - OK otherwise.
//
// An alarm in ALARM returns to OK (or INSUFFICIENT_DATA) once the bad
// requests have left the window. [NewAlarms] checks the definitions
// against the proxy — names as a deployment group's alarmConfiguration
// requires them (1–255 characters, unique), routes and backends that
// exist, a window the proxy keeps — and reports every broken rule at once.
// [Alarms.AlarmStates] is the AlarmSource method the executor polls (an
// unknown name is an error wrapping target.ErrNotFound); [Alarms.Read]
// returns a [Reading] with the counts behind a state, for display.
package localtraffic

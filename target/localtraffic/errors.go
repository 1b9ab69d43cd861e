package localtraffic

import "errors"

// Sentinel errors. Errors returned by this package wrap one of these, a
// sentinel of package target or a context error, so callers test with
// errors.Is:
//
//   - target.ErrNotFound: a route, backend or alarm that does not exist;
//   - target.ErrInvalidRequest: a ShiftRequest that breaks a rule of
//     ShiftRequest.Validate, or a TrafficRequest without a target ID;
//   - target.ErrTargetUnavailable: AllowTraffic for a target that no route
//     it concerns has a backend for.
var (
	// ErrInvalidOptions: an Options field is out of range.
	ErrInvalidOptions = errors.New("localtraffic: invalid options")

	// ErrInvalidRoute: a route has an empty ResourceID, or the backend
	// named as its current one is not among its backends.
	ErrInvalidRoute = errors.New("localtraffic: invalid route")

	// ErrInvalidBackend: a backend has an empty ID, or a URL that is not
	// an absolute http or https URL with a host.
	ErrInvalidBackend = errors.New("localtraffic: invalid backend")

	// ErrExists: a route, a backend of a route or an alarm name was added
	// twice.
	ErrExists = errors.New("localtraffic: already exists")

	// ErrInvalidWindow: a window is not positive or longer than the
	// proxy's Options.Retention.
	ErrInvalidWindow = errors.New("localtraffic: invalid window")

	// ErrInvalidAlarm: an ErrorRateAlarm breaks a rule of NewAlarms.
	ErrInvalidAlarm = errors.New("localtraffic: invalid alarm")
)

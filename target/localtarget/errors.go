package localtarget

import "errors"

// Sentinel errors. Errors returned by this package wrap one of these, a
// sentinel of package target (ErrTargetUnavailable, ErrInvalidRequest) or a
// context error, so callers test with errors.Is. A hook or install step
// that fails is not an error but an EventResult with Status Failed.
var (
	// ErrInvalidInstanceID: an instance ID is empty, longer than 100
	// characters, or has a character other than a letter, digit, '.', '_'
	// or '-' (the rules of CodeDeploy on-premises instance names), or is
	// "." or "..".
	ErrInvalidInstanceID = errors.New("localtarget: invalid instance ID")

	// ErrInstanceExists: Fleet.Add was given the ID of an instance the
	// fleet already has.
	ErrInstanceExists = errors.New("localtarget: instance already exists")

	// ErrNotAgentEvent: RunEvent was asked for an event the agent does not
	// perform — one whose target.LifecycleEvent.Role on the Server platform
	// is not the Installer's: BlockTraffic and AllowTraffic (a
	// TrafficController's), the pseudo-events Start and End, and events of
	// other platforms.
	ErrNotAgentEvent = errors.New("localtarget: event is not performed by the on-host agent")
)

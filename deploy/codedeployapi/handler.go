package codedeployapi

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"strings"
	"unicode"

	"github.com/fleetdeploy/fleetdeploy/deploy"
	"github.com/fleetdeploy/fleetdeploy/target"
)

// TargetPrefix starts the X-Amz-Target header of every CodeDeploy
// operation: the service's JSON protocol name and API version.
const TargetPrefix = "CodeDeploy_20141006."

// ContentType is the media type of CodeDeploy's requests and responses.
const ContentType = "application/x-amz-json-1.1"

// DefaultMaxBodyBytes is the default of Options.MaxBodyBytes: 64 KiB, far
// more than any request of the operations served needs.
const DefaultMaxBodyBytes = 64 << 10

// Error codes the handler answers with: the exceptions of
// PutLifecycleEventHookExecutionStatus, and the common and protocol errors
// of requests it cannot serve.
const (
	CodeDeploymentDoesNotExist         = "DeploymentDoesNotExistException"
	CodeDeploymentIDRequired           = "DeploymentIdRequiredException"
	CodeInvalidDeploymentID            = "InvalidDeploymentIdException"
	CodeInvalidHookExecutionID         = "InvalidLifecycleEventHookExecutionIdException"
	CodeInvalidHookExecutionStatus     = "InvalidLifecycleEventHookExecutionStatusException"
	CodeLifecycleEventAlreadyCompleted = "LifecycleEventAlreadyCompletedException"
	CodeUnsupportedActionForDeployment = "UnsupportedActionForDeploymentTypeException"
	CodeAccessDenied                   = "AccessDeniedException"
	CodeInvalidAction                  = "InvalidAction"
	CodeUnknownOperation               = "UnknownOperationException"
	CodeSerialization                  = "SerializationException"
	CodeRequestEntityTooLarge          = "RequestEntityTooLargeException"
	CodeInternalFailure                = "InternalFailure"
)

const (
	// maxDeploymentIDLength and maxHookExecutionIDLength bound the IDs
	// a request may carry; longer ones are invalid.
	maxDeploymentIDLength    = 256
	maxHookExecutionIDLength = 1024

	putLifecycleEventHookExecutionStatus = "PutLifecycleEventHookExecutionStatus"
)

// Error is an error in CodeDeploy's shape: what the handler answers with
// when it does not serve a request. Options.Authenticate may return one
// to refuse a request with its own code and status.
type Error struct {
	// Code is the exception's name, the body's "__type" and the
	// X-Amzn-ErrorType header: "AccessDeniedException".
	Code string
	// Message is the body's "message".
	Message string
	// Status is the HTTP status; 400 when 0.
	Status int
}

// Error returns "codedeployapi: <code>: <message>".
func (e *Error) Error() string { return "codedeployapi: " + e.Code + ": " + e.Message }

// Options are the optional settings of a Handler.
type Options struct {
	// Authenticate decides whether a request may be served; see the
	// package documentation. Nil refuses every request.
	Authenticate func(*http.Request) error
	// MaxBodyBytes is the largest request body served;
	// DefaultMaxBodyBytes when 0. It must not be negative.
	MaxBodyBytes int64
	// Logger receives a line for each refused or failed request; a logger
	// that discards everything when nil.
	Logger *slog.Logger
}

// HookStatusReporter is what the handler's PutLifecycleEventHookExecutionStatus
// calls: *deploy.Executor, or anything that behaves as its method does
// (returning its errors: deploy.ErrNotFound,
// deploy.ErrLifecycleEventAlreadyCompleted, ...).
type HookStatusReporter interface {
	PutLifecycleEventHookExecutionStatus(ctx context.Context, deploymentID, hookExecutionID string, status target.LifecycleEventStatus) error
}

var _ HookStatusReporter = (*deploy.Executor)(nil)

// Handler is an http.Handler that speaks CodeDeploy's JSON 1.1 protocol.
// It is safe for concurrent use.
type Handler struct {
	hooks HookStatusReporter
	opts  Options
	log   *slog.Logger
	ops   map[string]operation
}

// operation serves one X-Amz-Target: it decodes body into the operation's
// input, acts, and returns its output (encoded as JSON) or an error.
type operation func(ctx context.Context, body []byte) (any, error)

var _ http.Handler = (*Handler)(nil)

// New returns a Handler that serves PutLifecycleEventHookExecutionStatus
// through hooks (a *deploy.Executor). It returns an error for a nil hooks
// or a negative Options.MaxBodyBytes.
func New(hooks HookStatusReporter, opts ...func(*Options)) (*Handler, error) {
	var o Options
	for _, opt := range opts {
		opt(&o)
	}
	if hooks == nil {
		return nil, errors.New("codedeployapi: New: hooks is nil; pass the deploy.Executor that runs the deployments")
	}
	if o.MaxBodyBytes < 0 {
		return nil, fmt.Errorf("codedeployapi: New: Options.MaxBodyBytes must not be negative; got %d", o.MaxBodyBytes)
	}
	if o.MaxBodyBytes == 0 {
		o.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	h := &Handler{hooks: hooks, opts: o, log: o.Logger}
	h.ops = map[string]operation{
		TargetPrefix + putLifecycleEventHookExecutionStatus: h.putLifecycleEventHookExecutionStatus,
	}
	return h, nil
}

// ServeHTTP serves one request: method, body size, authentication,
// operation and content type are checked in that order, then the
// operation runs.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	reqID := newRequestID()
	w.Header().Set("X-Amzn-RequestId", reqID)
	out, err := h.serve(w, r)
	if err != nil {
		h.writeError(w, r, reqID, err)
		return
	}
	b, err := json.Marshal(out)
	if err != nil {
		h.writeError(w, r, reqID, err)
		return
	}
	w.Header().Set("Content-Type", ContentType)
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(b)
}

// serve returns the output of the request's operation, or the error to
// answer with.
func (h *Handler) serve(w http.ResponseWriter, r *http.Request) (any, error) {
	if r.Method != http.MethodPost {
		return nil, &Error{Code: CodeInvalidAction, Status: http.StatusMethodNotAllowed,
			Message: fmt.Sprintf("CodeDeploy requests are POSTs; got %s", r.Method)}
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, h.opts.MaxBodyBytes))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return nil, &Error{Code: CodeRequestEntityTooLarge, Status: http.StatusRequestEntityTooLarge,
				Message: fmt.Sprintf("the request body exceeds %d bytes", h.opts.MaxBodyBytes)}
		}
		return nil, &Error{Code: CodeSerialization, Message: "the request body could not be read: " + err.Error()}
	}
	r.Body = io.NopCloser(bytes.NewReader(body)) // for Authenticate, which may hash it
	if err := h.authenticate(r); err != nil {
		return nil, err
	}
	name := r.Header.Get("X-Amz-Target")
	op, ok := h.ops[name]
	if !ok {
		return nil, &Error{Code: CodeUnknownOperation,
			Message: fmt.Sprintf("X-Amz-Target %q names no operation this endpoint serves; it serves %s", name, TargetPrefix+putLifecycleEventHookExecutionStatus)}
	}
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || (mt != ContentType && mt != "application/json") {
			return nil, &Error{Code: CodeSerialization, Message: fmt.Sprintf("Content-Type %q; want %s", ct, ContentType)}
		}
	}
	return op(r.Context(), body)
}

// authenticate runs Options.Authenticate, refusing every request without
// one.
func (h *Handler) authenticate(r *http.Request) error {
	if h.opts.Authenticate == nil {
		return &Error{Code: CodeAccessDenied,
			Message: "this endpoint authenticates no one (codedeployapi.Options.Authenticate is not set); every request is refused"}
	}
	err := h.opts.Authenticate(r)
	if err == nil {
		return nil
	}
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return &Error{Code: CodeAccessDenied, Message: "the request was not authenticated: " + err.Error()}
}

// decode unmarshals a request body into v; an empty body is an empty
// object.
func decode(body []byte, v any) error {
	if len(bytes.TrimSpace(body)) == 0 {
		return nil
	}
	d := json.NewDecoder(bytes.NewReader(body))
	if err := d.Decode(v); err != nil {
		return &Error{Code: CodeSerialization, Message: "the request body is not the operation's JSON input: " + err.Error()}
	}
	if _, err := d.Token(); err != io.EOF {
		return &Error{Code: CodeSerialization, Message: "the request body has data after its JSON object"}
	}
	return nil
}

// PutLifecycleEventHookExecutionStatusInput is the request of
// PutLifecycleEventHookExecutionStatus, as CodeDeploy's API defines it.
type PutLifecycleEventHookExecutionStatusInput struct {
	// DeploymentID is the deployment whose hook reports.
	DeploymentID *string `json:"deploymentId,omitempty"`
	// LifecycleEventHookExecutionID is the ID the hook function was
	// invoked with.
	LifecycleEventHookExecutionID *string `json:"lifecycleEventHookExecutionId,omitempty"`
	// Status is "Succeeded" or "Failed".
	Status *string `json:"status,omitempty"`
}

// PutLifecycleEventHookExecutionStatusOutput is the response of
// PutLifecycleEventHookExecutionStatus.
type PutLifecycleEventHookExecutionStatusOutput struct {
	// LifecycleEventHookExecutionID is the execution whose status was
	// recorded.
	LifecycleEventHookExecutionID string `json:"lifecycleEventHookExecutionId"`
}

func (h *Handler) putLifecycleEventHookExecutionStatus(ctx context.Context, body []byte) (any, error) {
	var in PutLifecycleEventHookExecutionStatusInput
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	id, exec, status := deref(in.DeploymentID), deref(in.LifecycleEventHookExecutionID), deref(in.Status)
	switch {
	case id == "":
		return nil, &Error{Code: CodeDeploymentIDRequired, Message: "deploymentId is required"}
	case !plausibleID(id, maxDeploymentIDLength):
		return nil, &Error{Code: CodeInvalidDeploymentID, Message: fmt.Sprintf("deploymentId %q is not a deployment ID", truncate(id))}
	case exec != "" && !plausibleID(exec, maxHookExecutionIDLength):
		return nil, &Error{Code: CodeInvalidHookExecutionID, Message: fmt.Sprintf("lifecycleEventHookExecutionId %q is not a hook execution ID", truncate(exec))}
	}
	if err := h.hooks.PutLifecycleEventHookExecutionStatus(ctx, id, exec, target.LifecycleEventStatus(status)); err != nil {
		return nil, err
	}
	return PutLifecycleEventHookExecutionStatusOutput{LifecycleEventHookExecutionID: exec}, nil
}

// deref returns *s, or "" for nil.
func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// plausibleID reports whether s can be an ID: at most max bytes of
// printable characters without spaces.
func plausibleID(s string, max int) bool {
	if len(s) > max {
		return false
	}
	for _, c := range s {
		if c == unicode.ReplacementChar || !unicode.IsPrint(c) || unicode.IsSpace(c) {
			return false
		}
	}
	return true
}

// truncate shortens s for a message.
func truncate(s string) string {
	if len(s) > 64 {
		return strings.ToValidUTF8(s[:64], "") + "…"
	}
	return s
}

// codeOf maps an error of the operation to CodeDeploy's error shape.
func codeOf(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	code := ""
	switch {
	case errors.Is(err, deploy.ErrDeploymentIDRequired):
		code = CodeDeploymentIDRequired
	case errors.Is(err, deploy.ErrNotFound):
		code = CodeDeploymentDoesNotExist
	case errors.Is(err, deploy.ErrHookExecutionNotFound):
		code = CodeInvalidHookExecutionID
	case errors.Is(err, deploy.ErrInvalidHookStatus):
		code = CodeInvalidHookExecutionStatus
	case errors.Is(err, deploy.ErrLifecycleEventAlreadyCompleted):
		code = CodeLifecycleEventAlreadyCompleted
	case errors.Is(err, deploy.ErrUnsupportedDeploymentType):
		code = CodeUnsupportedActionForDeployment
	default:
		return &Error{Code: CodeInternalFailure, Status: http.StatusInternalServerError,
			Message: "the request could not be served; try again"}
	}
	return &Error{Code: code, Message: strings.TrimPrefix(err.Error(), "deploy: ")}
}

// writeError answers with err in CodeDeploy's shape, logging it.
func (h *Handler) writeError(w http.ResponseWriter, r *http.Request, reqID string, err error) {
	e := codeOf(err)
	status := e.Status
	if status == 0 {
		status = http.StatusBadRequest
	}
	lvl := slog.LevelInfo
	if status >= 500 {
		lvl = slog.LevelError
	}
	h.log.Log(r.Context(), lvl, "CodeDeploy API request refused", "requestId", reqID,
		"target", r.Header.Get("X-Amz-Target"), "code", e.Code, "error", err.Error())
	b, _ := json.Marshal(struct {
		Type    string `json:"__type"`
		Message string `json:"message"`
	}{e.Code, e.Message}) // strings only: cannot fail
	w.Header().Set("Content-Type", ContentType)
	w.Header().Set("X-Amzn-ErrorType", e.Code)
	if status == http.StatusMethodNotAllowed {
		w.Header().Set("Allow", http.MethodPost)
	}
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// newRequestID returns a random request ID.
func newRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	return hex.EncodeToString(b[:])
}

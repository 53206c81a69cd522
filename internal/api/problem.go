package api

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
)

// errorCode is one of the contract's stable problem codes.
type errorCode string

// The problem codes this server answers with; the contract lists them.
const (
	codeInvalidJSON          errorCode = "invalid_json"
	codeInvalidRequest       errorCode = "invalid_request"
	codeInvalidName          errorCode = "invalid_name"
	codeInvalidSecret        errorCode = "invalid_secret"
	codeSecretTooShort       errorCode = "secret_too_short"
	codeInvalidOTPAuthURI    errorCode = "invalid_otpauth_uri"
	codeUnsupportedOTPType   errorCode = "unsupported_otp_type"
	codeInvalidQRImage       errorCode = "invalid_qr_image"
	codeUnauthorized         errorCode = "unauthorized"
	codeForbidden            errorCode = "forbidden"
	codeNotFound             errorCode = "not_found"
	codeAlreadyExists        errorCode = "already_exists"
	codeCodeAlreadyClaimed   errorCode = "code_already_claimed"
	codePayloadTooLarge      errorCode = "payload_too_large"
	codeUnsupportedMediaType errorCode = "unsupported_media_type"
	codeMethodNotAllowed     errorCode = "method_not_allowed"
	codeUnavailable          errorCode = "unavailable"
	codeInternal             errorCode = "internal"
)

// statusOf is the one table from problem code to HTTP status.
var statusOf = map[errorCode]int{
	codeInvalidJSON:          http.StatusBadRequest,
	codeInvalidRequest:       http.StatusBadRequest,
	codeInvalidName:          http.StatusBadRequest,
	codeInvalidSecret:        http.StatusBadRequest,
	codeSecretTooShort:       http.StatusBadRequest,
	codeInvalidOTPAuthURI:    http.StatusBadRequest,
	codeUnsupportedOTPType:   http.StatusBadRequest,
	codeInvalidQRImage:       http.StatusBadRequest,
	codeUnauthorized:         http.StatusUnauthorized,
	codeForbidden:            http.StatusForbidden,
	codeNotFound:             http.StatusNotFound,
	codeAlreadyExists:        http.StatusConflict,
	codeCodeAlreadyClaimed:   http.StatusConflict,
	codePayloadTooLarge:      http.StatusRequestEntityTooLarge,
	codeUnsupportedMediaType: http.StatusUnsupportedMediaType,
	codeMethodNotAllowed:     http.StatusMethodNotAllowed,
	codeUnavailable:          http.StatusServiceUnavailable,
	codeInternal:             http.StatusInternalServerError,
}

// problem is a client-facing failure: a code and a detail written for the
// person who reads it. It never carries a secret, code or token.
type problem struct {
	code   errorCode
	detail string

	// retryAfter, when positive, is sent as Retry-After, in seconds.
	retryAfter int
}

// Error returns the detail, so a problem can travel as an error.
func (p *problem) Error() string { return p.detail }

// fail makes a problem.
func fail(code errorCode, detail string) *problem {
	return &problem{code: code, detail: detail}
}

// retryIn makes a problem that tells the client to retry in seconds.
func retryIn(seconds int, code errorCode, detail string) *problem {
	return &problem{code: code, detail: detail, retryAfter: seconds}
}

// problemBody is the RFC 9457 document written to the client.
type problemBody struct {
	Type      string    `json:"type"`
	Title     string    `json:"title"`
	Status    int       `json:"status"`
	Detail    string    `json:"detail"`
	Code      errorCode `json:"code"`
	RequestID string    `json:"request_id,omitempty"`
}

// writeProblem answers with p as problem+json.
func writeProblem(w http.ResponseWriter, r *http.Request, p *problem) {
	status := statusOf[p.code]
	if status == 0 {
		status = http.StatusInternalServerError
	}

	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="totpvault"`)
	}
	if p.retryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(p.retryAfter))
	}

	body := problemBody{
		Type:      "about:blank",
		Title:     http.StatusText(status),
		Status:    status,
		Detail:    p.detail,
		Code:      p.code,
		RequestID: requestID(r.Context()),
	}

	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}

// writeError answers a request that failed with err. A *problem goes to the
// client as it is; anything else is an internal failure: it is logged with
// the request ID, and the client is told only that, and which ID to quote.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	if p, ok := asProblem(err); ok {
		writeProblem(w, r, p)
		return
	}

	s.log.ErrorContext(r.Context(), "request failed",
		slog.String("request_id", requestID(r.Context())),
		slog.String("error", err.Error()))

	writeProblem(w, r, fail(codeInternal, internalDetail))
}

// internalDetail is all a client learns of a failure on the server's side.
const internalDetail = "the server failed to handle the request; " +
	"quote the request_id when you report it"

// asProblem finds the *problem in err's chain.
func asProblem(err error) (*problem, bool) {
	var p *problem
	ok := errors.As(err, &p)
	return p, ok
}

package api

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/totpvault/totpvault/internal/store"
)

// ctxKey types the values this package puts into a request's context.
type ctxKey int

// stateKey holds the request's *requestState.
const stateKey ctxKey = 0

// requestState is what the middleware learns about a request, for the
// handlers and the middleware after it. withRequestID puts it into the
// context once and the later steps fill it in, so that no step has to copy
// the request to pass on what it learnt.
type requestState struct {
	id string

	// note is the audit trail's, on /v1 routes.
	note *auditNote

	// principal is the token that authenticated the request.
	principal store.Token

	// endpoint is the one named in the path, looked up with the token;
	// nil when there is none.
	endpoint *store.Endpoint
}

// stateOf returns the request's state; a blank one outside withRequestID.
func stateOf(ctx context.Context) *requestState {
	st, _ := ctx.Value(stateKey).(*requestState)
	if st == nil {
		return &requestState{}
	}
	return st
}

// requestIDHeader carries the request ID both ways (X-Request-ID). It is
// written in Go's canonical form, which Header.Get and Set would otherwise
// make anew on every request.
const requestIDHeader = "X-Request-Id"

// withRequestID gives every request an ID, echoed in the response header and
// in every log line and problem body about the request. A client's own ID
// is kept when it is short and plain, so that a caller can follow its
// request through; anything else is replaced, so no header value of the
// client's choosing reaches the log.
func withRequestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get(requestIDHeader)
		if !plainID(id) {
			id = newRequestID()
		}

		w.Header().Set(requestIDHeader, id)
		ctx := context.WithValue(r.Context(), stateKey, &requestState{id: id})
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// plainID accepts 8 to 64 characters of letters, digits, '-' and '_'. It
// refuses what looks like a token value, which a client may paste into the
// wrong header: the ID is logged, echoed and recorded, a token never is.
func plainID(id string) bool {
	if len(id) < 8 || len(id) > 64 || looksLikeToken(id) {
		return false
	}

	for _, c := range []byte(id) {
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
			c == '-' || c == '_'
		if !ok {
			return false
		}
	}
	return true
}

// newRequestID returns 16 random hex digits: 64 bits make a collision among
// a billion requests about as likely as one in 37 million.
func newRequestID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// requestID returns the ID withRequestID gave the request, or "".
func requestID(ctx context.Context) string {
	return stateOf(ctx).id
}

// statusRecorder remembers the status a handler wrote.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	return s.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// accessLog writes one line per request: method, route pattern, status,
// duration and request ID. It logs the pattern rather than the path, and no
// header, query or body, so nothing a client sent can carry a secret into
// the log.
func (s *Server) accessLog(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w}

		next.ServeHTTP(rec, r)

		level := slog.LevelInfo
		switch {
		case rec.status >= 500:
			level = slog.LevelError
		case rec.status >= 400:
			level = slog.LevelWarn
		}
		if !s.log.Enabled(r.Context(), level) {
			return
		}

		s.log.LogAttrs(r.Context(), level, "request",
			slog.String("method", r.Method),
			slog.String("route", routePattern(r)),
			slog.Int("status", rec.status),
			slog.Float64("duration_ms", milliseconds(time.Since(start))),
			slog.String("request_id", requestID(r.Context())))
	})
}

// milliseconds returns d in milliseconds, to the microsecond.
func milliseconds(d time.Duration) float64 {
	return float64(d.Microseconds()) / 1000
}

// routePattern returns the chi pattern that matched, such as
// "/v1/endpoints/{name}/code", or "unmatched".
func routePattern(r *http.Request) string {
	rctx := chi.RouteContext(r.Context())
	if rctx == nil {
		return "unmatched"
	}

	if p := rctx.RoutePattern(); p != "" {
		return p
	}
	return "unmatched"
}

// recoverPanics turns a panic in a handler into a 500 and a log line with
// the stack. The panic value is not logged: it could hold request data.
func (s *Server) recoverPanics(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			v := recover()
			if v == nil {
				return
			}
			if v == http.ErrAbortHandler {
				panic(v)
			}

			s.log.ErrorContext(r.Context(), "handler panicked",
				slog.String("request_id", requestID(r.Context())),
				slog.String("panic_type", fmt.Sprintf("%T", v)),
				slog.String("stack", string(debug.Stack())))

			writeProblem(w, r, fail(codeInternal, internalDetail))
		}()

		next.ServeHTTP(w, r)
	})
}

// limitBody refuses bodies over s.maxBody bytes: at once when the declared
// length is over, and while reading otherwise (see decodeJSON).
func (s *Server) limitBody(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength > s.maxBody {
			writeProblem(w, r, tooLarge(s.maxBody))
			return
		}

		if r.Body != http.NoBody {
			r.Body = http.MaxBytesReader(w, r.Body, s.maxBody)
		}
		next.ServeHTTP(w, r)
	})
}

// tooLarge is the problem for a body over the limit.
func tooLarge(limit int64) *problem {
	return fail(codePayloadTooLarge, fmt.Sprintf(
		"the request body is larger than the server's limit of %d bytes", limit))
}

// isTooLarge reports whether err came from reading past the body limit.
func isTooLarge(err error) bool {
	var mbe *http.MaxBytesError
	return errors.As(err, &mbe)
}

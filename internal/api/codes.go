package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/totpvault/totpvault/internal/store"
	"github.com/totpvault/totpvault/internal/totp"
)

// codeJSON is one step's code as the API shows it.
type codeJSON struct {
	Code       string    `json:"code"`
	ValidFrom  time.Time `json:"valid_from"`
	ValidUntil time.Time `json:"valid_until"`
}

// codeResponse is the body of GET /v1/endpoints/{name}/code.
type codeResponse struct {
	Name             string    `json:"name"`
	Code             string    `json:"code"`
	Digits           int       `json:"digits"`
	Period           int       `json:"period"`
	Counter          uint64    `json:"counter"`
	ValidFrom        time.Time `json:"valid_from"`
	ValidUntil       time.Time `json:"valid_until"`
	SecondsRemaining int       `json:"seconds_remaining"`
	Next             *codeJSON `json:"next,omitempty"`
}

// appendJSON appends c as encoding/json would write it (see jsonAppender).
func (c codeResponse) appendJSON(b []byte) []byte {
	b = append(b, `{"name":`...)
	b = appendJSONString(b, c.Name)
	b = append(b, `,"code":`...)
	b = appendJSONString(b, c.Code)
	b = append(b, `,"digits":`...)
	b = strconv.AppendInt(b, int64(c.Digits), 10)
	b = append(b, `,"period":`...)
	b = strconv.AppendInt(b, int64(c.Period), 10)
	b = append(b, `,"counter":`...)
	b = strconv.AppendUint(b, c.Counter, 10)
	b = append(b, `,"valid_from":`...)
	b = appendJSONTime(b, c.ValidFrom)
	b = append(b, `,"valid_until":`...)
	b = appendJSONTime(b, c.ValidUntil)
	b = append(b, `,"seconds_remaining":`...)
	b = strconv.AppendInt(b, int64(c.SecondsRemaining), 10)
	if n := c.Next; n != nil {
		b = append(b, `,"next":{"code":`...)
		b = appendJSONString(b, n.Code)
		b = append(b, `,"valid_from":`...)
		b = appendJSONTime(b, n.ValidFrom)
		b = append(b, `,"valid_until":`...)
		b = appendJSONTime(b, n.ValidUntil)
		b = append(b, '}')
	}
	return append(b, '}')
}

// getCode answers the current and the next code of an endpoint. With
// ?min_valid=N it first waits for the next step when fewer than N seconds
// of the current one remain.
func (s *Server) getCode(w http.ResponseWriter, r *http.Request) {
	e, err := endpointOf(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}

	minValid, err := minValidParam(r, e.Period)
	if err != nil {
		s.writeError(w, r, err)
		return
	}

	key, err := s.open(r, e)
	if err != nil {
		s.writeError(w, r, err)
		return
	}

	now, err := s.waitForValidity(r.Context(), key, minValid)
	if err != nil {
		s.writeWaitError(w, r, err)
		return
	}

	out, err := codeAt(e, key, now)
	if err != nil {
		s.writeError(w, r, err)
		return
	}

	noteOf(r).detail = "time step " + strconv.FormatUint(out.Counter, 10)
	writeJSON(w, http.StatusOK, out)
}

// minValidParam reads ?min_valid=, which must leave a step of period
// seconds some validity to wait for.
func minValidParam(r *http.Request, period int) (time.Duration, error) {
	if r.URL.RawQuery == "" {
		return 0, nil
	}

	v := r.URL.Query().Get("min_valid")
	if v == "" {
		return 0, nil
	}

	n, err := strconv.Atoi(v)
	if err != nil || n < 0 || n >= period {
		return 0, fail(codeInvalidRequest, fmt.Sprintf(
			"min_valid must be a whole number of seconds from 0 to %d, "+
				"less than the endpoint's period", period-1))
	}
	return time.Duration(n) * time.Second, nil
}

// waitForValidity returns the clock's now once the current step has at
// least minValid left, waiting for the next step when it has not. The wait
// ends early with the request's context, or with ErrShuttingDown.
func (s *Server) waitForValidity(ctx context.Context, key totp.Key, minValid time.Duration) (
	time.Time, error) {
	now := s.clock.Now()
	end := time.Unix(int64(key.Counter(now)+1)*int64(key.Period), 0)
	if end.Sub(now) >= minValid {
		return now, nil
	}

	if err := s.sleepUntil(ctx, end); err != nil {
		return time.Time{}, err
	}
	return s.clock.Now(), nil
}

// sleepUntil waits on the clock until t, the request's end, or the
// server's StopWaiting, whichever comes first.
func (s *Server) sleepUntil(ctx context.Context, t time.Time) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)

	stop := context.AfterFunc(s.stopping, func() { cancel(ErrShuttingDown) })
	defer stop()

	if err := s.clock.SleepUntil(ctx, t); err != nil {
		return context.Cause(ctx)
	}
	return nil
}

// writeWaitError answers a request whose wait ended early: the server is
// shutting down, or the client went away and there is no one to answer.
func (s *Server) writeWaitError(w http.ResponseWriter, r *http.Request, err error) {
	if !errors.Is(err, ErrShuttingDown) {
		return
	}

	writeProblem(w, r, fail(codeUnavailable,
		"the server is shutting down and stopped waiting for the next code; retry"))
}

// codeAt builds the answer for the step that holds now, and the next one.
func codeAt(e store.Endpoint, key totp.Key, now time.Time) (codeResponse, error) {
	cur, next, err := key.AtAndNext(key.Counter(now))
	if err != nil {
		return codeResponse{}, fmt.Errorf("code of endpoint %q: %w", e.Name, err)
	}

	return codeResponse{
		Name:             e.Name,
		Code:             cur.Value,
		Digits:           key.Digits,
		Period:           key.Period,
		Counter:          cur.Counter,
		ValidFrom:        cur.ValidFrom,
		ValidUntil:       cur.ValidUntil,
		SecondsRemaining: int(cur.ValidUntil.Sub(now) / time.Second),
		Next: &codeJSON{
			Code:       next.Value,
			ValidFrom:  next.ValidFrom,
			ValidUntil: next.ValidUntil,
		},
	}, nil
}

// verifyRequest is the body of POST /v1/endpoints/{name}/verify.
type verifyRequest struct {
	Code string `json:"code"`
}

// verifyResponse answers a verification; Offset is set only when valid.
type verifyResponse struct {
	Valid  bool `json:"valid"`
	Offset *int `json:"offset,omitempty"`
}

// verifyCode checks a code against the steps around now.
func (s *Server) verifyCode(w http.ResponseWriter, r *http.Request) {
	e, err := endpointOf(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}

	var req verifyRequest
	if _, err := decodeJSON(r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	if !allDigits(req.Code, e.Digits) {
		s.writeError(w, r, fail(codeInvalidRequest, fmt.Sprintf(
			"code must be exactly %d decimal digits, without spaces", e.Digits)))
		return
	}

	key, err := s.open(r, e)
	if err != nil {
		s.writeError(w, r, err)
		return
	}

	var out verifyResponse
	noteDetail(r, "not valid")
	if offset, ok := key.Verify(req.Code, s.clock.Now()); ok {
		out = verifyResponse{Valid: true, Offset: &offset}
		noteDetail(r, "valid at offset %+d", offset)
	}
	writeJSON(w, http.StatusOK, out)
}

// allDigits reports whether code is exactly n ASCII decimal digits.
func allDigits(code string, n int) bool {
	if len(code) != n {
		return false
	}

	for _, c := range []byte(code) {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

package api

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"net/http"
	"time"

	"github.com/totpvault/totpvault/internal/store"
	"github.com/totpvault/totpvault/internal/totp"
)

// maxClaimWait is the longest a claim may wait for its step.
const maxClaimWait = 5 * time.Minute

// claimRequest is the optional body of POST /v1/endpoints/{name}/claim.
type claimRequest struct {
	MinValid *int    `json:"min_valid"`
	Wait     *string `json:"wait"`
}

// claimAttempts is how many times a claim builds its bounds and tries to
// reserve a step: once more when a new secret replaced the endpoint's
// between the lookup and the reservation.
const claimAttempts = 2

// claimCode hands out a code that no earlier claim on the endpoint got: it
// reserves a time step in the database at once, waits for the step to
// begin, and answers with its code.
func (s *Server) claimCode(w http.ResponseWriter, r *http.Request) {
	e, err := endpointOf(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}

	var req claimRequest
	if err := decodeOptionalJSON(r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}

	reserved, step, err := s.reserveStep(r, e, req)
	if err != nil {
		s.writeError(w, r, err)
		return
	}

	s.answerClaim(w, r, reserved, step)
}

// reserveStep reserves the step of a claim of e and returns the endpoint
// as it stood then. The bounds are built from e's period; when the store
// finds that another secret replaced e's since it was read (perhaps with
// another period), it reserves nothing and returns the endpoint as it
// stands, and the claim is built again from that.
func (s *Server) reserveStep(r *http.Request, e store.Endpoint, req claimRequest) (
	store.Endpoint, uint64, error) {
	for range claimAttempts {
		minValid, wait, err := claimLimits(req, e.Period)
		if err != nil {
			return store.Endpoint{}, 0, err
		}

		now := s.clock.Now()
		earliest, latest := claimBounds(now, e.Period, minValid, wait)
		current, step, err := s.store.ClaimStep(r.Context(), e, earliest, latest)
		switch {
		case err == nil:
			return current, step, nil
		case !errors.Is(err, store.ErrNoFreeStep):
			return store.Endpoint{}, 0, notFoundAs(err, "endpoint", e.Name)
		case sameSecret(current, e):
			return store.Endpoint{}, 0, claimRefused(r, now, step, e.Period)
		}
		e = current
	}

	noteDetail(r, "the endpoint's secret was replaced during each of %d attempts to reserve "+
		"a time step", claimAttempts)
	return store.Endpoint{}, 0, fail(codeUnavailable, "the endpoint's secret was replaced "+
		"again and again while this claim tried to reserve a code; claim again")
}

// claimLimits checks the claim's body against the endpoint's period and
// returns its min_valid and its wait.
func claimLimits(req claimRequest, period int) (minValid, wait time.Duration, err error) {
	wait = time.Duration(period) * time.Second
	if req.Wait != nil {
		wait, err = time.ParseDuration(*req.Wait)
		if err != nil || wait < 0 || wait > maxClaimWait {
			return 0, 0, fail(codeInvalidRequest, `wait must be a duration from "0s" to "5m"`)
		}
	}

	if req.MinValid != nil {
		if *req.MinValid < 0 || *req.MinValid >= period {
			return 0, 0, fail(codeInvalidRequest, fmt.Sprintf(
				"min_valid must be a whole number of seconds from 0 to %d, "+
					"less than the endpoint's period", period-1))
		}
		minValid = time.Duration(*req.MinValid) * time.Second
	}
	return minValid, wait, nil
}

// claimBounds returns the steps a claim made at now may get: from the
// earliest that is not before the current one and still has minValid of
// validity when handed out, to the last that begins within wait.
func claimBounds(now time.Time, period int, minValid, wait time.Duration) (earliest, latest uint64) {
	p := time.Duration(period) * time.Second
	since := time.Duration(now.UnixNano())

	earliest = uint64(since / p)
	if end := time.Duration(earliest+1) * p; end-since < minValid {
		earliest++
	}
	return earliest, uint64((since + wait) / p)
}

// sameSecret reports whether a and b are the endpoint with the same
// secret: a claim's bounds and code hold only for the secret they were
// made for.
func sameSecret(a, b store.Endpoint) bool {
	return a.Period == b.Period && bytes.Equal(a.SealedSecret, b.SealedSecret)
}

// claimRefused explains a claim that found no free step within its wait,
// and says when to come back: the whole seconds until the step that would
// have been reserved begins. The step may be out of reach because other
// claims took the steps before it, or because min_valid ruled out the
// current one; the detail holds for both.
func claimRefused(r *http.Request, now time.Time, step uint64, period int) error {
	begins := time.Unix(int64(step)*int64(period), 0)
	retry := max(int(math.Ceil(begins.Sub(now).Seconds())), 1)
	noteDetail(r, "no free time step within the wait; step %d begins in %d s", step, retry)

	return retryIn(retry, codeCodeAlreadyClaimed, fmt.Sprintf(
		"the wait ends before the next free code, one that no other claim got and that "+
			"has min_valid seconds left; it is valid in %d s: retry then, or claim with "+
			"a longer wait", retry))
}

// answerClaim waits until the reserved step begins and answers its code. A
// client that goes away leaves its step unused: it is never handed out.
func (s *Server) answerClaim(w http.ResponseWriter, r *http.Request, e store.Endpoint,
	step uint64) {
	key, err := s.open(r, e)
	if err != nil {
		s.writeError(w, r, err)
		return
	}

	code, err := key.At(step)
	if err != nil {
		s.writeError(w, r, fmt.Errorf("code of endpoint %q: %w", e.Name, err))
		return
	}

	if code.ValidFrom.After(s.clock.Now()) {
		if err := s.awaitStep(r, e, step, code.ValidFrom); err != nil {
			s.writeClaimWaitError(w, r, err, step)
			return
		}
	}

	noteDetail(r, "time step %d", step)
	writeJSON(w, http.StatusOK, claimAnswer(e, key, code, s.clock.Now()))
}

// awaitStep waits until the reserved step of e begins at begins, and then
// makes sure that e's secret still stands: a secret replaced during the
// wait would make the code of the old one useless. Until the answer, the
// audit detail names the reserved step, so that the record of a claim
// that ends during the wait tells which step was lost.
func (s *Server) awaitStep(r *http.Request, e store.Endpoint, step uint64,
	begins time.Time) error {
	noteDetail(r, "reserved time step %d", step)
	if err := s.sleepUntil(r.Context(), begins); err != nil {
		return err
	}
	return s.secretStands(r, e, step)
}

// secretStands checks in the database, past any cache, that the endpoint
// still has e's secret; step is the claim's, for the audit detail.
func (s *Server) secretStands(r *http.Request, e store.Endpoint, step uint64) error {
	current, err := s.store.GetEndpoint(r.Context(), e.Name)
	switch {
	case errors.Is(err, store.ErrNotFound):
		noteDetail(r, "reserved time step %d; the endpoint was deleted during the wait", step)
		return fail(codeNotFound, fmt.Sprintf(
			"endpoint %q was deleted while this claim waited for its code", e.Name))
	case err != nil:
		return fmt.Errorf("read endpoint %q after the wait: %w", e.Name, err)
	case !sameSecret(current, e):
		noteDetail(r, "reserved time step %d; the secret was replaced during the wait", step)
		return fail(codeUnavailable, "the endpoint's secret was replaced while this claim "+
			"waited, so the code it waited for is of no use; claim again")
	}
	return nil
}

// writeClaimWaitError answers a claim whose wait for step ended without
// its code. A client that went away gets no answer; its step is simply
// never handed out.
func (s *Server) writeClaimWaitError(w http.ResponseWriter, r *http.Request, err error,
	step uint64) {
	switch {
	case errors.Is(err, ErrShuttingDown):
		noteDetail(r, "reserved time step %d; the server shut down before it began", step)
		writeProblem(w, r, fail(codeUnavailable, fmt.Sprintf(
			"the server is shutting down and stopped waiting for time step %d, which no "+
				"claim will get; claim again", step)))
	case r.Context().Err() != nil:
		return
	default:
		s.writeError(w, r, err)
	}
}

// claimAnswer is the body of a granted claim: a code answer without next.
func claimAnswer(e store.Endpoint, key totp.Key, code totp.Code, now time.Time) codeResponse {
	return codeResponse{
		Name:             e.Name,
		Code:             code.Value,
		Digits:           key.Digits,
		Period:           key.Period,
		Counter:          code.Counter,
		ValidFrom:        code.ValidFrom,
		ValidUntil:       code.ValidUntil,
		SecondsRemaining: int(code.ValidUntil.Sub(now) / time.Second),
	}
}

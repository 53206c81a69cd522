package api

import (
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
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

// claimCode hands out a code that no earlier claim on the endpoint got: it
// reserves a time step in the database at once, waits for the step to
// begin, and answers with its code.
func (s *Server) claimCode(w http.ResponseWriter, r *http.Request) {
	e, err := endpointOf(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}

	minValid, wait, err := claimParams(r, e.Period)
	if err != nil {
		s.writeError(w, r, err)
		return
	}

	now := s.clock.Now()
	earliest, latest := claimBounds(now, e.Period, minValid, wait)
	reserved, step, err := s.store.ClaimStep(r.Context(), e.Name, earliest, latest)
	if err != nil {
		s.writeError(w, r, claimError(w, r, err, e.Name, now, step, e.Period))
		return
	}

	s.answerClaim(w, r, reserved, step)
}

// claimParams reads and checks the claim's body.
func claimParams(r *http.Request, period int) (minValid, wait time.Duration, err error) {
	var req claimRequest
	if err := decodeOptionalJSON(r, &req); err != nil {
		return 0, 0, err
	}

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

// claimError explains a claim that reserved nothing. When no step was free
// within the wait it says when to come back: the whole seconds until the
// step that would have been reserved begins.
func claimError(w http.ResponseWriter, r *http.Request, err error, name string,
	now time.Time, step uint64, period int) error {
	if !errors.Is(err, store.ErrNoFreeStep) {
		return notFoundAs(err, "endpoint", name)
	}

	begins := time.Unix(int64(step)*int64(period), 0)
	retry := int(math.Ceil(begins.Sub(now).Seconds()))
	w.Header().Set("Retry-After", strconv.Itoa(max(retry, 1)))
	noteDetail(r, "no free time step within the wait; step %d begins in %d s", step, retry)

	return fail(codeCodeAlreadyClaimed, fmt.Sprintf(
		"every code within the wait was claimed already; the next free one is valid in "+
			"%d s: retry then, or claim with a longer wait", retry))
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
	if err := s.sleepUntil(r.Context(), code.ValidFrom); err != nil {
		s.writeWaitError(w, r, err)
		return
	}

	noteDetail(r, "time step %d", step)
	writeJSON(w, http.StatusOK, claimAnswer(e, key, code, s.clock.Now()))
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

package api

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/google/uuid"

	"github.com/totpvault/totpvault/internal/access"
	"github.com/totpvault/totpvault/internal/store"
)

// tokenRequest is the body of POST /v1/tokens.
type tokenRequest struct {
	Name   string   `json:"name"`
	Role   string   `json:"role"`
	Scopes []string `json:"scopes"`
	TTL    *string  `json:"ttl"`
}

// createToken mints a token; its value is in this answer only.
func (s *Server) createToken(w http.ResponseWriter, r *http.Request) {
	var req tokenRequest
	if _, err := decodeJSON(r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}

	now := s.clock.Now()
	t, err := req.token(now)
	if err != nil {
		s.writeError(w, r, err)
		return
	}

	value, hash, err := access.Mint(s.random)
	if err != nil {
		s.writeError(w, r, fmt.Errorf("mint token: %w", err))
		return
	}
	t.Hash = hash

	ev, written := s.changeEvent(r, describeToken(t))
	t, err = s.store.CreateToken(r.Context(), t, ev)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	written()

	out := showToken(t)
	out.Token = value
	writeJSON(w, http.StatusCreated, out)
}

// token checks the request and turns it into a token record without its
// hash.
func (req tokenRequest) token(now time.Time) (store.Token, error) {
	t := store.Token{
		ID:        store.NewID(),
		Name:      req.Name,
		Role:      store.Role(req.Role),
		Scopes:    req.Scopes,
		CreatedAt: now,
	}

	if err := access.CheckTokenName(req.Name); err != nil {
		return t, fail(codeInvalidRequest, err.Error())
	}
	if err := access.CheckGrant(req.Role, req.Scopes); err != nil {
		return t, fail(codeInvalidRequest, err.Error())
	}

	if req.TTL != nil {
		ttl, err := time.ParseDuration(*req.TTL)
		if err != nil || ttl <= 0 {
			return t, fail(codeInvalidRequest,
				`ttl must be a positive duration such as "720h" or "90m"`)
		}
		t.ExpiresAt = now.Add(ttl)
	}
	return t, nil
}

// describeToken says, for the audit trail, which token was made.
func describeToken(t store.Token) string {
	d := fmt.Sprintf("token %s %q, role %s", t.ID, t.Name, t.Role)
	if len(t.Scopes) > 0 {
		d += ", scopes " + strings.Join(t.Scopes, " ")
	}
	if !t.ExpiresAt.IsZero() {
		d += ", expires " + t.ExpiresAt.UTC().Format(time.RFC3339)
	}
	return d
}

// listTokens answers a page of the tokens that were not revoked.
func (s *Server) listTokens(w http.ResponseWriter, r *http.Request) {
	limit, after, err := pageParams(r.URL.Query(), "t")
	if err == nil && after != "" && uuid.Validate(after) != nil {
		err = errBadCursor
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}

	tokens, err := s.store.ListTokens(r.Context(), store.TokenQuery{After: after, Limit: limit + 1})
	if err != nil {
		s.writeError(w, r, err)
		return
	}

	out := struct {
		Tokens     []tokenJSON `json:"tokens"`
		NextCursor string      `json:"next_cursor,omitempty"`
	}{Tokens: make([]tokenJSON, 0, len(tokens))}

	if len(tokens) > limit {
		tokens = tokens[:limit]
		out.NextCursor = encodeCursor("t", tokens[limit-1].ID)
	}
	for _, t := range tokens {
		out.Tokens = append(out.Tokens, showToken(t))
	}
	writeJSON(w, http.StatusOK, out)
}

// getToken answers one token that was not revoked.
func (s *Server) getToken(w http.ResponseWriter, r *http.Request) {
	id := chi.URLParam(r, "id")

	t, err := s.store.GetToken(r.Context(), id)
	if err != nil {
		s.writeError(w, r, tokenNotFound(err, id))
		return
	}

	writeJSON(w, http.StatusOK, showToken(t))
}

// revokeToken revokes a token; every instance refuses it from then on,
// since each request looks the token up afresh.
func (s *Server) revokeToken(w http.ResponseWriter, r *http.Request) {
	id := chi.URLParam(r, "id")

	ev, written := s.changeEvent(r, "revoked token "+truncate(id, 64))
	if err := s.store.RevokeToken(r.Context(), id, s.clock.Now(), ev); err != nil {
		s.writeError(w, r, tokenNotFound(err, id))
		return
	}
	written()
	s.forgetTokens()

	w.WriteHeader(http.StatusNoContent)
}

// tokenNotFound turns store.ErrNotFound into the problem for a token ID.
func tokenNotFound(err error, id string) error {
	if errors.Is(err, store.ErrNotFound) {
		return fail(codeNotFound, fmt.Sprintf(
			"no token has ID %q, or it was revoked", truncate(id, 64)))
	}
	return err
}

package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/go-chi/chi/v5"

	"github.com/totpvault/totpvault/internal/access"
	"github.com/totpvault/totpvault/internal/store"
)

// errNoToken is the problem for every request whose bearer token is missing,
// unknown, expired or revoked. One message for all four, so that a caller
// holding a stolen token learns nothing about its state.
var errNoToken = fail(codeUnauthorized,
	"send a valid bearer token in the Authorization header "+
		"(the token given is missing, unknown, expired or revoked)")

// presentedHash returns the SHA-256 of the request's bearer token.
func presentedHash(r *http.Request) ([]byte, error) {
	scheme, value, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	value = strings.TrimSpace(value)
	if !ok || !strings.EqualFold(scheme, "Bearer") || value == "" {
		noteDetail(r, "no bearer token was presented")
		return nil, errNoToken
	}
	return access.Hash(value), nil
}

// admit checks that tok may be used at all at the clock's now, noting
// for the audit trail why not.
func (s *Server) admit(r *http.Request, tok store.Token) error {
	now := s.clock.Now()
	note := noteOf(r)
	note.token = tok

	switch {
	case !tok.RevokedAt.IsZero():
		note.detail = "the token was revoked"
		return errNoToken
	case !tok.ExpiresAt.IsZero() && !now.Before(tok.ExpiresAt):
		note.detail = "the token expired"
		return errNoToken
	}
	return nil
}

// authenticate finds the request's token, admits it and puts it into the
// context. It answers 401 for a token that cannot be used.
func (s *Server) authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hash, err := presentedHash(r)
		if err != nil {
			s.writeError(w, r, err)
			return
		}

		tok, err := s.lookups.TokenByHash(r.Context(), hash)
		if err = s.tokenError(r, tok, err); err != nil {
			s.writeError(w, r, err)
			return
		}

		stateOf(r.Context()).principal = tok
		next.ServeHTTP(w, r)
	})
}

// authenticateWithEndpoint is authenticate for routes under
// /v1/endpoints/{name}: it fetches the token and the endpoint in one round
// trip and puts both into the context. The endpoint is only looked at after
// the role and scope checks, so a refusal never depends on it.
func (s *Server) authenticateWithEndpoint(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hash, err := presentedHash(r)
		if err != nil {
			s.writeError(w, r, err)
			return
		}

		tok, ep, err := s.tokenAndEndpoint(r.Context(), hash, chi.URLParam(r, "name"))
		if err = s.tokenError(r, tok, err); err != nil {
			s.writeError(w, r, err)
			return
		}

		st := stateOf(r.Context())
		st.principal, st.endpoint = tok, ep
		next.ServeHTTP(w, r)
	})
}

// tokenAndEndpoint looks up the token and the endpoint named in the path.
// A name that cannot be an endpoint's (too long, a NUL byte, bytes that are
// not UTF-8) is not sent to the store, whose text columns could not even
// compare it: only the token is looked up, and the endpoint is nil, so the
// request ends as for any name that does not exist.
func (s *Server) tokenAndEndpoint(ctx context.Context, hash []byte, name string) (
	store.Token, *store.Endpoint, error) {
	if !store.ValidName(name) {
		tok, err := s.lookups.TokenByHash(ctx, hash)
		return tok, nil, err
	}
	return s.lookups.TokenAndEndpoint(ctx, hash, name)
}

// looksLikeToken reports whether s could be a token value: it starts with
// the prefix of minted tokens, in any case.
func looksLikeToken(s string) bool {
	return len(s) >= len(access.Prefix) && strings.EqualFold(s[:len(access.Prefix)], access.Prefix)
}

// tokenError turns the outcome of a token lookup into the error to answer
// with, or nil when the token may be used.
func (s *Server) tokenError(r *http.Request, tok store.Token, err error) error {
	switch {
	case errors.Is(err, store.ErrNotFound):
		noteDetail(r, "no token has the value presented")
		return errNoToken
	case err != nil:
		return fmt.Errorf("look up token: %w", err)
	}
	return s.admit(r, tok)
}

// principal returns the token that authenticated the request.
func principal(r *http.Request) store.Token {
	return stateOf(r.Context()).principal
}

// requireAdmin lets only admin tokens through.
func requireAdmin(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if principal(r).Role != store.RoleAdmin {
			noteDetail(r, "a runner token asked for an admin operation")
			writeProblem(w, r, fail(codeForbidden,
				"this operation needs an admin token; runner tokens may only read "+
					"endpoints and their codes"))
			return
		}
		next.ServeHTTP(w, r)
	})
}

// requireScope lets through admin tokens, and runner tokens whose scopes
// match the endpoint name in the path.
func requireScope(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tok := principal(r)
		name := chi.URLParam(r, "name")

		if tok.Role != store.RoleAdmin && !access.Permits(tok.Scopes, name) {
			noteDetail(r, "the token's scopes do not cover the endpoint")
			writeProblem(w, r, fail(codeForbidden, fmt.Sprintf(
				"this token's scopes do not cover endpoint %q; ask an admin for a token "+
					"whose scopes match it", name)))
			return
		}
		next.ServeHTTP(w, r)
	})
}

// visible reports whether the request's token may see endpoint name.
func visible(r *http.Request, name string) bool {
	tok := principal(r)
	return tok.Role == store.RoleAdmin || access.Permits(tok.Scopes, name)
}

// endpointOf returns the endpoint that authenticateWithEndpoint found, or a
// not_found problem. A name that cannot exist is simply not found.
func endpointOf(r *http.Request) (store.Endpoint, error) {
	ep := stateOf(r.Context()).endpoint
	if ep == nil {
		return store.Endpoint{}, fail(codeNotFound, fmt.Sprintf(
			"no endpoint is named %q", chi.URLParam(r, "name")))
	}
	return *ep, nil
}

package api

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/totpvault/totpvault/internal/store"
)

// writeJSON answers with v as JSON and the given status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// endpointJSON is an endpoint as the API shows it: never its secret.
type endpointJSON struct {
	Name      string            `json:"name"`
	Issuer    string            `json:"issuer"`
	Account   string            `json:"account"`
	Algorithm string            `json:"algorithm"`
	Digits    int               `json:"digits"`
	Period    int               `json:"period"`
	Labels    map[string]string `json:"labels"`
	CreatedAt time.Time         `json:"created_at"`
	UpdatedAt time.Time         `json:"updated_at"`

	// OTPAuthURI and QRPNG are set once, in the answer that made a
	// generated secret; encoding/json writes QRPNG as base64.
	OTPAuthURI string `json:"otpauth_uri,omitempty"`
	QRPNG      []byte `json:"qr_png,omitempty"`
}

// showEndpoint turns a stored endpoint into its JSON form.
func showEndpoint(e store.Endpoint) endpointJSON {
	labels := e.Labels
	if labels == nil {
		labels = map[string]string{}
	}

	return endpointJSON{
		Name:      e.Name,
		Issuer:    e.Issuer,
		Account:   e.Account,
		Algorithm: e.Algorithm,
		Digits:    e.Digits,
		Period:    e.Period,
		Labels:    labels,
		CreatedAt: e.CreatedAt.UTC(),
		UpdatedAt: e.UpdatedAt.UTC(),
	}
}

// tokenJSON is a token as the API shows it: its value only once, when made.
type tokenJSON struct {
	ID        string     `json:"id"`
	Name      string     `json:"name"`
	Role      store.Role `json:"role"`
	Scopes    []string   `json:"scopes"`
	CreatedAt time.Time  `json:"created_at"`
	ExpiresAt *time.Time `json:"expires_at,omitempty"`

	// Token is set only in the answer that created the token.
	Token string `json:"token,omitempty"`
}

// showToken turns a stored token into its JSON form.
func showToken(t store.Token) tokenJSON {
	out := tokenJSON{
		ID:        t.ID,
		Name:      t.Name,
		Role:      t.Role,
		Scopes:    t.Scopes,
		CreatedAt: t.CreatedAt.UTC(),
	}

	if out.Scopes == nil {
		out.Scopes = []string{}
	}
	if !t.ExpiresAt.IsZero() {
		exp := t.ExpiresAt.UTC()
		out.ExpiresAt = &exp
	}
	return out
}

package api

import (
	"encoding/json"
	"net/http"
	"time"
	"unicode/utf8"

	"github.com/totpvault/totpvault/internal/store"
)

// writeJSON answers with v as JSON and the given status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	if a, ok := v.(jsonAppender); ok {
		_, _ = w.Write(append(a.appendJSON(make([]byte, 0, 512)), '\n'))
		return
	}
	_ = json.NewEncoder(w).Encode(v)
}

// jsonAppender is an answer on the path of every code read, which writes
// its own JSON: byte for byte what encoding/json writes for it (the tests
// compare the two), without reflection or an allocation per time field.
type jsonAppender interface {
	appendJSON(b []byte) []byte
}

// appendJSONString appends s to b as a JSON string, escaped as
// encoding/json escapes it: HTML's <, > and &, U+2028 and U+2029 as \u
// escapes, and each byte that is not UTF-8 as U+FFFD.
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"

	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= ' ' && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			start = i
			continue
		}

		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xf])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// appendJSONTime appends t as encoding/json writes a time.Time.
func appendJSONTime(b []byte, t time.Time) []byte {
	b = append(b, '"')
	b = t.AppendFormat(b, time.RFC3339Nano)
	return append(b, '"')
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

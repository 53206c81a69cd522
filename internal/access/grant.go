package access

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// The roles a token can have, as the API and the store spell them.
const (
	RoleAdmin  = "admin"
	RoleRunner = "runner"
)

// Limits of a token's description.
const (
	// MaxTokenName is the longest token name in characters.
	MaxTokenName = 128

	// MaxScopes is the most scopes one runner token may have.
	MaxScopes = 64
)

// CheckGrant reports whether role and scopes make a usable token: an admin
// reaches every endpoint and takes no scopes; a runner needs 1 to MaxScopes
// scopes that CheckScope accepts. The error is written for an API client.
func CheckGrant(role string, scopes []string) error {
	switch role {
	case RoleAdmin:
		if len(scopes) > 0 {
			return errors.New("admin tokens reach every endpoint and take no scopes; omit scopes")
		}
		return nil
	case RoleRunner:
	default:
		return errors.New(`role must be "admin" or "runner"`)
	}

	if len(scopes) == 0 || len(scopes) > MaxScopes {
		return fmt.Errorf("a runner token needs 1 to %d scopes, globs of the endpoint names "+
			`it may read such as "o365-*" (got %d)`, MaxScopes, len(scopes))
	}
	for _, s := range scopes {
		if err := CheckScope(s); err != nil {
			return err
		}
	}
	return nil
}

// CheckTokenName reports whether name can describe a token: 1 to
// MaxTokenName characters of text without control characters.
func CheckTokenName(name string) error {
	n := utf8.RuneCountInString(name)
	if n == 0 || n > MaxTokenName || !utf8.ValidString(name) ||
		strings.IndexFunc(name, unicode.IsControl) >= 0 {
		return fmt.Errorf("token name must be 1 to %d characters without control "+
			"characters, saying who uses the token, such as eu-runners", MaxTokenName)
	}
	return nil
}

// Package store holds the records that totpvault keeps (endpoints and tokens)
// and the errors its storage implementations return. It knows nothing of HTTP
// and nothing of SQL: implementations live in its subpackages.
package store

import (
	"errors"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
)

// Errors returned by every store implementation. Callers match them with
// errors.Is; implementations wrap them with context.
var (
	// ErrNotFound means the record asked for does not exist (or, for a token,
	// was revoked).
	ErrNotFound = errors.New("not found")

	// ErrAlreadyExists means a record with the same unique name exists.
	ErrAlreadyExists = errors.New("already exists")

	// ErrNoFreeStep means a claim found no free time step within its
	// bounds, and reserved nothing.
	ErrNoFreeStep = errors.New("no free time step")

	// ErrSchemaNotCurrent means the database answers but its schema is older
	// or newer than the one this build expects.
	ErrSchemaNotCurrent = errors.New("schema not current")
)

// Role is what a token may do.
type Role string

// The roles a token can have.
const (
	// RoleAdmin may do everything.
	RoleAdmin Role = "admin"

	// RoleRunner may read endpoints and their codes within its scopes.
	RoleRunner Role = "runner"
)

// Endpoint is one monitored account whose sign-in needs a TOTP code.
type Endpoint struct {
	// ID never changes; it is the associated data that binds SealedSecret to
	// this row.
	ID string

	// Name is unique and never changes.
	Name string

	Issuer  string
	Account string

	// Algorithm is "SHA1", "SHA256" or "SHA512".
	Algorithm string

	Digits int

	// Period is the length of a time step in seconds.
	Period int

	// Labels is never nil on records a store returns.
	Labels map[string]string

	// SealedSecret is the TOTP secret sealed by the keyring; a store never
	// sees the plaintext.
	SealedSecret []byte

	CreatedAt time.Time
	UpdatedAt time.Time
}

// SecretAD returns the associated data that binds e's sealed secret to
// its row: sealed bytes copied onto another endpoint fail to open.
func (e Endpoint) SecretAD() []byte {
	return []byte("totpvault/endpoint-secret/v1:" + e.ID)
}

// EndpointQuery selects a page of endpoints, ordered by name.
type EndpointQuery struct {
	// Prefix, when not empty, keeps names that start with it.
	Prefix string

	// Labels keeps endpoints that carry every one of these pairs.
	Labels map[string]string

	// After, when not empty, keeps names that sort strictly after it (byte
	// order).
	After string

	// Limit is the largest number of endpoints returned; it must be positive.
	Limit int
}

// EndpointUpdate is a partial change of an endpoint's descriptive fields. A
// nil field is left as it is.
type EndpointUpdate struct {
	Issuer  *string
	Account *string
	Labels  *map[string]string

	// UpdatedAt is the time recorded as the endpoint's last change.
	UpdatedAt time.Time
}

// Token is a bearer credential as stored: its value is never kept, only the
// SHA-256 hash of it.
type Token struct {
	ID     string
	Name   string
	Role   Role
	Scopes []string

	// Hash is the SHA-256 of the token value.
	Hash []byte

	CreatedAt time.Time

	// ExpiresAt is zero for a token that never expires.
	ExpiresAt time.Time

	// RevokedAt is zero for a token that was not revoked.
	RevokedAt time.Time
}

// TokenQuery selects a page of tokens that were not revoked, ordered by ID.
type TokenQuery struct {
	// After, when not empty, keeps IDs that sort strictly after it.
	After string

	// Limit is the largest number of tokens returned; it must be positive.
	Limit int
}

// NewID returns a fresh record ID: a version 7 UUID, so IDs made later sort
// later.
func NewID() string {
	return uuid.Must(uuid.NewV7()).String()
}

// MaxNameLen is the longest endpoint name.
const MaxNameLen = 128

// ValidName reports whether name can be an endpoint's name: 1 to
// MaxNameLen characters of A-Z a-z 0-9 . _ -, starting with a letter or a
// digit.
func ValidName(name string) bool {
	if name == "" || len(name) > MaxNameLen {
		return false
	}

	for i, c := range []byte(name) {
		alnum := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
		if !alnum && (i == 0 || c != '.' && c != '_' && c != '-') {
			return false
		}
	}
	return true
}

// Event is one audit record: who did what to which endpoint, and how it
// ended. It never holds a secret, a code or a token value.
type Event struct {
	// ID is given by the store when the event is written.
	ID string

	Time    time.Time
	Action  Action
	Outcome Outcome

	// Endpoint is the endpoint name the request named, or "".
	Endpoint string

	// TokenID and TokenName are those of the token that made the request,
	// or "" when none could be identified.
	TokenID   string
	TokenName string

	// RemoteAddr is the client's IP address.
	RemoteAddr string

	RequestID string

	// Detail is a short note for a person, or "".
	Detail string
}

// Action is what an audit event records.
type Action string

// The actions of the audit trail.
const (
	ActionEndpointCreate Action = "endpoint.create"
	ActionEndpointUpdate Action = "endpoint.update"
	ActionSecretReplace  Action = "endpoint.secret_replace"
	ActionEndpointDelete Action = "endpoint.delete"
	ActionCodeRead       Action = "code.read"
	ActionCodeClaim      Action = "code.claim"
	ActionCodeVerify     Action = "code.verify"
	ActionTokenCreate    Action = "token.create"
	ActionTokenRevoke    Action = "token.revoke"
	ActionAuthDenied     Action = "auth.denied"
)

// Outcome is how an audited request ended.
type Outcome string

// The outcomes of audited requests.
const (
	// OutcomeSuccess: the request did what it asked.
	OutcomeSuccess Outcome = "success"

	// OutcomeDenied: the request's token was missing, unusable, or lacked
	// the role or scope.
	OutcomeDenied Outcome = "denied"

	// OutcomeError: the request failed, on the client's input or on the
	// server's side.
	OutcomeError Outcome = "error"
)

// StorableText returns s with U+FFFD in place of each NUL byte and each run
// of bytes that is not UTF-8. Events carry what clients sent (the endpoint
// named in a path); PostgreSQL's text cannot hold such bytes and would fail
// a whole batch of events over them, so every store keeps the same cleaned
// text, and audit filters match it alike.
func StorableText(s string) string {
	if utf8.ValidString(s) && !strings.Contains(s, "\x00") {
		return s
	}
	return strings.ReplaceAll(strings.ToValidUTF8(s, "\ufffd"), "\x00", "\ufffd")
}

// EventQuery selects a page of audit events, newest first: ordered by
// Time, then ID, both descending.
type EventQuery struct {
	// Endpoint, Action and TokenID, when not empty, keep events that match
	// them exactly.
	Endpoint string
	Action   Action
	TokenID  string

	// Since keeps events at or after it; Until keeps events before it. A
	// zero time does not filter.
	Since time.Time
	Until time.Time

	// Before, when not nil, keeps events that sort after it in the
	// newest-first order: older than Before.Time, or as old with a smaller
	// ID. It is the last event of the previous page.
	Before *EventKey

	// Limit is the largest number of events returned; it must be positive.
	Limit int
}

// EventKey is the position of an event in the newest-first order.
type EventKey struct {
	Time time.Time
	ID   string
}

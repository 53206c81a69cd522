// Package storetest is the contract that every store implementation meets:
// one suite of tests that each implementation runs against a real instance
// of itself: PostgreSQL, and the embedded SQLite store.
package storetest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/totpvault/totpvault/internal/store"
)

// Store is what the suite exercises: the record-keeping methods of a store.
// Each change takes the audit event that records it; the change and its
// event are written together or not at all.
type Store interface {
	CreateEndpoint(ctx context.Context, e store.Endpoint, ev store.Event) (store.Endpoint, error)
	GetEndpoint(ctx context.Context, name string) (store.Endpoint, error)
	ListEndpoints(ctx context.Context, q store.EndpointQuery) ([]store.Endpoint, error)
	UpdateEndpoint(ctx context.Context, name string, u store.EndpointUpdate, ev store.Event) (
		store.Endpoint, error)
	ReplaceSecret(ctx context.Context, e store.Endpoint, ev store.Event) (store.Endpoint, error)
	DeleteEndpoint(ctx context.Context, name string, ev store.Event) error

	CreateToken(ctx context.Context, t store.Token, ev store.Event) (store.Token, error)
	CreateFirstAdminToken(ctx context.Context, t store.Token, ev store.Event) (
		created bool, err error)
	GetToken(ctx context.Context, id string) (store.Token, error)
	ListTokens(ctx context.Context, q store.TokenQuery) ([]store.Token, error)
	RevokeToken(ctx context.Context, id string, at time.Time, ev store.Event) error
	TokenByHash(ctx context.Context, hash []byte) (store.Token, error)
	TokenAndEndpoint(ctx context.Context, hash []byte, name string) (
		store.Token, *store.Endpoint, error)

	// Event IDs are decimal numbers that grow in the order events are
	// written.
	AppendEvents(ctx context.Context, events []store.Event) error
	ListEvents(ctx context.Context, q store.EventQuery) ([]store.Event, error)
	PruneEvents(ctx context.Context, before time.Time, limit int) (deleted int, err error)

	// ClaimStep reserves the earliest step not before earliest and later
	// than every step reserved so far, unless it is after latest or the
	// endpoint no longer has e's period and sealed secret.
	ClaimStep(ctx context.Context, e store.Endpoint, earliest, latest uint64) (
		store.Endpoint, uint64, error)
}

// Run runs the contract suite against the stores that newStore returns.
// Every subtest calls newStore exactly once and owns the store it gets, so
// newStore must return an empty, migrated store each time (and release it in
// t.Cleanup). Subtests run in parallel.
func Run(t *testing.T, newStore func(t *testing.T) Store) {
	suite := []struct {
		name string
		test func(t *testing.T, s Store)
	}{
		{"an endpoint reads back as it was created", testEndpointRoundTrip},
		{"a taken endpoint name is refused", testEndpointNameTaken},
		{"fields outside their ranges are refused", testInvalidFields},
		{"missing records are reported as not found", testNotFound},
		{"endpoints list in byte order of their names", testListOrder},
		{"a prefix is matched literally", testListPrefix},
		{"a labels filter needs every pair", testListLabels},
		{"After and Limit page through endpoints", testListPages},
		{"an update changes only the fields it sets", testUpdate},
		{"a secret is replaced by endpoint ID", testReplaceSecret},
		{"a deleted endpoint is gone", testDelete},
		{"a token reads back as it was created", testTokenRoundTrip},
		{"a taken token hash is refused", testTokenHashTaken},
		{"token lists hide revoked tokens and show expired ones", testListTokens},
		{"a token is revoked once", testRevokeToken},
		{"a token and an endpoint come back together", testTokenAndEndpoint},
		{"the first admin token is created only without an admin", testFirstAdmin},
		{"concurrent starts create one first admin token", testFirstAdminConcurrent},
		{"a batch of events reads back once each, as it was written", testAppendEvents},
		{"an empty batch of events writes nothing", testAppendNoEvents},
		{"NUL bytes and invalid UTF-8 in events are replaced", testEventOddText},
		{"a batch with a refused event writes nothing", testAppendRefused},
		{"events list newest first, ties broken by ID", testEventOrder},
		{"event filters select exactly their events", testEventFilters},
		{"Before and Limit page through events", testEventPages},
		{"events are pruned oldest first, a batch at a time", testPruneEvents},
		{"a change and its event are written together or not at all", testChangeEvents},
		{"the first admin token and its event are written together", testFirstAdminEvent},
		{"claims reserve successive steps from the earliest", testClaimSteps},
		{"a claim past its latest step reserves nothing", testClaimRefused},
		{"concurrent claims each get a step of their own", testClaimConcurrent},
		{"a new secret starts the claims over", testClaimAfterReplace},
		{"claims on one endpoint leave another alone", testClaimEndpointsApart},
		{"a claim for a replaced secret reserves nothing", testClaimStaleSecret},
	}

	for _, st := range suite {
		t.Run(st.name, func(t *testing.T) {
			t.Parallel()
			st.test(t, newStore(t))
		})
	}
}

// base is the time the suite's records are made at. It has whole
// microseconds, which every store keeps exactly.
var base = time.Date(2026, 12, 3, 18, 0, 0, 123456000, time.UTC)

// newEndpoint returns a valid endpoint called name, ready to be created.
func newEndpoint(name string) store.Endpoint {
	return store.Endpoint{
		ID:           store.NewID(),
		Name:         name,
		Issuer:       "Contoso",
		Account:      name + "@contoso.example",
		Algorithm:    "SHA1",
		Digits:       6,
		Period:       30,
		Labels:       map[string]string{"env": "prod"},
		SealedSecret: []byte("sealed:" + name + "\x00\xff"),
		CreatedAt:    base,
		UpdatedAt:    base,
	}
}

// newToken returns a valid token, ready to be created; its hash is that of
// a value made from its ID, so that each token has its own.
func newToken(name string, role store.Role) store.Token {
	id := store.NewID()
	hash := sha256.Sum256([]byte("value of " + id))

	scopes := []string{}
	if role == store.RoleRunner {
		scopes = []string{"o365-*", "web-?"}
	}

	return store.Token{
		ID:        id,
		Name:      name,
		Role:      role,
		Scopes:    scopes,
		Hash:      hash[:],
		CreatedAt: base,
	}
}

// newEvent returns an event of action on endpoint with every other field
// set, as a change passes it to the store.
func newEvent(action store.Action, endpoint string) store.Event {
	return store.Event{
		Time:       base,
		Action:     action,
		Outcome:    store.OutcomeSuccess,
		Endpoint:   endpoint,
		TokenID:    "0190f3a1-7c2e-7b3d-9a4e-5f6a7b8c9d0e",
		TokenName:  "ops",
		RemoteAddr: "192.0.2.7",
		RequestID:  "req-" + string(action) + "-" + endpoint,
		Detail:     "by the contract suite",
	}
}

// createEndpoint creates e in s or stops t.
func createEndpoint(t *testing.T, s Store, e store.Endpoint) store.Endpoint {
	t.Helper()

	created, err := s.CreateEndpoint(t.Context(), e, newEvent(store.ActionEndpointCreate, e.Name))
	if err != nil {
		t.Fatalf("CreateEndpoint(%q): %v", e.Name, err)
	}

	return created
}

// createEndpoints creates an endpoint for each of names in s or stops t.
func createEndpoints(t *testing.T, s Store, names ...string) {
	t.Helper()

	for _, n := range names {
		createEndpoint(t, s, newEndpoint(n))
	}
}

// createToken creates tok in s or stops t.
func createToken(t *testing.T, s Store, tok store.Token) store.Token {
	t.Helper()

	created, err := s.CreateToken(t.Context(), tok, newEvent(store.ActionTokenCreate, ""))
	if err != nil {
		t.Fatalf("CreateToken(%q): %v", tok.Name, err)
	}

	return created
}

// revokeToken revokes the token with this ID in s at at, or stops t.
func revokeToken(t *testing.T, s Store, id string, at time.Time) {
	t.Helper()

	err := s.RevokeToken(t.Context(), id, at, newEvent(store.ActionTokenRevoke, ""))
	if err != nil {
		t.Fatalf("RevokeToken(%s): %v", id, err)
	}
}

// checkEndpoint reports how got differs from want. Times must be equal
// instants and in UTC.
func checkEndpoint(t *testing.T, what string, got, want store.Endpoint) {
	t.Helper()

	checkTime(t, what+".CreatedAt", got.CreatedAt, want.CreatedAt)
	checkTime(t, what+".UpdatedAt", got.UpdatedAt, want.UpdatedAt)

	got.CreatedAt, got.UpdatedAt = time.Time{}, time.Time{}
	want.CreatedAt, want.UpdatedAt = time.Time{}, time.Time{}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s = %+v\nwant %+v", what, got, want)
	}
}

// checkToken reports how got differs from want, as checkEndpoint does.
func checkToken(t *testing.T, what string, got, want store.Token) {
	t.Helper()

	checkTime(t, what+".CreatedAt", got.CreatedAt, want.CreatedAt)
	checkTime(t, what+".ExpiresAt", got.ExpiresAt, want.ExpiresAt)
	checkTime(t, what+".RevokedAt", got.RevokedAt, want.RevokedAt)

	got.CreatedAt, got.ExpiresAt, got.RevokedAt = time.Time{}, time.Time{}, time.Time{}
	want.CreatedAt, want.ExpiresAt, want.RevokedAt = time.Time{}, time.Time{}, time.Time{}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s = %+v\nwant %+v", what, got, want)
	}
}

// checkTime reports a time that is not want's instant, or not in UTC.
func checkTime(t *testing.T, what string, got, want time.Time) {
	t.Helper()

	if !got.Equal(want) {
		t.Errorf("%s = %v, want %v", what, got, want)
	}
	if !got.IsZero() && got.Location() != time.UTC {
		t.Errorf("%s is in %v, want UTC", what, got.Location())
	}
}

// checkErr reports an error that does not wrap want.
func checkErr(t *testing.T, what string, err, want error) {
	t.Helper()

	if !errors.Is(err, want) {
		t.Errorf("%s: error = %v, want %v", what, err, want)
	}
}

// checkNoSecret reports an error whose text quotes secret, raw or in hex.
func checkNoSecret(t *testing.T, err error, secret []byte) {
	t.Helper()

	msg := err.Error()
	if strings.Contains(msg, string(secret)) ||
		strings.Contains(strings.ToLower(msg), hex.EncodeToString(secret)) {
		t.Errorf("error %q quotes secret material", msg)
	}
}

// names returns the name of each endpoint, in order.
func names(list []store.Endpoint) []string {
	n := make([]string, len(list))
	for i, e := range list {
		n[i] = e.Name
	}

	return n
}

// ids returns the ID of each token, in order.
func ids(list []store.Token) []string {
	n := make([]string, len(list))
	for i, tok := range list {
		n[i] = tok.ID
	}

	return n
}

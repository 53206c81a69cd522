package storetest

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/totpvault/totpvault/internal/store"
)

func testNotFound(t *testing.T, s Store) {
	createEndpoint(t, s, newEndpoint("present"))
	tok := createToken(t, s, newToken("present", store.RoleAdmin))
	revoked := createToken(t, s, newToken("revoked", store.RoleAdmin))
	revokeToken(t, s, revoked.ID, base)

	unknownID := store.NewID()
	unknownHash := newToken("unknown", store.RoleAdmin).Hash
	unknown := newEndpoint("absent")

	tests := []struct {
		name string
		call func(ctx context.Context) error
	}{
		{"GetEndpoint", func(ctx context.Context) error {
			_, err := s.GetEndpoint(ctx, "absent")
			return err
		}},
		{"UpdateEndpoint", func(ctx context.Context) error {
			u := store.EndpointUpdate{UpdatedAt: base}
			_, err := s.UpdateEndpoint(ctx, "absent", u, newEvent(store.ActionEndpointUpdate, "absent"))
			return err
		}},
		{"ReplaceSecret of an unknown ID", func(ctx context.Context) error {
			_, err := s.ReplaceSecret(ctx, unknown, newEvent(store.ActionSecretReplace, "absent"))
			return err
		}},
		{"ReplaceSecret of an ID that is not a UUID", func(ctx context.Context) error {
			e := unknown
			e.ID = "not-a-uuid"
			_, err := s.ReplaceSecret(ctx, e, newEvent(store.ActionSecretReplace, "absent"))
			return err
		}},
		{"DeleteEndpoint", func(ctx context.Context) error {
			return s.DeleteEndpoint(ctx, "absent", newEvent(store.ActionEndpointDelete, "absent"))
		}},
		{"GetToken of an unknown ID", func(ctx context.Context) error {
			_, err := s.GetToken(ctx, unknownID)
			return err
		}},
		{"GetToken of a revoked token", func(ctx context.Context) error {
			_, err := s.GetToken(ctx, revoked.ID)
			return err
		}},
		{"GetToken of an ID that is not a UUID", func(ctx context.Context) error {
			_, err := s.GetToken(ctx, "x'; DROP TABLE tokens; --")
			return err
		}},
		{"RevokeToken of an unknown ID", func(ctx context.Context) error {
			return s.RevokeToken(ctx, unknownID, base, newEvent(store.ActionTokenRevoke, ""))
		}},
		{"RevokeToken of an ID that is not a UUID", func(ctx context.Context) error {
			return s.RevokeToken(ctx, "12345", base, newEvent(store.ActionTokenRevoke, ""))
		}},
		{"TokenByHash", func(ctx context.Context) error {
			_, err := s.TokenByHash(ctx, unknownHash)
			return err
		}},
		{"TokenAndEndpoint of an unknown hash and a present name", func(ctx context.Context) error {
			_, _, err := s.TokenAndEndpoint(ctx, unknownHash, "present")
			return err
		}},
		{"TokenAndEndpoint of an unknown hash and name", func(ctx context.Context) error {
			_, _, err := s.TokenAndEndpoint(ctx, unknownHash, "absent")
			return err
		}},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call(t.Context())
			checkErr(t, tt.name, err, store.ErrNotFound)
			if err != nil {
				checkNoSecret(t, err, unknownHash)
			}
		})
	}

	// The misses above must not have touched what is there.
	if _, err := s.GetToken(t.Context(), tok.ID); err != nil {
		t.Errorf("GetToken of the present token: %v", err)
	}
}

func testTokenRoundTrip(t *testing.T, s Store) {
	runner := newToken("eu-runners", store.RoleRunner)
	runner.ExpiresAt = base.Add(720 * time.Hour)

	admin := newToken("ops", store.RoleAdmin)
	admin.Scopes = nil

	tests := []struct {
		name string
		in   store.Token
	}{
		{"a runner with scopes and an expiry", runner},
		{"an admin with nil scopes and no expiry", admin},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := tt.in
			if want.Scopes == nil {
				want.Scopes = []string{}
			}

			created := createToken(t, s, tt.in)
			checkToken(t, "created", created, want)

			got, err := s.GetToken(t.Context(), tt.in.ID)
			if err != nil {
				t.Fatalf("GetToken: %v", err)
			}
			checkToken(t, "got", got, want)

			got, err = s.TokenByHash(t.Context(), tt.in.Hash)
			if err != nil {
				t.Fatalf("TokenByHash: %v", err)
			}
			checkToken(t, "by hash", got, want)
		})
	}
}

func testTokenHashTaken(t *testing.T, s Store) {
	first := createToken(t, s, newToken("first", store.RoleRunner))

	again := newToken("second", store.RoleRunner)
	again.Hash = first.Hash

	_, err := s.CreateToken(t.Context(), again, newEvent(store.ActionTokenCreate, ""))
	checkErr(t, "CreateToken of a taken hash", err, store.ErrAlreadyExists)
	if err != nil {
		checkNoSecret(t, err, first.Hash)
	}
}

func testListTokens(t *testing.T, s Store) {
	var want []string
	for i := range 5 {
		tok := newToken("kept", store.RoleRunner)
		if i == 2 {
			tok.ExpiresAt = base.Add(-time.Hour)
		}

		want = append(want, createToken(t, s, tok).ID)
	}

	for range 2 {
		revoked := createToken(t, s, newToken("revoked", store.RoleRunner))
		revokeToken(t, s, revoked.ID, base)
	}

	slices.Sort(want)

	for _, limit := range []int{1, 2, 5, 100} {
		if got := collectTokenIDs(t, s, limit); !slices.Equal(got, want) {
			t.Errorf("IDs listed %d at a time = %q, want %q", limit, got, want)
		}
	}
}

// collectTokenIDs lists the IDs of every token, limit at a time.
func collectTokenIDs(t *testing.T, s Store, limit int) []string {
	t.Helper()

	var all []string
	q := store.TokenQuery{Limit: limit}
	for range 200 {
		list, err := s.ListTokens(t.Context(), q)
		if err != nil {
			t.Fatalf("ListTokens(%+v): %v", q, err)
		}
		if len(list) > limit {
			t.Fatalf("ListTokens(%+v) returned %d tokens", q, len(list))
		}
		if len(list) == 0 {
			return all
		}

		all = append(all, ids(list)...)
		q.After = list[len(list)-1].ID
	}

	t.Fatal("ListTokens never returned an empty page")

	return nil
}

func testRevokeToken(t *testing.T, s Store) {
	tok := createToken(t, s, newToken("soon revoked", store.RoleRunner))
	at := base.Add(90 * time.Minute)

	err := s.RevokeToken(t.Context(), tok.ID, at, newEvent(store.ActionTokenRevoke, ""))
	if err != nil {
		t.Fatalf("RevokeToken: %v", err)
	}

	_, err = s.GetToken(t.Context(), tok.ID)
	checkErr(t, "GetToken of a revoked token", err, store.ErrNotFound)

	err = s.RevokeToken(t.Context(), tok.ID, at.Add(time.Minute),
		newEvent(store.ActionTokenRevoke, ""))
	checkErr(t, "RevokeToken twice", err, store.ErrNotFound)

	want := tok
	want.RevokedAt = at

	got, err := s.TokenByHash(t.Context(), tok.Hash)
	if err != nil {
		t.Fatalf("TokenByHash of a revoked token: %v", err)
	}
	checkToken(t, "revoked by hash", got, want)
}

func testTokenAndEndpoint(t *testing.T, s Store) {
	e := createEndpoint(t, s, newEndpoint("o365-erin"))
	tok := createToken(t, s, newToken("runner", store.RoleRunner))

	revoked := createToken(t, s, newToken("revoked", store.RoleRunner))
	at := base.Add(time.Minute)
	revokeToken(t, s, revoked.ID, at)
	revoked.RevokedAt = at

	tests := []struct {
		name     string
		token    store.Token
		endpoint string
		want     *store.Endpoint
	}{
		{"a present endpoint", tok, e.Name, &e},
		{"an absent endpoint", tok, "o365-nobody", nil},
		{"a name that differs in case", tok, "O365-ERIN", nil},
		{"a revoked token", revoked, e.Name, &e},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, endpoint, err := s.TokenAndEndpoint(t.Context(), tt.token.Hash, tt.endpoint)
			if err != nil {
				t.Fatalf("TokenAndEndpoint: %v", err)
			}
			checkToken(t, "token", got, tt.token)

			switch {
			case tt.want == nil && endpoint != nil:
				t.Errorf("endpoint = %+v, want nil", *endpoint)
			case tt.want != nil && endpoint == nil:
				t.Errorf("endpoint = nil, want %+v", *tt.want)
			case tt.want != nil:
				checkEndpoint(t, "endpoint", *endpoint, *tt.want)
			}
		})
	}
}

func testFirstAdmin(t *testing.T, s Store) {
	// One store serves every step, in order: each step leaves what the
	// next one relies on.
	runner := createToken(t, s, newToken("runner", store.RoleRunner))

	ev := newEvent(store.ActionTokenCreate, "")
	first := newToken("bootstrap", store.RoleAdmin)
	checkFirstAdmin(t, s, first, ev, true)
	checkFirstAdmin(t, s, newToken("bootstrap again", store.RoleAdmin), ev, false)

	// Revoked and expired admins still count.
	revokeToken(t, s, first.ID, base)
	checkFirstAdmin(t, s, newToken("after revocation", store.RoleAdmin), ev, false)

	got, err := s.TokenByHash(t.Context(), first.Hash)
	if err != nil {
		t.Fatalf("TokenByHash of the first admin: %v", err)
	}
	first.RevokedAt = base
	checkToken(t, "first admin", got, first)

	list, err := s.ListTokens(t.Context(), store.TokenQuery{Limit: 100})
	if err != nil {
		t.Fatalf("ListTokens: %v", err)
	}
	if got := ids(list); !slices.Equal(got, []string{runner.ID}) {
		t.Errorf("tokens = %q, want only the runner %q", got, runner.ID)
	}
}

// checkFirstAdmin calls CreateFirstAdminToken with tok and ev and reports a
// result other than created.
func checkFirstAdmin(t *testing.T, s Store, tok store.Token, ev store.Event, created bool) {
	t.Helper()

	got, err := s.CreateFirstAdminToken(t.Context(), tok, ev)
	if err != nil {
		t.Fatalf("CreateFirstAdminToken(%q): %v", tok.Name, err)
	}
	if got != created {
		t.Errorf("CreateFirstAdminToken(%q) = %v, want %v", tok.Name, got, created)
	}
}

func testFirstAdminConcurrent(t *testing.T, s Store) {
	const callers = 10

	tokens := make([]store.Token, callers)
	events := make([]store.Event, callers)
	for i := range tokens {
		tokens[i] = newToken("bootstrap", store.RoleAdmin)
		events[i] = newEvent(store.ActionTokenCreate, "")
		events[i].RequestID = fmt.Sprintf("bootstrap-%d", i)
	}

	// A first round of reads lets the store open its connections, so that in
	// the race below the callers check for an admin at the same moment
	// instead of one after another as each connection comes up.
	race(callers, func(int) error {
		_, err := s.ListTokens(t.Context(), store.TokenQuery{Limit: 1})
		return err
	})

	created := make([]bool, callers)
	errs := race(callers, func(i int) error {
		var err error
		created[i], err = s.CreateFirstAdminToken(t.Context(), tokens[i], events[i])
		return err
	})

	var winners []store.Token
	var winnerEvents []store.Event
	for i := range callers {
		if errs[i] != nil {
			t.Errorf("caller %d: %v", i, errs[i])
		}
		if created[i] {
			winners = append(winners, tokens[i])
			winnerEvents = append(winnerEvents, events[i])
		}
	}
	if len(winners) != 1 {
		t.Fatalf("%d callers created a first admin token, want 1", len(winners))
	}

	list, err := s.ListTokens(t.Context(), store.TokenQuery{Limit: 100})
	if err != nil {
		t.Fatalf("ListTokens: %v", err)
	}
	if got := ids(list); !slices.Equal(got, []string{winners[0].ID}) {
		t.Errorf("tokens = %q, want only the winner %q", got, winners[0].ID)
	}

	checkEvents(t, "events", allEvents(t, s), winnerEvents)
}

// race calls f(0) to f(n-1) in n goroutines released at the same moment,
// and returns what each call returned.
func race(n int, f func(i int) error) []error {
	errs := make([]error, n)
	start := make(chan struct{})

	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			errs[i] = f(i)
		})
	}
	close(start)
	wg.Wait()

	return errs
}

package storetest

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/totpvault/totpvault/internal/store"
)

// Token IDs that the suite's events name; no token has them.
const (
	tokenA = "0190f3a1-0000-7000-8000-00000000000a"
	tokenB = "0190f3a1-0000-7000-8000-00000000000b"
)

// unknownAction is an action that no store may accept.
const unknownAction store.Action = "endpoint.explode"

func testAppendEvents(t *testing.T, s Store) {
	first := []store.Event{
		newEvent(store.ActionCodeRead, "o365-alice"),
		{Time: base.Add(-time.Second), Action: store.ActionAuthDenied, Outcome: store.OutcomeDenied},
		{
			Time: base.Add(time.Second), Action: store.ActionTokenCreate,
			Outcome: store.OutcomeError, TokenID: tokenA, TokenName: "eu-runners",
			RemoteAddr: "2001:db8::1", RequestID: "req-3", Detail: "ttl: löschen – 削除",
		},
		{
			Time: base, Action: store.ActionEndpointDelete, Outcome: store.OutcomeSuccess,
			Endpoint: "o365-bob", Detail: "a note with 'quotes', commas and \"doubles\"",
		},
		{Time: base.Add(-time.Hour), Action: store.ActionCodeClaim, Outcome: store.OutcomeSuccess},
	}
	second := []store.Event{
		{Time: base.Add(-2 * time.Hour), Action: store.ActionCodeVerify, Outcome: store.OutcomeError},
		newEvent(store.ActionSecretReplace, "o365-carol"),
	}

	appendEvents(t, s, first...)
	appendEvents(t, s, second...)

	// In the order of their IDs the events are those written, in the order
	// they were written, whatever their times.
	got := allEvents(t, s)
	slices.SortFunc(got, func(a, b store.Event) int {
		return cmp.Compare(eventNumber(t, a), eventNumber(t, b))
	})
	checkEvents(t, "events in the order of their IDs", got, append(first, second...))
}

func testEventOddText(t *testing.T, s Store) {
	// A client's input reaches events (the endpoint named in a path), and
	// one odd event must not fail a batch that holds others' events.
	odd := newEvent(store.ActionAuthDenied, "o365\x00alice\xff")
	odd.Detail, odd.RequestID = "cut in a rune: \xe2\x82", "odd"
	appendEvents(t, s, odd, newEvent(store.ActionCodeRead, "o365-bob"))

	want := odd
	want.Endpoint, want.Detail = "o365\ufffdalice\ufffd", "cut in a rune: \ufffd"

	q := store.EventQuery{Endpoint: odd.Endpoint, Limit: 10}
	checkEvents(t, "events of the odd endpoint", listEvents(t, s, q), []store.Event{want})

	q.Endpoint = want.Endpoint
	checkEvents(t, "events of the endpoint as stored", listEvents(t, s, q), []store.Event{want})
}

func testAppendNoEvents(t *testing.T, s Store) {
	for _, batch := range [][]store.Event{nil, {}} {
		if err := s.AppendEvents(t.Context(), batch); err != nil {
			t.Errorf("AppendEvents(%#v): %v", batch, err)
		}
	}

	checkEvents(t, "events", allEvents(t, s), nil)
}

func testAppendRefused(t *testing.T, s Store) {
	tests := []struct {
		name   string
		change func(e *store.Event)
	}{
		{"an unknown action", func(e *store.Event) { e.Action = unknownAction }},
		{"an action in upper case", func(e *store.Event) { e.Action = "CODE.READ" }},
		{"no action", func(e *store.Event) { e.Action = "" }},
		{"an unknown outcome", func(e *store.Event) { e.Outcome = "maybe" }},
		{"no outcome", func(e *store.Event) { e.Outcome = "" }},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			refused := newEvent(store.ActionCodeRead, "refused")
			tt.change(&refused)
			batch := []store.Event{
				newEvent(store.ActionCodeRead, "before"),
				refused,
				newEvent(store.ActionCodeRead, "after"),
			}

			if err := s.AppendEvents(t.Context(), batch); err == nil {
				t.Error("AppendEvents succeeded")
			}
			checkEvents(t, "events", allEvents(t, s), nil)
		})
	}
}

func testEventOrder(t *testing.T, s Store) {
	at := func(minutes int) time.Time { return base.Add(time.Duration(minutes) * time.Minute) }

	appendEvents(t, s,
		eventAt("mid-1", at(1)), eventAt("new", at(2)), eventAt("old", at(0)),
		eventAt("mid-2", at(1)), eventAt("mid-3", at(1)))
	appendEvents(t, s, eventAt("mid-4", at(1)))

	want := []string{"new", "mid-4", "mid-3", "mid-2", "mid-1", "old"}
	if got := requestIDs(allEvents(t, s)); !slices.Equal(got, want) {
		t.Errorf("events = %q, want %q", got, want)
	}
}

func testEventFilters(t *testing.T, s Store) {
	at := func(minutes int) time.Time { return base.Add(time.Duration(minutes) * time.Minute) }
	event := func(id string, minutes int, action store.Action, endpoint, token string) store.Event {
		e := eventAt(id, at(minutes))
		e.Action, e.Endpoint, e.TokenID = action, endpoint, token
		return e
	}

	appendEvents(t, s,
		event("e1", 0, store.ActionCodeRead, "o365-alice", tokenA),
		event("e2", 1, store.ActionCodeRead, "o365-bob", tokenA),
		event("e3", 2, store.ActionCodeClaim, "o365-alice", tokenB),
		event("e4", 3, store.ActionEndpointDelete, "o365-alice", tokenA),
		event("e5", 4, store.ActionTokenCreate, "", tokenA),
		event("e6", 5, store.ActionAuthDenied, "o365-alice", ""),
		event("e7", 5, store.ActionCodeRead, "O365-ALICE", tokenB),
		event("e8", 6, store.ActionCodeRead, "o365-alice-2", tokenB))

	tests := []struct {
		name  string
		query store.EventQuery
		want  []string
	}{
		{"no filter", store.EventQuery{},
			[]string{"e8", "e7", "e6", "e5", "e4", "e3", "e2", "e1"}},
		{"an endpoint", store.EventQuery{Endpoint: "o365-alice"},
			[]string{"e6", "e4", "e3", "e1"}},
		{"an endpoint in another case", store.EventQuery{Endpoint: "O365-ALICE"},
			[]string{"e7"}},
		{"a prefix of endpoints", store.EventQuery{Endpoint: "o365"}, []string{}},
		{"an action", store.EventQuery{Action: store.ActionCodeRead},
			[]string{"e8", "e7", "e2", "e1"}},
		{"an action of no event", store.EventQuery{Action: store.ActionTokenRevoke}, []string{}},
		{"a token", store.EventQuery{TokenID: tokenA}, []string{"e5", "e4", "e2", "e1"}},
		{"an unknown token", store.EventQuery{TokenID: store.NewID()}, []string{}},
		{"a token ID that is not a UUID", store.EventQuery{TokenID: "tokenA"}, []string{}},
		{"since an event's instant", store.EventQuery{Since: at(2)},
			[]string{"e8", "e7", "e6", "e5", "e4", "e3"}},
		{"until an event's instant", store.EventQuery{Until: at(2)}, []string{"e2", "e1"}},
		{"since and until", store.EventQuery{Since: at(2), Until: at(5)},
			[]string{"e5", "e4", "e3"}},
		{"since and until at one instant", store.EventQuery{Since: at(5), Until: at(5)},
			[]string{}},
		{"an endpoint and an action",
			store.EventQuery{Endpoint: "o365-alice", Action: store.ActionCodeRead},
			[]string{"e1"}},
		{"an endpoint, a token and since",
			store.EventQuery{Endpoint: "o365-alice", TokenID: tokenA, Since: at(1)},
			[]string{"e4"}},
		{"an action, a token and until",
			store.EventQuery{Action: store.ActionCodeRead, TokenID: tokenB, Until: at(6)},
			[]string{"e7"}},
		{"every filter", store.EventQuery{
			Endpoint: "o365-alice", Action: store.ActionCodeClaim, TokenID: tokenB,
			Since: at(2), Until: at(3),
		}, []string{"e3"}},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.query.Limit = 100

			list, err := s.ListEvents(t.Context(), tt.query)
			if err != nil {
				t.Fatalf("ListEvents: %v", err)
			}
			if got := requestIDs(list); !slices.Equal(got, tt.want) {
				t.Errorf("events = %q, want %q", got, tt.want)
			}
		})
	}
}

func testEventPages(t *testing.T, s Store) {
	// Ties on time in every page size, written out of order.
	var events []store.Event
	for i, minutes := range []int{3, 0, 1, 3, 0, 2, 3, 1, 0, 3} {
		e := eventAt(fmt.Sprintf("p%d", i), base.Add(time.Duration(minutes)*time.Minute))
		if i%2 == 0 {
			e.Endpoint = "even"
		}
		events = append(events, e)
	}
	appendEvents(t, s, events...)

	all := requestIDs(allEvents(t, s))
	even := requestIDs(listEvents(t, s, store.EventQuery{Endpoint: "even", Limit: 100}))
	for _, limit := range []int{1, 2, 3, 4, 100} {
		t.Run(fmt.Sprintf("%d at a time", limit), func(t *testing.T) {
			checkPages(t, s, store.EventQuery{Limit: limit}, all)
			checkPages(t, s, store.EventQuery{Endpoint: "even", Limit: limit}, even)
		})
	}

	t.Run("Limit keeps the newest", func(t *testing.T) {
		got := requestIDs(listEvents(t, s, store.EventQuery{Limit: 3}))
		if !slices.Equal(got, all[:3]) {
			t.Errorf("events = %q, want %q", got, all[:3])
		}
	})

	t.Run("a Before ID that is not decimal matches nothing", func(t *testing.T) {
		before := &store.EventKey{Time: base.Add(time.Hour), ID: "1e3"}
		got := listEvents(t, s, store.EventQuery{Before: before, Limit: 100})
		if len(got) != 0 {
			t.Errorf("events = %q, want none", requestIDs(got))
		}
	})

	t.Run("a Before of no event keeps what sorts after it", func(t *testing.T) {
		before := &store.EventKey{Time: base.Add(time.Minute), ID: "0"}
		got := requestIDs(listEvents(t, s, store.EventQuery{Before: before, Limit: 100}))
		if want := all[len(all)-3:]; !slices.Equal(got, want) {
			t.Errorf("events = %q, want %q", got, want)
		}
	})

	t.Run("a limit that is not positive is refused", func(t *testing.T) {
		_, err := s.ListEvents(t.Context(), store.EventQuery{})
		if err == nil {
			t.Error("ListEvents with limit 0 succeeded")
		}
	})
}

// checkPages lists events page by page, each page Before the last event of
// the one before, until a page comes back empty, and reports a page over
// q.Limit or request IDs other than want.
func checkPages(t *testing.T, s Store, q store.EventQuery, want []string) {
	t.Helper()

	var got []string
	for range 50 {
		list := listEvents(t, s, q)
		if len(list) > q.Limit {
			t.Fatalf("ListEvents(%+v) returned %d events", q, len(list))
		}
		if len(list) == 0 {
			break
		}

		got = append(got, requestIDs(list)...)
		last := list[len(list)-1]
		q.Before = &store.EventKey{Time: last.Time, ID: last.ID}
	}

	if !slices.Equal(got, want) {
		t.Errorf("pages of %d with endpoint %q = %q, want %q", q.Limit, q.Endpoint, got, want)
	}
}

func testPruneEvents(t *testing.T, s Store) {
	at := func(minutes int) time.Time { return base.Add(time.Duration(minutes) * time.Minute) }

	// Seven events before base, two of them at one instant; three at or
	// after it.
	appendEvents(t, s,
		eventAt("old-5", at(-5)), eventAt("old-7", at(-7)), eventAt("old-3", at(-3)),
		eventAt("old-6a", at(-6)), eventAt("old-6b", at(-6)), eventAt("old-1", at(-1)),
		eventAt("old-2", at(-2)),
		eventAt("at-base", base), eventAt("new-1", at(1)), eventAt("new-2", at(2)))

	// Oldest first: those left after each call are the newest of the list.
	all := requestIDs(allEvents(t, s))
	for _, want := range []int{3, 3, 1, 0, 0} {
		deleted, err := s.PruneEvents(t.Context(), base, 3)
		if err != nil {
			t.Fatalf("PruneEvents: %v", err)
		}
		if deleted != want {
			t.Errorf("PruneEvents deleted %d, want %d", deleted, want)
		}

		all = all[:len(all)-deleted]
		if got := requestIDs(allEvents(t, s)); !slices.Equal(got, all) {
			t.Fatalf("events left = %q, want %q", got, all)
		}
	}

	if want := []string{"new-2", "new-1", "at-base"}; !slices.Equal(all, want) {
		t.Errorf("events left = %q, want %q", all, want)
	}

	if _, err := s.PruneEvents(t.Context(), at(10), 0); err == nil {
		t.Error("PruneEvents with limit 0 succeeded")
	}
}

// call makes one change of a store, recorded by ev.
type call func(ctx context.Context, ev store.Event) error

// change is one of the store's changes, as testChangeEvents drives it.
type change struct {
	action store.Action

	// prepare makes in s what the change acts on, named after name, and
	// returns the call that makes the change and a check of whether it was
	// made.
	prepare func(t *testing.T, s Store, name string) (call, func(t *testing.T) bool)

	// failing makes in s what a failing call needs, named after name, and
	// returns that call and the error that it wraps.
	failing func(t *testing.T, s Store, name string) (call, error)
}

// changes are the store's changes but CreateFirstAdminToken, which
// testFirstAdminEvent drives since its outcome depends on the whole store.
var changes = []change{
	{store.ActionEndpointCreate, prepareCreateEndpoint, failCreateEndpoint},
	{store.ActionEndpointUpdate, prepareUpdateEndpoint, failUpdateEndpoint},
	{store.ActionSecretReplace, prepareReplaceSecret, failReplaceSecret},
	{store.ActionEndpointDelete, prepareDeleteEndpoint, failDeleteEndpoint},
	{store.ActionTokenCreate, prepareCreateToken, failCreateToken},
	{store.ActionTokenRevoke, prepareRevokeToken, failRevokeToken},
}

func testChangeEvents(t *testing.T, s Store) {
	for i, c := range changes {
		name := func(what string) string { return fmt.Sprintf("change-%d-%s", i, what) }

		t.Run(string(c.action)+" writes its event", func(t *testing.T) {
			do, made := c.prepare(t, s, name("ok"))
			ev := newEvent(c.action, name("ok"))

			if err := checkNewEvents(t, s, do, ev); err != nil {
				t.Fatalf("change: %v", err)
			}
			if !made(t) {
				t.Error("the change was not made")
			}
		})

		t.Run(string(c.action)+" that fails writes no event", func(t *testing.T) {
			do, want := c.failing(t, s, name("failing"))

			err := checkNewEvents(t, s, do, newEvent(c.action, name("failing")))
			checkErr(t, "change", err, want)
		})

		t.Run(string(c.action)+" is not made when its event is refused", func(t *testing.T) {
			do, made := c.prepare(t, s, name("refused"))
			ev := newEvent(c.action, name("refused"))
			ev.Action = unknownAction

			if err := checkNewEvents(t, s, do, ev); err == nil {
				t.Error("change with a refused event succeeded")
			}
			if made(t) {
				t.Error("the change was made without its event")
			}
		})
	}
}

// checkNewEvents calls do with ev and reports events written by it other
// than ev, when do succeeds, or none, when it fails. It returns do's error.
func checkNewEvents(t *testing.T, s Store, do call, ev store.Event) error {
	t.Helper()

	before := allEvents(t, s)
	err := do(t.Context(), ev)

	var want []store.Event
	if err == nil {
		want = []store.Event{ev}
	}

	after := allEvents(t, s)
	written := slices.DeleteFunc(after, func(e store.Event) bool {
		return slices.ContainsFunc(before, func(b store.Event) bool { return b.ID == e.ID })
	})
	checkEvents(t, "events written", written, want)

	return err
}

func prepareCreateEndpoint(t *testing.T, s Store, name string) (call, func(*testing.T) bool) {
	do := func(ctx context.Context, ev store.Event) error {
		_, err := s.CreateEndpoint(ctx, newEndpoint(name), ev)
		return err
	}

	return do, func(t *testing.T) bool { return endpointExists(t, s, name) }
}

func failCreateEndpoint(t *testing.T, s Store, name string) (call, error) {
	createEndpoint(t, s, newEndpoint(name))

	return func(ctx context.Context, ev store.Event) error {
		_, err := s.CreateEndpoint(ctx, newEndpoint(name), ev)
		return err
	}, store.ErrAlreadyExists
}

func prepareUpdateEndpoint(t *testing.T, s Store, name string) (call, func(*testing.T) bool) {
	createEndpoint(t, s, newEndpoint(name))
	issuer := "Changed"

	do := func(ctx context.Context, ev store.Event) error {
		u := store.EndpointUpdate{Issuer: &issuer, UpdatedAt: base.Add(time.Minute)}
		_, err := s.UpdateEndpoint(ctx, name, u, ev)
		return err
	}

	return do, func(t *testing.T) bool { return getEndpoint(t, s, name).Issuer == issuer }
}

func failUpdateEndpoint(_ *testing.T, s Store, name string) (call, error) {
	return func(ctx context.Context, ev store.Event) error {
		_, err := s.UpdateEndpoint(ctx, name, store.EndpointUpdate{UpdatedAt: base}, ev)
		return err
	}, store.ErrNotFound
}

func prepareReplaceSecret(t *testing.T, s Store, name string) (call, func(*testing.T) bool) {
	next := createEndpoint(t, s, newEndpoint(name))
	next.SealedSecret = []byte("sealed anew")

	do := func(ctx context.Context, ev store.Event) error {
		_, err := s.ReplaceSecret(ctx, next, ev)
		return err
	}

	return do, func(t *testing.T) bool {
		return bytes.Equal(getEndpoint(t, s, name).SealedSecret, next.SealedSecret)
	}
}

func failReplaceSecret(_ *testing.T, s Store, name string) (call, error) {
	return func(ctx context.Context, ev store.Event) error {
		_, err := s.ReplaceSecret(ctx, newEndpoint(name), ev)
		return err
	}, store.ErrNotFound
}

func prepareDeleteEndpoint(t *testing.T, s Store, name string) (call, func(*testing.T) bool) {
	createEndpoint(t, s, newEndpoint(name))

	do := func(ctx context.Context, ev store.Event) error {
		return s.DeleteEndpoint(ctx, name, ev)
	}

	return do, func(t *testing.T) bool { return !endpointExists(t, s, name) }
}

func failDeleteEndpoint(_ *testing.T, s Store, name string) (call, error) {
	return func(ctx context.Context, ev store.Event) error {
		return s.DeleteEndpoint(ctx, name, ev)
	}, store.ErrNotFound
}

func prepareCreateToken(_ *testing.T, s Store, name string) (call, func(*testing.T) bool) {
	tok := newToken(name, store.RoleRunner)

	do := func(ctx context.Context, ev store.Event) error {
		_, err := s.CreateToken(ctx, tok, ev)
		return err
	}

	return do, func(t *testing.T) bool { return tokenUsable(t, s, tok.ID) }
}

func failCreateToken(t *testing.T, s Store, name string) (call, error) {
	again := newToken(name, store.RoleRunner)
	again.Hash = createToken(t, s, newToken(name, store.RoleRunner)).Hash

	return func(ctx context.Context, ev store.Event) error {
		_, err := s.CreateToken(ctx, again, ev)
		return err
	}, store.ErrAlreadyExists
}

func prepareRevokeToken(t *testing.T, s Store, name string) (call, func(*testing.T) bool) {
	tok := createToken(t, s, newToken(name, store.RoleRunner))

	do := func(ctx context.Context, ev store.Event) error {
		return s.RevokeToken(ctx, tok.ID, base, ev)
	}

	return do, func(t *testing.T) bool { return !tokenUsable(t, s, tok.ID) }
}

func failRevokeToken(t *testing.T, s Store, name string) (call, error) {
	tok := createToken(t, s, newToken(name, store.RoleRunner))
	revokeToken(t, s, tok.ID, base)

	return func(ctx context.Context, ev store.Event) error {
		return s.RevokeToken(ctx, tok.ID, base.Add(time.Minute), ev)
	}, store.ErrNotFound
}

func testFirstAdminEvent(t *testing.T, s Store) {
	// One store serves every step, in order: the first two need a store
	// without an admin, the last one the admin of the second.
	refused := newEvent(store.ActionTokenCreate, "")
	refused.Action = unknownAction
	lost := newToken("refused event", store.RoleAdmin)

	created, err := s.CreateFirstAdminToken(t.Context(), lost, refused)
	if err == nil || created {
		t.Errorf("CreateFirstAdminToken with a refused event = %v, %v; want an error",
			created, err)
	}
	if _, err := s.TokenByHash(t.Context(), lost.Hash); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("TokenByHash of the token whose event was refused: error = %v, want %v",
			err, store.ErrNotFound)
	}
	checkEvents(t, "events after a refused event", allEvents(t, s), nil)

	first := newEvent(store.ActionTokenCreate, "")
	first.RequestID = "first"
	checkFirstAdmin(t, s, newToken("first", store.RoleAdmin), first, true)
	checkEvents(t, "events after the first admin", allEvents(t, s), []store.Event{first})

	second := newEvent(store.ActionTokenCreate, "")
	second.RequestID = "second"
	checkFirstAdmin(t, s, newToken("second", store.RoleAdmin), second, false)
	checkEvents(t, "events after a second try", allEvents(t, s), []store.Event{first})
}

// eventAt returns an event at at whose RequestID is id.
func eventAt(id string, at time.Time) store.Event {
	e := newEvent(store.ActionCodeRead, "o365-alice")
	e.Time, e.RequestID = at, id

	return e
}

// appendEvents appends events to s in one batch or stops t.
func appendEvents(t *testing.T, s Store, events ...store.Event) {
	t.Helper()

	if err := s.AppendEvents(t.Context(), events); err != nil {
		t.Fatalf("AppendEvents of %d events: %v", len(events), err)
	}
}

// listEvents returns the events of s that q selects or stops t.
func listEvents(t *testing.T, s Store, q store.EventQuery) []store.Event {
	t.Helper()

	list, err := s.ListEvents(t.Context(), q)
	if err != nil {
		t.Fatalf("ListEvents(%+v): %v", q, err)
	}

	return list
}

// allEvents returns every event of s, newest first, or stops t. The suite's
// stores hold far fewer than its limit.
func allEvents(t *testing.T, s Store) []store.Event {
	t.Helper()

	return listEvents(t, s, store.EventQuery{Limit: 1000})
}

// checkEvents reports how got differs from want, in order. IDs are not
// compared but must be decimal; times must be equal instants in UTC.
func checkEvents(t *testing.T, what string, got, want []store.Event) {
	t.Helper()

	if len(got) != len(want) {
		t.Errorf("%s: %d events %q, want %d %q",
			what, len(got), requestIDs(got), len(want), requestIDs(want))
		return
	}

	for i := range got {
		eventNumber(t, got[i])
		checkTime(t, fmt.Sprintf("%s[%d].Time", what, i), got[i].Time, want[i].Time)

		g, w := got[i], want[i]
		g.ID, g.Time, w.ID, w.Time = "", time.Time{}, "", time.Time{}
		if !reflect.DeepEqual(g, w) {
			t.Errorf("%s[%d] = %+v\nwant %+v", what, i, g, w)
		}
	}
}

// eventNumber returns the ID of e as a number, or stops t when it is not
// decimal.
func eventNumber(t *testing.T, e store.Event) uint64 {
	t.Helper()

	n, err := strconv.ParseUint(e.ID, 10, 64)
	if err != nil {
		t.Fatalf("event ID %q is not decimal", e.ID)
	}

	return n
}

// requestIDs returns the RequestID of each event, in order.
func requestIDs(list []store.Event) []string {
	n := make([]string, len(list))
	for i, e := range list {
		n[i] = e.RequestID
	}

	return n
}

// getEndpoint returns the endpoint called name or stops t.
func getEndpoint(t *testing.T, s Store, name string) store.Endpoint {
	t.Helper()

	e, err := s.GetEndpoint(t.Context(), name)
	if err != nil {
		t.Fatalf("GetEndpoint(%q): %v", name, err)
	}

	return e
}

// endpointExists reports whether s has an endpoint called name, or stops t
// on an error other than not found.
func endpointExists(t *testing.T, s Store, name string) bool {
	t.Helper()

	_, err := s.GetEndpoint(t.Context(), name)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("GetEndpoint(%q): %v", name, err)
	}

	return err == nil
}

// tokenUsable reports whether s has a token with this ID that was not
// revoked, or stops t on an error other than not found.
func tokenUsable(t *testing.T, s Store, id string) bool {
	t.Helper()

	_, err := s.GetToken(t.Context(), id)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("GetToken(%s): %v", id, err)
	}

	return err == nil
}

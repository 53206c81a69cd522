package storetest

import (
	"fmt"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/totpvault/totpvault/internal/store"
)

func testEndpointRoundTrip(t *testing.T, s Store) {
	full := newEndpoint("o365-alice")
	full.Algorithm, full.Digits, full.Period = "SHA512", 8, 60
	full.Labels = map[string]string{"env": "prod", "team": "identity", "empty": ""}
	full.UpdatedAt = base.Add(time.Hour + time.Microsecond)

	bare := newEndpoint("bare")
	bare.Issuer, bare.Account, bare.Labels = "", "", nil

	tests := []struct {
		name string
		in   store.Endpoint
	}{
		{"with every field set", full},
		{"with empty strings and nil labels", bare},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := tt.in
			if want.Labels == nil {
				want.Labels = map[string]string{}
			}

			created := createEndpoint(t, s, tt.in)
			checkEndpoint(t, "created", created, want)

			got, err := s.GetEndpoint(t.Context(), tt.in.Name)
			if err != nil {
				t.Fatalf("GetEndpoint: %v", err)
			}
			checkEndpoint(t, "got", got, want)
		})
	}
}

func testEndpointNameTaken(t *testing.T, s Store) {
	first := createEndpoint(t, s, newEndpoint("taken"))

	again := newEndpoint("taken")
	_, err := s.CreateEndpoint(t.Context(), again, newEvent(store.ActionEndpointCreate, "taken"))
	checkErr(t, "CreateEndpoint of a taken name", err, store.ErrAlreadyExists)
	checkNoSecret(t, err, again.SealedSecret)

	got, err := s.GetEndpoint(t.Context(), "taken")
	if err != nil {
		t.Fatalf("GetEndpoint: %v", err)
	}
	checkEndpoint(t, "the first endpoint", got, first)
}

func testInvalidFields(t *testing.T, s Store) {
	tests := []struct {
		name   string
		change func(e *store.Endpoint)
	}{
		{"algorithm MD5", func(e *store.Endpoint) { e.Algorithm = "MD5" }},
		{"algorithm in lower case", func(e *store.Endpoint) { e.Algorithm = "sha1" }},
		{"5 digits", func(e *store.Endpoint) { e.Digits = 5 }},
		{"9 digits", func(e *store.Endpoint) { e.Digits = 9 }},
		{"a 9 second period", func(e *store.Endpoint) { e.Period = 9 }},
		{"a 301 second period", func(e *store.Endpoint) { e.Period = 301 }},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEndpoint("invalid")
			tt.change(&e)

			_, err := s.CreateEndpoint(t.Context(), e, newEvent(store.ActionEndpointCreate, e.Name))
			if err == nil {
				t.Fatal("CreateEndpoint succeeded")
			}
			checkNoSecret(t, err, e.SealedSecret)
		})
	}

	t.Run("role owner", func(t *testing.T) {
		tok := newToken("owner", "owner")

		_, err := s.CreateToken(t.Context(), tok, newEvent(store.ActionTokenCreate, ""))
		if err == nil {
			t.Fatal("CreateToken succeeded")
		}
		checkNoSecret(t, err, tok.Hash)
	})
}

func testListOrder(t *testing.T, s Store) {
	// In byte order: '-' 0x2d < '.' 0x2e < '0' 0x30 < 'B' 0x42 < 'Z' 0x5a
	// < '_' 0x5f < 'a' 0x61. A linguistic collation would put "B" after
	// "a" and ignore the punctuation.
	want := []string{"0", "B", "Z9", "a", "a-1", "a.1", "a_1", "a_1-b"}
	if !slices.IsSorted(want) {
		t.Fatalf("the expected list %q is not in byte order", want)
	}

	shuffled := []string{"a_1", "B", "a.1", "a", "a_1-b", "0", "a-1", "Z9"}
	createEndpoints(t, s, shuffled...)

	list, err := s.ListEndpoints(t.Context(), store.EndpointQuery{Limit: 100})
	if err != nil {
		t.Fatalf("ListEndpoints: %v", err)
	}
	if got := names(list); !slices.Equal(got, want) {
		t.Errorf("names = %q, want %q", got, want)
	}
}

func testListPrefix(t *testing.T, s Store) {
	createEndpoints(t, s, "a_1", "ab1", "a1", "a.b", "a-b", "b_1")

	tests := []struct {
		prefix string
		want   []string
	}{
		{"a", []string{"a-b", "a.b", "a1", "a_1", "ab1"}},
		{"a_", []string{"a_1"}},
		{"a%", []string{}},
		{"%", []string{}},
		{"_", []string{}},
		{"a.", []string{"a.b"}},
		{"ab", []string{"ab1"}},
		{"A", []string{}},
		{"c", []string{}},
		{"a_1", []string{"a_1"}},
	}

	for _, tt := range tests {
		t.Run("prefix "+tt.prefix, func(t *testing.T) {
			q := store.EndpointQuery{Prefix: tt.prefix, Limit: 100}

			list, err := s.ListEndpoints(t.Context(), q)
			if err != nil {
				t.Fatalf("ListEndpoints: %v", err)
			}
			if got := names(list); !slices.Equal(got, tt.want) {
				t.Errorf("names = %q, want %q", got, tt.want)
			}
		})
	}
}

func testListLabels(t *testing.T, s Store) {
	labelled := map[string]map[string]string{
		"prod-a": {"env": "prod", "team": "a"},
		"prod-b": {"env": "prod", "team": "b"},
		"test-a": {"env": "test", "team": "a"},
		"none":   {},
	}
	for name, labels := range labelled {
		e := newEndpoint(name)
		e.Labels = labels
		createEndpoint(t, s, e)
	}

	tests := []struct {
		name   string
		labels map[string]string
		want   []string
	}{
		{"no filter", nil, []string{"none", "prod-a", "prod-b", "test-a"}},
		{"one pair", map[string]string{"env": "prod"}, []string{"prod-a", "prod-b"}},
		{"two pairs", map[string]string{"env": "prod", "team": "a"}, []string{"prod-a"}},
		{"a shared value", map[string]string{"team": "a"}, []string{"prod-a", "test-a"}},
		{"an unknown value", map[string]string{"env": "staging"}, []string{}},
		{"a key as value", map[string]string{"prod": "env"}, []string{}},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := store.EndpointQuery{Labels: tt.labels, Limit: 100}

			list, err := s.ListEndpoints(t.Context(), q)
			if err != nil {
				t.Fatalf("ListEndpoints: %v", err)
			}
			if got := names(list); !slices.Equal(got, tt.want) {
				t.Errorf("names = %q, want %q", got, tt.want)
			}
		})
	}
}

func testListPages(t *testing.T, s Store) {
	createEndpoints(t, s, "p-1", "p-2", "p-3", "p-4", "p-5", "p-6", "p-7", "q-1")

	tests := []struct {
		name  string
		query store.EndpointQuery
		pages [][]string
	}{
		{
			name:  "everything, three at a time",
			query: store.EndpointQuery{Limit: 3},
			pages: [][]string{{"p-1", "p-2", "p-3"}, {"p-4", "p-5", "p-6"}, {"p-7", "q-1"}},
		},
		{
			name:  "a prefix, four at a time",
			query: store.EndpointQuery{Prefix: "p-", Limit: 4},
			pages: [][]string{{"p-1", "p-2", "p-3", "p-4"}, {"p-5", "p-6", "p-7"}},
		},
		{
			name:  "after a name that does not exist",
			query: store.EndpointQuery{After: "p-45", Limit: 10},
			pages: [][]string{{"p-5", "p-6", "p-7", "q-1"}},
		},
		{
			name:  "one at a time",
			query: store.EndpointQuery{Prefix: "p-", After: "p-5", Limit: 1},
			pages: [][]string{{"p-6"}, {"p-7"}},
		},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := collectPages(t, s, tt.query); !reflect.DeepEqual(got, tt.pages) {
				t.Errorf("pages = %q, want %q", got, tt.pages)
			}
		})
	}
}

// collectPages lists endpoints page by page, each page after the last name
// of the one before, until a page comes back empty.
func collectPages(t *testing.T, s Store, q store.EndpointQuery) [][]string {
	t.Helper()

	var pages [][]string
	for range 20 {
		list, err := s.ListEndpoints(t.Context(), q)
		if err != nil {
			t.Fatalf("ListEndpoints(%+v): %v", q, err)
		}
		if len(list) > q.Limit {
			t.Fatalf("ListEndpoints(%+v) returned %d endpoints", q, len(list))
		}
		if len(list) == 0 {
			return pages
		}

		pages = append(pages, names(list))
		q.After = list[len(list)-1].Name
	}

	t.Fatal("ListEndpoints never returned an empty page")

	return nil
}

func testUpdate(t *testing.T, s Store) {
	issuer, account := "Fabrikam", "bob@fabrikam.example"
	replaced := map[string]string{"team": "b"}
	empty := map[string]string{}
	var cleared map[string]string

	tests := []struct {
		name   string
		update store.EndpointUpdate
		change func(e *store.Endpoint)
	}{
		{"nothing but the time", store.EndpointUpdate{}, func(*store.Endpoint) {}},
		{"issuer", store.EndpointUpdate{Issuer: &issuer},
			func(e *store.Endpoint) { e.Issuer = issuer }},
		{"account", store.EndpointUpdate{Account: &account},
			func(e *store.Endpoint) { e.Account = account }},
		{"labels replaced", store.EndpointUpdate{Labels: &replaced},
			func(e *store.Endpoint) { e.Labels = replaced }},
		{"labels set to an empty map", store.EndpointUpdate{Labels: &empty},
			func(e *store.Endpoint) { e.Labels = map[string]string{} }},
		{"labels cleared with a nil map", store.EndpointUpdate{Labels: &cleared},
			func(e *store.Endpoint) { e.Labels = map[string]string{} }},
	}

	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEndpoint(fmt.Sprintf("update-%d", i))
			e.Labels = map[string]string{"env": "prod", "team": "a"}
			want := createEndpoint(t, s, e)

			tt.update.UpdatedAt = base.Add(time.Duration(i+1) * time.Minute)
			tt.change(&want)
			want.UpdatedAt = tt.update.UpdatedAt

			ev := newEvent(store.ActionEndpointUpdate, e.Name)
			got, err := s.UpdateEndpoint(t.Context(), e.Name, tt.update, ev)
			if err != nil {
				t.Fatalf("UpdateEndpoint: %v", err)
			}
			checkEndpoint(t, "updated", got, want)

			got, err = s.GetEndpoint(t.Context(), e.Name)
			if err != nil {
				t.Fatalf("GetEndpoint: %v", err)
			}
			checkEndpoint(t, "got", got, want)
		})
	}
}

func testReplaceSecret(t *testing.T, s Store) {
	old := createEndpoint(t, s, newEndpoint("o365-carol"))
	dave := createEndpoint(t, s, newEndpoint("o365-dave"))

	// The replacement carries another name, labels and creation time: they
	// must not be taken, since only the secret and its parameters change.
	next := newEndpoint("o365-renamed")
	next.ID = old.ID
	next.Issuer, next.Account = "Northwind", "carol@northwind.example"
	next.Algorithm, next.Digits, next.Period = "SHA256", 7, 45
	next.SealedSecret = []byte("a new sealed secret")
	next.Labels = map[string]string{"other": "labels"}
	next.CreatedAt = base.Add(-time.Hour)
	next.UpdatedAt = base.Add(time.Hour)

	want := next
	want.Name, want.Labels, want.CreatedAt = old.Name, old.Labels, old.CreatedAt

	got, err := s.ReplaceSecret(t.Context(), next, newEvent(store.ActionSecretReplace, old.Name))
	if err != nil {
		t.Fatalf("ReplaceSecret: %v", err)
	}
	checkEndpoint(t, "replaced", got, want)

	got, err = s.GetEndpoint(t.Context(), old.Name)
	if err != nil {
		t.Fatalf("GetEndpoint: %v", err)
	}
	checkEndpoint(t, "got", got, want)

	other, err := s.GetEndpoint(t.Context(), dave.Name)
	if err != nil {
		t.Fatalf("GetEndpoint of the other endpoint: %v", err)
	}
	checkEndpoint(t, "the other endpoint", other, dave)
}

func testDelete(t *testing.T, s Store) {
	createEndpoints(t, s, "doomed", "kept")

	err := s.DeleteEndpoint(t.Context(), "doomed", newEvent(store.ActionEndpointDelete, "doomed"))
	if err != nil {
		t.Fatalf("DeleteEndpoint: %v", err)
	}

	_, err = s.GetEndpoint(t.Context(), "doomed")
	checkErr(t, "GetEndpoint after delete", err, store.ErrNotFound)

	err = s.DeleteEndpoint(t.Context(), "doomed", newEvent(store.ActionEndpointDelete, "doomed"))
	checkErr(t, "DeleteEndpoint twice", err, store.ErrNotFound)

	list, err := s.ListEndpoints(t.Context(), store.EndpointQuery{Limit: 10})
	if err != nil {
		t.Fatalf("ListEndpoints: %v", err)
	}
	if got := names(list); !slices.Equal(got, []string{"kept"}) {
		t.Errorf("names after delete = %q, want [kept]", got)
	}

	// The name is free again.
	createEndpoint(t, s, newEndpoint("doomed"))
}

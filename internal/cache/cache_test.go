package cache

import (
	"context"
	"errors"
	"testing"

	"github.com/totpvault/totpvault/internal/store"
)

// source is an in-memory Source that counts its reads and can run a hook
// in the middle of one, as a change announced during the read.
type source struct {
	tokens    map[string]store.Token
	endpoints map[string]store.Endpoint
	reads     int
	during    func()
}

func (s *source) TokenByHash(_ context.Context, hash []byte) (store.Token, error) {
	s.reads++
	s.hook()
	tok, ok := s.tokens[string(hash)]
	if !ok {
		return tok, store.ErrNotFound
	}
	return tok, nil
}

func (s *source) TokenAndEndpoint(ctx context.Context, hash []byte, name string) (
	store.Token, *store.Endpoint, error) {
	ep, found := s.endpoints[name]

	tok, err := s.TokenByHash(ctx, hash) // runs the hook after the endpoint was read
	if err != nil || !found {
		return tok, nil, err
	}
	return tok, &ep, nil
}

func (s *source) hook() {
	if s.during != nil {
		s.during()
		s.during = nil
	}
}

// newSource holds one token ("h") and one endpoint ("e").
func newSource() *source {
	return &source{
		tokens:    map[string]store.Token{"h": {ID: "t1", Hash: []byte("h")}},
		endpoints: map[string]store.Endpoint{"e": {Name: "e", Period: 30}},
	}
}

// read looks up token "h" and endpoint "e" and fails t on an error.
func read(t *testing.T, c *Lookups) *store.Endpoint {
	t.Helper()

	_, ep, err := c.TokenAndEndpoint(context.Background(), []byte("h"), "e")
	if err != nil {
		t.Fatal(err)
	}
	return ep
}

func TestAnOnlineCacheReadsEachRecordOnce(t *testing.T) {
	src := newSource()
	c := New(src)
	c.Online(true)

	read(t, c)
	read(t, c)
	if _, err := c.TokenByHash(context.Background(), []byte("h")); err != nil {
		t.Fatal(err)
	}

	if src.reads != 1 {
		t.Errorf("%d reads of the source, want 1", src.reads)
	}
}

func TestAnOfflineCacheReadsTheSourceEveryTime(t *testing.T) {
	src := newSource()
	c := New(src)

	read(t, c)
	read(t, c)
	if src.reads != 2 {
		t.Errorf("%d reads of the source, want 2", src.reads)
	}
	if tokens, endpoints := c.Len(); tokens+endpoints != 0 {
		t.Errorf("an offline cache kept %d tokens and %d endpoints", tokens, endpoints)
	}
}

func TestGoingOfflineForgetsEverything(t *testing.T) {
	src := newSource()
	c := New(src)
	c.Online(true)
	read(t, c)

	c.Online(false)
	c.Online(true)
	read(t, c)

	if src.reads != 2 {
		t.Errorf("%d reads of the source, want 2", src.reads)
	}
}

func TestAChangedEndpointIsReadAgain(t *testing.T) {
	src := newSource()
	c := New(src)
	c.Online(true)
	read(t, c)

	src.endpoints["e"] = store.Endpoint{Name: "e", Period: 60}
	c.EndpointChanged("e")

	if ep := read(t, c); ep.Period != 60 {
		t.Errorf("read the old endpoint after its change: period %d", ep.Period)
	}
}

func TestAChangedTokenIsReadAgain(t *testing.T) {
	src := newSource()
	c := New(src)
	c.Online(true)
	read(t, c)

	delete(src.tokens, "h")
	c.TokensChanged()

	_, err := c.TokenByHash(context.Background(), []byte("h"))
	if !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a removed token was still found: %v", err)
	}
}

func TestAChangeAnnouncedDuringAReadIsNotOverwritten(t *testing.T) {
	src := newSource()
	c := New(src)
	c.Online(true)

	// The read returns the old record, but the change is announced while
	// it runs: the cache must not keep what it read.
	src.during = func() {
		c.EndpointChanged("e")
		src.endpoints["e"] = store.Endpoint{Name: "e", Period: 60}
	}
	if ep := read(t, c); ep.Period != 30 {
		t.Fatalf("the racing read saw period %d", ep.Period)
	}

	if ep := read(t, c); ep.Period != 60 {
		t.Errorf("the cache kept the record read before the change: period %d", ep.Period)
	}
}

func TestAMissingEndpointIsNotRemembered(t *testing.T) {
	src := newSource()
	c := New(src)
	c.Online(true)

	if _, ep, _ := c.TokenAndEndpoint(context.Background(), []byte("h"), "later"); ep != nil {
		t.Fatal("found an endpoint that does not exist")
	}
	src.endpoints["later"] = store.Endpoint{Name: "later"}

	if _, ep, _ := c.TokenAndEndpoint(context.Background(), []byte("h"), "later"); ep == nil {
		t.Error("an endpoint enrolled after a miss is not found")
	}
}

func TestAFullCacheMakesRoomForWhatItReadsNext(t *testing.T) {
	src := newSource()
	for _, name := range []string{"a", "b", "c", "d"} {
		src.endpoints[name] = store.Endpoint{Name: name, Period: 30}
	}
	c := New(src)
	c.maxEndpoints = 3
	c.Online(true)

	for _, name := range []string{"a", "b", "c", "d", "a", "d"} {
		_, ep, err := c.TokenAndEndpoint(context.Background(), []byte("h"), name)
		if err != nil || ep == nil || ep.Name != name {
			t.Fatalf("read %q: %v, %v", name, ep, err)
		}
		if _, endpoints := c.Len(); endpoints > 3 {
			t.Fatalf("after reading %q the cache holds %d endpoints, more than 3", name, endpoints)
		}
	}

	// The last one read stays, and a second read of it needs no source.
	reads := src.reads
	readAgain := func(name string) {
		if _, _, err := c.TokenAndEndpoint(context.Background(), []byte("h"), name); err != nil {
			t.Fatal(err)
		}
	}
	readAgain("d")
	if src.reads != reads {
		t.Error("the endpoint read last was not kept")
	}
}

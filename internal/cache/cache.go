// Package cache keeps the token and endpoint records that every request
// looks up in memory, so that a code read needs no database round trip,
// and keeps them correct while other instances change the database.
//
// Correctness rests on a change feed (PostgreSQL LISTEN/NOTIFY, see
// postgres.DB.WatchChanges): every change of an endpoint or a token made by
// any instance is announced once committed, and the cache forgets what
// changed. While the feed is down the cache is offline: it serves nothing
// from memory and stores nothing, so a lost notification can never leave a
// stale record behind. Every announcement and every change of the feed's
// state bumps an epoch; a record read from the database is kept only when
// the epoch did not move while it was read, so that a change announced
// during the read cannot be overwritten by the older record.
//
// Records hold sealed secrets only: opening them stays the keyring's work
// at each request. Expiry needs no feed: the token record carries its
// expiry, which the API checks at each request.
package cache

import (
	"context"
	"sync"

	"github.com/totpvault/totpvault/internal/store"
)

// MaxEndpoints bounds how many endpoints are kept in memory: at about 1 KiB
// each (a record with typical labels, and the map around it), some 100 MiB.
// Past it, each newly kept endpoint pushes out one kept before, chosen at
// random: a store with more endpoints than that is served from memory for
// the ones read most, and from the database for the rest.
const MaxEndpoints = 100_000

// Source is where records come from on a miss.
type Source interface {
	TokenByHash(ctx context.Context, hash []byte) (store.Token, error)
	TokenAndEndpoint(ctx context.Context, hash []byte, name string) (
		store.Token, *store.Endpoint, error)
}

// Lookups answers token and endpoint lookups from memory when it can. It
// is safe for concurrent use. It starts offline: see Online.
type Lookups struct {
	src          Source
	maxEndpoints int

	mu        sync.RWMutex
	online    bool
	epoch     uint64
	tokens    map[string]store.Token    // by hash
	endpoints map[string]store.Endpoint // by name
}

// New returns an offline cache in front of src.
func New(src Source) *Lookups {
	c := &Lookups{src: src, maxEndpoints: MaxEndpoints}
	c.clear()
	return c
}

// TokenByHash returns the token with this hash, from memory when it is
// there, else from the source (one round trip).
func (c *Lookups) TokenByHash(ctx context.Context, hash []byte) (store.Token, error) {
	if tok, ok := c.token(hash); ok {
		return tok, nil
	}

	epoch := c.currentEpoch()
	tok, err := c.src.TokenByHash(ctx, hash)
	if err == nil {
		c.keep(epoch, &tok, nil)
	}
	return tok, err
}

// TokenAndEndpoint returns the token with this hash and the endpoint with
// this name (nil when there is none): from memory when both are there,
// else from the source in one round trip. A missing endpoint is not
// remembered, so one enrolled later is found at once.
func (c *Lookups) TokenAndEndpoint(ctx context.Context, hash []byte, name string) (
	store.Token, *store.Endpoint, error) {
	tok, okTok := c.token(hash)
	ep, okEp := c.endpoint(name)
	if okTok && okEp {
		return tok, &ep, nil
	}

	epoch := c.currentEpoch()
	tok, found, err := c.src.TokenAndEndpoint(ctx, hash, name)
	if err == nil {
		c.keep(epoch, &tok, found)
	}
	return tok, found, err
}

// Online tells the cache whether the change feed is listening. Either way
// it forgets everything: records kept while the feed was down could have
// missed a change.
func (c *Lookups) Online(online bool) {
	c.mu.Lock()
	defer c.mu.Unlock()

	c.online = online
	c.clear()
}

// EndpointChanged forgets the endpoint called name.
func (c *Lookups) EndpointChanged(name string) {
	c.mu.Lock()
	defer c.mu.Unlock()

	c.epoch++
	delete(c.endpoints, name)
}

// TokensChanged forgets every token. Tokens change seldom, and a change
// names a token by its ID while the cache knows them by hash.
func (c *Lookups) TokensChanged() {
	c.mu.Lock()
	defer c.mu.Unlock()

	c.epoch++
	c.tokens = map[string]store.Token{}
}

// Len returns how many tokens and endpoints are in memory.
func (c *Lookups) Len() (tokens, endpoints int) {
	c.mu.RLock()
	defer c.mu.RUnlock()

	return len(c.tokens), len(c.endpoints)
}

// token returns the remembered token with this hash.
func (c *Lookups) token(hash []byte) (store.Token, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()

	tok, ok := c.tokens[string(hash)]
	return tok, ok && c.online
}

// endpoint returns the remembered endpoint called name.
func (c *Lookups) endpoint(name string) (store.Endpoint, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()

	ep, ok := c.endpoints[name]
	return ep, ok && c.online
}

// currentEpoch returns the epoch to compare with when keeping a read.
func (c *Lookups) currentEpoch() uint64 {
	c.mu.RLock()
	defer c.mu.RUnlock()

	return c.epoch
}

// keep remembers records read from the source at epoch, unless something
// changed since or the feed is down.
func (c *Lookups) keep(epoch uint64, tok *store.Token, ep *store.Endpoint) {
	c.mu.Lock()
	defer c.mu.Unlock()

	if !c.online || c.epoch != epoch {
		return
	}
	c.tokens[string(tok.Hash)] = *tok
	if ep != nil {
		c.makeRoom(ep.Name)
		c.endpoints[ep.Name] = *ep
	}
}

// makeRoom forgets one endpoint other than name when the cache is full;
// c.mu must be held. Go's map iteration starts at a random place, which
// makes the choice random at no cost.
func (c *Lookups) makeRoom(name string) {
	if len(c.endpoints) < c.maxEndpoints {
		return
	}
	if _, ok := c.endpoints[name]; ok {
		return
	}

	for other := range c.endpoints {
		delete(c.endpoints, other)
		return
	}
}

// clear forgets everything and moves the epoch; c.mu must be held.
func (c *Lookups) clear() {
	c.epoch++
	c.tokens = map[string]store.Token{}
	c.endpoints = map[string]store.Endpoint{}
}

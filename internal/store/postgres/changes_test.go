package postgres_test

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/totpvault/totpvault/internal/store/postgres/pgtest"
)

// changeLog remembers what WatchChanges told it.
type changeLog struct {
	mu        sync.Mutex
	online    []bool
	endpoints []string
}

func (c *changeLog) Online(online bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.online = append(c.online, online)
}

func (c *changeLog) EndpointChanged(name string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.endpoints = append(c.endpoints, name)
}

func (c *changeLog) TokensChanged() {}

// snapshot returns copies of what was told so far.
func (c *changeLog) snapshot() (online []bool, endpoints []string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]bool(nil), c.online...), append([]string(nil), c.endpoints...)
}

func TestTheChangeListenerStaysOnlineThroughQuietSpells(t *testing.T) {
	t.Parallel()
	db := pgtest.DB(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	log := &changeLog{}
	go db.WatchChanges(ctx, log)
	waitFor(t, "the listener to be online", func() bool {
		online, _ := log.snapshot()
		return len(online) == 1 && online[0]
	})

	// Several heartbeats pass without a change; the connection is pinged,
	// found alive and kept.
	time.Sleep(2500 * time.Millisecond)

	conn, err := pgx.Connect(ctx, pgtest.URL(t))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "NOTIFY totpvault_changes, 'endpoint:after-the-quiet'"); err != nil {
		t.Fatal(err)
	}

	// Tests beside this one change endpoints of the same database too.
	waitFor(t, "the change to be told", func() bool {
		_, endpoints := log.snapshot()
		return slices.Contains(endpoints, "after-the-quiet")
	})
	if online, _ := log.snapshot(); len(online) != 1 {
		t.Errorf("the listener went offline during the quiet spell: %v", online)
	}
}

// waitFor polls cond for up to ten seconds.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()

	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("waited in vain for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

package api_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/totpvault/totpvault/internal/api"
	"github.com/totpvault/totpvault/internal/cache"
	"github.com/totpvault/totpvault/internal/store"
	"github.com/totpvault/totpvault/internal/store/postgres"
)

// changeBound is how soon a change on one instance must take effect on
// another that caches: the delivery of one notification, which takes
// milliseconds; the bound is generous for a loaded test machine.
const changeBound = 5 * time.Second

// withCache makes the harness answer lookups from a cache kept by the
// database's change feed, as the binary does on PostgreSQL.
func withCache(t testing.TB, keep ...**cache.Lookups) harnessOption {
	return func(c *api.Config) {
		db, ok := c.Store.(*postgres.DB)
		if !ok {
			t.Skip("the change feed is PostgreSQL's")
		}

		lookups := cache.New(db)
		ctx, cancel := context.WithCancel(context.Background())
		t.Cleanup(cancel)
		go db.WatchChanges(ctx, lookups)
		c.Lookups = lookups
		for _, k := range keep {
			*k = lookups
		}
	}
}

// eventually polls check until it is true or changeBound passes.
func eventually(t *testing.T, what string, check func() bool) {
	t.Helper()

	deadline := time.Now().Add(changeBound)
	for !check() {
		if time.Now().After(deadline) {
			t.Fatalf("%s did not take effect within %v", what, changeBound)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// killChangeListeners ends every connection that listens for changes.
func killChangeListeners(t *testing.T) {
	t.Helper()

	execSQL(t, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
		WHERE application_name = $1`, postgres.ChangeListenerName)
}

func TestChangesOnOneCachingInstanceReachTheOther(t *testing.T) {
	t.Parallel()
	a, b := newHarness(t, withCache(t)), newHarness(t, withCache(t))
	runner := a.token(store.RoleRunner, []string{a.name("*")}, time.Time{})
	e := a.enroll(map[string]any{"name": a.name("cached"), "secret": entraSecret})

	code := func(h *harness, token string) response {
		return h.do(request{method: "GET", path: "/v1/endpoints/" + e.Name + "/code", token: token})
	}
	code(b, runner).expect(t, http.StatusOK, "") // b now holds the token and endpoint

	// A new secret on a reaches b.
	var replaced endpoint
	a.do(request{method: "PUT", path: "/v1/endpoints/" + e.Name + "/secret", token: a.admin,
		body: map[string]any{"secret": qrSecret, "digits": 8}}).decode(t, &replaced)
	eventually(t, "a replaced secret", func() bool {
		var c codeAnswer
		code(b, runner).decode(t, &c)
		return c.Digits == 8
	})

	// So does a revocation, also after the feed's connections were killed.
	killChangeListeners(t)
	a.do(request{method: "DELETE", path: "/v1/tokens/" + a.tokenID(runner), token: a.admin}).
		expect(t, http.StatusNoContent, "")
	eventually(t, "a revoked token", func() bool {
		return code(b, runner).status == http.StatusUnauthorized
	})

	// And a deletion.
	code(b, b.admin).expect(t, http.StatusOK, "")
	killChangeListeners(t)
	a.do(request{method: "DELETE", path: "/v1/endpoints/" + e.Name, token: a.admin}).
		expect(t, http.StatusNoContent, "")
	eventually(t, "a deleted endpoint", func() bool {
		return code(b, b.admin).status == http.StatusNotFound
	})
}

func TestACachingInstanceKeepsWhatItReadInMemory(t *testing.T) {
	t.Parallel()
	var lookups *cache.Lookups
	h := newHarness(t, withCache(t, &lookups))
	e := h.enroll(map[string]any{"name": h.name("warm"), "generate": true})

	eventually(t, "keeping the records of a code read", func() bool {
		h.code(e.Name)
		tokens, endpoints := lookups.Len()
		return tokens == 1 && endpoints == 1
	})
}

package api_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/totpvault/totpvault/internal/api"
	"github.com/totpvault/totpvault/internal/cache"
	"github.com/totpvault/totpvault/internal/store"
)

// withDeafCache makes the harness answer lookups from a cache that is
// online but hears no change feed, so that only what the server itself
// tells it can make it forget.
func withDeafCache(t *testing.T) harnessOption {
	return func(c *api.Config) {
		lookups := cache.New(c.Store)
		lookups.Online(true)
		c.Lookups = lookups
	}
}

func TestTheInstanceThatMadeAChangeForgetsTheOldRecordAtOnce(t *testing.T) {
	t.Parallel()
	h := newHarness(t, withDeafCache(t))
	runner := h.token(store.RoleRunner, []string{h.name("*")}, time.Time{})
	e := h.enroll(map[string]any{"name": h.name("forget"), "secret": entraSecret})

	code := func(token string) response {
		return h.do(request{method: "GET", path: "/v1/endpoints/" + e.Name + "/code", token: token})
	}
	code(runner).expect(t, http.StatusOK, "") // the cache now holds both

	h.do(request{method: "PUT", path: "/v1/endpoints/" + e.Name + "/secret", token: h.admin,
		body: map[string]any{"secret": qrSecret, "digits": 8}}).expect(t, http.StatusOK, "")
	var c codeAnswer
	code(runner).decode(t, &c)
	if c.Digits != 8 {
		t.Errorf("after the new secret a code has %d digits, want 8", c.Digits)
	}

	h.do(request{method: "DELETE", path: "/v1/tokens/" + h.tokenID(runner), token: h.admin}).
		expect(t, http.StatusNoContent, "")
	code(runner).expect(t, http.StatusUnauthorized, "unauthorized")

	h.do(request{method: "DELETE", path: "/v1/endpoints/" + e.Name, token: h.admin}).
		expect(t, http.StatusNoContent, "")
	code(h.admin).expect(t, http.StatusNotFound, "not_found")
}

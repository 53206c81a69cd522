package api_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
)

// tokenAnswer is a token as the API shows it.
type tokenAnswer struct {
	ID        string     `json:"id"`
	Name      string     `json:"name"`
	Role      string     `json:"role"`
	Scopes    []string   `json:"scopes"`
	CreatedAt time.Time  `json:"created_at"`
	ExpiresAt *time.Time `json:"expires_at"`
	Token     string     `json:"token"`
}

func TestATokenIsShownOnceAndWorksWithinItsScopes(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	inScope := h.enroll(map[string]any{"name": h.name("o365-alice"), "generate": true})
	outOfScope := h.enroll(map[string]any{"name": h.name("bank-bob"), "generate": true})

	var created tokenAnswer
	resp := h.do(request{method: "POST", path: "/v1/tokens", token: h.admin,
		body: map[string]any{"name": "eu-runners", "role": "runner",
			"scopes": []string{h.name("o365-*")}, "ttl": "720h"}})
	resp.expect(t, http.StatusCreated, "")
	resp.decode(t, &created)
	sensitive.add(created.Token)

	if resp.header.Get("Cache-Control") != "no-store" {
		t.Error("the token's answer may be cached")
	}
	if !strings.HasPrefix(created.Token, "tvt_") || created.ExpiresAt == nil ||
		!created.ExpiresAt.Equal(epoch.Add(720*time.Hour)) {
		t.Errorf("created %+v", created)
	}

	var read tokenAnswer
	h.do(request{method: "GET", path: "/v1/tokens/" + created.ID, token: h.admin}).decode(t, &read)
	if read.Token != "" || read.Name != "eu-runners" || !slices.Equal(read.Scopes, created.Scopes) {
		t.Errorf("read back %+v", read)
	}

	code := func(name string) int {
		return h.do(request{method: "GET", path: "/v1/endpoints/" + name + "/code",
			token: created.Token}).status
	}
	if got := code(inScope.Name); got != http.StatusOK {
		t.Errorf("in scope: %d", got)
	}
	if got := code(outOfScope.Name); got != http.StatusForbidden {
		t.Errorf("out of scope: %d", got)
	}
}

func TestARevokedTokenLeavesTheList(t *testing.T) {
	t.Parallel()
	h := newHarness(t)

	var ids []string
	for _, name := range []string{"a", "b", "c"} {
		var tok tokenAnswer
		h.do(request{method: "POST", path: "/v1/tokens", token: h.admin,
			body: map[string]any{"name": h.name(name), "role": "admin"}}).decode(t, &tok)
		sensitive.add(tok.Token)
		ids = append(ids, tok.ID)
	}

	h.do(request{method: "DELETE", path: "/v1/tokens/" + ids[1], token: h.admin}).
		expect(t, http.StatusNoContent, "")
	h.do(request{method: "DELETE", path: "/v1/tokens/" + ids[1], token: h.admin}).
		expect(t, http.StatusNotFound, "not_found")
	h.do(request{method: "GET", path: "/v1/tokens/" + ids[1], token: h.admin}).
		expect(t, http.StatusNotFound, "not_found")
	h.do(request{method: "GET", path: "/v1/tokens/not-a-uuid", token: h.admin}).
		expect(t, http.StatusNotFound, "not_found")

	listed := map[string]bool{}
	cursor := ""
	for {
		var page struct {
			Tokens     []tokenAnswer `json:"tokens"`
			NextCursor string        `json:"next_cursor"`
		}
		path := "/v1/tokens?limit=1"
		if cursor != "" {
			path += "&cursor=" + cursor
		}
		h.do(request{method: "GET", path: path, token: h.admin}).decode(t, &page)

		for _, tok := range page.Tokens {
			if tok.Token != "" {
				t.Fatalf("the list shows a token value")
			}
			listed[tok.ID] = true
		}
		if cursor = page.NextCursor; cursor == "" {
			break
		}
	}

	if !listed[ids[0]] || listed[ids[1]] || !listed[ids[2]] {
		t.Errorf("listed %v; want %s and %s but not the revoked %s", listed, ids[0], ids[2], ids[1])
	}
}

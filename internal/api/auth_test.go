package api_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/totpvault/totpvault/internal/store"
)

// route is one route of the API with a request that succeeds for an admin.
type route struct {
	method, path string // path may hold {name} and {id}
	body         any
	runner       bool // runners in scope may call it
	ok           int  // the admin's status
}

// routes are every /v1 route.
var routes = []route{
	{"POST", "/v1/endpoints", map[string]any{"name": "{name}", "generate": true}, false, 201},
	{"GET", "/v1/endpoints", nil, true, 200},
	{"GET", "/v1/endpoints/{name}", nil, true, 200},
	{"PATCH", "/v1/endpoints/{name}", map[string]any{"labels": map[string]string{"a": "b"}}, false, 200},
	{"DELETE", "/v1/endpoints/{name}", nil, false, 204},
	{"PUT", "/v1/endpoints/{name}/secret", map[string]any{"generate": true}, false, 200},
	{"GET", "/v1/endpoints/{name}/code", nil, true, 200},
	{"POST", "/v1/endpoints/{name}/verify", map[string]any{"code": "000000"}, true, 200},
	{"POST", "/v1/endpoints/{name}/claim", nil, true, 200},
	{"POST", "/v1/tokens", map[string]any{"name": "ci", "role": "runner", "scopes": []string{"a*"}}, false, 201},
	{"GET", "/v1/tokens", nil, false, 200},
	{"GET", "/v1/tokens/{id}", nil, false, 200},
	{"DELETE", "/v1/tokens/{id}", nil, false, 204},
}

// request fills in the route for an endpoint name and a token ID.
func (r route) request(token, name, id string) request {
	fill := func(s string) string {
		return strings.NewReplacer("{name}", name, "{id}", id).Replace(s)
	}

	body := r.body
	if m, ok := body.(map[string]any); ok && m["name"] == "{name}" {
		body = map[string]any{"name": name, "generate": true}
	}
	return request{method: r.method, path: fill(r.path), token: token, body: body}
}

// names reports whether the route names an endpoint in its path.
func (r route) names() bool { return strings.Contains(r.path, "{name}") }

func TestEveryRouteRefusesTokensThatCannotBeUsed(t *testing.T) {
	t.Parallel()
	h := newHarness(t)

	expired := h.token(store.RoleAdmin, nil, epoch.Add(-time.Second))
	revoked := h.revokedToken()
	tokens := map[string]string{
		"no token":      "",
		"unknown token": "tvt_" + strings.Repeat("A", 43),
		"expired token": expired,
		"revoked token": revoked,
	}

	e := h.enroll(map[string]any{"name": h.name("target"), "generate": true})
	id := h.tokenID(h.admin)

	for who, token := range tokens {
		for _, r := range routes {
			t.Run(fmt.Sprintf("%s on %s %s gets 401", who, r.method, r.path), func(t *testing.T) {
				resp := h.do(r.request(token, e.Name, id))
				resp.expect(t, http.StatusUnauthorized, "unauthorized")

				if got := resp.header.Get("WWW-Authenticate"); !strings.HasPrefix(got, "Bearer") {
					t.Errorf("WWW-Authenticate = %q, want Bearer", got)
				}
			})
		}
	}
}

func TestTokenExpiresAtItsInstant(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	token := h.token(store.RoleAdmin, nil, epoch.Add(time.Minute))
	list := request{method: "GET", path: "/v1/endpoints", token: token}

	h.clock.Set(epoch.Add(time.Minute - time.Nanosecond))
	h.do(list).expect(t, http.StatusOK, "")

	h.clock.Set(epoch.Add(time.Minute))
	h.do(list).expect(t, http.StatusUnauthorized, "unauthorized")
}

func TestRolesAndScopes(t *testing.T) {
	t.Parallel()
	h := newHarness(t)

	inScope := h.token(store.RoleRunner, []string{h.name("in-*")}, time.Time{})
	outOfScope := h.token(store.RoleRunner, []string{h.name("other-*")}, time.Time{})

	for i, r := range routes {
		name := h.name(fmt.Sprintf("in-%d", i))
		if r.names() {
			h.enroll(map[string]any{"name": name, "generate": true})
		}
		missing := h.name(fmt.Sprintf("in-missing-%d", i))

		t.Run(fmt.Sprintf("a runner out of scope on %s %s gets 403 whether or not the name exists",
			r.method, r.path), func(t *testing.T) {
			if !r.names() {
				t.Skip("the route names no endpoint")
			}

			existing := h.do(r.request(outOfScope, name, ""))
			absent := h.do(r.request(outOfScope, missing, ""))
			existing.expect(t, http.StatusForbidden, "forbidden")
			absent.expect(t, http.StatusForbidden, "forbidden")
		})

		t.Run(fmt.Sprintf("a runner in scope on %s %s", r.method, r.path), func(t *testing.T) {
			resp := h.do(r.request(inScope, name, h.tokenID(h.admin)))
			switch {
			case !r.runner:
				resp.expect(t, http.StatusForbidden, "forbidden")
			case r.names():
				resp.expect(t, r.ok, "")
				h.do(r.request(inScope, missing, "")).expect(t, http.StatusNotFound, "not_found")
			default:
				resp.expect(t, r.ok, "")
			}
		})
	}
}

func TestAnAdminMayCallEveryRoute(t *testing.T) {
	t.Parallel()
	h := newHarness(t)

	for i, r := range routes {
		t.Run(fmt.Sprintf("%s %s answers %d", r.method, r.path, r.ok), func(t *testing.T) {
			name := h.name(fmt.Sprintf("admin-%d", i))
			if r.names() {
				h.enroll(map[string]any{"name": name, "generate": true})
			}
			id := h.tokenID(h.token(store.RoleRunner, []string{"x*"}, time.Time{}))

			h.do(r.request(h.admin, name, id)).expect(t, r.ok, "")
		})

		if r.names() {
			t.Run(fmt.Sprintf("%s %s of a missing endpoint answers 404", r.method, r.path),
				func(t *testing.T) {
					resp := h.do(r.request(h.admin, h.name("nobody"), ""))
					resp.expect(t, http.StatusNotFound, "not_found")
				})
		}
	}
}

func TestANameThatCannotExistIsNotFound(t *testing.T) {
	t.Parallel()
	h := newHarness(t)

	for _, name := range []string{"-leading-hyphen", strings.Repeat("a", 129), "sp%20ace", "a%2Fb"} {
		t.Run(name, func(t *testing.T) {
			resp := h.do(request{method: "GET", path: "/v1/endpoints/" + name, token: h.admin})
			resp.expect(t, http.StatusNotFound, "not_found")
		})
	}
}

func TestARevokedTokenIsRefusedByEveryInstanceAtOnce(t *testing.T) {
	t.Parallel()
	first, second := newHarness(t), newHarness(t)
	runner := first.token(store.RoleRunner, []string{"*"}, time.Time{})
	list := request{method: "GET", path: "/v1/endpoints", token: runner}

	second.do(list).expect(t, http.StatusOK, "")

	first.do(request{method: "DELETE", path: "/v1/tokens/" + first.tokenID(runner), token: first.admin}).
		expect(t, http.StatusNoContent, "")

	second.do(list).expect(t, http.StatusUnauthorized, "unauthorized")
	first.do(list).expect(t, http.StatusUnauthorized, "unauthorized")
}

func TestAMethodARouteDoesNotServeGets405WithAllow(t *testing.T) {
	t.Parallel()
	h := newHarness(t)

	resp := h.do(request{method: "PUT", path: "/v1/endpoints", token: h.admin})
	resp.expect(t, http.StatusMethodNotAllowed, "method_not_allowed")
	if got := resp.header.Get("Allow"); got != "GET, POST" {
		t.Errorf("Allow = %q, want GET, POST", got)
	}
}

package api_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"

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
	{"GET", "/v1/audit", nil, false, 200},
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

func TestTheRouteMatrixCoversEveryRoute(t *testing.T) {
	t.Parallel()
	h := newHarness(t)

	listed := map[string]bool{}
	for _, r := range routes {
		listed[r.method+" "+r.path] = true
	}

	err := chi.Walk(h.server.Handler().(chi.Routes), func(method, path string,
		_ http.Handler, _ ...func(http.Handler) http.Handler) error {
		if strings.HasPrefix(path, "/v1/") && !listed[method+" "+path] {
			t.Errorf("%s %s is served but missing from the routes of these tests", method, path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// revoke revokes the token with this value behind the API's back.
func revoke(h *harness, value string) string {
	h.t.Helper()

	err := h.db.RevokeToken(context.Background(), h.tokenID(value), h.clock.Now(),
		h.setupEvent(store.ActionTokenRevoke))
	if err != nil {
		h.t.Fatalf("revoke: %v", err)
	}
	return value
}

func TestEveryRouteRefusesTokensThatCannotBeUsed(t *testing.T) {
	t.Parallel()
	h := newHarness(t)

	scopes := []string{h.name("*")}
	tokens := map[string]string{
		"no token":             "",
		"unknown token":        "tvt_" + strings.Repeat("A", 43),
		"expired admin token":  h.token(store.RoleAdmin, nil, epoch.Add(-time.Second)),
		"revoked admin token":  h.revokedToken(),
		"expired runner token": h.token(store.RoleRunner, scopes, epoch.Add(-time.Second)),
		"revoked runner token": revoke(h, h.token(store.RoleRunner, scopes, time.Time{})),
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

		t.Run(fmt.Sprintf("a runner out of scope on %s %s", r.method, r.path), func(t *testing.T) {
			if !r.names() {
				// A list answers only what the scopes cover; the rest is
				// for admins.
				outOfScopeStatus(r).check(t, h.do(r.request(outOfScope, name,
					h.tokenID(h.admin))))
				return
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
				if r.names() {
					absent := h.do(r.request(inScope, missing, ""))
					absent.expect(t, http.StatusForbidden, "forbidden")
				}
			case r.names():
				resp.expect(t, r.ok, "")
				h.do(r.request(inScope, missing, "")).expect(t, http.StatusNotFound, "not_found")
			default:
				resp.expect(t, r.ok, "")
			}
		})
	}
}

// outcome is a status and, for a problem, its code.
type outcome struct {
	status int
	code   string
}

// check fails t unless resp has the outcome.
func (o outcome) check(t *testing.T, resp response) {
	t.Helper()
	resp.expect(t, o.status, o.code)
}

// outOfScopeStatus is what a runner whose scopes cover nothing gets on a
// route that names no endpoint: what runners may call answers as for an
// admin, the rest is forbidden.
func outOfScopeStatus(r route) outcome {
	if r.runner {
		return outcome{r.ok, ""}
	}
	return outcome{http.StatusForbidden, "forbidden"}
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
	inScope := h.token(store.RoleRunner, []string{"*"}, time.Time{})
	outOfScope := h.token(store.RoleRunner, []string{h.name("other-*")}, time.Time{})

	names := map[string]string{
		"a leading hyphen":        "-leading-hyphen",
		"129 characters":          strings.Repeat("a", 129),
		"5000 characters":         strings.Repeat("a", 5000),
		"a space":                 "sp%20ace",
		"an encoded slash":        "a%2Fb",
		"a NUL byte":              "a%00b",
		"a byte that is no UTF-8": "a%FFb",
		"lower-case %ff":          "a%ffb",
		"a letter outside A-Z":    "caf%C3%A9",
	}

	for what, name := range names {
		for _, r := range routes {
			if !r.names() {
				continue
			}
			inScopeWant := outcome{http.StatusNotFound, "not_found"}
			if !r.runner {
				inScopeWant = outcome{http.StatusForbidden, "forbidden"}
			}

			t.Run(fmt.Sprintf("%s %s with %s", r.method, r.path, what), func(t *testing.T) {
				h.do(r.request(h.admin, name, "")).expect(t, http.StatusNotFound, "not_found")
				inScopeWant.check(t, h.do(r.request(inScope, name, "")))
				h.do(r.request(outOfScope, name, "")).expect(t, http.StatusForbidden, "forbidden")
			})
		}
	}
}

func TestARequestIDThatLooksLikeATokenIsReplaced(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	e := h.enroll(map[string]any{"name": h.name("traced"), "generate": true})
	path := "/v1/endpoints/" + e.Name + "/code"

	tests := []struct {
		name string
		id   string
		kept bool
	}{
		{"a plain ID is kept", "trace-" + randomHex(t, 8), true},
		{"a minted token is replaced", h.token(store.RoleAdmin, nil, time.Time{}), false},
		{"a token prefix in upper case is replaced", "TVT_" + randomHex(t, 16), false},
		{"the token prefix alone is replaced", "tvt_____", false},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !tt.kept {
				sensitive.add(tt.id)
			}
			resp := h.do(request{method: "GET", path: path, token: h.admin,
				header: map[string]string{"X-Request-ID": tt.id}})
			resp.expect(t, http.StatusOK, "")

			got := resp.header.Get("X-Request-ID")
			if kept := got == tt.id; kept != tt.kept {
				t.Errorf("X-Request-ID answered %q for %q; kept %v, want %v",
					got, tt.id, kept, tt.kept)
			}
			if !tt.kept && strings.Contains(h.logs.String(), tt.id) {
				t.Errorf("the log holds the ID %q", tt.id)
			}
			if !tt.kept && recordedRequestID(h, e.Name, tt.id) {
				t.Errorf("the audit trail holds the ID %q", tt.id)
			}
		})
	}
}

// recordedRequestID reports whether an audit event of the endpoint carries
// the request ID.
func recordedRequestID(h *harness, endpoint, id string) bool {
	for _, ev := range h.events("endpoint=" + endpoint) {
		if ev.RequestID == id {
			return true
		}
	}
	return false
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

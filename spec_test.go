package totpvault

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"
)

// loadSpec parses and validates APISpec, examples and schema formats included.
func loadSpec(t *testing.T) *openapi3.T {
	t.Helper()

	doc, err := openapi3.NewLoader().LoadFromData(APISpec)
	if err != nil {
		t.Fatalf("load api.yaml: %v", err)
	}

	err = doc.Validate(context.Background(),
		openapi3.EnableMultiError(), openapi3.EnableSchemaFormatValidation())
	if err != nil {
		t.Fatalf("validate api.yaml: %v", err)
	}
	return doc
}

// operation is one method on one path of the document.
type operation struct {
	path, method string
	op           *openapi3.Operation
}

func (o operation) String() string { return o.method + " " + o.path }

// operations lists every operation of doc, sorted by path, then method.
func operations(doc *openapi3.T) []operation {
	var ops []operation
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			ops = append(ops, operation{path, method, op})
		}
	}
	slices.SortFunc(ops, func(a, b operation) int {
		return strings.Compare(a.String(), b.String())
	})
	return ops
}

// security is the security an operation asks for: its own when it says any,
// else the document's.
func security(doc *openapi3.T, op *openapi3.Operation) openapi3.SecurityRequirements {
	if op.Security != nil {
		return *op.Security
	}
	return doc.Security
}

// needsBearer reports whether every way to satisfy reqs includes the bearer
// scheme, so that no request gets through without a token.
func needsBearer(reqs openapi3.SecurityRequirements) bool {
	if len(reqs) == 0 {
		return false
	}
	for _, req := range reqs {
		if _, ok := req["bearer"]; !ok {
			return false
		}
	}
	return true
}

func TestAPISpecIsValid(t *testing.T) {
	doc := loadSpec(t)

	if !doc.IsOpenAPI31OrLater() {
		t.Errorf("openapi = %q, want 3.1.x", doc.OpenAPI)
	}
}

// A /v1 operation that forgot its security would hand secrets to anyone;
// the probes, on the other hand, must work without a token.
func TestOnlyV1OperationsNeedABearerToken(t *testing.T) {
	doc := loadSpec(t)

	for _, o := range operations(doc) {
		v1 := strings.HasPrefix(o.path, "/v1/")
		if got := needsBearer(security(doc, o.op)); got != v1 {
			t.Errorf("%v: needs a bearer token = %v, want %v", o, got, v1)
		}
	}
}

func TestSecuredOperationsDocument401WithWWWAuthenticate(t *testing.T) {
	doc := loadSpec(t)

	for _, o := range operations(doc) {
		if !needsBearer(security(doc, o.op)) {
			continue
		}

		resp := o.op.Responses.Status(http.StatusUnauthorized)
		if resp == nil {
			t.Errorf("%v: no 401 response", o)
			continue
		}
		if h := resp.Value.Headers["WWW-Authenticate"]; h == nil || !h.Value.Required {
			t.Errorf("%v: 401 does not require WWW-Authenticate", o)
		}
	}
}

func TestEveryResponseDocumentsXRequestID(t *testing.T) {
	doc := loadSpec(t)

	for _, o := range operations(doc) {
		for status, resp := range o.op.Responses.Map() {
			h := resp.Value.Headers["X-Request-ID"]
			if h == nil || !h.Value.Required {
				t.Errorf("%v: %s does not require X-Request-ID", o, status)
			}
		}
	}
}

// Every /v1 operation may fail on the server, and every one with a body may
// be refused for that body; clients should find each of those answers.
func TestV1OperationsDocumentTheirFailures(t *testing.T) {
	doc := loadSpec(t)

	for _, o := range operations(doc) {
		if !strings.HasPrefix(o.path, "/v1/") {
			continue
		}

		want := []int{http.StatusInternalServerError, http.StatusServiceUnavailable}
		if o.op.RequestBody != nil {
			want = append(want, http.StatusBadRequest,
				http.StatusRequestEntityTooLarge, http.StatusUnsupportedMediaType)
		}
		if strings.Contains(o.path, "{") {
			want = append(want, http.StatusForbidden, http.StatusNotFound)
		}

		for _, status := range want {
			if o.op.Responses.Status(status) == nil {
				t.Errorf("%v: no %d response", o, status)
			}
		}
	}
}

func TestCodesAndTokenValuesAreNotCached(t *testing.T) {
	doc := loadSpec(t)

	for _, c := range []struct {
		path, method string
		status       int
	}{
		{"/v1/endpoints/{name}/code", http.MethodGet, http.StatusOK},
		{"/v1/tokens", http.MethodPost, http.StatusCreated},
	} {
		resp := doc.Paths.Find(c.path).GetOperation(c.method).Responses.Status(c.status)
		if h := resp.Value.Headers["Cache-Control"]; h == nil || !h.Value.Required {
			t.Errorf("%s %s: %d does not require Cache-Control", c.method, c.path, c.status)
		}
	}
}

// absent, given to edit as a value, removes the key.
var absent = new(int)

// edit returns the JSON object doc with key set to value, or removed.
func edit(doc, key string, value any) string {
	var m map[string]any
	if err := json.Unmarshal([]byte(doc), &m); err != nil {
		panic(err)
	}

	if value == absent {
		delete(m, key)
	} else {
		m[key] = value
	}

	b, err := json.Marshal(m)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// labels returns n distinct labels.
func labels(n int) map[string]string {
	m := make(map[string]string, n)
	for i := range n {
		m[fmt.Sprintf("k%d", i)] = "v"
	}
	return m
}

const (
	enrollSecret = `{"name": "o365-alice", "secret": "G2BG CNYU D3NO 6QU7 BYQE H7N2 2CTV UBNR"}`

	endpointJSON = `{"name": "o365-alice", "issuer": "Microsoft",
		"account": "alice@example.com", "algorithm": "SHA1", "digits": 6,
		"period": 30, "labels": {"team": "identity"},
		"created_at": "2026-03-09T18:00:00Z", "updated_at": "2026-03-09T18:00:00Z"}`

	codeJSON = `{"name": "o365-alice", "code": "049203", "digits": 6, "period": 30,
		"counter": 59102640, "valid_from": "2026-03-09T18:00:00Z",
		"valid_until": "2026-03-09T18:00:30Z", "seconds_remaining": 17,
		"next": {"code": "118402", "valid_from": "2026-03-09T18:00:30Z",
		"valid_until": "2026-03-09T18:01:00Z"}}`

	tokenJSON = `{"id": "0194f3a0-7c1e-7d2a-9b1c-2f4e6a8b0c1d", "name": "eu-runners",
		"role": "runner", "scopes": ["o365-*"],
		"created_at": "2026-03-09T18:00:00Z", "expires_at": "2026-04-08T18:00:00Z"}`

	uri = "otpauth://totp/x?secret=G2BGCNYUD3NO6QU7BYQEH7N22CTVUBNR"
)

// newRouter routes requests to the operations of the document.
func newRouter(t *testing.T) routers.Router {
	t.Helper()

	router, err := legacy.NewRouter(loadSpec(t))
	if err != nil {
		t.Fatalf("router: %v", err)
	}
	return router
}

// validateRequest checks a request against the document.
func validateRequest(router routers.Router, method, target, contentType, body string) (
	*openapi3filter.RequestValidationInput, error) {
	req := httptest.NewRequest(method, target, strings.NewReader(body))
	if body != "" {
		req.Header.Set("Content-Type", contentType)
	}

	route, params, err := router.FindRoute(req)
	if err != nil {
		return nil, fmt.Errorf("find route: %w", err)
	}

	input := &openapi3filter.RequestValidationInput{
		Request:    req,
		PathParams: params,
		Route:      route,
		Options:    &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc},
	}
	return input, openapi3filter.ValidateRequest(context.Background(), input)
}

// The schemas must let through what the contract says and stop the rest, or
// the API tests that validate against them prove nothing.
func TestRequestSchemas(t *testing.T) {
	router := newRouter(t)

	const (
		post  = http.MethodPost
		put   = http.MethodPut
		patch = http.MethodPatch
		get   = http.MethodGet
		js    = "application/json"
		merge = "application/merge-patch+json"
	)

	for _, c := range []struct {
		name               string
		method, target, ct string
		body               string
		ok                 bool
	}{
		{"enroll from a secret", post, "/v1/endpoints", js, enrollSecret, true},
		{"enroll from a URI with overrides", post, "/v1/endpoints", js,
			edit(edit(edit(`{"name": "a"}`, "otpauth_uri", uri),
				"algorithm", "sha256"), "digits", 8), true},
		{"enroll generated", post, "/v1/endpoints", js, `{"name": "a", "generate": true}`, true},
		{"enroll with labels and account", post, "/v1/endpoints", js,
			edit(edit(enrollSecret, "labels", labels(32)), "account", "bot"), true},
		{"enroll without a source", post, "/v1/endpoints", js, `{"name": "a"}`, false},
		{"enroll with two sources", post, "/v1/endpoints", js,
			edit(enrollSecret, "generate", true), false},
		{"enroll with generate false", post, "/v1/endpoints", js,
			`{"name": "a", "generate": false}`, false},
		{"enroll with a QR image", post, "/v1/endpoints", js,
			edit(`{"name": "a"}`, "qr_image", "iVBORw0KGgo="), true},
		{"enroll with a QR image and a secret", post, "/v1/endpoints", js,
			edit(enrollSecret, "qr_image", "iVBORw0KGgo="), false},
		{"enroll without a name", post, "/v1/endpoints", js,
			edit(enrollSecret, "name", absent), false},
		{"enroll a name starting with a dot", post, "/v1/endpoints", js,
			edit(enrollSecret, "name", ".a"), false},
		{"enroll a name of 129 characters", post, "/v1/endpoints", js,
			edit(enrollSecret, "name", strings.Repeat("a", 129)), false},
		{"enroll with an unknown field", post, "/v1/endpoints", js,
			edit(enrollSecret, "note", "x"), false},
		{"enroll with MD5", post, "/v1/endpoints", js,
			edit(enrollSecret, "algorithm", "MD5"), false},
		{"enroll with 9 digits", post, "/v1/endpoints", js,
			edit(enrollSecret, "digits", 9), false},
		{"enroll with a period of 5 s", post, "/v1/endpoints", js,
			edit(enrollSecret, "period", 5), false},
		{"enroll with 33 labels", post, "/v1/endpoints", js,
			edit(enrollSecret, "labels", labels(33)), false},
		{"enroll with a label key holding a colon", post, "/v1/endpoints", js,
			edit(enrollSecret, "labels", map[string]string{"a:b": "c"}), false},
		{"enroll with a label key holding a newline", post, "/v1/endpoints", js,
			edit(enrollSecret, "labels", map[string]string{"a\nb": "c"}), false},
		{"enroll with an issuer of 256 characters", post, "/v1/endpoints", js,
			edit(enrollSecret, "issuer", strings.Repeat("i", 256)), false},

		{"list by labels", get, "/v1/endpoints?label=team:identity&label=env:&limit=1000",
			"", "", true},
		{"list by a label without a colon", get, "/v1/endpoints?label=team", "", "", false},
		{"list 0 endpoints", get, "/v1/endpoints?limit=0", "", "", false},
		{"list 1001 endpoints", get, "/v1/endpoints?limit=1001", "", "", false},

		{"patch with nulls", patch, "/v1/endpoints/a", merge,
			`{"issuer": null, "account": null, "labels": null}`, true},
		{"patch labels as JSON", patch, "/v1/endpoints/a", js, `{"labels": {"a": "b"}}`, true},
		{"patch the digits", patch, "/v1/endpoints/a", js, `{"digits": 8}`, false},

		{"replace a secret", put, "/v1/endpoints/a/secret", js,
			`{"secret": "G2BGCNYUD3NO6QU7", "period": 60}`, true},
		{"replace a secret with a name", put, "/v1/endpoints/a/secret", js,
			edit(enrollSecret, "name", "a"), false},
		{"replace a secret with labels", put, "/v1/endpoints/a/secret", js,
			`{"generate": true, "labels": {}}`, false},

		{"read a code valid 5 s", get, "/v1/endpoints/a/code?min_valid=5", "", "", true},
		{"read a code valid -1 s", get, "/v1/endpoints/a/code?min_valid=-1", "", "", false},

		{"verify a code", post, "/v1/endpoints/a/verify", js, `{"code": "049203"}`, true},
		{"verify a padded code", post, "/v1/endpoints/a/verify", js, `{"code": " 049203"}`, false},
		{"verify a number", post, "/v1/endpoints/a/verify", js, `{"code": 492039}`, false},

		{"create a runner", post, "/v1/tokens", js,
			`{"name": "r", "role": "runner", "scopes": ["o365-*"], "ttl": "1h30m"}`, true},
		{"create an admin", post, "/v1/tokens", js, `{"name": "a", "role": "admin"}`, true},
		{"create a runner without scopes", post, "/v1/tokens", js,
			`{"name": "r", "role": "runner"}`, false},
		{"create a runner with empty scopes", post, "/v1/tokens", js,
			`{"name": "r", "role": "runner", "scopes": []}`, false},
		{"create an admin with scopes", post, "/v1/tokens", js,
			`{"name": "a", "role": "admin", "scopes": ["*"]}`, false},
		{"create a token with a negative ttl", post, "/v1/tokens", js,
			`{"name": "a", "role": "admin", "ttl": "-1h"}`, false},
		{"create a token with a ttl in days", post, "/v1/tokens", js,
			`{"name": "a", "role": "admin", "ttl": "30d"}`, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := validateRequest(router, c.method, c.target, c.ct, c.body)
			if got := err == nil; got != c.ok {
				t.Errorf("accepted = %v, want %v; error: %v", got, c.ok, err)
			}
		})
	}
}

func TestResponseSchemas(t *testing.T) {
	router := newRouter(t)

	const (
		js      = "application/json"
		problem = "application/problem+json"
	)

	// Headers every response of the case carries unless it says otherwise.
	base := map[string]string{"X-Request-ID": "r1"}

	for _, c := range []struct {
		name           string
		method, target string
		status         int
		ct             string
		header         map[string]string
		body           string
		ok             bool
	}{
		{"health", "GET", "/healthz", 200, js, nil, `{"status": "ok"}`, true},
		{"this document", "GET", "/openapi.yaml", 200, "application/yaml", nil,
			string(APISpec), true},
		{"not ready", "GET", "/readyz", 503, problem, nil,
			`{"type": "about:blank", "title": "Service Unavailable", "status": 503,
			"detail": "database unavailable", "code": "unavailable"}`, true},

		{"an endpoint", "GET", "/v1/endpoints/a", 200, js, nil, endpointJSON, true},
		{"an endpoint without X-Request-ID", "GET", "/v1/endpoints/a", 200, js,
			map[string]string{"X-Request-ID": ""}, endpointJSON, false},
		{"an endpoint with its secret", "GET", "/v1/endpoints/a", 200, js, nil,
			edit(endpointJSON, "secret", "G2BGCNYUD3NO6QU7"), false},
		{"an endpoint with its URI", "GET", "/v1/endpoints/a", 200, js, nil,
			edit(endpointJSON, "otpauth_uri", uri), false},
		{"an endpoint without labels", "GET", "/v1/endpoints/a", 200, js, nil,
			edit(endpointJSON, "labels", absent), false},
		{"an endpoint with null labels", "GET", "/v1/endpoints/a", 200, js, nil,
			edit(endpointJSON, "labels", nil), false},
		{"an endpoint with a lower-case algorithm", "GET", "/v1/endpoints/a", 200, js, nil,
			edit(endpointJSON, "algorithm", "sha1"), false},
		{"an endpoint with a time not in UTC", "GET", "/v1/endpoints/a", 200, js, nil,
			edit(endpointJSON, "created_at", "2026-03-09T19:00:00+01:00"), false},

		{"an enrolled endpoint with its URI and QR code", "POST", "/v1/endpoints", 201, js,
			map[string]string{"Location": "/v1/endpoints/o365-alice"},
			edit(edit(endpointJSON, "otpauth_uri", uri), "qr_png", "iVBORw0KGgo="), true},
		{"an enrolled endpoint with its URI but no QR code", "POST", "/v1/endpoints", 201, js,
			map[string]string{"Location": "/v1/endpoints/o365-alice"},
			edit(endpointJSON, "otpauth_uri", uri), false},
		{"an enrolled endpoint without Location", "POST", "/v1/endpoints", 201, js, nil,
			endpointJSON, false},
		{"a new secret", "PUT", "/v1/endpoints/a/secret", 200, js, nil, endpointJSON, true},
		{"a new secret with an HOTP URI", "PUT", "/v1/endpoints/a/secret", 200, js, nil,
			edit(edit(endpointJSON, "otpauth_uri", "otpauth://hotp/x?secret=A"),
				"qr_png", "iVBORw0KGgo="), false},

		{"a page of endpoints", "GET", "/v1/endpoints", 200, js, nil,
			`{"endpoints": [` + endpointJSON + `], "next_cursor": "abc"}`, true},
		{"the last page of endpoints", "GET", "/v1/endpoints", 200, js, nil,
			`{"endpoints": []}`, true},
		{"a page with an empty cursor", "GET", "/v1/endpoints", 200, js, nil,
			`{"endpoints": [], "next_cursor": ""}`, false},

		{"a code", "GET", "/v1/endpoints/a/code", 200, js,
			map[string]string{"Cache-Control": "no-store"}, codeJSON, true},
		{"a code that may be cached", "GET", "/v1/endpoints/a/code", 200, js, nil,
			codeJSON, false},
		{"a code as a number", "GET", "/v1/endpoints/a/code", 200, js,
			map[string]string{"Cache-Control": "no-store"},
			edit(codeJSON, "code", 49203), false},
		{"a code without next", "GET", "/v1/endpoints/a/code", 200, js,
			map[string]string{"Cache-Control": "no-store"},
			edit(codeJSON, "next", absent), false},

		{"a match", "POST", "/v1/endpoints/a/verify", 200, js, nil,
			`{"valid": true, "offset": -1}`, true},
		{"a mismatch", "POST", "/v1/endpoints/a/verify", 200, js, nil, `{"valid": false}`, true},
		{"a match without offset", "POST", "/v1/endpoints/a/verify", 200, js, nil,
			`{"valid": true}`, false},
		{"a mismatch with an offset", "POST", "/v1/endpoints/a/verify", 200, js, nil,
			`{"valid": false, "offset": 0}`, false},
		{"a match two steps off", "POST", "/v1/endpoints/a/verify", 200, js, nil,
			`{"valid": true, "offset": 2}`, false},

		{"a new token", "POST", "/v1/tokens", 201, js,
			map[string]string{"Cache-Control": "no-store"},
			edit(tokenJSON, "token", "tvt_abc"), true},
		{"a new token without its value", "POST", "/v1/tokens", 201, js,
			map[string]string{"Cache-Control": "no-store"}, tokenJSON, false},
		{"a token", "GET", "/v1/tokens/0194f3a0-7c1e-7d2a-9b1c-2f4e6a8b0c1d", 200, js, nil,
			tokenJSON, true},
		{"a token that never expires", "GET", "/v1/tokens/x", 200, js, nil,
			edit(edit(tokenJSON, "expires_at", absent), "role", "admin"), true},
		{"a token with its value", "GET", "/v1/tokens/x", 200, js, nil,
			edit(tokenJSON, "token", "tvt_abc"), false},
		{"a page of tokens", "GET", "/v1/tokens", 200, js, nil,
			`{"tokens": [` + tokenJSON + `]}`, true},
		{"a revoked token", "DELETE", "/v1/tokens/x", 204, "", nil, "", true},

		{"no token", "GET", "/v1/endpoints/a", 401, problem,
			map[string]string{"WWW-Authenticate": "Bearer"},
			`{"type": "about:blank", "title": "Unauthorized", "status": 401,
			"detail": "a bearer token is needed", "code": "unauthorized",
			"request_id": "r1"}`, true},
		{"no token and no WWW-Authenticate", "GET", "/v1/endpoints/a", 401, problem, nil,
			`{"type": "about:blank", "title": "Unauthorized", "status": 401,
			"detail": "a bearer token is needed", "code": "unauthorized"}`, false},
		{"no token, answered as forbidden", "GET", "/v1/endpoints/a", 401, problem,
			map[string]string{"WWW-Authenticate": "Bearer"},
			`{"type": "about:blank", "title": "Unauthorized", "status": 401,
			"detail": "a bearer token is needed", "code": "forbidden"}`, false},
		{"a problem without detail", "GET", "/v1/endpoints/a", 404, problem, nil,
			`{"type": "about:blank", "title": "Not Found", "status": 404,
			"code": "not_found"}`, false},
		{"a problem as plain JSON", "GET", "/v1/endpoints/a", 404, js, nil,
			`{"type": "about:blank", "title": "Not Found", "status": 404,
			"detail": "no such endpoint", "code": "not_found"}`, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			input, err := validateRequest(router, c.method, c.target, "", "")
			if input == nil {
				t.Fatal(err)
			}

			header := http.Header{}
			for k, v := range base {
				header.Set(k, v)
			}
			for k, v := range c.header {
				if v == "" {
					header.Del(k)
				} else {
					header.Set(k, v)
				}
			}
			if c.ct != "" {
				header.Set("Content-Type", c.ct)
			}

			out := &openapi3filter.ResponseValidationInput{
				RequestValidationInput: input,
				Status:                 c.status,
				Header:                 header,
				Options:                &openapi3filter.Options{IncludeResponseStatus: true},
			}
			out.SetBodyBytes([]byte(c.body))

			err = openapi3filter.ValidateResponse(context.Background(), out)
			if got := err == nil; got != c.ok {
				t.Errorf("accepted = %v, want %v; error: %v", got, c.ok, err)
			}
		})
	}
}

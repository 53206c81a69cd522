package api_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
	"github.com/go-chi/chi/v5"

	"github.com/totpvault/totpvault"
	"github.com/totpvault/totpvault/internal/api"
)

// spec is api.yaml, loaded once, with a router over its paths.
var spec = sync.OnceValues(func() (*openapi3.T, routers.Router) {
	doc, err := openapi3.NewLoader().LoadFromData(totpvault.APISpec)
	if err != nil {
		panic("api.yaml does not load: " + err.Error())
	}

	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		panic("api.yaml has no usable router: " + err.Error())
	}
	return doc, router
})

// validatingTransport checks every answer the tests get against api.yaml:
// its status must be documented for the operation, and its headers and
// body must match what the document says.
type validatingTransport struct {
	t    testing.TB
	next http.RoundTripper
}

func (v *validatingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := v.next.RoundTrip(req)
	if err != nil {
		return nil, err
	}

	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(body))
	if err != nil {
		return nil, err
	}

	if err := validateResponse(req, resp, body); err != nil {
		v.t.Errorf("%s %s answered %d, which api.yaml does not allow: %v\nbody: %s",
			req.Method, req.URL.Path, resp.StatusCode, err, body)
	}
	return resp, nil
}

// validateResponse checks one answer against the operation it belongs to.
// Requests that match no operation (unknown routes) must answer a problem.
func validateResponse(req *http.Request, resp *http.Response, body []byte) error {
	_, router := spec()

	route, params, err := router.FindRoute(req)
	if err != nil {
		if ct := resp.Header.Get("Content-Type"); ct != "application/problem+json" {
			return err
		}
		return nil
	}

	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{
			Request:    req,
			PathParams: params,
			Route:      route,
		},
		Status:  resp.StatusCode,
		Header:  resp.Header,
		Options: &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true},
	}
	in.SetBodyBytes(body)
	return openapi3filter.ValidateResponse(context.Background(), in)
}

func TestRoutesAndSpecPathsAreTheSame(t *testing.T) {
	doc, _ := spec()

	var documented []string
	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			documented = append(documented, method+" "+path)
		}
	}

	srv := api.New(api.Config{})
	var served []string
	err := chi.Walk(srv.Handler().(chi.Routes), func(method, route string,
		_ http.Handler, _ ...func(http.Handler) http.Handler) error {
		served = append(served, method+" "+strings.TrimSuffix(route, "/"))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}

	slices.Sort(documented)
	slices.Sort(served)
	for _, r := range served {
		if !slices.Contains(documented, r) {
			t.Errorf("%s is served but not in api.yaml", r)
		}
	}
	for _, r := range documented {
		if !slices.Contains(served, r) {
			t.Errorf("%s is in api.yaml but not served", r)
		}
	}
}

func TestTheValidatorRefusesAnswersOutsideTheSpec(t *testing.T) {
	tests := []struct {
		name   string
		status int
		ctype  string
		body   string
	}{
		{"an undocumented status", http.StatusTeapot, "application/json", `{"status":"ok"}`},
		{"a body with a field the schema lacks", http.StatusOK, "application/json",
			`{"status":"ok","secret":"x"}`},
		{"a problem without its code", http.StatusUnauthorized, "application/problem+json",
			`{"type":"about:blank","title":"Unauthorized","status":401,"detail":"no"}`},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := "/healthz"
			if tt.status == http.StatusUnauthorized {
				path = "/v1/tokens"
			}
			req, _ := http.NewRequest("GET", "http://localhost"+path, nil)
			resp := &http.Response{StatusCode: tt.status, Header: http.Header{
				"Content-Type": {tt.ctype}, "X-Request-Id": {"abcdefgh12345678"},
				"Www-Authenticate": {"Bearer"}, "Cache-Control": {"no-store"},
			}}

			if err := validateResponse(req, resp, []byte(tt.body)); err == nil {
				t.Fatal("the answer passed validation")
			}
		})
	}
}

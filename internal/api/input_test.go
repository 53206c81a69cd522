package api_test

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/totpvault/totpvault/internal/store/postgres/pgtest"
)

// fingerprint sums up every row of the database, to show that a request
// changed nothing.
func fingerprint(t *testing.T) string {
	t.Helper()
	if onSQLite {
		return sqliteFingerprint(t)
	}

	ctx := context.Background()
	conn, err := pgx.Connect(ctx, pgtest.URL(t))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)

	var sum string
	err = conn.QueryRow(ctx, `
		SELECT (SELECT count(*) FROM endpoints) || ' ' ||
		       (SELECT coalesce(md5(string_agg(e::text, ',' ORDER BY id)), '') FROM endpoints e) || ' ' ||
		       (SELECT count(*) FROM tokens) || ' ' ||
		       (SELECT coalesce(md5(string_agg(t::text, ',' ORDER BY id)), '') FROM tokens t)`,
	).Scan(&sum)
	if err != nil {
		t.Fatal(err)
	}
	return sum
}

// Not parallel: it compares the whole database before and after each
// request, which parallel tests would change.
func TestBadInputGetsItsProblemAndChangesNothing(t *testing.T) {
	h := newHarness(t)
	name := h.name("existing")
	h.enroll(map[string]any{"name": name, "secret": "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"})

	enroll := func(body any) request {
		return request{method: "POST", path: "/v1/endpoints", token: h.admin, body: body}
	}
	fresh := h.name("fresh")
	hotp := "otpauth://hotp/Acme:alice?secret=JBSWY3DPEHPK3PXP&counter=1"
	uri := func(labelAndQuery string) request {
		return enroll(map[string]any{"name": fresh,
			"otpauth_uri": "otpauth://totp/" + labelAndQuery + "&secret=JBSWY3DPEHPK3PXP"})
	}
	list := func(query string) request {
		return request{method: "GET", path: "/v1/endpoints?" + query, token: h.admin}
	}
	long := strings.Repeat("x", 5000)

	tests := []badInput{
		{"bad base32", enroll(map[string]any{"name": fresh, "secret": "not base32!"}),
			400, "invalid_secret"},
		{"a short secret", enroll(map[string]any{"name": fresh, "secret": "JBSWY3DP"}),
			400, "secret_too_short"},
		{"a hotp URI", enroll(map[string]any{"name": fresh, "otpauth_uri": hotp}),
			400, "unsupported_otp_type"},
		{"a URI without a secret", enroll(map[string]any{"name": fresh,
			"otpauth_uri": "otpauth://totp/Acme:alice?issuer=Acme"}), 400, "invalid_otpauth_uri"},
		{"a URI with a bad algorithm", enroll(map[string]any{"name": fresh,
			"otpauth_uri": "otpauth://totp/a?secret=JBSWY3DPEHPK3PXP&algorithm=MD5"}),
			400, "invalid_otpauth_uri"},
		{"a URI with nine digits", uri("a?digits=9"), 400, "invalid_otpauth_uri"},
		{"a URI with digits that are no number", uri("a?digits=six"), 400, "invalid_otpauth_uri"},
		{"a URI with a period of 5 s", uri("a?period=5"), 400, "invalid_otpauth_uri"},
		{"a URI with a period of 301 s", uri("a?period=301"), 400, "invalid_otpauth_uri"},
		{"a URI with two algorithms", uri("a?algorithm=SHA1&algorithm=SHA256"),
			400, "invalid_otpauth_uri"},
		{"a URI whose label holds a NUL byte", uri("Acme:al%00ice?"), 400, "invalid_otpauth_uri"},
		{"a URI whose label is no UTF-8", uri("Acme:al%FFice?"), 400, "invalid_otpauth_uri"},
		{"a URI whose issuer holds a NUL byte", uri("alice?issuer=Ac%00me"),
			400, "invalid_otpauth_uri"},
		{"a URI with a 5000-character issuer", uri("alice?issuer=" + long),
			400, "invalid_otpauth_uri"},
		{"a URI with a 5000-character account", uri("Acme:" + long + "?"),
			400, "invalid_otpauth_uri"},
		{"a bad algorithm", enroll(map[string]any{"name": fresh, "generate": true,
			"algorithm": "MD5"}), 400, "invalid_request"},
		{"five digits", enroll(map[string]any{"name": fresh, "generate": true, "digits": 5}),
			400, "invalid_request"},
		{"zero digits", enroll(map[string]any{"name": fresh, "generate": true, "digits": 0}),
			400, "invalid_request"},
		{"a period of 9 s", enroll(map[string]any{"name": fresh, "generate": true, "period": 9}),
			400, "invalid_request"},
		{"a period of 301 s", enroll(map[string]any{"name": fresh, "generate": true,
			"period": 301}), 400, "invalid_request"},
		{"a bad name", enroll(map[string]any{"name": "-bad name", "generate": true}),
			400, "invalid_name"},
		{"no name", enroll(map[string]any{"generate": true}), 400, "invalid_name"},
		{"two sources", enroll(map[string]any{"name": fresh, "generate": true,
			"secret": "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"}), 400, "invalid_request"},
		{"no source", enroll(map[string]any{"name": fresh}), 400, "invalid_request"},
		{"generate false", enroll(map[string]any{"name": fresh, "generate": false}),
			400, "invalid_request"},
		{"an unknown field", enroll(map[string]any{"name": fresh, "generate": true,
			"bogus": 1}), 400, "invalid_request"},
		{"a wrong type", enroll(map[string]any{"name": fresh, "generate": "yes"}),
			400, "invalid_request"},
		{"a label key with a colon", enroll(map[string]any{"name": fresh, "generate": true,
			"labels": map[string]string{"a:b": "c"}}), 400, "invalid_request"},
		{"malformed JSON", enroll(`{"name": "x", "generate": tru`), 400, "invalid_json"},
		{"a JSON array", enroll(`[{"name": "x"}]`), 400, "invalid_json"},
		{"two JSON objects", enroll(`{"name":"x","generate":true} {}`), 400, "invalid_json"},
		{"an empty body", request{method: "POST", path: "/v1/endpoints", token: h.admin},
			400, "invalid_json"},
		{"an oversized body", enroll(`{"name": "` + strings.Repeat("a", 5<<20) + `"}`),
			413, "payload_too_large"},
		{"a wrong content type", request{method: "POST", path: "/v1/endpoints", token: h.admin,
			body: `name=x`, contentType: "application/x-www-form-urlencoded"},
			415, "unsupported_media_type"},
		{"a name taken", enroll(map[string]any{"name": name, "generate": true}),
			409, "already_exists"},
		{"a patch with a bad label", request{method: "PATCH", path: "/v1/endpoints/" + name,
			token: h.admin, body: map[string]any{"labels": map[string]any{"k": 1}}},
			400, "invalid_request"},
		{"a patch of the name", request{method: "PATCH", path: "/v1/endpoints/" + name,
			token: h.admin, body: map[string]any{"name": "other"}}, 400, "invalid_request"},
		{"a patch in text/plain", request{method: "PATCH", path: "/v1/endpoints/" + name,
			token: h.admin, body: `{}`, contentType: "text/plain"}, 415, "unsupported_media_type"},
		{"a new secret that is too short", request{method: "PUT",
			path: "/v1/endpoints/" + name + "/secret", token: h.admin,
			body: map[string]any{"secret": "JBSWY3DP"}}, 400, "secret_too_short"},
		{"a new secret with a name", request{method: "PUT",
			path: "/v1/endpoints/" + name + "/secret", token: h.admin,
			body: map[string]any{"secret": "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP", "name": "x"}},
			400, "invalid_request"},
		{"a runner token without scopes", request{method: "POST", path: "/v1/tokens",
			token: h.admin, body: map[string]any{"name": "r", "role": "runner"}},
			400, "invalid_request"},
		{"an admin token with scopes", request{method: "POST", path: "/v1/tokens",
			token: h.admin, body: map[string]any{"name": "a", "role": "admin",
				"scopes": []string{"*"}}}, 400, "invalid_request"},
		{"a token with a bad scope", request{method: "POST", path: "/v1/tokens",
			token: h.admin, body: map[string]any{"name": "r", "role": "runner",
				"scopes": []string{"["}}}, 400, "invalid_request"},
		{"a token with a bad ttl", request{method: "POST", path: "/v1/tokens",
			token: h.admin, body: map[string]any{"name": "r", "role": "admin", "ttl": "-1h"}},
			400, "invalid_request"},
		{"a token with an unknown role", request{method: "POST", path: "/v1/tokens",
			token: h.admin, body: map[string]any{"name": "r", "role": "root"}},
			400, "invalid_request"},
		{"a token without a name", request{method: "POST", path: "/v1/tokens",
			token: h.admin, body: map[string]any{"role": "admin"}}, 400, "invalid_request"},
		{"a list limit of 0", request{method: "GET", path: "/v1/endpoints?limit=0",
			token: h.admin}, 400, "invalid_request"},
		{"a list limit of 1001", request{method: "GET", path: "/v1/tokens?limit=1001",
			token: h.admin}, 400, "invalid_request"},
		{"a forged cursor", request{method: "GET", path: "/v1/endpoints?cursor=abc",
			token: h.admin}, 400, "invalid_request"},
		{"a token cursor on the endpoint list", request{method: "GET",
			path: "/v1/endpoints?cursor=dDp4", token: h.admin}, 400, "invalid_request"},
		{"a forged token cursor", request{method: "GET", path: "/v1/tokens?cursor=dDp4",
			token: h.admin}, 400, "invalid_request"},
		{"a label filter without a colon", request{method: "GET",
			path: "/v1/endpoints?label=team", token: h.admin}, 400, "invalid_request"},
		{"a prefix with a NUL byte", list("prefix=%00"), 400, "invalid_request"},
		{"a prefix that is no UTF-8", list("prefix=%ff"), 400, "invalid_request"},
		{"a label filter with a NUL byte", list("label=a:%00"), 400, "invalid_request"},
		{"a read of a name with a NUL byte", request{method: "GET",
			path: "/v1/endpoints/a%00b", token: h.admin}, 404, "not_found"},
		{"a verify of a name that is no UTF-8", request{method: "POST",
			path: "/v1/endpoints/a%FFb/verify", token: h.admin,
			body: map[string]any{"code": "123456"}}, 404, "not_found"},
		{"a new secret for a 200-character name", request{method: "PUT",
			path: "/v1/endpoints/" + strings.Repeat("a", 200) + "/secret", token: h.admin,
			body: map[string]any{"generate": true}}, 404, "not_found"},
		{"a min_valid equal to the period", request{method: "GET",
			path: "/v1/endpoints/" + name + "/code?min_valid=30", token: h.admin},
			400, "invalid_request"},
		{"a negative min_valid", request{method: "GET",
			path: "/v1/endpoints/" + name + "/code?min_valid=-1", token: h.admin},
			400, "invalid_request"},
		{"a claim that would wait 6 minutes", request{method: "POST",
			path: "/v1/endpoints/" + name + "/claim", token: h.admin,
			body: map[string]any{"wait": "6m"}}, 400, "invalid_request"},
		{"a claim with a negative wait", request{method: "POST",
			path: "/v1/endpoints/" + name + "/claim", token: h.admin,
			body: map[string]any{"wait": "-1s"}}, 400, "invalid_request"},
		{"a claim with min_valid equal to the period", request{method: "POST",
			path: "/v1/endpoints/" + name + "/claim", token: h.admin,
			body: map[string]any{"min_valid": 30}}, 400, "invalid_request"},
		{"a claim with an unknown field", request{method: "POST",
			path: "/v1/endpoints/" + name + "/claim", token: h.admin,
			body: map[string]any{"steps": 2}}, 400, "invalid_request"},
		{"a code with a space", request{method: "POST", path: "/v1/endpoints/" + name + "/verify",
			token: h.admin, body: map[string]any{"code": " 12345"}}, 400, "invalid_request"},
		{"a code of the wrong length", request{method: "POST",
			path: "/v1/endpoints/" + name + "/verify", token: h.admin,
			body: map[string]any{"code": "1234567"}}, 400, "invalid_request"},
	}

	// details holds, for some rows, words their problem's detail must hold,
	// so that those rows cannot pass on another mistake of the same code.
	details := map[string]string{
		"an unknown field":                    `unknown field "bogus"`,
		"two sources":                         "exactly one of",
		"generate false":                      "exactly one of",
		"a wrong type":                        `field "generate" must be true or false`,
		"a bad algorithm":                     "SHA256",
		"five digits":                         "digits",
		"a period of 9 s":                     "period",
		"a URI with a bad algorithm":          "algorithm parameter",
		"a URI with nine digits":              "digits parameter",
		"a URI with a period of 5 s":          "period parameter",
		"a URI with two algorithms":           "more than one algorithm",
		"a URI whose label holds a NUL byte":  "account that the otpauth URI gives",
		"a URI whose label is no UTF-8":       "account that the otpauth URI gives",
		"a URI whose issuer holds a NUL byte": "issuer that the otpauth URI gives",
		"a URI with a 5000-character issuer":  "issuer that the otpauth URI gives",
		"a prefix with a NUL byte":            "prefix parameter",
		"a prefix that is no UTF-8":           "prefix parameter",
		"a label filter with a NUL byte":      "label parameter",
		"a patch of the name":                 `"name"`,
		"a new secret with a name":            `"name"`,
		"a claim with an unknown field":       `"steps"`,
	}
	for row := range details {
		if !slices.ContainsFunc(tests, func(tt badInput) bool { return tt.name == row }) {
			t.Errorf("details names no row %q", row)
		}
	}

	for _, tt := range tests {
		t.Run(tt.name+" answers "+tt.code, func(t *testing.T) {
			before := fingerprint(t)

			resp := h.do(tt.req)
			resp.expect(t, tt.status, tt.code)
			if want := details[tt.name]; !strings.Contains(problemDetail(t, resp), want) {
				t.Errorf("the detail does not say %s: %s", want, resp.body)
			}

			if after := fingerprint(t); after != before {
				t.Errorf("the database changed: %s → %s", before, after)
			}
			if resp.header.Get("Content-Type") != "application/problem+json" {
				t.Errorf("Content-Type = %q", resp.header.Get("Content-Type"))
			}
		})
	}
}

// badInput is a request that a client got wrong, and the problem it gets.
type badInput struct {
	name   string
	req    request
	status int
	code   string
}

// problemDetail returns the detail of a problem answer.
func problemDetail(t *testing.T, resp response) string {
	t.Helper()

	var p struct {
		Detail string `json:"detail"`
	}
	resp.decode(t, &p)
	return p.Detail
}

func TestProblemDetailsNeverEchoTheSecret(t *testing.T) {
	t.Parallel()
	h := newHarness(t)

	secrets := []string{
		"JBSWY3DPEHPK3PX!JBSWY3DP",                // one bad character
		"JBSWY3DPJBSWY3",                          // too short
		strings.Repeat("JBSWY3DPEHPK3PXP", 20),    // too long
		"otpauth://totp/x?secret=JBSWY3DP1111111", // bad base32 in a URI
	}
	for _, s := range secrets {
		field := "secret"
		if strings.HasPrefix(s, "otpauth:") {
			field = "otpauth_uri"
		}

		resp := h.do(request{method: "POST", path: "/v1/endpoints", token: h.admin,
			body: map[string]any{"name": h.name("echo"), field: s}})
		if resp.status != http.StatusBadRequest {
			t.Fatalf("status %d for a bad secret", resp.status)
		}
		if strings.Contains(string(resp.body), "JBSWY3DP") {
			t.Errorf("the problem echoes the secret: %s", resp.body)
		}
	}
}

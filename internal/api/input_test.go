package api_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/totpvault/totpvault/internal/store/postgres/pgtest"
)

// fingerprint sums up every row of the database, to show that a request
// changed nothing.
func fingerprint(t *testing.T) string {
	t.Helper()
	needPostgres(t)

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

	tests := []struct {
		name   string
		req    request
		status int
		code   string
	}{
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
			"qr_image": "iVBORw0KGgo="}), 400, "invalid_request"},
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

	for _, tt := range tests {
		t.Run(tt.name+" answers "+tt.code, func(t *testing.T) {
			before := fingerprint(t)

			resp := h.do(tt.req)
			resp.expect(t, tt.status, tt.code)

			if after := fingerprint(t); after != before {
				t.Errorf("the database changed: %s → %s", before, after)
			}
			if resp.header.Get("Content-Type") != "application/problem+json" {
				t.Errorf("Content-Type = %q", resp.header.Get("Content-Type"))
			}
		})
	}
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

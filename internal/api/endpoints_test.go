package api_test

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/totpvault/totpvault/internal/qr"
	"github.com/totpvault/totpvault/internal/store"
)

func TestEverySecretSourceGivesTheSameCodesForTheSameSecret(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	const b32 = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"

	typed := h.enroll(map[string]any{"name": h.name("typed"), "secret": b32})
	sources := map[string]map[string]any{
		"Entra's lower-case groups of four": {"secret": entraSecret},
		"hyphens and padding":               {"secret": "GEZD-GNBV-GY3T-QOJQ-GEZD-GNBV-GY3T-QOJQ===="},
		"an otpauth URI": {"otpauth_uri": "otpauth://totp/Contoso:alice%40contoso.com?secret=" +
			b32 + "&issuer=Contoso"},
	}

	for what, body := range sources {
		t.Run(what, func(t *testing.T) {
			body["name"] = h.name(fmt.Sprintf("src-%d", len(what)))
			e := h.enroll(body)

			if got, want := h.code(e.Name).Code, h.code(typed.Name).Code; got != want {
				t.Errorf("code %s, typed secret gives %s", got, want)
			}
		})
	}
}

func TestAnOTPAuthURIFillsTheEndpointAndExplicitFieldsWin(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	uri := "otpauth://totp/Label%20Issuer:bob?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ" +
		"&issuer=Acme&algorithm=sha256&digits=8&period=60"

	fromURI := h.enroll(map[string]any{"name": h.name("uri"), "otpauth_uri": uri})
	want := endpoint{Issuer: "Acme", Account: "bob", Algorithm: "SHA256", Digits: 8, Period: 60}
	if got := (endpoint{Issuer: fromURI.Issuer, Account: fromURI.Account,
		Algorithm: fromURI.Algorithm, Digits: fromURI.Digits, Period: fromURI.Period}); !sameFields(got, want) {
		t.Errorf("from the URI got %+v, want %+v", got, want)
	}

	explicit := h.enroll(map[string]any{"name": h.name("explicit"), "otpauth_uri": uri,
		"issuer": "Other", "account": "carol", "algorithm": "SHA1", "digits": 6, "period": 30})
	want = endpoint{Issuer: "Other", Account: "carol", Algorithm: "SHA1", Digits: 6, Period: 30}
	if !sameFields(explicit, want) {
		t.Errorf("with explicit fields got %+v, want %+v", explicit, want)
	}

	// An explicit field also rescues a URI whose own parameter is bad.
	h.enroll(map[string]any{"name": h.name("rescued"), "digits": 6, "otpauth_uri": "otpauth://totp/x?" +
		"secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&digits=12"})
}

// sameFields compares the settings of two endpoints.
func sameFields(a, b endpoint) bool {
	return a.Issuer == b.Issuer && a.Account == b.Account && a.Algorithm == b.Algorithm &&
		a.Digits == b.Digits && a.Period == b.Period
}

func TestAGeneratedSecretIsShownOnceAsAURI(t *testing.T) {
	t.Parallel()
	h := newHarness(t)

	gen := h.enroll(map[string]any{"name": h.name("gen"), "generate": true,
		"issuer": "Acme", "account": "robot@acme.example"})
	if gen.OTPAuthURI == "" {
		t.Fatal("no otpauth_uri in the answer that generated the secret")
	}
	sensitive.add(gen.OTPAuthURI)

	u, err := url.Parse(gen.OTPAuthURI)
	if err != nil || u.Scheme != "otpauth" || u.Host != "totp" {
		t.Fatalf("otpauth_uri %q is not an otpauth://totp/ URI", gen.OTPAuthURI)
	}
	if secret, _ := url.ParseQuery(u.RawQuery); len(secret.Get("secret")) != 32 {
		t.Errorf("the generated secret is not 20 bytes of base32: %q", secret.Get("secret"))
	}

	again := h.enroll(map[string]any{"name": h.name("gen-copy"), "otpauth_uri": gen.OTPAuthURI})
	if h.code(again.Name).Code != h.code(gen.Name).Code {
		t.Error("the returned URI gives other codes than the endpoint")
	}

	var read endpoint
	h.do(request{method: "GET", path: "/v1/endpoints/" + gen.Name, token: h.admin}).decode(t, &read)
	if read.OTPAuthURI != "" {
		t.Error("reading the endpoint shows its secret again")
	}
}

func TestPatchChangesOnlyWhatItNames(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	e := h.enroll(map[string]any{"name": h.name("patch"), "generate": true, "issuer": "Acme",
		"account": "alice", "labels": map[string]string{"team": "sre", "env": "prod"}})

	patch := func(body string, contentType string) endpoint {
		t.Helper()
		h.clock.Advance(time.Second)

		var got endpoint
		resp := h.do(request{method: "PATCH", path: "/v1/endpoints/" + e.Name, token: h.admin,
			body: body, contentType: contentType})
		resp.expect(t, http.StatusOK, "")
		resp.decode(t, &got)
		return got
	}

	got := patch(`{"account": "bob"}`, "application/merge-patch+json")
	if got.Account != "bob" || got.Issuer != "Acme" || len(got.Labels) != 2 {
		t.Errorf("after changing the account: %+v", got)
	}
	if !got.UpdatedAt.After(e.UpdatedAt) || !got.CreatedAt.Equal(e.CreatedAt) {
		t.Errorf("times %v / %v after a change from %v / %v", got.CreatedAt, got.UpdatedAt,
			e.CreatedAt, e.UpdatedAt)
	}

	got = patch(`{"labels": {"team": "noc"}}`, "application/json")
	if len(got.Labels) != 1 || got.Labels["team"] != "noc" {
		t.Errorf("labels given do not replace the map: %v", got.Labels)
	}

	got = patch(`{"issuer": null, "labels": null}`, "application/merge-patch+json")
	if got.Issuer != "" || len(got.Labels) != 0 || got.Account != "bob" {
		t.Errorf("null does not clear: %+v", got)
	}

	if h.code(e.Name).Code == "" {
		t.Error("a patch broke the secret")
	}
}

func TestReplacingTheSecretTakesSettingsAfresh(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	e := h.enroll(map[string]any{"name": h.name("replace"), "secret": entraSecret,
		"algorithm": "SHA512", "digits": 8, "period": 60, "issuer": "Acme", "account": "alice"})
	old := h.code(e.Name)

	var got endpoint
	resp := h.do(request{method: "PUT", path: "/v1/endpoints/" + e.Name + "/secret", token: h.admin,
		body: map[string]any{"secret": "MFRGGZDFMZTWQ2LKNNWG23TPOBYXE43U"}})
	resp.expect(t, http.StatusOK, "")
	resp.decode(t, &got)

	if got.Algorithm != "SHA1" || got.Digits != 6 || got.Period != 30 {
		t.Errorf("settings kept from the old secret: %+v", got)
	}
	if got.Issuer != "Acme" || got.Account != "alice" {
		t.Errorf("issuer and account not kept: %+v", got)
	}
	if got.OTPAuthURI != "" {
		t.Error("a typed secret is echoed as a URI")
	}
	if now := h.code(e.Name); now.Code == old.Code || now.Digits != 6 {
		t.Errorf("codes did not change with the secret: %s then %s", old.Code, now.Code)
	}

	var gen endpoint
	h.do(request{method: "PUT", path: "/v1/endpoints/" + e.Name + "/secret", token: h.admin,
		body: map[string]any{"generate": true, "period": 45}}).decode(t, &gen)
	if gen.OTPAuthURI == "" || gen.Period != 45 {
		t.Errorf("a generated replacement: %+v", gen)
	}
	sensitive.add(gen.OTPAuthURI)
}

func TestADeletedEndpointIsGone(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	e := h.enroll(map[string]any{"name": h.name("delete"), "generate": true})

	del := request{method: "DELETE", path: "/v1/endpoints/" + e.Name, token: h.admin}
	h.do(del).expect(t, http.StatusNoContent, "")
	h.do(del).expect(t, http.StatusNotFound, "not_found")
	h.do(request{method: "GET", path: "/v1/endpoints/" + e.Name + "/code", token: h.admin}).
		expect(t, http.StatusNotFound, "not_found")

	h.enroll(map[string]any{"name": e.Name, "generate": true})
}

func TestListingPagesThroughWhatTheTokenMaySee(t *testing.T) {
	t.Parallel()
	h := newHarness(t)

	var all []string
	for i := range 7 {
		team := "sre"
		if i%2 == 1 {
			team = "noc"
		}
		name := h.name(fmt.Sprintf("list-%d", i))
		h.enroll(map[string]any{"name": name, "generate": true,
			"labels": map[string]string{"team": team, "env": "prod"}})
		all = append(all, name)
	}
	h.enroll(map[string]any{"name": h.name("other"), "generate": true})

	runner := h.token(store.RoleRunner, []string{h.name("list-[0-3]")}, time.Time{})

	tests := []struct {
		name  string
		token string
		query string
		want  []string
	}{
		{"an admin pages by twos", h.admin, "prefix=" + h.name("list-") + "&limit=2", all},
		{"a label filter", h.admin, "prefix=" + h.name("") + "&label=team:noc",
			[]string{all[1], all[3], all[5]}},
		{"two label filters must both match", h.admin,
			"prefix=" + h.name("") + "&label=team:noc&label=env:prod&limit=1",
			[]string{all[1], all[3], all[5]}},
		{"a runner sees only its scopes", runner, "limit=1", all[:4]},
		{"a runner with a prefix", runner, "prefix=" + h.name("list-2"), all[2:3]},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := listAll(t, h, tt.token, tt.query); !slices.Equal(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

// listAll follows next_cursor to the end and returns every name seen.
func listAll(t *testing.T, h *harness, token, query string) []string {
	t.Helper()

	var names []string
	cursor := ""
	for range 100 {
		path := "/v1/endpoints?" + query
		if cursor != "" {
			path += "&cursor=" + url.QueryEscape(cursor)
		}

		var page struct {
			Endpoints  []endpoint `json:"endpoints"`
			NextCursor string     `json:"next_cursor"`
		}
		resp := h.do(request{method: "GET", path: path, token: token})
		resp.expect(t, http.StatusOK, "")
		resp.decode(t, &page)

		for _, e := range page.Endpoints {
			names = append(names, e.Name)
		}
		if cursor = page.NextCursor; cursor == "" {
			return names
		}
	}
	t.Fatal("the list never ends")
	return nil
}

func TestAGeneratedURINamesTheEndpointWhenNoAccountIsGiven(t *testing.T) {
	t.Parallel()
	h := newHarness(t)

	gen := h.enroll(map[string]any{"name": h.name("unnamed"), "generate": true})
	sensitive.add(gen.OTPAuthURI)

	u, err := url.Parse(gen.OTPAuthURI)
	if err != nil || u.Path != "/"+gen.Name {
		t.Errorf("the URI's label is %q, want the endpoint's name", u.Path)
	}
	if gen.Account != "" {
		t.Errorf("the stored account became %q", gen.Account)
	}
}

func TestTextThatAURIGivesIsCheckedLikeAnExplicitField(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	const secret = "secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
	nulIssuer := "otpauth://totp/alice?issuer=Ac%00me&" + secret
	longAccount := "otpauth://totp/Acme:" + strings.Repeat("a", 256) + "?" + secret

	tests := []struct {
		name   string
		body   map[string]any
		status int
		code   string
	}{
		{"a NUL byte in the URI's issuer is refused", map[string]any{"otpauth_uri": nulIssuer},
			400, "invalid_otpauth_uri"},
		{"an explicit issuer overrides the URI's bad one", map[string]any{"otpauth_uri": nulIssuer,
			"issuer": "Acme"}, 201, ""},
		{"a 256-character account in the label is refused", map[string]any{
			"otpauth_uri": longAccount}, 400, "invalid_otpauth_uri"},
		{"an explicit account overrides the label's long one", map[string]any{
			"otpauth_uri": longAccount, "account": "alice"}, 201, ""},
		{"a QR code whose URI has a NUL byte in its issuer is refused", map[string]any{
			"qr_image": qrOf(t, nulIssuer)}, 400, "invalid_otpauth_uri"},
	}

	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.body["name"] = h.name(fmt.Sprintf("text-%d", i))
			enroll := request{method: "POST", path: "/v1/endpoints", token: h.admin, body: tt.body}
			h.do(enroll).expect(t, tt.status, tt.code)
		})
	}
}

// qrOf returns the base64 of a PNG of a QR code holding text.
func qrOf(t *testing.T, text string) string {
	t.Helper()

	png, err := qr.Encode(text)
	if err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(png)
}

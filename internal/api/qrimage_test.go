package api_test

import (
	"encoding/base64"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// qrTestdata is where the QR images made by Debian's qrencode live; see
// its README for how each was made.
const qrTestdata = "../qr/testdata"

// qrSecret is the secret every good test image holds.
const qrSecret = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"

// imageBase64 reads a test image as the qr_image field wants it.
func imageBase64(t *testing.T, name string) string {
	t.Helper()

	b, err := os.ReadFile(filepath.Join(qrTestdata, name))
	if err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(b)
}

func TestAQRImageEnrollsTheSecretItHolds(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	typed := h.enroll(map[string]any{"name": h.name("typed"), "secret": qrSecret})
	want := h.code(typed.Name).Code

	for _, file := range []string{"plain.png", "page.png", "small.jpg", "code.gif"} {
		t.Run(file, func(t *testing.T) {
			e := h.enroll(map[string]any{"name": h.name(strings.ReplaceAll(file, ".", "-")),
				"qr_image": imageBase64(t, file)})

			if got := h.code(e.Name).Code; got != want {
				t.Errorf("code %s, the typed secret gives %s", got, want)
			}
			if e.Issuer == "" || e.Account == "" {
				t.Errorf("the URI's label was not taken: %+v", e)
			}
		})
	}
}

func TestAQRImageReplacesASecret(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	typed := h.enroll(map[string]any{"name": h.name("typed"), "secret": qrSecret})
	e := h.enroll(map[string]any{"name": h.name("rekeyed"), "generate": true})

	h.do(request{method: "PUT", path: "/v1/endpoints/" + e.Name + "/secret", token: h.admin,
		body: map[string]any{"qr_image": "data:image/png;base64," + imageBase64(t, "plain.png")}}).
		expect(t, http.StatusOK, "")

	if h.code(e.Name).Code != h.code(typed.Name).Code {
		t.Error("the secret from the QR image gives other codes than the same secret typed")
	}
}

func TestAQRImageMayBeWrappedInLines(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	typed := h.enroll(map[string]any{"name": h.name("typed"), "secret": qrSecret})

	// As base64 without -w0 prints it, or jq --rawfile reads that output:
	// lines of 76, the last one ending in its padding and a newline.
	var lines strings.Builder
	for b64 := imageBase64(t, "plain.png"); b64 != ""; {
		n := min(76, len(b64))
		lines.WriteString(b64[:n] + "\n")
		b64 = b64[n:]
	}
	if !strings.HasSuffix(lines.String(), "=\n") {
		t.Fatalf("the base64 of plain.png ends %q, want padding then a newline",
			lines.String()[lines.Len()-3:])
	}

	e := h.enroll(map[string]any{"name": h.name("wrapped"), "qr_image": lines.String()})
	if h.code(e.Name).Code != h.code(typed.Name).Code {
		t.Error("the secret from the wrapped base64 gives other codes than the same secret typed")
	}
}

// qrencode draws text as a QR code with Debian's qrencode and returns it as
// the qr_image field wants it, skipping t when qrencode is missing (failing
// under CI=true, where it must run).
func qrencode(t *testing.T, text string) string {
	t.Helper()
	lookTool(t, "qrencode", "qrencode")

	png, err := exec.Command("qrencode", "-o", "-", "-t", "PNG", "-s", "6", text).Output()
	if err != nil {
		t.Fatalf("qrencode: %v", err)
	}
	return base64.StdEncoding.EncodeToString(png)
}

func TestQRURIsAreReadAsOTPAuthURIsAre(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	typed := h.enroll(map[string]any{"name": h.name("typed"), "secret": qrSecret})
	want := h.code(typed.Name).Code

	tests := []struct{ name, short, uri string }{
		{"a URI without a label or the slash before it", "no-slash",
			"otpauth://totp?secret=" + qrSecret},
		{"a URI with its type in capitals", "type-caps",
			"otpauth://TOTP/Contoso:alice?secret=" + qrSecret},
		{"a URI in capitals", "caps", "OTPAUTH://TOTP/Contoso:alice?secret=" + qrSecret},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h.do(request{method: "POST", path: "/v1/endpoints", token: h.admin,
				body: map[string]any{"name": h.name(tt.short + "-uri"), "otpauth_uri": tt.uri}}).
				expect(t, http.StatusCreated, "")

			e := h.enroll(map[string]any{"name": h.name(tt.short + "-qr"),
				"qr_image": qrencode(t, tt.uri)})
			if got := h.code(e.Name).Code; got != want {
				t.Errorf("code %s, the typed secret gives %s", got, want)
			}
		})
	}
}

// refusedImages are the qr_image fields that enrolling and replacing a
// secret must both refuse with 400 invalid_qr_image, each with a phrase
// of its own that its detail must hold.
func refusedImages(t *testing.T) []struct{ name, image, detail string } {
	t.Helper()
	return []struct{ name, image, detail string }{
		{"not an image", imageBase64(t, "not-image.txt"), "not a PNG, JPEG or GIF image"},
		{"a truncated PNG", imageBase64(t, "truncated.png"), "PNG image is truncated or corrupt"},
		{"an image with no QR code", imageBase64(t, "blank.png"), "no QR code was found"},
		{"a QR code holding a web address", imageBase64(t, "url.png"), "holds a web address"},
		{"an otpauth-migration export", imageBase64(t, "migration.png"),
			"holds an otpauth-migration:// export"},
		{"an HOTP key", imageBase64(t, "hotp.png"), "holds an otpauth://hotp/ URI"},
		{"an image over the pixel limit", imageBase64(t, "huge-header.png"),
			"(100.0 megapixels), over the limit of 40 megapixels"},
		{"text that is not base64", "not base64!", "must be the base64 of"},
	}
}

func TestImagesThatHoldNoTOTPKeyAreRefused(t *testing.T) {
	t.Parallel()
	h := newHarness(t)

	for _, tt := range refusedImages(t) {
		t.Run(tt.name, func(t *testing.T) {
			name := h.name("refused")
			resp := h.do(request{method: "POST", path: "/v1/endpoints", token: h.admin,
				body: map[string]any{"name": name, "qr_image": tt.image}})
			expectQRRefusal(t, resp, tt.detail)

			h.do(request{method: "GET", path: "/v1/endpoints/" + name, token: h.admin}).
				expect(t, http.StatusNotFound, "not_found")
		})
	}
}

func TestImagesThatHoldNoTOTPKeyReplaceNoSecret(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	e := h.enroll(map[string]any{"name": h.name("kept"), "secret": qrSecret, "digits": 8})
	before := h.code(e.Name)

	for _, tt := range refusedImages(t) {
		t.Run(tt.name, func(t *testing.T) {
			resp := h.do(request{method: "PUT", path: "/v1/endpoints/" + e.Name + "/secret",
				token: h.admin, body: map[string]any{"qr_image": tt.image}})
			expectQRRefusal(t, resp, tt.detail)

			if after := h.code(e.Name); after.Code != before.Code || after.Digits != 8 {
				t.Errorf("the refused image changed the secret: code %s of %d digits, was %s",
					after.Code, after.Digits, before.Code)
			}
		})
	}
}

// expectQRRefusal fails t unless resp is a 400 invalid_qr_image problem whose
// detail holds phrase.
func expectQRRefusal(t *testing.T, resp response, phrase string) {
	t.Helper()
	resp.expect(t, http.StatusBadRequest, "invalid_qr_image")

	var p struct{ Detail string }
	resp.decode(t, &p)
	if !strings.Contains(p.Detail, phrase) {
		t.Errorf("the detail %q does not say %q", p.Detail, phrase)
	}
}

// lookTool skips t when the program name is missing, and fails it under
// CI=true, where the package pkg must be installed.
func lookTool(t *testing.T, name, pkg string) {
	t.Helper()

	if _, err := exec.LookPath(name); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is missing; CI must install it (apt-get install %s)", name, pkg)
		}
		t.Skipf("%s is missing: apt-get install %s", name, pkg)
	}
}

// zbarimg reads the QR code in a PNG with Debian's zbarimg, skipping t
// when it is missing (failing under CI=true, where it must run).
func zbarimg(t *testing.T, png []byte) string {
	t.Helper()
	lookTool(t, "zbarimg", "zbar-tools")

	file := filepath.Join(t.TempDir(), "qr.png")
	if err := os.WriteFile(file, png, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("zbarimg", "--quiet", "--raw", file).Output()
	if err != nil {
		t.Fatalf("zbarimg: %v", err)
	}
	return strings.TrimSpace(string(out))
}

// generatedAnswer is the answer that made a secret, with its one-time fields.
type generatedAnswer struct {
	endpoint
	QRPNG []byte `json:"qr_png"`
}

func TestTheQRCodeOfAGeneratedKeyScansToItsURI(t *testing.T) {
	t.Parallel()
	h := newHarness(t)

	var gen generatedAnswer
	h.do(request{method: "POST", path: "/v1/endpoints", token: h.admin,
		body: map[string]any{"name": h.name("gen"), "generate": true, "issuer": "Acme Corp",
			"account": "robot@acme.example", "digits": 8}}).decode(t, &gen)
	sensitive.add(gen.OTPAuthURI)

	if got := zbarimg(t, gen.QRPNG); got != gen.OTPAuthURI {
		t.Fatalf("zbarimg reads %q, the answer says %q", got, gen.OTPAuthURI)
	}

	copied := h.enroll(map[string]any{"name": h.name("scanned"), "otpauth_uri": zbarimg(t, gen.QRPNG)})
	if h.code(copied.Name).Code != h.code(gen.Name).Code {
		t.Error("the scanned URI gives other codes than the generated endpoint")
	}
}

func TestTheQRCodeOfAGeneratedReplacementScansToItsURI(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	e := h.enroll(map[string]any{"name": h.name("rekeyed"), "secret": qrSecret,
		"issuer": "Acme Corp", "account": "robot@acme.example"})
	old := h.code(e.Name).Code

	var gen generatedAnswer
	resp := h.do(request{method: "PUT", path: "/v1/endpoints/" + e.Name + "/secret",
		token: h.admin, body: map[string]any{"generate": true, "period": 60}})
	resp.expect(t, http.StatusOK, "")
	resp.decode(t, &gen)
	sensitive.add(gen.OTPAuthURI)

	if gen.OTPAuthURI == "" || len(gen.QRPNG) == 0 {
		t.Fatalf("the replacement answer lacks otpauth_uri or qr_png: %s", resp.body)
	}
	if got := zbarimg(t, gen.QRPNG); got != gen.OTPAuthURI {
		t.Fatalf("zbarimg reads %q, the answer says %q", got, gen.OTPAuthURI)
	}

	copied := h.enroll(map[string]any{"name": h.name("scanned"),
		"otpauth_uri": zbarimg(t, gen.QRPNG)})
	now := h.code(e.Name).Code
	if now == old || h.code(copied.Name).Code != now {
		t.Errorf("codes: %s before, %s after the replacement, %s from the scanned URI",
			old, now, h.code(copied.Name).Code)
	}
}

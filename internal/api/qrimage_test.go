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

func TestImagesThatHoldNoTOTPKeyAreRefused(t *testing.T) {
	t.Parallel()
	h := newHarness(t)

	tests := []struct {
		name   string
		image  string
		detail string // a word the detail must hold
	}{
		{"not an image", imageBase64(t, "not-image.txt"), "image"},
		{"a truncated PNG", imageBase64(t, "truncated.png"), "image"},
		{"an image with no QR code", imageBase64(t, "blank.png"), "QR"},
		{"a QR code holding a web address", imageBase64(t, "url.png"), "web address"},
		{"an otpauth-migration export", imageBase64(t, "migration.png"), "otpauth-migration"},
		{"an HOTP key", imageBase64(t, "hotp.png"), "TOTP"},
		{"an image over the pixel limit", imageBase64(t, "huge-header.png"), "pixels"},
		{"text that is not base64", "not base64!", "base64"},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			name := h.name("refused")
			resp := h.do(request{method: "POST", path: "/v1/endpoints", token: h.admin,
				body: map[string]any{"name": name, "qr_image": tt.image}})
			resp.expect(t, http.StatusBadRequest, "invalid_qr_image")

			var p struct{ Detail string }
			resp.decode(t, &p)
			if !strings.Contains(p.Detail, tt.detail) {
				t.Errorf("the detail %q does not mention %q", p.Detail, tt.detail)
			}
			h.do(request{method: "GET", path: "/v1/endpoints/" + name, token: h.admin}).
				expect(t, http.StatusNotFound, "not_found")
		})
	}
}

// zbarimg reads the QR code in a PNG with Debian's zbarimg, skipping t
// when it is missing (failing under CI=true, where it must run).
func zbarimg(t *testing.T, png []byte) string {
	t.Helper()

	if _, err := exec.LookPath("zbarimg"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("zbarimg is missing; CI must install it (apt-get install zbar-tools)")
		}
		t.Skip("zbarimg is missing: apt-get install zbar-tools")
	}

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

func TestTheQRCodeOfAGeneratedKeyScansToItsURI(t *testing.T) {
	t.Parallel()
	h := newHarness(t)

	var gen struct {
		endpoint
		QRPNG []byte `json:"qr_png"`
	}
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

package api

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/totpvault/totpvault/internal/qr"
)

func TestQRDecodeErrorsGetTheirProblem(t *testing.T) {
	t.Parallel()
	live := context.Background()
	gone, cancel := context.WithCancel(context.Background())
	cancel()

	tests := []struct {
		name   string
		ctx    context.Context
		err    error
		status int
		code   errorCode
	}{
		{"an unreadable image is the client's", live,
			fmt.Errorf("read: %w", qr.ErrNotImage), http.StatusBadRequest, codeInvalidQRImage},
		{"an image over its pixel limit is the client's", live,
			fmt.Errorf("read: %w", qr.ErrTooLarge), http.StatusBadRequest, codeInvalidQRImage},
		{"an image without a code is the client's", live,
			fmt.Errorf("read: %w", qr.ErrNoCode), http.StatusBadRequest, codeInvalidQRImage},
		{"an image too slow to search is the client's", live,
			fmt.Errorf("read: %w", qr.ErrTimeout), http.StatusBadRequest, codeInvalidQRImage},
		{"a server too busy to decode is unavailable", live,
			fmt.Errorf("read: %w", qr.ErrBusy), http.StatusServiceUnavailable, codeUnavailable},
		{"a decode cut short by the client leaving is no fault of the image", gone,
			fmt.Errorf("qr: decode abandoned: %w", context.Canceled),
			http.StatusServiceUnavailable, codeUnavailable},
		{"a decode that failed as the client left is no fault of the image", gone,
			fmt.Errorf("read: %w", qr.ErrNoCode), http.StatusServiceUnavailable, codeUnavailable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p, ok := asProblem(qrError(tt.ctx, tt.err))
			if !ok {
				t.Fatalf("qrError(%v) is no problem", tt.err)
			}
			if p.code != tt.code || statusOf[p.code] != tt.status {
				t.Errorf("qrError(%v) = %d %s, want %d %s",
					tt.err, statusOf[p.code], p.code, tt.status, tt.code)
			}
			if busy := errors.Is(tt.err, qr.ErrBusy); busy != (p.retryAfter > 0) {
				t.Errorf("qrError(%v) retries after %d s; only a busy server says when",
					tt.err, p.retryAfter)
			}
		})
	}
}

func TestAnUnknownDecodeErrorIsTheServers(t *testing.T) {
	t.Parallel()
	cause := errors.New("the decoder broke")

	err := qrError(context.Background(), cause)
	if _, ok := asProblem(err); ok || !errors.Is(err, cause) {
		t.Errorf("qrError = %v, want an internal error wrapping its cause", err)
	}
}

func TestQRTextsAreJudgedByTheirSchemeAndType(t *testing.T) {
	t.Parallel()
	const secret = "?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
	tests := []struct {
		name, text string
		says       string // part of the detail; "" when the text is taken
	}{
		{"a TOTP URI is taken", "otpauth://totp/Contoso:alice" + secret, ""},
		{"a TOTP URI without a label or slash is taken", "otpauth://totp" + secret, ""},
		{"a TOTP URI in capitals is taken", "OTPAUTH://TOTP/Contoso:alice" + secret, ""},
		{"a TOTP URI that does not parse is left to the URI's own checks",
			"otpauth://totp/a%zz" + secret, ""},
		{"an HOTP URI is named as such", "otpauth://hotp/Contoso:alice" + secret + "&counter=0",
			"otpauth://hotp/ URI: a counter-based (HOTP) key"},
		{"an HOTP URI in capitals is named as such", "otpauth://HOTP" + secret,
			"otpauth://hotp/ URI"},
		{"another OTP type is refused", "otpauth://steam/x" + secret,
			"another type than totp or hotp"},
		{"an otpauth URI without a type is refused", "otpauth:totp" + secret,
			"without a type"},
		{"a migration export is named as such", "otpauth-migration://offline?data=CkAK",
			"otpauth-migration:// export"},
		{"a web address is named as such", "https://example.com/", "a web address"},
		{"a web address that does not parse is named as such", "https://exa mple.com/",
			"a web address"},
		{"plain text is refused", "hello", "text that is not an otpauth://totp/ URI"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := checkQRText(tt.text)
			switch p, _ := asProblem(err); {
			case tt.says == "" && err != nil:
				t.Errorf("checkQRText refused it: %v", err)
			case tt.says == "":
			case p == nil || p.code != codeInvalidQRImage:
				t.Errorf("checkQRText = %v, want an invalid_qr_image problem", err)
			case !strings.Contains(p.detail, tt.says):
				t.Errorf("detail %q, want it to say %q", p.detail, tt.says)
			}
		})
	}
}

func TestQRImageBase64IsReadAsToolsWriteIt(t *testing.T) {
	t.Parallel()
	img := bytes.Repeat([]byte("\x89PNG\r\n\x1a\n any bytes of an image "), 8)
	b64 := base64.StdEncoding.EncodeToString(img[:len(img)-1]) // padded with "="

	tests := []struct{ name, field string }{
		{"as one line", b64},
		{"without its padding", strings.TrimRight(b64, "=")},
		{"ending in a newline after its padding", b64 + "\n"},
		{"ending in CR LF", b64 + "\r\n"},
		{"wrapped in lines of 76", base64Lines(b64, 76)},
		{"with spaces around it", "  " + b64 + " \t"},
		{"as a data URL", "data:image/png;base64," + b64 + "\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := decodeBase64Image(tt.field)
			if err != nil || !bytes.Equal(got, img[:len(img)-1]) {
				t.Errorf("decodeBase64Image: %d bytes, %v; want the image back", len(got), err)
			}
		})
	}
}

// base64Lines breaks s into lines of n characters, each ending in a
// newline, as base64 without -w0 prints it.
func base64Lines(s string, n int) string {
	var b strings.Builder
	for len(s) > n {
		b.WriteString(s[:n] + "\n")
		s = s[n:]
	}
	b.WriteString(s + "\n")
	return b.String()
}

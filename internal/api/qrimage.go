package api

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/totpvault/totpvault/internal/qr"
	"github.com/totpvault/totpvault/internal/totp"
)

// keyFromQR reads the otpauth://totp URI in a QR code image, given as
// base64, and makes a key of it as FromURI does. What the image holds is
// described in errors but never quoted: it may hold a secret.
func keyFromQR(ctx context.Context, image string, params totp.Params) (totp.Key, error) {
	img, err := decodeBase64Image(image)
	if err != nil {
		return totp.Key{}, err
	}

	text, err := qr.Decode(ctx, img)
	if err != nil {
		return totp.Key{}, qrError(ctx, err)
	}
	if err := checkQRText(text); err != nil {
		return totp.Key{}, err
	}
	return totp.FromURI(text, params)
}

// decodeBase64Image decodes the qr_image field: standard base64, padded
// or not, optionally as a data URL ("data:image/png;base64,...") the way a
// browser copies an image. White space anywhere is dropped first, so that
// base64 wrapped into lines, or ending in a newline as a file read whole
// gives it, is read as well.
func decodeBase64Image(s string) ([]byte, error) {
	s = strings.Map(dropSpace, s)
	if rest, ok := strings.CutPrefix(s, "data:"); ok {
		_, s, _ = strings.Cut(rest, ",")
	}

	img, err := base64.RawStdEncoding.DecodeString(strings.TrimRight(s, "="))
	if err != nil || len(img) == 0 {
		return nil, fail(codeInvalidQRImage, "qr_image must be the base64 of a PNG, JPEG or "+
			"GIF file, such as base64 -w0 screenshot.png prints")
	}
	return img, nil
}

// dropSpace is a strings.Map function that drops the white space that
// tools put into base64, and keeps every other rune.
func dropSpace(r rune) rune {
	switch r {
	case ' ', '\t', '\n', '\r':
		return -1
	}
	return r
}

// qrBusyRetry is the Retry-After, in seconds, of a server too busy
// decoding other images: about what one decode takes.
const qrBusyRetry = 2

// qrError turns a failure to read the image into a problem; the qr
// package writes its messages for clients. A server busy decoding other
// images (no slot was free within qr.SlotWait), or a client gone, is no
// fault of the image, and gets 503 rather than 400, the busy one with a
// Retry-After of qrBusyRetry seconds.
func qrError(ctx context.Context, err error) error {
	switch {
	case errors.Is(err, qr.ErrBusy):
		return retryIn(qrBusyRetry, codeUnavailable, "the server is busy reading other "+
			"QR images; retry in a few seconds")
	case ctx.Err() != nil:
		return fail(codeUnavailable, "the request ended before its QR image was read")
	}

	for _, known := range []error{qr.ErrNotImage, qr.ErrTooLarge, qr.ErrNoCode, qr.ErrTimeout} {
		if errors.Is(err, known) {
			return fail(codeInvalidQRImage, err.Error())
		}
	}
	return fmt.Errorf("decode QR image: %w", err)
}

// checkQRText refuses a QR code that holds anything but an otpauth://totp
// URI, saying what kind of thing it holds. Scheme and type are matched in
// any case, as for otpauth_uri, whose parser then judges the rest. A text
// that starts like such a URI but does not parse is let through as well,
// so that its sender is told what otpauth_uri would be told.
func checkQRText(text string) error {
	scheme, otpType := uriKind(text)

	var found string
	switch {
	case scheme == "otpauth" && otpType == "totp":
		return nil
	case scheme == "otpauth-migration":
		found = "an otpauth-migration:// export (an authenticator app's \"transfer accounts\" " +
			"code); enroll each account from the QR code or secret of its own set-up page"
	case scheme == "otpauth" && otpType == "hotp":
		found = "an otpauth://hotp/ URI: a counter-based (HOTP) key; only time-based " +
			"(TOTP) keys are supported"
	case scheme == "otpauth" && otpType == "":
		found = "an otpauth URI without a type; it must start otpauth://totp/"
	case scheme == "otpauth":
		found = "an otpauth URI of another type than totp or hotp; only time-based " +
			"(TOTP) keys are supported"
	case scheme == "http" || scheme == "https":
		found = "a web address, not an otpauth://totp/ URI; use the QR code of the " +
			"authenticator set-up"
	default:
		found = "text that is not an otpauth://totp/ URI; use the QR code of the " +
			"authenticator set-up"
	}
	return fail(codeInvalidQRImage, "the QR code holds "+found)
}

// uriKind returns the scheme and the host (the OTP type of an otpauth URI)
// of text, both lower case. A text that url.Parse refuses is cut by hand
// at "://" and at the first "/", "?" or "#" after it.
func uriKind(text string) (scheme, host string) {
	text = strings.TrimSpace(text)
	if u, err := url.Parse(text); err == nil {
		return u.Scheme, strings.ToLower(u.Host)
	}

	scheme, rest, ok := strings.Cut(text, "://")
	if !ok {
		return "", ""
	}
	if end := strings.IndexAny(rest, "/?#"); end >= 0 {
		rest = rest[:end]
	}
	return strings.ToLower(scheme), strings.ToLower(rest)
}

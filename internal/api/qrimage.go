package api

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"github.com/totpvault/totpvault/internal/qr"
	"github.com/totpvault/totpvault/internal/totp"
)

// keyFromQR reads the otpauth://totp/ URI in a QR code image, given as
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
// browser copies an image.
func decodeBase64Image(s string) ([]byte, error) {
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

// qrError turns a failure to read the image into a problem; the qr
// package writes its messages for clients. A server busy decoding other
// images, or a client gone, is no fault of the image.
func qrError(ctx context.Context, err error) error {
	switch {
	case errors.Is(err, qr.ErrBusy):
		return fail(codeUnavailable, "the server is busy reading other QR images; retry shortly")
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

// checkQRText refuses a QR code that holds anything but an otpauth://totp/
// URI, saying what kind of thing it holds.
func checkQRText(text string) error {
	lower := strings.ToLower(strings.TrimSpace(text))

	var found string
	switch {
	case strings.HasPrefix(lower, "otpauth://totp/"):
		return nil
	case strings.HasPrefix(lower, "otpauth-migration://"):
		found = "an otpauth-migration:// export (an authenticator app's \"transfer accounts\" " +
			"code); enroll each account from the QR code or secret of its own set-up page"
	case strings.HasPrefix(lower, "otpauth://"):
		found = "an otpauth URI of another type than totp; only TOTP is supported"
	case strings.HasPrefix(lower, "http://"), strings.HasPrefix(lower, "https://"):
		found = "a web address, not an otpauth://totp/ URI; use the QR code of the " +
			"authenticator set-up"
	default:
		found = "text that is not an otpauth://totp/ URI; use the QR code of the " +
			"authenticator set-up"
	}
	return fail(codeInvalidQRImage, "the QR code holds "+found)
}

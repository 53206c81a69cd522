// Package qr reads QR codes out of images that people upload, screenshots of
// authenticator set-up pages included, and draws QR codes for new secrets.
//
// Images come from API clients, so the package treats them as hostile: it
// judges an image's size from its header before decoding a pixel, bounds each
// decode in time, and limits how many decodes run at once. It reads and writes
// nothing but its arguments and results.
package qr

import "errors"

// Each error that Decode returns wraps one of these, and its text is written
// for an API client: what was found in the image and what to send instead. No
// error text quotes the image's bytes.
var (
	// ErrNotImage: the bytes are not a PNG, JPEG or GIF image, or the image
	// is truncated or corrupt.
	ErrNotImage = errors.New("unreadable image")

	// ErrTooLarge: the image's header gives a width × height over MaxPixels.
	ErrTooLarge = errors.New("image too large")

	// ErrNoCode: the image was read, but no QR code was found in it.
	ErrNoCode = errors.New("no QR code found")

	// ErrTimeout: the decode did not finish within DecodeTimeout.
	ErrTimeout = errors.New("decode timed out")

	// ErrBusy: so many decodes were running that this one could not start
	// within DecodeTimeout. An error wrapping ErrBusy also wraps ErrTimeout;
	// check ErrBusy first to tell the server's load from a slow image.
	ErrBusy = errors.New("too many images being decoded")
)

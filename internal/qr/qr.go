// Package qr reads QR codes out of images that people upload, screenshots of
// authenticator set-up pages included, and draws QR codes for new secrets.
//
// Images come from API clients, so the package treats them as hostile: it
// judges an image's size from its header before decoding a pixel, limits how
// many decodes run at once and how long a call waits for its turn, and
// bounds each decode in time. It reads and writes nothing but its arguments
// and results.
//
// # Memory
//
// A decode holds the decoded image, a grey copy of it and the reader's
// black-and-white one. The header tells how many bytes a pixel that takes,
// and each kind of image is refused over the number of pixels that fits in
// what an 8-bit colour PNG of MaxPixels takes (240 MB):
//
//	kind                                  bytes a pixel   pixel limit
//	GIF; paletted or 8-bit PNG            3 to 6          40 million
//	baseline JPEG, grey or colour         3 to 5          40 million
//	interlaced 8-bit PNG                  8               30 million
//	16-bit PNG                            10              24 million
//	interlaced 16-bit PNG                 14              17.1 million
//	CMYK JPEG                             up to 10        24 million
//	progressive JPEG, grey                7               34.3 million
//	progressive JPEG, colour              9.5 to 17       25.3 to 14.1 million
//	progressive CMYK JPEG                 up to 26        9.2 million
//
// A progressive JPEG costs more because the standard library's decoder
// keeps 4 bytes for each sample until the last scan; subsampled colour
// (4:2:0, what most encoders write) has fewer samples and so a higher limit.
// With one slot for each CPU, decodes hold at most GOMAXPROCS × 240 MB
// together.
//
// # Time
//
// A decode that runs past DecodeTimeout is answered ErrTimeout at once, but
// the decoders and the QR reader cannot be interrupted just anywhere: the
// decode runs on, holding its slot, until its next check (between passes of
// the search, or at the reader's next candidate pattern), a few seconds at
// most for the largest images.
package qr

import "errors"

// Each error that Decode returns wraps one of these, and its text is written
// for an API client: what was found in the image and what to send instead. No
// error text quotes the image's bytes.
var (
	// ErrNotImage: the bytes are not a PNG, JPEG or GIF image, or the image
	// is truncated or corrupt.
	ErrNotImage = errors.New("unreadable image")

	// ErrTooLarge: the image's header gives a width × height over the
	// pixel limit of its kind: MaxPixels, or less for the kinds that take
	// more memory to decode (see Memory above).
	ErrTooLarge = errors.New("image too large")

	// ErrNoCode: the image was read, but no QR code was found in it.
	ErrNoCode = errors.New("no QR code found")

	// ErrTimeout: the decode did not finish within DecodeTimeout of
	// getting its slot; the image is too hard to search.
	ErrTimeout = errors.New("decode timed out")

	// ErrBusy: so many decodes were running that this one got no slot
	// within SlotWait. The image was not looked at beyond its header; the
	// same request may succeed later.
	ErrBusy = errors.New("too many images being decoded")
)

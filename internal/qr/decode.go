package qr

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/gif"
	"image/jpeg"
	"image/png"
	"runtime"
	"time"
)

// MaxPixels is the largest image Decode reads: width × height. It holds a
// full-screen capture of an 8K display (7680×4320, 33 million pixels). Kinds
// of image that take more memory a pixel to decode than an 8-bit colour PNG
// are refused at fewer pixels; the package doc lists them.
const MaxPixels = 40_000_000

// SlotWait bounds the wait of a Decode call for a free slot, when as many
// decodes run as the process may run at once. Most decodes take tens of
// milliseconds, so a slot that stays taken this long means a flood of
// images, and the caller is better told to come back.
const SlotWait = 5 * time.Second

// DecodeTimeout bounds a decode once it holds its slot. On one core of a
// 2020s server, a screenshot of a whole page takes about 20 ms, and the
// slowest images we could make at MaxPixels (noise, or a tiling of finder
// patterns) take under 4 s to refuse. Ten seconds lets every honest image
// through on a loaded server and still frees the caller long before an
// HTTP client or proxy gives up on it.
const DecodeTimeout = 10 * time.Second

// A scanner holds what Decode shares between calls. Tests make their own, to
// shorten the waits, count slots, or stand in for the search.
type scanner struct {
	wait    time.Duration // for a free slot
	timeout time.Duration // for the decode, once it holds a slot
	slots   chan struct{} // a token for each decode running
	search  func(context.Context, image.Image) (text, by string, err error)
}

// shared is the scanner of Decode. Decoding is CPU-bound, so more decodes
// than CPUs at once would only make each slower; the limit also caps the
// memory that decodes hold together. GOMAXPROCS is read once, when the
// package starts.
var shared = &scanner{
	wait:    SlotWait,
	timeout: DecodeTimeout,
	slots:   make(chan struct{}, runtime.GOMAXPROCS(0)),
	search:  search,
}

// errDeadline is the cause of the context that a Decode call ends by itself,
// so that its timeout is told apart from the caller's context ending.
var errDeadline = errors.New("qr: decode deadline")

// Decode finds a QR code in img, the bytes of a PNG, JPEG or GIF image, and
// returns the code's text, read as UTF-8 unless the code names another
// character set. It reads the image's header first and refuses an image over
// the pixel limit of its kind before decoding any pixel. Screenshots of
// whole pages are fine.
//
// At most GOMAXPROCS decodes run at once in the process. A call waits up to
// SlotWait for a free slot, then decodes for up to DecodeTimeout, and
// returns as soon as ctx ends. A decode that its caller stopped waiting for
// keeps its slot until it has really finished (it stops at its next check,
// a few seconds at most after), so a flood of hostile images cannot pile up
// work.
//
// Errors wrap ErrNotImage, ErrTooLarge, ErrNoCode, ErrTimeout or ErrBusy,
// with text fit for an API client. When ctx ends first, the error wraps
// ctx.Err() and none of them.
func Decode(ctx context.Context, img []byte) (string, error) {
	return shared.decode(ctx, img)
}

func (d *scanner) decode(ctx context.Context, img []byte) (string, error) {
	format, err := checkHeader(img)
	if err != nil {
		return "", err
	}

	if err := d.acquire(ctx); err != nil {
		return "", err
	}

	// The decode's own time starts once it holds its slot, so that a wait
	// for one never cuts an image's decode short.
	ctx, cancel := context.WithTimeoutCause(ctx, d.timeout, errDeadline)
	defer cancel()

	return d.await(ctx, d.start(ctx, img, format))
}

// checkHeader reads the image's header alone and returns its format, or an
// error wrapping ErrNotImage or ErrTooLarge.
func checkHeader(img []byte) (string, error) {
	cfg, format, err := image.DecodeConfig(bytes.NewReader(img))
	switch {
	case errors.Is(err, image.ErrFormat) || !decodable(format):
		return "", refuse(ErrNotImage, "the data is not a PNG, JPEG or GIF image")
	case err != nil:
		return "", refuse(ErrNotImage, "the %s image's header is truncated or corrupt", name(format))
	case cfg.Width <= 0 || cfg.Height <= 0:
		return "", refuse(ErrNotImage, "the %s image has no pixels", name(format))
	}

	if err := checkPixels(cfg.Width, cfg.Height, kindOf(img, format)); err != nil {
		return "", err
	}
	return format, nil
}

// checkPixels refuses a width × height image of kind k over the kind's
// pixel limit, with ErrTooLarge; the text says the limit, and why a kind
// that costs more to decode has a lower one.
func checkPixels(width, height int, k kind) error {
	pixels, limit := int64(width)*int64(height), k.maxPixels()
	if pixels <= limit {
		return nil
	}

	size := fmt.Sprintf("the image is %d×%d pixels (%.1f megapixels)",
		width, height, float64(pixels)/1e6)
	if limit == MaxPixels {
		return refuse(ErrTooLarge, "%s, over the limit of %s megapixels; send a smaller "+
			"screenshot, or crop it around the QR code", size, megapixels(limit))
	}
	return refuse(ErrTooLarge, "%s, over the limit of %s megapixels for %s, which takes "+
		"about %.0f bytes a pixel to decode; send a smaller image, crop it around the QR "+
		"code, or save it as an 8-bit PNG", size, megapixels(limit), article(k.name), k.bytes)
}

// formatNames holds the formats this package decodes, by the names package
// image gives them, and the way error texts name them. Another package of
// the program may register more formats with package image; they are
// refused here all the same.
var formatNames = map[string]string{"png": "PNG", "jpeg": "JPEG", "gif": "GIF"}

func decodable(format string) bool { return formatNames[format] != "" }

func name(format string) string { return formatNames[format] }

// acquire takes a decode slot. It fails with ErrBusy when none is free
// within the scanner's wait, or when ctx ends first.
func (d *scanner) acquire(ctx context.Context) error {
	timer := time.NewTimer(d.wait)
	defer timer.Stop()

	select {
	case d.slots <- struct{}{}:
		return nil
	case <-timer.C:
		return refuse(ErrBusy, "the server is decoding too many images right now; "+
			"try again in a few seconds")
	case <-ctx.Done():
		return fmt.Errorf("qr: decode abandoned: %w", ctx.Err())
	}
}

// outcome is what a decode found.
type outcome struct {
	text string
	err  error
}

// start decodes img in a goroutine that holds a slot until it finishes,
// whether or not anyone still waits for it. It stops early, between passes,
// once ctx ends.
func (d *scanner) start(ctx context.Context, img []byte, format string) <-chan outcome {
	done := make(chan outcome, 1)
	go func() {
		defer func() { <-d.slots }()

		text, err := d.decodeImage(ctx, img, format)
		done <- outcome{text, err}
	}()
	return done
}

// await returns the decode's outcome, or an error once ctx ends. A decode
// that failed because ctx ended counts as stopped, not as its own error.
func (d *scanner) await(ctx context.Context, done <-chan outcome) (string, error) {
	select {
	case o := <-done:
		if o.err == nil || ctx.Err() == nil {
			return o.text, o.err
		}
	case <-ctx.Done():
	}

	if context.Cause(ctx) != errDeadline {
		return "", fmt.Errorf("qr: decode abandoned: %w", ctx.Err())
	}
	return "", refuse(ErrTimeout,
		"searching the image for a QR code took longer than %s; "+
			"crop it around the code or send a smaller image", d.timeout)
}

// decodeImage decodes the pixels and searches them for a code.
func (d *scanner) decodeImage(ctx context.Context, img []byte, format string) (string, error) {
	pic, err := decodePixels(img, format)
	if err != nil {
		return "", refuse(ErrNotImage,
			"the %s image is truncated or corrupt; send the file again or take a new screenshot",
			name(format))
	}
	return d.find(ctx, pic)
}

// decodePixels decodes img with the decoder of its format alone, so that no
// other format registered with package image is ever tried. A panic becomes
// an error, because in the goroutine of a decode it would end the whole
// process, and the decoders are handed input made to break them.
func decodePixels(img []byte, format string) (pic image.Image, err error) {
	defer func() {
		if r := recover(); r != nil {
			pic, err = nil, fmt.Errorf("qr: %s decoder panicked: %v", format, r)
		}
	}()

	r := bytes.NewReader(img)
	switch format {
	case "png":
		return png.Decode(r)
	case "jpeg":
		return jpeg.Decode(r)
	default:
		return gif.Decode(r)
	}
}

// find runs the search, a panic in which, for the reason decodePixels gives,
// becomes ErrNoCode.
func (d *scanner) find(ctx context.Context, pic image.Image) (text string, err error) {
	defer func() {
		if recover() != nil {
			text, err = "", refuse(ErrNoCode, "no QR code could be read in the image")
		}
	}()

	text, _, err = d.search(ctx, pic)
	return text, err
}

// clientError is an error whose text is written for an API client and which
// wraps one or more of the package's sentinels.
type clientError struct {
	kinds []error
	text  string
}

func (e *clientError) Error() string   { return e.text }
func (e *clientError) Unwrap() []error { return e.kinds }

// refuse returns a clientError of one kind.
func refuse(kind error, format string, args ...any) error {
	return &clientError{kinds: []error{kind}, text: fmt.Sprintf(format, args...)}
}

package qr

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"unicode/utf8"

	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/qrcode"
	"github.com/makiuchi-d/gozxing/qrcode/decoder"
)

const (
	// moduleSize is the side of one module in pixels. Eight pixels keep a
	// code sharp when a page shows it scaled down, or a phone films it off a
	// screen.
	moduleSize = 8

	// quietZone is the light border around the code, in modules: the four
	// that the QR standard asks for, without which some scanners fail.
	quietZone = 4
)

// Encode returns a PNG of a QR code holding text, black on white, with a
// quiet zone of four modules and eight pixels a module, which phone apps and
// zbarimg read. The code uses error-correction level M, which survives a
// smudged screen or a slanted photograph. Text outside ASCII is stored as
// UTF-8, marked as such within the code.
//
// It fails only when text is empty or longer than a QR code holds at level M:
// 2,331 bytes of ASCII that is not all digits or capitals, a few less when
// the UTF-8 marker is needed.
func Encode(text string) ([]byte, error) {
	if text == "" {
		return nil, errors.New("qr: encode: empty text")
	}

	bits, err := qrcode.NewQRCodeWriter().Encode(
		text, gozxing.BarcodeFormat_QR_CODE, 0, 0, encodeHints(text))
	if err != nil {
		return nil, fmt.Errorf("qr: encode: %w", err)
	}

	var buf bytes.Buffer
	enc := png.Encoder{CompressionLevel: png.BestCompression}
	if err := enc.Encode(&buf, paint(bits)); err != nil {
		return nil, fmt.Errorf("qr: encode: %w", err)
	}
	return buf.Bytes(), nil
}

// encodeHints chooses the level and the border, and asks for a UTF-8 marker
// only when the text needs one: an ASCII code without it reads the same
// everywhere, and some older scanners stumble on the marker.
func encodeHints(text string) map[gozxing.EncodeHintType]any {
	hints := map[gozxing.EncodeHintType]any{
		gozxing.EncodeHintType_ERROR_CORRECTION: decoder.ErrorCorrectionLevel_M,
		gozxing.EncodeHintType_MARGIN:           quietZone,
	}
	if !ascii(text) {
		hints[gozxing.EncodeHintType_CHARACTER_SET] = "UTF-8"
	}
	return hints
}

func ascii(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// paint draws bits, one pixel a module as the writer returns them, at
// moduleSize pixels a module. A two-colour palette makes the PNG encoder
// write one bit a pixel, so the file stays a few kilobytes.
func paint(bits *gozxing.BitMatrix) *image.Paletted {
	w, h := bits.GetWidth(), bits.GetHeight()
	img := image.NewPaletted(image.Rect(0, 0, w*moduleSize, h*moduleSize),
		color.Palette{color.White, color.Black})

	for y := 0; y < h*moduleSize; y++ {
		for x := 0; x < w*moduleSize; x++ {
			if bits.Get(x/moduleSize, y/moduleSize) {
				img.Pix[y*img.Stride+x] = 1
			}
		}
	}
	return img
}

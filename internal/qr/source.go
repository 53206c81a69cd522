package qr

import (
	"image"

	"github.com/makiuchi-d/gozxing"
)

// graySource lets the QR reader read an *image.Gray in place. The reader's
// own adapter for image.Image copies the image and calls At for each pixel,
// which is slow for a large screenshot.
type graySource struct {
	gozxing.LuminanceSourceBase // size; no cropping or rotation
	pix                         []byte
}

// source wraps g, which must have its first pixel at (0, 0) and no padding
// between rows, as images from image.NewGray have.
func source(g *image.Gray) gozxing.LuminanceSource {
	return &graySource{gozxing.LuminanceSourceBase{Width: g.Rect.Dx(), Height: g.Rect.Dy()}, g.Pix}
}

// GetRow returns row y, in row when it is large enough.
func (s *graySource) GetRow(y int, row []byte) ([]byte, error) {
	if y < 0 || y >= s.Height {
		return row, gozxing.NewFormatException("row %d outside the image", y)
	}
	if len(row) < s.Width {
		row = make([]byte, s.Width)
	}
	copy(row, s.pix[y*s.Width:][:s.Width])
	return row, nil
}

// GetMatrix returns all rows; the reader does not change them.
func (s *graySource) GetMatrix() []byte { return s.pix }

// Invert returns a source with light and dark swapped.
func (s *graySource) Invert() gozxing.LuminanceSource {
	return gozxing.NewInvertedLuminanceSource(s)
}

func (s *graySource) String() string { return gozxing.LuminanceSourceString(s) }

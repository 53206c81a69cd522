package qr

import (
	"context"
	"errors"
	"image"
	"image/color"
	"testing"
)

// TestSearchPasses shows which pass reads each kind of image, and so why
// each pass is there: every fixture needs only the first, and each later pass
// reads an image that the ones before it cannot.
func TestSearchPasses(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		img  func(testing.TB) *image.Gray
		want string
	}{
		{"a plain code needs the local threshold", fixture("plain.png"), "local threshold"},
		{"a page needs the local threshold", fixture("page.png"), "local threshold"},
		{"a scaled-down JPEG needs the local threshold", fixture("small.jpg"), "local threshold"},
		{"a GIF needs the local threshold", fixture("code.gif"), "local threshold"},
		{"a noisy capture three times the page's size needs half size", noisyLargePage, "half size"},
		{"a washed-out page needs the global threshold", washedOutPage, "global threshold"},
		{"a dark-mode page needs inversion", darkPage, "inverted"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			text, by, err := search(context.Background(), tt.img(t))
			if err != nil {
				t.Fatalf("search: %v", err)
			}
			if text != totpURI || by != tt.want {
				t.Errorf("search = %q by %q, want %q by %q", text, by, totpURI, tt.want)
			}
		})
	}
}

func TestSearchGivesUpOnAnImageCrowdedWithFinderPatterns(t *testing.T) {
	t.Parallel()

	// Squares like a code's corners, a thousand and more of them: without
	// the limit, the first pass would compare a billion triples of them.
	img := finderTiles(600, 600, 2)

	if _, err := passes[0].scan(context.Background(), img); !errors.Is(err, errCrowded) {
		t.Errorf("first pass: %v, want errCrowded", err)
	}
	if _, _, err := search(context.Background(), img); !errors.Is(err, ErrNoCode) {
		t.Errorf("search: %v, want ErrNoCode", err)
	}
}

func TestSearchStopsWhenTheContextEnds(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()

	_, _, err := search(ctx, pixels(t, "page.png"))
	if !errors.Is(err, context.Canceled) {
		t.Errorf("search: %v, want context.Canceled", err)
	}
}

func TestGreyShowsPixelsOnWhite(t *testing.T) {
	t.Parallel()
	r := image.Rect(0, 0, 2, 1)
	paletted := image.NewPaletted(r, color.Palette{color.Transparent, color.Black})
	paletted.Pix[1] = 1
	tests := []struct {
		name string
		img  image.Image
		want []uint8
	}{
		{"opaque black and white RGBA stay black and white",
			rgba(r, color.Black, color.White), []uint8{0, 255}},
		{"transparent RGBA is white",
			rgba(r, color.Transparent, color.Black), []uint8{255, 0}},
		{"half-transparent black RGBA is mid-grey",
			rgba(r, color.RGBA{0, 0, 0, 128}), []uint8{127, 127}},
		{"transparent NRGBA is white whatever its colour",
			nrgba(r, color.NRGBA{0, 0, 0, 0}), []uint8{255, 255}},
		{"half-transparent black NRGBA is mid-grey",
			nrgba(r, color.NRGBA{0, 0, 0, 128}), []uint8{127, 127}},
		{"green weighs twice red and blue",
			nrgba(r, color.NRGBA{0, 255, 0, 255}, color.NRGBA{255, 0, 0, 255}), []uint8{127, 63}},
		{"a transparent palette colour is white",
			paletted, []uint8{255, 0}},
		{"YCbCr is its Y",
			ycbcr(r, 17, 200), []uint8{17, 200}},
		{"16-bit grey is its top byte",
			gray16(r, 0x1234, 0xff00), []uint8{0x12, 0xff}},
		{"an image off the origin is read from its corner",
			rgba(image.Rect(5, 7, 7, 8), color.Black, color.White), []uint8{0, 255}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			g := grey(tt.img)
			if string(g.Pix) != string(tt.want) {
				t.Errorf("grey = %v, want %v", g.Pix, tt.want)
			}
		})
	}
}

// fixture loads a fixture as grey pixels.
func fixture(name string) func(testing.TB) *image.Gray {
	return func(t testing.TB) *image.Gray { return pixels(t, name) }
}

// noisyLargePage is page.png three times larger, each pixel a block of
// nine, with strong noise added: a photograph of a screen, or a capture of a
// high-density display run through a poor JPEG encoder.
func noisyLargePage(t testing.TB) *image.Gray {
	page := pixels(t, "page.png")
	big := image.NewGray(image.Rect(0, 0, 3*page.Rect.Dx(), 3*page.Rect.Dy()))
	noise := uint32(1)
	for y := 0; y < big.Rect.Dy(); y++ {
		for x := 0; x < big.Rect.Dx(); x++ {
			noise = noise*1664525 + 1013904223 // a fixed sequence, the same each run
			v := int(page.Pix[y/3*page.Stride+x/3]) + int(noise>>24)%161 - 80
			big.Pix[y*big.Stride+x] = uint8(max(0, min(255, v)))
		}
	}
	return big
}

// washedOutPage is page.png with all its greys squeezed between 120 and
// 150: a code shown faded, or captured through glare.
func washedOutPage(t testing.TB) *image.Gray {
	g := pixels(t, "page.png")
	for i, v := range g.Pix {
		g.Pix[i] = 120 + uint8(int(v)*30/255)
	}
	return g
}

// darkPage is page.png with light and dark swapped.
func darkPage(t testing.TB) *image.Gray {
	g := pixels(t, "page.png")
	for i, v := range g.Pix {
		g.Pix[i] = 255 - v
	}
	return g
}

// finderTiles is a width×height image tiled with 7×7-module squares of
// module pixels each, like the three in a QR code's corners.
func finderTiles(width, height, module int) *image.Gray {
	g := image.NewGray(image.Rect(0, 0, width, height))
	tile := 9 * module
	for y := 0; y < height; y++ {
		for x := 0; x < width; x++ {
			mx, my := x%tile/module-1, y%tile/module-1
			ring := max(abs(mx-3), abs(my-3))
			dark := mx >= 0 && mx < 7 && my >= 0 && my < 7 && ring != 2
			g.Pix[y*g.Stride+x] = map[bool]uint8{true: 0, false: 255}[dark]
		}
	}
	return g
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}

func rgba(r image.Rectangle, cs ...color.Color) *image.RGBA {
	img := image.NewRGBA(r)
	for i := 0; i < r.Dx()*r.Dy(); i++ {
		img.Set(r.Min.X+i%r.Dx(), r.Min.Y+i/r.Dx(), cs[i%len(cs)])
	}
	return img
}

func nrgba(r image.Rectangle, cs ...color.NRGBA) *image.NRGBA {
	img := image.NewNRGBA(r)
	for i := 0; i < r.Dx()*r.Dy(); i++ {
		img.SetNRGBA(r.Min.X+i%r.Dx(), r.Min.Y+i/r.Dx(), cs[i%len(cs)])
	}
	return img
}

func ycbcr(r image.Rectangle, ys ...uint8) *image.YCbCr {
	img := image.NewYCbCr(r, image.YCbCrSubsampleRatio444)
	copy(img.Y, ys)
	for i := range img.Cb {
		img.Cb[i], img.Cr[i] = 128, 128
	}
	return img
}

func gray16(r image.Rectangle, ys ...uint16) *image.Gray16 {
	img := image.NewGray16(r)
	for i, y := range ys {
		img.SetGray16(r.Min.X+i, r.Min.Y, color.Gray16{Y: y})
	}
	return img
}
